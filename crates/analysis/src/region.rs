//! Edits that cost the edit: inside a document that holds no tree (a CRD, a
//! ConfigMap: whatever [`crate::relevance::may_matter`] says cannot hold a
//! workload or a ServiceAccount), an edit re-reads only the smallest block
//! region around it, parsed on its own.
//!
//! Such a document's whole result is whether yaml-rust2 reads it (and what
//! Kubernetes' decoder refuses, see `cluster_strictness.rs`): no tree, no
//! workloads. So a document is kept this way only when it reads without any
//! syntax error, and an edit keeps it that way only when the region it lands
//! in still reads on its own *and* still fits its place. Anything else goes
//! back to parsing the whole document (`incremental.rs`), which finds the
//! error and words it.
//!
//! What is kept per document is an [`Outline`]: for each line, whether a
//! block entry (a mapping key or a `-` item of a block collection) is the
//! first thing on it, at which column and nesting depth, as the parser saw
//! it; and where each line starts. Four bytes each, so a 1.4 MB CRD of 23,000
//! lines keeps about 190 KB.
//!
//! A region is the lines of one entry: from the line where it starts (column
//! `n`, at least 1) to the next entry line that ends it (a column left of
//! `n`, or at `n` a sibling: any entry for a `-` item, a key for a key). The
//! parser's state at the region's first line depends only on the text before
//! it, which the edit left alone; the new region starts with the same kind of
//! entry at the same column, every other line of it with content is indented
//! at least `n`, so nothing inside it reaches the indentation of what encloses
//! it; it reads on its own as one block collection of that kind at column
//! `n`, whose entries become entries of the enclosing collection in place;
//! and what follows starts at a line that ended the entry before and is
//! unchanged. Then the whole document reads without error exactly when the
//! region does. The region may hold no anchor or alias (the document none at
//! all), no tab where Kubernetes' decoder may refuse one, no lone CR, no NUL
//! and no backslash (which would make the document one that needs a tree).
//! An edit inside the first line of a key whose value starts on a later line
//! (`properties:`) re-reads that line alone when it is still a bare key.

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

use crate::kinds::WorkloadKinds;
use crate::relevance::ObjectKeys;
use crate::split::Chunk;
use crate::text::{LineIndex, TextRange};
use crate::tree::MAX_DEPTH;

/// Column + 1 of the entry that starts a line (0: none).
pub(crate) const COLUMN: u32 = 0x3fff;
/// The entry is a `-` item (else a mapping key).
pub(crate) const DASH: u32 = 1 << 14;
/// A key whose line holds nothing after its `:` but blanks or a comment.
pub(crate) const OPEN: u32 = 1 << 15;
pub(crate) const DEPTH_SHIFT: u32 = 16;
/// A flow mapping starts on the line (`{`, or `? ` inside a flow
/// collection; here any flow mapping): from there on yaml-rust2 reads a flow sequence's `: x`
/// otherwise (its scanner's `flow_mapping_started` is never reset), so the
/// lines after the first of these do not read alone as they read in place.
pub(crate) const FLOW_MAP: u32 = 1 << 31;
pub(crate) const DEPTH: u32 = 0x7fff;
/// No such line.
const NONE: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Entry(u32);

impl Entry {
    fn new(column: usize, dash: bool, depth: usize) -> Option<Self> {
        (column + 1 < COLUMN as usize && depth <= DEPTH as usize).then(|| {
            Entry(
                (column as u32 + 1) | if dash { DASH } else { 0 } | ((depth as u32) << DEPTH_SHIFT),
            )
        })
    }

    fn column(self) -> Option<usize> {
        match self.0 & COLUMN {
            0 => None,
            c => Some(c as usize - 1),
        }
    }

    fn dash(self) -> bool {
        self.0 & DASH != 0
    }

    fn open(self) -> bool {
        self.0 & OPEN != 0
    }

    fn depth(self) -> usize {
        ((self.0 >> DEPTH_SHIFT) & DEPTH) as usize
    }
}

/// What the region path keeps of a document that reads without error and
/// holds no tree (see the module's documentation).
pub(crate) struct Outline {
    /// Where each line starts, relative to the document (lines end at LF or
    /// CRLF: a document with a lone CR has no outline).
    line_starts: Vec<u32>,
    /// Per line: the [`Entry`] that starts it (0: none).
    entries: Vec<u32>,
    /// The first line with an `apiVersion` key, a `kind` key, a root `kind`
    /// key ([`ObjectKeys`]'s three), or [`NONE`].
    key_lines: [u32; 3],
    /// The first line with [`FLOW_MAP`], or [`NONE`].
    flow_map_line: u32,
}

/// The outline of `text`, a document cut as `chunk` (relative to `text`),
/// when it holds no tree and reads without error; `None` otherwise (then the
/// document is parsed as any other).
pub(crate) fn read_document(
    text: &str,
    chunk: &Chunk,
    kinds: &WorkloadKinds,
    at_file_start: bool,
    after_end: bool,
) -> Option<Outline> {
    if !chunk.has_content
        || chunk.has_directive
        || text.len() >= u32::MAX as usize
        || !plain_bytes(text)
        || crate::relevance::may_matter(text, kinds)
    {
        return None;
    }
    let line_index = LineIndex::new(text);
    let line_starts: Vec<u32> = (0..line_index.line_count())
        .map(|l| line_index.line_start(l) as u32)
        .collect();
    // The fast path (`syntax_scan.rs`) records the same outline without
    // yaml-rust2 when it is sure the document reads; else yaml-rust2 scans.
    let (entries, flow_map_line) = match crate::syntax_scan::outline(text, line_starts.len()) {
        Some(outline) => outline,
        None => {
            let scan = scan(text, &line_starts, 0)?;
            (scan.entries, scan.flow_map_line)
        }
    };
    let whole = Chunk {
        range: TextRange::new(0, text.len()),
        first_line: 0,
        ..*chunk
    };
    // What Kubernetes' decoder refuses (content on the `---` line).
    let refused = crate::cluster_strictness::refusals(
        text,
        &line_index,
        whole,
        Some(&[]),
        at_file_start,
        after_end,
    );
    if !refused.is_empty() {
        return None;
    }
    let mut key_lines = [NONE; 3];
    find_key_lines(text, &line_starts, 0, &mut key_lines);
    Some(Outline {
        line_starts,
        flow_map_line: flow_map_line.map_or(NONE, |l| l as u32),
        entries,
        key_lines,
    })
}

/// No NUL (an error), no backslash (an escape can spell any kind: the
/// document would need a tree), no byte-order mark (which the keys of the
/// file's first line step over), no lone CR (kubectl reads lines
/// otherwise), no tab where Kubernetes' decoder may refuse one.
fn plain_bytes(text: &str) -> bool {
    let bytes = text.as_bytes();
    if memchr::memchr2(0, b'\\', bytes).is_some()
        || memchr::memmem::find(bytes, crate::BOM.as_bytes()).is_some()
    {
        return false;
    }
    for cr in memchr::memchr_iter(b'\r', bytes) {
        if bytes.get(cr + 1) != Some(&b'\n') {
            return false;
        }
    }
    if memchr::memchr(b'\t', bytes).is_none() {
        return true;
    }
    // A tab whose line holds only blanks and indicators before it (as
    // `cluster_strictness::has_suspect_tab` looks for).
    bytes.split(|&b| b == b'\n').all(|line| {
        memchr::memchr(b'\t', line).is_none_or(|tab| {
            !line[..tab]
                .iter()
                .all(|b| matches!(b, b' ' | b'-' | b'?' | b':'))
        })
    })
}

/// [`ObjectKeys::of`] a text that does not start the file: a byte-order
/// mark at its start is a character of its first line, not the file's mark
/// (which `ObjectKeys::of` steps over).
pub(crate) fn keys_inside(text: &str) -> ObjectKeys {
    if text.starts_with(crate::BOM) {
        // Any other character before it reads the same.
        ObjectKeys::of(&format!("x{text}"))
    } else {
        ObjectKeys::of(text)
    }
}

/// The first line of `text` (whose lines start at `line_starts`, numbered
/// from `first`) holding each of [`ObjectKeys`]' keys, where `found` has none.
fn find_key_lines(text: &str, line_starts: &[u32], first: u32, found: &mut [u32; 3]) {
    for (i, &start) in line_starts.iter().enumerate() {
        if found.iter().all(|&l| l != NONE) {
            return;
        }
        let end = line_starts
            .get(i + 1)
            .map_or(text.len(), |&next| next as usize);
        let keys = keys_inside(&text[start as usize..end]);
        for (slot, has) in found
            .iter_mut()
            .zip([keys.api_version, keys.kind, keys.root_kind])
        {
            if has && *slot == NONE {
                *slot = first + i as u32;
            }
        }
    }
}

/// The outline of one reading.
struct Scan {
    /// Per line of the text read.
    entries: Vec<u32>,
    /// The deepest nesting reached.
    depth: usize,
    /// The first collection: a block mapping (else a sequence), and its
    /// mark's line (1-based) and column.
    first: Option<(bool, usize, usize)>,
    /// The first key of the outermost mapping: line (1-based), column.
    first_key: Option<(usize, usize)>,
    /// Flow collections read.
    flows: usize,
    /// The first line with [`FLOW_MAP`].
    flow_map_line: Option<usize>,
    /// Node events seen.
    nodes: usize,
    /// The one value of a one-entry mapping is an empty plain scalar with
    /// no tag.
    bare_value: bool,
}

struct Frame {
    block: bool,
    mapping: bool,
    expect_key: bool,
    /// The line of the key waiting for its value, when an entry starts it.
    key_line: Option<usize>,
    /// A block mapping that is an item of a block sequence: the item's
    /// depth, until its first key shows where the `-` stands.
    item_dash: Option<usize>,
}

/// Whether `row` starts with a `-` item whose node starts at `column`.
fn dash_first(row: &[u8], indent: usize, column: usize) -> bool {
    row.get(indent) == Some(&b'-')
        && column > indent + 1
        && row
            .get(indent + 1..column)
            .is_some_and(|gap| gap.iter().all(|&b| b == b' '))
}

/// Whether a key's line ends at its `:` (blanks aside), with no comment.
fn bare_key_line(row: &[u8]) -> bool {
    let code = row.trim_ascii_end();
    code.ends_with(b":") && memchr::memchr(b'#', code).is_none()
}

/// Reads `text` with yaml-rust2 and records its outline; `None` on an
/// error, an anchor or alias, more than one document, or nesting deeper than
/// [`MAX_DEPTH`] below `base_depth` enclosing collections.
fn scan(text: &str, line_starts: &[u32], base_depth: usize) -> Option<Scan> {
    let bytes = text.as_bytes();
    let mut entries = vec![0u32; line_starts.len()];
    let mut stack: Vec<Frame> = Vec::new();
    let mut flow = 0usize;
    let mut documents = 0;
    let mut out = Scan {
        entries: Vec::new(),
        depth: 0,
        first: None,
        first_key: None,
        flows: 0,
        flow_map_line: None,
        nodes: 0,
        bare_value: false,
    };
    let line_bytes = |line: usize| {
        let start = line_starts[line] as usize;
        let end = line_starts
            .get(line + 1)
            .map_or(bytes.len(), |&e| e as usize);
        &bytes[start..end]
    };
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, mark) = parser.next_token().ok()?;
        let line = mark.line().max(1) - 1;
        let column = mark.col();
        let mut block_scalar = false;
        let (collection, tagged) = match &event {
            Event::StreamEnd => break,
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => continue,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return None;
                }
                continue;
            }
            Event::Alias(_) => return None,
            Event::MappingEnd | Event::SequenceEnd => {
                if stack.pop().is_some_and(|f| !f.block) {
                    flow -= 1;
                }
                continue;
            }
            Event::Scalar(value, style, anchor, tag) => {
                if *anchor != 0 {
                    return None;
                }
                block_scalar = matches!(style, TScalarStyle::Literal | TScalarStyle::Folded);
                if out.nodes == 2 && stack.len() == 1 {
                    out.bare_value =
                        value.is_empty() && *style == TScalarStyle::Plain && tag.is_none();
                }
                (None, tag.is_some())
            }
            Event::MappingStart(anchor, tag) | Event::SequenceStart(anchor, tag) => {
                if *anchor != 0 {
                    return None;
                }
                (
                    Some(matches!(event, Event::MappingStart(..))),
                    tag.is_some(),
                )
            }
        };
        out.nodes += 1;
        // The node as an entry of the block collection holding it (an
        // empty value may be marked past the last line).
        let row = if line < line_starts.len() {
            line_bytes(line)
        } else {
            &[]
        };
        // (Counted only where an entry may start the line.)
        let indent = || row.iter().take_while(|&&b| b == b' ').count();
        let depth = base_depth + stack.len();
        // A collection: a mapping (else a sequence), and whether in block
        // style (a block mapping's mark is its first key's `:`).
        let opened = collection.map(|mapping| {
            let at = char_offset(row, column);
            (
                mapping,
                flow == 0 && !matches!(row.get(at), Some(b'[' | b'{')),
            )
        });
        let mut deferred_dash = None;
        let root = stack.len() == 1;
        match stack.last_mut() {
            Some(frame) if frame.block && frame.mapping && frame.expect_key => {
                frame.expect_key = false;
                frame.key_line = None;
                if root && out.first_key.is_none() {
                    out.first_key = Some((mark.line(), column));
                }
                let indent = indent();
                // A mapping that is a `-` item: its first key says where
                // the item starts.
                if let Some(item_depth) = frame.item_dash.take() {
                    if line < entries.len()
                        && entries[line] & COLUMN == 0
                        && dash_first(row, indent, column)
                    {
                        if let Some(entry) = Entry::new(indent, true, item_depth) {
                            entries[line] = entry.0;
                        }
                    }
                }
                if line < entries.len() && indent == column && entries[line] & COLUMN == 0 {
                    if let Some(entry) = Entry::new(column, false, depth) {
                        entries[line] = entry.0;
                        frame.key_line = Some(line);
                    }
                }
            }
            Some(frame) if frame.block && frame.mapping => {
                frame.expect_key = true;
                if let Some(key_line) = frame.key_line.take() {
                    // `key:` alone on its line (not `key: |`, `key: !t`).
                    if line > key_line
                        && !tagged
                        && !block_scalar
                        && bare_key_line(line_bytes(key_line))
                    {
                        entries[key_line] |= OPEN;
                    }
                }
            }
            Some(frame) if frame.block => {
                let indent = indent();
                if opened == Some((true, true)) {
                    deferred_dash = Some(depth);
                } else if line < entries.len()
                    && entries[line] & COLUMN == 0
                    && dash_first(row, indent, column)
                {
                    if let Some(entry) = Entry::new(indent, true, depth) {
                        entries[line] = entry.0;
                    }
                }
            }
            _ => {}
        }
        if let Some((mapping, block)) = opened {
            if !block {
                flow += 1;
                out.flows += 1;
                // Every flow mapping counts (`{`, `? ` in a flow sequence,
                // and the `a: 1` pairs that do not set the state): a line
                // too early is only a region refused.
                if mapping && line < entries.len() {
                    entries[line] |= FLOW_MAP;
                    out.flow_map_line.get_or_insert(line);
                }
            }
            if out.first.is_none() {
                out.first = Some(match block {
                    true => (mapping, mark.line(), column),
                    // A flow collection first: never a region.
                    false => (false, 0, usize::MAX),
                });
            }
            stack.push(Frame {
                block,
                mapping,
                expect_key: true,
                key_line: None,
                item_dash: deferred_dash,
            });
            if depth + 1 > MAX_DEPTH {
                return None;
            }
            out.depth = out.depth.max(stack.len());
        }
    }
    out.entries = entries;
    Some(out)
}

/// The byte of `row` where its `column`-th character starts.
fn char_offset(row: &[u8], column: usize) -> usize {
    if row.len() >= column && row[..column].is_ascii() {
        return column;
    }
    std::str::from_utf8(row)
        .ok()
        .and_then(|s| s.char_indices().nth(column).map(|(i, _)| i))
        .unwrap_or(row.len())
}

/// Where a region lies, in lines of the document before the edit.
#[derive(Clone, Copy)]
struct Region {
    first: usize,
    /// The line after it (the line count when it runs to the end).
    end: usize,
    column: usize,
    dash: bool,
    depth: usize,
    /// Only the first line of an open key.
    bare_key: bool,
}

impl Outline {
    /// The document's [`ObjectKeys`].
    pub(crate) fn keys(&self) -> ObjectKeys {
        ObjectKeys {
            api_version: self.key_lines[0] != NONE,
            kind: self.key_lines[1] != NONE,
            root_kind: self.key_lines[2] != NONE,
        }
    }

    /// Where the last line holding bytes starts, in a document of `len`
    /// bytes: a closed document's `...` line.
    pub(crate) fn last_line_start(&self, len: usize) -> usize {
        self.line_starts
            .iter()
            .rev()
            .find(|&&s| (s as usize) < len)
            .map_or(0, |&s| s as usize)
    }

    fn entry(&self, line: usize) -> Option<Entry> {
        let entry = Entry(self.entries[line]);
        entry.column().map(|_| entry)
    }

    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s as usize <= offset) - 1
    }

    /// Whether the entry line `line` ends an entry at `column` (a `-` item
    /// when `dash`).
    fn ends(&self, line: usize, column: usize, dash: bool) -> bool {
        self.entry(line).is_some_and(|e| {
            let c = e.column().unwrap_or(0);
            c < column || (c == column && (dash || !e.dash()))
        })
    }

    /// The smallest entry whose lines hold `first..=last`, at column 1 or
    /// more.
    fn enclosing(&self, first: usize, last: usize) -> Option<Region> {
        // The entries of lines after the candidate up to `last`: the
        // smallest column, and whether a key stands there.
        let mut min_column = usize::MAX;
        let mut key_at_min = false;
        let note = |entry: Option<Entry>, min_column: &mut usize, key_at_min: &mut bool| {
            if let Some(e) = entry {
                let c = e.column().unwrap_or(0);
                if c < *min_column {
                    *min_column = c;
                    *key_at_min = !e.dash();
                } else if c == *min_column {
                    *key_at_min |= !e.dash();
                }
            }
        };
        for line in first + 1..=last {
            note(self.entry(line), &mut min_column, &mut key_at_min);
        }
        let mut line = first;
        loop {
            if min_column == 0 {
                return None;
            }
            if let Some(e) = self.entry(line) {
                let c = e.column().unwrap_or(0);
                let covers = min_column > c || (min_column == c && !e.dash() && !key_at_min);
                if covers && c >= 1 {
                    let end = (last + 1..self.entries.len())
                        .find(|&l| self.ends(l, c, e.dash()))
                        .unwrap_or(self.entries.len());
                    return Some(Region {
                        first: line,
                        end,
                        column: c,
                        dash: e.dash(),
                        depth: e.depth(),
                        bare_key: false,
                    });
                }
                note(Some(e), &mut min_column, &mut key_at_min);
            }
            line = line.checked_sub(1)?;
        }
    }

    /// Takes an edit that replaced `old` (relative to the document of
    /// `len` bytes before it, strictly inside it) with `new_len` bytes, if
    /// a region can: reads the region's new text with `text_of` (relative
    /// to the document after the edit) and returns how many bytes it read.
    /// `None`: the document must be parsed whole (the outline is then stale).
    pub(crate) fn reread(
        &mut self,
        len: usize,
        old: TextRange,
        new_len: usize,
        text_of: &dyn Fn(TextRange) -> String,
    ) -> Option<usize> {
        let first = self.line_of(old.start);
        let last = self.line_of(old.end);
        if first == last {
            if let Some(read) = self.try_leading_comment(first, len, old, new_len, text_of) {
                return Some(read);
            }
        }
        if first == last && last + 1 < self.entries.len() {
            if let Some(e) = self.entry(first).filter(|e| e.open() && !e.dash()) {
                let bare = Region {
                    first,
                    end: first + 1,
                    column: e.column().unwrap_or(0),
                    dash: false,
                    depth: e.depth(),
                    bare_key: true,
                };
                if let Some(read) = self.try_region(bare, len, old, new_len, text_of) {
                    return Some(read);
                }
            }
        }
        let region = self.enclosing(first, last)?;
        self.try_region(region, len, old, new_len, text_of)
    }

    /// An edit inside a comment on a line before the document's first entry
    /// (where nothing but comments, blanks and its `---` stand), that
    /// leaves it a comment on one line: nothing else to read.
    fn try_leading_comment(
        &mut self,
        line: usize,
        len: usize,
        old: TextRange,
        new_len: usize,
        text_of: &dyn Fn(TextRange) -> String,
    ) -> Option<usize> {
        // The first entry comes after the line and is the root's own: the
        // line stands before all content.
        let first_entry = (0..self.entries.len()).find_map(|l| self.entry(l).map(|e| (l, e)));
        if !first_entry.is_some_and(|(l, e)| l > line && e.depth() == 1)
            || self.key_lines.contains(&(line as u32))
        {
            return None;
        }
        let delta = new_len as isize - old.len() as isize;
        let start = self.line_starts[line] as usize;
        let old_end = self.line_starts.get(line + 1).map_or(len, |&s| s as usize);
        let text = text_of(TextRange::new(start, old_end.checked_add_signed(delta)?));
        let row = text.as_bytes();
        let hash = row.iter().position(|&b| b != b' ')?;
        let breaks = memchr::memchr_iter(b'\n', row).count();
        let last_line = line + 1 == self.line_starts.len();
        if row[hash] != b'#'
            || start + hash >= old.start
            || breaks != usize::from(!last_line)
            || (!last_line && !text.ends_with('\n'))
            || !plain_bytes(&text)
            || keys_inside(&text) != ObjectKeys::default()
        {
            return None;
        }
        for s in &mut self.line_starts[line + 1..] {
            *s = (*s as isize + delta) as u32;
        }
        Some(text.len())
    }

    fn try_region(
        &mut self,
        region: Region,
        len: usize,
        old: TextRange,
        new_len: usize,
        text_of: &dyn Fn(TextRange) -> String,
    ) -> Option<usize> {
        let delta = new_len as isize - old.len() as isize;
        let start = self.line_starts[region.first] as usize;
        let old_end = self
            .line_starts
            .get(region.end)
            .map_or(len, |&s| s as usize);
        if old.start < start
            || old.end > old_end
            || (region.end < self.entries.len() && old.end >= old_end)
        {
            return None;
        }
        let new_end = old_end.checked_add_signed(delta)?;
        let text = text_of(TextRange::new(start, new_end));
        if text.len() != new_end - start || !plain_bytes(&text) {
            return None;
        }
        // Where its lines start; the line after it is not its own.
        let mut starts = vec![0u32];
        let bytes = text.as_bytes();
        for i in memchr::memchr_iter(b'\n', bytes) {
            starts.push(i as u32 + 1);
        }
        let to_end = region.end == self.entries.len();
        if !to_end {
            if starts.last() != Some(&(text.len() as u32)) {
                return None;
            }
            starts.pop();
        }
        if region.bare_key && starts.len() != 1 {
            return None;
        }
        if !self.fits(&text, &starts, region) {
            return None;
        }
        let scan = scan(&text, &starts, region.depth - 1)?;
        let (mapping, line, _) = scan.first?;
        if mapping == region.dash || line != 1 {
            return None;
        }
        if mapping && scan.first_key != Some((1, region.column)) {
            return None;
        }
        if region.depth - 1 + scan.depth > MAX_DEPTH {
            return None;
        }
        // yaml-rust2's reading of flow sequences after a flow mapping (see
        // FLOW_MAP): before the first one, the region may hold none; after
        // it, the region (before and after the edit) may hold no flow
        // collection at all.
        let flow_map = self.flow_map_line as usize;
        if self.flow_map_line == NONE || flow_map >= region.end {
            if scan.flow_map_line.is_some() {
                return None;
            }
        } else if flow_map >= region.first
            || scan.flows > 0
            || self.entries[region.first..region.end]
                .iter()
                .any(|e| e & FLOW_MAP != 0)
        {
            return None;
        }
        let mut entries = scan.entries;
        if region.bare_key {
            // `key:` and nothing else; its value is on the lines after.
            if scan.nodes != 3 || !scan.bare_value {
                return None;
            }
            entries[0] = Entry::new(region.column, false, region.depth)?.0 | OPEN;
        }
        // The keys Kubernetes files are told by: a region may not hold the
        // first line of one (it may have been the only one).
        let old_lines = region.first as u32..region.end as u32;
        if self.key_lines.iter().any(|l| old_lines.contains(l)) {
            return None;
        }
        let line_delta = starts.len() as isize - (region.end - region.first) as isize;
        let mut found = [NONE; 3];
        if keys_inside(&text) != ObjectKeys::default() {
            if region.column == 0 {
                return None;
            }
            find_key_lines(&text, &starts, region.first as u32, &mut found);
        }
        for (line, found) in self.key_lines.iter_mut().zip(found) {
            if *line != NONE && (*line as usize) < region.first {
                continue;
            }
            *line = if found != NONE {
                found
            } else if *line == NONE {
                NONE
            } else {
                (*line as isize + line_delta) as u32
            };
        }
        if self.flow_map_line != NONE && flow_map >= region.end {
            self.flow_map_line = (flow_map as isize + line_delta) as u32;
        }
        // Splice the region's lines in.
        let shift = |s: u32| (s as isize + delta) as u32;
        for s in &mut self.line_starts[region.end..] {
            *s = shift(*s);
        }
        self.line_starts.splice(
            region.first..region.end,
            starts.iter().map(|&s| s + start as u32),
        );
        self.entries.splice(region.first..region.end, entries);
        Some(text.len())
    }

    /// Whether the new text of `region` (lines starting at `starts`) still
    /// fits its place: its first line starts the same kind of entry at the
    /// same column, and no other line with content is indented less.
    fn fits(&self, text: &str, starts: &[u32], region: Region) -> bool {
        let bytes = text.as_bytes();
        let n = region.column;
        for (i, &s) in starts.iter().enumerate() {
            let end = starts.get(i + 1).map_or(bytes.len(), |&e| e as usize);
            let row = &bytes[s as usize..end];
            let indent = row.iter().take_while(|&&b| b == b' ').count();
            let first = row.get(indent).copied();
            if i == 0 {
                if indent != n {
                    return false;
                }
                match first {
                    Some(b'-') if region.dash => {}
                    _ if region.dash => return false,
                    None
                    | Some(
                        b'\r' | b'\n' | b'\t' | b'[' | b'{' | b'?' | b'&' | b'!' | b'*' | b'|'
                        | b'>' | b'%' | b'@' | b'`' | b'#' | b',' | b'<' | b']' | b'}' | b':',
                    ) => return false,
                    _ => {}
                }
                if n == 0 {
                    // A root key: may not be a `kind`, a marker or a line
                    // that makes the document one that needs a tree.
                    let line = &text[s as usize..end];
                    if ["kind", "\"kind\"", "'kind'", "---", "...", "-"]
                        .iter()
                        .any(|p| line.starts_with(p))
                    {
                        return false;
                    }
                }
                continue;
            }
            match first {
                None | Some(b'\r' | b'\n' | b'#') => {}
                Some(_) if indent >= n && n > 0 => {}
                Some(_) => return false,
            }
        }
        true
    }
}

/// yaml-rust2's outline of a whole document (what [`read_document`] keeps),
/// for the fast path's differential test.
pub(crate) fn parser_outline(text: &str) -> Option<(Vec<u32>, Option<usize>)> {
    let index = LineIndex::new(text);
    let line_starts: Vec<u32> = (0..index.line_count())
        .map(|l| index.line_start(l) as u32)
        .collect();
    scan(text, &line_starts, 0).map(|s| (s.entries, s.flow_map_line))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outline(text: &str) -> Outline {
        let chunk = crate::split::split_documents(text, 0)[0];
        read_document(text, &chunk, &WorkloadKinds::default(), true, false).expect("an outline")
    }

    fn entries(outline: &Outline) -> Vec<Option<(usize, bool, bool, usize)>> {
        (0..outline.entries.len())
            .map(|l| {
                outline
                    .entry(l)
                    .map(|e| (e.column().unwrap_or(0), e.dash(), e.open(), e.depth()))
            })
            .collect()
    }

    #[test]
    fn the_outline_holds_the_entries_that_start_lines() {
        let text = "kind: ConfigMap\ndata:\n  a: |\n    x: 1\n  b:\n  - c\n  - d: 1\n    e: [1,\n      f: 2]\n";
        assert_eq!(
            entries(&outline(text)),
            vec![
                Some((0, false, false, 1)),
                Some((0, false, true, 1)),
                Some((2, false, false, 2)),
                None,
                Some((2, false, true, 2)),
                Some((2, true, false, 3)),
                Some((2, true, false, 3)),
                Some((4, false, false, 4)),
                None,
                None,
            ]
        );
    }

    #[test]
    fn documents_that_need_a_tree_or_do_not_read_have_none() {
        for text in [
            "kind: Pod\nspec: {}\n",
            "kind: ConfigMap\ndata: {a: \"\\x\"}\n",
            "kind: ConfigMap\ndata: &a {b: 1}\n",
            "kind: ConfigMap\ndata: [\n",
            "kind: ConfigMap\ndata:\n\t\n",
            "kind: ConfigMap\rdata: 1\r",
        ] {
            let chunk = crate::split::split_documents(text, 0)[0];
            assert!(
                read_document(text, &chunk, &WorkloadKinds::default(), true, false).is_none(),
                "{text:?}"
            );
        }
    }
}
