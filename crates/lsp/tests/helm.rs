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

// ----- rendering where reading in place cannot decide ---------------------
//
// The server renders a chart with `helm template` when a template whose pod
// spec comes from an `include` is opened or saved. No helm binary installs
// here: the stand-in `tests/support/helm` of the repository answers
// `helm template` over the PyPI package helm-python-sdk (Helm's own
// rendering code), reached through the editor setting `helm.path`. Tests
// that render skip, saying so, without the package, and fail instead under
// TOKENGUARD_REQUIRE_ORACLES=1.

mod rendering {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use serde_json::{json, Value};

    use super::support::{file_uri, range, Dir, TestClient};

    const HELPERS: &str = "{{- define \"demo.pod\" -}}\n{{ toYaml .Values.pod }}\n{{- end }}\n";

    /// The pod spec starts in the template; the field comes from the helper,
    /// which reading in place does not see. The include is line 12,
    /// columns 6-45.
    const DEPLOY: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx
      # the helper's pod spec keys
      # follow
      {{- include \"demo.pod\" . | nindent 6 }}
";

    fn stand_in() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/support/helm")
    }

    fn helm_available(test: &str) -> bool {
        tokenguard_lsp_test_client::oracles::helm_python_available(test)
    }

    /// An executable `bin/helm` in `root` running `body` (a shell script).
    fn script(root: &Dir, body: &str) -> PathBuf {
        let path = root.write("bin/helm", &format!("#!/bin/sh\n{body}\n"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        path
    }

    /// A helm that logs each call to `root/helm.log`, then is the stand-in.
    fn logging_helm(root: &Dir) -> PathBuf {
        let log = root.join("helm.log");
        script(
            root,
            &format!(
                "echo \"$@\" >> '{}'\nexec '{}' \"$@\"",
                log.display(),
                stand_in().display()
            ),
        )
    }

    fn calls(root: &Dir) -> usize {
        std::fs::read_to_string(root.join("helm.log")).map_or(0, |t| t.lines().count())
    }

    /// values.yaml text that gives the pod spec's field the value `x`
    /// (the helper renders it with `toYaml`, which reading in place cannot
    /// evaluate).
    fn pod_values(x: &str) -> String {
        format!("pod:\n  automountServiceAccountToken: {x}\n")
    }

    /// A chart `demo` with `x`, and a client whose settings are `settings`.
    async fn chart(x: &str, settings: Value) -> (Dir, TestClient, String) {
        let root = Dir::new();
        root.write(
            "demo/Chart.yaml",
            "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
        );
        root.write("demo/values.yaml", &pod_values(x));
        root.write("demo/templates/_helpers.tpl", HELPERS);
        root.write("demo/templates/deployment.yaml", DEPLOY);
        let mut client = super::support::start();
        client.initialize_in(root.path(), json!({}), settings).await;
        let uri = file_uri(&root.join("demo/templates/deployment.yaml"));
        (root, client, uri)
    }

    fn messages(diagnostics: &[Value]) -> String {
        diagnostics
            .iter()
            .map(|d| d["message"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_helper_that_renders_false_is_clean_once_rendered() {
        if !helm_available("a_helper_that_renders_false_is_clean_once_rendered") {
            return;
        }
        let tools = Dir::new();
        let helm = logging_helm(&tools);
        let (_root, mut client, uri) = chart(
            "false",
            json!({"helm": {"path": helm.display().to_string()}}),
        )
        .await;
        client.open(&uri, DEPLOY).await;
        // In place first (the instant answer), then the rendered verdict.
        client
            .wait_until(&uri, "clean once rendered", |d| d.is_empty())
            .await;
        assert_eq!(calls(&tools), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_helper_that_renders_true_is_reported_at_the_include_line_and_rendering_follows_saves(
    ) {
        if !helm_available("a_helper_that_renders_true_is_reported_at_the_include_line") {
            return;
        }
        let tools = Dir::new();
        let helm = logging_helm(&tools);
        let (root, mut client, uri) = chart(
            "true",
            json!({"helm": {"path": helm.display().to_string()}}),
        )
        .await;
        let opened = std::time::Instant::now();
        client.open(&uri, DEPLOY).await;
        let diagnostics = client
            .wait_until(&uri, "the rendered verdict", |d| {
                messages(d).contains("helm template renders it with values.yaml")
            })
            .await;
        eprintln!(
            "open to rendered diagnostics: {} ms",
            opened.elapsed().as_millis()
        );
        assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
        assert_eq!(diagnostics[0]["range"], range(12, 6, 12, 45));
        assert!(messages(&diagnostics).contains("explicitly mounts"));
        assert_eq!(calls(&tools), 1, "one rendering on open");

        // Keystrokes: no rendering; the edited text is read in place and
        // says why.
        client.change(&uri, 2, range(3, 8, 3, 11), "webapp").await;
        let edited = client.wait_diagnostics(&uri, 2).await;
        assert!(
            messages(&edited).contains("the template changed since the chart was rendered"),
            "{edited:#?}"
        );
        client.change(&uri, 3, range(3, 8, 3, 14), "web").await;
        client.wait_diagnostics(&uri, 3).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(calls(&tools), 1, "no rendering on a keystroke");

        // A save renders again: the values now say false.
        root.write("demo/values.yaml", &pod_values("false"));
        client
            .notify_json(
                "textDocument/didSave",
                json!({"textDocument": {"uri": uri}}),
            )
            .await;
        client
            .wait_until(&uri, "clean after the save's rendering", |d| d.is_empty())
            .await;
        assert_eq!(calls(&tools), 2, "one rendering per save");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rendering_failure_is_a_warning_with_helms_message() {
        if !helm_available("a_rendering_failure_is_a_warning_with_helms_message") {
            return;
        }
        let (root, mut client, uri) = chart(
            "true",
            json!({"helm": {"path": stand_in().display().to_string()}}),
        )
        .await;
        root.write(
            "demo/templates/broken.yaml",
            "{{ fail \"x must be set by the operator\" }}\n",
        );
        client.open(&uri, DEPLOY).await;
        let shown = client
            .wait_message("window/showMessage", |m| {
                m["params"]["message"]
                    .as_str()
                    .is_some_and(|t| t.contains("x must be set by the operator"))
            })
            .await;
        assert_eq!(shown["params"]["type"], 2, "a warning: {shown}");
        client
            .wait_until(&uri, "in place, saying the rendering failed", |d| {
                messages(d).contains("but it was not rendered (helm template failed:")
            })
            .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_server_never_runs_the_helm_a_project_file_names() {
        // The repository names a program of its own as helm; the editor has
        // none configured and none on PATH: opening a template runs nothing.
        let root = Dir::new();
        root.write(
            "demo/Chart.yaml",
            "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
        );
        root.write("demo/values.yaml", &pod_values("false"));
        root.write("demo/templates/_helpers.tpl", HELPERS);
        root.write("demo/templates/deployment.yaml", DEPLOY);
        let planted = script(
            &root,
            &format!("echo ran >> '{}'", root.join("helm.log").display()),
        );
        root.write(
            "tokenguard.toml",
            &format!("[helm]\npath = \"{}\"\n", planted.display()),
        );
        let mut client = super::support::start();
        client
            .initialize_in(
                root.path(),
                json!({}),
                json!({"helm": {"path": "/nonexistent/bin/helm"}}),
            )
            .await;
        let uri = file_uri(&root.join("demo/templates/deployment.yaml"));
        client.open(&uri, DEPLOY).await;
        let diagnostics = client.wait_diagnostics(&uri, 1).await;
        assert!(
            messages(&diagnostics).contains("/nonexistent/bin/helm"),
            "the editor's setting, not the project's: {diagnostics:?}"
        );
        client
            .notify_json(
                "textDocument/didSave",
                json!({"textDocument": {"uri": uri}}),
            )
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(calls(&root), 0, "the project's helm.path ran");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn without_helm_the_template_is_read_in_place_and_says_what_was_not_evaluated() {
        let (_root, mut client, uri) =
            chart("false", json!({"helm": {"path": "/nonexistent/bin/helm"}})).await;
        client.open(&uri, DEPLOY).await;
        let diagnostics = client.wait_diagnostics(&uri, 1).await;
        assert_eq!(diagnostics.len(), 1, "today's in-place finding");
        let message = messages(&diagnostics);
        assert!(
            message.contains("Not evaluated: the pod spec also gets keys from helper \"demo.pod\"")
                && message.contains("but it was not rendered (the configured helm /nonexistent/bin/helm is not an executable file)"),
            "{message}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_render_setting_off_never_runs_helm() {
        let tools = Dir::new();
        let ran = tools.join("ran");
        let helm = script(&tools, &format!("touch '{}'", ran.display()));
        let (_root, mut client, uri) = chart(
            "true",
            json!({"helm": {"render": false, "path": helm.display().to_string()}}),
        )
        .await;
        client.open(&uri, DEPLOY).await;
        let diagnostics = client.wait_diagnostics(&uri, 1).await;
        assert!(
            messages(&diagnostics).contains("rendering is off in this editor"),
            "{diagnostics:#?}"
        );
        client
            .notify_json(
                "textDocument/didSave",
                json!({"textDocument": {"uri": uri}}),
            )
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!ran.exists(), "helm ran with the setting off");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_helm_that_hangs_is_stopped_at_the_timeout() {
        let tools = Dir::new();
        let helm = script(&tools, "sleep 60");
        let root = Dir::new();
        root.write("tokenguard.toml", "[helm]\ntimeout_seconds = 1\n");
        root.write(
            "demo/Chart.yaml",
            "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
        );
        root.write("demo/values.yaml", &pod_values("true"));
        root.write("demo/templates/_helpers.tpl", HELPERS);
        root.write("demo/templates/deployment.yaml", DEPLOY);
        let uri = file_uri(&root.join("demo/templates/deployment.yaml"));
        let mut client = super::support::start();
        client
            .initialize_in(
                root.path(),
                json!({}),
                json!({"helm": {"path": helm.display().to_string()}}),
            )
            .await;
        let started = std::time::Instant::now();
        client.open(&uri, DEPLOY).await;
        let shown = client
            .wait_message("window/showMessage", |m| {
                m["params"]["message"]
                    .as_str()
                    .is_some_and(|t| t.contains("did not finish within 1 s"))
            })
            .await;
        assert!(started.elapsed() < Duration::from_secs(10), "{shown}");
        client
            .wait_until(&uri, "in place after the timeout", |d| {
                messages(d).contains("did not finish within 1 s")
            })
            .await;
    }
}
