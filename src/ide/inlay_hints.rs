//! Inlay hints: the name of a long binding after its end (`};` of a set
//! that began forty lines up: `# services.nginx`), as nil shows them, and
//! in a flake.nix, after an input's url, the revision flake.lock pinned
//! and when.

use rnix::SyntaxKind;
use rowan::{TextRange, TextSize};

use super::Doc;
use crate::flake::{FlakeLock, FlakeModel, InputRef};
use crate::syntax::green::{E, N};
use crate::timefmt;

use SyntaxKind::*;

/// A binding this many lines long or longer gets its name at its end.
pub const LONG_BINDING_LINES: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintKind {
    /// The name of the binding that ends here.
    BindingEnd,
    /// What flake.lock pinned an input to.
    LockedRevision,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlayHint {
    pub at: TextSize,
    pub label: String,
    pub kind: HintKind,
    pub tooltip: Option<String>,
}

/// The hints within `range`; `flake_lock` is the text of the flake.lock
/// beside a flake.nix.
pub fn inlay_hints(doc: &Doc, range: TextRange, flake_lock: Option<&str>) -> Vec<InlayHint> {
    let mut out = Vec::new();
    let Some(green) = doc.analysis().parse.as_ref().and_then(|p| p.green()) else {
        return out;
    };
    binding_ends(
        &N {
            green,
            offset: 0.into(),
        },
        doc.text(),
        range,
        &mut out,
    );
    if let Some(lock) = flake_lock {
        locked_revisions(doc, range, lock, &mut out);
    }
    out.sort_by_key(|h| h.at);
    out
}

fn binding_ends(node: &N<'_>, text: &str, range: TextRange, out: &mut Vec<InlayHint>) {
    if node.text_range().end() < range.start() || node.offset > range.end() {
        return;
    }
    if node.kind() == NODE_ATTRPATH_VALUE {
        let lines = text[node.text_range()].matches('\n').count() + 1;
        let end = node.text_range().end();
        if lines >= LONG_BINDING_LINES
            && range.contains_inclusive(end)
            && node.ends_with_semicolon()
        {
            if let Some(path) = node.children().next() {
                let name: Vec<&str> = path.children().map(|a| &text[a.text_range()]).collect();
                out.push(InlayHint {
                    at: end,
                    label: format!("# {}", name.join(".")),
                    kind: HintKind::BindingEnd,
                    tooltip: None,
                });
            }
        }
    }
    for child in node.children_with_tokens() {
        if let E::Node(n) = child {
            binding_ends(&n, text, range, out);
        }
    }
}

fn locked_revisions(doc: &Doc, range: TextRange, lock: &str, out: &mut Vec<InlayHint>) {
    let is_flake = doc
        .path
        .as_deref()
        .and_then(|p| p.file_name())
        .is_some_and(|n| n == "flake.nix");
    if !is_flake {
        return;
    }
    let (Some(root), Ok(lock)) = (doc.root(), FlakeLock::parse(lock)) else {
        return;
    };
    let Some(model) = FlakeModel::from_tree(root) else {
        return;
    };
    for input in &model.inputs {
        let Some(url_range) = input.url_range else {
            continue;
        };
        if !range.contains_inclusive(url_range.end()) {
            continue;
        }
        let label = match lock.root_inputs().and_then(|r| r.get(&input.name)) {
            Some(InputRef::Follows(path)) => format!("follows {}", path.join("/")),
            Some(InputRef::Node(_)) => {
                let Some((_, node)) = lock.root_input_node(&input.name) else {
                    continue;
                };
                let rev = node.locked.as_ref().and_then(|l| l.get("rev"));
                let date = node.last_modified.map(timefmt::date);
                match (rev, date) {
                    (Some(rev), Some(date)) => format!("{} · {date}", &rev[..rev.len().min(7)]),
                    (Some(rev), None) => rev[..rev.len().min(7)].to_string(),
                    (None, Some(date)) => date,
                    (None, None) => continue,
                }
            }
            None => "not locked".to_string(),
        };
        out.push(InlayHint {
            at: url_range.end(),
            label,
            kind: HintKind::LockedRevision,
            tooltip: Some("what flake.lock pinned this input to".into()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::*;

    #[test]
    fn long_bindings_get_their_name_at_the_end() {
        let body = "    x = 1;\n".repeat(LONG_BINDING_LINES);
        let text = format!("{{\n  services.nginx = {{\n{body}  }};\n  short = {{ a = 1; }};\n}}\n");
        let f = Fixture::parse(&text);
        let hints = inlay_hints(
            &f.doc(),
            TextRange::up_to(TextSize::of(text.as_str())),
            None,
        );
        assert_eq!(hints.len(), 1, "{hints:?}");
        assert_eq!(hints[0].label, "# services.nginx");
        assert_eq!(
            &text[..usize::from(hints[0].at)].lines().last(),
            &Some("  };")
        );
    }

    #[test]
    fn inputs_show_their_locked_revision() {
        let text = "{\n  inputs.nixpkgs.url = \"github:NixOS/nixpkgs/nixos-24.05\";\n  inputs.new.url = \"github:a/b\";\n  outputs = _: { };\n}\n";
        let f = Fixture::parse(&format!("//- /flake.nix\n{text}"));
        let lock = r#"{"nodes": {"nixpkgs": {"locked": {"rev": "ad57eef4ef0659193044870c731987a6df5cf56b", "type": "github", "owner": "NixOS", "repo": "nixpkgs", "narHash": "x", "lastModified": 1716948383}, "original": {"type": "github", "owner": "NixOS", "repo": "nixpkgs", "ref": "nixos-24.05"}}, "root": {"inputs": {"nixpkgs": "nixpkgs"}}}, "root": "root", "version": 7}"#;
        let hints = inlay_hints(&f.doc(), TextRange::up_to(TextSize::of(text)), Some(lock));
        let labels: Vec<&str> = hints.iter().map(|h| h.label.as_str()).collect();
        assert_eq!(labels, ["ad57eef · 2024-05-29", "not locked"]);
    }
}
