//! `tokenguard server --stdio`: the real binary speaks LSP on its standard
//! input and output, and its exit status follows the protocol (0 after
//! `shutdown` + `exit`, 1 after `exit` alone).

use std::process::Command;

use serde_json::{json, Value};
use tokenguard_lsp_test_client::ls_types::notification::{DidChangeWatchedFiles, Exit};
use tokenguard_lsp_test_client::ls_types::request::{CodeActionRequest, Shutdown};
use tokenguard_lsp_test_client::ls_types::{
    CodeActionContext, CodeActionOrCommand, CodeActionParams, DidChangeWatchedFilesParams,
    FileChangeType, FileEvent, TextDocumentIdentifier, Uri,
};
use tokenguard_lsp_test_client::{apply_text_edits, file_uri, Enc, TestClient};

/// A Deployment without the field; its pod spec's `spec` key is line 9,
/// columns 4-8.
const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx
";
const SPEC_LINE: u64 = 8;

/// A running `tokenguard server --stdio`, with its log at debug level.
fn start() -> TestClient {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tokenguard"));
    command.args(["server", "--stdio"]).env("RUST_LOG", "debug");
    TestClient::spawn(command)
}

fn spec_key() -> Value {
    json!({"start": {"line": SPEC_LINE, "character": 4}, "end": {"line": SPEC_LINE, "character": 8}})
}

fn lsp_uri(uri: &str) -> Uri {
    uri.parse().expect("a URI")
}

/// `textDocument/codeAction` on the `spec` key, typed, as JSON values.
async fn code_actions(client: &mut TestClient, uri: &str, diagnostics: &[Value]) -> Vec<Value> {
    let params = CodeActionParams {
        text_document: TextDocumentIdentifier { uri: lsp_uri(uri) },
        range: serde_json::from_value(spec_key()).unwrap(),
        context: CodeActionContext {
            diagnostics: serde_json::from_value(json!(diagnostics)).unwrap(),
            ..CodeActionContext::default()
        },
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    };
    let actions = client
        .request::<CodeActionRequest>(params)
        .await
        .expect("code actions");
    actions
        .into_iter()
        .map(|a| match a {
            CodeActionOrCommand::CodeAction(a) => serde_json::to_value(a).unwrap(),
            CodeActionOrCommand::Command(c) => panic!("a bare command: {c:?}"),
        })
        .collect()
}

/// `shutdown` and `exit`, typed; the exit status.
async fn shutdown_and_exit(mut client: TestClient) -> Option<i32> {
    client.request::<Shutdown>(()).await;
    client.notify::<Exit>(()).await;
    client.wait_for_exit().await.code()
}

#[tokio::test]
async fn the_server_publishes_fixes_and_exits_0_after_shutdown_and_exit() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start();
    let result = server.initialize(json!({}), Value::Null).await;
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(result["serverInfo"]["name"], "tokenguard");

    let uri = file_uri(&dir.path().join("deploy.yaml"));
    server.open(&uri, DEPLOYMENT).await;
    let diagnostics = server.wait_diagnostics(&uri, 1).await;
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(diagnostics[0]["code"], "TG001");
    assert_eq!(diagnostics[0]["range"], spec_key());

    let actions = code_actions(&mut server, &uri, &diagnostics).await;
    let fix = actions
        .iter()
        .find(|a| a["isPreferred"] == true)
        .expect("a preferred quick fix");
    let edits = fix["edit"]["changes"][uri.as_str()].as_array().unwrap();
    let fixed = apply_text_edits(DEPLOYMENT, edits, Enc::Utf16);
    assert!(
        fixed.contains("    spec:\n      automountServiceAccountToken: false\n      containers:")
    );
    let version = server.apply_edits(&uri, edits).await;
    assert_eq!(version, 2);
    assert_eq!(server.text(&uri), fixed);
    let diagnostics = server.wait_diagnostics(&uri, 2).await;
    assert_eq!(diagnostics, Vec::<Value>::new());

    assert_eq!(shutdown_and_exit(server).await, Some(0));
}

#[tokio::test]
async fn exit_without_shutdown_exits_1() {
    let mut server = start();
    server.initialize(json!({}), Value::Null).await;
    assert_eq!(server.exit().await.code(), Some(1));
}

#[tokio::test]
async fn paths_with_spaces_travel_as_percent_encoded_uris() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("my manifests");
    std::fs::create_dir_all(root.join("rbac")).unwrap();
    let account_path = root.join("rbac/service account.yaml");
    let account = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n";
    std::fs::write(&account_path, account).unwrap();
    let account_uri = file_uri(&account_path);
    assert!(account_uri.contains("/my%20manifests/rbac/service%20account.yaml"));

    let mut server = start();
    server.initialize_in(&root, json!({}), Value::Null).await;
    let uri = file_uri(&root.join("app deploy.yaml"));
    assert!(uri.ends_with("/my%20manifests/app%20deploy.yaml"));
    server.open(&uri, DEPLOYMENT).await;

    // Once the workspace is indexed, the finding points at the account file.
    let diagnostics = server
        .wait_until(&uri, "pointing at the ServiceAccount", |d| {
            d.first().is_some_and(|d| {
                d["relatedInformation"][0]["location"]["uri"] == account_uri.as_str()
            })
        })
        .await;
    assert_eq!(diagnostics.len(), 1);
    let actions = code_actions(&mut server, &uri, &diagnostics).await;
    let on_account = actions
        .iter()
        .find(|a| a["title"] == "Disable automounting on ServiceAccount \"default\"")
        .expect("the fix on the ServiceAccount");
    let changes = on_account["edit"]["changes"].as_object().unwrap();
    assert_eq!(changes.keys().collect::<Vec<_>>(), [&account_uri]);

    // The editor applies it to the file; the server hears of the change.
    let fixed = apply_text_edits(
        account,
        changes[&account_uri].as_array().unwrap(),
        Enc::Utf16,
    );
    std::fs::write(&account_path, fixed).unwrap();
    server
        .notify::<DidChangeWatchedFiles>(DidChangeWatchedFilesParams {
            changes: vec![FileEvent {
                uri: lsp_uri(&account_uri),
                typ: FileChangeType::CHANGED,
            }],
        })
        .await;
    let diagnostics = server.wait_until(&uri, "compliant", |d| d.is_empty()).await;
    assert!(diagnostics.is_empty());

    assert_eq!(shutdown_and_exit(server).await, Some(0));
}
