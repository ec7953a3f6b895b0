//! Document links: path literals to the files they name (a directory to
//! its `default.nix`), URLs written as strings or bare URL literals, and a
//! flake's input references (`github:owner/repo/ref`, `gitlab:`,
//! `sourcehut:`, `git+https://...`, `path:./x`) to where they point. Also
//! the files a file refers to, which the workspace index keeps to find who
//! imports whom.

use std::path::PathBuf;

use rnix::{SyntaxKind, SyntaxNode};
use rowan::TextRange;

use super::{paths, Doc, PathKind, World};
use crate::flake::{flakeref, FlakeModel};
use crate::syntax::green::{E, N};

use SyntaxKind::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTarget {
    File(PathBuf),
    Url(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub range: TextRange,
    pub target: LinkTarget,
}

/// What the walk finds that may be a link, by its range (the text there
/// is the literal): a path literal (resolved against the world
/// afterwards) or a web URL. Twelve bytes: all-packages.nix has 9 000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    Path(TextRange),
    Url(TextRange),
}

impl Found {
    fn moved(self, by: rowan::TextSize, up: bool) -> Found {
        let shift = |r: TextRange| if up { r + by } else { r - by };
        match self {
            Found::Path(range) => Found::Path(shift(range)),
            Found::Url(range) => Found::Url(shift(range)),
        }
    }
}

/// The links of a file, in source order.
pub fn document_links(doc: &Doc, world: &dyn World) -> Vec<Link> {
    let mut links = Vec::new();
    for found in find(doc) {
        match found {
            Found::Path(range) => {
                let Some(path) = paths::absolute(doc.path.as_deref(), &doc.text()[range]) else {
                    continue;
                };
                // A directory stands for its `default.nix`, as `import` reads it.
                let target = match world.path_kind(&path) {
                    PathKind::File => path,
                    PathKind::Directory => path.join("default.nix"),
                    PathKind::Missing => continue,
                };
                links.push(Link {
                    range,
                    target: LinkTarget::File(target),
                });
            }
            Found::Url(range) => links.push(Link {
                range,
                target: LinkTarget::Url(doc.text()[range].to_string()),
            }),
        }
    }
    if is_flake(doc) {
        if let Some(root) = doc.root() {
            links.extend(flake_links(doc, root, world));
        }
    }
    links.sort_by_key(|l| (l.range.start(), l.range.end()));
    // A flake reference that is also a web URL is one link.
    links.dedup_by(|a, b| a.range == b.range);
    links
}

/// Whether `text` may name Home Manager modules at all: without one of the
/// words that name them, [`home_module_links`] finds none, and the file
/// need not be parsed for them.
pub fn may_name_home_modules(text: &str) -> bool {
    crate::home::references::NAMING_WORDS.in_text(text)
}

/// The files `doc` names as Home Manager modules (resolved; whether or not
/// they exist).
pub fn home_module_links(doc: &Doc, world: &dyn World) -> Vec<PathBuf> {
    modules_named(doc, world, |root| {
        let mut literals = crate::home::references::home_module_paths(root);
        // A Home Manager module's own imports are Home Manager modules too.
        if crate::home::read(root, false).is_home_manager {
            literals.extend(crate::home::references::imported_paths(root));
        }
        literals
    })
}

/// The modules `doc` imports (its top-level `imports`), resolved: a file
/// named as a Home Manager module makes these Home Manager modules too.
pub fn module_imports(doc: &Doc, world: &dyn World) -> Vec<PathBuf> {
    modules_named(doc, world, crate::home::references::imported_paths)
}

/// The path literals `read` finds in `doc`, resolved, sorted, once each.
fn modules_named(
    doc: &Doc,
    world: &dyn World,
    read: impl Fn(&rnix::SyntaxNode) -> Vec<String>,
) -> Vec<PathBuf> {
    let Some(root) = doc.analysis().parse.as_ref().and_then(|p| p.syntax()) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = read(&root)
        .iter()
        .filter_map(|literal| paths::resolve(doc.path.as_deref(), literal, world))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The files a file's path literals name (whether or not they exist).
pub fn file_links(doc: &Doc, world: &dyn World) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = find(doc)
        .into_iter()
        .filter_map(|found| match found {
            Found::Path(range) => paths::resolve(doc.path.as_deref(), &doc.text()[range], world),
            Found::Url(_) => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

type LinkMemo<'m> = Option<crate::ide::memo::Use<'m, Found>>;

/// Every path literal and web URL of the file, in order; big sets' chunks
/// that did not change from the memo.
fn find(doc: &Doc) -> Vec<Found> {
    let Some(green) = doc.analysis().parse.as_ref().and_then(|p| p.green()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut memo = doc.memo().map(|m| m.links.begin());
    find_in(
        &N {
            green,
            offset: 0.into(),
        },
        &mut out,
        &mut memo,
    );
    out
}

/// Recursive: the parse keeps trees within MAX_TREE_DEPTH, and features
/// run on threads with room for that.
fn find_in(node: &N<'_>, out: &mut Vec<Found>, memo: &mut LinkMemo<'_>) {
    if memo.is_some() {
        if let Some(chunks) = crate::analysis::semantic::memo::set_chunks(node) {
            for child in node.children() {
                if !matches!(child.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT) {
                    find_in(&child, out, memo);
                }
            }
            // Links are sorted afterwards: the members' may come after.
            for (key, members) in &chunks {
                let start = members[0].offset;
                let span = match memo.as_mut().and_then(|m| m.get(*key, members, 0)) {
                    Some(span) => span,
                    None => {
                        let mut found = Vec::new();
                        for m in members {
                            find_in(m, &mut found, memo);
                        }
                        let found: Vec<Found> =
                            found.iter().map(|f| f.moved(start, false)).collect();
                        // Links are not split by member: one end for all.
                        let ends = vec![found.len() as u32; members.len()];
                        match memo.as_mut() {
                            Some(m) => m.put(*key, members, 0, &found, &ends, ""),
                            None => continue,
                        }
                    }
                };
                if let Some(memo) = memo.as_ref() {
                    out.extend(memo.items(span).iter().map(|f| f.moved(start, true)));
                }
            }
            return;
        }
    }
    match node.kind() {
        NODE_PATH_REL | NODE_PATH_ABS => {
            if let Some(range) = path_literal(node) {
                out.push(Found::Path(range));
            }
        }
        NODE_LITERAL => {
            if let Some(E::Token(token)) = node.children_with_tokens().next() {
                if token.kind() == TOKEN_URI && is_web_url(token.text()) {
                    out.push(Found::Url(token.text_range()));
                }
            }
        }
        NODE_STRING => {
            if let Some((range, content)) = plain_string(node) {
                if is_web_url(content) {
                    out.push(Found::Url(range));
                }
            }
        }
        _ => {}
    }
    for child in node.children() {
        find_in(&child, out, memo);
    }
}

/// Where the text of a path literal without interpolation is.
fn path_literal(node: &N<'_>) -> Option<TextRange> {
    let mut tokens = node.children_with_tokens();
    let Some(E::Token(first)) = tokens.next() else {
        return None;
    };
    tokens.next().is_none().then(|| first.text_range())
}

fn is_web_url(text: &str) -> bool {
    (text.starts_with("https://") || text.starts_with("http://"))
        && text.len() > "https://".len()
        && !text.contains(char::is_whitespace)
}

/// A string without interpolation: the range of its content and the text.
fn plain_string<'a>(node: &N<'a>) -> Option<(TextRange, &'a str)> {
    let mut content = None;
    for child in node.children_with_tokens() {
        match child {
            E::Token(t) if matches!(t.kind(), TOKEN_STRING_START | TOKEN_STRING_END) => {}
            E::Token(t) if t.kind() == TOKEN_STRING_CONTENT && content.is_none() => {
                content = Some((t.text_range(), t.text()));
            }
            _ => return None,
        }
    }
    content.filter(|(_, text)| !text.contains('\\'))
}

fn is_flake(doc: &Doc) -> bool {
    doc.path
        .as_deref()
        .and_then(|p| p.file_name())
        .is_some_and(|n| n == "flake.nix")
}

/// Each input's url, as the web page or folder it names.
fn flake_links(doc: &Doc, root: &SyntaxNode, world: &dyn World) -> Vec<Link> {
    let Some(model) = FlakeModel::from_tree(root) else {
        return Vec::new();
    };
    let mut links = Vec::new();
    for input in &model.inputs {
        let (Some(url), Some(range)) = (&input.url, input.url_range) else {
            continue;
        };
        // Inside the quotes.
        let range = if range.len() >= 2.into() && doc.text()[range].starts_with('"') {
            TextRange::new(
                range.start() + rowan::TextSize::from(1),
                range.end() - rowan::TextSize::from(1),
            )
        } else {
            range
        };
        if let Some(target) = flake_target(doc, url, world) {
            links.push(Link { range, target });
        }
    }
    links
}

/// Where a flake reference points: a forge's page, the URL of a git or
/// tarball reference, or a local folder.
fn flake_target(doc: &Doc, url: &str, world: &dyn World) -> Option<LinkTarget> {
    let attrs = flakeref::parse(url)?;
    let get = |k: &str| attrs.get(k).map(String::as_str);
    let web = |host: &str| {
        let mut page = format!("https://{host}/{}/{}", get("owner")?, get("repo")?);
        if let Some(r) = get("rev").or(get("ref")) {
            let tree = if host == "gitlab.com" {
                "/-/tree/"
            } else {
                "/tree/"
            };
            page.push_str(tree);
            page.push_str(r);
        }
        Some(page)
    };
    let target = match get("type")? {
        "github" => LinkTarget::Url(web("github.com")?),
        "gitlab" => LinkTarget::Url(web("gitlab.com")?),
        "sourcehut" => {
            let owner = get("owner")?;
            LinkTarget::Url(format!("https://git.sr.ht/{owner}/{}", get("repo")?))
        }
        "git" | "tarball" | "file" | "hg" => {
            let target = get("url")?;
            if !is_web_url(target) {
                return None;
            }
            LinkTarget::Url(target.to_string())
        }
        "path" => {
            let path = get("path")?;
            let absolute = if path.starts_with('/') {
                PathBuf::from(path)
            } else {
                paths::absolute(
                    doc.path.as_deref(),
                    &format!("./{}", path.trim_start_matches("./")),
                )?
            };
            if world.path_kind(&absolute) == PathKind::Missing {
                return None;
            }
            LinkTarget::File(absolute)
        }
        _ => return None,
    };
    Some(target)
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::LinkTarget;
    use expect_test::{expect, Expect};

    fn check(fixture: &str, expect: Expect) {
        let f = Fixture::parse(fixture);
        let doc = f.doc();
        let links = super::document_links(&doc, &f);
        let text = links
            .iter()
            .map(|l| {
                let target = match &l.target {
                    LinkTarget::File(p) => p.display().to_string(),
                    LinkTarget::Url(u) => u.clone(),
                };
                format!("{} -> {target}", &doc.text()[l.range])
            })
            .collect::<Vec<_>>()
            .join("\n");
        expect.assert_eq(&text);
    }

    #[test]
    fn paths_urls_and_missing_files() {
        check(
            r#"
//- /main.nix
{
  a = import ./lib;
  b = ./missing.nix;
  src = "https://example.org/x.tar.gz";
  old = http://example.org/y;
  notes = "see https://example.org inside a sentence";
}
//- /lib/default.nix
{ }
"#,
            expect![[r#"
                ./lib -> /lib/default.nix
                https://example.org/x.tar.gz -> https://example.org/x.tar.gz
                http://example.org/y -> http://example.org/y"#]],
        );
    }

    #[test]
    fn flake_inputs_link_to_their_pages() {
        check(
            r#"
//- /flake.nix
{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";
  inputs.hm.url = "gitlab:owner/repo";
  inputs.local.url = "path:./sub";
  inputs.tarball.url = "https://example.org/a.tar.gz";
  outputs = _: { };
}
//- /sub/flake.nix
{ outputs = _: { }; }
"#,
            expect![[r#"
                github:NixOS/nixpkgs/nixos-24.05 -> https://github.com/NixOS/nixpkgs/tree/nixos-24.05
                gitlab:owner/repo -> https://gitlab.com/owner/repo
                path:./sub -> /sub
                https://example.org/a.tar.gz -> https://example.org/a.tar.gz"#]],
        );
    }
}
