//! cim-nix's own parser, for text without syntax errors.
//!
//! rnix's parser spends most of its time outside the grammar: it peeks
//! through a queue of tokens, and its tree builder hashes every node of up
//! to three children to share identical ones. On all-packages.nix it takes
//! about 40 ms, of which tokenizing is 5. This parser takes rnix's tokens
//! (from [`lexer`](super::lexer), which gives them faster), walks them by
//! index, and builds the green tree directly, sharing only
//! tokens; it makes the same tree as rnix, in about half the time.
//!
//! It runs in two modes. [`parse_valid`] gives up (`None`) at the first
//! token that does not fit the grammar: the reparse proofs and the parallel
//! halves need only to know that a piece is valid, and learn it cheaply.
//! [`parse_recovering`] recovers from errors as rnix's parser does (the same
//! error nodes, the same errors in the same order), with one difference:
//! inside a member of a set or `let`, it stops a broken member before a line
//! that begins the next member (`name =`, `inherit`) and before the `}` or
//! `in` that closes the set, where rnix's runs on into the next members and
//! often closes the set early (`Parser::stops_here`). So while someone types
//! a member, the members after it keep their nodes, their findings and
//! their reuse by the incremental reparse. Valid text never meets a stop:
//! its tree is rnix's. `tests/parser_equivalence.rs` checks both modes
//! against rnix on every corpus and on thousands of randomly broken
//! variants of real files (identical wherever no stop was made), and
//! `tests/parser_recovery.rs` that the other members keep their nodes.
//!
//! The tree has rnix's shape: the same node kinds, nested the same way
//! (operator precedence and associativity, the `or` quirks, patterns told
//! from sets by two tokens of lookahead), and trivia (whitespace and
//! comments) in the same place: a node starts at its first token and ends at
//! its last, so trivia between two tokens belongs to the innermost node that
//! is open across both. Recursion is bounded: 512 levels, counting nested
//! expressions as rnix does and also the lists, `or` defaults and operators
//! that nest without one (`Parser::nested`). So unlike rnix's parser it
//! needs no nesting estimate first: on deeper input it gives up.

use rnix::ParseError;
use rnix::SyntaxKind::{self, *};
use rowan::{GreenNode, GreenToken, NodeOrToken, TextRange, TextSize};
use rustc_hash::FxHashMap;

/// Expressions nested deeper than this are an error for rnix
/// (`RecursionLimitExceeded`); giving up here leaves the error to it.
const MAX_EXPR_DEPTH: u32 = 512;

/// What rnix says it wanted where an expression could not start.
pub(super) const EXPRESSION_START: [SyntaxKind; 6] = [
    TOKEN_L_PAREN,
    TOKEN_REC,
    TOKEN_L_BRACE,
    TOKEN_L_BRACK,
    TOKEN_STRING_START,
    TOKEN_IDENT,
];

/// Tokens longer than this are not shared: long strings and comments rarely
/// repeat, and hashing them costs more than it saves.
const SHARE_MAX_LEN: usize = 48;

/// Indents (a newline and spaces) up to this width have a slot of their own.
const INDENTS: usize = 64;

/// rnix's tree and errors, unless its tokenizer would take too long on the
/// text (see `guard::check_path_runs`). Needs the stack of
/// `guard::with_parse_stack`, and text that passed the nesting guard.
pub(crate) fn parse_rnix(
    text: &str,
) -> Result<(GreenNode, Vec<rnix::ParseError>), super::guard::TooCostly> {
    super::guard::check_path_runs(text)?;
    let parse = rnix::Root::parse(text);
    Ok((parse.syntax().green().to_owned(), parse.errors().to_vec()))
}

/// The green tree rnix builds for `text`, when `text` has no syntax errors;
/// `None` otherwise (and for input nested deeper than rnix accepts).
pub fn parse_valid(text: &str) -> Option<GreenNode> {
    parse_valid_with_depth(text).map(|(green, _)| green)
}

/// [`parse_valid`], with the depth of the tree (the root counting as 1),
/// known from building it: no walk of the tree to measure it.
#[doc(hidden)]
pub fn parse_valid_with_depth(text: &str) -> Option<(GreenNode, u32)> {
    let (green, depth, _) = parse_root(text, false, &mut false)?;
    Some((green, depth))
}

/// rnix's tree and errors for any `text`, with the tree's depth; `None`
/// only for input nested deeper than the parser recurses (which rnix,
/// behind the nesting guard, then decides) or too long for 32-bit offsets.
#[doc(hidden)]
pub fn parse_recovering(text: &str) -> Option<(GreenNode, u32, Vec<rnix::ParseError>)> {
    parse_recovering_and_say(text).map(|(green, depth, errors, _)| (green, depth, errors))
}

/// [`parse_recovering`], and whether our recovery stopped a broken member
/// where rnix's would have run on (see `Parser::stops_here`): when it did
/// not, the tree and the errors are rnix's.
#[doc(hidden)]
pub fn parse_recovering_and_say(
    text: &str,
) -> Option<(GreenNode, u32, Vec<rnix::ParseError>, bool)> {
    let mut stopped = false;
    let (green, depth, errors) = parse_root(text, true, &mut stopped)?;
    Some((green, depth, errors, stopped))
}

fn parse_root(
    text: &str,
    recover: bool,
    stopped: &mut bool,
) -> Option<(GreenNode, u32, Vec<rnix::ParseError>)> {
    let tokens = tokens(text)?;
    let mut parser = Parser::new(tokens, recover);
    parser.builder.start(NODE_ROOT);
    parser.expr()?;
    parser.flush_trivia();
    if parser.peek().is_some() {
        if !recover {
            return None;
        }
        let start = parser.start_error();
        while parser.peek().is_some() {
            parser.bump()?;
        }
        let range = parser.finish_error(start);
        parser.errors.push(ParseError::UnexpectedExtra(range));
        parser.flush_trivia();
    }
    parser.builder.finish();
    *stopped = parser.stopped;
    let errors = std::mem::take(&mut parser.errors);
    let (green, depth) = parser.builder.into_root()?;
    Some((green, depth, errors))
}

type Element = NodeOrToken<GreenNode, GreenToken>;

fn raw(kind: SyntaxKind) -> rowan::SyntaxKind {
    rowan::SyntaxKind(kind as u16)
}

/// Builds green nodes bottom-up: children collect on one stack, and a
/// finished node takes its children off it. Identical short tokens are one
/// shared allocation, as in rowan's builder.
struct Builder<'t> {
    children: Vec<Element>,
    /// The height of each of `children`: 0 for a token, 1 for a node of
    /// tokens, and so on.
    heights: Vec<u32>,
    /// Each open node: its kind and where its children start.
    open: Vec<(SyntaxKind, usize)>,
    /// The first token made of each kind: for punctuation and keywords,
    /// whose text is always the same, the only one.
    last_of_kind: Vec<Option<GreenToken>>,
    /// Whitespace that is a newline and an indent of `i` spaces.
    indents: Vec<Option<GreenToken>>,
    tokens: FxHashMap<(SyntaxKind, &'t str), GreenToken>,
    /// Nodes of one token, by kind and token (which the map above shares;
    /// the tokens are alive as long as the builder, so their addresses
    /// are unique keys).
    leaves: FxHashMap<(SyntaxKind, usize), GreenNode>,
}

impl<'t> Builder<'t> {
    fn start(&mut self, kind: SyntaxKind) {
        self.open.push((kind, self.children.len()));
    }

    /// A node whose first child is the element made at `checkpoint`.
    fn start_at(&mut self, checkpoint: usize, kind: SyntaxKind) {
        self.open.push((kind, checkpoint));
    }

    fn checkpoint(&self) -> usize {
        self.children.len()
    }

    fn finish(&mut self) {
        let Some((kind, first)) = self.open.pop() else {
            return;
        };
        // A name or literal: one shared token, so the node can be shared
        // too (a third of all nodes, and 1.5 MB of all-packages.nix).
        if first + 1 == self.children.len() && matches!(kind, NODE_IDENT | NODE_LITERAL) {
            if let Some(NodeOrToken::Token(token)) = self.children.last() {
                let key = (kind, &**token as *const rowan::GreenTokenData as usize);
                let node = match self.leaves.get(&key) {
                    Some(node) => node.clone(),
                    None => {
                        let node = GreenNode::new(raw(kind), [NodeOrToken::Token(token.clone())]);
                        self.leaves.insert(key, node.clone());
                        node
                    }
                };
                self.children.pop();
                self.children.push(NodeOrToken::Node(node));
                self.heights.pop();
                self.heights.push(1);
                return;
            }
        }
        let node = GreenNode::new(raw(kind), self.children.drain(first..));
        self.children.push(NodeOrToken::Node(node));
        let height = 1 + self.heights.drain(first..).max().unwrap_or(0);
        self.heights.push(height);
    }

    fn token(&mut self, kind: SyntaxKind, text: &'t str) {
        let token = self.shared_token(kind, text);
        self.children.push(NodeOrToken::Token(token));
        self.heights.push(0);
    }

    /// The token `kind`/`text`, shared with the identical ones before it.
    /// Cheapest ways first: most tokens are punctuation, keywords and
    /// indentation, which need no hashing.
    fn shared_token(&mut self, kind: SyntaxKind, text: &'t str) -> GreenToken {
        let slot = &mut self.last_of_kind[kind as usize];
        if let Some(token) = slot {
            if token.text() == text {
                return token.clone();
            }
        }
        if kind == TOKEN_WHITESPACE {
            if let Some(indent) = text.strip_prefix('\n') {
                let width = indent.len();
                if width < INDENTS && indent.bytes().all(|b| b == b' ') {
                    return self.indents[width]
                        .get_or_insert_with(|| GreenToken::new(raw(kind), text))
                        .clone();
                }
            }
        }
        let token = if text.len() <= SHARE_MAX_LEN {
            self.tokens
                .entry((kind, text))
                .or_insert_with(|| GreenToken::new(raw(kind), text))
                .clone()
        } else {
            GreenToken::new(raw(kind), text)
        };
        // Only a kind's first token takes its slot: updating the slot at
        // every miss would cost two atomic reference counts per token.
        let slot = &mut self.last_of_kind[kind as usize];
        if slot.is_none() {
            *slot = Some(token.clone());
        }
        token
    }

    fn into_root(mut self) -> Option<(GreenNode, u32)> {
        match (self.children.pop(), self.children.is_empty()) {
            (Some(NodeOrToken::Node(root)), true) if self.open.is_empty() => {
                Some((root, self.heights.pop()?))
            }
            _ => None,
        }
    }
}

/// The tokens of a text, read from the tokenizer as the parser gets to
/// them (text with an error early on costs little: the caller parses it
/// again with rnix), and kept compactly: 6 bytes a token, where a slice
/// per token would take 24 (4 MB for all-packages.nix, at the peak of
/// memory). rnix's `TOKEN_ERROR` is a kind no rule of the grammar takes.
struct Tokens<'t, I> {
    text: &'t str,
    source: I,
    kinds: Vec<SyntaxKind>,
    /// Where each token read starts.
    starts: Vec<u32>,
    /// Where the last token read ends.
    end: usize,
}

/// The tokens of `text`, to be read; `None` for text too long for 32-bit
/// offsets.
fn tokens(text: &str) -> Option<Tokens<'_, impl Iterator<Item = rnix::Token<'_>>>> {
    u32::try_from(text.len()).ok()?;
    // Reserved, not touched: pages are only mapped as tokens are read.
    let estimate = text.len() / 4;
    Some(Tokens {
        text,
        source: super::lexer::tokenize(text),
        kinds: Vec::with_capacity(estimate),
        starts: Vec::with_capacity(estimate),
        end: 0,
    })
}

impl<'t, I: Iterator<Item = rnix::Token<'t>>> Tokens<'t, I> {
    fn kind(&mut self, i: usize) -> Option<SyntaxKind> {
        while self.kinds.len() <= i {
            let (kind, piece) = self.source.next()?;
            self.kinds.push(kind);
            self.starts.push(self.end as u32);
            self.end += piece.len();
        }
        Some(self.kinds[i])
    }

    /// The text of token `i`, which must have been read.
    fn text(&self, i: usize) -> &'t str {
        let end = self.starts.get(i + 1).map_or(self.end, |&e| e as usize);
        &self.text[self.starts[i] as usize..end]
    }
}

struct Parser<'t, I> {
    tokens: Tokens<'t, I>,
    /// The first token not yet in the tree.
    emitted: usize,
    /// The next token that is not trivia (past the last one at the end).
    next: usize,
    builder: Builder<'t>,
    depth: u32,
    /// Whether to recover from errors, or give up at the first.
    recover: bool,
    errors: Vec<ParseError>,
    /// The sets, `let`s and function patterns open around the next token,
    /// innermost last: for a set or `let`, the first token of the member
    /// being read and how many errors there were before it (see
    /// [`stops_here`](Self::stops_here)).
    brackets: Vec<Bracket>,
    /// Where the last stop was reported: one error for each.
    stop_reported: Option<usize>,
    /// Whether a broken member was stopped.
    stopped: bool,
    /// Whether the key of a member is being read.
    in_key: bool,
    /// Whether the next token could stop a broken member.
    may_stop: bool,
}

/// What is open around the parser's place, for recovery (see
/// `Parser::stops_here`).
enum Bracket {
    /// A set or `let`: the first token of the member being read, and how
    /// many errors there were before it.
    Members { first: usize, errors: usize },
    /// A function pattern's braces.
    Pattern,
    /// Brackets (or a `let`) that recovery skips over.
    Skipped,
}

enum Assoc {
    Left,
    Right,
    /// At most one operator: `a < b < c` is an error.
    None,
}

/// One level of operator precedence, loosest first.
enum Level {
    Binary(&'static [SyntaxKind], Assoc),
    /// Prefix `!`, which binds looser than arithmetic: `!a + b` is `!(a + b)`.
    Not,
}

const LEVELS: &[Level] = &[
    Level::Binary(&[TOKEN_PIPE_LEFT], Assoc::Right),
    Level::Binary(&[TOKEN_PIPE_RIGHT], Assoc::Left),
    Level::Binary(&[TOKEN_IMPLICATION], Assoc::Right),
    Level::Binary(&[TOKEN_OR_OR], Assoc::Left),
    Level::Binary(&[TOKEN_AND_AND], Assoc::Left),
    Level::Binary(&[TOKEN_EQUAL, TOKEN_NOT_EQUAL], Assoc::None),
    Level::Binary(
        &[TOKEN_LESS, TOKEN_LESS_OR_EQ, TOKEN_MORE, TOKEN_MORE_OR_EQ],
        Assoc::None,
    ),
    Level::Binary(&[TOKEN_UPDATE], Assoc::Right),
    Level::Not,
    Level::Binary(&[TOKEN_ADD, TOKEN_SUB], Assoc::Left),
    Level::Binary(&[TOKEN_MUL, TOKEN_DIV], Assoc::Left),
    Level::Binary(&[TOKEN_CONCAT], Assoc::Right),
];

fn is_trivia(kind: SyntaxKind) -> bool {
    matches!(kind, TOKEN_WHITESPACE | TOKEN_COMMENT)
}

fn is_path(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        TOKEN_PATH_ABS | TOKEN_PATH_REL | TOKEN_PATH_HOME | TOKEN_PATH_SEARCH
    )
}

impl<'t, I: Iterator<Item = rnix::Token<'t>>> Parser<'t, I> {
    fn new(tokens: Tokens<'t, I>, recover: bool) -> Parser<'t, I> {
        let estimate = tokens.text.len() / 40;
        let mut parser = Parser {
            tokens,
            emitted: 0,
            next: 0,
            builder: Builder {
                children: Vec::with_capacity(64),
                heights: Vec::with_capacity(64),
                open: Vec::with_capacity(64),
                last_of_kind: vec![None; NODE_WITH as usize + 1],
                indents: vec![None; INDENTS],
                // Distinct tokens are a few in ten.
                tokens: FxHashMap::with_capacity_and_hasher(estimate, Default::default()),
                leaves: FxHashMap::default(),
            },
            depth: 0,
            recover,
            errors: Vec::new(),
            brackets: Vec::new(),
            stop_reported: None,
            stopped: false,
            in_key: false,
            may_stop: false,
        };
        parser.next = parser.skip_trivia(0);
        parser.may_stop = parser.next_may_stop();
        parser
    }

    fn skip_trivia(&mut self, mut at: usize) -> usize {
        while self.tokens.kind(at).is_some_and(is_trivia) {
            at += 1;
        }
        at
    }

    /// The kind of the next token; `None` at the end of the text, and
    /// where a broken member stops (see [`stops_here`](Self::stops_here)).
    #[inline]
    fn peek(&mut self) -> Option<SyntaxKind> {
        let kind = self.tokens.kind(self.next)?;
        if self.may_stop && self.stops_here(kind) {
            self.stopped = true;
            return None;
        }
        Some(kind)
    }

    /// Recovery that keeps the members after a broken one, where rnix's
    /// runs on into them (a half-typed `my-tool = c` above `vim = ...;`
    /// would take `vim` as an argument, skip to the next `;` inside the
    /// braces after it, and close the set at their `}`). Inside a member of
    /// a set or `let`, the reading of the member stops, as at the end of
    /// the text, before
    ///
    /// - a line that begins the next member: `name =`, `a.b =`, `inherit`
    ///   (inside a function pattern or brackets that recovery skips, only
    ///   one indented no deeper than the broken member's line);
    /// - a `}` or `in` right inside the set or `let` (not inside a
    ///   function pattern in it), which closes it.
    ///
    /// Valid text never meets either inside a member (a member starts only
    /// where the last one ended, and the set's `}` or the `let`'s `in`
    /// follows a member's `;`), so its tree is rnix's. The member's own
    /// first token never stops it: the set's reading always moves on.
    #[inline(never)]
    fn stops_here(&mut self, kind: SyntaxKind) -> bool {
        let Some(first) = self.member_first() else {
            return false;
        };
        if self.next == first {
            return false;
        }
        let starts_member = |p: &mut Self| match kind {
            TOKEN_INHERIT => p.at_line_start(),
            // In a member's key, `a.` and `b = 1;` on the next line is one
            // key; elsewhere, `f.` there is a selection cut short.
            TOKEN_IDENT => p.at_line_start() && !(p.in_key && p.after_dot()) && p.binding_ahead(),
            _ => false,
        };
        match self.brackets.last() {
            Some(Bracket::Members { .. }) => {
                matches!(kind, TOKEN_R_BRACE | TOKEN_IN) || starts_member(self)
            }
            // In a function pattern, whose entries are never `name =`, and
            // in brackets that recovery skips over (see `expect_any`), only
            // a member that begins a line no deeper than the broken one: a
            // deeper one is inside the braces (`res@ .x {` read as a
            // pattern), whose `}` would otherwise close the set.
            Some(Bracket::Pattern | Bracket::Skipped) => {
                starts_member(self) && self.indent(self.next) <= self.indent(first)
            }
            None => false,
        }
    }

    /// The first token of the member being read in the innermost set or
    /// `let`.
    fn member_first(&self) -> Option<usize> {
        self.brackets.iter().rev().find_map(|b| match b {
            Bracket::Members { first, .. } => Some(*first),
            _ => None,
        })
    }

    /// How far the line of token `i` is indented.
    fn indent(&self, i: usize) -> usize {
        let at = self.tokens.starts[i] as usize;
        let line = self.tokens.text[..at].rfind('\n').map_or(0, |nl| nl + 1);
        self.tokens.text[line..at]
            .bytes()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count()
    }

    /// Whether the next token could stop a broken member (see
    /// [`stops_here`](Self::stops_here)); found once for each token, as
    /// `peek` asks many times.
    fn next_may_stop(&mut self) -> bool {
        self.recover
            && match self.tokens.kind(self.next) {
                Some(TOKEN_R_BRACE | TOKEN_IN) => true,
                Some(TOKEN_IDENT | TOKEN_INHERIT) => self.at_line_start(),
                _ => false,
            }
    }

    /// Whether the next token is the first on its line.
    fn at_line_start(&mut self) -> bool {
        let Some(before) = self.next.checked_sub(1) else {
            return true;
        };
        self.tokens.kinds.get(before) == Some(&TOKEN_WHITESPACE)
            && self.tokens.text(before).contains('\n')
    }

    /// Whether the token before the next one (trivia aside) is a `.`.
    fn after_dot(&self) -> bool {
        self.tokens.kinds[..self.next]
            .iter()
            .rev()
            .find(|&&k| !is_trivia(k))
            .is_some_and(|&k| k == TOKEN_DOT)
    }

    /// Whether `name =` or `a.b.c =` is ahead.
    fn binding_ahead(&mut self) -> bool {
        let mut at = self.next;
        while self.tokens.kind(at) == Some(TOKEN_IDENT) {
            at = self.skip_trivia(at + 1);
            match self.tokens.kind(at) {
                Some(TOKEN_ASSIGN) => return true,
                Some(TOKEN_DOT) => at = self.skip_trivia(at + 1),
                _ => return false,
            }
        }
        false
    }

    /// The kind of the `n`th token after the next one, trivia skipped.
    fn peek_ahead(&mut self, n: usize) -> Option<SyntaxKind> {
        let mut at = self.next;
        for _ in 0..n {
            at = self.skip_trivia(at + 1);
        }
        self.tokens.kind(at)
    }

    fn at(&mut self, kind: SyntaxKind) -> bool {
        self.peek() == Some(kind)
    }

    /// Puts the trivia before the next token into the node open now.
    fn flush_trivia(&mut self) {
        while self.emitted < self.next {
            let (kind, text) = (
                self.tokens.kinds[self.emitted],
                self.tokens.text(self.emitted),
            );
            self.builder.token(kind, text);
            self.emitted += 1;
        }
    }

    fn start(&mut self, kind: SyntaxKind) {
        self.flush_trivia();
        self.builder.start(kind);
    }

    fn checkpoint(&mut self) -> usize {
        self.flush_trivia();
        self.builder.checkpoint()
    }

    /// Adds the next token to the tree, as `kind`.
    fn bump_as(&mut self, kind: SyntaxKind) -> Option<()> {
        self.tokens.kind(self.next)?;
        let text = self.tokens.text(self.next);
        self.flush_trivia();
        self.builder.token(kind, text);
        self.emitted = self.next + 1;
        self.next = self.skip_trivia(self.emitted);
        self.may_stop = self.next_may_stop();
        Some(())
    }

    /// Adds the next token to the tree; at the end of the text, an error.
    fn bump(&mut self) -> Option<()> {
        match self.peek() {
            Some(kind) => self.bump_as(kind),
            None => self.error(ParseError::UnexpectedEOF),
        }
    }

    /// The next token as the `close` of a list or parentheses (rnix takes
    /// whatever comes, without an error); at a stop, the error says what
    /// was wanted.
    fn close(&mut self, close: SyntaxKind) -> Option<()> {
        match (self.peek(), self.tokens.kind(self.next)) {
            (None, Some(kind)) => {
                let error = self.stop_error(kind, [close].into());
                self.errors.extend(error);
                Some(())
            }
            _ => self.bump(),
        }
    }

    /// Records `error` and goes on, or gives up when not recovering. An
    /// end of the text that is a stop (see [`stops_here`](Self::stops_here))
    /// is reported as the token it stopped at, once.
    fn error(&mut self, error: ParseError) -> Option<()> {
        if !self.recover {
            return None;
        }
        let error = match (error, self.tokens.kind(self.next)) {
            (ParseError::UnexpectedEOF, Some(kind)) => {
                self.stop_error(kind, EXPRESSION_START.into())
            }
            (ParseError::UnexpectedEOFWanted(wanted), Some(kind)) => self.stop_error(kind, wanted),
            (error, _) => Some(error),
        };
        self.errors.extend(error);
        Some(())
    }

    /// The error for a stop at the next token (of `kind`), unless it is
    /// reported, or the member it ends has an error already (which the
    /// stop follows from).
    fn stop_error(&mut self, kind: SyntaxKind, wanted: Box<[SyntaxKind]>) -> Option<ParseError> {
        if self.stop_reported == Some(self.next) {
            return None;
        }
        self.stop_reported = Some(self.next);
        let errors_before = self.brackets.iter().rev().find_map(|b| match b {
            Bracket::Members { errors, .. } => Some(*errors),
            _ => None,
        });
        if errors_before.is_some_and(|before| self.errors.len() > before) {
            return None;
        }
        let start = self.tokens.starts[self.next];
        let len = self.tokens.text(self.next).len() as u32;
        let range = TextRange::at(TextSize::from(start), TextSize::from(len));
        Some(ParseError::UnexpectedWanted(kind, range, wanted))
    }

    /// Where the text read into the tree ends.
    fn consumed(&self) -> TextSize {
        let at = match self.tokens.starts.get(self.emitted) {
            Some(&start) => start,
            None => self.tokens.end as u32,
        };
        TextSize::from(at)
    }

    /// Opens an error node at the next token; returns where it starts.
    fn start_error(&mut self) -> TextSize {
        self.start(NODE_ERROR);
        self.consumed()
    }

    /// Closes the error node opened at `start`; returns its range.
    fn finish_error(&mut self, start: TextSize) -> TextRange {
        self.builder.finish();
        TextRange::new(start, self.consumed())
    }

    /// The next token when it is one of `allowed`. When it is not, rnix's
    /// recovery: the tokens up to the next allowed one (or the end) go into
    /// an error node. `Some(None)` at the end of the text.
    fn expect_any(&mut self, allowed: &[SyntaxKind]) -> Option<Option<SyntaxKind>> {
        let found = match self.peek() {
            Some(kind) if allowed.contains(&kind) => return Some(Some(kind)),
            None => None,
            Some(kind) => {
                if !self.recover {
                    return None;
                }
                let start = self.start_error();
                // A bracket (or `let`) skipped is skipped through its close:
                // its `}` is not the set's, its `=` not the one wanted.
                let open = self.brackets.len();
                loop {
                    // Not a stop: `peek` said so, or it is the first.
                    let skipped = self.tokens.kind(self.next)?;
                    self.bump_as(skipped)?;
                    match skipped {
                        TOKEN_L_BRACE | TOKEN_L_PAREN | TOKEN_L_BRACK | TOKEN_LET
                        | TOKEN_INTERPOL_START => self.brackets.push(Bracket::Skipped),
                        TOKEN_R_BRACE | TOKEN_R_PAREN | TOKEN_R_BRACK | TOKEN_IN
                        | TOKEN_INTERPOL_END
                            if self.brackets.len() > open =>
                        {
                            self.brackets.pop();
                        }
                        _ => {}
                    }
                    match self.peek() {
                        None => break,
                        Some(k) if allowed.contains(&k) => {
                            if self.brackets.len() == open {
                                break;
                            }
                            // Inside skipped braces: not what was wanted
                            // here (rnix would take it).
                            self.stopped = true;
                        }
                        Some(_) => {}
                    }
                }
                self.brackets.truncate(open);
                let range = self.finish_error(start);
                self.errors
                    .push(ParseError::UnexpectedWanted(kind, range, allowed.into()));
                let found = self.peek();
                if found.is_none() && self.tokens.kind(self.next).is_some() {
                    // Skipped up to a stop: the error above says it.
                    self.stop_reported = Some(self.next);
                }
                found
            }
        };
        if found.is_none() {
            self.error(ParseError::UnexpectedEOFWanted(allowed.into()))?;
        }
        Some(found)
    }

    fn expect(&mut self, kind: SyntaxKind) -> Option<()> {
        if self.at(kind) {
            return self.bump_as(kind);
        }
        if self.expect_any(&[kind])?.is_some() {
            self.bump_as(kind)?;
        }
        Some(())
    }

    fn ident(&mut self) -> Option<()> {
        if self.expect_any(&[TOKEN_IDENT])?.is_some() {
            self.start(NODE_IDENT);
            self.bump()?;
            self.builder.finish();
        }
        Some(())
    }

    /// Runs `f` one level deeper. Every way the parser recurses (through
    /// [`expr`](Self::expr), or directly for lists, `or` defaults, prefix
    /// operators and right-associative ones) counts against
    /// [`MAX_EXPR_DEPTH`], so the parser is safe on any input without an
    /// estimate of its nesting first: deeper input it gives up on, and
    /// rnix's parse, behind the nesting guard, decides.
    fn nested<R>(&mut self, f: impl FnOnce(&mut Self) -> Option<R>) -> Option<R> {
        if self.depth >= MAX_EXPR_DEPTH {
            return None;
        }
        self.depth += 1;
        let result = f(self)?;
        self.depth -= 1;
        Some(result)
    }

    /// A whole expression: `let`, `with`, `if`, `assert`, or operators.
    fn expr(&mut self) -> Option<()> {
        self.nested(Self::expr_here)
    }

    fn expr_here(&mut self) -> Option<()> {
        match self.peek() {
            Some(TOKEN_LET) => {
                let checkpoint = self.checkpoint();
                self.bump()?;
                // Read as it is: the `let`'s first member may begin a line.
                if self.tokens.kind(self.next) == Some(TOKEN_L_BRACE) {
                    self.builder.start_at(checkpoint, NODE_LEGACY_LET);
                    self.bump()?;
                    self.members(TOKEN_R_BRACE)?;
                } else {
                    self.builder.start_at(checkpoint, NODE_LET_IN);
                    self.members(TOKEN_IN)?;
                    self.expr()?;
                }
                self.builder.finish();
            }
            Some(TOKEN_WITH | TOKEN_ASSERT) => {
                let kind = if self.at(TOKEN_WITH) {
                    NODE_WITH
                } else {
                    NODE_ASSERT
                };
                self.start(kind);
                self.bump()?;
                self.expr()?;
                self.expect(TOKEN_SEMICOLON)?;
                self.expr()?;
                self.builder.finish();
            }
            Some(TOKEN_IF) => {
                self.start(NODE_IF_ELSE);
                self.bump()?;
                self.expr()?;
                self.expect(TOKEN_THEN)?;
                self.expr()?;
                self.expect(TOKEN_ELSE)?;
                self.expr()?;
                self.builder.finish();
            }
            _ => {
                self.operand(0)?;
            }
        }
        Some(())
    }

    /// An expression of operators at precedence `level` or tighter; returns
    /// the checkpoint of its start, for a node that wraps it.
    fn operand(&mut self, level: usize) -> Option<usize> {
        let Some(this) = LEVELS.get(level) else {
            return self.has_attr();
        };
        match this {
            Level::Not => {
                if !self.at(TOKEN_INVERT) {
                    return self.operand(level + 1);
                }
                let checkpoint = self.checkpoint();
                self.start(NODE_UNARY_OP);
                self.bump()?;
                self.nested(|p| p.operand(level))?;
                self.builder.finish();
                Some(checkpoint)
            }
            Level::Binary(ops, assoc) => {
                let checkpoint = self.operand(level + 1)?;
                while self.peek().is_some_and(|k| ops.contains(&k)) {
                    self.builder.start_at(checkpoint, NODE_BIN_OP);
                    self.bump()?;
                    match assoc {
                        Assoc::Right => {
                            self.nested(|p| p.operand(level))?;
                            self.builder.finish();
                            break;
                        }
                        Assoc::Left => {
                            self.operand(level + 1)?;
                            self.builder.finish();
                        }
                        Assoc::None => {
                            self.operand(level + 1)?;
                            self.builder.finish();
                            break;
                        }
                    }
                }
                Some(checkpoint)
            }
        }
    }

    /// `e ? a.b`, any number of times.
    fn has_attr(&mut self) -> Option<usize> {
        let checkpoint = self.negation()?;
        while self.at(TOKEN_QUESTION) {
            self.builder.start_at(checkpoint, NODE_HAS_ATTR);
            self.bump()?;
            self.attrpath()?;
            self.builder.finish();
        }
        Some(checkpoint)
    }

    /// Prefix `-`, which binds tighter than every binary operator.
    fn negation(&mut self) -> Option<usize> {
        if !self.at(TOKEN_SUB) {
            return self.application();
        }
        let checkpoint = self.checkpoint();
        self.start(NODE_UNARY_OP);
        self.bump()?;
        self.nested(Self::negation)?;
        self.builder.finish();
        Some(checkpoint)
    }

    /// A function applied to arguments, each a simple expression.
    fn application(&mut self) -> Option<usize> {
        let checkpoint = self.simple()?;
        while self.peek().is_some_and(SyntaxKind::is_fn_arg) {
            self.builder.start_at(checkpoint, NODE_APPLY);
            self.simple()?;
            self.builder.finish();
        }
        Some(checkpoint)
    }

    /// A literal, name, string, path, list, set, pattern lambda or
    /// parenthesised expression, then a selection (`.a.b or d`), if any.
    fn simple(&mut self) -> Option<usize> {
        let Some(kind) = self.peek() else {
            // rnix: an error, and no trivia taken.
            self.error(ParseError::UnexpectedEOF)?;
            return Some(self.builder.checkpoint());
        };
        let checkpoint = self.checkpoint();
        match kind {
            TOKEN_L_PAREN => {
                self.start(NODE_PAREN);
                self.bump()?;
                self.expr()?;
                // rnix takes whatever token comes next as the `)`, without
                // an error; only a valid parse must see the `)`.
                if !self.recover && !self.at(TOKEN_R_PAREN) {
                    return None;
                }
                self.close(TOKEN_R_PAREN)?;
                self.builder.finish();
            }
            TOKEN_REC => {
                self.start(NODE_ATTR_SET);
                self.bump()?;
                self.expect(TOKEN_L_BRACE)?;
                self.members(TOKEN_R_BRACE)?;
                self.builder.finish();
            }
            TOKEN_L_BRACE => {
                if self.pattern_ahead() {
                    self.start(NODE_LAMBDA);
                    self.start(NODE_PATTERN);
                    self.bump()?;
                    self.pattern_entries(false)?;
                    self.builder.finish();
                    self.expect(TOKEN_COLON)?;
                    self.expr()?;
                } else {
                    self.start(NODE_ATTR_SET);
                    self.bump()?;
                    self.members(TOKEN_R_BRACE)?;
                }
                self.builder.finish();
            }
            TOKEN_L_BRACK => {
                self.start(NODE_LIST);
                self.bump()?;
                while self.peek().is_some_and(|k| k != TOKEN_R_BRACK) {
                    self.nested(Self::simple)?;
                }
                self.close(TOKEN_R_BRACK)?;
                self.builder.finish();
            }
            TOKEN_STRING_START => self.string()?,
            kind if is_path(kind) => self.path(kind)?,
            kind if kind.is_literal() => {
                self.start(NODE_LITERAL);
                self.bump()?;
                self.builder.finish();
            }
            TOKEN_IDENT => match self.peek_ahead(1) {
                Some(TOKEN_COLON) => {
                    self.ident()?;
                    self.builder.start_at(checkpoint, NODE_LAMBDA);
                    self.builder.start_at(checkpoint, NODE_IDENT_PARAM);
                    self.builder.finish();
                    self.expect(TOKEN_COLON)?;
                    self.expr()?;
                    self.builder.finish();
                }
                Some(TOKEN_AT) => {
                    self.ident()?;
                    self.builder.start_at(checkpoint, NODE_LAMBDA);
                    self.builder.start_at(checkpoint, NODE_PATTERN);
                    self.builder.start_at(checkpoint, NODE_PAT_BIND);
                    self.expect(TOKEN_AT)?;
                    self.builder.finish();
                    self.expect(TOKEN_L_BRACE)?;
                    self.pattern_entries(true)?;
                    self.builder.finish();
                    self.expect(TOKEN_COLON)?;
                    self.expr()?;
                    self.builder.finish();
                }
                _ if self.tokens.text(self.next) == "__curPos" => {
                    self.start(NODE_CUR_POS);
                    self.bump_as(TOKEN_CUR_POS)?;
                    self.builder.finish();
                }
                _ => self.ident()?,
            },
            kind => {
                if !self.recover {
                    return None;
                }
                let start = self.start_error();
                self.bump()?;
                let range = self.finish_error(start);
                self.errors.push(ParseError::UnexpectedWanted(
                    kind,
                    range,
                    EXPRESSION_START.into(),
                ));
            }
        }
        if self.at(TOKEN_DOT) {
            self.builder.start_at(checkpoint, NODE_SELECT);
            self.bump()?;
            self.attrpath()?;
            if self.at(TOKEN_OR) {
                self.bump()?;
                self.nested(Self::simple)?;
            }
            self.builder.finish();
        } else if self.at(TOKEN_OR) {
            // As in Nix: `f or` applies `f` to a variable named `or`.
            self.builder.start_at(checkpoint, NODE_APPLY);
            self.start(NODE_IDENT);
            self.bump_as(TOKEN_IDENT)?;
            self.builder.finish();
            self.builder.finish();
        }
        Some(checkpoint)
    }

    /// Whether the `{` ahead opens a lambda's pattern rather than a set,
    /// judged by the two tokens after it.
    fn pattern_ahead(&mut self) -> bool {
        matches!(
            (self.peek_ahead(1), self.peek_ahead(2)),
            (
                Some(TOKEN_IDENT),
                Some(TOKEN_COMMA | TOKEN_QUESTION | TOKEN_R_BRACE)
            ) | (Some(TOKEN_ELLIPSIS), Some(TOKEN_R_BRACE))
                | (Some(TOKEN_R_BRACE), Some(TOKEN_COLON | TOKEN_AT))
        )
    }

    /// A pattern's entries after its `{`, through its `}`, and an `@name`
    /// after it; `bound` when the pattern already has a name before it.
    fn pattern_entries(&mut self, bound: bool) -> Option<()> {
        // Its `}` closes the pattern, not a set around it.
        self.brackets.push(Bracket::Pattern);
        self.pattern_entries_here(bound)?;
        self.brackets.pop();
        Some(())
    }

    fn pattern_entries_here(&mut self, bound: bool) -> Option<()> {
        if self.peek().is_none_or(|k| k == TOKEN_R_BRACE) {
            self.bump()?;
        } else {
            loop {
                match self.expect_any(&[TOKEN_R_BRACE, TOKEN_ELLIPSIS, TOKEN_IDENT])? {
                    Some(TOKEN_R_BRACE) => {
                        self.bump()?;
                        break;
                    }
                    Some(TOKEN_ELLIPSIS) => {
                        self.bump()?;
                        self.expect(TOKEN_R_BRACE)?;
                        break;
                    }
                    Some(_) => {
                        self.start(NODE_PAT_ENTRY);
                        self.ident()?;
                        if self.at(TOKEN_QUESTION) {
                            self.bump()?;
                            self.expr()?;
                        }
                        self.builder.finish();
                        if self.at(TOKEN_COMMA) {
                            self.bump()?;
                        } else {
                            self.expect(TOKEN_R_BRACE)?;
                            break;
                        }
                    }
                    None => break,
                }
            }
        }
        if self.at(TOKEN_AT) {
            if bound && !self.recover {
                return None; // rnix: UnexpectedDoubleBind
            }
            self.start(if bound { NODE_ERROR } else { NODE_PAT_BIND });
            let start = self.consumed();
            self.bump()?;
            self.ident()?;
            let range = self.finish_error(start);
            if bound {
                self.errors.push(ParseError::UnexpectedDoubleBind(range));
            }
        }
        Some(())
    }

    /// The members of a set or `let` up to and including `close`.
    fn members(&mut self, close: SyntaxKind) -> Option<()> {
        self.brackets.push(Bracket::Members {
            first: self.next,
            errors: self.errors.len(),
        });
        loop {
            // A member's first token never stops it.
            if let Some(Bracket::Members { first, errors }) = self.brackets.last_mut() {
                (*first, *errors) = (self.next, self.errors.len());
            }
            match self.peek() {
                None => break,
                Some(kind) if kind == close => break,
                Some(TOKEN_INHERIT) => {
                    self.start(NODE_INHERIT);
                    self.bump()?;
                    if self.at(TOKEN_L_PAREN) {
                        self.enclosed(NODE_INHERIT_FROM, TOKEN_R_PAREN)?;
                    }
                    loop {
                        match self.peek() {
                            Some(TOKEN_SEMICOLON) => break,
                            Some(_) => self.attr()?,
                            None => {
                                self.error(ParseError::UnexpectedEOF)?;
                                break;
                            }
                        }
                    }
                    self.expect(TOKEN_SEMICOLON)?;
                    self.builder.finish();
                }
                _ => {
                    self.start(NODE_ATTRPATH_VALUE);
                    self.in_key = true;
                    self.attrpath()?;
                    self.in_key = false;
                    self.expect(TOKEN_ASSIGN)?;
                    self.expr()?;
                    self.expect(TOKEN_SEMICOLON)?;
                    self.builder.finish();
                }
            }
        }
        // The close, as the member's first token would be: never a stop.
        self.bump()?;
        self.brackets.pop();
        Some(())
    }

    fn attrpath(&mut self) -> Option<()> {
        self.start(NODE_ATTRPATH);
        self.attr()?;
        while self.at(TOKEN_DOT) {
            self.bump()?;
            self.attr()?;
        }
        self.builder.finish();
        Some(())
    }

    /// One name of an attribute path: a name (`or` included), a string or
    /// `${...}`.
    fn attr(&mut self) -> Option<()> {
        match self.peek() {
            Some(TOKEN_INTERPOL_START) => self.enclosed(NODE_DYNAMIC, TOKEN_INTERPOL_END)?,
            Some(TOKEN_STRING_START) => self.string()?,
            _ => {
                if self
                    .expect_any(&[TOKEN_IDENT, TOKEN_OR, TOKEN_CUR_POS])?
                    .is_some()
                {
                    self.start(NODE_IDENT);
                    self.bump_as(TOKEN_IDENT)?;
                    self.builder.finish();
                }
            }
        }
        Some(())
    }

    fn string(&mut self) -> Option<()> {
        self.start(NODE_STRING);
        self.expect(TOKEN_STRING_START)?;
        loop {
            let parts = [TOKEN_STRING_END, TOKEN_STRING_CONTENT, TOKEN_INTERPOL_START];
            match self.expect_any(&parts)? {
                Some(TOKEN_STRING_CONTENT) => self.bump()?,
                Some(TOKEN_INTERPOL_START) => self.enclosed(NODE_INTERPOL, TOKEN_INTERPOL_END)?,
                _ => break,
            }
        }
        self.expect(TOKEN_STRING_END)?;
        self.builder.finish();
        Some(())
    }

    /// A node of an opening token, an expression and `close`: `( e )`,
    /// `inherit ( e )`, `${ e }`.
    fn enclosed(&mut self, kind: SyntaxKind, close: SyntaxKind) -> Option<()> {
        self.start(kind);
        self.bump()?;
        self.expr()?;
        self.expect(close)?;
        self.builder.finish();
        Some(())
    }

    /// A path, with `${...}` parts when they follow it directly.
    fn path(&mut self, kind: SyntaxKind) -> Option<()> {
        let node = match kind {
            TOKEN_PATH_ABS => NODE_PATH_ABS,
            TOKEN_PATH_REL => NODE_PATH_REL,
            TOKEN_PATH_HOME => NODE_PATH_HOME,
            _ => NODE_PATH_SEARCH,
        };
        self.start(node);
        self.bump()?;
        if node != NODE_PATH_SEARCH && self.at(TOKEN_INTERPOL_START) {
            // rnix continues a path after trivia too, which no Nix accepts:
            // a valid parse leaves that case to it.
            if self.emitted != self.next && !self.recover {
                return None;
            }
            // The parts of the path are the tokens that follow it with no
            // trivia between (but for the first, as rnix reads it).
            let mut first = true;
            while first || self.emitted == self.next {
                first = false;
                match self.peek() {
                    Some(TOKEN_PATH_ABS | TOKEN_PATH_REL | TOKEN_PATH_HOME) => self.bump()?,
                    Some(TOKEN_INTERPOL_START) => {
                        self.enclosed(NODE_INTERPOL, TOKEN_INTERPOL_END)?
                    }
                    _ => break,
                }
            }
        }
        self.builder.finish();
        Some(())
    }
}
