//! A file's diagnostics: the analysis of its text, and for a flake.nix the
//! findings about it and its flake.lock.

use rowan::{TextRange, TextSize};

use crate::analysis::{self, Analysis};
use crate::config::Settings;
use crate::diagnostic::{registry, Diagnostic};
use crate::syntax::Parse;

/// What the caller knows of the file beyond its text.
#[derive(Clone, Copy, Default)]
pub struct FileContext<'a> {
    /// The file is a flake.nix.
    pub is_flake: bool,
    /// For a flake: the text of the flake.lock beside it, if there is one.
    pub flake_lock: Option<&'a str>,
    /// Another file of the project names this one as a Home Manager module
    /// (`home-manager.users.<name>`, `homeManagerConfiguration`).
    pub named_as_home_module: bool,
    /// An earlier analysis of the file, whose semantic model's walk of
    /// what did not change is reused.
    pub previous: Option<&'a Analysis>,
    /// No edit will follow this analysis (`cim-nix check`): nothing is
    /// kept for one. Ignored when `previous` or earlier parses are given.
    pub once: bool,
}

/// Analyses `text`, reusing what it can of `earlier` parses of the same
/// file (newest first), and adds a flake's findings.
pub fn analyze(
    text: &str,
    earlier: &[(&str, &Parse)],
    settings: &Settings,
    context: FileContext<'_>,
) -> Analysis {
    let mut analysis = match (context.once, context.previous, earlier) {
        (true, None, []) => analysis::analyze_once(text, settings),
        _ => analysis::analyze_incremental(text, earlier, context.previous, settings),
    };
    if context.is_flake {
        add_flake_findings(&mut analysis, text, context.flake_lock, settings);
    } else {
        add_home_findings(&mut analysis, text, context.named_as_home_module, settings);
    }
    analysis
}

/// Home Manager configurations are small; bigger files are package sets.
const MAX_HOME_SIZE: usize = 256 << 10;

/// Adds the option-name findings of a Home Manager module, or of the
/// `home-manager.users` sets in a NixOS or nix-darwin module.
fn add_home_findings(analysis: &mut Analysis, text: &str, named: bool, settings: &Settings) {
    if !settings.diagnostics_enabled || text.len() > MAX_HOME_SIZE {
        return;
    }
    if !named && !crate::home::HOME_WORDS.in_text(text) {
        return;
    }
    let Some(parse) = &analysis.parse else {
        return;
    };
    if !parse.errors().is_empty() {
        return;
    }
    let Some(root) = parse.syntax() else {
        return;
    };
    let whole = crate::home::read(&root, named).is_home_manager;
    if !whole && !text.contains("home-manager") {
        return;
    }
    let Some(model) = analysis.model() else {
        return;
    };
    let found = crate::home::validate::check(&root, text, model, whole);
    let found = analysis::apply_levels(analysis::suppress(found, text), settings);
    if !found.is_empty() {
        analysis.diagnostics.extend(found);
        analysis
            .diagnostics
            .sort_by_key(|d| (d.range.start(), d.range.end()));
    }
}

/// Applies every preferred fix that `wanted` selects (see
/// [`analysis::fix_all`]).
pub fn fix_all(text: &str, settings: &Settings, wanted: &dyn Fn(&Diagnostic) -> bool) -> String {
    analysis::fix_all(text, settings, wanted)
}

/// What stands for an analysis that failed with an internal error.
pub fn internal_error(why: &str) -> Analysis {
    analysis::internal_error(why)
}

/// The finding for a file that is not UTF-8; `valid_up_to` is where the
/// first bad byte is and `text` the file read lossily.
pub fn not_utf8(text: &str, valid_up_to: usize, settings: &Settings) -> Vec<Diagnostic> {
    let offset = text
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| i >= valid_up_to)
        .unwrap_or(0);
    let diagnostic = Diagnostic::new(
        registry::SYNTAX_ERROR,
        TextRange::empty(TextSize::from(offset as u32)),
        format!(
            "file is not valid UTF-8 (bad byte at offset {valid_up_to}); Nix files must be \
             UTF-8 for cim-nix"
        ),
    );
    analysis::apply_levels(vec![diagnostic], settings)
}

/// The findings about a flake.nix (`text`, parsed as `parse`) and its
/// flake.lock (`lock`: absent, or its text), after suppressions and the
/// settings' levels. Nothing when the file has syntax errors or is not a
/// set at its top.
fn flake_findings(
    parse: &Parse,
    text: &str,
    lock: Option<&str>,
    settings: &Settings,
) -> Vec<Diagnostic> {
    if !settings.diagnostics_enabled || !parse.errors().is_empty() {
        return Vec::new();
    }
    let Some(root) = parse.syntax() else {
        return Vec::new();
    };
    let Some(model) = crate::flake::FlakeModel::from_tree(&root) else {
        return Vec::new();
    };
    let read = lock.map(crate::flake::FlakeLock::parse);
    let state = match &read {
        None => crate::flake::LockState::Absent,
        Some(Ok(lock)) => crate::flake::LockState::Read(lock),
        Some(Err(why)) => crate::flake::LockState::Invalid(why),
    };
    let findings = crate::flake::diagnostics::check(&root, text, &model, state);
    analysis::apply_levels(analysis::suppress(findings, text), settings)
}

/// Adds [`flake_findings`] to `analysis` (the analysis of the flake.nix
/// `text`), keeping the diagnostics in position order.
fn add_flake_findings(
    analysis: &mut Analysis,
    text: &str,
    lock: Option<&str>,
    settings: &Settings,
) {
    let Some(parse) = &analysis.parse else {
        return;
    };
    let found = flake_findings(parse, text, lock, settings);
    if !found.is_empty() {
        analysis.diagnostics.extend(found);
        analysis
            .diagnostics
            .sort_by_key(|d| (d.range.start(), d.range.end()));
    }
}
