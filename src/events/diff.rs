//! Semantic diffs of the two aggregates: what changed between two good
//! states of a flake or a Home Manager configuration, as event types and
//! data (events.md). Values never carry file contents: names, URLs,
//! revisions and attribute paths only.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{json, Value};

use crate::flake::{FlakeLock, FlakeModel, InputRef};
use crate::home::HomeState;

/// An input as flake.nix declares it, for comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclaredInput {
    pub url: Option<String>,
    pub flake: bool,
    pub follows: Option<String>,
    pub inputs: BTreeMap<String, String>,
}

/// The flake.nix half of a flake aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct FlakeDecl {
    pub inputs: BTreeMap<String, DeclaredInput>,
    /// `None` when `outputs` does not return a literal set.
    pub outputs: Option<BTreeSet<String>>,
}

impl FlakeDecl {
    pub fn from_model(model: &FlakeModel) -> FlakeDecl {
        FlakeDecl {
            inputs: model
                .inputs
                .iter()
                .map(|i| {
                    let declared = DeclaredInput {
                        url: i.url.clone(),
                        flake: i.flake,
                        follows: i.follows.clone(),
                        inputs: i.inputs.clone(),
                    };
                    (i.name.clone(), declared)
                })
                .collect(),
            outputs: model.outputs.as_ref().map(|o| o.iter().cloned().collect()),
        }
    }
}

/// A direct input as flake.lock pins it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockedInput {
    /// Set when the input follows another (`["nixpkgs"]` as `nixpkgs`).
    pub follows: Option<String>,
    pub rev: Option<String>,
    pub nar_hash: Option<String>,
    pub last_modified: Option<i64>,
}

/// The flake.lock half of a flake aggregate: each root input, resolved.
pub fn lock_summary(lock: &FlakeLock) -> BTreeMap<String, LockedInput> {
    let Some(root) = lock.root_inputs() else {
        return BTreeMap::new();
    };
    root.iter()
        .map(|(name, target)| {
            let follows = match target {
                InputRef::Follows(path) => Some(path.join("/")),
                InputRef::Node(_) => None,
            };
            let node = lock.root_input_node(name).map(|(_, n)| n);
            let locked = node.and_then(|n| n.locked.as_ref());
            let field = |k: &str| locked.and_then(|l| l.get(k)).cloned();
            let summary = LockedInput {
                follows,
                rev: field("rev"),
                nar_hash: field("narHash"),
                last_modified: node.and_then(|n| n.last_modified),
            };
            (name.clone(), summary)
        })
        .collect()
}

/// A change, before it gets an id and a place in a session.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// `flake.input_added`, `home.program_enabled`, ...
    pub event_type: &'static str,
    pub data: Value,
}

fn change(event_type: &'static str, data: Value) -> Change {
    Change { event_type, data }
}

/// Changes between two states of flake.nix.
pub fn flake_changes(old: &FlakeDecl, new: &FlakeDecl) -> Vec<Change> {
    let mut out = Vec::new();
    for (name, input) in &new.inputs {
        match old.inputs.get(name) {
            None => out.push(change(
                "flake.input_added",
                json!({"input": name, "url": input.url, "flake": input.flake, "follows": input.follows}),
            )),
            Some(before) if before != input => out.push(change(
                "flake.input_changed",
                json!({"input": name, "from": reference(before), "to": reference(input)}),
            )),
            Some(_) => {}
        }
    }
    for (name, input) in &old.inputs {
        if !new.inputs.contains_key(name) {
            out.push(change(
                "flake.input_removed",
                json!({"input": name, "url": input.url}),
            ));
        }
    }
    let empty = BTreeSet::new();
    let before = old.outputs.as_ref().unwrap_or(&empty);
    let after = new.outputs.as_ref().unwrap_or(&empty);
    // Outputs that stop (or start) being readable are not a change of names.
    if old.outputs.is_some() && new.outputs.is_some() && before != after {
        out.push(change(
            "flake.outputs_changed",
            json!({
                "added": after.difference(before).collect::<Vec<_>>(),
                "removed": before.difference(after).collect::<Vec<_>>(),
            }),
        ));
    }
    out
}

fn reference(input: &DeclaredInput) -> Value {
    json!({"url": input.url, "follows": input.follows, "flake": input.flake, "inputs": input.inputs})
}

/// Changes between two flake.lock files, per direct input.
pub fn lock_changes(
    old: &BTreeMap<String, LockedInput>,
    new: &BTreeMap<String, LockedInput>,
) -> Vec<Change> {
    let mut out = Vec::new();
    for (name, after) in new {
        let Some(before) = old.get(name) else {
            continue; // a new input: flake.nix's input_added tells it
        };
        if before.follows != after.follows {
            out.push(change(
                "flake.input_changed",
                json!({"input": name, "from": {"follows": before.follows}, "to": {"follows": after.follows}}),
            ));
        } else if after.follows.is_none()
            && (before.rev != after.rev || before.nar_hash != after.nar_hash)
        {
            out.push(change(
                "flake.lock_updated",
                json!({
                    "input": name,
                    "from_rev": before.rev, "to_rev": after.rev,
                    "from_last_modified": before.last_modified,
                    "to_last_modified": after.last_modified,
                }),
            ));
        }
    }
    out
}

/// Changes between two states of a Home Manager configuration.
pub fn home_changes(old: &HomeState, new: &HomeState) -> Vec<Change> {
    let mut out = Vec::new();
    units(&old.programs, &new.programs, "program", &mut out);
    units(&old.services, &new.services, "service", &mut out);
    let count = |list: &[String]| {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for p in list {
            *counts.entry(p.clone()).or_default() += 1;
        }
        counts
    };
    let (before, after) = (count(&old.packages), count(&new.packages));
    for (package, n) in &after {
        if before.get(package).copied().unwrap_or(0) < *n {
            let label = crate::home::package_label(package);
            out.push(change("home.package_added", json!({ "package": label })));
        }
    }
    for (package, n) in &before {
        if after.get(package).copied().unwrap_or(0) < *n {
            let label = crate::home::package_label(package);
            out.push(change("home.package_removed", json!({ "package": label })));
        }
    }
    if old.state_version != new.state_version {
        out.push(change(
            "home.state_version_changed",
            json!({"from": old.state_version, "to": new.state_version}),
        ));
    }
    out
}

fn units(
    old: &BTreeMap<String, crate::home::Unit>,
    new: &BTreeMap<String, crate::home::Unit>,
    kind: &'static str,
    out: &mut Vec<Change>,
) {
    let (enabled, disabled, configured) = match kind {
        "program" => (
            "home.program_enabled",
            "home.program_disabled",
            "home.program_configured",
        ),
        _ => (
            "home.service_enabled",
            "home.service_disabled",
            "home.service_configured",
        ),
    };
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let absent = crate::home::Unit::default();
    for name in names {
        let before = old.get(name).unwrap_or(&absent);
        let after = new.get(name).unwrap_or(&absent);
        let (was, is) = (before.enabled == Some(true), after.enabled == Some(true));
        if !was && is {
            out.push(change(enabled, json!({ kind: name })));
        } else if was && !is {
            out.push(change(disabled, json!({ kind: name })));
        }
        // Keys other than `enable` that appeared, went, or got another value.
        let changed: BTreeSet<&String> = before
            .values
            .iter()
            .filter(|(k, v)| after.values.get(*k) != Some(v))
            .chain(
                after
                    .values
                    .iter()
                    .filter(|(k, _)| !before.values.contains_key(*k)),
            )
            .map(|(k, _)| k)
            .filter(|k| k.as_str() != "enable")
            .collect();
        if !changed.is_empty() {
            out.push(change(
                configured,
                json!({ kind: name, "changed_keys": changed }),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(text: &str) -> FlakeDecl {
        let parse = rnix::Root::parse(text);
        FlakeDecl::from_model(&FlakeModel::from_tree(&parse.syntax()).unwrap())
    }

    fn types(changes: &[Change]) -> Vec<&str> {
        changes.iter().map(|c| c.event_type).collect()
    }

    #[test]
    fn inputs_added_removed_changed_and_outputs() {
        let old = decl(
            r#"{ inputs.a.url = "github:o/a"; inputs.b.url = "github:o/b"; outputs = _: { packages = 1; }; }"#,
        );
        let new = decl(
            r#"{ inputs.a.url = "github:o/a/v2"; inputs.c = { url = "github:o/c"; flake = false; }; outputs = _: { packages = 1; checks = 2; }; }"#,
        );
        let changes = flake_changes(&old, &new);
        assert_eq!(
            types(&changes),
            [
                "flake.input_changed",
                "flake.input_added",
                "flake.input_removed",
                "flake.outputs_changed"
            ]
        );
        assert_eq!(changes[0].data["from"]["url"], "github:o/a");
        assert_eq!(changes[0].data["to"]["url"], "github:o/a/v2");
        assert_eq!(
            changes[1].data,
            json!({"input": "c", "url": "github:o/c", "flake": false, "follows": null})
        );
        assert_eq!(changes[2].data, json!({"input": "b", "url": "github:o/b"}));
        assert_eq!(changes[3].data, json!({"added": ["checks"], "removed": []}));
        assert!(flake_changes(&new, &new).is_empty());
    }

    #[test]
    fn lock_revisions_and_follows() {
        let lock = |rev: &str, follows: bool| {
            let hm = if follows { r#"["nixpkgs"]"# } else { r#""hm""# };
            FlakeLock::parse(&format!(
                r#"{{"version":7,"root":"root","nodes":{{
                  "root":{{"inputs":{{"nixpkgs":"nixpkgs","hm":{hm}}}}},
                  "hm":{{"locked":{{"rev":"h1","narHash":"x","type":"github"}}}},
                  "nixpkgs":{{"locked":{{"rev":"{rev}","narHash":"n{rev}","lastModified":10,"type":"github"}}}}}}}}"#
            ))
            .unwrap()
        };
        let a = lock_summary(&lock("r1", false));
        let b = lock_summary(&lock("r2", false));
        let changes = lock_changes(&a, &b);
        assert_eq!(types(&changes), ["flake.lock_updated"]);
        assert_eq!(changes[0].data["from_rev"], "r1");
        assert_eq!(changes[0].data["to_rev"], "r2");
        let c = lock_summary(&lock("r2", true));
        assert_eq!(types(&lock_changes(&b, &c)), ["flake.input_changed"]);
    }

    #[test]
    fn home_programs_services_and_packages() {
        let read = |text: &str| {
            let parse = rnix::Root::parse(text);
            crate::home::read(&parse.syntax(), false).state
        };
        let old = read(
            r#"{ home.stateVersion = "24.05"; home.packages = [ pkgs.a pkgs.b ]; programs.git = { enable = true; userName = "x"; }; services.syncthing.enable = true; }"#,
        );
        let new = read(
            r#"{ home.stateVersion = "24.05"; home.packages = [ pkgs.b pkgs.c ]; programs.git = { enable = true; userName = "y"; lfs.enable = true; }; programs.zsh.enable = true; services.syncthing.enable = false; }"#,
        );
        let changes = home_changes(&old, &new);
        assert_eq!(
            types(&changes),
            [
                "home.program_configured",
                "home.program_enabled",
                "home.service_disabled",
                "home.package_added",
                "home.package_removed"
            ]
        );
        assert_eq!(
            changes[0].data,
            json!({"program": "git", "changed_keys": ["lfs.enable", "userName"]})
        );
        assert_eq!(changes[1].data, json!({"program": "zsh"}));
        assert!(home_changes(&new, &new).is_empty());
    }
}
