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
use rowan::{GreenToken, NodeOrToken, TextRange, TextSize};

use rnix::ParseError;

use super::{guard, parse, parse_before, with_tree, Parse, MAX_TREE_DEPTH};

/// How a reparse was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReparseKind {
    /// The texts are equal.
    Unchanged,
    /// One token was relexed.
    Token,
    /// Members of a set or `let` were reparsed.
    Members,
    /// A list, parenthesised expression or set was reparsed.
    Node,
    /// The whole text was parsed again.
    Full,
}

/// Reparses `new_text`, reusing `old` (the parse of `old_text`) where the
/// texts agree.
pub fn reparse(old: &Parse, old_text: &str, new_text: &str) -> Parse {
    reparse_with_kind(old, old_text, new_text).0
}

/// [`reparse`], also saying how it was done (for logs and benchmarks).
pub fn reparse_with_kind(old: &Parse, old_text: &str, new_text: &str) -> (Parse, ReparseKind) {
    let Some(edit) = diff(old_text, new_text) else {
        return (old.clone(), ReparseKind::Unchanged);
    };
    let root = match old.syntax() {
        Some(root) if old.errors_are_local() => root,
        _ => {
            return (
                parse_before(new_text, edit.range.start()),
                ReparseKind::Full,
            )
        }
    };
    if let Some(parse) = reparse_token(old, &root, &edit, new_text) {
        return (parse, ReparseKind::Token);
    }
    match reparse_block(old, &root, &edit, new_text) {
        Some(done) => done,
        None => (
            parse_before(new_text, edit.range.start()),
            ReparseKind::Full,
        ),
    }
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
    let mut prefix = common_prefix(a, b);
    while !old.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = a.len().min(b.len()) - prefix;
    let mut suffix = common_suffix(&a[prefix..], &b[prefix..]).min(max_suffix);
    while !old.is_char_boundary(a.len() - suffix) || !new.is_char_boundary(b.len() - suffix) {
        suffix -= 1;
    }
    let size = |n: usize| TextSize::from(n as u32);
    Some(Edit {
        range: TextRange::new(size(prefix), size(a.len() - suffix)),
        new_end: size(b.len() - suffix),
    })
}

/// Length of the common prefix, compared a block at a time (memcmp) before
/// byte by byte: a keystroke in a megabyte file costs microseconds.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 256;
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + BLOCK <= n && a[i..i + BLOCK] == b[i..i + BLOCK] {
        i += BLOCK;
    }
    i + a[i..n]
        .iter()
        .zip(&b[i..n])
        .take_while(|(x, y)| x == y)
        .count()
}

fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 256;
    let n = a.len().min(b.len());
    let (ea, eb) = (a.len(), b.len());
    let mut i = 0;
    while i + BLOCK <= n && a[ea - i - BLOCK..ea - i] == b[eb - i - BLOCK..eb - i] {
        i += BLOCK;
    }
    i + a[..ea - i]
        .iter()
        .rev()
        .zip(b[..eb - i].iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
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
    let right = super::token_at(root, range.start());
    let left = match range.start().checked_sub(1.into()) {
        Some(before) => super::token_at(root, before),
        None => None,
    };
    [left, right].into_iter().flatten().find(|t| {
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

pub(super) fn error_range(e: &ParseError) -> Option<TextRange> {
    match e {
        ParseError::Unexpected(r)
        | ParseError::UnexpectedExtra(r)
        | ParseError::UnexpectedWanted(_, r, _)
        | ParseError::UnexpectedDoubleBind(r)
        | ParseError::DuplicatedArgs(r, _) => Some(*r),
        _ => None,
    }
}

pub(super) fn with_range(e: &ParseError, r: TextRange) -> ParseError {
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

/// Reparses the members of a set or `let` around the edit, or the innermost
/// list, parenthesised expression or set holding it, whichever comes first
/// going outwards, and splices the result in.
fn reparse_block(
    old: &Parse,
    root: &SyntaxNode,
    edit: &Edit,
    new_text: &str,
) -> Option<(Parse, ReparseKind)> {
    let covering = match root.covering_element(edit.range) {
        NodeOrToken::Node(n) => n,
        NodeOrToken::Token(t) => t.parent()?,
    };
    // Failed attempts must not cost more than a fraction of a full parse:
    // an edit that changes the structure of the rest of the file (an
    // unterminated member running on to the next `;`) fails them all.
    let mut budget = u32::from(root.text_range().len()) / 4 + 4096;
    for node in covering.ancestors() {
        if matches!(node.kind(), NODE_ATTR_SET | NODE_LET_IN) {
            if let Some(parse) = reparse_members(old, &node, edit, new_text, &mut budget) {
                return Some((parse, ReparseKind::Members));
            }
        }
        let cost = u32::from(node.text_range().len());
        if cost > budget {
            return None;
        }
        budget -= cost;
        if let Some(parse) = reparse_node(old, &node, edit, new_text) {
            return Some((parse, ReparseKind::Node));
        }
    }
    None
}

/// Is `node` a member of a set or `let` (`a.b = e;`, `inherit x;`)?
fn is_member(kind: SyntaxKind) -> bool {
    matches!(kind, NODE_ATTRPATH_VALUE | NODE_INHERIT)
}

/// Reparses the members of `set` from the end of the last member before the
/// edit to the end of a member after it, as `{ ... }` on its own. The
/// members parse the same alone as in context: each starts after a `;` (or
/// the opening brace) and ends at its own `;`. When the edit leaves a member
/// unterminated, rnix's recovery runs on to the next `;`, so one or two more
/// members are tried before giving up.
fn reparse_members(
    old: &Parse,
    set: &SyntaxNode,
    edit: &Edit,
    new_text: &str,
    budget: &mut u32,
) -> Option<Parse> {
    let children: Vec<SyntaxElement> = set.children_with_tokens().collect();
    let (open, close) = match set.kind() {
        NODE_ATTR_SET => (
            children.iter().position(|c| c.kind() == TOKEN_L_BRACE)?,
            children.iter().rposition(|c| c.kind() == TOKEN_R_BRACE)?,
        ),
        _ => (
            children.iter().position(|c| c.kind() == TOKEN_LET)?,
            children.iter().position(|c| c.kind() == TOKEN_IN)?,
        ),
    };
    // The edit must lie between the delimiters, not touch them.
    let inner_start = children[open].text_range().end();
    let inner_end = children[close].text_range().start();
    if edit.range.start() < inner_start || edit.range.end() > inner_end {
        return None;
    }
    // First child of the region: just after the last member that ends at or
    // before the edit.
    let mut first = open + 1;
    for (i, child) in children.iter().enumerate().take(close).skip(open + 1) {
        if is_member(child.kind()) && child.text_range().end() <= edit.range.start() {
            first = i + 1;
        }
    }
    // Members that end at or after the edit, in order: candidate region ends.
    let ends: Vec<usize> = (first..close)
        .filter(|&i| {
            is_member(children[i].kind()) && children[i].text_range().end() >= edit.range.end()
        })
        .take(3)
        .collect();
    for last in ends {
        let old_range = TextRange::new(
            children[first].text_range().start(),
            children[last].text_range().end(),
        );
        let cost = u32::from(old_range.len());
        if cost > *budget {
            return None;
        }
        *budget -= cost;
        if let Some(parse) = splice_members(old, set, first..last + 1, old_range, edit, new_text) {
            return Some(parse);
        }
    }
    None
}

fn splice_members(
    old: &Parse,
    set: &SyntaxNode,
    replaced: std::ops::Range<usize>,
    old_range: TextRange,
    edit: &Edit,
    new_text: &str,
) -> Option<Parse> {
    let new_range = edit.map_containing(old_range);
    let fragment = parse(&format!("{{{}}}", &new_text[new_range]));
    let fragment_root = fragment.syntax()?;
    let fragment_set = fragment_root.first_child()?;
    if fragment_root.children_with_tokens().count() != 1 || fragment_set.kind() != NODE_ATTR_SET {
        return None;
    }
    let parts: Vec<SyntaxElement> = fragment_set.children_with_tokens().collect();
    let [open, inner @ .., close] = parts.as_slice() else {
        return None;
    };
    if open.kind() != TOKEN_L_BRACE || close.kind() != TOKEN_R_BRACE {
        return None;
    }
    if !members_only(inner) {
        return None;
    }
    let depth = inner
        .iter()
        .filter_map(|c| c.as_node())
        .map(|n| guard::tree_depth(n.green(), MAX_TREE_DEPTH))
        .max()
        .unwrap_or(0);
    if !depth_fits(set, depth + 1) {
        return None;
    }
    let offset = new_range.start() - TextSize::from(1);
    let errors = replaced_errors(old, old_range, edit, &fragment, offset)?;
    let new_children = inner.iter().map(|c| match c {
        NodeOrToken::Node(n) => NodeOrToken::Node(n.green().to_owned()),
        NodeOrToken::Token(t) => NodeOrToken::Token(t.green().to_owned()),
    });
    let new_set = set.green().splice_children(replaced, new_children);
    Some(with_tree(set.replace_with(new_set), errors))
}

/// Whether `inner` (children of a set between its braces) is whole members
/// and trivia only, the last member ending with its own `;`.
pub(super) fn members_only(inner: &[SyntaxElement]) -> bool {
    let last_member = inner.iter().rev().find(|c| !c.kind().is_trivia());
    let ends_with_semicolon = match last_member {
        Some(NodeOrToken::Node(m)) if is_member(m.kind()) => {
            m.last_token().map(|t| t.kind()) == Some(TOKEN_SEMICOLON)
        }
        _ => false,
    };
    ends_with_semicolon
        && inner
            .iter()
            .all(|c| c.kind().is_trivia() || is_member(c.kind()))
}

/// Reparses a whole list, parenthesised expression or set on its own.
fn reparse_node(old: &Parse, node: &SyntaxNode, edit: &Edit, new_text: &str) -> Option<Parse> {
    let range = node.text_range();
    // The edit must lie inside the node, not widen it from outside.
    if edit.range.start() <= range.start() || edit.range.end() >= range.end() {
        return None;
    }
    if !delimiters_ok(node)? {
        return None;
    }
    let new_range = edit.map_containing(range);
    let fragment = parse(&new_text[new_range]);
    let fragment_root = fragment.syntax()?;
    let new_node = fragment_root.first_child()?;
    if fragment_root.children_with_tokens().count() != 1
        || new_node.kind() != node.kind()
        || !delimiters_ok(&new_node)?
    {
        return None;
    }
    if !depth_fits(node, guard::tree_depth(new_node.green(), MAX_TREE_DEPTH)) {
        return None;
    }
    let errors = replaced_errors(old, range, edit, &fragment, new_range.start())?;
    Some(with_tree(
        node.replace_with(new_node.green().to_owned()),
        errors,
    ))
}

/// Whether `node` begins and ends with its own brackets.
fn delimiters_ok(node: &SyntaxNode) -> Option<bool> {
    let first = node.first_token()?.kind();
    let last = node.last_token()?.kind();
    Some(match node.kind() {
        NODE_ATTR_SET => matches!(first, TOKEN_L_BRACE | TOKEN_REC) && last == TOKEN_R_BRACE,
        NODE_LIST => first == TOKEN_L_BRACK && last == TOKEN_R_BRACK,
        NODE_PAREN => first == TOKEN_L_PAREN && last == TOKEN_R_PAREN,
        _ => false,
    })
}

/// Whether a subtree `depth` deep under `node`'s place stays within the depth
/// bound, and within rnix's own limit of 512 nested expressions, which a
/// parse in context counts from the root (every nested expression is at
/// least one tree level).
fn depth_fits(node: &SyntaxNode, depth: u32) -> bool {
    let ancestors = node.ancestors().count() as u32;
    ancestors + depth < 500
}

/// The raw errors after replacing `old_range` with a fragment parsed on its
/// own (whose offset `offset` maps to the new text): old errors inside the
/// range go, later ones shift. `None` when an error crosses the range's edge
/// or the fragment has an error without a place.
fn replaced_errors(
    old: &Parse,
    old_range: TextRange,
    edit: &Edit,
    fragment: &Parse,
    offset: TextSize,
) -> Option<Vec<ParseError>> {
    let mut errors = Vec::new();
    for e in fragment.raw_errors() {
        errors.push(with_range(e, error_range(e)? + offset));
    }
    let shift = |o: TextSize| TextSize::from((i64::from(u32::from(o)) + edit.delta()) as u32);
    for e in old.raw_errors() {
        let r = error_range(e)?;
        if r.end() <= old_range.start() {
            errors.push(e.clone());
        } else if r.start() >= old_range.end() {
            errors.push(with_range(
                e,
                TextRange::new(shift(r.start()), shift(r.end())),
            ));
        } else if !old_range.contains_range(r) {
            return None;
        }
    }
    Some(errors)
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
