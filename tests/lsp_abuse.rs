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

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

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
// The client's copy of a text, with LSP's position rules (UTF-16 here).
// ---------------------------------------------------------------------------

fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => starts.push(i + 1),
            b'\r' => {
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                starts.push(i + 1);
            }
            _ => {}
        }
        i += 1;
    }
    starts
}

/// The byte offset of a UTF-16 position: clamped to the line and the text,
/// and, inside a character (a surrogate pair), floored to its start.
fn offset_of(text: &str, line: u32, character: u32) -> usize {
    let starts = line_starts(text);
    let Some(&start) = starts.get(line as usize) else {
        return text.len();
    };
    let end = starts.get(line as usize + 1).copied().unwrap_or(text.len());
    let content = text[start..end].trim_end_matches(['\n', '\r']);
    let mut units = 0;
    let mut at = start;
    for ch in content.chars() {
        if units + ch.len_utf16() > character as usize {
            break;
        }
        units += ch.len_utf16();
        at += ch.len_utf8();
    }
    at
}

fn position_of(text: &str, offset: usize) -> Value {
    let starts = line_starts(text);
    let line = starts.partition_point(|&s| s <= offset) - 1;
    let character: usize = text[starts[line]..offset]
        .chars()
        .map(char::len_utf16)
        .sum();
    json!({"line": line, "character": character})
}

fn range(l1: u32, c1: u32, l2: u32, c2: u32) -> Value {
    json!({"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}})
}

/// A fresh analysis of `text`, as (range, code, message).
fn expected(text: &str) -> Vec<(Value, String, String)> {
    if !tokenguard_analysis::holds_kubernetes_object(
        text,
        &tokenguard_analysis::parse(text, tokenguard_analysis::Options::builtin()),
    ) {
        return Vec::new();
    }
    tokenguard_analysis::analyze(text, &tokenguard_analysis::NoAccounts, tokenguard_analysis::Options::builtin())
        .into_iter()
        .map(|f| {
            (
                json!({"start": position_of(text, f.range.start), "end": position_of(text, f.range.end)}),
                f.code.as_str().to_string(),
                f.message,
            )
        })
        .collect()
}

fn summary(diagnostics: &[Value]) -> Vec<(Value, String, String)> {
    diagnostics
        .iter()
        .map(|d| {
            (
                d["range"].clone(),
                d["code"].as_str().unwrap_or_default().to_string(),
                d["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The server process and a client for it.
// ---------------------------------------------------------------------------

struct Server {
    /// `None` once handed to [`Server::wait_for_exit`].
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    log: Arc<Mutex<String>>,
    /// A signal each time the log grows.
    log_grew: Receiver<()>,
    /// Messages received and not consumed yet.
    backlog: VecDeque<Value>,
    next_id: i64,
    /// The client's copy of each open document, and its version.
    docs: HashMap<String, (String, i64)>,
}

/// The test build of `tokenguard`, or the binary `TOKENGUARD_TEST_BINARY`
/// names: `.ci/run` runs this suite again against the release binary, so
/// that the shipping profile (LTO, stripped) is shown to contain panics too.
fn binary_under_test() -> std::path::PathBuf {
    match std::env::var_os("TOKENGUARD_TEST_BINARY") {
        Some(path) if !path.is_empty() => path.into(),
        _ => env!("CARGO_BIN_EXE_tokenguard").into(),
    }
}

impl Server {
    fn start() -> Self {
        Self::start_with(&[])
    }

    fn start_with(env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(binary_under_test())
            .args(["server", "--stdio"])
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tokenguard starts");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (tx, incoming) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if tx.send(message).is_err() {
                    return;
                }
            }
        });
        let log = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&log);
        let (logged, log_grew) = mpsc::channel();
        thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    return;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
                let _ = logged.send(());
            }
        });
        Self {
            child: Some(child),
            stdin,
            incoming,
            log,
            log_grew,
            backlog: VecDeque::new(),
            next_id: 1,
            docs: HashMap::new(),
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until the server's log (its stderr, which travels apart from
    /// its messages) contains `text`; returns the log.
    fn wait_log(&self, text: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let log = self.log();
            if log.contains(text) {
                return log;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if self.log_grew.recv_timeout(left).is_err() {
                panic!("the log never said {text:?}:\n{log}");
            }
        }
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("the server reads its input");
        stdin.flush().unwrap();
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        let framed = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.send_raw(framed.as_bytes());
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The next message within `limit`, answering server requests on the way.
    fn next(&mut self, deadline: Instant, waiting_for: &str) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(message) => {
                if message.get("method").is_some() {
                    if let Some(id) = message.get("id") {
                        let reply = json!({"jsonrpc": "2.0", "id": id, "result": null});
                        self.send(&reply);
                    }
                }
                message
            }
            Err(RecvTimeoutError::Disconnected) => panic!(
                "the server closed its output while we waited for {waiting_for}; log:\n{}",
                self.log()
            ),
            Err(RecvTimeoutError::Timeout) => {
                panic!("no {waiting_for} in time; log:\n{}", self.log())
            }
        }
    }

    /// Waits for the first message `accept` takes; others stay queued.
    fn wait_for(
        &mut self,
        within: Duration,
        waiting_for: &str,
        accept: impl Fn(&Value) -> bool,
    ) -> Value {
        if let Some(i) = self.backlog.iter().position(&accept) {
            return self.backlog.remove(i).unwrap();
        }
        let deadline = Instant::now() + within;
        loop {
            let message = self.next(deadline, waiting_for);
            if accept(&message) {
                return message;
            }
            self.backlog.push_back(message);
        }
    }

    fn response(&mut self, id: &Value) -> Value {
        let what = format!("the response to request {id}");
        self.wait_for(TIMEOUT, &what, |m| {
            m.get("method").is_none() && m.get("id") == Some(id)
        })
    }

    /// Sends a request; returns the whole response.
    fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let id = json!(self.next_id);
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.response(&id)
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params);
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    fn initialize(&mut self) {
        let result = self.request(
            "initialize",
            json!({"processId": std::process::id(), "capabilities": {}}),
        );
        assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
        self.notify("initialized", json!({}));
    }

    fn open(&mut self, uri: &str, version: i64, text: &str) {
        self.docs
            .insert(uri.to_string(), (text.to_string(), version));
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": version, "text": text}}),
        );
    }

    /// One change (range `null`: the whole text), made to the client's copy
    /// the same way.
    fn change(&mut self, uri: &str, version: i64, range: Value, text: &str) {
        let (copy, copy_version) = self.docs.get_mut(uri).expect("open in the client");
        if range.is_null() {
            *copy = text.to_string();
        } else {
            let at = |p: &Value| {
                offset_of(
                    copy,
                    p["line"].as_u64().unwrap() as u32,
                    p["character"].as_u64().unwrap() as u32,
                )
            };
            let (a, b) = (at(&range["start"]), at(&range["end"]));
            copy.replace_range(a.min(b)..a.max(b), text);
        }
        *copy_version = version;
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"range": range, "text": text}]}),
        );
    }

    fn text(&self, uri: &str) -> &str {
        &self.docs[uri].0
    }

    /// Waits for the diagnostics of `uri` at `version` (earlier ones of that
    /// document are consumed).
    fn diagnostics(&mut self, uri: &str, version: i64, within: Duration) -> Vec<Value> {
        let what = format!("diagnostics of {uri} version {version}");
        loop {
            let message = self.wait_for(within, &what, |m| {
                m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
            });
            if message["params"]["version"] == version {
                return message["params"]["diagnostics"].as_array().unwrap().clone();
            }
        }
    }

    /// Moves the finding of `uri` two lines down, then checks that what the
    /// server publishes is a fresh analysis of the client's copy.
    fn assert_in_sync(&mut self, uri: &str) {
        let version = self.docs[uri].1 + 1;
        self.change(uri, version, range(2, 0, 2, 0), "# one\n# two\n");
        let published = self.diagnostics(uri, version, TIMEOUT);
        let want = expected(self.text(uri));
        assert!(!want.is_empty(), "the check needs a finding to move");
        assert_eq!(summary(&published), want, "text: {:?}", self.text(uri));
    }

    /// Waits for the process to end by itself (stdin stays open).
    fn wait_for_exit(mut self) -> ExitStatus {
        let stdin = self.stdin.take();
        let (tx, rx) = mpsc::channel();
        let mut child = self.child.take().expect("running");
        thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        let status = rx.recv_timeout(TIMEOUT);
        drop(stdin);
        status
            .expect("the server exits promptly")
            .expect("exit status")
    }

    fn shutdown_and_exit(mut self) -> ExitStatus {
        assert_eq!(self.request("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        self.wait_for_exit()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed test must not leave the process behind.
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("a header line");
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.trim().parse::<usize>().expect("a byte count"));
        }
    }
    let mut body = vec![0; length.expect("a Content-Length header")];
    reader.read_exact(&mut body).ok()?;
    Some(serde_json::from_slice(&body).expect("the server writes JSON"))
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut framed = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    framed.extend_from_slice(body);
    framed
}

fn is_error(message: &Value, code: i64) -> bool {
    message.get("method").is_none() && message["error"]["code"] == code
}

const URI: &str = "file:///workspace/deploy.yaml";
const OTHER: &str = "file:///workspace/other.yaml";

// ---------------------------------------------------------------------------
// Malformed and mis-framed input.
// ---------------------------------------------------------------------------

#[test]
fn malformed_messages_are_answered_with_json_rpc_errors_and_serving_goes_on() {
    let mut server = Server::start();
    server.initialize();
    server.open(URI, 1, DEPLOYMENT);
    server.diagnostics(URI, 1, TIMEOUT);

    // Not JSON at all; JSON cut short; invalid UTF-8 in a string.
    server.send_raw(&frame(b"this is not json"));
    server.send_raw(&frame(
        br#"{"jsonrpc": "2.0", "id": 50, "method": "shutdown""#,
    ));
    server.send_raw(&frame(b"{\"jsonrpc\": \"2.0\", \"method\": \"\xff\xfe\"}"));
    for _ in 0..3 {
        let error = server.wait_for(TIMEOUT, "a parse error", |m| is_error(m, -32700));
        assert_eq!(error["id"], Value::Null, "{error}");
        assert_eq!(error["jsonrpc"], "2.0");
    }

    // JSON, but not JSON-RPC: answered as invalid requests, with the id when
    // there is one.
    server.send(&json!({"id": 51, "method": "textDocument/hover"}));
    server.send(&json!({"jsonrpc": "1.0", "id": "x", "method": "shutdown"}));
    server.send(&json!([{"jsonrpc": "2.0", "id": 52, "method": "shutdown"}]));
    let mut ids = Vec::new();
    for _ in 0..3 {
        let error = server.wait_for(TIMEOUT, "an invalid-request error", |m| is_error(m, -32600));
        ids.push(error["id"].clone());
    }
    ids.sort_by_key(Value::to_string);
    assert_eq!(ids, [json!("x"), json!(51), Value::Null]);

    server.wait_log("is not JSON; answered with a parse error");
    server.wait_log("not a JSON-RPC 2.0 message");
    server.assert_in_sync(URI);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_wrong_content_length_costs_only_the_message_it_frames() {
    let mut server = Server::start();
    server.initialize();
    server.open(URI, 1, DEPLOYMENT);
    server.diagnostics(URI, 1, TIMEOUT);

    // Too short: the body is cut, its tail is skipped up to the next header.
    let hover = json!({"jsonrpc": "2.0", "id": 60, "method": "textDocument/hover",
        "params": {"textDocument": {"uri": URI}, "position": {"line": 8, "character": 4}}});
    let body = hover.to_string();
    server.send_raw(format!("Content-Length: 10\r\n\r\n{body}").as_bytes());
    let error = server.wait_for(TIMEOUT, "a parse error", |m| is_error(m, -32700));
    assert_eq!(error["id"], Value::Null);
    let answered = server.request("textDocument/hover", hover["params"].clone());
    assert!(answered["contents"]["value"].is_string(), "{answered}");

    // Too long: the body swallows the start of the next message; reading
    // resumes at the header found inside it, so the next request is served.
    server.send_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len() + 25).as_bytes());
    let next = json!({"jsonrpc": "2.0", "id": 61, "method": "textDocument/hover", "params": hover["params"]});
    server.send(&next);
    let error = server.wait_for(TIMEOUT, "a parse error", |m| is_error(m, -32700));
    assert_eq!(error["id"], Value::Null);
    let response = server.response(&json!(61));
    assert!(
        response["result"]["contents"]["value"].is_string(),
        "{response}"
    );

    // Garbage between messages, a header without a length, blank lines.
    server.send_raw(b"\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    server.send_raw(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n");
    let error = server.wait_for(TIMEOUT, "a parse error", |m| is_error(m, -32700));
    assert_eq!(error["id"], Value::Null);

    server.wait_log("Content-Length overstated it");
    server.wait_log("not a message header");
    server.assert_in_sync(URI);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn unknown_methods_and_bad_params_get_errors_and_unknown_notifications_are_ignored() {
    let mut server = Server::start();
    server.initialize();
    server.open(URI, 1, DEPLOYMENT);
    server.diagnostics(URI, 1, TIMEOUT);

    let unknown = server.request_raw("tokenguard/frobnicate", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    let unsupported = server.request_raw(
        "textDocument/completion",
        json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(unsupported["error"]["code"], -32601, "{unsupported}");
    let bad_params = server.request_raw("textDocument/hover", json!({"position": "here"}));
    assert_eq!(bad_params["error"]["code"], -32602, "{bad_params}");
    server.notify("custom/somethingHappened", json!({"a": 1}));
    server.notify("$/setTrace", json!({"value": "verbose"}));
    server.notify("textDocument/didSave", json!({"nonsense": true}));

    server.assert_in_sync(URI);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

// ---------------------------------------------------------------------------
// Documents out of order.
// ---------------------------------------------------------------------------

#[test]
fn requests_for_documents_never_opened_are_answered() {
    let mut server = Server::start();
    server.initialize();
    let hover = server.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": OTHER}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(hover, Value::Null);
    let actions = server.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": OTHER}, "range": range(0, 0, 0, 0), "context": {"diagnostics": []}}),
    );
    assert_eq!(actions, Value::Null);
    let pulled = server.request_raw(
        "textDocument/diagnostic",
        json!({"textDocument": {"uri": OTHER}}),
    );
    assert_eq!(pulled["error"]["code"], -32602, "{pulled}");
    let resolved = server.request_raw(
        "codeAction/resolve",
        json!({"title": "Fix all", "data": {"uri": OTHER}}),
    );
    assert_eq!(resolved["error"]["code"], -32602, "{resolved}");

    // Closing it is harmless too.
    server.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": OTHER}}),
    );
    server.open(URI, 1, DEPLOYMENT);
    server.assert_in_sync(URI);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_change_before_the_open_is_ignored_and_the_open_text_counts() {
    let mut server = Server::start();
    server.initialize();
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2},
               "contentChanges": [{"range": range(0, 0, 0, 0), "text": "garbage: ["}]}),
    );
    server.open(URI, 3, DEPLOYMENT);
    let published = server.diagnostics(URI, 3, TIMEOUT);
    assert_eq!(summary(&published), expected(DEPLOYMENT));
    server.wait_log("which is not open; ignored");
    server.assert_in_sync(URI);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn versions_going_backwards_are_applied_in_arrival_order() {
    let mut server = Server::start();
    server.initialize();
    server.open(URI, 10, DEPLOYMENT);
    server.diagnostics(URI, 10, TIMEOUT);
    server.change(URI, 4, range(0, 0, 0, 0), "# four\n");
    server.change(URI, 2, range(0, 0, 0, 0), "# two\n");
    let published = server.diagnostics(URI, 2, TIMEOUT);
    assert_eq!(summary(&published), expected(server.text(URI)));
    server.wait_log("goes from version 4 to 2; applied anyway");
    server.assert_in_sync(URI);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn ranges_beyond_the_end_of_the_text_are_clamped_like_the_client_does() {
    let mut server = Server::start();
    server.initialize();
    server.open(URI, 1, DEPLOYMENT);
    // A line far past the end: the end of the text.
    server.change(URI, 2, range(900, 0, 901, 7), "# appended\n");
    // A column far past the end of line 1: the end of that line.
    server.change(URI, 3, range(1, 500, 1, 600), " (more)");
    // A reversed range: its ends are swapped.
    server.change(URI, 4, range(0, 9, 0, 2), "");
    assert!(server
        .text(URI)
        .starts_with("# é 中 😀\n# more notes (more)\n"));
    assert!(server.text(URI).ends_with("nginx\n# appended\n"));
    let published = server.diagnostics(URI, 4, TIMEOUT);
    assert_eq!(summary(&published), expected(server.text(URI)));
    server.wait_log("is outside the text; clamped");
    server.assert_in_sync(URI);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn positions_inside_a_surrogate_pair_or_a_character_fall_back_to_its_start() {
    let mut server = Server::start();
    server.initialize();
    server.open(URI, 1, DEPLOYMENT);
    // Line 0 is "# notes: é 中 😀": 😀 takes UTF-16 units 13 and 14, so
    // column 14 is inside it; an insertion there lands before it.
    server.change(URI, 2, range(0, 14, 0, 14), "<");
    assert_eq!(server.text(URI).lines().next(), Some("# notes: é 中 <😀"));
    // A range from inside the pair to past the line's end removes the emoji.
    server.change(URI, 3, range(0, 15, 0, 99), "");
    assert_eq!(server.text(URI).lines().next(), Some("# notes: é 中 <"));
    // A finding after non-ASCII text on its line: its columns count UTF-16
    // units, as the client's do.
    server.change(
        URI,
        4,
        range(8, 0, 8, 9),
        "    spec: {hostname: \"é😀中\", automountServiceAccountToken: true}\n    x:",
    );
    let published = server.diagnostics(URI, 4, TIMEOUT);
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["range"], range(8, 59, 8, 63));
    assert_eq!(summary(&published), expected(server.text(URI)));
    server.assert_in_sync(URI);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

// ---------------------------------------------------------------------------
// Load.
// ---------------------------------------------------------------------------

#[test]
fn a_100_mb_document_gets_one_diagnostic_and_no_analysis() {
    let mut server = Server::start();
    server.initialize();
    server.open(OTHER, 1, DEPLOYMENT);
    // A workload, then 100 MB of comments: over the 32 MiB default.
    let line = format!("# {}\n", "x".repeat(98));
    let huge = format!("{DEPLOYMENT}{}", line.repeat(1_000_000));
    assert!(huge.len() > 100_000_000);
    server.open(URI, 1, &huge);
    let published = server.diagnostics(URI, 1, GENEROUS);
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
    server.change(URI, 2, range(0, 0, 0, 0), "# still huge\n");
    assert_eq!(server.diagnostics(URI, 2, GENEROUS).len(), 1);
    let log = server.wait_log("over maxFileSize");
    assert_eq!(log.matches("over maxFileSize").count(), 1, "{log}");

    // The other document was served all along.
    server.assert_in_sync(OTHER);

    // Cut down to size, it is analysed like any other.
    server.change(URI, 3, Value::Null, DEPLOYMENT);
    let published = server.diagnostics(URI, 3, GENEROUS);
    assert_eq!(summary(&published), expected(DEPLOYMENT));
    server.assert_in_sync(URI);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_flood_of_10000_changes_ends_in_the_client_s_text() {
    let mut server = Server::start();
    server.initialize();
    server.open(URI, 1, DEPLOYMENT);
    // Typing on line 1: 10,000 one-character insertions, each its own
    // notification, sent without waiting for anything.
    for i in 0..10_000u32 {
        let column = 12 + i;
        let typed = if i % 2 == 0 { "a" } else { "é" };
        server.change(URI, 2 + i as i64, range(1, column, 1, column), typed);
    }
    let published = server.diagnostics(URI, 10_001, GENEROUS);
    assert_eq!(summary(&published), expected(server.text(URI)));
    server.assert_in_sync(URI);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_cancelled_request_is_answered_once_and_serving_goes_on() {
    let mut server = Server::start();
    server.initialize();
    server.open(URI, 1, DEPLOYMENT);
    let id = json!(70);
    server.send(&json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/codeAction",
        "params": {"textDocument": {"uri": URI}, "range": range(8, 4, 8, 8), "context": {"diagnostics": []}}}));
    server.notify("$/cancelRequest", json!({"id": id}));
    // Cancelling what was never asked, or twice, is harmless.
    server.notify("$/cancelRequest", json!({"id": 70}));
    server.notify("$/cancelRequest", json!({"id": 999}));
    let response = server.response(&id);
    // Cancelled in time (-32800), or already answered: one response either way.
    assert!(
        response["error"]["code"] == -32800 || response["result"].is_array(),
        "{response}"
    );
    server.assert_in_sync(URI);
    let deadline = Instant::now() + Duration::from_millis(200);
    while let Ok(message) = server
        .incoming
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
    {
        assert_ne!(message.get("id"), Some(&id), "answered twice: {message}");
    }
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

// ---------------------------------------------------------------------------
// A bug in the analysis.
// ---------------------------------------------------------------------------

#[test]
fn a_panic_in_the_analysis_of_one_document_is_reported_there_and_the_server_goes_on() {
    let marker = "PANIC-HERE-FOR-THE-TEST";
    let mut server = Server::start_with(&[("TOKENGUARD_TEST_PANIC_MARKER", marker)]);
    server.initialize();
    let doomed = format!("# {marker}\n{DEPLOYMENT}");
    server.open(URI, 1, &doomed);
    server.open(OTHER, 1, DEPLOYMENT);
    let published = server.diagnostics(URI, 1, TIMEOUT);
    assert_eq!(published.len(), 1, "{published:#?}");
    assert_eq!(
        published[0]["message"],
        "tokenguard could not analyse this document (internal error; the server log has details)"
    );
    assert_eq!(published[0]["severity"], 1);
    let other = server.diagnostics(OTHER, 1, TIMEOUT);
    assert_eq!(summary(&other), expected(DEPLOYMENT));
    server.wait_log("analysis of file:///workspace/deploy.yaml panicked");

    // Without the marker, the same document is analysed again from scratch.
    server.change(URI, 2, range(0, 0, 1, 0), "");
    assert_eq!(server.text(URI), DEPLOYMENT);
    let published = server.diagnostics(URI, 2, TIMEOUT);
    assert_eq!(summary(&published), expected(DEPLOYMENT));
    server.assert_in_sync(URI);
    server.assert_in_sync(OTHER);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

// ---------------------------------------------------------------------------
// Leaving.
// ---------------------------------------------------------------------------

#[test]
fn exit_without_shutdown_ends_the_process_with_status_1() {
    let mut server = Server::start();
    server.initialize();
    server.open(URI, 1, DEPLOYMENT);
    server.notify("exit", Value::Null);
    assert_eq!(server.wait_for_exit().code(), Some(1));
}

#[test]
fn a_client_that_closes_the_pipe_without_a_word_ends_the_process() {
    let mut server = Server::start();
    server.initialize();
    server.open(URI, 1, DEPLOYMENT);
    server.diagnostics(URI, 1, TIMEOUT);
    drop(server.stdin.take());
    assert_eq!(server.wait_for_exit().code(), Some(1));
}

#[test]
fn a_client_that_closes_the_pipe_in_the_middle_of_a_message_ends_the_process() {
    let mut server = Server::start();
    server.initialize();
    server.send_raw(b"Content-Length: 500\r\n\r\n{\"jsonrpc\": \"2.0\", ");
    drop(server.stdin.take());
    assert_eq!(server.wait_for_exit().code(), Some(1));
}
