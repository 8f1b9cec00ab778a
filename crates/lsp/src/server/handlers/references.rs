//! `textDocument/references`: on a ServiceAccount (its declaration or a
//! pod spec's value naming it), the workloads that run as it, anywhere in
//! the workspace (the host's `references`).

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{Location, ReferenceParams};

use crate::identity::DocumentKey;
use crate::positions::to_offset;
use crate::server::navigate;
use crate::server::Backend;

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(uri = params.text_document_position.text_document.uri.as_str())
)]
pub async fn references(
    backend: &Backend,
    params: ReferenceParams,
) -> Result<Option<Vec<Location>>> {
    let position = params.text_document_position;
    let include_declaration = params.context.include_declaration;
    let uri = position.text_document.uri;
    let key = DocumentKey::new(&uri);
    let Some(analyzed) = backend.scheduler().current(&key).await else {
        return Ok(None);
    };
    let state = backend.state();
    if !state.settings_for(&key).enable {
        return Ok(None);
    }
    let offset = to_offset(&analyzed.rope, position.position, state.session().encoding).byte;
    let found = navigate::ask(state, &key, &analyzed.rope, move |host, open| {
        host.references(open, offset, include_declaration)
    })
    .await
    .unwrap_or_default();
    let locations = state.locations(&key, &uri, &analyzed.rope, found);
    Ok((!locations.is_empty()).then_some(locations))
}
