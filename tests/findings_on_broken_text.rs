//! Findings while the text is broken, as an editor holds it while someone
//! types. Real files are broken one keystroke at a time (a stray `)` or
//! `(`, a `;` or `=` taken out, half a name typed), and the findings of the
//! broken text are compared with those of the whole text:
//!
//! - **no false finding:** every finding outside the broken part (the
//!   error nodes and the text typed) is one the whole text has too, same
//!   rule, same place;
//! - **the rest stays:** on all-packages.nix, a broken binding withholds
//!   next to nothing of the findings in the other 10 000.

mod support;

use std::collections::HashSet;

use cim_nix::analysis;
use cim_nix::config::Settings;
use rnix::SyntaxKind::*;
use rowan::{TextRange, TextSize};
use support::corpus;
use support::rng::Rng;

/// Findings but the parse's own, as (rule, range).
fn findings(text: &str) -> (Vec<(&'static str, TextRange)>, Vec<TextRange>) {
    let analysis = analysis::analyze(text, None, &Settings::default());
    let parse = analysis.parse.as_ref().expect("a tree");
    let root = parse.syntax().expect("a tree");
    let mut broken: Vec<TextRange> = root
        .descendants()
        .filter(|n| n.kind() == NODE_ERROR)
        .map(|n| n.text_range())
        .collect();
    broken.extend(parse.errors().iter().map(|e| e.range));
    let found = analysis
        .diagnostics
        .iter()
        .filter(|d| !matches!(d.rule, "syntax-error" | "analysis-limit"))
        .map(|d| (d.rule, d.range))
        .collect();
    (found, broken)
}

/// One keystroke that breaks `text`, at a token boundary: where, what is
/// taken out, what is typed.
fn keystroke(rng: &mut Rng, text: &str) -> Option<(usize, usize, &'static str)> {
    let mut tokens = Vec::new();
    let mut at = 0;
    for (kind, piece) in rnix::tokenize(text) {
        tokens.push((kind, at, piece.len()));
        at += piece.len();
    }
    let candidates: Vec<_> = tokens
        .iter()
        .filter(|(k, _, _)| !matches!(k, TOKEN_WHITESPACE | TOKEN_COMMENT))
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let &&(kind, at, len) = rng.pick(&candidates);
    Some(match rng.below(5) {
        0 => (at, 0, ")"),
        1 => (at, 0, "("),
        2 if matches!(kind, TOKEN_SEMICOLON | TOKEN_ASSIGN) => (at, len, ""),
        3 => (at, 0, "= "),
        _ => (at, 0, "x "),
    })
}

/// Checks one broken variant; returns how many of the whole text's
/// findings outside the broken part it kept, and how many there were.
fn compare(
    text: &str,
    clean: &[(&'static str, TextRange)],
    edit: (usize, usize, &str),
    what: &str,
) -> (usize, usize) {
    let (at, deleted, typed) = edit;
    let broken_text = format!("{}{}{}", &text[..at], typed, &text[at + deleted..]);
    let (found, broken) = findings(&broken_text);
    if broken.is_empty() {
        return (0, 0); // still valid Nix: not what this test is about
    }
    let at = TextSize::from(at as u32);
    let typed_range = TextRange::at(at, TextSize::of(typed));
    let grown = TextSize::of(typed);
    let shrunk = TextSize::from(deleted as u32);
    // Where a range of the broken text was in the whole text.
    let back = |r: TextRange| -> Option<TextRange> {
        if r.end() <= at {
            Some(r)
        } else if r.start() >= at + grown {
            Some(TextRange::new(
                r.start() - grown + shrunk,
                r.end() - grown + shrunk,
            ))
        } else {
            None
        }
    };
    let near_break = |r: TextRange| {
        r.intersect(typed_range).is_some() || broken.iter().any(|b| r.intersect(*b).is_some())
    };
    let clean_set: HashSet<_> = clean.iter().copied().collect();
    let mut kept = 0;
    for &(rule, range) in &found {
        if near_break(range) {
            continue;
        }
        let Some(original) = back(range) else {
            continue;
        };
        assert!(
            clean_set.contains(&(rule, original)),
            "{what}: `{rule}` at {range:?} is not a finding of the whole text\n--- broken text:\n{broken_text}"
        );
        kept += 1;
    }
    let outside = clean
        .iter()
        .filter(|(_, r)| {
            let deleted = TextRange::at(at, shrunk);
            r.end() <= at || r.start() >= deleted.end()
        })
        .count();
    (kept, outside)
}

fn corpus_texts() -> Vec<(String, String)> {
    let mut files = corpus::rnix_test_data();
    files.extend(corpus::nixpkgs_fmt_pairs().into_iter().map(|p| p.1));
    files.extend(corpus::alejandra_pairs().into_iter().map(|p| p.1));
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    files.extend(corpus::nix_files_under(&root.join("examples")));
    files.extend(corpus::nix_files_under(&root.join("tests/fixtures")));
    let mut texts: Vec<(String, String)> = files
        .iter()
        .filter_map(|f| Some((f.display().to_string(), std::fs::read_to_string(f).ok()?)))
        .filter(|(_, t)| t.len() < 40_000)
        .collect();
    texts.extend(support::nixgen::tree(17, 200_000));
    // More real Nix to break, for a longer run: `CIM_NIX_EXTRA_CORPUS=DIR`
    // (a clone of nixpkgs, home-manager, ... in scratch space).
    if let Some(dir) = std::env::var_os("CIM_NIX_EXTRA_CORPUS") {
        let files = corpus::nix_files_under(std::path::Path::new(&dir));
        texts.extend(
            files
                .iter()
                .filter_map(|f| Some((f.display().to_string(), std::fs::read_to_string(f).ok()?)))
                .filter(|(_, t)| t.len() < 40_000),
        );
    }
    texts
}

#[test]
fn broken_text_never_gives_a_finding_the_whole_text_has_not() {
    let mut rng = Rng::new(5);
    let rounds = 3 * support::rng::stress_rounds();
    let mut checked = 0;
    let (mut kept, mut outside) = (0, 0);
    for (name, text) in corpus_texts() {
        let (clean, errors) = findings(&text);
        if !errors.is_empty() || clean.is_empty() {
            continue;
        }
        for _ in 0..rounds {
            let Some(edit) = keystroke(&mut rng, &text) else {
                continue;
            };
            let (k, o) = compare(&text, &clean, edit, &name);
            kept += k;
            outside += o;
            checked += 1;
        }
    }
    eprintln!("{checked} broken variants; kept {kept} of {outside} findings outside the break");
    assert!(checked > 500, "{checked}");
    // The withholding is not "withhold everything". Most of these files
    // are small modules, one lambda around everything, so its unused
    // arguments and everything that reaches its scope wait; a fifth of the
    // findings stay (the big file below keeps nearly all).
    assert!(kept * 8 > outside, "kept {kept} of {outside}");
}

#[test]
fn a_broken_binding_in_all_packages_keeps_the_other_findings() {
    let text = std::fs::read_to_string(corpus::all_packages()).unwrap();
    let (clean, _) = findings(&text);
    assert!(clean.len() > 150, "{}", clean.len());
    // A stray `)` after the `= ` of bindings across the file.
    let points: Vec<usize> = text
        .match_indices("= callPackage")
        .map(|(i, _)| i + 2)
        .step_by(500)
        .collect();
    assert!(points.len() > 5);
    for at in points {
        let (kept, outside) = compare(&text, &clean, (at, 0, ")"), "all-packages");
        // Only findings whose scope is the whole file's (the `with pkgs;`
        // the broken binding is in) may be withheld: a handful.
        assert!(kept + 8 >= outside, "at {at}: kept {kept} of {outside}");
    }
}
