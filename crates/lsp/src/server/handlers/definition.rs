//! `textDocument/definition`: from a pod spec's `serviceAccountName` /
//! `serviceAccount` value to the ServiceAccount it names, in any file of
//! the workspace (the host's `definition`).

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{GotoDefinitionParams, GotoDefinitionResponse};

use crate::identity::DocumentKey;
use crate::positions::to_offset;
use crate::server::navigate;
use crate::server::Backend;

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(uri = params.text_document_position_params.text_document.uri.as_str())
)]
pub async fn definition(
    backend: &Backend,
    params: GotoDefinitionParams,
) -> Result<Option<GotoDefinitionResponse>> {
    let position = params.text_document_position_params;
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
    let found = navigate::ask_alone(state, &key, &analyzed.rope, move |host, open| {
        host.definition(open, offset)
    })
    .await
    .unwrap_or_default();
    let locations = state.locations(&key, &uri, &analyzed.rope, found);
    Ok((!locations.is_empty()).then_some(GotoDefinitionResponse::Array(locations)))
}
