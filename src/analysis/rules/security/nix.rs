//! Nix itself: builds that leave the sandbox, who the daemon trusts, and
//! nixpkgs' guards against insecure packages.

use rnix::SyntaxKind::*;
use rnix::SyntaxNode;

use super::{items, string_of, Cx};
use crate::analysis::modules::Context;
use crate::diagnostic::registry::*;
use crate::diagnostic::{Diagnostic, Severity};

pub(super) fn check(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    if (cx.on)(SANDBOX_ESCAPE) {
        sandbox_off(cx, found);
        impure_derivations(cx, found);
    }
    if (cx.on)(NIX_TRUST) {
        trust(cx, found);
    }
    if (cx.on)(INSECURE_PACKAGES_ALLOWED) {
        insecure_packages(cx, found);
    }
    if (cx.on)(SILENCED_VULNERABILITIES) {
        silenced_vulnerabilities(cx, found);
    }
    if (cx.on)(NIX_TRUST) {
        flake_substituters(cx, found);
    }
}

/// `knownVulnerabilities = [ ];` inside an override: nixpkgs listed
/// vulnerabilities of the package, and this hides them.
fn silenced_vulnerabilities(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for &at in cx.words.of("knownVulnerabilities") {
        let Some(token) = super::token_at(cx, at) else {
            continue;
        };
        if token.text() != "knownVulnerabilities" {
            continue;
        }
        let Some(binding) = super::binding_keyed_by(&token) else {
            continue;
        };
        let empty = binding
            .last_child()
            .is_some_and(|v| v.kind() == NODE_LIST && v.children().next().is_none());
        if !empty || !in_override(&binding) {
            continue;
        }
        let key = binding
            .first_child()
            .map_or(binding.text_range(), |k| k.text_range());
        found.push(Diagnostic::new(
            SILENCED_VULNERABILITIES,
            key,
            "this override empties the package's known vulnerabilities, so nixpkgs no longer \
             refuses to build it and nobody is told; update the package, or allow this one \
             version in `nixpkgs.config.permittedInsecurePackages`, where it stays visible",
        ));
    }
}

/// Whether `node` is inside an override of a package: an argument of
/// `overrideAttrs`, `override` or `overrideDerivation`, or the right side
/// of `old.meta // { ... }`.
fn in_override(node: &SyntaxNode) -> bool {
    node.ancestors().any(|a| match a.kind() {
        NODE_APPLY => super::callee_name(&a).is_some_and(|name| {
            matches!(
                name.as_str(),
                "overrideAttrs" | "override" | "overrideDerivation" | "overridePythonAttrs"
            )
        }),
        NODE_BIN_OP => {
            a.children_with_tokens().any(|t| t.kind() == TOKEN_UPDATE)
                && a.first_child()
                    .is_some_and(|left| left.text().to_string().contains("meta"))
        }
        _ => false,
    })
}

/// A flake's `nixConfig.substituters` / `extra-substituters`: whoever
/// accepts the flake's configuration trusts these caches for every build.
fn flake_substituters(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    if cx.words.of("nixConfig").is_empty() {
        return;
    }
    for (key, value) in super::flake_config(cx.root) {
        if !matches!(key.as_str(), "substituters" | "extra-substituters") {
            continue;
        }
        let official = |s: &str| s.trim_end_matches('/') == "https://cache.nixos.org";
        // A list of caches, or one string of them separated by spaces; a
        // value computed elsewhere is not judged.
        let strings = match value.kind() {
            NODE_LIST => items(&value),
            NODE_STRING => vec![value.clone()],
            _ => continue,
        };
        let extra = strings.iter().any(|c| match string_of(c) {
            Some(text) => text.split_whitespace().any(|cache| !official(cache)),
            None => true,
        });
        if extra {
            found.push(Diagnostic::new(
                NIX_TRUST,
                value.text_range(),
                format!(
                    "this flake asks its users to trust more binary caches (`{key}`): \
                     whoever accepts its configuration takes any binary these caches serve; \
                     document the cache and its key instead, and let users add it themselves"
                ),
            ));
        }
    }
}

fn sandbox_off(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for d in cx.modules().named(Context::System, "nix.settings.sandbox") {
        let relaxed = string_of(&d.value).is_some_and(|s| s == "relaxed");
        if cx.value.bool(d) == Some(false) || relaxed {
            found.push(Diagnostic::new(
                SANDBOX_ESCAPE,
                d.value.text_range(),
                "builds run outside the sandbox: any build can read the machine's files \
                 and the network, and its result depends on them; keep `sandbox = true`",
            ));
        }
    }
}

/// `__noChroot = true;` and `__impure = true;` in any set: a derivation
/// that asks to leave the sandbox.
fn impure_derivations(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for key in ["__noChroot", "__impure"] {
        for &at in cx.words.of(key) {
            let Ok(offset) = rowan::TextSize::try_from(at) else {
                continue;
            };
            let Some(token) = crate::syntax::token_at(cx.root, offset) else {
                continue;
            };
            if token.kind() != TOKEN_IDENT || token.text() != key {
                continue;
            }
            // The key of `key = value;`, alone on its path.
            let Some(attr) = token.parent() else { continue };
            let Some(path) = attr.parent().filter(|p| p.kind() == NODE_ATTRPATH) else {
                continue;
            };
            let Some(binding) = path.parent().filter(|b| b.kind() == NODE_ATTRPATH_VALUE) else {
                continue;
            };
            let value = binding.last_child().filter(|v| v != &path);
            if path.children().count() == 1 && value.is_some_and(|v| cx.value.is_true(&v)) {
                found.push(Diagnostic::new(
                    SANDBOX_ESCAPE,
                    attr.text_range(),
                    format!(
                        "`{key} = true` builds this derivation outside the sandbox (where \
                         the daemon allows it): it can read the machine and the network; \
                         use a fixed-output derivation for what it downloads"
                    ),
                ));
            }
        }
    }
}

fn trust(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for d in cx
        .modules()
        .named(Context::System, "nix.settings.trusted-users")
    {
        for user in items(&d.value) {
            let Some(name) = string_of(&user) else {
                continue;
            };
            let (message, severity) = match name.as_str() {
                "root" => continue,
                "*" => (
                    "every user is trusted by the Nix daemon: any local account can \
                     import unsigned store paths and set substituters, which is root"
                        .to_string(),
                    Severity::Warning,
                ),
                group if group.starts_with('@') => (
                    format!(
                        "every member of `{}` is trusted by the Nix daemon, which is root \
                         (they can import unsigned store paths); list the few users who \
                         need it",
                        &group[1..]
                    ),
                    Severity::Info,
                ),
                user => (
                    format!(
                        "`{user}` is trusted by the Nix daemon, which is root (it can import \
                         unsigned store paths and set substituters); prefer \
                         `trusted-substituters` for what it needs"
                    ),
                    Severity::Warning,
                ),
            };
            let mut finding = Diagnostic::new(NIX_TRUST, user.text_range(), message);
            finding.severity = severity;
            found.push(finding);
        }
    }
    for d in cx
        .modules()
        .named(Context::System, "nix.settings.require-sigs")
    {
        if cx.value.bool(d) == Some(false) {
            found.push(Diagnostic::new(
                NIX_TRUST,
                d.value.text_range(),
                "the Nix daemon accepts store paths without signatures: whoever serves a \
                 substituter or copies a closure decides what runs here; keep it `true`",
            ));
        }
    }
    for d in cx
        .modules()
        .named(Context::System, "nix.settings.accept-flake-config")
    {
        if cx.value.bool(d) == Some(true) {
            found.push(Diagnostic::new(
                NIX_TRUST,
                d.value.text_range(),
                "every flake's `nixConfig` is applied without asking: a flake you build can \
                 add substituters and settings for the daemon; leave it `false`",
            ));
        }
    }
}

fn insecure_packages(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    let config = |name: &str| {
        let path = format!("nixpkgs.config.{name}");
        cx.modules()
            .named(Context::System, &path)
            .chain(cx.modules().named(Context::Home, &path))
            .cloned()
            .collect::<Vec<_>>()
    };
    for d in config("permittedInsecurePackages") {
        if !items(&d.value).is_empty() {
            found.push(Diagnostic::new(
                INSECURE_PACKAGES_ALLOWED,
                d.value.text_range(),
                "packages with known vulnerabilities are allowed: each stays installed \
                 until someone removes it from this list; note why and when to drop it",
            ));
        }
    }
    for d in config("allowInsecurePredicate") {
        let body = (d.value.kind() == NODE_LAMBDA)
            .then(|| d.value.last_child())
            .flatten();
        if body.is_some_and(|b| cx.value.is_true(&b)) {
            found.push(Diagnostic::new(
                INSECURE_PACKAGES_ALLOWED,
                d.value.text_range(),
                "every package with known vulnerabilities is allowed, now and later; list \
                 the ones you need in `permittedInsecurePackages`",
            ));
        }
    }
    for name in ["allowUnfree", "allowBroken"] {
        for d in config(name) {
            if cx.value.bool(&d) == Some(true) {
                let what = if name == "allowBroken" {
                    "packages marked broken build (and fail, or misbehave, at run time)"
                } else {
                    "unfree packages are allowed: their source cannot be audited"
                };
                let mut finding = Diagnostic::new(
                    INSECURE_PACKAGES_ALLOWED,
                    d.value.text_range(),
                    format!("{what}; `allowUnfreePredicate` can name the few you need"),
                );
                finding.severity = Severity::Info;
                found.push(finding);
            }
        }
    }
}
