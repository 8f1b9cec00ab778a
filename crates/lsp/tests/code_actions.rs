//! Code actions: the quick fix, the ignore comment, fix-all (and its lazy
//! resolution), nothing away from a finding. Through the test client, in
//! process.

mod support;

use serde_json::{json, Value};

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preferred_quick_fix_makes_the_diagnostic_go_away() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    let actions = client
        .code_actions(&doc, range(9, 5, 9, 5), &diagnostics, Value::Null)
        .await;
    let preferred: Vec<&Value> = actions
        .iter()
        .filter(|a| a["isPreferred"] == true)
        .collect();
    assert_eq!(preferred.len(), 1, "{actions:#?}");
    let fix = preferred[0];
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["diagnostics"][0]["code"], "TG001");
    assert_eq!(fix["diagnostics"][0]["range"], range(9, 4, 9, 8));
    assert_eq!(workspace_edit_uris(&fix["edit"]), vec![doc.clone()]);
    let version = client.apply_workspace_edit(&doc, &fix["edit"]).await;
    assert!(client
        .text(&doc)
        .contains("    spec:\n      automountServiceAccountToken: false\n      containers:\n"));
    assert!(client.wait_diagnostics(&doc, version).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ignore_comment_quick_fix_makes_the_diagnostic_go_away() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    let actions = client
        .code_actions(&doc, range(9, 4, 9, 8), &diagnostics, json!(["quickfix"]))
        .await;
    let ignore = titled(&actions, "Ignore this finding");
    assert_eq!(ignore["isPreferred"], false);
    let version = client.apply_workspace_edit(&doc, &ignore["edit"]).await;
    assert!(client
        .text(&doc)
        .contains("    # tokenguard-ignore: needs the Kubernetes API\n    spec:\n"));
    assert!(client.wait_diagnostics(&doc, version).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_code_actions_away_from_a_finding() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("pod.yaml");
    client.open(&doc, COMPLIANT_POD).await;
    client.wait_diagnostics(&doc, 1).await;
    assert!(client
        .code_actions(&doc, range(0, 0, 6, 0), &[], Value::Null)
        .await
        .is_empty());
}

/// A Pod and a Deployment, both without the field.
fn two_workloads() -> String {
    format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: solo}}\nspec:\n  containers: []\n---\n{DEPLOYMENT}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_all_comes_only_when_source_fix_all_is_asked_for() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("two.yaml");
    client.open(&doc, &two_workloads()).await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    assert_eq!(diagnostics.len(), 2);

    let quick = client
        .code_actions(&doc, range(3, 0, 3, 4), &diagnostics, json!(["quickfix"]))
        .await;
    assert!(!quick.is_empty());
    assert!(quick.iter().all(|a| a["kind"] == "quickfix"), "{quick:#?}");

    let whole = range(0, 0, 20, 0);
    let fix_all = client
        .code_actions(&doc, whole, &diagnostics, json!(["source.fixAll"]))
        .await;
    assert_eq!(fix_all.len(), 1, "{fix_all:#?}");
    assert_eq!(fix_all[0]["kind"], "source.fixAll.tokenguard");
    assert_eq!(workspace_edit_for(&fix_all[0]["edit"], &doc).len(), 2);
    let version = client.apply_workspace_edit(&doc, &fix_all[0]["edit"]).await;
    assert!(client.wait_diagnostics(&doc, version).await.is_empty());
    let again = client
        .code_actions(&doc, range(0, 0, 20, 0), &[], json!(["source.fixAll"]))
        .await;
    assert!(again.is_empty(), "nothing left to fix: {again:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_all_is_resolved_lazily_when_the_client_can_resolve_edits() {
    let capabilities =
        json!({"textDocument": {"codeAction": {"resolveSupport": {"properties": ["edit"]}}}});
    let mut client = support::start();
    let result = client.initialize(capabilities, Value::Null).await;
    assert_eq!(
        result["capabilities"]["codeActionProvider"]["resolveProvider"],
        true
    );
    let doc = uri("two.yaml");
    client.open(&doc, &two_workloads()).await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    let actions = client
        .code_actions(
            &doc,
            range(0, 0, 20, 0),
            &diagnostics,
            json!(["source.fixAll"]),
        )
        .await;
    assert_eq!(actions.len(), 1);
    let lazy = &actions[0];
    assert!(
        lazy.get("edit").is_none(),
        "the edit waits for resolve: {lazy:#?}"
    );
    assert!(!lazy["data"].is_null());
    let resolved = client
        .request_json("codeAction/resolve", lazy.clone())
        .await;
    assert_eq!(resolved["title"], lazy["title"]);
    assert_eq!(workspace_edit_for(&resolved["edit"], &doc).len(), 2);
    let version = client.apply_workspace_edit(&doc, &resolved["edit"]).await;
    assert!(client.wait_diagnostics(&doc, version).await.is_empty());
}

/// The projected token action: a quick fix, never the preferred one, whose
/// edit turns automounting off and mounts a short-lived token where the
/// automounted one was; after it, the diagnostic is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_projected_token_action_mounts_a_short_lived_token() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    let actions = client
        .code_actions(&doc, range(9, 4, 9, 8), &diagnostics, json!(["quickfix"]))
        .await;
    let projected = titled(
        &actions,
        "Mount a short-lived projected token instead of the automounted one",
    );
    assert_eq!(projected["kind"], "quickfix");
    assert_eq!(projected["isPreferred"], false);
    assert_eq!(projected["diagnostics"][0]["code"], "TG001");
    let version = client.apply_workspace_edit(&doc, &projected["edit"]).await;
    let text = client.text(&doc).to_string();
    assert!(
        text.contains("    spec:\n      automountServiceAccountToken: false\n      containers:\n"),
        "{text}"
    );
    assert!(
        text.contains("          image: nginx\n          volumeMounts:\n            - name: kube-api-access\n              mountPath: /var/run/secrets/kubernetes.io/serviceaccount\n              readOnly: true\n      volumes:\n        - name: kube-api-access\n          projected:\n            sources:\n              - serviceAccountToken:\n                  path: token\n                  expirationSeconds: 3600\n"),
        "{text}"
    );
    assert!(client.wait_diagnostics(&doc, version).await.is_empty());
}

/// A client that resolves edits gets the projected token action without its
/// edit, and the edit from `codeAction/resolve`; once the document has
/// changed, resolving the old action gives no edit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_projected_token_action_is_resolved_lazily() {
    let capabilities =
        json!({"textDocument": {"codeAction": {"resolveSupport": {"properties": ["edit"]}}}});
    let mut client = support::start();
    client.initialize(capabilities, Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    let actions = client
        .code_actions(&doc, range(9, 4, 9, 8), &diagnostics, json!(["quickfix"]))
        .await;
    let lazy = titled(&actions, "Mount a short-lived projected token").clone();
    assert!(lazy.get("edit").is_none(), "{lazy:#?}");
    let resolved = client
        .request_json("codeAction/resolve", lazy.clone())
        .await;
    assert_eq!(resolved["title"], lazy["title"]);
    assert_eq!(workspace_edit_uris(&resolved["edit"]), vec![doc.clone()]);
    let version = client.apply_workspace_edit(&doc, &resolved["edit"]).await;
    assert!(client.text(&doc).contains("- name: kube-api-access\n"));
    assert!(client.wait_diagnostics(&doc, version).await.is_empty());
    let stale = client.request_json("codeAction/resolve", lazy).await;
    assert!(stale.get("edit").is_none_or(Value::is_null), "{stale:#?}");
}

const BINDING: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: web-edit
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: edit
subjects:
- kind: ServiceAccount
  name: default
";

/// When the pod's account is bound to a role, the pod may use the API: the
/// insertion is no longer the preferred quick fix and its title says why,
/// fix-all leaves it out, and the ignore comment records the permissions it
/// accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_account_makes_the_fix_not_preferred_left_out_of_fix_all_and_recorded_by_the_ignore_comment(
) {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open(&uri("rbac.yaml"), BINDING).await;
    client.open(&doc, DEPLOYMENT).await;
    let diagnostics = client
        .wait_until(&doc, "the permissions known", |d| {
            d.len() == 1 && d[0]["message"].as_str().is_some_and(|m| m.contains("edit"))
        })
        .await;
    let actions = client
        .code_actions(&doc, range(9, 4, 9, 8), &diagnostics, json!(["quickfix"]))
        .await;
    assert!(
        actions.iter().all(|a| a["isPreferred"] == false),
        "{actions:#?}"
    );
    let fix = titled(
        &actions,
        "Add automountServiceAccountToken: false to the pod spec",
    );
    assert_eq!(
        fix["title"],
        "Add automountServiceAccountToken: false to the pod spec (ServiceAccount \"default\" is bound to ClusterRole \"edit\": the pod may use the API)"
    );
    // Fix-all (which editors run on save) leaves the fix out.
    let fix_all = client
        .code_actions(
            &doc,
            range(0, 0, 20, 0),
            &diagnostics,
            json!(["source.fixAll"]),
        )
        .await;
    assert!(fix_all.is_empty(), "{fix_all:#?}");
    let ignore = titled(&actions, "Ignore this finding");
    let version = client.apply_workspace_edit(&doc, &ignore["edit"]).await;
    let text = client.text(&doc).to_string();
    assert!(
        text.contains("    # tokenguard-ignore: needs the Kubernetes API (accepts: bound to ClusterRole \"edit\" by RoleBinding \"web-edit\""),
        "{text}"
    );
    assert!(client.wait_diagnostics(&doc, version).await.is_empty());
}
