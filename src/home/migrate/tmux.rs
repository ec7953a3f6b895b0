//! `~/.tmux.conf` into `programs.tmux`. Read as tmux's `cmd-parse.y`
//! reads it: `\` at the end of a line continues it, `'...'` is literal,
//! `"..."` and bare words take `\` escapes (and `$VAR`, `~`), quotes may
//! span lines, `#` where a word would start comments to the end of the
//! line, `;` separates commands, `{ ... }` holds commands over several
//! lines, `%if`/`%elif`/`%else`/`%endif` are conditions. tmux parses the
//! whole file before running any of it and runs none of a file with a
//! syntax error or an unknown command; this converter refuses the same.
//!
//! Home Manager writes its own lines first (`set -g mouse off`, ... for
//! every typed option, whether set or not), then each plugin's
//! `extraConfig` and `run-shell`, then `extraConfig`. So a setting may
//! become a typed option only where moving it to the top changes nothing
//! (nothing before it that could set it too: `source-file`, `if-shell`,
//! `%if`, `run-shell`), and everything else stays in `extraConfig`, in
//! order, where it overrides Home Manager's lines as it did tmux's
//! defaults.
//!
//! Choice: every typed option the file sets is written, even at Home
//! Manager's default (`historyLimit = 2000`): the user said it, and it
//! survives a change of Home Manager's default. An option the file leaves
//! at tmux's default is written only where Home Manager's forced line
//! would differ from that default (`clock24`).

use super::nix::{Attrs, Value};
use super::{looks_secret, tidy, Converted, Files, MigrateError, Release, Source, Warning};

/// tmux's commands (master, 2026) and their aliases; a unique prefix of
/// a name also names it.
const COMMANDS: &[(&str, &str)] = &[
    ("attach-session", "attach"),
    ("bind-key", "bind"),
    ("break-pane", "breakp"),
    ("capture-pane", "capturep"),
    ("choose-buffer", ""),
    ("choose-client", ""),
    ("choose-tree", ""),
    ("clear-history", "clearhist"),
    ("clear-prompt-history", "clearphist"),
    ("clock-mode", ""),
    ("command-prompt", ""),
    ("confirm-before", "confirm"),
    ("copy-mode", ""),
    ("customize-mode", ""),
    ("delete-buffer", "deleteb"),
    ("detach-client", "detach"),
    ("display-menu", "menu"),
    ("display-message", "display"),
    ("display-panes", "displayp"),
    ("display-popup", "popup"),
    ("find-window", "findw"),
    ("has-session", "has"),
    ("if-shell", "if"),
    ("join-pane", "joinp"),
    ("kill-pane", "killp"),
    ("kill-server", ""),
    ("kill-session", ""),
    ("kill-window", "killw"),
    ("last-pane", "lastp"),
    ("last-window", "last"),
    ("link-window", "linkw"),
    ("list-buffers", "lsb"),
    ("list-clients", "lsc"),
    ("list-commands", "lscm"),
    ("list-keys", "lsk"),
    ("list-panes", "lsp"),
    ("list-sessions", "ls"),
    ("list-windows", "lsw"),
    ("load-buffer", "loadb"),
    ("lock-client", "lockc"),
    ("lock-server", "lock"),
    ("lock-session", "locks"),
    ("move-pane", "movep"),
    ("move-window", "movew"),
    ("new-pane", "newp"),
    ("new-session", "new"),
    ("new-window", "neww"),
    ("next-layout", "nextl"),
    ("next-window", "next"),
    ("paste-buffer", "pasteb"),
    ("pipe-pane", "pipep"),
    ("previous-layout", "prevl"),
    ("previous-window", "prev"),
    ("refresh-client", "refresh"),
    ("rename-session", "rename"),
    ("rename-window", "renamew"),
    ("resize-pane", "resizep"),
    ("resize-window", "resizew"),
    ("respawn-pane", "respawnp"),
    ("respawn-window", "respawnw"),
    ("rotate-window", "rotatew"),
    ("run-shell", "run"),
    ("save-buffer", "saveb"),
    ("select-layout", "selectl"),
    ("select-pane", "selectp"),
    ("select-window", "selectw"),
    ("send-keys", "send"),
    ("send-prefix", ""),
    ("server-access", ""),
    ("set-buffer", "setb"),
    ("set-environment", "setenv"),
    ("set-hook", ""),
    ("set-option", "set"),
    ("set-window-option", "setw"),
    ("show-buffer", "showb"),
    ("show-environment", "showenv"),
    ("show-hooks", ""),
    ("show-messages", "showmsgs"),
    ("show-options", "show"),
    ("show-prompt-history", "showphist"),
    ("show-window-options", "showw"),
    ("source-file", "source"),
    ("split-window", "splitw"),
    ("start-server", "start"),
    ("suspend-client", "suspendc"),
    ("swap-pane", "swapp"),
    ("swap-window", "swapw"),
    ("switch-client", "switchc"),
    ("switch-mode", ""),
    ("unbind-key", "unbind"),
    ("unlink-window", "unlinkw"),
    ("wait-for", "wait"),
];

/// The command `word` names, as tmux's `cmd_find` finds it.
fn command(word: &str) -> Result<&'static str, String> {
    if let Some((name, _)) = COMMANDS.iter().find(|(n, a)| *a == word || *n == word) {
        return Ok(name);
    }
    let mut found = COMMANDS.iter().filter(|(n, _)| n.starts_with(word));
    match (found.next(), found.next()) {
        (Some((name, _)), None) => Ok(name),
        (Some(_), Some(_)) => Err(format!("ambiguous command: {word}")),
        _ => Err(format!("unknown command: {word}")),
    }
}

/// nixpkgs' `tmuxPlugins` (pkgs/misc/tmux-plugins, 2026) by the GitHub
/// repository TPM's `@plugin` names, lowercased.
const PLUGINS: &[(&str, &str)] = &[
    ("tmux-plugins/tmux-battery", "battery"),
    ("nhdaly/tmux-better-mouse-mode", "better-mouse-mode"),
    ("catppuccin/tmux", "catppuccin"),
    ("tmux-plugins/tmux-continuum", "continuum"),
    ("crispyconductor/tmux-copy-toolkit", "copy-toolkit"),
    ("tmux-plugins/tmux-copycat", "copycat"),
    ("tmux-plugins/tmux-cpu", "cpu"),
    ("eraserhd/tmux-ctrlw", "ctrlw"),
    ("dracula/tmux", "dracula"),
    ("vaaleyard/tmux-dotbar", "dotbar"),
    ("laktak/extrakto", "extrakto"),
    ("morantron/tmux-fingers", "fingers"),
    ("tmux-plugins/tmux-fpp", "fpp"),
    ("roosta/tmux-fuzzback", "fuzzback"),
    ("wfxr/tmux-fzf-url", "fzf-tmux-url"),
    ("egel/tmux-gruvbox", "gruvbox"),
    ("chaitanyabsprip/tmux-harpoon", "harpoon"),
    ("schasse/tmux-jump", "jump"),
    ("nybkox/tmux-ukiyo", "ukiyo"),
    ("bcampolo/tmux-lazy-restore", "lazy-restore"),
    ("tmux-plugins/tmux-logging", "logging"),
    ("semi710/minimal-tmux-status", "minimal-tmux-status"),
    ("muniftanjim/tmux-mode-indicator", "mode-indicator"),
    ("tmux-plugins/tmux-net-speed", "net-speed"),
    ("nordtheme/tmux", "nord"),
    ("arcticicestudio/nord-tmux", "nord"),
    ("tmux-plugins/tmux-maildir-counter", "maildir-counter"),
    ("tmux-plugins/tmux-online-status", "online-status"),
    ("tmux-plugins/tmux-open", "open"),
    ("odedlaz/tmux-onedark-theme", "onedark-theme"),
    ("tmux-plugins/tmux-pain-control", "pain-control"),
    ("rafi/tmux-pass", "pass"),
    ("eraserhd/tmux-plumb", "plumb"),
    ("wfxr/tmux-power", "power-theme"),
    ("tmux-plugins/tmux-prefix-highlight", "prefix-highlight"),
    ("tmux-plugins/tmux-resurrect", "resurrect"),
    ("rose-pine/tmux", "rose-pine"),
    ("multi-io/tmux-search-panes", "search-panes"),
    ("tmux-plugins/tmux-sensible", "sensible"),
    ("27medkamal/tmux-session-wizard", "session-wizard"),
    ("tmux-plugins/tmux-sessionist", "sessionist"),
    ("tmux-plugins/tmux-sidebar", "sidebar"),
    ("samoshkin/tmux-plugin-sysstat", "sysstat"),
    ("jabirali/tmux-tilish", "tilish"),
    ("janoamaral/tokyo-night-tmux", "tokyo-night-tmux"),
    ("seebi/tmux-colors-solarized", "tmux-colors-solarized"),
    ("omerxx/tmux-floax", "tmux-floax"),
    ("sainnhe/tmux-fzf", "tmux-fzf"),
    ("erikw/tmux-powerline", "tmux-powerline"),
    ("philvoel/tmux-session-manager", "tmux-session-manager"),
    ("omerxx/tmux-sessionx", "tmux-sessionx"),
    ("vimlinuz/tmux-sm", "tmux-sm"),
    ("fcsonline/tmux-thumbs", "tmux-thumbs"),
    (
        "joshmedeski/t-smart-tmux-session-manager",
        "t-smart-tmux-session-manager",
    ),
    ("tmux-plugins/tmux-urlview", "urlview"),
    (
        "tmux-plugins/vim-tmux-focus-events",
        "vim-tmux-focus-events",
    ),
    ("christoomey/vim-tmux-navigator", "vim-tmux-navigator"),
    ("xamut/tmux-weather", "weather"),
    ("alexwforsythe/tmux-which-key", "tmux-which-key"),
    ("tmux-plugins/tmux-yank", "yank"),
    ("o0th/tmux-nova", "tmux-nova"),
    ("loichyan/tmux-toggle-popup", "tmux-toggle-popup"),
    ("subbeh/tmux-tpad", "tmux-tpad"),
    ("ofirgall/tmux-window-name", "tmux-window-name"),
];

/// `owner/repo` of a TPM plugin spec (`owner/repo`, `owner/repo#branch`,
/// a GitHub URL), lowercased.
fn repository(spec: &str) -> String {
    let spec = spec.split('#').next().unwrap_or(spec).trim_end_matches('/');
    let spec = spec.strip_suffix(".git").unwrap_or(spec);
    let parts: Vec<&str> = spec.rsplit(['/', ':']).take(2).collect();
    match parts.as_slice() {
        [repo, owner] => format!("{owner}/{repo}").to_ascii_lowercase(),
        _ => spec.to_ascii_lowercase(),
    }
}

/// A word of a command, as tmux reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    text: String,
    /// Has `$VAR` or `~` that tmux expands: its value is not known here.
    expands: bool,
}

/// A statement: one line or more (continued, quoted, braced), with its
/// commands.
#[derive(Debug, Clone, PartialEq)]
struct Statement {
    line: usize,
    /// The lines as written.
    text: String,
    commands: Vec<Vec<Word>>,
    braces: bool,
    /// A comment at the end of the last line.
    comment: Option<String>,
}

/// The file's parts, in order.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Blank,
    /// A comment line: its text as written and without `#`.
    Comment(usize, String, String),
    Statement(Statement),
    /// `%if` ... `%endif`, kept as written.
    Condition(usize, String),
}

/// The file as tmux parses it, or the line it refuses and why.
fn parse(text: &str) -> Result<Vec<Part>, (usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim();
        if trimmed.is_empty() {
            parts.push(Part::Blank);
            i += 1;
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            parts.push(Part::Comment(
                i + 1,
                lines[i].to_string(),
                comment.trim().to_string(),
            ));
            i += 1;
            continue;
        }
        let (statement, next) = statement(&lines, i)?;
        i = next;
        parts.push(Part::Statement(statement));
    }
    conditions(parts)
}

/// The statement starting at `lines[start]`, and the index of the line
/// after it.
fn statement(lines: &[&str], start: usize) -> Result<(Statement, usize), (usize, String)> {
    let mut commands: Vec<Vec<Word>> = vec![Vec::new()];
    let mut word: Option<Word> = None;
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    let mut braces = false;
    let mut comment = None;
    let mut i = start;
    loop {
        let Some(line) = lines.get(i) else {
            if depth > 0 {
                return Err((start + 1, "unclosed `{`".into()));
            }
            // tmux ends an open quote at the end of the file.
            break;
        };
        i += 1;
        let trailing = line.len() - line.trim_end_matches('\\').len();
        let continued = trailing % 2 == 1;
        let body = if continued {
            &line[..line.len() - 1]
        } else {
            line
        };
        let chars: Vec<char> = body.chars().collect();
        let mut k = 0;
        let end_word = |word: &mut Option<Word>, commands: &mut Vec<Vec<Word>>| {
            if let Some(w) = word.take() {
                commands.last_mut().expect("a command").push(w);
            }
        };
        while k < chars.len() {
            let c = chars[k];
            k += 1;
            match quote {
                Some(q) if c == q => quote = None,
                Some(q) => {
                    let w = word.get_or_insert(Word {
                        text: String::new(),
                        expands: false,
                    });
                    if q == '"' && c == '\\' && k < chars.len() {
                        w.text.push(chars[k]);
                        k += 1;
                    } else {
                        w.expands |= q == '"' && c == '$';
                        w.text.push(c);
                    }
                }
                None => match c {
                    ' ' | '\t' => end_word(&mut word, &mut commands),
                    '#' if word.is_none() => {
                        comment = Some(chars[k..].iter().collect::<String>().trim().to_string());
                        break;
                    }
                    ';' => {
                        end_word(&mut word, &mut commands);
                        commands.push(Vec::new());
                    }
                    '{' if word.is_none() => {
                        depth += 1;
                        braces = true;
                    }
                    '}' => {
                        end_word(&mut word, &mut commands);
                        if depth == 0 {
                            return Err((i, "unmatched `}`".into()));
                        }
                        depth -= 1;
                    }
                    _ => {
                        let fresh = word.is_none();
                        let w = word.get_or_insert(Word {
                            text: String::new(),
                            expands: false,
                        });
                        match c {
                            '\'' | '"' => quote = Some(c),
                            '\\' if k < chars.len() => {
                                w.text.push(chars[k]);
                                k += 1;
                            }
                            _ => {
                                w.expands |= c == '$' || (c == '~' && fresh);
                                w.text.push(c);
                            }
                        }
                    }
                },
            }
        }
        if continued {
            continue;
        }
        if let Some(w) = word.as_mut().filter(|_| quote.is_some()) {
            w.text.push('\n');
            continue;
        }
        end_word(&mut word, &mut commands);
        if depth > 0 {
            commands.push(Vec::new());
            comment = None;
            continue;
        }
        break;
    }
    commands.retain(|c| !c.is_empty());
    let statement = Statement {
        line: start + 1,
        text: lines[start..i].join("\n"),
        commands,
        braces,
        comment,
    };
    Ok((statement, i))
}

/// `%if` ... `%endif` grouped into one part each; a stray `%else` or
/// `%endif`, an unclosed `%if` or an unknown command outside them refused.
fn conditions(parts: Vec<Part>) -> Result<Vec<Part>, (usize, String)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, String, usize)> = None;
    for part in parts {
        let keyword = match &part {
            Part::Statement(s) => s
                .commands
                .first()
                .and_then(|c| c.first())
                .map(|w| w.text.as_str()),
            _ => None,
        };
        let (line, text) = match &part {
            Part::Statement(s) => (s.line, s.text.clone()),
            Part::Comment(line, text, _) => (*line, text.clone()),
            Part::Blank | Part::Condition(..) => (0, String::new()),
        };
        match (keyword, open.as_mut()) {
            (Some("%if"), None) => open = Some((line, text, 1)),
            (Some(k), Some((_, body, depth))) => {
                body.push('\n');
                body.push_str(&text);
                match k {
                    "%if" => *depth += 1,
                    "%endif" => *depth -= 1,
                    _ => {}
                }
                if *depth == 0 {
                    let (start, body, _) = open.take().expect("open");
                    out.push(Part::Condition(start, body));
                }
            }
            (None, Some((_, body, _))) => {
                body.push('\n');
                body.push_str(&text);
            }
            (Some(k @ ("%else" | "%elif" | "%endif")), None) => {
                return Err((line, format!("`{k}` without `%if`")));
            }
            (Some(k), None)
                if k.starts_with('%')
                    && k != "%hidden"
                    && !k.chars().all(|c| c == '%' || c.is_ascii_digit()) =>
            {
                return Err((line, format!("unknown condition `{k}`")));
            }
            (Some(_), None) => {
                if let Part::Statement(s) = &part {
                    check_commands(s)?;
                }
                out.push(part);
            }
            (None, None) => out.push(part),
        }
    }
    if let Some((line, ..)) = open {
        return Err((line, "`%if` without `%endif`".into()));
    }
    Ok(out)
}

/// Every command of a statement must be one tmux knows (an assignment
/// `NAME=value` is not a command).
fn check_commands(s: &Statement) -> Result<(), (usize, String)> {
    if s.braces {
        return Ok(());
    }
    for c in &s.commands {
        let word = &c[0].text;
        let assignment = word.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        if !assignment && !word.starts_with('%') {
            command(word).map_err(|m| (s.line, m))?;
        }
    }
    Ok(())
}

/// A `set-option` / `set-window-option` command, read.
#[derive(Debug, Clone, PartialEq)]
struct Set {
    flags: String,
    target: bool,
    name: String,
    value: Option<Word>,
}

/// The set command in a statement of exactly one command.
fn set_command(s: &Statement) -> Option<Set> {
    let [words] = s.commands.as_slice() else {
        return None;
    };
    if s.braces {
        return None;
    }
    let name = command(&words[0].text).ok()?;
    let mut flags = match name {
        "set-option" => String::new(),
        "set-window-option" => "w".to_string(),
        _ => return None,
    };
    let mut target = false;
    let mut rest = words[1..].iter().peekable();
    while let Some(w) = rest.peek() {
        if w.text == "--" {
            rest.next();
            break;
        }
        let Some(f) = w.text.strip_prefix('-').filter(|f| !f.is_empty()) else {
            break;
        };
        rest.next();
        if let Some((before, _)) = f.split_once('t') {
            flags.push_str(before);
            target = true;
            if f.ends_with('t') {
                rest.next();
            }
        } else {
            flags.push_str(f);
        }
    }
    let name = rest.next()?.text.clone();
    let value = rest.next().cloned();
    if rest.next().is_some() {
        return None;
    }
    Some(Set {
        flags,
        target,
        name,
        value,
    })
}

/// Options Home Manager writes on every run, by tmux name: its option,
/// the scope tmux gives the tmux option, and the release it came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Server,
    Session,
    Window,
}

const TYPED: &[(&str, &str, Scope)] = &[
    ("prefix", "prefix", Scope::Session),
    ("base-index", "baseIndex", Scope::Session),
    ("pane-base-index", "baseIndex", Scope::Window),
    ("status-keys", "keyMode", Scope::Session),
    ("mode-keys", "keyMode", Scope::Window),
    ("mouse", "mouse", Scope::Session),
    ("focus-events", "focusEvents", Scope::Server),
    ("aggressive-resize", "aggressiveResize", Scope::Window),
    ("clock-mode-style", "clock24", Scope::Window),
    ("escape-time", "escapeTime", Scope::Server),
    ("history-limit", "historyLimit", Scope::Session),
    ("default-terminal", "terminal", Scope::Server),
    ("default-shell", "shell", Scope::Session),
];

/// The value a plain global `set` of a typed option gives its Home
/// Manager option, if Home Manager writes it back the same.
fn typed_value(set: &Set, scope: Scope) -> Option<Value> {
    let flags: String = set.flags.chars().filter(|&f| f != 'q').collect();
    let global = match scope {
        Scope::Server => ["", "g", "s", "gs", "sg"].contains(&flags.as_str()),
        Scope::Session => flags == "g",
        Scope::Window => ["g", "w", "gw", "wg"].contains(&flags.as_str()) && flags.contains('g'),
    };
    let value = set.value.as_ref()?;
    if !global || set.target || value.expands {
        return None;
    }
    let v = value.text.as_str();
    let number = || {
        (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| v.parse::<i64>().ok())
            .flatten()
    };
    match set.name.as_str() {
        "mouse" | "focus-events" | "aggressive-resize" => match v {
            "on" | "yes" | "1" => Some(Value::Bool(true)),
            "off" | "no" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        "clock-mode-style" => match v {
            "24" => Some(Value::Bool(true)),
            "12" => Some(Value::Bool(false)),
            _ => None,
        },
        "status-keys" | "mode-keys" => ["vi", "emacs"].contains(&v).then(|| Value::str(v)),
        "base-index" | "pane-base-index" | "escape-time" => number().map(Value::Int),
        "history-limit" => number().filter(|n| *n > 0).map(Value::Int),
        // Home Manager writes these in `"..."`, where tmux reads `\`, `$`
        // and `"`.
        "default-terminal" | "default-shell" => {
            (!v.contains(['"', '\\', '$', '\n'])).then(|| Value::str(v))
        }
        // Home Manager writes the prefix bare, in three commands.
        "prefix" => (!v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_`!@^&*+=|<>,./?".contains(c)))
        .then(|| Value::str(v)),
        _ => None,
    }
}

/// Where a part of the file goes.
#[derive(Debug, Clone, PartialEq)]
enum Place {
    Extra,
    Typed(&'static str, Value),
    /// A plugin, at this index of the plugins.
    Plugin(usize),
    /// An `@option`, into that plugin's `extraConfig`.
    PluginOption(usize),
    /// Covered by Home Manager's own lines for a typed option.
    Covered,
    /// TPM's own lines, commented out.
    Tpm,
    Secret,
}

pub fn convert(
    source: Source<'_>,
    release: Release,
    _files: &dyn Files,
) -> Result<Converted, MigrateError> {
    let parts = parse(source.text).map_err(|(line, message)| MigrateError::Syntax {
        path: source.path.to_string(),
        line,
        message,
    })?;
    let mut warnings = Vec::new();
    let statements: Vec<(usize, &Statement)> = parts
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match p {
            Part::Statement(s) => Some((i, s)),
            _ => None,
        })
        .collect();
    let sets: Vec<(usize, Option<Set>)> = statements
        .iter()
        .map(|(i, s)| (*i, set_command(s)))
        .collect();

    // A part that could set any option: it must not come before a setting
    // that moves to the top.
    let opaque = |p: &Part| match p {
        Part::Condition(..) => true,
        Part::Statement(s) => {
            s.braces
                || s.commands.len() > 1
                || s.commands.iter().any(|c| {
                    matches!(
                        command(&c[0].text),
                        Ok("source-file" | "if-shell" | "run-shell")
                    )
                })
        }
        _ => false,
    };
    let first_opaque = parts.iter().position(opaque).unwrap_or(usize::MAX);

    let mut places: Vec<Place> = vec![Place::Extra; parts.len()];
    // Secrets first: nothing of them reaches the store.
    for (i, s) in &statements {
        let named = set_command(s).is_some_and(|set| {
            looks_secret(
                &set.name,
                set.value.as_ref().map_or("", |v| v.text.as_str()),
            )
        });
        let env = s.commands.iter().any(|c| {
            matches!(command(&c[0].text), Ok("set-environment"))
                && c.len() >= 3
                && looks_secret(&c[c.len() - 2].text, &c[c.len() - 1].text)
        });
        if named || env || looks_secret("", &s.text) {
            places[*i] = Place::Secret;
            warnings.push(Warning {
                line: Some(s.line),
                message: "this line looks like it holds a secret: left out, because what Home Manager writes is readable by every user in /nix/store; keep it in a file Home Manager does not manage and `source-file -q` it from `extraConfig`".into(),
            });
        }
    }

    // Typed options: the last plain global `set` of each, when nothing
    // that could set it comes before, and every set of it is plain.
    let mut chosen: Vec<(&'static str, &'static str, usize, Value)> = Vec::new();
    for (tmux_name, option, scope) in TYPED {
        if *option == "focusEvents" && release < Release::new(25, 5) {
            continue;
        }
        let of_it: Vec<&(usize, Option<Set>)> = sets
            .iter()
            .filter(|(i, s)| {
                places[*i] != Place::Secret && s.as_ref().is_some_and(|s| s.name == *tmux_name)
            })
            .collect();
        let Some((last, Some(set))) = of_it.last() else {
            continue;
        };
        let values: Option<Vec<Value>> = of_it
            .iter()
            .map(|(_, s)| s.as_ref().and_then(|s| typed_value(s, *scope)))
            .collect();
        if values.is_none() || *last > first_opaque {
            continue;
        }
        if let Some(value) = typed_value(set, *scope) {
            chosen.push((tmux_name, option, *last, value));
        }
    }
    let set_anywhere = |name: &str| {
        sets.iter()
            .any(|(_, s)| s.as_ref().is_some_and(|s| s.name == name))
            || parts.iter().any(|p| match p {
                Part::Statement(s) => s.text.contains(name),
                Part::Condition(_, text) => text.contains(name),
                _ => false,
            })
    };
    // Home Manager writes both of a pair from one option.
    for (a, b, default) in [
        ("base-index", "pane-base-index", Some(Value::Int(0))),
        ("status-keys", "mode-keys", None),
    ] {
        let (ma, mb) = (value_of(&chosen, a), value_of(&chosen, b));
        let mapped = ma.is_some() || mb.is_some();
        let va = ma.or_else(|| (!set_anywhere(a)).then(|| default.clone()).flatten());
        let vb = mb.or_else(|| (!set_anywhere(b)).then(|| default.clone()).flatten());
        let agree = mapped && va.is_some() && va == vb;
        if !agree {
            chosen.retain(|c| c.0 != a && c.0 != b);
        }
    }
    // The prefix, when the file also unbinds C-b and binds the new prefix
    // to send-prefix, as Home Manager does.
    let mut covered = Vec::new();
    if let Some(Value::Str(prefix)) = value_of(&chosen, "prefix") {
        let find = |want: &dyn Fn(&[Word]) -> bool| {
            statements
                .iter()
                .find_map(|(i, s)| match s.commands.as_slice() {
                    [c] if !s.braces && want(c) => Some(*i),
                    _ => None,
                })
        };
        let is = |w: &Word, name: &str| command(&w.text).ok() == Some(name);
        let unbind = find(&|c| c.len() == 2 && is(&c[0], "unbind-key") && c[1].text == "C-b");
        let bind = find(&|c| {
            c.len() == 3
                && is(&c[0], "bind-key")
                && c[1].text == prefix
                && c[2].text == "send-prefix"
        });
        let other_keys = statements.iter().filter(|(_, s)| {
            s.commands.iter().any(|c| {
                (is(&c[0], "bind-key") || is(&c[0], "unbind-key"))
                    && c.iter().any(|w| w.text == "C-b" || w.text == prefix)
            })
        });
        match (unbind, bind) {
            _ if prefix == "C-b" => {}
            (Some(u), Some(b))
                if other_keys.count() == 2 && u < first_opaque && b < first_opaque =>
            {
                covered.extend([u, b]);
            }
            _ => chosen.retain(|c| c.0 != "prefix"),
        }
    }
    // The chosen line of each becomes the option; the others are dead.
    for (i, s) in &sets {
        if s.as_ref()
            .is_some_and(|s| chosen.iter().any(|c| c.0 == s.name))
        {
            places[*i] = Place::Covered;
        }
    }
    for (_, option, at, value) in &chosen {
        places[*at] = Place::Typed(option, value.clone());
    }
    for i in covered {
        places[i] = Place::Covered;
    }

    // Plugins and their options.
    let tpm_line = statements.iter().find_map(|(i, s)| {
        let tpm = s.commands.len() == 1
            && matches!(command(&s.commands[0][0].text), Ok("run-shell"))
            && s.commands[0].iter().any(|w| w.text.contains("tpm/tpm"));
        tpm.then_some(*i)
    });
    if let Some(i) = tpm_line {
        places[i] = Place::Tpm;
    }
    let mut plugins: Vec<(String, Vec<String>, String)> = Vec::new();
    for (i, set) in &sets {
        let Some(set) = set
            .as_ref()
            .filter(|s| s.name == "@plugin" && s.flags.contains('g'))
        else {
            continue;
        };
        let Some(spec) = set.value.as_ref().map(|v| v.text.clone()) else {
            continue;
        };
        let repo = repository(&spec);
        if repo == "tmux-plugins/tpm" {
            places[*i] = Place::Tpm;
            continue;
        }
        match PLUGINS.iter().find(|(r, _)| *r == repo) {
            Some((_, attr)) if tpm_line.is_none_or(|t| *i < t) => {
                places[*i] = Place::Plugin(plugins.len());
                plugins.push((attr.to_string(), Vec::new(), String::new()));
            }
            _ => warnings.push(Warning {
                line: part_line(&parts[*i]),
                message: format!(
                    "plugin `{spec}` is not in nixpkgs' tmuxPlugins (or comes after TPM runs): kept as written, where nothing loads it; package it with `pkgs.tmuxPlugins.mkTmuxPlugin` and add it to `programs.tmux.plugins`"
                ),
            }),
        }
    }
    for (i, set) in &sets {
        let Some(set) = set
            .as_ref()
            .filter(|s| s.name.starts_with('@') && s.name != "@plugin")
        else {
            continue;
        };
        if places[*i] != Place::Extra || tpm_line.is_some_and(|t| *i > t) {
            continue;
        }
        match plugins.iter().position(|(attr, ..)| option_of(&set.name, attr)) {
            Some(p) => places[*i] = Place::PluginOption(p),
            None if !plugins.is_empty() => warnings.push(Warning {
                line: part_line(&parts[*i]),
                message: format!(
                    "`{}` names none of the plugins: kept in `extraConfig`, which Home Manager writes after loading the plugins; move it into the right plugin's `extraConfig` if a plugin reads it",
                    set.name
                ),
            }),
            None => {}
        }
    }

    // Assemble: comments go with what follows them.
    let mut out = Attrs::new();
    out.set(&["enable"], Value::Bool(true));
    let mut typed = Attrs::new();
    let mut extra = String::new();
    let mut pending: Vec<(String, String)> = Vec::new();
    let flush = |pending: &mut Vec<(String, String)>, extra: &mut String| {
        for (raw, _) in pending.drain(..) {
            extra.push_str(&raw);
            extra.push('\n');
        }
    };
    let mut early_status = Vec::new();
    let mut tpm_noted = false;
    for (i, part) in parts.iter().enumerate() {
        match (part, &places[i]) {
            (Part::Blank, _) => {
                flush(&mut pending, &mut extra);
                extra.push('\n');
            }
            (Part::Comment(line, raw, text), _) => {
                if looks_secret("", text) {
                    warnings.push(Warning {
                        line: Some(*line),
                        message: "a comment looks like it holds a secret: left out".into(),
                    });
                } else {
                    pending.push((raw.clone(), text.clone()));
                }
            }
            (Part::Condition(_, text), _) => {
                flush(&mut pending, &mut extra);
                extra.push_str(text);
                extra.push('\n');
            }
            (Part::Statement(s), place) => {
                let mut comments: Vec<String> = pending.iter().map(|(_, t)| t.clone()).collect();
                comments.extend(
                    s.comment
                        .clone()
                        .filter(|c| !c.is_empty() && !looks_secret("", c)),
                );
                match place {
                    Place::Extra => {
                        flush(&mut pending, &mut extra);
                        extra.push_str(&s.text);
                        extra.push('\n');
                        let status = set_command(s).is_some_and(|set| {
                            set.name.starts_with("status-left")
                                || set.name.starts_with("status-right")
                        });
                        if status && tpm_line.is_none_or(|t| i < t) {
                            early_status.push(s.line);
                        }
                    }
                    Place::Typed(option, value) => {
                        pending.clear();
                        typed.set_with_comments(&[option], value.clone(), comments);
                    }
                    // A comment above a line Home Manager now writes goes
                    // with what follows (`# remap prefix` above `unbind C-b`).
                    Place::Covered => {}
                    Place::Secret => pending.clear(),
                    Place::Plugin(p) => {
                        pending.clear();
                        plugins[*p].1 = comments;
                    }
                    Place::PluginOption(p) => {
                        for (raw, _) in pending.drain(..) {
                            plugins[*p].2.push_str(&raw);
                            plugins[*p].2.push('\n');
                        }
                        plugins[*p].2.push_str(&s.text);
                        plugins[*p].2.push('\n');
                    }
                    Place::Tpm => {
                        flush(&mut pending, &mut extra);
                        if !tpm_noted {
                            tpm_noted = true;
                            extra.push_str(
                                "# Home Manager loads the plugins (programs.tmux.plugins):\n",
                            );
                            warnings.push(Warning {
                                line: Some(s.line),
                                message: "TPM's lines are kept commented out: Home Manager installs and loads the plugins itself".into(),
                            });
                        }
                        for line in s.text.lines() {
                            extra.push_str(&format!("# {line}\n"));
                        }
                    }
                }
            }
        }
    }
    flush(&mut pending, &mut extra);

    // Home Manager's own lines for options the file leaves to tmux.
    if !set_anywhere("clock-mode-style") {
        typed.set_with_comments(
            &["clock24"],
            Value::Bool(true),
            vec!["tmux's own default; Home Manager would write clock-mode-style 12".into()],
        );
    }
    if typed.get("keyMode").is_none() && !(set_anywhere("status-keys") && set_anywhere("mode-keys"))
    {
        warnings.push(Warning {
            line: None,
            message: "Home Manager writes `status-keys` and `mode-keys` (emacs unless `keyMode` is set) where the file sets neither; tmux itself picks vi keys when $VISUAL or $EDITOR contains \"vi\": set `programs.tmux.keyMode = \"vi\"` if that is your case".into(),
        });
    }
    if !set_anywhere("default-terminal") {
        warnings.push(Warning {
            line: None,
            message: "Home Manager writes `default-terminal \"screen\"` where the file sets none; tmux's own default is its build's (tmux-256color in most): set `programs.tmux.terminal` if colours or keys change".into(),
        });
    }
    if !plugins.is_empty() && !early_status.is_empty() {
        warnings.push(Warning {
            line: early_status.first().copied(),
            message: format!(
                "Home Manager loads plugins before `extraConfig`: the status-left/status-right settings on line(s) {} now come after the plugins, which some rewrite when loaded (cpu, battery, prefix-highlight, continuum); move them into the first plugin's `extraConfig` if one does",
                early_status.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
            ),
        });
    }

    for (_, option, _) in TYPED {
        if let Some(value) = typed.get(option).cloned() {
            let comments = typed
                .entries
                .iter()
                .find(|e| e.name == *option)
                .map(|e| e.comments.clone())
                .unwrap_or_default();
            if out.get(option).is_none() {
                out.set_with_comments(&[option], value, comments);
            }
        }
    }
    if !plugins.is_empty() {
        let list = plugins
            .into_iter()
            .map(|(attr, comments, config)| {
                let package = Value::code(format!("pkgs.tmuxPlugins.{attr}"));
                if comments.is_empty() && config.is_empty() {
                    return package;
                }
                let mut set = Attrs::new();
                set.set_with_comments(&["plugin"], package, comments);
                if !config.is_empty() {
                    set.set(&["extraConfig"], Value::Str(config));
                }
                Value::Attrs(set)
            })
            .collect();
        out.set(&["plugins"], Value::List(list));
    }
    let extra = tidy(&extra);
    if !extra.is_empty() {
        out.set(&["extraConfig"], Value::Str(extra));
    }
    Ok(Converted {
        options: out,
        also: Attrs::new(),
        warnings,
    })
}

/// The value chosen for tmux option `name`, if any.
fn value_of(chosen: &[(&str, &str, usize, Value)], name: &str) -> Option<Value> {
    chosen.iter().find(|c| c.0 == name).map(|c| c.3.clone())
}

fn part_line(part: &Part) -> Option<usize> {
    match part {
        Part::Statement(s) => Some(s.line),
        Part::Comment(line, ..) | Part::Condition(line, _) => Some(*line),
        Part::Blank => None,
    }
}

/// Whether user option `@name` belongs to plugin `attr` by name:
/// `@resurrect-strategy-nvim` to resurrect, `@catppuccin_flavor` to
/// catppuccin, `@batt_icon_charge` to battery.
fn option_of(name: &str, attr: &str) -> bool {
    let name = name
        .trim_start_matches('@')
        .to_ascii_lowercase()
        .replace('_', "-");
    let attr = attr.strip_prefix("tmux-").unwrap_or(attr);
    let mut keys = vec![
        attr.to_string(),
        attr.trim_end_matches("-theme").to_string(),
    ];
    keys.extend(
        match attr {
            "battery" => &["batt"][..],
            "fzf-tmux-url" => &["fzf-url"],
            "power-theme" => &["tmux-power"],
            "tokyo-night-tmux" => &["tokyo-night"],
            "prefix-highlight" => &["prefix-highlight"],
            "sessionx" => &["sessionx"],
            "thumbs" => &["thumbs"],
            _ => &[],
        }
        .iter()
        .map(|k| k.to_string()),
    );
    keys.iter()
        .any(|k| name == *k || name.starts_with(&format!("{k}-")))
}

#[cfg(test)]
mod tests {
    use super::super::{migrate, NoFiles};
    use super::*;
    use expect_test::expect;

    fn run(text: &str, release: Release) -> (String, Vec<Warning>, Attrs) {
        let m = migrate(
            Source {
                path: "~/.tmux.conf",
                text,
            },
            release,
            &NoFiles,
        )
        .unwrap();
        (m.to_nix(0), m.warnings, m.options)
    }

    const TMUX_CONF: &str = r##"# ~/.tmux.conf
# remap prefix from 'C-b' to 'C-a'
unbind C-b
set-option -g prefix C-a
bind-key C-a send-prefix

set -g base-index 1
setw -g pane-base-index 1
set -g mouse on          # click to select panes
set -sg escape-time 0
set -g history-limit 50000
set -g default-terminal "tmux-256color"
setw -g mode-keys vi
set -g status-keys vi
set -g focus-events on

# status bar
set -g status-style 'bg=#333333 fg=#5eacd3'
set -g status-right "#{?client_prefix,PREFIX ,}%H:%M"
bind r source-file ~/.tmux.conf \; display "Reloaded"
bind | split-window -h -c "#{pane_current_path}"
bind - \
  split-window -v -c "#{pane_current_path}"

if-shell 'test "$(uname)" = Darwin' {
  set -g default-command "reattach-to-user-namespace -l $SHELL"
}
%if "#{==:#{host},work}"
set -g status-bg red
%endif

# plugins
set -g @plugin 'tmux-plugins/tpm'
set -g @plugin 'tmux-plugins/tmux-sensible'
set -g @plugin 'tmux-plugins/tmux-resurrect'
set -g @plugin 'tmux-plugins/tmux-continuum'
set -g @plugin 'someone/tmux-unknown'
# restore vim sessions
set -g @resurrect-strategy-nvim 'session'
set -g @continuum-restore 'on'
set -g @unclaimed 'x'

run '~/.tmux/plugins/tpm/tpm'
"##;

    fn text_of(value: &Value) -> String {
        match value {
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Str(s) | Value::Code(s) => s.clone(),
            other => panic!("{other:?}"),
        }
    }

    /// tmux.conf as Home Manager's tmux module writes it (the parts the
    /// converter sets; plugins load from `run-shell <plugin>`).
    fn render(options: &Attrs, release: Release) -> String {
        let get = |name: &str| options.get(name).map(text_of);
        let flag = |name: &str| {
            if get(name).as_deref() == Some("true") {
                "on"
            } else {
                "off"
            }
        };
        let base = get("baseIndex").unwrap_or("0".into());
        let keys = get("keyMode").unwrap_or("emacs".into());
        let mut out = format!(
            "set  -g default-terminal \"{}\"\nset  -g base-index      {base}\nsetw -g pane-base-index {base}\n",
            get("terminal").unwrap_or("screen".into())
        );
        if let Some(shell) = get("shell") {
            out.push_str(&format!("set  -g default-shell \"{shell}\"\n"));
        }
        out.push_str(&format!(
            "set -g status-keys {keys}\nset -g mode-keys   {keys}\n"
        ));
        let prefix = get("prefix").unwrap_or("C-b".into());
        if prefix != "C-b" {
            out.push_str(&format!(
                "unbind C-b\nset -g prefix {prefix}\nbind -N \"Send the prefix key through to the application\" \\\n  {prefix} send-prefix\n"
            ));
        }
        out.push_str(&format!("set  -g mouse             {}\n", flag("mouse")));
        if release >= Release::new(25, 5) {
            out.push_str(&format!(
                "set  -g focus-events      {}\n",
                flag("focusEvents")
            ));
        }
        out.push_str(&format!(
            "setw -g aggressive-resize {}\nsetw -g clock-mode-style  {}\nset  -s escape-time       {}\nset  -g history-limit     {}\n",
            flag("aggressiveResize"),
            if get("clock24").as_deref() == Some("true") { "24" } else { "12" },
            get("escapeTime").unwrap_or("10".into()),
            get("historyLimit").unwrap_or("2000".into()),
        ));
        if let Some(Value::List(plugins)) = options.get("plugins") {
            for plugin in plugins {
                let (package, config) = match plugin {
                    Value::Attrs(set) => (
                        text_of(set.get("plugin").unwrap()),
                        set.get("extraConfig").map(text_of).unwrap_or_default(),
                    ),
                    other => (text_of(other), String::new()),
                };
                out.push_str(&format!("# {package}\n{config}\nrun-shell {package}\n"));
            }
        }
        out.push_str(&get("extraConfig").unwrap_or_default());
        out
    }

    /// The options a file leaves set (a plain `set` at a time, as tmux
    /// runs them), starting from tmux's defaults for those Home Manager
    /// writes; and the other commands, in order. Home Manager's own
    /// prefix bindings and plugin loading, and TPM's lines, are set
    /// aside: they are what the conversion replaces.
    fn effect(text: &str) -> (std::collections::BTreeMap<String, String>, Vec<String>) {
        let mut options: std::collections::BTreeMap<String, String> = [
            ("base-index", "0"),
            ("pane-base-index", "0"),
            ("status-keys", "emacs"),
            ("mode-keys", "emacs"),
            ("mouse", "off"),
            ("focus-events", "off"),
            ("aggressive-resize", "off"),
            ("clock-mode-style", "24"),
            ("escape-time", "10"),
            ("history-limit", "2000"),
            ("default-terminal", "screen"),
            ("prefix", "C-b"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut others = Vec::new();
        for part in parse(text).unwrap() {
            let Part::Statement(s) = part else {
                if let Part::Condition(_, text) = part {
                    others.push(text);
                }
                continue;
            };
            match set_command(&s) {
                Some(set) if set.name != "@plugin" && set.value.is_some() && !set.target => {
                    let value = set.value.unwrap().text;
                    let value = match value.as_str() {
                        "yes" | "1" => "on".to_string(),
                        "no" | "0" if !set.name.contains("index") && !set.name.contains("time") => {
                            "off".to_string()
                        }
                        _ => value,
                    };
                    options.insert(set.name, value);
                }
                Some(set) if set.name == "@plugin" => {}
                _ => {
                    let words: Vec<&str> = s.commands[0].iter().map(|w| w.text.as_str()).collect();
                    let own = matches!(words.as_slice(), ["unbind" | "unbind-key", "C-b"])
                        || words.last() == Some(&"send-prefix")
                        || (words[0] == "run-shell"
                            && words.len() == 2
                            && words[1].starts_with("pkgs."))
                        || s.text.contains("tpm/tpm");
                    if !own {
                        others.push(s.text.clone());
                    }
                }
            }
        }
        (options, others)
    }

    fn assert_round_trip(text: &str, release: Release) {
        let (_, _, options) = run(text, release);
        let written = render(&options, release);
        assert_eq!(effect(text), effect(&written), "{written}");
    }

    #[test]
    fn typed_options_plugins_and_the_rest_in_order() {
        let (text, warnings, _) = run(TMUX_CONF, Release::NEWEST);
        expect![[r##"
            programs.tmux = {
              enable = true;
              # ~/.tmux.conf
              # remap prefix from 'C-b' to 'C-a'
              prefix = "C-a";
              baseIndex = 1;
              keyMode = "vi";
              # click to select panes
              mouse = true;
              focusEvents = true;
              # tmux's own default; Home Manager would write clock-mode-style 12
              clock24 = true;
              escapeTime = 0;
              historyLimit = 50000;
              terminal = "tmux-256color";
              plugins = [
                pkgs.tmuxPlugins.sensible
                {
                  plugin = pkgs.tmuxPlugins.resurrect;
                  extraConfig = ''
                    # restore vim sessions
                    set -g @resurrect-strategy-nvim 'session'
                  '';
                }
                {
                  plugin = pkgs.tmuxPlugins.continuum;
                  extraConfig = "set -g @continuum-restore 'on'\n";
                }
              ];
              extraConfig = ''
                # status bar
                set -g status-style 'bg=#333333 fg=#5eacd3'
                set -g status-right "#{?client_prefix,PREFIX ,}%H:%M"
                bind r source-file ~/.tmux.conf \; display "Reloaded"
                bind | split-window -h -c "#{pane_current_path}"
                bind - \
                  split-window -v -c "#{pane_current_path}"

                if-shell 'test "$(uname)" = Darwin' {
                  set -g default-command "reattach-to-user-namespace -l $SHELL"
                }
                %if "#{==:#{host},work}"
                set -g status-bg red
                %endif

                # plugins
                # Home Manager loads the plugins (programs.tmux.plugins):
                # set -g @plugin 'tmux-plugins/tpm'
                set -g @plugin 'someone/tmux-unknown'
                set -g @unclaimed 'x'

                # run '~/.tmux/plugins/tpm/tpm'
              '';
            };
        "##]]
        .assert_eq(&text);
        let lines: Vec<Option<usize>> = warnings.iter().map(|w| w.line).collect();
        assert_eq!(
            lines,
            [Some(37), Some(41), Some(33), Some(19)],
            "{warnings:#?}"
        );
        assert!(warnings[0]
            .message
            .contains("`someone/tmux-unknown` is not in nixpkgs"));
        assert!(warnings[3]
            .message
            .contains("status-left/status-right settings on line(s) 19"));
        assert_round_trip(TMUX_CONF, Release::NEWEST);
    }

    const PARTIAL: &str = "set -gq escape-time 5\nsetw -g clock-mode-style 12\nset -g focus-events on\nset -g base-index 1\nsetw -g mode-keys vi\nset -g prefix C-Space\nsource-file -q ~/.tmux.local\nset -g mouse on\n";

    #[test]
    fn settings_home_manager_would_move_or_pair_stay_in_extra_config() {
        let (newest, warnings, _) = run(PARTIAL, Release::NEWEST);
        expect![[r#"
            programs.tmux = {
              enable = true;
              focusEvents = true;
              clock24 = false;
              escapeTime = 5;
              extraConfig = ''
                set -g base-index 1
                setw -g mode-keys vi
                set -g prefix C-Space
                source-file -q ~/.tmux.local
                set -g mouse on
              '';
            };
        "#]]
        .assert_eq(&newest);
        assert_eq!(warnings.len(), 2, "{warnings:#?}");
        assert!(warnings[0].message.contains("keyMode"));
        assert!(warnings[1].message.contains("default-terminal"));
        // Home Manager 24.11 has no focusEvents: the line stays.
        let (old, _, _) = run(PARTIAL, Release::new(24, 11));
        expect![[r#"
            programs.tmux = {
              enable = true;
              clock24 = false;
              escapeTime = 5;
              extraConfig = ''
                set -g focus-events on
                set -g base-index 1
                setw -g mode-keys vi
                set -g prefix C-Space
                source-file -q ~/.tmux.local
                set -g mouse on
              '';
            };
        "#]]
        .assert_eq(&old);
        assert_round_trip(PARTIAL, Release::NEWEST);
        assert_round_trip(PARTIAL, Release::new(24, 11));
    }

    #[test]
    fn secrets_are_left_out() {
        let text = "set -g @gh_token 'ghp_0123456789abcdef'\nset-environment -g API_TOKEN abc123\n# ghp_0123456789abcdef\nset -g history-limit 10000\n";
        let (nix, warnings, _) = run(text, Release::NEWEST);
        expect![[r#"
            programs.tmux = {
              enable = true;
              # tmux's own default; Home Manager would write clock-mode-style 12
              clock24 = true;
              historyLimit = 10000;
            };
        "#]]
        .assert_eq(&nix);
        let lines: Vec<Option<usize>> = warnings.iter().take(3).map(|w| w.line).collect();
        assert_eq!(lines, [Some(1), Some(2), Some(3)], "{warnings:#?}");
    }

    #[test]
    fn files_tmux_refuses_are_refused() {
        for (text, line, message) in [
            (
                "set -g mouse on\nfrobnicate\n",
                2,
                "unknown command: frobnicate",
            ),
            ("kill\n", 1, "ambiguous command"),
            ("%if 1\nset -g mouse on\n", 1, "without `%endif`"),
            ("set -g mouse on\n%endif\n", 2, "without `%if`"),
            ("bind x {\n  send-keys a\n", 1, "unclosed"),
            ("set -g mouse on }\n", 1, "unmatched"),
        ] {
            match migrate(
                Source {
                    path: "~/.tmux.conf",
                    text,
                },
                Release::NEWEST,
                &NoFiles,
            ) {
                Err(MigrateError::Syntax {
                    line: l,
                    message: m,
                    ..
                }) => {
                    assert_eq!(l, line, "{text:?}");
                    assert!(m.contains(message), "{text:?}: {m}");
                }
                other => panic!("{text:?} was not refused: {other:?}"),
            }
        }
    }

    #[test]
    fn statements_read_as_tmux_reads_them() {
        let parts = parse("set -g status-right \"a \\\"b\\\" $HOME\" # note\nbind x \\\n  send-keys 'a;b' \\; display hi\nbind y { send-keys a\n  display b }\nset -g @x \"two\nlines\"\n").unwrap();
        let statements: Vec<&Statement> = parts
            .iter()
            .filter_map(|p| match p {
                Part::Statement(s) => Some(s),
                _ => None,
            })
            .collect();
        let words = |s: &Statement| -> Vec<Vec<String>> {
            s.commands
                .iter()
                .map(|c| c.iter().map(|w| w.text.clone()).collect())
                .collect()
        };
        assert_eq!(
            words(statements[0]),
            [["set", "-g", "status-right", "a \"b\" $HOME"]]
        );
        assert!(statements[0].commands[0][3].expands);
        assert_eq!(statements[0].comment.as_deref(), Some("note"));
        assert_eq!(
            words(statements[1]),
            [["bind", "x", "send-keys", "a;b", ";", "display", "hi"]]
        );
        assert!(statements[2].braces);
        assert_eq!(words(statements[3]), [["set", "-g", "@x", "two\nlines"]]);
        assert_eq!(command("set").unwrap(), "set-option");
        assert_eq!(command("set-w").unwrap(), "set-window-option");
        assert_eq!(
            repository("https://github.com/tmux-plugins/tmux-yank.git"),
            "tmux-plugins/tmux-yank"
        );
        assert_eq!(
            repository("git@github.com:Tmux-Plugins/tmux-yank#v2"),
            "tmux-plugins/tmux-yank"
        );
        assert!(option_of("@batt_icon_charge", "battery"));
        assert!(option_of("@catppuccin_flavor", "catppuccin"));
        assert!(!option_of("@continuum-restore", "resurrect"));
    }
}
