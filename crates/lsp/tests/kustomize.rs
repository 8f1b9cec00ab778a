//! Kustomize in the editor: patch files, base workloads patched by the
//! overlays of the workspace folder, and re-publishing when a patch or a
//! kustomization changes.

mod support;

use std::path::Path;

use serde_json::{json, Value};

use support::{file_uri, find_range, write, Dir, TestClient};

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: registry.example/api:1
";

const TOKEN_PATCH: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      automountServiceAccountToken: false
";

/// A partial Deployment: judged alone it lacks the field.
const RESOURCES_PATCH: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          resources: {limits: {memory: 256Mi}}
";

const PARTIAL_MESSAGE: &str =
    "overlays/prod sets automountServiceAccountToken: false through a patch, overlays/dev does not.";

fn overlay(patches: &[&str]) -> String {
    let mut text = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\n".to_string();
    if !patches.is_empty() {
        text.push_str("patchesStrategicMerge:\n");
        for patch in patches {
            text.push_str(&format!("  - {patch}\n"));
        }
    }
    text
}

/// base/ with the Deployment; overlays/prod patching it to false; and, when
/// `dev_patches` is given, overlays/dev applying those patches.
fn workspace(dev_patches: Option<&[&str]>) -> Dir {
    let root = Dir::new();
    let at = |p: &str| root.path().join(p);
    write(&at("base/deployment.yaml"), DEPLOYMENT);
    write(
        &at("base/kustomization.yaml"),
        "resources:\n  - deployment.yaml\n",
    );
    write(
        &at("overlays/prod/kustomization.yaml"),
        &overlay(&["token.yaml"]),
    );
    write(&at("overlays/prod/token.yaml"), TOKEN_PATCH);
    if let Some(patches) = dev_patches {
        write(&at("overlays/dev/kustomization.yaml"), &overlay(patches));
        write(&at("overlays/dev/resources.yaml"), RESOURCES_PATCH);
        write(&at("overlays/dev/token.yaml"), TOKEN_PATCH);
    }
    root
}

/// Starts a session in `root` and waits until the workspace is indexed.
async fn indexed(root: &Path, capabilities: Value) -> TestClient {
    let mut client = support::start();
    let mut capabilities = capabilities;
    capabilities["window"] = json!({"workDoneProgress": true});
    client.initialize_in(root, capabilities, Value::Null).await;
    client
        .wait_message("$/progress", |m| m["params"]["value"]["kind"] == "end")
        .await;
    client
}

fn codes(diagnostics: &[Value]) -> Vec<&str> {
    diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_file_gets_no_tg001_and_the_same_text_elsewhere_does() {
    let root = workspace(Some(&["resources.yaml"]));
    let mut client = indexed(root.path(), json!({})).await;
    let patch = file_uri(&root.path().join("overlays/dev/resources.yaml"));
    client.open(&patch, RESOURCES_PATCH).await;
    assert_eq!(
        client.wait_diagnostics(&patch, 1).await,
        Vec::<Value>::new()
    );
    let elsewhere = file_uri(&root.path().join("overlays/dev/not-a-patch.yaml"));
    client.open(&elsewhere, RESOURCES_PATCH).await;
    assert_eq!(
        codes(&client.wait_diagnostics(&elsewhere, 1).await),
        ["TG001"]
    );
    // A syntax error in a patch is still reported.
    let broken = "apiVersion: apps/v1\nkind: Deployment\nspec: [\n";
    client
        .change(
            &patch,
            2,
            find_range(RESOURCES_PATCH, RESOURCES_PATCH, 0, client.encoding),
            broken,
        )
        .await;
    assert_eq!(codes(&client.wait_diagnostics(&patch, 2).await), ["TG000"]);
    // The kustomization itself is not a workload, nor a syntax error.
    let kustomization = file_uri(&root.path().join("overlays/dev/kustomization.yaml"));
    client
        .open(&kustomization, &overlay(&["resources.yaml"]))
        .await;
    assert_eq!(
        client.wait_diagnostics(&kustomization, 1).await,
        Vec::<Value>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_patched_by_some_overlays_says_which_and_by_all_has_no_diagnostic() {
    let some = workspace(Some(&["resources.yaml"]));
    let mut client = indexed(some.path(), json!({})).await;
    let base = file_uri(&some.path().join("base/deployment.yaml"));
    client.open(&base, DEPLOYMENT).await;
    let diagnostics = client.wait_diagnostics(&base, 1).await;
    assert_eq!(codes(&diagnostics), ["TG001"]);
    let message = diagnostics[0]["message"].as_str().unwrap();
    assert!(message.contains(PARTIAL_MESSAGE), "{message}");

    let all = workspace(Some(&["token.yaml"]));
    let mut client = indexed(all.path(), json!({})).await;
    let base = file_uri(&all.path().join("base/deployment.yaml"));
    client.open(&base, DEPLOYMENT).await;
    assert_eq!(client.wait_diagnostics(&base, 1).await, Vec::<Value>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_a_patch_or_a_kustomization_buffer_republishes_the_base() {
    let root = workspace(None);
    let mut client = indexed(root.path(), json!({})).await;
    let base = file_uri(&root.path().join("base/deployment.yaml"));
    client.open(&base, DEPLOYMENT).await;
    assert_eq!(client.wait_diagnostics(&base, 1).await, Vec::<Value>::new());

    let patch = file_uri(&root.path().join("overlays/prod/token.yaml"));
    client.open(&patch, TOKEN_PATCH).await;
    assert_eq!(
        client.wait_diagnostics(&patch, 1).await,
        Vec::<Value>::new()
    );
    let value = find_range(TOKEN_PATCH, "false", 0, client.encoding);
    client.change(&patch, 2, value, "true").await;
    let diagnostics = client
        .wait_until(&base, "a finding once the patch sets true", |d| {
            d.len() == 1
        })
        .await;
    assert_eq!(codes(&diagnostics), ["TG001"]);
    assert_eq!(
        client.wait_diagnostics(&patch, 2).await,
        Vec::<Value>::new(),
        "a patch setting true is not itself reported"
    );
    let value = find_range(client.text(&patch), "true", 0, client.encoding);
    client.change(&patch, 3, value, "false").await;
    client
        .wait_until(&base, "compliant again", |d| d.is_empty())
        .await;

    // The overlay's kustomization stops applying the patch.
    let kustomization = file_uri(&root.path().join("overlays/prod/kustomization.yaml"));
    let text = overlay(&["token.yaml"]);
    client.open(&kustomization, &text).await;
    let list = find_range(
        &text,
        "patchesStrategicMerge:\n  - token.yaml\n",
        0,
        client.encoding,
    );
    client.change(&kustomization, 2, list, "").await;
    client
        .wait_until(&base, "a finding once no overlay patches", |d| d.len() == 1)
        .await;
    // Closing the buffer: the disk (which still patches) speaks again.
    client.close(&kustomization).await;
    client
        .wait_until(&base, "compliant with the disk's kustomization", |d| {
            d.is_empty()
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overlay_written_on_disk_is_seen_through_watched_files() {
    let root = workspace(None);
    let capabilities =
        json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    let mut client = indexed(root.path(), capabilities).await;
    let registration = client
        .wait_message("client/registerCapability", |_| true)
        .await;
    let watchers = &registration["params"]["registrations"][0]["registerOptions"]["watchers"];
    assert_eq!(watchers[1]["globPattern"], "**/Kustomization");
    let base = file_uri(&root.path().join("base/deployment.yaml"));
    client.open(&base, DEPLOYMENT).await;
    assert_eq!(client.wait_diagnostics(&base, 1).await, Vec::<Value>::new());

    let dev = root.path().join("overlays/dev/Kustomization");
    write(&dev, &overlay(&[]));
    client
        .notify_json(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": file_uri(&dev), "type": 1}]}),
        )
        .await;
    let diagnostics = client
        .wait_until(&base, "a finding naming the overlays", |d| d.len() == 1)
        .await;
    let message = diagnostics[0]["message"].as_str().unwrap();
    assert!(message.contains(PARTIAL_MESSAGE), "{message}");
}
