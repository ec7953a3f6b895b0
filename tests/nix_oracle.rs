//! Nix's own parser as the oracle: a file cim-nix calls valid must parse
//! with `nix-instantiate --parse`, and a file Nix rejects must get a syntax
//! error from cim-nix. (CI installs Debian's nix-bin, Nix 2.8.)

mod support;

use std::path::Path;
use std::process::Command;

use support::corpus;
use support::rng::Rng;

/// Whether Nix 2.8 parses `text`: `None` when it stopped at a semantic
/// error during parsing (a duplicate attribute or argument, cim-nix's
/// correctness rules), before it could tell about the syntax.
fn nix_accepts(dir: &Path, text: &str) -> Option<bool> {
    let file = dir.join("input.nix");
    std::fs::write(&file, text).unwrap();
    let output = Command::new("nix-instantiate")
        .args(["--parse", "--store", "dummy://"])
        .arg(&file)
        .output()
        .expect("nix-instantiate is needed for this test: apt-get install nix-bin");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() || stderr.contains("error: undefined variable") {
        // Names are resolved after the whole file has parsed.
        return Some(true);
    }
    if stderr.contains("error: syntax error") {
        return Some(false);
    }
    assert!(
        stderr.contains("error:"),
        "nix-instantiate failed oddly: {stderr}"
    );
    None
}

fn cim_nix_accepts(text: &str) -> bool {
    cim_nix::syntax::parse(text).errors().is_empty()
}

/// Syntax Nix 2.8 does not know but current Nix does, or rnix reads
/// differently from Nix (each documented in doc/rules/syntax-error.md).
fn known_difference(text: &str) -> bool {
    text.contains("|>") || text.contains("<|") || float_with_bare_exponent(text)
}

/// `1.5e` followed by no digits: Nix reads the float `1.5` and then an
/// identifier starting with `e`; rnix reads one malformed float.
fn float_with_bare_exponent(text: &str) -> bool {
    let b = text.as_bytes();
    (1..b.len()).any(|i| {
        let digits = b[..i]
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .count();
        matches!(b[i], b'e' | b'E')
            && i > digits
            && b[i - digits - 1] == b'.'
            && !b
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_digit() || *c == b'+' || *c == b'-')
    })
}

#[test]
fn agrees_with_nix_on_real_and_mutated_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut inputs: Vec<String> = Vec::new();
    for file in corpus::rnix_test_data() {
        let mut text = std::fs::read_to_string(&file).unwrap();
        if text.ends_with('\n') {
            text.pop();
        }
        inputs.push(text);
    }
    for entry in
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/nixos")).unwrap()
    {
        inputs.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    // Mutations of valid files, the way typing breaks them.
    let valid: Vec<String> = inputs
        .iter()
        .filter(|t| cim_nix_accepts(t))
        .cloned()
        .collect();
    let mut rng = Rng::new(2024);
    let cuts = [
        ";", "}", "{", "=", "(", ")", "\"", "[", "]", "in", "then", ":", ".", ",",
    ];
    for _ in 0..600 {
        let text = rng.pick(&valid).clone();
        let mut mutated = text.clone();
        let piece = *rng.pick(&cuts);
        if let Some(at) = text.match_indices(piece).map(|(i, _)| i).nth(rng.below(4)) {
            mutated.replace_range(at..at + piece.len(), "");
        }
        if rng.chance(50) {
            let mut at = rng.below(mutated.len() + 1);
            while !mutated.is_char_boundary(at) {
                at -= 1;
            }
            mutated.insert_str(at, rng.pick::<&str>(&cuts));
        }
        inputs.push(mutated);
    }
    let mut disagreements = Vec::new();
    let mut both_reject = 0;
    for text in &inputs {
        if known_difference(text) {
            continue;
        }
        let ours = cim_nix_accepts(text);
        let Some(nix) = nix_accepts(dir.path(), text) else {
            continue;
        };
        both_reject += usize::from(!ours && !nix);
        if ours != nix {
            disagreements.push(format!(
                "cim-nix {}: {text:?}",
                if ours { "accepts" } else { "rejects" }
            ));
        }
    }
    assert!(inputs.len() > 400);
    assert!(
        both_reject > 60,
        "only {both_reject} invalid inputs were compared"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
