//! A `"string"` as an `''indented string''` and back, with the same value:
//! escapes rewritten for the other style, interpolations kept, and an
//! indented string's stripped indentation taken into account. Where the
//! other style cannot say the same thing plainly (leading spaces on every
//! line, a trailing `'`), nothing is offered.

use rnix::ast::{self, InterpolPart};
use rnix::{SyntaxKind, SyntaxToken};
use rowan::ast::AstNode;

use super::{indent_at, Assist, AssistKind};
use crate::ide::Doc;
use crate::syntax::TextEdit;

use SyntaxKind::*;

/// A part of a string's value: text, or an interpolation's expression.
enum Part {
    Text(String),
    Code(String),
}

pub(super) fn assist(doc: &Doc, token: &SyntaxToken) -> Option<Assist> {
    let node = token
        .parent_ancestors()
        .take_while(|n| n.kind() != NODE_INTERPOL)
        .find(|n| n.kind() == NODE_STRING)?;
    // Attribute names stay as they are.
    if node
        .parent()
        .is_some_and(|p| matches!(p.kind(), NODE_ATTRPATH | NODE_DYNAMIC))
    {
        return None;
    }
    let string = ast::Str::cast(node.clone())?;
    let indented = node.first_token()?.text() == "''";
    let parts: Vec<Part> = string
        .normalized_parts()
        .into_iter()
        .map(|p| match p {
            InterpolPart::Literal(text) => Part::Text(text),
            InterpolPart::Interpolation(i) => Part::Code(
                i.expr()
                    .map(|e| e.syntax().text().to_string())
                    .unwrap_or_default(),
            ),
        })
        .collect();
    let text = doc.text();
    let (id, title, new) = if indented {
        ("to-string", "Write as a \"string\"", to_double(&parts))
    } else {
        let indent = indent_at(text, node.text_range().start());
        (
            "to-indented-string",
            "Write as an ''indented string''",
            to_indented(&parts, indent)?,
        )
    };
    Some(Assist {
        id,
        title: title.to_string(),
        kind: AssistKind::Rewrite,
        edits: vec![TextEdit::replace(node.text_range(), new)],
    })
}

/// Whether a `$` at the end of a text part is followed by an interpolation
/// (then it must be escaped, or `$${` would read as a literal `${`).
fn dollar_before_code(parts: &[Part], i: usize) -> bool {
    matches!(parts.get(i + 1), Some(Part::Code(_)))
}

fn to_double(parts: &[Part]) -> String {
    let mut out = String::from("\"");
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Code(code) => {
                out.push_str("${");
                out.push_str(code);
                out.push('}');
            }
            Part::Text(text) => {
                let mut chars = text.chars().peekable();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '"' => out.push_str("\\\""),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\t' => out.push_str("\\t"),
                        '$' if chars.peek() == Some(&'{')
                            || (chars.peek().is_none() && dollar_before_code(parts, i)) =>
                        {
                            out.push_str("\\$")
                        }
                        c => out.push(c),
                    }
                }
            }
        }
    }
    out.push('"');
    out
}

fn to_indented(parts: &[Part], indent: &str) -> Option<String> {
    // The value as indented-string source, lines kept apart.
    let mut body = String::new();
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Code(code) => {
                body.push_str("${");
                body.push_str(code);
                body.push('}');
            }
            Part::Text(text) => {
                let mut chars = text.chars().peekable();
                while let Some(c) = chars.next() {
                    match c {
                        '\'' if chars.peek() == Some(&'\'') => {
                            chars.next();
                            body.push_str("'''");
                        }
                        '\r' => body.push_str("''\\r"),
                        '\t' => body.push_str("''\\t"),
                        '$' if chars.peek() == Some(&'{')
                            || (chars.peek().is_none() && dollar_before_code(parts, i)) =>
                        {
                            body.push_str("''$")
                        }
                        c => body.push(c),
                    }
                }
            }
        }
    }
    // A `'` right before the closing `''` would read as `'''`.
    if body.ends_with('\'') {
        return None;
    }
    if !body.contains('\n') {
        // One line: Nix strips its leading spaces as indentation.
        if body.starts_with(' ') {
            return None;
        }
        return Some(format!("''{body}''"));
    }
    let lines: Vec<&str> = body.split('\n').collect();
    // Every line indented: the common indentation would be stripped.
    if lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .all(|l| l.starts_with(' '))
    {
        return None;
    }
    let inner = format!("{indent}  ");
    let mut out = String::from("''\n");
    let last = lines.len() - 1;
    for (i, line) in lines.iter().enumerate() {
        if !line.is_empty() {
            out.push_str(&inner);
            out.push_str(line);
        } else if i == last {
            // A value that ends with a line break: the closing quotes on a
            // line of their own, at the string's indentation.
            out.push_str(indent);
        }
        if i < last {
            out.push('\n');
        }
    }
    out.push_str("''");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::apply;

    #[test]
    fn both_ways() {
        assert_eq!(
            apply(r#"{ a = "x$0 \"y\" ${b} \${c}"; }"#, "to-indented-string").as_deref(),
            Some(r#"{ a = ''x "y" ${b} ''${c}''; }"#)
        );
        assert_eq!(
            apply("{\n  a = \"one$0\\ntwo\\n\";\n}", "to-indented-string").as_deref(),
            Some("{\n  a = ''\n    one\n    two\n  '';\n}")
        );
        assert_eq!(
            apply(
                "{\n  a = ''\n    one$0\n      two \"q\" ''${x}\n  '';\n}",
                "to-string"
            )
            .as_deref(),
            Some("{\n  a = \"one\\n  two \\\"q\\\" \\${x}\\n\";\n}")
        );
    }

    #[test]
    fn not_where_the_value_would_change() {
        assert_eq!(apply(r#""  leading$0""#, "to-indented-string"), None);
        assert_eq!(apply(r#""ends with '$0""#, "to-indented-string"), None);
        assert_eq!(apply("\"  a$0\\n  b\"", "to-indented-string"), None);
        // Attribute names stay quoted names.
        assert_eq!(apply("{ \"a$0\" = 1; }", "to-indented-string"), None);
    }
}
