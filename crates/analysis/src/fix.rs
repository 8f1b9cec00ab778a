//! The edits that make a pod spec compliant, shaped as RULE.md prescribes:
//! in the file's own indentation and line ending, nothing else touched.

use crate::text::{LineEnding, TextRange};
use crate::tree::{Document, NodeId, NodeKind};

pub const FIELD: &str = "automountServiceAccountToken";

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TextEdit {
    pub range: TextRange,
    pub new_text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<TextEdit>,
    /// The file the edits apply to, as the caller names files; `None` for
    /// the finding's own file (a Helm chart's `values.yaml` is another one).
    pub file: Option<String>,
}

/// Adds `automountServiceAccountToken: false` to a mapping that lacks it.
pub fn insert_field(text: &str, doc: &Document, mapping: NodeId) -> Option<Fix> {
    let node = doc.node(mapping);
    let NodeKind::Mapping { flow, entries } = &node.kind else {
        return None;
    };
    let edit = if *flow {
        insert_into_flow_mapping(text, node.range, entries.is_empty())
    } else {
        let first_key = doc.node(entries.first()?.0).range.start;
        insert_into_block_mapping(text, first_key)?
    };
    Some(Fix {
        title: format!("Add {FIELD}: false to the pod spec"),
        edits: vec![edit],
        file: None,
    })
}

/// A new line at the column of the first key, before it, after any comment
/// lines that come first. `None` when the mapping is indented with a tab:
/// YAML forbids tabs in indentation and Kubernetes rejects such a file
/// (yaml-rust2 reads `  \tkey:` anyway, but not a second line like it), so
/// no line written there could be right.
pub fn insert_into_block_mapping(text: &str, first_key: usize) -> Option<TextEdit> {
    let bytes = text.as_bytes();
    let mut line_start = first_key;
    while line_start > 0 && !matches!(bytes[line_start - 1], b'\n' | b'\r') {
        line_start -= 1;
    }
    // The mapping's indentation is where its first line's content starts:
    // a tag or anchor before the key (`! key:`, `&a key:`) belongs to it.
    let indent: String = text[line_start..first_key]
        .chars()
        .take_while(|c| matches!(c, ' ' | '\t'))
        .collect();
    if indent.contains('\t') {
        return None;
    }
    let eol = LineEnding::before(text, line_start).unwrap_or_else(|| LineEnding::first_in(text));
    Some(TextEdit {
        range: TextRange::empty(line_start),
        new_text: format!("{indent}{FIELD}: false{}", eol.as_str()),
    })
}

/// `{a: 1}` becomes `{automountServiceAccountToken: false, a: 1}`.
fn insert_into_flow_mapping(text: &str, mapping: TextRange, empty: bool) -> TextEdit {
    let mut at = mapping.start + 1;
    let next = text.as_bytes().get(at).copied();
    // Keep a `{ a: 1 }` style: the field goes after the space.
    if !empty && next == Some(b' ') {
        at += 1;
    }
    // When the `{` ends its line, no blank is left at the end of it.
    let separator = match next {
        _ if empty => "",
        Some(b'\n' | b'\r') => ",",
        _ => ", ",
    };
    TextEdit {
        range: TextRange::empty(at),
        new_text: format!("{FIELD}: false{separator}"),
    }
}

/// Replaces a wrong value (and its tag, not its anchor) with `false`.
pub fn replace_value(text: &str, doc: &Document, key: NodeId, value: NodeId) -> Fix {
    let value_node = doc.node(value);
    let key_end = doc.node(key).range.end;
    let block_collection = matches!(
        value_node.kind,
        NodeKind::Mapping { flow: false, .. } | NodeKind::Sequence { flow: false, .. }
    );
    let colon = text[key_end..value_node.range.start.max(key_end)]
        .find(':')
        .map(|i| key_end + i);
    if let (true, Some(colon)) = (block_collection, colon) {
        return Fix {
            title: format!("Set {FIELD} to false"),
            edits: replace_block_collection(text, colon, value_node.range.end),
            file: None,
        };
    }
    let edit = if value_node.is_empty_scalar() {
        let properties =
            usize::from(value_node.anchor != 0) + usize::from(value_node.tag.is_some());
        fill_empty_value(text, key_end, value_node.range.start, properties)
    } else {
        let start = if value_node.tag.is_some() {
            tag_start_before(text, value_node.range.start, key_end)
        } else {
            value_node.range.start
        };
        // A comment may follow a quoted value or a flow collection with no
        // blank (`"yes"#c`, read as go-yaml reads it): a plain `false`
        // would take it in.
        let glued = text.as_bytes().get(value_node.range.end) == Some(&b'#');
        TextEdit {
            range: TextRange::new(start, value_node.range.end),
            new_text: if glued { "false " } else { "false" }.to_string(),
        }
    };
    Fix {
        title: format!("Set {FIELD} to false"),
        edits: vec![edit],
        file: None,
    }
}

/// A block collection under `key:` starts on a later line, maybe at the
/// key's own indentation: the value goes after the colon (before any comment
/// there), and the collection's lines go.
pub(crate) fn replace_block_collection(
    text: &str,
    colon: usize,
    value_end: usize,
) -> Vec<TextEdit> {
    let bytes = text.as_bytes();
    let mut line_end = colon;
    while line_end < bytes.len() && !matches!(bytes[line_end], b'\n' | b'\r') {
        line_end += 1;
    }
    // Properties on the key's line (`key: !!seq`) go with the value.
    let rest = &text[colon + 1..line_end];
    let props_end = rest
        .split_whitespace()
        .take_while(|t| t.starts_with('!') || t.starts_with('&'))
        .last()
        .map_or(colon + 1, |t| {
            colon + 1 + rest.find(t).unwrap_or(0) + t.len()
        });
    // Only among those properties: a `!` in a comment after them is no tag
    // (found by fuzzing: the edit's range came out reversed).
    let tag_start = rest
        .split_whitespace()
        .take_while(|t| t.starts_with('!') || t.starts_with('&'))
        .find(|t| t.starts_with('!'))
        .map(|t| colon + 1 + rest.find(t).unwrap_or(0));
    let first = match tag_start {
        Some(tag) => TextEdit {
            range: TextRange::new(tag - 1, props_end),
            new_text: " false".to_string(),
        },
        None => TextEdit {
            range: TextRange::empty(props_end),
            new_text: " false".to_string(),
        },
    };
    // The collection's last line goes whole: after the collection's end it
    // can hold only an empty value's anchor or tag (`a: &x`), or a comment
    // (found by fuzzing: `&x` was left after the new `false`).
    let mut value_end = value_end.max(line_end);
    while value_end < bytes.len() && !matches!(bytes[value_end], b'\n' | b'\r') {
        value_end += 1;
    }
    vec![
        first,
        TextEdit {
            range: TextRange::new(line_end, value_end),
            new_text: String::new(),
        },
    ]
}

/// `key:` (or `key: &a`, `key: !!null`) gets the value `false`. `properties`
/// is how many the empty value carries (its anchor, its tag: 0 to 2).
pub(crate) fn fill_empty_value(
    text: &str,
    key_end: usize,
    empty_at: usize,
    properties: usize,
) -> TextEdit {
    let bytes = text.as_bytes();
    if empty_at == 0 || bytes.get(empty_at - 1) != Some(&b':') {
        // A flow entry with no colon: `{automountServiceAccountToken}`.
        return TextEdit {
            range: TextRange::empty(key_end),
            new_text: ": false".to_string(),
        };
    }
    // Skip the value's properties, which may be on later lines after
    // comments (`key:⏎  &a`; found by fuzzing: `false` went before the
    // anchor's line, and `false &a` was read as one string): an anchor stays,
    // a tag (such as `!!null`) is replaced by the value.
    let mut pos = empty_at;
    let mut insert_at = empty_at;
    let mut tag = None;
    for _ in 0..properties {
        loop {
            match bytes.get(pos) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => pos += 1,
                Some(b'#') if matches!(bytes[pos - 1], b' ' | b'\t' | b'\r' | b'\n') => {
                    while pos < bytes.len() && !matches!(bytes[pos], b'\r' | b'\n') {
                        pos += 1;
                    }
                }
                _ => break,
            }
        }
        match bytes.get(pos) {
            Some(b'&') => {
                pos = prop_end(bytes, pos);
                insert_at = pos;
            }
            Some(b'!') => {
                tag = Some(TextRange::new(pos, prop_end(bytes, pos)));
                pos = prop_end(bytes, pos);
            }
            _ => break,
        }
    }
    match tag {
        None => TextEdit {
            range: TextRange::empty(insert_at),
            new_text: " false".to_string(),
        },
        Some(tag) if insert_at <= tag.start => TextEdit {
            range: tag,
            new_text: "false".to_string(),
        },
        // An anchor after the tag (`!!null &a`) stays before the value.
        Some(tag) => TextEdit {
            range: TextRange::new(tag.start, insert_at),
            new_text: format!("{} false", text[tag.end..insert_at].trim_start()),
        },
    }
}

fn prop_end(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < bytes.len() && !matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n' | b',' | b'}' | b']')
    {
        i += 1;
    }
    i
}

/// The start of the tag written before `value_start` (`!!str "x"`), or
/// `value_start` when the token before it is not a tag.
pub(crate) fn tag_start_before(text: &str, value_start: usize, not_before: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = value_start;
    while i > not_before && matches!(bytes[i - 1], b' ' | b'\t' | b'\r' | b'\n') {
        i -= 1;
    }
    let token_end = i;
    while i > not_before && !matches!(bytes[i - 1], b' ' | b'\t' | b'\r' | b'\n') {
        i -= 1;
    }
    if token_end > i && bytes[i] == b'!' {
        i
    } else {
        value_start
    }
}

/// Applies non-overlapping edits (in any order) to `text`.
pub fn apply_edits(text: &str, edits: &[TextEdit]) -> String {
    let mut sorted: Vec<&TextEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    sorted.dedup();
    let mut out = String::with_capacity(text.len() + 64 * sorted.len());
    let mut pos = 0;
    for edit in sorted {
        if edit.range.start < pos || edit.range.end > text.len() {
            // Overlapping or stale edit: skipping it is the only safe choice.
            continue;
        }
        out.push_str(&text[pos..edit.range.start]);
        out.push_str(&edit.new_text);
        pos = edit.range.end;
    }
    out.push_str(&text[pos..]);
    out
}
