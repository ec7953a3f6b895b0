//! Go to definition: from a name to where it is bound (a `let`, a `rec`
//! member, a lambda's argument or pattern field, an `inherit`), from a
//! name a `with` provides to that attribute or to every `with` it may come
//! from, from an attribute path (`s.a.b`, `inherit (s) a`) to the
//! attribute's definition, from a path literal to the file it names
//! (`dir/default.nix` for a directory, across files for `import`), and in
//! a flake from an input's use to its declaration.

use std::rc::Rc;

use rnix::{SyntaxKind, SyntaxNode, SyntaxToken};
use rowan::{TextRange, TextSize};

use super::sets::{static_names, Member, Resolver, SetView};
use super::{paths, token_at, Doc, PathKind, Target, World};
use crate::analysis::semantic::{DefId, DefKind, Resolution, SemanticModel};
use crate::flake::FlakeModel;
use crate::syntax::green::static_attr_name;

use SyntaxKind::*;

/// Where the name or path at `offset` is defined; empty when that is not
/// known (a builtin, a name from an unknown `with`, `pkgs.hello`).
pub fn goto_definition(doc: &Rc<Doc>, offset: TextSize, world: &dyn World) -> Vec<Target> {
    let Some(root) = doc.root() else {
        return Vec::new();
    };
    let Some(token) = token_at(root, offset) else {
        return Vec::new();
    };
    let resolver = Resolver::new(world, doc.clone());
    match token.kind() {
        TOKEN_PATH_REL | TOKEN_PATH_ABS => path_target(doc, &token, world).into_iter().collect(),
        TOKEN_IDENT => ident_targets(doc, &token, &resolver),
        _ => Vec::new(),
    }
}

/// The file a path literal names, when it exists.
fn path_target(doc: &Doc, token: &SyntaxToken, world: &dyn World) -> Option<Target> {
    let literal = paths::literal(&token.parent()?)?;
    let path = paths::resolve(doc.path.as_deref(), &literal, world)?;
    (world.path_kind(&path) == PathKind::File).then(|| Target {
        file: Some(path),
        range: TextRange::empty(0.into()),
        focus: TextRange::empty(0.into()),
    })
}

fn ident_targets(doc: &Rc<Doc>, token: &SyntaxToken, resolver: &Resolver) -> Vec<Target> {
    let Some(model) = doc.model() else {
        return Vec::new();
    };
    let range = token.text_range();
    if let Some(r) = model
        .ref_at(range.start())
        .filter(|&r| model.refs[r].range == range)
    {
        return match model.refs[r].resolution {
            Resolution::Def(d) => def_targets(doc, model, d),
            Resolution::With(w) => with_targets(doc, model, w, token.text(), resolver),
            Resolution::Builtin | Resolution::Undefined => Vec::new(),
        };
    }
    let Some(ident) = token.parent() else {
        return Vec::new();
    };
    let Some(holder) = ident.parent() else {
        return Vec::new();
    };
    match holder.kind() {
        NODE_ATTRPATH => attrpath_targets(doc, &ident, &holder, resolver),
        NODE_INHERIT => {
            // `inherit (s) a;`: the attribute `a` of `s`.
            let from = holder
                .children()
                .find(|c| c.kind() == NODE_INHERIT_FROM)
                .and_then(|f| f.children().next());
            let found = match (from, static_attr_name(&ident)) {
                (Some(from), Some(name)) => {
                    let sets = resolver.sets_of(doc, &from);
                    member_targets(doc, &resolver.lookup(&sets, &name))
                }
                _ => Vec::new(),
            };
            if found.is_empty() {
                own_def(doc, model, range)
            } else {
                found
            }
        }
        _ => match flake_input_of_pattern_field(doc, model, range) {
            Some(targets) => targets,
            None => own_def(doc, model, range),
        },
    }
}

/// A definition's name is its own definition.
fn own_def(doc: &Doc, model: &SemanticModel, range: TextRange) -> Vec<Target> {
    match model.defs.iter().position(|d| d.range == range) {
        Some(d) => def_targets(doc, model, d),
        None => Vec::new(),
    }
}

/// Every place `def` is defined: one per entry (`a.b = 1; a.c = 2;`).
pub(crate) fn def_targets(doc: &Doc, model: &SemanticModel, def: DefId) -> Vec<Target> {
    let d = &model.defs[def];
    let Some(root) = doc.root() else {
        return Vec::new();
    };
    d.sites
        .iter()
        .map(|site| {
            let focus = site
                .node(root)
                .and_then(|node| name_in_site(&node, &d.name))
                .unwrap_or(d.range);
            Target {
                file: None,
                range: site.range,
                focus,
            }
        })
        .collect()
}

/// Where a definition's name is written in one of its sites.
pub(crate) fn name_in_site(site: &SyntaxNode, name: &str) -> Option<TextRange> {
    match site.kind() {
        NODE_ATTRPATH_VALUE => {
            let first = site.children().next()?.children().next()?;
            Some(first.text_range())
        }
        NODE_INHERIT => site
            .children()
            .filter(|c| c.kind() != NODE_INHERIT_FROM)
            .find(|a| static_attr_name(a).as_deref() == Some(name))
            .map(|a| a.text_range()),
        NODE_PAT_ENTRY | NODE_PAT_BIND | NODE_IDENT_PARAM => site
            .descendants()
            .find(|c| c.kind() == NODE_IDENT && c.text() == name)
            .map(|n| n.text_range()),
        _ => None,
    }
}

/// A name no lexical binding has: the attribute of the innermost `with`
/// whose set is known and has it, and every `with` inside that one whose
/// set is not known (the name may come from any of them).
fn with_targets(
    doc: &Rc<Doc>,
    model: &SemanticModel,
    innermost: usize,
    name: &str,
    resolver: &Resolver,
) -> Vec<Target> {
    let Some(root) = doc.root() else {
        return Vec::new();
    };
    let mut targets = Vec::new();
    for w in model.with_chain(innermost) {
        let with = &model.withs[w];
        let Some(node) = root
            .covering_element(with.range)
            .into_node()
            .filter(|n| n.kind() == NODE_WITH)
        else {
            continue;
        };
        let Some(env) = node.children().next() else {
            continue;
        };
        let sets = resolver.sets_of(doc, &env);
        if sets.is_empty() {
            // `with e;`, up to its `;`.
            let end = node
                .children_with_tokens()
                .find(|t| t.kind() == TOKEN_SEMICOLON)
                .map_or(with.body_start, |t| t.text_range().end());
            targets.push(Target {
                file: None,
                range: TextRange::new(with.range.start(), end),
                focus: env.text_range(),
            });
            continue;
        }
        let found = resolver.lookup(&sets, name);
        if !found.is_empty() {
            targets.extend(member_targets(doc, &found));
            break;
        }
    }
    targets
}

/// An attribute in a path: `s.a.b` (a selection or `?`) goes to the
/// attribute's definition; in a flake, `inputs.x` goes to the input.
fn attrpath_targets(
    doc: &Rc<Doc>,
    attr: &SyntaxNode,
    path: &SyntaxNode,
    resolver: &Resolver,
) -> Vec<Target> {
    let Some(holder) = path.parent() else {
        return Vec::new();
    };
    let attrs: Vec<SyntaxNode> = path.children().collect();
    let Some(at) = attrs.iter().position(|a| a == attr) else {
        return Vec::new();
    };
    match holder.kind() {
        NODE_SELECT | NODE_HAS_ATTR => {
            let Some(base) = holder.children().next() else {
                return Vec::new();
            };
            let Some(names) = static_names(path) else {
                return Vec::new();
            };
            if let Some(targets) = flake_input_of_select(doc, &base, &names[..=at]) {
                return targets;
            }
            let mut sets: Vec<SetView> = resolver.sets_of(doc, &base);
            for name in &names[..at] {
                sets = resolver.member_sets(&sets, name);
            }
            member_targets(doc, &resolver.lookup(&sets, &names[at]))
        }
        NODE_ATTRPATH_VALUE => {
            // `inputs.x.url = ...;` in a flake: the input's declaration.
            let names = static_names(path).unwrap_or_default();
            if at == 1 && names.first().is_some_and(|n| n == "inputs") && is_top_level(&holder) {
                if let Some(targets) = flake_input(doc, &names[1]) {
                    return targets;
                }
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}

pub(crate) fn member_targets(doc: &Rc<Doc>, members: &[Member]) -> Vec<Target> {
    members
        .iter()
        .map(|m| Target {
            file: if Rc::ptr_eq(&m.doc, doc) {
                None
            } else {
                m.doc.path.clone()
            },
            range: m.entry.text_range(),
            focus: m.name_range,
        })
        .collect()
}

/// Whether a binding is a member of the file's top-level set.
fn is_top_level(binding: &SyntaxNode) -> bool {
    binding
        .parent()
        .and_then(|set| set.parent())
        .is_some_and(|p| p.kind() == NODE_ROOT)
}

fn is_flake(doc: &Doc) -> bool {
    doc.path
        .as_deref()
        .and_then(|p| p.file_name())
        .is_some_and(|n| n == "flake.nix")
}

/// The declaration of the input `name` of this flake.
fn flake_input(doc: &Doc, name: &str) -> Option<Vec<Target>> {
    if !is_flake(doc) {
        return None;
    }
    let model = FlakeModel::from_tree(doc.root()?)?;
    let input = model.input(name)?;
    let first = *input.sites.first()?;
    Some(vec![Target {
        file: None,
        range: first,
        focus: first,
    }])
}

/// The pattern of the flake's `outputs` function.
fn outputs_pattern(doc: &Doc) -> Option<SyntaxNode> {
    let root = doc.root()?;
    let set = root.children().next()?;
    let set = super::sets::strip_parens(&set);
    set.children()
        .filter(|c| c.kind() == NODE_ATTRPATH_VALUE)
        .find(|b| {
            b.children()
                .next()
                .and_then(|p| static_names(&p))
                .is_some_and(|n| n.len() == 1 && n[0] == "outputs")
        })
        .and_then(|b| b.children().nth(1))
        .filter(|v| v.kind() == NODE_LAMBDA)
        .and_then(|l| l.children().next())
        .filter(|p| p.kind() == NODE_PATTERN)
}

/// Whether `range` is the name of a field of a flake's `outputs` pattern.
pub(crate) fn is_outputs_field(doc: &Doc, range: TextRange) -> bool {
    is_flake(doc) && outputs_pattern(doc).is_some_and(|p| p.text_range().contains_range(range))
}

/// On a field of the flake's `outputs` pattern (`{ self, nixpkgs }:`):
/// the input it receives.
fn flake_input_of_pattern_field(
    doc: &Doc,
    model: &SemanticModel,
    range: TextRange,
) -> Option<Vec<Target>> {
    if !is_flake(doc) {
        return None;
    }
    let d = model.defs.iter().find(|d| d.range == range)?;
    if d.kind != DefKind::PatternField {
        return None;
    }
    let pattern = outputs_pattern(doc)?;
    if !pattern.text_range().contains_range(range) {
        return None;
    }
    flake_input(doc, &d.name)
}

/// `inputs.x` where `inputs` is the `@` name of the flake's `outputs`
/// pattern: the input `x`.
fn flake_input_of_select(
    doc: &Doc,
    base: &SyntaxNode,
    names: &[smol_str::SmolStr],
) -> Option<Vec<Target>> {
    if names.len() != 1 || base.kind() != NODE_IDENT || !is_flake(doc) {
        return None;
    }
    let model = doc.model()?;
    let r = model.ref_at(base.text_range().start())?;
    let Resolution::Def(d) = model.refs[r].resolution else {
        return None;
    };
    let def = &model.defs[d];
    if def.kind != DefKind::PatternBind {
        return None;
    }
    let pattern = outputs_pattern(doc)?;
    let bind_site = def.sites.first()?;
    if !pattern
        .parent()?
        .text_range()
        .contains_range(bind_site.range)
    {
        return None;
    }
    flake_input(doc, &names[0])
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use expect_test::{expect, Expect};

    fn check(fixture: &str, expect: Expect) {
        let f = Fixture::parse(fixture);
        let doc = f.doc();
        let targets = super::goto_definition(&doc, f.offset(), &f);
        expect.assert_eq(&f.render_targets(&targets));
    }

    #[test]
    fn let_bindings_and_rec_members() {
        check(
            "let a = 1; b = a$0 + 1; in b",
            expect![[r#"
                /main.nix: let «a = 1;» b = a + 1; in b (focus a)"#]],
        );
        check(
            "rec { x = 1; y = x$0; }",
            expect![[r#"
                /main.nix: rec { «x = 1;» y = x; } (focus x)"#]],
        );
    }

    #[test]
    fn lambda_arguments_pattern_fields_and_at_names() {
        check(
            "x: y: x$0 + y",
            expect![[r#"
                /main.nix: «x»: y: x + y (focus x)"#]],
        );
        check(
            "{ a ? 1, b ? a$0 }: b",
            expect![[r#"
                /main.nix: { «a ? 1», b ? a }: b (focus a)"#]],
        );
        check(
            "args@{ a, ... }: args$0.a",
            expect![[r#"
                /main.nix: «args@»{ a, ... }: args.a (focus args)"#]],
        );
    }

    #[test]
    fn inherit_goes_outside_and_inherit_from_into_the_set() {
        check(
            "let x = 1; in { inherit x$0; }",
            expect![[r#"
                /main.nix: let «x = 1;» in { inherit x; } (focus x)"#]],
        );
        check(
            "let s = { a = 1; }; in { inherit (s) a$0; }",
            expect![[r#"
                /main.nix: let s = { «a = 1;» }; in { inherit (s) a; } (focus a)"#]],
        );
        check(
            "let s = { a = 1; }; inherit (s) a; in a$0",
            expect![[r#"
                /main.nix: let s = { a = 1; }; «inherit (s) a;» in a (focus a)"#]],
        );
    }

    #[test]
    fn dotted_bindings_have_a_site_each() {
        check(
            "let a.b = 1; a.c = 2; in a$0",
            expect![[r#"
                /main.nix: let «a.b = 1;» a.c = 2; in a (focus a)
                /main.nix: let a.b = 1; «a.c = 2;» in a (focus a)"#]],
        );
    }

    #[test]
    fn attribute_paths_reach_nested_and_merged_sets() {
        check(
            "let s = { a = { b = 1; }; a.c = 2; }; in s.a.c$0",
            expect![[r#"
                /main.nix: let s = { a = { b = 1; }; «a.c = 2;» }; in s.a.c (focus c)"#]],
        );
        check(
            "let s = { a = 1; } // { b = 2; }; in s ? b$0",
            expect![[r#"
                /main.nix: let s = { a = 1; } // { «b = 2;» }; in s ? b (focus b)"#]],
        );
        check(
            "let f = x: { out = x; }; in (f 1).out$0",
            expect![[r#"
                /main.nix: let f = x: { «out = x;» }; in (f 1).out (focus out)"#]],
        );
    }

    #[test]
    fn names_from_with_go_to_the_attribute_or_every_candidate() {
        check(
            "let s = { a = 1; }; in with s; a$0",
            expect![[r#"
                /main.nix: let s = { «a = 1;» }; in with s; a (focus a)"#]],
        );
        check(
            "{ pkgs, lib }: with pkgs; with lib; hello$0",
            expect![[r#"
                /main.nix: { pkgs, lib }: with pkgs; «with lib;» hello (focus lib)
                /main.nix: { pkgs, lib }: «with pkgs;» with lib; hello (focus pkgs)"#]],
        );
    }

    #[test]
    fn a_shadowing_binding_wins_and_builtins_go_nowhere() {
        check(
            "let map = 1; in let f = map$0; in f",
            expect![[r#"
                /main.nix: let «map = 1;» in let f = map; in f (focus map)"#]],
        );
        check("map$0 (x: x) [ ]", expect![[r#""#]]);
    }

    #[test]
    fn paths_and_imports_go_to_files() {
        check(
            r#"
//- /main.nix
import ./lib.nix$0
//- /lib.nix
{ a = 1; }
"#,
            expect![[r#"
                /lib.nix: «»{ a = 1; } (focus )"#]],
        );
        check(
            r#"
//- /main.nix
{ imports = [ ./mod$0 ]; }
//- /mod/default.nix
{ }
"#,
            expect![[r#"
                /mod/default.nix: «»{ } (focus )"#]],
        );
        check(
            r#"
//- /main.nix
let lib = import ./lib.nix; in lib.double$0 2
//- /lib.nix
{ double = x: x * 2; }
"#,
            expect![[r#"
                /lib.nix: { «double = x: x * 2;» } (focus double)"#]],
        );
        check(
            r#"
//- /main.nix
let inherit (builtins) import; in (import ./lib.nix { }).value$0
//- /lib.nix
{ }: { value = 1; }
"#,
            expect![[r#"
                /lib.nix: { }: { «value = 1;» } (focus value)"#]],
        );
    }

    #[test]
    fn flake_inputs_go_to_their_declaration() {
        check(
            r#"
//- /flake.nix
{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs";
  outputs = { self, nixpkgs$0 }@inputs: { x = inputs.nixpkgs; };
}
"#,
            expect![[r#"
                /flake.nix:   inputs.«nixpkgs».url = "github:NixOS/nixpkgs"; (focus nixpkgs)"#]],
        );
        check(
            r#"
//- /flake.nix
{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs";
  outputs = { self, ... }@inputs: { x = inputs.nixpkgs$0; };
}
"#,
            expect![[r#"
                /flake.nix:   inputs.«nixpkgs».url = "github:NixOS/nixpkgs"; (focus nixpkgs)"#]],
        );
    }
}
