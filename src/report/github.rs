//! `cim-nix check --format github`: GitHub Actions workflow commands
//! (`::warning file=...,line=...::message`), which the runner turns into
//! annotations on the pull request's lines.

use std::io::Write;

use super::{human_position, FileReport};
use crate::diagnostic::Severity;

/// The annotation kinds: `info` and `hint` are both `notice`.
fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Hint => "notice",
    }
}

/// A message as the runner reads it: `%`, CR and LF escaped.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property's value: also `:` and `,`, which end it.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

pub fn print(out: &mut impl Write, reports: &[FileReport]) -> std::io::Result<()> {
    for report in reports {
        let file = report.path.to_string_lossy();
        let file = file.strip_prefix("./").unwrap_or(&file);
        for d in &report.diagnostics {
            let (line, col) = human_position(&report.line_index, d.range.start());
            let (end_line, end_col) = human_position(&report.line_index, d.range.end());
            writeln!(
                out,
                "::{} file={},line={line},col={col},endLine={end_line},endColumn={end_col},title={}::{}",
                command(d.severity),
                escape_property(file),
                escape_property(&format!("cim-nix {}", d.rule)),
                escape_data(&d.message),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_as_the_runner_reads_them() {
        assert_eq!(escape_data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
