//! Security: NixOS settings that open a machine up, found through the
//! module model (`analysis::modules`), so each is caught however the
//! option is written. A finding points at the offending value.
//!
//! Fixes change what the machine does (a root login by password stops
//! working), so none is offered as the preferred one: `check --fix` never
//! applies them, an editor offers them.

use rnix::{SyntaxKind, SyntaxNode};
use rowan::TextRange;

use SyntaxKind::*;

use crate::analysis::modules::{Context, Definition, Modules};
use crate::analysis::names::Names;
use crate::analysis::semantic::{Resolution, SemanticModel};
use crate::diagnostic::registry::*;
use crate::diagnostic::{Diagnostic, Fix, Severity};
use crate::syntax::TextEdit;

/// The option names these rules read: a file that spells none of them is
/// not walked.
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
];

pub fn check(
    root: &SyntaxNode,
    text: &str,
    model: &SemanticModel,
    on: &(dyn Fn(&str) -> bool + Sync),
) -> Vec<Diagnostic> {
    let rules = [SSH_ROOT_LOGIN, SSH_PASSWORD_AUTH, FIREWALL_OFF, BOOT_EDITOR];
    if !rules.iter().any(|r| on(r)) || !NEEDLES.iter().any(|n| text.contains(n)) {
        return Vec::new();
    }
    let names = Names::new(root, model);
    let modules = Modules::of_file(root, text, &names, Context::System);
    let mut found = Vec::new();
    let value = Value { model };
    if on(SSH_ROOT_LOGIN) {
        ssh_root_login(&modules, &value, &mut found);
    }
    if on(SSH_PASSWORD_AUTH) {
        ssh_password_auth(&modules, &value, &mut found);
    }
    if on(FIREWALL_OFF) {
        for d in modules.named(Context::System, "networking.firewall.enable") {
            if value.bool(d) == Some(false) {
                found.push(Diagnostic::new(
                    FIREWALL_OFF,
                    d.value.text_range(),
                    "the firewall is off: every port a service listens on is open to the \
                     network; keep it on and open ports with \
                     `networking.firewall.allowedTCPPorts`",
                ));
            }
        }
    }
    if on(BOOT_EDITOR) {
        for d in modules.named(Context::System, "boot.loader.systemd-boot.editor") {
            if value.bool(d) == Some(true) {
                found.push(
                    Diagnostic::new(
                        BOOT_EDITOR,
                        d.value.text_range(),
                        "the boot menu's editor lets anyone at the console add \
                         `init=/bin/sh` to the kernel line and get a root shell; set it to \
                         `false`",
                    )
                    .with_fix(replace(d, "false", "Turn the boot editor off")),
                );
            }
        }
    }
    found
}

fn ssh_root_login(modules: &Modules, value: &Value<'_>, found: &mut Vec<Diagnostic>) {
    for d in modules.named(Context::System, "services.openssh.settings.PermitRootLogin") {
        if value.string(d).as_deref() == Some("yes") {
            found.push(
                Diagnostic::new(
                    SSH_ROOT_LOGIN,
                    d.value.text_range(),
                    "SSH lets root log in with a password: one guessed password is the \
                     whole machine; use \"prohibit-password\" (keys only) or \"no\"",
                )
                .with_fix(replace(
                    d,
                    "\"prohibit-password\"",
                    "Let root log in with keys only (\"prohibit-password\")",
                )),
            );
        }
    }
}

fn ssh_password_auth(modules: &Modules, value: &Value<'_>, found: &mut Vec<Diagnostic>) {
    let settings: [(&str, &str, Severity); 4] = [
        (
            "PasswordAuthentication",
            "SSH accepts passwords, which can be guessed from the network; log in with \
             keys and set it to `false`",
            Severity::Warning,
        ),
        (
            "KbdInteractiveAuthentication",
            "SSH accepts keyboard-interactive logins (passwords by another name); set it \
             to `false` and log in with keys",
            Severity::Warning,
        ),
        (
            "PermitEmptyPasswords",
            "SSH lets accounts with an empty password log in; set it to `false`",
            Severity::Warning,
        ),
        (
            "X11Forwarding",
            "SSH forwards X11: a compromised server can read the client's keyboard and \
             screen; turn it on per host in the client's config instead",
            Severity::Info,
        ),
    ];
    for (name, message, severity) in settings {
        let path = format!("services.openssh.settings.{name}");
        for d in modules.named(Context::System, &path) {
            if value.bool(d) == Some(true) {
                let mut finding = Diagnostic::new(SSH_PASSWORD_AUTH, d.value.text_range(), message)
                    .with_fix(replace(d, "false", &format!("Set {name} to false")));
                finding.severity = severity;
                found.push(finding);
            }
        }
    }
}

/// A fix that replaces the definition's value, offered but not preferred.
fn replace(d: &Definition, with: &str, title: &str) -> Fix {
    Fix {
        title: title.to_string(),
        edits: vec![TextEdit::replace(d.value.text_range(), with.to_string())],
        preferred: false,
    }
}

/// Literal values, as the semantic model sees their names.
struct Value<'a> {
    model: &'a SemanticModel,
}

impl Value<'_> {
    /// `true` or `false`, when the value is one of them (and the name is
    /// the builtin, not a local binding).
    fn bool(&self, d: &Definition) -> Option<bool> {
        if d.value.kind() != NODE_IDENT {
            return None;
        }
        let range: TextRange = d.value.text_range();
        let at = self
            .model
            .refs
            .partition_point(|r| r.range.start() < range.start());
        let r = self.model.refs.get(at).filter(|r| r.range == range)?;
        if r.resolution != Resolution::Builtin {
            return None;
        }
        match d.value.text().to_string().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    /// The text of a string without interpolations.
    fn string(&self, d: &Definition) -> Option<String> {
        if d.value.kind() != NODE_STRING {
            return None;
        }
        let mut out = String::new();
        for part in d.value.children_with_tokens() {
            match part.kind() {
                TOKEN_STRING_CONTENT => out.push_str(part.as_token()?.text()),
                TOKEN_STRING_START | TOKEN_STRING_END => {}
                _ => return None,
            }
        }
        Some(out)
    }
}
