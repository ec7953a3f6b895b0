//! `~/.config/alacritty/alacritty.toml` into `programs.alacritty`: the TOML
//! file as `settings`, read as starship's is (see [`super::starship`]).
//! Control characters in strings (`chars = "\u001b[3~"` key bindings) are
//! written as the text `\u001b`, the form Home Manager's alacritty module
//! turns back into TOML escapes. An import of a theme from the
//! alacritty-theme collection becomes `theme = "<name>"` (Home Manager 25.05
//! on) when it is the only import: Home Manager adds its own import, and
//! alacritty gives later imports precedence, so with other imports the list
//! stays as written.
//!
//! The YAML file of alacritty before 0.13 is refused: Home Manager writes
//! only TOML, whose keys differ, and `alacritty migrate` converts it.

use super::nix::{Attrs, Value};
use super::starship::{read_toml, Strings};
use super::{Converted, Files, MigrateError, Release, Source};

pub fn convert(
    source: Source<'_>,
    release: Release,
    _files: &dyn Files,
) -> Result<Converted, MigrateError> {
    if source.path.ends_with(".yml") || source.path.ends_with(".yaml") {
        return Err(MigrateError::Syntax {
            path: source.path.to_string(),
            line: 1,
            message: "this is alacritty's YAML configuration, which alacritty 0.13 replaced with TOML and Home Manager no longer writes; run `alacritty migrate` to convert it to alacritty.toml, then migrate that file".into(),
        });
    }
    let toml = read_toml(
        source,
        Strings::UnicodeEscapes,
        "put it in a TOML file Home Manager does not manage and add that file to `general.import` (alacritty skips imports that are missing)",
    )?;
    let mut settings = toml.settings;
    let mut out = Attrs::new();
    out.set(&["enable"], Value::Bool(true));
    if release >= Release::new(25, 5) {
        if let Some((theme, comments)) = take_theme(&mut settings) {
            out.set_with_comments(&["theme"], Value::Str(theme), comments);
        }
    }
    if !settings.is_empty() {
        out.set(&["settings"], Value::Attrs(settings));
    }
    Ok(Converted {
        options: out,
        also: Attrs::new(),
        warnings: toml.warnings,
    })
}

/// Removes the import of a packaged theme from `settings` when it is the
/// only import (`general.import`, or `import` before alacritty 0.14), and
/// returns the theme's name with the comments above the import.
fn take_theme(settings: &mut Attrs) -> Option<(String, Vec<String>)> {
    let general = match settings.get("general") {
        Some(Value::Attrs(general)) => general.get("import"),
        _ => None,
    };
    let (path, imports) = match (settings.get("import"), general) {
        (Some(imports), None) => (vec!["import"], imports),
        (None, Some(imports)) => (vec!["general", "import"], imports),
        _ => return None,
    };
    let Value::List(items) = imports else {
        return None;
    };
    let [Value::Str(import)] = items.as_slice() else {
        return None;
    };
    let name = packaged_theme(import)?.to_string();
    let (last, parents) = path.split_last()?;
    let set = settings.at(parents);
    let index = set.entries.iter().position(|e| e.name == *last)?;
    let comments = set.entries.remove(index).comments;
    if matches!(settings.get("general"), Some(Value::Attrs(g)) if g.is_empty()) {
        settings.remove(&["general"]);
    }
    Some((name, comments))
}

/// The name of a theme of the alacritty-theme collection, which Home
/// Manager's `theme` takes from the package: a path in the package
/// (`.../alacritty-theme/<name>.toml`) or in the repository as its README
/// has it cloned (`~/.config/alacritty/themes/themes/<name>.toml`).
fn packaged_theme(path: &str) -> Option<&str> {
    let (dir, name) = path.strip_suffix(".toml")?.rsplit_once('/')?;
    let packaged = dir.contains("alacritty-theme") || dir.ends_with("themes/themes");
    (packaged && !name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::super::starship::tests::assert_round_trip;
    use super::super::{migrate, NoFiles};
    use super::*;
    use expect_test::expect;

    const ALACRITTY: &str = r#"[general]
# Tokyo Night, from alacritty-theme
import = ["~/.config/alacritty/themes/themes/tokyo_night.toml"]
live_config_reload = true

[env]
TERM = "xterm-256color"
GITHUB_TOKEN = "ghp_0123456789abcdef0123"

[window]
opacity = 0.95
padding = { x = 6, y = 6 }
decorations = "None" # no title bar

[font]
size = 11.5
normal = { family = "JetBrainsMono Nerd Font", style = "Regular" }

# Ctrl-K clears; Shift-Backspace deletes forward
[[keyboard.bindings]]
key = "K"
mods = "Control"
chars = "\u000c"

[[keyboard.bindings]]
key = "Back"
mods = "Shift"
chars = "\u001b[3~"

[terminal.shell]
program = "/bin/zsh"
args = ["-l", "-c", "tmux new -A -s main"]
"#;

    /// What Home Manager's alacritty module does to strings before writing:
    /// the text `\u001b` becomes the character.
    fn unescape(value: &mut Value) {
        match value {
            Value::Str(s) => {
                while let Some(at) = s.find("\\u") {
                    let code = u32::from_str_radix(&s[at + 2..at + 6], 16).unwrap();
                    s.replace_range(at..at + 6, &char::from_u32(code).unwrap().to_string());
                }
            }
            Value::List(items) => items.iter_mut().for_each(unescape),
            Value::Attrs(set) => set.entries.iter_mut().for_each(|e| unescape(&mut e.value)),
            _ => {}
        }
    }

    #[test]
    fn settings_theme_and_escapes() {
        let m = migrate(
            Source {
                path: "~/.config/alacritty/alacritty.toml",
                text: ALACRITTY,
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        expect![[r#"
            programs.alacritty = {
              enable = true;
              # Tokyo Night, from alacritty-theme
              theme = "tokyo_night";
              settings = {
                general.live_config_reload = true;
                env.TERM = "xterm-256color";
                window = {
                  opacity = 0.95;
                  padding = {
                    x = 6;
                    y = 6;
                  };
                  # no title bar
                  decorations = "None";
                };
                font = {
                  size = 11.5;
                  normal = {
                    family = "JetBrainsMono Nerd Font";
                    style = "Regular";
                  };
                };
                keyboard = {
                  # Ctrl-K clears; Shift-Backspace deletes forward
                  bindings = [
                    {
                      key = "K";
                      mods = "Control";
                      chars = "\\u000c";
                    }
                    {
                      key = "Back";
                      mods = "Shift";
                      chars = "\\u001b[3~";
                    }
                  ];
                };
                terminal.shell = {
                  program = "/bin/zsh";
                  args = [ "-l" "-c" "tmux new -A -s main" ];
                };
              };
            };
        "#]]
        .assert_eq(&m.to_nix(0));
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        assert_eq!(m.warnings[0].line, Some(8));
        assert!(m.warnings[0]
            .message
            .contains("`env.GITHUB_TOKEN` looks like a secret"));

        // Home Manager writes back the file but the secret and the import,
        // which it makes itself from `theme`.
        let mut settings = m.options.get("settings").unwrap().clone();
        unescape(&mut settings);
        let expected = ALACRITTY
            .replace(
                "import = [\"~/.config/alacritty/themes/themes/tokyo_night.toml\"]\n",
                "",
            )
            .replace("GITHUB_TOKEN = \"ghp_0123456789abcdef0123\"\n", "");
        assert_round_trip(&expected, &settings);
    }

    #[test]
    fn imports_stay_when_not_only_a_packaged_theme_or_before_25_05() {
        for (text, release) in [
            ("import = [\"~/.config/alacritty/themes/themes/dracula.toml\"]\n", Release::new(24, 11)),
            ("[general]\nimport = [\"~/.config/alacritty/themes/themes/dracula.toml\", \"~/.config/alacritty/local.toml\"]\n", Release::NEWEST),
            ("[general]\nimport = [\"~/.config/alacritty/my-colors.toml\"]\n", Release::NEWEST),
        ] {
            let m = migrate(Source { path: "alacritty.toml", text }, release, &NoFiles).unwrap();
            let nix = m.to_nix(0);
            assert!(!nix.contains("theme ="), "{nix}");
            assert!(nix.contains("import = ["), "{nix}");
        }
        let text = "import = [\"/nix/store/abc-alacritty-theme-0-unstable/share/alacritty-theme/gruvbox_dark.toml\"]\n";
        let m = migrate(
            Source {
                path: "alacritty.toml",
                text,
            },
            Release::new(25, 5),
            &NoFiles,
        )
        .unwrap();
        assert_eq!(
            m.to_nix(0),
            "programs.alacritty = {\n  enable = true;\n  theme = \"gruvbox_dark\";\n};\n"
        );
    }

    #[test]
    fn yaml_is_refused_with_the_way_out() {
        let err = migrate(
            Source {
                path: "~/.config/alacritty/alacritty.yml",
                text: "font:\n  size: 11\n",
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap_err();
        assert!(matches!(&err, MigrateError::Syntax { line: 1, .. }));
        assert!(err.to_string().contains("alacritty migrate"), "{err}");
    }

    #[test]
    fn literal_escape_text_is_flagged() {
        let text = "[[keyboard.bindings]]\nkey = \"A\"\nchars = '\\u0041'\n";
        let m = migrate(
            Source {
                path: "alacritty.toml",
                text,
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        assert_eq!(m.warnings.len(), 1);
        assert_eq!(m.warnings[0].line, Some(3));
    }

    #[test]
    fn bad_toml_is_refused() {
        let err = migrate(
            Source {
                path: "alacritty.toml",
                text: "[window]\nopacity = \n",
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap_err();
        assert!(matches!(err, MigrateError::Syntax { line: 2, .. }), "{err}");
    }
}
