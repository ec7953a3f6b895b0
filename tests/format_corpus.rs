//! Formatting is byte-identical to the reference formatters on every pair
//! they ship, grouped nixpkgs-fmt formatting equals one whole-file run on
//! every corpus file, and formatting is idempotent on all-packages.nix.

mod support;

use std::path::{Path, PathBuf};

use cim_nix::format::{self, format_in_groups, FormatError, FormatOptions, Formatter, Style};
use support::corpus;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn formatter(style: Style) -> Box<dyn Formatter> {
    format::formatter(style, &FormatOptions::default())
}

#[test]
fn nixpkgs_fmt_matches_every_pair_of_its_test_data() {
    let pairs = corpus::nixpkgs_fmt_pairs();
    assert!(pairs.len() >= 60, "found only {} pairs", pairs.len());
    let nixpkgs_fmt = formatter(Style::NixpkgsFmt);
    let mut failures = Vec::new();
    let mut refused = 0;
    for (bad, good) in &pairs {
        let text = read(bad);
        match nixpkgs_fmt.format(&text) {
            Ok(out) if out == read(good) => {}
            Ok(_) => failures.push(format!("{}: output differs", bad.display())),
            // nixpkgs-fmt reformats broken input; cim-nix refuses it, on
            // purpose, and so must its own parser.
            Err(FormatError::Unsupported { .. })
                if !cim_nix::syntax::parse(&text).errors().is_empty() =>
            {
                refused += 1
            }
            Err(e) => failures.push(format!("{}: {e}", bad.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(refused <= 3, "refused {refused} pairs");
}

#[test]
fn alejandra_matches_every_case_it_ships() {
    let pairs = corpus::alejandra_pairs();
    assert!(pairs.len() >= 30, "found only {} cases", pairs.len());
    let alejandra = formatter(Style::Alejandra);
    let mut failures = Vec::new();
    for (input, output) in &pairs {
        let text = read(input);
        match alejandra.format(&text) {
            Ok(out) if out == read(output) => {}
            Ok(_) => failures.push(format!("{}: output differs", input.display())),
            // alejandra leaves input it cannot parse as it is; so do we.
            Err(FormatError::Unsupported { .. }) if read(output) == text => {}
            Err(e) => failures.push(format!("{}: {e}", input.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every Nix file of every corpus, except ones nixpkgs-fmt refuses.
fn corpus_files() -> Vec<PathBuf> {
    let mut files = vec![corpus::all_packages()];
    for (a, b) in corpus::nixpkgs_fmt_pairs() {
        files.extend([a, b]);
    }
    for (a, b) in corpus::alejandra_pairs() {
        files.extend([a, b]);
    }
    files.extend(corpus::rnix_test_data());
    files.extend(corpus::nix_files_under(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"),
    ));
    files
}

/// Realistic generated Nix: packages, modules, flakes, Home Manager configs.
fn generated_texts() -> Vec<String> {
    support::nixgen::tree(11, 400_000)
        .into_iter()
        .map(|(_, text)| text)
        .collect()
}

/// Every corpus file and generated text, with a name for messages.
fn named_texts() -> Vec<(String, String)> {
    corpus_files()
        .into_iter()
        .filter_map(|path| {
            Some((
                path.display().to_string(),
                std::fs::read_to_string(&path).ok()?,
            ))
        })
        .chain(
            generated_texts()
                .into_iter()
                .enumerate()
                .map(|(i, t)| (format!("generated #{i}"), t)),
        )
        .collect()
}

#[test]
fn grouped_nixpkgs_fmt_equals_one_whole_file_run_on_every_corpus_file() {
    let mut grouped = 0;
    let mut failures = Vec::new();
    let texts = named_texts();
    for (path, text) in texts {
        // The smallest groups put a boundary between every pair of members,
        // where any rule that looked further than a member's neighbours
        // would show.
        let whole = format_in_groups(&text, usize::MAX, 1);
        for (min, group) in [(2, 1), (3, 2), (5, 3)] {
            let by_groups = format_in_groups(&text, min, group);
            if by_groups != whole {
                failures.push(format!("{path} (groups of {group})"));
            }
        }

        if format::planned_groups(&text, 2, 1) > 2 {
            grouped += 1;
        }
    }
    // The proof covers many files, not just a few.
    assert!(grouped > 100, "only {grouped} files were cut into groups");
    assert!(
        failures.is_empty(),
        "grouped output differs:\n{}",
        failures.join("\n")
    );
}

/// Edits inside members of sets of `text`, at most `limit` members spread
/// over the file: a line break after the member's first token and before
/// its last, the indentation before the member removed, and a comment put
/// before the member's value.
fn member_edits(text: &str, limit: usize) -> Vec<String> {
    use rnix_fmt::SyntaxKind as K;
    let root = rnix_fmt::parse(text).node();
    let members: Vec<_> = root
        .descendants()
        .filter(|n| matches!(n.kind(), K::NODE_KEY_VALUE | K::NODE_INHERIT))
        .collect();
    let step = members.len().div_ceil(limit.max(1)).max(1);
    let at = |o: rnix_fmt::TextSize| u32::from(o) as usize;
    let mut edits = Vec::new();
    for member in members.iter().step_by(step) {
        if let Some(first) = member.first_token() {
            let end = at(first.text_range().end());
            edits.push(format!("{}\n{}", &text[..end], &text[end..]));
        }
        if let Some(space) = member
            .prev_sibling_or_token()
            .filter(|e| e.kind() == K::TOKEN_WHITESPACE)
        {
            let range = space.text_range();
            edits.push(format!(
                "{}\n{}",
                &text[..at(range.start())],
                &text[at(range.end())..]
            ));
        }
        if let Some(last) = member.last_token() {
            let start = at(last.text_range().start());
            edits.push(format!("{}\n{}", &text[..start], &text[start..]));
        }
        if let Some(value) = member.children().last() {
            let start = at(value.text_range().start());
            edits.push(format!("{}# note\n{}", &text[..start], &text[start..]));
        }
    }
    edits
}

#[test]
fn reusing_the_previous_formatting_equals_formatting_whole() {
    let mut reused = 0;
    let mut failures = Vec::new();
    let texts = named_texts();
    let clean = |t: &str| {
        rnix_fmt::parse(t).errors().is_empty() && cim_nix::syntax::parse(t).errors().is_empty()
    };
    for (path, text) in texts {
        if !clean(&text) {
            continue;
        }
        let limit = if text.len() > 200_000 { 3 } else { 8 };
        // One whole-file run; for all-packages.nix the groups, which the
        // test above proves the same and which take a second, not minutes.
        let nixpkgs_fmt = formatter(Style::NixpkgsFmt);
        let whole = |t: &str| {
            if t.len() > 200_000 {
                nixpkgs_fmt.format(t)
            } else {
                format_in_groups(t, usize::MAX, 1)
            }
        };
        let Ok(formatted) = whole(&text) else {
            continue;
        };
        for new in member_edits(&text, limit) {
            if !clean(&new) {
                continue;
            }
            let Ok(expected) = whole(&new) else {
                continue;
            };
            // Both ways: the edit made, and the edit undone.
            for (old, old_out, new, expected) in [
                (&text, &formatted, &new, &expected),
                (&new, &expected, &text, &formatted),
            ] {
                if let Some(out) = format::format_reusing(old, old_out, new) {
                    reused += 1;
                    if out != *expected {
                        failures.push(format!("{path}: differs after the edit\nOLD:\n{old}\nNEW:\n{new}\nGOT:\n{out}\nEXPECTED:\n{expected}"));
                    }
                }
            }
        }
    }
    eprintln!("reused {reused} times");
    assert!(reused > 2000, "reuse applied only {reused} times");
    assert!(
        failures.is_empty(),
        "{} differences, first: {}",
        failures.len(),
        failures[0]
    );
}

#[test]
fn reuse_after_reuse_keeps_giving_whole_file_output() {
    // As the server does: each revision's formatting is the `previous` of
    // the next, with the trees the reuse made (not parsed again). Edits
    // are made and undone in turn, so most revisions are reused.
    let nixpkgs_fmt = formatter(Style::NixpkgsFmt);
    let mut texts: Vec<(String, String)> = corpus::nixpkgs_fmt_pairs()
        .into_iter()
        .map(|(_, good)| (good.display().to_string(), read(&good)))
        .collect();
    texts.extend(
        generated_texts()
            .into_iter()
            .take(60)
            .enumerate()
            .map(|(i, t)| (format!("generated #{i}"), t)),
    );
    let (mut reused, mut revisions) = (0, 0);
    for (path, text) in texts {
        let text = std::sync::Arc::new(text);
        let parse = cim_nix::syntax::parse(&text);
        let Ok(mut previous) =
            format::format_text_after(&text, &parse, nixpkgs_fmt.as_ref(), None, |o| o.to_string())
        else {
            continue;
        };
        for edited in member_edits(&text, 8) {
            for new in [std::sync::Arc::new(edited), text.clone()] {
                let parse = cim_nix::syntax::parse(&new);
                if !parse.errors().is_empty() || !rnix_fmt::parse(&new).errors().is_empty() {
                    continue;
                }
                let formatted = format::format_text_after(
                    &new,
                    &parse,
                    nixpkgs_fmt.as_ref(),
                    Some(&previous),
                    |o| o.to_string(),
                )
                .unwrap_or_else(|e| panic!("{path}: {e}"));
                let whole = format_in_groups(&new, usize::MAX, 1).expect("formats whole");
                assert!(*formatted.output == whole, "{path}: differs after\n{new}");
                assert!(formatted.trees_are_parses(), "{path}: kept trees are wrong");
                revisions += 1;
                reused += usize::from(formatted.reused());
                previous = formatted;
            }
        }
    }
    eprintln!("{reused} of {revisions} revisions reused");
    assert!(
        reused > 1000 && reused * 2 > revisions,
        "{reused} of {revisions} reused"
    );
}

#[test]
fn all_packages_formats_as_the_nixpkgs_fmt_cli_does_and_is_idempotent() {
    let text = read(&corpus::all_packages());
    let nixpkgs_fmt = formatter(Style::NixpkgsFmt);
    let once = nixpkgs_fmt.format(&text).expect("formats");
    assert!(once != text, "all-packages.nix is not in nixpkgs-fmt style");
    let whole = format_in_groups(&text, usize::MAX, 1).expect("formats whole");
    assert!(once == whole, "grouped and whole-file formatting differ");
    let twice = nixpkgs_fmt.format(&once).expect("formats again");
    assert!(twice == once, "nixpkgs-fmt is not idempotent here");
    // The real CLI (`cargo install nixpkgs-fmt --version 1.3.0`, which
    // scripts/test does). Under CI (`CIM_NIX_REQUIRE_TOOLS`) it must be
    // there: the comparison cannot pass by not running.
    match run_with_stdin("nixpkgs-fmt", &[], &text) {
        Ok(output) => assert!(output == once, "differs from the nixpkgs-fmt CLI"),
        Err(e) => {
            assert!(
                std::env::var_os("CIM_NIX_REQUIRE_TOOLS").is_none(),
                "the nixpkgs-fmt CLI cannot run ({e}), and CIM_NIX_REQUIRE_TOOLS says every \
                 tool must (scripts/test installs it from crates.io)"
            );
            eprintln!("nixpkgs-fmt is not installed: the CLI comparison did not run ({e})");
        }
    }
}

#[test]
fn alejandra_settles_after_one_known_construct_on_all_packages() {
    // alejandra 3.1.0 itself is not idempotent on all-packages.nix: a
    // binding `plugins = let ...; in with kodiPlugins; ( [] ++ ... );` that
    // its first pass lays out on one line is broken up by a second pass.
    // cim-nix gives alejandra's exact output, so it inherits this; the
    // second pass must touch that binding only, and a third nothing.
    let text = read(&corpus::all_packages());
    let alejandra = formatter(Style::Alejandra);
    let once = alejandra.format(&text).expect("alejandra formats");
    let twice = alejandra.format(&once).expect("formats again");
    let thrice = alejandra.format(&twice).expect("formats a third time");
    assert!(thrice == twice, "alejandra does not settle");
    let edits = format::minimal_edits(&once, &twice);
    let first = usize::from(edits[0].range.start());
    let last = usize::from(edits[edits.len() - 1].range.end());
    let changed = &once[first..last];
    assert!(
        once[..first].ends_with("plugins = let") && changed.len() < 2000,
        "the second pass changed more than the known binding: {changed}"
    );
}

fn run_with_stdin(program: &str, args: &[&str], input: &str) -> Result<String, String> {
    use std::io::Write;
    let mut child = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let _ = writer.join();
    String::from_utf8(output.stdout).map_err(|e| e.to_string())
}

#[test]
fn formatting_valid_input_gives_valid_nix() {
    for (bad, _) in corpus::nixpkgs_fmt_pairs() {
        let text = read(&bad);
        let parse = cim_nix::syntax::parse(&text);
        if !parse.errors().is_empty() {
            continue;
        }
        for style in [Style::NixpkgsFmt, Style::Alejandra] {
            let Ok(out) = formatter(style).format(&text) else {
                continue;
            };
            let reparsed = cim_nix::syntax::parse(&out);
            assert!(
                reparsed.errors().is_empty(),
                "{style} broke {}: {:?}",
                bad.display(),
                reparsed.errors()
            );
        }
    }
}

#[test]
fn minimal_edits_turn_every_input_into_its_output() {
    let pairs = corpus::nixpkgs_fmt_pairs()
        .into_iter()
        .chain(corpus::alejandra_pairs());
    for (before, after) in pairs {
        let (old, new) = (read(&before), read(&after));
        let edits = format::minimal_edits(&old, &new);
        assert!(
            format::apply_edits(&old, &edits) == new,
            "{}: edits do not give the output",
            before.display()
        );
        for pair in edits.windows(2) {
            assert!(
                pair[0].range.end() < pair[1].range.start(),
                "{}",
                before.display()
            );
        }
        // Changes of spaces, tabs and line breaks only never touch content.
        let content = |t: &str| t.split([' ', '\t', '\n', '\r']).collect::<String>();
        if content(&old) == content(&new) {
            assert!(
                edits.iter().all(|e| e.insert.trim().is_empty()),
                "{}",
                before.display()
            );
        }
    }
}
