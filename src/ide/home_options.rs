//! Home Manager option names where a key is written in a Home Manager
//! scope: a Home Manager module, or `home-manager.users.<name>` of a NixOS
//! or nix-darwin module. The names come from the option index
//! (`crate::home::options`), with each option's type; the documentation
//! ([`markdown`]) adds its description and what replaced a deprecated one.

use rnix::{SyntaxKind, SyntaxNode, SyntaxToken};

use super::completion::{CompletionItem, CompletionKind, DocKey};
use crate::home::options::{index, DeprecationKind, Lookup};
use crate::syntax::green::static_attr_name;

use SyntaxKind::*;

/// The option names that may be written after `before` (a `{` or `;`
/// starting a key, or the `.` of a key's path), or `None` outside a Home
/// Manager scope.
pub(super) fn items(root: &SyntaxNode, before: &SyntaxToken) -> Option<Vec<CompletionItem>> {
    let (set, typed) = key_at(before)?;
    let mut path = path_to(&set)?;
    path.extend(typed);
    let path = home_scope(root, path)?;
    let names: Vec<&str> = path.iter().map(String::as_str).collect();
    let pattern = match index().lookup(&names) {
        Lookup::Namespace(pattern) => pattern,
        Lookup::Option(pattern, info) if info.is_open() => pattern,
        _ => return None,
    };
    let mut items = Vec::new();
    for child in index().children(pattern) {
        if matches!(*child, "<name>" | "*") {
            continue;
        }
        let full = join(pattern, child);
        let deprecated = index().deprecation(&full).is_some();
        let option = index().option(&full);
        if option.is_some_and(|o| !o.visible) || deprecated {
            continue;
        }
        let (kind, detail) = match option {
            Some(info) => (CompletionKind::Field, info.kind.to_string()),
            None => (CompletionKind::Module, "options".to_string()),
        };
        items.push(CompletionItem {
            label: child.to_string(),
            kind,
            detail: Some(detail),
            sort: format!("0{child}"),
            insert: crate::syntax::literal::attr_name(child),
            docs: Some(DocKey::HomeOption(full)),
        });
    }
    Some(items)
}

/// Markdown for a Home Manager option (or a prefix of options).
pub(super) fn markdown(pattern: &str) -> Option<String> {
    let index = index();
    let mut out = format!("**Home Manager** `{pattern}`");
    if let Some(text) = crate::home::options::description(pattern) {
        out.push_str(&format!("\n\n{text}"));
    }
    match index.option(pattern) {
        Some(info) => out.push_str(&format!("\n\nType: `{}`", info.kind)),
        None if !index.children(pattern).is_empty() => {
            out.push_str(&format!(
                "\n\nOptions below: {}",
                index.children(pattern).len()
            ));
        }
        None => return None,
    }
    if let Some(d) = index.deprecation(pattern) {
        let what = match d.kind {
            DeprecationKind::Renamed => "Renamed",
            DeprecationKind::Removed => "Removed",
            DeprecationKind::Changed => "Changed",
            DeprecationKind::Deprecated => "Deprecated",
        };
        out.push_str(&format!("\n\n{what}"));
        if !d.new.is_empty() {
            out.push_str(&format!(": use `{}`", d.new));
        }
    }
    let anchor = pattern.replace("<name>", "_name_").replace('*', "_");
    out.push_str(&format!(
        "\n\n[Home Manager options](https://nix-community.github.io/home-manager/options.xhtml#opt-{anchor})"
    ));
    Some(out)
}

fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

/// The set a key is being written in, and the names of the key's path
/// typed before `before` (`programs.` gives `["programs"]`).
fn key_at(before: &SyntaxToken) -> Option<(SyntaxNode, Vec<String>)> {
    match before.kind() {
        TOKEN_L_BRACE | TOKEN_SEMICOLON => {
            let set = match before.kind() {
                // `{ baseI }` reads as a function's pattern until a `=`
                // follows: a pattern without its `:` is the set being typed.
                TOKEN_L_BRACE => match before.parent()? {
                    p if p.kind() == NODE_PATTERN => {
                        let lambda = p.parent()?;
                        let colon = lambda
                            .children_with_tokens()
                            .any(|t| t.kind() == TOKEN_COLON);
                        return (!colon).then_some((lambda, Vec::new()));
                    }
                    p => p,
                },
                _ => {
                    let member = before.parent()?;
                    if !matches!(member.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT) {
                        return None;
                    }
                    member.parent()?
                }
            };
            (set.kind() == NODE_ATTR_SET).then_some((set, Vec::new()))
        }
        TOKEN_DOT => {
            // `a.b.|` as written (the parser may not have read a binding
            // yet), back to the token that starts the key.
            let mut names = Vec::new();
            let mut token = before.prev_token()?;
            loop {
                let name = match token.kind() {
                    TOKEN_IDENT => token.text().to_string(),
                    TOKEN_STRING_END => {
                        let string = token.parent()?;
                        token = string.first_token()?;
                        static_attr_name(&string)?.to_string()
                    }
                    _ => return None,
                };
                names.insert(0, name);
                match token.prev_token() {
                    Some(t) if t.kind() == TOKEN_DOT => token = t.prev_token()?,
                    Some(t) => {
                        let start = skip_trivia_back(t)?;
                        if !matches!(start.kind(), TOKEN_L_BRACE | TOKEN_SEMICOLON) {
                            return None;
                        }
                        let (set, _) = key_at(&start)?;
                        return Some((set, names));
                    }
                    None => return None,
                }
            }
        }
        _ => None,
    }
}

fn skip_trivia_back(mut token: SyntaxToken) -> Option<SyntaxToken> {
    for _ in 0..10_000 {
        if !matches!(token.kind(), TOKEN_WHITESPACE | TOKEN_COMMENT) {
            return Some(token);
        }
        token = token.prev_token()?;
    }
    None
}

/// The option path of `set`'s keys: the names of the bindings it is the
/// value of, outwards, through `lib.mkIf c { ... }`, `lib.mkMerge [ ... ]`
/// and parentheses; a list element is `*`. `None` when the set is not in
/// a module's options (a `let` binding, a function's argument).
fn path_to(set: &SyntaxNode) -> Option<Vec<String>> {
    let mut path: Vec<String> = Vec::new();
    let mut node = set.clone();
    for _ in 0..256 {
        let parent = match node.parent() {
            Some(p) => p,
            None => break,
        };
        match parent.kind() {
            NODE_ATTRPATH_VALUE => {
                let attrpath = parent.children().find(|c| c.kind() == NODE_ATTRPATH)?;
                let mut names = Vec::new();
                for attr in attrpath.children() {
                    names.push(static_attr_name(&attr)?.to_string());
                }
                names.extend(path);
                path = names;
                // Up to the set this binding is in.
                node = parent.parent()?;
                if node.kind() != NODE_ATTR_SET {
                    return None;
                }
            }
            NODE_PAREN => node = parent,
            // `lib.mkIf cond { ... }`, `mkDefault { ... }`: the argument.
            NODE_APPLY if parent.children().nth(1).as_ref() == Some(&node) => node = parent,
            NODE_LIST => {
                // `mkMerge [ { ... } ]` keeps the path; an option's list
                // (`includes = [ { ... } ]`) goes into its elements.
                let merged = parent
                    .parent()
                    .filter(|p| p.kind() == NODE_APPLY)
                    .and_then(|apply| apply.children().next())
                    .is_some_and(|f| f.text().to_string().ends_with("mkMerge"));
                if !merged {
                    path.insert(0, "*".into());
                }
                node = parent;
            }
            // The module's own set: the body of `{ pkgs, ... }: { ... }`,
            // or the whole file.
            NODE_LAMBDA | NODE_ROOT | NODE_WITH | NODE_ASSERT => break,
            NODE_LET_IN if parent.children().last().as_ref() == Some(&node) => break,
            _ => return None,
        }
    }
    // `*` is only meaningful after an option name.
    if path.first().is_some_and(|p| p == "*") {
        return None;
    }
    Some(path)
}

/// `path` as Home Manager option names: as is in a Home Manager module,
/// without `home-manager.users.<name>` in a NixOS or darwin module, else
/// `None`.
fn home_scope(root: &SyntaxNode, path: Vec<String>) -> Option<Vec<String>> {
    if path.len() >= 3 && path[0] == "home-manager" && path[1] == "users" {
        return Some(path[3..].to_vec());
    }
    if path.len() == 2 && path[0] == "home-manager" && path[1] == "users" {
        // The user's name is written here.
        return None;
    }
    crate::home::read(root, false)
        .is_home_manager
        .then_some(path)
}
