//! `tokenguard check` with a project configuration file (`tokenguard.toml`):
//! discovery, every key, malformed files and `--print-config`, on the real
//! binary.

use std::fs;
use std::process::Output;

use serde_json::Value;

mod common;
use common::{stderr, tokenguard, write};

const POD: &str = "kind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n";
const WIDGET: &str = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  runtime:\n    pod:\n      containers: []\n";
const ROLLOUT: &str = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: canary\n  namespace: shop\nspec:\n  template:\n    spec:\n      containers: []\n";
const BROKEN: &str = "kind: Pod\nspec: [\n";

/// A temporary folder by its canonical path (macOS's /tmp is a link).
fn temp_dir() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = fs::canonicalize(dir.path()).unwrap();
    (dir, path)
}

fn findings(output: &Output) -> Vec<Value> {
    let value: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    value.as_array().expect("an array").clone()
}

fn files_and_codes(output: &Output) -> Vec<(String, String, String)> {
    findings(output)
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap()
}

#[test]
fn a_configuration_in_a_parent_folder_applies() {
    let (_guard, root) = temp_dir();
    write(&root, "tokenguard.toml", "severity = \"error\"\n");
    write(&root, "deploy/k8s/pod.yaml", POD);
    let output = tokenguard(&root.join("deploy"), &["check", "--format", "json", "k8s"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(
        files_and_codes(&output),
        [("k8s/pod.yaml".into(), "TG001".into(), "error".into())]
    );
}

#[test]
fn the_dotted_name_is_found_too() {
    let (_guard, root) = temp_dir();
    write(&root, ".tokenguard.toml", "severity = \"hint\"\n");
    write(&root, "pod.yaml", POD);
    let output = tokenguard(&root, &["check", "--format", "json", "pod.yaml"]);
    assert_eq!(files_and_codes(&output)[0].2, "hint");
}

#[test]
fn without_a_configuration_the_defaults_apply() {
    let (_guard, root) = temp_dir();
    write(&root, "pod.yaml", POD);
    write(&root, "broken.yaml", BROKEN);
    let output = tokenguard(&root, &["check", "--format", "json", "."]);
    let mut found = files_and_codes(&output);
    found.sort();
    assert_eq!(
        found,
        [
            ("broken.yaml".into(), "TG000".into(), "error".into()),
            ("pod.yaml".into(), "TG001".into(), "warning".into())
        ]
    );
}

#[test]
fn excluded_paths_are_relative_to_the_configuration_folder() {
    let (_guard, root) = temp_dir();
    write(
        &root,
        "tokenguard.toml",
        "exclude = [\"charts/**\", \"*.tmpl.yaml\"]\n",
    );
    write(&root, "charts/app/templates/pod.yaml", POD);
    write(&root, "k8s/pod.yaml", POD);
    write(&root, "top.tmpl.yaml", POD);
    write(&root, "k8s/nested.tmpl.yaml", POD);
    // Run from a sub-folder: the patterns still count from the file's folder.
    let output = tokenguard(&root.join("k8s"), &["check", "--format", "json", ".."]);
    let mut files: Vec<String> = files_and_codes(&output).into_iter().map(|f| f.0).collect();
    files.sort();
    assert_eq!(files, ["../k8s/nested.tmpl.yaml", "../k8s/pod.yaml"]);
}

#[test]
fn ignored_objects_get_no_finding() {
    let (_guard, root) = temp_dir();
    write(
        &root,
        "tokenguard.toml",
        "[[ignore]]\nobject = \"Pod//web\"\nreason = \"the web pod needs the API\"\n",
    );
    write(&root, "web.yaml", POD);
    write(&root, "api.yaml", &POD.replace("web", "api"));
    write(
        &root,
        "prod.yaml",
        &POD.replace("name: web", "name: web\n  namespace: prod"),
    );
    let output = tokenguard(&root, &["check", "--format", "json", "."]);
    let mut files: Vec<String> = files_and_codes(&output).into_iter().map(|f| f.0).collect();
    files.sort();
    assert_eq!(files, ["api.yaml", "prod.yaml"]);
}

#[test]
fn custom_workload_kinds_are_judged_and_rollouts_are_built_in() {
    let (_guard, root) = temp_dir();
    write(&root, "widget.yaml", WIDGET);
    write(&root, "rollout.yaml", ROLLOUT);
    let output = tokenguard(&root, &["check", "--format", "json", "."]);
    assert_eq!(
        files_and_codes(&output),
        [("rollout.yaml".into(), "TG001".into(), "warning".into())]
    );
    write(
        &root,
        "tokenguard.toml",
        "[[workloads]]\ngroup = \"example.com\"\nkind = \"Widget\"\npod_spec = \"spec.runtime.pod\"\n",
    );
    let output = tokenguard(&root, &["check", "--format", "json", "."]);
    let found = findings(&output);
    assert_eq!(found.len(), 2, "{found:?}");
    let widget = found.iter().find(|f| f["file"] == "widget.yaml").unwrap();
    assert_eq!(
        widget["line"], 7,
        "reported on the configured pod spec key: {widget}"
    );
    // --fix writes the field into the configured pod spec.
    let output = tokenguard(&root, &["check", "--fix", "widget.yaml"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(fs::read_to_string(root.join("widget.yaml"))
        .unwrap()
        .contains("    pod:\n      automountServiceAccountToken: false\n"));
}

#[test]
fn syntax_errors_can_be_left_unreported() {
    let (_guard, root) = temp_dir();
    write(&root, "tokenguard.toml", "syntax_errors = false\n");
    write(&root, "broken.yaml", BROKEN);
    let output = tokenguard(&root, &["check", "--format", "json", "."]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(findings(&output).is_empty());
}

#[test]
fn a_malformed_configuration_is_reported_at_its_line_and_column_and_the_defaults_apply() {
    let (_guard, root) = temp_dir();
    write(
        &root,
        "tokenguard.toml",
        "severity = \"error\"\nexclude = [\"k8s/**\"]\nsyntax_error = false\n",
    );
    write(&root, "k8s/pod.yaml", POD);
    let output = tokenguard(&root, &["check", "--format", "json", "."]);
    let config = root.join("tokenguard.toml");
    let message = stderr(&output);
    assert!(
        message.contains(&format!(
            "{}:3:1: unknown field `syntax_error`",
            config.display()
        )),
        "{message}"
    );
    assert!(message.contains("defaults in force"), "{message}");
    assert_eq!(code(&output), 2, "a malformed configuration is an error");
    // Nothing of the file applies: not its exclude, not its severity.
    assert_eq!(
        files_and_codes(&output),
        [("k8s/pod.yaml".into(), "TG001".into(), "warning".into())]
    );
}

#[test]
fn config_flag_names_the_file_and_no_config_ignores_it() {
    let (_guard, root) = temp_dir();
    write(&root, "tokenguard.toml", "severity = \"error\"\n");
    write(&root, "other/strict.toml", "severity = \"information\"\n");
    write(&root, "pod.yaml", POD);
    let output = tokenguard(
        &root,
        &[
            "check",
            "--format",
            "json",
            "--config",
            "other/strict.toml",
            "pod.yaml",
        ],
    );
    assert_eq!(files_and_codes(&output)[0].2, "information");
    let output = tokenguard(
        &root,
        &["check", "--format", "json", "--no-config", "pod.yaml"],
    );
    assert_eq!(files_and_codes(&output)[0].2, "warning");
    let output = tokenguard(&root, &["check", "--config", "missing.toml", "pod.yaml"]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("missing.toml: cannot read the configuration"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn print_config_shows_each_value_and_where_it_comes_from() {
    let (_guard, root) = temp_dir();
    write(
        &root,
        "tokenguard.toml",
        "severity = \"error\"\nexclude = [\"charts/**\"]\n\n[severity_by_risk]\nbound = \"hint\"\n\n[[workloads]]\ngroup = \"example.com\"\nkind = \"Widget\"\npod_spec = \"spec.runtime.pod\"\n\n[[ignore]]\nobject = \"Deployment/kube-system/*\"\nreason = \"owned by the platform team\"\n",
    );
    write(&root, "k8s/pod.yaml", POD);
    let output = tokenguard(&root, &["check", "--print-config", "k8s"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let shown = String::from_utf8(output.stdout)
        .unwrap()
        .replace(&root.display().to_string(), "[DIR]");
    insta::assert_snapshot!(shown);
    // What it prints is a configuration tokenguard reads back.
    let printed =
        tokenguard_analysis::parse_config(&shown).expect("--print-config prints valid TOML");
    assert_eq!(printed.severity, Some(tokenguard_analysis::Severity::Error));
    assert_eq!(printed.workloads.len(), 3);
    // Every risk's severity in force: the file's entry, the built-in ones,
    // then the plain severity.
    let by_risk: Vec<(&str, &str)> = printed
        .severity_by_risk
        .iter()
        .map(|(risk, severity)| (risk, severity.as_str()))
        .collect();
    assert_eq!(
        by_risk,
        [
            ("cluster-admin", "error"),
            ("dangerous-cluster-wide", "error"),
            ("dangerous-in-namespace", "error"),
            ("bound", "hint"),
            ("unknown", "error"),
            ("discovery-only", "error"),
        ]
    );
}

#[test]
fn print_config_without_a_file_shows_the_defaults() {
    let (_guard, root) = temp_dir();
    let output = tokenguard(&root, &["check", "--print-config", "--no-config"]);
    assert_eq!(code(&output), 0);
    let shown = String::from_utf8(output.stdout).unwrap();
    assert!(
        shown.starts_with("# Configuration file: none (--no-config)\n"),
        "{shown}"
    );
    assert!(
        shown.contains("severity = \"warning\" # default\n"),
        "{shown}"
    );
    assert!(
        shown.contains(
            "[severity_by_risk]\ncluster-admin = \"error\" # default\n\
             dangerous-cluster-wide = \"error\" # default\n\
             dangerous-in-namespace = \"warning\" # default: follows severity\n"
        ),
        "{shown}"
    );
    assert!(!shown.contains("[[ignore]]"));
}

#[test]
fn the_readme_example_configuration_is_accepted() {
    let readme = include_str!("../README.md");
    let start = readme
        .find("## Configuration")
        .and_then(|at| {
            readme[at..]
                .find("```toml\n")
                .map(|i| at + i + "```toml\n".len())
        })
        .expect("the README has a Configuration section with a TOML example");
    let example = &readme[start..start + readme[start..].find("```").unwrap()];
    let config = tokenguard_analysis::parse_config(example)
        .unwrap_or_else(|e| panic!("README example rejected: {} at {:?}", e.message, e.range));
    assert_eq!(config.workloads.len(), 1);
    assert_eq!(config.ignore.len(), 1);
    assert_eq!(config.exclude.len(), 2);
}

#[test]
fn print_config_of_a_malformed_file_shows_the_defaults_and_exits_2() {
    let (_guard, root) = temp_dir();
    write(&root, "tokenguard.toml", "severity = \"loud\"\n");
    let output = tokenguard(&root, &["check", "--print-config"]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("tokenguard.toml:1:12: severity \"loud\""),
        "{}",
        stderr(&output)
    );
    let shown = String::from_utf8(output.stdout).unwrap();
    assert!(shown.contains("could not be used"), "{shown}");
    assert!(
        shown.contains("severity = \"warning\" # default\n"),
        "{shown}"
    );
}

/// The project file governs every kind of input the same way: a chart
/// template's custom kind and ignored object, a Kustomize base's severity.
#[test]
fn the_configuration_applies_to_helm_templates_and_kustomize_bases() {
    let (_guard, root) = temp_dir();
    write(
        &root,
        "tokenguard.toml",
        "severity = \"error\"\n\n[[workloads]]\ngroup = \"example.com\"\nkind = \"Widget\"\npod_spec = \"spec.runtime.pod\"\n\n[[ignore]]\nobject = \"Pod/*/legacy-*\"\nreason = \"retired next quarter\"\n",
    );
    write(
        &root,
        "chart/Chart.yaml",
        "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
    );
    write(&root, "chart/values.yaml", "name: w\n");
    write(
        &root,
        "chart/templates/widget.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {{ .Values.name }}\n  labels:\n    {{- include \"demo.labels\" . | nindent 4 }}\nspec:\n  runtime:\n    pod:\n      containers: []\n",
    );
    write(
        &root,
        "chart/templates/legacy.yaml",
        "kind: Pod\nmetadata:\n  name: legacy-{{ .Release.Name }}\nspec:\n  containers: []\n",
    );
    write(&root, "base/kustomization.yaml", "resources:\n- pod.yaml\n");
    write(&root, "base/pod.yaml", POD);
    let output = tokenguard(&root, &["check", "--format", "json", "."]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let mut found = files_and_codes(&output);
    found.sort();
    assert_eq!(
        found,
        [
            ("base/pod.yaml".into(), "TG001".into(), "error".into()),
            (
                "chart/templates/widget.yaml".into(),
                "TG001".into(),
                "error".into()
            ),
        ]
    );
    let widget = findings(&output)
        .into_iter()
        .find(|f| f["file"] == "chart/templates/widget.yaml")
        .unwrap();
    assert_eq!(widget["line"], 9, "on the `pod` key: {widget}");
}

/// A ClusterRoleBinding of ServiceAccount `ci` (namespace `build`) to the
/// built-in cluster-admin.
const ADMIN_BINDING: &str = "kind: ClusterRoleBinding\nmetadata: {name: ci-admin}\nroleRef: {kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: ci, namespace: build}]\n";

fn pod_as(account: &str) -> String {
    format!(
        "kind: Pod\nmetadata: {{name: {account}, namespace: build}}\nspec:\n  serviceAccountName: {account}\n  containers: []\n"
    )
}

/// (account, risk, severity) of each finding, in file order.
fn risks(output: &Output) -> Vec<(String, String, String)> {
    findings(output)
        .iter()
        .map(|f| {
            (
                f["permissions"]["account"].as_str().unwrap().to_string(),
                f["permissions"]["risk"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn severity_follows_the_risk_by_the_rule() {
    let (_guard, root) = temp_dir();
    write(&root, "k8s/rbac.yaml", ADMIN_BINDING);
    write(
        &root,
        "k8s/pods.yaml",
        &format!("{}---\n{}", pod_as("ci"), pod_as("web")),
    );
    let row = |a: &str, r: &str, s: &str| (a.to_string(), r.to_string(), s.to_string());
    // No file: the built-in entry (error) for cluster-admin, warning else.
    let output = tokenguard(&root, &["check", "--format", "json", "--no-config", "k8s"]);
    assert_eq!(
        risks(&output),
        [
            row("ci", "cluster-admin", "error"),
            row("web", "discovery-only", "warning")
        ]
    );
    // The plain severity leaves the built-in entry alone...
    write(&root, "tokenguard.toml", "severity = \"hint\"\n");
    let output = tokenguard(&root, &["check", "--format", "json", "k8s"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(
        risks(&output),
        [
            row("ci", "cluster-admin", "error"),
            row("web", "discovery-only", "hint")
        ]
    );
    // ... which the table overrides, entry by entry.
    write(
        &root,
        "tokenguard.toml",
        "severity = \"hint\"\n\n[severity_by_risk]\ncluster-admin = \"warning\"\ndiscovery-only = \"information\"\n",
    );
    let output = tokenguard(&root, &["check", "--format", "json", "k8s"]);
    assert_eq!(
        risks(&output),
        [
            row("ci", "cluster-admin", "warning"),
            row("web", "discovery-only", "information")
        ]
    );
    // A risk that is not one is an error on its key, with its position.
    write(
        &root,
        "tokenguard.toml",
        "[severity_by_risk]\nadmin = \"error\"\n",
    );
    let output = tokenguard(&root, &["check", "--format", "json", "k8s"]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output)
            .contains("tokenguard.toml:2:1: in [severity_by_risk]: \"admin\" is not a risk"),
        "{}",
        stderr(&output)
    );
}
