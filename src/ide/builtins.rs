//! The builtins of Nix, with their arity, how a call looks and what they
//! do: `data/builtins.tsv`, written for cim-nix (its header says how),
//! read once. Hover and completion show them.

use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Builtin {
    pub name: &'static str,
    /// How many arguments it takes (0 for values such as `true`).
    pub arity: u8,
    /// Usable without `builtins.` (`map`, `toString`, `true`, ...).
    pub global: bool,
    /// `map f list`.
    pub signature: &'static str,
    pub description: &'static str,
}

const DATA: &str = include_str!("data/builtins.tsv");

/// Every builtin, sorted by name.
pub fn all() -> &'static [Builtin] {
    static ALL: OnceLock<Vec<Builtin>> = OnceLock::new();
    ALL.get_or_init(|| {
        DATA.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|line| {
                let mut cols = line.split('\t');
                Some(Builtin {
                    name: cols.next()?,
                    arity: cols.next()?.parse().ok()?,
                    global: cols.next()? == "global",
                    signature: cols.next()?,
                    description: cols.next()?,
                })
            })
            .collect()
    })
}

pub fn find(name: &str) -> Option<&'static Builtin> {
    let all = all();
    all.binary_search_by(|b| b.name.cmp(name))
        .ok()
        .map(|i| &all[i])
}

/// The builtin's documentation as Markdown: signature, arity, description.
pub fn markdown(builtin: &Builtin) -> String {
    let prefix = if builtin.global || builtin.name.starts_with("__") {
        ""
    } else {
        "builtins."
    };
    let kind = match builtin.arity {
        0 => "value".to_string(),
        1 => "builtin function of 1 argument".to_string(),
        n => format!("builtin function of {n} arguments"),
    };
    format!(
        "```nix\n{prefix}{}\n```\n{kind}\n\n{}",
        builtin.signature, builtin.description
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::semantic::{is_builtin, GLOBAL_BUILTINS};

    #[test]
    fn every_line_is_read_and_sorted() {
        let lines = DATA
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .count();
        assert_eq!(all().len(), lines, "a line of builtins.tsv did not parse");
        assert!(all().windows(2).all(|w| w[0].name < w[1].name));
        assert!(all().len() > 120);
    }

    #[test]
    fn the_global_names_agree_with_the_semantic_model() {
        for name in GLOBAL_BUILTINS {
            let b = find(name).unwrap_or_else(|| panic!("{name} is not documented"));
            assert!(b.global, "{name} is global in the model, not in the data");
        }
        for b in all().iter().filter(|b| b.global) {
            assert!(is_builtin(b.name), "{} is global in the data only", b.name);
        }
    }

    #[test]
    fn a_builtin_reads_as_markdown() {
        let text = markdown(find("elemAt").unwrap());
        assert!(text.starts_with(
            "```nix\nbuiltins.elemAt list index\n```\nbuiltin function of 2 arguments"
        ));
        assert!(markdown(find("map").unwrap()).starts_with("```nix\nmap f list\n```"));
    }
}
