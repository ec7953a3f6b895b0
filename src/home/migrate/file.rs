//! Any other dotfile, as it is: `xdg.configFile."<path below ~/.config>"`
//! or `home.file."<path below ~>"` with the file's `text` (Home Manager
//! writes it byte for byte). The text is written as a Nix string only when
//! it reads back exactly (checked by parsing the string the writer makes);
//! a file it cannot hold (a NUL, control characters, lines of only spaces
//! or tabs, which the `''` string writer does not keep) becomes
//! `source = ./<name>`, the file copied beside the Nix file. JSON and TOML
//! files are text too: `text` keeps them, comments and all, where a
//! `lib.importJSON` round trip would not, and needs no second file.
//! Whether the file is executable cannot be known from its text, so
//! `executable` is left out.
//!
//! A file that looks like it holds a secret (`key = value` where the value
//! looks like a credential, or a private key) is not put in Nix: everything
//! in /nix/store is readable by every user. It becomes a link, outside the
//! store, to the file moved to [`SECRETS_DIR`].

use super::nix::{self, Attrs, Value};
use super::{looks_secret, Converted, Files, MigrateError, Release, Source, Warning};
use crate::syntax::read::string_value;

/// Where secret files go, below the home folder: a folder Home Manager does
/// not manage, which the migrated file links to.
pub const SECRETS_DIR: &str = ".local/share/secrets";

pub fn convert(
    source: Source<'_>,
    _release: Release,
    _files: &dyn Files,
) -> Result<Converted, MigrateError> {
    let mut out = Attrs::new();
    let mut warnings = Vec::new();
    let relative = home_relative(source.path);
    if relative.starts_with('/') {
        warnings.push(Warning {
            line: None,
            message: format!(
                "{} is outside the home folder, where Home Manager does not write files",
                source.path
            ),
        });
    }
    let name = relative.rsplit('/').next().unwrap_or(&relative);
    if let Some(line) = secret_line(source.text) {
        let moved = format!("{SECRETS_DIR}/{}", relative.trim_start_matches('/'));
        out.set(
            &["source"],
            Value::Code(format!(
                "config.lib.file.mkOutOfStoreSymlink \"${{config.home.homeDirectory}}/{moved}\""
            )),
        );
        warnings.push(Warning {
            line: Some(line),
            message: format!(
                "{} looks like it holds a secret: not copied into the configuration, because everything in /nix/store is readable by every user; move it to ~/{moved} (Home Manager does not manage that folder), where {} will link to it",
                source.path, source.path
            ),
        });
    } else if !source.text.contains('\0') && keeps(source.text) {
        out.set(&["text"], Value::str(source.text));
    } else {
        out.set(&["source"], Value::Code(path_literal(name)));
        warnings.push(Warning {
            line: None,
            message: format!(
                "{} has characters (a NUL, control characters or lines of only spaces or tabs) that a Nix string would not keep exactly: copy the file as `{name}` beside the Nix file that gets this option",
                source.path
            ),
        });
    }
    Ok(Converted {
        options: out,
        also: Attrs::new(),
        warnings,
    })
}

/// Where the file goes: `xdg.configFile."<path below ~/.config>"` or
/// `home.file."<path below ~>"`.
pub fn option(path: &str) -> Vec<String> {
    let relative = home_relative(path);
    match relative.strip_prefix(".config/") {
        Some(rest) if !rest.is_empty() => vec!["xdg".into(), "configFile".into(), rest.into()],
        _ => vec!["home".into(), "file".into(), relative],
    }
}

/// `path` relative to the home folder (`.config/...` for one below
/// `$XDG_CONFIG_HOME`), or as it is when absolute elsewhere. A relative
/// path is taken as relative to the home folder.
fn home_relative(path: &str) -> String {
    let path = path.replace('\\', "/");
    for prefix in ["$XDG_CONFIG_HOME/", "${XDG_CONFIG_HOME}/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            return format!(".config/{rest}");
        }
    }
    for prefix in ["~/", "$HOME/", "${HOME}/", "./"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            return rest.to_string();
        }
    }
    // `/home/<user>/...`, `/Users/<user>/...`, `/root/...`.
    let parts: Vec<&str> = path.splitn(4, '/').collect();
    match parts.as_slice() {
        ["", "home" | "Users", user, rest] if !user.is_empty() => rest.to_string(),
        ["", "root", first, rest] => format!("{first}/{rest}"),
        ["", "root", rest] => rest.to_string(),
        _ => path,
    }
}

/// Whether the string the Nix writer makes of `text` reads back as `text`.
fn keeps(text: &str) -> bool {
    let written = nix::string(text, 2);
    let parse = rnix::Root::parse(&written);
    parse.errors().is_empty()
        && parse
            .tree()
            .expr()
            .and_then(|expr| string_value(&expr))
            .is_some_and(|value| value == text)
}

/// The 1-based line of the first thing that looks like a secret: a private
/// key, a credential-shaped value, `key = value` / `key: value` where
/// [`looks_secret`] says so (the key's last part: `//host/:_authToken`), or
/// netrc's `password <value>`.
fn secret_line(text: &str) -> Option<usize> {
    let secret = |line: &str| {
        let line = line.trim();
        if line.starts_with("-----BEGIN") && line.contains("PRIVATE KEY") {
            return true;
        }
        if line.starts_with(['#', ';']) {
            return false;
        }
        if looks_secret("", line) {
            return true;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let netrc = words
            .first()
            .is_some_and(|w| ["machine", "default", "login", "password"].contains(w));
        if netrc
            && words
                .windows(2)
                .any(|w| w[0] == "password" || w[0] == "passwd")
        {
            return true;
        }
        let clean = |s: &str| {
            s.trim()
                .trim_end_matches(',')
                .trim()
                .trim_matches(['"', '\''])
                .to_string()
        };
        ['=', ':'].into_iter().any(|separator| {
            let Some((key, value)) = line.split_once(separator) else {
                return false;
            };
            let key = clean(key);
            let key = key.rsplit([' ', '.', ':', '/']).next().unwrap_or("");
            let value = clean(value);
            !value.is_empty() && looks_secret(key, &value)
        })
    };
    text.lines().position(secret).map(|i| i + 1)
}

/// `./name` as a Nix path, or `builtins.path` for a name a path literal or
/// a store path cannot hold.
fn path_literal(name: &str) -> String {
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+'));
    if plain && !name.is_empty() {
        return format!("./{name}");
    }
    let store_name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-+".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "builtins.path {{ path = ./. + {}; name = {}; }}",
        crate::syntax::literal::string_literal(&format!("/{name}")),
        crate::syntax::literal::string_literal(store_name.trim_start_matches('.'))
    )
}

#[cfg(test)]
mod tests {
    use super::super::{migrate, NoFiles};
    use super::*;
    use expect_test::expect;

    fn nix(path: &str, text: &str) -> (String, Vec<Warning>) {
        let m = migrate(Source { path, text }, Release::NEWEST, &NoFiles).unwrap();
        (m.to_nix(0), m.warnings)
    }

    #[test]
    fn where_files_go() {
        for (path, expected) in [
            ("~/.config/foo/bar.conf", "xdg.configFile.foo/bar.conf"),
            (
                "$XDG_CONFIG_HOME/foo/bar.conf",
                "xdg.configFile.foo/bar.conf",
            ),
            ("${XDG_CONFIG_HOME}/foo.toml", "xdg.configFile.foo.toml"),
            (".config/foo/bar.conf", "xdg.configFile.foo/bar.conf"),
            ("/home/ada/.config/foo/x", "xdg.configFile.foo/x"),
            ("/Users/ada/.npmrc", "home.file..npmrc"),
            ("/root/.curlrc", "home.file..curlrc"),
            ("~/.curlrc", "home.file..curlrc"),
            ("$HOME/bin/backup", "home.file.bin/backup"),
            (".local/share/x/y", "home.file..local/share/x/y"),
            ("./.editorconfig", "home.file..editorconfig"),
            ("/etc/motd", "home.file./etc/motd"),
        ] {
            assert_eq!(option(path).join("."), expected, "{path}");
        }
    }

    #[test]
    fn text_byte_for_byte() {
        let text = "# trailing spaces stay   \n[ui]\n\tcolor = auto\nprompt = \"${HOME} ''quoted''\"\n\nlast line without newline";
        let (out, warnings) = nix("~/.config/foo/foorc", text);
        expect![[r#"
            xdg.configFile."foo/foorc".text = ''
              # trailing spaces stay   
              [ui]
              	color = auto
              prompt = "''${HOME} '''quoted'''"

              last line without newline'';
        "#]]
        .assert_eq(&out);
        assert!(warnings.is_empty());
        assert!(keeps(text));
    }

    #[test]
    fn json_and_toml_are_text_too() {
        let (out, _) = nix(
            "~/.config/Code/User/settings.json",
            "{\n  \"editor.fontSize\": 13\n}\n",
        );
        expect![[r#"
            xdg.configFile."Code/User/settings.json".text = ''
              {
                "editor.fontSize": 13
              }
            '';
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn what_a_nix_string_cannot_keep_is_a_source() {
        for text in ["a\n   \nb\n", "a\n\t\nb\n", "with\0nul\n"] {
            assert!(text.contains('\0') || !keeps(text), "{text:?}");
            let (out, warnings) = nix("~/.config/foo/my file.conf", text);
            assert_eq!(
                out,
                "xdg.configFile.\"foo/my file.conf\".source = builtins.path { path = ./. + \"/my file.conf\"; name = \"my-file.conf\"; };\n"
            );
            assert_eq!(warnings.len(), 1);
        }
        let (out, _) = nix("~/.wgetrc", "a\n \n");
        assert_eq!(out, "home.file.\".wgetrc\".source = ./.wgetrc;\n");
    }

    #[test]
    fn secrets_are_linked_not_copied() {
        for (path, text, line) in [
            (
                "~/.netrc",
                "machine github.com\n  login ada\n  password hunter2\n",
                3,
            ),
            (
                "~/.config/hub",
                "github.com:\n- user: ada\n  oauth_token: gho_0123456789abcdef\n",
                3,
            ),
            (
                "~/.npmrc",
                "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=npm_abc\n",
                2,
            ),
            (
                "~/.ssh/id_ed25519",
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n",
                1,
            ),
            (
                "~/.config/app/config.json",
                "{\n  \"api_key\": \"abc123\"\n}\n",
                2,
            ),
        ] {
            let (out, warnings) = nix(path, text);
            assert!(
                out.contains(
                    "mkOutOfStoreSymlink \"${config.home.homeDirectory}/.local/share/secrets/"
                ),
                "{out}"
            );
            assert!(!out.contains("text ="), "{out}");
            assert_eq!(warnings[0].line, Some(line), "{path}");
        }
        let (out, _) = nix("~/.netrc", "machine github.com password hunter2\n");
        expect![[r#"
            home.file.".netrc".source = config.lib.file.mkOutOfStoreSymlink "${config.home.homeDirectory}/.local/share/secrets/.netrc";
        "#]]
        .assert_eq(&out);
        // Names of secrets without a value, and comments, are fine.
        let (out, warnings) = nix(
            "~/.config/app/rc",
            "# password = hunter2\ntoken_file = ~/.token\n",
        );
        assert!(out.contains("text = ''"), "{out}");
        assert!(warnings.is_empty());
    }
}
