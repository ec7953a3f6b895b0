//! The rules: one file per family. Each reads the syntax tree and the
//! semantic model (never re-deriving scopes from text) and returns findings
//! at their default severities; `analysis` applies settings and
//! suppression comments afterwards.

mod broken;
mod correctness;
pub(crate) mod dead_code;
pub(crate) mod edit;
mod memo;
mod performance;
mod scan;
mod security;
mod set_keys;
mod style;

use rnix::SyntaxNode;
use std::sync::Arc;

use rowan::{GreenNode, TextSize};

use super::semantic::SemanticModel;
use super::Diagnostic;
use crate::config::{RuleLevel, Settings};

pub use edit::merge as merge_edits;
pub use memo::{Keep, Memo};
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
    let words = Arc::new(scan::Words::find(text));
    found.extend(correctness::model_checks(root, text, model, &on, &words));
    found.extend(model_rules(root, text, model, &on, words, None, Keep::Nothing).0);
    found.extend(correctness::tree_checks(
        root.green(),
        root,
        text,
        false,
        &on,
    ));
    found.sort_by_key(|d| (d.range.start(), d.range.end(), d.rule));
    found
}

/// The security, performance and style findings: rules that read what
/// names denote and where options are defined (found from one pass over
/// the text), and the shapes style looks for (one walk over the tree,
/// whose unchanged chunks are taken from `previous`). Also returns the
/// style walk's chunks for the next analysis.
fn model_rules(
    root: &SyntaxNode,
    text: &str,
    model: &SemanticModel,
    on: &(dyn Fn(&str) -> bool + Sync),
    words: Arc<scan::Words>,
    previous: Option<&Memo>,
    keep: Keep,
) -> (Vec<Diagnostic>, memo::Chunks<StyleKept>) {
    let mut found = Vec::new();
    let any = security::RULES
        .iter()
        .chain(performance::RULES)
        .chain(style::RULES)
        .any(|r| on(r));
    if !any {
        return (found, memo::Chunks::default());
    }
    let names = super::names::Names::new(root, model);
    let cx = scan::Cx::new(root, text, model, &names, on, words);
    security::check(&cx, &mut found);
    performance::check(&cx, &mut found);
    let style = style::check(&cx, previous, keep, &mut found);
    (found, style)
}

/// What the style walk keeps per chunk.
type StyleKept = Vec<(super::semantic::Site, rnix::SyntaxKind)>;

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

/// The helper thread that runs the tree rules of a big file beside the
/// model's. Long-lived, so that an analysis pays neither a thread start
/// nor fresh pages: what one keystroke freed there, the next reuses.
fn helper() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            // Room for the recursion over nested set literals.
            .stack_size(64 << 20)
            .thread_name(|_| "cim-nix-rules".into())
            .build()
            .ok()
    })
    .as_ref()
}

/// An earlier analysis of the same file, for [`analyze_tree`] to reuse.
#[derive(Clone, Copy, Default)]
pub struct Earlier<'a> {
    pub model: Option<&'a SemanticModel>,
    pub memo: Option<&'a Memo>,
    /// The text that analysis was of (the memo's words are found in it).
    pub text: Option<&'a str>,
    /// Whether the next analysis will take from this one's.
    pub keep: Keep,
}

/// What [`analyze_tree`] found and built.
pub struct Analyzed {
    pub found: Vec<Diagnostic>,
    pub model: SemanticModel,
    /// What the next analysis of the file may reuse.
    pub memo: Memo,
}

/// Builds the model and runs every rule; returns the findings, the model
/// and what the next analysis may reuse. `errors` are where the tree's
/// syntax errors start (none for a complete file): on a tree with errors,
/// the findings the broken text could change are withheld (see `broken`),
/// so a half-typed line neither lights up the rest of the file nor makes
/// its findings disappear. The model, the tree walks and the word search
/// take what did not change from `earlier` (see `memo`); the results are what a fresh analysis gives. On a
/// big file, the rules that read only the tree run on a second thread
/// while this one builds the model and runs the others.
pub fn analyze_tree(
    green: &GreenNode,
    text: &str,
    errors: &[TextSize],
    settings: &Settings,
    earlier: Earlier<'_>,
) -> Analyzed {
    let Earlier {
        model: previous_model,
        memo: previous_memo,
        text: previous_text,
        keep,
    } = earlier;
    let root = SyntaxNode::new_root(green.clone());
    let on = |rule: &str| is_on(settings, rule);
    let with_errors = !errors.is_empty();
    let model_part = |root: &SyntaxNode| {
        let earlier_words = previous_text.zip(previous_memo.and_then(|m| m.words.as_deref()));
        let words = Arc::new(scan::Words::find_after(text, earlier_words));
        let model = SemanticModel::from_green_after(green, previous_model);
        let mut found = dead_code::check(root, &model, text, &on);
        found.extend(correctness::model_checks(root, text, &model, &on, &words));
        let (rules_found, style) =
            model_rules(root, text, &model, &on, words.clone(), previous_memo, keep);
        found.extend(rules_found);
        (found, model, style, words)
    };
    let tree_part = |root: &SyntaxNode| {
        let (found, tree, switches) = correctness::tree_checks_after(
            green,
            root,
            text,
            with_errors,
            &on,
            previous_memo,
            keep,
        );
        // A clean tree has none, but is walked for the keystroke that
        // breaks it, unless no keystroke will follow.
        let error_nodes = match (with_errors, keep) {
            (false, Keep::Nothing) => Default::default(),
            _ => broken::error_nodes(green, previous_memo, keep),
        };
        (found, tree, switches, error_nodes)
    };
    let (
        (model_found, model, style, words),
        (tree_found, tree, tree_switches, (error_nodes, errors_kept)),
    ) = if text.len() < PARALLEL_MIN {
        (model_part(&root), tree_part(&root))
    } else {
        match helper() {
            Some(pool) => {
                let mut tree = None;
                let model_part = pool.in_place_scope(|scope| {
                    scope.spawn(|_| {
                        tree = Some(tree_part(&SyntaxNode::new_root(green.clone())));
                    });
                    model_part(&root)
                });
                // A panic on the helper has been raised by the scope.
                let tree = tree.unwrap_or_else(|| tree_part(&root));
                (model_part, tree)
            }
            // No second thread: do it here.
            None => (model_part(&root), tree_part(&root)),
        }
    };
    let mut found = if with_errors {
        let mut starts = error_nodes;
        starts.extend(errors);
        starts.sort();
        starts.dedup();
        broken::withhold(&root, &starts, model_found, tree_found)
    } else {
        let mut found = model_found;
        found.extend(tree_found);
        found
    };
    found.sort_by_key(|d| (d.range.start(), d.range.end(), d.rule));
    let memo = Memo {
        tree,
        tree_switches,
        style,
        errors: errors_kept,
        words: Some(words),
    };
    Analyzed { found, model, memo }
}
