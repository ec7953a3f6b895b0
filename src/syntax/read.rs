//! Reading static values out of the typed syntax tree: literal strings and
//! booleans, static attribute paths, and the expression under wrappers that
//! do not change a value's shape. Used by the flake and Home Manager
//! models, which read configuration without evaluating it.

use rnix::ast::{self, Expr, HasEntry, InterpolPart};
use rnix::{SyntaxKind, TextRange};
use rowan::ast::AstNode;

/// How deep the models follow nested attribute sets. Real configurations
/// nest a dozen levels; the bound keeps recursive readers off the stack
/// limit whatever the input.
pub const MAX_READ_DEPTH: usize = 64;

/// The value of a string literal without interpolation.
pub fn string_value(expr: &Expr) -> Option<String> {
    let s = match strip_parens(expr) {
        Expr::Str(s) => s,
        // An unquoted URL (`github:a/b`) is a string to Nix.
        Expr::Literal(l) => {
            return matches!(l.kind(), ast::LiteralKind::Uri(_))
                .then(|| l.syntax().text().to_string())
        }
        _ => return None,
    };
    let mut out = String::new();
    for part in s.normalized_parts() {
        match part {
            InterpolPart::Literal(text) => out.push_str(&text),
            InterpolPart::Interpolation(_) => return None,
        }
    }
    Some(out)
}

/// `true` or `false` written as such.
pub fn bool_value(expr: &Expr) -> Option<bool> {
    match strip_parens(expr) {
        Expr::Ident(i) => match i.ident_token()?.text() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The expression inside any number of parentheses.
pub fn strip_parens(expr: &Expr) -> Expr {
    let mut expr = expr.clone();
    for _ in 0..MAX_READ_DEPTH {
        match &expr {
            Expr::Paren(p) => match p.expr() {
                Some(inner) => expr = inner,
                None => break,
            },
            _ => break,
        }
    }
    expr
}

/// The value an expression evaluates to through `let ... in`, `with e;`,
/// `assert c;` and parentheses: `let x = 1; in { ... }` is the set.
pub fn body_value(expr: &Expr) -> Expr {
    let mut expr = expr.clone();
    for _ in 0..MAX_READ_DEPTH {
        let next = match &expr {
            Expr::Paren(p) => p.expr(),
            Expr::LetIn(l) => l.body(),
            Expr::With(w) => w.body(),
            Expr::Assert(a) => a.body(),
            _ => None,
        };
        match next {
            Some(next) => expr = next,
            None => break,
        }
    }
    expr
}

/// A static attribute name and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    pub range: TextRange,
}

/// The names of an attribute path, if every one is static (`a."b".${"c"}`).
pub fn attrpath_names(path: &ast::Attrpath) -> Option<Vec<Name>> {
    path.attrs()
        .map(|attr| {
            let node = attr.syntax();
            Some(Name {
                text: crate::syntax::green::static_attr_name(node)?.to_string(),
                range: node.text_range(),
            })
        })
        .collect()
}

/// Each `path = value;` of a set or `let` with static names; `inherit`
/// entries and dynamic names are left out.
pub fn bindings(set: &impl HasEntry) -> impl Iterator<Item = (Vec<Name>, Expr)> + '_ {
    set.attrpath_values().filter_map(|entry| {
        let names = attrpath_names(&entry.attrpath()?)?;
        Some((names, entry.value()?))
    })
}

/// The names an `inherit` brings into a set, with their ranges.
pub fn inherited_names(set: &impl HasEntry) -> impl Iterator<Item = Name> + '_ {
    set.inherits().flat_map(|inherit| {
        inherit
            .attrs()
            .filter_map(|attr| {
                let node = attr.syntax();
                Some(Name {
                    text: crate::syntax::green::static_attr_name(node)?.to_string(),
                    range: node.text_range(),
                })
            })
            .collect::<Vec<_>>()
    })
}

/// The range of a string literal, including its quotes.
pub fn literal_range(expr: &Expr) -> TextRange {
    strip_parens(expr).syntax().text_range()
}

/// The last identifier of a `Select` or `Ident` chain as written: `lib.mkIf`
/// gives `mkIf`, `mkIf` gives `mkIf`.
pub fn function_name(expr: &Expr) -> Option<String> {
    match strip_parens(expr) {
        Expr::Ident(i) => Some(i.ident_token()?.text().to_string()),
        Expr::Select(s) => {
            if s.default_expr().is_some() {
                return None;
            }
            let last = s.attrpath()?.attrs().last()?;
            crate::syntax::green::static_attr_name(last.syntax()).map(|n| n.to_string())
        }
        _ => None,
    }
}

/// A function application flattened: `f a b` gives `f` and `[a, b]`.
pub fn application(expr: &Expr) -> Option<(Expr, Vec<Expr>)> {
    let mut args = Vec::new();
    let mut current = strip_parens(expr);
    for _ in 0..MAX_READ_DEPTH {
        match current {
            Expr::Apply(apply) => {
                args.push(apply.argument()?);
                current = strip_parens(&apply.lambda()?);
            }
            _ => {
                if args.is_empty() {
                    return None;
                }
                args.reverse();
                return Some((current, args));
            }
        }
    }
    None
}

/// The text of an expression with runs of whitespace (and comments) made
/// one space, for showing an expression on one line.
pub fn collapsed_text(expr: &Expr) -> String {
    let mut out = String::new();
    let mut space = false;
    for token in expr
        .syntax()
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
    {
        if matches!(
            token.kind(),
            SyntaxKind::TOKEN_WHITESPACE | SyntaxKind::TOKEN_COMMENT
        ) {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push_str(token.text());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(text: &str) -> Expr {
        let root = rnix::Root::parse(text).tree();
        root.expr().unwrap()
    }

    #[test]
    fn literals() {
        assert_eq!(string_value(&expr(r#""a\"b""#)), Some("a\"b".into()));
        assert_eq!(string_value(&expr("''\n  x\n''")), Some("x\n".into()));
        assert_eq!(string_value(&expr(r#""a${b}""#)), None);
        assert_eq!(bool_value(&expr("(false)")), Some(false));
        assert_eq!(bool_value(&expr("x")), None);
    }

    #[test]
    fn through_let_with_and_parens() {
        let e = body_value(&expr("let a = 1; in with b; ({ c = a; })"));
        assert!(matches!(e, Expr::AttrSet(_)));
    }

    #[test]
    fn applications_and_names() {
        let (f, args) = application(&expr("lib.mkIf cond { a = 1; }")).unwrap();
        assert_eq!(function_name(&f).as_deref(), Some("mkIf"));
        assert_eq!(args.len(), 2);
        assert_eq!(
            collapsed_text(&expr("(pkgs.callPackage   ./t.nix\n { })")),
            "(pkgs.callPackage ./t.nix { })"
        );
    }
}
