//! `x = x;` to `inherit x;` and `x = s.x;` to `inherit (s) x;`.
//!
//! `x = x;` is offered only in a plain set: in a `let` or `rec` set it
//! refers to itself, and `inherit x;` would read the `x` outside.

use rnix::{SyntaxKind, SyntaxToken};

use super::{Assist, AssistKind};
use crate::ide::sets::strip_parens;
use crate::ide::Doc;
use crate::syntax::green::static_attr_name;
use crate::syntax::TextEdit;

use SyntaxKind::*;

pub(super) fn assist(doc: &Doc, token: &SyntaxToken) -> Option<Assist> {
    let binding = token
        .parent_ancestors()
        .find(|n| n.kind() == NODE_ATTRPATH_VALUE)?;
    let container = binding.parent()?;
    let mut children = binding.children();
    let path = children.next()?;
    let value = strip_parens(&children.next()?);
    let mut attrs = path.children();
    let attr = attrs.next()?;
    if attrs.next().is_some() {
        return None; // `a.b = ...`: not one name
    }
    let name = static_attr_name(&attr)?;
    let plain_set = container.kind() == NODE_ATTR_SET
        && !container
            .children_with_tokens()
            .any(|t| t.kind() == TOKEN_REC);
    let text = doc.text();
    let replacement = match value.kind() {
        NODE_IDENT if plain_set && value.text() == name.as_str() => {
            format!("inherit {};", &text[attr.text_range()])
        }
        NODE_SELECT => {
            let mut parts = value.children();
            let base = parts.next()?;
            let selected = parts.next()?;
            // No `or` default: `inherit (s) x` has none.
            if parts.next().is_some() || value.children_with_tokens().any(|t| t.kind() == TOKEN_OR)
            {
                return None;
            }
            let mut selected_attrs: Vec<_> = selected.children().collect();
            let last = selected_attrs.pop()?;
            if static_attr_name(&last)? != name {
                return None;
            }
            // `x = a.b.x;` becomes `inherit (a.b) x;`.
            let from_end = selected_attrs
                .last()
                .map_or(base.text_range().end(), |a| a.text_range().end());
            let from = &text[rowan::TextRange::new(base.text_range().start(), from_end)];
            format!("inherit ({from}) {};", &text[attr.text_range()])
        }
        _ => return None,
    };
    Some(Assist {
        id: "to-inherit",
        title: format!("Write `{name}` with `inherit`"),
        kind: AssistKind::Rewrite,
        edits: vec![TextEdit::replace(binding.text_range(), replacement)],
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::apply;

    #[test]
    fn same_name_and_selection() {
        assert_eq!(
            apply("x: { x$0 = x; }", "to-inherit").as_deref(),
            Some("x: { inherit x; }")
        );
        assert_eq!(
            apply("s: { y = 1; x$0 = s.a.x; }", "to-inherit").as_deref(),
            Some("s: { y = 1; inherit (s.a) x; }")
        );
        assert_eq!(
            apply("let s = { }; x = s.x$0; in x", "to-inherit").as_deref(),
            Some("let s = { }; inherit (s) x; in x")
        );
    }

    #[test]
    fn not_where_the_meaning_would_change() {
        // In a `let`, `x = x;` is itself.
        assert_eq!(apply("let x$0 = x; in x", "to-inherit"), None);
        assert_eq!(apply("rec { x$0 = x; }", "to-inherit"), None);
        assert_eq!(apply("s: { x$0 = s.x or 1; }", "to-inherit"), None);
        assert_eq!(apply("s: { x$0 = s.y; }", "to-inherit"), None);
    }
}
