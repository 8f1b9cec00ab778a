//! Property: after any sequence of incremental edits, the server's text is
//! the client's text. Checked through what the server publishes for the
//! final version, which must equal a fresh analysis of the client's copy,
//! in both position encodings.

mod support;

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

use support::{expected_diagnostics, position_of, summarize, Enc};

/// Two workloads and a ServiceAccount, with non-ASCII text on the reported
/// lines and a mix of LF, CRLF and CR line endings.
const MANIFEST: &str = concat!(
    "apiVersion: apps/v1\r\n",
    "kind: Deployment\r\n",
    "metadata:\n",
    "  name: café-😀\n",
    "  annotations: {note: \"é😀 ünïcödé\"}\r\n",
    "spec:\n",
    "  template:\n",
    "    metadata: {labels: {app: \"😀\"}}\n",
    "    spec:\r\n",
    "      containers:\n",
    "        - name: wéb # 😀 comment\n",
    "          image: nginx\n",
    "---\r\n",
    "apiVersion: v1\n",
    "kind: Pod\r",
    "metadata: {name: \"𝔘𝔫𝔦\"}\n",
    "spec: {note: \"é😀\", containers: []}\n",
    "---\n",
    "apiVersion: v1\r\n",
    "kind: ServiceAccount\r\n",
    "metadata: {name: ci}\r\n",
);

/// What edits insert: YAML structure, non-ASCII text and line breaks.
const INSERTS: &[&str] = &[
    "",
    "",
    "x",
    "é",
    "😀",
    "𝔘",
    " ",
    "  ",
    "\n",
    "\r\n",
    "\r",
    ": ",
    "spec:",
    "- ",
    "{",
    "}",
    "\"",
    "é😀\r\n",
    "# tokenguard-ignore\n",
    "automountServiceAccountToken: false",
    "  automountServiceAccountToken: false\r\n",
    "serviceAccountName: ci\n",
    "---\n",
    "kind: Pod\n",
];

#[derive(Clone, Debug)]
struct EditSeed {
    start: Index,
    /// How many positions the replaced range spans.
    span: usize,
    insert: Index,
    /// Sent in the same didChange as the previous edit.
    batched: bool,
}

fn edit_seed() -> impl Strategy<Value = EditSeed> {
    (
        any::<Index>(),
        0usize..12,
        any::<Index>(),
        prop::bool::weighted(0.25),
    )
        .prop_map(|(start, span, insert, batched)| EditSeed {
            start,
            span,
            insert,
            batched,
        })
}

/// Byte offsets an LSP position can name: character boundaries, but not
/// between the CR and LF of a CRLF (no (line, character) addresses that).
fn positions(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    (0..=text.len())
        .filter(|&i| text.is_char_boundary(i))
        .filter(|&i| !(i > 0 && i < bytes.len() && bytes[i - 1] == b'\r' && bytes[i] == b'\n'))
        .collect()
}

/// Turns seeds into concrete changes against the evolving text: returns
/// the didChange notifications to send, each a list of (range, text).
fn concrete_edits(text: &str, seeds: &[EditSeed], enc: Enc) -> Vec<Vec<(Value, String)>> {
    let mut text = text.to_string();
    let mut notifications: Vec<Vec<(Value, String)>> = Vec::new();
    for seed in seeds {
        let valid = positions(&text);
        let first = seed.start.index(valid.len());
        let last = (first + seed.span).min(valid.len() - 1);
        let (start, end) = (valid[first], valid[last]);
        let insert = INSERTS[seed.insert.index(INSERTS.len())];
        let range = serde_json::json!({
            "start": position_of(&text, start, enc),
            "end": position_of(&text, end, enc),
        });
        // The client applies it exactly as the test client will.
        support::apply_change(&mut text, &range, insert, enc);
        match notifications.last_mut() {
            Some(last) if seed.batched => last.push((range, insert.to_string())),
            _ => notifications.push(vec![(range, insert.to_string())]),
        }
    }
    notifications
}

async fn check_sequence(enc: Enc, seeds: Vec<EditSeed>) -> Result<(), TestCaseError> {
    let mut client = support::start();
    client.initialize(enc.capabilities(), Value::Null).await;
    prop_assert_eq!(client.encoding, enc);
    let uri = "file:///workspace/manifest.yaml";
    client.open(uri, MANIFEST).await;
    let mut version = 1;
    for changes in concrete_edits(MANIFEST, &seeds, enc) {
        version += 1;
        client.change_many(uri, version, changes).await;
    }
    let published = client.wait_diagnostics(uri, version).await;
    let text = client.text(uri).to_string();
    prop_assert_eq!(
        summarize(&published),
        expected_diagnostics(&text, enc),
        "final text: {:?}",
        text
    );
    prop_assert!(client.shutdown_and_exit().await.clean());
    Ok(())
}

fn run(enc: Enc, seeds: Vec<EditSeed>) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(check_sequence(enc, seeds))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn server_text_follows_random_edits_in_utf16_sessions(seeds in prop::collection::vec(edit_seed(), 5..=20)) {
        run(Enc::Utf16, seeds)?;
    }

    #[test]
    fn server_text_follows_random_edits_in_utf8_sessions(seeds in prop::collection::vec(edit_seed(), 5..=20)) {
        run(Enc::Utf8, seeds)?;
    }
}

#[test]
fn the_manifest_has_findings_to_move_around() {
    // Guards the property's power: the starting text must be reported.
    for enc in [Enc::Utf8, Enc::Utf16] {
        let expected = expected_diagnostics(MANIFEST, enc);
        let codes: Vec<&str> = expected.iter().map(|(_, code, _)| code.as_str()).collect();
        assert_eq!(codes, ["TG001", "TG001"], "{expected:#?}");
    }
}
