//! Dotfiles into typed Home Manager options (home-manager.md §2-4): each
//! converter reads a program's config file the way the program does and
//! writes the `programs.<name>` block that makes Home Manager write the same
//! configuration. Keys with no typed option stay in the program's raw option
//! (`settings`, `extraConfig`, ...); secrets never reach Nix (the store is
//! world-readable). Pure: text in, Nix out; files a dotfile points to (git's
//! `core.excludesFile`) come through the caller's [`Files`].

pub mod alacritty;
pub mod bash;
pub mod direnv;
pub mod file;
pub mod fish;
pub mod git;
pub mod htop;
pub mod insert;
pub mod kitty;
pub mod neovim;
pub mod nix;
pub mod readline;
pub mod shell;
pub mod ssh;
pub mod starship;
pub mod tmux;
pub mod vim;
mod vimscript;
pub mod zsh;

use nix::{Attrs, Value};

/// A Home Manager release, as `YY.MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Release {
    pub year: u8,
    pub month: u8,
}

impl Release {
    /// master when the option data was taken (26.11, unreleased).
    pub const NEWEST: Release = Release::new(26, 11);

    pub const fn new(year: u8, month: u8) -> Release {
        Release { year, month }
    }

    /// `"25.11"`, `"release-25.11"`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Release> {
        let text = text.trim().trim_matches('"');
        let text = text.strip_prefix("release-").unwrap_or(text);
        let (year, month) = text.split_once('.')?;
        let release = Release::new(year.parse().ok()?, month.parse().ok()?);
        // Home Manager releases in May and November.
        (release.month == 5 || release.month == 11).then_some(release)
    }

    /// The release to write option names for: the locked home-manager
    /// input's branch (`release-25.05`; master or no branch is the newest),
    /// else `home.stateVersion` (a configuration is never older than the
    /// release it was started on), else the newest.
    pub fn detect(locked_ref: Option<Option<&str>>, state_version: Option<&str>) -> Release {
        match locked_ref {
            Some(Some(r)) => Release::parse(r).unwrap_or(Release::NEWEST),
            Some(None) => Release::NEWEST,
            None => state_version
                .and_then(Release::parse)
                .map_or(Release::NEWEST, |r| r.min(Release::NEWEST)),
        }
    }
}

impl std::fmt::Display for Release {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:02}", self.year, self.month)
    }
}

/// The programs with a converter, and the fallback for any other file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Program {
    Git,
    Ssh,
    Bash,
    Zsh,
    Vim,
    Neovim,
    Tmux,
    Starship,
    Alacritty,
    Kitty,
    Readline,
    Direnv,
    Fish,
    Htop,
    /// `home.file` or `xdg.configFile`: the file as it is.
    File,
}

impl Program {
    pub const ALL: [Program; 15] = [
        Program::Git,
        Program::Ssh,
        Program::Bash,
        Program::Zsh,
        Program::Vim,
        Program::Neovim,
        Program::Tmux,
        Program::Starship,
        Program::Alacritty,
        Program::Kitty,
        Program::Readline,
        Program::Direnv,
        Program::Fish,
        Program::Htop,
        Program::File,
    ];

    /// The name in `programs.<name>` and in events.
    pub fn name(self) -> &'static str {
        match self {
            Program::Git => "git",
            Program::Ssh => "ssh",
            Program::Bash => "bash",
            Program::Zsh => "zsh",
            Program::Vim => "vim",
            Program::Neovim => "neovim",
            Program::Tmux => "tmux",
            Program::Starship => "starship",
            Program::Alacritty => "alacritty",
            Program::Kitty => "kitty",
            Program::Readline => "readline",
            Program::Direnv => "direnv",
            Program::Fish => "fish",
            Program::Htop => "htop",
            Program::File => "file",
        }
    }

    /// The program named `name` (as [`Program::name`] gives it).
    pub fn named(name: &str) -> Option<Program> {
        Program::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The file Home Manager writes, relative to the home directory (for
    /// vim, none: its config is built into a wrapper).
    pub fn target(self) -> &'static str {
        match self {
            Program::Git => ".config/git/config",
            Program::Ssh => ".ssh/config",
            Program::Bash => ".bashrc",
            Program::Zsh => ".zshrc",
            Program::Vim => "",
            Program::Neovim => ".config/nvim/init.lua",
            Program::Tmux => ".config/tmux/tmux.conf",
            Program::Starship => ".config/starship.toml",
            Program::Alacritty => ".config/alacritty/alacritty.toml",
            Program::Kitty => ".config/kitty/kitty.conf",
            Program::Readline => ".inputrc",
            Program::Direnv => ".config/direnv/direnv.toml",
            Program::Fish => ".config/fish/config.fish",
            Program::Htop => ".config/htop/htoprc",
            Program::File => "",
        }
    }

    /// The program whose config file `path` is, by its name and folder
    /// (`~/.gitconfig`, `~/.config/git/config`, and the dot-less names of
    /// dotfile repositories: `gitconfig`, `tmux.conf`); `None` for a file
    /// no converter reads (it can still move as a [`Program::File`]).
    pub fn of_path(path: &str) -> Option<Program> {
        let path = path.replace('\\', "/");
        let mut parts = path.rsplit('/');
        let name = parts.next().unwrap_or("");
        let parent = parts.next().unwrap_or("");
        let parent = parent.strip_prefix('.').unwrap_or(parent);
        let bare = name.strip_prefix('.').unwrap_or(name);
        Some(match (parent, bare) {
            (_, "gitconfig") | ("git", "config") => Program::Git,
            ("ssh", "config") | (_, "ssh_config") => Program::Ssh,
            (_, "bashrc" | "bash_profile" | "profile" | "bash_logout") => Program::Bash,
            (_, "zshrc" | "zshenv" | "zprofile" | "zlogin" | "zlogout") => Program::Zsh,
            (_, "vimrc") => Program::Vim,
            ("nvim", "init.vim" | "init.lua") => Program::Neovim,
            (_, "tmux.conf") => Program::Tmux,
            (_, "starship.toml") => Program::Starship,
            (_, "alacritty.toml" | "alacritty.yml" | "alacritty.yaml") => Program::Alacritty,
            (_, "kitty.conf") => Program::Kitty,
            (_, "inputrc") => Program::Readline,
            (_, "direnv.toml" | "direnvrc") => Program::Direnv,
            ("fish", "config.fish") => Program::Fish,
            (_, "htoprc") => Program::Htop,
            _ => return None,
        })
    }
}

/// What a converter makes of one dotfile.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Converted {
    /// What goes under the program's option (`programs.git`).
    pub options: Attrs,
    /// Options elsewhere, from the top (`home.sessionPath`).
    pub also: Attrs,
    pub warnings: Vec<Warning>,
}

/// A dotfile to migrate.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// Its path as the user named it (`~/.gitconfig`, `dotfiles/gitconfig`);
    /// messages and events use it, nothing opens it here.
    pub path: &'a str,
    pub text: &'a str,
}

/// Reads the files a dotfile points to (git's `core.excludesFile`). The
/// caller decides where `~` is and whether to read at all.
pub trait Files {
    fn read(&self, path: &str) -> Option<String>;
}

/// Reads nothing: every referenced file is kept as a reference.
pub struct NoFiles;

impl Files for NoFiles {
    fn read(&self, _: &str) -> Option<String> {
        None
    }
}

/// Something the user should know about a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// 1-based line in the dotfile, when one line is the cause.
    pub line: Option<usize>,
    pub message: String,
}

/// One dotfile, migrated.
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    pub program: Program,
    pub source: String,
    pub release: Release,
    /// Where the block goes: `programs.git`, `xdg.configFile."foo/x.conf"`.
    pub option: Vec<String>,
    /// What goes under [`Migration::option`].
    pub options: Attrs,
    /// Options elsewhere, from the top (`home.sessionPath`).
    pub also: Attrs,
    pub warnings: Vec<Warning>,
}

impl Migration {
    /// The file Home Manager now writes, below `~` (for `home.file` and
    /// `xdg.configFile` entries, the entry's own path).
    pub fn target(&self) -> String {
        match self
            .option
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["xdg", "configFile", path] => format!(".config/{path}"),
            ["home", "file", path] => path.to_string(),
            _ => self.program.target().to_string(),
        }
    }

    /// `programs.<name> = { ... };` and the other options, each binding
    /// indented by `indent` spaces.
    pub fn to_nix(&self, indent: usize) -> String {
        let path: Vec<&str> = self.option.iter().map(String::as_str).collect();
        let mut out = nix::binding(&path, &Value::Attrs(self.options.clone()), &[], indent);
        for entry in &self.also.entries {
            out.push_str(&nix::binding(
                &[&entry.name],
                &entry.value,
                &entry.comments,
                indent,
            ));
        }
        out
    }
}

/// Why a dotfile was not migrated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "{path}: no converter knows this file; name it as the program does (~/.gitconfig, ...)"
    )]
    Unknown { path: String },
    #[error("{path}: line {line}: {message}; nothing was converted")]
    Syntax {
        path: String,
        line: usize,
        message: String,
    },
}

/// Migrates `source`, whose program is known from its path.
pub fn migrate(
    source: Source<'_>,
    release: Release,
    files: &dyn Files,
) -> Result<Migration, MigrateError> {
    let program = Program::of_path(source.path).unwrap_or(Program::File);
    migrate_as(program, source, release, files)
}

/// Migrates `source` as `program`'s config.
pub fn migrate_as(
    program: Program,
    source: Source<'_>,
    release: Release,
    files: &dyn Files,
) -> Result<Migration, MigrateError> {
    let converted = match program {
        Program::Git => git::convert(source, release, files)?,
        Program::Ssh => ssh::convert(source, release, files)?,
        Program::Tmux => tmux::convert(source, release, files)?,
        Program::Vim => vim::convert(source, release, files)?,
        Program::Neovim => neovim::convert(source, release, files)?,
        Program::Readline => readline::convert(source, release, files)?,
        Program::Starship => starship::convert(source, release, files)?,
        Program::Alacritty => alacritty::convert(source, release, files)?,
        Program::Direnv => direnv::convert(source, release, files)?,
        Program::Kitty => kitty::convert(source, release, files)?,
        Program::Htop => htop::convert(source, release, files)?,
        Program::Bash => bash::convert(source, release, files)?,
        Program::Zsh => zsh::convert(source, release, files)?,
        Program::Fish => fish::convert(source, release, files)?,
        Program::File => file::convert(source, release, files)?,
    };
    let option = match program {
        Program::File => file::option(source.path),
        program => vec!["programs".to_string(), program.name().to_string()],
    };
    Ok(Migration {
        program,
        source: source.path.to_string(),
        release,
        option,
        options: converted.options,
        also: converted.also,
        warnings: converted.warnings,
    })
}

/// Whether a value looks like a credential: what must never be written
/// into the store. Names (`token`, `password`) and value shapes (GitHub,
/// GitLab, Slack and AWS tokens, a password in a URL) both count.
pub fn looks_secret(key: &str, value: &str) -> bool {
    let key = key.to_ascii_lowercase();
    let named = [
        "token", "password", "passwd", "secret", "apikey", "api_key", "smtppass",
    ]
    .iter()
    .any(|w| key.contains(w))
        && !key.contains("helper")
        && !key.contains("file")
        && !key.contains("command")
        && !key.contains("cmd");
    let header =
        key.contains("extraheader") && value.to_ascii_lowercase().contains("authorization");
    let shaped = [
        "ghp_",
        "gho_",
        "ghs_",
        "github_pat_",
        "glpat-",
        "xoxb-",
        "xoxp-",
        "AKIA",
    ]
    .iter()
    .any(|p| value.contains(p));
    named || header || shaped || password_in_url(value)
}

/// `https://user:secret@host`: a URL that carries a password.
fn password_in_url(value: &str) -> bool {
    let Some((_, rest)) = value.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority
        .split_once('@')
        .is_some_and(|(user, _)| user.contains(':'))
}

/// Blank lines collapsed to one, none at either end, a final newline.
pub(crate) fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut blank = false;
    for line in text.lines() {
        if line.trim().is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Files read from a table of paths and texts.
    pub(in super::super) struct Map(pub &'static [(&'static str, &'static str)]);

    impl Files for Map {
        fn read(&self, path: &str) -> Option<String> {
            self.0
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, t)| t.to_string())
        }
    }

    #[test]
    fn releases() {
        assert_eq!(Release::parse("25.11"), Some(Release::new(25, 11)));
        assert_eq!(Release::parse("release-24.05"), Some(Release::new(24, 5)));
        assert_eq!(Release::parse("master"), None);
        assert_eq!(Release::new(25, 5).to_string(), "25.05");
        assert!(Release::new(25, 5) < Release::new(25, 11));
        assert_eq!(
            Release::detect(Some(Some("release-25.05")), Some("24.11")),
            Release::new(25, 5)
        );
        assert_eq!(Release::detect(Some(None), Some("24.11")), Release::NEWEST);
        assert_eq!(Release::detect(None, Some("24.11")), Release::new(24, 11));
        assert_eq!(Release::detect(None, None), Release::NEWEST);
    }

    #[test]
    fn programs_by_path() {
        for path in [
            "~/.gitconfig",
            "/home/a/.config/git/config",
            "dotfiles/gitconfig",
        ] {
            assert_eq!(Program::of_path(path), Some(Program::Git), "{path}");
        }
        assert_eq!(Program::of_path("~/.config/foo/config"), None);
    }

    #[test]
    fn secrets() {
        assert!(looks_secret("token", "abc"));
        assert!(looks_secret("smtpPass", "hunter2"));
        assert!(looks_secret("insteadOf", "https://me:ghp_abc@github.com/"));
        assert!(looks_secret("url", "https://me:pw@example.org/x"));
        assert!(looks_secret("extraheader", "AUTHORIZATION: bearer abc"));
        assert!(!looks_secret("helper", "store"));
        assert!(!looks_secret("passwordFile", "/run/secrets/x"));
        assert!(!looks_secret("insteadOf", "https://github.com/"));
        assert!(!looks_secret("url", "git@github.com:me/x"));
    }
}
