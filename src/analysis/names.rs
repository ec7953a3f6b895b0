//! What a name or a selection denotes, however it is spelled. A rule about
//! a builtin or a `lib` function asks here instead of comparing text, so
//! `builtins.toPath`, `toPath` under `with builtins;`, `inherit (builtins)
//! toPath;`, `let b = builtins; in b.toPath` and `__toPath` are one thing,
//! and a local binding that shadows the name is not it.
//!
//! Only what the file itself shows is followed: global builtins, `let` and
//! `rec` bindings of one plain name, `inherit` and `inherit (e)`, the
//! environments of `with`, and the conventional function arguments `lib`
//! and `pkgs` (a module's or a package's `{ lib, pkgs, ... }:`), whose
//! meaning the whole ecosystem relies on. Anything else denotes nothing
//! known, and rules stay quiet about it.

use rnix::{SyntaxKind, SyntaxNode, SyntaxToken};
use rowan::{TextRange, TextSize};
use smol_str::SmolStr;

use SyntaxKind::*;

use super::semantic::{static_attr_name, DefKind, Resolution, SemanticModel, Site};

/// A value of the global environment that an expression is known to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Global {
    /// The `builtins` set.
    Builtins,
    /// A builtin function or constant, by its name in `builtins` (`toPath`
    /// for `__toPath` too).
    Builtin(SmolStr),
    /// The package set (`pkgs`).
    Pkgs,
    /// nixpkgs' `lib`, or the attribute at this path inside it (`[]` is
    /// `lib` itself, `["strings", "concatMapStrings"]`).
    Lib(Vec<SmolStr>),
}

impl Global {
    /// The name of the `lib` function this is, however deep it was
    /// selected: `lib.mkForce` and `lib.modules.mkForce` are `mkForce`.
    pub fn lib_function(&self) -> Option<&str> {
        match self {
            Global::Lib(path) => match path.as_slice() {
                [name] => Some(name),
                [section, name] if LIB_SECTIONS.contains(&section.as_str()) => Some(name),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether this is the builtin `name`.
    pub fn is_builtin(&self, name: &str) -> bool {
        matches!(self, Global::Builtin(n) if n == name)
    }

    /// This value's attribute `name`.
    fn select(self, name: SmolStr) -> Option<Global> {
        match self {
            Global::Builtins => Some(Global::Builtin(name)),
            Global::Builtin(_) => None,
            Global::Pkgs => (name == "lib").then(|| Global::Lib(Vec::new())),
            Global::Lib(mut path) => {
                path.push(name);
                Some(Global::Lib(path))
            }
        }
    }
}

/// The sections of nixpkgs' `lib` whose functions are also `lib.<name>`.
const LIB_SECTIONS: &[&str] = &[
    "asserts",
    "attrsets",
    "customisation",
    "debug",
    "fileset",
    "fixedPoints",
    "lists",
    "meta",
    "modules",
    "options",
    "sources",
    "strings",
    "trivial",
    "types",
    "versions",
];

/// How many names deep a chain of bindings is followed (`let a = b; b =
/// c; ...`): far more than real code uses, and a bound on cycles.
const MAX_DEPTH: u32 = 16;

/// Answers what expressions denote, over one file's tree and model.
pub struct Names<'a> {
    root: &'a SyntaxNode,
    model: &'a SemanticModel,
}

impl<'a> Names<'a> {
    pub fn new(root: &'a SyntaxNode, model: &'a SemanticModel) -> Names<'a> {
        Names { root, model }
    }

    /// What `expr` denotes, when it is one of the [`Global`]s.
    pub fn of(&self, expr: &SyntaxNode) -> Option<Global> {
        self.expr(expr, 0)
    }

    /// The value of the `let` (or `rec`) binding the name `ident` (an
    /// identifier expression) refers to, when it is one plain `name = value;`.
    pub fn let_value(&self, ident: &SyntaxNode) -> Option<SyntaxNode> {
        let token = ident.first_token()?;
        let start = token.text_range().start();
        let refs = &self.model.refs;
        let at = refs.partition_point(|r| r.range.start() < start);
        let r = refs.get(at).filter(|r| r.range == token.text_range())?;
        let Resolution::Def(d) = r.resolution else {
            return None;
        };
        let def = &self.model.defs[d];
        if !matches!(def.kind, DefKind::LetBinding | DefKind::RecMember) {
            return None;
        }
        let [site] = def.sites.as_slice() else {
            return None;
        };
        let binding = site.node(self.root)?;
        let path = binding.children().find(|c| c.kind() == NODE_ATTRPATH)?;
        if path.children().count() != 1 {
            return None;
        }
        binding.last_child().filter(|v| v != &path)
    }

    /// Whether the name `ident` (an identifier expression) is bound by a
    /// `let` or `rec` binding of this file.
    pub fn is_let_bound(&self, ident: &SyntaxNode) -> bool {
        let Some(token) = ident.first_token() else {
            return false;
        };
        let start = token.text_range().start();
        let refs = &self.model.refs;
        let at = refs.partition_point(|r| r.range.start() < start);
        match refs.get(at).filter(|r| r.range == token.text_range()) {
            Some(r) => match r.resolution {
                Resolution::Def(d) => matches!(
                    self.model.defs[d].kind,
                    DefKind::LetBinding | DefKind::RecMember
                ),
                _ => false,
            },
            None => false,
        }
    }

    /// The places where the builtin `name` is used, however it is spelled:
    /// each reference that denotes it (its name's range) and each
    /// selection `e.name` whose `e` denotes `builtins` (from `e` to
    /// `name`). Found by the name's text, so only its occurrences are
    /// looked at.
    pub fn builtin_uses(&self, text: &str, name: &str) -> Vec<TextRange> {
        let offsets: Vec<usize> = text.match_indices(name).map(|(at, _)| at).collect();
        self.builtin_uses_at(&offsets, name)
    }

    /// [`Names::builtin_uses`], from the offsets where the name's text
    /// occurs (found with other words in one pass over the text).
    pub fn builtin_uses_at(&self, offsets: &[usize], name: &str) -> Vec<TextRange> {
        let mut found = Vec::new();
        for token in self.idents_named(offsets, name) {
            let Some(ident) = token.parent() else {
                continue;
            };
            match ident.parent() {
                Some(path) if path.kind() == NODE_ATTRPATH => {
                    let Some(select) = path.parent().filter(|s| s.kind() == NODE_SELECT) else {
                        continue;
                    };
                    if path.last_child().as_ref() != Some(&ident) {
                        continue;
                    }
                    if self.of(&select).is_some_and(|g| g.is_builtin(name)) {
                        found.push(TextRange::new(
                            select.text_range().start(),
                            path.text_range().end(),
                        ));
                    }
                }
                _ => {
                    if self
                        .reference(&token, 0)
                        .is_some_and(|g| g.is_builtin(name))
                    {
                        found.push(token.text_range());
                    }
                }
            }
        }
        found
    }

    /// The identifier tokens whose text is `name` or `__name`.
    fn idents_named<'t>(
        &'t self,
        offsets: &'t [usize],
        name: &'t str,
    ) -> impl Iterator<Item = SyntaxToken> + 't {
        offsets.iter().filter_map(move |&at| {
            let offset = TextSize::try_from(at).ok()?;
            let token = crate::syntax::token_at(self.root, offset)?;
            let spelled = token.text();
            let ok = token.kind() == TOKEN_IDENT
                && (spelled == name || spelled.strip_prefix("__") == Some(name));
            ok.then_some(token)
        })
    }

    fn expr(&self, expr: &SyntaxNode, depth: u32) -> Option<Global> {
        if depth > MAX_DEPTH {
            return None;
        }
        match expr.kind() {
            NODE_PAREN => self.expr(&expr.children().next()?, depth + 1),
            NODE_IDENT => {
                let token = expr.first_token()?;
                self.reference(&token, depth)
            }
            NODE_SELECT => {
                let mut children = expr.children();
                let base = children.next()?;
                let path = children.next().filter(|p| p.kind() == NODE_ATTRPATH)?;
                let mut value = self.expr(&base, depth + 1)?;
                for attr in path.children() {
                    value = value.select(static_attr_name(&attr)?)?;
                }
                Some(value)
            }
            _ => None,
        }
    }

    /// What the name `token` (a reference) denotes.
    fn reference(&self, token: &SyntaxToken, depth: u32) -> Option<Global> {
        let start = token.text_range().start();
        let refs = &self.model.refs;
        let at = refs.partition_point(|r| r.range.start() < start);
        let r = refs.get(at).filter(|r| r.range == token.text_range())?;
        let name = token.text();
        match r.resolution {
            Resolution::Builtin => match name {
                "builtins" => Some(Global::Builtins),
                "true" | "false" | "null" => None,
                _ => Some(Global::Builtin(
                    name.strip_prefix("__").unwrap_or(name).into(),
                )),
            },
            Resolution::With(w) => {
                // The innermost `with` whose set is known provides it (one
                // of an unknown set might, but then nothing is claimed).
                self.model.with_chain(w).find_map(|w| {
                    let with = &self.model.withs[w];
                    let node = Site {
                        range: with.range,
                        kind: NODE_WITH,
                    }
                    .node(self.root)?;
                    let env = self.expr(&node.children().next()?, depth + 1)?;
                    Some(env.select(name.into()))
                })?
            }
            Resolution::Def(d) => self.definition(d, token, depth),
            Resolution::Undefined => None,
        }
    }

    /// What the definition `d`, named by `token`, is bound to.
    fn definition(&self, d: usize, token: &SyntaxToken, depth: u32) -> Option<Global> {
        let def = &self.model.defs[d];
        match def.kind {
            DefKind::PatternField => match def.name.as_str() {
                "lib" => Some(Global::Lib(Vec::new())),
                "pkgs" => Some(Global::Pkgs),
                _ => None,
            },
            DefKind::LetBinding | DefKind::RecMember => {
                // One plain binding of the name (`x.y = ...` makes a set).
                let [site] = def.sites.as_slice() else {
                    return None;
                };
                let binding = site.node(self.root)?;
                let path = binding.children().find(|c| c.kind() == NODE_ATTRPATH)?;
                if path.children().count() != 1 {
                    return None;
                }
                self.expr(&binding.last_child()?, depth + 1)
            }
            DefKind::LetInherit => {
                let [site] = def.sites.as_slice() else {
                    return None;
                };
                let inherit = site.node(self.root)?;
                match inherit.children().find(|c| c.kind() == NODE_INHERIT_FROM) {
                    Some(from) => {
                        let set = self.expr(&from.children().next()?, depth + 1)?;
                        set.select(def.name.clone())
                    }
                    // `inherit x;` takes the `x` around: the same token is
                    // a reference to it.
                    None => {
                        let own = inherit
                            .descendants_with_tokens()
                            .filter_map(|e| e.into_token())
                            .find(|t| t.text_range() == def.range)?;
                        if own.text_range() == token.text_range() {
                            return None;
                        }
                        self.reference(&own, depth + 1)
                    }
                }
            }
            DefKind::LambdaArg | DefKind::PatternBind => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the expression marked `$0` (the innermost expression that
    /// starts there) denotes.
    fn denotes(fixture: &str) -> Option<Global> {
        let at = fixture.find("$0").expect("a $0 marker");
        let text = fixture.replacen("$0", "", 1);
        let root = rnix::Root::parse(&text).syntax();
        let model = SemanticModel::build(&root);
        let offset = TextSize::try_from(at).unwrap();
        let token = root.token_at_offset(offset).right_biased().unwrap();
        // The outermost expression starting here that is a name, selection
        // or parenthesis.
        let expr = token
            .parent_ancestors()
            .take_while(|n| n.text_range().start() == offset)
            .filter(|n| matches!(n.kind(), NODE_IDENT | NODE_SELECT | NODE_PAREN))
            .last()
            .unwrap();
        Names::new(&root, &model).of(&expr)
    }

    fn builtin(name: &str) -> Option<Global> {
        Some(Global::Builtin(name.into()))
    }

    fn lib(path: &[&str]) -> Option<Global> {
        Some(Global::Lib(
            path.iter().map(|s| SmolStr::from(*s)).collect(),
        ))
    }

    #[test]
    fn builtins_however_spelled() {
        assert_eq!(denotes("$0builtins.toPath"), builtin("toPath"));
        assert_eq!(denotes("$0__toPath"), builtin("toPath"));
        assert_eq!(denotes("$0toString"), builtin("toString"));
        assert_eq!(denotes("with builtins; $0toPath"), builtin("toPath"));
        assert_eq!(
            denotes("let inherit (builtins) toPath; in $0toPath"),
            builtin("toPath")
        );
        assert_eq!(
            denotes("let b = builtins; in $0b.toPath"),
            builtin("toPath")
        );
        assert_eq!(
            denotes("let b = (builtins); c = b; in $0c.getEnv"),
            builtin("getEnv")
        );
        assert_eq!(
            denotes("let inherit (builtins) toPath; in let inherit toPath; in $0toPath"),
            builtin("toPath")
        );
        assert_eq!(
            denotes("rec { b = builtins; x = $0b.toPath; }"),
            builtin("toPath")
        );
    }

    #[test]
    fn shadowing_bindings_are_not_builtins() {
        assert_eq!(denotes("let toPath = x: x; in $0toPath"), None);
        assert_eq!(denotes("{ builtins }: $0builtins.toPath"), None);
        assert_eq!(denotes("builtins: $0builtins.toPath"), None);
        assert_eq!(denotes("let builtins = { }; in $0builtins.toPath"), None);
        assert_eq!(denotes("with builtins; let toPath = 1; in $0toPath"), None);
        assert_eq!(denotes("with { }; $0toPath"), None);
        assert_eq!(denotes("$0true"), None);
        // The innermost `with` of a known set decides.
        assert_eq!(
            denotes("with builtins; with import <nixpkgs> { }; $0toPath"),
            builtin("toPath")
        );
        assert_eq!(
            denotes("{ pkgs }: with builtins; with pkgs; $0toPath"),
            None
        );
    }

    #[test]
    fn lib_however_spelled() {
        assert_eq!(denotes("{ lib, ... }: $0lib.mkForce"), lib(&["mkForce"]));
        assert_eq!(
            denotes("{ lib, ... }: with lib; $0mkForce"),
            lib(&["mkForce"])
        );
        assert_eq!(
            denotes("{ lib, ... }: let inherit (lib) mkForce; in $0mkForce"),
            lib(&["mkForce"])
        );
        assert_eq!(
            denotes("{ pkgs, ... }: let inherit (pkgs.lib) mkIf; in $0mkIf"),
            lib(&["mkIf"])
        );
        assert_eq!(
            denotes("{ pkgs }: with pkgs; $0lib.strings.concatStrings"),
            lib(&["strings", "concatStrings"])
        );
        assert_eq!(
            denotes("{ lib }: $0lib.modules.mkForce")
                .unwrap()
                .lib_function(),
            Some("mkForce")
        );
        assert_eq!(denotes("{ lib }: let lib = { }; in $0lib.mkForce"), None);
        assert_eq!(denotes("lib: $0lib.mkForce"), None);
    }

    #[test]
    fn cycles_end() {
        assert_eq!(denotes("let a = b; b = a; in $0a.x"), None);
        assert_eq!(denotes("rec { a = a.b; x = $0a.c; }"), None);
    }

    #[test]
    fn builtin_uses_point_at_each_use() {
        let text = "let inherit (builtins) toPath; b = builtins; toString = 1; in \
                    [ (toPath ./a) (b.toPath ./b) (builtins.toPath ./c) (__toPath ./d) \
                    toString (with builtins; toPath) ({ toPath }: toPath) ]";
        let root = rnix::Root::parse(text).syntax();
        let model = SemanticModel::build(&root);
        let names = Names::new(&root, &model);
        let found: Vec<&str> = names
            .builtin_uses(text, "toPath")
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(
            found,
            [
                "toPath",
                "b.toPath",
                "builtins.toPath",
                "__toPath",
                "toPath"
            ]
        );
        assert!(names.builtin_uses(text, "toString").is_empty());
    }
}
