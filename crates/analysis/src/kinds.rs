//! Which objects are workloads, and where each keeps its pod spec.
//!
//! The core Kubernetes kinds are matched by `kind` alone, as they always
//! were (their API group has moved over the years: `extensions/v1beta1`,
//! `apps/v1`). Other kinds — the built-in Argo Rollouts and OpenShift ones,
//! and those a project configures — are matched on API group *and* kind, so
//! that an unrelated custom resource of the same name is not judged.

use std::sync::{Arc, LazyLock};

/// Where each core workload kind keeps its pod spec.
pub const POD_SPEC_PATHS: &[(&str, &[&str])] = &[
    ("Pod", &["spec"]),
    ("PodTemplate", &["template", "spec"]),
    ("Deployment", &["spec", "template", "spec"]),
    ("ReplicaSet", &["spec", "template", "spec"]),
    ("StatefulSet", &["spec", "template", "spec"]),
    ("DaemonSet", &["spec", "template", "spec"]),
    ("ReplicationController", &["spec", "template", "spec"]),
    ("Job", &["spec", "template", "spec"]),
    (
        "CronJob",
        &["spec", "jobTemplate", "spec", "template", "spec"],
    ),
];

/// Workload kinds of other API groups that tokenguard knows without
/// configuration: (group, kind, pod spec path).
pub const BUILTIN_GROUP_KINDS: &[(&str, &str, &[&str])] = &[
    ("argoproj.io", "Rollout", &["spec", "template", "spec"]),
    (
        "apps.openshift.io",
        "DeploymentConfig",
        &["spec", "template", "spec"],
    ),
];

/// The pod spec path of a built-in kind known by its `kind` alone (core
/// kinds first, then the built-in kinds of other groups): for readers that
/// see a kind without its group, such as a Kustomize patch target.
pub(crate) fn builtin_pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    builtin_pod_spec_paths()
        .find(|(k, _)| *k == kind)
        .map(|(_, path)| path)
}

/// Every built-in (kind, pod spec path), core kinds first.
pub(crate) fn builtin_pod_spec_paths(
) -> impl Iterator<Item = (&'static str, &'static [&'static str])> {
    POD_SPEC_PATHS.iter().copied().chain(
        BUILTIN_GROUP_KINDS
            .iter()
            .map(|&(_, kind, path)| (kind, path)),
    )
}

/// One workload kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadKind {
    /// The API group (`argoproj.io`; empty for the core group `v1`), or
    /// `None` for a core kind matched by `kind` alone.
    pub group: Option<String>,
    pub kind: String,
    /// The keys leading from the object to its pod spec.
    pub pod_spec: Vec<String>,
}

impl WorkloadKind {
    pub fn new(group: Option<&str>, kind: &str, pod_spec: &[&str]) -> Self {
        Self {
            group: group.map(str::to_string),
            kind: kind.to_string(),
            pod_spec: pod_spec.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The pod spec path as written in the configuration: `spec.template.spec`.
    pub fn pod_spec_dotted(&self) -> String {
        self.pod_spec.join(".")
    }
}

/// The registry of workload kinds every part of tokenguard consults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadKinds {
    kinds: Vec<WorkloadKind>,
}

impl Default for WorkloadKinds {
    /// The built-in kinds: the core ones, Argo Rollouts' `Rollout` and
    /// OpenShift's `DeploymentConfig`.
    fn default() -> Self {
        let core = POD_SPEC_PATHS
            .iter()
            .map(|(kind, path)| WorkloadKind::new(None, kind, path));
        let grouped = BUILTIN_GROUP_KINDS
            .iter()
            .map(|(group, kind, path)| WorkloadKind::new(Some(group), kind, path));
        Self {
            kinds: core.chain(grouped).collect(),
        }
    }
}

/// The group of an `apiVersion`: `apps` of `apps/v1`, empty for `v1`.
pub fn api_group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

impl WorkloadKinds {
    /// Adds a kind of a group; one already known for the same group and kind
    /// is replaced (a project may move the pod spec of a built-in one).
    pub fn add(&mut self, kind: WorkloadKind) {
        match self
            .kinds
            .iter_mut()
            .find(|k| k.group.is_some() && k.group == kind.group && k.kind == kind.kind)
        {
            Some(known) => *known = kind,
            None => self.kinds.push(kind),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &WorkloadKind> {
        self.kinds.iter()
    }

    /// Where an object of this `apiVersion` and `kind` keeps its pod spec;
    /// `None` when it is not a workload. A kind known for the object's group
    /// comes before a core kind of the same name.
    pub fn pod_spec_path(&self, api_version: Option<&str>, kind: &str) -> Option<&[String]> {
        let group = api_version.map(api_group);
        self.kinds
            .iter()
            .find(|k| k.kind == kind && k.group.is_some() && k.group.as_deref() == group)
            .or_else(|| {
                self.kinds
                    .iter()
                    .find(|k| k.kind == kind && k.group.is_none())
            })
            .map(|k| k.pod_spec.as_slice())
    }

    /// Whether some workload kind has this name, whatever its group: what a
    /// test that sees only the `kind` line can tell.
    pub fn has_kind_named(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k.kind == kind)
    }
}

/// The built-in analysis options, shared (building them allocates).
pub(crate) static DEFAULT_OPTIONS: LazyLock<Arc<crate::Options>> =
    LazyLock::new(|| Arc::new(crate::Options::default()));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_read_from_api_versions() {
        assert_eq!(api_group("argoproj.io/v1alpha1"), "argoproj.io");
        assert_eq!(api_group("v1"), "");
        assert_eq!(api_group("apps/v1"), "apps");
    }

    #[test]
    fn core_kinds_match_by_kind_and_the_others_by_group_and_kind() {
        let kinds = WorkloadKinds::default();
        let template = ["spec", "template", "spec"].map(String::from);
        assert_eq!(
            kinds.pod_spec_path(Some("apps/v1"), "Deployment"),
            Some(&template[..])
        );
        assert_eq!(kinds.pod_spec_path(None, "Deployment"), Some(&template[..]));
        assert_eq!(
            kinds.pod_spec_path(Some("example.com/v1"), "Deployment"),
            Some(&template[..])
        );
        assert_eq!(
            kinds.pod_spec_path(Some("argoproj.io/v1alpha1"), "Rollout"),
            Some(&template[..])
        );
        assert_eq!(kinds.pod_spec_path(Some("example.com/v1"), "Rollout"), None);
        assert_eq!(kinds.pod_spec_path(None, "Rollout"), None);
        assert_eq!(
            kinds.pod_spec_path(Some("apps.openshift.io/v1"), "DeploymentConfig"),
            Some(&template[..])
        );
        assert_eq!(kinds.pod_spec_path(Some("v1"), "DeploymentConfig"), None);
        assert!(kinds.has_kind_named("Rollout") && !kinds.has_kind_named("Widget"));
    }

    #[test]
    fn an_added_kind_is_matched_and_replaces_the_same_group_and_kind() {
        let mut kinds = WorkloadKinds::default();
        kinds.add(WorkloadKind::new(
            Some("example.com"),
            "Widget",
            &["spec", "pod"],
        ));
        kinds.add(WorkloadKind::new(
            Some("argoproj.io"),
            "Rollout",
            &["spec", "pod"],
        ));
        let pod = ["spec", "pod"].map(String::from);
        assert_eq!(
            kinds.pod_spec_path(Some("example.com/v2"), "Widget"),
            Some(&pod[..])
        );
        assert_eq!(
            kinds.pod_spec_path(Some("argoproj.io/v1alpha1"), "Rollout"),
            Some(&pod[..])
        );
        assert_eq!(kinds.iter().filter(|k| k.kind == "Rollout").count(), 1);
    }
}
