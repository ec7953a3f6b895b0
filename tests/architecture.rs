//! Checks the invariants doc/ARCHITECTURE.md states about the pure core.

use std::path::Path;

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<std::path::PathBuf> {
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
    files
}

/// What the pure core may not mention.
const FORBIDDEN_IN_CORE: [&str; 12] = [
    "tower_lsp",
    "lsp_types",
    "tokio",
    "async_nats",
    "std::fs",
    "std::net",
    "std::process",
    "std::io::stdin",
    "std::io::stdout",
    "crate::server",
    "crate::cli",
    "crate::workspace",
];

#[test]
fn the_core_does_no_io_and_knows_no_lsp() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let forbidden = FORBIDDEN_IN_CORE;
    let mut checked = 0;
    for module in [
        "syntax",
        "analysis",
        "config",
        "flake",
        "home",
        "events",
        "timefmt.rs",
    ] {
        let path = root.join(module);
        let files = if path.is_file() {
            vec![path]
        } else {
            sources(&path)
        };
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for word in forbidden {
                assert!(!text.contains(word), "{} mentions `{word}`", file.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 17, "checked only {checked} files");
}

#[test]
fn formatting_does_io_only_in_the_nixfmt_adapter() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/format");
    let files = sources(&root);
    assert!(files.len() >= 5, "found only {} files", files.len());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let is_nixfmt = file.file_name().is_some_and(|n| n == "nixfmt.rs");
        for word in FORBIDDEN_IN_CORE {
            // nixfmt's adapter runs the user's nixfmt, by design.
            if is_nixfmt && word == "std::process" {
                continue;
            }
            assert!(!text.contains(word), "{} mentions `{word}`", file.display());
        }
    }
}
