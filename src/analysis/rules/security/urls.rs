//! URLs fetched without transport security: fetchers' `url` and `urls`,
//! and binary caches (`substituters`), where a cache over http serves
//! whatever a man in the middle wants unless every path is signed.
//! Flake inputs are checked with the flake (`flake::diagnostics`).

use rnix::SyntaxKind::*;
use rnix::SyntaxNode;
use rowan::{TextRange, TextSize};

use super::fetch::Fetch;
use super::{items, member_of, string_of, string_prefix, Cx};
use crate::analysis::modules::Context;
use crate::diagnostic::registry::*;
use crate::diagnostic::{Diagnostic, Fix, Severity};
use crate::syntax::TextEdit;

/// The binary-cache settings of NixOS (`nix.binaryCaches` is renamed to
/// `substituters` by the module model) and of a flake's `nixConfig`.
const CACHE_SETTINGS: &[&str] = &[
    "substituters",
    "extra-substituters",
    "trusted-substituters",
    "extra-trusted-substituters",
];

pub(super) fn check(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    if !(cx.on)(INSECURE_URL) {
        return;
    }
    for setting in CACHE_SETTINGS {
        let path = ["nix", "settings", setting];
        for d in cx.modules().at(Context::System, &path) {
            caches(&d.value, found);
        }
    }
    if !cx.words.of("nixConfig").is_empty() {
        for (key, value) in super::flake_config(cx.root) {
            if CACHE_SETTINGS.contains(&key.as_str()) {
                caches(&value, found);
            }
        }
    }
}

fn caches(value: &SyntaxNode, found: &mut Vec<Diagnostic>) {
    let strings = if value.kind() == NODE_LIST {
        items(value)
    } else {
        vec![value.clone()]
    };
    for string in strings {
        let Some(url) = string_of(&string) else {
            continue;
        };
        for cache in url.split_whitespace() {
            if let Some(scheme) = insecure_scheme(cache) {
                let mut finding = insecure(
                    &string,
                    cache,
                    scheme,
                    format!(
                        "the binary cache `{cache}` is reached over {scheme}: anyone on the \
                         network path sees what this machine installs and can serve it \
                         other binaries if a signature check is ever off; use https"
                    ),
                );
                finding.severity = Severity::Error;
                found.push(finding);
            }
        }
    }
}

/// A fetcher's URL (`fetchurl "http://..."`, `url = ...`, `urls = [ ... ]`).
pub(super) fn fetched(fetch: &Fetch, found: &mut Vec<Diagnostic>) {
    let arg = &fetch.argument;
    let mut strings = Vec::new();
    match arg.kind() {
        NODE_STRING => strings.push(arg.clone()),
        NODE_ATTR_SET => {
            strings.extend(member_of(arg, "url"));
            if let Some(list) = member_of(arg, "urls") {
                strings.extend(items(&list));
            }
        }
        _ => {}
    }
    for string in strings {
        // `"http://example.org/tool-${version}.tar.gz"`: the scheme and
        // host come before the first interpolation.
        let Some(url) = string_prefix(&string) else {
            continue;
        };
        if let Some(scheme) = insecure_scheme(&url) {
            let after = if fetch.name == "fetchGit" || fetch.name == "fetchgit" {
                "; a `rev` still pins the commit, but the transfer can be read and stalled"
            } else {
                " (a hash only makes the build fail then)"
            };
            found.push(insecure(
                &string,
                &url,
                scheme,
                format!(
                    "`{}` downloads over {scheme}, which anyone on the network path can read \
                     and change{after}; use https",
                    fetch.name
                ),
            ));
        }
    }
}

/// The finding for `url` inside the string `node`, with a fix that
/// switches an http URL to https (not preferred: the host may not serve
/// https).
fn insecure(node: &SyntaxNode, url: &str, scheme: &str, message: String) -> Diagnostic {
    let finding = Diagnostic::new(INSECURE_URL, node.text_range(), message);
    let secure = match scheme {
        "http" => "https",
        "git+http" => "git+https",
        _ => return finding,
    };
    let literal = node.text().to_string();
    let Some(at) = literal.find(url) else {
        return finding;
    };
    let start = node.text_range().start() + TextSize::from(at as u32);
    let range = TextRange::at(start, TextSize::from(scheme.len() as u32));
    finding.with_fix(Fix {
        title: format!("Use {secure}"),
        edits: vec![TextEdit::replace(range, secure.to_string())],
        preferred: false,
    })
}

/// The URL schemes that fetch without transport security, and whether
/// `url` uses one for a host other than this machine.
pub fn insecure_scheme(url: &str) -> Option<&'static str> {
    let schemes = [
        "http://",
        "git://",
        "git+http://",
        "ftp://",
        "hg+http://",
        "tarball+http://",
        "file+http://",
    ];
    let scheme = schemes.into_iter().find(|s| {
        url.get(..s.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(s))
    })?;
    let host = url[scheme.len()..]
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let hostname = if host.starts_with('[') {
        host.split(']').next().map(|h| &h[1..]).unwrap_or(host)
    } else {
        host.split(':').next().unwrap_or(host)
    };
    let local = hostname == "localhost" || hostname == "::1" || hostname.starts_with("127.");
    (!local).then_some(scheme.trim_end_matches("://"))
}
