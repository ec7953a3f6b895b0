//! `cim-nix service` against a real nats-server: the `$SRV` protocol, every
//! endpoint, malformed requests, and load shared by two replicas.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};
use support::nats::NatsServer;

struct Replica(Child);

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_replica(url: &str) -> Replica {
    let child = Command::new(support::lsp::binary())
        .args(["service", "--nats", url])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cim-nix service");
    Replica(child)
}

/// Every reply to a request on `subject` within `wait` (the `$SRV` verbs
/// are answered by every instance).
async fn gather(client: &async_nats::Client, subject: &str, wait: Duration) -> Vec<Value> {
    let inbox = client.new_inbox();
    let mut replies = client.subscribe(inbox.clone()).await.unwrap();
    client.flush().await.unwrap();
    client
        .publish_with_reply(subject.to_string(), inbox, "".into())
        .await
        .unwrap();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(message)) = tokio::time::timeout_at(deadline, replies.next()).await {
        // No responders yet: a status message without a payload.
        if message.payload.is_empty() {
            continue;
        }
        out.push(serde_json::from_slice(&message.payload).unwrap());
    }
    out
}

async fn wait_for_instances(client: &async_nats::Client, n: usize) {
    for _ in 0..100 {
        if gather(client, "$SRV.PING.cim-nix", Duration::from_millis(300))
            .await
            .len()
            >= n
        {
            return;
        }
    }
    panic!("{n} service instances did not come up");
}

/// Sends `request` to `subject`: `Ok(reply JSON)` or `Err((code, message))`.
async fn call(
    client: &async_nats::Client,
    subject: &str,
    payload: Vec<u8>,
) -> Result<Value, (String, String)> {
    let reply = tokio::time::timeout(
        Duration::from_secs(20),
        client.request(subject.to_string(), payload.into()),
    )
    .await
    .expect("no timeout")
    .expect("a reply");
    if let Some(headers) = &reply.headers {
        if let Some(status) = headers.get("Nats-Service-Error") {
            let code = headers
                .get("Nats-Service-Error-Code")
                .map(|c| c.as_str().to_string())
                .unwrap_or_default();
            return Err((code, status.as_str().to_string()));
        }
    }
    Ok(serde_json::from_slice(&reply.payload).expect("reply is JSON"))
}

fn body(value: Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

const FLAKE: &str = r#"{
  description = "tools";

  inputs = {
    # the package set
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";
  };

  outputs = { self, nixpkgs, ... }: {
    packages.x86_64-linux.default = nixpkgs.legacyPackages.x86_64-linux.hello;
  };
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_answers_every_endpoint_and_shares_load() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(dir.path());
    let url = nats.url();
    let _a = start_replica(&url);
    let _b = start_replica(&url);
    let client = async_nats::connect(&url).await.unwrap();
    wait_for_instances(&client, 2).await;

    let info = gather(&client, "$SRV.INFO.cim-nix", Duration::from_millis(500)).await;
    assert_eq!(info.len(), 2);
    let subjects: Vec<&str> = info[0]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["subject"].as_str().unwrap())
        .collect();
    for expected in [
        "nix.query.document.diagnostics",
        "nix.cmd.document.format",
        "nix.cmd.flake.add_input",
        "nix.cmd.flake.remove_input",
        "nix.query.flake.inputs",
        "nix.cmd.home.migrate",
    ] {
        assert!(subjects.contains(&expected), "{subjects:?}");
    }
    assert!(info[0]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["queue_group"] == "cim-nix"));

    // Diagnostics: the shape of `cim-nix check --format json`.
    let reply = call(
        &client,
        "nix.query.document.diagnostics",
        body(json!({"path": "pkgs/tool.nix", "text": "{ pkgs, lib }:\nlet unused = 1; in pkgs.hello\n"})),
    )
    .await
    .unwrap();
    assert_eq!(reply["version"], 1);
    let rules: Vec<&str> = reply["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["unused-pattern-field", "unused-let"]);
    assert_eq!(
        reply["diagnostics"][1]["range"]["start"],
        json!({"line": 2, "column": 5, "offset": 19})
    );
    assert_eq!(reply["diagnostics"][0]["path"], "pkgs/tool.nix");

    // Format, in two styles.
    let reply = call(
        &client,
        "nix.cmd.document.format",
        body(json!({"text": "{a=1;b=[1 2];}"})),
    )
    .await
    .unwrap();
    assert_eq!(reply["text"], "{ a = 1; b = [ 1 2 ]; }\n");
    let reply = call(
        &client,
        "nix.cmd.document.format",
        body(json!({"text": "{a=1;}", "style": "alejandra"})),
    )
    .await
    .unwrap();
    assert_eq!(reply["text"], "{a = 1;}\n");

    // Flake edits: lossless, and the model shows them.
    let added = call(
        &client,
        "nix.cmd.flake.add_input",
        body(json!({"text": FLAKE, "input": "home-manager", "url": "github:nix-community/home-manager"})),
    )
    .await
    .unwrap();
    let added = added["text"].as_str().unwrap().to_string();
    assert_eq!(
        added,
        FLAKE.replace(
            "    nixpkgs.url = \"github:NixOS/nixpkgs/nixos-24.05\";\n",
            "    nixpkgs.url = \"github:NixOS/nixpkgs/nixos-24.05\";\n    home-manager.url = \"github:nix-community/home-manager\";\n"
        )
    );
    let removed = call(
        &client,
        "nix.cmd.flake.remove_input",
        body(json!({"text": added, "input": "home-manager"})),
    )
    .await
    .unwrap();
    assert_eq!(removed["text"], FLAKE);

    // Inputs with their lock.
    let lock = json!({"nodes": {
        "nixpkgs": {"locked": {"lastModified": 1716948383, "narHash": "sha256-x", "owner": "NixOS",
                               "repo": "nixpkgs", "rev": "ad57eef4ef0659193044870c731987a6df5cf56b", "type": "github"},
                    "original": {"owner": "NixOS", "ref": "nixos-24.05", "repo": "nixpkgs", "type": "github"}},
        "root": {"inputs": {"nixpkgs": "nixpkgs"}}}, "root": "root", "version": 7});
    let reply = call(
        &client,
        "nix.query.flake.inputs",
        body(json!({"flake_nix": FLAKE, "flake_lock": lock.to_string()})),
    )
    .await
    .unwrap();
    assert_eq!(reply["description"], "tools");
    assert_eq!(reply["outputs"], json!(["packages"]));
    let nixpkgs = &reply["inputs"][0];
    assert_eq!(nixpkgs["name"], "nixpkgs");
    assert_eq!(nixpkgs["url"], "github:NixOS/nixpkgs/nixos-24.05");
    assert_eq!(
        nixpkgs["lock"]["locked"]["rev"],
        "ad57eef4ef0659193044870c731987a6df5cf56b"
    );
    assert_eq!(nixpkgs["lock"]["last_modified"], 1716948383);

    // Bad requests: service errors, never a timeout.
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("nix.cmd.document.format", b"{not json".to_vec(), "400"),
        ("nix.cmd.document.format", body(json!({})), "400"),
        (
            "nix.cmd.document.format",
            body(json!({"text": "{", "style": "nixpkgs-fmt"})),
            "422",
        ),
        (
            "nix.cmd.document.format",
            body(json!({"text": "{}", "style": "black"})),
            "400",
        ),
        (
            "nix.query.document.diagnostics",
            body(json!({"text": 42})),
            "400",
        ),
        (
            "nix.cmd.flake.add_input",
            body(json!({"text": FLAKE, "input": "nixpkgs", "url": "github:a/b"})),
            "409",
        ),
        (
            "nix.cmd.flake.remove_input",
            body(json!({"text": FLAKE, "input": "nope"})),
            "404",
        ),
        (
            "nix.cmd.flake.add_input",
            body(json!({"text": "x: x", "input": "a", "url": "github:a/b"})),
            "422",
        ),
        (
            "nix.query.flake.inputs",
            body(json!({"flake_nix": FLAKE, "flake_lock": "{"})),
            "422",
        ),
    ];
    for (subject, payload, code) in cases {
        let shown = String::from_utf8_lossy(&payload).to_string();
        let (got, message) = call(&client, subject, payload).await.expect_err(&shown);
        assert_eq!(got, code, "{subject} {shown}: {message}");
        assert!(!message.is_empty());
    }

    // 100 concurrent requests: all answered, by both replicas.
    let mut requests = Vec::new();
    for i in 0..100 {
        let client = client.clone();
        requests.push(tokio::spawn(async move {
            let text = format!("{{a{i}={i};}}");
            let reply = call(
                &client,
                "nix.cmd.document.format",
                body(json!({"text": text})),
            )
            .await
            .unwrap();
            assert_eq!(reply["text"], format!("{{ a{i} = {i}; }}\n"));
        }));
    }
    for request in requests {
        request.await.unwrap();
    }
    let stats = gather(&client, "$SRV.STATS.cim-nix", Duration::from_millis(500)).await;
    assert_eq!(stats.len(), 2);
    let served: Vec<u64> = stats
        .iter()
        .map(|s| {
            s["endpoints"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["name"] == "format")
                .map(|e| e["num_requests"].as_u64().unwrap())
                .sum()
        })
        .collect();
    assert_eq!(served.iter().sum::<u64>(), 100 + 2 + 4, "{served:?}");
    assert!(
        served.iter().all(|n| *n > 0),
        "both replicas served: {served:?}"
    );

    // Hostile input: deep nesting and a long operator chain (rnix alone
    // overflows its stack on these) get an answer, and nobody dies.
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let chain = format!("1{}", " + 1".repeat(200_000));
    for text in [&deep, &chain] {
        let reply = call(
            &client,
            "nix.query.document.diagnostics",
            body(json!({"text": text})),
        )
        .await
        .expect("diagnostics of hostile input");
        assert!(reply["diagnostics"].is_array());
    }
    let formatted = call(
        &client,
        "nix.cmd.document.format",
        body(json!({"text": deep})),
    )
    .await;
    let (code, message) = formatted.expect_err("too deep to format");
    assert_eq!(code, "422", "{message}");

    // And the service still answers.
    assert_eq!(
        gather(&client, "$SRV.PING.cim-nix", Duration::from_millis(300))
            .await
            .len(),
        2
    );
}

/// `nix.cmd.home.migrate`: dotfiles in, Home Manager options out (printed,
/// or inserted into the module sent along), and each migration into a
/// module becomes a `home.dotfile_migrated` event on JetStream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dotfiles_are_migrated_and_each_migration_is_an_event() {
    let dir = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(&dir.path().join("js"));
    let url = nats.url();
    let state = dir.path().join("state");
    let _replica = Replica(
        Command::new(support::lsp::binary())
            .args(["service", "--nats", &url])
            .env("XDG_STATE_HOME", &state)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cim-nix service"),
    );
    let client = async_nats::connect(&url).await.unwrap();
    wait_for_instances(&client, 1).await;

    let gitconfig = "[user]\n\tname = Ada Lovelace\n[core]\n\texcludesFile = ~/.gitignore\n[alias]\n\tst = status\n";
    // Printed, with a referenced file sent along.
    let reply = call(
        &client,
        "nix.cmd.home.migrate",
        body(
            json!({"dotfiles": [{"path": "~/.gitconfig", "text": gitconfig}],
                    "files": {"~/.gitignore": "result\n*.swp\n"}}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(reply["release"], "26.11");
    assert_eq!(
        reply["nix"],
        "programs.git = {\n  enable = true;\n  settings = {\n    user.name = \"Ada Lovelace\";\n    alias.st = \"status\";\n  };\n  ignores = [ \"result\" \"*.swp\" ];\n};\n"
    );
    assert_eq!(
        reply["migrations"],
        json!([{"program": "git", "source": "~/.gitconfig", "option": "programs.git", "target": ".config/git/config"}])
    );

    // Into a module: its release (stateVersion 25.05) names the options,
    // and the rest of the module is unchanged.
    let module = "{ pkgs, ... }:\n{\n  home.stateVersion = \"25.05\";\n}\n";
    let reply = call(
        &client,
        "nix.cmd.home.migrate",
        body(json!({"dotfiles": [{"path": "~/.gitconfig", "text": "[user]\n\tname = Ada\n"},
                                 {"path": "~/.config/starship.toml", "text": "add_newline = false\n"}],
                    "into": {"path": "users/ada/home.nix", "text": module}})),
    )
    .await
    .unwrap();
    assert_eq!(reply["release"], "25.05");
    assert_eq!(
        reply["text"],
        "{ pkgs, ... }:\n{\n  home.stateVersion = \"25.05\";\n  programs.git = {\n    enable = true;\n    userName = \"Ada\";\n  };\n  programs.starship = {\n    enable = true;\n    settings.add_newline = false;\n  };\n}\n"
    );
    let messages = tokio::task::spawn_blocking(move || {
        support::nats::wait_for_messages(&url, "NIX_EVENTS", 2, Duration::from_secs(20))
    })
    .await
    .unwrap();
    let data: Vec<&Value> = messages.iter().map(|m| &m.body["data"]).collect();
    assert_eq!(
        data,
        [
            &json!({"program": "git", "source": "~/.gitconfig", "target": ".config/git/config"}),
            &json!({"program": "starship", "source": "~/.config/starship.toml", "target": ".config/starship.toml"}),
        ]
    );
    for m in &messages {
        assert_eq!(
            m.body["event_type"], "home.dotfile_migrated",
            "{:?}",
            m.body
        );
        assert_eq!(m.body["aggregate"]["path"], "users/ada/home.nix");
    }

    // Refusals: a dotfile its program would reject, a module that is not
    // one, an unknown program or release.
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"dotfiles": [{"path": "~/.gitconfig", "text": "[user\n"}]}),
            "422",
        ),
        (
            json!({"dotfiles": [{"path": "~/.gitconfig", "text": ""}], "into": {"path": "x.nix", "text": "import ./y.nix"}}),
            "422",
        ),
        (
            json!({"dotfiles": [{"path": "x", "text": ""}], "program": "emacs"}),
            "400",
        ),
        (
            json!({"dotfiles": [{"path": "~/.gitconfig", "text": ""}], "release": "25.06"}),
            "400",
        ),
        (json!({"dotfiles": []}), "400"),
    ];
    for (request, code) in cases {
        let (got, message) = call(&client, "nix.cmd.home.migrate", body(request.clone()))
            .await
            .expect_err(&request.to_string());
        assert_eq!(got, code, "{request}: {message}");
    }
}
