//! Request and notification handlers (tower-lsp's `LanguageServer`).
//!
//! A handler never waits for a reply from the client: tower-lsp reads the
//! client's replies on the same loop that runs a bounded number of handlers,
//! so a handler awaiting `workspace/configuration` could starve the reader
//! that would deliver it. Anything that asks the client runs in its own task.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedReceiver;
use tower_lsp::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp::lsp_types::*;
use tower_lsp::{Client, LanguageServer};

use super::documents::DocumentError;
use super::events::ServerEvents;
use super::formatting::{self, Stamped};
use super::settings::ClientLayer;
use super::worker::Outgoing;
use super::{convert, Shared};
use crate::config::PROJECT_FILE;
use crate::panics;

pub struct Backend {
    pub client: Client,
    shared: Arc<Shared>,
    capabilities: std::sync::OnceLock<ClientCapabilities>,
    /// A settings problem found during `initialize`, shown once initialized
    /// (tower-lsp drops messages sent before that).
    initial_report: std::sync::Mutex<Option<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyntaxTreeParams {
    pub text_document: TextDocumentIdentifier,
}

impl Backend {
    pub fn new(client: Client, shared: Arc<Shared>) -> Backend {
        Backend {
            client,
            shared,
            capabilities: std::sync::OnceLock::new(),
            initial_report: std::sync::Mutex::new(None),
        }
    }

    fn caps(&self) -> ClientCapabilities {
        self.capabilities.get().cloned().unwrap_or_default()
    }

    /// `cim-nix/syntaxTree`: the server's current tree of a document, in
    /// rnix's debug format.
    pub async fn syntax_tree(&self, params: SyntaxTreeParams) -> Result<String> {
        guarded("cim-nix/syntaxTree", async {
            let analysis = self
                .shared
                .documents
                .analysis(&params.text_document.uri)
                .await
                .map_err(not_open)?;
            match &analysis.analysis.parse {
                Some(parse) => Ok(parse.debug_dump()),
                None => {
                    let why = analysis
                        .analysis
                        .diagnostics
                        .first()
                        .map_or("", |d| d.message.as_str());
                    Err(Error {
                        code: ErrorCode::ServerError(-32803),
                        message: format!("no syntax tree: {why}").into(),
                        data: None,
                    })
                }
            }
        })
        .await
    }

    /// `textDocument/formatting`, stamped by the transport.
    pub async fn formatting_at(
        &self,
        params: Stamped<DocumentFormattingParams>,
    ) -> Result<Option<Vec<TextEdit>>> {
        guarded("textDocument/formatting", async {
            let uri = &params.request.text_document.uri;
            formatting::format(&self.shared, uri, params.revision, None).await
        })
        .await
    }

    /// `textDocument/rangeFormatting`, stamped by the transport.
    pub async fn range_formatting_at(
        &self,
        params: Stamped<DocumentRangeFormattingParams>,
    ) -> Result<Option<Vec<TextEdit>>> {
        guarded("textDocument/rangeFormatting", async {
            let request = &params.request;
            let uri = &request.text_document.uri;
            formatting::format(&self.shared, uri, params.revision, Some(request.range)).await
        })
        .await
    }

    fn supports_pull(&self) -> bool {
        self.caps()
            .text_document
            .and_then(|t| t.diagnostic)
            .is_some()
    }

    /// Re-reads the editor's settings in a task of its own.
    fn refresh_configuration(&self) {
        let caps = self.caps();
        let supports = caps.workspace.as_ref().and_then(|w| w.configuration) == Some(true);
        if !supports {
            self.shared.worker.reconfigure();
            configure_events(&self.shared);
            return;
        }
        let client = self.client.clone();
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let item = ConfigurationItem {
                scope_uri: None,
                section: Some("cim-nix".into()),
            };
            let reply =
                tokio::time::timeout(Duration::from_secs(30), client.configuration(vec![item]))
                    .await;
            match reply {
                Ok(Ok(values)) => {
                    let value = values.into_iter().next().unwrap_or(Value::Null);
                    if let Some(report) = shared
                        .settings
                        .set_client_layer(ClientLayer::WorkspaceConfiguration, &value)
                    {
                        client
                            .show_message(MessageType::WARNING, report.message())
                            .await;
                    }
                }
                Ok(Err(e)) => tracing::warn!("workspace/configuration failed: {e}"),
                Err(_) => {
                    tracing::warn!("the client did not answer workspace/configuration in 30 s")
                }
            }
            shared.worker.reconfigure();
            configure_events(&shared);
        });
    }

    /// `cim-nix/eventStatus`: the delivery task's counters.
    pub async fn event_status(&self) -> Result<Value> {
        Ok(self.shared.events.status())
    }
}

#[tower_lsp::async_trait]
impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        guarded("initialize", async {
            #[allow(deprecated)] // rootUri: older clients send only this
            let root = params
                .workspace_folders
                .as_ref()
                .and_then(|f| f.first())
                .map(|f| f.uri.clone())
                .or(params.root_uri.clone())
                .and_then(|u| u.to_file_path().ok());
            if let Some(root) = root {
                self.shared.events.set_root(root);
            }
            let encoding = convert::negotiate_encoding(&params.capabilities);
            self.shared.set_encoding(encoding);
            let _ = self.capabilities.set(params.capabilities.clone());
            self.shared.client.set(params.capabilities.clone());
            if let Some(options) = &params.initialization_options {
                if let Some(report) = self
                    .shared
                    .settings
                    .set_client_layer(ClientLayer::InitializationOptions, options)
                {
                    if let Ok(mut slot) = self.initial_report.lock() {
                        *slot = Some(report.message());
                    }
                }
            }
            let diagnostic_provider = self.supports_pull().then(|| {
                DiagnosticServerCapabilities::Options(DiagnosticOptions {
                    identifier: Some("cim-nix".into()),
                    inter_file_dependencies: false,
                    workspace_diagnostics: false,
                    work_done_progress_options: Default::default(),
                })
            });
            // Diagnostics may go out from now on: this answer is on its way.
            self.shared.initialized.store(true, Ordering::SeqCst);
            Ok(InitializeResult {
                capabilities: ServerCapabilities {
                    position_encoding: Some(convert::encoding_kind(encoding)),
                    text_document_sync: Some(TextDocumentSyncCapability::Options(
                        TextDocumentSyncOptions {
                            open_close: Some(true),
                            change: Some(TextDocumentSyncKind::INCREMENTAL),
                            will_save: None,
                            will_save_wait_until: None,
                            save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                                include_text: Some(false),
                            })),
                        },
                    )),
                    diagnostic_provider,
                    document_formatting_provider: Some(OneOf::Left(true)),
                    code_action_provider: Some(CodeActionProviderCapability::Options(
                        CodeActionOptions {
                            code_action_kinds: Some(vec![
                                CodeActionKind::QUICKFIX,
                                CodeActionKind::REFACTOR_REWRITE,
                                CodeActionKind::REFACTOR_INLINE,
                                CodeActionKind::new(super::features::FIX_ALL),
                            ]),
                            // Rewrites' edits are made when the client
                            // resolves them, if it can.
                            resolve_provider: Some(true),
                            ..Default::default()
                        },
                    )),
                    document_range_formatting_provider: Some(OneOf::Left(true)),
                    hover_provider: Some(HoverProviderCapability::Simple(true)),
                    definition_provider: Some(OneOf::Left(true)),
                    references_provider: Some(OneOf::Left(true)),
                    document_highlight_provider: Some(OneOf::Left(true)),
                    rename_provider: Some(OneOf::Right(RenameOptions {
                        prepare_provider: Some(true),
                        work_done_progress_options: Default::default(),
                    })),
                    document_symbol_provider: Some(OneOf::Left(true)),
                    completion_provider: Some(CompletionOptions {
                        trigger_characters: Some(vec![".".into()]),
                        resolve_provider: Some(true),
                        ..Default::default()
                    }),
                    workspace_symbol_provider: Some(OneOf::Left(true)),
                    folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                    selection_range_provider: Some(SelectionRangeProviderCapability::Simple(true)),
                    inlay_hint_provider: Some(OneOf::Left(true)),
                    semantic_tokens_provider: Some(
                        SemanticTokensServerCapabilities::SemanticTokensOptions(
                            SemanticTokensOptions {
                                legend: super::features::semantic_tokens_legend(),
                                range: Some(true),
                                full: Some(SemanticTokensFullOptions::Delta { delta: Some(true) }),
                                work_done_progress_options: Default::default(),
                            },
                        ),
                    ),
                    document_link_provider: Some(DocumentLinkOptions {
                        resolve_provider: Some(false),
                        work_done_progress_options: Default::default(),
                    }),
                    execute_command_provider: Some(ExecuteCommandOptions {
                        commands: super::features::migrate::commands(),
                        work_done_progress_options: Default::default(),
                    }),
                    experimental: Some(serde_json::json!({ "syntaxTree": true })),
                    ..ServerCapabilities::default()
                },
                server_info: Some(ServerInfo {
                    name: "cim-nix".into(),
                    version: Some(env!("CARGO_PKG_VERSION").into()),
                }),
            })
        })
        .await
    }

    async fn initialized(&self, _: InitializedParams) {
        let report = self.initial_report.lock().ok().and_then(|mut r| r.take());
        if let Some(message) = report {
            self.client
                .show_message(MessageType::WARNING, message)
                .await;
        }
        let caps = self.caps();
        let workspace = caps.workspace.clone().unwrap_or_default();
        let mut registrations = Vec::new();
        if workspace
            .did_change_configuration
            .and_then(|c| c.dynamic_registration)
            == Some(true)
        {
            registrations.push(Registration {
                id: "cim-nix-configuration".into(),
                method: "workspace/didChangeConfiguration".into(),
                register_options: None,
            });
        }
        if workspace
            .did_change_watched_files
            .and_then(|c| c.dynamic_registration)
            == Some(true)
        {
            let options = DidChangeWatchedFilesRegistrationOptions {
                watchers: vec![
                    FileSystemWatcher {
                        glob_pattern: GlobPattern::String(format!("**/{PROJECT_FILE}")),
                        kind: None,
                    },
                    FileSystemWatcher {
                        glob_pattern: GlobPattern::String("**/flake.lock".into()),
                        kind: None,
                    },
                    // Closed files the features read, and the index.
                    FileSystemWatcher {
                        glob_pattern: GlobPattern::String("**/*.nix".into()),
                        kind: None,
                    },
                ],
            };
            registrations.push(Registration {
                id: "cim-nix-project-files".into(),
                method: "workspace/didChangeWatchedFiles".into(),
                register_options: serde_json::to_value(options).ok(),
            });
        }
        if !registrations.is_empty() {
            let client = self.client.clone();
            tokio::spawn(async move {
                if let Err(e) = client.register_capability(registrations).await {
                    tracing::warn!("client/registerCapability failed: {e}");
                }
            });
        }
        self.refresh_configuration();
        if let Some(root) = self.shared.events.root().map(|r| r.to_path_buf()) {
            let progress = caps.window.and_then(|w| w.work_done_progress) == Some(true);
            super::index::build(self.shared.clone(), self.client.clone(), root, progress);
        }
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<Value>> {
        guarded("workspace/executeCommand", async {
            super::features::migrate::execute(&self.shared, &self.client, params).await
        })
        .await
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        let uri = params.text_document.uri;
        if is_project_file(&uri) {
            self.shared.settings.invalidate_projects();
            self.shared.worker.reconfigure();
            configure_events(&self.shared);
        }
        if uri.path().ends_with("/flake.lock") {
            self.shared.worker.analyze_all();
        }
        ServerEvents::saved(&self.shared, &uri);
        if let Ok(path) = uri.to_file_path() {
            if path.extension().is_some_and(|e| e == "nix") {
                self.shared.files.forget(&path);
                let shared = self.shared.clone();
                tokio::task::spawn_blocking(move || shared.index.refresh(&shared, &path));
            }
        }
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        self.shared.settings.invalidate_projects();
        let caps = self.caps();
        let pulls = caps.workspace.as_ref().and_then(|w| w.configuration) == Some(true);
        if !pulls && !params.settings.is_null() {
            // Clients that cannot answer workspace/configuration push settings here.
            if let Some(report) = self
                .shared
                .settings
                .set_client_layer(ClientLayer::WorkspaceConfiguration, &params.settings)
            {
                self.client
                    .show_message(MessageType::WARNING, report.message())
                    .await;
            }
        }
        self.refresh_configuration();
        if self.shared.pull_mode.load(Ordering::Relaxed) {
            let refresh = caps
                .workspace
                .and_then(|w| w.diagnostic)
                .and_then(|d| d.refresh_support)
                == Some(true);
            if refresh {
                let client = self.client.clone();
                tokio::spawn(async move {
                    let _ = client.workspace_diagnostic_refresh().await;
                });
            }
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let nix_files: Vec<std::path::PathBuf> = params
            .changes
            .iter()
            .filter_map(|c| c.uri.to_file_path().ok())
            .filter(|p| p.extension().is_some_and(|e| e == "nix"))
            .collect();
        if !nix_files.is_empty() {
            for path in &nix_files {
                self.shared.files.forget(path);
            }
            let shared = self.shared.clone();
            tokio::task::spawn_blocking(move || {
                for path in nix_files {
                    shared.index.refresh(&shared, &path);
                }
            });
        }
        if params.changes.iter().any(|c| is_project_file(&c.uri)) {
            self.shared.settings.invalidate_projects();
            self.shared.worker.reconfigure();
            configure_events(&self.shared);
        }
        let locks: Vec<std::path::PathBuf> = params
            .changes
            .iter()
            .filter(|c| c.uri.path().ends_with("/flake.lock"))
            .filter_map(|c| c.uri.to_file_path().ok())
            .collect();
        if !locks.is_empty() {
            self.shared.worker.analyze_all();
            for lock in locks {
                ServerEvents::lock_changed(&self.shared, &lock);
            }
        }
    }

    async fn diagnostic(
        &self,
        params: DocumentDiagnosticParams,
    ) -> Result<DocumentDiagnosticReportResult> {
        guarded("textDocument/diagnostic", async {
            {
                let mut pushed = self.shared.pushed.lock().unwrap_or_else(|e| e.into_inner());
                if !self.shared.pull_mode.swap(true, Ordering::SeqCst) {
                    // The client pulls: clear what was pushed so nothing
                    // shows twice.
                    let uris: Vec<Url> = pushed.drain().collect();
                    for uri in uris {
                        self.shared.clear_diagnostics_locked(&mut pushed, uri);
                    }
                }
            }
            let analysis = self
                .shared
                .documents
                .analysis(&params.text_document.uri)
                .await
                .map_err(not_open)?;
            let result_id = analysis.revision.to_string();
            let report = if params.previous_result_id.as_deref() == Some(result_id.as_str()) {
                DocumentDiagnosticReport::Unchanged(RelatedUnchangedDocumentDiagnosticReport {
                    related_documents: None,
                    unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport {
                        result_id,
                    },
                })
            } else {
                let encoding = self.shared.encoding();
                let items = analysis
                    .analysis
                    .diagnostics
                    .iter()
                    .map(|d| {
                        convert::diagnostic(
                            &params.text_document.uri,
                            &analysis.line_index,
                            d,
                            encoding,
                        )
                    })
                    .collect();
                DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
                    related_documents: None,
                    full_document_diagnostic_report: FullDocumentDiagnosticReport {
                        result_id: Some(result_id),
                        items,
                    },
                })
            };
            Ok(DocumentDiagnosticReportResult::Report(report))
        })
        .await
    }
}

/// Starts or restarts event delivery with the workspace's settings.
fn configure_events(shared: &Shared) {
    let (settings, _) = shared.settings.for_workspace(shared.events.root());
    shared.events.configure(&settings);
}

fn is_project_file(uri: &Url) -> bool {
    uri.path().ends_with(&format!("/{PROJECT_FILE}"))
}

fn not_open(e: DocumentError) -> Error {
    Error {
        code: ErrorCode::InvalidParams,
        message: e.to_string().into(),
        data: None,
    }
}

/// Runs a handler, turning a panic into an internal error reply.
async fn guarded<T>(method: &str, handler: impl Future<Output = Result<T>>) -> Result<T> {
    match AssertUnwindSafe(handler).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => {
            let why = panics::message(&*panic);
            tracing::error!("{method} panicked: {why}");
            Err(Error {
                code: ErrorCode::InternalError,
                message: format!(
                    "cim-nix hit an internal error answering {method}: {why}; the server keeps \
                     running"
                )
                .into(),
                data: None,
            })
        }
    }
}

/// Sends the worker's messages to the client.
pub async fn publish(client: Client, mut rx: UnboundedReceiver<Outgoing>) {
    while let Some(item) = rx.recv().await {
        match item {
            Outgoing::Message(typ, message) => client.show_message(typ, message).await,
        }
    }
}
