//! Dead code, with deadnix's semantics: a binding used only by dead code
//! is dead too (found by propagating deaths to a fixpoint); names starting
//! with `_` and members of `rec` sets are never reported; removing
//! everything reported leaves valid Nix that means the same.

use rustc_hash::FxHashMap as HashMap;

use rnix::{SyntaxKind, SyntaxNode};
use rowan::{TextRange, TextSize};

use super::edit;
use crate::analysis::semantic::{DefId, DefKind, Resolution, SemanticModel};
use crate::diagnostic::registry::*;
use crate::diagnostic::{Diagnostic, Fix};
use crate::syntax::TextEdit;

pub fn check(
    root: &SyntaxNode,
    model: &SemanticModel,
    text: &str,
    on: &dyn Fn(&str) -> bool,
) -> Vec<Diagnostic> {
    let liveness = Liveness::compute(model);
    let mut found = Vec::new();
    let reported = |d: &DefId| {
        let def = &model.defs[*d];
        liveness.dead_defs[*d] && !def.name.starts_with('_') && def.kind != DefKind::RecMember
    };
    // A dead binding inside another one goes with it: report the outer one.
    let mut dead: Vec<DefId> = (0..model.defs.len()).filter(reported).collect();
    dead.sort_by_key(|&d| model.defs[d].range.start());
    let removal = |d: DefId| {
        model.defs[d]
            .sites
            .iter()
            .map(|s| s.range)
            .collect::<Vec<_>>()
    };
    let outer_removals: Vec<TextRange> = dead.iter().flat_map(|&d| removal(d)).collect();
    let swallowed = |d: DefId| {
        let own = removal(d);
        own.iter().all(|r| {
            outer_removals
                .iter()
                .any(|o| o.contains_range(*r) && o != r && !own.contains(o))
        })
    };
    let lets = let_groups(model);
    for &d in &dead {
        if swallowed(d) {
            continue;
        }
        let def = &model.defs[d];
        let name = &def.name;
        let finding = match def.kind {
            DefKind::LetBinding | DefKind::LetInherit => {
                if !on(UNUSED_LET) {
                    continue;
                }
                Diagnostic::new(
                    UNUSED_LET,
                    def.range,
                    format!("unused let binding '{name}'"),
                )
                .with_fix(remove_let_binding(
                    root,
                    model,
                    text,
                    d,
                    &lets,
                    &liveness.dead_defs,
                ))
            }
            DefKind::LambdaArg => {
                if !on(UNUSED_LAMBDA_ARG) {
                    continue;
                }
                Diagnostic::new(
                    UNUSED_LAMBDA_ARG,
                    def.range,
                    format!("unused lambda argument '{name}'"),
                )
                .with_fix(Fix {
                    title: format!("Rename '{name}' to '_'"),
                    edits: vec![TextEdit::replace(def.range, "_")],
                    preferred: true,
                })
            }
            DefKind::PatternField => {
                if !on(UNUSED_PATTERN_FIELD) {
                    continue;
                }
                let entry = def.sites[0].node(root);
                if entry.as_ref().is_some_and(is_strict_flake_outputs_field) {
                    continue;
                }
                Diagnostic::new(
                    UNUSED_PATTERN_FIELD,
                    def.range,
                    format!("unused pattern field '{name}'"),
                )
                .with_fix(Fix {
                    title: format!("Remove unused field '{name}'"),
                    edits: entry.map_or_else(Vec::new, |entry| remove_pattern_entry(text, &entry)),
                    preferred: true,
                })
            }
            DefKind::PatternBind => {
                if !on(UNUSED_PATTERN_BIND) {
                    continue;
                }
                Diagnostic::new(
                    UNUSED_PATTERN_BIND,
                    def.range,
                    format!("unused pattern binding '{name}'"),
                )
                .with_fix(Fix {
                    title: format!("Remove '{name}@'"),
                    edits: def.sites[0]
                        .node(root)
                        .map(|bind| remove_pattern_bind(text, &bind))
                        .into_iter()
                        .collect(),
                    preferred: true,
                })
            }
            DefKind::RecMember => continue,
        };
        found.push(finding);
    }
    if on(UNUSED_WITH) {
        for (w, with) in model.withs.iter().enumerate() {
            if liveness.with_uses[w] > 0 || liveness.dead_owner(with.owner) {
                continue;
            }
            let end = with.body_start;
            found.push(
                Diagnostic::new(
                    UNUSED_WITH,
                    with.keyword,
                    "unused `with`: no name here comes from it",
                )
                .with_fix(Fix {
                    title: "Remove the unused `with`".into(),
                    edits: vec![TextEdit::delete(TextRange::new(with.keyword.start(), end))],
                    preferred: true,
                }),
            );
        }
    }
    if on(UNUSED_REC) {
        for rec in &model.recs {
            let used = rec
                .members
                .iter()
                .any(|&m| model.uses[m].iter().any(|&r| !liveness.dead_ref(model, r)));
            if used {
                continue;
            }
            found.push(
                Diagnostic::new(
                    UNUSED_REC,
                    rec.keyword,
                    "unused `rec`: no member refers to another",
                )
                .with_fix(Fix {
                    title: "Remove `rec`".into(),
                    edits: vec![edit::remove_with_following_space(text, rec.keyword)],
                    preferred: true,
                }),
            );
        }
    }
    found
}

/// Which definitions, owners and `with`s are live: reachable from code
/// outside every binding's value, through references. A binding used only
/// by itself or by dead bindings is not reachable.
struct Liveness {
    dead_defs: Vec<bool>,
    dead_owners: Vec<bool>,
    /// Live references that may come from each `with`.
    with_uses: Vec<usize>,
}

impl Liveness {
    fn compute(model: &SemanticModel) -> Liveness {
        let n = model.defs.len();
        let mut refs_of_owner: Vec<Vec<usize>> = vec![Vec::new(); model.owners.len()];
        let mut owners_of_def: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (o, owner) in model.owners.iter().enumerate() {
            for &d in &owner.defs {
                owners_of_def[d].push(o);
            }
        }
        let mut live_refs: Vec<usize> = Vec::new();
        for (r, reference) in model.refs.iter().enumerate() {
            match reference.owner {
                Some(o) => refs_of_owner[o].push(r),
                None => live_refs.push(r),
            }
        }
        let mut live_defs = vec![false; n];
        let mut live_owners = vec![false; model.owners.len()];
        let mut with_uses = vec![0; model.withs.len()];
        // Names never reported are kept, and so is what they use.
        let mut defs: Vec<DefId> = (0..n)
            .filter(|&d| {
                model.defs[d].kind == DefKind::RecMember || model.defs[d].name.starts_with('_')
            })
            .collect();
        loop {
            if let Some(r) = live_refs.pop() {
                match &model.refs[r].resolution {
                    Resolution::Def(d) => defs.push(*d),
                    Resolution::With(w) => {
                        for w in model.with_chain(*w) {
                            with_uses[w] += 1;
                        }
                    }
                    _ => {}
                }
            } else if let Some(d) = defs.pop() {
                if live_defs[d] {
                    continue;
                }
                live_defs[d] = true;
                for &o in &owners_of_def[d] {
                    if !live_owners[o] {
                        live_owners[o] = true;
                        live_refs.extend(refs_of_owner[o].iter().copied());
                    }
                }
            } else {
                break;
            }
        }
        Liveness {
            dead_defs: live_defs.iter().map(|l| !l).collect(),
            dead_owners: live_owners.iter().map(|l| !l).collect(),
            with_uses,
        }
    }

    fn dead_owner(&self, owner: Option<usize>) -> bool {
        owner.is_some_and(|o| self.dead_owners[o])
    }

    fn dead_ref(&self, model: &SemanticModel, r: usize) -> bool {
        self.dead_owner(model.refs[r].owner)
    }
}

/// The definitions of each `let` node, keyed by its range.
fn let_groups(model: &SemanticModel) -> HashMap<TextRange, Vec<DefId>> {
    let mut groups: HashMap<TextRange, Vec<DefId>> = HashMap::default();
    for (d, def) in model.defs.iter().enumerate() {
        if matches!(def.kind, DefKind::LetBinding | DefKind::LetInherit) {
            if let Some(scope) = def.scope {
                groups.entry(scope).or_default().push(d);
            }
        }
    }
    groups
}

fn remove_let_binding(
    root: &SyntaxNode,
    model: &SemanticModel,
    text: &str,
    d: DefId,
    lets: &HashMap<TextRange, Vec<DefId>>,
    dead: &[bool],
) -> Fix {
    let def = &model.defs[d];
    let name = &def.name;
    let let_node = def.sites[0].node(root).and_then(|site| site.parent());
    // Every binding of the `let` is dead and it holds no comment: the
    // whole `let ... in` goes, leaving its body.
    if let Some(let_node) = &let_node {
        let all_dead = lets
            .get(&let_node.text_range())
            .is_some_and(|defs| defs.iter().all(|&x| dead[x]));
        let has_comment = let_node
            .children_with_tokens()
            .any(|t| t.kind() == SyntaxKind::TOKEN_COMMENT);
        let body = let_node.children().last();
        if all_dead && !has_comment && let_node.kind() == SyntaxKind::NODE_LET_IN {
            if let Some(body) = body.filter(|b| {
                b.kind() != SyntaxKind::NODE_ATTRPATH_VALUE && b.kind() != SyntaxKind::NODE_INHERIT
            }) {
                return Fix {
                    title: "Remove the unused `let`".into(),
                    edits: vec![TextEdit::delete(TextRange::new(
                        let_node.text_range().start(),
                        body.text_range().start(),
                    ))],
                    preferred: true,
                };
            }
        }
    }
    let mut edits = Vec::new();
    for site in &def.sites {
        if site.kind == SyntaxKind::NODE_INHERIT {
            if let Some(node) = site.node(root) {
                let siblings = def
                    .scope
                    .and_then(|l| lets.get(&l))
                    .map_or(&[][..], Vec::as_slice);
                edits.push(remove_inherited_name(model, text, &node, d, siblings, dead));
            }
        } else {
            edits.push(edit::remove(text, site.range));
        }
    }
    Fix {
        title: format!("Remove unused let binding '{name}'"),
        edits: edit::merge(edits),
        preferred: true,
    }
}

/// Removes one name of an `inherit`, or the whole statement when every
/// name in it is dead (`siblings`: the definitions of its `let`).
fn remove_inherited_name(
    model: &SemanticModel,
    text: &str,
    site: &SyntaxNode,
    d: DefId,
    siblings: &[DefId],
    dead: &[bool],
) -> TextEdit {
    let names: Vec<SyntaxNode> = site
        .children()
        .filter(|c| c.kind() != SyntaxKind::NODE_INHERIT_FROM)
        .collect();
    // The names' definitions are among those of the same `let`.
    let all_dead = names.iter().all(|n| {
        siblings
            .iter()
            .any(|&x| model.defs[x].range == n.text_range() && dead[x])
    });
    if all_dead {
        return edit::remove(text, site.text_range());
    }
    let range = model.defs[d].range;
    let start = usize::from(range.start());
    let spaces = text[..start].len() - text[..start].trim_end().len();
    TextEdit::delete(TextRange::new(
        TextSize::from((start - spaces) as u32),
        range.end(),
    ))
}

/// Removes a pattern entry with the comma after it, or, for the last
/// entry, the comma before it.
/// Deletes a field of a lambda pattern with the comma that goes with it.
pub(crate) fn remove_pattern_entry(text: &str, entry: &SyntaxNode) -> Vec<TextEdit> {
    let mut next = entry.next_sibling_or_token();
    while let Some(t) = &next {
        if matches!(
            t.kind(),
            SyntaxKind::TOKEN_WHITESPACE | SyntaxKind::TOKEN_COMMENT
        ) {
            next = t.next_sibling_or_token();
        } else {
            break;
        }
    }
    if let Some(comma) = next.filter(|t| t.kind() == SyntaxKind::TOKEN_COMMA) {
        let range = TextRange::new(entry.text_range().start(), comma.text_range().end());
        return vec![edit::remove_with_following_space(text, range)];
    }
    let mut prev = entry.prev_sibling_or_token();
    while let Some(t) = &prev {
        if t.kind() == SyntaxKind::TOKEN_WHITESPACE {
            prev = t.prev_sibling_or_token();
        } else {
            break;
        }
    }
    match prev.filter(|t| t.kind() == SyntaxKind::TOKEN_COMMA) {
        Some(comma) => vec![TextEdit::delete(TextRange::new(
            comma.text_range().start(),
            entry.text_range().end(),
        ))],
        None => vec![edit::remove(text, entry.text_range())],
    }
}

/// Removes `args@` (or `@args`) and the spaces between it and the braces.
fn remove_pattern_bind(text: &str, bind: &SyntaxNode) -> TextEdit {
    let range = bind.text_range();
    let starts_pattern = bind.prev_sibling_or_token().is_none_or(|t| {
        t.kind() != SyntaxKind::TOKEN_R_BRACE && t.kind() != SyntaxKind::TOKEN_WHITESPACE
    });
    if starts_pattern {
        edit::remove_with_following_space(text, range)
    } else {
        let start = usize::from(range.start());
        let spaces = text[..start].len() - text[..start].trim_end().len();
        TextEdit::delete(TextRange::new(
            TextSize::from((start - spaces) as u32),
            range.end(),
        ))
    }
}

/// A field of a flake's `outputs = { self, nixpkgs }: ...` without `...`:
/// Nix calls `outputs` with `self` and every input, so removing any field
/// of such a pattern makes the flake fail to evaluate. Not reported
/// (deadnix reports it; doc/rules/unused-pattern-field.md).
fn is_strict_flake_outputs_field(entry: &rnix::SyntaxNode) -> bool {
    use rnix::SyntaxKind::*;
    let Some(pattern) = entry.parent().filter(|p| p.kind() == NODE_PATTERN) else {
        return false;
    };
    let strict = !pattern
        .children_with_tokens()
        .any(|t| t.kind() == TOKEN_ELLIPSIS);
    let Some(lambda) = pattern.parent().filter(|p| p.kind() == NODE_LAMBDA) else {
        return false;
    };
    let mut value = lambda;
    while let Some(parent) = value.parent().filter(|p| p.kind() == NODE_PAREN) {
        value = parent;
    }
    let Some(binding) = value.parent().filter(|p| p.kind() == NODE_ATTRPATH_VALUE) else {
        return false;
    };
    let named_outputs = binding
        .children()
        .find(|c| c.kind() == NODE_ATTRPATH)
        .is_some_and(|path| path.text() == "outputs");
    let top_level = binding
        .parent()
        .filter(|s| s.kind() == NODE_ATTR_SET)
        .and_then(|s| s.parent())
        .is_some_and(|r| r.kind() == NODE_ROOT);
    strict && named_outputs && top_level
}
