//! Rendering where reading in place cannot decide, from the command line:
//! a chart whose pod spec comes from an `include` is rendered with
//! `helm template` and judged on the rendered objects. No helm binary
//! installs here: `tests/support/helm` stands one up over the PyPI package
//! helm-python-sdk (Helm's own rendering code). Tests that need it skip,
//! saying so, when the package is missing, and fail instead when
//! `TOKENGUARD_REQUIRE_ORACLES=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The folder holding the stand-in `helm`.
fn support() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support")
}

/// Whether the stand-in can render; else skips (or fails under
/// `TOKENGUARD_REQUIRE_ORACLES=1`).
fn helm_available(test: &str) -> bool {
    tokenguard_lsp_test_client::oracles::helm_python_available(test)
}

/// A PATH holding the stand-in helm first, then the system's (for python3).
fn path_with_helm() -> String {
    let system = std::env::var("PATH").unwrap_or_default();
    format!("{}:{system}", support().display())
}

const HELPERS: &str = r#"{{- define "demo.pod" -}}
{{ toYaml .Values.pod }}
{{- end }}
{{- define "demo.labels" -}}
app: demo
{{- end }}
"#;

/// The pod spec starts in the template, and the helper renders values as
/// YAML (`toYaml`): reading in place cannot tell whether it sets the field.
const DEPLOY: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    {{- include "demo.labels" . | nindent 4 }}
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx
      {{- include "demo.pod" . | nindent 6 }}
"#;

/// A chart `demo` in a new folder, values.yaml giving the field the value `x`.
fn chart(x: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    common::write(
        root,
        "demo/Chart.yaml",
        "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
    );
    common::write(root, "demo/values.yaml", &pod_values(x));
    common::write(root, "demo/templates/_helpers.tpl", HELPERS);
    common::write(root, "demo/templates/deployment.yaml", DEPLOY);
    dir
}

/// values.yaml text that gives the pod spec's field the value `x`.
fn pod_values(x: &str) -> String {
    format!("pod:\n  automountServiceAccountToken: {x}\n")
}

/// `tokenguard check <args>` in `dir` with this PATH and environment,
/// temporary folders under `dir/tmp`.
fn run(dir: &Path, path: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp");
    let mut command = Command::new(env!("CARGO_BIN_EXE_tokenguard"));
    command
        .arg("check")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PATH", path)
        .env("TMPDIR", &tmp)
        .stdin(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("tokenguard runs")
}

fn json(output: &Output) -> Vec<Value> {
    serde_json::from_slice::<Value>(&output.stdout)
        .unwrap_or_else(|e| {
            panic!(
                "{e}: {}\n{}",
                String::from_utf8_lossy(&output.stdout),
                common::stderr(output)
            )
        })
        .as_array()
        .cloned()
        .expect("an array")
}

/// No temporary copy is left behind.
fn assert_cleaned(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir.join("tmp"))
        .expect("tmp")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "temporary copies left: {left:?}");
}

#[test]
fn a_helper_that_renders_false_is_clean_where_reading_in_place_reports() {
    if !helm_available("a_helper_that_renders_false_is_clean_where_reading_in_place_reports") {
        return;
    }
    let dir = chart("false");
    // In place: the field is not seen.
    let in_place = run(
        dir.path(),
        &path_with_helm(),
        &[],
        &["--no-render", "--format", "json", "demo"],
    );
    let findings = json(&in_place);
    assert_eq!(findings.len(), 1, "{findings:?}");
    // Rendered: false, clean.
    let rendered = run(
        dir.path(),
        &path_with_helm(),
        &[],
        &["--format", "json", "demo"],
    );
    assert_eq!(
        rendered.status.code(),
        Some(0),
        "{}",
        common::stderr(&rendered)
    );
    assert!(json(&rendered).is_empty());
    assert_cleaned(dir.path());
}

#[test]
fn a_helper_that_renders_true_is_reported_at_the_include_line() {
    if !helm_available("a_helper_that_renders_true_is_reported_at_the_include_line") {
        return;
    }
    let dir = chart("true");
    let output = run(
        dir.path(),
        &path_with_helm(),
        &[],
        &["--format", "json", "demo"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", common::stderr(&output));
    let findings = json(&output);
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f["file"], "demo/templates/deployment.yaml");
    assert_eq!(f["line"], 13, "the include line: {f}");
    assert_eq!(f["column"], 7);
    let message = f["message"].as_str().unwrap_or_default();
    assert!(message.contains("explicitly mounts"), "{message}");
    assert!(
        message.contains("helm template renders it with values.yaml"),
        "{message}"
    );
    assert!(f["fix"].is_null(), "no fix for a rendered finding: {f}");
    // Values files from tokenguard.toml, named in the message.
    common::write(dir.path(), "demo/values-ci.yaml", &pod_values("false"));
    common::write(
        dir.path(),
        "tokenguard.toml",
        "[helm.charts.\"demo\"]\nvalues = [\"values.yaml\", \"values-ci.yaml\"]\n",
    );
    let ci = run(
        dir.path(),
        &path_with_helm(),
        &[],
        &["--format", "json", "demo"],
    );
    assert!(json(&ci).is_empty(), "{}", common::stderr(&ci));
    common::write(dir.path(), "demo/values-ci.yaml", &pod_values("yes"));
    let ci = run(
        dir.path(),
        &path_with_helm(),
        &[],
        &["--format", "json", "demo"],
    );
    let findings = json(&ci);
    assert_eq!(findings.len(), 1, "{}", common::stderr(&ci));
    assert!(findings[0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("with values.yaml, values-ci.yaml"));
    assert_cleaned(dir.path());
}

#[test]
fn a_configured_helm_path_is_used_without_path() {
    if !helm_available("a_configured_helm_path_is_used_without_path") {
        return;
    }
    let dir = chart("true");
    let helm = support().join("helm");
    common::write(
        dir.path(),
        "tokenguard.toml",
        &format!("[helm]\npath = \"{}\"\n", helm.display()),
    );
    // python3 must still be found by the stand-in's `#!/usr/bin/env`.
    let python_only = Command::new("python3")
        .args([
            "-c",
            "import sys, os; print(os.path.dirname(sys.executable))",
        ])
        .output()
        .expect("python3");
    let python_dir = String::from_utf8_lossy(&python_only.stdout)
        .trim()
        .to_string();
    let output = run(dir.path(), &python_dir, &[], &["--format", "json", "demo"]);
    let findings = json(&output);
    assert_eq!(findings.len(), 1, "{}", common::stderr(&output));
    assert!(findings[0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("renders it with values.yaml"));
}

#[test]
fn a_rendering_failure_is_a_warning_with_helms_message() {
    if !helm_available("a_rendering_failure_is_a_warning_with_helms_message") {
        return;
    }
    let dir = chart("false");
    common::write(
        dir.path(),
        "demo/templates/broken.yaml",
        "{{ fail \"x must be set by the operator\" }}\n",
    );
    let output = run(
        dir.path(),
        &path_with_helm(),
        &[],
        &["--format", "json", "demo"],
    );
    let stderr = common::stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "warnings do not make it 2: {stderr}"
    );
    assert!(
        stderr.contains("warning: demo: helm template failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("x must be set by the operator"),
        "Helm's own message: {stderr}"
    );
    // Read in place, saying what was not evaluated.
    let findings = json(&output);
    assert_eq!(findings.len(), 1);
    let message = findings[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("but it was not rendered (helm template failed:"),
        "{message}"
    );
    assert_cleaned(dir.path());
}

#[test]
fn without_helm_templates_are_read_in_place_and_say_what_was_not_evaluated() {
    let dir = chart("false");
    let empty = dir.path().join("empty-path");
    std::fs::create_dir_all(&empty).expect("dir");
    let output = run(
        dir.path(),
        &empty.display().to_string(),
        &[],
        &["--format", "json", "demo"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", common::stderr(&output));
    let findings = json(&output);
    assert_eq!(findings.len(), 1, "today's in-place finding");
    let message = findings[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(
            "Not evaluated: the pod spec also gets keys from helper \"demo.pod\""
        ) && message.contains(
            "Rendering the chart would decide it, but it was not rendered (no helm executable found on PATH"
        ),
        "{message}"
    );
    // A template without findings of its own: a note on stderr.
    common::write(
        dir.path(),
        "demo/templates/job.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n  template:\n    {{- include \"demo.podTemplate\" . | nindent 4 }}\n",
    );
    let output = run(dir.path(), &empty.display().to_string(), &[], &["demo"]);
    let stderr = common::stderr(&output);
    assert!(
        stderr.contains("note: demo/templates/job.yaml: The pod spec built by {{ include \"demo.podTemplate\" . | nindent 4 }} (line 7) was not evaluated"),
        "{stderr}"
    );
}

#[test]
fn no_render_never_runs_helm() {
    if !helm_available("no_render_never_runs_helm") {
        return;
    }
    let dir = chart("true");
    let log = dir.path().join("helm.log");
    let log_str = log.display().to_string();
    let env = [("TOKENGUARD_FAKE_HELM_LOG", log_str.as_str())];
    let output = run(
        dir.path(),
        &path_with_helm(),
        &env,
        &["--no-render", "--format", "json", "demo"],
    );
    assert!(!log.exists(), "helm ran under --no-render");
    let findings = json(&output);
    assert_eq!(findings.len(), 1);
    assert!(findings[0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("(rendering is turned off with --no-render)"));
    // And without the flag it runs, once per chart.
    run(dir.path(), &path_with_helm(), &env, &["demo"]);
    let calls = std::fs::read_to_string(&log).expect("helm ran");
    assert_eq!(calls.lines().count(), 1, "{calls}");
    assert!(calls.starts_with("template release-name "), "{calls}");
}

#[test]
fn dependencies_that_are_not_vendored_are_never_fetched() {
    if !helm_available("dependencies_that_are_not_vendored_are_never_fetched") {
        return;
    }
    let dir = chart("true");
    common::write(
        dir.path(),
        "demo/Chart.yaml",
        "apiVersion: v2\nname: demo\nversion: 0.1.0\ndependencies:\n  - name: redis\n    version: 1.x\n    repository: https://charts.example.com\n",
    );
    let log = dir.path().join("helm.log");
    let log_str = log.display().to_string();
    let env = [("TOKENGUARD_FAKE_HELM_LOG", log_str.as_str())];
    let output = run(
        dir.path(),
        &path_with_helm(),
        &env,
        &["--format", "json", "demo"],
    );
    assert!(
        !log.exists(),
        "helm ran for a chart whose dependencies are missing"
    );
    let stderr = common::stderr(&output);
    assert!(
        stderr.contains("redis are not vendored in charts/"),
        "{stderr}"
    );
    let findings = json(&output);
    assert!(findings[0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("not vendored in charts/"));
    // Vendored: rendered.
    common::write(
        dir.path(),
        "demo/charts/redis/Chart.yaml",
        "apiVersion: v2\nname: redis\nversion: 1.0.0\n",
    );
    let output = run(
        dir.path(),
        &path_with_helm(),
        &env,
        &["--format", "json", "demo"],
    );
    let findings = json(&output);
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("renders it with values.yaml"),
        "{}",
        common::stderr(&output)
    );
}

#[test]
fn a_helm_that_hangs_is_stopped_at_the_timeout() {
    if !helm_available("a_helm_that_hangs_is_stopped_at_the_timeout") {
        return;
    }
    let dir = chart("true");
    common::write(
        dir.path(),
        "tokenguard.toml",
        "[helm]\ntimeout_seconds = 1\n",
    );
    let started = Instant::now();
    let output = run(
        dir.path(),
        &path_with_helm(),
        &[("TOKENGUARD_FAKE_HELM_SLEEP", "60")],
        &["--format", "json", "demo"],
    );
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let stderr = common::stderr(&output);
    assert!(
        stderr.contains("did not finish within 1 s and was stopped"),
        "{stderr}"
    );
    let findings = json(&output);
    assert_eq!(findings.len(), 1, "read in place");
    assert_cleaned(dir.path());
}

/// Every file under `from`, copied to `to`; templates (YAML under
/// `templates/`, not helpers) annotated as the renderer annotates them.
fn copy_annotated(from: &Path, to: &Path) {
    for file in common::files_under(from, |_| true) {
        let relative = file.strip_prefix(from).expect("under the chart");
        let target = to.join(relative);
        std::fs::create_dir_all(target.parent().expect("a folder")).expect("folders");
        let name = relative.to_string_lossy().replace('\\', "/");
        let base = name.rsplit('/').next().unwrap_or_default();
        let template = name.starts_with("templates/")
            && (name.ends_with(".yaml") || name.ends_with(".yml"))
            && !base.starts_with('_');
        match std::fs::read_to_string(&file) {
            Ok(text) if template => {
                std::fs::write(&target, tokenguard_analysis::helm::render::annotate(&text))
                    .expect("write")
            }
            _ => {
                std::fs::copy(&file, &target).expect("copy");
            }
        }
    }
}

/// Trim markers on both sides, block scalars, `range`, `with`, `toYaml |
/// nindent`, a multi-line action, comments, an `include` of a `define` in
/// the template itself, a template that renders nothing, flow collections.
const KITCHEN_SINK: &[(&str, &str)] = &[
    ("Chart.yaml", "apiVersion: v2\nname: sink\nversion: 0.1.0\n"),
    (
        "values.yaml",
        "x: true\nenabled: false\nenv:\n  A: one\n  B: two\nresources:\n  limits:\n    cpu: 1\nlabels: {}\n",
    ),
    (
        "templates/_helpers.tpl",
        "{{- define \"sink.pod\" -}}\nautomountServiceAccountToken: {{ .Values.x }}\nsecurityContext:\n  runAsNonRoot: true\n{{- end }}\n{{- define \"sink.labels\" }}\napp: sink\n{{- with .Values.labels }}\n{{ toYaml . }}\n{{- end }}\n{{- end }}\n",
    ),
    (
        "templates/deploy.yaml",
        "{{/* a comment\n   over lines */}}\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name -}}\n    -web\n  labels:\n    {{- include \"sink.labels\" . | nindent 4 }}\n  annotations:\n    note: |\n      first line\n\n      after a blank line {{ .Values.x }}\n    flow: [a, {{ .Values.x }},\n      b]\nspec:\n  template:\n    spec:\n      {{- include \"sink.pod\" . | nindent 6 }}\n      containers:\n        - name: app\n          image: {{ printf \"%s:%s\"\n              \"nginx\" \"1\" }}\n          env:\n          {{- range $k, $v := .Values.env }}\n            - name: {{ $k }}\n              value: {{ $v | quote }}\n          {{- end }}\n          resources:\n            {{- toYaml .Values.resources | nindent 12 }}\n{{- if .Values.enabled }}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: off\n{{- end }}\n",
    ),
    (
        "templates/local.yaml",
        "{{- define \"sink.local\" -}}\nkind: ConfigMap\napiVersion: v1\n{{- end }}\n{{ include \"sink.local\" . }}\nmetadata:\n  name: local\ndata:\n  k: {{ if .Values.x }}\"True\"{{ else }}\"False\"{{ end }}\n",
    ),
    ("templates/empty.yaml", "{{- if .Values.enabled }}\nkind: Pod\n{{- end }}\n"),
];

/// `helm template` of a chart folder, by the stand-in.
fn template(chart: &Path) -> Output {
    Command::new(support().join("helm"))
        .arg("template")
        .arg(chart)
        .stdin(Stdio::null())
        .output()
        .expect("the stand-in runs")
}

/// The line markers change nothing Helm renders: every chart of the
/// fixtures and of the corpus that renders offline renders the same
/// objects, line for line, from its annotated copy once the markers are
/// taken out (and fails the same way when it fails).
#[test]
fn annotated_charts_render_what_the_charts_render() {
    if !helm_available("annotated_charts_render_what_the_charts_render") {
        return;
    }
    let mut charts: Vec<PathBuf> = common::files_under(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/helm"),
        |p| p.file_name().is_some_and(|n| n == "Chart.yaml"),
    );
    if let Some(shared) = common::shared_dir("annotated_charts_render_what_the_charts_render") {
        charts.extend(common::files_under(&shared.join("corpus"), |p| {
            p.file_name().is_some_and(|n| n == "Chart.yaml")
        }));
    }
    let mut charts: Vec<PathBuf> = charts
        .iter()
        .filter_map(|c| c.parent().map(Path::to_path_buf))
        .collect();
    // And a chart of the constructs the markers must survive.
    let own = tempfile::tempdir().expect("temp dir");
    for (name, text) in KITCHEN_SINK {
        common::write(own.path(), &format!("sink/{name}"), text);
    }
    charts.push(own.path().join("sink"));
    assert!(charts.len() >= 4, "{charts:?}");
    let (mut rendered, mut failed) = (0, 0);
    for chart in &charts {
        let dir = tempfile::tempdir().expect("temp dir");
        let copy = dir.path().join(chart.file_name().expect("a name"));
        copy_annotated(chart, &copy);
        let original = template(chart);
        let annotated = template(&copy);
        assert_eq!(
            original.status.success(),
            annotated.status.success(),
            "{}: {}\n{}",
            chart.display(),
            common::stderr(&original),
            common::stderr(&annotated)
        );
        if !original.status.success() {
            failed += 1;
            continue;
        }
        rendered += 1;
        let read = |output: &Output| {
            tokenguard_analysis::helm::render::read_output(&String::from_utf8_lossy(&output.stdout))
                .into_iter()
                .map(|t| (t.source, t.text))
                .collect::<Vec<_>>()
        };
        let (before, after) = (read(&original), read(&annotated));
        assert_eq!(before.len(), after.len(), "{}", chart.display());
        for ((source, text), (_, marked)) in before.iter().zip(&after) {
            assert_eq!(
                text,
                marked,
                "{}: {source} renders differently once annotated",
                chart.display()
            );
        }
    }
    eprintln!(
        "annotated charts: {} compared, {rendered} rendered the same, {failed} failed alike (helpers or dependencies missing)",
        charts.len()
    );
}
