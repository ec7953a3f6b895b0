//! The command line: argument parsing and the subcommands other than `lsp`.

pub mod check;
pub mod fmt;
mod project;

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
}
