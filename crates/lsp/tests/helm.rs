//! Helm chart templates in the language server: diagnostics on template
//! values with related information in the chart's values.yaml, quick fixes
//! that edit values.yaml, insertion outside `{{ with }}` blocks, re-judging
//! when values.yaml changes, and helper files left alone.

mod support;

use serde_json::{json, Value};

use support::{file_uri, range, workspace_edit_for, workspace_edit_uris, write, Dir, TestClient};

const CHART: &str = "apiVersion: v2\nname: shop\nversion: 0.1.0\n";

/// `api.automount` is line 1, columns 13-17.
const VALUES_ON: &str = "api:\n  automount: true\n";

/// The template's value is line 7, columns 36-63.
const API: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-api
spec:
  template:
    spec:
      automountServiceAccountToken: {{ .Values.api.automount }}
      containers:
        - name: api
          image: registry.example/api:1
";

/// The scaffold's shape: the pod spec's first key is inside a `with` block;
/// its `spec` key is line 6, columns 4-8.
const WORKER: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  template:
    spec:
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: worker
          image: registry.example/worker:1
";

/// A chart on disk with `values`, and a started client in its folder.
async fn chart(values: &str) -> (Dir, TestClient) {
    let root = Dir::new();
    root.write("Chart.yaml", CHART);
    root.write("values.yaml", values);
    root.write("templates/api.yaml", API);
    root.write("templates/worker.yaml", WORKER);
    let mut client = support::start();
    client
        .initialize_in(root.path(), json!({}), Value::Null)
        .await;
    (root, client)
}

fn preferred(actions: &[Value]) -> &Value {
    actions
        .iter()
        .find(|a| a["isPreferred"] == true)
        .unwrap_or_else(|| panic!("no preferred action among {actions:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_value_true_in_values_yaml_points_there_and_is_fixed_there() {
    let (root, mut client) = chart(VALUES_ON).await;
    let api = file_uri(&root.path().join("templates/api.yaml"));
    let values = file_uri(&root.path().join("values.yaml"));
    client.open(&api, API).await;
    let diagnostics = client.wait_diagnostics(&api, 1).await;
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let d = &diagnostics[0];
    assert_eq!(d["code"], "TG001");
    assert_eq!(d["range"], range(7, 36, 7, 63));
    assert_eq!(
        d["relatedInformation"],
        json!([{
            "location": {"uri": values, "range": range(1, 13, 1, 17)},
            "message": "api.automount is true here",
        }])
    );

    let actions = client
        .code_actions(&api, range(7, 40, 7, 40), &diagnostics, json!(["quickfix"]))
        .await;
    let fix = preferred(&actions);
    assert_eq!(fix["title"], "Set it to `false` in values.yaml");
    assert_eq!(workspace_edit_uris(&fix["edit"]), vec![values.clone()]);
    assert_eq!(
        workspace_edit_for(&fix["edit"], &values),
        vec![json!({"range": range(1, 13, 1, 17), "newText": "false"})]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_values_yaml_rejudges_the_open_template() {
    let (root, mut client) = chart(VALUES_ON).await;
    let api = file_uri(&root.path().join("templates/api.yaml"));
    let values = file_uri(&root.path().join("values.yaml"));
    client.open(&api, API).await;
    assert_eq!(client.wait_diagnostics(&api, 1).await.len(), 1);
    client.open(&values, VALUES_ON).await;
    client
        .change(&values, 2, range(1, 13, 1, 17), "false")
        .await;
    client
        .wait_until(&api, "compliant after values.yaml says false", |d| {
            d.is_empty()
        })
        .await;
    assert_eq!(
        client.version(&api),
        1,
        "the template itself was not touched"
    );
    client.change(&values, 3, range(1, 13, 1, 18), "true").await;
    client
        .wait_until(&api, "reported again", |d| d.len() == 1)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inserted_field_lands_outside_the_with_block() {
    let (root, mut client) = chart(VALUES_ON).await;
    let worker = file_uri(&root.path().join("templates/worker.yaml"));
    client.open(&worker, WORKER).await;
    let diagnostics = client.wait_diagnostics(&worker, 1).await;
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(diagnostics[0]["range"], range(6, 4, 6, 8));
    let actions = client
        .code_actions(
            &worker,
            range(6, 5, 6, 5),
            &diagnostics,
            json!(["quickfix"]),
        )
        .await;
    let fix = preferred(&actions);
    assert_eq!(
        workspace_edit_for(&fix["edit"], &worker),
        vec![json!({
            "range": range(7, 0, 7, 0),
            "newText": "      automountServiceAccountToken: false\n",
        })]
    );
    let version = client.apply_workspace_edit(&worker, &fix["edit"]).await;
    assert!(client.text(&worker).contains(
        "    spec:\n      automountServiceAccountToken: false\n      {{- with .Values.imagePullSecrets }}\n"
    ));
    assert!(client.wait_diagnostics(&worker, version).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helper_files_get_no_diagnostics() {
    let (root, mut client) = chart(VALUES_ON).await;
    let helpers = file_uri(&root.path().join("templates/_helpers.tpl"));
    // Not YAML at all: read as YAML this is a syntax error and a workload.
    let text = "{{- define \"shop.name\" -}}\nkind: Pod\nspec: {containers: []\n{{- end }}\n";
    client.open(&helpers, text).await;
    assert!(client.wait_diagnostics(&helpers, 1).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_values_yaml_changed_on_disk_rejudges_the_open_template() {
    let (root, mut client) = chart(VALUES_ON).await;
    let api = file_uri(&root.path().join("templates/api.yaml"));
    client.open(&api, API).await;
    assert_eq!(client.wait_diagnostics(&api, 1).await.len(), 1);
    let values = root.path().join("values.yaml");
    write(&values, "api:\n  automount: false\n");
    client
        .notify_json(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": file_uri(&values), "type": 2}]}),
        )
        .await;
    client
        .wait_until(&api, "compliant after values.yaml changed on disk", |d| {
            d.is_empty()
        })
        .await;
}
