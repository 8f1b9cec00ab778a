//! Navigation: go to definition from a pod spec's account field to the
//! ServiceAccount, from a binding's `roleRef` to the role and from its
//! subject to the account, find references of a ServiceAccount (the
//! workloads that run as it, the bindings that name it) and of a role,
//! completion of `serviceAccountName`; across files (open or
//! only on disk) and in both position encodings. Through the test client,
//! in process.

mod support;

use serde_json::{json, Value};
use tower_lsp_server::ls_types::{CompletionTextEdit, Location};

use support::*;

/// ServiceAccount `builder` in namespace `ci`, with non-ASCII text before
/// its name on the same line (é: 2 bytes, 1 UTF-16 unit; 😀: 4 bytes, 2
/// units), and `runner` there too, automount left on.
const ACCOUNTS: &str = "\
apiVersion: v1
kind: ServiceAccount
metadata: {annotations: {note: \"café 😀\"}, name: builder, namespace: ci}
automountServiceAccountToken: false
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: runner
  namespace: ci
";

/// Workloads in `ci`: a Deployment naming `builder` after non-ASCII text
/// on its line, a Job naming it with the deprecated field.
const WORKLOADS: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ci
spec:
  template:
    spec: {hostname: \"ünï😀\", serviceAccountName: builder, containers: []}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: ci
spec:
  template:
    spec:
      serviceAccount: builder
      containers: []
";

/// The (line, character) of the `n`-th `needle` in `text`, plus `into`
/// characters (ASCII) into it.
fn position(text: &str, needle: &str, n: usize, enc: Enc) -> (u32, u32) {
    let start = find_range(text, needle, n, enc)["start"].clone();
    (
        start["line"].as_u64().unwrap() as u32,
        start["character"].as_u64().unwrap() as u32,
    )
}

fn json_range(location: &Location) -> Value {
    serde_json::to_value(location.range).unwrap()
}

fn uris(locations: &[Location]) -> Vec<String> {
    locations
        .iter()
        .map(|l| l.uri.as_str().to_string())
        .collect()
}

/// A workspace folder with the accounts on disk, the server started on it
/// with `enc` and the index built.
async fn workspace(enc: Enc) -> (Dir, TestClient, String) {
    let root = Dir::new();
    root.write("rbac/accounts.yaml", ACCOUNTS);
    let mut client = support::start();
    let mut capabilities = enc.capabilities();
    capabilities["window"] = json!({"workDoneProgress": true});
    client
        .initialize_in(root.path(), capabilities, Value::Null)
        .await;
    client
        .wait_message("$/progress", |m| m["params"]["value"]["kind"] == "end")
        .await;
    let accounts = root.uri("rbac/accounts.yaml");
    (root, client, accounts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_announces_definition_references_and_completion() {
    let mut client = start();
    let result = client.initialize(json!({}), Value::Null).await;
    let capabilities = &result["capabilities"];
    assert_eq!(capabilities["definitionProvider"], true);
    assert_eq!(capabilities["referencesProvider"], true);
    assert!(
        capabilities["completionProvider"].is_object(),
        "{capabilities}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definition_goes_from_service_account_name_to_the_account_in_a_file_not_open() {
    for enc in [Enc::Utf16, Enc::Utf8] {
        let (root, mut client, accounts) = workspace(enc).await;
        let app = root.uri("app/workloads.yaml");
        client.open(&app, WORKLOADS).await;
        client.wait_diagnostics(&app, 1).await;
        // On `builder` after the non-ASCII hostname (its column differs in
        // bytes and UTF-16 units), one character in.
        let (line, character) = position(WORKLOADS, "builder", 0, enc);
        let found = client.definition(&app, line, character + 1).await;
        assert_eq!(uris(&found), vec![accounts.clone()], "{enc:?}");
        assert_eq!(
            json_range(&found[0]),
            find_range(ACCOUNTS, "builder", 0, enc),
            "{enc:?}: the name after the non-ASCII annotation"
        );
        // The deprecated field, at the end of the name.
        let (line, character) = position(WORKLOADS, "builder", 1, enc);
        let from_old = client.definition(&app, line, character + 7).await;
        assert_eq!(from_old, found, "{enc:?}");
        // Elsewhere: nothing.
        assert!(client.definition(&app, 1, 2).await.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definition_follows_the_open_buffer_not_the_disk() {
    let (root, mut client, accounts) = workspace(Enc::Utf16).await;
    let app = root.uri("app/workloads.yaml");
    client.open(&app, WORKLOADS).await;
    client.wait_diagnostics(&app, 1).await;
    // The accounts file opened and its account moved to another namespace:
    // the workload's namespace has no `builder` any more.
    let moved = ACCOUNTS.replacen("namespace: ci}", "namespace: ops}", 1);
    client.open(&accounts, &moved).await;
    client.wait_diagnostics(&accounts, 1).await;
    let (line, character) = position(WORKLOADS, "builder", 0, Enc::Utf16);
    assert!(client.definition(&app, line, character).await.is_empty());
    // And a ServiceAccount in the workload's own buffer counts at once.
    let with_own = format!(
        "{WORKLOADS}---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: builder, namespace: ci}}\n"
    );
    client.change(&app, 2, range(0, 0, 100, 0), &with_own).await;
    client.wait_diagnostics(&app, 2).await;
    let found = client.definition(&app, line, character).await;
    assert_eq!(uris(&found), vec![app.clone()]);
    assert_eq!(
        json_range(&found[0]),
        find_range(&with_own, "builder", 2, Enc::Utf16)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_of_a_service_account_list_the_workloads_that_run_as_it() {
    let (root, mut client, accounts) = workspace(Enc::Utf16).await;
    // One workload file on disk only, indexed; the accounts file open.
    root.write("app/workloads.yaml", WORKLOADS);
    let app = root.uri("app/workloads.yaml");
    client
        .notify_json(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": app, "type": 1}]}),
        )
        .await;
    client.open(&accounts, ACCOUNTS).await;
    client.wait_diagnostics(&accounts, 1).await;
    let (line, character) = position(ACCOUNTS, "builder", 0, Enc::Utf16);
    let mut found = Vec::new();
    for _ in 0..100 {
        found = client
            .references(&accounts, line, character + 2, false)
            .await;
        if found.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(uris(&found), vec![app.clone(), app.clone()]);
    assert_eq!(
        json_range(&found[0]),
        find_range(WORKLOADS, "builder", 0, Enc::Utf16)
    );
    assert_eq!(
        json_range(&found[1]),
        find_range(WORKLOADS, "builder", 1, Enc::Utf16)
    );
    // With the declaration.
    let with = client.references(&accounts, line, character, true).await;
    assert_eq!(with.len(), 3);
    assert!(with.iter().any(|l| l.uri.as_str() == accounts
        && json_range(l) == find_range(ACCOUNTS, "builder", 0, Enc::Utf16)));
    // `runner` runs nothing.
    let (line, character) = position(ACCOUNTS, "runner", 0, Enc::Utf16);
    assert!(client
        .references(&accounts, line, character, false)
        .await
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_of_default_include_pod_specs_that_name_no_account() {
    let mut client = started(json!({}), Value::Null).await;
    let deploy = uri("deploy.yaml");
    let account = uri("sa.yaml");
    client.open(&deploy, DEPLOYMENT).await;
    client.open(&account, &service_account("true")).await;
    client.wait_diagnostics(&account, 1).await;
    let found = client.references(&account, 3, 9, false).await;
    assert_eq!(uris(&found), vec![deploy.clone()]);
    assert_eq!(
        json_range(&found[0]),
        json!(range(9, 4, 9, 8)),
        "its `spec` key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_offers_the_accounts_of_the_pod_namespace_with_their_automount() {
    let (root, mut client, _) = workspace(Enc::Utf16).await;
    let app = root.uri("app/job.yaml");
    let text = WORKLOADS.replace("serviceAccount: builder", "serviceAccountName: ru");
    client.open(&app, &text).await;
    client.wait_diagnostics(&app, 1).await;
    let (line, character) = position(&text, "ru\n", 0, Enc::Utf16);
    let items = client.completion(&app, line, character + 2).await;
    let labels: Vec<(&str, Option<&str>)> = items
        .iter()
        .map(|i| (i.label.as_str(), i.detail.as_deref()))
        .collect();
    assert_eq!(
        labels,
        vec![
            (
                "builder",
                Some("ServiceAccount · automountServiceAccountToken: false")
            ),
            (
                "default",
                Some("ServiceAccount · the namespace's default (not declared in the workspace)")
            ),
            (
                "runner",
                Some("ServiceAccount · automountServiceAccountToken not set (token mounted)")
            ),
        ]
    );
    let Some(CompletionTextEdit::Edit(edit)) = &items[2].text_edit else {
        panic!("a text edit: {:?}", items[2]);
    };
    assert_eq!(
        serde_json::to_value(edit.range).unwrap(),
        find_range(&text, "ru", 0, Enc::Utf16),
        "the typed `ru` is replaced"
    );
    // Not at an account field: no completion.
    assert!(client.completion(&app, 1, 3).await.is_empty());
    // Right after the key's colon (typed without its space): the name
    // comes with one.
    let glued = WORKLOADS.replace("serviceAccount: builder", "serviceAccountName:");
    let other = root.uri("app/glued.yaml");
    client.open(&other, &glued).await;
    client.wait_diagnostics(&other, 1).await;
    let (line, character) = position(&glued, "serviceAccountName:\n", 0, Enc::Utf16);
    let items = client
        .completion(&other, line, character + "serviceAccountName:".len() as u32)
        .await;
    let Some(CompletionTextEdit::Edit(edit)) = &items[0].text_edit else {
        panic!("a text edit: {:?}", items[0]);
    };
    assert_eq!(edit.new_text, " builder");
}

/// A Role in `ci` on disk, and a RoleBinding granting it to `builder`.
const ROLE: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: ci, annotations: {note: \"ç😀\"}}
rules: []
";

const BINDING: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: builder-deploys, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects:
  - {kind: ServiceAccount, name: builder}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binding_leads_to_its_role_and_to_its_subject_and_is_a_reference_of_both() {
    let (root, mut client, accounts) = workspace(Enc::Utf16).await;
    root.write("rbac/role.yaml", ROLE);
    let role = root.uri("rbac/role.yaml");
    client
        .notify_json(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": role, "type": 1}]}),
        )
        .await;
    let binding = root.uri("rbac/binding.yaml");
    client.open(&binding, BINDING).await;
    client.wait_diagnostics(&binding, 1).await;
    // roleRef → the Role on disk (its name before non-ASCII text: exact).
    let (line, character) = position(BINDING, "deployer", 0, Enc::Utf16);
    let mut found = Vec::new();
    for _ in 0..100 {
        found = client.definition(&binding, line, character + 3).await;
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(uris(&found), vec![role.clone()]);
    assert_eq!(
        json_range(&found[0]),
        find_range(ROLE, "deployer", 0, Enc::Utf16)
    );
    // The subject → the account (the binding's namespace, ci).
    let (line, character) = position(BINDING, "builder}", 0, Enc::Utf16);
    let found = client.definition(&binding, line, character).await;
    assert_eq!(uris(&found), vec![accounts.clone()]);
    // The account's references include the subject.
    client.open(&accounts, ACCOUNTS).await;
    client.wait_diagnostics(&accounts, 1).await;
    let (line, character) = position(ACCOUNTS, "builder", 0, Enc::Utf16);
    let references = client.references(&accounts, line, character, false).await;
    assert_eq!(uris(&references), vec![binding.clone()]);
    assert_eq!(
        json_range(&references[0]),
        find_range(BINDING, "builder", 1, Enc::Utf16),
        "the subject's name (the first `builder` is in the binding's name)"
    );
    // The Role's references: the roleRef.
    client.open(&role, ROLE).await;
    client.wait_diagnostics(&role, 1).await;
    let (line, character) = position(ROLE, "deployer", 0, Enc::Utf16);
    let references = client.references(&role, line, character, false).await;
    assert_eq!(uris(&references), vec![binding.clone()]);
    assert_eq!(
        json_range(&references[0]),
        find_range(BINDING, "deployer", 0, Enc::Utf16)
    );
}
