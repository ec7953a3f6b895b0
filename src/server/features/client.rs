//! What the client said it supports, at `initialize`: the features read it
//! to answer in a form the client takes.

use std::sync::OnceLock;

use tower_lsp::lsp_types::{ClientCapabilities, TextDocumentClientCapabilities};

#[derive(Default)]
pub struct ClientSupport {
    capabilities: OnceLock<ClientCapabilities>,
}

impl ClientSupport {
    pub fn set(&self, capabilities: ClientCapabilities) {
        let _ = self.capabilities.set(capabilities);
    }

    pub fn get(&self) -> ClientCapabilities {
        self.capabilities.get().cloned().unwrap_or_default()
    }

    fn text_document(&self) -> Option<&TextDocumentClientCapabilities> {
        self.capabilities.get()?.text_document.as_ref()
    }

    /// `LocationLink`s for go to definition.
    pub fn definition_links(&self) -> bool {
        self.text_document()
            .and_then(|t| t.definition.as_ref())
            .and_then(|d| d.link_support)
            == Some(true)
    }

    /// Versioned `documentChanges` in workspace edits.
    pub fn document_changes(&self) -> bool {
        self.capabilities
            .get()
            .and_then(|c| c.workspace.as_ref())
            .and_then(|w| w.workspace_edit.as_ref())
            .and_then(|e| e.document_changes)
            == Some(true)
    }

    /// Code actions sent without their edit, which `codeAction/resolve`
    /// fills in.
    pub fn resolves_code_action_edits(&self) -> bool {
        self.text_document()
            .and_then(|t| t.code_action.as_ref())
            .and_then(|c| c.resolve_support.as_ref())
            .is_some_and(|r| r.properties.iter().any(|p| p == "edit"))
    }

    /// Nested document symbols.
    pub fn hierarchical_symbols(&self) -> bool {
        self.text_document()
            .and_then(|t| t.document_symbol.as_ref())
            .and_then(|d| d.hierarchical_document_symbol_support)
            == Some(true)
    }
}
