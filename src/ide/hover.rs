//! Hover: what the name under the cursor is. A binding's kind and where it
//! is defined, with its definition; a builtin's signature, arity and
//! description however it is reached (`map`, `builtins.map`, `inherit
//! (builtins) map;`); a `lib` function's documentation from nixpkgs (`lib.
//! mkIf`, `inherit (lib) mkIf;`, a name from `with lib;`); an attribute of
//! a known set; a path's file; a flake input's lock.

use std::rc::Rc;

use rnix::{SyntaxKind, SyntaxNode, SyntaxToken};
use rowan::{TextRange, TextSize};

use super::sets::{is_builtins, static_names, Member, Resolver};
use super::{builtins, lib_docs, paths, token_at, Doc, PathKind, World};
use crate::analysis::semantic::{Def, DefKind, Resolution, SemanticModel};
use crate::flake::{FlakeLock, FlakeModel};
use crate::syntax::green::static_attr_name;

use SyntaxKind::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoverResult {
    /// What the hover is about (the name under the cursor).
    pub range: TextRange,
    pub markdown: String,
}

/// What hover needs beyond the file: a flake.nix's lock and the time, for
/// an input's age.
#[derive(Debug, Clone, Copy, Default)]
pub struct HoverContext<'a> {
    pub flake_lock: Option<&'a str>,
    pub now_unix: i64,
}

pub fn hover(
    doc: &Rc<Doc>,
    offset: TextSize,
    world: &dyn World,
    context: HoverContext<'_>,
) -> Option<HoverResult> {
    let root = doc.root()?;
    if let Some(found) = flake_input(doc, root, offset, context) {
        return Some(found);
    }
    let token = token_at(root, offset)?;
    let resolver = Resolver::new(world, doc.clone());
    match token.kind() {
        TOKEN_PATH_REL | TOKEN_PATH_ABS => path_hover(doc, &token, world),
        TOKEN_IDENT | TOKEN_STRING_CONTENT => name_hover(doc, &token, &resolver),
        _ => None,
    }
}

fn flake_input(
    doc: &Doc,
    root: &SyntaxNode,
    offset: TextSize,
    context: HoverContext<'_>,
) -> Option<HoverResult> {
    let is_flake = doc
        .path
        .as_deref()
        .and_then(|p| p.file_name())
        .is_some_and(|n| n == "flake.nix");
    if !is_flake {
        return None;
    }
    let model = FlakeModel::from_tree(root)?;
    let lock = context.flake_lock.and_then(|t| FlakeLock::parse(t).ok());
    let (range, markdown) =
        crate::flake::hover::hover(&model, lock.as_ref(), offset, context.now_unix)?;
    Some(HoverResult { range, markdown })
}

fn path_hover(doc: &Doc, token: &SyntaxToken, world: &dyn World) -> Option<HoverResult> {
    let literal = paths::literal(&token.parent()?)?;
    let absolute = paths::absolute(doc.path.as_deref(), &literal)?;
    let what = match world.path_kind(&absolute) {
        PathKind::File => "file".to_string(),
        PathKind::Directory => {
            let default = absolute.join("default.nix");
            if world.path_kind(&default) == PathKind::File {
                "directory (`import` reads its `default.nix`)".to_string()
            } else {
                "directory".to_string()
            }
        }
        PathKind::Missing => "does not exist".to_string(),
    };
    Some(HoverResult {
        range: token.text_range(),
        markdown: format!("`{}`\n\n{what}", absolute.display()),
    })
}

fn name_hover(doc: &Rc<Doc>, token: &SyntaxToken, resolver: &Resolver) -> Option<HoverResult> {
    let model = doc.model()?;
    let range = token.text_range();
    let result = |markdown: String| Some(HoverResult { range, markdown });
    if let Some(r) = model
        .ref_at(range.start())
        .filter(|&r| model.refs[r].range == range)
    {
        return match model.refs[r].resolution {
            Resolution::Def(d) => result(def_markdown(doc, model, &model.defs[d], resolver)),
            Resolution::Builtin => result(builtin_markdown(token.text())?),
            Resolution::With(w) => result(with_markdown(doc, model, w, token.text(), resolver)?),
            Resolution::Undefined => None,
        };
    }
    // A name as an attribute: the node that writes it and what holds it.
    let attr = token
        .parent()?
        .ancestors()
        .find(|n| matches!(n.kind(), NODE_IDENT | NODE_STRING))?;
    let attr = match attr.parent() {
        Some(p) if p.kind() == NODE_DYNAMIC => p,
        _ => attr,
    };
    if let Some(d) = model.defs.iter().find(|d| d.range == attr.text_range()) {
        return Some(HoverResult {
            range: attr.text_range(),
            markdown: def_markdown(doc, model, d, resolver),
        });
    }
    let holder = attr.parent()?;
    let name = static_attr_name(&attr)?;
    let markdown = match holder.kind() {
        NODE_ATTRPATH => {
            let owner = holder.parent()?;
            if !matches!(owner.kind(), NODE_SELECT | NODE_HAS_ATTR) {
                return None;
            }
            let base = owner.children().next()?;
            let names = static_names(&holder)?;
            let index = holder.children().position(|a| a == attr)?;
            if index == 0 && is_builtins(doc, &base) {
                builtin_markdown(&name)?
            } else if let Some(docs) = lib_path(doc, &base, &names[..=index], resolver)
                .and_then(|p| lib_docs::markdown(&p))
            {
                docs
            } else {
                let mut sets = resolver.sets_of(doc, &base);
                for n in &names[..index] {
                    sets = resolver.member_sets(&sets, n);
                }
                members_markdown(doc, &resolver.lookup(&sets, &name))?
            }
        }
        NODE_INHERIT => {
            let from = holder
                .children()
                .find(|c| c.kind() == NODE_INHERIT_FROM)?
                .children()
                .next()?;
            if is_builtins(doc, &from) {
                builtin_markdown(&name)?
            } else if let Some(docs) = lib_path(doc, &from, std::slice::from_ref(&name), resolver)
                .and_then(|p| lib_docs::markdown(&p))
            {
                docs
            } else {
                let sets = resolver.sets_of(doc, &from);
                members_markdown(doc, &resolver.lookup(&sets, &name))?
            }
        }
        _ => return None,
    };
    Some(HoverResult {
        range: attr.text_range(),
        markdown,
    })
}

fn builtin_markdown(name: &str) -> Option<String> {
    builtins::find(name).map(builtins::markdown)
}

/// The 1-based line of an offset.
fn line(text: &str, at: TextSize) -> usize {
    text[..usize::from(at).min(text.len())]
        .matches('\n')
        .count()
        + 1
}

/// A definition's text, at most a few lines.
fn snippet(text: &str, range: TextRange) -> String {
    let body = &text[range];
    let lines: Vec<&str> = body.lines().collect();
    let mut shown = lines.iter().take(6).copied().collect::<Vec<_>>().join("\n");
    if lines.len() > 6 {
        shown.push_str("\n…");
    }
    // Lines after the first keep the file's indentation; take off what
    // they share.
    dedent_tail(&shown)
}

fn dedent_tail(text: &str) -> String {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    let rest: Vec<&str> = lines.collect();
    let common = rest
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let indent = common.saturating_sub(2);
    let mut out = first.to_string();
    for l in rest {
        out.push('\n');
        out.push_str(l.get(indent..).unwrap_or(l.trim_start()));
    }
    out
}

fn def_markdown(doc: &Rc<Doc>, model: &SemanticModel, def: &Def, resolver: &Resolver) -> String {
    let text = doc.text();
    let kind = match def.kind {
        DefKind::LetBinding => "`let` binding",
        DefKind::LetInherit => "inherited binding",
        DefKind::LambdaArg => "function argument",
        DefKind::PatternField => "pattern field",
        DefKind::PatternBind => "`@` binding of a pattern",
        DefKind::RecMember => "attribute of a `rec` set",
    };
    let site = def.sites.first().map_or(def.range, |s| s.range);
    let mut out = format!(
        "```nix\n{}\n```\n{kind} `{}` · line {}",
        snippet(text, site),
        def.name,
        line(text, def.range.start())
    );
    if def.sites.len() > 1 {
        out.push_str(&format!(" (and {} more)", def.sites.len() - 1));
    }
    // `inherit (builtins) map;`, `inherit (lib) mkIf;`, `mkIf = lib.mkIf;`:
    // the documentation of what it names.
    if let Some(extra) = alias_docs(doc, model, def, resolver) {
        out.push_str("\n\n---\n\n");
        out.push_str(&extra);
    }
    out
}

/// The documentation of the builtin or `lib` function a binding names.
fn alias_docs(
    doc: &Rc<Doc>,
    model: &SemanticModel,
    def: &Def,
    resolver: &Resolver,
) -> Option<String> {
    let root = doc.root()?;
    let site = def.sites.first()?.node(root)?;
    match def.kind {
        DefKind::LetInherit => {
            let from = site
                .children()
                .find(|c| c.kind() == NODE_INHERIT_FROM)?
                .children()
                .next()?;
            if is_builtins(doc, &from) {
                return builtin_markdown(&def.name);
            }
            lib_docs::markdown(&lib_path(
                doc,
                &from,
                std::slice::from_ref(&def.name),
                resolver,
            )?)
        }
        DefKind::LetBinding => {
            let value = super::sets::strip_parens(&site.children().nth(1)?);
            match value.kind() {
                NODE_SELECT => {
                    let base = value.children().next()?;
                    let names = static_names(&value.children().nth(1)?)?;
                    if names.len() == 1 && is_builtins(doc, &base) {
                        return builtin_markdown(&names[0]);
                    }
                    lib_docs::markdown(&lib_path(doc, &base, &names, resolver)?)
                }
                NODE_IDENT => {
                    let r = model.ref_at(value.text_range().start())?;
                    (model.refs[r].resolution == Resolution::Builtin)
                        .then(|| builtin_markdown(&value.text().to_string()))
                        .flatten()
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// A name from `with`: the attribute when the set is known, else the
/// `with`s it may come from; a `with lib;` name's documentation.
fn with_markdown(
    doc: &Rc<Doc>,
    model: &SemanticModel,
    innermost: usize,
    name: &str,
    resolver: &Resolver,
) -> Option<String> {
    let root = doc.root()?;
    let text = doc.text();
    let mut candidates = Vec::new();
    for w in model.with_chain(innermost) {
        let with = &model.withs[w];
        let env = root
            .covering_element(with.range)
            .into_node()
            .and_then(|n| n.children().next())?;
        if let Some(docs) =
            lib_path(doc, &env, &[name.into()], resolver).and_then(|p| lib_docs::markdown(&p))
        {
            return Some(docs);
        }
        if is_builtins(doc, &env) {
            if let Some(docs) = builtin_markdown(name) {
                return Some(docs);
            }
        }
        let sets = resolver.sets_of(doc, &env);
        let found = resolver.lookup(&sets, name);
        if !found.is_empty() {
            return members_markdown(doc, &found);
        }
        if sets.is_empty() {
            candidates.push(format!("`with {};`", text[env.text_range()].trim()));
        }
    }
    Some(format!(
        "`{name}` · from {}",
        if candidates.is_empty() {
            "a `with`".to_string()
        } else {
            candidates.join(" or ")
        }
    ))
}

fn members_markdown(doc: &Rc<Doc>, members: &[Member]) -> Option<String> {
    let first = members.first()?;
    let text = first.doc.text();
    let where_ = match (&first.doc.path, Rc::ptr_eq(&first.doc, doc)) {
        (Some(path), false) => format!(
            "{}, line {}",
            path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned()
            ),
            line(text, first.name_range.start())
        ),
        _ => format!("line {}", line(text, first.name_range.start())),
    };
    Some(format!(
        "```nix\n{}\n```\nattribute `{}` · {where_}",
        snippet(text, first.entry.text_range()),
        first.name
    ))
}

/// The `lib` path an expression and attribute names spell, when the
/// expression is nixpkgs' `lib`: a name `lib` that is no local set
/// (a module's or package's argument, `pkgs.lib`, `inputs.nixpkgs.lib`),
/// or a binding to such a `lib` or a part of it (`strings = lib.strings`).
fn lib_path(
    doc: &Rc<Doc>,
    base: &SyntaxNode,
    names: &[smol_str::SmolStr],
    resolver: &Resolver,
) -> Option<String> {
    let base = super::sets::strip_parens(base);
    let mut path: Vec<String> = Vec::new();
    let mut node = base;
    // Walk a selection chain down to its root name: `pkgs.lib.strings`.
    for _ in 0..16 {
        match node.kind() {
            NODE_SELECT => {
                let names = static_names(&node.children().nth(1)?)?;
                for n in names.iter().rev() {
                    path.insert(0, n.to_string());
                }
                node = node.children().next()?;
            }
            NODE_IDENT => break,
            _ => return None,
        }
    }
    let root_name = node.text().to_string();
    // Through `let l = lib;` / `let strings = lib.strings;`.
    if let Some(model) = doc.model() {
        if let Some(r) = model.ref_at(node.text_range().start()) {
            if let Resolution::Def(d) = model.refs[r].resolution {
                let def = &model.defs[d];
                if matches!(def.kind, DefKind::LetBinding) {
                    let site = def.sites.first()?.node(doc.root()?)?;
                    let value = site.children().nth(1)?;
                    let mut full: Vec<smol_str::SmolStr> =
                        path.iter().map(|s| s.as_str().into()).collect();
                    full.extend(names.iter().cloned());
                    if !resolver.sets_of(doc, &value).is_empty() {
                        return None;
                    }
                    return lib_path(doc, &value, &full, resolver);
                }
            }
        }
    }
    // `pkgs.lib.x`, `nixpkgs.lib.x`: what comes after `lib`.
    let mut all: Vec<String> = std::iter::once(root_name).chain(path).collect();
    all.extend(names.iter().map(|n| n.to_string()));
    let at = all.iter().position(|n| n == "lib")?;
    if at > 2 {
        return None;
    }
    Some(all[at..].join("."))
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::*;
    use expect_test::{expect, Expect};

    fn check(fixture: &str, expect: Expect) {
        let f = Fixture::parse(fixture);
        let doc = f.doc();
        let found = hover(&doc, f.offset(), &f, HoverContext::default());
        let text = match found {
            Some(h) => format!("[{}]\n{}", &f.text_of(None)[h.range], h.markdown),
            None => "none".into(),
        };
        expect.assert_eq(&text);
    }

    #[test]
    fn bindings_say_their_kind_and_place() {
        check(
            "let\n  double = x:\n    x * 2;\nin double$0 1",
            expect![[r#"
                [double]
                ```nix
                double = x:
                  x * 2;
                ```
                `let` binding `double` · line 2"#]],
        );
        check(
            "{ a ? 1, b }: a$0",
            expect![[r#"
                [a]
                ```nix
                a ? 1
                ```
                pattern field `a` · line 1"#]],
        );
    }

    #[test]
    fn builtins_however_they_are_reached() {
        let direct = "map$0 (x: x) [ ]";
        let through = "builtins.map$0 (x: x) [ ]";
        let inherited = "let inherit (builtins) elemAt; in elemAt$0 [ 1 ] 0";
        for (text, name) in [(direct, "map"), (through, "map")] {
            let f = Fixture::parse(text);
            let h = hover(&f.doc(), f.offset(), &f, HoverContext::default()).unwrap();
            assert_eq!(&f.text_of(None)[h.range], name);
            assert!(
                h.markdown
                    .starts_with("```nix\nmap f list\n```\nbuiltin function of 2 arguments"),
                "{}",
                h.markdown
            );
        }
        let f = Fixture::parse(inherited);
        let h = hover(&f.doc(), f.offset(), &f, HoverContext::default()).unwrap();
        assert!(
            h.markdown.contains("inherited binding `elemAt`"),
            "{}",
            h.markdown
        );
        assert!(
            h.markdown.contains("builtins.elemAt list index"),
            "{}",
            h.markdown
        );
        // A local `map` is not the builtin.
        let f = Fixture::parse("let map = 1; in map$0");
        let h = hover(&f.doc(), f.offset(), &f, HoverContext::default()).unwrap();
        assert!(!h.markdown.contains("builtin"), "{}", h.markdown);
    }

    #[test]
    fn attributes_of_known_sets_and_names_from_with() {
        check(
            "let s = { a = 1; }; in s.a$0",
            expect![[r#"
                [a]
                ```nix
                a = 1;
                ```
                attribute `a` · line 1"#]],
        );
        check(
            "{ pkgs }: with pkgs; hello$0",
            expect![[r#"
                [hello]
                `hello` · from `with pkgs;`"#]],
        );
    }

    #[test]
    fn paths_say_what_they_name() {
        check(
            "//- /main.nix\nimport ./lib$0\n//- /lib/default.nix\n{ }\n",
            expect![[r#"
                [./lib]
                `/lib`

                directory (`import` reads its `default.nix`)"#]],
        );
    }
}
