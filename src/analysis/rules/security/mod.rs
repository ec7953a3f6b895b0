//! Security: NixOS settings that open a machine up, found through the
//! module model (`analysis::modules`), so each is caught however the
//! option is written. A finding points at the offending value.
//!
//! Fixes change what the machine does (a root login by password stops
//! working), so none is offered as the preferred one: `check --fix` never
//! applies them, an editor offers them.

mod accounts;
mod boot;
mod eval;
mod fetch;
mod network;
mod nix;
mod secrets;
mod ssh;

use rnix::{SyntaxKind, SyntaxNode};
use rowan::TextRange;

use SyntaxKind::*;

use crate::analysis::modules::{Context, Definition, Modules};
use crate::analysis::names::Names;
use crate::analysis::semantic::{Resolution, SemanticModel};
use crate::diagnostic::registry::*;
use crate::diagnostic::{Diagnostic, Fix};
use crate::syntax::TextEdit;

/// The option names the module rules read: a file that spells none of
/// them is not walked for option definitions.
const NEEDLES: &[&str] = &[
    "PermitRootLogin",
    "permitRootLogin",
    "PasswordAuthentication",
    "passwordAuthentication",
    "KbdInteractiveAuthentication",
    "kbdInteractiveAuthentication",
    "challengeResponseAuthentication",
    "PermitEmptyPasswords",
    "X11Forwarding",
    "forwardX11",
    "firewall",
    "editor",
    "wheelNeedsPassword",
    "noPass",
    "NOPASSWD",
    "autologinUser",
    "autoLogin",
    "extraGroups",
    "assword",
    "allowNullPassword",
    "kernelParams",
    "sysctl",
    "sandbox",
    "useSandbox",
    "trusted-users",
    "trustedUsers",
    "require-sigs",
    "requireSignedBinaryCaches",
    "accept-flake-config",
    "allowInsecurePredicate",
    "permittedInsecurePackages",
    "allowUnfree",
    "allowBroken",
    "allow-unsafe-native-code-during-evaluation",
    "extraOptions",
];

/// Every security rule of this folder.
const RULES: &[&str] = &[
    SSH_ROOT_LOGIN,
    SSH_PASSWORD_AUTH,
    FIREWALL_OFF,
    FIREWALL_SENSITIVE_PORT,
    BOOT_EDITOR,
    WEAK_KERNEL_PARAMS,
    SUDO_NOPASSWD,
    AUTOLOGIN_ROOT,
    ROOT_EQUIVALENT_GROUP,
    EMPTY_PASSWORD,
    SANDBOX_ESCAPE,
    NIX_TRUST,
    INSECURE_PACKAGES_ALLOWED,
    FETCH_NO_HASH,
    FETCH_UNPINNED_REF,
    WEAK_HASH,
    FAKE_HASH,
    IMPURE_EVAL,
    UNSAFE_NATIVE_EVAL,
    SECRET_IN_STORE,
    HASHED_PASSWORD_IN_STORE,
];

/// What every family reads: the file's option definitions (walked on
/// first use, and only when the text names an option some rule reads),
/// its literal values, and which rules are on.
pub(super) struct Cx<'a> {
    modules: std::cell::OnceCell<Modules>,
    names: &'a Names<'a>,
    pub value: Value<'a>,
    pub on: &'a (dyn Fn(&str) -> bool + Sync),
    pub root: &'a SyntaxNode,
    pub text: &'a str,
}

impl Cx<'_> {
    pub fn modules(&self) -> &Modules {
        self.modules.get_or_init(|| {
            if NEEDLES.iter().any(|n| self.text.contains(n)) {
                Modules::of_file(self.root, self.text, self.names, Context::System)
            } else {
                Modules::default()
            }
        })
    }
}

pub fn check(
    root: &SyntaxNode,
    text: &str,
    model: &SemanticModel,
    on: &(dyn Fn(&str) -> bool + Sync),
) -> Vec<Diagnostic> {
    if !RULES.iter().any(|r| on(r)) {
        return Vec::new();
    }
    let names = Names::new(root, model);
    let cx = Cx {
        modules: std::cell::OnceCell::new(),
        names: &names,
        value: Value { model },
        on,
        root,
        text,
    };
    let mut found = Vec::new();
    ssh::check(&cx, &mut found);
    network::check(&cx, &mut found);
    boot::check(&cx, &mut found);
    accounts::check(&cx, &mut found);
    nix::check(&cx, &mut found);
    fetch::check(&cx, &names, &mut found);
    eval::check(&cx, &names, &mut found);
    secrets::check(&cx, &mut found);
    found
}

/// The items of a list expression.
pub(super) fn items(list: &SyntaxNode) -> Vec<SyntaxNode> {
    if list.kind() != NODE_LIST {
        return Vec::new();
    }
    list.children().collect()
}

/// The value of the plain key `name` in a set expression.
pub(super) fn member_of(set: &SyntaxNode, name: &str) -> Option<SyntaxNode> {
    if set.kind() != NODE_ATTR_SET {
        return None;
    }
    set.children()
        .filter(|m| m.kind() == NODE_ATTRPATH_VALUE)
        .find(|m| {
            m.first_child().is_some_and(|path| {
                path.children().count() == 1
                    && path
                        .first_child()
                        .and_then(|a| crate::analysis::semantic::static_attr_name(&a))
                        .is_some_and(|n| n == name)
            })
        })
        .and_then(|m| m.last_child())
}

/// The text of a string literal without interpolations.
pub(super) fn string_of(node: &SyntaxNode) -> Option<String> {
    if node.kind() != NODE_STRING {
        return None;
    }
    let mut out = String::new();
    for part in node.children_with_tokens() {
        match part.kind() {
            TOKEN_STRING_CONTENT => out.push_str(part.as_token()?.text()),
            TOKEN_STRING_START | TOKEN_STRING_END => {}
            _ => return None,
        }
    }
    Some(out)
}

/// The value of an integer literal.
pub(super) fn integer_of(node: &SyntaxNode) -> Option<i64> {
    if node.kind() != NODE_LITERAL {
        return None;
    }
    let token = node.first_token().filter(|t| t.kind() == TOKEN_INTEGER)?;
    token.text().parse().ok()
}

/// A fix that replaces the definition's value, offered but not preferred.
pub(super) fn replace(d: &Definition, with: &str, title: &str) -> Fix {
    Fix {
        title: title.to_string(),
        edits: vec![TextEdit::replace(d.value.text_range(), with.to_string())],
        preferred: false,
    }
}

/// Literal values, as the semantic model sees their names.
pub(super) struct Value<'a> {
    model: &'a SemanticModel,
}

impl Value<'_> {
    /// `true` or `false`, when the value is one of them (and the name is
    /// the builtin, not a local binding).
    pub fn bool(&self, d: &Definition) -> Option<bool> {
        self.bool_of(&d.value)
    }

    pub fn is_true(&self, node: &SyntaxNode) -> bool {
        self.bool_of(node) == Some(true)
    }

    pub fn bool_of(&self, node: &SyntaxNode) -> Option<bool> {
        if node.kind() != NODE_IDENT {
            return None;
        }
        let range: TextRange = node.text_range();
        let at = self
            .model
            .refs
            .partition_point(|r| r.range.start() < range.start());
        let r = self.model.refs.get(at).filter(|r| r.range == range)?;
        if r.resolution != Resolution::Builtin {
            return None;
        }
        match node.text().to_string().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    /// The text of a string value without interpolations.
    pub fn string(&self, d: &Definition) -> Option<String> {
        string_of(&d.value)
    }
}
