//! Every setting the server reads, described once: key, type, default and
//! meaning. Editors' setting pages are generated from it (`cim-nix
//! settings-schema`, the VS Code extension's `package.json`), and the tests
//! below hold it to the readers in this module, so the two cannot drift.

use serde_json::{json, Map, Value};

use super::{EventSettings, NatsSettings, DEFAULT_MAX_FILE_SIZE};
use crate::diagnostic::registry;
use crate::format::DEFAULT_TIMEOUT;

/// What values a setting takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    /// A whole number of at least 1.
    Positive,
    String,
    /// A string, or `null` for "not set".
    OptionalString,
    /// One of these words, each with its meaning.
    OneOf(&'static [(&'static str, &'static str)]),
    /// `rules`: rule name to level.
    RuleLevels,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// Dotted key below the `cim-nix` section, e.g. `formatting.style`.
    pub key: &'static str,
    pub kind: Kind,
    pub default: Value,
    /// Markdown, one or two sentences.
    pub description: &'static str,
}

const STYLES: &[(&str, &str)] = &[
    (
        "auto",
        "alejandra when an .alejandra.toml is found, else the flake's formatter, else nixpkgs-fmt",
    ),
    ("nixpkgs-fmt", "nixpkgs-fmt 1.3, built in"),
    ("alejandra", "alejandra 3.1, built in"),
    (
        "nixfmt",
        "the installed nixfmt program (formatting.nixfmtPath)",
    ),
];

const LEVELS: &[(&str, &str)] = &[
    ("off", "not reported"),
    ("error", "reported as an error"),
    ("warning", "reported as a warning"),
    ("info", "reported as information"),
    ("hint", "shown as a hint"),
];

const EMIT_ON: &[(&str, &str)] = &[
    ("save", "when a document is saved"),
    ("change", "also after events.quietMs without edits"),
];

/// Every setting, in the order editors show them.
pub fn settings() -> Vec<Setting> {
    let nats = NatsSettings::default();
    let events = EventSettings::default();
    let optional = |key, description| Setting {
        key,
        kind: Kind::OptionalString,
        default: Value::Null,
        description,
    };
    vec![
        Setting {
            key: "diagnostics.enable",
            kind: Kind::Bool,
            default: json!(true),
            description: "Publish diagnostics at all.",
        },
        Setting {
            key: "rules",
            kind: Kind::RuleLevels,
            default: json!({}),
            description: "A rule's level, or `off`, by rule name (`cim-nix rules` lists them). \
                          Setting a level turns on a rule that is off by default.",
        },
        Setting {
            key: "maxFileSize",
            kind: Kind::Positive,
            default: json!(DEFAULT_MAX_FILE_SIZE),
            description: "Files larger than this many bytes are not parsed (`analysis-limit`).",
        },
        Setting {
            key: "formatting.style",
            kind: Kind::OneOf(STYLES),
            default: json!("auto"),
            description: "The formatting style; `auto` follows the project.",
        },
        Setting {
            key: "formatting.nixfmtPath",
            kind: Kind::String,
            default: json!("nixfmt"),
            description: "The program run for the `nixfmt` style: a name on `PATH` or a path.",
        },
        Setting {
            key: "formatting.timeoutMs",
            kind: Kind::Positive,
            default: json!(DEFAULT_TIMEOUT.as_millis() as u64),
            description: "Milliseconds `nixfmt` may run before it is stopped.",
        },
        Setting {
            key: "formatting.prepare",
            kind: Kind::Bool,
            default: json!(true),
            description: "Format open documents in the background when typing pauses, so \
                          format-on-save is answered at once.",
        },
        optional(
            "nats.url",
            "NATS server URL for domain events (`nats://host:port`, several comma-separated). \
             Unset: no events.",
        ),
        optional(
            "nats.credsFile",
            "NATS credentials file (JWT and nkey seed).",
        ),
        optional("nats.nkeySeedFile", "File holding an nkey seed."),
        optional(
            "nats.token",
            "NATS token; unset reads the `NATS_TOKEN` environment variable, which keeps it \
             out of settings files.",
        ),
        optional("nats.user", "NATS user; set with `nats.password`."),
        optional("nats.password", "NATS password; set with `nats.user`."),
        optional(
            "nats.tls.ca",
            "CA certificate to verify the NATS server; turns TLS on.",
        ),
        optional(
            "nats.tls.cert",
            "Client certificate for mutual TLS; set with `nats.tls.key`.",
        ),
        optional(
            "nats.tls.key",
            "Client key for mutual TLS; set with `nats.tls.cert`.",
        ),
        Setting {
            key: "nats.subjectPrefix",
            kind: Kind::String,
            default: json!(nats.subject_prefix),
            description: "Subjects are `{prefix}.event.{aggregate}.{action}`.",
        },
        Setting {
            key: "nats.stream",
            kind: Kind::String,
            default: json!(nats.stream),
            description: "The JetStream stream that stores the events.",
        },
        Setting {
            key: "events.enabled",
            kind: Kind::Bool,
            default: json!(events.enabled),
            description: "`false` turns events off even with a `nats.url`.",
        },
        Setting {
            key: "events.emitOn",
            kind: Kind::OneOf(EMIT_ON),
            default: json!("save"),
            description: "When edits become events.",
        },
        Setting {
            key: "events.quietMs",
            kind: Kind::Positive,
            default: json!(events.quiet_ms),
            description: "With `emitOn: change`, milliseconds without edits before an event.",
        },
        Setting {
            key: "events.emitObserved",
            kind: Kind::Bool,
            default: json!(events.emit_observed),
            description: "Also publish the state of each flake and Home Manager file when it \
                          is opened.",
        },
        Setting {
            key: "events.outboxMax",
            kind: Kind::Positive,
            default: json!(events.outbox_max),
            description: "Events kept on disk while NATS is unreachable; the oldest go first.",
        },
    ]
}

/// The settings as VS Code's `contributes.configuration.properties`, keyed
/// `cim-nix.<key>`, in [`settings`]' order.
pub fn vscode_properties() -> Map<String, Value> {
    settings()
        .into_iter()
        .enumerate()
        .map(|(order, setting)| {
            let mut property = Map::new();
            // VS Code sorts properties by name unless they say their place.
            property.insert("order".into(), json!(order));
            match setting.kind {
                Kind::Bool => {
                    property.insert("type".into(), json!("boolean"));
                }
                Kind::Positive => {
                    property.insert("type".into(), json!("integer"));
                    property.insert("minimum".into(), json!(1));
                }
                Kind::String => {
                    property.insert("type".into(), json!("string"));
                    property.insert("minLength".into(), json!(1));
                }
                Kind::OptionalString => {
                    property.insert("type".into(), json!(["string", "null"]));
                }
                Kind::OneOf(words) => {
                    property.insert("type".into(), json!("string"));
                    property.insert("enum".into(), words.iter().map(|(w, _)| *w).collect());
                    property.insert(
                        "enumDescriptions".into(),
                        words.iter().map(|(_, d)| *d).collect(),
                    );
                }
                Kind::RuleLevels => {
                    let level = json!({
                        "type": "string",
                        "enum": LEVELS.iter().map(|(w, _)| *w).collect::<Vec<_>>(),
                        "enumDescriptions": LEVELS.iter().map(|(_, d)| *d).collect::<Vec<_>>(),
                    });
                    let rules: Map<String, Value> = registry::RULES
                        .iter()
                        .map(|rule| {
                            let mut one = level.clone();
                            one["description"] = json!(rule.summary);
                            (rule.name.to_string(), one)
                        })
                        .collect();
                    property.insert("type".into(), json!("object"));
                    property.insert("properties".into(), Value::Object(rules));
                    property.insert("additionalProperties".into(), json!(false));
                }
            }
            property.insert("default".into(), setting.default);
            property.insert("markdownDescription".into(), json!(setting.description));
            (format!("cim-nix.{}", setting.key), Value::Object(property))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Settings, SettingsLayer};

    /// `{"a.b": v}` as the nested object an editor sends.
    fn nested(key: &str, value: Value) -> Value {
        key.rsplit('.')
            .fold(value, |inner, part| json!({ part: inner }))
    }

    fn merge(into: &mut Value, from: Value) {
        match (into, from) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(k).or_insert(Value::Null), v);
                }
            }
            (slot, v) => *slot = v,
        }
    }

    #[test]
    fn the_defaults_are_the_servers_defaults_and_read_without_problems() {
        let mut all = json!({});
        for setting in settings() {
            merge(&mut all, nested(setting.key, setting.default.clone()));
        }
        let (layer, problems) = SettingsLayer::from_json(&all);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(Settings::from_layers([&layer]), Settings::default());
    }

    #[test]
    fn every_key_is_one_the_readers_know() {
        // A value of the wrong type is reported against the key, and not as
        // an unknown setting: so the reader has an arm for it.
        for setting in settings() {
            let wrong = match setting.kind {
                Kind::Bool => json!("yes"),
                Kind::Positive => json!(0),
                Kind::String | Kind::OptionalString => json!(7),
                Kind::OneOf(_) => json!("sometimes"),
                Kind::RuleLevels => json!({ "unused-let": "loud" }),
            };
            let (_, problems) = SettingsLayer::from_json(&nested(setting.key, wrong));
            assert_eq!(problems.len(), 1, "{}: {problems:?}", setting.key);
            assert!(
                problems[0].key.starts_with(setting.key),
                "{}: {problems:?}",
                setting.key
            );
            assert!(
                !problems[0].message.contains("unknown setting"),
                "{}: {problems:?}",
                setting.key
            );
        }
    }

    #[test]
    fn every_word_of_a_choice_is_accepted() {
        for setting in settings() {
            if let Kind::OneOf(words) = setting.kind {
                for (word, _) in words {
                    let (_, problems) = SettingsLayer::from_json(&nested(setting.key, json!(word)));
                    assert!(
                        problems.is_empty(),
                        "{} = {word}: {problems:?}",
                        setting.key
                    );
                }
            }
        }
        for (level, _) in LEVELS {
            let (_, problems) =
                SettingsLayer::from_json(&json!({ "rules": { "unused-let": level } }));
            assert!(problems.is_empty(), "{level}: {problems:?}");
        }
    }

    #[test]
    fn vscode_properties_cover_every_configurable_rule() {
        let properties = vscode_properties();
        assert_eq!(properties.len(), settings().len());
        let rules = properties["cim-nix.rules"]["properties"]
            .as_object()
            .expect("rules has properties");
        assert!(rules.contains_key("unused-let"));
        assert!(rules.contains_key("shell-injection"));
        for name in rules.keys() {
            let (_, problems) = SettingsLayer::from_json(&json!({ "rules": { name: "off" } }));
            assert!(problems.is_empty(), "{name}: {problems:?}");
        }
        assert_eq!(
            properties["cim-nix.formatting.timeoutMs"]["default"],
            json!(10_000)
        );
    }
}
