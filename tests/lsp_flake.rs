//! flake.nix in the editor: findings against the flake.lock on disk, kept
//! current when the lock changes, the quick fix, and hover on an input.

mod support;

use std::path::Path;

use serde_json::{json, Value};
use support::lsp::{apply_text_edits, Server};

const FLAKE: &str = r#"{
  description = "box";
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";
    home-manager.url = "github:nix-community/home-manager/release-24.05";
  };
  outputs = { self, nixpkgs, home-manager }: {
    homeConfigurations.me = home-manager.lib.homeManagerConfiguration {
      pkgs = nixpkgs.legacyPackages.x86_64-linux;
      modules = [ ./home.nix ];
    };
  };
}
"#;

fn lock(with_home_manager: bool) -> String {
    let mut nodes = json!({
        "nixpkgs": {
            "locked": {"lastModified": 1716948383, "narHash": "sha256-AAAA", "owner": "NixOS",
                       "repo": "nixpkgs", "rev": "ad57eef4ef0659193044870c731987a6df5cf56b", "type": "github"},
            "original": {"owner": "NixOS", "ref": "nixos-24.05", "repo": "nixpkgs", "type": "github"}
        },
        "nixpkgs_2": {
            "locked": {"lastModified": 1716000000, "narHash": "sha256-BBBB", "owner": "NixOS",
                       "repo": "nixpkgs", "rev": "0000000000000000000000000000000000000002", "type": "github"},
            "original": {"owner": "NixOS", "ref": "nixos-unstable", "repo": "nixpkgs", "type": "github"}
        },
        "utils": {
            "locked": {"lastModified": 1710146030, "narHash": "sha256-CCCC", "owner": "numtide",
                       "repo": "flake-utils", "rev": "b1d9ab70662946ef0850d488da1c9019f3a9752a", "type": "github"},
            "original": {"owner": "numtide", "repo": "flake-utils", "type": "github"}
        },
        "root": {"inputs": {"nixpkgs": "nixpkgs", "utils": "utils"}}
    });
    if with_home_manager {
        nodes["home-manager"] = json!({
            "inputs": {"nixpkgs": "nixpkgs_2"},
            "locked": {"lastModified": 1716729592, "narHash": "sha256-DDDD", "owner": "nix-community",
                       "repo": "home-manager", "rev": "2c78a57c544dd19b07442350727ced097e1aa6e6", "type": "github"},
            "original": {"owner": "nix-community", "ref": "release-24.05", "repo": "home-manager", "type": "github"}
        });
        nodes["root"]["inputs"]["home-manager"] = json!("home-manager");
    }
    json!({"nodes": nodes, "root": "root", "version": 7}).to_string()
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn findings(diagnostics: &Value) -> Vec<(String, u64, u64)> {
    let mut out: Vec<(String, u64, u64)> = diagnostics["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["range"]["start"]["line"].as_u64().unwrap(),
                d["range"]["start"]["character"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn flake_findings_follow_the_lock_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let flake = dir.path().join("flake.nix");
    std::fs::write(&flake, FLAKE).unwrap();
    std::fs::write(dir.path().join("flake.lock"), lock(false)).unwrap();
    let mut server = Server::start();
    server.initialize(json!({}), Value::Null);
    server.open(&uri(&flake), 1, FLAKE);
    let published = server.diagnostics_for_version(&uri(&flake), 1);
    assert_eq!(
        findings(&published),
        [
            ("flake-input-not-locked".to_string(), 4, 4),
            ("flake-lock-stale".to_string(), 2, 2),
        ]
    );
    // `nix flake lock` ran: the lock changed on disk.
    std::fs::write(dir.path().join("flake.lock"), lock(true)).unwrap();
    server.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&dir.path().join("flake.lock")), "type": 2}]}),
    );
    let published = server.diagnostics_until(&uri(&flake), |d| {
        d.as_array()
            .is_some_and(|a| a.iter().any(|x| x["code"] == "flake-input-follows-nixpkgs"))
    });
    assert_eq!(
        findings(&published),
        [
            ("flake-input-follows-nixpkgs".to_string(), 4, 4),
            ("flake-lock-stale".to_string(), 2, 2),
        ]
    );
    // The hint's fix: home-manager follows this flake's nixpkgs.
    let hint = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "flake-input-follows-nixpkgs")
        .unwrap()
        .clone();
    let actions = server
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri(&flake)}, "range": hint["range"],
                   "context": {"diagnostics": [hint]}}),
        )
        .unwrap();
    let action = &actions.as_array().unwrap()[0];
    assert_eq!(action["isPreferred"], true);
    let change = &action["edit"]["documentChanges"][0];
    assert_eq!(change["textDocument"]["uri"], uri(&flake));
    let edits = &change["edits"];
    let fixed = apply_text_edits(FLAKE, edits);
    assert_eq!(
        fixed,
        FLAKE.replace(
            "    home-manager.url = \"github:nix-community/home-manager/release-24.05\";\n",
            "    home-manager.url = \"github:nix-community/home-manager/release-24.05\";\n    home-manager.inputs.nixpkgs.follows = \"nixpkgs\";\n"
        )
    );

    // Hover on an input: url, locked revision, date and age.
    let hover = server
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri(&flake)}, "position": {"line": 3, "character": 6}}),
        )
        .unwrap();
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("**nixpkgs**"), "{text}");
    assert!(
        text.contains("url: `github:NixOS/nixpkgs/nixos-24.05`"),
        "{text}"
    );
    assert!(
        text.contains("`github:NixOS/nixpkgs` at `ad57eef4ef06`"),
        "{text}"
    );
    assert!(text.contains("last modified: 2024-05-29 ("), "{text}");
    assert!(text.contains("ago)"), "{text}");
    assert_eq!(hover["range"]["start"], json!({"line": 3, "character": 4}));
    // Not on an input: nothing.
    let none = server
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri(&flake)}, "position": {"line": 1, "character": 4}}),
        )
        .unwrap();
    assert_eq!(none, Value::Null);
    assert!(server.shutdown().success());
}

/// A module the flake names as a Home Manager module, and a module that
/// one imports, have their option names checked in the editor, though
/// neither looks like Home Manager by its own text.
#[test]
fn home_manager_modules_the_flake_names_and_their_imports_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flake.nix"), FLAKE).unwrap();
    std::fs::write(
        dir.path().join("home.nix"),
        "{ ... }:\n{\n  imports = [ ./git.nix ];\n}\n",
    )
    .unwrap();
    let git = "{ ... }:\n{\n  programs.git.userName = \"Ada\";\n}\n";
    let git_path = dir.path().join("git.nix");
    std::fs::write(&git_path, git).unwrap();
    let mut server = Server::start();
    server
        .request(
            "initialize",
            json!({"processId": null, "rootUri": uri(dir.path()), "capabilities": {}}),
        )
        .expect("initialize");
    server.notify("initialized", json!({}));
    server.open(&uri(&git_path), 1, git);
    // Once the workspace is indexed, the file is known for what it is.
    let published = server.diagnostics_until(&uri(&git_path), |d| {
        d.as_array().is_some_and(|d| !d.is_empty())
    });
    assert_eq!(
        findings(&published),
        [("hm-renamed-option".to_string(), 2, 15)]
    );
}
