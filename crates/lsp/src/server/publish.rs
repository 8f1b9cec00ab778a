//! What the client is sent unasked: each document's diagnostics (built by
//! `State::rendered`, sent in order by `publish_in_order`), and the
//! problems of project configuration files (`publish_config_problems`).
//!
//! Publishes do not go through tower-lsp-server: each is written once, as
//! the bytes of the whole notification, and handed to the transport's
//! output (`transport::Outbox`), which writes it between the other
//! messages. The bytes are those tower-lsp-server would write (its
//! `Request` of the parameters as a `serde_json::Value`: keys sorted), but a
//! diagnostic kept across keystrokes (`Reuse`) is neither built nor
//! serialised again: its JSON is kept, cut where its version goes
//! (`Rendered`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde_json::Value;
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::Request;
use tower_lsp_server::ls_types::notification::{Notification, PublishDiagnostics};
use tower_lsp_server::ls_types::{
    Diagnostic, DiagnosticSeverity, Location, PublishDiagnosticsParams, Range, Uri,
};
use tracing::{debug, warn};

use tokenguard_analysis::rbac::{Grant, Permissions, RoleSource};
use tokenguard_analysis::{DeclaredAt, Finding, SeverityByRisk, TextRange};

use super::state::State;
use crate::diagnostics::{to_diagnostic, Analyzed};
use crate::identity::DocumentKey;
use crate::positions::to_range;

/// One document's diagnostics, queued for publishing.
pub struct Publish {
    pub key: DocumentKey,
    /// The client's URI of the document.
    pub uri: Uri,
    pub revision: u64,
    pub version: i32,
    pub diagnostics: Vec<Arc<Rendered>>,
}

/// One diagnostic as it is published: its LSP value, and its JSON (as
/// tower-lsp-server writes it) cut where the document's version goes in
/// its `data`, so that a keystroke that keeps it writes it as it is, with
/// the new version.
#[derive(Debug)]
pub struct Rendered {
    /// With the version of the revision it was built for.
    diagnostic: Diagnostic,
    json: Json,
}

#[derive(Debug)]
enum Json {
    /// A diagnostic without a version (a document not analysed, a problem
    /// of configuration).
    Whole(String),
    /// The text before the version's value, and the text after it.
    AroundVersion(String, String),
    /// (Never met: the version could not be found in the text.) Serialised
    /// at each publish.
    Each,
}

/// What stands for the version while a diagnostic is serialised: no
/// version, line or column is negative, and the `"` of a key in a string
/// is written `\"`: `"version":` followed by it is the key, once.
const VERSION_MARK: i64 = i64::MIN;

impl Rendered {
    pub fn new(diagnostic: Diagnostic) -> Self {
        let json = Self::json(&diagnostic);
        Self { diagnostic, json }
    }

    /// A shared one, as [`Publish`] takes them.
    pub fn shared(diagnostic: Diagnostic) -> Arc<Self> {
        Arc::new(Self::new(diagnostic))
    }

    fn json(diagnostic: &Diagnostic) -> Json {
        let Ok(mut value) = serde_json::to_value(diagnostic) else {
            return Json::Each;
        };
        let version = value
            .get_mut("data")
            .and_then(|data| data.get_mut("version"));
        let Some(version) = version else {
            return Json::Whole(value.to_string());
        };
        *version = VERSION_MARK.into();
        let text = value.to_string();
        let mark = format!("\"version\":{VERSION_MARK}");
        let mut found = text.match_indices(&mark);
        match (found.next(), found.next()) {
            (Some((at, _)), None) => {
                let value_at = at + mark.len() - VERSION_MARK.to_string().len();
                Json::AroundVersion(
                    text[..value_at].to_string(),
                    text[at + mark.len()..].to_string(),
                )
            }
            _ => Json::Each,
        }
    }

    /// Whether it is `other`, but for the version in their `data`.
    fn same_but_version(&self, other: &Diagnostic) -> bool {
        let Diagnostic {
            range,
            severity,
            code,
            code_description,
            source,
            message,
            related_information,
            tags,
            data,
        } = &self.diagnostic;
        let same_data = || match (data, &other.data) {
            (Some(Value::Object(a)), Some(Value::Object(b))) => {
                a.len() == b.len()
                    && a.contains_key("version") == b.contains_key("version")
                    && a.iter().all(|(k, v)| k == "version" || b.get(k) == Some(v))
            }
            (a, b) => a == b,
        };
        *range == other.range
            && *message == other.message
            && same_data()
            && *severity == other.severity
            && *code == other.code
            && *code_description == other.code_description
            && *source == other.source
            && *related_information == other.related_information
            && *tags == other.tags
    }

    /// The diagnostic, with `version` in its `data` (when it has one).
    pub fn diagnostic(&self, version: i32) -> Diagnostic {
        with_version(self.diagnostic.clone(), version)
    }

    /// Appends its JSON with `version` in its `data` (when it has one).
    fn write_json(&self, version: i32, out: &mut Vec<u8>) {
        match &self.json {
            Json::Whole(text) => out.extend_from_slice(text.as_bytes()),
            Json::AroundVersion(before, after) => {
                out.extend_from_slice(before.as_bytes());
                out.extend_from_slice(version.to_string().as_bytes());
                out.extend_from_slice(after.as_bytes());
            }
            Json::Each => {
                let value = serde_json::to_value(self.diagnostic(version)).unwrap_or_default();
                out.extend_from_slice(value.to_string().as_bytes());
            }
        }
    }
}

/// The body of the `textDocument/publishDiagnostics` notification of
/// `diagnostics` for the document's `version`, the bytes tower-lsp-server
/// would write for it.
pub fn publish_body(uri: &Uri, diagnostics: &[Arc<Rendered>], version: i32) -> Vec<u8> {
    let size: usize = diagnostics
        .iter()
        .map(|d| match &d.json {
            Json::Whole(text) => text.len(),
            Json::AroundVersion(before, after) => before.len() + after.len() + 11,
            Json::Each => 1024,
        })
        .sum();
    let mut out = Vec::with_capacity(size + diagnostics.len() + uri.as_str().len() + 128);
    out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"method\":");
    out.extend_from_slice(
        Value::from(PublishDiagnostics::METHOD)
            .to_string()
            .as_bytes(),
    );
    out.extend_from_slice(b",\"params\":{\"diagnostics\":[");
    for (i, diagnostic) in diagnostics.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        diagnostic.write_json(version, &mut out);
    }
    out.extend_from_slice(b"],\"uri\":");
    out.extend_from_slice(Value::from(uri.as_str()).to_string().as_bytes());
    out.extend_from_slice(b",\"version\":");
    out.extend_from_slice(version.to_string().as_bytes());
    out.extend_from_slice(b"}}");
    out
}

/// The body tower-lsp-server writes for a publish of `diagnostics` (for
/// the few publishes that are not a document's diagnostics).
fn notification_body(uri: Uri, diagnostics: Vec<Diagnostic>, version: Option<i32>) -> Vec<u8> {
    let params = PublishDiagnosticsParams::new(uri, diagnostics, version);
    let request = Request::build(PublishDiagnostics::METHOD)
        .params(serde_json::to_value(params).unwrap_or_default())
        .finish();
    serde_json::to_vec(&request).unwrap_or_default()
}

/// Publishes `diagnostics` for `uri` (after the session's `initialize`:
/// tower-lsp-server, whose client this replaces, sends no notification
/// before), through the transport's output, in order with every other
/// publish.
pub async fn publish(state: &State, uri: Uri, diagnostics: Vec<Diagnostic>, version: Option<i32>) {
    if state.session.get().is_none() {
        return;
    }
    send(state, notification_body(uri, diagnostics, version)).await;
}

async fn send(state: &State, body: Vec<u8>) {
    if !state.outbox.send(body).await {
        warn!("cannot publish diagnostics: the output is closed");
    }
}

impl State {
    /// The diagnostics of the document at `key`, which the client calls
    /// `uri`, as values (for a pull).
    pub fn diagnostics(
        &self,
        key: &DocumentKey,
        uri: &Uri,
        analyzed: &Arc<Analyzed>,
    ) -> Vec<Diagnostic> {
        self.rendered(key, uri, analyzed)
            .iter()
            .map(|d| d.diagnostic(analyzed.version))
            .collect()
    }

    /// The diagnostics of the document at `key`, which the client calls
    /// `uri`, ready to be written: those of the revision before that the
    /// edit did not change are kept (`Reuse`), the others built.
    pub fn rendered(
        &self,
        key: &DocumentKey,
        uri: &Uri,
        analyzed: &Arc<Analyzed>,
    ) -> Vec<Arc<Rendered>> {
        let settings = self.settings_for(key);
        if self.silenced(key, &settings) {
            return Vec::new();
        }
        if let Some(too_large) = analyzed.too_large {
            return vec![Rendered::shared(too_large.diagnostic())];
        }
        let encoding = self.session().encoding;
        let locate = |origin: Option<&str>, range: TextRange| {
            let (target, rope) = self.file_of(origin?)?;
            Some(Location::new(target, to_range(&rope, range, encoding)))
        };
        let context = Context {
            uri: uri.clone(),
            encoding,
            severity: settings.severity,
            severity_by_risk: settings.severity_by_risk.clone(),
        };
        let live = self.open.get(key).map(|open| open.live);
        let mut cache = live.as_ref().map(|live| live.published.lock());
        let before = cache
            .as_mut()
            .and_then(|c| c.take())
            .filter(|b| b.context == context);
        let own = super::workspace_store::host_path(key).map(|p| p.as_str().to_string());
        let reuse = before
            .as_ref()
            .and_then(|b| Reuse::new(b, analyzed))
            .map(|r| r.in_file(own));
        let mut built = Built {
            revision: analyzed.revision,
            context,
            analyzed: Arc::clone(analyzed),
            entries: Vec::new(),
        };
        let mut kept = 0;
        // Where each visible finding is among all (they come in order).
        let mut index = 0;
        let rendered = analyzed
            .visible(&settings)
            .map(|f| {
                while !std::ptr::eq(&analyzed.findings[index], f) {
                    index += 1;
                }
                let rendered = match reuse.as_ref().and_then(|r| r.find(f)) {
                    Some(d) => {
                        kept += 1;
                        Arc::clone(d)
                    }
                    None => {
                        let built = to_diagnostic(f, analyzed, uri, &settings, encoding, &locate);
                        // The same diagnostic as one before (its finding
                        // changed in what the diagnostic does not show):
                        // its JSON is kept.
                        match reuse.as_ref().and_then(|r| r.same_diagnostic(&built)) {
                            Some(d) => {
                                kept += 1;
                                Arc::clone(d)
                            }
                            None => Rendered::shared(built),
                        }
                    }
                };
                built.entries.push((index, Arc::clone(&rendered)));
                rendered
            })
            .collect();
        debug!(
            "diagnostics of {}: {kept} of {} kept",
            uri.as_str(),
            built.entries.len()
        );
        if let Some(cache) = cache.as_mut() {
            **cache = Some(built);
        }
        drop(cache);
        // The revision before (its findings, its diagnostics), most often
        // held by nothing else now.
        drop(reuse);
        drop_later(before);
        rendered
    }
}

/// Drops `garbage` on a thread of its own: freeing the findings and the
/// diagnostics of the revision before (tens of findings of many strings
/// each) takes about as long as building the new ones, and the publish
/// need not wait for it.
fn drop_later<T: Send + 'static>(garbage: T) {
    type Garbage = Box<dyn Send>;
    static TRASH: OnceLock<Option<std::sync::mpsc::Sender<Garbage>>> = OnceLock::new();
    let trash = TRASH.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel::<Garbage>();
        std::thread::Builder::new()
            .name("tokenguard-drop".to_string())
            .spawn(move || receiver.into_iter().for_each(drop))
            .ok()?;
        Some(sender)
    });
    let garbage: Garbage = Box::new(garbage);
    // (Dropped here when there is no such thread.)
    if let Some(trash) = trash {
        let _ = trash.send(garbage);
    }
}

/// What else than the findings diagnostics are built from: another means
/// building them again.
#[derive(Debug, PartialEq)]
struct Context {
    uri: Uri,
    encoding: crate::positions::Encoding,
    severity: crate::config::SeveritySetting,
    severity_by_risk: SeverityByRisk,
}

/// The diagnostics built for one revision, with their findings.
pub struct Built {
    revision: u64,
    context: Context,
    /// The analysis they were built from (shared with the document's:
    /// no finding is copied).
    analyzed: Arc<Analyzed>,
    /// Each with the index of its finding in `analyzed.findings`.
    entries: Vec<(usize, Arc<Rendered>)>,
}

impl Built {
    /// The entry at `i`: its finding and its diagnostic.
    fn entry(&self, i: usize) -> (&Finding, &Arc<Rendered>) {
        let (finding, rendered) = &self.entries[i];
        (&self.analyzed.findings[*finding], rendered)
    }

    fn entries(&self) -> impl Iterator<Item = (&Finding, &Arc<Rendered>)> {
        (0..self.entries.len()).map(|i| self.entry(i))
    }
}

/// Which diagnostics of the revision before an edit stay: those of findings
/// equal to one before it, every place of which (in this file) is before
/// the edit, or on a line after the edit's when the edit neither made nor
/// removed a line break (moved by the edit's length, on the same lines and
/// columns).
struct Reuse<'a> {
    before: &'a Built,
    /// The edit's start, and the length it added (negative: removed).
    start: usize,
    delta: isize,
    /// Where the lines after the edit's start (in the new text), when the
    /// edit changed no line break: places from there on moved by `delta`.
    unchanged_lines_from: Option<usize>,
    /// The entries before, by where their findings start.
    by_start: HashMap<usize, Vec<usize>>,
    /// This file as the analysis host names it (in the places findings
    /// name: their bindings and roles, with their lines).
    own: Option<String>,
    /// [`Follow::same_permissions`]'s answers, by the pair of permissions
    /// compared (before, now): the findings of one account share theirs,
    /// and the follow is the same for every finding of this edit. Each
    /// pair is held, so that neither address can be another's meanwhile.
    same: RefCell<SamePermissions>,
}

/// [`Reuse::same`]: each answer with the pair it is for.
type SamePermissions = HashMap<(usize, usize), (Arc<Permissions>, Arc<Permissions>, bool)>;

impl<'a> Reuse<'a> {
    fn new(before: &'a Built, analyzed: &Analyzed) -> Option<Self> {
        let changed = analyzed.changed?;
        if changed.from != before.revision {
            return None;
        }
        let rope = &analyzed.rope;
        let (start, new_end) = (changed.old.start, changed.old.start + changed.new_len);
        if new_end > rope.len_bytes() {
            return None;
        }
        let delta = changed.new_len as isize - changed.old.len() as isize;
        // Line breaks: none written, none removed (the old text's removed
        // bytes are unknown here: the edit must remove nothing, or the
        // number of lines tells), none split or joined (a CR before it).
        let written = rope.get_byte_slice(start..new_end)?;
        let breaks_written = written.chars().any(|c| c == '\n' || c == '\r');
        let cr_before = start > 0 && rope.byte(start - 1) == b'\r';
        let lines_kept = changed.old.is_empty() && !breaks_written && !cr_before;
        let unchanged_lines_from = lines_kept
            .then(|| {
                let line = rope.byte_to_line(new_end);
                (line + 1 < rope.len_lines()).then(|| rope.line_to_byte(line + 1))
            })
            .flatten();
        let mut by_start: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, (finding, _)) in before.entries().enumerate() {
            by_start.entry(finding.range.start).or_default().push(i);
        }
        Some(Self {
            before,
            start,
            delta,
            unchanged_lines_from,
            by_start,
            own: None,
            same: RefCell::default(),
        })
    }

    /// The same, knowing this file's name as the analysis host has it.
    fn in_file(mut self, own: Option<String>) -> Self {
        self.own = own;
        self
    }

    /// The entries before whose findings started at `start`.
    fn starting_at(
        &self,
        start: usize,
    ) -> impl Iterator<Item = (&'a Finding, &'a Arc<Rendered>)> + '_ {
        self.by_start
            .get(&start)
            .into_iter()
            .flatten()
            .map(|&i| self.before.entry(i))
    }

    /// A diagnostic before that is `built` but for its version.
    fn same_diagnostic(&self, built: &Diagnostic) -> Option<&'a Arc<Rendered>> {
        self.before
            .entries
            .iter()
            .map(|(_, rendered)| rendered)
            .find(|rendered| rendered.same_but_version(built))
    }

    /// The diagnostic kept for `finding`, if any.
    fn find(&self, finding: &Finding) -> Option<&'a Arc<Rendered>> {
        self.find_whole(finding)
            .or_else(|| self.find_followed(finding))
    }

    /// A finding whose places (its own, and those its permissions name in
    /// this file: bindings, roles, with their lines) are each before the
    /// edit or on a line after the edit's, equal to one before the edit
    /// with those places followed: its diagnostic is the same (same
    /// lines and columns, same words).
    fn find_followed(&self, finding: &Finding) -> Option<&'a Arc<Rendered>> {
        let follow = Follow {
            start: self.start,
            by: usize::try_from(self.delta).ok()?,
            from: self.unchanged_lines_from?,
        };
        let own = self.own.as_deref()?;
        let start = finding.range.start;
        let start_before = if start < self.start {
            start
        } else if start >= follow.from {
            start - follow.by
        } else {
            return None;
        };
        self.starting_at(start_before)
            .find(|(before, _)| {
                // (The words first: a finding of other words is another.)
                if before.message != finding.message || before.code != finding.code {
                    return false;
                }
                let Some(mut moved) = follow.finding(before, own) else {
                    return false;
                };
                match (&moved.permissions, &finding.permissions) {
                    (Some(a), Some(b)) => {
                        if !Arc::ptr_eq(a, b) && !self.same_permissions(&follow, a, b, own) {
                            return false;
                        }
                        moved.permissions = Some(Arc::clone(b));
                    }
                    (None, None) => {}
                    _ => return false,
                }
                moved == *finding
            })
            .map(|(_, d)| d)
    }

    /// [`Follow::same_permissions`], worked out once per pair.
    fn same_permissions(
        &self,
        follow: &Follow,
        before: &Arc<Permissions>,
        after: &Arc<Permissions>,
        own: &str,
    ) -> bool {
        let key = (Arc::as_ptr(before) as usize, Arc::as_ptr(after) as usize);
        if let Some((_, _, same)) = self.same.borrow().get(&key) {
            return *same;
        }
        let same = follow.same_permissions(before, after, own);
        self.same
            .borrow_mut()
            .insert(key, (Arc::clone(before), Arc::clone(after), same));
        same
    }

    /// A finding whose every place is before the edit, or after it as a
    /// whole (moved by the insertion, its account too when this file
    /// declares it).
    fn find_whole(&self, finding: &Finding) -> Option<&'a Arc<Rendered>> {
        let (low, high) = own_places(finding)?;
        if high < self.start {
            // Before the edit: the same finding, the same places.
            return self
                .starting_at(finding.range.start)
                .find(|(f, _)| *f == finding)
                .map(|(_, d)| d);
        }
        let from = self.unchanged_lines_from?;
        if low < from {
            return None;
        }
        // After the edit's line (an insertion: `delta` >= 0): the finding
        // before, moved, with its account when this file declares it (after
        // the edit too: it is one of the places).
        let by = usize::try_from(self.delta).ok()?;
        // (Its permissions name a place of this file after the edit, which
        // moved: the finding before, moved, names it where it was; so does
        // its answer. Only following them can tell: `find_followed`.)
        if by > 0 {
            if let Some(own) = self.own.as_deref() {
                let moved = |d: &DeclaredAt| d.file == own && d.range.start >= self.start;
                if finding.declared_at.iter().any(moved) {
                    return None;
                }
            }
        }
        let start_before = finding.range.start.checked_sub(by)?;
        self.starting_at(start_before)
            .find(|(f, _)| {
                if f.message != finding.message || f.code != finding.code {
                    return false;
                }
                let mut moved = f.shifted(by);
                if let Some(found) = moved.account.as_mut().and_then(|a| a.found.as_mut()) {
                    if found.origin.is_none() {
                        found.account = found.account.shifted(by);
                    }
                }
                moved == *finding
            })
            .map(|(_, d)| d)
    }
}

/// Where the places of the text before an insertion that wrote no line
/// break are now: those before it stay, those on a line after its line
/// moved by its length; any other (on its line, after it) has no answer.
struct Follow {
    /// Where the insertion is.
    start: usize,
    /// Its length.
    by: usize,
    /// Where the lines after its line start, in the text after it.
    from: usize,
}

impl Follow {
    fn range(&self, range: TextRange) -> Option<TextRange> {
        if range.end <= self.start {
            Some(range)
        } else if range.start + self.by >= self.from {
            Some(range.shifted(self.by as isize))
        } else if range.start < self.start && range.end + self.by >= self.from {
            // Around the insertion: its start stays, its end (on a line
            // after the insertion's) moved.
            Some(TextRange::new(range.start, range.end + self.by))
        } else {
            None
        }
    }

    fn offset(&self, offset: usize) -> Option<usize> {
        self.range(TextRange::empty(offset)).map(|r| r.start)
    }

    /// `finding` (before the insertion) with its places in this file
    /// followed, but its permissions, which [`Follow::same_permissions`]
    /// compares; `None` when a place cannot be followed.
    fn finding(&self, finding: &Finding, own: &str) -> Option<Finding> {
        let mut moved = finding.clone();
        moved.range = self.range(moved.range)?;
        if let Some(pod_spec) = moved.pod_spec {
            moved.pod_spec = Some(self.range(pod_spec)?);
        }
        for related in moved.related.iter_mut().filter(|r| r.file.is_none()) {
            related.range = self.range(related.range)?;
        }
        if let Some(fix) = moved.fix.as_mut().filter(|fix| fix.file.is_none()) {
            for edit in &mut fix.edits {
                edit.range = self.range(edit.range)?;
            }
        }
        if let Some(found) = moved.account.as_mut().and_then(|a| a.found.as_mut()) {
            if found.origin.is_none() {
                let account = &mut found.account;
                account.name_range = self.range(account.name_range)?;
                if let Some(key) = account.automount_key {
                    account.automount_key = Some(self.range(key)?);
                }
                if let Some(value) = account.automount_value {
                    account.automount_value = Some(self.range(value)?);
                }
                account.object = self.range(account.object)?;
                if let Some(key) = account.first_key {
                    account.first_key = Some(self.range(key)?);
                }
            }
        }
        if moved.declared_at.iter().any(|d| d.file == own) {
            let declared_at = Arc::make_mut(&mut moved.declared_at);
            for at in declared_at.iter_mut().filter(|d| d.file == own) {
                at.range = self.range(at.range)?;
                at.line_start = self.offset(at.line_start)?;
            }
        }
        Some(moved)
    }

    /// Whether `after` is `before` with its places in this file followed.
    fn same_permissions(&self, before: &Permissions, after: &Permissions, own: &str) -> bool {
        let place = |a: &Option<(String, TextRange)>, b: &Option<(String, TextRange)>| match (a, b)
        {
            (Some((fa, ra)), Some((fb, rb))) if fa == fb => {
                if fa == own {
                    self.range(*ra) == Some(*rb)
                } else {
                    ra == rb
                }
            }
            (None, None) => true,
            _ => false,
        };
        let role = |a: &RoleSource, b: &RoleSource| match (a, b) {
            (
                RoleSource::Declared {
                    kind: ka,
                    name: na,
                    file: fa,
                    range: ra,
                },
                RoleSource::Declared {
                    kind: kb,
                    name: nb,
                    file: fb,
                    range: rb,
                },
            ) => {
                ka == kb
                    && na == nb
                    && fa == fb
                    && if fa == own {
                        self.range(*ra) == Some(*rb)
                    } else {
                        ra == rb
                    }
            }
            (a, b) => a == b,
        };
        let grants = |a: &[Grant], b: &[Grant]| {
            a.len() == b.len()
                && a.iter().zip(b).all(|(a, b)| {
                    a.binding_kind == b.binding_kind
                        && a.binding == b.binding
                        && a.binding_namespace == b.binding_namespace
                        && place(&a.binding_place, &b.binding_place)
                        && a.via == b.via
                        && role(&a.role, &b.role)
                        && a.scope == b.scope
                        && a.rules == b.rules
                        && a.capabilities == b.capabilities
                })
        };
        before.namespace == after.namespace
            && before.account == after.account
            && before.risk == after.risk
            && grants(&before.grants, &after.grants)
            && grants(&before.defaults, &after.defaults)
    }
}

/// The lowest and highest byte of this file a finding's diagnostic points
/// at (its range, its fix's edits, its related places and account in this
/// file); `None` when there is no such byte.
fn own_places(finding: &Finding) -> Option<(usize, usize)> {
    let mut ranges = vec![finding.range];
    if let Some(fix) = finding.fix.as_ref().filter(|fix| fix.file.is_none()) {
        ranges.extend(fix.edits.iter().map(|e| e.range));
    }
    ranges.extend(
        finding
            .related
            .iter()
            .filter(|r| r.file.is_none())
            .map(|r| r.range),
    );
    if let Some(found) = finding.account.as_ref().and_then(|a| a.found.as_ref()) {
        if found.origin.is_none() {
            ranges.push(found.account.name_range);
        }
    }
    let low = ranges.iter().map(|r| r.start).min()?;
    let high = ranges.iter().map(|r| r.end).max()?;
    Some((low, high))
}

/// A kept diagnostic with this revision's version in its `data`.
fn with_version(mut diagnostic: Diagnostic, version: i32) -> Diagnostic {
    if let Some(data) = diagnostic.data.as_mut().and_then(|d| d.as_object_mut()) {
        data.insert("version".to_string(), version.into());
    }
    diagnostic
}

/// Sends diagnostics one at a time, in the order analyses finish, dropping
/// any whose revision is no longer the document's: an old result can never
/// overwrite a newer one.
pub async fn publish_in_order(state: Arc<State>, mut queue: mpsc::UnboundedReceiver<Publish>) {
    while let Some(p) = queue.recv().await {
        let body = publish_body(&p.uri, &p.diagnostics, p.version);
        // Decided where it is queued: a document closed (or edited) before
        // is not published; one closed after gets its empty publish after.
        let current = || state.open.revision_of(&p.key) == Some(p.revision);
        let mut outdated = false;
        let sent = state
            .outbox
            .send_if(|| {
                outdated = !current();
                (!outdated).then_some(body)
            })
            .await;
        if outdated {
            debug!(
                "dropping diagnostics of an outdated revision of {}",
                p.uri.as_str()
            );
        } else if !sent {
            warn!("cannot publish diagnostics: the output is closed");
        } else {
            debug!(
                "published {} diagnostics for {} version {}",
                p.diagnostics.len(),
                p.uri.as_str(),
                p.version
            );
        }
    }
}

/// Publishes the diagnostic of every project configuration that could not
/// be used, and clears those of files that are fine again.
pub async fn publish_config_problems(state: &State) {
    let problems = state.store.config_problems();
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
        let uri = state.open.client_uri(&key);
        publish(state, uri, Vec::new(), None).await;
    }
    // Two folders may share one file above them: one diagnostic is enough.
    let mut sent: Vec<DocumentKey> = Vec::new();
    for (key, diagnostic) in problems {
        if sent.contains(&key) {
            continue;
        }
        let uri = state.open.client_uri(&key);
        sent.push(key);
        publish(state, uri, vec![diagnostic], None).await;
    }
}

/// The one diagnostic of a document whose analysis panicked.
pub fn analysis_failed() -> Diagnostic {
    Diagnostic {
        range: Range::default(),
        severity: Some(DiagnosticSeverity::ERROR),
        source: Some(crate::diagnostics::SOURCE.to_string()),
        message: "tokenguard could not analyse this document (internal error; the server log has details)".to_string(),
        ..Diagnostic::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::diagnostics::Changed;
    use crate::diagnostics::TooLarge;
    use crate::positions::Encoding;
    use ropey::Rope;
    use tokenguard_analysis::files::FileKind;

    const TEXT: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a # é\nspec:\n  containers: []\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\nspec:\n  template:\n    spec:\n      containers: []\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: c\nspec:\r\n  automountServiceAccountToken: true\r\n  containers: []\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\nautomountServiceAccountToken: true\n";

    fn analyzed(text: &str, revision: u64, changed: Option<Changed>) -> Arc<Analyzed> {
        Arc::new(Analyzed {
            revision,
            version: revision as i32,
            rope: Rope::from_str(text),
            findings: tokenguard_analysis::analyze(
                text,
                &tokenguard_analysis::NoAccounts,
                tokenguard_analysis::Options::builtin(),
            ),
            accounts: Vec::new(),
            rbac: None,
            too_large: None,
            kind: FileKind::Manifest,
            changed,
            store: None,
        })
    }

    fn context() -> Context {
        Context {
            uri: "file:///ws/a.yaml".parse().unwrap(),
            encoding: Encoding::Utf16,
            severity: Default::default(),
            severity_by_risk: Default::default(),
        }
    }

    fn build(analyzed: &Arc<Analyzed>) -> Built {
        let uri: Uri = "file:///ws/a.yaml".parse().unwrap();
        let settings = Settings::default();
        Built {
            revision: analyzed.revision,
            context: context(),
            analyzed: Arc::clone(analyzed),
            entries: analyzed
                .findings
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let d =
                        to_diagnostic(f, analyzed, &uri, &settings, Encoding::Utf16, &|_, _| None);
                    (i, Rendered::shared(d))
                })
                .collect(),
        }
    }

    /// Every kept diagnostic equals the one built afresh, after insertions
    /// anywhere; and some are kept.
    #[test]
    fn kept_diagnostics_are_those_built_afresh() {
        let mut kept = 0;
        let before = build(&analyzed(TEXT, 1, None));
        let inserts = [" ", "x", "\n", "é", "\r", "  # c"];
        let plain = Hosting::Plain;
        each_insertion(
            TEXT,
            0,
            &inserts,
            &before,
            plain,
            |at, insert, now, fresh: &Built, reuse: &Reuse<'_>| {
                let edit = format!("{insert:?} at {at}");
                kept += kept_of(fresh, reuse, now.version, &edit)
                    .iter()
                    .filter(|(_, is_kept)| *is_kept)
                    .count();
            },
        );
        assert!(kept > 100, "{kept}");
    }

    const BOUND: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: prod\nspec:\n  serviceAccountName: ci\n  containers: []\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: ci-reads\n  namespace: prod\nroleRef:\n  kind: Role\n  name: reader\nsubjects:\n- kind: ServiceAccount\n  name: ci\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader\n  namespace: prod\nrules:\n- apiGroups: [\"\"]\n  resources: [secrets]\n  verbs: [get]\n";

    const OWN: &str = "/ws/a.yaml";

    /// `text` analysed by the host, which knows its RBAC objects: the pod's
    /// finding names the binding and the role after it.
    fn hosted(text: &str, revision: u64, changed: Option<Changed>) -> Arc<Analyzed> {
        use tokenguard_analysis::host::{AnalysisHost, FilePath, NoFiles};
        let mut host = AnalysisHost::new(NoFiles);
        let path = FilePath::new(OWN);
        host.set_file(path.clone(), text.to_string());
        let mut analyzed = Arc::into_inner(analyzed(text, revision, changed)).unwrap();
        analyzed.findings = host.analysis(&path).unwrap().findings;
        Arc::new(analyzed)
    }

    /// How a test's texts are analysed: alone (`analyzed`, `build`), or by
    /// a host that knows their RBAC objects (`hosted`, `build_hosted`).
    #[derive(Clone, Copy)]
    enum Hosting {
        Plain,
        Hosted,
    }

    /// Inserts each of `inserts` at every character boundary of `text` from
    /// `from` on, and hands `check` each insertion (where, what), the
    /// analysis after it, its diagnostics built afresh, and what `built`
    /// keeps of them (insertions nothing can be kept for are skipped).
    fn each_insertion(
        text: &str,
        from: usize,
        inserts: &[&str],
        built: &Built,
        hosting: Hosting,
        mut check: impl FnMut(usize, &str, &Arc<Analyzed>, &Built, &Reuse<'_>),
    ) {
        for at in (from..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            for insert in inserts {
                let mut after = text.to_string();
                after.insert_str(at, insert);
                let changed = Changed {
                    from: 1,
                    old: TextRange::empty(at),
                    new_len: insert.len(),
                };
                let now = match hosting {
                    Hosting::Plain => analyzed(&after, 2, Some(changed)),
                    Hosting::Hosted => hosted(&after, 2, Some(changed)),
                };
                let fresh = match hosting {
                    Hosting::Plain => build(&now),
                    Hosting::Hosted => build_hosted(&now),
                };
                let Some(reuse) = Reuse::new(built, &now) else {
                    continue;
                };
                let reuse = match hosting {
                    Hosting::Plain => reuse,
                    Hosting::Hosted => reuse.in_file(Some(OWN.to_string())),
                };
                check(at, insert, &now, &fresh, &reuse);
            }
        }
    }

    /// The findings built afresh, each with whether `reuse` keeps its
    /// diagnostic; every kept diagnostic is checked to equal the one built
    /// afresh (`edit` names the edit in the failure).
    fn kept_of<'f>(
        fresh: &'f Built,
        reuse: &Reuse<'_>,
        version: i32,
        edit: &str,
    ) -> Vec<(&'f Finding, bool)> {
        fresh
            .entries()
            .map(|(finding, diagnostic)| {
                let kept = reuse.find(finding);
                if let Some(kept) = kept {
                    assert_eq!(kept.diagnostic(version), diagnostic.diagnostic, "{edit}");
                }
                (finding, kept.is_some())
            })
            .collect()
    }

    fn build_hosted(analyzed: &Arc<Analyzed>) -> Built {
        let uri: Uri = "file:///ws/a.yaml".parse().unwrap();
        let settings = Settings::default();
        let locate = |file: Option<&str>, range: TextRange| {
            (file == Some(OWN)).then(|| {
                Location::new(
                    uri.clone(),
                    to_range(&analyzed.rope, range, Encoding::Utf16),
                )
            })
        };
        Built {
            revision: analyzed.revision,
            context: context(),
            analyzed: Arc::clone(analyzed),
            entries: analyzed
                .findings
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let d = to_diagnostic(f, analyzed, &uri, &settings, Encoding::Utf16, &locate);
                    (i, Rendered::shared(d))
                })
                .collect(),
        }
    }

    /// A finding whose binding and role are after an insertion keeps its
    /// diagnostic when the insertion is on another line, and every kept
    /// diagnostic equals the one built afresh.
    #[test]
    fn findings_whose_permissions_moved_keep_their_diagnostics() {
        let before = hosted(BOUND, 1, None);
        assert!(before.findings.iter().any(|f| f
            .declared_at
            .iter()
            .any(|d| d.file == OWN && d.range.start > f.range.end)));
        let built = build_hosted(&before);
        let (mut followed, mut rebuilt) = (0, 0);
        let inserts = [" ", "x", "\n", "é", "  # c"];
        each_insertion(
            BOUND,
            0,
            &inserts,
            &built,
            Hosting::Hosted,
            |at, insert, now, fresh, reuse| {
                let edit = format!("{insert:?} at {at}");
                for (finding, is_kept) in kept_of(fresh, reuse, now.version, &edit) {
                    if !is_kept {
                        rebuilt += 1;
                    } else if reuse.find_whole(finding).is_none() {
                        followed += 1;
                    }
                }
            },
        );
        assert!(followed > 50, "{followed} followed, {rebuilt} rebuilt");
        assert!(rebuilt > 0);
    }

    /// Pods of one account share their permissions: whether those are the
    /// same but for the places followed is worked out once per pair for
    /// the findings of an edit, and each kept diagnostic still equals the
    /// one built afresh (edits in the role's rules change the permissions
    /// of both findings).
    #[test]
    fn findings_of_one_account_compare_their_permissions_once() {
        let pod = |name: &str| {
            format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: prod\nspec:\n  serviceAccountName: ci\n  containers: []\n---\n")
        };
        let objects = &BOUND[BOUND.find("apiVersion: rbac").unwrap()..];
        let text = format!("{}{}{objects}", pod("a"), pod("b"));
        let before = hosted(&text, 1, None);
        let shared: Vec<&Arc<Permissions>> = before
            .findings
            .iter()
            .filter_map(|f| f.permissions.as_ref())
            .collect();
        assert_eq!(shared.len(), 2);
        assert!(Arc::ptr_eq(shared[0], shared[1]));
        let built = build_hosted(&before);
        let (mut once, mut rebuilt) = (0, 0);
        let start = text.find("apiVersion: rbac").unwrap();
        each_insertion(
            &text,
            start,
            &["x", "  # c"],
            &built,
            Hosting::Hosted,
            |at, insert, now, fresh, reuse| {
                let edit = format!("{insert:?} at {at}");
                let kept = kept_of(fresh, reuse, now.version, &edit);
                let followed = kept.iter().filter(|(_, is_kept)| *is_kept).count();
                rebuilt += kept.len() - followed;
                if followed == 2 && reuse.same.borrow().len() == 1 {
                    once += 1;
                }
            },
        );
        assert!(once > 20, "{once} edits compared once, {rebuilt} rebuilt");
        assert!(rebuilt > 0);
    }

    /// A finding whose account is declared in this file, after an edit on
    /// another line, keeps its diagnostic: the account's object and first
    /// key are followed too (they are compared with the rest).
    #[test]
    fn findings_whose_account_follows_the_edit_keep_their_diagnostics() {
        let text = format!(
            "{BOUND}---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ci\n  namespace: prod\n"
        );
        let before = hosted(&text, 1, None);
        assert!(before.findings.iter().any(|f| f
            .account
            .as_ref()
            .and_then(|a| a.found.as_ref())
            .is_some_and(|found| found.origin.is_none())));
        let built = build_hosted(&before);
        // The end of each line before the account's object, but the lines
        // the words quote (a binding's, a role's).
        let quoted: Vec<usize> = before
            .findings
            .iter()
            .flat_map(|f| f.declared_at.iter().map(|d| d.line_start))
            .collect();
        let object = text.rfind("apiVersion: v1\nkind: ServiceAccount").unwrap();
        let ends: Vec<usize> = text[..object]
            .match_indices('\n')
            .map(|(at, _)| at)
            .filter(|&at| !quoted.contains(&(text[..at].rfind('\n').map_or(0, |i| i + 1))))
            .collect();
        assert!(ends.len() > 20);
        for at in ends {
            let mut after = text.clone();
            after.insert(at, ' ');
            let changed = Changed {
                from: 1,
                old: TextRange::empty(at),
                new_len: 1,
            };
            let now = hosted(&after, 2, Some(changed));
            let fresh = build_hosted(&now);
            let reuse = Reuse::new(&built, &now)
                .unwrap()
                .in_file(Some(OWN.to_string()));
            let edit = format!("a blank at {at}");
            for (finding, is_kept) in kept_of(&fresh, &reuse, now.version, &edit) {
                assert!(is_kept, "{edit} rebuilt {finding:?}");
            }
        }
    }

    /// What tower-lsp-server writes for a publish.
    fn tower_body(uri: &Uri, diagnostics: Vec<Diagnostic>, version: Option<i32>) -> String {
        let params = PublishDiagnosticsParams::new(uri.clone(), diagnostics, version);
        let request = Request::build(PublishDiagnostics::METHOD)
            .params(serde_json::to_value(params).unwrap())
            .finish();
        serde_json::to_string(&request).unwrap()
    }

    /// The bytes written for a publish are tower-lsp-server's, for kept
    /// diagnostics with another version too, and whatever the words hold.
    #[test]
    fn publishes_are_written_as_tower_lsp_server_writes_them() {
        let uri: Uri = "file:///ws/a%20b.yaml".parse().unwrap();
        let mut diagnostics: Vec<Diagnostic> = [
            build(&analyzed(TEXT, 1, None)),
            build_hosted(&hosted(BOUND, 1, None)),
        ]
        .iter()
        .flat_map(|built| {
            built
                .entries()
                .map(|(_, d)| d.diagnostic(1))
                .collect::<Vec<_>>()
        })
        .collect();
        assert!(diagnostics.len() > 3);
        assert!(diagnostics.iter().any(|d| d.related_information.is_some()));
        let tricky = format!("\"version\":{VERSION_MARK} \\\"version\":{VERSION_MARK} é \u{1F600}");
        diagnostics.push(Diagnostic {
            message: tricky.clone(),
            data: Some(serde_json::json!({"version": 1, "fix": {"title": tricky}, "risk": "x"})),
            ..Diagnostic::default()
        });
        diagnostics.push(TooLarge { size: 9, limit: 1 }.diagnostic());
        diagnostics.push(analysis_failed());
        let rendered: Vec<Arc<Rendered>> =
            diagnostics.iter().cloned().map(Rendered::shared).collect();
        assert!(rendered.iter().all(|r| !matches!(r.json, Json::Each)));
        for version in [1, -3, 0, i32::MAX, i32::MIN] {
            let now: Vec<Diagnostic> = rendered.iter().map(|r| r.diagnostic(version)).collect();
            let written = String::from_utf8(publish_body(&uri, &rendered, version)).unwrap();
            assert_eq!(
                written,
                tower_body(&uri, now, Some(version)),
                "version {version}"
            );
        }
        assert_eq!(
            String::from_utf8(publish_body(&uri, &[], 2)).unwrap(),
            tower_body(&uri, Vec::new(), Some(2))
        );
        assert_eq!(
            String::from_utf8(notification_body(uri.clone(), diagnostics.clone(), Some(5)))
                .unwrap(),
            tower_body(&uri, diagnostics, Some(5))
        );
    }

    #[test]
    fn a_diagnostic_is_the_same_but_for_its_version() {
        let built = build(&analyzed(TEXT, 1, None));
        let (_, rendered) = built.entries().next().unwrap();
        let again = rendered.diagnostic(9);
        assert!(rendered.same_but_version(&again));
        assert!(rendered.same_but_version(&rendered.diagnostic(1)));
        let mut other = again.clone();
        other.message.push('.');
        assert!(!rendered.same_but_version(&other));
        let mut other = again.clone();
        other.data.as_mut().unwrap()["fix"] = Value::Null;
        assert!(!rendered.same_but_version(&other));
        let mut other = again.clone();
        other
            .data
            .as_mut()
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("version");
        assert!(!rendered.same_but_version(&other));
        other.range.start.character += 1;
        assert!(!rendered.same_but_version(&other));
    }
}
