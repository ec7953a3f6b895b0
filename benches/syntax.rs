//! Parse + line index + syntax diagnostics, full and incremental, on
//! nixpkgs' all-packages.nix and on generated realistic Nix.
//!
//! `cargo bench --bench syntax`; results in doc/benchmarks.md.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{black_box, Criterion};

use cim_nix::analysis;
use cim_nix::config::Settings;
use cim_nix::syntax::{self, LineIndex};
use support::{corpus, nixgen, rng::Rng};

// mimalloc is the global allocator (installed by the alejandra crate), as in
// the binary.

/// The text with `insert` typed at the first occurrence of `at`.
fn typed(text: &str, at: &str, insert: &str) -> String {
    let i = text.find(at).expect("anchor") + at.len();
    let mut s = text.to_string();
    s.insert_str(i, insert);
    s
}

fn bench_file(c: &mut Criterion, name: &str, text: &str, anchor: &str) {
    let settings = Settings::default();
    let mut group = c.benchmark_group(name);
    group.sample_size(30);
    group.bench_function("parse", |b| b.iter(|| syntax::parse(black_box(text))));
    group.bench_function("rnix parse alone", |b| {
        b.iter(|| rnix::Root::parse(black_box(text)))
    });
    group.bench_function("cim-nix parser alone (text without errors)", |b| {
        b.iter(|| syntax::parse_valid(black_box(text)))
    });
    group.bench_function("parse on one thread", |b| {
        b.iter(|| syntax::parse_sequential(black_box(text)))
    });
    // A stray `)` after the anchor: one syntax error, which our parser
    // recovers from as rnix does.
    let broken = typed(text, anchor, ")");
    group.bench_function("parse, one syntax error", |b| {
        b.iter(|| syntax::parse(black_box(&broken)))
    });
    group.bench_function("rnix parse alone, one syntax error", |b| {
        b.iter(|| rnix::Root::parse(black_box(&broken)))
    });
    group.bench_function("nesting check", |b| {
        b.iter(|| syntax::guard::check_nesting(black_box(text)))
    });
    group.bench_function("line_index", |b| b.iter(|| LineIndex::new(black_box(text))));
    let parsed = syntax::parse(text);
    if let Some(root) = parsed.syntax() {
        group.bench_function("semantic model", |b| {
            b.iter(|| analysis::semantic::SemanticModel::build(black_box(&root)))
        });
        group.bench_function("semantic model + all rules", |b| {
            b.iter(|| {
                let model = analysis::semantic::SemanticModel::build(black_box(&root));
                analysis::rules::check(&root, text, &model, &settings).len()
            })
        });
    }
    // The model after a keystroke in one member: from the previous model
    // (its unchanged chunks spliced in), and from scratch.
    let keyed = typed(text, anchor, "x");
    let keyed_parse = syntax::reparse(&parsed, text, &keyed);
    if let (Some(old), Some(new)) = (parsed.green(), keyed_parse.green()) {
        let previous = analysis::semantic::SemanticModel::from_green(old);
        group.bench_function("semantic model after a keystroke, from the previous", |b| {
            b.iter(|| {
                analysis::semantic::SemanticModel::from_green_after(black_box(new), Some(&previous))
            })
        });
        group.bench_function("semantic model after a keystroke, from scratch", |b| {
            b.iter(|| analysis::semantic::SemanticModel::from_green(black_box(new)))
        });
    }
    group.bench_function("open: parse + line index + diagnostics", |b| {
        b.iter(|| {
            let analysis = analysis::analyze(black_box(text), None, &settings);
            (LineIndex::new(text), analysis.diagnostics.len())
        })
    });
    let old = syntax::parse(text);
    // A keystroke inside an identifier, one that breaks a binding, one that
    // adds whitespace: each reparsed from the previous tree.
    for (what, new_text) in [
        ("keystroke: identifier", typed(text, anchor, "x")),
        ("keystroke: breaks a binding", typed(text, anchor, " =")),
        ("keystroke: whitespace", typed(text, anchor, " ")),
    ] {
        group.bench_function(what, |b| {
            b.iter(|| {
                let analysis =
                    analysis::analyze(black_box(&new_text), Some((text, &old)), &settings);
                (LineIndex::new(&new_text), analysis.diagnostics.len())
            })
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    let all_packages = std::fs::read_to_string(corpus::all_packages()).expect("all-packages.nix");
    // Near the end of the file, in the binding of `vim`.
    bench_file(
        c,
        "all-packages.nix",
        &all_packages,
        "  vim = callPackage ../applications/editors/vim",
    );
    let module = nixgen::module(&mut Rng::new(1), 2000);
    bench_file(c, "module-2000-lines", &module, "    description = ");
    let small = nixgen::home(&mut Rng::new(3));
    bench_file(c, "home-50-lines", &small, "userName = ");
}

/// Runs on a thread with the analysis worker's stack, so that parsing
/// measures what the server does (on a small stack the parse guard would
/// map a fresh stack segment for every parse).
fn main() {
    let worker = std::thread::Builder::new().stack_size(256 << 20).spawn(|| {
        let mut criterion = Criterion::default().configure_from_args();
        benches(&mut criterion);
        criterion.final_summary();
    });
    worker
        .expect("start the bench thread")
        .join()
        .expect("benches ran");
}
