//! `~/.config/htop/htoprc` into `programs.htop.settings`. htop reads
//! `key=value` lines (`Settings_read` in htop's `Settings.c`): the key is
//! the text before the first `=`, a line without `=` is ignored, and there
//! are no comments (htop writes a two-line banner that it reads as nothing,
//! and drops anything else it does not know when it rewrites the file).
//! Whole numbers become integers and space-separated whole numbers
//! (`fields=0 48 17`) lists of integers, which Home Manager writes back as
//! the same text; everything else stays a string.
//!
//! Home Manager writes the settings sorted by name (`header_layout` first),
//! which htop's reader is mostly indifferent to, but for two things:
//! - The screens of htop 3 (`screen:Main=...`) are each followed by their
//!   own `.sort_key=...` lines. Sorted, those would lose their screen, so
//!   from the first `screen:` line on, the screen lines stay one value under
//!   that first key, written back line by line as they were.
//! - `all_branches_collapsed`, which htop 3 writes only for htop 2, would be
//!   sorted before `config_reader_min_version` and so be read, making htop
//!   add its default screens before the file's own. It is left out when the
//!   file is for htop 3, with a warning.

use super::nix::{Attrs, Value};
use super::starship::list_element;
use super::{Converted, Files, MigrateError, Release, Source, Warning};

pub fn convert(
    source: Source<'_>,
    _release: Release,
    _files: &dyn Files,
) -> Result<Converted, MigrateError> {
    let mut warnings = vec![Warning {
        line: None,
        message: "htop rewrites htoprc when its setup screen (F2) changes a setting; Home Manager's htoprc is a read-only link into /nix/store, so htop can no longer save there: change `programs.htop.settings` instead".into(),
    }];
    let htop3 = source.text.lines().any(|line| {
        line.strip_prefix("config_reader_min_version=")
            .and_then(|v| v.split('=').next()?.trim().parse::<u32>().ok())
            .is_some_and(|v| v >= 3)
    });
    let mut settings = Attrs::new();
    let mut screens: Option<(&str, String)> = None;
    for (i, line) in source.text.lines().enumerate() {
        let Some((key, value)) = line.split_once('=') else {
            if !line.starts_with('#') && !line.trim().is_empty() {
                warnings.push(Warning {
                    line: Some(i + 1),
                    message: "htop ignores this line (no `=`): left out".into(),
                });
            }
            continue;
        };
        match &mut screens {
            Some((_, lines)) if key.starts_with('.') || key.starts_with("screen:") => {
                lines.push('\n');
                lines.push_str(line);
            }
            None if key.starts_with("screen:") => screens = Some((key, value.to_string())),
            _ if key == "all_branches_collapsed" && htop3 => warnings.push(Warning {
                line: Some(i + 1),
                message: "`all_branches_collapsed` is left out: htop 3 writes it for htop 2 only, and Home Manager would write it before `config_reader_min_version`, which would make htop read it and add its default screens to the file's".into(),
            }),
            _ => settings.set(&[key], value_of(value)),
        }
    }
    if let Some((key, lines)) = screens {
        settings.set_with_comments(
            &[key],
            Value::Str(lines),
            vec![
                "htop's screens, each followed by its `.key=value` lines: one value,".into(),
                "as Home Manager writes settings sorted by name.".into(),
            ],
        );
    }
    let mut out = Attrs::new();
    out.set(&["enable"], Value::Bool(true));
    if !settings.is_empty() {
        out.set(&["settings"], Value::Attrs(settings));
    }
    Ok(Converted {
        options: out,
        also: Attrs::new(),
        warnings,
    })
}

/// An integer, a list of integers, or the text as it is: whichever Home
/// Manager writes back as the same text.
fn value_of(text: &str) -> Value {
    if let Some(n) = int(text) {
        return Value::Int(n);
    }
    let numbers: Option<Vec<i64>> = text.split(' ').map(int).collect();
    match numbers {
        Some(numbers) if numbers.len() > 1 => Value::List(
            numbers
                .into_iter()
                .map(|n| list_element(Value::Int(n)))
                .collect(),
        ),
        _ => Value::str(text),
    }
}

/// A whole number written as Nix writes it back (no `+`, no leading zero).
fn int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let plain = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    plain.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::{migrate, NoFiles};
    use super::*;
    use expect_test::expect;

    const HTOPRC: &str =
        "# Beware! This file is rewritten by htop when settings are changed in the interface.
# The parser is also very primitive, and not human-friendly.
htop_version=3.3.0
config_reader_min_version=3
fields=0 48 17 18 38 39 40 2 46 47 49 1
hide_kernel_threads=1
show_program_path=0
highlight_changes_delay_secs=5
color_scheme=6
delay=15
header_layout=two_50_50
column_meters_0=AllCPUs Memory Swap
column_meter_modes_0=1 1 1
column_meters_1=Tasks LoadAverage Uptime
column_meter_modes_1=2 2 2
my_future_option=007
tree_view=0
sort_key=46
sort_direction=-1
all_branches_collapsed=0
screen:Main=PID USER PRIORITY NICE M_VIRT M_RESIDENT STATE PERCENT_CPU PERCENT_MEM TIME Command
.sort_key=PERCENT_CPU
.tree_view=0
.sort_direction=-1
screen:I/O=PID USER IO_PRIORITY IO_RATE IO_READ_RATE IO_WRITE_RATE Command
.sort_key=IO_RATE
.sort_direction=-1
";

    #[test]
    fn htoprc_into_settings() {
        let m = migrate(
            Source {
                path: "~/.config/htop/htoprc",
                text: HTOPRC,
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        expect![[r#"
            programs.htop = {
              enable = true;
              settings = {
                htop_version = "3.3.0";
                config_reader_min_version = 3;
                fields = [ 0 48 17 18 38 39 40 2 46 47 49 1 ];
                hide_kernel_threads = 1;
                show_program_path = 0;
                highlight_changes_delay_secs = 5;
                color_scheme = 6;
                delay = 15;
                header_layout = "two_50_50";
                column_meters_0 = "AllCPUs Memory Swap";
                column_meter_modes_0 = [ 1 1 1 ];
                column_meters_1 = "Tasks LoadAverage Uptime";
                column_meter_modes_1 = [ 2 2 2 ];
                my_future_option = "007";
                tree_view = 0;
                sort_key = 46;
                sort_direction = -1;
                # htop's screens, each followed by its `.key=value` lines: one value,
                # as Home Manager writes settings sorted by name.
                "screen:Main" = ''
                  PID USER PRIORITY NICE M_VIRT M_RESIDENT STATE PERCENT_CPU PERCENT_MEM TIME Command
                  .sort_key=PERCENT_CPU
                  .tree_view=0
                  .sort_direction=-1
                  screen:I/O=PID USER IO_PRIORITY IO_RATE IO_READ_RATE IO_WRITE_RATE Command
                  .sort_key=IO_RATE
                  .sort_direction=-1'';
              };
            };
        "#]]
        .assert_eq(&m.to_nix(0));
        let lines: Vec<Option<usize>> = m.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [None, Some(20)]);
        assert!(m.warnings[0].message.contains("read-only"));
    }

    /// The htoprc Home Manager writes: `header_layout` first, then the
    /// settings sorted by name, each as `key=value`.
    fn home_manager_writes(settings: &Attrs) -> String {
        let text = |value: &Value| match value {
            Value::Int(n) => n.to_string(),
            Value::Str(s) => s.clone(),
            Value::List(items) => items
                .iter()
                .map(|item| match item {
                    Value::Int(n) => n.to_string(),
                    Value::Code(c) => c.trim_matches(['(', ')']).to_string(),
                    other => panic!("{other:?}"),
                })
                .collect::<Vec<_>>()
                .join(" "),
            other => panic!("{other:?}"),
        };
        let mut entries: Vec<(&str, String)> = settings
            .entries
            .iter()
            .map(|e| (e.name.as_str(), text(&e.value)))
            .collect();
        entries.sort_by_key(|(name, _)| (*name != "header_layout", name.to_string()));
        entries.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
    }

    /// What htop makes of a file: its settings, and its screens in order
    /// (with the default ones when a legacy key is read first).
    fn htop_reads(text: &str) -> (BTreeMap<String, String>, Vec<String>) {
        const LEGACY: [&str; 5] = [
            "fields",
            "sort_key",
            "sort_direction",
            "tree_view",
            "all_branches_collapsed",
        ];
        let mut version = 0;
        let mut settings = BTreeMap::new();
        let mut screens: Vec<String> = Vec::new();
        for line in text.lines() {
            let mut parts = line.split('=');
            let (Some(key), Some(value)) = (parts.next(), parts.next()) else {
                continue;
            };
            if key == "config_reader_min_version" {
                version = value.parse().unwrap();
            }
            if LEGACY.contains(&key) {
                if version <= 2 && screens.is_empty() {
                    screens.push("the default screens".into());
                }
            } else if key.starts_with("screen:") {
                screens.push(line.to_string());
            } else if let (Some(screen), true) = (screens.last_mut(), key.starts_with('.')) {
                screen.push_str(line);
            } else {
                settings.insert(key.to_string(), value.to_string());
            }
        }
        (settings, screens)
    }

    #[test]
    fn htop_reads_what_home_manager_writes_as_the_file() {
        let m = migrate(
            Source {
                path: "htoprc",
                text: HTOPRC,
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        let Some(Value::Attrs(settings)) = m.options.get("settings") else {
            panic!("no settings")
        };
        let written = home_manager_writes(settings);
        assert_eq!(
            htop_reads(&written),
            htop_reads(HTOPRC),
            "written as:\n{written}"
        );
        // As it would be with `all_branches_collapsed` kept.
        let mut kept = settings.clone();
        kept.set(&["all_branches_collapsed"], Value::Int(0));
        assert_ne!(
            htop_reads(&home_manager_writes(&kept)).1,
            htop_reads(HTOPRC).1
        );
    }

    #[test]
    fn an_htop_2_file_keeps_its_legacy_keys() {
        let text = "fields=0 48 17 18 38 39 40 2 46 47 49 1\nsort_key=46\nall_branches_collapsed=1\nleft_meters=AllCPUs Memory Swap\n";
        let m = migrate(
            Source {
                path: "htoprc",
                text,
            },
            Release::NEWEST,
            &NoFiles,
        )
        .unwrap();
        expect![[r#"
            programs.htop = {
              enable = true;
              settings = {
                fields = [ 0 48 17 18 38 39 40 2 46 47 49 1 ];
                sort_key = 46;
                all_branches_collapsed = 1;
                left_meters = "AllCPUs Memory Swap";
              };
            };
        "#]]
        .assert_eq(&m.to_nix(0));
        assert_eq!(m.warnings.len(), 1);
    }
}
