//! Real Nix shipped inside crates in cargo's registry (see
//! shared/brief/corpus.md), located through `cargo metadata`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The source folder of the package `name` at `version`, as cargo resolved it.
pub fn crate_dir(name: &str, version: &str) -> PathBuf {
    static METADATA: OnceLock<serde_json::Value> = OnceLock::new();
    let metadata = METADATA.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = std::process::Command::new(cargo)
            .args(["metadata", "--format-version", "1"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run cargo metadata");
        assert!(output.status.success(), "cargo metadata failed");
        serde_json::from_slice(&output.stdout).expect("cargo metadata output is JSON")
    });
    let packages = metadata["packages"].as_array().expect("packages");
    let package = packages
        .iter()
        .find(|p| p["name"] == name && p["version"] == version)
        .unwrap_or_else(|| panic!("{name} {version} is not in the dependency graph"));
    let manifest = Path::new(package["manifest_path"].as_str().expect("manifest_path"));
    manifest.parent().expect("crate dir").to_path_buf()
}

/// nixpkgs' all-packages.nix (802 667 bytes), from the rnix 0.14 crate.
pub fn all_packages() -> PathBuf {
    crate_dir("rnix", "0.14.0").join("benches/all-packages.nix")
}

/// Every `.nix` file under rnix 0.15's test_data (parser edge cases).
pub fn rnix_test_data() -> Vec<PathBuf> {
    nix_files_under(&crate_dir("rnix", "0.15.1").join("test_data"))
}

/// Every `.nix` file under `dir`, recursively, sorted.
pub fn nix_files_under(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read corpus dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "nix") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// nixpkgs-fmt 1.3.0's `test_data/`: (`*.bad.nix`, `*.good.nix`) pairs.
pub fn nixpkgs_fmt_pairs() -> Vec<(PathBuf, PathBuf)> {
    let dir = crate_dir("nixpkgs-fmt", "1.3.0").join("test_data");
    nix_files_under(&dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".bad.nix"))
        .map(|bad| {
            let good = PathBuf::from(bad.to_string_lossy().replace(".bad.nix", ".good.nix"));
            (bad, good)
        })
        .collect()
}

/// alejandra 3.1.0's `tests/cases/*/`: (`in.nix`, `out.nix`) pairs.
pub fn alejandra_pairs() -> Vec<(PathBuf, PathBuf)> {
    let dir = crate_dir("alejandra", "3.1.0").join("tests/cases");
    let mut pairs: Vec<(PathBuf, PathBuf)> = std::fs::read_dir(&dir)
        .expect("alejandra cases")
        .flatten()
        .map(|e| (e.path().join("in.nix"), e.path().join("out.nix")))
        .collect();
    pairs.sort();
    pairs
}
