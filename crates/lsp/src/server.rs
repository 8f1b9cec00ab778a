//! The protocol: lifecycle, document sync, scheduling and publishing.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::{Mutex, RwLock};

use dashmap::DashMap;
use ropey::Rope;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};
use tracing::{debug, info, warn};

use tokenguard_analysis::{AccountIndex, AccountLookup, FoundAccount, Options, TextRange};

use tokenguard_analysis::files::FileKind;

use crate::code_actions::{self, FIX_ALL};
use crate::config::Settings;
use crate::diagnostics::{to_diagnostic, Analyzed, LiveAnalysis};
use crate::documents::{apply_changes, Document, EditLog};
use crate::hover::hover_markdown;
use crate::identity::{self, DocumentKey};
use crate::kustomize::Kustomizations;
use crate::positions::{to_offset, to_range, to_text_range, Encoding};
use crate::project::{self, Project};
use crate::{helm, workspace};

mod transport;

/// What the client said it can do, fixed at `initialize`.
#[derive(Clone, Copy, Debug, Default)]
struct Session {
    encoding: Encoding,
    pull_diagnostics: bool,
    diagnostic_refresh: bool,
    lazy_code_actions: bool,
    work_done_progress: bool,
    watch_files: bool,
    configuration_pull: bool,
}

/// A document's analysis between revisions, and the revision it is at (read
/// without the lock when an edit trims the document's edit log).
#[derive(Default)]
struct Live {
    analysis: Mutex<LiveAnalysis>,
    analysed: AtomicU64,
    /// Whether the last analysis found the text over the size limit (the log
    /// says so once, when it becomes too large).
    too_large: AtomicBool,
}

/// A file whose ServiceAccounts the account index holds.
struct AccountFile {
    /// The name the index knows the file by (the canonical URI of the key it
    /// was put there with: spellings of one file may differ in letter case).
    uri: Uri,
    rope: Rope,
}

/// Every map is keyed by [`DocumentKey`]: the spellings a client may use for
/// one file's URI are one key. What is sent to the client about an open
/// document uses the URI it opened it with ([`Document::uri`]).
struct State {
    docs: DashMap<DocumentKey, Arc<Document>>,
    live: DashMap<DocumentKey, Arc<Live>>,
    results: DashMap<DocumentKey, Arc<Analyzed>>,
    /// Grows whenever the ServiceAccounts of the workspace change: findings
    /// judged under an older generation are judged again.
    account_generation: AtomicU64,
    accounts: RwLock<AccountIndex>,
    /// Every file that declares ServiceAccounts, open or on disk: exactly
    /// the files the account index holds (changed together, under its lock).
    account_files: DashMap<DocumentKey, AccountFile>,
    /// When each file was last read from disk on the editor's word (a watched
    /// change, a closed buffer), on the `disk_clock`: the workspace index
    /// must not overwrite such a reading with an older one of its own.
    disk_reads: DashMap<DocumentKey, u64>,
    disk_clock: AtomicU64,
    /// Kustomize: the workspace's kustomizations and patch files.
    kustomizations: Kustomizations,
    session: OnceLock<Session>,
    settings: RwLock<Arc<Settings>>,
    roots: RwLock<Vec<PathBuf>>,
    /// The project configuration of each workspace folder.
    projects: RwLock<Vec<Arc<Project>>>,
    /// The analysis options of documents outside every workspace folder.
    default_options: Arc<Options>,
    /// Configuration files that have a diagnostic published on them.
    config_problems: Mutex<Vec<DocumentKey>>,
    next_revision: AtomicU64,
    shutdown: Arc<AtomicBool>,
    publisher: mpsc::UnboundedSender<Publish>,
}

struct Publish {
    key: DocumentKey,
    /// The client's URI of the document.
    uri: Uri,
    revision: u64,
    version: i32,
    diagnostics: Vec<Diagnostic>,
}

impl State {
    fn session(&self) -> Session {
        self.session.get().copied().unwrap_or_default()
    }

    fn settings(&self) -> Arc<Settings> {
        Arc::clone(&self.settings.read())
    }

    /// The project configuration of the workspace folder holding `key` (the
    /// innermost one when folders nest).
    fn project_for(&self, key: &DocumentKey) -> Option<Arc<Project>> {
        let path = key.to_path()?;
        let projects = self.projects.read();
        projects
            .iter()
            .filter(|p| identity::is_within(&p.root, &path))
            .max_by_key(|p| p.root.as_os_str().len())
            .cloned()
    }

    /// The editor settings with the project configuration of `key` taking
    /// precedence where it sets a value.
    fn settings_for(&self, key: &DocumentKey) -> Arc<Settings> {
        let settings = self.settings();
        match self.project_for(key) {
            Some(project) if project.file.is_some() => {
                Arc::new(settings.overridden_by(&project.config))
            }
            _ => settings,
        }
    }

    fn options_for(&self, key: &DocumentKey) -> Arc<Options> {
        self.project_for(key).map_or_else(
            || Arc::clone(&self.default_options),
            |p| Arc::clone(&p.options),
        )
    }

    /// Reads the project configuration of every workspace folder again.
    fn load_projects(&self) {
        let roots = self.roots.read().clone();
        let encoding = self.session().encoding;
        let projects = roots
            .iter()
            .map(|root| Arc::new(Project::load(root, &self.default_options, encoding)))
            .collect();
        *self.projects.write() = projects;
    }

    fn doc(&self, key: &DocumentKey) -> Option<Arc<Document>> {
        self.docs.get(key).map(|d| Arc::clone(&d))
    }

    fn revision_of(&self, key: &DocumentKey) -> Option<u64> {
        self.docs.get(key).map(|d| d.revision)
    }

    /// The URI to name a file by to the client: the one it opened the
    /// document with, else the file's canonical URI.
    fn client_uri(&self, key: &DocumentKey) -> Uri {
        self.docs
            .get(key)
            .map_or_else(|| key.uri().clone(), |d| d.uri.clone())
    }

    fn excluded(&self, key: &DocumentKey, settings: &Settings) -> bool {
        let Some(path) = key.to_path() else {
            return false;
        };
        if self.project_for(key).is_some_and(|p| p.excludes(&path)) {
            return true;
        }
        if settings.exclude.is_empty() {
            return false;
        }
        let roots = self.roots.read();
        let absolute = path.to_string_lossy().replace('\\', "/");
        let relative: Vec<String> = roots
            .iter()
            .filter_map(|r| identity::strip_root(r, &path))
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .collect();
        let mut candidates: Vec<&str> = relative.iter().map(String::as_str).collect();
        candidates.push(&absolute);
        settings.excludes(&candidates)
    }

    /// The diagnostics of the document at `key`, which the client calls
    /// `uri`.
    fn diagnostics(&self, key: &DocumentKey, uri: &Uri, analyzed: &Analyzed) -> Vec<Diagnostic> {
        let settings = self.settings_for(key);
        if !settings.enable || self.excluded(key, &settings) {
            return Vec::new();
        }
        if let Some(too_large) = analyzed.too_large {
            return vec![too_large.diagnostic()];
        }
        let encoding = self.session().encoding;
        let locate = |origin: Option<&str>, range: TextRange| {
            let (target, rope) = self.file_of(origin?)?;
            Some(Location::new(target, to_range(&rope, range, encoding)))
        };
        analyzed
            .visible(&settings)
            .map(|f| to_diagnostic(f, analyzed, uri, &settings, encoding, &locate))
            .collect()
    }

    /// Another file, by the name the analysis gave it (a URI string): the
    /// URI to tell the client and the text, from the open buffer, else the
    /// account index's copy, else the disk (a Helm chart's values.yaml).
    fn file_of(&self, name: &str) -> Option<(Uri, Rope)> {
        let key = DocumentKey::parse(name)?;
        if let Some(open) = self.doc(&key) {
            return Some((open.uri.clone(), open.rope.clone()));
        }
        if let Some(file) = self.account_files.get(&key) {
            return Some((file.uri.clone(), file.rope.clone()));
        }
        let text = std::fs::read_to_string(key.to_path()?).ok()?;
        Some((key.uri().clone(), Rope::from_str(&text)))
    }

    /// The open buffer of the file at `path`.
    fn open_at(&self, path: &Path) -> Option<Arc<Document>> {
        DocumentKey::from_path(path).and_then(|key| self.doc(&key))
    }

    /// A file's text for a chart: the open buffer, else the disk.
    fn read_for_chart(&self, path: &Path) -> Option<String> {
        if let Some(open) = self.open_at(path) {
            return Some(open.rope.to_string());
        }
        std::fs::read_to_string(path).ok()
    }

    /// The name the account index knows the file at `key` by, when it
    /// holds it. Read under the index's lock.
    fn indexed_name(&self, key: &DocumentKey) -> Option<String> {
        self.account_files
            .get(key)
            .map(|f| f.uri.as_str().to_string())
    }

    /// Puts a file's accounts in the index (whose write guard the caller
    /// holds) under the key's name, replacing what it held under another
    /// spelling of the same file.
    fn index_accounts(
        &self,
        index: &mut AccountIndex,
        key: &DocumentKey,
        accounts: Vec<tokenguard_analysis::ServiceAccount>,
        rope: Rope,
    ) {
        if let Some(old) = self.indexed_name(key) {
            index.remove(&old);
        }
        if accounts.is_empty() {
            self.account_files.remove(key);
            return;
        }
        index.set(key.as_str(), accounts);
        let uri = key.uri().clone();
        self.account_files
            .insert(key.clone(), AccountFile { uri, rope });
    }

    /// Takes a file out of the index (whose write guard the caller holds).
    fn unindex_accounts(&self, index: &mut AccountIndex, key: &DocumentKey) {
        if let Some((_, old)) = self.account_files.remove(key) {
            index.remove(old.uri.as_str());
        }
    }

    /// Analyses a snapshot, off the async executor, continuing from the
    /// document's previous analysis. `None` when a newer revision was
    /// analysed already, or when the analysis panicked (caught; the next
    /// analysis then starts afresh).
    fn analyze(
        &self,
        key: &DocumentKey,
        doc: &Document,
    ) -> Option<std::result::Result<Analyzed, ()>> {
        let live = self.live.get(key).map(|l| Arc::clone(&l))?;
        let mut analysis = live.analysis.lock();
        let index = self.accounts.read();
        let generation = self.account_generation.load(Ordering::SeqCst);
        let max_size = self.settings().max_file_size;
        let options = self.options_for(key);
        // The document's own accounts come from its text; what the index
        // holds for it is an older revision (or the disk) and must not count.
        let except = self.indexed_name(key);
        let others = OtherFiles {
            index: &index,
            except: except.as_deref(),
        };
        let started = std::time::Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // Helm: templates are masked and judged with their chart.
            match helm::kind(key, doc) {
                FileKind::Manifest => analysis.run(doc, &others, generation, max_size, &options),
                FileKind::ChartHelper => analysis.run_whole(doc, max_size, |_| Vec::new()),
                kind => {
                    let chart = match &kind {
                        FileKind::ChartTemplate(root) => {
                            Some(helm::chart_view(root, &|p| self.read_for_chart(p)))
                        }
                        _ => None,
                    };
                    analysis.run_whole(doc, max_size, |text| {
                        helm::check(text, key, chart.as_ref(), &others, &options)
                    })
                }
            }
        }));
        debug!(
            "analysed {} revision {} in {:.1} ms",
            key.as_str(),
            doc.revision,
            started.elapsed().as_secs_f64() * 1000.0
        );
        match result {
            Ok(Some(mut analyzed)) => {
                // Kustomize: patch files and patched base workloads.
                analyzed.findings = self
                    .kustomizations
                    .adjust(key, std::mem::take(&mut analyzed.findings));
                live.analysed.store(analyzed.revision, Ordering::SeqCst);
                let too_large = analyzed.too_large.is_some();
                if live.too_large.swap(too_large, Ordering::SeqCst) != too_large {
                    match analyzed.too_large {
                        Some(t) => warn!(
                            "{} is {} bytes, over maxFileSize ({} bytes): not analysed",
                            key.as_str(),
                            t.size,
                            t.limit
                        ),
                        None => info!("{} is under maxFileSize again", key.as_str()),
                    }
                }
                Some(Ok(analyzed))
            }
            Ok(None) => None,
            Err(_) => {
                *analysis = LiveAnalysis::default();
                Some(Err(()))
            }
        }
    }

    /// The text of a file: its open buffer, else the disk when the file is
    /// inside the workspace folders.
    fn file_text(&self, path: &std::path::Path) -> Option<String> {
        if let Some(doc) = self.open_at(path) {
            return Some(doc.rope.to_string());
        }
        let roots = self.roots.read();
        workspace::within(&roots, path)
            .then(|| workspace::read_text(path))
            .flatten()
    }

    /// Kustomize: what the disk now says of a file that is not open;
    /// true when other documents' findings may have changed.
    fn reload_kustomize_from_disk(&self, key: &DocumentKey) -> bool {
        if !self.kustomizations.concerns(key) {
            return false;
        }
        let text = key.to_path().and_then(|p| self.file_text(&p));
        self.kustomizations
            .update(key, text.as_deref(), &|p| self.file_text(p))
    }

    /// Records the ServiceAccounts an open buffer declares; true when they
    /// changed (the other documents then need a new analysis).
    fn update_buffer_accounts(&self, key: &DocumentKey, analyzed: &Analyzed) -> bool {
        let mut index = self.accounts.write();
        let name = self.indexed_name(key);
        let before = name.as_deref().map_or(&[][..], |n| index.accounts_of(n));
        if before == analyzed.accounts {
            return false;
        }
        self.index_accounts(
            &mut index,
            key,
            analyzed.accounts.clone(),
            analyzed.rope.clone(),
        );
        self.account_generation.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// Reloads what the disk says about `path`'s ServiceAccounts; true when
    /// the index changed. Only files inside the workspace folders are read.
    fn reload_from_disk(&self, key: &DocumentKey) -> bool {
        let read_at = self.disk_clock.fetch_add(1, Ordering::SeqCst) + 1;
        self.disk_reads.insert(key.clone(), read_at);
        let file = key.to_path().and_then(|p| {
            let roots = self.roots.read();
            if workspace::within(&roots, &p) {
                workspace::read_accounts(&p)
            } else {
                debug!("{} is not inside a workspace folder: not read", p.display());
                None
            }
        });
        let mut index = self.accounts.write();
        let name = self.indexed_name(key);
        let before = name.as_deref().map_or(&[][..], |n| index.accounts_of(n));
        match file {
            Some(file) => {
                if before == file.accounts {
                    return false;
                }
                self.index_accounts(&mut index, key, file.accounts, file.rope);
            }
            None => {
                if before.is_empty() {
                    return false;
                }
                self.unindex_accounts(&mut index, key);
            }
        }
        self.account_generation.fetch_add(1, Ordering::SeqCst);
        true
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

pub struct Backend {
    client: Client,
    state: Arc<State>,
}

impl Backend {
    fn new(client: Client, shutdown: Arc<AtomicBool>) -> Self {
        let (publisher, queue) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            docs: DashMap::new(),
            live: DashMap::new(),
            results: DashMap::new(),
            account_generation: AtomicU64::new(0),
            accounts: RwLock::new(AccountIndex::new()),
            account_files: DashMap::new(),
            disk_reads: DashMap::new(),
            disk_clock: AtomicU64::new(0),
            kustomizations: Kustomizations::default(),
            session: OnceLock::new(),
            settings: RwLock::new(Arc::new(Settings::default())),
            roots: RwLock::new(Vec::new()),
            projects: RwLock::new(Vec::new()),
            default_options: Arc::new(Options::default()),
            config_problems: Mutex::new(Vec::new()),
            next_revision: AtomicU64::new(1),
            shutdown,
            publisher,
        });
        tokio::spawn(publish_in_order(client.clone(), Arc::clone(&state), queue));
        Self { client, state }
    }

    /// Analyses the document's current revision and queues its diagnostics.
    fn schedule(&self, key: DocumentKey) {
        let state = Arc::clone(&self.state);
        let client = self.client.clone();
        tokio::spawn(async move {
            let Some(doc) = state.doc(&key) else {
                return;
            };
            let uri = doc.uri.clone();
            let worker = Arc::clone(&state);
            let worker_key = key.clone();
            let result = tokio::task::spawn_blocking(move || {
                // Skip the work when a newer revision already arrived.
                if worker.revision_of(&worker_key) != Some(doc.revision) {
                    return None;
                }
                let revision = doc.revision;
                worker
                    .analyze(&worker_key, &doc)
                    .map(|r| r.map_err(|()| revision))
            })
            .await;
            let analyzed = match result {
                Ok(Some(Ok(analyzed))) => Arc::new(analyzed),
                Ok(Some(Err(revision))) => {
                    warn!("analysis of {} panicked", uri.as_str());
                    let _ = state.publisher.send(Publish {
                        version: state.doc(&key).map_or(0, |d| d.version),
                        key,
                        uri,
                        revision,
                        diagnostics: vec![analysis_failed()],
                    });
                    return;
                }
                _ => return,
            };
            if state.revision_of(&key) != Some(analyzed.revision) {
                return;
            }
            state.results.insert(key.clone(), Arc::clone(&analyzed));
            let accounts_changed = state.update_buffer_accounts(&key, &analyzed);
            // Kustomize: an open kustomization or patch buffer.
            let kustomize_changed = state.kustomizations.concerns(&key)
                && state
                    .kustomizations
                    .update(&key, Some(&analyzed.rope.to_string()), &|p| {
                        state.file_text(p)
                    });
            if accounts_changed || kustomize_changed {
                reanalyze_others(&client, &state, Some(&key));
            }
            if !state.session().pull_diagnostics {
                let diagnostics = state.diagnostics(&key, &uri, &analyzed);
                let _ = state.publisher.send(Publish {
                    key,
                    uri,
                    revision: analyzed.revision,
                    version: analyzed.version,
                    diagnostics,
                });
            }
        });
    }

    /// The analysis of the document's current revision, computed now if the
    /// scheduled one has not finished.
    async fn current(&self, key: &DocumentKey) -> Option<Arc<Analyzed>> {
        let doc = self.state.doc(key)?;
        if let Some(done) = self.state.results.get(key).map(|r| Arc::clone(&r)) {
            if done.revision == doc.revision {
                return Some(done);
            }
        }
        let state = Arc::clone(&self.state);
        let key = key.clone();
        let analyzed = tokio::task::spawn_blocking(move || state.analyze(&key, &doc))
            .await
            .ok()??
            .ok()?;
        Some(Arc::new(analyzed))
    }
}

/// Re-analyses every open document (but `except`), after ServiceAccounts or
/// settings changed.
fn reanalyze_others(client: &Client, state: &Arc<State>, except: Option<&DocumentKey>) {
    reanalyze_open(client, state, |key| Some(key) != except);
}

/// Helm: after `changed` (a chart's values.yaml or one of its
/// templates) changed, the chart's other open templates are judged again.
fn reanalyze_chart(client: &Client, state: &Arc<State>, changed: &DocumentKey) {
    let Some(root) = helm::affected_chart(changed) else {
        return;
    };
    let templates = root.join("templates");
    reanalyze_open(client, state, |key| {
        key != changed
            && key
                .to_path()
                .is_some_and(|p| identity::is_within(&templates, &p))
    });
}

/// Re-analyses the open documents that `which` selects, and asks pulling
/// clients to pull again.
fn reanalyze_open(client: &Client, state: &Arc<State>, which: impl Fn(&DocumentKey) -> bool) {
    let keys: Vec<DocumentKey> = state
        .docs
        .iter()
        .map(|e| e.key().clone())
        .filter(|u| which(u))
        .collect();
    let backend = Backend {
        client: client.clone(),
        state: Arc::clone(state),
    };
    for key in keys {
        // A new revision (same text and version): an analysis still running
        // with the old accounts, settings or chart must not publish after
        // this one.
        if let Some(mut doc) = state.docs.get_mut(&key) {
            let revision = state.next_revision.fetch_add(1, Ordering::SeqCst);
            *doc = Arc::new(Document {
                revision,
                ..Document::clone(&doc)
            });
        }
        backend.schedule(key);
    }
    if state.session().pull_diagnostics && state.session().diagnostic_refresh {
        let client = client.clone();
        tokio::spawn(async move {
            let _ = client.workspace_diagnostic_refresh().await;
        });
    }
}

/// Sends diagnostics one at a time, in the order analyses finish, dropping
/// any whose revision is no longer the document's: an old result can never
/// overwrite a newer one.
async fn publish_in_order(
    client: Client,
    state: Arc<State>,
    mut queue: mpsc::UnboundedReceiver<Publish>,
) {
    while let Some(p) = queue.recv().await {
        if state.revision_of(&p.key) != Some(p.revision) {
            debug!(
                "dropping diagnostics of an outdated revision of {}",
                p.uri.as_str()
            );
            continue;
        }
        debug!(
            "publishing {} diagnostics for {} version {}",
            p.diagnostics.len(),
            p.uri.as_str(),
            p.version
        );
        client
            .publish_diagnostics(p.uri, p.diagnostics, Some(p.version))
            .await;
    }
}

/// Publishes the diagnostic of every project configuration that could not
/// be used, and clears those of files that are fine again.
async fn publish_config_problems(client: &Client, state: &Arc<State>) {
    let problems: Vec<(DocumentKey, Diagnostic)> = state
        .projects
        .read()
        .iter()
        .filter_map(|p| p.problem.clone())
        .collect();
    let cleared: Vec<DocumentKey> = {
        let mut published = state.config_problems.lock();
        let now: Vec<DocumentKey> = problems.iter().map(|(key, _)| key.clone()).collect();
        let cleared = published
            .iter()
            .filter(|key| !now.contains(key))
            .cloned()
            .collect();
        *published = now;
        cleared
    };
    for key in cleared {
        let uri = state.client_uri(&key);
        client.publish_diagnostics(uri, Vec::new(), None).await;
    }
    // Two folders may share one file above them: one diagnostic is enough.
    let mut sent: Vec<DocumentKey> = Vec::new();
    for (key, diagnostic) in problems {
        if sent.contains(&key) {
            continue;
        }
        let uri = state.client_uri(&key);
        sent.push(key);
        client
            .publish_diagnostics(uri, vec![diagnostic], None)
            .await;
    }
}

fn analysis_failed() -> Diagnostic {
    Diagnostic {
        range: Range::default(),
        severity: Some(DiagnosticSeverity::ERROR),
        source: Some(crate::diagnostics::SOURCE.to_string()),
        message: "tokenguard could not analyse this document (internal error; the server log has details)".to_string(),
        ..Diagnostic::default()
    }
}

fn client_session(caps: &ClientCapabilities) -> Session {
    let text = caps.text_document.as_ref();
    let workspace = caps.workspace.as_ref();
    let refresh = workspace
        .and_then(|w| w.diagnostics.as_ref())
        .and_then(|d| d.refresh_support)
        .unwrap_or(false);
    Session {
        encoding: Encoding::negotiate(caps),
        // Pull only when the server can also ask the client to pull again:
        // a ServiceAccount change in one file must reach the others.
        pull_diagnostics: text.and_then(|t| t.diagnostic.as_ref()).is_some() && refresh,
        diagnostic_refresh: refresh,
        lazy_code_actions: text
            .and_then(|t| t.code_action.as_ref())
            .and_then(|c| c.resolve_support.as_ref())
            .is_some_and(|r| r.properties.iter().any(|p| p == "edit")),
        work_done_progress: caps
            .window
            .as_ref()
            .and_then(|w| w.work_done_progress)
            .unwrap_or(false),
        watch_files: workspace
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false),
        configuration_pull: workspace.and_then(|w| w.configuration).unwrap_or(false),
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let session = client_session(&params.capabilities);
        let _ = self.state.session.set(session);
        if let Some(options) = &params.initialization_options {
            self.apply_settings(options);
        }
        let mut roots: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|f| DocumentKey::new(&f.uri).to_path())
            .collect();
        #[allow(deprecated)]
        if roots.is_empty() {
            roots.extend(
                params
                    .root_uri
                    .as_ref()
                    .and_then(|u| DocumentKey::new(u).to_path()),
            );
        }
        *self.state.roots.write() = roots;
        // Before any document is opened: the first analyses use it.
        let state = Arc::clone(&self.state);
        let _ = tokio::task::spawn_blocking(move || state.load_projects()).await;
        info!("initialized with {:?} positions", session.encoding);
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(session.encoding.kind()),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        ..TextDocumentSyncOptions::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![
                            CodeActionKind::QUICKFIX,
                            CodeActionKind::new(FIX_ALL),
                        ]),
                        resolve_provider: Some(session.lazy_code_actions),
                        ..CodeActionOptions::default()
                    },
                )),
                diagnostic_provider: session.pull_diagnostics.then(|| {
                    DiagnosticServerCapabilities::Options(DiagnosticOptions {
                        identifier: Some("tokenguard".to_string()),
                        inter_file_dependencies: true,
                        workspace_diagnostics: false,
                        ..DiagnosticOptions::default()
                    })
                }),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "tokenguard".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let session = self.state.session();
        if session.watch_files {
            let watch = |pattern: &str| FileSystemWatcher {
                glob_pattern: GlobPattern::String(pattern.to_string()),
                kind: None,
            };
            let options = DidChangeWatchedFilesRegistrationOptions {
                watchers: vec![
                    watch("**/*.{yaml,yml}"),
                    // Kustomize: the kustomization name without extension.
                    watch("**/Kustomization"),
                    watch("**/tokenguard.toml"),
                    watch("**/.tokenguard.toml"),
                ],
            };
            let registration = Registration {
                id: "tokenguard-watch-yaml".to_string(),
                method: "workspace/didChangeWatchedFiles".to_string(),
                register_options: serde_json::to_value(options).ok(),
            };
            if let Err(error) = self.client.register_capability(vec![registration]).await {
                warn!("could not register file watching: {error}");
            }
        }
        publish_config_problems(&self.client, &self.state).await;
        if session.configuration_pull {
            self.pull_settings().await;
            // Documents opened while the settings were being fetched were
            // analysed with the defaults.
            reanalyze_others(&self.client, &self.state, None);
        }
        let client = self.client.clone();
        let state = Arc::clone(&self.state);
        tokio::spawn(async move { index_workspace(client, state).await });
    }

    async fn shutdown(&self) -> Result<()> {
        self.state.shutdown.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        let key = DocumentKey::new(&doc.uri);
        debug!("didOpen {} ({} bytes)", doc.uri.as_str(), doc.text.len());
        let revision = self.state.next_revision.fetch_add(1, Ordering::SeqCst);
        self.state
            .live
            .insert(key.clone(), Arc::new(Live::default()));
        let replaced = self.state.docs.insert(
            key.clone(),
            Arc::new({
                let rope = Rope::from_str(&doc.text);
                Document {
                    uri: doc.uri.clone(),
                    version: doc.version,
                    revision,
                    may_hold_actions: helm::may_hold_actions(&rope),
                    rope,
                    edits: Arc::new(EditLog {
                        base: revision,
                        entries: Vec::new(),
                    }),
                }
            }),
        );
        reanalyze_chart(&self.client, &self.state, &key);
        self.schedule(key);
        // The file was open under another spelling: what was published
        // under that one is this document's now.
        if let Some(old) = replaced.filter(|old| old.uri != doc.uri) {
            if !self.state.session().pull_diagnostics {
                self.client
                    .publish_diagnostics(old.uri.clone(), Vec::new(), None)
                    .await;
            }
        }
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let key = DocumentKey::new(&uri);
        // All of the edit happens before the first await, so changes apply in
        // the order they arrived.
        let Some(current) = self.state.doc(&key) else {
            warn!("didChange for {} which is not open; ignored", uri.as_str());
            return;
        };
        if params.text_document.version <= current.version {
            warn!(
                "didChange for {} goes from version {} to {}; applied anyway",
                uri.as_str(),
                current.version,
                params.text_document.version
            );
        }
        let mut rope = current.rope.clone();
        let (changes, notes) = apply_changes(
            &mut rope,
            &params.content_changes,
            self.state.session().encoding,
        );
        for note in notes {
            warn!("{}: {note}", uri.as_str());
        }
        let revision = self.state.next_revision.fetch_add(1, Ordering::SeqCst);
        let analysed = self
            .state
            .live
            .get(&key)
            .map_or(0, |l| l.analysed.load(Ordering::SeqCst));
        let edits = Arc::new(current.edits.advanced(analysed, revision, &changes));
        let may_hold_actions =
            helm::may_hold_actions_after(current.may_hold_actions, &rope, &changes);
        self.state.docs.insert(
            key.clone(),
            Arc::new(Document {
                uri: current.uri.clone(),
                version: params.text_document.version,
                revision,
                rope,
                edits,
                may_hold_actions,
            }),
        );
        reanalyze_chart(&self.client, &self.state, &key);
        self.schedule(key);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let key = DocumentKey::new(&params.text_document.uri);
        // Diagnostics were published under the URI of the didOpen.
        let uri = self
            .state
            .docs
            .remove(&key)
            .map_or(params.text_document.uri, |(_, doc)| doc.uri.clone());
        self.state.live.remove(&key);
        self.state.results.remove(&key);
        // The buffer no longer speaks for the file: the disk does again.
        let changed = self.state.reload_from_disk(&key);
        let changed = self.state.reload_kustomize_from_disk(&key) || changed;
        if !self.state.session().pull_diagnostics {
            self.client.publish_diagnostics(uri, Vec::new(), None).await;
        }
        if changed {
            reanalyze_others(&self.client, &self.state, None);
        } else {
            reanalyze_chart(&self.client, &self.state, &key);
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let mut changed = false;
        let mut configuration = false;
        for event in params.changes {
            let key = DocumentKey::new(&event.uri);
            if key.to_path().is_some_and(|p| project::is_config_file(&p)) {
                configuration = true;
                continue;
            }
            // An open buffer speaks for its file, however the event spells it.
            if self.state.docs.contains_key(&key) {
                continue;
            }
            changed |= self.state.reload_from_disk(&key);
            changed |= self.state.reload_kustomize_from_disk(&key);
            reanalyze_chart(&self.client, &self.state, &key);
        }
        if configuration {
            info!("a project configuration file changed: reloading");
            let state = Arc::clone(&self.state);
            let _ = tokio::task::spawn_blocking(move || state.load_projects()).await;
            publish_config_problems(&self.client, &self.state).await;
        }
        if changed || configuration {
            reanalyze_others(&self.client, &self.state, None);
        }
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        if self.state.session().configuration_pull {
            self.pull_settings().await;
        } else {
            self.apply_settings(&params.settings);
        }
        reanalyze_others(&self.client, &self.state, None);
    }

    async fn diagnostic(
        &self,
        params: DocumentDiagnosticParams,
    ) -> Result<DocumentDiagnosticReportResult> {
        let uri = params.text_document.uri;
        let key = DocumentKey::new(&uri);
        let Some(analyzed) = self.current(&key).await else {
            return Err(Error::invalid_params(format!(
                "{} is not open",
                uri.as_str()
            )));
        };
        let uri = self.state.client_uri(&key);
        let items = self.state.diagnostics(&key, &uri, &analyzed);
        Ok(DocumentDiagnosticReportResult::Report(
            DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
                related_documents: None,
                full_document_diagnostic_report: FullDocumentDiagnosticReport {
                    result_id: None,
                    items,
                },
            }),
        ))
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let key = DocumentKey::new(&params.text_document_position_params.text_document.uri);
        let Some(analyzed) = self.current(&key).await else {
            return Ok(None);
        };
        let encoding = self.state.session().encoding;
        let offset = to_offset(
            &analyzed.rope,
            params.text_document_position_params.position,
            encoding,
        )
        .byte;
        let settings = self.state.settings_for(&key);
        if !settings.enable || self.state.excluded(&key, &settings) {
            return Ok(None);
        }
        Ok(
            hover_markdown(&analyzed, &settings, offset).map(|value| Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value,
                }),
                range: None,
            }),
        )
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let key = DocumentKey::new(&params.text_document.uri);
        let Some(analyzed) = self.current(&key).await else {
            return Ok(None);
        };
        let settings = self.state.settings_for(&key);
        if !settings.enable || self.state.excluded(&key, &settings) {
            return Ok(None);
        }
        // Edits and diagnostics name the document as the client opened it.
        let uri = self.state.client_uri(&key);
        let session = self.state.session();
        let encoding = session.encoding;
        let (range, _) = to_text_range(&analyzed.rope, params.range, encoding);
        let account_file = |origin: Option<&str>| -> Option<(Uri, Rope)> {
            match origin {
                None => Some((uri.clone(), analyzed.rope.clone())),
                Some(origin) => self.state.file_of(origin),
            }
        };
        let locate = |origin: Option<&str>, r: TextRange| {
            let (target, rope) = self.state.file_of(origin?)?;
            Some(Location::new(target, to_range(&rope, r, encoding)))
        };
        let to_diag = |f: &tokenguard_analysis::Finding| {
            to_diagnostic(f, &analyzed, &uri, &settings, encoding, &locate)
        };
        let request = code_actions::Request {
            uri: &uri,
            analyzed: &analyzed,
            settings: &settings,
            encoding,
            range,
            only: params.context.only.as_deref(),
            lazy_fix_all: session.lazy_code_actions,
            account_file: &account_file,
            to_diagnostic: &to_diag,
        };
        let found = code_actions::code_actions(&request);
        Ok((!found.is_empty()).then_some(found))
    }

    async fn code_action_resolve(&self, mut action: CodeAction) -> Result<CodeAction> {
        let uri = action
            .data
            .as_ref()
            .and_then(|d| d.get("uri"))
            .and_then(Value::as_str)
            .and_then(|u| u.parse::<Uri>().ok());
        let Some(uri) = uri else {
            return Ok(action);
        };
        let key = DocumentKey::new(&uri);
        let Some(analyzed) = self.current(&key).await else {
            return Err(Error::invalid_params(format!(
                "{} is not open",
                uri.as_str()
            )));
        };
        let uri = self.state.client_uri(&key);
        let settings = self.state.settings_for(&key);
        action.edit = Some(code_actions::fix_all_edit(
            &uri,
            &analyzed,
            &settings,
            self.state.session().encoding,
        ));
        Ok(action)
    }
}

impl Backend {
    fn apply_settings(&self, value: &Value) {
        let (settings, notes) = Settings::from_json(value);
        for note in notes {
            warn!("{note}");
        }
        *self.state.settings.write() = Arc::new(settings);
    }

    async fn pull_settings(&self) {
        let item = ConfigurationItem {
            scope_uri: None,
            section: Some("tokenguard".to_string()),
        };
        match self.client.configuration(vec![item]).await {
            Ok(values) => {
                if let Some(value) = values.first() {
                    self.apply_settings(value);
                }
            }
            Err(error) => warn!("workspace/configuration failed: {error}"),
        }
    }
}

/// Indexes the ServiceAccounts of every YAML file under the workspace
/// folders, with progress, then re-analyses the open documents.
async fn index_workspace(client: Client, state: Arc<State>) {
    let roots = state.roots.read().clone();
    if roots.is_empty() {
        return;
    }
    let progress = if state.session().work_done_progress {
        let token = ProgressToken::String("tokenguard-index".to_string());
        match client.create_work_done_progress(token.clone()).await {
            Ok(()) => Some(
                client
                    .progress(token, "tokenguard: indexing ServiceAccounts")
                    .with_percentage(0)
                    .begin()
                    .await,
            ),
            Err(_) => None,
        }
    } else {
        None
    };
    let files = tokio::task::spawn_blocking(move || {
        roots
            .iter()
            .flat_map(|r| workspace::yaml_files(r))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    let total = files.len().max(1);
    let mut found = 0;
    for (i, batch) in files.chunks(256).enumerate() {
        let batch = batch.to_vec();
        // Files the editor has us re-read from now on are newer than what
        // this batch reads.
        let reading_at = state.disk_clock.load(Ordering::SeqCst);
        let read = tokio::task::spawn_blocking(move || {
            batch
                .iter()
                .filter_map(|p| workspace::read_accounts(p))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        for file in read {
            let Some(key) = DocumentKey::from_path(&file.path) else {
                continue;
            };
            // Under the lock an open buffer's accounts are written with.
            let mut index = state.accounts.write();
            if state.docs.contains_key(&key) {
                continue; // the open buffer speaks for this file
            }
            if state
                .disk_reads
                .get(&key)
                .is_some_and(|read| *read > reading_at)
            {
                continue; // re-read since: that reading is newer than ours
            }
            found += file.accounts.len();
            state.index_accounts(&mut index, &key, file.accounts, file.rope);
        }
        if let Some(progress) = &progress {
            let done = ((i + 1) * 256).min(total);
            progress
                .report_with_message(format!("{done}/{total} files"), (done * 100 / total) as u32)
                .await;
        }
    }
    // Kustomize: kustomizations and their patches, open buffers first.
    let indexer = Arc::clone(&state);
    let listed: Vec<PathBuf> = files
        .iter()
        .filter(|f| tokenguard_analysis::kustomize::is_kustomization_file(&f.to_string_lossy()))
        .cloned()
        .collect();
    let _ = tokio::task::spawn_blocking(move || {
        indexer
            .kustomizations
            .rebuild(&listed, &|p| indexer.file_text(p))
    })
    .await;
    if let Some(progress) = progress {
        progress
            .finish_with_message(format!("{found} ServiceAccounts"))
            .await;
    }
    state.account_generation.fetch_add(1, Ordering::SeqCst);
    info!("indexed {found} ServiceAccounts in {} files", files.len());
    reanalyze_others(&client, &state, None);
}

/// Serves LSP on the given streams until `exit`; returns whether `shutdown`
/// came first (the process then exits with 0, else 1).
pub async fn serve<I, O>(input: I, output: O) -> bool
where
    I: AsyncRead + Unpin,
    O: AsyncWrite,
{
    let shutdown = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&shutdown);
    let (service, socket) = LspService::new(move |client| Backend::new(client, flag));
    // Malformed input is answered by the transport guard, never seen by
    // tower-lsp-server (which would stop reading at the first one).
    transport::guarded(input, Box::pin(output), |input, output| {
        Server::new(input, output, socket).serve(service)
    })
    .await;
    shutdown.load(Ordering::SeqCst)
}
