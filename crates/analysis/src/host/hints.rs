//! The host's answers for what an editor shows unasked (`crate::hints`):
//! the token hints of a file, judged against the workspace's accounts as
//! the host knows them.

use super::{AnalysisHost, FilePath, FileSource, OpenText};
use crate::accounts::{AccountLookup, FoundAccount};
use crate::files::FileKind;
use crate::hints::{self, AccountLens, TokenHint};
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
        hints::token_hints(text, &parsed, &others)
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
