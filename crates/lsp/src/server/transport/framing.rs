//! LSP base-protocol framing (`Content-Length: N\r\n\r\n` + N bytes of
//! body): the one implementation that reads the client's messages, reads
//! the server's, and writes both, and that the guard's tests use.
//!
//! Reading never fails on bad bytes: blank lines between messages are
//! skipped, bytes that are not a header are skipped up to the next
//! `Content-`, a header without a usable `Content-Length` is reported and
//! skipped, and a body over [`MAX_MESSAGE`] is reported and dropped as it
//! arrives, without being held in memory.

use std::io;

use memchr::memmem;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tracing::{debug, warn};

/// The largest message accepted: well above the largest document the server
/// analyses (`maxFileSize`, 32 MiB by default), escaped as JSON.
pub const MAX_MESSAGE: usize = 512 * 1024 * 1024;

/// A header block longer than this is not one.
const MAX_HEADER: usize = 8 * 1024;

/// How much is read at a time.
const CHUNK: usize = 64 * 1024;

/// The name of the header every message has; a message may start only
/// where it (or its `Content-` prefix, `Content-Type`) does.
pub const CONTENT_LENGTH: &[u8] = b"Content-Length";
const CONTENT: &[u8] = b"Content-";

/// What a [`FrameReader`] found.
#[derive(Debug)]
pub enum Frame<'a> {
    /// A message's body (not checked: any bytes).
    Body(&'a [u8]),
    /// A header block without a usable `Content-Length` (skipped, with the
    /// reason).
    BadHeader(String),
    /// A header announcing a body of this many bytes, over
    /// [`MAX_MESSAGE`]: the body is dropped as it arrives.
    Oversized(usize),
}

/// Reads framed messages from `input`.
pub struct FrameReader<R> {
    input: R,
    buffer: Vec<u8>,
    /// The unread bytes are `buffer[start..]`.
    start: usize,
    /// The largest body kept ([`MAX_MESSAGE`] but in tests).
    limit: usize,
    /// Bytes still to drop of an oversized body.
    dropping: usize,
    /// Where the body returned last starts in `buffer`, and where the
    /// message ends (the bytes up to it are done with at the next read).
    last: Option<(usize, usize)>,
}

/// What the bytes at the start of the unread buffer are.
enum Step {
    /// A whole message: its body is at `body_start..end` (relative).
    Message { body_start: usize, end: usize },
    /// `consumed` bytes to skip; a header without a length when `problem`.
    Skip {
        consumed: usize,
        problem: Option<String>,
    },
    /// A header of `consumed` bytes announcing `length` bytes over the limit.
    Oversized { consumed: usize, length: usize },
    /// More bytes are needed (`until` in all, when known).
    More { until: Option<usize> },
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(input: R) -> Self {
        Self::with_limit(input, MAX_MESSAGE)
    }

    /// A reader that drops bodies over `limit` bytes.
    pub fn with_limit(input: R, limit: usize) -> Self {
        FrameReader {
            input,
            buffer: Vec::with_capacity(CHUNK),
            start: 0,
            limit,
            dropping: 0,
            last: None,
        }
    }

    /// The largest body kept.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The next frame, or `None` at the end of the input (a message cut
    /// short by the end is logged and lost).
    pub async fn next(&mut self) -> io::Result<Option<Frame<'_>>> {
        if let Some((_, end)) = self.last.take() {
            self.start = end;
        }
        loop {
            if self.dropping > 0 {
                let n = self.dropping.min(self.buffer.len() - self.start);
                self.start += n;
                self.dropping -= n;
            }
            if self.dropping == 0 {
                match next_step(&self.buffer[self.start..], self.limit) {
                    Step::Message { body_start, end } => {
                        let (body_start, end) = (self.start + body_start, self.start + end);
                        self.last = Some((body_start, end));
                        return Ok(Some(Frame::Body(&self.buffer[body_start..end])));
                    }
                    Step::Skip { consumed, problem } => {
                        self.start += consumed;
                        if let Some(problem) = problem {
                            return Ok(Some(Frame::BadHeader(problem)));
                        }
                        continue;
                    }
                    Step::Oversized { consumed, length } => {
                        self.start += consumed;
                        self.dropping = length;
                        return Ok(Some(Frame::Oversized(length)));
                    }
                    Step::More { until } => {
                        let wanted = until.unwrap_or(0).max(CHUNK);
                        self.make_room(wanted);
                    }
                }
            } else {
                self.make_room(CHUNK);
            }
            if self.input.read_buf(&mut self.buffer).await? == 0 {
                let rest = &self.buffer[self.start..];
                if self.dropping > 0 || !rest.iter().all(u8::is_ascii_whitespace) {
                    warn!(
                        "the input ended inside a message ({} bytes unread)",
                        rest.len() + self.dropping
                    );
                }
                return Ok(None);
            }
        }
    }

    /// Reads on from `offset` bytes into the body returned last, instead of
    /// after it (that body was not a message, and its `Content-Length`
    /// swallowed the header found there).
    pub fn resume_inside_last(&mut self, offset: usize) {
        if let Some((body_start, end)) = self.last {
            self.last = Some((body_start, (body_start + offset).min(end)));
        }
    }

    /// Moves the unread bytes to the front and makes room for `unread +
    /// wanted` bytes (a whole message when its size is known).
    fn make_room(&mut self, wanted: usize) {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        let unread = self.buffer.len();
        let need = if self.dropping > 0 {
            CHUNK
        } else {
            wanted.saturating_sub(unread).max(CHUNK)
        };
        self.buffer.reserve(need);
        // Give back what a large message took once it is done with.
        if self.buffer.capacity() > 16 * CHUNK && unread + need < self.buffer.capacity() / 4 {
            self.buffer.shrink_to(unread + need);
        }
    }
}

/// Decides about the bytes at the start of `buffer`.
fn next_step(buffer: &[u8], limit: usize) -> Step {
    // Blank lines between messages are harmless.
    let blank = buffer
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count();
    if blank > 0 {
        return Step::Skip {
            consumed: blank,
            problem: None,
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
            // Garbage that ended like a header (`Content-Le`) glued to a
            // real one: read on from the real one.
            let consumed = memmem::find(&buffer[1..header_len], CONTENT_LENGTH)
                .map_or(body_start, |at| at + 1);
            return Step::Skip {
                consumed,
                problem: Some(problem),
            };
        }
    };
    if length > limit {
        return Step::Oversized {
            consumed: body_start,
            length,
        };
    }
    let end = body_start + length;
    if buffer.len() < end {
        return Step::More { until: Some(end) };
    }
    Step::Message { body_start, end }
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
    Step::Skip {
        consumed,
        problem: None,
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

/// Writes one message (`body`, JSON) with its header, and flushes.
pub async fn write_frame<W: AsyncWrite + Unpin>(output: &mut W, body: &[u8]) -> io::Result<()> {
    let header = format!("Content-Length: {}\r\n\r\n", body.len());
    output.write_all(header.as_bytes()).await?;
    output.write_all(body).await?;
    output.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every frame of `input`, read `chunk` bytes at a time (as text, for
    /// the assertions).
    async fn frames(input: &[u8], chunk: usize) -> Vec<String> {
        let (mut writer, reader) = tokio::io::duplex(chunk);
        let input = input.to_vec();
        let feeding = tokio::spawn(async move {
            // The pipe holds `chunk` bytes: the reader sees them in pieces.
            let _ = writer.write_all(&input).await;
        });
        let mut reader = FrameReader::new(reader);
        let mut seen = Vec::new();
        while let Some(frame) = reader.next().await.unwrap() {
            seen.push(match frame {
                Frame::Body(body) => String::from_utf8(body.to_vec()).unwrap(),
                Frame::BadHeader(problem) => format!("bad header: {problem}"),
                Frame::Oversized(length) => format!("oversized: {length}"),
            });
        }
        feeding.await.unwrap();
        seen
    }

    async fn written(body: &str) -> Vec<u8> {
        let mut out = Vec::new();
        write_frame(&mut out, body.as_bytes()).await.unwrap();
        out
    }

    #[tokio::test]
    async fn what_is_written_is_read_back_whole_in_any_chunks() {
        let mut input = written(r#"{"a":1}"#).await;
        input.extend(written("ü").await);
        for chunk in [1, 3, 7, 1024] {
            assert_eq!(frames(&input, chunk).await, [r#"{"a":1}"#, "ü"], "{chunk}");
        }
    }

    #[tokio::test]
    async fn header_names_are_case_insensitive_and_other_headers_ignored() {
        let input = b"content-length: 2\r\n\r\n{}\
                      CONTENT-LENGTH:3\r\n\r\n[1]\
                      Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: 1\r\n\r\n1\
                      Content-Length: 1\r\nX-Other: y\r\n\r\n2";
        assert_eq!(frames(input, 5).await, ["{}", "[1]", "1", "2"]);
    }

    #[tokio::test]
    async fn a_header_without_a_usable_length_is_reported_and_skipped() {
        let input = b"Content-Type: text/plain\r\n\r\n\
                      Content-Length: lots\r\n\r\n\
                      Content-Length: -1\r\n\r\n\
                      Content-Length 4\r\n\r\n\
                      Content-Length: 2\r\n\r\nok";
        let seen = frames(input, 64).await;
        assert_eq!(
            seen,
            [
                "bad header: no Content-Length",
                "bad header: Content-Length \"lots\" is not a byte count",
                "bad header: Content-Length \"-1\" is not a byte count",
                "bad header: \"Content-Length 4\" is not a header",
                "ok"
            ]
        );
    }

    #[tokio::test]
    async fn garbage_and_blank_lines_before_a_header_are_skipped() {
        let mut input = b"\r\n\r\nnot a header at all {\"x\":1}\nContent-Le".to_vec();
        input.extend(written("1").await);
        input.extend(b"\n\n");
        input.extend(written("2").await);
        for chunk in [1, 4, 100] {
            assert_eq!(
                frames(&input, chunk).await,
                [
                    // The garbage ended with the start of a header.
                    "bad header: no Content-Length",
                    "1",
                    "2"
                ],
                "{chunk}"
            );
        }
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_dropped_as_it_arrives_and_the_next_is_read() {
        const LIMIT: usize = 1000;
        const BIG: usize = 50 * CHUNK;
        let (mut writer, reader) = tokio::io::duplex(CHUNK);
        let feeding = tokio::spawn(async move {
            let header = format!("Content-Length: {BIG}\r\n\r\n");
            writer.write_all(header.as_bytes()).await.unwrap();
            writer.write_all(&vec![b'x'; BIG]).await.unwrap();
            writer.write_all(&written("{}").await).await.unwrap();
            writer
                .write_all(&written(&"y".repeat(LIMIT)).await)
                .await
                .unwrap();
        });
        let mut reader = FrameReader::with_limit(reader, LIMIT);
        assert!(matches!(
            reader.next().await.unwrap(),
            Some(Frame::Oversized(BIG))
        ));
        assert!(matches!(
            reader.next().await.unwrap(),
            Some(Frame::Body(b"{}"))
        ));
        // The dropped body was never held.
        assert!(
            reader.buffer.capacity() < 4 * CHUNK,
            "{}",
            reader.buffer.capacity()
        );
        assert!(matches!(reader.next().await.unwrap(), Some(Frame::Body(b)) if b.len() == LIMIT));
        assert!(reader.next().await.unwrap().is_none());
        feeding.await.unwrap();
        assert_eq!(MAX_MESSAGE, 512 * 1024 * 1024);
    }

    #[tokio::test]
    async fn reading_can_resume_inside_a_body() {
        let inner = written("[2]").await;
        let mut body = b"xx".to_vec();
        body.extend(&inner);
        let mut input = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        input.extend(&body);
        let mut reader = FrameReader::new(&input[..]);
        assert!(matches!(reader.next().await.unwrap(), Some(Frame::Body(b)) if b == &body[..]));
        reader.resume_inside_last(2);
        assert!(matches!(
            reader.next().await.unwrap(),
            Some(Frame::Body(b"[2]"))
        ));
        assert!(reader.next().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_message_cut_by_the_end_of_the_input_is_lost_quietly() {
        let input = written("[1,2,3]").await;
        for cut in [0, 5, 18, input.len() - 1] {
            assert!(frames(&input[..cut], 64).await.is_empty(), "cut at {cut}");
        }
    }
}
