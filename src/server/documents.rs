//! The open documents: text, version, line index and latest analysis.
//!
//! Edits are applied by the transport's reader, the one place that sees
//! messages in arrival order, synchronously and before it reads the next
//! message. Every change bumps the document's `revision` (a server-wide
//! counter that, unlike the client's version, never goes backwards); an
//! analysis carries the revision it was computed from.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dashmap::DashMap;
use tokio::sync::Notify;
use tower_lsp::lsp_types::{Position, TextDocumentContentChangeEvent, Url};

use crate::ide::Analysis;
use crate::syntax::{LineCol, LineIndex, PositionEncoding};

pub struct Document {
    pub text: Arc<String>,
    pub version: i32,
    pub revision: u64,
    pub line_index: Arc<LineIndex>,
    /// The newest analysis computed, possibly of an older revision.
    pub analysis: Option<Arc<DocumentAnalysis>>,
    /// The newest analysis whose parse can be reused by incremental
    /// reparsing (one that did not end in an unexpected end of file): the
    /// next reparse starts from it, even across edits that broke the file.
    pub base: Option<Arc<DocumentAnalysis>>,
    /// The newest analysis whose parse has no error: while typing goes
    /// through broken states, the last complete tree still has the
    /// structure the rest of the file will have again.
    pub clean: Option<Arc<DocumentAnalysis>>,
    /// What the editor features kept of earlier revisions.
    pub memo: Arc<crate::ide::memo::Memo>,
}

/// An analysis of one revision of a document.
pub struct DocumentAnalysis {
    pub revision: u64,
    pub version: i32,
    pub text: Arc<String>,
    pub line_index: Arc<LineIndex>,
    pub analysis: Analysis,
    /// The settings it was made with: a settings refresh that changes
    /// nothing re-analyses nothing.
    pub settings: crate::config::Settings,
}

impl crate::ide::Source for DocumentAnalysis {
    fn text(&self) -> &str {
        &self.text
    }

    fn analysis(&self) -> &Analysis {
        &self.analysis
    }
}

/// What the worker needs to analyse a document.
pub struct Snapshot {
    pub text: Arc<String>,
    pub version: i32,
    pub revision: u64,
    pub line_index: Arc<LineIndex>,
    pub previous: Option<Arc<DocumentAnalysis>>,
    /// The newest analysis without syntax errors, when older than `previous`.
    pub clean: Option<Arc<DocumentAnalysis>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DocumentError {
    #[error("document {0} is not open; send textDocument/didOpen first")]
    NotOpen(Url),
}

#[derive(Default)]
pub struct Documents {
    map: DashMap<Url, Document>,
    next_revision: AtomicU64,
    /// Woken whenever an analysis is stored.
    analysed: Notify,
}

impl Documents {
    fn revision(&self) -> u64 {
        self.next_revision.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn open(&self, uri: Url, version: i32, text: String) {
        let line_index = Arc::new(LineIndex::new(&text));
        let document = Document {
            text: Arc::new(text),
            version,
            revision: self.revision(),
            line_index,
            analysis: None,
            base: None,
            clean: None,
            memo: Arc::default(),
        };
        self.map.insert(uri, document);
        self.analysed.notify_waiters();
    }

    pub fn close(&self, uri: &Url) -> bool {
        let closed = self.map.remove(uri).is_some();
        self.analysed.notify_waiters();
        closed
    }

    /// Applies `changes` in order. A version lower than the current one is a
    /// client bug, but the text is still kept in step with the client's.
    pub fn change(
        &self,
        uri: &Url,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
        encoding: PositionEncoding,
    ) -> Result<(), DocumentError> {
        let mut entry = self
            .map
            .get_mut(uri)
            .ok_or_else(|| DocumentError::NotOpen(uri.clone()))?;
        let doc: &mut Document = &mut entry;
        if version <= doc.version {
            tracing::warn!(
                "{uri}: version {version} after {}; applying the change anyway",
                doc.version
            );
        }
        for change in changes {
            let text = Arc::make_mut(&mut doc.text);
            match change.range {
                None => {
                    *text = change.text;
                    doc.line_index = Arc::new(LineIndex::new(&doc.text));
                }
                Some(range) => {
                    let index = &doc.line_index;
                    let start = index.offset(line_col(range.start), encoding);
                    let end = index.offset(line_col(range.end), encoding);
                    // A reversed range is read as the span between its ends.
                    let (start, end) = (usize::from(start.min(end)), usize::from(start.max(end)));
                    text.replace_range(start..end, &change.text);
                    doc.line_index =
                        Arc::new(index.edited(start, end, change.text.len(), &doc.text));
                }
            }
        }
        doc.version = version;
        doc.revision = self.revision();
        Ok(())
    }

    pub fn snapshot(&self, uri: &Url) -> Option<Snapshot> {
        let doc = self.map.get(uri)?;
        Some(Snapshot {
            text: doc.text.clone(),
            version: doc.version,
            revision: doc.revision,
            line_index: doc.line_index.clone(),
            previous: doc.base.clone(),
            clean: doc
                .clean
                .clone()
                .filter(|c| !doc.base.as_ref().is_some_and(|b| Arc::ptr_eq(b, c))),
        })
    }

    /// Stores an analysis unless the document was closed, or holds a newer
    /// one. Returns whether it is the analysis of the current revision.
    pub fn store(&self, uri: &Url, analysis: Arc<DocumentAnalysis>) -> bool {
        let fresh = match self.map.get_mut(uri) {
            None => false,
            Some(mut doc) => {
                let newer = doc
                    .analysis
                    .as_ref()
                    .is_some_and(|a| a.revision > analysis.revision);
                let fresh = doc.revision == analysis.revision;
                if !newer {
                    let parse = analysis.analysis.parse.as_ref();
                    if parse.is_some_and(|p| p.errors_are_local()) {
                        doc.base = Some(analysis.clone());
                    }
                    if parse.is_some_and(|p| p.green().is_some() && p.errors().is_empty()) {
                        doc.clean = Some(analysis.clone());
                    }
                    doc.analysis = Some(analysis);
                }
                fresh
            }
        };
        self.analysed.notify_waiters();
        fresh
    }

    /// The stored analysis of exactly `revision`, if the worker has made it.
    pub fn analysis_of(&self, uri: &Url, revision: u64) -> Option<Arc<DocumentAnalysis>> {
        let doc = self.map.get(uri)?;
        doc.analysis
            .as_ref()
            .filter(|a| a.revision == revision)
            .cloned()
    }

    /// The document's memo of the features' work, while it is open.
    pub fn memo(&self, uri: &Url) -> Option<Arc<crate::ide::memo::Memo>> {
        self.map.get(uri).map(|d| d.memo.clone())
    }

    pub fn current_revision(&self, uri: &Url) -> Option<u64> {
        self.map.get(uri).map(|d| d.revision)
    }

    pub fn uris(&self) -> Vec<Url> {
        self.map.iter().map(|e| e.key().clone()).collect()
    }

    /// The analysis of the document's revision at the time of the call (or
    /// a newer one), waiting for the worker if needed.
    pub async fn analysis(&self, uri: &Url) -> Result<Arc<DocumentAnalysis>, DocumentError> {
        let wanted = self
            .current_revision(uri)
            .ok_or_else(|| DocumentError::NotOpen(uri.clone()))?;
        loop {
            let notified = self.analysed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.map.get(uri) {
                None => return Err(DocumentError::NotOpen(uri.clone())),
                Some(doc) => {
                    if let Some(a) = &doc.analysis {
                        if a.revision >= wanted {
                            return Ok(a.clone());
                        }
                    }
                }
            }
            notified.await;
        }
    }
}

fn line_col(p: Position) -> LineCol {
    LineCol {
        line: p.line,
        col: p.character,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp::lsp_types::Range;

    fn change(sl: u32, sc: u32, el: u32, ec: u32, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(sl, sc), Position::new(el, ec))),
            range_length: None,
            text: text.into(),
        }
    }

    #[test]
    fn incremental_changes_apply_in_order() {
        let docs = Documents::default();
        let uri = Url::parse("file:///a.nix").unwrap();
        docs.open(uri.clone(), 1, "{ a = 1; }\n".into());
        let changes = vec![
            change(0, 6, 0, 7, "42"),
            change(0, 2, 0, 3, "bé"),
            change(1, 0, 1, 0, "# 🦀"),
        ];
        docs.change(&uri, 2, changes, PositionEncoding::Utf16)
            .unwrap();
        let snap = docs.snapshot(&uri).unwrap();
        assert_eq!(snap.text.as_str(), "{ bé = 42; }\n# 🦀");
        assert_eq!(snap.version, 2);
        // Past the end of the line and of the document: clamped.
        docs.change(
            &uri,
            3,
            vec![change(0, 100, 9, 9, "")],
            PositionEncoding::Utf16,
        )
        .unwrap();
        assert_eq!(docs.snapshot(&uri).unwrap().text.as_str(), "{ bé = 42; }");
    }

    #[test]
    fn unknown_document_is_an_error() {
        let docs = Documents::default();
        let uri = Url::parse("file:///nope.nix").unwrap();
        let err = docs
            .change(&uri, 1, vec![], PositionEncoding::Utf16)
            .unwrap_err();
        assert!(err.to_string().contains("is not open"));
    }
}
