use clap::Parser;
use tracing_subscriber::EnvFilter;

use cim_nix::cli::{Cli, Command};

// The global allocator is mimalloc, installed by the alejandra crate.

fn main() {
    let cli = Cli::parse();
    init_logging(matches!(cli.command, None | Some(Command::Lsp)));
    let code = match cli.command {
        None | Some(Command::Lsp) => match cim_nix::server::run() {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("cim-nix: cannot start the language server: {e:#}");
                1
            }
        },
        Some(Command::Check(args)) => cim_nix::cli::check::run(&args),
        Some(Command::Fmt(args)) => cim_nix::cli::fmt::run(&args),
        Some(Command::Service(args)) => cim_nix::cli::service::run(&args),
        Some(Command::Rules) => cim_nix::cli::rules(),
        Some(Command::Explain { rule }) => cim_nix::cli::explain(&rule),
    };
    std::process::exit(code);
}

/// Logs go to stderr, never stdout (which carries LSP or command output).
/// `CIM_NIX_LOG` takes a tracing filter such as `debug` or `cim_nix=trace`.
fn init_logging(server: bool) {
    let default = if server {
        "cim_nix=info"
    } else {
        "cim_nix=warn"
    };
    let filter = EnvFilter::try_from_env("CIM_NIX_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}
