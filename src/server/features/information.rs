//! Hover, completion and inlay hints.

use std::sync::Arc;

use tower_lsp::jsonrpc::Result;
use tower_lsp::lsp_types::{self as lsp, Url};

use super::{doc_of, position_params, stamped, still_current, Stamped};
use crate::ide;
use crate::server::convert;
use crate::server::world::ServerWorld;
use crate::server::Shared;

pub async fn hover(
    shared: &Arc<Shared>,
    params: Stamped<lsp::HoverParams>,
) -> Result<Option<lsp::Hover>> {
    let p = &params.request.text_document_position_params;
    let uri = &p.text_document.uri;
    let analysis = stamped(shared, uri, params.revision).await?;
    let encoding = shared.encoding();
    let lock = flake_lock_beside(uri);
    let now_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let answer = {
        let world = ServerWorld::new(shared);
        let doc = doc_of(shared, uri, &analysis);
        let offset = position_params(shared, p, &analysis);
        let context = ide::HoverContext {
            flake_lock: lock.as_deref(),
            now_unix,
        };
        ide::hover(&doc, offset, &world, context).map(|h| lsp::Hover {
            contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value: h.markdown,
            }),
            range: Some(convert::range(&analysis.line_index, h.range, encoding)),
        })
    };
    still_current(shared, uri, analysis.revision)?;
    Ok(answer)
}

pub async fn inlay_hint(
    shared: &Arc<Shared>,
    params: Stamped<lsp::InlayHintParams>,
) -> Result<Option<Vec<lsp::InlayHint>>> {
    let request = &params.request;
    let uri = &request.text_document.uri;
    let analysis = stamped(shared, uri, params.revision).await?;
    let encoding = shared.encoding();
    let lock = flake_lock_beside(uri);
    let answer = {
        let doc = doc_of(shared, uri, &analysis);
        let index = &analysis.line_index;
        let range = convert::text_range(index, request.range, encoding);
        ide::inlay_hints(&doc, range, lock.as_deref())
            .into_iter()
            .map(|hint| {
                let at = convert::range(index, rowan::TextRange::empty(hint.at), encoding).start;
                lsp::InlayHint {
                    position: at,
                    label: lsp::InlayHintLabel::String(hint.label),
                    kind: None,
                    text_edits: None,
                    tooltip: hint.tooltip.map(lsp::InlayHintTooltip::String),
                    padding_left: Some(true),
                    padding_right: None,
                    data: None,
                }
            })
            .collect::<Vec<_>>()
    };
    still_current(shared, uri, analysis.revision)?;
    Ok(Some(answer))
}

pub async fn completion(
    shared: &Arc<Shared>,
    params: Stamped<lsp::CompletionParams>,
) -> Result<Option<lsp::CompletionResponse>> {
    let p = &params.request.text_document_position;
    let uri = &p.text_document.uri;
    let analysis = stamped(shared, uri, params.revision).await?;
    let encoding = shared.encoding();
    let answer = {
        let world = ServerWorld::new(shared);
        let doc = doc_of(shared, uri, &analysis);
        let offset = position_params(shared, p, &analysis);
        ide::completions(&doc, offset, &world).map(|found| {
            let range = convert::range(&analysis.line_index, found.replace, encoding);
            lsp::CompletionResponse::List(lsp::CompletionList {
                is_incomplete: found.incomplete,
                items: found
                    .items
                    .into_iter()
                    .map(|i| completion_item(i, range))
                    .collect(),
            })
        })
    };
    still_current(shared, uri, analysis.revision)?;
    Ok(answer)
}

/// `completionItem/resolve`: the documentation of a builtin, a `lib`
/// function or a Home Manager option.
pub async fn resolve_completion_item(mut item: lsp::CompletionItem) -> Result<lsp::CompletionItem> {
    let key = item.data.as_ref().and_then(|d| {
        if let Some(name) = d.get("builtin").and_then(|v| v.as_str()) {
            Some(ide::DocKey::Builtin(name.to_string()))
        } else if let Some(option) = d.get("homeOption").and_then(|v| v.as_str()) {
            Some(ide::DocKey::HomeOption(option.to_string()))
        } else {
            d.get("lib")
                .and_then(|v| v.as_str())
                .map(|p| ide::DocKey::Lib(p.to_string()))
        }
    });
    if let Some(docs) = key.as_ref().and_then(ide::resolve_completion) {
        item.documentation = Some(lsp::Documentation::MarkupContent(lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value: docs,
        }));
    }
    Ok(item)
}

/// For a flake.nix, the text of the flake.lock beside it on disk.
fn flake_lock_beside(uri: &Url) -> Option<String> {
    if !uri.path().ends_with("/flake.nix") {
        return None;
    }
    let path = uri.to_file_path().ok()?;
    std::fs::read_to_string(path.with_file_name("flake.lock")).ok()
}

fn completion_item(item: ide::CompletionItem, range: lsp::Range) -> lsp::CompletionItem {
    let data = item.docs.map(|key| match key {
        ide::DocKey::Builtin(name) => serde_json::json!({ "builtin": name }),
        ide::DocKey::Lib(path) => serde_json::json!({ "lib": path }),
        ide::DocKey::HomeOption(option) => serde_json::json!({ "homeOption": option }),
    });
    lsp::CompletionItem {
        kind: Some(match item.kind {
            ide::CompletionKind::Keyword => lsp::CompletionItemKind::KEYWORD,
            ide::CompletionKind::Variable => lsp::CompletionItemKind::VARIABLE,
            ide::CompletionKind::Function => lsp::CompletionItemKind::FUNCTION,
            ide::CompletionKind::Field => lsp::CompletionItemKind::FIELD,
            ide::CompletionKind::Module => lsp::CompletionItemKind::MODULE,
            ide::CompletionKind::Constant => lsp::CompletionItemKind::CONSTANT,
        }),
        detail: item.detail,
        sort_text: Some(item.sort),
        filter_text: Some(item.label.clone()),
        text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit {
            range,
            new_text: item.insert,
        })),
        label: item.label,
        data,
        ..Default::default()
    }
}
