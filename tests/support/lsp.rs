//! A small JSON-RPC client that drives the real `cim-nix` binary over stdio,
//! as an editor does.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How the fake editor answers a request from the server: the result, and
/// how long to wait before sending it.
pub type Responder = Arc<dyn Fn(&Value) -> (Value, Duration) + Send + Sync>;

pub const TIMEOUT: Duration = Duration::from_secs(60);

pub struct Server {
    child: Child,
    stdin: Arc<Mutex<Option<ChildStdin>>>,
    /// Each message with when its last byte was read (before it was parsed).
    messages: Receiver<(Value, Instant)>,
    /// Messages received but not yet consumed.
    inbox: VecDeque<(Value, Instant)>,
    /// When the message [`Server::wait_for`] last returned was read.
    pub last_arrival: Option<Instant>,
    next_id: i64,
    pub stderr_path: PathBuf,
    _stderr_dir: tempfile::TempDir,
}

/// The server under test: this build's `cim-nix`, or for a benchmark's
/// A/B run another build named by `CIM_NIX_SERVER`.
pub fn binary() -> PathBuf {
    std::env::var_os("CIM_NIX_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_cim-nix")))
}

impl Server {
    /// Starts `cim-nix lsp`, answering the server's requests with `responder`.
    pub fn start_with(args: &[&str], envs: &[(&str, &str)], responder: Responder) -> Server {
        Server::start_program(&binary(), args, envs, responder)
    }

    /// Starts another language server (to compare with, in benchmarks).
    pub fn start_program(
        program: &std::path::Path,
        args: &[&str],
        envs: &[(&str, &str)],
        responder: Responder,
    ) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let stderr_path = dir.path().join("stderr.log");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (k, v) in envs {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawn cim-nix");
        let stdin = Arc::new(Mutex::new(child.stdin.take()));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, messages) = channel();
        let writer = stdin.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some((message, arrived)) = read_timed_frame(&mut reader) {
                // Answer requests from the server here, so that a test that
                // waits for something else never blocks the server.
                if message.get("method").is_some() && message.get("id").is_some() {
                    let (result, delay) = responder(&message);
                    let reply = json!({"jsonrpc": "2.0", "id": message["id"], "result": result});
                    let writer = writer.clone();
                    std::thread::spawn(move || {
                        std::thread::sleep(delay);
                        if let Some(w) = writer.lock().unwrap().as_mut() {
                            let _ = write_frame(w, &reply);
                        }
                    });
                }
                if tx.send((message, arrived)).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            stdin,
            messages,
            inbox: VecDeque::new(),
            last_arrival: None,
            next_id: 1,
            stderr_path,
            _stderr_dir: dir,
        }
    }

    pub fn start() -> Server {
        Server::start_with(&["lsp"], &[], default_responder(Value::Null))
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    pub fn send(&mut self, message: &Value) {
        let mut stdin = self.stdin.lock().unwrap();
        write_frame(stdin.as_mut().expect("stdin open"), message).expect("write to server");
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        let mut guard = self.stdin.lock().unwrap();
        let stdin = guard.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write to server");
        stdin.flush().expect("flush");
    }

    /// Closes the server's stdin, as an editor that goes away does.
    pub fn close_stdin(&mut self) {
        self.stdin.lock().unwrap().take();
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its id without waiting.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Sends a request and waits for its response: `Ok(result)` or `Err(error)`.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.send_request(method, params);
        self.response(&json!(id))
    }

    /// Waits for the response to request `id`.
    pub fn response(&mut self, id: &Value) -> Result<Value, Value> {
        let message = self.wait_for(TIMEOUT, |m| {
            m.get("id") == Some(id) && m.get("method").is_none()
        });
        match message.get("error") {
            Some(error) => Err(error.clone()),
            None => Ok(message["result"].clone()),
        }
    }

    /// The next message (consumed) for which `pred` holds.
    pub fn wait_for(&mut self, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        self.try_wait_for(timeout, pred).unwrap_or_else(|| {
            panic!(
                "no matching message within {timeout:?}; unconsumed: {:?}\nserver stderr:\n{}",
                self.inbox.iter().map(|(m, _)| m).collect::<Vec<_>>(),
                self.stderr()
            )
        })
    }

    pub fn try_wait_for(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        if let Some(i) = self.inbox.iter().position(|(m, _)| pred(m)) {
            let (message, arrived) = self.inbox.remove(i)?;
            self.last_arrival = Some(arrived);
            return Some(message);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok((m, arrived)) if pred(&m) => {
                    self.last_arrival = Some(arrived);
                    return Some(m);
                }
                Ok(m) => self.inbox.push_back(m),
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    return None
                }
            }
        }
    }

    /// The next `publishDiagnostics` for `uri` (consumed).
    pub fn diagnostics(&mut self, uri: &str) -> Value {
        self.wait_for(TIMEOUT, |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        })["params"]
            .clone()
    }

    /// Waits for diagnostics of `uri` that satisfy `pred`, skipping others.
    pub fn diagnostics_until(&mut self, uri: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.wait_for(TIMEOUT, |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && pred(&m["params"]["diagnostics"])
        })["params"]
            .clone()
    }

    /// Waits for diagnostics of `uri` at `version`, skipping older ones.
    pub fn diagnostics_for_version(&mut self, uri: &str, version: i64) -> Value {
        self.wait_for(TIMEOUT, |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        })["params"]
            .clone()
    }

    pub fn initialize(&mut self, capabilities: Value, options: Value) -> Value {
        let result = self
            .request(
                "initialize",
                json!({"processId": null, "rootUri": null, "capabilities": capabilities,
                       "initializationOptions": options}),
            )
            .expect("initialize succeeds");
        self.notify("initialized", json!({}));
        result
    }

    pub fn open(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "nix", "version": version, "text": text}}),
        );
    }

    /// One incremental change: replace `(l1,c1)..(l2,c2)` with `text`.
    pub fn change(&mut self, uri: &str, version: i64, range: [u32; 4], text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"range": {"start": {"line": range[0], "character": range[1]},
                                                 "end": {"line": range[2], "character": range[3]}},
                                       "text": text}]}),
        );
    }

    pub fn syntax_tree(&mut self, uri: &str) -> Result<Value, Value> {
        self.request("cim-nix/syntaxTree", json!({"textDocument": {"uri": uri}}))
    }

    /// Sends shutdown and exit and waits for the process to end.
    pub fn shutdown(mut self) -> ExitStatus {
        self.request("shutdown", Value::Null)
            .expect("shutdown succeeds");
        self.notify("exit", Value::Null);
        self.wait_exit(TIMEOUT).expect("server exits after exit")
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Answers `workspace/configuration` with `settings` and everything else with null.
pub fn default_responder(settings: Value) -> Responder {
    Arc::new(move |request: &Value| {
        let result = if request["method"] == "workspace/configuration" {
            json!([settings.clone()])
        } else {
            Value::Null
        };
        (result, Duration::ZERO)
    })
}

pub fn write_frame(out: &mut impl Write, message: &Value) -> std::io::Result<()> {
    let body = message.to_string();
    write!(out, "Content-Length: {}\r\n\r\n{}", body.len(), body)?;
    out.flush()
}

pub fn read_frame(reader: &mut impl BufRead) -> Option<Value> {
    read_timed_frame(reader).map(|(message, _)| message)
}

/// A frame and when its last byte was read, before it was parsed: what a
/// benchmark times, so that the test client's JSON parsing is not counted
/// as the server's.
pub fn read_timed_frame(reader: &mut impl BufRead) -> Option<(Value, Instant)> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            length = v.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    let arrived = Instant::now();
    Some((
        serde_json::from_slice(&body).expect("server sent invalid JSON"),
        arrived,
    ))
}

/// The text a syntax tree dump (`cim-nix/syntaxTree`) holds, token by token.
pub fn text_from_tree(dump: &str) -> String {
    let mut text = String::new();
    for line in dump.lines() {
        let line = line.trim_start();
        if !line.starts_with("TOKEN_") {
            continue;
        }
        let quoted = &line[line.find(' ').expect("token text") + 1..];
        text.push_str(&unescape_debug(quoted));
    }
    text
}

/// rowan prints token text with Rust's `{:?}`; undo it for the escapes it uses.
fn unescape_debug(quoted: &str) -> String {
    let inner = &quoted[1..quoted.len() - 1];
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
            }
            other => panic!("unknown escape {other:?} in {quoted}"),
        }
    }
    out
}

pub fn file_uri(name: &str) -> String {
    format!("file:///cim-nix-test/{name}")
}

/// Applies LSP text edits (UTF-16 positions, all against the same text).
pub fn apply_text_edits(text: &str, edits: &Value) -> String {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let offset = |p: &Value| {
        let line = p["line"].as_u64().unwrap() as usize;
        let col = p["character"].as_u64().unwrap() as usize;
        let start = starts[line.min(starts.len() - 1)];
        let mut units = 0;
        for (i, c) in text[start..].char_indices() {
            if units >= col || c == '\n' {
                return start + i;
            }
            units += c.len_utf16();
        }
        text.len()
    };
    let mut edits: Vec<(usize, usize, String)> = edits
        .as_array()
        .expect("edits")
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    for pair in edits.windows(2) {
        assert!(pair[1].1 <= pair[0].0, "overlapping edits {pair:?}");
    }
    let mut out = text.to_string();
    for (start, end, new) in edits {
        out.replace_range(start..end, &new);
    }
    out
}
