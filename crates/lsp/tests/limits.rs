//! What the server refuses to do: analyse a document over `maxFileSize`, and
//! read files outside its workspace folders (through a link, in
//! `node_modules`, or named by a watched-file event from elsewhere).

mod support;

use serde_json::{json, Value};

use support::{expected_diagnostics, file_uri, summarize, write, Dir, Enc};

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx
";

/// The account the Deployment runs as, disabling automounting: wherever it
/// is read from, the Deployment becomes compliant.
const DEFAULT_ACCOUNT: &str =
    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\nautomountServiceAccountToken: false\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_over_max_file_size_gets_one_diagnostic_until_it_shrinks() {
    let mut client = support::start();
    client
        .initialize(json!({}), json!({"maxFileSize": 300}))
        .await;
    let uri = "file:///workspace/big.yaml";
    let big = format!("{DEPLOYMENT}# {}\n", "x".repeat(300));
    client.open(uri, &big).await;
    let diagnostics = client.wait_diagnostics(uri, 1).await;
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(
        diagnostics[0]["message"],
        format!(
            "tokenguard does not analyse this file: it is {} bytes, over the limit of 300 bytes \
             (setting tokenguard.maxFileSize)",
            big.len()
        )
    );
    assert_eq!(diagnostics[0]["severity"], 2);
    assert_eq!(diagnostics[0]["code"], Value::Null);
    // Nothing to hover, nothing to fix.
    let hover = client.hover(uri, 6, 4).await;
    assert_eq!(hover, Value::Null);

    // Under the limit again: analysed like any document.
    let end = big.len();
    let range = support::range_of(&big, DEPLOYMENT.len(), end, Enc::Utf16);
    client.change(uri, 2, range, "").await;
    assert_eq!(client.text(uri), DEPLOYMENT);
    let diagnostics = client.wait_diagnostics(uri, 2).await;
    assert_eq!(
        summarize(&diagnostics),
        expected_diagnostics(DEPLOYMENT, Enc::Utf16)
    );

    // A higher limit in the settings lets the big text through.
    client
        .change(
            uri,
            3,
            support::range(10, 0, 10, 0),
            &format!("# {}\n", "x".repeat(300)),
        )
        .await;
    assert_eq!(client.wait_diagnostics(uri, 3).await.len(), 1);
    client
        .notify_json(
            "workspace/didChangeConfiguration",
            json!({"settings": {"tokenguard": {"maxFileSize": 1_000_000}}}),
        )
        .await;
    let text = client.text(uri).to_string();
    let diagnostics = client
        .wait_until(uri, "analysed under the new limit", |d| {
            d.first().is_some_and(|d| d["code"] == "TG001")
        })
        .await;
    assert_eq!(
        summarize(&diagnostics),
        expected_diagnostics(&text, Enc::Utf16)
    );
    assert!(client.shutdown_and_exit().await.clean());
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_outside_the_workspace_folders_are_never_read() {
    let outside = Dir::new();
    let dir = Dir::new();
    let root = dir.path().join("workspace");
    outside.write("sa.yaml", DEFAULT_ACCOUNT);
    write(&root.join("node_modules/chart/sa.yaml"), DEFAULT_ACCOUNT);
    write(&root.join(".git/sa.yaml"), DEFAULT_ACCOUNT);
    std::fs::create_dir_all(&root).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("linked")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("sa.yaml"), root.join("linked-sa.yaml"))
        .unwrap();

    let mut client = support::start();
    let capabilities = json!({
        "window": {"workDoneProgress": true},
        "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}},
    });
    client.initialize_in(&root, capabilities, Value::Null).await;
    let uri = file_uri(&root.join("deploy.yaml"));
    client.open(&uri, DEPLOYMENT).await;
    client
        .wait_message("$/progress", |m| m["params"]["value"]["kind"] == "end")
        .await;

    // The editor reports changes to files the server must not read: outside
    // the folder, through links, inside node_modules and .git.
    let events: Vec<Value> = [
        outside.path().join("sa.yaml"),
        root.join("linked/sa.yaml"),
        root.join("linked-sa.yaml"),
        root.join("node_modules/chart/sa.yaml"),
        root.join("../workspace/node_modules/chart/sa.yaml"),
    ]
    .iter()
    .map(|p| json!({"uri": file_uri(p), "type": 2}))
    .collect();
    client
        .notify_json(
            "workspace/didChangeWatchedFiles",
            json!({"changes": events}),
        )
        .await;
    // An edit analysed after those events: the account is still not found.
    client
        .change(&uri, 2, support::range(0, 0, 0, 0), "# edited\n")
        .await;
    let text = client.text(&uri).to_string();
    let diagnostics = client.wait_diagnostics(&uri, 2).await;
    assert_eq!(
        summarize(&diagnostics),
        expected_diagnostics(&text, Enc::Utf16)
    );
    assert!(diagnostics[0]["message"]
        .as_str()
        .unwrap()
        .contains("is not among the checked files"));

    // The same account in a real file of the folder counts.
    let inside = root.join("rbac/sa.yaml");
    write(&inside, DEFAULT_ACCOUNT);
    client
        .notify_json(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": file_uri(&inside), "type": 1}]}),
        )
        .await;
    client.wait_until(&uri, "compliant", |d| d.is_empty()).await;
    assert!(client.shutdown_and_exit().await.clean());
}

/// A chart whose template takes `automountServiceAccountToken` from its
/// values.
const CHART: &str = "apiVersion: v2\nname: web\nversion: 0.1.0\n";
/// The Deployment with its pod spec's automounting taken from the values.
fn template() -> String {
    DEPLOYMENT.replace(
        "    spec:\n      containers:",
        "    spec:\n      automountServiceAccountToken: {{ .Values.automount }}\n      containers:",
    )
}
const VALUES_ON: &str = "automount: true\n";

/// The diagnostics of the chart's template, opened in a server whose
/// workspace folder is `root`.
async fn template_diagnostics(root: &std::path::Path) -> Vec<Value> {
    let mut client = support::start();
    client.initialize_in(root, json!({}), Value::Null).await;
    let uri = file_uri(&root.join("chart/templates/web.yaml"));
    client.open(&uri, &template()).await;
    let diagnostics = client.wait_diagnostics(&uri, 1).await;
    assert!(client.shutdown_and_exit().await.clean());
    diagnostics
}

/// A chart's values.yaml is read like any other file: not through a link
/// out of the workspace folder (the chart reader once read it without
/// asking).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chart_values_file_linked_from_outside_the_workspace_is_not_read() {
    let outside = tempfile::tempdir().unwrap();
    write(&outside.path().join("values.yaml"), VALUES_ON);
    let workspace = |values: Option<&str>| {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("chart/Chart.yaml"), CHART);
        write(&dir.path().join("chart/templates/web.yaml"), &template());
        if let Some(values) = values {
            write(&dir.path().join("chart/values.yaml"), values);
        }
        dir
    };

    // In the folder, the values are read: the template is flagged.
    let real = workspace(Some(VALUES_ON));
    let flagged = template_diagnostics(real.path()).await;
    assert_eq!(flagged.len(), 1, "{flagged:#?}");
    assert_eq!(flagged[0]["code"], "TG001");

    // Linked from outside, they are not read: as if there were none.
    let linked = workspace(None);
    std::os::unix::fs::symlink(
        outside.path().join("values.yaml"),
        linked.path().join("chart/values.yaml"),
    )
    .unwrap();
    let without = workspace(None);
    let expected = template_diagnostics(without.path()).await;
    assert_ne!(summarize(&expected), summarize(&flagged));
    let found = template_diagnostics(linked.path()).await;
    assert_eq!(summarize(&found), summarize(&expected));
}
