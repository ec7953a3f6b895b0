//! flake.lock (version 7): nodes, the root's inputs, locked information and
//! follows. Read from JSON text; no file access here.

use std::collections::BTreeMap;

use serde_json::Value;

use super::flakeref::Attrs;

/// Where an input of a lock node points: a node, or a follows path from
/// the root (`["nixpkgs"]`, `["home-manager", "nixpkgs"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputRef {
    Node(String),
    Follows(Vec<String>),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LockNode {
    pub inputs: BTreeMap<String, InputRef>,
    /// The string fields of `locked` (`type`, `owner`, `repo`, `rev`,
    /// `narHash`, `url`, ...); numbers are in the fields below.
    pub locked: Option<Attrs>,
    pub last_modified: Option<i64>,
    pub original: Option<Attrs>,
    /// `"flake": false` in the lock.
    pub flake: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlakeLock {
    pub version: i64,
    pub root: String,
    pub nodes: BTreeMap<String, LockNode>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LockError {
    #[error("flake.lock is not valid JSON: {0}")]
    Json(String),
    #[error("flake.lock has no `{0}`; is it a flake.lock written by `nix flake lock`?")]
    Missing(&'static str),
    #[error("flake.lock version {0} is not supported (cim-nix reads versions 5 to 7)")]
    Version(i64),
}

impl FlakeLock {
    pub fn parse(text: &str) -> Result<FlakeLock, LockError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| LockError::Json(e.to_string()))?;
        let version = value
            .get("version")
            .and_then(Value::as_i64)
            .ok_or(LockError::Missing("version"))?;
        if !(5..=7).contains(&version) {
            return Err(LockError::Version(version));
        }
        let root = value
            .get("root")
            .and_then(Value::as_str)
            .ok_or(LockError::Missing("root"))?
            .to_string();
        let nodes = value
            .get("nodes")
            .and_then(Value::as_object)
            .ok_or(LockError::Missing("nodes"))?
            .iter()
            .map(|(name, node)| (name.clone(), read_node(node)))
            .collect();
        Ok(FlakeLock {
            version,
            root,
            nodes,
        })
    }

    /// The root node's inputs: the flake's direct inputs as locked.
    pub fn root_inputs(&self) -> Option<&BTreeMap<String, InputRef>> {
        self.nodes.get(&self.root).map(|n| &n.inputs)
    }

    /// The node a root input resolves to, following `follows` paths.
    pub fn root_input_node(&self, input: &str) -> Option<(&str, &LockNode)> {
        self.resolve(&InputRef::Follows(vec![input.to_string()]), 0)
    }

    /// The node that input `input` of node `node` resolves to.
    pub fn input_of(&self, node: &str, input: &str) -> Option<(&str, &LockNode)> {
        let target = self.nodes.get(node)?.inputs.get(input)?;
        self.resolve(target, 0)
    }

    fn resolve(&self, target: &InputRef, depth: usize) -> Option<(&str, &LockNode)> {
        // Follows can form cycles in a hand-edited lock; stop after a bound.
        if depth > 32 {
            return None;
        }
        match target {
            InputRef::Node(name) => self.nodes.get_key_value(name).map(|(k, v)| (k.as_str(), v)),
            InputRef::Follows(path) => {
                let mut node = self.root.as_str();
                for step in path {
                    let next = self.nodes.get(node)?.inputs.get(step)?;
                    node = self.resolve(next, depth + 1)?.0;
                }
                self.nodes.get_key_value(node).map(|(k, v)| (k.as_str(), v))
            }
        }
    }
}

fn read_node(node: &Value) -> LockNode {
    let inputs = node
        .get("inputs")
        .and_then(Value::as_object)
        .map(|inputs| {
            inputs
                .iter()
                .filter_map(|(name, target)| {
                    let target = match target {
                        Value::String(s) => InputRef::Node(s.clone()),
                        Value::Array(path) => InputRef::Follows(
                            path.iter()
                                .filter_map(Value::as_str)
                                .map(String::from)
                                .collect(),
                        ),
                        _ => return None,
                    };
                    Some((name.clone(), target))
                })
                .collect()
        })
        .unwrap_or_default();
    let locked = node.get("locked");
    LockNode {
        inputs,
        locked: locked.map(string_fields),
        last_modified: locked
            .and_then(|l| l.get("lastModified"))
            .and_then(Value::as_i64),
        original: node.get("original").map(original_fields),
        flake: node.get("flake").and_then(Value::as_bool).unwrap_or(true),
    }
}

/// `original` as a flake URL's query would spell it: `shallow = true` is
/// `shallow=1`, numbers in decimal.
fn original_fields(value: &Value) -> Attrs {
    value
        .as_object()
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        Value::Bool(b) => if *b { "1" } else { "0" }.to_string(),
                        Value::Number(n) => n.to_string(),
                        _ => return None,
                    };
                    Some((k.clone(), v))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn string_fields(value: &Value) -> Attrs {
    value
        .as_object()
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"{
      "nodes": {
        "home-manager": {
          "inputs": { "nixpkgs": ["nixpkgs"] },
          "locked": { "lastModified": 1716729592, "narHash": "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                      "owner": "nix-community", "repo": "home-manager",
                      "rev": "2c78a57c544dd19b07442350727ced097e1aa6e6", "type": "github" },
          "original": { "owner": "nix-community", "ref": "release-24.05", "repo": "home-manager", "type": "github" }
        },
        "nixpkgs": {
          "locked": { "lastModified": 1716948383, "narHash": "sha256-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=",
                      "owner": "NixOS", "repo": "nixpkgs",
                      "rev": "ad57eef4ef0659193044870c731987a6df5cf56b", "type": "github" },
          "original": { "owner": "NixOS", "ref": "nixos-24.05", "repo": "nixpkgs", "type": "github" }
        },
        "root": { "inputs": { "home-manager": "home-manager", "nixpkgs": "nixpkgs", "pkgs": ["nixpkgs"] } }
      },
      "root": "root",
      "version": 7
    }"#;

    #[test]
    fn reads_nodes_root_inputs_and_follows() {
        let lock = FlakeLock::parse(LOCK).unwrap();
        assert_eq!(lock.version, 7);
        let root = lock.root_inputs().unwrap();
        assert_eq!(root.get("nixpkgs"), Some(&InputRef::Node("nixpkgs".into())));
        assert_eq!(
            root.get("pkgs"),
            Some(&InputRef::Follows(vec!["nixpkgs".into()]))
        );
        let (name, node) = lock.root_input_node("pkgs").unwrap();
        assert_eq!(name, "nixpkgs");
        assert_eq!(node.last_modified, Some(1716948383));
        let (name, _) = lock.input_of("home-manager", "nixpkgs").unwrap();
        assert_eq!(name, "nixpkgs");
        let locked = lock.nodes["home-manager"].locked.as_ref().unwrap();
        assert_eq!(locked["rev"], "2c78a57c544dd19b07442350727ced097e1aa6e6");
    }

    #[test]
    fn refuses_what_is_not_a_lock() {
        assert!(matches!(FlakeLock::parse("{"), Err(LockError::Json(_))));
        assert_eq!(FlakeLock::parse("{}"), Err(LockError::Missing("version")));
        assert_eq!(
            FlakeLock::parse(r#"{"version": 3, "root": "root", "nodes": {}}"#),
            Err(LockError::Version(3))
        );
    }

    #[test]
    fn cyclic_follows_end() {
        let lock = FlakeLock::parse(
            r#"{"version":7,"root":"root","nodes":{"root":{"inputs":{"a":["b"],"b":["a"]}}}}"#,
        )
        .unwrap();
        assert_eq!(lock.root_input_node("a"), None);
    }
}
