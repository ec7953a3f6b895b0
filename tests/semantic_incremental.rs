//! The semantic model built from the previous one (its unchanged chunks of
//! big sets spliced in) equals the model built from scratch, after random
//! edits of real files: every definition, reference and its resolution,
//! `with`, `rec`, owner and scope, and the uses of each definition. And it
//! reuses: after an edit inside one member of all-packages.nix, all but a
//! chunk or two come from the previous model.

mod support;

use std::sync::Arc;

use cim_nix::analysis::semantic::SemanticModel;
use cim_nix::ide::{self, Doc, SourceFile};
use cim_nix::syntax;
use support::rng::{random_edit, stress_rounds, Rng};
use support::{corpus, nixgen};

fn assert_same(incremental: &SemanticModel, fresh: &SemanticModel, context: &str) {
    assert_eq!(incremental.defs, fresh.defs, "defs {context}");
    assert_eq!(incremental.refs, fresh.refs, "refs {context}");
    assert_eq!(incremental.withs, fresh.withs, "withs {context}");
    assert_eq!(incremental.recs, fresh.recs, "recs {context}");
    assert_eq!(incremental.owners, fresh.owners, "owners {context}");
    assert_eq!(incremental.scopes, fresh.scopes, "scopes {context}");
    assert_eq!(incremental.uses, fresh.uses, "uses {context}");
}

/// Pieces an edit inserts: names that shadow or bind what members use,
/// `with`, `let`, `rec`, and what breaks the text.
const PIECES: &[&str] = &[
    "x",
    "callPackage",
    " ",
    "\n",
    ";",
    "{",
    "}",
    "let stdenv = 1; in ",
    "with lib; ",
    "rec ",
    "inherit (lib) mkIf; ",
    "lib = 1; ",
    "(x: ",
    ")",
    "\"",
    "# c\n",
    "${",
    "pkgs.",
];

/// Applies `edits` random edits to `text`, each time building the model
/// from the previous one and from scratch, and comparing them.
fn check_edits(name: &str, mut text: String, seed: u64, edits: usize) -> (usize, usize) {
    let mut rng = Rng::new(seed);
    let mut parse = syntax::parse(&text);
    let mut model = SemanticModel::from_green(parse.green().expect("a tree"));
    let (mut chunks, mut reused) = (0, 0);
    for edit in 0..edits {
        let (at, end, insert) = random_edit(&mut rng, &text, PIECES, 20);
        let mut next = text.clone();
        next.replace_range(at..end, insert);
        let next_parse = syntax::reparse(&parse, &text, &next);
        let Some(green) = next_parse.green() else {
            // Refused (too deep): no model; start again from scratch.
            text = next;
            parse = next_parse;
            continue;
        };
        let incremental = SemanticModel::from_green_after(green, Some(&model));
        let fresh = SemanticModel::from_green(green);
        assert_same(
            &incremental,
            &fresh,
            &format!("after edit {edit} of {name} (seed {seed}) at {at}: {insert:?}"),
        );
        let (c, r) = incremental.chunk_stats();
        chunks += c;
        reused += r;
        text = next;
        parse = next_parse;
        model = incremental;
    }
    (chunks, reused)
}

#[test]
fn incremental_models_equal_fresh_ones_on_all_packages() {
    let text = std::fs::read_to_string(corpus::all_packages()).unwrap();
    for round in 0..stress_rounds() {
        check_edits("all-packages.nix", text.clone(), 0xC0FFEE + round, 60);
    }
}

/// Reparses `next` from `current` and builds its model from `model`,
/// checking it against one built from scratch.
fn step(
    parse: &syntax::Parse,
    current: &str,
    next: &str,
    model: &SemanticModel,
    context: &str,
) -> (syntax::Parse, SemanticModel) {
    let next_parse = syntax::reparse(parse, current, next);
    let green = next_parse.green().unwrap();
    let incremental = SemanticModel::from_green_after(green, Some(model));
    assert_same(&incremental, &SemanticModel::from_green(green), context);
    (next_parse, incremental)
}

/// Typing in one member (the edits the reparse keeps every other member
/// through): every chunk but the edited one comes from the previous model.
#[test]
fn typing_in_a_member_reuses_every_other_chunk() {
    let text = std::fs::read_to_string(corpus::all_packages()).unwrap();
    let at = text.find("  vim = callPackage").unwrap() + 5;
    let mut parse = syntax::parse(&text);
    let mut model = SemanticModel::from_green(parse.green().unwrap());
    let mut current = text.clone();
    for i in 0..20 {
        let mut next = current.clone();
        next.insert(at + i, 'x');
        let (next_parse, incremental) =
            step(&parse, &current, &next, &model, &format!("typing {i}"));
        let (chunks, reused) = incremental.chunk_stats();
        assert!(chunks > 100, "{chunks}");
        assert!(
            reused + 2 >= chunks,
            "only {reused} of {chunks} chunks were reused"
        );
        current = next;
        parse = next_parse;
        model = incremental;
    }
}

#[test]
fn incremental_models_equal_fresh_ones_on_generated_package_sets_and_modules() {
    for round in 0..stress_rounds() {
        let mut rng = Rng::new(77 + round);
        let set = nixgen::package_set(&mut rng, 1500);
        check_edits("a package set", set, 11 + round, 150);
        let module = nixgen::module(&mut rng, 600);
        check_edits("a module", module, 13 + round, 150);
    }
}

/// Edits that change what names mean elsewhere: a binding around the big
/// set is renamed, removed, or shadows a builtin; a `with` goes.
#[test]
fn names_the_chunks_use_are_resolved_again() {
    let members: String = (0..200)
        .map(|i| format!("  p{i} = callPackage ./p{i} {{ inherit helper; }};\n"))
        .collect();
    let before = format!("{{ callPackage }}:\nlet helper = 1; in\nwith pkgs;\n{{\n{members}}}\n");
    let parse = syntax::parse(&before);
    let model = SemanticModel::from_green(parse.green().unwrap());
    for (old, new) in [
        ("let helper = 1;", "let helper2 = 1;"),
        ("{ callPackage }:", "{ other }:"),
        ("with pkgs;\n", ""),
        ("let helper = 1;", "let helper = 1; map = 2;"),
    ] {
        let after = before.replacen(old, new, 1);
        let next = syntax::reparse(&parse, &before, &after);
        let green = next.green().unwrap();
        let incremental = SemanticModel::from_green_after(green, Some(&model));
        let fresh = SemanticModel::from_green(green);
        assert_same(&incremental, &fresh, &format!("{old:?} -> {new:?}"));
        let (chunks, reused) = incremental.chunk_stats();
        // The reparse may make the first member anew; the rest is reused.
        // Chunk boundaries follow the members' addresses, so the new
        // member may end a chunk where the old one did not, or not end
        // one where it did: at most two chunks are made anew.
        assert!(reused > 0 && reused + 2 >= chunks, "{reused} of {chunks}");
    }
}

/// The editor features from a document's memo (chunks kept from its
/// earlier revisions) answer as they do from scratch, after random edits of
/// a big package set that break and mend it; and tokens come in order.
#[test]
fn features_from_the_memo_equal_fresh_ones_after_random_edits() {
    let settings = cim_nix::config::Settings::default();
    for round in 0..stress_rounds() {
        let mut rng = Rng::new(0xb16 + round);
        let mut text = nixgen::package_set(&mut rng, 600);
        let memo = Arc::new(ide::memo::Memo::default());
        let mut previous: Option<(String, syntax::Parse)> = None;
        for edit in 0..300 {
            let earlier: Vec<(&str, &syntax::Parse)> =
                previous.iter().map(|(t, p)| (t.as_str(), p)).collect();
            let analysis = cim_nix::analysis::analyze_after(&text, &earlier, &settings);
            let parse = analysis.parse.clone().unwrap();
            let source = Arc::new(SourceFile::from_analysis(text.clone(), analysis));
            let kept = Doc::new(None, source.clone()).with_memo(memo.clone());
            let fresh = Doc::new(None, source);
            let tokens = ide::semantic_tokens(&fresh, None);
            assert_eq!(
                ide::semantic_tokens(&kept, None),
                tokens,
                "tokens, edit {edit}"
            );
            for pair in tokens.windows(2) {
                assert!(
                    pair[0].range.end() <= pair[1].range.start(),
                    "tokens out of order after edit {edit}: {pair:?}"
                );
            }
            assert_eq!(
                ide::document_symbols(&kept),
                ide::document_symbols(&fresh),
                "symbols, edit {edit}"
            );
            assert_eq!(
                ide::folding_ranges(&kept),
                ide::folding_ranges(&fresh),
                "folds, edit {edit}"
            );
            assert_eq!(
                ide::document_links(&kept, &ide::NoWorld),
                ide::document_links(&fresh, &ide::NoWorld),
                "links, edit {edit}"
            );
            previous = Some((text.clone(), parse));
            let mut at = rng.below(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + if rng.chance(40) { rng.below(12) } else { 0 }).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            let insert = if end > at && rng.chance(50) {
                ""
            } else {
                *rng.pick(PIECES)
            };
            text.replace_range(at..end, insert);
        }
    }
}

/// An edit between two members of a chunk (in a comment or the blanks
/// between them) keeps both members' nodes but moves the second: the
/// chunk is taken from the previous model only where its members lie as
/// they did.
#[test]
fn an_edit_between_members_of_a_chunk_moves_the_ones_after_it() {
    let text = std::fs::read_to_string(corpus::all_packages()).unwrap();
    let mut parse = syntax::parse(&text);
    let mut model = SemanticModel::from_green(parse.green().unwrap());
    let mut current = text.clone();
    // Inside a comment line between members, and in the blank line after
    // a member.
    for (anchor, insert) in [
        ("# rename to upower-notify?", "lib = 1; "),
        ("  go-sct = callPackage ../tools/X11/go-sct { };\n", "\n\n"),
    ] {
        let at = current.find(anchor).unwrap() + anchor.len() - 2;
        let mut next = current.clone();
        next.insert_str(at, insert);
        let (next_parse, incremental) = step(
            &parse,
            &current,
            &next,
            &model,
            &format!("{insert:?} at {at}"),
        );
        current = next;
        parse = next_parse;
        model = incremental;
    }
}
