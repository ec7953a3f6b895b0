//! `cim-nix migrate`: dotfiles into typed Home Manager options. Prints the
//! Nix, or puts it into a Home Manager file (`--into`), leaving the rest of
//! that file byte for byte. Warnings (secrets left out, files that could not
//! be read) go to stderr.

use std::path::{Path, PathBuf};

use clap::Args;

use super::project::{directory_of, write_replacing, ProjectSettings};
use crate::format::choose_style;
use crate::ide::migrate::{
    insert_into, merge, migrate, migrate_as, release_for, to_nix, Files, Migration, Program,
    Release, Source,
};
use crate::workspace::format_hints;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Dotfiles to migrate (`~/.gitconfig`, `~/.ssh/config`, ...). A
    /// directory migrates every file in it that a converter knows.
    #[arg(required = true)]
    pub dotfiles: Vec<PathBuf>,
    /// A Home Manager file to add the options to (merged into its
    /// `programs.<name>` when there is one); without it the Nix is printed.
    #[arg(long, value_name = "FILE")]
    pub into: Option<PathBuf>,
    /// The Home Manager release to write option names for, such as 25.11;
    /// default: the home-manager input in the nearest flake.lock, else the
    /// file's `home.stateVersion`, else the newest.
    #[arg(long, value_name = "RELEASE", value_parser = parse_release)]
    pub hm_release: Option<Release>,
    /// Read every dotfile as this program's config (git, ssh, tmux, ...)
    /// instead of going by its name.
    #[arg(long = "as", value_name = "PROGRAM", value_parser = parse_program)]
    pub program: Option<Program>,
    /// With --into: publish each migration as a `home.dotfile_migrated`
    /// event to this NATS server (token from $NATS_TOKEN), through the
    /// event outbox, so none is lost when NATS is away.
    #[arg(long, value_name = "URL", requires = "into")]
    pub nats: Option<String>,
}

fn parse_release(text: &str) -> Result<Release, String> {
    Release::parse(text).ok_or_else(|| {
        format!("`{text}` is not a Home Manager release; write it as 25.05 or 25.11")
    })
}

fn parse_program(text: &str) -> Result<Program, String> {
    Program::named(text).ok_or_else(|| {
        let names: Vec<&str> = Program::ALL.iter().map(|p| p.name()).collect();
        format!(
            "no converter is called `{text}`; one of: {}",
            names.join(", ")
        )
    })
}

/// Reads what dotfiles point to: `~/` is `$HOME`, a relative path is taken
/// from the dotfile's folder.
struct DiskFiles {
    dir: PathBuf,
}

impl Files for DiskFiles {
    fn read(&self, path: &str) -> Option<String> {
        let path = match path.strip_prefix("~/") {
            Some(rest) => PathBuf::from(std::env::var_os("HOME")?).join(rest),
            None => self.dir.join(path),
        };
        std::fs::read_to_string(path).ok()
    }
}

pub fn run(args: &MigrateArgs) -> i32 {
    let mut inputs = Vec::new();
    for path in &args.dotfiles {
        match dotfiles_in(path, args.program.is_some()) {
            Ok(found) => inputs.extend(found),
            Err(why) => {
                eprintln!("cim-nix: {why}");
                return 2;
            }
        }
    }
    let target = match &args.into {
        Some(file) => match std::fs::read_to_string(file) {
            Ok(text) => Some((file, text)),
            Err(e) => {
                eprintln!(
                    "cim-nix: cannot read {}: {e}; --into needs an existing Home Manager file",
                    file.display()
                );
                return 2;
            }
        },
        None => None,
    };
    let release = args.hm_release.unwrap_or_else(|| match &target {
        Some((file, text)) => release_for(Some(text), nearest_lock(file).as_deref()),
        None => Release::NEWEST,
    });

    let mut migrations = Vec::new();
    let mut failed = false;
    for (path, text) in &inputs {
        let shown = path.display().to_string();
        let source = Source { path: &shown, text };
        let files = DiskFiles {
            dir: directory_of(path),
        };
        let result = match args.program {
            Some(program) => migrate_as(program, source, release, &files),
            None => migrate(source, release, &files),
        };
        match result {
            Ok(migration) => migrations.push(migration),
            Err(e) => {
                eprintln!("cim-nix: {e}");
                failed = true;
            }
        }
    }
    if failed {
        eprintln!("cim-nix: nothing was written; fix the files above and run it again");
        return 1;
    }
    let migrations = merge(migrations);
    report(&migrations);
    match target {
        None => {
            // Printed in the style of the project the command runs in.
            let style = choose_style(None, &format_hints(Path::new("."))).style;
            print!("{}", to_nix(&migrations, style));
            0
        }
        Some((file, text)) => {
            let code = write_into(file, &text, &migrations, release);
            if let (0, Some(url)) = (code, &args.nats) {
                publish(url, file, &migrations);
            }
            code
        }
    }
}

/// How long the command waits for NATS to take the events; what it has
/// not taken by then stays in the outbox for the next cim-nix to send.
const PUBLISH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Publishes the migrations into `file` as `home.dotfile_migrated` events.
fn publish(url: &str, file: &Path, migrations: &[Migration]) {
    use crate::events::{EventHub, SystemStamps};
    use crate::nats::{outbox, publisher};
    use std::sync::atomic::Ordering;

    let mut hub = EventHub::default();
    let aggregate = file.display().to_string();
    let events: Vec<_> = migrations
        .iter()
        .flat_map(|m| {
            hub.dotfile_migrated(
                &aggregate,
                m.program.name(),
                &m.source,
                &m.target(),
                &mut SystemStamps,
            )
        })
        .collect();
    let Some(dir) = outbox::default_dir() else {
        eprintln!("cim-nix: no XDG_STATE_HOME or HOME to keep the event outbox in; no event was published");
        return;
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cim-nix: cannot publish the events: {e}");
            return;
        }
    };
    let settings = crate::config::NatsSettings {
        url: Some(url.to_string()),
        ..Default::default()
    };
    let wanted = events.len() as u64;
    let delivered = runtime.block_on(async {
        let outbox = outbox::Outbox::open(&dir, 100_000).map_err(|e| e.to_string())?;
        // Events an earlier run left are sent first, and counted.
        let wanted = wanted + outbox.pending() as u64;
        let sink = publisher::start(&settings, outbox);
        sink.emit(&events);
        // On disk first: from here on nothing is lost.
        sink.flush().await;
        let started = std::time::Instant::now();
        let sent = || {
            sink.stats.published.load(Ordering::Relaxed)
                + sink.stats.duplicates.load(Ordering::Relaxed)
        };
        while sent() < wanted && started.elapsed() < PUBLISH_WAIT {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Ok::<bool, String>(sent() >= wanted)
    });
    match delivered {
        Ok(true) => eprintln!("{}: published {wanted} home.dotfile_migrated event(s) to {url}", file.display()),
        Ok(false) => eprintln!(
            "{}: NATS at {url} did not take the events within {}s; they wait in {} for the next cim-nix server, service or migrate --nats to send",
            file.display(),
            PUBLISH_WAIT.as_secs(),
            dir.display()
        ),
        Err(e) => eprintln!("cim-nix: {e}; no event was published"),
    }
}

fn write_into(file: &Path, text: &str, migrations: &[Migration], release: Release) -> i32 {
    let settings = ProjectSettings::default();
    let file_settings = settings.for_file(file);
    let style = choose_style(
        file_settings.formatting_style,
        &format_hints(&directory_of(file)),
    )
    .style;
    let inserted = match insert_into(text, migrations, None, style) {
        Ok(inserted) => inserted,
        Err(e) => {
            eprintln!("cim-nix: {}: {e}", file.display());
            return 1;
        }
    };
    for path in &inserted.kept {
        eprintln!(
            "{}: kept `{path}` as the file sets it (the dotfile's value was not added)",
            file.display()
        );
    }
    if let Err(e) = write_replacing(file, &inserted.text) {
        eprintln!("cim-nix: cannot write {}: {e}", file.display());
        return 1;
    }
    for migration in migrations {
        eprintln!(
            "{}: added {} from {} (Home Manager {release})",
            file.display(),
            migration.option.join("."),
            migration.source
        );
    }
    0
}

/// Each migration's warnings, as `source:line: warning: ...`.
fn report(migrations: &[Migration]) {
    for migration in migrations {
        for warning in &migration.warnings {
            match warning.line {
                Some(line) => {
                    eprintln!("{}:{line}: warning: {}", migration.source, warning.message)
                }
                None => eprintln!("{}: warning: {}", migration.source, warning.message),
            }
        }
    }
}

/// `path` and its text, or every known dotfile below a directory (hidden
/// files included: dotfiles are hidden). With `--as`, every file counts.
fn dotfiles_in(path: &Path, any: bool) -> Result<Vec<(PathBuf, String)>, String> {
    if !path.is_dir() {
        let text = read_text(path)?;
        return Ok(vec![(path.to_path_buf(), text)]);
    }
    let mut found = Vec::new();
    let walk = ignore::WalkBuilder::new(path)
        .hidden(false)
        .git_ignore(true)
        .filter_entry(|e| e.file_name() != ".git")
        .sort_by_file_path(|a, b| a.cmp(b))
        .build();
    for entry in walk {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let file = entry.path();
        if any || Program::of_path(&file.to_string_lossy()).is_some() {
            found.push((file.to_path_buf(), read_text(file)?));
        }
    }
    if found.is_empty() {
        return Err(format!(
            "{}: no dotfile a converter knows (.gitconfig, .ssh/config, .tmux.conf, ...)",
            path.display()
        ));
    }
    Ok(found)
}

fn read_text(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", path.display()))
}

/// The text of the flake.lock nearest above `file`.
fn nearest_lock(file: &Path) -> Option<String> {
    let mut dir = Some(directory_of(file));
    while let Some(d) = dir {
        if let Ok(text) = std::fs::read_to_string(d.join("flake.lock")) {
            return Some(text);
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    None
}
