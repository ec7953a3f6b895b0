//! The analysis worker: one thread that analyses the newest revision of each
//! changed document as soon as it is free. There is no debounce; revisions
//! that arrive while it is busy are skipped, not queued, and a result is
//! published only if it is still the document's current revision.

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;
use tower_lsp::lsp_types::{MessageType, Url};

use super::documents::DocumentAnalysis;
use super::formatting::Prepared;
use super::{convert, Shared};
use crate::{ide, panics};

pub enum Job {
    /// The document changed: analyse its newest revision.
    Analyze(Url),
    /// The settings may have changed: re-analyse the open documents whose
    /// settings did (nothing else: a settings refresh that changes nothing,
    /// as at startup, must not publish every document twice).
    Reconfigure,
    /// Something outside the settings changed (a flake.lock): re-analyse
    /// every open document.
    AnalyzeAll,
}

/// What the worker asks the async side to send to the client (diagnostics
/// it writes itself: see [`Shared::publish_diagnostics`]).
pub enum Outgoing {
    Message(MessageType, String),
}

/// The worker's stack: deep enough for recursive code over the deepest tree
/// the parser keeps (see syntax::guard), reserved but mostly never touched.
const WORKER_STACK: usize = 256 << 20;

#[derive(Clone)]
pub struct WorkerHandle {
    jobs: mpsc::Sender<Job>,
}

impl WorkerHandle {
    pub fn analyze(&self, uri: Url) {
        let _ = self.jobs.send(Job::Analyze(uri));
    }

    pub fn reconfigure(&self) {
        let _ = self.jobs.send(Job::Reconfigure);
    }

    pub fn analyze_all(&self) {
        let _ = self.jobs.send(Job::AnalyzeAll);
    }
}

/// The queue of jobs: the handle goes into [`Shared`], the receiver to [`start`].
pub fn channel() -> (WorkerHandle, mpsc::Receiver<Job>) {
    let (jobs, receiver) = mpsc::channel();
    (WorkerHandle { jobs }, receiver)
}

/// Runs the worker loop on its own thread until every handle is dropped.
pub fn start(shared: Arc<Shared>, jobs: mpsc::Receiver<Job>, outgoing: UnboundedSender<Outgoing>) {
    let spawned = std::thread::Builder::new()
        .name("cim-nix-analysis".into())
        .stack_size(WORKER_STACK)
        .spawn(move || run(&shared, &jobs, &outgoing));
    if let Err(e) = spawned {
        tracing::error!("cannot start the analysis thread: {e}");
    }
}

fn run(shared: &Arc<Shared>, jobs: &mpsc::Receiver<Job>, outgoing: &UnboundedSender<Outgoing>) {
    // Big work was done since memory was last given back.
    let mut owed = false;
    loop {
        let first = if owed {
            match jobs.recv_timeout(super::memory::IDLE) {
                Ok(job) => job,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    super::memory::give_back_freed();
                    owed = false;
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match jobs.recv() {
                Ok(job) => job,
                Err(_) => break,
            }
        };
        // Take everything queued; each document is analysed once, newest text.
        let mut pending: Vec<Url> = Vec::new();
        let mut seen = HashSet::new();
        // An `AnalyzeAll` among them takes in every open document.
        let mut force = false;
        for job in std::iter::once(first).chain(jobs.try_iter()) {
            let uris = match job {
                Job::Analyze(uri) => vec![uri],
                Job::Reconfigure => shared.documents.uris(),
                Job::AnalyzeAll => {
                    force = true;
                    shared.documents.uris()
                }
            };
            for uri in uris {
                if seen.insert(uri.clone()) {
                    pending.push(uri);
                }
            }
        }
        let started = std::time::Instant::now();
        for uri in pending {
            analyze_one(shared, &uri, outgoing, force);
        }
        owed |= super::memory::is_big(started.elapsed(), 0);
        if owed && super::memory::resident().is_some_and(|r| r > super::memory::BUDGET) {
            super::memory::give_back_freed();
            owed = false;
        }
    }
}

/// Analyses the current revision of `uri` and publishes the result; unless
/// `force`, not when that revision is already analysed with these settings.
fn analyze_one(shared: &Arc<Shared>, uri: &Url, outgoing: &UnboundedSender<Outgoing>, force: bool) {
    let Some(snapshot) = shared.documents.snapshot(uri) else {
        return; // closed meanwhile
    };
    let (settings, report) = shared.settings.for_document(uri);
    if let Some(report) = report {
        let _ = outgoing.send(Outgoing::Message(MessageType::WARNING, report.message()));
    }
    let done = shared
        .documents
        .analysis_of(uri, snapshot.revision)
        .is_some_and(|a| a.settings == settings);
    if done && !force {
        return;
    }
    let earlier: Vec<(&str, &crate::syntax::Parse)> = [&snapshot.previous, &snapshot.clean]
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p.text.as_str(), p.analysis.parse.as_ref()?)))
        .collect();
    let started = std::time::Instant::now();
    // A flake.nix is also checked against the flake.lock beside it on disk.
    let is_flake = uri.path().ends_with("/flake.nix");
    let lock = is_flake
        .then(|| uri.to_file_path().ok())
        .flatten()
        .and_then(|path| std::fs::read_to_string(path.with_file_name("flake.lock")).ok());
    // The newest earlier analysis that built a model: its walk of what did
    // not change is reused.
    let previous = [&snapshot.previous, &snapshot.clean]
        .into_iter()
        .flatten()
        .map(|p| &p.analysis)
        .find(|a| a.built_model().is_some());
    let named_as_home_module = uri
        .to_file_path()
        .is_ok_and(|path| shared.index.is_home_module(&path));
    let context = ide::FileContext {
        is_flake,
        flake_lock: lock.as_deref(),
        named_as_home_module,
        previous,
        once: false,
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        ide::analyze(&snapshot.text, &earlier, &settings, context)
    }));
    let encoding = shared.encoding();
    let analysis = match result {
        Ok(analysis) => {
            tracing::debug!(
                "analysed {uri} revision {} in {:?} ({:?} parse)",
                snapshot.revision,
                started.elapsed(),
                analysis.reparse
            );
            analysis
        }
        Err(panic) => {
            let why = panics::message(&*panic);
            tracing::error!("analysis of {uri} panicked: {why}");
            let _ = outgoing.send(Outgoing::Message(
                MessageType::ERROR,
                format!(
                    "cim-nix: internal error while analysing {uri}: {why}. The server keeps \
                     running; please report this with the file that caused it."
                ),
            ));
            // Stored all the same, so that requests waiting for this
            // revision get an answer.
            ide::internal_error(&why)
        }
    };
    let diagnostics = analysis
        .diagnostics
        .iter()
        .map(|d| convert::diagnostic(uri, &snapshot.line_index, d, encoding))
        .collect();
    let stored = Arc::new(DocumentAnalysis {
        revision: snapshot.revision,
        version: snapshot.version,
        text: snapshot.text.clone(),
        line_index: snapshot.line_index.clone(),
        analysis,
        settings: settings.clone(),
    });
    if shared.documents.store(uri, stored) {
        shared.publish_diagnostics(
            uri.clone(),
            snapshot.version,
            snapshot.revision,
            diagnostics,
        );
        if settings.format_prepare {
            Prepared::analysed(shared, uri, snapshot.revision, &snapshot.text);
        }
    }
}
