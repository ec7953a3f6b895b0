//! Formatting through the LSP, as an editor does format-on-save: minimal
//! edits that apply cleanly, never on broken text, the style the project
//! asks for, errors that say what to do, and replies only for the version
//! asked about.

mod support;

use serde_json::{json, Value};
use support::lsp::{apply_text_edits as apply, Server};
use support::standin;

use cim_nix::format::{self, FormatOptions, Style};

const MESSY: &str = "{ pkgs, ... }:\n{\n  environment.systemPackages = with pkgs; [ git\n vim ];\n    services.openssh.enable=true;\n  # keep this comment\n  networking.hostName =   \"web\";\n}\n";

fn reference(style: Style, text: &str) -> String {
    format::formatter(style, &FormatOptions::default())
        .format(text)
        .expect("reference formats")
}

fn uri_in(dir: &std::path::Path, name: &str) -> String {
    format!("file://{}", dir.join(name).display())
}

fn format_request(server: &mut Server, uri: &str) -> Result<Value, Value> {
    server.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    )
}

fn started(options: Value) -> Server {
    let mut server = Server::start();
    let init = server.initialize(json!({}), options);
    assert_eq!(init["capabilities"]["documentFormattingProvider"], true);
    assert_eq!(
        init["capabilities"]["documentRangeFormattingProvider"],
        true
    );
    server
}

#[test]
fn formatting_returns_small_edits_that_give_the_formatted_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = started(Value::Null);
    let uri = uri_in(dir.path(), "configuration.nix");
    server.open(&uri, 1, MESSY);
    let edits = format_request(&mut server, &uri).expect("formats");
    assert_eq!(apply(MESSY, &edits), reference(Style::NixpkgsFmt, MESSY));
    let edits = edits.as_array().unwrap();
    assert!(edits.len() > 1, "one whole-document replacement: {edits:?}");
    let replaced: usize = edits
        .iter()
        .map(|e| e["newText"].as_str().unwrap().len())
        .sum();
    assert!(
        replaced < MESSY.len() / 4,
        "edits rewrite too much: {edits:?}"
    );
    // The comment is untouched: no edit's text carries it.
    assert!(edits
        .iter()
        .all(|e| !e["newText"].as_str().unwrap().contains('#')));

    // Formatting formatted text changes nothing.
    let formatted = reference(Style::NixpkgsFmt, MESSY);
    server.open(&uri_in(dir.path(), "done.nix"), 1, &formatted);
    let edits = format_request(&mut server, &uri_in(dir.path(), "done.nix")).unwrap();
    assert_eq!(edits, json!([]));
}

#[test]
fn a_document_with_syntax_errors_is_not_formatted() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = started(Value::Null);
    let uri = uri_in(dir.path(), "broken.nix");
    server.open(&uri, 1, "{\n  a = 1\n  b =   2;\n}\n");
    let err = format_request(&mut server, &uri).unwrap_err();
    let message = err["message"].as_str().unwrap();
    assert!(message.contains("syntax error"), "{message}");
    assert!(
        message.contains("3:3"),
        "names the first error's position: {message}"
    );
    // Still serving.
    server.open(&uri_in(dir.path(), "ok.nix"), 1, "{ a=1; }\n");
    assert!(format_request(&mut server, &uri_in(dir.path(), "ok.nix")).is_ok());
}

#[test]
fn range_formatting_changes_nothing_outside_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = started(Value::Null);
    let uri = uri_in(dir.path(), "configuration.nix");
    server.open(&uri, 1, MESSY);
    // Lines 4 and 5: `    services.openssh.enable=true;` and the comment.
    let edits = server
        .request(
            "textDocument/rangeFormatting",
            json!({"textDocument": {"uri": uri},
                   "range": {"start": {"line": 4, "character": 0}, "end": {"line": 5, "character": 0}},
                   "options": {"tabSize": 2, "insertSpaces": true}}),
        )
        .expect("range formats");
    let after = apply(MESSY, &edits);
    let before_lines: Vec<&str> = MESSY.lines().collect();
    let after_lines: Vec<&str> = after.lines().collect();
    assert_eq!(before_lines.len(), after_lines.len());
    for (i, (b, a)) in before_lines.iter().zip(&after_lines).enumerate() {
        if i == 4 {
            assert_eq!(*a, "  services.openssh.enable = true;");
        } else {
            assert_eq!(b, a, "line {i} changed");
        }
    }
}

#[test]
fn the_style_follows_settings_and_project_hints() {
    let text = "{ lib, pkgs, ... }:\n{\n  home.packages = [ pkgs.ripgrep pkgs.fd ];\n}\n";
    let nixpkgs_fmt = reference(Style::NixpkgsFmt, text);
    let alejandra = reference(Style::Alejandra, text);
    assert_ne!(
        nixpkgs_fmt, alejandra,
        "the styles must differ on this text"
    );

    // Setting.
    let dir = tempfile::tempdir().unwrap();
    let mut server = started(json!({"formatting": {"style": "alejandra"}}));
    let uri = uri_in(dir.path(), "home.nix");
    server.open(&uri, 1, text);
    assert_eq!(
        apply(text, &format_request(&mut server, &uri).unwrap()),
        alejandra
    );

    // An .alejandra.toml in the project.
    let project = tempfile::tempdir().unwrap();
    std::fs::create_dir(project.path().join(".git")).unwrap();
    std::fs::write(project.path().join(".alejandra.toml"), "").unwrap();
    std::fs::create_dir(project.path().join("home")).unwrap();
    let mut server = started(Value::Null);
    let uri = uri_in(&project.path().join("home"), "home.nix");
    server.open(&uri, 1, text);
    assert_eq!(
        apply(text, &format_request(&mut server, &uri).unwrap()),
        alejandra
    );

    // A flake whose formatter is nixfmt, with a stand-in nixfmt.
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("flake.nix"),
        "{\n  outputs = { nixpkgs, ... }: {\n    formatter.x86_64-linux = nixpkgs.legacyPackages.x86_64-linux.nixfmt-rfc-style;\n  };\n}\n",
    )
    .unwrap();
    let tools = tempfile::tempdir().unwrap();
    let nixfmt = standin::squeezer(tools.path());
    let mut server = started(json!({"formatting": {"nixfmtPath": nixfmt.display().to_string()}}));
    let uri = uri_in(project.path(), "module.nix");
    let spaced = "{\n  a =    1;\n}\n";
    server.open(&uri, 1, spaced);
    assert_eq!(
        apply(spaced, &format_request(&mut server, &uri).unwrap()),
        "{\n  a = 1;\n}\n"
    );
}

#[test]
fn a_missing_nixfmt_is_an_error_that_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let mut server =
        started(json!({"formatting": {"style": "nixfmt", "nixfmtPath": "/nonexistent/nixfmt"}}));
    let uri = uri_in(dir.path(), "a.nix");
    server.open(&uri, 1, "{ a = 1; }\n");
    let err = format_request(&mut server, &uri).unwrap_err();
    let message = err["message"].as_str().unwrap();
    assert!(message.contains("install nixfmt"), "{message}");
    // The document is as it was: its tree is the original text.
    let tree = server.syntax_tree(&uri).expect("tree");
    assert_eq!(
        support::lsp::text_from_tree(tree.as_str().unwrap()),
        "{ a = 1; }\n"
    );
}

#[test]
fn an_edit_while_formatting_makes_the_reply_content_modified() {
    // A slow formatter: the edit arrives while it runs, so its result is for
    // a text the editor no longer has.
    let tools = tempfile::tempdir().unwrap();
    let slow = standin::script(tools.path(), "nixfmt", "sleep 1; exec cat");
    let dir = tempfile::tempdir().unwrap();
    let mut server = started(
        json!({"formatting": {"style": "nixfmt", "nixfmtPath": slow.display().to_string()}}),
    );
    let uri = uri_in(dir.path(), "a.nix");
    server.open(&uri, 1, "{ a = 1; }\n");
    let id = server.send_request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    server.change(&uri, 2, [0, 2, 0, 2], "b = 2; ");
    let err = server.response(&json!(id)).unwrap_err();
    assert_eq!(err["code"], -32801, "{err}");
    // Asked again, it formats the new text.
    let edits = format_request(&mut server, &uri).expect("formats");
    assert_eq!(apply("{ b = 2; a = 1; }\n", &edits), "{ b = 2; a = 1; }\n");
}

#[test]
fn formatting_a_document_that_is_not_open_is_a_clear_error() {
    let mut server = started(Value::Null);
    let err = format_request(&mut server, "file:///nowhere/x.nix").unwrap_err();
    assert_eq!(err["code"], -32602);
    assert!(
        err["message"].as_str().unwrap().contains("not open"),
        "{err}"
    );
}

/// A document the client has not formatted yet is prepared too, after a
/// longer pause (250 ms), so that its first save is answered at once; with
/// `formatting.prepare` off it is formatted only when asked. Either way,
/// a save at any moment around the preparation gets the formatting of
/// exactly the text the editor holds.
#[test]
fn first_save_is_for_the_current_text_prepared_or_not() {
    for prepare in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let mut server = started(json!({"formatting": {"prepare": prepare}}));
        for (n, pause) in [0u64, 150, 240, 260, 400].into_iter().enumerate() {
            let uri = uri_in(dir.path(), &format!("m{n}.nix"));
            let mut text = MESSY.to_string();
            server.open(&uri, 1, &text);
            server.diagnostics_for_version(&uri, 1);
            // Edits while the first preparation may be running.
            for i in 0..3 {
                std::thread::sleep(std::time::Duration::from_millis(pause / 2));
                let binding = format!("  y{i} =   {i};\n");
                let line_two = text.match_indices('\n').nth(1).unwrap().0 + 1;
                server.change(&uri, i + 2, [2, 0, 2, 0], &binding);
                text.insert_str(line_two, &binding);
            }
            std::thread::sleep(std::time::Duration::from_millis(pause));
            let edits = format_request(&mut server, &uri).expect("formats");
            assert_eq!(
                apply(&text, &edits),
                reference(Style::NixpkgsFmt, &text),
                "prepare {prepare}, saved {pause} ms after the last edit"
            );
        }
    }
}

/// Once a document has been formatted, the server prepares the formatting
/// of each later revision when typing pauses. Whatever the timing of the
/// save (before, during or after that preparation), the reply must format
/// exactly the text the editor holds, with the settings in force.
#[test]
fn prepared_formatting_is_for_the_current_text_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = started(Value::Null);
    let uri = uri_in(dir.path(), "configuration.nix");
    let mut text = MESSY.to_string();
    server.open(&uri, 1, &text);
    let edits = format_request(&mut server, &uri).expect("formats");
    assert_eq!(apply(&text, &edits), reference(Style::NixpkgsFmt, &text));

    let line_two = text.match_indices('\n').nth(1).unwrap().0 + 1;
    for i in 0..24 {
        let version = i + 2;
        let binding = format!("  x{i} =   {i};\n");
        server.change(&uri, version, [2, 0, 2, 0], &binding);
        text.insert_str(line_two, &binding);
        if i % 3 != 0 {
            server.diagnostics_for_version(&uri, version);
        }
        // 0 to 60 ms: before, while and after the preparation (30 ms after
        // the analysis).
        std::thread::sleep(std::time::Duration::from_millis(20 * (i as u64 % 4)));
        let edits = format_request(&mut server, &uri).expect("formats");
        assert_eq!(
            apply(&text, &edits),
            reference(Style::NixpkgsFmt, &text),
            "after edit {i}"
        );
    }

    // Prepared with nixpkgs-fmt, then the style changes: the same revision
    // must now be formatted with alejandra.
    std::thread::sleep(std::time::Duration::from_millis(100));
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"cim-nix": {"formatting": {"style": "alejandra"}}}}),
    );
    let alejandra = reference(Style::Alejandra, &text);
    let started_at = std::time::Instant::now();
    loop {
        let edits = format_request(&mut server, &uri).expect("formats");
        if apply(&text, &edits) == alejandra {
            break;
        }
        assert!(
            started_at.elapsed() < std::time::Duration::from_secs(10),
            "still not formatted with the new style"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Format-on-save right after an edit, in a document formatted before:
/// the server formats only the part of the file the edit touched, reusing
/// the previous formatting (`format::nixpkgs_fmt::reuse`). The editor
/// applies every reply, as format-on-save does; the text must always be
/// what formatting the whole file gives.
#[test]
fn saves_right_after_edits_give_whole_file_formatting() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_with(
        &["lsp"],
        &[("CIM_NIX_LOG", "cim_nix=debug")],
        support::lsp::default_responder(Value::Null),
    );
    server.initialize(json!({}), Value::Null);
    let uri = uri_in(dir.path(), "configuration.nix");
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/nixos/configuration.nix"
    );
    let mut text = std::fs::read_to_string(path).unwrap();
    server.open(&uri, 1, &text);
    let (mut version, mut saves) = (1, 0);
    // Edits spread over the file: inside bindings, before them, at the
    // start of the file and in its last binding; some leave the text
    // unformatted, some break lines.
    let edits: Vec<(usize, &str)> = (0..text.lines().count())
        .step_by(3)
        .flat_map(|line| [(line, " "), (line, "\n"), (line, "  # note\n")])
        .collect();
    for (n, (line, insert)) in edits.into_iter().enumerate() {
        let line = line.min(text.lines().count() - 1);
        let at = text
            .match_indices('\n')
            .nth(line.wrapping_sub(1))
            .map_or(0, |(i, _)| i + 1);
        let at = if line == 0 { 0 } else { at };
        // After the first token on the line, where there is one.
        let rest = &text[at..];
        let indent = rest.len() - rest.trim_start_matches(' ').len();
        let word = rest[indent..]
            .find(|c: char| !(c.is_alphanumeric() || c == '.'))
            .unwrap_or(0);
        let at = at + indent + word;
        let mut next = text.clone();
        next.insert_str(at, insert);
        if !cim_nix::syntax::parse(&next).errors().is_empty() {
            continue;
        }
        version += 1;
        let (l, c) = (
            text[..at].matches('\n').count() as u32,
            (at - text[..at].rfind('\n').map_or(0, |i| i + 1)) as u32,
        );
        server.change(&uri, version, [l, c, l, c], insert);
        text = next;
        // Saved at once, before any preparation.
        let edits = format_request(&mut server, &uri).expect("formats");
        let formatted = apply(&text, &edits);
        assert_eq!(
            formatted,
            reference(Style::NixpkgsFmt, &text),
            "save {n}, after inserting {insert:?} at {l}:{c}"
        );
        // The editor applies the edits, as format-on-save does, on every
        // other save; the rest stay unformatted.
        if n % 2 == 0 && formatted != text {
            version += 1;
            server.notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": uri, "version": version},
                       "contentChanges": [{"text": formatted}]}),
            );
            text = formatted;
        }
        saves += 1;
    }
    // Most saves were served by reusing (the server logs which).
    let _ = format_request(&mut server, &uri);
    let reused = server
        .stderr()
        .matches("reusing the previous formatting")
        .count();
    assert!(
        saves > 30 && reused * 2 > saves,
        "{reused} of {saves} saves reused"
    );
}
