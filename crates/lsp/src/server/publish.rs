//! What the client is sent unasked: each document's diagnostics (built by
//! `State::diagnostics`, sent in order by `publish_in_order`), and the
//! problems of project configuration files (`publish_config_problems`).

use std::sync::Arc;

use tokio::sync::mpsc;
use tower_lsp_server::ls_types::{Diagnostic, DiagnosticSeverity, Location, Range, Uri};
use tower_lsp_server::Client;
use tracing::debug;

use tokenguard_analysis::TextRange;

use super::state::State;
use crate::diagnostics::{to_diagnostic, Analyzed};
use crate::identity::DocumentKey;
use crate::positions::to_range;

/// One document's diagnostics, queued for publishing.
pub struct Publish {
    pub key: DocumentKey,
    /// The client's URI of the document.
    pub uri: Uri,
    pub revision: u64,
    pub version: i32,
    pub diagnostics: Vec<Diagnostic>,
}

impl State {
    /// The diagnostics of the document at `key`, which the client calls
    /// `uri`.
    pub fn diagnostics(
        &self,
        key: &DocumentKey,
        uri: &Uri,
        analyzed: &Analyzed,
    ) -> Vec<Diagnostic> {
        let settings = self.settings_for(key);
        if self.silenced(key, &settings) {
            return Vec::new();
        }
        if let Some(too_large) = analyzed.too_large {
            return vec![too_large.diagnostic()];
        }
        let encoding = self.session().encoding;
        let locate = |origin: Option<&str>, range: TextRange| {
            let (target, rope) = self.file_of(origin?)?;
            Some(Location::new(target, to_range(&rope, range, encoding)))
        };
        analyzed
            .visible(&settings)
            .map(|f| to_diagnostic(f, analyzed, uri, &settings, encoding, &locate))
            .collect()
    }
}

/// Sends diagnostics one at a time, in the order analyses finish, dropping
/// any whose revision is no longer the document's: an old result can never
/// overwrite a newer one.
pub async fn publish_in_order(
    client: Client,
    state: Arc<State>,
    mut queue: mpsc::UnboundedReceiver<Publish>,
) {
    while let Some(p) = queue.recv().await {
        if state.open.revision_of(&p.key) != Some(p.revision) {
            debug!(
                "dropping diagnostics of an outdated revision of {}",
                p.uri.as_str()
            );
            continue;
        }
        debug!(
            "publishing {} diagnostics for {} version {}",
            p.diagnostics.len(),
            p.uri.as_str(),
            p.version
        );
        client
            .publish_diagnostics(p.uri, p.diagnostics, Some(p.version))
            .await;
    }
}

/// Publishes the diagnostic of every project configuration that could not
/// be used, and clears those of files that are fine again.
pub async fn publish_config_problems(client: &Client, state: &State) {
    let problems = state.store.config_problems();
    let cleared: Vec<DocumentKey> = {
        let mut published = state.config_problems.lock();
        let now: Vec<DocumentKey> = problems.iter().map(|(key, _)| key.clone()).collect();
        let cleared = published
            .iter()
            .filter(|key| !now.contains(key))
            .cloned()
            .collect();
        *published = now;
        cleared
    };
    for key in cleared {
        let uri = state.open.client_uri(&key);
        client.publish_diagnostics(uri, Vec::new(), None).await;
    }
    // Two folders may share one file above them: one diagnostic is enough.
    let mut sent: Vec<DocumentKey> = Vec::new();
    for (key, diagnostic) in problems {
        if sent.contains(&key) {
            continue;
        }
        let uri = state.open.client_uri(&key);
        sent.push(key);
        client
            .publish_diagnostics(uri, vec![diagnostic], None)
            .await;
    }
}

/// The one diagnostic of a document whose analysis panicked.
pub fn analysis_failed() -> Diagnostic {
    Diagnostic {
        range: Range::default(),
        severity: Some(DiagnosticSeverity::ERROR),
        source: Some(crate::diagnostics::SOURCE.to_string()),
        message: "tokenguard could not analyse this document (internal error; the server log has details)".to_string(),
        ..Diagnostic::default()
    }
}
