//! The rewrites keep what the code means, with Nix itself as the judge:
//! each rewrite of each expression below is evaluated before and after
//! with `nix-instantiate --eval --strict` (Debian's nix-bin, installed by
//! scripts/test), and the values must be the same.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use cim_nix::ide::{self, Doc, SourceFile};
use rowan::{TextRange, TextSize};

fn eval(text: &str) -> String {
    let output = Command::new("nix-instantiate")
        .args(["--eval", "--strict", "--store", "dummy://", "-E", text])
        .output()
        .expect("nix-instantiate is needed for this test: apt-get install nix-bin");
    assert!(
        output.status.success(),
        "nix could not evaluate:\n{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Applies every rewrite offered at the first `$0` of `text` and checks
/// that each result evaluates as the original does; returns the ids seen.
fn rewrites_keep_the_value(text: &str) -> Vec<&'static str> {
    let at = text.find("$0").expect("a $0 cursor");
    let text = text.replacen("$0", "", 1);
    let doc = Doc::new(
        Some(PathBuf::from("/rewrite/test.nix")),
        Arc::new(SourceFile::parse(text.clone())),
    );
    let before = eval(&text);
    let mut seen = Vec::new();
    let range = TextRange::empty(TextSize::from(at as u32));
    for assist in ide::assists(&doc, range) {
        let after = cim_nix::syntax::apply_edits(&text, &assist.edits);
        assert_eq!(
            eval(&after),
            before,
            "`{}` changed the value:\n{text}\n=>\n{after}",
            assist.id
        );
        seen.push(assist.id);
    }
    seen
}

#[test]
fn string_styles_keep_the_string() {
    for text in [
        r#"let b = "B"; in "a$0 \"q\" ${b} \${not} $ \\ tab\there""#,
        "let b = \"B\"; in {\n  s = \"one$0\\n  two ${b}\\n\";\n}",
        "let b = \"B\"; in {\n  s = ''\n    one$0\n      two ''${x} ${b} '''\n    $\n  '';\n}",
        "{ s = ''a$0 ''\\t b''; }",
        "{ s = \"x$0$${\\\"y\\\"}\"; }",
        "{ s = ''\n  lines$0\n  end''; }",
    ] {
        let seen = rewrites_keep_the_value(text);
        assert!(
            seen.iter().any(|id| id.contains("string")),
            "no string rewrite offered for {text}: {seen:?}"
        );
    }
}

#[test]
fn sets_inherits_and_inlining_keep_the_value() {
    for (text, expected) in [
        ("let x = 1; s = { y = 2; }; in { x$0 = x; }", "to-inherit"),
        ("let s = { y = 2; }; in { y$0 = s.y; }", "to-inherit"),
        ("{ a$0 = { b = 1; c.d = 2; }; e = 3; }", "flatten-set"),
        ("{ a.b$0 = 1; e = 3; a.c = { d = 2; }; }", "pack-set"),
        ("let n = 2; x$0 = n * 3; in [ x (x + 1) ]", "inline-binding"),
        (
            "let y = 1; x$0 = y; in { inherit x; z = x; }",
            "inline-binding",
        ),
        ("{ \"plain$0\" = 1; }", "unquote-attr"),
    ] {
        let seen = rewrites_keep_the_value(text);
        assert!(
            seen.contains(&expected),
            "`{expected}` not offered for {text}: {seen:?}"
        );
    }
}
