//! The one place that converts between LSP positions and byte offsets.
//!
//! The encoding is negotiated once: UTF-8 when the client offers it (no
//! conversion needed beyond the line), else UTF-16, the protocol's default.
//! Every conversion goes through ropey, whose lines end exactly where LSP's
//! do (LF, CRLF, CR). Positions out of range are clamped, never trusted.

use ropey::{Rope, RopeSlice};
use tower_lsp_server::ls_types::{ClientCapabilities, Position, PositionEncodingKind, Range};

use tokenguard_analysis::TextRange;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    #[default]
    Utf16,
}

impl Encoding {
    /// UTF-8 when the client lists it, else UTF-16.
    pub fn negotiate(capabilities: &ClientCapabilities) -> Self {
        let offered = capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref());
        match offered {
            Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
            _ => Encoding::Utf16,
        }
    }

    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }
    }
}

/// A byte offset, and whether the position had to be clamped to get it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offset {
    pub byte: usize,
    pub clamped: bool,
}

/// The line's text without its line break.
fn line_content(rope: &Rope, line: usize) -> RopeSlice<'_> {
    let slice = rope.line(line);
    let mut chars = slice.len_chars();
    if chars > 0 && slice.char(chars - 1) == '\n' {
        chars -= 1;
    }
    if chars > 0 && slice.char(chars - 1) == '\r' {
        chars -= 1;
    }
    slice.slice(..chars)
}

/// The byte offset of an LSP position. A line past the end clamps to the end
/// of the text, a column past the line's end to the line's end, and a column
/// inside a character (a UTF-16 surrogate pair, a UTF-8 sequence) to that
/// character's start.
pub fn to_offset(rope: &Rope, position: Position, encoding: Encoding) -> Offset {
    let line = position.line as usize;
    if line >= rope.len_lines() {
        return Offset {
            byte: rope.len_bytes(),
            clamped: true,
        };
    }
    let content = line_content(rope, line);
    let line_start = rope.line_to_byte(line);
    let col = position.character as usize;
    let (char_in_line, clamped) = match encoding {
        Encoding::Utf8 => {
            let len = content.len_bytes();
            let byte = col.min(len);
            let ch = content.byte_to_char(byte);
            (ch, col > len || content.char_to_byte(ch) != byte)
        }
        Encoding::Utf16 => {
            let len = content.len_utf16_cu();
            let cu = col.min(len);
            let ch = content.utf16_cu_to_char(cu);
            (ch, col > len || content.char_to_utf16_cu(ch) != cu)
        }
    };
    Offset {
        byte: line_start + content.char_to_byte(char_in_line),
        clamped,
    }
}

/// The LSP position of a byte offset (clamped to the text, floored to a
/// character boundary).
pub fn to_position(rope: &Rope, byte: usize, encoding: Encoding) -> Position {
    let byte = byte.min(rope.len_bytes());
    within_chunk(rope, byte, encoding).unwrap_or_else(|| across_chunks(rope, byte, encoding))
}

/// [`to_position`] read in the one chunk of the rope that holds `byte`, when
/// its line starts in that chunk too (most positions): one descent of the
/// rope instead of five. (ropey never splits a CRLF between chunks, and
/// gives the line the chunk starts on.)
fn within_chunk(rope: &Rope, byte: usize, encoding: Encoding) -> Option<Position> {
    let (chunk, chunk_byte, _, chunk_line) = rope.chunk_at_byte(byte);
    let mut at = byte - chunk_byte;
    while !chunk.is_char_boundary(at) {
        at -= 1;
    }
    let bytes = chunk.as_bytes();
    let mut line = chunk_line;
    let mut line_start = None;
    for i in memchr::memchr2_iter(b'\n', b'\r', &bytes[..at]) {
        // A CRLF ends its line at its LF (which may be at `at`: then the
        // line has not ended before it).
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            continue;
        }
        line += 1;
        line_start = Some(i + 1);
    }
    let text = &chunk[line_start?..at];
    let character = match encoding {
        Encoding::Utf8 => text.len(),
        Encoding::Utf16 if text.is_ascii() => text.len(),
        Encoding::Utf16 => text.chars().map(char::len_utf16).sum(),
    };
    Some(Position::new(line as u32, character as u32))
}

/// [`to_position`] through the rope's indexes.
fn across_chunks(rope: &Rope, byte: usize, encoding: Encoding) -> Position {
    let char_idx = rope.byte_to_char(byte);
    let line = rope.char_to_line(char_idx);
    let line_start_char = rope.line_to_char(line);
    let character = match encoding {
        Encoding::Utf8 => rope.char_to_byte(char_idx) - rope.line_to_byte(line),
        Encoding::Utf16 => rope.char_to_utf16_cu(char_idx) - rope.char_to_utf16_cu(line_start_char),
    };
    Position::new(line as u32, character as u32)
}

pub fn to_range(rope: &Rope, range: TextRange, encoding: Encoding) -> Range {
    Range::new(
        to_position(rope, range.start, encoding),
        to_position(rope, range.end, encoding),
    )
}

/// A byte range of an LSP range, with its ends ordered.
pub fn to_text_range(rope: &Rope, range: Range, encoding: Encoding) -> (TextRange, bool) {
    let start = to_offset(rope, range.start, encoding);
    let end = to_offset(rope, range.end, encoding);
    let (a, b) = if start.byte <= end.byte {
        (start.byte, end.byte)
    } else {
        (end.byte, start.byte)
    };
    (
        TextRange::new(a, b),
        start.clamped || end.clamped || start.byte > end.byte,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_read_in_its_chunk_is_the_ropes() {
        let line = "kind: Pod # é😀\r\nspec:\r  a: b\n\n";
        let text = format!("{}x", line.repeat(400));
        let rope = Rope::from_str(&text);
        assert!(rope.chunks().count() > 4);
        let mut within = 0;
        for byte in 0..=text.len() + 2 {
            for encoding in [Encoding::Utf8, Encoding::Utf16] {
                let clamped = byte.min(rope.len_bytes());
                let slow = across_chunks(&rope, clamped, encoding);
                assert_eq!(to_position(&rope, byte, encoding), slow, "at {byte}");
                within += usize::from(within_chunk(&rope, clamped, encoding).is_some());
            }
        }
        assert!(within > text.len(), "most are read in their chunk");
        assert_eq!(
            to_position(&Rope::new(), 3, Encoding::Utf16),
            Position::new(0, 0)
        );
    }

    #[test]
    fn utf8_and_utf16_columns_after_non_ascii_text() {
        // "é" is 2 bytes / 1 UTF-16 unit; "😀" is 4 bytes / 2 units: `spec` is at unit 7.
        let rope = Rope::from_str("a: é😀 spec\r\nb\rc\n");
        let spec = "a: é😀 ".len();
        assert_eq!(
            to_position(&rope, spec, Encoding::Utf8),
            Position::new(0, spec as u32)
        );
        assert_eq!(
            to_position(&rope, spec, Encoding::Utf16),
            Position::new(0, 7)
        );
        assert_eq!(
            to_offset(&rope, Position::new(0, 7), Encoding::Utf16).byte,
            spec
        );
        assert_eq!(
            to_position(&rope, rope.len_bytes(), Encoding::Utf16),
            Position::new(3, 0)
        );
        let c = rope.to_string().rfind('c').unwrap();
        assert_eq!(to_position(&rope, c, Encoding::Utf16), Position::new(2, 0));
    }

    #[test]
    fn positions_out_of_range_or_inside_a_character_are_clamped() {
        let rope = Rope::from_str("x😀y\nz");
        let inside_pair = to_offset(&rope, Position::new(0, 2), Encoding::Utf16);
        assert_eq!(
            inside_pair,
            Offset {
                byte: 1,
                clamped: true
            }
        );
        let inside_utf8 = to_offset(&rope, Position::new(0, 3), Encoding::Utf8);
        assert_eq!(
            inside_utf8,
            Offset {
                byte: 1,
                clamped: true
            }
        );
        let past_line = to_offset(&rope, Position::new(0, 99), Encoding::Utf16);
        assert_eq!(
            past_line,
            Offset {
                byte: 6,
                clamped: true
            }
        );
        let past_text = to_offset(&rope, Position::new(9, 0), Encoding::Utf8);
        assert_eq!(
            past_text,
            Offset {
                byte: rope.len_bytes(),
                clamped: true
            }
        );
        assert_eq!(to_position(&rope, 2, Encoding::Utf16), Position::new(0, 1));
    }
}
