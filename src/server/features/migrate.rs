//! Dotfile migration in the editor: a code action on `home.file."X".source
//! = ./X;` (and `xdg.configFile`) entries whose target is a known dotfile;
//! the command `cim-nix.migrateDotfile` (a dotfile and a target document),
//! which inserts the options through `workspace/applyEdit`; and
//! `cim-nix.dotfileMigrated`, which the code action's command sends once
//! the client applied its edit, so the event says what happened.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};
use tower_lsp::jsonrpc::{Error, Result};
use tower_lsp::lsp_types as lsp;
use tower_lsp::Client;

use super::{doc_of, DocumentAnalysis};
use crate::format::{choose_style, Style};
use crate::ide::migrate::{self, Program};
use crate::server::events::ServerEvents;
use crate::server::world::ServerWorld;
use crate::server::{convert, Shared};
use crate::syntax::LineIndex;
use crate::workspace::format_hints;

pub const MIGRATE_DOTFILE: &str = "cim-nix.migrateDotfile";
pub const DOTFILE_MIGRATED: &str = "cim-nix.dotfileMigrated";

/// The commands the server executes.
pub fn commands() -> Vec<String> {
    vec![MIGRATE_DOTFILE.into(), DOTFILE_MIGRATED.into()]
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// The formatting style of the document at `path` (its settings, then
/// the project's hints).
fn style_of(shared: &Shared, uri: &lsp::Url) -> Style {
    let (settings, _) = shared.settings.for_document(uri);
    let hints = uri
        .to_file_path()
        .ok()
        .as_deref()
        .and_then(Path::parent)
        .map(format_hints)
        .unwrap_or_default();
    choose_style(settings.formatting_style, &hints).style
}

/// The migrations offered at `range`, as `refactor.rewrite` actions.
pub fn code_actions(
    shared: &Arc<Shared>,
    uri: &lsp::Url,
    doc: &Arc<DocumentAnalysis>,
    range: rowan::TextRange,
) -> Vec<lsp::CodeActionOrCommand> {
    let style = style_of(shared, uri);
    let home = home();
    let actions = {
        let ide_doc = doc_of(shared, uri, doc);
        let world = ServerWorld::new(shared);
        migrate::dotfile_actions(&ide_doc, range, &world, home.as_deref(), style)
    };
    let encoding = shared.encoding();
    actions
        .into_iter()
        .map(|action| {
            let edits = convert::text_edits(&doc.line_index, &action.edits, encoding);
            lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                title: action.title,
                kind: Some(lsp::CodeActionKind::REFACTOR_REWRITE),
                edit: Some(super::code_actions::workspace_edit(uri, doc.version, edits)),
                command: Some(lsp::Command {
                    title: "dotfile migrated".into(),
                    command: DOTFILE_MIGRATED.into(),
                    arguments: Some(vec![json!({
                        "file": uri,
                        "program": action.program.name(),
                        "source": action.source,
                        "target": action.target,
                    })]),
                }),
                ..Default::default()
            })
        })
        .collect()
}

/// `workspace/executeCommand`.
pub async fn execute(
    shared: &Arc<Shared>,
    client: &Client,
    params: lsp::ExecuteCommandParams,
) -> Result<Option<Value>> {
    let argument = params.arguments.into_iter().next().unwrap_or(Value::Null);
    match params.command.as_str() {
        MIGRATE_DOTFILE => migrate_dotfile(shared, client, &argument).await.map(Some),
        DOTFILE_MIGRATED => {
            let field = |name: &str| argument.get(name).and_then(Value::as_str);
            let (Some(file), Some(program), Some(source), Some(target)) = (
                field("file").and_then(|u| lsp::Url::parse(u).ok()?.to_file_path().ok()),
                field("program").and_then(Program::named),
                field("source"),
                field("target"),
            ) else {
                return Err(Error::invalid_params(format!(
                    "{DOTFILE_MIGRATED} takes {{file, program, source, target}}"
                )));
            };
            ServerEvents::migrated(
                shared,
                file,
                program.name(),
                PathBuf::from(source),
                target.to_string(),
            );
            Ok(None)
        }
        other => Err(Error::invalid_params(format!(
            "no command `{other}`; cim-nix executes {}",
            commands().join(", ")
        ))),
    }
}

/// `cim-nix.migrateDotfile` with `{dotfile, target}`: the dotfile's options
/// inserted into the target document through `workspace/applyEdit`.
async fn migrate_dotfile(shared: &Arc<Shared>, client: &Client, argument: &Value) -> Result<Value> {
    let usage = || {
        Error::invalid_params(format!(
            "{MIGRATE_DOTFILE} takes {{\"dotfile\": a path or file URI, \"target\": the URI of a Home Manager file}}"
        ))
    };
    let dotfile = argument
        .get("dotfile")
        .and_then(Value::as_str)
        .ok_or_else(usage)?;
    let target: lsp::Url = argument
        .get("target")
        .and_then(Value::as_str)
        .and_then(|u| lsp::Url::parse(u).ok())
        .ok_or_else(usage)?;
    let dotfile = match lsp::Url::parse(dotfile)
        .ok()
        .and_then(|u| u.to_file_path().ok())
    {
        Some(path) => path,
        None => match (dotfile.strip_prefix("~/"), home()) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => PathBuf::from(dotfile),
        },
    };
    let text = std::fs::read_to_string(&dotfile)
        .map_err(|e| Error::invalid_params(format!("cannot read {}: {e}", dotfile.display())))?;
    let target_path = target
        .to_file_path()
        .map_err(|()| Error::invalid_params(format!("{target} is not a file")))?;
    // The editor's text when the file is open, else the file on disk.
    let (document, version) = match shared.documents.snapshot(&target) {
        Some(snapshot) => (snapshot.text.to_string(), Some(snapshot.version)),
        None => (
            std::fs::read_to_string(&target_path).map_err(|e| {
                Error::invalid_params(format!("cannot read {}: {e}", target_path.display()))
            })?,
            None,
        ),
    };
    let lock = nearest_lock(&target_path);
    let release = migrate::release_for(Some(&document), lock.as_deref());
    let shown = dotfile.display().to_string();
    let files = DiskFiles {
        dir: dotfile.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let migration = migrate::migrate(
        migrate::Source {
            path: &shown,
            text: &text,
        },
        release,
        &files,
    )
    .map_err(|e| Error::invalid_params(e.to_string()))?;
    let inserted = migrate::insert_into(
        &document,
        std::slice::from_ref(&migration),
        None,
        style_of(shared, &target),
    )
    .map_err(|e| Error::invalid_params(format!("{}: {e}", target_path.display())))?;
    let index = LineIndex::new(&document);
    let edits = convert::text_edits(&index, &inserted.edits, shared.encoding());
    let edit = lsp::WorkspaceEdit {
        document_changes: Some(lsp::DocumentChanges::Edits(vec![lsp::TextDocumentEdit {
            text_document: lsp::OptionalVersionedTextDocumentIdentifier {
                uri: target.clone(),
                version,
            },
            edits: edits.into_iter().map(lsp::OneOf::Left).collect(),
        }])),
        ..Default::default()
    };
    let response = client
        .apply_edit(edit)
        .await
        .map_err(|e| Error::invalid_params(format!("workspace/applyEdit failed: {e}")))?;
    if !response.applied {
        return Err(Error::invalid_params(format!(
            "the editor did not apply the migration{}",
            response
                .failure_reason
                .map_or(String::new(), |r| format!(": {r}"))
        )));
    }
    ServerEvents::migrated(
        shared,
        target_path,
        migration.program.name(),
        dotfile,
        migration.target(),
    );
    Ok(json!({
        "applied": true,
        "option": migration.option.join("."),
        "release": release.to_string(),
        "kept": inserted.kept,
        "warnings": migration.warnings.iter().map(|w| json!({"line": w.line, "message": w.message})).collect::<Vec<_>>(),
    }))
}

struct DiskFiles {
    dir: PathBuf,
}

impl migrate::Files for DiskFiles {
    fn read(&self, path: &str) -> Option<String> {
        let path = match path.strip_prefix("~/") {
            Some(rest) => home()?.join(rest),
            None => self.dir.join(path),
        };
        std::fs::read_to_string(path).ok()
    }
}

fn nearest_lock(file: &Path) -> Option<String> {
    file.ancestors()
        .skip(1)
        .take(8)
        .find_map(|dir| std::fs::read_to_string(dir.join("flake.lock")).ok())
}
