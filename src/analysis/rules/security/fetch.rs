//! Fetching sources: without a hash, from a moving branch, with a weak or
//! placeholder hash. Fetchers are found from their names in the text:
//! builtins (`builtins.fetchGit`, `fetchTarball` under any spelling
//! `names` resolves) and nixpkgs' fetchers (`fetchurl`, `pkgs.fetchzip`,
//! `fetchFromGitHub`...), whatever set they come from.

use rnix::SyntaxKind::*;
use rnix::SyntaxNode;

use super::{bindings_named, expressions_named, member_of, string_of, strip, Cx};
use crate::analysis::names::{Global, Names};
use crate::diagnostic::registry::*;
use crate::diagnostic::{Diagnostic, Severity};

/// Fetchers whose result is fixed only by a hash.
pub(in crate::analysis::rules) const CONTENT_FETCHERS: &[&str] = &[
    "fetchurl",
    "fetchzip",
    "fetchTarball",
    "fetchpatch",
    "fetchpatch2",
    "fetchFromGitHub",
    "fetchFromGitLab",
    "fetchFromGitea",
    "fetchFromCodeberg",
    "fetchFromSourcehut",
    "fetchFromBitbucket",
    "fetchFromSavannah",
    "fetchFromRepoOrCz",
    "fetchgit",
    "fetchsvn",
    "fetchhg",
    "fetchCrate",
    "fetchPypi",
];

/// The other names this family looks for in the text besides the
/// fetchers (for the test that the single pass finds each).
#[cfg(test)]
pub(in crate::analysis::rules) const ALSO_LOOKED_UP: &[&str] = &[
    "fetchGit",
    "fakeHash",
    "fakeSha256",
    "fakeSha512",
    "md5",
    "sha1",
    "outputHashAlgo",
];

/// The keys whose value is a hash to fill in (`hash = "";` is a
/// placeholder).
pub(in crate::analysis::rules) const HASH_VALUE_KEYS: &[&str] = &[
    "hash",
    "sha256",
    "sha512",
    "outputHash",
    "cargoHash",
    "vendorHash",
    "npmDepsHash",
];

/// The attributes that fix what a fetch returns.
const HASHES: &[&str] = &[
    "hash",
    "sha256",
    "sha512",
    "sha1",
    "md5",
    "outputHash",
    "narHash",
];

/// A call of a fetcher: its name (as nixpkgs or builtins calls it), the
/// function expression, and the argument.
pub(super) struct Fetch {
    pub name: &'static str,
    pub builtin: bool,
    pub function: SyntaxNode,
    pub argument: SyntaxNode,
}

pub(super) fn check(cx: &Cx<'_>, names: &Names<'_>, found: &mut Vec<Diagnostic>) {
    let fetches = if (cx.on)(FETCH_NO_HASH) || (cx.on)(FETCH_UNPINNED_REF) || (cx.on)(INSECURE_URL)
    {
        fetches(cx, names)
    } else {
        Vec::new()
    };
    for fetch in &fetches {
        if (cx.on)(FETCH_NO_HASH) {
            no_hash(fetch, found);
        }
        if (cx.on)(FETCH_UNPINNED_REF) {
            unpinned(fetch, found);
        }
        if (cx.on)(INSECURE_URL) {
            super::urls::fetched(fetch, found);
        }
    }
    if (cx.on)(WEAK_HASH) {
        weak_hashes(cx, found);
    }
    if (cx.on)(FAKE_HASH) {
        fake_hashes(cx, names, found);
    }
}

/// Every fetcher call of the file, found from the fetchers' names.
pub(super) fn fetches(cx: &Cx<'_>, names: &Names<'_>) -> Vec<Fetch> {
    let mut out = Vec::new();
    for &name in CONTENT_FETCHERS.iter().chain(&["fetchGit"]) {
        for function in expressions_named(cx, name) {
            let Some(apply) = function.parent().filter(|a| a.kind() == NODE_APPLY) else {
                continue;
            };
            if apply.first_child().as_ref() != Some(&function) {
                continue;
            }
            let Some(argument) = apply.last_child().filter(|a| a != &function) else {
                continue;
            };
            let denoted = names.of(&function);
            let builtin = matches!(&denoted, Some(Global::Builtin(b)) if b == name);
            // `fetchGit` is only builtins'; nixpkgs' is `fetchgit`.
            if name == "fetchGit" && !builtin {
                continue;
            }
            // A name bound to something else in this file is not the fetcher.
            if denoted.is_none() && super::is_local_function(names, &function) {
                continue;
            }
            out.push(Fetch {
                name,
                builtin,
                function,
                argument: strip(&argument),
            });
        }
    }
    out
}

fn has_any(set: &SyntaxNode, keys: &[&str]) -> bool {
    keys.iter().any(|k| member_of(set, k).is_some())
}

fn no_hash(fetch: &Fetch, found: &mut Vec<Diagnostic>) {
    let arg = &fetch.argument;
    let missing = match arg.kind() {
        // `builtins.fetchTarball "https://..."`: a URL alone.
        NODE_STRING => fetch.name != "fetchGit",
        NODE_ATTR_SET => {
            // An `inherit` or `//` could bring the hash in: only a set
            // literal whose keys are all written out is judged.
            let complete = !arg.children().any(|c| c.kind() == NODE_INHERIT);
            let pinned_git = fetch.name == "fetchGit" && has_any(arg, &["rev"]);
            complete && !pinned_git && fetch.name != "fetchGit" && !has_any(arg, HASHES)
        }
        _ => false,
    };
    if missing {
        found.push(Diagnostic::new(
            FETCH_NO_HASH,
            fetch.function.text_range(),
            format!(
                "`{}` without a hash: what it downloads can change under the same URL, \
                 and nothing checks it; add `hash = \"\";`, build once and copy the hash \
                 Nix reports",
                fetch.name
            ),
        ));
    }
}

/// Branch names and channels that move.
const MOVING: &[&str] = &[
    "/archive/master.tar.gz",
    "/archive/main.tar.gz",
    "/archive/master.zip",
    "/archive/main.zip",
    "nixos-unstable",
    "nixpkgs-unstable",
    "/archive/refs/heads/",
];

fn unpinned(fetch: &Fetch, found: &mut Vec<Diagnostic>) {
    let arg = &fetch.argument;
    if fetch.name == "fetchGit" && fetch.builtin {
        let url = match arg.kind() {
            NODE_ATTR_SET => member_of(arg, "url"),
            _ => Some(arg.clone()),
        };
        // `fetchGit { url = ./.; }`: this repository's own files, which
        // are whatever is checked out, by design.
        let local = url.is_some_and(|u| {
            matches!(u.kind(), NODE_PATH_ABS | NODE_PATH_REL | NODE_PATH_HOME)
                || string_of(&u).is_some_and(|s| {
                    s.starts_with('/') || s.starts_with("./") || s.starts_with("file:")
                })
        });
        let unpinned = arg.kind() == NODE_STRING
            || (arg.kind() == NODE_ATTR_SET
                && !arg.children().any(|c| c.kind() == NODE_INHERIT)
                && !has_any(arg, &["rev"]));
        if unpinned && !local {
            found.push(Diagnostic::new(
                FETCH_UNPINNED_REF,
                fetch.function.text_range(),
                "`fetchGit` without a `rev` takes whatever the branch points at when it \
                 runs: each evaluation can build different code; pin `rev = \"<commit>\";`",
            ));
        }
        return;
    }
    let url = match arg.kind() {
        NODE_STRING => Some(arg.clone()),
        NODE_ATTR_SET => member_of(arg, "url"),
        _ => None,
    };
    let Some(url) = url.filter(|u| u.kind() == NODE_STRING) else {
        return;
    };
    let text = url.text().to_string();
    if let Some(moving) = MOVING.iter().find(|m| text.contains(*m)) {
        found.push(Diagnostic::new(
            FETCH_UNPINNED_REF,
            url.text_range(),
            format!(
                "this URL follows a moving branch (`{}`): the content changes under it, so \
                 the build breaks or changes; use an archive of a commit or a tag",
                moving.trim_matches('/')
            ),
        ));
    }
}

/// `md5 = "..."`, `sha1 = "..."`, `outputHashAlgo = "md5"` in any set.
fn weak_hashes(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for key in ["md5", "sha1", "outputHashAlgo"] {
        for binding in bindings_named(cx, key) {
            let Some(value) = binding.last_child() else {
                continue;
            };
            let Some(text) = string_of(&value) else {
                continue;
            };
            let weak = match key {
                "outputHashAlgo" => matches!(text.as_str(), "md5" | "sha1"),
                _ => true,
            };
            if weak {
                let algorithm = if key == "outputHashAlgo" {
                    text.as_str()
                } else {
                    key
                };
                found.push(Diagnostic::new(
                    WEAK_HASH,
                    binding
                        .first_child()
                        .map_or(value.text_range(), |k| k.text_range()),
                    format!(
                        "{algorithm} is broken: a different file with the same {algorithm} \
                         can be made, so this hash does not pin the download; use `hash` \
                         with SHA-256 (`nix hash convert` turns what Nix reports into it)"
                    ),
                ));
            }
        }
    }
}

/// `lib.fakeHash`, `fakeSha256`, `fakeSha512`, and `hash = ""`.
fn fake_hashes(cx: &Cx<'_>, names: &Names<'_>, found: &mut Vec<Diagnostic>) {
    for fake in ["fakeHash", "fakeSha256", "fakeSha512"] {
        for expr in expressions_named(cx, fake) {
            let denoted = names.of(&expr);
            let is_fake = denoted.as_ref().and_then(|g| g.lib_function()) == Some(fake);
            if is_fake && is_hash_value(&expr) {
                let mut finding = Diagnostic::new(
                    FAKE_HASH,
                    expr.text_range(),
                    "a placeholder hash: the build fails until the real hash replaces it; \
                     build once and copy the hash Nix reports",
                );
                finding.severity = Severity::Info;
                found.push(finding);
            }
        }
    }
    for &key in HASH_VALUE_KEYS {
        for binding in bindings_named(cx, key) {
            let Some(value) = binding.last_child() else {
                continue;
            };
            if string_of(&value).is_some_and(|s| s.is_empty()) {
                let mut finding = Diagnostic::new(
                    FAKE_HASH,
                    value.text_range(),
                    "an empty hash, left from finding the real one: the build fails until \
                     it is filled in; build once and copy the hash Nix reports",
                );
                finding.severity = Severity::Info;
                found.push(finding);
            }
        }
    }
}

/// Whether `expr` is (inside) the value of a hash attribute (`hash = ...`,
/// `cargoHash = "${...}"`): not text that shows how to write one, as an
/// option's `example`.
fn is_hash_value(expr: &SyntaxNode) -> bool {
    let Some(binding) = expr.ancestors().find(|a| a.kind() == NODE_ATTRPATH_VALUE) else {
        return false;
    };
    let key = binding
        .first_child()
        .and_then(|path| path.last_child())
        .map(|attr| attr.text().to_string())
        .unwrap_or_default();
    matches!(key.as_str(), "hash" | "sha256" | "sha512" | "outputHash")
        || key.ends_with("Hash")
        || key.ends_with("Sha256")
}
