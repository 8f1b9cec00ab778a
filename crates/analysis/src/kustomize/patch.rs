//! A patch's text, read for what it does to `automountServiceAccountToken`,
//! and Kustomize's rules for which resources a patch applies to.

use crate::fix::FIELD;
use crate::kinds::{builtin_pod_spec_path as pod_spec_path, builtin_pod_spec_paths};
use crate::objects::objects;
use crate::tree::{Document, NodeId, NodeKind};
use crate::value::{get, get_mapping, get_string, read_bool_field, BoolField};

use super::manifest::{PatchForm, Selector};

/// What a patch leaves in the pod spec's field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// `false`: the token is not mounted.
    Disables,
    /// `true`, null, a value that is not a boolean, or the field removed:
    /// the token is mounted (or the object is rejected).
    Mounts,
}

/// One object of a strategic-merge patch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchedObject {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// The field's setting under each pod-spec location the patch has, keyed
    /// by that location (one of the built-in kinds' pod spec paths).
    pub settings: Vec<(&'static [&'static str], Setting)>,
}

/// One JSON6902 operation on the field, or on a location that is not the
/// field (then `setting` is `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonOp {
    pub path: String,
    pub setting: Option<Setting>,
}

/// A patch read once, matched against many workloads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchReading {
    /// The text is a list of JSON6902 operations (YAML or JSON).
    pub is_op_list: bool,
    pub ops: Vec<JsonOp>,
    pub objects: Vec<PatchedObject>,
}

/// Reads a patch file's (or an inline patch's) text. Text that is neither a
/// list of operations nor objects reads as a patch that changes nothing.
pub fn read_patch(text: &str) -> PatchReading {
    let mut reading = PatchReading::default();
    for doc in super::documents(text) {
        let Some(root) = doc.root else { continue };
        if let NodeKind::Sequence { items, .. } = &doc.node(root).kind {
            reading.is_op_list = true;
            reading.ops.extend(
                items
                    .iter()
                    .filter_map(|&op| json_op(&doc, doc.resolve(op))),
            );
            continue;
        }
        for object in objects(&doc) {
            reading.objects.push(patched_object(&doc, object));
        }
    }
    reading
}

fn json_op(doc: &Document, op: NodeId) -> Option<JsonOp> {
    let path = get_string(doc, op, "path")?.to_string();
    let setting = match get_string(doc, op, "op")? {
        "add" | "replace" => Some(match get(doc, op, "value") {
            Some((_, value)) if read_bool_field(doc, value) == BoolField::False => {
                Setting::Disables
            }
            _ => Setting::Mounts,
        }),
        // A removed field, or one whose value comes from elsewhere in the
        // object, cannot be counted on to be false.
        "remove" | "copy" | "move" => Some(Setting::Mounts),
        _ => None,
    };
    Some(JsonOp { path, setting })
}

fn patched_object(doc: &Document, object: NodeId) -> PatchedObject {
    let metadata = get_mapping(doc, object, "metadata").map(|(_, m)| m);
    let meta = |key| {
        metadata
            .and_then(|m| get_string(doc, m, key))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let mut settings = Vec::new();
    for (_, path) in builtin_pod_spec_paths() {
        if settings.iter().any(|(p, _)| *p == path) {
            continue;
        }
        let pod_spec = path.iter().try_fold(object, |at, segment| {
            get_mapping(doc, at, segment).map(|(_, v)| v)
        });
        let field = pod_spec.and_then(|spec| get(doc, spec, FIELD));
        if let Some((_, value)) = field {
            let setting = match read_bool_field(doc, value) {
                BoolField::False => Setting::Disables,
                _ => Setting::Mounts,
            };
            settings.push((path, setting));
        }
    }
    PatchedObject {
        kind: get_string(doc, object, "kind").map(str::to_string),
        name: meta("name"),
        namespace: meta("namespace"),
        settings,
    }
}

/// A base workload as the patches of one kustomization see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    pub kind: String,
    /// Every (name, namespace) the workload has had so far, its own first,
    /// then after each kustomization that renamed or moved it (`namePrefix`,
    /// `nameSuffix`, `namespace:`): Kustomize matches a patch against any of
    /// a resource's ids, current or original.
    pub ids: Vec<(String, Option<String>)>,
}

impl Subject {
    /// The setting the patch leaves, when it applies to this workload.
    pub fn patched_by(
        &self,
        form: PatchForm,
        target: Option<&Selector>,
        reading: &PatchReading,
    ) -> Option<Setting> {
        match (form, target) {
            (PatchForm::StrategicMerge, _) | (PatchForm::Patches, None) => {
                if reading.is_op_list {
                    // Operations need a target; Kustomize refuses them here.
                    return None;
                }
                reading
                    .objects
                    .iter()
                    .filter(|o| self.is_named_by(o))
                    .filter_map(|o| self.setting_in(o))
                    .next_back()
            }
            (PatchForm::Patches | PatchForm::Json6902, Some(selector)) => {
                if !self.is_selected_by(selector) {
                    return None;
                }
                if reading.is_op_list {
                    self.op_setting(&reading.ops)
                } else if form == PatchForm::Patches {
                    // With a target, the patch's own name does not matter.
                    reading
                        .objects
                        .iter()
                        .filter_map(|o| self.setting_in(o))
                        .next_back()
                } else {
                    None
                }
            }
            (PatchForm::Json6902, None) => None,
        }
    }

    /// A strategic-merge patch names its resource by kind, name and
    /// namespace; an absent namespace is the `default` one, as in Kustomize.
    fn is_named_by(&self, object: &PatchedObject) -> bool {
        let same_id = |(name, ns): &(String, Option<String>)| {
            object.name.as_ref() == Some(name)
                && ns.as_deref().unwrap_or("default")
                    == object.namespace.as_deref().unwrap_or("default")
        };
        object.kind.as_deref() == Some(self.kind.as_str()) && self.ids.iter().any(same_id)
    }

    pub fn is_selected_by(&self, selector: &Selector) -> bool {
        if selector.by_labels {
            return false;
        }
        let group = kind_group(&self.kind);
        let selects_id = |(name, ns): &(String, Option<String>)| {
            full_match(selector.name.as_deref(), name)
                && full_match(selector.namespace.as_deref(), ns.as_deref().unwrap_or(""))
        };
        full_match(selector.kind.as_deref(), &self.kind)
            && full_match(selector.group.as_deref(), group)
            && full_match(selector.version.as_deref(), "v1")
            && self.ids.iter().any(selects_id)
    }

    fn setting_in(&self, object: &PatchedObject) -> Option<Setting> {
        let path = pod_spec_path(&self.kind)?;
        object
            .settings
            .iter()
            .find(|(p, _)| *p == path)
            .map(|&(_, s)| s)
    }

    fn op_setting(&self, ops: &[JsonOp]) -> Option<Setting> {
        let path = pod_spec_path(&self.kind)?;
        let field_path = format!("/{}/{FIELD}", path.join("/"));
        ops.iter()
            .filter(|op| op.path == field_path)
            .filter_map(|op| op.setting)
            .next_back()
    }
}

/// The API group of each workload kind (the core group is empty).
fn kind_group(kind: &str) -> &'static str {
    match kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => "apps",
        "Job" | "CronJob" => "batch",
        _ => "",
    }
}

/// Kustomize reads selector fields as anchored regular expressions; an
/// absent field matches anything, and an invalid expression nothing.
fn full_match(pattern: Option<&str>, value: &str) -> bool {
    let Some(pattern) = pattern else {
        return true;
    };
    if pattern == value {
        return true;
    }
    regex_lite::Regex::new(&format!("^(?:{pattern})$")).is_ok_and(|re| re.is_match(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(kind: &str, name: &str, namespaces: &[Option<&str>]) -> Subject {
        Subject {
            kind: kind.into(),
            ids: namespaces
                .iter()
                .map(|n| (name.to_string(), n.map(str::to_string)))
                .collect(),
        }
    }

    const SMP: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      automountServiceAccountToken: false\n";

    #[test]
    fn strategic_merge_patches_are_read_per_pod_spec_location() {
        let reading = read_patch(SMP);
        assert!(!reading.is_op_list);
        assert_eq!(
            reading.objects,
            [PatchedObject {
                kind: Some("Deployment".into()),
                name: Some("api".into()),
                namespace: None,
                settings: vec![(&["spec", "template", "spec"][..], Setting::Disables)],
            }]
        );
        let on = read_patch(
            "kind: Pod\nmetadata: {name: p}\nspec: {automountServiceAccountToken: \"false\"}\n",
        );
        assert_eq!(on.objects[0].settings, [(&["spec"][..], Setting::Mounts)]);
        let unrelated =
            read_patch("kind: Deployment\nmetadata: {name: api}\nspec: {replicas: 3}\n");
        assert!(unrelated.objects[0].settings.is_empty());
    }

    #[test]
    fn json6902_operations_on_the_field() {
        let reading = read_patch(
            "- op: add\n  path: /spec/template/spec/automountServiceAccountToken\n  value: false\n\
             - op: test\n  path: /spec/replicas\n  value: 1\n\
             - op: replace\n  path: /spec/automountServiceAccountToken\n  value: true\n\
             - {op: remove, path: /spec/jobTemplate/spec/template/spec/automountServiceAccountToken}\n\
             - {path: /no/op}\n",
        );
        assert!(reading.is_op_list);
        let settings: Vec<_> = reading.ops.iter().map(|o| o.setting).collect();
        assert_eq!(
            settings,
            [
                Some(Setting::Disables),
                None,
                Some(Setting::Mounts),
                Some(Setting::Mounts)
            ]
        );
        let json = read_patch(
            r#"[{"op": "replace", "path": "/spec/template/spec/automountServiceAccountToken", "value": false}]"#,
        );
        assert_eq!(json.ops[0].setting, Some(Setting::Disables));
        let deployment = subject("Deployment", "api", &[None]);
        let target = Selector {
            kind: Some("Deployment".into()),
            ..Selector::default()
        };
        assert_eq!(
            deployment.patched_by(PatchForm::Json6902, Some(&target), &json),
            Some(Setting::Disables)
        );
        let pod = subject("Pod", "api", &[None]);
        let any = Selector::default();
        assert_eq!(
            pod.patched_by(PatchForm::Json6902, Some(&any), &json),
            None,
            "the path of a Deployment's pod spec is not a Pod's"
        );
        assert_eq!(
            deployment.patched_by(PatchForm::Json6902, None, &json),
            None,
            "operations without a target apply to nothing"
        );
        assert_eq!(deployment.patched_by(PatchForm::Patches, None, &json), None);
    }

    #[test]
    fn strategic_merge_matching_by_kind_name_and_namespace() {
        let reading = read_patch(SMP);
        let patched = |s: &Subject| s.patched_by(PatchForm::StrategicMerge, None, &reading);
        assert_eq!(
            patched(&subject("Deployment", "api", &[None])),
            Some(Setting::Disables)
        );
        assert_eq!(
            patched(&subject("Deployment", "api", &[Some("default")])),
            Some(Setting::Disables),
            "absent and default are the same namespace"
        );
        assert_eq!(
            patched(&subject("Deployment", "web", &[None])),
            None,
            "name"
        );
        assert_eq!(
            patched(&subject("StatefulSet", "api", &[None])),
            None,
            "kind"
        );
        assert_eq!(
            patched(&subject("Deployment", "api", &[Some("prod")])),
            None,
            "a patch without namespace does not reach another namespace"
        );
        let in_prod = read_patch(&SMP.replace("name: api", "name: api\n  namespace: prod"));
        let moved = subject("Deployment", "api", &[None, Some("prod")]);
        assert_eq!(
            moved.patched_by(PatchForm::StrategicMerge, None, &in_prod),
            Some(Setting::Disables),
            "a patch may name the namespace an inner overlay moved the workload to"
        );
        assert_eq!(
            moved.patched_by(PatchForm::Patches, None, &reading),
            Some(Setting::Disables),
            "or the original one"
        );
        assert_eq!(
            subject("Deployment", "api", &[Some("dev")]).patched_by(
                PatchForm::StrategicMerge,
                None,
                &in_prod
            ),
            None
        );
    }

    #[test]
    fn target_selectors_are_anchored_expressions() {
        let s = subject("Deployment", "api-server", &[None, Some("prod")]);
        let sel = |kind: Option<&str>, name: Option<&str>, ns: Option<&str>| Selector {
            kind: kind.map(Into::into),
            name: name.map(Into::into),
            namespace: ns.map(Into::into),
            ..Selector::default()
        };
        assert!(s.is_selected_by(&Selector::default()));
        assert!(s.is_selected_by(&sel(Some("Deployment"), Some("api-server"), None)));
        assert!(s.is_selected_by(&sel(None, Some("api-.*"), Some("prod"))));
        assert!(
            !s.is_selected_by(&sel(None, Some("api"), None)),
            "anchored: no partial match"
        );
        assert!(!s.is_selected_by(&sel(Some("Pod"), None, None)));
        assert!(!s.is_selected_by(&sel(None, None, Some("dev"))));
        assert!(
            !s.is_selected_by(&sel(None, Some("(unclosed"), None)),
            "invalid expression"
        );
        let group = |g: &str| Selector {
            group: Some(g.into()),
            ..Selector::default()
        };
        assert!(s.is_selected_by(&group("apps")));
        assert!(!s.is_selected_by(&group("batch")));
        let labels = Selector {
            by_labels: true,
            ..Selector::default()
        };
        assert!(
            !s.is_selected_by(&labels),
            "labels are not read: never assumed to match"
        );
        // With a target, a strategic-merge patch applies whatever its own name.
        let reading = read_patch(&SMP.replace("name: api", "name: placeholder"));
        assert_eq!(
            s.patched_by(
                PatchForm::Patches,
                Some(&sel(Some("Deployment"), None, None)),
                &reading
            ),
            Some(Setting::Disables)
        );
        assert_eq!(s.patched_by(PatchForm::Patches, None, &reading), None);
    }
}
