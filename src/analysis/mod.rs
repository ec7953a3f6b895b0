//! Pure analysis of one Nix file: diagnostics from the syntax tree.
//!
//! **Invariant:** no I/O, no LSP or NATS types; ranges are byte offsets.
//! The server and the CLI translate [`Diagnostic`]s for their audiences.

pub mod registry;

use rowan::{TextRange, TextSize};

use crate::config::{RuleLevel, Settings};
use crate::syntax::{self, Parse, ReparseKind, SyntaxErrorKind};
pub use registry::{Rule, RULES};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Info,
    Hint,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
            Severity::Hint => "hint",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub range: TextRange,
    pub severity: Severity,
    /// The stable name of the rule that found it.
    pub rule: &'static str,
    pub message: String,
}

/// A file's parse (absent when the file was too big to parse) and its
/// diagnostics, after the settings' rule levels.
#[derive(Clone)]
pub struct Analysis {
    pub parse: Option<Parse>,
    pub diagnostics: Vec<Diagnostic>,
    /// How the parse was obtained (for logs and benchmarks).
    pub reparse: ReparseKind,
}

/// Analyses `text`. `previous` is an earlier text of the same file and its
/// parse, which lets the parser reuse what did not change.
pub fn analyze(text: &str, previous: Option<(&str, &Parse)>, settings: &Settings) -> Analysis {
    let limit = settings.max_file_size;
    if text.len() as u64 > limit {
        let diagnostic = Diagnostic {
            range: TextRange::empty(TextSize::from(0)),
            severity: Severity::Warning,
            rule: registry::ANALYSIS_LIMIT,
            message: format!(
                "file is {} bytes; cim-nix analyses files up to {} bytes (setting `maxFileSize`)",
                text.len(),
                limit
            ),
        };
        return Analysis {
            parse: None,
            diagnostics: apply_levels(vec![diagnostic], settings),
            reparse: ReparseKind::Full,
        };
    }
    let (parse, reparse) = match previous {
        Some((old_text, old_parse)) => syntax::reparse_with_kind(old_parse, old_text, text),
        None => (syntax::parse(text), ReparseKind::Full),
    };
    let diagnostics = apply_levels(syntax_diagnostics(&parse), settings);
    Analysis {
        parse: Some(parse),
        diagnostics,
        reparse,
    }
}

/// What stands for an analysis that failed with an internal error: no
/// parse, and one diagnostic saying so.
pub fn internal_error(why: &str) -> Analysis {
    Analysis {
        parse: None,
        diagnostics: vec![Diagnostic {
            range: TextRange::empty(TextSize::from(0)),
            severity: Severity::Error,
            rule: registry::INTERNAL_ERROR,
            message: format!(
                "cim-nix could not analyse this file (internal error: {why}); please report it"
            ),
        }],
        reparse: ReparseKind::Full,
    }
}

/// The parse's errors as diagnostics of the `syntax-error` and
/// `analysis-limit` rules, at their default severities.
pub fn syntax_diagnostics(parse: &Parse) -> Vec<Diagnostic> {
    parse
        .errors()
        .iter()
        .map(|e| match e.kind {
            SyntaxErrorKind::Syntax => Diagnostic {
                range: e.range,
                severity: Severity::Error,
                rule: registry::SYNTAX_ERROR,
                message: e.message.clone(),
            },
            SyntaxErrorKind::TooDeep => Diagnostic {
                range: e.range,
                severity: Severity::Warning,
                rule: registry::ANALYSIS_LIMIT,
                message: e.message.clone(),
            },
        })
        .collect()
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
                None => {}
            }
            Some(d)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
