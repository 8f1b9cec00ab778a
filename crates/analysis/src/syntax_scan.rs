//! A fast, exact "certainly valid" answer for the documents whose syntax is
//! all we need (CRDs, ConfigMaps, Services: what `relevance.rs` says holds
//! no tree).
//!
//! [`certainly_valid`] reads a document's bytes once, line by line, with no
//! allocation, and answers `true` only when the document is in a plain
//! subset of YAML that yaml-rust2 0.13 reads without an error, nesting no
//! deeper than [`MAX_DEPTH`]; on anything else it answers `false`
//! ("unsure"), and `tree.rs`'s `validate_chunk` asks yaml-rust2 as before,
//! so an error's message and position never come from here.
//!
//! The subset is what controller-gen and `kubectl` write: block mappings and
//! sequences (`- ` items at the parent key's indentation too), plain scalars
//! (over several lines too), single- and double-quoted scalars (over several
//! lines too, valid escapes only), literal and folded block scalars with
//! their chomping and indentation indicators, comments, `{}`, `[]` and flow
//! sequences of simple words or one-line quoted scalars, and one leading
//! `---` line. Everything else is "unsure": tabs (but inside the text of a
//! block scalar's line), CR, other control characters, anchors, aliases,
//! tags, directives, `...`, complex keys, root scalars, flow collections
//! over several lines, keys longer than 1000 bytes (yaml-rust2 refuses an implicit key whose `:` is more than
//! 1024 characters after its start), `: ` or ` #` in a continuation line of
//! a plain scalar, an escaped line break.
//!
//! The rules follow yaml-rust2's scanner (see the comments), and always err
//! on the side of "unsure". `crates/analysis/tests/syntax_scan.rs` checks
//! "certainly valid => yaml-rust2 accepts, within the depth bound" over
//! every document of the shared corpus, the YAML test suite and thousands of
//! seeded mutations of them.

use crate::tree::MAX_DEPTH;

/// Deepest block nesting followed here (far below [`MAX_DEPTH`]: the one
/// flow collection a line may add still fits).
const MAX_FRAMES: usize = 128;
const _: () = assert!(MAX_FRAMES + 1 < MAX_DEPTH);

/// Longest implicit key accepted, in bytes from its first byte to its `:`
/// (yaml-rust2 counts characters, never more than bytes, and refuses more
/// than 1024).
const MAX_KEY: usize = 1000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Map,
    Seq,
}

#[derive(Clone, Copy)]
struct Frame {
    col: usize,
    kind: Kind,
    /// A sequence whose `-` items stand at its parent key's column.
    indentless: bool,
    /// The current entry (a key's value, an item) is still empty: a more
    /// indented line may give it its node.
    open: bool,
}

const NO_FRAME: Frame = Frame {
    col: 0,
    kind: Kind::Map,
    indentless: false,
    open: false,
};

/// What the lines after the current one continue, if anything.
#[derive(Clone, Copy)]
enum Mode {
    Normal,
    /// A plain scalar: lines indented at least `min_col` continue it.
    Plain {
        min_col: usize,
    },
    /// An unclosed quoted scalar: its lines must be indented at least
    /// `min_col`.
    Quoted {
        single: bool,
        min_col: usize,
    },
    /// A block scalar of the block collection at `container`: `indent` is
    /// its content's, once known (from the indicator, else the first line
    /// with text); `max_blank` the longest blank line before that one.
    Block {
        container: usize,
        increment: usize,
        indent: Option<usize>,
        max_blank: usize,
    },
}

/// Where a node starts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A key line of the mapping already open at this column.
    MapKey,
    /// After `- ` or at the start of a more indented line: a new sequence or
    /// mapping may start here, or any node.
    Collection,
    /// After a key's `: `: a scalar or a flow collection only.
    Value,
}

/// Unsure.
struct Unsure;

type Step = Result<(), Unsure>;

struct Scanner {
    frames: [Frame; MAX_FRAMES],
    depth: usize,
    mode: Mode,
    /// A root collection has been opened.
    root: bool,
    /// A `---` line or content has been seen.
    started: bool,
    /// The document holds a tab.
    tabs: bool,
    /// The current line: its number and indentation.
    line_no: usize,
    line_indent: usize,
    /// The region path's outline, when asked for (see [`outline`]).
    outline: Option<Recorded>,
}

/// What [`outline`] records, in `region.rs`'s encoding.
struct Recorded {
    entries: Vec<u32>,
    flow_map_line: Option<usize>,
    /// The line of the last bare `key:` line marked open, until its value
    /// shows whether it stays so (a block scalar does not).
    open_key: Option<usize>,
    /// A `- |` item: yaml-rust2 marks a block scalar at its first text
    /// line, so the item's line gets its entry only when the text ends
    /// before any (line, column, depth).
    block_item: Option<(usize, usize, usize)>,
}

/// True only when `document` (one document's text, as `split.rs` cuts it)
/// is certainly read by yaml-rust2 without an error, nesting within
/// [`MAX_DEPTH`]. False means "unsure", never "invalid".
pub fn certainly_valid(document: &str) -> bool {
    run(document, None).is_some()
}

/// For `region.rs`: the outline of `document` (one entry per line, in its
/// encoding: the block entry that starts the line, its column, depth, a
/// bare `key:` line, a flow mapping; and the first flow mapping's line),
/// exactly as its yaml-rust2 scan records it, when [`certainly_valid`]
/// says yes; `None` when unsure (then the caller scans with yaml-rust2).
pub(crate) fn outline(document: &str, lines: usize) -> Option<(Vec<u32>, Option<usize>)> {
    let recorded = Recorded {
        entries: vec![0; lines],
        flow_map_line: None,
        open_key: None,
        block_item: None,
    };
    run(document, Some(recorded)).map(|r| (r.entries, r.flow_map_line))
}

fn run(document: &str, outline: Option<Recorded>) -> Option<Recorded> {
    let bytes = document.as_bytes();
    // CR and other control characters: unsure. Tabs only inside the text
    // of a block scalar's lines (yaml-rust2 treats a tab differently by
    // context elsewhere).
    if has_control(bytes) {
        return None;
    }
    let mut scanner = Scanner {
        frames: [NO_FRAME; MAX_FRAMES],
        depth: 0,
        mode: Mode::Normal,
        root: false,
        started: false,
        tabs: memchr::memchr(b'\t', bytes).is_some(),
        line_no: 0,
        line_indent: 0,
        outline,
    };
    let mut start = 0;
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        scanner.line(&bytes[start..end]).ok()?;
        scanner.line_no += 1;
        start = end + 1;
    }
    scanner.finish().ok()?;
    match scanner.outline {
        Some(recorded) => Some(recorded),
        None => Some(Recorded {
            entries: Vec::new(),
            flow_map_line: None,
            open_key: None,
            block_item: None,
        }),
    }
}

fn is_blank_or_end(bytes: &[u8], at: usize) -> bool {
    bytes.get(at).is_none_or(|&b| b == b' ')
}

/// A control character other than LF and tab, or DEL. Branch-free over blocks of
/// 64 bytes, so the compiler vectorizes it.
fn has_control(bytes: &[u8]) -> bool {
    let bad = |b: u8| (b < 0x20) & (b != b'\n') & (b != b'\t') | (b == 0x7f);
    let mut blocks = bytes.chunks_exact(64);
    for block in &mut blocks {
        if block.iter().fold(false, |acc, &b| acc | bad(b)) {
            return true;
        }
    }
    blocks.remainder().iter().any(|&b| bad(b))
}

/// The first byte at or after `at` that is not a space (eight at a time:
/// CRDs are indented deeply).
fn skip_spaces(line: &[u8], mut at: usize) -> usize {
    const SPACES: u64 = u64::from_ne_bytes([b' '; 8]);
    while let Some(word) = line.get(at..at + 8) {
        let word = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        let diff = word ^ SPACES;
        if diff != 0 {
            return at + (diff.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while at < line.len() && line[at] == b' ' {
        at += 1;
    }
    at
}

/// What may follow a finished node on its line: blanks, then nothing or a
/// comment (whose `#` yaml-rust2 wants after a blank).
fn tail_ok(line: &[u8], at: usize) -> Step {
    let rest = skip_spaces(line, at);
    if rest == line.len() || (line[rest] == b'#' && rest > at) {
        Ok(())
    } else {
        Err(Unsure)
    }
}

/// Where a quoted scalar's text on this line stops.
enum QuoteEnd {
    /// One past the closing quote.
    Closed(usize),
    /// The line ended inside the scalar.
    Open,
}

/// Reads quoted-scalar text from `at` (after the opening quote, or at a
/// continuation line's first byte) to the closing quote or the line's end.
fn scan_quoted(line: &[u8], mut at: usize, single: bool) -> Result<QuoteEnd, Unsure> {
    if single {
        while at < line.len() {
            if line[at] == b'\'' {
                if line.get(at + 1) == Some(&b'\'') {
                    at += 2;
                    continue;
                }
                return Ok(QuoteEnd::Closed(at + 1));
            }
            at += 1;
        }
        return Ok(QuoteEnd::Open);
    }
    while at < line.len() {
        match line[at] {
            b'"' => return Ok(QuoteEnd::Closed(at + 1)),
            b'\\' => at += escape_len(line, at)?,
            _ => at += 1,
        }
    }
    Ok(QuoteEnd::Open)
}

/// The length of the escape sequence at `at` (a `\`) that yaml-rust2
/// accepts; an escaped line break is unsure.
fn escape_len(line: &[u8], at: usize) -> Result<usize, Unsure> {
    let digits = match line.get(at + 1) {
        Some(
            b'0' | b'a' | b'b' | b't' | b'n' | b'v' | b'f' | b'r' | b'e' | b' ' | b'"' | b'/'
            | b'\\' | b'N' | b'_' | b'L' | b'P',
        ) => return Ok(2),
        Some(b'x') => 2,
        Some(b'u') => 4,
        Some(b'U') => 8,
        _ => return Err(Unsure),
    };
    let hex = line.get(at + 2..at + 2 + digits).ok_or(Unsure)?;
    let mut value = 0u32;
    for &h in hex {
        let digit = (h as char).to_digit(16).ok_or(Unsure)?;
        value = (value << 4) | digit;
    }
    char::from_u32(value).ok_or(Unsure)?;
    Ok(2 + digits)
}

/// How a plain scalar starting at `at` ends on its line.
enum PlainEnd {
    /// At a `:` followed by a blank or the line's end: it is a key.
    Key(usize),
    /// At a comment's ` #`.
    Comment,
    /// At the line's end.
    Line,
}

fn scan_plain(line: &[u8], from: usize) -> PlainEnd {
    let mut at = from;
    while let Some(i) = memchr::memchr2(b':', b'#', &line[at..]) {
        let i = at + i;
        if line[i] == b':' {
            if is_blank_or_end(line, i + 1) {
                return PlainEnd::Key(i);
            }
        } else if i > from && line[i - 1] == b' ' {
            return PlainEnd::Comment;
        }
        at = i + 1;
    }
    PlainEnd::Line
}

/// A plain scalar's first byte: not an indicator (yaml-rust2's
/// `fetch_next_token`), except `-` before a non-blank.
fn plain_start(line: &[u8], at: usize) -> bool {
    match line[at] {
        b'-' | b'?' | b':' => !is_blank_or_end(line, at + 1),
        b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' => false,
        _ => true,
    }
}

/// A word in a flow sequence: nothing that could be an indicator there.
fn flow_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-')
}

/// A flow collection written on one line from `at`: `{}`, `[]`, or a flow
/// sequence of words and quoted scalars. Returns where it ends.
fn scan_flow(line: &[u8], at: usize) -> Result<usize, Unsure> {
    let close = if line[at] == b'{' { b'}' } else { b']' };
    let mut i = skip_spaces(line, at + 1);
    if line.get(i) == Some(&close) {
        return Ok(i + 1);
    }
    if close == b'}' {
        return Err(Unsure);
    }
    loop {
        match line.get(i) {
            Some(&q @ (b'"' | b'\'')) => match scan_quoted(line, i + 1, q == b'\'')? {
                QuoteEnd::Closed(end) => i = end,
                QuoteEnd::Open => return Err(Unsure),
            },
            Some(&b) if flow_word_byte(b) && b != b'-' => {
                while i < line.len() && flow_word_byte(line[i]) {
                    i += 1;
                }
            }
            _ => return Err(Unsure),
        }
        i = skip_spaces(line, i);
        match line.get(i) {
            Some(b']') => return Ok(i + 1),
            Some(b',') => i = skip_spaces(line, i + 1),
            _ => return Err(Unsure),
        }
    }
}

/// A block scalar header at `at` (`|` or `>`): its indentation indicator
/// (0: none), checked as yaml-rust2's `scan_block_scalar` reads it.
fn block_header(line: &[u8], at: usize) -> Result<usize, Unsure> {
    let mut i = at + 1;
    let mut increment = 0;
    let chomp = |b: Option<&u8>| matches!(b, Some(b'+' | b'-'));
    let digit = |b: Option<&u8>| matches!(b, Some(b'1'..=b'9'));
    if chomp(line.get(i)) {
        i += 1;
        if digit(line.get(i)) {
            increment = (line[i] - b'0') as usize;
            i += 1;
        }
    } else if digit(line.get(i)) {
        increment = (line[i] - b'0') as usize;
        i += 1;
        if chomp(line.get(i)) {
            i += 1;
        }
    }
    tail_ok(line, i)?;
    Ok(increment)
}

impl Scanner {
    fn top(&mut self) -> Option<&mut Frame> {
        self.depth.checked_sub(1).map(|i| &mut self.frames[i])
    }

    fn push(&mut self, col: usize, kind: Kind, indentless: bool) -> Step {
        if self.depth == MAX_FRAMES {
            return Err(Unsure);
        }
        self.frames[self.depth] = Frame {
            col,
            kind,
            indentless,
            open: false,
        };
        self.depth += 1;
        self.root = true;
        Ok(())
    }

    /// Records the entry that starts the current line: a `-` item (else a
    /// key) at `col`, in the collection on top.
    fn record(&mut self, col: usize, dash: bool) -> Step {
        self.record_at(self.line_no, col, dash, self.depth)
    }

    fn record_at(&mut self, line: usize, col: usize, dash: bool, depth: usize) -> Step {
        let Some(recorded) = &mut self.outline else {
            return Ok(());
        };
        use crate::region::{COLUMN, DASH, DEPTH, DEPTH_SHIFT};
        // What the region's encoding cannot hold is left to yaml-rust2.
        if col + 1 >= COLUMN as usize || depth > DEPTH as usize || line >= recorded.entries.len() {
            return Err(Unsure);
        }
        let entry = &mut recorded.entries[line];
        if *entry & COLUMN == 0 {
            *entry |=
                (col as u32 + 1) | if dash { DASH } else { 0 } | ((depth as u32) << DEPTH_SHIFT);
        }
        Ok(())
    }

    /// The current line is a bare `key:` whose value comes later.
    fn record_open(&mut self, line: &[u8]) {
        let line_no = self.line_no;
        if let Some(recorded) = &mut self.outline {
            // As `region.rs`'s `bare_key_line` reads it.
            let code = line.trim_ascii_end();
            if code.ends_with(b":") && memchr::memchr(b'#', code).is_none() {
                recorded.entries[line_no] |= crate::region::OPEN;
                recorded.open_key = Some(line_no);
            }
        }
    }

    /// A block scalar on its own line is the value of the open key of
    /// `key_line`: not an open key in the region's sense.
    fn block_value_of(&mut self, key_line: usize) {
        if let Some(recorded) = &mut self.outline {
            recorded.entries[key_line] &= !crate::region::OPEN;
        }
    }

    fn record_flow_map(&mut self) {
        let line_no = self.line_no;
        if let Some(recorded) = &mut self.outline {
            recorded.entries[line_no] |= crate::region::FLOW_MAP;
            recorded.flow_map_line.get_or_insert(line_no);
        }
    }

    /// The column of the innermost block collection (yaml-rust2's block
    /// indentation there).
    fn container(&self) -> usize {
        self.frames[self.depth - 1].col
    }

    fn line(&mut self, line: &[u8]) -> Step {
        let indent = skip_spaces(line, 0);
        self.line_indent = indent;
        let blank = indent == line.len();
        // A tab is followed only in a block scalar's text line, after its
        // first character (see `Mode::Block` below).
        let tab = self.tabs && memchr::memchr(b'\t', line).is_some();
        if tab && !matches!(self.mode, Mode::Block { .. }) {
            return Err(Unsure);
        }
        match self.mode {
            Mode::Normal => {}
            Mode::Plain { min_col } => {
                if blank {
                    return Ok(());
                }
                if line[indent] == b'#' {
                    // A comment ends the scalar (yaml-rust2 stops at `#`).
                    self.mode = Mode::Normal;
                    return Ok(());
                }
                if indent >= min_col {
                    // More of the scalar: no `: ` (a value indicator) and
                    // no ` #` (a comment, after which nothing may follow).
                    return match scan_plain(line, indent) {
                        PlainEnd::Line => Ok(()),
                        _ => Err(Unsure),
                    };
                }
                self.mode = Mode::Normal;
            }
            Mode::Quoted { single, min_col } => {
                if blank {
                    return Ok(());
                }
                // yaml-rust2 refuses a line left of the block indentation.
                if indent < min_col {
                    return Err(Unsure);
                }
                if let QuoteEnd::Closed(end) = scan_quoted(line, indent, single)? {
                    self.mode = Mode::Normal;
                    // A multi-line quoted scalar cannot be a key: only a
                    // comment may follow.
                    tail_ok(line, end)?;
                }
                return Ok(());
            }
            Mode::Block {
                container,
                increment,
                indent: content,
                max_blank,
            } => {
                if blank {
                    if content.is_none() {
                        // Past an indentation indicator's column, blanks
                        // are text for yaml-rust2 (it skips only that many).
                        let text = increment > 0 && line.len() > container + increment;
                        if text {
                            if let Some(recorded) = &mut self.outline {
                                recorded.block_item = None;
                            }
                        }
                        self.mode = Mode::Block {
                            container,
                            increment,
                            indent: text.then_some(container + increment),
                            max_blank: max_blank.max(line.len()),
                        };
                    }
                    return Ok(());
                }
                let content = match content {
                    Some(content) => content,
                    None if indent <= container => 0,
                    // An indentation indicator fixes the content's column;
                    // a text line between it and the container's is
                    // "wrongly indented".
                    None if increment > 0 => {
                        if indent < container + increment {
                            return Err(Unsure);
                        }
                        container + increment
                    }
                    // Else the first text line's column, which a longer
                    // blank line before it must not exceed.
                    None => {
                        if max_blank > indent {
                            return Err(Unsure);
                        }
                        indent
                    }
                };
                // The scalar has a text line here, or ended before it.
                if let Some(recorded) = &mut self.outline {
                    recorded.block_item = None;
                }
                if content > 0 && indent >= content {
                    // yaml-rust2 reads a text line to its end, whatever it
                    // holds, once its indentation (spaces) is passed.
                    if tab && line[indent] == b'\t' {
                        return Err(Unsure);
                    }
                    self.mode = Mode::Block {
                        container,
                        increment,
                        indent: Some(content),
                        max_blank,
                    };
                    return Ok(());
                }
                // Less indented: the scalar ended before this line.
                if tab {
                    return Err(Unsure);
                }
                self.mode = Mode::Normal;
            }
        }
        if blank || line[indent] == b'#' {
            return Ok(());
        }
        if (line.starts_with(b"---") || line.starts_with(b"...")) && is_blank_or_end(line, 3) {
            // One `---` before any content, with at most a comment.
            if self.started || line[0] == b'.' {
                return Err(Unsure);
            }
            self.started = true;
            return tail_ok(line, 3);
        }
        self.started = true;
        self.structure(indent, line)
    }

    /// A line with content at column `col`, read against the open block
    /// collections.
    fn structure(&mut self, col: usize, line: &[u8]) -> Step {
        while self.depth > 0 && self.frames[self.depth - 1].col > col {
            self.depth -= 1;
        }
        let dash = line[col] == b'-' && is_blank_or_end(line, col + 1);
        // The bare `key:` line before, whose value may start here.
        let open_key = self.outline.as_mut().and_then(|r| r.open_key.take());
        let Some(top) = self.top() else {
            // The root: a block collection, once.
            if self.root {
                return Err(Unsure);
            }
            return self.node(col, line, Place::Collection);
        };
        if top.col < col {
            // A more indented line: the node of an empty entry.
            if !top.open {
                return Err(Unsure);
            }
            top.open = false;
            if let (Kind::Map, Some(key_line)) = (top.kind, open_key) {
                if matches!(line[col], b'|' | b'>') {
                    self.block_value_of(key_line);
                }
            }
            return self.node(col, line, Place::Collection);
        }
        match (top.kind, dash) {
            (Kind::Seq, true) => {
                // yaml-rust2 marks an empty item's null at the next `-`'s
                // token, which it places after the blanks (and comment)
                // that follow it: an entry of this line when a blank
                // follows the `-`, then no comment.
                let after = skip_spaces(line, col + 1);
                if top.open && after > col + 1 && line.get(after) != Some(&b'#') {
                    self.record(col, true)?;
                }
                self.item(col, line)
            }
            (Kind::Map, false) => self.node(col, line, Place::MapKey),
            // `key:` then `- item` at the key's column.
            (Kind::Map, true) => {
                if !top.open {
                    return Err(Unsure);
                }
                top.open = false;
                // yaml-rust2 marks such a sequence's start where its first
                // item's node starts, and `region.rs` takes a bracket
                // there for a flow collection: left to its scan.
                let first = skip_spaces(line, col + 1);
                if self.outline.is_some() && matches!(line.get(first), Some(b'[' | b'{')) {
                    return Err(Unsure);
                }
                self.push(col, Kind::Seq, true)?;
                self.item(col, line)
            }
            // A key after the items of a sequence at its column ends it.
            (Kind::Seq, false) => {
                if !top.indentless {
                    return Err(Unsure);
                }
                self.depth -= 1;
                self.node(col, line, Place::MapKey)
            }
        }
    }

    /// A `- ` item of the sequence on top, its `-` at `col`.
    fn item(&mut self, col: usize, line: &[u8]) -> Step {
        let at = skip_spaces(line, col + 1);
        let empty = at == line.len() || line[at] == b'#';
        if let Some(top) = self.top() {
            top.open = empty;
        }
        if empty {
            return Ok(());
        }
        if col == self.line_indent {
            if matches!(line[at], b'|' | b'>') {
                let tentative = (self.line_no, col, self.depth);
                if let Some(recorded) = &mut self.outline {
                    recorded.block_item = Some(tentative);
                }
            } else {
                self.record(col, true)?;
            }
        }
        self.node(at, line, Place::Collection)
    }

    /// The node starting at `at`.
    fn node(&mut self, at: usize, line: &[u8], place: Place) -> Step {
        let first = line[at];
        if first == b'-' && is_blank_or_end(line, at + 1) {
            if place != Place::Collection {
                return Err(Unsure);
            }
            self.push(at, Kind::Seq, false)?;
            return self.item(at, line);
        }
        match first {
            b'"' | b'\'' => {
                let single = first == b'\'';
                match scan_quoted(line, at + 1, single)? {
                    QuoteEnd::Closed(end) => {
                        let colon = skip_spaces(line, end);
                        if line.get(colon) == Some(&b':') && is_blank_or_end(line, colon + 1) {
                            return self.key(at, colon, line, place);
                        }
                        if place == Place::MapKey {
                            return Err(Unsure);
                        }
                        self.scalar_done()?;
                        tail_ok(line, end)
                    }
                    QuoteEnd::Open => {
                        if place == Place::MapKey || !self.root {
                            return Err(Unsure);
                        }
                        self.mode = Mode::Quoted {
                            single,
                            min_col: self.container() + 1,
                        };
                        Ok(())
                    }
                }
            }
            b'|' | b'>' => {
                if place == Place::MapKey || !self.root {
                    return Err(Unsure);
                }
                let increment = block_header(line, at)?;
                self.mode = Mode::Block {
                    container: self.container(),
                    increment,
                    indent: None,
                    max_blank: 0,
                };
                Ok(())
            }
            b'[' | b'{' => {
                // On the line of its `- ` or key only.
                if place == Place::MapKey || !self.root || at == skip_spaces(line, 0) {
                    return Err(Unsure);
                }
                let end = scan_flow(line, at)?;
                if first == b'{' {
                    self.record_flow_map();
                }
                tail_ok(line, end)
            }
            _ if plain_start(line, at) => match scan_plain(line, at) {
                PlainEnd::Key(colon) => self.key(at, colon, line, place),
                _ if place == Place::MapKey || !self.root => Err(Unsure),
                PlainEnd::Comment => self.scalar_done(),
                PlainEnd::Line => {
                    self.mode = Mode::Plain {
                        min_col: self.container() + 1,
                    };
                    Ok(())
                }
            },
            _ => Err(Unsure),
        }
    }

    /// A one-line scalar that is not a key: nothing to check beyond it.
    fn scalar_done(&mut self) -> Step {
        if self.root {
            Ok(())
        } else {
            Err(Unsure)
        }
    }

    /// A key from `at` to its `:` at `colon`, then its value.
    fn key(&mut self, at: usize, colon: usize, line: &[u8], place: Place) -> Step {
        if colon - at > MAX_KEY {
            return Err(Unsure);
        }
        match place {
            Place::Value => return Err(Unsure),
            Place::Collection => self.push(at, Kind::Map, false)?,
            Place::MapKey => {}
        }
        let starts_line = at == self.line_indent;
        if starts_line {
            self.record(at, false)?;
        }
        let value = skip_spaces(line, colon + 1);
        if value == line.len() || line[value] == b'#' {
            if let Some(top) = self.top() {
                top.open = true;
            }
            if starts_line {
                self.record_open(line);
            }
            return Ok(());
        }
        if let Some(top) = self.top() {
            top.open = false;
        }
        self.node(value, line, Place::Value)
    }

    fn finish(&mut self) -> Step {
        match self.mode {
            // The end of the text inside a quoted scalar.
            Mode::Quoted { .. } => Err(Unsure),
            // A block scalar with no text line: marked at its header.
            Mode::Block { indent: None, .. } => {
                if let Some((line, col, depth)) =
                    self.outline.as_mut().and_then(|r| r.block_item.take())
                {
                    self.record_at(line, col, true, depth)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// For the tests: whether the outline recorded here for `document` equals
/// yaml-rust2's (`region.rs`'s scan); `None` when the fast path is unsure.
#[doc(hidden)]
pub fn outline_agrees(document: &str) -> Option<bool> {
    let lines = crate::text::LineIndex::new(document).line_count();
    let fast = outline(document, lines)?;
    Some(crate::region::parser_outline(document) == Some(fast))
}

/// For the tests: of the documents of `text` that hold no tree (cut as the
/// analysis cuts them, judged by [`crate::relevance::may_matter`] with the
/// built-in kinds), the bytes in all and the bytes of those answered
/// "certainly valid".
#[doc(hidden)]
pub fn coverage(text: &str) -> (usize, usize) {
    let kinds = &crate::Options::builtin().kinds;
    let body_start = if text.starts_with(crate::BOM) {
        crate::BOM.len()
    } else {
        0
    };
    let (mut all, mut certain) = (0, 0);
    for chunk in crate::split::split_documents(text, body_start) {
        let body = &text[chunk.range.start..chunk.range.end];
        if !chunk.has_content || chunk.has_directive || crate::relevance::may_matter(body, kinds) {
            continue;
        }
        all += body.len();
        if certainly_valid(body) {
            certain += body.len();
        }
    }
    (all, certain)
}
