//! Cutting a multi-document stream into one piece of text per document.
//!
//! Each piece is parsed on its own, so a syntax error in one document cannot
//! hide the findings of the others. A line that starts with `---` or `...`
//! followed by a blank or the end of the line is a document marker wherever it
//! stands (YAML forbids such lines inside content, block scalars included), so
//! cutting there never changes what a document means.

use crate::text::TextRange;

/// A piece of the file holding at most one YAML document (plus the comments
/// and directives before it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub range: TextRange,
    /// 0-based line of the file where the chunk starts.
    pub first_line: usize,
    /// Whether anything but comments, directives and bare markers is in it.
    pub has_content: bool,
    /// Whether it holds a `---` line.
    pub has_marker: bool,
    /// Whether a `...` line ends it.
    pub closed: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum LineKind {
    /// `---`, possibly followed by content on the same line.
    Start {
        content: bool,
    },
    /// `...`
    End,
    /// Blank, comment or `%` directive.
    Trivia,
    Content,
}

fn classify(line: &[u8]) -> LineKind {
    let marker_followed_by_blank =
        |m: &[u8]| line.starts_with(m) && line.get(3).is_none_or(|b| matches!(b, b' ' | b'\t'));
    if marker_followed_by_blank(b"---") {
        let rest = trim_start(&line[3..]);
        return LineKind::Start {
            content: !rest.is_empty() && rest[0] != b'#',
        };
    }
    if marker_followed_by_blank(b"...") {
        return LineKind::End;
    }
    if line.first() == Some(&b'%') {
        return LineKind::Trivia;
    }
    let rest = trim_start(line);
    if rest.is_empty() || rest[0] == b'#' {
        LineKind::Trivia
    } else {
        LineKind::Content
    }
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let n = bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    &bytes[n..]
}

/// Splits `text[body_start..]` into chunks. `body_start` skips a byte-order mark.
pub fn split_documents(text: &str, body_start: usize) -> Vec<Chunk> {
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let mut current = Chunk {
        range: TextRange::empty(body_start),
        first_line: 0,
        has_content: false,
        has_marker: false,
        closed: false,
    };
    let mut line_no = 0;
    let mut pos = body_start;
    while pos < bytes.len() {
        let (content_end, next) = line_bounds(bytes, pos);
        match classify(&bytes[pos..content_end]) {
            LineKind::Start { content } => {
                // A chunk that already holds a `---` must not take a second one:
                // that would be two documents in one parse.
                if current.has_content || current.has_marker {
                    current.range.end = pos;
                    chunks.push(current);
                    current = Chunk {
                        range: TextRange::empty(pos),
                        first_line: line_no,
                        has_content: false,
                        has_marker: false,
                        closed: false,
                    };
                }
                current.has_marker = true;
                current.has_content |= content;
            }
            LineKind::End => {
                current.range.end = next;
                current.closed = true;
                chunks.push(current);
                current = Chunk {
                    range: TextRange::empty(next),
                    first_line: line_no + 1,
                    has_content: false,
                    has_marker: false,
                    closed: false,
                };
            }
            LineKind::Trivia => {}
            LineKind::Content => current.has_content = true,
        }
        pos = next;
        line_no += 1;
    }
    current.range.end = bytes.len();
    if current.has_content || current.range.start < current.range.end || chunks.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// End of the line's content and start of the next line, for the line at `pos`.
fn line_bounds(bytes: &[u8], pos: usize) -> (usize, usize) {
    match memchr::memchr2(b'\n', b'\r', &bytes[pos..]) {
        None => (bytes.len(), bytes.len()),
        Some(i) => {
            let end = pos + i;
            let next = if bytes[end] == b'\r' && bytes.get(end + 1) == Some(&b'\n') {
                end + 2
            } else {
                end + 1
            };
            (end, next)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Vec<(&str, usize, bool)> {
        split_documents(text, 0)
            .into_iter()
            .map(|c| {
                (
                    &text[c.range.start..c.range.end],
                    c.first_line,
                    c.has_content,
                )
            })
            .collect()
    }

    #[test]
    fn cuts_at_document_markers() {
        let text = "a: 1\n---\nb: 2\n--- # c\nc: 3\n";
        assert_eq!(
            pieces(text),
            vec![
                ("a: 1\n", 0, true),
                ("---\nb: 2\n", 1, true),
                ("--- # c\nc: 3\n", 3, true)
            ]
        );
    }

    #[test]
    fn leading_comments_and_directives_stay_with_their_document() {
        let text = "# head\n%YAML 1.2\n---\na: 1\n";
        assert_eq!(pieces(text), vec![(text, 0, true)]);
    }

    #[test]
    fn document_end_marker_closes_a_chunk() {
        let text = "a: 1\n...\n# x\nb: 2\n";
        assert_eq!(
            pieces(text),
            vec![("a: 1\n...\n", 0, true), ("# x\nb: 2\n", 2, true)]
        );
    }

    #[test]
    fn markers_need_a_blank_after_them() {
        let text = "a: |\n  ---x\n----\n";
        assert_eq!(pieces(text).len(), 1);
    }

    #[test]
    fn consecutive_markers_make_separate_chunks() {
        let text = "---\n---\na: 1\r\n---\r\nb: 2";
        let p = pieces(text);
        assert_eq!(p.len(), 3);
        assert_eq!(p[0], ("---\n", 0, false));
        assert_eq!(p[2], ("---\r\nb: 2", 3, true));
    }

    #[test]
    fn marker_with_inline_content_counts_as_content() {
        assert_eq!(pieces("--- {a: 1}\n"), vec![("--- {a: 1}\n", 0, true)]);
    }
}
