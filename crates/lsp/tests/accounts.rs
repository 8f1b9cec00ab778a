//! ServiceAccounts in other documents and on disk: which account decides, and
//! re-publishing when one changes (open buffers, the workspace index, watched
//! files, the fix on the account). Through the test client, in process.

mod support;

use serde_json::{json, Value};

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_account_in_another_open_document_decides_and_its_changes_republish() {
    let mut client = started(json!({}), Value::Null).await;
    let deploy = uri("deploy.yaml");
    let account = uri("sa.yaml");
    client.open(&deploy, DEPLOYMENT).await;
    assert_eq!(
        only_code(&client.wait_diagnostics(&deploy, 1).await),
        "TG001"
    );

    client.open(&account, &service_account("false")).await;
    assert!(client.wait_diagnostics(&account, 1).await.is_empty());
    client
        .wait_until(&deploy, "compliant through the open ServiceAccount", |d| {
            d.is_empty()
        })
        .await;

    // Turning it on re-publishes the Deployment, which was not touched.
    client
        .change(&account, 2, range(4, 30, 4, 35), "true")
        .await;
    let diagnostics = client
        .wait_until(&deploy, "reported again", |d| !d.is_empty())
        .await;
    assert_eq!(client.version(&deploy), 1);
    let d = &diagnostics[0];
    assert_eq!(d["code"], "TG001");
    assert!(d["message"]
        .as_str()
        .unwrap()
        .contains("ServiceAccount \"default\" explicitly enables automounting"));
    assert_eq!(
        d["relatedInformation"],
        json!([{
            "location": {"uri": account, "range": range(3, 8, 3, 15)},
            "message": "ServiceAccount \"default\" enables automounting",
        }])
    );

    // The fix on the ServiceAccount edits the account's document.
    let actions = client
        .code_actions(
            &deploy,
            range(9, 4, 9, 8),
            &diagnostics,
            json!(["quickfix"]),
        )
        .await;
    let on_account = titled(
        &actions,
        "Disable automounting on ServiceAccount \"default\"",
    );
    assert_eq!(on_account["isPreferred"], false);
    assert_eq!(
        workspace_edit_uris(&on_account["edit"]),
        vec![account.clone()]
    );
    let version = client
        .apply_workspace_edit(&account, &on_account["edit"])
        .await;
    assert_eq!(client.text(&account), service_account("false"));
    assert!(client.wait_diagnostics(&account, version).await.is_empty());
    client
        .wait_until(
            &deploy,
            "compliant again after the fix on the account",
            |d| d.is_empty(),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workloads_opened_together_with_their_service_accounts_end_up_compliant() {
    let mut client = started(json!({}), Value::Null).await;
    let namespaced = |text: &str, ns: usize| {
        text.replacen(
            "metadata:\n",
            &format!("metadata:\n  namespace: ns{ns}\n"),
            1,
        )
    };
    let pairs: Vec<(String, String)> = (0..60)
        .map(|i| {
            (
                uri(&format!("deploy-{i}.yaml")),
                uri(&format!("sa-{i}.yaml")),
            )
        })
        .collect();
    for (i, (deploy, account)) in pairs.iter().enumerate() {
        client.open(deploy, &namespaced(DEPLOYMENT, i)).await;
        client
            .open(account, &namespaced(&service_account("false"), i))
            .await;
    }
    for (deploy, _) in &pairs {
        client
            .wait_until(deploy, "compliant", |d| d.is_empty())
            .await;
    }
    client.request_json("shutdown", Value::Null).await;
    client.notify_json("exit", Value::Null).await;
    client.drain_until_closed().await;
    for (deploy, _) in &pairs {
        let last = client
            .all_published()
            .into_iter()
            .rfind(|p| p["params"]["uri"] == deploy.as_str())
            .unwrap();
        assert_eq!(
            last["params"]["diagnostics"],
            json!([]),
            "{deploy} ends with {last}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_account_in_another_namespace_does_not_count() {
    let mut client = started(json!({}), Value::Null).await;
    let deploy = uri("deploy.yaml");
    let account = uri("sa.yaml");
    let namespaced = service_account("false")
        .replace("  name: default\n", "  name: default\n  namespace: prod\n");
    client.open(&account, &namespaced).await;
    client.wait_diagnostics(&account, 1).await;
    client.open(&deploy, DEPLOYMENT).await;
    assert_eq!(
        only_code(&client.wait_diagnostics(&deploy, 1).await),
        "TG001"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_service_account_from_the_same_document_reports_the_workload_again() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("all-in-one.yaml");
    let text = format!("{}---\n{DEPLOYMENT}", service_account("false"));
    client.open(&doc, &text).await;
    assert!(client.wait_diagnostics(&doc, 1).await.is_empty());
    // Delete the ServiceAccount document (lines 0-5).
    client.change(&doc, 2, range(0, 0, 6, 0), "").await;
    assert_eq!(client.text(&doc), DEPLOYMENT);
    let diagnostics = client.wait_diagnostics(&doc, 2).await;
    assert_eq!(
        summarize(&diagnostics),
        expected_diagnostics(DEPLOYMENT, client.encoding)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_account_on_disk_is_found_after_the_workspace_is_indexed() {
    let root = Dir::new();
    write(
        &root.path().join("accounts/default.yaml"),
        &service_account("false"),
    );
    root.write("app/config.yaml", "replicaCount: 1\n");
    let mut client = support::start();
    client
        .initialize_in(
            root.path(),
            json!({"window": {"workDoneProgress": true}}),
            Value::Null,
        )
        .await;
    client
        .wait_message("$/progress", |m| m["params"]["value"]["kind"] == "end")
        .await;
    assert!(
        client
            .log
            .iter()
            .any(|m| m["method"] == "window/workDoneProgress/create"),
        "progress was created before it was reported"
    );
    let deploy = file_uri(&root.path().join("app/deploy.yaml"));
    client.open(&deploy, DEPLOYMENT).await;
    assert!(client.wait_diagnostics(&deploy, 1).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_opened_before_indexing_finishes_are_republished_after_it() {
    let root = Dir::new();
    root.write("sa.yml", &service_account("no"));
    let mut client = support::start();
    client
        .initialize_in(root.path(), json!({}), Value::Null)
        .await;
    let deploy = file_uri(&root.path().join("deploy.yaml"));
    client.open(&deploy, DEPLOYMENT).await;
    client
        .wait_until(&deploy, "compliant once the disk is indexed", |d| {
            d.is_empty()
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fix_on_a_service_account_on_disk_edits_its_file_and_watched_changes_republish() {
    let root = Dir::new();
    let sa_path = root.path().join("rbac/service account.yaml");
    let sa_text = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n";
    write(&sa_path, sa_text);
    let sa_uri = file_uri(&sa_path);
    assert!(sa_uri.ends_with("/rbac/service%20account.yaml"));
    let capabilities =
        json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    let mut client = support::start();
    client
        .initialize_in(root.path(), capabilities, Value::Null)
        .await;
    let registration = client
        .wait_message("client/registerCapability", |_| true)
        .await;
    assert_eq!(
        registration["params"]["registrations"][0]["method"],
        "workspace/didChangeWatchedFiles"
    );

    let deploy = file_uri(&root.path().join("deploy.yaml"));
    client.open(&deploy, DEPLOYMENT).await;
    let diagnostics = client
        .wait_until(&deploy, "pointing at the ServiceAccount on disk", |d| {
            d.len() == 1 && d[0].get("relatedInformation").is_some()
        })
        .await;
    assert_eq!(
        diagnostics[0]["relatedInformation"],
        json!([{
            "location": {"uri": sa_uri, "range": range(3, 8, 3, 15)},
            "message": "ServiceAccount \"default\" does not disable automounting",
        }])
    );

    let actions = client
        .code_actions(&deploy, range(9, 4, 9, 8), &diagnostics, Value::Null)
        .await;
    let on_account = titled(
        &actions,
        "Disable automounting on ServiceAccount \"default\"",
    );
    assert_eq!(
        workspace_edit_uris(&on_account["edit"]),
        vec![sa_uri.clone()]
    );
    let fixed = support::apply_text_edits(
        sa_text,
        &workspace_edit_for(&on_account["edit"], &sa_uri),
        client.encoding,
    );
    assert_eq!(
        fixed,
        format!("{sa_text}automountServiceAccountToken: false\n")
    );

    // The client writes the file and tells the server.
    let changed = |uri: &str, kind: u8| json!({"changes": [{"uri": uri, "type": kind}]});
    std::fs::write(&sa_path, &fixed).unwrap();
    client
        .notify_json("workspace/didChangeWatchedFiles", changed(&sa_uri, 2))
        .await;
    client
        .wait_until(&deploy, "compliant after the account file changed", |d| {
            d.is_empty()
        })
        .await;

    std::fs::write(&sa_path, service_account("true")).unwrap();
    client
        .notify_json("workspace/didChangeWatchedFiles", changed(&sa_uri, 2))
        .await;
    let diagnostics = client
        .wait_until(
            &deploy,
            "reported after the account file enabled automounting",
            |d| !d.is_empty(),
        )
        .await;
    assert!(diagnostics[0]["message"]
        .as_str()
        .unwrap()
        .contains("explicitly enables automounting"));

    std::fs::remove_file(&sa_path).unwrap();
    client
        .notify_json("workspace/didChangeWatchedFiles", changed(&sa_uri, 3))
        .await;
    let diagnostics = client
        .wait_until(&deploy, "the account file deleted", |d| {
            d.len() == 1 && d[0].get("relatedInformation").is_none()
        })
        .await;
    assert!(diagnostics[0]["message"]
        .as_str()
        .unwrap()
        .contains("is not among the checked files"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_buffer_speaks_for_its_file_not_the_copy_on_disk() {
    let root = Dir::new();
    let path = root.path().join("all-in-one.yaml");
    let text = format!("{}---\n{DEPLOYMENT}", service_account("false"));
    write(&path, &text);
    let mut client = support::start();
    client
        .initialize_in(
            root.path(),
            json!({"window": {"workDoneProgress": true}}),
            Value::Null,
        )
        .await;
    client
        .wait_message("$/progress", |m| m["params"]["value"]["kind"] == "end")
        .await;
    let doc = file_uri(&path);
    client.open(&doc, &text).await;
    assert!(client.wait_diagnostics(&doc, 1).await.is_empty());
    // The disk still has the ServiceAccount; the buffer no longer does.
    client.change(&doc, 2, range(0, 0, 6, 0), "").await;
    assert_eq!(only_code(&client.wait_diagnostics(&doc, 2).await), "TG001");
}
