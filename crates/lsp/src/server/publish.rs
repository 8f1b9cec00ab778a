//! What the client is sent unasked: each document's diagnostics (built by
//! `State::diagnostics`, sent in order by `publish_in_order`), and the
//! problems of project configuration files (`publish_config_problems`).

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;
use tower_lsp_server::ls_types::{Diagnostic, DiagnosticSeverity, Location, Range, Uri};
use tower_lsp_server::Client;
use tracing::debug;

use tokenguard_analysis::{Finding, TextRange};

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
    pub diagnostics: Vec<Diagnostic>,
}

impl State {
    /// The diagnostics of the document at `key`, which the client calls
    /// `uri`.
    pub fn diagnostics(
        &self,
        key: &DocumentKey,
        uri: &Uri,
        analyzed: &Analyzed,
    ) -> Vec<Diagnostic> {
        let settings = self.settings_for(key);
        if self.silenced(key, &settings) {
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
        let context = format!(
            "{} {encoding:?} {:?} {:?}",
            uri.as_str(),
            settings.severity,
            settings.severity_by_risk
        );
        let live = self.open.get(key).map(|open| open.live);
        let mut cache = live.as_ref().map(|live| live.published.lock());
        let before = cache
            .as_mut()
            .and_then(|c| c.take())
            .filter(|b| b.context == context);
        let reuse = before.as_ref().and_then(|b| Reuse::new(b, analyzed));
        let mut built = Built {
            revision: analyzed.revision,
            context,
            entries: Vec::new(),
        };
        let diagnostics = analyzed
            .visible(&settings)
            .map(|f| {
                let kept = reuse.as_ref().and_then(|r| r.find(f));
                let diagnostic = match kept {
                    Some(d) => with_version(d.clone(), analyzed.version),
                    None => to_diagnostic(f, analyzed, uri, &settings, encoding, &locate),
                };
                built.entries.push((f.clone(), diagnostic.clone()));
                diagnostic
            })
            .collect();
        if let Some(cache) = cache.as_mut() {
            **cache = Some(built);
        }
        diagnostics
    }
}

/// The diagnostics built for one revision, with their findings.
pub struct Built {
    revision: u64,
    /// What else they were built from (the URI, the encoding, the
    /// severity settings): another means building them again.
    context: String,
    entries: Vec<(Finding, Diagnostic)>,
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
}

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
        for (i, (finding, _)) in before.entries.iter().enumerate() {
            by_start.entry(finding.range.start).or_default().push(i);
        }
        Some(Self {
            before,
            start,
            delta,
            unchanged_lines_from,
            by_start,
        })
    }

    /// The entries before whose findings started at `start`.
    fn starting_at(&self, start: usize) -> impl Iterator<Item = &'a (Finding, Diagnostic)> + '_ {
        self.by_start
            .get(&start)
            .into_iter()
            .flatten()
            .map(|&i| &self.before.entries[i])
    }

    /// The diagnostic kept for `finding`, if any.
    fn find(&self, finding: &Finding) -> Option<&'a Diagnostic> {
        let (low, high) = own_places(finding)?;
        if high < self.start {
            // Before the edit: the same finding, the same places.
            return self
                .starting_at(finding.range.start)
                .find(|(f, _)| f == finding)
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
        let start_before = finding.range.start.checked_sub(by)?;
        self.starting_at(start_before)
            .find(|(f, _)| {
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
pub async fn publish_in_order(
    client: Client,
    state: Arc<State>,
    mut queue: mpsc::UnboundedReceiver<Publish>,
) {
    while let Some(p) = queue.recv().await {
        if state.open.revision_of(&p.key) != Some(p.revision) {
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
pub async fn publish_config_problems(client: &Client, state: &State) {
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
        client.publish_diagnostics(uri, Vec::new(), None).await;
    }
    // Two folders may share one file above them: one diagnostic is enough.
    let mut sent: Vec<DocumentKey> = Vec::new();
    for (key, diagnostic) in problems {
        if sent.contains(&key) {
            continue;
        }
        let uri = state.open.client_uri(&key);
        sent.push(key);
        client
            .publish_diagnostics(uri, vec![diagnostic], None)
            .await;
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
    use crate::positions::Encoding;
    use ropey::Rope;
    use tokenguard_analysis::files::FileKind;

    const TEXT: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a # é\nspec:\n  containers: []\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\nspec:\n  template:\n    spec:\n      containers: []\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: c\nspec:\r\n  automountServiceAccountToken: true\r\n  containers: []\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\nautomountServiceAccountToken: true\n";

    fn analyzed(text: &str, revision: u64, changed: Option<Changed>) -> Analyzed {
        Analyzed {
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
        }
    }

    fn build(analyzed: &Analyzed) -> Built {
        let uri: Uri = "file:///ws/a.yaml".parse().unwrap();
        let settings = Settings::default();
        Built {
            revision: analyzed.revision,
            context: String::new(),
            entries: analyzed
                .findings
                .iter()
                .map(|f| {
                    let d =
                        to_diagnostic(f, analyzed, &uri, &settings, Encoding::Utf16, &|_, _| None);
                    (f.clone(), d)
                })
                .collect(),
        }
    }

    /// Every kept diagnostic equals the one built afresh, after insertions
    /// anywhere; and some are kept.
    #[test]
    fn kept_diagnostics_are_those_built_afresh() {
        let mut kept = 0;
        for at in (0..=TEXT.len()).filter(|&i| TEXT.is_char_boundary(i)) {
            for insert in [" ", "x", "\n", "é", "\r", "  # c"] {
                let mut after = TEXT.to_string();
                after.insert_str(at, insert);
                let before = build(&analyzed(TEXT, 1, None));
                let changed = Changed {
                    from: 1,
                    old: TextRange::empty(at),
                    new_len: insert.len(),
                };
                let now = analyzed(&after, 2, Some(changed));
                let fresh = build(&now);
                let Some(reuse) = Reuse::new(&before, &now) else {
                    continue;
                };
                for (finding, diagnostic) in &fresh.entries {
                    if let Some(d) = reuse.find(finding) {
                        assert_eq!(
                            with_version(d.clone(), now.version),
                            *diagnostic,
                            "{insert:?} at {at}"
                        );
                        kept += 1;
                    }
                }
            }
        }
        assert!(kept > 100, "{kept}");
    }
}
