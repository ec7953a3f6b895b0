//! cim-nix's own flake.nix: Nix parses it, `cim-nix check` and `fmt --check`
//! pass on it, and real Nix evaluates its outputs to the shapes `nix build`,
//! `nix run`, `nix develop` and overlays expect. Without network there is no
//! nixpkgs here, so the evaluation passes a small stand-in for it that records
//! what the flake asks of nixpkgs; building is left to CI with Nix.

use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn nix_instantiate(args: &[&str]) -> String {
    let output = Command::new("nix-instantiate")
        .args(args)
        .args(["--store", "dummy://"])
        .current_dir(ROOT)
        .env(
            "NIX_STATE_DIR",
            std::env::temp_dir().join("cim-nix-test-nix-state"),
        )
        .output()
        .expect("nix-instantiate is needed for this test: apt-get install nix-bin");
    assert!(
        output.status.success(),
        "nix-instantiate {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn nix_parses_the_flake() {
    nix_instantiate(&["--parse", "flake.nix"]);
}

#[test]
fn the_flake_is_clean_and_formatted() {
    let bin = env!("CARGO_BIN_EXE_cim-nix");
    let check = Command::new(bin)
        .args(["check", "flake.nix"])
        .current_dir(ROOT)
        .output()
        .expect("run cim-nix check");
    let report = String::from_utf8_lossy(&check.stdout).into_owned()
        + &String::from_utf8_lossy(&check.stderr);
    assert!(check.status.success(), "{report}");
    assert!(report.contains("0 errors, 0 warnings"), "{report}");
    let fmt = Command::new(bin)
        .args(["fmt", "--check", "flake.nix"])
        .current_dir(ROOT)
        .output()
        .expect("run cim-nix fmt --check");
    assert!(
        fmt.status.success(),
        "flake.nix is not formatted: {}",
        String::from_utf8_lossy(&fmt.stderr)
    );
}

/// A stand-in for nixpkgs with just what the flake uses. `buildRustPackage`
/// and `mkShell` return their arguments (plus an `outPath`) so the test can
/// read what the flake passed; `lib.fileset` keeps the list of files.
const STAND_IN: &str = r#"
let
  flake = import ./flake.nix;
  lib = {
    genAttrs = names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);
    getExe = drv: "${drv}/bin/${drv.meta.mainProgram}";
    licenses = { mit = "MIT"; asl20 = "Apache-2.0"; };
    fileset = {
      unions = files: files;
      toSource = { root, fileset }: { inherit root; files = fileset; };
    };
  };
  pkgsFor = system: rec {
    stdenv.hostPlatform.system = system;
    callPackage = f: overrides: f ({ inherit lib rustPlatform; } // overrides);
    rustPlatform.buildRustPackage = args: args // { outPath = "/nix/store/stand-in-${args.pname}-${args.version}"; };
    mkShell = args: args // { shell = true; };
    clippy = "clippy"; rustfmt = "rustfmt"; rust-analyzer = "rust-analyzer";
    nats-server = "nats-server"; neovim = "neovim"; nodejs = "nodejs";
    python3 = "python3"; nixpkgs-fmt = "nixpkgs-fmt";
  };
  nixpkgs = {
    inherit lib;
    legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ] pkgsFor;
  };
  outputs = flake.outputs { self = outputs; inherit nixpkgs; };
  package = outputs.packages.x86_64-linux.default;
  relative = path: builtins.substring (builtins.stringLength (toString ./.)) 1000 (toString path);
  overlaid = outputs.overlays.default (pkgsFor "aarch64-linux") { };
in
{
  inputs = builtins.attrNames flake.inputs;
  nixpkgs = flake.inputs.nixpkgs.url;
  outputs = builtins.attrNames outputs;
  systems = builtins.attrNames outputs.packages;
  packages = builtins.attrNames outputs.packages.aarch64-darwin;
  sameDefault = outputs.packages.x86_64-linux.default == outputs.packages.x86_64-linux.cim-nix;
  inherit (package) pname version cargoTestFlags;
  description = package.meta.description;
  lockFile = relative package.cargoLock.lockFile;
  src = map relative package.src.files;
  app = outputs.apps.x86_64-darwin.default;
  overlay = overlaid.cim-nix.pname;
  shellFrom = map (p: p.pname) outputs.devShells.x86_64-linux.default.inputsFrom;
  shellTools = outputs.devShells.x86_64-linux.default.packages;
  formatter = outputs.formatter.aarch64-linux;
}
"#;

#[test]
fn nix_evaluates_the_outputs_to_the_expected_shapes() {
    let printed = nix_instantiate(&["--eval", "--strict", "--expr", STAND_IN]);
    let manifest = std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    assert!(manifest.contains(&format!("version = \"{version}\"")));
    let expected = format!(
        "{{ app = {{ program = \"/nix/store/stand-in-cim-nix-{version}/bin/cim-nix\"; type = \"app\"; }}; \
         cargoTestFlags = [ \"--lib\" ]; \
         description = \"A fast, robust language server and checker for the Nix language\"; \
         formatter = \"nixpkgs-fmt\"; \
         inputs = [ \"nixpkgs\" ]; \
         lockFile = \"/Cargo.lock\"; \
         nixpkgs = \"github:NixOS/nixpkgs/nixos-unstable\"; \
         outputs = [ \"apps\" \"devShells\" \"formatter\" \"overlays\" \"packages\" ]; \
         overlay = \"cim-nix\"; \
         packages = [ \"cim-nix\" \"default\" ]; \
         pname = \"cim-nix\"; \
         sameDefault = true; \
         shellFrom = [ \"cim-nix\" ]; \
         shellTools = [ \"clippy\" \"rustfmt\" \"rust-analyzer\" \"nats-server\" \"neovim\" \"nodejs\" \"python3\" \"nixpkgs-fmt\" ]; \
         src = [ \"/Cargo.toml\" \"/Cargo.lock\" \"/src\" \"/doc/rules\" \"/benches\" ]; \
         systems = [ \"aarch64-darwin\" \"aarch64-linux\" \"x86_64-darwin\" \"x86_64-linux\" ]; \
         version = \"{version}\"; }}\n"
    );
    assert_eq!(printed, expected);
}

/// The source the package builds from holds everything `cargo build` reads:
/// every file the crate embeds is under one of the listed paths.
#[test]
fn the_package_source_holds_what_the_build_reads() {
    let flake = std::fs::read_to_string(Path::new(ROOT).join("flake.nix")).unwrap();
    let listed = ["src", "doc/rules", "benches"];
    for dir in listed {
        assert!(flake.contains(&format!("./{dir}\n")), "{dir} not listed");
    }
    let mut embedded = Vec::new();
    collect_embedded(&Path::new(ROOT).join("src"), &mut embedded);
    assert!(embedded.len() > 50, "{embedded:?}");
    for path in embedded {
        let relative = path
            .strip_prefix(ROOT)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            listed.iter().any(|dir| relative.starts_with(dir)),
            "{relative} is embedded by the crate but not in the flake's source"
        );
        assert!(path.exists(), "{relative}");
    }
}

/// Paths named by `include_str!`/`include_bytes!` in `dir`, resolved.
fn collect_embedded(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_embedded(&path, out);
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for macro_name in ["include_str!(\"", "include_bytes!(\""] {
            for (at, _) in text.match_indices(macro_name) {
                let rest = &text[at + macro_name.len()..];
                let Some(end) = rest.find('"') else { continue };
                let target = path.parent().unwrap().join(&rest[..end]);
                out.push(normalize(&target));
            }
        }
    }
}

fn normalize(path: &Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
