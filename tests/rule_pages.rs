//! Every rule page's examples, run through `cim-nix check`: the "Bad"
//! example gives exactly the findings of the page's rule that the page
//! prints under it, and the "Good" example none of that rule. A page that
//! drifts from what the rule reports fails here.

mod support;

use std::path::Path;
use std::process::Command;

use cim_nix::diagnostic::registry;

/// The first ```nix block after `heading`, and the `` `L:C: ...` `` lines
/// that follow it (before the next heading).
fn example(page: &str, heading: &str) -> Option<(String, Vec<String>)> {
    let at = page.find(heading)?;
    let rest = &page[at..];
    let open = rest.find("```nix\n")? + "```nix\n".len();
    let close = rest[open..].find("\n```")? + open;
    let code = rest[open..close].to_string() + "\n";
    let after = &rest[close + 4..];
    let section_end = after.find("\n## ").unwrap_or(after.len());
    let lines = after[..section_end]
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('`') && l.ends_with('`') && l.len() > 2)
        .map(|l| l[1..l.len() - 1].to_string())
        .filter(|l| {
            l.split(':')
                .next()
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .collect();
    Some((code, lines))
}

/// `cim-nix check` of `code` as a file of its own (`flake.nix` when it is
/// a flake), with `rule` on: the `L:C: severity[rule]: message` lines of
/// that rule.
fn run(code: &str, rule: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let name = if code.contains("outputs") && code.contains("inputs") {
        "flake.nix"
    } else {
        "example.nix"
    };
    std::fs::write(dir.path().join(name), code).unwrap();
    if registry::OFF_BY_DEFAULT.contains(&rule) {
        std::fs::write(
            dir.path().join("cim-nix.toml"),
            format!("[rules]\n{rule} = \"hint\"\n"),
        )
        .unwrap();
    }
    let out = Command::new(support::lsp::binary())
        .arg("check")
        .arg(name)
        .current_dir(dir.path())
        .output()
        .expect("run cim-nix check");
    let tag = format!("[{rule}]:");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.contains(&tag))
        .map(|l| l.split_once(':').map_or(l, |(_, rest)| rest).to_string())
        .collect()
}

#[test]
fn bad_examples_give_the_printed_findings_and_good_ones_none() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("doc/rules");
    let mut checked = 0;
    let mut failures = Vec::new();
    for rule in registry::RULES {
        let Ok(page) = std::fs::read_to_string(root.join(format!("{}.md", rule.name))) else {
            continue;
        };
        let Some((bad, printed)) = example(&page, "## Bad") else {
            continue;
        };
        let tag = format!("[{}]:", rule.name);
        let mut expected: Vec<String> = printed.into_iter().filter(|l| l.contains(&tag)).collect();
        if expected.is_empty() {
            continue;
        }
        let mut found = run(&bad, rule.name);
        expected.sort();
        found.sort();
        if found != expected {
            failures.push(format!(
                "{}: the Bad example gives\n  {}\nbut the page prints\n  {}",
                rule.name,
                found.join("\n  "),
                expected.join("\n  ")
            ));
        }
        if let Some((good, _)) = example(&page, "## Good") {
            let left = run(&good, rule.name);
            if !left.is_empty() {
                failures.push(format!(
                    "{}: the Good example gives\n  {}",
                    rule.name,
                    left.join("\n  ")
                ));
            }
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
    assert!(checked >= 50, "only {checked} pages have a checked example");
}
