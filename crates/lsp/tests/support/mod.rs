//! What the server's suites share: the test client (`tokenguard-lsp-test-
//! client`, re-exported whole) started in process, and the manifests and
//! helpers several suites use.

#![allow(dead_code)]

use serde_json::Value;

pub use tokenguard_lsp_test_client::*;

/// A client speaking to `tokenguard_lsp::serve` in this process.
pub fn start() -> TestClient {
    TestClient::in_process(tokenguard_lsp::serve)
}

/// A started client, initialized with `capabilities` and `options`.
pub async fn started(capabilities: Value, options: Value) -> TestClient {
    let mut client = start();
    client.initialize(capabilities, options).await;
    client
}

/// A Deployment without the field, running as ServiceAccount `default` in
/// no namespace. Its pod spec's `spec` key is line 9, columns 4-8.
pub const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx
";

/// A Pod that disables automounting itself.
pub const COMPLIANT_POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: api
spec:
  automountServiceAccountToken: false
  containers: []
";

/// LSP's `DiagnosticSeverity` numbers.
pub const WARNING: i64 = 2;
pub const ERROR: i64 = 1;

/// ServiceAccount `default` (no namespace); its name is line 3, columns 8-15.
pub fn service_account(automount: &str) -> String {
    format!("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\nautomountServiceAccountToken: {automount}\n")
}

/// A URI in a workspace that is not on disk.
pub fn uri(name: &str) -> String {
    format!("file:///workspace/{name}")
}

/// The code of the one diagnostic in `diagnostics`.
pub fn only_code(diagnostics: &[Value]) -> &str {
    assert_eq!(
        diagnostics.len(),
        1,
        "one diagnostic expected: {diagnostics:#?}"
    );
    diagnostics[0]["code"].as_str().unwrap()
}

/// The action whose title starts with `prefix`.
pub fn titled<'a>(actions: &'a [Value], prefix: &str) -> &'a Value {
    actions
        .iter()
        .find(|a| a["title"].as_str().is_some_and(|t| t.starts_with(prefix)))
        .unwrap_or_else(|| panic!("no action titled {prefix:?} among {actions:#?}"))
}
