//! The projected token action: for a pod that does need the Kubernetes API,
//! what the Kubernetes documentation recommends instead of the automounted
//! token. Automounting is turned off (the finding's own fix), and the pod
//! mounts, in every container and init container, a `projected` volume at the
//! path the automounted one used
//! (`/var/run/secrets/kubernetes.io/serviceaccount`), holding the three files
//! the automounted volume holds: a short-lived `serviceAccountToken` (`token`,
//! rotated by the kubelet before it expires), the cluster's CA certificate
//! (`ca.crt`, from the `kube-root-ca.crt` ConfigMap every namespace has) and
//! the pod's `namespace` (downward API). In-pod clients that read those files
//! keep working; the token now expires after `expirationSeconds` and is meant
//! for one audience.
//!
//! The edits are written in the file's own style: indentation step, sequence
//! indentation (`- ` under the key or indented), line ending. Where the pod
//! spec's shape makes an exact edit unsafe (a flow collection on the way, an
//! anchor, an alias or a merge key in the pod spec, a tab in an indentation,
//! a volume or a mount already using the name or the path) there is no action
//! rather than a wrong one; and every action is checked before it is offered:
//! the edited text is read again and the pod spec's data must be the old data
//! plus exactly the added keys and items.

use std::collections::BTreeMap;

use crate::finding::{Code, Finding};
use crate::fix::{apply_edits, Fix, TextEdit, FIELD};
use crate::split::split_documents;
use crate::text::{LineEnding, LineIndex, TextRange};
use crate::tree::{self, ChunkResult, Document, NodeId, NodeKind, ScalarStyle};

/// The action's title.
pub const PROJECTED_TOKEN_TITLE: &str =
    "Mount a short-lived projected token instead of the automounted one";

/// The name of the volume the action adds.
pub const PROJECTED_VOLUME: &str = "kube-api-access";

/// Where the automounted token's volume is mounted, and so the projected one.
pub const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The token the projected volume asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenProjection {
    /// How long the token is valid; the kubelet renews it before it expires
    /// (the API server accepts 600 seconds at least).
    pub expiration_seconds: u32,
    /// Who the token is for. `None` writes no `audience`, which means the API
    /// server itself: the only audience under which the in-pod Kubernetes
    /// clients this volume stands in for keep working. A guessed value
    /// (clusters name their API server differently) would break them.
    pub audience: Option<String>,
}

impl Default for TokenProjection {
    fn default() -> Self {
        TokenProjection {
            expiration_seconds: 3600,
            audience: None,
        }
    }
}

/// The edits that turn automounting off in `finding`'s pod spec and mount a
/// projected, short-lived token instead, in `text` (the finding's file).
/// `None` when the finding is not a TG001 on a plain manifest's pod spec with
/// a fix in this file, or when the pod spec's shape makes the edit unsafe.
pub fn projected_token(text: &str, finding: &Finding, projection: &TokenProjection) -> Option<Fix> {
    if finding.code != Code::TG001 || finding.helm.is_some() || finding.occurrences > 1 {
        return None;
    }
    if projection.expiration_seconds < 600 {
        return None;
    }
    let own_fix = finding.fix.as_ref().filter(|f| f.file.is_none())?;
    let pod_spec_range = finding.pod_spec?;
    let index = LineIndex::new(text);
    let located = locate(text, &index, pod_spec_range)?;
    let doc = &located.doc;
    let pod_spec = located.pod_spec;
    if !plain_subtree(doc, pod_spec) {
        return None;
    }
    let NodeKind::Mapping {
        flow: false,
        entries,
    } = &doc.node(pod_spec).kind
    else {
        return None;
    };
    let spec_key = located.spec_key?;
    let spec_col = column(text, doc.node(spec_key).range.start)?;
    let pod_col = column(text, doc.node(entries.first()?.0).range.start)?;
    let step = if pod_col > spec_col {
        pod_col - spec_col
    } else {
        2
    };

    // The containers: a block sequence of block mappings, whose dashes tell
    // how this file indents sequences under their key.
    let mut containers = Vec::new();
    let mut seq_offset = None;
    for key in ["containers", "initContainers"] {
        let Some((k, v)) = unique_entry(doc, pod_spec, key)? else {
            if key == "containers" {
                return None;
            }
            continue;
        };
        let NodeKind::Sequence { flow: false, items } = &doc.node(v).kind else {
            return None;
        };
        let key_col = column(text, doc.node(k).range.start)?;
        for &item in items {
            let dash = dash_column(text, doc.node(item).range.start)?;
            if dash < key_col {
                return None;
            }
            seq_offset.get_or_insert(dash - key_col);
            if !matches!(doc.node(item).kind, NodeKind::Mapping { flow: false, .. }) {
                return None;
            }
            containers.push(item);
        }
    }
    let style = Style {
        step,
        seq: seq_offset?,
    };
    if containers.is_empty() {
        return None;
    }

    let mut inserts: Vec<Insert> = Vec::new();
    // The volume: appended to `volumes`, or a new `volumes` at the pod spec's end.
    let volume = volume_item(projection);
    match unique_entry(doc, pod_spec, "volumes")? {
        Some((_, v)) => {
            let NodeKind::Sequence { flow: false, items } = &doc.node(v).kind else {
                return None;
            };
            for &item in items {
                let NodeKind::Mapping { flow: false, .. } = doc.node(item).kind else {
                    return None;
                };
                if string_field(doc, item, "name")? == Some(PROJECTED_VOLUME) {
                    return None;
                }
            }
            inserts.push(append_item(text, doc, v, &volume, style)?);
        }
        None => inserts.push(new_key(text, doc, pod_spec, "volumes", &volume, style)?),
    }
    // The mount, in each container.
    let mount = mount_item();
    for &container in &containers {
        match unique_entry(doc, container, "volumeMounts")? {
            Some((_, v)) => {
                let NodeKind::Sequence { flow: false, items } = &doc.node(v).kind else {
                    return None;
                };
                for &item in items {
                    let NodeKind::Mapping { flow: false, .. } = doc.node(item).kind else {
                        return None;
                    };
                    let path = string_field(doc, item, "mountPath")?;
                    if string_field(doc, item, "name")? == Some(PROJECTED_VOLUME)
                        || path.is_some_and(|p| p.trim_end_matches('/') == TOKEN_MOUNT_PATH)
                    {
                        return None;
                    }
                }
                inserts.push(append_item(text, doc, v, &mount, style)?);
            }
            None => inserts.push(new_key(
                text,
                doc,
                container,
                "volumeMounts",
                &mount,
                style,
            )?),
        }
    }

    let mut edits = own_fix.edits.clone();
    edits.extend(merge(inserts));
    let fixed = apply_edits(text, &edits);
    let expected = expected_data(doc, pod_spec, &containers, &volume, &mount)?;
    let new_doc = locate_path(&fixed, &located)?;
    let actual = data(&new_doc.0, new_doc.1, 0)?;
    (actual == expected).then(|| Fix {
        title: PROJECTED_TOKEN_TITLE.to_string(),
        edits,
        file: None,
    })
}

/// How the file indents: a nested mapping `step` columns in, a sequence's
/// dashes `seq` columns in from its key.
#[derive(Clone, Copy)]
struct Style {
    step: usize,
    seq: usize,
}

/// YAML to write: plain scalars, double-quoted ones, mappings, sequences.
#[derive(Clone, Debug)]
enum Y {
    Plain(&'static str),
    Number(u32),
    Quoted(String),
    Map(Vec<(&'static str, Y)>),
    Seq(Vec<Y>),
}

fn volume_item(projection: &TokenProjection) -> Y {
    let mut token = vec![
        ("path", Y::Plain("token")),
        (
            "expirationSeconds",
            Y::Number(projection.expiration_seconds),
        ),
    ];
    if let Some(audience) = &projection.audience {
        token.push(("audience", Y::Quoted(audience.clone())));
    }
    Y::Map(vec![
        ("name", Y::Plain(PROJECTED_VOLUME)),
        (
            "projected",
            Y::Map(vec![(
                "sources",
                Y::Seq(vec![
                    Y::Map(vec![("serviceAccountToken", Y::Map(token))]),
                    Y::Map(vec![(
                        "configMap",
                        Y::Map(vec![
                            ("name", Y::Plain("kube-root-ca.crt")),
                            (
                                "items",
                                Y::Seq(vec![Y::Map(vec![
                                    ("key", Y::Plain("ca.crt")),
                                    ("path", Y::Plain("ca.crt")),
                                ])]),
                            ),
                        ]),
                    )]),
                    Y::Map(vec![(
                        "downwardAPI",
                        Y::Map(vec![(
                            "items",
                            Y::Seq(vec![Y::Map(vec![
                                ("path", Y::Plain("namespace")),
                                (
                                    "fieldRef",
                                    Y::Map(vec![
                                        ("apiVersion", Y::Plain("v1")),
                                        ("fieldPath", Y::Plain("metadata.namespace")),
                                    ]),
                                ),
                            ])]),
                        )]),
                    )]),
                ]),
            )]),
        ),
    ])
}

fn mount_item() -> Y {
    Y::Map(vec![
        ("name", Y::Plain(PROJECTED_VOLUME)),
        ("mountPath", Y::Plain(TOKEN_MOUNT_PATH)),
        ("readOnly", Y::Plain("true")),
    ])
}

fn quoted(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Lines of `key: value` entries at column `col`.
fn emit_entries(out: &mut Vec<String>, entries: &[(&str, Y)], col: usize, style: Style) {
    let pad = " ".repeat(col);
    for (key, value) in entries {
        match value {
            Y::Plain(s) => out.push(format!("{pad}{key}: {s}")),
            Y::Number(n) => out.push(format!("{pad}{key}: {n}")),
            Y::Quoted(s) => out.push(format!("{pad}{key}: {}", quoted(s))),
            Y::Map(inner) => {
                out.push(format!("{pad}{key}:"));
                emit_entries(out, inner, col + style.step, style);
            }
            Y::Seq(items) => {
                out.push(format!("{pad}{key}:"));
                emit_items(out, items, col + style.seq, style);
            }
        }
    }
}

/// Lines of sequence items whose dash is at column `dash`.
fn emit_items(out: &mut Vec<String>, items: &[Y], dash: usize, style: Style) {
    for item in items {
        match item {
            Y::Map(entries) => {
                let first = out.len();
                emit_entries(out, entries, dash + 2, style);
                if let Some(line) = out.get_mut(first) {
                    line.replace_range(dash..dash + 2, "- ");
                }
            }
            Y::Plain(s) => out.push(format!("{}- {s}", " ".repeat(dash))),
            Y::Number(n) => out.push(format!("{}- {n}", " ".repeat(dash))),
            Y::Quoted(s) => out.push(format!("{}- {}", " ".repeat(dash), quoted(s))),
            Y::Seq(_) => {}
        }
    }
}

/// Text inserted at the end of a line (before its break), starting with a
/// break of its own; `col` is the column of its shallowest line, so deeper
/// insertions at the same place go first.
struct Insert {
    at: usize,
    col: usize,
    text: String,
}

fn merge(mut inserts: Vec<Insert>) -> Vec<TextEdit> {
    inserts.sort_by_key(|i| (i.at, std::cmp::Reverse(i.col)));
    let mut edits: Vec<TextEdit> = Vec::new();
    for insert in inserts {
        match edits.last_mut() {
            Some(last) if last.range.start == insert.at => last.new_text.push_str(&insert.text),
            _ => edits.push(TextEdit {
                range: TextRange::empty(insert.at),
                new_text: insert.text,
            }),
        }
    }
    edits
}

fn lines_text(text: &str, at: usize, lines: &[String]) -> String {
    let eol = line_ending_at(text, at);
    let mut out = String::new();
    for line in lines {
        out.push_str(eol.as_str());
        out.push_str(line);
    }
    out
}

/// The line ending of the line that holds `at` (the file's first, if that
/// line has none).
fn line_ending_at(text: &str, at: usize) -> LineEnding {
    let end = line_content_end(text, at);
    LineEnding::before(text, next_line_start(text, end))
        .unwrap_or_else(|| LineEnding::first_in(text))
}

/// A new item after the last item of a block sequence, at its dash's column.
fn append_item(text: &str, doc: &Document, seq: NodeId, item: &Y, style: Style) -> Option<Insert> {
    let NodeKind::Sequence { items, .. } = &doc.node(seq).kind else {
        return None;
    };
    let first = *items.first()?;
    let dash = dash_column(text, doc.node(first).range.start)?;
    for &other in items {
        if dash_column(text, doc.node(other).range.start)? != dash {
            return None;
        }
    }
    let at = line_content_end(text, doc.node(seq).range.end);
    let mut lines = Vec::new();
    emit_items(&mut lines, std::slice::from_ref(item), dash, style);
    Some(Insert {
        at,
        col: dash,
        text: lines_text(text, at, &lines),
    })
}

/// A new `key:` with a one-item sequence, after the last entry of a block
/// mapping, at its keys' column.
fn new_key(
    text: &str,
    doc: &Document,
    mapping: NodeId,
    key: &'static str,
    item: &Y,
    style: Style,
) -> Option<Insert> {
    let NodeKind::Mapping { entries, .. } = &doc.node(mapping).kind else {
        return None;
    };
    let col = column(text, doc.node(entries.first()?.0).range.start)?;
    let at = line_content_end(text, doc.node(mapping).range.end);
    let mut lines = Vec::new();
    emit_entries(&mut lines, &[(key, Y::Seq(vec![item.clone()]))], col, style);
    Some(Insert {
        at,
        col,
        text: lines_text(text, at, &lines),
    })
}

fn line_start(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset]
        .iter()
        .rposition(|&b| matches!(b, b'\n' | b'\r'))
        .map_or(0, |i| i + 1)
}

fn line_content_end(text: &str, offset: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = offset.min(bytes.len());
    while i < bytes.len() && !matches!(bytes[i], b'\n' | b'\r') {
        i += 1;
    }
    i
}

fn next_line_start(text: &str, line_end: usize) -> usize {
    let bytes = text.as_bytes();
    match bytes.get(line_end) {
        Some(b'\r') if bytes.get(line_end + 1) == Some(&b'\n') => line_end + 2,
        Some(b'\n' | b'\r') => line_end + 1,
        _ => line_end,
    }
}

/// The column (in characters) of a key, when only blanks and sequence dashes
/// stand before it on its line (a byte-order mark at the file's start too).
fn column(text: &str, offset: usize) -> Option<usize> {
    let start = line_start(text, offset);
    let prefix = text[start..offset].trim_start_matches('\u{feff}');
    prefix
        .chars()
        .all(|c| c == ' ' || c == '-')
        .then(|| prefix.chars().count())
}

/// The column of the dash of the sequence item that starts at `item`, when the
/// item is on the dash's line after blanks, and only blanks precede the dash.
fn dash_column(text: &str, item: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = item;
    while i > 0 && bytes[i - 1] == b' ' {
        i -= 1;
    }
    if i == 0 || bytes[i - 1] != b'-' || i == item {
        return None;
    }
    let dash = i - 1;
    let start = line_start(text, dash);
    text[start..dash]
        .trim_start_matches('\u{feff}')
        .chars()
        .all(|c| c == ' ')
        .then(|| {
            text[start..dash]
                .trim_start_matches('\u{feff}')
                .chars()
                .count()
        })
}

/// The single entry of `key` in a mapping: `Some(None)` when absent, `None`
/// when written twice (the edit could not know which one counts to the user).
fn unique_entry(doc: &Document, mapping: NodeId, key: &str) -> Option<Option<(NodeId, NodeId)>> {
    let NodeKind::Mapping { entries, .. } = &doc.node(mapping).kind else {
        return None;
    };
    let mut found = entries
        .iter()
        .filter(|&&(k, _)| scalar_value(doc, k) == Some(key));
    let first = found.next().copied();
    found.next().is_none().then_some(first)
}

/// A string field of a mapping item: `Some(None)` when absent, `None` when
/// written twice or not a scalar.
fn string_field<'d>(doc: &'d Document, mapping: NodeId, key: &str) -> Option<Option<&'d str>> {
    match unique_entry(doc, mapping, key)? {
        None => Some(None),
        Some((_, v)) => scalar_value(doc, v).map(Some),
    }
}

fn scalar_value(doc: &Document, id: NodeId) -> Option<&str> {
    match &doc.node(id).kind {
        NodeKind::Scalar { value, .. } => Some(value),
        _ => None,
    }
}

/// No anchor, alias or merge key inside the pod spec: what the edit adds
/// must not be shared with, or shadowed by, another part of the document.
fn plain_subtree(doc: &Document, root: NodeId) -> bool {
    let mut pending = vec![(root, 0usize)];
    while let Some((id, depth)) = pending.pop() {
        let node = doc.node(id);
        if node.anchor != 0 || depth > 64 {
            return false;
        }
        match &node.kind {
            NodeKind::Alias { .. } => return false,
            NodeKind::Mapping { entries, .. } => {
                for &(k, v) in entries {
                    if scalar_value(doc, k) == Some("<<") {
                        return false;
                    }
                    pending.push((k, depth + 1));
                    pending.push((v, depth + 1));
                }
            }
            NodeKind::Sequence { items, .. } => {
                pending.extend(items.iter().map(|&i| (i, depth + 1)));
            }
            NodeKind::Scalar { .. } => {}
        }
    }
    true
}

/// The document that holds the pod spec, where it is, and the way to it from
/// the root (to find it again in the edited text).
struct Located {
    chunk: usize,
    doc_in_chunk: usize,
    doc: Document,
    pod_spec: NodeId,
    spec_key: Option<NodeId>,
    path: Vec<Step>,
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn body_start(text: &str) -> usize {
    if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    }
}

fn locate(text: &str, index: &LineIndex, pod_spec: TextRange) -> Option<Located> {
    let chunks = split_documents(text, body_start(text));
    let (chunk_no, chunk) = chunks
        .into_iter()
        .enumerate()
        .find(|(_, c)| c.range.start <= pod_spec.start && pod_spec.end <= c.range.end)?;
    let ChunkResult::Documents(docs) = tree::build_chunk(text, index, chunk) else {
        return None;
    };
    for (doc_in_chunk, doc) in docs.into_iter().enumerate() {
        let Some(id) = (0..doc.nodes.len()).find(|&i| {
            doc.node(i).range == pod_spec && matches!(doc.node(i).kind, NodeKind::Mapping { .. })
        }) else {
            continue;
        };
        // Parents, to walk up from the pod spec to the root.
        let mut parent: Vec<Option<(NodeId, Step, Option<NodeId>)>> = vec![None; doc.nodes.len()];
        for (p, node) in doc.nodes.iter().enumerate() {
            match &node.kind {
                NodeKind::Mapping { entries, .. } => {
                    for &(k, v) in entries {
                        let key = scalar_value(&doc, k)?.to_string();
                        parent[v] = Some((p, Step::Key(key), Some(k)));
                    }
                }
                NodeKind::Sequence { items, .. } => {
                    for (n, &i) in items.iter().enumerate() {
                        parent[i] = Some((p, Step::Index(n), None));
                    }
                }
                _ => {}
            }
        }
        let spec_key = parent[id].as_ref().and_then(|(_, _, k)| *k);
        let mut path = Vec::new();
        let mut at = id;
        while let Some((p, step, _)) = parent[at].clone() {
            path.push(step);
            at = p;
            if path.len() > 64 {
                return None;
            }
        }
        path.reverse();
        return Some(Located {
            chunk: chunk_no,
            doc_in_chunk,
            doc,
            pod_spec: id,
            spec_key,
            path,
        });
    }
    None
}

/// The pod spec in the edited text, by the same path.
fn locate_path(text: &str, located: &Located) -> Option<(Document, NodeId)> {
    let index = LineIndex::new(text);
    let chunk = split_documents(text, body_start(text))
        .into_iter()
        .nth(located.chunk)?;
    let ChunkResult::Documents(docs) = tree::build_chunk(text, &index, chunk) else {
        return None;
    };
    let doc = docs.into_iter().nth(located.doc_in_chunk)?;
    let mut at = doc.root?;
    for step in &located.path {
        at = match (&doc.node(at).kind, step) {
            (NodeKind::Mapping { entries, .. }, Step::Key(key)) => {
                let mut found = entries
                    .iter()
                    .filter(|&&(k, _)| scalar_value(&doc, k) == Some(key));
                let (_, v) = *found.next()?;
                if found.next().is_some() {
                    return None;
                }
                v
            }
            (NodeKind::Sequence { items, .. }, Step::Index(n)) => *items.get(*n)?,
            _ => return None,
        };
    }
    Some((doc, at))
}

/// YAML data, as far as the check needs it: scalars with their value, whether
/// they are plain and their tag; mappings keyed by their keys' data.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Data {
    Scalar {
        value: String,
        plain: bool,
        tag: Option<String>,
    },
    Map(BTreeMap<Data, Data>),
    Seq(Vec<Data>),
}

fn plain(value: &str) -> Data {
    Data::Scalar {
        value: value.to_string(),
        plain: true,
        tag: None,
    }
}

fn data(doc: &Document, id: NodeId, depth: usize) -> Option<Data> {
    if depth > 64 {
        return None;
    }
    let node = doc.node(id);
    Some(match &node.kind {
        NodeKind::Scalar { value, style } => Data::Scalar {
            value: value.clone(),
            plain: *style == ScalarStyle::Plain,
            tag: node.tag.clone(),
        },
        NodeKind::Mapping { entries, .. } => {
            let mut map = BTreeMap::new();
            for &(k, v) in entries {
                if map
                    .insert(data(doc, k, depth + 1)?, data(doc, v, depth + 1)?)
                    .is_some()
                {
                    return None;
                }
            }
            Data::Map(map)
        }
        NodeKind::Sequence { items, .. } => Data::Seq(
            items
                .iter()
                .map(|&i| data(doc, i, depth + 1))
                .collect::<Option<_>>()?,
        ),
        NodeKind::Alias { .. } => return None,
    })
}

fn y_data(y: &Y) -> Data {
    match y {
        Y::Plain(s) => plain(s),
        Y::Number(n) => plain(&n.to_string()),
        Y::Quoted(s) => Data::Scalar {
            value: s.clone(),
            plain: false,
            tag: None,
        },
        Y::Map(entries) => Data::Map(entries.iter().map(|(k, v)| (plain(k), y_data(v))).collect()),
        Y::Seq(items) => Data::Seq(items.iter().map(y_data).collect()),
    }
}

/// Appends `item` to the sequence under `key`, or adds the key with it.
fn push_item(map: &mut BTreeMap<Data, Data>, key: &str, item: Data) -> Option<()> {
    match map
        .entry(plain(key))
        .or_insert_with(|| Data::Seq(Vec::new()))
    {
        Data::Seq(items) => {
            items.push(item);
            Some(())
        }
        _ => None,
    }
}

/// The pod spec's data after the action: automounting off, the volume, and
/// the mount in each container.
fn expected_data(
    doc: &Document,
    pod_spec: NodeId,
    containers: &[NodeId],
    volume: &Y,
    mount: &Y,
) -> Option<Data> {
    let Data::Map(mut map) = data(doc, pod_spec, 0)? else {
        return None;
    };
    map.insert(plain(FIELD), plain("false"));
    push_item(&mut map, "volumes", y_data(volume))?;
    let mounted: Vec<Data> = containers
        .iter()
        .map(|&c| data(doc, c, 0))
        .collect::<Option<_>>()?;
    for key in ["containers", "initContainers"] {
        if let Some(Data::Seq(items)) = map.get_mut(&plain(key)) {
            for item in items.iter_mut() {
                if !mounted.contains(item) {
                    return None;
                }
                let Data::Map(container) = item else {
                    return None;
                };
                push_item(container, "volumeMounts", y_data(mount))?;
            }
        }
    }
    Some(Data::Map(map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{analyze, NoAccounts, Options};

    fn projected(text: &str) -> Option<String> {
        let findings = analyze(text, &NoAccounts, Options::builtin());
        assert_eq!(findings.len(), 1, "{text}");
        let fix = projected_token(text, &findings[0], &TokenProjection::default())?;
        Some(apply_edits(text, &fix.edits))
    }

    #[test]
    fn a_pod_gets_the_field_the_volume_and_the_mount() {
        let text =
            "kind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: app\n    image: x\n";
        let fixed = projected(text).unwrap();
        assert_eq!(
            fixed,
            "kind: Pod\nmetadata:\n  name: a\nspec:\n  automountServiceAccountToken: false\n  containers:\n  - name: app\n    image: x\n    volumeMounts:\n    - name: kube-api-access\n      mountPath: /var/run/secrets/kubernetes.io/serviceaccount\n      readOnly: true\n  volumes:\n  - name: kube-api-access\n    projected:\n      sources:\n      - serviceAccountToken:\n          path: token\n          expirationSeconds: 3600\n      - configMap:\n          name: kube-root-ca.crt\n          items:\n          - key: ca.crt\n            path: ca.crt\n      - downwardAPI:\n          items:\n          - path: namespace\n            fieldRef:\n              apiVersion: v1\n              fieldPath: metadata.namespace\n"
        );
        assert!(analyze(&fixed, &NoAccounts, Options::builtin()).is_empty());
    }

    #[test]
    fn indented_sequences_and_existing_lists_are_followed() {
        let text = "kind: Pod\nspec:\n    containers:\n        - name: app\n          volumeMounts:\n              - name: data\n                mountPath: /data\n    volumes:\n        - name: data\n          emptyDir: {}\n";
        let fixed = projected(text).unwrap();
        assert!(fixed.contains("                mountPath: /data\n              - name: kube-api-access\n                mountPath: /var/run/secrets/kubernetes.io/serviceaccount\n                readOnly: true\n    volumes:\n"), "{fixed}");
        assert!(fixed.contains("          emptyDir: {}\n        - name: kube-api-access\n          projected:\n              sources:\n                  - serviceAccountToken:\n                        path: token\n"), "{fixed}");
    }

    #[test]
    fn no_action_where_an_exact_edit_is_unsafe() {
        for text in [
            "kind: Pod\nspec: {containers: [{name: a}]}\n",
            "kind: Pod\nspec:\n  containers: [{name: a}]\n",
            "kind: Pod\nspec:\n  containers:\n  - {name: a}\n",
            "kind: Pod\nspec:\n  containers:\n  - &c\n    name: a\n",
            "kind: Pod\nspec:\n  containers:\n  - name: a\n  volumes:\n  - name: kube-api-access\n    emptyDir: {}\n",
            "kind: Pod\nspec:\n  containers:\n  - name: a\n    volumeMounts:\n    - name: t\n      mountPath: /var/run/secrets/kubernetes.io/serviceaccount/\n",
            "kind: Pod\nspec:\n  containers:\n  - name: a\n  volumes: []\n",
            "kind: Pod\nspec:\n  containers:\n  - name: a\n    args: |+\n      x\n\n",
        ] {
            assert_eq!(projected(text), None, "{text}");
        }
    }
}
