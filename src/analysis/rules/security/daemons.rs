//! Daemons that anyone who can reach the machine can use: the Docker API
//! on a TCP socket, Redis on every interface without a password,
//! PostgreSQL trusting network clients, databases opened in the firewall.

use rnix::SyntaxKind::*;

use super::{items, string_lines, string_of, Cx};
use crate::analysis::modules::{Context, Definition};
use crate::diagnostic::registry::*;
use crate::diagnostic::Diagnostic;

/// Services whose `openFirewall` exposes a database or a store of data
/// that expects a private network.
const DATABASES: &[&str] = &[
    "postgresql",
    "mysql",
    "mongodb",
    "redis",
    "elasticsearch",
    "opensearch",
    "memcached",
    "influxdb",
    "influxdb2",
    "couchdb",
    "clickhouse",
    "cassandra",
    "neo4j",
    "etcd",
];

pub(super) fn check(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    if !(cx.on)(EXPOSED_DAEMON) {
        return;
    }
    docker(cx, found);
    redis(cx, found);
    postgres(cx, found);
    open_firewall(cx, found);
}

/// Whether a Docker host address listens on every interface over TCP.
fn docker_on_network(address: &str) -> bool {
    let Some(rest) = address.trim().strip_prefix("tcp://") else {
        return false;
    };
    rest.starts_with("0.0.0.0") || rest.starts_with("[::]") || rest.starts_with(':')
}

fn docker(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    let mut exposed = Vec::new();
    let lists = cx
        .modules()
        .named(Context::System, "virtualisation.docker.listenOptions")
        .chain(cx.modules().named(
            Context::System,
            "virtualisation.docker.daemon.settings.hosts",
        ));
    for d in lists {
        let values = if d.value.kind() == NODE_LIST {
            items(&d.value)
        } else {
            vec![d.value.clone()]
        };
        for item in values {
            if string_of(&item).is_some_and(|s| docker_on_network(&s)) {
                exposed.push(item.text_range());
            }
        }
    }
    for d in cx
        .modules()
        .named(Context::System, "virtualisation.docker.extraOptions")
    {
        for (line, range) in string_lines(&d.value) {
            let on_network = line
                .split(|c: char| c.is_whitespace() || c == '=')
                .any(docker_on_network);
            if on_network {
                exposed.push(range);
            }
        }
    }
    // With `tlsverify` only clients with a certificate get in (the text is
    // searched only when there is something to report).
    if !exposed.is_empty() && !cx.text.contains("tlsverify") {
        found.extend(exposed.into_iter().map(docker_finding));
    }
}

fn docker_finding(range: rowan::TextRange) -> Diagnostic {
    Diagnostic::new(
        EXPOSED_DAEMON,
        range,
        "the Docker API listens on every interface without TLS: whoever reaches the port \
         runs containers as root on this machine; use the Unix socket (or TLS client \
         certificates on a private address)",
    )
}

/// Whether a Redis `bind` value listens on every interface.
fn redis_everywhere(cx: &Cx<'_>, d: &Definition) -> bool {
    if cx.value.is_null(&d.value) {
        return true;
    }
    string_of(&d.value).is_some_and(|s| {
        s.split_whitespace()
            .any(|a| matches!(a.trim_start_matches('-'), "0.0.0.0" | "::" | "*" | "::*"))
    })
}

fn redis(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    let modules = cx.modules();
    let binds = modules
        .matching(Context::System, "services.redis.servers.*.bind")
        .chain(modules.matching(Context::System, "services.redis.servers.*.settings.bind"));
    for d in binds {
        let server = &d.path[3];
        let protected = modules
            .matching(Context::System, "services.redis.servers.*.requirePassFile")
            .chain(modules.matching(Context::System, "services.redis.servers.*.requirePass"))
            .any(|p| &p.path[3] == server);
        if redis_everywhere(cx, d) && !protected {
            found.push(redis_finding(d));
        }
    }
    // Before NixOS 21.11 there was one server, `services.redis`.
    for d in modules.named(Context::System, "services.redis.bind") {
        let protected = modules
            .named(Context::System, "services.redis.requirePassFile")
            .chain(modules.named(Context::System, "services.redis.requirePass"))
            .next()
            .is_some();
        if redis_everywhere(cx, d) && !protected {
            found.push(redis_finding(d));
        }
    }
}

fn redis_finding(d: &Definition) -> Diagnostic {
    Diagnostic::new(
        EXPOSED_DAEMON,
        d.value.text_range(),
        "Redis listens on every interface without a password: whoever reaches the port \
         reads and writes all its data (and can often run code); bind it to 127.0.0.1 or \
         set `requirePassFile`",
    )
}

/// `host ... trust` lines of `services.postgresql.authentication` for
/// addresses beyond this machine.
fn postgres(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    for d in cx
        .modules()
        .named(Context::System, "services.postgresql.authentication")
    {
        for (line, range) in string_lines(&d.value) {
            if let Some(address) = trusted_network(&line) {
                found.push(Diagnostic::new(
                    EXPOSED_DAEMON,
                    range,
                    format!(
                        "PostgreSQL trusts every connection from `{address}` without a \
                         password: anyone there can log in as any role, the superuser \
                         included; use `scram-sha-256`"
                    ),
                ));
            }
        }
    }
}

/// The address of a `pg_hba.conf` line that trusts clients on the
/// network (not this machine).
fn trusted_network(line: &str) -> Option<String> {
    let line = line.split('#').next().unwrap_or("");
    let fields: Vec<&str> = line.split_whitespace().collect();
    let kind = *fields.first()?;
    if !kind.starts_with("host") {
        return None;
    }
    let address = *fields.get(3)?;
    // An address can be followed by a separate netmask.
    let looks_like_mask = |f: &str| f.chars().next().is_some_and(|c| c.is_ascii_digit());
    let method_at = if fields.get(4).is_some_and(|f| looks_like_mask(f)) {
        5
    } else {
        4
    };
    if *fields.get(method_at)? != "trust" {
        return None;
    }
    let local = address.starts_with("127.")
        || address.starts_with("::1/")
        || address == "::1"
        || matches!(address, "localhost" | "samehost");
    (!local).then(|| address.to_string())
}

fn open_firewall(cx: &Cx<'_>, found: &mut Vec<Diagnostic>) {
    let modules = cx.modules();
    let defs = modules
        .matching(Context::System, "services.*.openFirewall")
        .chain(modules.matching(Context::System, "services.redis.servers.*.openFirewall"));
    for d in defs {
        let service = d.path[1].as_str();
        if !DATABASES.contains(&service) || cx.value.bool(d) != Some(true) {
            continue;
        }
        found.push(Diagnostic::new(
            EXPOSED_DAEMON,
            d.value.text_range(),
            format!(
                "`{service}` is opened to every network this machine is on: databases \
                 expect a private network; open the port on one interface \
                 (`networking.firewall.interfaces.<name>.allowedTCPPorts`) or reach it \
                 through a tunnel"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_hba_lines() {
        let trusted = |l: &str| trusted_network(l);
        assert_eq!(
            trusted("host all all 0.0.0.0/0 trust").as_deref(),
            Some("0.0.0.0/0")
        );
        assert_eq!(
            trusted("hostssl all all 10.0.0.0 255.0.0.0 trust").as_deref(),
            Some("10.0.0.0")
        );
        assert_eq!(trusted("host all all 127.0.0.1/32 trust"), None);
        assert_eq!(trusted("host all all ::1/128 trust"), None);
        assert_eq!(trusted("local all all trust"), None);
        assert_eq!(trusted("host all all 0.0.0.0/0 scram-sha-256"), None);
        assert_eq!(trusted("# host all all 0.0.0.0/0 trust"), None);
    }

    #[test]
    fn docker_addresses() {
        assert!(docker_on_network("tcp://0.0.0.0:2375"));
        assert!(docker_on_network("tcp://:2375"));
        assert!(docker_on_network("tcp://[::]:2375"));
        assert!(!docker_on_network("tcp://127.0.0.1:2375"));
        assert!(!docker_on_network("/run/docker.sock"));
    }
}
