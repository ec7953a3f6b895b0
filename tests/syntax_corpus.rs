//! The parser on real Nix: rnix's golden trees, the guards, and incremental
//! reparsing checked against full parses after thousands of random edits.

mod support;

use cim_nix::syntax::{self, Parse};
use support::corpus;
use support::rng::Rng;

fn same(a: &Parse, b: &Parse) -> bool {
    a.green() == b.green() && a.errors() == b.errors()
}

#[test]
fn trees_match_rnix_golden_files() {
    let files = corpus::rnix_test_data();
    assert!(files.len() > 100, "found {} files", files.len());
    let mut compared = 0;
    for nix in &files {
        let expect = nix.with_extension("expect");
        let Ok(expected) = std::fs::read_to_string(&expect) else {
            continue;
        };
        let mut text = std::fs::read_to_string(nix).unwrap();
        // rnix's own test strips one final newline before parsing.
        if text.ends_with('\n') {
            text.pop();
        }
        if expect.components().any(|c| c.as_os_str() == "tokenizer") {
            continue; // token lists, not trees
        }
        let dump = syntax::parse(&text).debug_dump();
        // The golden files end with the tree; rnix's own test prints errors first.
        assert!(
            expected.trim_end().ends_with(dump.trim_end()),
            "{}: tree differs\n--- ours\n{dump}\n--- expected\n{expected}",
            nix.display()
        );
        compared += 1;
    }
    assert!(compared > 80, "compared {compared}");
}

#[test]
fn all_packages_parses_without_errors() {
    let text = std::fs::read_to_string(corpus::all_packages()).unwrap();
    assert_eq!(text.len(), 802_667);
    let parse = syntax::parse(&text);
    assert!(
        parse.errors().is_empty(),
        "{:?}",
        &parse.errors()[..3.min(parse.errors().len())]
    );
    assert_eq!(parse.syntax().unwrap().to_string(), text);
}

/// Small pieces of Nix that typing produces, valid or not.
const SNIPPETS: &[&str] = &[
    "a",
    "x",
    "1",
    " ",
    "\n",
    ";",
    "=",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "\"",
    "''",
    "${",
    "#",
    "/*",
    "*/",
    ".",
    ",",
    ":",
    "?",
    "@",
    "++",
    "//",
    "-",
    "!",
    "in",
    "let",
    "rec",
    "inherit",
    "or",
    "foo = bar;",
    " = 1;",
    "{ }",
    "[ ]",
    "pkgs.hello",
    "callPackage ./x.nix { }",
    "\"str\"",
    "if a then b else c",
    "x: x",
    "{ a, b ? 1, ... }:",
    "# comment\n",
    "with pkgs;",
];

/// Applies a random edit to `text`, like a person typing or deleting.
fn random_edit(rng: &mut Rng, text: &mut String) {
    let mut at = rng.below(text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let mut end = (at + rng.below(12)).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    match rng.below(3) {
        0 => text.insert_str(at, *rng.pick(SNIPPETS)),
        1 => text.replace_range(at..end, ""),
        _ => text.replace_range(at..end, *rng.pick(SNIPPETS)),
    }
}

/// Chains of edits: after each, reparsing the previous parse must give the
/// same tree and errors as parsing from scratch.
fn check_random_edits(text: &str, seed: u64, edits: usize) -> usize {
    let mut rng = Rng::new(seed);
    let mut current = text.to_string();
    let mut parse = syntax::parse(&current);
    let mut mismatches = 0;
    for _ in 0..edits {
        let mut next = current.clone();
        random_edit(&mut rng, &mut next);
        let incremental = syntax::reparse(&parse, &current, &next);
        let full = syntax::parse(&next);
        if !same(&incremental, &full) {
            mismatches += 1;
            eprintln!("mismatch after editing into:\n{next}\n---");
        }
        // Go on from the file as edited, as an editor does; now and then
        // start over so errors do not pile up for ever.
        current = if rng.chance(5) {
            text.to_string()
        } else {
            next
        };
        parse = syntax::parse(&current);
    }
    mismatches
}

#[test]
fn reparse_equals_full_parse_on_rnix_test_data() {
    let mut mismatches = 0;
    for (i, file) in corpus::rnix_test_data().iter().enumerate() {
        let text = std::fs::read_to_string(file).unwrap();
        mismatches += check_random_edits(&text, i as u64 + 1, 40);
    }
    assert_eq!(mismatches, 0);
}

#[test]
fn reparse_equals_full_parse_on_all_packages() {
    let text = std::fs::read_to_string(corpus::all_packages()).unwrap();
    // Edit one 8 KB region at a time so the test stays fast; reparse works
    // on the whole file.
    let mut rng = Rng::new(42);
    let mut mismatches = 0;
    let mut current = text.clone();
    let mut parse = syntax::parse(&current);
    for _ in 0..150 {
        let mut next = current.clone();
        random_edit(&mut rng, &mut next);
        let incremental = syntax::reparse(&parse, &current, &next);
        let full = syntax::parse(&next);
        if !same(&incremental, &full) {
            mismatches += 1;
        }
        current = next;
        parse = full;
    }
    assert_eq!(mismatches, 0);
}

#[test]
fn hostile_inputs_parse_without_crashing() {
    let plus = "1 + ".repeat(200_000) + "1";
    let lists = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let parens = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    let sets = format!("{}1{}", "{a=".repeat(100_000), ";}".repeat(100_000));
    let nots = format!("{}true", "!".repeat(100_000));
    let apply = format!("f{}", " x".repeat(100_000));
    for text in [&plus, &lists, &parens, &sets, &nots, &apply] {
        let start = std::time::Instant::now();
        let parse = syntax::parse(text);
        assert!(!parse.errors().is_empty(), "{}", &text[..10]);
        assert!(
            start.elapsed().as_secs() < 5,
            "{} took {:?}",
            &text[..10],
            start.elapsed()
        );
    }
}
