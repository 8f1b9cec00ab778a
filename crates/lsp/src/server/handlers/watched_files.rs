//! `workspace/didChangeWatchedFiles`: files changed on disk. A project
//! configuration file reloads the projects; any other file that is not open
//! is read again into the workspace store, and the client is asked for its
//! code lenses again (they count the workloads on disk).

use std::sync::Arc;

use tower_lsp_server::ls_types::DidChangeWatchedFilesParams;
use tracing::info;

use crate::identity::DocumentKey;
use crate::project;
use crate::server::publish::publish_config_problems;
use crate::server::Backend;

#[tracing::instrument(level = "debug", skip_all, fields(changes = params.changes.len()))]
pub async fn did_change_watched_files(backend: &Backend, params: DidChangeWatchedFilesParams) {
    let state = backend.state();
    let mut configuration = false;
    let mut on_disk = false;
    for event in params.changes {
        let key = DocumentKey::new(&event.uri);
        if key.to_path().is_some_and(|p| project::is_config_file(&p)) {
            configuration = true;
            continue;
        }
        // An open buffer speaks for its file, however the event spells it.
        if state.open.is_open(&key) {
            continue;
        }
        state.store.disk_changed(&key);
        on_disk = true;
    }
    if configuration {
        info!("a project configuration file changed: reloading");
        let loader = Arc::clone(state);
        let _ = tokio::task::spawn_blocking(move || loader.load_projects()).await;
        publish_config_problems(state).await;
    }
    if configuration {
        backend.scheduler().reanalyze_others(None);
    } else {
        backend.scheduler().reanalyze_affected(None);
        if on_disk {
            // A workload on disk may run as another account now: the lenses
            // that count them may differ (accounts and settings refresh
            // everything already).
            backend.scheduler().refresh_code_lenses();
        }
    }
}
