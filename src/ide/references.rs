//! Find references and document highlight: every place the thing under
//! the cursor is named. A binding's definition and uses (through the
//! semantic model, so a shadowing binding of the same name is another
//! thing); an attribute's definitions and the paths that select it
//! (`s.a`, `s ? a`, `inherit (s) a`, a `with s;` name), in this file and
//! in the files that import this one; a pattern field's uses, `args.a`
//! through the `@` name, and the arguments callers pass it; a builtin's
//! uses however it is reached.

use std::rc::Rc;

use rnix::{SyntaxKind, SyntaxNode};
use rowan::{TextRange, TextSize};
use smol_str::SmolStr;

use super::callers::{calls_of, lambda_of_field};
use super::goto_definition::name_in_site;
use super::sets::{is_builtins, static_names, Member, Resolver, SetView};
use super::{token_at, Doc, FileRange, World};
use crate::analysis::semantic::{DefId, DefKind, Resolution, WithId};
use crate::syntax::green::static_attr_name;

use SyntaxKind::*;

/// What a name at the cursor stands for.
pub(crate) enum Symbol {
    /// A binding of this file.
    Def(DefId),
    /// An attribute of sets the code writes out, defined by `members`.
    Attr {
        name: SmolStr,
        members: Vec<Member>,
    },
    /// A name only a `with` provides (the innermost one around it).
    With {
        name: SmolStr,
        with: WithId,
    },
    Builtin(SmolStr),
}

/// The symbol the cursor is on, and the name's range under the cursor.
pub(crate) fn symbol_at(
    doc: &Rc<Doc>,
    offset: TextSize,
    resolver: &Resolver,
) -> Option<(Symbol, TextRange)> {
    let root = doc.root()?;
    let model = doc.model()?;
    let token = token_at(root, offset)?;
    if token.kind() != TOKEN_IDENT && token.kind() != TOKEN_STRING_CONTENT {
        return None;
    }
    let range = token.text_range();
    if let Some(r) = model
        .ref_at(range.start())
        .filter(|&r| model.refs[r].range == range)
    {
        let name = SmolStr::new(token.text());
        let symbol = match model.refs[r].resolution {
            Resolution::Def(d) => Symbol::Def(d),
            Resolution::With(w) => Symbol::With { name, with: w },
            Resolution::Builtin => Symbol::Builtin(name),
            Resolution::Undefined => return None,
        };
        return Some((symbol, range));
    }
    // An attribute name: the node that names it (an identifier or a
    // string) and what holds it.
    let attr = token
        .parent()?
        .ancestors()
        .find(|n| matches!(n.kind(), NODE_IDENT | NODE_STRING | NODE_DYNAMIC))?;
    let attr = match attr.parent() {
        Some(p) if p.kind() == NODE_DYNAMIC => p,
        _ => attr,
    };
    let attr_range = attr.text_range();
    if let Some(d) = model.defs.iter().position(|d| d.range == attr_range) {
        return Some((Symbol::Def(d), attr_range));
    }
    let name = static_attr_name(&attr)?;
    let holder = attr.parent()?;
    let members = match holder.kind() {
        NODE_ATTRPATH => {
            let index = holder.children().position(|a| a == attr)?;
            let names = static_names(&holder)?;
            let owner = holder.parent()?;
            match owner.kind() {
                NODE_SELECT | NODE_HAS_ATTR => {
                    let base = owner.children().next()?;
                    let mut sets = resolver.sets_of(doc, &base);
                    for n in &names[..index] {
                        sets = resolver.member_sets(&sets, n);
                    }
                    resolver.lookup(&sets, &name)
                }
                NODE_ATTRPATH_VALUE => {
                    let view = SetView {
                        doc: doc.clone(),
                        node: owner.parent()?,
                        prefix: names[..index].to_vec(),
                    };
                    let own: Vec<Member> = resolver
                        .members(&view)
                        .into_iter()
                        .filter(|m| m.name == name)
                        .collect();
                    // The attribute's value may also be set elsewhere
                    // (`a = { b = 1; }; a.c = 2;`): the view holds all.
                    own
                }
                _ => return None,
            }
        }
        NODE_INHERIT => {
            let from = holder
                .children()
                .find(|c| c.kind() == NODE_INHERIT_FROM)?
                .children()
                .next()?;
            if is_builtins(doc, &from) {
                return Some((Symbol::Builtin(name), attr_range));
            }
            let sets = resolver.sets_of(doc, &from);
            resolver.lookup(&sets, &name)
        }
        _ => return None,
    };
    if members.is_empty() {
        // `builtins.x`: the builtin.
        if holder.kind() == NODE_ATTRPATH {
            let owner = holder.parent()?;
            let base = owner.children().next()?;
            if owner.kind() == NODE_SELECT
                && holder.children().next().as_ref() == Some(&attr)
                && is_builtins(doc, &base)
            {
                return Some((Symbol::Builtin(name), attr_range));
            }
        }
        return None;
    }
    Some((Symbol::Attr { name, members }, attr_range))
}

/// One place a symbol is named; `declaration` for where it is defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Occurrence {
    pub at: FileRange,
    pub declaration: bool,
    /// An attribute key that names it (a caller's `a = 1;` for the
    /// pattern field `a`): renamed as a definition is.
    pub key: bool,
}

/// Every place `symbol` is named, this file first.
pub(crate) fn occurrences(doc: &Rc<Doc>, symbol: &Symbol, resolver: &Resolver) -> Vec<Occurrence> {
    let mut out = Vec::new();
    let here = |range: TextRange, declaration: bool| Occurrence {
        at: FileRange { file: None, range },
        declaration,
        key: false,
    };
    let Some(model) = doc.model() else {
        return out;
    };
    let Some(root) = doc.root() else {
        return out;
    };
    match symbol {
        Symbol::Def(d) => {
            let def = &model.defs[*d];
            for site in &def.sites {
                let name = site
                    .node(root)
                    .and_then(|n| name_in_site(&n, &def.name))
                    .unwrap_or(def.range);
                out.push(here(name, true));
            }
            for &r in &model.uses[*d] {
                out.push(here(model.refs[r].range, false));
            }
            match def.kind {
                DefKind::RecMember => {
                    let members = resolver.def_members(doc, *d);
                    out.extend(attribute_uses(doc, &def.name, &members, resolver));
                }
                DefKind::PatternField => {
                    out.extend(field_through_bind(doc, *d));
                    out.extend(field_in_calls(doc, *d, resolver));
                }
                _ => {}
            }
        }
        Symbol::Attr { name, members } => {
            for m in members {
                out.push(Occurrence {
                    at: FileRange {
                        file: other_file(doc, &m.doc),
                        range: m.name_range,
                    },
                    declaration: true,
                    key: false,
                });
            }
            out.extend(attribute_uses(doc, name, members, resolver));
        }
        Symbol::With { name, with } => {
            for r in &model.refs {
                if r.resolution == Resolution::With(*with) && &doc.text()[r.range] == name {
                    out.push(here(r.range, false));
                }
            }
        }
        Symbol::Builtin(name) => {
            for r in &model.refs {
                if r.resolution == Resolution::Builtin && &doc.text()[r.range] == name {
                    out.push(here(r.range, false));
                }
            }
            // `builtins.name` and `inherit (builtins) name;`.
            for node in root.descendants() {
                let attr = match node.kind() {
                    NODE_SELECT => {
                        let base = node.children().next();
                        if !base.is_some_and(|b| is_builtins(doc, &b)) {
                            continue;
                        }
                        node.children().nth(1).and_then(|p| p.children().next())
                    }
                    NODE_INHERIT => {
                        let from = node
                            .children()
                            .find(|c| c.kind() == NODE_INHERIT_FROM)
                            .and_then(|f| f.children().next());
                        if !from.is_some_and(|f| is_builtins(doc, &f)) {
                            continue;
                        }
                        node.children()
                            .filter(|c| c.kind() != NODE_INHERIT_FROM)
                            .find(|a| static_attr_name(a).as_deref() == Some(name))
                    }
                    _ => continue,
                };
                if let Some(attr) = attr.filter(|a| static_attr_name(a).as_deref() == Some(name)) {
                    out.push(here(attr.text_range(), false));
                }
            }
        }
    }
    out.sort_by(|a, b| {
        let key = |o: &Occurrence| (o.at.file.clone(), o.at.range.start(), o.at.range.end());
        key(a).cmp(&key(b))
    });
    out.dedup_by(|a, b| a.at == b.at);
    out
}

/// The file of `of`, as a result names it: `None` for the file asked about.
pub(crate) fn other_file(doc: &Rc<Doc>, of: &Rc<Doc>) -> Option<std::path::PathBuf> {
    if Rc::ptr_eq(doc, of) {
        None
    } else {
        of.path.clone()
    }
}

fn same_member(a: &Member, b: &Member) -> bool {
    Rc::ptr_eq(&a.doc, &b.doc) && a.entry == b.entry && a.name == b.name
}

/// The places that select the attribute `name` defined by `members`:
/// `s.name`, `s ? name`, `inherit (s) name;` and a `with s;` name, in this
/// file and in the files that may import the members' file.
fn attribute_uses(
    doc: &Rc<Doc>,
    name: &str,
    members: &[Member],
    resolver: &Resolver,
) -> Vec<Occurrence> {
    let mut docs = vec![doc.clone()];
    for m in members {
        if let Some(path) = &m.doc.path {
            if !docs.iter().any(|d| d.path.as_ref() == Some(path)) {
                docs.push(m.doc.clone());
            }
            for referrer in resolver.world().referrers(path) {
                if docs.iter().any(|d| d.path.as_ref() == Some(&referrer)) {
                    continue;
                }
                if let Some(other) = resolver.load(&referrer) {
                    docs.push(other);
                }
            }
        }
    }
    let mut out = Vec::new();
    for scanned in &docs {
        let Some(root) = scanned.root() else {
            continue;
        };
        if !scanned.text().contains(name) {
            continue;
        }
        let is_target = |found: &[Member]| {
            found
                .iter()
                .any(|f| members.iter().any(|m| same_member(f, m)))
        };
        for node in root.descendants() {
            match node.kind() {
                NODE_SELECT | NODE_HAS_ATTR => {
                    let (Some(base), Some(path)) = (node.children().next(), node.children().nth(1))
                    else {
                        continue;
                    };
                    let attrs: Vec<SyntaxNode> = path.children().collect();
                    for (i, attr) in attrs.iter().enumerate() {
                        if static_attr_name(attr).as_deref() != Some(name) {
                            continue;
                        }
                        let Some(names) = attrs[..i]
                            .iter()
                            .map(static_attr_name)
                            .collect::<Option<Vec<_>>>()
                        else {
                            break;
                        };
                        let mut sets = resolver.sets_of(scanned, &base);
                        for n in &names {
                            sets = resolver.member_sets(&sets, n);
                        }
                        if is_target(&resolver.lookup(&sets, name)) {
                            out.push(Occurrence {
                                at: FileRange {
                                    file: other_file(doc, scanned),
                                    range: attr.text_range(),
                                },
                                declaration: false,
                                key: false,
                            });
                        }
                    }
                }
                NODE_INHERIT => {
                    let Some(from) = node
                        .children()
                        .find(|c| c.kind() == NODE_INHERIT_FROM)
                        .and_then(|f| f.children().next())
                    else {
                        continue;
                    };
                    for attr in node.children().filter(|c| c.kind() != NODE_INHERIT_FROM) {
                        if static_attr_name(&attr).as_deref() != Some(name) {
                            continue;
                        }
                        let sets = resolver.sets_of(scanned, &from);
                        if is_target(&resolver.lookup(&sets, name)) {
                            out.push(Occurrence {
                                at: FileRange {
                                    file: other_file(doc, scanned),
                                    range: attr.text_range(),
                                },
                                declaration: false,
                                key: false,
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        // Names a `with s;` provides.
        if let Some(model) = scanned.model() {
            for r in &model.refs {
                let Resolution::With(w) = r.resolution else {
                    continue;
                };
                if &scanned.text()[r.range] != name {
                    continue;
                }
                for w in model.with_chain(w) {
                    let env = root
                        .covering_element(model.withs[w].range)
                        .into_node()
                        .and_then(|n| n.children().next());
                    let Some(env) = env else { continue };
                    let sets = resolver.sets_of(scanned, &env);
                    let found = resolver.lookup(&sets, name);
                    if !found.is_empty() {
                        if is_target(&found) {
                            out.push(Occurrence {
                                at: FileRange {
                                    file: other_file(doc, scanned),
                                    range: r.range,
                                },
                                declaration: false,
                                key: false,
                            });
                        }
                        break;
                    }
                }
            }
        }
    }
    out
}

/// `args.a` and `args ? a` where `args@` is the pattern's `@` name.
fn field_through_bind(doc: &Rc<Doc>, field: DefId) -> Vec<Occurrence> {
    let mut out = Vec::new();
    let (Some(model), Some(root)) = (doc.model(), doc.root()) else {
        return out;
    };
    let Some(lambda) = lambda_of_field(doc, field) else {
        return out;
    };
    let name = &model.defs[field].name;
    let pattern_range = lambda.children().next().map(|p| p.text_range());
    let bind = model.defs.iter().position(|d| {
        d.kind == DefKind::PatternBind
            && pattern_range.is_some_and(|p| {
                p.contains_range(d.range) || lambda.text_range().contains_range(d.range)
            })
            && d.sites
                .first()
                .and_then(|s| s.node(root))
                .and_then(|n| n.ancestors().find(|a| a.kind() == NODE_LAMBDA))
                .as_ref()
                == Some(&lambda)
    });
    let Some(bind) = bind else {
        return out;
    };
    for &r in &model.uses[bind] {
        let range = model.refs[r].range;
        let Some(ident) = root
            .covering_element(range)
            .ancestors()
            .find(|n| n.kind() == NODE_IDENT)
        else {
            continue;
        };
        let Some(select) = ident
            .parent()
            .filter(|p| matches!(p.kind(), NODE_SELECT | NODE_HAS_ATTR))
        else {
            continue;
        };
        if select.children().next().as_ref() != Some(&ident) {
            continue;
        }
        let first = select.children().nth(1).and_then(|p| p.children().next());
        if let Some(first) = first.filter(|a| static_attr_name(a).as_deref() == Some(name)) {
            out.push(Occurrence {
                at: FileRange {
                    file: None,
                    range: first.text_range(),
                },
                declaration: false,
                key: false,
            });
        }
    }
    out
}

/// The argument names callers pass a pattern field: `f { a = 1; }`.
fn field_in_calls(doc: &Rc<Doc>, field: DefId, resolver: &Resolver) -> Vec<Occurrence> {
    let mut out = Vec::new();
    let Some(model) = doc.model() else {
        return out;
    };
    let Some(lambda) = lambda_of_field(doc, field) else {
        return out;
    };
    let name = &model.defs[field].name;
    let Ok(calls) = calls_of(doc, &lambda, resolver) else {
        return out;
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
        for member in resolver
            .members(&view)
            .into_iter()
            .filter(|m| &m.name == name)
        {
            out.push(Occurrence {
                at: FileRange {
                    file: other_file(doc, &call.doc),
                    range: member.name_range,
                },
                declaration: false,
                key: true,
            });
        }
    }
    out
}

/// Every place the name under the cursor is named, in this file and
/// others; with `include_declaration`, where it is defined too.
pub fn references(
    doc: &Rc<Doc>,
    offset: TextSize,
    include_declaration: bool,
    world: &dyn World,
) -> Vec<FileRange> {
    let resolver = Resolver::new(world, doc.clone());
    let Some((symbol, _)) = symbol_at(doc, offset, &resolver) else {
        return Vec::new();
    };
    occurrences(doc, &symbol, &resolver)
        .into_iter()
        .filter(|o| include_declaration || !o.declaration)
        .map(|o| o.at)
        .collect()
}

/// How a highlighted name is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HighlightKind {
    /// Where it is defined.
    Write,
    /// Where it is read.
    Read,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlight {
    pub range: TextRange,
    pub kind: HighlightKind,
}

/// The places in this file that name what the cursor is on.
pub fn highlights(doc: &Rc<Doc>, offset: TextSize, world: &dyn World) -> Vec<Highlight> {
    let resolver = Resolver::new(world, doc.clone());
    let Some((symbol, _)) = symbol_at(doc, offset, &resolver) else {
        return Vec::new();
    };
    occurrences(doc, &symbol, &resolver)
        .into_iter()
        .filter(|o| o.at.file.is_none())
        .map(|o| Highlight {
            range: o.at.range,
            kind: if o.declaration {
                HighlightKind::Write
            } else {
                HighlightKind::Read
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use expect_test::{expect, Expect};

    fn check(fixture: &str, expect: Expect) {
        let f = Fixture::parse(fixture);
        let doc = f.doc();
        let found = super::references(&doc, f.offset(), true, &f);
        let text = found
            .iter()
            .map(|r| {
                let file = r.file.as_deref().unwrap_or(&f.main);
                format!("{}: {}", file.display(), f.mark(Some(file), r.range))
            })
            .collect::<Vec<_>>()
            .join("\n");
        expect.assert_eq(&text);
    }

    #[test]
    fn a_binding_and_its_uses_not_a_shadowing_one() {
        check(
            "let a$0 = 1; b = a; in [ a (let a = 2; in a) ]",
            expect![[r#"
                /main.nix: let «a» = 1; b = a; in [ a (let a = 2; in a) ]
                /main.nix: let a = 1; b = «a»; in [ a (let a = 2; in a) ]
                /main.nix: let a = 1; b = a; in [ «a» (let a = 2; in a) ]"#]],
        );
    }

    #[test]
    fn inherit_is_a_use_of_the_outer_name() {
        check(
            "let x = 1; in { inherit x$0; y = x; }",
            expect![[r#"
                /main.nix: let «x» = 1; in { inherit x; y = x; }
                /main.nix: let x = 1; in { inherit «x»; y = x; }
                /main.nix: let x = 1; in { inherit x; y = «x»; }"#]],
        );
    }

    #[test]
    fn attributes_through_selects_inherit_from_and_with() {
        check(
            "let s = { a$0 = 1; }; in [ s.a (s ? a) (with s; a) ] ++ (let inherit (s) a; in [ a ])",
            expect![[r#"
                /main.nix: let s = { «a» = 1; }; in [ s.a (s ? a) (with s; a) ] ++ (let inherit (s) a; in [ a ])
                /main.nix: let s = { a = 1; }; in [ s.«a» (s ? a) (with s; a) ] ++ (let inherit (s) a; in [ a ])
                /main.nix: let s = { a = 1; }; in [ s.a (s ? «a») (with s; a) ] ++ (let inherit (s) a; in [ a ])
                /main.nix: let s = { a = 1; }; in [ s.a (s ? a) (with s; «a») ] ++ (let inherit (s) a; in [ a ])
                /main.nix: let s = { a = 1; }; in [ s.a (s ? a) (with s; a) ] ++ (let inherit (s) «a»; in [ a ])"#]],
        );
    }

    #[test]
    fn pattern_fields_through_the_at_name_and_in_callers() {
        check(
            "let f = args@{ a$0, ... }: a + args.a; in f { a = 1; }",
            expect![[r#"
                /main.nix: let f = args@{ «a», ... }: a + args.a; in f { a = 1; }
                /main.nix: let f = args@{ a, ... }: «a» + args.a; in f { a = 1; }
                /main.nix: let f = args@{ a, ... }: a + args.«a»; in f { a = 1; }
                /main.nix: let f = args@{ a, ... }: a + args.a; in f { «a» = 1; }"#]],
        );
    }

    #[test]
    fn across_files() {
        check(
            r#"
//- /pkg.nix
{ stdenv$0, lib }: stdenv
//- /top.nix
{ a = import ./pkg.nix { stdenv = 1; lib = 2; }; }
"#,
            expect![[r#"
                /pkg.nix: { «stdenv», lib }: stdenv
                /pkg.nix: { stdenv, lib }: «stdenv»
                /top.nix: { a = import ./pkg.nix { «stdenv» = 1; lib = 2; }; }"#]],
        );
        check(
            r#"
//- /lib.nix
{ double$0 = x: x * 2; }
//- /main.nix
let lib = import ./lib.nix; in lib.double 2
"#,
            expect![[r#"
                /lib.nix: { «double» = x: x * 2; }
                /main.nix: let lib = import ./lib.nix; in lib.«double» 2"#]],
        );
    }

    #[test]
    fn builtins_however_they_are_reached() {
        check(
            "let inherit (builtins) map; in [ (builtins.map f l) (map$0 f l) ]",
            expect![[r#"
                /main.nix: let inherit (builtins) «map»; in [ (builtins.map f l) (map f l) ]
                /main.nix: let inherit (builtins) map; in [ (builtins.map f l) («map» f l) ]"#]],
        );
        check(
            "[ (builtins.map f l) (map$0 f l) ]",
            expect![[r#"
                /main.nix: [ (builtins.«map» f l) (map f l) ]
                /main.nix: [ (builtins.map f l) («map» f l) ]"#]],
        );
    }

    #[test]
    fn highlights_mark_definitions_as_writes() {
        let f = Fixture::parse("let a = 1; b = a$0; in a");
        let found = super::highlights(&f.doc(), f.offset(), &f);
        let kinds: Vec<_> = found.iter().map(|h| h.kind).collect();
        use super::HighlightKind::{Read, Write};
        assert_eq!(kinds, [Write, Read, Read]);
        let ranges: Vec<_> = found.iter().map(|h| h.range).collect();
        expect![[r#"
            let «a» = 1; b = a; in a
            let a = 1; b = «a»; in a
            let a = 1; b = a; in «a»"#]]
        .assert_eq(&f.render_ranges(&ranges));
    }
}
