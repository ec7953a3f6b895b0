//! `cim-nix service`: a NATS micro-service (`$SRV` PING, INFO and STATS
//! come with async-nats) answering analysis, formatting and flake requests
//! in a queue group, so replicas share the load. Each request is handled in
//! a task of its own with the work on a blocking thread; a bad request gets
//! a service error (`Nats-Service-Error`, `Nats-Service-Error-Code`), never
//! a crash or a timeout.

use std::panic::{catch_unwind, AssertUnwindSafe};

use async_nats::service::{self, ServiceExt};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};

use super::connect;
use super::publisher::EventSink;
use crate::config::{NatsSettings, Settings};
use crate::flake::{self, FlakeLock, FlakeModel, InputRef};
use crate::format::{self, Style};

/// The queue group replicas share.
pub const QUEUE_GROUP: &str = "cim-nix";
/// Requests larger than this are refused (NATS itself allows 1 MiB by
/// default; a server configured for more still gets a bound).
pub const MAX_REQUEST: usize = 8 << 20;

/// A refused request: a status code in the HTTP style and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: usize,
    pub message: String,
}

fn refuse(code: usize, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

/// Events waiting for NATS, at most (then the oldest are dropped).
const OUTBOX_MAX: usize = 100_000;

/// The endpoints: `(name, subject after the prefix)`.
pub const ENDPOINTS: &[(&str, &str)] = &[
    ("diagnostics", "query.document.diagnostics"),
    ("format", "cmd.document.format"),
    ("add-input", "cmd.flake.add_input"),
    ("remove-input", "cmd.flake.remove_input"),
    ("inputs", "query.flake.inputs"),
    ("migrate", "cmd.home.migrate"),
];

/// Answers one request of endpoint `name`: the reply's JSON, or a refusal.
/// Pure apart from nixfmt (run as a program when a request asks for it).
pub fn answer(name: &str, payload: &[u8]) -> Result<Value, Refusal> {
    if payload.len() > MAX_REQUEST {
        return Err(refuse(
            413,
            format!(
                "request of {} bytes is over the limit of {MAX_REQUEST}",
                payload.len()
            ),
        ));
    }
    let request: Value = serde_json::from_slice(payload)
        .map_err(|e| refuse(400, format!("the request is not JSON: {e}")))?;
    let outcome = catch_unwind(AssertUnwindSafe(|| match name {
        "diagnostics" => diagnostics(&request),
        "format" => format_request(&request),
        "add-input" => add_input(&request),
        "remove-input" => remove_input(&request),
        "inputs" => inputs(&request),
        "migrate" => migrate(&request),
        other => Err(refuse(404, format!("no endpoint `{other}`"))),
    }));
    outcome.unwrap_or_else(|panic| {
        let why = crate::panics::message(&*panic);
        tracing::error!("endpoint {name} panicked: {why}");
        Err(refuse(500, format!("internal error: {why}")))
    })
}

fn field<'a, T: Deserialize<'a>>(request: &'a Value, name: &str) -> Result<T, Refusal> {
    let value = request
        .get(name)
        .ok_or_else(|| refuse(400, format!("missing field `{name}`")))?;
    T::deserialize(value).map_err(|e| refuse(400, format!("field `{name}`: {e}")))
}

fn optional<'a, T: Deserialize<'a>>(request: &'a Value, name: &str) -> Result<Option<T>, Refusal> {
    match request.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => T::deserialize(value)
            .map(Some)
            .map_err(|e| refuse(400, format!("field `{name}`: {e}"))),
    }
}

fn diagnostics(request: &Value) -> Result<Value, Refusal> {
    let text: String = field(request, "text")?;
    let path: Option<String> = optional(request, "path")?;
    let lock: Option<String> = optional(request, "flake_lock")?;
    let settings = Settings::default();
    let path = path.unwrap_or_else(|| "<request>".into());
    let context = crate::ide::FileContext {
        is_flake: flake::is_flake_file(&path),
        flake_lock: lock.as_deref(),
        named_as_home_module: false,
        previous: None,
        once: true,
    };
    let analysis = crate::ide::analyze(&text, &[], &settings, context);
    Ok(crate::report::findings_json(
        &path,
        &text,
        analysis.diagnostics,
    ))
}

/// The request's `style`, nixpkgs-fmt when it names none.
fn style_field(request: &Value) -> Result<Style, Refusal> {
    match optional::<String>(request, "style")? {
        None => Ok(Style::NixpkgsFmt),
        Some(name) => Style::parse(&name).ok_or_else(|| {
            refuse(
                400,
                format!("unknown style `{name}`: use nixpkgs-fmt, alejandra or nixfmt"),
            )
        }),
    }
}

fn format_request(request: &Value) -> Result<Value, Refusal> {
    let text: String = field(request, "text")?;
    let style = style_field(request)?;
    let parse = crate::syntax::parse(&text);
    let index = crate::syntax::LineIndex::new(&text);
    let formatter = format::formatter(style, &format::FormatOptions::default());
    let position = |offset: usize| {
        let at = index.line_col(
            rnix::TextSize::from(offset as u32),
            crate::syntax::PositionEncoding::Utf32,
        );
        format!("{}:{}", at.line + 1, at.col + 1)
    };
    match format::format_text(&text, &parse, formatter.as_ref(), position) {
        Ok(formatted) => Ok(json!({ "text": formatted })),
        Err(e @ format::FormatError::SyntaxErrors { .. }) => Err(refuse(422, e.to_string())),
        Err(e) => Err(refuse(500, e.to_string())),
    }
}

fn edit_refusal(e: flake::edit::EditError) -> Refusal {
    use flake::edit::EditError::*;
    let code = match &e {
        Syntax(_) | NotAFlake => 422,
        AlreadyDeclared(_) => 409,
        NotDeclared(_) => 404,
        InvalidName(_) | EmptyUrl => 400,
        Unsafe(_) => 500,
    };
    refuse(code, e.to_string())
}

fn add_input(request: &Value) -> Result<Value, Refusal> {
    let text: String = field(request, "text")?;
    let input: String = field(request, "input")?;
    let url: String = field(request, "url")?;
    let edited = flake::edit::add_input(&text, &input, &url).map_err(edit_refusal)?;
    Ok(json!({ "text": edited }))
}

fn remove_input(request: &Value) -> Result<Value, Refusal> {
    let text: String = field(request, "text")?;
    let input: String = field(request, "input")?;
    let edited = flake::edit::remove_input(&text, &input).map_err(edit_refusal)?;
    Ok(json!({ "text": edited }))
}

/// One dotfile of a `migrate` request.
#[derive(Deserialize)]
struct Dotfile {
    path: String,
    text: String,
}

/// The Home Manager file a `migrate` request inserts into.
#[derive(Deserialize)]
struct Target {
    path: String,
    text: String,
}

/// Files a dotfile refers to (git's `core.excludesFile`), by the path it
/// names them with.
struct RequestFiles(std::collections::HashMap<String, String>);

impl crate::ide::migrate::Files for RequestFiles {
    fn read(&self, path: &str) -> Option<String> {
        self.0.get(path).cloned()
    }
}

fn migrate(request: &Value) -> Result<Value, Refusal> {
    use crate::ide::migrate::{self as m, MigrateError, Program, Release, Source};
    let dotfiles: Vec<Dotfile> = field(request, "dotfiles")?;
    if dotfiles.is_empty() {
        return Err(refuse(
            400,
            "`dotfiles` is empty: send at least one {\"path\", \"text\"}",
        ));
    }
    let program = match optional::<String>(request, "program")? {
        None => None,
        Some(name) => Some(Program::named(&name).ok_or_else(|| {
            refuse(
                400,
                format!("unknown program `{name}`: use git, ssh, tmux, ... or file"),
            )
        })?),
    };
    let into: Option<Target> = optional(request, "into")?;
    let lock: Option<String> = optional(request, "flake_lock")?;
    let release = match optional::<String>(request, "release")? {
        Some(text) => Release::parse(&text).ok_or_else(|| {
            refuse(
                400,
                format!("`{text}` is not a Home Manager release (YY.05 or YY.11)"),
            )
        })?,
        None => m::release_for(into.as_ref().map(|t| t.text.as_str()), lock.as_deref()),
    };
    let style = style_field(request)?;
    let files = RequestFiles(optional(request, "files")?.unwrap_or_default());
    let mut migrations = Vec::new();
    for dotfile in &dotfiles {
        let source = Source {
            path: &dotfile.path,
            text: &dotfile.text,
        };
        let migrated = match program {
            Some(program) => m::migrate_as(program, source, release, &files),
            None => m::migrate(source, release, &files),
        };
        migrations.push(migrated.map_err(|e| match e {
            MigrateError::Syntax { .. } | MigrateError::Unknown { .. } => {
                refuse(422, e.to_string())
            }
        })?);
    }
    let migrations = m::merge(migrations);
    let mut reply = json!({
        "release": release.to_string(),
        "migrations": migrations.iter().map(|m| json!({
            "program": m.program.name(),
            "source": m.source,
            "option": m.option.join("."),
            "target": m.target(),
        })).collect::<Vec<_>>(),
        "warnings": migrations.iter().flat_map(|m| m.warnings.iter().map(|w| json!({
            "source": m.source,
            "line": w.line,
            "message": w.message,
        }))).collect::<Vec<_>>(),
    });
    match into {
        None => reply["nix"] = json!(m::to_nix(&migrations, style)),
        Some(target) => {
            let parse = crate::syntax::parse(&target.text);
            if !parse.errors().is_empty() {
                return Err(refuse(
                    422,
                    format!("{} has syntax errors; fix them first", target.path),
                ));
            }
            let inserted = m::insert_into(&target.text, &migrations, None, style)
                .map_err(|e| refuse(422, format!("{}: {e}", target.path)))?;
            reply["path"] = json!(target.path);
            reply["text"] = json!(inserted.text);
            reply["kept"] = json!(inserted.kept);
        }
    }
    Ok(reply)
}

/// The `home.dotfile_migrated` events of a `migrate` reply that changed a
/// Home Manager file: one per migration, on that file's aggregate.
pub fn migrated_events(reply: &Value) -> Vec<crate::events::DomainEvent> {
    let Some(path) = reply.get("path").and_then(Value::as_str) else {
        return Vec::new();
    };
    let mut hub = crate::events::EventHub::default();
    let mut events = Vec::new();
    for m in reply["migrations"].as_array().into_iter().flatten() {
        let text = |key: &str| {
            m.get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        events.extend(hub.dotfile_migrated(
            path,
            &text("program"),
            &text("source"),
            &text("target"),
            &mut crate::events::SystemStamps,
        ));
    }
    events
}

fn inputs(request: &Value) -> Result<Value, Refusal> {
    let text: String = field(request, "flake_nix")?;
    let lock_text: Option<String> = optional(request, "flake_lock")?;
    let parse = crate::syntax::parse(&text);
    if let Some(e) = parse.errors().first() {
        return Err(refuse(
            422,
            format!("flake.nix has syntax errors: {}", e.message),
        ));
    }
    let model = parse
        .syntax()
        .and_then(|root| FlakeModel::from_tree(&root))
        .ok_or_else(|| {
            refuse(
                422,
                "this is not a flake: its top level is not an attribute set",
            )
        })?;
    let lock = lock_text
        .as_deref()
        .map(FlakeLock::parse)
        .transpose()
        .map_err(|e| refuse(422, e.to_string()))?;
    let inputs: Vec<Value> = model
        .inputs
        .iter()
        .map(|input| {
            let locked = lock.as_ref().and_then(|lock| {
                let target = lock.root_inputs()?.get(&input.name)?;
                let (node_name, node) = lock.root_input_node(&input.name)?;
                Some(json!({
                    "node": node_name,
                    "follows": match target {
                        InputRef::Follows(path) => json!(path),
                        InputRef::Node(_) => Value::Null,
                    },
                    "locked": node.locked,
                    "last_modified": node.last_modified,
                    "original": node.original,
                }))
            });
            json!({
                "name": input.name,
                "url": input.url,
                "flake": input.flake,
                "follows": input.follows,
                "inputs": input.inputs,
                "lock": locked,
            })
        })
        .collect();
    Ok(json!({
        "description": model.description,
        "inputs": inputs,
        "outputs": model.outputs,
    }))
}

/// Runs the service until the process is stopped.
pub async fn run(settings: &NatsSettings) -> Result<(), String> {
    let (client, mut state) = connect(settings, "cim-nix service").await?;
    let url = settings.url.clone().unwrap_or_default();
    if *state.borrow() != super::ConnectionState::Connected {
        tracing::info!("waiting for NATS at {url}");
        let _ = state
            .wait_for(|s| *s == super::ConnectionState::Connected)
            .await;
    }
    let service = client
        .service_builder()
        .description("cim-nix: Nix diagnostics, formatting and flake edits")
        .queue_group(QUEUE_GROUP)
        .start("cim-nix", env!("CARGO_PKG_VERSION"))
        .await
        .map_err(|e| format!("cannot start the NATS service: {e}"))?;
    // `home.dotfile_migrated` events go through an outbox, as the
    // server's do, so that none is lost while NATS is away.
    let sink = match super::outbox::default_dir() {
        Some(dir) => match super::outbox::Outbox::open(&dir, OUTBOX_MAX) {
            Ok(outbox) => Some(super::publisher::start(settings, outbox)),
            Err(e) => {
                tracing::error!("{e}; migrations are answered without events");
                None
            }
        },
        None => {
            tracing::error!("no XDG_STATE_HOME or HOME to keep the event outbox in; migrations are answered without events");
            None
        }
    };
    let mut tasks = Vec::new();
    for (name, subject) in ENDPOINTS {
        let subject = format!("{}.{subject}", settings.subject_prefix);
        let mut endpoint = service
            .endpoint_builder()
            .name(*name)
            .add(subject.clone())
            .await
            .map_err(|e| format!("cannot serve {subject}: {e}"))?;
        tracing::info!("serving {subject}");
        let sink = sink.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(request) = endpoint.next().await {
                tokio::spawn(handle(name, request, sink.clone()));
            }
        }));
    }
    eprintln!("cim-nix service: serving on {url} (queue group `{QUEUE_GROUP}`)");
    for task in tasks {
        let _ = task.await;
    }
    Ok(())
}

async fn handle(name: &'static str, request: service::Request, sink: Option<EventSink>) {
    // A request without a reply subject cannot be answered (and
    // async-nats would panic trying).
    if request.message.reply.is_none() {
        tracing::warn!("{name}: request without a reply subject; ignored");
        return;
    }
    let payload = request.message.payload.clone();
    let answered = tokio::task::spawn_blocking(move || answer(name, &payload)).await;
    let reply = match answered {
        Ok(Ok(value)) => {
            if let (Some(sink), "migrate") = (&sink, name) {
                sink.emit(&migrated_events(&value));
            }
            Ok(value.to_string().into())
        }
        Ok(Err(refusal)) => Err(service::error::Error {
            status: refusal.message,
            code: refusal.code,
        }),
        Err(e) => Err(service::error::Error {
            status: format!("internal error: {e}"),
            code: 500,
        }),
    };
    if let Err(e) = request.respond(reply).await {
        tracing::warn!("{name}: cannot send the reply: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_requests_are_refused_with_a_code() {
        assert_eq!(answer("format", b"not json").unwrap_err().code, 400);
        assert_eq!(answer("format", b"{}").unwrap_err().code, 400);
        assert_eq!(answer("format", br#"{"text": 3}"#).unwrap_err().code, 400);
        assert_eq!(
            answer("format", br#"{"text": "{", "style": "alejandra"}"#)
                .unwrap_err()
                .code,
            422
        );
        assert_eq!(
            answer("format", br#"{"text": "{}", "style": "black"}"#)
                .unwrap_err()
                .code,
            400
        );
        let big = vec![b' '; MAX_REQUEST + 1];
        assert_eq!(answer("diagnostics", &big).unwrap_err().code, 413);
    }

    #[test]
    fn format_and_diagnostics_answer() {
        let reply = answer("format", br#"{"text": "{a=1;}"}"#).unwrap();
        assert_eq!(reply["text"], "{ a = 1; }\n");
        let reply = answer(
            "diagnostics",
            br#"{"path": "x.nix", "text": "let a = 1; in 2"}"#,
        )
        .unwrap();
        assert_eq!(reply["diagnostics"][0]["rule"], "unused-let");
        assert_eq!(reply["summary"]["warnings"], 1);
    }
}
