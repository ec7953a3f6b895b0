//! Writing Nix literals: whether a name can stand bare as an attribute,
//! and a string as a `"..."` literal with Nix's escapes. Used wherever a
//! fix or an edit writes a name or a string.

/// Whether `name` can be written as a bare attribute name.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\''))
        && !matches!(
            name,
            "if" | "then" | "else" | "let" | "in" | "with" | "rec" | "inherit" | "assert" | "or"
        )
}

/// `name` as an attribute name: bare when it can be, else quoted.
pub fn attr_name(name: &str) -> String {
    if is_identifier(name) && name != "or" {
        name.to_string()
    } else {
        string_literal(name)
    }
}

/// `"..."` with Nix's escapes.
pub fn string_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
