//! Checks the invariants doc/ARCHITECTURE.md states: which module may use
//! which (its "Layers" table, read from the document itself, so the two
//! cannot drift), that those directions have no cycle, and that the pure
//! core does no I/O and knows no LSP.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The top-level modules of the crate: each folder and each file under
/// src/ but the crate roots.
fn modules() -> BTreeMap<String, Vec<PathBuf>> {
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(src()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            modules.insert(name, sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") && name != "lib" && name != "main" {
            modules.insert(name, vec![path]);
        }
    }
    modules
}

/// Rust source with comments, strings and character literals blanked out,
/// so that only code is searched for paths.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(b' ');
        } else if b[i] == b'r'
            && (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
        {
            // A raw string: r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push(b[i]);
                i += 1;
                continue;
            }
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            j += 1;
            while j < b.len() && !b[j..].starts_with(&close) {
                j += 1;
            }
            i = j + close.len();
            out.extend_from_slice(b"\"\"");
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.extend_from_slice(b"\"\"");
        } else if b[i] == b'\'' {
            // A character literal ('x', '\n', '\u{..}', '"'), not a lifetime.
            let rest = &b[i + 1..];
            let len = if rest.first() == Some(&b'\\') {
                rest.iter().skip(1).position(|&c| c == b'\'').map(|p| p + 2)
            } else {
                let width = std::str::from_utf8(&rest[..rest.len().min(4)])
                    .ok()
                    .or_else(|| std::str::from_utf8(&rest[..1]).ok())
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                (rest.get(width) == Some(&b'\'')).then_some(width)
            };
            match len {
                Some(n) => {
                    i += n + 2;
                    out.extend_from_slice(b"' '");
                }
                None => {
                    out.push(b'\'');
                    i += 1;
                }
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn ident_at(code: &str, at: usize) -> Option<&str> {
    let rest = code[at..].trim_start();
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (len > 0).then(|| &rest[..len])
}

/// The first names of the top level items of a `{ a, b::c, d::{e, f} }`
/// group that starts at `at` (just after its `{`).
fn group_heads(code: &str, at: usize) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut expect_head = true;
    for (i, c) in code[at..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => expect_head = true,
            c if expect_head && !c.is_whitespace() => {
                expect_head = false;
                if let Some(name) = ident_at(code, at + i) {
                    heads.push(name.to_string());
                }
            }
            _ => {}
        }
    }
    heads
}

/// The top-level modules `code` refers to through `crate::` paths (grouped
/// imports included) and through `super::` paths that climb out of its own
/// module (`depth` is how many modules deep the file is).
fn references(code: &str, depth: usize) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let after = at + "crate::".len();
        if code[after..].trim_start().starts_with('{') {
            let open = after + code[after..].find('{').unwrap() + 1;
            found.extend(group_heads(code, open));
        } else if let Some(name) = ident_at(code, after) {
            found.insert(name.to_string());
        }
    }
    let climb = "super::".repeat(depth);
    for (at, _) in code.match_indices(&climb) {
        let mut after = at + climb.len();
        while code[after..].starts_with("super::") {
            after += "super::".len();
        }
        if code[..at].ends_with("::") {
            continue;
        }
        if let Some(name) = ident_at(code, after) {
            found.insert(name.to_string());
        }
    }
    found
}

/// The "Layers" table of doc/ARCHITECTURE.md: module -> modules it may use.
fn allowed() -> BTreeMap<String, BTreeSet<String>> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("doc/ARCHITECTURE.md"))
            .unwrap();
    let section = doc
        .split("\n## ")
        .find(|s| s.starts_with("Layers"))
        .expect("doc/ARCHITECTURE.md has a `## Layers` section");
    let mut table = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let name = cells[0].trim_matches('`').to_string();
        let uses = cells[1]
            .split(',')
            .map(|s| s.trim().trim_matches('`'))
            .filter(|s| !s.is_empty() && *s != "nothing")
            .map(str::to_string)
            .collect();
        table.insert(name, uses);
    }
    assert!(
        table.len() >= 10,
        "the Layers table has only {} rows",
        table.len()
    );
    table
}

/// The module graph: module -> modules its code uses.
fn graph() -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let modules = modules();
    let root = src();
    let mut graph = BTreeMap::new();
    for (name, files) in &modules {
        let mut uses = BTreeMap::new();
        for file in files {
            let relative = file.strip_prefix(&root).unwrap();
            // src/a.rs and src/a/mod.rs are 1 deep, src/a/b.rs 2.
            let mut depth = relative.components().count();
            if relative.file_name().is_some_and(|f| f == "mod.rs") {
                depth -= 1;
            }
            let code = code_only(&std::fs::read_to_string(file).unwrap());
            for used in references(&code, depth) {
                if used != *name && modules.contains_key(&used) {
                    uses.entry(used).or_insert_with(|| file.clone());
                }
            }
        }
        graph.insert(name.clone(), uses);
    }
    graph
}

#[test]
fn every_module_uses_only_what_the_layers_table_allows() {
    let allowed = allowed();
    let graph = graph();
    let mut problems = Vec::new();
    for (module, uses) in &graph {
        let Some(may) = allowed.get(module) else {
            problems.push(format!(
                "`{module}` is not in the Layers table of doc/ARCHITECTURE.md"
            ));
            continue;
        };
        for (used, file) in uses {
            if !may.contains(used) {
                problems.push(format!(
                    "{} uses `{used}`, which `{module}` may not use (doc/ARCHITECTURE.md, Layers)",
                    file.display()
                ));
            }
        }
    }
    for module in allowed.keys() {
        if !graph.contains_key(module) {
            problems.push(format!(
                "the Layers table names `{module}`, which src/ does not have"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_layers_have_no_cycle() {
    let allowed = allowed();
    // Kahn's algorithm: what is left after peeling off the modules that use
    // nothing unpeeled is a cycle.
    let mut left: BTreeMap<&String, BTreeSet<&String>> = allowed
        .iter()
        .map(|(m, uses)| {
            (
                m,
                uses.iter().filter(|u| allowed.contains_key(*u)).collect(),
            )
        })
        .collect();
    loop {
        let free: Vec<&String> = left
            .iter()
            .filter(|(_, uses)| uses.is_empty())
            .map(|(m, _)| *m)
            .collect();
        if free.is_empty() {
            break;
        }
        for m in &free {
            left.remove(m);
        }
        for uses in left.values_mut() {
            for m in &free {
                uses.remove(m);
            }
        }
    }
    assert!(
        left.is_empty(),
        "these modules use each other in a cycle: {:?}",
        left.keys()
    );
}

/// The checker itself: grouped imports, nested groups, `super::` out of a
/// module, and paths in comments and strings, which are not uses.
#[test]
fn references_are_found_in_every_spelling() {
    let code = code_only(
        r##"
        use crate::{alpha, beta::{x, y}, gamma::z as w};
        use crate::delta::Thing;
        // crate::comment
        /* crate::block /* nested */ crate::block2 */
        let s = "crate::string"; let c = '"'; let l: &'static str = "";
        fn f<'a>(x: &'a str) { crate::epsilon::call(x); super::super::zeta::q(); }
        let r = r#"crate::raw"#;
        "##,
    );
    let found = references(&code, 2);
    let expected: BTreeSet<String> = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(found, expected);
    // One module deep, `super::` is the crate root.
    assert_eq!(
        references(&code_only("use super::eta::X;"), 1),
        BTreeSet::from(["eta".to_string()])
    );
}

/// What the pure core may not mention.
const FORBIDDEN_IN_CORE: [&str; 9] = [
    "tower_lsp",
    "lsp_types",
    "tokio",
    "async_nats",
    "std::fs",
    "std::net",
    "std::process",
    "std::io::stdin",
    "std::io::stdout",
];

#[test]
fn the_core_does_no_io_and_knows_no_lsp() {
    let root = src();
    let mut checked = 0;
    for module in [
        "syntax",
        "diagnostic",
        "analysis",
        "config",
        "flake",
        "home",
        "events",
        "ide",
        "report",
        "panics.rs",
        "timefmt.rs",
    ] {
        let path = root.join(module);
        let files = if path.is_file() {
            vec![path]
        } else {
            sources(&path)
        };
        for file in files {
            let code = code_only(&std::fs::read_to_string(&file).unwrap());
            for word in FORBIDDEN_IN_CORE {
                assert!(!code.contains(word), "{} mentions `{word}`", file.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 25, "checked only {checked} files");
}

#[test]
fn formatting_does_io_only_in_the_nixfmt_adapter() {
    let files = sources(&src().join("format"));
    assert!(files.len() >= 5, "found only {} files", files.len());
    for file in files {
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        let is_nixfmt = file.file_name().is_some_and(|n| n == "nixfmt.rs");
        for word in FORBIDDEN_IN_CORE {
            // nixfmt's adapter runs the user's nixfmt, by design.
            if is_nixfmt && word == "std::process" {
                continue;
            }
            assert!(!code.contains(word), "{} mentions `{word}`", file.display());
        }
    }
}
