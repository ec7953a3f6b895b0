//! Flatten a binding whose value is a set (`a = { b = 1; c = 2; };` to
//! `a.b = 1; a.c = 2;`) and pack the bindings that share a first name
//! (`a.b = 1; a.c = 2;` to `a = { b = 1; c = 2; };`). Nix merges both
//! spellings into the same set, so the meaning stays; a set with comments
//! or `inherit` between its members, or `rec`, is left as it is.

use rnix::{SyntaxKind, SyntaxNode, SyntaxToken};
use rowan::TextRange;

use super::{indent_at, Assist, AssistKind};
use crate::analysis::rules::edit;
use crate::ide::sets::strip_parens;
use crate::ide::Doc;
use crate::syntax::green::static_attr_name;
use crate::syntax::TextEdit;

use SyntaxKind::*;

fn binding_at(token: &SyntaxToken) -> Option<SyntaxNode> {
    token
        .parent_ancestors()
        .find(|n| n.kind() == NODE_ATTRPATH_VALUE)
}

pub(super) fn flatten(doc: &Doc, token: &SyntaxToken) -> Option<Assist> {
    let binding = binding_at(token)?;
    let text = doc.text();
    let path = binding.children().next()?;
    // Only from the binding's name, not from inside its value.
    if !path
        .text_range()
        .contains_inclusive(token.text_range().start())
    {
        return None;
    }
    let value = strip_parens(&binding.children().nth(1)?);
    if value.kind() != NODE_ATTR_SET {
        return None;
    }
    let members: Vec<SyntaxNode> = value.children().collect();
    let plain = !members.is_empty()
        && members.iter().all(|m| m.kind() == NODE_ATTRPATH_VALUE)
        && !value
            .children_with_tokens()
            .any(|t| matches!(t.kind(), TOKEN_REC | TOKEN_COMMENT));
    if !plain {
        return None;
    }
    let prefix = &text[path.text_range()];
    let indent = indent_at(text, binding.text_range().start());
    let lines: Vec<String> = members
        .iter()
        .map(|m| format!("{prefix}.{}", text[m.text_range()].trim()))
        .collect();
    Some(Assist {
        id: "flatten-set",
        title: format!("Write `{prefix}` as one binding per attribute"),
        kind: AssistKind::Rewrite,
        edits: vec![TextEdit::replace(
            binding.text_range(),
            lines.join(&format!("\n{indent}")),
        )],
    })
}

pub(super) fn pack(doc: &Doc, token: &SyntaxToken) -> Option<Assist> {
    let binding = binding_at(token)?;
    let text = doc.text();
    let path = binding.children().next()?;
    if !path
        .text_range()
        .contains_inclusive(token.text_range().start())
    {
        return None;
    }
    let first = path.children().next()?;
    let name = static_attr_name(&first)?;
    let container = binding.parent()?;
    let mut siblings: Vec<SyntaxNode> = Vec::new();
    for member in container.children() {
        match member.kind() {
            NODE_ATTRPATH_VALUE => {
                let Some(p) = member.children().next() else {
                    continue;
                };
                let attrs: Vec<SyntaxNode> = p.children().collect();
                if attrs.first().and_then(static_attr_name).as_ref() != Some(&name) {
                    continue;
                }
                if attrs.len() < 2 {
                    return None; // `a = ...;` beside `a.b = ...;`
                }
                siblings.push(member);
            }
            NODE_INHERIT => {
                let inherits_it = member
                    .children()
                    .filter(|c| c.kind() != NODE_INHERIT_FROM)
                    .any(|a| static_attr_name(&a).as_ref() == Some(&name));
                if inherits_it {
                    return None;
                }
            }
            _ => {}
        }
    }
    if siblings.is_empty() {
        return None;
    }
    let indent = indent_at(text, siblings[0].text_range().start());
    let inner: Vec<String> = siblings
        .iter()
        .map(|m| {
            let p = m
                .children()
                .next()
                .map_or(m.text_range(), |p| p.text_range());
            // The path after its first name, and the rest of the binding.
            let second = m
                .children()
                .next()
                .and_then(|p| p.children().nth(1))
                .map_or(p.end(), |a| a.text_range().start());
            format!(
                "{indent}  {}",
                text[TextRange::new(second, m.text_range().end())].trim()
            )
        })
        .collect();
    let packed = format!(
        "{} = {{\n{}\n{indent}}};",
        &text[first.text_range()],
        inner.join("\n")
    );
    let mut edits = vec![TextEdit::replace(siblings[0].text_range(), packed)];
    for other in &siblings[1..] {
        edits.push(edit::remove(text, other.text_range()));
    }
    Some(Assist {
        id: "pack-set",
        title: format!("Write the `{name}.` bindings as one set"),
        kind: AssistKind::Rewrite,
        edits,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::apply;

    #[test]
    fn flatten_a_set() {
        assert_eq!(
            apply(
                "{\n  a$0 = { b = 1; c.d = 2; };\n  x = 3;\n}",
                "flatten-set"
            )
            .as_deref(),
            Some("{\n  a.b = 1;\n  a.c.d = 2;\n  x = 3;\n}")
        );
        assert_eq!(apply("{ a$0 = rec { b = 1; }; }", "flatten-set"), None);
        assert_eq!(apply("{ a$0 = { # keep\n b = 1; }; }", "flatten-set"), None);
        assert_eq!(apply("{ a$0 = { inherit b; }; }", "flatten-set"), None);
    }

    #[test]
    fn pack_bindings_with_one_first_name() {
        assert_eq!(
            apply("{\n  a.b$0 = 1;\n  x = 3;\n  a.c = 2;\n}", "pack-set").as_deref(),
            Some("{\n  a = {\n    b = 1;\n    c = 2;\n  };\n  x = 3;\n}")
        );
        assert_eq!(apply("{ a.b$0 = 1; a = { }; }", "pack-set"), None);
    }
}
