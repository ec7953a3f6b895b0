//! bash and zsh files read as the shell reads them, for the bash and zsh
//! converters: quotes (`'...'`, `"..."`, `$'...'`), backslash escapes and
//! line continuations, `$VAR`/`${...}`/`$(...)`/backquote expansions,
//! comments, heredocs, `;`-separated commands, arrays (`name=(a b)`) and
//! the compound commands (`if ... fi`, `case ... esac`, loops, `{ ... }`,
//! `( ... )`) that make one command of several lines.
//!
//! The file comes out as [`Unit`]s: whole lines that the shell reads as one
//! complete command (or a blank or comment line). A unit made only of
//! simple commands (`alias`, `export`, `setopt`...) separated by `;` comes
//! with its words, quotes removed, so a converter can map it; any other unit
//! (pipes, `&&`, redirections, compound commands) is kept whole, as text.

/// A piece of a word, quotes removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Unquoted text: globbing, brace expansion and `~` still apply.
    Bare(String),
    /// Quoted or escaped text: literal.
    Quoted(String),
    /// `$NAME` or `${NAME}`.
    Var(String),
    /// Any other expansion, as written: `$(...)`, `` `...` ``, `${x:-y}`,
    /// `$1`, a glob qualifier `(...)`.
    Subst(String),
}

/// A shell word: its text as written and its parts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Word {
    pub raw: String,
    pub parts: Vec<Part>,
    /// `name=(a b c)`: the elements of the array.
    pub array: Option<Vec<Word>>,
}

impl Word {
    /// The word's value when it has no expansion at all (no variable, no
    /// substitution, no unquoted glob, brace or `~`).
    pub fn literal(&self) -> Option<String> {
        if self.array.is_some() {
            return None;
        }
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Bare(s) if s.contains(['*', '?', '[', '{', '~']) => return None,
                Part::Bare(s) | Part::Quoted(s) => out.push_str(s),
                Part::Var(_) | Part::Subst(_) => return None,
            }
        }
        Some(out)
    }

    /// `NAME=value` as the shell reads an assignment: the name and the
    /// value as a word of its own. `None` for any other word (and for
    /// `NAME+=value`).
    pub fn assignment(&self) -> Option<(String, Word)> {
        let Some(Part::Bare(first)) = self.parts.first() else {
            return None;
        };
        let (name, rest) = first.split_once('=')?;
        if !is_name(name) {
            return None;
        }
        let mut parts = Vec::new();
        if !rest.is_empty() {
            parts.push(Part::Bare(rest.to_string()));
        }
        parts.extend(self.parts[1..].iter().cloned());
        let raw = self
            .raw
            .split_once('=')
            .map_or(String::new(), |(_, r)| r.to_string());
        Some((
            name.to_string(),
            Word {
                raw,
                parts,
                array: self.array.clone(),
            },
        ))
    }

    /// The value of an assignment as text to put between double quotes,
    /// where it means the same: literal text escaped, variables kept, an
    /// unquoted `~` at the start or after `:` as `$HOME`. `None` when the
    /// value runs a command or uses any other expansion.
    pub fn double_quoted(&self) -> Option<String> {
        // Control characters (`$'\e[1m'`) would reach the Nix file raw.
        let control = self.parts.iter().any(|p| match p {
            Part::Bare(s) | Part::Quoted(s) => s.chars().any(char::is_control),
            _ => false,
        });
        if self.array.is_some() || control {
            return None;
        }
        let mut out = String::new();
        for (index, part) in self.parts.iter().enumerate() {
            match part {
                Part::Bare(s) => {
                    let mut after_colon = index == 0;
                    for (at, c) in s.char_indices() {
                        let tilde_ends = s[at + 1..].starts_with('/') || at + 1 == s.len();
                        if c == '~' && after_colon && tilde_ends {
                            out.push_str("$HOME");
                        } else {
                            push_escaped(&mut out, c);
                        }
                        after_colon = c == ':';
                    }
                }
                Part::Quoted(s) => s.chars().for_each(|c| push_escaped(&mut out, c)),
                Part::Var(name) => {
                    // Braces only where the next character would join the name.
                    let joins = self.parts[index + 1..]
                        .iter()
                        .find_map(|p| match p {
                            Part::Bare(s) | Part::Quoted(s) => s
                                .chars()
                                .next()
                                .map(|c| c.is_ascii_alphanumeric() || c == '_'),
                            _ => Some(false),
                        })
                        .unwrap_or(false);
                    if joins {
                        out.push_str(&format!("${{{name}}}"));
                    } else {
                        out.push('$');
                        out.push_str(name);
                    }
                }
                Part::Subst(_) => return None,
            }
        }
        Some(out)
    }

    /// Whether the word is exactly `text`, unquoted (a reserved word).
    pub fn is(&self, text: &str) -> bool {
        matches!(self.parts.as_slice(), [Part::Bare(s)] if s == text) && self.array.is_none()
    }
}

fn push_escaped(out: &mut String, c: char) {
    if matches!(c, '\\' | '"' | '$' | '`') {
        out.push('\\');
    }
    out.push(c);
}

/// A shell variable name.
pub fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One simple command of a unit: its words and its text as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simple {
    pub words: Vec<Word>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitKind {
    Blank,
    /// A line that is only a comment; the text after `#`.
    Comment(String),
    /// Code: `commands` when the unit is only simple commands separated by
    /// `;`, with the comment ending its line.
    Code {
        commands: Option<Vec<Simple>>,
        comment: Option<String>,
    },
}

/// Whole lines the shell reads as one complete command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// 1-based, inclusive.
    pub first_line: usize,
    pub last_line: usize,
    /// The lines as written, each ending in a newline.
    pub text: String,
    pub kind: UnitKind,
}

/// Why the shell would refuse the file: the line and what.
pub type SyntaxError = (usize, String);

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(Word),
    Op(&'static str),
    Newline,
    Comment(String),
}

#[derive(Debug, Clone)]
struct Tok {
    token: Token,
    /// Where it starts (line, char offset) and ends (line after any
    /// heredoc it carries, char offset).
    line: usize,
    end_line: usize,
    start: usize,
    end: usize,
}

const OPERATORS: [&str; 24] = [
    ";;&", "<<<", "<<-", "&>>", ";;", ";&", "&&", "||", "|&", "&>", ">>", ">&", ">|", "<<", "<&",
    "<>", ";", "&", "|", "<", ">", "(", ")", "\n",
];

struct Lexer {
    chars: Chars,
    /// Heredocs whose bodies start after the current line: delimiter and
    /// whether leading tabs are stripped (`<<-`).
    heredocs: Vec<(String, bool)>,
    want_delimiter: Option<bool>,
}

/// A text read a character at a time, counting lines: what the shell
/// lexers here and in `fish.rs` move over.
pub(super) struct Chars {
    pub c: Vec<char>,
    pub i: usize,
    pub line: usize,
}

impl Chars {
    pub fn new(text: &str) -> Chars {
        Chars {
            c: text.chars().collect(),
            i: 0,
            line: 1,
        }
    }

    pub fn peek(&self, ahead: usize) -> Option<char> {
        self.c.get(self.i + ahead).copied()
    }

    pub fn bump(&mut self) -> Option<char> {
        let c = self.peek(0)?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    /// Skips blanks and line continuations between words.
    pub fn skip_blanks(&mut self) {
        loop {
            match (self.peek(0), self.peek(1)) {
                (Some(' ' | '\t' | '\r'), _) => {
                    self.bump();
                }
                (Some('\\'), Some('\n')) => {
                    self.bump();
                    self.bump();
                }
                _ => break,
            }
        }
    }
}

impl Lexer {
    fn next(&mut self) -> Result<Option<Tok>, SyntaxError> {
        self.chars.skip_blanks();
        let Some(c) = self.chars.peek(0) else {
            return Ok(None);
        };
        let (line, start) = (self.chars.line, self.chars.i);
        let token = match c {
            '\n' => {
                self.chars.bump();
                self.read_heredocs();
                Token::Newline
            }
            '#' => {
                let mut text = String::new();
                self.chars.bump();
                while let Some(c) = self.chars.peek(0).filter(|c| *c != '\n') {
                    text.push(c);
                    self.chars.bump();
                }
                Token::Comment(text)
            }
            ';' | '&' | '|' | '<' | '>' | '(' | ')' => {
                // Process substitution is a word.
                if matches!(c, '<' | '>') && self.chars.peek(1) == Some('(') {
                    Token::Word(self.word()?)
                } else {
                    let op = OPERATORS
                        .iter()
                        .find(|op| {
                            op.chars()
                                .enumerate()
                                .all(|(k, o)| self.chars.peek(k) == Some(o))
                        })
                        .copied()
                        .unwrap_or(";");
                    for _ in 0..op.chars().count() {
                        self.chars.bump();
                    }
                    if op == "<<" || op == "<<-" {
                        self.want_delimiter = Some(op == "<<-");
                    }
                    Token::Op(op)
                }
            }
            _ => {
                let word = self.word()?;
                if let Some(strip) = self.want_delimiter.take() {
                    let delimiter = word.parts.iter().fold(String::new(), |mut s, p| {
                        if let Part::Bare(t) | Part::Quoted(t) = p {
                            s.push_str(t);
                        }
                        s
                    });
                    self.heredocs.push((delimiter, strip));
                }
                Token::Word(word)
            }
        };
        Ok(Some(Tok {
            token,
            line,
            end_line: self.chars.line,
            start,
            end: self.chars.i,
        }))
    }

    /// Skips the bodies of the heredocs started on the line just ended.
    fn read_heredocs(&mut self) {
        for (delimiter, strip) in std::mem::take(&mut self.heredocs) {
            while self.chars.peek(0).is_some() {
                let mut line = String::new();
                while let Some(c) = self.chars.bump() {
                    if c == '\n' {
                        break;
                    }
                    line.push(c);
                }
                let line = if strip {
                    line.trim_start_matches('\t')
                } else {
                    &line
                };
                if line == delimiter {
                    break;
                }
            }
        }
    }

    fn word(&mut self) -> Result<Word, SyntaxError> {
        let start = self.chars.i;
        let mut parts: Vec<Part> = Vec::new();
        let mut array = None;
        while let Some(c) = self.chars.peek(0) {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | ')' => break,
                '<' | '>' if self.chars.peek(1) == Some('(') => {
                    let text = self.balanced(1)?;
                    parts.push(Part::Subst(text));
                }
                '<' | '>' => break,
                '(' if parts.is_empty() => break,
                '(' => {
                    let assignment = matches!(parts.as_slice(), [Part::Bare(s)]
                        if s.strip_suffix('=').is_some_and(is_name));
                    if assignment {
                        array = Some(self.array()?);
                    } else {
                        let text = self.balanced(0)?;
                        parts.push(Part::Subst(text));
                    }
                }
                '\\' => {
                    self.chars.bump();
                    match self.chars.bump() {
                        Some('\n') => {}
                        Some(c) => push(&mut parts, Part::Quoted(c.to_string())),
                        None => push(&mut parts, Part::Bare("\\".into())),
                    }
                }
                '\'' => {
                    let line = self.chars.line;
                    self.chars.bump();
                    let mut text = String::new();
                    loop {
                        match self.chars.bump() {
                            Some('\'') => break,
                            Some(c) => text.push(c),
                            None => return Err((line, "unterminated single quote".into())),
                        }
                    }
                    push(&mut parts, Part::Quoted(text));
                }
                '"' => self.double_quoted(&mut parts)?,
                '$' => self.dollar(&mut parts, false)?,
                '`' => {
                    let text = self.backquoted()?;
                    parts.push(Part::Subst(text));
                }
                c => {
                    self.chars.bump();
                    push(&mut parts, Part::Bare(c.to_string()));
                }
            }
        }
        Ok(Word {
            raw: self.chars.c[start..self.chars.i].iter().collect(),
            parts,
            array,
        })
    }

    /// The elements of `name=( ... )`, from the `(`.
    fn array(&mut self) -> Result<Vec<Word>, SyntaxError> {
        let line = self.chars.line;
        self.chars.bump();
        let mut words = Vec::new();
        loop {
            match self.chars.peek(0) {
                None => return Err((line, "unterminated array `(`".into())),
                Some(')') => {
                    self.chars.bump();
                    return Ok(words);
                }
                Some(' ' | '\t' | '\r' | '\n') => {
                    self.chars.bump();
                }
                Some('#') => {
                    while self.chars.peek(0).is_some_and(|c| c != '\n') {
                        self.chars.bump();
                    }
                }
                Some('\\') if self.chars.peek(1) == Some('\n') => {
                    self.chars.bump();
                    self.chars.bump();
                }
                Some(';' | '&' | '|' | '<' | '>' | '(') => {
                    return Err((self.chars.line, "unexpected token in an array".into()))
                }
                Some(_) => words.push(self.word()?),
            }
        }
    }

    fn double_quoted(&mut self, parts: &mut Vec<Part>) -> Result<(), SyntaxError> {
        let line = self.chars.line;
        self.chars.bump();
        loop {
            match self.chars.peek(0) {
                None => return Err((line, "unterminated double quote".into())),
                Some('"') => {
                    self.chars.bump();
                    // `""` is an empty word, not nothing.
                    push(parts, Part::Quoted(String::new()));
                    return Ok(());
                }
                Some('\\') => {
                    self.chars.bump();
                    match self.chars.bump() {
                        Some('\n') => {}
                        Some(c @ ('$' | '`' | '"' | '\\')) => push(parts, Part::Quoted(c.into())),
                        Some(c) => push(parts, Part::Quoted(format!("\\{c}"))),
                        None => return Err((line, "unterminated double quote".into())),
                    }
                }
                Some('$') => self.dollar(parts, true)?,
                Some('`') => {
                    let text = self.backquoted()?;
                    parts.push(Part::Subst(text));
                }
                Some(c) => {
                    self.chars.bump();
                    push(parts, Part::Quoted(c.into()));
                }
            }
        }
    }

    fn dollar(&mut self, parts: &mut Vec<Part>, quoted: bool) -> Result<(), SyntaxError> {
        let literal = |s: &str| {
            if quoted {
                Part::Quoted(s.into())
            } else {
                Part::Bare(s.into())
            }
        };
        match self.chars.peek(1) {
            Some('\'') if !quoted => {
                self.chars.bump();
                let start = self.chars.i - 1;
                match self.ansi_c()? {
                    Some(text) => push(parts, Part::Quoted(text)),
                    // An escape not decoded here: the word is not literal.
                    None => parts.push(Part::Subst(
                        self.chars.c[start..self.chars.i].iter().collect(),
                    )),
                }
            }
            Some('"') if !quoted => {
                // `$"..."`: a translated string, read as `"..."`.
                self.chars.bump();
                self.double_quoted(parts)?;
            }
            Some('{') => {
                self.chars.bump();
                let inner = self.balanced(0)?;
                let name = &inner[1..inner.len() - 1];
                parts.push(if is_name(name) {
                    Part::Var(name.to_string())
                } else {
                    Part::Subst(format!("${inner}"))
                });
            }
            Some('(') => {
                self.chars.bump();
                let inner = self.balanced(0)?;
                parts.push(Part::Subst(format!("${inner}")));
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                self.chars.bump();
                let mut name = String::new();
                while let Some(c) = self
                    .chars
                    .peek(0)
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    name.push(c);
                    self.chars.bump();
                }
                parts.push(Part::Var(name));
            }
            Some(c) if c.is_ascii_digit() || "@*#?$!-".contains(c) => {
                self.chars.bump();
                self.chars.bump();
                parts.push(Part::Subst(format!("${c}")));
            }
            _ => {
                self.chars.bump();
                push(parts, literal("$"));
            }
        }
        Ok(())
    }

    /// `$'...'` from the quote: its escapes decoded as bash does; `None`
    /// when it has one not decoded here (`\x41`, `\u00e9`, `\cx`, octal).
    fn ansi_c(&mut self) -> Result<Option<String>, SyntaxError> {
        let line = self.chars.line;
        self.chars.bump();
        let mut out = String::new();
        let mut decoded_all = true;
        loop {
            match self.chars.bump() {
                None => return Err((line, "unterminated `$'` quote".into())),
                Some('\'') => return Ok(decoded_all.then_some(out)),
                Some('\\') => match self.chars.bump() {
                    None => return Err((line, "unterminated `$'` quote".into())),
                    Some(c) => {
                        let decoded = match c {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            'a' => '\u{7}',
                            'b' => '\u{8}',
                            'e' | 'E' => '\u{1b}',
                            'f' => '\u{c}',
                            'v' => '\u{b}',
                            '\\' | '\'' | '"' | '?' => c,
                            other => {
                                decoded_all = false;
                                other
                            }
                        };
                        out.push(decoded);
                    }
                },
                Some(c) => out.push(c),
            }
        }
    }

    /// `` `...` `` from the backquote, as written.
    fn backquoted(&mut self) -> Result<String, SyntaxError> {
        let line = self.chars.line;
        let start = self.chars.i;
        self.chars.bump();
        loop {
            match self.chars.bump() {
                None => return Err((line, "unterminated backquote".into())),
                Some('\\') => {
                    self.chars.bump();
                }
                Some('`') => return Ok(self.chars.c[start..self.chars.i].iter().collect()),
                Some(_) => {}
            }
        }
    }

    /// From the bracket `ahead` characters on to its match, quotes
    /// skipped, as written (with what is before it).
    fn balanced(&mut self, ahead: usize) -> Result<String, SyntaxError> {
        let line = self.chars.line;
        let start = self.chars.i;
        for _ in 0..ahead {
            self.chars.bump();
        }
        let (open, close) = match self.chars.peek(0) {
            Some('{') => ('{', '}'),
            _ => ('(', ')'),
        };
        let mut depth = 0usize;
        loop {
            let Some(c) = self.chars.bump() else {
                return Err((line, format!("unterminated `{open}`")));
            };
            match c {
                '\\' => {
                    self.chars.bump();
                }
                '\'' if open == '(' => while self.chars.bump().is_some_and(|c| c != '\'') {},
                '"' => loop {
                    match self.chars.bump() {
                        None | Some('"') => break,
                        Some('\\') => {
                            self.chars.bump();
                        }
                        Some(_) => {}
                    }
                },
                c if c == open => depth += 1,
                c if c == close => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(self.chars.c[start..self.chars.i].iter().collect());
                    }
                }
                _ => {}
            }
        }
    }
}

/// Adds a part, joining it to the last one when both are literal text of
/// the same kind.
fn push(parts: &mut Vec<Part>, part: Part) {
    match (parts.last_mut(), part) {
        (Some(Part::Bare(a)), Part::Bare(b)) | (Some(Part::Quoted(a)), Part::Quoted(b)) => {
            a.push_str(&b)
        }
        (_, part) => parts.push(part),
    }
}

/// Reads `text` into units; refuses what the shell would refuse to parse
/// (an unterminated quote, `fi` without `if`, a block never closed).
/// `zsh` lets `}` close a block anywhere, as zsh does.
pub fn read(text: &str, zsh: bool) -> Result<Vec<Unit>, SyntaxError> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut lexer = Lexer {
        chars: Chars::new(text),
        heredocs: Vec::new(),
        want_delimiter: None,
    };
    let mut units = Vec::new();
    let mut group = Group::default();
    while let Some(tok) = lexer.next()? {
        if group.add(&tok, zsh)? {
            let unit = std::mem::take(&mut group).finish(&lexer.chars.c, &lines, tok.end_line);
            units.push(unit);
        }
    }
    if let Some((opener, line)) = group.stack.first() {
        return Err((*line, format!("`{opener}` is never closed")));
    }
    if group.first_line.is_some() {
        let last = lexer.chars.line;
        units.push(group.finish(&lexer.chars.c, &lines, last + 1));
    }
    Ok(units)
}

/// The tokens of the unit being read.
#[derive(Default)]
struct Group {
    first_line: Option<usize>,
    tokens: Vec<Tok>,
    /// Open compound commands and the line each opened on.
    stack: Vec<(&'static str, usize)>,
    /// At the start of a command, where reserved words count.
    not_command_start: bool,
    /// After `&&`, `||` or `|`: the command goes on past a newline.
    continued: bool,
    complex: bool,
    /// After `function name` or `name()`: a `{` opens the body.
    function_header: bool,
}

impl Group {
    /// Takes a token; true when it ends the unit.
    fn add(&mut self, tok: &Tok, zsh: bool) -> Result<bool, SyntaxError> {
        self.first_line.get_or_insert(tok.line);
        let command_start = !self.not_command_start;
        self.not_command_start = true;
        match &tok.token {
            Token::Newline => {
                self.not_command_start = false;
                let done = self.stack.is_empty() && !self.continued;
                if !done {
                    self.tokens.push(tok.clone());
                }
                return Ok(done);
            }
            Token::Comment(_) => self.not_command_start = !command_start,
            Token::Op(op) => {
                self.continued = matches!(*op, "&&" | "||" | "|" | "|&");
                match *op {
                    ";" => self.not_command_start = false,
                    "&&" | "||" | "|" | "|&" | "&" | ";;" | ";&" | ";;&" => {
                        self.complex = true;
                        self.not_command_start = false;
                    }
                    "(" => {
                        self.complex = true;
                        self.stack.push(("(", tok.line));
                        self.not_command_start = false;
                    }
                    ")" => match self.stack.last() {
                        Some(("(", _)) => {
                            self.stack.pop();
                        }
                        // A `case` pattern ends.
                        Some(("case", _)) => self.not_command_start = false,
                        _ => return Err((tok.line, "unexpected `)`".into())),
                    },
                    _ => self.complex = true,
                }
            }
            Token::Word(word) => {
                self.continued = false;
                let top = self.stack.last().map(|(s, _)| *s);
                // `esac` ends a `case` wherever it stands; in zsh `}` ends
                // a block wherever it stands.
                let closes = (top == Some("case") && word.is("esac"))
                    || (zsh && top == Some("{") && word.is("}"));
                if closes {
                    self.stack.pop();
                } else if command_start || (self.function_header && word.is("{")) {
                    self.function_header = false;
                    self.reserved(word, tok.line)?;
                }
                if word.raw.ends_with("()") && command_start {
                    self.complex = true;
                    self.function_header = true;
                }
            }
        }
        self.tokens.push(tok.clone());
        Ok(false)
    }

    /// A word at the start of a command: reserved words open and close
    /// compound commands.
    fn reserved(&mut self, word: &Word, line: usize) -> Result<(), SyntaxError> {
        let keyword = ["if", "case", "for", "while", "until", "select", "{"]
            .into_iter()
            .find(|k| word.is(k));
        if let Some(keyword) = keyword {
            self.complex = true;
            let opener = match keyword {
                "for" | "while" | "until" | "select" => "do",
                other => other,
            };
            self.stack.push((opener, line));
            // After `if`, `while`, `{` a command starts; after `for x`,
            // `case x` not.
            self.not_command_start = !matches!(keyword, "if" | "while" | "until" | "{");
            return Ok(());
        }
        for (closer, opener) in [("fi", "if"), ("done", "do"), ("}", "{"), ("esac", "case")] {
            if word.is(closer) {
                match self.stack.last() {
                    Some((o, _)) if *o == opener => {
                        self.stack.pop();
                        return Ok(());
                    }
                    _ => return Err((line, format!("`{closer}` without `{opener}`"))),
                }
            }
        }
        if ["then", "do", "else", "elif", "!", "time"]
            .iter()
            .any(|k| word.is(k))
        {
            self.complex = true;
            self.not_command_start = false;
        } else if word.is("function") {
            self.complex = true;
            self.function_header = true;
        } else if word.is("[[") || word.is("((") {
            self.complex = true;
        }
        Ok(())
    }

    /// The unit: its lines (through `last_line`) and, when it is only
    /// simple commands, their words.
    fn finish(self, chars: &[char], lines: &[&str], last_line: usize) -> Unit {
        let first_line = self.first_line.unwrap_or(last_line);
        // A unit ends with its newline: `last_line` is the line after it.
        let last_line = last_line.saturating_sub(1).max(first_line);
        let text: String = lines
            .get(first_line - 1..last_line.min(lines.len()))
            .unwrap_or(&[])
            .concat();
        let mut text = text;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        let code: Vec<&Tok> = self
            .tokens
            .iter()
            .filter(|t| !matches!(t.token, Token::Comment(_)))
            .collect();
        let comment = self.tokens.iter().find_map(|t| match &t.token {
            Token::Comment(c) => Some(c.clone()),
            _ => None,
        });
        let kind = match (code.is_empty(), comment) {
            (true, None) => UnitKind::Blank,
            (true, Some(c)) => UnitKind::Comment(c),
            (false, comment) => {
                let multiline_comment = comment.is_some() && last_line > first_line;
                let commands = (!self.complex && !multiline_comment)
                    .then(|| simples(&code, chars))
                    .filter(|c| !c.is_empty());
                UnitKind::Code { commands, comment }
            }
        };
        Unit {
            first_line,
            last_line,
            text,
            kind,
        }
    }
}

/// The simple commands of a unit made only of words and `;`.
fn simples(tokens: &[&Tok], chars: &[char]) -> Vec<Simple> {
    let mut out = Vec::new();
    for command in tokens.split(|t| matches!(t.token, Token::Op(";") | Token::Newline)) {
        let words: Vec<Word> = command
            .iter()
            .filter_map(|t| match &t.token {
                Token::Word(w) => Some(w.clone()),
                _ => None,
            })
            .collect();
        if let (Some(first), Some(last)) = (command.first(), command.last()) {
            out.push(Simple {
                words,
                text: chars[first.start..last.end].iter().collect(),
            });
        }
    }
    out
}

/// Raw shell text being collected for an `...Extra` option, with the
/// comment lines read since the last command: they go above the next
/// binding when it is mapped, or into the text before the next raw one.
#[derive(Debug, Default)]
pub struct Body {
    pub text: String,
    pending: Vec<(String, String)>,
}

impl Body {
    /// A comment line: its text as written and after `#`.
    pub fn comment(&mut self, line: &str, comment: &str) {
        self.pending
            .push((line.to_string(), comment.trim().to_string()));
    }

    /// Code kept as written, after the comments before it.
    pub fn raw(&mut self, text: &str) {
        self.flush();
        self.text.push_str(text);
        if !text.ends_with('\n') {
            self.text.push('\n');
        }
    }

    /// The comments read since the last command (still pending).
    pub fn pending_comments(&self) -> Vec<String> {
        self.pending.iter().map(|(_, c)| c.clone()).collect()
    }

    /// The comments read since the last command, for a mapped binding.
    pub fn take_comments(&mut self) -> Vec<String> {
        self.pending.drain(..).map(|(_, c)| c).collect()
    }

    /// Pending comments into the text (a blank line ends what they
    /// describe).
    pub fn flush(&mut self) {
        for (line, _) in self.pending.drain(..) {
            self.text.push_str(&line);
            if !line.ends_with('\n') {
                self.text.push('\n');
            }
        }
    }

    /// The text, tidied; `None` when empty.
    pub fn finish(mut self) -> Option<String> {
        self.flush();
        let text = super::tidy(&self.text);
        (!text.is_empty()).then_some(text)
    }
}

/// The unit's code without comments and blanks, for recognising a few
/// well-known idioms (an interactive guard, a completion loader).
pub fn squeezed(unit: &Unit) -> String {
    unit.text
        .lines()
        .map(|l| l.trim())
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect()
}

/// Whether the unit does nothing but test for and source files whose
/// path contains one of `needles` (`[ -f ~/.bashrc ] && . ~/.bashrc`, the
/// usual bash-completion loader).
pub fn only_sources(unit: &Unit, needles: &[&str]) -> bool {
    const GLUE: &[&str] = &[
        "if",
        "then",
        "elif",
        "else",
        "fi",
        "!",
        "[",
        "]",
        "[[",
        "]]",
        "-f",
        "-r",
        "-e",
        "-s",
        "-n",
        "-z",
        "&&",
        "||",
        ".",
        "source",
        "shopt",
        "-oq",
        "posix",
        "test",
        ";",
        "\"$BASH_VERSION\"",
        "$BASH_VERSION",
    ];
    let code: String = unit
        .text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace(';', " ; ");
    let mut sources = false;
    for token in code.split_whitespace() {
        if needles.iter().any(|n| token.contains(n)) {
            sources = true;
        } else if !GLUE.contains(&token) {
            return false;
        }
    }
    sources
}

/// For the converters' tests: every option a migration sets exists in
/// Home Manager's newest option index, and none is deprecated.
#[cfg(test)]
pub(crate) fn assert_options_exist(migration: &super::Migration) {
    use super::nix::Attrs;
    use crate::home::options::{index, Lookup};
    fn walk(path: &mut Vec<String>, set: &Attrs) {
        for entry in &set.entries {
            path.push(entry.name.clone());
            let names: Vec<&str> = path.iter().map(String::as_str).collect();
            let descend = match index().lookup(&names) {
                Lookup::Open => false,
                Lookup::Option(_, info) => info.kind == "submodule",
                Lookup::Namespace(_) => true,
                other => panic!("{}: {other:?}", path.join(".")),
            };
            if let (true, super::nix::Value::Attrs(inner)) = (descend, &entry.value) {
                walk(path, inner);
            }
            path.pop();
        }
    }
    walk(&mut migration.option.clone(), &migration.options);
    walk(&mut Vec::new(), &migration.also);
}

/// What the bash and zsh converters share for a line of simple commands.
pub(super) trait MapsCommands {
    /// Where raw text goes now.
    fn raw_body(&mut self) -> &mut Body;
    /// Maps one command to options; false when it is kept as text.
    fn map_command(&mut self, line: usize, command: &Simple, notes: Vec<String>) -> bool;
}

/// Each of a unit's simple commands mapped, or kept in the raw text: the
/// comments above go with the first mapped one, and the commands not
/// mapped stay together, in order.
pub(super) fn map_or_keep(
    converter: &mut impl MapsCommands,
    unit: &Unit,
    commands: &[Simple],
    comment: Option<&str>,
) {
    let mut comments = converter.raw_body().pending_comments();
    if let Some(c) = comment {
        comments.push(c.trim().to_string());
    }
    let mut kept: Vec<&str> = Vec::new();
    let mut mapped_any = false;
    for command in commands {
        let notes = if mapped_any {
            Vec::new()
        } else {
            comments.clone()
        };
        if converter.map_command(unit.first_line, command, notes) {
            if !mapped_any {
                // They went above the binding.
                converter.raw_body().take_comments();
            }
            mapped_any = true;
        } else {
            kept.push(&command.text);
        }
    }
    if !mapped_any {
        converter.raw_body().raw(&unit.text);
    } else if !kept.is_empty() {
        converter.raw_body().raw(&kept.join("; "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Vec<Part>> {
        let units = read(text, false).unwrap();
        let UnitKind::Code {
            commands: Some(c), ..
        } = &units[0].kind
        else {
            panic!("{units:?}")
        };
        c[0].words.iter().map(|w| w.parts.clone()).collect()
    }

    #[test]
    fn quotes_escapes_and_expansions() {
        assert_eq!(
            words(r#"alias g='git '"status"\ -s $'a\tb' "$HOME/x" ${Y} $(date) `id`"#),
            vec![
                vec![Part::Bare("alias".into())],
                vec![
                    Part::Bare("g=".into()),
                    Part::Quoted("git status ".into()),
                    Part::Bare("-s".into())
                ],
                vec![Part::Quoted("a\tb".into())],
                vec![Part::Var("HOME".into()), Part::Quoted("/x".into())],
                vec![Part::Var("Y".into())],
                vec![Part::Subst("$(date)".into())],
                vec![Part::Subst("`id`".into())],
            ]
        );
    }

    #[test]
    fn units_span_blocks_continuations_and_heredocs() {
        let text = "a=1 \\\n  b=2\nif x; then\n  y\nfi # done\ncat <<EOF\nfi )\nEOF\ncase $- in\n  *i*) ;;\n  *) return;;\nesac\n# note\n\nf() { g; }\n";
        let units = read(text, false).unwrap();
        let spans: Vec<(usize, usize)> =
            units.iter().map(|u| (u.first_line, u.last_line)).collect();
        assert_eq!(
            spans,
            [
                (1, 2),
                (3, 5),
                (6, 8),
                (9, 12),
                (13, 13),
                (14, 14),
                (15, 15)
            ]
        );
        assert!(matches!(units[4].kind, UnitKind::Comment(_)));
        assert!(matches!(units[5].kind, UnitKind::Blank));
    }

    #[test]
    fn what_the_shell_refuses() {
        assert_eq!(read("echo 'x\n", false).unwrap_err().0, 1);
        assert_eq!(read("a\nif x; then\n", false).unwrap_err().0, 2);
        assert_eq!(read("fi\n", false).unwrap_err().0, 1);
        assert_eq!(read("echo \"$(date\"\n", false).unwrap_err().0, 1);
        // zsh closes a block with `}` anywhere.
        assert!(read("f() { echo hi }\n", true).is_ok());
    }

    #[test]
    fn values_as_double_quoted_text() {
        let word = |t: &str| {
            let units = read(t, false).unwrap();
            let UnitKind::Code {
                commands: Some(c), ..
            } = &units[0].kind
            else {
                panic!()
            };
            c[0].words[0].assignment().unwrap().1
        };
        assert_eq!(
            word("P=~/bin:~/x\"$a\"b${c}_d").double_quoted().unwrap(),
            "$HOME/bin:$HOME/x${a}b${c}_d"
        );
        assert_eq!(word("P='a\"$b'").double_quoted().unwrap(), "a\\\"\\$b");
        assert_eq!(word("P=$(x)").double_quoted(), None);
        assert_eq!(word("P=$'\\x41'").literal(), None);
        assert_eq!(word("P=$'\\e[1m'").double_quoted(), None);
        assert_eq!(word("P=''").literal().unwrap(), "");
    }
}
