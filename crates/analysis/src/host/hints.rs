//! The host's answers for what an editor shows unasked (`crate::hints`):
//! the token hints of a file, judged against the workspace's accounts as
//! the host knows them.

use super::{AnalysisHost, FilePath, FileSource, OpenText};
use crate::accounts::{AccountLookup, FoundAccount};
use crate::files::FileKind;
use crate::finding::Overlays;
use crate::hints::{self, AccountLens, TokenHint};
use crate::kustomize::{normalize, parent, relative_to_common, Deployment, Verdict};
use crate::AccountIndex;

/// The workspace's accounts but those of one file (whose text speaks for
/// it: what the index holds of it may be older).
struct Others<'a> {
    index: &'a AccountIndex,
    except: &'a str,
}

impl AccountLookup for Others<'_> {
    fn find(&self, namespace: Option<&str>, name: &str) -> Option<FoundAccount> {
        let found = self.index.find(namespace, name)?;
        if found.origin.as_deref() != Some(self.except) {
            return Some(found);
        }
        // Rare: look again without that file.
        let mut without = self.index.clone();
        without.remove(self.except);
        without.find(namespace, name)
    }
}

impl<S: FileSource> AnalysisHost<S> {
    /// The inlay hints of `text` at `path`: each pod spec of a plain
    /// manifest that does not write `automountServiceAccountToken`, with
    /// the value its account gives it. A chart template gets none: its
    /// `spec:` line may hold template actions, and its account is the
    /// chart's to resolve.
    pub fn token_hints(&self, path: &FilePath, text: &str) -> Vec<TokenHint> {
        let kind = match self.files.get(path) {
            Some(entry) => entry.kind.clone(),
            None => super::charts::classify(&self.source, path, text),
        };
        if kind != FileKind::Manifest {
            return Vec::new();
        }
        let parsed = crate::parse(text, &self.configuration(path).options);
        if !crate::holds_kubernetes_object(text, &parsed) {
            return Vec::new();
        }
        let others = Others {
            index: &self.accounts,
            except: path.as_str(),
        };
        self.kustomized(path, hints::token_hints(text, &parsed, &others))
    }

    /// `hints` of the file at `path` as its kustomizations deploy it (the
    /// rule's Kustomize step, `KustomizeIndex::adjust`, for hints): none in
    /// a patch file; a pod spec that leaves the token on records the
    /// overlays that patch it off, and is off when every one does.
    pub fn kustomized(&self, path: &FilePath, mut hints: Vec<TokenHint>) -> Vec<TokenHint> {
        let index = &self.kustomize.index;
        if path.is_detached() || index.is_empty() {
            return hints;
        }
        let file = normalize(path.as_str());
        if index.is_patch_file(&file) {
            return Vec::new();
        }
        let folder = parent(&file);
        for hint in hints.iter_mut().filter(|h| h.mounted) {
            let Verdict::Deployed(deployments) = index.verdict(&file, &hint.workload) else {
                continue;
            };
            let name = |d: &&Deployment| relative_to_common(&folder, &d.root);
            let (patching, not_patching): (Vec<&Deployment>, Vec<&Deployment>) =
                deployments.iter().partition(|d| d.disabled);
            if patching.is_empty() {
                continue;
            }
            hint.mounted = !not_patching.is_empty();
            hint.overlays = Some(Overlays {
                patching: patching.iter().map(name).collect(),
                not_patching: not_patching.iter().map(name).collect(),
            });
        }
        hints
    }

    /// The code lenses of `open[0]` (a plain manifest): one per
    /// ServiceAccount it declares, counted over the workspace as navigation
    /// sees it (`open[1..]`: the embedder's other open buffers, which speak
    /// for their files), with the roles its bindings give it
    /// ([`AnalysisHost::permissions`]).
    pub fn account_lenses(&self, open: &[OpenText<'_>]) -> Vec<AccountLens> {
        self.with_workspace(open, |workspace, symbols| {
            let Some(file) = symbols.first() else {
                return Vec::new();
            };
            let bound_to = |namespace: Option<&str>, name: &str| {
                Some(hints::roles_bound(&self.permissions(namespace, name)))
            };
            hints::account_lenses(&file.accounts, workspace, &bound_to)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::host::{AnalysisHost, FilePath, NoFiles};

    const POD: &str =
        "kind: Pod\nmetadata: {name: a}\nspec:\n  serviceAccountName: ci\n  containers: []\n";
    const CI_OFF: &str =
        "kind: ServiceAccount\nmetadata: {name: ci}\nautomountServiceAccountToken: false\n";

    fn labels(host: &AnalysisHost<NoFiles>, path: &str, text: &str) -> Vec<String> {
        host.token_hints(&FilePath::new(path), text)
            .iter()
            .map(|h| h.label())
            .collect()
    }

    #[test]
    fn a_files_own_text_speaks_for_its_accounts_not_what_the_index_held_of_it() {
        let mut host = AnalysisHost::new(NoFiles);
        let both = format!("{POD}---\n{CI_OFF}");
        host.set_file(FilePath::new("app.yaml"), both.clone());
        assert_eq!(
            labels(&host, "app.yaml", &both),
            ["token off: ServiceAccount ci"]
        );
        // The account deleted from the text, not yet fed: the text wins.
        assert_eq!(
            labels(&host, "app.yaml", POD),
            ["token mounted: ServiceAccount ci (not in the checked files)"]
        );
        // Another file's declaration counts.
        host.set_file(FilePath::new("sa.yaml"), CI_OFF.to_string());
        assert_eq!(
            labels(&host, "app.yaml", POD),
            ["token off: ServiceAccount ci"]
        );
    }

    #[test]
    fn chart_templates_and_files_without_kubernetes_objects_get_none() {
        let host = AnalysisHost::new(NoFiles);
        assert!(labels(&host, "values.yaml", "spec:\n  containers: []\n").is_empty());
        let template =
            "kind: Pod\nmetadata: {name: {{ .Release.Name }}}\nspec:\n  containers: []\n";
        assert!(labels(&host, "loose.yaml", template).is_empty());
    }
}
