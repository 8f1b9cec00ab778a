//! The kustomizations and patch files of a workspace, and the step that
//! adjusts a file's findings to them (dropping those the overlays fix, and
//! recording on the others which overlays patch them).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use crate::finding::{Code, Finding, Overlays, WorkloadRef};

use super::graph::{patches_of, Deployment, Edges, Verdict};
use super::manifest::{parse_kustomization, Kustomization, PatchSource};
use super::patch::{read_patch, PatchReading, Setting, Subject};
use super::paths::{join, normalize, parent, relative_to_common};

/// Kustomizations by folder and patch files by path, all '/'-separated and
/// normalized lexically (see [`normalize`]); callers must name files the
/// same way for both (all relative to one folder, or all absolute).
#[derive(Clone, Debug, Default)]
pub struct KustomizeIndex {
    kustomizations: BTreeMap<String, Kustomization>,
    patches: HashMap<String, PatchReading>,
    /// Derived from `kustomizations`; cleared by every change to them.
    edges: OnceLock<Edges>,
}

impl KustomizeIndex {
    pub fn new() -> Self {
        Self::default()
    }

    fn edges(&self) -> &Edges {
        self.edges
            .get_or_init(|| Edges::build(&self.kustomizations))
    }

    pub fn is_empty(&self) -> bool {
        self.kustomizations.is_empty()
    }

    /// How many kustomization files are known.
    pub fn kustomization_count(&self) -> usize {
        self.kustomizations.len()
    }

    /// Records the kustomization file at `path`; true when what the index
    /// knows of it changed.
    pub fn set_kustomization(&mut self, path: &str, text: &str) -> bool {
        let dir = parent(&normalize(path));
        let parsed = parse_kustomization(text);
        if self.kustomizations.get(&dir) == Some(&parsed) {
            return false;
        }
        self.kustomizations.insert(dir, parsed);
        self.edges = OnceLock::new();
        true
    }

    /// Forgets the kustomization file at `path`; true when it was known.
    pub fn remove_kustomization(&mut self, path: &str) -> bool {
        let dir = parent(&normalize(path));
        let removed = self.kustomizations.remove(&dir).is_some();
        if removed {
            self.edges = OnceLock::new();
        }
        removed
    }

    /// Every file a kustomization names as a patch, read or not.
    pub fn patch_files(&self) -> &BTreeSet<String> {
        &self.edges().patch_files
    }

    pub fn is_patch_file(&self, path: &str) -> bool {
        self.edges().patch_files.contains(&normalize(path))
    }

    /// Whether the file at `path` is a patch and nothing else: its objects
    /// are partial, not workloads. (A file some kustomization deploys as a
    /// resource is a whole object, even if another one also names it as a
    /// patch.)
    pub fn is_only_a_patch(&self, path: &str) -> bool {
        self.only_a_patch(&normalize(path))
    }

    /// [`KustomizeIndex::is_only_a_patch`] of a file by its key
    /// ([`normalize`]d).
    fn only_a_patch(&self, file: &str) -> bool {
        let edges = self.edges();
        edges.patch_files.contains(file) && !edges.file_includers.contains_key(file)
    }

    /// Records a patch file's text; true when its reading changed.
    pub fn set_patch(&mut self, path: &str, text: &str) -> bool {
        let reading = read_patch(text);
        let path = normalize(path);
        if self.patches.get(&path) == Some(&reading) {
            return false;
        }
        self.patches.insert(path, reading);
        true
    }

    /// Forgets a patch file's text; true when it was known.
    pub fn remove_patch(&mut self, path: &str) -> bool {
        self.patches.remove(&normalize(path)).is_some()
    }

    /// How the kustomizations deploy the named workload of `file`.
    pub fn verdict(&self, file: &str, workload: &WorkloadRef) -> Verdict {
        self.verdict_of(&normalize(file), workload)
    }

    /// [`KustomizeIndex::verdict`] of a file by its key ([`normalize`]d).
    fn verdict_of(&self, file: &str, workload: &WorkloadRef) -> Verdict {
        let Some(name) = &workload.name else {
            return Verdict::NotKustomized;
        };
        let Some(chains) = self.edges().chains(file) else {
            return Verdict::NotKustomized;
        };
        if chains.is_empty() {
            return Verdict::NotKustomized;
        }
        let mut by_root: BTreeMap<String, bool> = BTreeMap::new();
        for chain in chains {
            let subject = Subject {
                kind: workload.kind.clone(),
                ids: vec![(name.clone(), workload.namespace.clone())],
            };
            let disabled = self.setting_through(&chain, subject) == Some(Setting::Disables);
            let root = chain.last().cloned().unwrap_or_default();
            // Reached several ways, a root is compliant only if every way is.
            *by_root.entry(root).or_insert(true) &= disabled;
        }
        Verdict::Deployed(
            by_root
                .into_iter()
                .map(|(root, disabled)| Deployment { root, disabled })
                .collect(),
        )
    }

    /// What the patches of each kustomization of the chain, innermost first,
    /// leave in the workload's field (`None`: none touches it).
    fn setting_through(&self, chain: &[String], mut subject: Subject) -> Option<Setting> {
        let mut setting = None;
        for dir in chain {
            for (declared_in, entry) in patches_of(&self.kustomizations, dir) {
                let reading = match &entry.source {
                    PatchSource::Inline(reading) => Some(reading),
                    PatchSource::File(path) => self.patches.get(&join(&declared_in, path)),
                    // Not fetched: what it sets is unknown.
                    PatchSource::Remote(_) => None,
                };
                if let Some(found) =
                    reading.and_then(|r| subject.patched_by(entry.form, entry.target.as_ref(), r))
                {
                    setting = Some(found);
                }
            }
            // Kustomize renames resources and moves them to `namespace:`
            // after the patches of the same kustomization.
            if let (Some(k), Some((name, ns))) = (self.kustomizations.get(dir), subject.ids.last())
            {
                let renamed = format!("{}{name}{}", k.name_prefix, k.name_suffix);
                let moved = k.namespace.clone().or_else(|| ns.clone());
                if (&renamed, &moved) != (name, ns) {
                    subject.ids.push((renamed, moved));
                }
            }
        }
        setting
    }

    /// The findings of `file` as its kustomizations deploy it: a patch file
    /// has no TG001 finding; a workload every deploying kustomization patches
    /// to `false` has none either; one that only some patch keeps its finding,
    /// with the overlays recorded (its message names them). TG000 findings are never touched.
    pub fn adjust(&self, file: &str, findings: Vec<Finding>) -> Vec<Finding> {
        if self.kustomizations.is_empty() {
            return findings;
        }
        let file = normalize(file);
        if self.only_a_patch(&file) {
            return findings
                .into_iter()
                .filter(|f| f.code != Code::TG001)
                .collect();
        }
        let folder = parent(&file);
        findings
            .into_iter()
            .filter_map(|mut finding| {
                let Some(workload) = finding
                    .workload
                    .as_ref()
                    .filter(|_| finding.code == Code::TG001)
                else {
                    return Some(finding);
                };
                let Verdict::Deployed(deployments) = self.verdict_of(&file, workload) else {
                    return Some(finding);
                };
                let name = |d: &&Deployment| relative_to_common(&folder, &d.root);
                let (patched, unpatched): (Vec<&Deployment>, Vec<&Deployment>) =
                    deployments.iter().partition(|d| d.disabled);
                if unpatched.is_empty() {
                    return None;
                }
                if !patched.is_empty() {
                    finding.set_overlays(Overlays {
                        patching: patched.iter().map(name).collect(),
                        not_patching: unpatched.iter().map(name).collect(),
                    });
                }
                Some(finding)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{analyze, NoAccounts};

    const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers: []\n";
    const PATCH_FALSE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      automountServiceAccountToken: false\n";

    fn index(kustomizations: &[(&str, &str)], patches: &[(&str, &str)]) -> KustomizeIndex {
        let mut index = KustomizeIndex::new();
        for (path, text) in kustomizations {
            index.set_kustomization(path, text);
        }
        for (path, text) in patches {
            index.set_patch(path, text);
        }
        index
    }

    fn adjusted(index: &KustomizeIndex, path: &str, text: &str) -> Vec<Finding> {
        index.adjust(path, analyze(text, &NoAccounts, crate::Options::builtin()))
    }

    #[test]
    fn every_overlay_patching_makes_the_base_compliant() {
        let idx = index(
            &[
                ("base/kustomization.yaml", "resources: [deploy.yaml]\n"),
                (
                    "overlays/prod/kustomization.yaml",
                    "resources: [../../base]\npatchesStrategicMerge: [token.yaml]\n",
                ),
                (
                    "overlays/dev/kustomization.yaml",
                    "resources: [../../base]\npatches: [{path: token.yaml}]\n",
                ),
            ],
            &[
                ("overlays/prod/token.yaml", PATCH_FALSE),
                ("overlays/dev/token.yaml", PATCH_FALSE),
            ],
        );
        assert!(adjusted(&idx, "base/deploy.yaml", DEPLOYMENT).is_empty());
        assert!(
            adjusted(&idx, "./base/../base/deploy.yaml", DEPLOYMENT).is_empty(),
            "paths are normalized"
        );
        // Not listed by any kustomization: unchanged.
        assert_eq!(adjusted(&idx, "elsewhere/deploy.yaml", DEPLOYMENT).len(), 1);
    }

    #[test]
    fn some_overlays_patching_is_said_in_the_message() {
        let mut idx = index(
            &[
                ("app/base/kustomization.yaml", "resources: [deploy.yaml]\n"),
                (
                    "app/overlays/prod/kustomization.yaml",
                    "resources: [../../base]\npatchesStrategicMerge: [token.yaml]\n",
                ),
                (
                    "app/overlays/dev/kustomization.yaml",
                    "resources: [../../base]\n",
                ),
            ],
            &[("app/overlays/prod/token.yaml", PATCH_FALSE)],
        );
        let findings = adjusted(&idx, "app/base/deploy.yaml", DEPLOYMENT);
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0].message.ends_with(
                " overlays/prod sets automountServiceAccountToken: false through a patch, overlays/dev does not."
            ),
            "{}",
            findings[0].message
        );
        idx.set_kustomization(
            "app/overlays/qa/kustomization.yaml",
            "resources: [../../base]\n",
        );
        idx.set_kustomization(
            "app/overlays/stage/kustomization.yaml",
            "resources: [../prod]\n",
        );
        let message = &adjusted(&idx, "app/base/deploy.yaml", DEPLOYMENT)[0].message;
        assert!(
            message.ends_with(" overlays/stage sets automountServiceAccountToken: false through a patch, overlays/dev and overlays/qa do not."),
            "an overlay of a patching overlay inherits the patch: {message}"
        );
        // A patch that sets true again in the outer overlay wins.
        idx.set_kustomization(
            "app/overlays/stage/kustomization.yaml",
            "resources: [../prod]\npatchesStrategicMerge: [on.yaml]\n",
        );
        idx.set_patch(
            "app/overlays/stage/on.yaml",
            &PATCH_FALSE.replace("false", "true"),
        );
        let message = &adjusted(&idx, "app/base/deploy.yaml", DEPLOYMENT)[0].message;
        assert!(!message.contains("through a patch"), "{message}");
    }

    #[test]
    fn patch_files_get_no_tg001_but_keep_syntax_errors() {
        let idx = index(
            &[("o/kustomization.yaml", "resources: [../base]\npatchesStrategicMerge: [p.yaml]\npatchesJson6902: [{path: ops.yaml, target: {kind: Deployment, name: api}}]\n")],
            &[],
        );
        let partial = "kind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n    spec:\n      containers: [{name: x, image: y}]\n";
        assert_eq!(
            analyze(partial, &NoAccounts, crate::Options::builtin()).len(),
            1
        );
        assert!(adjusted(&idx, "o/p.yaml", partial).is_empty());
        let broken = "kind: Deployment\nspec: [\n";
        let kept = adjusted(&idx, "o/ops.yaml", broken);
        assert_eq!(
            kept.iter().map(|f| f.code).collect::<Vec<_>>(),
            [Code::TG000]
        );
        assert!(idx.is_patch_file("o/./p.yaml"));
        assert!(!idx.is_patch_file("o/kustomization.yaml"));
    }

    #[test]
    fn overlay_namespace_and_patch_namespace() {
        let base = ("base/kustomization.yaml", "resources: [deploy.yaml]\n");
        // The overlay moves the workload to prod after its own patches: a
        // patch naming prod does not reach it there, one without does.
        let own = index(
            &[
                base,
                (
                    "prod/kustomization.yaml",
                    "namespace: prod\nresources: [../base]\npatchesStrategicMerge: [p.yaml]\n",
                ),
            ],
            &[(
                "prod/p.yaml",
                &PATCH_FALSE.replace("name: api", "name: api\n  namespace: prod"),
            )],
        );
        assert_eq!(adjusted(&own, "base/deploy.yaml", DEPLOYMENT).len(), 1);
        let plain = index(
            &[
                base,
                (
                    "prod/kustomization.yaml",
                    "namespace: prod\nresources: [../base]\npatchesStrategicMerge: [p.yaml]\n",
                ),
            ],
            &[("prod/p.yaml", PATCH_FALSE)],
        );
        assert!(adjusted(&plain, "base/deploy.yaml", DEPLOYMENT).is_empty());
        // An outer overlay sees the inner one's namespace.
        let outer = index(
            &[
                base,
                ("prod/kustomization.yaml", "namespace: prod\nresources: [../base]\n"),
                ("eu/kustomization.yaml", "resources: [../prod]\npatches: [{path: p.yaml, target: {kind: Deployment, name: api, namespace: prod}}]\n"),
            ],
            &[("eu/p.yaml", "- {op: add, path: /spec/template/spec/automountServiceAccountToken, value: false}\n")],
        );
        assert!(adjusted(&outer, "base/deploy.yaml", DEPLOYMENT).is_empty());
        // The wrong name: no effect.
        let wrong = index(
            &[
                base,
                (
                    "prod/kustomization.yaml",
                    "resources: [../base]\npatchesStrategicMerge: [p.yaml]\n",
                ),
            ],
            &[(
                "prod/p.yaml",
                &PATCH_FALSE.replace("name: api", "name: web"),
            )],
        );
        assert_eq!(adjusted(&wrong, "base/deploy.yaml", DEPLOYMENT).len(), 1);
    }

    #[test]
    fn outer_overlays_may_name_the_prefixed_name_or_the_original() {
        let base = ("base/kustomization.yaml", "resources: [deploy.yaml]\n");
        let prod = (
            "prod/kustomization.yaml",
            "namePrefix: prod-\nnamespace: prod\nresources: [../base]\n",
        );
        let outer = |target: &str| {
            index(
                &[
                    base,
                    prod,
                    (
                        "eu/kustomization.yaml",
                        "resources: [../prod]\npatches: [{path: p.yaml}]\n",
                    ),
                ],
                &[("eu/p.yaml", &PATCH_FALSE.replace("name: api", target))],
            )
        };
        assert!(adjusted(
            &outer("name: prod-api\n  namespace: prod"),
            "base/deploy.yaml",
            DEPLOYMENT
        )
        .is_empty());
        assert!(adjusted(&outer("name: api"), "base/deploy.yaml", DEPLOYMENT).is_empty());
        assert_eq!(
            adjusted(&outer("name: prod-api"), "base/deploy.yaml", DEPLOYMENT).len(),
            1,
            "the new name in the old namespace was never the workload's id"
        );
    }

    #[test]
    fn a_patch_file_that_is_also_a_resource_is_judged() {
        let idx = index(
            &[
                (
                    "a/kustomization.yaml",
                    "patchesStrategicMerge: [../shared/deploy.yaml]\n",
                ),
                (
                    "b/kustomization.yaml",
                    "resources: [../shared/deploy.yaml]\n",
                ),
            ],
            &[],
        );
        assert_eq!(adjusted(&idx, "shared/deploy.yaml", DEPLOYMENT).len(), 1);
    }

    #[test]
    fn a_base_nobody_includes_is_deployed_as_is() {
        let idx = index(
            &[("base/kustomization.yaml", "resources: [deploy.yaml]\n")],
            &[],
        );
        let findings = adjusted(&idx, "base/deploy.yaml", DEPLOYMENT);
        assert_eq!(
            findings,
            analyze(DEPLOYMENT, &NoAccounts, crate::Options::builtin()),
            "unchanged"
        );
        // A kustomization may patch its own resources.
        let own = index(
            &[("base/kustomization.yaml", "resources: [deploy.yaml]\npatches:\n- target: {kind: Deployment}\n  patch: |\n    - op: replace\n      path: /spec/template/spec/automountServiceAccountToken\n      value: false\n")],
            &[],
        );
        assert!(adjusted(&own, "base/deploy.yaml", DEPLOYMENT).is_empty());
    }

    #[test]
    fn kustomization_and_component_documents_are_not_workloads() {
        let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: prod\nresources:\n- ../base\npatches:\n- path: p.yaml\n  target: {kind: Deployment}\n";
        let component = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatchesStrategicMerge:\n- |-\n  kind: Deployment\n  metadata: {name: api}\n  spec: {template: {spec: {automountServiceAccountToken: false}}}\n";
        assert!(analyze(kustomization, &NoAccounts, crate::Options::builtin()).is_empty());
        assert!(analyze(component, &NoAccounts, crate::Options::builtin()).is_empty());
    }

    #[test]
    fn changes_are_reported_and_edges_follow_them() {
        let mut idx = KustomizeIndex::new();
        assert!(idx.set_kustomization("o/kustomization.yaml", "patchesStrategicMerge: [p.yaml]\n"));
        assert!(!idx.set_kustomization(
            "o/kustomization.yaml",
            "patchesStrategicMerge: [p.yaml]\n# same\n"
        ));
        assert!(idx.is_patch_file("o/p.yaml"));
        assert!(idx.set_patch("o/p.yaml", PATCH_FALSE));
        assert!(!idx.set_patch("o/p.yaml", PATCH_FALSE));
        assert!(idx.remove_kustomization("o/kustomization.yaml"));
        assert!(!idx.is_patch_file("o/p.yaml"));
        assert!(idx.remove_patch("o/p.yaml"));
        assert!(!idx.remove_patch("o/p.yaml"));
    }
}
