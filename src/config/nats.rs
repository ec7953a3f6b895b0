//! The `nats.*` and `events.*` settings (doc/events.md): where domain events
//! go and when they are emitted.

use serde_json::Value;

use super::{kind, problem, SettingsProblem};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsSettings {
    /// `nats.url`; `None` turns events off: nothing is attempted.
    pub url: Option<String>,
    pub creds_file: Option<String>,
    pub nkey_seed_file: Option<String>,
    /// `nats.token`, else the `NATS_TOKEN` environment variable.
    pub token: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub tls_ca: Option<String>,
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    /// `nats.subjectPrefix`: subjects are `{prefix}.event.{aggregate}.{action}`.
    pub subject_prefix: String,
    /// `nats.stream`: the JetStream stream that stores the events.
    pub stream: String,
}

impl Default for NatsSettings {
    fn default() -> NatsSettings {
        NatsSettings {
            url: None,
            creds_file: None,
            nkey_seed_file: None,
            token: None,
            user: None,
            password: None,
            tls_ca: None,
            tls_cert: None,
            tls_key: None,
            subject_prefix: "nix".into(),
            stream: "NIX_EVENTS".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmitOn {
    Save,
    /// After `quiet_ms` without edits.
    Change,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSettings {
    pub enabled: bool,
    pub emit_on: EmitOn,
    pub quiet_ms: u64,
    pub emit_observed: bool,
    /// `events.outboxMax`: events kept on disk while NATS is unreachable.
    pub outbox_max: u64,
}

impl Default for EventSettings {
    fn default() -> EventSettings {
        EventSettings {
            enabled: true,
            emit_on: EmitOn::Save,
            quiet_ms: 1500,
            emit_observed: false,
            outbox_max: 100_000,
        }
    }
}

/// What one source says about `nats.*` and `events.*`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NatsLayer {
    pub strings: Vec<(&'static str, Option<String>)>,
    pub events_enabled: Option<bool>,
    pub emit_on: Option<EmitOn>,
    pub quiet_ms: Option<u64>,
    pub emit_observed: Option<bool>,
    pub outbox_max: Option<u64>,
}

const STRING_KEYS: &[&str] = &[
    "url",
    "credsFile",
    "nkeySeedFile",
    "token",
    "user",
    "password",
    "tls.ca",
    "tls.cert",
    "tls.key",
    "subjectPrefix",
    "stream",
];

impl NatsLayer {
    /// `nats = { ... }` or `nats.<key>`; `key` is what follows `nats.`, or
    /// empty for the whole table.
    pub fn read_nats(&mut self, key: &str, value: &Value, problems: &mut Vec<SettingsProblem>) {
        if key.is_empty() || key == "tls" {
            let Value::Object(map) = value else {
                let full = if key.is_empty() {
                    "nats".into()
                } else {
                    format!("nats.{key}")
                };
                problems.push(problem(
                    &full,
                    format!("expected a table, got {}", kind(value)),
                ));
                return;
            };
            for (sub, value) in map {
                let sub = if key.is_empty() {
                    sub.clone()
                } else {
                    format!("{key}.{sub}")
                };
                self.read_nats(&sub, value, problems);
            }
            return;
        }
        let full = format!("nats.{key}");
        let Some(name) = STRING_KEYS.iter().find(|k| **k == key) else {
            problems.push(problem(&full, "unknown setting; ignored".into()));
            return;
        };
        let text = match value {
            // `null` or "" clears what a lower layer set (`nats.url = ""`
            // turns events off for a project).
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(s.clone()),
            other => {
                problems.push(problem(&full, format!("expected a string, got {other}")));
                return;
            }
        };
        let valid = match (*name, &text) {
            ("subjectPrefix", None) | ("stream", None) => Err("must not be empty".to_string()),
            ("subjectPrefix", Some(p)) if !valid_subject_prefix(p) => Err(format!(
                "`{p}` is not a valid subject prefix (tokens separated by `.`, no spaces, `*` or `>`)"
            )),
            ("stream", Some(s)) if !valid_stream_name(s) => Err(format!(
                "`{s}` is not a valid stream name (no spaces, `.`, `*`, `>`, `/` or `\\`)"
            )),
            ("url", Some(u)) if !u.split(',').all(valid_url) => Err(format!(
                "`{u}` is not a NATS URL such as nats://127.0.0.1:4222 (several may be separated by commas)"
            )),
            _ => Ok(()),
        };
        match valid {
            Ok(()) => self.strings.push((name, text)),
            Err(why) => problems.push(problem(&full, why)),
        }
    }

    pub fn read_events(&mut self, key: &str, value: &Value, problems: &mut Vec<SettingsProblem>) {
        if key.is_empty() {
            let Value::Object(map) = value else {
                problems.push(problem(
                    "events",
                    format!("expected a table, got {}", kind(value)),
                ));
                return;
            };
            for (sub, value) in map {
                self.read_events(sub, value, problems);
            }
            return;
        }
        let full = format!("events.{key}");
        let bad = |problems: &mut Vec<SettingsProblem>, expected: &str| {
            problems.push(problem(&full, format!("expected {expected}, got {value}")))
        };
        match key {
            "enabled" | "enable" => match value.as_bool() {
                Some(b) => self.events_enabled = Some(b),
                None => bad(problems, "true or false"),
            },
            "emitObserved" => match value.as_bool() {
                Some(b) => self.emit_observed = Some(b),
                None => bad(problems, "true or false"),
            },
            "emitOn" => match value.as_str() {
                Some("save") => self.emit_on = Some(EmitOn::Save),
                Some("change") => self.emit_on = Some(EmitOn::Change),
                _ => bad(problems, "\"save\" or \"change\""),
            },
            "quietMs" => match value.as_u64() {
                Some(ms) if ms > 0 => self.quiet_ms = Some(ms),
                _ => bad(problems, "a positive number of milliseconds"),
            },
            "outboxMax" => match value.as_u64() {
                Some(n) if n > 0 => self.outbox_max = Some(n),
                _ => bad(problems, "a positive number of events"),
            },
            _ => problems.push(problem(&full, "unknown setting; ignored".into())),
        }
    }

    pub fn apply(&self, nats: &mut NatsSettings, events: &mut EventSettings) {
        for (key, value) in &self.strings {
            let slot = match *key {
                "url" => &mut nats.url,
                "credsFile" => &mut nats.creds_file,
                "nkeySeedFile" => &mut nats.nkey_seed_file,
                "token" => &mut nats.token,
                "user" => &mut nats.user,
                "password" => &mut nats.password,
                "tls.ca" => &mut nats.tls_ca,
                "tls.cert" => &mut nats.tls_cert,
                "tls.key" => &mut nats.tls_key,
                "subjectPrefix" => {
                    if let Some(v) = value {
                        nats.subject_prefix = v.clone();
                    }
                    continue;
                }
                _ => {
                    if let Some(v) = value {
                        nats.stream = v.clone();
                    }
                    continue;
                }
            };
            *slot = value.clone();
        }
        if let Some(b) = self.events_enabled {
            events.enabled = b;
        }
        if let Some(e) = self.emit_on {
            events.emit_on = e;
        }
        if let Some(ms) = self.quiet_ms {
            events.quiet_ms = ms;
        }
        if let Some(b) = self.emit_observed {
            events.emit_observed = b;
        }
        if let Some(n) = self.outbox_max {
            events.outbox_max = n;
        }
    }
}

pub fn valid_subject_prefix(p: &str) -> bool {
    !p.is_empty()
        && p.split('.').all(|t| {
            !t.is_empty() && !t.contains(|c: char| c.is_whitespace() || c == '*' || c == '>')
        })
}

fn valid_stream_name(s: &str) -> bool {
    !s.is_empty()
        && !s.contains(|c: char| c.is_whitespace() || matches!(c, '.' | '*' | '>' | '/' | '\\'))
}

fn valid_url(u: &str) -> bool {
    let u = u.trim();
    let rest = ["nats://", "tls://"]
        .iter()
        .find_map(|s| u.strip_prefix(s))
        .unwrap_or(u);
    !rest.is_empty()
        && !rest.contains(char::is_whitespace)
        && !rest.starts_with(':')
        && !rest.contains("://")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_tables_and_dotted_keys_and_reports_bad_values() {
        let mut layer = NatsLayer::default();
        let mut problems = Vec::new();
        layer.read_nats(
            "",
            &json!({"url": "nats://127.0.0.1:4222", "tls": {"ca": "/ca.pem"}, "stream": "a.b", "subjectPrefix": "acme.nix"}),
            &mut problems,
        );
        layer.read_events(
            "",
            &json!({"emitOn": "change", "quietMs": 0}),
            &mut problems,
        );
        let mut nats = NatsSettings::default();
        let mut events = EventSettings::default();
        layer.apply(&mut nats, &mut events);
        assert_eq!(nats.url.as_deref(), Some("nats://127.0.0.1:4222"));
        assert_eq!(nats.tls_ca.as_deref(), Some("/ca.pem"));
        assert_eq!(nats.subject_prefix, "acme.nix");
        assert_eq!(
            nats.stream, "NIX_EVENTS",
            "the invalid stream name is ignored"
        );
        assert_eq!(events.emit_on, EmitOn::Change);
        assert_eq!(events.quiet_ms, 1500);
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["nats.stream", "events.quietMs"]);
    }

    #[test]
    fn an_empty_url_turns_events_off() {
        let mut layer = NatsLayer::default();
        layer.read_nats("url", &json!(""), &mut Vec::new());
        let mut nats = NatsSettings {
            url: Some("nats://x:4222".into()),
            ..NatsSettings::default()
        };
        layer.apply(&mut nats, &mut EventSettings::default());
        assert_eq!(nats.url, None);
    }
}
