//! Secrets written into the configuration: a string in a `.nix` file ends
//! up in the Nix store, which every user and process of the machine can
//! read (and every machine the closure is copied to).

use rnix::SyntaxKind::*;
use rnix::SyntaxNode;
use rowan::{TextRange, TextSize};

use super::{calls_named, string_of, Cx, SECRET_KEYS};
use crate::analysis::names::Global;
use crate::diagnostic::registry::*;
use crate::diagnostic::{Diagnostic, Severity};

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
    if (cx.on)(SECRET_READFILE) {
        secret_files(cx, found);
    }
    let secrets = (cx.on)(SECRET_IN_STORE);
    let hashes = (cx.on)(HASHED_PASSWORD_IN_STORE);
    if !secrets && !hashes {
        return;
    }
    for (key, binding) in secret_bindings(cx) {
        let Some(value) = binding.last_child() else {
            continue;
        };
        if super::in_option_example(&binding) {
            continue;
        }
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
        // `{env:API_KEY}`: a reference a program resolves from its
        // environment.
        && !(text.starts_with("{env:") && text.ends_with('}'))
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

/// Functions that put a file into the store: those that read one (its
/// path is the first argument) and those that write one (its name is).
const STORE_FILES: &[(&str, bool)] = &[
    ("readFile", true),
    ("fileContents", true),
    ("toFile", false),
    ("writeText", false),
];

/// `readFile ./secrets/db`, `writeText "id_rsa" key`: a file whose name
/// says it is a secret, put into the world-readable store.
fn secret_files(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for &(name, reads) in STORE_FILES {
        for (function, args) in calls_named(cx, name) {
            let denoted = cx.names.of(&function);
            let is_it = match name {
                "readFile" | "toFile" => {
                    denoted.is_some_and(|g| g.is_builtin(name) || g.lib_function() == Some(name))
                }
                "fileContents" => denoted.is_some_and(|g| g.lib_function() == Some(name)),
                // nixpkgs' trivial builder: `pkgs.writeText`, `{ writeText }:`.
                _ => !matches!(denoted, Some(Global::Builtin(_)) | Some(Global::Lib(_))),
            };
            let Some(argument) = args.first().filter(|_| is_it) else {
                continue;
            };
            let Some(normal) = path_text(argument) else {
                continue;
            };
            if !secret_path(&normal) {
                continue;
            }
            let path = match argument.kind() {
                NODE_BIN_OP => argument.text().to_string(),
                _ => normal,
            };
            let message = if reads {
                format!(
                    "`{name}` copies `{path}` into the world-readable Nix store (and every \
                     copy of the closure); have the service read it at run time (a `*File` \
                     option, sops-nix or agenix)"
                )
            } else {
                format!(
                    "`{name}` writes a file named like a secret (`{path}`) into the \
                     world-readable Nix store; keep the secret out of the configuration and \
                     have the service read it at run time (sops-nix, agenix)"
                )
            };
            found.push(Diagnostic::new(
                SECRET_READFILE,
                argument.text_range(),
                message,
            ));
        }
    }
}

/// The text of a path or string argument (with interpolations as written),
/// without quotes.
fn path_text(node: &SyntaxNode) -> Option<String> {
    match node.kind() {
        NODE_PATH_ABS | NODE_PATH_REL | NODE_PATH_HOME => Some(node.text().to_string()),
        NODE_STRING => Some(
            string_of(node).unwrap_or_else(|| node.text().to_string().trim_matches('"').into()),
        ),
        // `./. + "/secrets/db"`, `./secrets + "/smtp"`
        NODE_BIN_OP => {
            let text = node.text().to_string();
            (text.len() < 256).then(|| text.replace(['"', ' ', '+'], ""))
        }
        _ => None,
    }
}

/// Whether a file's path says it holds a secret: `.env`, ssh private
/// keys, `*.key`, private `*.pem`, anything under `secrets/`; not what is
/// encrypted (`.age`, `.gpg`, sops files) or public (`.pub`, certificates).
fn secret_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let file = lower.rsplit('/').next().unwrap_or(&lower);
    let encrypted = [".age", ".gpg", ".asc", ".enc", ".pub", ".crt", ".cert"]
        .iter()
        .any(|e| file.ends_with(e))
        || file.contains(".sops.")
        || file.contains(".enc.")
        || file.contains("sops");
    if encrypted {
        return false;
    }
    let env = file == ".env"
        || (file.starts_with(".env.")
            && !["example", "sample", "template", "dist"]
                .iter()
                .any(|e| file.ends_with(e)));
    let ssh_key = ["id_rsa", "id_ed25519", "id_ecdsa", "id_dsa"]
        .iter()
        .any(|k| file.starts_with(k));
    let key = file.ends_with(".key");
    let pem = file.ends_with(".pem")
        && (file.contains("key")
            || !["cert", "chain", "ca.pem", "pub", "bundle"]
                .iter()
                .any(|c| file.contains(c)));
    let host_key = file.starts_with("ssh_host_") && file.ends_with("_key");
    let in_secrets = lower.starts_with("secrets/") || lower.contains("/secrets/");
    env || ssh_key || host_key || key || pem || in_secrets
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_that_hold_secrets() {
        for path in [
            "./.env",
            ".env.production",
            "~/.ssh/id_rsa",
            "./id_ed25519",
            "./tls/server.key",
            "./tls/privkey.pem",
            "./secrets/db-password",
            "./pki/ca-key.pem",
            "/etc/ssh/ssh_host_ed25519_key",
            "./secrets/smtp",
            "/etc/nixos/secrets/wifi",
        ] {
            assert!(secret_path(path), "{path}");
        }
        for path in [
            "./.env.example",
            "~/.ssh/id_rsa.pub",
            "./secrets/db.age",
            "./secrets/secrets.yaml.enc",
            "./secrets.sops.yaml",
            "./tls/cert.pem",
            "./tls/fullchain.pem",
            "./pki/ca.pem",
            "/etc/ssh/ssh_host_ed25519_key.pub",
            "./config/settings.json",
            "./keys.nix",
        ] {
            assert!(!secret_path(path), "{path}");
        }
    }

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
            "{env:CONTEXT7_API_KEY}",
        ] {
            assert!(!looks_secret(not), "{not}");
        }
    }
}
