//! Path literals (`./x.nix`, `../lib`, `/etc/nixos`) and the files they
//! name: relative to the file they are written in, a directory standing
//! for its `default.nix`, as Nix's `import` reads them. Lexical only: the
//! world says what exists.

use std::path::{Component, Path, PathBuf};

use rnix::{SyntaxKind, SyntaxNode};

use super::{PathKind, World};

/// The text of a path literal without interpolation (`./a/b.nix`), for a
/// `NODE_PATH_*` node or its token's parent.
pub(crate) fn literal(node: &SyntaxNode) -> Option<String> {
    use SyntaxKind::*;
    if !matches!(node.kind(), NODE_PATH_REL | NODE_PATH_ABS | NODE_PATH_HOME) {
        return None;
    }
    let mut tokens = node.children_with_tokens();
    let first = tokens.next()?.into_token()?;
    if tokens.next().is_some() {
        return None; // `./a/${b}`: not known without evaluating
    }
    Some(first.text().to_string())
}

/// The file a path literal written in `from` names: the path itself, or a
/// directory's `default.nix`. `None` for search paths, home paths and
/// paths in a text that is no file.
pub(crate) fn resolve(from: Option<&Path>, literal: &str, world: &dyn World) -> Option<PathBuf> {
    let path = absolute(from, literal)?;
    match world.path_kind(&path) {
        PathKind::Directory => Some(path.join("default.nix")),
        _ => Some(path),
    }
}

/// The absolute, normalised path a literal names, whether or not it exists.
pub(crate) fn absolute(from: Option<&Path>, literal: &str) -> Option<PathBuf> {
    let literal = literal.trim_end_matches('/');
    let joined = if literal.starts_with('/') {
        return Some(normalize_absolute("", literal));
    } else if literal.starts_with("./") || literal.starts_with("../") {
        let dir = from?.parent()?;
        match dir.to_str() {
            Some(dir) if dir.starts_with('/') => return Some(normalize_absolute(dir, literal)),
            _ => dir.join(literal),
        }
    } else {
        return None;
    };
    Some(normalize(&joined))
}

/// [`normalize`] of `dir/rel` for a Unix path `dir` that is absolute (or
/// empty, for `rel` absolute), on the text: one allocation, where the
/// walk over components took a sixth of listing a package set's links.
fn normalize_absolute(dir: &str, rel: &str) -> PathBuf {
    let mut out = String::with_capacity(dir.len() + rel.len() + 1);
    for part in dir.split('/').chain(rel.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                let up = out.rfind('/').unwrap_or(0);
                out.truncate(up);
            }
            part => {
                out.push('/');
                out.push_str(part);
            }
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    PathBuf::from(out)
}

/// `a/./b/../c` as `a/c`, without asking the file system (Nix does the
/// same: `..` is taken lexically).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_resolve_relative_to_their_file() {
        let from = Path::new("/w/pkgs/top.nix");
        assert_eq!(
            absolute(Some(from), "./a/../b.nix"),
            Some(PathBuf::from("/w/pkgs/b.nix"))
        );
        assert_eq!(
            absolute(Some(from), "../lib/"),
            Some(PathBuf::from("/w/lib"))
        );
        assert_eq!(
            absolute(None, "/etc/nixos"),
            Some(PathBuf::from("/etc/nixos"))
        );
        assert_eq!(absolute(None, "./x.nix"), None);
        assert_eq!(absolute(Some(from), "<nixpkgs>"), None);
        assert_eq!(absolute(Some(from), "~/x.nix"), None);
    }

    #[test]
    fn the_text_walk_normalises_as_the_components_walk() {
        for dir in ["/", "/w", "/w/a b/", "/w/./x/../y", "//w//v"] {
            for rel in [
                "./a.nix",
                "../a",
                "../../../../a",
                "./a/./b/../c/",
                "./.",
                "../",
                "./a//b",
                "/abs/../x",
                "/",
                "/..",
                "/a/b/..",
            ] {
                let by_text = if rel.starts_with('/') {
                    normalize_absolute("", rel.trim_end_matches('/'))
                } else {
                    normalize_absolute(dir, rel.trim_end_matches('/'))
                };
                let joined = if rel.starts_with('/') {
                    PathBuf::from(rel.trim_end_matches('/'))
                } else {
                    Path::new(dir).join(rel.trim_end_matches('/'))
                };
                let joined = if joined.as_os_str().is_empty() {
                    PathBuf::from("/")
                } else {
                    joined
                };
                assert_eq!(by_text, normalize(&joined), "{dir} + {rel}");
            }
        }
    }
}
