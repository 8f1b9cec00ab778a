//! LSP positions computed from the client's copy of a text, independently
//! of the server (`crates/lsp/src/positions.rs` is what the tests check, so
//! they must not borrow it). Lines end at LF, CRLF or a lone CR, as LSP
//! says; columns count UTF-8 bytes or UTF-16 units, as negotiated.
//!
//! Positions are `serde_json::Value`s shaped like LSP's (`{"line",
//! "character"}`, ranges `{"start", "end"}`), so they can be compared with
//! what the server sends and put in any message; `serde_json::from_value`
//! turns one into an `ls_types::Position` or `Range`.

use serde_json::{json, Value};

/// The position encoding a session negotiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enc {
    Utf8,
    Utf16,
}

impl Enc {
    /// How many units `ch` takes in this encoding.
    pub fn width(self, ch: char) -> usize {
        match self {
            Enc::Utf8 => ch.len_utf8(),
            Enc::Utf16 => ch.len_utf16(),
        }
    }

    /// How many units `text` takes in this encoding.
    pub fn len(self, text: &str) -> u32 {
        text.chars().map(|c| self.width(c) as u32).sum()
    }

    /// The client capabilities that make the server pick this encoding.
    pub fn capabilities(self) -> Value {
        match self {
            Enc::Utf8 => json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}}),
            Enc::Utf16 => json!({}),
        }
    }
}

/// Byte offsets where lines start; lines end at LF, CRLF or a lone CR.
pub fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => starts.push(i + 1),
            b'\r' => {
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                starts.push(i + 1);
            }
            _ => {}
        }
        i += 1;
    }
    starts
}

/// The end of a line's content (before its line break).
fn content_end(text: &str, starts: &[usize], line: usize) -> usize {
    let end = starts.get(line + 1).copied().unwrap_or(text.len());
    let slice = &text[starts[line]..end];
    let slice = slice.strip_suffix('\n').unwrap_or(slice);
    let slice = slice.strip_suffix('\r').unwrap_or(slice);
    starts[line] + slice.len()
}

/// The byte offset of an LSP position: a line past the end clamps to the end
/// of the text, a column past the line's content to its end, a column inside
/// a character to that character's start.
pub fn offset_of(text: &str, line: u32, character: u32, enc: Enc) -> usize {
    let starts = line_starts(text);
    let line = line as usize;
    if line >= starts.len() {
        return text.len();
    }
    let start = starts[line];
    let end = content_end(text, &starts, line);
    let mut units = 0;
    let mut at = start;
    for ch in text[start..end].chars() {
        let width = enc.width(ch);
        if units + width > character as usize {
            break;
        }
        units += width;
        at += ch.len_utf8();
    }
    at
}

/// The LSP position of a byte offset (clamped to the text, floored to a
/// character boundary).
pub fn position_of(text: &str, offset: usize, enc: Enc) -> Value {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let starts = line_starts(text);
    let line = starts.partition_point(|&s| s <= offset) - 1;
    let character: usize = text[starts[line]..offset]
        .chars()
        .map(|c| enc.width(c))
        .sum();
    json!({"line": line, "character": character})
}

/// A position.
pub fn pos(line: u32, character: u32) -> Value {
    json!({"line": line, "character": character})
}

/// A range from `l1:c1` to `l2:c2`.
pub fn range(l1: u32, c1: u32, l2: u32, c2: u32) -> Value {
    json!({"start": pos(l1, c1), "end": pos(l2, c2)})
}

/// The LSP range of a byte range.
pub fn range_of(text: &str, start: usize, end: usize, enc: Enc) -> Value {
    json!({"start": position_of(text, start, enc), "end": position_of(text, end, enc)})
}

/// The LSP range of the `n`-th (0-based) occurrence of `needle` in `text`.
pub fn find_range(text: &str, needle: &str, n: usize, enc: Enc) -> Value {
    let start = text
        .match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("{needle:?} occurs fewer than {} times in {text:?}", n + 1))
        .0;
    range_of(text, start, start + needle.len(), enc)
}

/// The byte range of an LSP range (its ends in order).
pub fn byte_range(text: &str, range: &Value, enc: Enc) -> (usize, usize) {
    let at = |p: &Value| {
        offset_of(
            text,
            p["line"].as_u64().expect("line") as u32,
            p["character"].as_u64().expect("character") as u32,
            enc,
        )
    };
    let (a, b) = (at(&range["start"]), at(&range["end"]));
    (a.min(b), a.max(b))
}

/// Applies one content change (`range` null = the whole text).
pub fn apply_change(text: &mut String, range: &Value, new_text: &str, enc: Enc) {
    if range.is_null() {
        *text = new_text.to_string();
        return;
    }
    let (start, end) = byte_range(text, range, enc);
    text.replace_range(start..end, new_text);
}

/// Applies LSP `TextEdit`s (all against the same original text).
pub fn apply_text_edits(text: &str, edits: &[Value], enc: Enc) -> String {
    let mut spans: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| {
            let (s, t) = byte_range(text, &e["range"], enc);
            (s, t, e["newText"].as_str().expect("newText"))
        })
        .collect();
    spans.sort_by_key(|&(s, t, _)| (s, t));
    let mut out = String::new();
    let mut at = 0;
    for (s, t, new_text) in spans {
        assert!(s >= at, "overlapping edits: {edits:?}");
        out.push_str(&text[at..s]);
        out.push_str(new_text);
        at = t;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_at_lf_crlf_and_lone_cr() {
        assert_eq!(line_starts("a\nb\r\nc\rd"), [0, 2, 5, 7]);
    }

    #[test]
    fn columns_count_the_negotiated_units() {
        let text = "é😀x\n";
        assert_eq!(position_of(text, 6, Enc::Utf8), pos(0, 6));
        assert_eq!(position_of(text, 6, Enc::Utf16), pos(0, 3));
        assert_eq!(offset_of(text, 0, 3, Enc::Utf16), 6);
        // Inside the surrogate pair: the character's start.
        assert_eq!(offset_of(text, 0, 2, Enc::Utf16), 2);
        // Past the line, past the text.
        assert_eq!(offset_of(text, 0, 99, Enc::Utf8), 7);
        assert_eq!(offset_of(text, 9, 0, Enc::Utf8), text.len());
    }

    #[test]
    fn edits_apply_against_the_original_text() {
        let edits = [
            json!({"range": range(0, 2, 0, 3), "newText": "Z"}),
            json!({"range": range(0, 0, 0, 0), "newText": "<"}),
        ];
        assert_eq!(apply_text_edits("abc", &edits, Enc::Utf8), "<abZ");
    }
}
