//! One module per LSP method (or pair of methods), each a thin function
//! over the [`Backend`]: it translates the request, asks
//! the state, the workspace store or the scheduler, and answers. They are
//! traced with `tracing::instrument` (the method and the document).

pub mod code_action;
pub mod code_action_resolve;
pub mod code_lens;
pub mod completion;
pub mod configuration;
pub mod definition;
pub mod diagnostic;
pub mod did_change;
pub mod did_close;
pub mod did_open;
pub mod did_save;
pub mod hover;
pub mod initialize;
pub mod inlay_hint;
pub mod references;
pub mod watched_files;

use std::sync::Arc;

use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::Uri;

use super::Backend;
use crate::diagnostics::Analyzed;
use crate::identity::DocumentKey;

/// The current analysis of the open document `uri`, for a request that
/// must be answered with an error when it is not open.
async fn analysis_of_open(backend: &Backend, uri: &Uri) -> Result<(DocumentKey, Arc<Analyzed>)> {
    let key = DocumentKey::new(uri);
    match backend.scheduler().current(&key).await {
        Some(analyzed) => Ok((key, analyzed)),
        None => Err(Error::invalid_params(format!(
            "{} is not open",
            uri.as_str()
        ))),
    }
}
