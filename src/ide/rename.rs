//! Rename a binding: its definitions and every use, `inherit x;` turned
//! into `x = new;` where the attribute's name must stay (and back: a
//! binding defined by `inherit (s) x;` becomes `new = s.x;`), a pattern
//! field's uses through the `@` name and the arguments its callers pass,
//! in this file and the files that call it.
//!
//! A rename that would change what any name means is refused with a
//! message that says which: a use of the binding captured by another
//! binding of the new name on the way to it, a use of another thing of
//! the new name captured by the renamed binding, the new name already
//! bound beside it. So is one that cannot be made sound: builtins, names
//! from `with`, attributes that code cim-nix cannot see may select, and
//! pattern fields whose callers pass arguments by name (`callPackage`,
//! the module system, a flake's inputs).

use std::path::PathBuf;
use std::rc::Rc;

use rnix::{SyntaxKind, SyntaxNode};
use rowan::{TextRange, TextSize};

use super::callers::{calls_of, lambda_of_field, CallKind};
use super::references::{occurrences, symbol_at, Occurrence, Symbol};
use super::sets::{Resolver, SetView};
use super::{is_identifier, Doc, World};
use crate::analysis::semantic::{DefId, DefKind, Resolution, SemanticModel};
use crate::syntax::TextEdit;

use SyntaxKind::*;

/// The edits of one file: this one (`file: None`) or another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    pub file: Option<PathBuf>,
    pub edits: Vec<TextEdit>,
}

/// Why a rename is refused, said so that the user knows what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RenameError(pub String);

fn refuse<T>(message: impl Into<String>) -> Result<T, RenameError> {
    Err(RenameError(message.into()))
}

/// The name under the cursor and its range, if it can be renamed.
pub fn prepare_rename(
    doc: &Rc<Doc>,
    offset: TextSize,
    world: &dyn World,
) -> Result<(TextRange, String), RenameError> {
    let resolver = Resolver::new(world, doc.clone());
    let (symbol, range) = renamable(doc, offset, &resolver)?;
    let Symbol::Def(d) = symbol else {
        return refuse("nothing to rename here");
    };
    let name = doc.model().map(|m| m.defs[d].name.to_string());
    Ok((range, name.unwrap_or_default()))
}

/// The edits that rename what the cursor is on to `new_name`.
pub fn rename(
    doc: &Rc<Doc>,
    offset: TextSize,
    new_name: &str,
    world: &dyn World,
) -> Result<Vec<FileEdit>, RenameError> {
    let resolver = Resolver::new(world, doc.clone());
    let (symbol, _) = renamable(doc, offset, &resolver)?;
    let Symbol::Def(d) = symbol else {
        return refuse("nothing to rename here");
    };
    let Some(model) = doc.model() else {
        return refuse("the file has no syntax tree to rename in");
    };
    let old = model.defs[d].name.to_string();
    if !is_identifier(new_name) {
        return refuse(format!(
            "`{new_name}` is not a Nix name: use letters, digits, `_`, `'` and `-`, starting \
             with a letter or `_`, and no keyword"
        ));
    }
    if new_name == old {
        return Ok(Vec::new());
    }
    check_conflicts(doc, model, d, new_name)?;
    let found = occurrences(doc, &Symbol::Def(d), &resolver);
    if model.defs[d].kind == DefKind::PatternField {
        check_callers_free(doc, d, new_name, &resolver)?;
    }
    let mut files: Vec<FileEdit> = Vec::new();
    for occurrence in &found {
        let target = match &occurrence.at.file {
            None => doc.clone(),
            Some(path) => match resolver.load(path) {
                Some(other) => other,
                None => continue,
            },
        };
        let edit = edit_for(&target, occurrence, &old, new_name)?;
        match files.iter_mut().find(|f| f.file == occurrence.at.file) {
            Some(file) => file.edits.push(edit),
            None => files.push(FileEdit {
                file: occurrence.at.file.clone(),
                edits: vec![edit],
            }),
        }
    }
    for file in &mut files {
        file.edits.sort_by_key(|e| (e.range.start(), e.range.end()));
        file.edits.dedup();
    }
    Ok(files)
}

/// The binding at the cursor, when renaming it can be sound.
fn renamable(
    doc: &Rc<Doc>,
    offset: TextSize,
    resolver: &Resolver,
) -> Result<(Symbol, TextRange), RenameError> {
    let Some((symbol, range)) = symbol_at(doc, offset, resolver) else {
        return refuse("nothing to rename here: put the cursor on a name bound in this file");
    };
    let d = match &symbol {
        Symbol::Def(d) => *d,
        Symbol::Builtin(name) => {
            return refuse(format!(
                "`{name}` is a builtin of Nix and cannot be renamed"
            ))
        }
        Symbol::With { name, .. } => {
            return refuse(format!(
                "`{name}` comes from a `with`; rename it where that set defines it"
            ))
        }
        Symbol::Attr { name, .. } => {
            return refuse(format!(
                "`{name}` is an attribute of a set, and code cim-nix cannot see may select it \
                 by name; it is not renamed"
            ))
        }
    };
    let Some(model) = doc.model() else {
        return refuse("the file has no syntax tree to rename in");
    };
    let def = &model.defs[d];
    if def.kind == DefKind::PatternField {
        let name = &def.name;
        if super::goto_definition::is_outputs_field(doc, def.range) {
            return refuse(format!(
                "`{name}` is an input of the flake, which Nix passes to `outputs` by its name; \
                 rename the input instead"
            ));
        }
        let Some(lambda) = lambda_of_field(doc, d) else {
            return refuse("the pattern's function was not found");
        };
        let calls = match calls_of(doc, &lambda, resolver) {
            Ok(calls) => calls,
            Err(why) => {
                return refuse(format!(
                    "cannot rename the pattern field `{name}`: {}",
                    why.0
                ))
            }
        };
        for call in &calls {
            let where_ = call
                .doc
                .path
                .as_deref()
                .and_then(|p| p.file_name())
                .map_or_else(
                    || "this file".to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
            match (call.how, &call.argument) {
                (CallKind::Module, _) => {
                    return refuse(format!(
                        "cannot rename `{name}`: {where_} imports this file as a module, and the \
                         module system passes `{name}` by its name"
                    ))
                }
                (_, None) => {
                    return refuse(format!(
                        "cannot rename `{name}`: a call in {where_} passes an argument that is \
                         not a set written out, so its names cannot be renamed with it"
                    ))
                }
                (CallKind::CallPackage, Some(argument)) => {
                    let written = resolver
                        .members(&SetView {
                            doc: call.doc.clone(),
                            node: argument.clone(),
                            prefix: Vec::new(),
                        })
                        .iter()
                        .any(|m| &m.name == name);
                    if !written {
                        return refuse(format!(
                            "cannot rename `{name}`: {where_} calls this file with \
                             `callPackage`, which passes `{name}` by its name"
                        ));
                    }
                }
                (CallKind::Direct, Some(_)) => {}
            }
        }
    }
    Ok((symbol, range))
}

/// The scope that binds `def`.
fn scope_of(model: &SemanticModel, def: DefId) -> Option<usize> {
    model.scopes.iter().position(|s| s.defs.contains(&def))
}

/// The 1-based line of an offset, for messages.
fn line(text: &str, at: TextSize) -> usize {
    text[..usize::from(at).min(text.len())]
        .matches('\n')
        .count()
        + 1
}

/// Refuses a rename that would change what a name means.
fn check_conflicts(
    doc: &Doc,
    model: &SemanticModel,
    d: DefId,
    new: &str,
) -> Result<(), RenameError> {
    let text = doc.text();
    let old = &model.defs[d].name;
    let Some(own) = scope_of(model, d) else {
        return refuse(format!("the scope of `{old}` was not found"));
    };
    // The new name is already bound beside it.
    if let Some(&other) = model.scopes[own]
        .defs
        .iter()
        .find(|&&o| o != d && model.defs[o].name == new)
    {
        return refuse(format!(
            "`{new}` is already bound at line {}, beside `{old}`",
            line(text, model.defs[other].range.start())
        ));
    }
    // A use of the binding would find another `new` first.
    for &r in &model.uses[d] {
        let at = model.refs[r].range.start();
        for s in model.scopes_at(at) {
            if s == own {
                break;
            }
            if let Some(&other) = model.scopes[s]
                .defs
                .iter()
                .find(|&&o| model.defs[o].name == new)
            {
                return refuse(format!(
                    "renaming `{old}` to `{new}` would make its use at line {} mean the `{new}` \
                     bound at line {}",
                    line(text, at),
                    line(text, model.defs[other].range.start())
                ));
            }
        }
    }
    // Another `new` used where the renamed binding is visible would mean it.
    let visible = model.scopes[own].range;
    for r in &model.refs {
        if !visible.contains_range(r.range) || &text[r.range] != new {
            continue;
        }
        let captured = match r.resolution {
            Resolution::Def(e) => match scope_of(model, e) {
                // Bound in a scope inside the renamed one: stays bound there.
                Some(s) => {
                    let inner = model.scopes[s].range;
                    !(visible.contains_range(inner) && inner != visible)
                }
                None => true,
            },
            Resolution::Builtin | Resolution::With(_) | Resolution::Undefined => true,
        };
        if captured {
            return refuse(format!(
                "renaming `{old}` to `{new}` would make the `{new}` used at line {} mean the \
                 renamed binding",
                line(text, r.range.start())
            ));
        }
    }
    Ok(())
}

/// A caller's argument set that already has the new name.
fn check_callers_free(
    doc: &Rc<Doc>,
    field: DefId,
    new: &str,
    resolver: &Resolver,
) -> Result<(), RenameError> {
    let Some(lambda) = lambda_of_field(doc, field) else {
        return Ok(());
    };
    let Ok(calls) = calls_of(doc, &lambda, resolver) else {
        return Ok(());
    };
    for call in calls {
        let Some(argument) = call.argument else {
            continue;
        };
        let view = SetView {
            doc: call.doc.clone(),
            node: argument,
            prefix: Vec::new(),
        };
        if let Some(m) = resolver.members(&view).iter().find(|m| m.name == new) {
            return refuse(format!(
                "a caller already passes `{new}` (line {}{})",
                line(m.doc.text(), m.name_range.start()),
                m.doc
                    .path
                    .as_deref()
                    .and_then(|p| p.file_name())
                    .map_or_else(String::new, |n| format!(" of {}", n.to_string_lossy()))
            ));
        }
    }
    Ok(())
}

/// The edit for one place the binding is named in `target`.
fn edit_for(
    target: &Doc,
    occurrence: &Occurrence,
    old: &str,
    new: &str,
) -> Result<TextEdit, RenameError> {
    let range = occurrence.at.range;
    let Some(root) = target.root() else {
        return refuse("a file to edit has no syntax tree");
    };
    let name = root.covering_element(range).ancestors().find(|n| {
        n.text_range() == range && matches!(n.kind(), NODE_IDENT | NODE_STRING | NODE_DYNAMIC)
    });
    let inherit = name
        .as_ref()
        .and_then(|n| n.parent())
        .filter(|p| p.kind() == NODE_INHERIT);
    let (Some(name), Some(inherit)) = (name, inherit) else {
        return Ok(TextEdit::replace(range, new.to_string()));
    };
    // `inherit` keeps the attribute's name and reads the value of the same
    // name: one side of it changes, so it becomes a binding.
    let from = inherit
        .children()
        .find(|c| c.kind() == NODE_INHERIT_FROM)
        .and_then(|f| f.children().next());
    let (binding, value_name) = if occurrence.declaration || occurrence.key {
        (new, old)
    } else {
        (old, new)
    };
    let value = match &from {
        Some(from) => format!("{}.{}", select_base(from), attr_text(value_name)),
        None => value_name.to_string(),
    };
    Ok(rewrite_inherit(
        &inherit,
        &name,
        &format!("{} = {value};", attr_text(binding)),
    ))
}

/// `inherit a b c;` without `b`, and `binding` after it (or in its place
/// when `b` was its only name).
fn rewrite_inherit(inherit: &SyntaxNode, attr: &SyntaxNode, binding: &str) -> TextEdit {
    let names = inherit
        .children()
        .filter(|c| c.kind() != NODE_INHERIT_FROM)
        .count();
    if names == 1 {
        return TextEdit::replace(inherit.text_range(), binding.to_string());
    }
    // Take the name and the space before it out; the binding goes after.
    let start = attr
        .prev_sibling_or_token()
        .filter(|t| t.kind() == TOKEN_WHITESPACE)
        .map_or(attr.text_range().start(), |t| t.text_range().start());
    let inherit_text = inherit.text().to_string();
    let cut = TextRange::new(start, attr.text_range().end()) - inherit.text_range().start();
    let mut kept = inherit_text.clone();
    kept.replace_range(usize::from(cut.start())..usize::from(cut.end()), "");
    TextEdit::replace(inherit.text_range(), format!("{kept} {binding}"))
}

/// An expression as the base of a selection: parenthesised unless it
/// already binds tighter than `.`.
fn select_base(node: &SyntaxNode) -> String {
    let text = node.text().to_string();
    match node.kind() {
        NODE_IDENT | NODE_SELECT | NODE_PAREN | NODE_ATTR_SET => text,
        _ => format!("({text})"),
    }
}

/// A name as an attribute: as it is when it is an identifier, else quoted.
fn attr_text(name: &str) -> String {
    if is_identifier(name) {
        name.to_string()
    } else {
        let escaped = name
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace("${", "\\${");
        format!("\"{escaped}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use expect_test::{expect, Expect};

    fn check(fixture: &str, new: &str, expect: Expect) {
        let f = Fixture::parse(fixture);
        let doc = f.doc();
        let result = match super::rename(&doc, f.offset(), new, &f) {
            Ok(files) => files
                .iter()
                .map(|file| {
                    let path = file.file.as_deref().unwrap_or(&f.main);
                    let text = crate::syntax::apply_edits(f.text_of(Some(path)), &file.edits);
                    // The result must parse.
                    assert!(
                        crate::syntax::parse(&text).errors().is_empty(),
                        "{text} does not parse"
                    );
                    format!("{}: {}", path.display(), text.trim_end())
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => format!("refused: {e}"),
        };
        expect.assert_eq(&result);
    }

    #[test]
    fn renames_a_let_binding_and_its_uses() {
        check(
            "let a$0 = 1; b = a + a; in b",
            "x",
            expect![[r#"/main.nix: let x = 1; b = x + x; in b"#]],
        );
    }

    #[test]
    fn inherit_keeps_the_attribute_name() {
        check(
            "let a$0 = 1; in { inherit a; b = a; }",
            "x",
            expect![[r#"/main.nix: let x = 1; in { a = x; b = x; }"#]],
        );
        check(
            "let a$0 = 1; c = 2; in { inherit a c; }",
            "x",
            expect![[r#"/main.nix: let x = 1; c = 2; in { inherit c; a = x; }"#]],
        );
        check(
            "let s = { a = 1; }; inherit (s) a$0; in a",
            "x",
            expect![[r#"/main.nix: let s = { a = 1; }; x = s.a; in x"#]],
        );
    }

    #[test]
    fn pattern_fields_follow_the_at_name_and_the_callers() {
        check(
            "let f = args@{ a$0 ? 1, ... }: a + args.a; in f { a = 2; }",
            "x",
            expect![[r#"/main.nix: let f = args@{ x ? 1, ... }: x + args.x; in f { x = 2; }"#]],
        );
        check(
            r#"
//- /pkg.nix
{ src$0 }: src
//- /top.nix
let src = ./.; in import ./pkg.nix { inherit src; }
"#,
            "source",
            expect![[r#"
                /pkg.nix: { source }: source
                /top.nix: let src = ./.; in import ./pkg.nix { source = src; }"#]],
        );
    }

    #[test]
    fn refuses_what_would_change_meaning() {
        check(
            "let a$0 = 1; b = 2; in a + b",
            "b",
            expect![[r#"refused: `b` is already bound at line 1, beside `a`"#]],
        );
        check(
            "let a$0 = 1; in let b = 2; in a + b",
            "b",
            expect![[
                r#"refused: renaming `a` to `b` would make its use at line 1 mean the `b` bound at line 1"#
            ]],
        );
        check(
            "let a$0 = 1; in map (x: x + a) [ ]",
            "map",
            expect![[
                r#"refused: renaming `a` to `map` would make the `map` used at line 1 mean the renamed binding"#
            ]],
        );
        check(
            "with pkgs; let a$0 = 1; in hello + a",
            "hello",
            expect![[
                r#"refused: renaming `a` to `hello` would make the `hello` used at line 1 mean the renamed binding"#
            ]],
        );
        check(
            "let a$0 = 1; in a",
            "in",
            expect![[
                r#"refused: `in` is not a Nix name: use letters, digits, `_`, `'` and `-`, starting with a letter or `_`, and no keyword"#
            ]],
        );
    }

    #[test]
    fn refuses_what_cannot_be_sound() {
        check(
            "map$0 (x: x) [ ]",
            "f",
            expect![[r#"refused: `map` is a builtin of Nix and cannot be renamed"#]],
        );
        check(
            "with pkgs; hello$0",
            "f",
            expect![[
                r#"refused: `hello` comes from a `with`; rename it where that set defines it"#
            ]],
        );
        check(
            "{ stdenv$0, ... }: stdenv",
            "s",
            expect![[
                r#"refused: cannot rename the pattern field `stdenv`: no file of the workspace calls main.nix, so whatever calls it (callPackage, the module system) passes its arguments by name"#
            ]],
        );
        check(
            r#"
//- /pkg.nix
{ stdenv$0 }: stdenv
//- /top.nix
{ callPackage }: callPackage ./pkg.nix { }
"#,
            "s",
            expect![[
                r#"refused: cannot rename `stdenv`: top.nix calls this file with `callPackage`, which passes `stdenv` by its name"#
            ]],
        );
        check(
            r#"
//- /mod.nix
{ pkgs$0, ... }: { }
//- /configuration.nix
{ imports = [ ./mod.nix ]; }
"#,
            "p",
            expect![[
                r#"refused: cannot rename `pkgs`: configuration.nix imports this file as a module, and the module system passes `pkgs` by its name"#
            ]],
        );
        check(
            "map ({ name$0, value }: name) [ ]",
            "n",
            expect![[
                r#"refused: cannot rename the pattern field `name`: the function is passed on to code that calls it with arguments cim-nix cannot see"#
            ]],
        );
        check(
            r#"
//- /flake.nix
{ inputs.nixpkgs.url = "github:NixOS/nixpkgs"; outputs = { self, nixpkgs$0 }: { }; }
"#,
            "n",
            expect![[
                r#"refused: `nixpkgs` is an input of the flake, which Nix passes to `outputs` by its name; rename the input instead"#
            ]],
        );
    }
}
