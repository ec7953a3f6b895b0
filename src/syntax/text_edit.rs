//! Text edits in byte offsets: what fixes and formatting produce.

use rowan::TextRange;

/// Replace `range` (byte offsets into the old text) with `insert`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TextEdit {
    pub range: TextRange,
    pub insert: String,
}

impl TextEdit {
    pub fn delete(range: TextRange) -> TextEdit {
        TextEdit {
            range,
            insert: String::new(),
        }
    }

    pub fn replace(range: TextRange, insert: impl Into<String>) -> TextEdit {
        TextEdit {
            range,
            insert: insert.into(),
        }
    }
}

/// Applies `edits` (sorted, non-overlapping) to `text`.
pub fn apply_edits(text: &str, edits: &[TextEdit]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for edit in edits {
        let (start, end) = (
            usize::from(edit.range.start()),
            usize::from(edit.range.end()),
        );
        out.push_str(&text[at..start]);
        out.push_str(&edit.insert);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}
