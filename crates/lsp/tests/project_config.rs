//! The project configuration file (`tokenguard.toml`) in the language
//! server: read at start from the workspace folder (or above it), reloaded
//! when a watched change names it, reported on the file itself when
//! malformed; and the workload kinds beyond the core ones.

mod support;

use serde_json::{json, Value};

use support::{file_uri, write, Dir, TestClient};

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n";
const ROLLOUT: &str = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: canary\nspec:\n  template:\n    spec:\n      containers: []\n";
const WIDGET: &str = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  pod:\n    containers: []\n";

const ERROR: i64 = 1;
const WARNING: i64 = 2;
const HINT: i64 = 4;

fn watching() -> Value {
    json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}})
}

fn severities(diagnostics: &[Value]) -> Vec<i64> {
    diagnostics
        .iter()
        .map(|d| d["severity"].as_i64().unwrap())
        .collect()
}

async fn changed(client: &TestClient, uri: &str) {
    client
        .notify_json(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": uri, "type": 2}]}),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configuration_at_the_workspace_root_applies_from_the_start() {
    let root = Dir::new();
    write(
        &root.path().join("tokenguard.toml"),
        "severity = \"error\"\nexclude = [\"generated/**\"]\n",
    );
    let mut client = support::start();
    client
        .initialize_in(root.path(), json!({}), Value::Null)
        .await;
    let pod = file_uri(&root.path().join("k8s/pod.yaml"));
    client.open(&pod, POD).await;
    assert_eq!(severities(&client.wait_diagnostics(&pod, 1).await), [ERROR]);
    let generated = file_uri(&root.path().join("generated/pod.yaml"));
    client.open(&generated, POD).await;
    assert!(
        client.wait_diagnostics(&generated, 1).await.is_empty(),
        "excluded by the project file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_above_the_workspace_folder_is_found_and_beats_the_editor_setting() {
    let above = Dir::new();
    write(
        &above.path().join(".tokenguard.toml"),
        "severity = \"hint\"\n",
    );
    let root = above.path().join("repo");
    std::fs::create_dir_all(&root).unwrap();
    let mut client = support::start();
    client
        .initialize_in(&root, json!({}), json!({"severity": "error"}))
        .await;
    let pod = file_uri(&root.join("pod.yaml"));
    client.open(&pod, POD).await;
    assert_eq!(severities(&client.wait_diagnostics(&pod, 1).await), [HINT]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_change_of_the_configuration_reloads_it_and_republishes_open_documents() {
    let root = Dir::new();
    let config = root.path().join("tokenguard.toml");
    write(&config, "severity = \"error\"\n");
    let mut client = support::start();
    client
        .initialize_in(root.path(), watching(), Value::Null)
        .await;
    let registration = client
        .wait_message("client/registerCapability", |_| true)
        .await;
    let watchers = &registration["params"]["registrations"][0]["registerOptions"]["watchers"];
    let patterns: Vec<&str> = watchers
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["globPattern"].as_str().unwrap())
        .collect();
    assert!(
        patterns.contains(&"**/tokenguard.toml") && patterns.contains(&"**/.tokenguard.toml"),
        "{patterns:?}"
    );

    let pod = file_uri(&root.path().join("pod.yaml"));
    let widget = file_uri(&root.path().join("widget.yaml"));
    client.open(&pod, POD).await;
    client.open(&widget, WIDGET).await;
    assert_eq!(severities(&client.wait_diagnostics(&pod, 1).await), [ERROR]);
    assert!(client.wait_diagnostics(&widget, 1).await.is_empty());

    write(
        &config,
        "severity = \"hint\"\n[[workloads]]\ngroup = \"example.com\"\nkind = \"Widget\"\npod_spec = \"spec.pod\"\n[[ignore]]\nobject = \"Pod/*/web\"\nreason = \"needs the API\"\n",
    );
    changed(&client, &file_uri(&config)).await;
    client
        .wait_until(&pod, "the pod ignored by the new configuration", |d| {
            d.is_empty()
        })
        .await;
    let found = client
        .wait_until(&widget, "the widget judged as a configured kind", |d| {
            !d.is_empty()
        })
        .await;
    assert_eq!(severities(&found), [HINT]);
    assert_eq!(
        found[0]["range"]["start"],
        json!({"line": 5, "character": 2})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_configuration_is_a_diagnostic_on_the_file_and_the_defaults_stay() {
    let root = Dir::new();
    let config = root.path().join("tokenguard.toml");
    let config_uri = file_uri(&config);
    write(&config, "severity = \"error\"\n\nsyntax_error = false\n");
    let mut client = support::start();
    client
        .initialize_in(root.path(), watching(), Value::Null)
        .await;
    let problem = client
        .wait_until(&config_uri, "the configuration's error", |d| !d.is_empty())
        .await;
    assert_eq!(problem.len(), 1);
    assert_eq!(problem[0]["severity"], ERROR);
    assert_eq!(
        problem[0]["range"],
        json!({"start": {"line": 2, "character": 0}, "end": {"line": 2, "character": 12}})
    );
    let message = problem[0]["message"].as_str().unwrap();
    assert!(
        message.contains("unknown field `syntax_error`"),
        "{message}"
    );
    assert!(message.contains("defaults are in force"), "{message}");

    let pod = file_uri(&root.path().join("pod.yaml"));
    client.open(&pod, POD).await;
    assert_eq!(
        severities(&client.wait_diagnostics(&pod, 1).await),
        [WARNING],
        "the file's severity is not used"
    );

    // Fixed: the diagnostic on the file goes, and the file applies.
    write(&config, "severity = \"error\"\n\nsyntax_errors = false\n");
    changed(&client, &config_uri).await;
    client
        .wait_until(&config_uri, "the error cleared", |d| d.is_empty())
        .await;
    client
        .wait_until(&pod, "the configured severity", |d| {
            severities(d) == [ERROR]
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollouts_get_a_diagnostic_without_any_configuration() {
    let root = Dir::new();
    let mut client = support::start();
    client
        .initialize_in(root.path(), json!({}), Value::Null)
        .await;
    let rollout = file_uri(&root.path().join("rollout.yaml"));
    client.open(&rollout, ROLLOUT).await;
    let found = client.wait_diagnostics(&rollout, 1).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0]["range"]["start"],
        json!({"line": 6, "character": 4})
    );
    assert!(found[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("Rollout \"canary\""));
    let other_group = file_uri(&root.path().join("other.yaml"));
    client
        .open(&other_group, &ROLLOUT.replace("argoproj.io", "example.com"))
        .await;
    assert!(client.wait_diagnostics(&other_group, 1).await.is_empty());
}
