//! Domain events end to end: the real cim-nix over stdio, a real
//! `nats-server -js` on loopback, and what its JetStream stream holds.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use support::lsp::{default_responder, Server};
use support::nats::{
    free_port, stream_messages, stream_messages_with, wait_for_messages, NatsServer, Stored,
};

const STREAM: &str = "NIX_EVENTS";
const WAIT: Duration = Duration::from_secs(20);

const FLAKE_V1: &str = r#"{
  description = "demo";
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";
  inputs.utils.url = "github:numtide/flake-utils";
  outputs = { self, nixpkgs, utils }: {
    packages.x86_64-linux.default = nixpkgs.legacyPackages.x86_64-linux.hello;
  };
}
"#;

const FLAKE_V2: &str = r#"{
  description = "demo";
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";
  inputs.utils.url = "github:numtide/flake-utils";
  inputs.home-manager = {
    url = "github:nix-community/home-manager/release-24.05";
    inputs.nixpkgs.follows = "nixpkgs";
  };
  outputs = { self, nixpkgs, utils, home-manager }: {
    packages.x86_64-linux.default = nixpkgs.legacyPackages.x86_64-linux.hello;
  };
}
"#;

const FLAKE_V3: &str = r#"{
  description = "demo";
  # moved to the new release
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";
  inputs.home-manager = {
    url = "github:nix-community/home-manager/release-24.05";
    inputs.nixpkgs.follows = "nixpkgs";
  };
  outputs = { self, nixpkgs, home-manager }: {
    packages.x86_64-linux.default = nixpkgs.legacyPackages.x86_64-linux.hello;
    checks.x86_64-linux = { };
  };
}
"#;

fn lock(nixpkgs_rev: &str, last_modified: i64) -> String {
    json!({
        "nodes": {
            "nixpkgs": {
                "locked": {"lastModified": last_modified, "narHash": format!("sha256-{nixpkgs_rev}"),
                           "owner": "NixOS", "repo": "nixpkgs", "rev": nixpkgs_rev, "type": "github"},
                "original": {"owner": "NixOS", "ref": "nixos-24.05", "repo": "nixpkgs", "type": "github"}
            },
            "utils": {
                "locked": {"lastModified": 1710146030, "narHash": "sha256-utils",
                           "owner": "numtide", "repo": "flake-utils",
                           "rev": "b1d9ab70662946ef0850d488da1c9019f3a9752a", "type": "github"},
                "original": {"owner": "numtide", "repo": "flake-utils", "type": "github"}
            },
            "root": {"inputs": {"nixpkgs": "nixpkgs", "utils": "utils"}}
        },
        "root": "root",
        "version": 7
    })
    .to_string()
}

/// A workspace folder, a state folder for the outbox, and a server whose
/// settings point events at `url`.
struct Editor {
    server: Server,
    root: PathBuf,
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

impl Editor {
    fn start(root: &Path, state: &Path, url: &str) -> Editor {
        Editor::start_with(root, state, json!({"url": url}), &[])
    }

    /// With these `nats` settings and environment.
    fn start_with(root: &Path, state: &Path, nats: Value, env: &[(&str, &str)]) -> Editor {
        Editor::start_with_options(root, state, json!({ "nats": nats }), env)
    }

    /// With these `initializationOptions`; with a `nats.url`, returns once
    /// events are on (the settings applied).
    fn start_with_options(
        root: &Path,
        state: &Path,
        options: Value,
        env: &[(&str, &str)],
    ) -> Editor {
        let mut envs = vec![
            ("XDG_STATE_HOME", state.to_str().unwrap()),
            ("CIM_NIX_LOG", "cim_nix=debug"),
        ];
        envs.extend_from_slice(env);
        let mut server = Server::start_with(&["lsp"], &envs, default_responder(Value::Null));
        server
            .request(
                "initialize",
                json!({"processId": null, "rootUri": uri(root), "capabilities": {},
                       "initializationOptions": options}),
            )
            .expect("initialize");
        server.notify("initialized", json!({}));
        let mut editor = Editor {
            server,
            root: root.to_path_buf(),
        };
        if options["nats"]["url"].is_string() {
            let deadline = std::time::Instant::now() + WAIT;
            while editor.event_status()["enabled"] != true {
                assert!(
                    std::time::Instant::now() < deadline,
                    "events never switched on"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        editor
    }

    /// Writes `text` to `name` and tells the server it was saved, as an
    /// editor does on save.
    fn save(&mut self, name: &str, version: i64, text: &str) {
        let path = self.root.join(name);
        std::fs::write(&path, text).unwrap();
        let uri = uri(&path);
        self.server.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
        self.server.notify(
            "textDocument/didSave",
            json!({"textDocument": {"uri": uri}}),
        );
    }

    fn open(&mut self, name: &str, text: &str) {
        let path = self.root.join(name);
        std::fs::write(&path, text).unwrap();
        self.server.open(&uri(&path), 1, text);
        // The diagnostics of the opened version: the open is applied.
        self.server.diagnostics_for_version(&uri(&path), 1);
    }

    fn lock_written(&mut self, text: &str) {
        let path = self.root.join("flake.lock");
        std::fs::write(&path, text).unwrap();
        self.server.notify(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": uri(&path), "type": 2}]}),
        );
    }

    fn event_status(&mut self) -> Value {
        self.server
            .request("cim-nix/eventStatus", Value::Null)
            .expect("eventStatus")
    }
}

fn types(messages: &[Stored]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m.body["event_type"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The identity chain of one session: the first event is its own root,
/// every later one is caused by the one before, all share a correlation.
fn assert_one_chain(messages: &[Stored]) {
    let first = &messages[0].body;
    assert_eq!(first["identity"]["correlation_id"], first["event_id"]);
    assert_eq!(first["identity"]["causation_id"], first["event_id"]);
    for pair in messages.windows(2) {
        let (before, after) = (&pair[0].body, &pair[1].body);
        assert_eq!(after["identity"]["correlation_id"], first["event_id"]);
        assert_eq!(after["identity"]["causation_id"], before["event_id"]);
    }
}

#[test]
fn a_flake_editing_session_publishes_its_changes_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (root, state) = (dir.path().join("ws"), dir.path().join("state"));
    std::fs::create_dir_all(&root).unwrap();
    let nats = NatsServer::start(&dir.path().join("js"));
    std::fs::write(
        root.join("flake.lock"),
        lock("1111111111111111111111111111111111111111", 1716000000),
    )
    .unwrap();
    let mut editor = Editor::start(&root, &state, &nats.url());
    editor.open("flake.nix", FLAKE_V1);
    editor.save("flake.nix", 2, FLAKE_V2);
    editor.save("flake.nix", 3, FLAKE_V3);
    // Later, `nix flake update` rewrites the lock.
    assert_eq!(wait_for_messages(&nats.url(), STREAM, 4, WAIT).len(), 4);
    editor.lock_written(&lock(
        "2222222222222222222222222222222222222222",
        1717000000,
    ));
    let messages = wait_for_messages(&nats.url(), STREAM, 5, WAIT);
    assert_eq!(
        types(&messages),
        [
            "flake.input_added",
            "flake.input_changed",
            "flake.input_removed",
            "flake.outputs_changed",
            "flake.lock_updated"
        ],
        "{}",
        editor.server.stderr()
    );
    let subjects: Vec<&str> = messages.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "nix.event.flake.input_added",
            "nix.event.flake.input_changed",
            "nix.event.flake.input_removed",
            "nix.event.flake.outputs_changed",
            "nix.event.flake.lock_updated"
        ]
    );
    let data: Vec<&Value> = messages.iter().map(|m| &m.body["data"]).collect();
    assert_eq!(
        *data[0],
        json!({"input": "home-manager", "url": "github:nix-community/home-manager/release-24.05",
               "flake": true, "follows": null})
    );
    assert_eq!(data[1]["input"], "nixpkgs");
    assert_eq!(data[1]["from"]["url"], "github:NixOS/nixpkgs/nixos-24.05");
    assert_eq!(data[1]["to"]["url"], "github:NixOS/nixpkgs/nixos-24.11");
    assert_eq!(
        *data[2],
        json!({"input": "utils", "url": "github:numtide/flake-utils"})
    );
    assert_eq!(*data[3], json!({"added": ["checks"], "removed": []}));
    assert_eq!(
        *data[4],
        json!({"input": "nixpkgs",
               "from_rev": "1111111111111111111111111111111111111111",
               "to_rev": "2222222222222222222222222222222222222222",
               "from_last_modified": 1716000000, "to_last_modified": 1717000000})
    );
    assert_one_chain(&messages);
    for m in &messages {
        let body = &m.body;
        assert_eq!(body["schema"], 1);
        assert_eq!(body["aggregate"]["type"], "flake");
        assert_eq!(
            body["aggregate"]["path"], "flake.nix",
            "paths are workspace-relative"
        );
        assert_eq!(
            body["aggregate"]["id"],
            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, b"flake.nix").to_string()
        );
        let id = body["event_id"].as_str().unwrap();
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
        assert_eq!(body["identity"]["message_id"], body["event_id"]);
        assert_eq!(m.header("Nats-Msg-Id"), Some(id));
        assert_eq!(m.header("X-Event-ID"), Some(id));
        assert_eq!(m.header("X-Event-Type"), body["event_type"].as_str());
        assert_eq!(
            m.header("X-Correlation-ID"),
            body["identity"]["correlation_id"].as_str()
        );
        assert_eq!(
            m.header("X-Causation-ID"),
            body["identity"]["causation_id"].as_str()
        );
        assert_eq!(m.header("X-Aggregate-ID"), body["aggregate"]["id"].as_str());
        assert_eq!(m.header("X-Aggregate-Type"), Some("flake"));
        assert_eq!(m.header("X-Timestamp"), body["occurred_at"].as_str());
        assert_eq!(m.header("X-Domain"), Some("nix"));
        // Never the file's contents.
        let text = body.to_string();
        assert!(!text.contains("legacyPackages") && !text.contains("moved to the new release"));
    }
    // Nothing more arrives: a save without changes emits nothing.
    editor.save("flake.nix", 4, FLAKE_V3);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(stream_messages(&nats.url(), STREAM).len(), 5);
    assert_eq!(editor.event_status()["pending"], 0);
}

const HOME_V1: &str = r#"{ pkgs, ... }:
{
  home.username = "alice";
  home.homeDirectory = "/home/alice";
  home.stateVersion = "24.05";
  home.packages = with pkgs; [ ripgrep fd ];
  programs.git = {
    enable = true;
    userName = "Alice";
  };
}
"#;

const HOME_V2: &str = r#"{ pkgs, ... }:
{
  home.username = "alice";
  home.homeDirectory = "/home/alice";
  home.stateVersion = "24.05";
  home.packages = with pkgs; [ ripgrep jq ];
  programs.git = {
    enable = true;
    userName = "Alice Liddell";
    lfs.enable = true;
  };
  programs.zsh.enable = true;
  services.syncthing.enable = true;
}
"#;

#[test]
fn a_home_manager_editing_session_publishes_its_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (root, state) = (dir.path().join("ws"), dir.path().join("state"));
    std::fs::create_dir_all(&root).unwrap();
    let nats = NatsServer::start(&dir.path().join("js"));
    let mut editor = Editor::start(&root, &state, &nats.url());
    editor.open("home.nix", HOME_V1);
    // A broken intermediate save emits nothing: only good states count.
    editor.save("home.nix", 2, "{ pkgs, ... }: { home.packages = [ ");
    editor.save("home.nix", 3, HOME_V2);
    let messages = wait_for_messages(&nats.url(), STREAM, 5, WAIT);
    assert_eq!(
        types(&messages),
        [
            "home.program_configured",
            "home.program_enabled",
            "home.service_enabled",
            "home.package_added",
            "home.package_removed",
        ],
        "{}",
        editor.server.stderr()
    );
    let data: Vec<&Value> = messages.iter().map(|m| &m.body["data"]).collect();
    assert_eq!(
        *data[0],
        json!({"program": "git", "changed_keys": ["lfs.enable", "userName"]})
    );
    assert_eq!(*data[1], json!({"program": "zsh"}));
    assert_eq!(*data[2], json!({"service": "syncthing"}));
    assert_eq!(*data[3], json!({"package": "jq"}));
    assert_eq!(*data[4], json!({"package": "fd"}));
    assert_one_chain(&messages);
    for m in &messages {
        assert_eq!(m.body["aggregate"]["type"], "home");
        assert_eq!(m.body["aggregate"]["path"], "home.nix");
        assert!(
            !m.body.to_string().contains("Liddell"),
            "no values in events"
        );
    }
}

#[test]
fn events_survive_a_nats_outage_and_arrive_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (root, state) = (dir.path().join("ws"), dir.path().join("state"));
    std::fs::create_dir_all(&root).unwrap();
    let mut nats = NatsServer::start(&dir.path().join("js"));
    let mut editor = Editor::start(&root, &state, &nats.url());
    editor.open("home.nix", HOME_V1);
    editor.save("home.nix", 2, &HOME_V1.replace("fd ]", "fd bat ]"));
    assert_eq!(wait_for_messages(&nats.url(), STREAM, 1, WAIT).len(), 1);
    nats.stop();
    editor.save("home.nix", 3, &HOME_V1.replace("fd ]", "fd bat eza ]"));
    editor.save("home.nix", 4, &HOME_V1.replace("fd ]", "fd bat eza jq ]"));
    // The events wait in the outbox while NATS is down.
    let deadline = std::time::Instant::now() + WAIT;
    while editor.event_status()["pending"] != 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            editor.event_status()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    nats.restart();
    let messages = wait_for_messages(&nats.url(), STREAM, 3, WAIT);
    std::thread::sleep(Duration::from_millis(500));
    let messages_later = stream_messages(&nats.url(), STREAM);
    assert_eq!(
        messages_later.len(),
        3,
        "exactly once: {:?}",
        types(&messages_later)
    );
    let packages: Vec<&Value> = messages
        .iter()
        .map(|m| &m.body["data"]["package"])
        .collect();
    assert_eq!(packages, ["bat", "eza", "jq"], "{}", editor.server.stderr());
    assert_one_chain(&messages);
}

#[test]
fn events_in_the_outbox_are_sent_after_a_restart_of_cim_nix() {
    let dir = tempfile::tempdir().unwrap();
    let (root, state) = (dir.path().join("ws"), dir.path().join("state"));
    std::fs::create_dir_all(&root).unwrap();
    let port = free_port();
    let url = format!("nats://127.0.0.1:{port}");
    // NATS is not running: the events can only go to the outbox.
    let mut editor = Editor::start(&root, &state, &url);
    editor.open("home.nix", HOME_V1);
    editor.save("home.nix", 2, &HOME_V1.replace("fd ]", "fd bat ]"));
    editor.save("home.nix", 3, &HOME_V1.replace("fd ]", "fd bat eza ]"));
    let deadline = std::time::Instant::now() + WAIT;
    while editor.event_status()["pending"] != 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            editor.event_status()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(editor.server.shutdown().success());
    let outbox = state.join("cim-nix/outbox/events.jsonl");
    let stored = std::fs::read_to_string(&outbox).unwrap();
    assert_eq!(stored.lines().count(), 2, "{stored}");

    let nats = NatsServer::start_on(port, &dir.path().join("js"), true);
    // A new cim-nix with the same state directory re-sends them.
    let _editor = Editor::start(&root, &state, &url);
    let messages = wait_for_messages(&url, STREAM, 2, WAIT);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(stream_messages(&nats.url(), STREAM).len(), 2);
    let packages: Vec<&Value> = messages
        .iter()
        .map(|m| &m.body["data"]["package"])
        .collect();
    assert_eq!(packages, ["bat", "eza"]);
}

#[test]
fn without_a_nats_url_nothing_is_attempted() {
    let dir = tempfile::tempdir().unwrap();
    let (root, state) = (dir.path().join("ws"), dir.path().join("state"));
    std::fs::create_dir_all(&root).unwrap();
    let mut server = Server::start_with(
        &["lsp"],
        &[("XDG_STATE_HOME", state.to_str().unwrap())],
        default_responder(Value::Null),
    );
    server
        .request(
            "initialize",
            json!({"processId": null, "rootUri": uri(&root), "capabilities": {}}),
        )
        .unwrap();
    server.notify("initialized", json!({}));
    let path = root.join("home.nix");
    std::fs::write(&path, HOME_V1).unwrap();
    server.open(&uri(&path), 1, HOME_V1);
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&path), "version": 2}, "contentChanges": [{"text": HOME_V2}]}),
    );
    server.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri(&path)}}),
    );
    assert_eq!(
        server.request("cim-nix/eventStatus", Value::Null).unwrap(),
        json!({"enabled": false})
    );
    assert!(!state.exists(), "no outbox without nats.url");
    assert!(server.shutdown().success());
}

fn wait_pending(editor: &mut Editor, n: u64) {
    let deadline = std::time::Instant::now() + WAIT;
    while editor.event_status()["pending"] != n {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            editor.event_status()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One save that adds a package: one event.
fn one_event_through(root: &Path, state: &Path, nats: Value, env: &[(&str, &str)]) -> Editor {
    let mut editor = Editor::start_with(root, state, nats, env);
    editor.open("home.nix", HOME_V1);
    editor.save("home.nix", 2, &HOME_V1.replace("fd ]", "fd bat ]"));
    editor
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn events_reach_servers_that_require_a_token_a_password_or_tls() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    std::fs::create_dir_all(&root).unwrap();

    // A token, from the settings and from NATS_TOKEN.
    let nats = NatsServer::start_with(
        free_port(),
        &dir.path().join("js1"),
        true,
        &["--auth", "s3cret"],
    );
    let with_token = || async_nats::ConnectOptions::with_token("s3cret".into());
    let _a = one_event_through(
        &root,
        &dir.path().join("s1"),
        json!({"url": nats.url(), "token": "s3cret"}),
        &[],
    );
    let _b = one_event_through(
        &root,
        &dir.path().join("s2"),
        json!({"url": nats.url()}),
        &[("NATS_TOKEN", "s3cret")],
    );
    // A wrong token: nothing arrives, the event waits, the server lives.
    let mut wrong = one_event_through(
        &root,
        &dir.path().join("s3"),
        json!({"url": nats.url(), "token": "nope"}),
        &[],
    );
    wait_until("token events did not arrive", || {
        stream_messages_with(&nats.url(), STREAM, with_token()).len() >= 2
    });
    wait_pending(&mut wrong, 1);
    assert_eq!(
        stream_messages_with(&nats.url(), STREAM, with_token()).len(),
        2
    );

    // User and password.
    let nats = NatsServer::start_with(
        free_port(),
        &dir.path().join("js2"),
        true,
        &["--user", "cim", "--pass", "hunter2"],
    );
    let _c = one_event_through(
        &root,
        &dir.path().join("s4"),
        json!({"url": nats.url(), "user": "cim", "password": "hunter2"}),
        &[],
    );
    wait_until("user/password events did not arrive", || {
        let options =
            async_nats::ConnectOptions::with_user_and_password("cim".into(), "hunter2".into());
        !stream_messages_with(&nats.url(), STREAM, options).is_empty()
    });

    // TLS with a private CA.
    let certs = dir.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    let openssl = |args: &[&str]| {
        let status = std::process::Command::new("openssl")
            .args(args)
            .current_dir(&certs)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success(), "openssl {args:?}");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=cim-nix test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        certs.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    let (cert, key, ca) = (
        certs.join("server.pem"),
        certs.join("server.key"),
        certs.join("ca.pem"),
    );
    let nats = NatsServer::start_with(
        free_port(),
        &dir.path().join("js3"),
        true,
        &[
            "--tls",
            "--tlscert",
            cert.to_str().unwrap(),
            "--tlskey",
            key.to_str().unwrap(),
        ],
    );
    let _d = one_event_through(
        &root,
        &dir.path().join("s5"),
        json!({"url": nats.url(), "tls": {"ca": ca.to_str().unwrap()}}),
        &[],
    );
    wait_until("TLS events did not arrive", || {
        let options = async_nats::ConnectOptions::new()
            .add_root_certificates(ca.clone())
            .require_tls(true);
        !stream_messages_with(&nats.url(), STREAM, options).is_empty()
    });
}

#[test]
fn sigterm_keeps_what_was_emitted() {
    let dir = tempfile::tempdir().unwrap();
    let (root, state) = (dir.path().join("ws"), dir.path().join("state"));
    std::fs::create_dir_all(&root).unwrap();
    let url = format!("nats://127.0.0.1:{}", free_port());
    let mut editor = Editor::start(&root, &state, &url);
    editor.open("home.nix", HOME_V1);
    editor.save("home.nix", 2, &HOME_V1.replace("fd ]", "fd bat ]"));
    wait_pending(&mut editor, 1);
    let pid = editor.server.pid().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = editor.server.wait_exit(WAIT).expect("exits on SIGTERM");
    assert_eq!(status.code(), Some(143));
    let stored = std::fs::read_to_string(state.join("cim-nix/outbox/events.jsonl")).unwrap();
    assert_eq!(stored.lines().count(), 1, "{stored}");
    assert!(stored.contains("home.package_added"));
}

#[test]
fn with_emit_on_change_a_quiet_document_emits_without_a_save() {
    let dir = tempfile::tempdir().unwrap();
    let (root, state) = (dir.path().join("ws"), dir.path().join("state"));
    std::fs::create_dir_all(&root).unwrap();
    let nats = NatsServer::start(&dir.path().join("js"));
    let mut editor = Editor::start_with_options(
        &root,
        &state,
        json!({"nats": {"url": nats.url()}, "events": {"emitOn": "change", "quietMs": 300}}),
        &[],
    );
    editor.open("home.nix", HOME_V1);
    let uri = uri(&root.join("home.nix"));
    // Typing: each change restarts the quiet period; only the last state
    // (after the pause) is compared with the baseline.
    for (version, text) in [
        (2, HOME_V1.replace("fd ]", "fd b ]")),
        (3, HOME_V1.replace("fd ]", "fd bat ]")),
    ] {
        editor.server.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }
    let messages = wait_for_messages(&nats.url(), STREAM, 1, WAIT);
    std::thread::sleep(Duration::from_millis(800));
    let messages_later = stream_messages(&nats.url(), STREAM);
    assert_eq!(messages_later.len(), 1, "{:?}", types(&messages_later));
    assert_eq!(messages[0].body["data"], json!({"package": "bat"}));
}

#[test]
fn events_reach_a_server_that_requires_an_nkey() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    std::fs::create_dir_all(&root).unwrap();
    let user = nkeys::KeyPair::new_user();
    let seed_file = dir.path().join("user.nk");
    std::fs::write(&seed_file, user.seed().unwrap()).unwrap();
    let config = dir.path().join("nats.conf");
    std::fs::write(
        &config,
        format!(
            "authorization {{ users = [ {{ nkey: \"{}\" }} ] }}\n",
            user.public_key()
        ),
    )
    .unwrap();
    let nats = NatsServer::start_with(
        free_port(),
        &dir.path().join("js"),
        true,
        &["-c", config.to_str().unwrap()],
    );
    let _editor = one_event_through(
        &root,
        &dir.path().join("s"),
        json!({"url": nats.url(), "nkeySeedFile": seed_file.to_str().unwrap()}),
        &[],
    );
    let seed = user.seed().unwrap();
    wait_until("nkey events did not arrive", || {
        let options = async_nats::ConnectOptions::with_nkey(seed.clone());
        !stream_messages_with(&nats.url(), STREAM, options).is_empty()
    });
}

/// A dotfile migrated in the editor, by the command (through
/// `workspace/applyEdit`) and by the code action (whose command the client
/// runs after applying its edit), is one `home.dotfile_migrated` event each.
#[test]
fn a_migrated_dotfile_is_an_event() {
    let dir = tempfile::tempdir().unwrap();
    let (root, state) = (dir.path().join("ws"), dir.path().join("state"));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("gitconfig"), "[user]\n  name = Ada\n").unwrap();
    let home = "{ ... }:\n{\n  home.stateVersion = \"25.11\";\n}\n";
    std::fs::write(root.join("home.nix"), home).unwrap();
    let nats = NatsServer::start(&dir.path().join("js"));
    let responder: support::lsp::Responder = std::sync::Arc::new(|request: &Value| {
        let result = match request["method"].as_str() {
            Some("workspace/applyEdit") => json!({"applied": true}),
            _ => Value::Null,
        };
        (result, Duration::ZERO)
    });
    let mut server = Server::start_with(
        &["lsp"],
        &[("XDG_STATE_HOME", state.to_str().unwrap())],
        responder,
    );
    server
        .request(
            "initialize",
            json!({"processId": null, "rootUri": uri(&root), "capabilities": {"workspace": {"applyEdit": true}},
                   "initializationOptions": {"nats": {"url": nats.url()}}}),
        )
        .expect("initialize");
    server.notify("initialized", json!({}));
    let mut editor = Editor {
        server,
        root: root.clone(),
    };
    wait_until("events on", || editor.event_status()["enabled"] == true);
    editor.open("home.nix", home);
    let result = editor
        .server
        .request(
            "workspace/executeCommand",
            json!({"command": "cim-nix.migrateDotfile",
                   "arguments": [{"dotfile": root.join("gitconfig"), "target": uri(&root.join("home.nix"))}]}),
        )
        .expect("migrateDotfile");
    assert_eq!(result["applied"], true, "{result}");
    editor
        .server
        .request(
            "workspace/executeCommand",
            json!({"command": "cim-nix.dotfileMigrated",
                   "arguments": [{"file": uri(&root.join("home.nix")), "program": "git",
                                  "source": root.join("gitconfig"), "target": ".config/git/config"}]}),
        )
        .expect("dotfileMigrated");
    let messages = wait_for_messages(&nats.url(), STREAM, 2, WAIT);
    assert_eq!(
        types(&messages),
        ["home.dotfile_migrated", "home.dotfile_migrated"],
        "{}",
        editor.server.stderr()
    );
    for m in &messages {
        assert_eq!(
            m.body["data"],
            json!({"program": "git", "source": "gitconfig", "target": ".config/git/config"})
        );
        assert_eq!(m.body["aggregate"]["path"], "home.nix");
    }
    assert_one_chain(&messages);
}

/// `cim-nix migrate --into FILE --nats URL`: the migration is an event too.
#[test]
fn a_migration_on_the_command_line_is_an_event() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(&dir.path().join("js"));
    std::fs::write(dir.path().join("gitconfig"), "[user]\n  name = Ada\n").unwrap();
    std::fs::write(
        dir.path().join("home.nix"),
        "{ ... }:\n{\n  home.stateVersion = \"25.11\";\n}\n",
    )
    .unwrap();
    let out = std::process::Command::new(support::lsp::binary())
        .args([
            "migrate",
            "gitconfig",
            "--into",
            "home.nix",
            "--nats",
            &nats.url(),
        ])
        .current_dir(dir.path())
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .output()
        .expect("run cim-nix migrate");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("published 1 home.dotfile_migrated event(s)"),
        "{stderr}"
    );
    let messages = wait_for_messages(&nats.url(), STREAM, 1, WAIT);
    assert_eq!(types(&messages), ["home.dotfile_migrated"]);
    assert_eq!(
        messages[0].body["data"],
        json!({"program": "git", "source": "gitconfig", "target": ".config/git/config"})
    );
    assert_eq!(messages[0].body["aggregate"]["path"], "home.nix");
}
