//! Guards that keep hostile input from crashing or stalling the parser.
//!
//! rnix 0.15 recurses once per nested list, unary operator and right
//! associative operator (`++`, `//`, `->`), builds one tree level per
//! left-associative operator or function argument, and takes time that grows
//! with the square of the nesting (its node cache rehashes whole subtrees).
//! Dropping a rowan tree recurses once per level too. So before rnix parses
//! we estimate the nesting from the tokens and refuse input nested far
//! deeper than any real Nix (our own parser, tried first on small files,
//! bounds its recursion itself and needs no estimate); the parse itself runs
//! with a guaranteed stack; and the
//! exact depth of the tree is checked afterwards, so that every tree the rest
//! of cim-nix sees is at most [`MAX_TREE_DEPTH`] deep and recursive code
//! over it needs a known, bounded stack.

use super::scan::{scan, Coarse, Opener};
use rowan::{GreenNode, GreenNodeData, NodeOrToken, TextSize};

/// Nesting units (roughly: open brackets plus operators and arguments chained
/// without a `;`, `,`, `=`, `:`, `then` or `else` in between) that the
/// estimate accepts. Real Nix stays below a few hundred; all-packages.nix
/// reaches 17.
pub const MAX_NESTING: u32 = 4000;

/// The deepest syntax tree kept. rnix stops at 512 nested expressions by
/// itself, each a few tree levels; chains add one level per link.
pub const MAX_TREE_DEPTH: u32 = 8192;

/// Stack that must be free before parsing; enough, with the estimate
/// accepted, for rnix's deepest recursion with a wide margin.
const PARSE_RED_ZONE: usize = 32 << 20;
/// Size of the stack segment allocated when less than the red zone is free.
/// Only the pages actually used are ever touched.
const PARSE_STACK: usize = 256 << 20;

/// Where and how deep the estimate ran past [`MAX_NESTING`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    pub offset: TextSize,
    pub len: TextSize,
}

struct Level {
    opener: Opener,
    /// Where the opener is.
    at: u32,
    /// Tokens chained at this level since the last separator.
    chained: u32,
}

/// Estimates the nesting of `text` from its tokens, without parsing.
///
/// The estimate is the sum, over the brackets open at a point, of one plus
/// the number of tokens chained at that bracket's level since the last
/// separator. Inside a list, plain operands are siblings, not a chain, and
/// are not counted. Uses the coarse lexer of [`scan`](super::scan): several
/// times faster than tokenizing, and an estimate either way.
pub fn check_nesting(text: &str) -> Result<(), TooDeep> {
    check_nesting_with(text, |_| {})
}

/// The `;` that ends a member of a set or `let`, as far as the coarse lexer
/// can tell: where a big file may be split to parse its parts in parallel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberEnd {
    /// Offset of the `{` or `let` that opened the set.
    pub set: u32,
    /// Offset of the `;`.
    pub semicolon: u32,
}

/// [`check_nesting`], also collecting every [`MemberEnd`].
pub fn check_nesting_and_members(text: &str) -> Result<Vec<MemberEnd>, TooDeep> {
    let mut ends = Vec::new();
    check_nesting_with(text, |end| ends.push(end))?;
    Ok(ends)
}

fn check_nesting_with(text: &str, mut member_end: impl FnMut(MemberEnd)) -> Result<(), TooDeep> {
    let mut levels: Vec<Level> = Vec::new();
    let mut chained_here = 0u32; // the top level, outside any bracket
    let mut total = 0u32; // sum over levels of (1 + chained) plus chained_here
    let mut too_deep = None;
    scan(text, |(token, at)| {
        match token {
            Coarse::Open(opener) => {
                levels.push(Level {
                    opener,
                    at,
                    chained: 0,
                });
                total += 1;
            }
            Coarse::Close(closes) => {
                if let Some(i) = levels.iter().rposition(|l| l.opener == closes) {
                    for level in levels.drain(i..) {
                        total -= 1 + level.chained;
                    }
                }
            }
            Coarse::Separator => {
                if let Some(level) = levels.last() {
                    if matches!(level.opener, Opener::Brace | Opener::Let)
                        && text.as_bytes()[at as usize] == b';'
                    {
                        member_end(MemberEnd {
                            set: level.at,
                            semicolon: at,
                        });
                    }
                }
                let chained = match levels.last_mut() {
                    Some(level) => &mut level.chained,
                    None => &mut chained_here,
                };
                total -= *chained;
                *chained = 0;
            }
            Coarse::Operand | Coarse::Operator => {
                let in_list = matches!(levels.last(), Some(l) if l.opener == Opener::Bracket);
                if !in_list || token == Coarse::Operator {
                    match levels.last_mut() {
                        Some(level) => level.chained += 1,
                        None => chained_here += 1,
                    }
                    total += 1;
                }
            }
        }
        if total > MAX_NESTING {
            too_deep = Some(at);
            return false;
        }
        true
    });
    match too_deep {
        None => Ok(()),
        Some(at) => {
            let len = text[at as usize..]
                .chars()
                .next()
                .map_or(0, |c| c.len_utf8());
            Err(TooDeep {
                offset: TextSize::from(at),
                len: TextSize::from(len as u32),
            })
        }
    }
}

/// The work rnix's tokenizer may do measuring runs of path characters (see
/// [`check_path_runs`]): this much, plus [`PATH_RUN_WORK_PER_BYTE`] per byte
/// of text. Real Nix needs about one per byte (all-packages.nix: 1 million
/// in all); rnix 0.15 does about 250 million a second here, the rnix 0.10
/// of the formatters 30 to 100 million.
pub const PATH_RUN_WORK: u64 = 10_000_000;
pub const PATH_RUN_WORK_PER_BYTE: u64 = 16;

/// A run of path characters that rnix's tokenizer would take too long on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooCostly {
    pub offset: TextSize,
    pub len: TextSize,
}

/// Refuses text on which rnix's tokenizer would take too long (both
/// rnix 0.15's, for text with errors, and rnix 0.10's, which the linked-in
/// formatters use).
///
/// At every token, rnix's tokenizer measures how far the run of path
/// characters from there goes (to tell `a/b` and `a:b` from identifiers and
/// operators), so a run of `n` tokens and `len` bytes costs it about
/// `n * len / 2`: `a.a.a...` takes time in the square of its length (7 s
/// for 100 KB). Our lexer, which the parser uses, does not; rnix's runs
/// only for text with syntax errors, and this check runs before it. The
/// estimate counts runs in strings and comments too, which rnix skips, so
/// it errs on the side of more work.
pub fn check_path_runs(text: &str) -> Result<(), TooCostly> {
    let bytes = text.as_bytes();
    let (mut work, mut worst, mut worst_work) = (0u64, 0..0, 0u64);
    let mut at = 0;
    while at < bytes.len() {
        if !super::lexer::is_path_byte(bytes[at]) {
            at += 1;
            continue;
        }
        let start = at;
        let mut separators = 0u64;
        while at < bytes.len() && super::lexer::is_path_byte(bytes[at]) {
            separators += u64::from(matches!(bytes[at], b'.' | b'+'));
            at += 1;
        }
        // Each `.` or `+` is a token and starts one after it.
        let run_work = (at - start) as u64 * (1 + 2 * separators) / 2;
        work += run_work;
        if run_work > worst_work {
            (worst, worst_work) = (start..at, run_work);
        }
    }
    if work <= PATH_RUN_WORK + PATH_RUN_WORK_PER_BYTE * bytes.len() as u64 {
        return Ok(());
    }
    Err(TooCostly {
        offset: TextSize::from(worst.start as u32),
        len: TextSize::from(worst.len() as u32),
    })
}

/// Runs `f` (a parse) with at least [`PARSE_RED_ZONE`] of stack.
pub fn with_parse_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(PARSE_RED_ZONE, PARSE_STACK, f)
}

/// The depth of the deepest node of `green`, the root counting as 1,
/// computed without recursion. Stops early once `limit` is exceeded.
pub fn tree_depth(green: &GreenNodeData, limit: u32) -> u32 {
    let mut max = 1u32;
    let mut stack: Vec<(&GreenNodeData, u32)> = vec![(green, 1)];
    while let Some((node, depth)) = stack.pop() {
        max = max.max(depth);
        if max > limit {
            break;
        }
        for child in node.children() {
            if let NodeOrToken::Node(child) = child {
                stack.push((child, depth + 1));
            }
        }
    }
    max
}

/// Drops a tree of any depth without recursion: every node is released while
/// its children are still held elsewhere, so no drop cascades.
pub fn dismantle(green: GreenNode) {
    let mut stack = vec![green];
    while let Some(node) = stack.pop() {
        for child in node.children() {
            if let NodeOrToken::Node(child) = child {
                stack.push(child.to_owned());
            }
        }
        drop(node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(first: &str, op: &str, n: usize) -> String {
        let mut s = String::from(first);
        for _ in 1..n {
            s.push_str(op);
            s.push_str(first);
        }
        s
    }

    #[test]
    fn real_shapes_pass() {
        let text = r#"{ lib, pkgs, ... }:
let inherit (lib) mkIf; in {
  a = [ 1 2 3 pkgs.hello (pkgs.callPackage ./x.nix { }) ];
  b = if x then "a${toString (1 + 2)}b" else ''c'';
  c = lib.optionals true [ a b ] ++ [ c ] ++ d // { e = f g h; };
}"#;
        assert_eq!(check_nesting(text), Ok(()));
        // A long list is wide, not deep.
        let list = format!("[ {} ]", "a.b c 1 ./p ".repeat(20_000));
        assert_eq!(check_nesting(&list), Ok(()));
        // So is a big attribute set.
        let set = format!("{{ {} }}", "x = f a b c; ".repeat(20_000));
        assert_eq!(check_nesting(&set), Ok(()));
    }

    #[test]
    fn hostile_shapes_are_refused() {
        for text in [
            chain("1", " + ", 200_000),
            chain("[]", " ++ ", 10_000),
            chain("a", "//", 10_000),
            chain("f", " x", 10_000),
            chain("a", " ? b", 10_000),
            format!("{}true", "!".repeat(10_000)),
            format!("{}1", "-".repeat(10_000)),
            format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)),
            format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)),
            format!("{}1{}", "{a=".repeat(10_000), ";}".repeat(10_000)),
        ] {
            let err = check_nesting(&text).expect_err(&text[..20]);
            assert!(usize::from(err.offset) < text.len());
        }
    }

    #[test]
    fn long_dotted_runs_are_refused_before_rnix_tokenizes_them() {
        // 100 KB: 7 s in rnix's tokenizer.
        let run = chain("a", ".", 50_000);
        let err = check_path_runs(&format!("{{ x = {run}; }}")).expect_err("refused");
        assert_eq!((err.offset, err.len), (6.into(), (run.len() as u32).into()));
        // 200 lines of 1 900-link chains: 2.9 s.
        let lines = format!(
            "{{\n{}}}",
            format!("  x = {};\n", chain("a", ".", 1_900)).repeat(200)
        );
        assert!(check_path_runs(&lines).is_err());
        // Long identifiers, long paths and many short chains are cheap.
        assert!(check_path_runs(&format!("x{}", "y".repeat(1_000_000))).is_ok());
        assert!(check_path_runs(&chain("./a/b/c.nix", " ", 200_000)).is_ok());
        assert!(check_path_runs(&chain("pkgs.python3Packages.foo", "\n", 100_000)).is_ok());
        // A 5 KB attribute path already costs rnix 0.10 a tenth of a second.
        assert!(check_path_runs(&chain("a", ".", 2_500)).is_err());
    }

    #[test]
    fn depth_and_dismantle_handle_deep_trees() {
        let text = chain("1", " + ", 300_000);
        let parse = with_parse_stack(|| rnix::Root::parse(&text));
        let green = parse.syntax().green().to_owned();
        drop(parse);
        assert!(tree_depth(&green, u32::MAX) > 300_000);
        assert_eq!(tree_depth(&green, 100), 101);
        dismantle(green);
    }
}
