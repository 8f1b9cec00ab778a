//! Document sync: incremental edits (one or several per notification,
//! non-ASCII text in both encodings, ranges out of bounds), and closing.
//! Through the test client, in process.

mod support;

use serde_json::{json, Value};

use support::*;

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
    client.request_json("shutdown", Value::Null).await;
    client.notify_json("exit", Value::Null).await;
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
        .notify_json(
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
