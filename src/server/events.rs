//! Domain events from the editor (doc/events.md): on save (or after a quiet
//! period) of a flake.nix or a Home Manager configuration, and when a
//! flake.lock changes on disk, the new good state goes to the pure
//! [`EventHub`], and the events it returns to the delivery task. Nothing
//! here waits for NATS; with no `nats.url`, nothing is sent.
//!
//! Opens, saves, lock changes and closes are handled by one task, in the
//! order they arrived, so events come out in the order the user acted.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tower_lsp::lsp_types::Url;

use super::Shared;
use crate::config::{EmitOn, EventSettings, NatsSettings, Settings};
use crate::events::{diff, EventHub, FlakeDecl, SystemStamps};
use crate::flake::{FlakeLock, FlakeModel};
use crate::nats::outbox::{self, Outbox};
use crate::nats::{publisher, EventSink};

#[derive(Default)]
pub struct ServerEvents {
    hub: Mutex<EventHub>,
    /// The delivery task, and the settings it was started with.
    sink: Mutex<Option<((NatsSettings, u64), EventSink)>>,
    events: Mutex<EventSettings>,
    root: OnceLock<PathBuf>,
    /// Set once the settings were applied: from then on, with events off,
    /// opened documents are not read at all.
    configured: std::sync::atomic::AtomicBool,
    /// The queue of the task that handles [`Job`]s in arrival order.
    queue: OnceLock<tokio::sync::mpsc::UnboundedSender<Job>>,
}

/// What the events task handles, in arrival order.
enum Job {
    Opened(PathBuf, Arc<String>),
    Saved(Url),
    /// A save after a quiet period: only if the document is still at
    /// this revision.
    Quiet(Url, u64),
    LockChanged(PathBuf),
    Closed(PathBuf),
    /// A dotfile was migrated into the Home Manager file at the path.
    Migrated {
        file: PathBuf,
        program: &'static str,
        source: PathBuf,
        target: String,
    },
    /// Answered once every job before it is handled.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Files larger than this are not read as aggregates (flakes and Home
/// Manager configurations are small; all-packages.nix is not one).
const MAX_AGGREGATE_SIZE: usize = 256 << 10;

impl ServerEvents {
    /// The workspace root: event paths are relative to it.
    pub fn set_root(&self, root: PathBuf) {
        let _ = self.root.set(root);
    }

    pub fn root(&self) -> Option<&Path> {
        self.root.get().map(PathBuf::as_path)
    }

    /// Starts, restarts or stops delivery to match `settings` (the
    /// workspace's). Must run inside the tokio runtime.
    pub fn configure(&self, settings: &Settings) {
        self.configured
            .store(true, std::sync::atomic::Ordering::Release);
        if let Ok(mut events) = self.events.lock() {
            *events = settings.events.clone();
        }
        if let Ok(mut hub) = self.hub.lock() {
            hub.emit_observed = settings.events.emit_observed;
        }
        let wanted = (settings.events.enabled && settings.nats.url.is_some())
            .then(|| (settings.nats.clone(), settings.events.outbox_max));
        let Ok(mut sink) = self.sink.lock() else {
            return;
        };
        if sink.as_ref().map(|(s, _)| s) == wanted.as_ref() {
            return;
        }
        // Dropping the old sink ends its task once it has stored what it
        // holds; the new one adopts its outbox if it cannot share it.
        *sink = None;
        let Some((nats, outbox_max)) = wanted else {
            return;
        };
        let Some(dir) = outbox::default_dir() else {
            tracing::error!(
                "no XDG_STATE_HOME or HOME to keep the event outbox in; events are off"
            );
            return;
        };
        let max = usize::try_from(outbox_max).unwrap_or(usize::MAX);
        match Outbox::open(&dir, max) {
            Ok(outbox) => {
                tracing::info!(
                    "domain events go to {} ({} waiting in {})",
                    nats.url.as_deref().unwrap_or(""),
                    outbox.pending(),
                    outbox.dir().display()
                );
                let started = publisher::start(&nats, outbox);
                *sink = Some(((nats, outbox_max), started));
            }
            Err(e) => tracing::error!("{e}; domain events are off"),
        }
    }

    fn sink(&self) -> Option<EventSink> {
        self.sink.lock().ok()?.as_ref().map(|(_, s)| s.clone())
    }

    pub fn emit_on(&self) -> (EmitOn, u64) {
        self.events
            .lock()
            .map(|e| (e.emit_on, e.quiet_ms))
            .unwrap_or((EmitOn::Save, 1500))
    }

    /// The path events show: relative to the workspace root when inside it.
    fn relative(&self, path: &Path) -> String {
        let relative = self
            .root
            .get()
            .and_then(|root| path.strip_prefix(root).ok())
            .unwrap_or(path);
        relative
            .to_string_lossy()
            .trim_start_matches('/')
            .to_string()
    }

    /// Queues `job` for the events task, starting it on first use.
    fn submit(shared: &Arc<Shared>, job: Job) {
        let queue = shared.events.queue.get_or_init(|| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let shared = shared.clone();
            tokio::spawn(async move {
                while let Some(job) = rx.recv().await {
                    shared.events.handle(&shared, job).await;
                }
            });
            tx
        });
        let _ = queue.send(job);
    }

    /// A document was opened: its state is the baseline later saves are
    /// compared with (and a flake's lock the baseline of its changes).
    pub fn opened(shared: &Arc<Shared>, uri: &Url, text: Arc<String>) {
        let Ok(path) = uri.to_file_path() else {
            return;
        };
        if path.extension().is_none_or(|x| x != "nix") || text.len() > MAX_AGGREGATE_SIZE {
            return;
        }
        // Before the settings are known, take the baseline anyway: events
        // may turn out to be on.
        let configured = shared
            .events
            .configured
            .load(std::sync::atomic::Ordering::Acquire);
        if configured && shared.events.sink().is_none() {
            return;
        }
        ServerEvents::submit(shared, Job::Opened(path, text));
    }

    /// A dotfile was migrated into the Home Manager file `file`.
    pub fn migrated(
        shared: &Arc<Shared>,
        file: PathBuf,
        program: &'static str,
        source: PathBuf,
        target: String,
    ) {
        ServerEvents::submit(
            shared,
            Job::Migrated {
                file,
                program,
                source,
                target,
            },
        );
    }

    /// A document was closed: its editing session ends.
    pub fn closed(shared: &Arc<Shared>, uri: &Url) {
        if let Ok(path) = uri.to_file_path() {
            ServerEvents::submit(shared, Job::Closed(path));
        }
    }

    /// The document at `uri` was saved.
    pub fn saved(shared: &Arc<Shared>, uri: &Url) {
        ServerEvents::submit(shared, Job::Saved(uri.clone()));
    }

    /// flake.lock changed on disk (`lock` is its path).
    pub fn lock_changed(shared: &Arc<Shared>, lock: &Path) {
        ServerEvents::submit(shared, Job::LockChanged(lock.to_path_buf()));
    }

    async fn handle(&self, shared: &Shared, job: Job) {
        let events = match job {
            Job::Opened(path, text) => {
                let parse = crate::syntax::parse(&text);
                match parse.syntax().filter(|_| parse.errors().is_empty()) {
                    Some(root) => self.record(&path, &root, shared.index.is_home_module(&path)),
                    None => Vec::new(),
                }
            }
            Job::Saved(uri) => self.saved_state(shared, &uri).await,
            Job::Quiet(uri, revision) => {
                if shared.documents.current_revision(&uri) != Some(revision) {
                    return;
                }
                self.saved_state(shared, &uri).await
            }
            Job::LockChanged(lock) => self.lock_events(&lock.with_file_name("flake.nix")),
            Job::Flush(done) => {
                let _ = done.send(());
                Vec::new()
            }
            Job::Migrated {
                file,
                program,
                source,
                target,
            } => {
                let (file, source) = (self.relative(&file), self.relative(&source));
                match self.hub.lock() {
                    Ok(mut hub) => {
                        hub.dotfile_migrated(&file, program, &source, &target, &mut SystemStamps)
                    }
                    Err(_) => Vec::new(),
                }
            }
            Job::Closed(path) => {
                let relative = self.relative(&path);
                if let Ok(mut hub) = self.hub.lock() {
                    hub.end_session(&relative);
                }
                Vec::new()
            }
        };
        if let Some(sink) = self.sink() {
            sink.emit(&events);
        }
    }

    /// The events of a save: the document's newest good state against the
    /// last one.
    async fn saved_state(&self, shared: &Shared, uri: &Url) -> Vec<crate::events::DomainEvent> {
        if self.sink().is_none() {
            return Vec::new();
        }
        let Ok(path) = uri.to_file_path() else {
            return Vec::new();
        };
        if path.file_name().is_some_and(|n| n == "flake.lock") {
            return self.lock_events(&path.with_file_name("flake.nix"));
        }
        let Ok(analysis) = shared.documents.analysis(uri).await else {
            return Vec::new();
        };
        if analysis.text.len() > MAX_AGGREGATE_SIZE {
            return Vec::new();
        }
        let started = std::time::Instant::now();
        let Some(parse) = analysis.analysis.parse.as_ref() else {
            return Vec::new();
        };
        // Only good states count: a file with errors is mid-edit.
        if !parse.errors().is_empty() {
            return Vec::new();
        }
        let Some(root) = parse.syntax() else {
            return Vec::new();
        };
        let events = self.record(&path, &root, shared.index.is_home_module(&path));
        if !events.is_empty() {
            tracing::debug!(
                "{} events for {} in {:?}",
                events.len(),
                path.display(),
                started.elapsed()
            );
        }
        events
    }

    /// Gives the hub the state of the file at `path` (a good parse): a
    /// flake.nix, a Home Manager configuration, or neither. `named`: another
    /// file of the workspace names this one as a Home Manager module.
    fn record(
        &self,
        path: &Path,
        root: &rnix::SyntaxNode,
        named: bool,
    ) -> Vec<crate::events::DomainEvent> {
        let relative = self.relative(path);
        let mut stamps = SystemStamps;
        if path.file_name().is_some_and(|n| n == "flake.nix") {
            let Some(model) = FlakeModel::from_tree(root) else {
                return Vec::new();
            };
            let mut events = match self.hub.lock() {
                Ok(mut hub) => {
                    hub.flake_saved(&relative, FlakeDecl::from_model(&model), &mut stamps)
                }
                Err(_) => return Vec::new(),
            };
            events.extend(self.lock_events(path));
            events
        } else {
            let model = crate::home::read(root, named);
            if !model.is_home_manager {
                return Vec::new();
            }
            match self.hub.lock() {
                Ok(mut hub) => hub.home_saved(&relative, model.state, &mut stamps),
                Err(_) => Vec::new(),
            }
        }
    }

    /// What changed in the flake.lock beside the flake.nix at `flake`
    /// (nothing the first time: that is the baseline).
    fn lock_events(&self, flake: &Path) -> Vec<crate::events::DomainEvent> {
        let Ok(text) = std::fs::read_to_string(flake.with_file_name("flake.lock")) else {
            return Vec::new();
        };
        let Ok(lock) = FlakeLock::parse(&text) else {
            return Vec::new(); // mid-write or broken: the finding on flake.nix says so
        };
        let relative = self.relative(flake);
        match self.hub.lock() {
            Ok(mut hub) => {
                hub.lock_changed(&relative, diff::lock_summary(&lock), &mut SystemStamps)
            }
            Err(_) => Vec::new(),
        }
    }

    /// With `events.emitOn = "change"`: emits once the document has had no
    /// edit for `events.quietMs`.
    pub fn changed(shared: &Arc<Shared>, uri: &Url, revision: u64) {
        let (emit_on, quiet_ms) = shared.events.emit_on();
        if emit_on != EmitOn::Change || shared.events.sink().is_none() {
            return;
        }
        let shared = shared.clone();
        let uri = uri.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(quiet_ms)).await;
            if shared.documents.current_revision(&uri) == Some(revision) {
                ServerEvents::submit(&shared, Job::Quiet(uri, revision));
            }
        });
    }

    /// Waits until every event of what happened so far is on disk
    /// (before exit).
    pub async fn flush(shared: &Arc<Shared>) {
        if let Some(queue) = shared.events.queue.get() {
            let (tx, rx) = tokio::sync::oneshot::channel();
            if queue.send(Job::Flush(tx)).is_ok() {
                let _ = tokio::time::timeout(Duration::from_secs(5), rx).await;
            }
        }
        if let Some(sink) = shared.events.sink() {
            sink.flush().await;
        }
    }

    /// Counters of the delivery task, for `cim-nix/eventStatus`.
    pub fn status(&self) -> serde_json::Value {
        use std::sync::atomic::Ordering::Relaxed;
        match self.sink() {
            None => serde_json::json!({"enabled": false}),
            Some(sink) => {
                let s = &sink.stats;
                serde_json::json!({
                    "enabled": true,
                    "queued": s.queued.load(Relaxed),
                    "published": s.published.load(Relaxed),
                    "duplicates": s.duplicates.load(Relaxed),
                    "pending": s.pending.load(Relaxed),
                    "dropped": s.dropped.load(Relaxed),
                })
            }
        }
    }
}
