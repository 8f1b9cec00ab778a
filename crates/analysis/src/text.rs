//! Byte ranges, line tables and line endings of the analysed text.
//!
//! Lines end exactly where LSP and ropey (with `cr_lines`) end them: at LF, CRLF
//! or a lone CR. The analysis speaks in byte offsets; this module turns them into
//! lines and columns for whoever needs them.

/// A half-open byte range `[start, end)` into the analysed text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TextRange {
    pub start: usize,
    pub end: usize,
}

impl TextRange {
    pub const fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    pub const fn empty(at: usize) -> Self {
        Self { start: at, end: at }
    }

    pub const fn len(&self) -> usize {
        self.end - self.start
    }

    pub const fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The same range moved by `delta` bytes (used when a document is reused
    /// after an edit before it).
    pub fn shifted(self, delta: isize) -> Self {
        Self {
            start: self.start.saturating_add_signed(delta),
            end: self.end.saturating_add_signed(delta),
        }
    }
}

/// The line breaks a file can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnding {
    Lf,
    CrLf,
    Cr,
}

impl LineEnding {
    pub const fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
            LineEnding::Cr => "\r",
        }
    }

    /// The break that ends the line before byte `line_start`, if any.
    pub fn before(text: &str, line_start: usize) -> Option<LineEnding> {
        let bytes = text.as_bytes();
        if line_start == 0 || line_start > bytes.len() {
            return None;
        }
        match bytes[line_start - 1] {
            b'\n' if line_start >= 2 && bytes[line_start - 2] == b'\r' => Some(LineEnding::CrLf),
            b'\n' => Some(LineEnding::Lf),
            b'\r' => Some(LineEnding::Cr),
            _ => None,
        }
    }

    /// The first line break of the text, LF when it has none.
    pub fn first_in(text: &str) -> LineEnding {
        let bytes = text.as_bytes();
        match bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(i) if bytes[i] == b'\n' => LineEnding::Lf,
            Some(i) if bytes.get(i + 1) == Some(&b'\n') => LineEnding::CrLf,
            Some(_) => LineEnding::Cr,
            None => LineEnding::Lf,
        }
    }
}

/// Start offsets of every line of a text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineIndex {
    line_starts: LineStarts,
    len: usize,
}

/// Where lines start: four bytes a line for any text under 4 GiB (a check
/// keeps the tables of every file that reports until its output, and an
/// editor one per open file), eight beyond.
#[derive(Clone, Debug, PartialEq, Eq)]
enum LineStarts {
    Narrow(Vec<u32>),
    Wide(Vec<usize>),
}

impl Default for LineStarts {
    fn default() -> Self {
        LineStarts::Narrow(Vec::new())
    }
}

impl LineStarts {
    fn len(&self) -> usize {
        match self {
            LineStarts::Narrow(starts) => starts.len(),
            LineStarts::Wide(starts) => starts.len(),
        }
    }

    fn get(&self, line: usize) -> Option<usize> {
        match self {
            LineStarts::Narrow(starts) => starts.get(line).map(|&s| s as usize),
            LineStarts::Wide(starts) => starts.get(line).copied(),
        }
    }

    /// How many lines start at or before `offset`.
    fn starting_by(&self, offset: usize) -> usize {
        match self {
            LineStarts::Narrow(starts) => starts.partition_point(|&s| s as usize <= offset),
            LineStarts::Wide(starts) => starts.partition_point(|&s| s <= offset),
        }
    }

    fn shrink_to_fit(&mut self) {
        match self {
            LineStarts::Narrow(starts) => starts.shrink_to_fit(),
            LineStarts::Wide(starts) => starts.shrink_to_fit(),
        }
    }
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let line_starts = if u32::try_from(text.len()).is_ok() {
            LineStarts::Narrow(starts_of(text.as_bytes(), |i| i as u32))
        } else {
            LineStarts::Wide(starts_of(text.as_bytes(), |i| i))
        };
        Self {
            line_starts,
            len: text.len(),
        }
    }

    /// Gives back the room the table was built with beyond its lines (for
    /// a table kept long).
    pub fn shrink_to_fit(&mut self) {
        self.line_starts.shrink_to_fit();
    }

    /// Number of lines; a text ending in a break has an empty last line.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The 0-based line holding byte `offset` (clamped to the text).
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.len);
        self.line_starts.starting_by(offset).saturating_sub(1)
    }

    /// Byte offset where `line` starts (clamped to the last line).
    pub fn line_start(&self, line: usize) -> usize {
        let last = self.line_starts.len().saturating_sub(1);
        self.line_starts.get(line.min(last)).unwrap_or(0)
    }

    /// Byte offset where the line after `line` starts (the text's end for
    /// the last line).
    pub(crate) fn next_line_start(&self, line: usize) -> usize {
        self.line_starts.get(line + 1).unwrap_or(self.len)
    }

    /// The lines of `text[range]` without their breaks, as that piece cut
    /// at every LF, CRLF and lone CR would give them (the first starts at
    /// `range.start`, the last ends at `range.end`), found in the table
    /// instead of searched for; the pieces between the CR and the LF of a
    /// CRLF are not given (they are empty).
    pub(crate) fn lines_in<'t>(
        &'t self,
        text: &'t str,
        range: TextRange,
    ) -> impl Iterator<Item = &'t str> + 't {
        let first = self.line_of(range.start);
        let end = range.end.min(text.len());
        (first..self.line_starts.len())
            .map(move |line| {
                let start = self.line_start(line);
                (start.max(range.start), self.next_line_start(line))
            })
            .take_while(move |&(start, _)| start < end)
            .map(move |(start, next)| {
                let bytes = text.as_bytes();
                let mut stop = next.min(end);
                // (Only the line's last bytes can be its break.)
                while stop > start && matches!(bytes[stop - 1], b'\n' | b'\r') {
                    stop -= 1;
                }
                text.get(start..stop).unwrap_or_default()
            })
    }

    /// Byte offset where `line`'s content ends, before its break.
    pub fn line_end(&self, text: &str, line: usize) -> usize {
        let next = self.next_line_start(line);
        let bytes = text.as_bytes();
        let mut end = next.min(bytes.len());
        if end > self.line_start(line) && bytes[end - 1] == b'\n' {
            end -= 1;
        }
        if end > self.line_start(line) && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        end
    }

    /// The content of `line` without its break.
    pub fn line_text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        &text[self.line_start(line)..self.line_end(text, line)]
    }

    /// 0-based line and 0-based column counted in Unicode scalar values.
    pub fn line_col_chars(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(text, offset);
        let line = self.line_of(offset);
        // A table of another text must not make this panic.
        let start = floor_char_boundary(text, self.line_start(line).min(offset));
        let col = text[start..offset].chars().count();
        (line, col)
    }

    /// Byte offset of the `col`-th character of `line`, clamped to the line's end.
    pub fn offset_of_char(&self, text: &str, line: usize, col: usize) -> usize {
        let start = self.line_start(line);
        let end = self.line_end(text, line);
        text[start..end]
            .char_indices()
            .nth(col)
            .map_or(end, |(i, _)| start + i)
    }
}

/// Where the lines of `bytes` start (LF, CRLF and lone CR end a line),
/// each offset as `narrow` makes it.
fn starts_of<T>(bytes: &[u8], narrow: impl Fn(usize) -> T) -> Vec<T> {
    let mut starts = Vec::with_capacity(bytes.len() / 40 + 1);
    starts.push(narrow(0));
    if memchr::memchr(b'\r', bytes).is_none() {
        // (Most texts: one byte to look for is found faster than two.)
        starts.extend(memchr::memchr_iter(b'\n', bytes).map(|i| narrow(i + 1)));
    } else {
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            // The CR of a CRLF is not a line end of its own: its LF is.
            if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                continue;
            }
            starts.push(narrow(i + 1));
        }
    }
    starts
}

/// The largest char boundary at or before `offset` (clamped to the text).
pub fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_at_lf_crlf_and_lone_cr() {
        let text = "a\nb\r\nc\rd";
        let index = LineIndex::new(text);
        assert_eq!(index.line_count(), 4);
        assert_eq!(index.line_text(text, 0), "a");
        assert_eq!(index.line_text(text, 1), "b");
        assert_eq!(index.line_text(text, 2), "c");
        assert_eq!(index.line_text(text, 3), "d");
        assert_eq!(index.line_of(3), 1);
        assert_eq!(index.line_of(4), 1, "the LF of a CRLF belongs to its line");
    }

    proptest::proptest! {
        /// The table of a text is where its breaks are, whichever way it
        /// is searched.
        #[test]
        fn lines_start_after_every_break(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec!["a", "\n", "\r", "\r\n", "é", "\n\n", "bcdefgh"]),
                0..40,
            )
        ) {
            let text: String = pieces.concat();
            let bytes = text.as_bytes();
            let mut expected = vec![0];
            for (i, &b) in bytes.iter().enumerate() {
                let crlf = b == b'\r' && bytes.get(i + 1) == Some(&b'\n');
                if (b == b'\n' || b == b'\r') && !crlf {
                    expected.push(i + 1);
                }
            }
            let index = LineIndex::new(&text);
            let starts: Vec<usize> = (0..index.line_count()).map(|l| index.line_start(l)).collect();
            proptest::prop_assert_eq!(&starts, &expected);
            proptest::prop_assert!(matches!(index.line_starts, LineStarts::Narrow(_)));
            proptest::prop_assert_eq!(index.len, text.len());
            // A text of 4 GiB or more keeps eight bytes a line: the same
            // answers (the wide table built here for a small text).
            let wide = LineIndex {
                line_starts: LineStarts::Wide(starts_of(bytes, |i| i)),
                len: text.len(),
            };
            for offset in 0..=text.len() + 1 {
                proptest::prop_assert_eq!(wide.line_of(offset), index.line_of(offset));
            }
            for line in 0..index.line_count() + 1 {
                proptest::prop_assert_eq!(wide.line_start(line), index.line_start(line));
                proptest::prop_assert_eq!(wide.line_end(&text, line), index.line_end(&text, line));
                proptest::prop_assert_eq!(wide.next_line_start(line), index.next_line_start(line));
            }
            let whole = TextRange::new(0, text.len());
            proptest::prop_assert!(wide.lines_in(&text, whole).eq(index.lines_in(&text, whole)));
        }
    }

    #[test]
    fn an_empty_table_answers_line_zero() {
        let index = LineIndex::default();
        assert_eq!(index.line_of(7), 0);
        assert_eq!(index.line_start(3), 0);
    }

    #[test]
    fn trailing_break_opens_an_empty_line() {
        let index = LineIndex::new("a\n");
        assert_eq!(index.line_count(), 2);
        assert_eq!(index.line_start(1), 2);
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "name: héllo: x";
        let index = LineIndex::new(text);
        let colon = text.rfind(':').unwrap();
        assert_eq!(index.line_col_chars(text, colon), (0, 11));
        assert_eq!(index.offset_of_char(text, 0, 11), colon);
        assert_eq!(index.offset_of_char(text, 0, 99), text.len());
    }

    #[test]
    fn line_endings_are_detected() {
        assert_eq!(LineEnding::first_in("a\r\nb\n"), LineEnding::CrLf);
        assert_eq!(LineEnding::first_in("a\rb"), LineEnding::Cr);
        assert_eq!(LineEnding::first_in("ab"), LineEnding::Lf);
        assert_eq!(LineEnding::before("a\r\nb", 3), Some(LineEnding::CrLf));
        assert_eq!(LineEnding::before("a\rb", 2), Some(LineEnding::Cr));
        assert_eq!(LineEnding::before("ab", 1), None);
    }
}
