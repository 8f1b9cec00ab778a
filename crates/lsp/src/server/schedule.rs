//! Scheduling: which analyses run, and when. An analysis runs on tokio's
//! blocking pool, is skipped when a newer revision arrived before it
//! started, and its result is kept and published only while its revision is
//! still the document's current one. A change elsewhere (ServiceAccounts,
//! kustomizations, a chart, settings) gives the affected open documents a
//! new revision and analyses them again (which ones: the analysis host's
//! `changed_since`, through `Scheduler::reanalyze_affected`).

use std::sync::Arc;

use tokio::sync::mpsc;
use tower_lsp_server::Client;
use tracing::warn;

use super::publish::{analysis_failed, publish_in_order, Publish, Rendered};
use super::state::State;
use super::workspace_store::host_path;
use crate::diagnostics::Analyzed;
use crate::identity::DocumentKey;
use tokenguard_analysis::host::Affected;

/// How often `Scheduler::current` asks again when a newer revision
/// overtook the analysis it asked for.
const OVERTAKEN_RETRIES: usize = 8;

/// Schedules the analyses of one session. Cheap to clone: tasks that
/// reschedule (the workspace index, an analysis whose accounts changed)
/// take a clone.
#[derive(Clone)]
pub struct Scheduler {
    client: Client,
    state: Arc<State>,
    publisher: mpsc::UnboundedSender<Publish>,
}

impl Scheduler {
    /// A scheduler for the session, and its publishing task.
    pub fn start(client: Client, state: Arc<State>) -> Self {
        let (publisher, queue) = mpsc::unbounded_channel();
        tokio::spawn(publish_in_order(Arc::clone(&state), queue));
        Self {
            client,
            state,
            publisher,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// Analyses the document's current revision and queues its diagnostics.
    pub fn schedule(&self, key: DocumentKey) {
        let scheduler = self.clone();
        tokio::spawn(async move { scheduler.analyse_and_publish(key).await });
    }

    async fn analyse_and_publish(self, key: DocumentKey) {
        let state = &self.state;
        let Some(doc) = state.open.doc(&key) else {
            return;
        };
        let uri = doc.uri.clone();
        let revision = doc.revision;
        let worker = Arc::clone(state);
        let worker_key = key.clone();
        let result = tokio::task::spawn_blocking(move || {
            // Skip the work when a newer revision already arrived.
            if worker.open.revision_of(&worker_key) != Some(doc.revision) {
                return None;
            }
            worker.analyze(&worker_key, &doc)
        })
        .await;
        let analyzed = match result {
            Ok(Some(Ok(analyzed))) => Arc::new(analyzed),
            Ok(Some(Err(_))) => {
                warn!("analysis of {} panicked", uri.as_str());
                let _ = self.publisher.send(Publish {
                    version: state.open.doc(&key).map_or(0, |d| d.version),
                    key,
                    uri,
                    revision,
                    diagnostics: vec![Rendered::shared(analysis_failed())],
                });
                return;
            }
            _ => return,
        };
        if !state.open.finish(&key, &analyzed) {
            return; // closed or edited meanwhile
        }
        // The analysis fed the store the document's own accounts, roles and
        // bindings (`State::analyze`). What was fed since it was judged
        // makes the other open documents, and this one unless it saw every
        // change, be judged again.
        let (affected, now) = state.store.take_affected_at();
        let saw_all = analyzed.store.is_some_and(|s| s.saw_all_up_to(now));
        self.reanalyze(affected, saw_all.then_some(&key));
        if !state.session().pull_diagnostics {
            let diagnostics = state.rendered(&key, &uri, &analyzed);
            let _ = self.publisher.send(Publish {
                key,
                uri,
                revision: analyzed.revision,
                version: analyzed.version,
                diagnostics,
            });
        }
    }

    /// The analysis of the document's current revision, computed now if the
    /// scheduled one has not finished. `None` when the document is not open
    /// (or its analysis panicked).
    pub async fn current(&self, key: &DocumentKey) -> Option<Arc<Analyzed>> {
        // An analysis asked for a revision that a newer one overtook (a
        // change elsewhere renews the open documents' revisions at any
        // time) gives nothing: ask again for the revision current then, a
        // few times, and settle for the newest analysis there is.
        for _ in 0..OVERTAKEN_RETRIES {
            let open = self.state.open.get(key)?;
            if let Some(done) = open.analyzed.filter(|a| a.revision == open.doc.revision) {
                return Some(done);
            }
            let state = Arc::clone(&self.state);
            let worker_key = key.clone();
            let doc = open.doc;
            match tokio::task::spawn_blocking(move || state.analyze(&worker_key, &doc)).await {
                Ok(Some(Ok(analyzed))) => return Some(Arc::new(analyzed)),
                Ok(None) => continue,
                _ => return None,
            }
        }
        self.state.open.get(key)?.analyzed
    }

    /// Re-analyses every open document (but `except`), after ServiceAccounts,
    /// kustomizations or settings changed.
    pub fn reanalyze_others(&self, except: Option<&DocumentKey>) {
        self.reanalyze_open(|key| Some(key) != except);
        self.refresh_hints_and_lenses();
    }

    /// Asks the client to ask again for code lenses (when it can be asked).
    pub fn refresh_code_lenses(&self) {
        if !self.state.session().code_lens_refresh {
            return;
        }
        let client = self.client.clone();
        tokio::spawn(async move {
            let _ = client.code_lens_refresh().await;
        });
    }

    /// Asks the client to ask again for inlay hints and code lenses (when
    /// it can be asked): they show accounts and settings, which changed.
    fn refresh_hints_and_lenses(&self) {
        let session = self.state.session();
        if !session.inlay_hint_refresh && !session.code_lens_refresh {
            return;
        }
        let client = self.client.clone();
        tokio::spawn(async move {
            if session.inlay_hint_refresh {
                let _ = client.inlay_hint_refresh().await;
            }
            if session.code_lens_refresh {
                let _ = client.code_lens_refresh().await;
            }
        });
    }

    /// Re-analyses the open documents (but `except`) whose findings may
    /// differ after what the workspace store was fed since it was last asked
    /// (`WorkspaceStore::take_affected`: every document after a change of
    /// ServiceAccounts or kustomizations, a chart's templates after a change
    /// of the chart).
    pub fn reanalyze_affected(&self, except: Option<&DocumentKey>) {
        self.reanalyze(self.state.store.take_affected(), except);
    }

    /// Re-analyses the open documents (but `except`) that `affected` names.
    fn reanalyze(&self, affected: Affected, except: Option<&DocumentKey>) {
        match affected {
            Affected::Everything => self.reanalyze_others(except),
            Affected::Files(files) if files.is_empty() => {}
            affected => self.reanalyze_open(|key| {
                Some(key) != except && host_path(key).is_some_and(|p| affected.includes(&p))
            }),
        }
    }

    /// Re-analyses the open documents that `which` selects, and asks pulling
    /// clients to pull again.
    fn reanalyze_open(&self, which: impl Fn(&DocumentKey) -> bool) {
        for key in self.state.open.keys(which) {
            // A new revision (same text and version): an analysis still
            // running with the old accounts, settings or chart must not
            // publish after this one.
            if self.state.open.renew(&key) {
                self.schedule(key);
            }
        }
        let session = self.state.session();
        if session.pull_diagnostics && session.diagnostic_refresh {
            let client = self.client.clone();
            tokio::spawn(async move {
                let _ = client.workspace_diagnostic_refresh().await;
            });
        }
    }
}
