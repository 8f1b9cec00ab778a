//! `textDocument/completion`: at a pod spec's `serviceAccountName` (or
//! `serviceAccount`) value, the ServiceAccounts of the workload's namespace
//! (the host's `completion`), each with its automount setting as detail.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    CompletionItem, CompletionItemKind, CompletionParams, CompletionResponse, CompletionTextEdit,
    Documentation, MarkupContent, MarkupKind, TextEdit,
};

use tokenguard_analysis::navigation::AccountCandidate;
use tokenguard_analysis::AccountAutomount;

use crate::identity::DocumentKey;
use crate::positions::{to_offset, to_range};
use crate::server::navigate;
use crate::server::Backend;

/// The detail shown beside a candidate: what its token does.
fn detail(candidate: &AccountCandidate) -> String {
    let setting = match candidate.automount {
        AccountAutomount::Disabled => "automountServiceAccountToken: false",
        AccountAutomount::Enabled => "automountServiceAccountToken: true",
        AccountAutomount::Default => "automountServiceAccountToken not set (token mounted)",
        AccountAutomount::Invalid => "automountServiceAccountToken is not a boolean",
    };
    match candidate.declared {
        Some(_) => format!("ServiceAccount · {setting}"),
        None => {
            "ServiceAccount · the namespace's default (not declared in the workspace)".to_string()
        }
    }
}

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(uri = params.text_document_position.text_document.uri.as_str())
)]
pub async fn completion(
    backend: &Backend,
    params: CompletionParams,
) -> Result<Option<CompletionResponse>> {
    let position = params.text_document_position;
    let key = DocumentKey::new(&position.text_document.uri);
    let Some(analyzed) = backend.scheduler().current(&key).await else {
        return Ok(None);
    };
    let state = backend.state();
    if !state.settings_for(&key).enable {
        return Ok(None);
    }
    let encoding = state.session().encoding;
    let offset = to_offset(&analyzed.rope, position.position, encoding).byte;
    let Some(completion) = navigate::ask_alone(state, &key, &analyzed.rope, move |host, open| {
        host.completion(open, offset)
    })
    .await
    .flatten() else {
        return Ok(None);
    };
    let range = to_range(&analyzed.rope, completion.site.range, encoding);
    let space = if completion.site.needs_space { " " } else { "" };
    let items = completion
        .candidates
        .iter()
        .map(|candidate| CompletionItem {
            label: candidate.name.clone(),
            kind: Some(CompletionItemKind::REFERENCE),
            detail: Some(detail(candidate)),
            documentation: candidate.declared.as_ref().map(|place| {
                Documentation::MarkupContent(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: format!("Declared in `{}`.", place.file),
                })
            }),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(
                range,
                format!("{space}{}", candidate.name),
            ))),
            ..CompletionItem::default()
        })
        .collect();
    Ok(Some(CompletionResponse::Array(items)))
}
