//! `workspace/didChangeConfiguration`: the settings are pulled again (or
//! taken from the notification), then every open document is analysed again.

use tower_lsp_server::ls_types::DidChangeConfigurationParams;

use crate::server::settings::pull_settings;
use crate::server::Backend;

#[tracing::instrument(level = "debug", skip_all)]
pub async fn did_change_configuration(backend: &Backend, params: DidChangeConfigurationParams) {
    let state = backend.state();
    if state.session().configuration_pull {
        pull_settings(backend.client(), state).await;
    } else {
        state.apply_settings(&params.settings);
    }
    backend.scheduler().reanalyze_others(None);
}
