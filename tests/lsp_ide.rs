//! The editor features through the real server: go to definition (within a file,
//! into imported files), references and rename across files, document
//! highlight, document and workspace symbols, document links and hover,
//! and completion, on a small workspace on disk, with the client capabilities editors
//! send. Cursors are written `$0` in the texts.

mod support;

use std::path::Path;

use serde_json::{json, Value};
use support::lsp::{apply_text_edits, Server};

const DEFAULT: &str = r#"let
  lib = import ./lib.nix;
  pkg = import ./pkg.nix { src = ./.; name = "x"; };
in
{
  inherit pkg;
  result = lib.double 2;
  listed = map (x: x) [ ];
}
"#;

const LIB: &str = "{\n  # Twice x.\n  double = x: x * 2;\n}\n";

const PKG: &str = "{ src, name }:\n{\n  inherit src name;\n  label = name;\n}\n";

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The (line, UTF-16 column) of the first `needle` in `text`, plus `skip`
/// characters.
fn position(text: &str, needle: &str, skip: usize) -> Value {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in text"))
        + skip;
    let line = text[..at].matches('\n').count();
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": text[start..at].encode_utf16().count()})
}

struct Workspace {
    dir: tempfile::TempDir,
    server: Server,
}

impl Workspace {
    fn start() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("default.nix"), DEFAULT).unwrap();
        std::fs::write(dir.path().join("lib.nix"), LIB).unwrap();
        std::fs::write(dir.path().join("pkg.nix"), PKG).unwrap();
        let mut server = Server::start();
        let capabilities = json!({
            "window": {"workDoneProgress": true},
            "workspace": {"workspaceEdit": {"documentChanges": true}, "symbol": {}},
            "textDocument": {
                "definition": {"linkSupport": true},
                "documentSymbol": {"hierarchicalDocumentSymbolSupport": true},
                "rename": {"prepareSupport": true},
                "hover": {"contentFormat": ["markdown", "plaintext"]}
            }
        });
        let result = server
            .request(
                "initialize",
                json!({"processId": null, "rootUri": uri(dir.path()), "capabilities": capabilities}),
            )
            .expect("initialize succeeds");
        let caps = &result["capabilities"];
        for provider in [
            "definitionProvider",
            "referencesProvider",
            "documentHighlightProvider",
            "renameProvider",
            "documentSymbolProvider",
            "workspaceSymbolProvider",
            "documentLinkProvider",
            "hoverProvider",
        ] {
            assert!(!caps[provider].is_null(), "{provider} is not advertised");
        }
        server.notify("initialized", json!({}));
        Workspace { dir, server }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn open(&mut self, name: &str, text: &str) -> String {
        let uri = uri(&self.path(name));
        self.server.open(&uri, 1, text);
        self.server.diagnostics(&uri);
        uri
    }

    fn at(
        &mut self,
        method: &str,
        uri: &str,
        position: Value,
        extra: Value,
    ) -> Result<Value, Value> {
        let mut params = json!({"textDocument": {"uri": uri}, "position": position});
        if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                p.insert(k.clone(), v.clone());
            }
        }
        self.server.request(method, params)
    }

    /// Waits until the index has been built (its progress ends).
    fn indexed(&mut self) {
        self.server.wait_for(support::lsp::TIMEOUT, |m| {
            m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end"
        });
    }
}

#[test]
fn definition_goes_into_the_imported_file() {
    let mut w = Workspace::start();
    let main = w.open("default.nix", DEFAULT);
    let found = w
        .at(
            "textDocument/definition",
            &main,
            position(DEFAULT, "double", 2),
            json!({}),
        )
        .unwrap();
    let links = found.as_array().expect("LocationLinks");
    assert_eq!(links.len(), 1, "{found}");
    assert_eq!(links[0]["targetUri"], uri(&w.path("lib.nix")));
    // The name, and the whole binding `double = x: x * 2;` on line 2.
    assert_eq!(
        links[0]["targetSelectionRange"],
        json!({"start": {"line": 2, "character": 2}, "end": {"line": 2, "character": 8}})
    );
    assert_eq!(
        links[0]["targetRange"],
        json!({"start": {"line": 2, "character": 2}, "end": {"line": 2, "character": 20}})
    );
    assert_eq!(
        links[0]["originSelectionRange"],
        json!({"start": {"line": 6, "character": 15}, "end": {"line": 6, "character": 21}})
    );
    // A path goes to its file.
    let found = w
        .at(
            "textDocument/definition",
            &main,
            position(DEFAULT, "./pkg.nix", 3),
            json!({}),
        )
        .unwrap();
    assert_eq!(found[0]["targetUri"], uri(&w.path("pkg.nix")));
    // A builtin has no definition.
    let found = w
        .at(
            "textDocument/definition",
            &main,
            position(DEFAULT, "map", 1),
            json!({}),
        )
        .unwrap();
    assert!(found.is_null(), "{found}");
}

#[test]
fn references_and_rename_reach_the_callers() {
    let mut w = Workspace::start();
    w.indexed();
    let pkg = w.open("pkg.nix", PKG);
    let found = w
        .at(
            "textDocument/references",
            &pkg,
            position(PKG, "src", 1),
            json!({"context": {"includeDeclaration": true}}),
        )
        .unwrap();
    let mut places: Vec<(String, u64)> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let file = l["uri"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string();
            (file, l["range"]["start"]["line"].as_u64().unwrap())
        })
        .collect();
    places.sort();
    assert_eq!(
        places,
        [
            ("default.nix".to_string(), 2),
            ("pkg.nix".to_string(), 0),
            ("pkg.nix".to_string(), 2)
        ]
    );

    // Rename: the field, its use (`inherit src` keeps the attribute's name)
    // and the caller's argument in the closed default.nix.
    let prepared = w
        .at(
            "textDocument/prepareRename",
            &pkg,
            position(PKG, "src", 0),
            json!({}),
        )
        .unwrap();
    assert_eq!(prepared["placeholder"], "src");
    let edit = w
        .at(
            "textDocument/rename",
            &pkg,
            position(PKG, "src", 0),
            json!({"newName": "source"}),
        )
        .unwrap();
    let changes = edit["documentChanges"].as_array().expect("documentChanges");
    assert_eq!(changes.len(), 2, "{edit}");
    for change in changes {
        let file = change["textDocument"]["uri"].as_str().unwrap();
        let (before, expected, version) = if file.ends_with("pkg.nix") {
            (
                PKG,
                "{ source, name }:\n{\n  inherit name; src = source;\n  label = name;\n}\n",
                json!(1),
            )
        } else {
            (
                DEFAULT,
                &*DEFAULT.replace("{ src = ./.;", "{ source = ./.;"),
                Value::Null,
            )
        };
        assert_eq!(change["textDocument"]["version"], version, "{file}");
        assert_eq!(
            apply_text_edits(before, &change["edits"]),
            expected,
            "{file}"
        );
    }

    // A builtin is refused, with the reason.
    let main = w.open("default.nix", DEFAULT);
    let refused = w
        .at(
            "textDocument/prepareRename",
            &main,
            position(DEFAULT, "map", 0),
            json!({}),
        )
        .unwrap_err();
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("`map` is a builtin"),
        "{refused}"
    );
}

#[test]
fn highlights_symbols_links_and_hover() {
    let mut w = Workspace::start();
    let pkg = w.open("pkg.nix", PKG);
    let found = w
        .at(
            "textDocument/documentHighlight",
            &pkg,
            position(PKG, "name }", 0),
            json!({}),
        )
        .unwrap();
    let kinds: Vec<u64> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_u64().unwrap())
        .collect();
    // The field (write), `inherit ... name` and `label = name` (reads).
    assert_eq!(kinds, [3, 2, 2]);

    let main = w.open("default.nix", DEFAULT);
    let symbols = w
        .server
        .request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": main}}),
        )
        .unwrap();
    let names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["lib", "pkg", "pkg", "result", "listed"]);
    // `pkg = import ./pkg.nix { src = ...; name = ...; }`: the argument's
    // attributes are its children.
    let children: Vec<&str> = symbols[1]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(children, ["src", "name"]);

    let links = w
        .server
        .request(
            "textDocument/documentLink",
            json!({"textDocument": {"uri": main}}),
        )
        .unwrap();
    let targets: Vec<&str> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["target"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(targets, ["lib.nix", "pkg.nix", "default.nix"]);

    let hover = w
        .at(
            "textDocument/hover",
            &main,
            position(DEFAULT, "map", 0),
            json!({}),
        )
        .unwrap();
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.starts_with("```nix\nmap f list\n```"), "{text}");
    let hover = w
        .at(
            "textDocument/hover",
            &main,
            position(DEFAULT, "double", 0),
            json!({}),
        )
        .unwrap();
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("double = x: x * 2;"), "{text}");
    assert!(text.contains("lib.nix, line 3"), "{text}");
}

#[test]
fn workspace_symbols_come_from_the_index_and_open_files() {
    let mut w = Workspace::start();
    w.indexed();
    let found = w
        .server
        .request("workspace/symbol", json!({"query": "doub"}))
        .unwrap();
    let first = &found[0];
    assert_eq!(first["name"], "double");
    assert!(first["location"]["uri"]
        .as_str()
        .unwrap()
        .ends_with("/lib.nix"));
    assert_eq!(
        first["location"]["range"]["start"],
        json!({"line": 2, "character": 2})
    );
    // An open document's symbols are its current text's.
    let lib = uri(&w.path("lib.nix"));
    w.server.open(&lib, 1, "{\n  triple = x: x * 3;\n}\n");
    w.server.diagnostics(&lib);
    let found = w
        .server
        .request("workspace/symbol", json!({"query": "triple"}))
        .unwrap();
    assert_eq!(found[0]["name"], "triple");
    assert_eq!(found[0]["location"]["range"]["start"]["line"], 1);
}

/// A request stamped before an edit is never answered with positions of
/// the text after it: either ContentModified or the old text's answer.
#[test]
fn an_answer_is_for_the_text_the_request_was_made_on() {
    let mut w = Workspace::start();
    let main = w.open("default.nix", DEFAULT);
    let moved = format!("# moved\n{DEFAULT}");
    for round in 0..20 {
        let current = if round % 2 == 0 {
            DEFAULT
        } else {
            moved.as_str()
        };
        let id = w.server.send_request(
            "textDocument/documentHighlight",
            json!({"textDocument": {"uri": main}, "position": position(current, "lib.double", 0)}),
        );
        // Insert a line at the top, then take it out again.
        let insert = round % 2 == 0;
        let (range, text) = if insert {
            ([0, 0, 0, 0], "# moved\n")
        } else {
            ([0, 0, 1, 0], "")
        };
        w.server.change(&main, round + 2, range, text);
        match w.server.response(&json!(id)) {
            Err(e) => assert_eq!(e["code"], -32801, "{e}"),
            Ok(found) => {
                // Lines of the text the request was made on.
                let lines: Vec<u64> = found
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| h["range"]["start"]["line"].as_u64().unwrap())
                    .collect();
                let expected: &[u64] = if insert { &[1, 6] } else { &[2, 7] };
                assert_eq!(lines, expected, "round {round}");
            }
        }
    }
}

#[test]
fn completion_of_attributes_scope_and_lib_with_documentation() {
    let mut w = Workspace::start();
    let text = "{ lib, ... }:\nlet\n  s = { alpha = 1; beta = 2; };\nin\n{\n  x = s.;\n  y = lib.mkI;\n}\n";
    let main = w.open("module.nix", text);
    let found = w
        .at(
            "textDocument/completion",
            &main,
            position(text, "s.;", 2),
            json!({"context": {"triggerKind": 2, "triggerCharacter": "."}}),
        )
        .unwrap();
    let labels: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["alpha", "beta"]);
    let found = w
        .at(
            "textDocument/completion",
            &main,
            position(text, "mkI;", 3),
            json!({}),
        )
        .unwrap();
    let items = found["items"].as_array().unwrap();
    let mk_if = items.iter().find(|i| i["label"] == "mkIf").expect("mkIf");
    // It replaces what is typed.
    assert_eq!(
        mk_if["textEdit"]["range"],
        json!({"start": {"line": 6, "character": 10}, "end": {"line": 6, "character": 13}})
    );
    let resolved = w
        .server
        .request("completionItem/resolve", mk_if.clone())
        .unwrap();
    let docs = resolved["documentation"]["value"].as_str().unwrap();
    assert!(docs.contains("lib.modules.mkIf"), "{docs}");
}

#[test]
fn completion_of_home_manager_options_with_their_types() {
    let mut w = Workspace::start();
    // Typed mid-edit: the binding has no `=` yet.
    let text = "{ pkgs, ... }:\n{\n  home.stateVersion = \"25.11\";\n  programs.tmux.mou\n}\n";
    let home = w.open("home.nix", text);
    let found = w
        .at(
            "textDocument/completion",
            &home,
            position(text, "mou\n", 3),
            json!({}),
        )
        .unwrap();
    let items = found["items"].as_array().unwrap();
    let labels: Vec<&str> = items.iter().map(|i| i["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["mouse"]);
    assert_eq!(items[0]["detail"], "bool");
    assert_eq!(
        items[0]["textEdit"]["range"],
        json!({"start": {"line": 3, "character": 16}, "end": {"line": 3, "character": 19}})
    );
    let resolved = w
        .server
        .request("completionItem/resolve", items[0].clone())
        .unwrap();
    let docs = resolved["documentation"]["value"].as_str().unwrap();
    assert!(docs.contains("`programs.tmux.mouse`"), "{docs}");
    assert!(docs.contains("Type: `bool`"), "{docs}");
    assert!(docs.contains("Whether to enable mouse support."), "{docs}");
}

/// Decodes LSP's relative semantic tokens into (line, column, length,
/// type, modifiers).
fn decode(data: &[Value]) -> Vec<[u64; 5]> {
    let ints: Vec<u64> = data.iter().map(|v| v.as_u64().unwrap()).collect();
    let (mut line, mut col) = (0, 0);
    ints.chunks(5)
        .map(|c| {
            if c[0] > 0 {
                line += c[0];
                col = c[1];
            } else {
                col += c[1];
            }
            [line, col, c[2], c[3], c[4]]
        })
        .collect()
}

#[test]
fn semantic_tokens_full_delta_and_range() {
    let mut w = Workspace::start();
    let text =
        "{ pkgs, ... }:\nlet\n  f = x: x;\nin\n{\n  a = f pkgs.hello;\n  b = map f [ ];\n}\n";
    let main = w.open("tokens.nix", text);
    let full = w
        .server
        .request(
            "textDocument/semanticTokens/full",
            json!({"textDocument": {"uri": main}}),
        )
        .unwrap();
    let tokens = decode(full["data"].as_array().unwrap());
    let legend_types = [
        "comment",
        "string",
        "number",
        "keyword",
        "operator",
        "variable",
        "parameter",
        "property",
        "function",
    ];
    let shown: Vec<String> = tokens
        .iter()
        .map(|[l, c, len, t, m]| {
            let line = text.lines().nth(*l as usize).unwrap();
            format!(
                "{} {}{}",
                &line[*c as usize..(*c + *len) as usize],
                legend_types[*t as usize],
                if *m != 0 {
                    format!(" {m}")
                } else {
                    String::new()
                }
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            "pkgs parameter 1",
            "let keyword",
            "f function 1",
            "= operator",
            "x parameter 1",
            "x parameter",
            "in keyword",
            "a property 1",
            "= operator",
            "f function",
            "pkgs parameter",
            "hello property",
            "b property 1",
            "= operator",
            "map function 2",
            "f function",
        ]
    );
    // A change: the delta applied to the old array gives the new one.
    let old: Vec<Value> = full["data"].as_array().unwrap().clone();
    w.server.change(&main, 2, [5, 6, 5, 7], "map");
    let delta = w
        .server
        .request(
            "textDocument/semanticTokens/full/delta",
            json!({"textDocument": {"uri": main}, "previousResultId": full["resultId"]}),
        )
        .unwrap();
    let mut patched = old.clone();
    for edit in delta["edits"].as_array().expect("a delta") {
        let start = edit["start"].as_u64().unwrap() as usize;
        let count = edit["deleteCount"].as_u64().unwrap() as usize;
        let data = edit["data"].as_array().cloned().unwrap_or_default();
        patched.splice(start..start + count, data);
    }
    let fresh = w
        .server
        .request(
            "textDocument/semanticTokens/full",
            json!({"textDocument": {"uri": main}}),
        )
        .unwrap();
    assert_eq!(&patched, fresh["data"].as_array().unwrap());
    assert!(delta["edits"][0]["data"].as_array().unwrap().len() < old.len());
    // A range: only its tokens, positions absolute from the document start.
    let range = w
        .server
        .request(
            "textDocument/semanticTokens/range",
            json!({"textDocument": {"uri": main},
                   "range": {"start": {"line": 2, "character": 0}, "end": {"line": 3, "character": 0}}}),
        )
        .unwrap();
    let tokens = decode(range["data"].as_array().unwrap());
    assert_eq!(tokens.len(), 4, "{tokens:?}");
    assert_eq!(tokens[0][..2], [2, 2]);
}

#[test]
fn folding_selection_inlay_hints_and_rewrites() {
    let mut w = Workspace::start();
    let body = "    x = 1;\n".repeat(10);
    let text =
        format!("{{\n  # one\n  # two\n  services.web = {{\n{body}  }};\n  y = \"a\";\n}}\n");
    let main = w.open("structure.nix", &text);
    let folds = w
        .server
        .request(
            "textDocument/foldingRange",
            json!({"textDocument": {"uri": main}}),
        )
        .unwrap();
    let folds: Vec<(u64, u64, &str)> = folds
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["startLine"].as_u64().unwrap(),
                f["endLine"].as_u64().unwrap(),
                f["kind"].as_str().unwrap(),
            )
        })
        .collect();
    // The file's set (its `}` stays visible), the comments, the nested set.
    assert_eq!(
        folds,
        [(0, 15, "region"), (1, 2, "comment"), (3, 13, "region")]
    );

    let selection = w
        .server
        .request(
            "textDocument/selectionRange",
            json!({"textDocument": {"uri": main}, "positions": [{"line": 4, "character": 4}]}),
        )
        .unwrap();
    let mut depth = 0;
    let mut at = &selection[0];
    while !at.is_null() {
        depth += 1;
        at = &at["parent"];
    }
    // x, x = 1;, the nested set, services.web = ...;, the file's set, the
    // whole file with its last line break.
    assert_eq!(depth, 6, "{selection}");

    let hints = w
        .server
        .request(
            "textDocument/inlayHint",
            json!({"textDocument": {"uri": main},
                   "range": {"start": {"line": 0, "character": 0}, "end": {"line": 17, "character": 0}}}),
        )
        .unwrap();
    assert_eq!(hints.as_array().unwrap().len(), 1, "{hints}");
    assert_eq!(hints[0]["label"], "# services.web");
    assert_eq!(hints[0]["position"], json!({"line": 14, "character": 4}));

    let actions = w
        .server
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": main},
                   "range": {"start": {"line": 15, "character": 7}, "end": {"line": 15, "character": 7}},
                   "context": {"diagnostics": [], "only": ["refactor"]}}),
        )
        .unwrap();
    let action = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["kind"] == "refactor.rewrite" && a["title"].as_str().unwrap().contains("indented")
        })
        .expect("the string rewrite");
    let edits = &action["edit"]["documentChanges"][0]["edits"];
    let rewritten = apply_text_edits(&text, edits);
    assert!(rewritten.contains("y = ''a'';"), "{rewritten}");
}

/// A client that resolves code actions gets rewrites without their edit,
/// and the edit when it resolves one; a stale one is refused.
#[test]
fn rewrites_are_resolved_lazily_when_the_client_can() {
    let mut server = Server::start();
    server.initialize(
        json!({"textDocument": {"codeAction": {"resolveSupport": {"properties": ["edit"]}}}}),
        Value::Null,
    );
    let uri = support::lsp::file_uri("lazy.nix");
    let text = "let x = 1 + 2; in x * x\n";
    server.open(&uri, 1, text);
    server.diagnostics(&uri);
    let actions = server
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri},
                   "range": {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 4}},
                   "context": {"diagnostics": [], "only": ["refactor.inline"]}}),
        )
        .unwrap();
    let action = actions[0].clone();
    assert_eq!(action["title"], "Inline `x`");
    assert!(action["edit"].is_null(), "{action}");
    let resolved = server
        .request("codeAction/resolve", action.clone())
        .unwrap();
    let edits = &resolved["edit"]["documentChanges"][0]["edits"];
    assert_eq!(apply_text_edits(text, edits), "(1 + 2) * (1 + 2)\n");
    // After an edit, the action is for a text the client no longer has.
    server.change(&uri, 2, [0, 0, 0, 0], " ");
    server.diagnostics_for_version(&uri, 2);
    let stale = server.request("codeAction/resolve", action).unwrap_err();
    assert_eq!(stale["code"], -32801, "{stale}");
}
