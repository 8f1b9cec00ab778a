//! The analysis host: the analysis owns the state of the world, front ends
//! report changes and ask questions (the idea of rust-analyzer's).
//!
//! The host holds the files it was fed (path, revision, and the text when
//! it was fed to be kept), classifies each once ([`FileKind`]), and keeps
//! the derived indexes current as files change: the workspace's
//! ServiceAccounts ([`AccountIndex`]), its Helm charts ([`ChartView`]), its
//! kustomizations ([`KustomizeIndex`]), where workloads name their
//! accounts ([`UseIndex`], for navigation) and the configuration in force
//! per folder ([`Configuration`]). It answers: the findings (with their
//! fixes) of a file, hover facts, navigation (definition, references,
//! completion: `navigation.rs`), and which files' findings may differ since
//! a revision.
//!
//! No I/O and no async: the embedder feeds text, and the host asks it for
//! the files it needs but was not fed (a chart's values and templates, a
//! kustomization and its patches, a configuration file) through one trait,
//! [`FileSource`]. A file fed with [`AnalysisHost::index_file`] leaves only
//! its facts behind (its text is dropped and asked for again when needed),
//! so a command-line run over a large checkout stays small; a file fed with
//! [`AnalysisHost::set_file`] (an editor's open buffer) keeps its text,
//! which then wins over the source's.
//!
//! Which files get findings at all is one rule for every front end:
//! [`crate::holds_kubernetes_object`].

mod charts;
mod configuration;
mod hints;
mod hover;
mod kustomize;
mod lines;
mod navigation;
mod path;
mod permissions;
mod reading;
mod source;
#[cfg(test)]
mod tests;
mod usage;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

pub use configuration::Configuration;
pub use hover::{hover_fact, on_field_key, HoverFact};
pub use lines::{lines_in, LineAt};
pub use navigation::{AccountCompletion, OpenText};
pub use path::FilePath;
pub use reading::{FileReading, PendingAnalysis};
pub use source::{FileSource, Need, NoFiles};

use crate::files::{self, FileKind};
use crate::helm::render::{self, Rendering};
use crate::helm::{self, ChartView, Template, TemplateContext};
use crate::kustomize::{is_kustomization_file, normalize, KUSTOMIZATION_FILE_NAMES};
use crate::navigation::{AccountUse, UseIndex};
use crate::rbac::{self, Permissions, RbacIndex, RbacObjects};
use crate::{AccountIndex, Finding, KustomizeIndex, LineIndex, ParsedFile, ServiceAccount};

/// Which files' findings may differ after some changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Affected {
    /// Every file's (an account, a kustomization or a configuration changed).
    Everything,
    /// These files' (empty: none).
    Files(BTreeSet<FilePath>),
}

impl Affected {
    fn none() -> Self {
        Affected::Files(BTreeSet::new())
    }

    fn add(&mut self, other: Affected) {
        match (&mut *self, other) {
            (Affected::Everything, _) => {}
            (_, Affected::Everything) => *self = Affected::Everything,
            (Affected::Files(mine), Affected::Files(theirs)) => mine.extend(theirs),
        }
    }

    /// Whether the findings of `path` may have changed.
    pub fn includes(&self, path: &FilePath) -> bool {
        match self {
            Affected::Everything => true,
            Affected::Files(files) => files.contains(path),
        }
    }
}

/// What the host keeps of a file it was fed.
#[derive(Debug)]
struct Entry {
    revision: u64,
    kind: FileKind,
    /// Kept only for files fed with [`AnalysisHost::set_file`].
    text: Option<Arc<str>>,
}

/// What a file's text says for the indexes, computed without the host's
/// indexes (so many files can be read in parallel, then fed in order with
/// [`AnalysisHost::add_facts`]).
#[derive(Clone, Debug)]
pub struct FileFacts {
    pub kind: FileKind,
    /// The ServiceAccounts it gives the workspace (a plain manifest's; a
    /// template's belong to its chart).
    pub accounts: Vec<ServiceAccount>,
    /// Where its workloads name their accounts (a plain manifest's), for
    /// navigation: computed only when asked for
    /// ([`AnalysisHost::facts_for_navigation`]); `None` leaves the file out
    /// of the navigation index.
    pub uses: Option<Vec<AccountUse>>,
    /// Its roles and bindings (a chart template's too, read from its masked
    /// text: see `rbac::rbac_of_template`).
    pub rbac: RbacObjects,
}

/// An edit of a file that moved its roles and bindings without changing
/// them ([`AnalysisHost::shift_file`]): `old` was replaced with `new_len`
/// bytes, every place at or after `old.end` moved with the text after it,
/// and the file has `lines_by` more lines (fewer when negative).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShiftEdit {
    pub old: crate::TextRange,
    pub new_len: usize,
    pub lines_by: isize,
}

impl ShiftEdit {
    /// How far the text after the edit moved.
    pub fn by(&self) -> isize {
        self.new_len as isize - self.old.len() as isize
    }
}

/// The analysis of one file.
#[derive(Debug)]
pub struct FileAnalysis {
    pub kind: FileKind,
    /// The findings, as the configuration wants them reported, in text order.
    pub findings: Vec<Finding>,
    pub line_index: LineIndex,
    /// The ServiceAccounts the file declares.
    pub accounts: Vec<ServiceAccount>,
    /// The chart of a template, when the host knows it.
    pub chart: Option<FilePath>,
}

/// `path` relative to the chart folder `root`, `/`-separated.
fn relative_to(path: &FilePath, root: &FilePath) -> String {
    let root = root.as_str().trim_end_matches('/');
    let path = path.as_str();
    match path.strip_prefix(root) {
        Some(rest) if root != "." => rest.trim_start_matches('/').to_string(),
        _ => path.trim_start_matches("./").to_string(),
    }
}

/// Logged changes older than this many are summed up as "everything".
const CHANGE_LOG: usize = 4096;

pub struct AnalysisHost<S> {
    source: S,
    revision: u64,
    files: HashMap<FilePath, Entry>,
    accounts: AccountIndex,
    /// Where workloads name their accounts, per file (navigation).
    uses: UseIndex,
    rbac: RbacIndex,
    /// The lines of the bindings and roles findings name.
    declaration_lines: permissions::DeclarationLines,
    charts: HashMap<FilePath, ChartView>,
    /// Charts' renderings, by chart folder, as the embedder handed them.
    renderings: HashMap<FilePath, Arc<Rendering>>,
    kustomize: kustomize::Kustomizations,
    /// Folders (as written in the paths fed) whose kustomization was looked
    /// for.
    folders_visited: HashSet<String>,
    /// By scope: `None` for every file, else the files within a folder (the
    /// deepest scope holding a file wins).
    configurations: Vec<(Option<FilePath>, Arc<Configuration>)>,
    defaults: Arc<Configuration>,
    /// The last change that affected every file (0: none).
    everything_at: u64,
    /// What changes affected besides the files fed at that revision (which
    /// their entries say): removed files, a chart's templates, the files of
    /// a configuration's scope. (revision, files), oldest first. Feeding a
    /// file logs nothing here, so a command-line run keeps no log.
    others: Vec<(u64, BTreeSet<FilePath>)>,
    /// Entries of `others` up to this revision were dropped.
    forgotten: u64,
}

impl<S: FileSource> AnalysisHost<S> {
    pub fn new(source: S) -> Self {
        Self {
            source,
            revision: 0,
            files: HashMap::new(),
            accounts: AccountIndex::new(),
            uses: UseIndex::new(),
            rbac: RbacIndex::new(),
            declaration_lines: permissions::DeclarationLines::default(),
            charts: HashMap::new(),
            renderings: HashMap::new(),
            kustomize: kustomize::Kustomizations::default(),
            folders_visited: HashSet::new(),
            configurations: Vec::new(),
            defaults: Arc::new(Configuration::defaults()),
            everything_at: 0,
            others: Vec::new(),
            forgotten: 0,
        }
    }

    /// The embedder's source of files.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The revision of the last change (0: none yet).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    // ----- configuration -------------------------------------------------

    /// The configuration file that governs the folder `from` (the nearest
    /// `tokenguard.toml` / `.tokenguard.toml` in it or above it), asked of
    /// the source.
    pub fn find_configuration(&self, from: &FilePath) -> Option<FilePath> {
        let from = from.as_path()?;
        files::find_config(from, |p| self.source.is_file(&FilePath::from_path(p)))
            .map(|p| FilePath::from_path(&p))
    }

    /// Puts `configuration` in force for the files within `scope` (every
    /// file when `None`), replacing the one of that scope.
    pub fn set_configuration(&mut self, scope: Option<FilePath>, configuration: Configuration) {
        self.configurations.retain(|(s, _)| *s != scope);
        self.configurations
            .push((scope.clone(), Arc::new(configuration)));
        let affected = match &scope {
            None => Affected::Everything,
            Some(folder) => Affected::Files(
                self.files
                    .keys()
                    .filter(|p| p.is_within(folder))
                    .cloned()
                    .collect(),
            ),
        };
        self.record(affected);
    }

    /// Takes the configuration of the folder `scope` out of force (a
    /// workspace folder closed): its files fall back to the next scope out.
    pub fn remove_configuration(&mut self, scope: &FilePath) {
        let before = self.configurations.len();
        self.configurations
            .retain(|(s, _)| s.as_ref() != Some(scope));
        if self.configurations.len() == before {
            return;
        }
        let affected = self
            .files
            .keys()
            .filter(|p| p.is_within(scope))
            .cloned()
            .collect();
        self.record(Affected::Files(affected));
    }

    /// The configuration in force for `path`.
    pub fn configuration(&self, path: &FilePath) -> &Arc<Configuration> {
        let scoped = self
            .configurations
            .iter()
            .filter_map(|(scope, c)| Some((scope.as_ref()?, c)))
            .filter(|(scope, _)| path.is_within(scope))
            .max_by_key(|(scope, _)| scope.as_str().len())
            .map(|(_, c)| c);
        scoped
            .or_else(|| {
                self.configurations
                    .iter()
                    .find(|(scope, _)| scope.is_none())
                    .map(|(_, c)| c)
            })
            .unwrap_or(&self.defaults)
    }

    /// THE exclusion rule (see [`Configuration::excludes`]): whether the
    /// configuration in force for `path` excludes it.
    pub fn is_excluded(&self, path: &FilePath) -> bool {
        self.configuration(path).excludes(path)
    }

    // ----- feeding -------------------------------------------------------

    /// What `text` at `path` gives the indexes; `&self`, so files can be
    /// read in parallel.
    pub fn facts(&self, path: &FilePath, text: &str) -> FileFacts {
        Self::facts_with(&self.source, path, text)
    }

    /// [`AnalysisHost::facts`] without the host: an embedder reading many
    /// files on other threads computes their facts with a copy of its
    /// source, holding no lock of the host.
    pub fn facts_with(source: &S, path: &FilePath, text: &str) -> FileFacts {
        Self::facts_of_kind(charts::classify(source, path, text), text)
    }

    /// [`AnalysisHost::facts_with`] of a file already classified as `kind`
    /// (its folders are not probed for a chart again).
    fn facts_of_kind(kind: FileKind, text: &str) -> FileFacts {
        let accounts = match kind {
            FileKind::Manifest if text.contains("ServiceAccount") => crate::service_accounts(text),
            _ => Vec::new(),
        };
        let rbac = match &kind {
            FileKind::Manifest => rbac::rbac_of_text(text),
            FileKind::ChartTemplate(_) => rbac::rbac_of_template(text),
            _ => RbacObjects::default(),
        };
        FileFacts {
            kind,
            accounts,
            uses: None,
            rbac,
        }
    }

    /// [`AnalysisHost::facts_with`] and where the file's workloads name
    /// their accounts, for an embedder that navigates (an editor; the
    /// command line's checks need no navigation and do not pay for it).
    /// Workload kinds are the built-in ones (no configuration is at hand on
    /// another thread); the file being asked about is read with its
    /// configuration's.
    pub fn facts_for_navigation(source: &S, path: &FilePath, text: &str) -> FileFacts {
        let mut facts = Self::facts_with(source, path, text);
        if facts.kind == FileKind::Manifest {
            facts.uses = Some(crate::navigation::account_uses(
                text,
                crate::Options::builtin(),
            ));
        }
        facts
    }

    /// Feeds a file whose text the host keeps (an open buffer): it wins over
    /// the source's until the file is fed again or removed.
    pub fn set_file(&mut self, path: FilePath, text: String) -> u64 {
        let facts = self.facts(&path, &text);
        let text: Arc<str> = Arc::from(text);
        self.feed(path, facts, Some(text))
    }

    /// Feeds a file for its facts only: its text is not kept (the source
    /// gives it again when it is needed).
    pub fn index_file(&mut self, path: FilePath, text: &str) -> u64 {
        let facts = self.facts(&path, text);
        self.feed(path, facts, None)
    }

    /// Feeds facts computed with [`AnalysisHost::facts`].
    pub fn add_facts(&mut self, path: FilePath, facts: FileFacts) -> u64 {
        self.feed(path, facts, None)
    }

    /// Feeds the facts of a file the embedder knows to have changed (an
    /// editor's watched file), fed before or not: what the host read of it
    /// for others (a chart's `values.yaml`, a kustomization, a patch file)
    /// is read again.
    pub fn file_changed(&mut self, path: FilePath, facts: FileFacts) -> u64 {
        self.feed_changed(path, facts, None, true)
    }

    /// Feeds the facts of a plain manifest fed before for its facts only
    /// (an editor's open buffer), after an edit that moved its roles and
    /// bindings without changing them (`edit`): the same as feeding its
    /// facts read again ([`AnalysisHost::add_facts`] with `accounts`, no
    /// account uses and the moved roles and bindings), without comparing
    /// or copying the roles and bindings, and with the lines of their places
    /// moved rather than read again. `None` (nothing done) when the host
    /// does not hold such a file.
    pub fn shift_file(
        &mut self,
        path: &FilePath,
        edit: ShiftEdit,
        accounts: Vec<ServiceAccount>,
    ) -> Option<u64> {
        let entry = self.files.get(path)?;
        if entry.kind != FileKind::Manifest || entry.text.is_some() {
            return None;
        }
        let name = path.as_str();
        let by = edit.by();
        let mut affected = Affected::none();
        if self.accounts.accounts_of(name) != accounts.as_slice() {
            self.accounts.set(name, accounts);
            affected = Affected::Everything;
        }
        self.uses.remove(name);
        if self.rbac.objects_of(name).is_some() {
            self.declaration_lines
                .shift(name, edit.old, by, edit.lines_by);
            if self.rbac.shift(name, edit.old.end, by) {
                affected = Affected::Everything;
            }
        }
        self.files.insert(
            path.clone(),
            Entry {
                revision: self.revision + 1,
                kind: FileKind::Manifest,
                text: None,
            },
        );
        affected.add(self.refresh_context(path, &FileKind::Manifest, None, true));
        Some(self.record(affected))
    }

    /// Whether [`AnalysisHost::shift_file`] with `edit` would change
    /// anything but the file's revision (its accounts aside): a role or
    /// binding of it moves.
    pub fn shift_moves(&self, path: &FilePath, edit: ShiftEdit) -> bool {
        edit.by() != 0
            && self
                .rbac
                .objects_of(path.as_str())
                .is_some_and(|objects| objects.has_position_from(edit.old.end))
    }

    /// Forgets a file (deleted, or closed and gone from the disk).
    pub fn remove_file(&mut self, path: &FilePath) -> u64 {
        let Some(old) = self.files.remove(path) else {
            return self.revision;
        };
        let mut affected = Affected::Files(BTreeSet::from([path.clone()]));
        if !self.accounts.accounts_of(path.as_str()).is_empty() {
            self.accounts.remove(path.as_str());
            affected = Affected::Everything;
        }
        self.uses.remove(path.as_str());
        if self.rbac.objects_of(path.as_str()).is_some() {
            self.rbac.remove(path.as_str());
            self.declaration_lines.forget(path.as_str());
            affected = Affected::Everything;
        }
        affected.add(self.refresh_context(path, &old.kind, None, true));
        self.record(affected)
    }

    fn feed(&mut self, path: FilePath, facts: FileFacts, text: Option<Arc<str>>) -> u64 {
        self.feed_changed(path, facts, text, false)
    }

    fn feed_changed(
        &mut self,
        path: FilePath,
        facts: FileFacts,
        text: Option<Arc<str>>,
        changed: bool,
    ) -> u64 {
        let known = changed || self.files.contains_key(&path);
        // The file itself: its entry's revision says so.
        let mut affected = Affected::none();
        // ServiceAccounts: a change of any account (its place too, which
        // other files' findings point at) may change every file's findings.
        let name = path.as_str();
        // (A file not fed before has nothing in the index.)
        let changed_accounts = if known {
            self.accounts.accounts_of(name) != facts.accounts.as_slice()
        } else {
            !facts.accounts.is_empty()
        };
        if changed_accounts {
            self.accounts.set(name, facts.accounts);
            affected = Affected::Everything;
        }
        // Navigation only: no file's findings depend on it.
        match facts.uses {
            Some(uses) => self.uses.set(name, uses),
            None => self.uses.remove(name),
        }
        // Roles and bindings: any change may change any account's
        // permissions, so every file's findings.
        let known_rbac = self.rbac.objects_of(name);
        if known_rbac.is_some() || !facts.rbac.is_empty() {
            // Its places may have moved to other lines.
            self.declaration_lines.forget(name);
        }
        if known_rbac.map_or(!facts.rbac.is_empty(), |r| *r != facts.rbac) {
            self.rbac.set(name, facts.rbac);
            affected = Affected::Everything;
        }
        let kept = text.clone();
        self.files.insert(
            path.clone(),
            Entry {
                revision: self.revision + 1,
                kind: facts.kind.clone(),
                text,
            },
        );
        affected.add(self.refresh_context(&path, &facts.kind, kept.as_deref(), known));
        self.record(affected)
    }

    /// Brings the charts and kustomizations up to date with a file that was
    /// fed (`text`: what the host keeps of it; `changed`: it was known
    /// before) or removed.
    fn refresh_context(
        &mut self,
        path: &FilePath,
        kind: &FileKind,
        text: Option<&str>,
        changed: bool,
    ) -> Affected {
        let mut affected = Affected::none();
        if path.is_detached() {
            return affected;
        }
        let files = &self.files;
        let source = &self.source;
        let text_of = |p: &FilePath, need: Need| -> Option<String> {
            match files.get(p).and_then(|e| e.text.as_deref()) {
                Some(text) => Some(text.to_string()),
                None => source.read(p, need),
            }
        };
        // Helm: a template's chart is read once; a changed template or
        // `values.yaml` changes what the chart's templates are judged with.
        let chart = match kind {
            FileKind::ChartTemplate(root) => Some(FilePath::from_path(root)),
            // A helper file: the chart's helpers (`helm/helpers.rs`).
            FileKind::ChartHelper => path.as_path().and_then(|p| {
                helm::chart_root(p, &|dir| charts::is_chart(source, dir))
                    .map(|root| FilePath::from_path(&root))
            }),
            _ if path.file_name() == "values.yaml" => charts::values_chart(source, path),
            _ => None,
        };
        if let Some(root) = chart {
            let loaded = self.charts.contains_key(&root);
            if !loaded && matches!(kind, FileKind::ChartTemplate(_)) {
                let view = charts::read_chart(&root, source, &text_of);
                self.charts.insert(root, view);
            } else if loaded && (changed || text.is_some()) {
                // A kept text (an open buffer) may differ from the source's.
                let view = charts::read_chart(&root, source, &text_of);
                self.charts.insert(root.clone(), view);
                affected.add(Affected::Files(self.chart_templates(&root)));
            }
        }
        // Kustomize: the folder's kustomization, once; a changed
        // kustomization or patch file.
        let files = &self.files;
        let text_of = |p: &FilePath, need: Need| -> Option<String> {
            match files.get(p).and_then(|e| e.text.as_deref()) {
                Some(text) => Some(text.to_string()),
                None => source.read(p, need),
            }
        };
        // (Most files share their folder with others: the folder's name as
        // written is checked before any path arithmetic.)
        let written_folder = path.as_str().rsplit_once('/').map_or("", |(dir, _)| dir);
        if !self.folders_visited.contains(written_folder) {
            self.folders_visited.insert(written_folder.to_string());
            if let Some(folder) = path.parent() {
                if self.kustomize.visit(&folder, source, &text_of) {
                    affected = Affected::Everything;
                }
            }
        }
        let kustomization_name = KUSTOMIZATION_FILE_NAMES.contains(&path.file_name());
        if !changed && text.is_none() {
            // Fed for the first time, for its facts: the folder's visit has
            // read it, unless it appeared after that visit.
            if !kustomization_name || self.kustomize.has_read(&normalize(path.as_str())) {
                return affected;
            }
        }
        let key = normalize(path.as_str());
        if is_kustomization_file(&key) || self.kustomize.index.is_patch_file(&key) {
            let current = match text {
                Some(text) => Some(text.to_string()),
                None if self.files.contains_key(path) => {
                    let need = if is_kustomization_file(&key) {
                        Need::Kustomization
                    } else {
                        Need::Patch
                    };
                    source.read(path, need)
                }
                None => None,
            };
            if self.kustomize.update(&key, current.as_deref(), &text_of) {
                affected = Affected::Everything;
            }
        }
        affected
    }

    /// The templates of the chart at `root` the host was fed.
    fn chart_templates(&self, root: &FilePath) -> BTreeSet<FilePath> {
        self.files
            .iter()
            .filter(|(_, e)| match &e.kind {
                FileKind::ChartTemplate(r) => FilePath::from_path(r) == *root,
                _ => false,
            })
            .map(|(p, _)| p.clone())
            .collect()
    }

    fn record(&mut self, affected: Affected) -> u64 {
        self.revision += 1;
        match affected {
            Affected::Everything => self.everything_at = self.revision,
            Affected::Files(files) if files.is_empty() => {}
            Affected::Files(files) => {
                self.others.push((self.revision, files));
                if self.others.len() > CHANGE_LOG {
                    let dropped = self.others.len() - CHANGE_LOG / 2;
                    self.forgotten = self.others[dropped - 1].0;
                    self.others.drain(..dropped);
                }
            }
        }
        self.revision
    }

    // ----- rendering -----------------------------------------------------

    /// Hands the host the rendering of the chart at `root` (see
    /// [`crate::helm::render`]): its templates that reading in place cannot
    /// decide are judged on it from now on, while their text is the text
    /// that was rendered.
    pub fn set_rendering(&mut self, root: FilePath, rendering: Rendering) -> u64 {
        self.renderings.insert(root.clone(), Arc::new(rendering));
        let affected = Affected::Files(self.chart_templates(&root));
        self.record(affected)
    }

    /// Forgets the rendering of the chart at `root`.
    pub fn remove_rendering(&mut self, root: &FilePath) -> u64 {
        if self.renderings.remove(root).is_none() {
            return self.revision;
        }
        let affected = Affected::Files(self.chart_templates(root));
        self.record(affected)
    }

    /// The rendering of the chart at `root`, if one was handed over.
    pub fn rendering(&self, root: &FilePath) -> Option<&Arc<Rendering>> {
        self.renderings.get(root)
    }

    /// The chart to render for `text` at `path`: its folder when `path` is
    /// a chart template that reading in place cannot decide.
    pub fn needs_rendering(&self, path: &FilePath, text: &str) -> Option<FilePath> {
        self.rendering_need(path, text).map(|(root, _)| root)
    }

    /// [`AnalysisHost::needs_rendering`] of a file this host has just read
    /// ([`AnalysisHost::read_file`], [`AnalysisHost::facts`]) as `kind`
    /// without being fed it: its folders are not probed for a chart again.
    pub fn needs_rendering_of(
        &self,
        path: &FilePath,
        kind: &FileKind,
        text: &str,
    ) -> Option<FilePath> {
        if self.files.contains_key(path) {
            return self.needs_rendering(path, text);
        }
        let FileKind::ChartTemplate(root) = kind else {
            return None;
        };
        let root = FilePath::from_path(root);
        self.unseen(path, &root, text).map(|_| root)
    }

    /// [`AnalysisHost::needs_rendering`], with what reading in place
    /// cannot see.
    fn rendering_need(&self, path: &FilePath, text: &str) -> Option<(FilePath, render::Unseen)> {
        let kind = match self.files.get(path) {
            Some(entry) => entry.kind.clone(),
            None => charts::classify(&self.source, path, text),
        };
        let FileKind::ChartTemplate(root) = kind else {
            return None;
        };
        let root = FilePath::from_path(&root);
        let unseen = self.unseen(path, &root, text)?;
        Some((root, unseen))
    }

    /// What reading the template `text` of the chart at `root` in place
    /// cannot see, the chart's helpers read first.
    fn unseen(&self, path: &FilePath, root: &FilePath, text: &str) -> Option<render::Unseen> {
        let chart = self.charts.get(root);
        let decided =
            |call: &str| chart.is_some_and(|c| c.helpers.decides(call, c.values.as_ref()));
        render::needs_rendering(text, &self.configuration(path).options, &decided)
    }

    /// For a template reading in place cannot decide and no rendering
    /// judged: what was not evaluated and why (`None` when it was rendered,
    /// or nothing needs rendering).
    pub fn not_evaluated(&self, path: &FilePath, text: &str) -> Option<String> {
        let (root, unseen) = self.rendering_need(path, text)?;
        let relative = relative_to(path, &root);
        let why = match self.renderings.get(&root).map(|r| &r.outcome) {
            Some(render::Outcome::Rendered { sources, .. })
                if sources.get(&relative) == Some(&render::digest(text)) =>
            {
                return None
            }
            Some(render::Outcome::Rendered { .. }) => {
                "the template changed since the chart was rendered".to_string()
            }
            Some(render::Outcome::Failed(message)) => format!("helm template failed: {message}"),
            Some(render::Outcome::NotRendered(why)) => why.clone(),
            None => "the chart was not rendered".to_string(),
        };
        Some(format!(
            "{} was not evaluated ({why}).",
            unseen.describe(text)
        ))
    }

    // ----- questions -----------------------------------------------------

    /// Which files' findings may differ from what they were at `revision`.
    pub fn changed_since(&self, revision: u64) -> Affected {
        if revision < self.everything_at || revision < self.forgotten {
            return Affected::Everything;
        }
        let mut files: BTreeSet<FilePath> = self
            .files
            .iter()
            .filter(|(_, e)| e.revision > revision)
            .map(|(p, _)| p.clone())
            .collect();
        for (_, others) in self.others.iter().filter(|(r, _)| *r > revision) {
            files.extend(others.iter().cloned());
        }
        Affected::Files(files)
    }

    /// The revision at which a file was last fed.
    pub fn file_revision(&self, path: &FilePath) -> Option<u64> {
        self.files.get(path).map(|e| e.revision)
    }

    /// How a file fed to the host is read.
    pub fn kind(&self, path: &FilePath) -> Option<&FileKind> {
        self.files.get(path).map(|e| &e.kind)
    }

    /// The findings of a file the host was fed, from the text it keeps or
    /// the source's.
    pub fn analysis(&self, path: &FilePath) -> Option<FileAnalysis> {
        let entry = self.files.get(path)?;
        match &entry.text {
            Some(text) => Some(self.analyze(path, text)),
            None => Some(self.analyze(path, &self.source.read(path, Need::FedFile)?)),
        }
    }

    /// The findings of `text` at `path` (fed or not), judged against the
    /// workspace as the host knows it: classification, the rule of which
    /// files get findings, the chart or the account index, Kustomize, then
    /// the configuration. `&self`: files can be judged in parallel.
    pub fn analyze(&self, path: &FilePath, text: &str) -> FileAnalysis {
        let configuration = self.configuration(path);
        let options = &configuration.options;
        let kind = match self.files.get(path) {
            Some(entry) => entry.kind.clone(),
            None => charts::classify(&self.source, path, text),
        };
        let (parsed, findings, chart) = match &kind {
            FileKind::Manifest => {
                let parsed = crate::parse(text, options);
                let findings = crate::check(text, &parsed, &self.accounts);
                (parsed, findings, None)
            }
            kind => self.judge_template(path.as_str(), kind, text, &self.accounts, options),
        };
        let findings = if crate::holds_kubernetes_object(text, &parsed) {
            findings
        } else {
            Vec::new()
        };
        FileAnalysis {
            kind,
            findings: self.finish(path, findings),
            line_index: parsed.line_index,
            accounts: parsed.accounts,
            chart,
        }
    }

    /// The Helm path, for a file of `kind` that is not a plain manifest: a
    /// chart template judged with its chart as the host knows it (`name`:
    /// what the chart calls the file), a loose template alone, a helper
    /// never. Returns the parse, the findings as the rule gives them (before
    /// [`AnalysisHost::finish`]) and the chart's folder when the host knows
    /// the chart. An editor judging plain manifests incrementally calls this
    /// for the other kinds; [`AnalysisHost::analyze`] calls it too.
    pub fn judge_template(
        &self,
        name: &str,
        kind: &FileKind,
        text: &str,
        accounts: &dyn crate::AccountLookup,
        options: &crate::Options,
    ) -> (ParsedFile, Vec<Finding>, Option<FilePath>) {
        if *kind == FileKind::ChartHelper || *kind == FileKind::Manifest {
            // Go templates, not YAML: never judged (a manifest is not this
            // path's).
            return (ParsedFile::default(), Vec::new(), None);
        }
        let (chart, root) = match kind {
            FileKind::ChartTemplate(root) => {
                let root = FilePath::from_path(root);
                match self.charts.get(&root) {
                    Some(chart) => (Some(chart), Some(root)),
                    None => (None, None),
                }
            }
            _ => (None, None),
        };
        // The chart's mask of this very text, when it read it for its
        // accounts: the template is not masked again.
        let shared = chart.and_then(|c| c.mask_of(name, text));
        let context = TemplateContext {
            file: name,
            values: chart.and_then(|c| c.values.as_ref()),
            accounts: chart.map_or(&[], |c| c.accounts.as_slice()),
            helpers: chart.map(|c| &c.helpers),
            accounts_read: chart
                .is_some_and(|c| shared.is_some() || c.read_accounts_of(name, text)),
        };
        let template = match shared {
            Some(masked) => Template::parse_with_mask(text, masked, context.values, options),
            None => Template::parse(text, context.values, options),
        };
        let mut findings = helm::check_template(text, &template, &context, accounts);
        if let Some((root, rendering)) = root
            .as_ref()
            .and_then(|root| Some((root, self.renderings.get(root)?)))
        {
            let relative = relative_to(&FilePath::new(name), root);
            let decided =
                |call: &str| chart.is_some_and(|c| c.helpers.decides(call, c.values.as_ref()));
            findings = rendering.apply(&relative, text, findings, accounts, options, &decided);
        }
        (template.parsed, findings, root)
    }

    /// The last step of every analysis, for every front end: the findings
    /// of `path` as the kustomizations deploy it, with what each pod's token
    /// can do (`permissions.rs`), then as the configuration in force wants
    /// them reported. (Never inlined: once a file, and profiles name it.)
    #[inline(never)]
    pub fn finish(&self, path: &FilePath, findings: Vec<Finding>) -> Vec<Finding> {
        let findings = if path.is_detached() {
            findings
        } else {
            // (`adjust` names the file by its key itself.)
            self.kustomize.index.adjust(path.as_str(), findings)
        };
        // What each pod's token can do, before the configuration sets the
        // severity by it.
        let findings = permissions::attach(
            path,
            findings,
            |namespace, account| self.rbac.shared_permissions(namespace, account),
            &self.declaration_lines,
            |file, offsets| self.lines_of_fed(file, offsets),
            |file| {
                self.rbac.objects_of(file).map_or_else(Vec::new, |objects| {
                    let roles = objects.roles.iter().map(|r| r.name_range.start);
                    let bindings = objects.bindings.iter().map(|b| b.name_range.start);
                    roles.chain(bindings).collect()
                })
            },
        );
        self.configuration(path).adjust(findings)
    }

    /// The text the host keeps of a file fed with
    /// [`AnalysisHost::set_file`].
    pub fn kept_text(&self, path: &FilePath) -> Option<&str> {
        self.files.get(path)?.text.as_deref()
    }

    /// What a hover at byte `offset` of a file is about.
    pub fn hover(&self, path: &FilePath, offset: usize) -> Option<HoverFact> {
        let text: Arc<str> = match &self.files.get(path)?.text {
            Some(text) => Arc::clone(text),
            None => Arc::from(self.source.read(path, Need::FedFile)?),
        };
        let analysis = self.analyze(path, &text);
        let offset = offset.min(text.len());
        let line = analysis.line_index.line_of(offset);
        let start = analysis.line_index.line_start(line);
        let line_text = analysis.line_index.line_text(&text, line);
        hover_fact(&analysis.findings, line_text, start, offset)
    }

    // ----- indexes -------------------------------------------------------

    /// The workspace's ServiceAccounts.
    pub fn accounts(&self) -> &AccountIndex {
        &self.accounts
    }

    /// Where the workspace's workloads name their accounts, as fed with
    /// [`FileFacts::uses`].
    pub fn account_uses(&self) -> &UseIndex {
        &self.uses
    }

    /// The roles and bindings of every file fed (chart templates' too).
    pub fn rbac(&self) -> &RbacIndex {
        &self.rbac
    }

    /// What the token of ServiceAccount `account` in `namespace` (`None`:
    /// the namespace it is applied into) can do, by the bindings of every
    /// file fed.
    pub fn permissions(&self, namespace: Option<&str>, account: &str) -> Permissions {
        self.rbac.permissions(namespace, account)
    }

    /// A chart the host read, by its folder.
    pub fn chart(&self, root: &FilePath) -> Option<&ChartView> {
        self.charts.get(root)
    }

    /// Every chart the host read.
    pub fn charts(&self) -> impl Iterator<Item = (&FilePath, &ChartView)> {
        self.charts.iter()
    }

    /// The kustomizations and patch files the host read.
    pub fn kustomizations(&self) -> &KustomizeIndex {
        &self.kustomize.index
    }
}
