//! Generates `src/ide/data/lib.tsv`, the index of nixpkgs' `lib` that
//! hover and completion ship with, from the doc comments (`/** ... */`,
//! RFC 145) in a nixpkgs checkout's `lib/` folder:
//!
//! ```sh
//! cargo run --example gen-lib-index -- /path/to/nixpkgs/lib "nixpkgs 26.11 (abc123)" \
//!     > src/ide/data/lib.tsv
//! ```
//!
//! The second argument says where the folder came from, for the header.
//!
//! It reads `lib/default.nix` for the scopes (`strings = callLibs
//! ./strings.nix;`) and the names `lib` re-exports (`inherit (self.strings)
//! concatStrings;`), then each scope's file for its attributes and their
//! documentation. Files are parsed with cim-nix's own parser.
//!
//! Output: a header of `#` lines (source, license), then one row per name:
//! `path<TAB>type<TAB>documentation`, where the documentation is Markdown
//! with `\n` for line breaks; an alias row's documentation is `@target`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rnix::{SyntaxKind, SyntaxNode};
use rowan::NodeOrToken;

use SyntaxKind::*;

/// Documentation longer than this is cut at a line break.
const MAX_DOC: usize = 3_000;

struct Entry {
    kind: String,
    doc: String,
}

fn main() {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: gen-lib-index NIXPKGS/lib > src/ide/data/lib.tsv");
        std::process::exit(2);
    };
    let default = read(&dir.join("default.nix"));
    let root = parse(&default);
    let mut index: BTreeMap<String, Entry> = BTreeMap::new();
    let Some(set) = library_set(&root) else {
        eprintln!(
            "gen-lib-index: no `callLibs` set found in {}/default.nix",
            dir.display()
        );
        std::process::exit(1);
    };
    let mut scopes = Vec::new();
    for entry in set.children() {
        match entry.kind() {
            NODE_ATTRPATH_VALUE => {
                let (Some(name), Some(value)) = (single_name(&entry), entry.children().nth(1))
                else {
                    continue;
                };
                // `strings = callLibs ./strings.nix;`
                let text = value.text().to_string();
                if let Some(file) = text.strip_prefix("callLibs ") {
                    let mut path = dir.join(file.trim());
                    if path.is_dir() {
                        path = path.join("default.nix");
                    }
                    scopes.push((name, path));
                }
            }
            NODE_INHERIT => {
                // `inherit (self.strings) a b;` and `inherit (builtins) c;`
                let Some(from) = entry
                    .children()
                    .find(|c| c.kind() == NODE_INHERIT_FROM)
                    .and_then(|f| f.children().next())
                else {
                    continue;
                };
                let from = from.text().to_string();
                let target = if from == "builtins" {
                    "builtins".to_string()
                } else if let Some(scope) = from.strip_prefix("self.") {
                    format!("lib.{scope}")
                } else {
                    continue;
                };
                for attr in entry.children().filter(|c| c.kind() != NODE_INHERIT_FROM) {
                    let name = attr.text().to_string().trim_matches('"').to_string();
                    index.insert(
                        format!("lib.{name}"),
                        Entry {
                            kind: String::new(),
                            doc: format!("@{target}.{name}"),
                        },
                    );
                }
            }
            _ => {}
        }
    }
    for (scope, path) in &scopes {
        if !path.is_file() {
            continue;
        }
        let text = read(path);
        let root = parse(&text);
        let file_doc = root
            .first_token()
            .filter(|t| t.kind() == TOKEN_COMMENT)
            .map(|t| clean_doc(t.text()))
            .unwrap_or_default();
        index.insert(
            format!("lib.{scope}"),
            Entry {
                kind: "scope".into(),
                doc: file_doc,
            },
        );
        let Some(result) = result_set(&root) else {
            continue;
        };
        let lets = let_docs(&root);
        for (name, doc) in documented(&result) {
            // An inherited name takes the documentation of its `let`.
            let doc = doc.or_else(|| lets.get(&name).cloned()).unwrap_or_default();
            let kind = type_line(&doc).unwrap_or_default();
            index.insert(format!("lib.{scope}.{name}"), Entry { kind, doc });
        }
    }
    // Aliases of names the scopes do not define are dropped.
    let documented: Vec<String> = index
        .iter()
        .filter(|(_, e)| !e.doc.starts_with('@'))
        .map(|(k, _)| k.clone())
        .collect();
    index.retain(|_, e| match e.doc.strip_prefix('@') {
        Some(target) => target.starts_with("builtins.") || documented.iter().any(|d| d == target),
        None => true,
    });
    let source = std::env::args()
        .nth(2)
        .unwrap_or_else(|| dir.display().to_string());
    print_index(&source, &index);
}

fn print_index(source: &str, index: &BTreeMap<String, Entry>) {
    println!("# lib.tsv: nixpkgs' `lib`, for cim-nix's hover and completion.");
    println!("# Generated by `cargo run --example gen-lib-index -- NIXPKGS/lib SOURCE`");
    println!("# from the doc comments of {source}.");
    println!("# Columns: path, type (from the doc's `# Type` block; `scope` for a");
    println!("# part of lib), documentation (Markdown, `\\n` for line breaks; `@x`");
    println!("# for a name that is another's alias).");
    println!("#");
    println!("# The documentation is nixpkgs', under its license:");
    println!("# Copyright (c) 2003-2026 Eelco Dolstra and the Nixpkgs/NixOS contributors");
    println!("# Permission is hereby granted, free of charge, to any person obtaining a copy of");
    println!("# this software and associated documentation files (the \"Software\"), to deal in");
    println!("# the Software without restriction, including without limitation the rights to");
    println!("# use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of");
    println!("# the Software, and to permit persons to whom the Software is furnished to do so,");
    println!("# subject to the following conditions: The above copyright notice and this");
    println!("# permission notice shall be included in all copies or substantial portions of");
    println!("# the Software. THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND,");
    println!("# EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF");
    println!("# MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO");
    println!("# EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR");
    println!("# OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING");
    println!("# FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN");
    println!("# THE SOFTWARE.");
    for (path, entry) in index {
        let doc = entry
            .doc
            .replace('\\', "\\\\")
            .replace('\t', "  ")
            .replace('\n', "\\n");
        println!("{path}\t{}\t{doc}", entry.kind.replace('\t', " "));
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("gen-lib-index: cannot read {}: {e}", path.display());
        std::process::exit(1);
    })
}

fn parse(text: &str) -> SyntaxNode {
    let parse = cim_nix::syntax::parse(text);
    parse.syntax().unwrap_or_else(|| {
        eprintln!("gen-lib-index: a file could not be parsed");
        std::process::exit(1);
    })
}

/// The set in lib/default.nix whose members call `callLibs`.
fn library_set(root: &SyntaxNode) -> Option<SyntaxNode> {
    root.descendants().find(|n| {
        n.kind() == NODE_ATTR_SET
            && n.children().any(|c| {
                c.kind() == NODE_ATTRPATH_VALUE && c.text().to_string().contains("callLibs ./")
            })
    })
}

/// The set a library file evaluates to: through its `{ lib }:`, `let`s
/// and `rec`.
fn result_set(root: &SyntaxNode) -> Option<SyntaxNode> {
    let mut node = root.children().next()?;
    for _ in 0..32 {
        node = match node.kind() {
            NODE_LAMBDA | NODE_LET_IN | NODE_WITH | NODE_ASSERT | NODE_PAREN => {
                node.children().last()?
            }
            NODE_ATTR_SET => return Some(node),
            // `lib.fix (self: { ... })`, `private // { ... }`.
            NODE_APPLY | NODE_BIN_OP => node.children().last()?,
            _ => return None,
        };
    }
    None
}

/// The documented bindings of the outermost `let` of a file.
fn let_docs(root: &SyntaxNode) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(let_in) = root.descendants().find(|n| n.kind() == NODE_LET_IN) else {
        return out;
    };
    for (name, doc) in documented(&let_in) {
        if let Some(doc) = doc {
            out.insert(name, doc);
        }
    }
    out
}

/// Each binding of a set or `let` with its documentation: the doc comment
/// (`/** */`) or `#` lines right before it, or a `#` comment after it on
/// its line; a binding with none shows its one-line definition. Inherited
/// names come with none.
fn documented(set: &SyntaxNode) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let mut pending: Option<String> = None;
    let children: Vec<_> = set.children_with_tokens().collect();
    for (i, child) in children.iter().enumerate() {
        match child {
            NodeOrToken::Token(t) if t.kind() == TOKEN_COMMENT => {
                let text = t.text();
                if text.starts_with("/**") {
                    pending = Some(clean_doc(text));
                } else if let Some(line) = text.strip_prefix('#') {
                    // A trailing comment documents the binding before it.
                    let trailing = i >= 2
                        && matches!(&children[i - 1], NodeOrToken::Token(w)
                            if w.kind() == TOKEN_WHITESPACE && !w.text().contains('\n'))
                        && matches!(&children[i - 2], NodeOrToken::Node(n)
                            if n.kind() == NODE_ATTRPATH_VALUE);
                    if trailing {
                        if let Some((_, doc)) = out.last_mut() {
                            if doc.as_deref().is_none_or(|d| d.starts_with('`')) {
                                let shown = doc.take().unwrap_or_default();
                                *doc = Some(
                                    format!("{}\n\n{}", line.trim(), shown).trim().to_string(),
                                );
                            }
                        }
                        continue;
                    }
                    let line = line.trim().to_string();
                    pending = Some(match pending.take() {
                        Some(p) if !p.is_empty() && !text.starts_with("/*") => {
                            format!("{p} {line}")
                        }
                        _ => line,
                    });
                } else {
                    pending = None;
                }
            }
            NodeOrToken::Token(t) if t.kind() == TOKEN_WHITESPACE => {
                // A blank line ends a run of `#` comments that document.
                if t.text().matches('\n').count() > 1
                    && pending.as_ref().is_some_and(|p| !p.contains('\n'))
                {
                    pending = None;
                }
            }
            NodeOrToken::Node(n) if n.kind() == NODE_ATTRPATH_VALUE => {
                if let Some(name) = single_name(n) {
                    let doc = pending.take().filter(|d| !d.is_empty()).or_else(|| {
                        let text = n.text().to_string();
                        (text.len() <= 100 && !text.contains('\n')).then(|| format!("`{text}`"))
                    });
                    out.push((name, doc));
                }
                pending = None;
            }
            NodeOrToken::Node(n) if n.kind() == NODE_INHERIT => {
                for attr in n.children().filter(|c| c.kind() != NODE_INHERIT_FROM) {
                    out.push((attr.text().to_string().trim_matches('"').to_string(), None));
                }
                pending = None;
            }
            _ => pending = None,
        }
    }
    out
}

fn single_name(binding: &SyntaxNode) -> Option<String> {
    let path = binding.children().next()?;
    let mut attrs = path.children();
    let first = attrs.next()?;
    if attrs.next().is_some() {
        return None;
    }
    Some(first.text().to_string().trim_matches('"').to_string())
}

/// A doc comment's text: without `/**` and `*/`, dedented, with the
/// nixpkgs manual's `:::` fences taken out and headings made bold.
fn clean_doc(comment: &str) -> String {
    let inner = comment
        .trim_start_matches("/**")
        .trim_start_matches("/*")
        .trim_end_matches("*/");
    let lines: Vec<&str> = inner.lines().collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = Vec::new();
    for line in lines {
        let line = line.get(indent..).unwrap_or(line.trim_start()).trim_end();
        if line.starts_with(":::") {
            continue;
        }
        let heading = line.trim_start_matches('#');
        if heading.len() < line.len() && heading.starts_with(' ') {
            out.push(format!("**{}**", heading.trim()));
            continue;
        }
        out.push(line.to_string());
    }
    let mut text = out.join("\n").trim().to_string();
    while text.contains("\n\n\n") {
        text = text.replace("\n\n\n", "\n\n");
    }
    if text.len() > MAX_DOC {
        let mut cut = text[..MAX_DOC].rfind('\n').unwrap_or(MAX_DOC);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        // An open code block would swallow the rest of the hover.
        let mut shortened = text[..cut].to_string();
        if shortened.matches("```").count() % 2 == 1 {
            shortened.push_str("\n```");
        }
        shortened.push_str("\n\n…");
        text = shortened;
    }
    text
}

/// The first line of the doc's `# Type` block: `join :: String -> ...`.
fn type_line(doc: &str) -> Option<String> {
    let after = doc.split("**Type**").nth(1)?;
    let block = after.split("```").nth(1)?;
    block
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("nix"))
        .map(str::to_string)
}
