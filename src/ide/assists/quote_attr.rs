//! Quote an attribute name (`a` to `"a"`) and unquote one that needs no
//! quotes (`"a"` to `a`), in a binding's path or a selection.

use rnix::{SyntaxKind, SyntaxToken};

use super::{Assist, AssistKind};
use crate::ide::{is_identifier, Doc};
use crate::syntax::green::static_attr_name;
use crate::syntax::TextEdit;

use SyntaxKind::*;

pub(super) fn assist(_doc: &Doc, token: &SyntaxToken) -> Option<Assist> {
    let attr = token
        .parent_ancestors()
        .take_while(|n| n.kind() != NODE_ATTRPATH_VALUE)
        .find(|n| {
            matches!(n.kind(), NODE_IDENT | NODE_STRING)
                && n.parent().is_some_and(|p| p.kind() == NODE_ATTRPATH)
        })?;
    let name = static_attr_name(&attr)?;
    match attr.kind() {
        NODE_IDENT => Some(Assist {
            id: "quote-attr",
            title: format!("Quote `{name}`"),
            kind: AssistKind::Rewrite,
            edits: vec![TextEdit::replace(attr.text_range(), format!("\"{name}\""))],
        }),
        NODE_STRING if is_identifier(&name) => Some(Assist {
            id: "unquote-attr",
            title: format!("Write `{name}` without quotes"),
            kind: AssistKind::Rewrite,
            edits: vec![TextEdit::replace(attr.text_range(), name.to_string())],
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::apply;

    #[test]
    fn both_ways() {
        assert_eq!(
            apply("{ a$0.b = 1; }", "quote-attr").as_deref(),
            Some("{ \"a\".b = 1; }")
        );
        assert_eq!(
            apply("{ \"a$0\" = 1; }", "unquote-attr").as_deref(),
            Some("{ a = 1; }")
        );
        assert_eq!(
            apply("s: s.\"x$0\"", "unquote-attr").as_deref(),
            Some("s: s.x")
        );
        // Needs its quotes: a dot, a keyword.
        assert_eq!(apply("{ \"a.b$0\" = 1; }", "unquote-attr"), None);
        assert_eq!(apply("{ \"in$0\" = 1; }", "unquote-attr"), None);
    }
}
