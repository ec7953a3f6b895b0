//! Domain events: what a save costs, and how fast events reach a real
//! nats-server (publish throughput, outbox append and replay).
//! `cargo bench --bench events`; results in doc/benchmarks.md.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use cim_nix::config::NatsSettings;
use cim_nix::events::{DomainEvent, EventHub, FlakeDecl, SystemStamps};
use cim_nix::nats::outbox::{Outbox, StoredEvent};
use cim_nix::nats::publisher;
use support::nats::{stream_messages, NatsServer};

const HOME: &str = include_str!("../examples/home-manager/home.nix");

const FLAKE: &str = r#"{
  description = "workstation";
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";
    home-manager = {
      url = "github:nix-community/home-manager/release-24.05";
      inputs.nixpkgs.follows = "nixpkgs";
    };
    sops-nix.url = "github:Mic92/sops-nix";
  };
  outputs = { self, nixpkgs, home-manager, sops-nix }: {
    nixosConfigurations.box = nixpkgs.lib.nixosSystem {
      system = "x86_64-linux";
      modules = [ ./configuration.nix home-manager.nixosModules.home-manager sops-nix.nixosModules.sops ];
    };
  };
}
"#;

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    println!(
        "{name:<58} n={:<6} median {:>9.1} µs   p95 {:>9.1} µs",
        samples.len(),
        at(0.5).as_secs_f64() * 1e6,
        at(0.95).as_secs_f64() * 1e6
    );
}

/// What the events task does on a save once the worker has parsed the
/// file: read the model, diff against the last state, render the events
/// as the sink does.
fn save_path() {
    let home_b = HOME.replacen("enable = true;", "enable = false;", 1);
    assert_ne!(home_b, HOME, "the example changes");
    let flake_b = FLAKE.replace("    sops-nix.url = \"github:Mic92/sops-nix\";\n", "");
    for (name, a, b) in [
        ("home.nix (example)", HOME, home_b.as_str()),
        ("flake.nix", FLAKE, flake_b.as_str()),
    ] {
        let parses = [cim_nix::syntax::parse(a), cim_nix::syntax::parse(b)];
        let roots: Vec<_> = parses.iter().map(|p| p.syntax().unwrap()).collect();
        let mut hub = EventHub::default();
        let mut samples = Vec::new();
        let mut emitted = 0;
        for i in 0..2000 {
            let root = &roots[i % 2];
            let started = Instant::now();
            let events: Vec<DomainEvent> = if name == "flake.nix" {
                let model = cim_nix::flake::FlakeModel::from_tree(root).unwrap();
                hub.flake_saved(
                    "flake.nix",
                    FlakeDecl::from_model(&model),
                    &mut SystemStamps,
                )
            } else {
                let model = cim_nix::home::read(root, true);
                hub.home_saved("home.nix", model.state, &mut SystemStamps)
            };
            let rendered: Vec<(String, String)> = events
                .iter()
                .map(|e| (e.subject("nix"), e.body().to_string()))
                .collect();
            samples.push(started.elapsed());
            emitted += rendered.len();
        }
        assert!(emitted > 0);
        report(
            &format!("save path: model + diff + render, {name}"),
            samples,
        );
    }
}

fn event(i: usize) -> StoredEvent {
    let id = uuid::Uuid::now_v7().to_string();
    StoredEvent {
        subject: "nix.event.home.package_added".into(),
        headers: vec![("Nats-Msg-Id".into(), id.clone()), ("X-Event-ID".into(), id)],
        body: format!("{{\"schema\":1,\"event_type\":\"home.package_added\",\"data\":{{\"package\":\"p{i}\"}}}}"),
    }
}

fn wait_published(stats: &publisher::Stats, n: u64, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while stats.published.load(Ordering::Relaxed) < n {
        assert!(
            Instant::now() < deadline,
            "only {} of {n} published",
            stats.published.load(Ordering::Relaxed)
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn delivery() {
    const N: usize = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(&dir.path().join("js"));
    let settings = NatsSettings {
        url: Some(nats.url()),
        ..NatsSettings::default()
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();

    // Outbox append: batches of 5 events (a save), one fsync each.
    let mut outbox = Outbox::open(&dir.path().join("append"), usize::MAX).unwrap();
    let started = Instant::now();
    for batch in 0..400 {
        let events: Vec<StoredEvent> = (0..5).map(|i| event(batch * 5 + i)).collect();
        outbox.append(&events).unwrap();
    }
    let elapsed = started.elapsed();
    println!(
        "outbox append (fsync per save of 5 events)                 {:>9.0} events/s   {:>6.2} ms per save",
        2000.0 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / 400.0
    );
    drop(outbox);

    // Publish throughput: events emitted as they come, until all acked.
    let outbox = Outbox::open(&dir.path().join("live"), usize::MAX).unwrap();
    let sink = runtime.block_on(async {
        let sink = publisher::start(&settings, outbox);
        // Let it connect and set up the stream first.
        tokio::time::sleep(Duration::from_millis(500)).await;
        sink
    });
    let started = Instant::now();
    let hub_events: Vec<DomainEvent> = {
        let mut hub = EventHub::default();
        let mut out = Vec::new();
        let mut stamps = SystemStamps;
        for i in 0..N {
            let state = cim_nix::home::HomeState {
                packages: vec![format!("p{i}")],
                ..Default::default()
            };
            out.extend(hub.home_saved("home.nix", state, &mut stamps));
        }
        out
    };
    let prepared = started.elapsed();
    let started = Instant::now();
    for chunk in hub_events.chunks(10) {
        sink.emit(chunk);
    }
    wait_published(
        &sink.stats,
        hub_events.len() as u64,
        Duration::from_secs(120),
    );
    let elapsed = started.elapsed();
    println!(
        "publish to JetStream with acks (emit -> all acknowledged)   {:>9.0} events/s   ({} events, {:.1} s; diffing them took {:.0} ms)",
        hub_events.len() as f64 / elapsed.as_secs_f64(),
        hub_events.len(),
        elapsed.as_secs_f64(),
        prepared.as_secs_f64() * 1000.0
    );
    drop(sink);

    // Replay: an outbox filled while NATS was away, sent on start.
    let replay_dir = dir.path().join("replay");
    {
        let mut outbox = Outbox::open(&replay_dir, usize::MAX).unwrap();
        let events: Vec<StoredEvent> = (0..N).map(event).collect();
        outbox.append(&events).unwrap();
    }
    let before = stream_messages(&nats.url(), "NIX_EVENTS").len();
    let started = Instant::now();
    let outbox = Outbox::open(&replay_dir, usize::MAX).unwrap();
    let sink = runtime.block_on(async { publisher::start(&settings, outbox) });
    wait_published(&sink.stats, N as u64, Duration::from_secs(120));
    let elapsed = started.elapsed();
    println!(
        "outbox replay on start (connect + stream + publish + acks)  {:>9.0} events/s   ({N} events, {:.2} s)",
        N as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    let after = stream_messages(&nats.url(), "NIX_EVENTS").len();
    assert_eq!(after - before, N, "every replayed event stored once");
}

fn main() {
    // `cargo test --benches` runs benches with `--bench` absent: stay quick.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    save_path();
    delivery();
}
