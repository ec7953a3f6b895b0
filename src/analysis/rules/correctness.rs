//! Correctness: names bound nowhere, attributes and parameters defined
//! twice, and deprecated syntax. Duplicates follow Nix's own rules for
//! building a set from dotted paths: `a.b = 1; a.c = 2;` and
//! `a = { b = 1; }; a.c = 2;` merge, `a = 1; a.b = 2;` does not, and two set
//! literals for one name merge one level deep.

use rustc_hash::FxHashMap as HashMap;

use rnix::{SyntaxKind, SyntaxNode};
use std::sync::Arc;

use rowan::{GreenNodeData, TextRange, TextSize};
use smol_str::SmolStr;

use SyntaxKind::*;

use super::edit;
use super::memo::{self, ChunkWalk, Chunks, Keep, Memo};
use super::set_keys::{recovered, MemberKeys, Segment, SetChecker};
use crate::analysis::semantic::{Resolution, SemanticModel, Site};
use crate::diagnostic::registry::*;
use crate::diagnostic::{Diagnostic, Fix};
use crate::syntax::green::{attr_name, N};
use crate::syntax::TextEdit;

/// The findings that need the semantic model: undefined names and
/// `toPath` through `builtins` (found where `words` has it).
pub(super) fn model_checks(
    root: &SyntaxNode,
    text: &str,
    model: &SemanticModel,
    on: &(dyn Fn(&str) -> bool + Sync),
    words: &super::scan::Words,
) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    if on(UNDEFINED_NAME) {
        undefined_names(root, text, model, &mut found);
    }
    if on(DEPRECATED_TO_PATH) {
        let names = crate::analysis::names::Names::new(root, model);
        for range in names.builtin_uses_at(words.of("toPath"), "toPath") {
            found.push(Diagnostic::new(DEPRECATED_TO_PATH, range, TO_PATH));
        }
    }
    found
}

/// The findings the tree alone shows, in one walk over the green tree.
/// `with_errors`: the tree has syntax errors, so members the parser
/// recovered in are looked for (in a tree without errors there are none).
pub fn tree_checks(
    green: &GreenNodeData,
    root: &SyntaxNode,
    text: &str,
    with_errors: bool,
    on: &(dyn Fn(&str) -> bool + Sync),
) -> Vec<Diagnostic> {
    tree_checks_after(green, root, text, with_errors, on, None, Keep::Nothing).0
}

/// [`tree_checks`], taking the results for the chunks of big sets that
/// did not change from `previous` (see `memo`); also returns what to keep
/// for the next analysis.
pub(super) fn tree_checks_after(
    green: &GreenNodeData,
    root: &SyntaxNode,
    text: &str,
    with_errors: bool,
    on: &(dyn Fn(&str) -> bool + Sync),
    previous: Option<&Memo>,
    keep: Keep,
) -> (Vec<Diagnostic>, TreeChunks, u32) {
    // `with_errors` is not among them: it only makes the walk look for
    // members the parser recovered in, which a chunk without errors has
    // none of, and a chunk with errors is only ever in trees with errors.
    let switches = [
        on(DUPLICATE_KEY),
        on(REC_MERGE),
        on(URI_LITERAL),
        on(DYNAMIC_ATTR_IN_LET),
        on(LEGACY_LET),
        on(DUPLICATE_PARAM),
    ]
    .iter()
    .enumerate()
    .fold(0u32, |bits, (i, &on)| bits | (u32::from(on) << i));
    let mut walk = TreeWalk {
        found: Vec::new(),
        sets: SetChecker {
            found: Vec::new(),
            duplicates: on(DUPLICATE_KEY),
            rec_merges: on(REC_MERGE),
            with_errors,
        },
        uri: on(URI_LITERAL),
        dynamic: on(DYNAMIC_ATTR_IN_LET),
        legacy: on(LEGACY_LET),
        params: on(DUPLICATE_PARAM),
        root,
        text,
        previous: previous
            .filter(|p| p.tree_switches == switches)
            .map(|p| &p.tree),
        next: TreeChunks {
            plain: Chunks::new(keep),
            keyed: Chunks::new(keep),
        },
        keyed: false,
        members: Vec::new(),
    };
    let node = N {
        green,
        offset: TextSize::from(0),
    };
    walk.walk(&node, NODE_ROOT, false);
    let mut found = walk.found;
    found.extend(walk.sets.found);
    (found, walk.next, switches)
}

/// What the tree walk found in one chunk of a big set's members.
pub(super) struct TreeKept {
    found: Vec<Diagnostic>,
    sets: Vec<Diagnostic>,
    /// The members' keys, when the set's keys are checked from them.
    members: Arc<[MemberKeys]>,
}

/// The tree walk's chunks, apart for the sets whose keys are checked from
/// their members' (whose chunks keep those too) and the others.
#[derive(Default)]
pub(super) struct TreeChunks {
    plain: Chunks<TreeKept>,
    keyed: Chunks<TreeKept>,
}

impl TreeChunks {
    pub(super) fn stats(&self) -> (usize, usize) {
        let (plain, keyed) = (self.plain.stats(), self.keyed.stats());
        (plain.0 + keyed.0, plain.1 + keyed.1)
    }
}

/// Sets with at least this many children (members and the blanks between
/// them) have their keys checked from their members' keys, kept per chunk.
const KEYED_FROM: usize = 128;

struct TreeWalk<'r> {
    found: Vec<Diagnostic>,
    sets: SetChecker,
    uri: bool,
    dynamic: bool,
    legacy: bool,
    params: bool,
    root: &'r SyntaxNode,
    text: &'r str,
    previous: Option<&'r TreeChunks>,
    next: TreeChunks,
    /// The set whose members are being walked has its keys checked from
    /// theirs: each member's are found (or replayed) into `members`.
    keyed: bool,
    members: Vec<Segment>,
}

impl<'a> ChunkWalk<'a> for TreeWalk<'_> {
    type Kept = TreeKept;
    type Mark = (usize, usize, usize);

    fn mark(&self) -> (usize, usize, usize) {
        (self.found.len(), self.sets.found.len(), self.members.len())
    }

    fn child(&mut self, child: &N<'a>) {
        if self.keyed {
            let keys = self.sets.member_keys(child);
            self.members.push(Segment::Found(keys));
        }
        self.walk(child, NODE_ATTR_SET, false);
    }

    fn kept_since(&self, (found, sets, members): Self::Mark, base: TextSize) -> TreeKept {
        let zero = TextSize::from(0);
        TreeKept {
            found: self.found[found..]
                .iter()
                .map(|d| d.moved(base, zero))
                .collect(),
            sets: self.sets.found[sets..]
                .iter()
                .map(|d| d.moved(base, zero))
                .collect(),
            // A chunk walked now: its members' keys were all found now.
            members: self.members[members..]
                .iter()
                .filter_map(|segment| match segment {
                    Segment::Found(keys) => Some(keys.moved(base, zero)),
                    Segment::Kept(..) => None,
                })
                .collect(),
        }
    }

    fn replay(&mut self, kept: &TreeKept, base: TextSize) {
        let zero = TextSize::from(0);
        self.found
            .extend(kept.found.iter().map(|d| d.moved(zero, base)));
        self.sets
            .found
            .extend(kept.sets.iter().map(|d| d.moved(zero, base)));
        if self.keyed {
            self.members.push(Segment::Kept(kept.members.clone(), base));
        }
    }

    fn next_chunks(&mut self) -> &mut Chunks<TreeKept> {
        match self.keyed {
            true => &mut self.next.keyed,
            false => &mut self.next.plain,
        }
    }
}

impl TreeWalk<'_> {
    /// `member_value`: the node is the value of a binding in a set or
    /// `let` (through parentheses): it is checked with that binding, where
    /// it may merge with other definitions. The tree's depth is bounded by
    /// the parse guard.
    fn walk(&mut self, node: &N<'_>, parent: SyntaxKind, member_value: bool) {
        let kind = node.kind();
        // A big set's keys are checked from its members' keys, after them.
        let keyed =
            kind == NODE_ATTR_SET && !member_value && node.green.children().len() >= KEYED_FROM;
        match kind {
            NODE_LITERAL if self.uri => {
                if let Some(token) = node.first_token().filter(|t| t.kind() == TOKEN_URI) {
                    let uri = token.text();
                    self.found.push(
                        Diagnostic::new(
                            URI_LITERAL,
                            token.text_range(),
                            "unquoted URL literal (deprecated)",
                        )
                        .with_fix(Fix {
                            title: "Quote the URL".into(),
                            edits: vec![TextEdit::replace(
                                token.text_range(),
                                format!("\"{uri}\""),
                            )],
                            preferred: true,
                        }),
                    );
                }
            }
            NODE_ATTR_SET | NODE_LET_IN | NODE_LEGACY_LET => {
                if !member_value && !keyed {
                    self.sets.check(node);
                }
                if kind == NODE_LET_IN && self.dynamic {
                    dynamic_in_let(node, self.sets.with_errors, &mut self.found);
                }
                if kind == NODE_LEGACY_LET && self.legacy {
                    let site = Site {
                        range: node.text_range(),
                        kind,
                    };
                    if let Some(node) = site.node(self.root) {
                        self.found.push(legacy_let(&node, self.text));
                    }
                }
            }
            NODE_PATTERN if self.params => duplicate_params(node, &mut self.found),
            _ => {}
        }
        if kind == NODE_ATTR_SET {
            // The members of a big set chunk by chunk, kept and replayed.
            let text = self.text;
            let previous = self
                .previous
                .map(|p| if keyed { &p.keyed } else { &p.plain });
            let outer = std::mem::replace(&mut self.keyed, keyed);
            let (sets_before, members_before) = (self.sets.found.len(), self.members.len());
            memo::walk_children(self, node, Some(text), previous);
            self.keyed = outer;
            if keyed {
                // The set's own findings come before its members'.
                let members = self.members.split_off(members_before);
                let inner = self.sets.found.split_off(sets_before);
                self.sets.check_keyed(node, &members);
                self.sets.found.extend(inner);
            }
            return;
        }
        let in_set = matches!(parent, NODE_ATTR_SET | NODE_LET_IN | NODE_LEGACY_LET);
        for child in node.children() {
            let child_member_value = match kind {
                NODE_ATTRPATH_VALUE => in_set && child.kind() != NODE_ATTRPATH,
                NODE_PAREN => member_value,
                _ => false,
            };
            self.walk(&child, kind, child_member_value);
        }
    }
}

fn undefined_names(
    root: &SyntaxNode,
    text: &str,
    model: &SemanticModel,
    found: &mut Vec<Diagnostic>,
) {
    let pattern = file_pattern(root);
    for r in &model.refs {
        if r.resolution != Resolution::Undefined {
            continue;
        }
        let name = &text[r.range];
        let mut d = Diagnostic::new(UNDEFINED_NAME, r.range, format!("undefined name '{name}'"));
        if let Some((pattern, body)) = &pattern {
            if body.contains_range(r.range) {
                if let Some(edit) = add_to_pattern(pattern, name) {
                    d = d.with_fix(Fix {
                        title: format!("Add '{name}' to the file's arguments"),
                        edits: vec![edit],
                        preferred: false,
                    });
                }
            }
        }
        found.push(d);
    }
}

/// The file's top-level lambda pattern and its body's range, as in
/// `{ pkgs, ... }: { ... }`.
fn file_pattern(root: &SyntaxNode) -> Option<(SyntaxNode, TextRange)> {
    let lambda = root.children().next().filter(|n| n.kind() == NODE_LAMBDA)?;
    let pattern = lambda
        .children()
        .next()
        .filter(|n| n.kind() == NODE_PATTERN)?;
    let body = lambda.children().nth(1)?;
    Some((pattern, body.text_range()))
}

fn add_to_pattern(pattern: &SyntaxNode, name: &str) -> Option<TextEdit> {
    if let Some(last) = pattern
        .children()
        .filter(|c| c.kind() == NODE_PAT_ENTRY)
        .last()
    {
        return Some(TextEdit::replace(
            TextRange::empty(last.text_range().end()),
            format!(", {name}"),
        ));
    }
    let tokens: Vec<_> = pattern
        .children_with_tokens()
        .filter_map(|e| e.into_token())
        .collect();
    if let Some(ellipsis) = tokens.iter().find(|t| t.kind() == TOKEN_ELLIPSIS) {
        return Some(TextEdit::replace(
            TextRange::empty(ellipsis.text_range().start()),
            format!("{name}, "),
        ));
    }
    let open = tokens.iter().find(|t| t.kind() == TOKEN_L_BRACE)?;
    Some(TextEdit::replace(
        TextRange::empty(open.text_range().end()),
        format!(" {name}"),
    ))
}

const TO_PATH: &str = "'toPath' is deprecated";

fn dynamic_in_let(node: &N<'_>, with_errors: bool, found: &mut Vec<Diagnostic>) {
    let bindings = node
        .children()
        .filter(|c| matches!(c.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT | NODE_ERROR))
        .take_while(|c| !recovered(c, with_errors));
    for member in bindings.filter(|c| c.kind() == NODE_ATTRPATH_VALUE) {
        let first = member
            .children()
            .find(|c| c.kind() == NODE_ATTRPATH)
            .and_then(|p| p.children().next());
        if let Some(first) = first {
            // An error node has no name either, but is no `${...}`: it is
            // what the recovery made of broken text, which the syntax error
            // reports (it can sit in a member that otherwise looks whole).
            if first.kind() != NODE_ERROR && attr_name(&first).is_none() {
                found.push(Diagnostic::new(
                    DYNAMIC_ATTR_IN_LET,
                    first.text_range(),
                    "dynamic attribute in `let`: bindings must have static names",
                ));
            }
        }
    }
}

fn legacy_let(node: &SyntaxNode, text: &str) -> Diagnostic {
    let keyword = node
        .children_with_tokens()
        .find(|t| t.kind() == TOKEN_LET)
        .map_or(node.text_range(), |t| t.text_range());
    let d = Diagnostic::new(
        LEGACY_LET,
        keyword,
        "deprecated `let { ... body = ...; }` syntax",
    );
    match rewrite_legacy_let(node, text) {
        Some(fix) => d.with_fix(fix),
        None => d,
    }
}

/// `let { a = 1; body = a; }` -> `let a = 1; in a`, when the body is one
/// plain `body = ...;` binding.
fn rewrite_legacy_let(node: &SyntaxNode, text: &str) -> Option<Fix> {
    let members: Vec<SyntaxNode> = node
        .children()
        .filter(|c| matches!(c.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT))
        .collect();
    let is_body = |m: &SyntaxNode| {
        m.kind() == NODE_ATTRPATH_VALUE
            && m.children()
                .find(|c| c.kind() == NODE_ATTRPATH)
                .is_some_and(|p| p.children().count() == 1 && p.text() == "body")
    };
    let bodies: Vec<&SyntaxNode> = members.iter().filter(|m| is_body(m)).collect();
    let [body] = bodies.as_slice() else {
        return None;
    };
    let value = body.children().nth(1)?;
    let tokens: Vec<_> = node
        .children_with_tokens()
        .filter_map(|e| e.into_token())
        .collect();
    let open = tokens
        .iter()
        .find(|t| t.kind() == TOKEN_L_BRACE)?
        .text_range();
    let close = tokens
        .iter()
        .rev()
        .find(|t| t.kind() == TOKEN_R_BRACE)?
        .text_range();
    let inner_range = TextRange::new(open.end(), close.start());
    let inner = &text[inner_range];
    let removal = edit::remove(text, body.text_range());
    let cut = removal.range - inner_range.start();
    let mut bindings = String::new();
    bindings.push_str(&inner[..usize::from(cut.start())]);
    bindings.push_str(&inner[usize::from(cut.end())..]);
    let lead = if bindings.starts_with(char::is_whitespace) {
        ""
    } else {
        " "
    };
    let before_in = if bindings.ends_with(char::is_whitespace) {
        ""
    } else {
        " "
    };
    let new = format!("let{lead}{bindings}{before_in}in {}", value.text());
    Some(Fix {
        title: "Rewrite as `let ... in`".into(),
        edits: vec![TextEdit::replace(node.text_range(), new)],
        preferred: true,
    })
}

fn duplicate_params(pattern: &N<'_>, found: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<SmolStr, TextRange> = HashMap::default();
    for part in pattern.children() {
        let ident = match part.kind() {
            NODE_PAT_ENTRY => part.children().next(),
            NODE_PAT_BIND => part.children().find(|c| c.kind() == NODE_IDENT),
            _ => None,
        };
        let Some(ident) = ident else { continue };
        let Some(name) = ident.ident_text().map(SmolStr::new) else {
            continue;
        };
        match seen.get(&name) {
            Some(first) => found.push(
                Diagnostic::new(
                    DUPLICATE_PARAM,
                    ident.text_range(),
                    format!("duplicate parameter '{name}'"),
                )
                .with_related(*first, format!("'{name}' is first declared here")),
            ),
            None => {
                seen.insert(name, ident.text_range());
            }
        }
    }
}
