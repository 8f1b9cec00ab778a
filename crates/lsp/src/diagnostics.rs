//! One analysis of one document snapshot, and its translation into LSP
//! diagnostics.

use std::sync::Arc;

use ropey::Rope;
use serde_json::json;
use tower_lsp_server::ls_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Uri,
};

use tokenguard_analysis::files::FileKind;
use tokenguard_analysis::host::ShiftEdit;
use tokenguard_analysis::{
    render, AccountLookup, Code, Finding, IncrementalFile, Options, ServiceAccount, TextRange,
};

use crate::config::Settings;
use crate::documents::Document;
use crate::positions::{to_range, Encoding};
use tokenguard_analysis::rbac::{EditedLines, RbacFacts, RbacObjects, MAX_EDITED_LINES};

pub const SOURCE: &str = "tokenguard";
/// Kubernetes' documentation of the setting (the analysis's hovers link it too).
pub use tokenguard_analysis::render::DOCS_URL;

/// The analysis of one revision of a document.
#[derive(Debug)]
pub struct Analyzed {
    pub revision: u64,
    pub version: i32,
    pub rope: Rope,
    /// Empty for YAML that holds no Kubernetes object
    /// (`tokenguard_analysis::holds_kubernetes_object`).
    pub findings: Vec<Finding>,
    pub accounts: Vec<ServiceAccount>,
    /// The roles and bindings of a plain manifest (`None` for a Helm file,
    /// or a text not analysed; the scheduler takes them out for the
    /// workspace store before the analysis is shared).
    pub rbac: Option<OwnRbac>,
    /// Set when the text was over the size limit and was not analysed at all
    /// (no findings, no accounts).
    pub too_large: Option<TooLarge>,
    /// How the document was read (plain YAML or a Helm file).
    pub kind: FileKind,
    /// How the text changed since the revision analysed before (`from`),
    /// when known: the diagnostics of findings it did not move are kept.
    pub changed: Option<Changed>,
    /// The workspace store's revisions around this analysis, when it fed
    /// the store its own facts (`server/analyze.rs`).
    pub store: Option<StoreRevisions>,
}

/// A manifest's roles and bindings, as its analysis hands them to the
/// workspace store.
#[derive(Debug)]
pub enum OwnRbac {
    /// As read.
    Objects(RbacObjects),
    /// Those of the revision `from` (analysed before), moved by `edit`
    /// only; when the store does not hold them, they are asked of the live
    /// analysis ([`LiveAnalysis::rbac_objects`]).
    Moved { from: u64, edit: ShiftEdit },
}

/// The workspace store's revision when an analysis was judged, and the
/// revisions before and after it fed the store the document's own facts:
/// when nothing else came between them, and nothing since, the analysis
/// saw every change and need not run again for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreRevisions {
    pub judged_at: u64,
    pub fed_from: u64,
    pub fed_to: u64,
}

impl StoreRevisions {
    /// Whether the analysis saw every change of the store up to `now`.
    pub fn saw_all_up_to(&self, now: u64) -> bool {
        self.judged_at == self.fed_from && self.fed_to == now
    }
}

/// The text of a revision, from the one analysed before it: `old` of it
/// replaced with `new_len` bytes (nothing, when both are empty at 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Changed {
    pub from: u64,
    pub old: TextRange,
    pub new_len: usize,
}

/// A document not analysed because of its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLarge {
    pub size: usize,
    pub limit: u64,
}

/// **Test-only.** When this environment variable is set to a non-empty
/// marker, analysing a text that contains the marker panics, so that tests
/// can check how the server survives a bug in the analysis. Read once, at the
/// first analysis. Compiled only with the `test-hooks` feature, which the
/// test builds turn on and release builds do not have.
#[cfg(feature = "test-hooks")]
pub const TEST_PANIC_MARKER_VAR: &str = "TOKENGUARD_TEST_PANIC_MARKER";

#[cfg(feature = "test-hooks")]
fn test_panic_marker() -> Option<&'static str> {
    static MARKER: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    MARKER
        .get_or_init(|| {
            std::env::var(TEST_PANIC_MARKER_VAR)
                .ok()
                .filter(|m| !m.is_empty())
        })
        .as_deref()
}

/// A text this long is large: once it is read whole, the memory it took
/// is given back to the system.
const LARGE: usize = 1 << 20;

/// A document's analysis, kept between revisions: an edit re-parses only the
/// YAML documents it touched.
#[derive(Default)]
pub struct LiveAnalysis {
    /// The revision `file` is at (0: none yet).
    revision: u64,
    file: Option<IncrementalFile>,
    /// The roles and bindings of the text at `revision` (with `file`).
    rbac: RbacFacts,
    /// The text at `revision` (a rope shares its chunks: no copy).
    rope: Rope,
    /// The workspace generation last seen, and the one `file` is judged
    /// with: it grows only when the workspace changed for this document
    /// (not when the only change was the document's own accounts or roles
    /// reaching the workspace store, which its own judging does not read).
    seen_generation: u64,
    judged_generation: u64,
}

impl LiveAnalysis {
    /// Brings the analysis to `doc`'s revision and judges it; `None` when a
    /// newer revision was analysed already. `generation` names the state of
    /// `workspace`. A text longer than `max_size` bytes is not analysed.
    /// Other `options` than the last ones (a reloaded project configuration)
    /// mean analysing the whole text again.
    ///
    /// `own_change`: the last change of generation the document's own
    /// facts made (`WorkspaceStore::own_change`), from and to.
    pub fn run(
        &mut self,
        doc: &Document,
        workspace: &dyn AccountLookup,
        generation: u64,
        own_change: Option<(u64, u64)>,
        max_size: u64,
        options: &Arc<Options>,
    ) -> Option<Analyzed> {
        if self.revision > doc.revision {
            return None;
        }
        let rope = &doc.rope;
        if rope.len_bytes() as u64 > max_size {
            // The text as opened is not needed.
            drop(doc.opened.as_ref().and_then(|opened| opened.take()));
            // Nothing is kept: the next analysis under the limit starts afresh.
            *self = LiveAnalysis {
                revision: doc.revision,
                ..LiveAnalysis::default()
            };
            return Some(Analyzed {
                revision: doc.revision,
                version: doc.version,
                rope: rope.clone(),
                findings: Vec::new(),
                accounts: Vec::new(),
                rbac: None,
                too_large: Some(TooLarge {
                    size: rope.len_bytes(),
                    limit: max_size,
                }),
                kind: FileKind::Manifest,
                changed: None,
                store: None,
            });
        }
        #[cfg(feature = "test-hooks")]
        if let Some(marker) = test_panic_marker() {
            if rope.to_string().contains(marker) {
                panic!("{TEST_PANIC_MARKER_VAR}: the text contains {marker:?}");
            }
        }
        let text_of = |r: TextRange| rope.byte_slice(r.start..r.end).to_string();
        let composed = doc.edits.composed_since(self.revision);
        if self
            .file
            .as_ref()
            .is_some_and(|f| !Arc::ptr_eq(f.options(), options))
        {
            self.file = None;
        }
        let mut changed = None;
        // Set when the roles and bindings only moved with the text.
        let mut moved = None;
        match (&mut self.file, composed) {
            (Some(_), Some(None)) => {
                changed = Some(Changed {
                    from: self.revision,
                    old: TextRange::empty(0),
                    new_len: 0,
                });
                moved = Some(ShiftEdit {
                    old: TextRange::empty(0),
                    new_len: 0,
                    lines_by: 0,
                });
            }
            (Some(file), Some(Some((old, new_len)))) => {
                file.edit(old, new_len, rope.len_bytes(), &text_of);
                let lines = EditedLines {
                    start: self
                        .rope
                        .line_to_byte(self.rope.byte_to_line(old.start.min(self.rope.len_bytes()))),
                    before: edited_lines(&self.rope, old.start, old.end),
                    after: edited_lines(rope, old.start, old.start + new_len),
                };
                self.rbac
                    .edit(old, new_len, lines, &text_of, || rope.to_string());
                if self.rbac.reread == 0 {
                    // No RBAC document read again: those after the edit
                    // moved with the text, the others stayed.
                    moved = Some(ShiftEdit {
                        old,
                        new_len,
                        lines_by: rope.len_lines() as isize - self.rope.len_lines() as isize,
                    });
                }
                changed = Some(Changed {
                    from: self.revision,
                    old,
                    new_len,
                });
            }
            _ => {
                // The text as opened when this is the opened revision (its
                // rope holds the same), else the rope's copy.
                let text = doc
                    .opened
                    .as_ref()
                    .and_then(|opened| opened.take())
                    .unwrap_or_else(|| rope.to_string());
                // The roles and bindings are read on one core while the
                // documents are parsed on the others.
                let (file, rbac) = rayon::join(
                    || IncrementalFile::with_options(&text, Arc::clone(options)),
                    || RbacFacts::of_text(&text),
                );
                self.file = Some(file);
                self.rbac = rbac;
                let large = text.len() >= LARGE;
                drop(text);
                if large {
                    // The copy, and the opening message's buffers, are gone.
                    crate::server::memory::give_back();
                }
            }
        }
        let from = self.revision;
        self.revision = doc.revision;
        self.rope = rope.clone();
        if generation != self.seen_generation {
            if own_change != Some((self.seen_generation, generation)) {
                self.judged_generation += 1;
            }
            self.seen_generation = generation;
        }
        let file = self.file.as_mut()?;
        // The one rule of which files get findings (the CLI's too).
        let (findings, accounts) = if file.holds_kubernetes_object() {
            file.findings_and_accounts(&text_of, workspace, self.judged_generation)
        } else {
            (Vec::new(), file.accounts())
        };
        Some(Analyzed {
            revision: doc.revision,
            version: doc.version,
            rope: rope.clone(),
            findings,
            accounts,
            rbac: Some(match moved {
                Some(edit) => OwnRbac::Moved { from, edit },
                None => OwnRbac::Objects(self.rbac.objects()),
            }),
            too_large: None,
            kind: FileKind::Manifest,
            changed,
            store: None,
        })
    }
}

impl LiveAnalysis {
    /// The roles and bindings of the text analysed last.
    pub fn rbac_objects(&self) -> RbacObjects {
        self.rbac.objects()
    }

    /// Helm: a document analysed whole at each revision (a template,
    /// masked and judged by `check`, or a helper file, with no findings).
    /// Its ServiceAccounts are the chart's business: none go to the index.
    pub fn run_whole(
        &mut self,
        doc: &Document,
        max_size: u64,
        check: impl FnOnce(&str) -> Vec<Finding>,
    ) -> Option<Analyzed> {
        if self.revision > doc.revision {
            return None;
        }
        *self = LiveAnalysis {
            revision: doc.revision,
            ..LiveAnalysis::default()
        };
        let rope = &doc.rope;
        let too_large = (rope.len_bytes() as u64 > max_size).then_some(TooLarge {
            size: rope.len_bytes(),
            limit: max_size,
        });
        // The text as opened, when this is the opened revision.
        let opened = doc.opened.as_ref().and_then(|opened| opened.take());
        let findings = match too_large {
            Some(_) => Vec::new(),
            None => check(&opened.unwrap_or_else(|| rope.to_string())),
        };
        Some(Analyzed {
            revision: doc.revision,
            version: doc.version,
            rope: rope.clone(),
            findings,
            accounts: Vec::new(),
            rbac: None,
            too_large,
            kind: FileKind::Manifest,
            changed: None,
            store: None,
        })
    }
}

impl TooLarge {
    /// The one diagnostic of a document over the size limit.
    pub fn diagnostic(self) -> Diagnostic {
        Diagnostic {
            range: Default::default(),
            severity: Some(DiagnosticSeverity::WARNING),
            source: Some(SOURCE.to_string()),
            message: format!(
                "tokenguard does not analyse this file: it is {} bytes, over the limit of {} bytes \
                 (setting tokenguard.maxFileSize)",
                self.size, self.limit
            ),
            ..Diagnostic::default()
        }
    }
}

impl Analyzed {
    /// The findings the settings let through.
    pub fn visible<'a>(&'a self, settings: &'a Settings) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings
            .iter()
            .filter(move |f| settings.enable && (f.code != Code::TG000 || settings.syntax_errors))
    }
}

/// Where a ServiceAccount's name is, as an LSP location; `None` when the
/// file's text is not known.
pub type AccountLocator<'a> = dyn Fn(Option<&str>, TextRange) -> Option<Location> + 'a;

pub fn to_diagnostic(
    finding: &Finding,
    analyzed: &Analyzed,
    uri: &Uri,
    settings: &Settings,
    encoding: Encoding,
    locate: &AccountLocator<'_>,
) -> Diagnostic {
    let severity = match finding.code {
        Code::TG000 => DiagnosticSeverity::ERROR,
        Code::TG001 => settings.tg001_severity(finding.risk()),
    };
    let related = finding.account.as_ref().and_then(|check| {
        let found = check.found.as_ref()?;
        let location = locate(found.origin.as_deref(), found.account.name_range).or_else(|| {
            found.origin.is_none().then(|| {
                Location::new(
                    uri.clone(),
                    to_range(&analyzed.rope, found.account.name_range, encoding),
                )
            })
        })?;
        Some(vec![DiagnosticRelatedInformation {
            location,
            message: render::account_note(check)?,
        }])
    });
    // Places in this file or another (a Helm chart's values.yaml).
    let elsewhere = finding.related.iter().filter_map(|r| {
        let location = match &r.file {
            None => Location::new(uri.clone(), to_range(&analyzed.rope, r.range, encoding)),
            Some(file) => locate(Some(file), r.range)?,
        };
        Some(DiagnosticRelatedInformation {
            location,
            message: r.message.clone(),
        })
    });
    let related: Vec<DiagnosticRelatedInformation> =
        related.into_iter().flatten().chain(elsewhere).collect();
    let related = (!related.is_empty()).then_some(related);
    // The fix in `data` is in this document's positions: a fix of another
    // file is offered by the code action only.
    let fix = finding
        .fix
        .as_ref()
        .filter(|fix| fix.file.is_none())
        .map(|fix| {
            json!({
                "title": fix.title,
                "edits": fix.edits.iter().map(|e| json!({
                    "range": to_range(&analyzed.rope, e.range, encoding),
                    "newText": e.new_text,
                })).collect::<Vec<_>>(),
            })
        });
    Diagnostic {
        range: to_range(&analyzed.rope, finding.range, encoding),
        severity: Some(severity),
        code: Some(NumberOrString::String(finding.code.as_str().to_string())),
        code_description: DOCS_URL.parse().ok().map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_string()),
        message: finding.message.clone(),
        related_information: related,
        tags: None,
        // `risk`: what the pod's token can do (`rbac::Risk::as_str`), when
        // known; clients may sort or filter by it.
        data: Some(match finding.risk() {
            Some(risk) => json!({ "version": analyzed.version, "fix": fix, "risk": risk }),
            None => json!({ "version": analyzed.version, "fix": fix }),
        }),
    }
}

/// The whole lines of `rope` holding `start..=end`, as [`EditedLines`]
/// wants them; `None` out of the text or past [`MAX_EDITED_LINES`].
fn edited_lines(rope: &Rope, start: usize, end: usize) -> Option<String> {
    if end > rope.len_bytes() || start > end {
        return None;
    }
    let first = rope.byte_to_line(start);
    let last = (rope.byte_to_line(end) + 1).min(rope.len_lines());
    let (from, to) = (rope.line_to_byte(first), rope.line_to_byte(last));
    (to - from <= MAX_EDITED_LINES).then(|| rope.byte_slice(from..to).to_string())
}
