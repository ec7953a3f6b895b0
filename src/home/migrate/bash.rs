//! `~/.bashrc`, `~/.profile`, `~/.bash_profile` and `~/.bash_logout` into
//! `programs.bash`, read as bash reads them (see [`super::shell`]).
//!
//! Home Manager writes `~/.bashrc` as `bashrcExtra`, the interactive guard
//! `[[ $- == *i* ]] || return`, its history variables, `shopt` lines and
//! aliases, then `initExtra`; `~/.profile` as the session variables
//! (`home.sessionPath` among them) then `profileExtra`; a fixed
//! `~/.bash_profile` that sources `~/.profile` and `~/.bashrc`; and
//! `~/.bash_logout` from `logoutExtra`.
//!
//! So, in `.bashrc`: the code before the file's own guard goes to
//! `bashrcExtra`, the code after it to `initExtra` (a file without a guard
//! ran all of its code in every shell, so all of it goes to `bashrcExtra`);
//! simple commands whose whole meaning a typed option carries are mapped
//! (`alias`, `export`, `shopt`, the `HIST*` variables, `PATH` prepends, the
//! bash-completion loader, the direnv and starship hooks) and everything
//! else stays, in order, as written. A command that reads anything the file
//! computes (`export X=$(cmd)`, `export Y=$X`) stays as written too: Home
//! Manager's lines run before the file's own code. `.profile` and
//! `.bash_profile` go to `profileExtra`, `.bash_logout` to `logoutExtra`.
//!
//! Choices: Home Manager's defaults for options the file does not set are
//! kept (`historySize = 10000`, bash-completion on); `shellOptions`
//! replaces Home Manager's default list, so it is written as that list
//! changed by the file's `shopt`s.

use super::nix::{Attrs, Value};
use super::shell::{self, Body, Simple, Unit, UnitKind, Word};
use super::{looks_secret, Converted, Files, MigrateError, Release, Source, Warning};

/// `programs.bash.shellOptions`' default in Home Manager.
const DEFAULT_SHELL_OPTIONS: [&str; 4] = ["histappend", "extglob", "globstar", "checkjobs"];

/// `historyControl`'s allowed values.
const HISTORY_CONTROL: [&str; 4] = ["erasedups", "ignoredups", "ignorespace", "ignoreboth"];

/// Variables a session variable's value may read: set before any dotfile
/// runs, so moving the line to `~/.profile` does not change them.
pub(crate) const LOGIN_VARIABLES: [&str; 5] = ["HOME", "USER", "LOGNAME", "SHELL", "PATH"];

/// Which of bash's files this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rc,
    Profile,
    Logout,
}

impl Kind {
    fn of(path: &str) -> Kind {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        match name.trim_start_matches('.') {
            "profile" | "bash_profile" => Kind::Profile,
            "bash_logout" => Kind::Logout,
            _ => Kind::Rc,
        }
    }
}

pub fn convert(
    source: Source<'_>,
    _release: Release,
    _files: &dyn Files,
) -> Result<Converted, MigrateError> {
    let units =
        shell::read(source.text, false).map_err(|(line, message)| MigrateError::Syntax {
            path: source.path.to_string(),
            line,
            message,
        })?;
    let kind = Kind::of(source.path);
    let has_guard = kind == Kind::Rc && units.iter().any(is_guard);
    let mut bash = Bash {
        kind,
        interactive: false,
        options: Options::default(),
        also: Attrs::new(),
        warnings: Vec::new(),
        before: Body::default(),
        after: Body::default(),
    };
    for unit in &units {
        bash.unit(unit, has_guard);
    }
    Ok(bash.finish())
}

/// The typed options collected, written in a fixed order at the end.
#[derive(Default)]
struct Options {
    aliases: Attrs,
    variables: Attrs,
    history: Attrs,
    /// `Some` once a `shopt` is seen: Home Manager's list, changed.
    shell_options: Option<Vec<String>>,
    completion: bool,
    /// Prepended directories, first in `PATH` first.
    path: Vec<String>,
    path_comments: Vec<String>,
}

struct Bash {
    kind: Kind,
    /// Past the interactive guard.
    interactive: bool,
    options: Options,
    also: Attrs,
    warnings: Vec<Warning>,
    /// Code before the guard (`bashrcExtra`), or all of a profile's or
    /// logout file's code.
    before: Body,
    /// Code after the guard (`initExtra`).
    after: Body,
}

impl shell::MapsCommands for Bash {
    fn raw_body(&mut self) -> &mut Body {
        self.body()
    }

    fn map_command(&mut self, line: usize, command: &Simple, notes: Vec<String>) -> bool {
        self.command(line, command, notes)
    }
}

impl Bash {
    fn body(&mut self) -> &mut Body {
        if self.interactive {
            &mut self.after
        } else {
            &mut self.before
        }
    }

    fn warn(&mut self, line: usize, message: String) {
        self.warnings.push(Warning {
            line: Some(line),
            message,
        });
    }

    fn unit(&mut self, unit: &Unit, has_guard: bool) {
        match &unit.kind {
            UnitKind::Blank => {
                self.body().flush();
                self.body().raw("\n");
            }
            UnitKind::Comment(comment) => {
                if looks_secret("", comment) {
                    self.warn(unit.first_line, secret_message("this comment", "initExtra"));
                } else {
                    self.body().comment(&unit.text, comment);
                }
            }
            UnitKind::Code { commands, comment } => {
                if has_guard && !self.interactive && is_guard(unit) {
                    // Home Manager writes its own guard after bashrcExtra;
                    // the comments before this one stay there.
                    self.before.flush();
                    self.interactive = true;
                    return;
                }
                if let Some(commands) = commands {
                    self.commands(unit, commands, comment.as_deref());
                } else {
                    self.compound(unit);
                }
            }
        }
    }

    /// A unit of simple commands: each mapped or kept.
    fn commands(&mut self, unit: &Unit, commands: &[Simple], comment: Option<&str>) {
        if let Some(name) = secret_in(commands) {
            self.warn(
                unit.first_line,
                secret_message(&format!("`{name}`"), "initExtra"),
            );
            self.body().take_comments();
            return;
        }
        shell::map_or_keep(self, unit, commands, comment);
    }

    /// A compound command or a command list: a few well-known ones are
    /// mapped, the rest kept.
    fn compound(&mut self, unit: &Unit) {
        if looks_secret("", &unit.text) {
            self.warn(unit.first_line, secret_message("this command", "initExtra"));
            self.body().take_comments();
            return;
        }
        if self.kind == Kind::Rc
            && shell::only_sources(unit, &["bash_completion", "bash-completion"])
        {
            self.completion(unit.first_line);
            return;
        }
        if self.kind == Kind::Profile && shell::only_sources(unit, &[".bashrc", ".profile"]) {
            self.warn(unit.first_line, SOURCES_RC.into());
            self.body().take_comments();
            return;
        }
        self.body().raw(&unit.text);
    }

    fn completion(&mut self, line: usize) {
        self.options.completion = true;
        self.body().take_comments();
        self.warn(
            line,
            "bash-completion is loaded by Home Manager (`enableCompletion`, first in .bashrc): the line loading it is left out".into(),
        );
    }

    /// Maps one simple command; false when it stays as written.
    fn command(&mut self, line: usize, command: &Simple, notes: Vec<String>) -> bool {
        let words = &command.words;
        let Some(first) = words.first() else {
            return false;
        };
        let name = if first.assignment().is_some() {
            // `K=V ...`: only assignments, or a command run with them.
            String::new()
        } else {
            match first.literal() {
                Some(name) => name,
                None => return false,
            }
        };
        let args = &words[1..];
        match name.as_str() {
            "alias" if self.kind != Kind::Logout => self.alias(args, notes),
            "export" if self.kind != Kind::Logout => self.export(args, notes),
            "shopt" if self.kind == Kind::Rc => self.shopt(args),
            "." | "source" if self.kind == Kind::Rc => {
                let completion = args.len() == 1
                    && args[0].literal().is_some_and(|p| {
                        p.ends_with("/bash_completion") || p.ends_with("/bash_completion.sh")
                    });
                if completion {
                    self.completion(line);
                }
                completion
            }
            "." | "source" if self.kind == Kind::Profile => {
                let rc = args.len() == 1
                    && (args[0].raw.ends_with(".bashrc") || args[0].raw.ends_with(".bashrc\""));
                if rc {
                    self.warn(line, SOURCES_RC.into());
                }
                rc
            }
            "eval" if self.kind == Kind::Rc => self.hook(line, args),
            _ if self.kind != Kind::Logout && words.iter().all(|w| w.assignment().is_some()) => {
                self.assignments(words, notes, false)
            }
            _ => false,
        }
    }

    /// `alias a='b' c='d'`: every argument a literal `name=value`.
    fn alias(&mut self, args: &[Word], notes: Vec<String>) -> bool {
        let args = match args.first() {
            Some(w) if w.is("--") => &args[1..],
            _ => args,
        };
        let mut pairs = Vec::new();
        for arg in args {
            let Some((name, value)) = alias_pair(arg) else {
                return false;
            };
            pairs.push((name, value));
        }
        if pairs.is_empty() {
            return false;
        }
        for (index, (name, value)) in pairs.into_iter().enumerate() {
            let notes = if index == 0 {
                notes.clone()
            } else {
                Vec::new()
            };
            self.options
                .aliases
                .set_with_comments(&[&name], Value::Str(value), notes);
        }
        true
    }

    /// `export K=V ...`: all mapped, or the line kept.
    fn export(&mut self, args: &[Word], notes: Vec<String>) -> bool {
        if args.is_empty() || args.iter().any(|a| a.assignment().is_none()) {
            return false;
        }
        self.assignments(args, notes, true)
    }

    /// `K=V ...` (exported or not): `PATH` prepends, history variables, and
    /// exported variables whose value reads nothing the file computes.
    fn assignments(&mut self, words: &[Word], notes: Vec<String>, exported: bool) -> bool {
        let mut planned: Vec<Assignment> = Vec::new();
        for word in words {
            let Some((name, value)) = word.assignment() else {
                return false;
            };
            let Some(plan) = self.plan(&name, &value, exported) else {
                return false;
            };
            planned.push(plan);
        }
        let mut notes = Some(notes);
        for plan in planned {
            let notes = notes.take().unwrap_or_default();
            match plan {
                Assignment::Path(dirs) => {
                    // The last prepend ends up first in PATH.
                    let mut dirs = dirs;
                    dirs.append(&mut self.options.path);
                    self.options.path = dirs;
                    self.options.path_comments.extend(notes);
                }
                Assignment::History(option, value) => {
                    self.options
                        .history
                        .set_with_comments(&[option], value, notes)
                }
                Assignment::Variable(name, value) => {
                    self.options
                        .variables
                        .set_with_comments(&[&name], Value::Str(value), notes)
                }
            }
        }
        true
    }

    fn plan(&self, name: &str, value: &Word, exported: bool) -> Option<Assignment> {
        if name == "PATH" {
            return path_prepend(value).map(Assignment::Path);
        }
        if let Some(history) = history(name, value) {
            return (self.kind != Kind::Logout).then_some(history);
        }
        // Plain `K=V` is a shell variable, not in the environment: kept.
        let text = value.double_quoted()?;
        let reads_only_login = value.parts.iter().all(|p| match p {
            shell::Part::Var(v) => LOGIN_VARIABLES.contains(&v.as_str()),
            _ => true,
        });
        (exported && reads_only_login && value.array.is_none())
            .then(|| Assignment::Variable(name.to_string(), text))
    }

    /// `eval "$(direnv hook bash)"`, `eval "$(starship init bash)"`: the
    /// programs' own integrations write the same line.
    fn hook(&mut self, line: usize, args: &[Word]) -> bool {
        let [arg] = args else {
            return false;
        };
        let command = arg.raw.trim_matches('"');
        let program = match command {
            "$(direnv hook bash)" => "direnv",
            "$(starship init bash)" => "starship",
            _ => return false,
        };
        self.also
            .set(&["programs", program, "enable"], Value::Bool(true));
        self.also.set(
            &["programs", program, "enableBashIntegration"],
            Value::Bool(true),
        );
        self.body().take_comments();
        self.warn(
            line,
            format!("`eval \"{command}\"` left out: `programs.{program}.enableBashIntegration` writes it into .bashrc"),
        );
        true
    }

    /// `shopt -s a b` / `shopt -u c`.
    fn shopt(&mut self, args: &[Word]) -> bool {
        let Some(flag) = args.first().and_then(Word::literal) else {
            return false;
        };
        let set = match flag.as_str() {
            "-s" => true,
            "-u" => false,
            _ => return false,
        };
        let names: Option<Vec<String>> = args[1..].iter().map(Word::literal).collect();
        let Some(names) = names.filter(|n| !n.is_empty()) else {
            return false;
        };
        if names.iter().any(|n| !shell::is_name(n)) {
            return false;
        }
        let list = self
            .options
            .shell_options
            .get_or_insert_with(|| DEFAULT_SHELL_OPTIONS.map(String::from).to_vec());
        for name in names {
            let unset = format!("-{name}");
            list.retain(|o| *o != name && *o != unset);
            list.push(if set { name } else { unset });
        }
        true
    }

    fn finish(self) -> Converted {
        let Bash {
            kind,
            options,
            mut also,
            warnings,
            before,
            after,
            ..
        } = self;
        let mut out = Attrs::new();
        out.set(&["enable"], Value::Bool(true));
        if options.completion {
            out.set(&["enableCompletion"], Value::Bool(true));
        }
        if !options.aliases.is_empty() {
            out.set(&["shellAliases"], Value::Attrs(options.aliases));
        }
        if !options.variables.is_empty() {
            out.set(&["sessionVariables"], Value::Attrs(options.variables));
        }
        if let Some(list) = options.shell_options {
            out.set(
                &["shellOptions"],
                Value::List(list.into_iter().map(Value::Str).collect()),
            );
        }
        for entry in options.history.entries {
            out.set_with_comments(&[&entry.name], entry.value, entry.comments);
        }
        let raw = match kind {
            Kind::Rc => "bashrcExtra",
            Kind::Profile => "profileExtra",
            Kind::Logout => "logoutExtra",
        };
        if let Some(text) = before.finish() {
            out.set(&[raw], Value::Str(text));
        }
        if let Some(text) = after.finish() {
            out.set(&["initExtra"], Value::Str(text));
        }
        if !options.path.is_empty() {
            let list = options.path.into_iter().map(Value::Str).collect();
            also.set_with_comments(
                &["home", "sessionPath"],
                Value::List(list),
                options.path_comments,
            );
        }
        Converted {
            options: out,
            also,
            warnings,
        }
    }
}

/// What one assignment becomes.
enum Assignment {
    Path(Vec<String>),
    History(&'static str, Value),
    Variable(String, String),
}

/// Home Manager's history options, from bash's variables.
fn history(name: &str, value: &Word) -> Option<Assignment> {
    let (option, value) = match name {
        "HISTSIZE" | "HISTFILESIZE" => {
            let n: i64 = value.literal()?.parse().ok()?;
            let option = if name == "HISTSIZE" {
                "historySize"
            } else {
                "historyFileSize"
            };
            (option, Value::Int(n))
        }
        // Home Manager writes `HISTFILE="<value>"`.
        "HISTFILE" => {
            let text = value.double_quoted()?;
            let reads_only_login = value.parts.iter().all(|p| match p {
                shell::Part::Var(v) => LOGIN_VARIABLES.contains(&v.as_str()),
                _ => true,
            });
            if !reads_only_login {
                return None;
            }
            ("historyFile", Value::Str(text))
        }
        "HISTCONTROL" => {
            let text = value.literal()?;
            let items: Vec<&str> = text.split(':').collect();
            if !items.iter().all(|i| HISTORY_CONTROL.contains(i)) {
                return None;
            }
            (
                "historyControl",
                Value::List(items.into_iter().map(Value::str).collect()),
            )
        }
        // `\:` would escape a colon inside a pattern; Home Manager joins
        // the list with plain colons.
        "HISTIGNORE" => {
            let text = value.literal().filter(|t| !t.contains('\\'))?;
            (
                "historyIgnore",
                Value::List(text.split(':').map(Value::str).collect()),
            )
        }
        _ => return None,
    };
    Some(Assignment::History(option, value))
}

/// `PATH="a:b:$PATH"`: the directories put before the old `PATH`, as
/// Home Manager's `home.sessionPath` prepends them. `None` for appends and
/// anything else.
pub(crate) fn path_prepend(value: &Word) -> Option<Vec<String>> {
    let text = value.double_quoted()?;
    let items: Vec<&str> = text.split(':').collect();
    let (last, dirs) = items.split_last()?;
    if !matches!(*last, "$PATH" | "${PATH}") || dirs.is_empty() {
        return None;
    }
    if dirs.iter().any(|d| d.is_empty() || d.contains("PATH")) {
        return None;
    }
    let reads_only_login = value.parts.iter().all(|p| match p {
        shell::Part::Var(v) => LOGIN_VARIABLES.contains(&v.as_str()),
        _ => true,
    });
    reads_only_login.then(|| dirs.iter().map(|d| d.to_string()).collect())
}

/// `name=value` of an `alias` argument, when both are plain text Home
/// Manager can write back (`alias -- name='value'`).
pub(crate) fn alias_pair(arg: &Word) -> Option<(String, String)> {
    let text = arg.literal()?;
    let (name, value) = text.split_once('=')?;
    let plain = !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || "'\"$`\\;&|<>()=*?[]{}~#".contains(c));
    // The name must have been written unquoted, as Home Manager writes it.
    let unquoted = matches!(arg.parts.first(), Some(shell::Part::Bare(s)) if s.starts_with(&format!("{name}=")));
    (plain && unquoted).then(|| (name.to_string(), value.to_string()))
}

/// The name of the first assignment in `commands` that looks like a
/// credential.
pub(crate) fn secret_in(commands: &[Simple]) -> Option<String> {
    for command in commands {
        for word in &command.words {
            if let Some((name, value)) = word.assignment() {
                if looks_secret(&name, &value.raw) {
                    return Some(name);
                }
            } else if looks_secret("", &word.raw) {
                return Some(word.raw.chars().take(12).collect::<String>() + "…");
            }
        }
    }
    None
}

pub(crate) fn secret_message(what: &str, raw: &str) -> String {
    format!("{what} looks like a secret: left out, as everything Home Manager writes is world-readable in /nix/store; keep it in a file outside the store (mode 600) and source that from `{raw}`")
}

const SOURCES_RC: &str =
    "left out: Home Manager's ~/.bash_profile sources ~/.profile and ~/.bashrc itself";

/// The interactive guard: `[[ $- == *i* ]] || return` and its usual
/// spellings.
fn is_guard(unit: &Unit) -> bool {
    const GUARDS: &[&str] = &[
        "[[$-==*i*]]||return",
        "[[$-=*i*]]||return",
        "[[$-!=*i*]]&&return",
        "[[\"$-\"!=*i*]]&&return",
        "[[\"$-\"==*i*]]||return",
        "[-z\"$PS1\"]&&return",
        "[[-z\"$PS1\"]]&&return",
        "[-z\"$PS1\"]&&return;",
        "case$-in*i*);;*)return;;esac",
        "case$-in*i*);;*)return;esac",
        "if[[$-!=*i*]];thenreturn;fi",
        "if[[$-!=*i*]];thenreturnfi",
        "if[-z\"$PS1\"];thenreturn;fi",
        "if[-z\"$PS1\"];thenreturnfi",
    ];
    let code = shell::squeezed(unit);
    GUARDS.contains(&code.as_str())
}

#[cfg(test)]
mod tests {
    use super::super::{migrate, NoFiles};
    use super::*;
    use expect_test::expect;

    fn run(path: &str, text: &str) -> (String, Vec<Warning>) {
        let m = migrate(Source { path, text }, Release::NEWEST, &NoFiles).unwrap();
        shell::assert_options_exist(&m);
        let out = m.to_nix(0);
        let parse = rnix::Root::parse(&format!("{{\n{out}}}\n"));
        assert!(parse.errors().is_empty(), "{:?}\n{out}", parse.errors());
        (out, m.warnings)
    }

    fn lines(warnings: &[Warning]) -> Vec<Option<usize>> {
        warnings.iter().map(|w| w.line).collect()
    }

    const BASHRC: &str = r#"# ~/.bashrc: my shell
export EDITOR=nvim
export PATH="$HOME/.local/bin:$PATH"
export PATH=~/bin:$PATH

# If not running interactively, don't do anything
case $- in
    *i*) ;;
      *) return;;
esac

HISTCONTROL=ignoreboth:erasedups
HISTSIZE=5000 HISTFILESIZE=-1
HISTFILE=~/.local/state/bash/history
HISTIGNORE='ls:bg:fg:history'
shopt -s autocd cdspell
shopt -u globstar

# long listing
alias ll='ls -alF'
alias gs="git status -sb" la='ls -A'  # two at once
alias now=$'date +%T\n'
alias grep='grep --color=auto' ; set -o vi
export GOPATH="$HOME/go" LESS=-R
export GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789
export NODE_PATH="$(npm root -g)"
export JAVA_HOME=$GOPATH/../jdk
PS1='\u@\h:\w\$ '
if ! shopt -oq posix; then
  if [ -f /usr/share/bash-completion/bash_completion ]; then
    . /usr/share/bash-completion/bash_completion
  elif [ -f /etc/bash_completion ]; then
    . /etc/bash_completion
  fi
fi
mkcd() {
  mkdir -p -- "$1" && cd -- "$1"
}
cat <<'EOF' > /dev/null
alias notmapped='x'
EOF
export PATH=$PATH:/opt/tools/bin
eval "$(direnv hook bash)"
[ -f ~/.fzf.bash ] && source ~/.fzf.bash
"#;

    #[test]
    fn bashrc_typed_options_and_the_rest_in_order() {
        let (out, warnings) = run("~/.bashrc", BASHRC);
        expect![[r##"
            programs.bash = {
              enable = true;
              enableCompletion = true;
              shellAliases = {
                # long listing
                ll = "ls -alF";
                # two at once
                gs = "git status -sb";
                la = "ls -A";
                now = "date +%T\n";
                grep = "grep --color=auto";
              };
              sessionVariables = {
                # ~/.bashrc: my shell
                EDITOR = "nvim";
                GOPATH = "$HOME/go";
                LESS = "-R";
              };
              shellOptions = [ "histappend" "extglob" "checkjobs" "autocd" "cdspell" "-globstar" ];
              historyControl = [ "ignoreboth" "erasedups" ];
              historySize = 5000;
              historyFileSize = -1;
              historyFile = "$HOME/.local/state/bash/history";
              historyIgnore = [ "ls" "bg" "fg" "history" ];
              bashrcExtra = "# If not running interactively, don't do anything\n";
              initExtra = ''
                set -o vi
                export NODE_PATH="$(npm root -g)"
                export JAVA_HOME=$GOPATH/../jdk
                PS1='\u@\h:\w\$ '
                mkcd() {
                  mkdir -p -- "$1" && cd -- "$1"
                }
                cat <<'EOF' > /dev/null
                alias notmapped='x'
                EOF
                export PATH=$PATH:/opt/tools/bin
                [ -f ~/.fzf.bash ] && source ~/.fzf.bash
              '';
            };
            programs.direnv = {
              enable = true;
              enableBashIntegration = true;
            };
            home.sessionPath = [ "$HOME/bin" "$HOME/.local/bin" ];
        "##]]
        .assert_eq(&out);
        assert_eq!(lines(&warnings), [Some(25), Some(29), Some(43)]);
        assert!(warnings[0]
            .message
            .contains("`GITHUB_TOKEN` looks like a secret"));
        assert!(!out.contains("ghp_"));
    }

    #[test]
    fn without_a_guard_everything_runs_in_every_shell() {
        let (out, _) = run(
            "dotfiles/bashrc",
            "alias l='ls'\nsource ~/.bash_aliases\n[[ -n $TMUX ]] && echo tmux\n",
        );
        expect![[r#"
            programs.bash = {
              enable = true;
              shellAliases.l = "ls";
              bashrcExtra = ''
                source ~/.bash_aliases
                [[ -n $TMUX ]] && echo tmux
              '';
            };
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn profile_and_logout() {
        let profile = "# login\nexport LANG=en_US.UTF-8\numask 022\nif [ -f ~/.bashrc ]; then\n  . ~/.bashrc\nfi\nexport HISTSIZE=2000\n";
        let (out, warnings) = run("~/.bash_profile", profile);
        expect![[r#"
            programs.bash = {
              enable = true;
              sessionVariables = {
                # login
                LANG = "en_US.UTF-8";
              };
              historySize = 2000;
              profileExtra = "umask 022\n";
            };
        "#]]
        .assert_eq(&out);
        assert_eq!(lines(&warnings), [Some(4)]);

        let (out, _) = run(
            "~/.bash_logout",
            "# clear the screen\nalias x=y\nif [ \"$SHLVL\" = 1 ]; then\n    clear\nfi\n",
        );
        expect![[r#"
            programs.bash = {
              enable = true;
              logoutExtra = ''
                # clear the screen
                alias x=y
                if [ "$SHLVL" = 1 ]; then
                    clear
                fi
              '';
            };
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn continuation_lines_and_odd_quoting() {
        let text = "[[ $- == *i* ]] || return\nalias deploy='ssh host \\\n  \"cd app && make\"'\nalias q=\"say \\\"hi\\\" \\$USER\"\nexport MANPAGER=\"sh -c 'col -bx | bat -l man -p'\"\nexport A=1 B=$RANDOM\n";
        let (out, _) = run("~/.bashrc", text);
        expect![[r#"
            programs.bash = {
              enable = true;
              shellAliases = {
                deploy = ''
                  ssh host \
                    "cd app && make"'';
                q = "say \"hi\" $USER";
              };
              sessionVariables.MANPAGER = "sh -c 'col -bx | bat -l man -p'";
              initExtra = "export A=1 B=$RANDOM\n";
            };
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn text_bash_refuses_is_refused() {
        for (text, line) in [
            ("alias a='b\n", 1),
            ("echo ok\nif true; then\n  echo\n", 2),
            ("echo \"$(date)\n", 1),
            ("done\n", 1),
        ] {
            match migrate(
                Source {
                    path: "~/.bashrc",
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
}
