//! [`TestClient`]: an LSP client for tests, over an in-memory pipe to
//! `tokenguard_lsp::serve` in the test's own process, or over the standard
//! input and output of a `tokenguard server` child process. Same API.
//!
//! It keeps its own copy of every document it opened (edited with the
//! position rules of [`crate::positions`]), answers the server's requests
//! (`client/registerCapability`, `workspace/configuration`,
//! `window/workDoneProgress/create`, `workspace/diagnostic/refresh`,
//! `workspace/inlayHint/refresh`, `workspace/codeLens/refresh`), and
//! records every message the server sends. Every wait has a timeout
//! ([`TestClient::timeout`]): a test fails instead of hanging.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ls_types::notification::Notification;
use ls_types::request::Request;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use tokio::io::{
    AsyncRead, AsyncReadExt, AsyncWrite, BufReader, DuplexStream, ReadHalf, WriteHalf,
};
use tokio::process::Child;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{timeout_at, Instant};

use crate::expect::workspace_edit_for;
use crate::fixtures::file_uri;
use crate::framing::{frame, read_frame, write_bytes, write_message};
use crate::positions::{apply_change, apply_text_edits, byte_range, pos, Enc};

/// How long any single wait may take, unless the test sets
/// [`TestClient::timeout`].
pub const TIMEOUT: Duration = Duration::from_secs(10);

type BoxRead = Box<dyn AsyncRead + Send + Unpin>;
type BoxWrite = Box<dyn AsyncWrite + Send + Unpin>;
/// `None` once the client closed its side ([`TestClient::close_input`]).
type Writer = Arc<tokio::sync::Mutex<Option<BoxWrite>>>;
type Pending = Arc<Mutex<HashMap<i64, oneshot::Sender<Value>>>>;

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

/// How a session ended.
#[derive(Debug)]
pub enum Exit {
    /// In process: what `serve` returned (whether `shutdown` came before
    /// `exit`).
    Returned(bool),
    /// A child process's exit status.
    Process(ExitStatus),
}

impl Exit {
    /// The exit status, as `tokenguard server` gives it: 0 after `shutdown`
    /// and `exit`, 1 after `exit` alone or the end of the input (in process,
    /// the status the binary would give for what `serve` returned).
    pub fn code(&self) -> Option<i32> {
        match self {
            Exit::Returned(true) => Some(0),
            Exit::Returned(false) => Some(1),
            Exit::Process(status) => status.code(),
        }
    }

    /// Whether the session ended with `shutdown` then `exit`.
    pub fn clean(&self) -> bool {
        self.code() == Some(0)
    }
}

enum Server {
    InProcess(Option<JoinHandle<bool>>),
    Process {
        /// `None` once waited for (boxed: a `Child` is large).
        child: Option<Box<Child>>,
        /// What the server wrote on standard error so far.
        log: Arc<Mutex<String>>,
        /// Changes each time the log grows.
        grew: watch::Receiver<usize>,
    },
}

struct DocCopy {
    text: String,
    version: i64,
}

/// A handle that sends notifications on a client's connection, from any
/// task: for tests that edit from several tasks at once. It keeps no copy of
/// the documents; its owner does.
#[derive(Clone)]
pub struct Notifier {
    writer: Writer,
}

impl Notifier {
    /// A notification, typed.
    pub async fn notify<N: Notification>(&self, params: N::Params) {
        self.notify_json(N::METHOD, to_json(params)).await;
    }

    /// A notification, as JSON.
    pub async fn notify_json(&self, method: &str, params: Value) {
        let message = json!({"jsonrpc": "2.0", "method": method, "params": params});
        send_on(&self.writer, &frame(&body(&message))).await;
    }
}

pub struct TestClient {
    writer: Writer,
    pending: Pending,
    incoming: mpsc::UnboundedReceiver<Value>,
    /// Publishes received and not consumed yet, per URI, in arrival order.
    published: HashMap<String, VecDeque<Published>>,
    /// Other messages received and not consumed yet (by
    /// [`TestClient::wait_for`]), in arrival order.
    backlog: VecDeque<Value>,
    /// Every notification, server request and unclaimed response received,
    /// in arrival order.
    pub log: Vec<Value>,
    /// What `workspace/configuration` answers: item `section` gets this
    /// value's `section` field (`null` when absent).
    pub configuration: Arc<Mutex<Value>>,
    docs: HashMap<String, DocCopy>,
    next_id: i64,
    /// The position encoding negotiated at `initialize` (UTF-16 before).
    pub encoding: Enc,
    /// How long each wait may take.
    pub timeout: Duration,
    server: Server,
    reader: JoinHandle<()>,
    /// Set by [`TestClient::skim_publishes`].
    skim: Arc<AtomicBool>,
}

impl TestClient {
    /// Runs `serve` (`tokenguard_lsp::serve`) in this process, on an
    /// in-memory pipe with real framing. Call it inside a tokio runtime.
    pub fn in_process<F, Fut>(serve: F) -> Self
    where
        F: FnOnce(ReadHalf<DuplexStream>, WriteHalf<DuplexStream>) -> Fut,
        Fut: Future<Output = bool> + Send + 'static,
    {
        let (client_side, server_side) = tokio::io::duplex(1 << 16);
        let (server_read, server_write) = tokio::io::split(server_side);
        let server = tokio::spawn(serve(server_read, server_write));
        let (client_read, client_write) = tokio::io::split(client_side);
        Self::connect(
            Box::new(client_read),
            Box::new(client_write),
            Server::InProcess(Some(server)),
        )
    }

    /// Starts `command` (for example `tokenguard server --stdio`) and speaks
    /// LSP on its standard input and output; its standard error is kept as
    /// the server's log ([`TestClient::server_log`]). The process is killed
    /// when the client is dropped. Call it inside a tokio runtime.
    pub fn spawn(mut command: std::process::Command) -> Self {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let program = command.get_program().to_owned();
        let mut command = tokio::process::Command::from(command);
        command.kill_on_drop(true);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.to_string_lossy()));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (grow, grew) = watch::channel(0);
        let sink = Arc::clone(&log);
        tokio::spawn(async move {
            let mut chunk = vec![0u8; 8192];
            while let Ok(n) = stderr.read(&mut chunk).await {
                if n == 0 {
                    return;
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&String::from_utf8_lossy(&chunk[..n]));
                let _ = grow.send(log.len());
            }
        });
        Self::connect(
            Box::new(stdout),
            Box::new(stdin),
            Server::Process {
                child: Some(Box::new(child)),
                log,
                grew,
            },
        )
    }

    fn connect(reader: BoxRead, writer: BoxWrite, server: Server) -> Self {
        let writer: Writer = Arc::new(tokio::sync::Mutex::new(Some(writer)));
        let pending: Pending = Arc::default();
        let configuration = Arc::new(Mutex::new(Value::Null));
        let (tx, incoming) = mpsc::unbounded_channel();
        let skim = Arc::new(AtomicBool::new(false));
        let reader = tokio::spawn(read_loop(
            BufReader::new(reader),
            Arc::clone(&writer),
            Arc::clone(&pending),
            Arc::clone(&configuration),
            Arc::clone(&skim),
            tx,
        ));
        Self {
            writer,
            pending,
            incoming,
            published: HashMap::new(),
            backlog: VecDeque::new(),
            log: Vec::new(),
            configuration,
            docs: HashMap::new(),
            next_id: 1,
            encoding: Enc::Utf16,
            timeout: TIMEOUT,
            server,
            reader,
            skim,
        }
    }

    /// From now on, a publish's diagnostics are counted, not decoded: each
    /// message is still read whole and checked as JSON, but no tree is
    /// built for a `textDocument/publishDiagnostics` (its URI and version
    /// are read; each of its diagnostics is `null` in what the client
    /// keeps). For benchmarks, whose timings must not hold the client's own
    /// decoding and copying of every publish.
    pub fn skim_publishes(&self) {
        self.skim.store(true, Ordering::Relaxed);
    }

    /// A notifier on this client's connection.
    pub fn notifier(&self) -> Notifier {
        Notifier {
            writer: Arc::clone(&self.writer),
        }
    }

    // -- sending ----------------------------------------------------------

    /// Sends bytes as they are: a framed message, or anything else.
    pub async fn send_raw(&self, bytes: &[u8]) {
        send_on(&self.writer, bytes).await;
    }

    /// Sends one JSON value, framed, as it is (any id, any shape).
    pub async fn send(&self, message: &Value) {
        self.send_raw(&frame(&body(message))).await;
    }

    /// Closes the client's side of the connection (the server's input ends).
    pub async fn close_input(&self) {
        self.writer.lock().await.take();
    }

    /// A notification, typed: `client.notify::<DidSaveTextDocument>(params)`.
    pub async fn notify<N: Notification>(&self, params: N::Params) {
        self.notify_json(N::METHOD, to_json(params)).await;
    }

    /// A notification, as JSON.
    pub async fn notify_json(&self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}))
            .await;
    }

    /// A request, typed: `client.request::<HoverRequest>(params)`; an error
    /// response, or a result that is not `R::Result`, fails the test.
    pub async fn request<R: Request>(&mut self, params: R::Params) -> R::Result {
        let result = self.request_json(R::METHOD, to_json(params)).await;
        serde_json::from_value(result.clone())
            .unwrap_or_else(|e| panic!("{} answered {result}, not its result type: {e}", R::METHOD))
    }

    /// A request, as JSON; returns its result. An error response fails the
    /// test.
    pub async fn request_json(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params).await;
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// A request, as JSON; returns the whole response message.
    pub async fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(response)) => response,
            Ok(Err(_)) => panic!(
                "the server closed the connection before answering {method}{}",
                self.log_suffix()
            ),
            Err(_) => panic!(
                "no answer to {method} within {:?}{}",
                self.timeout,
                self.log_suffix()
            ),
        }
    }

    /// The response to a request sent with [`TestClient::send`] under `id`.
    pub async fn response(&mut self, id: &Value) -> Value {
        let what = format!("the response to request {id}");
        self.wait_for(&what, |m| {
            m.get("method").is_none() && m.get("id") == Some(id)
        })
        .await
    }

    // -- the session --------------------------------------------------------

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
                .expect("params are an object")
                .remove("initializationOptions");
        }
        let result = self.request_json("initialize", params).await;
        self.encoding = match result["capabilities"]["positionEncoding"].as_str() {
            Some("utf-8") => Enc::Utf8,
            Some("utf-16") | None => Enc::Utf16,
            Some(other) => panic!("unexpected position encoding {other}"),
        };
        self.notify_json("initialized", json!({})).await;
        result
    }

    /// `shutdown` then `exit`; then waits for the server to end.
    pub async fn shutdown_and_exit(mut self) -> Exit {
        let result = self.request_json("shutdown", Value::Null).await;
        assert!(result.is_null(), "shutdown answered {result}");
        self.notify_json("exit", Value::Null).await;
        self.join().await
    }

    /// `exit` alone; then waits for the server to end.
    pub async fn exit(mut self) -> Exit {
        self.notify_json("exit", Value::Null).await;
        self.join().await
    }

    /// Waits for the server to end by itself (the input stays open).
    pub async fn wait_for_exit(mut self) -> Exit {
        self.join().await
    }

    /// Waits for the server to end (`serve` to return, or the process to
    /// exit); the input stays open meanwhile.
    pub async fn join(&mut self) -> Exit {
        let limit = self.timeout;
        match &mut self.server {
            Server::InProcess(server) => {
                let server = server.take().expect("joined once");
                let returned = tokio::time::timeout(limit, server)
                    .await
                    .expect("serve returns promptly")
                    .expect("serve does not panic");
                Exit::Returned(returned)
            }
            Server::Process { child, .. } => {
                let mut child = child.take().expect("waited for once");
                match tokio::time::timeout(limit, child.wait()).await {
                    Ok(status) => Exit::Process(status.expect("an exit status")),
                    Err(_) => panic!(
                        "the server did not exit within {limit:?}{}",
                        self.log_suffix()
                    ),
                }
            }
        }
    }

    // -- documents ----------------------------------------------------------

    /// `didOpen` at version 1.
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
        self.notify_json(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": version, "text": text}}),
        )
        .await;
    }

    pub async fn close(&mut self, uri: &str) {
        self.docs.remove(uri);
        self.notify_json(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        )
        .await;
    }

    /// One change (`range` null: the whole text); the client's copy is
    /// edited the same way.
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
        self.notify_json(
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
                    e["newText"].as_str().expect("newText").to_string(),
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

    /// The client's copy of an open document.
    pub fn text(&self, uri: &str) -> &str {
        &self.docs[uri].text
    }

    /// The version of the client's copy.
    pub fn version(&self, uri: &str) -> i64 {
        self.docs[uri].version
    }

    // -- requests with their usual params -------------------------------------

    pub async fn hover(&mut self, uri: &str, line: u32, character: u32) -> Value {
        self.request_json(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": pos(line, character)}),
        )
        .await
    }

    /// `textDocument/definition`, typed: the locations (one location, or
    /// links, are read as a list of locations; none for a null result).
    pub async fn definition(
        &mut self,
        uri: &str,
        line: u32,
        character: u32,
    ) -> Vec<ls_types::Location> {
        let params = ls_types::GotoDefinitionParams {
            text_document_position_params: crate::fixtures::at(uri, line, character),
            work_done_progress_params: Default::default(),
            partial_result_params: Default::default(),
        };
        match self
            .request::<ls_types::request::GotoDefinition>(params)
            .await
        {
            None => Vec::new(),
            Some(ls_types::GotoDefinitionResponse::Scalar(location)) => vec![location],
            Some(ls_types::GotoDefinitionResponse::Array(locations)) => locations,
            Some(ls_types::GotoDefinitionResponse::Link(links)) => links
                .into_iter()
                .map(|l| ls_types::Location::new(l.target_uri, l.target_selection_range))
                .collect(),
        }
    }

    /// `textDocument/references`, typed (none for a null result).
    pub async fn references(
        &mut self,
        uri: &str,
        line: u32,
        character: u32,
        include_declaration: bool,
    ) -> Vec<ls_types::Location> {
        let params = ls_types::ReferenceParams {
            text_document_position: crate::fixtures::at(uri, line, character),
            work_done_progress_params: Default::default(),
            partial_result_params: Default::default(),
            context: ls_types::ReferenceContext {
                include_declaration,
            },
        };
        self.request::<ls_types::request::References>(params)
            .await
            .unwrap_or_default()
    }

    /// `textDocument/completion`, typed: the items (of a list too; none for
    /// a null result).
    pub async fn completion(
        &mut self,
        uri: &str,
        line: u32,
        character: u32,
    ) -> Vec<ls_types::CompletionItem> {
        let params = ls_types::CompletionParams {
            text_document_position: crate::fixtures::at(uri, line, character),
            work_done_progress_params: Default::default(),
            partial_result_params: Default::default(),
            context: None,
        };
        match self.request::<ls_types::request::Completion>(params).await {
            None => Vec::new(),
            Some(ls_types::CompletionResponse::Array(items)) => items,
            Some(ls_types::CompletionResponse::List(list)) => list.items,
        }
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
            .request_json(
                "textDocument/codeAction",
                json!({"textDocument": {"uri": uri}, "range": range, "context": context}),
            )
            .await;
        result.as_array().cloned().unwrap_or_default()
    }

    // -- receiving ----------------------------------------------------------

    /// The next message from the server, recorded in the log and queued
    /// (publishes per URI, the rest in the backlog); `None` once the server
    /// closed its output.
    async fn next_incoming(&mut self, deadline: Instant, waiting_for: &str) -> Option<Value> {
        match timeout_at(deadline, self.incoming.recv()).await {
            Ok(Some(message)) => {
                self.record(&message);
                Some(message)
            }
            Ok(None) => None,
            Err(_) => panic!(
                "timed out waiting for {waiting_for}; received: {:#?}{}",
                self.log,
                self.log_suffix()
            ),
        }
    }

    fn record(&mut self, message: &Value) {
        if message["method"] == "textDocument/publishDiagnostics" {
            let params = &message["params"];
            let published = Published {
                uri: params["uri"].as_str().unwrap_or_default().to_string(),
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
        } else {
            self.backlog.push_back(message.clone());
        }
        self.log.push(message.clone());
    }

    /// Consumes the publishes of `uri` until one satisfies `accept`.
    pub async fn wait_published(
        &mut self,
        uri: &str,
        what: &str,
        accept: impl Fn(&Published) -> bool,
    ) -> Published {
        let within = self.timeout;
        self.wait_published_within(uri, what, within, accept).await
    }

    /// [`TestClient::wait_published`] with its own time limit.
    pub async fn wait_published_within(
        &mut self,
        uri: &str,
        what: &str,
        within: Duration,
        accept: impl Fn(&Published) -> bool,
    ) -> Published {
        let deadline = Instant::now() + within;
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
                panic!(
                    "the server closed the stream while waiting for {waiting_for}{}",
                    self.log_suffix()
                );
            }
        }
    }

    /// The first publish for `uri` at `version` (earlier ones are consumed).
    pub async fn wait_diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let within = self.timeout;
        self.wait_diagnostics_within(uri, version, within).await
    }

    /// [`TestClient::wait_diagnostics`] with its own time limit.
    pub async fn wait_diagnostics_within(
        &mut self,
        uri: &str,
        version: i64,
        within: Duration,
    ) -> Vec<Value> {
        let what = format!("version {version}");
        self.wait_published_within(uri, &what, within, |p| p.version == Some(version))
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

    /// Waits for a notification or server request of `method` matching
    /// `accept`, among everything received so far too (nothing is
    /// consumed).
    pub async fn wait_message(&mut self, method: &str, accept: impl Fn(&Value) -> bool) -> Value {
        if let Some(found) = self.log.iter().find(|m| m["method"] == method && accept(m)) {
            return found.clone();
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            match self.next_incoming(deadline, method).await {
                Some(m) if m["method"] == method && accept(&m) => return m,
                Some(_) => {}
                None => panic!(
                    "the server closed the stream while waiting for {method}{}",
                    self.log_suffix()
                ),
            }
        }
    }

    /// Takes the first message other than a publish (a notification, a
    /// server request, a response nobody waited for) that `accept` takes,
    /// from what came and what comes; the others stay queued.
    pub async fn wait_for(&mut self, what: &str, accept: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&accept) {
            return self.backlog.remove(i).expect("found");
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            match self.next_incoming(deadline, what).await {
                Some(m) if m["method"] != "textDocument/publishDiagnostics" && accept(&m) => {
                    let last = self.backlog.pop_back();
                    debug_assert_eq!(last.as_ref(), Some(&m));
                    return m;
                }
                Some(_) => {}
                None => panic!(
                    "the server closed the stream while waiting for {what}{}",
                    self.log_suffix()
                ),
            }
        }
    }

    /// The next message the server sends that no request claimed (a
    /// notification, a server request, a response to a message sent with
    /// [`TestClient::send`]), recorded and queued as usual; `None` once the
    /// server closed its output.
    pub async fn next_message(&mut self) -> Option<Value> {
        let deadline = Instant::now() + self.timeout;
        self.next_incoming(deadline, "the next message").await
    }

    /// The process id of a server in a child process.
    pub fn process_id(&self) -> Option<u32> {
        match &self.server {
            Server::Process { child, .. } => child.as_ref().and_then(|c| c.id()),
            Server::InProcess(_) => None,
        }
    }

    /// Everything the server sends during `period` (recorded and queued as
    /// usual).
    pub async fn messages_during(&mut self, period: Duration) -> Vec<Value> {
        let deadline = Instant::now() + period;
        let mut received = Vec::new();
        while let Ok(Some(message)) = timeout_at(deadline, self.incoming.recv()).await {
            self.record(&message);
            received.push(message);
        }
        received
    }

    /// Reads everything the server sends until it closes the stream.
    pub async fn drain_until_closed(&mut self) {
        let deadline = Instant::now() + self.timeout;
        while self
            .next_incoming(deadline, "the end of the stream")
            .await
            .is_some()
        {}
    }

    /// All publishes received so far, consumed or not (this reads the log).
    pub fn all_published(&self) -> Vec<&Value> {
        self.log
            .iter()
            .filter(|m| m["method"] == "textDocument/publishDiagnostics")
            .collect()
    }

    // -- the child's log ------------------------------------------------------

    /// What a child server wrote on standard error so far (empty in
    /// process, where the log goes wherever the test's tracing goes).
    pub fn server_log(&self) -> String {
        match &self.server {
            Server::Process { log, .. } => log.lock().unwrap().clone(),
            Server::InProcess(_) => String::new(),
        }
    }

    /// Waits until a child server's log contains `text`; returns the log.
    pub async fn wait_log(&self, text: &str) -> String {
        let Server::Process { grew, .. } = &self.server else {
            panic!("wait_log needs a server in a child process");
        };
        let mut grew = grew.clone();
        let deadline = Instant::now() + self.timeout;
        loop {
            grew.borrow_and_update();
            let log = self.server_log();
            if log.contains(text) {
                return log;
            }
            match timeout_at(deadline, grew.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => {
                    let log = self.server_log();
                    if log.contains(text) {
                        return log;
                    }
                    panic!("the log never said {text:?}:\n{log}");
                }
            }
        }
    }

    fn log_suffix(&self) -> String {
        match &self.server {
            Server::Process { .. } => format!("\nserver log:\n{}", self.server_log()),
            Server::InProcess(_) => String::new(),
        }
    }
}

impl Drop for TestClient {
    fn drop(&mut self) {
        self.reader.abort();
        match &mut self.server {
            Server::InProcess(server) => {
                if let Some(server) = server.take() {
                    server.abort();
                }
            }
            // A failed test must not leave the process behind.
            Server::Process { child, .. } => {
                if let Some(child) = child.as_mut() {
                    let _ = child.start_kill();
                }
            }
        }
    }
}

fn to_json<T: serde::Serialize>(value: T) -> Value {
    serde_json::to_value(value).expect("params serialize")
}

fn body(message: &Value) -> Vec<u8> {
    serde_json::to_vec(message).expect("a JSON value serializes")
}

async fn send_on(writer: &Writer, bytes: &[u8]) {
    let mut writer = writer.lock().await;
    let writer = writer.as_mut().expect("the client's input is open");
    write_bytes(writer, bytes)
        .await
        .expect("the server reads its input");
}

/// Reads the server's messages: a response goes to the request waiting for
/// it, a server request is answered here; everything else (and server
/// requests too, once answered) is passed on.
async fn read_loop(
    mut reader: BufReader<BoxRead>,
    writer: Writer,
    pending: Pending,
    configuration: Arc<Mutex<Value>>,
    skim: Arc<AtomicBool>,
    incoming: mpsc::UnboundedSender<Value>,
) {
    loop {
        let body = match read_frame(&mut reader).await {
            Ok(Some(body)) => body,
            Ok(None) => return,
            Err(e) => {
                eprintln!("test client: the server's output is not LSP: {e}");
                return;
            }
        };
        let skimmed = skim
            .load(Ordering::Relaxed)
            .then(|| skimmed_publish(&body))
            .flatten();
        let message = match skimmed.map_or_else(|| serde_json::from_slice(&body), Ok) {
            Ok(message) => message,
            Err(e) => {
                eprintln!(
                    "test client: the server's output is not LSP: the body is not JSON ({e})"
                );
                return;
            }
        };
        if message.get("method").is_none() {
            let waiter = message["id"]
                .as_i64()
                .and_then(|id| pending.lock().unwrap().remove(&id));
            if let Some(waiter) = waiter {
                let _ = waiter.send(message);
                continue;
            }
        } else if let Some(id) = message.get("id").cloned() {
            let response = answer(&message, id, &configuration.lock().unwrap());
            let writer = Arc::clone(&writer);
            // Answered apart, so reading never waits for the input side.
            tokio::spawn(async move {
                let mut writer = writer.lock().await;
                if let Some(writer) = writer.as_mut() {
                    // The server may already be gone; the test notices elsewhere.
                    let _ = write_message(writer, &response).await;
                }
            });
        }
        if incoming.send(message).is_err() {
            return;
        }
    }
}

/// A publish as [`skimmed_publish`] reads it: what is not named is
/// checked as JSON and skipped.
#[derive(Deserialize)]
struct Skim<'a> {
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Option<SkimParams<'a>>,
}

#[derive(Deserialize)]
struct SkimParams<'a> {
    #[serde(borrow)]
    uri: Cow<'a, str>,
    #[serde(default)]
    version: Option<i64>,
    #[serde(borrow)]
    diagnostics: Vec<&'a RawValue>,
}

/// A `textDocument/publishDiagnostics` body read in one pass without a
/// tree: its URI, its version and one `null` per diagnostic; `None` for
/// any other message (or a publish of another shape), which is decoded
/// whole.
fn skimmed_publish(body: &[u8]) -> Option<Value> {
    let skim: Skim = serde_json::from_slice(body).ok()?;
    let params = skim.params?;
    (skim.method.as_deref() == Some("textDocument/publishDiagnostics")).then(|| {
        json!({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": {
            "uri": params.uri, "version": params.version,
            "diagnostics": vec![Value::Null; params.diagnostics.len()]}})
    })
}

/// The client's answer to a server request.
fn answer(request: &Value, id: Value, settings: &Value) -> Value {
    let result = match request["method"].as_str().unwrap_or_default() {
        "workspace/configuration" => {
            let items = request["params"]["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            Ok(Value::Array(
                items
                    .iter()
                    .map(|item| match item["section"].as_str() {
                        Some(section) => settings.get(section).cloned().unwrap_or(Value::Null),
                        None => settings.clone(),
                    })
                    .collect(),
            ))
        }
        "client/registerCapability"
        | "client/unregisterCapability"
        | "window/workDoneProgress/create"
        | "workspace/diagnostic/refresh"
        | "workspace/inlayHint/refresh"
        | "workspace/codeLens/refresh" => Ok(Value::Null),
        _ => Err(json!({"code": -32601, "message": "method not found"})),
    };
    match result {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(error) => json!({"jsonrpc": "2.0", "id": id, "error": error}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::read_message;

    #[test]
    fn a_skimmed_publish_keeps_its_uri_version_and_count() {
        let body = json!({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics",
            "params": {"diagnostics": [{"range": {}, "message": "a \\ \"b\""}, {"x": [1, 2e3]}],
            "uri": "file:///a%20b.yaml", "version": 7}});
        let skimmed = skimmed_publish(body.to_string().as_bytes()).unwrap();
        assert_eq!(skimmed["params"]["uri"], "file:///a%20b.yaml");
        assert_eq!(skimmed["params"]["version"], 7);
        assert_eq!(skimmed["params"]["diagnostics"], json!([null, null]));
        let cleared = json!({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics",
            "params": {"uri": "file:///a.yaml", "diagnostics": []}});
        let skimmed = skimmed_publish(cleared.to_string().as_bytes()).unwrap();
        assert_eq!(skimmed["params"]["version"], Value::Null);
        assert_eq!(skimmed["params"]["diagnostics"], json!([]));
        // Anything else is decoded whole.
        for other in [
            r#"{"jsonrpc":"2.0","id":1,"result":{"uri":"x","diagnostics":[]}}"#,
            r#"{"jsonrpc":"2.0","method":"$/progress","params":{"token":1,"value":{}}}"#,
            r#"{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":"x","diagnostics":{}}}"#,
            r#"{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":"x","diagnostics":[}]}}"#,
        ] {
            assert_eq!(skimmed_publish(other.as_bytes()), None, "{other}");
        }
    }

    /// A scripted server: asks the client for its configuration, answers
    /// `initialize` with what it got, sends an error nobody asked for, and
    /// returns once it reads `exit`.
    async fn scripted(input: ReadHalf<DuplexStream>, mut output: WriteHalf<DuplexStream>) -> bool {
        let mut input = BufReader::new(input);
        let initialize = read_message(&mut input).await.unwrap().unwrap();
        assert_eq!(initialize["method"], "initialize");
        let ask = json!({"jsonrpc": "2.0", "id": "c1", "method": "workspace/configuration",
            "params": {"items": [{"section": "tokenguard"}, {"section": "other"}]}});
        write_message(&mut output, &ask).await.unwrap();
        let answer = read_message(&mut input).await.unwrap().unwrap();
        assert_eq!(answer["id"], "c1");
        let reply = json!({"jsonrpc": "2.0", "id": initialize["id"],
            "result": {"capabilities": {"positionEncoding": "utf-8"}, "got": answer["result"]}});
        write_message(&mut output, &reply).await.unwrap();
        let stray =
            json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "x"}});
        write_message(&mut output, &stray).await.unwrap();
        loop {
            let message = read_message(&mut input).await.unwrap().unwrap();
            if message["method"] == "exit" {
                return true;
            }
        }
    }

    #[tokio::test]
    async fn server_requests_are_answered_and_unclaimed_responses_are_kept() {
        let mut client = TestClient::in_process(scripted);
        *client.configuration.lock().unwrap() = json!({"tokenguard": {"severity": "hint"}});
        let result = client.initialize(json!({}), Value::Null).await;
        assert_eq!(result["got"], json!([{"severity": "hint"}, null]));
        assert_eq!(client.encoding, Enc::Utf8);
        let stray = client
            .wait_for("the stray error", |m| m["error"]["code"] == -32700)
            .await;
        assert_eq!(stray["id"], Value::Null);
        let asked = client
            .wait_message("workspace/configuration", |_| true)
            .await;
        assert_eq!(asked["id"], "c1");
        assert!(client.exit().await.clean());
    }
}
