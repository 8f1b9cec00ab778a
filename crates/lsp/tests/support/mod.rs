//! A small LSP test client that talks to `tokenguard_lsp::serve` over an
//! in-memory duplex pipe with real `Content-Length` framing.
//!
//! It keeps its own copy of every document it opened (edited with the same
//! position rules the protocol prescribes), answers the server's requests
//! (`client/registerCapability`, `workspace/configuration`,
//! `window/workDoneProgress/create`, `workspace/diagnostic/refresh`), and
//! collects every notification. Every wait has a timeout: a test fails
//! instead of hanging.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, DuplexStream,
    WriteHalf,
};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{timeout_at, Instant};

/// How long any single wait may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The position encoding a session negotiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enc {
    Utf8,
    Utf16,
}

impl Enc {
    fn width(self, ch: char) -> usize {
        match self {
            Enc::Utf8 => ch.len_utf8(),
            Enc::Utf16 => ch.len_utf16(),
        }
    }

    /// The client capabilities that make the server pick this encoding.
    pub fn capabilities(self) -> Value {
        match self {
            Enc::Utf8 => json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}}),
            Enc::Utf16 => json!({}),
        }
    }
}

// ---------------------------------------------------------------------------
// Positions, computed independently of the server.
// ---------------------------------------------------------------------------

/// Byte offsets where lines start; lines end at LF, CRLF or a lone CR.
pub fn line_starts(text: &str) -> Vec<usize> {
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

/// The end of a line's content (before its line break).
fn content_end(text: &str, starts: &[usize], line: usize) -> usize {
    let end = starts.get(line + 1).copied().unwrap_or(text.len());
    let slice = &text[starts[line]..end];
    let slice = slice.strip_suffix('\n').unwrap_or(slice);
    let slice = slice.strip_suffix('\r').unwrap_or(slice);
    starts[line] + slice.len()
}

/// The byte offset of an LSP position: a line past the end clamps to the end
/// of the text, a column past the line's content to its end, a column inside
/// a character to that character's start.
pub fn offset_of(text: &str, line: u32, character: u32, enc: Enc) -> usize {
    let starts = line_starts(text);
    let line = line as usize;
    if line >= starts.len() {
        return text.len();
    }
    let start = starts[line];
    let end = content_end(text, &starts, line);
    let mut units = 0;
    let mut at = start;
    for ch in text[start..end].chars() {
        let width = enc.width(ch);
        if units + width > character as usize {
            break;
        }
        units += width;
        at += ch.len_utf8();
    }
    at
}

/// The LSP position of a byte offset (clamped to the text, floored to a
/// character boundary).
pub fn position_of(text: &str, offset: usize, enc: Enc) -> Value {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let starts = line_starts(text);
    let line = starts.partition_point(|&s| s <= offset) - 1;
    let character: usize = text[starts[line]..offset]
        .chars()
        .map(|c| enc.width(c))
        .sum();
    json!({"line": line, "character": character})
}

pub fn pos(line: u32, character: u32) -> Value {
    json!({"line": line, "character": character})
}

pub fn range(l1: u32, c1: u32, l2: u32, c2: u32) -> Value {
    json!({"start": pos(l1, c1), "end": pos(l2, c2)})
}

/// The LSP range of a byte range.
pub fn range_of(text: &str, start: usize, end: usize, enc: Enc) -> Value {
    json!({"start": position_of(text, start, enc), "end": position_of(text, end, enc)})
}

/// The LSP range of the `n`-th (0-based) occurrence of `needle` in `text`.
pub fn find_range(text: &str, needle: &str, n: usize, enc: Enc) -> Value {
    let start = text
        .match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("{needle:?} occurs fewer than {} times in {text:?}", n + 1))
        .0;
    range_of(text, start, start + needle.len(), enc)
}

fn byte_range(text: &str, range: &Value, enc: Enc) -> (usize, usize) {
    let at = |p: &Value| {
        offset_of(
            text,
            p["line"].as_u64().expect("line") as u32,
            p["character"].as_u64().expect("character") as u32,
            enc,
        )
    };
    let (a, b) = (at(&range["start"]), at(&range["end"]));
    (a.min(b), a.max(b))
}

/// Applies one content change (`range` null = the whole text).
pub fn apply_change(text: &mut String, range: &Value, new_text: &str, enc: Enc) {
    if range.is_null() {
        *text = new_text.to_string();
        return;
    }
    let (start, end) = byte_range(text, range, enc);
    text.replace_range(start..end, new_text);
}

/// Applies LSP `TextEdit`s (all against the same original text).
pub fn apply_text_edits(text: &str, edits: &[Value], enc: Enc) -> String {
    let mut spans: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| {
            let (s, t) = byte_range(text, &e["range"], enc);
            (s, t, e["newText"].as_str().expect("newText"))
        })
        .collect();
    spans.sort_by_key(|&(s, t, _)| (s, t));
    let mut out = String::new();
    let mut at = 0;
    for (s, t, new_text) in spans {
        assert!(s >= at, "overlapping edits: {edits:?}");
        out.push_str(&text[at..s]);
        out.push_str(new_text);
        at = t;
    }
    out.push_str(&text[at..]);
    out
}

/// A `file://` URI for a path, percent-encoding like editors do.
pub fn file_uri(path: &Path) -> String {
    let path = path.to_str().expect("UTF-8 path");
    // Windows: `C:\dir\x.yaml` is `file:///C%3A/dir/x.yaml`, as VS Code
    // spells it (the server takes any spelling of the same file).
    let path = if cfg!(windows) {
        format!("/{}", path.replace('\\', "/"))
    } else {
        path.to_string()
    };
    let mut uri = String::from("file://");
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

// ---------------------------------------------------------------------------
// Framing.
// ---------------------------------------------------------------------------

pub async fn write_message<W: AsyncWrite + Unpin>(
    writer: &mut W,
    message: &Value,
) -> std::io::Result<()> {
    let body = serde_json::to_vec(message).expect("serializable");
    let header = format!("Content-Length: {}\r\n\r\n", body.len());
    writer.write_all(header.as_bytes()).await?;
    writer.write_all(&body).await?;
    writer.flush().await
}

/// Reads one framed message; `None` at the end of the stream.
pub async fn read_message<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> std::io::Result<Option<Value>> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if length.is_some() {
                break;
            }
            continue;
        }
        let (name, value) = line.split_once(':').expect("header line");
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .trim()
                    .parse::<usize>()
                    .expect("numeric Content-Length"),
            );
        }
    }
    let mut body = vec![0; length.expect("Content-Length")];
    reader.read_exact(&mut body).await?;
    Ok(Some(serde_json::from_slice(&body).expect("JSON body")))
}

// ---------------------------------------------------------------------------
// The client.
// ---------------------------------------------------------------------------

/// One `textDocument/publishDiagnostics`.
#[derive(Clone, Debug)]
pub struct Published {
    pub uri: String,
    pub version: Option<i64>,
    pub diagnostics: Vec<Value>,
}

impl Published {
    pub fn codes(&self) -> Vec<&str> {
        self.diagnostics
            .iter()
            .map(|d| d["code"].as_str().unwrap_or(""))
            .collect()
    }
}

struct DocCopy {
    text: String,
    version: i64,
}

type Pending = Arc<Mutex<HashMap<i64, oneshot::Sender<Value>>>>;
type Writer = Arc<tokio::sync::Mutex<WriteHalf<DuplexStream>>>;

pub struct TestClient {
    writer: Writer,
    pending: Pending,
    incoming: mpsc::UnboundedReceiver<Value>,
    /// Publishes received and not consumed yet, per URI, in arrival order.
    published: HashMap<String, VecDeque<Published>>,
    /// Every notification and server request received, in arrival order.
    pub log: Vec<Value>,
    /// What `workspace/configuration` answers for the `tokenguard` section.
    pub configuration: Arc<Mutex<Value>>,
    docs: HashMap<String, DocCopy>,
    next_id: i64,
    pub encoding: Enc,
    server: Option<JoinHandle<bool>>,
    reader: JoinHandle<()>,
}

/// A handle that sends notifications on the client's connection, from any
/// task: for tests that edit from several tasks at once. It keeps no copy of
/// the documents; its owner does.
#[derive(Clone)]
pub struct Notifier {
    writer: Writer,
}

impl Notifier {
    pub async fn notify(&self, method: &str, params: Value) {
        let message = json!({"jsonrpc": "2.0", "method": method, "params": params});
        let mut writer = self.writer.lock().await;
        write_message(&mut *writer, &message)
            .await
            .expect("server reads its input");
    }
}

impl TestClient {
    /// A notifier on this client's connection.
    pub fn notifier(&self) -> Notifier {
        Notifier {
            writer: Arc::clone(&self.writer),
        }
    }

    /// Starts a server on an in-memory pipe.
    pub fn start() -> Self {
        let (client_side, server_side) = tokio::io::duplex(1 << 16);
        let (server_read, server_write) = tokio::io::split(server_side);
        let server = tokio::spawn(tokenguard_lsp::serve(server_read, server_write));
        let (client_read, client_write) = tokio::io::split(client_side);
        let writer: Writer = Arc::new(tokio::sync::Mutex::new(client_write));
        let pending: Pending = Arc::default();
        let configuration = Arc::new(Mutex::new(Value::Null));
        let (tx, incoming) = mpsc::unbounded_channel();
        let reader = tokio::spawn(read_loop(
            BufReader::new(client_read),
            Arc::clone(&writer),
            Arc::clone(&pending),
            Arc::clone(&configuration),
            tx,
        ));
        Self {
            writer,
            pending,
            incoming,
            published: HashMap::new(),
            log: Vec::new(),
            configuration,
            docs: HashMap::new(),
            next_id: 1,
            encoding: Enc::Utf16,
            server: Some(server),
            reader,
        }
    }

    async fn send(&self, message: Value) {
        let mut writer = self.writer.lock().await;
        write_message(&mut *writer, &message)
            .await
            .expect("server reads its input");
    }

    pub async fn notify(&self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}))
            .await;
    }

    /// Sends a request and returns the whole response message.
    pub async fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        match tokio::time::timeout(TIMEOUT, rx).await {
            Ok(Ok(response)) => response,
            Ok(Err(_)) => panic!("the server closed the connection before answering {method}"),
            Err(_) => panic!("no answer to {method} within {TIMEOUT:?}"),
        }
    }

    /// Sends a request and returns its result; an error response fails the test.
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params).await;
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// `initialize` (with `initialized`), with client capabilities and
    /// initialization options; returns the server's result.
    pub async fn initialize(&mut self, capabilities: Value, options: Value) -> Value {
        self.initialize_with(
            json!({"capabilities": capabilities, "initializationOptions": options}),
        )
        .await
    }

    /// `initialize` with the workspace folder `root`.
    pub async fn initialize_in(
        &mut self,
        root: &Path,
        capabilities: Value,
        options: Value,
    ) -> Value {
        let uri = file_uri(root);
        self.initialize_with(json!({
            "capabilities": capabilities,
            "initializationOptions": options,
            "rootUri": uri,
            "workspaceFolders": [{"uri": uri, "name": "workspace"}],
        }))
        .await
    }

    /// `initialize` with the given params (`processId` is filled in), then
    /// `initialized`. Records the negotiated position encoding.
    pub async fn initialize_with(&mut self, mut params: Value) -> Value {
        params["processId"] = json!(std::process::id());
        if params["initializationOptions"].is_null() {
            params
                .as_object_mut()
                .unwrap()
                .remove("initializationOptions");
        }
        let result = self.request("initialize", params).await;
        self.encoding = match result["capabilities"]["positionEncoding"].as_str() {
            Some("utf-8") => Enc::Utf8,
            Some("utf-16") | None => Enc::Utf16,
            Some(other) => panic!("unexpected position encoding {other}"),
        };
        self.notify("initialized", json!({})).await;
        result
    }

    pub async fn open(&mut self, uri: &str, text: &str) {
        self.open_version(uri, 1, text).await;
    }

    pub async fn open_version(&mut self, uri: &str, version: i64, text: &str) {
        self.docs.insert(
            uri.to_string(),
            DocCopy {
                text: text.to_string(),
                version,
            },
        );
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": version, "text": text}}),
        )
        .await;
    }

    pub async fn close(&mut self, uri: &str) {
        self.docs.remove(uri);
        self.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        )
        .await;
    }

    /// One incremental change; the client's copy is edited the same way.
    pub async fn change(&mut self, uri: &str, version: i64, range: Value, text: &str) {
        self.change_many(uri, version, vec![(range, text.to_string())])
            .await;
    }

    /// One `didChange` with several content changes, applied in order.
    pub async fn change_many(&mut self, uri: &str, version: i64, changes: Vec<(Value, String)>) {
        let enc = self.encoding;
        let doc = self
            .docs
            .get_mut(uri)
            .expect("change of a document the client opened");
        for (range, text) in &changes {
            apply_change(&mut doc.text, range, text, enc);
        }
        doc.version = version;
        let content_changes: Vec<Value> = changes
            .into_iter()
            .map(|(range, text)| json!({"range": range, "text": text}))
            .collect();
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": content_changes}),
        )
        .await;
    }

    /// Applies `edits` (as a server computed them) to the client's copy and
    /// sends them as one `didChange` with the next version; returns it.
    pub async fn apply_edits(&mut self, uri: &str, edits: &[Value]) -> i64 {
        let enc = self.encoding;
        let doc = self
            .docs
            .get(uri)
            .expect("edit of a document the client opened");
        let expected = apply_text_edits(&doc.text, edits, enc);
        // Send the edits last-first, so each range still means what the
        // server meant.
        let mut sorted: Vec<&Value> = edits.iter().collect();
        sorted.sort_by_key(|e| {
            let (s, t) = byte_range(&doc.text, &e["range"], enc);
            std::cmp::Reverse((s, t))
        });
        let changes = sorted
            .into_iter()
            .map(|e| {
                (
                    e["range"].clone(),
                    e["newText"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let version = doc.version + 1;
        self.change_many(uri, version, changes).await;
        assert_eq!(self.text(uri), expected);
        version
    }

    /// Applies the edits a `WorkspaceEdit` makes to `uri`.
    pub async fn apply_workspace_edit(&mut self, uri: &str, edit: &Value) -> i64 {
        let edits = workspace_edit_for(edit, uri);
        self.apply_edits(uri, &edits).await
    }

    pub fn text(&self, uri: &str) -> &str {
        &self.docs[uri].text
    }

    pub fn version(&self, uri: &str) -> i64 {
        self.docs[uri].version
    }

    /// The next message from the server, stored in the log (and the
    /// publish queues); `None` once the server closed the stream.
    async fn next_incoming(&mut self, deadline: Instant, waiting_for: &str) -> Option<Value> {
        match timeout_at(deadline, self.incoming.recv()).await {
            Ok(Some(message)) => {
                if message["method"] == "textDocument/publishDiagnostics" {
                    let params = &message["params"];
                    let published = Published {
                        uri: params["uri"].as_str().unwrap().to_string(),
                        version: params["version"].as_i64(),
                        diagnostics: params["diagnostics"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default(),
                    };
                    self.published
                        .entry(published.uri.clone())
                        .or_default()
                        .push_back(published);
                }
                self.log.push(message.clone());
                Some(message)
            }
            Ok(None) => None,
            Err(_) => panic!(
                "timed out after {TIMEOUT:?} waiting for {waiting_for}; received: {:#?}",
                self.log
            ),
        }
    }

    /// Consumes the publishes of `uri` until one satisfies `accept`.
    pub async fn wait_published(
        &mut self,
        uri: &str,
        what: &str,
        accept: impl Fn(&Published) -> bool,
    ) -> Published {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(queue) = self.published.get_mut(uri) {
                while let Some(p) = queue.pop_front() {
                    if accept(&p) {
                        return p;
                    }
                }
            }
            let waiting_for = format!("diagnostics of {uri}: {what}");
            if self.next_incoming(deadline, &waiting_for).await.is_none() {
                panic!("the server closed the stream while waiting for {waiting_for}");
            }
        }
    }

    /// The first publish for `uri` at `version` (earlier ones are consumed).
    pub async fn wait_diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let what = format!("version {version}");
        self.wait_published(uri, &what, |p| p.version == Some(version))
            .await
            .diagnostics
    }

    /// Waits until a publish for `uri` satisfies `accept`, for changes that
    /// come from other documents or the disk (the version does not move).
    pub async fn wait_until(
        &mut self,
        uri: &str,
        what: &str,
        accept: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        self.wait_published(uri, what, |p| accept(&p.diagnostics))
            .await
            .diagnostics
    }

    /// Waits for a notification (or server request) of `method` matching `accept`.
    pub async fn wait_message(&mut self, method: &str, accept: impl Fn(&Value) -> bool) -> Value {
        if let Some(found) = self.log.iter().find(|m| m["method"] == method && accept(m)) {
            return found.clone();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            match self.next_incoming(deadline, method).await {
                Some(m) if m["method"] == method && accept(&m) => return m,
                Some(_) => {}
                None => panic!("the server closed the stream while waiting for {method}"),
            }
        }
    }

    /// Reads everything the server sends until it closes the stream.
    pub async fn drain_until_closed(&mut self) {
        let deadline = Instant::now() + TIMEOUT;
        while self
            .next_incoming(deadline, "the end of the stream")
            .await
            .is_some()
        {}
    }

    /// All publishes received so far (consumed or not are not told apart:
    /// this reads the log).
    pub fn all_published(&self) -> Vec<&Value> {
        self.log
            .iter()
            .filter(|m| m["method"] == "textDocument/publishDiagnostics")
            .collect()
    }

    /// `shutdown` then `exit`; returns what `serve` returned.
    pub async fn shutdown_and_exit(mut self) -> bool {
        let result = self.request("shutdown", Value::Null).await;
        assert!(result.is_null());
        self.notify("exit", Value::Null).await;
        self.join().await
    }

    /// `exit` alone; returns what `serve` returned.
    pub async fn exit(mut self) -> bool {
        self.notify("exit", Value::Null).await;
        self.join().await
    }

    /// Waits for `serve` to return.
    pub async fn join(&mut self) -> bool {
        let server = self.server.take().expect("joined once");
        tokio::time::timeout(TIMEOUT, server)
            .await
            .expect("serve returns promptly after exit")
            .expect("serve does not panic")
    }

    // -- requests with their usual params ------------------------------------

    pub async fn hover(&mut self, uri: &str, line: u32, character: u32) -> Value {
        self.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": pos(line, character)}),
        )
        .await
    }

    /// `textDocument/codeAction` over `range`; `only` = null for all kinds.
    /// Returns the actions (an empty list for a null result).
    pub async fn code_actions(
        &mut self,
        uri: &str,
        range: Value,
        diagnostics: &[Value],
        only: Value,
    ) -> Vec<Value> {
        let mut context = json!({"diagnostics": diagnostics});
        if !only.is_null() {
            context["only"] = only;
        }
        let result = self
            .request(
                "textDocument/codeAction",
                json!({"textDocument": {"uri": uri}, "range": range, "context": context}),
            )
            .await;
        result.as_array().cloned().unwrap_or_default()
    }
}

impl Drop for TestClient {
    fn drop(&mut self) {
        self.reader.abort();
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// The `TextEdit`s a `WorkspaceEdit` makes to `uri` (`changes` or
/// `documentChanges`).
pub fn workspace_edit_for(edit: &Value, uri: &str) -> Vec<Value> {
    if let Some(edits) = edit["changes"][uri].as_array() {
        return edits.clone();
    }
    edit["documentChanges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["textDocument"]["uri"] == uri)
        .flat_map(|c| c["edits"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// The URIs a `WorkspaceEdit` touches.
pub fn workspace_edit_uris(edit: &Value) -> Vec<String> {
    let mut uris: Vec<String> = edit["changes"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    for change in edit["documentChanges"].as_array().into_iter().flatten() {
        if let Some(uri) = change["textDocument"]["uri"].as_str() {
            uris.push(uri.to_string());
        }
    }
    uris
}

/// Reads the server's messages: responses go to their waiting request,
/// server requests are answered here, everything else is passed on.
async fn read_loop(
    mut reader: BufReader<tokio::io::ReadHalf<DuplexStream>>,
    writer: Writer,
    pending: Pending,
    configuration: Arc<Mutex<Value>>,
    incoming: mpsc::UnboundedSender<Value>,
) {
    while let Ok(Some(message)) = read_message(&mut reader).await {
        let is_response = message.get("method").is_none();
        if is_response {
            let id = message["id"].as_i64().expect("response id");
            if let Some(waiter) = pending.lock().unwrap().remove(&id) {
                let _ = waiter.send(message);
            }
            continue;
        }
        if let Some(id) = message.get("id").cloned() {
            let result = match message["method"].as_str().unwrap() {
                "workspace/configuration" => {
                    let settings = configuration.lock().unwrap().clone();
                    let items = message["params"]["items"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    Ok(Value::Array(
                        items
                            .iter()
                            .map(|item| match item["section"].as_str() {
                                Some(section) => {
                                    settings.get(section).cloned().unwrap_or(Value::Null)
                                }
                                None => settings.clone(),
                            })
                            .collect(),
                    ))
                }
                "client/registerCapability"
                | "client/unregisterCapability"
                | "window/workDoneProgress/create"
                | "workspace/diagnostic/refresh" => Ok(Value::Null),
                _ => Err(json!({"code": -32601, "message": "method not found"})),
            };
            let response = match result {
                Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
                Err(error) => json!({"jsonrpc": "2.0", "id": id, "error": error}),
            };
            let mut writer = writer.lock().await;
            // The server may already be gone; the test notices elsewhere.
            let _ = write_message(&mut *writer, &response).await;
        }
        if incoming.send(message).is_err() {
            return;
        }
    }
}

/// What the server must publish for `text` when no other file declares
/// ServiceAccounts: a fresh analysis, in LSP ranges, as (range, code,
/// message); nothing for YAML that is not Kubernetes.
pub fn expected_diagnostics(text: &str, enc: Enc) -> Vec<(Value, String, String)> {
    if !tokenguard_analysis::holds_kubernetes_object(
        text,
        &tokenguard_analysis::parse(text, tokenguard_analysis::Options::builtin()),
    ) {
        return Vec::new();
    }
    tokenguard_analysis::analyze(
        text,
        &tokenguard_analysis::NoAccounts,
        tokenguard_analysis::Options::builtin(),
    )
    .into_iter()
    .map(|f| {
        (
            range_of(text, f.range.start, f.range.end, enc),
            f.code.as_str().to_string(),
            f.message,
        )
    })
    .collect()
}

/// Published diagnostics as (range, code, message), for comparison with
/// [`expected_diagnostics`].
pub fn summarize(diagnostics: &[Value]) -> Vec<(Value, String, String)> {
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
