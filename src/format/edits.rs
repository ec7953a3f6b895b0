//! Minimal edits between a text and its formatted form, so an editor keeps
//! cursors, marks and undo history: a line diff finds the changed lines,
//! then a character diff inside each changed hunk finds the changed
//! characters (a formatter mostly touches whitespace).

use std::time::Duration;

use rowan::{TextRange, TextSize};
use similar::{Algorithm, DiffTag, TextDiff};

pub use crate::syntax::text_edit::{apply_edits, TextEdit};

/// Hunks bigger than this (old + new bytes) are replaced whole: a character
/// diff is quadratic in the worst case and a hunk this big is a rewrite.
const REFINE_LIMIT: usize = 16 * 1024;

/// The diff gives up looking for the smallest diff after this long and
/// returns a correct, bigger one.
const DIFF_TIMEOUT: Duration = Duration::from_millis(200);

/// Edits that turn `old` into `new`, sorted and non-overlapping, each as
/// small as a character diff of its hunk makes it.
pub fn minimal_edits(old: &str, new: &str) -> Vec<TextEdit> {
    if old == new {
        return Vec::new();
    }
    if let Some(edits) = whitespace_edits(old, new) {
        return edits;
    }
    diff_edits(old, new)
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// When `new` differs from `old` in whitespace only (what a formatter
/// mostly does), the edits in one linear pass: walk the content of both
/// texts in step, and replace each run of whitespace that differs, trimmed
/// to the part that differs. `None` when the content differs.
fn whitespace_edits(old: &str, new: &str) -> Option<Vec<TextEdit>> {
    let (a, b) = (old.as_bytes(), new.as_bytes());
    let (mut i, mut j) = (0, 0);
    let mut edits = Vec::new();
    loop {
        let (ws_a, ws_b) = (run(a, i), run(b, j));
        if a[i..ws_a] != b[j..ws_b] {
            // Differing runs are not both empty, so they start at ASCII
            // whitespace or right after a whole character.
            let (old_ws, new_ws) = (&old[i..ws_a], &new[j..ws_b]);
            let prefix = common_prefix(old_ws, new_ws);
            let suffix = common_suffix(&old_ws[prefix..], &new_ws[prefix..]);
            edits.push(TextEdit {
                range: TextRange::new(size(i + prefix), size(ws_a - suffix)),
                insert: new_ws[prefix..new_ws.len() - suffix].to_string(),
            });
        }
        (i, j) = (ws_a, ws_b);
        if i == a.len() || j == b.len() {
            return (i == a.len() && j == b.len()).then_some(edits);
        }
        // One byte of content each; whitespace may come between any two
        // (`a=1` -> `a = 1`). A byte of a multi-byte character is never
        // ASCII whitespace, so every edit falls on character boundaries.
        if a[i] != b[j] {
            return None;
        }
        (i, j) = (i + 1, j + 1);
    }
}

/// The end of the run of whitespace starting at `at`.
fn run(text: &[u8], at: usize) -> usize {
    text[at..]
        .iter()
        .position(|&c| !is_space(c))
        .map_or(text.len(), |n| at + n)
}

/// The general case: a line diff, then a character diff in each hunk.
fn diff_edits(old: &str, new: &str) -> Vec<TextEdit> {
    let prefix = common_prefix(old, new);
    let suffix = common_suffix(&old[prefix..], &new[prefix..]);
    let old_mid = &old[prefix..old.len() - suffix];
    let new_mid = &new[prefix..new.len() - suffix];

    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .timeout(DIFF_TIMEOUT)
        .diff_lines(old_mid, new_mid);
    let old_at = offsets(diff.iter_old_slices());
    let new_at = offsets(diff.iter_new_slices());
    let mut edits = Vec::new();
    for op in diff.ops() {
        if op.tag() == DiffTag::Equal {
            continue;
        }
        let (o, n) = (op.old_range(), op.new_range());
        let old_hunk = old_at[o.start]..old_at[o.end];
        let new_hunk = new_at[n.start]..new_at[n.end];
        refine(
            prefix + old_hunk.start,
            &old_mid[old_hunk],
            &new_mid[new_hunk],
            &mut edits,
        );
    }
    merge_adjacent(edits)
}

/// The edits that lie entirely inside `range`: applying them changes
/// nothing outside it.
pub fn edits_within(edits: Vec<TextEdit>, range: TextRange) -> Vec<TextEdit> {
    edits
        .into_iter()
        .filter(|e| range.contains_range(e.range))
        .collect()
}

/// Byte offset of each slice's start, plus the end.
fn offsets<'a>(slices: impl Iterator<Item = &'a str>) -> Vec<usize> {
    let mut at = vec![0];
    let mut total = 0;
    for s in slices {
        total += s.len();
        at.push(total);
    }
    at
}

fn refine(base: usize, old: &str, new: &str, edits: &mut Vec<TextEdit>) {
    let edit = |start: usize, end: usize, insert: &str| TextEdit {
        range: TextRange::new(size(base + start), size(base + end)),
        insert: insert.to_string(),
    };
    if old.len() + new.len() > REFINE_LIMIT {
        edits.push(edit(0, old.len(), new));
        return;
    }
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .timeout(DIFF_TIMEOUT)
        .diff_chars(old, new);
    let old_at = offsets(diff.iter_old_slices());
    let new_at = offsets(diff.iter_new_slices());
    for op in diff.ops() {
        if op.tag() == DiffTag::Equal {
            continue;
        }
        let (o, n) = (op.old_range(), op.new_range());
        edits.push(edit(
            old_at[o.start],
            old_at[o.end],
            &new[new_at[n.start]..new_at[n.end]],
        ));
    }
}

/// Joins edits that touch (a deletion next to an insertion) into one.
fn merge_adjacent(edits: Vec<TextEdit>) -> Vec<TextEdit> {
    let mut merged: Vec<TextEdit> = Vec::with_capacity(edits.len());
    for edit in edits {
        match merged.last_mut() {
            Some(last) if last.range.end() == edit.range.start() => {
                last.range = TextRange::new(last.range.start(), edit.range.end());
                last.insert.push_str(&edit.insert);
            }
            _ => merged.push(edit),
        }
    }
    merged
}

fn size(offset: usize) -> TextSize {
    TextSize::from(offset as u32)
}

fn common_prefix(a: &str, b: &str) -> usize {
    let mut n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    while !a.is_char_boundary(n) || !b.is_char_boundary(n) {
        n -= 1;
    }
    n
}

fn common_suffix(a: &str, b: &str) -> usize {
    let mut n = a
        .bytes()
        .rev()
        .zip(b.bytes().rev())
        .take_while(|(x, y)| x == y)
        .count();
    while !a.is_char_boundary(a.len() - n) || !b.is_char_boundary(b.len() - n) {
        n -= 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(old: &str, new: &str) -> Vec<TextEdit> {
        let edits = minimal_edits(old, new);
        assert_eq!(apply_edits(old, &edits), new, "edits {edits:?}");
        for pair in edits.windows(2) {
            assert!(pair[0].range.end() < pair[1].range.start(), "{edits:?}");
        }
        edits
    }

    #[test]
    fn reindenting_touches_only_whitespace() {
        let old = "{\nfoo = 1;\n    bar = [ 1 2 ];\n}\n";
        let new = "{\n  foo = 1;\n  bar = [ 1 2 ];\n}\n";
        let edits = check(old, new);
        assert!(
            edits.iter().all(|e| e.insert.trim().is_empty()),
            "{edits:?}"
        );
        let deleted: usize = edits.iter().map(|e| usize::from(e.range.len())).sum();
        assert_eq!(deleted, 2, "{edits:?}");
    }

    #[test]
    fn multibyte_text_is_cut_at_char_boundaries() {
        check(
            "{ a = \"日本語\";b=\"é\"; }",
            "{\n  a = \"日本語\";\n  b = \"é\";\n}\n",
        );
        check("é", "è");
        check("😀x", "😀y");
        check("aé", "aè");
    }

    #[test]
    fn identical_and_empty_texts() {
        assert!(check("x", "x").is_empty());
        check("", "a");
        check("a", "");
        check("", "");
    }

    #[test]
    fn whitespace_only_changes_take_the_linear_path() {
        let old = "{\nfoo   =1;\n\tbar = [ 1 2 ];}";
        let new = "{\n  foo = 1;\n  bar = [ 1 2 ];\n}\n";
        let edits = whitespace_edits(old, new).expect("whitespace only");
        assert_eq!(apply_edits(old, &edits), new);
        assert!(edits.iter().all(|e| e.insert.trim().is_empty()));
        assert_eq!(edits, check(old, new));
        // Anything else takes the general diff, and is still right.
        assert!(whitespace_edits("{ a = http://x; }", "{ a = \"http://x\"; }").is_none());
        check("{ a = http://x; }", "{ a = \"http://x\"; }");
        assert_eq!(whitespace_edits("a b", "ab").map(|e| e.len()), Some(1));
        assert!(whitespace_edits("é", "è").is_none());
        check("a b", "ab");
        check("{a=\"é\";}", "{ a = \"é\"; }");
        check("x", "x ");
        check(" x", "x");
    }

    #[test]
    fn crlf_and_big_hunks() {
        check("a\r\nb\r\n", "a\nb\n");
        let old = "x = 1;\n".repeat(5000);
        let new = "x  =  1 ;\n".repeat(5000);
        check(&old, &new);
    }

    #[test]
    fn only_edits_inside_a_range_are_kept() {
        let old = "{\nfoo = 1;\nbar = 2;\n}\n";
        let new = "{\n  foo = 1;\n  bar = 2;\n}\n";
        let edits = minimal_edits(old, new);
        let start = old.find("bar").unwrap() as u32;
        let value = TextRange::new((start + 4).into(), (start + 8).into());
        assert!(edits_within(edits.clone(), value).is_empty());
        let line = TextRange::new(start.into(), (start + 8).into());
        let kept = edits_within(edits, line);
        assert_eq!(apply_edits(old, &kept), "{\nfoo = 1;\n  bar = 2;\n}\n");
    }
}
