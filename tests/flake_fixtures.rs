//! The flake model and findings against hand-written expectations
//! (tests/fixtures/flakes/README.md explains the format).

use std::path::Path;

use cim_nix::flake::{self, FlakeLock, FlakeModel, InputRef, LockState};
use cim_nix::syntax::{self, LineIndex, PositionEncoding};
use serde_json::{json, Value};

fn model_json(model: &FlakeModel) -> Value {
    let inputs: Vec<Value> = model
        .inputs
        .iter()
        .map(|i| {
            json!({
                "name": i.name, "url": i.url, "flake": i.flake, "follows": i.follows,
                "inputs": i.inputs,
            })
        })
        .collect();
    json!({
        "description": model.description,
        "inputs": inputs,
        "outputs": model.outputs,
        "nix_config": model.nix_config.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
    })
}

fn check_case(dir: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(dir.join("flake.nix")).map_err(|e| e.to_string())?;
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let parse = syntax::parse(&text);
    if !parse.errors().is_empty() {
        return Err(format!("does not parse: {:?}", parse.errors()));
    }
    let root = parse.syntax().ok_or("no tree")?;
    let model = FlakeModel::from_tree(&root).ok_or("not read as a flake")?;
    let mut got = model_json(&model);
    let lock_text = std::fs::read_to_string(dir.join("flake.lock")).ok();
    let read = lock_text.as_deref().map(FlakeLock::parse);
    let lock = read.as_ref().and_then(|r| r.as_ref().ok());
    got["lock_root_inputs"] = match lock.and_then(|l| l.root_inputs()) {
        None => Value::Null,
        Some(inputs) => inputs
            .iter()
            .map(|(name, target)| {
                let v = match target {
                    InputRef::Node(n) => json!(n),
                    InputRef::Follows(path) => json!(path),
                };
                (name.clone(), v)
            })
            .collect::<serde_json::Map<_, _>>()
            .into(),
    };
    let state = match &read {
        Some(Ok(lock)) => LockState::Read(lock),
        Some(Err(why)) => LockState::Invalid(why),
        None => LockState::Absent,
    };
    let index = LineIndex::new(&text);
    let mut findings: Vec<(String, u32, u32)> =
        flake::diagnostics::check(&root, &text, &model, state)
            .iter()
            .map(|d| {
                let at = index.line_col(d.range.start(), PositionEncoding::Utf32);
                (d.rule.to_string(), at.line + 1, at.col + 1)
            })
            .collect();
    findings.sort_by_key(|(rule, line, col)| (*line, *col, rule.clone()));
    got["diagnostics"] = json!(findings);
    let mut expected_sorted = expected.clone();
    if let Some(list) = expected_sorted["diagnostics"].as_array_mut() {
        list.sort_by_key(|d| {
            (
                d[1].as_u64(),
                d[2].as_u64(),
                d[0].as_str().map(String::from),
            )
        });
    }
    let mut differences = Vec::new();
    for key in [
        "description",
        "inputs",
        "outputs",
        "nix_config",
        "lock_root_inputs",
        "diagnostics",
    ] {
        if got[key] != expected_sorted[key] {
            differences.push(format!(
                "{key}: expected {} got {}",
                expected_sorted[key], got[key]
            ));
        }
    }
    if !differences.is_empty() {
        return Err(differences.join("\n"));
    }
    Ok(())
}

#[test]
fn every_flake_fixture_matches_its_expectation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flakes");
    let mut failures = Vec::new();
    let mut count = 0;
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        count += 1;
        if let Err(why) = check_case(dir) {
            failures.push(format!("{}: {why}", dir.display()));
        }
    }
    assert!(count >= 10, "only {count} flake fixtures");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
