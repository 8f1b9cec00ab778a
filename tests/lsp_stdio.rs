//! `tokenguard server --stdio`: the real binary speaks LSP on its standard
//! input and output, and its exit status follows the protocol (0 after
//! `shutdown` + `exit`, 1 after `exit` alone).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(10);

/// A Deployment without the field; its pod spec's `spec` key is line 9,
/// columns 4-8.
const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx
";
const SPEC_LINE: u64 = 8;

/// A running `tokenguard server --stdio` and a minimal client for it.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    stderr: Arc<Mutex<String>>,
    /// Notifications received and not consumed yet.
    backlog: Vec<Value>,
    next_id: i64,
}

impl Server {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tokenguard"))
            .args(["server", "--stdio"])
            .env("RUST_LOG", "debug")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tokenguard starts");
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
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let log = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            log.lock().unwrap().push_str(&text);
        });
        let stdin = child.stdin.take();
        Self {
            child,
            stdin,
            incoming,
            stderr,
            backlog: Vec::new(),
            next_id: 1,
        }
    }

    fn send(&mut self, message: Value) {
        let body = serde_json::to_string(&message).unwrap();
        let stdin = self.stdin.as_mut().expect("stdin open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("server reads stdin");
        stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The next message, answering server requests on the way.
    fn next(&mut self, deadline: Instant, waiting_for: &str) -> Option<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(message) => {
                if message.get("method").is_some() {
                    if let Some(id) = message.get("id") {
                        let reply = json!({"jsonrpc": "2.0", "id": id, "result": null});
                        self.send(reply);
                    }
                }
                Some(message)
            }
            Err(RecvTimeoutError::Disconnected) => None,
            Err(RecvTimeoutError::Timeout) => panic!(
                "no {waiting_for} within {TIMEOUT:?}; server log:\n{}",
                self.stderr.lock().unwrap()
            ),
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self
                .next(deadline, method)
                .unwrap_or_else(|| panic!("the server closed stdout before answering {method}"));
            if message.get("method").is_none() && message["id"] == id {
                assert!(message.get("error").is_none(), "{method} failed: {message}");
                return message["result"].clone();
            }
            self.backlog.push(message);
        }
    }

    /// Waits for a publish for `uri` accepted by `accept` (earlier ones
    /// for that URI are consumed).
    fn wait_diagnostics(
        &mut self,
        uri: &str,
        what: &str,
        accept: impl Fn(&Value) -> bool,
    ) -> Vec<Value> {
        let is_publish = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        };
        let deadline = Instant::now() + TIMEOUT;
        loop {
            while let Some(i) = self.backlog.iter().position(is_publish) {
                let message = self.backlog.remove(i);
                if accept(&message["params"]) {
                    return message["params"]["diagnostics"].as_array().unwrap().clone();
                }
            }
            let waiting_for = format!("diagnostics of {uri} ({what})");
            let message = self.next(deadline, &waiting_for).unwrap_or_else(|| {
                panic!("the server closed stdout while waiting for {waiting_for}")
            });
            self.backlog.push(message);
        }
    }

    fn initialize(&mut self, root: Option<&Path>) -> Value {
        let mut params = json!({"processId": std::process::id(), "capabilities": {}});
        if let Some(root) = root {
            let uri = file_uri(root);
            params["rootUri"] = json!(uri);
            params["workspaceFolders"] = json!([{"uri": uri, "name": "root"}]);
        }
        let result = self.request("initialize", params);
        self.notify("initialized", json!({}));
        result
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
        );
    }

    /// Waits for the process to end by itself: stdin stays open, so the
    /// `exit` notification, not the end of input, is what stops it.
    fn wait_for_exit(mut self) -> ExitStatus {
        let stdin = self.stdin.take();
        let (tx, rx) = mpsc::channel();
        let mut child = self.child;
        thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        let status = rx.recv_timeout(TIMEOUT);
        drop(stdin);
        status
            .expect("the server exits promptly after `exit`")
            .expect("exit status")
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
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .trim()
                        .parse::<usize>()
                        .expect("numeric Content-Length"),
                );
            }
        }
    }
    let mut body = vec![0; length.expect("a Content-Length header")];
    reader.read_exact(&mut body).ok()?;
    Some(serde_json::from_slice(&body).expect("a JSON body"))
}

/// A `file://` URI, percent-encoded as editors do (a space is `%20`).
fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for byte in path.to_str().expect("UTF-8 path").bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

fn spec_key() -> Value {
    json!({"start": {"line": SPEC_LINE, "character": 4}, "end": {"line": SPEC_LINE, "character": 8}})
}

/// Applies edits that do not overlap; positions are ASCII-only here, so
/// columns are bytes.
fn apply(text: &str, edits: &[Value]) -> String {
    let offset = |p: &Value| {
        let line = p["line"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        start + p["character"].as_u64().unwrap() as usize
    };
    let mut edits: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap(),
            )
        })
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (start, end, new_text) in edits {
        out.replace_range(start..end, new_text);
    }
    out
}

#[test]
fn the_server_publishes_fixes_and_exits_0_after_shutdown_and_exit() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start();
    let result = server.initialize(None);
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(result["serverInfo"]["name"], "tokenguard");

    let uri = file_uri(&dir.path().join("deploy.yaml"));
    server.open(&uri, DEPLOYMENT);
    let diagnostics = server.wait_diagnostics(&uri, "version 1", |p| p["version"] == 1);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(diagnostics[0]["code"], "TG001");
    assert_eq!(diagnostics[0]["range"], spec_key());

    let actions = server.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": spec_key(), "context": {"diagnostics": diagnostics}}),
    );
    let fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["isPreferred"] == true)
        .expect("a preferred quick fix");
    let edits = fix["edit"]["changes"][uri.as_str()].as_array().unwrap();
    let fixed = apply(DEPLOYMENT, edits);
    assert!(
        fixed.contains("    spec:\n      automountServiceAccountToken: false\n      containers:")
    );
    let changes: Vec<Value> = edits
        .iter()
        .map(|e| json!({"range": e["range"], "text": e["newText"]}))
        .collect();
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": changes}),
    );
    let diagnostics = server.wait_diagnostics(&uri, "version 2", |p| p["version"] == 2);
    assert_eq!(diagnostics, Vec::<Value>::new());

    assert_eq!(server.request("shutdown", Value::Null), Value::Null);
    server.notify("exit", Value::Null);
    assert_eq!(server.wait_for_exit().code(), Some(0));
}

#[test]
fn exit_without_shutdown_exits_1() {
    let mut server = Server::start();
    server.initialize(None);
    server.notify("exit", Value::Null);
    assert_eq!(server.wait_for_exit().code(), Some(1));
}

#[test]
fn paths_with_spaces_travel_as_percent_encoded_uris() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("my manifests");
    std::fs::create_dir_all(root.join("rbac")).unwrap();
    let account_path = root.join("rbac/service account.yaml");
    let account = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n";
    std::fs::write(&account_path, account).unwrap();
    let account_uri = file_uri(&account_path);
    assert!(account_uri.contains("/my%20manifests/rbac/service%20account.yaml"));

    let mut server = Server::start();
    server.initialize(Some(&root));
    let uri = file_uri(&root.join("app deploy.yaml"));
    assert!(uri.ends_with("/my%20manifests/app%20deploy.yaml"));
    server.open(&uri, DEPLOYMENT);

    // Once the workspace is indexed, the finding points at the account file.
    let diagnostics = server.wait_diagnostics(&uri, "pointing at the ServiceAccount", |p| {
        p["diagnostics"][0]["relatedInformation"][0]["location"]["uri"] == account_uri.as_str()
    });
    assert_eq!(diagnostics.len(), 1);
    let actions = server.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": spec_key(), "context": {"diagnostics": diagnostics}}),
    );
    let on_account = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Disable automounting on ServiceAccount \"default\"")
        .expect("the fix on the ServiceAccount");
    let changes = on_account["edit"]["changes"].as_object().unwrap();
    assert_eq!(changes.keys().collect::<Vec<_>>(), [&account_uri]);

    // The editor applies it to the file; the server hears of the change.
    let fixed = apply(account, changes[&account_uri].as_array().unwrap());
    std::fs::write(&account_path, fixed).unwrap();
    server.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": account_uri, "type": 2}]}),
    );
    let diagnostics = server.wait_diagnostics(&uri, "compliant", |p| p["diagnostics"] == json!([]));
    assert!(diagnostics.is_empty());

    assert_eq!(server.request("shutdown", Value::Null), Value::Null);
    server.notify("exit", Value::Null);
    assert_eq!(server.wait_for_exit().code(), Some(0));
}
