//! Fix placement in a Helm template: where the plain fix (`placement.rs`)
//! would land inside an `{{ if/with/range }}` block, or replace an action,
//! the edit is placed where it is rendered whenever the pod spec is.

use super::mask::{Action, ActionKind, Masked};
use crate::fix::{Fix, TextEdit, FIELD};
use crate::objects::Workload;
use crate::text::{LineEnding, TextRange};
use crate::tree::{Document, NodeKind};

/// The field inserted right after the pod spec's `spec:` line, at the
/// pod spec's indentation, when a template block (`{{- with … }}`)
/// opens before its first key: inserting before that key would put the
/// field inside the block. `None` when no block is in the way or the
/// line after `spec:` is itself inside one.
pub(super) fn insertion_outside_blocks(
    masked: &Masked,
    text: &str,
    doc: &Document,
    workload: &Workload,
) -> Option<Fix> {
    let NodeKind::Mapping {
        flow: false,
        entries,
    } = &doc.node(workload.pod_spec).kind
    else {
        return None;
    };
    let spec_key = doc.node(workload.spec_key).range;
    let first_key = doc.node(entries.first()?.0).range;
    let block_in_between = masked.actions.iter().any(|a| {
        a.range.start >= spec_key.end
            && a.range.end <= first_key.start
            && matches!(
                a.kind,
                ActionKind::Open | ActionKind::Else | ActionKind::End
            )
    });
    if !block_in_between {
        return None;
    }
    let bytes = text.as_bytes();
    let mut line_end = spec_key.end;
    while line_end < bytes.len() && !matches!(bytes[line_end], b'\n' | b'\r') {
        line_end += 1;
    }
    let eol = LineEnding::before(text, (line_end + 1).min(bytes.len()))
        .unwrap_or_else(|| LineEnding::first_in(text));
    let insert_at = (line_end + eol.as_str().len()).min(bytes.len());
    let same_block = masked.depth_at(insert_at) == masked.depth_at(spec_key.start)
        && !masked
            .actions
            .iter()
            .any(|a| a.range.start >= spec_key.end && a.range.start < insert_at);
    if !same_block || insert_at > first_key.start {
        return None;
    }
    let line_start = text[..first_key.start]
        .rfind(['\n', '\r'])
        .map_or(0, |i| i + 1);
    let indent: String = text[line_start..first_key.start]
        .chars()
        .take_while(|c| matches!(c, ' ' | '\t'))
        .collect();
    // At the end of a file without a final break, the break comes first.
    let new_text = if insert_at == bytes.len() && line_end == bytes.len() {
        format!("{}{indent}{FIELD}: false", eol.as_str())
    } else {
        format!("{indent}{FIELD}: false{}", eol.as_str())
    };
    Some(Fix {
        title: format!("Add {FIELD}: false to the pod spec"),
        edits: vec![TextEdit {
            range: TextRange::empty(insert_at),
            new_text,
        }],
        file: None,
    })
}

/// `false` in place of the action, when the field is rendered whenever
/// the pod spec is: inside `{{ if hasKey … }}` the new value could stay
/// unrendered, and the finding would only look fixed.
pub(super) fn template_fix(
    masked: &Masked,
    doc: &Document,
    workload: &Workload,
    action: &Action,
) -> Option<Fix> {
    let spec_key = doc.node(workload.spec_key).range.start;
    (masked.depth_at(action.range.start) == masked.depth_at(spec_key)).then(|| Fix {
        title: format!("Set {FIELD} to false in the template"),
        edits: vec![TextEdit {
            range: action.range,
            new_text: "false".to_string(),
        }],
        file: None,
    })
}
