//! Recovery that keeps the members after a broken one (issue 19). While
//! someone types a member into a big set, or breaks one member, every
//! other member of the set keeps its own node, with its own text: so the
//! findings about them stay, and the incremental reparse reuses them. rnix's
//! recovery runs a half-typed member on into the next ones, and often closes
//! the set early, turning the rest of the file into one error.
//!
//! What recovery cannot tell apart is left out of the random edits: an edit
//! that opens a set, a `let` or a string makes the lines after it part of
//! it, and a `}` typed into a member closes the set, as they would if the
//! text went on that way.

mod support;

use cim_nix::syntax::{parse, Parse};
use rnix::SyntaxKind::{self, *};
use rnix::SyntaxNode;
use rnix::TextRange;
use support::corpus;
use support::nixgen;
use support::rng::{stress_rounds, Rng};

/// The members of the file's biggest set, by range.
fn members_of_biggest_set(root: &SyntaxNode) -> Vec<TextRange> {
    let set = root
        .descendants()
        .filter(|n| n.kind() == NODE_ATTR_SET)
        .max_by_key(|n| n.children().count())
        .expect("a set");
    set.children()
        .filter(|m| is_member(m.kind()))
        .map(|m| m.text_range())
        .collect()
}

fn is_member(kind: SyntaxKind) -> bool {
    matches!(kind, NODE_ATTRPATH_VALUE | NODE_INHERIT)
}

/// Every member of `before` outside `edited` is a member node of the new
/// tree, with the same text, where the edit moved it.
fn members_kept(
    text: &str,
    before: &[TextRange],
    edited: TextRange,
    delta: i64,
    new_text: &str,
    parse: &Parse,
    what: &str,
) {
    let root = parse.syntax().expect("a tree");
    assert_eq!(root.to_string(), new_text, "{what}: not lossless");
    assert!(!parse.errors().is_empty() || !text.is_empty());
    let mut members: Vec<TextRange> = root
        .descendants()
        .filter(|n| is_member(n.kind()))
        .map(|n| n.text_range())
        .collect();
    members.sort_by_key(|r| (r.start(), r.end()));
    for &range in before {
        if range.start() < edited.end() && edited.start() < range.end() {
            continue;
        }
        let moved = if range.start() >= edited.end() {
            let start = (i64::from(u32::from(range.start())) + delta) as u32;
            TextRange::at(start.into(), range.len())
        } else {
            range
        };
        assert!(
            members
                .binary_search_by_key(&(moved.start(), moved.end()), |r| (r.start(), r.end()))
                .is_ok(),
            "{what}: the member `{}` lost its node after the edit at {edited:?}; errors {:?}\n{}",
            &text[range],
            parse.errors(),
            &new_text[usize::from(edited.start()).saturating_sub(200)
                ..(usize::from(edited.end()) + 400).min(new_text.len())]
        );
    }
}

/// The texts along the way of typing `typed` at `at`, with the closing
/// bracket an editor adds to each opening one.
fn typing(text: &str, at: usize, typed: &str) -> Vec<String> {
    let mut current = text.to_string();
    let mut texts = Vec::new();
    for (at, insert) in support::typing::keystrokes(text, at, typed) {
        current.insert_str(at, &insert);
        texts.push(current.clone());
    }
    texts
}

fn big_sets() -> Vec<(String, String)> {
    let mut files = vec![(
        "all-packages.nix".to_string(),
        std::fs::read_to_string(corpus::all_packages()).expect("all-packages.nix"),
    )];
    let mut rng = Rng::new(5);
    files.push(("package set".into(), nixgen::package_set(&mut rng, 1500)));
    files
}

/// Typing a member above others, keystroke by keystroke: the members
/// after it keep their nodes at every step.
#[test]
fn typing_a_member_keeps_the_members_after_it() {
    let typed = [
        "  my-tool = callPackage ../tools/my-tool { inherit (darwin) Security; };\n",
        "  tool2 = pkgs.python3Packages.toPythonApplication python3Packages.tool2;\n",
        "  tool3 = lib.recurseIntoAttrs (callPackage ./tool3.nix { withX = false; });\n",
        "  inherit (pkgs) tool4 tool5;\n",
        "  tool6 = [ a b ] ++ lib.optional stdenv.isLinux c;\n",
    ];
    let mut steps = 0;
    for (name, text) in big_sets() {
        let root = parse(&text).syntax().expect("a tree");
        assert!(parse(&text).errors().is_empty(), "{name} is valid");
        let members = members_of_biggest_set(&root);
        let mut rng = Rng::new(3);
        for typed in typed {
            // On a new line above a member: the end of the line before it.
            let member = members[members.len() / 4 + rng.below(members.len() / 2)];
            let at = text[..usize::from(member.start())].rfind('\n').unwrap_or(0);
            let typed = format!("\n{}", typed.trim_end());
            for new_text in typing(&text, at, &typed) {
                let delta = (new_text.len() - text.len()) as i64;
                let edited = TextRange::empty((at as u32).into());
                let parsed = parse(&new_text);
                members_kept(&text, &members, edited, delta, &new_text, &parsed, &name);
                steps += 1;
            }
        }
    }
    assert!(steps > 300, "{steps}");
}

/// What breaking one member may do to it: its `;` or `=` deleted, its
/// value cut short, a token typed into it.
const TYPED: &[&str] = &[
    "x", ".", "(", ")", "[", "]", "+", "=", ";", ":", ",", "?", "or", "then", "if", "else", "with",
    "rec", "in", "inherit", "@", "//", "!", "-", "1",
];

#[test]
fn breaking_a_member_keeps_the_others() {
    let rounds = 200 * stress_rounds();
    let mut broken = 0;
    for (name, text) in big_sets() {
        let root = parse(&text).syntax().expect("a tree");
        let members = members_of_biggest_set(&root);
        let mut rng = Rng::new(11);
        for _ in 0..rounds {
            let member = *rng.pick(&members);
            let member_text = &text[member];
            let (start, end) = (usize::from(member.start()), usize::from(member.end()));
            let bounds: Vec<usize> = token_starts(member_text)
                .into_iter()
                .map(|i| start + i)
                .collect();
            let (from, to, insert) = match rng.below(4) {
                // The `;` deleted.
                0 => (end - 1, end, String::new()),
                // The value cut short, with its `;`.
                1 => (*rng.pick(&bounds), end, String::new()),
                // The `=` deleted.
                2 if member_text.contains(" = ") => {
                    let at = start + member_text.find(" = ").unwrap_or(0) + 1;
                    (at, at + 1, String::new())
                }
                _ => {
                    let at = *rng.pick(&bounds);
                    (at, at, format!("{} ", rng.pick(TYPED)))
                }
            };
            let mut new_member = member_text.to_string();
            new_member.replace_range(from - start..to - start, &insert);
            if opens_something(&new_member) {
                continue;
            }
            let mut new_text = text.clone();
            new_text.replace_range(from..to, &insert);
            let parsed = parse(&new_text);
            if parsed.errors().is_empty() {
                continue; // still valid, another shape
            }
            broken += 1;
            let delta = insert.len() as i64 - (to - from) as i64;
            members_kept(&text, &members, member, delta, &new_text, &parsed, &name);
        }
    }
    assert!(broken > 200, "{broken}");
}

/// Where the tokens of `text` start, outside strings (trivia aside).
fn token_starts(text: &str) -> Vec<usize> {
    let mut at = 0;
    let mut strings = 0;
    let mut starts = Vec::new();
    for (kind, token) in rnix::tokenize(text) {
        match kind {
            TOKEN_STRING_START => strings += 1,
            TOKEN_STRING_END => strings -= 1,
            _ => {}
        }
        if strings == 0 && !matches!(kind, TOKEN_WHITESPACE | TOKEN_COMMENT) && at > 0 {
            starts.push(at);
        }
        at += token.len();
    }
    starts
}

/// Whether the member's text opens a set, a `let` or a string that it
/// does not close.
fn opens_something(text: &str) -> bool {
    let (mut braces, mut lets, mut strings) = (0i32, 0i32, 0i32);
    for (kind, _) in rnix::tokenize(text) {
        match kind {
            TOKEN_L_BRACE => braces += 1,
            TOKEN_R_BRACE => braces -= 1,
            TOKEN_LET => lets += 1,
            TOKEN_IN => lets -= 1,
            TOKEN_STRING_START => strings += 1,
            TOKEN_STRING_END => strings -= 1,
            _ => {}
        }
    }
    braces > 0 || lets > 0 || strings > 0
}
