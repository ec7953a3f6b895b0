//! `~/.zshrc`, `.zshenv`, `.zprofile`, `.zlogin` and `.zlogout` into
//! `programs.zsh`, read as zsh reads them (see [`super::shell`]).
//!
//! Home Manager builds `.zshrc` from `initContent` pieces in order
//! (`modules/programs/zsh/default.nix`): its own setup at 510-540,
//! `compinit` at 570, oh-my-zsh at 800 (`oh-my-zsh.extraConfig`, then
//! `plugins=(...)`, `ZSH_THEME`, `source $ZSH/oh-my-zsh.sh`), history
//! variables at 910, `setopt`s at 950, the user's code at 1000 (the
//! default), aliases at 1100, `hash -d` at 1150, syntax highlighting at
//! 1200. Session variables and `home.sessionPath` go to `.zshenv` and
//! `.zprofile`.
//!
//! So in `.zshrc`: code before `compinit` goes to `initContent` at 550
//! (`initExtraBeforeCompInit` before 25.05), code before oh-my-zsh is
//! sourced to `oh-my-zsh.extraConfig`, the rest to `initContent`
//! (`initExtra` before 25.05); a `setopt`, history variable or alias
//! before oh-my-zsh stays there as written, since oh-my-zsh may set the
//! same after it. Simple commands a typed option carries are mapped; any
//! other code stays, in order, as written. `.zshenv`'s rest goes to
//! `envExtra`, `.zprofile`'s to `profileExtra`, `.zlogin`'s to
//! `loginExtra`, `.zlogout`'s to `logoutExtra`.
//!
//! Choice: Home Manager's defaults for options the file does not set are
//! kept (e.g. `history.share = true`, `history.size = 10000`).

use super::bash::{alias_pair, path_prepend, secret_in, secret_message, LOGIN_VARIABLES};
use super::nix::{self, Attrs, Value};
use super::shell::{self, Body, Part, Simple, Unit, UnitKind, Word};
use super::{looks_secret, Converted, Files, MigrateError, Release, Source, Warning};

/// `setopt` names (lowercase, no `_`) that are `history.*` options or
/// `autocd`.
const TYPED_SETOPTS: [(&str, &str); 10] = [
    ("appendhistory", "history.append"),
    ("histignoredups", "history.ignoreDups"),
    ("histignorealldups", "history.ignoreAllDups"),
    ("histsavenodups", "history.saveNoDups"),
    ("histfindnodups", "history.findNoDups"),
    ("histignorespace", "history.ignoreSpace"),
    ("histexpiredupsfirst", "history.expireDuplicatesFirst"),
    ("sharehistory", "history.share"),
    ("extendedhistory", "history.extended"),
    ("autocd", "autocd"),
];

/// The release `initContent` replaced `initExtra` in.
const INIT_CONTENT: Release = Release::new(25, 5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rc,
    Env,
    Profile,
    Login,
    Logout,
}

impl Kind {
    fn of(path: &str) -> Kind {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        match name.trim_start_matches('.') {
            "zshenv" => Kind::Env,
            "zprofile" => Kind::Profile,
            "zlogin" => Kind::Login,
            "zlogout" => Kind::Logout,
            _ => Kind::Rc,
        }
    }

    /// The option for the code no typed option carries (after `compinit`
    /// and oh-my-zsh, in `.zshrc`).
    fn raw(self, release: Release) -> &'static str {
        match self {
            Kind::Rc if release >= INIT_CONTENT => "initContent",
            Kind::Rc => "initExtra",
            Kind::Env => "envExtra",
            Kind::Profile => "profileExtra",
            Kind::Login => "loginExtra",
            Kind::Logout => "logoutExtra",
        }
    }
}

/// Where raw code goes, in `.zshrc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Before `compinit` (without oh-my-zsh).
    BeforeCompinit,
    /// Before `source $ZSH/oh-my-zsh.sh`.
    BeforeOhMyZsh,
    Main,
}

pub fn convert(
    source: Source<'_>,
    release: Release,
    _files: &dyn Files,
) -> Result<Converted, MigrateError> {
    let units = shell::read(source.text, true).map_err(|(line, message)| MigrateError::Syntax {
        path: source.path.to_string(),
        line,
        message,
    })?;
    let kind = Kind::of(source.path);
    let commands = || {
        units.iter().flat_map(|u| match &u.kind {
            UnitKind::Code {
                commands: Some(c), ..
            } => c.as_slice(),
            _ => &[],
        })
    };
    let oh_my_zsh = kind == Kind::Rc && commands().any(sources_oh_my_zsh);
    let compinit = kind == Kind::Rc && !oh_my_zsh && units.iter().any(is_compinit);
    let stage = if oh_my_zsh {
        Stage::BeforeOhMyZsh
    } else if compinit {
        Stage::BeforeCompinit
    } else {
        Stage::Main
    };
    let mut zsh = Zsh {
        kind,
        release,
        stage,
        out: Attrs::new(),
        path: Vec::new(),
        also: Attrs::new(),
        warnings: Vec::new(),
        early: Body::default(),
        main: Body::default(),
    };
    zsh.out.set(&["enable"], Value::Bool(true));
    for unit in &units {
        zsh.unit(unit);
    }
    Ok(zsh.finish())
}

struct Zsh {
    kind: Kind,
    release: Release,
    stage: Stage,
    out: Attrs,
    /// `home.sessionPath`, first in `PATH` first.
    path: Vec<String>,
    also: Attrs,
    warnings: Vec<Warning>,
    /// Code before `compinit` or oh-my-zsh.
    early: Body,
    main: Body,
}

impl shell::MapsCommands for Zsh {
    fn raw_body(&mut self) -> &mut Body {
        self.body()
    }

    fn map_command(&mut self, line: usize, command: &Simple, notes: Vec<String>) -> bool {
        self.command(line, command, notes)
    }
}

impl Zsh {
    fn body(&mut self) -> &mut Body {
        match self.stage {
            Stage::Main => &mut self.main,
            _ => &mut self.early,
        }
    }

    fn warn(&mut self, line: usize, message: String) {
        self.warnings.push(Warning {
            line: Some(line),
            message,
        });
    }

    fn raw_name(&self) -> &'static str {
        self.kind.raw(self.release)
    }

    fn unit(&mut self, unit: &Unit) {
        match &unit.kind {
            UnitKind::Blank => self.body().raw("\n"),
            UnitKind::Comment(comment) => {
                if looks_secret("", comment) {
                    let message = secret_message("this comment", self.raw_name());
                    self.warn(unit.first_line, message);
                } else {
                    self.body().comment(&unit.text, comment);
                }
            }
            UnitKind::Code { commands, comment } => {
                if self.kind == Kind::Rc && self.stage == Stage::BeforeCompinit && is_compinit(unit)
                {
                    self.mapped_line(unit.first_line, "enableCompletion", "`compinit`");
                    self.stage = Stage::Main;
                    return;
                }
                match commands {
                    Some(commands) => self.commands(unit, commands, comment.as_deref()),
                    None => self.compound(unit),
                }
            }
        }
    }

    /// A line a typed option now writes: left out, with a warning.
    fn mapped_line(&mut self, line: usize, option: &str, what: &str) {
        self.body().take_comments();
        let path: Vec<&str> = option.split('.').collect();
        self.out.set(&path, Value::Bool(true));
        self.warn(
            line,
            format!("{what} left out: Home Manager writes it for `programs.zsh.{option}`"),
        );
    }

    fn commands(&mut self, unit: &Unit, commands: &[Simple], comment: Option<&str>) {
        if let Some(name) = secret_in(commands) {
            let message = secret_message(&format!("`{name}`"), self.raw_name());
            self.warn(unit.first_line, message);
            self.body().take_comments();
            return;
        }
        shell::map_or_keep(self, unit, commands, comment);
    }

    fn compound(&mut self, unit: &Unit) {
        if looks_secret("", &unit.text) {
            let message = secret_message("this command", self.raw_name());
            self.warn(unit.first_line, message);
            self.body().take_comments();
            return;
        }
        if self.kind == Kind::Rc {
            for (needle, option) in PLUGINS {
                if shell::only_sources(unit, &[needle]) {
                    self.mapped_line(unit.first_line, option, &format!("sourcing {needle}"));
                    return;
                }
            }
        }
        self.body().raw(&unit.text);
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
        let rc = self.kind == Kind::Rc;
        // Before oh-my-zsh, only what oh-my-zsh cannot override is mapped.
        let settled = rc && self.stage != Stage::BeforeOhMyZsh;
        let environment = matches!(self.kind, Kind::Rc | Kind::Env | Kind::Profile);
        match name.as_str() {
            "alias" if settled => self.alias(args, notes),
            "export" if environment => {
                !args.is_empty()
                    && args.iter().all(|a| a.assignment().is_some())
                    && self.assignments(args, notes, true)
            }
            "setopt" | "unsetopt" if settled => self.setopt(args, name == "setopt", notes),
            "bindkey" if settled => self.bindkey(args, notes),
            "hash" if settled => self.hash(args, notes),
            "source" | "." if rc => self.source(line, args),
            "autoload" if rc && self.compinit_loader(args) => {
                self.body().take_comments();
                true
            }
            "eval" if rc => self.hook(line, args),
            _ if environment && words.iter().all(|w| w.assignment().is_some()) => {
                self.assignments(words, notes, false)
            }
            _ => false,
        }
    }

    /// `autoload -Uz compinit` where `compinit` is mapped (before it, or
    /// after): Home Manager's `completionInit` loads it.
    fn compinit_loader(&self, args: &[Word]) -> bool {
        let words: Option<Vec<String>> = args.iter().map(Word::literal).collect();
        (self.stage == Stage::BeforeCompinit || self.out.get("enableCompletion").is_some())
            && matches!(words.as_deref(), Some([flags, name]) if name == "compinit" && flags.starts_with('-'))
    }

    /// `alias a=b`, `alias -g G='| grep'`.
    fn alias(&mut self, args: &[Word], notes: Vec<String>) -> bool {
        let (option, args) = match args.first().and_then(Word::literal).as_deref() {
            Some("-g") => ("shellGlobalAliases", &args[1..]),
            Some("--") => ("shellAliases", &args[1..]),
            _ => ("shellAliases", args),
        };
        let pairs: Option<Vec<(String, String)>> = args.iter().map(alias_pair).collect();
        let Some(pairs) = pairs.filter(|p| !p.is_empty()) else {
            return false;
        };
        let mut notes = Some(notes);
        for (name, value) in pairs {
            let notes = notes.take().unwrap_or_default();
            self.out
                .set_with_comments(&[option, &name], Value::Str(value), notes);
        }
        true
    }

    /// `K=V` and `export K=V`: PATH prepends, history variables,
    /// oh-my-zsh's settings, exported variables.
    fn assignments(&mut self, words: &[Word], notes: Vec<String>, exported: bool) -> bool {
        let mut planned = Vec::new();
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
        for (path, value) in planned {
            let notes = notes.take().unwrap_or_default();
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            match path.as_slice() {
                ["home", "sessionPath"] => {
                    if let Value::List(items) = value {
                        let mut dirs: Vec<String> = items
                            .into_iter()
                            .filter_map(|v| match v {
                                Value::Str(s) => Some(s),
                                _ => None,
                            })
                            .collect();
                        dirs.append(&mut self.path);
                        self.path = dirs;
                    }
                }
                [] => {}
                path => self.out.set_with_comments(path, value, notes),
            }
        }
        true
    }

    /// Where one assignment goes (an empty path: nowhere, Home Manager
    /// sets it itself).
    fn plan(&mut self, name: &str, value: &Word, exported: bool) -> Option<(Vec<String>, Value)> {
        let path = |p: &str| p.split('.').map(String::from).collect::<Vec<String>>();
        let rc = self.kind == Kind::Rc;
        let settled = rc && self.stage != Stage::BeforeOhMyZsh;
        match name {
            "PATH" => {
                let dirs = path_prepend(value)?;
                return Some((path("home.sessionPath"), strings(dirs)));
            }
            // zsh's array twin of PATH: `path=(~/bin $path)`.
            "path" => {
                let items = value.array.as_ref()?;
                let (last, dirs) = items.split_last()?;
                if !matches!(last.parts.as_slice(), [Part::Var(v)] if v == "path") {
                    return None;
                }
                let dirs: Option<Vec<String>> = dirs.iter().map(expandable).collect();
                return Some((path("home.sessionPath"), strings(dirs?)));
            }
            "HISTSIZE" | "SAVEHIST" if settled => {
                let n: i64 = value.literal()?.parse().ok()?;
                let option = if name == "HISTSIZE" {
                    "history.size"
                } else {
                    "history.save"
                };
                return Some((path(option), Value::Int(n)));
            }
            // Home Manager writes `HISTFILE="<path>"`.
            "HISTFILE" if settled => {
                let text = value.double_quoted().filter(|_| reads_only_login(value))?;
                return Some((path("history.path"), Value::Str(text)));
            }
            "cdpath" if settled => {
                let items: Option<Vec<String>> =
                    value.array.as_ref()?.iter().map(expandable).collect();
                return Some((path("cdpath"), strings(items?)));
            }
            _ => {}
        }
        if rc && self.stage == Stage::BeforeOhMyZsh {
            match name {
                "ZSH" => return Some((Vec::new(), Value::Bool(true))),
                "ZSH_THEME" => {
                    return Some((path("oh-my-zsh.theme"), Value::Str(value.literal()?)))
                }
                "plugins" => {
                    let items: Option<Vec<String>> =
                        value.array.as_ref()?.iter().map(Word::literal).collect();
                    return Some((path("oh-my-zsh.plugins"), strings(items?)));
                }
                _ => {}
            }
        }
        let text = value.double_quoted()?;
        (exported && reads_only_login(value) && value.array.is_none()).then(|| {
            (
                vec!["sessionVariables".to_string(), name.to_string()],
                Value::Str(text),
            )
        })
    }

    /// `setopt a b`, `unsetopt c`: history options and `autocd` typed, the
    /// rest in `setOptions` (Home Manager runs `setopt` on each).
    fn setopt(&mut self, args: &[Word], set: bool, notes: Vec<String>) -> bool {
        let names: Option<Vec<String>> = args.iter().map(Word::literal).collect();
        let Some(names) = names.filter(|n| !n.is_empty()) else {
            return false;
        };
        let mut plan: Vec<(Option<&str>, Value)> = Vec::new();
        for name in &names {
            if !shell::is_name(name) {
                return false;
            }
            let key = name.to_ascii_lowercase().replace('_', "");
            let typed = |k: &str| TYPED_SETOPTS.iter().find(|(n, _)| *n == k).map(|(_, o)| *o);
            if let Some(option) = typed(&key) {
                plan.push((Some(option), Value::Bool(set)));
            } else if let Some(option) = key.strip_prefix("no").and_then(typed) {
                plan.push((Some(option), Value::Bool(!set)));
            } else if set {
                plan.push((None, Value::Str(name.clone())));
            } else if key.starts_with("no") {
                // `unsetopt nomatch` or a double negation: kept as written.
                return false;
            } else {
                plan.push((None, Value::Str(format!("NO_{name}"))));
            }
        }
        let mut notes = Some(notes);
        for (option, value) in plan {
            let notes = notes.take().unwrap_or_default();
            match option {
                Some(option) => {
                    let path: Vec<&str> = option.split('.').collect();
                    self.out.set_with_comments(&path, value, notes);
                }
                None => {
                    if self.out.get("setOptions").is_none() {
                        self.out.set(&["setOptions"], Value::List(Vec::new()));
                    }
                    let entry = self.out.entries.iter_mut().find(|e| e.name == "setOptions");
                    if let Some(entry) = entry {
                        if let Value::List(items) = &mut entry.value {
                            items.push(value);
                        }
                        entry.comments.extend(notes);
                    }
                }
            }
        }
        true
    }

    /// `bindkey -e`, `-v`, `-a`: the default keymap.
    fn bindkey(&mut self, args: &[Word], notes: Vec<String>) -> bool {
        let [flag] = args else {
            return false;
        };
        let keymap = match flag.literal().as_deref() {
            Some("-e") => "emacs",
            Some("-v") => "viins",
            Some("-a") => "vicmd",
            _ => return false,
        };
        self.out
            .set_with_comments(&["defaultKeymap"], Value::str(keymap), notes);
        true
    }

    /// `hash -d name=dir`.
    fn hash(&mut self, args: &[Word], notes: Vec<String>) -> bool {
        let Some((flag, rest)) = args.split_first() else {
            return false;
        };
        if !flag.is("-d") || rest.is_empty() {
            return false;
        }
        let mut pairs = Vec::new();
        for arg in rest {
            let Some((name, value)) = arg.assignment() else {
                return false;
            };
            let Some(dir) = expandable(&value) else {
                return false;
            };
            pairs.push((name, dir));
        }
        let mut notes = Some(notes);
        for (name, dir) in pairs {
            let notes = notes.take().unwrap_or_default();
            self.out
                .set_with_comments(&["dirHashes", &name], Value::Str(dir), notes);
        }
        true
    }

    /// `source $ZSH/oh-my-zsh.sh` and the plugins Home Manager loads.
    fn source(&mut self, line: usize, args: &[Word]) -> bool {
        let [arg] = args else {
            return false;
        };
        if self.stage == Stage::BeforeOhMyZsh
            && arg.raw.trim_matches('"').ends_with("/oh-my-zsh.sh")
        {
            self.out.set(&["oh-my-zsh", "enable"], Value::Bool(true));
            self.early.flush();
            self.stage = Stage::Main;
            return true;
        }
        for (needle, option) in PLUGINS {
            if arg.raw.trim_matches('"').ends_with(needle) {
                self.mapped_line(line, option, &format!("sourcing {needle}"));
                return true;
            }
        }
        false
    }

    /// `eval "$(direnv hook zsh)"`, `eval "$(starship init zsh)"`.
    fn hook(&mut self, line: usize, args: &[Word]) -> bool {
        let [arg] = args else {
            return false;
        };
        let command = arg.raw.trim_matches('"');
        let program = match command {
            "$(direnv hook zsh)" => "direnv",
            "$(starship init zsh)" => "starship",
            _ => return false,
        };
        self.also
            .set(&["programs", program, "enable"], Value::Bool(true));
        self.also.set(
            &["programs", program, "enableZshIntegration"],
            Value::Bool(true),
        );
        self.body().take_comments();
        self.warn(
            line,
            format!("`eval \"{command}\"` left out: `programs.{program}.enableZshIntegration` writes it into .zshrc"),
        );
        true
    }

    fn finish(self) -> Converted {
        let Zsh {
            kind,
            release,
            mut out,
            path,
            mut also,
            warnings,
            early,
            main,
            stage: _,
        } = self;
        let oh_my_zsh = out.get("oh-my-zsh").is_some();
        let early = early.finish();
        let main = main.finish();
        let raw = kind.raw(release);
        match (early, main) {
            (Some(early), main) if oh_my_zsh => {
                out.set(&["oh-my-zsh", "extraConfig"], Value::Str(early));
                if let Some(main) = main {
                    out.set(&[raw], Value::Str(main));
                }
            }
            (Some(early), main) if release < INIT_CONTENT => {
                out.set(&["initExtraBeforeCompInit"], Value::Str(early));
                if let Some(main) = main {
                    out.set(&[raw], Value::Str(main));
                }
            }
            (Some(early), None) => {
                let code = format!("lib.mkOrder 550 {}", nix::string(&early, 2));
                out.set(&[raw], Value::Code(code));
            }
            (Some(early), Some(main)) => {
                let code = format!("(lib.mkOrder 550 {})", nix::string(&early, 4));
                out.set(
                    &[raw],
                    Value::Code(format!(
                        "lib.mkMerge [\n    {code}\n    {}\n  ]",
                        nix::string(&main, 4)
                    )),
                );
            }
            (None, Some(main)) => out.set(&[raw], Value::Str(main)),
            (None, None) => {}
        }
        if !path.is_empty() {
            also.set(&["home", "sessionPath"], strings(path));
        }
        Converted {
            options: out,
            also,
            warnings,
        }
    }
}

/// Plugins Home Manager loads itself, by the file sourced.
const PLUGINS: [(&str, &str); 2] = [
    ("zsh-autosuggestions.zsh", "autosuggestion.enable"),
    ("zsh-syntax-highlighting.zsh", "syntaxHighlighting.enable"),
];

fn strings(items: Vec<String>) -> Value {
    Value::List(items.into_iter().map(Value::Str).collect())
}

fn reads_only_login(value: &Word) -> bool {
    value.parts.iter().all(|p| match p {
        Part::Var(v) => LOGIN_VARIABLES.contains(&v.as_str()),
        _ => true,
    })
}

/// A word as Home Manager puts it between double quotes after escaping
/// `\`, `"` and backquotes (`hash -d`, `cdpath`): only `$VAR`s may expand,
/// so a literal `$` or backslash cannot be written.
fn expandable(word: &Word) -> Option<String> {
    let text = word.double_quoted().filter(|_| reads_only_login(word))?;
    (!text.contains('\\')).then_some(text)
}

fn sources_oh_my_zsh(command: &Simple) -> bool {
    let words = &command.words;
    words.len() == 2
        && matches!(words[0].literal().as_deref(), Some("source" | "."))
        && words[1].raw.trim_matches('"').ends_with("/oh-my-zsh.sh")
}

/// `compinit` (alone or after `autoload -U[z] compinit &&`), as Home
/// Manager's `completionInit` writes it.
fn is_compinit(unit: &Unit) -> bool {
    matches!(
        shell::squeezed(unit).as_str(),
        "compinit"
            | "autoload-Ucompinit&&compinit"
            | "autoload-Uzcompinit&&compinit"
            | "autoload-Uzcompinit;compinit"
            | "autoload-Ucompinit;compinit"
    )
}

#[cfg(test)]
mod tests {
    use super::super::{migrate, NoFiles};
    use super::*;
    use expect_test::expect;

    fn run_at(path: &str, text: &str, release: Release) -> (String, Vec<Warning>) {
        let m = migrate(Source { path, text }, release, &NoFiles).unwrap();
        if release == Release::NEWEST {
            shell::assert_options_exist(&m);
        }
        let out = m.to_nix(0);
        let parse = rnix::Root::parse(&format!("{{\n{out}}}\n"));
        assert!(parse.errors().is_empty(), "{:?}\n{out}", parse.errors());
        (out, m.warnings)
    }

    fn run(path: &str, text: &str) -> (String, Vec<Warning>) {
        run_at(path, text, Release::NEWEST)
    }

    const ZSHRC: &str = r#"# completion setup
fpath=(~/.zfunc $fpath)
zstyle ':completion:*' menu select
autoload -Uz compinit
compinit

HISTSIZE=50000
SAVEHIST=50000
HISTFILE=~/.cache/zsh/history
setopt share_history HIST_IGNORE_ALL_DUPS no_beep
unsetopt extended_history BG_NICE
setopt AUTO_CD
bindkey -v
# named dirs
hash -d proj=~/src/projects
cdpath=(~ ~/src)
alias -g G='| grep'
alias ll='ls -lh' gst='git status'
export PATH="$HOME/.cargo/bin:$PATH"
path=(~/go/bin $path)
export EDITOR=nvim
export OPENAI_API_KEY="sk-live-0000"
function mkcd {
  mkdir -p "$1" && cd "$1"
}
source /usr/share/zsh/plugins/zsh-autosuggestions/zsh-autosuggestions.zsh
eval "$(starship init zsh)"
bindkey '^R' history-incremental-search-backward
source /usr/share/zsh/plugins/zsh-syntax-highlighting/zsh-syntax-highlighting.zsh
"#;

    #[test]
    fn zshrc_typed_options_and_code_around_compinit() {
        let (out, warnings) = run("~/.zshrc", ZSHRC);
        expect![[r#"
            programs.zsh = {
              enable = true;
              enableCompletion = true;
              history = {
                size = 50000;
                save = 50000;
                path = "$HOME/.cache/zsh/history";
                share = true;
                ignoreAllDups = true;
                extended = false;
              };
              setOptions = [ "no_beep" "NO_BG_NICE" ];
              autocd = true;
              defaultKeymap = "viins";
              dirHashes = {
                # named dirs
                proj = "$HOME/src/projects";
              };
              cdpath = [ "$HOME" "$HOME/src" ];
              shellGlobalAliases.G = "| grep";
              shellAliases = {
                ll = "ls -lh";
                gst = "git status";
              };
              sessionVariables.EDITOR = "nvim";
              autosuggestion.enable = true;
              syntaxHighlighting.enable = true;
              initContent = lib.mkMerge [
                (lib.mkOrder 550 ''
                  # completion setup
                  fpath=(~/.zfunc $fpath)
                  zstyle ':completion:*' menu select
                '')
                ''
                  function mkcd {
                    mkdir -p "$1" && cd "$1"
                  }
                  bindkey '^R' history-incremental-search-backward
                ''
              ];
            };
            programs.starship = {
              enable = true;
              enableZshIntegration = true;
            };
            home.sessionPath = [ "$HOME/go/bin" "$HOME/.cargo/bin" ];
        "#]]
        .assert_eq(&out);
        let lines: Vec<Option<usize>> = warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [Some(5), Some(22), Some(26), Some(27), Some(29)]);
        assert!(!out.contains("sk-live"));
    }

    #[test]
    fn before_25_05_the_old_init_options() {
        let (out, _) = run_at(
            "~/.zshrc",
            "zstyle ':completion:*' menu select\nautoload -U compinit && compinit\nprint hello\n",
            Release::new(24, 11),
        );
        expect![[r#"
            programs.zsh = {
              enable = true;
              enableCompletion = true;
              initExtraBeforeCompInit = "zstyle ':completion:*' menu select\n";
              initExtra = "print hello\n";
            };
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn oh_my_zsh() {
        let text = r#"export ZSH="$HOME/.oh-my-zsh"
ZSH_THEME="robbyrussell"
# update reminders
zstyle ':omz:update' mode reminder
DISABLE_AUTO_TITLE="true"
setopt no_share_history
plugins=(git docker kubectl)
source $ZSH/oh-my-zsh.sh
setopt no_share_history
alias k=kubectl
"#;
        let (out, _) = run("~/.zshrc", text);
        expect![[r#"
            programs.zsh = {
              enable = true;
              oh-my-zsh = {
                theme = "robbyrussell";
                plugins = [ "git" "docker" "kubectl" ];
                enable = true;
                extraConfig = ''
                  # update reminders
                  zstyle ':omz:update' mode reminder
                  DISABLE_AUTO_TITLE="true"
                  setopt no_share_history
                '';
              };
              history.share = false;
              shellAliases.k = "kubectl";
            };
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn zshenv_zprofile_zlogin_zlogout() {
        let (out, _) = run(
            "~/.zshenv",
            "export XDG_CONFIG_HOME=\"$HOME/.config\"\nexport PATH=~/.local/bin:$PATH\nskip_global_compinit=1\n[[ -r ~/.zshenv.local ]] && . ~/.zshenv.local\n",
        );
        expect![[r#"
            programs.zsh = {
              enable = true;
              sessionVariables.XDG_CONFIG_HOME = "$HOME/.config";
              envExtra = ''
                skip_global_compinit=1
                [[ -r ~/.zshenv.local ]] && . ~/.zshenv.local
              '';
            };
            home.sessionPath = [ "$HOME/.local/bin" ];
        "#]]
        .assert_eq(&out);
        let (out, _) = run(
            "~/.zprofile",
            "eval \"$(/opt/homebrew/bin/brew shellenv)\"\nexport LANG=C.UTF-8\n",
        );
        expect![[r#"
            programs.zsh = {
              enable = true;
              sessionVariables.LANG = "C.UTF-8";
              profileExtra = "eval \"$(/opt/homebrew/bin/brew shellenv)\"\n";
            };
        "#]]
        .assert_eq(&out);
        let (out, _) = run("~/.zlogin", "fortune\n");
        expect![[r#"
            programs.zsh = {
              enable = true;
              loginExtra = "fortune\n";
            };
        "#]]
        .assert_eq(&out);
        let (out, _) = run("~/.zlogout", "clear\n");
        expect![[r#"
            programs.zsh = {
              enable = true;
              logoutExtra = "clear\n";
            };
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn text_zsh_refuses_is_refused() {
        let err = migrate(
            Source {
                path: "~/.zshrc",
                text: "alias a=\"b\nx\n",
            },
            Release::NEWEST,
            &NoFiles,
        );
        assert!(
            matches!(err, Err(MigrateError::Syntax { line: 1, .. })),
            "{err:?}"
        );
    }
}
