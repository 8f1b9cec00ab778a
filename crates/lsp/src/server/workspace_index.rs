//! The workspace index task, spawned at `initialized`: the ServiceAccounts
//! of every YAML file under the workspace folders (in batches, with
//! progress for clients that show it) fed to the analysis host, which reads
//! the charts and kustomizations they call for; then a new analysis of the
//! open documents.

use std::sync::Arc;

use tower_lsp_server::ls_types::ProgressToken;
use tracing::info;

use super::schedule::Scheduler;
use crate::workspace;

const BATCH: usize = 256;

/// Indexes the workspace folders into the workspace store.
pub async fn index_workspace(scheduler: Scheduler) {
    let state = Arc::clone(scheduler.state());
    let client = scheduler.client();
    let roots = state.roots.read().clone();
    if roots.is_empty() {
        return;
    }
    let progress = if state.session().work_done_progress {
        let token = ProgressToken::String("tokenguard-index".to_string());
        match client.create_work_done_progress(token.clone()).await {
            Ok(()) => Some(
                client
                    .progress(token, "tokenguard: indexing ServiceAccounts")
                    .with_percentage(0)
                    .begin()
                    .await,
            ),
            Err(_) => None,
        }
    } else {
        None
    };
    let listing = roots.clone();
    let files = tokio::task::spawn_blocking(move || {
        listing
            .iter()
            .flat_map(|r| workspace::yaml_files(r))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    let total = files.len().max(1);
    let mut found = 0;
    for (i, batch) in files.chunks(BATCH).enumerate() {
        let batch = batch.to_vec();
        // Files the editor has us re-read from now on are newer than what
        // this batch reads.
        let read_at = state.store.disk_clock();
        let reader = Arc::clone(&state);
        let read = tokio::task::spawn_blocking(move || {
            batch
                .iter()
                .filter_map(|p| reader.store.read_indexed(p))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        found += state
            .store
            .index_disk_files(read, read_at, &|key| state.open.is_open(key));
        if let Some(progress) = &progress {
            let done = ((i + 1) * BATCH).min(total);
            progress
                .report_with_message(format!("{done}/{total} files"), (done * 100 / total) as u32)
                .await;
        }
    }
    if let Some(progress) = progress {
        progress
            .finish_with_message(format!("{found} ServiceAccounts"))
            .await;
    }
    state.store.indexed();
    info!("indexed {found} ServiceAccounts in {} files", files.len());
    scheduler.reanalyze_others(None);
}
