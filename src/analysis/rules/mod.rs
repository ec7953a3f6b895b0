//! The rules: one file per family. Each reads the syntax tree and the
//! semantic model (never re-deriving scopes from text) and returns findings
//! at their default severities; `analysis` applies settings and
//! suppression comments afterwards.

mod correctness;
pub(crate) mod dead_code;
pub(crate) mod edit;
mod performance;
mod scan;
mod security;
mod style;

use rnix::SyntaxNode;
use rowan::GreenNode;

use super::semantic::SemanticModel;
use super::Diagnostic;
use crate::config::{RuleLevel, Settings};

pub use edit::merge as merge_edits;
pub use security::insecure_scheme;

/// Every rule's findings. `model` is absent while the file has syntax
/// errors: rules that need every binding of the file (dead code, undefined
/// names) wait until it parses, so a half-typed line does not light up the
/// rest, and the model is not built for a tree that is about to change.
pub fn check(
    root: &SyntaxNode,
    text: &str,
    model: Option<&SemanticModel>,
    settings: &Settings,
) -> Vec<Diagnostic> {
    let on = |rule: &str| is_on(settings, rule);
    let mut found = Vec::new();
    if let Some(model) = model {
        found.extend(dead_code::check(root, model, text, &on));
        found.extend(model_rules(root, text, model, &on));
    }
    found.extend(correctness::check(root, text, model, &on));
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

/// Builds the model (when the file parsed without errors) and runs every
/// rule; returns the findings and the model it built. On a big file, the
/// rules that read only the tree run on a second thread while this one
/// builds the model and runs the others.
pub fn analyze_tree(
    green: &GreenNode,
    text: &str,
    complete: bool,
    settings: &Settings,
    previous: Option<&SemanticModel>,
) -> (Vec<Diagnostic>, Option<SemanticModel>) {
    let root = SyntaxNode::new_root(green.clone());
    if !complete {
        return (check(&root, text, None, settings), None);
    }
    if text.len() < PARALLEL_MIN {
        let model = SemanticModel::from_green_after(green, previous);
        let found = check(&root, text, Some(&model), settings);
        return (found, Some(model));
    }
    let on = |rule: &str| is_on(settings, rule);
    let (mut found, model) = std::thread::scope(|scope| {
        let tree = std::thread::Builder::new()
            // Room for the recursion over nested set literals.
            .stack_size(64 << 20)
            .spawn_scoped(scope, || {
                let root = SyntaxNode::new_root(green.clone());
                correctness::tree_checks(green, &root, text, false, &on)
            });
        let model = SemanticModel::from_green_after(green, previous);
        let mut found = dead_code::check(&root, &model, text, &on);
        found.extend(correctness::model_checks(&root, text, &model, &on));
        found.extend(model_rules(&root, text, &model, &on));
        match tree {
            Ok(handle) => match handle.join() {
                Ok(more) => found.extend(more),
                Err(panic) => std::panic::resume_unwind(panic),
            },
            // No second thread: do it here.
            Err(_) => found.extend(correctness::tree_checks(green, &root, text, false, &on)),
        }
        (found, model)
    });
    found.sort_by_key(|d| (d.range.start(), d.range.end(), d.rule));
    (found, Some(model))
}
