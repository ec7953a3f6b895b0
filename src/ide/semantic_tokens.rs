//! Semantic tokens: every token classified by what it means, not how it
//! is spelled. A name is a parameter, a variable or a function by the
//! binding it resolves to (through the semantic model, so `map` bound by a
//! `let` is a variable, not the builtin); an attribute name is a property;
//! builtins carry `defaultLibrary`, definitions `declaration`.
//!
//! The legend (indices are what the LSP encoding sends; doc/ide.md lists
//! it for theme authors) is [`TOKEN_TYPES`] and [`TOKEN_MODIFIERS`].
//! Walked on the green tree with one pass over the model's sorted
//! references: all-packages.nix has 150 000 tokens.

use rnix::SyntaxKind;
use rowan::{TextRange, TextSize};

use super::{builtins, Doc};
use crate::analysis::semantic::{DefKind, Resolution, SemanticModel};
use crate::syntax::green::{E, N, T};

use SyntaxKind::*;

/// Token types, by index.
pub const TOKEN_TYPES: &[&str] = &[
    "comment",   // 0
    "string",    // 1: strings, paths, URLs
    "number",    // 2
    "keyword",   // 3: also `true`, `false`, `null`
    "operator",  // 4
    "variable",  // 5: `let` bindings, `rec` members, names from `with`
    "parameter", // 6: lambda arguments, pattern fields, `@` names
    "property",  // 7: attribute names
    "function",  // 8: builtin functions, bindings whose value is a lambda
];

/// Token modifiers, by bit.
pub const TOKEN_MODIFIERS: &[&str] = &[
    "declaration",    // 1 << 0: where a name is bound or an attribute defined
    "defaultLibrary", // 1 << 1: builtins
    "deprecated",     // 1 << 2: `builtins.toPath`, URL literals
];

const COMMENT: u32 = 0;
const STRING: u32 = 1;
const NUMBER: u32 = 2;
const KEYWORD: u32 = 3;
const OPERATOR: u32 = 4;
const VARIABLE: u32 = 5;
const PARAMETER: u32 = 6;
const PROPERTY: u32 = 7;
const FUNCTION: u32 = 8;

const DECLARATION: u32 = 1;
const DEFAULT_LIBRARY: u32 = 2;
const DEPRECATED: u32 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SemanticToken {
    pub range: TextRange,
    pub kind: u32,
    pub modifiers: u32,
}

/// The tokens of the file, or of `range` of it, in order.
pub fn semantic_tokens(doc: &Doc, range: Option<TextRange>) -> Vec<SemanticToken> {
    let mut out = Vec::new();
    semantic_tokens_with(doc, range, &mut |token| out.push(token));
    out
}

/// [`semantic_tokens`], handed to `sink` one at a time as they are found
/// (the server encodes them so, without a list of 150 000 in between).
pub fn semantic_tokens_with(
    doc: &Doc,
    range: Option<TextRange>,
    sink: &mut dyn FnMut(SemanticToken),
) {
    let Some(green) = doc.analysis().parse.as_ref().and_then(|p| p.green()) else {
        return;
    };
    let Some(model) = doc.model() else {
        return;
    };
    let mut defs: Vec<(TextSize, usize)> = model
        .defs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.range.start(), i))
        .collect();
    defs.sort_unstable();
    // A whole file's tokens take each unchanged chunk of a big set from
    // the document's memo (a range request is small: walked as it is).
    let memo = match (range, doc.memo()) {
        (None, Some(memo)) => Some(memo.tokens.begin()),
        _ => None,
    };
    let mut walker = Walker {
        model,
        text: doc.text(),
        root: doc.root(),
        functions: vec![None; model.defs.len()],
        defs,
        next_def: 0,
        next_ref: 0,
        range,
        out: sink,
        memo,
        capture: None,
    };
    if let Some(range) = range {
        walker.next_ref = model
            .refs
            .partition_point(|r| r.range.end() <= range.start());
        walker.next_def = walker.defs.partition_point(|(s, _)| *s < range.start());
    }
    walker.node(
        &N {
            green,
            offset: 0.into(),
        },
        Context::Expr,
    );
}

/// What an identifier token is, from the nodes around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Expr,
    /// An attribute of a binding's path; `value_is_function` for the first.
    Key {
        first: bool,
        value_is_function: bool,
    },
    /// An attribute of a selection or `?`.
    Selected,
    /// A name of `inherit (e) ...`.
    InheritedFrom,
    /// A pattern field, argument or `@` name.
    Param,
}

/// A token kept in a chunk, relative to the chunk's start: twelve bytes
/// (the kind and modifiers, both under 2^16, share one integer), as a
/// package set has 56 000.
#[derive(Clone, Copy)]
pub(crate) struct KeptToken {
    start: u32,
    len: u32,
    kind_modifiers: u32,
}

struct Walker<'m> {
    model: &'m SemanticModel,
    text: &'m str,
    root: Option<&'m rnix::SyntaxNode>,
    /// Whether each binding's value is a function, found when first asked.
    functions: Vec<Option<bool>>,
    /// Definitions by where their names start.
    defs: Vec<(TextSize, usize)>,
    next_def: usize,
    next_ref: usize,
    range: Option<TextRange>,
    out: &'m mut dyn FnMut(SemanticToken),
    memo: Option<crate::ide::memo::Use<'m, KeptToken>>,
    /// While a chunk is walked to be kept: its start and its tokens so far
    /// (relative to it), which go there instead of to `out`.
    capture: Option<(TextSize, Vec<KeptToken>)>,
}

impl Walker<'_> {
    fn push(&mut self, range: TextRange, kind: u32, modifiers: u32) {
        match &mut self.capture {
            Some((base, kept)) => kept.push(KeptToken {
                start: u32::from(range.start() - *base),
                len: u32::from(range.len()),
                kind_modifiers: kind << 16 | modifiers,
            }),
            None => (self.out)(SemanticToken {
                range,
                kind,
                modifiers,
            }),
        }
    }

    fn node(&mut self, node: &N<'_>, context: Context) {
        if let Some(range) = self.range {
            if node.text_range().end() < range.start() || node.offset > range.end() {
                return;
            }
        }
        if self.memo.is_some() && node.kind() == NODE_ATTR_SET {
            if let Some(chunks) = crate::analysis::semantic::memo::set_chunks(node) {
                return self.chunked_set(node, &chunks, context);
            }
        }
        match node.kind() {
            NODE_ATTRPATH_VALUE => {
                let value_is_function = node
                    .children()
                    .nth(1)
                    .is_some_and(|v| unparen(&v).kind() == NODE_LAMBDA);
                for child in node.children_with_tokens() {
                    match child {
                        E::Node(n) if n.kind() == NODE_ATTRPATH => {
                            // In order: a recovered tree may hold comments
                            // between (or before) the names.
                            let mut first = true;
                            for part in n.children_with_tokens() {
                                match part {
                                    E::Node(attr) => {
                                        let key = Context::Key {
                                            first,
                                            value_is_function,
                                        };
                                        first = false;
                                        self.node(&attr, key);
                                    }
                                    E::Token(t) => self.token(&t, Context::Expr),
                                }
                            }
                        }
                        E::Node(n) => self.node(&n, Context::Expr),
                        E::Token(t) => self.token(&t, context),
                    }
                }
            }
            NODE_SELECT | NODE_HAS_ATTR => {
                for child in node.children_with_tokens() {
                    match child {
                        E::Node(n) if n.kind() == NODE_ATTRPATH => {
                            for part in n.children_with_tokens() {
                                match part {
                                    E::Node(attr) => self.node(&attr, Context::Selected),
                                    E::Token(t) => self.token(&t, Context::Expr),
                                }
                            }
                        }
                        E::Node(n) => self.node(&n, Context::Expr),
                        E::Token(t) => self.token(&t, Context::Expr),
                    }
                }
            }
            NODE_INHERIT => {
                let from = node.children().any(|c| c.kind() == NODE_INHERIT_FROM);
                for child in node.children_with_tokens() {
                    match child {
                        E::Node(n) if n.kind() == NODE_INHERIT_FROM => self.node(&n, Context::Expr),
                        E::Node(n) if from => self.node(&n, Context::InheritedFrom),
                        E::Node(n) => self.node(&n, Context::Expr),
                        E::Token(t) => self.token(&t, Context::Expr),
                    }
                }
            }
            NODE_PAT_ENTRY | NODE_PAT_BIND | NODE_IDENT_PARAM => {
                for (i, child) in node.children_with_tokens().enumerate() {
                    match child {
                        // A default value is an expression.
                        E::Node(n)
                            if n.kind() != NODE_IDENT
                                || (node.kind() == NODE_PAT_ENTRY && i > 0) =>
                        {
                            self.node(&n, Context::Expr)
                        }
                        E::Node(n) => self.node(&n, Context::Param),
                        E::Token(t) => self.token(&t, Context::Expr),
                    }
                }
            }
            // Attribute names written as strings keep their string colour;
            // `${...}` parts are expressions.
            NODE_DYNAMIC => self.children(node, Context::Expr),
            _ => self.children(node, context),
        }
    }

    /// A big plain set: its members' tokens chunk by chunk, each chunk
    /// from the memo when it and the names it uses are unchanged.
    fn chunked_set(&mut self, node: &N<'_>, chunks: &[(u64, Vec<N<'_>>)], context: Context) {
        let (mut chunk, mut member) = (0, 0);
        let mut kept = None;
        for child in node.children_with_tokens() {
            match child {
                E::Token(t) => self.token(&t, context),
                E::Node(n) if matches!(n.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT) => {
                    let Some((key, members)) = chunks.get(chunk) else {
                        continue;
                    };
                    if member == 0 {
                        kept = self.chunk_tokens(*key, members);
                    }
                    // Out of `self` while its tokens go through `push`.
                    if let (Some(span), Some(memo)) = (kept, self.memo.take()) {
                        let start = members[0].offset;
                        for t in memo.member_items(span, member) {
                            let at = start + TextSize::from(t.start);
                            let range = TextRange::at(at, TextSize::from(t.len));
                            self.push(range, t.kind_modifiers >> 16, t.kind_modifiers & 0xFFFF);
                        }
                        self.memo = Some(memo);
                    }
                    member += 1;
                    if member == members.len() {
                        chunk += 1;
                        member = 0;
                    }
                }
                E::Node(n) => self.node(&n, Context::Expr),
            }
        }
    }

    /// A chunk's tokens: kept, or walked and kept.
    fn chunk_tokens(&mut self, key: u64, members: &[N<'_>]) -> Option<crate::ide::memo::Span> {
        let start = members[0].offset;
        let end = members[members.len() - 1].text_range().end();
        let signature = self.signature(TextRange::new(start, end));
        if let Some(kept) = self
            .memo
            .as_mut()
            .and_then(|m| m.get(key, members, signature))
        {
            return Some(kept);
        }
        let outer = self.capture.replace((start, Vec::new()));
        let mut member_ends = Vec::with_capacity(members.len());
        for m in members {
            self.node(m, Context::Expr);
            member_ends.push(self.capture.as_ref().map_or(0, |c| c.1.len()) as u32);
        }
        let tokens = std::mem::replace(&mut self.capture, outer)
            .map(|c| c.1)
            .unwrap_or_default();
        let memo = self.memo.as_mut()?;
        Some(memo.put(key, members, signature, &tokens, &member_ends, ""))
    }

    /// How the names in `range` resolve, as their tokens show it: the part
    /// of a chunk's tokens that can change while its text does not.
    fn signature(&mut self, range: TextRange) -> u64 {
        use std::hash::{Hash, Hasher};
        let refs = &self.model.refs;
        let from = refs.partition_point(|r| r.range.start() < range.start());
        let to = from + refs[from..].partition_point(|r| r.range.start() < range.end());
        let mut hasher = rustc_hash::FxHasher::default();
        for i in from..to {
            let r = &self.model.refs[i];
            let (kind, modifiers) = match r.resolution {
                Resolution::Def(d) => (self.def_kind(d), 0),
                Resolution::Builtin => builtin(&self.text[r.range]),
                Resolution::With(_) | Resolution::Undefined => (VARIABLE, 0),
            };
            (u32::from(r.range.start() - range.start()), kind, modifiers).hash(&mut hasher);
        }
        hasher.finish()
    }

    fn children(&mut self, node: &N<'_>, context: Context) {
        for child in node.children_with_tokens() {
            match child {
                E::Node(n) => {
                    let inner = match n.kind() {
                        // A string inside a key is still the key's.
                        NODE_IDENT | NODE_STRING => context,
                        _ => Context::Expr,
                    };
                    self.node(&n, inner)
                }
                E::Token(t) => self.token(&t, context),
            }
        }
    }

    fn token(&mut self, token: &T<'_>, context: Context) {
        let range = token.text_range();
        if let Some(limit) = self.range {
            if range.end() <= limit.start() || range.start() >= limit.end() {
                return;
            }
        }
        let kind = match token.kind() {
            TOKEN_COMMENT => COMMENT,
            TOKEN_STRING_START | TOKEN_STRING_CONTENT | TOKEN_STRING_END => {
                if matches!(
                    context,
                    Context::Key { .. } | Context::Selected | Context::InheritedFrom
                ) {
                    PROPERTY
                } else {
                    STRING
                }
            }
            TOKEN_PATH_ABS | TOKEN_PATH_REL | TOKEN_PATH_HOME | TOKEN_PATH_SEARCH => STRING,
            TOKEN_URI => return self.push(range, STRING, DEPRECATED),
            TOKEN_INTEGER | TOKEN_FLOAT => NUMBER,
            TOKEN_ASSERT | TOKEN_ELSE | TOKEN_IF | TOKEN_IN | TOKEN_INHERIT | TOKEN_LET
            | TOKEN_OR | TOKEN_REC | TOKEN_THEN | TOKEN_WITH => KEYWORD,
            TOKEN_ADD | TOKEN_SUB | TOKEN_MUL | TOKEN_DIV | TOKEN_CONCAT | TOKEN_UPDATE
            | TOKEN_AND_AND | TOKEN_OR_OR | TOKEN_EQUAL | TOKEN_NOT_EQUAL | TOKEN_LESS
            | TOKEN_LESS_OR_EQ | TOKEN_MORE | TOKEN_MORE_OR_EQ | TOKEN_IMPLICATION
            | TOKEN_INVERT | TOKEN_PIPE_LEFT | TOKEN_PIPE_RIGHT | TOKEN_QUESTION | TOKEN_ASSIGN => {
                OPERATOR
            }
            TOKEN_IDENT => return self.ident(token, context),
            _ => return,
        };
        self.push(range, kind, 0);
    }

    fn ident(&mut self, token: &T<'_>, context: Context) {
        let range = token.text_range();
        let start = range.start();
        // The model's references and definitions, in step with the walk.
        let refs = &self.model.refs;
        while self.next_ref < refs.len() && refs[self.next_ref].range.start() < start {
            self.next_ref += 1;
        }
        let reference = refs
            .get(self.next_ref)
            .filter(|r| r.range == range)
            .map(|r| r.resolution.clone());
        while self.next_def < self.defs.len() && self.defs[self.next_def].0 < start {
            self.next_def += 1;
        }
        let def = self
            .defs
            .get(self.next_def)
            .filter(|(s, d)| *s == start && self.model.defs[*d].range == range)
            .map(|(_, d)| *d);
        let (kind, modifiers) = match (reference, def, context) {
            (Some(Resolution::Def(d)), _, _) => (self.def_kind(d), 0),
            (Some(Resolution::Builtin), _, _) => builtin(token.text()),
            (Some(Resolution::With(_) | Resolution::Undefined), _, _) => (VARIABLE, 0),
            (None, Some(d), _) => (self.def_kind(d), DECLARATION),
            (None, None, Context::Key { .. }) => (PROPERTY, DECLARATION),
            (None, None, Context::Param) => (PARAMETER, DECLARATION),
            (None, None, Context::Selected | Context::InheritedFrom) => (PROPERTY, 0),
            (None, None, Context::Expr) => (VARIABLE, 0),
        };
        let kind = match (kind, context) {
            (
                VARIABLE,
                Context::Key {
                    first: true,
                    value_is_function: true,
                },
            ) => FUNCTION,
            (k, _) => k,
        };
        self.push(range, kind, modifiers);
    }

    fn def_kind(&mut self, def: usize) -> u32 {
        match self.model.defs[def].kind {
            DefKind::LambdaArg | DefKind::PatternField | DefKind::PatternBind => PARAMETER,
            DefKind::LetInherit => VARIABLE,
            DefKind::LetBinding | DefKind::RecMember => {
                if self.is_function(def) {
                    FUNCTION
                } else {
                    VARIABLE
                }
            }
        }
    }

    /// Whether a binding's value is a lambda (`f = x: ...;`).
    fn is_function(&mut self, def: usize) -> bool {
        if let Some(known) = self.functions[def] {
            return known;
        }
        let found = (|| {
            let site = self.model.defs[def].sites.first()?.node(self.root?)?;
            let value = site.children().nth(1)?;
            let mut value = value;
            while value.kind() == NODE_PAREN {
                value = value.children().next()?;
            }
            Some(value.kind() == NODE_LAMBDA)
        })()
        .unwrap_or(false);
        self.functions[def] = Some(found);
        found
    }
}

fn builtin(name: &str) -> (u32, u32) {
    match name {
        "true" | "false" | "null" => (KEYWORD, 0),
        _ => match builtins::find(name) {
            Some(b) if b.arity > 0 => (FUNCTION, DEFAULT_LIBRARY),
            _ => (VARIABLE, DEFAULT_LIBRARY),
        },
    }
}

fn unparen<'a>(node: &N<'a>) -> N<'a> {
    let mut node = *node;
    for _ in 0..64 {
        match (node.kind(), node.children().next()) {
            (NODE_PAREN, Some(inner)) => node = inner,
            _ => break,
        }
    }
    node
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::*;
    use expect_test::{expect, Expect};

    fn check(text: &str, expect: Expect) {
        let f = Fixture::parse(text);
        let tokens = semantic_tokens(&f.doc(), None);
        let shown: Vec<String> = tokens
            .iter()
            .map(|t| {
                let mods: Vec<&str> = TOKEN_MODIFIERS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| t.modifiers & (1 << i) != 0)
                    .map(|(_, m)| *m)
                    .collect();
                format!(
                    "{} {}{}",
                    &text[t.range],
                    TOKEN_TYPES[t.kind as usize],
                    if mods.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", mods.join(","))
                    }
                )
            })
            .collect();
        expect.assert_eq(&shown.join("\n"));
    }

    #[test]
    fn names_by_what_they_resolve_to() {
        check(
            "{ pkgs, ... }: let f = x: x; map = 1; in { a.b = f map; c = builtins.map; d = pkgs.hello; e = true; }",
            expect![[r#"
                pkgs parameter [declaration]
                let keyword
                f function [declaration]
                = operator
                x parameter [declaration]
                x parameter
                map variable [declaration]
                = operator
                1 number
                in keyword
                a property [declaration]
                b property [declaration]
                = operator
                f function
                map variable
                c property [declaration]
                = operator
                builtins variable [defaultLibrary]
                map property
                d property [declaration]
                = operator
                pkgs parameter
                hello property
                e property [declaration]
                = operator
                true keyword"#]],
        );
    }

    #[test]
    fn strings_comments_paths_and_builtins() {
        check(
            "# c\n[ \"s${toString 1}\" ./p http://x.org (map (x: x) [ ]) ]",
            expect![[r#"
                # c comment
                " string
                s string
                toString function [defaultLibrary]
                1 number
                " string
                ./p string
                http://x.org string [deprecated]
                map function [defaultLibrary]
                x parameter [declaration]
                x parameter"#]],
        );
    }

    #[test]
    fn a_range_gives_only_its_tokens() {
        let f = Fixture::parse("let a = 1; b = 2; in a + b");
        let all = semantic_tokens(&f.doc(), None);
        let some = semantic_tokens(&f.doc(), Some(TextRange::new(11.into(), 17.into())));
        let expected: Vec<_> = all
            .into_iter()
            .filter(|t| t.range.start() >= 11.into() && t.range.end() <= 17.into())
            .collect();
        assert_eq!(some, expected);
        assert_eq!(some.len(), 3, "`b`, `=` and `2`");
    }
}
