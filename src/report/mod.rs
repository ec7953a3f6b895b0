//! Findings as people and programs read them: `path:line:col:
//! severity[rule]: message` lines, the stable JSON document of
//! `cim-nix check --format json` (doc/cli.md), which `cim-nix service`
//! answers with too, SARIF for code scanning (`sarif.rs`) and GitHub
//! Actions annotations (`github.rs`). Pure: it writes to what it is given.

pub mod github;
pub mod sarif;

use std::io::Write;
use std::path::PathBuf;

use rowan::TextSize;
use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::syntax::{LineIndex, PositionEncoding};

/// One file's findings, ready to print.
pub struct FileReport {
    pub path: PathBuf,
    pub line_index: LineIndex,
    pub text: String,
    pub diagnostics: Vec<Diagnostic>,
}

/// A 1-based line and column (in Unicode characters), as compilers print.
pub fn human_position(index: &LineIndex, offset: TextSize) -> (u32, u32) {
    let pos = index.line_col(offset, PositionEncoding::Utf32);
    (pos.line + 1, pos.col + 1)
}

pub fn print_text(out: &mut impl Write, reports: &[FileReport]) -> std::io::Result<()> {
    for report in reports {
        for d in &report.diagnostics {
            let (line, col) = human_position(&report.line_index, d.range.start());
            writeln!(
                out,
                "{}:{line}:{col}: {}[{}]: {}",
                report.path.display(),
                d.severity.as_str(),
                d.rule,
                d.message
            )?;
        }
    }
    Ok(())
}

/// The `--format json` document; its shape is documented in doc/cli.md and
/// only ever grows.
#[derive(Serialize)]
struct JsonOutput<'a> {
    version: u32,
    files: usize,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    path: String,
    rule: &'a str,
    severity: &'a str,
    message: &'a str,
    range: JsonRange,
    /// The text the range covers, at most 200 bytes.
    snippet: &'a str,
}

#[derive(Serialize)]
struct JsonRange {
    start: JsonPosition,
    end: JsonPosition,
}

#[derive(Serialize)]
struct JsonPosition {
    line: u32,
    column: u32,
    offset: u32,
}

#[derive(Serialize)]
struct JsonSummary {
    errors: usize,
    warnings: usize,
    infos: usize,
    hints: usize,
}

pub fn print_json(
    out: &mut impl Write,
    reports: &[FileReport],
    files: usize,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &json_output(reports, files))?;
    writeln!(out)
}

/// The findings of one text in the shape of `check --format json` (for
/// `cim-nix service`).
pub fn findings_json(path: &str, text: &str, diagnostics: Vec<Diagnostic>) -> serde_json::Value {
    let report = FileReport {
        path: PathBuf::from(path),
        line_index: LineIndex::new(text),
        text: text.to_string(),
        diagnostics,
    };
    serde_json::to_value(json_output(std::slice::from_ref(&report), 1))
        .unwrap_or(serde_json::Value::Null)
}

fn json_output(reports: &[FileReport], files: usize) -> JsonOutput<'_> {
    let position = |index: &LineIndex, offset: TextSize| {
        let (line, column) = human_position(index, offset);
        JsonPosition {
            line,
            column,
            offset: offset.into(),
        }
    };
    let mut diagnostics = Vec::new();
    for report in reports {
        for d in &report.diagnostics {
            let mut end = usize::from(d.range.end()).min(usize::from(d.range.start()) + 200);
            while !report.text.is_char_boundary(end) {
                end -= 1;
            }
            diagnostics.push(JsonDiagnostic {
                path: report.path.display().to_string(),
                rule: d.rule,
                severity: d.severity.as_str(),
                message: &d.message,
                range: JsonRange {
                    start: position(&report.line_index, d.range.start()),
                    end: position(&report.line_index, d.range.end()),
                },
                snippet: &report.text[usize::from(d.range.start())..end],
            });
        }
    }
    let counts = count(reports);
    JsonOutput {
        version: 1,
        files,
        diagnostics,
        summary: JsonSummary {
            errors: counts[0],
            warnings: counts[1],
            infos: counts[2],
            hints: counts[3],
        },
    }
}

/// Findings per severity: errors, warnings, infos, hints.
pub fn count(reports: &[FileReport]) -> [usize; 4] {
    let mut counts = [0; 4];
    for d in reports.iter().flat_map(|r| &r.diagnostics) {
        counts[d.severity as usize] += 1;
    }
    counts
}
