//! Semantic tokens over LSP: full, range and delta. The legend is `ide`'s
//! (doc/ide.md lists it). A full answer is kept per document, under a
//! result id, so that the next delta request sends only what changed: one
//! edit replacing the part of the encoded array between the common prefix
//! and the common suffix. Tokens that span lines are sent line by line.

use std::sync::Arc;

use dashmap::DashMap;
use tower_lsp::jsonrpc::Result;
use tower_lsp::lsp_types::{self as lsp, Url};

use super::{doc_of, stamped, still_current, Stamped};
use crate::ide;
use crate::server::convert;
use crate::server::Shared;
use crate::syntax::{LineIndex, PositionEncoding};

/// The last full answer of each document.
#[derive(Default)]
pub struct SemanticTokensCache {
    last: DashMap<Url, (String, Arc<Vec<u32>>)>,
}

impl SemanticTokensCache {
    pub fn forget(&self, uri: &Url) {
        self.last.remove(uri);
    }
}

pub fn legend() -> lsp::SemanticTokensLegend {
    lsp::SemanticTokensLegend {
        token_types: ide::TOKEN_TYPES
            .iter()
            .map(|t| lsp::SemanticTokenType::new(t))
            .collect(),
        token_modifiers: ide::TOKEN_MODIFIERS
            .iter()
            .map(|m| lsp::SemanticTokenModifier::new(m))
            .collect(),
    }
}

/// Encodes tokens as LSP's relative integers (splitting those that span
/// lines), one at a time, as they are found (a file's 150 000
/// tokens are never kept as a list of their own).
pub struct Encoder<'a> {
    text: &'a str,
    index: &'a LineIndex,
    encoding: PositionEncoding,
    last: (u32, u32),
    pub data: Vec<u32>,
}

impl<'a> Encoder<'a> {
    pub fn new(text: &'a str, index: &'a LineIndex, encoding: PositionEncoding) -> Encoder<'a> {
        Encoder {
            text,
            index,
            encoding,
            last: (0, 0),
            // About one token per twelve bytes of Nix.
            data: Vec::with_capacity(text.len() / 12 * 5),
        }
    }

    pub fn push(&mut self, token: ide::SemanticToken) {
        let piece = &self.text[token.range];
        if !piece.contains(['\n', '\r']) {
            self.piece(token.range.start(), piece, token.kind, token.modifiers);
            return;
        }
        let mut start = usize::from(token.range.start());
        for line in piece.split_inclusive('\n') {
            let content = line.trim_end_matches(['\n', '\r']);
            self.piece(
                rowan::TextSize::from(start as u32),
                content,
                token.kind,
                token.modifiers,
            );
            start += line.len();
        }
    }

    fn piece(&mut self, start: rowan::TextSize, piece: &str, kind: u32, modifiers: u32) {
        if piece.is_empty() {
            return;
        }
        let at = self.index.line_col_from(self.last.0, start, self.encoding);
        let length = match self.encoding {
            _ if piece.is_ascii() => piece.len(),
            PositionEncoding::Utf8 => piece.len(),
            PositionEncoding::Utf16 => piece.encode_utf16().count(),
            PositionEncoding::Utf32 => piece.chars().count(),
        } as u32;
        let (last_line, last_col) = self.last;
        // Tokens come in order; one that does not (a bug) is left out
        // rather than sent as a position before the last.
        if (at.line, at.col) < (last_line, last_col) {
            debug_assert!(false, "semantic tokens out of order at {start:?}");
            return;
        }
        let delta_line = at.line - last_line;
        let delta_col = if delta_line == 0 {
            at.col - last_col
        } else {
            at.col
        };
        self.data
            .extend_from_slice(&[delta_line, delta_col, length, kind, modifiers]);
        self.last = (at.line, at.col);
    }
}

/// An edit of the encoded array: replace `delete` integers at `start`
/// with `data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokensEdit {
    pub start: usize,
    pub delete: usize,
    /// The integers that go in, as a range of the new array.
    pub data: std::ops::Range<usize>,
}

/// The one edit that turns `old` into `new`: the tokens between their
/// common prefix and common suffix (whole tokens of five integers).
pub fn delta(old: &[u32], new: &[u32]) -> Option<TokensEdit> {
    // Whole tokens of five integers, compared in place.
    let (old_len, new_len) = (old.len() / 5, new.len() / 5);
    let token = |data: &[u32], i: usize| -> [u32; 5] {
        let at = i * 5;
        [
            data[at],
            data[at + 1],
            data[at + 2],
            data[at + 3],
            data[at + 4],
        ]
    };
    let prefix = (0..old_len.min(new_len))
        .take_while(|&i| token(old, i) == token(new, i))
        .count();
    if prefix == old_len && prefix == new_len {
        return None;
    }
    let room = old_len.min(new_len) - prefix;
    let suffix = (1..=room)
        .take_while(|&k| token(old, old_len - k) == token(new, new_len - k))
        .count();
    Some(TokensEdit {
        start: prefix * 5,
        delete: (old_len - prefix - suffix) * 5,
        data: prefix * 5..(new_len - suffix) * 5,
    })
}

/// A semantic tokens answer, serialised from the flat integers (never as
/// 150 000 LSP token structs): full tokens, or one edit of the last ones.
pub struct TokensAnswer {
    result_id: Option<String>,
    data: Arc<Vec<u32>>,
    /// For a delta: the edit of the previous array (`None`: no change).
    edit: Option<Option<TokensEdit>>,
}

impl super::Answer for TokensAnswer {
    fn json_size(&self) -> usize {
        // Five numbers and their commas a token: about three bytes each.
        match &self.edit {
            None => self.data.len() * 3,
            Some(edit) => edit.as_ref().map_or(0, |e| e.data.len() * 3),
        }
    }
}

impl serde::Serialize for TokensAnswer {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        if let Some(id) = &self.result_id {
            map.serialize_entry("resultId", id)?;
        }
        match &self.edit {
            None => map.serialize_entry("data", self.data.as_slice())?,
            Some(edit) => {
                #[derive(serde::Serialize)]
                #[serde(rename_all = "camelCase")]
                struct Edit<'a> {
                    start: usize,
                    delete_count: usize,
                    data: &'a [u32],
                }
                let edits: Vec<Edit> = edit
                    .iter()
                    .map(|e| Edit {
                        start: e.start,
                        delete_count: e.delete,
                        data: &self.data[e.data.clone()],
                    })
                    .collect();
                map.serialize_entry("edits", &edits)?
            }
        }
        map.end()
    }
}

/// The encoded tokens of a document's stamped revision, with the
/// result id that names them.
async fn encoded_tokens(
    shared: &Arc<Shared>,
    uri: &Url,
    revision: Option<u64>,
    range: Option<lsp::Range>,
) -> Result<(String, Vec<u32>)> {
    let analysis = stamped(shared, uri, revision).await?;
    let encoding = shared.encoding();
    let data = {
        let doc = doc_of(shared, uri, &analysis);
        let range = range.map(|r| convert::text_range(&analysis.line_index, r, encoding));
        let mut encoder = Encoder::new(&analysis.text, &analysis.line_index, encoding);
        ide::semantic_tokens_with(&doc, range, &mut |token| encoder.push(token));
        encoder.data
    };
    still_current(shared, uri, analysis.revision)?;
    Ok((analysis.revision.to_string(), data))
}

pub async fn semantic_tokens_full(
    shared: &Arc<Shared>,
    params: Stamped<lsp::SemanticTokensParams>,
) -> Result<Option<TokensAnswer>> {
    let uri = &params.request.text_document.uri;
    let (id, data) = encoded_tokens(shared, uri, params.revision, None).await?;
    let data = Arc::new(data);
    shared
        .semantic_tokens
        .last
        .insert(uri.clone(), (id.clone(), data.clone()));
    Ok(Some(TokensAnswer {
        result_id: Some(id),
        data,
        edit: None,
    }))
}

pub async fn semantic_tokens_delta(
    shared: &Arc<Shared>,
    params: Stamped<lsp::SemanticTokensDeltaParams>,
) -> Result<Option<TokensAnswer>> {
    let request = &params.request;
    let uri = &request.text_document.uri;
    let (id, data) = encoded_tokens(shared, uri, params.revision, None).await?;
    let previous = shared
        .semantic_tokens
        .last
        .get(uri)
        .filter(|p| p.0 == request.previous_result_id)
        .map(|p| p.1.clone());
    let data = Arc::new(data);
    shared
        .semantic_tokens
        .last
        .insert(uri.clone(), (id.clone(), data.clone()));
    let edit = previous.map(|old| delta(&old, &data));
    Ok(Some(TokensAnswer {
        result_id: Some(id),
        data,
        edit,
    }))
}

pub async fn semantic_tokens_range(
    shared: &Arc<Shared>,
    params: Stamped<lsp::SemanticTokensRangeParams>,
) -> Result<Option<TokensAnswer>> {
    let request = &params.request;
    let uri = &request.text_document.uri;
    let (_, data) = encoded_tokens(shared, uri, params.revision, Some(request.range)).await?;
    Ok(Some(TokensAnswer {
        result_id: None,
        data: Arc::new(data),
        edit: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rowan::TextRange;

    #[test]
    fn tokens_on_several_lines_are_sent_line_by_line() {
        let text = "a\n''\n  é\n''";
        let index = LineIndex::new(text);
        let tokens = [
            ide::SemanticToken {
                range: TextRange::new(0.into(), 1.into()),
                kind: 5,
                modifiers: 0,
            },
            ide::SemanticToken {
                range: TextRange::new(2.into(), 12.into()),
                kind: 1,
                modifiers: 0,
            },
        ];
        let mut encoder = Encoder::new(text, &index, PositionEncoding::Utf16);
        for token in tokens {
            encoder.push(token);
        }
        let data = encoder.data;
        assert_eq!(
            data,
            [0, 0, 1, 5, 0, 1, 0, 2, 1, 0, 1, 0, 3, 1, 0, 1, 0, 2, 1, 0]
        );
    }

    #[test]
    fn a_delta_replaces_what_changed() {
        let old = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        let new = [1, 2, 3, 4, 5, 0, 0, 8, 9, 10];
        // The second token of five integers changed.
        let edit = delta(&old, &new).unwrap();
        assert_eq!(
            edit,
            TokensEdit {
                start: 5,
                delete: 5,
                data: 5..10
            }
        );
        assert_eq!(delta(&old, &old), None);
        // Growing at the end.
        let longer: Vec<u32> = old.iter().copied().chain([1, 1, 1, 1, 1]).collect();
        let edit = delta(&old, &longer).unwrap();
        assert_eq!((edit.start, edit.delete, edit.data), (10, 0, 10..15));
    }
}
