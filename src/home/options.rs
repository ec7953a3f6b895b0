//! Home Manager's option index (src/home/data, derived from Home Manager,
//! MIT): every option with its type, and the options that were renamed,
//! removed, changed or deprecated. Read once, on first use.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

const OPTIONS: &str = include_str!("data/hm-options.tsv");
const DEPRECATIONS: &str = include_str!("data/hm-deprecations.tsv");
const FREEFORM_FILES: &str = include_str!("data/hm-freeform-files.txt");
const DESCRIPTIONS: &str = include_str!("data/hm-descriptions.tsv");

/// An option's description, on one line, when Home Manager's source
/// writes one out (`data/hm-descriptions.tsv`).
pub fn description(pattern: &str) -> Option<&'static str> {
    static MAP: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| {
        DESCRIPTIONS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .collect()
    })
    .get(pattern)
    .copied()
}

/// One option: its type's outer name (`bool`, `attrsOf`, `submodule`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionInfo {
    pub kind: &'static str,
    pub visible: bool,
    /// The module file that declares it (`modules/programs/git.nix`).
    pub declared: &'static str,
}

impl OptionInfo {
    /// Whether any name may follow this option (its keys are not options):
    /// `settings` built on `pkgs.formats`, `attrsOf`, `anything`, ...
    pub fn is_open(&self) -> bool {
        !matches!(
            self.kind,
            "bool"
                | "str"
                | "int"
                | "lines"
                | "path"
                | "package"
                | "enum"
                | "separatedString"
                | "nonEmptyStr"
                | "singleLineStr"
                | "unsignedInt"
                | "unsignedInt16"
                | "positiveInt"
                | "intBetween"
                | "float"
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeprecationKind {
    Renamed,
    Removed,
    /// The value is transformed into other options.
    Changed,
    /// Still read, with a warning, in favour of another option.
    Deprecated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deprecation {
    pub kind: DeprecationKind,
    pub old: &'static str,
    /// The option to use instead (full path; may carry a note such as
    /// `(lib.mkOrder 550)`), empty when there is none.
    pub new: String,
    pub note: &'static str,
}

impl Deprecation {
    /// The replacement as a plain option path, when it is one.
    pub fn new_path(&self) -> Option<&str> {
        let new = self.new.as_str();
        (!new.is_empty() && !new.contains(' ')).then_some(new)
    }
}

pub struct OptionIndex {
    options: HashMap<&'static str, OptionInfo>,
    /// Every proper prefix of an option path (`programs`, `programs.git`).
    namespaces: HashSet<&'static str>,
    /// Names below each namespace or option, for suggestions.
    children: HashMap<&'static str, Vec<&'static str>>,
    deprecations: HashMap<&'static str, Deprecation>,
}

/// The index, read on first use.
pub fn index() -> &'static OptionIndex {
    static INDEX: OnceLock<OptionIndex> = OnceLock::new();
    INDEX.get_or_init(OptionIndex::read)
}

/// What the index says about a path of names as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// An option (the pattern: `programs.git.includes.*.path`).
    Option(&'static str, OptionInfo),
    /// A prefix of options: more names must follow.
    Namespace(&'static str),
    /// Below an option whose keys are free (`settings.user.name`).
    Open,
    /// A name the index does not have at `at` (index into the path),
    /// below a known `parent` pattern.
    Unknown { at: usize, parent: &'static str },
    /// A deprecated option, at `at`.
    Deprecated {
        at: usize,
        deprecation: &'static Deprecation,
    },
}

impl OptionIndex {
    fn read() -> OptionIndex {
        let mut options = HashMap::new();
        let mut namespaces = HashSet::new();
        let mut children: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        for line in OPTIONS.lines().filter(|l| !l.starts_with('#')) {
            let mut fields = line.split('\t');
            let (Some(name), Some(kind), Some(visibility)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let internal = fields.next().is_some_and(|f| f == "internal");
            let declared = fields
                .next()
                .and_then(|f| f.split(',').next())
                .unwrap_or("");
            if name.contains("_module") {
                continue;
            }
            options.insert(
                name,
                OptionInfo {
                    kind,
                    visible: visibility == "visible" && !internal,
                    declared,
                },
            );
            let mut start = 0;
            while let Some(dot) = name[start..].find('.') {
                let end = start + dot;
                let parent = &name[..end];
                namespaces.insert(parent);
                let child_end = name[end + 1..]
                    .find('.')
                    .map_or(name.len(), |d| end + 1 + d);
                children
                    .entry(parent)
                    .or_default()
                    .push(&name[end + 1..child_end]);
                start = end + 1;
            }
        }
        for names in children.values_mut() {
            names.sort_unstable();
            names.dedup();
        }
        let mut deprecations = HashMap::new();
        for line in DEPRECATIONS.lines().filter(|l| !l.starts_with('#')) {
            let fields: Vec<&'static str> = line.split('\t').collect();
            let [kind, old, new, _, note, ..] = fields.as_slice() else {
                continue;
            };
            let kind = match *kind {
                "renamed" => DeprecationKind::Renamed,
                "removed" => DeprecationKind::Removed,
                "changed" => DeprecationKind::Changed,
                "deprecated-hidden" => DeprecationKind::Deprecated,
                _ => continue,
            };
            // A bare new name is relative to the old one's parent.
            let new = match (new.contains('.'), old.rsplit_once('.')) {
                (false, Some((parent, _))) if !new.is_empty() && !new.contains(' ') => {
                    format!("{parent}.{new}")
                }
                _ => new.to_string(),
            };
            deprecations.insert(
                *old,
                Deprecation {
                    kind,
                    old,
                    new,
                    note: note.trim(),
                },
            );
        }
        OptionIndex {
            options,
            namespaces,
            children,
            deprecations,
        }
    }

    pub fn option(&self, pattern: &str) -> Option<OptionInfo> {
        self.options.get(pattern).copied()
    }

    pub fn deprecation(&self, pattern: &str) -> Option<&Deprecation> {
        self.deprecations.get(pattern)
    }

    /// Whether the submodule at `pattern` (an option, or the element of an
    /// `attrsOf`/`listOf` submodule) may take keys it does not declare:
    /// its module file declares a `freeformType` (the index has no types
    /// inside types, so the file is what says it).
    pub fn may_be_freeform(&self, pattern: &str) -> bool {
        let declared = self.option(pattern).map(|o| o.declared).or_else(|| {
            self.children(pattern).iter().find_map(|child| {
                self.option(&format!("{pattern}.{child}"))
                    .map(|o| o.declared)
            })
        });
        declared.is_some_and(|file| {
            FREEFORM_FILES
                .lines()
                .any(|line| !line.starts_with('#') && line == file)
        })
    }

    /// The names known below `pattern`.
    pub fn children(&self, pattern: &str) -> &[&'static str] {
        self.children.get(pattern).map_or(&[], Vec::as_slice)
    }

    /// Walks `path` (names as written) through the index: a list element
    /// is `*`, an `attrsOf` key matches `<name>`.
    pub fn lookup(&'static self, path: &[&str]) -> Lookup {
        let mut pattern = String::new();
        let mut known: &'static str = "";
        for (at, name) in path.iter().enumerate() {
            let mut next = pattern.clone();
            if !next.is_empty() {
                next.push('.');
            }
            next.push_str(name);
            if let Some(deprecation) = self.deprecations.get_key_value(next.as_str()) {
                return Lookup::Deprecated {
                    at,
                    deprecation: deprecation.1,
                };
            }
            let exact = self.interned(&next);
            let wildcard = || {
                let mut w = pattern.clone();
                if !w.is_empty() {
                    w.push('.');
                }
                w.push_str("<name>");
                self.interned(&w)
            };
            match exact.or_else(wildcard) {
                Some(found) => {
                    pattern = found.to_string();
                    known = found;
                }
                None => {
                    if let Some(info) = self.options.get(known) {
                        if info.is_open() {
                            return Lookup::Open;
                        }
                    }
                    return Lookup::Unknown { at, parent: known };
                }
            }
        }
        match self.options.get(known) {
            Some(info) => Lookup::Option(known, *info),
            None => Lookup::Namespace(known),
        }
    }

    /// `path` as the index holds it, if it is an option or a namespace.
    fn interned(&self, path: &str) -> Option<&'static str> {
        self.options
            .get_key_value(path)
            .map(|(k, _)| *k)
            .or_else(|| self.namespaces.get(path).copied())
    }

    /// Up to three names below `parent` close to `name` (for "did you
    /// mean"): by edit distance, then shared prefix.
    pub fn suggestions(&self, parent: &str, name: &str) -> Vec<&'static str> {
        let limit = (name.len() / 3).max(1) + 1;
        let lower = name.to_ascii_lowercase();
        let mut scored: Vec<(usize, &'static str)> = self
            .children(parent)
            .iter()
            .filter(|c| **c != "<name>" && **c != "*")
            .map(|c| (distance(&lower, &c.to_ascii_lowercase()), *c))
            .filter(|(d, _)| *d <= limit)
            .collect();
        scored.sort();
        scored.into_iter().take(3).map(|(_, c)| c).collect()
    }
}

/// Levenshtein distance, on bytes (option names are ASCII).
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == cb {
                previous
            } else {
                1 + previous.min(row[j]).min(row[j + 1])
            };
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_namespaces_and_open_types() {
        let index = index();
        assert!(
            matches!(index.lookup(&["programs", "git", "enable"]), Lookup::Option("programs.git.enable", info) if info.kind == "bool")
        );
        assert_eq!(
            index.lookup(&["programs", "git"]),
            Lookup::Namespace("programs.git")
        );
        assert_eq!(
            index.lookup(&["programs", "git", "settings", "user", "name"]),
            Lookup::Open
        );
        assert!(matches!(
            index.lookup(&["programs", "ssh", "settings", "my-host", "header"]),
            Lookup::Option("programs.ssh.settings.<name>.header", _)
        ));
        assert_eq!(
            index.lookup(&["programs", "git", "userNmae"]),
            Lookup::Unknown {
                at: 2,
                parent: "programs.git"
            }
        );
    }

    #[test]
    fn deprecations_name_their_replacement() {
        let index = index();
        let Lookup::Deprecated { at, deprecation } = index.lookup(&["programs", "git", "userName"])
        else {
            panic!("userName is renamed");
        };
        assert_eq!(at, 2);
        assert_eq!(deprecation.kind, DeprecationKind::Renamed);
        assert_eq!(
            deprecation.new_path(),
            Some("programs.git.settings.user.name")
        );
        let relative = index
            .deprecation("programs.zsh.plugins.*.completions")
            .unwrap();
        assert_eq!(relative.new, "programs.zsh.plugins.*.functions");
        let hidden = index
            .deprecation("programs.zsh.initExtraBeforeCompInit")
            .unwrap();
        assert_eq!(hidden.kind, DeprecationKind::Deprecated);
        assert_eq!(hidden.new_path(), None, "{}", hidden.new);
    }

    #[test]
    fn suggestions_are_close_names() {
        let index = index();
        assert_eq!(index.suggestions("programs.git", "enabel"), ["enable"]);
        assert_eq!(index.suggestions("home", "stateVerison"), ["stateVersion"]);
        assert!(index.suggestions("programs.git", "zzzzzzzzzz").is_empty());
    }
}
