//! Rewrites the editor offers as code actions where the cursor is: each in
//! a file of its own, each keeping the code's meaning (checked, where a
//! name could change what it refers to, through the semantic model).

mod inline_binding;
mod pack_flatten;
mod quote_attr;
mod string_style;
mod to_inherit;

use rowan::TextRange;

use super::Doc;
use crate::syntax::TextEdit;

/// What kind of code action an assist is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssistKind {
    /// `refactor.rewrite`.
    Rewrite,
    /// `refactor.inline`.
    Inline,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assist {
    /// A stable name (`to-inherit`, `inline-binding`, ...).
    pub id: &'static str,
    pub title: String,
    pub kind: AssistKind,
    /// Edits of this file, sorted, not overlapping.
    pub edits: Vec<TextEdit>,
}

/// The rewrites that apply at `range` (a cursor or a selection).
pub fn assists(doc: &Doc, range: TextRange) -> Vec<Assist> {
    let Some(root) = doc.root() else {
        return Vec::new();
    };
    // Only on a text that parses: a rewrite of a half-typed file could
    // make it worse.
    if !doc
        .analysis()
        .parse
        .as_ref()
        .is_some_and(|p| p.errors().is_empty())
    {
        return Vec::new();
    }
    let Some(token) = super::token_at(root, range.start()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    out.extend(to_inherit::assist(doc, &token));
    out.extend(pack_flatten::flatten(doc, &token));
    out.extend(pack_flatten::pack(doc, &token));
    out.extend(string_style::assist(doc, &token));
    out.extend(quote_attr::assist(doc, &token));
    out.extend(inline_binding::assist(doc, &token));
    for assist in &mut out {
        assist
            .edits
            .sort_by_key(|e| (e.range.start(), e.range.end()));
    }
    out
}

/// The indentation of the line `at` is on.
pub(crate) fn indent_at(text: &str, at: rowan::TextSize) -> &str {
    let at = usize::from(at);
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::super::fixture::Fixture;

    /// Applies the assist `id` at the fixture's cursor: the text after it
    /// (which must parse without errors), or `None` when it is not offered.
    pub fn apply(fixture: &str, id: &str) -> Option<String> {
        let f = Fixture::parse(fixture);
        let doc = f.doc();
        let at = rowan::TextRange::empty(f.offset());
        let found = super::assists(&doc, at);
        let assist = found.into_iter().find(|a| a.id == id)?;
        let text = crate::syntax::apply_edits(f.text_of(None), &assist.edits);
        let parse = crate::syntax::parse(&text);
        assert!(
            parse.errors().is_empty(),
            "`{id}` made text that does not parse:\n{text}\n{:?}",
            parse.errors()
        );
        Some(text)
    }
}
