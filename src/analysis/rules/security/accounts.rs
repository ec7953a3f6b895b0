//! Accounts and privilege: sudo and doas without a password, root
//! autologin, root-equivalent groups, empty passwords.

use super::{items, member_of, string_of, Cx};
use crate::analysis::modules::Context;
use crate::diagnostic::registry::*;
use crate::diagnostic::{Diagnostic, Severity};

pub(super) fn check(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    if (cx.on)(SUDO_NOPASSWD) {
        sudo_nopasswd(cx, found);
    }
    if (cx.on)(AUTOLOGIN_ROOT) {
        autologin(cx, found);
    }
    if (cx.on)(ROOT_EQUIVALENT_GROUP) {
        root_equivalent_groups(cx, found);
    }
    if (cx.on)(EMPTY_PASSWORD) {
        empty_passwords(cx, found);
    }
}

fn sudo_nopasswd(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    let (modules, value) = (cx.modules(), &cx.value);
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
        if d.value.kind() == rnix::SyntaxKind::NODE_STRING
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

fn autologin(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    let (modules, value) = (cx.modules(), &cx.value);
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

fn root_equivalent_groups(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    let modules = cx.modules();
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

fn empty_passwords(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    let (modules, value) = (cx.modules(), &cx.value);
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
