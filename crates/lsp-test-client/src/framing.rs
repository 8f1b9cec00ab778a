//! LSP's base protocol on the client side: `Content-Length` headers, a
//! blank line, a JSON body. The one copy the suites use, for well-formed
//! messages and for the arbitrary bytes of the abuse tests alike.

use std::io;

use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// `body` with its header: what goes on the wire.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut framed = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    framed.extend_from_slice(body);
    framed
}

/// Writes `bytes` as they are (a framed message, or anything else) and
/// flushes.
pub async fn write_bytes<W: AsyncWrite + Unpin + ?Sized>(
    writer: &mut W,
    bytes: &[u8],
) -> io::Result<()> {
    writer.write_all(bytes).await?;
    writer.flush().await
}

/// Writes one JSON message, framed.
pub async fn write_message<W: AsyncWrite + Unpin + ?Sized>(
    writer: &mut W,
    message: &Value,
) -> io::Result<()> {
    let body = serde_json::to_vec(message).map_err(io::Error::other)?;
    write_bytes(writer, &frame(&body)).await
}

/// Reads one framed body; `None` at the end of the stream. Blank lines
/// before a header are skipped; headers other than `Content-Length` are
/// ignored. A header that is not `name: value`, or a missing or
/// non-numeric length, is an `InvalidData` error.
pub async fn read_frame<R: AsyncBufRead + Unpin + ?Sized>(
    reader: &mut R,
) -> io::Result<Option<Vec<u8>>> {
    let mut length = None;
    let mut seen_header = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if seen_header {
                break;
            }
            continue;
        }
        seen_header = true;
        let Some((name, value)) = line.split_once(':') else {
            return Err(invalid(format!("not a header line: {line:?}")));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let n = value
                .trim()
                .parse::<usize>()
                .map_err(|_| invalid(format!("Content-Length is not a number: {line:?}")))?;
            length = Some(n);
        }
    }
    let length = length.ok_or_else(|| invalid("a header without Content-Length".into()))?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Some(body))
}

/// Reads one framed JSON message; `None` at the end of the stream. A body
/// that is not JSON is an `InvalidData` error.
pub async fn read_message<R: AsyncBufRead + Unpin + ?Sized>(
    reader: &mut R,
) -> io::Result<Option<Value>> {
    match read_frame(reader).await? {
        None => Ok(None),
        Some(body) => serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| invalid(format!("the body is not JSON ({e})"))),
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn a_message_reads_back_as_written() {
        let mut wire = Vec::new();
        write_message(&mut wire, &json!({"a": "é"})).await.unwrap();
        assert!(wire.starts_with(b"Content-Length: 10\r\n\r\n"));
        let mut reader = &wire[..];
        assert_eq!(
            read_message(&mut reader).await.unwrap(),
            Some(json!({"a": "é"}))
        );
        assert_eq!(read_message(&mut reader).await.unwrap(), None);
    }

    #[tokio::test]
    async fn other_headers_and_blank_lines_are_skipped() {
        let wire = b"\r\nContent-Type: x\r\ncontent-length: 2\r\n\r\n{}";
        let mut reader = &wire[..];
        assert_eq!(read_frame(&mut reader).await.unwrap(), Some(b"{}".to_vec()));
    }

    #[tokio::test]
    async fn a_header_without_a_length_is_an_error() {
        let wire = b"Content-Type: x\r\n\r\n{}";
        let mut reader = &wire[..];
        let error = read_frame(&mut reader).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }
}
