//! Formatting: three styles behind one [`Formatter`] trait, the choice of
//! style for a file, and the minimal edits that turn a text into its
//! formatted form.
//!
//! `nixpkgs-fmt` and `alejandra` are linked in and pure. `nixfmt` is the
//! user's installed program, run as a subprocess with a timeout: the one
//! place in the core that does I/O, kept behind the same trait so callers
//! cannot tell the difference.
//!
//! A text with syntax errors is never formatted ([`format_checked`] refuses
//! it): the linked formatters would reformat the broken text into something
//! else, and the user's text must never be lost.

mod alejandra;
pub mod edits;
mod nixfmt;
mod nixpkgs_fmt;
mod style;

use std::sync::Arc;
use std::time::Duration;

pub use self::alejandra::Alejandra;
pub use self::edits::{apply_edits, edits_within, minimal_edits, TextEdit};
pub use self::nixfmt::Nixfmt;
pub use self::nixpkgs_fmt::{format_in_groups, format_reusing, planned_groups, NixpkgsFmt};
pub use self::style::{choose_style, flake_formatter, ProjectHints, StyleChoice};

use crate::syntax::Parse;

/// A formatting style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Style {
    NixpkgsFmt,
    Alejandra,
    Nixfmt,
}

impl Style {
    pub const ALL: [Style; 3] = [Style::NixpkgsFmt, Style::Alejandra, Style::Nixfmt];

    pub fn parse(name: &str) -> Option<Style> {
        Style::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Style::NixpkgsFmt => "nixpkgs-fmt",
            Style::Alejandra => "alejandra",
            Style::Nixfmt => "nixfmt",
        }
    }
}

impl std::fmt::Display for Style {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Default for [`FormatOptions::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a formatter needs beyond the style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatOptions {
    /// The program run for the `nixfmt` style: a name looked up on `PATH`,
    /// or a path.
    pub nixfmt_path: String,
    /// How long `nixfmt` may take before it is killed.
    pub timeout: Duration,
}

impl Default for FormatOptions {
    fn default() -> FormatOptions {
        FormatOptions {
            nixfmt_path: "nixfmt".into(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error(
        "not formatted: the file has {count} syntax error{} (first: {first}); fix {} first",
        if *count == 1 { "" } else { "s" },
        if *count == 1 { "it" } else { "them" }
    )]
    SyntaxErrors { count: usize, first: String },
    #[error("not formatted: {style} cannot read this file ({message}); it may use syntax newer than {style} knows")]
    Unsupported { style: Style, message: String },
    #[error("not formatted: {style} failed on this file ({message}); this is a bug in {style}, please report it with the file")]
    Crashed { style: Style, message: String },
    #[error("not formatted: {style} would take too long on the run of {len} characters at {at} (it measures such a run again at every `.`); break it up, for instance with `let`")]
    TooCostly { style: Style, at: String, len: u32 },
    #[error("not formatted: {style} produced text that is not valid Nix ({message}); the file was left as it was")]
    InvalidOutput { style: Style, message: String },
    #[error("not formatted: `{program}` was not found; install nixfmt or set `cim-nix.formatting.nixfmtPath` (or choose another `cim-nix.formatting.style`)")]
    NixfmtMissing { program: String },
    #[error("not formatted: `{program}` could not be run: {message}; check `cim-nix.formatting.nixfmtPath`")]
    NixfmtUnusable { program: String, message: String },
    #[error("not formatted: `{program}` failed ({status}): {stderr}")]
    NixfmtFailed {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("not formatted: `{program}` did not finish within {} ms and was stopped; raise `cim-nix.formatting.timeoutMs` or check that `{program}` is a formatter", timeout.as_millis())]
    NixfmtTimeout { program: String, timeout: Duration },
}

/// A formatting style, ready to format texts.
pub trait Formatter: Send + Sync {
    fn style(&self) -> Style;
    /// The formatted text. Expects a text without syntax errors (see
    /// [`format_checked`]).
    fn format(&self, text: &str) -> Result<String, FormatError>;
    /// The formatted text, the same as [`Formatter::format`] gives, made
    /// faster where the style can reuse `previous`: an earlier revision of
    /// the same document and its formatted form, by this style.
    fn format_after(
        &self,
        text: &Arc<String>,
        previous: &Formatted,
    ) -> Result<Formatted, FormatError> {
        let _ = previous;
        let output = self.format(text)?;
        Ok(Formatted::new(self.style(), text.clone(), Arc::new(output)))
    }
}

/// A text and its formatted form, kept so that the document's next
/// revision can be formatted faster ([`Formatter::format_after`]).
#[derive(Clone)]
pub struct Formatted {
    pub style: Style,
    pub input: Arc<String>,
    pub output: Arc<String>,
    /// What the style parsed of the two texts, for the next reuse.
    trees: Arc<nixpkgs_fmt::Trees>,
    /// Whether `output` was made by reusing the previous formatting.
    reused: bool,
}

impl Formatted {
    pub fn new(style: Style, input: Arc<String>, output: Arc<String>) -> Formatted {
        Formatted {
            style,
            input,
            output,
            trees: Arc::default(),
            reused: false,
        }
    }

    /// Whether the output was made by reusing the previous revision's
    /// formatting.
    pub fn reused(&self) -> bool {
        self.reused
    }

    /// Whether the trees kept for the next reuse are what parsing the
    /// texts gives. For the tests.
    #[doc(hidden)]
    pub fn trees_are_parses(&self) -> bool {
        self.trees.are_parses(&self.input, &self.output)
    }

    /// Does ahead of time the work a reuse of this formatting starts with
    /// (parsing both texts), so that formatting the next revision, on
    /// save, costs less. For a background thread.
    pub fn prepare(&self) {
        if self.style == Style::NixpkgsFmt {
            self.trees.input(&self.input);
            self.trees.output(&self.output);
        }
    }
}

/// The formatter for `style`.
pub fn formatter(style: Style, options: &FormatOptions) -> Box<dyn Formatter> {
    match style {
        Style::NixpkgsFmt => Box::new(NixpkgsFmt),
        Style::Alejandra => Box::new(Alejandra),
        Style::Nixfmt => Box::new(Nixfmt {
            program: options.nixfmt_path.clone(),
            timeout: options.timeout,
        }),
    }
}

/// Refuses a text whose parse has syntax errors; `first_error` renders the
/// first one for the message (the caller knows where lines are).
pub fn refuse_broken(
    parse: &Parse,
    first_error: impl Fn(usize) -> String,
) -> Result<(), FormatError> {
    match parse.errors().first() {
        None => Ok(()),
        Some(e) => Err(FormatError::SyntaxErrors {
            count: parse.errors().len(),
            first: first_error(usize::from(e.range.start())) + ": " + &e.message,
        }),
    }
}

/// Formats `text` (whose parse is `parse`) with `formatter`: refuses a text
/// with syntax errors, and output that is not valid Nix, so a formatter can
/// never break or lose what the user wrote. `position` renders a byte
/// offset of `text` for messages (`line:col`).
pub fn format_text(
    text: &str,
    parse: &Parse,
    formatter: &dyn Formatter,
    position: impl Fn(usize) -> String,
) -> Result<String, FormatError> {
    refuse_broken(parse, &position)?;
    refuse_costly(text, formatter.style(), &position)?;
    let output = with_formatter_stack(depth_of(parse), || formatter.format(text))?;
    check_output(text, &output, formatter)?;
    Ok(output)
}

/// [`format_text`], reusing `previous` (an earlier revision of the same
/// document formatted in the same style) where the style can; the result
/// can be the next revision's `previous`.
pub fn format_text_after(
    text: &Arc<String>,
    parse: &Parse,
    formatter: &dyn Formatter,
    previous: Option<&Formatted>,
    position: impl Fn(usize) -> String,
) -> Result<Formatted, FormatError> {
    refuse_broken(parse, &position)?;
    refuse_costly(text, formatter.style(), &position)?;
    let previous = previous.filter(|p| p.style == formatter.style());
    let formatted = with_formatter_stack(depth_of(parse), || match previous {
        Some(previous) => formatter.format_after(text, previous),
        None => formatter
            .format(text)
            .map(|output| Formatted::new(formatter.style(), text.clone(), Arc::new(output))),
    })?;
    check_output(text, &formatted.output, formatter)?;
    Ok(formatted)
}

/// Refuses text that the linked-in formatters' tokenizer would take too
/// long on (see `syntax::guard::check_path_runs`); nixfmt is the user's
/// program, run with a timeout.
fn refuse_costly(
    text: &str,
    style: Style,
    position: impl Fn(usize) -> String,
) -> Result<(), FormatError> {
    if style == Style::Nixfmt {
        return Ok(());
    }
    crate::syntax::guard::check_path_runs(text).map_err(|costly| FormatError::TooCostly {
        style,
        at: position(usize::from(costly.offset)),
        len: u32::from(costly.len),
    })
}

/// Refuses formatted text that is not valid Nix.
fn check_output(text: &str, output: &str, formatter: &dyn Formatter) -> Result<(), FormatError> {
    if output != text {
        let reparsed = crate::syntax::parse(output);
        if let Some(e) = reparsed.errors().first() {
            return Err(FormatError::InvalidOutput {
                style: formatter.style(),
                message: e.message.clone(),
            });
        }
    }
    Ok(())
}

fn depth_of(parse: &Parse) -> u32 {
    parse.green().map_or(1, |g| {
        crate::syntax::guard::tree_depth(g, crate::syntax::MAX_TREE_DEPTH)
    })
}

/// Runs `f` (a formatter) with stack for its recursion over a tree `depth`
/// levels deep (the parse guard bounds it). The formatters recurse per
/// level; the allowance per level is generous. A shallow file, the usual
/// case, runs on the caller's stack: growing it maps and unmaps a segment,
/// which costs more than formatting a small file.
fn with_formatter_stack<R>(depth: u32, f: impl FnOnce() -> R) -> R {
    const PER_LEVEL: usize = 32 * 1024;
    let red_zone = (1 << 20) + depth as usize * PER_LEVEL;
    stacker::maybe_grow(red_zone, (2 * red_zone).max(64 << 20), f)
}

/// Runs `f` with a panic turned into [`FormatError::Crashed`].
fn contained<R>(style: Style, f: impl FnOnce() -> R) -> Result<R, FormatError> {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    outcome.map_err(|panic| FormatError::Crashed {
        style,
        message: panic_text(&*panic),
    })
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".into()
    }
}
