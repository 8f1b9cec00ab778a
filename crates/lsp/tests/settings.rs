//! Editor settings: from `initializationOptions` and `workspace/configuration`
//! (severity, enable, syntax errors, exclude). Through the test client, in
//! process.

mod support;

use serde_json::{json, Value};

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialization_options_set_the_severity() {
    let mut client = started(json!({}), json!({"severity": "error"})).await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    assert_eq!(client.wait_diagnostics(&doc, 1).await[0]["severity"], ERROR);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_the_server_in_the_configuration_clears_diagnostics() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    assert_eq!(client.wait_diagnostics(&doc, 1).await.len(), 1);
    client
        .notify_json(
            "workspace/didChangeConfiguration",
            json!({"settings": {"tokenguard": {"enable": false}}}),
        )
        .await;
    client
        .wait_until(&doc, "empty once disabled", |d| d.is_empty())
        .await;
    assert!(client
        .code_actions(&doc, range(9, 4, 9, 8), &[], Value::Null)
        .await
        .is_empty());
    assert_eq!(client.hover(&doc, 9, 5).await, Value::Null);
    client
        .notify_json(
            "workspace/didChangeConfiguration",
            json!({"settings": {"tokenguard": {"enable": true}}}),
        )
        .await;
    client
        .wait_until(&doc, "reported once enabled", |d| d.len() == 1)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_pulled_from_clients_that_support_workspace_configuration() {
    let mut client = support::start();
    *client.configuration.lock().unwrap() = json!({"tokenguard": {"severity": "hint"}});
    client
        .initialize(json!({"workspace": {"configuration": true}}), Value::Null)
        .await;
    client
        .wait_message("workspace/configuration", |_| true)
        .await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    client
        .wait_until(&doc, "a hint", |d| d.len() == 1 && d[0]["severity"] == 4)
        .await;
    *client.configuration.lock().unwrap() = json!({"tokenguard": {"enable": false}});
    client
        .notify_json(
            "workspace/didChangeConfiguration",
            json!({"settings": null}),
        )
        .await;
    client
        .wait_until(&doc, "empty once disabled", |d| d.is_empty())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulled_settings_apply_to_documents_opened_while_they_were_being_fetched() {
    // Editors send didOpen right after initialized, before answering the
    // server's workspace/configuration request.
    let mut client = support::start();
    *client.configuration.lock().unwrap() = json!({"tokenguard": {"severity": "error"}});
    client
        .initialize(json!({"workspace": {"configuration": true}}), Value::Null)
        .await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    client
        .wait_until(&doc, "an error, as configured", |d| {
            d.len() == 1 && d[0]["severity"] == ERROR
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syntax_errors_can_be_turned_off() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("mixed.yaml");
    let text = format!("{DEPLOYMENT}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: [\n");
    client.open(&doc, &text).await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    let codes: Vec<&str> = diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["TG001", "TG000"]);
    client
        .notify_json(
            "workspace/didChangeConfiguration",
            json!({"settings": {"tokenguard": {"syntaxErrors": false}}}),
        )
        .await;
    let diagnostics = client
        .wait_until(&doc, "without TG000", |d| {
            d.iter().all(|d| d["code"] != "TG000")
        })
        .await;
    assert_eq!(only_code(&diagnostics), "TG001");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_excluded_file_gets_no_diagnostics() {
    let root = Dir::new();
    let mut client = support::start();
    client
        .initialize_in(root.path(), json!({}), json!({"exclude": ["generated/**"]}))
        .await;
    let excluded = file_uri(&root.path().join("generated/deploy.yaml"));
    let checked = file_uri(&root.path().join("k8s/deploy.yaml"));
    client.open(&excluded, DEPLOYMENT).await;
    client.open(&checked, DEPLOYMENT).await;
    assert!(client.wait_diagnostics(&excluded, 1).await.is_empty());
    assert_eq!(
        only_code(&client.wait_diagnostics(&checked, 1).await),
        "TG001"
    );
    assert!(client
        .code_actions(&excluded, range(9, 4, 9, 8), &[], Value::Null)
        .await
        .is_empty());
}
