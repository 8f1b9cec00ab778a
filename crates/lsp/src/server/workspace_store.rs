//! The workspace store: what the server knows of the workspace beyond the
//! open documents' own text, kept by **the analysis host**
//! (`tokenguard_analysis::host::AnalysisHost`, the command line's too): the
//! ServiceAccounts every file declares (open buffers and the disk), the
//! Helm charts, the kustomizations and their patch files, and the project
//! configuration in force per workspace folder (the host's
//! `set_configuration`, scoped to the folder). Plus what only an editor
//! has: the problems of the project configuration files (as diagnostics),
//! and the bookkeeping of disk readings that race with the editor's.
//!
//! * fed: a buffer's analysis ([`WorkspaceStore::buffer_analysed`]; a
//!   template before it is judged, [`WorkspaceStore::prepare`]), a file the
//!   disk speaks for again ([`WorkspaceStore::disk_changed`]), the
//!   workspace index's readings ([`WorkspaceStore::index_disk_files`]), the
//!   workspace folders ([`WorkspaceStore::load_projects`]);
//! * asked: the context a document is judged in
//!   ([`WorkspaceStore::judge_with`], [`WorkspaceStore::finish`],
//!   [`WorkspaceStore::configuration_for`], [`WorkspaceStore::is_excluded`]), and
//!   which open documents to judge again ([`WorkspaceStore::take_affected`],
//!   from the host's `changed_since`).
//!
//! Files the host needs but is not given are read through the server's one
//! reader ([`ServerSource`]: open buffer, else the disk inside the workspace
//! folders).
//!
//! Locking rules:
//!
//! * The host is one `RwLock`. A write feeds the host (which may read files
//!   through the source meanwhile: the source takes the open documents'
//!   map, never a lock of the store); a read is held for a whole analysis
//!   ([`WorkspaceStore::judge_with`]), during which the caller must take no
//!   other lock of the store (parking_lot's locks are fair: a second read
//!   behind a waiting writer would deadlock).
//! * `projects` is replaced whole (by `load_projects`, which feeds the host
//!   meanwhile), read briefly, before the host is taken (`projects` →
//!   host, never the other way); `seen` is taken alone.
//! * Locks are taken in the order host → (open documents' map); nothing
//!   here is async, so no lock of the store is ever held across an `.await`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dashmap::DashMap;
use parking_lot::{Mutex, RwLock};
use ropey::Rope;
use tower_lsp_server::ls_types::Diagnostic;

use tokenguard_analysis::files::FileKind;
use tokenguard_analysis::helm::render::Rendering;
use tokenguard_analysis::host::{Affected, AnalysisHost, Configuration, FileFacts, FilePath};
use tokenguard_analysis::kustomize::{file_key, is_kustomization_file};
use tokenguard_analysis::rbac::RbacObjects;

use crate::diagnostics::OwnRbac;
use tokenguard_analysis::{
    AccountIndex, AccountLookup, Finding, FoundAccount, Options, ServiceAccount,
};

use super::reader::{OwnFed, ServerSource};
use crate::identity::{self, DocumentKey};
use crate::positions::Encoding;
use crate::project::Project;

/// How the host names the file at `key`: its path on disk.
pub fn host_path(key: &DocumentKey) -> Option<FilePath> {
    key.to_path().map(|p| FilePath::from_path(&p))
}

pub struct WorkspaceStore {
    host: RwLock<AnalysisHost<ServerSource>>,
    /// A copy of the host's source, to read files and compute their facts
    /// without the host's lock.
    source: ServerSource,
    /// Grows whenever a change may affect every file (the ServiceAccounts,
    /// a kustomization): findings judged under an older generation are
    /// judged again. Written under the host's write lock, read under its
    /// read lock.
    generation: AtomicU64,
    /// The host's revision up to which the open documents were told of
    /// changes ([`WorkspaceStore::take_affected`]).
    seen: Mutex<u64>,
    /// When each file was last read from disk on the editor's word (a watched
    /// change, a closed buffer), on the `disk_clock`: the workspace index
    /// must not overwrite such a reading with an older one of its own.
    disk_reads: DashMap<DocumentKey, u64>,
    disk_clock: AtomicU64,
    /// The project configuration of each workspace folder (in force in the
    /// host; kept for its problems and to know the folders fed).
    projects: RwLock<Vec<Arc<Project>>>,
    /// The last new generation each open manifest's own facts started (from
    /// and to): its own judging does not read them (see
    /// [`WorkspaceStore::own_change`]).
    own_changes: DashMap<DocumentKey, (u64, u64)>,
}

/// What a document is judged against, for the length of one analysis.
pub struct JudgeContext<'a> {
    /// The workspace's ServiceAccounts but the document's own (its text
    /// speaks for it).
    pub accounts: &'a dyn AccountLookup,
    pub generation: u64,
    pub options: Arc<Options>,
    /// The host, for the Helm path (`AnalysisHost::judge_template`).
    pub host: &'a AnalysisHost<ServerSource>,
}

/// A file the workspace index read: its key, the host's name and its facts.
pub struct IndexedFile {
    pub key: DocumentKey,
    pub path: FilePath,
    pub facts: FileFacts,
}

impl WorkspaceStore {
    pub fn new(source: ServerSource) -> Self {
        Self {
            host: RwLock::new(AnalysisHost::new(source.clone())),
            source,
            generation: AtomicU64::new(0),
            seen: Mutex::new(0),
            disk_reads: DashMap::new(),
            disk_clock: AtomicU64::new(0),
            projects: RwLock::new(Vec::new()),
            own_changes: DashMap::new(),
        }
    }

    /// The server's one reader.
    pub fn source(&self) -> &ServerSource {
        &self.source
    }

    // ----- asked -------------------------------------------------------

    /// Runs `judge` with the context the document at `key` is judged in,
    /// holding the host for reading meanwhile (see the locking rules:
    /// `judge` takes no other lock of the store).
    pub fn judge_with<R>(
        &self,
        key: &DocumentKey,
        judge: impl FnOnce(&JudgeContext<'_>) -> R,
    ) -> R {
        let path = host_path(key);
        let scoped = self.scoped_path(key);
        let host = self.host.read();
        let options = match &scoped {
            Some(path) => Arc::clone(&host.configuration(path).options),
            None => Arc::new(Options::default()),
        };
        // The document's own accounts come from its text; what the index
        // holds for it is an older revision (or the disk) and must not count.
        let index = host.accounts();
        let except = path
            .as_ref()
            .map(FilePath::as_str)
            .filter(|name| !index.accounts_of(name).is_empty());
        let others = OtherFiles { index, except };
        let context = JudgeContext {
            accounts: &others,
            generation: self.generation.load(Ordering::SeqCst),
            options,
            host: &host,
        };
        judge(&context)
    }

    /// The host's last step (Kustomize: patch files and patched base
    /// workloads; the configuration) on the findings of the document at
    /// `key`. Of the configuration, only its TG000 switch shows: a
    /// diagnostic's severity is the settings' (`State::settings_for`, the
    /// project file winning), applied once in `to_diagnostic`; the
    /// finding's own severity is not read.
    pub fn finish(&self, key: &DocumentKey, findings: Vec<Finding>) -> Vec<Finding> {
        match host_path(key) {
            Some(path) => self.host.read().finish(&path, findings),
            None => findings,
        }
    }

    /// The project configuration the host has in force for `key` (that of
    /// the innermost workspace folder holding it; the defaults outside
    /// every folder).
    pub fn configuration_for(&self, key: &DocumentKey) -> Arc<Configuration> {
        match self.scoped_path(key) {
            Some(path) => Arc::clone(self.host.read().configuration(&path)),
            None => Arc::new(Configuration::defaults()),
        }
    }

    /// Whether the project configuration in force excludes `key` (the
    /// host's exclusion rule, the command line's).
    pub fn is_excluded(&self, key: &DocumentKey) -> bool {
        self.scoped_path(key)
            .is_some_and(|path| self.host.read().is_excluded(&path))
    }

    /// How the host's configuration scopes name the file at `key`: inside
    /// a workspace folder (as this platform compares paths, maybe ignoring
    /// case), the folder's spelling followed by the rest of the path, so
    /// the host's byte-for-byte comparison finds the folder's scope.
    fn scoped_path(&self, key: &DocumentKey) -> Option<FilePath> {
        let path = key.to_path()?;
        let projects = self.projects.read();
        let spelled = projects
            .iter()
            .filter_map(|p| Some((&p.root, identity::strip_root(&p.root, &path)?)))
            .max_by_key(|(root, _)| root.as_os_str().len())
            .map_or(path.clone(), |(root, relative)| root.join(relative));
        Some(FilePath::from_path(&spelled))
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

    /// Which files' findings may differ since the last call (the host's
    /// `changed_since`): the open documents among them are to be judged
    /// again.
    pub fn take_affected(&self) -> Affected {
        self.take_affected_at().0
    }

    /// [`Self::take_affected`], and the host's revision it was taken at.
    pub fn take_affected_at(&self) -> (Affected, u64) {
        let mut seen = self.seen.lock();
        let host = self.host.read();
        let now = host.revision();
        if now == *seen {
            // Nothing fed since (most keystrokes): no walk over the files.
            return (Affected::Files(Default::default()), now);
        }
        let affected = host.changed_since(*seen);
        *seen = now;
        (affected, now)
    }

    /// The chart to render for the document at `key` with this text (see
    /// `server/render.rs`).
    pub fn needs_rendering(&self, key: &DocumentKey, text: &str) -> Option<FilePath> {
        let path = host_path(key)?;
        self.host.read().needs_rendering(&path, text)
    }

    /// Runs `ask` on the host, held for reading meanwhile (see the locking
    /// rules: `ask` takes no other lock of the store). For the navigation
    /// questions (`server/navigate.rs`).
    pub fn with_host<R>(&self, ask: impl FnOnce(&AnalysisHost<ServerSource>) -> R) -> R {
        ask(&self.host.read())
    }

    /// The rendering of the chart at `root` the host holds.
    pub fn rendering(&self, root: &FilePath) -> Option<Arc<Rendering>> {
        self.host.read().rendering(root).cloned()
    }

    // ----- fed -------------------------------------------------------

    /// Hands the host a chart's rendering.
    pub fn set_rendering(&self, root: FilePath, rendering: Rendering) {
        self.feed(|host| {
            host.set_rendering(root, rendering);
        });
    }

    /// Feeds the host under its write lock; a change that may affect every
    /// file starts a new generation (returned, from and to).
    fn feed(&self, f: impl FnOnce(&mut AnalysisHost<ServerSource>)) -> Option<(u64, u64)> {
        self.feed_counted(f).0
    }

    /// [`Self::feed`], and the host's revisions before and after `f` (read
    /// under the same write lock: nothing else was fed between them).
    fn feed_counted(
        &self,
        f: impl FnOnce(&mut AnalysisHost<ServerSource>),
    ) -> (Option<(u64, u64)>, OwnFeed) {
        let mut host = self.host.write();
        let before = host.revision();
        f(&mut host);
        let generation = (host.changed_since(before) == Affected::Everything).then(|| {
            let from = self.generation.fetch_add(1, Ordering::SeqCst);
            (from, from + 1)
        });
        let fed = OwnFeed {
            from: before,
            to: host.revision(),
        };
        (generation, fed)
    }

    /// The host's revision now.
    pub fn revision(&self) -> u64 {
        self.host.read().revision()
    }

    /// The last change of generation that only the open manifest at `key`
    /// made, feeding its own ServiceAccounts, roles and bindings: the
    /// document is judged against the others' accounts (`judge_with`) and
    /// gets its permissions in `finish`, so such a change does not require
    /// judging it again (the others are).
    pub fn own_change(&self, key: &DocumentKey) -> Option<(u64, u64)> {
        self.own_changes.get(key).map(|c| *c)
    }

    /// Reads the project configuration of every workspace folder again and
    /// puts it in force in the host, scoped to the folder (the defaults for
    /// a folder without a usable file); a folder gone is no scope any more.
    pub fn load_projects(&self, roots: &[PathBuf], encoding: Encoding) {
        let projects: Vec<Arc<Project>> = roots
            .iter()
            .map(|root| Arc::new(Project::load(root, encoding)))
            .collect();
        let mut previous = self.projects.write();
        self.feed(|host| {
            for gone in previous.iter().filter(|p| !roots.contains(&p.root)) {
                host.remove_configuration(&FilePath::from_path(&gone.root));
            }
            for project in &projects {
                let scope = FilePath::from_path(&project.root);
                host.set_configuration(Some(scope), project.configuration.clone());
            }
        });
        *previous = projects;
    }

    /// Helm: before a template (or a chart's `values.yaml`) is judged, the
    /// host takes its text, so its chart is read (once) and current.
    pub fn prepare(&self, key: &DocumentKey, kind: &FileKind, rope: &Rope) {
        if !matches!(kind, FileKind::ChartTemplate(_)) {
            return;
        }
        self.feed_text(key, rope);
    }

    /// Feeds the buffer's text, kept by the host, unless it has it already.
    fn feed_text(&self, key: &DocumentKey, rope: &Rope) -> Option<OwnFeed> {
        let path = host_path(key)?;
        let text = rope.to_string();
        if self.host.read().kept_text(&path) == Some(text.as_str()) {
            return None;
        }
        Some(
            self.feed_counted(|host| {
                host.set_file(path, text);
            })
            .1,
        )
    }

    /// Takes in what an open buffer's analysis found: its ServiceAccounts,
    /// and its text when the host reads it for other files (a template, a
    /// chart's `values.yaml`, a kustomization or a patch file).
    ///
    /// `rbac`: a manifest's roles and bindings (kept by its live analysis
    /// from edit to edit: `tokenguard_analysis::rbac::RbacFacts`), or how
    /// they moved since the revision analysed before: when the host holds
    /// that revision's, it moves them (`AnalysisHost::shift_file`), else
    /// they are read of the live analysis (`objects`). `revision`: the
    /// document's revision analysed, whose text is `rope`.
    #[allow(clippy::too_many_arguments)]
    pub fn buffer_analysed(
        &self,
        key: &DocumentKey,
        kind: &FileKind,
        accounts: &[ServiceAccount],
        rbac: Option<OwnRbac>,
        objects: &dyn Fn() -> RbacObjects,
        revision: u64,
        rope: &Rope,
    ) -> OwnFeed {
        let unfed = || {
            let now = self.revision();
            OwnFeed { from: now, to: now }
        };
        let Some(path) = host_path(key) else {
            return unfed();
        };
        let read_by_others = {
            let name = file_key(Path::new(path.as_str()));
            path.file_name() == "values.yaml"
                || is_kustomization_file(&name)
                || self.host.read().kustomizations().is_patch_file(&name)
        };
        if *kind != FileKind::Manifest || read_by_others {
            self.source.fed.remove(key);
            return self.feed_text(key, rope).unwrap_or_else(unfed);
        }
        let own = |host: &AnalysisHost<ServerSource>| OwnFed {
            revision,
            host_revision: host.file_revision(&path).unwrap_or(0),
            rope: rope.clone(),
        };
        // Whether the host holds the facts of the revision `from`, fed by
        // this buffer's analysis and nothing since.
        let holds = |host: &AnalysisHost<ServerSource>, from: u64| {
            self.source.fed.get(key).is_some_and(|fed| {
                fed.revision == from && host.file_revision(&path) == Some(fed.host_revision)
            })
        };
        if let Some(OwnRbac::Moved { from, edit }) = rbac {
            {
                let host = self.host.read();
                if holds(&host, from)
                    && host.accounts().accounts_of(path.as_str()) == accounts
                    && !host.shift_moves(&path, edit)
                {
                    // The same facts.
                    self.source.fed.insert(key.clone(), own(&host));
                    return OwnFeed {
                        from: host.revision(),
                        to: host.revision(),
                    };
                }
            }
            let mut shifted = false;
            let (change, fed) = self.feed_counted(|host| {
                if holds(host, from) {
                    shifted = host.shift_file(&path, edit, accounts.to_vec()).is_some();
                }
                if shifted {
                    self.source.fed.insert(key.clone(), own(host));
                }
            });
            if shifted {
                if let Some(change) = change {
                    self.own_changes.insert(key.clone(), change);
                }
                return fed;
            }
            // (Nothing was fed: the host's revision did not move.)
            return self.feed_objects(key, &path, accounts, objects(), &own);
        }
        let rbac = match rbac {
            Some(OwnRbac::Objects(rbac)) => rbac,
            _ => tokenguard_analysis::rbac::rbac_of_text(&rope.to_string()),
        };
        self.feed_objects(key, &path, accounts, rbac, &own)
    }

    /// [`WorkspaceStore::buffer_analysed`] with the roles and bindings read.
    fn feed_objects(
        &self,
        key: &DocumentKey,
        path: &FilePath,
        accounts: &[ServiceAccount],
        rbac: RbacObjects,
        own: &dyn Fn(&AnalysisHost<ServerSource>) -> OwnFed,
    ) -> OwnFeed {
        {
            let host = self.host.read();
            let known_rbac = host.rbac().objects_of(path.as_str());
            let same = host.kind(path).is_some()
                && host.accounts().accounts_of(path.as_str()) == accounts
                && known_rbac.map_or(rbac.is_empty(), |r| *r == rbac);
            if same {
                self.source.fed.insert(key.clone(), own(&host));
                return OwnFeed {
                    from: host.revision(),
                    to: host.revision(),
                };
            }
        }
        // (An open buffer's navigation symbols are read from its text when
        // asked: `server/navigate.rs`.)
        let facts = FileFacts {
            kind: FileKind::Manifest,
            accounts: accounts.to_vec(),
            uses: None,
            rbac,
        };
        let (change, fed) = self.feed_counted(|host| {
            host.add_facts(path.clone(), facts);
            self.source.fed.insert(key.clone(), own(host));
        });
        if let Some(change) = change {
            self.own_changes.insert(key.clone(), change);
        }
        fed
    }

    /// The disk speaks for the file at `key` again (a watched change, a
    /// closed buffer): what it says now is read through the one reader.
    pub fn disk_changed(&self, key: &DocumentKey) {
        let read_at = self.disk_clock.fetch_add(1, Ordering::SeqCst) + 1;
        self.disk_reads.insert(key.clone(), read_at);
        // The buffer no longer speaks for the file.
        self.source.fed.remove(key);
        let Some(path) = host_path(key) else {
            return;
        };
        let text = path.as_path().and_then(|p| self.source.read_path(p));
        let facts = text.map(|text| AnalysisHost::facts_for_navigation(&self.source, &path, &text));
        self.feed(|host| match facts {
            Some(facts) => {
                host.file_changed(path, facts);
            }
            None => {
                host.remove_file(&path);
            }
        });
    }

    /// The disk clock now: readings the workspace index starts after this
    /// are older than any the editor asks for from now on.
    pub fn disk_clock(&self) -> u64 {
        self.disk_clock.load(Ordering::SeqCst)
    }

    /// Reads a file of the workspace index (no lock: on any thread).
    pub fn read_indexed(&self, file: &Path) -> Option<IndexedFile> {
        let key = DocumentKey::from_path(file)?;
        let text = self.source.read_path(file)?;
        let path = FilePath::from_path(file);
        let facts = AnalysisHost::facts_for_navigation(&self.source, &path, &text);
        Some(IndexedFile { key, path, facts })
    }

    /// Feeds the files the workspace index read (starting at `read_at` on
    /// the disk clock) to the host, but for open files (`is_open`, asked
    /// under the host's lock, which their buffers are fed under) and files
    /// the editor had read again since. Returns how many ServiceAccounts
    /// were taken.
    pub fn index_disk_files(
        &self,
        files: Vec<IndexedFile>,
        read_at: u64,
        is_open: &dyn Fn(&DocumentKey) -> bool,
    ) -> usize {
        let mut found = 0;
        self.feed(|host| {
            for file in files {
                if is_open(&file.key) {
                    continue; // the open buffer speaks for this file
                }
                if self
                    .disk_reads
                    .get(&file.key)
                    .is_some_and(|read| *read > read_at)
                {
                    continue; // re-read since: that reading is newer than ours
                }
                found += file.facts.accounts.len();
                host.add_facts(file.path, file.facts);
            }
        });
        found
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

/// The host's revisions around one feed of an open buffer's own facts
/// (`from == to`: nothing was fed, the host was at `from`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnFeed {
    pub from: u64,
    pub to: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::open_documents::OpenDocuments;

    const ACCOUNT: &str =
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: builder\nautomountServiceAccountToken: false\n";

    /// A store whose workspace folder is `root`, with no open document.
    fn store(root: &Path) -> WorkspaceStore {
        WorkspaceStore::new(ServerSource {
            roots: Arc::new(RwLock::new(vec![root.to_path_buf()])),
            open: Arc::new(OpenDocuments::default()),
            fed: Arc::default(),
        })
    }

    fn key(path: &Path) -> DocumentKey {
        DocumentKey::from_path(path).unwrap()
    }

    /// Where the document at `from` finds the account `builder`.
    fn origin_seen_from(store: &WorkspaceStore, from: &DocumentKey) -> Option<String> {
        store.judge_with(from, |context| {
            context.accounts.find(None, "builder")?.origin
        })
    }

    fn name(path: &Path) -> String {
        FilePath::from_path(path).as_str().to_string()
    }

    #[test]
    fn a_buffer_feeds_its_accounts_to_the_others_but_not_to_itself() {
        let store = store(Path::new("/ws"));
        let (a, b) = (Path::new("/ws/a.yaml"), Path::new("/ws/b.yaml"));
        let accounts = tokenguard_analysis::service_accounts(ACCOUNT);
        let rope = Rope::from_str(ACCOUNT);
        let before = store.generation.load(Ordering::SeqCst);
        // The same buffer, analysed at the same version, fed to the store.
        let analysed = || {
            store.buffer_analysed(
                &key(a),
                &FileKind::Manifest,
                &accounts,
                None,
                &RbacObjects::default,
                1,
                &rope,
            )
        };
        analysed();
        assert!(store.generation.load(Ordering::SeqCst) > before);
        assert_eq!(store.take_affected(), Affected::Everything);
        analysed();
        assert_eq!(
            store.take_affected(),
            Affected::Files(Default::default()),
            "the same accounts again change nothing"
        );
        assert_eq!(origin_seen_from(&store, &key(b)), Some(name(a)));
        assert_eq!(
            origin_seen_from(&store, &key(a)),
            None,
            "its own text speaks for it"
        );
        // Its accounts gone from the buffer: gone from the index.
        store.buffer_analysed(
            &key(a),
            &FileKind::Manifest,
            &[],
            None,
            &RbacObjects::default,
            2,
            &Rope::new(),
        );
        assert_eq!(store.take_affected(), Affected::Everything);
        assert_eq!(origin_seen_from(&store, &key(b)), None);
    }

    #[test]
    fn the_disk_is_read_through_the_one_reader() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let store = store(&root);
        let (a, b) = (root.join("a.yaml"), root.join("b.yaml"));
        std::fs::write(&a, ACCOUNT).unwrap();
        store.disk_changed(&key(&a));
        assert_eq!(origin_seen_from(&store, &key(&b)), Some(name(&a)));
        // Gone (or not readable: the reader refused it).
        std::fs::remove_file(&a).unwrap();
        store.disk_changed(&key(&a));
        assert_eq!(origin_seen_from(&store, &key(&b)), None);
        // Outside the workspace folder: never read.
        let outside = tempfile::tempdir().unwrap();
        let elsewhere = outside.path().canonicalize().unwrap().join("a.yaml");
        std::fs::write(&elsewhere, ACCOUNT).unwrap();
        store.disk_changed(&key(&elsewhere));
        assert_eq!(origin_seen_from(&store, &key(&b)), None);
    }

    #[test]
    fn project_files_are_in_force_in_the_host_per_folder() {
        let dir = tempfile::tempdir().unwrap();
        let top = dir.path().canonicalize().unwrap();
        let (a, b) = (top.join("a"), top.join("b"));
        std::fs::create_dir_all(a.join("vendor")).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        // Above folder `a`: its patterns are relative to `top`.
        std::fs::write(
            top.join("tokenguard.toml"),
            "severity = \"error\"\nexclude = [\"a/vendor/**\"]\n",
        )
        .unwrap();
        std::fs::write(b.join("tokenguard.toml"), "severity = [\n").unwrap();
        let store = store(&top);
        store.load_projects(&[a.clone(), b.clone()], Encoding::Utf16);
        let in_a = key(&a.join("x.yaml"));
        assert!(store.configuration_for(&in_a).file.is_some());
        assert!(store.is_excluded(&key(&a.join("vendor/x.yaml"))));
        assert!(!store.is_excluded(&in_a));
        // Malformed: the defaults, and a problem on the file.
        let in_b = key(&b.join("x.yaml"));
        assert!(store.configuration_for(&in_b).file.is_none());
        assert_eq!(store.config_problems().len(), 1);
        // Folder `a` closed: its scope is gone.
        store.load_projects(std::slice::from_ref(&b), Encoding::Utf16);
        assert!(store.configuration_for(&in_a).file.is_none());
        assert!(!store.is_excluded(&key(&a.join("vendor/x.yaml"))));
    }

    #[test]
    fn the_index_skips_open_files_and_files_read_again_since() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let store = store(&root);
        let [open, c, d] = ["open.yaml", "c.yaml", "d.yaml"].map(|f| root.join(f));
        for file in [&open, &c, &d] {
            std::fs::write(file, ACCOUNT).unwrap();
        }
        let read_at = store.disk_clock();
        let read: Vec<IndexedFile> = [&open, &c, &d]
            .iter()
            .filter_map(|p| store.read_indexed(p))
            .collect();
        assert_eq!(read.len(), 3);
        // The editor had `c.yaml` read again (gone now) after the index read it.
        std::fs::remove_file(&c).unwrap();
        store.disk_changed(&key(&c));
        let found = store.index_disk_files(read, read_at, &|k| *k == key(&open));
        assert_eq!(found, 1);
        let seen = origin_seen_from(&store, &key(&root.join("x.yaml")));
        assert_eq!(seen, Some(name(&d)));
    }
}
