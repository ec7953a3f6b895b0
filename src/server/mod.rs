//! The language server: LSP over stdio, built on tower-lsp.
//!
//! [`transport`] reads stdin and applies document edits; the [`worker`]
//! analyses; [`backend`] answers requests; [`convert`] translates between the
//! core's types and LSP's. This layer does I/O and knows LSP; the core does not.

pub mod backend;
pub mod convert;
pub mod documents;
pub mod events;
pub mod features;
pub mod formatting;
pub mod framing;
pub mod index;
pub mod memory;
pub mod settings;
pub mod transport;
pub mod worker;
pub mod world;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;
use tower_lsp::lsp_types::{Diagnostic, PublishDiagnosticsParams, Url};
use tower_lsp::{LspService, Server};

use crate::syntax::PositionEncoding;
use documents::Documents;
use settings::SettingsStore;
use worker::{Outgoing, WorkerHandle};

/// State shared by the transport, the worker and the request handlers.
pub struct Shared {
    pub documents: Documents,
    pub settings: SettingsStore,
    pub worker: WorkerHandle,
    pub outgoing: UnboundedSender<Outgoing>,
    encoding: AtomicU8,
    pub shutdown_requested: AtomicBool,
    /// Set by the first `textDocument/diagnostic` request: from then on the
    /// client pulls and nothing is pushed (pushing too would show every
    /// diagnostic twice).
    pub pull_mode: AtomicBool,
    /// Documents whose last push had diagnostics. Held while deciding to
    /// push and while switching to pull mode, so the switch clears exactly
    /// what the client shows.
    pub pushed: std::sync::Mutex<HashSet<Url>>,
    /// Set when `initialize` has been answered: no diagnostics go out before.
    pub initialized: AtomicBool,
    /// Frames for the client (diagnostics are written from the worker).
    pub output: transport::Output,
    /// Domain events: baselines, sessions and the delivery task.
    pub events: events::ServerEvents,
    /// Formatting made ahead of format-on-save.
    pub prepared: formatting::Prepared,
    /// The async runtime, for tasks started from the worker thread.
    pub runtime: tokio::runtime::Handle,
    /// Closed files read for the editor features (an import's target).
    pub files: world::DiskFiles,
    /// The workspace's files: who names whom, and their symbols.
    pub index: index::WorkspaceIndex,
    /// Each document's last semantic tokens, for deltas.
    pub semantic_tokens: features::SemanticTokensCache,
    /// What the client supports, from `initialize`.
    pub client: features::ClientSupport,
}

impl Shared {
    pub fn encoding(&self) -> PositionEncoding {
        match self.encoding.load(Ordering::Acquire) {
            0 => PositionEncoding::Utf8,
            2 => PositionEncoding::Utf32,
            _ => PositionEncoding::Utf16,
        }
    }

    pub fn set_encoding(&self, encoding: PositionEncoding) {
        let value = match encoding {
            PositionEncoding::Utf8 => 0,
            PositionEncoding::Utf16 => 1,
            PositionEncoding::Utf32 => 2,
        };
        self.encoding.store(value, Ordering::Release);
    }

    /// Publishes an empty diagnostic list for `uri` (closed or cleared).
    pub fn clear_diagnostics(&self, uri: Url) {
        let mut pushed = self.pushed.lock().unwrap_or_else(|e| e.into_inner());
        self.clear_diagnostics_locked(&mut pushed, uri);
    }

    /// [`Shared::clear_diagnostics`] with the `pushed` lock already held.
    /// The frame is queued for the stdout thread: the callers (the stdin
    /// thread, request handlers) must never wait on a client that is not
    /// reading, or a client blocked writing to us would never be read.
    pub fn clear_diagnostics_locked(&self, pushed: &mut HashSet<Url>, uri: Url) {
        pushed.remove(&uri);
        if let Some(frame) = self.diagnostics_frame(uri, None, Vec::new()) {
            self.output.send(transport::Out::Frame(frame));
        }
    }

    /// Publishes the diagnostics of `revision` of `uri`, unless the client
    /// pulls them or the document has moved on to a newer revision (or was
    /// closed) by now. Called by the worker, which writes the frame itself.
    pub fn publish_diagnostics(
        &self,
        uri: Url,
        version: i32,
        revision: u64,
        diagnostics: Vec<Diagnostic>,
    ) {
        let mut pushed = self.pushed.lock().unwrap_or_else(|e| e.into_inner());
        if self.pull_mode.load(Ordering::SeqCst)
            || self.documents.current_revision(&uri) != Some(revision)
        {
            return;
        }
        if diagnostics.is_empty() {
            pushed.remove(&uri);
        } else {
            pushed.insert(uri.clone());
        }
        // Written on the worker thread, in order with the clears before it
        // (queued frames are written under the same lock).
        if let Some(frame) = self.diagnostics_frame(uri, Some(version), diagnostics) {
            self.output.write_now(frame);
        }
    }

    /// The `publishDiagnostics` frame, unless `initialize` is not answered
    /// yet (nothing goes out before, as with tower-lsp).
    fn diagnostics_frame(
        &self,
        uri: Url,
        version: Option<i32>,
        diagnostics: Vec<Diagnostic>,
    ) -> Option<Vec<u8>> {
        if !self.initialized.load(Ordering::SeqCst) {
            return None;
        }
        /// Written straight to bytes: through a `serde_json::Value` first,
        /// hundreds of diagnostics cost a millisecond more.
        #[derive(serde::Serialize)]
        struct Notification {
            jsonrpc: &'static str,
            method: &'static str,
            params: PublishDiagnosticsParams,
        }
        let body = serde_json::to_vec(&Notification {
            jsonrpc: "2.0",
            method: "textDocument/publishDiagnostics",
            params: PublishDiagnosticsParams {
                uri,
                diagnostics,
                version,
            },
        })
        .ok()?;
        Some(framing::encode(&body))
    }
}

/// Serves LSP on stdin/stdout until the client exits.
pub fn run() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Handlers walk syntax trees up to syntax::MAX_TREE_DEPTH deep.
        .thread_stack_size(32 << 20)
        .enable_all()
        .build()?;
    runtime.block_on(serve(std::io::stdin(), std::io::stdout()));
    Ok(())
}

async fn serve(
    input: impl std::io::Read + Send + 'static,
    output: impl std::io::Write + Send + 'static,
) {
    let out = transport::start_writer(output);
    let (outgoing_tx, outgoing_rx) = tokio::sync::mpsc::unbounded_channel();
    let (worker, jobs) = worker::channel();
    let shared = Arc::new(Shared {
        documents: Documents::default(),
        settings: SettingsStore::default(),
        worker,
        outgoing: outgoing_tx.clone(),
        encoding: AtomicU8::new(1),
        shutdown_requested: AtomicBool::new(false),
        pull_mode: AtomicBool::new(false),
        pushed: std::sync::Mutex::new(HashSet::new()),
        initialized: AtomicBool::new(false),
        output: out.clone(),
        events: events::ServerEvents::default(),
        prepared: formatting::Prepared::default(),
        runtime: tokio::runtime::Handle::current(),
        files: world::DiskFiles::default(),
        index: index::WorkspaceIndex::default(),
        semantic_tokens: features::SemanticTokensCache::default(),
        client: features::ClientSupport::default(),
    });
    worker::start(shared.clone(), jobs, outgoing_tx);
    tokio::spawn(flush_events_on_signal(shared.clone()));

    let (service, socket) =
        LspService::build(|client| backend::Backend::new(client, shared.clone()))
            .custom_method("cim-nix/syntaxTree", backend::Backend::syntax_tree)
            .custom_method("cim-nix/eventStatus", backend::Backend::event_status)
            .custom_method(formatting::FORMATTING, backend::Backend::formatting_at)
            .custom_method(
                formatting::RANGE_FORMATTING,
                backend::Backend::range_formatting_at,
            )
            .finish();
    let client = service.inner().client.clone();
    tokio::spawn(backend::publish(client, outgoing_rx));

    let (to_lsp, lsp_input) = transport::pipe();
    let (lsp_output, from_lsp) = transport::pipe();
    tokio::spawn(transport::forward_output(from_lsp, out.clone()));
    tokio::spawn(
        Server::new(lsp_input, lsp_output, socket)
            .concurrency_level(16)
            .serve(service),
    );
    let (forward, forwarded) = tokio::sync::mpsc::channel(transport::FORWARD_QUEUE);
    tokio::spawn(transport::forward_input(forwarded, to_lsp));
    let transport = transport::Transport {
        shared,
        out,
        exiting: AtomicBool::new(false),
    };
    let runtime = tokio::runtime::Handle::current();
    let reading = std::thread::Builder::new()
        .name("cim-nix-stdin".into())
        .stack_size(8 << 20)
        .spawn(move || {
            // What the transport starts (event tasks, the exit) runs on the
            // async runtime.
            let _runtime = runtime.enter();
            transport.run(input, forward)
        });
    if let Err(e) = reading {
        tracing::error!("cannot start the stdin thread: {e}");
        std::process::exit(1);
    }
    // `exit` or end of input: the stdout thread ends the process once it has
    // written everything; park until it does.
    std::future::pending::<()>().await;
}

/// SIGTERM or SIGINT (an editor stopping the server without `exit`): the
/// events of what happened so far reach the outbox before the process ends.
async fn flush_events_on_signal(shared: Arc<Shared>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        let code = tokio::select! {
            _ = term.recv() => 143,
            _ = int.recv() => 130,
        };
        tracing::info!("stopped by a signal; saving pending events first");
        events::ServerEvents::flush(&shared).await;
        std::process::exit(code);
    }
    #[cfg(not(unix))]
    {
        let _ = shared;
    }
}
