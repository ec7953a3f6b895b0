//! The Home Manager model against hand-written expectations
//! (tests/fixtures/home/README.md explains the format).

use std::path::Path;

use cim_nix::home::{self, Unit};
use cim_nix::syntax;
use serde_json::{json, Map, Value};

fn units(units: &std::collections::BTreeMap<String, Unit>) -> Value {
    units
        .iter()
        .map(|(name, unit)| {
            (
                name.clone(),
                json!({"enabled": unit.enabled, "keys": unit.keys.iter().collect::<Vec<_>>()}),
            )
        })
        .collect::<Map<_, _>>()
        .into()
}

#[test]
fn every_home_fixture_matches_its_expectation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/home");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "nix"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 8, "only {} home fixtures", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let text = std::fs::read_to_string(case).unwrap();
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(case.with_extension("expected.json")).unwrap(),
        )
        .unwrap();
        let parse = syntax::parse(&text);
        assert!(
            parse.errors().is_empty(),
            "{}: {:?}",
            case.display(),
            parse.errors()
        );
        // Detection reads the text only; no other file names these.
        let model = home::read(&parse.syntax().unwrap(), false);
        let got = json!({
            "is_home_manager": model.is_home_manager,
            "state_version": model.state.state_version,
            "programs": units(&model.state.programs),
            "services": units(&model.state.services),
            "packages": model.state.packages,
        });
        for key in [
            "is_home_manager",
            "state_version",
            "programs",
            "services",
            "packages",
        ] {
            if got[key] != expected[key] {
                failures.push(format!(
                    "{} {key}:\n  expected {}\n  got      {}",
                    case.display(),
                    expected[key],
                    got[key]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
