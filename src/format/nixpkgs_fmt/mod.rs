//! The `nixpkgs-fmt` style: the nixpkgs-fmt crate, in process.
//!
//! nixpkgs-fmt takes time quadratic in the number of members of a set: its
//! rules walk back over a member's previous siblings (4-5 s for the 15 000
//! members of all-packages.nix). So a set with many members is formatted in
//! groups of members: each group in a copy of the file that holds only that
//! group and, in place of the member after it, a one-line stand-in of the
//! same kind (so the whitespace and comments after the group are formatted
//! as before a member). The groups' formatted text is joined. Every rule of
//! nixpkgs-fmt looks at an element's own subtree, its parent and its
//! neighbours, so this is the text one whole-file run gives;
//! `tests/format_corpus.rs` checks that with a cut between every two
//! members, on every file of every corpus.

mod reuse;

use std::sync::Arc;

use rnix_fmt::{SyntaxKind, SyntaxNode};

pub use self::reuse::{format_reusing, Trees};
use super::{contained, FormatError, Formatted, Formatter, Style};

pub struct NixpkgsFmt;

/// Sets with fewer members are formatted whole.
const SPLIT_MIN_MEMBERS: usize = 1024;
/// Members per group: small enough that the quadratic part is cheap, big
/// enough that the head and tail of the file repeated in every group cost
/// little.
const GROUP_MEMBERS: usize = 256;

impl Formatter for NixpkgsFmt {
    fn style(&self) -> Style {
        Style::NixpkgsFmt
    }

    fn format(&self, text: &str) -> Result<String, FormatError> {
        // Formatting a mid-sized file in parts on both cores was measured
        // slower here than one run (doc/benchmarks.md); only big sets,
        // where whole runs are quadratic, are cut.
        with_plan(text, |root, text| {
            Plan::by_count(root, text, SPLIT_MIN_MEMBERS, GROUP_MEMBERS)
        })
    }

    fn format_after(
        &self,
        text: &Arc<String>,
        previous: &Formatted,
    ) -> Result<Formatted, FormatError> {
        let reused =
            reuse::format_reusing_trees(&previous.input, &previous.output, &previous.trees, text);
        Ok(match reused {
            Some(reused) => Formatted {
                style: Style::NixpkgsFmt,
                input: text.clone(),
                output: Arc::new(reused.text),
                trees: Arc::new(reused.trees),
                reused: true,
            },
            None => Formatted::new(
                Style::NixpkgsFmt,
                text.clone(),
                Arc::new(self.format(text)?),
            ),
        })
    }
}

/// nixpkgs-fmt's output for `text`, formatting sets of at least
/// `min_members` members in groups of `group` members. Public for the
/// tests that prove it equal to one whole-file run.
#[doc(hidden)]
pub fn format_in_groups(
    text: &str,
    min_members: usize,
    group: usize,
) -> Result<String, FormatError> {
    with_plan(text, |root, text| {
        Plan::by_count(root, text, min_members, group.max(1))
    })
}

/// How many groups `format_in_groups` would cut `text` into; 1 when it
/// formats it whole. For the tests.
#[doc(hidden)]
pub fn planned_groups(text: &str, min_members: usize, group: usize) -> usize {
    let text = text.replace("\r\n", "\n");
    let root = rnix_fmt::parse(&text).node();
    Plan::by_count(&root, &text, min_members, group.max(1)).map_or(1, |p| p.groups.len())
}

fn with_plan(
    text: &str,
    plan: impl FnOnce(&SyntaxNode, &str) -> Option<Plan>,
) -> Result<String, FormatError> {
    // nixpkgs-fmt works on `\n` text and restores `\r\n` at the end.
    let crlf = text.contains("\r\n");
    let lf_text;
    let text = if crlf {
        lf_text = text.replace("\r\n", "\n");
        &lf_text
    } else {
        text
    };
    // nixpkgs-fmt reformats whatever its parser (rnix 0.10) makes of the
    // text, errors included: syntax newer than that parser would be
    // mangled, so refuse what it cannot read.
    let ast = rnix_fmt::parse(text);
    if let Some(error) = ast.errors().first() {
        return Err(FormatError::Unsupported {
            style: Style::NixpkgsFmt,
            message: error.to_string(),
        });
    }
    let root = ast.node();
    let formatted = match plan(&root, text) {
        Some(plan) => plan.run(text)?,
        // The parse is reused: what `reformat_string` does, minus a parse.
        None => contained(Style::NixpkgsFmt, || {
            nixpkgs_fmt::reformat_node(&root).to_string()
        })?,
    };
    Ok(if crlf {
        formatted.replace('\n', "\r\n")
    } else {
        formatted
    })
}

/// How a text is cut into groups of members of one set.
struct Plan {
    /// Child-node indices from the root to the split set.
    path: Vec<usize>,
    /// Each member of the set: start and end offset, and whether it is an
    /// `inherit`.
    members: Vec<Member>,
    /// Index of the first member of each group.
    groups: Vec<usize>,
}

#[derive(Clone, Copy)]
struct Member {
    start: usize,
    end: usize,
    inherit: bool,
}

fn is_member(kind: SyntaxKind) -> bool {
    matches!(kind, SyntaxKind::NODE_KEY_VALUE | SyntaxKind::NODE_INHERIT)
}

fn member_nodes(node: &SyntaxNode) -> impl Iterator<Item = SyntaxNode> {
    node.children().filter(|c| is_member(c.kind()))
}

fn offset(at: rnix_fmt::TextSize) -> usize {
    u32::from(at) as usize
}

/// The members of `set` if it can be split: at least two, each on a line
/// of its own. A rule may ask whether a set spans lines, and every group
/// of such a set does; and a group's first member, which follows the set's
/// opening in its copy of the file, is on a line of its own as in the file.
fn splittable(set: &SyntaxNode, text: &str) -> Option<Vec<Member>> {
    if !matches!(
        set.kind(),
        SyntaxKind::NODE_ATTR_SET | SyntaxKind::NODE_LET_IN
    ) {
        return None;
    }
    // Inside a string's interpolation, a member's lines count in the
    // indentation nixpkgs-fmt gives the whole string: the set's members
    // are not formatted on their own there.
    if set.ancestors().any(|a| {
        matches!(
            a.kind(),
            SyntaxKind::NODE_STRING | SyntaxKind::NODE_PATH_WITH_INTERPOL
        )
    }) {
        return None;
    }
    let members: Vec<Member> = member_nodes(set)
        .map(|m| Member {
            start: offset(m.text_range().start()),
            end: offset(m.text_range().end()),
            inherit: m.kind() == SyntaxKind::NODE_INHERIT,
        })
        .collect();
    if members.len() < 2 {
        return None;
    }
    let first = member_nodes(set).next()?;
    let opens_line = first
        .prev_sibling_or_token()
        .is_some_and(|e| e.kind() == SyntaxKind::TOKEN_WHITESPACE && e.to_string().contains('\n'));
    let own_lines = members
        .windows(2)
        .all(|w| text[w[0].end..w[1].start].contains('\n'));
    (opens_line && own_lines).then_some(members)
}

fn path_to(set: &SyntaxNode) -> Option<Vec<usize>> {
    let mut path = Vec::new();
    let mut node = set.clone();
    while let Some(parent) = node.parent() {
        path.push(parent.children().position(|c| c == node)?);
        node = parent;
    }
    path.reverse();
    Some(path)
}

impl Plan {
    /// The set with the most members, in groups of `group` members, when it
    /// has at least `min_members`: formatting it whole takes time
    /// quadratic in its members.
    fn by_count(root: &SyntaxNode, text: &str, min_members: usize, group: usize) -> Option<Plan> {
        let set = root
            .descendants()
            .filter(|n| {
                matches!(
                    n.kind(),
                    SyntaxKind::NODE_ATTR_SET | SyntaxKind::NODE_LET_IN
                )
            })
            .max_by_key(|n| member_nodes(n).count())?;
        let members = splittable(&set, text)?;
        if members.len() < min_members.max(2) {
            return None;
        }
        let groups = (0..members.len()).step_by(group).collect();
        Some(Plan {
            path: path_to(&set)?,
            members,
            groups,
        })
    }

    fn run(&self, text: &str) -> Result<String, FormatError> {
        let pieces: Vec<Result<String, FormatError>> =
            run_on_all_cores(self.groups.len(), |k| self.piece(text, k));
        let mut out = String::with_capacity(text.len() + text.len() / 8);
        for piece in pieces {
            out.push_str(&piece?);
        }
        Ok(out)
    }

    /// Group `k`'s share of the formatted text: from its first member (from
    /// the start of the file for the first group) to the next group's first
    /// member (to the end of the file for the last). The copy of the file
    /// it is formatted in holds the group's members and, in place of the
    /// next member, a one-line stand-in of the same kind, so the whitespace
    /// and comments after the group are formatted as before a member.
    fn piece(&self, text: &str, k: usize) -> Result<String, FormatError> {
        let first = self.members[self.groups[k]];
        let next = self.groups.get(k + 1).map(|&i| self.members[i]);
        let last = self.members[self.members.len() - 1];
        let mut copy = String::from(&text[..self.members[0].start]);
        match next {
            Some(next) => {
                copy.push_str(&text[first.start..next.start]);
                copy.push_str(if next.inherit {
                    "inherit stand-in;"
                } else {
                    "stand-in = null;"
                });
                copy.push_str(&text[last.end..]);
            }
            None => copy.push_str(&text[first.start..]),
        }
        let formatted = contained(Style::NixpkgsFmt, || nixpkgs_fmt::reformat_string(&copy))?;

        let lost = || FormatError::Crashed {
            style: Style::NixpkgsFmt,
            message: "grouped formatting lost track of the set's members".into(),
        };
        let mut node = rnix_fmt::parse(&formatted).node();
        for &i in &self.path {
            node = node.children().nth(i).ok_or_else(lost)?;
        }
        let starts: Vec<usize> = member_nodes(&node)
            .map(|m| offset(m.text_range().start()))
            .collect();
        let group_len = self
            .groups
            .get(k + 1)
            .copied()
            .unwrap_or(self.members.len())
            - self.groups[k];
        if starts.len() != group_len + usize::from(next.is_some()) {
            return Err(lost());
        }
        let start = if k == 0 { 0 } else { starts[0] };
        let end = if next.is_some() {
            starts[starts.len() - 1]
        } else {
            formatted.len()
        };
        Ok(formatted[start..end].to_string())
    }
}

/// `f(0..n)` on all cores, results in order.
fn run_on_all_cores<R: Send>(n: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(n);
    if threads <= 1 {
        return (0..n).map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<R>> = (0..n).map(|_| None).collect();
    let slots = std::sync::Mutex::new(&mut results);
    std::thread::scope(|scope| {
        for _ in 1..threads {
            let _ = std::thread::Builder::new()
                .stack_size(64 << 20)
                .spawn_scoped(scope, || work(&next, n, &f, &slots));
        }
        work(&next, n, &f, &slots);
    });
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.unwrap_or_else(|| f(i)))
        .collect()
}

fn work<R>(
    next: &std::sync::atomic::AtomicUsize,
    n: usize,
    f: &(impl Fn(usize) -> R + Sync),
    slots: &std::sync::Mutex<&mut Vec<Option<R>>>,
) {
    loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if i >= n {
            break;
        }
        let r = f(i);
        if let Ok(mut slots) = slots.lock() {
            slots[i] = Some(r);
        }
    }
}
