//! Roles and bindings read from a parsed document, with the ranges of the
//! values that name them; and `rbac_of_text`, the cheap pass that reads
//! only the documents whose text can hold one (`rbac_of_template` for a
//! chart template's masked text).

use crate::split;
use crate::text::{LineIndex, TextRange};
use crate::tree::{self, ChunkResult, Document, NodeId, NodeKind};
use crate::value::{get, get_mapping, read_string};

use super::model::{
    BindingDef, BindingKind, LabelRequirement, LabelSelector, PolicyRule, RbacObjects, RoleDef,
    RoleKind, RoleRef, Subject, SubjectKind,
};

/// The API group of RBAC objects.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// One RBAC object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RbacObject {
    Role(RoleDef),
    Binding(BindingDef),
}

/// How scalars are read: as written, or, in a chart template's masked text,
/// with a value that holds a template action read as its template text
/// (`{{ include "chart.fullname" . }}`): it then names only what is written
/// the same way, never a guessed rendering.
#[derive(Clone, Copy)]
struct Reader<'a> {
    doc: &'a Document,
    /// The template's own text, when `doc` was parsed from its masked text.
    template: Option<(&'a str, &'a str)>,
}

impl<'a> Reader<'a> {
    /// A scalar's value (`None` for null and collections).
    fn string(&self, node: NodeId) -> Option<String> {
        let value = read_string(self.doc, node)?;
        if let Some((original, masked)) = self.template {
            let range = self.doc.node(self.doc.resolve(node)).range;
            let written = original.get(range.start..range.end);
            if written.is_some() && written != masked.get(range.start..range.end) {
                return written.map(|w| w.trim().trim_matches(['"', '\'']).to_string());
            }
        }
        Some(value.to_string())
    }

    /// Whether the scalar holds a template action.
    fn is_templated(&self, node: NodeId) -> bool {
        self.template.is_some_and(|(original, masked)| {
            let range = self.doc.node(self.doc.resolve(node)).range;
            original.get(range.start..range.end) != masked.get(range.start..range.end)
        })
    }

    fn get_string(&self, mapping: NodeId, key: &str) -> Option<String> {
        self.string(get(self.doc, mapping, key)?.1)
    }

    /// A namespace: empty is absent; a templated one (most often
    /// `{{ .Release.Namespace }}`) is the namespace the chart is installed
    /// into, which is what an absent one means too.
    fn namespace(&self, mapping: NodeId) -> Option<String> {
        let (_, node) = get(self.doc, mapping, "namespace")?;
        if self.is_templated(node) {
            return None;
        }
        self.string(node).filter(|ns| !ns.is_empty())
    }
}

/// The RBAC object `object` is, if it is one: kind Role, ClusterRole,
/// RoleBinding or ClusterRoleBinding with an `apiVersion` of
/// `rbac.authorization.k8s.io/*` (or none: a document being written).
pub fn rbac_objects(doc: &Document, object: NodeId) -> Option<RbacObject> {
    read_object(
        Reader {
            doc,
            template: None,
        },
        object,
    )
}

fn read_object(r: Reader, object: NodeId) -> Option<RbacObject> {
    let doc = r.doc;
    let kind_node = get(doc, object, "kind")?.1;
    let kind = read_string(doc, kind_node)?;
    if !matches!(
        kind,
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
    ) {
        return None;
    }
    if let Some(api_version) = r.get_string(object, "apiVersion") {
        if api_version.split_once('/').map(|(g, _)| g) != Some(RBAC_GROUP) {
            return None;
        }
    }
    let metadata = get_mapping(doc, object, "metadata").map(|(_, m)| m);
    let name_node = metadata.and_then(|m| get(doc, m, "name")).map(|(_, v)| v);
    let name = name_node.and_then(|n| r.string(n)).unwrap_or_default();
    let name_range = doc.node(name_node.unwrap_or(kind_node)).range;
    let namespace = metadata.and_then(|m| r.namespace(m));
    match kind {
        "Role" | "ClusterRole" => {
            let kind = RoleKind::from_kind(kind)?;
            Some(RbacObject::Role(RoleDef {
                kind,
                name,
                namespace: match kind {
                    RoleKind::Role => namespace,
                    // Cluster-scoped: a namespace written on it is ignored.
                    RoleKind::ClusterRole => None,
                },
                labels: metadata.map_or_else(Vec::new, |m| string_map(r, m, "labels")),
                rules: sequence(doc, object, "rules")
                    .into_iter()
                    .map(|rule| read_rule(r, rule))
                    .collect(),
                aggregation: match kind {
                    RoleKind::ClusterRole => aggregation(r, object),
                    RoleKind::Role => None,
                },
                name_range,
            }))
        }
        _ => {
            let kind = if kind == "RoleBinding" {
                BindingKind::RoleBinding
            } else {
                BindingKind::ClusterRoleBinding
            };
            Some(RbacObject::Binding(BindingDef {
                kind,
                name,
                namespace: match kind {
                    BindingKind::RoleBinding => namespace,
                    BindingKind::ClusterRoleBinding => None,
                },
                role_ref: role_ref(r, object),
                subjects: sequence(doc, object, "subjects")
                    .into_iter()
                    .filter_map(|s| subject(r, s))
                    .collect(),
                name_range,
            }))
        }
    }
}

fn role_ref(r: Reader, object: NodeId) -> Option<RoleRef> {
    let (_, role_ref) = get_mapping(r.doc, object, "roleRef")?;
    let kind = RoleKind::from_kind(&r.get_string(role_ref, "kind")?)?;
    let (_, name_node) = get(r.doc, role_ref, "name")?;
    Some(RoleRef {
        kind,
        name: r.string(name_node)?,
        range: r.doc.node(name_node).range,
    })
}

fn subject(r: Reader, subject: NodeId) -> Option<Subject> {
    let (_, name_node) = get(r.doc, subject, "name")?;
    let name = r.string(name_node)?;
    let kind = match r.get_string(subject, "kind")?.as_str() {
        "ServiceAccount" => SubjectKind::ServiceAccount {
            name,
            namespace: r.namespace(subject),
        },
        "Group" => SubjectKind::Group(name),
        "User" => SubjectKind::User(name),
        _ => return None,
    };
    Some(Subject {
        kind,
        range: r.doc.node(name_node).range,
    })
}

fn read_rule(r: Reader, rule: NodeId) -> PolicyRule {
    PolicyRule {
        api_groups: strings(r, rule, "apiGroups"),
        resources: strings(r, rule, "resources"),
        verbs: strings(r, rule, "verbs"),
        resource_names: strings(r, rule, "resourceNames"),
        non_resource_urls: strings(r, rule, "nonResourceURLs"),
    }
}

fn aggregation(r: Reader, object: NodeId) -> Option<Vec<LabelSelector>> {
    let doc = r.doc;
    let (_, rule) = get_mapping(doc, object, "aggregationRule")?;
    Some(
        sequence(doc, rule, "clusterRoleSelectors")
            .into_iter()
            .filter(|&s| matches!(doc.node(s).kind, NodeKind::Mapping { .. }))
            .map(|s| LabelSelector {
                match_labels: string_map(r, s, "matchLabels"),
                match_expressions: sequence(doc, s, "matchExpressions")
                    .into_iter()
                    .map(|e| requirement(r, e))
                    .collect(),
            })
            .collect(),
    )
}

fn requirement(r: Reader, expression: NodeId) -> LabelRequirement {
    let key = r.get_string(expression, "key").unwrap_or_default();
    let values = strings(r, expression, "values");
    match r
        .get_string(expression, "operator")
        .unwrap_or_default()
        .as_str()
    {
        "In" => LabelRequirement::In { key, values },
        "NotIn" => LabelRequirement::NotIn { key, values },
        "Exists" => LabelRequirement::Exists { key },
        "DoesNotExist" => LabelRequirement::DoesNotExist { key },
        other => LabelRequirement::Invalid {
            key,
            operator: other.to_string(),
        },
    }
}

/// The items of the sequence under `key` (aliases resolved).
fn sequence(doc: &Document, mapping: NodeId, key: &str) -> Vec<NodeId> {
    let Some((_, value)) = get(doc, mapping, key) else {
        return Vec::new();
    };
    match &doc.node(doc.resolve(value)).kind {
        NodeKind::Sequence { items, .. } => items.iter().map(|&i| doc.resolve(i)).collect(),
        _ => Vec::new(),
    }
}

/// The scalar items of the sequence under `key`.
fn strings(r: Reader, mapping: NodeId, key: &str) -> Vec<String> {
    sequence(r.doc, mapping, key)
        .into_iter()
        .filter_map(|i| r.string(i))
        .collect()
}

/// The scalar entries of the mapping under `key`, in order.
fn string_map(r: Reader, mapping: NodeId, key: &str) -> Vec<(String, String)> {
    let Some((_, value)) = get_mapping(r.doc, mapping, key) else {
        return Vec::new();
    };
    let NodeKind::Mapping { entries, .. } = &r.doc.node(r.doc.resolve(value)).kind else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|&(k, v)| Some((r.string(k)?, r.string(v).unwrap_or_default())))
        .collect()
}

/// Every RBAC object of a parsed document, `*List` items included.
pub fn of_document(doc: &Document, out: &mut RbacObjects) {
    collect(
        Reader {
            doc,
            template: None,
        },
        out,
    );
}

fn collect(r: Reader, out: &mut RbacObjects) {
    for object in crate::objects::objects(r.doc) {
        match read_object(r, object) {
            Some(RbacObject::Role(role)) => out.roles.push(role),
            Some(RbacObject::Binding(binding)) => out.bindings.push(binding),
            None => {}
        }
    }
}

/// Whether a text can hold an RBAC object: some line gives a `kind` key
/// (plain, quoted or in a flow mapping) the value `Role`, `ClusterRole`,
/// `RoleBinding` or `ClusterRoleBinding` (plain or quoted). Cheap: a
/// substring search, then a look at the few lines that hold `Role`; the
/// documents of other kinds (a CRD whose descriptions mention roles) are
/// not parsed. A kind spelt with escapes is not recognised.
pub fn may_hold_rbac(text: &str) -> bool {
    // (std's substring search: several times faster than memmem's in an
    // unoptimised build, as fast in an optimised one.)
    let bytes = text.as_bytes();
    text.match_indices("Role")
        .any(|(at, _)| names_rbac_kind(bytes, at))
}

/// Whether the `Role` at `at` is the value of a `kind` key.
fn names_rbac_kind(bytes: &[u8], at: usize) -> bool {
    // Forward: `Role` or `RoleBinding`, then the end of the value.
    let mut end = at + 4;
    if bytes[end..].starts_with(b"Binding") {
        end += 7;
    }
    if bytes.get(end).is_some_and(|&b| {
        b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.' || b == b'/'
    }) {
        return false;
    }
    // Backward: an optional `Cluster`, an optional quote, blanks, `:`,
    // blanks, an optional quote, `kind`.
    let mut start = at;
    if bytes[..start].ends_with(b"Cluster") {
        start -= 7;
    }
    let before = &bytes[..start];
    let mut i = before.len();
    if i > 0 && matches!(before[i - 1], b'"' | b'\'') {
        i -= 1;
    }
    while i > 0 && matches!(before[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    if i == 0 || before[i - 1] != b':' {
        return false;
    }
    i -= 1;
    while i > 0 && matches!(before[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    if i > 0 && matches!(before[i - 1], b'"' | b'\'') {
        i -= 1;
    }
    before[..i].ends_with(b"kind") && (i == 4 || !before[i - 5].is_ascii_alphanumeric())
}

/// The RBAC objects of a file, reading only the documents whose text can
/// hold one (like `crate::service_accounts`).
pub fn rbac_of_text(text: &str) -> RbacObjects {
    read_text(text, None)
}

/// The documents of a plain text that name an RBAC kind (the ones
/// [`rbac_of_text`] reads), each with its range and its objects (in the
/// text's positions; none when it does not parse). Concatenated in order,
/// their objects are [`rbac_of_text`]'s. An editor keeps them, so that an
/// edit re-reads only the document it lands in ([`rbac_of_document`]).
pub fn rbac_documents(text: &str) -> Vec<(TextRange, RbacObjects)> {
    rbac_document_ranges(text)
        .filter_map(|(start, end)| {
            let region = text.get(start..end)?;
            let found = read_region(region, None, start == 0).shifted(start as isize);
            Some((TextRange::new(start, end), found))
        })
        .collect()
}

/// The byte ranges of the documents of `text` that name an RBAC kind, in
/// order, each once.
fn rbac_document_ranges(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut read_until = 0;
    text.match_indices("Role").filter_map(move |(at, _)| {
        if at < read_until || !names_rbac_kind(bytes, at) {
            return None;
        }
        let (start, end) = document_around(bytes, at);
        read_until = end;
        Some((start, end))
    })
}

/// The RBAC objects of one document of [`rbac_documents`], read from its
/// text alone (positions relative to its start; `at_file_start` when it
/// starts the file).
pub fn rbac_of_document(text: &str, at_file_start: bool) -> RbacObjects {
    read_region(text, None, at_file_start)
}

/// The RBAC objects of a chart template, read from its masked text (every
/// range is the template's). Values holding a template action are read as
/// their template text; a templated namespace is the release's, read as
/// absent. Every branch of a conditional counts (the chart's values are not
/// consulted): a binding the chart may create is a binding.
pub fn rbac_of_template(text: &str) -> RbacObjects {
    if !may_hold_rbac(text) {
        return RbacObjects::default();
    }
    let masked = crate::helm::mask(text);
    read_text(&masked.text, Some(text))
}

/// Reads the documents that hold an RBAC kind, and only them: each is cut
/// out of the text at its document markers (a large file of CRDs with a
/// few roles is not split or indexed whole), read on its own, and its
/// ranges moved back to the text's.
fn read_text(text: &str, original: Option<&str>) -> RbacObjects {
    let mut out = RbacObjects::default();
    for (start, end) in rbac_document_ranges(text) {
        let (Some(region), Some(original)) = (
            text.get(start..end),
            original.map_or(Some(None), |o| o.get(start..end).map(Some)),
        ) else {
            continue;
        };
        let found = read_region(region, original, start == 0);
        let shifted = found.shifted(start as isize);
        out.roles.extend(shifted.roles);
        out.bindings.extend(shifted.bindings);
    }
    out
}

/// Whether the line starting at `line` is a document marker (`---` or
/// `...` alone or followed by a blank).
pub(super) fn is_marker_line(bytes: &[u8], line: usize) -> bool {
    let rest = &bytes[line..];
    (rest.starts_with(b"---") || rest.starts_with(b"..."))
        && rest
            .get(3)
            .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

/// The document holding byte `at`: from the marker line that opens it (or
/// the text's start) to the next marker line (or the text's end).
fn document_around(bytes: &[u8], at: usize) -> (usize, usize) {
    let mut start = 0;
    let mut line = memchr::memrchr2(b'\n', b'\r', &bytes[..at]).map_or(0, |i| i + 1);
    loop {
        if is_marker_line(bytes, line) {
            start = line;
            break;
        }
        if line == 0 {
            break;
        }
        line = memchr::memrchr2(b'\n', b'\r', &bytes[..line - 1]).map_or(0, |i| i + 1);
    }
    let mut end = bytes.len();
    let mut next = memchr::memchr2(b'\n', b'\r', &bytes[at..]).map(|i| at + i + 1);
    while let Some(line) = next {
        if line >= bytes.len() {
            break;
        }
        if is_marker_line(bytes, line) {
            end = line;
            break;
        }
        next = memchr::memchr2(b'\n', b'\r', &bytes[line..]).map(|i| line + i + 1);
    }
    (start, end)
}

/// The RBAC objects of a piece of text cut at document markers.
fn read_region(text: &str, original: Option<&str>, at_file_start: bool) -> RbacObjects {
    let mut out = RbacObjects::default();
    let line_index = LineIndex::new(text);
    let body_start = if at_file_start && text.starts_with(crate::BOM) {
        crate::BOM.len()
    } else {
        0
    };
    for chunk in split::split_documents(text, body_start) {
        let body = &text[chunk.range.start..chunk.range.end];
        if !chunk.has_content || !may_hold_rbac(body) {
            continue;
        }
        if let ChunkResult::Documents(docs) = tree::build_chunk(text, &line_index, chunk) {
            for doc in &docs {
                let template = original.map(|o| (o, text));
                collect(Reader { doc, template }, &mut out);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documents_objects_are_the_texts() {
        let text = format!("# c\n{TEXT}---\nkind: ConfigMap\ndata: {{a: Role}}\n---\nkind: Role\nmetadata: {{name: x\n---\n{TEXT}");
        let documents = rbac_documents(&text);
        let mut all = RbacObjects::default();
        for (range, objects) in &documents {
            let alone = rbac_of_document(&text[range.start..range.end], range.start == 0);
            assert_eq!(alone.shifted(range.start as isize), *objects);
            all.roles.extend(objects.roles.iter().cloned());
            all.bindings.extend(objects.bindings.iter().cloned());
        }
        assert_eq!(all, rbac_of_text(&text));
        assert!(!all.is_empty());
        assert!(
            documents.iter().any(|(_, o)| o.is_empty()),
            "a broken document that names a kind is one of them"
        );
    }

    const TEXT: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
  namespace: ignored
  labels: {rbac.authorization.k8s.io/aggregate-to-view: \"true\"}
rules:
- apiGroups: [\"\"]
  resources: [secrets]
  resourceNames: [tls]
  verbs: [get, list]
- nonResourceURLs: [/metrics]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: agg}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {team: a}
    matchExpressions:
    - {key: tier, operator: In, values: [x, y]}
    - {key: old, operator: DoesNotExist}
    - {key: z, operator: Gt}
rules: null
---
kind: ConfigMap
metadata: {name: Role}
---
apiVersion: v1
kind: List
items:
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: rb, namespace: prod}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
  subjects:
  - {kind: ServiceAccount, name: ci}
  - {kind: ServiceAccount, name: cd, namespace: ops}
  - {kind: Group, name: \"system:serviceaccounts:prod\"}
  - {kind: User, name: \"system:serviceaccount:prod:x\"}
  - {kind: Robot, name: r2}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: ClusterRoleBinding
  metadata: {name: crb, namespace: ignored}
  roleRef: {kind: ClusterRole, name: cluster-admin}
---
apiVersion: example.com/v1
kind: Role
metadata: {name: not-rbac}
";

    #[test]
    fn roles_and_bindings_are_read_with_their_ranges() {
        let objects = rbac_of_text(TEXT);
        assert_eq!(objects.roles.len(), 2);
        let reader = &objects.roles[0];
        assert_eq!(
            (reader.kind, reader.name.as_str(), &reader.namespace),
            (RoleKind::ClusterRole, "reader", &None)
        );
        assert_eq!(
            &TEXT[reader.name_range.start..reader.name_range.end],
            "reader"
        );
        assert_eq!(
            reader.labels,
            vec![(
                "rbac.authorization.k8s.io/aggregate-to-view".to_string(),
                "true".to_string()
            )]
        );
        assert_eq!(reader.rules.len(), 2);
        assert_eq!(reader.rules[0].resource_names, vec!["tls".to_string()]);
        assert_eq!(reader.rules[0].api_groups, vec![String::new()]);
        assert_eq!(
            reader.rules[1].non_resource_urls,
            vec!["/metrics".to_string()]
        );
        assert!(reader.aggregation.is_none());

        let agg = &objects.roles[1];
        let selectors = agg.aggregation.as_ref().unwrap();
        assert_eq!(selectors.len(), 1);
        assert_eq!(
            selectors[0].match_labels,
            vec![("team".to_string(), "a".to_string())]
        );
        assert_eq!(
            selectors[0].match_expressions,
            vec![
                LabelRequirement::In {
                    key: "tier".into(),
                    values: vec!["x".into(), "y".into()]
                },
                LabelRequirement::DoesNotExist { key: "old".into() },
                LabelRequirement::Invalid {
                    key: "z".into(),
                    operator: "Gt".into()
                },
            ]
        );

        assert_eq!(objects.bindings.len(), 2);
        let rb = &objects.bindings[0];
        assert_eq!(
            (rb.kind, rb.name.as_str(), rb.namespace.as_deref()),
            (BindingKind::RoleBinding, "rb", Some("prod"))
        );
        let role_ref = rb.role_ref.as_ref().unwrap();
        assert_eq!(
            (role_ref.kind, role_ref.name.as_str()),
            (RoleKind::Role, "deployer")
        );
        assert_eq!(&TEXT[role_ref.range.start..role_ref.range.end], "deployer");
        let kinds: Vec<&SubjectKind> = rb.subjects.iter().map(|s| &s.kind).collect();
        assert_eq!(
            kinds,
            [
                &SubjectKind::ServiceAccount {
                    name: "ci".into(),
                    namespace: None
                },
                &SubjectKind::ServiceAccount {
                    name: "cd".into(),
                    namespace: Some("ops".into())
                },
                &SubjectKind::Group("system:serviceaccounts:prod".into()),
                &SubjectKind::User("system:serviceaccount:prod:x".into()),
            ]
        );
        assert_eq!(
            &TEXT[rb.subjects[1].range.start..rb.subjects[1].range.end],
            "cd"
        );
        let crb = &objects.bindings[1];
        assert_eq!(
            (crb.kind, crb.namespace.as_ref()),
            (BindingKind::ClusterRoleBinding, None)
        );
        assert!(crb.subjects.is_empty());
    }

    #[test]
    fn templated_values_are_read_as_their_template_text() {
        let template = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ include \"app.fullname\" . }}
  namespace: {{ .Release.Namespace }}
roleRef:
  kind: Role
  name: {{ .Values.role }}
subjects:
{{- if .Values.bind }}
- kind: ServiceAccount
  name: {{ include \"app.serviceAccountName\" . }}
  namespace: {{ .Release.Namespace }}
{{- end }}
- kind: ServiceAccount
  name: builder
";
        let objects = rbac_of_template(template);
        let b = &objects.bindings[0];
        assert_eq!(b.name, "{{ include \"app.fullname\" . }}");
        assert_eq!(b.namespace, None);
        assert_eq!(b.role_ref.as_ref().unwrap().name, "{{ .Values.role }}");
        assert_eq!(
            b.subjects[0].kind,
            SubjectKind::ServiceAccount {
                name: "{{ include \"app.serviceAccountName\" . }}".into(),
                namespace: None
            }
        );
        assert_eq!(
            b.subjects[1].kind,
            SubjectKind::ServiceAccount {
                name: "builder".into(),
                namespace: None
            }
        );
        let range = b.subjects[1].range;
        assert_eq!(&template[range.start..range.end], "builder");
    }

    #[test]
    fn only_the_documents_holding_a_role_kind_are_read_and_ranges_stay_the_texts() {
        let text = "kind: ConfigMap\ndata: {a: Role}\n---\nkind: Role\nmetadata: {name: a}\n---\nkind: Pod\n...\n--- # next\nkind: ClusterRoleBinding\nmetadata: {name: b}\n";
        let objects = rbac_of_text(text);
        assert_eq!(objects.roles.len(), 1);
        let r = objects.roles[0].name_range;
        assert_eq!(&text[r.start..r.end], "a");
        let b = objects.bindings[0].name_range;
        assert_eq!(&text[b.start..b.end], "b");
        assert_eq!(
            document_around(text.as_bytes(), text.find("Role\nmeta").unwrap()),
            (32, 67)
        );
        let bom = "\u{feff}kind: Role\nmetadata: {name: c}\n";
        let r = rbac_of_text(bom).roles[0].name_range;
        assert_eq!(&bom[r.start..r.end], "c");
    }

    #[test]
    fn text_without_a_role_kind_is_not_parsed() {
        assert!(!may_hold_rbac("kind: Deployment\n"));
        for yes in [
            "kind: Role\n",
            "kind: ClusterRole",
            "  - kind: RoleBinding # x\n",
            "kind:  \"ClusterRoleBinding\"\n",
            "{\"kind\": \"Role\", \"x\": 1}",
            "{kind: ClusterRole, metadata: {}}",
            "kind:\tRole\n",
        ] {
            assert!(may_hold_rbac(yes), "{yes:?}");
        }
        for no in [
            "description: the Role to bind\n",
            "kind: RoleList2\n",
            "kind: IAMRole\n",
            "subkind: Role\n",
            "roleRef: {kind: ClusterRoleX}\n",
            "kind: Rolex\n",
            "Role",
        ] {
            assert!(!may_hold_rbac(no), "{no:?}");
        }
        assert!(rbac_of_text("kind: Deployment\nmetadata: {name: web}\n").is_empty());
        assert!(rbac_of_text("kind: ClusterRole\nmetadata: [broken\n").is_empty());
        let unnamed = rbac_of_text("kind: Role\n");
        assert_eq!(unnamed.roles[0].name, "");
        assert_eq!(unnamed.roles[0].name_range, TextRange::new(6, 10));
    }
}
