//! Domain events, pure (doc/events.md): the state of each aggregate (a
//! flake, a Home Manager configuration) last seen in good shape, the
//! semantic diff against it, and the identity chain that links the events
//! of one editing session. No I/O and no NATS: [`crate::nats`] delivers
//! what [`EventHub`] produces, the server feeds it.

pub mod diff;

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};
use uuid::Uuid;

pub use diff::{Change, FlakeDecl, LockedInput};

use crate::home::HomeState;

/// Version of the event body's shape; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateKind {
    Flake,
    Home,
}

impl AggregateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateKind::Flake => "flake",
            AggregateKind::Home => "home",
        }
    }
}

/// An aggregate: its kind and its workspace-relative path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Aggregate {
    pub kind: AggregateKind,
    pub path: String,
}

impl Aggregate {
    /// UUID v5 (URL namespace) of the workspace-relative path: the same
    /// file has the same id on every machine and after every restart.
    pub fn id(&self) -> Uuid {
        Uuid::new_v5(&Uuid::NAMESPACE_URL, self.path.as_bytes())
    }
}

/// One event, ready to be serialised and published.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainEvent {
    pub event_id: Uuid,
    /// `flake.input_added`: the aggregate kind, a dot, the action.
    pub event_type: String,
    pub occurred_at_ms: i64,
    pub aggregate: Aggregate,
    pub correlation_id: Uuid,
    pub causation_id: Uuid,
    pub data: Value,
}

impl DomainEvent {
    /// `{prefix}.event.{aggregate}.{action}`.
    pub fn subject(&self, prefix: &str) -> String {
        format!("{prefix}.event.{}", self.event_type)
    }

    pub fn body(&self) -> Value {
        json!({
            "schema": SCHEMA_VERSION,
            "event_id": self.event_id.to_string(),
            "event_type": self.event_type,
            "occurred_at": crate::timefmt::rfc3339(self.occurred_at_ms),
            "aggregate": {
                "type": self.aggregate.kind.as_str(),
                "id": self.aggregate.id().to_string(),
                "path": self.aggregate.path,
            },
            "identity": {
                "message_id": self.event_id.to_string(),
                "correlation_id": self.correlation_id.to_string(),
                "causation_id": self.causation_id.to_string(),
            },
            "data": self.data,
        })
    }

    /// The NATS headers of events.md; `Nats-Msg-Id` lets JetStream drop a
    /// re-sent event.
    pub fn headers(&self, prefix: &str) -> Vec<(&'static str, String)> {
        vec![
            ("Nats-Msg-Id", self.event_id.to_string()),
            ("X-Event-ID", self.event_id.to_string()),
            ("X-Event-Type", self.event_type.clone()),
            ("X-Correlation-ID", self.correlation_id.to_string()),
            ("X-Causation-ID", self.causation_id.to_string()),
            ("X-Aggregate-ID", self.aggregate.id().to_string()),
            ("X-Aggregate-Type", self.aggregate.kind.as_str().to_string()),
            ("X-Timestamp", crate::timefmt::rfc3339(self.occurred_at_ms)),
            ("X-Domain", prefix.to_string()),
        ]
    }
}

/// The identity chain of one aggregate's editing session.
#[derive(Debug, Clone, Copy)]
struct Chain {
    correlation: Uuid,
    last: Uuid,
}

/// Baselines and sessions of every aggregate the server has seen. The
/// caller passes the clock and the id source, so this stays pure.
#[derive(Default)]
pub struct EventHub {
    flakes: HashMap<String, FlakeDecl>,
    locks: HashMap<String, BTreeMap<String, LockedInput>>,
    homes: HashMap<String, HomeState>,
    sessions: HashMap<Aggregate, Chain>,
    /// `events.emitObserved`: the first state seen is published in full.
    pub emit_observed: bool,
}

/// What identifies and dates new events.
pub trait Stamps {
    fn now_ms(&mut self) -> i64;
    /// A fresh, time-ordered id (UUID v7 in production).
    fn new_id(&mut self) -> Uuid;
}

/// The production clock and ids.
pub struct SystemStamps;

impl Stamps for SystemStamps {
    fn now_ms(&mut self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }

    fn new_id(&mut self) -> Uuid {
        Uuid::now_v7()
    }
}

impl EventHub {
    /// A good state of flake.nix at `path`.
    pub fn flake_saved(
        &mut self,
        path: &str,
        decl: FlakeDecl,
        stamps: &mut dyn Stamps,
    ) -> Vec<DomainEvent> {
        let changes = match self.flakes.insert(path.to_string(), decl.clone()) {
            Some(old) => diff::flake_changes(&old, &decl),
            None if self.emit_observed => vec![Change {
                event_type: "flake.observed",
                data: json!({"state": decl}),
            }],
            None => Vec::new(),
        };
        self.stamp(aggregate(AggregateKind::Flake, path), changes, stamps)
    }

    /// A readable flake.lock for the flake at `path` (the flake.nix path).
    pub fn lock_changed(
        &mut self,
        path: &str,
        lock: BTreeMap<String, LockedInput>,
        stamps: &mut dyn Stamps,
    ) -> Vec<DomainEvent> {
        let changes = match self.locks.insert(path.to_string(), lock.clone()) {
            Some(old) => diff::lock_changes(&old, &lock),
            None if self.emit_observed => vec![Change {
                event_type: "flake.lock_observed",
                data: json!({"inputs": lock}),
            }],
            None => Vec::new(),
        };
        self.stamp(aggregate(AggregateKind::Flake, path), changes, stamps)
    }

    /// A good state of the Home Manager configuration at `path`.
    pub fn home_saved(
        &mut self,
        path: &str,
        state: HomeState,
        stamps: &mut dyn Stamps,
    ) -> Vec<DomainEvent> {
        let changes = match self.homes.insert(path.to_string(), state.clone()) {
            Some(old) => diff::home_changes(&old, &state),
            None if self.emit_observed => vec![Change {
                event_type: "home.observed",
                data: home_observed(&state),
            }],
            None => Vec::new(),
        };
        self.stamp(aggregate(AggregateKind::Home, path), changes, stamps)
    }

    /// A dotfile became typed options in the Home Manager file at `path`:
    /// `program` (`git`), the dotfile it came from and the file Home
    /// Manager now writes (below `~`).
    pub fn dotfile_migrated(
        &mut self,
        path: &str,
        program: &str,
        source: &str,
        target: &str,
        stamps: &mut dyn Stamps,
    ) -> Vec<DomainEvent> {
        let change = Change {
            event_type: "home.dotfile_migrated",
            data: serde_json::json!({ "program": program, "source": source, "target": target }),
        };
        self.stamp(aggregate(AggregateKind::Home, path), vec![change], stamps)
    }

    /// The editing session of the aggregates at `path` ends (the document
    /// was closed): the next event starts a new chain.
    pub fn end_session(&mut self, path: &str) {
        self.sessions.retain(|a, _| a.path != path);
    }

    fn stamp(
        &mut self,
        aggregate: Aggregate,
        changes: Vec<Change>,
        stamps: &mut dyn Stamps,
    ) -> Vec<DomainEvent> {
        let mut events = Vec::with_capacity(changes.len());
        for change in changes {
            let id = stamps.new_id();
            let chain = self.sessions.entry(aggregate.clone()).or_insert(Chain {
                correlation: id,
                last: id,
            });
            let causation = chain.last;
            chain.last = id;
            events.push(DomainEvent {
                event_id: id,
                event_type: change.event_type.to_string(),
                occurred_at_ms: stamps.now_ms(),
                aggregate: aggregate.clone(),
                correlation_id: chain.correlation,
                causation_id: causation,
                data: change.data,
            });
        }
        events
    }
}

fn aggregate(kind: AggregateKind, path: &str) -> Aggregate {
    Aggregate {
        kind,
        path: path.to_string(),
    }
}

/// The full state of a Home Manager configuration, without values.
fn home_observed(state: &HomeState) -> Value {
    let units = |units: &BTreeMap<String, crate::home::Unit>| -> Value {
        units
            .iter()
            .map(|(name, u)| (name.clone(), json!({"enabled": u.enabled, "keys": u.keys})))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    json!({
        "state_version": state.state_version,
        "programs": units(&state.programs),
        "services": units(&state.services),
        "packages": state.packages.iter().map(|p| crate::home::package_label(p)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids 1, 2, 3, ... and a clock that ticks a millisecond per call.
    pub struct Counting(u128, i64);

    impl Stamps for Counting {
        fn now_ms(&mut self) -> i64 {
            self.1 += 1;
            self.1
        }
        fn new_id(&mut self) -> Uuid {
            self.0 += 1;
            Uuid::from_u128(self.0)
        }
    }

    fn decl(text: &str) -> FlakeDecl {
        let parse = rnix::Root::parse(text);
        FlakeDecl::from_model(&crate::flake::FlakeModel::from_tree(&parse.syntax()).unwrap())
    }

    #[test]
    fn first_state_is_the_baseline_and_events_chain() {
        let mut hub = EventHub::default();
        let mut stamps = Counting(0, 1_700_000_000_000);
        let v1 = decl(r#"{ inputs.a.url = "github:o/a"; outputs = _: { }; }"#);
        assert!(hub.flake_saved("flake.nix", v1, &mut stamps).is_empty());
        let v2 = decl(
            r#"{ inputs.a.url = "github:o/a"; inputs.b.url = "github:o/b"; inputs.c.url = "github:o/c"; outputs = _: { }; }"#,
        );
        let events = hub.flake_saved("flake.nix", v2, &mut stamps);
        assert_eq!(events.len(), 2);
        let (first, second) = (&events[0], &events[1]);
        assert_eq!(
            first.correlation_id, first.event_id,
            "a session's first event is its root"
        );
        assert_eq!(first.causation_id, first.event_id);
        assert_eq!(second.correlation_id, first.event_id);
        assert_eq!(second.causation_id, first.event_id);
        assert_eq!(second.subject("nix"), "nix.event.flake.input_added");
        let v3 = decl(
            r#"{ inputs.a.url = "github:o/a"; inputs.b.url = "github:o/b"; outputs = _: { }; }"#,
        );
        let third = &hub.flake_saved("flake.nix", v3, &mut stamps)[0];
        assert_eq!(third.event_type, "flake.input_removed");
        assert_eq!(third.correlation_id, first.event_id);
        assert_eq!(third.causation_id, second.event_id);
        hub.end_session("flake.nix");
        let v4 = decl(r#"{ inputs.a.url = "github:o/a"; outputs = _: { }; }"#);
        let fourth = &hub.flake_saved("flake.nix", v4, &mut stamps)[0];
        assert_eq!(
            fourth.correlation_id, fourth.event_id,
            "a new session starts a new chain"
        );
    }

    #[test]
    fn body_and_headers_follow_events_md() {
        let mut hub = EventHub {
            emit_observed: true,
            ..EventHub::default()
        };
        let mut stamps = Counting(41, 1_716_948_383_000);
        let events = hub.flake_saved("sub/flake.nix", decl("{ outputs = _: { }; }"), &mut stamps);
        let event = &events[0];
        let body = event.body();
        assert_eq!(body["schema"], 1);
        assert_eq!(body["event_type"], "flake.observed");
        assert_eq!(body["occurred_at"], "2024-05-29T02:06:23.001Z");
        assert_eq!(body["aggregate"]["path"], "sub/flake.nix");
        assert_eq!(
            body["aggregate"]["id"],
            Uuid::new_v5(&Uuid::NAMESPACE_URL, b"sub/flake.nix").to_string()
        );
        assert_eq!(body["identity"]["message_id"], body["event_id"]);
        let headers: BTreeMap<_, _> = event.headers("acme").into_iter().collect();
        assert_eq!(headers["Nats-Msg-Id"], event.event_id.to_string());
        assert_eq!(headers["X-Domain"], "acme");
        assert_eq!(headers["X-Aggregate-Type"], "flake");
        assert_eq!(event.subject("acme"), "acme.event.flake.observed");
    }
}
