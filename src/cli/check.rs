//! `cim-nix check`: diagnostics for files and trees, for people and for CI.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::project::{in_parallel, write_replacing, ProjectSettings};
use crate::diagnostic::Severity;
use crate::ide::{self, FileContext};
use crate::report::{count, print_json, print_text, FileReport};
use crate::syntax::LineIndex;
use crate::workspace::nix_files;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files and directories to check (directories: every `.nix` file not
    /// ignored by .gitignore); `-` reads standard input.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit with status 1 when a finding is at least this severe.
    #[arg(long, value_enum, default_value_t = Deny::Error)]
    pub deny: Deny,
    /// The name to report (and to find settings by) for standard input.
    #[arg(long, default_value = "<stdin>")]
    pub stdin_filename: PathBuf,
    /// Apply the safe fixes (the preferred ones) to the files, then report
    /// what is left.
    #[arg(long)]
    pub fix: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `path:line:col: severity[rule]: message` lines.
    Text,
    /// The stable JSON document described in doc/cli.md.
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub, GitLab, Azure DevOps).
    Sarif,
    /// GitHub Actions annotations (`::warning file=...::message`).
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    Error,
    Warning,
    Info,
    Hint,
}

impl Deny {
    fn denies(self, severity: Severity) -> bool {
        let limit = match self {
            Deny::Error => Severity::Error,
            Deny::Warning => Severity::Warning,
            Deny::Info => Severity::Info,
            Deny::Hint => Severity::Hint,
        };
        severity <= limit
    }
}

/// Where `check` reads a file from.
enum Source {
    File(PathBuf),
    Stdin(PathBuf),
}

/// Runs the check and returns the process exit code.
pub fn run(args: &CheckArgs) -> i32 {
    let mut sources = Vec::new();
    let mut usage_error = false;
    for path in &args.paths {
        if path.as_os_str() == "-" {
            if args.fix {
                eprintln!(
                    "cim-nix: --fix changes files; it cannot be used with `-` (standard input)"
                );
                return 2;
            }
            sources.push(Source::Stdin(args.stdin_filename.clone()));
            continue;
        }
        match nix_files(path) {
            Ok(files) => sources.extend(files.into_iter().map(Source::File)),
            Err(e) => {
                eprintln!("cim-nix: cannot check {e}");
                usage_error = true;
            }
        }
    }
    if usage_error {
        return 2;
    }
    let settings = ProjectSettings::default();
    let (reports, io_errors) = check_all(&sources, &settings, args.fix);
    for warning in settings.warnings.into_inner().unwrap_or_default() {
        eprintln!("cim-nix: {warning}");
    }
    for e in &io_errors {
        eprintln!("cim-nix: {e}");
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match args.format {
        Format::Text => print_text(&mut out, &reports),
        Format::Json => print_json(&mut out, &reports, sources.len()),
        Format::Sarif => crate::report::sarif::print(&mut out, &reports),
        Format::Github => crate::report::github::print(&mut out, &reports),
    };
    if written.and_then(|()| out.flush()).is_err() {
        return 2;
    }
    let counts = count(&reports);
    if args.format == Format::Text {
        eprintln!(
            "checked {} file{}: {} error{}, {} warning{}",
            sources.len(),
            plural(sources.len()),
            counts[0],
            plural(counts[0]),
            counts[1],
            plural(counts[1]),
        );
    }
    if !io_errors.is_empty() {
        return 2;
    }
    let denied = reports
        .iter()
        .flat_map(|r| &r.diagnostics)
        .any(|d| args.deny.denies(d.severity));
    i32::from(denied)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// What checking one file gave: its report, and the files it names as
/// Home Manager modules (a flake's `homeManagerConfiguration`, a NixOS
/// module's `home-manager.users.<n>`, and what those modules import).
struct Checked {
    report: FileReport,
    names: Vec<PathBuf>,
}

/// Analyses every source on all cores; reports come back in input order.
/// Each file is read once. The files the checked files name as Home
/// Manager modules are checked as such: what the project says a file is,
/// instead of a guess from its text. Those few are checked a second time,
/// once every file has said what it names.
fn check_all(
    sources: &[Source],
    settings: &ProjectSettings,
    fix: bool,
) -> (Vec<FileReport>, Vec<String>) {
    let none = HashSet::new();
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    let mut named = HashSet::new();
    for result in in_parallel(sources, |source| check_one(source, settings, fix, &none)) {
        match result {
            Ok(checked) => {
                named.extend(checked.names);
                reports.push(Some(checked.report));
            }
            Err(e) => {
                errors.push(e);
                reports.push(None);
            }
        }
    }
    // A named file's imports are named too, and theirs.
    let mut todo: Vec<PathBuf> = named.iter().cloned().collect();
    while let Some(path) = todo.pop() {
        for imported in imports_of(&path) {
            if named.insert(imported.clone()) {
                todo.push(imported);
            }
        }
    }
    if !named.is_empty() {
        let again: Vec<usize> = (0..sources.len())
            .filter(|&i| match &sources[i] {
                Source::File(path) => std::fs::canonicalize(path).is_ok_and(|p| named.contains(&p)),
                Source::Stdin(_) => false,
            })
            .filter(|&i| reports[i].is_some())
            .collect();
        // Fixes were written in the first pass; the second only reports.
        let rechecked = in_parallel(&again, |&i| check_one(&sources[i], settings, false, &named));
        for (i, result) in again.into_iter().zip(rechecked) {
            match result {
                Ok(checked) => reports[i] = Some(checked.report),
                Err(e) => errors.push(e),
            }
        }
    }
    (reports.into_iter().flatten().collect(), errors)
}

/// The files a module imports; none when it cannot be read.
fn imports_of(path: &std::path::Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    if !text.contains("imports") {
        return Vec::new();
    }
    let doc = ide::Doc::new(
        Some(path.to_path_buf()),
        std::sync::Arc::new(ide::SourceFile::parse(text)),
    );
    ide::module_imports(&doc, &ide::NoWorld)
}

fn check_one(
    source: &Source,
    settings: &ProjectSettings,
    fix: bool,
    home_modules: &HashSet<PathBuf>,
) -> Result<Checked, String> {
    let (path, bytes) = match source {
        Source::File(path) => {
            let bytes =
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            (path.clone(), bytes)
        }
        Source::Stdin(name) => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            (name.clone(), bytes)
        }
    };
    let settings = settings.for_file(&path);
    let mut names = Vec::new();
    let (text, diagnostics) = match String::from_utf8(bytes) {
        Ok(mut text) => {
            if fix {
                let fixed = ide::fix_all(&text, &settings, &|d| {
                    d.fix.as_ref().is_some_and(|f| f.preferred)
                });
                if fixed != text {
                    write_replacing(&path, &fixed).map_err(|e| {
                        format!("cannot write the fixes to {}: {e}", path.display())
                    })?;
                    text = fixed;
                }
            }
            let is_flake = path.file_name().is_some_and(|n| n == "flake.nix");
            let lock = is_flake
                .then(|| std::fs::read_to_string(path.with_file_name("flake.lock")).ok())
                .flatten();
            let context = FileContext {
                is_flake,
                flake_lock: lock.as_deref(),
                named_as_home_module: !home_modules.is_empty()
                    && std::fs::canonicalize(&path).is_ok_and(|p| home_modules.contains(&p)),
                previous: None,
                once: true,
            };
            let mut analysis = ide::analyze(&text, &[], &settings, context);
            let diagnostics = std::mem::take(&mut analysis.diagnostics);
            if matches!(source, Source::File(_)) && ide::may_name_home_modules(&text) {
                // Read from the same parse (the few files that name
                // modules are small: their text is copied); paths resolve
                // from where the file really is.
                let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                let file = ide::SourceFile::from_analysis(text.clone(), analysis);
                let doc = ide::Doc::new(Some(real), std::sync::Arc::new(file));
                names = ide::home_module_links(&doc, &ide::NoWorld);
            }
            (text, diagnostics)
        }
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let diagnostics = ide::not_utf8(&text, at, &settings);
            (text, diagnostics)
        }
    };
    // Positions and snippets are needed only for findings; a clean file's
    // text is not kept until printing.
    let text = if diagnostics.is_empty() {
        String::new()
    } else {
        text
    };
    let report = FileReport {
        line_index: LineIndex::new(&text),
        path,
        text,
        diagnostics,
    };
    Ok(Checked { report, names })
}
