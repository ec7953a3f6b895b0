//! The module model: the option definitions a file makes, by option path,
//! however they are written. `services.openssh.settings.PermitRootLogin`
//! is one path whether the file nests sets, dots keys or mixes both; wraps
//! the value in `mkForce`, `mkDefault`, `mkOverride 50`, `mkIf cond`,
//! `mkMerge [ ... ]`, `mkOrder`, `mkBefore` or `mkAfter` (as `lib.mkIf`,
//! under `with lib;` or after `inherit (lib) mkIf;`: the wrappers are
//! recognised by what they denote, see [`super::names`]); defines it in a
//! module function, under `config = { ... }` of a module that declares
//! `options`, under `let ... in`, in an inline module of `imports`, in
//! `home-manager.users.<name>` (a Home Manager module inside a NixOS one)
//! or in the `modules` of a `nixosSystem` call in a flake. Old spellings of
//! renamed options are found under their new path ([`RENAMED`]).
//!
//! Rules about NixOS and Home Manager settings ask here, and so does Home
//! Manager option validation (`home::validate`).

use rnix::{SyntaxKind, SyntaxNode};
use rowan::TextRange;
use smol_str::SmolStr;

use SyntaxKind::*;

use super::any_word::AnyWord;
use super::names::Names;
use super::semantic::static_attr_name;

/// Which kind of configuration a module belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// A NixOS (or nix-darwin) system module.
    System,
    /// A Home Manager module.
    Home,
}

/// One definition of an option (or of a set of options) in the file.
#[derive(Debug, Clone)]
pub struct Definition {
    pub context: Context,
    /// The option's path, with renamed options under their current name.
    pub path: Vec<SmolStr>,
    /// The old name the file used, when it used one ([`RENAMED`]).
    pub renamed_from: Option<&'static str>,
    /// The key that names the path's last component.
    pub key: TextRange,
    /// The value, without the wrappers around it (`mkForce v` is `v`).
    pub value: SyntaxNode,
    /// Whether a `mkIf` stands between the key and the value.
    pub conditional: bool,
}

impl Definition {
    /// Whether the value (without wrappers) is an attribute set: a
    /// definition of several options below this path.
    pub fn is_set(&self) -> bool {
        self.value.kind() == NODE_ATTR_SET
    }
}

/// Options renamed in NixOS, old name first: a definition under the old
/// name is a definition of the new one.
pub const RENAMED: &[(&str, &str)] = &[
    (
        "services.openssh.permitRootLogin",
        "services.openssh.settings.PermitRootLogin",
    ),
    (
        "services.openssh.passwordAuthentication",
        "services.openssh.settings.PasswordAuthentication",
    ),
    (
        "services.openssh.kbdInteractiveAuthentication",
        "services.openssh.settings.KbdInteractiveAuthentication",
    ),
    (
        "services.openssh.challengeResponseAuthentication",
        "services.openssh.settings.KbdInteractiveAuthentication",
    ),
    (
        "services.openssh.forwardX11",
        "services.openssh.settings.X11Forwarding",
    ),
    ("nix.useSandbox", "nix.settings.sandbox"),
    ("nix.trustedUsers", "nix.settings.trusted-users"),
    ("nix.allowedUsers", "nix.settings.allowed-users"),
    ("nix.binaryCaches", "nix.settings.substituters"),
    (
        "nix.trustedBinaryCaches",
        "nix.settings.trusted-substituters",
    ),
    (
        "nix.binaryCachePublicKeys",
        "nix.settings.trusted-public-keys",
    ),
    ("nix.requireSignedBinaryCaches", "nix.settings.require-sigs"),
    (
        "services.xserver.displayManager.autoLogin",
        "services.displayManager.autoLogin",
    ),
];

/// Every option definition of a file.
#[derive(Debug, Default)]
pub struct Modules {
    pub definitions: Vec<Definition>,
    /// The definitions by their path's last component: a query looks at
    /// those only (a rule asks for dozens of paths in a module that defines
    /// thousands).
    by_last: rustc_hash::FxHashMap<SmolStr, Vec<usize>>,
    /// The first components the definitions were limited to, if they were.
    roots: Option<&'static [&'static str]>,
}

impl Modules {
    /// The definitions in the file rooted at `root`: the file itself when
    /// it is a module (of `context`), and every module given to a
    /// `nixosSystem`, `darwinSystem` or `homeManagerConfiguration` call in
    /// it.
    pub fn of_file(root: &SyntaxNode, text: &str, names: &Names<'_>, context: Context) -> Modules {
        Modules::walked(root, text, names, context, None)
    }

    /// [`Modules::of_file`], limited to the definitions whose path begins
    /// with one of `roots` (and the modules `home-manager.users.<n>`
    /// holds): what rules that ask about a few options need, without
    /// walking the rest of a module at every keystroke. Asking for a path
    /// outside `roots` is a mistake the debug build catches.
    pub fn of_file_under(
        root: &SyntaxNode,
        text: &str,
        names: &Names<'_>,
        context: Context,
        roots: &'static [&'static str],
    ) -> Modules {
        Modules::walked(root, text, names, context, Some(roots))
    }

    fn walked(
        root: &SyntaxNode,
        text: &str,
        names: &Names<'_>,
        context: Context,
        roots: Option<&'static [&'static str]>,
    ) -> Modules {
        let mut walk = Walk {
            names,
            found: Vec::new(),
            depth: 0,
            roots,
        };
        if let Some(expr) = root.children().next() {
            if !is_flake(&expr) {
                walk.module(&expr, context);
            }
        }
        // Only a file that names such a call is walked for one.
        static CALLS: AnyWord =
            AnyWord::new(&["nixosSystem", "darwinSystem", "homeManagerConfiguration"]);
        if !CALLS.in_text(text) {
            return Modules::indexed(walk.found, roots);
        }
        for apply in root.descendants().filter(|n| n.kind() == NODE_APPLY) {
            let Some(context) = system_call(&apply) else {
                continue;
            };
            let Some(modules) = apply
                .children()
                .nth(1)
                .and_then(|arg| member(&arg, "modules"))
            else {
                continue;
            };
            for m in list_items(&modules) {
                walk.module(&m, context);
            }
        }
        Modules::indexed(walk.found, roots)
    }

    fn indexed(
        mut definitions: Vec<Definition>,
        roots: Option<&'static [&'static str]>,
    ) -> Modules {
        definitions.sort_by_key(|d| d.key.start());
        let mut by_last: rustc_hash::FxHashMap<SmolStr, Vec<usize>> = Default::default();
        for (i, d) in definitions.iter().enumerate() {
            if let Some(last) = d.path.last() {
                by_last.entry(last.clone()).or_default().push(i);
            }
        }
        Modules {
            definitions,
            by_last,
            roots,
        }
    }

    /// Whether definitions under `first` were walked: a rule asking for a
    /// path the walk left out would find nothing and say nothing.
    fn walked_under(&self, first: &str) -> bool {
        self.roots.is_none_or(|roots| roots.contains(&first))
    }

    /// The definitions whose path ends in `last`.
    fn ending_in<'m>(&'m self, last: &str) -> impl Iterator<Item = &'m Definition> + 'm {
        self.by_last
            .get(last)
            .into_iter()
            .flatten()
            .map(|&i| &self.definitions[i])
    }

    /// The definitions of exactly `path` (`["services", "openssh",
    /// "settings", "PermitRootLogin"]`) in `context`.
    pub fn at<'m>(
        &'m self,
        context: Context,
        path: &'m [&str],
    ) -> impl Iterator<Item = &'m Definition> + 'm {
        debug_assert!(self.walked_under(path.first().copied().unwrap_or_default()));
        self.ending_in(path.last().copied().unwrap_or_default())
            .filter(move |d| d.context == context && same_path(&d.path, path))
    }

    /// The definitions of `path` written with dots
    /// (`"services.openssh.settings.PermitRootLogin"`; no component may
    /// contain a dot: use [`Modules::at`] for those).
    pub fn named<'m>(
        &'m self,
        context: Context,
        dotted: &'m str,
    ) -> impl Iterator<Item = &'m Definition> + 'm {
        debug_assert!(self.walked_under(dotted.split('.').next().unwrap_or_default()));
        let last = dotted.rsplit('.').next().unwrap_or_default();
        self.ending_in(last)
            .filter(move |d| d.context == context && dotted_match(&d.path, dotted, false))
    }

    /// The definitions whose path matches `pattern` written with dots, where
    /// `*` matches any one component (`"users.users.*.extraGroups"`).
    pub fn matching<'m>(
        &'m self,
        context: Context,
        pattern: &'m str,
    ) -> impl Iterator<Item = &'m Definition> + 'm {
        debug_assert!(self.walked_under(pattern.split('.').next().unwrap_or_default()));
        let last = pattern.rsplit('.').next().unwrap_or_default();
        let candidates: Box<dyn Iterator<Item = &'m Definition> + 'm> = if last == "*" {
            Box::new(self.definitions.iter())
        } else {
            Box::new(self.ending_in(last))
        };
        candidates.filter(move |d| d.context == context && dotted_match(&d.path, pattern, true))
    }
}

/// Whether `path` is `dotted` (with `*` for any one component when
/// `wildcard`).
fn dotted_match(path: &[SmolStr], dotted: &str, wildcard: bool) -> bool {
    path.len() == dotted.split('.').count()
        && path
            .iter()
            .zip(dotted.split('.'))
            .all(|(a, b)| a == b || (wildcard && b == "*"))
}

fn same_path(path: &[SmolStr], wanted: &[&str]) -> bool {
    path.len() == wanted.len() && path.iter().zip(wanted).all(|(a, b)| a == b)
}

/// How deep modules and values are followed: a bound for nesting that real
/// configurations never reach, so that deep generated text cannot overflow
/// the stack.
const MAX_DEPTH: u32 = 256;

struct Walk<'n, 'a> {
    names: &'n Names<'a>,
    found: Vec<Definition>,
    depth: u32,
    /// Only definitions under these first components are walked.
    roots: Option<&'static [&'static str]>,
}

impl Walk<'_, '_> {
    /// A module: a set of definitions, or a function returning one.
    fn module(&mut self, expr: &SyntaxNode, context: Context) {
        let Some(body) = self.module_body(expr) else {
            return;
        };
        // A module that declares options keeps its definitions under
        // `config`; any other module is all definitions.
        let declares = body_keys(&body).any(|k| k == "options" || k == "config");
        let roots = self.roots;
        let keep = |first: &str| matches!(first, "imports" | "config") || under(roots, first);
        for (path, value, key) in members_where(&body, keep) {
            let first = path[0].as_str();
            let alone = path.len() == 1;
            if first == "imports" && alone {
                for m in list_items(&value) {
                    self.nested(|w| w.module(&m, context));
                }
            } else if first == "options"
                || (alone && matches!(first, "_file" | "key" | "disabledModules" | "_class"))
            {
                // Declarations and the module's own attributes.
            } else if !declares {
                self.value(context, path, key, &value, false);
            } else if first == "config" {
                self.value(context, path[1..].to_vec(), key, &value, false);
            }
        }
    }

    /// The set a module expression is, through the function around it
    /// (one, taking a `{ ... }` pattern: a package set's `self: super:`
    /// is no module), `let`, `with` and parentheses.
    fn module_body(&self, expr: &SyntaxNode) -> Option<SyntaxNode> {
        let mut expr = expr.clone();
        let mut functions = 0;
        for _ in 0..MAX_DEPTH {
            expr = match expr.kind() {
                NODE_ATTR_SET => return Some(expr),
                NODE_LAMBDA => {
                    functions += 1;
                    let pattern = expr.first_child().is_some_and(|p| p.kind() == NODE_PATTERN);
                    if functions > 1 || !pattern {
                        return None;
                    }
                    expr.last_child()?
                }
                NODE_LET_IN | NODE_WITH | NODE_ASSERT => expr.last_child()?,
                NODE_PAREN => expr.first_child()?,
                _ => return None,
            };
        }
        None
    }

    /// A definition of `path` with `value` (wrappers still on).
    fn value(
        &mut self,
        context: Context,
        path: Vec<SmolStr>,
        key: TextRange,
        value: &SyntaxNode,
        conditional: bool,
    ) {
        if self.depth > MAX_DEPTH {
            return;
        }
        if let Some(first) = path.first() {
            if !under(self.roots, first) {
                return;
            }
        }
        let value = strip(value);
        if let Some((wrapper, inner)) = self.wrapper(&value) {
            match wrapper {
                Wrapper::Merge => {
                    for item in list_items(&inner) {
                        self.nested(|w| w.value(context, path.clone(), key, &item, conditional));
                    }
                }
                Wrapper::If => self.nested(|w| w.value(context, path, key, &inner, true)),
                Wrapper::Value => {
                    self.nested(|w| w.value(context, path, key, &inner, conditional));
                }
            }
            return;
        }
        // `home-manager.users.<name>` of a system module is a Home
        // Manager module; so is each of `home-manager.sharedModules`.
        if context == Context::System && path.first().is_some_and(|p| p == "home-manager") {
            match path.as_slice() {
                [_, users, _] if users == "users" => {
                    self.nested(|w| w.module(&value, Context::Home));
                    return;
                }
                [_, shared] if shared == "sharedModules" => {
                    for m in list_items(&value) {
                        self.nested(|w| w.module(&m, Context::Home));
                    }
                    return;
                }
                _ => {}
            }
        }
        let (path, renamed_from) = renamed(path);
        if value.kind() == NODE_ATTR_SET && !is_rec(&value) {
            // Below a path, every member is under its root; at the top
            // (`config = { ... }`), each member's own first key decides.
            let roots = self.roots.filter(|_| path.is_empty());
            for (sub, inner, inner_key) in members_where(&value, |first| under(roots, first)) {
                let mut full = path.clone();
                full.extend(sub);
                self.nested(|w| w.value(context, full, inner_key, &inner, conditional));
            }
        }
        // `config = { ... }` itself defines no option, its members do.
        if !path.is_empty() {
            self.found.push(Definition {
                context,
                path,
                renamed_from,
                key,
                value,
                conditional,
            });
        }
    }

    fn nested(&mut self, f: impl FnOnce(&mut Self)) {
        self.depth += 1;
        if self.depth <= MAX_DEPTH {
            f(self);
        }
        self.depth -= 1;
    }

    /// `mkForce v`, `lib.mkIf c v`, `mkMerge [ ... ]`...: which wrapper,
    /// and what it wraps.
    fn wrapper(&self, value: &SyntaxNode) -> Option<(Wrapper, SyntaxNode)> {
        if value.kind() != NODE_APPLY {
            return None;
        }
        // `f a b` is `(f a) b`: the function and its arguments in order.
        let mut args = Vec::new();
        let mut f = value.clone();
        while f.kind() == NODE_APPLY {
            let mut children = f.children();
            let (function, arg) = (children.next()?, children.next()?);
            args.push(arg);
            f = strip(&function);
        }
        args.reverse();
        let global = self.names.of(&f)?;
        let (wrapper, arity) = match global.lib_function()? {
            "mkForce"
            | "mkDefault"
            | "mkBefore"
            | "mkAfter"
            | "mkOptionDefault"
            | "mkImageMediaOverride"
            | "mkVMOverride" => (Wrapper::Value, 1),
            "mkOverride" | "mkOrder" => (Wrapper::Value, 2),
            "mkIf" => (Wrapper::If, 2),
            "mkMerge" => (Wrapper::Merge, 1),
            _ => return None,
        };
        (args.len() == arity).then(|| (wrapper, strip(&args[arity - 1])))
    }
}

/// Whether definitions beginning with `first` are walked under `roots`
/// (the Home Manager modules of `home-manager.users` always are).
fn under(roots: Option<&[&str]>, first: &str) -> bool {
    roots.is_none_or(|roots| first == "home-manager" || roots.contains(&first))
}

#[derive(Debug, Clone, Copy)]
enum Wrapper {
    /// Passes its last argument on (`mkForce`, `mkOverride 50`...).
    Value,
    /// `mkIf cond value`.
    If,
    /// `mkMerge [ ... ]`: each item is a definition.
    Merge,
}

/// The expression inside parentheses.
fn strip(expr: &SyntaxNode) -> SyntaxNode {
    let mut expr = expr.clone();
    while expr.kind() == NODE_PAREN {
        match expr.first_child() {
            Some(inner) => expr = inner,
            None => break,
        }
    }
    expr
}

fn is_rec(set: &SyntaxNode) -> bool {
    set.children_with_tokens().any(|t| t.kind() == TOKEN_REC)
}

/// The members of a set with static paths: each path, value and the key
/// naming the path's last component.
fn members(set: &SyntaxNode) -> impl Iterator<Item = (Vec<SmolStr>, SyntaxNode, TextRange)> {
    members_where(set, |_| true)
}

/// [`members`] whose first key `keep` keeps (the others' paths are not
/// read at all).
fn members_where(
    set: &SyntaxNode,
    keep: impl Fn(&str) -> bool,
) -> impl Iterator<Item = (Vec<SmolStr>, SyntaxNode, TextRange)> {
    set.children()
        .filter(|m| m.kind() == NODE_ATTRPATH_VALUE)
        .filter_map(move |member| {
            let path = member.children().find(|c| c.kind() == NODE_ATTRPATH)?;
            let first = static_attr_name(&path.first_child()?)?;
            if !keep(&first) {
                return None;
            }
            let value = member.last_child().filter(|v| v != &path)?;
            let names: Option<Vec<SmolStr>> = std::iter::once(Some(first))
                .chain(path.children().skip(1).map(|a| static_attr_name(&a)))
                .collect();
            let key = path.last_child()?.text_range();
            Some((names?, value, key))
        })
}

/// The first components of a set's keys.
fn body_keys(set: &SyntaxNode) -> impl Iterator<Item = SmolStr> + '_ {
    set.children()
        .filter(|m| m.kind() == NODE_ATTRPATH_VALUE)
        .filter_map(|m| {
            let path = m.children().find(|c| c.kind() == NODE_ATTRPATH)?;
            static_attr_name(&path.first_child()?)
        })
}

/// The value of `name` in a set expression.
fn member(set: &SyntaxNode, name: &str) -> Option<SyntaxNode> {
    let set = strip(set);
    if set.kind() != NODE_ATTR_SET {
        return None;
    }
    members(&set)
        .find(|(path, _, _)| path.len() == 1 && path[0] == name)
        .map(|(_, value, _)| value)
}

/// The items of a list expression (nothing for anything else).
fn list_items(list: &SyntaxNode) -> Vec<SyntaxNode> {
    let list = strip(list);
    if list.kind() != NODE_LIST {
        return Vec::new();
    }
    list.children().collect()
}

/// Whether the file's expression is a flake (`{ inputs = ...; outputs =
/// ...; }`), whose own keys are no option definitions.
fn is_flake(expr: &SyntaxNode) -> bool {
    let expr = strip(expr);
    expr.kind() == NODE_ATTR_SET && body_keys(&expr).any(|k| k == "outputs")
}

/// A call that builds a configuration from `modules`, and what kind.
fn system_call(apply: &SyntaxNode) -> Option<Context> {
    let function = strip(&apply.first_child()?);
    let name = match function.kind() {
        NODE_IDENT => function.first_token()?.text().into(),
        NODE_SELECT => static_attr_name(&function.last_child()?.last_child()?)?,
        _ => return None,
    };
    match name.as_str() {
        "nixosSystem" | "darwinSystem" => Some(Context::System),
        "homeManagerConfiguration" => Some(Context::Home),
        _ => None,
    }
}

/// A path under its current name, and the old name when it was renamed.
fn renamed(path: Vec<SmolStr>) -> (Vec<SmolStr>, Option<&'static str>) {
    // Compared part by part, without allocating: every definition of a
    // module passes here.
    for &(old, new) in RENAMED {
        // Most paths differ in their first part: that is looked at first.
        if !path.iter().zip(old.split('.')).all(|(a, b)| a == b) {
            continue;
        }
        let old_len = old.split('.').count();
        if path.len() >= old_len {
            let mut current: Vec<SmolStr> = new.split('.').map(SmolStr::from).collect();
            current.extend(path[old_len..].iter().cloned());
            return (current, Some(old));
        }
    }
    (path, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::semantic::SemanticModel;

    const ROOT_LOGIN: &str = "services.openssh.settings.PermitRootLogin";

    /// The definitions of `text`, a system module, limited to `roots`.
    fn walked(text: &str, roots: Option<&'static [&'static str]>) -> Modules {
        let root = rnix::Root::parse(text).syntax();
        let model = SemanticModel::build(&root);
        let names = Names::new(&root, &model);
        Modules::walked(&root, text, &names, Context::System, roots)
    }

    /// The text of each value defined for `path` in `context` by `text`
    /// (a system module), with `?` before conditional ones.
    fn values(text: &str, context: Context, path: &str) -> Vec<String> {
        walked(text, None)
            .named(context, path)
            .map(|d| {
                let mark = if d.conditional { "?" } else { "" };
                format!("{mark}{}", d.value.text())
            })
            .collect()
    }

    fn system(text: &str) -> Vec<String> {
        values(text, Context::System, ROOT_LOGIN)
    }

    /// Every definition of `modules` as `path = value`, in order.
    fn listed(modules: &Modules) -> Vec<String> {
        modules
            .definitions
            .iter()
            .map(|d| format!("{:?} {} = {}", d.context, d.path.join("."), d.value.text()))
            .collect()
    }

    #[test]
    fn definitions_under_roots_are_those_of_the_whole_walk_that_begin_there() {
        let text = r#"{ lib, ... }: {
  imports = [
    { services.a.enable = true; environment.b = 1; }
    { options.x = 1; config = lib.mkIf true { services.b = 2; systemd.services.c = { }; }; }
  ];
  environment.etc."x".text = "y";
  services.openssh = { enable = true; settings.PermitRootLogin = "yes"; };
  home-manager.users.me = { nixpkgs.config.allowUnfree = true; programs.git.enable = true; };
}"#;
        let all = walked(text, None);
        let under = walked(text, Some(&["services", "nixpkgs"]));
        let expected: Vec<String> = listed(&all)
            .into_iter()
            .filter(|d| {
                d.split(' ')
                    .nth(1)
                    .is_some_and(|p| p.starts_with("services") || p.starts_with("nixpkgs"))
            })
            .collect();
        assert_eq!(listed(&under), expected);
        // What the limit keeps out, by hand: the text defines these.
        assert!(listed(&all)
            .iter()
            .any(|d| d.starts_with("System environment.etc.x.text")));
        assert!(listed(&all)
            .iter()
            .any(|d| d.starts_with("Home programs.git.enable")));
        assert!(expected
            .iter()
            .any(|d| d == "Home nixpkgs.config.allowUnfree = true"));
        assert!(expected.iter().any(|d| d == "System services.b = 2"));
        assert!(listed(&all)
            .iter()
            .any(|d| d.starts_with("System systemd.services.c")));
        assert!(expected
            .iter()
            .any(|d| d == "System services.a.enable = true"));
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic]
    fn asking_for_a_path_outside_the_roots_is_caught() {
        let under = walked("{ environment.x = 1; }", Some(&["services"]));
        let _ = under.named(Context::System, "environment.x").count();
    }

    #[test]
    fn nested_dotted_and_mixed() {
        let yes = vec!["\"yes\"".to_string()];
        assert_eq!(
            system(r#"{ services.openssh.settings.PermitRootLogin = "yes"; }"#),
            yes
        );
        assert_eq!(
            system(
                r#"{ services = { openssh = { settings = { PermitRootLogin = "yes"; }; }; }; }"#
            ),
            yes
        );
        assert_eq!(
            system(
                r#"{ services.openssh = { enable = true; settings.PermitRootLogin = "yes"; }; }"#
            ),
            yes
        );
        assert_eq!(
            system(r#"{ "services".openssh.settings = { "PermitRootLogin" = "yes"; }; }"#),
            yes
        );
    }

    #[test]
    fn through_every_wrapper_however_spelled() {
        let cases = [
            r#"{ lib, ... }: { services.openssh.settings.PermitRootLogin = lib.mkForce "yes"; }"#,
            r#"{ lib, ... }: with lib; { services.openssh.settings.PermitRootLogin = mkDefault "yes"; }"#,
            r#"{ lib, ... }: let inherit (lib) mkForce; in { services.openssh.settings.PermitRootLogin = mkForce "yes"; }"#,
            r#"{ lib, ... }: { services.openssh.settings.PermitRootLogin = lib.mkOverride 50 "yes"; }"#,
            r#"{ lib, ... }: { services.openssh.settings.PermitRootLogin = lib.modules.mkOrder 500 ("yes"); }"#,
            r#"{ lib, ... }: { services.openssh.settings = lib.mkBefore { PermitRootLogin = "yes"; }; }"#,
            r#"{ lib, ... }: { services.openssh = lib.mkMerge [ { enable = true; } { settings.PermitRootLogin = lib.mkAfter "yes"; } ]; }"#,
            r#"{ pkgs, ... }: { services.openssh.settings.PermitRootLogin = pkgs.lib.mkForce "yes"; }"#,
        ];
        for case in cases {
            assert_eq!(system(case), vec!["\"yes\"".to_string()], "{case}");
        }
        assert_eq!(
            system(
                r#"{ config, lib, ... }: { services.openssh = lib.mkIf config.x.enable { settings.PermitRootLogin = "yes"; }; }"#
            ),
            vec!["?\"yes\"".to_string()]
        );
    }

    #[test]
    fn not_wrappers_when_the_name_is_something_else() {
        // A local `mkForce` is not lib's: its result is no known value.
        assert!(system(
            r#"let mkForce = x: { }; in { services.openssh.settings = mkForce { PermitRootLogin = "yes"; }; }"#
        )
        .is_empty());
        // A function argument that is not `lib`.
        assert!(system(
            r#"l: { services.openssh.settings = l.mkForce { PermitRootLogin = "yes"; }; }"#
        )
        .is_empty());
    }

    #[test]
    fn module_shapes() {
        let yes = vec!["\"yes\"".to_string()];
        // `config` of a module that declares options.
        assert_eq!(
            system(
                r#"{ config, lib, ... }: {
                  options.x.enable = lib.mkEnableOption "x";
                  config = lib.mkIf config.x.enable { services.openssh.settings.PermitRootLogin = "yes"; };
                }"#
            ),
            vec!["?\"yes\"".to_string()]
        );
        assert_eq!(
            system(
                r#"{ config.services.openssh.settings.PermitRootLogin = "yes"; options = { }; }"#
            ),
            yes
        );
        // An option's declaration is no definition.
        assert!(system(
            r#"{ lib, ... }: { options.services.openssh.settings.PermitRootLogin = lib.mkOption { default = "yes"; }; }"#
        )
        .is_empty());
        // `let ... in`, and inline modules of `imports`.
        assert_eq!(
            system(
                r#"{ ... }: let v = "yes"; in { imports = [ ./hw.nix ({ ... }: { services.openssh.settings.PermitRootLogin = "yes"; }) ]; }"#
            ),
            yes
        );
        // The old name.
        let root = rnix::Root::parse(r#"{ services.openssh.permitRootLogin = "yes"; }"#).syntax();
        let model = SemanticModel::build(&root);
        let modules = Modules::of_file(
            &root,
            &root.text().to_string(),
            &Names::new(&root, &model),
            Context::System,
        );
        let found: Vec<_> = modules.named(Context::System, ROOT_LOGIN).collect();
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].renamed_from,
            Some("services.openssh.permitRootLogin")
        );
        assert_eq!(&root.text().to_string()[found[0].key], "permitRootLogin");
    }

    #[test]
    fn home_manager_inside_a_system_module_and_flakes() {
        let text = r#"{ lib, ... }: {
          home-manager.users.alice = { pkgs, ... }: { programs.git.enable = lib.mkForce true; };
          home-manager.sharedModules = [ { programs.git.userName = "a"; } ];
          programs.git.enable = false;
        }"#;
        assert_eq!(
            values(text, Context::Home, "programs.git.enable"),
            vec!["true"]
        );
        assert_eq!(
            values(text, Context::Home, "programs.git.userName"),
            vec!["\"a\""]
        );
        assert_eq!(
            values(text, Context::System, "programs.git.enable"),
            vec!["false"]
        );
        // A Home Manager file's own definitions are of Home Manager.
        let home = r#"{ pkgs, ... }: { programs.git.enable = true; }"#;
        let root = rnix::Root::parse(home).syntax();
        let model = SemanticModel::build(&root);
        let modules = Modules::of_file(
            &root,
            &root.text().to_string(),
            &Names::new(&root, &model),
            Context::Home,
        );
        assert_eq!(
            modules.named(Context::Home, "programs.git.enable").count(),
            1
        );
        assert_eq!(
            modules
                .named(Context::System, "programs.git.enable")
                .count(),
            0
        );

        let flake = r#"{
          inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
          outputs = { nixpkgs, home-manager, ... }: {
            nixosConfigurations.box = nixpkgs.lib.nixosSystem {
              system = "x86_64-linux";
              modules = [
                ./hardware.nix
                { services.openssh.settings.PermitRootLogin = "yes"; }
                home-manager.nixosModules.home-manager
                { home-manager.users.bob = { programs.git.enable = true; }; }
              ];
            };
            homeConfigurations.bob = home-manager.lib.homeManagerConfiguration {
              modules = [ ({ ... }: { programs.git.enable = false; }) ];
            };
          };
        }"#;
        assert_eq!(values(flake, Context::System, ROOT_LOGIN), vec!["\"yes\""]);
        assert_eq!(
            values(flake, Context::Home, "programs.git.enable"),
            vec!["true", "false"]
        );
        // A flake's own keys are not options.
        assert!(values(flake, Context::System, "inputs.nixpkgs.url").is_empty());
    }

    #[test]
    fn patterns_match_any_one_component() {
        let text = r#"{ users.users = { alice.extraGroups = [ "wheel" ]; bob = { extraGroups = [ ]; }; }; users.groups.x = { }; }"#;
        let root = rnix::Root::parse(text).syntax();
        let model = SemanticModel::build(&root);
        let modules = Modules::of_file(&root, text, &Names::new(&root, &model), Context::System);
        let found: Vec<String> = modules
            .matching(Context::System, "users.users.*.extraGroups")
            .map(|d| d.value.text().to_string())
            .collect();
        assert_eq!(found, ["[ \"wheel\" ]", "[ ]"]);
        // `users.groups.x = ...` defines `users.groups.x`, not `users.groups`.
        assert_eq!(modules.matching(Context::System, "users.*").count(), 1);
        // `users.users.bob` and `users.groups.x`; `alice.extraGroups` is
        // dotted, so `users.users.alice` has no definition of its own.
        assert_eq!(modules.matching(Context::System, "users.*.*").count(), 2);
    }

    #[test]
    fn sets_are_definitions_too_and_deep_text_ends() {
        let root = rnix::Root::parse(r#"{ services.openssh = { enable = true; }; }"#).syntax();
        let model = SemanticModel::build(&root);
        let modules = Modules::of_file(
            &root,
            &root.text().to_string(),
            &Names::new(&root, &model),
            Context::System,
        );
        let set: Vec<_> = modules.named(Context::System, "services.openssh").collect();
        assert!(set.len() == 1 && set[0].is_set());
        assert_eq!(
            modules
                .named(Context::System, "services.openssh.enable")
                .count(),
            1
        );

        let deep = format!("{}{}", "{ a = ".repeat(600), "1; }".repeat(600));
        let root = rnix::Root::parse(&deep).syntax();
        let model = SemanticModel::build(&root);
        let modules = Modules::of_file(
            &root,
            &root.text().to_string(),
            &Names::new(&root, &model),
            Context::System,
        );
        assert!(modules.definitions.len() <= MAX_DEPTH as usize + 1);
    }
}
