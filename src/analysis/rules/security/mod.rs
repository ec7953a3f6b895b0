//! Security: NixOS settings that open a machine up, found through the
//! module model (`analysis::modules`), so each is caught however the
//! option is written. A finding points at the offending value.
//!
//! Fixes change what the machine does (a root login by password stops
//! working), so none is offered as the preferred one: `check --fix` never
//! applies them, an editor offers them.

mod accounts;
mod boot;
mod daemons;
mod eval;
mod fetch;
mod network;
mod nix;
mod secrets;
mod shell;
mod ssh;
mod tls;
mod urls;

pub use urls::insecure_scheme;

pub(super) use super::scan::*;
use crate::diagnostic::registry::*;
use crate::diagnostic::Diagnostic;
#[cfg(test)]
pub(super) use fetch::{ALSO_LOOKED_UP, CONTENT_FETCHERS, HASH_VALUE_KEYS};

/// Every security rule of this folder.
pub(super) const RULES: &[&str] = &[
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
    INSECURE_URL,
    TLS_VERIFY_OFF,
    SECRET_READFILE,
    EXPOSED_DAEMON,
    SILENCED_VULNERABILITIES,
    SHELL_INJECTION,
];

/// Every security finding of a file.
pub(super) fn check(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    ssh::check(cx, found);
    network::check(cx, found);
    boot::check(cx, found);
    accounts::check(cx, found);
    nix::check(cx, found);
    fetch::check(cx, cx.names, found);
    eval::check(cx, cx.names, found);
    secrets::check(cx, found);
    tls::check(cx, found);
    daemons::check(cx, found);
    shell::check(cx, found);
    urls::check(cx, found);
}
