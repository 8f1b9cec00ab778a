//! Typed `textDocument/inlayHint` and `textDocument/codeLens` requests
//! with their usual params, answered as (position or range, text) pairs a
//! test compares whole.

use ls_types::request::{CodeLensRequest, InlayHintRequest};
use ls_types::{
    CodeLens, CodeLensParams, InlayHint, InlayHintLabel, InlayHintParams, Position, Range,
    TextDocumentIdentifier,
};

use crate::client::TestClient;
use crate::fixtures::lsp_uri;

impl TestClient {
    /// The inlay hints of the whole document (`None`: the server answered
    /// null).
    pub async fn inlay_hints(&mut self, uri: &str) -> Option<Vec<InlayHint>> {
        let params = InlayHintParams {
            text_document: TextDocumentIdentifier { uri: lsp_uri(uri) },
            range: Range::new(Position::new(0, 0), Position::new(u32::MAX, 0)),
            work_done_progress_params: Default::default(),
        };
        self.request::<InlayHintRequest>(params).await
    }

    /// The inlay hints of the whole document as (line, character, label);
    /// none for a null answer.
    pub async fn inlay_hint_labels(&mut self, uri: &str) -> Vec<(u32, u32, String)> {
        let hints = self.inlay_hints(uri).await.unwrap_or_default();
        hints
            .into_iter()
            .map(|h| {
                let label = match h.label {
                    InlayHintLabel::String(s) => s,
                    InlayHintLabel::LabelParts(parts) => {
                        parts.into_iter().map(|p| p.value).collect()
                    }
                };
                (h.position.line, h.position.character, label)
            })
            .collect()
    }

    /// The code lenses of the document (`None`: the server answered null).
    pub async fn code_lenses(&mut self, uri: &str) -> Option<Vec<CodeLens>> {
        let params = CodeLensParams {
            text_document: TextDocumentIdentifier { uri: lsp_uri(uri) },
            work_done_progress_params: Default::default(),
            partial_result_params: Default::default(),
        };
        self.request::<CodeLensRequest>(params).await
    }

    /// The code lenses of the document as (line, title); none for a null
    /// answer.
    pub async fn code_lens_titles(&mut self, uri: &str) -> Vec<(u32, String)> {
        let lenses = self.code_lenses(uri).await.unwrap_or_default();
        lenses
            .into_iter()
            .map(|l| {
                let title = l.command.map(|c| c.title).unwrap_or_default();
                (l.range.start.line, title)
            })
            .collect()
    }
}
