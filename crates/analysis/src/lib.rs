//! The analysis engine of tokenguard: text in, findings and edits out.
//!
//! It parses Kubernetes YAML into a position-preserving tree (one parse per
//! `---` document), finds every pod spec that leaves the service-account token
//! mounted (rule TG001, see `docs/rule.md`), and computes the edit that fixes
//! each. No I/O, no async, no editor types: the CLI and the language server
//! translate.
//!
//! ```
//! use tokenguard_analysis::{analyze, apply_edits, NoAccounts, Options};
//!
//! let text = "kind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n";
//! let findings = analyze(text, &NoAccounts, Options::builtin());
//! assert_eq!(findings.len(), 1);
//! let fixed = apply_edits(text, &findings[0].fix.as_ref().unwrap().edits);
//! assert!(fixed.contains("  automountServiceAccountToken: false\n  containers: []"));
//! assert!(analyze(&fixed, &NoAccounts, Options::builtin()).is_empty());
//! ```

mod account_fix;
mod accounts;
mod cluster_strictness;
mod config;
pub mod files;
mod finding;
mod fix;
pub mod helm;
pub mod hints;
pub mod host;
mod ignore_comment;
mod incremental;
mod kinds;
pub mod kustomize;
pub mod navigation;
mod objects;
mod options;
mod placement;
mod projected_token;
pub mod rbac;
mod region;
mod relevance;
pub mod render;
mod rule;
mod split;
#[doc(hidden)]
pub mod syntax_scan;
pub mod text;
mod tolerant;
pub mod tree;
pub mod usage;
pub mod value;
mod verdict;

pub use account_fix::disable_on_account;
pub use accounts::{AccountIndex, AccountLookup, FoundAccount, NoAccounts, SameFileFirst};
pub use config::{
    builtin_severity, exclude_glob, parse_config, ConfigError, HelmConfig, IgnoredObject,
    ProjectConfig, SeverityByRisk, CONFIG_FILE_NAMES, MAX_TIMEOUT_SECONDS, RISK_NAMES,
};
pub use finding::{
    AccountCheck, Code, DeclaredAt, Finding, FromHelper, HelmFacts, HelperReading, Overlays, Place,
    Problem, Related, RenderFact, Renders, Severity, SyntaxFacts, TemplatedField, WorkloadRef,
};
pub use fix::{apply_edits, Fix, TextEdit, FIELD};
pub use ignore_comment::{ignore_comment, IGNORE_MARKER};
pub use incremental::{IncrementalFile, TextOf};
pub use kinds::{api_group, WorkloadKind, WorkloadKinds, BUILTIN_GROUP_KINDS, POD_SPEC_PATHS};
pub use kustomize::KustomizeIndex;
pub use objects::{AccountAutomount, ServiceAccount, Workload};
pub use options::Options;
pub use placement::{fix_is_preferred, named_bindings_summary};
pub use projected_token::{
    projected_token, TokenProjection, PROJECTED_TOKEN_TITLE, PROJECTED_VOLUME, TOKEN_MOUNT_PATH,
};
pub use relevance::{holds_kubernetes_object, kubernetes_keys, looks_like_kubernetes, ObjectKeys};
pub use text::{LineEnding, LineIndex, TextRange};
pub use tree::{Document, Node, NodeId, NodeKind, ScalarStyle, SyntaxError};
pub use value::{BoolField, ValueType};

use tree::ChunkResult;

pub(crate) const BOM: &str = "\u{feff}";

/// A file parsed into documents, with its workloads and ServiceAccounts.
#[derive(Clone, Debug, Default)]
pub struct ParsedFile {
    pub line_index: LineIndex,
    pub documents: Vec<Document>,
    pub syntax_errors: Vec<SyntaxError>,
    /// Workloads as (index into `documents`, workload).
    pub workloads: Vec<(usize, Workload)>,
    /// Workloads the options' ignored objects cover, with the pattern that
    /// covers each: they are not judged.
    pub ignored: Vec<(Workload, String)>,
    pub accounts: Vec<ServiceAccount>,
}

/// Parses every document of `text` with `options` (a project's, or
/// [`Options::builtin`]): its workload kinds are workloads, and its ignored
/// objects are set apart in [`ParsedFile::ignored`]. Never fails: broken
/// documents become syntax errors, the others are still parsed.
pub fn parse(text: &str, options: &Options) -> ParsedFile {
    let body_start = if text.starts_with(BOM) { BOM.len() } else { 0 };
    let reading = Reading::Cluster {
        file_start: Some(0),
        after_end: false,
    };
    let line_index = LineIndex::new(text);
    let chunks = split::split_indexed(text, body_start, &line_index);
    parse_chunks(text, line_index, chunks, options, reading, None)
}

/// [`parse`], and the roles and bindings of the file from the same parse
/// (the documents naming an RBAC kind get their trees too): a command-line
/// check reads each plain manifest once for the indexes and the rule.
/// The RBAC objects are those [`rbac::rbac_of_text`] reads.
pub(crate) fn parse_with_rbac(text: &str, options: &Options) -> (ParsedFile, rbac::RbacObjects) {
    let body_start = if text.starts_with(BOM) { BOM.len() } else { 0 };
    let reading = Reading::Cluster {
        file_start: Some(0),
        after_end: false,
    };
    let mut objects = rbac::RbacObjects::default();
    let line_index = LineIndex::new(text);
    let chunks = split::split_indexed(text, body_start, &line_index);
    let parsed = parse_chunks(
        text,
        line_index,
        chunks,
        options,
        reading,
        Some(&mut objects),
    );
    (parsed, objects)
}

/// [`parse`] of a chart template's masked text: what Kubernetes' decoder
/// would refuse is not looked for, since rendering decides the whitespace
/// the cluster reads (trim markers remove tabs next to an action).
pub(crate) fn parse_masked(text: &str, options: &Options) -> ParsedFile {
    let body_start = if text.starts_with(BOM) { BOM.len() } else { 0 };
    let line_index = LineIndex::new(text);
    let chunks = split::split_indexed(text, body_start, &line_index);
    parse_chunks(text, line_index, chunks, options, Reading::Masked, None)
}

/// What [`parse_chunks`] checks beyond yaml-rust2's reading.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// What Kubernetes' decoder refuses, with the file's first byte at
    /// `file_start` in the text (`None`: the text does not start the
    /// file); `after_end`: a `...` line ends what comes before the text.
    Cluster {
        file_start: Option<usize>,
        after_end: bool,
    },
    /// A chart template's masked text: yaml-rust2's reading only.
    Masked,
}

/// [`parse`] of a text already known to be one document (a piece cut by
/// [`split::split_documents`] as `chunk`): it is not cut again.
/// `at_file_start`: the piece starts at its file's first byte; `after_end`:
/// it follows a piece that a `...` line ends.
pub(crate) fn parse_single_document(
    text: &str,
    options: &Options,
    chunk: &split::Chunk,
    at_file_start: bool,
    after_end: bool,
) -> ParsedFile {
    let whole = split::Chunk {
        range: TextRange::new(0, text.len()),
        first_line: 0,
        ..*chunk
    };
    let reading = Reading::Cluster {
        file_start: at_file_start.then_some(0),
        after_end,
    };
    parse_chunks(
        text,
        LineIndex::new(text),
        vec![whole],
        options,
        reading,
        None,
    )
}

/// Parses each chunk (`line_index`: the table of `text`), as `reading`
/// says; with `rbac`, the roles and bindings of the chunks that may hold
/// them are read into it.
fn parse_chunks(
    text: &str,
    line_index: LineIndex,
    chunks: Vec<split::Chunk>,
    options: &Options,
    reading: Reading,
    mut rbac: Option<&mut rbac::RbacObjects>,
) -> ParsedFile {
    let mut parsed = ParsedFile::default();
    let mut after_end = matches!(
        reading,
        Reading::Cluster {
            after_end: true,
            ..
        }
    );
    for chunk in chunks {
        let follows_end = std::mem::replace(&mut after_end, chunk.closed);
        if let Some(error) = split::directive_error(text, chunk) {
            parsed.syntax_errors.push(error);
            continue;
        }
        let mut refused = None;
        let docs = if chunk.has_content {
            let body = &text[chunk.range.start..chunk.range.end];
            let kinds = relevance::document_kinds(text, &line_index, chunk.range, &options.kinds);
            let matters = kinds.matters;
            let roles = rbac.is_some() && kinds.may_name_rbac_kind(body);
            match tree::parse_chunk_if(text, &line_index, chunk, matters || roles) {
                ChunkResult::Documents(docs) => {
                    if let (true, Some(objects)) = (roles, rbac.as_deref_mut()) {
                        for doc in &docs {
                            rbac::of_document(doc, objects);
                        }
                    }
                    // Only the documents that may matter are kept.
                    Some(if matters { docs } else { Vec::new() })
                }
                ChunkResult::Error(error) => {
                    refused = Some(error);
                    None
                }
            }
        } else {
            Some(Vec::new())
        };
        // What yaml-rust2 reads but Kubernetes' decoder refuses: reported,
        // and the documents are still judged (the reading is the same once
        // the file is fixed).
        if let Reading::Cluster { file_start, .. } = reading {
            let at_file_start = file_start == Some(chunk.range.start);
            parsed.syntax_errors.extend(cluster_strictness::refusals(
                text,
                &line_index,
                chunk,
                docs.as_deref(),
                at_file_start,
                follows_end,
            ));
        }
        parsed.syntax_errors.extend(refused);
        parsed.documents.extend(docs.into_iter().flatten());
    }
    for (i, doc) in parsed.documents.iter().enumerate() {
        // (`service_accounts` reads accounts the same way, for fewer documents.)
        for object in objects::objects(doc) {
            if let Some(workload) = objects::workload(doc, object, &options.kinds) {
                match options.ignores(&workload) {
                    Some(rule) => parsed.ignored.push((workload, rule.pattern.clone())),
                    None => parsed.workloads.push((i, workload)),
                }
            } else if let Some(account) = objects::service_account(doc, object) {
                parsed.accounts.push(account);
            }
        }
    }
    parsed.line_index = line_index;
    parsed
}

/// The ServiceAccounts of `text`, cheaper than [`parse`]: only documents
/// that can declare one are parsed, and syntax errors are not looked for.
pub fn service_accounts(text: &str) -> Vec<ServiceAccount> {
    let line_index = LineIndex::new(text);
    let body_start = if text.starts_with(BOM) { BOM.len() } else { 0 };
    let mut accounts = Vec::new();
    for chunk in split::split_indexed(text, body_start, &line_index) {
        if !chunk.has_content || !relevance::may_declare_account_in(text, &line_index, chunk.range)
        {
            continue;
        }
        if let ChunkResult::Documents(docs) = tree::build_chunk(text, &line_index, chunk) {
            for doc in &docs {
                accounts.extend(
                    objects::objects(doc)
                        .into_iter()
                        .filter_map(|object| objects::service_account(doc, object)),
                );
            }
        }
    }
    accounts
}

/// Judges every workload of a parsed file; `workspace` supplies the
/// ServiceAccounts of the other files. Findings come in text order.
pub fn check(text: &str, parsed: &ParsedFile, workspace: &dyn AccountLookup) -> Vec<Finding> {
    let accounts = SameFileFirst {
        file: &parsed.accounts,
        workspace,
    };
    judge_parsed(text, parsed, &accounts)
}

/// [`check`] with the whole ServiceAccount lookup given (`IncrementalFile`
/// judges a piece against the whole file's accounts): `accounts` must
/// look in the same file first (see [`SameFileFirst`]).
pub(crate) fn judge_parsed(
    text: &str,
    parsed: &ParsedFile,
    accounts: &dyn AccountLookup,
) -> Vec<Finding> {
    let mut findings = syntax_findings(text, parsed);
    for (doc, workload) in &parsed.workloads {
        let doc = &parsed.documents[*doc];
        if let Some(finding) = rule::judge(text, doc, workload, accounts) {
            let line = parsed.line_index.line_of(finding.range.start);
            if !ignore_comment::is_suppressed(text, &parsed.line_index, line) {
                findings.push(finding);
            }
        }
    }
    findings.sort_by_key(|f| (f.range.start, f.range.end, f.code));
    findings
}

/// A TG000 finding for every syntax error of `text`.
pub(crate) fn syntax_findings(text: &str, parsed: &ParsedFile) -> Vec<Finding> {
    parsed
        .syntax_errors
        .iter()
        .map(|error| {
            let found = text
                .get(error.range.start..)
                .and_then(|rest| rest.chars().next())
                .filter(|c| !matches!(c, '\n' | '\r'));
            let facts = finding::SyntaxFacts {
                reader: error.message.clone(),
                found,
            };
            Finding::syntax(error.range, facts)
        })
        .collect()
}

/// [`parse`] and [`check`] in one call.
pub fn analyze(text: &str, workspace: &dyn AccountLookup, options: &Options) -> Vec<Finding> {
    check(text, &parse(text, options), workspace)
}

/// Every edit of every fix to the findings' own file, ready for
/// [`apply_edits`] (fixes of other files, such as a Helm chart's
/// `values.yaml`, are left out).
pub fn fix_all_edits(findings: &[Finding]) -> Vec<TextEdit> {
    findings
        .iter()
        .filter_map(|f| f.fix.as_ref())
        .filter(|fix| fix.file.is_none())
        .flat_map(|fix| fix.edits.iter().cloned())
        .collect()
}
