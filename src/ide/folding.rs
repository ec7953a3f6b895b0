//! Folding ranges: sets, lists, `let` bindings, parenthesised
//! expressions, patterns and strings that span lines, block comments and
//! runs of line comments. A bracketed range ends where its closing bracket
//! starts, so the client can keep that line visible. Walked on the green
//! tree: all-packages.nix has thousands.

use rnix::SyntaxKind;
use rowan::TextRange;

use super::Doc;
use crate::syntax::green::{E, N};

use SyntaxKind::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldKind {
    Region,
    Comment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fold {
    pub range: TextRange,
    pub kind: FoldKind,
}

pub fn folding_ranges(doc: &Doc) -> Vec<Fold> {
    let Some(green) = doc.analysis().parse.as_ref().and_then(|p| p.green()) else {
        return Vec::new();
    };
    let text = doc.text();
    let mut out = Vec::new();
    let mut comments: Option<TextRange> = None;
    let mut memo = doc.memo().map(|m| m.folds.begin());
    walk(
        &N {
            green,
            offset: 0.into(),
        },
        text,
        &mut out,
        &mut comments,
        &mut memo,
    );
    flush_comments(&mut comments, text, &mut out);
    out
}

type FoldMemo<'m> = Option<crate::ide::memo::Use<'m, Fold>>;

fn spans_lines(text: &str, range: TextRange) -> bool {
    text[range].contains('\n')
}

fn walk(
    node: &N<'_>,
    text: &str,
    out: &mut Vec<Fold>,
    comments: &mut Option<TextRange>,
    memo: &mut FoldMemo<'_>,
) {
    let region = match node.kind() {
        NODE_ATTR_SET | NODE_LIST | NODE_PAREN | NODE_PATTERN => {
            // From the opening bracket to the start of the closing one.
            let mut tokens = node.children_with_tokens().filter_map(|e| match e {
                E::Token(t) => Some(t),
                E::Node(_) => None,
            });
            let open =
                tokens.find(|t| matches!(t.kind(), TOKEN_L_BRACE | TOKEN_L_BRACK | TOKEN_L_PAREN));
            let close = node
                .children_with_tokens()
                .filter_map(|e| match e {
                    E::Token(t)
                        if matches!(t.kind(), TOKEN_R_BRACE | TOKEN_R_BRACK | TOKEN_R_PAREN) =>
                    {
                        Some(t)
                    }
                    _ => None,
                })
                .last();
            match (open, close) {
                (Some(o), Some(c)) => Some(TextRange::new(
                    o.text_range().start(),
                    c.text_range().start(),
                )),
                _ => Some(node.text_range()),
            }
        }
        NODE_LET_IN => {
            // The bindings: from `let` to the start of `in`.
            let in_token = node.children_with_tokens().find(|e| e.kind() == TOKEN_IN);
            match in_token {
                Some(i) => Some(TextRange::new(node.offset, i.text_range().start())),
                None => Some(node.text_range()),
            }
        }
        NODE_STRING => Some(node.text_range()),
        _ => None,
    };
    if let Some(range) = region.filter(|r| spans_lines(text, *r)) {
        out.push(Fold {
            range,
            kind: FoldKind::Region,
        });
    }
    // A big plain set's members, chunk by chunk, from the memo where a
    // chunk did not change.
    let chunks = memo
        .as_ref()
        .and_then(|_| crate::analysis::semantic::memo::set_chunks(node))
        .unwrap_or_default();
    let mut members = crate::analysis::semantic::memo::chunk_members(&chunks);
    let mut kept = None;
    for child in node.children_with_tokens() {
        match child {
            E::Node(n)
                if !chunks.is_empty() && matches!(n.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT) =>
            {
                flush_comments(comments, text, out);
                let Some((key, chunk, i)) = members.next() else {
                    continue;
                };
                let start = chunk[0].offset;
                if i == 0 {
                    let found = memo.as_mut().and_then(|m| m.get(key, chunk, 0));
                    kept = match found {
                        Some(found) => Some(found),
                        None => {
                            let mut folds = Vec::new();
                            let mut member_ends = Vec::with_capacity(chunk.len());
                            for m in chunk {
                                let mut run = None;
                                walk(m, text, &mut folds, &mut run, memo);
                                flush_comments(&mut run, text, &mut folds);
                                member_ends.push(folds.len() as u32);
                            }
                            for f in &mut folds {
                                f.range -= start;
                            }
                            let memo = memo.as_mut();
                            memo.map(|m| m.put(key, chunk, 0, &folds, &member_ends, ""))
                        }
                    };
                }
                if let (Some(span), Some(memo)) = (kept, memo.as_ref()) {
                    out.extend(memo.member_items(span, i).iter().map(|f| Fold {
                        range: f.range + start,
                        kind: f.kind,
                    }));
                }
            }
            E::Node(n) => {
                // A comment run ends at the next code, and with a member.
                flush_comments(comments, text, out);
                walk(&n, text, out, comments, memo);
                if matches!(n.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT) {
                    flush_comments(comments, text, out);
                }
            }
            E::Token(t) if t.kind() == TOKEN_COMMENT => {
                let range = t.text_range();
                if t.text().starts_with("/*") {
                    flush_comments(comments, text, out);
                    if spans_lines(text, range) {
                        out.push(Fold {
                            range,
                            kind: FoldKind::Comment,
                        });
                    }
                } else {
                    // Line comments on consecutive lines fold together.
                    *comments = Some(match comments.take() {
                        Some(run)
                            if text[run.end().into()..range.start().into()]
                                .matches('\n')
                                .count()
                                <= 1 =>
                        {
                            run.cover(range)
                        }
                        Some(run) => {
                            let mut finished = Some(run);
                            flush_comments(&mut finished, text, out);
                            range
                        }
                        None => range,
                    });
                }
            }
            E::Token(t) if t.kind() == TOKEN_WHITESPACE => {}
            E::Token(_) => flush_comments(comments, text, out),
        }
    }
}

fn flush_comments(run: &mut Option<TextRange>, text: &str, out: &mut Vec<Fold>) {
    if let Some(range) = run.take() {
        if spans_lines(text, range) {
            out.push(Fold {
                range,
                kind: FoldKind::Comment,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::*;

    fn folds(text: &str) -> Vec<(FoldKind, String)> {
        let f = Fixture::parse(text);
        folding_ranges(&f.doc())
            .into_iter()
            .map(|fold| (fold.kind, text[fold.range].to_string()))
            .collect()
    }

    #[test]
    fn brackets_lets_strings_and_comments() {
        let text =
            "# one\n# two\nlet\n  a = [\n    1\n  ];\n  s = ''\n    x\n  '';\nin { inherit a; }";
        let found = folds(text);
        assert_eq!(
            found,
            [
                (FoldKind::Comment, "# one\n# two".to_string()),
                (
                    FoldKind::Region,
                    "let\n  a = [\n    1\n  ];\n  s = ''\n    x\n  '';\n".to_string()
                ),
                (FoldKind::Region, "[\n    1\n  ".to_string()),
                (FoldKind::Region, "''\n    x\n  ''".to_string()),
            ]
        );
    }

    #[test]
    fn one_line_constructs_do_not_fold() {
        assert!(folds("{ a = [ 1 ]; b = (x: x); }").is_empty());
    }
}
