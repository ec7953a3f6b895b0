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
    match inner.kind() {
        NODE_LITERAL | NODE_PATH_ABS | NODE_PATH_REL | NODE_PATH_HOME => true,
        NODE_STRING => inner.children().all(|c| c.kind() != NODE_INTERPOL),
        NODE_SELECT => inner
            .first_child()
            .is_some_and(|base| base.text() == "pkgs" || cx.names.of(&base) == Some(Global::Pkgs)),
        NODE_APPLY => {
            let mut head = inner.clone();
            while head.kind() == NODE_APPLY {
                match head.first_child() {
                    Some(f) => head = strip(&f),
                    None => return false,
                }
            }
            let name = match head.kind() {
                NODE_SELECT => head.last_child().and_then(|p| p.last_child()),
                NODE_IDENT => Some(head.clone()),
                _ => None,
            };
            name.is_some_and(|n| SAFE_FUNCTIONS.contains(&n.text().to_string().as_str()))
        }
        _ => false,
    }
}
