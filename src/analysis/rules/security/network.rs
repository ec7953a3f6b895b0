//! The firewall: off, or open for services that must not face a network.

use super::{integer_of, items, Cx};
use crate::analysis::modules::Context;
use crate::diagnostic::registry::*;
use crate::diagnostic::Diagnostic;

pub(super) fn check(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    if (cx.on)(FIREWALL_OFF) {
        firewall_off(cx, found);
    }
    if (cx.on)(FIREWALL_SENSITIVE_PORT) {
        sensitive_ports(cx, found);
    }
}

fn firewall_off(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for d in cx
        .modules()
        .named(Context::System, "networking.firewall.enable")
    {
        if cx.value.bool(d) == Some(false) {
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

fn sensitive_ports(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    let modules = cx.modules();
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
