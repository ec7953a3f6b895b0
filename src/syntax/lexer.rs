//! A tokenizer that gives exactly the tokens of rnix 0.15's, in two thirds
//! of the time (53-72 ms against 82-98 ms for 10.5 MB of generated Nix).
//!
//! rnix's tokenizer reads the text a `char` at a time and copies its state
//! around each token; on real Nix it was a sixth of `cim-nix check`. This one
//! is the same state machine (the same contexts for strings, interpolation
//! and paths, the same path heuristics, the same error tokens), read a byte
//! at a time: every character the rules look at is ASCII, so a `char` is
//! decoded only where a rule takes one whole (a character after `\`, a
//! non-ASCII white space, the first character of an unknown token). Runs of
//! characters no rule looks at (string bodies, comments) are skipped with
//! `memchr`.
//!
//! `tests/parser_equivalence.rs` compares the two on every corpus file, on
//! thousands of mutated variants and on random text made of the pieces the
//! rules care about; any difference fails it.

use rnix::SyntaxKind::{self, *};

/// What a token starting at a point may be, judged from the characters
/// after it (rnix's `IdentType`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    PathRel,
    PathAbs,
    PathHome,
    PathSearch,
    Uri,
}

/// A token that spans several calls: the inside of a string, of an
/// interpolation, or of an interpolated path.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    StringBody { multiline: bool },
    StringEnd,
    Interpol { brackets: u32 },
    InterpolStart,
    Path(SyntaxKind),
}

/// What each byte is to the rules, as bits: a lookup instead of a chain of
/// comparisons on every byte of every name.
const PATH: u8 = 1;
const IDENT: u8 = 2;
const URI: u8 = 4;
const SPACE: u8 = 8;

const CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut class = 0;
        if matches!(c, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'_' | b'.' | b'+' | b'-') {
            class |= PATH | URI;
        }
        if matches!(c, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'\'') {
            class |= IDENT;
        }
        if matches!(
            c,
            b'%' | b'?' | b':' | b'@' | b'&' | b'=' | b'$' | b',' | b'!' | b'~' | b'*' | b'\''
        ) {
            class |= URI;
        }
        // `char::is_whitespace` in the ASCII range.
        if matches!(c, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ') {
            class |= SPACE;
        }
        table[b] = class;
        b += 1;
    }
    table
};

fn is(b: u8, class: u8) -> bool {
    CLASSES[usize::from(b)] & class != 0
}

pub(super) fn is_path_byte(b: u8) -> bool {
    is(b, PATH)
}

/// The tokens of `text`, as `rnix::tokenize` gives them.
pub fn tokenize(text: &str) -> Lexer<'_> {
    Lexer {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        ctx: Vec::new(),
        runs: [None; 2],
    }
}

pub struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    ctx: Vec<Context>,
    /// The last run of path characters [`Lexer::shape`] measured, without
    /// and with `<` (for a search path). Every token inside a run (`a.b.c`
    /// is five) asks for the rest of it, and measuring it again each time
    /// made `a.a.a...` take time in the square of its length (as rnix's
    /// tokenizer does).
    runs: [Option<PathRun>; 2],
}

#[derive(Clone, Copy)]
struct PathRun {
    start: usize,
    end: usize,
    last_underscore: Option<usize>,
}

impl<'a> Iterator for Lexer<'a> {
    type Item = (SyntaxKind, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.pos;
        let kind = self.next_kind()?;
        Some((kind, &self.text[start..self.pos]))
    }
}

impl Lexer<'_> {
    fn byte_at(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    fn peek_byte(&self) -> Option<u8> {
        self.byte_at(self.pos)
    }

    /// The character at `at`, which is on a character boundary.
    fn char_at(&self, at: usize) -> Option<char> {
        match self.byte_at(at)? {
            b if b < 0x80 => Some(char::from(b)),
            _ => self.text[at..].chars().next(),
        }
    }

    /// Takes the next character, whole.
    fn bump_char(&mut self) -> Option<char> {
        let c = self.char_at(self.pos)?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn bump_if(&mut self, b: u8) -> bool {
        let is = self.peek_byte() == Some(b);
        if is {
            self.pos += 1;
        }
        is
    }

    fn starts_with(&self, s: &[u8]) -> bool {
        self.bytes[self.pos..].starts_with(s)
    }

    /// Skips the bytes that satisfy `f`, all of them ASCII; returns how many.
    fn skip_while(&mut self, f: impl Fn(u8) -> bool) -> usize {
        let start = self.pos;
        while self.peek_byte().is_some_and(&f) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn skip_whitespace(&mut self) -> usize {
        let start = self.pos;
        while let Some(b) = self.peek_byte() {
            if b < 0x80 {
                if !is(b, SPACE) {
                    break;
                }
                self.pos += 1;
            } else {
                match self.char_at(self.pos) {
                    Some(c) if c.is_whitespace() => self.pos += c.len_utf8(),
                    _ => break,
                }
            }
        }
        self.pos - start
    }

    fn pop_ctx(&mut self) {
        self.ctx.pop();
    }

    fn next_kind(&mut self) -> Option<SyntaxKind> {
        let start = self.pos;
        // A token that an earlier one started.
        loop {
            match self.ctx.last().copied() {
                Some(Context::InterpolStart) => {
                    self.pop_ctx();
                    self.ctx.push(Context::Interpol { brackets: 0 });
                    // Pushed only in front of a `${`.
                    self.pos += 2;
                    return Some(TOKEN_INTERPOL_START);
                }
                Some(Context::Path(kind)) => {
                    if kind == TOKEN_PATH_SEARCH {
                        if self.peek_byte().is_some_and(is_path_byte) {
                            return Some(self.path_segment(start, kind));
                        }
                        self.pop_ctx();
                    } else if self.starts_with(b"${") {
                        self.pos += 2;
                        self.ctx.push(Context::Interpol { brackets: 0 });
                        return Some(TOKEN_INTERPOL_START);
                    } else if self.peek_byte().is_some_and(is_path_byte) {
                        return Some(self.path_segment(start, kind));
                    } else {
                        self.pop_ctx();
                    }
                }
                Some(Context::StringBody { multiline }) => {
                    let kind = self.string_part(multiline);
                    if self.pos == start {
                        continue; // nothing before the end or `${`
                    }
                    return Some(kind);
                }
                Some(Context::StringEnd) => {
                    self.pop_ctx();
                    let closed = match self.peek_byte() {
                        Some(b'"') => {
                            self.pos += 1;
                            true
                        }
                        Some(b'\'') => {
                            self.pos += 1;
                            self.bump_if(b'\'')
                        }
                        _ => false,
                    };
                    return Some(if closed {
                        TOKEN_STRING_END
                    } else {
                        TOKEN_ERROR
                    });
                }
                _ => {}
            }
            break;
        }

        if self.skip_whitespace() > 0 {
            return Some(TOKEN_WHITESPACE);
        }
        if self.peek_byte() == Some(b'#') {
            self.pos = memchr::memchr(b'\n', &self.bytes[self.pos..])
                .map_or(self.bytes.len(), |i| self.pos + i);
            return Some(TOKEN_COMMENT);
        }
        if self.starts_with(b"/*") {
            self.pos += 2;
            loop {
                self.pos = memchr::memchr(b'*', &self.bytes[self.pos..])
                    .map_or(self.bytes.len(), |i| self.pos + i + 1);
                match self.peek_byte() {
                    None => return Some(TOKEN_ERROR),
                    Some(b'/') => {
                        self.pos += 1;
                        return Some(TOKEN_COMMENT);
                    }
                    _ => {}
                }
            }
        }
        if self.starts_with(b"...") {
            self.pos += 3;
            return Some(TOKEN_ELLIPSIS);
        }

        let first = self.peek_byte()?;
        // The guess matters only for a token that may be a path, a search
        // path or a URI: one that starts with a path character or `<`.
        let shape = if is_path_byte(first) || first == b'<' {
            self.shape()
        } else {
            None
        };
        let c = self.bump_char()?;

        if c == '/' && self.bump_if(b'/') {
            return Some(TOKEN_UPDATE);
        }
        if c == '~'
            || matches!(shape, Some(Shape::PathAbs | Shape::PathRel))
            || (c == '/' && self.peek_byte().is_some_and(is_path_byte))
        {
            let kind = if c == '~' {
                if self.bump_char() != Some('/') {
                    return Some(TOKEN_ERROR);
                }
                TOKEN_PATH_HOME
            } else if c == '/' {
                TOKEN_PATH_ABS
            } else {
                TOKEN_PATH_REL
            };
            self.ctx.push(Context::Path(kind));
            return Some(self.path_segment(start, kind));
        }

        Some(match first {
            b'=' if self.bump_if(b'=') => TOKEN_EQUAL,
            b'!' if self.bump_if(b'=') => TOKEN_NOT_EQUAL,
            b'!' => TOKEN_INVERT,
            b'{' => {
                if let Some(Context::Interpol { brackets }) = self.ctx.last_mut() {
                    *brackets += 1;
                }
                TOKEN_L_BRACE
            }
            b'}' => {
                if let Some(Context::Interpol { brackets }) = self.ctx.last_mut() {
                    match brackets.checked_sub(1) {
                        Some(fewer) => *brackets = fewer,
                        None => {
                            self.pop_ctx();
                            return Some(TOKEN_INTERPOL_END);
                        }
                    }
                }
                TOKEN_R_BRACE
            }
            b'[' => TOKEN_L_BRACK,
            b']' => TOKEN_R_BRACK,
            b'@' => TOKEN_AT,
            b':' => TOKEN_COLON,
            b',' => TOKEN_COMMA,
            b'.' => {
                if self.peek_byte().is_some_and(|b| b.is_ascii_digit()) {
                    self.skip_while(|b| b.is_ascii_digit());
                    self.exponent()
                } else {
                    TOKEN_DOT
                }
            }
            b'=' => TOKEN_ASSIGN,
            b'?' => TOKEN_QUESTION,
            b';' => TOKEN_SEMICOLON,
            b'(' => TOKEN_L_PAREN,
            b')' => TOKEN_R_PAREN,
            b'+' if self.bump_if(b'+') => TOKEN_CONCAT,
            b'-' if self.bump_if(b'>') => TOKEN_IMPLICATION,
            b'/' if self.bump_if(b'/') => TOKEN_UPDATE,
            b'+' => TOKEN_ADD,
            b'-' => TOKEN_SUB,
            b'*' => TOKEN_MUL,
            b'/' => TOKEN_DIV,
            b'<' if self.bump_if(b'|') => TOKEN_PIPE_LEFT,
            b'<' if shape == Some(Shape::PathSearch) => {
                if self.skip_while(is_path_byte) == 0 {
                    TOKEN_LESS // `<>`
                } else if self.bump_char() != Some('>') {
                    TOKEN_ERROR
                } else {
                    TOKEN_PATH_SEARCH
                }
            }
            b'&' if self.bump_if(b'&') => TOKEN_AND_AND,
            b'|' if self.bump_if(b'>') => TOKEN_PIPE_RIGHT,
            b'|' if self.bump_if(b'|') => TOKEN_OR_OR,
            b'<' if self.bump_if(b'=') => TOKEN_LESS_OR_EQ,
            b'<' => TOKEN_LESS,
            b'>' if self.bump_if(b'=') => TOKEN_MORE_OR_EQ,
            b'>' => TOKEN_MORE,
            b'$' if self.bump_if(b'{') => {
                self.ctx.push(Context::Interpol { brackets: 0 });
                TOKEN_INTERPOL_START
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                if shape == Some(Shape::Uri) {
                    self.skip_while(|b| is(b, IDENT | URI));
                    TOKEN_URI
                } else {
                    self.skip_while(|b| is(b, IDENT));
                    keyword(&self.bytes[start..self.pos])
                }
            }
            b'"' => {
                self.ctx.push(Context::StringBody { multiline: false });
                TOKEN_STRING_START
            }
            b'\'' if self.bump_if(b'\'') => {
                self.ctx.push(Context::StringBody { multiline: true });
                TOKEN_STRING_START
            }
            b'0'..=b'9' => {
                // `0` and more digits is an integer even before a `.`
                // (rnix issue 157); `0.5` is a float.
                let integer_only = first == b'0' && self.peek_byte() != Some(b'.');
                self.skip_while(|b| b.is_ascii_digit());
                if !integer_only && self.bump_if(b'.') {
                    self.skip_while(|b| b.is_ascii_digit());
                    self.exponent()
                } else {
                    TOKEN_INTEGER
                }
            }
            _ => TOKEN_ERROR,
        })
    }

    /// rnix's guess at what the token starting here is, from the run of
    /// path characters at its start and the two characters after that run.
    fn shape(&mut self) -> Option<Shape> {
        let first = self.peek_byte()?;
        if first == b'/' {
            return match self.byte_at(self.pos + 1) {
                Some(b'/') => None, // `//`, the update operator
                Some(b'$') if self.byte_at(self.pos + 2) == Some(b'{') => Some(Shape::PathAbs),
                Some(b) if is_path_byte(b) => Some(Shape::PathAbs),
                _ => None,
            };
        }
        if first == b'~' && self.byte_at(self.pos + 1) == Some(b'/') {
            return Some(Shape::PathHome);
        }
        let search = first == b'<';
        let (at, underscore) = self.path_run(search);
        let after = self.char_at(at);
        let second = after.and_then(|c| self.char_at(at + c.len_utf8()));
        match (after, second) {
            (Some('/'), Some('/' | '*')) => None,
            (Some('/'), Some(c)) if !c.is_whitespace() => Some(Shape::PathRel),
            (Some('>'), _) => Some(Shape::PathSearch),
            (Some(':'), Some(c)) if c.is_ascii() && is(c as u8, URI) && !underscore => {
                Some(Shape::Uri)
            }
            _ => None,
        }
    }

    /// Where the run of path characters (and `<`, for a search path) from
    /// here ends, and whether it holds a `_`.
    fn path_run(&mut self, search: bool) -> (usize, bool) {
        let here = self.pos;
        let run = match self.runs[usize::from(search)] {
            // Every byte of a run is in it: a run from inside one ends
            // where that one does.
            Some(run) if run.start <= here && here <= run.end => run,
            _ => {
                let mut end = here;
                let mut last_underscore = None;
                while let Some(&b) = self.bytes.get(end) {
                    let takes = match b {
                        b'<' | b'/' => search,
                        _ => is_path_byte(b),
                    };
                    if !takes {
                        break;
                    }
                    if b == b'_' {
                        last_underscore = Some(end);
                    }
                    end += 1;
                }
                let run = PathRun {
                    start: here,
                    end,
                    last_underscore,
                };
                self.runs[usize::from(search)] = Some(run);
                run
            }
        };
        (run.end, run.last_underscore.is_some_and(|u| u >= here))
    }

    /// The rest of a path segment started at `start`; the path goes on
    /// after an interpolation, and is an error when it ends in `/` or has
    /// `//` in it.
    fn path_segment(&mut self, start: usize, kind: SyntaxKind) -> SyntaxKind {
        self.skip_while(is_path_byte);
        if self.starts_with(b"${") {
            self.ctx.push(Context::InterpolStart);
        } else {
            let segment = &self.bytes[start..self.pos];
            if segment.ends_with(b"/") || segment.windows(2).any(|w| w == b"//") {
                return TOKEN_ERROR;
            }
            self.pop_ctx();
        }
        kind
    }

    /// String content up to the string's end or the next `${`, with the
    /// escapes of `"..."` or `''...''`.
    fn string_part(&mut self, multiline: bool) -> SyntaxKind {
        loop {
            // Nothing else in a string body matters.
            let rest = &self.bytes[self.pos..];
            let skip = if multiline {
                memchr::memchr2(b'\'', b'$', rest)
            } else {
                memchr::memchr3(b'"', b'\\', b'$', rest)
            };
            let Some(skip) = skip else {
                self.pos = self.bytes.len();
                self.pop_ctx();
                return TOKEN_ERROR;
            };
            let here = self.pos + skip;
            self.pos = here + 1;
            match self.bytes[here] {
                b'"' => {
                    self.pos = here;
                    self.pop_ctx();
                    self.ctx.push(Context::StringEnd);
                    return TOKEN_STRING_CONTENT;
                }
                b'\\' => {
                    if self.bump_char().is_none() {
                        return TOKEN_ERROR;
                    }
                }
                b'\'' => match self.peek_byte() {
                    None => return TOKEN_ERROR,
                    Some(b'\'') => {
                        self.pos += 1;
                        match self.peek_byte() {
                            Some(b'\'' | b'$') => self.pos += 1,
                            Some(b'\\') => {
                                self.pos += 1;
                                if self.bump_char().is_none() {
                                    return TOKEN_ERROR;
                                }
                            }
                            _ => {
                                self.pos = here;
                                self.pop_ctx();
                                self.ctx.push(Context::StringEnd);
                                return TOKEN_STRING_CONTENT;
                            }
                        }
                    }
                    Some(_) => {}
                },
                _ => match self.peek_byte() {
                    // `$`
                    Some(b'$') => self.pos += 1,
                    Some(b'{') => {
                        self.pos = here;
                        self.ctx.push(Context::InterpolStart);
                        return TOKEN_STRING_CONTENT;
                    }
                    _ => {}
                },
            }
        }
    }

    /// An optional exponent after a float's digits.
    fn exponent(&mut self) -> SyntaxKind {
        if matches!(self.peek_byte(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek_byte(), Some(b'-' | b'+')) {
                self.pos += 1;
            }
            if self.skip_while(|b| b.is_ascii_digit()) == 0 {
                return TOKEN_ERROR;
            }
        }
        TOKEN_FLOAT
    }
}

fn keyword(word: &[u8]) -> SyntaxKind {
    match word {
        b"assert" => TOKEN_ASSERT,
        b"else" => TOKEN_ELSE,
        b"if" => TOKEN_IF,
        b"in" => TOKEN_IN,
        b"inherit" => TOKEN_INHERIT,
        b"let" => TOKEN_LET,
        b"or" => TOKEN_OR,
        b"rec" => TOKEN_REC,
        b"then" => TOKEN_THEN,
        b"with" => TOKEN_WITH,
        _ => TOKEN_IDENT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_rnix(text: &str) {
        let ours: Vec<_> = tokenize(text).collect();
        let theirs: Vec<_> = rnix::tokenize(text).collect();
        assert_eq!(ours, theirs, "tokens of {text:?}");
    }

    #[test]
    fn corners_give_rnix_tokens() {
        for text in [
            "{ a = 1; b = ./x/y; c = /abs/${p}/q; d = ~/h; e = <nixpkgs/lib>; }",
            "https://example.org/x?y=1 a:b a_b:c",
            "x: x // y ++ z -> w |> f <| g",
            "1 0 01 0.5 1.5e3 .5 1.e 1.e+ 2E-7 007.5",
            "\"a ${b} \\${c} $${d} \\\" \\n $\" ''x ''${y} '''' ''\\n ${z} $'' ''",
            "# comment\n/* block ** */ a /* open",
            "a/b a / b a/ b a//b a/*b*/ /*x",
            "~ ~x ~/ <> <a <a> a> <|",
            "\"unterminated ${ { } }",
            "''unterminated '",
            "\"\\",
            "./a/${b}c/${d}",
            "./a//b ./a/ ./a/${b}/",
            "é ü\u{a0}x\u{85}y\u{2003} \"é\" ''ü'' # ö\n",
            "a.b.\"c\".${d} or e",
            "let inherit (x) a b; in rec { c = d; }",
            "~é ~/é 1eé \\é",
            "a:é a:/ a:: _a:b",
            "... .. . ...a",
            "\"$",
            "''$",
            "''''\\",
            "''\\",
            "/${",
            "<a/b",
            "<a/b>",
            "a-b' c'' d_e",
        ] {
            same_as_rnix(text);
        }
    }

    /// Each token of a run of path characters asks how far the run goes;
    /// measured again for every token, `a.a.a...` took time in the square
    /// of its length (7 s for 100 KB). Linear, these take milliseconds.
    #[test]
    fn long_runs_of_path_characters_take_linear_time() {
        for (text, tokens) in [
            ("a.".repeat(200_000) + "a", 400_001),
            ("_a.".repeat(100_000) + "a", 200_001),
            ("<a".repeat(100_000), 200_000),
        ] {
            let start = std::time::Instant::now();
            assert_eq!(tokenize(&text).count(), tokens);
            let elapsed = start.elapsed();
            assert!(elapsed.as_secs() < 2, "{elapsed:?} for {}", &text[..4]);
        }
        same_as_rnix(&("a.".repeat(3_000) + "a"));
        same_as_rnix(&"<a".repeat(3_000));
    }

    #[test]
    fn every_prefix_of_a_tricky_text_gives_rnix_tokens() {
        let text = "{ p = ./a/${b}.nix; s = \"x${y}\\\"z$\"; m = ''a''$b ${c} ''\\d''; u = http://x; n = 1.5e-3; } /* c */ # e\n";
        for end in 0..=text.len() {
            if text.is_char_boundary(end) {
                same_as_rnix(&text[..end]);
            }
        }
    }
}
