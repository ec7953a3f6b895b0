//! Every rule against hand-annotated fixtures of real-looking Nix
//! (tests/fixtures/rules/README.md): `flagged-*.nix` must give exactly the
//! annotated findings of the folder's rule, `clean-*.nix` none; and the
//! rule's fixes, all applied, leave valid Nix without that rule's findings.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cim_nix::analysis;
use cim_nix::config::Settings;
use cim_nix::diagnostic::{registry, Diagnostic};
use cim_nix::syntax::{LineIndex, PositionEncoding};

/// (line, first column, last column + 1, rule) in characters.
type Finding = (u32, u32, u32, String);

fn fixtures() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap().flatten() {
        if !dir.path().is_dir() {
            continue;
        }
        let rule = dir.file_name().to_string_lossy().to_string();
        for file in support::corpus::nix_files_under(&dir.path()) {
            out.push((rule.clone(), file));
        }
    }
    out.sort();
    out
}

/// The findings the annotation lines of `text` expect.
fn expected(text: &str) -> BTreeSet<Finding> {
    let mut found = BTreeSet::new();
    let mut code_line = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let is_annotation = trimmed.starts_with('#')
            && trimmed[1..].trim_start().starts_with('^')
            && code_line.is_some();
        if !is_annotation {
            code_line = Some(n as u32);
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let first = chars.iter().position(|&c| c == '^').unwrap();
        let last = chars.iter().rposition(|&c| c == '^').unwrap();
        let rule: String = chars[last + 1..]
            .iter()
            .collect::<String>()
            .trim()
            .to_string();
        found.insert((code_line.unwrap(), first as u32, last as u32 + 1, rule));
    }
    found
}

fn to_finding(index: &LineIndex, text: &str, d: &Diagnostic) -> Finding {
    let start = index.line_col(d.range.start(), PositionEncoding::Utf32);
    let end = index.line_col(d.range.end(), PositionEncoding::Utf32);
    let end_col = if end.line == start.line {
        end.col
    } else {
        let line = text.lines().nth(start.line as usize).unwrap_or("");
        line.trim_end().chars().count() as u32
    };
    (start.line, start.col, end_col, d.rule.to_string())
}

/// Settings with `rule` on, even when it is off by default.
fn settings_for(rule: &str) -> Settings {
    let mut settings = Settings::default();
    if registry::OFF_BY_DEFAULT.contains(&rule) {
        settings
            .rules
            .insert(rule.to_string(), cim_nix::config::RuleLevel::Hint);
    }
    settings
}

fn findings(text: &str, rule: &str) -> Vec<Diagnostic> {
    // Through `ide`, which adds the Home Manager option findings.
    cim_nix::ide::analyze(text, &[], &settings_for(rule), Default::default())
        .diagnostics
        .into_iter()
        .filter(|d| d.rule == rule)
        .collect()
}

#[test]
fn every_rule_has_fixtures_and_a_doc_page() {
    let fixtures = fixtures();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for rule in registry::RULES {
        if matches!(
            rule.name,
            "syntax-error" | "analysis-limit" | "internal-error"
        ) {
            continue;
        }
        if rule.category == "flake" {
            // Flake rules need a flake.lock beside the file: their fixtures
            // are tests/fixtures/flakes (tests/flake_fixtures.rs).
            let listed = flake_fixture_rules();
            assert!(
                listed
                    .iter()
                    .any(|rules| rules.contains(&rule.name.to_string())),
                "{} is flagged by no fixture of tests/fixtures/flakes",
                rule.name
            );
            assert!(
                listed
                    .iter()
                    .any(|rules| !rules.contains(&rule.name.to_string())),
                "every flake fixture flags {}",
                rule.name
            );
            assert!(root.join(format!("doc/rules/{}.md", rule.name)).is_file());
            continue;
        }
        let files: Vec<_> = fixtures.iter().filter(|(r, _)| r == rule.name).collect();
        let name = |f: &&(String, PathBuf)| f.1.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            files.iter().any(|f| name(f).starts_with("flagged-")),
            "{} has no flagged fixture",
            rule.name
        );
        assert!(
            files.iter().any(|f| name(f).starts_with("clean-")),
            "{} has no clean fixture",
            rule.name
        );
        assert!(
            root.join(format!("doc/rules/{}.md", rule.name)).is_file(),
            "{} has no doc page",
            rule.name
        );
    }
}

#[test]
fn findings_match_the_annotations() {
    let mut failures = Vec::new();
    let mut annotated = 0;
    for (rule, path) in fixtures() {
        let text = std::fs::read_to_string(&path).unwrap();
        let index = LineIndex::new(&text);
        let want: BTreeSet<Finding> = expected(&text)
            .into_iter()
            .filter(|f| f.3 == rule)
            .collect();
        annotated += want.len();
        let got: BTreeSet<Finding> = findings(&text, &rule)
            .iter()
            .map(|d| to_finding(&index, &text, d))
            .collect();
        let is_clean = path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("clean-");
        if is_clean {
            assert!(want.is_empty(), "{} is clean but annotated", path.display());
        }
        if want != got {
            let show = |s: &BTreeSet<Finding>| {
                s.iter()
                    .map(|f| format!("    {}:{}-{} {}", f.0 + 1, f.1, f.2, f.3))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let missing: BTreeSet<_> = want.difference(&got).cloned().collect();
            let extra: BTreeSet<_> = got.difference(&want).cloned().collect();
            failures.push(format!(
                "{}:\n  missing:\n{}\n  unexpected:\n{}",
                path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
                    .unwrap()
                    .display(),
                show(&missing),
                show(&extra)
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert!(
        annotated >= 80,
        "only {annotated} annotated findings were read"
    );
}

#[test]
fn fixes_leave_valid_nix_without_the_finding() {
    for (rule, path) in fixtures() {
        let text = std::fs::read_to_string(&path).unwrap();
        if findings(&text, &rule).iter().all(|d| d.fix.is_none()) {
            continue;
        }
        let fixed = analysis::fix_all(&text, &Settings::default(), &|d| d.rule == rule);
        let after = analysis::analyze(&fixed, None, &Settings::default());
        let syntax: Vec<_> = after
            .diagnostics
            .iter()
            .filter(|d| d.rule == "syntax-error")
            .collect();
        assert!(
            syntax.is_empty(),
            "{}: fixing left {syntax:?}\n{fixed}",
            path.display()
        );
        let left: Vec<_> = after
            .diagnostics
            .iter()
            .filter(|d| d.rule == rule && d.fix.is_some())
            .collect();
        assert!(
            left.is_empty(),
            "{}: still {left:?} after fixing:\n{fixed}",
            path.display()
        );
    }
}

#[test]
fn rules_on_two_threads_find_what_one_thread_finds() {
    let text = std::fs::read_to_string(support::corpus::all_packages()).unwrap();
    let parse = cim_nix::syntax::parse(&text);
    let settings = Settings::default();
    let root = parse.syntax().unwrap();
    let model = analysis::semantic::SemanticModel::build(&root);
    let one = analysis::rules::check(&root, &text, &model, &settings);
    let two = analysis::rules::analyze_tree(
        parse.green().unwrap(),
        &text,
        &[],
        &settings,
        Default::default(),
    )
    .found;
    assert!(!one.is_empty());
    assert_eq!(one, two);
}

/// The rules each flake fixture expects, one list per fixture.
fn flake_fixture_rules() -> Vec<Vec<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flakes");
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("expected.json")).ok())
        .map(|text| {
            let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
            expected["diagnostics"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d[0].as_str().map(String::from))
                .collect()
        })
        .collect()
}
