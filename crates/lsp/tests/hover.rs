//! Hovers on a reported `spec` key and on an `automountServiceAccountToken`
//! key. Through the test client, in process.

mod support;

use serde_json::{json, Value};
use tower_lsp_server::ls_types::request::HoverRequest;
use tower_lsp_server::ls_types::{HoverContents, HoverParams, MarkupKind};

use support::*;

/// `textDocument/hover`, typed: the markup's kind and text, or `None`.
async fn hover(
    client: &mut TestClient,
    doc: &str,
    line: u32,
    character: u32,
) -> Option<(MarkupKind, String)> {
    let params = HoverParams {
        text_document_position_params: at(doc, line, character),
        work_done_progress_params: Default::default(),
    };
    let hover = client.request::<HoverRequest>(params).await?;
    match hover.contents {
        HoverContents::Markup(markup) => Some((markup.kind, markup.value)),
        other => panic!("a hover that is not markup: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_on_the_reported_spec_key_explains_the_rule_and_the_fix() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    client.wait_diagnostics(&doc, 1).await;
    let (kind, text) = hover(&mut client, &doc, 9, 6).await.expect("a hover");
    assert_eq!(kind, MarkupKind::Markdown);
    assert!(text.contains("TG001"), "{text}");
    assert!(
        text.contains("automountServiceAccountToken: false"),
        "{text}"
    );
    assert!(text.contains("https://kubernetes.io/"), "{text}");
    assert_eq!(
        hover(&mut client, &doc, 1, 2).await,
        None,
        "`kind` is not reported"
    );
    assert_eq!(
        hover(&mut client, &doc, 4, 1).await,
        None,
        "the outer `spec` is not the pod spec"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_on_the_automount_key_explains_the_field() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("pod.yaml");
    client.open(&doc, COMPLIANT_POD).await;
    client.wait_diagnostics(&doc, 1).await;
    let (_, text) = hover(&mut client, &doc, 5, 10).await.expect("a hover");
    assert!(text.contains("`automountServiceAccountToken`"), "{text}");
    assert!(
        text.contains("Whether Kubernetes mounts the ServiceAccount token"),
        "{text}"
    );
    assert_eq!(
        hover(&mut client, &doc, 5, 34).await,
        None,
        "on the value `false`"
    );
    assert_eq!(
        hover(&mut client, &doc, 6, 4).await,
        None,
        "on `containers`"
    );
}
