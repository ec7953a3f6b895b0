//! The IDE layer: the one facade through which the server, the CLI and the
//! NATS service ask about a file. Diagnostics (with a flake's findings
//! against its lock), fixes, and the editor features (navigation, hover,
//! completion, symbols, tokens, ...) each live in a file of their own here,
//! answer in byte offsets, and know no LSP or NATS types.
//!
//! A feature reads a [`Doc`]: one revision of one file (its text and
//! analysis, with the semantic model) and where it is. What it needs from
//! other files it asks a [`World`] for, which the caller implements (the
//! server from its open documents and the disk).
//!
//! **Invariant:** no I/O. What a feature needs from outside the file (the
//! flake.lock beside a flake.nix, other files of the workspace) is given to
//! it by the caller.

mod assists;
mod builtins;
mod callers;
mod completion;
mod diagnostics;
mod folding;
mod goto_definition;
mod home_options;
mod hover;
mod inlay_hints;
mod lib_docs;
mod links;
pub mod memo;
pub mod migrate;
mod paths;
mod references;
mod rename;
mod selection;
mod semantic_tokens;
mod sets;
mod symbols;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rnix::{SyntaxKind, SyntaxNode, SyntaxToken};
use rowan::{TextRange, TextSize};

use crate::analysis::semantic::SemanticModel;
pub use crate::analysis::Analysis;
pub use assists::{assists, Assist, AssistKind};
pub use completion::{
    completions, resolve as resolve_completion, CompletionItem, CompletionKind, Completions, DocKey,
};
pub use diagnostics::{analyze, fix_all, internal_error, not_utf8, FileContext};
pub use folding::{folding_ranges, Fold, FoldKind};
pub use goto_definition::goto_definition;
pub use hover::{hover, HoverContext, HoverResult};
pub use inlay_hints::{inlay_hints, HintKind, InlayHint, LONG_BINDING_LINES};
pub use links::{
    document_links, file_links, home_module_links, may_name_home_modules, module_imports, Link,
    LinkTarget,
};
pub use references::{highlights, references, Highlight, HighlightKind};
pub use rename::{prepare_rename, rename, FileEdit, RenameError};
pub use selection::selection_ranges;
pub use semantic_tokens::{
    semantic_tokens, semantic_tokens_with, SemanticToken, TOKEN_MODIFIERS, TOKEN_TYPES,
};
pub use symbols::{
    document_symbols, symbol_match, workspace_symbols_of, DocumentSymbol, SymbolKind,
    WorkspaceSymbol,
};

/// The text and analysis of one revision of a file. The server's stored
/// analyses implement it, and [`SourceFile`] holds a text read from disk.
pub trait Source: Send + Sync {
    fn text(&self) -> &str;
    fn analysis(&self) -> &Analysis;
}

/// A text and its parse, with no rules run: how a feature sees a file it
/// reads but does not report on (a closed file an open one imports).
pub struct SourceFile {
    text: String,
    analysis: Analysis,
}

impl SourceFile {
    pub fn parse(text: String) -> SourceFile {
        let parse = crate::syntax::parse(&text);
        let analysis = Analysis::new(Some(parse), Vec::new(), crate::syntax::ReparseKind::Full);
        SourceFile { text, analysis }
    }
}

impl SourceFile {
    /// A text with an analysis made elsewhere.
    pub fn from_analysis(text: String, analysis: Analysis) -> SourceFile {
        SourceFile { text, analysis }
    }
}

impl Source for SourceFile {
    fn text(&self) -> &str {
        &self.text
    }

    fn analysis(&self) -> &Analysis {
        &self.analysis
    }
}

/// One revision of one file, as every feature reads it: where it is, its
/// text, its analysis, and (built on first use) its syntax tree's root.
pub struct Doc {
    /// `None` for a text that is no file (standard input, a new buffer):
    /// paths in it resolve nowhere.
    pub path: Option<PathBuf>,
    source: Arc<dyn Source>,
    root: OnceLock<Option<SyntaxNode>>,
    /// What the features kept of the file's earlier revisions.
    memo: Option<Arc<memo::Memo>>,
}

// SAFETY-free note: `SyntaxNode` is not `Send`; a `Doc` lives within one
// request on one thread.
impl Doc {
    pub fn new(path: Option<PathBuf>, source: Arc<dyn Source>) -> Doc {
        Doc {
            path,
            source,
            root: OnceLock::new(),
            memo: None,
        }
    }

    /// The document with the memo of its earlier revisions, which the
    /// features take what did not change from (and keep their work in).
    pub fn with_memo(mut self, memo: Arc<memo::Memo>) -> Doc {
        self.memo = Some(memo);
        self
    }

    pub(crate) fn memo(&self) -> Option<&memo::Memo> {
        self.memo.as_deref()
    }

    pub fn text(&self) -> &str {
        self.source.text()
    }

    pub fn analysis(&self) -> &Analysis {
        self.source.analysis()
    }

    /// The syntax tree, one root per `Doc`, so nodes found through it
    /// compare equal. `None` when the file was too big or deep to parse.
    pub fn root(&self) -> Option<&SyntaxNode> {
        self.root
            .get_or_init(|| self.analysis().parse.as_ref()?.syntax())
            .as_ref()
    }

    pub fn model(&self) -> Option<&SemanticModel> {
        self.analysis().model()
    }
}

/// What a path on disk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    File,
    Directory,
    Missing,
}

/// What the features may know of other files. The caller implements it:
/// the server from its open documents, then the disk; tests from a map.
pub trait World {
    fn path_kind(&self, path: &Path) -> PathKind;
    /// The file at `path`: the editor's text when it is open, else the
    /// file on disk; `None` when it cannot be read.
    fn load(&self, path: &Path) -> Option<Arc<dyn Source>>;
    /// The files of the workspace that may call or import `path` (a
    /// superset is fine: each is read and checked).
    fn referrers(&self, path: &Path) -> Vec<PathBuf>;
}

/// A world with no other files: a file on its own.
pub struct NoWorld;

impl World for NoWorld {
    fn path_kind(&self, _: &Path) -> PathKind {
        PathKind::Missing
    }

    fn load(&self, _: &Path) -> Option<Arc<dyn Source>> {
        None
    }

    fn referrers(&self, _: &Path) -> Vec<PathBuf> {
        Vec::new()
    }
}

/// A place a feature points to: this file (`file: None`) or another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    pub file: Option<PathBuf>,
    /// The whole definition: the binding, the pattern entry, the file.
    pub range: TextRange,
    /// The name within it.
    pub focus: TextRange,
}

/// A range in this file (`file: None`) or another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileRange {
    pub file: Option<PathBuf>,
    pub range: TextRange,
}

/// The token a cursor at `offset` is on. Between two tokens, the one that
/// names something wins (`foo|.bar` is on `foo`), then the right one.
pub(crate) fn token_at(root: &SyntaxNode, offset: TextSize) -> Option<SyntaxToken> {
    let right = crate::syntax::token_at(root, offset);
    let left = offset
        .checked_sub(TextSize::from(1))
        .and_then(|before| crate::syntax::token_at(root, before))
        .filter(|t| t.text_range().end() == offset);
    match (left, right) {
        (Some(l), Some(r)) => Some(if rank(l.kind()) > rank(r.kind()) {
            l
        } else {
            r
        }),
        (l, r) => r.or(l),
    }
}

/// The range of the token a cursor at `offset` is on.
pub fn name_range_at(doc: &Doc, offset: TextSize) -> Option<TextRange> {
    token_at(doc.root()?, offset).map(|t| t.text_range())
}

/// How much a token kind names something a feature can act on.
fn rank(kind: SyntaxKind) -> u8 {
    use SyntaxKind::*;
    match kind {
        TOKEN_IDENT => 4,
        TOKEN_PATH_REL | TOKEN_PATH_ABS | TOKEN_PATH_HOME | TOKEN_PATH_SEARCH | TOKEN_URI => 3,
        TOKEN_STRING_CONTENT | TOKEN_INTEGER | TOKEN_FLOAT => 2,
        TOKEN_WHITESPACE | TOKEN_COMMENT => 0,
        _ => 1,
    }
}

/// Whether `name` can be written as a Nix identifier (else it needs quotes
/// as an attribute, and cannot be a variable).
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '-'))
        && !is_keyword(name)
}

/// Nix's keywords, which no identifier may be.
pub const KEYWORDS: &[&str] = &[
    "assert", "else", "if", "in", "inherit", "let", "or", "rec", "then", "with",
];

pub fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

#[cfg(test)]
pub(crate) mod fixture;
