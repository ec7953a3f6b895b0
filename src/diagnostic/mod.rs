//! What every part of cim-nix reports: findings ([`Diagnostic`]) with
//! their fixes, and the registry of the rules that make them. A leaf that
//! every module may use: it knows byte ranges and text edits, nothing of
//! how findings are made or shown.

pub mod docs;
pub mod registry;

use rowan::{TextRange, TextSize};

use crate::syntax::TextEdit;
pub use registry::{Rule, Tag, RULES};

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

    /// The finding as it is when the text it lies in moved from `from` to
    /// `to`: every range (its own, related places, fix edits) moved along.
    /// The incremental analysis uses it for findings kept from before.
    pub fn moved(&self, from: TextSize, to: TextSize) -> Diagnostic {
        let at = |range: TextRange| range - from + to;
        let mut moved = self.clone();
        moved.range = at(moved.range);
        for related in &mut moved.related {
            related.range = at(related.range);
        }
        if let Some(fix) = &mut moved.fix {
            for edit in &mut fix.edits {
                edit.range = at(edit.range);
            }
        }
        moved
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
