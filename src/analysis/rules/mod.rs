//! The rules: one file per family. Each reads the syntax tree and the
//! semantic model (never re-deriving scopes from text) and returns findings
//! at their default severities; `analysis` applies settings and
//! suppression comments afterwards.

mod correctness;
mod dead_code;
mod edit;

use rnix::SyntaxNode;

use super::semantic::SemanticModel;
use super::Diagnostic;
use crate::config::{RuleLevel, Settings};

pub use edit::merge as merge_edits;

/// Every rule's findings. `complete`: the file parsed without errors;
/// rules that need every binding of the file (dead code, undefined names)
/// wait for that, so a half-typed line does not light up the rest.
pub fn check(
    root: &SyntaxNode,
    text: &str,
    model: &SemanticModel,
    complete: bool,
    settings: &Settings,
) -> Vec<Diagnostic> {
    let on = |rule: &str| settings.rules.get(rule) != Some(&RuleLevel::Off);
    let mut found = Vec::new();
    if complete {
        found.extend(dead_code::check(model, text, &on));
    }
    found.extend(correctness::check(root, text, model, complete, &on));
    found.sort_by_key(|d| (d.range.start(), d.range.end(), d.rule));
    found
}
