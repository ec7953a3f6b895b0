//! After many edits (insertions, deletions, broken and fixed text) sent as
//! incremental changes, what the server answers about a document equals
//! what it answers for the same text opened fresh: semantic tokens,
//! document symbols, folding ranges and diagnostics. Any state kept
//! across edits (reused parses, the tokens kept for deltas) must not leak
//! into the answers.

mod support;

use serde_json::{json, Value};
use support::lsp::{file_uri, Server};
use support::nixgen;
use support::rng::{stress_rounds, Rng};

/// (line, UTF-16 column) of a byte offset.
fn position(text: &str, at: usize) -> (u32, u32) {
    let before = &text[..at];
    let line = before.matches('\n').count() as u32;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[start..at].encode_utf16().count() as u32)
}

/// Pieces typed into the text: names, punctuation that breaks and mends it.
const PIECES: &[&str] = &[
    "a",
    "x",
    " ",
    "\n",
    ";",
    "{",
    "}",
    "=",
    "let ",
    " in ",
    ".",
    "\"",
    "''",
    "[",
    "]",
    "(",
    ")",
    "# c\n",
    "inherit ",
    "1",
    "rec ",
    "with pkgs; ",
    ":",
];

fn answers(server: &mut Server, uri: &str) -> Vec<Value> {
    let document = json!({"textDocument": {"uri": uri}});
    let mut out = Vec::new();
    for method in [
        "textDocument/semanticTokens/full",
        "textDocument/documentSymbol",
        "textDocument/foldingRange",
    ] {
        let mut answer = server.request(method, document.clone()).expect(method);
        // The result id names the revision, which differs by design.
        if let Some(map) = answer.as_object_mut() {
            map.remove("resultId");
        }
        out.push(answer);
    }
    out
}

fn char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[test]
fn five_hundred_edits_answer_as_a_fresh_open() {
    for round in 0..stress_rounds() {
        let mut rng = Rng::new(0x5eed + round);
        let text = nixgen::module(&mut rng, 300);
        edits_answer_as_a_fresh_open(&mut rng, text, round);
    }
}

/// A package set of a few hundred members, walked in chunks that the
/// model and the features keep across revisions.
#[test]
fn five_hundred_edits_of_a_big_set_answer_as_a_fresh_open() {
    for round in 0..stress_rounds() {
        let mut rng = Rng::new(0xb16 + round);
        let text = nixgen::package_set(&mut rng, 600);
        edits_answer_as_a_fresh_open(&mut rng, text, round);
    }
}

fn edits_answer_as_a_fresh_open(rng: &mut Rng, mut text: String, round: u64) {
    let mut server = Server::start();
    server.initialize(
        json!({"textDocument": {"documentSymbol": {"hierarchicalDocumentSymbolSupport": true}}}),
        Value::Null,
    );
    let uri = file_uri("edited.nix");
    server.open(&uri, 1, &text);
    server.diagnostics(&uri);
    // Tokens are asked for along the way, so later answers are deltas
    // against kept state.
    let mut last_id = server
        .request(
            "textDocument/semanticTokens/full",
            json!({"textDocument": {"uri": uri}}),
        )
        .expect("tokens")["resultId"]
        .clone();
    for edit in 0..500i64 {
        let at = char_boundary(&text, rng.below(text.len() + 1));
        let delete = if rng.chance(40) {
            let end = char_boundary(&text, (at + rng.below(12)).min(text.len()));
            end - at
        } else {
            0
        };
        let insert = if delete > 0 && rng.chance(50) {
            ""
        } else {
            *rng.pick(PIECES)
        };
        let (l1, c1) = position(&text, at);
        let (l2, c2) = position(&text, at + delete);
        text.replace_range(at..at + delete, insert);
        let version = edit + 2;
        server.change(&uri, version, [l1, c1, l2, c2], insert);
        if edit % 25 == 0 {
            let tokens = server
                .request(
                    "textDocument/semanticTokens/full/delta",
                    json!({"textDocument": {"uri": uri}, "previousResultId": last_id}),
                )
                .expect("tokens");
            last_id = tokens["resultId"].clone();
        }
        if edit % 100 == 99 {
            let edited = answers(&mut server, &uri);
            let edited_diagnostics = server.diagnostics_for_version(&uri, version);
            let fresh_uri = file_uri(&format!("fresh-{round}-{edit}.nix"));
            server.open(&fresh_uri, 1, &text);
            let fresh_diagnostics = server.diagnostics(&fresh_uri);
            let fresh = answers(&mut server, &fresh_uri);
            assert_eq!(edited, fresh, "after {} edits:\n{text}", edit + 1);
            assert_eq!(
                edited_diagnostics["diagnostics"],
                fresh_diagnostics["diagnostics"],
                "diagnostics after {} edits:\n{text}",
                edit + 1
            );
            server.notify(
                "textDocument/didClose",
                json!({"textDocument": {"uri": fresh_uri}}),
            );
        }
    }
}
