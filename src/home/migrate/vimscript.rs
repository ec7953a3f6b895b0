//! Vimscript as Vim sources a vimrc, shared by the vim and neovim
//! converters: a line whose first non-blank character is `\` continues the
//! one before (`"\ ` lines inside a continuation are comments), a line
//! starting with `"` is a comment, `lua << EOF` / `let x =<< END` blocks
//! run to their end marker, and `if`/`for`/`while`/`function`/`try` open
//! blocks their `end...` closes. A trailing `"` is a comment only where
//! the command says so; of the commands converted here only `:set` does,
//! so every other line is kept whole.
//!
//! [`plan`] sorts the lines: the settings Home Manager's vim module types,
//! plugin-manager lines (vim-plug, Vundle, `packadd`) that become
//! `plugins`, provider switches (`let g:loaded_node_provider = 0`) that
//! become `with*` options, secrets that are left out, and the rest, kept
//! verbatim and in order.
//!
//! Order (vim): Home Manager's wrapper vimrc is `set nocompatible`, the
//! plugin packpath, then one `set` per typed setting (sorted by name), then
//! `extraConfig`; plugins load after the whole vimrc, as vim-plug's do. So a
//! setting may move to the top only where nothing before it in the file
//! could set or read it: every mention of the option (by full or short
//! name, `&ts`, `set ts+=2`, `setlocal`, inside blocks) must be a plain
//! top-level `set` that converts, and none may follow a line that runs
//! other code at load time (`source`, `runtime`, `colorscheme`, `execute`,
//! `set compatible`). Mappings, autocommands, user commands and
//! abbreviations run later, so their mentions do not count. Otherwise the
//! option's lines all stay in `extraConfig`.

use super::nix::Value;
use super::{looks_secret, MigrateError, Source, Warning};

/// One line as Vim sources it: a physical line with its continuation
/// lines (or a heredoc's lines).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Line {
    /// 1-based number of its first physical line.
    pub number: usize,
    /// The physical lines as written.
    pub raw: String,
    /// The command as Vim runs it: continuations joined, leading blanks
    /// and colons removed.
    pub code: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Blank,
    Comment,
    Command,
}

/// Splits a vimrc into the lines Vim sources.
pub(super) fn read(text: &str) -> Vec<Line> {
    let physical: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < physical.len() {
        let mut raw = physical[i].to_string();
        let mut code = physical[i].trim_start().to_string();
        let mut j = i + 1;
        while let Some(next) = physical.get(j) {
            let t = next.trim_start();
            if let Some(rest) = t.strip_prefix('\\') {
                code.push_str(rest);
            } else if !t.starts_with("\"\\ ") {
                break;
            }
            raw.push('\n');
            raw.push_str(next);
            j += 1;
        }
        let code = code.trim_start_matches([':', ' ', '\t']).to_string();
        let kind = if code.trim().is_empty() {
            Kind::Blank
        } else if code.starts_with('"') {
            Kind::Comment
        } else {
            Kind::Command
        };
        // A heredoc's lines are data for the command, up to its marker.
        if kind == Kind::Command {
            if let Some((marker, trim)) = heredoc(&code) {
                while let Some(next) = physical.get(j) {
                    raw.push('\n');
                    raw.push_str(next);
                    j += 1;
                    let end = if trim { next.trim_start() } else { next };
                    if end == marker {
                        break;
                    }
                }
            }
        }
        out.push(Line {
            number: i + 1,
            raw,
            code,
            kind,
        });
        i = j;
    }
    out
}

/// The end marker of `lua << EOF`, `python3 << trim END`, `let x =<< END`
/// (`.` when none is given), and whether its indentation is trimmed.
fn heredoc(code: &str) -> Option<(String, bool)> {
    let (before, after) = code.rsplit_once("<<")?;
    let word = command_word(before);
    let script = [
        "lua", "py", "python", "py3", "python3", "pythonx", "perl", "ruby", "mz",
    ]
    .contains(&word);
    let assignment = word == "let" && before.trim_end().ends_with('=');
    if !script && !assignment {
        return None;
    }
    let mut words: Vec<&str> = after.split_whitespace().collect();
    let trim = words.first() == Some(&"trim");
    if trim {
        words.remove(0);
    }
    // `let x =<< trim eval END`
    words.retain(|w| *w != "eval");
    match words.as_slice() {
        [] => Some((".".to_string(), trim)),
        [marker]
            if marker
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            Some((marker.to_string(), trim))
        }
        _ => None,
    }
}

/// The command name a line starts with (`set` in `set nu`, `Plug`,
/// `call`), without a `!`.
pub(super) fn command_word(code: &str) -> &str {
    let code = code.trim_start_matches([':', ' ', '\t']);
    let end = code
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '#')
        .unwrap_or(code.len());
    &code[..end]
}

/// Whether `word` is `full` or an abbreviation of it at least `min` long
/// (`:fu` for `:function`).
fn abbreviates(word: &str, full: &str, min: usize) -> bool {
    word.len() >= min && full.starts_with(word)
}

/// How a command changes the block depth: +1 for `if`/`for`/`while`/
/// `function`/`try`, -1 for their `end...`.
fn block_change(segment: &str) -> i32 {
    let word = command_word(segment);
    let rest = segment.trim_start_matches([':', ' ', '\t'])[word.len()..].trim_start();
    let rest = rest.strip_prefix('!').unwrap_or(rest);
    let opens = word == "if"
        || word == "for"
        || word == "try"
        || abbreviates(word, "while", 2)
        // `:function` alone lists functions; a definition has `(`.
        || ((abbreviates(word, "function", 2) || word == "def") && rest.contains('('));
    let closes = abbreviates(word, "endif", 2)
        || abbreviates(word, "endfor", 5)
        || abbreviates(word, "endwhile", 4)
        || abbreviates(word, "endfunction", 4)
        || word == "enddef"
        || abbreviates(word, "endtry", 4);
    i32::from(opens) - i32::from(closes)
}

/// The `|`-separated commands of a line, split naively (a `|` in a
/// string splits too: only block keywords and command names are read
/// from the parts).
fn segments(code: &str) -> Vec<&str> {
    code.split('|').collect()
}

/// Commands whose text runs later (a key, an event, a user command), not
/// while the vimrc is sourced.
fn deferred(word: &str) -> bool {
    let maps = [
        "map",
        "nm",
        "nmap",
        "vm",
        "vmap",
        "xm",
        "xmap",
        "smap",
        "om",
        "omap",
        "im",
        "imap",
        "lm",
        "lmap",
        "cm",
        "cmap",
        "tma",
        "tmap",
        "no",
        "nn",
        "nno",
        "nnor",
        "nnore",
        "nnorem",
        "nnorema",
        "nnoremap",
        "noremap",
        "vn",
        "vno",
        "vnor",
        "vnore",
        "vnorem",
        "vnorema",
        "vnoremap",
        "xn",
        "xno",
        "xnor",
        "xnore",
        "xnorem",
        "xnorema",
        "xnoremap",
        "snor",
        "snore",
        "snorem",
        "snorema",
        "snoremap",
        "ono",
        "onor",
        "onore",
        "onorem",
        "onorema",
        "onoremap",
        "ino",
        "inor",
        "inore",
        "inorem",
        "inorema",
        "inoremap",
        "ln",
        "lno",
        "lnor",
        "lnore",
        "lnorem",
        "lnorema",
        "lnoremap",
        "cno",
        "cnor",
        "cnore",
        "cnorem",
        "cnorema",
        "cnoremap",
        "tno",
        "tnor",
        "tnore",
        "tnorem",
        "tnorema",
        "tnoremap",
        "ab",
        "abbreviate",
        "ia",
        "iabbrev",
        "iabbr",
        "ca",
        "cabbrev",
        "cabbr",
        "norea",
        "noreabbrev",
        "inorea",
        "inoreabbrev",
        "cnorea",
        "cnoreabbrev",
    ];
    maps.contains(&word) || abbreviates(word, "autocmd", 2) || abbreviates(word, "command", 3)
}

/// A setting Home Manager's vim module types (modules/programs/vim.nix
/// `knownSettings`), with the short names Vim accepts for it.
#[derive(Debug, PartialEq)]
pub(super) struct Known {
    pub name: &'static str,
    pub short: &'static str,
    pub kind: Type,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Type {
    Bool,
    Int,
    /// `types.enum`: one of these words.
    Enum(&'static [&'static str]),
    /// `types.listOf types.str`, written joined with `,`.
    List,
}

pub(super) const KNOWN: &[Known] = &[
    Known {
        name: "background",
        short: "bg",
        kind: Type::Enum(&["dark", "light"]),
    },
    Known {
        name: "backupdir",
        short: "bdir",
        kind: Type::List,
    },
    Known {
        name: "copyindent",
        short: "ci",
        kind: Type::Bool,
    },
    Known {
        name: "directory",
        short: "dir",
        kind: Type::List,
    },
    Known {
        name: "expandtab",
        short: "et",
        kind: Type::Bool,
    },
    Known {
        name: "hidden",
        short: "hid",
        kind: Type::Bool,
    },
    Known {
        name: "history",
        short: "hi",
        kind: Type::Int,
    },
    Known {
        name: "ignorecase",
        short: "ic",
        kind: Type::Bool,
    },
    Known {
        name: "modeline",
        short: "ml",
        kind: Type::Bool,
    },
    Known {
        name: "mouse",
        short: "",
        kind: Type::Enum(&["n", "v", "i", "c", "h", "a", "r"]),
    },
    Known {
        name: "mousefocus",
        short: "mousef",
        kind: Type::Bool,
    },
    Known {
        name: "mousehide",
        short: "mh",
        kind: Type::Bool,
    },
    Known {
        name: "mousemodel",
        short: "mousem",
        kind: Type::Enum(&["extend", "popup", "popup_setpos"]),
    },
    Known {
        name: "number",
        short: "nu",
        kind: Type::Bool,
    },
    Known {
        name: "relativenumber",
        short: "rnu",
        kind: Type::Bool,
    },
    Known {
        name: "shiftwidth",
        short: "sw",
        kind: Type::Int,
    },
    Known {
        name: "smartcase",
        short: "scs",
        kind: Type::Bool,
    },
    Known {
        name: "tabstop",
        short: "ts",
        kind: Type::Int,
    },
    Known {
        name: "undodir",
        short: "udir",
        kind: Type::List,
    },
    Known {
        name: "undofile",
        short: "udf",
        kind: Type::Bool,
    },
];

/// The known setting named `name` (full or short).
fn known(name: &str) -> Option<&'static Known> {
    KNOWN
        .iter()
        .find(|k| k.name == name || (!k.short.is_empty() && k.short == name))
}

/// The known setting a word names, also as `noname`/`invname` for a
/// boolean (`nonu`, `invnumber`).
fn named_setting(word: &str) -> Option<&'static Known> {
    known(word).or_else(|| {
        let bare = word
            .strip_prefix("no")
            .or_else(|| word.strip_prefix("inv"))?;
        known(bare).filter(|k| k.kind == Type::Bool)
    })
}

/// A `:set` line read: its arguments as written and its comment.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SetLine {
    /// What comes before the arguments (`set`, `  se`).
    pub command: String,
    pub args: Vec<String>,
    /// The text after a `"` that starts an argument.
    pub comment: Option<String>,
}

/// `:set` / `:se` with its arguments; `None` for anything else, and for a
/// set with a `|` after it (kept whole).
pub(super) fn parse_set(line: &Line) -> Option<SetLine> {
    if line.raw.contains('\n') {
        return None;
    }
    let code = line.code.as_str();
    let word = command_word(code);
    if word != "set" && word != "se" {
        return None;
    }
    let start = line.raw.find(word)?;
    let command = line.raw[..start + word.len()].to_string();
    let rest = &line.raw[start + word.len()..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    let mut args = Vec::new();
    let mut comment = None;
    let mut word = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                word.push(c);
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            ' ' | '\t' => {
                if !word.is_empty() {
                    args.push(std::mem::take(&mut word));
                }
            }
            '|' => return None,
            '"' if word.is_empty() => {
                comment = Some(chars.collect::<String>().trim().to_string());
                break;
            }
            _ => word.push(c),
        }
    }
    if !word.is_empty() {
        args.push(word);
    }
    Some(SetLine {
        command,
        args,
        comment,
    })
}

/// The value a `:set` argument gives a known setting, when Home Manager
/// writes it back the same (`set name`, `set noname`, `set name=value`).
fn typed_arg(arg: &str) -> Option<(&'static Known, Value)> {
    let name_end = arg
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(arg.len());
    let (name, rest) = arg.split_at(name_end);
    if rest.is_empty() {
        if let Some(k) = known(name).filter(|k| k.kind == Type::Bool) {
            return Some((k, Value::Bool(true)));
        }
        let k = known(name.strip_prefix("no")?).filter(|k| k.kind == Type::Bool)?;
        return Some((k, Value::Bool(false)));
    }
    let value = rest.strip_prefix(['=', ':'])?;
    let k = known(name)?;
    // Home Manager writes the value bare after `=`: escapes would change.
    if value.contains(['\\', ' ', '"', '|']) {
        return None;
    }
    let typed = match k.kind {
        Type::Bool => return None,
        Type::Int => {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Value::Int(value.parse().ok()?)
        }
        Type::Enum(words) => {
            if !words.contains(&value) {
                return None;
            }
            Value::str(value)
        }
        Type::List => {
            let items: Vec<&str> = if value.is_empty() {
                Vec::new()
            } else {
                value.split(',').collect()
            };
            if items.iter().any(|i| i.is_empty()) {
                return None;
            }
            Value::List(items.into_iter().map(Value::str).collect())
        }
    };
    Some((k, typed))
}

/// The known settings a line mentions as words (`&ts`, `vim.o.number`),
/// apart from each command's own name.
fn mentions(code: &str) -> Vec<&'static Known> {
    let mut out = Vec::new();
    for segment in segments(code) {
        let word = command_word(segment);
        let start = segment.find(word).map_or(0, |at| at + word.len());
        for token in segment[start..].split(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
            if let Some(k) = named_setting(token) {
                if !out.iter().any(|o: &&Known| o.name == k.name) {
                    out.push(k);
                }
            }
        }
    }
    out
}

/// A plugin's repository as written in a plugin manager's spec:
/// `owner/name`, or a GitHub URL; `None` for a local path or another host.
pub(super) fn repository(spec: &str) -> Option<(String, String)> {
    let mut s = spec.trim();
    for prefix in [
        "https://github.com/",
        "http://github.com/",
        "git@github.com:",
        "github.com/",
    ] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest;
        }
    }
    let s = s.trim_end_matches('/');
    let s = s.strip_suffix(".git").unwrap_or(s);
    let (owner, name) = s.split_once('/')?;
    let ok = |part: &str| {
        !part.is_empty()
            && !part.starts_with('.')
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    (ok(owner) && ok(name)).then(|| (owner.to_string(), name.to_string()))
}

/// nixpkgs' attribute for a plugin repository: the repository's name with
/// `.` made `-` (`fzf.vim` → `fzf-vim`, case kept), except where nixpkgs
/// names it otherwise; a bare `vim`/`nvim`/`neovim` takes its owner's name
/// in front, as nixpkgs does for those (`dracula/vim` → `dracula-vim`).
pub(super) fn attribute(owner: &str, name: &str) -> String {
    let exact = [
        ("catppuccin/nvim", "catppuccin-nvim"),
        ("rose-pine/neovim", "rose-pine"),
        ("junegunn/fzf", "fzfWrapper"),
    ];
    let key = format!("{owner}/{name}").to_ascii_lowercase();
    if let Some((_, attr)) = exact.iter().find(|(r, _)| *r == key) {
        return attr.to_string();
    }
    let name = name.replace('.', "-");
    if ["vim", "nvim", "neovim"].contains(&name.to_ascii_lowercase().as_str()) {
        return format!("{}-{name}", owner.to_ascii_lowercase());
    }
    name
}

/// Plugins Vim itself ships in `pack/dist/opt`: a `packadd` of one stays.
const BUNDLED: &[&str] = &[
    "cfilter",
    "comment",
    "editexisting",
    "editorconfig",
    "helptoc",
    "hlyank",
    "justify",
    "matchit",
    "nohlsearch",
    "shellmenu",
    "swapmouse",
    "termdebug",
];

/// Which editor reads the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavor {
    Vim,
    Neovim,
}

/// A line's place in the result.
#[derive(Debug, Clone, PartialEq)]
enum Place {
    Extra,
    /// Dropped: what Home Manager does instead (plugin-manager lines).
    Dropped,
    /// Replaced by these lines in `extraConfig` (what `plug#end()` ran).
    Replaced(String),
    /// A plugin (index into the plugins).
    Plugin,
    /// A `:set` some of whose arguments became settings: the rest.
    Rewritten(Option<String>),
    /// A `:set` all of whose arguments became settings.
    Settings,
    /// `let g:loaded_<x>_provider = 0`: this `with*` option is false.
    Provider(&'static str),
    /// The first command, `set nocompatible`: Home Manager's first line.
    NoCompatible,
    Secret,
}

/// What a vimscript file becomes.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Plan {
    /// Typed settings in the order their last line came, with comments.
    pub settings: Vec<(&'static str, Value, Vec<String>)>,
    /// nixpkgs attributes of the plugins, in order, without repeats.
    pub plugins: Vec<String>,
    /// `withNodeJs` ... set false, with comments.
    pub providers: Vec<(&'static str, Vec<String>)>,
    /// The rest, in order.
    pub extra: String,
    pub warnings: Vec<Warning>,
}

/// A plugin-manager line.
#[derive(Debug, Clone, PartialEq)]
enum Manager {
    PlugBegin,
    PlugEnd,
    VundleBegin,
    VundleEnd,
    /// `set rtp+=~/.vim/bundle/Vundle.vim`
    VundleRuntimePath,
    /// vim-plug's self-install `if` block, up to this line index.
    PlugInstall(usize),
    /// `Plug`/`Plugin` lines: for each spec, its text and options.
    Specs(Vec<(String, String)>),
    PackAdd(String),
}

/// The plugin-manager line `line` is, if any.
fn manager(lines: &[Line], at: usize, depth: i32) -> Option<Manager> {
    let line = &lines[at];
    let code = line.code.trim();
    let word = command_word(code);
    let call = |name: &str| {
        word == "call"
            && code[4..]
                .trim_start()
                .strip_prefix(name)
                .is_some_and(|r| r.trim_start().starts_with('('))
    };
    if depth > 0 {
        return None;
    }
    if call("plug#begin") {
        return Some(Manager::PlugBegin);
    }
    if call("plug#end") {
        return Some(Manager::PlugEnd);
    }
    if call("vundle#begin") || call("vundle#rc") {
        return Some(Manager::VundleBegin);
    }
    if call("vundle#end") {
        return Some(Manager::VundleEnd);
    }
    if (word == "set" || word == "se")
        && (code.contains("rtp+=") || code.contains("runtimepath+="))
        && code.to_ascii_lowercase().contains("vundle")
        && !code.contains('|')
    {
        return Some(Manager::VundleRuntimePath);
    }
    if word == "if" && (code.contains("plug.vim") || code.contains("vim-plug")) {
        // The block up to its `endif`.
        let mut level = 0;
        for (k, l) in lines.iter().enumerate().skip(at) {
            if l.kind == Kind::Command {
                level += segments(&l.code)
                    .iter()
                    .map(|s| block_change(s))
                    .sum::<i32>();
            }
            if level == 0 {
                return Some(Manager::PlugInstall(k));
            }
        }
        return None;
    }
    if ["Plug", "Plugin", "Bundle"].contains(&word) {
        let mut specs = Vec::new();
        for segment in segments(code) {
            let segment = segment.trim();
            let w = command_word(segment);
            if !["Plug", "Plugin", "Bundle"].contains(&w) {
                return None;
            }
            specs.push(spec(segment[w.len()..].trim())?);
        }
        return Some(Manager::Specs(specs));
    }
    if word == "packadd" || word == "pa" {
        let name = code[word.len()..].trim_start();
        let name = name.strip_prefix('!').unwrap_or(name).trim();
        if !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && !BUNDLED.contains(&name)
        {
            return Some(Manager::PackAdd(name.to_string()));
        }
    }
    None
}

/// `'owner/name'` or `'owner/name', { ... }`: the spec and its options'
/// text.
fn spec(args: &str) -> Option<(String, String)> {
    let quote = args.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let end = args[1..].find(quote)? + 1;
    let spec = args[1..end].to_string();
    let rest = args[end + 1..].trim();
    let options = match rest.strip_prefix(',') {
        Some(o) => o.trim().to_string(),
        None if rest.is_empty() => String::new(),
        None => return None,
    };
    Some((spec, options))
}

/// The keys of a vim-plug options dictionary (`{ 'do': ..., 'on': ... }`).
fn option_keys(options: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let chars: Vec<char> = options.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' || c == '"' {
            let start = i + 1;
            let mut end = start;
            while end < chars.len() && chars[end] != c {
                end += 1;
            }
            let word: String = chars[start..end.min(chars.len())].iter().collect();
            let mut after = end + 1;
            while after < chars.len() && chars[after] == ' ' {
                after += 1;
            }
            if chars.get(after) == Some(&':') {
                keys.push(word);
            }
            i = end + 1;
        } else {
            i += 1;
        }
    }
    keys
}

/// What Home Manager does instead of a vim-plug option.
fn option_note(key: &str) -> &'static str {
    match key {
        "do" => "nixpkgs builds the plugin, there is no post-install hook",
        "for" | "on" => "Home Manager loads every plugin at startup",
        "branch" | "tag" | "commit" => "nixpkgs pins its own version",
        "rtp" => "nixpkgs packages the repository's root",
        _ => "Home Manager has no equivalent",
    }
}

/// The provider a `let g:loaded_<x>_provider = 0` turns off, by its
/// neovim option.
fn provider(code: &str) -> Option<&'static str> {
    let rest = code.strip_prefix("let")?.trim_start();
    let (name, value) = rest.split_once('=')?;
    if value.trim() != "0" {
        return None;
    }
    match name.trim() {
        "g:loaded_node_provider" => Some("withNodeJs"),
        "g:loaded_python3_provider" => Some("withPython3"),
        "g:loaded_ruby_provider" => Some("withRuby"),
        "g:loaded_perl_provider" => Some("withPerl"),
        _ => None,
    }
}

/// Whether a line holds a credential: `let g:openai_api_key = "..."`,
/// `let $GITHUB_TOKEN = '...'`, or a token's shape anywhere.
fn secret(code: &str) -> bool {
    if looks_secret("", code) {
        return true;
    }
    let Some(rest) = code.strip_prefix("let") else {
        return false;
    };
    let Some((name, value)) = rest.split_once('=') else {
        return false;
    };
    let name = name.trim().trim_end_matches(['.', '+', '-']);
    let name = name.rsplit([':', '$']).next().unwrap_or(name);
    let value = value.trim().trim_matches(['\'', '"']);
    // A value read at runtime (`$TOKEN`, `readfile(...)`) is no secret.
    let literal = code.contains(['\'', '"'])
        && !value.contains('(')
        && !value.starts_with('$')
        && !value.is_empty();
    literal && looks_secret(name, value)
}

/// Sorts a vimscript file's lines (see the module's comment).
pub(super) fn plan(source: Source<'_>, flavor: Flavor) -> Result<Plan, MigrateError> {
    let lines = read(source.text);
    let refuse = |line: usize, message: String| MigrateError::Syntax {
        path: source.path.to_string(),
        line,
        message,
    };
    // Block depth before each line; an `end...` without its opener, or an
    // opener never closed, is what Vim reports as E580/E171/E126.
    let mut depth = Vec::with_capacity(lines.len());
    let mut level = 0i32;
    let mut opened: Vec<usize> = Vec::new();
    for line in &lines {
        depth.push(level);
        if line.kind != Kind::Command || heredoc(&line.code).is_some() {
            continue;
        }
        for segment in segments(&line.code) {
            match block_change(segment) {
                1 => {
                    level += 1;
                    opened.push(line.number);
                }
                -1 => {
                    level -= 1;
                    opened.pop();
                    if level < 0 {
                        return Err(refuse(
                            line.number,
                            format!("`{}` closes no block", command_word(segment)),
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(line) = opened.first() {
        return Err(refuse(*line, "this block is never closed".into()));
    }

    let mut plan = Plan::default();
    let mut places = vec![Place::Extra; lines.len()];
    for (i, line) in lines.iter().enumerate() {
        if line.kind == Kind::Command && secret(&line.code) {
            places[i] = Place::Secret;
            plan.warnings.push(Warning {
                line: Some(line.number),
                message: "this line looks like it holds a secret: left out, because what Home Manager writes is readable by every user in /nix/store; read it at runtime instead (`let g:x = trim(readfile(expand('~/.config/x/key'))[0])`, or an environment variable)".into(),
            });
        }
    }

    plugin_managers(&lines, &depth, &mut places, &mut plan);

    if flavor == Flavor::Neovim {
        for (i, line) in lines.iter().enumerate() {
            if places[i] != Place::Extra || depth[i] > 0 || line.raw.contains('\n') {
                continue;
            }
            if let Some(option) = provider(&line.code) {
                places[i] = Place::Provider(option);
            }
        }
    }

    if flavor == Flavor::Vim {
        // Home Manager's vimrc starts with `set nocompatible`: the file's
        // own, as its first command, is that line.
        let first = lines
            .iter()
            .enumerate()
            .find(|(i, l)| l.kind == Kind::Command && places[*i] != Place::Secret);
        if let Some((i, line)) = first {
            let only = parse_set(line).is_some_and(|s| {
                s.args.len() == 1 && ["nocompatible", "nocp"].contains(&s.args[0].as_str())
            });
            if only && places[i] == Place::Extra {
                places[i] = Place::NoCompatible;
            }
        }
        settings(&lines, &depth, &mut places, &mut plan);
    }

    assemble(&lines, &places, &mut plan);
    Ok(plan)
}

/// Converts vim-plug's, Vundle's and `packadd` lines, all or none: a
/// plugin line that cannot convert, or one inside a block, leaves them all
/// in place (with the manager still installing them).
fn plugin_managers(lines: &[Line], depth: &[i32], places: &mut [Place], plan: &mut Plan) {
    let found: Vec<(usize, Manager)> = (0..lines.len())
        .filter(|i| lines[*i].kind == Kind::Command && places[*i] == Place::Extra)
        .filter_map(|i| manager(lines, i, depth[i]).map(|m| (i, m)))
        .collect();
    let has = |want: &dyn Fn(&Manager) -> bool| found.iter().any(|(_, m)| want(m));
    let plug = has(&|m| *m == Manager::PlugBegin);
    let vundle = has(&|m| *m == Manager::VundleBegin);
    // A plugin line nested in a block, or one that names no repository.
    let nested = lines.iter().enumerate().find(|(i, l)| {
        depth[*i] > 0
            && l.kind == Kind::Command
            && ["Plug", "Plugin", "Bundle"].contains(&command_word(&l.code))
    });
    let mut specs = Vec::new();
    let mut bad = nested.map(|(_, l)| l.number);
    for (i, m) in &found {
        if let Manager::Specs(list) = m {
            for (spec, options) in list {
                match repository(spec) {
                    Some(repo) => specs.push((*i, repo, options.clone())),
                    None => bad = bad.or(Some(lines[*i].number)),
                }
            }
        }
    }
    let managed = plug || vundle;
    if !specs.is_empty() && (!managed || bad.is_some()) {
        plan.warnings.push(Warning {
            line: bad.or_else(|| specs.first().map(|(i, ..)| lines[*i].number)),
            message: "the plugin manager's lines are kept as written (a plugin that names no GitHub repository, one inside a block, or no `plug#begin`/`vundle#begin`): it keeps installing and loading them; move them to `plugins` by hand".into(),
        });
        return;
    }
    let mut first_manager_line = None;
    for (i, m) in &found {
        match m {
            Manager::PlugBegin
            | Manager::VundleBegin
            | Manager::VundleEnd
            | Manager::VundleRuntimePath => {
                places[*i] = Place::Dropped;
                first_manager_line = first_manager_line.or(Some(lines[*i].number));
            }
            Manager::PlugEnd => {
                // What `plug#end()` ran, which nothing else now runs.
                places[*i] = Place::Replaced("filetype plugin indent on\nsyntax enable".into());
            }
            Manager::PlugInstall(end) => {
                for place in places.iter_mut().take(*end + 1).skip(*i) {
                    *place = Place::Dropped;
                }
            }
            Manager::Specs(_) if managed => {
                places[*i] = Place::Plugin;
                add_specs(lines, *i, &specs, plan);
            }
            Manager::Specs(_) => {}
            Manager::PackAdd(name) => {
                places[*i] = Place::Plugin;
                push_plugin(plan, name.replace('.', "-"));
                plan.warnings.push(Warning {
                    line: Some(lines[*i].number),
                    message: format!("`packadd {name}` became the plugin `{}`, named from the folder's name: check it exists in nixpkgs' vimPlugins; Home Manager loads it after the vimrc, not at this line", name.replace('.', "-")),
                });
            }
        }
    }
    if let Some(line) = first_manager_line {
        plan.warnings.push(Warning {
            line: Some(line),
            message: "the plugin manager's lines are left out: Home Manager installs `plugins` from nixpkgs (names follow nixpkgs' vimPlugins: the repository's name with `.` as `-`; check each exists) and loads them after the vimrc, as the plugin manager did".into(),
        });
    }
}

/// The plugins of the plugin line at `line_at`, with a warning for the
/// options each drops.
fn add_specs(
    lines: &[Line],
    line_at: usize,
    specs: &[(usize, (String, String), String)],
    plan: &mut Plan,
) {
    for (i, (owner, name), options) in specs.iter().filter(|(at, ..)| *at == line_at) {
        let i = *i;
        let own = [
            "vundlevim/vundle.vim",
            "gmarik/vundle.vim",
            "junegunn/vim-plug",
        ]
        .contains(&format!("{owner}/{name}").to_ascii_lowercase().as_str());
        if own {
            continue;
        }
        push_plugin(plan, attribute(owner, name));
        let keys = option_keys(options);
        if !keys.is_empty() {
            let notes: Vec<String> = keys
                .iter()
                .map(|k| format!("`{k}` ({})", option_note(k)))
                .collect();
            plan.warnings.push(Warning {
                line: Some(lines[i].number),
                message: format!(
                    "the options of `{owner}/{name}` are not kept: {}",
                    notes.join(", ")
                ),
            });
        }
    }
}

fn push_plugin(plan: &mut Plan, attr: String) {
    if !plan.plugins.contains(&attr) {
        plan.plugins.push(attr);
    }
}

/// Chooses the settings that become typed (see the module's comment).
fn settings(lines: &[Line], depth: &[i32], places: &mut [Place], plan: &mut Plan) {
    // The first line that runs other code at load time.
    let barrier = lines
        .iter()
        .enumerate()
        .find(|(i, l)| {
            if l.kind != Kind::Command || places[*i] != Place::Extra {
                return false;
            }
            let word = command_word(&l.code);
            let rest = l.code[word.len()..].trim_start();
            let runs = [
                "so",
                "source",
                "ru",
                "runtime",
                "colo",
                "colorscheme",
                "exe",
                "execute",
                "pa",
                "packadd",
            ]
            .contains(&word)
                // `packadd!` only adds to the runtime path.
                && !(word.starts_with("pa") && rest.starts_with('!'))
                || abbreviates(word, "execute", 3)
                || abbreviates(word, "source", 2)
                || abbreviates(word, "runtime", 2);
            let compatible = parse_set(l).is_some_and(|s| {
                s.args.iter().any(|a| {
                    let name = a.trim_end_matches(['&', '!']);
                    [
                        "compatible",
                        "cp",
                        "nocompatible",
                        "nocp",
                        "all",
                        "invcp",
                        "invcompatible",
                    ]
                    .contains(&name)
                        || a.starts_with("all&")
                })
            });
            runs || compatible
        })
        .map_or(usize::MAX, |(i, _)| i);

    // Every mention of each setting: converting ones (line, value) and
    // any that cannot.
    let mut typed: Vec<(&'static str, Vec<(usize, Value)>)> = Vec::new();
    let mut blocked: Vec<&'static str> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.kind != Kind::Command || places[i] != Place::Extra {
            continue;
        }
        let set = (depth[i] == 0).then(|| parse_set(line)).flatten();
        match set {
            Some(set) => {
                for arg in &set.args {
                    match typed_arg(arg) {
                        Some((k, value)) => match typed.iter_mut().find(|(n, _)| *n == k.name) {
                            Some((_, found)) => found.push((i, value)),
                            None => typed.push((k.name, vec![(i, value)])),
                        },
                        None => {
                            let name: String = arg
                                .chars()
                                .take_while(|c| c.is_ascii_alphanumeric())
                                .collect();
                            if let Some(k) = named_setting(&name) {
                                blocked.push(k.name);
                            }
                        }
                    }
                }
            }
            None => {
                let word = command_word(&line.code);
                if depth[i] == 0 && deferred(word) {
                    continue;
                }
                blocked.extend(mentions(&line.code).iter().map(|k| k.name));
            }
        }
    }
    typed
        .retain(|(name, found)| !blocked.contains(name) && found.iter().all(|(i, _)| *i < barrier));
    if typed.is_empty() {
        return;
    }
    // Which arguments leave each line.
    let chosen =
        |arg: &str| typed_arg(arg).is_some_and(|(k, _)| typed.iter().any(|(n, _)| *n == k.name));
    for (i, line) in lines.iter().enumerate() {
        if places[i] != Place::Extra || depth[i] > 0 {
            continue;
        }
        let Some(set) = parse_set(line) else {
            continue;
        };
        if !set.args.iter().any(|a| chosen(a)) {
            continue;
        }
        let rest: Vec<&str> = set
            .args
            .iter()
            .filter(|a| !chosen(a))
            .map(String::as_str)
            .collect();
        places[i] = if rest.is_empty() {
            Place::Settings
        } else {
            let mut text = format!("{} {}", set.command, rest.join(" "));
            if let Some(comment) = &set.comment {
                text.push_str(&format!(" \" {comment}"));
            }
            Place::Rewritten(Some(text))
        };
    }
    // Settings in the order of their last line; the value is the last.
    typed.sort_by_key(|(_, found)| found.last().map_or(0, |(i, _)| *i));
    for (name, found) in typed {
        if let Some((_, value)) = found.last() {
            plan.settings.push((name, value.clone(), Vec::new()));
        }
    }
}

/// Writes `extraConfig` and moves comments to the options they describe:
/// the comments right above a line that became options, and its own.
fn assemble(lines: &[Line], places: &[Place], plan: &mut Plan) {
    let mut extra = String::new();
    let mut pending: Vec<&Line> = Vec::new();
    let flush = |pending: &mut Vec<&Line>, extra: &mut String| {
        for line in pending.drain(..) {
            extra.push_str(&line.raw);
            extra.push('\n');
        }
    };
    for (i, line) in lines.iter().enumerate() {
        let comments = |pending: &mut Vec<&Line>| -> Vec<String> {
            pending
                .drain(..)
                .map(|l| l.code.trim_start_matches('"').trim().to_string())
                .collect()
        };
        match line.kind {
            Kind::Blank => {
                flush(&mut pending, &mut extra);
                extra.push('\n');
                continue;
            }
            Kind::Comment => {
                if looks_secret("", &line.code) {
                    plan.warnings.push(Warning {
                        line: Some(line.number),
                        message: "a comment looks like it holds a secret: left out".into(),
                    });
                } else {
                    pending.push(line);
                }
                continue;
            }
            Kind::Command => {}
        }
        match &places[i] {
            Place::Extra => {
                flush(&mut pending, &mut extra);
                extra.push_str(&line.raw);
                extra.push('\n');
            }
            Place::Rewritten(text) => {
                flush(&mut pending, &mut extra);
                extra.push_str(text.as_deref().unwrap_or(&line.raw));
                extra.push('\n');
            }
            Place::Replaced(text) => {
                flush(&mut pending, &mut extra);
                extra.push_str(text);
                extra.push('\n');
            }
            Place::Settings => {
                let mut notes = comments(&mut pending);
                notes.extend(
                    parse_set(line)
                        .and_then(|s| s.comment)
                        .filter(|c| !c.is_empty() && !looks_secret("", c)),
                );
                // The comments go with the first setting the line set.
                let first = parse_set(line).and_then(|s| {
                    s.args
                        .iter()
                        .find_map(|a| typed_arg(a))
                        .map(|(k, _)| k.name)
                });
                if let Some(entry) = plan.settings.iter_mut().find(|(n, ..)| Some(*n) == first) {
                    entry.2.extend(notes);
                }
            }
            Place::Provider(option) => {
                let notes = comments(&mut pending);
                match plan.providers.iter_mut().find(|(o, _)| o == option) {
                    Some((_, c)) => c.extend(notes),
                    None => plan.providers.push((option, notes)),
                }
            }
            Place::NoCompatible => {
                plan.warnings.push(Warning {
                    line: Some(line.number),
                    message: "`set nocompatible` is left out: Home Manager's vim starts its vimrc with it".into(),
                });
                // Comments above the first line head the file.
                flush(&mut pending, &mut extra);
            }
            // Comments above boilerplate described it.
            Place::Dropped => pending.clear(),
            Place::Plugin | Place::Secret => pending.clear(),
        }
    }
    flush(&mut pending, &mut extra);
    plan.extra = super::tidy(&extra);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_as_vim_reads_them() {
        let lines = read("\" comment\nset nu\nlet x = [\n      \\ 1,\n      \"\\ two\n      \\ 2]\nlua << EOF\nlocal x = \"a\" -- b\n\\ not a continuation\nEOF\n:  call Foo()\n");
        let kinds: Vec<(usize, Kind, &str)> = lines
            .iter()
            .map(|l| (l.number, l.kind, l.code.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (1, Kind::Comment, "\" comment"),
                (2, Kind::Command, "set nu"),
                (3, Kind::Command, "let x = [ 1, 2]"),
                (7, Kind::Command, "lua << EOF"),
                (11, Kind::Command, "call Foo()"),
            ]
        );
        assert_eq!(lines[3].raw.lines().count(), 4);
    }

    #[test]
    fn set_arguments() {
        let line = &read("set nu ts=4 path+=** \" numbers\n")[0];
        let set = parse_set(line).unwrap();
        assert_eq!(set.args, ["nu", "ts=4", "path+=**"]);
        assert_eq!(set.comment.as_deref(), Some("numbers"));
        assert_eq!(parse_set(&read("set nu | set ts=2\n")[0]), None);
        assert_eq!(parse_set(&read("setlocal nu\n")[0]), None);
        assert_eq!(
            typed_arg("nonu").map(|(k, v)| (k.name, v)),
            Some(("number", Value::Bool(false)))
        );
        assert_eq!(
            typed_arg("sw:2").map(|(k, v)| (k.name, v)),
            Some(("shiftwidth", Value::Int(2)))
        );
        assert_eq!(typed_arg("mouse=nv"), None);
        assert_eq!(typed_arg("nu!"), None);
        assert_eq!(typed_arg("undodir=~/.vim/undo\\,x"), None);
        assert_eq!(
            typed_arg("bdir=~/.vim/backup//,/tmp").map(|(_, v)| v),
            Some(Value::List(vec![
                Value::str("~/.vim/backup//"),
                Value::str("/tmp")
            ]))
        );
    }

    #[test]
    fn plugin_names_follow_nixpkgs() {
        let attr = |spec: &str| {
            let (o, n) = repository(spec).unwrap();
            attribute(&o, &n)
        };
        assert_eq!(attr("tpope/vim-fugitive"), "vim-fugitive");
        assert_eq!(attr("junegunn/fzf.vim"), "fzf-vim");
        assert_eq!(
            attr("https://github.com/preservim/nerdtree.git"),
            "nerdtree"
        );
        assert_eq!(attr("jackMort/ChatGPT.nvim"), "ChatGPT-nvim");
        assert_eq!(attr("dracula/vim"), "dracula-vim");
        assert_eq!(attr("junegunn/fzf"), "fzfWrapper");
        assert_eq!(repository("~/src/my-plugin"), None);
        assert_eq!(repository("https://gitlab.com/a/b"), None);
    }
}
