//! The parser on real Nix: rnix's golden trees, the guards, and incremental
//! reparsing checked against full parses after thousands of random edits.

mod support;

use cim_nix::syntax::{self, Parse, ReparseKind};
use support::corpus;
use support::rng::Rng;

fn same(a: &Parse, b: &Parse) -> bool {
    a.green() == b.green() && a.errors() == b.errors()
}

#[test]
fn trees_match_rnix_golden_files() {
    let files = corpus::rnix_test_data();
    assert!(files.len() > 100, "found {} files", files.len());
    let mut compared = 0;
    let mut recovered_otherwise = 0;
    for nix in &files {
        let expect = nix.with_extension("expect");
        let Ok(expected) = std::fs::read_to_string(&expect) else {
            continue;
        };
        let mut text = std::fs::read_to_string(nix).unwrap();
        // rnix's own test strips one final newline before parsing.
        if text.ends_with('\n') {
            text.pop();
        }
        if expect.components().any(|c| c.as_os_str() == "tokenizer") {
            continue; // token lists, not trees
        }
        let parse = syntax::parse(&text);
        let stopped = syntax::parse_recovering_and_say(&text).is_some_and(|(_, _, _, s)| s);
        if stopped {
            // Our recovery kept members that rnix's runs into
            // (tests/parser_recovery.rs): not rnix's tree, but all the text.
            assert_eq!(parse.syntax().unwrap().to_string(), text);
            assert!(!parse.errors().is_empty(), "{}", nix.display());
            recovered_otherwise += 1;
            continue;
        }
        let dump = parse.debug_dump();
        // The golden files end with the tree; rnix's own test prints errors first.
        assert!(
            expected.trim_end().ends_with(dump.trim_end()),
            "{}: tree differs\n--- ours\n{dump}\n--- expected\n{expected}",
            nix.display()
        );
        compared += 1;
    }
    assert!(compared > 80, "compared {compared}");
    assert!(recovered_otherwise < 20, "{recovered_otherwise}");
}

#[test]
fn all_packages_parses_without_errors() {
    let text = std::fs::read_to_string(corpus::all_packages()).unwrap();
    assert_eq!(text.len(), 802_667);
    let parse = syntax::parse(&text);
    assert!(
        parse.errors().is_empty(),
        "{:?}",
        &parse.errors()[..3.min(parse.errors().len())]
    );
    assert_eq!(parse.syntax().unwrap().to_string(), text);
}

/// Small pieces of Nix that typing produces, valid or not.
const SNIPPETS: &[&str] = &[
    "a",
    "x",
    "1",
    " ",
    "\n",
    ";",
    "=",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "\"",
    "''",
    "${",
    "#",
    "/*",
    "*/",
    ".",
    ",",
    ":",
    "?",
    "@",
    "++",
    "//",
    "-",
    "!",
    "in",
    "let",
    "rec",
    "inherit",
    "or",
    "foo = bar;",
    " = 1;",
    "{ }",
    "[ ]",
    "pkgs.hello",
    "callPackage ./x.nix { }",
    "\"str\"",
    "if a then b else c",
    "x: x",
    "{ a, b ? 1, ... }:",
    "# comment\n",
    "with pkgs;",
];

/// Applies a random edit to `text`, like a person typing or deleting.
fn random_edit(rng: &mut Rng, text: &mut String) {
    let mut at = rng.below(text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let mut end = (at + rng.below(12)).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    match rng.below(3) {
        0 => text.insert_str(at, rng.pick::<&str>(SNIPPETS)),
        1 => text.replace_range(at..end, ""),
        _ => text.replace_range(at..end, rng.pick::<&str>(SNIPPETS)),
    }
}

/// The earlier parses a server keeps for the next reparse: the newest one
/// it may reuse, and the newest one without errors.
struct Earlier {
    base: (String, Parse),
    clean: Option<(String, Parse)>,
}

impl Earlier {
    fn new(text: &str) -> Earlier {
        let parse = syntax::parse(text);
        let clean = parse
            .errors()
            .is_empty()
            .then(|| (text.to_string(), parse.clone()));
        Earlier {
            base: (text.to_string(), parse),
            clean,
        }
    }

    fn reparse(&self, next: &str) -> (Parse, ReparseKind) {
        let mut earlier = vec![(self.base.0.as_str(), &self.base.1)];
        if let Some((text, parse)) = &self.clean {
            if *text != self.base.0 {
                earlier.push((text.as_str(), parse));
            }
        }
        syntax::reparse_from(&earlier, next)
    }

    fn keep(&mut self, text: &str, parse: Parse) {
        if parse.errors().is_empty() {
            self.clean = Some((text.to_string(), parse.clone()));
        }
        if parse.errors_are_local() {
            self.base = (text.to_string(), parse);
        }
    }
}

/// Chains of edits: after each, reparsing from the earlier parses a server
/// keeps must give the same tree and errors as parsing from scratch.
/// Returns the mismatches and how many edits reused members on both sides
/// of the edit.
fn check_random_edits(text: &str, seed: u64, edits: usize) -> (usize, usize) {
    let mut rng = Rng::new(seed);
    let mut current = text.to_string();
    let mut earlier = Earlier::new(text);
    let mut mismatches = 0;
    let mut skeletons = 0;
    for _ in 0..edits {
        let mut next = current.clone();
        random_edit(&mut rng, &mut next);
        let (incremental, kind) = earlier.reparse(&next);
        skeletons += usize::from(kind == ReparseKind::Skeleton);
        let full = syntax::parse(&next);
        if !same(&incremental, &full) {
            mismatches += 1;
            eprintln!("mismatch ({kind:?}) after editing\n{current}\n--- into:\n{next}\n---");
            if incremental.green() == full.green() {
                eprintln!("errors: {:?}\nvs {:?}", incremental.errors(), full.errors());
            }
        }
        // Go on from the file as edited, as an editor does; now and then
        // start over so errors do not pile up for ever.
        if rng.chance(5) {
            current = text.to_string();
            earlier = Earlier::new(text);
        } else {
            earlier.keep(&next, incremental);
            current = next;
        }
    }
    (mismatches, skeletons)
}

#[test]
fn reparse_equals_full_parse_on_small_files() {
    let mut texts: Vec<String> = corpus::rnix_test_data()
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    // Generated modules, packages and flakes: nested sets, strings with
    // interpolations, long member runs.
    texts.extend(
        support::nixgen::tree(17, 400_000)
            .into_iter()
            .map(|(_, t)| t),
    );
    let stress = support::rng::stress_rounds();
    let (mut mismatches, mut skeletons) = (0, 0);
    for round in 0..stress {
        for (i, text) in texts.iter().enumerate() {
            let (m, s) = check_random_edits(text, round * 10_000 + i as u64 + 1, 100);
            mismatches += m;
            skeletons += s;
        }
    }
    assert_eq!(mismatches, 0);
    // The edits exercise reusing members on both sides of an edit.
    assert!(skeletons > 100, "{skeletons}");
}

#[test]
fn reparse_equals_full_parse_on_all_packages() {
    let text = std::fs::read_to_string(corpus::all_packages()).unwrap();
    let original = syntax::parse(&text);
    let mut rng = Rng::new(42);
    let mut mismatches = 0;
    let mut full_reparses = 0;
    // Chained edits, like a long editing session...
    let mut current = text.clone();
    let mut parse = original.clone();
    for _ in 0..100 {
        let mut next = current.clone();
        random_edit(&mut rng, &mut next);
        let incremental = syntax::reparse(&parse, &current, &next);
        let full = syntax::parse(&next);
        mismatches += usize::from(!same(&incremental, &full));
        current = next;
        parse = full;
    }
    // ...and single edits of the pristine file.
    for _ in 0..100 {
        let mut next = text.clone();
        random_edit(&mut rng, &mut next);
        let (incremental, kind) = syntax::reparse_with_kind(&original, &text, &next);
        full_reparses += usize::from(kind == ReparseKind::Full);
        mismatches += usize::from(!same(&incremental, &syntax::parse(&next)));
    }
    assert_eq!(mismatches, 0);
    // Random edits often break the structure of the file, but most stay local.
    assert!(
        full_reparses < 40,
        "{full_reparses} of 100 edits reparsed the whole file"
    );
}

/// Types `typed` at `at` one character at a time, as an editor that closes
/// brackets and quotes for you does, reparsing from the earlier parses a
/// server keeps and checking every step against a full parse. Returns how
/// many steps parsed everything after the edit (`Prefix` or `Full`) though
/// the file kept its structure: the whole rest of the file did not become
/// one error (which only a parse of it can produce).
fn type_into(text: &str, at: usize, typed: &str) -> Vec<String> {
    let mut current = text.to_string();
    let mut earlier = Earlier::new(text);
    let mut cursor = at;
    let mut whole_rest = Vec::new();
    for c in typed.chars() {
        let mut next = current.clone();
        let closer = match c {
            '{' => Some('}'),
            '(' => Some(')'),
            '[' => Some(']'),
            _ => None,
        };
        if matches!(c, '}' | ')' | ']') && next[cursor..].starts_with(c) {
            cursor += 1; // typed over the auto-inserted closer
            continue;
        }
        next.insert(cursor, c);
        if let Some(closer) = closer {
            next.insert(cursor + 1, closer);
        }
        cursor += c.len_utf8();
        let (incremental, kind) = earlier.reparse(&next);
        let full = syntax::parse(&next);
        assert!(
            same(&incremental, &full),
            "after typing into {:?}",
            &next[at..cursor]
        );
        if matches!(kind, ReparseKind::Full | ReparseKind::Prefix) && !rest_is_one_error(&full, at)
        {
            whole_rest.push(format!("{kind:?} after {:?}", &next[at..cursor]));
        }
        earlier.keep(&next, incremental);
        current = next;
    }
    assert_eq!(&current[at..at + typed.len()], typed);
    whole_rest
}

/// Whether everything from `at` on sits in errors at the top of the tree
/// (the file's expression ended early and the rest is left over).
fn rest_is_one_error(parse: &Parse, at: usize) -> bool {
    let root = parse.syntax().unwrap();
    let leftover = root
        .children()
        .filter(|c| c.kind() == rnix::SyntaxKind::NODE_ERROR)
        .map(|c| c.text_range())
        .find(|r| r.end() >= root.text_range().end() - rowan::TextSize::from(2));
    leftover.is_some_and(|r| usize::from(r.start()) < at + 200)
}

#[test]
fn typing_a_new_binding_in_all_packages_reparses_locally() {
    let text = std::fs::read_to_string(corpus::all_packages()).unwrap();
    // Before a binding like `x = callPackage ../x { };`, every keystroke of a
    // new binding is reparsed locally.
    let at = text[text.len() / 2..]
        .find(" { };\n  ")
        .map(|i| text.len() / 2 + i + " { };\n".len())
        .unwrap();
    let typed = "  my-tool = python3Packages.toPythonApplication python3Packages.my-tool;\n";
    assert_eq!(type_into(&text, at, typed), Vec::<String>::new());
    // A half-typed member before `vim = callPackage ... { inherit ...; };`
    // runs on to the `;` inside vim's braces in rnix's recovery, and the `}`
    // after it closes the file's set: the rest of the file is one error,
    // which is parsed again. And `{ i}` reads as a lambda's pattern, whose
    // missing `:` rnix looks for 11 KB further on. Every other keystroke
    // reuses the members.
    let typed = "  my-tool = callPackage ../tools/my-tool { inherit (darwin) Security; };\n";
    let at = text.find("  vim = callPackage").unwrap();
    let whole_rest = type_into(&text, at, typed);
    assert!(whole_rest.len() <= 1, "{whole_rest:?}");
}

#[test]
fn typing_into_a_module_reuses_the_members_around_the_edit() {
    // What the latency benchmark types into its 2 000-line module.
    let module = support::nixgen::module(&mut Rng::new(1), 2000);
    let anchor = "  config = mkIf cfg.enable {\n";
    let at = module.find(anchor).unwrap() + anchor.len();
    let typed =
        "    networking.firewall.allowedTCPPorts = [ cfg.port ];\n    users.groups.svc = { };\n";
    // `[ cfg.` takes the rest of the file into the list until a `]`, which
    // really changes it; everything else reuses members.
    let whole_rest = type_into(&module, at, typed);
    assert!(whole_rest.len() <= 2, "{whole_rest:?}");
}

/// The coarse lexer sees the same strings and brackets as rnix's tokenizer
/// on real files, so the nesting estimate rests on the real structure.
#[test]
fn coarse_lexer_agrees_with_the_tokenizer_on_structure() {
    use cim_nix::syntax::scan::{scan, Coarse, Opener};
    use rnix::SyntaxKind::*;
    let mut files: Vec<String> = corpus::rnix_test_data()
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    files.push(std::fs::read_to_string(corpus::all_packages()).unwrap());
    files.extend(
        support::nixgen::tree(5, 300_000)
            .into_iter()
            .map(|(_, t)| t),
    );
    let mut compared = 0;
    for text in &files {
        let tokens: Vec<_> = rnix::tokenize(text).map(|(k, _)| k).collect();
        if tokens.contains(&TOKEN_ERROR) {
            continue; // broken files: both lexers guess
        }
        let count = |k| tokens.iter().filter(|t| **t == k).count();
        let mut strings = 0;
        let mut interpolations = 0;
        let mut brackets = 0;
        scan(text, |(c, _)| {
            match c {
                Coarse::Open(Opener::String) => strings += 1,
                Coarse::Open(Opener::Interpolation) => interpolations += 1,
                Coarse::Open(Opener::Bracket | Opener::Paren | Opener::Brace) => brackets += 1,
                _ => {}
            }
            true
        });
        assert_eq!(strings, count(TOKEN_STRING_START), "strings in {text:.80}");
        assert_eq!(
            interpolations,
            count(TOKEN_INTERPOL_START),
            "interpolations in {text:.80}"
        );
        assert_eq!(
            brackets,
            count(TOKEN_L_BRACK) + count(TOKEN_L_PAREN) + count(TOKEN_L_BRACE),
            "brackets in {text:.80}"
        );
        assert!(syntax::guard::check_nesting(text).is_ok());
        compared += 1;
    }
    assert!(compared > 150, "{compared}");
}

/// Big files parsed on two threads give exactly the sequential parse, on
/// real and generated files and on broken variants of them.
#[test]
fn parallel_parse_equals_sequential_parse() {
    let all_packages = std::fs::read_to_string(corpus::all_packages()).unwrap();
    let mut rng = Rng::new(11);
    let set = support::nixgen::package_set(&mut rng, 12000);
    let module = support::nixgen::module(&mut rng, 9000);
    let mut used_parallel = 0;
    let mut used_guessed = 0;
    for text in [&all_packages, &set, &module] {
        assert!(text.len() >= 128 << 10, "{}", text.len());
        let parallel = syntax::parse_parallel(text)
            .unwrap_or_else(|| panic!("a clean big file splits: {:.200}", text));
        assert!(same(&parallel, &syntax::parse_sequential(text)));
        let guessed = syntax::parse_parallel_guessed(text)
            .unwrap_or_else(|| panic!("a clean big file splits by its lines: {:.200}", text));
        assert!(same(&guessed, &syntax::parse_sequential(text)));
        for _ in 0..25 * support::rng::stress_rounds() {
            let mut broken = text.clone();
            random_edit(&mut rng, &mut broken);
            let sequential = syntax::parse_sequential(&broken);
            if let Some(parallel) = syntax::parse_parallel(&broken) {
                used_parallel += 1;
                assert!(
                    same(&parallel, &sequential),
                    "after an edit of {:.60}",
                    broken
                );
            }
            if let Some(guessed) = syntax::parse_parallel_guessed(&broken) {
                used_guessed += 1;
                assert!(same(&guessed, &sequential), "guessed, after an edit");
            }
            assert!(same(&syntax::parse(&broken), &sequential));
        }
    }
    assert!(used_parallel > 30, "{used_parallel}");
    assert!(used_guessed > 10, "{used_guessed}");
}

/// Edits right at the edges of the run the helper thread parses (the `;`
/// before it, the `;` that ends it, the line after each), where a split
/// could join two parses that one parse would not give: what random edits
/// rarely hit. Both two-thread parses must equal the sequential one, or
/// refuse.
#[test]
fn edits_at_the_edges_of_the_parallel_run_parse_as_one_parse_does() {
    let all_packages = std::fs::read_to_string(corpus::all_packages()).unwrap();
    let set = support::nixgen::package_set(&mut Rng::new(5), 12000);
    let mut used = 0;
    let mut edits = 0;
    for text in [&all_packages, &set] {
        let mut edges: Vec<usize> = syntax::parallel_runs(text)
            .into_iter()
            .flatten()
            .flat_map(|(a, b)| [a, b])
            .collect();
        edges.sort();
        edges.dedup();
        assert!(edges.len() >= 2, "a clean big file has a run: {edges:?}");
        for edge in edges {
            let line_after = edge + text[edge..].find('\n').unwrap_or(0) + 1;
            let places = [edge - 1, edge, edge + 1, line_after, line_after + 2];
            for at in places.into_iter().filter(|&at| at < text.len()) {
                for piece in ["x", ";", "\n", "}", "{", "  y = ", ""] {
                    let mut edited = text.clone();
                    match piece {
                        "" => edited.replace_range(at..at + 1, ""),
                        piece => edited.insert_str(at, piece),
                    }
                    edits += 1;
                    let sequential = syntax::parse_sequential(&edited);
                    for parallel in [
                        syntax::parse_parallel(&edited),
                        syntax::parse_parallel_guessed(&edited),
                    ]
                    .into_iter()
                    .flatten()
                    {
                        used += 1;
                        assert!(
                            same(&parallel, &sequential),
                            "{piece:?} at {at} (edge {edge}) of {:.60}",
                            edited
                        );
                    }
                }
            }
        }
    }
    // Most edits leave the text splittable somewhere: the test reaches the
    // two-thread parses, not only their refusals.
    assert!(used > edits / 2, "{used} of {edits}");
}

/// The run guessed from a file's lines can land where lines only look like
/// members: inside an indented string, a comment, a nested set, a `let`.
/// The parse must then either prove the split or not use it; the same
/// members away from the middle are parsed in the run and must split.
#[test]
fn a_run_guessed_from_misleading_lines_is_proven_or_refused() {
    let all_packages = std::fs::read_to_string(corpus::all_packages()).unwrap();
    let line_at = |at: usize| at + all_packages[at..].find('\n').unwrap() + 1;
    let fakes = [
        // Members inside an indented string (a `;` ends the line before).
        "  text = \'\'\n    x = 1;\n  y = 2;\n    z = 3;\n  \'\';\n",
        // Inside a block comment.
        "  /* a = 1;\n  b = 2;\n  */\n",
        // A nested set whose members sit at the top set's indentation.
        "  nested = {\n  a = 1;\n  b = 2;\n  };\n",
        // A `let` inside a member.
        "  viaLet = let\n  a = 1;\n  b = a;\n  in b;\n",
        // A `with e;` ending the line before a member.
        "  w = with lib;\n  { c = 1; };\n",
        // A string across lines.
        "  s = \"\n  a = 1;\n  b = 2;\n  \";\n",
        // Lines indented less than the members, inside a string.
        "  t = \'\'\nflush = left;\n  \'\';\n",
    ];
    for fake in fakes {
        for (at, must_split) in [
            (all_packages.len() / 2, false),
            (all_packages.len() * 3 / 4, true),
        ] {
            let (before, after) = all_packages.split_at(line_at(at));
            let text = format!("{before}{fake}{after}");
            let sequential = syntax::parse_sequential(&text);
            assert!(sequential.errors().is_empty(), "{fake}");
            match syntax::parse_parallel_guessed(&text) {
                Some(guessed) => assert!(same(&guessed, &sequential), "{fake}"),
                None => assert!(!must_split, "{fake} at {at}"),
            }
            assert!(same(&syntax::parse(&text), &sequential), "{fake}");
        }
    }
}
