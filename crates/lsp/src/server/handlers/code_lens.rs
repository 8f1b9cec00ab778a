//! `textDocument/codeLens`: above each ServiceAccount, the workloads that
//! run as it, how many mount its token and what it is bound to
//! (`tokenguard_analysis::hints::AccountLens`, counted by the host over
//! navigation's model of the workspace). Off with the setting
//! `codeLens.enable`. The lens is a label: its command has no id, so a
//! client shows it without running anything.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{CodeLens, CodeLensParams, Command};

use tokenguard_analysis::files::FileKind;

use crate::identity::DocumentKey;
use crate::positions::to_range;
use crate::server::navigate;
use crate::server::Backend;

#[tracing::instrument(level = "debug", skip_all, fields(uri = params.text_document.uri.as_str()))]
pub async fn code_lens(backend: &Backend, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
    let key = DocumentKey::new(&params.text_document.uri);
    let Some(analyzed) = backend.scheduler().current(&key).await else {
        return Ok(None);
    };
    let state = backend.state();
    let settings = state.settings_for(&key);
    if state.silenced(&key, &settings) {
        return Ok(None);
    }
    // Off: an empty answer, so a client drops the lenses it shows.
    if !settings.code_lens.enable {
        return Ok(Some(Vec::new()));
    }
    if analyzed.kind != FileKind::Manifest || analyzed.accounts.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let lenses = navigate::ask(state, &key, &analyzed.rope, |host, open| {
        host.account_lenses(open)
    })
    .await
    .unwrap_or_default();
    let encoding = state.session().encoding;
    Ok(Some(
        lenses
            .iter()
            .map(|lens| CodeLens {
                range: to_range(&analyzed.rope, lens.range, encoding),
                command: Some(Command {
                    title: lens.title(),
                    command: String::new(),
                    arguments: None,
                }),
                data: None,
            })
            .collect(),
    ))
}
