//! Document symbols, nested as the code nests them: every binding of a
//! `let` and every attribute of a set, named by its path as written
//! (`services.nginx.enable`), with the bindings inside its value as
//! children; and the flat list of a file's symbols that workspace symbol
//! search looks through. Walked on the green tree (no syntax node per
//! step): all-packages.nix has 20 000 bindings.

use rnix::SyntaxKind;
use rowan::TextRange;

use super::Doc;
use crate::syntax::green::N;

use SyntaxKind::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    /// A binding whose value is a function.
    Function,
    /// A `let` binding or an inherited name.
    Variable,
    /// An attribute of a set whose value is a set.
    Namespace,
    /// Any other attribute.
    Field,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSymbol {
    /// The attribute path as written: `a.b."c d"`.
    pub name: String,
    /// A short summary of the value: the literal, or a function's pattern.
    pub detail: Option<String>,
    pub kind: SymbolKind,
    /// The whole binding.
    pub range: TextRange,
    /// The name.
    pub selection: TextRange,
    pub children: Vec<DocumentSymbol>,
}

/// A symbol as workspace search lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceSymbol {
    pub name: String,
    /// The path of the bindings around it (`services.nginx`), if any.
    pub container: Option<String>,
    pub kind: SymbolKind,
    pub range: TextRange,
}

/// The symbols of a file, nested.
pub fn document_symbols(doc: &Doc) -> Vec<DocumentSymbol> {
    let Some(green) = doc.analysis().parse.as_ref().and_then(|p| p.green()) else {
        return Vec::new();
    };
    let root = N {
        green,
        offset: 0.into(),
    };
    let mut out = Vec::new();
    let mut memo = doc.memo().map(|m| m.symbols.begin());
    collect(&root, doc.text(), &mut out, &mut memo);
    out
}

/// A text a kept symbol shows.
#[derive(Clone, Copy)]
enum Shown {
    /// A range of the document, relative to the chunk's start.
    Text(TextRange),
    /// A range of the chunk's kept texts.
    Kept(TextRange),
}

/// A chunk's symbol, kept small: a chunk's symbols are flat, in pre-order,
/// relative to the chunk's start, names and details as ranges of the text
/// where they are one (the text of an unchanged chunk is unchanged).
#[derive(Clone, Copy)]
pub(crate) struct Packed {
    name: Shown,
    detail: Option<Shown>,
    kind: SymbolKind,
    range: TextRange,
    selection: TextRange,
    /// How many symbols after this one are its children (all levels).
    descendants: u32,
}

impl Packed {
    /// Adds `symbols` (absolute) of a chunk at `start` of `text` to `out`,
    /// texts that are not the document's to `strings`.
    fn pack(
        symbols: &[DocumentSymbol],
        text: &str,
        start: rowan::TextSize,
        out: &mut Vec<Packed>,
        strings: &mut String,
    ) {
        fn shown(
            s: &str,
            near: TextRange,
            text: &str,
            start: rowan::TextSize,
            strings: &mut String,
        ) -> Shown {
            // Where the name is written: at the start of its range.
            let at = usize::from(near.start());
            if text.get(at..at + s.len()) == Some(s) {
                return Shown::Text(TextRange::at(near.start() - start, rowan::TextSize::of(s)));
            }
            let from = rowan::TextSize::of(strings.as_str());
            strings.push_str(s);
            Shown::Kept(TextRange::at(from, rowan::TextSize::of(s)))
        }
        fn go(
            s: &DocumentSymbol,
            text: &str,
            start: rowan::TextSize,
            out: &mut Vec<Packed>,
            strings: &mut String,
        ) {
            let at = out.len();
            out.push(Packed {
                name: shown(&s.name, s.selection, text, start, strings),
                detail: s
                    .detail
                    .as_deref()
                    .map(|d| shown(d, value_range(s, text, d), text, start, strings)),
                kind: s.kind,
                range: s.range - start,
                selection: s.selection - start,
                descendants: 0,
            });
            for c in &s.children {
                go(c, text, start, out, strings);
            }
            out[at].descendants = (out.len() - at - 1) as u32;
        }
        for s in symbols {
            go(s, text, start, out, strings);
        }
    }

    /// The kept symbols (a member's, in pre-order) as they are at `start`
    /// of `text`; `strings` are their chunk's kept texts.
    fn unpack(
        symbols: &[Packed],
        strings: &str,
        text: &str,
        start: rowan::TextSize,
    ) -> Vec<DocumentSymbol> {
        let shown = |s: Shown| -> String {
            match s {
                Shown::Text(r) => text[r + start].to_string(),
                Shown::Kept(r) => strings[r].to_string(),
            }
        };
        fn one(
            symbols: &[Packed],
            at: &mut usize,
            shown: &dyn Fn(Shown) -> String,
            start: rowan::TextSize,
        ) -> DocumentSymbol {
            let p = &symbols[*at];
            let end = *at + 1 + p.descendants as usize;
            *at += 1;
            let mut children = Vec::new();
            while *at < end {
                children.push(one(symbols, at, shown, start));
            }
            DocumentSymbol {
                name: shown(p.name),
                detail: p.detail.map(shown),
                kind: p.kind,
                range: p.range + start,
                selection: p.selection + start,
                children,
            }
        }
        let mut at = 0;
        let mut out = Vec::new();
        while at < symbols.len() {
            out.push(one(symbols, &mut at, &shown, start));
        }
        out
    }
}

/// Where a symbol's detail may be written: its value, after the name.
fn value_range(s: &DocumentSymbol, text: &str, detail: &str) -> TextRange {
    let within = &text[s.range];
    match within.rfind(detail) {
        Some(i) => TextRange::at(s.range.start() + rowan::TextSize::from(i as u32), 0.into()),
        None => s.range,
    }
}

type SymbolMemo<'m> = Option<crate::ide::memo::Use<'m, Packed>>;

/// At most this many symbols of one file go into the workspace index.
const MAX_WORKSPACE_SYMBOLS: usize = 50_000;

/// A file's symbols, flattened, each with the path of its container.
pub fn workspace_symbols_of(doc: &Doc) -> Vec<WorkspaceSymbol> {
    let mut out = Vec::new();
    let mut stack: Vec<(Option<String>, Vec<DocumentSymbol>)> = vec![(None, document_symbols(doc))];
    while let Some((container, symbols)) = stack.pop() {
        for symbol in symbols {
            if out.len() >= MAX_WORKSPACE_SYMBOLS {
                return out;
            }
            let path = match &container {
                Some(c) => format!("{c}.{}", symbol.name),
                None => symbol.name.clone(),
            };
            out.push(WorkspaceSymbol {
                name: symbol.name,
                container: container.clone(),
                kind: symbol.kind,
                range: symbol.selection,
            });
            if !symbol.children.is_empty() {
                stack.push((Some(path), symbol.children));
            }
        }
    }
    out
}

/// How well `name` matches a search: lower is better (0: the same, 1: a
/// prefix, 2: a part, 3: the query's letters in order); `None` when it
/// does not. Case does not matter.
pub fn symbol_match(query: &str, name: &str) -> Option<u32> {
    if query.is_empty() {
        return Some(3);
    }
    let q = query.to_ascii_lowercase();
    let n = name.to_ascii_lowercase();
    if n == q {
        return Some(0);
    }
    if n.starts_with(&q) {
        return Some(1);
    }
    if n.contains(&q) {
        return Some(2);
    }
    let mut letters = n.chars();
    q.chars().all(|c| letters.any(|l| l == c)).then_some(3)
}

/// The symbols of the bindings in `node` and below.
fn collect(node: &N<'_>, text: &str, out: &mut Vec<DocumentSymbol>, memo: &mut SymbolMemo<'_>) {
    if memo.is_some() {
        if let Some(chunks) = crate::analysis::semantic::memo::set_chunks(node) {
            return chunked_set(node, &chunks, text, out, memo);
        }
    }
    match node.kind() {
        NODE_ATTR_SET | NODE_LET_IN | NODE_LEGACY_LET => {
            let in_let = node.kind() != NODE_ATTR_SET;
            for child in node.children() {
                member(&child, text, in_let, out, memo);
            }
        }
        _ => {
            for child in node.children() {
                collect(&child, text, out, memo);
            }
        }
    }
}

/// The symbols of one child of a set or `let`.
fn member(
    child: &N<'_>,
    text: &str,
    in_let: bool,
    out: &mut Vec<DocumentSymbol>,
    memo: &mut SymbolMemo<'_>,
) {
    match child.kind() {
        NODE_ATTRPATH_VALUE => out.push(binding(child, text, in_let, memo)),
        NODE_INHERIT => inherited(child, text, in_let, out),
        // The body of a `let`, and what else is not a binding.
        _ => collect(child, text, out, memo),
    }
}

/// A big plain set's symbols, chunk by chunk, from the memo where a chunk
/// did not change.
fn chunked_set(
    node: &N<'_>,
    chunks: &[(u64, Vec<N<'_>>)],
    text: &str,
    out: &mut Vec<DocumentSymbol>,
    memo: &mut SymbolMemo<'_>,
) {
    let mut members = crate::analysis::semantic::memo::chunk_members(chunks);
    let mut kept = None;
    for child in node.children() {
        if !matches!(child.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT) {
            collect(&child, text, out, memo);
            continue;
        }
        let Some((key, chunk, i)) = members.next() else {
            continue;
        };
        let start = chunk[0].offset;
        if i == 0 {
            let found = memo.as_mut().and_then(|m| m.get(key, chunk, 0));
            kept = match found {
                Some(found) => Some(found),
                None => {
                    let mut symbols = Vec::new();
                    let mut packed = Vec::new();
                    let mut strings = String::new();
                    let mut member_ends = Vec::with_capacity(chunk.len());
                    for m in chunk {
                        member(m, text, false, &mut symbols, memo);
                        Packed::pack(&symbols, text, start, &mut packed, &mut strings);
                        symbols.clear();
                        member_ends.push(packed.len() as u32);
                    }
                    let memo = memo.as_mut();
                    memo.map(|m| m.put(key, chunk, 0, &packed, &member_ends, &strings))
                }
            };
        }
        if let (Some(span), Some(memo)) = (kept, memo.as_ref()) {
            let symbols = memo.member_items(span, i);
            out.extend(Packed::unpack(symbols, memo.strings(span), text, start));
        }
    }
}

fn binding(entry: &N<'_>, text: &str, in_let: bool, memo: &mut SymbolMemo<'_>) -> DocumentSymbol {
    let mut children_nodes = entry.children();
    let path = children_nodes.next();
    let value = children_nodes.next();
    let selection = path.map_or(entry.text_range(), |p| p.text_range());
    let name = path.map_or_else(String::new, |p| attrpath_text(&p, text));
    let (kind, detail) = match value.map(|v| unparen(&v)) {
        Some(v) if v.kind() == NODE_LAMBDA => (SymbolKind::Function, lambda_detail(&v, text)),
        Some(v) if v.kind() == NODE_ATTR_SET => (SymbolKind::Namespace, None),
        Some(v) => (
            if in_let {
                SymbolKind::Variable
            } else {
                SymbolKind::Field
            },
            literal_detail(&v, text),
        ),
        None => (SymbolKind::Field, None),
    };
    let mut children = Vec::new();
    if let Some(value) = value {
        collect(&value, text, &mut children, memo);
    }
    DocumentSymbol {
        name,
        detail,
        kind,
        range: entry.text_range(),
        selection,
        children,
    }
}

fn inherited(entry: &N<'_>, text: &str, in_let: bool, out: &mut Vec<DocumentSymbol>) {
    let from = entry
        .children()
        .find(|c| c.kind() == NODE_INHERIT_FROM)
        .map(|f| compact(&text[f.text_range()]));
    for attr in entry.children().filter(|c| c.kind() != NODE_INHERIT_FROM) {
        out.push(DocumentSymbol {
            name: text[attr.text_range()].to_string(),
            detail: Some(match &from {
                Some(from) => format!("inherit {from}"),
                None => "inherit".to_string(),
            }),
            kind: if in_let {
                SymbolKind::Variable
            } else {
                SymbolKind::Field
            },
            range: attr.text_range(),
            selection: attr.text_range(),
            children: Vec::new(),
        });
    }
}

/// An attribute path as written, without spaces or comments.
fn attrpath_text(path: &N<'_>, text: &str) -> String {
    // Most paths are written without spaces: one slice of the text.
    let whole = &text[path.text_range()];
    if !whole.contains(|c: char| c.is_whitespace() || c == '#' || c == '/') {
        return whole.to_string();
    }
    let mut out = String::with_capacity(whole.len());
    for (i, attr) in path.children().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(&text[attr.text_range()]);
    }
    out
}

fn unparen<'a>(node: &N<'a>) -> N<'a> {
    let mut node = *node;
    for _ in 0..64 {
        match (node.kind(), node.children().next()) {
            (NODE_PAREN, Some(inner)) => node = inner,
            _ => break,
        }
    }
    node
}

/// `{ a, b, ... }:` or `x:` for a function.
fn lambda_detail(lambda: &N<'_>, text: &str) -> Option<String> {
    let param = lambda.children().next()?;
    Some(format!("{}:", compact(&text[param.text_range()])))
}

/// The value itself for short literals: numbers, strings, paths, names.
fn literal_detail(value: &N<'_>, text: &str) -> Option<String> {
    let shown = matches!(
        value.kind(),
        NODE_LITERAL | NODE_STRING | NODE_PATH_REL | NODE_PATH_ABS | NODE_PATH_HOME | NODE_IDENT
    );
    if !shown {
        return None;
    }
    let value = &text[value.text_range()];
    (value.len() <= 60 && !value.contains('\n')).then(|| value.to_string())
}

/// Text on one line with runs of white space made one space, at most 60
/// characters.
fn compact(text: &str) -> String {
    let mut out = String::new();
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        if out.len() > 60 {
            let mut cut = 57;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push_str("...");
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::*;
    use expect_test::{expect, Expect};

    fn render(symbols: &[DocumentSymbol], depth: usize, out: &mut String) {
        for s in symbols {
            out.push_str(&format!(
                "{}{} {:?}{}\n",
                "  ".repeat(depth),
                s.name,
                s.kind,
                s.detail
                    .as_deref()
                    .map_or(String::new(), |d| format!(" [{d}]"))
            ));
            render(&s.children, depth + 1, out);
        }
    }

    fn check(text: &str, expect: Expect) {
        let f = Fixture::parse(text);
        let mut out = String::new();
        render(&document_symbols(&f.doc()), 0, &mut out);
        expect.assert_eq(&out);
    }

    #[test]
    fn bindings_nest_as_the_code_nests() {
        check(
            r#"{ lib, ... }:
let
  helper = x: x + 1;
  inherit (lib) mkIf;
in {
  services.nginx = {
    enable = true;
    virtualHosts."a.org".root = ./www;
  };
  users = lib.mkIf true { alice = { }; };
}"#,
            expect![[r#"
                helper Function [x:]
                mkIf Variable [inherit (lib)]
                services.nginx Namespace
                  enable Field [true]
                  virtualHosts."a.org".root Field [./www]
                users Field
                  alice Namespace
            "#]],
        );
    }

    #[test]
    fn workspace_symbols_know_their_container() {
        let f = Fixture::parse("{ a = { b = x: x; }; c = 1; }");
        let symbols = workspace_symbols_of(&f.doc());
        let names: Vec<String> = symbols
            .iter()
            .map(|s| match &s.container {
                Some(c) => format!("{c} > {}", s.name),
                None => s.name.clone(),
            })
            .collect();
        assert_eq!(names, ["a", "c", "a > b"]);
    }

    #[test]
    fn search_ranks_exact_then_prefix_then_part_then_letters() {
        assert_eq!(symbol_match("git", "git"), Some(0));
        assert_eq!(symbol_match("git", "gitFull"), Some(1));
        assert_eq!(symbol_match("full", "gitFull"), Some(2));
        assert_eq!(symbol_match("gf", "gitFull"), Some(3));
        assert_eq!(symbol_match("xyz", "gitFull"), None);
    }
}
