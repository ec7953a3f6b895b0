//! End-to-end latency of the real server over stdio, as an editor sees it:
//! open -> diagnostics, and keystroke -> fresh diagnostics, median and p95,
//! plus the server's peak memory with all-packages.nix open.
//!
//! `cargo bench --bench lsp_latency` (builds the release binary); results
//! in doc/benchmarks.md. `CIM_NIX_COMPARE=PATH` also runs the scenarios on
//! broken text against another server (nil, built from its source) in the
//! same run. nil publishes no version and only diagnostics that changed,
//! so only scenarios whose every step changes them are run on it: opening a
//! file with an error, and a keystroke that breaks or fixes the text.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::lsp::{file_uri, Server};
use support::{corpus, nixgen, rng::Rng};

fn start() -> Server {
    start_server(None)
}

/// cim-nix, or the other server to compare with.
fn start_server(other: Option<&Path>) -> Server {
    let mut server = match other {
        None => Server::start(),
        Some(program) => Server::start_program(
            program,
            &[],
            &[],
            support::lsp::default_responder(Value::Null),
        ),
    };
    server.initialize(json!({}), Value::Null);
    server
}

/// The diagnostics of `version`: cim-nix says which version they are of;
/// another server's next publication is taken as the answer.
fn fresh_diagnostics(server: &mut Server, other: bool, uri: &str, version: i64) -> Value {
    if other {
        server.diagnostics(uri)
    } else {
        server.diagnostics_for_version(uri, version)
    }
}

fn summary(name: &str, samples: &mut [Duration]) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p =
        |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
    println!(
        "{name:<58} n={:<4} median {:>7.2} ms   p95 {:>7.2} ms   max {:>7.2} ms",
        samples.len(),
        ms(p(0.5)),
        ms(p(0.95)),
        ms(samples[samples.len() - 1])
    );
}

/// Opens `text` under fresh names `runs` times: time to its diagnostics.
fn open_latency(name: &str, text: &str, runs: usize) {
    open_latency_on(None, name, text, runs)
}

fn open_latency_on(other: Option<&Path>, name: &str, text: &str, runs: usize) {
    let mut server = start_server(other);
    let mut samples = Vec::new();
    for i in 0..runs {
        let uri = file_uri(&format!("open-{i}.nix"));
        let start = Instant::now();
        server.open(&uri, 1, text);
        server.diagnostics(&uri);
        samples.push(start.elapsed());
        server.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        );
        server.diagnostics(&uri);
    }
    summary(&format!("open -> diagnostics: {name}"), &mut samples);
}

/// (line, UTF-16 column) of a byte offset.
fn position(text: &str, at: usize) -> (u32, u32) {
    let before = &text[..at];
    let line = before.matches('\n').count() as u32;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[start..at].encode_utf16().count() as u32)
}

/// One keystroke: the text change, as offsets into the text before it.
struct Keystroke {
    at: usize,
    delete: usize,
    insert: String,
}

/// Typing `typed` at `at` in an editor that closes brackets itself.
fn typing(text: &str, at: usize, typed: &str) -> Vec<Keystroke> {
    support::typing::keystrokes(text, at, typed)
        .into_iter()
        .map(|(at, insert)| Keystroke {
            at,
            delete: 0,
            insert,
        })
        .collect()
}

/// Sends each keystroke and waits for the diagnostics of its version.
fn keystroke_latency(name: &str, text: &str, keys: &[Keystroke]) {
    let mut server = start();
    let uri = file_uri("typing.nix");
    server.open(&uri, 1, text);
    server.diagnostics(&uri);
    let mut current = text.to_string();
    let mut samples = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let version = i as i64 + 2;
        let (l1, c1) = position(&current, key.at);
        let (l2, c2) = position(&current, key.at + key.delete);
        current.replace_range(key.at..key.at + key.delete, &key.insert);
        let start = Instant::now();
        server.change(&uri, version, [l1, c1, l2, c2], &key.insert);
        server.diagnostics_for_version(&uri, version);
        samples.push(start.elapsed());
    }
    summary(
        &format!("keystroke -> fresh diagnostics: {name}"),
        &mut samples,
    );
}

/// Where typing `)` breaks `text`: after the `= ` of bindings spread over
/// the file (an editor does not close a `)` it did not open).
fn break_points(text: &str, count: usize) -> Vec<usize> {
    let mut all = Vec::new();
    let mut at = 0;
    let mut tokens = rnix::tokenize(text).peekable();
    while let Some((kind, piece)) = tokens.next() {
        at += piece.len();
        if kind == rnix::SyntaxKind::TOKEN_ASSIGN && tokens.peek().is_some_and(|t| t.1 == " ") {
            all.push(at + 1);
        }
    }
    let step = (all.len() / count).max(1);
    all.into_iter().step_by(step).skip(1).take(count).collect()
}

/// `text` with a stray `)` at its middle break point: one syntax error.
fn with_one_error(text: &str) -> String {
    let points = break_points(text, 20);
    let at = points[points.len() / 2];
    format!("{}){}", &text[..at], &text[at..])
}

/// Typing a stray `)` at each point, and deleting it: the keystroke that
/// breaks the text and the one that fixes it, timed apart.
fn break_and_fix_latency(other: Option<&Path>, name: &str, text: &str, points: &[usize]) {
    let mut server = start_server(other);
    let uri = file_uri("broken.nix");
    server.open(&uri, 1, text);
    if other.is_some() {
        // nil publishes nothing for a file without findings.
        server.try_wait_for(Duration::from_secs(5), |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
    } else {
        server.diagnostics(&uri);
    }
    let (mut breaking, mut fixing) = (Vec::new(), Vec::new());
    let mut version = 1;
    for &at in points {
        let (line, col) = position(text, at);
        version += 1;
        let start = Instant::now();
        server.change(&uri, version, [line, col, line, col], ")");
        let published = fresh_diagnostics(&mut server, other.is_some(), &uri, version);
        breaking.push(start.elapsed());
        let errors = published["diagnostics"]
            .as_array()
            .map_or(0, |d| d.iter().filter(|d| d["severity"] == 1).count());
        assert!(errors > 0, "a stray `)` is an error: {published}");
        version += 1;
        let start = Instant::now();
        server.change(&uri, version, [line, col, line, col + 1], "");
        fresh_diagnostics(&mut server, other.is_some(), &uri, version);
        fixing.push(start.elapsed());
    }
    summary(
        &format!("keystroke -> fresh diagnostics: {name}, typing `)` (breaks)"),
        &mut breaking,
    );
    summary(
        &format!("keystroke -> fresh diagnostics: {name}, deleting it (fixes)"),
        &mut fixing,
    );
}

fn peak_memory_with(text: &str) -> u64 {
    let mut server = start();
    let uri = file_uri("memory.nix");
    server.open(&uri, 1, text);
    server.diagnostics(&uri);
    for v in 2..20 {
        server.change(&uri, v, [10, 0, 10, 0], " ");
        server.diagnostics_for_version(&uri, v);
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib
}

/// `cim-nix check` over 10 MB of generated Nix, on one core and on all.
/// `CIM_NIX_CHECK_TREE=DIR` also writes the files to DIR and keeps them, to
/// time other binaries on the same input (doc/benchmarks.md).
fn check_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let kept = std::env::var_os("CIM_NIX_CHECK_TREE").map(PathBuf::from);
    let mut bytes = 0;
    for (path, text) in nixgen::tree(99, 10 << 20) {
        if let Some(kept) = &kept {
            let path = kept.join(&path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        bytes += text.len();
    }
    let binary = support::lsp::binary();
    for (name, taskset) in [("one core", true), ("two cores", false)] {
        let mut best = Duration::MAX;
        for _ in 0..5 {
            let mut command = if taskset {
                let mut c = std::process::Command::new("taskset");
                c.args(["-c", "0"]).arg(&binary);
                c
            } else {
                std::process::Command::new(&binary)
            };
            let start = Instant::now();
            let status = command
                .arg("check")
                .arg(dir.path())
                .output()
                .unwrap()
                .status;
            // 1: the generator's random names collide now and then, which
            // the correctness rules report; the run itself is what counts.
            assert!(matches!(status.code(), Some(0 | 1)), "{status}");
            best = best.min(start.elapsed());
        }
        println!(
            "check throughput, {name}: {:.1} MB in {:.0} ms = {:.1} MB/s (best of 5)",
            bytes as f64 / 1e6,
            best.as_secs_f64() * 1000.0,
            bytes as f64 / 1e6 / best.as_secs_f64()
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` asks harness-less benches too
    }
    // `cargo bench --bench lsp_latency -- check` times `check` alone.
    if std::env::args().skip(1).any(|a| a == "check") {
        check_throughput();
        return;
    }
    let all_packages = std::fs::read_to_string(corpus::all_packages()).unwrap();
    let module = nixgen::module(&mut Rng::new(1), 2000);
    let small = nixgen::home(&mut Rng::new(3));
    println!("server: {}", support::lsp::binary().display());

    open_latency("all-packages.nix (802 KB)", &all_packages, 25);
    open_latency(
        &format!("module, {} lines", module.lines().count()),
        &module,
        100,
    );
    open_latency(
        &format!("home.nix, {} lines", small.lines().count()),
        &small,
        200,
    );
    let compare = std::env::var_os("CIM_NIX_COMPARE").map(PathBuf::from);
    let module_name = format!("module, {} lines", module.lines().count());
    let servers = std::iter::once(None).chain(compare.as_deref().map(Some));
    for other in servers {
        let tag = match (other, &compare) {
            (None, None) => String::new(),
            (None, Some(_)) => " [cim-nix]".to_string(),
            (Some(p), _) => format!(" [{}]", p.file_name().unwrap_or_default().to_string_lossy()),
        };
        open_latency_on(
            other,
            &format!("all-packages.nix, one syntax error{tag}"),
            &with_one_error(&all_packages),
            25,
        );
        open_latency_on(
            other,
            &format!("{module_name}, one syntax error{tag}"),
            &with_one_error(&module),
            100,
        );
        break_and_fix_latency(
            other,
            &format!("all-packages.nix{tag}"),
            &all_packages,
            &break_points(&all_packages, 40),
        );
        break_and_fix_latency(
            other,
            &format!("{module_name}{tag}"),
            &module,
            &break_points(&module, 40),
        );
    }

    // Typing a new binding, then editing an existing one, in all-packages.nix.
    let at = all_packages[all_packages.len() / 2..]
        .find(" { };\n  ")
        .map(|i| all_packages.len() / 2 + i + " { };\n".len())
        .unwrap();
    let mut keys = typing(
        &all_packages,
        at,
        "  my-tool = python3Packages.toPythonApplication python3Packages.my-tool;\n  # a comment about it\n",
    );
    let mut typed = all_packages.clone();
    for k in &keys {
        typed.replace_range(k.at..k.at + k.delete, &k.insert);
    }
    let rename = typed.find("  vim = callPackage").unwrap() + 5;
    keys.extend((0..20).map(|i| Keystroke {
        at: rename + i,
        delete: 0,
        insert: "x".into(),
    }));
    keystroke_latency("all-packages.nix, typing a binding", &all_packages, &keys);

    // Typing a member inside braces before `vim`, which breaks the structure
    // of the rest of the file until the braces' content is complete.
    let at = all_packages.find("  vim = callPackage").unwrap();
    let keys = typing(
        &all_packages,
        at,
        "  my-tool = callPackage ../tools/my-tool { inherit (darwin) Security; };\n",
    );
    keystroke_latency(
        "all-packages.nix, typing inside braces (worst case)",
        &all_packages,
        &keys,
    );

    // The same member typed as an editor user does: a new line first, then
    // the member on it. Recovery keeps the members after the half-typed one.
    let at = all_packages.find("\n  vim = callPackage").unwrap();
    let keys = typing(
        &all_packages,
        at,
        "\n  my-tool = callPackage ../tools/my-tool { inherit (darwin) Security; };",
    );
    keystroke_latency(
        "all-packages.nix, typing a member on a new line",
        &all_packages,
        &keys,
    );

    let at = module.find("  config = mkIf cfg.enable {\n").unwrap()
        + "  config = mkIf cfg.enable {\n".len();
    let keys = typing(
        &module,
        at,
        "    networking.firewall.allowedTCPPorts = [ cfg.port ];\n    users.groups.svc = { };\n",
    );
    keystroke_latency(
        &format!(
            "module, {} lines, typing new bindings",
            module.lines().count()
        ),
        &module,
        &keys,
    );

    // Editing what is there: a default, an option's description, a name.
    let mut keys = Vec::new();
    let mut edited = module.clone();
    for (anchor, typed) in [
        ("default = ", "1"),
        ("description = ''\n        How ", "exactly "),
        ("Restart = \"on-", "x"),
    ] {
        let at = edited.find(anchor).expect("anchor") + anchor.len();
        for (i, c) in typed.chars().enumerate() {
            keys.push(Keystroke {
                at: at + i,
                delete: 0,
                insert: c.to_string(),
            });
        }
        edited.insert_str(at, typed);
    }
    let rename = edited.find("cfg.enable").expect("cfg.enable") + 4;
    for i in 0..20 {
        keys.push(Keystroke {
            at: rename + i,
            delete: 0,
            insert: "x".into(),
        });
    }
    keystroke_latency(
        &format!(
            "module, {} lines, editing values and names",
            module.lines().count()
        ),
        &module,
        &keys,
    );

    check_throughput();

    let kib = peak_memory_with(&all_packages);
    println!(
        "peak memory (VmHWM) with all-packages.nix open and edited: {:.1} MiB",
        kib as f64 / 1024.0
    );
}
