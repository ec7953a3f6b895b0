//! `cim-nix fmt`: format files in place, or standard input to standard
//! output; `--check` lists what would change, for CI.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::project::{directory_of, in_parallel, write_replacing, ProjectSettings};
use crate::format::{self, choose_style, FormatError, Style};
use crate::syntax::{self, LineIndex, PositionEncoding};
use crate::workspace::{format_hints, nix_files};

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Files and directories to format (directories: every `.nix` file not
    /// ignored by .gitignore); `-` formats standard input to standard output.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// The style; default: `formatting.style` from cim-nix.toml, else what
    /// the project uses (.alejandra.toml, flake.nix `formatter`), else
    /// nixpkgs-fmt.
    #[arg(long, value_enum)]
    pub style: Option<StyleArg>,
    /// Change nothing; list the files that are not formatted and exit with
    /// status 1 if there are any.
    #[arg(long)]
    pub check: bool,
    /// The name to find settings and project hints by for standard input.
    #[arg(long, default_value = "<stdin>")]
    pub stdin_filename: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StyleArg {
    NixpkgsFmt,
    Alejandra,
    Nixfmt,
}

impl From<StyleArg> for Style {
    fn from(s: StyleArg) -> Style {
        match s {
            StyleArg::NixpkgsFmt => Style::NixpkgsFmt,
            StyleArg::Alejandra => Style::Alejandra,
            StyleArg::Nixfmt => Style::Nixfmt,
        }
    }
}

enum Outcome {
    Unchanged,
    Changed,
    Failed(String),
}

pub fn run(args: &FmtArgs) -> i32 {
    let settings = ProjectSettings::default();
    let stdin_only = args.paths.iter().all(|p| p.as_os_str() == "-");
    if args.paths.iter().any(|p| p.as_os_str() == "-") {
        if !stdin_only {
            eprintln!("cim-nix: `-` (standard input) cannot be combined with paths");
            return 2;
        }
        return format_stdin(args, &settings);
    }
    let mut files = Vec::new();
    for path in &args.paths {
        match nix_files(path) {
            Ok(found) => files.extend(found),
            Err(e) => {
                eprintln!("cim-nix: cannot format {e}");
                return 2;
            }
        }
    }
    let outcomes = in_parallel(&files, |path| format_file(path, args, &settings));
    for warning in settings.warnings.into_inner().unwrap_or_default() {
        eprintln!("cim-nix: {warning}");
    }
    let (mut changed, mut failed) = (0, 0);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (path, outcome) in files.iter().zip(&outcomes) {
        match outcome {
            Outcome::Unchanged => {}
            Outcome::Changed => {
                changed += 1;
                if args.check {
                    let _ = writeln!(out, "{}", path.display());
                }
            }
            Outcome::Failed(why) => {
                failed += 1;
                eprintln!("{}: {why}", path.display());
            }
        }
    }
    let verb = if args.check {
        "would be reformatted"
    } else {
        "reformatted"
    };
    eprintln!(
        "{} file{}: {changed} {verb}, {} already formatted{}",
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        files.len() - changed - failed,
        if failed > 0 {
            format!(", {failed} not formatted")
        } else {
            String::new()
        }
    );
    i32::from(failed > 0 || (args.check && changed > 0))
}

fn format_stdin(args: &FmtArgs, settings: &ProjectSettings) -> i32 {
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
        eprintln!("cim-nix: cannot read standard input: {e}");
        return 2;
    }
    let Ok(text) = String::from_utf8(bytes) else {
        eprintln!("cim-nix: standard input is not valid UTF-8; Nix files must be UTF-8");
        return 1;
    };
    match format_one(&text, &args.stdin_filename, args, settings) {
        Ok(formatted) => {
            if args.check {
                if formatted != text {
                    println!("{}", args.stdin_filename.display());
                    return 1;
                }
                return 0;
            }
            let mut out = std::io::stdout().lock();
            if out
                .write_all(formatted.as_bytes())
                .and_then(|()| out.flush())
                .is_err()
            {
                return 2;
            }
            0
        }
        Err(why) => {
            // The input goes back unchanged, so `cim-nix fmt -` used as a
            // filter never loses text.
            eprintln!("{}: {why}", args.stdin_filename.display());
            if !args.check {
                let _ = std::io::stdout().lock().write_all(text.as_bytes());
            }
            1
        }
    }
}

fn format_file(path: &Path, args: &FmtArgs, settings: &ProjectSettings) -> Outcome {
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => return Outcome::Failed("not valid UTF-8; Nix files must be UTF-8".into()),
        },
        Err(e) => return Outcome::Failed(format!("cannot read it: {e}")),
    };
    let formatted = match format_one(&text, path, args, settings) {
        Ok(formatted) => formatted,
        Err(why) => return Outcome::Failed(why),
    };
    if formatted == text {
        return Outcome::Unchanged;
    }
    if !args.check {
        if let Err(e) = write_replacing(path, &formatted) {
            return Outcome::Failed(format!("cannot write it: {e}"));
        }
    }
    Outcome::Changed
}

fn format_one(
    text: &str,
    path: &Path,
    args: &FmtArgs,
    settings: &ProjectSettings,
) -> Result<String, String> {
    let file_settings = settings.for_file(path);
    let style = match args.style {
        Some(style) => style.into(),
        None => {
            choose_style(
                file_settings.formatting_style,
                &format_hints(&directory_of(path)),
            )
            .style
        }
    };
    let formatter = format::formatter(style, &file_settings.format_options);
    let parse = syntax::parse(text);
    let index = LineIndex::new(text);
    let position = |offset: usize| {
        let pos = index.line_col((offset as u32).into(), PositionEncoding::Utf32);
        format!("{}:{}", pos.line + 1, pos.col + 1)
    };
    format::format_text(text, &parse, formatter.as_ref(), position)
        .map_err(|e: FormatError| e.to_string())
}
