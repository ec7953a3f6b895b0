//! Option names in Home Manager configurations, checked against Home
//! Manager's option index: unknown options (with the closest names),
//! renamed options (with a fix that rewrites the path and keeps the value),
//! removed, changed and deprecated ones. Options are read however they are
//! written: nested sets, dotted paths, through `mkIf`/`mkMerge`, and inside
//! `home-manager.users.<name>` of a NixOS or nix-darwin file.

use rnix::ast::{self, Expr, HasEntry};
use rnix::{SyntaxKind, SyntaxNode, TextRange};
use rowan::ast::AstNode;

use super::options::{index, DeprecationKind, Lookup};
use crate::analysis::modules::{Context, Modules};
use crate::analysis::names::Names;
use crate::analysis::semantic::SemanticModel;
use crate::diagnostic::registry::{
    HM_CHANGED_OPTION, HM_DEPRECATED_OPTION, HM_REMOVED_OPTION, HM_RENAMED_OPTION,
    HM_UNKNOWN_OPTION,
};
use crate::diagnostic::{Diagnostic, Fix};
use crate::syntax::read::{self, MAX_READ_DEPTH};
use crate::syntax::TextEdit;

/// Checks the options the file defines as Home Manager options: all of
/// them when it is a Home Manager module (`whole`), else those in
/// `home-manager.users.<name>` and `sharedModules` of a NixOS or
/// nix-darwin module. The definitions come from the module model
/// ([`Modules`]), which reads nested and dotted paths, `mkIf`, `mkMerge`
/// and the other wrappers by what they denote (`with lib;`, `inherit
/// (lib) mkIf;`), `config = { ... }` of a module with `options`, and
/// inline modules of `imports`.
pub fn check(root: &SyntaxNode, text: &str, model: &SemanticModel, whole: bool) -> Vec<Diagnostic> {
    let names = Names::new(root, model);
    let context = if whole {
        Context::Home
    } else {
        Context::System
    };
    let modules = Modules::of_file(root, text, &names, context);
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for definition in &modules.definitions {
        // Paths of NixOS renames are rewritten by the model: not Home
        // Manager's.
        if definition.context != Context::Home || definition.renamed_from.is_some() {
            continue;
        }
        // `mkMerge [ a b ]` defines one key several times.
        if !seen.insert((definition.key, definition.path.len())) {
            continue;
        }
        let Some(attrpath) = attrpath_at(root, definition.key) else {
            continue;
        };
        let Some(written) = read::attrpath_names(&attrpath) else {
            continue;
        };
        let full: Vec<&str> = definition.path.iter().map(|p| p.as_str()).collect();
        // The binding's own names are the path's last ones; a `config.`
        // before them (a module with `options`) is not part of the path,
        // and the rename fix, which rewrites the whole key, is left out.
        let own = written.len().min(full.len());
        let names = &written[written.len() - own..];
        let len = full.len() - own;
        let fixable = own == written.len();
        let lookup = judge(&full, len, names, &attrpath, fixable, &mut out);
        if opens(&lookup) {
            walk_list(&definition.value, &full, &mut out);
        }
    }
    out.sort_by_key(|d| (d.range.start(), d.range.end()));
    out
}

/// The attribute path whose last name is at `key`.
fn attrpath_at(root: &SyntaxNode, key: TextRange) -> Option<ast::Attrpath> {
    let element = root.covering_element(key);
    let mut node = match element {
        rowan::NodeOrToken::Node(n) => n,
        rowan::NodeOrToken::Token(t) => t.parent()?,
    };
    for _ in 0..4 {
        if node.kind() == SyntaxKind::NODE_ATTRPATH {
            return ast::Attrpath::cast(node);
        }
        node = node.parent()?;
    }
    None
}

/// Whether names may follow what `lookup` found (and are checked there).
fn opens(lookup: &Lookup) -> bool {
    match lookup {
        Lookup::Namespace(_) | Lookup::Open => true,
        Lookup::Option(_, info) => info.is_open(),
        Lookup::Unknown { .. } | Lookup::Deprecated { .. } => false,
    }
}

/// The elements of a list of submodules (`includes = [ { ... } ]`), which
/// the module model does not go into: each as `<path>.*`.
fn walk_list(value: &SyntaxNode, path: &[&str], out: &mut Vec<Diagnostic>) {
    let Some(Expr::List(list)) = Expr::cast(value.clone()).map(|e| read::strip_parens(&e)) else {
        return;
    };
    let mut prefix: Vec<String> = path.iter().map(|p| p.to_string()).collect();
    prefix.push("*".into());
    for item in list.items() {
        if let Some(set) = attr_set(&item) {
            walk(&set, &mut prefix, out, 0);
        }
    }
}

/// `expr` as a set, through parentheses and `mkIf c`, `mkForce`, ...
fn attr_set(expr: &Expr) -> Option<ast::AttrSet> {
    let mut expr = read::strip_parens(expr);
    for _ in 0..MAX_READ_DEPTH {
        match expr {
            Expr::AttrSet(set) => return Some(set),
            _ => {
                let (function, mut args) = read::application(&expr)?;
                let name = read::function_name(&function)?;
                let inner = match (name.as_str(), args.len()) {
                    ("mkForce" | "mkDefault" | "mkBefore" | "mkAfter", 1) => args.pop()?,
                    ("mkIf" | "mkOverride" | "mkOrder", 2) => args.pop()?,
                    _ => return None,
                };
                expr = read::strip_parens(&inner);
            }
        }
    }
    None
}

/// The sets of `mkMerge [ a b ]`.
fn merged(expr: &Expr) -> Vec<ast::AttrSet> {
    let Some((function, args)) = read::application(&read::strip_parens(expr)) else {
        return Vec::new();
    };
    if read::function_name(&function).as_deref() != Some("mkMerge") || args.len() != 1 {
        return Vec::new();
    }
    match read::strip_parens(&args[0]) {
        Expr::List(list) => list.items().filter_map(|i| attr_set(&i)).collect(),
        _ => Vec::new(),
    }
}

/// Checks every binding of `set` (an element of a list of submodules),
/// whose options start at `prefix`.
fn walk(set: &ast::AttrSet, prefix: &mut Vec<String>, out: &mut Vec<Diagnostic>, depth: usize) {
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
        prefix.extend(names.iter().map(|n| n.text.clone()));
        let full: Vec<&str> = prefix.iter().map(String::as_str).collect();
        let lookup = judge(&full, len, &names, &path, true, out);
        if opens(&lookup) {
            let owned: Vec<String> = prefix.clone();
            let full: Vec<&str> = owned.iter().map(String::as_str).collect();
            walk_list(value.syntax(), &full, out);
            for inner in attr_set(&value).into_iter().chain(merged(&value)) {
                walk(&inner, prefix, out, depth + 1);
            }
        }
        prefix.truncate(len);
    }
}

/// Judges the option path `full` of one binding, whose own names
/// (`names`, in `path`) start at `len`: an unknown or deprecated name
/// written in this binding is reported. Returns what the index found.
fn judge(
    full: &[&str],
    len: usize,
    names: &[read::Name],
    path: &ast::Attrpath,
    fixable: bool,
    out: &mut Vec<Diagnostic>,
) -> Lookup {
    let lookup = index().lookup(full);
    match &lookup {
        Lookup::Unknown { at, parent } if *at >= len => {
            let (at, parent) = (*at, *parent);
            // Collections that other modules add to (`programs.foo` from
            // an imported module) and the top level are not judged: the
            // index knows Home Manager's own options only.
            let judged = !parent.is_empty() && parent != "programs" && parent != "services";
            // A freeform submodule takes any key (each host of
            // `programs.ssh.settings` any ssh_config directive). The index
            // says which module files declare one, not which of their
            // submodules it is: under those files' options nothing is
            // judged. In the element of any other `attrsOf (submodule
            // ...)` or list of submodules, only a near miss of a declared
            // name is.
            let element = parent.split('.').any(|p| p == "<name>" || p == "*");
            let near_miss = || !index().suggestions(parent, full[at]).is_empty();
            if judged && !index().may_be_freeform(parent) && (!element || near_miss()) {
                out.push(unknown(full, at, parent, names[at - len].range));
            }
        }
        Lookup::Deprecated { at, deprecation } if *at >= len => {
            let name_range = names[*at - len].range;
            let mut found = deprecated(&full[..=*at], deprecation, names, len, path, name_range);
            if !fixable {
                found.fix = None;
            }
            out.push(found);
        }
        _ => {}
    }
    lookup
}

fn unknown(full: &[&str], at: usize, parent: &str, range: TextRange) -> Diagnostic {
    let written = full[..=at].join(".");
    let suggestions = index().suggestions(parent, full[at]);
    // A renamed option is suggested with its new name.
    let shown: Vec<String> = suggestions
        .iter()
        .map(|s| {
            match index()
                .deprecation(&format!("{parent}.{s}"))
                .map(|d| d.new.as_str())
            {
                Some(new) if !new.is_empty() => format!("`{s}` (now `{new}`)"),
                _ => format!("`{s}`"),
            }
        })
        .collect();
    let hint = match shown.as_slice() {
        [] => String::new(),
        [one] => format!("; did you mean {one}?"),
        many => format!("; did you mean one of {}?", many.join(", ")),
    };
    let current = |s: &str| index().deprecation(&format!("{parent}.{s}")).is_none();
    let diagnostic = Diagnostic::new(
        HM_UNKNOWN_OPTION,
        range,
        format!("Home Manager has no option `{written}` (evaluation fails with \"The option does not exist\"){hint}"),
    );
    match suggestions.as_slice() {
        [one] if current(one) => diagnostic.with_fix(Fix {
            title: format!("Change to `{one}`"),
            edits: vec![TextEdit::replace(
                range,
                crate::syntax::literal::attr_name(one),
            )],
            preferred: false,
        }),
        _ => diagnostic,
    }
}

/// A deprecated option: `names` are the binding's names (from index
/// `len` of the full path), `path` its attribute path.
fn deprecated(
    written: &[&str],
    deprecation: &super::options::Deprecation,
    names: &[read::Name],
    len: usize,
    path: &ast::Attrpath,
    range: TextRange,
) -> Diagnostic {
    let old = written.join(".");
    match deprecation.kind {
        DeprecationKind::Removed => Diagnostic::new(
            HM_REMOVED_OPTION,
            range,
            format!(
                "Home Manager removed `{old}`{}",
                if deprecation.note.is_empty() {
                    String::new()
                } else {
                    format!(": {}", deprecation.note)
                }
            ),
        ),
        DeprecationKind::Changed => Diagnostic::new(
            HM_CHANGED_OPTION,
            range,
            format!(
                "Home Manager changed `{old}`: its value is now turned into other options, with a warning at every switch; see the option's documentation"
            ),
        ),
        DeprecationKind::Renamed | DeprecationKind::Deprecated => {
            let rule = if deprecation.kind == DeprecationKind::Renamed {
                HM_RENAMED_OPTION
            } else {
                HM_DEPRECATED_OPTION
            };
            let new = deprecation.new.as_str();
            let diagnostic = Diagnostic::new(
                rule,
                range,
                if new.is_empty() {
                    format!("`{old}` is deprecated in Home Manager and warns at every switch")
                } else {
                    format!("`{old}` is now `{new}` in Home Manager (the old name warns at every switch)")
                },
            );
            match rename_fix(written, deprecation.new_path(), names, len, path) {
                Some(fix) => diagnostic.with_fix(fix),
                None => diagnostic,
            }
        }
    }
}

/// Rewrites the binding's attribute path from the old option to the new
/// one, when the two share the part of the path written outside it.
fn rename_fix(
    written: &[&str],
    new: Option<&str>,
    names: &[read::Name],
    len: usize,
    path: &ast::Attrpath,
) -> Option<Fix> {
    let new: Vec<&str> = new?.split('.').collect();
    if new.contains(&"*")
        || new.contains(&"<name>")
        || new.len() < len
        || new[..len] != written[..len]
    {
        return None;
    }
    // The names of this binding after the deprecated one stay as written.
    let at = written.len() - 1;
    let rest: Vec<String> = names[at - len + 1..]
        .iter()
        .map(|n| n.text.clone())
        .collect();
    let mut replacement: Vec<String> = new[len..]
        .iter()
        .map(|n| crate::syntax::literal::attr_name(n))
        .collect();
    replacement.extend(rest.iter().map(|n| crate::syntax::literal::attr_name(n)));
    Some(Fix {
        title: format!("Rename to `{}`", new.join(".")),
        edits: vec![TextEdit::replace(
            path.syntax().text_range(),
            replacement.join("."),
        )],
        preferred: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::text_edit::apply_edits;

    fn findings(text: &str, whole: bool) -> Vec<(String, String, String)> {
        let parse = rnix::Root::parse(text);
        assert!(parse.errors().is_empty(), "{:?}", parse.errors());
        let root = parse.syntax();
        let model = SemanticModel::build(&root);
        check(&root, text, &model, whole)
            .into_iter()
            .map(|d| {
                let fixed = d
                    .fix
                    .as_ref()
                    .map(|f| apply_edits(text, &f.edits))
                    .unwrap_or_default();
                (d.rule.to_string(), text[d.range].to_string(), fixed)
            })
            .collect()
    }

    #[test]
    fn unknown_names_with_the_closest_ones() {
        let text = "{ pkgs, ... }: { home.stateVerison = \"25.11\"; programs.git = { enable = true; userEmial = \"a\"; }; programs.nixvim.enable = true; stylix.enable = true; }";
        let found = findings(text, true);
        let rules: Vec<(&str, &str)> = found
            .iter()
            .map(|(r, t, _)| (r.as_str(), t.as_str()))
            .collect();
        assert_eq!(
            rules,
            [
                ("hm-unknown-option", "stateVerison"),
                ("hm-unknown-option", "userEmial")
            ]
        );
        assert!(
            found[0].2.contains("home.stateVersion = \"25.11\""),
            "{}",
            found[0].2
        );
    }

    #[test]
    fn renamed_options_are_rewritten_keeping_the_value() {
        let text = "{ programs.git = { userName = \"Ada\"; }; programs.zsh.enableAutosuggestions = true; }";
        let found = findings(text, true);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, "hm-renamed-option");
        assert_eq!(found[0].2, "{ programs.git = { settings.user.name = \"Ada\"; }; programs.zsh.enableAutosuggestions = true; }");
        assert_eq!(found[1].2, "{ programs.git = { userName = \"Ada\"; }; programs.zsh.autosuggestion.enable = true; }");
    }

    #[test]
    fn removed_changed_and_deprecated() {
        let text = "{ home.sessionVariableSetter = \"pam\"; programs.kitty.theme = \"x\"; programs.zsh.initExtra = \"echo\"; }";
        let rules: Vec<String> = findings(text, true)
            .into_iter()
            .map(|(r, _, _)| r)
            .collect();
        assert_eq!(
            rules,
            [
                "hm-removed-option",
                "hm-changed-option",
                "hm-deprecated-option"
            ]
        );
    }

    #[test]
    fn open_types_and_submodules_are_not_judged_by_name() {
        let text = "{ programs.git.settings.anything.goes = true; programs.ssh.settings.\"my host\".HostName = \"x\"; xdg.configFile.\"a/b\".text = \"\"; home.file.x.source = ./x; }";
        assert_eq!(findings(text, true), []);
    }

    #[test]
    fn in_submodule_elements_only_near_misses_are_judged() {
        // `ForwardAgent` is a freeform key of an ssh host, `editor` of
        // khard's freeform settings, `disabled` of an MCP server (close
        // to the declared `enabled`); `adress` is a typo of a declared
        // option of an email account, `condtion` of a git include.
        let text = "{ programs.ssh.settings.\"*.lab\".ForwardAgent = true; programs.khard.settings.general.editor = \"vim\"; programs.mcp.servers.x.disabled = true; accounts.email.accounts.work.adress = \"a@b.c\"; programs.git.includes = [ { condtion = \"x\"; } ]; }";
        let names: Vec<String> = findings(text, true)
            .into_iter()
            .map(|(_, t, _)| t)
            .collect();
        assert_eq!(names, ["adress", "condtion"]);
    }

    #[test]
    fn wrappers_are_known_by_what_they_denote_not_their_spelling() {
        // `with lib;`, `inherit (lib) mkIf;` and a `config` of a module
        // with `options` all reach the definitions inside.
        let text = "{ lib, ... }: with lib; let inherit (lib) mkMerge; in { options.x = { }; config = mkMerge [ (mkIf true { programs.git.enabel = true; }) { programs.tmux.mousse = true; } ]; }";
        let names: Vec<String> = findings(text, true)
            .into_iter()
            .map(|(_, t, _)| t)
            .collect();
        assert_eq!(names, ["enabel", "mousse"]);
        // A local function that happens to be called `mkIf` is no wrapper:
        // its argument is no definition.
        let text = "{ ... }: let mkIf = c: v: { }; in { home.username = \"a\"; programs = mkIf true { git.enabel = true; }; }";
        assert_eq!(findings(text, true), []);
    }

    #[test]
    fn home_manager_users_in_a_nixos_file() {
        let text = "{ pkgs, ... }: { networking.hostName = \"x\"; home-manager.users.ada = { pkgs, ... }: { programs.git.enabel = true; }; home-manager.sharedModules = [ { home.stateVerison = \"1\"; } ]; }";
        let names: Vec<String> = findings(text, false)
            .into_iter()
            .map(|(_, t, _)| t)
            .collect();
        assert_eq!(names, ["enabel", "stateVerison"]);
    }
}
