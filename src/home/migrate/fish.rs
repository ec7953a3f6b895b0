//! `~/.config/fish/config.fish` into `programs.fish`, read as fish reads
//! it: `'...'` (only `\'` and `\\` escaped), `"..."` (`$var` and `$(...)`
//! expand), backslash escapes, `\` continuing a line, `#` comments, `;`,
//! and blocks (`if`, `for`, `while`, `switch`, `begin`, `function` up to
//! `end`).
//!
//! Home Manager writes config.fish as `shellInit`, then `loginShellInit`
//! in `status is-login; and begin ... end`, then, in `status
//! is-interactive; and begin ... end`, the abbreviations, the aliases and
//! `interactiveShellInit`, and last `shellInitLast`; each function to
//! `functions/<name>.fish` (autoloaded, or sourced first for event
//! handlers); `binds` inside `fish_user_key_bindings`.
//!
//! So: code before the first mapped block goes to `shellInit`; the body of
//! a top-level `if status is-login` to `loginShellInit` and of `if status
//! is-interactive` to `interactiveShellInit` (each when that keeps the
//! file's order); any code after them to `shellInitLast`. `alias`, `abbr
//! -a`, `bind` and `function ... end` are mapped at the top level and in
//! the interactive block; everything else stays, in order, as written.
//!
//! Choice: `set -gx` stays as written: Home Manager's session variables
//! would reach every shell, not only fish.

use super::nix::{Attrs, Value};
use super::shell::{Body, Chars, Part, Simple, SyntaxError, Unit, UnitKind, Word};
use super::{looks_secret, Converted, Files, MigrateError, Release, Source, Warning};

pub fn convert(
    source: Source<'_>,
    _release: Release,
    _files: &dyn Files,
) -> Result<Converted, MigrateError> {
    let units = read(source.text).map_err(|(line, message)| MigrateError::Syntax {
        path: source.path.to_string(),
        line,
        message,
    })?;
    let own_key_bindings = units
        .iter()
        .any(|u| function_header(u).is_some_and(|(name, _)| name == "fish_user_key_bindings"));
    let mut fish = Fish {
        phase: Phase::Init,
        own_key_bindings,
        offset: 0,
        also: Attrs::new(),
        out: Options::default(),
        warnings: Vec::new(),
        init: Body::default(),
        login: Body::default(),
        interactive: Body::default(),
        last: Body::default(),
    };
    for unit in &units {
        fish.top(unit);
    }
    Ok(fish.finish())
}

/// Where the file's top-level code is up to, against Home Manager's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Init,
    AfterLogin,
    AfterInteractive,
    /// Top-level code after a mapped block: `shellInitLast`.
    Last,
}

#[derive(Default)]
struct Options {
    aliases: Attrs,
    abbrs: Attrs,
    functions: Attrs,
    binds: Attrs,
}

struct Fish {
    phase: Phase,
    /// The file defines `fish_user_key_bindings`, where `binds` would go.
    own_key_bindings: bool,
    /// Added to the line numbers of units read from a block's body.
    offset: usize,
    also: Attrs,
    out: Options,
    warnings: Vec<Warning>,
    init: Body,
    login: Body,
    interactive: Body,
    last: Body,
}

/// Which body raw code goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Top,
    Interactive,
}

impl Fish {
    fn body(&mut self, target: Target) -> &mut Body {
        match (target, self.phase) {
            (Target::Interactive, _) => &mut self.interactive,
            (Target::Top, Phase::Init) => &mut self.init,
            (Target::Top, _) => &mut self.last,
        }
    }

    /// Raw top-level code: after a mapped block it is the tail.
    fn raw(&mut self, target: Target, text: &str) {
        if target == Target::Top && self.phase > Phase::Init {
            self.phase = Phase::Last;
        }
        self.body(target).raw(text);
    }

    fn top(&mut self, unit: &Unit) {
        if let UnitKind::Code { commands: None, .. } = unit.kind {
            if let Some(condition) = status_block(unit) {
                let body = block_body(unit);
                match (condition, read(&body)) {
                    ("is-login", Ok(_)) if self.phase == Phase::Init => {
                        self.body(Target::Top).flush();
                        self.login.raw(&body);
                        self.phase = Phase::AfterLogin;
                        return;
                    }
                    ("is-interactive", Ok(inner)) if self.phase <= Phase::AfterLogin => {
                        self.body(Target::Top).flush();
                        self.offset = unit.first_line;
                        for unit in &inner {
                            self.unit(unit, Target::Interactive);
                        }
                        self.offset = 0;
                        self.interactive.flush();
                        self.phase = Phase::AfterInteractive;
                        return;
                    }
                    _ => {}
                }
            }
        }
        self.unit(unit, Target::Top);
    }

    fn unit(&mut self, unit: &Unit, target: Target) {
        match &unit.kind {
            UnitKind::Blank => self.body(target).raw("\n"),
            UnitKind::Comment(comment) => {
                if looks_secret("", comment) {
                    self.secret(unit.first_line, "this comment");
                } else {
                    self.body(target).comment(&unit.text, comment);
                }
            }
            UnitKind::Code { commands, comment } => {
                if looks_secret("", &unit.text) {
                    self.secret(unit.first_line, "this command");
                    return;
                }
                if let Some(name) = commands.as_deref().and_then(secret_set) {
                    self.secret(unit.first_line, &format!("`{name}`"));
                    return;
                }
                if self.hook(unit, target) {
                    return;
                }
                let mapped = match commands {
                    Some(commands) => self.commands(commands, comment.as_deref(), target),
                    None => self.function(unit, target),
                };
                if !mapped {
                    self.raw(target, &unit.text);
                }
            }
        }
    }

    /// `starship init fish | source`, `direnv hook fish | source`: the
    /// programs' fish integrations write the same line.
    fn hook(&mut self, unit: &Unit, target: Target) -> bool {
        let code: Vec<&str> = unit.text.split_whitespace().collect();
        let program = match code.as_slice() {
            ["starship", "init", "fish", "|", "source"] => "starship",
            ["direnv", "hook", "fish", "|", "source"] => "direnv",
            _ => return false,
        };
        self.also
            .set(&["programs", program, "enable"], Value::Bool(true));
        self.also.set(
            &["programs", program, "enableFishIntegration"],
            Value::Bool(true),
        );
        self.body(target).take_comments();
        self.warnings.push(Warning {
            line: Some(unit.first_line + self.offset),
            message: format!("`{}` left out: `programs.{program}.enableFishIntegration` writes it into config.fish", code.join(" ")),
        });
        true
    }

    fn secret(&mut self, line: usize, what: &str) {
        self.warnings.push(Warning {
            line: Some(line + self.offset),
            message: format!("{what} looks like a secret: left out, as everything Home Manager writes is world-readable in /nix/store; keep it in a file outside the store (mode 600) and `source` it from `interactiveShellInit`"),
        });
        self.init.take_comments();
        self.last.take_comments();
        self.interactive.take_comments();
    }

    /// A line of one simple command (several are kept as written).
    fn commands(&mut self, commands: &[Simple], comment: Option<&str>, target: Target) -> bool {
        let [command] = commands else {
            return false;
        };
        let mut notes = self.body(target).pending_comments();
        notes.extend(comment.map(|c| c.trim().to_string()));
        let mapped = self.command(&command.words, notes);
        if mapped {
            self.body(target).take_comments();
        }
        mapped
    }

    fn command(&mut self, words: &[Word], notes: Vec<String>) -> bool {
        let Some(name) = words.first().and_then(Word::literal) else {
            return false;
        };
        let args = &words[1..];
        let (set, (key, value)) = match name.as_str() {
            "alias" => match alias(args) {
                Some((name, value)) => (&mut self.out.aliases, (name, Value::Str(value))),
                None => return false,
            },
            "abbr" => match abbr(args) {
                Some(pair) => (&mut self.out.abbrs, pair),
                None => return false,
            },
            "bind" if !self.own_key_bindings => match bind(args) {
                Some(pair) => (&mut self.out.binds, pair),
                None => return false,
            },
            _ => return false,
        };
        set.set_with_comments(&[&key], value, notes);
        true
    }

    /// `function name --flags ... end` into `functions.name`.
    fn function(&mut self, unit: &Unit, target: Target) -> bool {
        let Some((name, flags)) = function_header(unit) else {
            return false;
        };
        let Some(mut value) = function_flags(&flags) else {
            return false;
        };
        let body = block_body(unit);
        let body = super::tidy(&body);
        match &mut value {
            Value::Attrs(set) => set.entries.insert(
                0,
                super::nix::Entry {
                    name: "body".into(),
                    value: Value::Str(body),
                    comments: Vec::new(),
                },
            ),
            other => *other = Value::Str(body),
        }
        let notes = self.body(target).take_comments();
        self.out.functions.set_with_comments(&[&name], value, notes);
        true
    }

    fn finish(self) -> Converted {
        let Fish {
            out: options,
            warnings,
            also,
            init,
            login,
            interactive,
            last,
            ..
        } = self;
        let mut out = Attrs::new();
        out.set(&["enable"], Value::Bool(true));
        for (name, set) in [
            ("shellAliases", options.aliases),
            ("shellAbbrs", options.abbrs),
            ("functions", options.functions),
            ("binds", options.binds),
        ] {
            if !set.is_empty() {
                out.set(&[name], Value::Attrs(set));
            }
        }
        for (name, body) in [
            ("shellInit", init),
            ("loginShellInit", login),
            ("interactiveShellInit", interactive),
            ("shellInitLast", last),
        ] {
            if let Some(text) = body.finish() {
                out.set(&[name], Value::Str(text));
            }
        }
        Converted {
            options: out,
            also,
            warnings,
        }
    }
}

/// `alias name 'cmd'` or `alias name=cmd`.
fn alias(args: &[Word]) -> Option<(String, String)> {
    let texts: Option<Vec<String>> = args.iter().map(Word::literal).collect();
    let (name, value) = match texts?.as_slice() {
        [one] => {
            let (n, v) = one.split_once('=')?;
            (n.to_string(), v.to_string())
        }
        [name, value] => (name.clone(), value.clone()),
        _ => return None,
    };
    plain_name(&name).then_some((name, value))
}

/// `abbr -a [-g] [-p anywhere] name expansion...`.
fn abbr(args: &[Word]) -> Option<(String, Value)> {
    let texts: Vec<String> = args.iter().map(Word::literal).collect::<Option<_>>()?;
    let mut added = false;
    let mut position = None;
    let mut rest = texts.iter();
    let mut words: Vec<&String> = Vec::new();
    while let Some(word) = rest.next() {
        match word.as_str() {
            "-a" | "--add" => added = true,
            // Scope flags fish ignores since 3.6.
            "-g" | "--global" | "-U" | "--universal" => {}
            "-p" | "--position" => position = Some(rest.next()?.clone()),
            "--" => {
                words.extend(rest.by_ref());
            }
            flag if flag.starts_with('-') && words.is_empty() => return None,
            _ => words.push(word),
        }
    }
    let (name, expansion) = words.split_first()?;
    if !added || expansion.is_empty() || !plain_name(name) {
        return None;
    }
    let expansion = expansion
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let value = match position {
        None => Value::Str(expansion),
        Some(p) if p == "command" || p == "anywhere" => {
            let mut set = Attrs::new();
            set.set(&["position"], Value::Str(p));
            set.set(&["expansion"], Value::Str(expansion));
            Value::Attrs(set)
        }
        Some(_) => return None,
    };
    Some((name.to_string(), value))
}

/// `bind [-M mode] [-m mode] [-s] key command...`: the key as written
/// (Home Manager writes it back verbatim), the commands as values.
fn bind(args: &[Word]) -> Option<(String, Value)> {
    let mut set = Attrs::new();
    let mut rest = args.iter();
    let mut words: Vec<&Word> = Vec::new();
    while let Some(word) = rest.next() {
        let text = word.literal();
        match text.as_deref() {
            Some("-M" | "--mode") if words.is_empty() => {
                set.set(&["mode"], Value::Str(rest.next()?.literal()?))
            }
            Some("-m" | "--sets-mode") if words.is_empty() => {
                set.set(&["setsMode"], Value::Str(rest.next()?.literal()?))
            }
            Some("-s" | "--silent") if words.is_empty() => set.set(&["silent"], Value::Bool(true)),
            Some(flag) if flag.starts_with('-') && words.is_empty() && flag.len() > 1 => {
                return None
            }
            _ => words.push(word),
        }
    }
    let (key, commands) = words.split_first()?;
    let commands: Vec<String> = commands
        .iter()
        .map(|w| w.literal())
        .collect::<Option<_>>()?;
    if key.raw.contains(char::is_whitespace) {
        return None;
    }
    let command = match commands.as_slice() {
        [] => return None,
        [one] => Value::Str(one.clone()),
        many => Value::List(many.iter().cloned().map(Value::Str).collect()),
    };
    set.entries.insert(
        0,
        super::nix::Entry {
            name: "command".into(),
            value: command,
            comments: Vec::new(),
        },
    );
    Some((key.raw.clone(), Value::Attrs(set)))
}

/// A name Home Manager can write unquoted (`alias NAME`, `abbr -- NAME`).
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && !name
            .chars()
            .any(|c| c.is_whitespace() || "'\"$\\;&|<>(){}*?~#=/".contains(c))
}

/// `set [-flags] NAME value...` where NAME or the value looks like a
/// credential.
fn secret_set(commands: &[Simple]) -> Option<String> {
    commands.iter().find_map(|command| {
        let words = &command.words;
        if !words.first()?.is("set") {
            return None;
        }
        let mut rest = words[1..].iter().skip_while(|w| w.raw.starts_with('-'));
        let name = rest.next()?.raw.clone();
        let value: Vec<&str> = rest.map(|w| w.raw.as_str()).collect();
        looks_secret(&name, &value.join(" ")).then_some(name)
    })
}

/// `if status is-interactive` / `is-login` (or `--is-...`) block of three
/// or more lines with no `else`: its condition.
fn status_block(unit: &Unit) -> Option<&'static str> {
    let first = unit.text.lines().next()?;
    let words: Vec<&str> = first.split_whitespace().collect();
    let condition = match words.as_slice() {
        ["if", "status", c] | ["if", "status", c, ";"] => c.trim_start_matches("--"),
        _ => return None,
    };
    let last = unit.text.lines().last()?.trim();
    if last != "end" || unit.last_line < unit.first_line + 2 {
        return None;
    }
    // An `else` at the block's own level makes the body unreadable alone.
    read(&block_body(unit)).ok()?;
    match condition {
        "is-interactive" => Some("is-interactive"),
        "is-login" => Some("is-login"),
        _ => None,
    }
}

/// `function name flags...` on the first line of a block ending in `end`
/// on a line of its own.
fn function_header(unit: &Unit) -> Option<(String, Vec<Word>)> {
    let UnitKind::Code { commands: None, .. } = unit.kind else {
        return None;
    };
    if unit.text.lines().last()?.trim() != "end" || unit.last_line == unit.first_line {
        return None;
    }
    let first = unit.text.lines().next()?;
    let words = first_words(first)?;
    let (keyword, rest) = words.split_first()?;
    if !keyword.is("function") {
        return None;
    }
    let (name, flags) = rest.split_first()?;
    let name = name.literal().filter(|n| plain_name(n))?;
    Some((name, flags.to_vec()))
}

/// The words of the first line of `text`.
fn first_words(text: &str) -> Option<Vec<Word>> {
    let line = text.lines().next()?;
    let mut lexer = Lexer::new(line);
    let mut words = Vec::new();
    while let Ok(Some(tok)) = lexer.next() {
        match tok.token {
            Token::Word(w) => words.push(w),
            Token::Comment(_) => break,
            _ => return None,
        }
    }
    Some(words)
}

/// Home Manager's function options from `function`'s flags; a plain
/// string when there are none, `None` for a flag it has no option for.
fn function_flags(flags: &[Word]) -> Option<Value> {
    if flags.is_empty() {
        return Some(Value::Str(String::new()));
    }
    let texts: Vec<String> = flags.iter().map(Word::literal).collect::<Option<_>>()?;
    let mut set = Attrs::new();
    let mut events = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut rest = texts.iter().peekable();
    while let Some(flag) = rest.next() {
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (flag.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| rest.next().cloned());
        match flag.as_str() {
            "-d" | "--description" => {
                // Home Manager writes `--description="..."` unescaped.
                let v = value().filter(|v| !v.contains(['"', '$', '\\']))?;
                set.set(&["description"], Value::Str(v));
            }
            "-w" | "--wraps" => set.set(&["wraps"], Value::Str(value()?)),
            "-e" | "--on-event" => events.push(value()?),
            "-v" | "--on-variable" => set.set(&["onVariable"], Value::Str(value()?)),
            "-j" | "--on-job-exit" => set.set(&["onJobExit"], Value::Str(value()?)),
            "-p" | "--on-process-exit" => set.set(&["onProcessExit"], Value::Str(value()?)),
            "-s" | "--on-signal" => set.set(&["onSignal"], Value::Str(value()?)),
            "-S" | "--no-scope-shadowing" => set.set(&["noScopeShadowing"], Value::Bool(true)),
            "-V" | "--inherit-variable" => set.set(&["inheritVariable"], Value::Str(value()?)),
            "-a" | "--argument-names" => {
                names.extend(inline.clone());
                while let Some(n) = rest.next_if(|n| !n.starts_with('-')) {
                    names.push(n.clone());
                }
            }
            _ => return None,
        }
    }
    match events.len() {
        0 => {}
        1 => set.set(&["onEvent"], Value::Str(events.remove(0))),
        _ => set.set(
            &["onEvent"],
            Value::List(events.into_iter().map(Value::Str).collect()),
        ),
    }
    match names.len() {
        0 => {}
        1 => set.set(&["argumentNames"], Value::Str(names.remove(0))),
        _ => set.set(
            &["argumentNames"],
            Value::List(names.into_iter().map(Value::Str).collect()),
        ),
    }
    Some(Value::Attrs(set))
}

/// The lines between a block's first and last, with their common
/// indentation removed.
fn block_body(unit: &Unit) -> String {
    let lines: Vec<&str> = unit.text.lines().collect();
    let inner = lines.get(1..lines.len().saturating_sub(1)).unwrap_or(&[]);
    let indent = inner
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    inner
        .iter()
        .map(|l| format!("{}\n", l.get(indent..).unwrap_or("").trim_end_matches('\r')))
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(Word),
    Op(&'static str),
    Newline,
    Comment(String),
}

struct Tok {
    token: Token,
    line: usize,
    start: usize,
    end: usize,
}

struct Lexer {
    chars: Chars,
}

impl Lexer {
    fn new(text: &str) -> Lexer {
        Lexer {
            chars: Chars::new(text),
        }
    }

    fn next(&mut self) -> Result<Option<Tok>, SyntaxError> {
        self.chars.skip_blanks();
        let Some(c) = self.chars.peek(0) else {
            return Ok(None);
        };
        let (line, start) = (self.chars.line, self.chars.i);
        let token = match c {
            '\n' => {
                self.chars.bump();
                Token::Newline
            }
            '#' => {
                self.chars.bump();
                let mut text = String::new();
                while let Some(c) = self.chars.peek(0).filter(|c| *c != '\n') {
                    text.push(c);
                    self.chars.bump();
                }
                Token::Comment(text)
            }
            ';' => {
                self.chars.bump();
                Token::Op(";")
            }
            '&' | '|' => {
                self.chars.bump();
                if self.chars.peek(0) == Some(c) {
                    self.chars.bump();
                }
                Token::Op("|")
            }
            '<' | '>' => {
                self.chars.bump();
                Token::Op(">")
            }
            _ => Token::Word(self.word()?),
        };
        Ok(Some(Tok {
            token,
            line,
            start,
            end: self.chars.i,
        }))
    }

    fn word(&mut self) -> Result<Word, SyntaxError> {
        let start = self.chars.i;
        let mut parts: Vec<Part> = Vec::new();
        while let Some(c) = self.chars.peek(0) {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | '<' | '>' => break,
                '\\' => {
                    self.chars.bump();
                    match self.chars.bump() {
                        Some('\n') => {}
                        // Escape sequences (`\n`, `\cx`, `\x1b`) stay as
                        // written.
                        Some(c) if c.is_ascii_alphanumeric() => {
                            parts.push(Part::Subst(format!("\\{c}")))
                        }
                        Some(c) => push(&mut parts, Part::Quoted(c.into())),
                        None => push(&mut parts, Part::Bare("\\".into())),
                    }
                }
                '\'' => {
                    let line = self.chars.line;
                    self.chars.bump();
                    let mut text = String::new();
                    loop {
                        match self.chars.bump() {
                            None => return Err((line, "unterminated single quote".into())),
                            Some('\'') => break,
                            Some('\\') if matches!(self.chars.peek(0), Some('\'' | '\\')) => {
                                text.extend(self.chars.bump());
                            }
                            Some(c) => text.push(c),
                        }
                    }
                    push(&mut parts, Part::Quoted(text));
                }
                '"' => {
                    let line = self.chars.line;
                    self.chars.bump();
                    loop {
                        match self.chars.peek(0) {
                            None => return Err((line, "unterminated double quote".into())),
                            Some('"') => {
                                self.chars.bump();
                                push(&mut parts, Part::Quoted(String::new()));
                                break;
                            }
                            Some('\\') => {
                                self.chars.bump();
                                match self.chars.bump() {
                                    Some('\n') => {}
                                    Some(c @ ('"' | '$' | '\\')) => {
                                        push(&mut parts, Part::Quoted(c.into()))
                                    }
                                    Some(c) => push(&mut parts, Part::Quoted(format!("\\{c}"))),
                                    None => return Err((line, "unterminated double quote".into())),
                                }
                            }
                            Some('$') => self.dollar(&mut parts)?,
                            Some(c) => {
                                self.chars.bump();
                                push(&mut parts, Part::Quoted(c.into()));
                            }
                        }
                    }
                }
                '$' => self.dollar(&mut parts)?,
                '(' => {
                    let text = self.balanced()?;
                    parts.push(Part::Subst(text));
                }
                c => {
                    self.chars.bump();
                    push(&mut parts, Part::Bare(c.into()));
                }
            }
        }
        Ok(Word {
            raw: self.chars.c[start..self.chars.i].iter().collect(),
            parts,
            array: None,
        })
    }

    fn dollar(&mut self, parts: &mut Vec<Part>) -> Result<(), SyntaxError> {
        self.chars.bump();
        match self.chars.peek(0) {
            Some('(') => {
                let text = self.balanced()?;
                parts.push(Part::Subst(format!("${text}")));
            }
            Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
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
            _ => parts.push(Part::Subst("$".into())),
        }
        Ok(())
    }

    /// `( ... )` from the bracket, quotes skipped, as written.
    fn balanced(&mut self) -> Result<String, SyntaxError> {
        let (line, start) = (self.chars.line, self.chars.i);
        let mut depth = 0usize;
        loop {
            let Some(c) = self.chars.bump() else {
                return Err((line, "unterminated `(`".into()));
            };
            match c {
                '\\' => {
                    self.chars.bump();
                }
                '\'' | '"' => loop {
                    match self.chars.bump() {
                        None => return Err((line, "unterminated quote".into())),
                        Some('\\') => {
                            self.chars.bump();
                        }
                        Some(q) if q == c => break,
                        Some(_) => {}
                    }
                },
                '(' => depth += 1,
                ')' => {
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

fn push(parts: &mut Vec<Part>, part: Part) {
    match (parts.last_mut(), part) {
        (Some(Part::Bare(a)), Part::Bare(b)) | (Some(Part::Quoted(a)), Part::Quoted(b)) => {
            a.push_str(&b)
        }
        (_, part) => parts.push(part),
    }
}

/// Reads config.fish into units (see [`super::shell::Unit`]); refuses an
/// unterminated quote, an `end` or `else` outside a block, a block never
/// closed.
fn read(text: &str) -> Result<Vec<Unit>, SyntaxError> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut lexer = Lexer::new(text);
    let mut units = Vec::new();
    let mut tokens: Vec<Tok> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut command_start = true;
    let mut complex = false;
    let mut continued = false;
    let mut first_line = None;
    loop {
        let tok = lexer.next()?;
        let at_end = tok.is_none();
        if let Some(tok) = tok {
            first_line.get_or_insert(tok.line);
            let starts = command_start;
            command_start = false;
            match &tok.token {
                Token::Newline => {
                    command_start = true;
                    if !stack.is_empty() || continued {
                        continue;
                    }
                }
                Token::Comment(_) => command_start = starts,
                Token::Op(op) => {
                    command_start = true;
                    continued = *op == "|";
                    complex |= *op != ";";
                }
                Token::Word(word) => {
                    continued = false;
                    if starts {
                        let keyword = |k: &str| word.is(k);
                        if ["if", "while", "for", "function", "begin", "switch"]
                            .iter()
                            .any(|k| keyword(k))
                        {
                            complex = true;
                            stack.push(tok.line);
                            command_start = ["if", "while", "begin"].iter().any(|k| keyword(k));
                        } else if keyword("end") {
                            if stack.pop().is_none() {
                                return Err((tok.line, "`end` outside a block".into()));
                            }
                        } else if keyword("else") || keyword("case") {
                            if stack.is_empty() {
                                return Err((tok.line, "`else` or `case` outside a block".into()));
                            }
                            command_start = true;
                        } else if ["and", "or", "not", "!"].iter().any(|k| keyword(k)) {
                            complex = true;
                            command_start = true;
                        }
                    }
                }
            }
            let newline = matches!(tok.token, Token::Newline);
            tokens.push(tok);
            if !newline {
                continue;
            }
        } else if let Some(line) = stack.first() {
            return Err((*line, "block without `end`".into()));
        }
        if let Some(first) = first_line.take() {
            let last = if at_end {
                lexer.chars.line
            } else {
                lexer.chars.line - 1
            }
            .max(first);
            units.push(unit(
                std::mem::take(&mut tokens),
                &lexer.chars.c,
                &lines,
                first,
                last,
                std::mem::take(&mut complex),
            ));
        }
        if at_end {
            return Ok(units);
        }
    }
}

fn unit(
    tokens: Vec<Tok>,
    chars: &[char],
    lines: &[&str],
    first: usize,
    last: usize,
    complex: bool,
) -> Unit {
    let mut text: String = lines
        .get(first - 1..last.min(lines.len()))
        .unwrap_or(&[])
        .concat();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let code: Vec<&Tok> = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Comment(_) | Token::Newline))
        .collect();
    let comment = tokens.iter().find_map(|t| match &t.token {
        Token::Comment(c) => Some(c.clone()),
        _ => None,
    });
    let kind = match (code.is_empty(), comment) {
        (true, None) => UnitKind::Blank,
        (true, Some(c)) => UnitKind::Comment(c),
        (false, comment) => {
            let commands = (!complex && last == first).then(|| {
                code.split(|t| matches!(t.token, Token::Op(";")))
                    .filter(|c| !c.is_empty())
                    .map(|c| Simple {
                        words: c
                            .iter()
                            .filter_map(|t| match &t.token {
                                Token::Word(w) => Some(w.clone()),
                                _ => None,
                            })
                            .collect(),
                        text: chars[c[0].start..c[c.len() - 1].end].iter().collect(),
                    })
                    .collect()
            });
            UnitKind::Code { commands, comment }
        }
    };
    Unit {
        first_line: first,
        last_line: last,
        text,
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{migrate, NoFiles};
    use super::*;
    use expect_test::expect;

    fn run(text: &str) -> (String, Vec<Warning>) {
        let m = migrate(
            Source {
                path: "~/.config/fish/config.fish",
                text,
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        super::super::shell::assert_options_exist(&m);
        let out = m.to_nix(0);
        let parse = rnix::Root::parse(&format!("{{\n{out}}}\n"));
        assert!(parse.errors().is_empty(), "{:?}\n{out}", parse.errors());
        (out, m.warnings)
    }

    const CONFIG: &str = r#"# PATH and friends
set -gx EDITOR nvim
fish_add_path ~/.local/bin
set -gx GITHUB_TOKEN ghp_0123456789abcdefghijklmnopqrstuvwxyz

if status is-login
    set -gx LANG en_US.UTF-8
end

if status is-interactive
    # Commands to run in interactive sessions can go here
    set -g fish_greeting
    set -x NPM_TOKEN npm_abcdef
    alias ll 'ls -lh'
    alias gs='git status'
    abbr -a gco git checkout
    abbr --add --position anywhere -- L '| less'
    bind \cf forward-char
    bind -M insert \e\[A 'history-search-backward'
    function mkcd --description 'make and enter' --argument-names dir
        mkdir -p $dir
        and cd $dir
    end
    if test -d ~/.cargo/bin
        fish_add_path ~/.cargo/bin
    end
end

function fish_title
    echo (prompt_pwd)
end

starship init fish | source
alias weird "echo \"$HOME\""
"#;

    #[test]
    fn config_fish_blocks_functions_and_the_rest() {
        let (out, warnings) = run(CONFIG);
        expect![[r#"
            programs.fish = {
              enable = true;
              shellAliases = {
                ll = "ls -lh";
                gs = "git status";
              };
              shellAbbrs = {
                gco = "git checkout";
                L = {
                  position = "anywhere";
                  expansion = "| less";
                };
              };
              functions = {
                mkcd = {
                  body = ''
                    mkdir -p $dir
                    and cd $dir
                  '';
                  description = "make and enter";
                  argumentNames = "dir";
                };
                fish_title = "echo (prompt_pwd)\n";
              };
              binds = {
                "\\cf".command = "forward-char";
                "\\e\\[A" = {
                  command = "history-search-backward";
                  mode = "insert";
                };
              };
              shellInit = ''
                # PATH and friends
                set -gx EDITOR nvim
                fish_add_path ~/.local/bin
              '';
              loginShellInit = "set -gx LANG en_US.UTF-8\n";
              interactiveShellInit = ''
                # Commands to run in interactive sessions can go here
                set -g fish_greeting
                if test -d ~/.cargo/bin
                    fish_add_path ~/.cargo/bin
                end
              '';
              shellInitLast = "alias weird \"echo \\\"$HOME\\\"\"\n";
            };
            programs.starship = {
              enable = true;
              enableFishIntegration = true;
            };
        "#]]
        .assert_eq(&out);
        let lines: Vec<Option<usize>> = warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [Some(4), Some(13), Some(33)]);
    }

    #[test]
    fn text_fish_refuses_is_refused() {
        for (text, line) in [
            ("echo 'x\n", 1),
            ("if true\n  echo\n", 1),
            ("end\n", 1),
            ("else\n", 1),
        ] {
            let err = migrate(
                Source {
                    path: "~/.config/fish/config.fish",
                    text,
                },
                Release::NEWEST,
                &NoFiles,
            );
            assert!(
                matches!(err, Err(MigrateError::Syntax { line: l, .. }) if l == line),
                "{text:?}: {err:?}"
            );
        }
    }
}
