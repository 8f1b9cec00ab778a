//! What is published: on open, with the version, the range and the fix;
//! nothing for YAML that is not Kubernetes; TG000 for a syntax error; pull
//! diagnostics for clients that ask. Through the test client, in process.

mod support;

use serde_json::{json, Value};

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnostics_are_published_on_open_with_the_version_the_spec_key_and_the_fix() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open_version(&doc, 7, DEPLOYMENT).await;
    let diagnostics = client.wait_diagnostics(&doc, 7).await;
    assert_eq!(only_code(&diagnostics), "TG001");
    let d = &diagnostics[0];
    assert_eq!(d["range"], range(9, 4, 9, 8), "the pod spec's `spec` key");
    assert_eq!(d["severity"], WARNING);
    assert_eq!(d["source"], "tokenguard");
    assert!(d["codeDescription"]["href"]
        .as_str()
        .unwrap()
        .starts_with("https://kubernetes.io/"));
    let message = d["message"].as_str().unwrap();
    assert!(
        message.starts_with("Deployment \"web\" mounts its service-account token"),
        "{message}"
    );
    assert!(
        message.contains("ServiceAccount \"default\" is not among the checked files"),
        "{message}"
    );
    assert!(
        d.get("relatedInformation").is_none(),
        "no ServiceAccount to point at"
    );
    assert_eq!(d["data"]["version"], 7);
    assert_eq!(
        d["data"]["fix"]["edits"],
        json!([{"range": range(10, 0, 10, 0), "newText": "      automountServiceAccountToken: false\n"}])
    );
    assert!(d["data"]["fix"]["title"]
        .as_str()
        .unwrap()
        .contains("automountServiceAccountToken"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yaml_that_is_not_kubernetes_gets_an_empty_list() {
    let mut client = started(json!({}), Value::Null).await;
    let workflow = uri(".github/workflows/ci.yaml");
    client
        .open(&workflow, "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n")
        .await;
    assert_eq!(
        client.wait_diagnostics(&workflow, 1).await,
        Vec::<Value>::new()
    );
    let broken = uri(".github/workflows/broken.yaml");
    client
        .open(
            &broken,
            "on: push\njobs:\n  build: {runs-on: [ubuntu\n  bad: : :\n",
        )
        .await;
    assert_eq!(
        client.wait_diagnostics(&broken, 1).await,
        Vec::<Value>::new(),
        "not even TG000"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_with_a_misspelled_api_version_is_still_judged() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("typo.yaml");
    client
        .open(
            &doc,
            "apiVersoin: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers: []\n",
        )
        .await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    assert_eq!(only_code(&diagnostics), "TG001", "{diagnostics:?}");
    // Broken too: the `kind` at the root still makes it a manifest.
    let broken = uri("typo-broken.yaml");
    client
        .open(&broken, "apiVerison: v1\nkind: Pod\nmetadata: {name: x\n")
        .await;
    let diagnostics = client.wait_diagnostics(&broken, 1).await;
    assert_eq!(only_code(&diagnostics), "TG000", "{diagnostics:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_syntax_error_in_a_kubernetes_file_is_tg000() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("broken.yaml");
    client
        .open(
            &doc,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x\nspec:\n  containers: []\n",
        )
        .await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    assert_eq!(only_code(&diagnostics), "TG000");
    assert_eq!(diagnostics[0]["severity"], ERROR);
    assert!(diagnostics[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("YAML syntax error"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_pull_diagnostics_get_full_reports_and_no_pushes() {
    let mut client = support::start();
    let result = client
        .initialize(
            json!({
                "textDocument": {"diagnostic": {"dynamicRegistration": false}},
                "workspace": {"diagnostics": {"refreshSupport": true}}
            }),
            Value::Null,
        )
        .await;
    assert_eq!(
        result["capabilities"]["diagnosticProvider"]["identifier"],
        "tokenguard"
    );
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    let report = client
        .request_json(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": doc}}),
        )
        .await;
    assert_eq!(report["kind"], "full");
    let items = report["items"].as_array().unwrap();
    assert_eq!(only_code(items), "TG001");
    assert_eq!(items[0]["range"], range(9, 4, 9, 8));

    let actions = client
        .code_actions(&doc, range(9, 4, 9, 8), items, json!(["quickfix"]))
        .await;
    let fix = actions.iter().find(|a| a["isPreferred"] == true).unwrap();
    client.apply_workspace_edit(&doc, &fix["edit"]).await;
    let report = client
        .request_json(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": doc}}),
        )
        .await;
    assert_eq!(report["items"], json!([]), "the pull sees the latest text");

    client.close(&doc).await;
    client.request_json("shutdown", Value::Null).await;
    client.notify_json("exit", Value::Null).await;
    client.drain_until_closed().await;
    assert!(
        client.all_published().is_empty(),
        "pushed: {:#?}",
        client.all_published()
    );
    assert!(client.join().await.clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_pull_but_cannot_be_asked_to_pull_again_get_pushes() {
    // Neovim 0.11 pulls only for the buffer it just changed: a ServiceAccount
    // edited elsewhere would never reach the other buffers. Such a client
    // gets pushed diagnostics.
    let mut client = support::start();
    let result = client
        .initialize(
            json!({"textDocument": {"diagnostic": {"dynamicRegistration": false}}}),
            Value::Null,
        )
        .await;
    assert!(result["capabilities"].get("diagnosticProvider").is_none());
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    assert_eq!(only_code(&diagnostics), "TG001");
    assert!(client.shutdown_and_exit().await.clean());
}
