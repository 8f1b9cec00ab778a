//! Snapshot tests of what a finding says about the token it leaves mounted
//! (issue 14): for one workspace holding a binding per risk, each pod's
//! finding (severity, message, related places) and its hover, pinned in
//! `tests/snapshots/risk_snapshots__*.snap`, one snapshot per risk. The
//! conventions are those of `tests/snapshots.rs`: review a change with
//! `cargo insta review` (or `INSTA_UPDATE=always`).
//!
//! The workspace is fed to the analysis host as an editor feeds it (texts
//! kept), with the built-in configuration, then with a project file setting
//! the severity by risk.

use std::fmt::Write as _;

use tokenguard_analysis::host::{AnalysisHost, Configuration, FilePath, HoverFact, NoFiles};
use tokenguard_analysis::{render, Finding, LineIndex};

/// The RBAC objects: one binding per risk.
const RBAC: &str = r#"# One binding per risk of the risk snapshots (tests/risk_snapshots.rs).
# cluster-admin: the built-in ClusterRole, cluster-wide.
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
---
# dangerous-cluster-wide: a declared ClusterRole that reads Secrets.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: secret-reader
rules:
  - apiGroups: [""]
    resources: ["secrets"]
    verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: vault-sync
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: secret-reader
subjects:
  - kind: ServiceAccount
    name: vault
    namespace: build
---
# dangerous-in-namespace: a Role that creates pods and execs into them.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: deployer
  namespace: build
rules:
  - apiGroups: [""]
    resources: ["pods", "pods/exec"]
    verbs: ["create"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: deployer
  namespace: build
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: deployer
subjects:
  - kind: ServiceAccount
    name: deployer
---
# bound: the built-in "view", through the group of the namespace's accounts.
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: viewers
  namespace: docs
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: view
subjects:
  - kind: Group
    name: system:serviceaccounts:docs
    apiGroup: rbac.authorization.k8s.io
---
# unknown: a ClusterRole defined outside the checked files.
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: ops
  namespace: build
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: ops-tools
subjects:
  - kind: ServiceAccount
    name: ops
"#;

/// One workload per risk, in a folder below the RBAC file.
const WORKLOADS: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: runner
  namespace: build
spec:
  template:
    spec:
      serviceAccountName: ci
      containers:
        - name: runner
          image: runner:1
---
apiVersion: v1
kind: Pod
metadata:
  name: vault-sync
  namespace: build
spec:
  serviceAccountName: vault
  automountServiceAccountToken: true
  containers:
    - name: sync
      image: sync:1
---
apiVersion: batch/v1
kind: Job
metadata:
  name: deploy
  namespace: build
spec:
  template:
    spec:
      serviceAccount: deployer
      containers:
        - name: deploy
          image: deploy:1
---
apiVersion: v1
kind: Pod
metadata:
  name: docs
  namespace: docs
spec:
  serviceAccountName: reader
  automountServiceAccountToken:
  containers:
    - name: docs
      image: docs:1
---
apiVersion: v1
kind: Pod
metadata:
  name: ops
  namespace: build
spec:
  serviceAccountName: ops
  containers:
    - name: ops
      image: ops:1
---
apiVersion: v1
kind: Pod
metadata:
  name: lone
  namespace: web
spec:
  containers:
    - name: web
      image: web:1
"#;

const RBAC_FILE: &str = "deploy/rbac.yaml";
const WORKLOADS_FILE: &str = "deploy/apps/workloads.yaml";

fn host() -> AnalysisHost<NoFiles> {
    let mut host = AnalysisHost::new(NoFiles);
    host.set_file(FilePath::new(RBAC_FILE), RBAC.to_string());
    host.set_file(FilePath::new(WORKLOADS_FILE), WORKLOADS.to_string());
    host
}

/// 1-based line and column (in characters).
fn line_col(text: &str, index: &LineIndex, offset: usize) -> String {
    let (line, col) = index.line_col_chars(text, offset);
    format!("{}:{}", line + 1, col + 1)
}

/// The finding of the workload `name`, as the host reports it.
fn finding_of(host: &AnalysisHost<NoFiles>, name: &str) -> Finding {
    let analysis = host.analyze(&FilePath::new(WORKLOADS_FILE), WORKLOADS);
    analysis
        .findings
        .into_iter()
        .find(|f| f.workload.as_ref().and_then(|w| w.name.as_deref()) == Some(name))
        .unwrap_or_else(|| panic!("no finding on {name}"))
}

/// The finding (severity, risk, range, message, related places) and the
/// hover on it.
fn render_risk(host: &AnalysisHost<NoFiles>, name: &str) -> String {
    let finding = finding_of(host, name);
    let index = LineIndex::new(WORKLOADS);
    let rbac_index = LineIndex::new(RBAC);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} at {} (risk {})",
        finding.code.as_str(),
        finding.severity.as_str(),
        line_col(WORKLOADS, &index, finding.range.start),
        finding.risk().unwrap_or("none")
    );
    let _ = writeln!(out, "message: {}", finding.message);
    for related in &finding.related {
        let at = match related.file.as_deref() {
            None => format!(
                "this file {}",
                line_col(WORKLOADS, &index, related.range.start)
            ),
            Some(RBAC_FILE) => format!(
                "{RBAC_FILE} {} {:?}",
                line_col(RBAC, &rbac_index, related.range.start),
                &RBAC[related.range.start..related.range.end]
            ),
            Some(other) => format!("{other} (unexpected)"),
        };
        let _ = writeln!(out, "related: {at}: {}", related.message);
    }
    // The hover the editor shows on the finding's range.
    let hovered = host
        .hover(&FilePath::new(WORKLOADS_FILE), finding.range.start)
        .expect("a hover on the finding");
    let HoverFact::Finding(on) = hovered else {
        panic!("the hover is not on the finding: {hovered:?}");
    };
    let _ = writeln!(out, "\nhover:\n{}", render::finding_hover(&on));
    out
}

#[test]
fn cluster_admin() {
    insta::assert_snapshot!(render_risk(&host(), "runner"));
}

#[test]
fn dangerous_cluster_wide() {
    insta::assert_snapshot!(render_risk(&host(), "vault-sync"));
}

#[test]
fn dangerous_in_namespace() {
    insta::assert_snapshot!(render_risk(&host(), "deploy"));
}

#[test]
fn bound() {
    insta::assert_snapshot!(render_risk(&host(), "docs"));
}

#[test]
fn unknown() {
    insta::assert_snapshot!(render_risk(&host(), "ops"));
}

#[test]
fn discovery_only() {
    insta::assert_snapshot!(render_risk(&host(), "lone"));
}

#[test]
fn each_risk_gets_its_severity_by_the_rule() {
    let severities = |host: &AnalysisHost<NoFiles>| -> Vec<(String, &'static str, &'static str)> {
        ["runner", "vault-sync", "deploy", "docs", "ops", "lone"]
            .into_iter()
            .map(|name| {
                let f = finding_of(host, name);
                (
                    name.to_string(),
                    f.risk().unwrap_or("none"),
                    f.severity.as_str(),
                )
            })
            .collect()
    };
    let row = |name: &str, risk, severity| (name.to_string(), risk, severity);
    // The built-in rule: errors where a dangerous capability is held
    // cluster-wide, the plain severity (warning) elsewhere.
    assert_eq!(
        severities(&host()),
        [
            row("runner", "cluster-admin", "error"),
            row("vault-sync", "dangerous-cluster-wide", "error"),
            row("deploy", "dangerous-in-namespace", "warning"),
            row("docs", "bound", "warning"),
            row("ops", "unknown", "warning"),
            row("lone", "discovery-only", "warning"),
        ]
    );
    // A project's table wins entry by entry; the plain severity covers the
    // risks neither it nor the built-in rule decides.
    let mut host = host();
    let configuration = Configuration::from_text(
        FilePath::new("deploy/tokenguard.toml"),
        "severity = \"hint\"\n[severity_by_risk]\ndangerous-cluster-wide = \"warning\"\ndangerous-in-namespace = \"error\"\ndiscovery-only = \"information\"\n",
    )
    .expect("valid");
    host.set_configuration(None, configuration);
    assert_eq!(
        severities(&host),
        [
            row("runner", "cluster-admin", "error"),
            row("vault-sync", "dangerous-cluster-wide", "warning"),
            row("deploy", "dangerous-in-namespace", "error"),
            row("docs", "bound", "hint"),
            row("ops", "unknown", "hint"),
            row("lone", "discovery-only", "information"),
        ]
    );
}
