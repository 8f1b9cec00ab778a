//! The language server's protocol behaviour, end to end: a test client
//! speaks framed JSON-RPC to `tokenguard_lsp::serve` over an in-memory pipe.

mod support;

use std::path::Path;

use serde_json::{json, Value};

use support::{
    expected_diagnostics, file_uri, find_range, pos, range, summarize, workspace_edit_for,
    workspace_edit_uris, Enc, TestClient,
};

/// A Deployment without the field, running as ServiceAccount `default` in
/// no namespace. Its pod spec's `spec` key is line 9, columns 4-8.
const DEPLOYMENT: &str = "\
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
const COMPLIANT_POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: api
spec:
  automountServiceAccountToken: false
  containers: []
";

const WARNING: i64 = 2;
const ERROR: i64 = 1;

/// ServiceAccount `default` (no namespace); its name is line 3, columns 8-15.
fn service_account(automount: &str) -> String {
    format!("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\nautomountServiceAccountToken: {automount}\n")
}

fn uri(name: &str) -> String {
    format!("file:///workspace/{name}")
}

async fn started(capabilities: Value, options: Value) -> TestClient {
    let mut client = TestClient::start();
    client.initialize(capabilities, options).await;
    client
}

fn only_code(diagnostics: &[Value]) -> &str {
    assert_eq!(
        diagnostics.len(),
        1,
        "one diagnostic expected: {diagnostics:#?}"
    );
    diagnostics[0]["code"].as_str().unwrap()
}

fn titled<'a>(actions: &'a [Value], prefix: &str) -> &'a Value {
    actions
        .iter()
        .find(|a| a["title"].as_str().is_some_and(|t| t.starts_with(prefix)))
        .unwrap_or_else(|| panic!("no action titled {prefix:?} among {actions:#?}"))
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

// ---------------------------------------------------------------------------
// initialize
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialize_negotiates_utf8_when_the_client_offers_it() {
    let mut client = TestClient::start();
    let result = client
        .initialize(
            json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}}),
            Value::Null,
        )
        .await;
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-8");
    assert_eq!(result["serverInfo"]["name"], "tokenguard");
    assert!(client.shutdown_and_exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialize_negotiates_utf16_when_utf8_is_not_offered() {
    for capabilities in [
        json!({}),
        json!({"general": {"positionEncodings": ["utf-16", "utf-32"]}}),
    ] {
        let mut client = TestClient::start();
        let result = client.initialize(capabilities.clone(), Value::Null).await;
        assert_eq!(
            result["capabilities"]["positionEncoding"], "utf-16",
            "for {capabilities}"
        );
        assert!(client.shutdown_and_exit().await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialize_announces_incremental_sync_hover_and_code_actions() {
    let mut client = TestClient::start();
    let caps = client.initialize(json!({}), Value::Null).await["capabilities"].clone();
    assert_eq!(caps["textDocumentSync"]["openClose"], true);
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental");
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(
        caps["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix", "source.fixAll.tokenguard"])
    );
    assert_eq!(caps["codeActionProvider"]["resolveProvider"], false);
    assert!(
        caps.get("diagnosticProvider").is_none(),
        "push mode unless the client pulls"
    );
}

// ---------------------------------------------------------------------------
// diagnostics
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnostics_are_published_on_open_with_the_version_the_spec_key_and_the_fix() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open_version(&doc, 7, DEPLOYMENT).await;
    let diagnostics = client.wait_diagnostics(&doc, 7).await;
    assert_eq!(only_code(&diagnostics), "TG001");
    let d = &diagnostics[0];
    assert_eq!(d["range"], range(9, 4, 9, 8), "the pod spec's `spec` key");
    assert_eq!(d["severity"], WARNING);
    assert_eq!(d["source"], "tokenguard");
    assert!(d["codeDescription"]["href"]
        .as_str()
        .unwrap()
        .starts_with("https://kubernetes.io/"));
    let message = d["message"].as_str().unwrap();
    assert!(
        message.starts_with("Deployment \"web\" mounts its service-account token"),
        "{message}"
    );
    assert!(
        message.contains("ServiceAccount \"default\" is not among the checked files"),
        "{message}"
    );
    assert!(
        d.get("relatedInformation").is_none(),
        "no ServiceAccount to point at"
    );
    assert_eq!(d["data"]["version"], 7);
    assert_eq!(
        d["data"]["fix"]["edits"],
        json!([{"range": range(10, 0, 10, 0), "newText": "      automountServiceAccountToken: false\n"}])
    );
    assert!(d["data"]["fix"]["title"]
        .as_str()
        .unwrap()
        .contains("automountServiceAccountToken"));
}

/// A Deployment whose `spec` key follows "é😀" on the same line.
const NON_ASCII: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: café
spec:
  template: {metadata: {labels: {app: \"é😀\"}}, spec: {containers: []}}
";

async fn edits_on_a_line_with_non_ascii_text_move_the_diagnostic(enc: Enc) {
    let mut client = started(enc.capabilities(), Value::Null).await;
    assert_eq!(client.encoding, enc);
    let doc = uri("non-ascii.yaml");
    client.open(&doc, NON_ASCII).await;
    // "  template: {metadata: {labels: {app: \"é😀\"}}, " is 50 bytes, 47 UTF-16 units.
    let spec_col = match enc {
        Enc::Utf8 => 50,
        Enc::Utf16 => 47,
    };
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    assert_eq!(only_code(&diagnostics), "TG001");
    assert_eq!(diagnostics[0]["range"], range(5, spec_col, 5, spec_col + 4));
    let spec_key = |client: &TestClient| find_range(client.text(&doc), "spec: {containers", 0, enc);
    let with_len4 = |r: Value| {
        let (line, start) = (
            r["start"]["line"].as_u64().unwrap(),
            r["start"]["character"].as_u64().unwrap(),
        );
        json!({"start": r["start"], "end": pos(line as u32, start as u32 + 4)})
    };

    // Insert "ü😀" inside the label value, right after the emoji.
    let (e, emoji) = (enc_len(enc, "é"), enc_len(enc, "😀"));
    let after_emoji = 39 + e + emoji;
    client
        .change(&doc, 2, range(5, after_emoji, 5, after_emoji), "ü😀")
        .await;
    let moved = spec_col + enc_len(enc, "ü😀");
    let diagnostics = client.wait_diagnostics(&doc, 2).await;
    assert_eq!(diagnostics[0]["range"], range(5, moved, 5, moved + 4));
    assert_eq!(diagnostics[0]["range"], with_len4(spec_key(&client)));

    // Delete the first emoji: exactly its width in the session's encoding.
    client
        .change(&doc, 3, range(5, 39 + e, 5, 39 + e + emoji), "")
        .await;
    let moved = moved - emoji;
    let diagnostics = client.wait_diagnostics(&doc, 3).await;
    assert_eq!(diagnostics[0]["range"], range(5, moved, 5, moved + 4));
    assert!(client.text(&doc).contains("{app: \"éü😀\"}"));

    // An edit after the key on the same line does not move it; a new line
    // above moves it down.
    client
        .change(&doc, 4, range(5, moved + 20, 5, moved + 20), "{name: é😀}")
        .await;
    client
        .change(&doc, 5, range(3, 0, 3, 0), "  namespace: \"ñ😀\"\n")
        .await;
    let diagnostics = client.wait_diagnostics(&doc, 5).await;
    assert_eq!(diagnostics[0]["range"], range(6, moved, 6, moved + 4));
    assert_eq!(diagnostics[0]["range"], with_len4(spec_key(&client)));
    assert!(client
        .text(&doc)
        .contains("spec: {containers: [{name: é😀}]}"));
    assert_eq!(
        summarize(&diagnostics),
        expected_diagnostics(client.text(&doc), enc)
    );
}

fn enc_len(enc: Enc, s: &str) -> u32 {
    match enc {
        Enc::Utf8 => s.len() as u32,
        Enc::Utf16 => s.encode_utf16().count() as u32,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_on_a_line_with_non_ascii_text_move_the_diagnostic_in_utf8_sessions() {
    edits_on_a_line_with_non_ascii_text_move_the_diagnostic(Enc::Utf8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_on_a_line_with_non_ascii_text_move_the_diagnostic_in_utf16_sessions() {
    edits_on_a_line_with_non_ascii_text_move_the_diagnostic(Enc::Utf16).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_changes_in_one_notification_apply_in_order() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    client.wait_diagnostics(&doc, 1).await;
    // The second change's position only exists after the first.
    client
        .change_many(
            &doc,
            2,
            vec![
                (range(0, 0, 0, 0), "# é😀\n# two\n".to_string()),
                (range(1, 5, 1, 5), " lines".to_string()),
                (range(11, 4, 11, 8), "spec".to_string()),
            ],
        )
        .await;
    let diagnostics = client.wait_diagnostics(&doc, 2).await;
    assert_eq!(diagnostics[0]["range"], range(11, 4, 11, 8));
    assert!(client
        .text(&doc)
        .starts_with("# é😀\n# two lines\napiVersion"));
    assert_eq!(
        summarize(&diagnostics),
        expected_diagnostics(client.text(&doc), Enc::Utf16)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yaml_that_is_not_kubernetes_gets_an_empty_list() {
    let mut client = started(json!({}), Value::Null).await;
    let workflow = uri(".github/workflows/ci.yaml");
    client
        .open(&workflow, "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n")
        .await;
    assert_eq!(
        client.wait_diagnostics(&workflow, 1).await,
        Vec::<Value>::new()
    );
    let broken = uri(".github/workflows/broken.yaml");
    client
        .open(
            &broken,
            "on: push\njobs:\n  build: {runs-on: [ubuntu\n  bad: : :\n",
        )
        .await;
    assert_eq!(
        client.wait_diagnostics(&broken, 1).await,
        Vec::<Value>::new(),
        "not even TG000"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_with_a_misspelled_api_version_is_still_judged() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("typo.yaml");
    client
        .open(
            &doc,
            "apiVersoin: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers: []\n",
        )
        .await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    assert_eq!(only_code(&diagnostics), "TG001", "{diagnostics:?}");
    // Broken too: the `kind` at the root still makes it a manifest.
    let broken = uri("typo-broken.yaml");
    client
        .open(&broken, "apiVerison: v1\nkind: Pod\nmetadata: {name: x\n")
        .await;
    let diagnostics = client.wait_diagnostics(&broken, 1).await;
    assert_eq!(only_code(&diagnostics), "TG000", "{diagnostics:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_syntax_error_in_a_kubernetes_file_is_tg000() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("broken.yaml");
    client
        .open(
            &doc,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x\nspec:\n  containers: []\n",
        )
        .await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    assert_eq!(only_code(&diagnostics), "TG000");
    assert_eq!(diagnostics[0]["severity"], ERROR);
    assert!(diagnostics[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("YAML syntax error"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_document_clears_its_diagnostics() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    assert_eq!(client.wait_diagnostics(&doc, 1).await.len(), 1);
    client.close(&doc).await;
    let cleared = client
        .wait_published(&doc, "the empty list after close", |_| true)
        .await;
    assert!(cleared.diagnostics.is_empty(), "{cleared:?}");
    assert_eq!(
        client.hover(&doc, 9, 5).await,
        Value::Null,
        "a closed document is unknown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_document_closed_while_being_analysed_is_left_without_diagnostics() {
    let mut client = started(json!({}), Value::Null).await;
    let docs: Vec<String> = (0..100).map(|i| uri(&format!("churn-{i}.yaml"))).collect();
    for doc in &docs {
        client.open(doc, DEPLOYMENT).await;
        client.change(doc, 2, range(3, 8, 3, 11), "api").await;
        client.close(doc).await;
    }
    let after = uri("after.yaml");
    client.open(&after, DEPLOYMENT).await;
    client.wait_diagnostics(&after, 1).await;
    client.request("shutdown", Value::Null).await;
    client.notify("exit", Value::Null).await;
    client.drain_until_closed().await;
    for doc in &docs {
        let last = client
            .all_published()
            .into_iter()
            .rfind(|p| p["params"]["uri"] == doc.as_str());
        let last = last.expect("close publishes an empty list");
        assert_eq!(
            last["params"]["diagnostics"],
            json!([]),
            "{doc} keeps {last}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_to_a_document_that_is_not_open_is_ignored_and_serving_goes_on() {
    let mut client = started(json!({}), Value::Null).await;
    let stranger = uri("never-opened.yaml");
    client
        .notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": stranger, "version": 2},
                   "contentChanges": [{"range": range(0, 0, 0, 0), "text": "kind: Pod\n"}]}),
        )
        .await;
    assert_eq!(client.hover(&stranger, 0, 1).await, Value::Null);
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    assert_eq!(only_code(&client.wait_diagnostics(&doc, 1).await), "TG001");
    assert!(
        client
            .all_published()
            .iter()
            .all(|p| p["params"]["uri"] != stranger.as_str()),
        "nothing is published for the unknown document"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_range_past_the_end_of_the_text_is_clamped() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("pods.yaml");
    client.open(&doc, COMPLIANT_POD).await;
    assert!(client.wait_diagnostics(&doc, 1).await.is_empty());
    // Lines 50-60 do not exist: the text is appended at the end.
    let second = "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\nspec:\n  containers: []\n";
    client.change(&doc, 2, range(50, 0, 60, 3), second).await;
    let diagnostics = client.wait_diagnostics(&doc, 2).await;
    assert_eq!(client.text(&doc), format!("{COMPLIANT_POD}{second}"));
    assert_eq!(only_code(&diagnostics), "TG001");
    assert_eq!(diagnostics[0]["range"], range(12, 0, 12, 4));
    // A column past the end of line 3 ends at the line's end, before its break.
    client
        .change(&doc, 3, range(3, 2, 3, 400), "name: renamed")
        .await;
    assert_eq!(
        client.wait_diagnostics(&doc, 3).await[0]["range"],
        range(12, 0, 12, 4)
    );
    assert!(client
        .text(&doc)
        .contains("metadata:\n  name: renamed\nspec:"));
    // The server's text equals the client's: an edit on a later line lands
    // exactly where the client put it and fixes the second Pod.
    client
        .change(
            &doc,
            4,
            range(13, 0, 13, 0),
            "  automountServiceAccountToken: false\n",
        )
        .await;
    assert!(
        client.wait_diagnostics(&doc, 4).await.is_empty(),
        "{}",
        client.text(&doc)
    );
}

// ---------------------------------------------------------------------------
// code actions
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preferred_quick_fix_makes_the_diagnostic_go_away() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    let actions = client
        .code_actions(&doc, range(9, 5, 9, 5), &diagnostics, Value::Null)
        .await;
    let preferred: Vec<&Value> = actions
        .iter()
        .filter(|a| a["isPreferred"] == true)
        .collect();
    assert_eq!(preferred.len(), 1, "{actions:#?}");
    let fix = preferred[0];
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["diagnostics"][0]["code"], "TG001");
    assert_eq!(fix["diagnostics"][0]["range"], range(9, 4, 9, 8));
    assert_eq!(workspace_edit_uris(&fix["edit"]), vec![doc.clone()]);
    let version = client.apply_workspace_edit(&doc, &fix["edit"]).await;
    assert!(client
        .text(&doc)
        .contains("    spec:\n      automountServiceAccountToken: false\n      containers:\n"));
    assert!(client.wait_diagnostics(&doc, version).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ignore_comment_quick_fix_makes_the_diagnostic_go_away() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    let actions = client
        .code_actions(&doc, range(9, 4, 9, 8), &diagnostics, json!(["quickfix"]))
        .await;
    let ignore = titled(&actions, "Ignore this finding");
    assert_eq!(ignore["isPreferred"], false);
    let version = client.apply_workspace_edit(&doc, &ignore["edit"]).await;
    assert!(client
        .text(&doc)
        .contains("    # tokenguard-ignore: needs the Kubernetes API\n    spec:\n"));
    assert!(client.wait_diagnostics(&doc, version).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_code_actions_away_from_a_finding() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("pod.yaml");
    client.open(&doc, COMPLIANT_POD).await;
    client.wait_diagnostics(&doc, 1).await;
    assert!(client
        .code_actions(&doc, range(0, 0, 6, 0), &[], Value::Null)
        .await
        .is_empty());
}

/// A Pod and a Deployment, both without the field.
fn two_workloads() -> String {
    format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: solo}}\nspec:\n  containers: []\n---\n{DEPLOYMENT}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_all_comes_only_when_source_fix_all_is_asked_for() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("two.yaml");
    client.open(&doc, &two_workloads()).await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    assert_eq!(diagnostics.len(), 2);

    let quick = client
        .code_actions(&doc, range(3, 0, 3, 4), &diagnostics, json!(["quickfix"]))
        .await;
    assert!(!quick.is_empty());
    assert!(quick.iter().all(|a| a["kind"] == "quickfix"), "{quick:#?}");

    let whole = range(0, 0, 20, 0);
    let fix_all = client
        .code_actions(&doc, whole, &diagnostics, json!(["source.fixAll"]))
        .await;
    assert_eq!(fix_all.len(), 1, "{fix_all:#?}");
    assert_eq!(fix_all[0]["kind"], "source.fixAll.tokenguard");
    assert_eq!(workspace_edit_for(&fix_all[0]["edit"], &doc).len(), 2);
    let version = client.apply_workspace_edit(&doc, &fix_all[0]["edit"]).await;
    assert!(client.wait_diagnostics(&doc, version).await.is_empty());
    let again = client
        .code_actions(&doc, range(0, 0, 20, 0), &[], json!(["source.fixAll"]))
        .await;
    assert!(again.is_empty(), "nothing left to fix: {again:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_all_is_resolved_lazily_when_the_client_can_resolve_edits() {
    let capabilities =
        json!({"textDocument": {"codeAction": {"resolveSupport": {"properties": ["edit"]}}}});
    let mut client = TestClient::start();
    let result = client.initialize(capabilities, Value::Null).await;
    assert_eq!(
        result["capabilities"]["codeActionProvider"]["resolveProvider"],
        true
    );
    let doc = uri("two.yaml");
    client.open(&doc, &two_workloads()).await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    let actions = client
        .code_actions(
            &doc,
            range(0, 0, 20, 0),
            &diagnostics,
            json!(["source.fixAll"]),
        )
        .await;
    assert_eq!(actions.len(), 1);
    let lazy = &actions[0];
    assert!(
        lazy.get("edit").is_none(),
        "the edit waits for resolve: {lazy:#?}"
    );
    assert!(!lazy["data"].is_null());
    let resolved = client.request("codeAction/resolve", lazy.clone()).await;
    assert_eq!(resolved["title"], lazy["title"]);
    assert_eq!(workspace_edit_for(&resolved["edit"], &doc).len(), 2);
    let version = client.apply_workspace_edit(&doc, &resolved["edit"]).await;
    assert!(client.wait_diagnostics(&doc, version).await.is_empty());
}

// ---------------------------------------------------------------------------
// hover
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_on_the_reported_spec_key_explains_the_rule_and_the_fix() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    client.wait_diagnostics(&doc, 1).await;
    let hover = client.hover(&doc, 9, 6).await;
    assert_eq!(hover["contents"]["kind"], "markdown");
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("TG001"), "{text}");
    assert!(
        text.contains("automountServiceAccountToken: false"),
        "{text}"
    );
    assert!(text.contains("https://kubernetes.io/"), "{text}");
    assert_eq!(
        client.hover(&doc, 1, 2).await,
        Value::Null,
        "`kind` is not reported"
    );
    assert_eq!(
        client.hover(&doc, 4, 1).await,
        Value::Null,
        "the outer `spec` is not the pod spec"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_on_the_automount_key_explains_the_field() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("pod.yaml");
    client.open(&doc, COMPLIANT_POD).await;
    client.wait_diagnostics(&doc, 1).await;
    let hover = client.hover(&doc, 5, 10).await;
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("`automountServiceAccountToken`"), "{text}");
    assert!(
        text.contains("Whether Kubernetes mounts the ServiceAccount token"),
        "{text}"
    );
    assert_eq!(
        client.hover(&doc, 5, 34).await,
        Value::Null,
        "on the value `false`"
    );
    assert_eq!(
        client.hover(&doc, 6, 4).await,
        Value::Null,
        "on `containers`"
    );
}

// ---------------------------------------------------------------------------
// ServiceAccounts in other documents and on disk
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_account_in_another_open_document_decides_and_its_changes_republish() {
    let mut client = started(json!({}), Value::Null).await;
    let deploy = uri("deploy.yaml");
    let account = uri("sa.yaml");
    client.open(&deploy, DEPLOYMENT).await;
    assert_eq!(
        only_code(&client.wait_diagnostics(&deploy, 1).await),
        "TG001"
    );

    client.open(&account, &service_account("false")).await;
    assert!(client.wait_diagnostics(&account, 1).await.is_empty());
    client
        .wait_until(&deploy, "compliant through the open ServiceAccount", |d| {
            d.is_empty()
        })
        .await;

    // Turning it on re-publishes the Deployment, which was not touched.
    client
        .change(&account, 2, range(4, 30, 4, 35), "true")
        .await;
    let diagnostics = client
        .wait_until(&deploy, "reported again", |d| !d.is_empty())
        .await;
    assert_eq!(client.version(&deploy), 1);
    let d = &diagnostics[0];
    assert_eq!(d["code"], "TG001");
    assert!(d["message"]
        .as_str()
        .unwrap()
        .contains("ServiceAccount \"default\" explicitly enables automounting"));
    assert_eq!(
        d["relatedInformation"],
        json!([{
            "location": {"uri": account, "range": range(3, 8, 3, 15)},
            "message": "ServiceAccount \"default\" enables automounting",
        }])
    );

    // The fix on the ServiceAccount edits the account's document.
    let actions = client
        .code_actions(
            &deploy,
            range(9, 4, 9, 8),
            &diagnostics,
            json!(["quickfix"]),
        )
        .await;
    let on_account = titled(
        &actions,
        "Disable automounting on ServiceAccount \"default\"",
    );
    assert_eq!(on_account["isPreferred"], false);
    assert_eq!(
        workspace_edit_uris(&on_account["edit"]),
        vec![account.clone()]
    );
    let version = client
        .apply_workspace_edit(&account, &on_account["edit"])
        .await;
    assert_eq!(client.text(&account), service_account("false"));
    assert!(client.wait_diagnostics(&account, version).await.is_empty());
    client
        .wait_until(
            &deploy,
            "compliant again after the fix on the account",
            |d| d.is_empty(),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workloads_opened_together_with_their_service_accounts_end_up_compliant() {
    let mut client = started(json!({}), Value::Null).await;
    let namespaced = |text: &str, ns: usize| {
        text.replacen(
            "metadata:\n",
            &format!("metadata:\n  namespace: ns{ns}\n"),
            1,
        )
    };
    let pairs: Vec<(String, String)> = (0..60)
        .map(|i| {
            (
                uri(&format!("deploy-{i}.yaml")),
                uri(&format!("sa-{i}.yaml")),
            )
        })
        .collect();
    for (i, (deploy, account)) in pairs.iter().enumerate() {
        client.open(deploy, &namespaced(DEPLOYMENT, i)).await;
        client
            .open(account, &namespaced(&service_account("false"), i))
            .await;
    }
    for (deploy, _) in &pairs {
        client
            .wait_until(deploy, "compliant", |d| d.is_empty())
            .await;
    }
    client.request("shutdown", Value::Null).await;
    client.notify("exit", Value::Null).await;
    client.drain_until_closed().await;
    for (deploy, _) in &pairs {
        let last = client
            .all_published()
            .into_iter()
            .rfind(|p| p["params"]["uri"] == deploy.as_str())
            .unwrap();
        assert_eq!(
            last["params"]["diagnostics"],
            json!([]),
            "{deploy} ends with {last}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_account_in_another_namespace_does_not_count() {
    let mut client = started(json!({}), Value::Null).await;
    let deploy = uri("deploy.yaml");
    let account = uri("sa.yaml");
    let namespaced = service_account("false")
        .replace("  name: default\n", "  name: default\n  namespace: prod\n");
    client.open(&account, &namespaced).await;
    client.wait_diagnostics(&account, 1).await;
    client.open(&deploy, DEPLOYMENT).await;
    assert_eq!(
        only_code(&client.wait_diagnostics(&deploy, 1).await),
        "TG001"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_service_account_from_the_same_document_reports_the_workload_again() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("all-in-one.yaml");
    let text = format!("{}---\n{DEPLOYMENT}", service_account("false"));
    client.open(&doc, &text).await;
    assert!(client.wait_diagnostics(&doc, 1).await.is_empty());
    // Delete the ServiceAccount document (lines 0-5).
    client.change(&doc, 2, range(0, 0, 6, 0), "").await;
    assert_eq!(client.text(&doc), DEPLOYMENT);
    let diagnostics = client.wait_diagnostics(&doc, 2).await;
    assert_eq!(
        summarize(&diagnostics),
        expected_diagnostics(DEPLOYMENT, client.encoding)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_account_on_disk_is_found_after_the_workspace_is_indexed() {
    let root = tempfile::tempdir().unwrap();
    write(
        &root.path().join("accounts/default.yaml"),
        &service_account("false"),
    );
    write(&root.path().join("app/config.yaml"), "replicaCount: 1\n");
    let mut client = TestClient::start();
    client
        .initialize_in(
            root.path(),
            json!({"window": {"workDoneProgress": true}}),
            Value::Null,
        )
        .await;
    client
        .wait_message("$/progress", |m| m["params"]["value"]["kind"] == "end")
        .await;
    assert!(
        client
            .log
            .iter()
            .any(|m| m["method"] == "window/workDoneProgress/create"),
        "progress was created before it was reported"
    );
    let deploy = file_uri(&root.path().join("app/deploy.yaml"));
    client.open(&deploy, DEPLOYMENT).await;
    assert!(client.wait_diagnostics(&deploy, 1).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_opened_before_indexing_finishes_are_republished_after_it() {
    let root = tempfile::tempdir().unwrap();
    write(&root.path().join("sa.yml"), &service_account("no"));
    let mut client = TestClient::start();
    client
        .initialize_in(root.path(), json!({}), Value::Null)
        .await;
    let deploy = file_uri(&root.path().join("deploy.yaml"));
    client.open(&deploy, DEPLOYMENT).await;
    client
        .wait_until(&deploy, "compliant once the disk is indexed", |d| {
            d.is_empty()
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fix_on_a_service_account_on_disk_edits_its_file_and_watched_changes_republish() {
    let root = tempfile::tempdir().unwrap();
    let sa_path = root.path().join("rbac/service account.yaml");
    let sa_text = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n";
    write(&sa_path, sa_text);
    let sa_uri = file_uri(&sa_path);
    assert!(sa_uri.ends_with("/rbac/service%20account.yaml"));
    let capabilities =
        json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    let mut client = TestClient::start();
    client
        .initialize_in(root.path(), capabilities, Value::Null)
        .await;
    let registration = client
        .wait_message("client/registerCapability", |_| true)
        .await;
    assert_eq!(
        registration["params"]["registrations"][0]["method"],
        "workspace/didChangeWatchedFiles"
    );

    let deploy = file_uri(&root.path().join("deploy.yaml"));
    client.open(&deploy, DEPLOYMENT).await;
    let diagnostics = client
        .wait_until(&deploy, "pointing at the ServiceAccount on disk", |d| {
            d.len() == 1 && d[0].get("relatedInformation").is_some()
        })
        .await;
    assert_eq!(
        diagnostics[0]["relatedInformation"],
        json!([{
            "location": {"uri": sa_uri, "range": range(3, 8, 3, 15)},
            "message": "ServiceAccount \"default\" does not disable automounting",
        }])
    );

    let actions = client
        .code_actions(&deploy, range(9, 4, 9, 8), &diagnostics, Value::Null)
        .await;
    let on_account = titled(
        &actions,
        "Disable automounting on ServiceAccount \"default\"",
    );
    assert_eq!(
        workspace_edit_uris(&on_account["edit"]),
        vec![sa_uri.clone()]
    );
    let fixed = support::apply_text_edits(
        sa_text,
        &workspace_edit_for(&on_account["edit"], &sa_uri),
        client.encoding,
    );
    assert_eq!(
        fixed,
        format!("{sa_text}automountServiceAccountToken: false\n")
    );

    // The client writes the file and tells the server.
    let changed = |uri: &str, kind: u8| json!({"changes": [{"uri": uri, "type": kind}]});
    std::fs::write(&sa_path, &fixed).unwrap();
    client
        .notify("workspace/didChangeWatchedFiles", changed(&sa_uri, 2))
        .await;
    client
        .wait_until(&deploy, "compliant after the account file changed", |d| {
            d.is_empty()
        })
        .await;

    std::fs::write(&sa_path, service_account("true")).unwrap();
    client
        .notify("workspace/didChangeWatchedFiles", changed(&sa_uri, 2))
        .await;
    let diagnostics = client
        .wait_until(
            &deploy,
            "reported after the account file enabled automounting",
            |d| !d.is_empty(),
        )
        .await;
    assert!(diagnostics[0]["message"]
        .as_str()
        .unwrap()
        .contains("explicitly enables automounting"));

    std::fs::remove_file(&sa_path).unwrap();
    client
        .notify("workspace/didChangeWatchedFiles", changed(&sa_uri, 3))
        .await;
    let diagnostics = client
        .wait_until(&deploy, "the account file deleted", |d| {
            d.len() == 1 && d[0].get("relatedInformation").is_none()
        })
        .await;
    assert!(diagnostics[0]["message"]
        .as_str()
        .unwrap()
        .contains("is not among the checked files"));
}

// ---------------------------------------------------------------------------
// configuration
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialization_options_set_the_severity() {
    let mut client = started(json!({}), json!({"severity": "error"})).await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    assert_eq!(client.wait_diagnostics(&doc, 1).await[0]["severity"], ERROR);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_the_server_in_the_configuration_clears_diagnostics() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    assert_eq!(client.wait_diagnostics(&doc, 1).await.len(), 1);
    client
        .notify(
            "workspace/didChangeConfiguration",
            json!({"settings": {"tokenguard": {"enable": false}}}),
        )
        .await;
    client
        .wait_until(&doc, "empty once disabled", |d| d.is_empty())
        .await;
    assert!(client
        .code_actions(&doc, range(9, 4, 9, 8), &[], Value::Null)
        .await
        .is_empty());
    assert_eq!(client.hover(&doc, 9, 5).await, Value::Null);
    client
        .notify(
            "workspace/didChangeConfiguration",
            json!({"settings": {"tokenguard": {"enable": true}}}),
        )
        .await;
    client
        .wait_until(&doc, "reported once enabled", |d| d.len() == 1)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_pulled_from_clients_that_support_workspace_configuration() {
    let mut client = TestClient::start();
    *client.configuration.lock().unwrap() = json!({"tokenguard": {"severity": "hint"}});
    client
        .initialize(json!({"workspace": {"configuration": true}}), Value::Null)
        .await;
    client
        .wait_message("workspace/configuration", |_| true)
        .await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    client
        .wait_until(&doc, "a hint", |d| d.len() == 1 && d[0]["severity"] == 4)
        .await;
    *client.configuration.lock().unwrap() = json!({"tokenguard": {"enable": false}});
    client
        .notify(
            "workspace/didChangeConfiguration",
            json!({"settings": null}),
        )
        .await;
    client
        .wait_until(&doc, "empty once disabled", |d| d.is_empty())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulled_settings_apply_to_documents_opened_while_they_were_being_fetched() {
    // Editors send didOpen right after initialized, before answering the
    // server's workspace/configuration request.
    let mut client = TestClient::start();
    *client.configuration.lock().unwrap() = json!({"tokenguard": {"severity": "error"}});
    client
        .initialize(json!({"workspace": {"configuration": true}}), Value::Null)
        .await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    client
        .wait_until(&doc, "an error, as configured", |d| {
            d.len() == 1 && d[0]["severity"] == ERROR
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_buffer_speaks_for_its_file_not_the_copy_on_disk() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("all-in-one.yaml");
    let text = format!("{}---\n{DEPLOYMENT}", service_account("false"));
    write(&path, &text);
    let mut client = TestClient::start();
    client
        .initialize_in(
            root.path(),
            json!({"window": {"workDoneProgress": true}}),
            Value::Null,
        )
        .await;
    client
        .wait_message("$/progress", |m| m["params"]["value"]["kind"] == "end")
        .await;
    let doc = file_uri(&path);
    client.open(&doc, &text).await;
    assert!(client.wait_diagnostics(&doc, 1).await.is_empty());
    // The disk still has the ServiceAccount; the buffer no longer does.
    client.change(&doc, 2, range(0, 0, 6, 0), "").await;
    assert_eq!(only_code(&client.wait_diagnostics(&doc, 2).await), "TG001");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syntax_errors_can_be_turned_off() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("mixed.yaml");
    let text = format!("{DEPLOYMENT}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: [\n");
    client.open(&doc, &text).await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    let codes: Vec<&str> = diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["TG001", "TG000"]);
    client
        .notify(
            "workspace/didChangeConfiguration",
            json!({"settings": {"tokenguard": {"syntaxErrors": false}}}),
        )
        .await;
    let diagnostics = client
        .wait_until(&doc, "without TG000", |d| {
            d.iter().all(|d| d["code"] != "TG000")
        })
        .await;
    assert_eq!(only_code(&diagnostics), "TG001");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_excluded_file_gets_no_diagnostics() {
    let root = tempfile::tempdir().unwrap();
    let mut client = TestClient::start();
    client
        .initialize_in(root.path(), json!({}), json!({"exclude": ["generated/**"]}))
        .await;
    let excluded = file_uri(&root.path().join("generated/deploy.yaml"));
    let checked = file_uri(&root.path().join("k8s/deploy.yaml"));
    client.open(&excluded, DEPLOYMENT).await;
    client.open(&checked, DEPLOYMENT).await;
    assert!(client.wait_diagnostics(&excluded, 1).await.is_empty());
    assert_eq!(
        only_code(&client.wait_diagnostics(&checked, 1).await),
        "TG001"
    );
    assert!(client
        .code_actions(&excluded, range(9, 4, 9, 8), &[], Value::Null)
        .await
        .is_empty());
}

// ---------------------------------------------------------------------------
// pull diagnostics
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_pull_diagnostics_get_full_reports_and_no_pushes() {
    let mut client = TestClient::start();
    let result = client
        .initialize(
            json!({
                "textDocument": {"diagnostic": {"dynamicRegistration": false}},
                "workspace": {"diagnostics": {"refreshSupport": true}}
            }),
            Value::Null,
        )
        .await;
    assert_eq!(
        result["capabilities"]["diagnosticProvider"]["identifier"],
        "tokenguard"
    );
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    let report = client
        .request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": doc}}),
        )
        .await;
    assert_eq!(report["kind"], "full");
    let items = report["items"].as_array().unwrap();
    assert_eq!(only_code(items), "TG001");
    assert_eq!(items[0]["range"], range(9, 4, 9, 8));

    let actions = client
        .code_actions(&doc, range(9, 4, 9, 8), items, json!(["quickfix"]))
        .await;
    let fix = actions.iter().find(|a| a["isPreferred"] == true).unwrap();
    client.apply_workspace_edit(&doc, &fix["edit"]).await;
    let report = client
        .request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": doc}}),
        )
        .await;
    assert_eq!(report["items"], json!([]), "the pull sees the latest text");

    client.close(&doc).await;
    client.request("shutdown", Value::Null).await;
    client.notify("exit", Value::Null).await;
    client.drain_until_closed().await;
    assert!(
        client.all_published().is_empty(),
        "pushed: {:#?}",
        client.all_published()
    );
    assert!(client.join().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_pull_but_cannot_be_asked_to_pull_again_get_pushes() {
    // Neovim 0.11 pulls only for the buffer it just changed: a ServiceAccount
    // edited elsewhere would never reach the other buffers. Such a client
    // gets pushed diagnostics.
    let mut client = TestClient::start();
    let result = client
        .initialize(
            json!({"textDocument": {"diagnostic": {"dynamicRegistration": false}}}),
            Value::Null,
        )
        .await;
    assert!(result["capabilities"].get("diagnosticProvider").is_none());
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    let diagnostics = client.wait_diagnostics(&doc, 1).await;
    assert_eq!(only_code(&diagnostics), "TG001");
    assert!(client.shutdown_and_exit().await);
}

// ---------------------------------------------------------------------------
// lifecycle
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_then_exit_makes_serve_return_true() {
    let mut client = started(json!({}), Value::Null).await;
    let doc = uri("deploy.yaml");
    client.open(&doc, DEPLOYMENT).await;
    client.wait_diagnostics(&doc, 1).await;
    assert!(client.shutdown_and_exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_without_shutdown_makes_serve_return_false() {
    let client = started(json!({}), Value::Null).await;
    assert!(!client.exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_after_shutdown_are_refused() {
    let mut client = started(json!({}), Value::Null).await;
    client.request("shutdown", Value::Null).await;
    let response = client
        .request_raw(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri("x.yaml")}, "position": pos(0, 0)}),
        )
        .await;
    assert_eq!(response["error"]["code"], -32600, "{response}");
    client.notify("exit", Value::Null).await;
    assert!(client.join().await);
}
