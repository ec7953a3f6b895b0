//! Performance: code that makes evaluation slow. Nixpkgs instantiated
//! again, builds forced in the middle of evaluation, quadratic folds,
//! whole directories copied to the store. Each is found from the names it
//! uses (resolved, so `inherit (builtins) foldl';` and `with lib;` count)
//! through the shared word pass.

use rnix::SyntaxKind::*;
use rnix::SyntaxNode;
use rowan::TextRange;

use super::scan::{
    arguments, call_head, callee_name, expressions_named, last_name_of, strip, token_at, Cx,
};
use crate::analysis::names::Global;
use crate::diagnostic::registry::*;
use crate::diagnostic::{Diagnostic, Fix, Related, Severity};
use crate::syntax::literal::{is_identifier, string_literal};
use crate::syntax::TextEdit;

/// Every performance rule.
pub(super) const RULES: &[&str] = &[
    REIMPORT_NIXPKGS,
    IMPORT_FROM_DERIVATION,
    QUADRATIC_FOLD,
    CONCAT_MAP,
    LENGTH_COMPARE_ZERO,
    ELEM_ATTR_NAMES,
    PKGS_PATH,
    SRC_WHOLE_DIR,
    REPEATED_IMPORT,
    TOP_LEVEL_WITH,
];

pub(super) fn check(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    let imports =
        if (cx.on)(REIMPORT_NIXPKGS) || (cx.on)(IMPORT_FROM_DERIVATION) || (cx.on)(REPEATED_IMPORT)
        {
            calls_of_builtin(cx, "import")
        } else {
            Vec::new()
        };
    if (cx.on)(REIMPORT_NIXPKGS) {
        reimport_nixpkgs(&imports, found);
    }
    if (cx.on)(IMPORT_FROM_DERIVATION) {
        import_from_derivation(cx, &imports, found);
    }
    if (cx.on)(REPEATED_IMPORT) {
        repeated_imports(cx, &imports, found);
    }
    if (cx.on)(QUADRATIC_FOLD) {
        quadratic_folds(cx, found);
    }
    if (cx.on)(CONCAT_MAP) {
        concat_maps(cx, found);
    }
    if (cx.on)(LENGTH_COMPARE_ZERO) {
        length_compares(cx, found);
    }
    if (cx.on)(ELEM_ATTR_NAMES) {
        elem_attr_names(cx, found);
    }
    if (cx.on)(PKGS_PATH) {
        pkgs_paths(cx, found);
    }
    if (cx.on)(SRC_WHOLE_DIR) {
        whole_dirs(cx, found);
    }
    if (cx.on)(TOP_LEVEL_WITH) {
        top_level_with(cx, found);
    }
}

/// Whether `expr` is the builtin `name` or nixpkgs' `lib.name`.
fn denotes(cx: &Cx<'_>, expr: &SyntaxNode, name: &str) -> bool {
    match cx.names.of(expr) {
        Some(Global::Builtin(b)) => b == name,
        Some(g) => g.lib_function() == Some(name),
        None => false,
    }
}

/// Calls of the builtin (or `lib`) function `name`: the function
/// expression and its arguments.
fn calls_of_builtin(cx: &Cx<'_>, name: &str) -> Vec<(SyntaxNode, Vec<SyntaxNode>)> {
    expressions_named(cx, name)
        .into_iter()
        .filter(|f| denotes(cx, f, name))
        .map(|f| {
            let args = arguments(&f);
            (f, args)
        })
        .filter(|(_, args)| !args.is_empty())
        .collect()
}

fn info(rule: &'static str, range: TextRange, message: impl Into<String>) -> Diagnostic {
    let mut d = Diagnostic::new(rule, range, message);
    d.severity = Severity::Info;
    d
}

// ---------------------------------------------------------------- nixpkgs

/// Whether `expr` is nixpkgs' source: `<nixpkgs>`, a `nixpkgs` input or
/// argument (`nixpkgs`, `inputs.nixpkgs`), `pkgs.path`.
fn is_nixpkgs_source(expr: &SyntaxNode) -> bool {
    match expr.kind() {
        NODE_PATH_SEARCH => expr.text() == "<nixpkgs>",
        NODE_IDENT | NODE_SELECT => {
            let text = expr.text().to_string();
            last_name_of(expr).as_deref() == Some("nixpkgs") || text == "pkgs.path"
        }
        _ => false,
    }
}

/// The lambda the expression is evaluated in, when it is a module or a
/// package: a function of a set with `config`, `pkgs`, `stdenv`, a
/// builder (`buildGoModule`) or a fetcher (`fetchFromGitHub`). A
/// default of a pattern field (`{ pkgs ? import <nixpkgs> { } }:`) is
/// evaluated only when no value is given, so it does not count.
fn in_module_or_package(node: &SyntaxNode) -> bool {
    let mut previous = node.clone();
    for ancestor in node.ancestors().skip(1) {
        match ancestor.kind() {
            NODE_PAT_ENTRY => return false,
            NODE_LAMBDA => {
                let from_body = ancestor.last_child().as_ref() == Some(&previous);
                let pattern = ancestor.first_child().filter(|p| p.kind() == NODE_PATTERN);
                if from_body && pattern.is_some_and(|p| takes_module_arguments(&p)) {
                    return true;
                }
            }
            _ => {}
        }
        previous = ancestor;
    }
    false
}

fn takes_module_arguments(pattern: &SyntaxNode) -> bool {
    pattern
        .children()
        .filter(|e| e.kind() == NODE_PAT_ENTRY)
        .filter_map(|e| e.first_child())
        .any(|name| {
            let name = name.text().to_string();
            matches!(name.as_str(), "config" | "pkgs" | "stdenv" | "callPackage")
                || name.starts_with("build")
                || name.starts_with("fetchFrom")
                || name.ends_with("Derivation")
        })
}

/// Whether a call's value becomes the package set itself, as flake-parts'
/// `_module.args.pkgs = import inputs.nixpkgs { ... };` or a NixOS
/// `nixpkgs.pkgs`: the one instance, not another one.
fn defines_the_package_set(call: &SyntaxNode) -> bool {
    let Some(binding) = call
        .ancestors()
        .skip(1)
        .find(|a| a.kind() != NODE_PAREN && a.kind() != NODE_APPLY)
        .filter(|a| a.kind() == NODE_ATTRPATH_VALUE)
    else {
        return false;
    };
    let key = binding
        .first_child()
        .map(|p| p.text().to_string().replace(char::is_whitespace, ""))
        .unwrap_or_default();
    key.ends_with("args.pkgs")
        || key == "pkgs" && binding_in_nixpkgs_set(&binding)
        || key == "nixpkgs.pkgs"
}

/// Whether `binding` sits in `nixpkgs = { ... }`.
fn binding_in_nixpkgs_set(binding: &SyntaxNode) -> bool {
    binding
        .parent()
        .and_then(|set| set.parent())
        .filter(|b| b.kind() == NODE_ATTRPATH_VALUE)
        .and_then(|b| b.first_child())
        .is_some_and(|p| p.text() == "nixpkgs")
}

fn reimport_nixpkgs(imports: &[(SyntaxNode, Vec<SyntaxNode>)], found: &mut Vec<Diagnostic>) {
    for (function, args) in imports {
        // `import <nixpkgs> { ... }`: the source, then the arguments.
        let [source, _config, ..] = args.as_slice() else {
            continue;
        };
        if !is_nixpkgs_source(source) {
            continue;
        }
        let Some(call) = function.parent() else {
            continue;
        };
        if !in_module_or_package(&call) || defines_the_package_set(&call) {
            continue;
        }
        let range = TextRange::new(function.text_range().start(), source.text_range().end());
        found.push(Diagnostic::new(
            REIMPORT_NIXPKGS,
            range,
            "nixpkgs is instantiated again here, on every evaluation of this module or \
             package: seconds and hundreds of MB each time; use the `pkgs` argument (or a \
             flake's `legacyPackages.${system}`), with `nixpkgs.overlays` or \
             `nixpkgs.config` for changes",
        ));
    }
}

// ---------------------------------------------------------------- IFD

/// nixpkgs functions that return a derivation: importing or reading from
/// their result makes evaluation wait for a build.
const DERIVATION_BUILDERS: &[&str] = &[
    "runCommand",
    "runCommandLocal",
    "runCommandNoCC",
    "runCommandCC",
    "writeText",
    "writeTextFile",
    "writeScript",
    "writeShellScript",
    "mkDerivation",
    "srcOnly",
    "applyPatches",
    "symlinkJoin",
    "fetchFromGitHub",
    "fetchFromGitLab",
    "fetchFromGitea",
    "fetchFromCodeberg",
    "fetchFromSourcehut",
    "fetchFromBitbucket",
    "fetchurl",
    "fetchzip",
    "fetchgit",
    "fetchpatch",
    "fetchCrate",
    "fetchPypi",
];

/// The derivation an expression is built from, when it is one: a call of
/// a builder (not the builtin fetchers, which fetch while evaluating), or
/// a string that starts with one (`"${drv}/default.nix"`).
fn derivation_in(cx: &Cx<'_>, expr: &SyntaxNode) -> Option<SyntaxNode> {
    derivation_at(cx, expr, 0)
}

fn derivation_at(cx: &Cx<'_>, expr: &SyntaxNode, depth: u32) -> Option<SyntaxNode> {
    // Far more `let` hops than real code has, and a bound on cycles.
    if depth > 8 {
        return None;
    }
    let expr = strip(expr);
    match expr.kind() {
        // `let src = fetchFromGitHub { ... }; in import "${src}/x.nix"`.
        NODE_IDENT => derivation_at(cx, &cx.names.let_value(&expr)?, depth + 1),
        NODE_APPLY => {
            let head = call_head(&expr)?;
            let name = last_name_of(&head)?;
            let builtin = matches!(cx.names.of(&head), Some(Global::Builtin(_)));
            // A function of this file that happens to have a builder's name.
            let local = super::scan::is_local_function(cx.names, &head);
            (DERIVATION_BUILDERS.contains(&name.as_str()) && !builtin && !local).then_some(expr)
        }
        NODE_STRING => {
            let first = expr.children().next()?;
            let starts_with_it = expr
                .children_with_tokens()
                .nth(1)
                .is_some_and(|t| t.as_node() == Some(&first));
            if first.kind() != NODE_INTERPOL || !starts_with_it {
                return None;
            }
            derivation_at(cx, &first.children().next()?, depth + 1)
        }
        NODE_BIN_OP => derivation_at(cx, &expr.first_child()?, depth + 1),
        _ => None,
    }
}

fn import_from_derivation(
    cx: &Cx<'_>,
    imports: &[(SyntaxNode, Vec<SyntaxNode>)],
    found: &mut Vec<Diagnostic>,
) {
    let mut reads = calls_of_builtin(cx, "readFile");
    reads.extend(calls_of_builtin(cx, "importJSON"));
    reads.extend(calls_of_builtin(cx, "importTOML"));
    let report = |verb: &str, argument: &SyntaxNode, found: &mut Vec<Diagnostic>| {
        if derivation_in(cx, argument).is_some() {
            found.push(Diagnostic::new(
                IMPORT_FROM_DERIVATION,
                argument.text_range(),
                format!(
                    "{verb} the output of a build: evaluation stops until it is built \
                     (import from derivation), which Hydra refuses and which makes every \
                     evaluation wait for a build; generate the file ahead of time and commit \
                     it, or pass the data in"
                ),
            ));
        }
    };
    for (_, args) in imports {
        if let Some(source) = args.first() {
            report("this imports", source, found);
        }
    }
    for (_, args) in &reads {
        if let Some(source) = args.first() {
            report("this reads", source, found);
        }
    }
    // `callPackage (fetchFromGitHub { ... }) { }`: a package from a fetched tree.
    for name in ["fetchFrom", "fetchurl", "fetchzip", "fetchgit"] {
        for &at in cx.words.of(name) {
            let Some(token) = token_at(cx, at) else {
                continue;
            };
            if token.kind() != TOKEN_IDENT || !token.text().starts_with(name) {
                continue;
            }
            let Some(mut call) = token.parent() else {
                continue;
            };
            // From the name to the whole `fetcher { ... }`.
            while let Some(parent) = call.parent() {
                let is_head = parent.first_child().as_ref() == Some(&call);
                if matches!(parent.kind(), NODE_SELECT | NODE_ATTRPATH)
                    || (parent.kind() == NODE_APPLY && is_head)
                {
                    call = parent;
                } else {
                    break;
                }
            }
            let mut outer = call.clone();
            while let Some(p) = outer.parent().filter(|p| p.kind() == NODE_PAREN) {
                outer = p;
            }
            let Some(apply) = outer.parent().filter(|a| a.kind() == NODE_APPLY) else {
                continue;
            };
            let is_argument = apply.last_child().as_ref() == Some(&outer);
            let callee = apply.first_child().and_then(|f| last_name_of(&f));
            if is_argument && callee.as_deref() == Some("callPackage") {
                report("`callPackage` evaluates", &call, found);
            }
        }
    }
}

// ---------------------------------------------------------------- imports

fn repeated_imports(
    cx: &Cx<'_>,
    imports: &[(SyntaxNode, Vec<SyntaxNode>)],
    found: &mut Vec<Diagnostic>,
) {
    // Nix caches what a file evaluates to, not the calls of the function
    // it returns: the cost is calling it again with the same arguments.
    let mut first: rustc_hash::FxHashMap<(String, String), TextRange> = Default::default();
    for (function, args) in imports {
        let [source, argument, ..] = args.as_slice() else {
            continue;
        };
        let path = match source.kind() {
            NODE_PATH_ABS | NODE_PATH_REL | NODE_PATH_HOME | NODE_PATH_SEARCH => {
                let text = source.text().to_string();
                // Two spellings of one path are one file.
                text.trim_end_matches("/default.nix").to_string()
            }
            _ => continue,
        };
        // The argument's tokens, without spaces and comments, each name
        // with what it refers to: `{ inherit pkgs; }` under two different
        // `pkgs` are two different arguments.
        let refs = &cx.value.model.refs;
        let spelled: Vec<String> = argument
            .descendants_with_tokens()
            .filter_map(|e| e.into_token())
            .filter(|t| !t.kind().is_trivia())
            .map(|t| {
                let range = t.text_range();
                let at = refs.partition_point(|r| r.range.start() < range.start());
                match refs.get(at).filter(|r| r.range == range) {
                    Some(r) => format!("{}@{:?}", t.text(), r.resolution),
                    None => t.text().to_string(),
                }
            })
            .collect();
        let spelled = spelled.join(" ");
        let key = (path.clone(), spelled);
        let range = TextRange::new(function.text_range().start(), source.text_range().end());
        match first.get(&key) {
            Some(&earlier) => {
                let mut d = info(
                    REPEATED_IMPORT,
                    range,
                    format!(
                        "`{path}` is imported and called with the same arguments again: \
                         Nix caches the file, not the call, so the function runs twice; bind \
                         the result once in a `let` and use that"
                    ),
                );
                d.related.push(Related {
                    range: earlier,
                    message: "first called here".into(),
                });
                found.push(d);
            }
            None => {
                first.insert(key, range);
            }
        }
    }
}

// ---------------------------------------------------------------- lists

/// `foldl' (acc: x: acc // { ... })`: each step copies the accumulator.
fn quadratic_folds(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for (name, acc_first) in [("foldl'", true), ("foldl", true), ("foldr", false)] {
        for (_, args) in calls_of_builtin(cx, name) {
            let Some(function) = args.first().filter(|f| f.kind() == NODE_LAMBDA) else {
                continue;
            };
            let Some((first, second, body)) = two_params(function) else {
                continue;
            };
            let Some(acc) = (if acc_first { first } else { second }) else {
                continue;
            };
            // Through `let ... in` to the value each step returns.
            let mut body = strip(&body);
            while body.kind() == NODE_LET_IN {
                match body.last_child() {
                    Some(inner) => body = strip(&inner),
                    None => break,
                }
            }
            let Some(operator) = copies(cx, &body, &acc) else {
                continue;
            };
            let (what, instead) = match operator {
                TOKEN_UPDATE => ("`//`", "`listToAttrs` (or `genAttrs`)"),
                TOKEN_CONCAT => ("`++`", "`concatMap` (or `map`)"),
                _ => ("`recursiveUpdate`", "`zipAttrsWith` (or `listToAttrs`)"),
            };
            found.push(Diagnostic::new(
                QUADRATIC_FOLD,
                body.text_range(),
                format!(
                    "each step of this fold copies the whole accumulator with {what}, so \
                     the fold takes time quadratic in the list's length; build the result \
                     in one go with {instead}"
                ),
            ));
        }
    }
}

/// `a: b: body` as (`a`, `b`, `body`); a parameter that is a pattern
/// (`{ name, value }:`) has no name.
fn two_params(lambda: &SyntaxNode) -> Option<(Option<String>, Option<String>, SyntaxNode)> {
    let param = |l: &SyntaxNode| {
        l.first_child()
            .filter(|p| p.kind() == NODE_IDENT_PARAM)
            .map(|p| p.text().to_string())
    };
    let first = param(lambda);
    let inner = strip(&lambda.last_child()?);
    if inner.kind() != NODE_LAMBDA {
        return None;
    }
    let second = param(&inner);
    Some((first, second, inner.last_child()?))
}

/// The operator by which a fold's step copies the accumulator `acc`:
/// `acc // x`, `x // acc // y`, `acc ++ [ x ]`, `recursiveUpdate acc x`
/// (reported as `TOKEN_APPLY`-less `NODE_APPLY`).
fn copies(cx: &Cx<'_>, body: &SyntaxNode, acc: &str) -> Option<rnix::SyntaxKind> {
    let is_acc = |n: &SyntaxNode| {
        let n = strip(n);
        n.kind() == NODE_IDENT && n.text() == acc
    };
    match body.kind() {
        NODE_BIN_OP => {
            let operator = body
                .children_with_tokens()
                .filter_map(|t| t.into_token())
                .find(|t| matches!(t.kind(), TOKEN_UPDATE | TOKEN_CONCAT))?
                .kind();
            // The operands of a chain of the same operator.
            let mut stack = vec![body.clone()];
            while let Some(node) = stack.pop() {
                let same = node.kind() == NODE_BIN_OP
                    && node.children_with_tokens().any(|t| t.kind() == operator);
                if same {
                    stack.extend(node.children().map(|c| strip(&c)));
                } else if is_acc(&node) {
                    return Some(operator);
                }
            }
            None
        }
        NODE_APPLY => {
            let function = body.first_child()?.first_child()?;
            let args = arguments(&function);
            let first_is_acc = args.first().is_some_and(is_acc);
            (denotes(cx, &function, "recursiveUpdate") && first_is_acc).then_some(NODE_APPLY)
        }
        _ => None,
    }
}

/// `concatLists (map f xs)` is `concatMap f xs`.
fn concat_maps(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for name in ["concatLists", "flatten"] {
        for (function, args) in calls_of_builtin(cx, name) {
            let Some(mapped) = args.first() else { continue };
            if mapped.kind() != NODE_APPLY {
                continue;
            }
            let Some(map) = mapped.first_child().and_then(|a| a.first_child()) else {
                continue;
            };
            let map_args = arguments(&map);
            if map_args.len() != 2 || !denotes(cx, &map, "map") {
                continue;
            }
            // `flatten` flattens to any depth: it is `concatMap` only when
            // `f` visibly returns a flat list.
            if name == "flatten" && !returns_flat_list(&map_args[0]) {
                continue;
            }
            let Some(call) = function.parent() else {
                continue;
            };
            let range = call.text_range();
            let mut d = info(
                CONCAT_MAP,
                range,
                format!(
                    "`{name} (map f xs)` builds the mapped lists and then a second list to \
                     join them; `concatMap f xs` does both in one pass"
                ),
            );
            // `flatten` also flattens nested lists: the same only when `f`
            // returns flat lists, which is not visible here.
            if name == "concatLists" {
                // `pkgs.lib.concatLists` -> `pkgs.lib.concatMap`; a bare
                // name may not have `concatMap` beside it, `builtins` has.
                let prefix = match function.kind() {
                    NODE_SELECT => {
                        let text = function.text().to_string();
                        let end = text.rfind('.').map_or(0, |i| i + 1);
                        text[..end].to_string()
                    }
                    _ => "builtins.".to_string(),
                };
                let text = format!(
                    "{prefix}concatMap {} {}",
                    paren_arg(&map_args[0]),
                    paren_arg(&map_args[1])
                );
                d = d.with_fix(Fix {
                    title: "Use concatMap".into(),
                    edits: vec![TextEdit::replace(range, text)],
                    preferred: true,
                });
            }
            found.push(d);
        }
    }
}

/// Whether `f` is a function whose body is a list literal of items that
/// are not lists (`x: [ x.a x.b ]`).
fn returns_flat_list(f: &SyntaxNode) -> bool {
    let f = strip(f);
    if f.kind() != NODE_LAMBDA {
        return false;
    }
    let Some(body) = f.last_child().map(|b| strip(&b)) else {
        return false;
    };
    body.kind() == NODE_LIST
        && body.children().all(|item| {
            matches!(
                strip(&item).kind(),
                NODE_LITERAL | NODE_STRING | NODE_ATTR_SET | NODE_PATH_REL
            )
        })
}

/// An argument's text as it must be written after a function: in
/// parentheses unless it is an atom.
fn paren_arg(node: &SyntaxNode) -> String {
    let text = node.text().to_string();
    let original = node.parent().filter(|p| p.kind() == NODE_PAREN);
    match (node.kind(), original) {
        (_, Some(paren)) => paren.text().to_string(),
        (NODE_IDENT | NODE_SELECT | NODE_LIST | NODE_ATTR_SET | NODE_STRING | NODE_LITERAL, _) => {
            text
        }
        (NODE_PATH_ABS | NODE_PATH_REL | NODE_PATH_HOME | NODE_PATH_SEARCH, _) => text,
        _ => format!("({text})"),
    }
}

/// `length xs == 0` is `xs == [ ]`.
fn length_compares(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for (function, args) in calls_of_builtin(cx, "length") {
        let [list] = args.as_slice() else { continue };
        let Some(call) = function.parent() else {
            continue;
        };
        let Some(compare) = call.parent().filter(|p| p.kind() == NODE_BIN_OP) else {
            continue;
        };
        let call_first = compare.first_child().as_ref() == Some(&call);
        let other = if call_first {
            compare.last_child()
        } else {
            compare.first_child()
        };
        if other.is_none_or(|o| o.text() != "0") {
            continue;
        }
        let Some(op) = compare
            .children_with_tokens()
            .filter_map(|t| t.into_token())
            .find(|t| !t.kind().is_trivia())
        else {
            continue;
        };
        let empty = match (op.kind(), call_first) {
            (TOKEN_EQUAL, _) | (TOKEN_LESS_OR_EQ, true) | (TOKEN_MORE_OR_EQ, false) => true,
            (TOKEN_NOT_EQUAL, _) | (TOKEN_MORE, true) | (TOKEN_LESS, false) => false,
            _ => continue,
        };
        let operator = if empty { "==" } else { "!=" };
        let list_text = paren_arg(list);
        let range = compare.text_range();
        // `==` does not chain: as an operand of another operator, the new
        // comparison needs parentheses.
        let wrap = compare.parent().is_some_and(|p| {
            matches!(
                p.kind(),
                NODE_BIN_OP | NODE_APPLY | NODE_SELECT | NODE_UNARY_OP | NODE_HAS_ATTR | NODE_LIST
            ) && !p
                .children_with_tokens()
                .any(|t| matches!(t.kind(), TOKEN_AND_AND | TOKEN_OR_OR | TOKEN_IMPLICATION))
        });
        let replacement = if wrap {
            format!("({list_text} {operator} [ ])")
        } else {
            format!("{list_text} {operator} [ ]")
        };
        found.push(
            info(
                LENGTH_COMPARE_ZERO,
                range,
                format!(
                    "a count asked for only to test whether the list is empty: \
                     `{list_text} {operator} [ ]` says it directly"
                ),
            )
            .with_fix(Fix {
                title: format!("Compare with [ ] ({operator})"),
                edits: vec![TextEdit::replace(range, replacement)],
                preferred: true,
            }),
        );
    }
}

/// `elem n (attrNames s)` is `s ? ${n}`.
fn elem_attr_names(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for (function, args) in calls_of_builtin(cx, "elem") {
        let [name, names] = args.as_slice() else {
            continue;
        };
        if names.kind() != NODE_APPLY {
            continue;
        }
        let Some(attr_names) = names.first_child() else {
            continue;
        };
        let set_args = arguments(&attr_names);
        let [set] = set_args.as_slice() else { continue };
        if !denotes(cx, &attr_names, "attrNames") {
            continue;
        }
        let Some(call) = function
            .ancestors()
            .nth(2)
            .filter(|c| c.kind() == NODE_APPLY)
        else {
            continue;
        };
        let key = match super::scan::string_of(name) {
            Some(s) if is_identifier(&s) => s,
            // A `"..."` key as written; an indented string cannot be one.
            Some(_) if name.text().to_string().starts_with('"') => name.text().to_string(),
            Some(s) => string_literal(&s),
            None => format!("${{{}}}", name.text()),
        };
        let set_text = match set.kind() {
            NODE_IDENT | NODE_SELECT => set.text().to_string(),
            _ => paren_arg(set),
        };
        let replacement = format!("{set_text} ? {key}");
        let range = call.text_range();
        found.push(
            info(
                ELEM_ATTR_NAMES,
                range,
                format!(
                    "this lists every attribute name to search it one by one; `{replacement}` \
                     looks the name up directly"
                ),
            )
            .with_fix(Fix {
                title: "Use ?".into(),
                edits: vec![TextEdit::replace(range, replacement)],
                preferred: true,
            }),
        );
    }
}

// ---------------------------------------------------------------- sources

/// `pkgs.path` in a module or package.
fn pkgs_paths(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for expr in expressions_named(cx, "path") {
        if expr.kind() != NODE_SELECT {
            continue;
        }
        let Some(base) = expr.first_child() else {
            continue;
        };
        let is_pkgs = cx.names.of(&base) == Some(Global::Pkgs);
        let single = expr.last_child().is_some_and(|p| p.children().count() == 1);
        if !is_pkgs || !single || !in_module_or_package(&expr) {
            continue;
        }
        let mut outer = expr.clone();
        while let Some(p) = outer.parent().filter(|p| p.kind() == NODE_PAREN) {
            outer = p;
        }
        let parent = outer.parent();
        // `"${pkgs.path}/..."`: the interpolation copies the tree.
        let interpolated = parent.as_ref().is_some_and(|p| p.kind() == NODE_INTERPOL);
        // `import (pkgs.path + "/nixos") { ... }`: a second NixOS.
        let second_nixos = parent.as_ref().is_some_and(|p| {
            p.kind() == NODE_BIN_OP
                && p.last_child()
                    .and_then(|r| super::scan::string_of(&r))
                    .is_some_and(|s| {
                        let s = s.trim_end_matches('/');
                        s == "/nixos" || s.ends_with("/eval-config.nix")
                    })
                && p.ancestors()
                    .skip(1)
                    .find(|a| a.kind() != NODE_PAREN)
                    .is_some_and(|a| a.kind() == NODE_APPLY)
        });
        let message = if interpolated {
            "`\"${pkgs.path}\"` copies all of nixpkgs' source into the store when nixpkgs \
             is not there already (a checkout on `NIX_PATH`): hundreds of MB again after \
             each change; `pkgs.path + \"/...\"` is a path and reads only what is used \
             (in a NixOS module, `modulesPath`)"
        } else if second_nixos {
            "this evaluates a second NixOS from nixpkgs' source, with its own module \
             system: seconds and hundreds of MB; use this system's `config`, or \
             `pkgs.nixos` for a small one"
        } else {
            continue;
        };
        found.push(Diagnostic::new(PKGS_PATH, expr.text_range(), message));
    }
}

/// `src = ./.;`: the whole directory, copied to the store.
fn whole_dirs(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for &at in cx.words.of("src") {
        let Some(token) = token_at(cx, at) else {
            continue;
        };
        if token.kind() != TOKEN_IDENT || token.text() != "src" {
            continue;
        }
        let Some(binding) = super::scan::binding_keyed_by(&token) else {
            continue;
        };
        let Some(value) = binding.last_child().map(|v| strip(&v)) else {
            continue;
        };
        let is_dir = value.kind() == NODE_PATH_REL
            && value
                .text()
                .to_string()
                .trim_end_matches('/')
                .split('/')
                .all(|part| part == "." || part == "..");
        if is_dir && of_a_derivation(&binding) {
            found.push(Diagnostic::new(
                SRC_WHOLE_DIR,
                value.text_range(),
                format!(
                    "`src = {}` copies the whole directory to the store: `.git`, `result` \
                     links and any secret in it, and every edit of any file there rebuilds \
                     the package; name the files with `lib.fileset.toSource` (or filter with \
                     `lib.cleanSource`)",
                    value.text()
                ),
            ));
        }
    }
}

/// Whether `src = ...;` is an attribute of a derivation: the argument of
/// a builder (`stdenv.mkDerivation { ... }`, `buildGoModule rec { ... }`)
/// or of `overrideAttrs`, or a `let` binding named `src`. Elsewhere `src` means something else: flake-
/// compat's `{ src = ./.; }` is the flake's root, and
/// `lib.cleanSourceWith { src = ./.; filter = ...; }` filters it.
fn of_a_derivation(binding: &SyntaxNode) -> bool {
    let Some(mut node) = binding.parent() else {
        return false;
    };
    // `let src = ./.; in buildRustPackage { inherit src; ... }`.
    if node.kind() == NODE_LET_IN {
        return true;
    }
    // Up through parentheses and `old: { ... }` to the call.
    while let Some(p) = node
        .parent()
        .filter(|p| matches!(p.kind(), NODE_PAREN | NODE_LAMBDA))
    {
        node = p;
    }
    let Some(apply) = node.parent().filter(|a| a.kind() == NODE_APPLY) else {
        return false;
    };
    callee_name(&apply).is_some_and(|n| {
        n.contains("Derivation")
            || n.starts_with("build")
            || n.ends_with("Package")
            || n.ends_with("Application")
            || n == "overrideAttrs"
    })
}

/// `with pkgs;` or `with lib;` around a whole file or module.
fn top_level_with(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    let Some(mut body) = cx.root.first_child() else {
        return;
    };
    // Through the file's function (`{ pkgs, ... }:`) and a `let`.
    loop {
        body = strip(&body);
        match body.kind() {
            NODE_LAMBDA | NODE_LET_IN => match body.last_child() {
                Some(inner) => body = inner,
                None => return,
            },
            _ => break,
        }
    }
    if body.kind() != NODE_WITH {
        return;
    }
    let Some(namespace) = body.first_child() else {
        return;
    };
    let which = match cx.names.of(&namespace) {
        Some(Global::Pkgs) => "pkgs",
        Some(Global::Lib(path)) if path.is_empty() => "lib",
        _ => return,
    };
    let Some(keyword) = body.first_token() else {
        return;
    };
    let mut d = Diagnostic::new(
        TOP_LEVEL_WITH,
        keyword.text_range(),
        format!(
            "`with {which};` around the whole file: every name in it may come from \
             `{which}`, so a reader (and cim-nix) cannot tell where a name is bound, and a \
             typo is only found when evaluated; use `{which}.name` or `inherit ({which}) \
             ...;` in a `let`"
        ),
    );
    d.severity = Severity::Hint;
    found.push(d);
}
