//! Completion: what may be written at the cursor, ranked and filtered by
//! what is typed so far.
//!
//! - after `e.`: the attributes of `e` when its set is written out (`let
//!   s = { a = 1; }; in s.` gives `a`), `builtins.` the builtins, `lib.`
//!   (and `pkgs.lib.`, `lib.strings.`) nixpkgs' `lib`, and in a flake,
//!   `inputs.` the inputs and an input's standard outputs;
//! - where an expression goes: the names in scope, nearest first, the
//!   names `with` sets provide, the global builtins, and keywords;
//! - where a key goes in a Home Manager module (or `home-manager.users.<n>`
//!   of a NixOS module): Home Manager's option names, with their types;
//! - in the argument set of a call to a known function: its pattern's
//!   fields not written yet; in a function's pattern: the names its
//!   callers pass.
//!
//! Documentation comes with [`resolve`], so the list itself stays small.

use std::rc::Rc;

use rnix::{SyntaxKind, SyntaxNode, SyntaxToken};
use rowan::{TextRange, TextSize};

use super::callers::calls_of;
use super::sets::{is_builtins, static_names, Resolver, SetView};
use super::{builtins, is_identifier, lib_docs, Doc, World};
use crate::analysis::semantic::{DefKind, Resolution, ScopeKind, SemanticModel};
use crate::flake::FlakeModel;
use crate::syntax::green::static_attr_name;

use SyntaxKind::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionKind {
    Keyword,
    Variable,
    Function,
    Field,
    /// A part of `lib` (`lib.strings`).
    Module,
    /// A builtin value (`true`, `currentSystem`).
    Constant,
}

/// Where to find an item's documentation, for [`resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocKey {
    Builtin(String),
    Lib(String),
    /// A Home Manager option (or prefix of options), as the index names it.
    HomeOption(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
    /// Ranks items: nearer scopes, then names, before builtins, before
    /// keywords.
    pub sort: String,
    /// What replaces the typed part (quoted when not an identifier).
    pub insert: String,
    pub docs: Option<DocKey>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completions {
    /// The typed part the items replace.
    pub replace: TextRange,
    pub items: Vec<CompletionItem>,
    /// More items match than were sent; the client should ask again as
    /// the user types.
    pub incomplete: bool,
}

/// At most this many items are sent.
const LIMIT: usize = 1_000;

/// The documentation of an item, as Markdown.
pub fn resolve(key: &DocKey) -> Option<String> {
    match key {
        DocKey::Builtin(name) => builtins::find(name).map(builtins::markdown),
        DocKey::Lib(path) => lib_docs::markdown(path),
        DocKey::HomeOption(pattern) => super::home_options::markdown(pattern),
    }
}

pub fn completions(doc: &Rc<Doc>, offset: TextSize, world: &dyn World) -> Option<Completions> {
    let root = doc.root()?;
    let text = doc.text();
    let offset = offset.min(TextSize::of(text));
    // The name typed so far, up to the cursor.
    let typed_start = text[..usize::from(offset)]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '-'))
        .last()
        .map_or(usize::from(offset), |(i, _)| i);
    let replace = TextRange::new(TextSize::from(typed_start as u32), offset);
    let typed = &text[replace];
    // Inside a comment or string nothing is completed.
    let here = super::token_at(root, offset);
    if here.as_ref().is_some_and(|t| {
        matches!(t.kind(), TOKEN_COMMENT | TOKEN_STRING_CONTENT) && t.text_range().start() < offset
    }) {
        return None;
    }
    let resolver = Resolver::new(world, doc.clone());
    let before = previous_token(root, replace.start());
    // Home Manager option names where a key goes in a Home Manager scope.
    let home = before
        .as_ref()
        .and_then(|b| super::home_options::items(root, b))
        .filter(|h| !h.is_empty());
    let mut items = match before.as_ref().map(|t| t.kind()) {
        Some(TOKEN_DOT) => match home {
            Some(home) => home,
            None => attribute_items(doc, before.as_ref()?, &resolver)?,
        },
        _ => match (key_position(before.as_ref()), home) {
            (Some(set), home) => {
                let mut items = key_items(doc, &set, &resolver);
                items.extend(home.into_iter().flatten());
                items
            }
            // `{ baseI }` reads as a pattern until `=` follows.
            (None, Some(home)) => home,
            (None, None) => match pattern_at(before.as_ref()) {
                Some(pattern) => pattern_items(doc, &pattern, &resolver),
                None => expression_items(doc, root, replace.start(), before.as_ref(), &resolver),
            },
        },
    };
    let lower = typed.to_ascii_lowercase();
    items.retain(|i| i.label.to_ascii_lowercase().starts_with(&lower) && i.label != typed);
    items.sort_by(|a, b| a.sort.cmp(&b.sort));
    items.dedup_by(|a, b| a.label == b.label);
    let incomplete = items.len() > LIMIT;
    items.truncate(LIMIT);
    Some(Completions {
        replace,
        items,
        incomplete,
    })
}

/// The last token before `offset` that is not white space or a comment.
fn previous_token(root: &SyntaxNode, offset: TextSize) -> Option<SyntaxToken> {
    let mut token = match offset.checked_sub(1.into()) {
        Some(at) => crate::syntax::token_at(root, at)?,
        None => return None,
    };
    for _ in 0..10_000 {
        if !matches!(token.kind(), TOKEN_WHITESPACE | TOKEN_COMMENT) {
            return Some(token);
        }
        token = token.prev_token()?;
    }
    None
}

fn item(label: &str, kind: CompletionKind, sort: String) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind,
        detail: None,
        sort,
        insert: attr_insert(label),
        docs: None,
    }
}

fn attr_insert(name: &str) -> String {
    if is_identifier(name) || name == "or" {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// What is before the dot of `e.a.|`, normalised: the name `e` starts
/// with (its node when the parser read one, how it resolves) and the
/// static names after it.
struct Chain {
    name: smol_str::SmolStr,
    node: Option<SyntaxNode>,
    def: Option<usize>,
    resolution: Option<Resolution>,
    names: Vec<smol_str::SmolStr>,
    /// `e` is not a name (`(f x).`, `{ a = 1; }.`): its node.
    other: Option<SyntaxNode>,
}

/// After `e.` (and `e.a.`): the attributes of `e.a`.
fn attribute_items(
    doc: &Rc<Doc>,
    dot: &SyntaxToken,
    resolver: &Resolver,
) -> Option<Vec<CompletionItem>> {
    let chain = chain_at(doc, dot)?;
    let mut items = Vec::new();
    // `builtins.`
    if chain.names.is_empty()
        && chain.name == "builtins"
        && matches!(chain.resolution, Some(Resolution::Builtin))
    {
        for b in builtins::all().iter().filter(|b| !b.name.starts_with("__")) {
            items.push(builtin_item(b, "0"));
        }
        return Some(items);
    }
    // nixpkgs' `lib` and its parts.
    if let Some(path) = lib_path(doc, &chain) {
        for entry in lib_docs::members(&path) {
            let kind = if entry.is_scope() {
                CompletionKind::Module
            } else {
                CompletionKind::Function
            };
            let mut i = item(entry.name(), kind, format!("0{}", entry.name()));
            i.detail = lib_docs::resolve(entry.path)
                .map(|e| e.kind.to_string())
                .filter(|k| !k.is_empty() && k != "scope");
            i.docs = Some(DocKey::Lib(entry.path.to_string()));
            items.push(i);
        }
        if !items.is_empty() {
            return Some(items);
        }
    }
    // A flake's inputs and what an input provides.
    if let Some(found) = flake_items(doc, &chain) {
        return Some(found);
    }
    // A set written out.
    let mut sets = match (&chain.other, &chain.node, chain.def) {
        (Some(other), _, _) => resolver.sets_of(doc, other),
        (None, Some(node), _) => resolver.sets_of(doc, node),
        (None, None, Some(def)) => resolver
            .def_members(doc, def)
            .iter()
            .flat_map(|m| resolver.value_sets(m))
            .collect(),
        _ => Vec::new(),
    };
    for name in &chain.names {
        sets = resolver.member_sets(&sets, name);
    }
    for set in &sets {
        for member in resolver.members(set) {
            let kind = match &member.value {
                super::sets::MemberValue::Expr(v) if v.kind() == NODE_LAMBDA => {
                    CompletionKind::Function
                }
                _ => CompletionKind::Field,
            };
            items.push(item(&member.name, kind, format!("0{}", member.name)));
        }
    }
    Some(items)
}

/// The chain before `dot`: from the selection the parser read, else from
/// the tokens as written (text the parser could not read as one).
fn chain_at(doc: &Doc, dot: &SyntaxToken) -> Option<Chain> {
    let holder = dot.parent()?;
    let select = match holder.kind() {
        NODE_SELECT | NODE_HAS_ATTR => Some(holder.clone()),
        NODE_ATTRPATH => holder
            .parent()
            .filter(|p| matches!(p.kind(), NODE_SELECT | NODE_HAS_ATTR)),
        _ => None,
    };
    let model = doc.model()?;
    if let Some(select) = select {
        let names = select
            .children()
            .nth(1)
            .map(|p| attrs_before(&p, dot.text_range().end()))
            .unwrap_or(Some(Vec::new()))?;
        return chain_of(doc, &select.children().next()?, names);
    }
    // `a.b.|` as tokens.
    let mut names = Vec::new();
    let mut token = dot.prev_token()?;
    loop {
        if token.kind() != TOKEN_IDENT {
            return None;
        }
        match token.prev_token() {
            Some(t) if t.kind() == TOKEN_DOT => {
                names.insert(0, smol_str::SmolStr::new(token.text()));
                token = t.prev_token()?;
            }
            _ => break,
        }
    }
    let name = smol_str::SmolStr::new(token.text());
    let at = token.text_range().start();
    // The name as the scopes around it bind it.
    let def = model.scopes_at(at).into_iter().find_map(|s| {
        model.scopes[s]
            .defs
            .iter()
            .copied()
            .find(|&d| model.defs[d].name == name)
    });
    let resolution = match def {
        Some(d) => Some(Resolution::Def(d)),
        None if crate::analysis::semantic::is_builtin(&name) => Some(Resolution::Builtin),
        None => None,
    };
    Some(Chain {
        name,
        node: None,
        def,
        resolution,
        names,
        other: None,
    })
}

/// The chain `base.names` (`base` a name or a selection from one).
fn chain_of(doc: &Doc, base: &SyntaxNode, mut names: Vec<smol_str::SmolStr>) -> Option<Chain> {
    let model = doc.model()?;
    // Down a selection chain (`pkgs.lib.`) to the name it starts with.
    let mut base = super::sets::strip_parens(base);
    for _ in 0..16 {
        if base.kind() != NODE_SELECT {
            break;
        }
        let mut parts = static_names(&base.children().nth(1)?)?;
        parts.extend(names);
        names = parts;
        base = super::sets::strip_parens(&base.children().next()?);
    }
    if base.kind() != NODE_IDENT {
        return Some(Chain {
            name: smol_str::SmolStr::default(),
            node: None,
            def: None,
            resolution: None,
            names,
            other: Some(base),
        });
    }
    let resolution = model
        .ref_at(base.text_range().start())
        .filter(|&r| model.refs[r].range == base.text_range())
        .map(|r| model.refs[r].resolution.clone());
    Some(Chain {
        name: smol_str::SmolStr::new(base.text().to_string()),
        def: match resolution {
            Some(Resolution::Def(d)) => Some(d),
            _ => None,
        },
        node: Some(base),
        resolution,
        names,
        other: None,
    })
}

/// The static names of a path's attributes that end before `end`.
fn attrs_before(path: &SyntaxNode, end: TextSize) -> Option<Vec<smol_str::SmolStr>> {
    path.children()
        .filter(|a| a.text_range().end() <= end && !a.text_range().is_empty())
        .map(|a| static_attr_name(&a))
        .collect()
}

/// The `lib` path a chain spells when it starts with nixpkgs' `lib` (a
/// `lib` argument, `pkgs.lib`, `inputs.nixpkgs.lib`): not a local set.
fn lib_path(doc: &Doc, chain: &Chain) -> Option<String> {
    if chain.other.is_some() {
        return None;
    }
    let model = doc.model()?;
    if let Some(d) = chain.def {
        if matches!(model.defs[d].kind, DefKind::LetBinding | DefKind::RecMember) {
            return None;
        }
    }
    let all: Vec<&str> = std::iter::once(chain.name.as_str())
        .chain(chain.names.iter().map(|n| n.as_str()))
        .collect();
    let at = all.iter().position(|n| *n == "lib")?;
    (at <= 2).then(|| all[at..].join("."))
}

/// The attributes every flake input has (its outputs by convention, and
/// what Nix adds).
const INPUT_FIELDS: &[&str] = &[
    "apps",
    "checks",
    "darwinModules",
    "devShells",
    "formatter",
    "homeManagerModules",
    "inputs",
    "lastModified",
    "lastModifiedDate",
    "legacyPackages",
    "lib",
    "narHash",
    "nixosModules",
    "outPath",
    "outputs",
    "overlays",
    "packages",
    "rev",
    "shortRev",
    "sourceInfo",
    "templates",
];

/// `inputs.` (the `@` name of a flake's `outputs`) and `nixpkgs.` (an
/// input's field) in a flake.nix.
fn flake_items(doc: &Doc, chain: &Chain) -> Option<Vec<CompletionItem>> {
    let is_flake = doc
        .path
        .as_deref()
        .and_then(|p| p.file_name())
        .is_some_and(|n| n == "flake.nix");
    if !is_flake {
        return None;
    }
    let model = doc.model()?;
    let def = &model.defs[chain.def?];
    let flake = FlakeModel::from_tree(doc.root()?)?;
    let field_items = || {
        INPUT_FIELDS
            .iter()
            .map(|f| item(f, CompletionKind::Field, format!("0{f}")))
            .collect::<Vec<_>>()
    };
    let names = &chain.names;
    match (def.kind, names.len()) {
        (DefKind::PatternBind, 0) => {
            let mut items: Vec<CompletionItem> = flake
                .inputs
                .iter()
                .map(|i| {
                    let mut it = item(&i.name, CompletionKind::Variable, format!("0{}", i.name));
                    it.detail = i.url.clone();
                    it
                })
                .collect();
            items.push(item("self", CompletionKind::Variable, "0self".into()));
            Some(items)
        }
        (DefKind::PatternBind, 1) if flake.input(&names[0]).is_some() => Some(field_items()),
        (DefKind::PatternField, 0) if flake.input(&def.name).is_some() => Some(field_items()),
        _ => None,
    }
}

/// The set whose next key the cursor is at: after its `{` or a `;` of one
/// of its members, not in a `let`.
fn key_position(before: Option<&SyntaxToken>) -> Option<SyntaxNode> {
    let token = before?;
    let set = match token.kind() {
        TOKEN_L_BRACE => token.parent()?,
        TOKEN_SEMICOLON => {
            let member = token.parent()?;
            match member.kind() {
                NODE_ATTRPATH_VALUE | NODE_INHERIT => member.parent()?,
                _ => return None,
            }
        }
        _ => return None,
    };
    (set.kind() == NODE_ATTR_SET).then_some(set)
}

/// The argument set of a call to a known function: its pattern's fields
/// that are not written yet.
fn key_items(doc: &Rc<Doc>, set: &SyntaxNode, resolver: &Resolver) -> Vec<CompletionItem> {
    let mut items = vec![item("inherit", CompletionKind::Keyword, "9inherit".into())];
    let Some(apply) = super::callers::outermost_parens(set)
        .parent()
        .filter(|p| p.kind() == NODE_APPLY)
    else {
        return items;
    };
    let Some(function) = apply.children().next() else {
        return items;
    };
    let written: Vec<smol_str::SmolStr> = resolver
        .members(&SetView {
            doc: doc.clone(),
            node: set.clone(),
            prefix: Vec::new(),
        })
        .into_iter()
        .map(|m| m.name)
        .collect();
    for (_, lambda) in resolver.functions_of(doc, &function) {
        let Some(pattern) = lambda
            .children()
            .next()
            .filter(|p| p.kind() == NODE_PATTERN)
        else {
            continue;
        };
        for entry in pattern.children().filter(|c| c.kind() == NODE_PAT_ENTRY) {
            let Some(name) = entry.children().next().map(|n| n.text().to_string()) else {
                continue;
            };
            if written.iter().any(|w| *w == name) {
                continue;
            }
            let optional = entry.children().nth(1).is_some();
            let mut it = item(
                &name,
                CompletionKind::Field,
                format!("0{}{name}", u8::from(optional)),
            );
            it.detail = Some(if optional {
                "argument (has a default)".into()
            } else {
                "argument".into()
            });
            it.insert = format!("{} = ", attr_insert(&name));
            items.push(it);
        }
    }
    items
}

/// The pattern the cursor is in (`{ a, | }:`).
fn pattern_at(before: Option<&SyntaxToken>) -> Option<SyntaxNode> {
    let token = before?;
    if !matches!(token.kind(), TOKEN_COMMA | TOKEN_L_BRACE) {
        return None;
    }
    let parent = token.parent()?;
    (parent.kind() == NODE_PATTERN).then_some(parent)
}

/// The names the callers of the pattern's function pass that it does not
/// take yet.
fn pattern_items(doc: &Rc<Doc>, pattern: &SyntaxNode, resolver: &Resolver) -> Vec<CompletionItem> {
    let mut items = Vec::new();
    let Some(lambda) = pattern.parent().filter(|l| l.kind() == NODE_LAMBDA) else {
        return items;
    };
    let taken: Vec<String> = pattern
        .children()
        .filter(|c| c.kind() == NODE_PAT_ENTRY)
        .filter_map(|e| e.children().next().map(|n| n.text().to_string()))
        .collect();
    let Ok(calls) = calls_of(doc, &lambda, resolver) else {
        return items;
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
        for member in resolver.members(&view) {
            if taken.iter().any(|t| *t == member.name) || !is_identifier(&member.name) {
                continue;
            }
            let mut it = item(
                &member.name,
                CompletionKind::Variable,
                format!("0{}", member.name),
            );
            it.detail = Some("passed by a caller".into());
            items.push(it);
        }
    }
    items
}

fn builtin_item(b: &builtins::Builtin, group: &str) -> CompletionItem {
    let kind = if b.arity == 0 {
        CompletionKind::Constant
    } else {
        CompletionKind::Function
    };
    let mut it = item(b.name, kind, format!("{group}{}", b.name));
    it.detail = Some(b.signature.to_string());
    it.docs = Some(DocKey::Builtin(b.name.to_string()));
    it
}

/// Where an expression goes: names in scope (nearest first), names from
/// `with`, global builtins, keywords.
fn expression_items(
    doc: &Rc<Doc>,
    root: &SyntaxNode,
    at: TextSize,
    before: Option<&SyntaxToken>,
    resolver: &Resolver,
) -> Vec<CompletionItem> {
    let mut items = Vec::new();
    // Where scopes are looked up: the name being typed, or with nothing
    // typed, the end of the token before (at the end of a broken text the
    // nodes end with their last token, not with the space after it).
    let typing = root.text_range().contains(at)
        && crate::syntax::token_at(root, at).is_some_and(|t| t.kind() == TOKEN_IDENT);
    let anchor = match before {
        Some(t) if !typing => t.text_range().end(),
        _ => at,
    };
    if let Some(model) = doc.model() {
        scope_items(doc, model, anchor, &mut items);
        with_items(doc, root, model, anchor, resolver, &mut items);
    }
    for b in builtins::all()
        .iter()
        .filter(|b| b.global && !b.name.starts_with("__"))
    {
        items.push(builtin_item(b, "7"));
    }
    for keyword in keywords(root, at, before) {
        // What the construct around the cursor waits for comes first.
        let group = if matches!(keyword, "then" | "else" | "in") {
            0
        } else {
            8
        };
        items.push(item(
            keyword,
            CompletionKind::Keyword,
            format!("{group}{keyword}"),
        ));
    }
    items
}

fn scope_items(doc: &Doc, model: &SemanticModel, at: TextSize, items: &mut Vec<CompletionItem>) {
    let text = doc.text();
    for (distance, s) in model.scopes_at(at).into_iter().enumerate() {
        let scope = &model.scopes[s];
        for &d in &scope.defs {
            let def = &model.defs[d];
            // The name being typed is not a binding yet.
            if def.range.contains_inclusive(at) {
                continue;
            }
            let kind = match (scope.kind, def.kind) {
                (_, DefKind::LambdaArg | DefKind::PatternField | DefKind::PatternBind) => {
                    CompletionKind::Variable
                }
                (ScopeKind::Rec, _) => CompletionKind::Field,
                _ => CompletionKind::Variable,
            };
            let mut it = item(
                &def.name,
                kind,
                format!("{}{}", 1 + distance.min(4), def.name),
            );
            let line = text[..usize::from(def.range.start())].matches('\n').count() + 1;
            it.detail = Some(format!(
                "{} · line {line}",
                match def.kind {
                    DefKind::LetBinding | DefKind::LetInherit => "let binding",
                    DefKind::LambdaArg => "argument",
                    DefKind::PatternField => "pattern field",
                    DefKind::PatternBind => "@ binding",
                    DefKind::RecMember => "rec attribute",
                }
            ));
            items.push(it);
        }
    }
}

/// The names the `with`s around the cursor provide, when their sets are
/// known: a set written out, `lib`, `builtins`.
fn with_items(
    doc: &Rc<Doc>,
    root: &SyntaxNode,
    model: &SemanticModel,
    at: TextSize,
    resolver: &Resolver,
    items: &mut Vec<CompletionItem>,
) {
    for w in model.withs_at(at) {
        let Some(env) = root
            .covering_element(model.withs[w].range)
            .into_node()
            .filter(|n| n.kind() == NODE_WITH)
            .and_then(|n| n.children().next())
        else {
            continue;
        };
        if is_builtins(doc, &env) {
            for b in builtins::all().iter().filter(|b| !b.name.starts_with("__")) {
                items.push(builtin_item(b, "6"));
            }
            continue;
        }
        if let Some(path) = chain_of(doc, &env, Vec::new()).and_then(|c| lib_path(doc, &c)) {
            for entry in lib_docs::members(&path)
                .into_iter()
                .filter(|e| !e.is_scope())
            {
                let mut it = item(
                    entry.name(),
                    CompletionKind::Function,
                    format!("6{}", entry.name()),
                );
                it.docs = Some(DocKey::Lib(entry.path.to_string()));
                it.detail = lib_docs::resolve(entry.path)
                    .map(|e| e.kind.to_string())
                    .filter(|k| !k.is_empty());
                items.push(it);
            }
            continue;
        }
        for set in resolver.sets_of(doc, &env) {
            for member in resolver.members(&set) {
                if is_identifier(&member.name) {
                    items.push(item(
                        &member.name,
                        CompletionKind::Field,
                        format!("6{}", member.name),
                    ));
                }
            }
        }
    }
}

/// The keywords that may come at the cursor.
fn keywords(root: &SyntaxNode, at: TextSize, before: Option<&SyntaxToken>) -> Vec<&'static str> {
    let mut out = vec!["assert", "if", "let", "rec", "with"];
    let node = crate::syntax::token_at(root, at.checked_sub(1.into()).unwrap_or(at))
        .and_then(|t| t.parent());
    for ancestor in node.iter().flat_map(|n| n.ancestors()) {
        match ancestor.kind() {
            NODE_IF_ELSE => {
                let has = |k: SyntaxKind| ancestor.children_with_tokens().any(|t| t.kind() == k);
                if !has(TOKEN_THEN) {
                    out.push("then");
                } else if !has(TOKEN_ELSE) {
                    out.push("else");
                }
                break;
            }
            NODE_LET_IN => {
                let in_token = ancestor
                    .children_with_tokens()
                    .find(|t| t.kind() == TOKEN_IN)
                    .map(|t| t.text_range().start());
                if in_token.is_none_or(|i| at <= i) {
                    out.push("in");
                    out.push("inherit");
                }
                break;
            }
            _ => {}
        }
    }
    // `a.b or default`.
    if before.is_some_and(|t| t.kind() == TOKEN_IDENT)
        && before
            .and_then(|t| t.parent())
            .and_then(|p| p.parent())
            .is_some_and(|p| p.kind() == NODE_ATTRPATH)
    {
        out.push("or");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::*;

    fn labels(fixture: &str) -> Vec<String> {
        let f = Fixture::parse(fixture);
        let found = completions(&f.doc(), f.offset(), &f).expect("completions");
        found.items.iter().map(|i| i.label.clone()).collect()
    }

    fn first(fixture: &str, n: usize) -> Vec<String> {
        labels(fixture).into_iter().take(n).collect()
    }

    fn item_of(fixture: &str, label: &str) -> CompletionItem {
        let f = Fixture::parse(fixture);
        let found = completions(&f.doc(), f.offset(), &f).expect("completions");
        found
            .items
            .into_iter()
            .find(|i| i.label == label)
            .unwrap_or_else(|| panic!("no {label} in {fixture}"))
    }

    #[test]
    fn home_manager_option_names_in_home_manager_scopes() {
        let home = "{ pkgs, ... }: { home.stateVersion = \"25.11\"; programs.git.$0 }";
        let found = labels(home);
        assert!(found.contains(&"enable".to_string()), "{found:?}");
        assert!(found.contains(&"settings".to_string()), "{found:?}");
        // Renamed options are not offered: the new name is.
        assert!(!found.contains(&"userName".to_string()), "{found:?}");
        let enable = item_of(home, "enable");
        assert_eq!(enable.detail.as_deref(), Some("bool"));
        let docs = resolve(enable.docs.as_ref().unwrap()).unwrap();
        assert!(docs.contains("`programs.git.enable`"), "{docs}");
        // Typed so far, nested and dotted spellings, and list elements.
        assert_eq!(
            labels(
                "{ ... }: { home.stateVersion = \"25.11\"; programs = { tmux = { baseI$0 }; }; }"
            ),
            ["baseIndex"]
        );
        assert_eq!(
            labels("{ ... }: { home.username = \"a\"; programs.git.includes = [ { cond$0 } ]; }"),
            ["condition"]
        );
        assert_eq!(
            labels("{ lib, ... }: { home.username = \"a\"; programs.tmux = lib.mkIf true { mous$0 }; }"),
            ["mouse"]
        );
        // In a NixOS module, below `home-manager.users.<name>` only.
        let nixos = "{ ... }: { networking.hostName = \"h\"; home-manager.users.ada = { programs.starship.enableZ$0 }; }";
        assert_eq!(labels(nixos), ["enableZshIntegration"]);
        let outside = labels("{ ... }: { networking.hostName = \"h\"; programs.gi$0 }");
        assert!(outside.is_empty(), "{outside:?}");
        // Not in a `let` binding's set.
        let in_let = labels("{ ... }: let x = { programs.gi$0 }; in { home.username = \"a\"; }");
        assert!(in_let.is_empty(), "{in_let:?}");
    }

    #[test]
    fn attributes_of_a_set_in_reach() {
        assert_eq!(labels("let s = { a = 1; b.c = 2; }; in s.$0"), ["a", "b"]);
        assert_eq!(labels("let s = { a = 1; b.c = 2; }; in s.b.$0"), ["c"]);
        assert_eq!(
            labels("let s = { alpha = 1; beta = 2; }; in { x = s.al$0; }"),
            ["alpha"]
        );
    }

    #[test]
    fn names_in_scope_nearest_first_then_builtins_then_keywords() {
        let found = labels("let outer = 1; in x: let inner = 2; in i$0");
        assert_eq!(
            found,
            ["inner", "import", "isNull", "if"],
            "the typed `i` filters; `inner` is nearer than builtins"
        );
        let found = first("let outer = 1; in x: let inner = 2; in $0", 3);
        assert_eq!(found, ["inner", "x", "outer"]);
    }

    #[test]
    fn builtins_and_lib() {
        let found = labels("builtins.elemA$0");
        assert_eq!(found, ["elemAt"]);
        let found = labels("{ lib, ... }: lib.mkIf$0");
        assert!(found.is_empty(), "mkIf itself is typed: {found:?}");
        let found = labels("{ lib, ... }: lib.mkI$0");
        assert_eq!(found, ["mkIf", "mkImageMediaOverride"]);
        let found = labels("{ lib, ... }: lib.strings.concatS$0");
        assert!(found.contains(&"concatStrings".to_string()), "{found:?}");
        let found = labels("{ pkgs, ... }: pkgs.lib.optional$0");
        assert!(found.contains(&"optionals".to_string()), "{found:?}");
        let found = labels("{ lib, ... }: with lib; mkForc$0");
        assert_eq!(found, ["mkForce"]);
        // A local set called `lib` is that set.
        assert_eq!(labels("let lib = { mine = 1; }; in lib.$0"), ["mine"]);
    }

    #[test]
    fn pattern_fields_of_the_called_function_and_from_callers() {
        assert_eq!(
            labels("let f = { alpha, beta ? 1 }: alpha; in f { alpha = 1; $0 }"),
            ["beta", "inherit"]
        );
        assert_eq!(
            labels("let f = { a, $0 }: a; in [ (f { a = 1; extra = 2; }) ]"),
            ["extra"]
        );
    }

    #[test]
    fn flake_inputs() {
        let fixture = r#"
//- /flake.nix
{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs";
  inputs.hm.url = "github:nix-community/home-manager";
  outputs = { self, nixpkgs, ... }@inputs: { x = inputs.$0; };
}
"#;
        assert_eq!(labels(fixture), ["hm", "nixpkgs", "self"]);
        let fixture = r#"
//- /flake.nix
{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs";
  outputs = { self, nixpkgs }: { x = nixpkgs.leg$0; };
}
"#;
        assert_eq!(labels(fixture), ["legacyPackages"]);
    }

    #[test]
    fn keywords_by_context() {
        let found = labels("if true th$0");
        assert_eq!(found, ["then", "throw"]);
        let found = labels("let a = 1; i$0");
        assert!(found.contains(&"in".to_string()), "{found:?}");
        let found = labels("{ a = 1; }.a o$0");
        assert!(found.contains(&"or".to_string()), "{found:?}");
    }

    #[test]
    fn in_text_the_parser_could_not_read() {
        // `s.;` makes the next line an error node: the names are read as
        // written and resolved through the scopes.
        let found =
            labels("{ lib, ... }:\nlet s = { a = 1; }; in {\n  x = s.;\n  y = lib.mkI$0;\n}");
        assert_eq!(found, ["mkIf", "mkImageMediaOverride"]);
        let found = labels("let s = { alpha = 1; }; in {\n  x = s.;\n  y = s.al$0;\n}");
        assert_eq!(found, ["alpha"]);
    }

    #[test]
    fn nothing_in_comments_and_strings() {
        let f = Fixture::parse("# a comm$0ent\n1");
        assert!(completions(&f.doc(), f.offset(), &f).is_none());
    }

    #[test]
    fn documentation_resolves() {
        let text = resolve(&DocKey::Builtin("map".into())).unwrap();
        assert!(text.contains("map f list"));
        let text = resolve(&DocKey::Lib("lib.mkIf".into())).unwrap();
        assert!(text.contains("lib.modules.mkIf"), "{text}");
    }
}
