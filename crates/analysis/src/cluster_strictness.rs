//! What Kubernetes' YAML reading refuses although the YAML is valid.
//!
//! kubectl and the API server cut a stream into documents at `---` lines
//! (k8s.io/apimachinery's YAMLReader, which cuts lines at LF only) and
//! decode each with go-yaml v2, whose scanner (libyaml's) is stricter about
//! tabs than YAML 1.2 and yaml-rust2. A document yaml-rust2 reads is checked
//! here for those refusals, so that TG000 stands where the cluster's decoder
//! stops (measured against go-yaml v2 in `tests/yaml_oracle.rs`):
//!
//! * In block context, go-yaml does not skip a tab where a line may start a
//!   new key: in a line's indentation (a blank line, a comment line or a
//!   line with content) and after a `-`, `?` or `:` indicator that starts a
//!   line's content ("found character that cannot start any token"). Inside
//!   quoted scalars and flow collections tabs are blanks; after a key's `:`
//!   and after content they are too.
//! * After a plain scalar, the blank lines that follow are still the
//!   scalar's: a tab there is refused only left of the scalar's indentation
//!   (the column of the block collection holding it, plus one): "found a tab
//!   character that violates indentation".
//! * In a block scalar (`|`, `>`), a tab left of the content's indentation
//!   is refused ("found a tab character where an indentation space is
//!   expected"), and before the indentation is known (blank lines before
//!   the first content line) every tab in a line's indentation is.
//! * A `---` line with anything but blanks or a comment after the marker
//!   (`--- |`, `--- {}`): kubectl's reader refuses it as an invalid document
//!   separator, although YAML starts a document there.
//! * A file whose lines end in a lone CR is a single line for kubectl's
//!   reader: when it starts with `---` followed by content, the reader
//!   refuses it as an invalid document separator.
//!
//! * As kubectl cuts: the blanks and comments before a chunk's `---` line
//!   are a piece of their own, and go-yaml decodes one document of each
//!   piece, so what follows a `...` line up to the next `---` is never read.
//!
//! The check is one pass over the chunk's lines, done only when the chunk
//! holds a tab or a lone CR at all; the document's tree (yaml-rust2 has
//! already read it) says where quoted scalars, flow collections, plain and
//! block scalars are.

use crate::split::Chunk;
use crate::text::{LineIndex, TextRange};
use crate::tree::{ChunkResult, Document, NodeKind, ScalarStyle, SyntaxError};

/// Why the decoder refuses, worded for the person who fixes the file.
const VALID_BUT: &str = "Kubernetes' YAML decoder (go-yaml v2) refuses it although YAML \
                         allows it (the YAML is valid, the cluster does not read it)";

/// What Kubernetes' decoder refuses in `chunk` although yaml-rust2 read
/// it: at most one error per piece kubectl cuts (the blanks and comments
/// before the chunk's `---` line are a stream of their own to kubectl).
/// `docs`: the chunk's documents (empty when the chunk was not built or has
/// no content), `None` when yaml-rust2 refused the document (then only the
/// lines before its `---` are checked). `at_file_start`: the chunk starts
/// at the file's first byte (no byte-order mark before it). `after_end`: a
/// `...` line ends the chunk before: go-yaml decodes one document of each
/// piece kubectl cuts and reads nothing after its `...`, so the lines before
/// this chunk's `---` (all of them, without one) are never read.
pub(crate) fn refusals(
    text: &str,
    index: &LineIndex,
    chunk: Chunk,
    docs: Option<&[Document]>,
    at_file_start: bool,
    after_end: bool,
) -> Vec<SyntaxError> {
    let body = &text.as_bytes()[chunk.range.start..chunk.range.end];
    if at_file_start && docs.is_some() {
        if let Some(error) = lone_cr_separator(text, chunk) {
            return vec![error];
        }
    }
    let on_marker: Option<SyntaxError> = docs
        .is_some()
        .then(|| content_on_marker(text, chunk))
        .flatten();
    if memchr::memchr(b'\t', body).is_none() || !has_suspect_tab(text, chunk) {
        return on_marker.into_iter().collect();
    }
    if after_end && !chunk.has_marker {
        return Vec::new();
    }
    let marker = marker_line(text, chunk);
    let before = Chunk {
        range: TextRange::new(chunk.range.start, marker),
        ..chunk
    };
    let from_marker = Chunk {
        range: TextRange::new(marker, chunk.range.end),
        ..chunk
    };
    let mut found: Vec<SyntaxError> = match after_end {
        true => Vec::new(),
        false => tab_refusal(text, before, &[]).into_iter().collect(),
    };
    let refused = match docs {
        None => None,
        // A chunk that cannot hold a workload is checked without its tree:
        // build it now, for the rare chunk with a suspect tab.
        Some([]) if chunk.has_content => match crate::tree::build_chunk(text, index, chunk) {
            ChunkResult::Documents(built) => tab_refusal(text, from_marker, &built),
            ChunkResult::Error(_) => None,
        },
        Some(docs) => tab_refusal(text, from_marker, docs),
    };
    found.extend(refused);
    found.extend(on_marker);
    found.sort_by_key(|e| e.range.start);
    found
}

/// kubectl's reader cuts a stream at every line that starts with `---` and
/// refuses one with anything but blanks or a comment after the marker
/// ("invalid Yaml document separator"), although YAML lets a document start
/// there (`--- |`, `--- {}`, `--- !tag`): the content after the marker.
fn content_on_marker(text: &str, chunk: Chunk) -> Option<SyntaxError> {
    if !chunk.has_marker {
        return None;
    }
    let start = marker_line(text, chunk);
    let bytes = text.as_bytes();
    let line = lines(bytes, TextRange::new(start, chunk.range.end)).next()?;
    let after = &text[line.start + 3..line.end];
    let content = after.trim_start_matches([' ', '\t']);
    if content.is_empty() || content.starts_with('#') {
        return None;
    }
    let from = line.end - content.len();
    // Up to a comment: a `#` after a blank.
    let uncommented = content
        .match_indices('#')
        .find(|&(i, _)| i > 0 && matches!(content.as_bytes()[i - 1], b' ' | b'\t'))
        .map_or(content, |(i, _)| &content[..i]);
    let shown = uncommented.trim_end_matches([' ', '\t']);
    Some(SyntaxError {
        range: TextRange::new(from, from + shown.len()),
        message: format!(
            "`{shown}` on the `---` line: kubectl and the API server cut a stream at `---` \
             lines and refuse one followed by anything but a comment (\"invalid Yaml document \
             separator\"); move it to the next line (the YAML is valid, the cluster does not \
             read it)"
        ),
    })
}

/// Where the chunk's `---` line starts (the chunk's start when it has none).
fn marker_line(text: &str, chunk: Chunk) -> usize {
    if !chunk.has_marker {
        return chunk.range.start;
    }
    let bytes = text.as_bytes();
    lines(bytes, chunk.range)
        .find(|line| {
            let row = &bytes[line.start..line.end];
            row.starts_with(b"---") && row.get(3).is_none_or(|b| matches!(b, b' ' | b'\t'))
        })
        .map_or(chunk.range.start, |line| line.start)
}

/// Whether a piece of blanks and comments may hold something [`refusal`]
/// finds (a tab; a lone CR matters only before content): such a piece is
/// read only then.
pub(crate) fn may_refuse(piece: &str) -> bool {
    memchr::memchr(b'\t', piece.as_bytes()).is_some()
}

/// kubectl's reader cuts at LF only: a file that starts with a `---` line
/// ending in a lone CR is one line starting with `---`, and anything but
/// blanks or a comment after the marker on that line is refused.
fn lone_cr_separator(text: &str, chunk: Chunk) -> Option<SyntaxError> {
    let body = &text.as_bytes()[chunk.range.start..chunk.range.end];
    if !body.starts_with(b"---") {
        return None;
    }
    let lf_line_end = memchr::memchr(b'\n', body).unwrap_or(body.len());
    let mut line = &body[3..lf_line_end];
    if line.last() == Some(&b'\r') && lf_line_end < body.len() {
        line = &line[..line.len() - 1];
    }
    // Only a lone CR makes the line longer than the marker line YAML sees.
    memchr::memchr(b'\r', line)?;
    let rest = line.trim_ascii();
    if rest.is_empty() || rest[0] == b'#' {
        return None;
    }
    let marker_end = chunk.range.start + 3;
    Some(SyntaxError {
        range: TextRange::new(chunk.range.start, marker_end),
        message: "this file's lines end in a lone CR (carriage return without line feed): \
                  kubectl and the API server cut lines at LF only, so they read the whole \
                  file as one line that starts with `---`, an invalid document separator; \
                  convert the line ends to LF (the YAML is valid, the cluster does not read it)"
            .to_string(),
    })
}

/// One line of the chunk: `start` of the line, `end` of its content (its
/// line break excluded).
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
}

/// The lines of `text[range]`, cut at LF, CRLF and a lone CR (as YAML and
/// go-yaml's scanner cut them).
fn lines(bytes: &[u8], range: TextRange) -> impl Iterator<Item = Line> + '_ {
    let mut pos = range.start;
    std::iter::from_fn(move || {
        if pos >= range.end {
            return None;
        }
        let start = pos;
        let (end, next) = match memchr::memchr2(b'\n', b'\r', &bytes[pos..range.end]) {
            None => (range.end, range.end),
            Some(i) => {
                let end = pos + i;
                let crlf = bytes[end] == b'\r' && bytes.get(end + 1) == Some(&b'\n');
                (end, if crlf { end + 2 } else { end + 1 })
            }
        };
        pos = next;
        Some(Line { start, end })
    })
}

/// Whether some line has a tab in its indentation or in the blanks after a
/// line-starting indicator: the only places a tab can be refused.
fn has_suspect_tab(text: &str, chunk: Chunk) -> bool {
    let bytes = text.as_bytes();
    lines(bytes, chunk.range).any(|line| {
        let row = &bytes[line.start..line.end];
        memchr::memchr(b'\t', row).is_some_and(|tab| {
            row[..tab]
                .iter()
                .all(|b| matches!(b, b' ' | b'-' | b'?' | b':'))
        })
    })
}

/// What a node is to the scanner, for the lines around it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    /// A plain scalar in block context: the blank lines after it are its
    /// own, and `indent` is the column left of which a tab is refused.
    Plain { indent: usize },
    /// A quoted scalar or a flow collection: tabs inside are blanks.
    Opaque,
    /// A block scalar: `parent` is the indentation of the collection
    /// holding it (-1 at the top).
    Block { parent: isize },
    /// An alias.
    Alias,
}

#[derive(Clone, Copy)]
struct Token {
    range: TextRange,
    kind: TokenKind,
}

/// The scanner's tokens of `doc` that matter here, in text order: scalars,
/// aliases, and flow collections as one token each.
fn tokens(text: &str, doc: &Document) -> Vec<Token> {
    let mut out = Vec::new();
    let Some(root) = doc.root else {
        return out;
    };
    // (node, column of the innermost block collection holding it, or -1)
    let mut stack = vec![(root, -1isize)];
    while let Some((id, parent)) = stack.pop() {
        let node = doc.node(id);
        let kind = match &node.kind {
            NodeKind::Scalar { value, style } => match style {
                ScalarStyle::Plain if value.is_empty() => continue,
                ScalarStyle::Plain => TokenKind::Plain {
                    indent: (parent + 1) as usize,
                },
                ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => TokenKind::Opaque,
                ScalarStyle::Literal | ScalarStyle::Folded => TokenKind::Block { parent },
            },
            NodeKind::Alias { .. } => TokenKind::Alias,
            NodeKind::Mapping { flow: true, .. } | NodeKind::Sequence { flow: true, .. } => {
                TokenKind::Opaque
            }
            NodeKind::Mapping { entries, .. } => {
                let column = column(text, collection_start(text, doc, id)) as isize;
                for (key, value) in entries {
                    stack.push((*key, column));
                    stack.push((*value, column));
                }
                continue;
            }
            NodeKind::Sequence { items, .. } => {
                let column = column(text, collection_start(text, doc, id)) as isize;
                stack.extend(items.iter().map(|item| (*item, column)));
                continue;
            }
        };
        out.push(Token {
            range: node.range,
            kind,
        });
    }
    out.sort_by_key(|t| t.range.start);
    out
}

/// Where go-yaml's scanner puts a block collection's indentation: the
/// start of its first key (with the anchor or tag before it on its line, or
/// the `?` of a complex key) for a mapping, the `-` of its first item for a
/// sequence. The tree's ranges start at the key or item itself.
fn collection_start(text: &str, doc: &Document, id: crate::tree::NodeId) -> usize {
    // The chain of first children down to a node that is no block collection.
    let mut chain = vec![id];
    loop {
        let node = doc.node(*chain.last().unwrap_or(&id));
        let first = match &node.kind {
            NodeKind::Mapping {
                flow: false,
                entries,
            } => entries.first().map(|(key, _)| *key),
            NodeKind::Sequence { flow: false, items } => items.first().copied(),
            _ => None,
        };
        match first {
            Some(child) if chain.len() <= crate::tree::MAX_DEPTH => chain.push(child),
            _ => break,
        }
    }
    let bytes = text.as_bytes();
    let leaf = doc.node(*chain.last().unwrap_or(&id));
    if chain.len() == 1 {
        return leaf.range.start;
    }
    let mut pos = with_properties(bytes, leaf.range.start);
    for &collection in chain[..chain.len() - 1].iter().rev() {
        let blanks_before = |pos: usize| {
            let mut p = pos;
            while p > 0 && matches!(bytes[p - 1], b' ' | b'\t') {
                p -= 1;
            }
            p
        };
        let indicator = match doc.node(collection).kind {
            NodeKind::Sequence { .. } => b'-',
            _ => b'?',
        };
        let p = blanks_before(pos);
        if p > 0 && bytes[p - 1] == indicator && p < pos {
            pos = p - 1;
        }
        pos = with_properties(bytes, pos);
    }
    pos
}

/// `pos`, moved back over the anchors and tags (`&a`, `!t`, `!<...>`) that
/// stand before it on its line.
fn with_properties(bytes: &[u8], mut pos: usize) -> usize {
    loop {
        let mut p = pos;
        while p > 0 && matches!(bytes[p - 1], b' ' | b'\t') {
            p -= 1;
        }
        if p == pos || p == 0 || matches!(bytes[p - 1], b'\n' | b'\r') {
            return pos;
        }
        let word_start = bytes[..p]
            .iter()
            .rposition(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .map_or(0, |i| i + 1);
        match bytes[word_start] {
            b'&' | b'!' => pos = word_start,
            _ => return pos,
        }
    }
}

/// The character column of `offset` on its line.
fn column(text: &str, offset: usize) -> usize {
    let bytes = text.as_bytes();
    let line_start = bytes[..offset]
        .iter()
        .rposition(|b| matches!(b, b'\n' | b'\r'))
        .map_or(0, |i| i + 1);
    text[line_start..offset].chars().count()
}

/// Where a block scalar's lines are, while the pass is in them.
enum BlockState {
    /// Content indentation not known yet: the most spaces seen on a blank
    /// line, and the holding collection's indentation.
    Auto {
        max: usize,
        parent: isize,
    },
    Known(usize),
}

/// The first tab of `chunk` go-yaml refuses.
fn tab_refusal(text: &str, chunk: Chunk, docs: &[Document]) -> Option<SyntaxError> {
    let bytes = text.as_bytes();
    let tokens: Vec<Token> = docs.iter().flat_map(|doc| tokens(text, doc)).collect();
    let mut block: Option<BlockState> = None;
    let mut block_headers = tokens
        .iter()
        .filter_map(|t| match t.kind {
            TokenKind::Block { parent } => Some((t.range.start, parent)),
            _ => None,
        })
        .peekable();
    for line in lines(bytes, chunk.range) {
        let row = &bytes[line.start..line.end];
        let spaces = row.iter().take_while(|b| **b == b' ').count();
        if let Some(state) = &mut block {
            match block_line(row, spaces, state) {
                BlockLine::Inside => continue,
                BlockLine::Refused(at) => {
                    let blank = row[at..].iter().all(|b| matches!(b, b' ' | b'\t'));
                    return Some(refused(line.start + at, Where::BlockScalar(blank)));
                }
                BlockLine::Ended => block = None,
            }
        }
        let header = block_headers.next_if(|(start, _)| *start < line.end);
        if let Some(error) = line_refusal(text, &tokens, line, spaces) {
            return Some(error);
        }
        if let Some((start, parent)) = header {
            block = Some(block_start(bytes, start, parent));
        }
    }
    None
}

/// A block scalar's state from its header (`|2-`, `>+` ...) at `start`.
fn block_start(bytes: &[u8], start: usize, parent: isize) -> BlockState {
    let digit = bytes[start + 1..]
        .iter()
        .take(2)
        .find(|b| b.is_ascii_digit())
        .map(|b| (b - b'0') as isize);
    match digit {
        Some(n) if n > 0 => Known((if parent >= 0 { parent + n } else { n }) as usize),
        _ => BlockState::Auto { max: 0, parent },
    }
}

use BlockState::Known;

enum BlockLine {
    Inside,
    Refused(usize),
    Ended,
}

/// One line after a block scalar's header, as go-yaml's block scalar
/// reading takes it.
fn block_line(row: &[u8], spaces: usize, state: &mut BlockState) -> BlockLine {
    match *state {
        BlockState::Auto { max, parent } => match row.get(spaces) {
            Some(b'\t') => BlockLine::Refused(spaces),
            None => {
                *state = BlockState::Auto {
                    max: max.max(spaces),
                    parent,
                };
                BlockLine::Inside
            }
            Some(_) => {
                let indent = max.max(spaces).max((parent + 1).max(1) as usize);
                if spaces < indent {
                    BlockLine::Ended
                } else {
                    *state = Known(indent);
                    BlockLine::Inside
                }
            }
        },
        Known(indent) => {
            if spaces >= indent {
                return BlockLine::Inside;
            }
            match row.get(spaces) {
                Some(b'\t') => BlockLine::Refused(spaces),
                None => BlockLine::Inside,
                Some(_) => BlockLine::Ended,
            }
        }
    }
}

/// A line outside block scalars: a tab in its indentation, or after the
/// indicators that start its content, unless the scanner is inside a quoted
/// scalar or a flow collection there, or a plain scalar's blank lines take
/// the tab.
fn line_refusal(text: &str, tokens: &[Token], line: Line, spaces: usize) -> Option<SyntaxError> {
    let bytes = text.as_bytes();
    let row = &bytes[line.start..line.end];
    let tab = memchr::memchr(b'\t', row)?;
    let lead = row.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
    // The last token that starts before the line.
    let before = tokens.partition_point(|t| t.range.start < line.start);
    let last = before.checked_sub(1).map(|i| tokens[i]);
    if let Some(token) = last {
        let inside = token.range.end > line.start;
        let only_blanks_after = bytes[token.range.end.min(line.start)..line.start]
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
        match token.kind {
            TokenKind::Opaque if inside => return None,
            TokenKind::Plain { indent } if inside || only_blanks_after => {
                // The plain scalar's own blank lines, and the lines that
                // continue it: a tab left of its indentation is refused.
                if tab < lead && tab < indent {
                    return Some(refused(
                        line.start + tab,
                        Where::Indentation(lead == row.len()),
                    ));
                }
                if lead == row.len() || lead >= indent {
                    return None;
                }
                // A line left of the scalar's indentation ends it.
            }
            _ => {}
        }
    }
    if tab < lead {
        let blank = lead == row.len();
        let comment = row.get(lead) == Some(&b'#');
        let place = if blank {
            Where::Indentation(true)
        } else if comment {
            Where::BeforeComment
        } else {
            Where::Indentation(false)
        };
        return Some(refused(line.start + tab, place));
    }
    // Indicators that start the line's content: `- `, `? `, `: `, nested.
    let mut pos = spaces;
    while let Some(&indicator @ (b'-' | b'?' | b':')) = row.get(pos) {
        let blanks = row[pos + 1..]
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        if blanks == 0 && pos + 1 < row.len() {
            break;
        }
        if indicator == b'-' && pos == 0 && row.starts_with(b"---") {
            break;
        }
        if let Some(i) = memchr::memchr(b'\t', &row[pos + 1..pos + 1 + blanks]) {
            return Some(refused(
                line.start + pos + 1 + i,
                Where::AfterIndicator(indicator as char),
            ));
        }
        pos += 1 + blanks;
    }
    None
}

/// Where a refused tab stands.
enum Where {
    /// In a line's indentation; `true` when the line is otherwise blank.
    Indentation(bool),
    BeforeComment,
    AfterIndicator(char),
    /// Left of a block scalar's indentation; `true` on a blank line.
    BlockScalar(bool),
}

fn refused(at: usize, place: Where) -> SyntaxError {
    let message = match place {
        Where::Indentation(true) => {
            format!("a tab on an otherwise blank line: {VALID_BUT}; delete the tab")
        }
        Where::Indentation(false) => {
            format!("a tab in this line's indentation: {VALID_BUT}; indent with spaces only")
        }
        Where::BeforeComment => {
            format!("a tab before this comment: {VALID_BUT}; indent the comment with spaces only")
        }
        Where::AfterIndicator(c) => {
            format!("a tab after `{c}`: {VALID_BUT}; separate `{c}` from what follows with a space")
        }
        Where::BlockScalar(true) => format!(
            "a tab on a blank line of a block scalar (`|` or `>`), left of its text: \
             {VALID_BUT}; delete the tab"
        ),
        Where::BlockScalar(false) => format!(
            "a tab where a block scalar (`|` or `>`) expects an indentation space: \
             {VALID_BUT}; indent the text with spaces"
        ),
    };
    SyntaxError {
        range: TextRange::new(at, at + 1),
        message,
    }
}

#[cfg(test)]
mod tests {
    use crate::{parse, Options};

    /// The refused tab's range and the start of its message, or `None`.
    fn refused(text: &str) -> Option<(usize, usize, String)> {
        let parsed = parse(text, Options::builtin());
        let mut errors = parsed.syntax_errors.iter();
        let error = errors.next()?;
        assert!(
            errors.next().is_none(),
            "one error: {:?}",
            parsed.syntax_errors
        );
        let head = error.message.split(':').next().unwrap_or_default();
        Some((error.range.start, error.range.end, head.to_string()))
    }

    /// Asserts the first tab of `text` (or its `nth` tab) is refused, saying
    /// `head`.
    fn assert_refused_at_tab(text: &str, nth: usize, head: &str) {
        let at = text.match_indices('\t').nth(nth).expect("a tab").0;
        assert_eq!(
            refused(text),
            Some((at, at + 1, head.to_string())),
            "{text:?}"
        );
    }

    #[test]
    fn content_on_a_document_marker_line_is_refused_as_kubectl_refuses_it() {
        // Checked against go-yaml v2 as kubectl cuts: "invalid Yaml document
        // separator" for each of these.
        for (text, content) in [
            ("--- |\n  x\n", "|"),
            ("a: 1\n--- !!map\nkind: Pod\n", "!!map"),
            ("--- {}\n", "{}"),
            ("---\t\"x\"  \n", "\"x\""),
            ("--- [a, b] # c\n", "[a, b]"),
        ] {
            let at = text.find(content).expect("the content");
            let (start, end, head) = refused(text).expect(text);
            assert_eq!((start, end), (at, at + content.len()), "{text:?}");
            assert_eq!(head, format!("`{content}` on the `---` line"), "{text:?}");
        }
        // A comment or blanks after the marker are what kubectl allows.
        for text in ["--- # c\na: 1\n", "a: 1\n---   \nb: 1\n", "---\na: 1\n"] {
            assert_eq!(refused(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_tab_on_a_blank_line_in_block_context_is_refused() {
        let blank = "a tab on an otherwise blank line";
        // After a quoted scalar, a flow collection, a key without a value,
        // an alias; at the start and at the end of a document.
        assert_refused_at_tab("a: \"1\"\n\t\nb: 2\n", 0, blank);
        assert_refused_at_tab("a: [1]\n\t\nb: 2\n", 0, blank);
        assert_refused_at_tab("a:\n    \t\n  b: 2\n", 0, blank);
        assert_refused_at_tab("a: &x 1\nb: *x\n\t\nc: 2\n", 0, blank);
        assert_refused_at_tab("\t\na: 1\n", 0, blank);
        assert_refused_at_tab("---\n\t\na: 1\n", 0, blank);
        // A document of blank lines alone.
        assert_refused_at_tab("a: 1\n---\n\t\n", 0, blank);
    }

    #[test]
    fn after_a_plain_scalar_a_tab_is_refused_left_of_its_indentation_only() {
        let blank = "a tab on an otherwise blank line";
        // The scalar `1` of a mapping at column 0: indentation 1.
        assert_refused_at_tab("a: 1\n\t\nb: 2\n", 0, blank);
        assert_refused_at_tab("a: 1\n\t  \nb: 2\n", 0, blank);
        assert_refused_at_tab("a: 1\n\t", 0, blank);
        assert_eq!(refused("a: 1\n  \t\nb: 2\n"), None);
        assert_eq!(refused("a: 1\n  \t# c\nb: 2\n"), None);
        // In a mapping at column 2: indentation 3.
        assert_refused_at_tab("a:\n  b: 1\n  \t\n  c: 2\n", 0, blank);
        assert_eq!(refused("a:\n  b: 1\n   \t\n  c: 2\n"), None);
        // A sequence's items, and a mapping in a sequence item.
        assert_refused_at_tab("- a\n\t\n- b\n", 0, blank);
        assert_refused_at_tab("x:\n- a: 1\n  \t\n- b\n", 0, blank);
        assert_eq!(refused("x:\n- a: 1\n   \t\n- b\n"), None);
        // A comment ends the scalar: the blank lines after it are not its.
        assert_refused_at_tab("a: 1 # c\n  \t\nb: 2\n", 0, blank);
        assert_refused_at_tab("a: 1\n# c\n  \t\nb: 2\n", 0, blank);
        // A top-level scalar has indentation 0.
        assert_eq!(refused("foo\n\t\nbar\n"), None);
    }

    #[test]
    fn a_tab_in_indentation_or_after_a_line_starting_indicator_is_refused() {
        assert_refused_at_tab("a:\n  \tx: y\n", 0, "a tab in this line's indentation");
        assert_refused_at_tab("\t# c\na: 1\n", 0, "a tab before this comment");
        assert_refused_at_tab("x:\n- \tfoo\n", 0, "a tab after `-`");
        assert_refused_at_tab("x:\n-\tfoo\n", 0, "a tab after `-`");
        assert_refused_at_tab("x:\n- - \tfoo\n", 0, "a tab after `-`");
    }

    #[test]
    fn tabs_go_yaml_takes_for_blanks_are_not_refused() {
        for text in [
            // After a key's colon, after content, in a comment.
            "a:\t1\n",
            "a:\tfoo\n",
            "a: \tfoo\n",
            "a:\t\"foo\"\n",
            "a:\t[1]\n",
            "a:\t# c\n  b: 1\n",
            "a: 1\t\nb: 2\t# c\n",
            "# a\tb\na: 1\n",
            "a: &x\tfoo\n",
            "a: !!str\tfoo\n",
            "---\t\na: 1\n",
            // Inside quoted scalars and flow collections.
            "a: \"x\n\t\n  y\"\nb: 2\n",
            "a: 'x\n\t\n  y'\nb: 2\n",
            "a: [1,\n\t\n 2]\nb: 2\n",
            "a: {b: 1,\n\tc: 2}\n",
            // A plain scalar's continuation right of its indentation.
            "a: x\n \ty\n",
            "a: x\n  \t\n  y\n",
            // A block scalar's text and blank lines right of its indentation.
            "a: |\n  x\ty\n  \tz\nb: 2\n",
            "a: |\n  x\n  \t\n  y\nb: 2\n",
            "a: |2\n  \t\n  x\nb: 2\n",
            "a: >\n  x\n   \t\n  y\n",
            "a: |+\n  x\n    \t\nb: 2\n",
            "a: |\t\n  x\n",
            "a:\n  b: |1\n    x\n   \t\n",
        ] {
            assert_eq!(refused(text), None, "{text:?}");
        }
    }

    #[test]
    fn in_a_block_scalar_a_tab_left_of_its_indentation_is_refused() {
        let blank = "a tab on a blank line of a block scalar (`|` or `>`), left of its text";
        // (yaml-rust2 refuses such a tab itself when more text follows.)
        assert_refused_at_tab("a: |\n  x\n\t\nb: 2\n", 0, blank);
        assert_refused_at_tab("a: |\n  x\n \t\nb: 2\n", 0, blank);
        // Before the first line of text the indentation is not known yet.
        assert_refused_at_tab("a: |\n  \t\n  x\nb: 2\n", 0, blank);
        // Nested, with an indentation indicator, in a sequence.
        assert_refused_at_tab("a:\n  b: |\n    x\n   \t\n", 0, blank);
        assert_refused_at_tab("a:\n  b: |1\n    x\n  \t\n", 0, blank);
        assert_refused_at_tab("x:\n- |\n  x\n \t\n- y\n", 0, blank);
        assert_refused_at_tab("x:\n- |\n  x\n\t\n- y\n", 0, blank);
    }

    #[test]
    fn a_lone_cr_file_that_starts_with_a_marker_is_one_invalid_separator_line() {
        let text = "---\rkind: Pod\rmetadata:\r  name: x\r";
        let (start, end, head) = refused(text).expect("an error");
        assert_eq!((start, end), (0, 3));
        assert!(head.starts_with("this file's lines end in a lone CR"));
        // A comment after the marker, a byte-order mark first, no marker
        // first, CRLF line ends: kubectl reads these.
        for text in [
            "--- # c\rkind: Pod\r",
            "\u{feff}---\rkind: Pod\r",
            "kind: Pod\r---\rkind: Pod\r",
            "---\r\nkind: Pod\r\n",
            "---\nkind: Pod\r---\rkind: Pod\n",
        ] {
            assert_eq!(refused(text), None, "{text:?}");
        }
    }

    #[test]
    fn the_lines_before_a_marker_are_a_stream_of_their_own_to_kubectl() {
        let text = "# c\n\t\n---\na: \"1\"\n\t\n";
        let errors: Vec<_> = parse(text, Options::builtin())
            .syntax_errors
            .iter()
            .map(|e| (e.range.start, e.range.end))
            .collect();
        let tabs: Vec<_> = text.match_indices('\t').map(|(i, _)| (i, i + 1)).collect();
        assert_eq!(errors, tabs);
        // Also when yaml-rust2 refuses the document after the marker.
        let text = "\t\n---\na: [\n";
        let errors = parse(text, Options::builtin()).syntax_errors;
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!((errors[0].range.start, errors[0].range.end), (0, 1));
    }

    #[test]
    fn what_follows_a_document_end_before_the_next_marker_is_never_read() {
        // go-yaml decodes one document per piece kubectl cuts at `---`.
        assert_eq!(refused("a: 1\n...\n\t\n"), None);
        assert_eq!(refused("a: 1\n...\n# c\n\t\n---\nb: 1\n"), None);
        assert_refused_at_tab(
            "a: 1\n...\n---\n\t\nb: 1\n",
            0,
            "a tab on an otherwise blank line",
        );
    }

    #[test]
    fn the_documents_are_still_read() {
        let text = "kind: Pod\nmetadata:\n  name: a\n\t\nspec:\n  containers: []\n";
        let parsed = parse(text, Options::builtin());
        assert_eq!(parsed.syntax_errors.len(), 1);
        assert_eq!(parsed.workloads.len(), 1);
    }

    #[test]
    fn a_chart_template_is_left_to_rendering() {
        let text = "kind: Pod\nmetadata:\n  name: a\n\t{{- if .Values.x }}\n  labels: {}\n\t{{- end }}\nspec: {}\n";
        let template = crate::helm::Template::parse(text, None, Options::builtin());
        assert!(template.parsed.syntax_errors.is_empty());
    }
}
