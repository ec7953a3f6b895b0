//! The editor features over LSP: each request about a document is stamped
//! by the transport with the document's revision on arrival, answered from
//! the analysis of exactly that revision through `ide`, and refused with
//! ContentModified when the document changed meanwhile: a result for a
//! text the client no longer has is never sent.
//!
//! This module translates: LSP positions to byte offsets and `ide`'s
//! results to LSP types, with paths as file URIs. What the features compute
//! is in `ide`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use tower_lsp::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp::lsp_types::{self as lsp, Url};

mod client;
mod code_actions;
mod information;
pub mod migrate;
mod navigation;
mod structure;
mod tokens;

use serde_json::Value;

use super::convert;
use super::documents::DocumentAnalysis;
use super::world::ServerWorld;
use super::Shared;
use crate::ide::{self, Doc, Source};
use crate::syntax::{LineIndex, PositionEncoding};

pub use super::formatting::Stamped;
pub use client::ClientSupport;
pub use code_actions::FIX_ALL;
pub use tokens::{legend as semantic_tokens_legend, SemanticTokensCache};

/// The requests the transport stamps, with their internal method names.
pub const STAMPED: &[(&str, &str)] = &[
    ("textDocument/hover", "cim-nix/stamped/hover"),
    ("textDocument/definition", "cim-nix/stamped/definition"),
    ("textDocument/references", "cim-nix/stamped/references"),
    (
        "textDocument/documentHighlight",
        "cim-nix/stamped/documentHighlight",
    ),
    (
        "textDocument/prepareRename",
        "cim-nix/stamped/prepareRename",
    ),
    ("textDocument/rename", "cim-nix/stamped/rename"),
    (
        "textDocument/documentSymbol",
        "cim-nix/stamped/documentSymbol",
    ),
    ("textDocument/documentLink", "cim-nix/stamped/documentLink"),
    ("textDocument/completion", "cim-nix/stamped/completion"),
    ("textDocument/foldingRange", "cim-nix/stamped/foldingRange"),
    (
        "textDocument/selectionRange",
        "cim-nix/stamped/selectionRange",
    ),
    ("textDocument/inlayHint", "cim-nix/stamped/inlayHint"),
    ("textDocument/codeAction", "cim-nix/stamped/codeAction"),
    (
        "textDocument/semanticTokens/full",
        "cim-nix/stamped/semanticTokens/full",
    ),
    (
        "textDocument/semanticTokens/full/delta",
        "cim-nix/stamped/semanticTokens/full/delta",
    ),
    (
        "textDocument/semanticTokens/range",
        "cim-nix/stamped/semanticTokens/range",
    ),
];

pub fn stamped_method(method: &str) -> Option<&'static str> {
    STAMPED
        .iter()
        .find(|(public, _)| *public == method)
        .map(|(_, internal)| *internal)
}

pub(super) fn content_modified() -> Error {
    Error {
        code: ErrorCode::ServerError(-32801),
        message: "the document changed after this was requested; request it again".into(),
        data: None,
    }
}

pub(super) fn request_failed(message: String) -> Error {
    Error {
        code: ErrorCode::ServerError(-32803),
        message: message.into(),
        data: None,
    }
}

/// The analysis of the revision a request was stamped with.
pub(super) async fn stamped(
    shared: &Shared,
    uri: &Url,
    revision: Option<u64>,
) -> Result<Arc<DocumentAnalysis>> {
    let Some(revision) = revision else {
        return Err(Error::invalid_params(format!(
            "document {uri} is not open; send textDocument/didOpen first"
        )));
    };
    if shared.documents.current_revision(uri) != Some(revision) {
        return Err(content_modified());
    }
    let analysis = shared
        .documents
        .analysis(uri)
        .await
        .map_err(|e| Error::invalid_params(e.to_string()))?;
    if analysis.revision != revision {
        return Err(content_modified());
    }
    Ok(analysis)
}

/// Refuses an answer computed for a revision the document has left.
pub(super) fn still_current(shared: &Shared, uri: &Url, revision: u64) -> Result<()> {
    if shared.documents.current_revision(uri) == Some(revision) {
        Ok(())
    } else {
        Err(content_modified())
    }
}

/// The `ide` view of a stored analysis, with the document's memo.
pub(super) fn doc_of(shared: &Shared, uri: &Url, analysis: &Arc<DocumentAnalysis>) -> Rc<Doc> {
    let source: Arc<dyn Source> = analysis.clone();
    let doc = Doc::new(uri.to_file_path().ok(), source);
    Rc::new(match shared.documents.memo(uri) {
        Some(memo) => doc.with_memo(memo),
        None => doc,
    })
}

/// Converts ranges of the requested file and of others (read through the
/// world) to LSP locations.
pub(super) struct Places<'a> {
    world: &'a ServerWorld<'a>,
    uri: &'a Url,
    index: &'a LineIndex,
    pub(super) encoding: PositionEncoding,
    others: HashMap<PathBuf, Option<(Url, LineIndex)>>,
}

impl<'a> Places<'a> {
    pub(super) fn new(
        world: &'a ServerWorld<'a>,
        uri: &'a Url,
        index: &'a LineIndex,
    ) -> Places<'a> {
        Places {
            world,
            uri,
            index,
            encoding: world.shared.encoding(),
            others: HashMap::new(),
        }
    }

    fn range(
        &mut self,
        file: Option<&PathBuf>,
        range: rowan::TextRange,
    ) -> Option<(Url, lsp::Range)> {
        let Some(path) = file else {
            return Some((
                self.uri.clone(),
                convert::range(self.index, range, self.encoding),
            ));
        };
        let world = self.world;
        let entry = self.others.entry(path.clone()).or_insert_with(|| {
            let uri = Url::from_file_path(path).ok()?;
            let source = ide::World::load(world, path)?;
            Some((uri, LineIndex::new(source.text())))
        });
        let (uri, index) = entry.as_ref()?;
        Some((uri.clone(), convert::range(index, range, self.encoding)))
    }

    fn location(
        &mut self,
        file: Option<&PathBuf>,
        range: rowan::TextRange,
    ) -> Option<lsp::Location> {
        let (uri, range) = self.range(file, range)?;
        Some(lsp::Location::new(uri, range))
    }
}
/// The byte offset of a request's position in the analysed text.
pub(super) fn position_params(
    shared: &Shared,
    p: &lsp::TextDocumentPositionParams,
    analysis: &DocumentAnalysis,
) -> rowan::TextSize {
    convert::offset(&analysis.line_index, p.position, shared.encoding())
}

/// Parses a request's params, or says what is wrong with them.
fn params<P: serde::de::DeserializeOwned>(params: Value) -> Result<P> {
    serde_json::from_value(params)
        .map_err(|e| Error::invalid_params(format!("invalid params: {e}")))
}

/// An answer to a request, with about how long its JSON is.
pub trait Answer: serde::Serialize {
    /// The expected length of the JSON, when it may be large.
    fn json_size(&self) -> usize {
        0
    }
}

impl<T: serde::Serialize> Answer for Option<T>
where
    T: Answer,
{
    fn json_size(&self) -> usize {
        self.as_ref().map_or(0, Answer::json_size)
    }
}

impl<T: serde::Serialize> Answer for Vec<T> {
    fn json_size(&self) -> usize {
        // Locations, highlights, folds: about a hundred bytes each.
        self.len() * 100
    }
}

macro_rules! small_answers {
    ($($t:ty),*) => { $(impl Answer for $t {})* };
}
small_answers!(
    (),
    lsp::Hover,
    lsp::GotoDefinitionResponse,
    lsp::PrepareRenameResponse,
    lsp::WorkspaceEdit,
    lsp::CompletionResponse,
    lsp::CompletionItem,
    lsp::CodeAction
);

/// Room left before a response's body for its header.
const HEADER_ROOM: usize = 40;

/// The JSON-RPC response frame to request `id` and where in its buffer it
/// starts: serialised straight from the result's type (a 3 MB symbol list
/// is never built as a JSON value tree), after room for the header, which
/// is then written in front of it (the body is never copied).
fn response<T: Answer>(id: &Value, result: Result<T>) -> (Vec<u8>, usize) {
    let body = body(id, result);
    let mut frame = body;
    let length = frame.len() - HEADER_ROOM;
    let header = format!("Content-Length: {length}\r\n\r\n");
    let start = HEADER_ROOM - header.len();
    frame[start..HEADER_ROOM].copy_from_slice(header.as_bytes());
    (frame, start)
}

/// The response's JSON, after [`HEADER_ROOM`] bytes of room.
fn body<T: Answer>(id: &Value, result: Result<T>) -> Vec<u8> {
    let capacity = result.as_ref().map_or(0, Answer::json_size);
    #[derive(serde::Serialize)]
    struct Reply<'a, T> {
        jsonrpc: &'static str,
        id: &'a Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<T>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<Error>,
    }
    let (result, error) = match result {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e)),
    };
    let reply = Reply {
        jsonrpc: "2.0",
        id,
        result,
        error,
    };
    // Big answers (symbols, tokens) are megabytes: room for all of it at
    // once, rather than growing by doubling (two copies alive at each step).
    let mut out = Vec::with_capacity(HEADER_ROOM + 256 + capacity);
    out.resize(HEADER_ROOM, b' ');
    if let Err(e) = serde_json::to_writer(&mut out, &reply) {
        out.truncate(HEADER_ROOM);
        let failed = serde_json::json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": -32603, "message": format!("cim-nix could not write its answer: {e}")},
        });
        let _ = serde_json::to_writer(&mut out, &failed);
    }
    out
}

/// Whether the transport hands `method` to [`answer`] rather than to
/// tower-lsp: the stamped requests, `completionItem/resolve`,
/// `codeAction/resolve` and `workspace/symbol`.
pub fn answers(method: &str) -> bool {
    stamped_method(method).is_some()
        || matches!(
            method,
            "completionItem/resolve" | "codeAction/resolve" | "workspace/symbol"
        )
}

/// Answers an editor-feature request: the response frame, and where in
/// the buffer it starts.
/// `revision` is the document's revision when the request arrived.
pub async fn answer(
    shared: Arc<Shared>,
    id: Value,
    method: String,
    raw: Value,
    revision: Option<u64>,
) -> (Vec<u8>, usize) {
    let handled = std::panic::AssertUnwindSafe(dispatch(&shared, &id, &method, raw, revision));
    match futures::FutureExt::catch_unwind(handled).await {
        Ok(body) => body,
        Err(panic) => {
            let why = crate::panics::message(&*panic);
            tracing::error!("{method} panicked: {why}");
            response::<()>(
                &id,
                Err(Error {
                    code: ErrorCode::InternalError,
                    message: format!(
                        "cim-nix hit an internal error answering {method}: {why}; the server \
                         keeps running"
                    )
                    .into(),
                    data: None,
                }),
            )
        }
    }
}

async fn dispatch(
    shared: &Arc<Shared>,
    id: &Value,
    method: &str,
    raw: Value,
    revision: Option<u64>,
) -> (Vec<u8>, usize) {
    macro_rules! stamped_request {
        ($handler:path) => {
            match params(raw) {
                Ok(request) => response(id, $handler(shared, Stamped { request, revision }).await),
                Err(e) => response::<()>(id, Err(e)),
            }
        };
    }
    match method {
        "textDocument/hover" => stamped_request!(information::hover),
        "textDocument/completion" => stamped_request!(information::completion),
        "textDocument/inlayHint" => stamped_request!(information::inlay_hint),
        "textDocument/definition" => stamped_request!(navigation::definition),
        "textDocument/references" => stamped_request!(navigation::references),
        "textDocument/documentHighlight" => stamped_request!(navigation::document_highlight),
        "textDocument/prepareRename" => stamped_request!(navigation::prepare_rename),
        "textDocument/rename" => stamped_request!(navigation::rename),
        "textDocument/documentSymbol" => stamped_request!(structure::document_symbol),
        "textDocument/documentLink" => stamped_request!(structure::document_link),
        "textDocument/foldingRange" => stamped_request!(structure::folding_range),
        "textDocument/selectionRange" => stamped_request!(structure::selection_range),
        "textDocument/codeAction" => stamped_request!(code_actions::code_action),
        "textDocument/semanticTokens/full" => stamped_request!(tokens::semantic_tokens_full),
        "textDocument/semanticTokens/full/delta" => {
            stamped_request!(tokens::semantic_tokens_delta)
        }
        "textDocument/semanticTokens/range" => stamped_request!(tokens::semantic_tokens_range),
        "codeAction/resolve" => match params(raw) {
            Ok(action) => response(id, code_actions::resolve_code_action(shared, action).await),
            Err(e) => response::<()>(id, Err(e)),
        },
        "completionItem/resolve" => match params(raw) {
            Ok(item) => response(id, information::resolve_completion_item(item).await),
            Err(e) => response::<()>(id, Err(e)),
        },
        "workspace/symbol" => match params(raw) {
            Ok(query) => response(id, structure::workspace_symbol(shared, query).await),
            Err(e) => response::<()>(id, Err(e)),
        },
        _ => response::<()>(id, Err(Error::method_not_found())),
    }
}
