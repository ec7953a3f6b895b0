//! The rules: one file per family. Each reads the syntax tree and the
//! semantic model (never re-deriving scopes from text) and returns findings
//! at their default severities; `analysis` applies settings and
//! suppression comments afterwards.

mod broken;
mod correctness;
pub(crate) mod dead_code;
pub(crate) mod edit;
mod performance;
mod scan;
mod security;
mod style;

use rnix::SyntaxNode;
use rowan::{GreenNode, TextSize};

use super::semantic::SemanticModel;
use super::Diagnostic;
use crate::config::{RuleLevel, Settings};

pub use edit::merge as merge_edits;
pub use security::insecure_scheme;

/// Every rule's findings on a tree without syntax errors.
pub fn check(
    root: &SyntaxNode,
    text: &str,
    model: &SemanticModel,
    settings: &Settings,
) -> Vec<Diagnostic> {
    let on = |rule: &str| is_on(settings, rule);
    let mut found = dead_code::check(root, model, text, &on);
    found.extend(model_rules(root, text, model, &on));
    found.extend(correctness::check(root, text, Some(model), &on));
    found.sort_by_key(|d| (d.range.start(), d.range.end(), d.rule));
    found
}

/// The security, performance and style findings: rules that read what
/// names denote and where options are defined (found from one pass over
/// the text), and the shapes style looks for (one walk over the tree).
fn model_rules(
    root: &SyntaxNode,
    text: &str,
    model: &SemanticModel,
    on: &(dyn Fn(&str) -> bool + Sync),
) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let any = security::RULES
        .iter()
        .chain(performance::RULES)
        .chain(style::RULES)
        .any(|r| on(r));
    if !any {
        return found;
    }
    let names = super::names::Names::new(root, model);
    let cx = scan::Cx::new(root, text, model, &names, on);
    security::check(&cx, &mut found);
    performance::check(&cx, &mut found);
    style::check(&cx, &mut found);
    found
}

/// Whether `rule` runs: a level in the settings decides, else whether the
/// rule is on by default.
pub fn is_on(settings: &Settings, rule: &str) -> bool {
    match settings.rules.get(rule) {
        Some(level) => *level != RuleLevel::Off,
        None => !crate::diagnostic::registry::OFF_BY_DEFAULT.contains(&rule),
    }
}

/// Files above this size are analysed on two threads.
const PARALLEL_MIN: usize = 128 * 1024;

/// Builds the model and runs every rule; returns the findings and the
/// model. `errors` are where the tree's syntax errors start (none for a
/// complete file): on a tree with errors, the findings the broken text
/// could change are withheld (see `broken`), so a half-typed line neither
/// lights up the rest of the file nor makes its findings disappear. On a
/// big file, the rules that read only the tree run on a second thread
/// while this one builds the model and runs the others.
pub fn analyze_tree(
    green: &GreenNode,
    text: &str,
    errors: &[TextSize],
    settings: &Settings,
    previous: Option<&SemanticModel>,
) -> (Vec<Diagnostic>, SemanticModel) {
    let root = SyntaxNode::new_root(green.clone());
    let on = |rule: &str| is_on(settings, rule);
    let with_errors = !errors.is_empty();
    let model_part = |root: &SyntaxNode| {
        let model = SemanticModel::from_green_after(green, previous);
        let mut found = dead_code::check(root, &model, text, &on);
        found.extend(correctness::model_checks(root, text, &model, &on));
        found.extend(model_rules(root, text, &model, &on));
        (found, model)
    };
    let tree_part =
        |root: &SyntaxNode| correctness::tree_checks(green, root, text, with_errors, &on);
    let ((model_found, model), tree_found) = if text.len() < PARALLEL_MIN {
        (model_part(&root), tree_part(&root))
    } else {
        std::thread::scope(|scope| {
            let tree = std::thread::Builder::new()
                // Room for the recursion over nested set literals.
                .stack_size(64 << 20)
                .spawn_scoped(scope, || tree_part(&SyntaxNode::new_root(green.clone())));
            let model_part = model_part(&root);
            let tree_found = match tree {
                Ok(handle) => match handle.join() {
                    Ok(found) => found,
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                // No second thread: do it here.
                Err(_) => tree_part(&root),
            };
            (model_part, tree_found)
        })
    };
    let mut found = if with_errors {
        let errors = broken::error_starts(&root, errors.iter().copied());
        broken::withhold(&root, &errors, model_found, tree_found)
    } else {
        let mut found = model_found;
        found.extend(tree_found);
        found
    };
    found.sort_by_key(|d| (d.range.start(), d.range.end(), d.rule));
    (found, model)
}
