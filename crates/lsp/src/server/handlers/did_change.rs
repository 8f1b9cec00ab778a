//! `textDocument/didChange`: the edits make a new snapshot, which is
//! analysed.

use tower_lsp_server::ls_types::DidChangeTextDocumentParams;
use tracing::warn;

use crate::identity::DocumentKey;
use crate::server::Backend;

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(uri = params.text_document.uri.as_str(), version = params.text_document.version)
)]
pub async fn did_change(backend: &Backend, params: DidChangeTextDocumentParams) {
    let uri = params.text_document.uri;
    let version = params.text_document.version;
    let key = DocumentKey::new(&uri);
    let state = backend.state();
    // All of the edit happens before the first await (there is none), so
    // changes apply in the order they arrived.
    let Some(edited) = state.open.edit(
        &key,
        version,
        &params.content_changes,
        state.session().encoding,
    ) else {
        warn!("didChange for {} which is not open; ignored", uri.as_str());
        return;
    };
    if version <= edited.previous_version {
        warn!(
            "didChange for {} goes from version {} to {version}; applied anyway",
            uri.as_str(),
            edited.previous_version,
        );
    }
    for note in edited.notes {
        warn!("{}: {note}", uri.as_str());
    }
    backend.scheduler().schedule(key);
}
