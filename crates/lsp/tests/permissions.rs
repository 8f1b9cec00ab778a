//! What the mounted token can do, in the editor (issue 14): the diagnostic
//! of a pod whose account is bound to cluster-admin is an error that names
//! the binding (message, related information, `data.risk`), follows the
//! bindings as they are edited, takes its severity from
//! `tokenguard.severityByRisk`, and the hover says what the token can do.
//! Through the test client, in process.

mod support;

use serde_json::{json, Value};

use support::*;

/// A ClusterRoleBinding of ServiceAccount `ci` (namespace `build`) to the
/// built-in `cluster-admin`. Its name `ci-admin` is line 3, columns 8-16;
/// the role's name is line 7, columns 8-21.
const BINDING: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ci-admin
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
  - kind: ServiceAccount
    name: ci
    namespace: build
";

/// A Pod running as `ci` in `build`; its `spec` key is line 5, columns 0-4.
const POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: runner
  namespace: build
spec:
  serviceAccountName: ci
  containers: []
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_admin_token_is_an_error_that_names_its_binding() {
    let mut client = started(json!({}), Value::Null).await;
    let rbac = uri("rbac.yaml");
    let pod = uri("apps/pod.yaml");
    client.open(&rbac, BINDING).await;
    client.open(&pod, POD).await;
    let diagnostics = client
        .wait_until(&pod, "the binding counted", |d| {
            d.first().is_some_and(|d| d["severity"] == ERROR)
        })
        .await;
    let d = &diagnostics[0];
    assert_eq!(d["code"], "TG001");
    assert_eq!(d["data"]["risk"], "cluster-admin");
    let message = d["message"].as_str().unwrap();
    assert!(
        message.ends_with(
            "ServiceAccount \"ci\" (namespace \"build\") is bound to the built-in ClusterRole \
             \"cluster-admin\" by ClusterRoleBinding \"ci-admin\" (../rbac.yaml:4): whoever \
             takes over this pod controls the cluster."
        ),
        "{message}"
    );
    assert_eq!(
        d["relatedInformation"],
        json!([{
            "location": {"uri": rbac, "range": range(3, 8, 3, 16)},
            "message": "ClusterRoleBinding \"ci-admin\" binds ServiceAccount \"ci\" (namespace \"build\") to ClusterRole \"cluster-admin\"",
        }])
    );

    // The hover says what the token can do.
    let hover = client.hover(&pod, 5, 1).await;
    let markdown = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        markdown.contains("**What the token can do** (risk `cluster-admin`)"),
        "{hover}"
    );

    // Binding the account to `view` instead: a warning, risk `bound`.
    client.change(&rbac, 2, range(7, 8, 7, 21), "view").await;
    let diagnostics = client
        .wait_until(&pod, "re-published after the binding changed", |d| {
            d.first().is_some_and(|d| d["severity"] == WARNING)
        })
        .await;
    assert_eq!(diagnostics[0]["data"]["risk"], "bound");
    assert_eq!(client.version(&pod), 1, "the pod was not touched");

    // No binding at all: discovery only, and no related information.
    client.change(&rbac, 3, range(0, 0, 12, 0), "").await;
    let diagnostics = client
        .wait_until(&pod, "re-published without the binding", |d| {
            d.first()
                .is_some_and(|d| d["data"]["risk"] == "discovery-only")
        })
        .await;
    assert_eq!(diagnostics[0]["severity"], WARNING);
    assert!(diagnostics[0]["relatedInformation"].is_null());
    assert!(diagnostics[0]["message"].as_str().unwrap().ends_with(
        "its token carries only the API's discovery permissions, unless bindings live elsewhere."
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn severity_by_risk_comes_from_the_editor_settings() {
    let mut client = started(
        json!({}),
        json!({"severity": "hint", "severityByRisk": {"cluster-admin": "information", "bound": "default"}}),
    )
    .await;
    let rbac = uri("rbac.yaml");
    let pod = uri("apps/pod.yaml");
    let lone = uri("apps/lone.yaml");
    client.open(&rbac, BINDING).await;
    client.open(&pod, POD).await;
    client
        .wait_until(&pod, "the editor's entry for cluster-admin", |d| {
            d.first().is_some_and(|d| d["severity"] == 3)
        })
        .await;
    // Another account: discovery only, the plain severity.
    client
        .open(
            &lone,
            &POD.replace("serviceAccountName: ci", "serviceAccountName: other"),
        )
        .await;
    let diagnostics = client.wait_diagnostics(&lone, 1).await;
    assert_eq!(diagnostics[0]["data"]["risk"], "discovery-only");
    assert_eq!(diagnostics[0]["severity"], 4);
}

/// A Pod in `prod` running as `ci`, the RoleBinding of `ci` to Role
/// `reader` (its name `ci-reads` is line 12, columns 8-16) and the Role,
/// all in one file that is not on disk.
const BOUND_IN_ONE_FILE: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: a
  namespace: prod
spec:
  serviceAccountName: ci
  containers: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: ci-reads
  namespace: prod
roleRef:
  kind: Role
  name: reader
subjects:
- kind: ServiceAccount
  name: ci
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
  namespace: prod
rules:
- apiGroups: [\"\"]
  resources: [secrets]
  verbs: [get]
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_files_own_bindings_count_in_the_revision_that_holds_them() {
    // Each revision's diagnostic names the binding where that revision has
    // it: the file's own roles and bindings reach the index before its
    // findings are finished (they once lagged a revision behind).
    let mut client = started(json!({}), Value::Null).await;
    let doc = "file:///tmp/tokenguard-bound/a.yaml";
    client.open(doc, BOUND_IN_ONE_FILE).await;
    let first = client.wait_diagnostics(doc, 1).await;
    assert_eq!(
        first[0]["relatedInformation"][0]["location"]["range"],
        range(12, 8, 12, 16),
        "{first:#?}"
    );
    client.change(doc, 2, range(0, 0, 0, 0), "# x\n").await;
    let second = client.wait_diagnostics(doc, 2).await;
    assert_eq!(
        second[0]["relatedInformation"][0]["location"]["range"],
        range(13, 8, 13, 16),
        "{second:#?}"
    );
    // The same as a fresh open of that text (the edited buffer closed
    // first: its binding would count twice).
    let text = client.text(doc).to_string();
    client.close(doc).await;
    let fresh_doc = "file:///tmp/tokenguard-bound-fresh/a.yaml";
    client.open(fresh_doc, &text).await;
    let fresh = client.wait_diagnostics(fresh_doc, 1).await;
    assert_eq!(second[0]["message"], fresh[0]["message"]);
    assert_eq!(
        second[0]["relatedInformation"][0]["location"]["range"],
        fresh[0]["relatedInformation"][0]["location"]["range"]
    );
}

/// What a diagnostic says and where, and where its related places are
/// (not which file: the fresh copy is another).
fn said(diagnostics: &[Value]) -> Vec<Value> {
    diagnostics
        .iter()
        .map(|d| {
            let related: Vec<Value> = d["relatedInformation"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| json!([r["location"]["range"], r["message"]]))
                .collect();
            json!([d["range"], d["message"], d["severity"], related])
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_before_a_files_own_bindings_moves_them_as_a_fresh_open_reads_them() {
    // Keystrokes at line ends (blanks, comments, new lines) before, between
    // and after the pods and the bindings they name: the host moves the
    // file's roles and bindings and the lines they are on (it does not read
    // them again). After each round, the diagnostics equal those of the
    // same text opened afresh. (Typing in the roles and bindings reads
    // them again: that is typed nowhere here, so that a round moves them
    // only.)
    let config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n";
    let second_pod = BOUND_IN_ONE_FILE
        .split("---\n")
        .next()
        .unwrap()
        .replace("name: a\n", "name: b\n");
    let mut text = [config, BOUND_IN_ONE_FILE, config, &second_pod].join("---\n");
    let mut client = started(json!({}), Value::Null).await;
    let doc = "file:///tmp/tokenguard-typing/a.yaml";
    let fresh_doc = "file:///tmp/tokenguard-typing-fresh/a.yaml";
    let mut seed: u64 = 7;
    for round in 0..4 {
        client.open(doc, &text).await;
        client.wait_diagnostics(doc, 1).await;
        let mut edited = Vec::new();
        for version in 2..14 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let current = client.text(doc).to_string();
            let lines: Vec<&str> = current.split('\n').collect();
            // Lines of the other documents only (those of the roles and
            // bindings are read again), and no marker line.
            let mut kinds = Vec::new();
            let mut kind = "";
            for (i, line) in lines.iter().enumerate() {
                if line.starts_with("---") {
                    kind = "";
                } else if kind.is_empty() {
                    kind = lines[i..]
                        .iter()
                        .take_while(|l| !l.starts_with("---"))
                        .find_map(|l| l.strip_prefix("kind: "))
                        .unwrap_or("none");
                }
                kinds.push(kind);
            }
            let typed: Vec<usize> = (0..lines.len() - 1)
                .filter(|&i| matches!(kinds[i], "ConfigMap" | "Pod"))
                .collect();
            let line = typed[(seed >> 33) as usize % typed.len()];
            let insert = [" ", "\n", "  # c", "\n\n"][(seed >> 20) as usize % 4];
            let end = lines[line].len() as u32;
            client
                .change(
                    doc,
                    version,
                    range(line as u32, end, line as u32, end),
                    insert,
                )
                .await;
            edited = client.wait_diagnostics(doc, version).await;
        }
        text = client.text(doc).to_string();
        client.close(doc).await;
        client.open(fresh_doc, &text).await;
        let fresh = client.wait_diagnostics(fresh_doc, 1).await;
        assert_eq!(fresh.len(), 2, "{fresh:#?}");
        assert_eq!(said(&edited), said(&fresh), "round {round}:\n{text}");
        client.close(fresh_doc).await;
    }
}
