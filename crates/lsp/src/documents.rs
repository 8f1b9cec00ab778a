//! Open documents: their text, kept in a rope and edited incrementally.

use ropey::Rope;
use tower_lsp_server::ls_types::TextDocumentContentChangeEvent;

use crate::positions::{to_text_range, Encoding};

/// An immutable snapshot of an open document. Edits make a new snapshot
/// (ropes share their unchanged chunks), so readers never wait for writers.
#[derive(Clone, Debug)]
pub struct Document {
    /// The client's version.
    pub version: i32,
    /// Ours: grows with every change, even when the client's version does not.
    pub revision: u64,
    pub rope: Rope,
}

/// Applies the changes of one didChange, in order. Returns a note for each
/// change that had to be clamped to the text.
pub fn apply_changes(
    rope: &mut Rope,
    changes: &[TextDocumentContentChangeEvent],
    encoding: Encoding,
) -> Vec<String> {
    let mut notes = Vec::new();
    for change in changes {
        match change.range {
            None => *rope = Rope::from_str(&change.text),
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
            }
        }
    }
    notes
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
        let notes = apply_changes(
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
        let notes = apply_changes(&mut rope, &[change(5, 0, 6, 0, "!")], Encoding::Utf16);
        assert_eq!(rope.to_string(), "ab!");
        assert_eq!(notes.len(), 1);
        let notes = apply_changes(&mut rope, &[change(0, 3, 0, 1, "")], Encoding::Utf16);
        assert_eq!(rope.to_string(), "a");
        assert_eq!(notes.len(), 1, "reversed range");
    }
}
