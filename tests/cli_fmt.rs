//! `cim-nix fmt` as people and CI run it.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use cim_nix::format::{self, FormatOptions, Style};

const MESSY: &str = "{ stdenv, fetchurl }:\nstdenv.mkDerivation {\n pname = \"hello\";\n      version = \"2.12\";\n  src = fetchurl { url = \"mirror://gnu/hello/hello-2.12.tar.gz\"; sha256 = \"1ayhp9v4m4rdhjmnl2bq3cibrbqqkgjbl3s7yk2nhlh8vj3ay16g\"; };\n}\n";

fn reference(style: Style, text: &str) -> String {
    format::formatter(style, &FormatOptions::default())
        .format(text)
        .unwrap()
}

fn fmt(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(support::lsp::binary())
        .arg("fmt")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cim-nix fmt");
    let input = stdin.unwrap_or("").to_string();
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || pipe.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    let _ = writer.join();
    output
}

fn text(o: &[u8]) -> String {
    String::from_utf8(o.to_vec()).unwrap()
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("pkgs/hello")).unwrap();
    std::fs::write(dir.path().join("pkgs/hello/default.nix"), MESSY).unwrap();
    std::fs::write(
        dir.path().join("formatted.nix"),
        reference(Style::NixpkgsFmt, "{ a = 1; }\n"),
    )
    .unwrap();
    dir
}

#[test]
fn formats_files_in_place() {
    let dir = project();
    let out = fmt(dir.path(), &[], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(dir.path().join("pkgs/hello/default.nix")).unwrap();
    assert_eq!(written, reference(Style::NixpkgsFmt, MESSY));
    assert!(
        text(&out.stderr).contains("2 files: 1 reformatted, 1 already formatted"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_lists_unformatted_files_and_changes_nothing() {
    let dir = project();
    let out = fmt(dir.path(), &["--check"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout).trim(), "./pkgs/hello/default.nix");
    let unchanged = std::fs::read_to_string(dir.path().join("pkgs/hello/default.nix")).unwrap();
    assert_eq!(unchanged, MESSY);
    fmt(dir.path(), &[], None);
    let out = fmt(dir.path(), &["--check"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn stdin_to_stdout_in_the_chosen_style() {
    let dir = tempfile::tempdir().unwrap();
    let out = fmt(dir.path(), &["--style", "alejandra", "-"], Some(MESSY));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), reference(Style::Alejandra, MESSY));
    let out = fmt(dir.path(), &["-"], Some(MESSY));
    assert_eq!(text(&out.stdout), reference(Style::NixpkgsFmt, MESSY));
}

#[test]
fn broken_files_are_left_alone_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let broken = "{\n  a = 1\n  b =    2;\n}\n";
    std::fs::write(dir.path().join("broken.nix"), broken).unwrap();
    let out = fmt(dir.path(), &["broken.nix"], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("broken.nix: not formatted: the file has 1 syntax error (first: 3:3: unexpected `b`, expected `;`"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("broken.nix")).unwrap(),
        broken
    );
    // As a filter, the text comes back unchanged.
    let out = fmt(dir.path(), &["-"], Some(broken));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), broken);
}

#[test]
fn the_project_file_and_hints_choose_the_style() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cim-nix.toml"),
        "[formatting]\nstyle = \"alejandra\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("a.nix"), MESSY).unwrap();
    fmt(dir.path(), &["a.nix"], None);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.nix")).unwrap(),
        reference(Style::Alejandra, MESSY)
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("flake.nix"),
        "{\n  outputs = { nixpkgs, ... }: {\n    formatter.x86_64-linux = nixpkgs.legacyPackages.x86_64-linux.alejandra;\n  };\n}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("b.nix"), MESSY).unwrap();
    fmt(dir.path(), &["b.nix"], None);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("b.nix")).unwrap(),
        reference(Style::Alejandra, MESSY)
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        fmt(dir.path(), &["missing.nix"], None).status.code(),
        Some(2)
    );
    assert_eq!(
        fmt(dir.path(), &["--style", "black"], None).status.code(),
        Some(2)
    );
    assert_eq!(
        fmt(dir.path(), &["-", "x.nix"], None).status.code(),
        Some(2)
    );
}
