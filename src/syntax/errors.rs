//! rnix's parse errors, turned into messages a person can act on, located at
//! the offending token rather than at everything the parser skipped.

use rnix::{ParseError, SyntaxKind, SyntaxKind::*, SyntaxNode, SyntaxToken, TextRange, TextSize};
use rowan::WalkEvent;

use super::{SyntaxError, SyntaxErrorKind};

/// Converts rnix's errors, keeping the ones a person needs: one error for
/// the end of the file (the innermost), and no errors that only follow from
/// an earlier one in the same binding or bracket (rnix's recovery swallows
/// tokens up to the next `;`, and every construct it swallowed then reports
/// its own error).
pub(super) fn convert(root: &SyntaxNode, errors: &[ParseError]) -> Vec<SyntaxError> {
    let mut seen_eof = false;
    let mut converted = Vec::new();
    for error in errors {
        let is_eof = matches!(
            error,
            ParseError::UnexpectedEOF | ParseError::UnexpectedEOFWanted(_)
        );
        if is_eof {
            // rnix reports the innermost construct first.
            if seen_eof {
                continue;
            }
            seen_eof = true;
        }
        converted.push(convert_one(root, error));
    }
    converted.sort_by(|a, b| {
        (a.range.start(), a.range.end(), &a.message).cmp(&(
            b.range.start(),
            b.range.end(),
            &b.message,
        ))
    });
    converted.dedup();
    // Where the code ends: an error whose construct reaches this point
    // swallowed the rest of the file, and everything after it follows from it.
    let end = end_of_code(root).end();
    let mut kept: Vec<(SyntaxError, TextRange)> = Vec::new();
    for error in converted {
        let follows = kept.iter().any(|(previous, container)| {
            error.range.start() >= previous.range.start()
                && (error.range.start() < container.end() || container.end() >= end)
        });
        if !follows {
            let container = container_of(root, error.range.start());
            kept.push((error, container));
        }
    }
    kept.into_iter().map(|(e, _)| e).collect()
}

/// The range of the innermost binding or bracketed construct at `offset`.
fn container_of(root: &SyntaxNode, offset: TextSize) -> TextRange {
    let Some(token) = super::token_at(root, offset) else {
        return root.text_range();
    };
    token
        .parent_ancestors()
        .find(|n| {
            matches!(
                n.kind(),
                NODE_ATTRPATH_VALUE
                    | NODE_INHERIT
                    | NODE_PAT_ENTRY
                    | NODE_PAREN
                    | NODE_LIST
                    | NODE_STRING
                    | NODE_INTERPOL
                    | NODE_DYNAMIC
            )
        })
        .map_or(root.text_range(), |n| n.text_range())
}

fn convert_one(root: &SyntaxNode, error: &ParseError) -> SyntaxError {
    let (range, message) = match error {
        ParseError::Unexpected(range) => {
            let (token, range) = first_token(root, *range);
            unexpected(token.as_ref(), range, None)
        }
        ParseError::UnexpectedExtra(range) => {
            let (token, range) = first_token(root, *range);
            (
                range,
                format!(
                    "unexpected {} after the end of the expression; a Nix file holds exactly one \
                     expression",
                    describe_token(token.as_ref())
                ),
            )
        }
        ParseError::UnexpectedWanted(_, range, wanted) => {
            let (token, range) = first_token(root, *range);
            unexpected(token.as_ref(), range, Some(wanted))
        }
        ParseError::UnexpectedDoubleBind(range) => (
            *range,
            "a function pattern can be bound to a name only once (`args@{ ... }@more`)".into(),
        ),
        ParseError::DuplicatedArgs(range, name) => {
            (*range, format!("duplicate function argument `{name}`"))
        }
        ParseError::UnexpectedEOF => (end_of_code(root), eof_message(root)),
        ParseError::UnexpectedEOFWanted(wanted) => (
            end_of_code(root),
            format!("unexpected end of file, expected {}", describe_any(wanted)),
        ),
        ParseError::RecursionLimitExceeded => (
            recursion_limit_point(root),
            "expressions nested more than 512 levels deep; the rest of the file is not parsed"
                .into(),
        ),
        // rnix marks its error enum non-exhaustive.
        other => (end_of_code(root), other.to_string()),
    };
    SyntaxError {
        kind: SyntaxErrorKind::Syntax,
        range,
        message,
    }
}

/// The message for an unexpected token, with what was expected if known.
fn unexpected(
    token: Option<&SyntaxToken>,
    range: TextRange,
    wanted: Option<&[SyntaxKind]>,
) -> (TextRange, String) {
    if let Some(t) = token {
        // An unterminated string lexes as an error token inside it.
        if t.kind() == TOKEN_ERROR {
            if let Some(string) = t.parent_ancestors().find(|n| n.kind() == NODE_STRING) {
                let quote =
                    string
                        .first_token()
                        .map_or("\"", |q| if q.text() == "''" { "''" } else { "\"" });
                let open = string.first_token().map_or(range, |q| q.text_range());
                return (
                    open,
                    format!("unterminated string: this `{quote}` is never closed"),
                );
            }
        }
    }
    let got = describe_token(token);
    match wanted {
        Some(wanted) => (
            range,
            format!("unexpected {got}, expected {}", describe_any(wanted)),
        ),
        None => (range, format!("unexpected {got}")),
    }
}

/// "unexpected end of file", saying what was expected where that can be
/// told from the last token or the innermost unclosed bracket.
fn eof_message(root: &SyntaxNode) -> String {
    let mut last = root.last_token();
    while let Some(t) = &last {
        if !t.kind().is_trivia() {
            break;
        }
        last = t.prev_token();
    }
    let Some(last) = last else {
        return "unexpected end of file: the file is empty, but a Nix file must hold an expression"
            .into();
    };
    if needs_operand(last.kind()) {
        return format!(
            "unexpected end of file, expected an expression after {}",
            describe_kind(last.kind())
        );
    }
    for node in last.parent_ancestors() {
        let closer = match node.first_token().map(|t| t.kind()) {
            Some(TOKEN_L_PAREN) => TOKEN_R_PAREN,
            Some(TOKEN_L_BRACK) => TOKEN_R_BRACK,
            Some(TOKEN_L_BRACE | TOKEN_REC) => TOKEN_R_BRACE,
            Some(TOKEN_INTERPOL_START) => TOKEN_INTERPOL_END,
            Some(TOKEN_LET) if node.kind() == NODE_LET_IN => TOKEN_IN,
            _ => continue,
        };
        let closed = node.children_with_tokens().any(|c| c.kind() == closer);
        if !closed {
            return format!("unexpected end of file, expected {}", describe_kind(closer));
        }
    }
    "unexpected end of file".into()
}

/// Tokens that must be followed by an expression.
fn needs_operand(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        TOKEN_ADD
            | TOKEN_SUB
            | TOKEN_MUL
            | TOKEN_DIV
            | TOKEN_CONCAT
            | TOKEN_UPDATE
            | TOKEN_AND_AND
            | TOKEN_OR_OR
            | TOKEN_IMPLICATION
            | TOKEN_EQUAL
            | TOKEN_NOT_EQUAL
            | TOKEN_LESS
            | TOKEN_LESS_OR_EQ
            | TOKEN_MORE
            | TOKEN_MORE_OR_EQ
            | TOKEN_INVERT
            | TOKEN_PIPE_LEFT
            | TOKEN_PIPE_RIGHT
            | TOKEN_ASSIGN
            | TOKEN_COLON
            | TOKEN_IN
            | TOKEN_THEN
            | TOKEN_ELSE
            | TOKEN_IF
            | TOKEN_WITH
            | TOKEN_ASSERT
            | TOKEN_OR
    )
}

/// The first non-trivia token starting inside `range`, and its range; the
/// whole range when it holds no such token.
fn first_token(root: &SyntaxNode, range: TextRange) -> (Option<SyntaxToken>, TextRange) {
    let mut token = super::token_at(root, range.start());
    while let Some(t) = &token {
        if !t.kind().is_trivia() || t.text_range().start() >= range.end() {
            break;
        }
        token = t.next_token();
    }
    match token {
        Some(t) if range.contains_range(t.text_range()) => {
            let r = t.text_range();
            (Some(t), r)
        }
        _ => (None, range),
    }
}

/// Zero-width, just after the last token that is not whitespace or a comment.
fn end_of_code(root: &SyntaxNode) -> TextRange {
    let mut token = root.last_token();
    while let Some(t) = &token {
        if !t.kind().is_trivia() {
            return TextRange::empty(t.text_range().end());
        }
        token = t.prev_token();
    }
    TextRange::empty(TextSize::from(0))
}

/// rnix wraps everything after the point where it gave up in an error node
/// that runs to the end of the file; point at the first token of the deepest.
fn recursion_limit_point(root: &SyntaxNode) -> TextRange {
    let end = root.text_range().end();
    let mut best: Option<(u32, SyntaxNode)> = None;
    let mut depth = 0u32;
    for event in root.preorder() {
        match event {
            WalkEvent::Enter(node) => {
                depth += 1;
                if node.kind() == NODE_ERROR
                    && node.text_range().end() == end
                    && best.as_ref().is_none_or(|(d, _)| depth > *d)
                {
                    best = Some((depth, node));
                }
            }
            WalkEvent::Leave(_) => depth -= 1,
        }
    }
    match best {
        Some((_, node)) => first_token(root, node.text_range()).1,
        None => end_of_code(root),
    }
}

/// A token as the user typed it (`foo`, `;`), or its kind when long.
fn describe_token(token: Option<&SyntaxToken>) -> String {
    match token {
        Some(t) if t.kind() == TOKEN_STRING_START => "a string".into(),
        Some(t) if t.text().len() <= 24 && !t.text().contains(['\n', '\r', '`']) => {
            format!("`{}`", t.text())
        }
        Some(t) if t.kind() == TOKEN_ERROR => format!("`{}`", short(t.text())),
        Some(t) => describe_kind(t.kind()),
        None => "input".into(),
    }
}

fn short(text: &str) -> String {
    let mut s: String = text.chars().take(20).collect();
    if s.len() < text.len() {
        s.push_str("...");
    }
    s
}

fn describe_any(kinds: &[SyntaxKind]) -> String {
    use super::parser::EXPRESSION_START;
    if EXPRESSION_START.iter().all(|k| kinds.contains(k)) {
        return "an expression".into();
    }
    if kinds.contains(&TOKEN_IDENT) && kinds.contains(&TOKEN_OR) {
        return "an attribute name".into();
    }
    let mut names: Vec<String> = Vec::new();
    for name in kinds.iter().map(|k| describe_kind(*k)) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    match names.as_slice() {
        [] => "something else".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// A token kind as a person would name it: the literal text for
/// punctuation and keywords, a noun for the rest.
pub(super) fn describe_kind(kind: SyntaxKind) -> String {
    let text = match kind {
        TOKEN_ADD => "+",
        TOKEN_AND_AND => "&&",
        TOKEN_ASSIGN => "=",
        TOKEN_ASSERT => "assert",
        TOKEN_AT => "@",
        TOKEN_COLON => ":",
        TOKEN_COMMA => ",",
        TOKEN_CONCAT => "++",
        TOKEN_DIV => "/",
        TOKEN_DOT => ".",
        TOKEN_ELLIPSIS => "...",
        TOKEN_ELSE => "else",
        TOKEN_EQUAL => "==",
        TOKEN_IF => "if",
        TOKEN_IMPLICATION => "->",
        TOKEN_IN => "in",
        TOKEN_INHERIT => "inherit",
        TOKEN_INTERPOL_END => "}",
        TOKEN_INTERPOL_START => "${",
        TOKEN_INVERT => "!",
        TOKEN_L_BRACE => "{",
        TOKEN_L_BRACK => "[",
        TOKEN_L_PAREN => "(",
        TOKEN_LESS => "<",
        TOKEN_LESS_OR_EQ => "<=",
        TOKEN_LET => "let",
        TOKEN_MORE => ">",
        TOKEN_MORE_OR_EQ => ">=",
        TOKEN_MUL => "*",
        TOKEN_NOT_EQUAL => "!=",
        TOKEN_OR => "or",
        TOKEN_OR_OR => "||",
        TOKEN_PIPE_LEFT => "<|",
        TOKEN_PIPE_RIGHT => "|>",
        TOKEN_QUESTION => "?",
        TOKEN_R_BRACE => "}",
        TOKEN_R_BRACK => "]",
        TOKEN_R_PAREN => ")",
        TOKEN_REC => "rec",
        TOKEN_SEMICOLON => ";",
        TOKEN_SUB => "-",
        TOKEN_THEN => "then",
        TOKEN_UPDATE => "//",
        TOKEN_WITH => "with",
        TOKEN_IDENT | TOKEN_CUR_POS => return "an identifier".into(),
        TOKEN_INTEGER => return "an integer".into(),
        TOKEN_FLOAT => return "a float".into(),
        TOKEN_STRING_START => return "a string".into(),
        TOKEN_STRING_END => return "the end of a string".into(),
        TOKEN_STRING_CONTENT => return "string content".into(),
        TOKEN_URI => return "a URI".into(),
        TOKEN_PATH_ABS | TOKEN_PATH_REL | TOKEN_PATH_HOME | TOKEN_PATH_SEARCH => {
            return "a path".into()
        }
        TOKEN_COMMENT => return "a comment".into(),
        TOKEN_WHITESPACE => return "whitespace".into(),
        TOKEN_ERROR => return "invalid input".into(),
        other => return format!("{other:?}"),
    };
    format!("`{text}`")
}

#[cfg(test)]
mod tests {
    use crate::syntax::parse;

    /// (start, end, message) of every error, for compact assertions.
    fn errors(text: &str) -> Vec<(u32, u32, String)> {
        parse(text)
            .errors()
            .iter()
            .map(|e| {
                (
                    e.range.start().into(),
                    e.range.end().into(),
                    e.message.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn missing_semicolon_points_at_the_next_token() {
        let text = "{\n  a = 1\n  b = 2;\n}";
        let errs = errors(text);
        assert_eq!(errs.len(), 1, "{errs:?}");
        let (start, end, msg) = &errs[0];
        // The next line begins a member: the broken one ends before it.
        assert_eq!(&text[*start as usize..*end as usize], "b");
        assert_eq!(msg, "unexpected `b`, expected `;`");
    }

    #[test]
    fn unclosed_brace_is_reported_at_the_end_of_code() {
        let text = "{ a = 1; # note\n";
        let errs = errors(text);
        assert!(!errs.is_empty());
        assert!(errs.iter().all(|(s, e, _)| *s == 8 && *e == 8), "{errs:?}");
        assert!(errs[0].2.starts_with("unexpected end of file"));
    }

    #[test]
    fn extra_tokens_after_the_expression() {
        let errs = errors("1 )");
        assert_eq!(errs.len(), 1);
        assert_eq!((errs[0].0, errs[0].1), (2, 3));
        assert!(errs[0].2.starts_with("unexpected `)` after the end"));
    }

    #[test]
    fn recursion_limit_is_located() {
        let text = format!("{}1{}", "(".repeat(600), ")".repeat(600));
        let errs = errors(&text);
        let limit = errs
            .iter()
            .find(|e| e.2.contains("512"))
            .expect("limit error");
        assert!(limit.0 > 500 && limit.1 - limit.0 == 1, "{limit:?}");
    }
}
