//! Navigation glue (go to definition, find references, completion): the
//! host answers in files and byte ranges (`AnalysisHost::definition` and
//! friends); this module hands it the texts that speak for their files (the
//! document asked about, then the other open buffers), runs the question on
//! the blocking pool, and turns the host's places into LSP locations,
//! reading a file that is not open through the one reader.

use std::collections::HashMap;
use std::sync::Arc;

use ropey::Rope;
use tower_lsp_server::ls_types::{Location, Uri};

use tokenguard_analysis::host::{AnalysisHost, FilePath, OpenText};
use tokenguard_analysis::navigation;

use super::reader::ServerSource;
use super::state::State;
use super::workspace_store::host_path;
use crate::identity::DocumentKey;
use crate::positions::to_range;

/// Asks `ask` of the host about the document at `key`, whose snapshot is
/// `rope`, with the other open buffers read now (their workloads' account
/// uses are not in the host's index: references and lenses need them); on
/// the blocking pool. `None` for a document the host cannot name (not a
/// file).
pub async fn ask<R, F>(state: &Arc<State>, key: &DocumentKey, rope: &Rope, ask: F) -> Option<R>
where
    R: Send + 'static,
    F: FnOnce(&AnalysisHost<ServerSource>, &[OpenText<'_>]) -> R + Send + 'static,
{
    run(state, key, rope, true, ask).await
}

/// [`ask`] with the document alone read now: enough where only
/// declarations are looked up (definition, completion), since every open
/// buffer's ServiceAccounts, roles and bindings reach the host's indexes
/// after each of its analyses (`WorkspaceStore::buffer_analysed`). Spares
/// a parse of every open buffer per request.
pub async fn ask_alone<R, F>(
    state: &Arc<State>,
    key: &DocumentKey,
    rope: &Rope,
    ask: F,
) -> Option<R>
where
    R: Send + 'static,
    F: FnOnce(&AnalysisHost<ServerSource>, &[OpenText<'_>]) -> R + Send + 'static,
{
    run(state, key, rope, false, ask).await
}

async fn run<R, F>(
    state: &Arc<State>,
    key: &DocumentKey,
    rope: &Rope,
    others: bool,
    ask: F,
) -> Option<R>
where
    R: Send + 'static,
    F: FnOnce(&AnalysisHost<ServerSource>, &[OpenText<'_>]) -> R + Send + 'static,
{
    let path = host_path(key)?;
    let mut texts: Vec<(FilePath, String)> = vec![(path.clone(), rope.to_string())];
    let other_keys = if others {
        state.open.keys(|k| k != key)
    } else {
        Vec::new()
    };
    for other in other_keys {
        let (Some(doc), Some(other_path)) = (state.open.doc(&other), host_path(&other)) else {
            continue;
        };
        if other_path != path {
            texts.push((other_path, doc.rope.to_string()));
        }
    }
    let state = Arc::clone(state);
    tokio::task::spawn_blocking(move || {
        let open: Vec<OpenText<'_>> = texts.iter().map(|(p, t)| (p, t.as_str())).collect();
        state.store.with_host(|host| ask(host, &open))
    })
    .await
    .ok()
}

impl State {
    /// The host's places as LSP locations: in the document asked about
    /// (`key`, opened as `uri`, snapshot `rope`) or in another file, open
    /// or read from the workspace (a file that cannot be read is left
    /// out).
    pub fn locations(
        &self,
        key: &DocumentKey,
        uri: &Uri,
        rope: &Rope,
        found: Vec<navigation::Location>,
    ) -> Vec<Location> {
        let encoding = self.session().encoding;
        let current = host_path(key);
        let mut files: HashMap<String, Option<(Uri, Rope)>> = HashMap::new();
        let mut out = Vec::new();
        for place in found {
            if current.as_ref().is_some_and(|c| c.as_str() == place.file) {
                out.push(Location::new(
                    uri.clone(),
                    to_range(rope, place.range, encoding),
                ));
                continue;
            }
            let file = files
                .entry(place.file.clone())
                .or_insert_with(|| self.file_of(&place.file));
            if let Some((uri, rope)) = file {
                out.push(Location::new(
                    uri.clone(),
                    to_range(rope, place.range, encoding),
                ));
            }
        }
        out
    }
}
