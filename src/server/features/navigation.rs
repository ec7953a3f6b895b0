//! Go to definition, references, document highlight and rename.

use std::sync::Arc;

use tower_lsp::jsonrpc::Result;
use tower_lsp::lsp_types::{self as lsp, Url};

use super::{doc_of, position_params, request_failed, stamped, still_current, Places, Stamped};
use crate::ide;
use crate::server::convert;
use crate::server::world::ServerWorld;
use crate::server::Shared;

pub async fn definition(
    shared: &Arc<Shared>,
    params: Stamped<lsp::GotoDefinitionParams>,
) -> Result<Option<lsp::GotoDefinitionResponse>> {
    let p = &params.request.text_document_position_params;
    let uri = &p.text_document.uri;
    let analysis = stamped(shared, uri, params.revision).await?;
    let links = shared.client.definition_links();
    let answer = {
        let world = ServerWorld::new(shared);
        let doc = doc_of(shared, uri, &analysis);
        let offset = position_params(shared, p, &analysis);
        let targets = ide::goto_definition(&doc, offset, &world);
        let mut places = Places::new(&world, uri, &analysis.line_index);
        let origin = ide::name_range_at(&doc, offset)
            .map(|r| convert::range(&analysis.line_index, r, places.encoding));
        if links {
            let links: Vec<lsp::LocationLink> = targets
                .iter()
                .filter_map(|t| {
                    let (target_uri, range) = places.range(t.file.as_ref(), t.range)?;
                    let (_, focus) = places.range(t.file.as_ref(), t.focus)?;
                    Some(lsp::LocationLink {
                        origin_selection_range: origin,
                        target_uri,
                        target_range: range,
                        target_selection_range: focus,
                    })
                })
                .collect();
            (!links.is_empty()).then_some(lsp::GotoDefinitionResponse::Link(links))
        } else {
            let locations: Vec<lsp::Location> = targets
                .iter()
                .filter_map(|t| places.location(t.file.as_ref(), t.focus))
                .collect();
            (!locations.is_empty()).then_some(lsp::GotoDefinitionResponse::Array(locations))
        }
    };
    still_current(shared, uri, analysis.revision)?;
    Ok(answer)
}

pub async fn references(
    shared: &Arc<Shared>,
    params: Stamped<lsp::ReferenceParams>,
) -> Result<Option<Vec<lsp::Location>>> {
    let p = &params.request.text_document_position;
    let uri = &p.text_document.uri;
    let analysis = stamped(shared, uri, params.revision).await?;
    let include = params.request.context.include_declaration;
    let answer = {
        let world = ServerWorld::new(shared);
        let doc = doc_of(shared, uri, &analysis);
        let offset = position_params(shared, p, &analysis);
        let found = ide::references(&doc, offset, include, &world);
        let mut places = Places::new(&world, uri, &analysis.line_index);
        let locations: Vec<lsp::Location> = found
            .iter()
            .filter_map(|r| places.location(r.file.as_ref(), r.range))
            .collect();
        (!locations.is_empty()).then_some(locations)
    };
    still_current(shared, uri, analysis.revision)?;
    Ok(answer)
}

pub async fn document_highlight(
    shared: &Arc<Shared>,
    params: Stamped<lsp::DocumentHighlightParams>,
) -> Result<Option<Vec<lsp::DocumentHighlight>>> {
    let p = &params.request.text_document_position_params;
    let uri = &p.text_document.uri;
    let analysis = stamped(shared, uri, params.revision).await?;
    let encoding = shared.encoding();
    let answer = {
        let world = ServerWorld::new(shared);
        let doc = doc_of(shared, uri, &analysis);
        let offset = position_params(shared, p, &analysis);
        let found = ide::highlights(&doc, offset, &world);
        let highlights: Vec<lsp::DocumentHighlight> = found
            .iter()
            .map(|h| lsp::DocumentHighlight {
                range: convert::range(&analysis.line_index, h.range, encoding),
                kind: Some(match h.kind {
                    ide::HighlightKind::Write => lsp::DocumentHighlightKind::WRITE,
                    ide::HighlightKind::Read => lsp::DocumentHighlightKind::READ,
                }),
            })
            .collect();
        (!highlights.is_empty()).then_some(highlights)
    };
    still_current(shared, uri, analysis.revision)?;
    Ok(answer)
}

pub async fn prepare_rename(
    shared: &Arc<Shared>,
    params: Stamped<lsp::TextDocumentPositionParams>,
) -> Result<Option<lsp::PrepareRenameResponse>> {
    let p = &params.request;
    let uri = &p.text_document.uri;
    let analysis = stamped(shared, uri, params.revision).await?;
    let encoding = shared.encoding();
    let answer = {
        let world = ServerWorld::new(shared);
        let doc = doc_of(shared, uri, &analysis);
        let offset = position_params(shared, p, &analysis);
        ide::prepare_rename(&doc, offset, &world)
            .map(
                |(range, placeholder)| lsp::PrepareRenameResponse::RangeWithPlaceholder {
                    range: convert::range(&analysis.line_index, range, encoding),
                    placeholder,
                },
            )
            .map_err(|e| request_failed(e.0))
    };
    still_current(shared, uri, analysis.revision)?;
    answer.map(Some)
}

pub async fn rename(
    shared: &Arc<Shared>,
    params: Stamped<lsp::RenameParams>,
) -> Result<Option<lsp::WorkspaceEdit>> {
    let p = &params.request.text_document_position;
    let uri = &p.text_document.uri;
    let new_name = params.request.new_name.trim().to_string();
    let analysis = stamped(shared, uri, params.revision).await?;
    let versioned = shared.client.document_changes();
    let answer = {
        let world = ServerWorld::new(shared);
        let doc = doc_of(shared, uri, &analysis);
        let offset = position_params(shared, p, &analysis);
        match ide::rename(&doc, offset, &new_name, &world) {
            Err(e) => Err(request_failed(e.0)),
            Ok(files) => {
                let mut places = Places::new(&world, uri, &analysis.line_index);
                let mut changes: Vec<(Url, Option<i32>, Vec<lsp::TextEdit>)> = Vec::new();
                for file in &files {
                    let version = match &file.file {
                        None => Some(analysis.version),
                        Some(path) => world.open_document(path).map(|(_, v)| v),
                    };
                    let mut edits = Vec::new();
                    let mut file_uri = None;
                    for edit in &file.edits {
                        if let Some((u, range)) = places.range(file.file.as_ref(), edit.range) {
                            file_uri = Some(u);
                            edits.push(lsp::TextEdit {
                                range,
                                new_text: edit.insert.clone(),
                            });
                        }
                    }
                    if let Some(u) = file_uri {
                        changes.push((u, version, edits));
                    }
                }
                Ok(workspace_edit(changes, versioned))
            }
        }
    };
    still_current(shared, uri, analysis.revision)?;
    answer.map(Some)
}

fn workspace_edit(
    changes: Vec<(Url, Option<i32>, Vec<lsp::TextEdit>)>,
    versioned: bool,
) -> lsp::WorkspaceEdit {
    if versioned {
        lsp::WorkspaceEdit {
            document_changes: Some(lsp::DocumentChanges::Edits(
                changes
                    .into_iter()
                    .map(|(uri, version, edits)| lsp::TextDocumentEdit {
                        text_document: lsp::OptionalVersionedTextDocumentIdentifier {
                            uri,
                            version,
                        },
                        edits: edits.into_iter().map(lsp::OneOf::Left).collect(),
                    })
                    .collect(),
            )),
            ..Default::default()
        }
    } else {
        lsp::WorkspaceEdit {
            changes: Some(
                changes
                    .into_iter()
                    .map(|(uri, _, edits)| (uri, edits))
                    .collect(),
            ),
            ..Default::default()
        }
    }
}
