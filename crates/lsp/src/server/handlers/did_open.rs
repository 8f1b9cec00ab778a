//! `textDocument/didOpen`: the document joins the open documents and is
//! analysed; its chart is rendered when reading it in place cannot decide.

use tower_lsp_server::ls_types::DidOpenTextDocumentParams;

use crate::identity::DocumentKey;
use crate::server::Backend;

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(uri = params.text_document.uri.as_str(), bytes = params.text_document.text.len())
)]
pub async fn did_open(backend: &Backend, params: DidOpenTextDocumentParams) {
    let mut doc = params.text_document;
    let key = DocumentKey::new(&doc.uri);
    let state = backend.state();
    // A large text was decoded by the transport (`transport/open_text.rs`).
    let text = state.opened.take(std::mem::take(&mut doc.text));
    // The document keeps the text for its first analysis.
    let replaced = state.open.open(&key, doc.uri.clone(), doc.version, text);
    // (Before the first analysis: what makes rendering impossible is then
    // already in its findings.)
    crate::server::render::opened_or_saved(backend.scheduler(), &key);
    backend.scheduler().schedule(key);
    // The file was open under another spelling: what was published under
    // that one is this document's now.
    if let Some(old) = replaced.filter(|old| old.uri != doc.uri) {
        if !state.session().pull_diagnostics {
            crate::server::publish::publish(state, old.uri.clone(), Vec::new(), None).await;
        }
    }
}
