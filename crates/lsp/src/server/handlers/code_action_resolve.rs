//! `codeAction/resolve`: the edit of a fix-all, or of a projected token
//! action, left for later.

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{CodeAction, Uri};

use super::analysis_of_open;
use crate::code_actions;
use crate::server::Backend;

#[tracing::instrument(level = "debug", skip_all, fields(title = action.title.as_str()))]
pub async fn code_action_resolve(backend: &Backend, mut action: CodeAction) -> Result<CodeAction> {
    let uri = action
        .data
        .as_ref()
        .and_then(|d| d.get("uri"))
        .and_then(Value::as_str)
        .and_then(|u| u.parse::<Uri>().ok());
    let Some(uri) = uri else {
        return Ok(action);
    };
    let (key, analyzed) = analysis_of_open(backend, &uri).await?;
    let state = backend.state();
    let uri = state.open.client_uri(&key);
    let settings = state.settings_for(&key);
    let data = action.data.as_ref();
    if let Some(at) = data.and_then(|d| d.get("projectedToken")) {
        // The finding, named by where it starts in the revision the action
        // was computed for: no edit when the document has moved on.
        let revision = data.and_then(|d| d.get("revision")).and_then(Value::as_u64);
        action.edit = match (at.as_u64(), revision) {
            (Some(at), Some(revision)) => code_actions::projected_token_edit(
                &uri,
                &analyzed,
                &settings,
                state.session().encoding,
                revision,
                usize::try_from(at).unwrap_or(usize::MAX),
            ),
            _ => None,
        };
        return Ok(action);
    }
    action.edit = Some(code_actions::fix_all_edit(
        &uri,
        &analyzed,
        &settings,
        state.session().encoding,
    ));
    Ok(action)
}
