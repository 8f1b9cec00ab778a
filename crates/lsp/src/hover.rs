//! Hovers: the analysis writes the Markdown (`render::hover`); this module
//! finds the findings and the line under the cursor.

use tokenguard_analysis::render;

use crate::config::Settings;
use crate::diagnostics::Analyzed;

/// Markdown for the position at byte `offset`, if it is on a finding or on
/// the field's key.
pub fn hover_markdown(analyzed: &Analyzed, settings: &Settings, offset: usize) -> Option<String> {
    // Only the line under the cursor is needed.
    let rope = &analyzed.rope;
    let line = rope.byte_to_line(offset.min(rope.len_bytes()));
    let line_start = rope.line_to_byte(line);
    let text = rope.line(line).to_string();
    render::hover(analyzed.visible(settings), offset, &text, line_start)
}
