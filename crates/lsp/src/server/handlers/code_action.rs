//! `textDocument/codeAction`: the fixes of the findings in the range, from
//! the current analysis (see `crate::code_actions`).

use ropey::Rope;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{CodeActionParams, CodeActionResponse, Location, Uri};

use tokenguard_analysis::{Finding, TextRange};

use crate::code_actions;
use crate::diagnostics::to_diagnostic;
use crate::identity::DocumentKey;
use crate::positions::{to_range, to_text_range};
use crate::server::Backend;

#[tracing::instrument(level = "debug", skip_all, fields(uri = params.text_document.uri.as_str()))]
pub async fn code_action(
    backend: &Backend,
    params: CodeActionParams,
) -> Result<Option<CodeActionResponse>> {
    let key = DocumentKey::new(&params.text_document.uri);
    let Some(analyzed) = backend.scheduler().current(&key).await else {
        return Ok(None);
    };
    let state = backend.state();
    let settings = state.settings_for(&key);
    if state.silenced(&key, &settings) {
        return Ok(None);
    }
    // Edits and diagnostics name the document as the client opened it.
    let uri = state.open.client_uri(&key);
    let session = state.session();
    let encoding = session.encoding;
    let (range, _) = to_text_range(&analyzed.rope, params.range, encoding);
    let account_file = |origin: Option<&str>| -> Option<(Uri, Rope)> {
        match origin {
            None => Some((uri.clone(), analyzed.rope.clone())),
            Some(origin) => state.file_of(origin),
        }
    };
    let locate = |origin: Option<&str>, r: TextRange| {
        let (target, rope) = state.file_of(origin?)?;
        Some(Location::new(target, to_range(&rope, r, encoding)))
    };
    let to_diag = |f: &Finding| to_diagnostic(f, &analyzed, &uri, &settings, encoding, &locate);
    let request = code_actions::Request {
        uri: &uri,
        analyzed: &analyzed,
        settings: &settings,
        encoding,
        range,
        only: params.context.only.as_deref(),
        lazy_edits: session.lazy_code_actions,
        account_file: &account_file,
        to_diagnostic: &to_diag,
    };
    let found = code_actions::code_actions(&request);
    Ok((!found.is_empty()).then_some(found))
}
