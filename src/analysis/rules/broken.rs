//! Findings on a tree with syntax errors. The model is built and every
//! rule runs, so a half-typed line does not make the findings elsewhere in
//! the file disappear and come back; what the broken text could change is
//! withheld. Broken text can hide two things:
//!
//! - a **binding**, when the error is where an enclosing scope declares its
//!   names (a `let`'s bindings, a `rec` set, a lambda's parameters, a
//!   `with`'s namespace): every finding under such a scope is withheld, as
//!   the names there may resolve differently once the text is whole;
//! - a **use**, anywhere inside a scope: findings that say something is
//!   unused, or could be rewritten because of how it is used (dead code,
//!   eta reduction, ...), are withheld when their scope contains an error.
//!
//! Findings inside the broken part itself (the binding that holds an
//! error, or the whole file when no binding does) are withheld too: rnix's
//! recovery may have read the next binding's name as an argument there.
//! Findings that depend only on their own node and on what its names
//! resolve to (`manual-inherit`, `useless-parens`, `undefined-name`, ...)
//! need only the first test. So a broken member of all-packages.nix
//! withholds nothing outside itself, while a broken line in a NixOS
//! module's one lambda withholds its unused-argument findings.

use rnix::SyntaxKind::*;
use rnix::{SyntaxKind, SyntaxNode, SyntaxToken};
use rowan::{NodeOrToken, TextRange, TextSize};

use super::memo::{self, ChunkWalk, Chunks, Keep, Memo};
use crate::diagnostic::registry::*;
use crate::diagnostic::Diagnostic;
use crate::syntax::green::{kind_of, E, N};

/// How far a finding's truth reaches.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    /// Its own node and what the names there resolve to.
    Names,
    /// The uses of names in its whole scope.
    Scope,
}

/// Rules beyond the model's own checks whose findings reach only as far
/// as [`Reach::Names`]. Every other rule is taken to reach its scope.
const NAMES_ONLY: &[&str] = &[
    MANUAL_INHERIT,
    MANUAL_INHERIT_FROM,
    USELESS_PARENS,
    BOOL_COMPARISON,
    BOOL_SIMPLIFICATION,
    USELESS_HAS_ATTR,
    EMPTY_LIST_CONCAT,
    EMPTY_INHERIT,
    UNDEFINED_NAME,
    DEPRECATED_TO_PATH,
];

/// How far `finding` reaches.
pub(super) fn reach_of(finding: &Diagnostic) -> Reach {
    if NAMES_ONLY.contains(&finding.rule) {
        Reach::Names
    } else {
        Reach::Scope
    }
}

/// `model_found` and `tree_found` without the findings that the errors
/// (their start offsets, sorted) could change. Findings that read only the
/// tree are withheld inside the broken parts; findings that read the model
/// also when the errors are within their reach.
pub(super) fn withhold(
    root: &SyntaxNode,
    errors: &[TextSize],
    model_found: Vec<Diagnostic>,
    tree_found: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    let broken = broken_parts(root, errors);
    // Its place, the places it names and what its fix would edit.
    let in_broken_part = |d: &Diagnostic| {
        let related = d.related.iter().map(|r| r.range);
        let edited = d.fix.iter().flat_map(|f| f.edits.iter().map(|e| e.range));
        std::iter::once(d.range)
            .chain(related)
            .chain(edited)
            .any(|r| broken.iter().any(|b| overlaps(*b, r)))
    };
    let mut kept: Vec<Diagnostic> = model_found
        .into_iter()
        .filter(|d| !in_broken_part(d) && !could_change(root, errors, d.range, reach_of(d)))
        .collect();
    kept.extend(tree_found.into_iter().filter(|d| !in_broken_part(d)));
    kept
}

/// Whether `range` has text in `part`, or is empty inside it.
fn overlaps(part: TextRange, range: TextRange) -> bool {
    if range.is_empty() {
        return part.contains_inclusive(range.start());
    }
    range.start() < part.end() && part.start() < range.end()
}

/// The broken parts: for each error, the innermost binding that holds it,
/// or the whole file when none does. Whatever is inside may be read other
/// than it will be: the next binding's name taken as an argument, code
/// lexed as a path or a string.
fn broken_parts(root: &SyntaxNode, errors: &[TextSize]) -> Vec<TextRange> {
    let mut whole_file = false;
    let mut bindings: Vec<SyntaxNode> = Vec::new();
    for &at in errors {
        // By binary search: rowan's `token_at_offset` scans a set's
        // children one by one (17 000 in all-packages.nix).
        let token = crate::syntax::token_at(root, at).or_else(|| root.last_token());
        if let Some(stopped) = token.as_ref().and_then(|t| stopped_before(t, at)) {
            bindings.push(stopped);
            continue;
        }
        match token.and_then(|t| t.parent_ancestors().find(is_binding)) {
            Some(binding) => bindings.push(binding),
            None => whole_file = true,
        }
    }
    // Many errors may lie in one big binding: its extent, a walk of all
    // of it, is found once.
    bindings.sort_by_key(|b| (b.text_range().start(), b.text_range().end()));
    bindings.dedup_by_key(|b| b.text_range());
    let mut parts: Vec<TextRange> = bindings.iter().map(extent).collect();
    if whole_file {
        parts.push(root.text_range());
    }
    parts.sort_by_key(|r| (r.start(), r.end()));
    parts.dedup();
    parts
}

/// Where `root`'s errors start: its error nodes, the tokens parentheses
/// took as their `)`, and `extra` (the parse's errors).
#[cfg(test)]
fn error_starts(root: &SyntaxNode, extra: impl IntoIterator<Item = TextSize>) -> Vec<TextSize> {
    let mut starts = error_nodes(root.green(), None, Keep::Nothing).0;
    starts.extend(extra);
    starts.sort();
    starts.dedup();
    starts
}

/// The error nodes of the tree and the tokens parentheses took as their
/// `)`, in one walk over the green tree (no syntax node is made for the
/// nodes passed), whose unchanged chunks of big sets are taken from
/// `previous`; also returns the chunks for the next analysis. A clean
/// tree is walked too, so that the keystroke that breaks it finds them.
pub(super) fn error_nodes(
    green: &rowan::GreenNodeData,
    previous: Option<&Memo>,
    keep: Keep,
) -> (Vec<TextSize>, Chunks<Vec<TextSize>>) {
    let mut walk = ErrorWalk {
        starts: Vec::new(),
        previous: previous.map(|p| &p.errors),
        next: Chunks::new(keep),
    };
    let root = N {
        green,
        offset: TextSize::from(0),
    };
    walk.node(&root);
    (walk.starts, walk.next)
}

struct ErrorWalk<'r> {
    starts: Vec<TextSize>,
    previous: Option<&'r Chunks<Vec<TextSize>>>,
    next: Chunks<Vec<TextSize>>,
}

impl ErrorWalk<'_> {
    fn node(&mut self, node: &N<'_>) {
        match node.kind() {
            NODE_ERROR => {
                self.starts.push(node.offset);
                return;
            }
            NODE_PAREN => {
                let last = node.children_with_tokens().last();
                if let Some(E::Token(t)) = last {
                    if kind_of(t.green.kind()) != TOKEN_R_PAREN {
                        self.starts.push(t.offset);
                    }
                }
            }
            NODE_ATTR_SET => {
                // What is around a chunk does not change its error nodes.
                let previous = self.previous;
                memo::walk_children(self, node, None, previous);
                return;
            }
            _ => {}
        }
        for child in node.children() {
            self.node(&child);
        }
    }
}

impl<'a> ChunkWalk<'a> for ErrorWalk<'_> {
    type Kept = Vec<TextSize>;
    type Mark = usize;

    fn mark(&self) -> usize {
        self.starts.len()
    }

    fn child(&mut self, child: &N<'a>) {
        self.node(child);
    }

    fn kept_since(&self, mark: usize, base: TextSize) -> Vec<TextSize> {
        self.starts[mark..].iter().map(|&at| at - base).collect()
    }

    fn replay(&mut self, kept: &Vec<TextSize>, base: TextSize) {
        self.starts.extend(kept.iter().map(|&at| at + base));
    }

    fn next_chunks(&mut self) -> &mut Chunks<Vec<TextSize>> {
        &mut self.next
    }
}

fn could_change(root: &SyntaxNode, errors: &[TextSize], range: TextRange, reach: Reach) -> bool {
    let start = match root.covering_element(range) {
        NodeOrToken::Node(node) => Some(node),
        NodeOrToken::Token(token) => token.parent(),
    };
    let mut innermost = true;
    for node in start.into_iter().flat_map(|n| n.ancestors()) {
        if !is_scope(&node) {
            continue;
        }
        if innermost && reach == Reach::Scope && any_within(errors, node.text_range()) {
            return true;
        }
        innermost = false;
        if any_within(errors, declarations(&node)) {
            return true;
        }
    }
    // A finding outside every scope (a file that is one set) is withheld
    // when it reaches its scope: that is the whole file.
    innermost && reach == Reach::Scope
}

/// Whether any error starts in `range` (its end included: an error at the
/// end of the text is empty).
fn any_within(errors: &[TextSize], range: TextRange) -> bool {
    let first = errors.partition_point(|&e| e < range.start());
    errors.get(first).is_some_and(|&e| e <= range.end())
}

/// `binding`'s range, or the rest of the file when rnix's recovery skipped
/// over structure in it: a bracket, `let`, `with` or `assert` opened in a
/// skipped run ends at a `;` that may be inside it, and what follows is
/// then read at the wrong level (a `let`'s bindings as the set's, with the
/// lambda that gave them their names left behind); a `}` or `in` skipped
/// was the end of the set or `let` around.
fn extent(binding: &SyntaxNode) -> TextRange {
    let range = binding.text_range();
    let skipped_structure = skipped(binding).any(|t| {
        matches!(
            t.kind(),
            TOKEN_L_PAREN
                | TOKEN_L_BRACK
                | TOKEN_L_BRACE
                | TOKEN_R_BRACE
                | TOKEN_INTERPOL_START
                | TOKEN_INTERPOL_END
                | TOKEN_LET
                | TOKEN_IN
                | TOKEN_WITH
                | TOKEN_ASSERT
                | TOKEN_REC
        )
    });
    if !skipped_structure {
        return range;
    }
    let root = binding.ancestors().last();
    TextRange::new(
        range.start(),
        root.map_or(range.end(), |r| r.text_range().end()),
    )
}

/// The tokens rnix's recovery read as nothing they are: those in error
/// nodes, and the token a parenthesised expression took as its `)`
/// whatever it was (rnix does so without an error).
fn skipped(node: &SyntaxNode) -> impl Iterator<Item = SyntaxToken> + '_ {
    node.descendants().flat_map(|n| {
        let tokens: Vec<SyntaxToken> = match n.kind() {
            NODE_ERROR => n
                .descendants_with_tokens()
                .filter_map(|t| t.into_token())
                .collect(),
            NODE_PAREN => taken_as_close(&n).into_iter().collect(),
            _ => Vec::new(),
        };
        tokens
    })
}

/// The token a parenthesised expression took as its `)`, when it is not.
fn taken_as_close(node: &SyntaxNode) -> Option<SyntaxToken> {
    if node.kind() != NODE_PAREN {
        return None;
    }
    node.last_token().filter(|t| t.kind() != TOKEN_R_PAREN)
}

/// The member that the parser's recovery stopped at `token`, where an
/// error at `at` lies: a member stops, broken, before a line that begins
/// the next one and before the `}` or `in` that closes its set, and the
/// error is reported at that token. When the token is the next member's
/// name or `inherit` (which cannot be wrong where a member begins), that
/// member is whole: only the one before it is broken.
fn stopped_before(token: &SyntaxToken, at: TextSize) -> Option<SyntaxNode> {
    if token.text_range().start() != at {
        return None;
    }
    let member = match token.kind() {
        TOKEN_IDENT | TOKEN_INHERIT => {
            let next = token
                .parent_ancestors()
                .find(|n| matches!(n.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT))?;
            if next.text_range().start() != at {
                return None;
            }
            next.prev_sibling()
        }
        TOKEN_R_BRACE | TOKEN_IN => {
            let set = token.parent()?;
            if !matches!(set.kind(), NODE_ATTR_SET | NODE_LET_IN) {
                return None;
            }
            // The member just before the closing token.
            let mut before = token.prev_sibling_or_token();
            while let Some(NodeOrToken::Token(t)) = &before {
                if !t.kind().is_trivia() {
                    return None;
                }
                before = t.prev_sibling_or_token();
            }
            before.and_then(|e| e.into_node())
        }
        _ => None,
    }?;
    matches!(member.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT).then_some(member)
}

fn is_binding(node: &SyntaxNode) -> bool {
    matches!(
        node.kind(),
        NODE_ATTRPATH_VALUE | NODE_INHERIT | NODE_PAT_ENTRY
    )
}

fn is_scope(node: &SyntaxNode) -> bool {
    match node.kind() {
        NODE_LET_IN | NODE_LEGACY_LET | NODE_LAMBDA | NODE_WITH => true,
        // `rec` is a set's first token (a set may have thousands of members).
        NODE_ATTR_SET => node.first_token().is_some_and(|t| t.kind() == TOKEN_REC),
        _ => false,
    }
}

/// Where a scope declares its names: up to a `let`'s `in`, a lambda's
/// parameter, a `with`'s namespace up to its `;`; all of a `rec` set or a
/// `let { }`.
fn declarations(scope: &SyntaxNode) -> TextRange {
    let whole = scope.text_range();
    let up_to = |kind: SyntaxKind| {
        scope
            .children_with_tokens()
            .find(|c| c.kind() == kind)
            .map_or(whole, |t| {
                TextRange::new(whole.start(), t.text_range().end())
            })
    };
    match scope.kind() {
        NODE_LET_IN => up_to(TOKEN_IN),
        NODE_WITH => up_to(TOKEN_SEMICOLON),
        NODE_LAMBDA => scope.first_child().map_or(whole, |p| p.text_range()),
        _ => whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn withheld(text: &str, at: &str, reach: Reach) -> bool {
        let parse = rnix::Root::parse(text);
        let root = parse.syntax();
        let errors = error_starts(
            &root,
            [TextSize::of(text)].into_iter().filter(|_| {
                parse
                    .errors()
                    .iter()
                    .any(|e| matches!(e, rnix::ParseError::UnexpectedEOF))
            }),
        );
        assert!(!errors.is_empty(), "{text} has no error");
        let start = TextSize::from(text.rfind(at).unwrap() as u32);
        let range = TextRange::at(start, TextSize::of(at));
        could_change(&root, &errors, range, reach)
    }

    #[test]
    fn a_broken_member_does_not_reach_its_siblings() {
        let text = "{ pkgs }: with pkgs; {\n  a = x: f x;\n  b = g );\n  c = (y);\n}\n";
        assert!(!withheld(text, "x: f x", Reach::Scope));
        assert!(!withheld(text, "(y)", Reach::Names));
    }

    #[test]
    fn a_use_may_hide_in_the_broken_part_of_a_scope() {
        let text = "{ pkgs, lib }:\n{\n  a = pkgs.hello;\n  b = lib.x );\n}\n";
        // `lib` unused? The error could hold its use.
        assert!(withheld(text, "lib }", Reach::Scope));
        let text = "let\n  a = 1;\n  b = 2;\nin\n  b + )\n";
        assert!(withheld(text, "a = 1", Reach::Scope));
    }

    #[test]
    fn a_binding_may_hide_in_broken_declarations() {
        // `c` may be declared by the broken binding: `undefined c` waits.
        let text = "let\n  a = 1;\n  b = ( ;\nin\n  c\n";
        assert!(withheld(text, "c", Reach::Names));
        // In the body, not the declarations: names still resolve.
        let text = "let\n  a = 1;\nin\n  [ (a) ) ]\n";
        assert!(!withheld(text, "(a)", Reach::Names));
        let text = "rec {\n  a = 1;\n  b = ) ;\n  c = (a);\n}\n";
        assert!(withheld(text, "(a)", Reach::Names));
    }

    /// The broken parts of `text` as our parser recovers it.
    fn broken_texts(text: &str) -> Vec<&str> {
        let parse = crate::syntax::parse(text);
        let root = parse.syntax().unwrap();
        let errors: Vec<TextSize> = parse.errors().iter().map(|e| e.range.start()).collect();
        assert!(!errors.is_empty(), "{text} has no error");
        broken_parts(&root, &errors)
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn a_member_stopped_short_is_broken_and_the_next_one_is_not() {
        // Stopped at the line that begins the next member.
        let text = "{\n  a = f x\n  b = 1;\n}\n";
        assert_eq!(broken_texts(text), ["a = f x"]);
        let text = "{\n  a = f x\n  inherit b;\n}\n";
        assert_eq!(broken_texts(text), ["a = f x"]);
        // Stopped at the `}` or `in` that closes the set.
        let text = "{\n  a = 1;\n  b = f x\n}\n";
        assert_eq!(broken_texts(text), ["b = f x"]);
        let text = "let\n  a = 1;\n  b = [ x\nin\n  a\n";
        assert_eq!(broken_texts(text), ["b = [ x"]);
        // An error that is the member's own stays with it.
        let text = "{\n  a = 1;\n  b = ;\n}\n";
        assert_eq!(broken_texts(text), ["b = ;"]);
    }

    #[test]
    fn a_file_without_scopes_is_one_scope() {
        let text = "{\n  a = (1);\n  b = ) ;\n}\n";
        assert!(!withheld(text, "(1)", Reach::Names));
        assert!(withheld(text, "(1)", Reach::Scope));
    }
}
