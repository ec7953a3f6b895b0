//! Dotfile migration for the CLI, the server and the NATS service: which
//! Home Manager release to write for, several dotfiles of one program made
//! one block, and the blocks put into a Home Manager file with the rest of
//! the file unchanged, the new lines formatted in the project's style.

use std::path::{Path, PathBuf};

use rowan::TextRange;

use super::{Doc, World};
use crate::flake::lock::FlakeLock;
use crate::format::{self, FormatOptions, Style};
use crate::home::migrate::insert::{self, InsertError};
use crate::home::migrate::nix::{self, Attrs, Value};
pub use crate::home::migrate::{
    migrate, migrate_as, Files, MigrateError, Migration, NoFiles, Program, Release, Source, Warning,
};
use crate::syntax::text_edit::apply_edits;
use crate::syntax::TextEdit;

/// The release to write option names for, from what the project says: the
/// home-manager input locked in `lock` (a flake.lock's text), else the
/// `home.stateVersion` of `module` (a Home Manager file's text), else the
/// newest.
pub fn release_for(module: Option<&str>, lock: Option<&str>) -> Release {
    let locked = lock
        .and_then(|text| FlakeLock::parse(text).ok())
        .and_then(|lock| home_manager_ref(&lock));
    let state_version = module.and_then(|text| {
        let parse = crate::syntax::parse(text);
        let root = parse.syntax()?;
        crate::home::read(&root, false).state.state_version
    });
    Release::detect(
        locked.as_ref().map(|r| r.as_deref()),
        state_version.as_deref(),
    )
}

/// The branch the home-manager input is locked from: `Some(None)` for its
/// default branch, `None` when the flake has no such input.
fn home_manager_ref(lock: &FlakeLock) -> Option<Option<String>> {
    let inputs = lock.root_inputs()?;
    let is_home_manager = |name: &str| {
        let (_, node) = lock.root_input_node(name)?;
        let original = node.original.as_ref()?;
        let repo = original.get("repo").map(String::as_str);
        let url = original.get("url").map(String::as_str).unwrap_or("");
        (repo == Some("home-manager") || url.contains("home-manager")).then_some(node)
    };
    let node = inputs.keys().find_map(|name| is_home_manager(name))?;
    let original = node.original.as_ref()?;
    Some(original.get("ref").cloned())
}

/// Joins migrations that go to the same option (`.bashrc` and
/// `.bash_profile` are one `programs.bash`), in first-seen order. A value
/// set by two files keeps the first, with a warning.
pub fn merge(migrations: Vec<Migration>) -> Vec<Migration> {
    let mut out: Vec<Migration> = Vec::new();
    for migration in migrations {
        match out.iter_mut().find(|m| m.option == migration.option) {
            None => out.push(migration),
            Some(first) => {
                let mut options = migration.options;
                join_texts(&mut first.options, &mut options);
                let conflicts = first.options.merge(options);
                first.also.merge(migration.also);
                first.warnings.extend(migration.warnings);
                for path in conflicts {
                    first.warnings.push(Warning {
                        line: None,
                        message: format!(
                            "{} and {} both set `{path}`: kept the value from {}",
                            first.source, migration.source, first.source
                        ),
                    });
                }
                first.source = format!("{}, {}", first.source, migration.source);
            }
        }
    }
    out
}

/// Whether option `name` of a program holds raw text that Home Manager
/// writes as is (`profileExtra`, `initContent`, `extraConfig`).
fn is_raw_text(name: &str) -> bool {
    name.ends_with("Extra")
        || matches!(
            name,
            "initContent"
                | "shellInit"
                | "shellInitLast"
                | "interactiveShellInit"
                | "loginShellInit"
                | "extraConfig"
                | "stdlib"
                | "initLua"
                | "extraLuaConfig"
        )
}

/// Raw text both files set (`.profile` and `.bash_profile` are both
/// `profileExtra`) is joined, first file first, rather than one kept.
fn join_texts(first: &mut Attrs, second: &mut Attrs) {
    second.entries.retain(|entry| {
        let Value::Str(more) = &entry.value else {
            return true;
        };
        if !is_raw_text(&entry.name) {
            return true;
        }
        match first.get_mut(&entry.name) {
            Some(Value::Str(text)) => {
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push('\n');
                text.push_str(more);
                false
            }
            _ => true,
        }
    });
}

/// The migrations' bindings as text, formatted in `style` (for printing:
/// they go inside a module's set, so they are indented one level less).
pub fn to_nix(migrations: &[Migration], style: Style) -> String {
    // One tree, so that several programs read `programs = { git = ...;
    // ssh = ...; }` rather than repeating `programs.` on each block.
    let mut root = Attrs::new();
    for migration in migrations {
        let path: Vec<&str> = migration.option.iter().map(String::as_str).collect();
        root.at(&path).merge(migration.options.clone());
        root.merge(migration.also.clone());
    }
    let bindings: String = root
        .entries
        .iter()
        .map(|e| nix::binding(&[&e.name], &e.value, &e.comments, 2))
        .collect();
    let wrapped = format!("{{\n{bindings}}}\n");
    let parse = crate::syntax::parse(&wrapped);
    let formatter = format::formatter(style, &FormatOptions::default());
    let pretty = format::format_text(&wrapped, &parse, formatter.as_ref(), |at| at.to_string())
        .unwrap_or(wrapped);
    let inner = pretty
        .trim_end()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(&pretty);
    let mut out = String::new();
    for line in inner.trim_matches('\n').lines() {
        out.push_str(line.strip_prefix("  ").unwrap_or(line));
        out.push('\n');
    }
    out
}

/// A code action that replaces `home.file."X".source = ./X;` (or
/// `xdg.configFile`) with the typed options of the dotfile `./X`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotfileAction {
    pub title: String,
    /// Edits of the document, sorted.
    pub edits: Vec<TextEdit>,
    /// For the `home.dotfile_migrated` event: the program, the dotfile
    /// (absolute) and the file Home Manager now writes (below `~`).
    pub program: Program,
    pub source: PathBuf,
    pub target: String,
}

/// Reads through the editor's world (open documents, then disk): paths
/// relative to the dotfile's folder, and `~/` below `home`.
struct WorldFiles<'a> {
    world: &'a dyn World,
    dir: PathBuf,
    home: Option<&'a Path>,
}

impl Files for WorldFiles<'_> {
    fn read(&self, path: &str) -> Option<String> {
        let path = match path.strip_prefix("~/") {
            Some(rest) => self.home?.join(rest),
            None if path.starts_with('/') => PathBuf::from(path),
            None => self.dir.join(path),
        };
        Some(self.world.load(&path)?.text().to_string())
    }
}

/// The dotfile migrations offered at `range` of `doc`: one for each
/// `home.file`/`xdg.configFile` entry there whose target a converter knows
/// and whose source file can be read. `home` is the user's home folder (for
/// `~/` in dotfiles); `style` the document's formatting style.
pub fn dotfile_actions(
    doc: &Doc,
    range: TextRange,
    world: &dyn World,
    home: Option<&Path>,
    style: Style,
) -> Vec<DotfileAction> {
    let Some(root) = doc.root() else {
        return Vec::new();
    };
    if !doc
        .analysis()
        .parse
        .as_ref()
        .is_some_and(|p| p.errors().is_empty())
    {
        return Vec::new();
    }
    let entries: Vec<_> = insert::file_entries(root)
        .into_iter()
        .filter(|e| e.range.contains_range(range) || range.contains_range(e.range))
        .collect();
    if entries.is_empty() {
        return Vec::new();
    }
    let release = release_for(
        Some(doc.text()),
        nearest_lock(doc.path.as_deref(), world).as_deref(),
    );
    let mut out = Vec::new();
    for entry in entries {
        let Some(program) = Program::of_path(&entry.target) else {
            continue;
        };
        let Some(source) = super::paths::absolute(doc.path.as_deref(), &entry.source) else {
            continue;
        };
        let Some(text) = world.load(&source).map(|s| s.text().to_string()) else {
            continue;
        };
        let files = WorldFiles {
            world,
            dir: source.parent().map(Path::to_path_buf).unwrap_or_default(),
            home,
        };
        let shown = entry.source.clone();
        let Ok(migration) = migrate_as(
            program,
            Source {
                path: &shown,
                text: &text,
            },
            release,
            &files,
        ) else {
            continue;
        };
        let Ok(inserted) = insert_into(
            doc.text(),
            std::slice::from_ref(&migration),
            Some(entry.range),
            style,
        ) else {
            continue;
        };
        let mut title = format!(
            "Migrate {} into {} (Home Manager {release})",
            entry.source,
            migration.option.join(".")
        );
        if !migration.warnings.is_empty() {
            let n = migration.warnings.len();
            title.push_str(&format!(
                " ({n} warning{} in comments)",
                if n == 1 { "" } else { "s" }
            ));
        }
        out.push(DotfileAction {
            title,
            edits: inserted.edits,
            program,
            source,
            target: entry.target,
        });
    }
    out
}

/// The text of the flake.lock nearest above `path`, through `world`.
fn nearest_lock(path: Option<&Path>, world: &dyn World) -> Option<String> {
    let mut dir = path?.parent();
    for _ in 0..8 {
        let here = dir?;
        if let Some(lock) = world.load(&here.join("flake.lock")) {
            return Some(lock.text().to_string());
        }
        dir = here.parent();
    }
    None
}

/// A Home Manager file with migrations in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inserted {
    /// Edits against the original text, in order.
    pub edits: Vec<TextEdit>,
    /// The text after them.
    pub text: String,
    /// Option paths the file already set, left as they were.
    pub kept: Vec<String>,
}

/// Puts `migrations` into the Home Manager module `text` (after deleting
/// `remove`, the entry a code action replaces) and formats the new lines in
/// `style`. Nothing outside the new lines changes; the result parses.
pub fn insert_into(
    text: &str,
    migrations: &[Migration],
    remove: Option<TextRange>,
    style: Style,
) -> Result<Inserted, InsertError> {
    let parse = crate::syntax::parse(text);
    let root = parse.syntax().ok_or(InsertError::NoModuleSet)?;
    let mut edits = Vec::new();
    let mut kept = Vec::new();
    for (i, migration) in migrations.iter().enumerate() {
        let placement = insert::into_module(&root, text, migration, remove.filter(|_| i == 0))?;
        edits.extend(placement.edits);
        kept.extend(placement.kept);
    }
    edits.sort_by_key(|e| (e.range.start(), e.range.end()));
    let edits = join_insertions(edits);
    let inserted = apply_edits(text, &edits);
    let edits = formatted(text, &inserted, edits, style);
    let text = apply_edits(text, &edits);
    Ok(Inserted { edits, text, kept })
}

/// Two insertions at one place become one (two migrations into one set).
fn join_insertions(edits: Vec<TextEdit>) -> Vec<TextEdit> {
    let mut out: Vec<TextEdit> = Vec::new();
    for edit in edits {
        match out.last_mut() {
            Some(last) if last.range == edit.range && edit.range.is_empty() => {
                last.insert.push_str(&edit.insert)
            }
            _ => out.push(edit),
        }
    }
    out
}

/// `edits` with their new text formatted in `style`: the whole result is
/// formatted and only the changes inside inserted text are kept. When the
/// style cannot format (nixfmt missing) or the result would not parse, the
/// edits stay as written (already in nixpkgs-fmt's shape).
fn formatted(original: &str, inserted: &str, edits: Vec<TextEdit>, style: Style) -> Vec<TextEdit> {
    let parse = crate::syntax::parse(inserted);
    let formatter = format::formatter(style, &FormatOptions::default());
    let Ok(pretty) = format::format_text(inserted, &parse, formatter.as_ref(), |at| at.to_string())
    else {
        return edits;
    };
    let changes = format::edits::minimal_edits(inserted, &pretty);
    let mut shift: i64 = 0;
    let mut out = Vec::new();
    for edit in &edits {
        // Where this edit's new text lies in `inserted`.
        let start = (i64::from(u32::from(edit.range.start())) + shift) as u32;
        let new_range = TextRange::at(start.into(), (edit.insert.len() as u32).into());
        shift += edit.insert.len() as i64 - i64::from(u32::from(edit.range.len()));
        let local: Vec<TextEdit> = changes
            .iter()
            .filter(|c| new_range.contains_range(c.range))
            .filter_map(|c| {
                Some(TextEdit::replace(
                    c.range.checked_sub(new_range.start())?,
                    c.insert.clone(),
                ))
            })
            .collect();
        out.push(TextEdit::replace(
            edit.range,
            apply_edits(&edit.insert, &local),
        ));
    }
    if crate::syntax::parse(&apply_edits(original, &out))
        .errors()
        .is_empty()
    {
        out
    } else {
        edits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    const GITCONFIG: &str = "[user]\n  name = Ada\n[alias]\n  co = checkout\n";

    fn git(release: Release) -> Migration {
        migrate(
            Source {
                path: "~/.gitconfig",
                text: GITCONFIG,
            },
            release,
            &NoFiles,
        )
        .unwrap()
    }

    #[test]
    fn raw_text_of_two_files_is_joined_in_order() {
        let profile = |path: &str, text: &str| {
            migrate(Source { path, text }, Release::NEWEST, &NoFiles).unwrap()
        };
        let merged = merge(vec![
            profile("~/.profile", "umask 022\n"),
            profile("~/.bash_profile", "ulimit -n 4096\n"),
        ]);
        assert_eq!(merged.len(), 1);
        assert_eq!(
            merged[0].options.get("profileExtra"),
            Some(&Value::str("umask 022\n\nulimit -n 4096\n")),
            "{:?}",
            merged[0].options
        );
        assert!(
            merged[0]
                .warnings
                .iter()
                .all(|w| !w.message.contains("both set")),
            "{:?}",
            merged[0].warnings
        );
    }

    #[test]
    fn the_release_comes_from_the_lock_then_the_state_version() {
        let lock = r#"{"version": 7, "root": "root", "nodes": {
            "root": {"inputs": {"hm": "home-manager_2"}},
            "home-manager_2": {"locked": {"type": "github", "owner": "nix-community", "repo": "home-manager", "rev": "abc"},
                               "original": {"type": "github", "owner": "nix-community", "repo": "home-manager", "ref": "release-25.05"}}}}"#;
        let module = "{ home.stateVersion = \"24.11\"; }";
        assert_eq!(release_for(Some(module), Some(lock)), Release::new(25, 5));
        assert_eq!(release_for(Some(module), None), Release::new(24, 11));
        assert_eq!(release_for(None, None), Release::NEWEST);
        let master = lock.replace(r#", "ref": "release-25.05""#, "");
        assert_eq!(release_for(Some(module), Some(&master)), Release::NEWEST);
    }

    #[test]
    fn two_files_of_one_program_become_one_block() {
        let a = git(Release::NEWEST);
        let mut b = git(Release::NEWEST);
        b.source = "dotfiles/gitconfig".into();
        b.options
            .set(&["settings", "user", "name"], Value::str("Bob"));
        let merged = merge(vec![a, b]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].source, "~/.gitconfig, dotfiles/gitconfig");
        assert!(merged[0].warnings[0]
            .message
            .contains("both set `settings.user.name`"));
    }

    #[test]
    fn inserted_lines_take_the_projects_style_and_nothing_else_moves() {
        let text = "{ pkgs, ... }:\n{\n  home.packages = [ pkgs.hello ];\n  xs = [1 2];\n}\n";
        let out = insert_into(text, &[git(Release::NEWEST)], None, Style::Alejandra).unwrap();
        expect![[r#"
            { pkgs, ... }:
            {
              home.packages = [ pkgs.hello ];
              xs = [1 2];
              programs.git = {
                enable = true;
                settings = {
                  user.name = "Ada";
                  alias.co = "checkout";
                };
              };
            }
        "#]]
        .assert_eq(&out.text);
        assert_eq!(out.edits.len(), 1);
    }
}
