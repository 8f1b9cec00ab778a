//! The `# tokenguard-ignore` comment that records a deliberate exception,
//! placed where a comment is legal YAML and changes no value.

use crate::finding::Finding;
use crate::fix::{Fix, TextEdit};
use crate::suppress::IGNORE_MARKER;
use crate::text::{LineEnding, LineIndex, TextRange};
use crate::tree::{self, ChunkResult, NodeKind};

const TITLE: &str = "Ignore this finding with a tokenguard-ignore comment";
const REASON: &str = "needs the Kubernetes API";

/// A `# tokenguard-ignore: reason` comment for `finding`, which counts on its
/// line or on the line directly above (see `suppress`). Usually a new line
/// above the reported one, at its indentation. When the reported line starts
/// inside a multi-line scalar (`{name: a⏎ b}, spec: ...`), a comment line
/// above it would split the scalar (a syntax error, or a changed string), so
/// the comment goes at the end of the reported line instead; `None` when that
/// end is inside a multi-line scalar too, as no comment can count there.
pub fn ignore_comment(text: &str, index: &LineIndex, finding: &Finding) -> Option<Fix> {
    let line = index.line_of(finding.range.start);
    let line_start = index.line_start(line);
    let line_end = index.line_end(text, line);
    let scalars = scalars_around(text, index, line_start);
    let inside = |offset: usize| scalars.iter().any(|r| r.start < offset && offset < r.end);
    if !inside(line_start) {
        let eol =
            LineEnding::before(text, line_start).unwrap_or_else(|| LineEnding::first_in(text));
        return Some(ignore_comment_line(
            index.line_text(text, line),
            line_start,
            eol,
        ));
    }
    if inside(line_end) {
        return None;
    }
    Some(Fix {
        title: TITLE.to_string(),
        edits: vec![TextEdit {
            range: TextRange::empty(line_end),
            new_text: format!(" # {IGNORE_MARKER}: {REASON}"),
        }],
        file: None,
    })
}

/// [`ignore_comment`] above the reported line, from that line alone: its text
/// (without the break), where it starts, and the file's line ending. Only
/// right when the line does not start inside a multi-line scalar.
pub(crate) fn ignore_comment_line(line: &str, line_start: usize, eol: LineEnding) -> Fix {
    // A byte-order mark must stay the first character of the file.
    let (at, line) = match line.strip_prefix('\u{feff}') {
        Some(rest) if line_start == 0 => ('\u{feff}'.len_utf8(), rest),
        _ => (line_start, line),
    };
    let indent: String = line
        .chars()
        .take_while(|c| matches!(c, ' ' | '\t'))
        .collect();
    Fix {
        title: TITLE.to_string(),
        edits: vec![TextEdit {
            range: TextRange::empty(at),
            new_text: format!("{indent}# {IGNORE_MARKER}: {REASON}{}", eol.as_str()),
        }],
        file: None,
    }
}

/// The ranges of the scalars of the document that holds byte `offset` (only
/// that document is parsed: the others cannot reach its lines).
fn scalars_around(text: &str, index: &LineIndex, offset: usize) -> Vec<TextRange> {
    let body_start = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let Some(chunk) = crate::split::split_documents(text, body_start)
        .into_iter()
        .find(|c| c.range.start <= offset && offset <= c.range.end)
    else {
        return Vec::new();
    };
    match tree::build_chunk(text, index, chunk) {
        ChunkResult::Documents(docs) => docs
            .iter()
            .flat_map(|d| &d.nodes)
            .filter(|n| matches!(n.kind, NodeKind::Scalar { .. }))
            .map(|n| n.range)
            .collect(),
        ChunkResult::Error(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{analyze, apply_edits, parse, NoAccounts};

    fn commented(text: &str) -> Option<String> {
        let findings = analyze(text, &NoAccounts);
        assert_eq!(findings.len(), 1, "{text:?}");
        let fix = ignore_comment(text, &LineIndex::new(text), &findings[0])?;
        Some(apply_edits(text, &fix.edits))
    }

    #[test]
    fn a_comment_line_above_the_reported_line() {
        let text = "kind: Pod\nspec:\n  containers: []\n";
        let fixed = commented(text).unwrap();
        assert_eq!(
            fixed,
            "kind: Pod\n# tokenguard-ignore: needs the Kubernetes API\nspec:\n  containers: []\n"
        );
        assert!(analyze(&fixed, &NoAccounts).is_empty());
    }

    #[test]
    fn a_line_starting_inside_a_multi_line_scalar_gets_the_comment_at_its_end() {
        for (text, expected) in [
            (
                "{kind: Pod, metadata: {name: a\n b}, spec: {containers: []}}\n",
                "{kind: Pod, metadata: {name: a\n b}, spec: {containers: []}} # tokenguard-ignore: needs the Kubernetes API\n",
            ),
            (
                "{kind: Pod, metadata: {name: \"a\n b\"}, spec: {containers: []}}",
                "{kind: Pod, metadata: {name: \"a\n b\"}, spec: {containers: []}} # tokenguard-ignore: needs the Kubernetes API",
            ),
        ] {
            let fixed = commented(text).unwrap();
            assert_eq!(fixed, expected);
            assert!(analyze(&fixed, &NoAccounts).is_empty());
            assert_eq!(parse(&fixed).workloads[0].1.name.as_deref(), Some("a b"));
        }
    }

    #[test]
    fn no_comment_when_the_reported_line_starts_and_ends_inside_scalars() {
        let text = "{kind: Pod, metadata: {name: a\n b}, spec: {containers: []}, x: 'c\n d'}\n";
        assert_eq!(commented(text), None);
    }
}
