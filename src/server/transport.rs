//! The stdio transport in front of tower-lsp.
//!
//! Reads stdin on a thread of its own with [`FrameDecoder`], answers what
//! cannot be read with a JSON-RPC error instead of dying, applies document
//! notifications (`didOpen`, `didChange`, `didClose`) itself, in arrival
//! order and before reading on, handles `exit`, and hands every other
//! message to tower-lsp, in order, through an in-memory pipe. Frames for
//! the client go through [`Output`]: whole, in order, and queued for the
//! stdout thread except the worker's diagnostics.

use std::collections::VecDeque;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc::{Receiver, Sender};
use tower_lsp::jsonrpc::{Request, Response};
use tower_lsp::lsp_types::{
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
};

use super::events::ServerEvents;
use super::framing::{decode_body, encode, Frame, FrameDecoder};
use super::Shared;
use crate::panics;

/// What the stdout thread is asked to do.
pub enum Out {
    Frame(Vec<u8>),
    /// A frame that starts at an offset of its buffer (written in place
    /// after its body, so a large answer is not copied).
    FrameFrom(Vec<u8>, usize),
    /// Flush everything written so far, then end the process.
    Exit(i32),
}

impl Out {
    /// The bytes this writes.
    fn len(&self) -> usize {
        match self {
            Out::Frame(bytes) => bytes.len(),
            Out::FrameFrom(bytes, start) => bytes.len().saturating_sub(*start),
            Out::Exit(_) => 0,
        }
    }
}

/// Where frames for the client go. Most are queued for the stdout thread,
/// so that nothing that reads stdin or serves a request ever waits on a
/// client that is slow to read; the analysis worker, a plain thread, writes
/// its diagnostics itself ([`Output::write_now`]), which saves thread
/// wake-ups per keystroke. Frames are written whole and in order: whoever
/// holds stdout first writes every frame queued before its own.
#[derive(Clone)]
pub struct Output {
    queue: Arc<(Mutex<VecDeque<Out>>, Condvar)>,
    stdout: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl Output {
    /// Queues `out` for the stdout thread; never waits on the client.
    pub fn send(&self, out: Out) {
        let (queue, ready) = &*self.queue;
        lock(queue).push_back(out);
        ready.notify_one();
    }

    /// Writes the queued frames and then `frame`, on the calling thread
    /// (which may wait while the client does not read).
    pub fn write_now(&self, frame: Vec<u8>) {
        let mut stdout = lock(&self.stdout);
        let queued: Vec<Out> = lock(&self.queue.0).drain(..).collect();
        write_frames(&mut **stdout, queued.into_iter().chain([Out::Frame(frame)]));
    }
}

fn lock<T: ?Sized>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Writes `frames` and flushes; ends the process on `Exit` or when stdout
/// is closed (the client is gone).
fn write_frames(stdout: &mut dyn Write, frames: impl Iterator<Item = Out>) {
    for out in frames {
        match out {
            Out::FrameFrom(bytes, start) => {
                if let Err(e) = stdout.write_all(&bytes[start..]) {
                    tracing::info!("stdout closed ({e}); exiting");
                    std::process::exit(1);
                }
            }
            Out::Frame(bytes) => {
                if let Err(e) = stdout.write_all(&bytes) {
                    tracing::info!("stdout closed ({e}); exiting");
                    std::process::exit(1);
                }
            }
            Out::Exit(code) => {
                let _ = stdout.flush();
                std::process::exit(code);
            }
        }
    }
    if let Err(e) = stdout.flush() {
        tracing::info!("stdout closed ({e}); exiting");
        std::process::exit(1);
    }
}

/// Starts the thread that writes queued frames to stdout.
pub fn start_writer(stdout: impl Write + Send + 'static) -> Output {
    let output = Output {
        queue: Arc::new((Mutex::new(VecDeque::new()), Condvar::new())),
        stdout: Arc::new(Mutex::new(Box::new(stdout))),
    };
    let writer = output.clone();
    let spawned = std::thread::Builder::new()
        .name("cim-nix-stdout".into())
        .spawn(move || loop {
            {
                let (queue, ready) = &*writer.queue;
                let mut pending = lock(queue);
                while pending.is_empty() {
                    pending = ready.wait(pending).unwrap_or_else(|e| e.into_inner());
                }
            }
            let mut stdout = lock(&writer.stdout);
            let queued: Vec<Out> = lock(&writer.queue.0).drain(..).collect();
            let bytes = queued.iter().map(Out::len).sum();
            write_frames(&mut **stdout, queued.into_iter());
            super::memory::give_back_after(std::time::Duration::ZERO, bytes);
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the stdout thread: {e}");
    }
    output
}

/// The method of a `didOpen`, `didChange` or `didClose` notification that
/// tower-lsp would accept (JSON-RPC 2.0, no id); the transport applies
/// those itself, in arrival order.
fn document_notification(message: &Value) -> Option<&'static str> {
    let object = message.as_object()?;
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") || object.contains_key("id") {
        return None;
    }
    match object.get("method").and_then(Value::as_str)? {
        "textDocument/didOpen" => Some("textDocument/didOpen"),
        "textDocument/didChange" => Some("textDocument/didChange"),
        "textDocument/didClose" => Some("textDocument/didClose"),
        _ => None,
    }
}

/// Copies tower-lsp's output to the stdout thread, frame by frame.
pub async fn forward_output(mut from: impl AsyncRead + Unpin, out: Output) {
    let mut decoder = FrameDecoder::default();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => decoder.push(&buf[..n]),
        }
        while let Some(frame) = decoder.next_frame() {
            match frame {
                Frame::Body(body) => {
                    out.send(Out::Frame(encode(&body)));
                }
                Frame::Malformed(why) => tracing::error!("tower-lsp wrote a bad frame: {why}"),
            }
        }
    }
}

pub struct Transport {
    pub shared: Arc<Shared>,
    pub out: Output,
    /// Set by `exit`: nothing after it is read.
    pub exiting: std::sync::atomic::AtomicBool,
}

impl Transport {
    /// Reads `input` until it ends or the client sends `exit`. Runs on a
    /// thread of its own, so a message is handled as soon as the read
    /// returns: document edits are applied and handed to the worker here,
    /// without waking an async task first; everything else goes on to
    /// tower-lsp in order.
    pub fn run(&self, mut input: impl std::io::Read, to_lsp: Sender<Vec<u8>>) {
        let mut decoder = FrameDecoder::default();
        let mut buf = vec![0u8; 256 << 10];
        loop {
            let n = match input.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::error!("cannot read stdin: {e}");
                    break;
                }
            };
            decoder.push(&buf[..n]);
            while let Some(frame) = decoder.next_frame() {
                let forward = match frame {
                    Frame::Malformed(why) => {
                        tracing::warn!("bad message frame: {why}");
                        self.send_error(Value::Null, -32700, format!("parse error: {why}"));
                        None
                    }
                    Frame::Body(body) => self.handle_body(&body),
                };
                if let Some(bytes) = forward {
                    if to_lsp.blocking_send(bytes).is_err() {
                        tracing::error!("tower-lsp stopped reading; exiting");
                        return self.exit();
                    }
                }
                if self.exiting.load(Ordering::SeqCst) {
                    return;
                }
            }
        }
        tracing::info!("stdin closed");
        if !self.exiting.load(Ordering::SeqCst) {
            self.exit();
        }
    }

    fn exit(&self) {
        self.exiting.store(true, Ordering::SeqCst);
        let shut_down = self.shared.shutdown_requested.load(Ordering::SeqCst);
        let code = if shut_down { 0 } else { 1 };
        // Events emitted so far reach the outbox before the process ends.
        let shared = self.shared.clone();
        let out = self.out.clone();
        self.shared.runtime.spawn(async move {
            ServerEvents::flush(&shared).await;
            out.send(Out::Exit(code));
        });
    }

    /// Handles one message; returns the frame to pass to tower-lsp, if any.
    fn handle_body(&self, body: &[u8]) -> Option<Vec<u8>> {
        let (value, text) = match decode_body(body) {
            Ok(decoded) => decoded,
            Err(e) => {
                tracing::warn!("{}", e.message);
                self.send_error(e.id, e.code, e.message);
                return None;
            }
        };
        // Edits first, and by value: their params hold whole documents,
        // which the generic checks below would copy (twice).
        if let Some(method) = document_notification(&value) {
            let outcome = catch_unwind(AssertUnwindSafe(|| self.apply_document(method, value)));
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(why)) => self.log_warning(format!("cim-nix: ignored {method}: {why}")),
                Err(panic) => {
                    tracing::error!("handling {method} panicked: {}", panics::message(&*panic))
                }
            }
            return None;
        }
        // Exactly the check tower-lsp makes; anything it would refuse must
        // not reach it, as it ends the session on a message it cannot read.
        if Response::deserialize(&value).is_ok() {
            return Some(encode(text.as_bytes()));
        }
        if let Err(e) = Request::deserialize(&value) {
            // JSON-RPC ids are strings or integers; echo nothing else.
            let id = match value.get("id") {
                Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Value::Number(n.clone()),
                Some(id @ Value::String(_)) => id.clone(),
                _ => Value::Null,
            };
            self.send_error(
                id,
                -32600,
                format!("invalid request: not a JSON-RPC 2.0 message: {e}"),
            );
            return None;
        }
        let method = value.get("method").and_then(Value::as_str).unwrap_or("");
        let is_notification = value.get("id").is_none();
        if is_notification {
            if method == "exit" {
                self.exit();
                return None;
            }
        } else if let Some(internal) = formatting_method(method) {
            if let Some(answer) = self.prepared_formatting(&value, internal) {
                self.out
                    .send(Out::Frame(encode(answer.to_string().as_bytes())));
                return None;
            }
            return Some(encode(self.stamp(&value, internal).to_string().as_bytes()));
        } else if super::features::answers(method) {
            self.answer_feature(value);
            return None;
        } else if method == "shutdown" {
            self.shared.shutdown_requested.store(true, Ordering::SeqCst);
        } else if method.starts_with("$/") {
            // tower-lsp drops MethodNotFound replies for every `$/` method,
            // but only notifications may go unanswered: no `$/` request is
            // implemented, so answer it here.
            let id = value.get("id").cloned().unwrap_or(Value::Null);
            self.send_error(id, -32601, format!("method not found: {method}"));
            return None;
        }
        // `"params": null` means no params, but tower-lsp refuses it for
        // methods that take none (`shutdown`); drop it.
        if value.get("params") == Some(&Value::Null) {
            let mut value = value;
            if let Some(map) = value.as_object_mut() {
                map.remove("params");
            }
            return Some(encode(value.to_string().as_bytes()));
        }
        Some(encode(text.as_bytes()))
    }

    /// The answer to a whole-document formatting request whose edits are
    /// prepared for the document's current revision (format-on-save after
    /// a pause in typing), made here rather than through tower-lsp.
    fn prepared_formatting(&self, message: &Value, internal: &str) -> Option<Value> {
        if internal != super::formatting::FORMATTING
            || self.shared.shutdown_requested.load(Ordering::SeqCst)
        {
            return None;
        }
        let id = message.get("id")?;
        let uri = message
            .pointer("/params/textDocument/uri")
            .and_then(Value::as_str)
            .and_then(|uri| tower_lsp::lsp_types::Url::parse(uri).ok())?;
        let edits = super::formatting::Prepared::ready(&self.shared, &uri)?;
        Some(json!({"jsonrpc": "2.0", "id": id, "result": edits}))
    }

    /// Renames a request about one document to its internal method, with
    /// the document's revision now, on arrival: its answer is for the text
    /// the client meant even when edits arrive while it waits to be
    /// handled (and is refused as out of date when they did).
    fn stamp(&self, message: &Value, internal: &str) -> Value {
        let params = message.get("params").cloned().unwrap_or(Value::Null);
        let revision = params
            .pointer("/textDocument/uri")
            .and_then(Value::as_str)
            .and_then(|uri| tower_lsp::lsp_types::Url::parse(uri).ok())
            .and_then(|uri| self.shared.documents.current_revision(&uri));
        let mut stamped = message.clone();
        if let Some(map) = stamped.as_object_mut() {
            map.insert("method".into(), Value::String(internal.into()));
            map.insert(
                "params".into(),
                json!({ "request": params, "revision": revision }),
            );
        }
        stamped
    }

    /// Answers an editor-feature request on the runtime, stamped with its
    /// document's revision now, on arrival (see `features`). The answer is
    /// serialised from its type and queued for stdout, not passed through
    /// tower-lsp, which would build it as a JSON value tree first.
    fn answer_feature(&self, mut message: Value) {
        let id = message.get("id").cloned().unwrap_or(Value::Null);
        if self.shared.shutdown_requested.load(Ordering::SeqCst) {
            return self.send_error(id, -32600, "the server is shutting down".into());
        }
        if !self.shared.initialized.load(Ordering::SeqCst) {
            return self.send_error(id, -32002, "the server is not initialized".into());
        }
        let method = message
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let params = message
            .get_mut("params")
            .map(Value::take)
            .unwrap_or(Value::Null);
        let revision = params
            .pointer("/textDocument/uri")
            .and_then(Value::as_str)
            .and_then(|uri| tower_lsp::lsp_types::Url::parse(uri).ok())
            .and_then(|uri| self.shared.documents.current_revision(&uri));
        let shared = self.shared.clone();
        let out = self.out.clone();
        self.shared.runtime.spawn(async move {
            let (frame, start) =
                super::features::answer(shared, id, method, params, revision).await;
            out.send(Out::FrameFrom(frame, start));
        });
    }

    fn apply_document(&self, method: &str, mut message: Value) -> Result<(), String> {
        if self.shared.shutdown_requested.load(Ordering::SeqCst) {
            return Err("the server is shutting down".into());
        }
        // Taken, not borrowed: deserializing an owned value moves the text.
        let params = message
            .get_mut("params")
            .map(Value::take)
            .unwrap_or(Value::Null);
        let invalid = |e: serde_json::Error| format!("invalid params: {e}");
        let documents = &self.shared.documents;
        match method {
            "textDocument/didOpen" => {
                let started = std::time::Instant::now();
                let p = DidOpenTextDocumentParams::deserialize(params).map_err(invalid)?;
                let uri = p.text_document.uri;
                let bytes = p.text_document.text.len();
                documents.open(uri.clone(), p.text_document.version, p.text_document.text);
                tracing::debug!("opened {uri} ({bytes} bytes) in {:?}", started.elapsed());
                if let Some(snapshot) = documents.snapshot(&uri) {
                    ServerEvents::opened(&self.shared, &uri, snapshot.text);
                }
                self.shared.worker.analyze(uri);
            }
            "textDocument/didChange" => {
                let p = DidChangeTextDocumentParams::deserialize(params).map_err(invalid)?;
                let uri = p.text_document.uri;
                documents
                    .change(
                        &uri,
                        p.text_document.version,
                        p.content_changes,
                        self.shared.encoding(),
                    )
                    .map_err(|e| e.to_string())?;
                if let Some(revision) = documents.current_revision(&uri) {
                    ServerEvents::changed(&self.shared, &uri, revision);
                }
                self.shared.worker.analyze(uri);
            }
            _ => {
                let p = DidCloseTextDocumentParams::deserialize(params).map_err(invalid)?;
                ServerEvents::closed(&self.shared, &p.text_document.uri);
                self.shared.prepared.close(&p.text_document.uri);
                self.shared.semantic_tokens.forget(&p.text_document.uri);
                if documents.close(&p.text_document.uri) {
                    self.shared.clear_diagnostics(p.text_document.uri);
                }
            }
        }
        Ok(())
    }

    fn send_error(&self, id: Value, code: i64, message: String) {
        let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
        self.out
            .send(Out::Frame(encode(body.to_string().as_bytes())));
    }

    fn log_warning(&self, message: String) {
        tracing::warn!("{message}");
        let body = json!({"jsonrpc": "2.0", "method": "window/logMessage",
                          "params": {"type": 2, "message": message}});
        self.out
            .send(Out::Frame(encode(body.to_string().as_bytes())));
    }
}

/// Writes what the transport hands on into tower-lsp's input, in order.
pub async fn forward_input(mut from: Receiver<Vec<u8>>, mut to_lsp: impl AsyncWrite + Unpin) {
    while let Some(bytes) = from.recv().await {
        if to_lsp.write_all(&bytes).await.is_err() {
            return; // tower-lsp ended; the transport notices and exits
        }
    }
}

/// How many messages may wait for tower-lsp before the transport waits too.
pub const FORWARD_QUEUE: usize = 4096;

/// The pipe between the transport and tower-lsp: big enough that a burst of
/// requests never makes the reader wait.
pub const PIPE_SIZE: usize = 4 << 20;

pub fn pipe() -> (tokio::io::DuplexStream, tokio::io::DuplexStream) {
    tokio::io::duplex(PIPE_SIZE)
}

fn formatting_method(method: &str) -> Option<&'static str> {
    match method {
        "textDocument/formatting" => Some(super::formatting::FORMATTING),
        "textDocument/rangeFormatting" => Some(super::formatting::RANGE_FORMATTING),
        _ => None,
    }
}
