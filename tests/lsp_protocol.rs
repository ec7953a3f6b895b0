//! The language server end to end, over stdio, as an editor drives it.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::lsp::{default_responder, file_uri, text_from_tree, Server, TIMEOUT};
use support::rng::Rng;

fn start() -> Server {
    let mut server = Server::start();
    server.initialize(json!({}), Value::Null);
    server
}

fn range(d: &Value) -> [u64; 4] {
    let r = &d["range"];
    [
        r["start"]["line"].as_u64().unwrap(),
        r["start"]["character"].as_u64().unwrap(),
        r["end"]["line"].as_u64().unwrap(),
        r["end"]["character"].as_u64().unwrap(),
    ]
}

#[test]
fn initialize_advertises_what_the_server_does() {
    let mut server = Server::start();
    let result = server.initialize(json!({}), Value::Null);
    let caps = &result["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");
    assert_eq!(caps["textDocumentSync"]["openClose"], true);
    assert_eq!(caps["textDocumentSync"]["save"]["includeText"], false);
    assert!(
        caps.get("diagnosticProvider").is_none(),
        "no pull support declared by the client"
    );
    assert_eq!(result["serverInfo"]["name"], "cim-nix");
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn syntax_errors_appear_and_disappear_with_versions() {
    let mut server = start();
    let uri = file_uri("home.nix");
    server.open(
        &uri,
        1,
        "{ pkgs, ... }:\n{\n  home.packages = [ pkgs.git ]\n  programs.git.enable = true;\n}\n",
    );
    let published = server.diagnostics(&uri);
    assert_eq!(published["version"], 1);
    let diagnostics = published["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let d = &diagnostics[0];
    // The missing `;` is reported where the next binding begins, not on
    // the whole file.
    assert_eq!(range(d), [3, 2, 3, 10]);
    assert_eq!(d["message"], "unexpected `programs`, expected `;`");
    assert_eq!(d["severity"], 1);
    assert_eq!(d["code"], "syntax-error");
    assert_eq!(d["source"], "cim-nix");
    assert!(d["codeDescription"]["href"]
        .as_str()
        .unwrap()
        .ends_with("doc/rules/syntax-error.md"));

    // Type the `;`: the error goes away, for version 2.
    server.change(&uri, 2, [2, 30, 2, 30], ";");
    let published = server.diagnostics_for_version(&uri, 2);
    assert_eq!(published["diagnostics"], json!([]));

    // Delete a closing brace: an error at the end of the file.
    server.change(&uri, 3, [4, 0, 4, 1], "");
    let published = server.diagnostics_for_version(&uri, 3);
    let d = &published["diagnostics"][0];
    assert_eq!(d["message"], "unexpected end of file, expected `}`");
    assert_eq!(range(d), [3, 29, 3, 29]);
}

#[test]
fn full_text_changes_replace_the_document() {
    let mut server = start();
    let uri = file_uri("full.nix");
    server.open(&uri, 1, "{ a = 1; }");
    server.diagnostics(&uri);
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": "[ 1 2"}]}),
    );
    let published = server.diagnostics_for_version(&uri, 2);
    assert_eq!(
        published["diagnostics"][0]["message"],
        "unexpected end of file, expected `]`"
    );
    let tree = server.syntax_tree(&uri).unwrap();
    assert_eq!(text_from_tree(tree.as_str().unwrap()), "[ 1 2");
}

#[test]
fn position_encodings_count_columns_as_negotiated() {
    // `é` is 2 UTF-8 bytes and 1 UTF-16 unit; `🦀` 4 bytes, 2 units, 1 code point.
    let text = "\"é🦀\" )";
    let cases = [
        (json!(["utf-8", "utf-16"]), "utf-8", 9),
        (json!(["utf-32"]), "utf-32", 5),
        (json!(["utf-16"]), "utf-16", 6),
        (Value::Null, "utf-16", 6),
    ];
    for (offered, chosen, column) in cases {
        let mut server = Server::start();
        let caps = if offered.is_null() {
            json!({})
        } else {
            json!({"general": {"positionEncodings": offered}})
        };
        let result = server.initialize(caps, Value::Null);
        assert_eq!(result["capabilities"]["positionEncoding"], chosen);
        let uri = file_uri("enc.nix");
        server.open(&uri, 1, text);
        let d = server.diagnostics(&uri)["diagnostics"][0].clone();
        assert!(
            d["message"]
                .as_str()
                .unwrap()
                .starts_with("unexpected `)` after the end"),
            "{d}"
        );
        assert_eq!(range(&d), [0, column, 0, column + 1], "{chosen}");
        // An edit in the same encoding lands where it should: delete the `)`.
        server.change(&uri, 2, [0, column as u32, 0, column as u32 + 1], "");
        assert_eq!(
            server.diagnostics_for_version(&uri, 2)["diagnostics"],
            json!([]),
            "{chosen}"
        );
        let tree = server.syntax_tree(&uri).unwrap();
        assert_eq!(text_from_tree(tree.as_str().unwrap()), "\"é🦀\" ");
    }
}

#[test]
fn crlf_lines_are_counted_as_the_client_counts_them() {
    let mut server = start();
    let uri = file_uri("crlf.nix");
    server.open(&uri, 1, "{\r\n  a = 1;\r\n  b = ;\r\n}\r\n");
    let d = server.diagnostics(&uri)["diagnostics"][0].clone();
    assert_eq!(range(&d), [2, 6, 2, 7]);
    // Replace line 2 up to its end, and past it (clamped before the CRLF).
    server.change(&uri, 2, [2, 0, 2, 99], "  b = 2;");
    assert_eq!(
        server.diagnostics_for_version(&uri, 2)["diagnostics"],
        json!([])
    );
    let tree = server.syntax_tree(&uri).unwrap();
    assert_eq!(
        text_from_tree(tree.as_str().unwrap()),
        "{\r\n  a = 1;\r\n  b = 2;\r\n}\r\n"
    );
}

/// UTF-16 position of byte offset `at` in `text`.
fn position(text: &str, at: usize) -> (u32, u32) {
    let before = &text[..at];
    let line = before.matches('\n').count() as u32;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..at].encode_utf16().count() as u32)
}

#[test]
fn a_thousand_rapid_edits_end_in_the_editors_text() {
    let mut server = start();
    let uri = file_uri("typing.nix");
    let mut text =
        String::from("{ pkgs, lib, ... }:\n{\n  environment.systemPackages = [ pkgs.vim ];\n}\n");
    server.open(&uri, 1, &text);
    let mut rng = Rng::new(7);
    let pieces = [
        "a", "é", "🦀", " ", "\n", ";", "= 1;", "{", "}", "\"", "x.y", "\r\n", "${", "#",
    ];
    for version in 2..=1001 {
        let mut start = rng.below(text.len() + 1);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + rng.below(4)).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        // Never split a CRLF: editors treat it as one line break.
        if end < text.len() && text[..end].ends_with('\r') && text[end..].starts_with('\n') {
            end += 1;
        }
        if start > 0 && text[..start].ends_with('\r') && text[start..].starts_with('\n') {
            start -= 1;
        }
        let insert = if rng.chance(60) {
            *rng.pick(&pieces)
        } else {
            ""
        };
        let (l1, c1) = position(&text, start);
        let (l2, c2) = position(&text, end);
        text.replace_range(start..end, insert);
        server.change(&uri, version, [l1, c1, l2, c2], insert);
    }
    let tree = server.syntax_tree(&uri).unwrap();
    assert_eq!(text_from_tree(tree.as_str().unwrap()), text);
    // The last diagnostics are for the last version and match a fresh open.
    let last = server.diagnostics_for_version(&uri, 1001);
    let fresh = file_uri("fresh.nix");
    server.open(&fresh, 1, &text);
    assert_eq!(
        server.diagnostics(&fresh)["diagnostics"],
        last["diagnostics"]
    );
}

#[test]
fn stale_results_are_never_published() {
    let mut server = start();
    let uri = file_uri("stale.nix");
    server.open(&uri, 1, "{ a = 1; }");
    for version in 2..=200 {
        server.change(&uri, version, [0, 6, 0, 7], &format!("{}", version % 10));
    }
    // Versions never go back (one may come twice: settings re-analyse); the
    // last is published.
    let mut last = 0;
    loop {
        let published = server.diagnostics(&uri);
        let version = published["version"].as_i64().unwrap();
        assert!(version >= last, "version {version} after {last}");
        last = version;
        if version == 200 {
            break;
        }
    }
}

#[test]
fn unknown_methods_and_documents() {
    let mut server = start();
    let error = server
        .request("cim-nix/noSuchRequest", json!({}))
        .unwrap_err();
    assert_eq!(error["code"], -32601);
    server.notify("$/noSuchNotification", json!({}));
    server.notify("custom/whatever", json!([1, 2]));
    let error = server
        .syntax_tree(&file_uri("never-opened.nix"))
        .unwrap_err();
    assert!(
        error["message"].as_str().unwrap().contains("is not open"),
        "{error}"
    );
    assert_eq!(server.shutdown().code(), Some(0));
}

#[test]
fn closing_a_document_clears_its_diagnostics() {
    let mut server = start();
    let uri = file_uri("close.nix");
    server.open(&uri, 1, "{");
    assert_eq!(
        server.diagnostics(&uri)["diagnostics"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    server.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    server.wait_for(TIMEOUT, |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == uri
            && m["params"]["diagnostics"] == json!([])
    });
    assert!(server.syntax_tree(&uri).is_err());
}

#[test]
fn a_document_closed_and_opened_again_keeps_its_new_diagnostics() {
    // The clear of the close and the diagnostics of the reopened document
    // are written by different threads: they must reach the client in that
    // order, or the editor shows no errors for a broken file.
    let mut server = start();
    for round in 0..20 {
        let uri = file_uri(&format!("reopen{round}.nix"));
        server.open(&uri, 1, "{ a = ; }");
        server.diagnostics_for_version(&uri, 1);
        server.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        );
        server.open(&uri, 1, "{ a = ; }");
        let cleared = server.diagnostics(&uri);
        assert_eq!(cleared["diagnostics"], json!([]), "round {round}");
        let reopened = server.diagnostics(&uri);
        assert_eq!(reopened["version"], 1, "round {round}: {reopened}");
        assert_eq!(
            reopened["diagnostics"].as_array().map(Vec::len),
            Some(1),
            "round {round}: {reopened}"
        );
    }
}

#[test]
fn pull_diagnostics_when_the_client_supports_them() {
    let mut server = Server::start();
    let result = server.initialize(
        json!({"textDocument": {"diagnostic": {"dynamicRegistration": false}}}),
        Value::Null,
    );
    assert_eq!(
        result["capabilities"]["diagnosticProvider"]["identifier"],
        "cim-nix"
    );
    let uri = file_uri("pull.nix");
    server.open(&uri, 1, "let a = 1 in a");
    let report = server
        .request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": uri}}),
        )
        .unwrap();
    assert_eq!(report["kind"], "full");
    assert_eq!(
        report["items"][0]["message"],
        "unexpected `in`, expected `;`"
    );
    let id = report["resultId"].clone();
    let again = server
        .request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": uri}, "previousResultId": id}),
        )
        .unwrap();
    assert_eq!(again["kind"], "unchanged");
    server.change(&uri, 2, [0, 9, 0, 9], ";");
    let fixed = server
        .request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": uri}, "previousResultId": id}),
        )
        .unwrap();
    assert_eq!(fixed["kind"], "full");
    assert_eq!(fixed["items"], json!([]));
}

#[test]
fn settings_from_initialization_options_and_configuration() {
    let responder = default_responder(json!({"rules": {"syntax-error": "hint"}}));
    let mut server = Server::start_with(&["lsp"], &[], responder);
    server.initialize(
        json!({"workspace": {"configuration": true}}),
        json!({"rules": {"syntax-error": "warning", "not-a-rule": "off"}, "diagnostics": {"enable": "yes"}}),
    );
    // The invalid parts are named; the valid rest applies.
    let message = server.wait_for(TIMEOUT, |m| m["method"] == "window/showMessage");
    let text = message["params"]["message"].as_str().unwrap();
    assert!(
        text.contains("rules.not-a-rule") && text.contains("diagnostics.enable"),
        "{text}"
    );
    assert_eq!(message["params"]["type"], 2);
    let uri = file_uri("settings.nix");
    server.open(&uri, 1, "{ a = ; }");
    // Eventually the editor's `cim-nix` section (hint) wins over initializationOptions.
    server.diagnostics_until(&uri, |d| d[0]["severity"] == 4);
}

#[test]
fn a_settings_refresh_that_changes_nothing_publishes_nothing_again() {
    // `initialized` refreshes the settings while the editor is already
    // opening files: a refresh that changes nothing must not push a
    // document's diagnostics a second time (a client, or a test, would take
    // the repeat for the answer to its next edit).
    let mut server = start();
    let first = file_uri("unchanged-a.nix");
    server.open(&first, 1, "{ a = ; }");
    server.diagnostics_for_version(&first, 1);
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"cim-nix": {}}}),
    );
    // Answered after the notification was handled; the worker then takes
    // any re-analysis of the first document before the second one.
    server.syntax_tree(&first).unwrap();
    let second = file_uri("unchanged-b.nix");
    server.open(&second, 1, "{ b = ; }");
    let next = server.wait_for(TIMEOUT, |m| {
        m["method"] == "textDocument/publishDiagnostics"
    });
    assert_eq!(next["params"]["uri"], second.as_str(), "{next}");
}

#[test]
fn did_change_configuration_without_workspace_configuration() {
    let mut server = start();
    let uri = file_uri("push.nix");
    server.open(&uri, 1, "{ a = ; }");
    assert_eq!(server.diagnostics(&uri)["diagnostics"][0]["severity"], 1);
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"cim-nix": {"rules": {"syntax-error": "off"}}}}),
    );
    server.diagnostics_until(&uri, |d| d == &json!([]));
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"diagnostics": {"enable": 3}}}),
    );
    let message = server.wait_for(TIMEOUT, |m| m["method"] == "window/showMessage");
    assert!(message["params"]["message"]
        .as_str()
        .unwrap()
        .contains("expected true or false, got 3"));
}

#[test]
fn project_file_settings_apply_and_bad_ones_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("hosts/laptop")).unwrap();
    std::fs::write(
        dir.path().join("cim-nix.toml"),
        "[rules]\nsyntax-error = \"info\"\n",
    )
    .unwrap();
    let file = dir.path().join("hosts/laptop/configuration.nix");
    let uri = format!("file://{}", file.display());
    let mut server = start();
    server.open(&uri, 1, "{ a = ; }");
    assert_eq!(server.diagnostics(&uri)["diagnostics"][0]["severity"], 3);

    // A broken file is reported and ignored; didChangeConfiguration re-reads it.
    std::fs::write(dir.path().join("cim-nix.toml"), "[rules\n").unwrap();
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": null}),
    );
    let message = server.wait_for(TIMEOUT, |m| m["method"] == "window/showMessage");
    assert!(
        message["params"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid TOML"),
        "{message}"
    );
    server.diagnostics_until(&uri, |d| d[0]["severity"] == 1);
}

#[test]
fn logs_go_to_stderr_and_stdout_stays_json_rpc() {
    let mut server = Server::start_with(
        &["lsp"],
        &[("CIM_NIX_LOG", "trace")],
        default_responder(Value::Null),
    );
    server.initialize(json!({}), Value::Null);
    let uri = file_uri("log.nix");
    server.open(&uri, 1, "{ a = 1; }");
    server.diagnostics(&uri);
    server.notify("textDocument/didChange", json!({"textDocument": {"uri": file_uri("unknown.nix"), "version": 2}, "contentChanges": []}));
    // A change for a document that is not open is reported to the client's log.
    let log = server.wait_for(TIMEOUT, |m| m["method"] == "window/logMessage");
    assert!(log["params"]["message"]
        .as_str()
        .unwrap()
        .contains("is not open"));
    let stderr = server.stderr();
    let status = server.shutdown();
    assert_eq!(status.code(), Some(0));
    // Every byte of stdout was parsed as a frame by the client (it panics
    // otherwise); stderr has the logs.
    assert!(
        stderr.contains("analysed") || stderr.contains("DEBUG") || stderr.contains("TRACE"),
        "{stderr}"
    );
}

#[test]
fn no_deadlock_when_the_client_answers_slowly() {
    // The client takes 300 ms to answer every request from the server.
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = asked.clone();
    let responder: support::lsp::Responder = std::sync::Arc::new(move |request: &Value| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let result = if request["method"] == "workspace/configuration" {
            json!([{}])
        } else {
            Value::Null
        };
        (result, Duration::from_millis(300))
    });
    let mut server = Server::start_with(&["lsp"], &[], responder);
    server.initialize(
        json!({"workspace": {"configuration": true, "didChangeConfiguration": {"dynamicRegistration": true}}}),
        Value::Null,
    );
    let uri = file_uri("flood.nix");
    server.open(&uri, 1, "{ a = 1; }");
    let mut pending = Vec::new();
    for version in 2..=300 {
        // Each configuration change makes the server ask the client again.
        if version % 10 == 0 {
            server.notify(
                "workspace/didChangeConfiguration",
                json!({"settings": null}),
            );
        }
        server.change(&uri, version, [0, 6, 0, 7], &format!("{}", version % 10));
        if version % 20 == 0 {
            pending.push(
                server.send_request("cim-nix/syntaxTree", json!({"textDocument": {"uri": uri}})),
            );
        }
    }
    for id in pending {
        server.response(&json!(id)).expect("answered");
    }
    let tree = server.syntax_tree(&uri).unwrap();
    assert_eq!(text_from_tree(tree.as_str().unwrap()), "{ a = 0; }");
    assert_eq!(server.shutdown().code(), Some(0));
    // The server did ask: once at start, once per configuration change.
    assert!(asked.load(std::sync::atomic::Ordering::SeqCst) >= 25);
}
