//! `textDocument/didSave`: the saved document's chart is rendered again
//! when reading it in place cannot decide (rendering runs on open and save,
//! never on each keystroke).

use tower_lsp_server::ls_types::DidSaveTextDocumentParams;

use crate::identity::DocumentKey;
use crate::server::Backend;

#[tracing::instrument(level = "debug", skip_all, fields(uri = params.text_document.uri.as_str()))]
pub async fn did_save(backend: &Backend, params: DidSaveTextDocumentParams) {
    let key = DocumentKey::new(&params.text_document.uri);
    crate::server::render::opened_or_saved(backend.scheduler(), &key);
}
