//! The command line: argument parsing and the subcommands other than `lsp`.

pub mod check;
pub mod fmt;
pub mod migrate;
mod project;
pub mod service;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "cim-nix",
    version,
    about = "A language server and checker for Nix",
    long_about = "A language server and checker for Nix.\n\nWith no subcommand, serves the \
                  Language Server Protocol on stdin/stdout (as `cim-nix lsp`)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the Language Server Protocol on stdin/stdout.
    Lsp,
    /// Report problems in Nix files.
    Check(check::CheckArgs),
    /// Format Nix files (nixpkgs-fmt, alejandra or nixfmt).
    Fmt(fmt::FmtArgs),
    /// Turn dotfiles (~/.gitconfig, ~/.ssh/config, ...) into typed Home
    /// Manager options: print them, or add them to a file with --into.
    Migrate(migrate::MigrateArgs),
    /// Serve analysis, formatting and flake edits to NATS clients.
    Service(service::ServiceArgs),
    /// List every rule: name, category, default severity, summary.
    Rules,
    /// Show the documentation of a rule.
    Explain {
        /// The rule's name, as `cim-nix rules` lists it.
        rule: String,
    },
    /// Print every setting as JSON (VS Code configuration properties), for
    /// editors' setting pages.
    SettingsSchema,
    /// Print a completion script for a shell (`cim-nix completions bash >
    /// /etc/bash_completion.d/cim-nix`).
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
}

/// `cim-nix completions SHELL`.
pub fn completions(shell: clap_complete::Shell) -> i32 {
    use clap::CommandFactory;
    let mut command = Cli::command();
    // Into a buffer first: clap_complete panics when stdout closes early.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "cim-nix", &mut script);
    print_all(&script, "the completion script")
}

/// `cim-nix settings-schema`.
pub fn settings_schema() -> i32 {
    let properties = serde_json::Value::Object(crate::config::schema::vscode_properties());
    let mut text = serde_json::to_string_pretty(&properties).unwrap_or_default();
    text.push('\n');
    print_all(text.as_bytes(), "the settings")
}

/// Writes `bytes` to stdout; a reader that stops early is not an error.
fn print_all(bytes: &[u8], what: &str) -> i32 {
    use std::io::Write;
    match std::io::stdout().write_all(bytes) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("cim-nix: cannot write {what}: {e}");
            2
        }
    }
}

/// `cim-nix rules`.
pub fn rules() -> i32 {
    use crate::diagnostic::registry::RULES;
    let width = RULES.iter().map(|r| r.name.len()).max().unwrap_or(0);
    for rule in RULES {
        println!(
            "{:<width$}  {:<12} {:<8} {}",
            rule.name,
            rule.category,
            rule.severity.as_str(),
            rule.summary
        );
    }
    0
}

/// `cim-nix explain RULE`.
pub fn explain(rule: &str) -> i32 {
    match crate::diagnostic::docs::page(rule) {
        Some(page) => {
            print!("{page}");
            0
        }
        None => {
            eprintln!("cim-nix: no rule is named `{rule}`; `cim-nix rules` lists them");
            2
        }
    }
}
