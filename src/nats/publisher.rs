//! Delivery of domain events: a task that owns the outbox and the NATS
//! connection. The LSP side hands it events through a bounded channel and
//! never waits for it. Every event goes to the outbox first; the task
//! publishes the outbox in order, with JetStream acknowledgements, and
//! forgets an event only once NATS stored it. With plain NATS (no
//! JetStream) events are published without acknowledgement.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, context::PublishErrorKind, stream};
use async_nats::HeaderMap;
use tokio::sync::mpsc;

use super::outbox::{Outbox, StoredEvent};
use super::{connect, ConnectionState};
use crate::config::NatsSettings;
use crate::events::DomainEvent;

/// How many events are in flight before their acknowledgements are awaited.
const WINDOW: usize = 256;
/// How long an acknowledgement may take before the event is retried.
const ACK_TIMEOUT: Duration = Duration::from_secs(3);
/// Pause between attempts when NATS refuses (no stream, no JetStream yet).
const RETRY: Duration = Duration::from_secs(2);
/// Batches the LSP side may queue before it starts counting drops.
const QUEUE: usize = 4096;
/// How long JetStream remembers a message id to drop a re-sent event.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);

/// Counters, for logs and the `cim-nix/eventStatus` request.
#[derive(Default, Debug)]
pub struct Stats {
    pub queued: AtomicU64,
    pub published: AtomicU64,
    pub duplicates: AtomicU64,
    pub dropped: AtomicU64,
    pub pending: AtomicU64,
    pub failures: AtomicU64,
}

/// The LSP side's handle: cheap to clone, never blocks.
#[derive(Clone)]
pub struct EventSink {
    queue: mpsc::Sender<Command>,
    pub stats: Arc<Stats>,
    prefix: String,
}

enum Command {
    Publish(Vec<StoredEvent>),
    /// Write everything queued to the outbox, then answer.
    Flush(tokio::sync::oneshot::Sender<()>),
}

impl EventSink {
    /// Queues `events` for delivery. Returns at once; if the queue is full
    /// (the delivery task is stuck on the disk), the events are counted as
    /// dropped and logged as an error.
    pub fn emit(&self, events: &[DomainEvent]) {
        if events.is_empty() {
            return;
        }
        let stored: Vec<StoredEvent> = events
            .iter()
            .map(|e| StoredEvent {
                subject: e.subject(&self.prefix),
                headers: e
                    .headers(&self.prefix)
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
                body: e.body().to_string(),
            })
            .collect();
        let n = stored.len() as u64;
        match self.queue.try_send(Command::Publish(stored)) {
            Ok(()) => {
                self.stats.queued.fetch_add(n, Ordering::Relaxed);
            }
            Err(_) => {
                let total = self.stats.dropped.fetch_add(n, Ordering::Relaxed) + n;
                tracing::error!(
                    "event delivery is not keeping up: dropped {n} events ({total} since start)"
                );
            }
        }
    }

    /// Waits until everything emitted so far is in the outbox (on exit).
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.queue.send(Command::Flush(tx)).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(5), rx).await;
        }
    }
}

/// Opens the outbox and starts delivery to `settings.url`. Must run inside
/// a tokio runtime. Events already in the outbox are re-sent first.
pub fn start(settings: &NatsSettings, outbox: Outbox) -> EventSink {
    let (queue, commands) = mpsc::channel(QUEUE);
    let stats = Arc::new(Stats::default());
    stats
        .pending
        .store(outbox.pending() as u64, Ordering::Relaxed);
    let sink = EventSink {
        queue,
        stats: stats.clone(),
        prefix: settings.subject_prefix.clone(),
    };
    let settings = settings.clone();
    tokio::spawn(async move {
        Delivery {
            settings,
            outbox,
            outbox_dropped_seen: 0,
            stats,
            commands,
        }
        .run()
        .await
    });
    sink
}

struct Delivery {
    settings: NatsSettings,
    outbox: Outbox,
    /// The outbox's drop count already added to the stats.
    outbox_dropped_seen: u64,
    stats: Arc<Stats>,
    commands: mpsc::Receiver<Command>,
}

enum Mode {
    JetStream(Box<jetstream::Context>),
    Core,
}

impl Delivery {
    async fn run(mut self) {
        let (client, mut state) = match connect(&self.settings, "cim-nix events").await {
            Ok(connected) => connected,
            Err(e) => {
                tracing::error!(
                    "{e}; events stay in the outbox {}",
                    self.outbox.dir().display()
                );
                // Keep accepting events so none are lost; they wait on disk.
                while let Some(command) = self.commands.recv().await {
                    self.take(command);
                }
                return;
            }
        };
        let mut mode: Option<Mode> = None;
        loop {
            let connected = *state.borrow() == ConnectionState::Connected;
            if connected && mode.is_none() {
                mode = self.setup(&client).await;
            }
            if connected && self.outbox.pending() > 0 {
                if let Some(m) = &mode {
                    if let Err(why) = self.deliver(&client, m).await {
                        self.stats.failures.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(
                            "event delivery paused: {why}; {} events wait in the outbox",
                            self.outbox.pending()
                        );
                        if matches!(why, DeliveryError::NoStream) {
                            mode = None;
                        }
                        // Take new events while waiting, then try again.
                        let deadline = tokio::time::sleep(RETRY);
                        tokio::pin!(deadline);
                        loop {
                            tokio::select! {
                                _ = &mut deadline => break,
                                command = self.commands.recv() => match command {
                                    Some(c) => self.take(c),
                                    None => return,
                                },
                            }
                        }
                        continue;
                    }
                }
            }
            // Wait for new events, a change of connection, or a retry.
            let wait_retry = mode.is_none() && connected;
            tokio::select! {
                command = self.commands.recv() => match command {
                    Some(c) => self.take(c),
                    None => return,
                },
                changed = state.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    if *state.borrow() != ConnectionState::Connected {
                        tracing::info!("NATS disconnected; events wait in the outbox");
                        // The server may come back with (or without)
                        // JetStream: look again once connected.
                        mode = None;
                    }
                }
                _ = tokio::time::sleep(RETRY), if wait_retry => {}
            }
        }
    }

    fn take(&mut self, command: Command) {
        match command {
            Command::Publish(events) => {
                if let Err(e) = self.outbox.append(&events) {
                    let n = events.len() as u64;
                    let total = self.stats.dropped.fetch_add(n, Ordering::Relaxed) + n;
                    tracing::error!("{e}; {n} events lost ({total} since start)");
                }
                let newly = self.outbox.dropped - self.outbox_dropped_seen;
                self.outbox_dropped_seen = self.outbox.dropped;
                self.stats.dropped.fetch_add(newly, Ordering::Relaxed);
            }
            Command::Flush(done) => {
                let _ = done.send(());
            }
        }
        self.stats
            .pending
            .store(self.outbox.pending() as u64, Ordering::Relaxed);
    }

    /// Ensures the stream, or finds that the server has no JetStream.
    async fn setup(&self, client: &async_nats::Client) -> Option<Mode> {
        let js = jetstream::ContextBuilder::new()
            .timeout(ACK_TIMEOUT)
            .build(client.clone());
        let subjects = format!("{}.event.>", self.settings.subject_prefix);
        let config = stream::Config {
            name: self.settings.stream.clone(),
            subjects: vec![subjects.clone()],
            duplicate_window: DUPLICATE_WINDOW,
            ..Default::default()
        };
        match js.get_or_create_stream(config).await {
            Ok(mut stream) => {
                let covered = match stream.info().await {
                    Ok(info) => info.config.subjects.iter().any(|s| covers(s, &subjects)),
                    Err(_) => true,
                };
                if !covered {
                    tracing::error!(
                        "JetStream stream `{}` exists but does not take `{subjects}`; add the subject to it or set `nats.stream`",
                        self.settings.stream
                    );
                }
                Some(Mode::JetStream(Box::new(js)))
            }
            Err(e)
                if e.kind() == jetstream::context::CreateStreamErrorKind::JetStreamUnavailable =>
            {
                tracing::warn!(
                    "NATS has no JetStream: events are published without acknowledgement and can be lost while no one listens"
                );
                Some(Mode::Core)
            }
            Err(e) => {
                tracing::warn!(
                    "cannot set up the JetStream stream `{}`: {e}",
                    self.settings.stream
                );
                None
            }
        }
    }

    /// Publishes the outbox in order, a window at a time, and acknowledges
    /// each event NATS stored.
    async fn deliver(
        &mut self,
        client: &async_nats::Client,
        mode: &Mode,
    ) -> Result<(), DeliveryError> {
        while self.outbox.pending() > 0 {
            let batch: Vec<StoredEvent> = self.outbox.peek(WINDOW).cloned().collect();
            match mode {
                Mode::JetStream(js) => {
                    let mut acks = Vec::with_capacity(batch.len());
                    for event in &batch {
                        let ack = js
                            .publish_with_headers(
                                event.subject.clone(),
                                headers(event),
                                event.body.clone().into(),
                            )
                            .await
                            .map_err(|e| DeliveryError::Other(e.to_string()))?;
                        acks.push(ack);
                    }
                    let mut stored = 0;
                    let mut failure = None;
                    for ack in acks {
                        match ack.await {
                            Ok(ack) => {
                                if failure.is_none() {
                                    stored += 1;
                                    if ack.duplicate {
                                        self.stats.duplicates.fetch_add(1, Ordering::Relaxed);
                                    }
                                }
                            }
                            Err(e) => {
                                failure.get_or_insert(match e.kind() {
                                    PublishErrorKind::StreamNotFound => DeliveryError::NoStream,
                                    _ => DeliveryError::Other(e.to_string()),
                                });
                            }
                        }
                    }
                    self.acknowledge(stored);
                    if let Some(failure) = failure {
                        return Err(failure);
                    }
                }
                Mode::Core => {
                    for event in &batch {
                        client
                            .publish_with_headers(
                                event.subject.clone(),
                                headers(event),
                                event.body.clone().into(),
                            )
                            .await
                            .map_err(|e| DeliveryError::Other(e.to_string()))?;
                    }
                    client
                        .flush()
                        .await
                        .map_err(|e| DeliveryError::Other(e.to_string()))?;
                    self.acknowledge(batch.len());
                }
            }
            // New events queued meanwhile go to disk before the next window.
            while let Ok(command) = self.commands.try_recv() {
                self.take(command);
            }
        }
        Ok(())
    }

    fn acknowledge(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        if let Err(e) = self.outbox.acknowledge(n) {
            tracing::error!("{e}; delivered events may be sent again");
        }
        self.stats.published.fetch_add(n as u64, Ordering::Relaxed);
        self.stats
            .pending
            .store(self.outbox.pending() as u64, Ordering::Relaxed);
    }
}

enum DeliveryError {
    NoStream,
    Other(String),
}

impl std::fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeliveryError::NoStream => write!(f, "no JetStream stream takes the event subjects"),
            DeliveryError::Other(why) => write!(f, "{why}"),
        }
    }
}

fn headers(event: &StoredEvent) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in &event.headers {
        if k == "Nats-Msg-Id" {
            map.insert(async_nats::header::NATS_MESSAGE_ID, v.as_str());
        } else {
            map.insert(k.as_str(), v.as_str());
        }
    }
    map
}

/// Whether the stream subject `filter` takes every subject of `wanted`
/// (both may end in `>`).
fn covers(filter: &str, wanted: &str) -> bool {
    let f: Vec<&str> = filter.split('.').collect();
    let w: Vec<&str> = wanted.split('.').collect();
    for (i, token) in f.iter().enumerate() {
        match *token {
            ">" => return true,
            "*" if i < w.len() && w[i] != ">" => continue,
            t if i < w.len() && t == w[i] => continue,
            _ => return false,
        }
    }
    f.len() == w.len()
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn stream_subject_coverage() {
        assert!(covers("nix.event.>", "nix.event.>"));
        assert!(covers(">", "nix.event.>"));
        assert!(covers("nix.>", "nix.event.>"));
        assert!(!covers("nix.event.flake.*", "nix.event.>"));
        assert!(!covers("other.>", "nix.event.>"));
    }
}
