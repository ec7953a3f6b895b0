//! Lossless edits of a flake.nix: add or remove an input, touching nothing
//! else (comments, formatting and `outputs` stay as they are). The result
//! is checked: it parses, and its model shows the change.

use rnix::ast::{self, Expr, HasEntry};
use rnix::{TextRange, TextSize};
use rowan::ast::AstNode;

use super::model::FlakeModel;
use crate::analysis::rules::edit;
use crate::syntax::{self, read, TextEdit};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EditError {
    #[error("flake.nix has syntax errors; fix them first ({0})")]
    Syntax(String),
    #[error("this is not a flake: its top level is not an attribute set")]
    NotAFlake,
    #[error("input `{0}` is already declared")]
    AlreadyDeclared(String),
    #[error("input `{0}` is not declared")]
    NotDeclared(String),
    #[error("invalid input name `{0}`: use letters, digits, `-`, `_` or `'`, starting with a letter or `_`")]
    InvalidName(String),
    #[error("the url must not be empty")]
    EmptyUrl,
    #[error("internal error: the edited flake.nix {0}; nothing was changed")]
    Unsafe(String),
}

/// The text of `flake.nix` with input `name` added (`name.url = "url";`),
/// next to the inputs already declared, in their spelling.
pub fn add_input(text: &str, name: &str, url: &str) -> Result<String, EditError> {
    if !crate::syntax::literal::is_identifier(name) {
        return Err(EditError::InvalidName(name.to_string()));
    }
    if url.trim().is_empty() {
        return Err(EditError::EmptyUrl);
    }
    let (set, model) = read_flake(text)?;
    if model.input(name).is_some() {
        return Err(EditError::AlreadyDeclared(name.to_string()));
    }
    let literal = crate::syntax::literal::string_literal(url);
    let top: Vec<ast::AttrpathValue> = set.attrpath_values().collect();
    let first_name = |b: &ast::AttrpathValue| -> Option<String> {
        let path = b.attrpath()?;
        let first = path.attrs().next()?;
        crate::syntax::green::static_attr_name(first.syntax()).map(|n| n.to_string())
    };
    let path_len = |b: &ast::AttrpathValue| b.attrpath().map_or(0, |p| p.attrs().count());
    let inputs_set = top.iter().find_map(|b| {
        if first_name(b).as_deref() != Some("inputs") || path_len(b) != 1 {
            return None;
        }
        match read::strip_parens(&b.value()?) {
            Expr::AttrSet(s) => Some(s),
            _ => None,
        }
    });
    let edit = if let Some(inputs) = inputs_set {
        // `inputs = { ... };`: a new member after the last one.
        match inputs.entries().last() {
            Some(last) => {
                let end = last.syntax().text_range().end();
                let indent = indentation(text, last.syntax().text_range().start());
                insert(end, format!("\n{indent}{name}.url = {literal};"))
            }
            None => {
                let open = inputs
                    .l_curly_token()
                    .ok_or_else(|| EditError::Unsafe("has an `inputs` set without `{`".into()))?;
                insert(open.text_range().end(), format!(" {name}.url = {literal};"))
            }
        }
    } else if let Some(last) = top
        .iter()
        .rfind(|b| first_name(b).as_deref() == Some("inputs"))
    {
        // `inputs.x.url = ...;` lines: one more after the last.
        let end = last.syntax().text_range().end();
        let indent = indentation(text, last.syntax().text_range().start());
        insert(end, format!("\n{indent}inputs.{name}.url = {literal};"))
    } else if let Some(outputs) = top
        .iter()
        .find(|b| first_name(b).as_deref() == Some("outputs"))
    {
        // No inputs yet: before `outputs`.
        let start = outputs.syntax().text_range().start();
        let indent = indentation(text, start);
        insert(start, format!("inputs.{name}.url = {literal};\n{indent}"))
    } else {
        let open = set
            .l_curly_token()
            .ok_or_else(|| EditError::Unsafe("has no `{`".into()))?;
        insert(
            open.text_range().end(),
            format!(" inputs.{name}.url = {literal};"),
        )
    };
    let result = syntax::apply_edits(text, &[edit]);
    let (_, after) = read_flake(&result).map_err(|e| EditError::Unsafe(e.to_string()))?;
    match after.input(name) {
        Some(input) if input.url.as_deref() == Some(url) => Ok(result),
        _ => Err(EditError::Unsafe("does not declare the input".into())),
    }
}

/// The text of `flake.nix` without input `name`: every binding that
/// declares it goes, with its line when it is alone there.
pub fn remove_input(text: &str, name: &str) -> Result<String, EditError> {
    let (set, model) = read_flake(text)?;
    let edits = input_removal(text, &set, &model, name)?;
    removed(syntax::apply_edits(text, &edits), name)
}

/// [`remove_input`], and the input's field of the `outputs` pattern too:
/// what removing an input `outputs` never uses takes. Both edits are made
/// on one reading of the text and the result is checked once: a flake with
/// several unused inputs computes this for each of them.
pub fn remove_unused_input(text: &str, name: &str) -> Result<String, EditError> {
    let (set, model) = read_flake(text)?;
    let mut edits = input_removal(text, &set, &model, name)?;
    let entry = set
        .syntax()
        .descendants()
        .filter_map(ast::Lambda::cast)
        .find(|lambda| {
            lambda
                .syntax()
                .parent()
                .and_then(ast::AttrpathValue::cast)
                .and_then(|b| b.attrpath())
                .is_some_and(|p| p.syntax().text() == "outputs")
        })
        .and_then(|lambda| match lambda.param()? {
            ast::Param::Pattern(p) => p
                .pat_entries()
                .find(|e| e.ident().is_some_and(|i| i.syntax().text() == name)),
            ast::Param::IdentParam(_) => None,
        });
    if let Some(entry) = entry {
        edits.extend(crate::analysis::rules::dead_code::remove_pattern_entry(
            text,
            entry.syntax(),
        ));
    }
    removed(syntax::apply_edits(text, &edit::merge(edits)), name)
}

/// The edits that take every declaration of input `name` out of `text`.
fn input_removal(
    text: &str,
    set: &ast::AttrSet,
    model: &FlakeModel,
    name: &str,
) -> Result<Vec<TextEdit>, EditError> {
    if model.input(name).is_none() {
        return Err(EditError::NotDeclared(name.to_string()));
    }
    let mut ranges: Vec<TextRange> = Vec::new();
    for binding in set.attrpath_values() {
        let Some(names) = binding.attrpath().and_then(|p| read::attrpath_names(&p)) else {
            continue;
        };
        match names.as_slice() {
            [inputs, input, ..] if inputs.text == "inputs" && input.text == name => {
                ranges.push(binding.syntax().text_range());
            }
            [inputs] if inputs.text == "inputs" => {
                if let Some(Expr::AttrSet(inner)) = binding.value().map(|v| read::strip_parens(&v))
                {
                    for entry in inner.attrpath_values() {
                        let first = entry
                            .attrpath()
                            .and_then(|p| read::attrpath_names(&p))
                            .and_then(|n| n.into_iter().next());
                        if first.is_some_and(|f| f.text == name) {
                            ranges.push(entry.syntax().text_range());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if ranges.is_empty() {
        return Err(EditError::Unsafe(format!(
            "declares `{name}` in a way this edit cannot remove"
        )));
    }
    Ok(edit::merge(
        ranges.into_iter().map(|r| edit::remove(text, r)).collect(),
    ))
}

/// `result`, once it is checked to parse as a flake without input `name`.
fn removed(result: String, name: &str) -> Result<String, EditError> {
    let (_, after) = read_flake(&result).map_err(|e| EditError::Unsafe(e.to_string()))?;
    if after.input(name).is_some() {
        return Err(EditError::Unsafe("still declares the input".into()));
    }
    Ok(result)
}

fn read_flake(text: &str) -> Result<(ast::AttrSet, FlakeModel), EditError> {
    let parse = syntax::parse(text);
    if let Some(error) = parse.errors().first() {
        return Err(EditError::Syntax(error.message.clone()));
    }
    let root = parse.syntax().ok_or(EditError::NotAFlake)?;
    let model = FlakeModel::from_tree(&root).ok_or(EditError::NotAFlake)?;
    let set = ast::Root::cast(root)
        .and_then(|r| r.expr())
        .and_then(|e| match read::strip_parens(&e) {
            Expr::AttrSet(s) => Some(s),
            _ => None,
        })
        .ok_or(EditError::NotAFlake)?;
    Ok((set, model))
}

fn insert(at: TextSize, text: String) -> TextEdit {
    TextEdit::replace(TextRange::empty(at), text)
}

/// The whitespace that starts the line holding `offset`.
fn indentation(text: &str, offset: TextSize) -> String {
    let start = text[..usize::from(offset)].rfind('\n').map_or(0, |i| i + 1);
    text[start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NESTED: &str = r#"{
  description = "demo";

  inputs = {
    # the package set
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";
    utils.url = "github:numtide/flake-utils";
  };

  outputs = { self, nixpkgs, ... }: { };
}
"#;

    const DOTTED: &str = r#"{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05"; # pinned
  inputs.hm = {
    url = "github:nix-community/home-manager";
    inputs.nixpkgs.follows = "nixpkgs";
  };
  inputs.hm.inputs.utils.follows = "utils";

  outputs = inputs: import ./outputs.nix inputs;
}
"#;

    #[test]
    fn adds_in_the_spelling_already_used() {
        let out = add_input(NESTED, "sops-nix", "github:Mic92/sops-nix").unwrap();
        assert_eq!(
            out,
            NESTED.replace(
                "    utils.url = \"github:numtide/flake-utils\";\n",
                "    utils.url = \"github:numtide/flake-utils\";\n    sops-nix.url = \"github:Mic92/sops-nix\";\n"
            )
        );
        let out = add_input(DOTTED, "agenix", "github:ryantm/agenix").unwrap();
        assert_eq!(
            out,
            DOTTED.replace(
                "  inputs.hm.inputs.utils.follows = \"utils\";\n",
                "  inputs.hm.inputs.utils.follows = \"utils\";\n  inputs.agenix.url = \"github:ryantm/agenix\";\n"
            )
        );
        let none = "{\n  outputs = _: { };\n}\n";
        assert_eq!(
            add_input(none, "nixpkgs", "github:NixOS/nixpkgs").unwrap(),
            "{\n  inputs.nixpkgs.url = \"github:NixOS/nixpkgs\";\n  outputs = _: { };\n}\n"
        );
    }

    #[test]
    fn removes_every_declaration_and_only_those() {
        let out = remove_input(DOTTED, "hm").unwrap();
        assert_eq!(
            out,
            "{\n  inputs.nixpkgs.url = \"github:NixOS/nixpkgs/nixos-24.05\"; # pinned\n\n  outputs = inputs: import ./outputs.nix inputs;\n}\n"
        );
        let out = remove_input(NESTED, "utils").unwrap();
        assert_eq!(
            out,
            NESTED.replace("    utils.url = \"github:numtide/flake-utils\";\n", "")
        );
    }

    #[test]
    fn an_unused_input_leaves_the_pattern_too() {
        let text = "{\n  inputs.nixpkgs.url = \"github:NixOS/nixpkgs\";\n  inputs.utils.url = \"github:numtide/flake-utils\";\n  outputs = { self, nixpkgs, utils }: { };\n}\n";
        assert_eq!(
            remove_unused_input(text, "utils").unwrap(),
            "{\n  inputs.nixpkgs.url = \"github:NixOS/nixpkgs\";\n  outputs = { self, nixpkgs }: { };\n}\n"
        );
    }

    #[test]
    fn refuses_what_it_cannot_do_safely() {
        assert_eq!(
            add_input(NESTED, "nixpkgs", "github:x/y"),
            Err(EditError::AlreadyDeclared("nixpkgs".into()))
        );
        assert_eq!(
            remove_input(NESTED, "nope"),
            Err(EditError::NotDeclared("nope".into()))
        );
        assert!(matches!(
            add_input("{ inputs = ", "a", "b"),
            Err(EditError::Syntax(_))
        ));
        assert_eq!(
            add_input(NESTED, "a b", "x"),
            Err(EditError::InvalidName("a b".into()))
        );
        assert_eq!(add_input("x: x", "a", "b"), Err(EditError::NotAFlake));
        let odd = add_input(NESTED, "odd", "github:a/b?dir=${x}\"").unwrap();
        let parse = syntax::parse(&odd);
        let model = FlakeModel::from_tree(&parse.syntax().unwrap()).unwrap();
        assert_eq!(
            model.input("odd").unwrap().url.as_deref(),
            Some("github:a/b?dir=${x}\"")
        );
    }
}
