//! The files the editor features may read beyond the one asked about:
//! open documents as the editor has them, closed files from disk (parsed
//! once and kept until they change on disk or a watcher says so), and the
//! workspace index for who refers to whom. The `ide` layer reads them
//! through [`ide::World`] and does no I/O itself.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use dashmap::DashMap;
use tower_lsp::lsp_types::Url;

use super::Shared;
use crate::ide::{self, PathKind, Source, SourceFile};

/// Closed files read from disk, by path.
#[derive(Default)]
pub struct DiskFiles {
    files: DashMap<PathBuf, DiskFile>,
}

struct DiskFile {
    modified: Option<SystemTime>,
    len: u64,
    source: Arc<SourceFile>,
}

/// Files bigger than this are not read for another file's sake.
const MAX_READ: u64 = 4 << 20;

impl DiskFiles {
    /// The file at `path`, parsed; read again when it changed on disk.
    pub fn load(&self, path: &Path) -> Option<Arc<SourceFile>> {
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_file() || meta.len() > MAX_READ {
            return None;
        }
        let modified = meta.modified().ok();
        if let Some(known) = self.files.get(path) {
            if known.modified == modified && known.len == meta.len() && modified.is_some() {
                return Some(known.source.clone());
            }
        }
        let text = std::fs::read_to_string(path).ok()?;
        let source = Arc::new(SourceFile::parse(text));
        self.files.insert(
            path.to_path_buf(),
            DiskFile {
                modified,
                len: meta.len(),
                source: source.clone(),
            },
        );
        Some(source)
    }

    /// Forgets a file (a watcher saw it change or go).
    pub fn forget(&self, path: &Path) {
        self.files.remove(path);
    }
}

/// The world as the server sees it, for one request.
pub struct ServerWorld<'a> {
    pub shared: &'a Shared,
    /// Directories listed during this request: what is in each (and
    /// whether it is a directory), or `None` when it cannot be read. A
    /// file's thousands of paths (all-packages.nix) cost one listing per
    /// folder they are in, not one look-up each.
    listings: RefCell<HashMap<PathBuf, Option<HashMap<OsString, bool>>>>,
    /// The paths of the open documents, read once per request.
    open: std::cell::OnceCell<std::collections::HashSet<PathBuf>>,
}

impl<'a> ServerWorld<'a> {
    pub fn new(shared: &'a Shared) -> ServerWorld<'a> {
        ServerWorld {
            shared,
            listings: RefCell::new(HashMap::new()),
            open: std::cell::OnceCell::new(),
        }
    }

    /// What `path` is on disk, from its folder's listing.
    fn disk_kind(&self, path: &Path) -> PathKind {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return match std::fs::metadata(path) {
                Ok(meta) if meta.is_dir() => PathKind::Directory,
                Ok(_) => PathKind::File,
                Err(_) => PathKind::Missing,
            };
        };
        let mut listings = self.listings.borrow_mut();
        let listing = listings.entry(parent.to_path_buf()).or_insert_with(|| {
            let entries = std::fs::read_dir(parent).ok()?;
            let mut names = HashMap::new();
            for entry in entries.flatten() {
                let is_dir = match entry.file_type() {
                    // A link: what it points to.
                    Ok(t) if t.is_symlink() => entry.path().is_dir(),
                    Ok(t) => t.is_dir(),
                    Err(_) => continue,
                };
                names.insert(entry.file_name(), is_dir);
            }
            Some(names)
        });
        match listing.as_ref().and_then(|l| l.get(name)) {
            Some(true) => PathKind::Directory,
            Some(false) => PathKind::File,
            None => PathKind::Missing,
        }
    }

    /// The open document at `path`, as the editor has it now, with its
    /// version: the stored analysis when it is of the current text, else
    /// the current text parsed now.
    pub fn open_document(&self, path: &Path) -> Option<(Arc<dyn Source>, i32)> {
        let uri = Url::from_file_path(path).ok()?;
        let snapshot = self.shared.documents.snapshot(&uri)?;
        if let Some(analysis) = self.shared.documents.analysis_of(&uri, snapshot.revision) {
            let source: Arc<dyn Source> = analysis;
            return Some((source, snapshot.version));
        }
        let source: Arc<dyn Source> = Arc::new(SourceFile::parse(snapshot.text.to_string()));
        Some((source, snapshot.version))
    }
}

impl ide::World for ServerWorld<'_> {
    fn path_kind(&self, path: &Path) -> PathKind {
        let open = self.open.get_or_init(|| {
            self.shared
                .documents
                .uris()
                .into_iter()
                .filter_map(|u| u.to_file_path().ok())
                .collect()
        });
        if open.contains(path) {
            return PathKind::File;
        }
        self.disk_kind(path)
    }

    fn load(&self, path: &Path) -> Option<Arc<dyn Source>> {
        if let Some((source, _)) = self.open_document(path) {
            return Some(source);
        }
        let source: Arc<dyn Source> = self.shared.files.load(path)?;
        Some(source)
    }

    fn referrers(&self, path: &Path) -> Vec<PathBuf> {
        // Whoever names the file or its folder: open documents by their
        // text, closed files by the workspace index.
        let needle = path
            .file_name()
            .filter(|n| *n != "default.nix")
            .or_else(|| path.parent().and_then(|p| p.file_name()))
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut found = self.shared.index.referrers(path);
        for uri in self.shared.documents.uris() {
            let Ok(open) = uri.to_file_path() else {
                continue;
            };
            if found.contains(&open) || open == path {
                continue;
            }
            let names = self
                .shared
                .documents
                .snapshot(&uri)
                .is_some_and(|s| s.text.contains(needle.as_str()));
            if names {
                found.push(open);
            }
        }
        found
    }
}
