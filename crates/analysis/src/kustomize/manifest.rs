//! A kustomization file: what it includes and which patches it applies.

use crate::tree::{Document, NodeId, NodeKind};
use crate::value::{get, get_string, read_string};

use super::patch::{read_patch, PatchReading};

/// The file names `kustomize build` looks for in a folder.
pub const KUSTOMIZATION_FILE_NAMES: &[&str] =
    &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Whether the file at `path` ('/' or '\' separated) is a kustomization.
pub fn is_kustomization_file(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    KUSTOMIZATION_FILE_NAMES.contains(&name)
}

/// The field a patch was listed under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchForm {
    /// `patches:`: a strategic-merge or a JSON6902 patch, with an optional
    /// `target:` selector.
    Patches,
    /// `patchesStrategicMerge:` (deprecated): matched by the patch's own
    /// kind, name and namespace.
    StrategicMerge,
    /// `patchesJson6902:` (deprecated): operations applied to `target:`.
    Json6902,
}

/// Where a patch's text is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatchSource {
    /// A file, as written in the kustomization (relative to its folder).
    File(String),
    /// An inline patch, already read.
    Inline(PatchReading),
    /// A remote file (a URL such as `https://...`), as written: Kustomize
    /// fetches it; tokenguard reads no network, so what it does is unknown
    /// and it is never looked for on disk.
    Remote(String),
}

/// Whether an entry of a kustomization names a remote file or repository
/// (`https://...`, `git::...`-style URLs: anything with a scheme) rather
/// than a path under the kustomization's folder.
pub fn is_remote(entry: &str) -> bool {
    entry.contains("://")
}

/// A file entry as Kustomize reads it: a URL is remote, anything else a path.
fn file_source(entry: &str) -> PatchSource {
    if is_remote(entry) {
        PatchSource::Remote(entry.to_string())
    } else {
        PatchSource::File(entry.to_string())
    }
}

/// A target selector of `patches:` or `patchesJson6902:`. In Kustomize each
/// field is an anchored regular expression; absent fields match anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// A `labelSelector` or `annotationSelector` is present: labels are not
    /// read, so the selector is never taken to match.
    pub by_labels: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchEntry {
    pub form: PatchForm,
    pub source: PatchSource,
    pub target: Option<Selector>,
}

/// What the index needs of a `Kustomization` (or `Component`) file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kustomization {
    /// The `namespace:` every resource is moved to.
    pub namespace: Option<String>,
    /// `namePrefix:` and `nameSuffix:`, added to every resource's name.
    pub name_prefix: String,
    pub name_suffix: String,
    /// `resources:` then `bases:` entries, as written: files or folders.
    pub resources: Vec<String>,
    /// `components:` entries (folders of `kind: Component` kustomizations).
    pub components: Vec<String>,
    /// `patchesStrategicMerge:`, `patches:`, `patchesJson6902:` in the order
    /// Kustomize applies them.
    pub patches: Vec<PatchEntry>,
}

/// Reads the first document of a kustomization file. A document that is not
/// a mapping, or fields of the wrong shape, read as absent: `kustomize build`
/// reports those, and no finding depends on them.
pub fn parse_kustomization(text: &str) -> Kustomization {
    let docs = super::documents(text);
    let Some((doc, root)) = docs.iter().find_map(|d| d.root.map(|r| (d, r))) else {
        return Kustomization::default();
    };
    let mut resources = strings(doc, root, "resources");
    resources.extend(strings(doc, root, "bases"));
    let mut patches = Vec::new();
    // Kustomize's order of the built-in patch transformers.
    for item in items(doc, root, "patchesStrategicMerge") {
        if let Some(text) = read_string(doc, item) {
            // An entry with a line break is an inline patch, not a path.
            let source = if text.contains('\n') {
                PatchSource::Inline(read_patch(text))
            } else {
                file_source(text)
            };
            patches.push(PatchEntry {
                form: PatchForm::StrategicMerge,
                source,
                target: None,
            });
        }
    }
    for (field, form) in [
        ("patches", PatchForm::Patches),
        ("patchesJson6902", PatchForm::Json6902),
    ] {
        for item in items(doc, root, field) {
            if let Some(entry) = patch_entry(doc, item, form) {
                patches.push(entry);
            }
        }
    }
    Kustomization {
        namespace: get_string(doc, root, "namespace")
            .filter(|ns| !ns.is_empty())
            .map(str::to_string),
        name_prefix: get_string(doc, root, "namePrefix")
            .unwrap_or("")
            .to_string(),
        name_suffix: get_string(doc, root, "nameSuffix")
            .unwrap_or("")
            .to_string(),
        resources,
        components: strings(doc, root, "components"),
        patches,
    }
}

fn patch_entry(doc: &Document, item: NodeId, form: PatchForm) -> Option<PatchEntry> {
    let source = match (
        get_string(doc, item, "path"),
        get_string(doc, item, "patch"),
    ) {
        (Some(path), _) => file_source(path),
        (None, Some(inline)) => PatchSource::Inline(read_patch(inline)),
        (None, None) => return None,
    };
    let target = get(doc, item, "target").map(|(_, t)| selector(doc, t));
    Some(PatchEntry {
        form,
        source,
        target,
    })
}

fn selector(doc: &Document, node: NodeId) -> Selector {
    let field = |key| get_string(doc, node, key).map(str::to_string);
    Selector {
        group: field("group"),
        version: field("version"),
        kind: field("kind"),
        name: field("name"),
        namespace: field("namespace"),
        by_labels: get(doc, node, "labelSelector").is_some()
            || get(doc, node, "annotationSelector").is_some(),
    }
}

/// The items of a sequence field (nothing when it is absent or not a list).
fn items(doc: &Document, mapping: NodeId, key: &str) -> Vec<NodeId> {
    match get(doc, mapping, key).map(|(_, v)| &doc.node(doc.resolve(v)).kind) {
        Some(NodeKind::Sequence { items, .. }) => items.iter().map(|&i| doc.resolve(i)).collect(),
        _ => Vec::new(),
    }
}

fn strings(doc: &Document, mapping: NodeId, key: &str) -> Vec<String> {
    items(doc, mapping, key)
        .into_iter()
        .filter_map(|i| read_string(doc, i))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kustomize::Setting;

    #[test]
    fn file_names() {
        assert!(is_kustomization_file("a/b/kustomization.yaml"));
        assert!(is_kustomization_file("kustomization.yml"));
        assert!(is_kustomization_file("a\\Kustomization"));
        assert!(!is_kustomization_file("a/kustomization.json"));
        assert!(!is_kustomization_file("a/my-kustomization.yaml"));
    }

    #[test]
    fn all_three_patch_forms_inline_patches_bases_and_components() {
        let k = parse_kustomization(
            "apiVersion: kustomize.config.k8s.io/v1beta1\n\
             kind: Kustomization\n\
             namespace: prod\n\
             resources:\n- ../../base\n- extra.yaml\n\
             bases: [../legacy]\n\
             components: [../../components/hardening]\n\
             patches:\n\
             - path: token.yaml\n  target:\n    kind: Deployment\n    name: api\n    group: apps\n    version: v1\n    namespace: prod\n\
             - patch: |-\n    - op: add\n      path: /spec/template/spec/automountServiceAccountToken\n      value: false\n  target: {kind: Job, labelSelector: app=x}\n\
             - target: {kind: Pod}\n\
             patchesStrategicMerge:\n- smp.yaml\n- |-\n  kind: Pod\n  metadata: {name: p}\n  spec: {automountServiceAccountToken: false}\n\
             patchesJson6902:\n- path: ops.json\n  target: {kind: CronJob, name: nightly}\n",
        );
        assert_eq!(k.namespace.as_deref(), Some("prod"));
        assert_eq!(k.resources, ["../../base", "extra.yaml", "../legacy"]);
        assert_eq!(k.components, ["../../components/hardening"]);
        let forms: Vec<PatchForm> = k.patches.iter().map(|p| p.form).collect();
        assert_eq!(
            forms,
            [
                PatchForm::StrategicMerge,
                PatchForm::StrategicMerge,
                PatchForm::Patches,
                PatchForm::Patches,
                PatchForm::Json6902
            ],
            "an entry with neither path nor patch is dropped"
        );
        assert_eq!(k.patches[0].source, PatchSource::File("smp.yaml".into()));
        let PatchSource::Inline(inline_smp) = &k.patches[1].source else {
            panic!("inline strategic-merge patch read as a path");
        };
        assert_eq!(inline_smp.objects[0].name.as_deref(), Some("p"));
        assert_eq!(
            k.patches[2].target,
            Some(Selector {
                group: Some("apps".into()),
                version: Some("v1".into()),
                kind: Some("Deployment".into()),
                name: Some("api".into()),
                namespace: Some("prod".into()),
                by_labels: false,
            })
        );
        let PatchSource::Inline(ops) = &k.patches[3].source else {
            panic!("inline JSON6902 patch read as a path");
        };
        assert_eq!(ops.ops.len(), 1);
        assert_eq!(ops.ops[0].setting, Some(Setting::Disables));
        assert!(k.patches[3].target.as_ref().unwrap().by_labels);
        assert_eq!(k.patches[4].source, PatchSource::File("ops.json".into()));
    }

    #[test]
    fn odd_shapes_read_as_absent() {
        assert_eq!(parse_kustomization(""), Kustomization::default());
        assert_eq!(parse_kustomization("- a\n- b\n"), Kustomization::default());
        assert_eq!(
            parse_kustomization("resources: [: bad"),
            Kustomization::default()
        );
        let k = parse_kustomization("resources: base\npatches: {path: x}\nnamespace: ''\n");
        assert_eq!(k, Kustomization::default());
    }

    #[test]
    fn a_patch_named_by_url_is_remote_not_a_file() {
        let k = parse_kustomization(
            "patches:\n- path: https://example.com/patches/automount.yaml\n\
             - path: local.yaml\n\
             patchesStrategicMerge:\n- http://example.com/smp.yaml\n",
        );
        let sources: Vec<&PatchSource> = k.patches.iter().map(|p| &p.source).collect();
        assert_eq!(
            sources,
            [
                &PatchSource::Remote("http://example.com/smp.yaml".into()),
                &PatchSource::Remote("https://example.com/patches/automount.yaml".into()),
                &PatchSource::File("local.yaml".into()),
            ]
        );
        assert!(is_remote("https://github.com/org/repo//deploy?ref=v1"));
        assert!(!is_remote("../base/patch.yaml"));
    }
}
