//! The workspace index: for every `.nix` file of the workspace (what
//! `.gitignore` does not exclude), the files it names and the symbols it
//! defines. Built in the background after `initialized`, with `$/progress`
//! when the client shows it, and kept current from file watchers and
//! saves. Cross-file references and rename ask it who refers to a file;
//! `workspace/symbol` searches its symbols.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use dashmap::DashMap;
use tower_lsp::lsp_types::{
    notification::Progress, request::WorkDoneProgressCreate, NumberOrString, ProgressParams,
    ProgressParamsValue, WorkDoneProgress, WorkDoneProgressBegin, WorkDoneProgressCreateParams,
    WorkDoneProgressEnd, WorkDoneProgressReport,
};
use tower_lsp::Client;

use super::world::ServerWorld;
use super::Shared;
use crate::ide::{self, Doc, SourceFile};

/// At most this many files are indexed: a workspace bigger than that (a
/// nixpkgs checkout) gets the first ones, and a log line says so.
const MAX_FILES: usize = 60_000;

/// At most this many symbols are kept (about 40 MB): past it, files are
/// indexed for their links only.
const MAX_SYMBOLS: usize = 400_000;

/// How many `imports` up a file is looked for as a Home Manager module.
const MAX_IMPORT_DEPTH: usize = 8;

#[derive(Default)]
pub struct WorkspaceIndex {
    files: DashMap<PathBuf, Entry>,
    /// Set while the first build runs.
    building: AtomicBool,
    /// Symbols kept, over all files.
    symbols: AtomicUsize,
}

struct Entry {
    links: Vec<PathBuf>,
    /// The files this one names as Home Manager modules.
    home_modules: Vec<PathBuf>,
    /// The modules it imports (Home Manager modules when it is one).
    imports: Vec<PathBuf>,
    symbols: Vec<ide::WorkspaceSymbol>,
}

impl WorkspaceIndex {
    /// Waits while the first build runs, for at most `limit`: a search
    /// right after startup then finds the files not open yet, instead of
    /// answering from half an index (a bigger workspace is answered from
    /// what is indexed when the time is up).
    pub async fn settled(&self, limit: std::time::Duration) {
        let started = std::time::Instant::now();
        while self.building.load(Ordering::SeqCst) && started.elapsed() < limit {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// The indexed files that name `path`.
    pub fn referrers(&self, path: &Path) -> Vec<PathBuf> {
        self.files
            .iter()
            .filter(|e| e.links.binary_search_by(|l| l.as_path().cmp(path)).is_ok())
            .map(|e| e.key().clone())
            .collect()
    }

    /// Whether an indexed file names `path` as a Home Manager module
    /// (`home-manager.users.<name>`, `homeManagerConfiguration`'s modules).
    pub fn is_home_module(&self, path: &Path) -> bool {
        self.is_home_module_within(path, MAX_IMPORT_DEPTH)
    }

    /// Named as one, or imported by a file that is one (`depth` files up).
    fn is_home_module_within(&self, path: &Path, depth: usize) -> bool {
        if self
            .files
            .iter()
            .any(|e| e.home_modules.iter().any(|m| m == path))
        {
            return true;
        }
        if depth == 0 {
            return false;
        }
        // Collected first: no map guard is held across the recursion.
        let importers: Vec<PathBuf> = self
            .files
            .iter()
            .filter(|e| e.imports.iter().any(|m| m == path))
            .map(|e| e.key().clone())
            .collect();
        importers
            .iter()
            .any(|importer| importer != path && self.is_home_module_within(importer, depth - 1))
    }

    /// Indexes (again) the file at `path` from `text`.
    pub fn update(&self, shared: &Shared, path: &Path, text: String) {
        let source = Arc::new(SourceFile::parse(text));
        let doc = Doc::new(Some(path.to_path_buf()), source);
        let world = ServerWorld::new(shared);
        let links = ide::file_links(&doc, &world);
        let home_modules = ide::home_module_links(&doc, &world);
        let imports = ide::module_imports(&doc, &world);
        let mut symbols = ide::workspace_symbols_of(&doc);
        if self.symbols.load(Ordering::Relaxed) + symbols.len() > MAX_SYMBOLS {
            tracing::debug!(
                "{}: indexed for its links only (symbol limit)",
                path.display()
            );
            symbols = Vec::new();
        }
        self.symbols.fetch_add(symbols.len(), Ordering::Relaxed);
        let names_modules = !home_modules.is_empty() || !imports.is_empty();
        let old = self.files.insert(
            path.to_path_buf(),
            Entry {
                links,
                home_modules,
                imports,
                symbols,
            },
        );
        let changed = match &old {
            Some(old) => {
                self.symbols.fetch_sub(old.symbols.len(), Ordering::Relaxed);
                let new = self.files.get(path);
                new.is_some_and(|n| n.home_modules != old.home_modules || n.imports != old.imports)
            }
            None => names_modules,
        };
        // Which files are Home Manager modules may have changed: the open
        // documents are analysed again (after the first build, once).
        if changed && !self.building.load(Ordering::SeqCst) {
            shared.worker.analyze_all();
        }
    }

    /// Reads the file at `path` again, or forgets it when it is gone.
    pub fn refresh(&self, shared: &Shared, path: &Path) {
        match std::fs::read_to_string(path) {
            Ok(text) => self.update(shared, path, text),
            Err(_) => {
                if let Some((_, old)) = self.files.remove(path) {
                    self.symbols.fetch_sub(old.symbols.len(), Ordering::Relaxed);
                }
            }
        }
    }

    /// Every indexed symbol whose name matches `query`, best first, at
    /// most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<(PathBuf, ide::WorkspaceSymbol)> {
        let mut found: Vec<(u32, PathBuf, ide::WorkspaceSymbol)> = Vec::new();
        for entry in self.files.iter() {
            for symbol in &entry.symbols {
                if let Some(score) = ide::symbol_match(query, &symbol.name) {
                    found.push((score, entry.key().clone(), symbol.clone()));
                }
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.2.name.cmp(&b.2.name)));
        found.truncate(limit);
        found.into_iter().map(|(_, p, s)| (p, s)).collect()
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Builds the index of the workspace at `root` in the background,
/// reporting progress to the client when it supports it.
pub fn build(shared: Arc<Shared>, client: Client, root: PathBuf, progress: bool) {
    shared.index.building.store(true, Ordering::SeqCst);
    tokio::spawn(async move {
        let token = NumberOrString::String("cim-nix/index".into());
        let progress = progress
            && client
                .send_request::<WorkDoneProgressCreate>(WorkDoneProgressCreateParams {
                    token: token.clone(),
                })
                .await
                .is_ok();
        let report = |value: WorkDoneProgress| {
            let client = client.clone();
            let token = token.clone();
            async move {
                if progress {
                    client
                        .send_notification::<Progress>(ProgressParams {
                            token,
                            value: ProgressParamsValue::WorkDone(value),
                        })
                        .await;
                }
            }
        };
        report(WorkDoneProgress::Begin(WorkDoneProgressBegin {
            title: "cim-nix: indexing the workspace".into(),
            cancellable: Some(false),
            message: Some(root.display().to_string()),
            percentage: Some(0),
        }))
        .await;
        let files = {
            let root = root.clone();
            tokio::task::spawn_blocking(move || crate::workspace::nix_files(&root))
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default()
        };
        if files.len() > MAX_FILES {
            tracing::warn!(
                "the workspace has {} .nix files; indexing the first {MAX_FILES}",
                files.len()
            );
        }
        let total = files.len().min(MAX_FILES);
        let started = std::time::Instant::now();
        for (i, chunk) in files
            .into_iter()
            .take(MAX_FILES)
            .collect::<Vec<_>>()
            .chunks(64)
            .enumerate()
        {
            let chunk = chunk.to_vec();
            let worker = shared.clone();
            let _ = tokio::task::spawn_blocking(move || {
                for path in chunk {
                    if let Ok(meta) = std::fs::metadata(&path) {
                        if meta.len() <= 4 << 20 {
                            worker.index.refresh(&worker, &path);
                        }
                    }
                }
            })
            .await;
            let done = ((i + 1) * 64).min(total);
            report(WorkDoneProgress::Report(WorkDoneProgressReport {
                cancellable: Some(false),
                message: Some(format!("{done}/{total} files")),
                percentage: Some((done * 100 / total.max(1)) as u32),
            }))
            .await;
        }
        shared.index.building.store(false, Ordering::SeqCst);
        // Open documents were analysed before the index knew which files
        // are Home Manager modules.
        if shared
            .index
            .files
            .iter()
            .any(|e| !e.home_modules.is_empty())
        {
            shared.worker.analyze_all();
        }
        tracing::info!(
            "indexed {total} files of {} in {:?}",
            root.display(),
            started.elapsed()
        );
        report(WorkDoneProgress::End(WorkDoneProgressEnd {
            message: Some(format!("{total} files indexed")),
        }))
        .await;
    });
}
