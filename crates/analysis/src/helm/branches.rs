//! Branches of `{{ if }}` blocks that `values.yaml` turns off.
//!
//! The mask keeps the branches of a conditional that do not clash (see
//! `blocks.rs`), so a pod spec can hold `serviceAccountName` (or the field)
//! twice. Where the condition is a plain value (`if .Values.a`, `if not
//! .Values.a`) that `values.yaml` decides (a boolean, a missing or null
//! value, or a map or list: true when it is not empty), the entries of the
//! branch that is not rendered are dropped before judging.

use super::mask::{ActionKind, Masked};
use super::values::{reference, Resolved, ValuesFile};
use crate::text::TextRange;
use crate::tree::{Document, NodeKind};

/// The parts of the template that the values leave unrendered.
pub fn inactive_ranges(masked: &Masked, values: &ValuesFile) -> Vec<TextRange> {
    struct Open {
        /// The condition's value, when the block is an `if` that resolves.
        condition: Option<bool>,
        /// Where the current branch's content starts, and whether it is the
        /// `if` branch (`true`) or the plain `else` one (`false`).
        branch_start: usize,
        in_if_branch: bool,
        /// An `else if` came: what follows is not decided here.
        undecided: bool,
    }
    let mut inactive = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    for action in &masked.actions {
        match action.kind {
            ActionKind::Open => stack.push(Open {
                condition: condition(&action.body, values),
                branch_start: action.range.end,
                in_if_branch: true,
                undecided: false,
            }),
            ActionKind::Else | ActionKind::End => {
                let Some(open) = stack.last_mut() else {
                    continue;
                };
                if let (Some(condition), false) = (open.condition, open.undecided) {
                    if condition != open.in_if_branch {
                        inactive.push(TextRange::new(open.branch_start, action.range.start));
                    }
                }
                if action.kind == ActionKind::End {
                    stack.pop();
                } else {
                    open.undecided |= action.body != "else";
                    open.in_if_branch = false;
                    open.branch_start = action.range.end;
                }
            }
            _ => {}
        }
    }
    inactive
}

/// `if .Values.a` or `if not .Values.a`, as the values decide it.
pub(super) fn condition(body: &str, values: &ValuesFile) -> Option<bool> {
    let rest = body.strip_prefix("if ")?.trim();
    let (negated, rest) = match rest.strip_prefix("not ") {
        Some(inner) => (true, inner.trim()),
        None => (false, rest),
    };
    let reference = reference(rest)?;
    let truth = match values.resolve_bool_unplaced(&reference) {
        Resolved::Bool { value, .. } => value,
        Resolved::Empty { .. } => false,
        Resolved::Text { .. } | Resolved::Unknown => values.collection_truth(&reference)?,
    };
    Some(truth != negated)
}

/// `doc` without the mapping entries whose key lies in `inactive`.
pub fn pruned(doc: &Document, inactive: &[TextRange]) -> Document {
    let mut pruned = doc.clone();
    let key_starts: Vec<usize> = pruned.nodes.iter().map(|n| n.range.start).collect();
    for node in &mut pruned.nodes {
        if let NodeKind::Mapping { entries, .. } = &mut node.kind {
            entries.retain(|&(key, _)| {
                let at = key_starts[key];
                !inactive.iter().any(|r| r.start <= at && at < r.end)
            });
        }
    }
    pruned
}

#[cfg(test)]
mod tests {
    use super::super::mask::mask;
    use super::*;

    #[test]
    fn the_branch_the_values_turn_off_is_inactive() {
        let text = "{{- if .Values.on }}\na: 1\n{{- else }}\nb: 2\n{{- end }}\n{{- if not .Values.on }}\nc: 3\n{{- end }}\n{{- if .Values.unknown.x }}\nd: 4\n{{- else if .Values.on }}\ne: 5\n{{- end }}\n";
        let values = ValuesFile::new("v", "on: true\nunknown: {x: [1]}\n");
        let masked = mask(text);
        let inactive = inactive_ranges(&masked, &values);
        let dropped: Vec<&str> = inactive
            .iter()
            .map(|r| text[r.start..r.end].trim())
            .collect();
        assert_eq!(dropped, ["b: 2", "c: 3"]);
        let parsed = crate::parse(&masked.text, crate::Options::builtin());
        let doc = pruned(&parsed.documents[0], &inactive);
        let root = doc.root.unwrap();
        let NodeKind::Mapping { entries, .. } = &doc.node(root).kind else {
            panic!("a mapping");
        };
        let keys: Vec<&str> = entries
            .iter()
            .map(|&(k, _)| crate::value::read_string(&doc, k).unwrap())
            .collect();
        assert_eq!(keys, ["a", "d", "e"]);
    }
}
