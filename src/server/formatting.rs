//! `textDocument/formatting` and `textDocument/rangeFormatting`.
//!
//! The transport stamps each formatting request with the document's
//! revision when the request arrived (see `transport::stamp_formatting`),
//! so the reply is always for the text the client asked about: if the
//! document changed since, the reply is ContentModified and the client asks
//! again. The edits are the minimal diff of the text and its formatted form.
//! Once a document has been formatted, the formatting of each later
//! revision is prepared when typing pauses ([`Prepared`]), so that
//! format-on-save finds it done.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use rowan::TextSize;
use serde::Deserialize;
use tokio::sync::OnceCell;
use tower_lsp::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp::lsp_types as lsp;

use super::{convert, Shared};
use crate::config::Settings;
use crate::format::{self, choose_style, edits_within, minimal_edits, FormatOptions, Style};
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
    let snapshot = shared
        .documents
        .snapshot(uri)
        .ok_or_else(|| Error::invalid_params(format!("{uri} is not open")))?;
    if snapshot.revision != revision {
        return Err(content_modified());
    }
    let encoding = shared.encoding();
    let line_index = snapshot.line_index.clone();
    // The whole document's edits, prepared since the edit or made now;
    // a range request keeps those inside its range.
    let outcome = whole_document(shared, uri, revision, true).await;
    // The client moved on while we formatted: these edits (or this error)
    // are for a text it no longer has.
    if shared.documents.current_revision(uri) != Some(revision) {
        return Err(content_modified());
    }
    let edits = outcome.map_err(|message| Error {
        code: ErrorCode::ServerError(-32803), // RequestFailed
        message: message.into(),
        data: None,
    })?;
    let edits = match range {
        Some(range) => {
            let range = convert::text_range(&line_index, range, encoding);
            edits_within(edits.to_vec(), range)
        }
        None => edits.to_vec(),
    };
    Ok(Some(convert::text_edits(&line_index, &edits, encoding)))
}

/// The edits that format the whole of `revision` of `uri`, or why it cannot
/// be formatted.
type Outcome = std::result::Result<Arc<Vec<format::TextEdit>>, String>;

/// Formatting prepared ahead of the request that will want it.
///
/// Format-on-save asks for the formatting of the text just typed, and the
/// save usually comes a moment after the last keystroke. So each revision
/// of an open document is formatted as soon as its analysis is done and no
/// newer edit came for a while: [`QUIET`] once the client has formatted the
/// document, [`QUIET_NEVER_FORMATTED`] before (setting `formatting.prepare`
/// turns this off). The save's request then finds the edits ready, or
/// joins the formatting already running. A request that comes first
/// formats it itself, and the preparation then finds it done: one revision
/// is never formatted twice.
pub struct Prepared {
    /// Documents formatted or prepared, with their latest revision's outcome.
    entries: DashMap<lsp::Url, Entry>,
    /// One preparation at a time: documents opened together are formatted
    /// one after another on one core, not all at once on every thread of
    /// the blocking pool. A request does not wait for this.
    one_at_a_time: tokio::sync::Semaphore,
}

impl Default for Prepared {
    fn default() -> Prepared {
        Prepared {
            entries: DashMap::new(),
            one_at_a_time: tokio::sync::Semaphore::new(1),
        }
    }
}

struct Entry {
    /// Whether the client has asked to format the document.
    asked: bool,
    revision: u64,
    settings: (Option<Style>, FormatOptions),
    outcome: Arc<OnceCell<Outcome>>,
    /// The latest revision formatted, and its formatted text: the next
    /// revision is formatted by reusing it where the style can.
    previous: Option<format::Formatted>,
}

/// How long a document must stay unchanged after its analysis before its
/// formatting is prepared: typing at full speed is not formatted at every
/// keystroke.
const QUIET: Duration = Duration::from_millis(30);

/// The same for a document the client has not formatted yet: it may never
/// ask (no format-on-save), so only a real pause is used, longer than the
/// gaps between keystrokes, and the first save after one is prepared too.
const QUIET_NEVER_FORMATTED: Duration = Duration::from_millis(250);

/// Bigger documents are formatted only when asked: preparing them at every
/// pause would cost more than it saves.
const PREPARE_MAX_BYTES: usize = 128 * 1024;

impl Prepared {
    /// The cell for the outcome of `revision`, made empty for a new revision
    /// or other settings. `asked`: for a client's request, which marks the
    /// document as one the client formats.
    fn cell(
        &self,
        uri: &lsp::Url,
        revision: u64,
        settings: &Settings,
        asked: bool,
    ) -> Arc<OnceCell<Outcome>> {
        let key = (settings.formatting_style, settings.format_options.clone());
        let mut entry = self.entries.entry(uri.clone()).or_insert_with(|| Entry {
            asked,
            revision,
            settings: key.clone(),
            outcome: Arc::default(),
            previous: None,
        });
        entry.asked |= asked;
        if entry.revision != revision || entry.settings != key {
            entry.revision = revision;
            entry.settings = key;
            entry.outcome = Arc::default();
        }
        entry.outcome.clone()
    }

    /// Whether the client has asked to format `uri` since it was opened.
    fn asked(&self, uri: &lsp::Url) -> bool {
        self.entries.get(uri).is_some_and(|e| e.asked)
    }

    /// Whether `text` is the output of the latest formatting of `uri`.
    fn just_formatted(&self, uri: &lsp::Url, text: &str) -> bool {
        self.entries.get(uri).is_some_and(|e| {
            e.previous
                .as_ref()
                .is_some_and(|p| p.input.as_str() != text && p.output.as_str() == text)
        })
    }

    /// Forgets a closed document.
    pub fn close(&self, uri: &lsp::Url) {
        self.entries.remove(uri);
    }

    /// The edits of a whole-document formatting request for the current
    /// revision of `uri`, when they are prepared already: the transport
    /// answers with them on arrival, with no async task in between.
    pub fn ready(shared: &Shared, uri: &lsp::Url) -> Option<Vec<lsp::TextEdit>> {
        let snapshot = shared.documents.snapshot(uri)?;
        let (settings, _) = shared.settings.for_document(uri);
        let key = (settings.formatting_style, settings.format_options.clone());
        let edits = {
            let entry = shared.prepared.entries.get(uri)?;
            if entry.revision != snapshot.revision || entry.settings != key {
                return None;
            }
            match entry.outcome.get()? {
                Ok(edits) => edits.clone(),
                Err(_) => return None, // the request path says why
            }
        };
        Some(convert::text_edits(
            &snapshot.line_index,
            &edits,
            shared.encoding(),
        ))
    }

    /// Called by the analysis worker when `revision` of `uri` is analysed
    /// (and `formatting.prepare` is on): prepares its formatting once the
    /// document stays unchanged a while.
    pub fn analysed(shared: &Arc<Shared>, uri: &lsp::Url, revision: u64, text: &str) {
        if text.len() > PREPARE_MAX_BYTES {
            return;
        }
        let quiet = if shared.prepared.just_formatted(uri, text) {
            // The client applied the formatting it asked for: it may go on
            // typing at once, and the next save is formatted fastest from
            // this text's own formatting.
            Duration::ZERO
        } else if shared.prepared.asked(uri) {
            QUIET
        } else {
            QUIET_NEVER_FORMATTED
        };
        let shared = shared.clone();
        let uri = uri.clone();
        shared.runtime.clone().spawn(async move {
            tokio::time::sleep(quiet).await;
            let current = || shared.documents.current_revision(&uri) == Some(revision);
            if !current() {
                return;
            }
            let Ok(_turn) = shared.prepared.one_at_a_time.acquire().await else {
                return;
            };
            if current() {
                let _ = whole_document(&shared, &uri, revision, false).await;
            }
        });
    }
}

/// The outcome for `revision` of `uri`: prepared, being prepared (then
/// waited for), or formatted now. `asked`: a client's request, which runs
/// any style; a preparation does not run `nixfmt`, a process of the
/// user's.
async fn whole_document(
    shared: &Arc<Shared>,
    uri: &lsp::Url,
    revision: u64,
    asked: bool,
) -> Outcome {
    let (settings, _) = shared.settings.for_document(uri);
    // Closed during the quiet period: nothing to prepare.
    if !asked && shared.documents.current_revision(uri).is_none() {
        return Err("closed".into());
    }
    let cell = shared.prepared.cell(uri, revision, &settings, asked);
    let job_shared = shared.clone();
    let job_uri = uri.clone();
    let outcome = cell
        .get_or_try_init(|| async move {
            tokio::task::spawn_blocking(move || {
                format_now(&job_shared, &job_uri, revision, &settings, asked)
            })
            .await
            .map_err(|e| Some(format!("formatting failed: {e}")))?
        })
        .await;
    if shared.documents.current_revision(uri).is_none() {
        shared.prepared.close(uri); // closed while it was being formatted
    }
    match outcome {
        Ok(outcome) => outcome.clone(),
        // Not prepared (nixfmt, or the document changed): nothing stored.
        Err(None) => Err("not prepared".into()),
        Err(Some(message)) => Err(message),
    }
}

/// Formats `revision` of `uri` on this thread. `Err(None)`: a preparation
/// that does not apply (nixfmt, or the revision is gone).
fn format_now(
    shared: &Shared,
    uri: &lsp::Url,
    revision: u64,
    settings: &Settings,
    asked: bool,
) -> std::result::Result<Outcome, Option<String>> {
    let started = std::time::Instant::now();
    let snapshot = shared.documents.snapshot(uri).ok_or(None)?;
    if snapshot.revision != revision {
        return Err(None);
    }
    let hints = uri
        .to_file_path()
        .ok()
        .as_deref()
        .and_then(|p| p.parent())
        .map(format_hints)
        .unwrap_or_default();
    let choice = choose_style(settings.formatting_style, &hints);
    if !asked && choice.style == Style::Nixfmt {
        return Err(None);
    }
    tracing::debug!("formatting with {} ({})", choice.style, choice.reason);
    let formatter = format::formatter(choice.style, &settings.format_options);
    let text = snapshot.text.as_str();
    // The worker's parse when it is done already (the usual case on save);
    // else parsed here, beside the analysis of the same edit.
    let analysed = shared.documents.analysis_of(uri, revision);
    let own;
    let parse = match analysed.as_ref().and_then(|a| a.analysis.parse.as_ref()) {
        Some(parse) => parse,
        None => {
            own = crate::syntax::parse(text);
            &own
        }
    };
    let index = &snapshot.line_index;
    let position = |offset: usize| {
        let pos = index.line_col(TextSize::from(offset as u32), PositionEncoding::Utf32);
        format!("{}:{}", pos.line + 1, pos.col + 1)
    };
    let previous = shared
        .prepared
        .entries
        .get(uri)
        .and_then(|e| e.previous.clone());
    let formatted = format::format_text_after(
        &snapshot.text,
        parse,
        formatter.as_ref(),
        previous.as_ref(),
        position,
    );
    Ok(match formatted {
        Ok(formatted) => {
            tracing::debug!(
                "formatted revision {revision} in {:?}{}",
                started.elapsed(),
                if formatted.reused() {
                    ", reusing the previous formatting"
                } else {
                    ""
                }
            );
            let edits = Arc::new(minimal_edits(text, &formatted.output));
            // Kept for the documents that are prepared: nixpkgs-fmt's
            // trees take about nine times the text each (14 MiB for
            // all-packages.nix), too much to keep for big files.
            if text.len() <= PREPARE_MAX_BYTES {
                if let Some(mut entry) = shared.prepared.entries.get_mut(uri) {
                    entry.previous = Some(formatted.clone());
                }
                // A reuse made the trees already; else parse them on
                // another thread: the reply does not wait for it.
                if !formatted.reused() {
                    shared.runtime.spawn_blocking(move || formatted.prepare());
                }
            }
            Ok(edits)
        }
        Err(e) => Err(e.to_string()),
    })
}

fn content_modified() -> Error {
    Error {
        code: ErrorCode::ServerError(-32801), // ContentModified
        message: "the document changed after formatting was requested; request it again".into(),
        data: None,
    }
}
