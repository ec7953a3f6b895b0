//! Rules through the LSP, as an editor shows them: tags, links to the doc
//! page, related information, and quick fixes that apply cleanly and make
//! the finding go away.

mod support;

use serde_json::{json, Value};
use support::lsp::{apply_text_edits, file_uri, Server};

const MODULE: &str = "{ config, lib, pkgs, ... }:\nlet\n  cfg = config.services.web;\n  unused = lib.mkDefault 1;\nin\n{\n  services.nginx.enable = cfg.enable;\n  environment.systemPackages = [ pkgs.curl ];\n}\n";

fn started() -> Server {
    let mut server = Server::start();
    let init = server.initialize(json!({}), Value::Null);
    let kinds = &init["capabilities"]["codeActionProvider"]["codeActionKinds"];
    assert_eq!(
        kinds,
        &json!([
            "quickfix",
            "refactor.rewrite",
            "refactor.inline",
            "source.fixAll.cim-nix"
        ])
    );
    server
}

fn by_rule<'a>(diagnostics: &'a Value, rule: &str) -> Vec<&'a Value> {
    diagnostics["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == rule)
        .collect()
}

/// The edits of a code action's workspace edit, checking it targets `uri`
/// at `version`.
fn edits_of(action: &Value, uri: &str, version: i64) -> Value {
    let change = &action["edit"]["documentChanges"][0];
    assert_eq!(change["textDocument"]["uri"], uri);
    assert_eq!(change["textDocument"]["version"], version);
    change["edits"].clone()
}

fn replace_all(server: &mut Server, uri: &str, version: i64, text: &str) {
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
    );
}

#[test]
fn an_unused_binding_fades_and_its_quick_fix_removes_it() {
    let mut server = started();
    let uri = file_uri("module.nix");
    server.open(&uri, 1, MODULE);
    let published = server.diagnostics_for_version(&uri, 1);
    let unused = by_rule(&published, "unused-let");
    assert_eq!(unused.len(), 1, "{published}");
    let d = unused[0];
    assert_eq!(d["message"], "unused let binding 'unused'");
    assert_eq!(
        d["range"],
        json!({"start": {"line": 3, "character": 2}, "end": {"line": 3, "character": 8}})
    );
    assert_eq!(d["tags"], json!([1]), "Unnecessary");
    assert_eq!(d["severity"], 2);
    assert_eq!(d["source"], "cim-nix");
    assert!(d["codeDescription"]["href"]
        .as_str()
        .unwrap()
        .ends_with("/doc/rules/unused-let.md"));

    let actions = server
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": [d]}}),
        )
        .expect("code actions");
    let fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Remove unused let binding 'unused'")
        .unwrap_or_else(|| panic!("no fix in {actions}"));
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["isPreferred"], true);
    assert_eq!(fix["diagnostics"][0]["code"], "unused-let");
    let fixed = apply_text_edits(MODULE, &edits_of(fix, &uri, 1));
    assert_eq!(fixed, MODULE.replace("  unused = lib.mkDefault 1;\n", ""));

    // `lib` was used only by the binding: the next round reports it.
    replace_all(&mut server, &uri, 2, &fixed);
    let published = server.diagnostics_for_version(&uri, 2);
    assert!(by_rule(&published, "unused-let").is_empty(), "{published}");
    let fields = by_rule(&published, "unused-pattern-field");
    assert_eq!(fields.len(), 1, "{published}");
    assert_eq!(fields[0]["message"], "unused pattern field 'lib'");
}

#[test]
fn fix_all_removes_all_unused_code_at_once() {
    let mut server = started();
    let uri = file_uri("module.nix");
    server.open(&uri, 1, MODULE);
    server.diagnostics_for_version(&uri, 1);
    let actions = server
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri},
                   "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                   "context": {"diagnostics": [], "only": ["source.fixAll"]}}),
        )
        .expect("code actions");
    let actions = actions.as_array().unwrap();
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0]["kind"], "source.fixAll.cim-nix");
    let fixed = apply_text_edits(MODULE, &edits_of(&actions[0], &uri, 1));
    assert_eq!(
        fixed,
        "{ config, pkgs, ... }:\nlet\n  cfg = config.services.web;\nin\n{\n  services.nginx.enable = cfg.enable;\n  environment.systemPackages = [ pkgs.curl ];\n}\n"
    );
    replace_all(&mut server, &uri, 2, &fixed);
    let published = server.diagnostics_for_version(&uri, 2);
    assert_eq!(published["diagnostics"], json!([]), "{published}");
}

#[test]
fn duplicates_point_at_the_first_definition_and_allow_comments_silence() {
    let mut server = started();
    let uri = file_uri("host.nix");
    let text = "{\n  networking.hostName = \"a\";\n  networking.hostName = \"b\";\n  # cim-nix: allow(duplicate-key)\n  networking.hostName = \"c\";\n}\n";
    server.open(&uri, 1, text);
    let published = server.diagnostics_for_version(&uri, 1);
    let dups = by_rule(&published, "duplicate-key");
    assert_eq!(dups.len(), 1, "the allowed one is silent: {published}");
    assert_eq!(
        dups[0]["range"]["start"],
        json!({"line": 2, "character": 2})
    );
    assert_eq!(dups[0]["severity"], 1);
    let related = &dups[0]["relatedInformation"][0];
    assert_eq!(related["location"]["uri"], uri);
    assert_eq!(
        related["location"]["range"]["start"],
        json!({"line": 1, "character": 2})
    );
}

#[test]
fn rules_follow_settings() {
    let mut server = Server::start();
    server.initialize(
        json!({}),
        json!({"rules": {"unused-let": "off", "unused-pattern-field": "hint"}}),
    );
    let uri = file_uri("module.nix");
    server.open(&uri, 1, MODULE);
    let published = server.diagnostics_for_version(&uri, 1);
    assert!(by_rule(&published, "unused-let").is_empty());
    let _ = published;
    server.open(&file_uri("f.nix"), 1, "{ a, b }: a\n");
    let published = server.diagnostics_for_version(&file_uri("f.nix"), 1);
    let fields = by_rule(&published, "unused-pattern-field");
    assert_eq!(fields[0]["severity"], 4, "{published}");
}
