//! The workspace store: what the server knows of the workspace beyond the
//! open documents' own text. The ServiceAccounts every file declares (open
//! buffers and the disk), the kustomizations and their patch files, and the
//! project configuration of each workspace folder. It is the context a
//! document is judged in.
//!
//! Its interface is narrow on purpose (the analysis host of
//! `crates/analysis` is to take its place):
//!
//! * fed: a buffer's analysis ([`WorkspaceStore::buffer_analysed`]), a file
//!   the disk speaks for again ([`WorkspaceStore::disk_changed`]), the
//!   workspace index's readings ([`WorkspaceStore::index_disk_files`],
//!   [`WorkspaceStore::rebuild_kustomizations`]), the workspace folders
//!   ([`WorkspaceStore::load_projects`]);
//! * asked: the context a document is judged in
//!   ([`WorkspaceStore::judge_with`], [`WorkspaceStore::adjust`],
//!   [`WorkspaceStore::options_for`], [`WorkspaceStore::project_for`]), and
//!   which open documents to judge again (the feeding methods return true
//!   when every other document may be affected;
//!   [`WorkspaceStore::affected_chart`] names the chart whose templates
//!   are).
//!
//! Files it needs but is not given are read through the embedder's
//! [`TextSource`] (the server's one reader: open buffer, else the disk
//! inside the workspace folders).
//!
//! Locking rules:
//!
//! * `accounts` (the index and the files it holds, changed together) is one
//!   `RwLock`. A write computes nothing slow under the lock but the index
//!   update itself; a read is held for a whole analysis
//!   ([`WorkspaceStore::judge_with`]), during which the caller must take no
//!   other lock of the store (parking_lot's locks are fair: a second read
//!   behind a waiting writer would deadlock).
//! * `kustomizations` has its own lock (inside `Kustomizations`), taken
//!   while reading patch files through the `TextSource`; the `TextSource`
//!   never takes a lock of the store.
//! * `projects` is replaced whole, read briefly.
//! * Locks are taken in the order accounts → (open documents' map); nothing
//!   here is async, so no lock of the store is ever held across an `.await`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dashmap::DashMap;
use parking_lot::RwLock;
use ropey::Rope;
use tower_lsp_server::ls_types::{Diagnostic, Uri};

use tokenguard_analysis::{
    AccountIndex, AccountLookup, Finding, FoundAccount, Options, ServiceAccount,
};

use crate::identity::{self, DocumentKey};
use crate::kustomize::{Kustomizations, TextSource};
use crate::positions::Encoding;
use crate::project::Project;
use crate::{helm, workspace};

/// A file whose ServiceAccounts the account index holds.
struct AccountFile {
    /// The name the index knows the file by (the canonical URI of the key it
    /// was put there with: spellings of one file may differ in letter case).
    uri: Uri,
    rope: Rope,
}

/// The account index and the files it holds: exactly the files that
/// declare ServiceAccounts, open or on disk.
#[derive(Default)]
struct Accounts {
    index: AccountIndex,
    files: std::collections::HashMap<DocumentKey, AccountFile>,
}

impl Accounts {
    /// The name the index knows the file at `key` by, when it holds it.
    fn name_of(&self, key: &DocumentKey) -> Option<&str> {
        self.files.get(key).map(|f| f.uri.as_str())
    }

    fn accounts_of(&self, key: &DocumentKey) -> &[ServiceAccount] {
        self.name_of(key)
            .map_or(&[][..], |name| self.index.accounts_of(name))
    }

    /// Puts a file's accounts in the index under the key's name, replacing
    /// what it held under another spelling of the same file.
    fn set(&mut self, key: &DocumentKey, accounts: Vec<ServiceAccount>, rope: Rope) {
        self.remove(key);
        if accounts.is_empty() {
            return;
        }
        self.index.set(key.as_str(), accounts);
        let uri = key.uri().clone();
        self.files.insert(key.clone(), AccountFile { uri, rope });
    }

    fn remove(&mut self, key: &DocumentKey) {
        if let Some(old) = self.files.remove(key) {
            self.index.remove(old.uri.as_str());
        }
    }
}

pub struct WorkspaceStore {
    accounts: RwLock<Accounts>,
    /// Grows whenever the ServiceAccounts of the workspace change: findings
    /// judged under an older generation are judged again.
    generation: AtomicU64,
    /// When each file was last read from disk on the editor's word (a watched
    /// change, a closed buffer), on the `disk_clock`: the workspace index
    /// must not overwrite such a reading with an older one of its own.
    disk_reads: DashMap<DocumentKey, u64>,
    disk_clock: AtomicU64,
    kustomizations: Kustomizations,
    /// The project configuration of each workspace folder.
    projects: RwLock<Vec<Arc<Project>>>,
    /// The analysis options of documents outside every workspace folder.
    default_options: Arc<Options>,
}

impl Default for WorkspaceStore {
    fn default() -> Self {
        Self {
            accounts: RwLock::new(Accounts::default()),
            generation: AtomicU64::new(0),
            disk_reads: DashMap::new(),
            disk_clock: AtomicU64::new(0),
            kustomizations: Kustomizations::default(),
            projects: RwLock::new(Vec::new()),
            default_options: Arc::new(Options::default()),
        }
    }
}

/// What a document is judged against, for the length of one analysis.
pub struct JudgeContext<'a> {
    /// The workspace's ServiceAccounts but the document's own (its text
    /// speaks for it).
    pub accounts: &'a dyn AccountLookup,
    pub generation: u64,
    pub options: Arc<Options>,
}

impl WorkspaceStore {
    // ----- asked -------------------------------------------------------

    /// Runs `judge` with the context the document at `key` is judged in,
    /// holding the account index for reading meanwhile (see the locking
    /// rules: `judge` takes no other lock of the store).
    pub fn judge_with<R>(
        &self,
        key: &DocumentKey,
        judge: impl FnOnce(&JudgeContext<'_>) -> R,
    ) -> R {
        let options = self.options_for(key);
        let accounts = self.accounts.read();
        // The document's own accounts come from its text; what the index
        // holds for it is an older revision (or the disk) and must not count.
        let others = OtherFiles {
            index: &accounts.index,
            except: accounts.name_of(key),
        };
        let context = JudgeContext {
            accounts: &others,
            generation: self.generation.load(Ordering::SeqCst),
            options,
        };
        judge(&context)
    }

    /// `findings` of the document at `key`, as the kustomizations deploy it.
    pub fn adjust(&self, key: &DocumentKey, findings: Vec<Finding>) -> Vec<Finding> {
        self.kustomizations.adjust(key, findings)
    }

    /// The project configuration of the workspace folder holding `key` (the
    /// innermost one when folders nest).
    pub fn project_for(&self, key: &DocumentKey) -> Option<Arc<Project>> {
        let path = key.to_path()?;
        let projects = self.projects.read();
        projects
            .iter()
            .filter(|p| identity::is_within(&p.root, &path))
            .max_by_key(|p| p.root.as_os_str().len())
            .cloned()
    }

    pub fn options_for(&self, key: &DocumentKey) -> Arc<Options> {
        self.project_for(key).map_or_else(
            || Arc::clone(&self.default_options),
            |p| Arc::clone(&p.options),
        )
    }

    /// The problems of the project configuration files that could not be
    /// used, as diagnostics on them.
    pub fn config_problems(&self) -> Vec<(DocumentKey, Diagnostic)> {
        self.projects
            .read()
            .iter()
            .filter_map(|p| p.problem.clone())
            .collect()
    }

    /// The store's copy of a file that declares ServiceAccounts: the name to
    /// tell the client and the text it was indexed from.
    pub fn indexed_copy(&self, key: &DocumentKey) -> Option<(Uri, Rope)> {
        let accounts = self.accounts.read();
        let file = accounts.files.get(key)?;
        Some((file.uri.clone(), file.rope.clone()))
    }

    /// Helm: the chart whose open templates are to be judged again when the
    /// file at `key` (a chart's `values.yaml` or one of its templates)
    /// changes.
    pub fn affected_chart(&self, key: &DocumentKey) -> Option<PathBuf> {
        helm::affected_chart(key)
    }

    // ----- fed -------------------------------------------------------

    /// Reads the project configuration of every workspace folder again.
    pub fn load_projects(&self, roots: &[PathBuf], encoding: Encoding) {
        let projects = roots
            .iter()
            .map(|root| Arc::new(Project::load(root, &self.default_options, encoding)))
            .collect();
        *self.projects.write() = projects;
    }

    /// Takes in what an open buffer's analysis found (its ServiceAccounts,
    /// and its text when it is a kustomization or a patch file); true when
    /// the other documents may be judged differently now.
    pub fn buffer_analysed(
        &self,
        key: &DocumentKey,
        accounts: &[ServiceAccount],
        rope: &Rope,
        text_of: &TextSource<'_>,
    ) -> bool {
        let accounts_changed = {
            let mut index = self.accounts.write();
            if index.accounts_of(key) == accounts {
                false
            } else {
                index.set(key, accounts.to_vec(), rope.clone());
                self.generation.fetch_add(1, Ordering::SeqCst);
                true
            }
        };
        // Kustomize: an open kustomization or patch buffer.
        let kustomize_changed = self.kustomizations.concerns(key)
            && self
                .kustomizations
                .update(key, Some(&rope.to_string()), text_of);
        accounts_changed || kustomize_changed
    }

    /// The disk speaks for the file at `key` again (a watched change, a
    /// closed buffer): what it says now is read through `text_of`; true when
    /// the other documents may be judged differently now.
    pub fn disk_changed(&self, key: &DocumentKey, text_of: &TextSource<'_>) -> bool {
        let read_at = self.disk_clock.fetch_add(1, Ordering::SeqCst) + 1;
        self.disk_reads.insert(key.clone(), read_at);
        let path = key.to_path();
        let text = path.as_deref().and_then(text_of);
        let file = path
            .as_deref()
            .zip(text.as_deref())
            .and_then(|(path, text)| workspace::accounts_in(path, text));
        let accounts_changed = {
            let mut index = self.accounts.write();
            let before = index.accounts_of(key);
            match file {
                Some(file) if before != file.accounts => {
                    index.set(key, file.accounts, file.rope);
                    true
                }
                None if !before.is_empty() => {
                    index.remove(key);
                    true
                }
                _ => false,
            }
        };
        if accounts_changed {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        // Kustomize: a kustomization or patch file that is not open.
        let kustomize_changed = self.kustomizations.concerns(key)
            && self.kustomizations.update(key, text.as_deref(), text_of);
        accounts_changed || kustomize_changed
    }

    /// The disk clock now: readings the workspace index starts after this
    /// are older than any the editor asks for from now on.
    pub fn disk_clock(&self) -> u64 {
        self.disk_clock.load(Ordering::SeqCst)
    }

    /// Puts the ServiceAccounts the workspace index read (starting at
    /// `read_at` on the disk clock) into the index, but for open files
    /// (`is_open`, asked under the index's lock, which their buffers'
    /// accounts are written under) and files the editor had read again
    /// since. Returns how many accounts were taken.
    pub fn index_disk_files(
        &self,
        files: Vec<workspace::AccountFile>,
        read_at: u64,
        is_open: &dyn Fn(&DocumentKey) -> bool,
    ) -> usize {
        let mut found = 0;
        for file in files {
            let Some(key) = DocumentKey::from_path(&file.path) else {
                continue;
            };
            let mut index = self.accounts.write();
            if is_open(&key) {
                continue; // the open buffer speaks for this file
            }
            if self
                .disk_reads
                .get(&key)
                .is_some_and(|read| *read > read_at)
            {
                continue; // re-read since: that reading is newer than ours
            }
            found += file.accounts.len();
            index.set(&key, file.accounts, file.rope);
        }
        found
    }

    /// Replaces the kustomizations with those among `files` (read through
    /// `text_of`), then their patches.
    pub fn rebuild_kustomizations(&self, files: &[PathBuf], text_of: &TextSource<'_>) {
        self.kustomizations.rebuild(files, text_of);
    }

    /// The workspace index is complete: what was judged before it is judged
    /// again.
    pub fn indexed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

/// The account index without one file's entries (by the name the index
/// knows it by; `None` when the index does not hold it).
struct OtherFiles<'a> {
    index: &'a AccountIndex,
    except: Option<&'a str>,
}

impl AccountLookup for OtherFiles<'_> {
    fn find(&self, namespace: Option<&str>, name: &str) -> Option<FoundAccount> {
        let found = self.index.find(namespace, name)?;
        let Some(except) = self.except.filter(|e| found.origin.as_deref() == Some(*e)) else {
            return Some(found);
        };
        // Rare: look again without that file.
        let mut others = self.index.clone();
        others.remove(except);
        others.find(namespace, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const ACCOUNT: &str =
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: builder\nautomountServiceAccountToken: false\n";

    fn key(path: &str) -> DocumentKey {
        DocumentKey::from_path(Path::new(path)).unwrap()
    }

    fn accounts(text: &str) -> Vec<ServiceAccount> {
        tokenguard_analysis::service_accounts(text)
    }

    /// Where the document at `from` finds the account `builder`.
    fn origin_seen_from(store: &WorkspaceStore, from: &DocumentKey) -> Option<String> {
        store.judge_with(from, |context| {
            context.accounts.find(None, "builder")?.origin
        })
    }

    fn nothing_to_read(_: &Path) -> Option<String> {
        None
    }

    #[test]
    fn a_buffer_feeds_its_accounts_to_the_others_but_not_to_itself() {
        let store = WorkspaceStore::default();
        let (a, b) = (key("/ws/a.yaml"), key("/ws/b.yaml"));
        let rope = Rope::from_str(ACCOUNT);
        let before = store.generation.load(Ordering::SeqCst);
        assert!(store.buffer_analysed(&a, &accounts(ACCOUNT), &rope, &nothing_to_read));
        assert!(store.generation.load(Ordering::SeqCst) > before);
        assert!(
            !store.buffer_analysed(&a, &accounts(ACCOUNT), &rope, &nothing_to_read),
            "the same accounts again change nothing"
        );
        assert_eq!(origin_seen_from(&store, &b).as_deref(), Some(a.as_str()));
        assert_eq!(
            origin_seen_from(&store, &a),
            None,
            "its own text speaks for it"
        );
        assert_eq!(
            store.indexed_copy(&a).map(|(_, r)| r.to_string()),
            Some(ACCOUNT.to_string())
        );
        // Its accounts gone from the buffer: gone from the index.
        assert!(store.buffer_analysed(&a, &[], &Rope::new(), &nothing_to_read));
        assert_eq!(origin_seen_from(&store, &b), None);
        assert!(store.indexed_copy(&a).is_none());
    }

    #[test]
    fn the_disk_is_read_through_the_embedders_reader() {
        let store = WorkspaceStore::default();
        let (a, b) = (key("/ws/a.yaml"), key("/ws/b.yaml"));
        let on_disk = |p: &Path| (p == Path::new("/ws/a.yaml")).then(|| ACCOUNT.to_string());
        assert!(store.disk_changed(&a, &on_disk));
        assert_eq!(origin_seen_from(&store, &b).as_deref(), Some(a.as_str()));
        assert!(!store.disk_changed(&a, &on_disk), "unchanged");
        // Gone (or not readable: the reader refused it).
        assert!(store.disk_changed(&a, &nothing_to_read));
        assert_eq!(origin_seen_from(&store, &b), None);
        assert!(!store.disk_changed(&a, &nothing_to_read));
    }

    #[test]
    fn the_index_skips_open_files_and_files_read_again_since() {
        let store = WorkspaceStore::default();
        let file = |path: &str| workspace::accounts_in(Path::new(path), ACCOUNT).unwrap();
        let read_at = store.disk_clock();
        // The editor had `/ws/c.yaml` read again after the index read it.
        store.disk_changed(&key("/ws/c.yaml"), &nothing_to_read);
        let open = key("/ws/open.yaml");
        let found = store.index_disk_files(
            vec![
                file("/ws/open.yaml"),
                file("/ws/c.yaml"),
                file("/ws/d.yaml"),
            ],
            read_at,
            &|k| *k == open,
        );
        assert_eq!(found, 1);
        let seen = origin_seen_from(&store, &key("/ws/x.yaml"));
        assert_eq!(seen.as_deref(), Some(key("/ws/d.yaml").as_str()));
    }
}
