//! Home Manager, pure: whether a file is a Home Manager configuration, and
//! the state domain events compare (programs and services with their
//! configured keys, packages, `home.stateVersion`). Read from the syntax
//! tree without evaluating anything.

pub mod migrate;
pub mod options;
pub mod references;
pub mod validate;

use std::collections::{BTreeMap, BTreeSet};

use rnix::ast::{self, BinOpKind, Expr, HasEntry};
use rnix::SyntaxNode;
use rowan::ast::AstNode;

use crate::analysis::any_word::AnyWord;
use crate::syntax::read::{self, MAX_READ_DEPTH};

/// Words without which a file can be neither a Home Manager module nor
/// hold one: `home.stateVersion`, `xdg.configFile`, `home-manager.users`.
pub static HOME_WORDS: AnyWord = AnyWord::new(&[
    "home.",
    "home =",
    "home-manager",
    "xdg.",
    "accounts.",
    "xsession",
    "wayland.",
    "targets.",
    "launchd.",
    "lib.hm",
]);

/// One program or service: its literal `enable` and every configured key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Unit {
    /// `Some` when `enable` is a literal `true`/`false` (through `mkIf`,
    /// `mkForce`, `mkDefault`, `mkOverride`).
    pub enabled: Option<bool>,
    /// Leaf attribute paths below the unit, dotted (`settings.user.name`).
    pub keys: BTreeSet<String>,
    /// Each key's value as written, on one line: lets a diff see a value
    /// change. Never put into events (it may hold anything the user wrote).
    pub values: BTreeMap<String, String>,
}

/// What events compare between two saves of a Home Manager configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HomeState {
    pub state_version: Option<String>,
    pub programs: BTreeMap<String, Unit>,
    pub services: BTreeMap<String, Unit>,
    /// `home.packages` elements in source order: `pkgs.ripgrep` and
    /// `ripgrep` under `with pkgs;` are `ripgrep`; anything else is its
    /// text on one line.
    pub packages: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HomeModel {
    pub is_home_manager: bool,
    /// The detection score (see [`detect`]).
    pub score: i32,
    pub state: HomeState,
}

/// Reads a module. `named_as_home_module`: another file of the project
/// puts this one where Home Manager modules go ([`references`]), the
/// strongest signal. Where the file lies is no signal: `/home/` is in the
/// path of almost every file on Linux.
pub fn read(root: &SyntaxNode, named_as_home_module: bool) -> HomeModel {
    let Some(expr) = ast::Root::cast(root.clone()).and_then(|r| r.expr()) else {
        return HomeModel::default();
    };
    let mut leaves = Vec::new();
    let mut formals = Vec::new();
    let body = module_body(&expr, &mut formals);
    flatten(&mut Vec::new(), &body, &mut leaves, 0);
    // A module with `options` keeps its settings under `config`.
    if leaves
        .iter()
        .any(|(p, _)| p.first().is_some_and(|n| n == "options"))
    {
        leaves.retain(|(p, _)| p.first().is_some_and(|n| n == "config"));
        for (p, _) in &mut leaves {
            p.remove(0);
        }
    }
    let score = detect(&leaves, &formals, root, named_as_home_module);
    let is_home_manager = score >= HOME_MANAGER_THRESHOLD;
    let state = if is_home_manager {
        state_of(&leaves)
    } else {
        HomeState::default()
    };
    HomeModel {
        is_home_manager,
        score,
        state,
    }
}

/// The score from which a file is a Home Manager configuration. The brief
/// suggests 3; one option that exists only in Home Manager (`home.*`,
/// `xdg.configFile`, ...) weighs 2 and is decisive on its own, as NixOS has
/// no such option, while weak signals (the file name, idioms) need company.
pub const HOME_MANAGER_THRESHOLD: i32 = 2;

/// A leaf of the module: an attribute path and the value written there.
type Leaf = (Vec<String>, Expr);

/// The set a module returns: under `{ pkgs, ... }:`, `let ... in`, `with`.
fn module_body(expr: &Expr, formals: &mut Vec<String>) -> Expr {
    let mut expr = read::body_value(expr);
    for _ in 0..MAX_READ_DEPTH {
        match &expr {
            Expr::Lambda(lambda) => {
                if let Some(ast::Param::Pattern(p)) = lambda.param() {
                    formals.extend(
                        p.pat_entries()
                            .filter_map(|e| Some(e.ident()?.syntax().text().to_string())),
                    );
                }
                match lambda.body() {
                    Some(body) => expr = read::body_value(&body),
                    None => break,
                }
            }
            _ => break,
        }
    }
    expr
}

/// `mkIf c x`, `mkForce x`, `mkDefault x`, `mkOverride n x`: the `x`.
/// Wrappers that only order or merge strings and lists are not looked into.
fn unwrap(expr: &Expr) -> Expr {
    let mut expr = read::strip_parens(expr);
    for _ in 0..MAX_READ_DEPTH {
        let Some((function, mut args)) = read::application(&expr) else {
            break;
        };
        let inner = match (read::function_name(&function).as_deref(), args.len()) {
            (Some("mkForce" | "mkDefault" | "mkImageMediaOverride" | "mkVMOverride"), 1) => {
                args.pop()
            }
            (Some("mkIf" | "mkOverride"), 2) => args.pop(),
            _ => None,
        };
        match inner {
            Some(inner) => expr = read::strip_parens(&inner),
            None => break,
        }
    }
    expr
}

/// The elements of `mkMerge [ a b ]`, if `expr` is one.
fn merged(expr: &Expr) -> Option<Vec<Expr>> {
    let (function, args) = read::application(expr)?;
    if read::function_name(&function).as_deref() != Some("mkMerge") || args.len() != 1 {
        return None;
    }
    match read::strip_parens(&args[0]) {
        Expr::List(list) => Some(list.items().collect()),
        _ => None,
    }
}

fn flatten(prefix: &mut Vec<String>, expr: &Expr, out: &mut Vec<Leaf>, depth: usize) {
    if depth > MAX_READ_DEPTH {
        return;
    }
    let value = unwrap(expr);
    if let Some(parts) = merged(&value) {
        for part in parts {
            flatten(prefix, &part, out, depth + 1);
        }
        return;
    }
    match &value {
        Expr::AttrSet(set) if set.entries().next().is_some() => {
            for (names, value) in read::bindings(set) {
                let len = prefix.len();
                prefix.extend(names.into_iter().map(|n| n.text));
                flatten(prefix, &value, out, depth + 1);
                prefix.truncate(len);
            }
            for name in read::inherited_names(set) {
                let mut path = prefix.clone();
                path.push(name.text);
                // The value is the inherited name itself; keep the set as a
                // stand-in (it is never read as a literal).
                out.push((path, value.clone()));
            }
        }
        _ => out.push((prefix.clone(), value)),
    }
}

/// Scores the signals of home-manager.md §6; see [`HOME_MANAGER_THRESHOLD`].
pub fn detect(
    leaves: &[Leaf],
    formals: &[String],
    root: &SyntaxNode,
    named_as_home_module: bool,
) -> i32 {
    let mut score = 0;
    let mut seen = BTreeSet::new();
    let mut signal = |key: &'static str, weight: i32, score: &mut i32| {
        if seen.insert(key) {
            *score += weight;
        }
    };
    for (p, _) in leaves {
        let p: Vec<&str> = p.iter().map(String::as_str).collect();
        match p.as_slice() {
            ["home", "stateVersion", ..] => signal("home.stateVersion", 3, &mut score),
            ["home", "username", ..] => signal("home.username", 3, &mut score),
            ["home", "homeDirectory", ..] => signal("home.homeDirectory", 3, &mut score),
            ["home", "activation", ..] => {
                signal("home.*", 2, &mut score);
                signal("home.activation", 1, &mut score);
            }
            ["home", ..] => signal("home.*", 2, &mut score),
            ["accounts" | "xsession" | "targets" | "xresources" | "sshAuthSock", ..]
            | ["wayland", "windowManager", ..]
            | ["launchd", "agents", ..]
            | ["programs", "home-manager", ..] => signal("hm-root", 2, &mut score),
            ["xdg", "configFile" | "dataFile" | "stateFile" | "cacheFile", ..] => {
                signal("xdg files", 2, &mut score)
            }
            ["systemd", "user", "services", _, "Unit" | "Service" | "Install", ..] => {
                signal("systemd.user capitalised", 1, &mut score)
            }
            // Roots only NixOS or nix-darwin have (Home Manager has no
            // `environment`, `system` or `homebrew`, and its `launchd`
            // has only `agents`).
            [root, ..] if nixos_root(root).is_some() => {
                signal(nixos_root(root).unwrap_or_default(), -3, &mut score)
            }
            ["users", "users", ..] => signal("users.users", -3, &mut score),
            ["launchd", "daemons" | "user", ..] => signal("darwin launchd", -3, &mut score),
            _ => {}
        }
    }
    if formals
        .iter()
        .any(|f| f == "osConfig" || f == "nixosConfig")
    {
        signal("osConfig", 1, &mut score);
    }
    let text = root.text().to_string();
    if text.contains("lib.hm.") || text.contains("mkOutOfStoreSymlink") {
        signal("hm idiom", 1, &mut score);
    }
    if named_as_home_module {
        signal("named as a Home Manager module", 3, &mut score);
    }
    score
}

fn nixos_root(root: &str) -> Option<&'static str> {
    Some(match root {
        "boot" => "boot",
        "networking" => "networking",
        "fileSystems" => "fileSystems",
        "hardware" => "hardware",
        "security" => "security",
        "environment" => "environment",
        "system" => "system",
        "homebrew" => "homebrew",
        "virtualisation" => "virtualisation",
        "swapDevices" => "swapDevices",
        "powerManagement" => "powerManagement",
        _ => return None,
    })
}

fn state_of(leaves: &[Leaf]) -> HomeState {
    let mut state = HomeState::default();
    for (path, value) in leaves {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        match p.as_slice() {
            ["home", "stateVersion"] => state.state_version = read::string_value(&unwrap(value)),
            ["home", "packages"] => packages(value, false, &mut state.packages, 0),
            [kind @ ("programs" | "services"), name, rest @ ..] if !rest.is_empty() => {
                let units = if *kind == "programs" {
                    &mut state.programs
                } else {
                    &mut state.services
                };
                let unit = units.entry(name.to_string()).or_default();
                if rest == ["enable"] {
                    unit.enabled = read::bool_value(&unwrap(value));
                }
                unit.keys.insert(rest.join("."));
                unit.values.insert(rest.join("."), one_line(value));
            }
            _ => {}
        }
    }
    state
}

/// The elements of a `home.packages` value: lists joined with `++`, under
/// `with pkgs;` and the value wrappers.
fn packages(expr: &Expr, with_pkgs: bool, out: &mut Vec<String>, depth: usize) {
    if depth > MAX_READ_DEPTH {
        return;
    }
    match unwrap(expr) {
        Expr::List(list) => {
            for item in list.items() {
                out.push(package_name(&item, with_pkgs));
            }
        }
        Expr::BinOp(op) if op.operator() == Some(BinOpKind::Concat) => {
            if let Some(lhs) = op.lhs() {
                packages(&lhs, with_pkgs, out, depth + 1);
            }
            if let Some(rhs) = op.rhs() {
                packages(&rhs, with_pkgs, out, depth + 1);
            }
        }
        Expr::With(with) => {
            let is_pkgs = with
                .namespace()
                .is_some_and(|n| read::strip_parens(&n).syntax().text() == "pkgs");
            if let Some(body) = with.body() {
                packages(&body, with_pkgs || is_pkgs, out, depth + 1);
            }
        }
        Expr::LetIn(l) => {
            if let Some(body) = l.body() {
                packages(&body, with_pkgs, out, depth + 1);
            }
        }
        _ => {}
    }
}

fn package_name(item: &Expr, with_pkgs: bool) -> String {
    let _ = with_pkgs; // a bare name reads the same with or without `with pkgs;`
    match item {
        Expr::Ident(i) => i.syntax().text().to_string(),
        Expr::Select(s) if s.default_expr().is_none() => {
            let base = s.expr().map(|e| e.syntax().text().to_string());
            let names = s.attrpath().and_then(|p| read::attrpath_names(&p));
            match (base.as_deref(), names) {
                (Some("pkgs"), Some(names)) => names
                    .into_iter()
                    .map(|n| n.text)
                    .collect::<Vec<_>>()
                    .join("."),
                _ => one_line(item),
            }
        }
        _ => one_line(item),
    }
}

/// What an event may say about a `home.packages` element: its name when
/// it is one (`ripgrep`, `python3Packages.black`), else the function it
/// calls with its path and short name arguments, never string contents or
/// nested code: `(pkgs.writeShellScriptBin "kctx" …)`.
pub fn package_label(element: &str) -> String {
    let parse = rnix::Root::parse(element);
    let Some(expr) = parse.tree().expr() else {
        return "…".into();
    };
    let expr = read::strip_parens(&expr);
    if let Expr::Ident(_) | Expr::Select(_) = expr {
        if element
            .chars()
            .all(|c| c.is_alphanumeric() || "._-'".contains(c))
        {
            return element.to_string();
        }
    }
    let Some((function, args)) = read::application(&expr) else {
        return "…".into();
    };
    let mut parts = vec![read::strip_parens(&function).syntax().text().to_string()];
    for arg in args {
        match read::strip_parens(&arg) {
            Expr::PathRel(p) => parts.push(p.syntax().text().to_string()),
            Expr::PathAbs(p) => parts.push(p.syntax().text().to_string()),
            Expr::Str(_) => match read::string_value(&arg) {
                Some(name)
                    if name.len() <= 64
                        && !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_alphanumeric() || "._-+".contains(c)) =>
                {
                    parts.push(format!("\"{name}\""))
                }
                _ => {
                    parts.push("…".into());
                    break;
                }
            },
            _ => {
                parts.push("…".into());
                break;
            }
        }
    }
    if parts.iter().any(|p| p.contains(char::is_whitespace)) {
        return "…".into();
    }
    format!("({})", parts.join(" "))
}

fn one_line(expr: &Expr) -> String {
    expr.syntax()
        .text()
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(text: &str, named: bool) -> HomeModel {
        let parse = rnix::Root::parse(text);
        assert!(parse.errors().is_empty());
        read(&parse.syntax(), named)
    }

    #[test]
    fn any_word_finds_each_word_anywhere_and_nothing_else() {
        for text in [
            "home.packages",
            "x: { y = 1; } // { xdg.enable = 1; }",
            "{ a = lib.hm.dag; }",
        ] {
            assert!(HOME_WORDS.in_text(text), "{text}");
        }
        for text in [
            "",
            "{ homes = 1; }",
            "{ Xdg = 1; xdg = 2; }",
            "{ nixos.x = 1; }",
        ] {
            assert!(!HOME_WORDS.in_text(text), "{text}");
        }
        assert!(references::NAMING_WORDS.in_text("inputs.home-manager.url"));
        assert!(!references::NAMING_WORDS.in_text("home.stateVersion"));
    }

    #[test]
    fn programs_packages_and_state_version() {
        let m = model(
            "{ pkgs, ... }: { home.stateVersion = \"24.05\"; home.packages = with pkgs; [ ripgrep pkgs.fd ]; programs.git = { enable = true; settings.user.name = \"A\"; }; }",
            false,
        );
        assert!(m.is_home_manager);
        assert_eq!(m.state.state_version.as_deref(), Some("24.05"));
        assert_eq!(m.state.packages, ["ripgrep", "fd"]);
        let git = &m.state.programs["git"];
        assert_eq!(git.enabled, Some(true));
        assert_eq!(
            git.keys.iter().collect::<Vec<_>>(),
            ["enable", "settings.user.name"]
        );
    }

    #[test]
    fn package_labels_never_carry_contents() {
        assert_eq!(package_label("ripgrep"), "ripgrep");
        assert_eq!(
            package_label("python3Packages.black"),
            "python3Packages.black"
        );
        assert_eq!(
            package_label("(pkgs.callPackage ./tools/todo-cli.nix { })"),
            "(pkgs.callPackage ./tools/todo-cli.nix …)"
        );
        assert_eq!(
            package_label("(pkgs.writeShellScriptBin \"kctx\" '' exec ${pkgs.kubectl}/bin/kubectl config use-context \"$@\" '')"),
            "(pkgs.writeShellScriptBin \"kctx\" …)"
        );
        assert_eq!(
            package_label("(pkgs.writeText \"token=hunter2 secret\" \"x\")"),
            "(pkgs.writeText …)"
        );
        assert_eq!(
            package_label("(pkgs.python3.withPackages (ps: [ ps.requests ]))"),
            "(pkgs.python3.withPackages …)"
        );
        assert_eq!(package_label("[ 1 ]"), "…");
    }

    #[test]
    fn nixos_configurations_and_weak_signals_are_not_home_manager() {
        let m = model(
            "{ boot.loader.grub.enable = true; programs.git.enable = true; }",
            false,
        );
        assert!(!m.is_home_manager);
        let m = model(
            "{ programs.git.enable = true; xdg.configFile.a.text = \"\"; }",
            false,
        );
        assert!(m.is_home_manager);
        // A NixOS module with a user service (capitalised sections are
        // a weak Home Manager idiom) and programs: not Home Manager.
        let m = model(
            "{ pkgs, ... }: { programs.firefox.enable = true; systemd.user.services.sync.Unit.Description = \"x\"; }",
            false,
        );
        assert!(!m.is_home_manager, "score {}", m.score);
        // nix-darwin: `launchd.agents` is in both; daemons, `system` and
        // `environment` are not Home Manager's.
        for darwin in [
            "{ launchd.daemons.foo.command = \"foo\"; launchd.agents.bar.command = \"bar\"; }",
            "{ lib, ... }: { environment.etc = lib.mkForce { }; launchd.agents = lib.mkForce { }; }",
            "{ system.primaryUser = \"a\"; launchd.agents.bar.command = \"bar\"; }",
        ] {
            let m = model(darwin, false);
            assert!(!m.is_home_manager, "{darwin}: score {}", m.score);
        }
        assert!(
            model(
                "{ launchd.agents.bar.config.ProgramArguments = [ ]; }",
                false
            )
            .is_home_manager
        );
    }

    #[test]
    fn a_file_the_project_names_as_a_home_module_is_one() {
        let text = "{ pkgs, ... }: { programs.git.enable = true; }";
        assert!(!model(text, false).is_home_manager);
        assert!(model(text, true).is_home_manager);
        // Even named, a NixOS configuration's own text outweighs it.
        let nixos =
            "{ boot.loader.grub.enable = true; networking.hostName = \"x\"; users.users.a = { }; }";
        assert!(!model(nixos, true).is_home_manager);
    }
}
