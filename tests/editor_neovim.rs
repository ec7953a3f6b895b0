//! cim-nix in a real editor: Neovim (0.7, as Debian ships it) starts the
//! server, opens a broken file, sees the syntax error where it is, types
//! the fix and sees it go (an unused binding stays, faded), applies the
//! binding's quick fix, then formats the buffer through the server. The steps are in
//! `tests/editor/neovim.lua`; a second run uses every editor feature
//! (`tests/editor/neovim_ide.lua`). Without `nvim` on PATH the tests say so
//! and pass, except under CI (`CIM_NIX_REQUIRE_TOOLS`, set by `.ci/run`),
//! where they fail; `scripts/test` installs it (Debian's `neovim`) when run
//! as root.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BROKEN: &str = "{ pkgs, ... }:\nlet\n  unused = ;\nin\n{\n    environment.systemPackages = [ pkgs.git ];\n  networking.hostName=\"box\";\n}\n";

/// Runs `script` (under tests/editor/) in a headless Neovim on `file`:
/// what it saw, or `None` when nvim is not installed.
fn run_nvim(script: &str, dir: &std::path::Path, file: &std::path::Path) -> Option<Value> {
    if Command::new("nvim").arg("--version").output().is_err() {
        // CI sets this: there a missing editor is a failure, not a skip.
        assert!(
            std::env::var_os("CIM_NIX_REQUIRE_TOOLS").is_none(),
            "nvim is not installed, and CIM_NIX_REQUIRE_TOOLS says every tool must be \
             (scripts/test installs Debian's neovim when run as root)"
        );
        eprintln!("nvim is not installed: skipped (scripts/test installs Debian's neovim)");
        return None;
    }
    let out = dir.join("seen.json");
    let script = format!("{}/tests/editor/{script}", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new("nvim")
        .args(["--headless", "-n", "-i", "NONE", "-u", "NONE", "-c"])
        .arg(format!("luafile {script}"))
        .env("CIM_NIX", env!("CARGO_BIN_EXE_cim-nix"))
        .env("NIX_FILE", file)
        .env("OUT", &out)
        .env(
            "SETUP",
            concat!(env!("CARGO_MANIFEST_DIR"), "/editors/neovim/cim-nix.lua"),
        )
        .env("HOME", dir)
        .env("XDG_STATE_HOME", dir)
        .env("XDG_CACHE_HOME", dir)
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
    Some(seen)
}

/// One recorded step of a script's run.
fn step(seen: &Value, name: &str) -> Value {
    seen["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no step {name}: {seen}"))["value"]
        .clone()
}

#[test]
fn neovim_shows_errors_as_typed_fixes_and_formats() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("configuration.nix");
    std::fs::write(&file, BROKEN).unwrap();
    let Some(seen) = run_nvim("neovim.lua", dir.path(), &file) else {
        return;
    };
    let step = |name: &str| -> Value { step(&seen, name) };

    // Opened: the `;` where a value should be, on line 3 (0-based 2), and
    // nothing else: recovery ends the broken binding there, and the `in`
    // closes the `let` (rnix's ran on and read the last `}` as a binding
    // of an unclosed `let`, a second error). Syntax errors only: no rule
    // reports on the recovered tree.
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
    assert_eq!(errors, [(2, 11)], "{opened}");

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

const MAIN: &str = "{ lib, ... }:\nlet\n  helpers = import ./lib.nix;\n  name = \"demo\";\nin\n{\n  label = helpers.double 2;\n  title = lib.toUpper name;\n  items = map (x: x) [ ];\n}\n";

const LIB: &str = "{\n  # Twice x.\n  double = x: x * 2;\n}\n";

#[test]
fn neovim_uses_every_editor_feature() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("main.nix");
    std::fs::write(&file, MAIN).unwrap();
    std::fs::write(dir.path().join("lib.nix"), LIB).unwrap();
    std::fs::write(dir.path().join("gitconfig"), "[user]\n  name = Ada\n").unwrap();
    let Some(seen) = run_nvim("neovim_ide.lua", dir.path(), &file) else {
        return;
    };
    let step = |name: &str| step(&seen, name);
    assert_eq!(step("hover"), json!("map f list"));
    // The definition is written (3), the use read (2).
    assert_eq!(step("highlight_kinds"), json!([3, 2]));
    assert_eq!(step("references"), json!([3, 7]));
    assert_eq!(step("completion"), json!(["toUpper"]));
    assert_eq!(step("completion_doc"), json!(true));
    assert_eq!(
        step("symbols"),
        json!(["helpers", "name", "label", "title", "items"])
    );
    assert_eq!(step("folds"), json!([[1, 3], [5, 8]]));
    // "demo": its text, the string, the binding, the `let`, the function,
    // the file.
    assert_eq!(step("selection_depth"), json!(6));
    // `lib`: line 0, column 2, 3 long, a parameter (6) declared (1).
    assert_eq!(step("tokens_first"), json!([0, 2, 3, 6, 1]));
    assert_eq!(step("links"), json!(["lib.nix"]));
    assert_eq!(step("hints"), json!(0));
    assert_eq!(step("workspace_symbol"), json!("lib.nix"));
    assert_eq!(step("rewritten"), json!("  name = ''demo'';"));
    let renamed = step("renamed");
    assert_eq!(renamed[3], json!("  label2 = ''demo'';"), "{renamed}");
    assert_eq!(
        renamed[7],
        json!("  title = lib.toUpper label2;"),
        "{renamed}"
    );
    // Jumped into lib.nix, on `double` (line 3, 1-based).
    assert_eq!(
        step("definition"),
        json!({"file": "lib.nix", "line": 3, "col": 2})
    );
    assert_eq!(step("prepare_rename"), json!("name"));
    assert_eq!(step("tokens_delta_edits"), json!(0));
    // items, =, map, x, x
    assert_eq!(step("tokens_in_range"), json!(5));
    // MAIN's 154 bytes, 2 more for `''demo''` and 4 for the renames.
    assert_eq!(step("syntax_tree"), json!("NODE_ROOT@0..160"));
    assert_eq!(step("range_formatted"), json!("  items = map (x: x) [ ];"));
    assert_eq!(step("fix_all_kinds"), json!(["source.fixAll.cim-nix"]));
    assert_eq!(
        step("fixed_all"),
        json!([
            "let",
            "  helpers = import ./lib.nix;",
            "  label2 = ''demo'';"
        ])
    );
    assert_eq!(step("migrate_result"), json!("programs.git"));
    assert_eq!(
        step("migrated"),
        json!(["  programs.git = {", "    settings.user.name = \"Ada\";"])
    );
    assert_every_advertised_capability_is_exercised(&step("advertised"));
}

/// What the server advertises to Neovim 0.7, each held to the test that uses
/// it in Neovim. A capability the server starts advertising fails here until
/// a step exercises it in the real client.
fn assert_every_advertised_capability_is_exercised(advertised: &Value) {
    const EXERCISED: &[(&str, &str)] = &[
        (
            "codeActionProvider",
            "rewritten, quickfix_title, fix_all_kinds",
        ),
        ("completionProvider", "completion, completion_doc"),
        ("definitionProvider", "definition"),
        ("documentFormattingProvider", "formatted (editing test)"),
        ("documentHighlightProvider", "highlight_kinds"),
        ("documentLinkProvider", "links"),
        ("documentRangeFormattingProvider", "range_formatted"),
        ("documentSymbolProvider", "symbols"),
        ("executeCommandProvider", "migrate_result, migrated"),
        ("experimental", "syntax_tree"),
        ("foldingRangeProvider", "folds"),
        ("hoverProvider", "hover"),
        ("inlayHintProvider", "hints"),
        ("positionEncoding", "every edit applied as utf-16"),
        ("referencesProvider", "references"),
        ("renameProvider", "prepare_rename, renamed"),
        ("selectionRangeProvider", "selection_depth"),
        (
            "semanticTokensProvider",
            "tokens_first, tokens_delta_edits, tokens_in_range",
        ),
        ("textDocumentSync", "typed, fixed (editing test)"),
        ("workspaceSymbolProvider", "workspace_symbol"),
    ];
    let advertised: Vec<&str> = advertised
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    let exercised: Vec<&str> = EXERCISED.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        advertised, exercised,
        "the server's capabilities for Neovim 0.7 changed: exercise each new one in \
         tests/editor/neovim_ide.lua and list it here"
    );
}

/// The setup a user copies from editors/neovim/cim-nix.lua: a `nix` file
/// starts cim-nix (its diagnostics arrive) and saving formats the file.
#[test]
fn the_documented_neovim_setup_starts_the_server_and_formats_on_save() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("default.nix");
    std::fs::write(
        &file,
        "{ pkgs, ... }:\nlet\n  unused = 1;\nin\n{ a=1;\n    b = [1 2];}\n",
    )
    .unwrap();
    let Some(seen) = run_nvim("neovim_setup.lua", dir.path(), &file) else {
        return;
    };
    assert_eq!(seen["filetype"], "nix", "{seen}");
    let codes: Vec<&str> = seen["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(codes.contains(&"unused-let"), "{seen}");
    assert_eq!(
        seen["written"], "{ pkgs, ... }:\nlet\n  unused = 1;\nin\n{\n  a = 1;\n  b = [ 1 2 ];\n}",
        "{seen}"
    );
}

/// Every setup in editors/neovim is valid Lua (the 0.11 and lspconfig ones
/// need APIs this Neovim may not have, so they are compiled, not run).
#[test]
fn the_neovim_setups_are_valid_lua() {
    if Command::new("nvim").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CIM_NIX_REQUIRE_TOOLS").is_none(),
            "nvim is not installed, and CIM_NIX_REQUIRE_TOOLS says every tool must be"
        );
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/neovim");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "lua") {
            continue;
        }
        let check = format!(
            "lua local f, e = loadfile('{}') if not f then io.stderr:write(e) vim.cmd('cquit 1') end",
            path.display()
        );
        let out = Command::new("nvim")
            .args(["--headless", "-n", "-i", "NONE", "-u", "NONE", "-c"])
            .arg(check)
            .args(["-c", "qa!"])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run nvim");
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        checked += 1;
    }
    assert_eq!(checked, 3);
}
