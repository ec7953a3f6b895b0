//! What the editor features kept of a document's previous revisions: their
//! work on each chunk of a big set (the chunks the semantic model is built
//! in, see `analysis::semantic`'s memo), under the chunk's key. After a
//! keystroke in one member of all-packages.nix, a feature takes every other
//! chunk's tokens, symbols, folds and links from here instead of walking
//! the chunk again. One `Memo` per document, kept by the caller across
//! revisions (the server, in its document store).
//!
//! Kept items are relative to the chunk's start. A chunk is kept under the
//! identities of its members' green nodes (held, so they stay theirs);
//! each computation keeps exactly the chunks it met, so a memo never holds
//! more than the document's current chunks.
//!
//! All chunks of a feature live in a few long vectors (an [`Arena`]),
//! written anew by each computation: 300 chunks kept as 300 small
//! allocations each pinned pages of freed request memory, and cost 5 MiB
//! of resident memory for 2 MB of data.

use std::sync::Mutex;

use rowan::{GreenNode, GreenNodeData};
use rustc_hash::FxHashMap;

use crate::syntax::green::N;

/// Where a kept chunk is in its arena.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    items: (u32, u32),
    members: (u32, u32),
    strings: (u32, u32),
    /// What the items depend on besides the chunk's text (semantic tokens:
    /// how the names the chunk uses from outside resolve).
    signature: u64,
}

fn range((start, len): (u32, u32)) -> std::ops::Range<usize> {
    start as usize..(start + len) as usize
}

/// One feature's kept chunks, end to end.
pub(crate) struct Arena<I> {
    items: Vec<I>,
    /// For each member of each chunk, where its items end, counted from
    /// its chunk's first item.
    ends: Vec<u32>,
    members: Vec<GreenNode>,
    /// Texts the items refer to that are not in the document.
    strings: String,
    chunks: FxHashMap<u64, Span>,
}

impl<I> Default for Arena<I> {
    fn default() -> Self {
        Arena {
            items: Vec::new(),
            ends: Vec::new(),
            members: Vec::new(),
            strings: String::new(),
            chunks: FxHashMap::default(),
        }
    }
}

impl<I: Copy> Arena<I> {
    /// An empty arena with room for what `like` holds.
    fn sized_like(like: &Arena<I>) -> Arena<I> {
        Arena {
            items: Vec::with_capacity(like.items.len()),
            ends: Vec::with_capacity(like.ends.len()),
            members: Vec::with_capacity(like.members.len()),
            strings: String::with_capacity(like.strings.len()),
            chunks: FxHashMap::with_capacity_and_hasher(like.chunks.len(), Default::default()),
        }
    }

    fn push(
        &mut self,
        key: u64,
        members: impl Iterator<Item = GreenNode>,
        ends: &[u32],
        items: &[I],
        strings: &str,
        signature: u64,
    ) -> Span {
        let at = |len: usize, added: usize| (len as u32, added as u32);
        let first_member = self.members.len();
        self.members.extend(members);
        let span = Span {
            items: at(self.items.len(), items.len()),
            members: at(first_member, self.members.len() - first_member),
            strings: at(self.strings.len(), strings.len()),
            signature,
        };
        self.items.extend_from_slice(items);
        self.ends.extend_from_slice(ends);
        self.strings.push_str(strings);
        self.chunks.insert(key, span);
        span
    }

    fn is_of(&self, span: &Span, members: &[N<'_>]) -> bool {
        let kept = &self.members[range(span.members)];
        kept.len() == members.len()
            && kept
                .iter()
                .zip(members)
                .all(|(a, b)| std::ptr::eq(&**a as *const GreenNodeData, b.green))
    }
}

/// One feature's kept chunks.
pub(crate) struct Cache<I> {
    kept: Mutex<Arena<I>>,
}

impl<I> Default for Cache<I> {
    fn default() -> Self {
        Cache {
            kept: Mutex::new(Arena::default()),
        }
    }
}

impl<I: Copy> Cache<I> {
    /// A computation's view: what was kept, and what it keeps.
    pub fn begin(&self) -> Use<'_, I> {
        let old = std::mem::take(&mut *self.kept.lock().unwrap_or_else(|e| e.into_inner()));
        Use {
            cache: self,
            new: Arena::sized_like(&old),
            old,
        }
    }

    /// How many chunks are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.kept
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .chunks
            .len()
    }
}

/// One computation's use of a [`Cache`]: the chunks it met are kept when
/// it ends.
pub(crate) struct Use<'c, I: Copy> {
    cache: &'c Cache<I>,
    old: Arena<I>,
    new: Arena<I>,
}

impl<I: Copy> Use<'_, I> {
    /// What was kept for these members with this signature (moved to what
    /// this computation keeps).
    pub fn get(&mut self, key: u64, members: &[N<'_>], signature: u64) -> Option<Span> {
        let span = *self
            .old
            .chunks
            .get(&key)
            .filter(|s| s.signature == signature && self.old.is_of(s, members))?;
        let old = &self.old;
        let ends = &old.ends[range(span.members)];
        Some(self.new.push(
            key,
            old.members[range(span.members)].iter().cloned(),
            ends,
            &old.items[range(span.items)],
            &old.strings[range(span.strings)],
            signature,
        ))
    }

    /// Keeps a chunk's items (relative to its start), with where each
    /// member's end, and the texts they refer to.
    pub fn put(
        &mut self,
        key: u64,
        members: &[N<'_>],
        signature: u64,
        items: &[I],
        ends: &[u32],
        strings: &str,
    ) -> Span {
        let greens = members.iter().map(|m| m.green.to_owned());
        self.new.push(key, greens, ends, items, strings, signature)
    }

    /// A kept chunk's items.
    pub fn items(&self, span: Span) -> &[I] {
        &self.new.items[range(span.items)]
    }

    /// A kept chunk's items of its `member`th member.
    pub fn member_items(&self, span: Span, member: usize) -> &[I] {
        let ends = &self.new.ends[range(span.members)];
        let from = member.checked_sub(1).map_or(0, |m| ends[m] as usize);
        &self.items(span)[from..ends[member] as usize]
    }

    /// The texts a kept chunk's items refer to.
    pub fn strings(&self, span: Span) -> &str {
        &self.new.strings[range(span.strings)]
    }
}

impl<I: Copy> Drop for Use<'_, I> {
    fn drop(&mut self) {
        let new = std::mem::take(&mut self.new);
        *self.cache.kept.lock().unwrap_or_else(|e| e.into_inner()) = new;
    }
}

/// A document's kept work, one cache per feature.
#[derive(Default)]
pub struct Memo {
    pub(crate) tokens: Cache<super::semantic_tokens::KeptToken>,
    pub(crate) symbols: Cache<super::symbols::Packed>,
    pub(crate) folds: Cache<super::folding::Fold>,
    pub(crate) links: Cache<super::links::Found>,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::Memo;
    use crate::ide::{self, Doc, NoWorld, SourceFile};

    /// What each feature answers for a doc.
    fn answers(
        doc: &Doc,
    ) -> (
        Vec<ide::SemanticToken>,
        Vec<ide::DocumentSymbol>,
        Vec<ide::Fold>,
        Vec<ide::Link>,
    ) {
        (
            ide::semantic_tokens(doc, None),
            ide::document_symbols(doc),
            ide::folding_ranges(doc),
            ide::document_links(doc, &NoWorld),
        )
    }

    /// The features' answers from the memo equal answers walked from
    /// scratch, after edits inside a member, between members, around the
    /// set, and to the names the members use (which change their tokens).
    #[test]
    fn answers_from_the_memo_equal_fresh_ones() {
        let members: String = (0..150)
            .map(|i| {
                format!(
                    "  p{i} = f {{ inherit helper; src = \"https://x.org/{i}\"; n = {{\n    a = 1;\n  }}; }}; # note {i}\n"
                )
            })
            .collect();
        let base = format!("{{ pkgs }}:\nlet helper = 1; f = x: x; in\n{{\n{members}}}\n");
        let memo = Arc::new(Memo::default());
        let settings = crate::config::Settings::default();
        let mut previous: Option<(String, crate::syntax::Parse)> = None;
        for text in [
            base.clone(),
            base.clone(),
            base.replacen("p70 = f", "p70 = f x", 1),
            base.replacen("# note 3\n", "# a longer note 3\n  # and more\n", 1),
            base.replacen("f = x: x;", "f = 2;", 1),
            base.replacen("let helper = 1;", "let helper = 1; map = 3;", 1),
            base.replacen("p5 = f { inherit helper;", "p5 = map { inherit helper;", 1),
            base.replacen("p9 = f", "p9 = [\n  f\n]", 1),
        ] {
            let earlier: Vec<(&str, &crate::syntax::Parse)> =
                previous.iter().map(|(t, p)| (t.as_str(), p)).collect();
            let analysis = crate::analysis::analyze_after(&text, &earlier, &settings);
            let parse = analysis.parse.clone().unwrap();
            let source = Arc::new(SourceFile::from_analysis(text.clone(), analysis));
            let with_memo = Doc::new(None, source.clone()).with_memo(memo.clone());
            let fresh = Doc::new(None, source);
            assert!(answers(&with_memo) == answers(&fresh), "{text}");
            previous = Some((text, parse));
        }
        // The memo holds the current chunks and nothing more.
        let kept = memo.tokens.len();
        assert!(kept > 1 && kept < 20, "{kept} chunks kept");
    }
}
