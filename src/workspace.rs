//! File-system work shared by the CLI and the server: finding a project's
//! `cim-nix.toml` and the Nix files under a path.

use std::path::{Path, PathBuf};

use crate::config::{SettingsLayer, SettingsProblem, PROJECT_FILE};

pub struct ProjectFile {
    pub path: PathBuf,
    pub layer: SettingsLayer,
}

pub enum ProjectLookup {
    None,
    Found(ProjectFile, Vec<SettingsProblem>),
    /// A file exists but cannot be used; the reason says why.
    Unreadable(PathBuf, String),
}

/// Finds and reads the nearest `cim-nix.toml` at or above `dir`.
pub fn load_project_file(dir: &Path) -> ProjectLookup {
    for dir in dir.ancestors() {
        match load_project_file_in(dir) {
            ProjectLookup::None => continue,
            found => return found,
        }
    }
    ProjectLookup::None
}

/// Reads the `cim-nix.toml` in `dir` itself, not above it.
pub fn load_project_file_in(dir: &Path) -> ProjectLookup {
    let path = dir.join(PROJECT_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return ProjectLookup::None,
        Err(e) => return ProjectLookup::Unreadable(path, format!("cannot read it: {e}")),
    };
    match SettingsLayer::from_toml(&text) {
        Ok((layer, problems)) => ProjectLookup::Found(ProjectFile { path, layer }, problems),
        Err(why) => ProjectLookup::Unreadable(path, why),
    }
}

/// The `.nix` files under `root` (or `root` itself when it is a file, whatever
/// its name), skipping what `.gitignore` and `.ignore` files exclude, and
/// `.git`. Sorted, so output is stable.
pub fn nix_files(root: &Path) -> Result<Vec<PathBuf>, String> {
    let meta = std::fs::metadata(root).map_err(|e| format!("{}: {e}", root.display()))?;
    if meta.is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut files = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker {
        let entry = entry.map_err(|e| e.to_string())?;
        let is_file = entry.file_type().is_some_and(|t| t.is_file());
        if is_file && entry.path().extension().is_some_and(|x| x == "nix") {
            files.push(entry.into_path());
        }
    }
    files.sort();
    Ok(files)
}

/// What the files around `dir` say about the project's formatter: an
/// `.alejandra.toml` at or above it, or the `formatter` output of the
/// nearest flake.nix. The search stops at the repository root (a `.git`).
pub fn format_hints(dir: &Path) -> crate::format::ProjectHints {
    let mut hints = crate::format::ProjectHints::default();
    let mut flake_seen = false;
    for dir in dir.ancestors() {
        if dir.join(".alejandra.toml").is_file() {
            hints.alejandra_toml = true;
        }
        if !flake_seen {
            if let Ok(text) = std::fs::read_to_string(dir.join("flake.nix")) {
                flake_seen = true;
                hints.flake_formatter = crate::format::flake_formatter(&text);
            }
        }
        if hints.alejandra_toml || dir.join(".git").exists() {
            break;
        }
    }
    hints
}
