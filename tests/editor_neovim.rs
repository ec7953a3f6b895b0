//! cim-nix in a real editor: Neovim (0.7, as Debian ships it) starts the
//! server, opens a broken file, sees the syntax error where it is, types
//! the fix and sees it go (an unused binding stays, faded), applies the
//! binding's quick fix, then formats the buffer through the server. The steps are in
//! `tests/editor/neovim.lua`. Without `nvim` on PATH the test says so and
//! passes; `scripts/test` installs it (Debian's `neovim`) when run as root.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BROKEN: &str = "{ pkgs, ... }:\nlet\n  unused = ;\nin\n{\n    environment.systemPackages = [ pkgs.git ];\n  networking.hostName=\"box\";\n}\n";

#[test]
fn neovim_shows_errors_as_typed_fixes_and_formats() {
    if Command::new("nvim").arg("--version").output().is_err() {
        eprintln!("nvim is not installed: skipped (scripts/test installs Debian's neovim)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("configuration.nix");
    std::fs::write(&file, BROKEN).unwrap();
    let out = dir.path().join("seen.json");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/editor/neovim.lua");
    let mut child = Command::new("nvim")
        .args(["--headless", "-n", "-i", "NONE", "-u", "NONE", "-c"])
        .arg(format!("luafile {script}"))
        .env("CIM_NIX", env!("CARGO_BIN_EXE_cim-nix"))
        .env("NIX_FILE", &file)
        .env("OUT", &out)
        .env("HOME", dir.path())
        .env("XDG_STATE_HOME", dir.path())
        .env("XDG_CACHE_HOME", dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start nvim");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("nvim did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let seen: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("the script wrote what it saw"))
            .unwrap();
    assert!(seen.get("error").is_none(), "{seen}");
    let step = |name: &str| -> Value {
        seen["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == name)
            .unwrap_or_else(|| panic!("no step {name}: {seen}"))["value"]
            .clone()
    };

    // Opened: first the `;` where a value should be, on line 3 (0-based
    // 2); then rnix's recovery, which reads the last `}` as a binding of
    // the unclosed `let`. Syntax errors only: no rule reports on the
    // recovered tree.
    let opened = step("opened");
    let mut errors: Vec<(u64, u64)> = opened
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            assert_eq!(d["code"], "syntax-error", "{opened}");
            assert_eq!(d["severity"], 1, "{opened}");
            (d["lnum"].as_u64().unwrap(), d["col"].as_u64().unwrap())
        })
        .collect();
    errors.sort();
    assert_eq!(errors, [(2, 11), (7, 0)], "{opened}");

    // Typed `42`: no error left; the binding is still unused (a warning).
    let typed = step("typed");
    let typed = typed.as_array().unwrap();
    assert!(typed.iter().all(|d| d["severity"] != 1), "{typed:?}");
    let unused: Vec<&Value> = typed.iter().filter(|d| d["code"] == "unused-let").collect();
    assert_eq!(unused.len(), 1, "{typed:?}");
    assert_eq!(
        (&unused[0]["lnum"], &unused[0]["col"]),
        (&json!(2), &json!(2))
    );

    // It is tagged Unnecessary (the editor fades it), and its preferred
    // quick fix, applied by Neovim, takes out the whole `let`, which held
    // nothing else; no finding is left.
    assert_eq!(step("unused_tags"), json!([1]), "{seen}");
    let title = step("quickfix_title");
    assert!(title.as_str().unwrap().contains("unused"), "{title}");
    assert_eq!(step("fixed"), json!([]), "{seen}");

    // Formatted by nixpkgs-fmt through the server, edits applied by nvim.
    let formatted: Vec<String> = step("formatted")
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        formatted,
        [
            "{ pkgs, ... }:",
            "{",
            "  environment.systemPackages = [ pkgs.git ];",
            "  networking.hostName = \"box\";",
            "}",
        ]
    );
}
