//! cim-nix: a language server and checker for Nix.
//!
//! The pure core is [`syntax`], [`analysis`] and [`config`]; [`server`] (LSP
//! over stdio) and [`cli`] do the I/O and translate. See doc/ARCHITECTURE.md.

pub mod analysis;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod events;
pub mod flake;
pub mod format;
pub mod home;
pub mod ide;
pub mod nats;
pub mod panics;
pub mod report;
pub mod server;
pub mod syntax;
pub mod timefmt;
pub mod workspace;
