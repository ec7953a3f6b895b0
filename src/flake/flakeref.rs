//! Flake references (`github:NixOS/nixpkgs/nixos-24.05`, `git+https://...`,
//! `nixpkgs`, ...) read into the attribute form flake.lock's `original`
//! uses, so a declared URL can be compared with what was locked.

use std::collections::BTreeMap;

/// A flake reference in attribute form: `type` plus the fields Nix writes
/// for that type (`owner`, `repo`, `ref`, `rev`, `dir`, `url`, `id`, ...).
pub type Attrs = BTreeMap<String, String>;

/// Reads `url` the way `nix flake lock` writes it into `original`. Returns
/// `None` for a form this reader does not know, so that nothing is
/// compared on a guess.
pub fn parse(url: &str) -> Option<Attrs> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut attrs = Attrs::new();
    if let Some((scheme, rest)) = base.split_once(':') {
        match scheme {
            "github" | "gitlab" | "sourcehut" => {
                let mut parts = rest.split('/');
                let owner = parts.next().filter(|s| !s.is_empty())?;
                let repo = parts.next().filter(|s| !s.is_empty())?;
                attrs.insert("type".into(), scheme.into());
                attrs.insert("owner".into(), owner.into());
                attrs.insert("repo".into(), repo.into());
                let ref_or_rev: Vec<&str> = parts.collect();
                if !ref_or_rev.is_empty() {
                    insert_ref_or_rev(&mut attrs, &ref_or_rev.join("/"));
                }
            }
            "flake" => indirect(&mut attrs, rest)?,
            "path" => {
                attrs.insert("type".into(), "path".into());
                attrs.insert("path".into(), rest.into());
            }
            _ => {
                let (kind, transport) = match scheme.split_once('+') {
                    Some((kind, transport)) => (kind, transport),
                    None => (
                        match scheme {
                            "http" | "https" | "file" if is_archive(base) => "tarball",
                            "http" | "https" => "file",
                            _ => return None,
                        },
                        scheme,
                    ),
                };
                if !matches!(kind, "git" | "hg" | "tarball" | "file") {
                    return None;
                }
                attrs.insert("type".into(), kind.into());
                attrs.insert("url".into(), format!("{transport}:{rest}"));
            }
        }
    } else if base.starts_with('/') || base.starts_with('.') {
        attrs.insert("type".into(), "path".into());
        attrs.insert("path".into(), base.into());
    } else {
        indirect(&mut attrs, base)?;
    }
    for (key, value) in query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|p| p.split_once('='))
    {
        let kind = attrs.get("type").map(String::as_str);
        // Tarball and file URLs keep their query: it is part of the address.
        if matches!(kind, Some("tarball" | "file")) && !matches!(key, "dir" | "narHash") {
            if let Some(url) = attrs.get_mut("url") {
                let sep = if url.contains('?') { '&' } else { '?' };
                url.push(sep);
                url.push_str(&format!("{key}={value}"));
            }
            continue;
        }
        attrs.insert(key.into(), value.into());
    }
    Some(attrs)
}

fn indirect(attrs: &mut Attrs, rest: &str) -> Option<()> {
    let mut parts = rest.splitn(2, '/');
    let id = parts.next().filter(|s| is_flake_id(s))?;
    attrs.insert("type".into(), "indirect".into());
    attrs.insert("id".into(), id.into());
    if let Some(r) = parts.next() {
        insert_ref_or_rev(attrs, r);
    }
    Some(())
}

fn insert_ref_or_rev(attrs: &mut Attrs, value: &str) {
    let key = if is_rev(value) { "rev" } else { "ref" };
    attrs.insert(key.into(), value.into());
}

fn is_rev(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_flake_id(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn is_archive(url: &str) -> bool {
    [
        ".zip", ".tar", ".tgz", ".tar.gz", ".tar.xz", ".tar.bz2", ".tar.zst",
    ]
    .iter()
    .any(|ext| url.ends_with(ext))
}

pub use crate::analysis::rules::insecure_scheme;

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> Attrs {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn github_with_branch_rev_and_dir() {
        assert_eq!(
            parse("github:NixOS/nixpkgs/nixos-24.05"),
            Some(attrs(&[
                ("type", "github"),
                ("owner", "NixOS"),
                ("repo", "nixpkgs"),
                ("ref", "nixos-24.05")
            ]))
        );
        assert_eq!(
            parse("github:numtide/flake-utils"),
            Some(attrs(&[
                ("type", "github"),
                ("owner", "numtide"),
                ("repo", "flake-utils")
            ]))
        );
        let rev = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            parse(&format!("github:a/b/{rev}?dir=lib")),
            Some(attrs(&[
                ("type", "github"),
                ("owner", "a"),
                ("repo", "b"),
                ("rev", rev),
                ("dir", "lib")
            ]))
        );
        assert_eq!(
            parse("github:NixOS/nixpkgs?ref=release-24.05"),
            Some(attrs(&[
                ("type", "github"),
                ("owner", "NixOS"),
                ("repo", "nixpkgs"),
                ("ref", "release-24.05")
            ]))
        );
    }

    #[test]
    fn git_tarball_path_and_indirect() {
        assert_eq!(
            parse("git+https://git.example.org/a/b.git?ref=main"),
            Some(attrs(&[
                ("type", "git"),
                ("url", "https://git.example.org/a/b.git"),
                ("ref", "main")
            ]))
        );
        assert_eq!(
            parse("https://example.org/x.tar.gz"),
            Some(attrs(&[
                ("type", "tarball"),
                ("url", "https://example.org/x.tar.gz")
            ]))
        );
        assert_eq!(
            parse("path:./sub"),
            Some(attrs(&[("type", "path"), ("path", "./sub")]))
        );
        assert_eq!(
            parse("nixpkgs"),
            Some(attrs(&[("type", "indirect"), ("id", "nixpkgs")]))
        );
        assert_eq!(
            parse("flake:nixpkgs/nixos-24.05"),
            Some(attrs(&[
                ("type", "indirect"),
                ("id", "nixpkgs"),
                ("ref", "nixos-24.05")
            ]))
        );
        assert_eq!(parse("svn://x"), None);
        assert_eq!(parse("github:only-owner"), None);
    }

    #[test]
    fn insecure_schemes_except_this_machine() {
        assert_eq!(insecure_scheme("http://example.org/x.tar.gz"), Some("http"));
        assert_eq!(insecure_scheme("git://git.example.org/x"), Some("git"));
        assert_eq!(
            insecure_scheme("git+http://example.org/x"),
            Some("git+http")
        );
        assert_eq!(insecure_scheme("ftp://example.org/x"), Some("ftp"));
        assert_eq!(insecure_scheme("http://localhost:8080/x"), None);
        assert_eq!(insecure_scheme("http://127.0.0.1/x"), None);
        assert_eq!(insecure_scheme("http://[::1]:80/x"), None);
        assert_eq!(insecure_scheme("https://example.org"), None);
        assert_eq!(insecure_scheme("github:NixOS/nixpkgs"), None);
        assert_eq!(insecure_scheme("git+ssh://git@example.org/x"), None);
    }
}
