//! One file, several URI spellings: a document opened under one spelling and
//! seen on disk (the workspace index, watched-file events) under another is
//! one file. On Windows the spellings differ in the drive letter and `%3A`
//! (`identity`'s unit tests cover those); what Linux can show is percent-
//! encoding: `+` or `%2B`, `%C3%A9` or `%c3%a9`.

mod support;

use serde_json::{json, Value};

use support::{file_uri, range, workspace_edit_uris, write, Dir};

/// A Deployment running as ServiceAccount `default`; its pod spec's `spec`
/// key is line 9, columns 4-8.
const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx
";

/// ServiceAccount `default`; `automount` is a line of its own (or nothing).
fn service_account(automount: &str) -> String {
    format!("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n{automount}")
}

const OFF: &str = "automountServiceAccountToken: false\n";
const ON: &str = "automountServiceAccountToken: true\n";

/// The folder of the account file: non-ASCII and a `+`, which clients
/// encode differently.
const FOLDER: &str = "équipe+ops";

/// How the server itself (and the test client's `file_uri`) spells the
/// folder, and another spelling of it a client may send.
const CANONICAL: &str = "%C3%A9quipe%2Bops";
const OTHER: &str = "%c3%a9quipe+ops";

fn other_spelling(uri: &str) -> String {
    assert!(uri.contains(CANONICAL), "{uri}");
    uri.replace(CANONICAL, OTHER)
}

fn watching() -> Value {
    json!({
        "window": {"workDoneProgress": true},
        "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}},
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_file_open_under_another_spelling_is_the_file_on_disk() {
    let root = Dir::new();
    let sa_path = root.path().join(FOLDER).join("sa.yaml");
    write(&sa_path, &service_account(""));
    let disk_uri = file_uri(&sa_path);
    let open_uri = other_spelling(&disk_uri);
    let mut client = support::start();
    client
        .initialize_in(root.path(), watching(), Value::Null)
        .await;
    let end = client
        .wait_message("$/progress", |m| m["params"]["value"]["kind"] == "end")
        .await;
    assert_eq!(end["params"]["value"]["message"], "1 ServiceAccounts");

    let deploy = file_uri(&root.path().join("deploy.yaml"));
    client.open(&deploy, DEPLOYMENT).await;
    let related_uri = |d: &[Value]| d[0]["relatedInformation"][0]["location"]["uri"].clone();
    let diagnostics = client
        .wait_until(&deploy, "reported through the account on disk", |d| {
            d.len() == 1 && !d[0]["relatedInformation"].is_null()
        })
        .await;
    assert_eq!(related_uri(&diagnostics), disk_uri.as_str());

    // The editor opens the file under its own spelling, unsaved: the buffer
    // speaks for the file, and the disk's copy (which leaves automounting
    // on, and would win if it still counted) no longer does.
    client.open(&open_uri, &service_account(OFF)).await;
    assert!(client.wait_diagnostics(&open_uri, 1).await.is_empty());
    client
        .wait_until(&deploy, "compliant through the open buffer", |d| {
            d.is_empty()
        })
        .await;

    // A watched-file event under the disk's spelling while the buffer is
    // open does not bring the disk's copy back.
    client
        .notify_json(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": disk_uri, "type": 2}]}),
        )
        .await;
    client.change(&deploy, 2, range(5, 12, 5, 13), "2").await;
    assert!(
        client.wait_diagnostics(&deploy, 2).await.is_empty(),
        "the disk's copy counted again"
    );

    // What names the account file to the client is the client's URI.
    client
        .change(&open_uri, 2, range(4, 30, 4, 35), "true")
        .await;
    assert_eq!(client.text(&open_uri), service_account(ON));
    let diagnostics = client
        .wait_until(&deploy, "reported through the open buffer", |d| {
            d.len() == 1
        })
        .await;
    assert_eq!(related_uri(&diagnostics), open_uri.as_str());
    let actions = client
        .code_actions(&deploy, range(9, 4, 9, 8), &diagnostics, Value::Null)
        .await;
    let on_account = actions
        .iter()
        .find(|a| a["title"] == "Disable automounting on ServiceAccount \"default\"")
        .unwrap_or_else(|| panic!("the fix on the account: {actions:#?}"));
    assert_eq!(
        workspace_edit_uris(&on_account["edit"]),
        vec![open_uri.clone()]
    );

    // Closed, the file is the disk's again, under the server's spelling.
    client.close(&open_uri).await;
    let diagnostics = client
        .wait_until(&deploy, "reported through the disk again", |d| {
            d.len() == 1 && related_uri(d) == disk_uri.as_str()
        })
        .await;
    assert!(diagnostics[0]["message"]
        .as_str()
        .unwrap()
        .contains("does not disable automounting"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workspace_index_skips_a_file_open_under_another_spelling() {
    let root = Dir::new();
    let sa_path = root.path().join(FOLDER).join("sa.yaml");
    write(&sa_path, &service_account(OFF));
    let disk_uri = file_uri(&sa_path);
    let open_uri = other_spelling(&disk_uri);
    let mut client = support::start();
    let folder = file_uri(root.path());
    client
        .request_json(
            "initialize",
            json!({
                "processId": std::process::id(),
                "capabilities": watching(),
                "rootUri": folder,
                "workspaceFolders": [{"uri": folder, "name": "workspace"}],
            }),
        )
        .await;
    // Open before `initialized`, which starts the index: the open buffer
    // speaks for the file, and the index counts nothing of it.
    client.open(&open_uri, &service_account(OFF)).await;
    client.notify_json("initialized", json!({})).await;
    let end = client
        .wait_message("$/progress", |m| m["params"]["value"]["kind"] == "end")
        .await;
    assert_eq!(end["params"]["value"]["message"], "0 ServiceAccounts");

    let deploy = file_uri(&root.path().join("deploy.yaml"));
    client.open(&deploy, DEPLOYMENT).await;
    assert!(client.wait_diagnostics(&deploy, 1).await.is_empty());

    // Requests may spell the open document either way: a hover on its
    // `automountServiceAccountToken` key.
    for spelling in [&open_uri, &disk_uri] {
        let hover = client.hover(spelling, 4, 5).await;
        assert!(
            hover["contents"]["value"]
                .as_str()
                .is_some_and(|v| v.contains("automountServiceAccountToken")),
            "{spelling}: {hover}"
        );
    }
    assert_eq!(
        client
            .hover(&deploy.replace("deploy", "missing"), 4, 5)
            .await,
        Value::Null
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_opened_again_under_another_spelling_moves_its_diagnostics() {
    let mut client = support::start();
    client.initialize(json!({}), Value::Null).await;
    let first = format!("file:///workspace/{CANONICAL}/deploy.yaml");
    let second = other_spelling(&first);
    client.open(&first, DEPLOYMENT).await;
    assert_eq!(client.wait_diagnostics(&first, 1).await.len(), 1);
    client.open(&second, DEPLOYMENT).await;
    assert_eq!(client.wait_diagnostics(&second, 1).await.len(), 1);
    client
        .wait_until(&first, "cleared under the old spelling", |d| d.is_empty())
        .await;
    // Either spelling closes it; the diagnostics were the second's.
    client.close(&first).await;
    client
        .wait_until(&second, "cleared on close", |d| d.is_empty())
        .await;
}
