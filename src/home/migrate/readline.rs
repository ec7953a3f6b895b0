//! `~/.inputrc` into `programs.readline`. Read as readline's `bind.c`
//! reads it, line by line: `#` comments only at the start of a line,
//! `$if`/`$else`/`$endif`/`$include` directives, `set name value`
//! (the first word of a boolean variable, the rest of the line or a
//! `"..."` string otherwise), `"keyseq": function`, `keyname: function`
//! and macros `"text"` (`:` or whitespace after the key; what follows the
//! function's first word is ignored). readline reports a bad line and
//! skips it; this converter refuses the file at that line instead, so
//! nothing is silently lost.
//!
//! Home Manager writes `$include /etc/inputrc` (when
//! `includeSystemConfig`), then every variable, then every binding (each
//! sorted by name), then `extraConfig`. A line becomes a typed option only
//! where that order reads the same: not after an `$include` of another
//! file, not what a preceding `$if` block also sets, not a binding after
//! a keymap change kept in `extraConfig`, not a name set twice. The rest
//! stays in `extraConfig`, in order.

use std::collections::HashSet;

use super::nix::{Attrs, Value};
use super::{looks_secret, tidy, Converted, Files, MigrateError, Release, Source, Warning};

/// readline's boolean variables (bind.c, readline 8.3): their value is
/// the first word, `on` or `1` (or nothing) for true, anything else false.
const BOOLEANS: &[&str] = &[
    "bind-tty-special-chars",
    "blink-matching-paren",
    "byte-oriented",
    "colored-completion-prefix",
    "colored-stats",
    "completion-ignore-case",
    "completion-map-case",
    "convert-meta",
    "disable-completion",
    "echo-control-characters",
    "enable-active-region",
    "enable-bracketed-paste",
    "enable-keypad",
    "enable-meta-key",
    "expand-tilde",
    "force-meta-prefix",
    "history-preserve-point",
    "horizontal-scroll-mode",
    "input-meta",
    "mark-directories",
    "mark-modified-lines",
    "mark-symlinked-directories",
    "match-hidden-files",
    "menu-complete-display-prefix",
    "meta-flag",
    "output-meta",
    "page-completions",
    "prefer-visible-bell",
    "print-completions-horizontally",
    "revert-all-at-newline",
    "search-ignore-case",
    "show-all-if-ambiguous",
    "show-all-if-unmodified",
    "show-mode-in-prompt",
    "skip-completed-text",
    "visible-stats",
];

/// Variables that change how later bindings are read (the keymap they go
/// to, how `\M-` is bound).
const KEYMAP_VARIABLES: &[&str] = &[
    "keymap",
    "editing-mode",
    "convert-meta",
    "input-meta",
    "meta-flag",
    "force-meta-prefix",
];

const SYSTEM_CONFIG: &str = "/etc/inputrc";

/// One line's meaning.
#[derive(Debug, Clone, PartialEq)]
enum Line {
    Blank,
    Comment(String),
    /// `set name value`: the name as written, the value as readline
    /// takes it (quotes kept: Home Manager writes it back as is), and
    /// what readline ignores after it.
    Set(String, String, String),
    /// A binding: the key as Home Manager's `bindings` takes it (inside
    /// the quotes of a key sequence, or a key name), whether it was a key
    /// sequence, the function or quoted macro, what readline ignores
    /// after it, and whether it was `:=` (readline 8.3 equivalence).
    Bind {
        key: String,
        sequence: bool,
        value: String,
        rest: String,
        equivalence: bool,
    },
    Include(String),
    If,
    Else,
    Endif,
}

/// A line, or readline's complaint about it.
fn read_line(text: &str) -> Result<Line, String> {
    let line = text.trim_start_matches([' ', '\t']);
    if line.trim().is_empty() {
        return Ok(Line::Blank);
    }
    if let Some(comment) = line.strip_prefix('#') {
        return Ok(Line::Comment(comment.trim().to_string()));
    }
    if let Some(directive) = line.strip_prefix('$') {
        let directive = directive.trim_start_matches([' ', '\t']);
        let (word, args) = directive
            .split_once([' ', '\t'])
            .map_or((directive, ""), |(w, a)| {
                (w, a.trim_start_matches([' ', '\t']))
            });
        return match word.to_ascii_lowercase().as_str() {
            "if" => Ok(Line::If),
            "else" => Ok(Line::Else),
            "endif" => Ok(Line::Endif),
            "include" => Ok(Line::Include(args.trim_end_matches('\r').to_string())),
            _ => Err(format!("`${word}`: unknown parser directive")),
        };
    }
    let bytes = line.as_bytes();
    let mut i = 0;
    let sequence = bytes[0] == b'"';
    if sequence {
        i = skip_to(bytes, 1, b'"');
        if i == bytes.len() {
            return Err("no closing `\"` in key binding".into());
        }
        i += 1;
    }
    let close = i;
    while i < bytes.len() && !matches!(bytes[i], b':' | b' ' | b'\t') {
        i += 1;
    }
    if i == 0 {
        return Err("missing key sequence".into());
    }
    let key = &line[..i];
    let separated = i < bytes.len();
    let equivalence = separated && bytes[i] == b':' && bytes.get(i + 1) == Some(&b'=');
    let after = if separated {
        i + 1 + usize::from(equivalence)
    } else {
        i
    };
    let rest = &line[after..];
    if key.eq_ignore_ascii_case("set") {
        let rest = rest.trim_start_matches([' ', '\t']);
        let (name, value) = rest
            .split_once([' ', '\t'])
            .map_or((rest, ""), |(n, v)| (n, v.trim_start_matches([' ', '\t'])));
        let lower = name.to_ascii_lowercase();
        let value = value.trim_end();
        let (value, ignored) = if BOOLEANS.contains(&lower.as_str()) {
            value.split_once([' ', '\t']).unwrap_or((value, ""))
        } else if value.starts_with('"') {
            let end = skip_to(value.as_bytes(), 1, b'"');
            let end = (end + 1).min(value.len());
            (&value[..end], &value[end..])
        } else {
            (value, "")
        };
        return Ok(Line::Set(
            name.to_string(),
            value.to_string(),
            ignored.trim().to_string(),
        ));
    }
    let rest = rest.trim_start_matches([' ', '\t']);
    let rb = rest.as_bytes();
    let mut end = 0;
    if let Some(&quote @ (b'"' | b'\'')) = rb.first() {
        end = skip_to(rb, 1, quote);
        if end == rb.len() {
            return Err("missing closing quote for macro".into());
        }
        end += 1;
    }
    while end < rb.len() && !matches!(rb[end], b' ' | b'\t') {
        end += 1;
    }
    if !separated && !equivalence {
        return Err("no key sequence terminator".into());
    }
    // (readline reads a key sequence up to its closing quote.)
    let key = if sequence { &line[1..close - 1] } else { key };
    Ok(Line::Bind {
        key: key.to_string(),
        sequence,
        value: rest[..end].to_string(),
        rest: rest[end..].trim().to_string(),
        equivalence,
    })
}

/// readline's `_rl_skip_to_delim`: the index of `delim` from `start`, `\`
/// escaping the next byte; the length when there is none.
fn skip_to(bytes: &[u8], start: usize, delim: u8) -> usize {
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            c if c == delim => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Whether Home Manager writes `key` back as the same kind of key: it
/// writes `keyname: ...` for a key whose first `-`-separated word is
/// `control` or `meta`, and `"keyseq": ...` for every other.
fn home_manager_keeps(key: &str, sequence: bool) -> bool {
    let head = key.split('-').next().unwrap_or("").to_ascii_lowercase();
    let keyname = head == "control" || head == "meta";
    keyname != sequence
}

/// A variable's value as Home Manager writes it back: `on`/`off` as
/// booleans, whole numbers as integers, anything else as written.
fn variable_value(name: &str, value: &str) -> Value {
    let boolean = BOOLEANS.contains(&name.to_ascii_lowercase().as_str());
    match value {
        "on" | "off" => return Value::Bool(value == "on"),
        v if boolean && (v.eq_ignore_ascii_case("on") || v.is_empty()) => return Value::Bool(true),
        v if boolean && v.eq_ignore_ascii_case("off") => return Value::Bool(false),
        _ => {}
    }
    let number = !value.is_empty()
        && value.bytes().all(|b| b.is_ascii_digit())
        && (value == "0" || !value.starts_with('0'));
    match number.then(|| value.parse::<i64>().ok()).flatten() {
        Some(n) => Value::Int(n),
        None => Value::str(value),
    }
}

pub fn convert(
    source: Source<'_>,
    _release: Release,
    _files: &dyn Files,
) -> Result<Converted, MigrateError> {
    let refuse = |line: usize, message: String| MigrateError::Syntax {
        path: source.path.to_string(),
        line,
        message,
    };
    let texts: Vec<&str> = source.text.lines().collect();
    let mut lines = Vec::new();
    let mut depth = 0usize;
    for (i, text) in texts.iter().enumerate() {
        let line = read_line(text);
        // readline reads directives inside a `$if` that is off, but no
        // bindings there; they are kept as written anyway.
        let line = match line {
            Err(message) if depth == 0 || text.trim_start().starts_with('$') => {
                return Err(refuse(i + 1, message))
            }
            Err(_) => Line::Comment(String::new()),
            Ok(line) => line,
        };
        match line {
            Line::If => depth += 1,
            Line::Else if depth == 0 => return Err(refuse(i + 1, "`$else` without `$if`".into())),
            Line::Endif if depth == 0 => {
                return Err(refuse(i + 1, "`$endif` without `$if`".into()))
            }
            Line::Endif => depth -= 1,
            _ => {}
        }
        lines.push(line);
    }

    // How often each variable and key is set outside `$if` blocks.
    let mut depth = 0usize;
    let mut counts: Vec<String> = Vec::new();
    for line in &lines {
        match line {
            Line::If => depth += 1,
            Line::Endif => depth -= 1,
            Line::Set(name, ..) if depth == 0 => {
                counts.push(format!("set {}", name.to_ascii_lowercase()))
            }
            Line::Bind { key, .. } if depth == 0 => counts.push(format!("key {key}")),
            _ => {}
        }
    }
    let once = |id: &str| counts.iter().filter(|c| *c == id).count() == 1;

    let mut warnings = Vec::new();
    let mut variables = Attrs::new();
    let mut bindings = Attrs::new();
    let mut extra = String::new();
    let mut comments: Vec<(String, String)> = Vec::new();
    let mut include_system = false;
    // Something whose effect is not known here came before: no line after
    // it may move above it.
    let mut barrier = false;
    let mut anything_before = false;
    let mut binding_seen = false;
    let mut keymap_changed = false;
    let mut in_if: Vec<usize> = Vec::new();
    let mut if_sets: HashSet<String> = HashSet::new();
    let mut mapped_keymap_variables: Vec<String> = Vec::new();
    let raw = |extra: &mut String, comments: &mut Vec<(String, String)>, text: &str| {
        for (line, _) in comments.drain(..) {
            extra.push_str(&line);
            extra.push('\n');
        }
        extra.push_str(text);
        extra.push('\n');
    };
    for (i, line) in lines.iter().enumerate() {
        let text = texts[i];
        let number = i + 1;
        if looks_secret("", text) {
            warnings.push(Warning {
                line: Some(number),
                message: "this line looks like it holds a secret: left out, because what Home Manager writes is readable by every user in /nix/store".into(),
            });
            comments.clear();
            continue;
        }
        if !in_if.is_empty() {
            match line {
                Line::If => in_if.push(number),
                Line::Endif => {
                    in_if.pop();
                }
                Line::Set(name, ..) => {
                    let name = name.to_ascii_lowercase();
                    keymap_changed |= KEYMAP_VARIABLES.contains(&name.as_str());
                    if_sets.insert(format!("set {name}"));
                }
                Line::Bind { key, .. } => {
                    if_sets.insert(format!("key {key}"));
                }
                Line::Include(_) => barrier = true,
                _ => {}
            }
            raw(&mut extra, &mut comments, text);
            continue;
        }
        let mut mapped = false;
        match line {
            Line::Blank => {
                raw(&mut extra, &mut comments, "");
                continue;
            }
            Line::Comment(c) => {
                comments.push((text.to_string(), c.clone()));
                continue;
            }
            Line::If => {
                in_if.push(number);
                binding_seen = true;
            }
            Line::Include(path) if path == SYSTEM_CONFIG && !anything_before && !include_system => {
                include_system = true;
                mapped = true;
                comments.clear();
            }
            Line::Include(_) => barrier = true,
            Line::Set(name, value, ignored) => {
                let lower = name.to_ascii_lowercase();
                let id = format!("set {lower}");
                let keymap = KEYMAP_VARIABLES.contains(&lower.as_str());
                // Home Manager writes `editing-mode` before `keymap`.
                let order_ok = !(lower == "editing-mode"
                    && mapped_keymap_variables.iter().any(|v| v == "keymap"));
                if !barrier
                    && once(&id)
                    && !if_sets.contains(&id)
                    && (!keymap || (!binding_seen && !keymap_changed && order_ok))
                {
                    let mut notes: Vec<String> = comments.drain(..).map(|(_, c)| c).collect();
                    if let Some(note) = note(ignored) {
                        notes.push(note);
                    }
                    variables.set_with_comments(&[name], variable_value(name, value), notes);
                    if keymap {
                        mapped_keymap_variables.push(lower);
                    }
                    mapped = true;
                } else if keymap {
                    keymap_changed = true;
                }
            }
            Line::Bind {
                key,
                sequence,
                value,
                rest,
                equivalence,
            } => {
                let id = format!("key {key}");
                binding_seen = true;
                if !barrier
                    && !keymap_changed
                    && !equivalence
                    && once(&id)
                    && !if_sets.contains(&id)
                    && home_manager_keeps(key, *sequence)
                {
                    let mut notes: Vec<String> = comments.drain(..).map(|(_, c)| c).collect();
                    if let Some(note) = note(rest) {
                        notes.push(note);
                    }
                    bindings.set_with_comments(&[key], Value::str(value), notes);
                    mapped = true;
                }
            }
            Line::Else | Line::Endif => {}
        }
        anything_before = true;
        if !mapped {
            raw(&mut extra, &mut comments, text);
        }
    }
    for (line, _) in comments.drain(..) {
        extra.push_str(&line);
        extra.push('\n');
    }
    if !in_if.is_empty() {
        warnings.push(Warning {
            line: in_if.first().copied(),
            message: "`$if` without `$endif`: kept as written; readline applies its condition to the rest of the file".into(),
        });
    }

    let mut out = Attrs::new();
    out.set(&["enable"], Value::Bool(true));
    // Home Manager includes the system file unless told not to; without
    // the line first in the file, readline never read it (or read it
    // later, as `extraConfig` still does).
    if !include_system {
        out.set(&["includeSystemConfig"], Value::Bool(false));
    }
    if !variables.is_empty() {
        out.set(&["variables"], Value::Attrs(variables));
    }
    if !bindings.is_empty() {
        out.set(&["bindings"], Value::Attrs(bindings));
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

/// What readline ignores after a value, as a comment: usually one.
fn note(ignored: &str) -> Option<String> {
    let text = ignored.strip_prefix('#').unwrap_or(ignored).trim();
    (!text.is_empty()).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{migrate, NoFiles};
    use super::*;
    use expect_test::expect;
    use std::collections::BTreeMap;

    fn run(text: &str) -> (String, Vec<Warning>, Attrs) {
        let m = migrate(
            Source {
                path: "~/.inputrc",
                text,
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        (m.to_nix(0), m.warnings, m.options)
    }

    fn refused(text: &str) -> (usize, String) {
        match migrate(
            Source {
                path: "~/.inputrc",
                text,
            },
            Release::NEWEST,
            &NoFiles,
        ) {
            Err(MigrateError::Syntax { line, message, .. }) => (line, message),
            other => panic!("{text:?} was not refused: {other:?}"),
        }
    }

    fn text_of(value: &Value) -> String {
        match value {
            Value::Bool(b) => (if *b { "on" } else { "off" }).into(),
            Value::Int(i) => i.to_string(),
            Value::Str(s) => s.clone(),
            other => panic!("{other:?}"),
        }
    }

    /// ~/.inputrc as Home Manager's readline module writes it.
    fn render(options: &Attrs) -> String {
        let set = |name: &str| match options.get(name) {
            Some(Value::Attrs(set)) => {
                let mut entries = set.entries.clone();
                entries.sort_by(|a, b| a.name.cmp(&b.name));
                entries
            }
            _ => Vec::new(),
        };
        let mut lines = Vec::new();
        if options.get("includeSystemConfig") != Some(&Value::Bool(false)) {
            lines.push("$include /etc/inputrc".to_string());
        }
        for e in set("variables") {
            lines.push(format!("set {} {}", e.name, text_of(&e.value)));
        }
        for e in set("bindings") {
            let head = e.name.split('-').next().unwrap_or("").to_ascii_lowercase();
            if head == "control" || head == "meta" {
                lines.push(format!("{}: {}", e.name, text_of(&e.value)));
            } else {
                lines.push(format!("\"{}\": {}", e.name, text_of(&e.value)));
            }
        }
        let extra = options.get("extraConfig").map(text_of).unwrap_or_default();
        format!(
            "# Generated by Home Manager.\n\n{}\n{extra}\n",
            lines.join("\n")
        )
    }

    type Effect = (BTreeMap<String, String>, BTreeMap<(String, String), String>);

    /// What readline ends up with after reading `text`: variables and
    /// bindings per keymap. `/etc/inputrc` and any other included file
    /// have made-up contents that touch what the test files set, so an
    /// include moved past a line would show.
    fn effect(text: &str) -> Effect {
        let mut state = (BTreeMap::new(), BTreeMap::new());
        let mut keymap = "emacs".to_string();
        read_into(text, &mut state, &mut keymap);
        state
    }

    fn read_into(text: &str, state: &mut Effect, keymap: &mut String) {
        let mut active: Vec<bool> = Vec::new();
        for raw in text.lines() {
            let on = active.iter().all(|a| *a);
            let line = read_line(raw).unwrap();
            let directive = raw.trim_start().trim_start_matches('$').trim_start();
            match line {
                Line::If => {
                    let condition = directive.split_whitespace().nth(1).unwrap_or("");
                    let mode = state.0.get("editing-mode").map_or("emacs", |m| m.as_str());
                    active.push(match condition.strip_prefix("mode=") {
                        Some(m) => m == mode,
                        None => !condition.starts_with("term="),
                    });
                }
                Line::Else => {
                    let last = active.pop().unwrap();
                    active.push(!last);
                }
                Line::Endif => {
                    active.pop();
                }
                _ if !on => {}
                Line::Include(path) => {
                    let included = if path == SYSTEM_CONFIG {
                        "set bell-style visible\nset colored-stats off\n\"\\e[A\": previous-history\n"
                    } else {
                        "set bell-style audible\n\"jj\": from-include\n"
                    };
                    read_into(included, state, keymap);
                }
                Line::Set(name, value, _) => {
                    let name = name.to_ascii_lowercase();
                    let value = if BOOLEANS.contains(&name.as_str()) {
                        let on =
                            value.is_empty() || value.eq_ignore_ascii_case("on") || value == "1";
                        (if on { "on" } else { "off" }).to_string()
                    } else {
                        value.trim_matches('"').to_string()
                    };
                    match name.as_str() {
                        "editing-mode" => {
                            *keymap = if value == "vi" {
                                "vi-insert".into()
                            } else {
                                "emacs".into()
                            }
                        }
                        "keymap" => *keymap = value.clone(),
                        _ => {}
                    }
                    state.0.insert(name, value);
                }
                Line::Bind { key, value, .. } => {
                    state.1.insert((keymap.clone(), key), value);
                }
                Line::Blank | Line::Comment(_) => {}
            }
        }
    }

    fn assert_round_trip(text: &str) {
        let (_, _, options) = run(text);
        let written = render(&options);
        assert_eq!(effect(text), effect(&written), "{written}");
    }

    const INPUTRC: &str = r#"$include /etc/inputrc
# Case-insensitive completion
set completion-ignore-case On
set show-all-if-ambiguous on # list at once
set completion-query-items 200
set bell-style "none"
set vi-ins-mode-string "\1\e[6 q\2"
set frobnicate-everything 3

# history search on the arrows
"\e[A": history-search-backward
"\e[B":history-search-forward
Control-x: "echo hi"
Meta-Rubout: backward-kill-word
TAB: menu-complete
"\C-x\C-r"   re-read-init-file
$if Bash
  # quote the current word
  "\C-xq": "\eb\"\ef\""
$endif
$if mode=vi
set keymap vi-command
"k": history-search-backward
$endif
"\C-p": previous-history
"#;

    #[test]
    fn variables_bindings_and_the_rest_in_order() {
        let (text, warnings, _) = run(INPUTRC);
        expect![[r#"
            programs.readline = {
              enable = true;
              variables = {
                # Case-insensitive completion
                completion-ignore-case = true;
                # list at once
                show-all-if-ambiguous = true;
                completion-query-items = 200;
                bell-style = "\"none\"";
                vi-ins-mode-string = "\"\\1\\e[6 q\\2\"";
                frobnicate-everything = 3;
              };
              bindings = {
                # history search on the arrows
                "\\e[A" = "history-search-backward";
                "\\e[B" = "history-search-forward";
                Control-x = "\"echo hi\"";
                Meta-Rubout = "backward-kill-word";
                "\\C-x\\C-r" = "re-read-init-file";
              };
              extraConfig = ''
                TAB: menu-complete
                $if Bash
                  # quote the current word
                  "\C-xq": "\eb\"\ef\""
                $endif
                $if mode=vi
                set keymap vi-command
                "k": history-search-backward
                $endif
                "\C-p": previous-history
              '';
            };
        "#]]
        .assert_eq(&text);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_round_trip(INPUTRC);
    }

    #[test]
    fn without_the_system_file_first_home_manager_must_not_include_it() {
        let text = "set editing-mode vi\nset keymap vi-insert\n\"jj\": vi-movement-mode\n$include ~/.inputrc.local\nset bell-style none\n";
        let (nix, _, _) = run(text);
        expect![[r#"
            programs.readline = {
              enable = true;
              includeSystemConfig = false;
              variables = {
                editing-mode = "vi";
                keymap = "vi-insert";
              };
              bindings.jj = "vi-movement-mode";
              extraConfig = ''
                $include ~/.inputrc.local
                set bell-style none
              '';
            };
        "#]]
        .assert_eq(&nix);
        assert_round_trip(text);

        let late = "set bell-style none\n$include /etc/inputrc\nset colored-stats on\n";
        let (nix, _, _) = run(late);
        expect![[r#"
            programs.readline = {
              enable = true;
              includeSystemConfig = false;
              variables.bell-style = "none";
              extraConfig = ''
                $include /etc/inputrc
                set colored-stats on
              '';
            };
        "#]]
        .assert_eq(&nix);
        assert_round_trip(late);
    }

    #[test]
    fn repeats_and_keymap_changes_stay_in_order() {
        let text = "\"\\C-a\": beginning-of-line\nset bell-style none\nset editing-mode vi\n\"\\C-a\": vi-insert-beg\nset bell-style audible\nControl-w: unix-word-rubout\n";
        let (nix, _, _) = run(text);
        expect![[r#"
            programs.readline = {
              enable = true;
              includeSystemConfig = false;
              extraConfig = ''
                "\C-a": beginning-of-line
                set bell-style none
                set editing-mode vi
                "\C-a": vi-insert-beg
                set bell-style audible
                Control-w: unix-word-rubout
              '';
            };
        "#]]
        .assert_eq(&nix);
        assert_round_trip(text);
    }

    #[test]
    fn secrets_are_left_out() {
        let text = "$include /etc/inputrc\n\"\\C-xt\": \"ghp_0123456789abcdef\"\n# token glpat-0123456789\nset bell-style none\n";
        let (nix, warnings, _) = run(text);
        expect![[r#"
            programs.readline = {
              enable = true;
              variables.bell-style = "none";
            };
        "#]]
        .assert_eq(&nix);
        let lines: Vec<Option<usize>> = warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [Some(2), Some(3)]);
    }

    #[test]
    fn lines_readline_rejects_are_refused() {
        for (text, line, message) in [
            ("\"\\C-a: beginning-of-line\n", 1, "no closing"),
            ("\"\\C-a\": \"macro\n", 1, "missing closing quote"),
            (
                "set bell-style none\n$frobnicate\n",
                2,
                "unknown parser directive",
            ),
            ("$endif\n", 1, "without `$if`"),
            ("$else\n", 1, "without `$if`"),
            ("beginning-of-line\n", 1, "terminator"),
            (":foo\n", 1, "missing key sequence"),
        ] {
            let (l, m) = refused(text);
            assert_eq!(l, line, "{text:?}");
            assert!(m.contains(message), "{text:?}: {m}");
        }
        // Inside a `$if`, readline does not read bindings: kept as is.
        let (nix, _, _) = run("$if term=xterm\nnonsense\n$endif\n");
        assert!(nix.contains("nonsense"), "{nix}");
    }

    #[test]
    fn lines_read_as_readline_reads_them() {
        assert_eq!(
            read_line("  set Show-All-If-Ambiguous   on  trailing").unwrap(),
            Line::Set(
                "Show-All-If-Ambiguous".into(),
                "on".into(),
                "trailing".into()
            )
        );
        assert_eq!(
            read_line(r#""\"x": "a \"b\" c" rest"#).unwrap(),
            Line::Bind {
                key: r#"\"x"#.into(),
                sequence: true,
                value: r#""a \"b\" c""#.into(),
                rest: "rest".into(),
                equivalence: false,
            }
        );
        assert!(matches!(
            read_line("\"\\C-a\":= \"\\C-b\"").unwrap(),
            Line::Bind {
                equivalence: true,
                ..
            }
        ));
        assert!(home_manager_keeps("Control-x", false));
        assert!(!home_manager_keeps("C-x", false));
        assert!(!home_manager_keeps("Meta-x", true));
    }
}
