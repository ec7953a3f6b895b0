//! Pure analysis of one Nix file: diagnostics from the syntax tree.
//!
//! **Invariant:** no I/O, no LSP or NATS types; ranges are byte offsets.
//! The server and the CLI translate [`Diagnostic`]s for their audiences.

pub mod any_word;
pub mod modules;
pub mod names;
pub mod rules;
pub mod semantic;

use std::sync::{Arc, OnceLock};

use rowan::{TextRange, TextSize};

use crate::config::{RuleLevel, Settings};
use crate::diagnostic::{registry, Diagnostic};
use crate::syntax::{self, Parse, ReparseKind, SyntaxErrorKind, TextEdit};
use semantic::SemanticModel;

/// A file's parse (absent when the file was too big to parse), its
/// diagnostics after the settings' rule levels, and its semantic model
/// (kept from the rules, or built on first use).
pub struct Analysis {
    pub parse: Option<Parse>,
    pub diagnostics: Vec<Diagnostic>,
    /// How the parse was obtained (for logs and benchmarks).
    pub reparse: ReparseKind,
    model: OnceLock<Arc<SemanticModel>>,
    /// An earlier model of the file, for building this one on first use
    /// (a text with syntax errors, whose rules built none); let go once
    /// used, so that it and the old trees it holds do not live on.
    earlier_model: std::sync::Mutex<Option<Arc<SemanticModel>>>,
    /// What the rules keep for the next analysis of the file.
    rule_memo: Option<Arc<rules::Memo>>,
}

impl Clone for Analysis {
    fn clone(&self) -> Self {
        let earlier = match self.earlier_model.lock() {
            Ok(earlier) => earlier.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        Analysis {
            parse: self.parse.clone(),
            diagnostics: self.diagnostics.clone(),
            reparse: self.reparse,
            model: self.model.clone(),
            earlier_model: std::sync::Mutex::new(earlier),
            rule_memo: self.rule_memo.clone(),
        }
    }
}

impl Analysis {
    /// An analysis of `parse` with these findings; the model is built when
    /// first asked for.
    pub fn new(parse: Option<Parse>, diagnostics: Vec<Diagnostic>, reparse: ReparseKind) -> Self {
        Analysis {
            parse,
            diagnostics,
            reparse,
            model: OnceLock::new(),
            earlier_model: std::sync::Mutex::new(None),
            rule_memo: None,
        }
    }

    /// The model, shared, if it has been built already.
    pub fn shared_model(&self) -> Option<Arc<SemanticModel>> {
        self.model.get().cloned()
    }

    /// How many chunks of big sets the rules' tree walks went through, and
    /// how many of them they took from the previous analysis.
    pub fn rule_chunk_stats(&self) -> (usize, usize) {
        self.rule_memo.as_ref().map_or((0, 0), |m| m.stats())
    }

    /// The model, only if it has been built already (no work done).
    pub fn built_model(&self) -> Option<&SemanticModel> {
        self.model.get().map(|m| &**m)
    }

    /// The semantic model of the tree: the rules' when they built one,
    /// else built now (also for a tree with syntax errors, where names
    /// resolve as far as the recovered tree shows). `None` without a tree.
    pub fn model(&self) -> Option<&SemanticModel> {
        let green = self.parse.as_ref()?.green()?;
        Some(self.model.get_or_init(|| {
            let earlier = match self.earlier_model.lock() {
                Ok(mut earlier) => earlier.take(),
                Err(poisoned) => poisoned.into_inner().take(),
            };
            Arc::new(SemanticModel::from_green_after(green, earlier.as_deref()))
        }))
    }
}

/// Analyses `text`. `previous` is an earlier text of the same file and its
/// parse, which lets the parser reuse what did not change.
pub fn analyze(text: &str, previous: Option<(&str, &Parse)>, settings: &Settings) -> Analysis {
    analyze_after(text, previous.as_slice(), settings)
}

/// [`analyze`] with several earlier texts and parses of the file, newest
/// first (see [`syntax::reparse_from`]).
pub fn analyze_after(text: &str, earlier: &[(&str, &Parse)], settings: &Settings) -> Analysis {
    analyze_incremental(text, earlier, None, settings)
}

/// [`analyze_after`], also given an earlier analysis of the file: what its
/// model and rules found in the members of big sets that did not change is
/// taken from it (see [`semantic`] and `rules::memo`), and the result is
/// what a fresh analysis gives.
pub fn analyze_incremental(
    text: &str,
    earlier: &[(&str, &Parse)],
    previous: Option<&Analysis>,
    settings: &Settings,
) -> Analysis {
    analyze_keeping(text, earlier, previous, settings, rules::Keep::ForEdits)
}

/// [`analyze`] of a text no edit will follow (`cim-nix check`): the rules
/// keep nothing for a next analysis. The findings are the same.
pub fn analyze_once(text: &str, settings: &Settings) -> Analysis {
    analyze_keeping(text, &[], None, settings, rules::Keep::Nothing)
}

fn analyze_keeping(
    text: &str,
    earlier: &[(&str, &Parse)],
    previous: Option<&Analysis>,
    settings: &Settings,
    keep: rules::Keep,
) -> Analysis {
    let previous_model = previous.and_then(Analysis::shared_model);
    let previous_memo = previous.and_then(|p| p.rule_memo.clone());
    // The text the previous analysis was of: one of the earlier texts,
    // known by its parse.
    let previous_text = previous.and_then(|p| {
        let parse = p.parse.as_ref()?;
        earlier
            .iter()
            .find(|(_, earlier)| std::ptr::eq(*earlier, parse))
            .map(|(text, _)| *text)
    });
    let limit = settings.max_file_size;
    if text.len() as u64 > limit {
        let diagnostic = Diagnostic::new(
            registry::ANALYSIS_LIMIT,
            TextRange::empty(TextSize::from(0)),
            format!(
                "file is {} bytes; cim-nix analyses files up to {} bytes (setting `maxFileSize`)",
                text.len(),
                limit
            ),
        );
        return Analysis::new(
            None,
            apply_levels(vec![diagnostic], settings),
            ReparseKind::Full,
        );
    }
    let (parse, reparse) = syntax::reparse_from(earlier, text);
    let mut diagnostics = syntax_diagnostics(&parse);
    let mut model = None;
    if settings.diagnostics_enabled {
        if let Some(green) = parse.green() {
            let errors: Vec<TextSize> = parse.errors().iter().map(|e| e.range.start()).collect();
            let analyzed = rules::analyze_tree(
                green,
                text,
                &errors,
                settings,
                rules::Earlier {
                    model: previous_model.as_deref(),
                    memo: previous_memo.as_deref(),
                    text: previous_text,
                    keep,
                },
            );
            diagnostics.extend(analyzed.found);
            model = Some((analyzed.model, analyzed.memo));
        }
    }
    let diagnostics = apply_levels(suppress(diagnostics, text), settings);
    let mut analysis = Analysis::new(Some(parse), diagnostics, reparse);
    match model {
        Some((model, memo)) => {
            let _ = analysis.model.set(Arc::new(model));
            analysis.rule_memo = Some(Arc::new(memo));
        }
        // Built when a feature asks, from the earlier one.
        None => analysis.earlier_model = std::sync::Mutex::new(previous_model),
    }
    analysis
}

/// Applies every fix of the findings `wanted` selects,
/// round after round until none is left (a fix can make another finding,
/// such as a `with` only a removed binding used), at most 10 rounds. A
/// round whose result does not parse is undone and ends the fixing.
pub fn fix_all(text: &str, settings: &Settings, wanted: &dyn Fn(&Diagnostic) -> bool) -> String {
    let mut current = text.to_string();
    for _ in 0..10 {
        let analysis = analyze(&current, None, settings);
        if analysis
            .parse
            .as_ref()
            .is_none_or(|p| !p.errors().is_empty())
        {
            break;
        }
        let edits: Vec<TextEdit> = analysis
            .diagnostics
            .iter()
            .filter(|d| wanted(d))
            .filter_map(|d| d.fix.as_ref())
            .flat_map(|f| f.edits.iter().cloned())
            .collect();
        if edits.is_empty() {
            break;
        }
        let next = syntax::apply_edits(&current, &rules::merge_edits(edits));
        if next == current || !syntax::parse(&next).errors().is_empty() {
            break;
        }
        current = next;
    }
    current
}

/// What stands for an analysis that failed with an internal error: no
/// parse, and one diagnostic saying so.
pub fn internal_error(why: &str) -> Analysis {
    Analysis::new(
        None,
        vec![Diagnostic::new(
            registry::INTERNAL_ERROR,
            TextRange::empty(TextSize::from(0)),
            format!(
                "cim-nix could not analyse this file (internal error: {why}); please report it"
            ),
        )],
        ReparseKind::Full,
    )
}

/// The parse's errors as diagnostics of the `syntax-error` and
/// `analysis-limit` rules, at their default severities.
pub fn syntax_diagnostics(parse: &Parse) -> Vec<Diagnostic> {
    parse
        .errors()
        .iter()
        .map(|e| match e.kind {
            SyntaxErrorKind::Syntax => {
                Diagnostic::new(registry::SYNTAX_ERROR, e.range, e.message.clone())
            }
            SyntaxErrorKind::Limit => {
                Diagnostic::new(registry::ANALYSIS_LIMIT, e.range, e.message.clone())
            }
        })
        .collect()
}

/// Drops findings whose line is preceded by `# cim-nix: allow(rule, ...)`
/// naming their rule.
pub fn suppress(diagnostics: Vec<Diagnostic>, text: &str) -> Vec<Diagnostic> {
    if !text.contains("cim-nix: allow(") {
        return diagnostics;
    }
    diagnostics
        .into_iter()
        .filter(|d| !allowed_by_line_above(text, usize::from(d.range.start()), d.rule))
        .collect()
}

fn allowed_by_line_above(text: &str, offset: usize, rule: &str) -> bool {
    let offset = offset.min(text.len());
    let Some(line_start) = text[..offset].rfind('\n').map(|i| i + 1) else {
        return false;
    };
    let above_start = text[..line_start - 1].rfind('\n').map_or(0, |i| i + 1);
    let above = text[above_start..line_start - 1].trim();
    let Some(rest) = above
        .strip_prefix('#')
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix("cim-nix:"))
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix("allow("))
    else {
        return false;
    };
    let list = rest.split(')').next().unwrap_or("");
    list.split(',').any(|name| name.trim() == rule)
}

/// Applies `diagnostics.enable` and the per-rule levels of `settings`.
pub fn apply_levels(diagnostics: Vec<Diagnostic>, settings: &Settings) -> Vec<Diagnostic> {
    if !settings.diagnostics_enabled {
        return Vec::new();
    }
    diagnostics
        .into_iter()
        .filter_map(|mut d| {
            match settings.rules.get(d.rule) {
                Some(RuleLevel::Off) => return None,
                Some(level) => d.severity = level.severity()?,
                None if !rules::is_on(settings, d.rule) => return None,
                None => {}
            }
            Some(d)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;

    #[test]
    fn rule_levels_override_and_silence() {
        let mut settings = Settings::default();
        let text = "{ a = ; }";
        let a = analyze(text, None, &settings);
        assert_eq!(a.diagnostics.len(), 1);
        assert_eq!(a.diagnostics[0].severity, Severity::Error);
        assert_eq!(a.diagnostics[0].rule, "syntax-error");

        settings
            .rules
            .insert("syntax-error".into(), RuleLevel::Warning);
        assert_eq!(
            analyze(text, None, &settings).diagnostics[0].severity,
            Severity::Warning
        );
        settings.rules.insert("syntax-error".into(), RuleLevel::Off);
        assert!(analyze(text, None, &settings).diagnostics.is_empty());
    }

    #[test]
    fn oversized_file_is_reported_not_parsed() {
        let settings = Settings {
            max_file_size: 10,
            ..Settings::default()
        };
        let a = analyze("{ a = 1; b = 2; }", None, &settings);
        assert!(a.parse.is_none());
        assert_eq!(a.diagnostics[0].rule, "analysis-limit");
    }
}
