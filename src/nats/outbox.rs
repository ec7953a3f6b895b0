//! The durable outbox: every event is appended here (and fsync'd) before
//! it is published, and stays until NATS acknowledged it. It survives NATS
//! outages and restarts of cim-nix; re-sent events carry the same
//! `Nats-Msg-Id`, so JetStream stores each once.
//!
//! Layout of the directory: `events.jsonl` (one event per line, append
//! only), `sent` (how many bytes of it are acknowledged) and `lock` (held
//! while a cim-nix process owns the directory). A second cim-nix process
//! uses `<dir>-<pid>`; whoever starts next adopts such orphans.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// An event as it is stored and published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub subject: String,
    pub headers: Vec<(String, String)>,
    /// The JSON body, serialised.
    pub body: String,
}

impl StoredEvent {
    pub fn message_id(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == "Nats-Msg-Id")
            .map(|(_, v)| v.as_str())
    }
}

pub struct Outbox {
    dir: PathBuf,
    log: File,
    /// Held for the life of the outbox: the OS releases it if we die.
    _lock: File,
    /// Bytes of `events.jsonl` already acknowledged.
    sent: u64,
    /// Bytes of `events.jsonl` in total.
    end: u64,
    /// Events not acknowledged yet, oldest first, with the offset where
    /// each one's line ends.
    pending: VecDeque<(StoredEvent, u64)>,
    max: usize,
    /// Events dropped because the outbox was full, since start.
    pub dropped: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("cannot use the event outbox {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> OutboxError + '_ {
    move |e| OutboxError::Io(path.to_path_buf(), e)
}

/// `$XDG_STATE_HOME/cim-nix/outbox`, else `~/.local/state/cim-nix/outbox`.
pub fn default_dir() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state"))
        })?;
    Some(state.join("cim-nix").join("outbox"))
}

impl Outbox {
    /// Opens (or creates) the outbox at `dir`, or at `<dir>-<pid>` when
    /// another process holds `dir`; adopts the events of orphaned
    /// `<dir>-*` directories.
    pub fn open(dir: &Path, max: usize) -> Result<Outbox, OutboxError> {
        let mut outbox = match Outbox::open_exact(dir, max)? {
            Some(outbox) => outbox,
            None => {
                let own = PathBuf::from(format!("{}-{}", dir.display(), std::process::id()));
                tracing::warn!(
                    "event outbox {} is in use by another cim-nix; using {}",
                    dir.display(),
                    own.display()
                );
                Outbox::open_exact(&own, max)?.ok_or_else(|| {
                    OutboxError::Io(
                        own.clone(),
                        std::io::Error::other("locked by another process"),
                    )
                })?
            }
        };
        outbox.adopt_orphans(dir)?;
        Ok(outbox)
    }

    fn open_exact(dir: &Path, max: usize) -> Result<Option<Outbox>, OutboxError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => return Err(OutboxError::Io(lock_path, e)),
        }
        let log_path = dir.join("events.jsonl");
        let mut log = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&log_path)
            .map_err(io(&log_path))?;
        let sent = std::fs::read_to_string(dir.join("sent"))
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(0);
        let mut outbox = Outbox {
            dir: dir.to_path_buf(),
            log: log.try_clone().map_err(io(&log_path))?,
            _lock: lock,
            sent: 0,
            end: 0,
            pending: VecDeque::new(),
            max: max.max(1),
            dropped: 0,
        };
        outbox.load(&mut log, sent)?;
        Ok(Some(outbox))
    }

    /// Reads the unacknowledged events from the log.
    fn load(&mut self, log: &mut File, sent: u64) -> Result<(), OutboxError> {
        let path = self.dir.join("events.jsonl");
        let len = log.metadata().map_err(io(&path))?.len();
        let sent = sent.min(len);
        log.seek(SeekFrom::Start(sent)).map_err(io(&path))?;
        let mut reader = BufReader::new(log);
        let mut offset = sent;
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader.read_line(&mut line).map_err(io(&path))?;
            if n == 0 {
                break;
            }
            offset += n as u64;
            if !line.ends_with('\n') {
                // A line cut short by a crash mid-append: never fsync'd, so
                // never acknowledged to anyone; drop it.
                tracing::warn!("event outbox: dropping a partly written last line");
                offset -= n as u64;
                self.log.set_len(offset).map_err(io(&path))?;
                break;
            }
            match serde_json::from_str::<StoredEvent>(line.trim_end()) {
                Ok(event) => self.pending.push_back((event, offset)),
                Err(e) => tracing::error!("event outbox: skipping an unreadable line: {e}"),
            }
        }
        self.sent = sent;
        self.end = offset;
        Ok(())
    }

    fn adopt_orphans(&mut self, dir: &Path) -> Result<(), OutboxError> {
        let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
            return Ok(());
        };
        let prefix = format!("{}-", name.to_string_lossy());
        let Ok(entries) = std::fs::read_dir(parent) else {
            return Ok(());
        };
        let mut orphans: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p != &self.dir)
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
            })
            .collect();
        orphans.sort();
        for orphan in orphans {
            let Ok(Some(other)) = Outbox::open_exact(&orphan, usize::MAX) else {
                continue; // still in use
            };
            let events: Vec<StoredEvent> = other.pending.iter().map(|(e, _)| e.clone()).collect();
            if !events.is_empty() {
                tracing::info!(
                    "event outbox: adopting {} events of {}",
                    events.len(),
                    orphan.display()
                );
                self.append(&events)?;
            }
            drop(other);
            let _ = std::fs::remove_dir_all(&orphan);
        }
        Ok(())
    }

    /// Appends `events` and syncs them to disk. When the outbox is full,
    /// the oldest events are dropped, loudly.
    pub fn append(&mut self, events: &[StoredEvent]) -> Result<(), OutboxError> {
        if events.is_empty() {
            return Ok(());
        }
        let path = self.dir.join("events.jsonl");
        let mut buf = Vec::new();
        let mut ends = Vec::with_capacity(events.len());
        for event in events {
            serde_json::to_writer(&mut buf, event)
                .map_err(|e| OutboxError::Io(path.clone(), e.into()))?;
            buf.push(b'\n');
            ends.push(self.end + buf.len() as u64);
        }
        self.log.write_all(&buf).map_err(io(&path))?;
        self.log.sync_data().map_err(io(&path))?;
        self.end += buf.len() as u64;
        for (event, end) in events.iter().zip(ends) {
            self.pending.push_back((event.clone(), end));
        }
        let excess = self.pending.len().saturating_sub(self.max);
        if excess > 0 {
            self.dropped += excess as u64;
            tracing::error!(
                "event outbox full ({} events, setting `events.outboxMax`): dropped the {excess} oldest; {} dropped since start",
                self.max,
                self.dropped
            );
            self.acknowledge(excess)?;
        }
        Ok(())
    }

    /// The oldest `n` unacknowledged events, in order.
    pub fn peek(&self, n: usize) -> impl Iterator<Item = &StoredEvent> {
        self.pending.iter().take(n).map(|(e, _)| e)
    }

    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Marks the oldest `n` events as delivered, and compacts the log
    /// once everything is.
    pub fn acknowledge(&mut self, n: usize) -> Result<(), OutboxError> {
        let n = n.min(self.pending.len());
        if n == 0 {
            return Ok(());
        }
        let end = self.pending[n - 1].1;
        self.pending.drain(..n);
        self.sent = end;
        if self.pending.is_empty() {
            let path = self.dir.join("events.jsonl");
            self.log.set_len(0).map_err(io(&path))?;
            self.log.sync_data().map_err(io(&path))?;
            self.sent = 0;
            self.end = 0;
        }
        self.write_sent()
    }

    fn write_sent(&self) -> Result<(), OutboxError> {
        let path = self.dir.join("sent");
        let tmp = self.dir.join("sent.tmp");
        std::fs::write(&tmp, self.sent.to_string()).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: u32) -> StoredEvent {
        StoredEvent {
            subject: format!("nix.event.flake.e{n}"),
            headers: vec![("Nats-Msg-Id".into(), format!("id-{n}"))],
            body: format!("{{\"n\":{n}}}"),
        }
    }

    fn ids(outbox: &Outbox) -> Vec<String> {
        outbox
            .peek(usize::MAX)
            .map(|e| e.message_id().unwrap_or("").to_string())
            .collect()
    }

    #[test]
    fn survives_a_restart_in_order_and_forgets_what_was_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox");
        {
            let mut outbox = Outbox::open(&path, 100).unwrap();
            outbox.append(&[event(1), event(2)]).unwrap();
            outbox.append(&[event(3)]).unwrap();
            outbox.acknowledge(1).unwrap();
        }
        let mut outbox = Outbox::open(&path, 100).unwrap();
        assert_eq!(ids(&outbox), ["id-2", "id-3"]);
        outbox.acknowledge(2).unwrap();
        assert_eq!(
            std::fs::metadata(path.join("events.jsonl")).unwrap().len(),
            0
        );
        drop(outbox);
        assert_eq!(Outbox::open(&path, 100).unwrap().pending(), 0);
    }

    #[test]
    fn a_torn_last_line_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox");
        {
            let mut outbox = Outbox::open(&path, 100).unwrap();
            outbox.append(&[event(1)]).unwrap();
        }
        let mut log = OpenOptions::new()
            .append(true)
            .open(path.join("events.jsonl"))
            .unwrap();
        log.write_all(b"{\"subject\":\"nix.ev").unwrap();
        drop(log);
        let mut outbox = Outbox::open(&path, 100).unwrap();
        assert_eq!(ids(&outbox), ["id-1"]);
        outbox.append(&[event(2)]).unwrap();
        drop(outbox);
        assert_eq!(ids(&Outbox::open(&path, 100).unwrap()), ["id-1", "id-2"]);
    }

    #[test]
    fn full_outbox_drops_the_oldest_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let mut outbox = Outbox::open(&dir.path().join("outbox"), 2).unwrap();
        outbox.append(&[event(1), event(2), event(3)]).unwrap();
        assert_eq!(ids(&outbox), ["id-2", "id-3"]);
        assert_eq!(outbox.dropped, 1);
    }

    #[test]
    fn a_second_process_gets_its_own_directory_which_is_adopted_later() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox");
        let first = Outbox::open(&path, 100).unwrap();
        // Same process, second handle: the lock is per open file.
        let mut second = Outbox::open(&path, 100).unwrap();
        assert_ne!(second.dir(), first.dir());
        second.append(&[event(7)]).unwrap();
        drop(second);
        drop(first);
        let adopted = Outbox::open(&path, 100).unwrap();
        assert_eq!(ids(&adopted), ["id-7"]);
        assert_eq!(adopted.dir(), path);
    }
}
