//! `initialize` (the session, the workspace folders and their project
//! files) and `initialized` (file watchers, configuration problems, the
//! settings, then the workspace index).

use std::path::PathBuf;
use std::sync::Arc;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{InitializeParams, InitializeResult};
use tracing::{info, warn};

use crate::identity::DocumentKey;
use crate::server::capabilities::{self, Session};
use crate::server::publish::publish_config_problems;
use crate::server::settings::pull_settings;
use crate::server::workspace_index::index_workspace;
use crate::server::Backend;

#[tracing::instrument(level = "debug", skip_all)]
pub async fn initialize(backend: &Backend, params: InitializeParams) -> Result<InitializeResult> {
    let state = backend.state();
    let session = Session::of(&params.capabilities);
    let _ = state.session.set(session);
    if let Some(options) = &params.initialization_options {
        state.apply_settings(options);
    }
    let mut roots: Vec<PathBuf> = params
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| DocumentKey::new(&f.uri).to_path())
        .collect();
    #[allow(deprecated)]
    if roots.is_empty() {
        roots.extend(
            params
                .root_uri
                .as_ref()
                .and_then(|u| DocumentKey::new(u).to_path()),
        );
    }
    *state.roots.write() = roots;
    // Before any document is opened: the first analyses use it.
    let loader = Arc::clone(state);
    let _ = tokio::task::spawn_blocking(move || loader.load_projects()).await;
    info!("initialized with {:?} positions", session.encoding);
    Ok(capabilities::initialize_result(session))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn initialized(backend: &Backend) {
    let state = backend.state();
    let client = backend.client();
    let session = state.session();
    if session.watch_files {
        if let Err(error) = client
            .register_capability(vec![capabilities::file_watchers()])
            .await
        {
            warn!("could not register file watching: {error}");
        }
    }
    publish_config_problems(state).await;
    if session.configuration_pull {
        pull_settings(client, state).await;
        // Documents opened while the settings were being fetched were
        // analysed with the defaults.
        backend.scheduler().reanalyze_others(None);
    }
    tokio::spawn(index_workspace(backend.scheduler().clone()));
}
