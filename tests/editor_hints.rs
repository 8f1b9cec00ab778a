//! Snapshot tests of what an editor shows unasked (issue 14): the inlay hint
//! on each pod spec that does not write `automountServiceAccountToken` and
//! the code lens on each ServiceAccount, exactly as worded and where they
//! go, over a small workspace of several files. Pinned with insta in
//! `tests/snapshots/` (see `tests/snapshots.rs` for how to review them).

use std::fmt::Write as _;

use tokenguard_analysis::host::{AnalysisHost, FilePath, NoFiles};
use tokenguard_analysis::LineIndex;

/// Each file as an editor shows it: a lens as a line of its own above the
/// line it sits on (`^ title`), a hint inline where it goes (`⟨label⟩`),
/// then the hints' tooltips.
fn render(files: &[(&str, &str)]) -> String {
    let mut host = AnalysisHost::new(NoFiles);
    for (name, text) in files {
        host.set_file(FilePath::new(*name), text.to_string());
    }
    let paths: Vec<FilePath> = files.iter().map(|(name, _)| FilePath::new(*name)).collect();
    let mut out = String::new();
    for (n, (name, text)) in files.iter().enumerate() {
        let path = &paths[n];
        // Every file open, the one asked about first.
        let mut open = vec![(path, *text)];
        open.extend(
            files
                .iter()
                .zip(&paths)
                .filter(|((other, _), _)| other != name)
                .map(|((_, t), p)| (p, *t)),
        );
        let hints = host.token_hints(path, text);
        let lenses = host.account_lenses(&open);
        let index = LineIndex::new(text);
        let _ = writeln!(out, "== {name}");
        for line in 0..index.line_count() {
            let start = index.line_start(line);
            let line_text = index.line_text(text, line);
            let end = start + line_text.len();
            for lens in lenses
                .iter()
                .filter(|l| index.line_of(l.range.start) == line)
            {
                let indent = line_text.len() - line_text.trim_start().len();
                let _ = writeln!(out, "     | {}^ {}", " ".repeat(indent), lens.title());
            }
            let mut shown = line_text.to_string();
            for hint in hints
                .iter()
                .rev()
                .filter(|h| h.offset >= start && h.offset <= end)
            {
                shown.insert_str(hint.offset - start, &format!(" ⟨{}⟩", hint.label()));
            }
            if line + 1 == index.line_count() && shown.is_empty() {
                break;
            }
            let _ = writeln!(out, "{:>4} | {shown}", line + 1);
        }
        for hint in &hints {
            let (line, _) = index.line_col_chars(text, hint.offset);
            let _ = writeln!(out, "tooltip {}: {}", line + 1, hint.tooltip());
        }
        out.push('\n');
    }
    out
}

const ACCOUNTS: &str = "\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
automountServiceAccountToken: false
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: api
  namespace: shop
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: unused}
";

const WORKLOADS: &str = "\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: \"0 3 * * *\"
  jobTemplate:
    spec:
      template:
        spec:   # the pod
          serviceAccountName: builder
          containers: []
---
apiVersion: v1
kind: Pod
metadata:
  name: debug
spec:
  serviceAccountName: builder
  automountServiceAccountToken: true
  containers: []
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec: {serviceAccountName: api, containers: []}
---
apiVersion: v1
kind: Pod
metadata:
  name: legacy
spec:
  serviceAccount: ci
  containers: []
---
apiVersion: v1
kind: Pod
metadata:
  name: plain
spec:
  containers: []
";

/// `builder` bound to the built-in ClusterRole `view` and to a Role of
/// this file; `api` (namespace shop) to a ClusterRole defined elsewhere.
const RBAC: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: builder-view}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
  - {kind: ServiceAccount, name: builder}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer}
rules:
  - {apiGroups: [apps], resources: [deployments], verbs: [get, update]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: builder-deploys}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects:
  - {kind: ServiceAccount, name: builder}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: api-ops, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ops}
subjects:
  - {kind: ServiceAccount, name: api}
";

#[test]
fn hints_and_lenses_over_a_workspace() {
    insta::assert_snapshot!(render(&[
        ("k8s/accounts.yaml", ACCOUNTS),
        ("k8s/workloads.yaml", WORKLOADS),
        ("k8s/rbac.yaml", RBAC),
    ]));
}

#[test]
fn an_account_in_the_same_file_decides_and_a_default_account_declared_there_too() {
    insta::assert_snapshot!(render(&[(
        "app.yaml",
        "\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: default
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers: []
",
    )]));
}
