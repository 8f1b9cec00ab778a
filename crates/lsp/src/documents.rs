//! Open documents: their text, kept in a rope and edited incrementally.

use std::sync::Arc;

use ropey::Rope;
use tokenguard_analysis::TextRange;
use tower_lsp_server::ls_types::{TextDocumentContentChangeEvent, Uri};

use crate::positions::{to_text_range, Encoding};

/// An immutable snapshot of an open document. Edits make a new snapshot
/// (ropes share their unchanged chunks), so readers never wait for writers.
#[derive(Clone, Debug)]
pub struct Document {
    /// The URI the client opened the document with: what it is sent back
    /// (the server's maps are keyed by `identity::DocumentKey`).
    pub uri: Uri,
    /// The client's version.
    pub version: i32,
    /// Ours: grows with every change, even when the client's version does not.
    pub revision: u64,
    pub rope: Rope,
    /// The edits since the document's analysis was last brought up to date,
    /// so the next analysis re-parses only what they touched.
    pub edits: Arc<EditLog>,
    /// False only when the text certainly holds no `{{`, so no Helm template
    /// action: kept from change to change (see
    /// [`crate::helm::may_hold_actions_after`]) so that a large plain
    /// document is not searched whole at every keystroke.
    pub may_hold_actions: bool,
    /// The text the client opened the document with, while no analysis
    /// took it: the first analysis reads it instead of copying the rope
    /// out (a snapshot of another revision has none).
    pub opened: Option<Arc<OpenedText>>,
}

/// A document's text as it was opened, taken once (see [`Document::opened`]).
#[derive(Debug, Default)]
pub struct OpenedText(parking_lot::Mutex<Option<String>>);

impl OpenedText {
    pub fn new(text: String) -> Self {
        Self(parking_lot::Mutex::new(Some(text)))
    }

    /// The text, the first time only.
    pub fn take(&self) -> Option<String> {
        self.0.lock().take()
    }
}

/// Texts from this size up are made into a rope in two halves at once.
const PARALLEL_ROPE: usize = 1 << 20;

/// The rope of `text`; a large text is built in two halves on two
/// threads, cut after a line break (so no CRLF pair is cut) and joined.
pub fn rope_of(text: &str) -> Rope {
    if text.len() < PARALLEL_ROPE {
        return Rope::from_str(text);
    }
    let middle = text.len() / 2;
    let Some(cut) = memchr::memchr(b'\n', &text.as_bytes()[middle..]).map(|i| middle + i + 1)
    else {
        return Rope::from_str(text);
    };
    let (head, tail) = text.split_at(cut);
    let (mut rope, tail) = rayon::join(|| Rope::from_str(head), || Rope::from_str(tail));
    rope.append(tail);
    rope
}

/// One change of the text, in bytes of the text it applied to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteChange {
    Replace {
        old: TextRange,
        new_len: usize,
    },
    /// The whole text replaced.
    Full,
}

/// Every change after revision `base`, with the revision it made.
#[derive(Clone, Debug, Default)]
pub struct EditLog {
    pub base: u64,
    pub entries: Vec<(u64, ByteChange)>,
}

impl EditLog {
    /// This log without what an analysis at `analysed` already took in, plus
    /// `changes` made by `revision`.
    pub fn advanced(&self, analysed: u64, revision: u64, changes: &[ByteChange]) -> EditLog {
        let base = self.base.max(analysed);
        let mut entries: Vec<(u64, ByteChange)> = self
            .entries
            .iter()
            .filter(|(r, _)| *r > base)
            .copied()
            .collect();
        entries.extend(changes.iter().map(|c| (revision, *c)));
        EditLog { base, entries }
    }

    /// The changes after `from` (up to the snapshot's own revision) as one
    /// edit of the text at `from`; `Some(None)` when there were none, `None`
    /// when they cannot be composed (a full replacement, or changes the log
    /// no longer holds).
    pub fn composed_since(&self, from: u64) -> Option<Option<(TextRange, usize)>> {
        if from < self.base {
            return None;
        }
        // The dirty region: [start, old_end) before, [start, new_end) after.
        let mut dirty: Option<(usize, usize, usize)> = None;
        for (_, change) in self.entries.iter().filter(|(r, _)| *r > from) {
            let ByteChange::Replace { old, new_len } = *change else {
                return None;
            };
            let (a, b, m) = (old.start, old.end, new_len);
            dirty = Some(match dirty {
                None => (a, b, a + m),
                Some((start, old_end, new_end)) => {
                    let shift = new_end as isize - old_end as isize;
                    let old_end = if b > new_end {
                        old_end.max((b as isize - shift) as usize)
                    } else {
                        old_end
                    };
                    let new_end =
                        (new_end.max(b) as isize + m as isize - (b - a) as isize) as usize;
                    (start.min(a), old_end, new_end)
                }
            });
        }
        Some(
            dirty
                .map(|(start, old_end, new_end)| (TextRange::new(start, old_end), new_end - start)),
        )
    }
}

/// Applies the changes of one didChange, in order. Returns each change in
/// bytes, and a note for each change that had to be clamped to the text.
pub fn apply_changes(
    rope: &mut Rope,
    changes: &[TextDocumentContentChangeEvent],
    encoding: Encoding,
) -> (Vec<ByteChange>, Vec<String>) {
    let mut notes = Vec::new();
    let mut applied = Vec::with_capacity(changes.len());
    for change in changes {
        match change.range {
            None => {
                *rope = rope_of(&change.text);
                applied.push(ByteChange::Full);
            }
            Some(range) => {
                let (bytes, clamped) = to_text_range(rope, range, encoding);
                if clamped {
                    notes.push(format!(
                        "change range {}:{}-{}:{} is outside the text; clamped",
                        range.start.line,
                        range.start.character,
                        range.end.line,
                        range.end.character
                    ));
                }
                let start = rope.byte_to_char(bytes.start);
                let end = rope.byte_to_char(bytes.end);
                rope.remove(start..end);
                rope.insert(start, &change.text);
                applied.push(ByteChange::Replace {
                    old: bytes,
                    new_len: change.text.len(),
                });
            }
        }
    }
    (applied, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp_server::ls_types::{Position, Range};

    fn change(l1: u32, c1: u32, l2: u32, c2: u32, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(l1, c1), Position::new(l2, c2))),
            range_length: None,
            text: text.to_string(),
        }
    }

    #[test]
    fn changes_apply_in_order_in_both_encodings() {
        let mut rope = Rope::from_str("é😀x\n");
        let (_, notes) = apply_changes(
            &mut rope,
            &[change(0, 3, 0, 4, "y"), change(0, 0, 0, 0, ">")],
            Encoding::Utf16,
        );
        assert!(notes.is_empty());
        assert_eq!(rope.to_string(), ">é😀y\n");
        apply_changes(&mut rope, &[change(0, 7, 0, 8, "z")], Encoding::Utf8);
        assert_eq!(rope.to_string(), ">é😀z\n");
    }

    #[test]
    fn out_of_range_changes_are_clamped_and_noted() {
        let mut rope = Rope::from_str("ab");
        let (_, notes) = apply_changes(&mut rope, &[change(5, 0, 6, 0, "!")], Encoding::Utf16);
        assert_eq!(rope.to_string(), "ab!");
        assert_eq!(notes.len(), 1);
        let (_, notes) = apply_changes(&mut rope, &[change(0, 3, 0, 1, "")], Encoding::Utf16);
        assert_eq!(rope.to_string(), "a");
        assert_eq!(notes.len(), 1, "reversed range");
    }

    #[test]
    fn a_large_rope_built_in_halves_is_the_rope_of_the_text() {
        // CRLF pairs, multi-byte characters and a cut near the middle.
        let text = "kind: ConfigMap\r\ndata: {a: \"é😀\"}\r\n---\n".repeat(40_000);
        assert!(text.len() >= PARALLEL_ROPE);
        let halves = rope_of(&text);
        let whole = Rope::from_str(&text);
        assert_eq!(halves, whole);
        assert_eq!(halves.len_lines(), whole.len_lines());
        assert_eq!(halves.len_chars(), whole.len_chars());
        assert_eq!(halves.len_utf16_cu(), whole.len_utf16_cu());
        for line in [0, 1, 2, 59_999, 60_000, 60_001, 119_999] {
            assert_eq!(halves.line_to_byte(line), whole.line_to_byte(line));
        }
    }

    /// Edits composed into one must turn the old text into the new one.
    #[test]
    fn composed_edits_replace_exactly_the_dirty_region() {
        let mut seed = 7u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n.max(1)
        };
        for _ in 0..500 {
            let old = "abcdefghijklmnopqrstuvwxyz0123456789".repeat(2);
            let mut text = old.clone();
            let mut log = EditLog {
                base: 1,
                entries: Vec::new(),
            };
            for revision in 2..2 + next(6) as u64 + 1 {
                let start = next(text.len() + 1);
                let end = start + next(text.len() - start + 1).min(8);
                let insert = "XYZ"[..next(4)].to_string();
                text.replace_range(start..end, &insert);
                log.entries.push((
                    revision,
                    ByteChange::Replace {
                        old: TextRange::new(start, end),
                        new_len: insert.len(),
                    },
                ));
            }
            let (range, new_len) = log.composed_since(1).unwrap().unwrap();
            let rebuilt = format!(
                "{}{}{}",
                &old[..range.start],
                &text[range.start..range.start + new_len],
                &old[range.end..]
            );
            assert_eq!(rebuilt, text, "{:?}", log.entries);
        }
        let log = EditLog {
            base: 5,
            entries: Vec::new(),
        };
        assert_eq!(
            log.composed_since(4),
            None,
            "edits before the log's base are unknown"
        );
        assert_eq!(log.composed_since(5), Some(None));
    }
}
