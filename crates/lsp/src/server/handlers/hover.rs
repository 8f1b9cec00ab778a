//! `textDocument/hover`: what the current analysis says at the position.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{Hover, HoverContents, HoverParams, MarkupContent, MarkupKind};

use crate::hover::hover_markdown;
use crate::identity::DocumentKey;
use crate::positions::to_offset;
use crate::server::Backend;

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(uri = params.text_document_position_params.text_document.uri.as_str())
)]
pub async fn hover(backend: &Backend, params: HoverParams) -> Result<Option<Hover>> {
    let position = params.text_document_position_params;
    let key = DocumentKey::new(&position.text_document.uri);
    let Some(analyzed) = backend.scheduler().current(&key).await else {
        return Ok(None);
    };
    let state = backend.state();
    let encoding = state.session().encoding;
    let offset = to_offset(&analyzed.rope, position.position, encoding).byte;
    let settings = state.settings_for(&key);
    if state.silenced(&key, &settings) {
        return Ok(None);
    }
    Ok(
        hover_markdown(&analyzed, &settings, offset).map(|value| Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value,
            }),
            range: None,
        }),
    )
}
