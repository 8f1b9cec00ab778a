//! `textDocument/didClose`: the disk speaks for the file again.

use tower_lsp_server::ls_types::DidCloseTextDocumentParams;

use crate::identity::DocumentKey;
use crate::server::Backend;

#[tracing::instrument(level = "debug", skip_all, fields(uri = params.text_document.uri.as_str()))]
pub async fn did_close(backend: &Backend, params: DidCloseTextDocumentParams) {
    let key = DocumentKey::new(&params.text_document.uri);
    let state = backend.state();
    // Diagnostics were published under the URI of the didOpen.
    let uri = state
        .open
        .close(&key)
        .map_or(params.text_document.uri, |closed| closed.doc.uri.clone());
    // The buffer no longer speaks for the file: the disk does again.
    state.store.disk_changed(&key);
    if !state.session().pull_diagnostics {
        crate::server::publish::publish(state, uri, Vec::new(), None).await;
    }
    backend.scheduler().reanalyze_affected(None);
}
