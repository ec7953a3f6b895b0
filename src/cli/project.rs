//! What `check` and `fmt` share: settings from each file's `cim-nix.toml`,
//! and running work on all cores.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::config::{Settings, SettingsLayer};
use crate::workspace::{load_project_file, ProjectLookup};

/// `cim-nix.toml` lookups, cached by directory as the paths name it (so a
/// directory of many files is canonicalized and looked up once), shared by
/// the threads.
#[derive(Default)]
pub struct ProjectSettings {
    by_dir: Mutex<HashMap<PathBuf, Option<SettingsLayer>>>,
    pub warnings: Mutex<Vec<String>>,
}

impl ProjectSettings {
    pub fn for_file(&self, path: &Path) -> Settings {
        let named = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let cached = self.by_dir.lock().ok().and_then(|m| m.get(&named).cloned());
        let layer = match cached {
            Some(layer) => layer,
            None => {
                let dir = directory_of(path);
                let layer = match load_project_file(&dir) {
                    ProjectLookup::None => None,
                    ProjectLookup::Found(file, problems) => {
                        self.warn(
                            problems
                                .iter()
                                .map(|p| format!("{}: ignored {p}", file.path.display())),
                        );
                        Some(file.layer)
                    }
                    ProjectLookup::Unreadable(path, why) => {
                        self.warn([format!(
                            "{}: {why}; the whole file is ignored",
                            path.display()
                        )]);
                        None
                    }
                };
                if let Ok(mut m) = self.by_dir.lock() {
                    m.insert(named, layer.clone());
                }
                layer
            }
        };
        Settings::from_layers(layer.as_ref())
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
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let spawned = std::thread::Builder::new()
                // Room for recursive code over the deepest tree kept.
                .stack_size(64 << 20)
                .spawn_scoped(scope, || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = f(item);
                    if let Ok(mut r) = results.lock() {
                        r.push((i, result));
                    }
                });
            if let Err(e) = spawned {
                eprintln!("cim-nix: cannot start a thread: {e}");
            }
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
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
