//! Starting and ending a session: `initialize` (the position encoding and the
//! capabilities announced), `shutdown` and `exit`. Through the test client, in
//! process.

mod support;

use serde_json::{json, Value};

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialize_negotiates_utf8_when_the_client_offers_it() {
    let mut client = support::start();
    let result = client
        .initialize(
            json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}}),
            Value::Null,
        )
        .await;
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-8");
    assert_eq!(result["serverInfo"]["name"], "tokenguard");
    assert!(client.shutdown_and_exit().await.clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialize_negotiates_utf16_when_utf8_is_not_offered() {
    for capabilities in [
        json!({}),
        json!({"general": {"positionEncodings": ["utf-16", "utf-32"]}}),
    ] {
        let mut client = support::start();
        let result = client.initialize(capabilities.clone(), Value::Null).await;
        assert_eq!(
            result["capabilities"]["positionEncoding"], "utf-16",
            "for {capabilities}"
        );
        assert!(client.shutdown_and_exit().await.clean());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialize_announces_incremental_sync_hover_and_code_actions() {
    let mut client = support::start();
    let caps = client.initialize(json!({}), Value::Null).await["capabilities"].clone();
    assert_eq!(caps["textDocumentSync"]["openClose"], true);
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental");
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(
        caps["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix", "source.fixAll.tokenguard"])
    );
    assert_eq!(caps["codeActionProvider"]["resolveProvider"], false);
    assert!(
        caps.get("diagnosticProvider").is_none(),
        "push mode unless the client pulls"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_then_exit_makes_serve_return_true() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    client.wait_diagnostics(&doc, 1).await;
    assert!(client.shutdown_and_exit().await.clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_without_shutdown_makes_serve_return_false() {
    let client = started(json!({}), Value::Null).await;
    assert!(!client.exit().await.clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_after_shutdown_are_refused() {
    let mut client = started(json!({}), Value::Null).await;
    client.request_json("shutdown", Value::Null).await;
    let response = client
        .request_raw(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri("x.yaml")}, "position": pos(0, 0)}),
        )
        .await;
    assert_eq!(response["error"]["code"], -32600, "{response}");
    client.notify_json("exit", Value::Null).await;
    assert!(client.join().await.clean());
}
