//! The files the editor features may read beyond the one asked about:
//! open documents as the editor has them, closed files from disk (parsed
//! once and kept until they change on disk or a watcher says so), and the
//! workspace index for who refers to whom. The `ide` layer reads them
//! through [`ide::World`] and does no I/O itself.

use std::cell::RefCell;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use dashmap::DashMap;
use rustc_hash::{FxHashMap, FxHashSet};
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

/// A path's folder and name, split at its last `/` on the bytes (the
/// paths here are normalised): `Path::parent` and `file_name` walk its
/// components, a tenth of listing a package set's links.
#[cfg(unix)]
fn split_name(path: &Path) -> Option<(&OsStr, &OsStr)> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    let at = bytes.iter().rposition(|&b| b == b'/')?;
    let name = &bytes[at + 1..];
    if name.is_empty() || name == b"." || name == b".." {
        return None;
    }
    let parent = if at == 0 { &bytes[..1] } else { &bytes[..at] };
    Some((OsStr::from_bytes(parent), OsStr::from_bytes(name)))
}

#[cfg(not(unix))]
fn split_name(path: &Path) -> Option<(&OsStr, &OsStr)> {
    Some((path.parent()?.as_os_str(), path.file_name()?))
}

/// What a folder's listing says `name` is.
fn kind_in(listing: Option<&FxHashMap<OsString, bool>>, name: &OsStr) -> PathKind {
    match listing.and_then(|l| l.get(name)) {
        Some(true) => PathKind::Directory,
        Some(false) => PathKind::File,
        None => PathKind::Missing,
    }
}

/// The world as the server sees it, for one request.
pub struct ServerWorld<'a> {
    pub shared: &'a Shared,
    /// Directories listed during this request: what is in each (and
    /// whether it is a directory), or `None` when it cannot be read. A
    /// file's thousands of paths (all-packages.nix) cost one listing per
    /// folder they are in, not one look-up each.
    /// Keyed by the folder's path as bytes: `Path`'s own hash walks its
    /// components, which for 9 000 paths was a fifth of the request.
    listings: RefCell<FxHashMap<OsString, Option<FxHashMap<OsString, bool>>>>,
    /// The paths of the open documents (as bytes, as above), read once per
    /// request.
    open: std::cell::OnceCell<FxHashSet<OsString>>,
}

impl<'a> ServerWorld<'a> {
    pub fn new(shared: &'a Shared) -> ServerWorld<'a> {
        ServerWorld {
            shared,
            listings: RefCell::new(FxHashMap::default()),
            open: std::cell::OnceCell::new(),
        }
    }

    /// What `path` is on disk, from its folder's listing.
    fn disk_kind(&self, path: &Path) -> PathKind {
        let Some((parent, name)) = split_name(path) else {
            return match std::fs::metadata(path) {
                Ok(meta) if meta.is_dir() => PathKind::Directory,
                Ok(_) => PathKind::File,
                Err(_) => PathKind::Missing,
            };
        };
        let mut listings = self.listings.borrow_mut();
        // `get` first: most paths share their folder with an earlier one.
        if let Some(listing) = listings.get(parent) {
            return kind_in(listing.as_ref(), name);
        }
        let listing = listings.entry(parent.to_owned()).or_insert_with(|| {
            let entries = std::fs::read_dir(parent).ok()?;
            let mut names = FxHashMap::default();
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
        kind_in(listing.as_ref(), name)
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
                .map(PathBuf::into_os_string)
                .collect()
        });
        if open.contains(path.as_os_str()) {
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
