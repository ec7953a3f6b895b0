//! Who calls a lambda, and with what: the argument sets whose names meet
//! its pattern fields. References and rename of a pattern field read the
//! callers' arguments; a caller that passes arguments by name without
//! writing them (`callPackage`, a module in `imports`) or a lambda that
//! escapes where cim-nix cannot follow makes a rename unsound.
//!
//! Callers are found in this file (a lambda bound by `let` or applied
//! where it is written) and, for a file whose top is the lambda, in the
//! files that `import`, `callPackage` or list it in `imports`.

use std::path::Path;
use std::rc::Rc;

use rnix::{SyntaxKind, SyntaxNode};

use super::sets::{imported_path, strip_parens, Resolver};
use super::{paths, Doc};
use crate::analysis::semantic::DefKind;

use SyntaxKind::*;

/// One call of the lambda.
pub(crate) struct Call {
    pub doc: Rc<Doc>,
    /// The argument, when it is a set written out (`f { a = 1; }`).
    pub argument: Option<SyntaxNode>,
    pub how: CallKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallKind {
    /// `f arg`, `import ./x.nix arg`: only what the argument writes.
    Direct,
    /// `callPackage ./x { ... }`: what the set does not write is passed
    /// by name from the package set.
    CallPackage,
    /// `imports = [ ./x.nix ]`: the module system passes arguments by name.
    Module,
}

/// Why the callers of a lambda cannot all be known.
pub(crate) struct Unknown(pub String);

/// Every call of `lambda` (a node of `doc`), or why they cannot all be
/// known.
pub(crate) fn calls_of(
    doc: &Rc<Doc>,
    lambda: &SyntaxNode,
    resolver: &Resolver,
) -> Result<Vec<Call>, Unknown> {
    // Applied where it is written: `({ a }: a) { a = 1; }`.
    let outer = outermost_parens(lambda);
    if let Some(apply) = outer.parent().filter(|p| p.kind() == NODE_APPLY) {
        if apply.children().next().as_ref() == Some(&outer) {
            return Ok(vec![Call {
                doc: doc.clone(),
                argument: argument_set(&apply),
                how: CallKind::Direct,
            }]);
        }
    }
    // Bound by `let f = { a }: ...;`: every use of `f` must be a call.
    if let Some(binding) = outer.parent().filter(|p| p.kind() == NODE_ATTRPATH_VALUE) {
        return let_bound_calls(doc, &binding);
    }
    // The file's function: the files that call it.
    if outer.parent().is_some_and(|p| p.kind() == NODE_ROOT) {
        return file_calls(doc, resolver);
    }
    Err(Unknown(
        "the function is passed on to code that calls it with arguments cim-nix cannot see".into(),
    ))
}

fn let_bound_calls(doc: &Rc<Doc>, binding: &SyntaxNode) -> Result<Vec<Call>, Unknown> {
    let model = doc
        .model()
        .ok_or_else(|| Unknown("the file has no tree".into()))?;
    let name_range = binding
        .children()
        .next()
        .and_then(|p| p.children().next())
        .map(|n| n.text_range());
    let def = model
        .defs
        .iter()
        .position(|d| Some(d.range) == name_range && d.kind == DefKind::LetBinding)
        .ok_or_else(|| {
            Unknown("the function is an attribute of a set, which other code may call".into())
        })?;
    let root = doc
        .root()
        .ok_or_else(|| Unknown("the file has no tree".into()))?;
    let mut calls = Vec::new();
    for &r in &model.uses[def] {
        let range = model.refs[r].range;
        let ident = root
            .covering_element(range)
            .ancestors()
            .find(|n| n.kind() == NODE_IDENT)
            .ok_or_else(|| Unknown("a use of the function is not a name".into()))?;
        let outer = outermost_parens(&ident);
        let apply = outer
            .parent()
            .filter(|p| p.kind() == NODE_APPLY && p.children().next().as_ref() == Some(&outer))
            .ok_or_else(|| {
                Unknown(format!(
                    "`{}` is passed on, not only called, so its callers are not all known",
                    model.defs[def].name
                ))
            })?;
        calls.push(Call {
            doc: doc.clone(),
            argument: argument_set(&apply),
            how: CallKind::Direct,
        });
    }
    Ok(calls)
}

/// The calls of a file's function from the files that may refer to it.
fn file_calls(doc: &Rc<Doc>, resolver: &Resolver) -> Result<Vec<Call>, Unknown> {
    let Some(path) = doc.path.clone() else {
        return Err(Unknown(
            "the text is no file, so nothing can call it".into(),
        ));
    };
    let mut calls = Vec::new();
    for referrer in resolver.world().referrers(&path) {
        if referrer == path {
            continue;
        }
        let Some(other) = resolver.load(&referrer) else {
            continue;
        };
        let Some(root) = other.root().cloned() else {
            continue;
        };
        for node in root.descendants() {
            match node.kind() {
                NODE_APPLY => {
                    if imported_path(&other, &node, resolver.world()).as_deref() != Some(&path) {
                        continue;
                    }
                    let how = if is_call_package(&node) {
                        CallKind::CallPackage
                    } else {
                        CallKind::Direct
                    };
                    // `import ./x.nix arg`: the application around this one.
                    let outer = outermost_parens(&node);
                    let applied = outer.parent().filter(|p| {
                        p.kind() == NODE_APPLY && p.children().next().as_ref() == Some(&outer)
                    });
                    match applied {
                        Some(apply) => calls.push(Call {
                            doc: other.clone(),
                            argument: argument_set(&apply),
                            how,
                        }),
                        None => {
                            return Err(Unknown(format!(
                                "{} reads this file's function without calling it",
                                referrer.display()
                            )))
                        }
                    }
                }
                NODE_PATH_REL | NODE_PATH_ABS if in_imports_list(&node) => {
                    let names_this = paths::literal(&node)
                        .and_then(|l| paths::resolve(other.path.as_deref(), &l, resolver.world()))
                        .is_some_and(|p| p == path);
                    if names_this {
                        calls.push(Call {
                            doc: other.clone(),
                            argument: None,
                            how: CallKind::Module,
                        });
                    }
                }
                _ => {}
            }
        }
    }
    if calls.is_empty() {
        return Err(Unknown(format!(
            "no file of the workspace calls {}, so whatever calls it (callPackage, the module \
             system) passes its arguments by name",
            file_name(&path)
        )));
    }
    Ok(calls)
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `callPackage ./x` (however `callPackage` is reached).
fn is_call_package(apply: &SyntaxNode) -> bool {
    let Some(function) = apply.children().next().map(|f| strip_parens(&f)) else {
        return false;
    };
    let last = match function.kind() {
        NODE_IDENT => Some(function.text().to_string()),
        NODE_SELECT => function
            .children()
            .nth(1)
            .and_then(|p| p.children().last())
            .map(|a| a.text().to_string()),
        _ => None,
    };
    last.is_some_and(|n| n.starts_with("callPackage"))
}

/// A path written in a module's `imports = [ ... ]`.
fn in_imports_list(path: &SyntaxNode) -> bool {
    let Some(list) = path.parent().filter(|p| p.kind() == NODE_LIST) else {
        return false;
    };
    let Some(binding) = list.parent().filter(|p| p.kind() == NODE_ATTRPATH_VALUE) else {
        return false;
    };
    binding
        .children()
        .next()
        .and_then(|p| p.children().last())
        .is_some_and(|a| a.text() == "imports")
}

/// The argument of an application, when it is a set written out.
fn argument_set(apply: &SyntaxNode) -> Option<SyntaxNode> {
    let argument = strip_parens(&apply.children().nth(1)?);
    (argument.kind() == NODE_ATTR_SET).then_some(argument)
}

/// The node itself, or the parentheses around it.
pub(crate) fn outermost_parens(node: &SyntaxNode) -> SyntaxNode {
    let mut node = node.clone();
    while let Some(parent) = node.parent().filter(|p| p.kind() == NODE_PAREN) {
        node = parent;
    }
    node
}

/// The lambda whose pattern holds the field `def` names.
pub(crate) fn lambda_of_field(doc: &Doc, def: usize) -> Option<SyntaxNode> {
    let model = doc.model()?;
    let site = model.defs[def].sites.first()?;
    let entry = site.node(doc.root()?)?;
    entry.ancestors().find(|n| n.kind() == NODE_LAMBDA)
}
