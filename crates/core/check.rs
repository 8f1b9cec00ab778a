//! Analysing the inputs as one workspace, in two streaming passes.
//!
//! Pass one reads every file and keeps only its ServiceAccounts; pass two
//! reads each file again, judges its workloads against all accounts, and
//! keeps the text only of files with findings. No more than a few files'
//! trees are ever in memory, so a checkout of any size is checked in a few
//! megabytes, and the result does not depend on the order of the paths.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;
use tokenguard_analysis::files::FileKind;
use tokenguard_analysis::{AccountIndex, Finding, KustomizeIndex, LineIndex, ServiceAccount};

use crate::errors::ErrorLog;
use crate::helm::{self, Charts, OtherFile};
use crate::kustomize;
use crate::load::{self, Outcome, SourceFile};
use crate::project::Project;
use crate::walk::Input;

/// A file with its findings, in text order. Only what the output needs is
/// kept: the whole text for `--fix` and `--diff`, else the line table and
/// the lines that findings (or ServiceAccounts they point at) are on.
#[derive(Debug)]
pub struct CheckedFile {
    pub source: SourceFile,
    pub line_index: LineIndex,
    /// The lines kept when the text is not (by 0-based line number).
    pub lines: HashMap<usize, String>,
    pub findings: Vec<Finding>,
    /// Files the findings point into or fix, by the name findings use (a
    /// Helm chart's `values.yaml`).
    pub other_files: HashMap<String, Arc<OtherFile>>,
}

impl CheckedFile {
    pub fn display(&self) -> &str {
        &self.source.display
    }

    pub fn text(&self) -> &str {
        &self.source.text
    }

    /// A line's text without its break (empty when it was not kept).
    pub fn line_text(&self, line: usize) -> &str {
        if self.source.text.is_empty() {
            self.lines.get(&line).map_or("", String::as_str)
        } else {
            self.line_index.line_text(&self.source.text, line)
        }
    }

    /// The 0-based line and character column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.line_index.line_of(offset);
        let text = self.line_text(line);
        let mut within = offset
            .saturating_sub(self.line_index.line_start(line))
            .min(text.len());
        while !text.is_char_boundary(within) {
            within -= 1;
        }
        (line, text[..within].chars().count())
    }
}

/// The accounts of one file; only documents that can declare one are parsed.
fn accounts_in(text: &str) -> Vec<ServiceAccount> {
    if text.contains("ServiceAccount") {
        tokenguard_analysis::service_accounts(text)
    } else {
        Vec::new()
    }
}

/// What pass one learns of a file: the accounts of plain YAML for the
/// workspace index; for a chart template, its chart (whose accounts are
/// the chart's own, read with the chart).
enum FirstPass {
    Plain(Vec<ServiceAccount>),
    ChartTemplate(PathBuf),
}

fn first_pass(source: &SourceFile) -> FirstPass {
    match helm::classify(source.path.as_deref(), &source.text) {
        FileKind::ChartTemplate(root) => FirstPass::ChartTemplate(root),
        // A template outside a chart judges against its own accounts only;
        // a helper declares none (the walk never picks one anyway).
        FileKind::LooseTemplate | FileKind::ChartHelper => FirstPass::Plain(Vec::new()),
        FileKind::Manifest => FirstPass::Plain(accounts_in(&source.text)),
    }
}

/// Checks every input; returns the files sorted by display path, and the
/// workspace context they were judged against. `context_inputs` (from
/// `--workspace`) join the context (their ServiceAccounts, charts and
/// kustomizations count) but are neither judged nor reported; a context file
/// that cannot be read is a warning, as nothing of it was to be reported.
pub fn check_inputs(
    reported_inputs: &[Input],
    context_inputs: &[Input],
    max_size: u64,
    keep_text: bool,
    project: &Project,
    log: &mut ErrorLog,
) -> (Vec<CheckedFile>, CheckContext) {
    let inputs: Vec<Input> = reported_inputs
        .iter()
        .chain(context_inputs)
        .cloned()
        .collect();
    let reported = reported_inputs.len();
    // Standard input can be read only once: it is kept whole.
    let stdin = inputs
        .iter()
        .any(|i| matches!(i, Input::Stdin))
        .then(|| load::load_stdin(max_size));

    let first: Vec<Option<Result<FirstPass, Outcome>>> = inputs
        .par_iter()
        .map(|input| match input {
            Input::Stdin => None,
            Input::File {
                path,
                display,
                explicit,
            } => Some(match load::load_file(path, display, *explicit, max_size) {
                Outcome::Loaded(source) => Ok(first_pass(&source)),
                other => Err(other),
            }),
        })
        .collect();

    let mut index = AccountIndex::new();
    let mut readable = vec![false; inputs.len()];
    let mut stdin_source = None;
    let mut chart_roots = Vec::new();
    for (i, (input, result)) in inputs.iter().zip(first).enumerate() {
        let result = match (input, result) {
            (Input::Stdin, _) => match stdin.clone() {
                Some(Outcome::Loaded(source)) => {
                    let pass = first_pass(&source);
                    stdin_source = Some(source);
                    Ok(pass)
                }
                Some(other) => Err(other),
                None => continue,
            },
            (_, Some(result)) => result,
            (_, None) => continue,
        };
        match result {
            Ok(FirstPass::Plain(accounts)) => {
                readable[i] = true;
                if !accounts.is_empty() {
                    index.set(input.display(), accounts);
                }
            }
            Ok(FirstPass::ChartTemplate(root)) => {
                readable[i] = true;
                chart_roots.push(root);
            }
            Err(Outcome::Skipped(message)) => log.warning(message),
            Err(Outcome::Failed(message)) if i >= reported => {
                log.warning(format_args!("{message}; not read as context"));
            }
            Err(Outcome::Failed(message)) => log.error(message),
            Err(Outcome::Loaded(_)) => {}
        }
    }

    // Kustomize: kustomizations and their patch files, read before any
    // file is judged.
    let kustomizations = kustomize::index_kustomizations(&inputs, max_size, log);
    let context = CheckContext {
        accounts: index,
        kustomizations,
        charts: Charts::build(chart_roots, log),
    };
    let second_pass: Vec<Result<CheckedFile, String>> = inputs[..reported]
        .par_iter()
        .zip(&readable[..reported])
        .filter(|(_, ok)| **ok)
        .map(|(input, _)| {
            let source = match input {
                Input::Stdin => stdin_source.clone().ok_or_else(String::new)?,
                Input::File {
                    path,
                    display,
                    explicit,
                } => match load::load_file(path, display, *explicit, max_size) {
                    Outcome::Loaded(source) => source,
                    Outcome::Skipped(m) | Outcome::Failed(m) => return Err(m),
                },
            };
            Ok(check_source(source, &context, keep_text, project))
        })
        .collect();
    let mut files = Vec::with_capacity(second_pass.len());
    for result in second_pass {
        match result {
            Ok(file) => files.push(file),
            Err(message) if !message.is_empty() => log.error(message),
            Err(_) => {}
        }
    }
    files.sort_by(|a, b| a.source.display.cmp(&b.source.display));
    (files, context)
}

/// What every file is judged against, gathered before any is: the
/// workspace's ServiceAccounts, its kustomizations, and its Helm charts.
pub struct CheckContext {
    pub accounts: AccountIndex,
    pub kustomizations: KustomizeIndex,
    pub charts: Charts,
}

/// Judges one file in its workspace context, with the project's options,
/// keeping what the output will need (see [`CheckedFile`]).
pub fn check_source(
    mut source: SourceFile,
    context: &CheckContext,
    keep_text: bool,
    project: &Project,
) -> CheckedFile {
    let index = &context.accounts;
    let mut other_files = HashMap::new();
    let (parsed, findings) = match helm::classify(source.path.as_deref(), &source.text) {
        FileKind::Manifest => {
            let parsed = tokenguard_analysis::parse_with(&source.text, &project.options);
            let findings = tokenguard_analysis::check(&source.text, &parsed, index);
            (parsed, findings)
        }
        // Go templates, not YAML: never judged (as in the editor).
        FileKind::ChartHelper => (
            tokenguard_analysis::parse_with("", &project.options),
            Vec::new(),
        ),
        template => {
            let chart = match &template {
                FileKind::ChartTemplate(root) => context.charts.get(root),
                _ => None,
            };
            if let Some(values) = chart.and_then(|c| c.values_file.clone()) {
                other_files.insert(values.display.clone(), values);
            }
            let template_context = tokenguard_analysis::helm::TemplateContext {
                file: &source.display,
                values: chart.and_then(|c| c.view.values.as_ref()),
                accounts: chart.map_or(&[], |c| c.view.accounts.as_slice()),
            };
            let template = tokenguard_analysis::helm::Template::parse_with_options(
                &source.text,
                template_context.values,
                &project.options,
            );
            let findings = tokenguard_analysis::helm::check_template(
                &source.text,
                &template,
                &template_context,
                index,
            );
            (template.parsed, findings)
        }
    };
    // Only a file that holds a Kubernetes object gets findings (the
    // editor's rule too).
    let findings = if tokenguard_analysis::holds_kubernetes_object(&source.text, &parsed) {
        findings
    } else {
        Vec::new()
    };
    // Kustomize: patch files and patched base workloads.
    let findings = match &source.path {
        Some(path) => context
            .kustomizations
            .adjust(&tokenguard_analysis::kustomize::file_key(path), findings),
        None => findings,
    };
    let findings = project.adjust(findings);
    let mut lines = HashMap::new();
    let line_index = if findings.is_empty() && parsed.accounts.is_empty() {
        source.text = String::new();
        LineIndex::default()
    } else {
        if !keep_text {
            let offsets = findings
                .iter()
                .flat_map(|f| {
                    let edits = f
                        .fix
                        .iter()
                        .filter(|fix| fix.file.is_none())
                        .flat_map(|fix| fix.edits.iter().map(|e| e.range));
                    let related = f.related.iter().filter(|r| r.file.is_none());
                    std::iter::once(f.range)
                        .chain(edits)
                        .chain(related.map(|r| r.range))
                })
                .chain(parsed.accounts.iter().map(|a| a.name_range))
                .flat_map(|r| [r.start, r.end]);
            for offset in offsets {
                let line = parsed.line_index.line_of(offset);
                lines
                    .entry(line)
                    .or_insert_with(|| parsed.line_index.line_text(&source.text, line).to_string());
            }
            source.text = String::new();
        }
        parsed.line_index
    };
    CheckedFile {
        source,
        line_index,
        lines,
        findings,
        other_files,
    }
}

pub fn finding_count(files: &[CheckedFile]) -> usize {
    files.iter().map(|f| f.findings.len()).sum()
}
