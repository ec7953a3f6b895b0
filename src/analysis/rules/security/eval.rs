//! Evaluation that depends on the machine it runs on, or runs programs:
//! impure builtins and search paths, and native code during evaluation.

use rnix::SyntaxKind::*;
use rowan::TextSize;

use super::{string_of, Cx};
use crate::analysis::modules::Context;
use crate::analysis::names::Names;
use crate::diagnostic::registry::*;
use crate::diagnostic::Diagnostic;

/// Builtins whose result depends on the machine or the moment.
const IMPURE: &[(&str, &str)] = &[
    (
        "getEnv",
        "reads an environment variable of whoever evaluates",
    ),
    ("currentTime", "reads the clock"),
    ("currentSystem", "reads the evaluating machine's platform"),
    ("storePath", "adds a store path as it is on this machine"),
];

pub(super) fn check(cx: &Cx<'_>, names: &Names<'_>, found: &mut Vec<Diagnostic>) {
    if (cx.on)(IMPURE_EVAL) {
        impure_builtins(cx, names, found);
        search_paths(cx, found);
    }
    if (cx.on)(UNSAFE_NATIVE_EVAL) {
        native(cx, names, found);
    }
}

fn impure_builtins(cx: &Cx<'_>, names: &Names<'_>, found: &mut Vec<Diagnostic>) {
    for (name, what) in IMPURE {
        for range in names.builtin_uses_at(cx.words.of(name), name) {
            found.push(Diagnostic::new(
                IMPURE_EVAL,
                range,
                format!(
                    "`{name}` {what}: the result differs between machines and is refused \
                     by pure evaluation (flakes); pass the value in as an argument"
                ),
            ));
        }
    }
}

/// `<nixpkgs>` and other lookups in `NIX_PATH`.
fn search_paths(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for &at in cx.words.of("<") {
        let Ok(offset) = TextSize::try_from(at) else {
            continue;
        };
        let Some(token) = crate::syntax::token_at(cx.root, offset) else {
            continue;
        };
        if token.kind() != TOKEN_PATH_SEARCH || token.text_range().start() != offset {
            continue;
        }
        if token.parent().is_some_and(|p| p.kind() == NODE_PATH_SEARCH) {
            found.push(Diagnostic::new(
                IMPURE_EVAL,
                token.text_range(),
                format!(
                    "`{}` is looked up in `NIX_PATH`: each machine can resolve it to \
                     different code, and pure evaluation (flakes) refuses it; take it as an \
                     input or an argument",
                    token.text()
                ),
            ));
        }
    }
}

fn native(cx: &Cx<'_>, names: &Names<'_>, found: &mut Vec<Diagnostic>) {
    for name in ["exec", "importNative"] {
        for range in names.builtin_uses_at(cx.words.of(name), name) {
            found.push(Diagnostic::new(
                UNSAFE_NATIVE_EVAL,
                range,
                format!(
                    "`{name}` runs native code while evaluating: evaluating this file runs \
                     a program (or loads a library) on the evaluator's machine, as its user"
                ),
            ));
        }
    }
    let option = "allow-unsafe-native-code-during-evaluation";
    let path = ["nix", "settings", option];
    for d in cx.modules().at(Context::System, &path) {
        if cx.value.bool(d) == Some(true) {
            found.push(Diagnostic::new(
                UNSAFE_NATIVE_EVAL,
                d.value.text_range(),
                "every evaluation on this machine may run programs through `builtins.exec`: \
                 evaluating any file is then running it; leave it off",
            ));
        }
    }
    for d in cx.modules().named(Context::System, "nix.extraOptions") {
        let on = string_of(&d.value).is_some_and(|text| {
            text.lines().any(|line| {
                let mut parts = line.splitn(2, '=');
                let key = parts.next().unwrap_or("").trim();
                let value = parts.next().unwrap_or("").trim();
                key == option && value == "true"
            })
        });
        if on {
            found.push(Diagnostic::new(
                UNSAFE_NATIVE_EVAL,
                d.value.text_range(),
                "`allow-unsafe-native-code-during-evaluation = true`: every evaluation on \
                 this machine may run programs through `builtins.exec`; leave it off",
            ));
        }
    }
}
