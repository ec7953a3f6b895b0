//! Transport checks turned off: curl without certificate checks, git and
//! Node.js told to accept any certificate, ssh told to accept any host key.
//! Each is found as a key (`GIT_SSL_NO_VERIFY = "1";` in an environment
//! set) or inside a string (`export GIT_SSL_NO_VERIFY=1` in a script).

use rnix::SyntaxKind::*;
use rnix::{SyntaxNode, SyntaxToken};
use rowan::{TextRange, TextSize};

use super::{binding_keyed_by, items, string_of, token_at, unwrap_value, Cx};
use crate::diagnostic::registry::*;
use crate::diagnostic::Diagnostic;

/// Variables and options that turn a check off, with the values that do,
/// and what is lost.
struct Switch {
    name: &'static str,
    /// Whether the name is matched in any case (ssh's keywords are;
    /// environment variables are not).
    any_case: bool,
    /// Whether a value turns the check off.
    off: fn(&str) -> bool,
    what: &'static str,
}

const SWITCHES: &[Switch] = &[
    Switch {
        name: "GIT_SSL_NO_VERIFY",
        any_case: false,
        off: |v| !matches!(v, "" | "0" | "false" | "no"),
        what: "git accepts any TLS certificate",
    },
    Switch {
        name: "NODE_TLS_REJECT_UNAUTHORIZED",
        any_case: false,
        off: |v| v == "0",
        what: "Node.js accepts any TLS certificate",
    },
    Switch {
        name: "StrictHostKeyChecking",
        any_case: true,
        off: |v| matches!(v.to_ascii_lowercase().as_str(), "no" | "off"),
        what: "ssh accepts any host key, even one that changed",
    },
];

pub(super) fn check(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    if !(cx.on)(TLS_VERIFY_OFF) {
        return;
    }
    curl_options(cx, found);
    for switch in SWITCHES {
        for &at in cx.words.of(switch.name) {
            let Some(token) = token_at(cx, at) else {
                continue;
            };
            if let Some(range) = switched_off(cx, switch, &token, at) {
                found.push(finding(range, switch.what, switch.name));
            }
        }
    }
}

fn finding(range: TextRange, what: &str, name: &str) -> Diagnostic {
    Diagnostic::new(
        TLS_VERIFY_OFF,
        range,
        format!(
            "`{name}` turns a check off: {what}, so anyone on the network path can stand in \
             for the server; remove it and trust the right certificate or host key instead"
        ),
    )
}

/// Where `switch` is set to a value that turns its check off, at the word
/// found at `at` (inside `token`).
fn switched_off(cx: &Cx<'_>, switch: &Switch, token: &SyntaxToken, at: usize) -> Option<TextRange> {
    if token.kind() == TOKEN_IDENT && token.text() == switch.name {
        // `GIT_SSL_NO_VERIFY = "1";` or `StrictHostKeyChecking = "no";`.
        let binding = binding_keyed_by(token)?;
        let value = unwrap_value(&binding.last_child()?);
        let text = scalar(cx, &value)?;
        return (switch.off)(&text).then(|| value.text_range());
    }
    if token.kind() != TOKEN_STRING_CONTENT {
        return None;
    }
    // A quoted key: `"GIT_SSL_NO_VERIFY" = "1";`.
    if token.text() == switch.name {
        if let Some(binding) = binding_keyed_by(token) {
            let value = unwrap_value(&binding.last_child()?);
            let text = scalar(cx, &value)?;
            return (switch.off)(&text).then(|| value.text_range());
        }
    }
    // Inside a script or a config text: `NAME=value`, `NAME value`,
    // `-o NAME=value`.
    let start = usize::from(token.text_range().start());
    let local = at.checked_sub(start)?;
    let text = token.text();
    let spelled = text.get(local..local + switch.name.len())?;
    if !switch.any_case && spelled != switch.name {
        return None;
    }
    // `-oStrictHostKeyChecking=no` is ssh's option `-o` with no space.
    let head = &text[..local];
    let before = head.chars().next_back();
    let glued_option = head.ends_with("-o");
    if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') && !glued_option {
        return None;
    }
    // A commented-out line of a script or a config file.
    let line_start = head.rfind('\n').map_or(0, |i| i + 1);
    if head[line_start..].contains('#') {
        return None;
    }
    let rest = &text[local + switch.name.len()..];
    let trimmed = rest.trim_start_matches([' ', '\t', '=']);
    if trimmed.len() == rest.len() {
        return None;
    }
    let unquoted = trimmed.trim_start_matches(['"', '\'', '\\']);
    let value: String = unquoted
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    if !(switch.off)(&value) {
        return None;
    }
    let quote = trimmed.len() - unquoted.len();
    let len = switch.name.len() + (rest.len() - trimmed.len()) + quote + value.len();
    Some(TextRange::at(
        TextSize::try_from(at).ok()?,
        TextSize::try_from(len).ok()?,
    ))
}

/// A value as the text it stands for: a string, a number, `true`/`false`.
fn scalar(cx: &Cx<'_>, value: &SyntaxNode) -> Option<String> {
    if let Some(text) = string_of(value) {
        return Some(text);
    }
    if let Some(b) = cx.value.bool_of(value) {
        return Some(b.to_string());
    }
    (value.kind() == NODE_LITERAL).then(|| value.text().to_string())
}

/// `curlOpts = "-k";`, `curlOptsList = [ "--insecure" ];`.
fn curl_options(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for &at in cx.words.of("curlOpts") {
        let Some(token) = token_at(cx, at) else {
            continue;
        };
        if !matches!(token.text(), "curlOpts" | "curlOptsList") {
            continue;
        }
        let Some(binding) = binding_keyed_by(&token) else {
            continue;
        };
        let Some(value) = binding.last_child().map(|v| unwrap_value(&v)) else {
            continue;
        };
        let strings = if value.kind() == NODE_LIST {
            items(&value)
        } else {
            vec![value]
        };
        for string in strings {
            let insecure = string_of(&string).is_some_and(|s| {
                s.split_whitespace().any(|flag| {
                    // `-k`, or short flags run together (`-fsSLk`).
                    flag == "--insecure"
                        || (flag.starts_with('-')
                            && !flag.starts_with("--")
                            && flag[1..].chars().all(|c| c.is_ascii_alphabetic())
                            && flag.contains('k'))
                })
            });
            if insecure {
                found.push(finding(
                    string.text_range(),
                    "curl accepts any TLS certificate",
                    "--insecure",
                ));
            }
        }
    }
}
