//! Where a file names Home Manager modules: the value of
//! `home-manager.users.<name>` and `home-manager.sharedModules` (NixOS,
//! nix-darwin), `homeManagerConfiguration { modules = [ ... ]; }` and
//! `homeModules.<name>` / `homeManagerModules.<name>` (flakes). A file named
//! there is a Home Manager module whatever its own text looks like: the
//! strongest detection signal (home-manager.md §6), read from what the
//! project says rather than from where the file lies.

use rnix::ast::{self, Expr};
use rnix::{SyntaxKind, SyntaxNode};
use rowan::ast::AstNode;

use crate::syntax::read::{self, MAX_READ_DEPTH};

/// Words without which a file names no Home Manager module: a file that
/// spells none is not read for the modules it names.
pub static NAMING_WORDS: crate::analysis::any_word::AnyWord =
    crate::analysis::any_word::AnyWord::new(&[
        "home-manager",
        "homeManagerConfiguration",
        "homeModules",
        "homeManagerModules",
    ]);

/// The path literals (as written: `./home.nix`) that `root` puts where
/// Home Manager modules go.
pub fn home_module_paths(root: &SyntaxNode) -> Vec<String> {
    let mut out = Vec::new();
    for node in root.descendants() {
        match node.kind() {
            SyntaxKind::NODE_ATTRPATH_VALUE => {
                let Some(entry) = ast::AttrpathValue::cast(node.clone()) else {
                    continue;
                };
                let Some(path) = full_path(&entry) else {
                    continue;
                };
                let Some(value) = entry.value() else {
                    continue;
                };
                let p: Vec<&str> = path.iter().map(String::as_str).collect();
                match p.as_slice() {
                    [.., "home-manager", "users", _] => modules_in(&value, false, &mut out),
                    // `home-manager.users.ada = { imports = [ ./a.nix ]; }`
                    [.., "home-manager", "users", _, "imports"] => {
                        modules_in(&value, true, &mut out)
                    }
                    [.., "home-manager", "sharedModules"] => modules_in(&value, true, &mut out),
                    [.., "homeModules" | "homeManagerModules", _] => {
                        modules_in(&value, false, &mut out)
                    }
                    [.., "homeModules" | "homeManagerModules"] => {
                        if let Expr::AttrSet(set) = read::strip_parens(&value) {
                            for (_, module) in read::bindings(&set) {
                                modules_in(&module, false, &mut out);
                            }
                        }
                    }
                    _ => {}
                }
            }
            SyntaxKind::NODE_APPLY => {
                let Some(expr) = Expr::cast(node.clone()) else {
                    continue;
                };
                let Some((function, args)) = read::application(&expr) else {
                    continue;
                };
                if read::function_name(&function).as_deref() != Some("homeManagerConfiguration") {
                    continue;
                }
                // Only the outermost application of the call.
                if node
                    .parent()
                    .is_some_and(|p| p.kind() == SyntaxKind::NODE_APPLY)
                {
                    continue;
                }
                for arg in args {
                    if let Expr::AttrSet(set) = read::strip_parens(&arg) {
                        for (names, value) in read::bindings(&set) {
                            if names.len() == 1 && names[0].text == "modules" {
                                modules_in(&value, true, &mut out);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The modules `root` imports itself: its top-level `imports = [ ... ]`
/// (path literals and `import path`). They are modules of the same kind
/// as `root`: a Home Manager module's imports are Home Manager modules.
pub fn imported_paths(root: &SyntaxNode) -> Vec<String> {
    let mut out = Vec::new();
    for node in root.descendants() {
        let Some(entry) = ast::AttrpathValue::cast(node) else {
            continue;
        };
        if full_path(&entry).as_deref() != Some(&["imports".to_string()][..]) {
            continue;
        }
        if let Some(value) = entry.value() {
            modules_in(&value, true, &mut out);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The attribute path of `entry` from the outermost set it is nested in
/// (sets that are values of bindings); `None` past a dynamic name.
fn full_path(entry: &ast::AttrpathValue) -> Option<Vec<String>> {
    let mut parts: Vec<Vec<String>> = Vec::new();
    let mut current = Some(entry.clone());
    for _ in 0..MAX_READ_DEPTH {
        let Some(here) = current else { break };
        let names = read::attrpath_names(&here.attrpath()?)?;
        parts.push(names.into_iter().map(|n| n.text).collect());
        // The binding whose value is the set holding `here`.
        current = here
            .syntax()
            .parent()
            .filter(|p| p.kind() == SyntaxKind::NODE_ATTR_SET)
            .and_then(|set| set.parent())
            .and_then(ast::AttrpathValue::cast);
    }
    parts.reverse();
    Some(parts.concat())
}

/// A module value: a path, `import path`, or (with `list`) a list of them.
fn modules_in(value: &Expr, list: bool, out: &mut Vec<String>) {
    let value = read::strip_parens(value);
    match &value {
        Expr::List(items) if list => {
            for item in items.items() {
                modules_in(&item, false, out);
            }
        }
        Expr::PathRel(_) | Expr::PathAbs(_) | Expr::PathHome(_) => {
            out.push(value.syntax().text().to_string())
        }
        _ => {
            if let Some((function, args)) = read::application(&value) {
                if read::function_name(&function).as_deref() == Some("import") && args.len() == 1 {
                    modules_in(&args[0], false, out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(text: &str) -> Vec<String> {
        let parse = rnix::Root::parse(text);
        assert!(parse.errors().is_empty(), "{:?}", parse.errors());
        home_module_paths(&parse.syntax())
    }

    #[test]
    fn imports_of_a_module_and_of_a_users_module() {
        let text = "{ pkgs, ... }: { imports = [ ./git.nix (import ./shell) ]; home-manager.users.ada = { imports = [ ./ada/editor.nix ]; }; }";
        let parse = rnix::Root::parse(text);
        assert_eq!(imported_paths(&parse.syntax()), ["./git.nix", "./shell"]);
        assert_eq!(paths(text), ["./ada/editor.nix"]);
    }

    #[test]
    fn nixos_and_darwin_users() {
        assert_eq!(
            paths("{ home-manager.users.ada = import ./ada.nix; home-manager = { sharedModules = [ ./shared.nix ]; users.bob = ./bob/home.nix; }; }"),
            ["./ada.nix", "./bob/home.nix", "./shared.nix"]
        );
    }

    #[test]
    fn flakes() {
        let flake = r#"{
          outputs = { home-manager, nixpkgs, ... }: {
            homeConfigurations.ada = home-manager.lib.homeManagerConfiguration {
              pkgs = nixpkgs.legacyPackages.x86_64-linux;
              modules = [ ./home.nix ./modules/shell.nix { home.username = "ada"; } ];
            };
            homeManagerModules.default = ./modules/hm.nix;
            homeModules = { editor = import ./modules/editor.nix; };
            nixosModules.default = ./modules/nixos.nix;
          };
        }"#;
        assert_eq!(
            paths(flake),
            [
                "./home.nix",
                "./modules/editor.nix",
                "./modules/hm.nix",
                "./modules/shell.nix"
            ]
        );
    }

    #[test]
    fn other_modules_are_not_home_modules() {
        assert!(
            paths("{ imports = [ ./hardware.nix ]; users.users.ada.home = \"/home/ada\"; }")
                .is_empty()
        );
        assert!(paths("{ outputs = _: { nixosConfigurations.x = nixosSystem { modules = [ ./configuration.nix ]; }; }; }").is_empty());
    }
}
