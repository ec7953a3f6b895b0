//! Document and workspace symbols, document links, folding and selection
//! ranges.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use tower_lsp::jsonrpc::Result;
use tower_lsp::lsp_types::{self as lsp, Url};

use super::{doc_of, request_failed, stamped, still_current, Stamped};
use crate::ide;
use crate::server::convert;
use crate::server::world::ServerWorld;
use crate::server::Shared;
use crate::syntax::{LineIndex, PositionEncoding};

/// Document symbols as the client takes them.
pub enum SymbolsAnswer {
    /// `DocumentSymbol[]`, serialised straight from `ide`'s symbols: 20 000
    /// of them in all-packages.nix, never built as LSP structs.
    Nested {
        symbols: Vec<ide::DocumentSymbol>,
        index: Arc<LineIndex>,
        encoding: PositionEncoding,
    },
    Flat(Vec<lsp::SymbolInformation>),
}

impl super::Answer for SymbolsAnswer {
    fn json_size(&self) -> usize {
        fn count(symbols: &[ide::DocumentSymbol]) -> usize {
            symbols.iter().map(|s| 1 + count(&s.children)).sum()
        }
        // A symbol with its ranges is about 220 bytes of JSON.
        match self {
            SymbolsAnswer::Nested { symbols, .. } => count(symbols) * 220,
            SymbolsAnswer::Flat(flat) => flat.len() * 250,
        }
    }
}

impl serde::Serialize for SymbolsAnswer {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        match self {
            SymbolsAnswer::Nested {
                symbols,
                index,
                encoding,
            } => NestedSymbols {
                symbols,
                index,
                encoding: *encoding,
                line: &std::cell::Cell::new(0),
            }
            .serialize(serializer),
            SymbolsAnswer::Flat(flat) => flat.serialize(serializer),
        }
    }
}

struct NestedSymbols<'a> {
    symbols: &'a [ide::DocumentSymbol],
    index: &'a LineIndex,
    encoding: PositionEncoding,
    /// The line of the last symbol's start: symbols come in source order,
    /// so each position is a step from the one before, not a search (the
    /// searches were a sixth of answering all-packages.nix's symbols).
    line: &'a std::cell::Cell<u32>,
}

impl serde::Serialize for NestedSymbols<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        let mut seq = serializer.serialize_seq(Some(self.symbols.len()))?;
        for s in self.symbols {
            struct One<'a>(
                &'a ide::DocumentSymbol,
                &'a LineIndex,
                PositionEncoding,
                &'a std::cell::Cell<u32>,
            );
            impl serde::Serialize for One<'_> {
                fn serialize<S: serde::Serializer>(
                    &self,
                    serializer: S,
                ) -> std::result::Result<S::Ok, S::Error> {
                    let One(s, index, encoding, line) = *self;
                    let mut map = serializer.serialize_map(None)?;
                    let name = if s.name.is_empty() { "_" } else { &s.name };
                    map.serialize_entry("name", name)?;
                    if let Some(detail) = &s.detail {
                        map.serialize_entry("detail", detail)?;
                    }
                    map.serialize_entry("kind", &symbol_kind(s.kind))?;
                    let range = convert::range_from(index, line.get(), s.range, encoding);
                    line.set(range.start.line);
                    map.serialize_entry("range", &range)?;
                    map.serialize_entry(
                        "selectionRange",
                        &convert::range_from(index, range.start.line, s.selection, encoding),
                    )?;
                    if !s.children.is_empty() {
                        map.serialize_entry(
                            "children",
                            &NestedSymbols {
                                symbols: &s.children,
                                index,
                                encoding,
                                line,
                            },
                        )?;
                    }
                    map.end()
                }
            }
            seq.serialize_element(&One(s, self.index, self.encoding, self.line))?;
        }
        seq.end()
    }
}

pub async fn document_symbol(
    shared: &Arc<Shared>,
    params: Stamped<lsp::DocumentSymbolParams>,
) -> Result<Option<SymbolsAnswer>> {
    let uri = &params.request.text_document.uri;
    let analysis = stamped(shared, uri, params.revision).await?;
    let encoding = shared.encoding();
    let hierarchical = shared.client.hierarchical_symbols();
    let answer = {
        let doc = doc_of(shared, uri, &analysis);
        let symbols = ide::document_symbols(&doc);
        let index = &analysis.line_index;
        if hierarchical {
            SymbolsAnswer::Nested {
                symbols,
                index: index.clone(),
                encoding,
            }
        } else {
            let mut flat = Vec::new();
            flat_symbols(&symbols, None, uri, index, encoding, &mut flat);
            SymbolsAnswer::Flat(flat)
        }
    };
    still_current(shared, uri, analysis.revision)?;
    Ok(Some(answer))
}

pub async fn document_link(
    shared: &Arc<Shared>,
    params: Stamped<lsp::DocumentLinkParams>,
) -> Result<Option<Vec<lsp::DocumentLink>>> {
    let uri = &params.request.text_document.uri;
    let analysis = stamped(shared, uri, params.revision).await?;
    let encoding = shared.encoding();
    let answer = {
        let world = ServerWorld::new(shared);
        let doc = doc_of(shared, uri, &analysis);
        ide::document_links(&doc, &world)
            .into_iter()
            .filter_map(|link| {
                let target = match &link.target {
                    ide::LinkTarget::File(path) => Url::from_file_path(path).ok()?,
                    ide::LinkTarget::Url(url) => Url::parse(url).ok()?,
                };
                Some(lsp::DocumentLink {
                    range: convert::range(&analysis.line_index, link.range, encoding),
                    target: Some(target),
                    tooltip: None,
                    data: None,
                })
            })
            .collect::<Vec<_>>()
    };
    still_current(shared, uri, analysis.revision)?;
    Ok(Some(answer))
}

pub async fn folding_range(
    shared: &Arc<Shared>,
    params: Stamped<lsp::FoldingRangeParams>,
) -> Result<Option<Vec<lsp::FoldingRange>>> {
    let uri = &params.request.text_document.uri;
    let analysis = stamped(shared, uri, params.revision).await?;
    let answer = {
        let doc = doc_of(shared, uri, &analysis);
        let index = &analysis.line_index;
        let text = analysis.text.as_str();
        ide::folding_ranges(&doc)
            .into_iter()
            .filter_map(|fold| {
                let start = index
                    .line_col(fold.range.start(), PositionEncoding::Utf8)
                    .line;
                let end_at = index.line_col(fold.range.end(), PositionEncoding::Utf8);
                // A closing bracket alone on its line stays visible.
                let line_start = usize::from(fold.range.end()) - end_at.col as usize;
                let before_end = &text[line_start..usize::from(fold.range.end())];
                let end = if end_at.line > start && before_end.trim().is_empty() {
                    end_at.line - 1
                } else {
                    end_at.line
                };
                (end > start).then_some(lsp::FoldingRange {
                    start_line: start,
                    start_character: None,
                    end_line: end,
                    end_character: None,
                    kind: Some(match fold.kind {
                        ide::FoldKind::Comment => lsp::FoldingRangeKind::Comment,
                        ide::FoldKind::Region => lsp::FoldingRangeKind::Region,
                    }),
                    collapsed_text: None,
                })
            })
            .collect::<Vec<_>>()
    };
    still_current(shared, uri, analysis.revision)?;
    Ok(Some(answer))
}

pub async fn selection_range(
    shared: &Arc<Shared>,
    params: Stamped<lsp::SelectionRangeParams>,
) -> Result<Option<Vec<lsp::SelectionRange>>> {
    let request = &params.request;
    let uri = &request.text_document.uri;
    let analysis = stamped(shared, uri, params.revision).await?;
    let encoding = shared.encoding();
    let answer = {
        let doc = doc_of(shared, uri, &analysis);
        let index = &analysis.line_index;
        let offsets: Vec<rowan::TextSize> = request
            .positions
            .iter()
            .map(|p| convert::offset(index, *p, encoding))
            .collect();
        ide::selection_ranges(&doc, &offsets)
            .into_iter()
            .map(|ranges| {
                // Built from the outermost in: each range's parent is
                // the one around it.
                let mut parent: Option<Box<lsp::SelectionRange>> = None;
                for range in ranges.iter().rev() {
                    parent = Some(Box::new(lsp::SelectionRange {
                        range: convert::range(index, *range, encoding),
                        parent,
                    }));
                }
                parent.map(|b| *b).unwrap_or(lsp::SelectionRange {
                    range: lsp::Range::default(),
                    parent: None,
                })
            })
            .collect::<Vec<_>>()
    };
    still_current(shared, uri, analysis.revision)?;
    Ok(Some(answer))
}

/// `workspace/symbol`: the indexed files' symbols and the open
/// documents', best matches first.
pub async fn workspace_symbol(
    shared: &Arc<Shared>,
    params: lsp::WorkspaceSymbolParams,
) -> Result<Option<Vec<lsp::SymbolInformation>>> {
    const LIMIT: usize = 500;
    let query = params.query;
    shared
        .index
        .settled(std::time::Duration::from_secs(5))
        .await;
    let shared = shared.clone();
    let encoding = shared.encoding();
    let found = tokio::task::spawn_blocking(move || {
        let mut found: Vec<(u32, PathBuf, ide::WorkspaceSymbol, Option<Arc<LineIndex>>)> =
            Vec::new();
        let mut open_paths = Vec::new();
        for uri in shared.documents.uris() {
            let (Ok(path), Some(snapshot)) = (uri.to_file_path(), shared.documents.snapshot(&uri))
            else {
                continue;
            };
            let Some(analysis) = shared.documents.analysis_of(&uri, snapshot.revision) else {
                continue;
            };
            let doc = doc_of(&shared, &uri, &analysis);
            for symbol in ide::workspace_symbols_of(&doc) {
                if let Some(score) = ide::symbol_match(&query, &symbol.name) {
                    found.push((
                        score,
                        path.clone(),
                        symbol,
                        Some(analysis.line_index.clone()),
                    ));
                }
            }
            open_paths.push(path);
        }
        for (path, symbol) in shared.index.search(&query, LIMIT) {
            if open_paths.contains(&path) {
                continue;
            }
            let score = ide::symbol_match(&query, &symbol.name).unwrap_or(3);
            found.push((score, path, symbol, None));
        }
        found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.2.name.cmp(&b.2.name)));
        found.truncate(LIMIT);
        let mut indexes: HashMap<PathBuf, Option<Arc<LineIndex>>> = HashMap::new();
        found
            .into_iter()
            .filter_map(|(_, path, symbol, index)| {
                let index = match index {
                    Some(index) => index,
                    None => indexes
                        .entry(path.clone())
                        .or_insert_with(|| {
                            std::fs::read_to_string(&path)
                                .ok()
                                .map(|t| Arc::new(LineIndex::new(&t)))
                        })
                        .clone()?,
                };
                let uri = Url::from_file_path(&path).ok()?;
                #[allow(deprecated)] // `deprecated` is a required field
                Some(lsp::SymbolInformation {
                    name: symbol.name,
                    kind: symbol_kind(symbol.kind),
                    tags: None,
                    deprecated: None,
                    location: lsp::Location::new(
                        uri,
                        convert::range(&index, symbol.range, encoding),
                    ),
                    container_name: symbol.container,
                })
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| request_failed(format!("workspace symbol search failed: {e}")))?;
    Ok(Some(found))
}

pub fn symbol_kind(kind: ide::SymbolKind) -> lsp::SymbolKind {
    match kind {
        ide::SymbolKind::Function => lsp::SymbolKind::FUNCTION,
        ide::SymbolKind::Variable => lsp::SymbolKind::VARIABLE,
        ide::SymbolKind::Namespace => lsp::SymbolKind::NAMESPACE,
        ide::SymbolKind::Field => lsp::SymbolKind::FIELD,
    }
}

#[allow(deprecated)] // `deprecated` is a required field
fn flat_symbols(
    symbols: &[ide::DocumentSymbol],
    container: Option<&str>,
    uri: &Url,
    index: &LineIndex,
    encoding: PositionEncoding,
    out: &mut Vec<lsp::SymbolInformation>,
) {
    for s in symbols {
        out.push(lsp::SymbolInformation {
            name: s.name.clone(),
            kind: symbol_kind(s.kind),
            tags: None,
            deprecated: None,
            location: lsp::Location::new(uri.clone(), convert::range(index, s.range, encoding)),
            container_name: container.map(str::to_string),
        });
        let path = match container {
            Some(c) => format!("{c}.{}", s.name),
            None => s.name.clone(),
        };
        flat_symbols(&s.children, Some(&path), uri, index, encoding, out);
    }
}
