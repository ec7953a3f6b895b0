//! Walking rowan's green tree directly: a node and its offset, children
//! with their offsets, no allocation per step. Walks over every node of a
//! file (the semantic model, the tree rules) use this; rowan's syntax
//! nodes allocate at each step, which made those walks several times
//! slower.

use rnix::{SyntaxKind, SyntaxNode};
use rowan::{GreenNodeData, GreenTokenData, TextRange, TextSize};
use smol_str::SmolStr;

use SyntaxKind::*;

/// A green node with its offset: what the model's walk moves over.
#[derive(Clone, Copy)]
pub(crate) struct N<'a> {
    pub green: &'a GreenNodeData,
    pub offset: TextSize,
}

#[derive(Clone, Copy)]
pub(crate) struct T<'a> {
    pub green: &'a GreenTokenData,
    pub offset: TextSize,
}

#[derive(Clone, Copy)]
pub(crate) enum E<'a> {
    Node(N<'a>),
    Token(T<'a>),
}

pub(crate) fn kind_of(raw: rowan::SyntaxKind) -> SyntaxKind {
    <rnix::NixLanguage as rowan::Language>::kind_from_raw(raw)
}

impl<'a> N<'a> {
    pub(crate) fn kind(&self) -> SyntaxKind {
        kind_of(self.green.kind())
    }

    pub(crate) fn text_range(&self) -> TextRange {
        TextRange::at(self.offset, self.green.text_len())
    }

    pub(crate) fn children_with_tokens(&self) -> impl Iterator<Item = E<'a>> + 'a {
        let mut at = self.offset;
        self.green.children().map(move |child| {
            let start = at;
            match child {
                rowan::NodeOrToken::Node(n) => {
                    at += n.text_len();
                    E::Node(N {
                        green: n,
                        offset: start,
                    })
                }
                rowan::NodeOrToken::Token(t) => {
                    at += t.text_len();
                    E::Token(T {
                        green: t,
                        offset: start,
                    })
                }
            }
        })
    }

    /// Whether its last child is a `;` (as every member of a set or `let`
    /// in a tree without errors).
    pub(crate) fn ends_with_semicolon(&self) -> bool {
        matches!(
            self.green.children().next_back(),
            Some(rowan::NodeOrToken::Token(t)) if kind_of(t.kind()) == TOKEN_SEMICOLON
        )
    }

    pub(crate) fn children(&self) -> impl Iterator<Item = N<'a>> + 'a {
        self.children_with_tokens().filter_map(|e| match e {
            E::Node(n) => Some(n),
            E::Token(_) => None,
        })
    }

    pub(crate) fn first_token(&self) -> Option<T<'a>> {
        // Trees are at most MAX_TREE_DEPTH deep (the parse guard).
        match self.children_with_tokens().next()? {
            E::Node(n) => n.first_token(),
            E::Token(t) => Some(t),
        }
    }

    /// The name of an identifier node.
    pub(crate) fn ident_text(&self) -> Option<&'a str> {
        (self.kind() == NODE_IDENT)
            .then(|| self.first_token())
            .flatten()
            .filter(|t| t.kind() == TOKEN_IDENT)
            .map(|t| t.text())
    }
}

impl<'a> T<'a> {
    pub(crate) fn kind(&self) -> SyntaxKind {
        kind_of(self.green.kind())
    }

    pub(crate) fn text(&self) -> &'a str {
        self.green.text()
    }

    pub(crate) fn text_range(&self) -> TextRange {
        TextRange::at(self.offset, self.green.text_len())
    }
}

impl<'a> E<'a> {
    pub(crate) fn kind(&self) -> SyntaxKind {
        match self {
            E::Node(n) => n.kind(),
            E::Token(t) => t.kind(),
        }
    }

    pub(crate) fn text_range(&self) -> TextRange {
        match self {
            E::Node(n) => n.text_range(),
            E::Token(t) => t.text_range(),
        }
    }

    /// The element, owned (a reference count more, no copy).
    pub(crate) fn owned(self) -> rowan::NodeOrToken<rowan::GreenNode, rowan::GreenToken> {
        match self {
            E::Node(n) => rowan::NodeOrToken::Node(n.green.to_owned()),
            E::Token(t) => rowan::NodeOrToken::Token(t.green.to_owned()),
        }
    }

    pub(crate) fn as_node(&self) -> Option<&N<'a>> {
        match self {
            E::Node(n) => Some(n),
            E::Token(_) => None,
        }
    }
}

/// The identifier token of a NODE_IDENT.
pub(crate) fn ident_token<'a>(node: &N<'a>) -> Option<T<'a>> {
    node.first_token().filter(|t| t.kind() == TOKEN_IDENT)
}

/// The static name of an attribute (`x`, `"x"`, `${"x"}`), if it has one.
pub(crate) fn attr_name(attr: &N<'_>) -> Option<SmolStr> {
    match attr.kind() {
        NODE_IDENT => attr.ident_text().map(SmolStr::new),
        NODE_STRING => green_string_literal(attr).map(SmolStr::from),
        NODE_DYNAMIC => attr
            .children()
            .find(|c| c.kind() == NODE_STRING)
            .and_then(|s| green_string_literal(&s))
            .map(SmolStr::from),
        _ => None,
    }
}

fn green_string_literal(node: &N<'_>) -> Option<String> {
    let mut out = String::new();
    for child in node.children_with_tokens() {
        match child {
            E::Token(t) if matches!(t.kind(), TOKEN_STRING_START | TOKEN_STRING_END) => {}
            E::Token(t) if t.kind() == TOKEN_STRING_CONTENT => {
                let text = t.text();
                if text.contains('\\') || text.contains("''$") || text.contains("'''") {
                    return None;
                }
                out.push_str(text);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// The static name of an attribute (`x`, `"x"`, `${"x"}`), if it has one:
/// [`attr_name`] for a syntax node.
pub fn static_attr_name(attr: &SyntaxNode) -> Option<SmolStr> {
    attr_name(&N {
        green: attr.green(),
        offset: attr.text_range().start(),
    })
}
