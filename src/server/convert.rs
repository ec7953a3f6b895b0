//! Translation between the core's types (byte offsets, `Diagnostic`) and
//! LSP's (positions in the negotiated encoding). The only place that does.

use rowan::TextRange;
use tower_lsp::lsp_types::{
    self as lsp, ClientCapabilities, CodeDescription, NumberOrString, PositionEncodingKind,
};

use crate::diagnostic::registry::Tag;
use crate::diagnostic::{Diagnostic, Severity};
use crate::syntax::{LineIndex, PositionEncoding, TextEdit};

/// The encoding to use: UTF-8 when the client offers it (no conversion at
/// all), else UTF-32, else the mandatory UTF-16.
pub fn negotiate_encoding(caps: &ClientCapabilities) -> PositionEncoding {
    let offered = caps
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref());
    let offers = |kind: &PositionEncodingKind| offered.is_some_and(|o| o.contains(kind));
    if offers(&PositionEncodingKind::UTF8) {
        PositionEncoding::Utf8
    } else if offers(&PositionEncodingKind::UTF32) {
        PositionEncoding::Utf32
    } else {
        PositionEncoding::Utf16
    }
}

pub fn encoding_kind(encoding: PositionEncoding) -> PositionEncodingKind {
    match encoding {
        PositionEncoding::Utf8 => PositionEncodingKind::UTF8,
        PositionEncoding::Utf16 => PositionEncodingKind::UTF16,
        PositionEncoding::Utf32 => PositionEncodingKind::UTF32,
    }
}

pub fn range(index: &LineIndex, range: TextRange, encoding: PositionEncoding) -> lsp::Range {
    let (start, end) = index.range(range, encoding);
    lsp::Range::new(
        lsp::Position::new(start.line, start.col),
        lsp::Position::new(end.line, end.col),
    )
}

/// [`range`] for a range that starts on line `from` or a few lines after
/// it (ranges converted in source order): steps instead of searching.
pub fn range_from(
    index: &LineIndex,
    from: u32,
    range: TextRange,
    encoding: PositionEncoding,
) -> lsp::Range {
    let start = index.line_col_from(from, range.start(), encoding);
    let end = index.line_col_from(start.line, range.end(), encoding);
    lsp::Range::new(
        lsp::Position::new(start.line, start.col),
        lsp::Position::new(end.line, end.col),
    )
}

pub fn severity(severity: Severity) -> lsp::DiagnosticSeverity {
    match severity {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        Severity::Info => lsp::DiagnosticSeverity::INFORMATION,
        Severity::Hint => lsp::DiagnosticSeverity::HINT,
    }
}

/// Where a rule's documentation lives.
pub fn rule_doc_url(rule: &str) -> Option<lsp::Url> {
    // Parsed once per rule: a big file publishes hundreds per keystroke.
    static PARSED: std::sync::LazyLock<
        std::sync::Mutex<rustc_hash::FxHashMap<String, Option<lsp::Url>>>,
    > = std::sync::LazyLock::new(Default::default);
    let mut parsed = PARSED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(url) = parsed.get(rule) {
        return url.clone();
    }
    let url = lsp::Url::parse(&crate::diagnostic::docs::page_url(rule)).ok();
    parsed.insert(rule.to_string(), url.clone());
    url
}

pub fn diagnostic(
    uri: &lsp::Url,
    index: &LineIndex,
    d: &Diagnostic,
    encoding: PositionEncoding,
) -> lsp::Diagnostic {
    let tags: Vec<lsp::DiagnosticTag> = d
        .tags()
        .iter()
        .map(|t| match t {
            Tag::Unnecessary => lsp::DiagnosticTag::UNNECESSARY,
            Tag::Deprecated => lsp::DiagnosticTag::DEPRECATED,
        })
        .collect();
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .related
        .iter()
        .map(|r| lsp::DiagnosticRelatedInformation {
            location: lsp::Location::new(uri.clone(), range(index, r.range, encoding)),
            message: r.message.clone(),
        })
        .collect();
    lsp::Diagnostic {
        range: range(index, d.range, encoding),
        severity: Some(severity(d.severity)),
        code: Some(NumberOrString::String(d.rule.to_string())),
        code_description: rule_doc_url(d.rule).map(|href| CodeDescription { href }),
        source: Some("cim-nix".into()),
        message: d.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        tags: (!tags.is_empty()).then_some(tags),
        data: None,
    }
}

/// Core text edits as LSP ones.
pub fn text_edits(
    index: &LineIndex,
    edits: &[TextEdit],
    encoding: PositionEncoding,
) -> Vec<lsp::TextEdit> {
    edits
        .iter()
        .map(|e| lsp::TextEdit {
            range: range(index, e.range, encoding),
            new_text: e.insert.clone(),
        })
        .collect()
}

/// An LSP position as a byte offset (clamped to the text).
pub fn offset(index: &LineIndex, p: lsp::Position, encoding: PositionEncoding) -> rowan::TextSize {
    index.offset(
        crate::syntax::LineCol {
            line: p.line,
            col: p.character,
        },
        encoding,
    )
}

/// An LSP range as byte offsets (clamped to the text).
pub fn text_range(index: &LineIndex, r: lsp::Range, encoding: PositionEncoding) -> TextRange {
    let at = |p: lsp::Position| {
        index.offset(
            crate::syntax::LineCol {
                line: p.line,
                col: p.character,
            },
            encoding,
        )
    };
    let (start, end) = (at(r.start), at(r.end));
    TextRange::new(start.min(end), end.max(start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp::lsp_types::GeneralClientCapabilities;

    fn caps(encodings: &[PositionEncodingKind]) -> ClientCapabilities {
        ClientCapabilities {
            general: Some(GeneralClientCapabilities {
                position_encodings: Some(encodings.to_vec()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn encoding_negotiation() {
        use PositionEncodingKind as K;
        assert_eq!(
            negotiate_encoding(&ClientCapabilities::default()),
            PositionEncoding::Utf16
        );
        assert_eq!(
            negotiate_encoding(&caps(&[K::UTF16])),
            PositionEncoding::Utf16
        );
        assert_eq!(
            negotiate_encoding(&caps(&[K::UTF32, K::UTF16])),
            PositionEncoding::Utf32
        );
        assert_eq!(
            negotiate_encoding(&caps(&[K::UTF16, K::UTF8])),
            PositionEncoding::Utf8
        );
    }
}
