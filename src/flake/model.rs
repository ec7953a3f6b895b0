//! What a flake.nix declares, read from its syntax tree: description, inputs
//! in every spelling, the names of the outputs and `nixConfig`.

use std::collections::BTreeMap;

use rnix::ast::{self, Expr, HasEntry};
use rnix::{SyntaxNode, TextRange};
use rowan::ast::AstNode;

use super::flakeref::{self, Attrs};
use crate::syntax::read::{self, Name, MAX_READ_DEPTH};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlakeInput {
    pub name: String,
    /// Every place the input's name is written, first appearance first.
    pub sites: Vec<TextRange>,
    pub url: Option<String>,
    /// The url's string literal, quotes included.
    pub url_range: Option<TextRange>,
    /// Attribute-style reference fields (`type`, `owner`, `repo`, `ref`,
    /// `rev`, `dir`, `host`, `path`, `id`) written instead of a url.
    pub fields: Attrs,
    /// False only when `flake = false;` is written.
    pub flake: bool,
    pub follows: Option<String>,
    /// Nested inputs that follow another input: `inputs.nixpkgs.follows`.
    pub inputs: BTreeMap<String, String>,
    /// The value, when the input is written as something other than a set
    /// (`inputs.x = "github:...";`, which Nix refuses).
    pub invalid: Option<TextRange>,
}

impl FlakeInput {
    fn new(name: &Name) -> FlakeInput {
        FlakeInput {
            name: name.text.clone(),
            sites: vec![name.range],
            url: None,
            url_range: None,
            fields: Attrs::new(),
            flake: true,
            follows: None,
            inputs: BTreeMap::new(),
            invalid: None,
        }
    }

    /// Where findings about the input point: its name, first appearance.
    pub fn range(&self) -> TextRange {
        self.sites[0]
    }

    /// The reference in the attribute form flake.lock's `original` uses.
    pub fn reference(&self) -> Option<Attrs> {
        match &self.url {
            Some(url) => {
                let mut attrs = flakeref::parse(url)?;
                attrs.extend(self.fields.clone());
                Some(attrs)
            }
            None if self.fields.contains_key("type") => Some(self.fields.clone()),
            None => None,
        }
    }
}

/// The pattern of the `outputs` function.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutputsPattern {
    pub fields: Vec<String>,
    pub ellipsis: bool,
    /// `@inputs` or `inputs@`.
    pub bind: Option<String>,
    /// Where `, name` goes to add a field: after the last field.
    pub insert_at: Option<rnix::TextSize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlakeModel {
    pub description: Option<String>,
    pub inputs: Vec<FlakeInput>,
    /// The first `inputs` attribute name: where lock-wide findings point.
    pub inputs_key: Option<TextRange>,
    pub outputs_key: Option<TextRange>,
    /// The top-level names of the set `outputs` returns, in source order;
    /// `None` when it is not a literal set (`eachDefaultSystem ...`).
    pub outputs: Option<Vec<String>>,
    /// `None` when `outputs` is not a function with a `{ ... }` pattern.
    pub outputs_pattern: Option<OutputsPattern>,
    /// The keys of `nixConfig`, dotted, in source order, with their ranges.
    pub nix_config: Vec<(String, TextRange)>,
}

impl FlakeModel {
    /// Reads a flake.nix tree. `None` when the file is not a set at its top
    /// (then it is not a flake).
    pub fn from_tree(root: &SyntaxNode) -> Option<FlakeModel> {
        let root = ast::Root::cast(root.clone())?;
        let Expr::AttrSet(set) = read::strip_parens(&root.expr()?) else {
            return None;
        };
        let mut model = FlakeModel::default();
        for (names, value) in read::bindings(&set) {
            let Some((first, rest)) = names.split_first() else {
                continue;
            };
            match first.text.as_str() {
                "description" if rest.is_empty() => {
                    model.description = read::string_value(&value);
                }
                "inputs" => {
                    model.inputs_key.get_or_insert(first.range);
                    model.read_inputs(rest, &value, 0);
                }
                "outputs" if rest.is_empty() => {
                    model.outputs_key = Some(first.range);
                    model.read_outputs(&value);
                }
                "nixConfig" => model.read_nix_config(rest, &value, 0),
                _ => {}
            }
        }
        for name in read::inherited_names(&set) {
            if name.text == "outputs" {
                model.outputs_key = Some(name.range);
            }
        }
        Some(model)
    }

    pub fn input(&self, name: &str) -> Option<&FlakeInput> {
        self.inputs.iter().find(|i| i.name == name)
    }

    fn input_mut(&mut self, name: &Name) -> &mut FlakeInput {
        match self.inputs.iter().position(|i| i.name == name.text) {
            Some(at) => {
                let input = &mut self.inputs[at];
                if !input.sites.contains(&name.range) {
                    input.sites.push(name.range);
                }
                input
            }
            None => {
                self.inputs.push(FlakeInput::new(name));
                self.inputs.last_mut().expect("just pushed")
            }
        }
    }

    /// `inputs<path> = value;` where `path` follows `inputs`.
    fn read_inputs(&mut self, path: &[Name], value: &Expr, depth: usize) {
        if depth > MAX_READ_DEPTH {
            return;
        }
        match path.split_first() {
            None => {
                if let Expr::AttrSet(set) = read::strip_parens(value) {
                    for (names, value) in read::bindings(&set) {
                        self.read_inputs(&names, &value, depth + 1);
                    }
                }
            }
            Some((name, rest)) => {
                self.input_mut(name);
                self.read_input(name, rest, value, depth + 1);
            }
        }
    }

    /// `inputs.<name><path> = value;`.
    fn read_input(&mut self, name: &Name, path: &[Name], value: &Expr, depth: usize) {
        if depth > MAX_READ_DEPTH {
            return;
        }
        let Some((field, rest)) = path.split_first() else {
            match read::strip_parens(value) {
                Expr::AttrSet(set) => {
                    for (names, value) in read::bindings(&set) {
                        self.read_input(name, &names, &value, depth + 1);
                    }
                }
                other => {
                    let input = self.input_mut(name);
                    input.invalid.get_or_insert(other.syntax().text_range());
                }
            }
            return;
        };
        let input = self.input_mut(name);
        match (field.text.as_str(), rest) {
            ("url", []) => {
                input.url = read::string_value(value);
                input.url_range = Some(read::literal_range(value));
            }
            ("flake", []) if read::bool_value(value) == Some(false) => input.flake = false,
            ("follows", []) => input.follows = read::string_value(value),
            ("inputs", nested) => {
                let mut follows = Vec::new();
                collect_nested_follows(
                    &mut Vec::new(),
                    true,
                    nested,
                    value,
                    &mut follows,
                    depth + 1,
                );
                input.inputs.extend(follows);
            }
            (key, []) => {
                if let Some(text) = read::string_value(value) {
                    input.fields.insert(key.to_string(), text);
                }
            }
            _ => {}
        }
    }

    fn read_outputs(&mut self, value: &Expr) {
        let Expr::Lambda(lambda) = read::strip_parens(value) else {
            return;
        };
        if let Some(ast::Param::Pattern(pattern)) = lambda.param() {
            self.outputs_pattern = Some(OutputsPattern {
                fields: pattern
                    .pat_entries()
                    .filter_map(|e| Some(e.ident()?.syntax().text().to_string()))
                    .collect(),
                ellipsis: pattern.ellipsis_token().is_some(),
                bind: pattern
                    .pat_bind()
                    .and_then(|b| Some(b.ident()?.syntax().text().to_string())),
                insert_at: pattern
                    .pat_entries()
                    .last()
                    .map(|e| e.syntax().text_range().end()),
            });
        }
        let Some(body) = lambda.body() else {
            return;
        };
        if let Expr::AttrSet(set) = read::body_value(&body) {
            let mut names: Vec<String> = Vec::new();
            let entries = set.entries().filter_map(|entry| match entry {
                ast::Entry::AttrpathValue(v) => {
                    let first = v.attrpath()?.attrs().next()?;
                    crate::syntax::green::static_attr_name(first.syntax())
                }
                ast::Entry::Inherit(i) => {
                    let first = i.attrs().next()?;
                    crate::syntax::green::static_attr_name(first.syntax())
                }
            });
            for name in entries {
                if !names.iter().any(|n| n == name.as_str()) {
                    names.push(name.to_string());
                }
            }
            // Every name of a multi-name `inherit`, too.
            for name in read::inherited_names(&set) {
                if !names.contains(&name.text) {
                    names.push(name.text);
                }
            }
            self.outputs = Some(names);
        }
    }

    fn read_nix_config(&mut self, path: &[Name], value: &Expr, depth: usize) {
        if depth > MAX_READ_DEPTH {
            return;
        }
        if path.is_empty() {
            if let Expr::AttrSet(set) = read::strip_parens(value) {
                for (names, value) in read::bindings(&set) {
                    self.read_nix_config(&names, &value, depth + 1);
                }
            }
            return;
        }
        let key = path
            .iter()
            .map(|n| n.text.as_str())
            .collect::<Vec<_>>()
            .join(".");
        let range = path[0].range.cover(path[path.len() - 1].range);
        self.nix_config.push((key, range));
    }
}

/// `inputs.<x>.inputs<path> = value;`: the nested inputs' `follows`, keyed
/// by the nested input's path (`nixpkgs`, or `utils/systems` for
/// `inputs.utils.inputs.systems.follows`). `expect_name` says whether the
/// next name of `path` names a nested input (else `follows` or `inputs`).
fn collect_nested_follows(
    nested: &mut Vec<String>,
    expect_name: bool,
    path: &[Name],
    value: &Expr,
    out: &mut Vec<(String, String)>,
    depth: usize,
) {
    if depth > MAX_READ_DEPTH {
        return;
    }
    let Some((first, rest)) = path.split_first() else {
        if let Expr::AttrSet(set) = read::strip_parens(value) {
            for (names, value) in read::bindings(&set) {
                collect_nested_follows(nested, expect_name, &names, &value, out, depth + 1);
            }
        }
        return;
    };
    if expect_name {
        nested.push(first.text.clone());
        collect_nested_follows(nested, false, rest, value, out, depth + 1);
        nested.pop();
        return;
    }
    match (first.text.as_str(), rest.is_empty()) {
        ("follows", true) => {
            if let Some(target) = read::string_value(value) {
                out.push((nested.join("/"), target));
            }
        }
        ("inputs", _) => collect_nested_follows(nested, true, rest, value, out, depth + 1),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(text: &str) -> FlakeModel {
        let parse = rnix::Root::parse(text);
        assert!(parse.errors().is_empty(), "{:?}", parse.errors());
        FlakeModel::from_tree(&parse.syntax()).unwrap()
    }

    #[test]
    fn every_spelling_of_an_input() {
        let m = model(
            r#"{
  description = "demo";
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";
  inputs = {
    utils.url = "github:numtide/flake-utils";
    hm = { url = "github:nix-community/home-manager"; inputs.nixpkgs.follows = "nixpkgs"; };
    src = { url = "git+https://example.org/src.git"; flake = false; };
  };
  inputs.hm.inputs.utils.follows = "utils";
  inputs.pkgs2.follows = "nixpkgs";
  inputs.gh = { type = "github"; owner = "a"; repo = "b"; };
  inputs.bad = "github:a/b";
  outputs = { self, nixpkgs, ... }@inputs: let x = 1; in { packages = {}; lib.a = 1; lib.b = 2; inherit x; };
  nixConfig.extra-substituters = [ "https://cache.example.org" ];
  nixConfig = { bash-prompt = "> "; };
}"#,
        );
        assert_eq!(m.description.as_deref(), Some("demo"));
        let names: Vec<&str> = m.inputs.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            ["nixpkgs", "utils", "hm", "src", "pkgs2", "gh", "bad"]
        );
        let hm = m.input("hm").unwrap();
        assert_eq!(hm.url.as_deref(), Some("github:nix-community/home-manager"));
        assert_eq!(
            hm.inputs.get("nixpkgs").map(String::as_str),
            Some("nixpkgs")
        );
        assert_eq!(hm.inputs.get("utils").map(String::as_str), Some("utils"));
        let m2 = model(
            "{ inputs.d = { url = \"github:a/d\"; inputs.utils.inputs.systems.follows = \"systems\"; inputs = { x.follows = \"\"; }; }; outputs = _: { }; }",
        );
        let d = m2.input("d").unwrap();
        assert_eq!(
            d.inputs.get("utils/systems").map(String::as_str),
            Some("systems")
        );
        assert_eq!(d.inputs.get("x").map(String::as_str), Some(""));
        assert_eq!(hm.sites.len(), 2);
        assert!(!m.input("src").unwrap().flake);
        assert_eq!(
            m.input("pkgs2").unwrap().follows.as_deref(),
            Some("nixpkgs")
        );
        assert_eq!(m.input("gh").unwrap().reference().unwrap()["repo"], "b");
        assert!(m.input("bad").unwrap().invalid.is_some());
        assert_eq!(
            m.outputs.as_deref(),
            Some(&["packages".to_string(), "lib".into(), "x".into()][..])
        );
        let pattern = m.outputs_pattern.unwrap();
        assert_eq!(pattern.fields, ["self", "nixpkgs"]);
        assert!(pattern.ellipsis);
        assert_eq!(pattern.bind.as_deref(), Some("inputs"));
        let keys: Vec<&str> = m.nix_config.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["extra-substituters", "bash-prompt"]);
    }

    #[test]
    fn outputs_that_are_not_a_literal_set() {
        let m = model(
            "{ inputs.u.url = \"github:numtide/flake-utils\"; outputs = { self, u }: u.lib.eachDefaultSystem (s: { }); }",
        );
        assert_eq!(m.outputs, None);
        assert_eq!(m.outputs_pattern.unwrap().fields, ["self", "u"]);
    }

    #[test]
    fn not_a_flake() {
        let parse = rnix::Root::parse("x: x");
        assert_eq!(FlakeModel::from_tree(&parse.syntax()), None);
    }
}
