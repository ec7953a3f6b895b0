//! Which inputs `outputs` really uses: a field of its pattern that its body
//! refers to, or `inputs.<name>` through its `@` binding (or its single
//! argument). Read from the syntax tree; a name shadowed inside the body
//! counts as used (no finding rather than a wrong one).

use std::collections::BTreeSet;

use rnix::ast::{self, Expr};
use rnix::{SyntaxKind, SyntaxNode};
use rowan::ast::AstNode;

use crate::syntax::read;

/// What the body of `outputs` refers to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OutputsUses {
    /// Pattern fields the body refers to.
    pub fields: BTreeSet<String>,
    /// Names selected through the `@` binding or the single argument:
    /// `inputs.nixpkgs`, `inherit (inputs) nixpkgs`.
    pub selected: BTreeSet<String>,
    /// The binding or argument is used whole (passed on, `inputs // x`):
    /// every input may be used.
    pub all: bool,
}

/// The uses of `outputs`, if it is a function written in this file.
pub fn outputs_uses(root: &SyntaxNode) -> Option<OutputsUses> {
    let set = match read::strip_parens(&ast::Root::cast(root.clone())?.expr()?) {
        Expr::AttrSet(set) => set,
        _ => return None,
    };
    let lambda = read::bindings(&set).find_map(|(names, value)| {
        match (names.as_slice(), read::strip_parens(&value)) {
            ([name], Expr::Lambda(lambda)) if name.text == "outputs" => Some(lambda),
            _ => None,
        }
    })?;
    let (fields, whole): (Vec<String>, Option<String>) = match lambda.param()? {
        ast::Param::Pattern(p) => (
            p.pat_entries()
                .filter_map(|e| Some(e.ident()?.syntax().text().to_string()))
                .collect(),
            p.pat_bind()
                .and_then(|b| Some(b.ident()?.syntax().text().to_string())),
        ),
        ast::Param::IdentParam(i) => (Vec::new(), Some(i.ident()?.syntax().text().to_string())),
    };
    let mut uses = OutputsUses::default();
    let body = lambda.body()?;
    for node in body.syntax().descendants() {
        if node.kind() != SyntaxKind::NODE_IDENT {
            continue;
        }
        let Some(parent) = node.parent() else {
            continue;
        };
        // Keys, and names that bind rather than refer.
        if matches!(
            parent.kind(),
            SyntaxKind::NODE_ATTRPATH
                | SyntaxKind::NODE_PAT_ENTRY
                | SyntaxKind::NODE_PAT_BIND
                | SyntaxKind::NODE_IDENT_PARAM
        ) {
            continue;
        }
        let name = node.text().to_string();
        if whole.as_deref() == Some(name.as_str()) {
            match selected_through(&node, &parent) {
                Some(names) => uses.selected.extend(names),
                None => uses.all = true,
            }
        } else if fields.contains(&name) {
            uses.fields.insert(name);
        }
    }
    Some(uses)
}

/// The names `ident` (the whole-inputs name) selects where it appears:
/// `inputs.x...` gives `x`, `inherit (inputs) x y;` gives both; `None` when
/// it is used whole.
fn selected_through(ident: &SyntaxNode, parent: &SyntaxNode) -> Option<Vec<String>> {
    match parent.kind() {
        SyntaxKind::NODE_SELECT => {
            let select = ast::Select::cast(parent.clone())?;
            if select.expr()?.syntax() != ident {
                return None;
            }
            let first = select.attrpath()?.attrs().next()?;
            let name = crate::syntax::green::static_attr_name(first.syntax())?;
            Some(vec![name.to_string()])
        }
        SyntaxKind::NODE_INHERIT_FROM => {
            let inherit = ast::Inherit::cast(parent.parent()?)?;
            inherit
                .attrs()
                .map(|a| crate::syntax::green::static_attr_name(a.syntax()).map(|n| n.to_string()))
                .collect()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uses(text: &str) -> OutputsUses {
        outputs_uses(&rnix::Root::parse(text).syntax()).unwrap()
    }

    #[test]
    fn fields_selections_and_whole_uses() {
        let u = uses("{ outputs = { self, a, b, ... }@inputs: let x = a.lib; in { inherit (inputs) c; d = inputs.e.f; g = x: x; }; }");
        assert_eq!(u.fields.iter().collect::<Vec<_>>(), ["a"]);
        assert_eq!(u.selected.iter().collect::<Vec<_>>(), ["c", "e"]);
        assert!(!u.all);
        let u = uses("{ outputs = inputs: import ./outputs.nix inputs; }");
        assert!(u.all);
        let u = uses("{ outputs = { self, nixpkgs }: { x.nixpkgs = 1; }; }");
        assert!(u.fields.is_empty(), "a key is not a use");
    }
}
