//! The position-preserving YAML tree.
//!
//! Built from yaml-rust2's event stream with an explicit stack (no recursion,
//! so no input can overflow ours). yaml-rust2 gives every event a line and a
//! character column (its `index()` counts characters, not bytes); we map those
//! to byte offsets of the whole file and compute every end position from the
//! text ourselves, since the parser reports none.

use yaml_rust2::parser::{Event, Parser};
pub(crate) use yaml_rust2::scanner::TScalarStyle;
use yaml_rust2::scanner::{Marker, ScanError};

use crate::split::Chunk;
use crate::text::{LineIndex, TextRange};

/// Deeper nesting than this is reported instead of built.
pub const MAX_DEPTH: usize = 512;

pub type NodeId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Scalar {
        value: String,
        style: ScalarStyle,
    },
    Mapping {
        flow: bool,
        entries: Vec<(NodeId, NodeId)>,
    },
    Sequence {
        flow: bool,
        items: Vec<NodeId>,
    },
    /// `*name`; `target` is the anchored node when it was seen before.
    Alias {
        target: Option<NodeId>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    /// The node's own text: a scalar with its quotes or block header, a flow
    /// collection with its brackets, a block collection from its first entry
    /// to the end of its last. Anchors and tags are not included.
    pub range: TextRange,
    /// Parser-assigned anchor id (`&name`), 0 when there is none.
    pub anchor: usize,
    /// Resolved tag, such as `tag:yaml.org,2002:str` or `!custom`.
    pub tag: Option<String>,
}

impl Node {
    pub fn is_empty_scalar(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { value, style: ScalarStyle::Plain } if value.is_empty())
    }
}

/// One parsed YAML document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Document {
    pub nodes: Vec<Node>,
    pub root: Option<NodeId>,
    /// The text of the chunk the document came from.
    pub range: TextRange,
}

impl Document {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// Follows an alias to its anchored node (one hop: aliases never point at
    /// aliases). Nothing is ever expanded.
    pub fn resolve(&self, id: NodeId) -> NodeId {
        match self.nodes[id].kind {
            NodeKind::Alias { target: Some(t) } => t,
            _ => id,
        }
    }
}

/// A document that could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub range: TextRange,
    pub message: String,
}

/// The result of parsing one chunk.
pub enum ChunkResult {
    Documents(Vec<Document>),
    Error(SyntaxError),
}

/// Parses one chunk of `text` into its documents.
pub fn parse_chunk(
    text: &str,
    index: &LineIndex,
    chunk: Chunk,
    kinds: &crate::WorkloadKinds,
) -> ChunkResult {
    if let Some(error) = nul_error(text, chunk) {
        return ChunkResult::Error(error);
    }
    let body = &text[chunk.range.start..chunk.range.end];
    parse_chunk_if(
        text,
        index,
        chunk,
        crate::relevance::may_matter(body, kinds),
    )
}

/// Parses one chunk of `text`: its documents with their trees when `build`,
/// else only checked for syntax errors (no documents). The syntax errors are
/// the same either way.
pub(crate) fn parse_chunk_if(
    text: &str,
    index: &LineIndex,
    chunk: Chunk,
    build: bool,
) -> ChunkResult {
    if let Some(error) = nul_error(text, chunk) {
        return ChunkResult::Error(error);
    }
    if !build {
        return match validate_chunk(text, index, chunk) {
            Some(error) => ChunkResult::Error(error),
            None => ChunkResult::Documents(Vec::new()),
        };
    }
    build_chunk(text, index, chunk)
}

/// Parses a chunk that cannot hold a workload or a ServiceAccount: its events
/// are checked, so syntax errors are still found exactly, but no tree is built.
fn validate_chunk(text: &str, index: &LineIndex, chunk: Chunk) -> Option<SyntaxError> {
    let mut parser = Parser::new_from_str(&text[chunk.range.start..chunk.range.end]);
    let mut depth = 0usize;
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => return None,
            Ok((Event::MappingStart(..) | Event::SequenceStart(..), mark)) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    let at = MarkerMapper::new(text, index, chunk).offset(mark);
                    return Some(too_deep(at));
                }
            }
            Ok((Event::MappingEnd | Event::SequenceEnd, _)) => depth = depth.saturating_sub(1),
            Ok(_) => {}
            // The tolerant reader needs the tree's positions: the rare
            // failing chunk is built (and may still be read, see
            // `tolerant.rs`).
            Err(_) => {
                return match build_chunk(text, index, chunk) {
                    ChunkResult::Documents(_) => None,
                    ChunkResult::Error(error) => Some(error),
                };
            }
        }
    }
}

fn too_deep(at: usize) -> SyntaxError {
    SyntaxError {
        range: TextRange::new(at, at),
        message: format!("nesting deeper than {MAX_DEPTH} levels; the document is not analysed"),
    }
}

/// yaml-rust2 takes a NUL for the end of its input wherever it stands, so
/// the rest of the document would go unread without a word. YAML forbids the
/// character (Kubernetes' decoder rejects it): the document is an error.
fn nul_error(text: &str, chunk: Chunk) -> Option<SyntaxError> {
    let body = &text.as_bytes()[chunk.range.start..chunk.range.end];
    let at = chunk.range.start + memchr::memchr(0, body)?;
    Some(SyntaxError {
        range: TextRange::new(at, at + 1),
        message: "the NUL character (U+0000) is not allowed in YAML; the document is not analysed"
            .to_string(),
    })
}

/// Parses a chunk into documents with their full trees. Where yaml-rust2
/// refuses what Kubernetes' decoder reads, the chunk is read again by
/// `tolerant.rs`, which keeps every position.
pub fn build_chunk(text: &str, index: &LineIndex, chunk: Chunk) -> ChunkResult {
    if let Some(error) = nul_error(text, chunk) {
        return ChunkResult::Error(error);
    }
    let source = &text[chunk.range.start..chunk.range.end];
    match build_source(text, index, chunk, source, &[]) {
        Ok(docs) => ChunkResult::Documents(docs),
        Err(Failure::Final(error)) => ChunkResult::Error(error),
        Err(Failure::Scan(refusal)) => crate::tolerant::reread(text, index, chunk, refusal),
        // No region was spliced: cannot happen, said plainly if it does.
        Err(Failure::Unverified) => ChunkResult::Error(SyntaxError {
            range: TextRange::empty(chunk.range.start),
            message: "the document could not be read".to_string(),
        }),
    }
}

/// What yaml-rust2 refused, and where it was reading.
pub(crate) struct Refusal {
    /// The error as reported (its range is at the end of the text when the
    /// parser ran out of it).
    pub error: SyntaxError,
    /// The byte the scanner's marker points at.
    pub at: usize,
    /// Where the last event before the error started (the chunk's start
    /// when there was none).
    pub last_event: usize,
    /// The opening bracket of the outermost flow collection still open.
    pub open_flow: Option<usize>,
}

/// Why [`build_source`] stopped.
pub(crate) enum Failure {
    Scan(Refusal),
    /// An error no re-reading changes (nesting too deep).
    Final(SyntaxError),
    /// A spliced region was not where the reading put a node.
    Unverified,
}

/// A node read on its own and put in place of its placeholder (see
/// `tolerant.rs`): `open` is its first byte, `end` one past its last. The
/// placeholder is the plain scalar `x` when `single`, else an empty node of
/// the region's own kind (`[]`, `{}`, `''`, `""`).
pub(crate) struct Splice {
    pub single: bool,
    pub open: usize,
    pub end: usize,
    pub content: Spliced,
}

pub(crate) enum Spliced {
    /// A quoted scalar: its value and style.
    Scalar(String, TScalarStyle),
    /// A flow collection: the events between its brackets, with the byte
    /// offset of each.
    Flow(Vec<(Event, usize)>),
}

/// Builds the documents of `chunk` from `source`, the chunk's text or a
/// same-length substitution of it (ASCII for ASCII, line breaks where they
/// were): events are placed by `source`, ranges measured on `text`. Each
/// splice replaces the placeholder node its reading holds at `open`.
pub(crate) fn build_source(
    text: &str,
    index: &LineIndex,
    chunk: Chunk,
    source: &str,
    splices: &[Splice],
) -> Result<Vec<Document>, Failure> {
    let mut builder = Builder::new(text, index, chunk);
    builder.mapper = MarkerMapper::over(source, index, chunk);
    let mut parser = Parser::new_from_str(source);
    let mut next_splice = splices.iter().peekable();
    let mut spliced = 0usize;
    // After a flow placeholder's start: where its closing bracket is.
    let mut pending_close = None;
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(token) => token,
            Err(error) => {
                let refusal = builder.refusal(&error);
                // A region passed without its placeholder's node: the
                // reading is not the one the splices were made for.
                if next_splice.peek().is_some_and(|s| s.open < refusal.at) {
                    return Err(Failure::Unverified);
                }
                return Err(Failure::Scan(refusal));
            }
        };
        let at = builder.mapper.offset(mark);
        if let Some(close) = pending_close.take() {
            if !matches!(event, Event::MappingEnd | Event::SequenceEnd) {
                return Err(Failure::Unverified);
            }
            builder.on_event(event, close).map_err(Failure::Final)?;
            continue;
        }
        if let Some(splice) = next_splice.next_if(|s| s.open == at) {
            let (anchor, tag) = match event {
                Event::Scalar(value, TScalarStyle::Plain, anchor, tag)
                    if splice.single && value == "x" =>
                {
                    (anchor, tag)
                }
                Event::Scalar(_, style, anchor, tag)
                    if !splice.single
                        && matches!(&splice.content, Spliced::Scalar(_, inner) if *inner == style) =>
                {
                    (anchor, tag)
                }
                Event::SequenceStart(anchor, tag)
                    if !splice.single && text.as_bytes()[at] == b'[' =>
                {
                    (anchor, tag)
                }
                Event::MappingStart(anchor, tag)
                    if !splice.single && text.as_bytes()[at] == b'{' =>
                {
                    (anchor, tag)
                }
                _ => return Err(Failure::Unverified),
            };
            match &splice.content {
                Spliced::Scalar(value, style) => {
                    let event = Event::Scalar(value.clone(), *style, anchor, tag);
                    builder.on_event(event, at).map_err(Failure::Final)?;
                }
                Spliced::Flow(events) => {
                    let (start, end) = if text.as_bytes()[at] == b'[' {
                        (Event::SequenceStart(anchor, tag), Event::SequenceEnd)
                    } else {
                        (Event::MappingStart(anchor, tag), Event::MappingEnd)
                    };
                    builder.on_event(start, at).map_err(Failure::Final)?;
                    for (event, offset) in events {
                        builder
                            .on_event(event.clone(), *offset)
                            .map_err(Failure::Final)?;
                    }
                    if splice.single {
                        builder
                            .on_event(end, splice.end - 1)
                            .map_err(Failure::Final)?;
                    } else {
                        // The placeholder's own end comes next.
                        pending_close = Some(splice.end - 1);
                    }
                }
            }
            spliced += 1;
            continue;
        }
        if let Event::StreamEnd = event {
            if spliced != splices.len() {
                return Err(Failure::Unverified);
            }
            builder.finish_block_scalar(at);
            return Ok(builder.docs);
        }
        builder.on_event(event, at).map_err(Failure::Final)?;
    }
}

struct Frame {
    node: NodeId,
    /// For a mapping: the key waiting for its value.
    pending_key: Option<NodeId>,
    /// Where the collection's start event pointed (the bracket of a flow one).
    start_mark: usize,
}

struct Builder<'t> {
    text: &'t str,
    chunk: Chunk,
    mapper: MarkerMapper<'t>,
    docs: Vec<Document>,
    doc: Document,
    stack: Vec<Frame>,
    /// anchor id -> node, per document.
    anchors: Vec<(usize, NodeId)>,
    /// A literal or folded scalar whose end is known only from what follows.
    pending_block_scalar: Option<NodeId>,
    /// Where the last event started.
    last_event: usize,
}

impl<'t> Builder<'t> {
    fn new(text: &'t str, index: &'t LineIndex, chunk: Chunk) -> Self {
        Builder {
            text,
            chunk,
            mapper: MarkerMapper::new(text, index, chunk),
            docs: Vec::new(),
            doc: Document::default(),
            stack: Vec::new(),
            anchors: Vec::new(),
            pending_block_scalar: None,
            last_event: chunk.range.start,
        }
    }

    fn on_event(&mut self, event: Event, at: usize) -> Result<(), SyntaxError> {
        self.last_event = at;
        // The end of a collection or document is no token: without a final
        // line break yaml-rust2 marks it at the start of the last line, inside
        // a block scalar's content (found by fuzzing). The content's
        // indentation ends the scalar there.
        let bound = match event {
            Event::MappingEnd | Event::SequenceEnd | Event::DocumentEnd | Event::StreamEnd => {
                self.chunk.range.end
            }
            _ => at,
        };
        self.finish_block_scalar(bound);
        let is_mapping = matches!(event, Event::MappingStart(..));
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart => {
                self.doc = Document {
                    range: self.chunk.range,
                    ..Document::default()
                };
                self.stack.clear();
                self.anchors.clear();
            }
            Event::DocumentEnd => {
                let doc = std::mem::take(&mut self.doc);
                self.docs.push(doc);
            }
            Event::Scalar(value, style, anchor, tag) => {
                let style = match style {
                    TScalarStyle::Plain => ScalarStyle::Plain,
                    TScalarStyle::SingleQuoted => ScalarStyle::SingleQuoted,
                    TScalarStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
                    TScalarStyle::Literal => ScalarStyle::Literal,
                    TScalarStyle::Folded => ScalarStyle::Folded,
                };
                let range = if style == ScalarStyle::Plain && value.is_empty() {
                    TextRange::empty(self.empty_scalar_position(at))
                } else if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                    // The event points at the content; the node starts at its header.
                    let header = block_scalar_header(self.text, at, self.chunk.range.start);
                    TextRange::new(header, header + 1)
                } else {
                    TextRange::new(at, self.scalar_end(at, style, &value))
                };
                let id = self.push_node(Node {
                    kind: NodeKind::Scalar { value, style },
                    range,
                    anchor,
                    tag: tag.map(tag_name),
                });
                if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                    self.pending_block_scalar = Some(id);
                }
                self.attach(id);
            }
            Event::Alias(anchor_id) => {
                let target = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == anchor_id)
                    .map(|&(_, n)| n);
                let end = token_end(self.text, at + 1, self.chunk.range.end);
                let id = self.push_node(Node {
                    kind: NodeKind::Alias { target },
                    range: TextRange::new(at, end),
                    anchor: 0,
                    tag: None,
                });
                self.attach(id);
            }
            Event::MappingStart(anchor, tag) | Event::SequenceStart(anchor, tag) => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(too_deep(at));
                }
                let kind = if is_mapping {
                    NodeKind::Mapping {
                        flow: false,
                        entries: Vec::new(),
                    }
                } else {
                    NodeKind::Sequence {
                        flow: false,
                        items: Vec::new(),
                    }
                };
                let at = if is_mapping {
                    at
                } else {
                    self.sequence_start(at)
                };
                let id = self.push_node(Node {
                    kind,
                    range: TextRange::empty(at),
                    anchor,
                    tag: tag.map(tag_name),
                });
                self.attach(id);
                self.stack.push(Frame {
                    node: id,
                    pending_key: None,
                    start_mark: at,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => self.close_collection(at),
        }
        Ok(())
    }

    fn push_node(&mut self, node: Node) -> NodeId {
        let id = self.doc.nodes.len();
        if node.anchor != 0 {
            self.anchors.push((node.anchor, id));
        }
        self.doc.nodes.push(node);
        id
    }

    /// Hangs a new node under the collection being built, or makes it the root.
    fn attach(&mut self, id: NodeId) {
        let Some(frame) = self.stack.last_mut() else {
            self.doc.root = Some(id);
            return;
        };
        match &mut self.doc.nodes[frame.node].kind {
            NodeKind::Mapping { entries, .. } => match frame.pending_key.take() {
                None => frame.pending_key = Some(id),
                Some(key) => entries.push((key, id)),
            },
            NodeKind::Sequence { items, .. } => items.push(id),
            _ => {}
        }
    }

    fn close_collection(&mut self, at: usize) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let bytes = self.text.as_bytes();
        let (open, close) = match self.doc.nodes[frame.node].kind {
            NodeKind::Mapping { .. } => (b'{', b'}'),
            _ => (b'[', b']'),
        };
        // A flow collection's events point at its brackets; a block
        // collection's end event points at whatever token follows it, which
        // can never be a closing bracket (block collections do not nest in
        // flow ones).
        // After a trailing comma (`{a: 1,}`) yaml-rust2 marks the end at the
        // comma (found by fuzzing): the bracket comes after it.
        let mut at = at;
        if bytes.get(at) == Some(&b',') && bytes.get(frame.start_mark) == Some(&open) {
            let mut i = at + 1;
            while i < self.chunk.range.end {
                match bytes[i] {
                    b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                    b'#' => {
                        while i < self.chunk.range.end && !matches!(bytes[i], b'\r' | b'\n') {
                            i += 1;
                        }
                    }
                    _ => break,
                }
            }
            if bytes.get(i) == Some(&close) {
                at = i;
            }
        }
        let flow = bytes.get(frame.start_mark) == Some(&open) && bytes.get(at) == Some(&close);
        // Children come in text order: the first starts the collection, the
        // last ends it.
        let (first, last) = match &self.doc.nodes[frame.node].kind {
            NodeKind::Mapping { entries, .. } => {
                (entries.first().map(|e| e.0), entries.last().map(|e| e.1))
            }
            NodeKind::Sequence { items, .. } => (items.first().copied(), items.last().copied()),
            _ => (None, None),
        };
        let range = if flow {
            TextRange::new(frame.start_mark, at + 1)
        } else {
            let start = first.map_or(frame.start_mark, |c| self.doc.nodes[c].range.start);
            let start = self.block_sequence_start(start, &self.doc.nodes[frame.node].kind);
            let end = last.map_or(start, |c| self.doc.nodes[c].range.end);
            TextRange::new(start, end.max(start))
        };
        let node = &mut self.doc.nodes[frame.node];
        node.range = range;
        match &mut node.kind {
            NodeKind::Mapping { flow: f, .. } | NodeKind::Sequence { flow: f, .. } => *f = flow,
            _ => {}
        }
    }

    /// A block sequence starts at the `-` of its first item.
    fn block_sequence_start(&self, first_child: usize, kind: &NodeKind) -> usize {
        if !matches!(kind, NodeKind::Sequence { .. }) {
            return first_child;
        }
        let bytes = self.text.as_bytes();
        let mut i = first_child;
        while i > self.chunk.range.start && matches!(bytes[i - 1], b' ' | b'\t') {
            i -= 1;
        }
        if i > self.chunk.range.start && bytes[i - 1] == b'-' {
            i - 1
        } else {
            first_child
        }
    }

    /// Where a sequence's start event points: its `[` or `-`, except for a
    /// block sequence at its parent key's indentation (`a:⏎- x`), where
    /// yaml-rust2 points just after the `-` (found by fuzzing: an empty first
    /// item was then placed on the next line, and a fix replacing the
    /// sequence removed that line).
    fn sequence_start(&self, mark: usize) -> usize {
        let bytes = self.text.as_bytes();
        let after_dash = mark > self.chunk.range.start
            && bytes[mark - 1] == b'-'
            && !matches!(bytes.get(mark), Some(b'-' | b'['));
        if after_dash {
            mark - 1
        } else {
            mark
        }
    }

    /// An empty (null) value has no text; we place it right after the `:` of
    /// its key, or after the `-` of its sequence item.
    fn empty_scalar_position(&self, mark: usize) -> usize {
        let Some(frame) = self.stack.last() else {
            return mark;
        };
        let node = &self.doc.nodes[frame.node];
        match (&node.kind, frame.pending_key) {
            (NodeKind::Mapping { .. }, Some(key)) => {
                // The parser may point at the `:` itself or at what follows.
                let key_end = self.doc.nodes[key].range.end;
                colon_after(self.text, key_end, self.chunk.range.end).map_or(key_end, |c| c + 1)
            }
            (NodeKind::Sequence { items, .. }, _) => {
                let bytes = self.text.as_bytes();
                let Some(&last) = items.last() else {
                    // The first item's `-` starts the sequence.
                    return if bytes.get(frame.start_mark) == Some(&b'-') {
                        frame.start_mark + 1
                    } else {
                        mark
                    };
                };
                // A later item's `-` is the first one after the previous item
                // that starts its line (not one in a comment or a tag).
                let after = self.doc.nodes[last].range.end.min(mark);
                (after..mark)
                    .find(|&i| {
                        bytes[i] == b'-'
                            && bytes[..i]
                                .iter()
                                .rev()
                                .take_while(|&&b| !matches!(b, b'\n' | b'\r'))
                                .all(|&b| matches!(b, b' ' | b'\t'))
                    })
                    .map_or(mark, |dash| dash + 1)
            }
            _ => mark,
        }
    }

    fn scalar_end(&self, start: usize, style: ScalarStyle, value: &str) -> usize {
        let bytes = self.text.as_bytes();
        let limit = self.chunk.range.end;
        match style {
            ScalarStyle::DoubleQuoted => {
                let mut i = start + 1;
                while i < limit {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'"' => return i + 1,
                        _ => i += 1,
                    }
                }
                limit
            }
            ScalarStyle::SingleQuoted => {
                let mut i = start + 1;
                while i < limit {
                    if bytes[i] == b'\'' {
                        if bytes.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        return i + 1;
                    }
                    i += 1;
                }
                limit
            }
            ScalarStyle::Plain => plain_scalar_end(bytes, start, limit, value),
            // Known only once the next event shows where the content stops.
            ScalarStyle::Literal | ScalarStyle::Folded => start + 1,
        }
    }

    /// Ends a pending literal or folded scalar: its content is the run of
    /// lines after the header indented at least as far as the first non-blank
    /// one, and stops before `bound`, where the next token starts.
    fn finish_block_scalar(&mut self, bound: usize) {
        let Some(id) = self.pending_block_scalar.take() else {
            return;
        };
        let bytes = self.text.as_bytes();
        let start = self.doc.nodes[id].range.start;
        let bound = bound.clamp(start, self.chunk.range.end);
        // Header: indicator, then chomping/indentation indicators.
        let mut end = start + 1;
        while end < bound && matches!(bytes[end], b'+' | b'-' | b'0'..=b'9') {
            end += 1;
        }
        let mut pos = next_line_start(bytes, end, bound);
        let mut content_indent = None;
        while pos < bound {
            let indent = bytes[pos..bound].iter().take_while(|&&b| b == b' ').count();
            let line_end = line_content_end(bytes, pos, bound);
            let blank = bytes[pos + indent..line_end]
                .iter()
                .all(|b| matches!(b, b' ' | b'\t'));
            if !blank {
                let needed = *content_indent.get_or_insert(indent);
                if indent < needed || indent == 0 {
                    break;
                }
                end = line_end;
            }
            pos = next_line_start(bytes, line_end, bound);
        }
        self.doc.nodes[id].range.end = end;
    }

    /// The error, with where the reading was (see [`Refusal`]).
    fn refusal(&mut self, error: &ScanError) -> Refusal {
        let at = self.mapper.offset(*error.marker());
        let bytes = self.text.as_bytes();
        let open_flow = self
            .stack
            .iter()
            .map(|frame| frame.start_mark)
            .find(|&start| matches!(bytes.get(start), Some(b'[' | b'{')));
        Refusal {
            error: self.scan_error(error),
            at,
            last_event: self.last_event,
            open_flow,
        }
    }

    fn scan_error(&mut self, error: &ScanError) -> SyntaxError {
        let mut at = self.mapper.offset(*error.marker());
        // An error found only at the end of the document (an unclosed
        // bracket) is shown at the end of its last line with text, not on
        // the next document's `---`.
        if at >= self.chunk.range.end {
            let body = &self.text[self.chunk.range.start..self.chunk.range.end];
            at = self.chunk.range.start + body.trim_end().len();
        }
        let end = next_char_end(self.text, at, self.chunk.range.end);
        SyntaxError {
            range: TextRange::new(at, end),
            message: error.info().to_string(),
        }
    }
}

/// The byte after the plain scalar starting at `start` whose (folded) value is
/// `value`: the words of the value are matched against the text, skipping the
/// line breaks and indentation that folding turned into spaces.
fn plain_scalar_end(bytes: &[u8], start: usize, limit: usize, value: &str) -> usize {
    let mut pos = start;
    let mut end = start;
    for word in value.split([' ', '\t', '\n']).filter(|w| !w.is_empty()) {
        while pos < limit && matches!(bytes[pos], b' ' | b'\t' | b'\r' | b'\n') {
            pos += 1;
        }
        if bytes[pos..limit].starts_with(word.as_bytes()) {
            pos += word.len();
            end = pos;
        } else {
            break;
        }
    }
    end
}

/// The `|` or `>` that opens the block scalar whose content starts at
/// `content`: the end of the first non-blank line above (a comment after the
/// header aside), or `content` itself when no header is found.
fn block_scalar_header(text: &str, content: usize, not_before: usize) -> usize {
    let bytes = text.as_bytes();
    if matches!(bytes.get(content), Some(b'|' | b'>')) {
        return content;
    }
    let mut line_end = content;
    while line_end > not_before {
        let mut line_start = line_end;
        while line_start > not_before && !matches!(bytes[line_start - 1], b'\n' | b'\r') {
            line_start -= 1;
        }
        let line = &text[line_start..line_end];
        let code = match line.find(" #").or_else(|| line.find("\t#")) {
            Some(comment) => &line[..comment],
            None if line.trim_start().starts_with('#') => "",
            None => line,
        };
        let code = code.trim_end();
        if !code.is_empty() {
            let indicators = code
                .bytes()
                .rev()
                .take_while(|b| matches!(b, b'+' | b'-' | b'0'..=b'9'))
                .count();
            let header = line_start + code.len() - indicators - 1;
            return if matches!(bytes.get(header), Some(b'|' | b'>')) {
                header
            } else {
                // A comment with no blank before it (`|#c`, read as go-yaml
                // reads it, see `tolerant.rs`).
                header_before_comment(line).map_or(content, |h| line_start + h)
            };
        }
        // Step over the line break to the line above.
        line_end = line_start;
        if line_end > not_before && bytes[line_end - 1] == b'\n' {
            line_end -= 1;
        }
        if line_end > not_before && bytes[line_end - 1] == b'\r' {
            line_end -= 1;
        }
    }
    content
}

/// The last block scalar header of `line` directly followed by a `#`.
fn header_before_comment(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    (0..bytes.len()).rev().find(|&h| {
        matches!(bytes[h], b'|' | b'>')
            && (h == 0 || matches!(bytes[h - 1], b' ' | b'\t'))
            && bytes[h + 1..]
                .iter()
                .find(|b| !matches!(b, b'+' | b'-' | b'0'..=b'9'))
                == Some(&b'#')
    })
}

/// The `:` that follows a key ending at `from`, searched before `limit`.
fn colon_after(text: &str, from: usize, limit: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = from;
    while i < limit.min(bytes.len()) {
        match bytes[i] {
            b':' => return Some(i),
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            _ => return None,
        }
    }
    None
}

/// End of an anchor or alias name starting at `from`.
fn token_end(text: &str, from: usize, limit: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = from;
    while i < limit
        && !matches!(
            bytes[i],
            b' ' | b'\t' | b'\r' | b'\n' | b',' | b'[' | b']' | b'{' | b'}'
        )
    {
        i += 1;
    }
    i
}

fn next_char_end(text: &str, at: usize, limit: usize) -> usize {
    match text[at.min(text.len())..].chars().next() {
        Some('\n' | '\r') | None => at,
        Some(c) => (at + c.len_utf8()).min(limit.max(at)),
    }
}

fn line_content_end(bytes: &[u8], pos: usize, limit: usize) -> usize {
    let mut i = pos;
    while i < limit && !matches!(bytes[i], b'\n' | b'\r') {
        i += 1;
    }
    i
}

fn next_line_start(bytes: &[u8], pos: usize, limit: usize) -> usize {
    let mut i = line_content_end(bytes, pos, limit);
    if i < limit && bytes[i] == b'\r' {
        i += 1;
    }
    if i < limit && bytes[i] == b'\n' {
        i += 1;
    }
    i
}

fn tag_name(tag: yaml_rust2::parser::Tag) -> String {
    format!("{}{}", tag.handle, tag.suffix)
}

/// Turns yaml-rust2 markers (1-based line within the chunk, 0-based character
/// column) into byte offsets of the file. Events arrive in nearly increasing
/// order, so a cursor on the current line makes this linear even for a
/// megabyte-long line.
pub(crate) struct MarkerMapper<'t> {
    /// The text the markers count characters of, from the byte `base` of
    /// the file on.
    bytes: &'t [u8],
    base: usize,
    index: &'t LineIndex,
    chunk: Chunk,
    cursor_line: usize,
    cursor_col: usize,
    cursor_byte: usize,
}

impl<'t> MarkerMapper<'t> {
    fn new(text: &'t str, index: &'t LineIndex, chunk: Chunk) -> Self {
        Self {
            bytes: text.as_bytes(),
            base: 0,
            index,
            chunk,
            cursor_line: usize::MAX,
            cursor_col: 0,
            cursor_byte: 0,
        }
    }

    /// Markers of a parser reading `source`, the text of `chunk` or a
    /// same-length substitution of it whose line breaks are where the
    /// file's are.
    pub(crate) fn over(source: &'t str, index: &'t LineIndex, chunk: Chunk) -> Self {
        Self {
            bytes: source.as_bytes(),
            base: chunk.range.start,
            ..Self::new("", index, chunk)
        }
    }

    pub(crate) fn offset(&mut self, mark: Marker) -> usize {
        let line = self.chunk.first_line + mark.line().max(1) - 1;
        let col = mark.col();
        let (mut c, mut b) = if line == self.cursor_line && col >= self.cursor_col {
            (self.cursor_col, self.cursor_byte)
        } else if mark.line() <= 1 {
            (0, self.chunk.range.start)
        } else {
            (0, self.index.line_start(line).max(self.chunk.range.start))
        };
        let limit = self.chunk.range.end;
        while c < col && b < limit {
            b += self
                .bytes
                .get(b - self.base)
                .map_or(1, |&lead| utf8_len(lead));
            c += 1;
        }
        let b = b.min(limit);
        self.cursor_line = line;
        self.cursor_col = c;
        self.cursor_byte = b;
        b
    }
}

fn utf8_len(lead: u8) -> usize {
    match lead {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}
