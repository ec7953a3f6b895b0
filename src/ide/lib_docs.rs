//! nixpkgs' `lib`: each function's type and documentation, from
//! `data/lib.tsv`. That file is generated from the doc comments of a
//! nixpkgs checkout by `cargo run --example gen-lib-index -- NIXPKGS/lib >
//! src/ide/data/lib.tsv` (its header names the source and carries
//! nixpkgs' license); regenerate it to follow a newer nixpkgs.

use std::sync::OnceLock;

use super::builtins;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibEntry {
    /// `lib.strings.concatStrings`.
    pub path: &'static str,
    /// The `# Type` line (`concatStrings :: [String] -> String`), `scope`
    /// for a part of `lib`, or empty.
    pub kind: &'static str,
    /// Markdown, with `\n` escaped; `@target` for an alias.
    raw_doc: &'static str,
}

impl LibEntry {
    pub fn is_scope(&self) -> bool {
        self.kind == "scope"
    }

    /// The last name of the path.
    pub fn name(&self) -> &'static str {
        self.path.rsplit('.').next().unwrap_or(self.path)
    }

    /// The documentation, unescaped.
    pub fn doc(&self) -> String {
        unescape(self.raw_doc)
    }

    /// What it is an alias of (`lib.strings.concatStrings`,
    /// `builtins.toJSON`).
    pub fn alias_of(&self) -> Option<&'static str> {
        self.raw_doc.strip_prefix('@')
    }
}

const DATA: &str = include_str!("data/lib.tsv");

/// Every entry, sorted by path.
pub fn all() -> &'static [LibEntry] {
    static ALL: OnceLock<Vec<LibEntry>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut entries: Vec<LibEntry> = DATA
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|line| {
                let mut cols = line.splitn(3, '\t');
                Some(LibEntry {
                    path: cols.next()?,
                    kind: cols.next()?,
                    raw_doc: cols.next()?,
                })
            })
            .collect();
        entries.sort_by(|a, b| a.path.cmp(b.path));
        entries
    })
}

pub fn find(path: &str) -> Option<&'static LibEntry> {
    let all = all();
    all.binary_search_by(|e| e.path.cmp(path))
        .ok()
        .map(|i| &all[i])
}

/// The entry a path names, through aliases (`lib.concatStrings` is
/// `lib.strings.concatStrings`); `None` for an alias of a builtin.
pub fn resolve(path: &str) -> Option<&'static LibEntry> {
    let mut entry = find(path)?;
    for _ in 0..4 {
        match entry.alias_of() {
            Some(target) => entry = find(target)?,
            None => return Some(entry),
        }
    }
    None
}

/// The entries directly under a scope: `lib` gives `lib.strings`,
/// `lib.mkIf`, ...; `lib.strings` its functions.
pub fn members(scope: &str) -> Vec<&'static LibEntry> {
    let prefix = format!("{scope}.");
    let all = all();
    let start = all.partition_point(|e| e.path < prefix.as_str());
    all[start..]
        .iter()
        .take_while(|e| e.path.starts_with(&prefix))
        .filter(|e| !e.path[prefix.len()..].contains('.'))
        .collect()
}

/// Hover text for a `lib` path, when the index has it.
pub fn markdown(path: &str) -> Option<String> {
    let entry = find(path)?;
    if let Some(target) = entry.alias_of() {
        if let Some(builtin) = target.strip_prefix("builtins.") {
            let b = builtins::find(builtin)?;
            return Some(format!(
                "`{path}` is `{target}`\n\n{}",
                builtins::markdown(b)
            ));
        }
    }
    let resolved = resolve(path)?;
    let mut out = String::new();
    if !resolved.kind.is_empty() && !resolved.is_scope() {
        out.push_str(&format!("```nix\n{}\n```\n", resolved.kind));
    }
    let doc = resolved.doc();
    if !doc.is_empty() {
        out.push_str(&doc);
        out.push_str("\n\n");
    }
    if resolved.path == path {
        out.push_str(&format!("`{path}` · nixpkgs lib"));
    } else {
        out.push_str(&format!("`{path}` (`{}`) · nixpkgs lib", resolved.path));
    }
    Some(out)
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_has_the_functions_people_use() {
        for path in [
            "lib.mkIf",
            "lib.mkOption",
            "lib.optionals",
            "lib.concatStringsSep",
            "lib.strings.concatStrings",
            "lib.attrsets.mapAttrs'",
            "lib.lists.foldl'",
        ] {
            let entry = resolve(path).unwrap_or_else(|| panic!("{path} is not in lib.tsv"));
            assert!(!entry.doc().is_empty(), "{path} has no documentation");
        }
        assert!(all().windows(2).all(|w| w[0].path < w[1].path));
    }

    #[test]
    fn aliases_lead_to_their_documentation() {
        let text = markdown("lib.concatStrings").unwrap();
        assert!(
            text.contains("concatStrings :: [String] -> String"),
            "{text}"
        );
        assert!(text.contains("(`lib.strings.concatStrings`)"), "{text}");
        let builtin = markdown("lib.toJSON").unwrap();
        assert!(
            builtin.starts_with("`lib.toJSON` is `builtins.toJSON`"),
            "{builtin}"
        );
    }

    #[test]
    fn scopes_list_their_members() {
        let strings = members("lib.strings");
        assert!(strings.iter().any(|e| e.name() == "concatStrings"));
        assert!(strings.iter().all(|e| e.path.starts_with("lib.strings.")));
        let top = members("lib");
        assert!(top.iter().any(|e| e.path == "lib.strings" && e.is_scope()));
        assert!(top.iter().any(|e| e.path == "lib.mkIf"));
    }

    #[test]
    fn escapes_come_back() {
        assert_eq!(unescape(r"a\nb\\n"), "a\nb\\n");
    }
}
