//! `textDocument/codeAction`: the fix of each finding in the requested
//! range as a `quickfix` (with the diagnostic it resolves);
//! `source.fixAll.cim-nix`, which removes all unused code in the file; and
//! the rewrites `ide` offers where the cursor is (`refactor.rewrite`,
//! `refactor.inline`).

use std::sync::Arc;

use tower_lsp::jsonrpc::{Error, Result};
use tower_lsp::lsp_types as lsp;

use super::{doc_of, stamped, still_current, Stamped};
use crate::diagnostic::registry;
use crate::format::minimal_edits;
use crate::ide;
use crate::server::convert;
use crate::server::Shared;

/// The kind of the source action that removes all unused code.
pub const FIX_ALL: &str = "source.fixAll.cim-nix";

pub async fn code_action(
    shared: &Arc<Shared>,
    params: Stamped<lsp::CodeActionParams>,
) -> Result<Option<lsp::CodeActionResponse>> {
    let request = &params.request;
    let uri = &request.text_document.uri;
    let doc = stamped(shared, uri, params.revision).await?;
    let encoding = shared.encoding();
    let index = &doc.line_index;
    let only = request.context.only.as_ref();
    let wanted = |kind: &lsp::CodeActionKind| {
        only.is_none_or(|only| only.iter().any(|o| kind.as_str().starts_with(o.as_str())))
    };
    let range = convert::text_range(index, request.range, encoding);
    let mut actions = Vec::new();
    if wanted(&lsp::CodeActionKind::QUICKFIX) {
        for d in &doc.analysis.diagnostics {
            let Some(fix) = &d.fix else { continue };
            let touches = d.range.intersect(range).is_some() || d.range.contains_range(range);
            if !touches {
                continue;
            }
            let edits = convert::text_edits(index, &fix.edits, encoding);
            actions.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                title: fix.title.clone(),
                kind: Some(lsp::CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![convert::diagnostic(uri, index, d, encoding)]),
                edit: Some(workspace_edit(uri, doc.version, edits)),
                is_preferred: Some(fix.preferred),
                ..Default::default()
            }));
        }
    }
    let rewrites = wanted(&lsp::CodeActionKind::REFACTOR_REWRITE)
        || wanted(&lsp::CodeActionKind::REFACTOR_INLINE);
    if rewrites {
        let assists = {
            let ide_doc = doc_of(shared, uri, &doc);
            ide::assists(&ide_doc, range)
        };
        // A client that resolves code actions gets each rewrite's edit when
        // it picks one (an inlining can touch hundreds of uses).
        let lazy = shared.client.resolves_code_action_edits();
        for assist in assists {
            let kind = assist_kind(assist.kind);
            if !wanted(&kind) {
                continue;
            }
            let (edit, data) = if lazy {
                let data = serde_json::json!({
                    "uri": uri,
                    "revision": doc.revision,
                    "assist": assist.id,
                    "start": u32::from(range.start()),
                    "end": u32::from(range.end()),
                });
                (None, Some(data))
            } else {
                let edits = convert::text_edits(index, &assist.edits, encoding);
                (Some(workspace_edit(uri, doc.version, edits)), None)
            };
            actions.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                title: assist.title,
                kind: Some(kind),
                edit,
                data,
                ..Default::default()
            }));
        }
    }
    if wanted(&lsp::CodeActionKind::REFACTOR_REWRITE) {
        actions.extend(super::migrate::code_actions(shared, uri, &doc, range));
    }
    // Only when asked for by kind (`source`, `source.fixAll`, ...): it
    // reanalyses the file, too much for every cursor move.
    let asked_for_fix_all =
        only.is_some_and(|only| only.iter().any(|o| FIX_ALL.starts_with(o.as_str())));
    if asked_for_fix_all {
        let has_dead_code = doc
            .analysis
            .diagnostics
            .iter()
            .any(|d| is_dead_code(d.rule) && d.fix.is_some());
        if has_dead_code {
            let (settings, _) = shared.settings.for_document(uri);
            let text = doc.text.clone();
            let fixed = tokio::task::spawn_blocking(move || {
                ide::fix_all(&text, &settings, &|d| {
                    is_dead_code(d.rule) && d.fix.as_ref().is_some_and(|f| f.preferred)
                })
            })
            .await
            .map_err(|e| Error::invalid_params(format!("fixing failed: {e}")))?;
            let edits = convert::text_edits(index, &minimal_edits(&doc.text, &fixed), encoding);
            if !edits.is_empty() {
                actions.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                    title: "Remove all unused code in this file".into(),
                    kind: Some(lsp::CodeActionKind::new(FIX_ALL)),
                    edit: Some(workspace_edit(uri, doc.version, edits)),
                    ..Default::default()
                }));
            }
        }
    }
    still_current(shared, uri, doc.revision)?;
    Ok(Some(actions))
}

/// `codeAction/resolve`: the edit of a rewrite sent without one, made for
/// the revision it was offered on (ContentModified when the document has
/// changed since).
pub async fn resolve_code_action(
    shared: &Arc<Shared>,
    mut action: lsp::CodeAction,
) -> Result<lsp::CodeAction> {
    let Some(data) = action.data.clone() else {
        return Ok(action);
    };
    let field = |name: &str| data.get(name).cloned().unwrap_or_default();
    let uri: lsp::Url = serde_json::from_value(field("uri"))
        .map_err(|e| Error::invalid_params(format!("invalid code action data: {e}")))?;
    let revision = field("revision").as_u64();
    let (Some(id), Some(start), Some(end)) = (
        field("assist").as_str().map(str::to_string),
        field("start").as_u64(),
        field("end").as_u64(),
    ) else {
        return Err(Error::invalid_params("invalid code action data"));
    };
    let doc = stamped(shared, &uri, revision).await?;
    let encoding = shared.encoding();
    let range = rowan::TextRange::new((start as u32).into(), (end as u32).into());
    let found = {
        let ide_doc = doc_of(shared, &uri, &doc);
        ide::assists(&ide_doc, range)
            .into_iter()
            .find(|a| a.id == id)
    };
    let Some(assist) = found else {
        return Err(Error::invalid_params(format!(
            "the rewrite `{id}` no longer applies here"
        )));
    };
    let edits = convert::text_edits(&doc.line_index, &assist.edits, encoding);
    action.edit = Some(workspace_edit(&uri, doc.version, edits));
    still_current(shared, &uri, doc.revision)?;
    Ok(action)
}

fn assist_kind(kind: ide::AssistKind) -> lsp::CodeActionKind {
    match kind {
        ide::AssistKind::Rewrite => lsp::CodeActionKind::REFACTOR_REWRITE,
        ide::AssistKind::Inline => lsp::CodeActionKind::REFACTOR_INLINE,
    }
}

fn is_dead_code(rule: &str) -> bool {
    registry::find(rule).is_some_and(|r| r.category == "dead-code")
}

pub(super) fn workspace_edit(
    uri: &lsp::Url,
    version: i32,
    edits: Vec<lsp::TextEdit>,
) -> lsp::WorkspaceEdit {
    lsp::WorkspaceEdit {
        document_changes: Some(lsp::DocumentChanges::Edits(vec![lsp::TextDocumentEdit {
            text_document: lsp::OptionalVersionedTextDocumentIdentifier {
                uri: uri.clone(),
                version: Some(version),
            },
            edits: edits.into_iter().map(lsp::OneOf::Left).collect(),
        }])),
        ..Default::default()
    }
}
