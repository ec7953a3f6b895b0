//! The SSH daemon: root login by password, password logins, X11.

use super::{replace, Cx};
use crate::analysis::modules::Context;
use crate::diagnostic::registry::*;
use crate::diagnostic::{Diagnostic, Severity};

pub(super) fn check(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    if (cx.on)(SSH_ROOT_LOGIN) {
        root_login(cx, found);
    }
    if (cx.on)(SSH_PASSWORD_AUTH) {
        password_auth(cx, found);
    }
}

fn root_login(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    let (modules, value) = (cx.modules(), &cx.value);
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

fn password_auth(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    let (modules, value) = (cx.modules(), &cx.value);
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
