//! Code lenses: above each ServiceAccount, how many workloads run as it
//! (open or only on disk), how many of them mount its token; the setting
//! `codeLens.enable`. Through the test client, in process.

mod support;

use serde_json::{json, Value};

use support::*;

const ACCOUNTS: &str = "\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
automountServiceAccountToken: false
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: idle
  namespace: ci
";

/// A Job running as `builder` that leaves the field to it (off), a Pod
/// running as `builder` that asks for the token, and a Deployment in
/// namespace `ci` running as `builder` there (another account).
const WORKLOADS: &str = "\
apiVersion: batch/v1
kind: Job
metadata:
  name: nightly
spec:
  template:
    spec:
      serviceAccountName: builder
      containers: []
---
apiVersion: v1
kind: Pod
metadata:
  name: debug
spec:
  serviceAccountName: builder
  automountServiceAccountToken: true
  containers: []
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ci
spec:
  template:
    spec:
      serviceAccountName: builder
      containers: []
";

/// A workspace folder with the workloads on disk only, the server started
/// on it with the index built.
async fn workspace(options: Value) -> (Dir, TestClient) {
    let root = Dir::new();
    root.write("apps/workloads.yaml", WORKLOADS);
    let mut client = start();
    client
        .initialize_in(
            root.path(),
            json!({"window": {"workDoneProgress": true}}),
            options,
        )
        .await;
    client
        .wait_message("$/progress", |m| m["params"]["value"]["kind"] == "end")
        .await;
    (root, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_announces_code_lenses() {
    let mut client = start();
    let result = client.initialize(json!({}), Value::Null).await;
    assert_eq!(
        result["capabilities"]["codeLensProvider"],
        json!({"resolveProvider": false})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_service_account_counts_the_workloads_on_disk_that_run_as_it_and_mount_its_token() {
    let (root, mut client) = workspace(Value::Null).await;
    let accounts = root.uri("rbac/accounts.yaml");
    client.open(&accounts, ACCOUNTS).await;
    assert_eq!(
        client.code_lens_titles(&accounts).await,
        vec![
            (
                0,
                "used by 2 workloads · 1 mounts the token · no binding in the checked files"
                    .to_string()
            ),
            (
                6,
                "used by no workload in the checked files · no binding in the checked files"
                    .to_string()
            ),
        ]
    );
    // The lens spans the account's object (it shows above its first line)
    // and runs nothing.
    let lenses = client.code_lenses(&accounts).await.unwrap();
    assert_eq!(
        serde_json::to_value(lenses[0].range).unwrap(),
        range(0, 0, 4, 35)
    );
    assert_eq!(lenses[0].command.as_ref().unwrap().command, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_buffer_speaks_for_its_file_and_the_account_decides_for_pods_that_leave_it_the_field(
) {
    let (root, mut client) = workspace(Value::Null).await;
    // The workloads' buffer, edited: the Pod no longer asks for the token.
    let workloads = root.uri("apps/workloads.yaml");
    client
        .open(
            &workloads,
            &WORKLOADS.replace("  automountServiceAccountToken: true\n", ""),
        )
        .await;
    let accounts = root.uri("rbac/accounts.yaml");
    client.open(&accounts, ACCOUNTS).await;
    assert_eq!(
        client.code_lens_titles(&accounts).await[0].1,
        "used by 2 workloads · none mounts the token · no binding in the checked files"
    );
    // The account turned on: both mount it.
    client
        .change(&accounts, 2, range(4, 30, 4, 35), "true")
        .await;
    assert_eq!(
        client.code_lens_titles(&accounts).await[0].1,
        "used by 2 workloads · all mount the token · no binding in the checked files"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lens_names_the_roles_the_bindings_give_the_account() {
    let (root, mut client) = workspace(Value::Null).await;
    root.write(
        "rbac/bindings.yaml",
        "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: builder-edit}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects:
  - {kind: ServiceAccount, name: builder, namespace: ci}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects:
  - {kind: ServiceAccount, name: builder}
",
    );
    let bindings = root.uri("rbac/bindings.yaml");
    client
        .open(
            &bindings,
            &std::fs::read_to_string(root.path().join("rbac/bindings.yaml")).unwrap(),
        )
        .await;
    let accounts = root.uri("rbac/ci.yaml");
    client
        .open(
            &accounts,
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: builder, namespace: ci}\n",
        )
        .await;
    client.wait_diagnostics(&bindings, 1).await;
    client.wait_diagnostics(&accounts, 1).await;
    assert_eq!(
        client.code_lens_titles(&accounts).await,
        vec![(
            0,
            "used by 1 workload · it mounts the token · bound to ClusterRole edit, \
             Role secret-reader (not in the checked files)"
                .to_string()
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_setting_switches_lenses_off() {
    let (root, mut client) =
        workspace(json!({"tokenguard": {"codeLens": {"enable": false}}})).await;
    let accounts = root.uri("rbac/accounts.yaml");
    client.open(&accounts, ACCOUNTS).await;
    // Off: an empty list (a client drops what it shows), not null.
    assert_eq!(
        client.code_lenses(&accounts).await.map(|l| l.len()),
        Some(0)
    );
    // A file without ServiceAccounts has none when on either.
    client
        .notify_json(
            "workspace/didChangeConfiguration",
            json!({"settings": {"tokenguard": {}}}),
        )
        .await;
    // (The notification is handled apart from requests: ask until it is in.)
    let deadline = std::time::Instant::now() + TIMEOUT;
    while client
        .code_lenses(&accounts)
        .await
        .is_none_or(|l| l.is_empty())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "lenses still off after the setting changed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(client.code_lens_titles(&accounts).await.len(), 2);
    let workloads = root.uri("apps/workloads.yaml");
    client.open(&workloads, WORKLOADS).await;
    assert_eq!(client.code_lens_titles(&workloads).await, vec![]);
}
