//! The wire: a guard between the client and tower-lsp-server.
//!
//! tower-lsp-server stops reading its input at the first message it cannot
//! decode (tokio-util's `FramedRead` ends the stream after a decoder error),
//! so a single malformed message would end the session. Every message from
//! the client is therefore framed ([`framing`]) and checked ([`check`])
//! here first:
//!
//! * a message tower-lsp-server decodes is passed on, its body unchanged,
//!   re-framed with a plain `Content-Length` header;
//! * a body that is not JSON is answered with a parse error (-32700), and a
//!   JSON value that is no JSON-RPC message with an invalid-request error
//!   (-32600, with the message's `id` when it has a usable one);
//! * bytes that are not a message header are skipped up to the next
//!   `Content-Length`, so a wrong `Content-Length` costs the broken message
//!   only: when it claimed too many bytes, the header it swallowed is found
//!   again inside the body and reading resumes there;
//! * a message over [`MAX_MESSAGE`](framing::MAX_MESSAGE) bytes is dropped
//!   as it arrives (and answered with an invalid-request error) instead of
//!   being held in memory.
//!
//! Every rejection is logged. The server's output goes through here too, one
//! whole message at a time, so that the errors answered here never interleave
//! with what the server writes: what tower-lsp-server writes, and what the
//! server writes past it through its [`Outbox`] (the diagnostics it
//! publishes, serialised once: `server/publish.rs`).

mod check;
mod framing;
mod open_text;

use std::future::Future;
use std::sync::Arc;

use memchr::memmem;
use parking_lot::Mutex;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream};
use tokio::sync::mpsc;
use tracing::warn;

use check::{check, Checked};
use framing::{write_frame, Frame, FrameReader, CONTENT_LENGTH, MAX_MESSAGE};
pub use open_text::OpenTexts;

const PIPE: usize = 64 * 1024;

/// Messages the server writes past tower-lsp-server: whole bodies, written
/// to the client in the order they are sent, each between two of the
/// other messages. Cheap to clone.
///
/// A message is queued in two steps: room is waited for (16 messages are
/// queued at most: a client that does not read holds the server back, as
/// tower-lsp-server's own output does), then, at once, under one lock, the
/// sender decides whether to send and sends ([`Outbox::send_if`]): what it
/// decides on cannot change between its decision and its place in the
/// queue.
#[derive(Clone)]
pub struct Outbox {
    bodies: mpsc::Sender<Vec<u8>>,
    order: Arc<Mutex<()>>,
}

/// The receiving end of an [`Outbox`], for [`guarded`].
pub struct Outgoing {
    bodies: mpsc::Receiver<Vec<u8>>,
}

/// An outbox, and what [`guarded`] writes from it.
pub fn outbox() -> (Outbox, Outgoing) {
    let (bodies, receiver) = mpsc::channel(16);
    let order = Arc::new(Mutex::new(()));
    (Outbox { bodies, order }, Outgoing { bodies: receiver })
}

impl Outbox {
    /// Queues `body` (one JSON message) for the client; false once the
    /// output is closed.
    pub async fn send(&self, body: Vec<u8>) -> bool {
        self.send_if(|| Some(body)).await
    }

    /// Once there is room, queues what `body` gives, if anything, deciding
    /// under the lock every send takes; false once the output is closed.
    pub async fn send_if(&self, body: impl FnOnce() -> Option<Vec<u8>>) -> bool {
        let Ok(room) = self.bodies.reserve().await else {
            return false;
        };
        let _order = self.order.lock();
        if let Some(body) = body() {
            room.send(body);
        }
        true
    }
}

/// Runs the server `start` returns on the two ends of in-memory pipes, with
/// the guard between them and `input`/`output`. Returns when the server does
/// (after `exit`, or at the end of the input).
///
/// A large `didOpen` is decoded here, once: its text reaches the server
/// through `texts` (`open_text.rs`). What the server sends through its
/// outbox comes out of `outgoing`.
pub async fn guarded<I, O, S, F>(
    input: I,
    output: O,
    texts: OpenTexts,
    outgoing: Outgoing,
    start: S,
) where
    I: AsyncRead + Unpin,
    O: AsyncWrite + Unpin,
    S: FnOnce(DuplexStream, DuplexStream) -> F,
    F: Future<Output = ()>,
{
    guard(input, output, texts, outgoing, start, MAX_MESSAGE).await;
}

/// [`guarded`], with messages over `limit` bytes dropped.
async fn guard<I, O, S, F>(
    input: I,
    output: O,
    texts: OpenTexts,
    outgoing: Outgoing,
    start: S,
    limit: usize,
) where
    I: AsyncRead + Unpin,
    O: AsyncWrite + Unpin,
    S: FnOnce(DuplexStream, DuplexStream) -> F,
    F: Future<Output = ()>,
{
    let (to_server, server_input) = tokio::io::duplex(PIPE);
    let (server_output, from_server) = tokio::io::duplex(PIPE);
    let (answers_tx, answers) = mpsc::channel(16);
    let (bodies_tx, bodies) = mpsc::channel(16);

    let server = start(server_input, server_output);
    let session = async {
        tokio::join!(
            server,
            relay(from_server, bodies_tx),
            write_out(output, bodies, outgoing, answers)
        );
    };
    let gate = gate(
        FrameReader::with_limit(input, limit),
        to_server,
        answers_tx,
        texts,
    );
    tokio::pin!(session, gate);
    tokio::select! {
        // The server ended by itself: nothing more is read.
        () = &mut session => {}
        // The input ended, or `exit` came: the server finishes on its own.
        () = &mut gate => session.await,
    }
}

/// Reads messages from the client and passes the well-formed ones to the
/// server, answering the others itself (bodies of answers go to `answers`).
/// Stops at the end of the input, after an `exit` notification (read no
/// further, as the server will not), or when the server no longer reads.
async fn gate<I: AsyncRead + Unpin>(
    mut reader: FrameReader<I>,
    mut to_server: DuplexStream,
    answers: mpsc::Sender<Vec<u8>>,
    texts: OpenTexts,
) {
    loop {
        let frame = match reader.next().await {
            Ok(Some(frame)) => frame,
            Ok(None) => return,
            Err(error) => {
                warn!("cannot read the client's messages: {error}");
                return;
            }
        };
        if let Frame::Body(body) = &frame {
            if let Some(diverted) = texts.divert(body) {
                if write_frame(&mut to_server, &diverted).await.is_err() {
                    return; // the server is gone
                }
                continue;
            }
        }
        let answer = match frame {
            Frame::Body(body) => match check(body) {
                Checked::Message { exit } => {
                    if write_frame(&mut to_server, body).await.is_err() {
                        return; // the server is gone
                    }
                    if exit {
                        return;
                    }
                    continue;
                }
                Checked::NotJson => {
                    // A Content-Length that claimed too much swallowed the
                    // start of the next message: resume at its header.
                    let resume = memmem::find(body, CONTENT_LENGTH).filter(|&at| at > 0);
                    warn!(
                        "a message of {} bytes is not JSON; answered with a parse error{}",
                        body.len(),
                        if resume.is_some() {
                            " (its Content-Length overstated it: reading on from the next header)"
                        } else {
                            ""
                        }
                    );
                    if let Some(at) = resume {
                        reader.resume_inside_last(at);
                    }
                    error_answer(Value::Null, -32700, "Parse error")
                }
                Checked::NotJsonRpc(id) => {
                    warn!("a JSON value that is not a JSON-RPC 2.0 message; answered with an invalid-request error");
                    error_answer(id, -32600, "Invalid Request")
                }
            },
            Frame::BadHeader(problem) => {
                warn!("message header without a usable Content-Length ({problem}); skipped");
                error_answer(Value::Null, -32700, "Parse error")
            }
            Frame::Oversized(length) => {
                let limit = reader.limit();
                warn!("a message of {length} bytes is over the limit of {limit}; discarded");
                error_answer(
                    Value::Null,
                    -32600,
                    &format!("message of {length} bytes is over the limit of {limit}"),
                )
            }
        };
        let _ = answers.send(answer).await;
    }
}

/// The body of an error response.
fn error_answer(id: Value, code: i64, message: &str) -> Vec<u8> {
    serde_json::json!({"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": id})
        .to_string()
        .into_bytes()
}

/// Passes the bodies of the server's messages on, whole, until it closes its
/// output.
async fn relay(from_server: DuplexStream, bodies: mpsc::Sender<Vec<u8>>) {
    let mut reader = FrameReader::new(from_server);
    loop {
        match reader.next().await {
            Ok(Some(Frame::Body(body))) => {
                if bodies.send(body.to_vec()).await.is_err() {
                    return;
                }
            }
            Ok(Some(frame)) => warn!("the server wrote a message that is not one: {frame:?}"),
            Ok(None) | Err(_) => return,
        }
    }
}

/// Writes whole messages to the client: the server's (tower-lsp-server's,
/// and its outbox's), and the answers the gate gives itself. Ends with
/// tower-lsp-server's output (and the messages already queued).
async fn write_out<O: AsyncWrite + Unpin>(
    mut output: O,
    mut bodies: mpsc::Receiver<Vec<u8>>,
    mut outgoing: Outgoing,
    mut answers: mpsc::Receiver<Vec<u8>>,
) {
    let (mut answering, mut sending) = (true, true);
    let mut broken = false;
    loop {
        let body = tokio::select! {
            body = bodies.recv() => match body {
                Some(body) => body,
                None => {
                    let queued = std::iter::from_fn(|| outgoing.bodies.try_recv().ok())
                        .chain(std::iter::from_fn(|| answers.try_recv().ok()))
                        .collect::<Vec<_>>();
                    for body in queued {
                        if broken || write_frame(&mut output, &body).await.is_err() {
                            break;
                        }
                    }
                    return;
                }
            },
            body = outgoing.bodies.recv(), if sending => match body {
                Some(body) => body,
                None => {
                    sending = false;
                    continue;
                }
            },
            answer = answers.recv(), if answering => match answer {
                Some(answer) => answer,
                None => {
                    answering = false;
                    continue;
                }
            },
        };
        if broken {
            continue; // keep draining, so that the server never blocks
        }
        if let Err(error) = write_frame(&mut output, &body).await {
            warn!("cannot write to the client: {error}");
            broken = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;

    use super::*;

    fn framed(body: &str) -> Vec<u8> {
        framed_bytes(body.as_bytes())
    }

    fn framed_bytes(body: &[u8]) -> Vec<u8> {
        let mut message = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        message.extend(body);
        message
    }

    /// What the guard (the real one, with messages over 1,000 bytes
    /// dropped) makes of `input` arriving at most `chunk` bytes at a time:
    /// the bodies the server got, and the answers the client got. The
    /// server answers each request it gets with `"result": "served"`,
    /// through the guard's output side, and sends a notification naming it
    /// through its outbox (large: written in pieces by the guard).
    async fn run_chunked(input: &[u8], chunk: usize) -> (Vec<String>, Vec<Value>) {
        let (mut client, guard_input) = tokio::io::duplex(chunk);
        let input = input.to_vec();
        // Fails when the guard stops reading (after `exit`): fine.
        let feeding = tokio::spawn(async move { client.write_all(&input).await });
        let (passed_tx, mut passed) = mpsc::unbounded_channel();
        let mut output = Vec::new();
        let (outbox, outgoing) = outbox();
        let server = |server_input: DuplexStream, mut server_output: DuplexStream| async move {
            let mut reader = FrameReader::new(server_input);
            while let Ok(Some(Frame::Body(body))) = reader.next().await {
                let message: Value = serde_json::from_slice(body).unwrap();
                passed_tx
                    .send(String::from_utf8(body.to_vec()).unwrap())
                    .unwrap();
                if message.get("method").is_some() && message.get("id").is_some() {
                    let id = &message["id"];
                    let reply = serde_json::json!({"jsonrpc": "2.0", "id": id, "result": "served"});
                    write_frame(&mut server_output, reply.to_string().as_bytes())
                        .await
                        .unwrap();
                    let note = serde_json::json!({"jsonrpc": "2.0", "method": "$/outboxed",
                        "params": {"id": id, "padding": "x".repeat(PIPE)}});
                    assert!(outbox.send(note.to_string().into_bytes()).await);
                }
            }
        };
        guard(
            guard_input,
            &mut output,
            OpenTexts::new(),
            outgoing,
            server,
            1000,
        )
        .await;
        let _ = feeding.await.unwrap();
        let mut bodies = Vec::new();
        while let Ok(body) = passed.try_recv() {
            bodies.push(body);
        }
        // Everything written to the client is whole messages.
        let mut reader = FrameReader::new(&output[..]);
        let (mut served, mut answers, mut outboxed) = (0, Vec::new(), Vec::new());
        while let Some(frame) = reader.next().await.unwrap() {
            let Frame::Body(body) = frame else {
                panic!("the client got {frame:?}")
            };
            let message: Value = serde_json::from_slice(body).unwrap();
            if message["result"] == "served" {
                served += 1;
            } else if message["method"] == "$/outboxed" {
                outboxed.push(message["params"]["id"].clone());
            } else {
                answers.push(message);
            }
        }
        let requests: Vec<Value> = bodies
            .iter()
            .map(|b| serde_json::from_str::<Value>(b).unwrap())
            .filter(|m| m.get("method").is_some() && m.get("id").is_some())
            .map(|m| m["id"].clone())
            .collect();
        assert_eq!(
            served,
            requests.len(),
            "every request the server answered reached the client"
        );
        assert_eq!(
            outboxed, requests,
            "what the server sent through its outbox reached the client, in order"
        );
        (bodies, answers)
    }

    async fn run(input: &[u8]) -> (Vec<String>, Vec<Value>) {
        run_chunked(input, PIPE).await
    }

    fn codes_and_ids(answers: &[Value]) -> Vec<(i64, Value)> {
        answers
            .iter()
            .map(|a| (a["error"]["code"].as_i64().unwrap(), a["id"].clone()))
            .collect()
    }

    const HOVER: &str = r#"{"jsonrpc":"2.0","id":7,"method":"textDocument/hover","params":{}}"#;
    const SHUTDOWN: &str = r#"{"jsonrpc":"2.0","id":8,"method":"shutdown"}"#;
    const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;

    #[tokio::test]
    async fn well_formed_messages_pass_unchanged() {
        let messages = [
            HOVER,
            r#"{"jsonrpc":"2.0","id":1,"result":null}"#,
            r#"{"jsonrpc":"2.0","id":"x","error":{"code":-1,"message":"no"}}"#,
            INITIALIZED,
            // No params, a null id, members in any order, escapes, spaces.
            r#"{"method":"exit?","jsonrpc":"2.0"}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"a","params":null}"#,
            " {\"jsonr\\u0070c\" : \"2.0\", \"method\":\"\\ud83d\\ude00\", \"x\":[1e300]} \n",
            // tower-lsp-server takes these too: a request without a method,
            // and a request written as the sequence of its fields.
            r#"{"jsonrpc":"2.0","id":2}"#,
            r#"["2.0","textDocument/hover",{},3]"#,
        ];
        let mut input = Vec::new();
        for message in messages {
            input.extend(framed(message));
        }
        let (passed, answers) = run(&input).await;
        assert_eq!(passed, messages);
        assert!(answers.is_empty(), "{answers:?}");
    }

    #[tokio::test]
    async fn header_variants() {
        let mut input = format!("content-length: {}\r\n\r\n{HOVER}", HOVER.len()).into_bytes();
        input.extend(
            format!(
                "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\
                 CONTENT-LENGTH:{}\r\nX-Extra: 1\r\n\r\n{SHUTDOWN}",
                SHUTDOWN.len()
            )
            .as_bytes(),
        );
        // No length, a length that is no number: each answered and skipped.
        input.extend(b"Content-Type: text/plain\r\n\r\n");
        input.extend(b"Content-Length: lots\r\n\r\n");
        input.extend(framed(INITIALIZED));
        let (passed, answers) = run(&input).await;
        assert_eq!(passed, [HOVER, SHUTDOWN, INITIALIZED]);
        assert_eq!(
            codes_and_ids(&answers),
            [(-32700, Value::Null), (-32700, Value::Null)]
        );
    }

    #[tokio::test]
    async fn messages_are_served_however_the_bytes_arrive() {
        let mut input = framed(HOVER);
        input.extend(framed(r#"{"jsonrpc":"2.0","id":9,"method":7}"#));
        input.extend(framed(INITIALIZED));
        let whole = run(&input).await;
        assert_eq!(whole.0, [HOVER, INITIALIZED], "two messages in one read");
        assert_eq!(codes_and_ids(&whole.1), [(-32600, Value::from(9))]);
        for chunk in [1, 2, 7, 40] {
            assert_eq!(
                run_chunked(&input, chunk).await,
                whole,
                "read {chunk} at a time"
            );
        }
    }

    #[tokio::test]
    async fn garbage_before_a_message_is_skipped() {
        let mut input = b"\r\n\r\ngarbage{} Content".to_vec();
        input.extend(b"-Type: x\r\nContent-Le");
        input.extend(framed(HOVER));
        input.extend(b"\n\n\xff\xfe");
        input.extend(framed(SHUTDOWN));
        input.extend(b"{\"jsonrpc\":\"2.0\"}");
        input.extend(framed(INITIALIZED));
        let (passed, answers) = run_chunked(&input, 3).await;
        assert_eq!(passed, [HOVER, SHUTDOWN, INITIALIZED]);
        // The first garbage ended like a header glued to the real one: one
        // bad header, answered; the rest is skipped silently.
        assert_eq!(codes_and_ids(&answers), [(-32700, Value::Null)]);
    }

    #[tokio::test]
    async fn a_message_over_the_limit_is_dropped_and_the_next_served() {
        let big = format!(
            r#"{{"jsonrpc":"2.0","id":4,"method":"x","params":"{}"}}"#,
            "a".repeat(5000)
        );
        let mut input = framed(&big);
        input.extend(framed(HOVER));
        for chunk in [64, PIPE] {
            let (passed, answers) = run_chunked(&input, chunk).await;
            assert_eq!(passed, [HOVER]);
            assert_eq!(codes_and_ids(&answers), [(-32600, Value::Null)]);
            let message = answers[0]["error"]["message"].as_str().unwrap();
            assert!(message.contains("over the limit of 1000"), "{message}");
        }
    }

    #[tokio::test]
    async fn a_body_that_is_not_json_gets_a_parse_error_and_the_next_message_passes() {
        let mut input = framed(r#"{"jsonrpc":"2.0","id":1,"method":"#);
        input.extend(framed("\u{fffd} not json"));
        input.extend(framed_bytes(b"{\"jsonrpc\":\"2.0\",\"method\":\"\xff\"}"));
        input.extend(framed(""));
        input.extend(framed(HOVER));
        let (passed, answers) = run(&input).await;
        assert_eq!(passed, [HOVER]);
        assert_eq!(codes_and_ids(&answers), vec![(-32700, Value::Null); 4]);
    }

    #[tokio::test]
    async fn json_that_serde_json_will_not_decode_gets_a_parse_error() {
        let deep = |n: usize| {
            format!(
                r#"{{"jsonrpc":"2.0","method":"x","params":{}{}}}"#,
                "[".repeat(n),
                "]".repeat(n)
            )
        };
        let params = |p: &str| format!(r#"{{"jsonrpc":"2.0","id":5,"method":"x","params":{p}}}"#);
        let (ok_deep, ok_pair, ok_number) =
            (deep(126), params(r#""\uD83D\uDE00""#), params("1e308"));
        let mut input = Vec::new();
        for body in [
            deep(127),
            params(r#""\ud800""#),
            params(r#""\udc00\ud800""#),
            params(r#""\ud800\u0041""#),
            params("-1e400"),
            params(&format!("1{}", "0".repeat(400))),
            ok_deep.clone(),
            ok_pair.clone(),
            ok_number.clone(),
        ] {
            input.extend(framed(&body));
        }
        let (passed, answers) = run(&input).await;
        assert_eq!(passed, [ok_deep, ok_pair, ok_number]);
        assert_eq!(codes_and_ids(&answers), vec![(-32700, Value::Null); 6]);
    }

    #[tokio::test]
    async fn json_that_is_not_json_rpc_gets_an_invalid_request_error_with_its_id() {
        let mut input = Vec::new();
        for body in [
            r#"{"jsonrpc":"1.0","id":3,"method":"x"}"#,
            r#"[1, 2]"#,
            r#"[{"jsonrpc":"2.0","method":"initialized"}]"#,
            r#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":"a","method":7}"#,
            r#"{"id":-4,"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":6,"method":"x","method":"y"}"#,
            r#"{"jsonrpc":"2.0","id":9223372036854775808,"method":"x","params":1,"params":2}"#,
            r#"{"jsonrpc":"2.0","id":"e","error":{"code":1,"message":"m","extra":0},"method":[]}"#,
            r#""2.0""#,
            SHUTDOWN,
        ] {
            input.extend(framed(body));
        }
        let (passed, answers) = run(&input).await;
        assert_eq!(passed, [SHUTDOWN]);
        let id = |v: Value| (-32600, v);
        assert_eq!(
            codes_and_ids(&answers),
            [
                id(Value::from(3)),
                id(Value::Null),
                id(Value::Null),
                id(Value::Null),
                id(Value::from("a")),
                id(Value::from(-4)),
                id(Value::from(6)),
                id(Value::Null),
                id(Value::from("e")),
                id(Value::Null),
            ]
        );
    }

    #[tokio::test]
    async fn an_understated_content_length_costs_only_that_message() {
        let mut input = format!("Content-Length: 20\r\n\r\n{HOVER}").into_bytes();
        input.extend(framed(SHUTDOWN));
        let (passed, answers) = run(&input).await;
        assert_eq!(passed, [SHUTDOWN]);
        assert_eq!(answers.len(), 1, "one parse error, the rest skipped");
    }

    #[tokio::test]
    async fn an_overstated_content_length_resumes_at_the_header_it_swallowed() {
        let mut input = format!("Content-Length: {}\r\n\r\n{HOVER}", HOVER.len() + 30).into_bytes();
        input.extend(framed(SHUTDOWN));
        input.extend(framed(HOVER));
        let (passed, answers) = run_chunked(&input, 16).await;
        assert_eq!(passed, [SHUTDOWN, HOVER]);
        assert_eq!(codes_and_ids(&answers), [(-32700, Value::Null)]);
    }

    #[tokio::test]
    async fn nothing_is_read_after_exit() {
        let mut input = framed(r#"{"jsonrpc":"2.0","method":"x","params":"exit"}"#);
        input.extend(framed(r#"{"jsonrpc":"2.0","method":"exit"}"#));
        input.extend(framed(HOVER));
        input.extend(b"garbage");
        let (passed, answers) = run(&input).await;
        assert_eq!(passed.len(), 2, "{passed:?}");
        assert!(answers.is_empty());
    }
}
