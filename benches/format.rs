//! Formatting latency per style: in process against spawning a CLI, on a
//! 200-line and a 500-line module and on all-packages.nix; the minimal-edit
//! diff; and format-on-save through the real server.
//!
//! `cargo bench --bench format`; results in doc/benchmarks.md. Finds the
//! nixpkgs-fmt CLI on PATH or in /opt/fmt-cli/bin when installed
//! (`cargo install --root /opt/fmt-cli nixpkgs-fmt --version 1.3.0`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use cim_nix::format::{self, format_in_groups, minimal_edits, FormatOptions, Style};
use support::lsp::{file_uri, Server};
use support::{corpus, nixgen, rng::Rng};

fn report(name: &str, samples: &mut [Duration]) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at =
        |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
    println!(
        "{name:<62} n={:<4} median {:>9.2} ms   p95 {:>9.2} ms",
        samples.len(),
        ms(at(0.5)),
        ms(at(0.95)),
    );
}

fn time(name: &str, runs: usize, mut f: impl FnMut()) {
    f(); // warm up
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    report(name, &mut samples);
}

/// The text with every line's indentation removed: every line needs work.
fn unindented(text: &str) -> String {
    text.lines()
        .map(|l| l.trim_start().to_string() + "\n")
        .collect()
}

fn run_cli(program: &Path, args: &[&str], input: &str) -> String {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the CLI");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("CLI output");
    let _ = writer.join();
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn nixpkgs_fmt_cli() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/opt/fmt-cli/bin")])
        .map(|d| d.join("nixpkgs-fmt"))
        .find(|p| p.is_file())
}

/// Format-on-save as an editor does it, `runs` times: an edit (a space at
/// the start of a line), its diagnostics, `pause`, then the formatting
/// request; timed from request to reply. The formatting of a document the
/// client has formatted before is prepared 30 ms after its analysis, of one
/// it has not 250 ms after (`server::formatting::Prepared`); the first
/// save is timed both right after opening and after a 300 ms pause.
fn format_on_save(name: &str, style: Style, text: &str, runs: usize, pause: Duration) {
    let mut server = Server::start();
    server.initialize(json!({}), json!({"formatting": {"style": style.name()}}));
    let paused = file_uri("first.nix");
    server.open(&paused, 1, text);
    server.diagnostics(&paused);
    std::thread::sleep(Duration::from_millis(300));
    let params =
        json!({"textDocument": {"uri": paused}, "options": {"tabSize": 2, "insertSpaces": true}});
    let start = Instant::now();
    server
        .request("textDocument/formatting", params)
        .expect("formats");
    let first_after_pause = start.elapsed();
    let uri = file_uri("module.nix");
    server.open(&uri, 1, text);
    server.diagnostics(&uri);
    let params =
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}});
    let start = Instant::now();
    server
        .request("textDocument/formatting", params.clone())
        .expect("formats");
    let first = start.elapsed();
    let lines = text.lines().count();
    let mut samples = Vec::new();
    for i in 0..runs {
        let version = i as i64 + 2;
        let line = ((7 + 13 * i) % (lines - 1)) as u32;
        server.change(&uri, version, [line, 0, line, 0], " ");
        server.diagnostics_for_version(&uri, version);
        std::thread::sleep(pause);
        let start = Instant::now();
        let edits = server
            .request("textDocument/formatting", params.clone())
            .expect("formats");
        samples.push(start.elapsed());
        assert!(edits.as_array().is_some_and(|e| !e.is_empty()));
    }
    report(
        &format!(
            "format-on-save over LSP, {name}, {style}, saved {} ms after the edit's diagnostics",
            pause.as_millis()
        ),
        &mut samples,
    );
    println!(
        "    (a document's first save: right after opening {:.2} ms, 300 ms after {:.2} ms)",
        first.as_secs_f64() * 1000.0,
        first_after_pause.as_secs_f64() * 1000.0
    );
    let _ = server.request("shutdown", Value::Null);
}

/// Every 50th line unindented and its spaces around `=` squeezed out.
fn a_few_lines_out_of_place(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i % 50 == 25 {
                l.trim_start().replace(" = ", "=") + "\n"
            } else {
                l.to_string() + "\n"
            }
        })
        .collect()
}

/// What the server does for a formatting request, without the protocol.
fn pipeline(style: Style, text: &str) {
    let parse = cim_nix::syntax::parse(text);
    let formatter = format::formatter(style, &FormatOptions::default());
    let out =
        format::format_text(text, &parse, formatter.as_ref(), |o| o.to_string()).expect("formats");
    minimal_edits(text, &out);
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let options = FormatOptions::default();
    let all_packages = std::fs::read_to_string(corpus::all_packages()).expect("all-packages.nix");
    let module_200 = unindented(&nixgen::module(&mut Rng::new(7), 200));
    let module_500 = unindented(&nixgen::module(&mut Rng::new(8), 500));
    let files = [
        (
            format!("{}-line module", module_200.lines().count()),
            &module_200,
            200,
        ),
        (
            format!("{}-line module", module_500.lines().count()),
            &module_500,
            100,
        ),
        ("all-packages.nix".to_string(), &all_packages, 5),
    ];

    println!("# in process");
    for (name, text, runs) in &files {
        for style in [Style::NixpkgsFmt, Style::Alejandra] {
            let formatter = format::formatter(style, &options);
            time(&format!("{name}, {style}"), *runs, || {
                formatter.format(text).expect("formats");
            });
        }
    }
    for (name, text, runs) in &files[..2] {
        time(
            &format!("{name}, nixpkgs-fmt whole, one core"),
            *runs,
            || {
                format_in_groups(text, usize::MAX, 1).expect("formats");
            },
        );
        time(
            &format!("{name}, nixpkgs_fmt::reformat_string alone"),
            *runs,
            || {
                nixpkgs_fmt::reformat_string(text);
            },
        );
        time(
            &format!("{name}, alejandra::format::in_memory alone"),
            *runs,
            || {
                alejandra::format::in_memory(String::new(), text.to_string());
            },
        );
        time(&format!("{name}, parse (rnix 0.15)"), *runs, || {
            cim_nix::syntax::parse(text);
        });
    }
    time(
        "all-packages.nix, nixpkgs-fmt whole file (no groups)",
        2,
        || {
            format_in_groups(&all_packages, usize::MAX, 1).expect("formats");
        },
    );
    for (name, text, runs) in &files {
        let formatted = format::formatter(Style::NixpkgsFmt, &options)
            .format(text)
            .expect("formats");
        time(&format!("minimal edits, {name}"), *runs, || {
            minimal_edits(text, &formatted);
        });
    }

    println!("# spawning a CLI");
    let ours = support::lsp::binary();
    let cli = nixpkgs_fmt_cli();
    for (name, text, runs) in &files {
        let runs = (*runs).min(20);
        if let Some(cli) = &cli {
            time(
                &format!("{name}, nixpkgs-fmt 1.3.0 CLI"),
                runs.min(if text.len() > 100_000 { 2 } else { 20 }),
                || {
                    run_cli(cli, &[], text);
                },
            );
        }
        for style in [Style::NixpkgsFmt, Style::Alejandra] {
            time(
                &format!("{name}, cim-nix fmt --style {style} -"),
                runs,
                || {
                    run_cli(&ours, &["fmt", "--style", style.name(), "-"], text);
                },
            );
        }
    }
    if cli.is_none() {
        println!("(nixpkgs-fmt CLI not installed; skipped)");
    }

    println!("# through the server");
    for style in [Style::NixpkgsFmt, Style::Alejandra] {
        // The usual save: a formatted file with a few lines out of place.
        let formatted = format::formatter(style, &options)
            .format(&module_500)
            .expect("formats");
        let touched = a_few_lines_out_of_place(&formatted);
        let name = format!(
            "{}-line module, 10 lines out of place",
            touched.lines().count()
        );
        time(
            &format!("in process: format + check + edits, {name}, {style}"),
            100,
            || {
                pipeline(style, &touched);
            },
        );
        // Saved at once: the formatting is done on request, from the
        // analysis' parse.
        format_on_save(&name, style, &touched, 60, Duration::ZERO);
        // Saved a moment after typing stopped: prepared.
        format_on_save(&name, style, &touched, 60, Duration::from_millis(100));
        // The worst: every line's indentation gone, saved at once.
        format_on_save(&files[1].0, style, &module_500, 40, Duration::ZERO);
    }
}
