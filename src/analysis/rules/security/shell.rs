//! Values spliced into shell scripts unquoted: a `${...}` in the text of
//! `writeShellScript`, `runCommand` or a systemd `ExecStart` becomes shell
//! code, so a value with a space, a `;` or a `$(...)` runs as commands.
//! Off by default: most such values are store paths or numbers, and only
//! a reader can tell which could ever hold a hostile string.

use rnix::SyntaxKind::*;
use rnix::SyntaxNode;

use super::{binding_keyed_by, calls_named, items, member_of, strip, token_at, unwrap_value, Cx};
use crate::analysis::names::Global;
use crate::diagnostic::registry::*;
use crate::diagnostic::{Diagnostic, Severity};

/// Builders whose last argument is a shell script.
const SCRIPT_BUILDERS: &[&str] = &[
    "writeShellScript",
    "writeShellScriptBin",
    "writeScript",
    "writeScriptBin",
    "runCommand",
    "runCommandLocal",
    "runCommandNoCC",
    "runCommandCC",
];

/// systemd settings that hold a command line.
const COMMAND_KEYS: &[&str] = &[
    "ExecStart",
    "ExecStartPre",
    "ExecStartPost",
    "ExecStop",
    "ExecStopPost",
    "ExecReload",
];

/// Functions whose result is safe to splice: they quote, or return a
/// store path.
const SAFE_FUNCTIONS: &[&str] = &[
    "escapeShellArg",
    "escapeShellArgs",
    "getExe",
    "getExe'",
    "getBin",
    "makeBinPath",
    "toShellVar",
    "toShellVars",
];

pub(super) fn check(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    if !(cx.on)(SHELL_INJECTION) {
        return;
    }
    let mut scripts = Vec::new();
    for name in SCRIPT_BUILDERS {
        for (_, args) in calls_named(cx, name) {
            if let Some(last) = args.last().filter(|a| a.kind() == NODE_STRING) {
                scripts.push(last.clone());
            }
        }
    }
    for (_, args) in calls_named(cx, "writeShellApplication") {
        if let Some(text) = args.first().and_then(|a| member_of(a, "text")) {
            scripts.push(strip(&text));
        }
    }
    for word in ["ExecStart", "ExecStop", "ExecReload"] {
        for &at in cx.words.of(word) {
            let Some(token) = token_at(cx, at) else {
                continue;
            };
            if !COMMAND_KEYS.contains(&token.text()) {
                continue;
            }
            let Some(value) = binding_keyed_by(&token).and_then(|b| b.last_child()) else {
                continue;
            };
            let value = unwrap_value(&value);
            match value.kind() {
                NODE_STRING => scripts.push(value),
                NODE_LIST => scripts.extend(
                    items(&value)
                        .into_iter()
                        .filter(|i| i.kind() == NODE_STRING),
                ),
                _ => {}
            }
        }
    }
    scripts.sort_by_key(|s| s.text_range().start());
    scripts.dedup();
    for script in scripts {
        for interpolation in script.children().filter(|c| c.kind() == NODE_INTERPOL) {
            if !is_safe(cx, &interpolation) {
                let mut finding = Diagnostic::new(
                    SHELL_INJECTION,
                    interpolation.text_range(),
                    "this value becomes shell code as it is: a space, `;` or `$(...)` in \
                     it runs as commands; quote it with `lib.escapeShellArg`",
                );
                finding.severity = Severity::Hint;
                found.push(finding);
            }
        }
    }
}

/// Whether an interpolation cannot inject: a store path (`${pkg}/bin/x`),
/// a package of `pkgs`, a literal, or the result of a quoting function.
fn is_safe(cx: &Cx<'_>, interpolation: &SyntaxNode) -> bool {
    let Some(inner) = interpolation.children().next().map(|e| strip(&e)) else {
        return true;
    };
    // Inside shell single quotes only a `'` breaks out: a lesser risk,
    // and the quoting shows the author thought about it.
    if in_single_quotes(interpolation) {
        return true;
    }
    // `${jq}/bin/jq`, `${cfg.package}/bin/x`: a path into a package, whose
    // store path has no space or quote.
    let followed_by_path = interpolation
        .next_sibling_or_token()
        .and_then(|t| t.into_token())
        .is_some_and(|t| t.kind() == TOKEN_STRING_CONTENT && t.text().starts_with('/'));
    let package_like = match inner.kind() {
        NODE_IDENT => true,
        NODE_SELECT => inner
            .last_child()
            .and_then(|p| p.last_child())
            .is_some_and(|a| a.text().to_string().ends_with("ackage")),
        _ => false,
    };
    if followed_by_path && package_like {
        return true;
    }
    is_safe_value(cx, &inner, 0)
}

/// Whether a spliced value is a store path, a literal, or text made to be
/// shell code or quoted.
fn is_safe_value(cx: &Cx<'_>, inner: &SyntaxNode, depth: u32) -> bool {
    if depth > 8 {
        return false;
    }
    match inner.kind() {
        NODE_LITERAL | NODE_PATH_ABS | NODE_PATH_REL | NODE_PATH_HOME => true,
        NODE_STRING => inner.children().all(|c| c.kind() != NODE_INTERPOL),
        // A name bound in this file to a store path (`let script =
        // pkgs.writeShellScript ...; in "${script}"`).
        NODE_IDENT => cx
            .names
            .let_value(inner)
            .is_some_and(|v| is_safe_value(cx, &strip(&v), depth + 1) || is_build(&strip(&v))),
        NODE_SELECT => {
            let base_is_pkgs = inner.first_child().is_some_and(|base| {
                base.text() == "pkgs" || cx.names.of(&base) == Some(Global::Pkgs)
            });
            // `${stdenv.shell}`, `${pkgs.runtimeShell}`: the shell's path.
            let shell = inner
                .last_child()
                .and_then(|p| p.last_child())
                .is_some_and(|a| matches!(a.text().to_string().as_str(), "shell" | "runtimeShell"));
            base_is_pkgs || shell
        }
        NODE_APPLY => {
            is_build(inner) || {
                let Some(head) = super::call_head(inner) else {
                    return false;
                };
                let name = super::last_name_of(&head).unwrap_or_default();
                let args = super::arguments(&head);
                match name.as_str() {
                    n if SAFE_FUNCTIONS.contains(&n) => true,
                    // Script text from a file, or code written here on purpose.
                    "readFile" | "fileContents" => true,
                    "optionalString" => args
                        .get(1)
                        .is_some_and(|text| is_safe_value(cx, &strip(text), depth + 1)),
                    // `concatMapStringsSep " " escapeShellArg xs`
                    "concatMapStringsSep" | "concatMapStrings" => args.iter().any(|f| {
                        super::last_name_of(f)
                            .is_some_and(|n| n == "escapeShellArg" || n == "escapeShellArgs")
                    }),
                    _ => false,
                }
            }
        }
        _ => false,
    }
}

/// Whether a value is a call of a nixpkgs builder (`writeShellScript`,
/// `writeText`, `runCommand`, `mkDerivation`...): a store path.
fn is_build(value: &SyntaxNode) -> bool {
    super::callee_name(value).is_some_and(|n| {
        n.starts_with("write")
            || n.starts_with("runCommand")
            || n.contains("Derivation")
            || n == "symlinkJoin"
    })
}

/// Whether the interpolation stands inside `'...'` of the shell text:
/// an odd number of `'` before it on its line.
fn in_single_quotes(interpolation: &SyntaxNode) -> bool {
    let mut quotes = 0;
    let mut at = interpolation.prev_sibling_or_token();
    while let Some(element) = at {
        if let Some(token) = element.as_token() {
            let text = token.text();
            let line = match text.rfind('\n') {
                Some(i) => {
                    quotes += text[i + 1..].matches('\'').count();
                    break;
                }
                None => text,
            };
            quotes += line.matches('\'').count();
        }
        at = element.prev_sibling_or_token();
    }
    quotes % 2 == 1
}
