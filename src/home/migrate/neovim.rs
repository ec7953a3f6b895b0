//! `~/.config/nvim/init.vim` and `init.lua` into `programs.neovim`.
//!
//! `init.vim` is read as Vim reads it (see [`super::vimscript`]): vim-plug,
//! Vundle and `packadd` plugins become `plugins`, `let
//! g:loaded_<x>_provider = 0` becomes `with<X> = false`, the rest stays in
//! `extraConfig` (Neovim has no typed settings in Home Manager).
//!
//! `init.lua` stays Lua, in `initLua` (`extraLuaConfig` before Home
//! Manager 26.05), exactly as written except for what converts:
//! `vim.g.loaded_<x>_provider = 0` lines, secrets, and a lazy.nvim setup
//! whose every spec is recognised exactly (`"owner/name"`, `{ "owner/name",
//! dependencies = ..., config = function() ... end, opts = ..., main =
//! ... }`, and lazy-loading keys that only delay loading). Such a setup
//! becomes `plugins`, its bootstrap goes, and the specs' configs stay where
//! the setup call was, each in a `do ... end` block, so they run in the
//! same order relative to the rest of the file as lazy.nvim ran them. Any
//! other spec (`keys` that define mappings, `init`, `opts` without `main`,
//! a local `dir`, an `import`) keeps the whole setup as it is: lazy.nvim
//! resets the runtime path, so it cannot share plugins with Home Manager.
//!
//! Home Manager writes init.lua as: the provider settings and `extraConfig`
//! (sourced as vimscript), then `initLua`; plugins sit in the packpath, so
//! `require` finds them anywhere in init.lua.

use super::nix::{Attrs, Value};
use super::vimscript::{attribute, plan, repository, Flavor};
use super::{looks_secret, Converted, Files, MigrateError, Release, Source, Warning};

pub fn convert(
    source: Source<'_>,
    release: Release,
    _files: &dyn Files,
) -> Result<Converted, MigrateError> {
    let lua = source.path.replace('\\', "/").ends_with(".lua");
    let (plugins, providers, body, mut warnings) = if lua {
        let done = convert_lua(source)?;
        (done.plugins, done.providers, done.text, done.warnings)
    } else {
        let plan = plan(source, Flavor::Neovim)?;
        let mut warnings = plan.warnings;
        warnings.push(Warning {
            line: None,
            message: "Home Manager writes ~/.config/nvim/init.lua, which sources `extraConfig`: remove init.vim once migrated (Neovim will not read both)".into(),
        });
        (plan.plugins, plan.providers, plan.extra, warnings)
    };
    let mut out = Attrs::new();
    out.set(&["enable"], Value::Bool(true));
    for (option, comments) in providers {
        out.set_with_comments(&[option], Value::Bool(false), comments);
    }
    if !plugins.is_empty() {
        let list = plugins
            .iter()
            .map(|attr| Value::code(format!("pkgs.vimPlugins.{}", super::nix::name(attr))))
            .collect();
        out.set(&["plugins"], Value::List(list));
    }
    if !body.is_empty() {
        let option = if !lua {
            "extraConfig"
        } else if release >= Release::new(26, 5) {
            "initLua"
        } else {
            "extraLuaConfig"
        };
        out.set(&[option], Value::Str(body));
    }
    warnings.sort_by_key(|w| w.line.unwrap_or(usize::MAX));
    Ok(Converted {
        options: out,
        also: Attrs::new(),
        warnings,
    })
}

/// A Lua token: where it is in the text, and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Token {
    kind: Tok,
    start: usize,
    end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Name,
    Str,
    Number,
    Comment,
    Punct,
}

/// Lua's tokens (5.1, as LuaJIT reads them); an unterminated string or
/// comment is a syntax error, for which Neovim runs none of the file.
fn tokens(text: &str) -> Result<Vec<Token>, (usize, String)> {
    let bytes = text.as_bytes();
    let line_of = |at: usize| text[..at].matches('\n').count() + 1;
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let kind = if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if text[i..].starts_with("--") {
            i += 2;
            match long_bracket(&text[i..]) {
                Some(level) => {
                    let close = format!("]{}]", "=".repeat(level));
                    let body = i + level + 2;
                    let end = text[body..]
                        .find(&close)
                        .ok_or_else(|| (line_of(start), "unfinished long comment".to_string()))?;
                    i = body + end + close.len();
                }
                None => i = text[i..].find('\n').map_or(bytes.len(), |n| i + n),
            }
            Tok::Comment
        } else if c == b'[' && long_bracket(&text[i..]).is_some() {
            let level = long_bracket(&text[i..]).unwrap_or(0);
            let close = format!("]{}]", "=".repeat(level));
            let body = i + level + 2;
            let end = text[body..]
                .find(&close)
                .ok_or_else(|| (line_of(start), "unfinished long string".to_string()))?;
            i = body + end + close.len();
            Tok::Str
        } else if c == b'"' || c == b'\'' {
            i += 1;
            loop {
                match bytes.get(i) {
                    None | Some(b'\n') => {
                        return Err((line_of(start), "unfinished string".into()));
                    }
                    Some(b'\\') => i += 2,
                    Some(q) if *q == c => {
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
            Tok::Str
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            Tok::Name
        } else if c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            while i < bytes.len() {
                let b = bytes[i];
                let exponent = (matches!(b, b'+' | b'-')
                    && matches!(bytes[i - 1], b'e' | b'E' | b'p' | b'P')
                    && !text[start..i].starts_with("0x"))
                    || b.is_ascii_alphanumeric()
                    || b == b'.';
                if !exponent {
                    break;
                }
                i += 1;
            }
            Tok::Number
        } else {
            let three = ["..."];
            let two = ["..", "==", "~=", "<=", ">=", "::", "//", "<<", ">>"];
            let len = if three.iter().any(|p| text[i..].starts_with(p)) {
                3
            } else if two.iter().any(|p| text[i..].starts_with(p)) {
                2
            } else {
                text[i..].chars().next().map_or(1, char::len_utf8)
            };
            i += len;
            Tok::Punct
        };
        out.push(Token {
            kind,
            start,
            end: i,
        });
    }
    Ok(out)
}

/// The level of a long bracket (`[[` 0, `[==[` 2) opening `text`.
fn long_bracket(text: &str) -> Option<usize> {
    let rest = text.strip_prefix('[')?;
    let level = rest.len() - rest.trim_start_matches('=').len();
    rest[level..].starts_with('[').then_some(level)
}

/// What init.lua becomes.
struct Lua {
    plugins: Vec<String>,
    providers: Vec<(&'static str, Vec<String>)>,
    text: String,
    warnings: Vec<Warning>,
}

/// A change to the text: bytes `start..end` become `with`.
struct Edit {
    start: usize,
    end: usize,
    with: String,
}

fn convert_lua(source: Source<'_>) -> Result<Lua, MigrateError> {
    let text = source.text;
    let toks = tokens(text).map_err(|(line, message)| MigrateError::Syntax {
        path: source.path.to_string(),
        line,
        message,
    })?;
    // Brackets must balance, or Lua refuses the file.
    let mut stack: Vec<(u8, usize)> = Vec::new();
    for t in toks.iter().filter(|t| t.kind == Tok::Punct) {
        let c = text.as_bytes()[t.start];
        match c {
            b'(' | b'{' | b'[' => stack.push((c, t.start)),
            b')' | b'}' | b']' => {
                let open = match c {
                    b')' => b'(',
                    b'}' => b'{',
                    _ => b'[',
                };
                if stack.pop().map(|(o, _)| o) != Some(open) {
                    return Err(MigrateError::Syntax {
                        path: source.path.to_string(),
                        line: line_of(text, t.start),
                        message: format!("unmatched `{}`", c as char),
                    });
                }
            }
            _ => {}
        }
    }
    if let Some((c, at)) = stack.first() {
        return Err(MigrateError::Syntax {
            path: source.path.to_string(),
            line: line_of(text, *at),
            message: format!("`{}` is never closed", *c as char),
        });
    }

    let mut lua = Lua {
        plugins: Vec::new(),
        providers: Vec::new(),
        text: String::new(),
        warnings: Vec::new(),
    };
    let mut edits: Vec<Edit> = Vec::new();
    let code: Vec<Token> = toks
        .iter()
        .copied()
        .filter(|t| t.kind != Tok::Comment)
        .collect();

    // Whole lines: providers, secrets.
    for (start, end) in whole_lines(text, &toks) {
        let line = &text[start..end];
        let on: Vec<Token> = toks
            .iter()
            .copied()
            .filter(|t| t.start >= start && t.end <= end)
            .collect();
        let words: Vec<&str> = on
            .iter()
            .filter(|t| t.kind != Tok::Comment)
            .map(|t| &text[t.start..t.end])
            .collect();
        let only_comment = words.is_empty() && !on.is_empty();
        if let Some(option) = lua_provider(&words) {
            lua.providers.push((option, Vec::new()));
            edits.push(Edit {
                start,
                end: end + 1,
                with: String::new(),
            });
        } else if secret_line(&words) || (only_comment && looks_secret("", line)) {
            lua.warnings.push(Warning {
                line: Some(line_of(text, start)),
                message: "this line looks like it holds a secret: left out, because what Home Manager writes is readable by every user in /nix/store; read it at runtime instead (`vim.env.X`, or `io.open` a file Home Manager does not manage)".into(),
            });
            edits.push(Edit {
                start,
                end: end + 1,
                with: String::new(),
            });
        }
    }

    lazy(text, &code, &mut lua, &mut edits);
    if text.contains("require(\"packer\")") || text.contains("require('packer')") {
        lua.warnings.push(Warning {
            line: text.find("require").map(|at| line_of(text, at)),
            message: "packer.nvim's specs are kept as written, and packer keeps installing them: move them to `plugins` by hand".into(),
        });
    }

    edits.sort_by_key(|e| e.start);
    let mut out = String::new();
    let mut at = 0;
    for edit in edits {
        if edit.start < at {
            continue;
        }
        out.push_str(&text[at..edit.start]);
        out.push_str(&edit.with);
        at = edit.end.min(text.len());
    }
    out.push_str(&text[at..]);
    lua.text = super::tidy(&out);
    Ok(lua)
}

fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

/// The lines (byte ranges, without their newline) that start outside any
/// multi-line string or comment and have no token running past their end.
fn whole_lines(text: &str, toks: &[Token]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for line in text.split('\n') {
        let end = start + line.len();
        let split = toks
            .iter()
            .any(|t| (t.start < start && t.end > start) || (t.start < end && t.end > end));
        if !split && !line.trim().is_empty() {
            out.push((start, end));
        }
        start = end + 1;
    }
    out
}

/// `vim.g.loaded_node_provider = 0` (or `vim.g["..."]`, a `;` after): the
/// option it sets false.
fn lua_provider(words: &[&str]) -> Option<&'static str> {
    let words = match words.split_last() {
        Some((&";", rest)) => rest,
        _ => words,
    };
    let name = match words {
        ["vim", ".", "g", ".", name, "=", "0"] => name.to_string(),
        ["vim", ".", "g", "[", name, "]", "=", "0"] => name.trim_matches(['"', '\'']).to_string(),
        _ => return None,
    };
    match name.as_str() {
        "loaded_node_provider" => Some("withNodeJs"),
        "loaded_python3_provider" => Some("withPython3"),
        "loaded_ruby_provider" => Some("withRuby"),
        "loaded_perl_provider" => Some("withPerl"),
        _ => None,
    }
}

/// `name = "value"` (a table field or an assignment, `local` or
/// `vim.env.NAME`), whose name or value looks like a credential; or any
/// string shaped like a token.
fn secret_line(words: &[&str]) -> bool {
    let words = match words.split_last() {
        Some((&(";" | ","), rest)) => rest,
        _ => words,
    };
    let shaped = words
        .iter()
        .any(|w| w.starts_with(['"', '\'']) && looks_secret("", w));
    if let [.., name, "=", value] = words {
        if value.starts_with(['"', '\'', '[']) {
            let value = value.trim_matches(['"', '\'', '[', ']', '=']);
            let name = name.trim_matches(['"', '\'', '[', ']']);
            return looks_secret(name, value) || shaped;
        }
    }
    shaped
}

/// A spec lazy.nvim would install, read exactly.
#[derive(Debug, Clone, PartialEq)]
struct Spec {
    owner: String,
    name: String,
    /// Lua to run where the setup was (its config), if any.
    config: Option<String>,
    dependencies: Vec<Spec>,
    /// lazy.nvim keys dropped, with why.
    dropped: Vec<&'static str>,
}

/// The closing bracket's index for the bracket token at `open`.
fn matching(text: &str, code: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (k, t) in code.iter().enumerate().skip(open) {
        if t.kind != Tok::Punct {
            continue;
        }
        match &text[t.start..t.end] {
            "(" | "{" | "[" => depth += 1,
            ")" | "}" | "]" => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

/// Finds `require("lazy").setup({ ... })` and converts it if every spec
/// is recognised; drops the bootstrap with it.
fn lazy(text: &str, code: &[Token], lua: &mut Lua, edits: &mut Vec<Edit>) {
    let word = |k: usize| code.get(k).map_or("", |t| &text[t.start..t.end]);
    let Some(at) = (0..code.len()).find(|&k| {
        word(k) == "require"
            && word(k + 1) == "("
            && unquote(word(k + 2)) == Some("lazy")
            && word(k + 3) == ")"
            && word(k + 4) == "."
            && word(k + 5) == "setup"
    }) else {
        return;
    };
    let line = line_of(text, code[at].start);
    let keep = |why: String, lua: &mut Lua| {
        lua.warnings.push(Warning {
            line: Some(line),
            message: format!("lazy.nvim's setup is kept as written ({why}): lazy.nvim keeps installing and loading its plugins; move them to `plugins` by hand"),
        });
    };
    // The call's argument: `({...})`, `({...}, {...})` or `{...}`.
    let (table, end) = match word(at + 6) {
        "(" => {
            let Some(close) = matching(text, code, at + 6) else {
                return;
            };
            if word(at + 7) != "{" {
                return keep("its specs are not a table here".into(), lua);
            }
            let Some(table_end) = matching(text, code, at + 7) else {
                return;
            };
            let rest_ok = table_end + 1 == close
                || (word(table_end + 1) == ","
                    && word(table_end + 2) == "{"
                    && matching(text, code, table_end + 2) == Some(close - 1));
            if !rest_ok {
                return keep("its arguments are not tables".into(), lua);
            }
            ((at + 7, table_end), close)
        }
        "{" => match matching(text, code, at + 6) {
            Some(close) => ((at + 6, close), close),
            None => return,
        },
        _ => return keep("its specs are not a table here".into(), lua),
    };
    // The statement must fill its lines.
    let start = text[..code[at].start].rfind('\n').map_or(0, |n| n + 1);
    let stop = text[code[end].end..]
        .find('\n')
        .map_or(text.len(), |n| code[end].end + n);
    if !text[start..code[at].start].trim().is_empty()
        || !text[code[end].end..stop].trim().is_empty()
    {
        return keep("other code shares its lines".into(), lua);
    }
    let mut fields = fields_of(text, code, table.0, table.1);
    // `{ spec = { ... }, ... }`: the specs are there.
    if let Some(Field::Named(_, (s, e))) = fields
        .iter()
        .find(|f| matches!(f, Field::Named(n, _) if n == "spec"))
    {
        if word(*s) != "{" {
            return keep("`spec` is not a table".into(), lua);
        }
        fields = fields_of(text, code, *s, *e);
    } else if fields.iter().any(|f| !matches!(f, Field::Positional(_))) {
        return keep("its first table has options other than specs".into(), lua);
    }
    let mut specs = Vec::new();
    for field in &fields {
        let Field::Positional(range) = field else {
            return keep("a spec list with named fields".into(), lua);
        };
        match read_spec(text, code, *range) {
            Ok(spec) => specs.push(spec),
            Err(why) => return keep(why, lua),
        }
    }
    // A secret or provider line inside is already being left out: the
    // configs copied from the specs would bring it back.
    if edits.iter().any(|e| e.start >= start && e.start <= stop) {
        return keep("a line inside it is left out".into(), lua);
    }
    // Convert: plugins in order (dependencies first), configs in place.
    let mut configs = String::new();
    let mut notes = Vec::new();
    fn walk(spec: &Spec, lua: &mut Lua, configs: &mut String, notes: &mut Vec<String>) {
        for dep in &spec.dependencies {
            walk(dep, lua, configs, notes);
        }
        let attr = attribute(&spec.owner, &spec.name);
        if !lua.plugins.contains(&attr) {
            lua.plugins.push(attr);
        }
        if let Some(config) = &spec.config {
            configs.push_str(&format!(
                "-- {}/{} (lazy.nvim's config)\ndo\n",
                spec.owner, spec.name
            ));
            for line in config.lines() {
                if !line.trim().is_empty() {
                    configs.push_str("  ");
                    configs.push_str(line);
                }
                configs.push('\n');
            }
            configs.push_str("end\n");
        }
        if !spec.dropped.is_empty() {
            notes.push(format!(
                "`{}/{}`: {}",
                spec.owner,
                spec.name,
                spec.dropped.join(", ")
            ));
        }
    }
    for spec in &specs {
        walk(spec, lua, &mut configs, &mut notes);
    }
    lua.plugins.retain(|p| p != "lazy-nvim");
    edits.push(Edit {
        start,
        end: stop + 1,
        with: configs,
    });
    lua.warnings.push(Warning {
        line: Some(line),
        message: "lazy.nvim's setup became `plugins` (names follow nixpkgs' vimPlugins: the repository's name with `.` as `-`; check each exists); each config runs where the setup was; Home Manager loads every plugin at startup".into(),
    });
    if !notes.is_empty() {
        lua.warnings.push(Warning {
            line: Some(line),
            message: format!("lazy.nvim keys not kept: {}", notes.join("; ")),
        });
    }
    if let Some((s, e)) = bootstrap(text, code, code[at].start) {
        edits.push(Edit {
            start: s,
            end: e,
            with: String::new(),
        });
        lua.warnings.push(Warning {
            line: Some(line_of(text, s)),
            message: "lazy.nvim's bootstrap (cloning it into `lazypath`) is left out".into(),
        });
    }
}

/// The bootstrap: from `local lazypath =` to the line that prepends it to
/// the runtime path, if that comes before the setup within 30 lines.
fn bootstrap(text: &str, code: &[Token], setup: usize) -> Option<(usize, usize)> {
    let word = |k: usize| code.get(k).map_or("", |t| &text[t.start..t.end]);
    let first = (0..code.len())
        .find(|&k| word(k) == "local" && word(k + 1) == "lazypath" && word(k + 2) == "=")?;
    let last = (first..code.len()).find(|&k| {
        word(k) == "prepend"
            && word(k + 1) == "("
            && word(k + 2) == "lazypath"
            && word(k + 3) == ")"
    })? + 3;
    let start = text[..code[first].start].rfind('\n').map_or(0, |n| n + 1);
    let end = text[code[last].end..]
        .find('\n')
        .map_or(text.len(), |n| code[last].end + n + 1);
    let lines = text[start..end].matches('\n').count();
    (end <= setup && lines <= 30 && text[start..code[first].start].trim().is_empty())
        .then_some((start, end))
}

/// A table constructor's field.
#[derive(Debug, Clone, PartialEq)]
enum Field {
    /// `value`: its token range (inclusive).
    Positional((usize, usize)),
    /// `name = value`.
    Named(String, (usize, usize)),
    /// `[key] = value`.
    Keyed,
}

/// The fields of the table whose braces are tokens `open` and `close`.
fn fields_of(text: &str, code: &[Token], open: usize, close: usize) -> Vec<Field> {
    let word = |k: usize| &text[code[k].start..code[k].end];
    let mut out = Vec::new();
    let mut depth = 0;
    let mut from = open + 1;
    for k in open + 1..=close {
        let w = word(k);
        match w {
            "(" | "{" | "[" => depth += 1,
            ")" | "}" | "]" if k != close => depth -= 1,
            _ => {}
        }
        let ends = k == close || (depth == 0 && (w == "," || w == ";"));
        if !ends {
            continue;
        }
        if from < k {
            let (s, e) = (from, k - 1);
            let field = if code[s].kind == Tok::Name && s + 2 <= e && word(s + 1) == "=" {
                Field::Named(word(s).to_string(), (s + 2, e))
            } else if word(s) == "[" {
                Field::Keyed
            } else {
                Field::Positional((s, e))
            };
            out.push(field);
        }
        from = k + 1;
    }
    out
}

/// The text of a Lua short string token, unquoted (no escapes handled:
/// `None` when it has any).
fn unquote(token: &str) -> Option<&str> {
    let inner = token
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .or_else(|| token.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')))?;
    (!inner.contains('\\')).then_some(inner)
}

/// A lazy.nvim spec, if every part of it is understood.
fn read_spec(text: &str, code: &[Token], (s, e): (usize, usize)) -> Result<Spec, String> {
    let word = |k: usize| &text[code[k].start..code[k].end];
    let repo = |w: &str| {
        unquote(w)
            .and_then(repository)
            .ok_or_else(|| format!("`{w}` names no GitHub repository"))
    };
    if s == e && code[s].kind == Tok::Str {
        let (owner, name) = repo(word(s))?;
        return Ok(Spec {
            owner,
            name,
            config: None,
            dependencies: Vec::new(),
            dropped: Vec::new(),
        });
    }
    if word(s) != "{" || matching(text, code, s) != Some(e) {
        return Err(format!(
            "the spec at `{}` is not a string or a table",
            word(s)
        ));
    }
    let fields = fields_of(text, code, s, e);
    let mut spec = None;
    let mut config = None;
    let mut opts = None;
    let mut main = None;
    let mut dependencies = Vec::new();
    let mut dropped = Vec::new();
    let one = |(a, b): (usize, usize)| (a == b).then(|| word(a));
    for field in &fields {
        match field {
            Field::Positional((a, b)) if spec.is_none() && a == b && code[*a].kind == Tok::Str => {
                spec = Some(repo(word(*a))?);
            }
            Field::Named(key, range) => match key.as_str() {
                "dependencies" => {
                    if one(*range).is_some() && code[range.0].kind == Tok::Str {
                        dependencies.push(read_spec(text, code, *range)?);
                    } else if word(range.0) == "{" && matching(text, code, range.0) == Some(range.1)
                    {
                        for dep in fields_of(text, code, range.0, range.1) {
                            let Field::Positional(r) = dep else {
                                return Err("a dependency list with named fields".into());
                            };
                            dependencies.push(read_spec(text, code, r)?);
                        }
                    } else {
                        return Err("`dependencies` is not a list".into());
                    }
                }
                "lazy" | "event" | "cmd" | "ft" => {
                    dropped.push("lazy loading (`lazy`, `event`, `cmd`, `ft`)")
                }
                "priority" => dropped.push("`priority`"),
                "build" => dropped.push("`build` (nixpkgs builds the plugin)"),
                "version" | "branch" | "tag" | "commit" | "pin" | "semver" => {
                    dropped.push("the version (nixpkgs pins its own)")
                }
                "enabled" if one(*range) == Some("true") => {}
                "main" => {
                    main = Some(
                        one(*range)
                            .and_then(unquote)
                            .ok_or("`main` is not a plain string")?
                            .to_string(),
                    )
                }
                "opts" => opts = Some(&text[code[range.0].start..code[range.1].end]),
                "config" => config = Some(*range),
                other => return Err(format!("its `{other}` has no Home Manager equivalent")),
            },
            _ => return Err("a spec with a field that is not understood".into()),
        }
    }
    dropped.dedup();
    let (owner, name) = spec.ok_or("a spec without a repository")?;
    let config = match (config, opts) {
        (Some(range), _) if one(range) == Some("true") => {
            let main = main.ok_or("`config = true` without `main`")?;
            Some(format!(
                "require(\"{main}\").setup({})\n",
                opts.unwrap_or("{}")
            ))
        }
        (Some(range), _) => Some(function_body(text, code, range)?),
        (None, Some(opts)) => {
            let main = main.ok_or("`opts` without `main` (lazy.nvim guesses the module)")?;
            Some(format!("require(\"{main}\").setup({opts})\n"))
        }
        (None, None) => None,
    };
    Ok(Spec {
        owner,
        name,
        config,
        dependencies,
        dropped,
    })
}

/// The body of `function() ... end` (tokens `range`), dedented; refused
/// when the function takes parameters or returns from its top level
/// (inline, a `return` would end init.lua).
fn function_body(text: &str, code: &[Token], (s, e): (usize, usize)) -> Result<String, String> {
    let word = |k: usize| &text[code[k].start..code[k].end];
    if e < s + 3
        || word(s) != "function"
        || word(s + 1) != "("
        || word(s + 2) != ")"
        || word(e) != "end"
    {
        return Err("its `config` is not a function without parameters".into());
    }
    let mut depth = 0;
    for token in &code[s + 3..e] {
        let name = token.kind == Tok::Name;
        match &text[token.start..token.end] {
            "function" | "if" | "do" | "repeat" if name => depth += 1,
            "end" | "until" if name => depth -= 1,
            "return" if depth == 0 => return Err("its `config` returns early".into()),
            "..." => return Err("its `config` uses `...`".into()),
            _ => {}
        }
    }
    if depth != 0 {
        return Err("its `config` is not one function".into());
    }
    let body = &text[code[s + 2].end..code[e].start];
    let body = body
        .trim_start_matches([' ', '\t'])
        .trim_start_matches('\n');
    let lines: Vec<&str> = body.trim_end().lines().collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = String::new();
    for line in lines {
        out.push_str(line.get(indent..).unwrap_or(line.trim_start()));
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::{migrate, NoFiles};
    use super::*;
    use expect_test::expect;

    fn run(path: &str, text: &str, release: Release) -> (String, Vec<Warning>) {
        let m = migrate(Source { path, text }, release, &NoFiles).unwrap();
        let out = m.to_nix(0);
        let parse = rnix::Root::parse(&format!("{{\n{out}}}\n"));
        assert!(parse.errors().is_empty(), "{:?}\n{out}", parse.errors());
        (out, m.warnings)
    }

    const INIT_LUA: &str = r#"-- ~/.config/nvim/init.lua
vim.g.mapleader = " "
vim.g.loaded_node_provider = 0
vim.g.loaded_perl_provider = 0
vim.env.GITHUB_TOKEN = "ghp_0123456789abcdefghijklmnopqrstuvwxyz"

local lazypath = vim.fn.stdpath("data") .. "/lazy/lazy.nvim"
if not (vim.uv or vim.loop).fs_stat(lazypath) then
  vim.fn.system({ "git", "clone", "--filter=blob:none",
    "https://github.com/folke/lazy.nvim.git", "--branch=stable", lazypath })
end
vim.opt.rtp:prepend(lazypath)

require("lazy").setup({
  -- colours first
  { "folke/tokyonight.nvim", lazy = false, priority = 1000,
    config = function()
      require("tokyonight").setup({ style = "night" })
      vim.cmd.colorscheme("tokyonight")
    end },
  "tpope/vim-fugitive",
  {
    "nvim-telescope/telescope.nvim",
    dependencies = { "nvim-lua/plenary.nvim" },
    cmd = "Telescope",
  },
  { "nvim-lualine/lualine.nvim", main = "lualine", opts = { options = { theme = "tokyonight" } } },
})

--[[ options
  kept as they are ]]
vim.opt.number = true
vim.opt.shiftwidth = 2
vim.keymap.set("n", "<leader>ff", function() require("telescope.builtin").find_files() end)
local s = [==[
vim.g.loaded_ruby_provider = 0
]==]
"#;

    #[test]
    fn lazy_specs_become_plugins_and_the_rest_stays() {
        let (out, warnings) = run("~/.config/nvim/init.lua", INIT_LUA, Release::NEWEST);
        expect![[r#"
            programs.neovim = {
              enable = true;
              withNodeJs = false;
              withPerl = false;
              plugins = [
                pkgs.vimPlugins.tokyonight-nvim
                pkgs.vimPlugins.vim-fugitive
                pkgs.vimPlugins.plenary-nvim
                pkgs.vimPlugins.telescope-nvim
                pkgs.vimPlugins.lualine-nvim
              ];
              initLua = ''
                -- ~/.config/nvim/init.lua
                vim.g.mapleader = " "

                -- folke/tokyonight.nvim (lazy.nvim's config)
                do
                  require("tokyonight").setup({ style = "night" })
                  vim.cmd.colorscheme("tokyonight")
                end
                -- nvim-lualine/lualine.nvim (lazy.nvim's config)
                do
                  require("lualine").setup({ options = { theme = "tokyonight" } })
                end

                --[[ options
                  kept as they are ]]
                vim.opt.number = true
                vim.opt.shiftwidth = 2
                vim.keymap.set("n", "<leader>ff", function() require("telescope.builtin").find_files() end)
                local s = [==[
                vim.g.loaded_ruby_provider = 0
                ]==]
              '';
            };
        "#]].assert_eq(&out);
        let lines: Vec<Option<usize>> = warnings.iter().map(|w| w.line).collect();
        assert_eq!(
            lines,
            [Some(5), Some(7), Some(14), Some(14)],
            "{warnings:#?}"
        );
        assert!(!out.contains("ghp_"));
    }

    #[test]
    fn lua_before_26_05_is_extra_lua_config() {
        let (out, _) = run(
            "~/.config/nvim/init.lua",
            "vim.o.number = true\n",
            Release::new(25, 11),
        );
        expect![[r#"
            programs.neovim = {
              enable = true;
              extraLuaConfig = "vim.o.number = true\n";
            };
        "#]]
        .assert_eq(&out);
        let (out, _) = run(
            "~/.config/nvim/init.lua",
            "vim.o.number = true\n",
            Release::new(26, 5),
        );
        assert!(out.contains("initLua = "), "{out}");
    }

    #[test]
    fn lazy_specs_not_understood_keep_the_setup() {
        let text = "require(\"lazy\").setup({\n  { \"nvim-telescope/telescope.nvim\", keys = { { \"<leader>f\", \"<cmd>Telescope<cr>\" } } },\n})\n";
        let (out, warnings) = run("~/.config/nvim/init.lua", text, Release::NEWEST);
        assert!(out.contains("keys = {"), "{out}");
        assert!(!out.contains("plugins"), "{out}");
        assert!(
            warnings[0]
                .message
                .contains("`keys` has no Home Manager equivalent"),
            "{warnings:#?}"
        );
        let text = "require('lazy').setup { { 'folke/which-key.nvim', opts = {} } }\n";
        let (out, warnings) = run("~/.config/nvim/init.lua", text, Release::NEWEST);
        assert!(out.contains("which-key"), "{out}");
        assert!(
            warnings[0].message.contains("`opts` without `main`"),
            "{warnings:#?}"
        );
    }

    #[test]
    fn lua_files_neovim_refuses_are_refused() {
        for (text, line) in [
            ("local x = \"abc\n", 1),
            ("f(\n{\n", 1),
            ("--[[ open\n", 1),
            ("x = 1 }\n", 1),
        ] {
            match migrate(
                Source {
                    path: "~/.config/nvim/init.lua",
                    text,
                },
                Release::NEWEST,
                &NoFiles,
            ) {
                Err(MigrateError::Syntax { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    const INIT_VIM: &str = r#"" neovim
let g:loaded_python3_provider = 0
let g:loaded_ruby_provider = 0
call plug#begin(stdpath('data') . '/plugged')
Plug 'neovim/nvim-lspconfig'
Plug 'nvim-treesitter/nvim-treesitter', {'do': ':TSUpdate'}
call plug#end()
set number tabstop=4
lua << EOF
require('lspconfig').gopls.setup({})
EOF
"#;

    #[test]
    fn init_vim_stays_vimscript() {
        let (out, warnings) = run("~/.config/nvim/init.vim", INIT_VIM, Release::NEWEST);
        expect![[r#"
            programs.neovim = {
              enable = true;
              # neovim
              withPython3 = false;
              withRuby = false;
              plugins = [
                pkgs.vimPlugins.nvim-lspconfig
                pkgs.vimPlugins.nvim-treesitter
              ];
              extraConfig = ''
                filetype plugin indent on
                syntax enable
                set number tabstop=4
                lua << EOF
                require('lspconfig').gopls.setup({})
                EOF
              '';
            };
        "#]]
        .assert_eq(&out);
        assert_eq!(warnings.len(), 3, "{warnings:#?}");
    }

    #[test]
    fn option_names_exist() {
        use crate::home::options::{index, Lookup};
        for name in [
            "enable",
            "plugins",
            "extraConfig",
            "initLua",
            "withNodeJs",
            "withPython3",
            "withRuby",
            "withPerl",
        ] {
            let path = ["programs", "neovim", name];
            assert!(
                matches!(index().lookup(&path), Lookup::Option(..)),
                "{name}: {:?}",
                index().lookup(&path)
            );
        }
        // extraLuaConfig is for releases before 26.05 only: renamed since.
        assert!(matches!(
            index().lookup(&["programs", "neovim", "extraLuaConfig"]),
            Lookup::Deprecated { .. }
        ));
    }
}
