//! Hover on a flake input: what it asks for and what flake.lock pinned.

use rnix::TextSize;

use super::diagnostics::{describe, describe_base};
use super::lock::{FlakeLock, InputRef};
use super::model::FlakeModel;
use crate::timefmt;

/// Markdown for the input whose name or url is at `offset`, with the
/// locked revision and its age relative to `now_unix` (seconds).
pub fn hover(
    model: &FlakeModel,
    lock: Option<&FlakeLock>,
    offset: TextSize,
    now_unix: i64,
) -> Option<(rnix::TextRange, String)> {
    let (input, range) = model.inputs.iter().find_map(|input| {
        let hit = input
            .sites
            .iter()
            .chain(input.url_range.iter())
            .find(|r| r.contains_inclusive(offset))?;
        Some((input, *hit))
    })?;
    let mut lines = vec![format!("**{}** · flake input", input.name)];
    if let Some(url) = &input.url {
        lines.push(format!("url: `{url}`"));
    } else if let Some(reference) = input.reference() {
        lines.push(format!("reference: {}", describe(&reference)));
    }
    if let Some(follows) = &input.follows {
        lines.push(format!("follows: `{follows}`"));
    }
    if !input.flake {
        lines.push("not a flake (`flake = false`)".into());
    }
    for (nested, target) in &input.inputs {
        lines.push(format!("`inputs.{nested}` follows `{target}`"));
    }
    match lock {
        None => lines.push("not locked: no flake.lock".into()),
        Some(lock) => match lock.root_inputs().and_then(|r| r.get(&input.name)) {
            None => lines.push("not locked: run `nix flake lock`".into()),
            Some(InputRef::Follows(path)) => {
                lines.push(format!("locked: follows `{}`", path.join("/")))
            }
            Some(InputRef::Node(_)) => {
                if let Some((_, node)) = lock.root_input_node(&input.name) {
                    if let Some(locked) = &node.locked {
                        let rev = locked.get("rev").map(String::as_str);
                        match rev {
                            Some(rev) => lines.push(format!(
                                "locked: `{}` at `{}`",
                                describe_base(locked),
                                &rev[..rev.len().min(12)]
                            )),
                            None => lines.push(format!("locked: `{}`", describe_base(locked))),
                        }
                        if let Some(hash) = locked.get("narHash") {
                            lines.push(format!("narHash: `{hash}`"));
                        }
                    }
                    if let Some(modified) = node.last_modified {
                        lines.push(format!(
                            "last modified: {} ({})",
                            timefmt::date(modified),
                            timefmt::age(now_unix - modified)
                        ));
                    }
                }
            }
        },
    }
    Some((range, lines.join("  \n")))
}
