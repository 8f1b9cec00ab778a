//! What the server should send, computed on the client's side, and reading
//! what it sent.

use serde_json::Value;

use crate::positions::{range_of, Enc};

/// What the server must publish for `text` when no other file declares
/// ServiceAccounts or RBAC objects: a fresh analysis by an analysis host
/// fed only this text (so a finding says what its pod's token can do, as
/// the server's do), in LSP ranges, as (range, code, message); nothing for
/// YAML that holds no Kubernetes object
/// (`tokenguard_analysis::holds_kubernetes_object`).
pub fn expected_diagnostics(text: &str, enc: Enc) -> Vec<(Value, String, String)> {
    use tokenguard_analysis::host::{AnalysisHost, FilePath, NoFiles};
    let options = tokenguard_analysis::Options::builtin();
    if !tokenguard_analysis::holds_kubernetes_object(
        text,
        &tokenguard_analysis::parse(text, options),
    ) {
        return Vec::new();
    }
    let mut host = AnalysisHost::new(NoFiles);
    let path = FilePath::new("/expected/document.yaml");
    host.set_file(path.clone(), text.to_string());
    host.analyze(&path, text)
        .findings
        .into_iter()
        .map(|f| {
            (
                range_of(text, f.range.start, f.range.end, enc),
                f.code.as_str().to_string(),
                f.message,
            )
        })
        .collect()
}

/// Published diagnostics as (range, code, message), for comparison with
/// [`expected_diagnostics`].
pub fn summarize(diagnostics: &[Value]) -> Vec<(Value, String, String)> {
    diagnostics
        .iter()
        .map(|d| {
            (
                d["range"].clone(),
                d["code"].as_str().unwrap_or_default().to_string(),
                d["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The `TextEdit`s a `WorkspaceEdit` makes to `uri` (`changes` or
/// `documentChanges`).
pub fn workspace_edit_for(edit: &Value, uri: &str) -> Vec<Value> {
    if let Some(edits) = edit["changes"][uri].as_array() {
        return edits.clone();
    }
    edit["documentChanges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["textDocument"]["uri"] == uri)
        .flat_map(|c| c["edits"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// The URIs a `WorkspaceEdit` touches.
pub fn workspace_edit_uris(edit: &Value) -> Vec<String> {
    let mut uris: Vec<String> = edit["changes"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    for change in edit["documentChanges"].as_array().into_iter().flatten() {
        if let Some(uri) = change["textDocument"]["uri"].as_str() {
            uris.push(uri.to_string());
        }
    }
    uris
}
