//! Style: code that says a simple thing the long way, with statix's lints
//! as the reference (`bool_comparison`, `manual_inherit`, `eta_reduction`
//! ...). One walk over the green tree picks the few nodes of each shape;
//! only those become syntax nodes and are looked at closely. Every fix
//! keeps the meaning (where it could not, as merging two `let`s whose
//! names collide, no fix is offered).

use rnix::SyntaxKind::{self, *};
use rnix::{SyntaxNode, SyntaxToken};
use rowan::{TextRange, TextSize};

use super::memo::{self, ChunkWalk, Chunks, Keep, Memo};
use super::scan::{strip, Cx};
use crate::analysis::semantic::{static_attr_name, Site};
use crate::diagnostic::registry::*;
use crate::diagnostic::{Diagnostic, Fix, Related, Severity};
use crate::syntax::green::{attr_name, N};
use crate::syntax::TextEdit;

/// Every style rule.
pub(super) const RULES: &[&str] = &[
    BOOL_COMPARISON,
    EMPTY_LET_IN,
    MANUAL_INHERIT,
    MANUAL_INHERIT_FROM,
    COLLAPSIBLE_LET_IN,
    ETA_REDUCTION,
    USELESS_PARENS,
    EMPTY_PATTERN,
    REDUNDANT_PATTERN_BIND,
    EMPTY_INHERIT,
    BOOL_SIMPLIFICATION,
    USELESS_HAS_ATTR,
    REPEATED_KEYS,
    EMPTY_LIST_CONCAT,
];

/// The style findings. The nodes worth a close look are found in one walk
/// over the green tree, whose results for the unchanged chunks of big sets
/// are taken from `previous`; returns them per chunk for the next
/// analysis.
pub(super) fn check(
    cx: &Cx<'_>,
    previous: Option<&Memo>,
    keep: Keep,
    found: &mut Vec<Diagnostic>,
) -> Chunks<Vec<(Site, SyntaxKind)>> {
    if !RULES.iter().any(|r| (cx.on)(r)) {
        return Chunks::default();
    }
    let green = cx.root.green();
    let node = N {
        green,
        offset: TextSize::from(0),
    };
    let mut collect = Collect {
        text: cx.text,
        previous: previous.map(|p| &p.style),
        out: Vec::new(),
        next: Chunks::new(keep),
    };
    collect.node(&node, NODE_ROOT);
    for (site, parent) in std::mem::take(&mut collect.out) {
        let Some(node) = site.node(cx.root) else {
            continue;
        };
        look_at(cx, &node, parent, found);
    }
    collect.next
}

/// The nodes worth a close look, found on the green tree with cheap
/// tests of their shape, each with its parent's kind.
struct Collect<'r> {
    text: &'r str,
    previous: Option<&'r Chunks<Vec<(Site, SyntaxKind)>>>,
    out: Vec<(Site, SyntaxKind)>,
    next: Chunks<Vec<(Site, SyntaxKind)>>,
}

impl Collect<'_> {
    fn node(&mut self, node: &N<'_>, parent: SyntaxKind) {
        let kind = node.kind();
        let worth = match kind {
            NODE_LET_IN => true,
            NODE_BIN_OP => operation_worth_a_look(node),
            NODE_UNARY_OP => node.children().any(|c| c.kind() == NODE_PAREN),
            NODE_INHERIT => node.children().all(|c| c.kind() == NODE_INHERIT_FROM),
            NODE_IF_ELSE => node
                .children()
                .next()
                .is_some_and(|c| c.kind() == NODE_HAS_ATTR || c.kind() == NODE_PAREN),
            NODE_LAMBDA => lambda_worth_a_look(node),
            NODE_PAREN => paren_worth_a_look(node, parent),
            NODE_ATTR_SET => has_repeated_first_keys(node),
            NODE_ATTRPATH_VALUE => binding_worth_a_look(node),
            _ => false,
        };
        if worth {
            self.out.push((
                Site {
                    range: node.text_range(),
                    kind,
                },
                parent,
            ));
        }
        if kind == NODE_ATTR_SET {
            let (text, previous) = (self.text, self.previous);
            memo::walk_children(self, node, Some(text), previous);
            return;
        }
        for child in node.children() {
            self.node(&child, kind);
        }
    }
}

impl<'a> ChunkWalk<'a> for Collect<'_> {
    type Kept = Vec<(Site, SyntaxKind)>;
    type Mark = usize;

    fn mark(&self) -> usize {
        self.out.len()
    }

    fn child(&mut self, child: &N<'a>) {
        self.node(child, NODE_ATTR_SET);
    }

    fn kept_since(&self, mark: usize, base: TextSize) -> Self::Kept {
        let at = |site: &Site| Site {
            range: site.range - base,
            kind: site.kind,
        };
        self.out[mark..]
            .iter()
            .map(|(site, parent)| (at(site), *parent))
            .collect()
    }

    fn replay(&mut self, kept: &Self::Kept, base: TextSize) {
        let at = |site: &Site| Site {
            range: site.range + base,
            kind: site.kind,
        };
        self.out
            .extend(kept.iter().map(|(site, parent)| (at(site), *parent)));
    }

    fn next_chunks(&mut self) -> &mut Chunks<Self::Kept> {
        &mut self.next
    }
}

/// `x == true`, `[ ] ++ x`: a comparison with a name (which may be
/// `true` or `false`), or a concatenation with an empty list.
fn operation_worth_a_look(node: &N<'_>) -> bool {
    let operator = node
        .children_with_tokens()
        .filter_map(|e| match e {
            crate::syntax::green::E::Token(t) => Some(t.kind()),
            crate::syntax::green::E::Node(_) => None,
        })
        .find(|k| !k.is_trivia());
    match operator {
        Some(TOKEN_EQUAL | TOKEN_NOT_EQUAL) => node
            .children()
            .any(|c| matches!(c.ident_text(), Some("true" | "false"))),
        Some(TOKEN_CONCAT) => node
            .children()
            .any(|c| c.kind() == NODE_LIST && c.children().next().is_none()),
        _ => false,
    }
}

/// `x: f x` and patterns without fields.
fn lambda_worth_a_look(node: &N<'_>) -> bool {
    let mut children = node.children();
    let (Some(param), Some(body)) = (children.next(), children.next()) else {
        return false;
    };
    match param.kind() {
        NODE_IDENT_PARAM => {
            body.kind() == NODE_APPLY
                && body.children().nth(1).is_some_and(|argument| {
                    argument.ident_text().is_some()
                        && param.children().next().and_then(|i| i.ident_text())
                            == argument.ident_text()
                })
        }
        NODE_PATTERN => !param.children().any(|c| c.kind() == NODE_PAT_ENTRY),
        _ => false,
    }
}

/// Parentheses around a value of a binding or a `let`, or around a
/// single value.
fn paren_worth_a_look(node: &N<'_>, parent: SyntaxKind) -> bool {
    matches!(parent, NODE_ATTRPATH_VALUE | NODE_LET_IN)
        || node
            .children()
            .next()
            .is_some_and(|inner| is_literal_atom(inner.kind()))
}

/// `a = a;`, `a = x.a;`, `a = (x);`: a binding whose value is a name, a
/// selection or parentheses.
fn binding_worth_a_look(node: &N<'_>) -> bool {
    let mut children = node.children();
    let (Some(path), Some(value)) = (children.next(), children.next()) else {
        return false;
    };
    let key = || {
        let mut attrs = path.children();
        match (attrs.next(), attrs.next()) {
            (Some(key), None) => key.ident_text(),
            _ => None,
        }
    };
    match value.kind() {
        NODE_PAREN => true,
        // `a = a;`
        NODE_IDENT => value.ident_text().is_some() && value.ident_text() == key(),
        // `a = x.a;`
        NODE_SELECT => {
            let last = value
                .children()
                .find(|c| c.kind() == NODE_ATTRPATH)
                .and_then(|p| p.children().last());
            last.is_some_and(|l| l.ident_text().is_some() && l.ident_text() == key())
        }
        _ => false,
    }
}

/// Whether three or more bindings of a set start with the same name.
fn has_repeated_first_keys(set: &N<'_>) -> bool {
    let mut counts: rustc_hash::FxHashMap<smol_str::SmolStr, u32> = Default::default();
    for binding in set.children().filter(|c| c.kind() == NODE_ATTRPATH_VALUE) {
        let Some(path) = binding.children().next() else {
            continue;
        };
        let mut attrs = path.children();
        let (Some(first), Some(_second)) = (attrs.next(), attrs.next()) else {
            continue;
        };
        if let Some(name) = attr_name(&first) {
            let n = counts.entry(name).or_default();
            *n += 1;
            if *n >= 3 {
                return true;
            }
        }
    }
    false
}

fn look_at(cx: &Cx<'_>, node: &SyntaxNode, parent: SyntaxKind, found: &mut Vec<Diagnostic>) {
    let on = |rule: &str| (cx.on)(rule);
    match node.kind() {
        NODE_BIN_OP => {
            if on(BOOL_COMPARISON) {
                bool_comparison(cx, node, found);
            }
            if on(EMPTY_LIST_CONCAT) {
                empty_list_concat(node, found);
            }
        }
        NODE_UNARY_OP if on(BOOL_SIMPLIFICATION) => bool_simplification(node, found),
        NODE_LET_IN => {
            if on(EMPTY_LET_IN) {
                empty_let_in(node, parent, found);
            }
            if on(COLLAPSIBLE_LET_IN) {
                collapsible_let_in(node, found);
            }
        }
        NODE_INHERIT if on(EMPTY_INHERIT) => empty_inherit(cx, node, found),
        NODE_IF_ELSE if on(USELESS_HAS_ATTR) => useless_has_attr(node, found),
        NODE_LAMBDA => {
            if on(ETA_REDUCTION) {
                eta_reduction(node, found);
            }
            if on(EMPTY_PATTERN) || on(REDUNDANT_PATTERN_BIND) {
                patterns(cx, node, found);
            }
        }
        NODE_PAREN if on(USELESS_PARENS) => useless_parens(cx, node, parent, found),
        NODE_ATTR_SET if on(REPEATED_KEYS) => repeated_keys(node, found),
        NODE_ATTRPATH_VALUE if on(MANUAL_INHERIT) || on(MANUAL_INHERIT_FROM) => {
            manual_inherit(cx, node, parent, found);
        }
        _ => {}
    }
}

fn finding(rule: &'static str, range: TextRange, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(rule, range, message)
}

fn fix(title: &str, edits: Vec<TextEdit>) -> Fix {
    Fix {
        title: title.to_string(),
        edits,
        preferred: true,
    }
}

/// The operator token of a binary or unary operation.
fn operator(node: &SyntaxNode) -> Option<SyntaxToken> {
    node.children_with_tokens()
        .filter_map(|e| e.into_token())
        .find(|t| !t.kind().is_trivia())
}

fn has_comment(node: &SyntaxNode) -> bool {
    node.descendants_with_tokens()
        .any(|e| e.kind() == TOKEN_COMMENT)
}

/// Whether an expression can stand as an operand of any operator, or as
/// an argument, without parentheses.
fn is_atom(node: &SyntaxNode) -> bool {
    is_literal_atom(node.kind())
        || (node.kind() == NODE_SELECT
            && !node.children_with_tokens().any(|t| t.kind() == TOKEN_OR))
}

/// Names, literals, lists, sets and parenthesized expressions: what never
/// needs parentheses around it.
fn is_literal_atom(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        NODE_IDENT
            | NODE_LITERAL
            | NODE_STRING
            | NODE_PATH_ABS
            | NODE_PATH_REL
            | NODE_PATH_HOME
            | NODE_PATH_SEARCH
            | NODE_LIST
            | NODE_ATTR_SET
            | NODE_PAREN
    )
}

fn atom_text(node: &SyntaxNode) -> String {
    if is_atom(node) {
        node.text().to_string()
    } else {
        format!("({})", node.text())
    }
}

// ------------------------------------------------------------- booleans

/// `x == true` is `x`; `x == false` is `!x`.
fn bool_comparison(cx: &Cx<'_>, node: &SyntaxNode, found: &mut Vec<Diagnostic>) {
    let Some(op) = operator(node) else { return };
    let equal = match op.kind() {
        TOKEN_EQUAL => true,
        TOKEN_NOT_EQUAL => false,
        _ => return,
    };
    let (Some(left), Some(right)) = (node.first_child(), node.last_child()) else {
        return;
    };
    let (other, literal) = match (cx.value.bool_of(&left), cx.value.bool_of(&right)) {
        (_, Some(b)) => (left, b),
        (Some(b), None) => (right, b),
        (None, None) => return,
    };
    // A comparison of two literals is someone's test; leave it.
    if cx.value.bool_of(&other).is_some() || may_not_be_boolean(cx, node, &other) {
        return;
    }
    let keep = equal == literal;
    let negated = (other.kind() == NODE_UNARY_OP)
        .then(|| other.first_child())
        .flatten()
        .filter(|_| operator(&other).is_some_and(|t| t.kind() == TOKEN_INVERT));
    let replacement = match (keep, negated) {
        (true, _) => other.text().to_string(),
        // `!y == false` is `y`.
        (false, Some(inner)) => atom_text(&inner),
        (false, None) => format!("!{}", atom_text(&other)),
    };
    // The value may be `null` or a string where this file cannot see: the
    // rewrite is offered, not applied by `check --fix`.
    found.push(
        finding(
            BOOL_COMPARISON,
            node.text_range(),
            format!(
                "comparing with `{literal}`: when the value is a boolean this is \
                 `{replacement}`; if it can be `null` or another type, keep the comparison"
            ),
        )
        .with_fix(Fix {
            title: format!("Write `{replacement}`"),
            edits: vec![TextEdit::replace(node.text_range(), replacement.clone())],
            preferred: false,
        }),
    );
}

/// Whether the compared value visibly may be something else than a
/// boolean: `x or null` (a default of another type), or a value the same
/// function also compares with another literal (`if v == true then ...
/// else if v == false then ... else toString v` dispatches on the value).
fn may_not_be_boolean(cx: &Cx<'_>, comparison: &SyntaxNode, value: &SyntaxNode) -> bool {
    let value = strip(value);
    // `value: if value == true then ... else toString value`: a function
    // of any value that tells booleans apart from the rest.
    if value.kind() == NODE_IDENT {
        let refs = &cx.value.model.refs;
        let range = value.text_range();
        let at = refs.partition_point(|r| r.range.start() < range.start());
        let param = refs.get(at).filter(|r| r.range == range).is_some_and(|r| {
            matches!(r.resolution, crate::analysis::semantic::Resolution::Def(d)
                if cx.value.model.defs[d].kind == crate::analysis::semantic::DefKind::LambdaArg)
        });
        if param {
            return true;
        }
    }
    let spelled = |n: &SyntaxNode| n.text().to_string().split_whitespace().collect::<String>();
    let wanted = spelled(&value);
    if value.kind() == NODE_SELECT {
        let default = value
            .children_with_tokens()
            .skip_while(|t| t.kind() != TOKEN_OR)
            .find_map(|t| t.into_node());
        if default.is_some_and(|d| cx.value.bool_of(&strip(&d)).is_none()) {
            return true;
        }
    }
    let scope = comparison
        .ancestors()
        .find(|a| a.kind() == NODE_LAMBDA)
        .unwrap_or_else(|| cx.root.clone());
    let literal_of = |n: &SyntaxNode| spelled(&strip(n));
    // The literal this comparison uses (the side that is not the value).
    let this = [comparison.first_child(), comparison.last_child()]
        .into_iter()
        .flatten()
        .map(|side| literal_of(&side))
        .find(|side| *side != wanted)
        .unwrap_or_default();
    scope
        .descendants()
        .filter(|d| d.kind() == NODE_BIN_OP && d != comparison)
        .filter(|d| operator(d).is_some_and(|t| matches!(t.kind(), TOKEN_EQUAL | TOKEN_NOT_EQUAL)))
        .any(|d| {
            let (Some(l), Some(r)) = (d.first_child(), d.last_child()) else {
                return false;
            };
            let other = if spelled(&strip(&l)) == wanted {
                r
            } else if spelled(&strip(&r)) == wanted {
                l
            } else {
                return false;
            };
            // Compared with a literal other than the one here.
            let literal = matches!(strip(&other).kind(), NODE_LITERAL | NODE_STRING)
                || matches!(
                    strip(&other).text().to_string().as_str(),
                    "null" | "true" | "false"
                );
            literal && literal_of(&other) != this
        })
}

/// `!(a == b)` is `a != b`.
fn bool_simplification(node: &SyntaxNode, found: &mut Vec<Diagnostic>) {
    if operator(node).is_none_or(|t| t.kind() != TOKEN_INVERT) {
        return;
    }
    let Some(paren) = node.first_child().filter(|p| p.kind() == NODE_PAREN) else {
        return;
    };
    let Some(compare) = paren.first_child().filter(|c| c.kind() == NODE_BIN_OP) else {
        return;
    };
    let Some(op) = operator(&compare) else { return };
    let flipped = match op.kind() {
        TOKEN_EQUAL => "!=",
        TOKEN_NOT_EQUAL => "==",
        _ => return,
    };
    if has_comment(&paren) {
        return;
    }
    let (Some(left), Some(right)) = (compare.first_child(), compare.last_child()) else {
        return;
    };
    let replacement = format!("{} {flipped} {}", left.text(), right.text());
    // `!` binds tighter than `==`: where the negation was an operand of a
    // tighter operator, the comparison needs parentheses.
    let replacement = if node
        .parent()
        .is_some_and(|p| needs_parens_for_comparison(&p))
    {
        format!("({replacement})")
    } else {
        replacement
    };
    found.push(
        finding(
            BOOL_SIMPLIFICATION,
            node.text_range(),
            format!("`{replacement}` says this without the negation"),
        )
        .with_fix(fix(
            &format!("Write `{replacement}`"),
            vec![TextEdit::replace(node.text_range(), replacement.clone())],
        )),
    );
}

/// Whether an expression of comparison precedence must be parenthesized
/// as a child of `parent`.
fn needs_parens_for_comparison(parent: &SyntaxNode) -> bool {
    match parent.kind() {
        NODE_BIN_OP => operator(parent)
            .is_some_and(|t| !matches!(t.kind(), TOKEN_AND_AND | TOKEN_OR_OR | TOKEN_IMPLICATION)),
        NODE_APPLY | NODE_SELECT | NODE_UNARY_OP | NODE_HAS_ATTR | NODE_LIST => true,
        _ => false,
    }
}

// ------------------------------------------------------------- lists

/// `[ ] ++ x` and `x ++ [ ]` are `x`.
fn empty_list_concat(node: &SyntaxNode, found: &mut Vec<Diagnostic>) {
    if operator(node).is_none_or(|t| t.kind() != TOKEN_CONCAT) {
        return;
    }
    let (Some(left), Some(right)) = (node.first_child(), node.last_child()) else {
        return;
    };
    let empty =
        |n: &SyntaxNode| n.kind() == NODE_LIST && n.first_child().is_none() && !has_comment(n);
    let (list, other) = if empty(&left) {
        (left, right)
    } else if empty(&right) {
        (right, left)
    } else {
        return;
    };
    found.push(
        finding(
            EMPTY_LIST_CONCAT,
            list.text_range(),
            "appending an empty list changes nothing; leave it out",
        )
        .with_fix(fix(
            "Remove the empty list",
            vec![TextEdit::replace(
                node.text_range(),
                other.text().to_string(),
            )],
        )),
    );
}

// ------------------------------------------------------------- let

fn let_keyword(node: &SyntaxNode, kind: SyntaxKind) -> Option<SyntaxToken> {
    node.children_with_tokens()
        .filter_map(|e| e.into_token())
        .find(|t| t.kind() == kind)
}

fn bindings(node: &SyntaxNode) -> impl Iterator<Item = SyntaxNode> {
    node.children()
        .filter(|c| matches!(c.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT))
}

/// Whether a `let` child of `parent` stands where any expression may,
/// reaching to the right as far as a `let` does.
fn is_full_expression_place(parent: SyntaxKind) -> bool {
    matches!(
        parent,
        NODE_ROOT
            | NODE_PAREN
            | NODE_ATTRPATH_VALUE
            | NODE_LET_IN
            | NODE_WITH
            | NODE_ASSERT
            | NODE_LAMBDA
            | NODE_IF_ELSE
            | NODE_PAT_ENTRY
            | NODE_INTERPOL
    )
}

/// `let in e` is `e`.
fn empty_let_in(node: &SyntaxNode, parent: SyntaxKind, found: &mut Vec<Diagnostic>) {
    if bindings(node).next().is_some() {
        return;
    }
    let Some(body) = node.last_child() else {
        return;
    };
    let Some(keyword) = let_keyword(node, TOKEN_LET) else {
        return;
    };
    let mut d = finding(
        EMPTY_LET_IN,
        keyword.text_range(),
        "this `let` binds nothing; leave it out",
    );
    // A comment there may say what belongs in it: report, do not delete it.
    let comment = node
        .children_with_tokens()
        .any(|e| e.kind() == TOKEN_COMMENT);
    if !comment {
        let text = if is_full_expression_place(parent) || is_atom(&body) {
            body.text().to_string()
        } else {
            format!("({})", body.text())
        };
        d = d.with_fix(fix(
            "Remove the empty let",
            vec![TextEdit::replace(node.text_range(), text)],
        ));
    }
    found.push(d);
}

/// The names a `let` binds (`None` when one is not static).
fn bound_names(node: &SyntaxNode) -> Option<Vec<String>> {
    let mut names = Vec::new();
    for binding in bindings(node) {
        match binding.kind() {
            NODE_ATTRPATH_VALUE => {
                let first = binding.first_child()?.first_child()?;
                names.push(static_attr_name(&first)?.to_string());
            }
            _ => {
                for attr in binding.children().filter(|c| c.kind() != NODE_INHERIT_FROM) {
                    names.push(static_attr_name(&attr)?.to_string());
                }
            }
        }
    }
    Some(names)
}

/// Whether `node` mentions the name `name` anywhere.
fn mentions(node: &SyntaxNode, name: &str) -> bool {
    node.descendants()
        .any(|d| d.kind() == NODE_IDENT && d.text() == name)
}

/// `let a = 1; in let b = 2; in e` is one `let`.
fn collapsible_let_in(node: &SyntaxNode, found: &mut Vec<Diagnostic>) {
    let Some(inner) = node.last_child().filter(|b| b.kind() == NODE_LET_IN) else {
        return;
    };
    let (Some(outer_let), Some(outer_in), Some(inner_let)) = (
        let_keyword(node, TOKEN_LET),
        let_keyword(node, TOKEN_IN),
        let_keyword(&inner, TOKEN_LET),
    ) else {
        return;
    };
    let mut d = finding(
        COLLAPSIBLE_LET_IN,
        outer_let.text_range(),
        "a `let` whose body is another `let`: one `let` with all the bindings reads the same",
    );
    d.related.push(Related {
        range: inner_let.text_range(),
        message: "the inner `let`".into(),
    });
    // Merging is safe when no name is bound by both and no outer binding
    // mentions a name the inner one binds (it would then see that one).
    let safe = match (bound_names(node), bound_names(&inner)) {
        (Some(outer), Some(inner_names)) => {
            !inner_names.iter().any(|n| outer.contains(n))
                && !bindings(node).any(|b| inner_names.iter().any(|n| mentions(&b, n)))
        }
        _ => false,
    };
    let last_outer = bindings(node).last();
    let between_has_comment = {
        let start = last_outer
            .as_ref()
            .map_or(outer_in.text_range().start(), |b| b.text_range().end());
        let end = inner_let.text_range().end();
        node.descendants_with_tokens().any(|e| {
            e.kind() == TOKEN_COMMENT
                && e.text_range().start() >= start
                && e.text_range().end() <= end
        })
    };
    if let (true, Some(last), false) = (safe, last_outer, between_has_comment) {
        let range = TextRange::new(last.text_range().end(), inner_let.text_range().end());
        d = d.with_fix(fix("Merge the lets", vec![TextEdit::delete(range)]));
    }
    found.push(d);
}

// ------------------------------------------------------------- inherit

/// `inherit;` and `inherit (x);` bring in nothing.
fn empty_inherit(cx: &Cx<'_>, node: &SyntaxNode, found: &mut Vec<Diagnostic>) {
    let names = node
        .children()
        .filter(|c| c.kind() != NODE_INHERIT_FROM)
        .count();
    if names > 0 {
        return;
    }
    found.push(
        finding(
            EMPTY_INHERIT,
            node.text_range(),
            "this `inherit` names nothing; leave it out",
        )
        .with_fix(fix(
            "Remove the empty inherit",
            vec![super::edit::remove(cx.text, node.text_range())],
        )),
    );
}

/// `a = a;` is `inherit a;` (in a set that is not `rec`), and `a = x.a;`
/// is `inherit (x) a;`.
fn manual_inherit(cx: &Cx<'_>, node: &SyntaxNode, parent: SyntaxKind, found: &mut Vec<Diagnostic>) {
    let Some(path) = node.first_child().filter(|p| p.kind() == NODE_ATTRPATH) else {
        return;
    };
    let Some(value) = node.last_child().filter(|v| v != &path) else {
        return;
    };
    let mut attrs = path.children();
    let (Some(key), None) = (attrs.next(), attrs.next()) else {
        return;
    };
    if key.kind() != NODE_IDENT || has_comment(node) {
        return;
    }
    let name = key.text().to_string();
    let is_rec = |set: &SyntaxNode| set.children_with_tokens().any(|t| t.kind() == TOKEN_REC);
    let Some(set) = node.parent() else { return };
    match value.kind() {
        // In a `let` or `rec` set, `a = a;` is `a` itself: an infinite
        // loop, not an inherit.
        NODE_IDENT if (cx.on)(MANUAL_INHERIT) => {
            if value.text() != name.as_str() || parent != NODE_ATTR_SET || is_rec(&set) {
                return;
            }
            found.push(
                finding(
                    MANUAL_INHERIT,
                    node.text_range(),
                    format!("`{name} = {name};` is `inherit {name};`"),
                )
                .with_fix(fix(
                    &format!("Write `inherit {name};`"),
                    vec![TextEdit::replace(
                        node.text_range(),
                        format!("inherit {name};"),
                    )],
                )),
            );
        }
        NODE_SELECT if (cx.on)(MANUAL_INHERIT_FROM) => {
            if value.children_with_tokens().any(|t| t.kind() == TOKEN_OR) {
                return;
            }
            let Some(base) = value.first_child() else {
                return;
            };
            let Some(selected) = value.last_child().filter(|p| p.kind() == NODE_ATTRPATH) else {
                return;
            };
            let selected_attrs: Vec<SyntaxNode> = selected.children().collect();
            let Some(last) = selected_attrs.last() else {
                return;
            };
            if last.kind() != NODE_IDENT || last.text() != name.as_str() {
                return;
            }
            // `a = a.a;` in a `let` would be `a` itself after the change.
            if mentions(&base, &name) && parent != NODE_ATTR_SET {
                return;
            }
            let mut from = strip(&base).text().to_string();
            for attr in &selected_attrs[..selected_attrs.len() - 1] {
                from.push('.');
                from.push_str(&attr.text().to_string());
            }
            let replacement = format!("inherit ({from}) {name};");
            found.push(
                finding(
                    MANUAL_INHERIT_FROM,
                    node.text_range(),
                    format!("`{}` is `{replacement}`", node.text()),
                )
                .with_fix(fix(
                    &format!("Write `{replacement}`"),
                    vec![TextEdit::replace(node.text_range(), replacement.clone())],
                )),
            );
        }
        _ => {}
    }
}

// ------------------------------------------------------------- functions

/// `x: f x` is `f`.
fn eta_reduction(node: &SyntaxNode, found: &mut Vec<Diagnostic>) {
    let Some(param) = node.first_child().filter(|p| p.kind() == NODE_IDENT_PARAM) else {
        return;
    };
    let name = param.text().to_string();
    let Some(body) = node.last_child().filter(|b| b.kind() == NODE_APPLY) else {
        return;
    };
    let (Some(function), Some(argument)) = (body.first_child(), body.last_child()) else {
        return;
    };
    if argument.kind() != NODE_IDENT || argument.text() != name.as_str() {
        return;
    }
    if mentions(&function, &name) || has_comment(node) {
        return;
    }
    let replacement = function.text().to_string();
    let message = if replacement.contains('\n') || replacement.len() > 40 {
        format!("`{name}: f {name}` is `f` itself: pass the function")
    } else {
        format!("`{name}: {replacement} {name}` is `{replacement}`")
    };
    let mut d = finding(ETA_REDUCTION, node.text_range(), message).with_fix(fix(
        &format!("Write `{replacement}`"),
        // An application binds tighter than anything a lambda can stand in.
        vec![TextEdit::replace(node.text_range(), replacement.clone())],
    ));
    d.severity = Severity::Hint;
    found.push(d);
}

/// Whether a lambda is (or may be) a module: one in a list of modules
/// (`imports = [ ({ ... }: { }) ]`), or one that returns a set, as every
/// module does (a file's `{ ... }: { ... }`, `perSystem = { ... }: { }`).
fn is_module(lambda: &SyntaxNode) -> bool {
    let mut up = lambda.parent();
    while let Some(p) = up.as_ref().filter(|p| p.kind() == NODE_PAREN) {
        up = p.parent();
    }
    // `imports = [ ({ ... }: ...) ]`, `modules = [ ... ]`.
    if up.is_some_and(|p| p.kind() == NODE_LIST) {
        return true;
    }
    let mut body = lambda.last_child();
    while let Some(b) = body
        .clone()
        .filter(|b| matches!(b.kind(), NODE_PAREN | NODE_LET_IN | NODE_WITH))
    {
        body = b.last_child();
    }
    body.is_some_and(|b| b.kind() == NODE_ATTR_SET)
}

/// `{ ... }: e` is `_: e`; `args @ { ... }: e` is `args: e`.
fn patterns(cx: &Cx<'_>, node: &SyntaxNode, found: &mut Vec<Diagnostic>) {
    let Some(pattern) = node.first_child().filter(|p| p.kind() == NODE_PATTERN) else {
        return;
    };
    if pattern.children().any(|c| c.kind() == NODE_PAT_ENTRY) || has_comment(&pattern) {
        return;
    }
    // `{ }:` takes only an empty set: `_:` would take anything.
    let ellipsis = pattern
        .children_with_tokens()
        .any(|t| t.kind() == TOKEN_ELLIPSIS);
    if !ellipsis {
        return;
    }
    let bind = pattern.children().find(|c| c.kind() == NODE_PAT_BIND);
    match bind {
        Some(bind) if (cx.on)(REDUNDANT_PATTERN_BIND) => {
            let Some(name) = bind
                .children()
                .find(|c| c.kind() == NODE_IDENT)
                .map(|n| n.text().to_string())
            else {
                return;
            };
            found.push(
                finding(
                    REDUNDANT_PATTERN_BIND,
                    pattern.text_range(),
                    format!("`{}` takes any set, as `{name}` does", pattern.text()),
                )
                .with_fix(fix(
                    &format!("Write `{name}`"),
                    vec![TextEdit::replace(pattern.text_range(), name.clone())],
                )),
            );
        }
        None if (cx.on)(EMPTY_PATTERN) => {
            // A module's `{ ... }:` says "a module"; NixOS reads the pattern.
            if is_module(node) {
                return;
            }
            found.push(
                finding(
                    EMPTY_PATTERN,
                    pattern.text_range(),
                    "`{ ... }:` names no argument: `_:` says the same",
                )
                .with_fix(fix(
                    "Write `_`",
                    vec![TextEdit::replace(pattern.text_range(), "_".to_string())],
                )),
            );
        }
        _ => {}
    }
}

// ------------------------------------------------------------- conditions

/// `if x ? a then x.a else d` is `x.a or d`.
fn useless_has_attr(node: &SyntaxNode, found: &mut Vec<Diagnostic>) {
    let mut parts = node.children();
    let (Some(condition), Some(then), Some(otherwise)) = (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let condition = strip(&condition);
    if condition.kind() != NODE_HAS_ATTR || then.kind() != NODE_SELECT || has_comment(node) {
        return;
    }
    let (Some(set), Some(path)) = (condition.first_child(), condition.last_child()) else {
        return;
    };
    if then.children_with_tokens().any(|t| t.kind() == TOKEN_OR) {
        return;
    }
    let (Some(base), Some(selected)) = (then.first_child(), then.last_child()) else {
        return;
    };
    let same = |a: &SyntaxNode, b: &SyntaxNode| {
        a.text().to_string().split_whitespace().collect::<String>()
            == b.text().to_string().split_whitespace().collect::<String>()
    };
    // `x ? a` against `x.a`, and `x.y ? a` against `x.y.a`.
    let tested = format!("{}.{}", set.text(), path.text());
    let selects_tested = (same(&set, &base) && same(&path, &selected))
        || same_text(&tested, &then.text().to_string());
    if !selects_tested {
        return;
    }
    let replacement = format!("{} or {}", then.text(), atom_text(&otherwise));
    let in_place = match node.parent().map(|p| p.kind()) {
        Some(NODE_APPLY | NODE_SELECT | NODE_LIST | NODE_HAS_ATTR) => format!("({replacement})"),
        _ => replacement.clone(),
    };
    found.push(
        finding(
            USELESS_HAS_ATTR,
            node.text_range(),
            format!("`{replacement}` says this in one expression"),
        )
        .with_fix(Fix {
            title: format!("Write `{replacement}`"),
            edits: vec![TextEdit::replace(node.text_range(), in_place)],
            // `if a.b ? c then a.b.c else d` fails when `a` has no `b`;
            // `a.b.c or d` gives `d` then: offered, not applied by `--fix`.
            preferred: set.kind() != NODE_SELECT,
        }),
    );
}

fn same_text(a: &str, b: &str) -> bool {
    a.split_whitespace().collect::<String>() == b.split_whitespace().collect::<String>()
}

// ------------------------------------------------------------- parentheses

/// Parentheses around a binding's value, a `let`'s body, or an atom.
fn useless_parens(cx: &Cx<'_>, node: &SyntaxNode, parent: SyntaxKind, found: &mut Vec<Diagnostic>) {
    let Some(inner) = node.first_child() else {
        return;
    };
    if has_comment(node) {
        return;
    }
    let parent_node = node.parent();
    let is_last_child = parent_node
        .as_ref()
        .is_some_and(|p| p.last_child().as_ref() == Some(node));
    let place = match parent {
        NODE_ATTRPATH_VALUE if is_last_child => Some("a binding's value"),
        NODE_LET_IN if is_last_child => Some("a `let` body"),
        _ => None,
    };
    let atom = is_literal_atom(inner.kind());
    // `(x).a`: a set literal or a path selected from keeps its parentheses.
    let selected_from = parent == NODE_SELECT && inner.kind() != NODE_IDENT;
    if place.is_none() && (!atom || selected_from) {
        return;
    }
    // Inner parentheses are reported themselves.
    if parent == NODE_PAREN && place.is_none() {
        return;
    }
    let mut text = inner.text().to_string();
    // `f(x)y` must not become `fxy`, `(a)(b)` not `ab`, `x+(./a)` not
    // `x+./a`: a space where the neighbour could join the inner text.
    let start = usize::from(node.text_range().start());
    let end = usize::from(node.text_range().end());
    let before = cx.text[..start].chars().next_back();
    let after = cx.text[end..].chars().next();
    if before.is_some_and(|c| !c.is_whitespace() && !"([{=;!".contains(c)) {
        text.insert(0, ' ');
    }
    let after_ok = |c: char| {
        c.is_whitespace() || ")]};,".contains(c) || (c == '.' && inner.kind() == NODE_IDENT)
    };
    if after.is_some_and(|c| !after_ok(c)) {
        text.push(' ');
    }
    let what = place.unwrap_or("a single value");
    let mut d = finding(
        USELESS_PARENS,
        node.text_range(),
        format!("parentheses around {what} change nothing; leave them out"),
    )
    .with_fix(fix(
        "Remove the parentheses",
        vec![TextEdit::replace(node.text_range(), text)],
    ));
    d.severity = Severity::Hint;
    found.push(d);
}

// ------------------------------------------------------------- sets

/// How many of the other keys of a group a `repeated-keys` finding lists.
const RELATED_KEYS: usize = 8;

/// Three or more keys of a set starting with one name: nesting them
/// names it once.
fn repeated_keys(node: &SyntaxNode, found: &mut Vec<Diagnostic>) {
    if node.children_with_tokens().any(|t| t.kind() == TOKEN_REC) {
        return;
    }
    let mut groups: Vec<(String, Vec<TextRange>)> = Vec::new();
    for binding in node.children().filter(|c| c.kind() == NODE_ATTRPATH_VALUE) {
        let Some(path) = binding.first_child() else {
            continue;
        };
        let attrs: Vec<SyntaxNode> = path.children().collect();
        if attrs.len() < 2 {
            continue;
        }
        let Some(first) = static_attr_name(&attrs[0]) else {
            continue;
        };
        let first = first.to_string();
        match groups.iter_mut().find(|(name, _)| *name == first) {
            Some((_, ranges)) => ranges.push(attrs[0].text_range()),
            None => groups.push((first, vec![attrs[0].text_range()])),
        }
    }
    for (name, ranges) in groups {
        if ranges.len() < 3 {
            continue;
        }
        let mut d = finding(
            REPEATED_KEYS,
            ranges[0],
            format!(
                "`{name}` starts {} keys of this set: `{name} = {{ ... }};` names it once",
                ranges.len()
            ),
        );
        // The next few keys: a module that sets `services.*` five hundred
        // times does not need five hundred locations in every publish.
        for range in ranges[1..].iter().take(RELATED_KEYS) {
            d.related.push(Related {
                range: *range,
                message: format!("`{name}` again"),
            });
        }
        found.push(d);
    }
}
