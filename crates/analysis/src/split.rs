//! Cutting a multi-document stream into one piece of text per document.
//!
//! Each piece is parsed on its own, so a syntax error in one document cannot
//! hide the findings of the others. A line that starts with `---` or `...`
//! followed by a blank or the end of the line is a document marker wherever it
//! stands (YAML forbids such lines inside content, block scalars included), so
//! cutting there never changes what a document means.
//!
//! Directives (`%YAML`, `%TAG`) are cut from the document they introduce,
//! as Kubernetes' decoder cuts them: kubectl and the API server split a
//! stream at every `---` line (k8s.io/apimachinery's YAMLReader), so the
//! directive lines before a `---` reach go-yaml as a stream of their own,
//! which it rejects ("did not find expected <document start>"; any version
//! but 1.1 is "incompatible"). Such a piece is a syntax error of its own
//! ([`directive_error`]), and the document after the `---` is read alone.

use crate::text::{LineIndex, TextRange};
use crate::tree::SyntaxError;

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
    /// Whether a directive line (`%...`) comes before its content: the
    /// chunk then ends at the next `---` line.
    pub has_directive: bool,
}

impl Chunk {
    /// A chunk that starts at `start`, on 0-based line `first_line`.
    fn starting(start: usize, first_line: usize) -> Self {
        Chunk {
            range: TextRange::empty(start),
            first_line,
            has_content: false,
            has_marker: false,
            closed: false,
            has_directive: false,
        }
    }

    /// Whether the chunk must be read: it holds content, or directives (which
    /// are an error without the document they introduce).
    pub fn needs_reading(&self) -> bool {
        self.has_content || self.has_directive
    }
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
    split_lines(text, body_start, |pos, _| line_bounds(bytes, pos).1)
}

/// [`split_documents`] with the text's line table at hand: the lines are
/// not searched for again, and a line inside a document is not read at all
/// (only its first byte).
pub(crate) fn split_indexed(text: &str, body_start: usize, index: &LineIndex) -> Vec<Chunk> {
    split_lines(text, body_start, |_, line| index.next_line_start(line))
}

/// [`split_documents`], the start of the line after the one at `pos` (0-based
/// line `line`) given by `next_start`.
fn split_lines(
    text: &str,
    body_start: usize,
    next_start: impl Fn(usize, usize) -> usize,
) -> Vec<Chunk> {
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let mut current = Chunk::starting(body_start, 0);
    let mut line_no = 0;
    let mut pos = body_start;
    while pos < bytes.len() {
        let next = next_start(pos, line_no);
        // Once a chunk holds content, only a marker line changes anything
        // (a content, blank, comment or `%` line then leaves it as it is):
        // most lines are not read.
        if current.has_content && !matches!(bytes[pos], b'-' | b'.') {
            pos = next;
            line_no += 1;
            continue;
        }
        match classify(&bytes[pos..content_end(bytes, pos, next)]) {
            LineKind::Start { content } => {
                // A chunk that already holds a `---` must not take a second one:
                // that would be two documents in one parse. Directives are cut
                // from their `---` as Kubernetes cuts them.
                if current.has_content || current.has_marker || current.has_directive {
                    current.range.end = pos;
                    chunks.push(current);
                    current = Chunk::starting(pos, line_no);
                }
                current.has_marker = true;
                current.has_content |= content;
            }
            LineKind::End => {
                current.range.end = next;
                current.closed = true;
                chunks.push(current);
                current = Chunk::starting(next, line_no + 1);
            }
            LineKind::Trivia => {
                if bytes[pos] == b'%' && !current.has_content {
                    current.has_directive = true;
                }
            }
            LineKind::Content => current.has_content = true,
        }
        pos = next;
        line_no += 1;
    }
    current.range.end = bytes.len();
    if current.has_content
        || current.has_directive
        || current.range.start < current.range.end
        || chunks.is_empty()
    {
        chunks.push(current);
    }
    chunks
}

/// Where the content of the line from `pos` to `next` (the next line's
/// start, or the text's end) ends: before its break (LF, CRLF or a lone CR).
fn content_end(bytes: &[u8], pos: usize, next: usize) -> usize {
    let mut end = next;
    if end > pos && bytes[end - 1] == b'\n' {
        end -= 1;
        if end > pos && bytes[end - 1] == b'\r' {
            end -= 1;
        }
    } else if end > pos && bytes[end - 1] == b'\r' {
        end -= 1;
    }
    end
}

/// The error of a chunk whose directives come without their document: the
/// first directive line before any content in `text[chunk.range]` (`None`
/// when there is none). A bare `---` before it does not count as content
/// (after one, a `%` line is no directive in YAML either: an error still).
pub fn directive_error(text: &str, chunk: Chunk) -> Option<SyntaxError> {
    let bytes = text.as_bytes();
    let mut pos = chunk.range.start;
    while pos < chunk.range.end {
        let (content_end, next) = line_bounds(bytes, pos);
        let content_end = content_end.min(chunk.range.end);
        match classify(&bytes[pos..content_end]) {
            LineKind::Trivia if bytes[pos] == b'%' => {
                let line = &text[pos..content_end];
                let directive = line.split('#').next().unwrap_or(line).trim_end();
                return Some(SyntaxError {
                    range: TextRange::new(pos, pos + directive.len()),
                    message: directive_message(directive),
                });
            }
            LineKind::Trivia | LineKind::Start { content: false } => {}
            LineKind::Start { content: true } | LineKind::End | LineKind::Content => return None,
        }
        pos = next;
    }
    None
}

/// What to say of a directive the cluster rejects.
fn directive_message(directive: &str) -> String {
    let mut words = directive.split_whitespace();
    let version = (words.next() == Some("%YAML"))
        .then(|| words.next())
        .flatten();
    let why = "kubectl and the API server cut a stream at every `---` line, \
               so a directive reaches their YAML decoder without its document, \
               and the decoder rejects it";
    match version {
        Some(v) if v != "1.1" => format!(
            "`{directive}`: Kubernetes' YAML decoder (go-yaml v2) reads YAML 1.1 only, \
             and {why}; remove this line (the YAML is valid, the cluster does not read it)"
        ),
        _ => format!(
            "`{directive}`: {why}; remove this line (the YAML is valid, \
             the cluster does not read it)"
        ),
    }
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
    fn leading_comments_stay_with_their_document() {
        let text = "# head\n---\na: 1\n";
        assert_eq!(pieces(text), vec![(text, 0, true)]);
    }

    #[test]
    fn directives_are_cut_from_their_document_as_kubernetes_cuts_them() {
        let text = "# head\n%YAML 1.1\n---\na: 1\n";
        assert_eq!(
            pieces(text),
            vec![("# head\n%YAML 1.1\n", 0, false), ("---\na: 1\n", 2, true)]
        );
        let chunks = split_documents(text, 0);
        assert!(chunks[0].has_directive && chunks[0].needs_reading());
        assert!(!chunks[1].has_directive);
    }

    #[test]
    fn a_stream_of_directives_alone_is_a_chunk_to_read() {
        let chunks = split_documents("%YAML 1.2\n", 0);
        assert_eq!(chunks.len(), 1);
        assert!(chunks[0].needs_reading());
        let chunks = split_documents("%YAML 1.2\n...\n", 0);
        assert!(chunks[0].needs_reading() && chunks[0].closed);
    }

    #[test]
    fn a_percent_line_after_content_is_no_directive() {
        let text = "a: |\n  x\n%b\n---\nc: 1\n";
        let chunks = split_documents(text, 0);
        assert_eq!(chunks.len(), 2);
        assert!(!chunks[0].has_directive);
        assert_eq!(directive_error(text, chunks[0]), None);
    }

    #[test]
    fn the_error_names_the_directive_and_says_why() {
        let text = "# c\n%YAML 1.2 # v\n---\na: 1\n";
        let chunk = split_documents(text, 0)[0];
        let error = directive_error(text, chunk).expect("an error");
        assert_eq!(&text[error.range.start..error.range.end], "%YAML 1.2");
        assert!(error.message.contains("YAML 1.1 only"), "{}", error.message);
        assert!(error.message.contains("remove this line"));

        let text = "%TAG ! tag:example.com,2000:\n---\na: 1\n";
        let error = directive_error(text, split_documents(text, 0)[0]).expect("an error");
        assert!(error
            .message
            .starts_with("`%TAG ! tag:example.com,2000:`: kubectl"));
        assert!(!error.message.contains("1.1 only"));

        let text = "%YAML 1.1\n---\na: 1\n";
        let error = directive_error(text, split_documents(text, 0)[0]).expect("an error");
        assert!(!error.message.contains("1.1 only"), "{}", error.message);
        let document = split_documents(text, 0)[1];
        assert_eq!(directive_error(text, document), None);
    }

    #[test]
    fn the_document_after_a_directive_is_still_judged() {
        let text = "%YAML 1.1\n---\nkind: Pod\nmetadata: {name: a}\nspec: {containers: []}\n";
        let findings = crate::analyze(text, &crate::NoAccounts, crate::Options::builtin());
        let codes: Vec<_> = findings.iter().map(|f| (f.code, f.range.start)).collect();
        let spec = text.find("spec:").expect("a spec");
        assert_eq!(
            codes,
            vec![(crate::Code::TG000, 0), (crate::Code::TG001, spec)]
        );
    }

    #[test]
    fn a_directive_after_a_bare_marker_is_an_error_too() {
        let text = "%YAML 1.2\n---\n%YAML 1.2\n---\n";
        let chunks = split_documents(text, 0);
        assert_eq!(chunks.len(), 3);
        let error = directive_error(text, chunks[1]).expect("an error");
        assert_eq!(error.range.start, "%YAML 1.2\n---\n".len());
        assert_eq!(directive_error(text, chunks[2]), None);
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

    /// Texts of document markers, directives, comments, content and
    /// blank lines, with every kind of line break and a byte-order mark.
    pub(crate) fn texts() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let line = prop::sample::select(vec![
            "---",
            "--- ",
            "--- # c",
            "--- {a: 1}",
            "...",
            "... ",
            "----",
            "---x",
            "%YAML 1.1",
            "%b",
            "# c",
            "",
            " ",
            "\t",
            "a: 1",
            "kind: Role",
            "  kind: Pod",
            "- x",
            ".x",
            "kind: ConfigMap",
            "\u{feff}",
        ]);
        let brk = prop::sample::select(vec!["\n", "\r\n", "\r", ""]);
        (any::<bool>(), prop::collection::vec((line, brk), 0..12)).prop_map(|(bom, lines)| {
            let mut text = String::from(if bom { crate::BOM } else { "" });
            for (line, brk) in lines {
                text.push_str(line);
                text.push_str(brk);
            }
            text
        })
    }

    proptest::proptest! {
        #[test]
        fn the_line_table_cuts_as_the_text_does(text in texts()) {
            let body_start = if text.starts_with(crate::BOM) { crate::BOM.len() } else { 0 };
            let index = LineIndex::new(&text);
            proptest::prop_assert_eq!(
                split_indexed(&text, body_start, &index),
                split_documents(&text, body_start)
            );
        }
    }

    #[test]
    fn marker_with_inline_content_counts_as_content() {
        assert_eq!(pieces("--- {a: 1}\n"), vec![("--- {a: 1}\n", 0, true)]);
    }
}
