//! Settings: their defaults, and lenient parsing of each source.
//!
//! Sources, lowest precedence first: defaults, the client's
//! `initializationOptions`, its `workspace/configuration` (section
//! `cim-nix`), and the nearest `cim-nix.toml` above the file (the project's
//! word wins, so the editor and `cim-nix check` in CI agree). Every source has
//! the same shape. A bad value is reported as a [`SettingsProblem`] and
//! ignored; the valid rest still applies. Pure: the server and CLI find and
//! read the files.

mod nats;
pub mod schema;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::diagnostic::{registry, Severity};
use crate::format::{FormatOptions, Style};

pub use nats::{valid_subject_prefix, EmitOn, EventSettings, NatsLayer, NatsSettings};

/// The file that holds a project's settings.
pub const PROJECT_FILE: &str = "cim-nix.toml";

/// Default for [`Settings::max_file_size`]: big enough for nixpkgs'
/// largest generated files.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 32 << 20;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `diagnostics.enable`: publish diagnostics at all.
    pub diagnostics_enabled: bool,
    /// `rules.<name>`: a rule's level, overriding its default severity.
    pub rules: BTreeMap<String, RuleLevel>,
    /// `maxFileSize`: files above this many bytes are not parsed.
    pub max_file_size: u64,
    /// `formatting.style`; `None` lets the project's hints decide.
    pub formatting_style: Option<Style>,
    /// `formatting.nixfmtPath` and `formatting.timeoutMs`.
    pub format_options: FormatOptions,
    /// `formatting.prepare`: format open documents in the background when
    /// typing pauses, so that format-on-save is answered at once.
    pub format_prepare: bool,
    /// `nats.*`: where domain events go.
    pub nats: NatsSettings,
    /// `events.*`: when they are emitted.
    pub events: EventSettings,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            diagnostics_enabled: true,
            rules: BTreeMap::new(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            formatting_style: None,
            format_options: FormatOptions::default(),
            format_prepare: true,
            nats: NatsSettings::default(),
            events: EventSettings::default(),
        }
    }
}

impl Settings {
    /// Defaults with `layers` applied in order.
    pub fn from_layers<'a>(layers: impl IntoIterator<Item = &'a SettingsLayer>) -> Settings {
        let mut settings = Settings::default();
        for layer in layers {
            settings.apply(layer);
        }
        settings
    }

    pub fn apply(&mut self, layer: &SettingsLayer) {
        if let Some(enabled) = layer.diagnostics_enabled {
            self.diagnostics_enabled = enabled;
        }
        for (rule, level) in &layer.rules {
            self.rules.insert(rule.clone(), *level);
        }
        if let Some(size) = layer.max_file_size {
            self.max_file_size = size;
        }
        if let Some(style) = layer.formatting_style {
            self.formatting_style = style;
        }
        if let Some(path) = &layer.nixfmt_path {
            self.format_options.nixfmt_path = path.clone();
        }
        if let Some(ms) = layer.format_timeout_ms {
            self.format_options.timeout = std::time::Duration::from_millis(ms);
        }
        if let Some(prepare) = layer.format_prepare {
            self.format_prepare = prepare;
        }
        layer.nats.apply(&mut self.nats, &mut self.events);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleLevel {
    Off,
    Error,
    Warning,
    Info,
    Hint,
}

impl RuleLevel {
    pub fn parse(s: &str) -> Option<RuleLevel> {
        Some(match s {
            "off" => RuleLevel::Off,
            "error" => RuleLevel::Error,
            "warning" | "warn" => RuleLevel::Warning,
            "info" | "information" => RuleLevel::Info,
            "hint" => RuleLevel::Hint,
            _ => return None,
        })
    }

    /// The severity findings get, `None` when the rule is off.
    pub fn severity(self) -> Option<Severity> {
        match self {
            RuleLevel::Off => None,
            RuleLevel::Error => Some(Severity::Error),
            RuleLevel::Warning => Some(Severity::Warning),
            RuleLevel::Info => Some(Severity::Info),
            RuleLevel::Hint => Some(Severity::Hint),
        }
    }
}

/// The settings one source gives; `None` where it says nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingsLayer {
    pub diagnostics_enabled: Option<bool>,
    pub rules: Vec<(String, RuleLevel)>,
    pub max_file_size: Option<u64>,
    /// `Some(None)` is `"auto"`: back to the project's hints.
    pub formatting_style: Option<Option<Style>>,
    pub nixfmt_path: Option<String>,
    pub format_timeout_ms: Option<u64>,
    pub format_prepare: Option<bool>,
    pub nats: NatsLayer,
}

/// A setting that was ignored, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsProblem {
    /// Dotted path of the setting, e.g. `rules.unused-let`.
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for SettingsProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`: {}", self.key, self.message)
    }
}

impl SettingsLayer {
    /// Reads settings from a JSON value. `null` means nothing set; a value
    /// wrapped as `{"cim-nix": {...}}` is unwrapped.
    pub fn from_json(value: &Value) -> (SettingsLayer, Vec<SettingsProblem>) {
        let mut layer = SettingsLayer::default();
        let mut problems = Vec::new();
        let value = match value {
            Value::Object(map) if map.len() == 1 && map.contains_key("cim-nix") => &map["cim-nix"],
            other => other,
        };
        let map = match value {
            Value::Null => return (layer, problems),
            Value::Object(map) => map,
            other => {
                problems.push(problem(
                    "",
                    format!("expected an object, got {}", kind(other)),
                ));
                return (layer, problems);
            }
        };
        for (key, value) in map {
            match key.as_str() {
                "diagnostics" => layer.read_diagnostics(value, &mut problems),
                "diagnostics.enable" => {
                    layer.diagnostics_enabled =
                        read_bool("diagnostics.enable", value, &mut problems)
                }
                "rules" => layer.read_rules(value, &mut problems),
                "maxFileSize" => {
                    layer.max_file_size = read_size("maxFileSize", value, &mut problems)
                }
                "formatting" => layer.read_formatting(value, &mut problems),
                key if key.starts_with("formatting.") => {
                    layer.read_formatting_key(&key["formatting.".len()..], value, &mut problems)
                }
                "nats" => layer.nats.read_nats("", value, &mut problems),
                key if key.starts_with("nats.") => {
                    layer
                        .nats
                        .read_nats(&key["nats.".len()..], value, &mut problems)
                }
                "events" => layer.nats.read_events("", value, &mut problems),
                key if key.starts_with("events.") => {
                    layer
                        .nats
                        .read_events(&key["events.".len()..], value, &mut problems)
                }
                // Sections later versions read; accepted so configs can be shared.
                "homeManager" | "flake" => {}
                // The VS Code extension's own settings (binary path, trace),
                // sent along with the rest of the `cim-nix` section.
                "server" | "trace" => {}
                other => problems.push(problem(other, "unknown setting; ignored".into())),
            }
        }
        (layer, problems)
    }

    /// Reads a `cim-nix.toml`. A file that is not valid TOML is an error
    /// (nothing in it applies); bad values in a valid file are problems.
    pub fn from_toml(text: &str) -> Result<(SettingsLayer, Vec<SettingsProblem>), String> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            format!("not valid TOML: {}", e.message().trim_end())
                + &e.span()
                    .map_or(String::new(), |s| format!(" (at byte {})", s.start))
        })?;
        let value = serde_json::to_value(table).map_err(|e| e.to_string())?;
        let (mut layer, mut problems) = SettingsLayer::from_json(&value);
        // A repository must not choose where your edits are reported, nor
        // receive your NATS_TOKEN: the connection comes from the editor.
        if !layer.nats.strings.is_empty() {
            layer.nats.strings.clear();
            problems.push(problem(
                "nats",
                "NATS connection settings are read only from the editor's settings, not from a project's cim-nix.toml (a repository must not choose where your edits are sent); ignored".into(),
            ));
        }
        Ok((layer, problems))
    }

    fn read_diagnostics(&mut self, value: &Value, problems: &mut Vec<SettingsProblem>) {
        let Value::Object(map) = value else {
            problems.push(problem(
                "diagnostics",
                format!("expected a table, got {}", kind(value)),
            ));
            return;
        };
        for (key, value) in map {
            match key.as_str() {
                "enable" => {
                    self.diagnostics_enabled = read_bool("diagnostics.enable", value, problems)
                }
                other => problems.push(problem(
                    &format!("diagnostics.{other}"),
                    "unknown setting; ignored".into(),
                )),
            }
        }
    }

    fn read_formatting(&mut self, value: &Value, problems: &mut Vec<SettingsProblem>) {
        let Value::Object(map) = value else {
            problems.push(problem(
                "formatting",
                format!("expected a table, got {}", kind(value)),
            ));
            return;
        };
        for (key, value) in map {
            self.read_formatting_key(key, value, problems);
        }
    }

    fn read_formatting_key(
        &mut self,
        key: &str,
        value: &Value,
        problems: &mut Vec<SettingsProblem>,
    ) {
        let full = format!("formatting.{key}");
        match key {
            "style" => match value.as_str() {
                Some("auto") => self.formatting_style = Some(None),
                Some(name) if Style::parse(name).is_some() => {
                    self.formatting_style = Some(Style::parse(name))
                }
                _ => problems.push(problem(
                    &full,
                    format!(
                        "expected \"nixpkgs-fmt\", \"alejandra\", \"nixfmt\" or \"auto\", got {value}"
                    ),
                )),
            },
            "nixfmtPath" => match value.as_str() {
                Some(path) if !path.trim().is_empty() => self.nixfmt_path = Some(path.to_string()),
                _ => problems.push(problem(
                    &full,
                    format!("expected the nixfmt program's name or path, got {value}"),
                )),
            },
            "timeoutMs" => match value.as_u64() {
                Some(ms) if ms > 0 => self.format_timeout_ms = Some(ms),
                _ => problems.push(problem(
                    &full,
                    format!("expected a positive number of milliseconds, got {value}"),
                )),
            },
            "prepare" => match value.as_bool() {
                Some(prepare) => self.format_prepare = Some(prepare),
                None => problems.push(problem(&full, format!("expected true or false, got {value}"))),
            },
            _ => problems.push(problem(&full, "unknown setting; ignored".into())),
        }
    }

    fn read_rules(&mut self, value: &Value, problems: &mut Vec<SettingsProblem>) {
        let Value::Object(map) = value else {
            problems.push(problem(
                "rules",
                format!("expected a table, got {}", kind(value)),
            ));
            return;
        };
        for (name, level) in map {
            let key = format!("rules.{name}");
            if registry::find(name).is_none() {
                problems.push(problem(
                    &key,
                    "no rule has this name; see `cim-nix rules`".into(),
                ));
                continue;
            }
            match level.as_str().and_then(RuleLevel::parse) {
                Some(level) => self.rules.push((name.clone(), level)),
                None => problems.push(problem(
                    &key,
                    format!(
                        "expected \"off\", \"error\", \"warning\", \"info\" or \"hint\", got {}",
                        level
                    ),
                )),
            }
        }
    }
}

fn read_bool(key: &str, value: &Value, problems: &mut Vec<SettingsProblem>) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        other => {
            problems.push(problem(key, format!("expected true or false, got {other}")));
            None
        }
    }
}

fn read_size(key: &str, value: &Value, problems: &mut Vec<SettingsProblem>) -> Option<u64> {
    match value.as_u64() {
        Some(n) if n > 0 => Some(n),
        _ => {
            problems.push(problem(
                key,
                format!("expected a positive number of bytes, got {value}"),
            ));
            None
        }
    }
}

fn problem(key: &str, message: String) -> SettingsProblem {
    SettingsProblem {
        key: key.to_string(),
        message,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn valid_json_applies() {
        let (layer, problems) = SettingsLayer::from_json(&json!({
            "diagnostics": { "enable": false },
            "rules": { "syntax-error": "warning" },
            "maxFileSize": 1000
        }));
        assert!(problems.is_empty(), "{problems:?}");
        let s = Settings::from_layers([&layer]);
        assert!(!s.diagnostics_enabled);
        assert_eq!(s.rules["syntax-error"], RuleLevel::Warning);
        assert_eq!(s.max_file_size, 1000);
    }

    #[test]
    fn bad_values_are_reported_and_the_rest_applies() {
        let (layer, problems) = SettingsLayer::from_json(&json!({
            "cim-nix": {
                "diagnostics": { "enable": "yes" },
                "rules": { "syntax-error": "loud", "no-such-rule": "off", "analysis-limit": "off" },
                "colour": "blue"
            }
        }));
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "colour",
                "diagnostics.enable",
                "rules.no-such-rule",
                "rules.syntax-error"
            ]
        );
        assert!(problems[1]
            .message
            .contains("expected true or false, got \"yes\""));
        let s = Settings::from_layers([&layer]);
        assert!(s.diagnostics_enabled);
        assert_eq!(s.rules.get("analysis-limit"), Some(&RuleLevel::Off));
        assert_eq!(s.rules.get("syntax-error"), None);
    }

    #[test]
    fn toml_file_and_precedence() {
        let (project, problems) =
            SettingsLayer::from_toml("[rules]\nsyntax-error = \"hint\"\n").unwrap();
        assert!(problems.is_empty());
        let (editor, _) = SettingsLayer::from_json(&json!({"rules": {"syntax-error": "off"}}));
        let s = Settings::from_layers([&editor, &project]);
        assert_eq!(s.rules["syntax-error"], RuleLevel::Hint);
        let (layer, problems) = SettingsLayer::from_toml(
            "[nats]\nurl = \"nats://evil.example:4222\"\n[events]\nemitOn = \"change\"\n",
        )
        .unwrap();
        let settings = Settings::from_layers([&layer]);
        assert_eq!(
            settings.nats.url, None,
            "a project cannot choose the NATS server"
        );
        assert_eq!(
            settings.events.emit_on,
            EmitOn::Change,
            "events.* still applies"
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].key, "nats");
        let err = SettingsLayer::from_toml("[rules\n").unwrap_err();
        assert!(err.starts_with("not valid TOML"), "{err}");
    }

    #[test]
    fn formatting_settings() {
        let (project, problems) = SettingsLayer::from_toml(
            "[formatting]\nstyle = \"alejandra\"\nnixfmtPath = \"/opt/nixfmt\"\ntimeoutMs = 2500\n",
        )
        .unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        let s = Settings::from_layers([&project]);
        assert_eq!(s.formatting_style, Some(Style::Alejandra));
        assert_eq!(s.format_options.nixfmt_path, "/opt/nixfmt");
        assert_eq!(s.format_options.timeout.as_millis(), 2500);

        let (auto, _) = SettingsLayer::from_json(&json!({"formatting.style": "auto"}));
        assert_eq!(
            Settings::from_layers([&project, &auto]).formatting_style,
            None
        );

        assert!(Settings::default().format_prepare);
        let (off, problems) = SettingsLayer::from_json(&json!({"formatting": {"prepare": false}}));
        assert!(problems.is_empty(), "{problems:?}");
        assert!(!Settings::from_layers([&project, &off]).format_prepare);

        let (_, problems) = SettingsLayer::from_json(&json!({
            "formatting": {"style": "black", "timeoutMs": 0, "width": 80, "prepare": "yes"}
        }));
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "formatting.prepare",
                "formatting.style",
                "formatting.timeoutMs",
                "formatting.width"
            ]
        );
    }
}
