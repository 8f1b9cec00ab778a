//! The wire: a guard between the client and tower-lsp-server.
//!
//! tower-lsp-server stops reading its input at the first message it cannot
//! decode (tokio-util's `FramedRead` ends the stream after a decoder error),
//! so a single malformed message would end the session. Every message from
//! the client is therefore framed and checked here first:
//!
//! * a well-formed JSON-RPC request, notification or response is passed on,
//!   re-framed with a plain `Content-Length` header;
//! * a body that is not JSON is answered with a parse error (-32700), and a
//!   JSON value that is no JSON-RPC message with an invalid-request error
//!   (-32600, with the message's `id` when it has a usable one);
//! * bytes that are not a message header are skipped up to the next
//!   `Content-Length`, so a wrong `Content-Length` costs the broken message
//!   only: when it claimed too many bytes, the header it swallowed is found
//!   again inside the body and reading resumes there;
//! * a message over [`MAX_MESSAGE`] bytes is discarded as it arrives (and
//!   answered with an invalid-request error) instead of being held in memory.
//!
//! Every rejection is logged. The server's output goes through here too, one
//! whole message at a time, so that the errors answered here never interleave
//! with what the server writes.

use std::future::Future;

use memchr::memmem;
use serde_json::Value;
use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, DuplexStream,
};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{Request, Response};
use tracing::{debug, warn};

/// The largest message accepted: well above the largest document the server
/// analyses (`maxFileSize`, 32 MiB by default), escaped as JSON.
pub const MAX_MESSAGE: usize = 512 * 1024 * 1024;

/// A header block longer than this is not one.
const MAX_HEADER: usize = 8 * 1024;

const PIPE: usize = 64 * 1024;
const CONTENT_LENGTH: &[u8] = b"Content-Length";
/// What every LSP header starts with.
const CONTENT: &[u8] = b"Content-";

/// Runs the server `start` returns on the two ends of in-memory pipes, with
/// the guard between them and `input`/`output`. Returns when the server does
/// (after `exit`, or at the end of the input).
pub async fn guarded<I, O, S, F>(input: I, output: O, start: S)
where
    I: AsyncRead + Unpin,
    O: AsyncWrite + Unpin,
    S: FnOnce(DuplexStream, DuplexStream) -> F,
    F: Future<Output = ()>,
{
    let (to_server, server_input) = tokio::io::duplex(PIPE);
    let (server_output, from_server) = tokio::io::duplex(PIPE);
    let (answers_tx, answers) = mpsc::channel(16);
    let (frames_tx, frames) = mpsc::channel(16);

    let server = start(server_input, server_output);
    let session = async {
        tokio::join!(
            server,
            relay(from_server, frames_tx),
            write_out(output, frames, answers)
        );
    };
    let gate = gate(input, to_server, answers_tx);
    tokio::pin!(session, gate);
    tokio::select! {
        // The server ended by itself: nothing more is read.
        () = &mut session => {}
        // The input ended, or `exit` came: the server finishes on its own.
        () = &mut gate => session.await,
    }
}

/// What to do with the bytes at the start of the buffer.
enum Step {
    /// A complete, well-formed message of `len` bytes from `start`; then
    /// `consumed` bytes are done with.
    Message {
        start: usize,
        len: usize,
        consumed: usize,
    },
    /// Done with `consumed` bytes, answering `answer` (if any).
    Reject {
        consumed: usize,
        answer: Option<Value>,
    },
    /// A header announcing a body over the limit: skip the header and then
    /// `body` bytes as they come.
    Discard { consumed: usize, body: usize },
    /// More bytes are needed (at least `until` in all, when known).
    More { until: Option<usize> },
}

/// Reads messages from the client and passes the well-formed ones to the
/// server, answering the others itself. Stops at the end of the input, after
/// an `exit` notification (read no further, as the server will not), or when
/// the server no longer reads.
async fn gate<I: AsyncRead + Unpin>(
    mut input: I,
    mut to_server: DuplexStream,
    answers: mpsc::Sender<Vec<u8>>,
) {
    let mut buffer: Vec<u8> = Vec::with_capacity(PIPE);
    let mut discarding = 0usize;
    loop {
        // Everything complete in the buffer is handled before reading more.
        loop {
            if discarding > 0 {
                let n = discarding.min(buffer.len());
                buffer.drain(..n);
                discarding -= n;
                if discarding > 0 {
                    break;
                }
            }
            match next_step(&buffer) {
                Step::More { until } => {
                    if let Some(until) = until {
                        buffer.reserve(until.saturating_sub(buffer.len()));
                    }
                    break;
                }
                Step::Message {
                    start,
                    len,
                    consumed,
                } => {
                    let body = &buffer[start..start + len];
                    let exit = is_exit(body);
                    let header = format!("Content-Length: {len}\r\n\r\n");
                    let sent = async {
                        to_server.write_all(header.as_bytes()).await?;
                        to_server.write_all(body).await?;
                        to_server.flush().await
                    };
                    if sent.await.is_err() {
                        return; // the server is gone
                    }
                    buffer.drain(..consumed);
                    if exit {
                        return;
                    }
                }
                Step::Reject { consumed, answer } => {
                    buffer.drain(..consumed);
                    if let Some(answer) = answer {
                        let _ = answers.send(frame(&answer)).await;
                    }
                }
                Step::Discard { consumed, body } => {
                    buffer.drain(..consumed);
                    discarding = body;
                    let answer = error_answer(
                        Value::Null,
                        -32600,
                        &format!("message of {body} bytes is over the limit of {MAX_MESSAGE}"),
                    );
                    let _ = answers.send(frame(&answer)).await;
                }
            }
        }
        if buffer.capacity() - buffer.len() < PIPE {
            buffer.reserve(PIPE);
        }
        match input.read_buf(&mut buffer).await {
            Ok(0) => {
                if !buffer.iter().all(u8::is_ascii_whitespace) {
                    warn!(
                        "the input ended inside a message ({} bytes unread)",
                        buffer.len()
                    );
                }
                return;
            }
            Ok(_) => {}
            Err(error) => {
                warn!("cannot read the client's messages: {error}");
                return;
            }
        }
    }
}

/// Decides about the bytes at the start of `buffer`.
fn next_step(buffer: &[u8]) -> Step {
    // Blank lines between messages are harmless.
    let blank = buffer
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count();
    if blank > 0 {
        return Step::Reject {
            consumed: blank,
            answer: None,
        };
    }
    if buffer.is_empty() {
        return Step::More { until: None };
    }
    if !starts_like_a_header(buffer) {
        return skip_garbage(buffer);
    }
    let Some(header_len) = memmem::find(buffer, b"\r\n\r\n") else {
        return if buffer.len() > MAX_HEADER {
            skip_garbage(buffer)
        } else {
            Step::More { until: None }
        };
    };
    let body_start = header_len + 4;
    let length = match content_length(&buffer[..header_len]) {
        Ok(length) => length,
        Err(problem) => {
            warn!("message header without a usable Content-Length ({problem}); skipped");
            return Step::Reject {
                consumed: body_start,
                answer: Some(error_answer(Value::Null, -32700, "Parse error")),
            };
        }
    };
    if length > MAX_MESSAGE {
        warn!("a message of {length} bytes is over the limit of {MAX_MESSAGE}; discarded");
        return Step::Discard {
            consumed: body_start,
            body: length,
        };
    }
    let end = body_start + length;
    if buffer.len() < end {
        return Step::More { until: Some(end) };
    }
    let body = &buffer[body_start..end];
    match check(body) {
        Checked::Message => Step::Message {
            start: body_start,
            len: length,
            consumed: end,
        },
        Checked::NotJson => {
            // A Content-Length that claimed too much swallowed the start of
            // the next message: resume at its header.
            let resume = memmem::find(body, CONTENT_LENGTH)
                .filter(|&at| at > 0)
                .map_or(end, |at| body_start + at);
            warn!(
                "a message of {length} bytes is not JSON; answered with a parse error{}",
                if resume < end {
                    " (its Content-Length overstated it: reading on from the next header)"
                } else {
                    ""
                }
            );
            Step::Reject {
                consumed: resume,
                answer: Some(error_answer(Value::Null, -32700, "Parse error")),
            }
        }
        Checked::NotJsonRpc(id) => {
            warn!("a JSON value that is not a JSON-RPC 2.0 message; answered with an invalid-request error");
            Step::Reject {
                consumed: end,
                answer: Some(error_answer(id, -32600, "Invalid Request")),
            }
        }
    }
}

/// Whether the buffer starts with (the start of) a `Content-` header, in
/// any case.
fn starts_like_a_header(buffer: &[u8]) -> bool {
    let n = buffer.len().min(CONTENT.len());
    buffer[..n].eq_ignore_ascii_case(&CONTENT[..n])
}

/// Skips bytes up to the next header (`Content-`), keeping a tail that could
/// be the start of one.
fn skip_garbage(buffer: &[u8]) -> Step {
    let consumed = match memmem::find(&buffer[1..], CONTENT) {
        Some(at) => at + 1,
        None => {
            let tail = (1..CONTENT.len())
                .rev()
                .find(|&k| buffer.ends_with(&CONTENT[..k]))
                .unwrap_or(0);
            buffer.len() - tail
        }
    };
    if consumed == 0 {
        return Step::More { until: None };
    }
    warn!("skipped {consumed} bytes that are not a message header");
    Step::Reject {
        consumed,
        answer: None,
    }
}

/// The Content-Length of a header block (case-insensitive names; other
/// headers, such as Content-Type, are ignored).
fn content_length(header: &[u8]) -> Result<usize, String> {
    let text = std::str::from_utf8(header).map_err(|_| "the header is not UTF-8".to_string())?;
    let mut length = None;
    for line in text.split("\r\n") {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("{line:?} is not a header"));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let value = value.trim();
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| format!("Content-Length {value:?} is not a byte count"))?,
            );
        } else if !name.trim().eq_ignore_ascii_case("content-type") {
            debug!("unknown header {name:?} ignored");
        }
    }
    length.ok_or_else(|| "no Content-Length".to_string())
}

enum Checked {
    Message,
    NotJson,
    /// JSON, but no JSON-RPC message; the id to answer with.
    NotJsonRpc(Value),
}

/// Whether tower-lsp-server will decode `body`: exactly its own types decide.
fn check(body: &[u8]) -> Checked {
    if serde_json::from_slice::<Request>(body).is_ok()
        || serde_json::from_slice::<Response>(body).is_ok()
    {
        return Checked::Message;
    }
    match serde_json::from_slice::<Value>(body) {
        Err(_) => Checked::NotJson,
        Ok(value) => {
            let id = match value.get("id") {
                Some(id @ Value::String(_)) => id.clone(),
                Some(id @ Value::Number(n)) if n.is_i64() => id.clone(),
                _ => Value::Null,
            };
            Checked::NotJsonRpc(id)
        }
    }
}

/// Whether a well-formed message is the `exit` notification.
fn is_exit(body: &[u8]) -> bool {
    // Cheap first: most messages do not mention it at all.
    memmem::find(body, b"\"exit\"").is_some()
        && serde_json::from_slice::<Request>(body).is_ok_and(|r| r.method() == "exit")
}

fn error_answer(id: Value, code: i64, message: &str) -> Value {
    serde_json::json!({"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": id})
}

fn frame(message: &Value) -> Vec<u8> {
    let body = message.to_string();
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// Passes the server's messages on, whole, until it closes its output.
async fn relay(from_server: DuplexStream, frames: mpsc::Sender<Vec<u8>>) {
    let mut reader = BufReader::new(from_server);
    loop {
        let mut message = Vec::new();
        let mut length = None;
        loop {
            let start = message.len();
            match reader.read_until(b'\n', &mut message).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = &message[start..];
            if line == b"\r\n" {
                break;
            }
            if let Ok(line) = std::str::from_utf8(line) {
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse::<usize>().ok();
                    }
                }
            }
        }
        let Some(length) = length else {
            warn!("the server wrote a message without a Content-Length");
            return;
        };
        let start = message.len();
        message.resize(start + length, 0);
        if reader.read_exact(&mut message[start..]).await.is_err() {
            return;
        }
        if frames.send(message).await.is_err() {
            return;
        }
    }
}

/// Writes whole messages to the client: the server's, and the answers the
/// gate gives itself. Ends with the server's output.
async fn write_out<O: AsyncWrite + Unpin>(
    mut output: O,
    mut frames: mpsc::Receiver<Vec<u8>>,
    mut answers: mpsc::Receiver<Vec<u8>>,
) {
    let mut answering = true;
    let mut broken = false;
    loop {
        let message = tokio::select! {
            message = frames.recv() => match message {
                Some(message) => message,
                None => return,
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
        let written = async {
            output.write_all(&message).await?;
            output.flush().await
        };
        if let Err(error) = written.await {
            warn!("cannot write to the client: {error}");
            broken = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(body: &str) -> Vec<u8> {
        format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
    }

    /// What the guard makes of `input`: the bodies passed on, and the
    /// answers given, in order.
    fn run(input: &[u8]) -> (Vec<String>, Vec<Value>) {
        let mut buffer = input.to_vec();
        let (mut passed, mut answered) = (Vec::new(), Vec::new());
        let mut discarding = 0;
        loop {
            if discarding > 0 {
                let n = discarding.min(buffer.len());
                buffer.drain(..n);
                discarding -= n;
            }
            match next_step(&buffer) {
                Step::More { .. } => return (passed, answered),
                Step::Message {
                    start,
                    len,
                    consumed,
                } => {
                    passed.push(String::from_utf8(buffer[start..start + len].to_vec()).unwrap());
                    buffer.drain(..consumed);
                }
                Step::Reject { consumed, answer } => {
                    answered.extend(answer);
                    buffer.drain(..consumed);
                }
                Step::Discard { consumed, body } => {
                    answered.push(Value::Null);
                    buffer.drain(..consumed);
                    discarding = body;
                }
            }
        }
    }

    const HOVER: &str = r#"{"jsonrpc":"2.0","id":7,"method":"textDocument/hover","params":{}}"#;
    const SHUTDOWN: &str = r#"{"jsonrpc":"2.0","id":8,"method":"shutdown"}"#;

    #[test]
    fn well_formed_messages_pass_unchanged() {
        let response = r#"{"jsonrpc":"2.0","id":1,"result":null}"#;
        let mut input = framed(HOVER);
        input.extend(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n");
        input.extend(framed(response));
        input.extend(framed(
            r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
        ));
        let (passed, answered) = run(&input);
        assert_eq!(passed.len(), 3);
        assert_eq!(passed[0], HOVER);
        assert_eq!(passed[1], response);
        assert!(answered.is_empty());
    }

    #[test]
    fn a_body_that_is_not_json_gets_a_parse_error_and_the_next_message_passes() {
        let mut input = framed(r#"{"jsonrpc":"2.0","id":1,"method":"#);
        input.extend(framed("\u{fffd} not json"));
        input.extend(framed(HOVER));
        let (passed, answered) = run(&input);
        assert_eq!(passed, [HOVER]);
        assert_eq!(answered.len(), 2);
        for answer in answered {
            assert_eq!(answer["error"]["code"], -32700);
            assert_eq!(answer["id"], Value::Null);
        }
    }

    #[test]
    fn json_that_is_not_json_rpc_gets_an_invalid_request_error_with_its_id() {
        let mut input = framed(r#"{"jsonrpc":"1.0","id":3,"method":"x"}"#);
        input.extend(framed(r#"[1, 2]"#));
        input.extend(framed(r#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#));
        input.extend(framed(r#"{"jsonrpc":"2.0","id":"a","method":7}"#));
        input.extend(framed(SHUTDOWN));
        let (passed, answered) = run(&input);
        assert_eq!(passed, [SHUTDOWN]);
        let ids: Vec<&Value> = answered.iter().map(|a| &a["id"]).collect();
        assert_eq!(ids, [&json(3), &Value::Null, &Value::Null, &json("a")]);
        assert!(answered.iter().all(|a| a["error"]["code"] == -32600));
    }

    fn json(v: impl serde::Serialize) -> Value {
        serde_json::to_value(v).unwrap()
    }

    #[test]
    fn an_understated_content_length_costs_only_that_message() {
        let mut input = format!("Content-Length: 20\r\n\r\n{HOVER}").into_bytes();
        input.extend(framed(SHUTDOWN));
        let (passed, answered) = run(&input);
        assert_eq!(passed, [SHUTDOWN]);
        assert_eq!(answered.len(), 1, "one parse error, the rest skipped");
    }

    #[test]
    fn an_overstated_content_length_resumes_at_the_header_it_swallowed() {
        let mut input = format!("Content-Length: {}\r\n\r\n{HOVER}", HOVER.len() + 30).into_bytes();
        input.extend(framed(SHUTDOWN));
        input.extend(framed(HOVER));
        let (passed, answered) = run(&input);
        assert_eq!(passed, [SHUTDOWN, HOVER]);
        assert_eq!(answered.len(), 1);
    }

    #[test]
    fn headers_without_a_usable_length_and_stray_bytes_are_skipped() {
        let mut input = b"\r\n\r\ngarbage{}".to_vec();
        input.extend(b"Content-Length: lots\r\n\r\n");
        input.extend(b"Content-Type: text/plain\r\n\r\n");
        input.extend(framed(SHUTDOWN));
        input.extend(b"content-length: 2\r\n\r\n{}");
        let (passed, answered) = run(&input);
        assert_eq!(passed, [SHUTDOWN]);
        // Two headers without a length, and `{}` (JSON, not JSON-RPC).
        assert_eq!(answered.len(), 3, "{answered:?}");
    }

    #[test]
    fn a_message_over_the_limit_is_discarded_without_being_buffered() {
        let header = format!("Content-Length: {}\r\n\r\n", MAX_MESSAGE + 1);
        match next_step(header.as_bytes()) {
            Step::Discard { consumed, body } => {
                assert_eq!(consumed, header.len());
                assert_eq!(body, MAX_MESSAGE + 1);
            }
            _ => panic!("not discarded"),
        }
    }

    #[test]
    fn an_incomplete_message_waits_for_the_rest() {
        let input = framed(HOVER);
        for cut in [0, 5, 18, input.len() - 1] {
            assert!(
                matches!(next_step(&input[..cut]), Step::More { .. }),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn exit_is_recognised() {
        assert!(is_exit(br#"{"jsonrpc":"2.0","method":"exit"}"#));
        assert!(!is_exit(
            br#"{"jsonrpc":"2.0","method":"x","params":"exit"}"#
        ));
    }
}
