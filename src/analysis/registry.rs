//! Every rule cim-nix knows: stable name, category, default severity and a
//! one-line summary. Names never change once released; settings, suppression
//! comments and `cim-nix explain` refer to them.

use super::Severity;

pub const SYNTAX_ERROR: &str = "syntax-error";
pub const ANALYSIS_LIMIT: &str = "analysis-limit";
pub const INTERNAL_ERROR: &str = "internal-error";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub name: &'static str,
    pub category: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
}

pub static RULES: &[Rule] = &[
    Rule {
        name: SYNTAX_ERROR,
        category: "correctness",
        severity: Severity::Error,
        summary: "the file is not valid Nix",
    },
    Rule {
        name: ANALYSIS_LIMIT,
        category: "correctness",
        severity: Severity::Warning,
        summary: "the file is too big or nested too deeply for cim-nix to analyse",
    },
    Rule {
        name: INTERNAL_ERROR,
        category: "correctness",
        severity: Severity::Error,
        summary: "cim-nix itself failed while analysing the file (a bug to report)",
    },
];

pub fn find(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.name == name)
}
