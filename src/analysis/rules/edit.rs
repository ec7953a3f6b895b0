//! Building blocks for fixes: removals that take their line or the
//! whitespace around them along, so the result reads as if the code had
//! never been there.

use rowan::{TextRange, TextSize};

use crate::syntax::TextEdit;

fn size(offset: usize) -> TextSize {
    TextSize::from(offset as u32)
}

/// Deletes `range`. When it is alone on its line(s), the whole lines go;
/// otherwise the spaces after it (or, at the end of a line, before it).
pub fn remove(text: &str, range: TextRange) -> TextEdit {
    let (start, end) = (usize::from(range.start()), usize::from(range.end()));
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let blank_before = text[line_start..start].trim().is_empty();
    let blank_after = text[end..line_end].trim().is_empty();
    if blank_before && blank_after {
        let through = (line_end + 1).min(text.len());
        return TextEdit::delete(TextRange::new(size(line_start), size(through)));
    }
    let spaces_after =
        text[end..line_end].len() - text[end..line_end].trim_start_matches([' ', '\t']).len();
    if spaces_after > 0 && !blank_after {
        return TextEdit::delete(TextRange::new(size(start), size(end + spaces_after)));
    }
    let before = &text[line_start..start];
    let spaces_before = before.len() - before.trim_end_matches([' ', '\t']).len();
    TextEdit::delete(TextRange::new(size(start - spaces_before), size(end)))
}

/// Deletes from `start` up to the next non-whitespace character.
pub fn remove_with_following_space(text: &str, range: TextRange) -> TextEdit {
    let end = usize::from(range.end());
    let rest = &text[end..];
    let spaces = rest.len() - rest.trim_start().len();
    TextEdit::delete(TextRange::new(range.start(), size(end + spaces)))
}

/// Merges the edits of several fixes into one set that can be applied
/// together: sorted, identical edits once, overlapping deletions joined;
/// an edit that overlaps another in any other way is dropped (a later round
/// of fixing picks it up).
pub fn merge(mut edits: Vec<TextEdit>) -> Vec<TextEdit> {
    edits.sort_by_key(|e| (e.range.start(), e.range.end()));
    edits.dedup();
    let mut merged: Vec<TextEdit> = Vec::with_capacity(edits.len());
    for edit in edits {
        if let Some(last) = merged.last_mut() {
            let overlaps = edit.range.start() < last.range.end()
                || (edit.range.start() == last.range.end()
                    && edit.range.is_empty()
                    && last.range.is_empty());
            if overlaps {
                if last.insert.is_empty() && edit.insert.is_empty() {
                    let end = last.range.end().max(edit.range.end());
                    last.range = TextRange::new(last.range.start(), end);
                }
                continue;
            }
        }
        merged.push(edit);
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::apply_edits;

    fn at(text: &str, needle: &str) -> TextRange {
        let start = text.find(needle).unwrap();
        TextRange::new(size(start), size(start + needle.len()))
    }

    #[test]
    fn a_binding_alone_on_its_line_takes_the_line() {
        let text = "let\n  a = 1;\n  b = 2;\nin b\n";
        let edit = remove(text, at(text, "a = 1;"));
        assert_eq!(apply_edits(text, &[edit]), "let\n  b = 2;\nin b\n");
    }

    #[test]
    fn a_binding_among_others_takes_its_spaces() {
        let text = "let a = 1; b = 2; in b";
        assert_eq!(
            apply_edits(text, &[remove(text, at(text, "a = 1;"))]),
            "let b = 2; in b"
        );
        let text = "{ a, b }: a";
        assert_eq!(
            apply_edits(text, &[remove(text, at(text, "b"))]),
            "{ a, }: a"
        );
    }

    #[test]
    fn overlapping_deletions_merge() {
        let edits = vec![
            TextEdit::delete(TextRange::new(size(2), size(5))),
            TextEdit::delete(TextRange::new(size(4), size(8))),
            TextEdit::replace(TextRange::new(size(6), size(7)), "x"),
            TextEdit::delete(TextRange::new(size(2), size(5))),
        ];
        assert_eq!(
            merge(edits),
            vec![TextEdit::delete(TextRange::new(size(2), size(8)))]
        );
    }
}
