//! LSP positions <-> byte offsets over a rope of arbitrary text, in UTF-8 and
//! UTF-16: `to_offset` never panics and lands on a char boundary inside the
//! text; an unclamped position survives the round trip; every char boundary
//! (but the middle of a CRLF, which LSP cannot name) survives the other one.
//!
//! Input: the text, then optionally a 0xFF byte and the probes; without it
//! the text's own bytes are the probes.
#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use ropey::Rope;
use tokenguard_analysis::{LineIndex, TextRange};
use tokenguard_fuzz::inside_crlf;
use tokenguard_lsp::positions::{to_offset, to_position, to_range, to_text_range, Encoding};
use tower_lsp_server::ls_types::{Position, Range};

const ENCODINGS: [Encoding; 2] = [Encoding::Utf8, Encoding::Utf16];

fn floor(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The rope of `text`, from one string or built by appends and inserts of
/// pieces (other chunk boundaries: a CRLF may be split between two chunks).
fn rope(u: &mut Unstructured<'_>, text: &str) -> Result<Rope> {
    if !u.arbitrary::<bool>()? {
        return Ok(Rope::from_str(text));
    }
    let mut rope = Rope::new();
    let mut at = 0;
    let mut pieces = Vec::new();
    while at < text.len() {
        let step = 1 + u.arbitrary::<u16>()? as usize % 2048;
        let mut end = (at + step).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        pieces.push(&text[at..end]);
        at = end;
    }
    // Insert back to front at the start half the time: another tree shape.
    if u.arbitrary::<bool>()? {
        for piece in pieces.iter().rev() {
            rope.insert(0, piece);
        }
    } else {
        for piece in pieces {
            rope.insert(rope.len_chars(), piece);
        }
    }
    Ok(rope)
}

fn position(u: &mut Unstructured<'_>, rope: &Rope) -> Result<Position> {
    let (line, character) = if u.arbitrary::<bool>()? {
        // Anywhere, including far past the end.
        (u.arbitrary::<u32>()?, u.arbitrary::<u32>()?)
    } else {
        let line = u.arbitrary::<u32>()? % (rope.len_lines() as u32 + 1);
        let width = rope.get_line(line as usize).map_or(0, |l| l.len_bytes());
        (line, u.arbitrary::<u32>()? % (width as u32 + 2))
    };
    Ok(Position::new(line, character))
}

fn check_position(text: &str, rope: &Rope, p: Position) {
    for enc in ENCODINGS {
        let off = to_offset(rope, p, enc);
        assert!(
            off.byte <= text.len(),
            "{p:?} {enc:?}: {off:?} past the end"
        );
        assert!(
            text.is_char_boundary(off.byte),
            "{p:?} {enc:?}: {off:?} not on a char boundary"
        );
        assert!(
            !inside_crlf(text, off.byte),
            "{p:?} {enc:?}: {off:?} inside a CRLF"
        );
        if !off.clamped {
            assert_eq!(
                to_position(rope, off.byte, enc),
                p,
                "{enc:?}: to_position(to_offset({p:?}) = {off:?})"
            );
        }
    }
}

fn check_offset(text: &str, rope: &Rope, index: &LineIndex, b: usize) {
    for enc in ENCODINGS {
        let p = to_position(rope, b, enc);
        let back = to_offset(rope, p, enc);
        if inside_crlf(text, b) {
            // LSP names no place between CR and LF: the line's end stands in.
            assert_eq!(back.byte, b - 1, "{enc:?}: byte {b} inside a CRLF -> {p:?}");
            continue;
        }
        assert!(
            back.byte == b && !back.clamped,
            "{enc:?}: to_offset(to_position({b}) = {p:?}) = {back:?}"
        );
        // The analysis's line table agrees with ropey's lines.
        assert_eq!(
            index.line_of(b),
            p.line as usize,
            "{enc:?}: LineIndex and ropey disagree on the line of byte {b}"
        );
        if enc == Encoding::Utf8 {
            assert_eq!(b - index.line_start(p.line as usize), p.character as usize);
        }
    }
}

fn probe(u: &mut Unstructured<'_>, text: &str, rope: &Rope, index: &LineIndex) -> Result<()> {
    match u.arbitrary::<u8>()? % 4 {
        0 => check_position(text, rope, position(u, rope)?),
        1 => {
            let b = floor(text, u.arbitrary::<u32>()? as usize % (text.len() + 1));
            check_offset(text, rope, index, b);
        }
        2 => {
            // Any byte, even past the end or inside a character.
            let b = u.arbitrary::<u32>()? as usize % (text.len() + 8);
            for enc in ENCODINGS {
                let p = to_position(rope, b, enc);
                let _ = to_offset(rope, p, enc);
            }
            let e = u.arbitrary::<u32>()? as usize % (text.len() + 8);
            for enc in ENCODINGS {
                let _ = to_range(rope, TextRange::new(b.min(e), b.max(e)), enc);
            }
        }
        _ => {
            let range = Range::new(position(u, rope)?, position(u, rope)?);
            for enc in ENCODINGS {
                let (r, clamped) = to_text_range(rope, range, enc);
                assert!(
                    r.start <= r.end && r.end <= text.len(),
                    "{range:?} -> {r:?}"
                );
                if !clamped {
                    assert_eq!(to_range(rope, r, enc), range, "{enc:?}");
                }
            }
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let (text, script) = match data.iter().position(|&b| b == 0xFF) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, data),
    };
    let text = String::from_utf8_lossy(text);
    let mut u = Unstructured::new(script);
    let Ok(rope) = rope(&mut u, &text) else {
        return;
    };
    assert_eq!(rope.len_bytes(), text.len());
    let index = LineIndex::new(&text);
    // Every char boundary of a short text; probes for the rest.
    if text.len() <= 64 {
        for b in (0..=text.len()).filter(|&b| text.is_char_boundary(b)) {
            check_offset(&text, &rope, &index, b);
        }
    }
    for _ in 0..64 {
        if probe(&mut u, &text, &rope, &index).is_err() {
            break;
        }
    }
});
