//! `textDocument/inlayHint`: on each pod spec that does not write
//! `automountServiceAccountToken`, whether the token is mounted and which
//! ServiceAccount decides (`tokenguard_analysis::hints`), at the end of the
//! pod spec's `spec:` line. Off with the setting `inlayHints.enable`.

use std::sync::Arc;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    InlayHint, InlayHintLabel, InlayHintParams, InlayHintTooltip, Position,
};

use tokenguard_analysis::files::FileKind;
use tokenguard_analysis::hints::{token_hints, TokenHint};

use crate::identity::DocumentKey;
use crate::positions::to_position;
use crate::server::Backend;

#[tracing::instrument(level = "debug", skip_all, fields(uri = params.text_document.uri.as_str()))]
pub async fn inlay_hint(
    backend: &Backend,
    params: InlayHintParams,
) -> Result<Option<Vec<InlayHint>>> {
    let key = DocumentKey::new(&params.text_document.uri);
    let Some(analyzed) = backend.scheduler().current(&key).await else {
        return Ok(None);
    };
    let state = backend.state();
    let settings = state.settings_for(&key);
    if state.silenced(&key, &settings) {
        return Ok(None);
    }
    // Off: an empty answer, so a client drops the hints it shows.
    if !settings.inlay_hints.enable {
        return Ok(Some(Vec::new()));
    }
    // Plain manifests only: a template's `spec:` line may hold actions.
    if analyzed.kind != FileKind::Manifest || analyzed.too_large.is_some() {
        return Ok(Some(Vec::new()));
    }
    let worker = Arc::clone(state);
    let text = analyzed.rope.to_string();
    let hints = tokio::task::spawn_blocking(move || {
        worker.store.judge_with(&key, |context| {
            let parsed = tokenguard_analysis::parse(&text, &context.options);
            if !tokenguard_analysis::holds_kubernetes_object(&text, &parsed) {
                return Vec::new();
            }
            token_hints(&text, &parsed, context.accounts)
        })
    })
    .await
    .unwrap_or_default();
    let encoding = state.session().encoding;
    let range = params.range;
    let inside = |p: Position| range.start <= p && p <= range.end;
    Ok(Some(
        hints
            .iter()
            .map(|hint| to_inlay_hint(hint, to_position(&analyzed.rope, hint.offset, encoding)))
            .filter(|h| inside(h.position))
            .collect(),
    ))
}

fn to_inlay_hint(hint: &TokenHint, position: Position) -> InlayHint {
    InlayHint {
        position,
        label: InlayHintLabel::String(hint.label()),
        kind: None,
        text_edits: None,
        tooltip: Some(InlayHintTooltip::String(hint.tooltip())),
        padding_left: Some(true),
        padding_right: None,
        data: None,
    }
}
