//! `textDocument/formatting` and `textDocument/rangeFormatting`.
//!
//! The transport stamps each formatting request with the document's
//! revision when the request arrived (see `transport::stamp_formatting`),
//! so the reply is always for the text the client asked about: if the
//! document changed since, the reply is ContentModified and the client asks
//! again. The edits are the minimal diff of the text and its formatted form.

use std::sync::Arc;

use rowan::TextSize;
use serde::Deserialize;
use tower_lsp::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp::lsp_types as lsp;

use super::{convert, Shared};
use crate::format::{self, choose_style, edits_within, minimal_edits};
use crate::syntax::PositionEncoding;
use crate::workspace::format_hints;

/// The internal methods the transport renames formatting requests to.
pub const FORMATTING: &str = "cim-nix/internal/formatting";
pub const RANGE_FORMATTING: &str = "cim-nix/internal/rangeFormatting";

/// A formatting request with the revision its document had on arrival
/// (`None`: not open then).
#[derive(Debug, Deserialize)]
pub struct Stamped<P> {
    pub request: P,
    pub revision: Option<u64>,
}

pub async fn format(
    shared: &Arc<Shared>,
    uri: &lsp::Url,
    revision: Option<u64>,
    range: Option<lsp::Range>,
) -> Result<Option<Vec<lsp::TextEdit>>> {
    let Some(revision) = revision else {
        return Err(Error::invalid_params(format!(
            "{uri} is not open; open it (textDocument/didOpen) before formatting it"
        )));
    };
    // The text of that revision, parsed here rather than waiting for the
    // analysis worker: formatting runs beside the analysis of the same
    // edit, on the other core, instead of after it.
    let snapshot = shared
        .documents
        .snapshot(uri)
        .ok_or_else(|| Error::invalid_params(format!("{uri} is not open")))?;
    if snapshot.revision != revision {
        return Err(content_modified());
    }
    let encoding = shared.encoding();
    let (settings, _) = shared.settings.for_document(uri);
    let path = uri.to_file_path().ok();
    let text = snapshot.text.clone();
    // The worker's parse when it is done already (the usual case on save).
    let analysed = shared.documents.analysis_of(uri, revision);
    let line_index = snapshot.line_index.clone();
    let job_index = line_index.clone();
    let byte_range = range.map(|r| convert::text_range(&line_index, r, encoding));
    let job = move || -> std::result::Result<Vec<format::TextEdit>, String> {
        let hints = path
            .as_deref()
            .and_then(|p| p.parent())
            .map(format_hints)
            .unwrap_or_default();
        let choice = choose_style(settings.formatting_style, &hints);
        tracing::debug!("formatting with {} ({})", choice.style, choice.reason);
        let formatter = format::formatter(choice.style, &settings.format_options);
        let text = text.as_str();
        let own;
        let parse = match analysed.as_ref().and_then(|a| a.analysis.parse.as_ref()) {
            Some(parse) => parse,
            None => {
                own = crate::syntax::parse(text);
                &own
            }
        };
        let index = &job_index;
        let position = |offset: usize| {
            let pos = index.line_col(TextSize::from(offset as u32), PositionEncoding::Utf32);
            format!("{}:{}", pos.line + 1, pos.col + 1)
        };
        let formatted = format::format_text(text, parse, formatter.as_ref(), position)
            .map_err(|e| e.to_string())?;
        let edits = minimal_edits(text, &formatted);
        Ok(match byte_range {
            Some(range) => edits_within(edits, range),
            None => edits,
        })
    };
    let edits = tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| Error {
            code: ErrorCode::InternalError,
            message: format!("formatting failed: {e}").into(),
            data: None,
        })?
        .map_err(|message| Error {
            code: ErrorCode::ServerError(-32803), // RequestFailed
            message: message.into(),
            data: None,
        })?;
    // The client moved on while we formatted: these edits are for a text
    // it no longer has.
    if shared.documents.current_revision(uri) != Some(revision) {
        return Err(content_modified());
    }
    Ok(Some(convert::text_edits(&line_index, &edits, encoding)))
}

fn content_modified() -> Error {
    Error {
        code: ErrorCode::ServerError(-32801), // ContentModified
        message: "the document changed after formatting was requested; request it again".into(),
        data: None,
    }
}
