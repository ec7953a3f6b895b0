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

#[test]
fn the_core_does_no_io_and_knows_no_lsp() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let forbidden = [
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
    let mut checked = 0;
    for module in ["syntax", "analysis", "config"] {
        for file in sources(&root.join(module)) {
            let text = std::fs::read_to_string(&file).unwrap();
            for word in forbidden {
                assert!(!text.contains(word), "{} mentions `{word}`", file.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 7, "checked only {checked} files");
}
