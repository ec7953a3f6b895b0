//! Secrets written into the configuration: a string in a `.nix` file ends
//! up in the Nix store, which every user and process of the machine can
//! read (and every machine the closure is copied to).

use rnix::SyntaxKind::*;
use rnix::SyntaxNode;
use rowan::{TextRange, TextSize};

use super::{string_of, Cx};
use crate::diagnostic::registry::*;
use crate::diagnostic::{Diagnostic, Severity};

/// What the last part of a secret's key ends with (lower-cased).
pub(super) const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "psk",
    "privatekey",
    "private_key",
];

/// Keys that name where a secret is, or something about it, not the secret.
const NOT_SECRETS: &[&str] = &[
    "file",
    "path",
    "command",
    "cmd",
    "hash",
    "files",
    "paths",
    "dir",
    "name",
    "length",
    "authentication",
    "prompt",
    "policy",
];

pub(super) fn check(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    let secrets = (cx.on)(SECRET_IN_STORE);
    let hashes = (cx.on)(HASHED_PASSWORD_IN_STORE);
    if !secrets && !hashes {
        return;
    }
    for (key, binding) in secret_bindings(cx) {
        let Some(value) = binding.last_child() else {
            continue;
        };
        let Some(text) = string_of(&value) else {
            continue;
        };
        let lower = key.to_ascii_lowercase();
        if lower.starts_with("hashed") || lower.starts_with("initialhashed") {
            if hashes && text.starts_with('$') {
                let mut finding = Diagnostic::new(
                    HASHED_PASSWORD_IN_STORE,
                    value.text_range(),
                    "a password hash in the configuration lands in the world-readable Nix \
                     store, where anyone can try to crack it offline; use \
                     `hashedPasswordFile` with a file outside the store",
                );
                finding.severity = Severity::Info;
                found.push(finding);
            }
            continue;
        }
        if secrets && looks_secret(&text) {
            found.push(Diagnostic::new(
                SECRET_IN_STORE,
                value.text_range(),
                format!(
                    "`{key}` is written here, so it lands in the world-readable Nix store \
                     (and in every copy of the closure); read it from a file at run time \
                     (a `{key}File`-style option, sops-nix or agenix)"
                ),
            ));
        }
    }
}

/// Whether a string value is a secret itself: not empty, not a path to
/// one, not a placeholder that activation replaces.
fn looks_secret(text: &str) -> bool {
    let placeholder =
        |open: char, close: char| text.len() > 2 && text.starts_with(open) && text.ends_with(close);
    !text.is_empty()
        && !text.starts_with('/')
        && !text.starts_with("$")
        && !placeholder('@', '@')
        && !placeholder('#', '#')
        && !placeholder('%', '%')
        && !(text.starts_with("{{") && text.ends_with("}}"))
}

/// Every `... key = value;` whose last key names a secret, with that key.
fn secret_bindings(cx: &Cx<'_>) -> Vec<(String, SyntaxNode)> {
    let mut seen: rustc_hash::FxHashSet<TextRange> = Default::default();
    let mut out = Vec::new();
    for needle in SECRET_KEYS {
        for &at in cx.words.of(needle) {
            let Ok(offset) = TextSize::try_from(at) else {
                continue;
            };
            let Some(token) = crate::syntax::token_at(cx.root, offset) else {
                continue;
            };
            // A key: an identifier, or the text of a quoted one.
            let attr = match token.kind() {
                TOKEN_IDENT => token.parent(),
                TOKEN_STRING_CONTENT => token.parent().filter(|s| s.kind() == NODE_STRING),
                _ => None,
            };
            let Some(attr) = attr else { continue };
            if !seen.insert(attr.text_range()) {
                continue;
            }
            let Some(path) = attr.parent().filter(|p| p.kind() == NODE_ATTRPATH) else {
                continue;
            };
            if path.last_child().as_ref() != Some(&attr) {
                continue;
            }
            let Some(binding) = path.parent().filter(|b| b.kind() == NODE_ATTRPATH_VALUE) else {
                continue;
            };
            let key = crate::analysis::semantic::static_attr_name(&attr)
                .map(|k| k.to_string())
                .unwrap_or_default();
            if names_secret(&key) {
                out.push((key, binding));
            }
        }
    }
    out.sort_by_key(|(_, b)| b.text_range().start());
    out
}

/// Whether a key names a secret (`password`, `adminPassword`,
/// `client_secret`) rather than where it is (`passwordFile`).
fn names_secret(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|s| lower.ends_with(s))
        && !NOT_SECRETS.iter().any(|n| lower.ends_with(n))
        || (lower.starts_with("hashed") && lower.ends_with("password"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_name_secrets() {
        for key in [
            "password",
            "adminPassword",
            "client_secret",
            "apiKey",
            "psk",
            "privateKey",
        ] {
            assert!(names_secret(key), "{key}");
        }
        for key in [
            "passwordFile",
            "tokenPath",
            "secretCommand",
            "passwordAuthentication",
            "user",
        ] {
            assert!(!names_secret(key), "{key}");
        }
    }

    #[test]
    fn values_that_are_secrets() {
        assert!(looks_secret("hunter2"));
        for not in [
            "",
            "/run/secrets/db",
            "@DB_PASSWORD@",
            "#password#",
            "$DB_PASSWORD",
        ] {
            assert!(!looks_secret(not), "{not}");
        }
    }
}
