//! Value resolution in a Helm template: what the template's actions render,
//! as far as the rule needs it (a kind, a workload's name, the pod's
//! ServiceAccount name, a templated `automountServiceAccountToken`), read
//! from `values.yaml` or kept as the template's text.

use std::sync::Arc;

use super::accounts::{account_name, ChartAccountName};
use super::mask::{Action, Masked};
use super::sole_action;
use super::values::{reference, Reference, Resolved, ValuesFile};
use crate::objects::Workload;
use crate::text::TextRange;
use crate::tree::{Document, NodeKind};
use crate::value::get;

/// Writes the resolved kind over the placeholder of `kind: {{ … }}` (a
/// plain value reference alone after the key), padded with blanks: every
/// position stays where it was. A mask shared with others is copied only
/// when a kind is written.
/// Returns whether it wrote any (else the mask is the one `mask_with` made).
pub(super) fn resolve_kinds(text: &str, masked: &mut Arc<Masked>, values: &ValuesFile) -> bool {
    let mut writes = Vec::new();
    for action in &masked.actions {
        let line_start = text[..action.range.start]
            .rfind(['\n', '\r'])
            .map_or(0, |i| i + 1);
        let line_end = text[action.range.end..]
            .find(['\n', '\r'])
            .map_or(text.len(), |i| action.range.end + i);
        let alone_after_kind = text[line_start..action.range.start].trim() == "kind:"
            && text[action.range.end..line_end].trim().is_empty();
        if !alone_after_kind {
            continue;
        }
        let Some(Resolved::Text { value, .. }) =
            reference(&action.body).map(|r| values.resolve_text(&r))
        else {
            continue;
        };
        let fits = value.len() <= action.range.len()
            && !value.is_empty()
            && value.bytes().all(|b| b.is_ascii_alphanumeric());
        if fits {
            let padded = format!("{value:<width$}", width = action.range.len());
            writes.push((action.range, padded));
        }
    }
    if writes.is_empty() {
        return false;
    }
    let masked = Arc::make_mut(masked);
    let mut written = false;
    for (range, padded) in writes {
        // The mask wrote ASCII over the action: its ends are character
        // boundaries, and ASCII written over it keeps the text UTF-8.
        if masked.text.is_char_boundary(range.start) && masked.text.is_char_boundary(range.end) {
            masked.text.replace_range(range.start..range.end, &padded);
            written = true;
        }
    }
    written
}

/// Whether the template computes the workload's namespace: then it is the
/// release's, as good as unset here (the mask's placeholder must not show).
pub(super) fn computed_namespace(masked: &Masked, doc: &Document, workload: &Workload) -> bool {
    get(doc, workload.object, "metadata")
        .and_then(|(_, m)| get(doc, m, "namespace"))
        .is_some_and(|(_, ns)| masked.actions_in(doc.node(ns).range).next().is_some())
}

/// The workload's `metadata.name` as written in the template (resolved
/// when it is a `.Values` reference), when the template computes it.
pub(super) fn real_name(
    masked: &Masked,
    text: &str,
    values: Option<&ValuesFile>,
    doc: &Document,
    workload: &Workload,
) -> Option<String> {
    let (_, metadata) = get(doc, workload.object, "metadata")?;
    let (_, name) = get(doc, metadata, "name")?;
    let range = doc.node(name).range;
    masked.actions_in(range).next()?;
    match account_name(masked, text, range, values) {
        ChartAccountName::Known(name) | ChartAccountName::Computed(name) => Some(name),
    }
}

/// The pod's `serviceAccountName` (or `serviceAccount`), resolved; else
/// `default`.
pub(super) fn pod_account_name(
    masked: &Masked,
    text: &str,
    values: Option<&ValuesFile>,
    doc: &Document,
    workload: &Workload,
) -> ChartAccountName {
    for key in ["serviceAccountName", "serviceAccount"] {
        if let Some((_, value)) = get(doc, workload.pod_spec, key) {
            let node = doc.node(value);
            let written = matches!(&node.kind, NodeKind::Scalar { value, .. } if !value.is_empty());
            if written {
                return account_name(masked, text, node.range, values);
            }
        }
    }
    ChartAccountName::Known("default".to_string())
}

/// A field whose value (at `range`) is one action reading `.Values`.
pub(super) struct TemplatedValue<'m> {
    pub action: &'m Action,
    pub reference: Reference,
    /// What `values.yaml` (or the template's default) makes of it.
    pub resolved: Resolved,
}

/// The templated boolean at `range`: `None` when it is not one `.Values`
/// reference, or there is no `values.yaml` to read it from.
pub(super) fn templated_bool<'m>(
    masked: &'m Masked,
    text: &str,
    values: Option<&ValuesFile>,
    range: TextRange,
) -> Option<TemplatedValue<'m>> {
    let action = sole_action(masked, text, range)?;
    let reference = reference(&action.body)?;
    let resolved = values?.resolve_bool(&reference);
    Some(TemplatedValue {
        action,
        reference,
        resolved,
    })
}
