//! Puts a migration into a Home Manager module as text edits, leaving the
//! rest of the file byte for byte: into the set that already holds
//! `programs.<name>` when there is one, else at the end of the module's
//! set. Options the file already sets are kept as the user wrote them (and
//! reported); new ones are written where Nix accepts them: Nix refuses
//! `a = { ... };` after `a.b = ...;`, so a name the file already defines is
//! extended with dotted bindings, never redefined.

use std::collections::HashMap;

use rnix::ast::{self, Expr, HasEntry};
use rnix::{SyntaxKind, SyntaxNode, TextRange, TextSize};
use rowan::ast::AstNode;

use super::nix::{self, Attrs, Value};
use super::Migration;
use crate::syntax::read::{self, MAX_READ_DEPTH};
use crate::syntax::TextEdit;

/// The edits, and the option paths left as the file had them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub edits: Vec<TextEdit>,
    /// Dotted option paths the file already set (kept as written).
    pub kept: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsertError {
    #[error("the file does not return an attribute set (a module such as `{{ pkgs, ... }}: {{ ... }}`), so there is nowhere to add options")]
    NoModuleSet,
}

/// What the file defines at a path.
#[derive(Debug, Clone)]
enum Def {
    /// A value that is not a literal set (`import ./x.nix`, `mkIf ...`).
    Leaf,
    /// A literal set, which bindings can be added to.
    Set(ast::AttrSet),
    /// The inner name of a dotted binding (`a` of `a.b = 1;`): the set the
    /// binding is in, how many names of the path that set stands for, and
    /// where the first such binding starts.
    Prefix {
        container: ast::AttrSet,
        depth: usize,
        at: TextSize,
    },
}

/// Edits that add `migration` to the module in `root` (the tree of `text`),
/// after deleting `remove` (the `home.file` entry a code action replaces).
pub fn into_module(
    root: &SyntaxNode,
    text: &str,
    migration: &Migration,
    remove: Option<TextRange>,
) -> Result<Placement, InsertError> {
    let module = module_set(root).ok_or(InsertError::NoModuleSet)?;
    let mut defs = HashMap::new();
    walk(&module, &mut Vec::new(), &mut defs, remove, 0);
    let mut plan = Plan {
        defs: &defs,
        module: &module,
        by_container: Vec::new(),
        before: Vec::new(),
        kept: Vec::new(),
    };
    let option: Vec<String> = migration.option.clone();
    // What the user must know stays beside the options, in the file.
    let notes: Vec<String> = migration
        .warnings
        .iter()
        .map(|w| match w.line {
            Some(line) => format!("cim-nix: {}:{line}: {}", migration.source, w.message),
            None => format!("cim-nix: {}: {}", migration.source, w.message),
        })
        .collect();
    plan.place(&option, &Value::Attrs(migration.options.clone()), &notes);
    for entry in &migration.also.entries {
        plan.place(
            std::slice::from_ref(&entry.name),
            &entry.value,
            &entry.comments,
        );
    }
    let mut edits = Vec::new();
    if let Some(range) = remove {
        edits.push(TextEdit::delete(whole_lines(text, range)));
    }
    let Plan {
        by_container,
        before,
        kept,
        ..
    } = plan;
    for (container, bindings) in by_container {
        edits.push(insertion(text, &container, &bindings));
    }
    for (at, path, value, comments) in before {
        let line = line_start(text, at);
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        let block = nix::binding(&path, &value, &comments, column(text, at));
        // At the start of the binding's line when it starts the line, so
        // the block gets a line of its own.
        let (range, insert) = if starts_line(text, at) {
            (TextRange::empty(line), block)
        } else {
            (
                TextRange::empty(at),
                block.trim_start().to_string() + &" ".repeat(column(text, at)),
            )
        };
        edits.push(TextEdit::replace(range, insert));
    }
    edits.sort_by_key(|e| (e.range.start(), e.range.end()));
    Ok(Placement { edits, kept })
}

/// A binding to add: its path relative to its set, value and comments.
type Addition = (Vec<String>, Value, Vec<String>);

struct Plan<'a> {
    defs: &'a HashMap<Vec<String>, Def>,
    module: &'a ast::AttrSet,
    /// Per container set (in first-use order): the bindings to add, each
    /// as (path relative to the container, value, comments).
    by_container: Vec<(ast::AttrSet, Vec<Addition>)>,
    /// Blocks to put before a binding (at its start), with their paths
    /// relative to the set that binding is in.
    before: Vec<(TextSize, Vec<String>, Value, Vec<String>)>,
    kept: Vec<String>,
}

impl Plan<'_> {
    /// Adds `value` at `path` (from the module's top).
    fn place(&mut self, path: &[String], value: &Value, comments: &[String]) {
        match self.defs.get(path) {
            None => {
                let (container, depth) = self.container_of(path);
                let relative = path[depth..].to_vec();
                match self
                    .by_container
                    .iter_mut()
                    .find(|(c, _)| c.syntax() == container.syntax())
                {
                    Some((_, bindings)) => {
                        bindings.push((relative, value.clone(), comments.to_vec()))
                    }
                    None => self.by_container.push((
                        container,
                        vec![(relative, value.clone(), comments.to_vec())],
                    )),
                }
            }
            // Only dotted bindings define this name, and several options
            // are new: one block for them, before the first dotted binding
            // (Nix takes `a = { ... }; a.b = 1;`, not the reverse).
            Some(Def::Prefix {
                container,
                depth,
                at,
            }) if matches!(value, Value::Attrs(set) if set.entries.len() > 1) => {
                let Value::Attrs(set) = value else {
                    return;
                };
                let remaining = self.without_existing(path, set);
                match remaining.entries.len() {
                    0 => {}
                    1 => self.place_new_in(&remaining, path, container.clone(), *depth),
                    _ => self.before.push((
                        *at,
                        path[*depth..].to_vec(),
                        Value::Attrs(remaining),
                        comments.to_vec(),
                    )),
                }
            }
            // The file defines this name as a set (or dotted prefix): add
            // inside it, name by name.
            Some(Def::Set(_) | Def::Prefix { .. }) => match value {
                Value::Attrs(set) => {
                    for entry in &set.entries {
                        let mut inner = path.to_vec();
                        inner.push(entry.name.clone());
                        self.place(&inner, &entry.value, &entry.comments);
                    }
                }
                _ => self.kept.push(path.join(".")),
            },
            Some(Def::Leaf) => self.kept.push(path.join(".")),
        }
    }

    /// `set` (at `path`) without what the file already sets, which is kept.
    fn without_existing(&mut self, path: &[String], set: &Attrs) -> Attrs {
        let mut out = Attrs::new();
        for entry in &set.entries {
            let mut inner = path.to_vec();
            inner.push(entry.name.clone());
            match (self.defs.get(&inner), &entry.value) {
                (None, _) => out.entries.push(entry.clone()),
                (Some(Def::Set(_) | Def::Prefix { .. }), Value::Attrs(sub)) => {
                    let sub = self.without_existing(&inner, sub);
                    if !sub.is_empty() {
                        out.set_with_comments(
                            &[&entry.name],
                            Value::Attrs(sub),
                            entry.comments.clone(),
                        );
                    }
                }
                _ => self.kept.push(inner.join(".")),
            }
        }
        out
    }

    /// The one binding of `set` added at the end of `container`.
    fn place_new_in(
        &mut self,
        set: &Attrs,
        path: &[String],
        container: ast::AttrSet,
        depth: usize,
    ) {
        for entry in &set.entries {
            let mut relative = path[depth..].to_vec();
            relative.push(entry.name.clone());
            let binding = (relative, entry.value.clone(), entry.comments.clone());
            match self
                .by_container
                .iter_mut()
                .find(|(c, _)| c.syntax() == container.syntax())
            {
                Some((_, bindings)) => bindings.push(binding),
                None => self.by_container.push((container.clone(), vec![binding])),
            }
        }
    }

    /// The deepest literal set the file has on the way to `path`, and how
    /// many names of `path` it stands for.
    fn container_of(&self, path: &[String]) -> (ast::AttrSet, usize) {
        for depth in (1..path.len()).rev() {
            if let Some(Def::Set(set)) = self.defs.get(&path[..depth]) {
                return (set.clone(), depth);
            }
        }
        (self.module.clone(), 0)
    }
}

/// The set a module evaluates to: through `{ ... }:`, `let`, `with`.
fn module_set(root: &SyntaxNode) -> Option<ast::AttrSet> {
    let mut expr = ast::Root::cast(root.clone())?.expr()?;
    for _ in 0..MAX_READ_DEPTH {
        expr = read::body_value(&expr);
        match expr {
            Expr::Lambda(lambda) => expr = lambda.body()?,
            Expr::AttrSet(set) => return Some(set),
            _ => return None,
        }
    }
    None
}

/// Records what `set` defines, below `prefix`. The binding being removed
/// does not count.
fn walk(
    set: &ast::AttrSet,
    prefix: &mut Vec<String>,
    defs: &mut HashMap<Vec<String>, Def>,
    remove: Option<TextRange>,
    depth: usize,
) {
    if depth > MAX_READ_DEPTH {
        return;
    }
    for entry in set.attrpath_values() {
        if remove.is_some_and(|r| r.contains_range(entry.syntax().text_range())) {
            continue;
        }
        let (Some(path), Some(value)) = (entry.attrpath(), entry.value()) else {
            continue;
        };
        let Some(names) = read::attrpath_names(&path) else {
            continue;
        };
        let len = prefix.len();
        for (i, name) in names.iter().enumerate() {
            prefix.push(name.text.clone());
            if i + 1 < names.len() {
                defs.entry(prefix.clone()).or_insert_with(|| Def::Prefix {
                    container: set.clone(),
                    depth: len,
                    at: entry.syntax().text_range().start(),
                });
            }
        }
        match read::strip_parens(&value) {
            Expr::AttrSet(inner) => {
                defs.insert(prefix.clone(), Def::Set(inner.clone()));
                walk(&inner, prefix, defs, remove, depth + 1);
            }
            _ => {
                defs.insert(prefix.clone(), Def::Leaf);
            }
        }
        prefix.truncate(len);
    }
    for name in read::inherited_names(set) {
        let mut path = prefix.clone();
        path.push(name.text);
        defs.insert(path, Def::Leaf);
    }
}

/// The edit that adds `bindings` before the closing brace of `set`.
fn insertion(
    text: &str,
    set: &ast::AttrSet,
    bindings: &[(Vec<String>, Value, Vec<String>)],
) -> TextEdit {
    let node = set.syntax();
    let close = node
        .last_token()
        .filter(|t| t.kind() == SyntaxKind::TOKEN_R_BRACE)
        .map_or(node.text_range().end(), |t| t.text_range().start());
    let open_line = line_start(text, node.text_range().start());
    let outer = indentation(text, open_line);
    // The entries' own indentation when there are some, else one level in.
    let indent = set
        .attrpath_values()
        .next()
        .map(|e| column(text, e.syntax().text_range().start()))
        .filter(|&c| c > outer && starts_line(text, set_entry_start(set)))
        .unwrap_or(outer + 2);
    let mut block = String::new();
    for (path, value, comments) in bindings {
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        block.push_str(&nix::binding(&path, value, comments, indent));
    }
    let close_line = line_start(text, close);
    if text[usize::from(close_line)..usize::from(close)]
        .trim()
        .is_empty()
    {
        // `}` on a line of its own: the bindings go on the lines before it.
        TextEdit::replace(TextRange::empty(close_line), block)
    } else {
        // `{ a = 1; }` on one line: break it open.
        let before = text[..usize::from(close)].trim_end_matches([' ', '\t']);
        let from = TextSize::from(before.len() as u32);
        TextEdit::replace(
            TextRange::new(from, close),
            format!("\n{block}{}", " ".repeat(outer)),
        )
    }
}

fn set_entry_start(set: &ast::AttrSet) -> TextSize {
    set.attrpath_values()
        .next()
        .map_or(set.syntax().text_range().start(), |e| {
            e.syntax().text_range().start()
        })
}

fn line_start(text: &str, at: TextSize) -> TextSize {
    let at = usize::from(at);
    TextSize::from(text[..at].rfind('\n').map_or(0, |i| i + 1) as u32)
}

fn column(text: &str, at: TextSize) -> usize {
    usize::from(at) - usize::from(line_start(text, at))
}

fn starts_line(text: &str, at: TextSize) -> bool {
    text[usize::from(line_start(text, at))..usize::from(at)]
        .trim()
        .is_empty()
}

/// Spaces at the start of the line starting at `line`.
fn indentation(text: &str, line: TextSize) -> usize {
    text[usize::from(line)..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .count()
}

/// `range` grown to whole lines when nothing else shares them.
fn whole_lines(text: &str, range: TextRange) -> TextRange {
    let start = line_start(text, range.start());
    let end = usize::from(range.end());
    let rest = &text[end..];
    let line_end = rest.find('\n').map_or(text.len(), |i| end + i + 1);
    let alone = text[usize::from(start)..usize::from(range.start())]
        .trim()
        .is_empty()
        && text[end..line_end].trim().is_empty();
    if alone {
        TextRange::new(start, TextSize::from(line_end as u32))
    } else {
        range
    }
}

/// The binding of `home.file."<name>"` or `xdg.configFile."<name>"` (or its
/// `.source`) whose value is a path, in the module: (target path below
/// `~`, the source path as written, the binding's range).
pub fn file_entries(root: &SyntaxNode) -> Vec<FileEntry> {
    let Some(module) = module_set(root) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    collect_files(&module, &mut Vec::new(), &mut out, 0);
    out
}

/// A `home.file` or `xdg.configFile` entry whose source is a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Where Home Manager puts the file, below `~` (`.config/git/config`).
    pub target: String,
    /// The source path as written (`./gitconfig`).
    pub source: String,
    /// The whole binding to replace: `".gitconfig".source = ./gitconfig;`
    /// or `".gitconfig" = { source = ./gitconfig; };`.
    pub range: TextRange,
}

fn collect_files(
    set: &ast::AttrSet,
    prefix: &mut Vec<String>,
    out: &mut Vec<FileEntry>,
    depth: usize,
) {
    if depth > MAX_READ_DEPTH {
        return;
    }
    for entry in set.attrpath_values() {
        let (Some(path), Some(value)) = (entry.attrpath(), entry.value()) else {
            continue;
        };
        let Some(names) = read::attrpath_names(&path) else {
            continue;
        };
        let len = prefix.len();
        prefix.extend(names.into_iter().map(|n| n.text));
        let value = read::strip_parens(&value);
        let full: Vec<&str> = prefix.iter().map(String::as_str).collect();
        let target = match full.as_slice() {
            ["home", "file", name, ..] => Some(name.trim_start_matches("~/").to_string()),
            ["xdg", "configFile", name, ..] => Some(format!(".config/{name}")),
            _ => None,
        };
        let source = match (full.len(), &value) {
            (4, _) if full[3] == "source" => path_literal(&value),
            (3, Expr::AttrSet(inner)) => only_source(inner),
            _ => None,
        };
        match (target, source) {
            (Some(target), Some(source)) => out.push(FileEntry {
                target,
                source,
                range: entry.syntax().text_range(),
            }),
            _ => {
                if let Expr::AttrSet(inner) = &value {
                    collect_files(inner, prefix, out, depth + 1);
                }
            }
        }
        prefix.truncate(len);
    }
}

/// `{ source = ./x; }`: the path, when `source` is all the set says.
fn only_source(set: &ast::AttrSet) -> Option<String> {
    let bindings: Vec<_> = read::bindings(set).collect();
    match bindings.as_slice() {
        [(names, value)] if names.len() == 1 && names[0].text == "source" => path_literal(value),
        _ => None,
    }
}

fn path_literal(expr: &Expr) -> Option<String> {
    let text = match read::strip_parens(expr) {
        Expr::PathRel(path) => path.syntax().text().to_string(),
        Expr::PathAbs(path) => path.syntax().text().to_string(),
        Expr::PathHome(path) => path.syntax().text().to_string(),
        _ => return None,
    };
    (!text.contains("${")).then_some(text)
}

/// For tests and callers that build a migration's block by hand.
pub fn block(option: &[&str], options: &Attrs) -> String {
    nix::binding(option, &Value::Attrs(options.clone()), &[], 0)
}

#[cfg(test)]
mod tests {
    use super::super::{Migration, Program, Release};
    use super::*;
    use crate::syntax::text_edit::apply_edits;
    use expect_test::expect;

    fn git_migration() -> Migration {
        let mut options = Attrs::new();
        options.set(&["enable"], Value::Bool(true));
        options.set(&["settings", "user", "name"], Value::str("Ada"));
        options.set(&["settings", "alias", "co"], Value::str("checkout"));
        let mut also = Attrs::new();
        also.set(
            &["home", "sessionPath"],
            Value::List(vec![Value::str("$HOME/bin")]),
        );
        Migration {
            program: Program::Git,
            source: "~/.gitconfig".into(),
            release: Release::NEWEST,
            option: vec!["programs".into(), "git".into()],
            options,
            also,
            warnings: Vec::new(),
        }
    }

    fn insert(text: &str) -> (String, Vec<String>) {
        let parse = crate::syntax::parse(text);
        let placement =
            into_module(&parse.syntax().unwrap(), text, &git_migration(), None).unwrap();
        let out = apply_edits(text, &placement.edits);
        assert!(crate::syntax::parse(&out).errors().is_empty(), "{out}");
        (out, placement.kept)
    }

    #[test]
    fn a_new_block_goes_at_the_end_of_the_module() {
        let (out, kept) =
            insert("{ pkgs, ... }:\n\n{\n  home.stateVersion = \"25.11\"; # keep\n}\n");
        expect![[r#"
            { pkgs, ... }:

            {
              home.stateVersion = "25.11"; # keep
              programs.git = {
                enable = true;
                settings = {
                  user.name = "Ada";
                  alias.co = "checkout";
                };
              };
              home.sessionPath = [ "$HOME/bin" ];
            }
        "#]]
        .assert_eq(&out);
        assert!(kept.is_empty());
    }

    #[test]
    fn an_existing_block_is_extended_and_its_values_kept() {
        let (out, kept) = insert(
            "{ ... }:\n{\n  home.sessionPath = [ ];\n  programs = {\n    git = {\n      enable = true;\n      settings.user.name = \"Me\";\n    };\n  };\n}\n",
        );
        expect![[r#"
            { ... }:
            {
              home.sessionPath = [ ];
              programs = {
                git = {
                  enable = true;
                  settings.user.name = "Me";
                  settings.alias.co = "checkout";
                };
              };
            }
        "#]]
        .assert_eq(&out);
        assert_eq!(
            kept,
            [
                "programs.git.enable",
                "programs.git.settings.user.name",
                "home.sessionPath"
            ]
        );
    }

    #[test]
    fn one_line_sets_break_open() {
        let (out, _) = insert("{ config, ... }: { programs.git.enable = true; }");
        expect![[r#"
            { config, ... }: { programs.git.enable = true;
              programs.git.settings = {
                user.name = "Ada";
                alias.co = "checkout";
              };
              home.sessionPath = [ "$HOME/bin" ];
            }"#]]
        .assert_eq(&out);
    }

    #[test]
    fn a_file_entry_is_replaced_by_the_block() {
        let text = "{ ... }:\n{\n  home.file.\".gitconfig\".source = ./gitconfig;\n  home.file.\".vimrc\" = { source = ./vimrc; };\n}\n";
        let parse = crate::syntax::parse(text);
        let entries = file_entries(&parse.syntax().unwrap());
        let targets: Vec<(&str, &str)> = entries
            .iter()
            .map(|e| (e.target.as_str(), e.source.as_str()))
            .collect();
        assert_eq!(
            targets,
            [(".gitconfig", "./gitconfig"), (".vimrc", "./vimrc")]
        );
        let placement = into_module(
            &parse.syntax().unwrap(),
            text,
            &git_migration(),
            Some(entries[0].range),
        )
        .unwrap();
        expect![[r#"
            { ... }:
            {
              home.file.".vimrc" = { source = ./vimrc; };
              programs.git = {
                enable = true;
                settings = {
                  user.name = "Ada";
                  alias.co = "checkout";
                };
              };
              home.sessionPath = [ "$HOME/bin" ];
            }
        "#]]
        .assert_eq(&apply_edits(text, &placement.edits));
    }

    #[test]
    fn xdg_config_files_are_found_by_their_home_path() {
        let text =
            "{ xdg.configFile = { \"git/config\".source = ./git/config; \"foo\".text = \"x\"; }; }";
        let parse = crate::syntax::parse(text);
        let entries = file_entries(&parse.syntax().unwrap());
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].target, ".config/git/config");
    }

    #[test]
    fn a_module_without_a_set_is_refused() {
        let text = "{ pkgs }: import ./home.nix { inherit pkgs; }";
        let parse = crate::syntax::parse(text);
        assert_eq!(
            into_module(&parse.syntax().unwrap(), text, &git_migration(), None),
            Err(InsertError::NoModuleSet)
        );
    }
}
