//! Keeping the rules' work on what an edit did not touch. A keystroke in
//! one member of all-packages.nix leaves 18 000 members as they were (the
//! reparse keeps their green nodes), so the walks over the tree take their
//! results for those from the previous analysis instead of walking them
//! again. The unit is the semantic model's chunk of a big plain set
//! (`semantic::memo::set_chunks`): a run of about 32 consecutive members,
//! known by the identities of their green nodes and where each lies in it.
//!
//! A chunk's results are reused only when they cannot have changed:
//!
//! - the walks kept here read nothing but the chunk's members (the tree
//!   walk's findings and the shapes style looks at closely; rules that
//!   read names or other members run over the whole file each time);
//! - the text around the chunk on its first and last lines is the same
//!   (fixes remove whole lines when nothing else is on them);
//! - the chunk's members are consecutive children of the set (no error
//!   node between them, whose findings would come in another order);
//! - the settings that decide what the walk reports are the same.
//!
//! Results are kept relative to the chunk's start and moved to where the
//! chunk is now. `tests/semantic_incremental.rs` checks that the findings
//! after random edit sequences equal a fresh analysis.

use std::sync::Arc;

use rowan::{GreenNode, GreenNodeData, TextSize};
use rustc_hash::FxHashMap;

use super::scan::Words;
use crate::analysis::semantic::memo::set_chunks;
use crate::syntax::green::N;

/// Whether an analysis keeps its walks' work per chunk for the next one
/// (a document in an editor), or is the only analysis of its text
/// (`cim-nix check`), which spares finding the chunks at all.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Keep {
    #[default]
    ForEdits,
    Nothing,
}

/// What the rules kept of one analysis for the next.
#[derive(Default)]
pub struct Memo {
    pub(super) tree: super::correctness::TreeChunks,
    /// The tree walk's switches its results were found with.
    pub(super) tree_switches: u32,
    pub(super) style: Chunks<Vec<(crate::analysis::semantic::Site, rnix::SyntaxKind)>>,
    /// Where the error nodes are (see `broken::error_nodes`).
    pub(super) errors: Chunks<Vec<TextSize>>,
    /// The words of the text (whose text the caller passes with the memo).
    pub(super) words: Option<Arc<Words>>,
}

impl Memo {
    /// How many chunks the walks went through, and how many of them they
    /// took from the previous analysis.
    pub fn stats(&self) -> (usize, usize) {
        let tree = self.tree.stats();
        (
            tree.0 + self.style.map.len() + self.errors.map.len(),
            tree.1 + self.style.reused + self.errors.reused,
        )
    }
}

/// One walk's results per chunk.
pub(super) struct Chunks<T> {
    map: FxHashMap<u64, Arc<Kept<T>>>,
    reused: usize,
    /// Nothing is kept: the walk goes through sets member by member.
    unkept: bool,
}

impl<T> Chunks<T> {
    /// How many chunks there are, and how many were reused.
    pub(super) fn stats(&self) -> (usize, usize) {
        (self.map.len(), self.reused)
    }

    /// Where a walk keeps its chunks, or nothing under [`Keep::Nothing`].
    pub(super) fn new(keep: Keep) -> Self {
        Chunks {
            unkept: keep == Keep::Nothing,
            ..Chunks::default()
        }
    }
}

impl<T> Default for Chunks<T> {
    fn default() -> Self {
        Chunks {
            map: FxHashMap::default(),
            reused: 0,
            unkept: false,
        }
    }
}

/// A chunk's results, relative to its start.
pub(super) struct Kept<T> {
    /// The members, kept alive so that their addresses stay theirs.
    members: Box<[GreenNode]>,
    /// The text from the start of the first member's line to the chunk,
    /// and from the chunk's end past the blanks after it to the end of
    /// that line.
    around: (Box<str>, Box<str>),
    value: T,
}

impl<T> Chunks<T> {
    fn get(
        &self,
        key: u64,
        members: &[&GreenNodeData],
        around: (&str, &str),
    ) -> Option<&Arc<Kept<T>>> {
        self.map.get(&key).filter(|kept| {
            kept.members.len() == members.len()
                && kept
                    .members
                    .iter()
                    .zip(members)
                    .all(|(a, b)| std::ptr::eq(&**a as *const GreenNodeData, *b))
                && (&*kept.around.0, &*kept.around.1) == around
        })
    }
}

/// A walk over a tree that can keep its results per chunk of members and
/// replay them.
pub(super) trait ChunkWalk<'a> {
    type Kept;
    /// Where the walk's results stand now.
    type Mark: Copy;

    fn mark(&self) -> Self::Mark;
    /// Walks `child`, a child node of a set.
    fn child(&mut self, child: &N<'a>);
    /// The results since `mark`, relative to `base`.
    fn kept_since(&self, mark: Self::Mark, base: TextSize) -> Self::Kept;
    /// Adds kept results as found at `base`.
    fn replay(&mut self, kept: &Self::Kept, base: TextSize);
    /// Where this walk keeps its chunks for the next analysis.
    fn next_chunks(&mut self) -> &mut Chunks<Self::Kept>;
}

/// Walks the child nodes of `set` in order. For a big plain set, each
/// chunk whose members and surroundings are those of a chunk of
/// `previous` is replayed from there instead of walked; every chunk's
/// results are kept for the next analysis. `text` is the file's, for a
/// walk whose results depend on the text around a chunk (see
/// [`surroundings`]); `None` for one whose results do not.
pub(super) fn walk_children<'a, W: ChunkWalk<'a>>(
    walk: &mut W,
    set: &N<'a>,
    text: Option<&str>,
    previous: Option<&Chunks<W::Kept>>,
) {
    let chunks = match walk.next_chunks().unkept {
        true => None,
        false => set_chunks(set),
    };
    let Some(chunks) = chunks else {
        for child in set.children() {
            walk.child(&child);
        }
        return;
    };
    let mut children = set.children().peekable();
    for (key, members) in chunks {
        let (Some(first), Some(last)) = (members.first(), members.last()) else {
            continue;
        };
        while let Some(child) = children.next_if(|c| c.offset < first.offset) {
            walk.child(&child);
        }
        let mut span = Vec::with_capacity(members.len());
        while let Some(child) = children.next_if(|c| c.offset <= last.offset) {
            span.push(child);
        }
        if span.len() != members.len() {
            // Something other than a member between them.
            for child in &span {
                walk.child(child);
            }
            continue;
        }
        let base = first.offset;
        let around = text.map_or(("", ""), |text| {
            surroundings(text, base, last.text_range().end())
        });
        let greens: Vec<&GreenNodeData> = members.iter().map(|m| m.green).collect();
        if let Some(kept) = previous.and_then(|p| p.get(key, &greens, around)) {
            walk.replay(&kept.value, base);
            let next = walk.next_chunks();
            next.map.insert(key, kept.clone());
            next.reused += 1;
            continue;
        }
        let mark = walk.mark();
        for child in &span {
            walk.child(child);
        }
        let kept = Kept {
            members: greens.iter().map(|g| (*g).to_owned()).collect(),
            around: (around.0.into(), around.1.into()),
            value: walk.kept_since(mark, base),
        };
        walk.next_chunks().map.insert(key, Arc::new(kept));
    }
    for child in children {
        walk.child(&child);
    }
}

/// The text before `start` on its line, and the text after `end` through
/// the blanks that follow it to the end of the line where they stop.
fn surroundings(text: &str, start: TextSize, end: TextSize) -> (&str, &str) {
    let (start, end) = (usize::from(start), usize::from(end));
    let bytes = text.as_bytes();
    let line_start = bytes[..start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let blanks_end = bytes[end..]
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(text.len(), |i| end + i);
    let line_end = bytes[blanks_end..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| blanks_end + i);
    (&text[line_start..start], &text[end..line_end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surroundings_reach_the_line_where_the_blanks_stop() {
        let text = "  a = 1; b = 2;\n\n  c = 3; # x\nd";
        let start = TextSize::from(9);
        let end = TextSize::from(15);
        assert_eq!(
            surroundings(text, start, end),
            ("  a = 1; ", "\n\n  c = 3; # x")
        );
        let end = TextSize::from(text.len() as u32);
        assert_eq!(surroundings(text, TextSize::from(0), end), ("", ""));
    }
}
