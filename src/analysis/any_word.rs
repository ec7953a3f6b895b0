//! Whether a text spells one of a few words, in one pass.

/// A few words a text may spell, looked for in one SIMD search for them
/// all instead of one pass over the text for each (most files spell none,
/// and `check` asks of every file).
pub struct AnyWord {
    words: &'static [&'static str],
    finder: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>>,
}

impl AnyWord {
    pub const fn new(words: &'static [&'static str]) -> AnyWord {
        AnyWord {
            words,
            finder: std::sync::OnceLock::new(),
        }
    }

    /// Whether `text` spells one of the words.
    pub fn in_text(&self, text: &str) -> bool {
        let finder = self.finder.get_or_init(|| {
            aho_corasick::AhoCorasick::builder()
                // Leftmost matching is what the SIMD search supports.
                .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                .build(self.words)
                .ok()
        });
        match finder {
            Some(finder) => finder.is_match(text),
            None => self.words.iter().any(|w| text.contains(w)),
        }
    }
}
