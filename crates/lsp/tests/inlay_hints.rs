//! Inlay hints: on each pod spec that does not write
//! `automountServiceAccountToken`, the effective value and the
//! ServiceAccount it comes from, at the end of the pod spec's `spec:` line;
//! asked again (`workspace/inlayHint/refresh`) when accounts change; the
//! setting `inlayHints.enable`. Through the test client, in process.

mod support;

use serde_json::{json, Value};

use support::*;

/// Capabilities of a client that can be asked to refresh its hints.
fn refreshing() -> Value {
    json!({"workspace": {"inlayHint": {"refreshSupport": true}}})
}

/// Takes one `workspace/inlayHint/refresh` the server sent (the first not
/// taken yet, waiting for it if need be).
async fn take_refresh(client: &mut TestClient) {
    client
        .wait_for("workspace/inlayHint/refresh", |m| {
            m["method"] == "workspace/inlayHint/refresh"
        })
        .await;
}

fn pod(account: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: job\nspec:\n  serviceAccountName: {account}\n  containers: []\n"
    )
}

fn builder(automount: &str) -> String {
    format!("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: builder\nautomountServiceAccountToken: {automount}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_announces_inlay_hints() {
    let mut client = start();
    let result = client.initialize(json!({}), Value::Null).await;
    assert_eq!(result["capabilities"]["inlayHintProvider"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_spec_without_the_field_shows_the_default_accounts_token_at_the_end_of_its_spec_line()
{
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    // Line 9 is `    spec:`: the hint follows its colon.
    assert_eq!(
        client.inlay_hint_labels(&doc).await,
        vec![(9, 9, "token mounted: ServiceAccount default".to_string())]
    );
    let hints = client.inlay_hints(&doc).await.unwrap();
    assert_eq!(hints[0].padding_left, Some(true));
    assert!(
        format!("{:?}", hints[0].tooltip).contains("does not set automountServiceAccountToken"),
        "{:?}",
        hints[0].tooltip
    );
    // A pod spec that writes the field has no hint.
    let compliant = uri("pod.yaml");
    client.open(&compliant, COMPLIANT_POD).await;
    assert_eq!(client.inlay_hint_labels(&compliant).await, vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_in_another_file_decides_and_a_change_of_it_asks_for_the_hints_again() {
    let mut client = started(refreshing(), Value::Null).await;
    // (No workspace folder: nothing is indexed, nothing asks before this.)
    let doc = uri("pod.yaml");
    client.open(&doc, &pod("builder")).await;
    assert_eq!(
        client.inlay_hint_labels(&doc).await,
        vec![(
            4,
            5,
            "token mounted: ServiceAccount builder (not in the checked files)".to_string()
        )]
    );
    let account = uri("sa.yaml");
    client.open(&account, &builder("false")).await;
    take_refresh(&mut client).await;
    client.wait_diagnostics(&account, 1).await;
    assert_eq!(
        client.inlay_hint_labels(&doc).await,
        vec![(4, 5, "token off: ServiceAccount builder".to_string())]
    );
    let hints = client.inlay_hints(&doc).await.unwrap();
    assert!(
        format!("{:?}", hints[0].tooltip).contains("sa.yaml"),
        "the tooltip says where the account is: {:?}",
        hints[0].tooltip
    );
    // Turned on again: the pod's token is mounted.
    client
        .change(&account, 2, range(4, 30, 4, 35), "true")
        .await;
    client.wait_diagnostics(&account, 2).await;
    client
        .wait_until(&doc, "reported again", |d| !d.is_empty())
        .await;
    assert_eq!(
        client.inlay_hint_labels(&doc).await,
        vec![(4, 5, "token mounted: ServiceAccount builder".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_in_the_same_file_decides() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("both.yaml");
    let text = format!("{}---\n{}", pod("builder"), builder("false"));
    client.open(&doc, &text).await;
    assert_eq!(
        client.inlay_hint_labels(&doc).await,
        vec![(4, 5, "token off: ServiceAccount builder".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_setting_switches_hints_off_and_back_on() {
    let mut client = started(
        refreshing(),
        json!({"tokenguard": {"inlayHints": {"enable": false}}}),
    )
    .await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    // Off: an empty list (a client drops what it shows), not null.
    assert_eq!(client.inlay_hints(&doc).await.map(|h| h.len()), Some(0));
    client
        .notify_json(
            "workspace/didChangeConfiguration",
            json!({"settings": {"tokenguard": {"inlayHints": {"enable": true}}}}),
        )
        .await;
    take_refresh(&mut client).await;
    assert_eq!(client.inlay_hint_labels(&doc).await.len(), 1);
    // `enable: false` switches everything off, hints too.
    client
        .notify_json(
            "workspace/didChangeConfiguration",
            json!({"settings": {"tokenguard": {"enable": false}}}),
        )
        .await;
    client
        .wait_until(&doc, "nothing published when off", |d| d.is_empty())
        .await;
    assert!(client.inlay_hints(&doc).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hints_are_only_in_the_range_asked_and_only_for_kubernetes_objects() {
    let mut client = started(json!({}), Value::Null).await;
    let two = uri("two.yaml");
    client
        .open(&two, &format!("{}---\n{}", pod("a"), pod("b")))
        .await;
    let all = client.inlay_hint_labels(&two).await;
    assert_eq!(all.iter().map(|h| h.0).collect::<Vec<_>>(), vec![4, 12]);
    let params = json!({"textDocument": {"uri": two}, "range": range(8, 0, 20, 0)});
    let later = client.request_json("textDocument/inlayHint", params).await;
    assert_eq!(later.as_array().map(Vec::len), Some(1), "{later}");
    assert_eq!(later[0]["position"], json!({"line": 12, "character": 5}));
    // Not Kubernetes: nothing.
    let other = uri("values.yaml");
    client.open(&other, "spec:\n  replicas: 2\n").await;
    assert_eq!(client.inlay_hint_labels(&other).await, vec![]);
}
