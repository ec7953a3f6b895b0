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

use rnix::{SyntaxKind, SyntaxNode};
use rowan::{TextRange, TextSize};

pub use crate::syntax::green::static_attr_name;
use crate::syntax::green::N;
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

#[derive(Debug, Clone, PartialEq, Eq)]
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    /// The name as written (its text is the name).
    pub range: TextRange,
    pub resolution: Resolution,
    /// The innermost binding whose value holds this reference: when that
    /// binding is dead, so is this use.
    pub owner: Option<OwnerId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
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

#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub kind: ScopeKind,
    /// The node whose names these are; they are visible inside it.
    pub range: TextRange,
    pub defs: Vec<DefId>,
}

/// A binding's value (or a pattern field's default): the references in it
/// count only while one of `defs` is alive.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Every lexical scope, in source order of where it starts (so a
    /// scope comes after every scope around it).
    pub scopes: Vec<Scope>,
    /// The chunks of big sets this model was built from, for the next.
    pub(crate) memo: memo::Memo,
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

    /// How many chunks of big sets this model was built from, and how many
    /// of them it took from the previous model (see `memo`).
    pub fn chunk_stats(&self) -> (usize, usize) {
        self.memo.stats()
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

mod build;
pub(crate) mod memo;

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
