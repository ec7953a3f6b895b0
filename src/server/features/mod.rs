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

mod code_actions;
mod information;
mod navigation;
mod structure;
mod tokens;

use super::backend::Backend;
use super::convert;
use super::documents::DocumentAnalysis;
use super::world::ServerWorld;
use super::Shared;
use crate::ide::{self, Doc, Source};
use crate::syntax::{LineIndex, PositionEncoding};

pub use super::formatting::Stamped;
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

pub(super) fn doc_of(uri: &Url, analysis: &Arc<DocumentAnalysis>) -> Rc<Doc> {
    let source: Arc<dyn Source> = analysis.clone();
    Rc::new(Doc::new(uri.to_file_path().ok(), source))
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
impl Backend {
    pub(super) fn position_params(
        &self,
        p: &lsp::TextDocumentPositionParams,
        analysis: &DocumentAnalysis,
    ) -> rowan::TextSize {
        convert::offset(&analysis.line_index, p.position, self.shared.encoding())
    }
}
