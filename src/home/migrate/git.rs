//! `~/.gitconfig` into `programs.git`. Read as git-config(1) says: section
//! headers `[section]`, `[section "subsection"]` and the old
//! `[section.subsection]`; names without case; values with `"` quoting,
//! `\` escapes and continuation lines; `#` and `;` comments outside quotes;
//! a name without `=` is `true`; a repeated name is a list. Git refuses a
//! file with a bad line, and so does this converter.
//!
//! From Home Manager 25.11 everything is under `settings` (25.05 and before:
//! `userName`, `userEmail`, `aliases`, `extraConfig`); includes, ignores,
//! git-lfs, signing and maintenance get their typed options.

use super::nix::{Attrs, Value};
use super::{looks_secret, Converted, Files, MigrateError, Release, Source, Warning};

/// One line's meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Variable {
    /// Lowercased section name.
    section: String,
    /// Subsection, case kept (`[url "git@github.com:"]`).
    subsection: Option<String>,
    /// The name as written (`excludesFile`).
    name: String,
    /// `None` for a name without `=` (git reads it as true).
    value: Option<String>,
    line: usize,
    /// Comments on the lines above and at the end of this one.
    comments: Vec<String>,
}

/// The file Home Manager does not manage where migrated secrets go.
pub const SECRETS_FILE: &str = "~/.config/git/secrets";

pub fn convert(
    source: Source<'_>,
    release: Release,
    files: &dyn Files,
) -> Result<Converted, MigrateError> {
    let variables = parse(source.text).map_err(|(line, message)| MigrateError::Syntax {
        path: source.path.to_string(),
        line,
        message,
    })?;
    let mut out = Attrs::new();
    let mut warnings = Vec::new();
    out.set(&["enable"], Value::Bool(true));
    let typed = release >= Release::new(25, 11);
    let raw: &str = if typed { "settings" } else { "extraConfig" };

    let lfs = lfs_filter(&variables);
    let signing = Signing::of(&variables, release);
    let mut includes = Vec::new();
    let mut repositories = Vec::new();
    let mut secrets = Vec::new();

    for variable in &variables {
        let key = variable.name.to_ascii_lowercase();
        let section = variable.section.as_str();
        let sub = variable.subsection.as_deref();
        let value = variable.value.as_deref();
        let text = value.unwrap_or("true");
        if looks_secret(&variable.name, text) {
            secrets.push(variable);
            continue;
        }
        match (section, sub, key.as_str()) {
            ("include", None, "path") => {
                includes.push(include(text, None));
                continue;
            }
            ("includeif", Some(condition), "path") => {
                includes.push(include(text, Some(condition)));
                continue;
            }
            ("filter", Some("lfs"), _) if lfs.is_some() => continue,
            ("maintenance", None, "repo") => {
                repositories.push(Value::str(text));
                continue;
            }
            ("core", None, "excludesfile") => {
                if let Some(lines) = files.read(text) {
                    let patterns: Vec<Value> = lines
                        .lines()
                        .map(str::trim_end)
                        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                        .map(Value::str)
                        .collect();
                    out.set(&["ignores"], Value::List(patterns));
                    continue;
                }
                warnings.push(Warning {
                    line: Some(variable.line),
                    message: format!(
                        "`core.excludesFile` points to {text}, which could not be read: kept as a setting; move its patterns to `programs.git.ignores` to manage them too"
                    ),
                });
            }
            _ => {}
        }
        if signing.takes(variable) {
            continue;
        }
        let value = typed_value(value);
        let path: Vec<&str> = match (typed, section, sub, key.as_str()) {
            (false, "user", None, "name") => vec!["userName"],
            (false, "user", None, "email") => vec!["userEmail"],
            (false, "alias", None, _) => vec!["aliases", &variable.name],
            (_, _, Some(sub), _) => vec![raw, section, sub, &variable.name],
            (_, _, None, _) => vec![raw, section, &variable.name],
        };
        let comments = variable.comments.clone();
        if out_has(&out, &path) || variables_repeat(&variables, variable) {
            push_list(&mut out, &path, value);
        } else {
            out.set_with_comments(&path, value, comments);
        }
    }

    if let Some(skip) = lfs {
        out.set(&["lfs", "enable"], Value::Bool(true));
        if skip {
            out.set(&["lfs", "skipSmudge"], Value::Bool(true));
        }
    }
    signing.write(&mut out);
    if !repositories.is_empty() {
        out.set(&["maintenance", "enable"], Value::Bool(true));
        out.set(&["maintenance", "repositories"], Value::List(repositories));
    }
    if !secrets.is_empty() {
        includes.push(include(SECRETS_FILE, None));
        for secret in &secrets {
            let name = match &secret.subsection {
                Some(sub) => format!("{}.{sub}.{}", secret.section, secret.name),
                None => format!("{}.{}", secret.section, secret.name),
            };
            warnings.push(Warning {
                line: Some(secret.line),
                message: format!(
                    "`{name}` looks like a secret: left out, because what Home Manager writes is readable by every user in /nix/store; keep it in {SECRETS_FILE} (not managed by Home Manager), which the migrated config includes: git config --file {SECRETS_FILE} {name} '...'"
                ),
            });
        }
    }
    if !includes.is_empty() {
        out.set(&["includes"], Value::List(includes));
    }
    Ok(Converted {
        options: out,
        also: Attrs::new(),
        warnings,
    })
}

fn include(path: &str, condition: Option<&str>) -> Value {
    let mut entry = Attrs::new();
    entry.set(&["path"], Value::str(path));
    if let Some(condition) = condition {
        entry.set(&["condition"], Value::str(condition));
    }
    Value::Attrs(entry)
}

fn out_has(out: &Attrs, path: &[&str]) -> bool {
    let mut here = out;
    for (i, name) in path.iter().enumerate() {
        match here.get(name) {
            Some(Value::Attrs(next)) if i + 1 < path.len() => here = next,
            Some(_) if i + 1 == path.len() => return true,
            _ => return false,
        }
    }
    false
}

/// Whether `variable`'s name appears again in its section: then it is a
/// list from the first value on (git keeps every value of a multi-valued
/// name, and Home Manager writes a list as repeated names).
fn variables_repeat(all: &[Variable], variable: &Variable) -> bool {
    all.iter()
        .filter(|v| {
            v.section == variable.section
                && v.subsection == variable.subsection
                && v.name.eq_ignore_ascii_case(&variable.name)
        })
        .count()
        > 1
}

fn push_list(out: &mut Attrs, path: &[&str], value: Value) {
    match get_mut(out, path) {
        Some(Value::List(items)) => items.push(value),
        Some(other) => {
            let first = std::mem::replace(other, Value::Bool(false));
            *other = Value::List(vec![first, value]);
        }
        None => out.set(path, Value::List(vec![value])),
    }
}

fn get_mut<'a>(out: &'a mut Attrs, path: &[&str]) -> Option<&'a mut Value> {
    let (last, parents) = path.split_last()?;
    let mut here = out;
    for name in parents {
        match here.get_mut(name) {
            Some(Value::Attrs(next)) => here = next,
            _ => return None,
        }
    }
    here.get_mut(last)
}

/// `true`/`false`, whole numbers (not `0644`, which git may read as octal
/// and Nix would not keep), else the text as written.
fn typed_value(value: Option<&str>) -> Value {
    let Some(text) = value else {
        return Value::Bool(true);
    };
    match text.to_ascii_lowercase().as_str() {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
    {
        if let Ok(n) = text.parse::<i64>() {
            return Value::Int(n);
        }
    }
    Value::str(text)
}

/// The git-lfs filter block that `git lfs install` writes: `Some(skip)`
/// when the `[filter "lfs"]` section is exactly that (Home Manager's
/// `lfs.enable` writes the same, `skipSmudge` the `--skip` form).
fn lfs_filter(variables: &[Variable]) -> Option<bool> {
    let lfs: Vec<&Variable> = variables
        .iter()
        .filter(|v| v.section == "filter" && v.subsection.as_deref() == Some("lfs"))
        .collect();
    if lfs.is_empty() {
        return None;
    }
    let get = |name: &str| {
        lfs.iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
            .map(|v| v.value.as_deref().unwrap_or("true"))
    };
    let skip = get("smudge")? == "git-lfs smudge --skip -- %f";
    let expected = [
        ("clean", "git-lfs clean -- %f"),
        (
            "smudge",
            if skip {
                "git-lfs smudge --skip -- %f"
            } else {
                "git-lfs smudge -- %f"
            },
        ),
        (
            "process",
            if skip {
                "git-lfs filter-process --skip"
            } else {
                "git-lfs filter-process"
            },
        ),
        ("required", "true"),
    ];
    let exact = lfs.len() == expected.len()
        && expected
            .iter()
            .all(|(name, value)| get(name) == Some(value));
    exact.then_some(skip)
}

/// `user.signingKey`, `gpg.format`, `gpg.<format>.program` and
/// `commit.gpgSign` with `tag.gpgSign` into `programs.git.signing`.
/// Home Manager writes each back only as given; `signByDefault` sets both
/// commit and tag signing, so it is used only when the two agree.
#[derive(Debug, Default)]
struct Signing {
    key: Option<(usize, String)>,
    format: Option<(usize, String)>,
    signer: Option<(usize, String)>,
    by_default: Option<(usize, usize, bool)>,
    typed: bool,
}

impl Signing {
    fn of(variables: &[Variable], release: Release) -> Signing {
        let find = |section: &str, sub: Option<&str>, name: &str| {
            variables.iter().find(|v| {
                v.section == section
                    && v.subsection.as_deref() == sub
                    && v.name.eq_ignore_ascii_case(name)
                    && !variables_repeat(variables, v)
            })
        };
        let mut signing = Signing {
            typed: release >= Release::new(25, 5),
            ..Signing::default()
        };
        let text = |v: &Variable| v.value.clone().unwrap_or_else(|| "true".into());
        signing.key = find("user", None, "signingkey").map(|v| (v.line, text(v)));
        if !signing.typed {
            return signing;
        }
        signing.format = find("gpg", None, "format").map(|v| (v.line, text(v)));
        let format = signing
            .format
            .as_ref()
            .map_or("openpgp".to_string(), |(_, f)| f.clone());
        signing.signer = find("gpg", Some(&format), "program").map(|v| (v.line, text(v)));
        if let (Some(commit), Some(tag)) = (
            find("commit", None, "gpgsign"),
            find("tag", None, "gpgsign"),
        ) {
            let (a, b) = (
                typed_value(commit.value.as_deref()),
                typed_value(tag.value.as_deref()),
            );
            if let (Value::Bool(a), Value::Bool(b)) = (a, b) {
                if a == b {
                    signing.by_default = Some((commit.line, tag.line, a));
                }
            }
        }
        signing
    }

    fn takes(&self, variable: &Variable) -> bool {
        let at = |slot: &Option<(usize, String)>| {
            slot.as_ref().is_some_and(|(l, _)| *l == variable.line)
        };
        at(&self.key)
            || at(&self.format)
            || at(&self.signer)
            || self
                .by_default
                .is_some_and(|(c, t, _)| c == variable.line || t == variable.line)
    }

    fn write(&self, out: &mut Attrs) {
        if self.key.is_none()
            && self.format.is_none()
            && self.signer.is_none()
            && self.by_default.is_none()
        {
            return;
        }
        if let Some((_, key)) = &self.key {
            out.set(&["signing", "key"], Value::str(key));
        }
        if self.typed {
            // Without a format Home Manager would pick one (and its gpg);
            // the file named none, so git's own default stays.
            match &self.format {
                Some((_, format)) => out.set(&["signing", "format"], Value::str(format)),
                None => out.set(&["signing", "format"], Value::code("null")),
            }
        }
        if let Some((_, signer)) = &self.signer {
            out.set(&["signing", "signer"], Value::str(signer));
        }
        if let Some((_, _, on)) = self.by_default {
            out.set(&["signing", "signByDefault"], Value::Bool(on));
        }
    }
}

/// Every variable of the file, in order, or the line git refuses and why.
fn parse(text: &str) -> Result<Vec<Variable>, (usize, String)> {
    let mut out = Vec::new();
    let mut section: Option<(String, Option<String>)> = None;
    let mut comments = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let number = i + 1;
        let mut line = lines[i].trim_start();
        i += 1;
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix(['#', ';']) {
            comments.push(comment.trim().to_string());
            continue;
        }
        if line.starts_with('[') {
            let (header, rest) =
                section_header(line).ok_or((number, "bad section header".to_string()))?;
            section = Some(header);
            line = rest.trim_start();
            if line.is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix(['#', ';']) {
                comments.push(comment.trim().to_string());
                continue;
            }
        }
        let Some((name, value_part)) = split_name(line) else {
            return Err((number, format!("`{}` is not `name = value`", line.trim())));
        };
        let Some((section_name, subsection)) = &section else {
            return Err((number, "a variable before any [section]".into()));
        };
        let value = match value_part {
            None => None,
            Some(raw) => {
                let (value, comment, next) = read_value(&lines, i, raw)
                    .ok_or((number, "unclosed quote or bad escape".to_string()))?;
                i = next;
                if let Some(comment) = comment {
                    comments.push(comment);
                }
                Some(value)
            }
        };
        out.push(Variable {
            section: section_name.clone(),
            subsection: subsection.clone(),
            name: name.to_string(),
            value,
            line: number,
            comments: std::mem::take(&mut comments),
        });
    }
    Ok(out)
}

/// `[name]`, `[name "sub"]` or `[name.sub]`, and what follows `]`.
fn section_header(line: &str) -> Option<((String, Option<String>), &str)> {
    let inner = line.strip_prefix('[')?;
    if let Some(space) = inner
        .find([' ', '\t'])
        .filter(|&s| inner[..s].find(']').is_none())
    {
        let name = &inner[..space];
        let rest = inner[space..].trim_start().strip_prefix('"')?;
        let mut sub = String::new();
        let mut chars = rest.char_indices();
        while let Some((at, c)) = chars.next() {
            match c {
                '\\' => sub.push(chars.next()?.1),
                '"' => {
                    let after = rest[at + 1..].strip_prefix(']')?;
                    return valid_section(name)
                        .then(|| ((name.to_ascii_lowercase(), Some(sub)), after));
                }
                c => sub.push(c),
            }
        }
        return None;
    }
    let end = inner.find(']')?;
    let name = &inner[..end];
    let after = &inner[end + 1..];
    match name.split_once('.') {
        // The old form: the subsection is lowercased too.
        Some((name, sub)) if valid_section(name) => Some((
            (name.to_ascii_lowercase(), Some(sub.to_ascii_lowercase())),
            after,
        )),
        Some(_) => None,
        None => valid_section(name).then(|| ((name.to_ascii_lowercase(), None), after)),
    }
}

fn valid_section(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// `name = value` or `name`: the name and the raw value after `=`.
fn split_name(line: &str) -> Option<(&str, Option<&str>)> {
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or(line.len());
    let name = &line[..end];
    if name.is_empty() || !name.as_bytes()[0].is_ascii_alphabetic() {
        return None;
    }
    let rest = line[end..].trim_start();
    if rest.is_empty() {
        return Some((name, None));
    }
    if rest.starts_with(['#', ';']) {
        return Some((name, None));
    }
    Some((name, Some(rest.strip_prefix('=')?)))
}

/// A value as git reads it (config.c's `parse_value`): quotes removed,
/// escapes applied, a `\` at the end of a line continues the value on the
/// next, and a run of spaces or tabs outside quotes becomes as many spaces,
/// none at either end. `first` is the text after `=`; `next` is the index
/// of the line after it. Returns the value, the comment after it and the
/// index of the first line not read.
fn read_value(lines: &[&str], next: usize, first: &str) -> Option<(String, Option<String>, usize)> {
    let mut value = String::new();
    let mut quoted = false;
    let mut spaces = 0;
    let mut comment = None;
    let mut line = first;
    let mut next = next;
    loop {
        let mut chars = line.chars();
        let mut continued = false;
        while let Some(c) = chars.next() {
            if c == '#' || c == ';' {
                if !quoted {
                    comment = Some(chars.as_str().trim().to_string());
                    break;
                }
            } else if c.is_whitespace() && !quoted {
                if !value.is_empty() {
                    spaces += 1;
                }
                continue;
            }
            value.extend(std::iter::repeat_n(' ', spaces));
            spaces = 0;
            match c {
                '"' => quoted = !quoted,
                '\\' => match chars.next() {
                    None => {
                        continued = true;
                        break;
                    }
                    Some('n') => value.push('\n'),
                    Some('t') => value.push('\t'),
                    Some('b') => value.push('\u{8}'),
                    Some('\\') => value.push('\\'),
                    Some('"') => value.push('"'),
                    Some(_) => return None,
                },
                c => value.push(c),
            }
        }
        if !continued {
            break;
        }
        line = lines.get(next)?;
        next += 1;
    }
    if quoted {
        return None;
    }
    Some((value, comment.filter(|c| !c.is_empty()), next))
}

#[cfg(test)]
mod tests {
    use super::super::{migrate, NoFiles};
    use super::*;
    use expect_test::expect;

    use super::super::tests::Map;

    const GITCONFIG: &str = r#"# Who I am
[user]
	name = Ada Lovelace
	email = ada@example.org
	signingkey = ~/.ssh/id_ed25519.pub
[gpg]
	format = ssh
[commit]
	gpgsign = true
[tag]
	gpgSign = true
[alias]
	co = checkout
	lg = "log --graph --pretty=format:'%h %s'"  ; pretty
	amend = commit --amend \
	        --no-edit
[core]
	editor = nvim
	excludesfile = ~/.gitignore_global
	sharedRepository = 0644
	abbrev = 12
[url "git@github.com:"]
	insteadOf = https://github.com/
[branch.Main]
	rebase
[remote "origin"]
	fetch = +refs/heads/*:refs/remotes/origin/*
	fetch = +refs/pull/*:refs/remotes/origin/pr/*
[filter "lfs"]
	clean = git-lfs clean -- %f
	smudge = git-lfs smudge -- %f
	process = git-lfs filter-process
	required = true
[github]
	user = ada
	token = ghp_0123456789abcdef
[include]
	path = ~/.config/git/local
[includeIf "gitdir:~/work/"]
	path = ~/work/.gitconfig
[maintenance]
	repo = /home/ada/src/big
"#;

    const IGNORES: &[(&str, &str)] = &[(
        "~/.gitignore_global",
        "# editors\n*.swp\n.direnv/\n\nresult\n",
    )];

    #[test]
    fn newest_release_everything_under_settings_and_typed_options() {
        let m = migrate(
            Source {
                path: "~/.gitconfig",
                text: GITCONFIG,
            },
            Release::NEWEST,
            &Map(IGNORES),
        )
        .unwrap();
        expect![[r#"
            programs.git = {
              enable = true;
              settings = {
                user = {
                  # Who I am
                  name = "Ada Lovelace";
                  email = "ada@example.org";
                };
                alias = {
                  co = "checkout";
                  # pretty
                  lg = "log --graph --pretty=format:'%h %s'";
                  amend = "commit --amend          --no-edit";
                };
                core = {
                  editor = "nvim";
                  sharedRepository = "0644";
                  abbrev = 12;
                };
                url."git@github.com:".insteadOf = "https://github.com/";
                branch.main.rebase = true;
                remote.origin.fetch = [
                  "+refs/heads/*:refs/remotes/origin/*"
                  "+refs/pull/*:refs/remotes/origin/pr/*"
                ];
                github.user = "ada";
              };
              ignores = [ "*.swp" ".direnv/" "result" ];
              lfs.enable = true;
              signing = {
                key = "~/.ssh/id_ed25519.pub";
                format = "ssh";
                signByDefault = true;
              };
              maintenance = {
                enable = true;
                repositories = [ "/home/ada/src/big" ];
              };
              includes = [
                { path = "~/.config/git/local"; }
                {
                  path = "~/work/.gitconfig";
                  condition = "gitdir:~/work/";
                }
                { path = "~/.config/git/secrets"; }
              ];
            };
        "#]]
        .assert_eq(&m.to_nix(0));
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        assert_eq!(m.warnings[0].line, Some(36));
        assert!(m.warnings[0]
            .message
            .contains("`github.token` looks like a secret"));
        assert!(!m.to_nix(0).contains("ghp_"));
    }

    #[test]
    fn before_25_11_identity_and_aliases_have_their_own_options() {
        let text = "[user]\n  name = Ada\n  email = ada@example.org\n[alias]\n  st = status\n[pull]\n  rebase = true\n";
        let m = migrate(
            Source {
                path: "~/.config/git/config",
                text,
            },
            Release::new(25, 5),
            &NoFiles,
        )
        .unwrap();
        expect![[r#"
            programs.git = {
              enable = true;
              userName = "Ada";
              userEmail = "ada@example.org";
              aliases.st = "status";
              extraConfig.pull.rebase = true;
            };
        "#]]
        .assert_eq(&m.to_nix(0));
    }

    #[test]
    fn an_unreadable_excludes_file_is_kept_with_a_warning() {
        let text = "[core]\n  excludesFile = ~/.gitignore\n";
        let m = migrate(
            Source {
                path: "gitconfig",
                text,
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        assert!(m.to_nix(0).contains("excludesFile = \"~/.gitignore\";"));
        assert_eq!(m.warnings[0].line, Some(2));
    }

    #[test]
    fn signing_stays_in_settings_when_commit_and_tag_disagree() {
        let text = "[user]\n  signingKey = ABCD\n[commit]\n  gpgSign = true\n";
        let m = migrate(
            Source {
                path: "gitconfig",
                text,
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        expect![[r#"
            programs.git = {
              enable = true;
              settings.commit.gpgSign = true;
              signing = {
                key = "ABCD";
                format = null;
              };
            };
        "#]]
        .assert_eq(&m.to_nix(0));
    }

    #[test]
    fn a_custom_lfs_filter_stays_as_written() {
        let text = "[filter \"lfs\"]\n  clean = git-lfs clean -- %f\n  required = true\n";
        let m = migrate(
            Source {
                path: "gitconfig",
                text,
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        assert!(!m.to_nix(0).contains("lfs.enable"));
        assert!(m.to_nix(0).contains("filter.lfs"));
    }

    #[test]
    fn git_reads_quotes_escapes_and_comments() {
        let vars = parse(
            "[a]\n  x = \"  two  spaces \" # c\n  y = one \"#\" two ; c2\n  z = tab\\there\n  w\n  v = a\t\tb  \n",
        )
        .unwrap();
        let values: Vec<Option<&str>> = vars.iter().map(|v| v.value.as_deref()).collect();
        assert_eq!(
            values,
            [
                Some("  two  spaces "),
                Some("one # two"),
                Some("tab\there"),
                None,
                Some("a  b")
            ]
        );
        assert_eq!(vars[0].comments, ["c"]);
        let sub = parse("[Section \"Sub \\\"x\\\"\"]\n k = v\n").unwrap();
        assert_eq!(sub[0].section, "section");
        assert_eq!(sub[0].subsection.as_deref(), Some("Sub \"x\""));
    }

    #[test]
    fn a_line_git_refuses_is_refused() {
        for (text, line) in [
            ("[core\n", 1),
            ("[core]\n  = value\n", 2),
            ("key = value\n", 1),
            ("[a]\n  x = \"open\n", 2),
        ] {
            let err = migrate(
                Source {
                    path: "gitconfig",
                    text,
                },
                Release::NEWEST,
                &NoFiles,
            )
            .unwrap_err();
            assert!(
                matches!(err, MigrateError::Syntax { line: l, .. } if l == line),
                "{text:?}: {err}"
            );
        }
    }
}
