//! One read of a file for a command-line check: a plain manifest is parsed
//! once, and that parse gives both its facts for the indexes (its
//! ServiceAccounts, roles and bindings) and the judgement of its workloads
//! as far as the file itself can decide. What depends on the complete
//! indexes (a ServiceAccount declared in another file, what each account's
//! token can do, the kustomizations, the charts' renderings) is finished by
//! [`AnalysisHost::complete`] once every file was fed, without the text
//! being read or parsed again.
//!
//! `read_file` + `add_reading` + `complete` give exactly what
//! `facts` + `add_facts` + `analyze` give: the same facts, the same
//! findings in the same order.

use super::lines::LineAt;
use super::path::FilePath;
use super::source::{FileSource, Need};
use super::{charts, AnalysisHost, FileAnalysis, FileFacts};
use crate::files::FileKind;
use crate::rule::{self, Judged};
use crate::text::LineIndex;
use crate::{Finding, ServiceAccount};

/// What one read of a file gives: its facts, and its analysis up to what
/// the complete indexes decide.
#[derive(Debug)]
pub struct FileReading {
    pub facts: FileFacts,
    pub pending: PendingAnalysis,
    /// The lines of its roles' and bindings' names, by the byte each
    /// starts at (what findings naming them show).
    places: Vec<(usize, Option<LineAt>)>,
}

/// A file's analysis, all but what depends on the other files.
#[derive(Debug)]
pub struct PendingAnalysis {
    kind: FileKind,
    state: State,
}

#[derive(Debug)]
enum State {
    /// A plain manifest, judged as far as its own file decides.
    Manifest {
        /// Its syntax errors' findings.
        syntax: Vec<Finding>,
        /// Its workloads' judgements, in order (suppressed ones left out).
        judged: Vec<Judged>,
        line_index: LineIndex,
        /// The ServiceAccounts it declares.
        accounts: Vec<ServiceAccount>,
        /// Byte ranges of its own text that findings may point at besides
        /// their own: its roles' and bindings' names.
        places: Vec<crate::TextRange>,
    },
    /// Anything else (a chart template, a loose template, a helper): it is
    /// analysed from its text when completed.
    Text,
}

impl PendingAnalysis {
    /// How the file is read.
    pub fn kind(&self) -> &FileKind {
        &self.kind
    }

    /// Whether [`AnalysisHost::complete`] needs the file's text (a
    /// template's analysis is made then); else it needs none.
    pub fn needs_text(&self) -> bool {
        matches!(self.state, State::Text)
    }

    /// Whether the completed analysis may hold findings or ServiceAccounts
    /// (when not, its text is not needed for any output).
    pub fn may_report(&self) -> bool {
        match &self.state {
            State::Manifest {
                syntax,
                judged,
                accounts,
                ..
            } => !syntax.is_empty() || !judged.is_empty() || !accounts.is_empty(),
            State::Text => true,
        }
    }

    /// The line table of a plain manifest.
    pub fn line_index(&self) -> Option<&LineIndex> {
        match &self.state {
            State::Manifest { line_index, .. } => Some(line_index),
            State::Text => None,
        }
    }

    /// The byte offsets in the file's own text that the completed findings
    /// and accounts of a plain manifest may point at: each finding's range,
    /// its fix's edits and its related places in the file (the names of the
    /// file's roles and bindings), and each ServiceAccount's name. An
    /// embedder that keeps only some lines of the text keeps these.
    pub fn offsets(&self) -> Vec<usize> {
        let State::Manifest {
            syntax,
            judged,
            accounts,
            places,
            ..
        } = &self.state
        else {
            return Vec::new();
        };
        let findings = syntax.iter().chain(judged.iter().map(|j| match j {
            Judged::Done(finding) => finding,
            Judged::Pending(pending) => pending.finding(),
        }));
        let mut ranges = Vec::new();
        for finding in findings {
            ranges.push(finding.range);
            let edits = finding
                .fix
                .iter()
                .filter(|fix| fix.file.is_none())
                .flat_map(|fix| fix.edits.iter().map(|e| e.range));
            ranges.extend(edits);
            let related = finding.related.iter().filter(|r| r.file.is_none());
            ranges.extend(related.map(|r| r.range));
        }
        ranges.extend(accounts.iter().map(|a| a.name_range));
        ranges.extend(places.iter().copied());
        ranges.iter().flat_map(|r| [r.start, r.end]).collect()
    }
}

impl<S: FileSource> AnalysisHost<S> {
    /// Reads `text` at `path` once (`&self`: files can be read in
    /// parallel): what [`AnalysisHost::facts`] gives, and the analysis of
    /// [`AnalysisHost::analyze`] up to what the other files decide. Feed the
    /// reading with [`AnalysisHost::add_reading`], and finish it with
    /// [`AnalysisHost::complete`] once every file was fed.
    pub fn read_file(&self, path: &FilePath, text: &str) -> FileReading {
        let (kind, classified) = match self.files.get(path) {
            Some(entry) => (entry.kind.clone(), false),
            None => (charts::classify(&self.source, path, text), true),
        };
        if kind != FileKind::Manifest {
            // (Classified just now, as `facts_with` would: not again.)
            let facts = if classified {
                Self::facts_of_kind(kind.clone(), text)
            } else {
                Self::facts_with(&self.source, path, text)
            };
            return FileReading {
                pending: PendingAnalysis {
                    kind: facts.kind.clone(),
                    state: State::Text,
                },
                facts,
                places: Vec::new(),
            };
        }
        let options = &self.configuration(path).options;
        let (parsed, rbac) = crate::parse_with_rbac(text, options);
        // The facts' accounts, as `service_accounts` reads them: every
        // ServiceAccount object (a workload kind's too).
        let accounts = if text.contains("ServiceAccount") {
            parsed
                .documents
                .iter()
                .flat_map(|doc| {
                    crate::objects::objects(doc)
                        .into_iter()
                        .filter_map(move |object| crate::objects::service_account(doc, object))
                })
                .collect()
        } else {
            Vec::new()
        };
        let line_index = &parsed.line_index;
        let name_ranges: Vec<crate::TextRange> = rbac
            .roles
            .iter()
            .map(|r| r.name_range)
            .chain(rbac.bindings.iter().map(|b| b.name_range))
            .collect();
        let places = name_ranges
            .iter()
            .map(|r| (r.start, LineAt::of(text, line_index, r.start)))
            .collect();
        let (syntax, judged) = if crate::holds_kubernetes_object(text, &parsed) {
            let mut judged = Vec::new();
            for (doc, workload) in &parsed.workloads {
                let doc = &parsed.documents[*doc];
                let Some(judgement) = rule::judge_in_file(text, doc, workload, &parsed.accounts)
                else {
                    continue;
                };
                let line = line_index.line_of(judgement.range().start);
                if !crate::ignore_comment::is_suppressed(text, line_index, line) {
                    judged.push(judgement);
                }
            }
            (crate::syntax_findings(text, &parsed), judged)
        } else {
            // Nothing of a file that holds no Kubernetes object is reported.
            (Vec::new(), Vec::new())
        };
        // The line table is kept only for a file that may report (it is
        // as large as a fifth of the text).
        let reports = !syntax.is_empty() || !judged.is_empty() || !parsed.accounts.is_empty();
        let line_index = if reports {
            let mut kept = parsed.line_index;
            kept.shrink_to_fit();
            kept
        } else {
            LineIndex::default()
        };
        let facts = FileFacts {
            kind: kind.clone(),
            accounts,
            uses: None,
            rbac,
        };
        FileReading {
            facts,
            pending: PendingAnalysis {
                kind,
                state: State::Manifest {
                    syntax,
                    judged,
                    line_index,
                    accounts: parsed.accounts,
                    places: name_ranges,
                },
            },
            places,
        }
    }

    /// Feeds a file's reading (its facts, as [`AnalysisHost::add_facts`]
    /// does, and the lines of its roles and bindings, so they are not read
    /// again); returns what is left to complete.
    pub fn add_reading(&mut self, path: FilePath, reading: FileReading) -> PendingAnalysis {
        let name = path.as_str().to_string();
        self.add_facts(path, reading.facts);
        if !reading.places.is_empty() {
            self.declaration_lines.prime(&name, reading.places);
        }
        reading.pending
    }

    /// Finishes the analysis of a file read with [`AnalysisHost::read_file`]
    /// and fed, against the indexes as they are now: the same as
    /// [`AnalysisHost::analyze`] of its text. `text` is needed only when
    /// [`PendingAnalysis::needs_text`] (the source is asked otherwise).
    pub fn complete(
        &self,
        path: &FilePath,
        pending: PendingAnalysis,
        text: Option<&str>,
    ) -> Option<FileAnalysis> {
        match pending.state {
            State::Manifest {
                syntax,
                judged,
                line_index,
                accounts,
                ..
            } => {
                let mut findings = syntax;
                for judgement in judged {
                    match judgement {
                        Judged::Done(finding) => findings.push(finding),
                        Judged::Pending(pending) => {
                            findings.extend(pending.resolve(&self.accounts))
                        }
                    }
                }
                findings.sort_by_key(|f| (f.range.start, f.range.end, f.code));
                Some(FileAnalysis {
                    kind: pending.kind,
                    findings: self.finish(path, findings),
                    line_index,
                    accounts,
                    chart: None,
                })
            }
            State::Text => match text {
                Some(text) => Some(self.analyze(path, text)),
                None => {
                    let text = self.source.read(path, Need::FedFile)?;
                    Some(self.analyze(path, &text))
                }
            },
        }
    }
}
