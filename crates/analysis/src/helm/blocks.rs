//! Which text between a template's actions the mask hides, block by block
//! (`{{ if }}`, `{{ with }}`, `{{ range }}`, `{{ define }}` up to their
//! `{{ end }}`). The mask keeps text where it stands; these are the blocks
//! where what stands there is not what Helm outputs there:
//!
//! * A `define` body is output only where it is included: all of it is
//!   hidden (blanked).
//! * A conditional whose branches all sit on one line
//!   (`{{ if .x }}"True"{{ else }}"False"{{ end }}`) renders one of them,
//!   never their concatenation. When the values decide the branch, it is
//!   kept and the others are hidden; otherwise, when the conditional is a
//!   value among other text (`key: {{ if … }}`), the whole of it becomes a
//!   placeholder of `x` (a value the template computes), and when it is
//!   alone on its line (entries), the first branch is kept.
//! * A conditional that a trim marker glues to its key (`apiVersion: {{ if
//!   .x -}}` with the value on the next lines) is one value: the whole of
//!   it becomes a placeholder on the key's line, and blanks below.
//! * Branches over several lines stay together (both branches of the same
//!   shape read as YAML, a key perhaps twice, and `branches.rs` decides
//!   between them with the values), unless they *clash*: a branch's first
//!   content line starts at the column of the previous branch's first line
//!   with another kind of node (a mapping entry, a sequence item, or a
//!   scalar or flow collection: a mapping in one branch and `{}` in the
//!   other), or deeper than it (it would read as that branch's content). A
//!   branch that starts to the left of the one before continues an
//!   enclosing collection, as it would alone: no clash. On a clash one
//!   branch is kept: the one the values select when they decide the
//!   condition (`branches.rs`), else the first; the others are hidden. The
//!   verdict is then the one on that branch, the chart's rendering with
//!   those values.
//!
//! Hidden text is blanked except its line breaks (a placeholder keeps `x`
//! on its first line); nothing moves.

use super::branches::condition;
use super::mask::{is_block_scalar_header, line_spans, Action, ActionKind};
use super::values::ValuesFile;
use crate::text::TextRange;

/// A block: its opening action, its `else` actions and its `end`, as
/// indices into the actions.
struct Block {
    open: usize,
    elses: Vec<usize>,
    end: usize,
}

impl Block {
    fn range(&self, actions: &[Action]) -> TextRange {
        TextRange::new(actions[self.open].range.start, actions[self.end].range.end)
    }

    /// The text of each branch, between the actions that delimit it.
    fn branches(&self, actions: &[Action]) -> Vec<TextRange> {
        let bounds: Vec<usize> = std::iter::once(self.open)
            .chain(self.elses.iter().copied())
            .chain(std::iter::once(self.end))
            .collect();
        bounds
            .windows(2)
            .map(|pair| TextRange::new(actions[pair[0]].range.end, actions[pair[1]].range.start))
            .collect()
    }
}

/// Every closed block, inner blocks before the blocks around them.
fn blocks(actions: &[Action]) -> Vec<Block> {
    let mut open: Vec<Block> = Vec::new();
    let mut closed = Vec::new();
    for (i, action) in actions.iter().enumerate() {
        match action.kind {
            ActionKind::Open => open.push(Block {
                open: i,
                elses: Vec::new(),
                end: i,
            }),
            ActionKind::Else => {
                if let Some(block) = open.last_mut() {
                    block.elses.push(i);
                }
            }
            ActionKind::End => {
                if let Some(mut block) = open.pop() {
                    block.end = i;
                    closed.push(block);
                }
            }
            _ => {}
        }
    }
    closed
}

/// Hides, in `out` (the text with its actions masked), what the blocks of
/// the template do not output where it stands, and returns those ranges in
/// text order (none inside another).
pub(super) fn hide(
    text: &str,
    actions: &[Action],
    out: &mut [u8],
    values: Option<&ValuesFile>,
) -> Vec<TextRange> {
    let bytes = text.as_bytes();
    let blocks = blocks(actions);
    let mut defines: Vec<TextRange> = blocks
        .iter()
        .filter(|b| first_word(&actions[b.open].body) == "define")
        .map(|b| b.range(actions))
        .collect();
    // Go does not nest definitions: by their starts, the one that could
    // hold a range is the last that starts before it.
    defines.sort_by_key(|d| d.start);
    let in_define = |range: TextRange| {
        let before = defines.partition_point(|d| d.start <= range.start);
        before > 0 && range.end <= defines[before - 1].end
    };
    // Only branches can clash: a template without `else` needs no table of
    // its block scalars' lines. (Read before any block is hidden.)
    let scalars = if blocks.iter().any(|b| !b.elses.is_empty()) {
        BlockScalarLines::new(out)
    } else {
        BlockScalarLines { lines: Vec::new() }
    };
    let mut hidden = Vec::new();
    for block in &blocks {
        let range = block.range(actions);
        if in_define(range) {
            // Blanked whole below.
            continue;
        }
        let branches = block.branches(actions);
        let inline = !bytes[range.start..range.end]
            .iter()
            .any(|&b| matches!(b, b'\n' | b'\r'));
        if inline {
            if block.elses.is_empty() || branches.iter().all(|b| is_blank(out, *b)) {
                continue;
            }
            match chosen(block, actions, values) {
                Some(kept) => keep(out, bytes, &branches, kept, &mut hidden),
                None if alone_on_its_line(out, range) => {
                    keep(out, bytes, &branches, 0, &mut hidden)
                }
                None => {
                    placeholder(out, range);
                    hidden.push(range);
                }
            }
        } else if glued_to_a_key(text, actions, block, out) {
            placeholder(out, range);
            hidden.push(range);
        } else if !block.elses.is_empty() && clash(out, &branches, &scalars) {
            let kept = chosen(block, actions, values).unwrap_or(0);
            keep(out, bytes, &branches, kept, &mut hidden);
        }
    }
    for define in defines {
        blank(out, define);
        hidden.push(define);
    }
    hidden.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    let mut outermost: Vec<TextRange> = Vec::new();
    for range in hidden {
        if outermost.last().is_none_or(|last| range.end > last.end) {
            outermost.push(range);
        }
    }
    outermost
}

fn first_word(body: &str) -> &str {
    body.split_whitespace().next().unwrap_or("")
}

/// The branch that renders, as the values decide it: the index of the
/// branch, or the number of branches when none renders (every condition
/// false, no plain `else`). `None` when the values do not decide.
fn chosen(block: &Block, actions: &[Action], values: Option<&ValuesFile>) -> Option<usize> {
    let values = values?;
    if first_word(&actions[block.open].body) != "if" {
        return None;
    }
    let heads = std::iter::once(block.open).chain(block.elses.iter().copied());
    for (branch, head) in heads.enumerate() {
        let body = actions[head].body.as_str();
        let test = if branch == 0 {
            body
        } else if body == "else" {
            return Some(branch);
        } else {
            body.strip_prefix("else")?.trim_start()
        };
        if condition(test, values)? {
            return Some(branch);
        }
    }
    Some(block.elses.len() + 1)
}

/// Keeps branch `kept` and hides the others (those with any text).
fn keep(
    out: &mut [u8],
    original: &[u8],
    branches: &[TextRange],
    kept: usize,
    hidden: &mut Vec<TextRange>,
) {
    for (i, &branch) in branches.iter().enumerate() {
        if i == kept
            || original[branch.start..branch.end]
                .iter()
                .all(u8::is_ascii_whitespace)
        {
            continue;
        }
        blank(out, branch);
        hidden.push(branch);
    }
}

fn blank(out: &mut [u8], range: TextRange) {
    for byte in &mut out[range.start..range.end] {
        if !matches!(*byte, b'\n' | b'\r') {
            *byte = b' ';
        }
    }
}

/// `x` from the start of `range` to the end of its first line, blanks on
/// its other lines.
fn placeholder(out: &mut [u8], range: TextRange) {
    let mut first_line = true;
    for byte in &mut out[range.start..range.end] {
        match *byte {
            b'\n' | b'\r' => first_line = false,
            _ if first_line => *byte = b'x',
            _ => *byte = b' ',
        }
    }
}

fn is_blank(out: &[u8], range: TextRange) -> bool {
    out[range.start..range.end]
        .iter()
        .all(|&b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

fn line_start(out: &[u8], at: usize) -> usize {
    out[..at]
        .iter()
        .rposition(|&b| matches!(b, b'\n' | b'\r'))
        .map_or(0, |i| i + 1)
}

fn line_end(out: &[u8], at: usize) -> usize {
    out[at..]
        .iter()
        .position(|&b| matches!(b, b'\n' | b'\r'))
        .map_or(out.len(), |i| at + i)
}

/// Whether only blanks (after masking) share the line of `range`.
fn alone_on_its_line(out: &[u8], range: TextRange) -> bool {
    let blank = |b: &u8| matches!(b, b' ' | b'\t');
    out[line_start(out, range.start)..range.start]
        .iter()
        .all(blank)
        && out[range.end..line_end(out, range.end)].iter().all(blank)
}

/// `key: {{ if .x -}}` ending its line, with a scalar on the next lines: the
/// trim marker joins that scalar to the key.
fn glued_to_a_key(text: &str, actions: &[Action], block: &Block, out: &[u8]) -> bool {
    let open = &actions[block.open];
    if !open.trims_after(text) {
        return false;
    }
    let before = &out[line_start(out, open.range.start)..open.range.start];
    let before = String::from_utf8_lossy(before);
    let before = before.trim_end();
    let after_key =
        before.len() > 1 && before.ends_with(':') && !before[..before.len() - 1].trim().is_empty();
    let line_ends = is_blank(
        out,
        TextRange::new(open.range.end, line_end(out, open.range.end)),
    );
    if !after_key || !line_ends {
        return false;
    }
    // The first text the trim marker reaches: not another action (which may
    // render a block, `nindent`), and a scalar, not entries.
    let bytes = text.as_bytes();
    let end = actions[block.end].range.start;
    let Some(first) = (open.range.end..end).find(|&i| !bytes[i].is_ascii_whitespace()) else {
        return false;
    };
    if actions
        .binary_search_by_key(&first, |a| a.range.start)
        .is_ok()
    {
        return false;
    }
    line_kind(&out[first..line_end(out, first)]) == Kind::Scalar
}

/// What a line of YAML starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `- …`
    Item,
    /// `key: …`
    Entry,
    /// A scalar or a flow collection (`{}`, `[a]`).
    Scalar,
}

/// The kind of the line starting at its first non-blank byte.
fn line_kind(line: &[u8]) -> Kind {
    if line.first() == Some(&b'-') && matches!(line.get(1), None | Some(b' ' | b'\t')) {
        return Kind::Item;
    }
    if matches!(line.first(), Some(b'{' | b'[')) {
        return Kind::Scalar;
    }
    let mut i = 0;
    while i < line.len() {
        match line[i] {
            quote @ (b'"' | b'\'') if i == 0 => {
                i += 1;
                while i < line.len() && line[i] != quote {
                    i += if quote == b'"' && line[i] == b'\\' {
                        2
                    } else {
                        1
                    };
                }
            }
            b'#' if i > 0 && matches!(line[i - 1], b' ' | b'\t') => break,
            b':' if matches!(line.get(i + 1), None | Some(b' ' | b'\t')) => return Kind::Entry,
            _ => {}
        }
        i += 1;
    }
    Kind::Scalar
}

/// The first content of a branch (comments aside): where it is, its
/// column and its kind.
fn shape(out: &[u8], branch: TextRange) -> Option<(usize, usize, Kind)> {
    let mut i = branch.start;
    while i < branch.end {
        match out[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'#' if i == 0 || matches!(out[i - 1], b' ' | b'\t' | b'\n' | b'\r') => {
                i = line_end(out, i);
            }
            _ => break,
        }
    }
    if i >= branch.end {
        return None;
    }
    let column = i - line_start(out, i);
    let end = line_end(out, i).min(branch.end);
    Some((i, column, line_kind(&out[i..end])))
}

/// Whether two branches, kept one after the other, would clash: a later
/// branch starts deeper than the one before it (read as that branch's
/// content), or at the same column as another kind of node (a mapping
/// entry, then `{}`). A later branch that starts to the left continues an
/// enclosing collection, as either branch alone would.
fn clash(out: &[u8], branches: &[TextRange], scalars: &BlockScalarLines) -> bool {
    let shapes: Vec<(usize, usize, Kind)> =
        branches.iter().filter_map(|&b| shape(out, b)).collect();
    if shapes.iter().any(|&(at, _, _)| scalars.contains(at)) {
        // Text of a block scalar: lines, not nodes; nothing clashes.
        return false;
    }
    shapes.windows(2).any(|pair| {
        let ((_, before, kind_before), (_, after, kind_after)) = (pair[0], pair[1]);
        after > before || (after == before && kind_after != kind_before)
    })
}

/// Which lines of the masked text are the content of a block scalar
/// (`key: |` and the lines indented past it).
struct BlockScalarLines {
    /// Where each line starts, and whether it is a block scalar's content.
    lines: Vec<(usize, bool)>,
}

impl BlockScalarLines {
    fn new(out: &[u8]) -> Self {
        let mut lines = Vec::new();
        let mut header: Option<usize> = None;
        for (start, end) in line_spans(out) {
            let line = &out[start..end];
            let indent = line.iter().take_while(|&&b| b == b' ').count();
            if indent == line.len() {
                lines.push((start, header.is_some()));
                continue;
            }
            if header.is_some_and(|h| indent > h) {
                lines.push((start, true));
                continue;
            }
            header = is_block_scalar_header(line).then_some(indent);
            lines.push((start, false));
        }
        Self { lines }
    }

    /// Whether the line holding `at` is a block scalar's content.
    fn contains(&self, at: usize) -> bool {
        let line = self.lines.partition_point(|&(start, _)| start <= at);
        line > 0 && self.lines[line - 1].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_kinds() {
        assert_eq!(line_kind(b"- a"), Kind::Item);
        assert_eq!(line_kind(b"-"), Kind::Item);
        assert_eq!(line_kind(b"-a"), Kind::Scalar);
        assert_eq!(line_kind(b"a: 1"), Kind::Entry);
        assert_eq!(line_kind(b"a:"), Kind::Entry);
        assert_eq!(line_kind(b"\"a: b\": c"), Kind::Entry);
        assert_eq!(line_kind(b"\"a: b\""), Kind::Scalar);
        assert_eq!(line_kind(b"{}"), Kind::Scalar);
        assert_eq!(line_kind(b"{a: 1}"), Kind::Scalar);
        assert_eq!(line_kind(b"a:b # c: d"), Kind::Scalar);
        assert_eq!(line_kind(b"v1"), Kind::Scalar);
    }

    #[test]
    fn branches_inside_a_block_scalar_never_clash() {
        let text = "run: |\n  {{- if .x }}\n  a=1\n  {{- else }}\n  echo \"a: b\"\n  {{- end }}\nafter: 1\n";
        let m = super::super::mask::mask(text);
        assert!(m.hidden.is_empty(), "{:?}", m.hidden);
        let scalars = BlockScalarLines::new(m.text.as_bytes());
        assert!(scalars.contains(text.find("a=1").unwrap()));
        assert!(scalars.contains(text.find("echo").unwrap()));
        assert!(!scalars.contains(text.find("after").unwrap()));
        assert!(!scalars.contains(0));
    }
}
