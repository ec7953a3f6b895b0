//! Pure analysis of one Nix file: diagnostics from the syntax tree.
//!
//! **Invariant:** no I/O, no LSP or NATS types; ranges are byte offsets.
//! The server and the CLI translate [`Diagnostic`]s for their audiences.

pub mod docs;
pub mod registry;
pub mod rules;
pub mod semantic;

use rowan::{TextRange, TextSize};

use crate::config::{RuleLevel, Settings};
use crate::syntax::{self, Parse, ReparseKind, SyntaxErrorKind, TextEdit};
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
    /// Other places that explain it (the first definition of a duplicate).
    pub related: Vec<Related>,
    /// A safe fix, when there is one.
    pub fix: Option<Fix>,
}

impl Diagnostic {
    /// A finding of `rule` at its default severity, with no fix.
    pub fn new(rule: &'static str, range: TextRange, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            range,
            severity: registry::find(rule).map_or(Severity::Warning, |r| r.severity),
            rule,
            message: message.into(),
            related: Vec::new(),
            fix: None,
        }
    }

    pub fn with_fix(mut self, fix: Fix) -> Diagnostic {
        self.fix = Some(fix);
        self
    }

    pub fn with_related(mut self, range: TextRange, message: impl Into<String>) -> Diagnostic {
        self.related.push(Related {
            range,
            message: message.into(),
        });
        self
    }

    pub fn tags(&self) -> &'static [registry::Tag] {
        registry::find(self.rule).map_or(&[], |r| r.tags)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Related {
    pub range: TextRange,
    pub message: String,
}

/// Edits that resolve a finding, with a title for the editor's menu.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<TextEdit>,
    /// The obvious fix: editors may apply it with one key.
    pub preferred: bool,
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
    analyze_after(text, previous.as_slice(), settings)
}

/// [`analyze`] with several earlier texts and parses of the file, newest
/// first (see [`syntax::reparse_from`]).
pub fn analyze_after(text: &str, earlier: &[(&str, &Parse)], settings: &Settings) -> Analysis {
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
        return Analysis {
            parse: None,
            diagnostics: apply_levels(vec![diagnostic], settings),
            reparse: ReparseKind::Full,
        };
    }
    let (parse, reparse) = syntax::reparse_from(earlier, text);
    let mut diagnostics = syntax_diagnostics(&parse);
    if settings.diagnostics_enabled {
        if let Some(green) = parse.green() {
            let complete = parse.errors().is_empty();
            diagnostics.extend(rules::analyze_tree(green, text, complete, settings));
        }
    }
    let diagnostics = apply_levels(suppress(diagnostics, text), settings);
    Analysis {
        parse: Some(parse),
        diagnostics,
        reparse,
    }
}

/// The findings about a flake.nix (`text`, parsed as `parse`) and its
/// flake.lock (`lock`: absent, or its text), after suppressions and the
/// settings' levels. Nothing when the file has syntax errors or is not a
/// set at its top.
pub fn flake_findings(
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
    apply_levels(suppress(findings, text), settings)
}

/// Adds [`flake_findings`] to `analysis` (the analysis of the flake.nix
/// `text`), keeping the diagnostics in position order.
pub fn add_flake_findings(
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
    Analysis {
        parse: None,
        diagnostics: vec![Diagnostic::new(
            registry::INTERNAL_ERROR,
            TextRange::empty(TextSize::from(0)),
            format!(
                "cim-nix could not analyse this file (internal error: {why}); please report it"
            ),
        )],
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
