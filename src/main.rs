use clap::Parser;
use tracing_subscriber::EnvFilter;

use cim_nix::cli::{Cli, Command};

// The global allocator is mimalloc, installed by the alejandra crate.

fn main() {
    purge_freed_memory_soon();
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
        Some(Command::Migrate(args)) => cim_nix::cli::migrate::run(&args),
        Some(Command::Service(args)) => cim_nix::cli::service::run(&args),
        Some(Command::Rules) => cim_nix::cli::rules(),
        Some(Command::Explain { rule }) => cim_nix::cli::explain(&rule),
        Some(Command::SettingsSchema) => cim_nix::cli::settings_schema(),
        Some(Command::Completions { shell }) => cim_nix::cli::completions(shell),
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

/// mimalloc 3 keeps freed pages for a second before returning them to the
/// system. The server rebuilds a document's model at every edit, so while
/// someone types in all-packages.nix the pages of versions already dropped
/// piled up: 70 MiB resident after 18 quick edits. Returned after 25 ms,
/// they stay at 43 MiB, and a burst of keystrokes still reuses its pages
/// (returning them at once, 35 MiB, made every analysis fault its memory
/// in again: opening all-packages.nix took 5-10 ms longer).
fn purge_freed_memory_soon() {
    // `mi_option_purge_delay` in mimalloc 3's `mi_option_e`; the binding
    // crate names only some options. A test checks the number.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets a global option before any thread is started.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 25) };
}

#[cfg(test)]
mod tests {
    /// Option 15 is the purge delay: mimalloc 3's default for it is 1 000 ms
    /// (no other option has that default), and it reads 25 once set.
    #[test]
    fn option_fifteen_is_the_purge_delay() {
        // SAFETY: reads and sets a global option of the allocator.
        unsafe {
            assert_eq!(libmimalloc_sys::mi_option_get(15), 1000);
            super::purge_freed_memory_soon();
            assert_eq!(libmimalloc_sys::mi_option_get(15), 25);
        }
    }
}
