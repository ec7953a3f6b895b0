//! The semantic model of one file: every binding (definition), every use of
//! a name (reference) and what it resolves to, and the `with` environments
//! and `rec` sets names may come from. Built once per document version from
//! the syntax tree and shared by every rule (and later by navigation).
//!
//! Scoping follows Nix: `let` bindings and `rec` members see each other;
//! lambda parameters and pattern fields (whose defaults see the other fields
//! and the `@` name) are visible in the body; a plain `inherit x;` looks `x`
//! up outside the set or `let` it is in; global builtins come after every
//! lexical binding; a name bound nowhere may come from any enclosing `with`.
//!
//! The walk recurses over the tree, whose depth the parser guard bounds
//! (`syntax::MAX_TREE_DEPTH`); callers run on threads with room for that.

use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

use rnix::{SyntaxKind, SyntaxNode};
use rowan::{GreenNodeData, TextRange, TextSize};

pub use crate::syntax::green::static_attr_name;
use crate::syntax::green::{attr_name, ident_token, N, T};
use smol_str::SmolStr;

use SyntaxKind::*;

pub type DefId = usize;
pub type RefId = usize;
pub type WithId = usize;
pub type OwnerId = usize;
pub type ScopeId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefKind {
    /// `let x = ...;` (the first name of `x.y = ...;` too).
    LetBinding,
    /// `let inherit x;` or `let inherit (e) x;`.
    LetInherit,
    /// `x: body`.
    LambdaArg,
    /// `{ x, ... }: body`.
    PatternField,
    /// `args@{ ... }: body`.
    PatternBind,
    /// A member of a `rec { }` set or `let { }`: an attribute, not a binding.
    RecMember,
}

#[derive(Debug, Clone)]
pub struct Def {
    pub name: SmolStr,
    pub kind: DefKind,
    /// The name where it is defined (the first site when several merge).
    pub range: TextRange,
    /// Every node that defines it: the binding (`x = 1;`), the `inherit`
    /// statement, the pattern entry, the lambda parameter or `@` binding.
    pub sites: Vec<Site>,
    /// For `let` bindings: the `let` node they belong to.
    pub scope: Option<TextRange>,
}

/// A node, by position and kind (the model does not keep syntax nodes; see
/// [`Site::node`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Site {
    pub range: TextRange,
    pub kind: SyntaxKind,
}

impl Site {
    fn of(node: &N<'_>) -> Site {
        Site {
            range: node.text_range(),
            kind: node.kind(),
        }
    }

    /// The syntax node in `root` this site is.
    pub fn node(&self, root: &SyntaxNode) -> Option<SyntaxNode> {
        let mut node = match root.covering_element(self.range) {
            rowan::NodeOrToken::Node(n) => n,
            rowan::NodeOrToken::Token(t) => t.parent()?,
        };
        loop {
            if node.text_range() == self.range && node.kind() == self.kind {
                return Some(node);
            }
            node = node.parent()?;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Def(DefId),
    Builtin,
    /// Not bound lexically; the innermost enclosing `with` (and the ones
    /// around it, see [`With::outer`]) may provide it.
    With(WithId),
    Undefined,
}

#[derive(Debug, Clone)]
pub struct Ref {
    /// The name as written (its text is the name).
    pub range: TextRange,
    pub resolution: Resolution,
    /// The innermost binding whose value holds this reference: when that
    /// binding is dead, so is this use.
    pub owner: Option<OwnerId>,
}

#[derive(Debug, Clone)]
pub struct With {
    pub range: TextRange,
    /// Where the body after `with e;` starts.
    pub body_start: rowan::TextSize,
    /// `with builtins;`.
    pub env_is_builtins: bool,
    /// The `with` keyword.
    pub keyword: TextRange,
    pub owner: Option<OwnerId>,
    /// The next `with` around this one.
    pub outer: Option<WithId>,
}

#[derive(Debug, Clone)]
pub struct RecSet {
    pub range: TextRange,
    /// The `rec` keyword.
    pub keyword: TextRange,
    pub members: Vec<DefId>,
}

/// What makes a lexical scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    /// `let ... in` (and the legacy `let { }`).
    Let,
    /// A `rec { }` set.
    Rec,
    /// A lambda: its argument or pattern.
    Lambda,
}

/// A lexical scope: the names one `let`, `rec` set or lambda binds, and
/// where they are visible. Completion and rename read these.
#[derive(Debug, Clone)]
pub struct Scope {
    pub kind: ScopeKind,
    /// The node whose names these are; they are visible inside it.
    pub range: TextRange,
    pub defs: Vec<DefId>,
}

/// A binding's value (or a pattern field's default): the references in it
/// count only while one of `defs` is alive.
#[derive(Debug, Clone)]
pub struct Owner {
    pub defs: Vec<DefId>,
    pub parent: Option<OwnerId>,
}

#[derive(Debug, Default)]
pub struct SemanticModel {
    pub defs: Vec<Def>,
    /// Sorted by position.
    pub refs: Vec<Ref>,
    pub withs: Vec<With>,
    pub recs: Vec<RecSet>,
    pub owners: Vec<Owner>,
    /// References resolving to each definition.
    pub uses: Vec<Vec<RefId>>,
    /// Selections from `builtins` (`builtins.toPath`), for the rules.
    pub builtins_selects: Vec<Site>,
    /// Every lexical scope, in source order of where it starts (so a
    /// scope comes after every scope around it).
    pub scopes: Vec<Scope>,
}

/// The names Nix puts in the global scope (besides every `__`-prefixed
/// builtin, which `is_builtin` accepts).
pub const GLOBAL_BUILTINS: &[&str] = &[
    "abort",
    "baseNameOf",
    "break",
    "builtins",
    "derivation",
    "derivationStrict",
    "dirOf",
    "false",
    "fetchGit",
    "fetchMercurial",
    "fetchTarball",
    "fetchTree",
    "fromTOML",
    "import",
    "isNull",
    "map",
    "null",
    "placeholder",
    "removeAttrs",
    "scopedImport",
    "throw",
    "toString",
    "true",
];

impl SemanticModel {
    /// The `with`s a name resolving to `With(w)` may come from, innermost
    /// first.
    pub fn with_chain(&self, w: WithId) -> impl Iterator<Item = WithId> + '_ {
        std::iter::successors(Some(w), |&w| self.withs[w].outer)
    }

    /// The scopes whose names are visible at `offset`, innermost first.
    pub fn scopes_at(&self, offset: TextSize) -> Vec<ScopeId> {
        let mut found: Vec<ScopeId> = (0..self.scopes.len())
            .filter(|&s| self.scopes[s].range.contains_inclusive(offset))
            .collect();
        // Scopes that contain one offset nest, and each starts before (or
        // with) the ones inside it: the innermost comes last.
        found.reverse();
        found
    }

    /// The `with`s around `offset` (their bodies hold it), innermost first.
    pub fn withs_at(&self, offset: TextSize) -> Vec<WithId> {
        let mut found: Vec<WithId> = (0..self.withs.len())
            .filter(|&w| {
                let with = &self.withs[w];
                with.body_start <= offset && offset <= with.range.end()
            })
            .collect();
        found.reverse();
        found
    }

    /// The reference whose name covers `offset`.
    pub fn ref_at(&self, offset: TextSize) -> Option<RefId> {
        let i = self.refs.partition_point(|r| r.range.end() < offset);
        (i..self.refs.len())
            .take_while(|&i| self.refs[i].range.start() <= offset)
            .find(|&i| self.refs[i].range.contains_inclusive(offset))
    }

    /// The definition whose name covers `offset`.
    pub fn def_at(&self, offset: TextSize) -> Option<DefId> {
        self.defs
            .iter()
            .position(|d| d.range.contains_inclusive(offset))
    }
}

pub fn is_builtin(name: &str) -> bool {
    name.starts_with("__") || GLOBAL_BUILTINS.contains(&name)
}

type Names = Rc<HashMap<SmolStr, DefId>>;

enum Frame {
    Scope(Names),
    With(WithId),
}

struct Builder {
    model: SemanticModel,
    frames: Vec<Frame>,
    owner: Option<OwnerId>,
}

impl SemanticModel {
    pub fn build(root: &SyntaxNode) -> SemanticModel {
        let green = root.green();
        SemanticModel::from_green(green)
    }

    /// The model of a tree, walked on its green nodes: no allocation per
    /// node, which makes the walk several times faster than over syntax
    /// nodes.
    pub fn from_green(root: &GreenNodeData) -> SemanticModel {
        let mut b = Builder {
            model: SemanticModel::default(),
            frames: Vec::new(),
            owner: None,
        };
        b.expr(&N {
            green: root,
            offset: TextSize::from(0),
        });
        let mut model = b.model;
        // In source order, so a reference can be found by its position.
        model.refs.sort_by_key(|r| r.range.start());
        model.uses = vec![Vec::new(); model.defs.len()];
        for (id, r) in model.refs.iter().enumerate() {
            if let Resolution::Def(d) = r.resolution {
                model.uses[d].push(id);
            }
        }
        model
    }
}

impl Builder {
    fn define(&mut self, name: SmolStr, kind: DefKind, range: TextRange, site: Site) -> DefId {
        self.model.defs.push(Def {
            name,
            kind,
            range,
            sites: vec![site],
            scope: None,
        });
        self.model.defs.len() - 1
    }

    fn record_scope(&mut self, kind: ScopeKind, range: TextRange, names: &HashMap<SmolStr, DefId>) {
        let mut defs: Vec<DefId> = names.values().copied().collect();
        defs.sort_unstable();
        self.model.scopes.push(Scope { kind, range, defs });
    }

    fn new_owner(&mut self, defs: Vec<DefId>) -> OwnerId {
        self.model.owners.push(Owner {
            defs,
            parent: self.owner,
        });
        self.model.owners.len() - 1
    }

    /// Walks `node` with `owner` as the owner of what it holds.
    fn owned(&mut self, owner: OwnerId, node: &N<'_>) {
        let saved = self.owner.replace(owner);
        self.expr(node);
        self.owner = saved;
    }

    fn resolve(&self, name: &str, skip_scopes: usize) -> Resolution {
        let usable = self.frames.len() - skip_scopes.min(self.frames.len());
        for frame in self.frames[..usable].iter().rev() {
            if let Frame::Scope(names) = frame {
                if let Some(&def) = names.get(name) {
                    return Resolution::Def(def);
                }
            }
        }
        if is_builtin(name) {
            return Resolution::Builtin;
        }
        // Any frame, skipped or not, may be a `with` around the name.
        match self.innermost_with() {
            Some(w) => Resolution::With(w),
            None => Resolution::Undefined,
        }
    }

    fn innermost_with(&self) -> Option<WithId> {
        self.frames.iter().rev().find_map(|f| match f {
            Frame::With(w) => Some(*w),
            Frame::Scope(_) => None,
        })
    }

    fn reference(&mut self, token: &T<'_>, skip_scopes: usize) {
        let resolution = self.resolve(token.text(), skip_scopes);
        self.model.refs.push(Ref {
            range: token.text_range(),
            resolution,
            owner: self.owner,
        });
    }

    fn children(&mut self, node: &N<'_>) {
        for child in node.children() {
            self.expr(&child);
        }
    }

    fn expr(&mut self, node: &N<'_>) {
        match node.kind() {
            NODE_IDENT => {
                if let Some(token) = ident_token(node) {
                    self.reference(&token, 0);
                }
            }
            NODE_LET_IN => self.let_in(node),
            NODE_LEGACY_LET => self.rec_set(node, None),
            NODE_ATTR_SET => {
                let rec = node
                    .children_with_tokens()
                    .find(|t| t.kind() == TOKEN_REC)
                    .map(|t| t.text_range());
                match rec {
                    Some(keyword) => self.rec_set(node, Some(keyword)),
                    None => self.plain_set(node),
                }
            }
            NODE_LAMBDA => self.lambda(node),
            NODE_WITH => self.with(node),
            NODE_SELECT => {
                let base = node.children().next();
                if base.is_some_and(|b| b.ident_text() == Some("builtins")) {
                    self.model.builtins_selects.push(Site::of(node));
                }
                // `e.a.${b} or d`: `e`, dynamic parts and `d` are expressions.
                for child in node.children() {
                    match child.kind() {
                        NODE_ATTRPATH => self.attrpath(&child),
                        _ => self.expr(&child),
                    }
                }
            }
            NODE_HAS_ATTR => {
                for child in node.children() {
                    match child.kind() {
                        NODE_ATTRPATH => self.attrpath(&child),
                        _ => self.expr(&child),
                    }
                }
            }
            NODE_ATTRPATH => self.attrpath(node),
            _ => self.children(node),
        }
    }

    /// The dynamic parts of an attribute path (`a.${b}."${c}"`).
    fn attrpath(&mut self, path: &N<'_>) {
        for attr in path.children() {
            if attr.kind() != NODE_IDENT {
                self.children(&attr);
            }
        }
    }

    /// The members of a set or `let` that define names in its scope:
    /// `(name, name range, member node)`; dotted paths define their first
    /// name.
    fn member_names(node: &N<'_>) -> Vec<(SmolStr, TextRange, Site, bool)> {
        let mut names = Vec::new();
        for member in node.children() {
            match member.kind() {
                NODE_ATTRPATH_VALUE => {
                    let first = member
                        .children()
                        .find(|c| c.kind() == NODE_ATTRPATH)
                        .and_then(|p| p.children().next());
                    if let Some(first) = first {
                        if let Some(name) = attr_name(&first) {
                            names.push((name, first.text_range(), Site::of(&member), false));
                        }
                    }
                }
                NODE_INHERIT => {
                    for attr in member.children().filter(|c| c.kind() != NODE_INHERIT_FROM) {
                        if let Some(name) = attr_name(&attr) {
                            names.push((name, attr.text_range(), Site::of(&member), true));
                        }
                    }
                }
                _ => {}
            }
        }
        names
    }

    /// Defines the members of `node` in a new scope; merges repeated names
    /// (`a.b = 1; a.c = 2;`).
    fn define_members(&mut self, node: &N<'_>, kind: impl Fn(bool) -> DefKind) -> Names {
        let mut scope: HashMap<SmolStr, DefId> = HashMap::default();
        for (name, range, member, inherited) in Self::member_names(node) {
            match scope.get(&name) {
                Some(&def) => {
                    let sites = &mut self.model.defs[def].sites;
                    if !sites.contains(&member) {
                        sites.push(member);
                    }
                }
                None => {
                    let def = self.define(name.clone(), kind(inherited), range, member);
                    scope.insert(name, def);
                }
            }
        }
        Rc::new(scope)
    }

    /// The values of a set's or `let`'s members. With `scope` (a `let`),
    /// references in a binding's value belong to that binding (dead with
    /// it). `own_frame`: the top frame is the set's own scope, which a plain
    /// `inherit x;` looks past.
    fn member_values(&mut self, node: &N<'_>, scope: Option<&Names>, own_frame: bool) {
        for member in node.children() {
            match member.kind() {
                NODE_ATTRPATH_VALUE => {
                    let def = scope.and_then(|s| {
                        let first = member
                            .children()
                            .find(|c| c.kind() == NODE_ATTRPATH)?
                            .children()
                            .next()?;
                        s.get(&attr_name(&first)?).copied()
                    });
                    let owner = def.map(|d| self.new_owner(vec![d]));
                    for child in member.children() {
                        match (child.kind(), owner) {
                            (NODE_ATTRPATH, _) => self.attrpath(&child),
                            (_, Some(owner)) => self.owned(owner, &child),
                            (_, None) => self.expr(&child),
                        }
                    }
                }
                NODE_INHERIT => self.inherit(&member, scope, usize::from(own_frame)),
                _ => {}
            }
        }
    }

    /// `inherit a b;` looks the names up outside the scope being built
    /// (`skip` scopes up); `inherit (e) a;` evaluates `e` inside it.
    fn inherit(&mut self, member: &N<'_>, scope: Option<&Names>, skip: usize) {
        let from = member.children().find(|c| c.kind() == NODE_INHERIT_FROM);
        let names: Vec<N<'_>> = member
            .children()
            .filter(|c| c.kind() != NODE_INHERIT_FROM)
            .collect();
        let defs: Vec<DefId> = match scope {
            Some(s) => names
                .iter()
                .filter_map(|a| s.get(&attr_name(a)?).copied())
                .collect(),
            None => Vec::new(),
        };
        match from {
            Some(from) => {
                if defs.is_empty() {
                    self.children(&from);
                } else {
                    let owner = self.new_owner(defs);
                    let saved = self.owner.replace(owner);
                    self.children(&from);
                    self.owner = saved;
                }
                for attr in &names {
                    if attr.kind() != NODE_IDENT {
                        self.children(attr);
                    }
                }
            }
            None => {
                for attr in &names {
                    match attr.kind() {
                        NODE_IDENT => {
                            if let Some(token) = ident_token(attr) {
                                // `let inherit x;` uses the outer `x`; it is
                                // dead when the name it defines is.
                                let def = scope.and_then(|s| s.get(token.text()).copied());
                                let saved = self.owner;
                                if let Some(def) = def {
                                    self.owner = Some(self.new_owner(vec![def]));
                                }
                                self.reference(&token, skip);
                                self.owner = saved;
                            }
                        }
                        _ => self.children(attr),
                    }
                }
            }
        }
    }

    fn let_in(&mut self, node: &N<'_>) {
        let scope = self.define_members(node, |inherited| {
            if inherited {
                DefKind::LetInherit
            } else {
                DefKind::LetBinding
            }
        });
        for &def in scope.values() {
            self.model.defs[def].scope = Some(node.text_range());
        }
        self.record_scope(ScopeKind::Let, node.text_range(), &scope);
        self.frames.push(Frame::Scope(scope.clone()));
        self.member_values(node, Some(&scope), true);
        // The body: the expression after `in`.
        let mut after_in = false;
        for child in node.children_with_tokens() {
            if child.kind() == TOKEN_IN {
                after_in = true;
            } else if after_in {
                if let Some(body) = child.as_node() {
                    self.expr(body);
                }
            }
        }
        self.frames.pop();
    }

    fn rec_set(&mut self, node: &N<'_>, keyword: Option<TextRange>) {
        let scope = self.define_members(node, |_| DefKind::RecMember);
        let kind = match keyword {
            Some(_) => ScopeKind::Rec,
            None => ScopeKind::Let,
        };
        self.record_scope(kind, node.text_range(), &scope);
        if let Some(keyword) = keyword {
            self.model.recs.push(RecSet {
                range: node.text_range(),
                keyword,
                members: scope.values().copied().collect(),
            });
        }
        self.frames.push(Frame::Scope(scope.clone()));
        // Members of a `rec` set are attributes, never dead: their values
        // are not owned by them.
        self.member_values(node, None, true);
        self.frames.pop();
    }

    fn plain_set(&mut self, node: &N<'_>) {
        self.member_values(node, None, false);
    }

    fn lambda(&mut self, node: &N<'_>) {
        let mut scope: HashMap<SmolStr, DefId> = HashMap::default();
        let param = node.children().next();
        let mut pattern = None;
        if let Some(param) = &param {
            match param.kind() {
                NODE_IDENT_PARAM => {
                    if let Some(ident) = param.children().find(|c| c.kind() == NODE_IDENT) {
                        if let Some(token) = ident_token(&ident) {
                            let def = self.define(
                                SmolStr::new(token.text()),
                                DefKind::LambdaArg,
                                token.text_range(),
                                Site::of(param),
                            );
                            scope.insert(SmolStr::new(token.text()), def);
                        }
                    }
                }
                NODE_PATTERN => {
                    let mut defaults = Vec::new();
                    for part in param.children() {
                        let (kind, ident) = match part.kind() {
                            NODE_PAT_ENTRY => (DefKind::PatternField, part.children().next()),
                            NODE_PAT_BIND => (
                                DefKind::PatternBind,
                                part.children().find(|c| c.kind() == NODE_IDENT),
                            ),
                            _ => continue,
                        };
                        let Some(token) = ident.as_ref().and_then(ident_token) else {
                            continue;
                        };
                        let name = SmolStr::new(token.text());
                        // A repeated name is an error (duplicate-param); the
                        // first definition is the one names resolve to.
                        let def =
                            self.define(name.clone(), kind, token.text_range(), Site::of(&part));
                        scope.entry(name).or_insert(def);
                        if kind == DefKind::PatternField {
                            if let Some(default) = part.children().nth(1) {
                                defaults.push((def, default));
                            }
                        }
                    }
                    pattern = Some(defaults);
                }
                _ => {}
            }
        }
        self.record_scope(ScopeKind::Lambda, node.text_range(), &scope);
        self.frames.push(Frame::Scope(Rc::new(scope)));
        for (def, default) in pattern.unwrap_or_default() {
            let owner = self.new_owner(vec![def]);
            self.owned(owner, &default);
        }
        if let Some(body) = node.children().nth(1) {
            self.expr(&body);
        }
        self.frames.pop();
    }

    fn with(&mut self, node: &N<'_>) {
        let keyword = node
            .children_with_tokens()
            .find(|t| t.kind() == TOKEN_WITH)
            .map_or(node.text_range(), |t| t.text_range());
        let mut parts = node.children();
        let env = parts.next();
        if let Some(env) = &env {
            self.expr(env);
        }
        let body_start = node
            .children()
            .last()
            .map_or(node.text_range().end(), |b| b.text_range().start());
        let outer = self.innermost_with();
        self.model.withs.push(With {
            range: node.text_range(),
            body_start,
            env_is_builtins: env.is_some_and(|e| e.ident_text() == Some("builtins")),
            keyword,
            owner: self.owner,
            outer,
        });
        let id = self.model.withs.len() - 1;
        self.frames.push(Frame::With(id));
        for body in parts {
            self.expr(&body);
        }
        self.frames.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(text: &str) -> SemanticModel {
        let parse = crate::syntax::parse(text);
        assert!(parse.errors().is_empty(), "{:?}", parse.errors());
        SemanticModel::build(&parse.syntax().unwrap())
    }

    fn resolved(text: &str) -> Vec<(String, String)> {
        let m = model(text);
        m.refs
            .iter()
            .map(|r| {
                let to = match &r.resolution {
                    Resolution::Def(d) => format!(
                        "{:?}@{}",
                        m.defs[*d].kind,
                        u32::from(m.defs[*d].range.start())
                    ),
                    Resolution::Builtin => "builtin".into(),
                    Resolution::With(w) => format!("with{w:?}"),
                    Resolution::Undefined => "undefined".into(),
                };
                (text[r.range].to_string(), to)
            })
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn let_bindings_see_each_other_and_inherit_looks_outside() {
        assert_eq!(
            resolved("x: let a = b; b = x; inherit x; in a"),
            pairs(&[
                ("b", "LetBinding@14"),
                ("x", "LetInherit@29"),
                ("x", "LambdaArg@0"),
                ("a", "LetBinding@7")
            ])
        );
    }

    #[test]
    fn pattern_defaults_see_other_fields_and_the_at_name() {
        assert_eq!(
            resolved("{ a, b ? a + c, ... }@args: args"),
            pairs(&[
                ("a", "PatternField@2"),
                ("c", "undefined"),
                ("args", "PatternBind@22")
            ])
        );
    }

    #[test]
    fn builtins_come_before_with_and_with_provides_the_rest() {
        assert_eq!(
            resolved("with pkgs; [ map hello __findFile ]"),
            pairs(&[
                ("pkgs", "undefined"),
                ("map", "builtin"),
                ("hello", "with0"),
                ("__findFile", "builtin")
            ])
        );
    }

    #[test]
    fn attribute_names_are_not_references() {
        assert_eq!(
            resolved("{ a.b = c.d.${e} or f; g = h ? i.j; }"),
            pairs(&[
                ("c", "undefined"),
                ("e", "undefined"),
                ("f", "undefined"),
                ("h", "undefined")
            ])
        );
    }

    #[test]
    fn rec_members_see_each_other_and_inherit_from_sees_the_let() {
        assert_eq!(
            resolved("rec { a = 1; b = a; }"),
            pairs(&[("a", "RecMember@6")])
        );
        assert_eq!(
            resolved("let s = {}; inherit (s) x; in x"),
            pairs(&[("s", "LetBinding@4"), ("x", "LetInherit@24")])
        );
    }
}
