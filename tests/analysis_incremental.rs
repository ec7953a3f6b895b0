//! The analysis after an edit, given the previous analysis (whose model,
//! tree walks and word search keep what did not change), equals a fresh
//! analysis of the new text: the same findings, messages, related places
//! and fixes, in the same order. Checked after random edit sequences of
//! real and generated files, broken text included, and when the previous
//! analysis is not the last one or was made with other settings. And it
//! reuses: after an edit inside one member of all-packages.nix, nearly
//! every chunk of the tree walks comes from the previous analysis. An
//! analysis that keeps nothing for a next edit (`cim-nix check`'s) finds
//! the same too.

mod support;

use cim_nix::analysis::{self, Analysis};
use cim_nix::config::{RuleLevel, Settings};
use cim_nix::syntax::Parse;
use support::rng::{random_edit, stress_rounds, Rng};
use support::{corpus, nixgen};

/// Pieces an edit inserts: what breaks the text, what adds a duplicate,
/// shadows a name or starts a member on the same line as another, and the
/// words the rules look for.
const PIECES: &[&str] = &[
    "x",
    " ",
    "\n",
    ";",
    "{",
    "}",
    ")",
    "\"",
    "# c\n",
    " a = 1; a = 2; ",
    "lib = 1; ",
    "with lib; ",
    "let x = 1; in ",
    "rec ",
    "inherit (lib) mkIf; ",
    "fetchurl { url = \"http://x\"; sha256 = \"\"; }",
    "builtins.toPath ./x",
    "(x: f x)",
    "if a == true then b else c",
    "let in ",
    "${",
];

/// The parse and analysis of one text, kept for the next edit.
struct Version {
    text: String,
    analysis: Analysis,
}

impl Version {
    fn parse(&self) -> &Parse {
        self.analysis.parse.as_ref().expect("a parse")
    }
}

fn assert_same(incremental: &Analysis, fresh: &Analysis, context: &str) {
    let only = |a: &Analysis, b: &Analysis| -> Vec<String> {
        a.diagnostics
            .iter()
            .filter(|d| !b.diagnostics.contains(d))
            .map(|d| format!("{}@{:?}: {}", d.rule, d.range, d.message))
            .collect()
    };
    assert_eq!(
        only(incremental, fresh),
        only(fresh, incremental),
        "incremental vs fresh {context}"
    );
    assert_eq!(
        incremental.diagnostics.len(),
        fresh.diagnostics.len(),
        "number of findings {context}"
    );
    for (a, b) in incremental.diagnostics.iter().zip(&fresh.diagnostics) {
        assert_eq!(a, b, "{context}");
    }
}

/// Applies `edits` random edits to `text`; after each, analyses the new
/// text from an earlier analysis (usually the last, sometimes the one
/// before, as the server does when the last one was broken) and from
/// scratch, and compares. Returns the chunks walked and reused.
fn check_edits(name: &str, text: String, seed: u64, edits: usize) -> (usize, usize) {
    let mut rng = Rng::new(seed);
    let settings = Settings::default();
    let first = analysis::analyze(&text, None, &settings);
    let mut versions = vec![Version {
        text,
        analysis: first,
    }];
    let (mut chunks, mut reused) = (0, 0);
    for step in 0..edits {
        let last = versions.last().expect("a version");
        let (at, end, insert) = random_edit(&mut rng, &last.text, PIECES, 40);
        let mut next = last.text.clone();
        next.replace_range(at..end, insert);
        let from = if versions.len() > 1 && rng.chance(25) {
            &versions[versions.len() - 2]
        } else {
            last
        };
        let earlier = [
            (last.text.as_str(), last.parse()),
            (from.text.as_str(), from.parse()),
        ];
        let incremental =
            analysis::analyze_incremental(&next, &earlier, Some(&from.analysis), &settings);
        let fresh = analysis::analyze(&next, None, &settings);
        assert_same(
            &incremental,
            &fresh,
            &format!("after edit {step} of {name} (seed {seed}): {at}..{end} -> {insert:?}"),
        );
        // What `cim-nix check` runs keeps nothing for a next edit, and
        // finds the same.
        let once = analysis::analyze_once(&next, &settings);
        assert_same(
            &once,
            &fresh,
            &format!("analysed once, after edit {step} of {name} (seed {seed})"),
        );
        let (c, r) = incremental.rule_chunk_stats();
        chunks += c;
        reused += r;
        versions.push(Version {
            text: next,
            analysis: incremental,
        });
        if versions.len() > 2 {
            versions.remove(0);
        }
    }
    (chunks, reused)
}

#[test]
fn incremental_findings_equal_fresh_ones_on_all_packages() {
    let text = std::fs::read_to_string(corpus::all_packages()).unwrap();
    for round in 0..stress_rounds() {
        let (chunks, reused) = check_edits("all-packages.nix", text.clone(), 0xFEED + round, 30);
        // Random edits (a `{` can make the rest of the file one error)
        // still leave chunks as they were.
        assert!(reused > 0, "reused {reused} of {chunks}");
    }
}

#[test]
fn incremental_findings_equal_fresh_ones_on_generated_package_sets_and_modules() {
    for round in 0..stress_rounds() {
        let mut rng = Rng::new(round + 11);
        let set = nixgen::package_set(&mut rng, 400);
        check_edits("generated package set", set, round + 5, 80);
        let module = nixgen::module(&mut rng, 600);
        check_edits("generated module", module, round + 7, 40);
    }
}

/// Typing in one member: every tree-walk chunk but the edited one comes
/// from the previous analysis, and the findings stay those of a fresh one.
#[test]
fn typing_in_a_member_reuses_every_other_chunk() {
    let text = std::fs::read_to_string(corpus::all_packages()).unwrap();
    let at = text.find("  vim = callPackage").unwrap() + 5;
    let settings = Settings::default();
    let mut previous = analysis::analyze(&text, None, &settings);
    let mut current = text.clone();
    // Breaking and fixing the member too: `)` after its `=`.
    let keys = ["x", "y", ")", "z"];
    for (i, key) in keys.iter().enumerate() {
        let mut next = current.clone();
        next.insert_str(at + i, key);
        let parse = previous.parse.as_ref().unwrap();
        let incremental = analysis::analyze_incremental(
            &next,
            &[(current.as_str(), parse)],
            Some(&previous),
            &settings,
        );
        assert_same(
            &incremental,
            &analysis::analyze(&next, None, &settings),
            &format!("typing {key:?}"),
        );
        let (chunks, reused) = incremental.rule_chunk_stats();
        assert!(chunks > 300, "{chunks}");
        // The edited chunk, and its neighbour when the edit moves a
        // chunk boundary, in each of the three walks.
        assert!(
            reused + 9 >= chunks,
            "only {reused} of {chunks} chunks were reused"
        );
        current = next;
        previous = incremental;
    }
}

/// A previous analysis made with other rule levels is reused only where
/// the settings do not change what a walk reports.
#[test]
fn an_analysis_under_other_settings_gives_the_new_settings_findings() {
    let text = "{\n  a = { x = 1; x = 2; };\n  b = let in 1;\n  c = http://example.org;\n}\n";
    let set = format!(
        "{{\n{}}}\n",
        (0..200)
            .map(|i| format!("  p{i} = {{ x = 1; x = 2; }};\n  q{i} = http://example.org/{i};\n"))
            .collect::<String>()
    );
    for text in [text.to_string(), set] {
        let all = Settings::default();
        let mut quiet = Settings::default();
        quiet.rules.insert("duplicate-key".into(), RuleLevel::Off);
        quiet.rules.insert("uri-literal".into(), RuleLevel::Off);
        let before = analysis::analyze(&text, None, &all);
        assert!(before.diagnostics.iter().any(|d| d.rule == "duplicate-key"));
        let edited = text.replacen("p1 ", "p1x ", 1);
        let parse = before.parse.as_ref().unwrap();
        let after =
            analysis::analyze_incremental(&edited, &[(&text, parse)], Some(&before), &quiet);
        assert_same(&after, &analysis::analyze(&edited, None, &quiet), "quiet");
        assert!(!after.diagnostics.iter().any(|d| d.rule == "duplicate-key"));
        let parse = after.parse.as_ref().unwrap();
        let again = analysis::analyze_incremental(&text, &[(&edited, parse)], Some(&after), &all);
        assert_same(&again, &analysis::analyze(&text, None, &all), "all again");
    }
}
