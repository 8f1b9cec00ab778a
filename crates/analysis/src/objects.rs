//! Kubernetes objects in a parsed document: workloads with their pod specs,
//! and ServiceAccounts.

use crate::kinds::WorkloadKinds;
use crate::text::TextRange;
use crate::tree::{Document, NodeId, NodeKind};
use crate::value::{get, get_mapping, get_string, read_bool_field, BoolField};

/// An object with a pod spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    pub kind: String,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// The object's mapping node.
    pub object: NodeId,
    /// The innermost `spec` key, and the pod spec mapping under it.
    pub spec_key: NodeId,
    pub pod_spec: NodeId,
}

/// How a ServiceAccount sets automounting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountAutomount {
    /// `automountServiceAccountToken: false`.
    Disabled,
    /// Explicitly `true`.
    Enabled,
    /// Absent or null: Kubernetes mounts the token.
    Default,
    /// Not a boolean: the API server would reject the account.
    Invalid,
}

/// A ServiceAccount object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAccount {
    pub name: String,
    pub namespace: Option<String>,
    pub automount: AccountAutomount,
    /// The account's `metadata.name` value (or its `kind` value when unnamed).
    pub name_range: TextRange,
    /// Its `automountServiceAccountToken` key and value, when present.
    pub automount_key: Option<TextRange>,
    pub automount_value: Option<TextRange>,
    /// Whether that value is a block collection: it starts on a later line,
    /// and a fix must remove its lines, not only its range.
    pub automount_value_is_block: bool,
    /// How many properties (anchor, tag) that value carries: a fix of an
    /// empty value skips or replaces them, wherever they are.
    pub automount_value_properties: usize,
    /// The first key of the object's mapping, and the mapping's range: where a
    /// fix inserts the field when the account lacks it.
    pub object: TextRange,
    pub first_key: Option<TextRange>,
    /// Whether the object is a flow mapping.
    pub flow: bool,
}

impl ServiceAccount {
    /// The same account in a text where its document starts `by` bytes later.
    pub fn shifted(&self, by: usize) -> ServiceAccount {
        let by = by as isize;
        ServiceAccount {
            name_range: self.name_range.shifted(by),
            automount_key: self.automount_key.map(|r| r.shifted(by)),
            automount_value: self.automount_value.map(|r| r.shifted(by)),
            object: self.object.shifted(by),
            first_key: self.first_key.map(|r| r.shifted(by)),
            ..self.clone()
        }
    }
}

/// Every top-level object of the document, with the items of `*List` kinds
/// in their place (recursively, without recursion).
pub fn objects(doc: &Document) -> Vec<NodeId> {
    let mut out = Vec::new();
    let Some(root) = doc.root else {
        return out;
    };
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        if !matches!(doc.node(id).kind, NodeKind::Mapping { .. }) {
            continue;
        }
        out.push(id);
        let is_list = get_string(doc, id, "kind").is_some_and(|k| k.ends_with("List"));
        if !is_list {
            continue;
        }
        if let Some((_, items)) = get(doc, id, "items") {
            if let NodeKind::Sequence { items, .. } = &doc.node(items).kind {
                stack.extend(items.iter().rev().copied());
            }
        }
    }
    out
}

pub fn workload(doc: &Document, object: NodeId, kinds: &WorkloadKinds) -> Option<Workload> {
    let kind = get_string(doc, object, "kind")?;
    let path = kinds.pod_spec_path(get_string(doc, object, "apiVersion"), kind)?;
    let mut current = object;
    let mut spec_key = None;
    for segment in path {
        let (key, value) = get_mapping(doc, current, segment)?;
        spec_key = Some(key);
        current = value;
    }
    if !has_scalar_keys(doc, current) {
        return None;
    }
    let metadata = get_mapping(doc, object, "metadata").map(|(_, m)| m);
    Some(Workload {
        kind: kind.to_string(),
        name: metadata.and_then(|m| object_name(doc, m)),
        namespace: metadata.and_then(|m| namespace(doc, m)),
        object,
        spec_key: spec_key?,
        pod_spec: current,
    })
}

/// `metadata.namespace`; empty is the same as absent (Go's unset string):
/// both mean the namespace the object is applied into.
fn namespace(doc: &Document, metadata: NodeId) -> Option<String> {
    get_string(doc, metadata, "namespace")
        .filter(|ns| !ns.is_empty())
        .map(str::to_string)
}

/// A pod spec's keys are field names. An unquoted template such as
/// `spec: {{ toYaml .Values.pod }}` reads as a mapping whose key is itself a
/// mapping: that is a template expression, not a pod spec, and is not judged.
fn has_scalar_keys(doc: &Document, mapping: NodeId) -> bool {
    match &doc.node(mapping).kind {
        NodeKind::Mapping { entries, .. } => entries
            .iter()
            .all(|&(k, _)| matches!(doc.node(k).kind, NodeKind::Scalar { .. })),
        _ => false,
    }
}

fn object_name(doc: &Document, metadata: NodeId) -> Option<String> {
    get_string(doc, metadata, "name")
        .map(str::to_string)
        .or_else(|| get_string(doc, metadata, "generateName").map(|g| format!("{g}*")))
}

pub fn service_account(doc: &Document, object: NodeId) -> Option<ServiceAccount> {
    if get_string(doc, object, "kind")? != "ServiceAccount" {
        return None;
    }
    let (_, metadata) = get_mapping(doc, object, "metadata")?;
    let (_, name_node) = get(doc, metadata, "name")?;
    let name = crate::value::read_string(doc, name_node)?.to_string();
    let field = get(doc, object, "automountServiceAccountToken");
    let automount = match field.map(|(_, v)| read_bool_field(doc, v)) {
        Some(BoolField::False) => AccountAutomount::Disabled,
        Some(BoolField::True) => AccountAutomount::Enabled,
        Some(BoolField::Null) | None => AccountAutomount::Default,
        Some(BoolField::NotBoolean(_)) => AccountAutomount::Invalid,
    };
    let node = doc.node(object);
    let (flow, first_key) = match &node.kind {
        NodeKind::Mapping { flow, entries } => {
            (*flow, entries.first().map(|&(k, _)| doc.node(k).range))
        }
        _ => (false, None),
    };
    Some(ServiceAccount {
        name,
        namespace: namespace(doc, metadata),
        automount,
        name_range: doc.node(name_node).range,
        automount_key: field.map(|(k, _)| doc.node(k).range),
        automount_value: field.map(|(_, v)| doc.node(v).range),
        automount_value_is_block: field.is_some_and(|(_, v)| {
            matches!(
                doc.node(v).kind,
                NodeKind::Mapping { flow: false, .. } | NodeKind::Sequence { flow: false, .. }
            )
        }),
        automount_value_properties: field.map_or(0, |(_, v)| {
            let value = doc.node(v);
            usize::from(value.anchor != 0) + usize::from(value.tag.is_some())
        }),
        object: node.range,
        first_key,
        flow,
    })
}
