//! `# tokenguard-ignore` comments.

use crate::text::LineIndex;

pub const IGNORE_MARKER: &str = "tokenguard-ignore";

/// Whether a finding reported on `line` is suppressed by a comment on that
/// line or on the line directly above it.
pub fn is_suppressed(text: &str, index: &LineIndex, line: usize) -> bool {
    has_ignore_comment(index.line_text(text, line))
        || (line > 0 && has_ignore_comment(index.line_text(text, line - 1)))
}

/// A `#` at the start of the line or after a blank opens a YAML comment; the
/// marker counts only inside one.
fn has_ignore_comment(line: &str) -> bool {
    let line = line.trim_start_matches('\u{feff}');
    let Some(marker) = line.find(IGNORE_MARKER) else {
        return false;
    };
    let bytes = line.as_bytes();
    bytes[..marker]
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'#' && (i == 0 || matches!(bytes[i - 1], b' ' | b'\t')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_must_be_in_a_comment() {
        assert!(has_ignore_comment("spec: # tokenguard-ignore"));
        assert!(has_ignore_comment(
            "# tokenguard-ignore: operator needs the API"
        ));
        assert!(has_ignore_comment("\t#tokenguard-ignore"));
        assert!(!has_ignore_comment("name: tokenguard-ignore"));
        assert!(!has_ignore_comment("url: http://x#tokenguard-ignore"));
        assert!(!has_ignore_comment("spec: # nothing"));
    }

    #[test]
    fn same_line_or_the_line_above() {
        let text = "# tokenguard-ignore\nspec:\n  a: 1\n";
        let index = LineIndex::new(text);
        assert!(is_suppressed(text, &index, 1));
        assert!(!is_suppressed(text, &index, 2));
    }
}
