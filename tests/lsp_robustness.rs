//! Hostile input never kills the server: after each, a normal request is
//! still answered.

mod support;

use serde_json::{json, Value};
use support::lsp::{file_uri, text_from_tree, Server, TIMEOUT};

const PROBE: &str = "{ probe = true; }";

/// A server with one small document open, to ask about after each attack.
fn start() -> (Server, String) {
    let mut server = Server::start();
    server.initialize(json!({}), Value::Null);
    let probe = file_uri("probe.nix");
    server.open(&probe, 1, PROBE);
    server.diagnostics(&probe);
    (server, probe)
}

/// The server is alive and still holds the probe document.
fn assert_alive(server: &mut Server, probe: &str) {
    let tree = server.syntax_tree(probe).expect("the server still answers");
    assert_eq!(text_from_tree(tree.as_str().unwrap()), PROBE);
}

/// An error response with this id, code and a message containing `words`.
fn expect_error(server: &mut Server, id: Value, code: i64, words: &str) {
    let m = server.wait_for(TIMEOUT, |m| m.get("error").is_some() && m["id"] == id);
    assert_eq!(m["error"]["code"], code, "{m}");
    let message = m["error"]["message"].as_str().unwrap();
    assert!(message.contains(words), "{message}");
}

fn open_and_get_diagnostics(server: &mut Server, name: &str, text: &str) -> Value {
    let uri = file_uri(name);
    server.open(&uri, 1, text);
    server.diagnostics(&uri)["diagnostics"].clone()
}

#[test]
fn long_operator_chain() {
    let (mut server, probe) = start();
    let text = "1 + ".repeat(200_000) + "1";
    let d = open_and_get_diagnostics(&mut server, "chain.nix", &text);
    assert_eq!(d.as_array().unwrap().len(), 1);
    assert_eq!(d[0]["code"], "analysis-limit");
    assert_eq!(d[0]["severity"], 2);
    assert!(d[0]["message"]
        .as_str()
        .unwrap()
        .contains("nested too deeply"));
    // It points at a place in the chain, not at the whole file.
    assert_eq!(d[0]["range"]["start"]["line"], d[0]["range"]["end"]["line"]);
    assert_alive(&mut server, &probe);
    let tree = server.syntax_tree(&file_uri("chain.nix")).unwrap();
    assert!(tree.as_str().unwrap().starts_with("no syntax tree"));
}

/// Chains of 5 000 operators or arguments build trees 5 000 levels deep:
/// within what cim-nix walks, so they are analysed and formatted like any
/// file, on the server's own threads.
#[test]
fn long_chains_within_the_depth_bound_are_analysed_and_formatted() {
    let (mut server, probe) = start();
    for (name, text) in [
        ("sum.nix", "1 + ".repeat(5_000) + "1"),
        ("args.nix", "x: x".to_string() + &" 1".repeat(5_000)),
    ] {
        let d = open_and_get_diagnostics(&mut server, name, &text);
        assert_eq!(d, serde_json::json!([]), "{name}");
        let params = serde_json::json!({
            "textDocument": {"uri": file_uri(name)},
            "options": {"tabSize": 2, "insertSpaces": true}
        });
        let edits = server.request("textDocument/formatting", params);
        assert!(edits.is_ok(), "{name}: {edits:?}");
        assert_alive(&mut server, &probe);
    }
}

/// rnix's tokenizer measures a run of path characters again at every `.`:
/// 200 lines of 1 900-link chains took it 3 s. Our lexer is linear and our
/// parser reads broken files too, so such a file is analysed, error and
/// all; the formatters' rnix is refused.
#[test]
fn long_dotted_chains() {
    let (mut server, probe) = start();
    let chain = vec!["a"; 1_900].join(".");
    let body: String = (0..200).map(|i| format!("  x{i} = {chain};\n")).collect();
    let broken = format!("{{ a }}:\n{{\n{body}  y = ;\n}}\n");
    let d = open_and_get_diagnostics(&mut server, "dotted.nix", &broken);
    assert_eq!(d.as_array().unwrap().len(), 1, "{d}");
    assert_eq!(d[0]["code"], "syntax-error");
    assert_eq!(d[0]["range"]["start"]["line"], 202, "{d}");
    assert_alive(&mut server, &probe);

    let valid = format!("{{ a }}:\n{{\n{body}}}\n");
    let d = open_and_get_diagnostics(&mut server, "dotted-valid.nix", &valid);
    assert_eq!(d, json!([]));
    // The formatters' own tokenizer has the same flaw (24 s here): they
    // are not run on it, and the reply says why.
    let id = server.send_request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": file_uri("dotted-valid.nix")},
               "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    expect_error(&mut server, json!(id), -32803, "would take too long");
    assert_alive(&mut server, &probe);
}

#[test]
fn deep_nesting() {
    let (mut server, probe) = start();
    let n = 100_000;
    for (name, text) in [
        ("parens.nix", format!("{}1{}", "(".repeat(n), ")".repeat(n))),
        ("lists.nix", format!("{}1{}", "[".repeat(n), "]".repeat(n))),
        (
            "sets.nix",
            format!("{}1{}", "{ a = ".repeat(n), "; }".repeat(n)),
        ),
        ("lambdas.nix", format!("{}x", "x: ".repeat(n))),
        ("negations.nix", format!("{}true", "!".repeat(n))),
    ] {
        let d = open_and_get_diagnostics(&mut server, name, &text);
        let d = d.as_array().unwrap();
        assert!(!d.is_empty() && d.len() < 5, "{name}: {d:?}");
        assert_alive(&mut server, &probe);
    }
}

#[test]
fn twenty_megabyte_document() {
    let (mut server, probe) = start();
    let mut text = String::from("{ pkgs, callPackage }:\n{\n");
    let mut i = 0;
    while text.len() < 20 << 20 {
        text.push_str(&format!(
            "  package{i} = callPackage ./pkgs/package{i} {{ inherit (pkgs) lib stdenv; version = \"1.{i}\"; }};\n"
        ));
        i += 1;
    }
    text.push_str("  broken = ;\n}\n");
    let d = open_and_get_diagnostics(&mut server, "big.nix", &text);
    assert_eq!(d.as_array().unwrap().len(), 1, "{d}");
    assert_eq!(d[0]["message"], "unexpected `;`, expected an expression");
    assert_eq!(d[0]["range"]["start"]["line"], i + 2);
    assert_alive(&mut server, &probe);
    // Typing in it stays correct.
    let uri = file_uri("big.nix");
    server.change(&uri, 2, [i as u32 + 2, 11, i as u32 + 2, 11], "1");
    assert_eq!(
        server.diagnostics_for_version(&uri, 2)["diagnostics"],
        json!([])
    );
}

#[test]
fn lone_surrogates_in_json_text() {
    let (mut server, probe) = start();
    let uri = file_uri("surrogate.nix");
    // A didOpen whose text escapes half of a surrogate pair.
    let body = format!(
        r#"{{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{{"textDocument":{{"uri":"{uri}","languageId":"nix","version":1,"text":"\"a\ud800b\""}}}}}}"#
    );
    server.send_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    assert_eq!(server.diagnostics(&uri)["diagnostics"], json!([]));
    let tree = server.syntax_tree(&uri).unwrap();
    assert_eq!(text_from_tree(tree.as_str().unwrap()), "\"a\u{FFFD}b\"");
    // A request with a lone low surrogate is answered too.
    let body = r#"{"jsonrpc":"2.0","id":77,"method":"cim-nix/syntaxTree","params":{"textDocument":{"uri":"file:///\udc00.nix"}}}"#;
    server.send_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    assert!(server.response(&json!(77)).is_err());
    assert_alive(&mut server, &probe);
}

#[test]
fn invalid_utf8_body() {
    let (mut server, probe) = start();
    let mut body =
        br#"{"jsonrpc":"2.0","id":5,"method":"cim-nix/syntaxTree","params":{"x":""#.to_vec();
    body.extend_from_slice(b"\xff\xfe\"}}");
    server.send_raw(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    server.send_raw(&body);
    expect_error(&mut server, json!(5), -32700, "not valid UTF-8");
    assert_alive(&mut server, &probe);
}

#[test]
fn malformed_frames() {
    let (mut server, probe) = start();
    // Not JSON.
    server.send_raw(b"Content-Length: 9\r\n\r\nnot json!");
    expect_error(&mut server, Value::Null, -32700, "not valid JSON");
    assert_alive(&mut server, &probe);
    // Content-Length that is not a number.
    server.send_raw(b"Content-Length: lots\r\n\r\n{}");
    expect_error(&mut server, Value::Null, -32700, "invalid Content-Length");
    assert_alive(&mut server, &probe);
    // No Content-Length at all.
    server.send_raw(
        b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{\"jsonrpc\":\"2.0\"}",
    );
    expect_error(&mut server, Value::Null, -32700, "no Content-Length");
    assert_alive(&mut server, &probe);
    // A length longer than the message: the next request still gets through.
    let body = r#"{"jsonrpc":"2.0","id":31,"method":"shutdown"}"#;
    // The server can only tell once the next message arrives.
    server.send_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len() + 500).as_bytes());
    assert_alive(&mut server, &probe);
    expect_error(&mut server, Value::Null, -32700, "longer than the message");
    // A length shorter than the message.
    let body = r#"{"jsonrpc":"2.0","id":32,"method":"cim-nix/syntaxTree"}"#;
    server.send_raw(format!("Content-Length: 10\r\n\r\n{body}").as_bytes());
    expect_error(&mut server, Value::Null, -32700, "not valid JSON");
    assert_alive(&mut server, &probe);
    // Garbage between messages.
    server.send_raw(b"\r\n\r\nhello there\r\n");
    assert_alive(&mut server, &probe);
    // Valid JSON that is not JSON-RPC: a batch, a bad version, a float id.
    for (body, id) in [
        (
            r#"[{"jsonrpc":"2.0","id":1,"method":"shutdown"}]"#,
            Value::Null,
        ),
        (
            r#"{"jsonrpc":"1.0","id":41,"method":"shutdown"}"#,
            json!(41),
        ),
        (
            r#"{"jsonrpc":"2.0","id":4.5,"method":"shutdown"}"#,
            Value::Null,
        ),
    ] {
        server.send_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
        expect_error(&mut server, id, -32600, "invalid request");
        assert_alive(&mut server, &probe);
    }
}

#[test]
fn bad_positions_and_documents() {
    let (mut server, probe) = start();
    let uri = file_uri("positions.nix");
    server.open(&uri, 1, "{ a = 1; }\n");
    // Past the end of a line, then past the end of the document: clamped.
    server.change(&uri, 2, [0, 500, 0, 900], " # end of line");
    server.change(&uri, 3, [40, 0, 99, 99], "# end of file");
    let tree = server.syntax_tree(&uri).unwrap();
    assert_eq!(
        text_from_tree(tree.as_str().unwrap()),
        "{ a = 1; } # end of line\n# end of file"
    );
    // A change for a document that was never opened.
    server.change(&file_uri("ghost.nix"), 1, [0, 0, 0, 0], "x");
    let log = server.wait_for(TIMEOUT, |m| m["method"] == "window/logMessage");
    assert!(log["params"]["message"]
        .as_str()
        .unwrap()
        .contains("ghost.nix is not open"));
    // Params of the wrong shape.
    server.notify("textDocument/didChange", json!({"textDocument": 5}));
    server.notify("textDocument/didOpen", json!(null));
    assert_alive(&mut server, &probe);
    // Versions going backwards: the text follows the client, diagnostics carry its version.
    server.change(&uri, 0, [0, 6, 0, 7], "");
    let published = server.diagnostics_for_version(&uri, 0);
    assert_eq!(
        published["diagnostics"][0]["message"],
        "unexpected `;`, expected an expression"
    );
    assert_alive(&mut server, &probe);
}

#[test]
fn exit_ends_the_process_even_with_stdin_open() {
    let (server, _) = start();
    assert_eq!(server.shutdown().code(), Some(0));
    // Exit without shutdown: code 1, as the specification says.
    let (mut server, _) = start();
    server.notify("exit", Value::Null);
    assert_eq!(server.wait_exit(TIMEOUT).expect("exits").code(), Some(1));
    // The editor going away (stdin closed) ends the server too.
    let (mut server, _) = start();
    server.close_stdin();
    assert!(server.wait_exit(TIMEOUT).is_some());
}

#[test]
fn requests_after_shutdown_are_refused() {
    let (mut server, probe) = start();
    server.request("shutdown", Value::Null).unwrap();
    let error = server.syntax_tree(&probe).unwrap_err();
    assert_eq!(error["code"], -32600, "{error}");
    server.notify("exit", Value::Null);
    assert_eq!(server.wait_exit(TIMEOUT).unwrap().code(), Some(0));
}

/// Every editor feature survives what a client may send: bad params,
/// positions past the end, documents never opened, requests before
/// `initialize` and after `shutdown`, and texts that do not parse or are
/// refused; the server answers each and keeps serving.
#[test]
fn editor_features_answer_bad_requests_and_hostile_documents() {
    let methods = [
        "textDocument/hover",
        "textDocument/definition",
        "textDocument/references",
        "textDocument/documentHighlight",
        "textDocument/prepareRename",
        "textDocument/rename",
        "textDocument/completion",
        "textDocument/documentSymbol",
        "textDocument/documentLink",
        "textDocument/foldingRange",
        "textDocument/selectionRange",
        "textDocument/inlayHint",
        "textDocument/codeAction",
        "textDocument/semanticTokens/full",
        "textDocument/semanticTokens/full/delta",
        "textDocument/semanticTokens/range",
    ];
    let params = |uri: &str| {
        json!({"textDocument": {"uri": uri}, "position": {"line": 99999, "character": 99999},
               "positions": [{"line": 99999, "character": 0}], "newName": "x",
               "context": {"includeDeclaration": true, "diagnostics": []},
               "previousResultId": "nope",
               "range": {"start": {"line": 0, "character": 0}, "end": {"line": 99999, "character": 0}}})
    };

    // Before `initialize`: refused, not crashed.
    let mut early = Server::start();
    let id = early.send_request("textDocument/hover", params(&file_uri("x.nix")));
    expect_error(&mut early, json!(id), -32002, "not initialized");

    let (mut server, probe) = start();
    // Malformed params: an error that names the problem.
    let id = server.send_request("textDocument/definition", json!({"textDocument": 7}));
    expect_error(&mut server, json!(id), -32602, "invalid params");
    // A document never opened.
    let id = server.send_request("textDocument/hover", params(&file_uri("never.nix")));
    expect_error(&mut server, json!(id), -32602, "is not open");
    // Texts that do not parse, are nested too deep, or empty: every feature
    // answers (a result or an error reply) at a position past the end.
    let hostile = [
        ("broken.nix", "let a = { b = ; in [ ( ".to_string()),
        ("deep.nix", "[".repeat(100_000)),
        ("chain.nix", "1 + ".repeat(200_000) + "1"),
        ("empty.nix", String::new()),
        ("unicode.nix", "{ \"é🦀\" = ''\n  ${x} 🦀 ''; }".to_string()),
    ];
    for (name, text) in &hostile {
        let uri = file_uri(name);
        server.open(&uri, 1, text);
        server.diagnostics(&uri);
        for method in methods {
            let id = server.send_request(method, params(&uri));
            let reply = server.response(&json!(id));
            if let Err(e) = reply {
                assert!(
                    [-32602, -32803, -32801].contains(&e["code"].as_i64().unwrap()),
                    "{method} on {name}: {e}"
                );
            }
        }
        assert_alive(&mut server, &probe);
    }
    // After shutdown: refused.
    server.request("shutdown", Value::Null).unwrap();
    let id = server.send_request("textDocument/documentSymbol", params(&probe));
    expect_error(&mut server, json!(id), -32600, "shutting down");
}
