//! `cim-nix check` as CI runs it.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use std::io::Write;

fn check(dir: &Path, args: &[&str]) -> Output {
    Command::new(support::lsp::binary())
        .arg("check")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run cim-nix check")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn write(dir: &Path, path: &str, text: &[u8]) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "flake.nix",
        b"{ outputs = { self }: { inherit self; }; }\n",
    );
    write(
        dir.path(),
        "hosts/web.nix",
        b"{ config, ... }:\n{\n  services.nginx.enable = true\n}\n",
    );
    write(
        dir.path(),
        "pkgs/ok.nix",
        "{ stdenv }: stdenv.mkDerivation { pname = \"é\"; }\n".as_bytes(),
    );
    write(dir.path(), "result/broken.nix", b"{ {");
    write(dir.path(), ".gitignore", b"result/\n");
    write(
        dir.path(),
        ".config/home.nix",
        b"{ programs.git.enable = ; }\n",
    );
    write(dir.path(), "notes.txt", b"{ not nix");
    dir
}

#[test]
fn reports_errors_in_tree_order_and_fails() {
    let dir = project();
    let out = check(dir.path(), &["."]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "./.config/home.nix:1:25: error[syntax-error]: unexpected `;`, expected an expression\n\
         ./hosts/web.nix:4:1: error[syntax-error]: unexpected `}`, expected `;`\n"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("checked 4 files: 2 errors, 0 warnings"),
        "{stderr}"
    );
}

#[test]
fn clean_files_exit_zero() {
    let dir = project();
    let out = check(dir.path(), &["pkgs", "flake.nix"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let clean = [
        "nixos/configuration.nix",
        "nixos/hardware.nix",
        "home-manager",
        "pkgs",
    ];
    let out = check(&examples, &clean);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(stdout(&out), "");
}

/// `path:line:col: severity[rule]: message` lines as `line:col
/// severity[rule]`.
fn positions_and_tags(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|l| {
            let mut parts = l.splitn(4, ':');
            let (_, line, col, rest) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            );
            let tag = rest.trim_start().split(':').next().unwrap();
            format!("{line}:{col} {tag}")
        })
        .collect()
}

/// The README's example run: the insecure server shows each security
/// finding once, at its value.
#[test]
fn the_insecure_example_shows_each_security_finding() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let out = check(&examples, &["nixos/insecure-server.nix"]);
    assert_eq!(out.status.code(), Some(1));
    let found = positions_and_tags(&stdout(&out));
    assert_eq!(
        found,
        [
            "5:1 hint[top-level-with]",
            "11:14 warning[boot-editor]",
            "16:31 warning[firewall-off]",
            "17:37 warning[firewall-sensitive-port]",
            "20:38 warning[sudo-nopasswd]",
            "25:25 error[ssh-root-login]",
            "26:32 warning[ssh-password-auth]",
            "27:23 info[ssh-password-auth]",
            "33:29 info[root-equivalent-group]",
        ]
    );
}

/// The README's example run: the slow package set shows each performance
/// finding once, where it is.
#[test]
fn the_slow_example_shows_each_performance_finding() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let out = check(&examples, &["slow/packages.nix"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let found = positions_and_tags(&stdout(&out));
    assert_eq!(
        found,
        [
            "8:14 warning[reimport-nixpkgs]",
            "8:21 info[impure-eval]",
            "17:30 warning[import-from-derivation]",
            "20:29 warning[import-from-derivation]",
            "28:32 warning[quadratic-fold]",
            "34:11 warning[src-whole-dir]",
            "35:25 info[concat-map]",
            "36:33 warning[pkgs-path]",
        ]
    );
}

#[test]
fn json_output_has_a_stable_shape() {
    let dir = project();
    let out = check(dir.path(), &["--format", "json", "hosts"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "version": 1,
            "files": 1,
            "diagnostics": [{
                "path": "hosts/web.nix",
                "rule": "syntax-error",
                "severity": "error",
                "message": "unexpected `}`, expected `;`",
                "range": {
                    "start": {"line": 4, "column": 1, "offset": 50},
                    "end": {"line": 4, "column": 2, "offset": 51}
                },
                "snippet": "}"
            }],
            "summary": {"errors": 1, "warnings": 0, "infos": 0, "hints": 0}
        })
    );
}

#[test]
fn deny_levels_and_project_settings() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!("{}1", "1 + ".repeat(10_000));
    write(dir.path(), "deep.nix", deep.as_bytes());
    // analysis-limit is a warning: only --deny warning fails on it.
    assert_eq!(check(dir.path(), &["deep.nix"]).status.code(), Some(0));
    let out = check(dir.path(), &["--deny", "warning", "deep.nix"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("deep.nix:1:"), "{}", stdout(&out));
    assert!(stdout(&out).contains("warning[analysis-limit]: expression nested too deeply"));

    // cim-nix.toml turns syntax errors into hints.
    write(dir.path(), "sub/bad.nix", b"[ 1");
    write(
        dir.path(),
        "cim-nix.toml",
        b"[rules]\nsyntax-error = \"hint\"\n",
    );
    let out = check(dir.path(), &["sub"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "sub/bad.nix:1:4: hint[syntax-error]: unexpected end of file, expected `]`\n"
    );
    // A bad value is named on stderr; the rest of the file still applies.
    write(
        dir.path(),
        "cim-nix.toml",
        b"[rules]\nsyntax-error = \"hint\"\nno-such-rule = \"off\"\n",
    );
    let out = check(dir.path(), &["sub"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rules.no-such-rule"));
}

#[test]
fn usage_errors_exit_two() {
    let dir = project();
    let out = check(dir.path(), &["no/such/path"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/path"));
    assert_eq!(
        check(dir.path(), &["--format", "xml"]).status.code(),
        Some(2)
    );
    assert_eq!(
        check(dir.path(), &["--deny", "sometimes"]).status.code(),
        Some(2)
    );
}

#[test]
fn standard_input_and_bad_encoding() {
    let mut child = Command::new(support::lsp::binary())
        .args(["check", "--stdin-filename", "home.nix", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\n  a = \"x\" \"\n}")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "home.nix:2:11: error[syntax-error]: unterminated string: this `\"` is never closed\n"
    );

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "latin1.nix", b"{ name = \"caf\xe9\"; }");
    let out = check(dir.path(), &["latin1.nix"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("latin1.nix:1:14: error[syntax-error]: file is not valid UTF-8"),
        "{}",
        stdout(&out)
    );
}

/// `check --fix` applies the safe fixes of the style and performance
/// rules, and leaves alone a security fix that changes behaviour (and a
/// style fix that is only safe for booleans).
#[test]
fn fix_applies_the_safe_fixes_of_the_new_rules() {
    let dir = tempfile::tempdir().unwrap();
    let before = "{ lib, fetchurl, config, ... }:\n\
                  {\n\
                  \x20 enabled = (config.services.nginx.enable);\n\
                  \x20 flat = lib.concatLists (map (x: [ x ]) config.xs);\n\
                  \x20 empty = lib.length config.ys == 0;\n\
                  \x20 known = lib.elem \"web\" (lib.attrNames config.hosts);\n\
                  \x20 src = fetchurl {\n\
                  \x20   url = \"http://example.org/a.tar.gz\";\n\
                  \x20   hash = \"sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\";\n\
                  \x20 };\n\
                  }\n";
    write(dir.path(), "module.nix", before.as_bytes());
    let out = check(dir.path(), &["--fix", "module.nix"]);
    let after = std::fs::read_to_string(dir.path().join("module.nix")).unwrap();
    let expected = "{ lib, fetchurl, config, ... }:\n\
                    {\n\
                    \x20 enabled = config.services.nginx.enable;\n\
                    \x20 flat = lib.concatMap (x: [ x ]) config.xs;\n\
                    \x20 empty = config.ys == [ ];\n\
                    \x20 known = config.hosts ? web;\n\
                    \x20 src = fetchurl {\n\
                    \x20   url = \"http://example.org/a.tar.gz\";\n\
                    \x20   hash = \"sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\";\n\
                    \x20 };\n\
                    }\n";
    assert_eq!(after, expected);
    // What is left is the insecure URL, whose fix is only offered.
    let left = positions_and_tags(&stdout(&out));
    assert_eq!(left, ["8:11 warning[insecure-url]"]);
}

/// `--format github`: one workflow command per finding, with the range and
/// the rule, escaped as the Actions runner reads them.
#[test]
fn github_format_writes_workflow_annotations() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "hosts/web.nix",
        b"{ lib, ... }:\n{\n  services.openssh.settings.PermitRootLogin = \"yes\";\n  x = (1);\n}\n",
    );
    let out = check(dir.path(), &["--format", "github", "hosts"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "::warning file=hosts/web.nix,line=1,col=3,endLine=1,endColumn=6,title=cim-nix unused-pattern-field::unused pattern field 'lib'\n\
         ::error file=hosts/web.nix,line=3,col=47,endLine=3,endColumn=52,title=cim-nix ssh-root-login::SSH lets root log in with a password: one guessed password is the whole machine; use \"prohibit-password\" (keys only) or \"no\"\n\
         ::notice file=hosts/web.nix,line=4,col=7,endLine=4,endColumn=10,title=cim-nix useless-parens::parentheses around a binding's value change nothing; leave them out\n"
    );
}

/// `--format sarif`: one run with every rule's metadata and each finding
/// (the schema itself is checked in tests/protocol/test_check_formats.py).
#[test]
fn sarif_format_lists_rules_and_results() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.nix", b"{ x = (1); }\n");
    let out = check(dir.path(), &["--format", "sarif", "a.nix"]);
    assert_eq!(out.status.code(), Some(0));
    let log: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), cim_nix::diagnostic::registry::RULES.len());
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "useless-parens");
    assert_eq!(results[0]["level"], "note");
    let index = results[0]["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "useless-parens");
    assert_eq!(
        results[0]["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"],
        "1"
    );
}

/// `cim-nix completions SHELL` prints a script the shell accepts, which
/// completes the subcommands and `check`'s formats.
#[test]
fn completions_are_valid_bash_and_know_the_commands() {
    let out = Command::new(support::lsp::binary())
        .args(["completions", "bash"])
        .output()
        .expect("run cim-nix completions");
    assert_eq!(out.status.code(), Some(0));
    let script = String::from_utf8(out.stdout).unwrap();
    for word in ["check", "fmt", "explain", "sarif", "github", "--deny"] {
        assert!(script.contains(word), "no `{word}` in the bash completions");
    }
    let mut bash = Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .spawn()
        .expect("run bash -n");
    bash.stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(bash.wait().unwrap().success(), "bash rejects the script");
    let version = Command::new(support::lsp::binary())
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(version.stdout).unwrap(),
        format!("cim-nix {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// The README shows the output of its run command on the examples: it is
/// what `cim-nix check examples/` prints (findings on stdout, the summary
/// on stderr).
#[test]
fn the_readme_shows_what_checking_the_examples_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let marker = "cargo run --release -- check examples/\n```\n\n```\n";
    let start = readme.find(marker).expect("the README's run command") + marker.len();
    let shown = &readme[start..start + readme[start..].find("```").unwrap()];
    let out = check(root, &["examples/"]);
    let printed = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert_eq!(shown, printed);
}

/// Home Manager option names are checked in the files a NixOS module or a
/// Home Manager module names as Home Manager modules, and in what those
/// import, even when the file's own text does not look like one.
#[test]
fn home_manager_modules_named_by_others_and_their_imports_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "configuration.nix",
        "{ ... }:\n{\n  networking.hostName = \"box\";\n  home-manager.users.ada = import ./ada.nix;\n}\n",
    );
    write(
        "ada.nix",
        "{ ... }:\n{\n  imports = [ ./shell.nix ];\n  programs.git.enable = true;\n}\n",
    );
    write(
        "shell.nix",
        "{ ... }:\n{\n  programs.zsh.enableAutosuggestions = true;\n}\n",
    );
    // Not named by anything: a NixOS-looking module is not judged.
    write(
        "other.nix",
        "{ ... }:\n{\n  programs.zsh.enableAutosuggestions = true;\n}\n",
    );
    let out = check(dir.path(), &["."]);
    let printed = stdout(&out);
    let findings: Vec<&str> = printed.lines().collect();
    assert_eq!(findings.len(), 1, "{printed}");
    assert!(
        findings[0].ends_with("shell.nix:3:16: warning[hm-renamed-option]: `programs.zsh.enableAutosuggestions` is now `programs.zsh.autosuggestion.enable` in Home Manager (the old name warns at every switch)"),
        "{printed}"
    );
}
