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
    "wheelNeedsPassword",
    "noPass",
    "NOPASSWD",
    "autologinUser",
    "autoLogin",
    "extraGroups",
    "assword",
    "allowNullPassword",
];

pub fn check(
    root: &SyntaxNode,
    text: &str,
    model: &SemanticModel,
    on: &(dyn Fn(&str) -> bool + Sync),
) -> Vec<Diagnostic> {
    let rules = [
        SSH_ROOT_LOGIN,
        SSH_PASSWORD_AUTH,
        FIREWALL_OFF,
        BOOT_EDITOR,
        SUDO_NOPASSWD,
        AUTOLOGIN_ROOT,
        FIREWALL_SENSITIVE_PORT,
        ROOT_EQUIVALENT_GROUP,
        EMPTY_PASSWORD,
    ];
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
    if on(SUDO_NOPASSWD) {
        sudo_nopasswd(&modules, &value, &mut found);
    }
    if on(AUTOLOGIN_ROOT) {
        autologin(&modules, &value, &mut found);
    }
    if on(FIREWALL_SENSITIVE_PORT) {
        sensitive_ports(&modules, &mut found);
    }
    if on(ROOT_EQUIVALENT_GROUP) {
        root_equivalent_groups(&modules, &mut found);
    }
    if on(EMPTY_PASSWORD) {
        empty_passwords(&modules, &value, &mut found);
    }
    found
}

fn sudo_nopasswd(modules: &Modules, value: &Value<'_>, found: &mut Vec<Diagnostic>) {
    for d in modules.named(Context::System, "security.sudo.wheelNeedsPassword") {
        if value.bool(d) == Some(false) {
            found.push(Diagnostic::new(
                SUDO_NOPASSWD,
                d.value.text_range(),
                "every member of `wheel` becomes root without a password: anything that \
                 runs as such a user (a browser exploit, a malicious build script) does \
                 too; keep the password",
            ));
        }
    }
    // `{ commands = [ { command = "ALL"; options = [ "NOPASSWD" ]; } ]; }`
    for d in modules.named(Context::System, "security.sudo.extraRules") {
        for rule in items(&d.value) {
            for command in member_of(&rule, "commands").iter().flat_map(items) {
                let all = member_of(&command, "command")
                    .and_then(|c| string_of(&c))
                    .is_some_and(|c| c == "ALL");
                let options = member_of(&command, "options");
                for option in options.iter().flat_map(items) {
                    if all && string_of(&option).as_deref() == Some("NOPASSWD") {
                        found.push(Diagnostic::new(
                            SUDO_NOPASSWD,
                            option.text_range(),
                            "NOPASSWD on ALL commands: these users become root without a \
                             password; allow only the commands that need it",
                        ));
                    }
                }
            }
        }
    }
    for d in modules.named(Context::System, "security.sudo.extraConfig") {
        let text = d.value.text().to_string();
        if d.value.kind() == NODE_STRING
            && (text.contains("NOPASSWD: ALL") || text.contains("NOPASSWD:ALL"))
        {
            found.push(Diagnostic::new(
                SUDO_NOPASSWD,
                d.value.text_range(),
                "a sudoers line gives NOPASSWD on ALL commands: those users become root \
                 without a password; allow only the commands that need it",
            ));
        }
    }
    for d in modules.named(Context::System, "security.doas.extraRules") {
        for rule in items(&d.value) {
            if let Some(no_pass) = member_of(&rule, "noPass") {
                if value.is_true(&no_pass) {
                    found.push(Diagnostic::new(
                        SUDO_NOPASSWD,
                        no_pass.text_range(),
                        "a doas rule without a password: its users become root with no \
                         password; drop `noPass` or limit `cmd`",
                    ));
                }
            }
        }
    }
}

fn autologin(modules: &Modules, value: &Value<'_>, found: &mut Vec<Diagnostic>) {
    for d in modules.named(Context::System, "services.getty.autologinUser") {
        if value.string(d).as_deref() == Some("root") {
            found.push(Diagnostic::new(
                AUTOLOGIN_ROOT,
                d.value.text_range(),
                "the console logs in as root by itself: anyone at the keyboard (or the \
                 serial line) is root; log in as a user, or leave it unset",
            ));
        }
    }
    for d in modules.named(Context::System, "services.displayManager.autoLogin.enable") {
        if value.bool(d) == Some(true) {
            let mut finding = Diagnostic::new(
                AUTOLOGIN_ROOT,
                d.value.text_range(),
                "the display manager logs a user in without a password: anyone at the \
                 machine gets their session; fine for a kiosk, not for a laptop",
            );
            finding.severity = Severity::Info;
            found.push(finding);
        }
    }
}

/// Ports of services that must not face a network unprotected.
const SENSITIVE_PORTS: &[(i64, &str)] = &[
    (2375, "the Docker API (root on the host, unauthenticated)"),
    (2376, "the Docker API (root on the host)"),
    (3306, "MySQL"),
    (5432, "PostgreSQL"),
    (5900, "VNC"),
    (6379, "Redis (no authentication by default)"),
    (9200, "Elasticsearch"),
    (11211, "memcached (no authentication)"),
    (27017, "MongoDB"),
];

fn sensitive_ports(modules: &Modules, found: &mut Vec<Diagnostic>) {
    // Only the list for every interface: opening a port on one named
    // interface (a VPN's `wg0`) is how it is done right.
    for d in modules.named(Context::System, "networking.firewall.allowedTCPPorts") {
        for port in items(&d.value) {
            let Some(number) = integer_of(&port) else {
                continue;
            };
            if let Some((_, what)) = SENSITIVE_PORTS.iter().find(|(p, _)| *p == number) {
                found.push(Diagnostic::new(
                    FIREWALL_SENSITIVE_PORT,
                    port.text_range(),
                    format!(
                        "port {number} is {what}: opened in the firewall, it faces every \
                         network the machine is on; reach it over a VPN or an SSH tunnel, or \
                         open it only on a trusted interface"
                    ),
                ));
            }
        }
    }
}

fn root_equivalent_groups(modules: &Modules, found: &mut Vec<Diagnostic>) {
    for d in modules.matching(Context::System, "users.users.*.extraGroups") {
        for group in items(&d.value) {
            let Some(name) = string_of(&group) else {
                continue;
            };
            if matches!(name.as_str(), "docker" | "libvirtd" | "lxd") {
                found.push(Diagnostic::new(
                    ROOT_EQUIVALENT_GROUP,
                    group.text_range(),
                    format!(
                        "the `{name}` group is root in all but name (it can start a \
                         container or VM that mounts `/`); use the rootless variant or \
                         grant it knowingly"
                    ),
                ));
            }
        }
    }
}

fn empty_passwords(modules: &Modules, value: &Value<'_>, found: &mut Vec<Diagnostic>) {
    for field in [
        "password",
        "hashedPassword",
        "initialPassword",
        "initialHashedPassword",
    ] {
        let pattern = format!("users.users.*.{field}");
        for d in modules.matching(Context::System, &pattern) {
            if value.string(d).as_deref() == Some("") {
                found.push(Diagnostic::new(
                    EMPTY_PASSWORD,
                    d.value.text_range(),
                    format!(
                        "an empty `{field}`: the account logs in with no password at all; \
                         set `hashedPasswordFile`, or lock it with `hashedPassword = \"!\"`"
                    ),
                ));
            }
        }
    }
    for d in modules.matching(Context::System, "security.pam.services.*.allowNullPassword") {
        if value.bool(d) == Some(true) {
            found.push(Diagnostic::new(
                EMPTY_PASSWORD,
                d.value.text_range(),
                "PAM accepts empty passwords for this service: any account without one \
                 logs in; leave it `false`",
            ));
        }
    }
}

/// The items of a list expression.
fn items(list: &SyntaxNode) -> Vec<SyntaxNode> {
    if list.kind() != NODE_LIST {
        return Vec::new();
    }
    list.children().collect()
}

/// The value of the plain key `name` in a set expression.
fn member_of(set: &SyntaxNode, name: &str) -> Option<SyntaxNode> {
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
fn string_of(node: &SyntaxNode) -> Option<String> {
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
fn integer_of(node: &SyntaxNode) -> Option<i64> {
    if node.kind() != NODE_LITERAL {
        return None;
    }
    let token = node.first_token().filter(|t| t.kind() == TOKEN_INTEGER)?;
    token.text().parse().ok()
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
        self.bool_of(&d.value)
    }

    fn is_true(&self, node: &SyntaxNode) -> bool {
        self.bool_of(node) == Some(true)
    }

    fn bool_of(&self, node: &SyntaxNode) -> Option<bool> {
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
    fn string(&self, d: &Definition) -> Option<String> {
        string_of(&d.value)
    }
}
