//! Findings about a flake: its inputs against its flake.lock, unused and
//! invalid inputs, insecure URLs, and inputs that bring their own nixpkgs.

use rnix::ast;
use rnix::{SyntaxNode, TextRange, TextSize};
use rowan::ast::AstNode;

use super::flakeref;
use super::lock::{FlakeLock, InputRef, LockError};
use super::model::{FlakeInput, FlakeModel};
use crate::diagnostic::registry::{
    FLAKE_INPUT_FOLLOWS_NIXPKGS, FLAKE_INPUT_INVALID, FLAKE_INPUT_NOT_LOCKED, FLAKE_INPUT_UNUSED,
    FLAKE_LOCK_INVALID, FLAKE_LOCK_OUTDATED, FLAKE_LOCK_STALE, FLAKE_OUTPUTS_MISSING_INPUT,
    INSECURE_URL,
};
use crate::diagnostic::{Diagnostic, Fix};
use crate::syntax::TextEdit;

/// The lock as the caller found it: absent, unreadable, or read.
pub enum LockState<'a> {
    Absent,
    Invalid(&'a LockError),
    Read(&'a FlakeLock),
}

/// Every flake finding for `model`, read from `root` (the tree of `text`).
pub fn check(
    root: &SyntaxNode,
    text: &str,
    model: &FlakeModel,
    lock: LockState<'_>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let lock_wide = model
        .inputs_key
        .or(model.outputs_key)
        .unwrap_or_else(|| TextRange::empty(TextSize::from(0)));
    for input in &model.inputs {
        if let Some(range) = input.invalid {
            out.push(Diagnostic::new(
                FLAKE_INPUT_INVALID,
                range,
                format!(
                    "input `{0}` must be a set, such as `inputs.{0}.url = \"...\";`; Nix refuses `inputs.{0} = ...;`",
                    input.name
                ),
            ));
        }
        if let (Some(url), Some(range)) = (&input.url, input.url_range) {
            if let Some(scheme) = flakeref::insecure_scheme(url) {
                out.push(insecure_url(text, input, url, scheme, range));
            }
        }
    }
    if let Some(pattern) = &model.outputs_pattern {
        // Nix calls `outputs` with `self` and every input: a pattern
        // without `...` must name them all, `@` binding or not.
        if !pattern.ellipsis {
            for input in &model.inputs {
                if !pattern.fields.contains(&input.name) {
                    let diagnostic = Diagnostic::new(
                        FLAKE_OUTPUTS_MISSING_INPUT,
                        input.range(),
                        format!(
                            "`outputs` does not take input `{0}`, and its pattern has no `...`: Nix passes every input, so evaluating this flake fails (\"called with unexpected argument '{0}'\"); add `{0}` to the pattern",
                            input.name
                        ),
                    );
                    out.push(match pattern.insert_at {
                        Some(at) => diagnostic.with_fix(Fix {
                            title: format!("Add `{}` to the `outputs` pattern", input.name),
                            edits: vec![TextEdit::replace(
                                TextRange::empty(at),
                                format!(", {}", input.name),
                            )],
                            preferred: true,
                        }),
                        None => diagnostic,
                    });
                }
            }
        }
    }
    out.extend(unused_inputs(root, text, model));
    match lock {
        LockState::Absent => {}
        LockState::Invalid(why) => {
            out.push(Diagnostic::new(
                FLAKE_LOCK_INVALID,
                lock_wide,
                format!("{why}; run `nix flake lock` to write a new one"),
            ));
        }
        LockState::Read(lock) => lock_findings(root, text, model, lock, lock_wide, &mut out),
    }
    out.sort_by_key(|d| (d.range.start(), d.range.end()));
    out
}

fn lock_findings(
    root: &SyntaxNode,
    text: &str,
    model: &FlakeModel,
    lock: &FlakeLock,
    lock_wide: TextRange,
    out: &mut Vec<Diagnostic>,
) {
    let Some(root_inputs) = lock.root_inputs() else {
        out.push(Diagnostic::new(
            FLAKE_LOCK_INVALID,
            lock_wide,
            format!(
                "flake.lock has no root node `{}`; run `nix flake lock` to write a new one",
                lock.root
            ),
        ));
        return;
    };
    for input in &model.inputs {
        let Some(target) = root_inputs.get(&input.name) else {
            out.push(Diagnostic::new(
                FLAKE_INPUT_NOT_LOCKED,
                input.range(),
                format!(
                    "input `{}` is not in flake.lock; run `nix flake lock` to lock it",
                    input.name
                ),
            ));
            continue;
        };
        let InputRef::Node(node_name) = target else {
            continue; // follows another input: nothing of its own is locked
        };
        let Some(node) = lock.nodes.get(node_name) else {
            continue;
        };
        if input.follows.is_none() {
            if let (Some(declared), Some(original)) = (input.reference(), &node.original) {
                if &declared != original {
                    let range = input.url_range.unwrap_or_else(|| input.range());
                    out.push(Diagnostic::new(
                        FLAKE_LOCK_OUTDATED,
                        range,
                        format!(
                            "flake.lock locked input `{}` from {}, but flake.nix now asks for {}; run `nix flake lock` to update it",
                            input.name,
                            describe(original),
                            describe(&declared),
                        ),
                    ));
                }
            }
        }
        if input.name != "nixpkgs" && !input.inputs.contains_key("nixpkgs") {
            if let Some(fix) = follows_nixpkgs(root, text, model, lock, input, node_name) {
                out.push(fix);
            }
        }
    }
    for name in root_inputs.keys() {
        if model.input(name).is_none() {
            out.push(Diagnostic::new(
                FLAKE_LOCK_STALE,
                lock_wide,
                format!(
                    "flake.lock still locks input `{name}`, which flake.nix no longer declares; run `nix flake lock` to drop it"
                ),
            ));
        }
    }
}

/// Inputs that `outputs` never refers to, and that no other input follows.
fn unused_inputs(root: &SyntaxNode, text: &str, model: &FlakeModel) -> Vec<Diagnostic> {
    let (Some(uses), Some(pattern_or_whole)) =
        (super::unused::outputs_uses(root), outputs_shape(model))
    else {
        return Vec::new();
    };
    if uses.all {
        return Vec::new();
    }
    let followed = |name: &str| {
        model.inputs.iter().any(|other| {
            let targets = other.follows.iter().chain(other.inputs.values());
            targets
                .map(|t| t.split('/').next().unwrap_or(""))
                .any(|t| t == name)
        })
    };
    let mut out = Vec::new();
    for input in &model.inputs {
        let name = input.name.as_str();
        if name == "self" || followed(name) || input.invalid.is_some() {
            continue;
        }
        let in_pattern = pattern_or_whole.fields.iter().any(|f| f == name);
        // Missing from a strict pattern: flake-outputs-missing-input says so.
        if !in_pattern && !pattern_or_whole.ellipsis && !pattern_or_whole.whole_argument {
            continue;
        }
        if uses.fields.contains(name) || uses.selected.contains(name) {
            continue;
        }
        let diagnostic = Diagnostic::new(
            FLAKE_INPUT_UNUSED,
            input.range(),
            format!("input `{name}` is never used in `outputs`: it is fetched and locked for nothing; remove it"),
        );
        let fixed = super::edit::remove_unused_input(text, name).ok();
        out.push(match fixed {
            Some(fixed) => diagnostic.with_fix(Fix {
                title: format!("Remove input `{name}`"),
                edits: crate::format::edits::minimal_edits(text, &fixed),
                preferred: false,
            }),
            None => diagnostic,
        });
    }
    out
}

/// The parts of `outputs`' parameter the unused-input rule needs.
struct OutputsShape {
    fields: Vec<String>,
    ellipsis: bool,
    /// `outputs = inputs: ...`: every input arrives in one argument.
    whole_argument: bool,
}

fn outputs_shape(model: &FlakeModel) -> Option<OutputsShape> {
    match &model.outputs_pattern {
        Some(p) => Some(OutputsShape {
            fields: p.fields.clone(),
            ellipsis: p.ellipsis,
            whole_argument: false,
        }),
        None => model.outputs_key.map(|_| OutputsShape {
            fields: Vec::new(),
            ellipsis: true,
            whole_argument: true,
        }),
    }
}

/// The hint for an input whose locked flake brings its own nixpkgs.
fn follows_nixpkgs(
    root: &SyntaxNode,
    text: &str,
    model: &FlakeModel,
    lock: &FlakeLock,
    input: &FlakeInput,
    node_name: &str,
) -> Option<Diagnostic> {
    model.input("nixpkgs")?;
    let node = lock.nodes.get(node_name)?;
    let InputRef::Node(own) = node.inputs.get("nixpkgs")? else {
        return None;
    };
    // Locked to the very node the flake's own nixpkgs uses: one copy.
    if lock.root_input_node("nixpkgs").map(|(n, _)| n) == Some(own.as_str()) {
        return None;
    }
    let diagnostic = Diagnostic::new(
        FLAKE_INPUT_FOLLOWS_NIXPKGS,
        input.range(),
        format!(
            "input `{0}` brings its own nixpkgs (a second copy to download and evaluate); add `inputs.{0}.inputs.nixpkgs.follows = \"nixpkgs\";`",
            input.name
        ),
    );
    Some(match add_follows_edit(root, text, input) {
        Some(edit) => diagnostic.with_fix(Fix {
            title: format!("Make `{}` follow this flake's nixpkgs", input.name),
            edits: vec![edit],
            preferred: true,
        }),
        None => diagnostic,
    })
}

/// A binding `<prefix>.inputs.nixpkgs.follows = "nixpkgs";` placed after
/// the binding where the input first appears, in the same set and with the
/// same indentation.
fn add_follows_edit(root: &SyntaxNode, text: &str, input: &FlakeInput) -> Option<TextEdit> {
    let site = input.range();
    let name_node = root
        .covering_element(site)
        .ancestors()
        .find(|n| n.text_range() == site)?;
    let binding = name_node.ancestors().find_map(ast::AttrpathValue::cast)?;
    let path = binding.attrpath()?;
    // The path up to and including the input's name.
    let mut prefix = Vec::new();
    for attr in path.attrs() {
        prefix.push(attr.syntax().text().to_string());
        if attr.syntax().text_range() == site {
            break;
        }
    }
    let end = binding.syntax().text_range().end();
    let line_start = text[..usize::from(binding.syntax().text_range().start())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let indent: String = text[line_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let new_text = format!(
        "\n{indent}{}.inputs.nixpkgs.follows = \"nixpkgs\";",
        prefix.join(".")
    );
    Some(TextEdit::replace(TextRange::empty(end), new_text))
}

fn insecure_url(
    text: &str,
    input: &FlakeInput,
    url: &str,
    scheme: &str,
    range: TextRange,
) -> Diagnostic {
    let diagnostic = Diagnostic::new(
        INSECURE_URL,
        range,
        format!(
            "input `{}` is fetched over {scheme}, which anyone on the network can read and change; use https or ssh",
            input.name
        ),
    );
    // http(s) hosts nearly always serve https too; git:// has no https twin
    // that can be guessed, so it gets no fix.
    let secure = match scheme {
        "http" => "https",
        "git+http" => "git+https",
        "tarball+http" => "tarball+https",
        "file+http" => "file+https",
        "hg+http" => "hg+https",
        _ => return diagnostic,
    };
    let literal = &text[range];
    let Some(at) = literal.find(url) else {
        return diagnostic;
    };
    let start = range.start() + TextSize::from(at as u32);
    let scheme_range = TextRange::at(start, TextSize::from(scheme.len() as u32));
    diagnostic.with_fix(Fix {
        title: format!("Use {secure}"),
        edits: vec![TextEdit::replace(scheme_range, secure.to_string())],
        preferred: false,
    })
}

/// A locked or declared reference in words, for messages.
pub fn describe(attrs: &flakeref::Attrs) -> String {
    let base = describe_base(attrs);
    let mut extra: Vec<String> = attrs
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "type" | "owner" | "repo" | "id" | "path" | "url"
            )
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    extra.sort();
    if extra.is_empty() {
        format!("`{base}`")
    } else {
        format!("`{base}?{}`", extra.join("&"))
    }
}

/// Where a reference points, without its ref, rev or hash.
pub fn describe_base(attrs: &flakeref::Attrs) -> String {
    let get = |k: &str| attrs.get(k).map(String::as_str);
    match get("type") {
        Some(kind @ ("github" | "gitlab" | "sourcehut")) => {
            format!(
                "{kind}:{}/{}",
                get("owner").unwrap_or("?"),
                get("repo").unwrap_or("?")
            )
        }
        Some("indirect") => format!("flake:{}", get("id").unwrap_or("?")),
        Some("path") => format!("path:{}", get("path").unwrap_or("?")),
        Some(kind) => format!("{kind}+{}", get("url").unwrap_or("?")),
        None => "?".to_string(),
    }
}
