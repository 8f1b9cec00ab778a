//! Protocol abuse against the real `tokenguard server` on stdio: malformed
//! and mis-framed messages, unknown methods, documents that were never
//! opened, edits out of order or out of range, positions inside a
//! character, a huge document, a flood of changes, cancellation, a panic in
//! the analysis, and clients that leave without saying goodbye.
//!
//! The contract: every bad request is answered with a JSON-RPC error (never
//! silence, never a crash), the problem is logged, the server keeps serving
//! every other document, and its copy of each document stays identical to
//! the client's. The last point is checked the way an editor would notice a
//! drift: after the abuse, an edit moves the finding to a later line, and
//! the diagnostics published must equal a fresh analysis of the client's
//! text, positions included.

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use tokenguard_lsp_test_client::{expected_diagnostics, frame, range, summarize, Enc, TestClient};

/// How long one expected message may take.
const TIMEOUT: Duration = Duration::from_secs(20);
/// For the 100 MB document and the flood of changes (debug builds are slow).
const GENEROUS: Duration = Duration::from_secs(120);

/// A Deployment without the field: one TG001, on the pod spec's `spec` key.
/// Lines 0-1 are comments where the abuse happens; the finding is below.
const DEPLOYMENT: &str = "\
# notes: é 中 😀
# more notes
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx
";

// ---------------------------------------------------------------------------
// The server process, and checks through the test client.
// ---------------------------------------------------------------------------

/// The test build of `tokenguard`, or the binary `TOKENGUARD_TEST_BINARY`
/// names: `.ci/run` runs this suite again against the release binary, so
/// that the shipping profile (LTO, stripped) is shown to contain panics too.
fn binary_under_test() -> std::path::PathBuf {
    match std::env::var_os("TOKENGUARD_TEST_BINARY") {
        Some(path) if !path.is_empty() => path.into(),
        _ => env!("CARGO_BIN_EXE_tokenguard").into(),
    }
}

fn start() -> TestClient {
    start_with(&[])
}

/// `tokenguard server --stdio` with its log at info level and `env` set.
fn start_with(env: &[(&str, &str)]) -> TestClient {
    let mut command = Command::new(binary_under_test());
    command
        .args(["server", "--stdio"])
        .env("RUST_LOG", "info")
        .envs(env.iter().copied());
    let mut client = TestClient::spawn(command);
    client.timeout = TIMEOUT;
    client
}

/// `initialize` as a client that offers only UTF-16.
async fn initialize(server: &mut TestClient) {
    let result = server.initialize(json!({}), Value::Null).await;
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
}

/// Moves the finding of `uri` two lines down, then checks that what the
/// server publishes is a fresh analysis of the client's copy.
async fn assert_in_sync(server: &mut TestClient, uri: &str) {
    let version = server.version(uri) + 1;
    server
        .change(uri, version, range(2, 0, 2, 0), "# one\n# two\n")
        .await;
    let published = server.wait_diagnostics(uri, version).await;
    let want = expected_diagnostics(server.text(uri), Enc::Utf16);
    assert!(!want.is_empty(), "the check needs a finding to move");
    assert_eq!(summarize(&published), want, "text: {:?}", server.text(uri));
}

fn is_error(message: &Value, code: i64) -> bool {
    message.get("method").is_none() && message["error"]["code"] == code
}

const URI: &str = "file:///workspace/deploy.yaml";
const OTHER: &str = "file:///workspace/other.yaml";

// ---------------------------------------------------------------------------
// Malformed and mis-framed input.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn malformed_messages_are_answered_with_json_rpc_errors_and_serving_goes_on() {
    let mut server = start();
    initialize(&mut server).await;
    server.open_version(URI, 1, DEPLOYMENT).await;
    server.wait_diagnostics(URI, 1).await;

    // Not JSON at all; JSON cut short; invalid UTF-8 in a string.
    server.send_raw(&frame(b"this is not json")).await;
    server
        .send_raw(&frame(
            br#"{"jsonrpc": "2.0", "id": 50, "method": "shutdown""#,
        ))
        .await;
    server
        .send_raw(&frame(b"{\"jsonrpc\": \"2.0\", \"method\": \"\xff\xfe\"}"))
        .await;
    for _ in 0..3 {
        let error = server
            .wait_for("a parse error", |m| is_error(m, -32700))
            .await;
        assert_eq!(error["id"], Value::Null, "{error}");
        assert_eq!(error["jsonrpc"], "2.0");
    }

    // JSON, but not JSON-RPC: answered as invalid requests, with the id when
    // there is one.
    server
        .send(&json!({"id": 51, "method": "textDocument/hover"}))
        .await;
    server
        .send(&json!({"jsonrpc": "1.0", "id": "x", "method": "shutdown"}))
        .await;
    server
        .send(&json!([{"jsonrpc": "2.0", "id": 52, "method": "shutdown"}]))
        .await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let error = server
            .wait_for("an invalid-request error", |m| is_error(m, -32600))
            .await;
        ids.push(error["id"].clone());
    }
    ids.sort_by_key(Value::to_string);
    assert_eq!(ids, [json!("x"), json!(51), Value::Null]);

    server
        .wait_log("is not JSON; answered with a parse error")
        .await;
    server.wait_log("not a JSON-RPC 2.0 message").await;
    assert_in_sync(&mut server, URI).await;
    assert_eq!(server.shutdown_and_exit().await.code(), Some(0));
}

#[tokio::test]
async fn a_wrong_content_length_costs_only_the_message_it_frames() {
    let mut server = start();
    initialize(&mut server).await;
    server.open_version(URI, 1, DEPLOYMENT).await;
    server.wait_diagnostics(URI, 1).await;

    // Too short: the body is cut, its tail is skipped up to the next header.
    let hover = json!({"jsonrpc": "2.0", "id": 60, "method": "textDocument/hover",
        "params": {"textDocument": {"uri": URI}, "position": {"line": 8, "character": 4}}});
    let body = hover.to_string();
    server
        .send_raw(format!("Content-Length: 10\r\n\r\n{body}").as_bytes())
        .await;
    let error = server
        .wait_for("a parse error", |m| is_error(m, -32700))
        .await;
    assert_eq!(error["id"], Value::Null);
    let answered = server
        .request_json("textDocument/hover", hover["params"].clone())
        .await;
    assert!(answered["contents"]["value"].is_string(), "{answered}");

    // Too long: the body swallows the start of the next message; reading
    // resumes at the header found inside it, so the next request is served.
    server
        .send_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len() + 25).as_bytes())
        .await;
    let next = json!({"jsonrpc": "2.0", "id": 61, "method": "textDocument/hover", "params": hover["params"]});
    server.send(&next).await;
    let error = server
        .wait_for("a parse error", |m| is_error(m, -32700))
        .await;
    assert_eq!(error["id"], Value::Null);
    let response = server.response(&json!(61)).await;
    assert!(
        response["result"]["contents"]["value"].is_string(),
        "{response}"
    );

    // Garbage between messages, a header without a length, blank lines.
    server
        .send_raw(b"\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    server
        .send_raw(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n")
        .await;
    let error = server
        .wait_for("a parse error", |m| is_error(m, -32700))
        .await;
    assert_eq!(error["id"], Value::Null);

    server.wait_log("Content-Length overstated it").await;
    server.wait_log("not a message header").await;
    assert_in_sync(&mut server, URI).await;
    assert_eq!(server.shutdown_and_exit().await.code(), Some(0));
}

#[tokio::test]
async fn unknown_methods_and_bad_params_get_errors_and_unknown_notifications_are_ignored() {
    let mut server = start();
    initialize(&mut server).await;
    server.open_version(URI, 1, DEPLOYMENT).await;
    server.wait_diagnostics(URI, 1).await;

    let unknown = server.request_raw("tokenguard/frobnicate", json!({})).await;
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    let unsupported = server
        .request_raw(
            "textDocument/rename",
            json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}, "newName": "x"}),
        )
        .await;
    assert_eq!(unsupported["error"]["code"], -32601, "{unsupported}");
    let bad_params = server
        .request_raw("textDocument/hover", json!({"position": "here"}))
        .await;
    assert_eq!(bad_params["error"]["code"], -32602, "{bad_params}");
    server
        .notify_json("custom/somethingHappened", json!({"a": 1}))
        .await;
    server
        .notify_json("$/setTrace", json!({"value": "verbose"}))
        .await;
    server
        .notify_json("textDocument/didSave", json!({"nonsense": true}))
        .await;

    assert_in_sync(&mut server, URI).await;
    assert_eq!(server.shutdown_and_exit().await.code(), Some(0));
}

// ---------------------------------------------------------------------------
// Documents out of order.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn requests_for_documents_never_opened_are_answered() {
    let mut server = start();
    initialize(&mut server).await;
    let hover = server
        .request_json(
            "textDocument/hover",
            json!({"textDocument": {"uri": OTHER}, "position": {"line": 0, "character": 0}}),
        )
        .await;
    assert_eq!(hover, Value::Null);
    let actions = server.request_json(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": OTHER}, "range": range(0, 0, 0, 0), "context": {"diagnostics": []}}),
    ).await;
    assert_eq!(actions, Value::Null);
    let pulled = server
        .request_raw(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": OTHER}}),
        )
        .await;
    assert_eq!(pulled["error"]["code"], -32602, "{pulled}");
    let resolved = server
        .request_raw(
            "codeAction/resolve",
            json!({"title": "Fix all", "data": {"uri": OTHER}}),
        )
        .await;
    assert_eq!(resolved["error"]["code"], -32602, "{resolved}");

    // Closing it is harmless too.
    server
        .notify_json(
            "textDocument/didClose",
            json!({"textDocument": {"uri": OTHER}}),
        )
        .await;
    server.open_version(URI, 1, DEPLOYMENT).await;
    assert_in_sync(&mut server, URI).await;
    assert_eq!(server.shutdown_and_exit().await.code(), Some(0));
}

#[tokio::test]
async fn a_change_before_the_open_is_ignored_and_the_open_text_counts() {
    let mut server = start();
    initialize(&mut server).await;
    server
        .notify_json(
            "textDocument/didChange",
            json!({"textDocument": {"uri": URI, "version": 2},
               "contentChanges": [{"range": range(0, 0, 0, 0), "text": "garbage: ["}]}),
        )
        .await;
    server.open_version(URI, 3, DEPLOYMENT).await;
    let published = server.wait_diagnostics(URI, 3).await;
    assert_eq!(
        summarize(&published),
        expected_diagnostics(DEPLOYMENT, Enc::Utf16)
    );
    server.wait_log("which is not open; ignored").await;
    assert_in_sync(&mut server, URI).await;
    assert_eq!(server.shutdown_and_exit().await.code(), Some(0));
}

#[tokio::test]
async fn versions_going_backwards_are_applied_in_arrival_order() {
    let mut server = start();
    initialize(&mut server).await;
    server.open_version(URI, 10, DEPLOYMENT).await;
    server.wait_diagnostics(URI, 10).await;
    server.change(URI, 4, range(0, 0, 0, 0), "# four\n").await;
    server.change(URI, 2, range(0, 0, 0, 0), "# two\n").await;
    let published = server.wait_diagnostics(URI, 2).await;
    assert_eq!(
        summarize(&published),
        expected_diagnostics(server.text(URI), Enc::Utf16)
    );
    server
        .wait_log("goes from version 4 to 2; applied anyway")
        .await;
    assert_in_sync(&mut server, URI).await;
    assert_eq!(server.shutdown_and_exit().await.code(), Some(0));
}

#[tokio::test]
async fn ranges_beyond_the_end_of_the_text_are_clamped_like_the_client_does() {
    let mut server = start();
    initialize(&mut server).await;
    server.open_version(URI, 1, DEPLOYMENT).await;
    // A line far past the end: the end of the text.
    server
        .change(URI, 2, range(900, 0, 901, 7), "# appended\n")
        .await;
    // A column far past the end of line 1: the end of that line.
    server
        .change(URI, 3, range(1, 500, 1, 600), " (more)")
        .await;
    // A reversed range: its ends are swapped.
    server.change(URI, 4, range(0, 9, 0, 2), "").await;
    assert!(server
        .text(URI)
        .starts_with("# é 中 😀\n# more notes (more)\n"));
    assert!(server.text(URI).ends_with("nginx\n# appended\n"));
    let published = server.wait_diagnostics(URI, 4).await;
    assert_eq!(
        summarize(&published),
        expected_diagnostics(server.text(URI), Enc::Utf16)
    );
    server.wait_log("is outside the text; clamped").await;
    assert_in_sync(&mut server, URI).await;
    assert_eq!(server.shutdown_and_exit().await.code(), Some(0));
}

#[tokio::test]
async fn positions_inside_a_surrogate_pair_or_a_character_fall_back_to_its_start() {
    let mut server = start();
    initialize(&mut server).await;
    server.open_version(URI, 1, DEPLOYMENT).await;
    // Line 0 is "# notes: é 中 😀": 😀 takes UTF-16 units 13 and 14, so
    // column 14 is inside it; an insertion there lands before it.
    server.change(URI, 2, range(0, 14, 0, 14), "<").await;
    assert_eq!(server.text(URI).lines().next(), Some("# notes: é 中 <😀"));
    // A range from inside the pair to past the line's end removes the emoji.
    server.change(URI, 3, range(0, 15, 0, 99), "").await;
    assert_eq!(server.text(URI).lines().next(), Some("# notes: é 中 <"));
    // A finding after non-ASCII text on its line: its columns count UTF-16
    // units, as the client's do.
    server
        .change(
            URI,
            4,
            range(8, 0, 8, 9),
            "    spec: {hostname: \"é😀中\", automountServiceAccountToken: true}\n    x:",
        )
        .await;
    let published = server.wait_diagnostics(URI, 4).await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["range"], range(8, 59, 8, 63));
    assert_eq!(
        summarize(&published),
        expected_diagnostics(server.text(URI), Enc::Utf16)
    );
    assert_in_sync(&mut server, URI).await;
    assert_eq!(server.shutdown_and_exit().await.code(), Some(0));
}

// ---------------------------------------------------------------------------
// Load.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_100_mb_document_gets_one_diagnostic_and_no_analysis() {
    let mut server = start();
    initialize(&mut server).await;
    server.open_version(OTHER, 1, DEPLOYMENT).await;
    // A workload, then 100 MB of comments: over the 32 MiB default.
    let line = format!("# {}\n", "x".repeat(98));
    let huge = format!("{DEPLOYMENT}{}", line.repeat(1_000_000));
    assert!(huge.len() > 100_000_000);
    server.open_version(URI, 1, &huge).await;
    let published = server.wait_diagnostics_within(URI, 1, GENEROUS).await;
    assert_eq!(published.len(), 1, "{published:#?}");
    let message = published[0]["message"].as_str().unwrap();
    assert_eq!(
        message,
        format!(
            "tokenguard does not analyse this file: it is {} bytes, over the limit of 33554432 bytes \
             (setting tokenguard.maxFileSize)",
            huge.len()
        )
    );
    assert_eq!(published[0]["range"], range(0, 0, 0, 0));
    assert_eq!(published[0]["severity"], 2);

    // Still too large after an edit: the same single diagnostic, and the log
    // says it once.
    server
        .change(URI, 2, range(0, 0, 0, 0), "# still huge\n")
        .await;
    assert_eq!(
        server.wait_diagnostics_within(URI, 2, GENEROUS).await.len(),
        1
    );
    let log = server.wait_log("over maxFileSize").await;
    assert_eq!(log.matches("over maxFileSize").count(), 1, "{log}");

    // The other document was served all along.
    assert_in_sync(&mut server, OTHER).await;

    // Cut down to size, it is analysed like any other.
    server.change(URI, 3, Value::Null, DEPLOYMENT).await;
    let published = server.wait_diagnostics_within(URI, 3, GENEROUS).await;
    assert_eq!(
        summarize(&published),
        expected_diagnostics(DEPLOYMENT, Enc::Utf16)
    );
    assert_in_sync(&mut server, URI).await;
    assert_eq!(server.shutdown_and_exit().await.code(), Some(0));
}

#[tokio::test]
async fn a_flood_of_10000_changes_ends_in_the_client_s_text() {
    let mut server = start();
    initialize(&mut server).await;
    server.open_version(URI, 1, DEPLOYMENT).await;
    // Typing on line 1: 10,000 one-character insertions, each its own
    // notification, sent without waiting for anything.
    for i in 0..10_000u32 {
        let column = 12 + i;
        let typed = if i % 2 == 0 { "a" } else { "é" };
        server
            .change(URI, 2 + i as i64, range(1, column, 1, column), typed)
            .await;
    }
    let published = server.wait_diagnostics_within(URI, 10_001, GENEROUS).await;
    assert_eq!(
        summarize(&published),
        expected_diagnostics(server.text(URI), Enc::Utf16)
    );
    assert_in_sync(&mut server, URI).await;
    assert_eq!(server.shutdown_and_exit().await.code(), Some(0));
}

#[tokio::test]
async fn a_cancelled_request_is_answered_once_and_serving_goes_on() {
    let mut server = start();
    initialize(&mut server).await;
    server.open_version(URI, 1, DEPLOYMENT).await;
    let id = json!(70);
    server.send(&json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/codeAction",
        "params": {"textDocument": {"uri": URI}, "range": range(8, 4, 8, 8), "context": {"diagnostics": []}}})).await;
    server
        .notify_json("$/cancelRequest", json!({"id": id}))
        .await;
    // Cancelling what was never asked, or twice, is harmless.
    server
        .notify_json("$/cancelRequest", json!({"id": 70}))
        .await;
    server
        .notify_json("$/cancelRequest", json!({"id": 999}))
        .await;
    let response = server.response(&id).await;
    // Cancelled in time (-32800), or already answered: one response either way.
    assert!(
        response["error"]["code"] == -32800 || response["result"].is_array(),
        "{response}"
    );
    assert_in_sync(&mut server, URI).await;
    // Nothing that came since, or comes in the next 200 ms, is a second
    // answer (the log holds every message no request claimed).
    server.messages_during(Duration::from_millis(200)).await;
    let answers: Vec<&Value> = server
        .log
        .iter()
        .filter(|m| m.get("method").is_none() && m.get("id") == Some(&id))
        .collect();
    assert_eq!(answers.len(), 1, "answered more than once: {answers:#?}");
    assert_eq!(server.shutdown_and_exit().await.code(), Some(0));
}

// ---------------------------------------------------------------------------
// A bug in the analysis.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_panic_in_the_analysis_of_one_document_is_reported_there_and_the_server_goes_on() {
    let marker = "PANIC-HERE-FOR-THE-TEST";
    let mut server = start_with(&[("TOKENGUARD_TEST_PANIC_MARKER", marker)]);
    initialize(&mut server).await;
    let doomed = format!("# {marker}\n{DEPLOYMENT}");
    server.open_version(URI, 1, &doomed).await;
    server.open_version(OTHER, 1, DEPLOYMENT).await;
    let published = server.wait_diagnostics(URI, 1).await;
    assert_eq!(published.len(), 1, "{published:#?}");
    assert_eq!(
        published[0]["message"],
        "tokenguard could not analyse this document (internal error; the server log has details)"
    );
    assert_eq!(published[0]["severity"], 1);
    let other = server.wait_diagnostics(OTHER, 1).await;
    assert_eq!(
        summarize(&other),
        expected_diagnostics(DEPLOYMENT, Enc::Utf16)
    );
    server
        .wait_log("analysis of file:///workspace/deploy.yaml panicked")
        .await;

    // Without the marker, the same document is analysed again from scratch.
    server.change(URI, 2, range(0, 0, 1, 0), "").await;
    assert_eq!(server.text(URI), DEPLOYMENT);
    let published = server.wait_diagnostics(URI, 2).await;
    assert_eq!(
        summarize(&published),
        expected_diagnostics(DEPLOYMENT, Enc::Utf16)
    );
    assert_in_sync(&mut server, URI).await;
    assert_in_sync(&mut server, OTHER).await;
    assert_eq!(server.shutdown_and_exit().await.code(), Some(0));
}

// ---------------------------------------------------------------------------
// Leaving.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn exit_without_shutdown_ends_the_process_with_status_1() {
    let mut server = start();
    initialize(&mut server).await;
    server.open_version(URI, 1, DEPLOYMENT).await;
    server.notify_json("exit", Value::Null).await;
    assert_eq!(server.wait_for_exit().await.code(), Some(1));
}

#[tokio::test]
async fn a_client_that_closes_the_pipe_without_a_word_ends_the_process() {
    let mut server = start();
    initialize(&mut server).await;
    server.open_version(URI, 1, DEPLOYMENT).await;
    server.wait_diagnostics(URI, 1).await;
    server.close_input().await;
    assert_eq!(server.wait_for_exit().await.code(), Some(1));
}

#[tokio::test]
async fn a_client_that_closes_the_pipe_in_the_middle_of_a_message_ends_the_process() {
    let mut server = start();
    initialize(&mut server).await;
    server
        .send_raw(b"Content-Length: 500\r\n\r\n{\"jsonrpc\": \"2.0\", ")
        .await;
    server.close_input().await;
    assert_eq!(server.wait_for_exit().await.code(), Some(1));
}
