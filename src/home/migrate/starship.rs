//! `~/.config/starship.toml` into `programs.starship.settings`: the TOML
//! file as a Nix attribute set, one to one, which Home Manager writes back
//! with `pkgs.formats.toml`. Read with `toml_edit`, the parser of the `toml`
//! crate (so the file is refused where starship refuses it), for keys in file
//! order, comments and line numbers. alacritty and direnv read their TOML
//! files here too.
//!
//! Tables are sets, arrays lists, arrays of tables lists of sets; integers,
//! booleans and strings are themselves (`$` stays as is in Nix unless
//! followed by `{`, which the writer escapes); floats are Nix float literals
//! that read back as the same number. Nix has no date type: TOML date-times
//! become strings, with a warning. Comments above a key or table header and
//! after a value on its line are kept above the binding; comments inside
//! arrays and inline tables, and after the last key of the file, are lost.

use toml_edit::{Decor, ImDocument, Item, RawString, TableLike};

use super::nix::{Attrs, Entry, Value};
use super::{looks_secret, Converted, Files, MigrateError, Release, Source, Warning};

pub fn convert(
    source: Source<'_>,
    _release: Release,
    _files: &dyn Files,
) -> Result<Converted, MigrateError> {
    let toml = read_toml(
        source,
        Strings::AsIs,
        "starship reads no other file: set it in the environment of a `custom` module's command instead",
    )?;
    let mut out = Attrs::new();
    out.set(&["enable"], Value::Bool(true));
    // An empty file is starship's defaults, as is no file.
    if !toml.settings.is_empty() {
        out.set(&["settings"], Value::Attrs(toml.settings));
    }
    Ok(Converted {
        options: out,
        also: Attrs::new(),
        warnings: toml.warnings,
    })
}

/// How strings go into Nix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Strings {
    AsIs,
    /// Control characters (but newline and tab) as the text `\u001b`:
    /// Home Manager's alacritty module turns that text back into the TOML
    /// escape. A NUL cannot be in a Nix string, and the others would be
    /// invisible in the Nix file.
    UnicodeEscapes,
}

/// A TOML file as Nix.
pub(super) struct Toml {
    pub settings: Attrs,
    pub warnings: Vec<Warning>,
}

/// Reads `source` as TOML; `secret_hint` ends the warning for a value left
/// out as a secret (where the program can read it from instead).
pub(super) fn read_toml(
    source: Source<'_>,
    strings: Strings,
    secret_hint: &str,
) -> Result<Toml, MigrateError> {
    let document = ImDocument::parse(source.text).map_err(|error| MigrateError::Syntax {
        path: source.path.to_string(),
        line: error
            .span()
            .map_or(1, |span| line_of(source.text, span.start)),
        message: error.message().trim().to_string(),
    })?;
    let mut reader = Reader {
        text: source.text,
        strings,
        secret_hint,
        warnings: Vec::new(),
    };
    let settings = reader.table(document.as_table(), &mut Vec::new());
    Ok(Toml {
        settings,
        warnings: reader.warnings,
    })
}

/// The 1-based line of byte `offset`.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).matches('\n').count() + 1
}

/// `value` as a list element: Nix reads `[ -1 ]` as a subtraction with no
/// left side, so negative numbers get parentheses.
pub(super) fn list_element(value: Value) -> Value {
    match value {
        Value::Int(n) if n < 0 => Value::Code(format!("({n})")),
        Value::Code(code) if code.starts_with('-') => Value::Code(format!("({code})")),
        other => other,
    }
}

/// A Nix float literal that reads back as `f`: Rust's shortest round-trip
/// form, with the `.` Nix requires before an exponent (`1.0e300`). `None`
/// for infinities and NaN, which Nix cannot write.
pub(super) fn float_literal(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let text = format!("{f:?}");
    let (mantissa, exponent) = match text.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (text.as_str(), None),
    };
    let mut out = mantissa.to_string();
    if !out.contains('.') {
        out.push_str(".0");
    }
    if let Some(exponent) = exponent {
        out.push('e');
        out.push_str(exponent);
    }
    Some(out)
}

struct Reader<'a> {
    text: &'a str,
    strings: Strings,
    secret_hint: &'a str,
    warnings: Vec<Warning>,
}

impl Reader<'_> {
    /// `table`'s keys in file order; `path` is where it is, for messages.
    fn table(&mut self, table: &dyn TableLike, path: &mut Vec<String>) -> Attrs {
        let mut out = Attrs::new();
        for (key, item) in table.iter() {
            let mut comments = table
                .key(key)
                .map(|k| self.comments(k.leaf_decor()))
                .unwrap_or_default();
            match item {
                Item::Value(value) => comments.extend(self.comments(value.decor())),
                Item::Table(table) => comments.extend(self.comments(table.decor())),
                Item::ArrayOfTables(tables) => {
                    for table in tables.iter() {
                        comments.extend(self.comments(table.decor()));
                    }
                }
                Item::None => {}
            }
            path.push(key.to_string());
            if let Some(value) = self.item(item, path) {
                out.entries.push(Entry {
                    name: key.to_string(),
                    value,
                    comments,
                });
            }
            path.pop();
        }
        out
    }

    fn item(&mut self, item: &Item, path: &mut Vec<String>) -> Option<Value> {
        match item {
            Item::None => None,
            Item::Value(value) => self.value(value, path),
            Item::Table(table) => Some(Value::Attrs(self.table(table, path))),
            Item::ArrayOfTables(tables) => Some(Value::List(
                tables
                    .iter()
                    .map(|table| Value::Attrs(self.table(table, path)))
                    .collect(),
            )),
        }
    }

    fn value(&mut self, value: &toml_edit::Value, path: &mut Vec<String>) -> Option<Value> {
        use toml_edit::Value as Toml;
        let line = value.span().map(|span| line_of(self.text, span.start));
        let name = path.join(".");
        Some(match value {
            Toml::String(s) => return self.string(s.value(), path, line),
            Toml::Integer(n) => Value::Int(*n.value()),
            Toml::Boolean(b) => Value::Bool(*b.value()),
            Toml::Float(f) => match float_literal(*f.value()) {
                Some(literal) => Value::Code(literal),
                None => {
                    self.warn(line, format!("`{name}` is {}, which Nix cannot write: left out, so the program's default applies", f.value()));
                    return None;
                }
            },
            Toml::Datetime(d) => {
                let text = d.value().to_string();
                self.warn(line, format!("`{name}` is a TOML date-time; Nix has none, so Home Manager writes the string \"{text}\""));
                Value::Str(text)
            }
            Toml::Array(items) => Value::List(
                items
                    .iter()
                    .filter_map(|item| self.value(item, path))
                    .map(list_element)
                    .collect(),
            ),
            Toml::InlineTable(table) => Value::Attrs(self.table(table, path)),
        })
    }

    fn string(&mut self, text: &str, path: &[String], line: Option<usize>) -> Option<Value> {
        let name = path.join(".");
        if looks_secret(path.last().map_or("", String::as_str), text) {
            let hint = self.secret_hint;
            self.warn(line, format!("`{name}` looks like a secret: left out, because what Home Manager writes is readable by every user in /nix/store; {hint}"));
            return None;
        }
        match self.strings {
            Strings::AsIs if text.contains('\0') => {
                self.warn(line, format!("`{name}` holds a NUL character, which a Nix string cannot: it is left out of the string"));
                Some(Value::str(text.replace('\0', "")))
            }
            Strings::AsIs => Some(Value::str(text)),
            Strings::UnicodeEscapes => {
                if has_unicode_escape_text(text) {
                    self.warn(line, format!("`{name}` holds the text `\\u` and four hex digits (or `\\^[`), which Home Manager's alacritty module turns into the character it names"));
                }
                Some(Value::Str(escape_controls(text)))
            }
        }
    }

    /// The comment lines of a key's or table's surroundings, without `#`.
    fn comments(&self, decor: &Decor) -> Vec<String> {
        [decor.prefix(), decor.suffix()]
            .into_iter()
            .flatten()
            .flat_map(|raw| self.raw(raw).lines())
            .filter_map(|line| line.trim().strip_prefix('#'))
            .map(|comment| comment.trim().to_string())
            .collect()
    }

    fn raw<'s>(&'s self, raw: &'s RawString) -> &'s str {
        raw.as_str()
            .or_else(|| raw.span().and_then(|span| self.text.get(span)))
            .unwrap_or("")
    }

    fn warn(&mut self, line: Option<usize>, message: String) {
        self.warnings.push(Warning { line, message });
    }
}

fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Text Home Manager's alacritty module would read as an escape.
fn has_unicode_escape_text(text: &str) -> bool {
    text.contains("\\^[")
        || text.match_indices("\\u").any(|(at, _)| {
            let hex = &text.as_bytes()[at + 2..];
            hex.len() >= 4 && hex[..4].iter().all(u8::is_ascii_hexdigit)
        })
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::{migrate, NoFiles};
    use super::*;
    use expect_test::expect;

    /// `value` as `pkgs.formats.toml` writes it (sets are tables, lists
    /// arrays, float literals floats), then read back.
    pub(in super::super) fn to_toml(value: &Value) -> toml::Value {
        match value {
            Value::Bool(b) => toml::Value::Boolean(*b),
            Value::Int(n) => toml::Value::Integer(*n),
            Value::Str(s) => toml::Value::String(s.clone()),
            Value::List(items) => toml::Value::Array(items.iter().map(to_toml).collect()),
            Value::Attrs(set) => toml::Value::Table(
                set.entries
                    .iter()
                    .map(|e| (e.name.clone(), to_toml(&e.value)))
                    .collect(),
            ),
            Value::Code(code) => {
                let number = code.trim_start_matches('(').trim_end_matches(')');
                number
                    .parse::<i64>()
                    .map(toml::Value::Integer)
                    .or_else(|_| number.parse::<f64>().map(toml::Value::Float))
                    .unwrap_or_else(|_| panic!("not a number: {code}"))
            }
        }
    }

    /// The settings, written as Home Manager writes them and parsed again,
    /// are the original file's tables.
    pub(in super::super) fn assert_round_trip(original: &str, settings: &Value) {
        let written = toml::to_string(&to_toml(settings)).unwrap();
        let again: toml::Table = toml::from_str(&written).unwrap();
        let original: toml::Table = toml::from_str(original).unwrap();
        assert_eq!(again, original, "written as:\n{written}");
    }

    fn settings(options: &Attrs) -> Value {
        options
            .get("settings")
            .cloned()
            .unwrap_or(Value::Attrs(Attrs::new()))
    }

    const STARSHIP: &str = r#"# Get editor completions based on the config schema
"$schema" = 'https://starship.rs/config-schema.json'

# Inserts a blank line between shell prompts
add_newline = true
command_timeout = 1000
format = """
[┌─](bold green)$username@$hostname $directory$git_branch${custom.jira}
[└─](bold green)$character"""

[character] # the prompt symbol
success_symbol = '[➜](bold green)'
error_symbol = "[✗](bold red) " # trailing space kept

[directory]
truncation_length = 3
truncate_to_repo = false
substitutions = { "Documents" = "󰈙 ", 'C:\Users' = "~" }

[git_status]
ahead = '⇡${count}'
diverged = '⇕⇡${ahead_count}⇣${behind_count}'

# Only on battery below 30%
[[battery.display]]
threshold = 10
style = "bold red"

[[battery.display]]
threshold = 30
style = "bold yellow"

[custom.jira]
command = "jira-status --token ghp_0123456789abcdef0123"
when = true
detect_files = ["package.json", ".jira"]

[my_future_module]
ratio = 0.75
big = 1e300
offsets = [-1, 2, -3.5]
"#;

    #[test]
    fn starship_toml_one_to_one() {
        let m = migrate(
            Source {
                path: "~/.config/starship.toml",
                text: STARSHIP,
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        expect![[r#"
            programs.starship = {
              enable = true;
              settings = {
                # Get editor completions based on the config schema
                "$schema" = "https://starship.rs/config-schema.json";
                # Inserts a blank line between shell prompts
                add_newline = true;
                command_timeout = 1000;
                format = ''
                  [┌─](bold green)$username@$hostname $directory$git_branch''${custom.jira}
                  [└─](bold green)$character'';
                # the prompt symbol
                character = {
                  success_symbol = "[➜](bold green)";
                  # trailing space kept
                  error_symbol = "[✗](bold red) ";
                };
                directory = {
                  truncation_length = 3;
                  truncate_to_repo = false;
                  substitutions = {
                    Documents = "󰈙 ";
                    "C:\\Users" = "~";
                  };
                };
                git_status = {
                  ahead = "⇡\${count}";
                  diverged = "⇕⇡\${ahead_count}⇣\${behind_count}";
                };
                battery = {
                  # Only on battery below 30%
                  display = [
                    {
                      threshold = 10;
                      style = "bold red";
                    }
                    {
                      threshold = 30;
                      style = "bold yellow";
                    }
                  ];
                };
                custom.jira = {
                  when = true;
                  detect_files = [ "package.json" ".jira" ];
                };
                my_future_module = {
                  ratio = 0.75;
                  big = 1.0e300;
                  offsets = [
                    (-1)
                    2
                    (-3.5)
                  ];
                };
              };
            };
        "#]]
        .assert_eq(&m.to_nix(0));
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        assert_eq!(m.warnings[0].line, Some(34));
        assert!(m.warnings[0]
            .message
            .contains("`custom.jira.command` looks like a secret"));
        assert!(!m.to_nix(0).contains("ghp_"));

        // Without the secret, Home Manager writes back the same tables.
        let text = STARSHIP.replace(
            "command = \"jira-status --token ghp_0123456789abcdef0123\"\n",
            "",
        );
        let m = migrate(
            Source {
                path: "starship.toml",
                text: &text,
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        assert!(m.warnings.is_empty());
        assert_round_trip(&text, &settings(&m.options));
    }

    #[test]
    fn floats_are_nix_literals_that_read_back() {
        for f in [0.75, 1.0, -2.5, 1e300, 1.5e-7, 0.1 + 0.2, 123456789.125] {
            let literal = float_literal(f).unwrap();
            assert!(literal.contains('.'), "{literal}");
            assert_eq!(literal.parse::<f64>().unwrap(), f, "{literal}");
        }
        assert_eq!(float_literal(1e300).as_deref(), Some("1.0e300"));
        assert_eq!(float_literal(f64::INFINITY), None);
    }

    #[test]
    fn dates_become_strings_and_infinities_are_left_out() {
        let text = "[a]\nwhen = 1979-05-27T07:32:00Z\nday = 1979-05-27\nlimit = inf\n";
        let m = migrate(
            Source {
                path: "starship.toml",
                text,
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        expect![[r#"
            programs.starship = {
              enable = true;
              settings.a = {
                when = "1979-05-27T07:32:00Z";
                day = "1979-05-27";
              };
            };
        "#]]
        .assert_eq(&m.to_nix(0));
        let lines: Vec<Option<usize>> = m.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [Some(2), Some(3), Some(4)]);
    }

    #[test]
    fn an_empty_file_only_enables() {
        let m = migrate(
            Source {
                path: "starship.toml",
                text: "# nothing yet\n",
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        assert_eq!(m.to_nix(0), "programs.starship.enable = true;\n");
    }

    #[test]
    fn toml_starship_refuses_is_refused_with_its_line() {
        for (text, line) in [
            ("add_newline = true\n\n[character\n", 3),
            ("a = 1\na = 2\n", 2),
            ("[a]\nx = 1\n[a]\ny = 2\n", 3),
            ("format = \"unclosed\n", 1),
            ("[a]\nx = 'ok'\ny = 0x\n", 3),
        ] {
            let err = migrate(
                Source {
                    path: "starship.toml",
                    text,
                },
                Release::NEWEST,
                &NoFiles,
            )
            .unwrap_err();
            assert!(
                matches!(&err, MigrateError::Syntax { line: l, .. } if *l == line),
                "{text:?}: {err}"
            );
        }
    }
}
