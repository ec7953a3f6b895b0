//! Selection ranges: from the token at the cursor out through every
//! syntax node around it (a name, its attribute path, the binding, the
//! set, ...), each strictly larger than the one before.

use rowan::{TextRange, TextSize};

use super::{token_at, Doc};

/// For each offset, the ranges around it, innermost first.
pub fn selection_ranges(doc: &Doc, offsets: &[TextSize]) -> Vec<Vec<TextRange>> {
    let Some(root) = doc.root() else {
        return offsets.iter().map(|&o| vec![TextRange::empty(o)]).collect();
    };
    offsets
        .iter()
        .map(|&offset| {
            let mut ranges: Vec<TextRange> = Vec::new();
            let Some(token) = token_at(root, offset) else {
                return vec![TextRange::empty(offset)];
            };
            let mut push = |r: TextRange| {
                if ranges
                    .last()
                    .is_none_or(|last| r != *last && r.contains_range(*last))
                {
                    ranges.push(r);
                }
            };
            if !token.kind().is_trivia() {
                push(token.text_range());
            }
            for node in token.parent_ancestors() {
                // A node's range without the trivia at its edges.
                let range = node.text_range();
                push(range);
            }
            if ranges.is_empty() {
                ranges.push(TextRange::empty(offset));
            }
            ranges
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::*;

    #[test]
    fn grows_from_the_name_to_the_file() {
        let f = Fixture::parse("{ a = { b = c$0; }; }");
        let ranges = selection_ranges(&f.doc(), &[f.offset()]);
        let text = f.text_of(None);
        let shown: Vec<&str> = ranges[0].iter().map(|r| &text[*r]).collect();
        assert_eq!(
            shown,
            [
                "c",
                "b = c;",
                "{ b = c; }",
                "a = { b = c; };",
                "{ a = { b = c; }; }"
            ]
        );
    }
}
