//! `tokenguard accounts`: the audit view, run as a user runs it. Accounts
//! and the workloads that run as them in other files, a Helm chart's
//! accounts, an account no workload uses, an account no file declares, the
//! implicit `default` account, kustomize overlays, the project's
//! exclusions; the table and the JSON (pinned in
//! `tests/snapshots/accounts_cli__*.snap`), colour and exit statuses.

mod common;

use std::path::Path;
use std::process::Output;

use common::{stderr, tokenguard, write};
use serde_json::Value;

const SERVICE_ACCOUNTS: &str = "\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
  namespace: ci
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: quiet
  namespace: ci
automountServiceAccountToken: false
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: unused
  namespace: ci
";

const WORKLOADS: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: build-api
  namespace: ci
spec:
  template:
    spec:
      serviceAccountName: builder
      containers: [{name: a, image: a}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: cleanup
  namespace: ci
spec:
  template:
    spec:
      serviceAccountName: builder
      automountServiceAccountToken: false
      containers: [{name: a, image: a}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: quiet-api
  namespace: ci
spec:
  template:
    spec:
      serviceAccountName: quiet
      containers: [{name: a, image: a}]
---
apiVersion: v1
kind: Pod
metadata:
  name: ghost-pod
  namespace: ci
spec:
  serviceAccountName: ghost
  containers: [{name: a, image: a}]
---
apiVersion: v1
kind: Pod
metadata:
  name: plain-pod
  namespace: ci
spec:
  automountServiceAccountToken: true
  containers: [{name: a, image: a}]
";

/// Bindings of `builder` (cluster-admin, built in), of `quiet` (a Role
/// declared beside it, reading Secrets in `ci`) and of `unused` (a
/// ClusterRole no file defines).
const BINDINGS: &str = "\
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
    name: builder
    namespace: ci
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: secret-reader
  namespace: ci
rules:
  - apiGroups: [\"\"]
    resources: [secrets]
    verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: read-secrets
  namespace: ci
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: secret-reader
subjects:
  - kind: ServiceAccount
    name: quiet
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: ops
  namespace: ci
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: ops-tools
subjects:
  - kind: ServiceAccount
    name: unused
";

/// A workspace: accounts in one file, their bindings in a second, the
/// workloads in a third.
fn workspace(dir: &Path) {
    write(dir, "rbac/accounts.yaml", SERVICE_ACCOUNTS);
    write(dir, "rbac/bindings.yaml", BINDINGS);
    write(dir, "apps/workloads.yaml", WORKLOADS);
}

/// A chart whose account and pod name come from values.yaml.
fn chart(dir: &Path) {
    write(
        dir,
        "chart/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    write(
        dir,
        "chart/values.yaml",
        "serviceAccount:\n  name: web-sa\n  automount: false\n",
    );
    write(
        dir,
        "chart/templates/sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Values.serviceAccount.name }}\nautomountServiceAccountToken: {{ .Values.serviceAccount.automount }}\n",
    );
    write(
        dir,
        "chart/templates/rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: {{ .Release.Name }}-edit\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: edit\nsubjects:\n  - kind: ServiceAccount\n    name: web-sa\n",
    );
    write(
        dir,
        "chart/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      serviceAccountName: {{ .Values.serviceAccount.name }}\n      containers:\n        - name: web\n          image: nginx\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: setup\nspec:\n  template:\n    spec:\n      containers:\n        - name: s\n          image: busybox\n",
    );
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("tokenguard exits normally")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

/// Runs `tokenguard accounts ARGS` in `dir`; it must succeed.
fn accounts(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["accounts"];
    all.extend_from_slice(args);
    let output = tokenguard(dir, &all);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    stdout(&output)
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&accounts(dir, &all)).expect("valid JSON")
}

/// The account of the JSON report with this namespace and name.
fn account<'a>(report: &'a Value, namespace: Option<&str>, name: &str) -> &'a Value {
    report["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["namespace"].as_str() == namespace && a["name"] == name)
        .unwrap_or_else(|| panic!("no account {namespace:?}/{name} in {report:#}"))
}

/// (workload name, token, decided_by) of an account's workloads.
fn workloads(account: &Value) -> Vec<(String, String, String)> {
    account["workloads"]
        .as_array()
        .expect("workloads")
        .iter()
        .map(|w| {
            (
                w["name"].as_str().unwrap_or("").to_string(),
                w["token"].as_str().expect("token").to_string(),
                w["decided_by"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

fn owned(items: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    items
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[test]
fn workloads_join_the_accounts_declared_in_other_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    workspace(dir.path());
    let report = json(dir.path(), &["."]);
    let builder = account(&report, Some("ci"), "builder");
    assert_eq!(builder["declared"], "declared");
    assert_eq!(builder["declarations"][0]["file"], "rbac/accounts.yaml");
    assert_eq!(builder["declarations"][0]["line"], 4);
    assert_eq!(builder["automount"], "unset");
    assert_eq!(
        workloads(builder),
        owned(&[
            ("build-api", "mounted", "account"),
            ("cleanup", "not-mounted", "pod"),
        ])
    );
    assert_eq!(builder["workloads"][0]["file"], "apps/workloads.yaml");
    assert_eq!(builder["workloads"][0]["line"], 1);
    assert_eq!(builder["workloads"][1]["line"], 12);
    assert_eq!(builder["workloads"][1]["pod_field"], "false");
    assert_eq!(builder["mounting"], 1);
    let quiet = account(&report, Some("ci"), "quiet");
    assert_eq!(quiet["automount"], "false");
    assert_eq!(
        workloads(quiet),
        owned(&[("quiet-api", "not-mounted", "account")])
    );
}

#[test]
fn bindings_in_other_files_give_each_account_its_risk_and_capabilities() {
    let dir = tempfile::tempdir().expect("temp dir");
    workspace(dir.path());
    let report = json(dir.path(), &["."]);
    let builder = account(&report, Some("ci"), "builder");
    assert_eq!(builder["risk"], "cluster-admin");
    let binding = &builder["bindings"][0];
    assert_eq!(binding["kind"], "ClusterRoleBinding");
    assert_eq!(binding["name"], "ci-admin");
    assert_eq!(binding["file"], "rbac/bindings.yaml");
    assert_eq!(binding["line"], 4);
    assert_eq!(binding["scope"], "cluster");
    assert_eq!(binding["role"]["source"], "builtin");
    assert_eq!(binding["role"]["name"], "cluster-admin");
    assert!(builder["capabilities"]
        .as_array()
        .expect("capabilities")
        .iter()
        .any(|c| c["name"] == "read-secrets" && c["scope"] == "cluster"));

    let quiet = account(&report, Some("ci"), "quiet");
    assert_eq!(quiet["risk"], "dangerous-in-namespace");
    let binding = &quiet["bindings"][0];
    assert_eq!(binding["name"], "read-secrets");
    assert_eq!(binding["scope"], "namespace");
    assert_eq!(binding["scope_namespace"], "ci");
    assert_eq!(binding["role"]["source"], "declared");
    assert_eq!(binding["role"]["file"], "rbac/bindings.yaml");
    assert_eq!(binding["role"]["line"], 17);
    assert_eq!(binding["capabilities"], serde_json::json!(["read-secrets"]));

    // A role no checked file defines: marked so, never guessed.
    let unused = account(&report, Some("ci"), "unused");
    assert_eq!(unused["risk"], "unknown");
    assert_eq!(unused["bindings"][0]["role"]["source"], "missing");
    assert_eq!(unused["capabilities"], serde_json::json!([]));

    // No binding: the discovery permissions only.
    let ghost = account(&report, Some("ci"), "ghost");
    assert_eq!(ghost["risk"], "discovery-only");
    assert_eq!(ghost["bindings"], serde_json::json!([]));

    let table = accounts(dir.path(), &["."]);
    assert!(
        table.contains("    RoleBinding ops (rbac/bindings.yaml:40) → ClusterRole ops-tools (not found), namespace ci\n"),
        "{table}"
    );
    assert!(
        table.contains("  dangerous capabilities (namespace ci): read Secrets\n"),
        "{table}"
    );
}

#[test]
fn fail_on_gates_on_mounted_tokens_of_risky_accounts() {
    let dir = tempfile::tempdir().expect("temp dir");
    workspace(dir.path());
    // build-api mounts the token of `builder`, a cluster admin.
    let run = |risk: &str| {
        code(&tokenguard(
            dir.path(),
            &["accounts", "--fail-on", risk, "."],
        ))
    };
    assert_eq!(run("cluster-admin"), 1);
    assert_eq!(run("bound"), 1);
    // `quiet` reads Secrets, but its only pod does not mount the token.
    write(
        dir.path(),
        "rbac/bindings.yaml",
        &BINDINGS.replace("name: cluster-admin", "name: view"),
    );
    assert_eq!(run("dangerous-in-namespace"), 0);
    assert_eq!(run("bound"), 1);
    let bad = tokenguard(dir.path(), &["accounts", "--fail-on", "scary", "."]);
    assert_eq!(code(&bad), 2);
}

#[test]
fn unused_undeclared_and_implicit_default_accounts_are_listed() {
    let dir = tempfile::tempdir().expect("temp dir");
    workspace(dir.path());
    let report = json(dir.path(), &["."]);
    let unused = account(&report, Some("ci"), "unused");
    assert_eq!(unused["declared"], "declared");
    assert_eq!(workloads(unused), vec![]);
    let ghost = account(&report, Some("ci"), "ghost");
    assert_eq!(ghost["declared"], "not-declared");
    assert_eq!(ghost["declarations"], serde_json::json!([]));
    assert_eq!(ghost["automount"], Value::Null);
    assert_eq!(
        workloads(ghost),
        owned(&[("ghost-pod", "mounted", "account")])
    );
    let default = account(&report, Some("ci"), "default");
    assert_eq!(default["declared"], "implicit-default");
    assert_eq!(
        workloads(default),
        owned(&[("plain-pod", "mounted", "pod")])
    );
    assert_eq!(default["workloads"][0]["pod_field"], "true");
    // In the table: the same, in words.
    let table = accounts(dir.path(), &["."]);
    assert!(
        table.contains("ServiceAccount ci/ghost\n  not declared in the checked files\n"),
        "{table}"
    );
    assert!(
        table.contains("ServiceAccount ci/unused\n  declared in rbac/accounts.yaml:17 (automountServiceAccountToken: unset)\n"),
        "{table}"
    );
    assert!(
        table.ends_with("  used by no workload in the checked files\n"),
        "{table}"
    );
    assert!(
        table.contains("ServiceAccount ci/default\n  the namespace's implicit default account"),
        "{table}"
    );
}

#[test]
fn the_table_is_aligned_and_fits_in_100_columns() {
    let dir = tempfile::tempdir().expect("temp dir");
    workspace(dir.path());
    let table = accounts(dir.path(), &["."]);
    insta::assert_snapshot!(table);
    for line in table.lines() {
        assert!(line.chars().count() <= 100, "too wide: {line:?}");
    }
    assert!(!table.contains('\x1b'), "no colour when not a terminal");
    // Colour only when asked for, and NO_COLOR does not stop --color always.
    let coloured = accounts(dir.path(), &["--color", "always", "."]);
    assert!(coloured.contains("\x1b[1m"), "{coloured}");
}

#[test]
fn the_json_report_is_pinned() {
    let dir = tempfile::tempdir().expect("temp dir");
    workspace(dir.path());
    chart(dir.path());
    let text = accounts(dir.path(), &["--format", "json", "."]);
    insta::assert_snapshot!(text);
}

#[test]
fn a_charts_accounts_are_read_from_its_templates_and_values() {
    let dir = tempfile::tempdir().expect("temp dir");
    chart(dir.path());
    let report = json(dir.path(), &["chart"]);
    let web = account(&report, None, "web-sa");
    assert_eq!(web["declared"], "declared");
    assert_eq!(web["declarations"][0]["file"], "chart/templates/sa.yaml");
    assert_eq!(web["automount"], "false");
    assert_eq!(workloads(web), owned(&[("web", "not-mounted", "account")]));
    // Bound by a template of the chart.
    assert_eq!(web["bindings"][0]["file"], "chart/templates/rbac.yaml");
    assert_eq!(web["bindings"][0]["role"]["name"], "edit");
    assert_eq!(web["bindings"][0]["role"]["source"], "builtin");
    assert_eq!(web["risk"], "dangerous-in-namespace");
    let default = account(&report, None, "default");
    assert_eq!(default["declared"], "implicit-default");
    assert_eq!(
        workloads(default),
        owned(&[("setup", "mounted", "account")])
    );
    assert_eq!(default["workloads"][0]["line"], 13);
    // A template checked alone is read with its whole chart, as by `check`.
    let alone = json(dir.path(), &["chart/templates/deploy.yaml"]);
    let web = account(&alone, None, "web-sa");
    assert_eq!(workloads(web), owned(&[("web", "not-mounted", "account")]));
}

#[test]
fn kustomize_overlays_that_patch_the_field_off_unmount_the_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: a}]\n";
    write(dir.path(), "base/deploy.yaml", deployment);
    write(
        dir.path(),
        "base/kustomization.yaml",
        "resources:\n  - deploy.yaml\n",
    );
    write(
        dir.path(),
        "prod/kustomization.yaml",
        "resources:\n  - ../base\npatches:\n  - path: no-token.yaml\n",
    );
    write(
        dir.path(),
        "prod/no-token.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      automountServiceAccountToken: false\n",
    );
    let report = json(dir.path(), &["."]);
    let default = account(&report, None, "default");
    assert_eq!(
        workloads(default),
        owned(&[("api", "not-mounted", "overlays")])
    );
}

#[test]
fn accepted_tokens_and_the_projects_exclusions_are_those_of_check() {
    let dir = tempfile::tempdir().expect("temp dir");
    workspace(dir.path());
    write(dir.path(), "tokenguard.toml", "exclude = [\"vendor/**\"]\n");
    write(
        dir.path(),
        "vendor/pod.yaml",
        "kind: Pod\nmetadata:\n  name: vendored\n  namespace: ci\nspec:\n  serviceAccountName: builder\n  containers: []\n",
    );
    write(
        dir.path(),
        "accepted.yaml",
        "kind: Pod\nmetadata:\n  name: accepted\n  namespace: ci\nspec:\n  serviceAccountName: builder\n  # tokenguard-ignore: it calls the API\n  automountServiceAccountToken: true\n  containers: []\n",
    );
    let report = json(dir.path(), &["."]);
    let builder = account(&report, Some("ci"), "builder");
    let names: Vec<String> = workloads(builder).into_iter().map(|w| w.0).collect();
    assert_eq!(names, ["accepted", "build-api", "cleanup"]);
    assert_eq!(builder["workloads"][0]["accepted"], true);
    assert_eq!(builder["workloads"][1]["accepted"], false);
    // `--no-config`: the vendored pod counts too.
    let report = json(dir.path(), &["--no-config", "."]);
    let builder = account(&report, Some("ci"), "builder");
    assert_eq!(builder["workloads"].as_array().map(Vec::len), Some(4));
}

#[test]
fn standard_input_is_read_like_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tokenguard"))
        .args(["accounts", "--format", "json", "-"])
        .current_dir(dir.path())
        .stdin(std::fs::File::open(write_temp(dir.path(), "in.txt", WORKLOADS)).expect("open"))
        .output()
        .expect("runs");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let builder = account(&report, Some("ci"), "builder");
    assert_eq!(builder["declared"], "not-declared");
    assert_eq!(builder["workloads"][0]["file"], "<stdin>");
}

fn write_temp(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    write(dir, name, text);
    dir.join(name)
}

#[test]
fn exit_statuses_are_those_of_check() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A report, not a gate: mounted tokens do not fail it.
    workspace(dir.path());
    assert_eq!(code(&tokenguard(dir.path(), &["accounts", "."])), 0);
    // Usage errors and unreadable paths: 2.
    let bad = tokenguard(dir.path(), &["accounts", "--format", "sarif", "."]);
    assert_eq!(code(&bad), 2);
    let missing = tokenguard(dir.path(), &["accounts", "nowhere"]);
    assert_eq!(code(&missing), 2, "{}", stderr(&missing));
    let broken_config = tokenguard(dir.path(), &["accounts", "--config", "nope.toml", "."]);
    assert_eq!(code(&broken_config), 2);
    // Nothing to report is said, not an error.
    let empty = tempfile::tempdir().expect("temp dir");
    write(
        empty.path(),
        "cm.yaml",
        "kind: ConfigMap\nmetadata:\n  name: c\n",
    );
    let output = tokenguard(empty.path(), &["accounts", "."]);
    assert_eq!(code(&output), 0);
    assert_eq!(
        stdout(&output),
        "No ServiceAccounts are declared, and no workloads run as one, in the checked files.\n"
    );
}

/// (file, kind, name) of every workload `accounts` says mounts the token
/// without a comment or `[[ignore]]` accepting it, and of every TG001
/// finding of `check`, over the same paths: they must be the same.
fn mounted_and_reported(dir: &Path, path: &str) -> (Vec<String>, Vec<String>) {
    let run = |command: &str| -> Value {
        let output = tokenguard(dir, &[command, "--format", "json", "--no-render", path]);
        assert_ne!(code(&output), 2, "{command}: {}", stderr(&output));
        serde_json::from_slice(&output.stdout).expect("JSON")
    };
    let key = |file: &Value, kind: &Value, name: &Value| format!("{file} {kind} {name}");
    let mut mounted: Vec<String> = run("accounts")["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .flat_map(|a| a["workloads"].as_array().expect("workloads").clone())
        .filter(|w| w["token"] == "mounted" && w["accepted"] == false)
        .map(|w| key(&w["file"], &w["kind"], &w["name"]))
        .collect();
    let mut reported: Vec<String> = run("check")
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "TG001")
        .map(|f| key(&f["file"], &f["kind"], &f["name"]))
        .collect();
    mounted.sort();
    reported.sort();
    (mounted, reported)
}

#[test]
fn a_mounted_token_is_exactly_what_check_reports() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for path in ["tests/fixtures", "examples", "docs/examples"] {
        let (mounted, reported) = mounted_and_reported(root, path);
        assert!(!reported.is_empty(), "{path}: no findings to compare");
        assert_eq!(mounted, reported, "{path}");
    }
}

/// The same over the corpus of real-world manifests (charts, Kustomize),
/// when `../shared` is there.
#[test]
fn a_mounted_token_is_exactly_what_check_reports_on_the_corpus() {
    let Some(shared) =
        common::shared_dir("a_mounted_token_is_exactly_what_check_reports_on_the_corpus")
    else {
        return;
    };
    let corpus = shared.join("corpus");
    let (mounted, reported) = mounted_and_reported(&corpus, ".");
    assert!(reported.len() > 1000, "{}", reported.len());
    assert_eq!(mounted, reported);
}
