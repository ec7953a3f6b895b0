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
use rowan::{
    GreenNode, GreenNodeData, GreenToken, GreenTokenData, NodeOrToken, TextRange, TextSize,
};

use rnix::ParseError;

use super::green::{self, E, N};
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
    /// Everything but runs of unchanged members before the edit was parsed
    /// again, and those members were taken from the old tree.
    Prefix,
    /// Everything but runs of unchanged members before and after the edit
    /// was parsed again, and those members were taken from the old tree.
    Skeleton,
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
    reparse_from(&[(old_text, old)], new_text)
}

/// Reparses `new_text` from earlier texts of the same file and their
/// parses, newest first. Local reparsing (a token, a block) starts from the
/// newest. Whole members are reused from any of them: after a keystroke
/// that broke the file, the newest tree may have lost the structure of
/// everything after the edit (a half-typed member that ran on past a `}`),
/// while an older, complete tree still has it.
pub fn reparse_from(earlier: &[(&str, &Parse)], new_text: &str) -> (Parse, ReparseKind) {
    let Some(&(old_text, old)) = earlier.first() else {
        return (parse(new_text), ReparseKind::Full);
    };
    let Some(edit) = diff(old_text, new_text) else {
        return (old.clone(), ReparseKind::Unchanged);
    };
    let Some(root) = old.syntax() else {
        return (
            parse_before(new_text, edit.range.start()),
            ReparseKind::Full,
        );
    };
    if old.errors_are_local() {
        if let Some(parse) = reparse_token(old, &root, &edit, new_text) {
            return (parse, ReparseKind::Token);
        }
        if let Some(done) = reparse_block(old, old_text, &root, &edit, new_text) {
            return done;
        }
    }
    for (i, &(text, parse)) in earlier.iter().enumerate() {
        let (edit, root) = if i == 0 {
            (edit, root.clone())
        } else {
            match (diff(text, new_text), parse.syntax()) {
                (Some(edit), Some(root)) => (edit, root),
                _ => continue,
            }
        };
        for kept in KEPT_AFTER_EDIT {
            if let Some(parse) = reuse_runs(parse, &root, &edit, new_text, Some(kept)) {
                return (parse, ReparseKind::Skeleton);
            }
        }
    }
    if let Some(parse) = reuse_runs(old, &root, &edit, new_text, None) {
        return (parse, ReparseKind::Prefix);
    }
    (
        parse_before(new_text, edit.range.start()),
        ReparseKind::Full,
    )
}

/// A green node or token, owned.
type GreenElement = NodeOrToken<GreenNode, GreenToken>;

/// A run of whole members of a set, reused from the old tree.
struct Run {
    /// The members and the trivia between them, from the old tree.
    children: Vec<GreenElement>,
    /// Where they are in the old text.
    old: TextRange,
    /// Where they begin in the new text: where they were, before the edit;
    /// moved by the edit, after it.
    new_start: TextSize,
    /// Whether the run lies after the edit (and so is parsed in a context
    /// that may differ from the old one).
    after_edit: bool,
}

impl Run {
    fn new_range(&self) -> TextRange {
        TextRange::at(self.new_start, self.old.len())
    }
}

/// How many members after the edit, in the sets around it, stay in the
/// skeleton, tried in turn: rnix's recovery from a half-typed member runs
/// on to the next `=` or `;`, which is nearly always in the next member.
const KEPT_AFTER_EDIT: [usize; 2] = [1, 3];

/// Parses the file with long runs of whole set members taken out (the
/// "skeleton"), then puts the old members back. Every member but the few
/// next to the edit can go: before the edit, the text and so its parse are
/// unchanged; after it, a member parses the same in any set, because rnix
/// parses `path = value;` and `inherit ...;` without looking at what
/// encloses them, and its tokens lex the same wherever code is lexed (the
/// run's brackets and strings balance). What the skeleton proves is that
/// the parse arrives at each run's place just after a member's own `;`,
/// inside a set that goes on: the state in which the old parse read the
/// run. So an edit that changes the structure of the rest of the file (a
/// half-typed member running on to the next `;`) costs a parse of the
/// members around the edit, not of the file.
fn reuse_runs(
    old: &Parse,
    root: &SyntaxNode,
    edit: &Edit,
    new_text: &str,
    kept_after_edit: Option<usize>,
) -> Option<Parse> {
    if old
        .raw_errors()
        .iter()
        .any(|e| matches!(e, ParseError::RecursionLimitExceeded))
    {
        return None;
    }
    let mut runs = collect_runs(root, edit, kept_after_edit);
    // A second try keeps the runs the first found in place: when the edit
    // turns the end of the file into one error (a set closed early), the
    // members that are still members are reused and the rest is parsed.
    for attempt in 0..2 {
        if kept_after_edit.is_some() && !runs.iter().any(|r| r.after_edit) {
            return None; // nothing after the edit to reuse: see `Prefix`
        }
        let removed: u32 = runs.iter().map(|r| u32::from(r.old.len())).sum();
        if removed < u32::from(root.text_range().len()) / 8 {
            return None;
        }
        match with_runs(old, &runs, new_text) {
            Ok(parse) => return Some(parse),
            Err(in_place) if attempt == 0 && in_place.contains(&true) => {
                let mut keep = in_place.into_iter();
                runs.retain(|_| keep.next() == Some(true));
            }
            Err(_) => return None,
        }
    }
    None
}

/// Parses `new_text` with `runs` taken out and puts them back, or says
/// which runs were found in a place they can go back to.
fn with_runs(old: &Parse, runs: &[Run], new_text: &str) -> Result<Parse, Vec<bool>> {
    let none = || vec![false; runs.len()];
    let removed: u32 = runs.iter().map(|r| u32::from(r.old.len())).sum();
    let mut skeleton_text = String::with_capacity(new_text.len() - removed as usize);
    let mut at = 0;
    for run in runs {
        skeleton_text.push_str(&new_text[at..usize::from(run.new_start)]);
        at = run.new_range().end().into();
    }
    skeleton_text.push_str(&new_text[at..]);
    let skeleton = super::parse_sequential(&skeleton_text);
    if skeleton
        .raw_errors()
        .iter()
        .any(|e| matches!(e, ParseError::RecursionLimitExceeded))
    {
        return Err(none());
    }
    let Some(mut tree) = skeleton.syntax() else {
        return Err(none());
    };

    // Each run's start in skeleton offsets: its start minus what was taken
    // out before it.
    let mut starts = Vec::with_capacity(runs.len());
    let mut taken = TextSize::from(0);
    for run in runs {
        starts.push(run.new_start - taken);
        taken += run.old.len();
    }
    // Where each run goes: after a member's own `;` in a set that goes on.
    // Then the runs' own checks: brackets and strings balance; after the
    // edit, no old errors, and the run's new place is not so deep that
    // rnix would stop at 512 nested expressions (counted from the root;
    // every nested expression is a tree level).
    let mut in_place = Vec::with_capacity(runs.len());
    for (run, &start) in runs.iter().zip(&starts) {
        let place = place_of_run(&tree, start).filter(|(_, set)| {
            if !line_kept_around(new_text, run.new_range()) {
                return false;
            }
            let clean = errors_clear_of(old, run.old);
            if !clean && !members_around_took_their_semicolons(set) {
                // A member around the set reports a stop after it only when
                // it has no error yet: the run's errors count, and the
                // skeleton did not see them.
                return false;
            }
            if clean && !run.after_edit {
                // Members rnix read without an error balance their brackets
                // and strings and hold no unreadable token (it reports each
                // one inside the member it reads): nothing to walk. Most of
                // a big file lies before the edit.
                return true;
            }
            let shape = run_shape(
                Unreadable::Refused,
                run.children.iter().map(|c| match c {
                    NodeOrToken::Node(n) => NodeOrToken::Node(&**n),
                    NodeOrToken::Token(t) => NodeOrToken::Token(&**t),
                }),
            );
            match shape {
                None => false,
                Some(_) if !run.after_edit => true,
                Some(height) => clean && depth_fits(set, height),
            }
        });
        in_place.push(place.is_some());
    }
    if in_place.contains(&false) {
        return Err(in_place);
    }
    // Put the runs back, last first, so earlier places stay where they were.
    for (run, &start) in runs.iter().zip(&starts).rev() {
        let Some((index, set)) = place_of_run(&tree, start) else {
            return Err(none());
        };
        let new_set = set
            .green()
            .splice_children(index..index, run.children.iter().cloned());
        tree = SyntaxNode::new_root(set.replace_with(new_set));
    }

    // Errors: the skeleton's, moved past the runs before them, and the old
    // ones inside the runs before the edit (those after it have none).
    let to_new = |o: TextSize| -> TextSize {
        let mut shift = TextSize::from(0);
        for (run, &start) in runs.iter().zip(&starts) {
            if o >= start {
                shift += run.old.len();
            }
        }
        o + shift
    };
    let mut errors = Vec::new();
    for e in skeleton.raw_errors() {
        match error_range(e) {
            Some(r) => {
                let (start, end) = (to_new(r.start()), to_new(r.end()));
                // An error may not straddle a run.
                if u32::from(end - start) != u32::from(r.len()) && r.len() > TextSize::from(0) {
                    return Err(none());
                }
                errors.push(with_range(e, TextRange::new(start, end)));
            }
            None => errors.push(e.clone()),
        }
    }
    for e in old.raw_errors() {
        if let Some(r) = error_range(e) {
            if runs
                .iter()
                .any(|run| !run.after_edit && run.old.contains_range(r))
            {
                errors.push(e.clone());
            }
        }
    }
    // Depth: runs before the edit sit where they sat in the old tree, and
    // those after it were checked above, so the tree is within the bound.
    Ok(with_tree(tree.green().to_owned(), errors))
}

/// Where a run taken out at `start` (a skeleton offset) goes back: its
/// index among the children of the set whose member ends with its own `;`
/// just before `start`, when that set goes on after it.
fn place_of_run(tree: &SyntaxNode, start: TextSize) -> Option<(usize, SyntaxNode)> {
    let semicolon = super::token_at(tree, start.checked_sub(1.into())?)?;
    let member = semicolon.parent()?;
    let set = member.parent()?;
    let fits = semicolon.kind() == TOKEN_SEMICOLON
        && is_member(member.kind())
        && member.text_range().end() == start
        && matches!(set.kind(), NODE_ATTR_SET | NODE_LET_IN)
        && set.text_range().end() > start;
    fits.then(|| (member.index() + 1, set))
}

/// The runs to take out: in every set or `let`, the members after the
/// first (which stays, as the opening brace looks two tokens ahead) that
/// end before the edit, and those that begin after it but for the first
/// `kept_after_edit`, when there are two or more; nested runs are not
/// collected (they go out with their outer run). Walks green nodes: a set
/// like all-packages.nix's has tens of thousands of children.
fn collect_runs(root: &SyntaxNode, edit: &Edit, kept_after_edit: Option<usize>) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut stack = vec![N {
        green: root.green(),
        offset: root.text_range().start(),
    }];
    let mut children: Vec<E<'_>> = Vec::new();
    while let Some(node) = stack.pop() {
        children.clear();
        children.extend(node.children_with_tokens());
        let mut skip: Vec<std::ops::Range<usize>> = Vec::new();
        if matches!(node.kind(), NODE_ATTR_SET | NODE_LET_IN) {
            for range in runs_in(&children, edit, kept_after_edit) {
                let taken = &children[range.clone()];
                let (Some(first), Some(last)) = (taken.first(), taken.last()) else {
                    continue;
                };
                let old = TextRange::new(first.text_range().start(), last.text_range().end());
                let after_edit = old.start() >= edit.range.end();
                let new_start = if after_edit {
                    edit.map_after(old.start())
                } else {
                    old.start()
                };
                runs.push(Run {
                    children: taken.iter().map(|e| e.owned()).collect(),
                    old,
                    new_start,
                    after_edit,
                });
                skip.push(range);
            }
        }
        let reach_after = kept_after_edit.is_some();
        for (i, child) in children.iter().enumerate() {
            if skip.iter().any(|r| r.contains(&i)) {
                continue;
            }
            if let E::Node(n) = child {
                let range = n.text_range();
                let big_enough = u32::from(range.len()) >= MIN_RUN;
                if big_enough && (range.start() < edit.range.start() || reach_after) {
                    stack.push(*n);
                }
            }
        }
    }
    runs.sort_by_key(|r| r.old.start());
    runs
}

/// The child ranges of a set (`children`) worth taking out: members after
/// the first that end before the edit, and members after the first
/// `kept_after_edit` that begin after it; each run two members or more,
/// of whole members and trivia, the last ending with its own `;`.
fn runs_in(
    children: &[E<'_>],
    edit: &Edit,
    kept_after_edit: Option<usize>,
) -> Vec<std::ops::Range<usize>> {
    let is_member_at = |i: usize| is_member(children[i].kind());
    let Some(first) = (0..children.len()).find(|&i| is_member_at(i)) else {
        return Vec::new();
    };
    let mut candidates = Vec::new();
    // Before the edit: from after the first member to the last one that
    // ends at or before it.
    if let Some(last) = (first + 1..children.len())
        .rev()
        .find(|&i| is_member_at(i) && children[i].text_range().end() <= edit.range.start())
    {
        candidates.push(first + 1..last + 1);
    }
    // After the edit: from after the kept members to the last member. The
    // first member of a set always stays: its opening brace looks two
    // tokens ahead.
    if let Some(kept) = kept_after_edit {
        let mut after = (first..children.len())
            .filter(|&i| is_member_at(i) && children[i].text_range().start() >= edit.range.end());
        let last_kept = after.nth(kept.max(1) - 1);
        let last = (first..children.len()).rev().find(|&i| is_member_at(i));
        if let (Some(last_kept), Some(last)) = (last_kept, last) {
            candidates.push(last_kept + 1..last + 1);
        }
    }
    candidates
        .into_iter()
        .filter(|range| {
            let taken = &children[range.clone()];
            (range.start..range.end)
                .filter(|&i| is_member_at(i))
                .count()
                >= 2
                && extent(taken) >= MIN_RUN
                && ends_with_own_semicolon_green(&children[range.start - 1])
                && taken
                    .iter()
                    .all(|c| c.kind().is_trivia() || is_member(c.kind()))
                && taken.last().is_some_and(ends_with_own_semicolon_green)
        })
        .collect()
}

/// Runs shorter than this are left in the skeleton: taking them out saves
/// less than splicing them back costs.
const MIN_RUN: u32 = 512;

fn extent(elements: &[E<'_>]) -> u32 {
    match (elements.first(), elements.last()) {
        (Some(first), Some(last)) => {
            u32::from(last.text_range().end()) - u32::from(first.text_range().start())
        }
        _ => 0,
    }
}

/// [`ends_with_own_semicolon`] for a green element.
fn ends_with_own_semicolon_green(element: &E<'_>) -> bool {
    match element {
        E::Node(n) => {
            is_member(n.kind())
                && matches!(
                    n.green.children().next_back(),
                    Some(NodeOrToken::Token(t)) if green::kind_of(t.kind()) == TOKEN_SEMICOLON
                )
        }
        E::Token(_) => false,
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

    /// An offset of the old text at or after the edit, in the new text.
    fn map_after(&self, offset: TextSize) -> TextSize {
        TextSize::from((i64::from(u32::from(offset)) + self.delta()) as u32)
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
    let new_range = edit.map_containing(range);
    let new_token_text = &new_text[new_range];
    // Where the text is broken, recovery stops a member at a line that
    // begins the next one, and in skipped brackets only at a line no deeper
    // than the member's: whitespace that holds a line break decides both.
    if kind == TOKEN_WHITESPACE
        && !old.raw_errors().is_empty()
        && (token.text().contains('\n')
            || new_token_text.contains('\n')
            || range.start() == TextSize::from(0))
    {
        return None;
    }
    // The parser reads two identifiers by their text: `__curPos`, and `or`,
    // which after an operand it turns into an identifier of odd precedence.
    let special = |t: &str| t == "__curPos" || t == "or";
    if kind == TOKEN_IDENT && (special(token.text()) || special(new_token_text)) {
        return None;
    }
    // Relex the token with its neighbours: the same three tokens must come back.
    // Relex the token with two neighbours on each side: the same tokens must
    // come back. (Two, because `a:b` is one URI token but `a_:b` is three.)
    let mut before = Vec::new();
    let mut t = token.prev_token();
    while let Some(p) = t.filter(|_| before.len() < 2) {
        t = p.prev_token();
        before.push(p);
    }
    before.reverse();
    let mut after = Vec::new();
    let mut t = token.next_token();
    while let Some(n) = t.filter(|_| after.len() < 2) {
        t = n.next_token();
        after.push(n);
    }
    let mut window = String::new();
    let mut expected: Vec<(SyntaxKind, &str)> = Vec::new();
    for neighbour in before.iter().chain(std::iter::once(&token)).chain(&after) {
        let text = if neighbour == &token {
            new_token_text
        } else {
            neighbour.text()
        };
        if neighbour != &token
            && !token_is_relexable(neighbour.kind())
            && !is_plain_punctuation(neighbour.kind())
        {
            return None;
        }
        window.push_str(text);
        expected.push((neighbour.kind(), text));
    }
    if !super::lexer::tokenize(&window).eq(expected.iter().copied()) {
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
    old_text: &str,
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
            if let Some(parse) = reparse_members(old, old_text, &node, edit, new_text, &mut budget)
            {
                return Some((parse, ReparseKind::Members));
            }
        }
        let cost = u32::from(node.text_range().len());
        if cost > budget {
            return None;
        }
        budget -= cost;
        if let Some(parse) = reparse_node(old, old_text, &node, edit, new_text) {
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
    old_text: &str,
    set: &SyntaxNode,
    edit: &Edit,
    new_text: &str,
    budget: &mut u32,
) -> Option<Parse> {
    // Green elements with their offsets: a package set has 40 000
    // children, and a syntax element costs an allocation each.
    let set_green = N {
        green: set.green(),
        offset: set.text_range().start(),
    };
    let children: Vec<E<'_>> = set_green.children_with_tokens().collect();
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
    // before the edit. There must be one: the opening `{` decides between a
    // set and a function pattern, and `let` between `let ... in` and
    // `let { }`, by the tokens after it, so the first member stays as it is.
    let mut first = None;
    for (i, child) in children.iter().enumerate().take(close).skip(open + 1) {
        if is_member(child.kind()) && child.text_range().end() <= edit.range.start() {
            first = Some(i + 1);
        }
    }
    // ... and that ended by taking its own `;`: a member that recovery
    // stopped (at a line that begins the next member) was still reading,
    // so the region goes back over it.
    let mut first = first?;
    while !ends_with_own_semicolon_green(&children[first - 1]) {
        first = (open + 1..first - 1)
            .rev()
            .find(|&i| is_member(children[i].kind()))
            .map(|i| i + 1)?;
    }
    // Members that end at or after the edit, in order: candidate region ends.
    let ends: Vec<usize> = (first..close)
        .filter(|&i| {
            is_member(children[i].kind()) && children[i].text_range().end() >= edit.range.end()
        })
        .take(3)
        .collect();
    for last in ends {
        // A member that recovery stopped reported the stop at the token
        // after it, outside the region: the region must end at a `;`.
        if !ends_with_own_semicolon_green(&children[last]) {
            continue;
        }
        let old_range = TextRange::new(
            children[first].text_range().start(),
            children[last].text_range().end(),
        );
        let cost = u32::from(old_range.len());
        if cost > *budget {
            return None;
        }
        *budget -= cost;
        let replaced = first..last + 1;
        if let Some(parse) = splice_members(
            old, old_text, set, &children, replaced, old_range, edit, new_text,
        ) {
            return Some(parse);
        }
    }
    None
}

#[allow(clippy::too_many_arguments)]
fn splice_members(
    old: &Parse,
    old_text: &str,
    set: &SyntaxNode,
    old_children: &[E<'_>],
    replaced: std::ops::Range<usize>,
    old_range: TextRange,
    edit: &Edit,
    new_text: &str,
) -> Option<Parse> {
    // What follows the region lexes as before only if the old region, too,
    // closed everything it opened.
    let old_region = old_children[replaced.clone()].iter().map(|e| match e {
        E::Node(n) => NodeOrToken::Node(n.green),
        E::Token(t) => NodeOrToken::Token(t.green),
    });
    run_shape(Unreadable::Local, old_region)?;
    let new_range = edit.map_containing(old_range);
    if !same_last_line(&new_text[new_range], &old_text[old_range]) {
        return None;
    }
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
    if !whole_members(inner) || elements_shape(Unreadable::Local, inner).is_none() {
        return None;
    }
    if !fragment.raw_errors().is_empty() && !begins_a_line(inner) {
        return None;
    }
    if fragment.raw_errors().is_empty() != errors_clear_of(old, old_range)
        && !members_around_took_their_semicolons(set)
    {
        // A member around the set reports a stop after the set only when
        // it has no error yet: whether the region has errors must not
        // change where there may be one.
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

/// Whether the tokens of `elements` open and close braces, interpolations
/// and strings in balanced pairs. rnix's lexer decides what a `}` is (the
/// end of a set or of an interpolation) by what is open, so only balanced
/// text lexes the same on its own as in context.
pub(super) fn balanced(elements: &[SyntaxElement]) -> bool {
    elements_shape(Unreadable::Refused, elements).is_some()
}

/// [`run_shape`] of syntax elements.
fn elements_shape(unreadable: Unreadable, elements: &[SyntaxElement]) -> Option<u32> {
    run_shape(
        unreadable,
        elements.iter().map(|e| match e {
            NodeOrToken::Node(n) => NodeOrToken::Node(n.green()),
            NodeOrToken::Token(t) => NodeOrToken::Token(t.green()),
        }),
    )
}

/// What [`run_shape`] makes of a token the lexer could not read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unreadable {
    /// No such token may be in the run.
    Refused,
    /// Such tokens may be in it: the lexer reads them from the state the
    /// tokens before left and leaves the state the next token needs
    /// (`../tools/` is one token, whatever follows it), except the ones
    /// that run to the end of the text (an unclosed string or comment),
    /// which the caller's own checks refuse: they swallow the closing
    /// bracket of a fragment, or the `;` a region must end with.
    Local,
}

/// [`balanced`] on green nodes (no syntax node is made per step), also
/// giving how many levels of nodes `elements` hold: `None` when they do
/// not balance or hold a token that could not be read.
fn run_shape<'a>(
    unreadable: Unreadable,
    elements: impl DoubleEndedIterator<Item = NodeOrToken<&'a GreenNodeData, &'a GreenTokenData>>,
) -> Option<u32> {
    let mut stack: Vec<(NodeOrToken<&GreenNodeData, &GreenTokenData>, u32)> = elements
        .rev()
        .map(|e| match e {
            NodeOrToken::Node(n) => (NodeOrToken::Node(n), 1),
            NodeOrToken::Token(t) => (NodeOrToken::Token(t), 0),
        })
        .collect();
    let (mut braces, mut strings, mut height) = (0i64, 0i64, 0u32);
    while let Some((element, depth)) = stack.pop() {
        match element {
            NodeOrToken::Node(node) => {
                height = height.max(depth);
                if height > MAX_TREE_DEPTH {
                    return None;
                }
                for child in node.children().rev() {
                    stack.push((child, depth + 1));
                }
            }
            NodeOrToken::Token(token) => {
                match green::kind_of(token.kind()) {
                    TOKEN_L_BRACE | TOKEN_INTERPOL_START => braces += 1,
                    TOKEN_R_BRACE | TOKEN_INTERPOL_END => braces -= 1,
                    TOKEN_STRING_START => strings += 1,
                    TOKEN_STRING_END => strings -= 1,
                    TOKEN_ERROR if unreadable == Unreadable::Refused => return None,
                    _ => {}
                }
                if braces < 0 || strings < 0 {
                    return None;
                }
            }
        }
    }
    (braces == 0 && strings == 0).then_some(height)
}

/// Whether `member` is a member that ended by taking its own `;`. A member
/// whose last `;` belongs to something inside it (a `with e;` whose
/// recovery ran on) was still parsing after that `;`, looking at what came
/// next, so it cannot be cut off there.
pub(super) fn ends_with_own_semicolon(member: &SyntaxNode) -> bool {
    is_member(member.kind())
        && member
            .last_child_or_token()
            .is_some_and(|c| c.kind() == TOKEN_SEMICOLON)
}

/// Whether `inner` (children of a set between its braces) is whole members
/// and trivia only, the last member ending with its own `;`.
pub(super) fn members_only(inner: &[SyntaxElement]) -> bool {
    whole_members(inner) && balanced(inner)
}

/// [`members_only`] without the walk for balance: for elements of a parse
/// without errors, which balance by construction.
pub(super) fn whole_members(inner: &[SyntaxElement]) -> bool {
    let last_member = inner.iter().rev().find(|c| !c.kind().is_trivia());
    let ends_with_semicolon = match last_member {
        Some(NodeOrToken::Node(m)) => ends_with_own_semicolon(m),
        _ => false,
    };
    ends_with_semicolon
        && inner
            .iter()
            .all(|c| c.kind().is_trivia() || is_member(c.kind()))
}

/// Reparses a whole list, parenthesised expression or set on its own.
fn reparse_node(
    old: &Parse,
    old_text: &str,
    node: &SyntaxNode,
    edit: &Edit,
    new_text: &str,
) -> Option<Parse> {
    let range = node.text_range();
    // The edit must lie inside the node, not widen it from outside.
    if edit.range.start() <= range.start() || edit.range.end() >= range.end() {
        return None;
    }
    if !delimiters_ok(node)? || !balanced(&[NodeOrToken::Node(node.clone())]) {
        return None;
    }
    // A broken node recovers by what is open around it (see
    // `parser::Parser::stops_here`), and whether it has errors decides the
    // errors of the member around it: only valid nodes are reparsed alone.
    if !errors_clear_of(old, range) {
        return None;
    }
    let new_range = edit.map_containing(range);
    if !same_last_line(&new_text[new_range], &old_text[range]) {
        return None;
    }
    let fragment = parse(&new_text[new_range]);
    if !fragment.raw_errors().is_empty() {
        return None;
    }
    let fragment_root = fragment.syntax()?;
    let new_node = fragment_root.first_child()?;
    if fragment_root.children_with_tokens().count() != 1
        || new_node.kind() != node.kind()
        || !delimiters_ok(&new_node)?
        || !balanced(&[NodeOrToken::Node(new_node.clone())])
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

/// Whether the members `inner` (a set's children) begin a line of their
/// own: recovery measures a broken member by the indentation of its line,
/// so, parsed alone, a broken member's line must begin inside them.
pub(super) fn begins_a_line(inner: &[SyntaxElement]) -> bool {
    inner
        .iter()
        .take_while(|c| c.kind().is_trivia())
        .filter_map(|c| c.as_token())
        .any(|t| t.kind() == TOKEN_WHITESPACE && t.text().contains('\n'))
}

/// Whether taking `range` out of `text` leaves what follows it on its
/// last line indented as it was: recovery measures a broken member by the
/// indentation of its line (see `parser::Parser::stops_here`), and without
/// the range that line would begin where the range's first line does.
pub(super) fn line_kept_around(text: &str, range: TextRange) -> bool {
    let (start, end) = (usize::from(range.start()), usize::from(range.end()));
    let rest_of_line = text[end..].split('\n').next().unwrap_or("");
    let nothing_follows = rest_of_line.trim_start_matches([' ', '\t', '\r']);
    if nothing_follows.is_empty() || nothing_follows.starts_with('#') {
        return true;
    }
    match text[start..end].rfind('\n') {
        None => true,
        Some(nl) => {
            let first_line = text[..start].rsplit('\n').next().unwrap_or("");
            indent(&text[start + nl + 1..end]) == indent(first_line)
        }
    }
}

/// Whether a region's new text leaves what follows it on its last line as
/// it was: recovery measures a broken member by the indentation of its
/// line (see `parser::Parser::stops_here`), and that line may begin inside
/// the region.
fn same_last_line(new: &str, old: &str) -> bool {
    let last_line_indent = |text: &str| text.rfind('\n').map(|nl| indent(&text[nl + 1..]));
    last_line_indent(new) == last_line_indent(old)
}

/// How far `line` (from its start) is indented, as the parser measures it.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// Whether every member around `node` ended by taking its own `;`. A
/// member that recovery stopped ends where it stopped (every construct
/// in it sees the end of the text there), so these members meet no stop
/// after `node`, and errors inside `node` cannot silence one. Where a
/// stop falls depends on the tokens and the brackets open, not on errors,
/// so an edit inside `node` that leaves it balanced moves none.
pub(super) fn members_around_took_their_semicolons(node: &SyntaxNode) -> bool {
    node.ancestors()
        .skip(1)
        .filter(|a| is_member(a.kind()))
        .all(|m| ends_with_own_semicolon(&m))
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
        // A broken member recovers as it would alone only when nothing
        // around it is broken: an error elsewhere (a `(` left open above)
        // can put the set inside constructs whose recovery reaches into it.
        if !fragment.raw_errors().is_empty() && !old_range.contains_range(r) {
            return None;
        }
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

    /// Members big enough for the skeleton to take runs of them out.
    fn members(prefix: &str, n: usize, indent: &str) -> String {
        (0..n)
            .map(|i| format!("{indent}{prefix}{i} = {{ a = {i}; b = \"s{i}\"; c = [ {i} ]; }};\n"))
            .collect()
    }

    fn kind_of_edit(old_text: &str, at: usize, insert: &str) -> ReparseKind {
        let mut new_text = old_text.to_string();
        new_text.insert_str(at, insert);
        let old = parse(old_text);
        let (incremental, kind) = reparse_with_kind(&old, old_text, &new_text);
        let full = parse(&new_text);
        assert_eq!(incremental.debug_dump(), full.debug_dump(), "{new_text}");
        assert_eq!(incremental.errors(), full.errors(), "{new_text}");
        kind
    }

    #[test]
    fn members_after_a_half_typed_one_are_reused() {
        let text = format!(
            "{{\n  first = 1;\n{}  next = f x;\n{}}}\n",
            members("m", 30, "  "),
            members("n", 30, "  ")
        );
        let at = text.find("  next =").unwrap();
        // Each prefix of a new member, typed before `next`.
        let typed = "  w = callPackage ./w { };\n";
        let mut skeletons = 0;
        for end in 1..typed.len() {
            let kind = kind_of_edit(&text, at, &typed[..end]);
            assert!(
                !matches!(kind, ReparseKind::Full | ReparseKind::Prefix),
                "{kind:?} after typing {:?}",
                &typed[..end]
            );
            skeletons += usize::from(kind == ReparseKind::Skeleton);
        }
        assert!(skeletons > 0);
    }

    #[test]
    fn members_moved_to_an_outer_set_by_the_edit_are_reused() {
        // A `}` typed into `w = a }` ends that member and closes `inner`:
        // the rest of inner's members become members of the outer set, and
        // parse exactly as they did.
        let text = format!(
            "{{\n  first = 1;\n  inner = {{\n    x = 1;\n    y = {{ z = 2; }};\n{}  }};\n{}}}\n",
            members("m", 30, "    "),
            members("n", 30, "  ")
        );
        let at = text.find("    y = ").unwrap();
        assert_eq!(kind_of_edit(&text, at, "w = a } "), ReparseKind::Skeleton);
    }

    #[test]
    fn members_reused_deeper_stay_within_rnix_recursion_limit() {
        // After the edit, the members after `b0` sit 250 parentheses deeper,
        // where `b`'s 300 more exceed rnix's limit of 512 nested
        // expressions: a full parse stops there with an error, and so must
        // the reparse.
        let deep = format!("{}1{}", "(".repeat(300), ")".repeat(300));
        let text = format!(
            "{{\n  a = 1;\n  x = 0;\n  b0 = 0;\n  b = {deep};\n{}}}\n",
            members("m", 30, "  ")
        );
        let at = text.find("x = 0;").unwrap();
        let mut new_text = text.clone();
        new_text.replace_range(
            at..at + "x = 0;".len(),
            &format!("x = {}{{ y = 1;", "(".repeat(250)),
        );
        let old = parse(&text);
        let incremental = reparse(&old, &text, &new_text);
        let full = parse(&new_text);
        assert!(full
            .raw_errors()
            .iter()
            .any(|e| matches!(e, ParseError::RecursionLimitExceeded)));
        assert_eq!(incremental.debug_dump(), full.debug_dump());
        assert_eq!(incremental.errors(), full.errors());
    }

    #[test]
    fn an_older_complete_tree_gives_members_the_newest_lost() {
        // The first edit closes the top-level set early (a `}` typed into
        // a member: the newest tree has the rest as one error); the next
        // one makes the rest members again. The complete tree before the
        // first still has them, so they are reused from it.
        let text = format!(
            "{{\n  first = 1;\n{}  vim = f {{ inherit (d) C; }};\n{}}}\n",
            members("m", 30, "  "),
            members("n", 30, "  ")
        );
        let at = text.find("  vim").unwrap();
        let mut broken = text.clone();
        broken.insert_str(at, "  t = c }");
        let mut next = text.clone();
        next.insert_str(at, "  t = c;");
        let clean = parse(&text);
        let newest = reparse(&clean, &text, &broken);
        assert!(!newest.errors().is_empty());
        let (from_newest, kind) = reparse_from(&[(&broken, &newest)], &next);
        assert!(
            matches!(kind, ReparseKind::Prefix | ReparseKind::Full),
            "{kind:?}"
        );
        let (from_both, kind) = reparse_from(&[(&broken, &newest), (&text, &clean)], &next);
        let full = parse(&next);
        for incremental in [from_newest, from_both] {
            assert_eq!(incremental.debug_dump(), full.debug_dump());
            assert_eq!(incremental.errors(), full.errors());
        }
        assert_eq!(kind, ReparseKind::Skeleton);
    }

    /// A line break typed inside a node moves the start of the line the
    /// next member begins on: recovery in that member measures its depth by
    /// that line's indentation.
    #[test]
    fn a_line_break_in_a_node_reaches_the_member_after_it() {
        let text = "{\n  a = f (g ./xy.nix { });{b = 1;\n  c = 2;\n}\n";
        let at = text.find("y.nix").unwrap();
        check_edit_range(text, at, at, " #c\n");
        check_edit_range(text, at, at, "\n");
    }

    /// Members taken out before the edit end on the line of the broken
    /// member being edited: without them, its line would begin where
    /// their first line does, indented otherwise.
    #[test]
    fn members_taken_out_keep_the_indentation_of_the_line_after_them() {
        let text = format!(
            "{{\n    first = 1;\n{}  last = 2;le {{\n   x.y = 1;\n  }};\n  tail = 3;\n}}\n",
            members("m", 30, "  ")
        );
        let at = text.find("le {").unwrap() + 4;
        for typed in ["z ", "(", "{", "= ", "in ", "rec ", "}"] {
            check_edit_range(&text, at, at, typed);
        }
    }

    /// Errors inside a nested set decide whether the member around it
    /// reports the stop after it: the one fixed, the other must appear.
    #[test]
    fn fixing_a_nested_set_reaches_the_member_around_it() {
        let text = "{\n  o = {\n    z = 0;\n    a = ;\n    b = 1;\n  }\n  p = 2;\n}\n";
        let at = text.find("= ;").unwrap() + 2;
        check_edit_range(text, at, at, "1");
        let fixed = text.replacen("= ;", "= 1;", 1);
        check_edit_range(&fixed, at, at + 1, "");
    }

    /// Typing a member on a new line: each keystroke but the first few
    /// reparses a few members, not the file.
    #[test]
    fn a_member_typed_on_a_new_line_keeps_the_members_after_it() {
        let text = format!(
            "{{\n{}  next = 1;\n{}}}\n",
            members("m", 30, "  "),
            members("n", 30, "  ")
        );
        let at = text.find("  next =").unwrap();
        let typed = "  w = callPackage ../tools/w { };\n";
        let mut current = text.clone();
        let mut members_kind = 0;
        for (i, c) in typed.char_indices() {
            let kind = kind_of_edit(&current, at + i, &c.to_string());
            members_kind += usize::from(matches!(kind, ReparseKind::Members | ReparseKind::Token));
            current.insert(at + i, c);
        }
        assert!(
            members_kind > typed.len() / 2,
            "{members_kind} of {}",
            typed.len()
        );
    }

    #[test]
    fn edits_next_to_existing_errors() {
        let text = "{ a = ; b = 1; c = 2; }";
        check_edit_range(text, 19, 20, "3");
        check_edit_range(text, 6, 6, "x");
    }
}
