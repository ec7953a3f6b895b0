//! Every editor request, end to end over stdio, on nixpkgs' all-packages.nix
//! (800 KB) and a generated module of 2 000 lines: median and p95 of the
//! round trip, as an editor sees it. `CIM_NIX_COMPARE=PATH` runs the same
//! requests against another server (nil, built from its source) in the
//! same run, beside cim-nix; a request that server does not answer is
//! shown as such.
//!
//! `cargo bench --bench ide_requests` (builds the release binary); results
//! in doc/benchmarks.md.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::lsp::{default_responder, file_uri, Server};
use support::{corpus, nixgen, rng::Rng};

const CAPABILITIES: &str = r#"{
  "general": {"positionEncodings": ["utf-16"]},
  "window": {"workDoneProgress": false},
  "workspace": {"workspaceEdit": {"documentChanges": true}, "configuration": false},
  "textDocument": {
    "definition": {"linkSupport": true},
    "documentSymbol": {"hierarchicalDocumentSymbolSupport": true},
    "rename": {"prepareSupport": true},
    "hover": {"contentFormat": ["markdown"]},
    "completion": {"completionItem": {"snippetSupport": false, "documentationFormat": ["markdown"]}},
    "semanticTokens": {"requests": {"full": {"delta": true}, "range": true},
                       "tokenTypes": [], "tokenModifiers": [], "formats": ["relative"]},
    "foldingRange": {"lineFoldingOnly": true},
    "inlayHint": {},
    "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix", "refactor", "refactor.rewrite", "refactor.inline", "source"]}},
                   "dataSupport": true, "resolveSupport": {"properties": ["edit"]}},
    "publishDiagnostics": {"versionSupport": true}
  }
}"#;

fn start(program: &Path, args: &[&str]) -> Server {
    let mut server = Server::start_program(program, args, &[], default_responder(Value::Null));
    let capabilities: Value = serde_json::from_str(CAPABILITIES).unwrap();
    server
        .request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": capabilities}),
        )
        .expect("initialize");
    server.notify("initialized", json!({}));
    server
}

/// (line, UTF-16 column) of the first `needle` plus `skip` characters.
fn position(text: &str, needle: &str, skip: usize) -> Value {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not found"))
        + skip;
    let line = text[..at].matches('\n').count();
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": text[start..at].encode_utf16().count()})
}

/// From `start` to when the answer's last byte was read (not parsed: the
/// test client's JSON parsing is slower than an editor's and is not the
/// server's time).
fn arrival(server: &Server, start: Instant) -> Duration {
    server
        .last_arrival
        .map_or_else(|| start.elapsed(), |at| at.saturating_duration_since(start))
}

fn stats(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p =
        |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
    (ms(p(0.5)), ms(p(0.95)))
}

/// A request's timings, or why there are none.
enum Outcome {
    Timed(f64, f64, usize),
    Unsupported,
    Failed(String),
}

fn time_request(server: &mut Server, method: &str, params: &Value, runs: usize) -> Outcome {
    // The first answer also says whether the server has the feature.
    match server.request(method, params.clone()) {
        Err(e) if e["code"] == -32601 => return Outcome::Unsupported,
        Err(e) => return Outcome::Failed(e["message"].as_str().unwrap_or("error").to_string()),
        Ok(_) => {}
    }
    let mut samples = Vec::with_capacity(runs);
    let mut size = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let answer = server.request(method, params.clone());
        samples.push(arrival(server, start));
        size = answer.map(|a| a.to_string().len()).unwrap_or(0);
    }
    let (median, p95) = stats(&mut samples);
    Outcome::Timed(median, p95, size)
}

/// The keystroke, then the tokens' delta (or full tokens, for a server
/// without deltas): what a client asks after each edit.
fn keystroke_tokens(server: &mut Server, uri: &str, text: &str, runs: usize) -> Outcome {
    let full = match server.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": uri}}),
    ) {
        Ok(full) => full,
        Err(e) if e["code"] == -32601 => return Outcome::Unsupported,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let mut previous = full["resultId"].clone();
    let at = position(text, "  vim = callPackage", 2);
    let (line, col) = (
        at["line"].as_u64().unwrap() as u32,
        at["character"].as_u64().unwrap() as u32,
    );
    let mut samples = Vec::new();
    let mut size = 0;
    for i in 0..runs {
        // Type a letter, then take it out again: the text stays the same.
        let (range, insert) = if i % 2 == 0 {
            ([line, col, line, col], "x")
        } else {
            ([line, col, line, col + 1], "")
        };
        let start = Instant::now();
        server.change(uri, i as i64 + 2, range, insert);
        let answer = if previous.is_string() {
            server.request(
                "textDocument/semanticTokens/full/delta",
                json!({"textDocument": {"uri": uri}, "previousResultId": previous}),
            )
        } else {
            server.request(
                "textDocument/semanticTokens/full",
                json!({"textDocument": {"uri": uri}}),
            )
        };
        samples.push(start.elapsed());
        match answer {
            Ok(answer) => {
                size = answer.to_string().len();
                previous = answer["resultId"].clone();
            }
            Err(e) if e["code"] == -32601 => {
                previous = Value::Null;
            }
            Err(e) => return Outcome::Failed(e.to_string()),
        }
    }
    let (median, p95) = stats(&mut samples);
    Outcome::Timed(median, p95, size)
}

struct Target<'a> {
    name: &'a str,
    text: &'a str,
    /// Where names are looked up, the range of a screen, what to rename.
    name_at: Value,
    completion_at: Value,
    rename_at: Value,
    screen: Value,
}

fn run(
    label: &str,
    program: &Path,
    args: &[&str],
    target: &Target,
    runs: usize,
) -> Vec<(String, Outcome)> {
    let mut server = start(program, args);
    let uri = file_uri(&format!("{}.nix", target.name));
    let started = Instant::now();
    server.open(&uri, 1, target.text);
    // Ready when it answers about the document.
    let _ = server.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    eprintln!("{label}: {} ready in {:?}", target.name, started.elapsed());
    let document = json!({"textDocument": {"uri": uri}});
    let at = |position: &Value| json!({"textDocument": {"uri": uri}, "position": position});
    let mut with_context = at(&target.name_at);
    with_context["context"] = json!({"includeDeclaration": true});
    let mut rename = at(&target.rename_at);
    rename["newName"] = json!("renamedName");
    let mut code_action = document.clone();
    code_action["range"] = json!({"start": target.name_at, "end": target.name_at});
    code_action["context"] = json!({"diagnostics": []});
    let mut range = document.clone();
    range["range"] = target.screen.clone();
    let mut selection = document.clone();
    selection["positions"] = json!([target.name_at]);
    let requests: Vec<(&str, &str, Value)> = vec![
        ("hover", "textDocument/hover", at(&target.name_at)),
        ("definition", "textDocument/definition", at(&target.name_at)),
        ("references", "textDocument/references", with_context),
        (
            "documentHighlight",
            "textDocument/documentHighlight",
            at(&target.name_at),
        ),
        (
            "prepareRename",
            "textDocument/prepareRename",
            at(&target.rename_at),
        ),
        ("rename", "textDocument/rename", rename),
        (
            "completion",
            "textDocument/completion",
            at(&target.completion_at),
        ),
        (
            "documentSymbol",
            "textDocument/documentSymbol",
            document.clone(),
        ),
        (
            "semanticTokens/full",
            "textDocument/semanticTokens/full",
            document.clone(),
        ),
        (
            "semanticTokens/range (a screen)",
            "textDocument/semanticTokens/range",
            range.clone(),
        ),
        (
            "foldingRange",
            "textDocument/foldingRange",
            document.clone(),
        ),
        ("selectionRange", "textDocument/selectionRange", selection),
        (
            "documentLink",
            "textDocument/documentLink",
            document.clone(),
        ),
        ("inlayHint (a screen)", "textDocument/inlayHint", range),
        ("codeAction", "textDocument/codeAction", code_action),
    ];
    let mut results = Vec::new();
    for (name, method, params) in requests {
        results.push((
            name.to_string(),
            time_request(&mut server, method, &params, runs),
        ));
    }
    if target.text.contains("  vim = callPackage") {
        results.push((
            "keystroke -> semantic tokens".to_string(),
            keystroke_tokens(&mut server, &uri, target.text, runs),
        ));
    }
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap_or_default();
    let kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    results.push((
        "peak memory (MiB)".to_string(),
        Outcome::Timed(kib as f64 / 1024.0, 0.0, 0),
    ));
    results
}

fn show(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Timed(median, p95, _) => format!("{median:>8.2} / {p95:>8.2}"),
        Outcome::Unsupported => format!("{:>19}", "not supported"),
        Outcome::Failed(why) => format!(
            "{:>19}",
            format!("failed: {}", why.chars().take(40).collect::<String>())
        ),
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let all_packages = std::fs::read_to_string(corpus::all_packages()).unwrap();
    let module = nixgen::module(&mut Rng::new(1), 2000);
    let ours = support::lsp::binary();
    let other = std::env::var_os("CIM_NIX_COMPARE").map(PathBuf::from);
    println!("server: {}", ours.display());
    if let Some(other) = &other {
        println!("compared with: {}", other.display());
    }
    let targets = [
        Target {
            name: "all-packages",
            text: &all_packages,
            name_at: position(&all_packages, "  vim = callPackage", 8),
            completion_at: position(&all_packages, "  vim = callPackage", 14),
            rename_at: position(&all_packages, "    bintools = stdenv", 4),
            screen: json!({"start": {"line": 12000, "character": 0}, "end": {"line": 12060, "character": 0}}),
        },
        Target {
            name: "module-2000",
            text: &module,
            name_at: position(&module, "cfg.enable", 0),
            completion_at: position(&module, "cfg.enable", 2),
            rename_at: position(&module, "cfg = ", 0),
            screen: json!({"start": {"line": 1000, "character": 0}, "end": {"line": 1060, "character": 0}}),
        },
    ];
    for target in &targets {
        let runs = if target.name == "all-packages" {
            30
        } else {
            100
        };
        let mine = run("cim-nix", &ours, &["lsp"], target, runs);
        let theirs = other.as_ref().map(|p| run("other", p, &[], target, runs));
        println!("\n{} (median / p95 ms)", target.name);
        println!(
            "{:<36} {:>19} {:>19}   answer size (KB)",
            "request",
            "cim-nix",
            if other.is_some() { "other" } else { "" }
        );
        let size = |outcome: &Outcome| match outcome {
            Outcome::Timed(_, _, bytes) => format!("{:.1}", *bytes as f64 / 1024.0),
            _ => "-".to_string(),
        };
        for (i, (name, outcome)) in mine.iter().enumerate() {
            let compared = theirs.as_ref().map(|t| show(&t[i].1)).unwrap_or_default();
            let sizes = match &theirs {
                Some(t) => format!("{} / {}", size(outcome), size(&t[i].1)),
                None => size(outcome),
            };
            println!("{name:<36} {} {compared}   {sizes}", show(outcome));
        }
    }
}
