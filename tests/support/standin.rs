//! Programs standing in for an installed `nixfmt`: small shell scripts that
//! speak its protocol (Nix on stdin, formatted Nix on stdout, a non-zero
//! exit and a message on stderr on failure).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// An executable script `name` in `dir` running `body` under `/bin/sh`.
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// A "formatter" that squeezes runs of spaces after `=` (a visible,
/// valid change) and passes everything else through.
pub fn squeezer(dir: &Path) -> PathBuf {
    script(dir, "nixfmt", "exec sed -e 's/=  */= /g'")
}
