//! `cim-nix check --format sarif`: SARIF 2.1.0, what code-scanning tools
//! (GitHub code scanning, GitLab, Azure DevOps, SonarQube) read. One run,
//! with every rule's metadata (summary, default level, category, tags and
//! the link to its page) and each finding's location, related locations
//! and fixes.

use std::io::Write;

use rowan::TextRange;
use serde_json::{json, Value};

use super::{human_position, FileReport};
use crate::diagnostic::registry::{Rule, Tag, RULES};
use crate::diagnostic::{docs, Severity};

/// SARIF's levels: `info` and `hint` are both `note`.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Hint => "note",
    }
}

/// A path as a relative URI reference (forward slashes, spaces and the
/// other reserved characters percent-encoded).
fn uri(path: &std::path::Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let text = text.strip_prefix("./").unwrap_or(&text);
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn rule_descriptor(rule: &Rule) -> Value {
    let tags: Vec<&str> = std::iter::once(rule.category)
        .chain(rule.tags.iter().map(|t| match t {
            Tag::Unnecessary => "unnecessary",
            Tag::Deprecated => "deprecated",
        }))
        .collect();
    let mut descriptor = json!({
        "id": rule.name,
        "name": rule.name,
        "shortDescription": { "text": rule.summary },
        "helpUri": docs::page_url(rule.name),
        "defaultConfiguration": { "level": level(rule.severity) },
        "properties": { "category": rule.category, "tags": tags },
    });
    if let Some(page) = docs::page(rule.name) {
        descriptor["help"] = json!({ "text": page, "markdown": page });
    }
    descriptor
}

/// A region in 1-based lines and columns of Unicode characters (the
/// run's `columnKind`), from the start to the end of `range`.
fn region(report: &FileReport, range: TextRange) -> Value {
    let (start_line, start_column) = human_position(&report.line_index, range.start());
    let (end_line, end_column) = human_position(&report.line_index, range.end());
    json!({
        "startLine": start_line,
        "startColumn": start_column,
        "endLine": end_line,
        "endColumn": end_column,
    })
}

fn location(report: &FileReport, range: TextRange, message: Option<&str>) -> Value {
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(&report.path), "uriBaseId": "%SRCROOT%" },
            "region": region(report, range),
        }
    });
    if let Some(text) = message {
        location["message"] = json!({ "text": text });
    }
    location
}

/// The SARIF log of `reports`.
pub fn log(reports: &[FileReport]) -> Value {
    let rules: Vec<Value> = RULES.iter().map(rule_descriptor).collect();
    let mut results = Vec::new();
    for report in reports {
        for d in &report.diagnostics {
            let mut result = json!({
                "ruleId": d.rule,
                "level": level(d.severity),
                "message": { "text": d.message },
                "locations": [location(report, d.range, None)],
            });
            if let Some(index) = RULES.iter().position(|r| r.name == d.rule) {
                result["ruleIndex"] = json!(index);
            }
            if !d.related.is_empty() {
                let related: Vec<Value> = d
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let mut l = location(report, r.range, Some(&r.message));
                        l["id"] = json!(i);
                        l
                    })
                    .collect();
                result["relatedLocations"] = json!(related);
            }
            if let Some(fix) = &d.fix {
                let replacements: Vec<Value> = fix
                    .edits
                    .iter()
                    .map(|e| {
                        json!({
                            "deletedRegion": region(report, e.range),
                            "insertedContent": { "text": e.insert },
                        })
                    })
                    .collect();
                result["fixes"] = json!([{
                    "description": { "text": fix.title },
                    "artifactChanges": [{
                        "artifactLocation": { "uri": uri(&report.path), "uriBaseId": "%SRCROOT%" },
                        "replacements": replacements,
                    }],
                }]);
            }
            results.push(result);
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "cim-nix",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": docs::REPOSITORY,
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

pub fn print(out: &mut impl Write, reports: &[FileReport]) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &log(reports))?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_relative_uri_references() {
        assert_eq!(
            uri(std::path::Path::new("./hosts/web.nix")),
            "hosts/web.nix"
        );
        assert_eq!(
            uri(std::path::Path::new("my file#1.nix")),
            "my%20file%231.nix"
        );
    }
}
