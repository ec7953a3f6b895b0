//! Flakes, pure: what flake.nix declares ([`FlakeModel`]), what flake.lock
//! pinned ([`FlakeLock`]), the findings that compare the two, and the hover
//! of an input. The server and the CLI read the files and pass the text.

pub mod diagnostics;
pub mod edit;
pub mod flakeref;
pub mod hover;
pub mod lock;
pub mod model;
pub mod unused;

pub use diagnostics::LockState;
pub use lock::{FlakeLock, InputRef, LockError, LockNode};
pub use model::{FlakeInput, FlakeModel, OutputsPattern};

/// Whether a file is a flake's flake.nix, by name.
pub fn is_flake_file(path: &str) -> bool {
    path == "flake.nix" || path.ends_with("/flake.nix")
}
