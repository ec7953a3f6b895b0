//! Formatting a new revision of a text by reusing the formatting of the
//! previous one: only the member of a set that the edit touched is
//! formatted again.
//!
//! This rests on the property that formatting in groups rests on (see the
//! parent module): nixpkgs-fmt formats a member of a set, and the
//! whitespace and comments after it, from the member itself, its set and
//! its neighbours, where any neighbour of the same kind will do. So when an
//! edit stays within member `i` of a set (its text and what follows it, up
//! to member `i + 1`), the formatted text before member `i` and from member
//! `i + 1` on is what the previous revision's formatting has there. Member
//! `i` itself is formatted in a small copy of the file: at its set and at
//! every enclosing set, the other members are left out and the next one is
//! replaced by a one-line stand-in, which is the group formatting applied
//! at each level. For the last member of a set, the part is the member
//! alone: what follows it is formatted with the end of the set.
//!
//! Two things more than the group formatting are assumed, and tested: the
//! line break and indentation before a set's first member, and after its
//! last, depend on the set and not on the member. Sets inside a string's
//! interpolation are never split: nixpkgs-fmt indents a whole indented
//! string by its least indented line, wherever that is.
//!
//! `tests/format_corpus.rs` checks the result against whole-file runs for
//! edits in members of every set of the corpora, in both directions and
//! in chains of revisions.

use std::sync::OnceLock;

use rnix_fmt::{NodeOrToken, SyntaxNode, TextRange, TextSize};
use rowan_fmt::GreenNode;

use super::{is_member, member_nodes, offset, path_to, splittable, Member};

/// The text `new` formatted, when it can be had from `old` and its
/// formatted form `old_out` by formatting again only the member of a set
/// that the edit from `old` to `new` touched. `None` when the edit does not
/// stay within one such member, a text has syntax errors, or nixpkgs-fmt
/// fails on the part: the caller then formats `new` whole.
pub fn format_reusing(old: &str, old_out: &str, new: &str) -> Option<String> {
    reuse(old, parse_tree(old)?, old_out, parse_tree(old_out)?, new).map(|r| r.text)
}

/// The trees nixpkgs-fmt's parser makes of a text and of its formatted
/// form, kept for the reuse that formats the next revision: made by the
/// reuse that gave the formatted form, or parsed ahead of the next edit
/// (see [`crate::format::Formatted::prepare`]). `None` in a cell: the
/// text has syntax errors.
#[derive(Default)]
pub struct Trees {
    input: OnceLock<Option<GreenNode>>,
    output: OnceLock<Option<GreenNode>>,
}

impl Trees {
    pub fn input(&self, text: &str) -> Option<GreenNode> {
        tree(&self.input, text)
    }

    pub fn output(&self, text: &str) -> Option<GreenNode> {
        tree(&self.output, text)
    }

    /// Whether the trees kept, where kept, are what parsing the texts
    /// gives. For the tests.
    pub fn are_parses(&self, input: &str, output: &str) -> bool {
        [(&self.input, input), (&self.output, output)]
            .into_iter()
            .all(|(cell, text)| cell.get().is_none_or(|kept| *kept == parse_tree(text)))
    }
}

fn tree(cell: &OnceLock<Option<GreenNode>>, text: &str) -> Option<GreenNode> {
    cell.get_or_init(|| parse_tree(text)).clone()
}

/// A reuse's result: the formatted text, and the trees of the text and of
/// its formatted form for the next reuse.
pub(crate) struct Reused {
    pub text: String,
    pub trees: Trees,
}

/// [`format_reusing`] with the previous texts' trees kept in `trees`.
pub(crate) fn format_reusing_trees(
    old: &str,
    old_out: &str,
    trees: &Trees,
    new: &str,
) -> Option<Reused> {
    reuse(old, trees.input(old)?, old_out, trees.output(old_out)?, new)
}

fn reuse(
    old: &str,
    old_tree: GreenNode,
    old_out: &str,
    out_tree: GreenNode,
    new: &str,
) -> Option<Reused> {
    if old == new {
        return Some(Reused {
            text: old_out.to_string(),
            trees: Trees {
                input: Some(old_tree).into(),
                output: Some(out_tree).into(),
            },
        });
    }
    // nixpkgs-fmt works on `\n` text; the whole-file path handles `\r\n`.
    if [old, old_out, new].iter().any(|t| t.contains('\r')) {
        return None;
    }
    let (start, new_end, old_end) = changed(old, new);
    let new_root = parse_clean(new)?;
    let anchor = anchor(&new_root, new, start, new_end)?;
    let path = path_to(&anchor.set)?;
    let i = anchor.index;

    // The old text has the same set, with the same members around the edit.
    let old_root = SyntaxNode::new_root(old_tree);
    let old_members = splittable(&follow(&old_root, &path)?, old)?;
    // Offsets after the edit, measured from its end in each text.
    let after = |at: usize, edit_end: usize| at as isize - edit_end as isize;
    let same = old_members.len() == anchor.members.len()
        && old_members
            .iter()
            .zip(&anchor.members)
            .enumerate()
            .all(|(j, (o, n))| {
                o.inherit == n.inherit
                    && match j.cmp(&i) {
                        std::cmp::Ordering::Less => o.start == n.start && o.end == n.end,
                        // The last member's end bounds its part.
                        std::cmp::Ordering::Equal => {
                            o.start == n.start
                                && (!anchor.last()
                                    || (o.end >= old_end
                                        && after(o.end, old_end) == after(n.end, new_end)))
                        }
                        std::cmp::Ordering::Greater => {
                            o.start >= old_end
                                && after(o.start, old_end) == after(n.start, new_end)
                                && after(o.end, old_end) == after(n.end, new_end)
                        }
                    }
            });
    if !same {
        return None;
    }

    // The member's part of the previous formatting: up to the next member,
    // or the end of the last one.
    let out_root = SyntaxNode::new_root(out_tree);
    let out_set = follow(&out_root, &path)?;
    let out_members: Vec<SyntaxNode> = member_nodes(&out_set).collect();
    if out_members.len() != anchor.members.len() {
        return None;
    }
    let (from, to) = match out_members.get(i + 1) {
        Some(next) => (
            out_members[i].text_range().start(),
            next.text_range().start(),
        ),
        None => (
            out_members[i].text_range().start(),
            out_members[i].text_range().end(),
        ),
    };
    let part = format_member(new, &anchor)?;
    let mut text = String::with_capacity(old_out.len() + part.text.len());
    text.push_str(&old_out[..offset(from)]);
    text.push_str(&part.text);
    text.push_str(&old_out[offset(to)..]);

    // The tree of the new formatted text: the old one with the member's
    // elements replaced by the part's. It is what parsing the text gives,
    // as the part was parsed in the same place of the same kind of set.
    let a = child_index(&out_set, &out_members[i])?;
    let b = match out_members.get(i + 1) {
        Some(next) => child_index(&out_set, next)?,
        None => a + 1,
    };
    let elements = part
        .set
        .green()
        .children()
        .skip(part.elements.start)
        .take(part.elements.len())
        .map(|e| match e {
            NodeOrToken::Node(n) => NodeOrToken::Node(n.to_owned()),
            NodeOrToken::Token(t) => NodeOrToken::Token(t.to_owned()),
        })
        .collect::<Vec<_>>();
    let set_tree = out_set.green().splice_children(a..b, elements);
    let out_tree = out_set.replace_with(set_tree);
    let trees = Trees {
        input: Some(new_root.green().to_owned()).into(),
        output: OnceLock::new(),
    };
    // Not expected to fail; if it did, the next reuse parses the text.
    if usize::from(out_tree.text_len()) == text.len() {
        let _ = trees.output.set(Some(out_tree));
    }
    Some(Reused { text, trees })
}

/// The edit from `old` to `new`: where it starts, and where it ends in
/// `new` and in `old` (the texts agree before the start and after the
/// ends).
fn changed(old: &str, new: &str) -> (usize, usize, usize) {
    let (a, b) = (old.as_bytes(), new.as_bytes());
    let mut start = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    while !new.is_char_boundary(start) {
        start -= 1;
    }
    let room = a.len().min(b.len()) - start;
    let mut common_end = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(room)
        .take_while(|(x, y)| x == y)
        .count();
    while !new.is_char_boundary(b.len() - common_end) {
        common_end -= 1;
    }
    (start, b.len() - common_end, a.len() - common_end)
}

/// The root of `text`'s parse by nixpkgs-fmt's parser, if it has no errors.
fn parse_clean(text: &str) -> Option<SyntaxNode> {
    let parse = rnix_fmt::parse(text);
    parse.errors().is_empty().then(|| parse.node())
}

/// The tree of `text` by nixpkgs-fmt's parser, if it has no errors.
fn parse_tree(text: &str) -> Option<GreenNode> {
    parse_clean(text).map(|n| n.green().to_owned())
}

/// Where `child` is among the children (nodes and tokens) of `parent`.
fn child_index(parent: &SyntaxNode, child: &SyntaxNode) -> Option<usize> {
    parent
        .children_with_tokens()
        .position(|e| e.as_node() == Some(child))
}

/// The node at `path` (child-node indices) from `root`.
fn follow(root: &SyntaxNode, path: &[usize]) -> Option<SyntaxNode> {
    let mut node = root.clone();
    for &i in path {
        node = node.children().nth(i)?;
    }
    Some(node)
}

/// The member whose formatting an edit changes.
struct Anchor {
    set: SyntaxNode,
    members: Vec<Member>,
    /// The edited member.
    index: usize,
}

impl Anchor {
    fn last(&self) -> bool {
        self.index + 1 == self.members.len()
    }
}

fn is_set(node: &SyntaxNode) -> bool {
    matches!(
        node.kind(),
        rnix_fmt::SyntaxKind::NODE_ATTR_SET | rnix_fmt::SyntaxKind::NODE_LET_IN
    )
}

/// The innermost splittable set in which the edit `start..end` of `text`
/// stays within one member: within what follows it up to the next member
/// too, but within the last member itself (what follows that is formatted
/// with the set's end).
fn anchor(root: &SyntaxNode, text: &str, start: usize, end: usize) -> Option<Anchor> {
    // The nodes that contain the edit, outermost first.
    let mut chain = vec![root.clone()];
    while let Some(child) = chain[chain.len() - 1].children().find(|c| {
        let r = c.text_range();
        offset(r.start()) <= start && end <= offset(r.end())
    }) {
        chain.push(child);
    }
    chain.iter().rev().filter(|n| is_set(n)).find_map(|set| {
        let members = splittable(set, text)?;
        let index = members.iter().enumerate().position(|(j, m)| {
            let bound = members.get(j + 1).map_or(m.end, |next| next.start);
            m.start <= start && end <= bound
        })?;
        Some(Anchor {
            set: set.clone(),
            members,
            index,
        })
    })
}

/// The formatted text of the anchor's member and what follows it up to the
/// next member, formatted in a copy of `text` cut down to that member at
/// its set and at every enclosing splittable set.
fn format_member(text: &str, anchor: &Anchor) -> Option<Part> {
    // (range of `text`, replacement), disjoint.
    let mut cuts: Vec<(usize, usize, &str)> = Vec::new();
    let mut cut_at = |members: &[Member], keep: usize| {
        if keep > 0 {
            cuts.push((members[0].start, members[keep].start, ""));
        }
        if let Some(next) = members.get(keep + 1) {
            let stand_in = if next.inherit {
                "inherit stand-in;"
            } else {
                "stand-in = null;"
            };
            cuts.push((next.start, members[members.len() - 1].end, stand_in));
        }
    };
    cut_at(&anchor.members, anchor.index);
    let mut inner = anchor.set.clone();
    while let Some(parent) = inner.parent() {
        if is_set(&parent) && is_member(inner.kind()) {
            if let Some(members) = splittable(&parent, text) {
                let at = offset(inner.text_range().start());
                if let Some(keep) = members.iter().position(|m| m.start == at) {
                    cut_at(&members, keep);
                }
            }
        }
        inner = parent;
    }
    cuts.sort_unstable_by_key(|c| c.0);

    // No cut touches the member: they are before or after it at its set,
    // and outside the enclosing member at the sets around.
    let member = anchor.members[anchor.index];
    let mut copy = String::with_capacity(text.len().min(4 * (member.end - member.start) + 4096));
    let mut at = 0;
    let mut member_at = member.start;
    for (start, end, with) in cuts {
        if start < at {
            return None; // overlapping cuts: not expected, not guessed at
        }
        if end <= member.start {
            member_at = member_at + with.len() - (end - start);
        }
        copy.push_str(&text[at..start]);
        copy.push_str(with);
        at = end;
    }
    copy.push_str(&text[at..]);

    // The set in the copy, found from where the member starts, and its
    // place, which formatting keeps.
    let copy_root = parse_clean(&copy)?;
    let length = TextSize::from((member.end - member.start) as u32);
    let at = TextSize::from(member_at as u32);
    let element = copy_root.covering_element(TextRange::at(at, length));
    let member_node = element
        .ancestors()
        .find(|n| is_member(n.kind()) && n.text_range() == TextRange::at(at, length))?;
    let set = member_node.parent()?;
    let path = path_to(&set)?;

    let formatted = crate::format::contained(crate::format::Style::NixpkgsFmt, || {
        nixpkgs_fmt::reformat_string(&copy)
    })
    .ok()?;
    let formatted_root = parse_clean(&formatted)?;
    let set = follow(&formatted_root, &path)?;
    let members: Vec<SyntaxNode> = member_nodes(&set).collect();
    let (member, to) = match (&members[..], anchor.last()) {
        ([member, stand_in], false) => (member, stand_in.text_range().start()),
        ([member], true) => (member, member.text_range().end()),
        _ => return None,
    };
    let first = child_index(&set, member)?;
    let elements = match members.get(1) {
        Some(stand_in) => first..child_index(&set, stand_in)?,
        None => first..first + 1,
    };
    Some(Part {
        text: formatted[offset(member.text_range().start())..offset(to)].to_string(),
        set,
        elements,
    })
}

/// A member formatted in a copy of the file, with what follows it up to
/// the stand-in after it (nothing more for a set's last member).
struct Part {
    text: String,
    /// The set in the formatted copy, and which of its children (nodes and
    /// tokens) make the part.
    set: SyntaxNode,
    elements: std::ops::Range<usize>,
}
