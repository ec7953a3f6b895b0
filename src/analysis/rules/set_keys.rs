//! The keys of a set, for duplicate attributes and `rec` merges.
//! Duplicates follow Nix's own rules for building a set from dotted paths:
//! `a.b = 1; a.c = 2;` and `a = { b = 1; }; a.c = 2;` merge, `a = 1; a.b =
//! 2;` does not, and two set literals for one name merge one level deep.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use rnix::SyntaxKind;
use rowan::{TextRange, TextSize};
use smol_str::SmolStr;

use SyntaxKind::*;

use crate::diagnostic::registry::*;
use crate::diagnostic::Diagnostic;
use crate::syntax::green::{attr_name, N};

/// The set literal a value is, through parentheses, and whether it is `rec`.
fn set_literal<'a>(value: &N<'a>) -> Option<(N<'a>, bool)> {
    let mut node = *value;
    while node.kind() == NODE_PAREN {
        node = node.children().next()?;
    }
    (node.kind() == NODE_ATTR_SET).then(|| {
        let rec = node.children_with_tokens().any(|t| t.kind() == TOKEN_REC);
        (node, rec)
    })
}

/// One attribute of a set being built: where it was first defined, and
/// its own attributes when its value is a set.
struct Entry {
    site: TextRange,
    inherited: bool,
    sub: Option<Keys>,
    rec: bool,
}

/// The attributes of a set: a list, indexed by a map once it is long
/// (most sets have a handful of members; all-packages.nix has one with
/// 15 000).
#[derive(Default)]
struct Keys {
    list: Vec<(SmolStr, Entry)>,
    index: Option<HashMap<SmolStr, usize>>,
}

const INDEX_FROM: usize = 16;

impl Keys {
    /// Keys for a set of about `members` members: a big set's list and
    /// index are allocated once, not grown (a package set's 17 000 names
    /// at every keystroke).
    fn for_members(members: usize) -> Keys {
        if members < INDEX_FROM {
            return Keys::default();
        }
        Keys {
            list: Vec::with_capacity(members),
            index: Some(HashMap::with_capacity_and_hasher(
                members,
                Default::default(),
            )),
        }
    }

    fn position(&self, name: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(name).copied(),
            None => self.list.iter().position(|(n, _)| n == name),
        }
    }

    fn get(&self, name: &str) -> Option<&Entry> {
        self.position(name).map(|i| &self.list[i].1)
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut Entry> {
        self.position(name).map(|i| &mut self.list[i].1)
    }

    fn insert(&mut self, name: SmolStr, entry: Entry) {
        if let Some(index) = &mut self.index {
            index.insert(name.clone(), self.list.len());
        }
        self.list.push((name, entry));
        if self.index.is_none() && self.list.len() >= INDEX_FROM {
            self.index = Some(
                self.list
                    .iter()
                    .enumerate()
                    .map(|(i, (n, _))| (n.clone(), i))
                    .collect(),
            );
        }
    }

    /// The entry for `name`, added by `make` when missing.
    fn entry(&mut self, name: SmolStr, make: impl FnOnce() -> Entry) -> &mut Entry {
        let i = match self.position(&name) {
            Some(i) => i,
            None => {
                self.insert(name, make());
                self.list.len() - 1
            }
        };
        &mut self.list[i].1
    }
}

impl IntoIterator for Keys {
    type Item = (SmolStr, Entry);
    type IntoIter = std::vec::IntoIter<(SmolStr, Entry)>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.into_iter()
    }
}

pub(super) struct SetChecker {
    pub(super) found: Vec<Diagnostic>,
    pub(super) duplicates: bool,
    pub(super) rec_merges: bool,
    pub(super) with_errors: bool,
}

/// What the check of a set's keys needs of one member, found by checking
/// the member alone: the first names it defines (hashed), whether the
/// parser recovered in it, and what it alone shows. A big set keeps these
/// per chunk (see `memo`), so that a keystroke checks together only the
/// members whose first names repeat, not 17 000 names.
#[derive(Clone)]
pub(super) struct MemberKeys {
    names: Names,
    /// The member is an error node.
    error: bool,
    /// It has no `;` of its own, or holds an error node.
    loose: bool,
    alone: Box<[Diagnostic]>,
}

impl MemberKeys {
    /// The keys with their findings moved from `from` to `to`.
    pub(super) fn moved(&self, from: TextSize, to: TextSize) -> MemberKeys {
        MemberKeys {
            alone: self.alone.iter().map(|d| d.moved(from, to)).collect(),
            ..self.clone()
        }
    }
}

/// The hashes of the first names a member defines (`a` of `a.b = 1;`, each
/// name of an `inherit`); most members define one.
#[derive(Clone)]
enum Names {
    None,
    One(u64),
    Many(Box<[u64]>),
}

impl Names {
    fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let (one, many): (Option<u64>, &[u64]) = match self {
            Names::None => (None, &[]),
            Names::One(hash) => (Some(*hash), &[]),
            Names::Many(hashes) => (None, hashes),
        };
        one.into_iter().chain(many.iter().copied())
    }
}

fn name_hash(name: &str) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    name.hash(&mut hasher);
    hasher.finish()
}

/// Members' keys of a set, in order: one found now, or a chunk's kept.
pub(super) enum Segment {
    /// One member's, its findings where they are.
    Found(MemberKeys),
    /// A chunk's, its findings relative to `base`, where it is now.
    Kept(Arc<[MemberKeys]>, TextSize),
}

/// Whether the parser recovered from a syntax error in `member` (of a set
/// or `let`): it has no `;` of its own, or holds an error node. What
/// follows it may be another construct read as members (a lambda's
/// pattern, the members of a set after a `let` whose `in` went missing),
/// so the rules stop there; the syntax error is reported.
pub(super) fn recovered(member: &N<'_>, with_errors: bool) -> bool {
    member.kind() == NODE_ERROR
        || (with_errors
            && (!member.ends_with_semicolon() || member.children().any(|c| c.kind() == NODE_ERROR)))
}

impl SetChecker {
    fn duplicate(&mut self, range: TextRange, path: &str, first: TextRange) {
        if self.duplicates {
            self.found.push(
                Diagnostic::new(
                    DUPLICATE_KEY,
                    range,
                    format!("duplicate attribute '{path}'"),
                )
                .with_related(first, format!("'{path}' is first defined here")),
            );
        }
    }

    fn rec_merge(&mut self, range: TextRange, first: TextRange) {
        if self.rec_merges {
            self.found.push(
                Diagnostic::new(
                    REC_MERGE,
                    range,
                    "this set is merged with a `rec` set through dotted paths: `rec` does not apply to it",
                )
                .with_related(first, "the other part of the set is defined here"),
            );
        }
    }

    /// The attributes a set (or `let`) defines, reporting duplicates.
    fn check_set(&mut self, set: &N<'_>) -> Keys {
        let mut keys = Keys::for_members(set.green.children().len() / 2);
        for member in set.children() {
            if recovered(&member, self.with_errors) {
                break;
            }
            self.member(&mut keys, &member);
        }
        keys
    }

    /// Reports the duplicates among a set's (or `let`'s) attributes.
    pub(super) fn check(&mut self, set: &N<'_>) {
        self.check_set(set);
    }

    /// Adds what `member` of a set defines to `keys`, reporting duplicates.
    fn member(&mut self, keys: &mut Keys, member: &N<'_>) {
        match member.kind() {
            NODE_ATTRPATH_VALUE => self.binding(keys, member),
            NODE_INHERIT => {
                for attr in member.children().filter(|c| c.kind() != NODE_INHERIT_FROM) {
                    let Some(name) = attr_name(&attr) else {
                        continue;
                    };
                    match keys.get(&name) {
                        Some(first) => {
                            let first = first.site;
                            self.duplicate(attr.text_range(), &name, first);
                        }
                        None => {
                            keys.insert(
                                name,
                                Entry {
                                    site: attr.text_range(),
                                    inherited: true,
                                    sub: None,
                                    rec: false,
                                },
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// A member's keys, found by checking it alone; its findings are
    /// where they are in the tree.
    pub(super) fn member_keys(&mut self, member: &N<'_>) -> MemberKeys {
        let names = match member.kind() {
            NODE_ATTRPATH_VALUE => member
                .children()
                .find(|c| c.kind() == NODE_ATTRPATH)
                .and_then(|path| path.children().next())
                .and_then(|first| attr_name(&first))
                .map_or(Names::None, |name| Names::One(name_hash(&name))),
            NODE_INHERIT => {
                let hashes: Vec<u64> = member
                    .children()
                    .filter(|c| c.kind() != NODE_INHERIT_FROM)
                    .filter_map(|attr| attr_name(&attr))
                    .map(|name| name_hash(&name))
                    .collect();
                match hashes.as_slice() {
                    [] => Names::None,
                    [one] => Names::One(*one),
                    _ => Names::Many(hashes.into()),
                }
            }
            _ => Names::None,
        };
        let mark = self.found.len();
        self.member(&mut Keys::default(), member);
        MemberKeys {
            names,
            error: member.kind() == NODE_ERROR,
            loose: !member.ends_with_semicolon()
                || member.children().any(|c| c.kind() == NODE_ERROR),
            alone: self.found.drain(mark..).collect(),
        }
    }

    /// What [`check`](Self::check) reports for `set`, from its members'
    /// keys (`segments`, one per child node of `set`, in order). A member
    /// none of whose first names another member defines meets no other
    /// member in the set's keys, so its findings are those it has alone;
    /// only the members whose first names repeat are checked together, in
    /// order. (A hash shared by two different names only sends both
    /// through the second way, which is exact too.)
    pub(super) fn check_keyed(&mut self, set: &N<'_>, segments: &[Segment]) {
        let with_errors = self.with_errors;
        let members = || {
            segments
                .iter()
                .flat_map(|segment| {
                    let (members, base) = match segment {
                        Segment::Found(member) => (std::slice::from_ref(member), None),
                        Segment::Kept(members, base) => (&**members, Some(*base)),
                    };
                    members.iter().map(move |m| (m, base))
                })
                .take_while(move |(m, _)| !(m.error || (with_errors && m.loose)))
        };
        let mut seen = HashSet::default();
        let mut repeated = HashSet::default();
        for (member, _) in members() {
            for name in member.names.iter() {
                if !seen.insert(name) {
                    repeated.insert(name);
                }
            }
        }
        drop(seen);
        let mut keys = Keys::default();
        let zero = TextSize::from(0);
        for ((member, base), child) in members().zip(set.children()) {
            if member.names.iter().any(|name| repeated.contains(&name)) {
                self.member(&mut keys, &child);
                continue;
            }
            match base {
                None => self.found.extend(member.alone.iter().cloned()),
                Some(base) => self
                    .found
                    .extend(member.alone.iter().map(|d| d.moved(zero, base))),
            }
        }
    }

    fn binding(&mut self, keys: &mut Keys, member: &N<'_>) {
        let Some(path) = member.children().find(|c| c.kind() == NODE_ATTRPATH) else {
            return;
        };
        let value = member.children().nth(1);
        let literal = value.as_ref().and_then(set_literal);
        let path_range = path.text_range();
        // The path up to its `i`th name, for messages only: built when a
        // finding needs it (a package set has 15 000 bindings to look at).
        let dotted = |i: usize| -> String {
            let names: Vec<SmolStr> = path
                .children()
                .take(i + 1)
                .filter_map(|a| attr_name(&a))
                .collect();
            names.join(".")
        };
        let mut cur = keys;
        let mut attrs = path.children().enumerate().peekable();
        while let Some((i, attr)) = attrs.next() {
            let Some(name) = attr_name(&attr) else {
                // A dynamic name: nothing more is known statically.
                if let Some((set, _)) = &literal {
                    self.check_set(set);
                }
                return;
            };
            let last = attrs.peek().is_none();
            if !last {
                let entry = cur.entry(name, || Entry {
                    site: path_range,
                    inherited: false,
                    sub: Some(Keys::default()),
                    rec: false,
                });
                if entry.inherited || entry.sub.is_none() {
                    let first = entry.site;
                    self.duplicate(path_range, &dotted(i), first);
                    if let Some((set, _)) = &literal {
                        self.check_set(set);
                    }
                    return;
                }
                if entry.rec {
                    let first = entry.site;
                    self.rec_merge(path_range, first);
                }
                let Some(sub) = entry.sub.as_mut() else {
                    return;
                };
                cur = sub;
                continue;
            }
            match cur.get_mut(&name) {
                None => {
                    let (sub, rec) = match &literal {
                        Some((set, rec)) => (Some(self.check_set(set)), *rec),
                        None => (None, false),
                    };
                    cur.insert(
                        name,
                        Entry {
                            site: path_range,
                            inherited: false,
                            sub,
                            rec,
                        },
                    );
                }
                Some(existing) => {
                    let first = existing.site;
                    let mergeable = !existing.inherited && existing.sub.is_some();
                    match (&literal, mergeable) {
                        (Some((set, rec)), true) => {
                            if *rec != existing.rec {
                                self.rec_merge(path_range, first);
                            }
                            let new_keys = self.check_set(set);
                            // `existing` is borrowed from `cur`; look it up again.
                            let mut conflicts = Vec::new();
                            if let Some(sub) = cur.get_mut(&name).and_then(|e| e.sub.as_mut()) {
                                for (key, entry) in new_keys {
                                    match sub.get(&key) {
                                        Some(old) => conflicts.push((entry.site, key, old.site)),
                                        None => {
                                            sub.insert(key, entry);
                                        }
                                    }
                                }
                            }
                            for (range, key, old) in conflicts {
                                self.duplicate(range, &format!("{}.{key}", dotted(i)), old);
                            }
                        }
                        _ => {
                            self.duplicate(path_range, &dotted(i), first);
                            if let Some((set, _)) = &literal {
                                self.check_set(set);
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checker(with_errors: bool) -> SetChecker {
        SetChecker {
            found: Vec::new(),
            duplicates: true,
            rec_merges: true,
            with_errors,
        }
    }

    /// The set's findings from its members' keys, some of them kept
    /// relative to a chunk's start as a replay would give them.
    fn keyed(text: &str, seed: u64) -> Vec<Diagnostic> {
        let (green, with_errors) = parsed(text);
        let set = the_set(&green);
        let mut checker = checker(with_errors);
        let mut segments = Vec::new();
        let mut chunk: Vec<MemberKeys> = Vec::new();
        let mut base = None;
        let mut state = seed;
        for member in set.children() {
            let keys = checker.member_keys(&member);
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if (state >> 33).is_multiple_of(3) {
                if let Some(at) = base.take() {
                    segments.push(Segment::Kept(std::mem::take(&mut chunk).into(), at));
                }
                segments.push(Segment::Found(keys));
            } else {
                let at = *base.get_or_insert(member.offset);
                chunk.push(keys.moved(at, 0.into()));
            }
        }
        if let Some(at) = base {
            segments.push(Segment::Kept(chunk.into(), at));
        }
        assert!(checker.found.is_empty(), "member_keys leaves no findings");
        checker.check_keyed(&set, &segments);
        checker.found
    }

    fn plain(text: &str) -> Vec<Diagnostic> {
        let (green, with_errors) = parsed(text);
        let mut checker = checker(with_errors);
        checker.check(&the_set(&green));
        checker.found
    }

    /// The text's tree, and whether it has syntax errors.
    fn parsed(text: &str) -> (rowan::GreenNode, bool) {
        let parse = crate::syntax::parse(text);
        let green = parse.green().expect("a tree").clone();
        (green, !parse.errors().is_empty())
    }

    /// The file's expression: the set.
    fn the_set(green: &rowan::GreenNode) -> N<'_> {
        let root = N {
            green,
            offset: 0.into(),
        };
        root.children().next().expect("the set")
    }

    /// Checking a set from its members' keys finds what checking it whole
    /// does, in the same order: names that repeat in every way a set can
    /// define them (merged dotted paths, set literals, `rec`, `inherit`,
    /// quoted and dynamic names), among unique ones, with and without a
    /// member the parser recovered in.
    #[test]
    fn keyed_check_equals_the_whole_check() {
        let pieces = [
            "a = 1;",
            "a.b = 1;",
            "a.c = { d = 1; };",
            "a = { b = 2; e = 3; };",
            "a = rec { f = 1; };",
            "b.x.y = 1;",
            "b = { x = { z = 1; }; };",
            "inherit a;",
            "inherit (p) b c;",
            "inherit c c;",
            "\"c\" = 1;",
            "${d} = 1;",
            "d = { a = 1; a = 2; };",
            "e.f = rec { g = 1; };",
            "e.f.h = 2;",
            "f = ",
        ];
        let mut state = 7u64;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as usize) % n
        };
        let mut compared = 0;
        for round in 0..300 {
            let mut text = String::from("{\n");
            for i in 0..(20 + next(60)) {
                let piece = match next(3) {
                    0 => format!("u{i} = {{ v = 1; v = 2; }};"),
                    _ => pieces[next(pieces.len() - usize::from(round % 4 != 0))].to_string(),
                };
                text.push_str("  ");
                text.push_str(&piece);
                text.push('\n');
            }
            text.push_str("}\n");
            let expected = plain(&text);
            assert_eq!(keyed(&text, round), expected, "{text}");
            compared += expected.len();
        }
        assert!(compared > 1000, "the sets have duplicates to find");
    }
}
