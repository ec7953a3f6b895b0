//! Incremental reparsing: after an edit, reparse only the token or the
//! binding or bracketed block that contains it, and splice the result into
//! the old tree. The result must equal what a full parse gives (a property
//! test checks this on real files); whenever that cannot be guaranteed
//! cheaply, fall back to a full parse.
//!
//! A block can be parsed on its own when its text begins and ends with its
//! own delimiters: a binding (`a.b = e;`, `inherit x;`) always ends at its
//! `;`, a set, list or parenthesised expression at its closing bracket, and
//! rnix makes the same decisions on those tokens in context as alone.

use rnix::{SyntaxElement, SyntaxKind, SyntaxKind::*, SyntaxNode, SyntaxToken};
use rowan::{GreenNode, GreenToken, NodeOrToken, TextRange, TextSize};

use rnix::ParseError;

use super::{guard, parse, with_tree, Parse, MAX_TREE_DEPTH};

/// Reparses `new_text`, reusing `old` (the parse of `old_text`) where the
/// texts agree.
pub fn reparse(old: &Parse, old_text: &str, new_text: &str) -> Parse {
    let Some(edit) = diff(old_text, new_text) else {
        return old.clone();
    };
    let Some(root) = old.syntax() else {
        return parse(new_text);
    };
    if !old.errors_are_local() {
        return parse(new_text);
    }
    reparse_token(old, &root, &edit, new_text)
        .or_else(|| reparse_block(old, &root, &edit, new_text))
        .unwrap_or_else(|| parse(new_text))
}

/// The changed region: `old` bytes `range` became `new_text[range.start()..new_end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Edit {
    range: TextRange,
    new_end: TextSize,
}

impl Edit {
    fn delta(&self) -> i64 {
        i64::from(u32::from(self.new_end)) - i64::from(u32::from(self.range.end()))
    }

    /// `range` (of the old text, containing the edit) in the new text.
    fn map_containing(&self, range: TextRange) -> TextRange {
        let end = i64::from(u32::from(range.end())) + self.delta();
        TextRange::new(range.start(), TextSize::from(end as u32))
    }
}

/// The smallest region outside of which the texts are equal, found by
/// comparing common prefix and suffix; `None` when they are equal.
fn diff(old: &str, new: &str) -> Option<Edit> {
    if old == new {
        return None;
    }
    let (a, b) = (old.as_bytes(), new.as_bytes());
    let mut prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    while !old.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = a.len().min(b.len()) - prefix;
    let mut suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    while !old.is_char_boundary(a.len() - suffix) || !new.is_char_boundary(b.len() - suffix) {
        suffix -= 1;
    }
    let size = |n: usize| TextSize::from(n as u32);
    Some(Edit {
        range: TextRange::new(size(prefix), size(a.len() - suffix)),
        new_end: size(b.len() - suffix),
    })
}

/// Tokens whose lexing does not depend on what surrounds them.
fn token_is_relexable(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        TOKEN_IDENT | TOKEN_WHITESPACE | TOKEN_COMMENT | TOKEN_INTEGER | TOKEN_FLOAT
    )
}

/// An edit inside one identifier, number, comment or run of whitespace that
/// leaves it one token of the same kind, not merged with its neighbours.
fn reparse_token(old: &Parse, root: &SyntaxNode, edit: &Edit, new_text: &str) -> Option<Parse> {
    let token = covering_token(root, edit.range)?;
    let kind = token.kind();
    let range = token.text_range();
    if !errors_clear_of(old, range) {
        return None;
    }
    // `__curPos` is the one identifier the parser reads by its text.
    let new_range = edit.map_containing(range);
    let new_token_text = &new_text[new_range];
    if kind == TOKEN_IDENT && (token.text() == "__curPos" || new_token_text == "__curPos") {
        return None;
    }
    // Relex the token with its neighbours: the same three tokens must come back.
    let prev = token.prev_token();
    let next = token.next_token();
    let mut window = String::new();
    let mut expected: Vec<(SyntaxKind, &str)> = Vec::new();
    if let Some(p) = &prev {
        if !token_is_relexable(p.kind()) && !is_plain_punctuation(p.kind()) {
            return None;
        }
        window.push_str(p.text());
        expected.push((p.kind(), p.text()));
    }
    window.push_str(new_token_text);
    expected.push((kind, new_token_text));
    if let Some(n) = &next {
        if !token_is_relexable(n.kind()) && !is_plain_punctuation(n.kind()) {
            return None;
        }
        window.push_str(n.text());
        expected.push((n.kind(), n.text()));
    }
    if !rnix::tokenize(&window).eq(expected.iter().copied()) {
        return None;
    }
    let green = GreenToken::new(rowan::SyntaxKind(kind as u16), new_token_text);
    let new_root = token.replace_with(green);
    Some(with_tree(
        new_root,
        shifted_errors(old, range, edit, Vec::new()),
    ))
}

/// Punctuation that lexes the same anywhere in code.
fn is_plain_punctuation(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        TOKEN_SEMICOLON
            | TOKEN_COMMA
            | TOKEN_ASSIGN
            | TOKEN_COLON
            | TOKEN_L_PAREN
            | TOKEN_R_PAREN
            | TOKEN_L_BRACK
            | TOKEN_R_BRACK
            | TOKEN_L_BRACE
            | TOKEN_DOT
            | TOKEN_QUESTION
            | TOKEN_AT
            | TOKEN_ADD
            | TOKEN_MUL
            | TOKEN_CONCAT
            | TOKEN_UPDATE
            | TOKEN_EQUAL
            | TOKEN_NOT_EQUAL
            | TOKEN_AND_AND
            | TOKEN_OR_OR
    )
}

/// The token that contains the whole edited range; at a boundary between
/// two tokens, the relexable one (the left one first).
fn covering_token(root: &SyntaxNode, range: TextRange) -> Option<SyntaxToken> {
    let candidates: Vec<SyntaxToken> = match root.token_at_offset(range.start()) {
        rowan::TokenAtOffset::None => return None,
        rowan::TokenAtOffset::Single(t) => vec![t],
        rowan::TokenAtOffset::Between(l, r) => vec![l, r],
    };
    candidates.into_iter().find(|t| {
        token_is_relexable(t.kind()) && t.text_range().contains_range(range) && !t.text().is_empty()
    })
}

/// The raw errors of `old` with those after `replaced` shifted by the edit,
/// plus `new_errors` (already in new-text offsets).
fn shifted_errors(
    old: &Parse,
    replaced: TextRange,
    edit: &Edit,
    mut new_errors: Vec<ParseError>,
) -> Vec<ParseError> {
    let shift = |o: TextSize| TextSize::from((i64::from(u32::from(o)) + edit.delta()) as u32);
    for e in old.raw_errors() {
        match error_range(e) {
            Some(r) if r.end() >= replaced.start() => new_errors.push(with_range(
                e,
                TextRange::new(shift(r.start()), shift(r.end())),
            )),
            _ => new_errors.push(e.clone()),
        }
    }
    new_errors
}

/// True when no raw error of `old` touches `range`.
fn errors_clear_of(old: &Parse, range: TextRange) -> bool {
    old.raw_errors().iter().all(|e| match error_range(e) {
        Some(r) => r.end() < range.start() || r.start() > range.end(),
        None => false,
    })
}

fn error_range(e: &ParseError) -> Option<TextRange> {
    match e {
        ParseError::Unexpected(r)
        | ParseError::UnexpectedExtra(r)
        | ParseError::UnexpectedWanted(_, r, _)
        | ParseError::UnexpectedDoubleBind(r)
        | ParseError::DuplicatedArgs(r, _) => Some(*r),
        _ => None,
    }
}

fn with_range(e: &ParseError, r: TextRange) -> ParseError {
    match e {
        ParseError::Unexpected(_) => ParseError::Unexpected(r),
        ParseError::UnexpectedExtra(_) => ParseError::UnexpectedExtra(r),
        ParseError::UnexpectedWanted(got, _, wanted) => {
            ParseError::UnexpectedWanted(*got, r, wanted.clone())
        }
        ParseError::UnexpectedDoubleBind(_) => ParseError::UnexpectedDoubleBind(r),
        ParseError::DuplicatedArgs(_, name) => ParseError::DuplicatedArgs(r, name.clone()),
        other => other.clone(),
    }
}

/// How to parse a node's text on its own: the text to put around it, and
/// where in that parse the node is found.
fn block_kind(node: &SyntaxNode) -> Option<(&'static str, &'static str)> {
    match node.kind() {
        NODE_ATTRPATH_VALUE | NODE_INHERIT => {
            let parent = node.parent()?.kind();
            matches!(parent, NODE_ATTR_SET | NODE_LET_IN).then_some(("{", "}"))
        }
        NODE_ATTR_SET | NODE_LIST | NODE_PAREN => Some(("", "")),
        _ => None,
    }
}

/// The tokens a block must start and end with to be parsed on its own.
fn delimiters_ok(node_kind: SyntaxKind, first: SyntaxKind, last: SyntaxKind) -> bool {
    match node_kind {
        NODE_ATTRPATH_VALUE | NODE_INHERIT => last == TOKEN_SEMICOLON,
        NODE_ATTR_SET => matches!(first, TOKEN_L_BRACE | TOKEN_REC) && last == TOKEN_R_BRACE,
        NODE_LIST => first == TOKEN_L_BRACK && last == TOKEN_R_BRACK,
        NODE_PAREN => first == TOKEN_L_PAREN && last == TOKEN_R_PAREN,
        _ => false,
    }
}

fn first_last_kinds(node: &SyntaxNode) -> Option<(SyntaxKind, SyntaxKind)> {
    Some((node.first_token()?.kind(), node.last_token()?.kind()))
}

/// The innermost binding or bracketed block around the edit, parsed alone.
fn reparse_block(old: &Parse, root: &SyntaxNode, edit: &Edit, new_text: &str) -> Option<Parse> {
    let covering = match root.covering_element(edit.range) {
        NodeOrToken::Node(n) => n,
        NodeOrToken::Token(t) => t.parent()?,
    };
    let total = root.text_range().len();
    for node in covering.ancestors() {
        // Reparsing a block that is most of the file saves nothing.
        if u32::from(node.text_range().len()) > u32::from(total) / 2 {
            return None;
        }
        let Some((before, after)) = block_kind(&node) else {
            continue;
        };
        let range = node.text_range();
        // The edit must lie inside the node, not widen it from outside.
        if edit.range.start() <= range.start() || edit.range.end() >= range.end() {
            continue;
        }
        let (first, last) = first_last_kinds(&node)?;
        if !delimiters_ok(node.kind(), first, last) {
            continue;
        }
        return splice_block(old, &node, before, after, edit, new_text);
    }
    None
}

fn splice_block(
    old: &Parse,
    node: &SyntaxNode,
    before: &str,
    after: &str,
    edit: &Edit,
    new_text: &str,
) -> Option<Parse> {
    let range = node.text_range();
    if !errors_clear_of(old, range) {
        return None;
    }
    let new_range = edit.map_containing(range);
    let fragment_text = format!("{before}{}{after}", &new_text[new_range]);
    let fragment = parse(&fragment_text);
    if !fragment.errors_are_local() {
        return None;
    }
    let fragment_root = fragment.syntax()?;
    let expr = fragment_root.first_child()?;
    // The fragment must be exactly one node of the old node's kind, with no
    // stray tokens around it.
    let new_node = if before.is_empty() {
        if fragment_root.children_with_tokens().count() != 1 {
            return None;
        }
        expr
    } else {
        let parts: Vec<SyntaxElement> = expr.children_with_tokens().collect();
        match parts.as_slice() {
            [NodeOrToken::Token(open), NodeOrToken::Node(inner), NodeOrToken::Token(close)]
                if open.kind() == TOKEN_L_BRACE && close.kind() == TOKEN_R_BRACE =>
            {
                inner.clone()
            }
            _ => return None,
        }
    };
    if new_node.kind() != node.kind() || new_node.text_range().len() != new_range.len() {
        return None;
    }
    let (first, last) = first_last_kinds(&new_node)?;
    if !delimiters_ok(node.kind(), first, last) {
        return None;
    }
    // The spliced tree must stay within the depth bound, and within rnix's
    // own limit of 512 nested expressions, which a parse in context counts
    // from the root: every nested expression is at least one tree level.
    let ancestors = node.ancestors().count() as u32;
    let depth = guard::tree_depth(&new_node.green(), MAX_TREE_DEPTH);
    if ancestors + depth >= 500 {
        return None;
    }
    let offset = new_range.start() - TextSize::of(before);
    let mut new_errors = Vec::new();
    for e in fragment.raw_errors() {
        new_errors.push(with_range(e, error_range(e)? + offset));
    }
    let new_green: GreenNode = new_node.green().to_owned();
    let new_root = node.replace_with(new_green);
    Some(with_tree(
        new_root,
        shifted_errors(old, range, edit, new_errors),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies `edit` and checks that reparsing gives what a full parse gives.
    fn check_edit(old_text: &str, range: std::ops::Range<usize>, insert: &str) {
        let mut new_text = old_text.to_string();
        new_text.replace_range(range, insert);
        let old = parse(old_text);
        let incremental = reparse(&old, old_text, &new_text);
        let full = parse(&new_text);
        assert_eq!(
            incremental.debug_dump(),
            full.debug_dump(),
            "tree differs after edit of {old_text:?} into {new_text:?}"
        );
        assert_eq!(
            incremental.errors(),
            full.errors(),
            "errors differ for {new_text:?}"
        );
    }

    #[test]
    fn diff_finds_the_changed_region() {
        let e = diff("abcdef", "abXYef").unwrap();
        assert_eq!(e.range, TextRange::new(2.into(), 4.into()));
        assert_eq!(e.new_end, 4.into());
        assert_eq!(diff("same", "same"), None);
        // Multi-byte characters are never split.
        let e = diff("é", "è").unwrap();
        assert_eq!(e.range, TextRange::new(0.into(), 2.into()));
    }

    #[test]
    fn token_edits() {
        let text = "{ foo = bar; baz = 1; # note\n}";
        check_edit(text, 3..3, "x"); // inside an identifier
        check_edit(text, 19..20, "42"); // a number
        check_edit(text, 24..28, "longer note"); // a comment
        check_edit(text, 1..2, "   "); // whitespace
        check_edit(text, 8..11, "in"); // identifier becomes a keyword
        check_edit(text, 11..11, " x"); // new tokens
    }

    #[test]
    fn block_edits() {
        let text = "{\n  a = [ 1 2 ];\n  b = { c = d; };\n  e = f (g h);\n}\n";
        let at = |s: &str| text.find(s).unwrap();
        check_edit_range(text, at("2 ]"), at("2 ]") + 1, "3 4");
        check_edit_range(text, at("c = d"), at("c = d") + 5, "c = 1; x = 2");
        check_edit_range(text, at("g h"), at("g h") + 3, "g");
        check_edit_range(text, at("d;"), at("d;") + 2, "d"); // introduces an error
        check_edit_range(text, at("[ 1"), at("[ 1") + 1, ""); // breaks the brackets
    }

    fn check_edit_range(text: &str, start: usize, end: usize, insert: &str) {
        check_edit(text, start..end, insert)
    }

    #[test]
    fn edits_next_to_existing_errors() {
        let text = "{ a = ; b = 1; c = 2; }";
        check_edit_range(text, 19, 20, "3");
        check_edit_range(text, 6, 6, "x");
    }
}
