//! What `check` and `fmt` share: settings from each file's `cim-nix.toml`,
//! and running work on all cores.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::config::{Settings, SettingsLayer};
use crate::workspace::{load_project_file_in, ProjectLookup};

/// `cim-nix.toml` lookups, shared by the threads. Cached by directory as
/// the paths name it (so a directory of many files is canonicalized once),
/// and by every real directory a lookup passed, so sibling directories do
/// not walk up to the root again.
#[derive(Default)]
pub struct ProjectSettings {
    by_dir: Mutex<HashMap<PathBuf, Option<SettingsLayer>>>,
    by_real_dir: Mutex<HashMap<PathBuf, Option<SettingsLayer>>>,
    pub warnings: Mutex<Vec<String>>,
}

impl ProjectSettings {
    pub fn for_file(&self, path: &Path) -> Settings {
        let named = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let cached = self.by_dir.lock().ok().and_then(|m| m.get(&named).cloned());
        let layer = match cached {
            Some(layer) => layer,
            None => {
                let layer = self.layer_at_or_above(&directory_of(path));
                if let Ok(mut m) = self.by_dir.lock() {
                    m.insert(named, layer.clone());
                }
                layer
            }
        };
        Settings::from_layers(layer.as_ref())
    }

    /// The nearest project file's settings at or above `dir`.
    fn layer_at_or_above(&self, dir: &Path) -> Option<SettingsLayer> {
        let mut passed = Vec::new();
        let mut layer = None;
        for dir in dir.ancestors() {
            let cached = self
                .by_real_dir
                .lock()
                .ok()
                .and_then(|m| m.get(dir).cloned());
            if let Some(cached) = cached {
                layer = cached;
                break;
            }
            passed.push(dir.to_path_buf());
            match load_project_file_in(dir) {
                ProjectLookup::None => continue,
                ProjectLookup::Found(file, problems) => {
                    self.warn(
                        problems
                            .iter()
                            .map(|p| format!("{}: ignored {p}", file.path.display())),
                    );
                    layer = Some(file.layer);
                }
                ProjectLookup::Unreadable(path, why) => {
                    self.warn([format!(
                        "{}: {why}; the whole file is ignored",
                        path.display()
                    )]);
                }
            }
            break;
        }
        if let Ok(mut m) = self.by_real_dir.lock() {
            for dir in passed {
                m.insert(dir, layer.clone());
            }
        }
        layer
    }

    fn warn(&self, messages: impl IntoIterator<Item = String>) {
        if let Ok(mut w) = self.warnings.lock() {
            for m in messages {
                if !w.contains(&m) {
                    w.push(m);
                }
            }
        }
    }
}

/// The directory a file's project settings and hints are looked up from.
pub fn directory_of(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::canonicalize(&dir).unwrap_or(dir)
}

/// `f` of every item, on all cores, in input order.
pub fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use rayon::prelude::*;
    // Room for recursive code over the deepest tree kept.
    let pool = rayon::ThreadPoolBuilder::new().stack_size(64 << 20).build();
    match pool {
        Ok(pool) => pool.install(|| items.par_iter().map(&f).collect()),
        Err(e) => {
            eprintln!("cim-nix: cannot start threads ({e}); going on with one");
            items.iter().map(f).collect()
        }
    }
}

/// Writes `text` to a new file beside `path` and renames it over `path`, so
/// a failure half-way never leaves a truncated file. Keeps the permissions.
pub fn write_replacing(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let permissions = std::fs::metadata(path)?.permissions();
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(text.as_bytes())?;
    temp.as_file().set_permissions(permissions)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
