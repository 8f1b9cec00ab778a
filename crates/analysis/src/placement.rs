//! Where a TG001 finding on a plain pod spec is reported, and which edit
//! fixes it (RULE.md, "The decision" and "The fix, exactly"); the edits
//! themselves are written by `fix.rs`.

use crate::fix::{insert_field, replace_value, Fix};
use crate::objects::Workload;
use crate::text::TextRange;
use crate::tree::{Document, NodeId};

/// The range to report and the fix, for a pod spec whose field is `field`
/// (its key and value; `None`: absent). `null` is reported on the key, any
/// other value on the value, an absent field on the pod spec's `spec` key.
pub(crate) fn place(
    text: &str,
    doc: &Document,
    workload: &Workload,
    field: Option<(NodeId, NodeId)>,
    null: bool,
) -> (TextRange, Option<Fix>) {
    match field {
        Some((key, value)) => {
            let at = if null { key } else { value };
            (
                doc.node(at).range,
                Some(replace_value(text, doc, key, value)),
            )
        }
        None => (
            doc.node(workload.spec_key).range,
            insert_field(text, doc, workload.pod_spec),
        ),
    }
}
