//! Inline a `let` binding: every use of `x` in `let x = e; in ...` becomes
//! `e` (in parentheses unless it is a single term), and the binding goes
//! (the whole `let ... in` when it was the only one). Offered only where
//! each name `e` uses means the same thing at every use, and `e` does not
//! use `x` itself.

use rnix::{SyntaxKind, SyntaxNode, SyntaxToken};
use rowan::TextRange;

use super::{Assist, AssistKind};
use crate::analysis::rules::edit;
use crate::analysis::semantic::{DefId, DefKind, Resolution, SemanticModel};
use crate::ide::sets::strip_parens;
use crate::ide::Doc;
use crate::syntax::TextEdit;

use SyntaxKind::*;

pub(super) fn assist(doc: &Doc, token: &SyntaxToken) -> Option<Assist> {
    let model = doc.model()?;
    let root = doc.root()?;
    let text = doc.text();
    let range = token.text_range();
    let d = match model
        .ref_at(range.start())
        .filter(|&r| model.refs[r].range == range)
    {
        Some(r) => match model.refs[r].resolution {
            Resolution::Def(d) => d,
            _ => return None,
        },
        None => model.defs.iter().position(|d| d.range == range)?,
    };
    let def = &model.defs[d];
    if def.kind != DefKind::LetBinding || def.sites.len() != 1 || model.uses[d].is_empty() {
        return None;
    }
    let binding = def.sites[0].node(root)?;
    if binding.kind() != NODE_ATTRPATH_VALUE || binding.children().next()?.children().count() != 1 {
        return None;
    }
    let value = binding.children().nth(1)?;
    let value_range = value.text_range();
    // The value's names must mean the same at every use.
    let free: Vec<usize> = model
        .refs
        .iter()
        .enumerate()
        .filter(|(_, r)| value_range.contains_range(r.range))
        .filter(|(_, r)| match r.resolution {
            Resolution::Def(e) => !value_range.contains_range(model.defs[e].range),
            _ => true,
        })
        .map(|(i, _)| i)
        .collect();
    if free
        .iter()
        .any(|&f| model.refs[f].resolution == Resolution::Def(d))
    {
        return None; // recursive
    }
    for &u in &model.uses[d] {
        let at = model.refs[u].range.start();
        for &f in &free {
            let name = &text[model.refs[f].range];
            if !same_meaning(model, &model.refs[f].resolution, name, at) {
                return None;
            }
        }
    }
    let shown = value_text(&value, text);
    let let_in = binding.parent()?;
    let mut edits = Vec::new();
    for &u in &model.uses[d] {
        let use_range = model.refs[u].range;
        edits.push(use_edit(root, use_range, &def.name, &shown));
    }
    if let_in.kind() == NODE_LET_IN
        && let_in
            .children()
            .filter(|c| matches!(c.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT))
            .count()
            == 1
    {
        // The only binding: the `let ... in` gives way to its body, with
        // the uses (all in the body) inlined.
        let body = let_in.children().last()?;
        let body_range = body.text_range();
        let relative: Vec<TextEdit> = edits
            .iter()
            .map(|e| TextEdit::replace(e.range - body_range.start(), e.insert.clone()))
            .collect();
        let new_body = crate::syntax::apply_edits(&text[body_range], &relative);
        edits = vec![TextEdit::replace(let_in.text_range(), new_body)];
    } else {
        edits.push(edit::remove(text, binding.text_range()));
    }
    Some(Assist {
        id: "inline-binding",
        title: format!("Inline `{}`", def.name),
        kind: AssistKind::Inline,
        edits,
    })
}

/// Whether `name`, which resolves as `wanted` in the value, resolves the
/// same way at `at`.
fn same_meaning(
    model: &SemanticModel,
    wanted: &Resolution,
    name: &str,
    at: rowan::TextSize,
) -> bool {
    let lexical: Option<DefId> = model.scopes_at(at).into_iter().find_map(|s| {
        model.scopes[s]
            .defs
            .iter()
            .copied()
            .find(|&e| model.defs[e].name == name)
    });
    match (wanted, lexical) {
        (Resolution::Def(e), Some(found)) => *e == found,
        (Resolution::Def(_), None) => false,
        (Resolution::Builtin, None) => true,
        (Resolution::With(w), None) => model.withs_at(at).first() == Some(w),
        (Resolution::Undefined, None) => model.withs_at(at).is_empty(),
        (_, Some(_)) => false,
    }
}

/// The value as it can stand where a name stood.
fn value_text(value: &SyntaxNode, text: &str) -> String {
    let own = &text[value.text_range()];
    let atomic = matches!(
        strip_parens(value).kind(),
        NODE_IDENT
            | NODE_LITERAL
            | NODE_STRING
            | NODE_PATH_ABS
            | NODE_PATH_REL
            | NODE_PATH_HOME
            | NODE_PATH_SEARCH
            | NODE_LIST
            | NODE_ATTR_SET
            | NODE_PAREN
            | NODE_SELECT
    ) && !(value.kind() == NODE_ATTR_SET && own.starts_with("rec"));
    if atomic {
        own.to_string()
    } else {
        format!("({own})")
    }
}

/// The edit for one use: the value in its place; in `inherit x;` (which
/// names the attribute too), `x = value;`.
fn use_edit(root: &SyntaxNode, range: TextRange, name: &str, value: &str) -> TextEdit {
    let inherit = root
        .covering_element(range)
        .ancestors()
        .find(|n| n.kind() == NODE_INHERIT);
    if let Some(inherit) = inherit {
        let names = inherit
            .children()
            .filter(|c| c.kind() != NODE_INHERIT_FROM)
            .count();
        if names == 1 {
            return TextEdit::replace(inherit.text_range(), format!("{name} = {value};"));
        }
        let kept: Vec<String> = inherit
            .children()
            .filter(|c| c.kind() != NODE_INHERIT_FROM && c.text_range() != range)
            .map(|c| c.text().to_string())
            .collect();
        return TextEdit::replace(
            inherit.text_range(),
            format!("inherit {}; {name} = {value};", kept.join(" ")),
        );
    }
    TextEdit::replace(range, value.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::apply;

    #[test]
    fn every_use_and_the_let_when_it_empties() {
        assert_eq!(
            apply("let x$0 = 1 + 2; in x * x", "inline-binding").as_deref(),
            Some("(1 + 2) * (1 + 2)")
        );
        assert_eq!(
            apply(
                "let y = 3; x = y; in { inherit x$0; z = x; }",
                "inline-binding"
            )
            .as_deref(),
            Some("let y = 3; in { x = y; z = y; }")
        );
    }

    #[test]
    fn not_where_a_name_would_change_meaning() {
        // `y` in the value is the outer one; at the use, an inner `y`.
        assert_eq!(
            apply("let y = 1; x$0 = y; in let y = 2; in x", "inline-binding"),
            None
        );
        assert_eq!(apply("let x$0 = [ x ]; in x", "inline-binding"), None);
        assert_eq!(
            apply("{ a }: let x$0 = a; in x", "inline-binding").as_deref(),
            Some("{ a }: a")
        );
    }
}
