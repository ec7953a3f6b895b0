//! Reusing the previous model's walk. The members of a big plain set (the
//! 18 000 of all-packages.nix) are walked in chunks of consecutive members;
//! each chunk's part of the model is kept, relative to where the chunk
//! starts, under the identities of its members' green nodes and where each
//! lies in the chunk (an edit of the blanks between two members moves the
//! second). After an edit, the reparse keeps every member the edit did not
//! touch (the same green node), so the next model finds all but one or two
//! chunks unchanged and splices them in instead of walking them again.
//!
//! What a chunk holds does not depend on where it is, or on anything
//! outside it, except the names it uses from outside: those are kept
//! unresolved, with the innermost `with` inside the chunk around each, and
//! resolved again against the scopes around the set when the chunk is
//! spliced. The owner and `with` around the set are the same for every
//! member of a plain set (its members bind nothing), so links to them are
//! kept as "the one around".

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rowan::{GreenNode, TextRange, TextSize};
use rustc_hash::{FxHashMap, FxHasher};
use smol_str::SmolStr;

use super::{Def, RecSet, Scope};

/// A plain set with at least this many members is walked in chunks.
pub(super) const MEMO_MIN_MEMBERS: usize = 64;

/// About how many members a chunk has: a member ends a chunk when its
/// node's address hashes to a multiple of this (so chunk boundaries stay
/// where they were after an edit: they move with the members, not with
/// their count), or when the chunk has four times as many.
const CHUNK: u64 = 32;

/// Whether `member` ends a chunk of `len` members.
pub(super) fn ends_chunk(member: &rowan::GreenNodeData, len: usize) -> bool {
    let address = member as *const rowan::GreenNodeData as u64;
    let mixed = (address >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> 40).is_multiple_of(CHUNK) || len as u64 >= 4 * CHUNK
}

/// Every member of `chunks` in order, with its chunk's key, the chunk, and
/// its index in the chunk: how the features walk a set's members beside
/// its chunks.
pub(crate) fn chunk_members<'c, 'a>(
    chunks: &'c [(u64, Vec<crate::syntax::green::N<'a>>)],
) -> impl Iterator<Item = (u64, &'c [crate::syntax::green::N<'a>], usize)> + 'c {
    chunks
        .iter()
        .flat_map(|(key, members)| (0..members.len()).map(move |i| (*key, members.as_slice(), i)))
}

/// The members of a big plain set (not `rec`, at least
/// [`MEMO_MIN_MEMBERS`] of them) in the chunks the model is built in, each
/// with its key; `None` for any other node. The editor features cache
/// their work per chunk too.
pub(crate) fn set_chunks<'a>(
    set: &crate::syntax::green::N<'a>,
) -> Option<Vec<(u64, Vec<crate::syntax::green::N<'a>>)>> {
    use rnix::SyntaxKind::*;
    if set.kind() != NODE_ATTR_SET || set.children_with_tokens().any(|t| t.kind() == TOKEN_REC) {
        return None;
    }
    let members = set
        .children()
        .filter(|m| matches!(m.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT))
        .take(MEMO_MIN_MEMBERS)
        .count();
    if members < MEMO_MIN_MEMBERS {
        return None;
    }
    let mut chunks = Vec::new();
    let mut chunk = Vec::new();
    for member in set.children() {
        if !matches!(member.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT) {
            continue;
        }
        chunk.push(member);
        if ends_chunk(member.green, chunk.len()) {
            chunks.push((Memo::key(&chunk), std::mem::take(&mut chunk)));
        }
    }
    if !chunk.is_empty() {
        chunks.push((Memo::key(&chunk), chunk));
    }
    Some(chunks)
}

/// What a link from inside a chunk points to: an item of the chunk, or
/// the one around the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Link {
    Local(u32),
    Around,
}

/// A reference, kept small (a big set has thousands): `target` is a
/// definition of the chunk, or for a name the chunk does not bind (`free`,
/// resolved again at each splice) its index in [`Chunk::names`];
/// `with_inside` the innermost `with` of the chunk around a free name.
#[derive(Debug, Clone)]
pub(super) struct ChunkRef {
    pub range: TextRange,
    pub target: u32,
    pub free: bool,
    pub with_inside: Packed,
    pub owner: Packed,
}

/// An optional link in four bytes: `u32::MAX` none, `u32::MAX - 1` the one
/// around the set, else an item of the chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Packed(u32);

impl Packed {
    pub fn of(link: Option<Link>) -> Packed {
        match link {
            None => Packed(u32::MAX),
            Some(Link::Around) => Packed(u32::MAX - 1),
            Some(Link::Local(id)) => Packed(id),
        }
    }

    pub fn link(self) -> Option<Link> {
        match self.0 {
            u32::MAX => None,
            n if n == u32::MAX - 1 => Some(Link::Around),
            id => Some(Link::Local(id)),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct ChunkWith {
    pub range: TextRange,
    pub body_start: TextSize,
    pub env_is_builtins: bool,
    pub keyword: TextRange,
    pub owner: Option<Link>,
    pub outer: Option<Link>,
}

#[derive(Debug, Clone)]
pub(super) struct ChunkOwner {
    pub defs: Box<[u32]>,
    pub parent: Option<Link>,
}

/// One chunk's part of a model, relative to the chunk's start.
#[derive(Debug)]
pub(super) struct Chunk {
    /// The members, kept alive so that their addresses stay theirs.
    pub members: Box<[GreenNode]>,
    pub defs: Box<[Def]>,
    pub refs: Box<[ChunkRef]>,
    /// The names the chunk does not bind, each once.
    pub names: Box<[SmolStr]>,
    pub withs: Box<[ChunkWith]>,
    pub recs: Box<[RecSet]>,
    pub owners: Box<[ChunkOwner]>,
    pub scopes: Box<[Scope]>,
}

impl Chunk {
    /// Whether this chunk is of exactly these members.
    pub fn is_of(&self, members: &[&rowan::GreenNodeData]) -> bool {
        self.members.len() == members.len()
            && self
                .members
                .iter()
                .zip(members)
                .all(|(a, b)| std::ptr::eq(&**a as *const _, *b as *const _))
    }
}

/// The chunks of a model, by the identities of their members.
#[derive(Debug, Default)]
pub struct Memo {
    chunks: FxHashMap<u64, Arc<Chunk>>,
    /// How many of them came from the previous model.
    reused: usize,
}

impl Memo {
    /// A chunk's key: its members' identities and where each lies in the
    /// chunk. An edit of the blanks or a comment between two members keeps
    /// both nodes but moves the second: what was kept of the chunk, relative
    /// to its start, no longer fits it.
    fn key(members: &[crate::syntax::green::N<'_>]) -> u64 {
        let mut hasher = FxHasher::default();
        let start = members.first().map_or(TextSize::from(0), |m| m.offset);
        for member in members {
            (member.green as *const rowan::GreenNodeData as usize).hash(&mut hasher);
            u32::from(member.offset - start).hash(&mut hasher);
        }
        hasher.finish()
    }

    pub(super) fn get(&self, key: u64, members: &[&rowan::GreenNodeData]) -> Option<&Arc<Chunk>> {
        self.chunks.get(&key).filter(|c| c.is_of(members))
    }

    pub(super) fn insert(&mut self, key: u64, chunk: Arc<Chunk>, reused: bool) {
        self.chunks.insert(key, chunk);
        self.reused += usize::from(reused);
    }

    /// How many chunks the model was built from, and how many of them were
    /// taken from the previous model.
    pub fn stats(&self) -> (usize, usize) {
        (self.chunks.len(), self.reused)
    }
}

/// Where the model's lists stood when a chunk's walk began.
#[derive(Debug, Clone, Copy)]
pub(super) struct Marks {
    pub defs: usize,
    pub refs: usize,
    pub withs: usize,
    pub recs: usize,
    pub owners: usize,
    pub scopes: usize,
}

/// A link as kept in a chunk.
pub(super) fn link(id: Option<usize>, base: usize, around: Option<usize>) -> Option<Link> {
    match id {
        None => None,
        Some(id) if id >= base => Some(Link::Local((id - base) as u32)),
        Some(id) => {
            debug_assert_eq!(
                Some(id),
                around,
                "a link out of a chunk that is not the one around"
            );
            Some(Link::Around)
        }
    }
}

/// A kept link made absolute again.
pub(super) fn unlink(link: Option<Link>, base: usize, around: Option<usize>) -> Option<usize> {
    match link {
        None => None,
        Some(Link::Local(id)) => Some(base + id as usize),
        Some(Link::Around) => around,
    }
}

pub(super) fn shift(range: TextRange, by: TextSize) -> TextRange {
    range + by
}

pub(super) fn unshift(range: TextRange, by: TextSize) -> TextRange {
    range - by
}
