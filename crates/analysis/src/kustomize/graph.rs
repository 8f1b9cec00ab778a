//! The overlay graph: which kustomizations include a file or a folder, and
//! every way a workload file reaches a kustomization that nothing includes
//! (one that is deployed as it is).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::manifest::{Kustomization, PatchEntry};
use super::paths::join;

/// Past this many ways from a file to the deployed kustomizations, the graph
/// is not read at all (the findings stay as they are): no input can make the
/// walk long.
pub const MAX_CHAINS: usize = 1024;

/// A kustomization that nothing includes, and whether it deploys the
/// workload with `automountServiceAccountToken: false`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// Its folder.
    pub root: String,
    pub disabled: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No kustomization lists the file (or the graph is too large to read).
    NotKustomized,
    /// The kustomizations that deploy it, by folder.
    Deployed(Vec<Deployment>),
}

/// Who includes what, derived from the kustomizations.
#[derive(Clone, Debug, Default)]
pub struct Edges {
    /// File → the folders of the kustomizations that list it as a resource.
    pub file_includers: HashMap<String, Vec<String>>,
    /// Kustomization folder → the folders of those that list it as a base.
    pub dir_parents: HashMap<String, Vec<String>>,
    /// Every file some kustomization (or component) names as a patch.
    pub patch_files: BTreeSet<String>,
}

/// Whether a resource entry is remote (a Git URL or an HTTP address), which
/// is never read.
fn is_remote(entry: &str) -> bool {
    entry.contains("://") || entry.starts_with("git@") || entry.contains("?ref=")
}

impl Edges {
    pub fn build(kustomizations: &BTreeMap<String, Kustomization>) -> Edges {
        let mut edges = Edges::default();
        for (dir, k) in kustomizations {
            for entry in k.resources.iter().filter(|e| !is_remote(e)) {
                let resolved = join(dir, entry);
                let map = if kustomizations.contains_key(&resolved) {
                    &mut edges.dir_parents
                } else {
                    &mut edges.file_includers
                };
                let includers = map.entry(resolved).or_default();
                if !includers.contains(dir) {
                    includers.push(dir.clone());
                }
            }
            for patch in &k.patches {
                if let super::PatchSource::File(path) = &patch.source {
                    edges.patch_files.insert(join(dir, path));
                }
            }
        }
        edges
    }

    /// Every chain of kustomization folders from one that lists `file` up to
    /// one that nothing includes, innermost first; `None` past
    /// [`MAX_CHAINS`]. A cycle ends a chain where it would close.
    pub fn chains(&self, file: &str) -> Option<Vec<Vec<String>>> {
        let mut pending: Vec<Vec<String>> = self
            .file_includers
            .get(file)
            .map(|dirs| dirs.iter().map(|d| vec![d.clone()]).collect())
            .unwrap_or_default();
        let mut done = Vec::new();
        let mut visited = 0;
        while let Some(chain) = pending.pop() {
            visited += 1;
            if visited > MAX_CHAINS {
                return None;
            }
            let last = chain.last().map(String::as_str).unwrap_or_default();
            let parents: Vec<&String> = self
                .dir_parents
                .get(last)
                .into_iter()
                .flatten()
                .filter(|p| !chain.contains(p))
                .collect();
            if parents.is_empty() {
                done.push(chain);
                continue;
            }
            for parent in parents {
                let mut longer = chain.clone();
                longer.push(parent.clone());
                pending.push(longer);
            }
        }
        Some(done)
    }
}

/// The patches a kustomization applies, with the folder each was declared in:
/// those of its components (applied first, as Kustomize does), then its own.
pub fn patches_of<'k>(
    kustomizations: &'k BTreeMap<String, Kustomization>,
    dir: &str,
) -> Vec<(String, &'k PatchEntry)> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    // Depth first with an explicit stack (a chain of components as long as
    // the workspace cannot overflow ours); each folder is entered once, so a
    // component that includes itself ends there. `true` marks a folder whose
    // components are done: its own patches come next.
    let mut stack = vec![(dir.to_string(), false)];
    while let Some((dir, components_done)) = stack.pop() {
        let Some(k) = kustomizations.get(&dir) else {
            continue;
        };
        if components_done {
            out.extend(k.patches.iter().map(|p| (dir.clone(), p)));
            continue;
        }
        if !seen.insert(dir.clone()) {
            continue;
        }
        let components: Vec<String> = k
            .components
            .iter()
            .filter(|c| !is_remote(c))
            .map(|c| join(&dir, c))
            .collect();
        stack.push((dir, true));
        stack.extend(components.into_iter().rev().map(|c| (c, false)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kustomize::parse_kustomization;

    fn graph(files: &[(&str, &str)]) -> BTreeMap<String, Kustomization> {
        files
            .iter()
            .map(|(dir, text)| (dir.to_string(), parse_kustomization(text)))
            .collect()
    }

    #[test]
    fn bases_are_followed_transitively_to_the_deployed_kustomizations() {
        let k = graph(&[
            ("app/base", "resources: [deploy.yaml, ./svc.yaml]\n"),
            ("app/overlays/shared", "resources: [../../base]\n"),
            ("app/overlays/prod", "resources: [../shared]\n"),
            ("app/overlays/dev", "bases: [../../base]\n"),
            (
                "other",
                "resources: [https://example.com/x.yaml, ../app/base/deploy.yaml]\n",
            ),
        ]);
        let edges = Edges::build(&k);
        let mut chains = edges.chains("app/base/deploy.yaml").unwrap();
        chains.sort();
        assert_eq!(
            chains,
            [
                vec!["app/base", "app/overlays/dev"],
                vec!["app/base", "app/overlays/shared", "app/overlays/prod"],
                vec!["other"],
            ]
        );
        assert_eq!(
            edges.chains("app/base/none.yaml").unwrap(),
            Vec::<Vec<String>>::new()
        );
        assert!(!edges
            .file_includers
            .contains_key("https://example.com/x.yaml"));
    }

    #[test]
    fn cycles_end_the_chain_instead_of_hanging() {
        let k = graph(&[
            ("a", "resources: [w.yaml, ../b]\n"),
            ("b", "resources: [../a]\n"),
            ("c", "resources: [../c, ../a]\n"),
        ]);
        let mut chains = Edges::build(&k).chains("a/w.yaml").unwrap();
        chains.sort();
        assert_eq!(chains, [vec!["a", "b"], vec!["a", "c"]]);
    }

    #[test]
    fn a_graph_with_too_many_paths_is_not_read() {
        // 12 levels of two parallel kustomizations: 2^12 chains.
        let mut files = vec![("l0a".to_string(), "resources: [../w.yaml]\n".to_string())];
        files.push(("l0b".to_string(), "resources: [../w.yaml]\n".to_string()));
        for level in 1..12 {
            for side in ["a", "b"] {
                files.push((
                    format!("l{level}{side}"),
                    format!("resources: [../l{}a, ../l{}b]\n", level - 1, level - 1),
                ));
            }
        }
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(Edges::build(&graph(&refs)).chains("w.yaml"), None);
    }

    #[test]
    fn a_long_chain_of_components_does_not_overflow() {
        let mut files: Vec<(String, String)> = (0..20_000)
            .map(|i| {
                (
                    format!("c{i}"),
                    format!("components: [../c{}]\npatches: [{{path: p.yaml}}]\n", i + 1),
                )
            })
            .collect();
        files.push(("c20000".into(), "patches: [{path: p.yaml}]\n".into()));
        let k: BTreeMap<String, Kustomization> = files
            .iter()
            .map(|(d, t)| (d.clone(), parse_kustomization(t)))
            .collect();
        let patches = patches_of(&k, "c0");
        assert_eq!(patches.len(), 20_001);
        assert_eq!(patches[0].0, "c20000", "the innermost component first");
        assert_eq!(patches[20_000].0, "c0");
    }

    #[test]
    fn component_patches_come_before_the_kustomizations_own() {
        let k = graph(&[
            (
                "o",
                "components: [../c]\npatchesStrategicMerge: [own.yaml]\n",
            ),
            (
                "c",
                "kind: Component\ncomponents: [../o]\npatches: [{path: comp.yaml}]\n",
            ),
        ]);
        let patches: Vec<(String, String)> = patches_of(&k, "o")
            .into_iter()
            .map(|(dir, p)| match &p.source {
                crate::kustomize::PatchSource::File(f) => (dir, f.clone()),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            patches,
            [
                ("c".to_string(), "comp.yaml".to_string()),
                ("o".to_string(), "own.yaml".to_string())
            ]
        );
        let edges = Edges::build(&k);
        assert_eq!(
            edges.patch_files.iter().collect::<Vec<_>>(),
            ["c/comp.yaml", "o/own.yaml"]
        );
    }
}
