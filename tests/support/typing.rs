//! Typing as an editor does it, for the tests and the benches.

/// The insertions of typing `typed` at `at` in an editor that closes
/// brackets itself: each `(offset, text)` applies to the text after the
/// ones before it; a closing bracket the editor already added is stepped
/// over.
pub fn keystrokes(text: &str, at: usize, typed: &str) -> Vec<(usize, String)> {
    let mut keys = Vec::new();
    let mut current = text.to_string();
    let mut cursor = at;
    for c in typed.chars() {
        if matches!(c, '}' | ')' | ']') && current[cursor..].starts_with(c) {
            cursor += 1;
            continue;
        }
        let insert = match c {
            '{' => "{}".to_string(),
            '(' => "()".to_string(),
            '[' => "[]".to_string(),
            c => c.to_string(),
        };
        current.insert_str(cursor, &insert);
        keys.push((cursor, insert));
        cursor += c.len_utf8();
    }
    keys
}
