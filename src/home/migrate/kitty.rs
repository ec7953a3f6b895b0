//! `~/.config/kitty/kitty.conf` into `programs.kitty`. Read as kitty reads
//! it (`kitty/conf/utils.py`): lines stripped, a line starting with `\`
//! continues the one before, `#` starts a comment only at the start of a
//! line, and a line is `key value` with the key `[a-zA-Z][a-zA-Z0-9_-]*`;
//! kitty ignores any other line (and so does the migrated file: it is kept
//! in `extraConfig`, with a warning).
//!
//! Home Manager writes, in this order: `font`, `themeFile`,
//! `shell_integration`, `settings` (sorted), `actionAliases`, `keybindings`,
//! `mouseBindings`, `environment`, then `extraConfig`. In kitty a later line
//! wins, so the mapping keeps the file's meaning where order matters:
//! - `key value` goes to `settings.key`: `yes`/`no` as booleans and whole
//!   numbers as integers (Home Manager writes them back as the same text),
//!   decimals as floats for the options kitty reads as numbers (written back
//!   with six decimals, so only those with at most six). A key given more
//!   than once stays in `extraConfig`, in order: several kitty options add
//!   up (`symbol_map`, `font_features`...), and a set keeps one value.
//! - `map k action` goes to `keybindings."k"`, the last one winning as in
//!   kitty; `map --mode ...` and the like stay in `extraConfig`.
//!   `mouse_map button event modes action` goes to `mouseBindings."button
//!   event"`, `env K=V` to `environment.K`, `action_alias` to
//!   `actionAliases` (25.05 on), each unless repeated (then raw, in order).
//! - `font_family`/`font_size` go to `font.name`/`font.size`,
//!   `shell_integration` to `shellIntegration.mode`.
//! - `include .../themes/X.conf` goes to `themeFile = "X"` (24.11 on) when
//!   nothing before it sets a colour or includes a file: Home Manager
//!   includes the theme before the settings.
//! - Other includes, `globinclude`, `envinclude`, `geninclude` stay in
//!   `extraConfig`, which comes after the typed options. An included file
//!   the caller can read is checked: typed lines after the include that set
//!   what it sets stay raw too, after it; one that cannot be read gets a
//!   warning when typed lines follow it.
//!
//! Comments directly above a line (no blank line between) are kept above
//! its binding, or with it in `extraConfig`; `#:` lines, kitty's own
//! documentation in a generated kitty.conf, are dropped.

use std::collections::{HashMap, HashSet};

use super::nix::{Attrs, Value};
use super::starship::float_literal;
use super::{looks_secret, Converted, Files, MigrateError, Release, Source, Warning};

/// The file, beside kitty.conf and not managed by Home Manager, for the
/// lines left out as secrets; the migrated config includes it.
pub const SECRETS_FILE: &str = "~/.config/kitty/secrets.conf";

/// Options kitty reads as a decimal number (`float`, `positive_float`,
/// `unit_float` and the like in `kitty/options/definition.py`).
const FLOAT_KEYS: &[&str] = &[
    "font_size",
    "background_opacity",
    "background_tint",
    "background_tint_gaps",
    "dim_opacity",
    "inactive_text_alpha",
    "window_logo_alpha",
    "momentum_scroll",
    "cursor_beam_thickness",
    "cursor_underline_thickness",
    "cursor_blink_interval",
    "cursor_stop_blinking_after",
    "mouse_hide_wait",
    "click_interval",
    "wheel_scroll_multiplier",
    "touch_scroll_multiplier",
    "visual_bell_duration",
    "tab_bar_margin_width",
    "macos_thicken_font",
    "map_timeout",
    "scrollbar_width",
    "scrollbar_hover_width",
    "scrollbar_handle_opacity",
    "scrollbar_radius",
    "scrollbar_gap",
    "scrollbar_track_opacity",
    "scrollbar_track_hover_opacity",
];

/// One line of kitty.conf (with its continuation lines) that is not blank
/// or a comment.
#[derive(Debug)]
struct Line {
    /// 1-based number of its first physical line.
    number: usize,
    /// The comment lines above and the line, as written.
    raw: String,
    /// `None` for a line kitty ignores.
    setting: Option<(String, String)>,
    comments: Vec<String>,
}

/// Where a line goes.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    Raw,
    Secret,
    Theme(String),
    Setting,
    FontName,
    FontSize,
    ShellIntegration,
    Key(String, String),
    Mouse(String, String),
    Env(String, String),
    Alias(String, String),
}

pub fn convert(
    source: Source<'_>,
    release: Release,
    files: &dyn Files,
) -> Result<Converted, MigrateError> {
    let lines = parse(source.text);
    let mut warnings = Vec::new();
    let mut targets = targets(&lines, release);
    for (i, line) in lines.iter().enumerate() {
        if targets[i] == Target::Raw
            && line
                .setting
                .as_ref()
                .is_some_and(|(k, _)| k.ends_with("include"))
        {
            check_include(source.path, &lines, &mut targets, i, files, &mut warnings);
        }
    }

    let mut out = Attrs::new();
    out.set(&["enable"], Value::Bool(true));
    let mut raw = Vec::new();
    let mut secrets = false;
    let mut shell_integration = None;
    for (line, target) in lines.iter().zip(&targets) {
        let comments = line.comments.clone();
        let Some((key, value)) = &line.setting else {
            warnings.push(Warning {
                line: Some(line.number),
                message: "kitty ignores this line (not `key value`): kept as it is in extraConfig"
                    .into(),
            });
            raw.push(line.raw.as_str());
            continue;
        };
        match target {
            Target::Raw => raw.push(line.raw.as_str()),
            Target::Secret => {
                secrets = true;
                let key = match value.split_once('=') {
                    Some((name, _)) if key == "env" => format!("env {}", name.trim()),
                    _ => key.clone(),
                };
                warnings.push(Warning {
                    line: Some(line.number),
                    message: format!(
                        "`{key}` looks like it holds a secret: left out, because what Home Manager writes is readable by every user in /nix/store; move the line to {SECRETS_FILE} (not managed by Home Manager), which the migrated kitty.conf includes"
                    ),
                });
            }
            Target::Theme(name) => {
                out.set_with_comments(&["themeFile"], Value::str(name), comments);
                warnings.push(Warning {
                    line: Some(line.number),
                    message: format!(
                        "`{value}` is now `themeFile = \"{name}\"`: Home Manager takes the theme from the kitty-themes package and fails to activate if it has none of that name; if {name}.conf is your own, keep the include in extraConfig instead"
                    ),
                });
            }
            Target::Setting => {
                out.set_with_comments(&["settings", key], setting_value(key, value), comments)
            }
            Target::FontName => {
                out.set_with_comments(&["font", "name"], Value::str(value), comments)
            }
            Target::FontSize => {
                out.set_with_comments(&["font", "size"], setting_value(key, value), comments)
            }
            Target::ShellIntegration => {
                out.set_with_comments(&["shellIntegration", "mode"], Value::str(value), comments);
                shell_integration = Some((line.number, value.as_str()));
            }
            Target::Key(k, action) => {
                out.set_with_comments(&["keybindings", k], Value::str(action), comments)
            }
            Target::Mouse(k, action) => {
                out.set_with_comments(&["mouseBindings", k], Value::str(action), comments)
            }
            Target::Env(k, v) => {
                out.set_with_comments(&["environment", k], Value::str(v), comments)
            }
            Target::Alias(k, action) => {
                out.set_with_comments(&["actionAliases", k], Value::str(action), comments)
            }
        }
    }
    // Home Manager adds `no-rc` (kitty then leaves the shells alone) and
    // loads the integration from the shells it configures.
    if !shell_integration.is_some_and(|(_, mode)| mode.split_whitespace().any(|m| m == "disabled"))
    {
        warnings.push(Warning {
            line: shell_integration.map(|(number, _)| number),
            message: "Home Manager writes `shell_integration no-rc ...` and loads kitty's shell integration from the bash, zsh and fish configurations it manages; for a shell it does not manage, set `programs.kitty.shellIntegration.mode = null;` so that kitty loads it itself, as before".into(),
        });
    }
    let mut extra = raw.join("\n");
    if secrets {
        if !extra.is_empty() {
            extra.push('\n');
        }
        // `globinclude` of a missing file is no error, `include` is.
        extra.push_str(
            "# Secrets, in a file Home Manager does not manage\nglobinclude secrets.conf",
        );
    }
    if !extra.is_empty() {
        extra.push('\n');
        out.set(&["extraConfig"], Value::Str(extra));
    }
    Ok(Converted {
        options: out,
        also: Attrs::new(),
        warnings,
    })
}

/// The file's lines as kitty reads them.
fn parse(text: &str) -> Vec<Line> {
    let physical: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut comments = Vec::new();
    let mut comments_raw = String::new();
    let mut i = 0;
    while i < physical.len() {
        let start = i;
        let mut line = physical[i].trim_start().to_string();
        i += 1;
        while let Some(rest) = physical
            .get(i)
            .and_then(|l| l.trim_start().strip_prefix('\\'))
        {
            line.push_str(rest);
            i += 1;
        }
        let raw = physical[start..i].join("\n");
        let line = line.trim();
        if line.is_empty() {
            comments.clear();
            comments_raw.clear();
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if !comment.starts_with(':') {
                comments.push(comment.trim().to_string());
                comments_raw.push_str(&raw);
                comments_raw.push('\n');
            }
            continue;
        }
        out.push(Line {
            number: start + 1,
            raw: format!("{comments_raw}{raw}"),
            setting: split_key(line).map(|(k, v)| (k.to_string(), v.to_string())),
            comments: std::mem::take(&mut comments),
        });
        comments_raw.clear();
    }
    out
}

/// kitty's `([a-zA-Z][a-zA-Z0-9_-]*)\s+(.+)$` on a stripped line.
fn split_key(line: &str) -> Option<(&str, &str)> {
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(line.len());
    let (key, rest) = line.split_at(end);
    let valid =
        key.starts_with(|c: char| c.is_ascii_alphabetic()) && rest.starts_with(char::is_whitespace);
    valid.then(|| (key, rest.trim_start()))
}

/// The first `n` words of `value` (joined by one space) and the rest.
fn words(value: &str, n: usize) -> Option<(String, String)> {
    let mut rest = value.trim_start();
    let mut first = Vec::new();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        if end == 0 {
            return None;
        }
        first.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    Some((first.join(" "), rest.to_string()))
}

/// What a `key value` line sets, to compare lines that may override each
/// other: the key, with the bound key for `map`, `mouse_map`, `env` and
/// `action_alias`.
fn slot(key: &str, value: &str) -> String {
    let n = match key {
        "map" | "action_alias" => 1,
        "mouse_map" => 2,
        "env" => return format!("env {}", value.split('=').next().unwrap_or("").trim()),
        _ => return key.to_string(),
    };
    match words(value, n) {
        Some((bound, _)) => format!("{key} {bound}"),
        None => key.to_string(),
    }
}

fn targets(lines: &[Line], release: Release) -> Vec<Target> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for (key, value) in lines.iter().filter_map(|l| l.setting.as_ref()) {
        *counts.entry(slot(key, value)).or_default() += 1;
    }
    let once = |key: &str, value: &str| counts[&slot(key, value)] == 1;
    let font_name = lines
        .iter()
        .filter_map(|l| l.setting.as_ref())
        .any(|(k, v)| k == "font_family" && once(k, v));
    let mut out = Vec::new();
    // Whether a colour was set or a file included yet: a theme included
    // after either cannot move before the settings.
    let mut colours_or_includes = false;
    for line in lines {
        let Some((key, value)) = &line.setting else {
            out.push(Target::Raw);
            continue;
        };
        let (key, value) = (key.as_str(), value.as_str());
        let env = value.split_once('=');
        let secret = match (key, env) {
            ("env", Some((name, v))) => looks_secret(name.trim(), v),
            _ => looks_secret(key, value),
        };
        let theme = theme_name(value).filter(|_| {
            key == "include" && !colours_or_includes && release >= Release::new(24, 11)
        });
        let target = if secret {
            Target::Secret
        } else if let Some(name) = theme {
            Target::Theme(name.to_string())
        } else {
            match key {
                _ if key.ends_with("include") => Target::Raw,
                "map" => match words(value, 1) {
                    Some((k, action)) if !k.starts_with("--") => Target::Key(k, action),
                    _ => Target::Raw,
                },
                "action_alias" if release >= Release::new(25, 5) => match words(value, 1) {
                    Some((name, action)) => Target::Alias(name, action),
                    None => Target::Raw,
                },
                _ if !once(key, value) => Target::Raw,
                "mouse_map" => match words(value, 2) {
                    Some((k, action)) if !action.is_empty() => Target::Mouse(k, action),
                    _ => Target::Raw,
                },
                "env" => match env {
                    Some((name, v)) => Target::Env(name.trim().to_string(), v.to_string()),
                    None => Target::Raw,
                },
                "font_family" => Target::FontName,
                "font_size"
                    if font_name
                        && matches!(setting_value(key, value), Value::Int(_) | Value::Code(_)) =>
                {
                    Target::FontSize
                }
                "shell_integration" => Target::ShellIntegration,
                "action_alias" => Target::Raw,
                _ => Target::Setting,
            }
        };
        colours_or_includes |= key.ends_with("include") || is_colour(key);
        out.push(target);
    }
    out
}

/// `X` of `include .../themes/X.conf`.
fn theme_name(path: &str) -> Option<&str> {
    let (dir, name) = path.strip_suffix(".conf")?.rsplit_once('/')?;
    let themes = dir.rsplit('/').next() == Some("themes");
    (themes && !name.is_empty() && !name.contains(['$', ' '])).then_some(name)
}

/// Options a colour theme sets.
fn is_colour(key: &str) -> bool {
    key.contains("color")
        || key.ends_with("foreground")
        || key.ends_with("background")
        || key == "cursor"
}

/// The typed lines after include `at` that set what the included file sets
/// go raw, after it; when the file cannot be read (or includes others), a
/// warning says the typed options now come before it.
fn check_include(
    path: &str,
    lines: &[Line],
    targets: &mut [Target],
    at: usize,
    files: &dyn Files,
    warnings: &mut Vec<Warning>,
) {
    let later: Vec<usize> = (at + 1..lines.len())
        .filter(|&i| !matches!(targets[i], Target::Raw | Target::Secret))
        .collect();
    if later.is_empty() {
        return;
    }
    let Some((key, value)) = &lines[at].setting else {
        return;
    };
    let included = (key == "include" && !value.contains('$'))
        .then(|| files.read(&include_path(path, value)))
        .flatten()
        .map(|text| parse(&text))
        .filter(|included| {
            !included.iter().any(|l| {
                l.setting
                    .as_ref()
                    .is_some_and(|(k, _)| k.ends_with("include"))
            })
        });
    let Some(included) = included else {
        warnings.push(Warning {
            line: Some(lines[at].number),
            message: format!(
                "`{key} {value}` is kept in extraConfig, which Home Manager writes after the typed options: typed options from lines after it now come before it, so any of them it also sets now takes its value"
            ),
        });
        return;
    };
    let sets: HashSet<String> = included
        .iter()
        .filter_map(|l| l.setting.as_ref())
        .map(|(k, v)| slot(k, v))
        .collect();
    for i in later {
        if let Some((k, v)) = &lines[i].setting {
            if sets.contains(&slot(k, v)) {
                targets[i] = Target::Raw;
            }
        }
    }
}

/// Where kitty looks for an included file: relative to kitty.conf's folder.
fn include_path(config: &str, include: &str) -> String {
    if include.starts_with(['/', '~']) {
        return include.to_string();
    }
    match config.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/{include}"),
        None => include.to_string(),
    }
}

/// A setting as Home Manager writes it back as the same text: `yes`/`no`
/// as booleans, whole numbers as integers, and, where kitty reads a number,
/// decimals of at most six places (Home Manager writes floats with six) as
/// floats.
fn setting_value(key: &str, value: &str) -> Value {
    match value {
        "yes" => return Value::Bool(true),
        "no" => return Value::Bool(false),
        _ => {}
    }
    let digits = value.strip_prefix('-').unwrap_or(value);
    let whole = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    if whole && (digits == "0" || !digits.starts_with('0')) {
        if let Ok(n) = value.parse() {
            return Value::Int(n);
        }
    }
    if let Some((int, fraction)) = digits.split_once('.') {
        let decimal = !int.is_empty()
            && (1..=6).contains(&fraction.len())
            && int
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit());
        if decimal && FLOAT_KEYS.contains(&key) {
            if let Some(literal) = value.parse().ok().and_then(float_literal) {
                return Value::Code(literal);
            }
        }
    }
    Value::str(value)
}

#[cfg(test)]
mod tests {
    use super::super::migrate;
    use super::*;
    use expect_test::expect;

    use super::super::tests::Map;

    const KITTY: &str = r#"# vim:fileencoding=utf-8:foldmethod=marker

#: Fonts {{{
# The Nerd Font patched one
font_family      JetBrainsMono Nerd Font
font_size 11.5
#: }}}

include themes/Tokyo_Night.conf
include local.conf

background_opacity 0.92
cursor_blink_interval 0
enable_audio_bell no
scrollback_lines 10000
window_padding_width 4 8
remember_window_size  yes
symbol_map U+E0A0-U+E0A3,U+E0C0-U+E0C7 PowerlineSymbols
symbol_map U+F000-U+F2E0 Font Awesome
kitty_mod ctrl+shift
shell_integration no-cursor
remote_control_password "hunter2" set-colors

# Tabs
map kitty_mod+t new_tab_with_cwd
map kitty_mod+enter launch --cwd=current
map ctrl+shift+c copy_to_clipboard
map kitty_mod+t     new_tab
map --when-focus-on var:in_editor ctrl+s send_text normal \x13
map f1 launch --type=overlay
    \ --title=help
    \ man kitty
mouse_map ctrl+left click ungrabbed mouse_handle_click selection link prompt
action_alias launch_tab launch --type=tab --cwd=current
env PATH=${HOME}/.local/bin:${PATH}
env GITHUB_TOKEN=ghp_0123456789abcdef0123
=not a kitty line
include ${KITTY_OS}.conf
"#;

    const LOCAL: &[(&str, &str)] = &[(
        "~/.config/kitty/local.conf",
        "background_opacity 1.0\nmap kitty_mod+enter new_window\n",
    )];

    #[test]
    fn kitty_conf_into_typed_options() {
        let m = migrate(
            Source {
                path: "~/.config/kitty/kitty.conf",
                text: KITTY,
            },
            Release::NEWEST,
            &Map(LOCAL),
        )
        .unwrap();
        expect![[r#"
            programs.kitty = {
              enable = true;
              font = {
                # The Nerd Font patched one
                name = "JetBrainsMono Nerd Font";
                size = 11.5;
              };
              themeFile = "Tokyo_Night";
              settings = {
                cursor_blink_interval = 0;
                enable_audio_bell = false;
                scrollback_lines = 10000;
                window_padding_width = "4 8";
                remember_window_size = true;
                kitty_mod = "ctrl+shift";
              };
              shellIntegration.mode = "no-cursor";
              keybindings = {
                # Tabs
                "kitty_mod+t" = "new_tab";
                "ctrl+shift+c" = "copy_to_clipboard";
                f1 = "launch --type=overlay --title=help man kitty";
              };
              mouseBindings."ctrl+left click" = "ungrabbed mouse_handle_click selection link prompt";
              actionAliases.launch_tab = "launch --type=tab --cwd=current";
              environment.PATH = "\${HOME}/.local/bin:\${PATH}";
              extraConfig = ''
                include local.conf
                background_opacity 0.92
                symbol_map U+E0A0-U+E0A3,U+E0C0-U+E0C7 PowerlineSymbols
                symbol_map U+F000-U+F2E0 Font Awesome
                map kitty_mod+enter launch --cwd=current
                map --when-focus-on var:in_editor ctrl+s send_text normal \x13
                =not a kitty line
                include ''${KITTY_OS}.conf
                # Secrets, in a file Home Manager does not manage
                globinclude secrets.conf
              '';
            };
        "#]]
        .assert_eq(&m.to_nix(0));
        let warnings: Vec<(Option<usize>, &str)> = m
            .warnings
            .iter()
            .map(|w| (w.line, &w.message[..40]))
            .collect();
        expect![[r#"
            [
                (
                    Some(
                        9,
                    ),
                    "`themes/Tokyo_Night.conf` is now `themeF",
                ),
                (
                    Some(
                        22,
                    ),
                    "`remote_control_password` looks like it ",
                ),
                (
                    Some(
                        36,
                    ),
                    "`env GITHUB_TOKEN` looks like it holds a",
                ),
                (
                    Some(
                        37,
                    ),
                    "kitty ignores this line (not `key value`",
                ),
                (
                    Some(
                        21,
                    ),
                    "Home Manager writes `shell_integration n",
                ),
            ]
        "#]]
        .assert_debug_eq(&warnings);
    }

    #[test]
    fn values_are_typed_only_where_written_back_the_same() {
        let cases = [
            ("enable_audio_bell", "no", Value::Bool(false)),
            ("confirm_os_window_close", "-1", Value::Int(-1)),
            ("background_opacity", "0.85", Value::code("0.85")),
            ("background_opacity", "0.1234567", Value::str("0.1234567")),
            ("tab_title_template", "1.5", Value::str("1.5")),
            ("scrollback_lines", "010", Value::str("010")),
            ("allow_remote_control", "y", Value::str("y")),
        ];
        for (key, value, expected) in cases {
            assert_eq!(setting_value(key, value), expected, "{key} {value}");
        }
    }

    #[test]
    fn includes_keep_their_place() {
        // A theme after a colour stays an include, still after it.
        let text = "background #1e1e2e\ninclude themes/Nord.conf\n";
        let m = migrate(
            Source {
                path: "kitty.conf",
                text,
            },
            Release::NEWEST,
            &Map(&[]),
        )
        .unwrap();
        expect![[r##"
            programs.kitty = {
              enable = true;
              settings.background = "#1e1e2e";
              extraConfig = "include themes/Nord.conf\n";
            };
        "##]]
        .assert_eq(&m.to_nix(0));
        // An include that cannot be read, with typed options after it.
        let text = "include colors.conf\nforeground #cdd6f4\n";
        let m = migrate(
            Source {
                path: "kitty.conf",
                text,
            },
            Release::NEWEST,
            &Map(&[]),
        )
        .unwrap();
        assert_eq!(m.warnings[0].line, Some(1));
        assert!(
            m.warnings[0].message.contains("now come before it"),
            "{}",
            m.warnings[0].message
        );
    }

    #[test]
    fn older_releases_keep_what_they_have_no_option_for() {
        let text = "font_size 12\nshell_integration disabled\ninclude themes/Nord.conf\naction_alias lt launch --type=tab\n";
        let m = migrate(
            Source {
                path: "kitty.conf",
                text,
            },
            Release::new(24, 5),
            &Map(&[]),
        )
        .unwrap();
        expect![[r#"
            programs.kitty = {
              enable = true;
              settings.font_size = 12;
              shellIntegration.mode = "disabled";
              extraConfig = ''
                include themes/Nord.conf
                action_alias lt launch --type=tab
              '';
            };
        "#]]
        .assert_eq(&m.to_nix(0));
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    }
}
