//! Parsing with guards, syntax errors with precise ranges, line index.
//!
//! **Invariant:** a [`Parse`] that holds a tree holds one at most
//! [`MAX_TREE_DEPTH`] deep, so code anywhere may walk it recursively within a
//! bounded stack. Everything here is pure: no I/O, no LSP types.

mod errors;
pub(crate) mod green;
pub mod guard;
pub mod lexer;
pub mod line_index;
pub mod literal;
mod parallel;
mod parser;
pub mod read;
mod reparse;
pub mod scan;

use std::sync::Arc;

use rnix::{SyntaxNode, TextRange, TextSize};
use rowan::GreenNode;

pub mod text_edit;

pub use guard::{MAX_NESTING, MAX_TREE_DEPTH};
pub use line_index::{LineCol, LineIndex, PositionEncoding};
#[doc(hidden)]
pub use parser::{parse_recovering, parse_recovering_and_say, parse_valid, parse_valid_with_depth};
pub use reparse::{reparse, reparse_from, reparse_with_kind, ReparseKind};
pub use text_edit::{apply_edits, TextEdit};

/// What kind of problem a [`SyntaxError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyntaxErrorKind {
    /// The text is not valid Nix.
    Syntax,
    /// The text is beyond what cim-nix analyses (nested too deeply, or too
    /// costly to read); no tree was kept.
    Limit,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SyntaxError {
    pub kind: SyntaxErrorKind,
    pub range: TextRange,
    pub message: String,
}

/// The result of parsing one text: a lossless tree (unless the text was
/// refused) and the errors found, sorted by position.
#[derive(Clone)]
pub struct Parse {
    green: Option<GreenNode>,
    /// rnix's errors as it reported them; what incremental reparsing splices.
    raw_errors: Arc<[rnix::ParseError]>,
    /// The errors to show, derived from the tree and `raw_errors`.
    errors: Arc<[SyntaxError]>,
}

impl Parse {
    /// The syntax tree, or `None` when the text nests too deep to analyse.
    pub fn syntax(&self) -> Option<SyntaxNode> {
        self.green.clone().map(SyntaxNode::new_root)
    }

    pub fn green(&self) -> Option<&GreenNode> {
        self.green.as_ref()
    }

    pub fn errors(&self) -> &[SyntaxError] {
        &self.errors
    }

    /// The tree in rowan's debug format (`NODE_ROOT@0..5` ...), as rnix's own
    /// test data shows it; a note instead when no tree was kept.
    pub fn debug_dump(&self) -> String {
        match self.syntax() {
            Some(root) => format!("{root:#?}"),
            None => {
                let reason = self
                    .errors
                    .iter()
                    .find(|e| e.kind == SyntaxErrorKind::Limit);
                let reason = reason.map_or("", |e| e.message.as_str());
                format!("no syntax tree: {reason}\n")
            }
        }
    }

    /// False when some error depends on the whole file (an unexpected end
    /// of file, rnix's recursion limit), or no tree was kept: such parses
    /// are not reused by incremental reparsing.
    pub fn errors_are_local(&self) -> bool {
        self.green.is_some()
            && self.raw_errors.iter().all(|e| {
                !matches!(
                    e,
                    rnix::ParseError::UnexpectedEOF
                        | rnix::ParseError::UnexpectedEOFWanted(_)
                        | rnix::ParseError::RecursionLimitExceeded
                )
            })
    }

    #[doc(hidden)]
    pub fn raw_errors_for_debug(&self) -> &[rnix::ParseError] {
        &self.raw_errors
    }

    pub(crate) fn raw_errors(&self) -> &[rnix::ParseError] {
        &self.raw_errors
    }
}

/// Parses `text` as a Nix file. Never panics or overflows the stack on any
/// input; see [`guard`] for how. Big files are parsed on two threads.
pub fn parse(text: &str) -> Parse {
    parse_before(text, TextSize::of(text))
}

/// [`parse`], told that the text before `unchanged_before` parses as it did
/// before an edit, which bounds where the file may be cut for parallel
/// parsing.
pub(crate) fn parse_before(text: &str, unchanged_before: TextSize) -> Parse {
    if text.len() < parallel::PARALLEL_MIN || !parallel::two_cores() {
        return parse_sequential(text);
    }
    if unchanged_before == TextSize::of(text) {
        match parallel::try_parse_whole(text, false) {
            parallel::Whole::Parsed(parse) => return parse,
            // Errors that reach across the split: one thread parses.
            parallel::Whole::Broken => return parse_sequential(text),
            parallel::Whole::Unproven => {}
        }
    }
    // The nesting estimate also finds where the file may be cut.
    let member_ends = match guard::check_nesting_and_members(text) {
        Ok(ends) => ends,
        Err(deep) => return too_deep(text, deep.offset, deep.len),
    };
    if let Some(parse) = parallel::try_parse(text, &member_ends, unchanged_before.into(), false) {
        return parse;
    }
    parse_ours(text).unwrap_or_else(|| parse_rnix(text))
}

/// The two-thread parse alone: `None` when it could not prove its result
/// (for tests and benchmarks).
#[doc(hidden)]
pub fn parse_parallel(text: &str) -> Option<Parse> {
    let member_ends = guard::check_nesting_and_members(text).ok()?;
    parallel::try_parse(text, &member_ends, text.len(), true)
}

/// Where the two-thread parses would cut `text`: the `;` before the run the
/// helper parses and the `;` that ends it, as guessed from the lines and
/// as chosen from the nesting estimate (for tests that edit right there).
#[doc(hidden)]
pub fn parallel_runs(text: &str) -> [Option<(usize, usize)>; 2] {
    let estimated = guard::check_nesting_and_members(text)
        .ok()
        .and_then(|ends| parallel::choose_run(text, &ends, text.len()));
    [parallel::guess_run(text), estimated]
}

/// The two-thread parse of a file parsed whole, whose run is guessed from
/// its lines: `None` when it could not prove its result (for tests).
#[doc(hidden)]
pub fn parse_parallel_guessed(text: &str) -> Option<Parse> {
    match parallel::try_parse_whole(text, true) {
        parallel::Whole::Parsed(parse) => Some(parse),
        _ => None,
    }
}

/// A parse on one thread. Our parser bounds its own recursion, so it needs
/// no nesting estimate first (a tenth of the time of a small file's
/// parse); only rnix's parser, for what nests deeper than ours goes, does.
pub fn parse_sequential(text: &str) -> Parse {
    parse_ours(text).unwrap_or_else(|| match guard::check_nesting(text) {
        Ok(()) => parse_rnix(text),
        Err(deep) => too_deep(text, deep.offset, deep.len),
    })
}

/// Our parser's parse, errors and recovery included (rnix's, token for
/// token); it knows the depth of its tree from building it. A refusal when
/// that is deeper than the rest of cim-nix may walk (a long chain of
/// operators or arguments); `None` when it gave up on deep nesting.
fn parse_ours(text: &str) -> Option<Parse> {
    let (green, depth, errors) = guard::with_parse_stack(|| parser::parse_recovering(text))?;
    if depth > MAX_TREE_DEPTH {
        return Some(too_deep_tree(text, green));
    }
    Some(with_tree(green, errors))
}

/// rnix's parse, of text that passed the nesting guard; refused when its
/// tree is too deep.
fn parse_rnix(text: &str) -> Parse {
    let (green, raw_errors) = match guard::with_parse_stack(|| parser::parse_rnix(text)) {
        Ok(parsed) => parsed,
        Err(costly) => {
            let message = format!(
                "not analysed: this file has a syntax error, and the parser that reads files \
                 with errors would take too long on this run of {} characters (it measures the \
                 run again at every `.`); fix the error, or break the run up",
                u32::from(costly.len)
            );
            return refused(text, costly.offset, costly.len, message);
        }
    };
    if guard::tree_depth(&green, MAX_TREE_DEPTH) > MAX_TREE_DEPTH {
        return too_deep_tree(text, green);
    }
    with_tree(green, raw_errors)
}

/// The refusal of a tree deeper than [`MAX_TREE_DEPTH`], at its deepest
/// point; the tree is taken apart without recursion.
fn too_deep_tree(text: &str, green: GreenNode) -> Parse {
    let at = deepest_point(&green);
    guard::dismantle(green);
    too_deep(text, at.start(), at.len())
}

/// A parse of a tree known to be within the depth bound.
fn with_tree(green: GreenNode, raw_errors: Vec<rnix::ParseError>) -> Parse {
    let root = SyntaxNode::new_root(green.clone());
    let errors = errors::convert(&root, &raw_errors);
    drop(root);
    Parse {
        green: Some(green),
        raw_errors: raw_errors.into(),
        errors: errors.into(),
    }
}

/// The refusal of text nested deeper than cim-nix analyses.
fn too_deep(text: &str, offset: TextSize, len: TextSize) -> Parse {
    let message = format!(
        "expression nested too deeply: cim-nix analyses at most {MAX_TREE_DEPTH} levels \
         ({MAX_NESTING} chained operators, arguments or brackets), so this file is not \
         analysed; split the expression up"
    );
    refused(text, offset, len, message)
}

fn refused(text: &str, offset: TextSize, len: TextSize, message: String) -> Parse {
    let range = TextRange::at(offset, len).intersect(TextRange::up_to(TextSize::of(text)));
    let range = range.unwrap_or_else(|| TextRange::empty(TextSize::of(text)));
    let error = SyntaxError {
        kind: SyntaxErrorKind::Limit,
        range,
        message,
    };
    Parse {
        green: None,
        raw_errors: Arc::new([]),
        errors: Arc::new([error]),
    }
}

/// The token that contains the byte at `offset`, found by binary search at
/// every level (rowan's `token_at_offset` scans children linearly, which is
/// slow in a set with thousands of members).
pub(crate) fn token_at(root: &SyntaxNode, offset: TextSize) -> Option<rnix::SyntaxToken> {
    if offset >= root.text_range().end() {
        return None;
    }
    match root.covering_element(TextRange::at(offset, 1.into())) {
        rowan::NodeOrToken::Token(t) => Some(t),
        // A multi-byte character's first byte: its token covers more.
        rowan::NodeOrToken::Node(n) => n.first_token(),
    }
}

/// The first token of the first node deeper than [`MAX_TREE_DEPTH`].
fn deepest_point(green: &GreenNode) -> TextRange {
    use rowan::{NodeOrToken, WalkEvent};
    let root = SyntaxNode::new_root(green.clone());
    let mut depth = 0u32;
    for event in root.preorder() {
        match event {
            WalkEvent::Enter(node) => {
                depth += 1;
                if depth > MAX_TREE_DEPTH {
                    // Point at the token the node starts its own level with
                    // (an operator or bracket), not at the whole chain.
                    let own = node.children_with_tokens().find_map(|c| match c {
                        NodeOrToken::Token(t) if !t.kind().is_trivia() => Some(t.text_range()),
                        _ => None,
                    });
                    return own.unwrap_or_else(|| {
                        node.first_token()
                            .map_or(node.text_range(), |t| t.text_range())
                    });
                }
            }
            WalkEvent::Leave(_) => depth -= 1,
        }
    }
    TextRange::empty(0.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_file_has_tree_and_no_errors() {
        let parse = parse("{ a = 1; }");
        assert!(parse.errors().is_empty());
        assert_eq!(parse.syntax().unwrap().to_string(), "{ a = 1; }");
    }

    #[test]
    fn left_chain_past_the_limit_is_refused_with_a_located_error() {
        // Stays under the token estimate (no separators needed: each `(`
        // opens a level) but builds a deep tree.
        let text = format!("{}1{}", "(a + ".repeat(600), ")".repeat(600));
        let p = parse(&text);
        // rnix itself stops at 512 nested expressions: a syntax error, and a tree.
        assert!(p.syntax().is_some());
        assert!(p.errors().iter().any(|e| e.message.contains("512")));

        let long = "1 + ".repeat(200_000) + "1";
        let p = parse(&long);
        assert!(p.syntax().is_none());
        assert_eq!(p.errors().len(), 1);
        assert_eq!(p.errors()[0].kind, SyntaxErrorKind::Limit);
        assert!(p
            .debug_dump()
            .starts_with("no syntax tree: expression nested too deeply"));
    }

    /// Our parser runs before any nesting estimate, so it must stop on
    /// hostile nesting by itself, in every way it recurses, and leave the
    /// text to the guard and rnix. `parse_valid` runs on the test's own
    /// small stack here.
    #[test]
    fn our_parser_gives_up_on_deep_nesting_of_every_kind() {
        let n = 100_000;
        for (what, text) in [
            ("lists", format!("{}1{}", "[".repeat(n), "]".repeat(n))),
            ("parens", format!("{}1{}", "(".repeat(n), ")".repeat(n))),
            ("not", format!("{}true", "!".repeat(n))),
            ("minus", format!("{}1", "-".repeat(n))),
            ("concat", "[] ++ ".repeat(n) + "[]"),
            ("update", "{} // ".repeat(n) + "{}"),
            ("or", "a.b or ".repeat(n) + "c"),
            ("lambdas", "x: ".repeat(n) + "x"),
            ("strings", "\"${".repeat(n) + "1" + &"}\"".repeat(n)),
        ] {
            assert!(parser::parse_valid(&text).is_none(), "{what}");
            // Refused by the guard, or past rnix's own limit of 512.
            let p = parse(&text);
            assert!(!p.errors().is_empty(), "{what}");
        }
    }

    /// A chain of 5 000 operators or arguments is wide, not nested: its
    /// tree (5 000 levels) is within what cim-nix walks, so it is analysed.
    #[test]
    fn a_long_chain_within_the_depth_bound_has_a_tree() {
        for text in [
            "1 + ".repeat(5_000) + "1",
            "f".to_string() + &" x".repeat(5_000),
        ] {
            let p = parse(&text);
            assert!(p.errors().is_empty(), "{:?}", p.errors());
            assert_eq!(p.syntax().unwrap().to_string(), text);
        }
    }

    #[test]
    fn dump_matches_rnix_format() {
        let dump = parse("a").debug_dump();
        assert_eq!(
            dump,
            "NODE_ROOT@0..1\n  NODE_IDENT@0..1\n    TOKEN_IDENT@0..1 \"a\"\n"
        );
    }
}
