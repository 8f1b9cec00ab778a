//! Analysing the inputs as one workspace, in two streaming passes over the
//! analysis host (`tokenguard_analysis::host`).
//!
//! Pass one reads every file in parallel and feeds the host only its facts
//! (classification and ServiceAccounts; the host reads the charts,
//! kustomizations and patch files it needs through [`DiskSource`]); pass two
//! reads each reported file again, asks the host for its findings, and keeps
//! the text only of files with findings. No more than a few files' trees are
//! ever in memory, so a checkout of any size is checked in a few megabytes,
//! and the result does not depend on the order of the paths.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use rayon::prelude::*;
use tokenguard_analysis::files::FileKind;
use tokenguard_analysis::host::{
    AnalysisHost, FileAnalysis, FilePath, FileSource, Need, PendingAnalysis,
};
use tokenguard_analysis::{Finding, LineIndex};

use crate::errors::ErrorLog;
use crate::load::{self, Outcome, SourceFile};
use crate::project::Project;
use crate::walk::{display_path, is_yaml, Input};

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
    /// A chart template without findings whose pod spec reading in place
    /// could not see, and that was not rendered: what was not evaluated.
    pub not_evaluated: Option<String>,
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

/// A file other than the checked one that findings point into or fix: a
/// chart's `values.yaml`, as it was read.
#[derive(Debug)]
pub struct OtherFile {
    pub display: String,
    pub path: PathBuf,
    pub text: String,
    pub line_index: LineIndex,
}

impl OtherFile {
    /// 0-based line and character column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        self.line_index.line_col_chars(&self.text, offset)
    }
}

/// The disk, as the host sees it: files are named by their display paths
/// (which are paths relative to the current folder, or absolute). What
/// cannot be read is a warning, worded after what the host needed it for:
/// nothing of such a file was to be reported.
pub struct DiskSource {
    max_size: u64,
    warnings: Mutex<Vec<String>>,
}

impl DiskSource {
    fn new(max_size: u64) -> Self {
        Self {
            max_size,
            warnings: Mutex::default(),
        }
    }

    /// The warnings of the reads so far.
    fn take_warnings(&self) -> Vec<String> {
        match self.warnings.lock() {
            Ok(mut w) => std::mem::take(&mut *w),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }
}

impl DiskSource {
    fn warn(&self, message: String) {
        if let Ok(mut warnings) = self.warnings.lock() {
            warnings.push(message);
        }
    }

    /// A kustomization or patch file's text; one that cannot be read is said
    /// once on stderr (the check goes on without it: its patches count as
    /// absent).
    fn read_kustomize(&self, path: &Path, shown: &str) -> Option<String> {
        match fs::metadata(path) {
            Ok(meta) if meta.len() > self.max_size => {
                self.warn(format!(
                    "{shown}: {} bytes is over the --max-file-size limit; its kustomize patches are not read",
                    meta.len()
                ));
                return None;
            }
            Ok(meta) if !meta.is_file() => return None,
            Ok(_) => {}
            Err(error) => {
                self.warn(format!(
                    "{shown}: named by a kustomization but cannot be read ({})",
                    crate::atomic::describe(&error)
                ));
                return None;
            }
        }
        match fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(error) => {
                self.warn(format!(
                    "{shown}: cannot be read as UTF-8 text ({}); its kustomize patches are not read",
                    crate::atomic::describe(&error)
                ));
                None
            }
        }
    }
}

impl FileSource for DiskSource {
    fn read(&self, path: &FilePath, need: Need) -> Option<String> {
        let disk = Path::new(path.as_str());
        let shown = display_path(disk);
        match need {
            Need::Kustomization | Need::Patch => self.read_kustomize(disk, &shown),
            Need::ChartValues => match fs::read_to_string(disk) {
                Ok(text) => Some(text),
                // A chart without `values.yaml` is no news.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => {
                    self.warn(format!(
                        "{shown}: {}; the chart's templates are checked without their values",
                        crate::atomic::describe(&e)
                    ));
                    None
                }
            },
            // Unreadable templates are reported when they are checked.
            Need::ChartTemplate => fs::read_to_string(disk).ok(),
            Need::FedFile => match load::load_file(disk, &shown, false, self.max_size) {
                Outcome::Loaded(source) => Some(source.text),
                Outcome::Skipped(message) | Outcome::Failed(message) => {
                    self.warn(message);
                    None
                }
            },
        }
    }

    fn is_file(&self, path: &FilePath) -> bool {
        Path::new(path.as_str()).is_file()
    }

    /// Every file counts, ignored or hidden: Helm renders them all.
    fn list_yaml(&self, dir: &FilePath) -> Vec<FilePath> {
        let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(dir.as_str())
            .standard_filters(false)
            .follow_links(false)
            .build()
            .flatten()
            .filter(|entry| entry.file_type().is_some_and(|t| t.is_file()))
            .map(ignore::DirEntry::into_path)
            .filter(|path| is_yaml(path))
            .collect();
        files.sort();
        files
            .iter()
            .map(|path| FilePath::new(display_path(path)))
            .collect()
    }
}

/// The host of a run, and the charts' `values.yaml` files as findings
/// point into them.
pub struct CheckContext {
    pub host: AnalysisHost<DiskSource>,
    values: HashMap<FilePath, Arc<OtherFile>>,
}

impl CheckContext {
    /// Feeds a file's new text (after `--fix`); a `values.yaml` re-reads
    /// its chart.
    pub fn update(&mut self, display: &str, text: String) {
        self.host.set_file(FilePath::new(display), text);
        self.values = values_files(&self.host);
    }
}

/// The `values.yaml` of every chart the host read.
fn values_files(host: &AnalysisHost<DiskSource>) -> HashMap<FilePath, Arc<OtherFile>> {
    host.charts()
        .filter_map(|(root, chart)| {
            let values = chart.values.as_ref()?;
            let file = OtherFile {
                display: values.id.clone(),
                path: PathBuf::from(&values.id),
                line_index: LineIndex::new(&values.text),
                text: values.text.clone(),
            };
            Some((root.clone(), Arc::new(file)))
        })
        .collect()
}

/// How the host names an input: by its display path (standard input is in
/// no folder).
fn file_path(input: &Input) -> FilePath {
    match input {
        Input::Stdin => FilePath::detached(input.display()),
        Input::File { .. } => FilePath::new(input.display()),
    }
}

/// The inputs fed to the analysis host, the reported ones ready to be
/// analysed (by `check`, from what pass one kept of them; by `accounts`,
/// read again): one way of feeding for every command.
pub struct FedInputs {
    pub context: CheckContext,
    /// The reported inputs that could be read, in the order given (with
    /// [`Pass::Facts`]: a check keeps what it needs of them in `read`).
    reported: Vec<Input>,
    /// Standard input, kept whole: it can be read only once.
    stdin_source: Option<SourceFile>,
    max_size: u64,
    /// With [`Pass::Check`]: each reported file that could be read, as
    /// pass one left it (in the order of `reported`).
    read: Vec<ReadFile>,
}

/// What pass one computes of the reported files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Their facts only: they are read again for what the command asks.
    Facts,
    /// Their facts and their analysis from the same parse, finished after
    /// the feeding without reading them again; `keep_text`: the whole text
    /// of a file that may have findings is kept (for `--fix` and `--diff`),
    /// else only the lines the output may show.
    Check { keep_text: bool },
}

/// A reported file after pass one of a check: its analysis pending the
/// complete indexes, and what the output needs of its text (see
/// [`CheckedFile`]).
struct ReadFile {
    /// Its text only when it is needed after pass one and cannot be read
    /// again (standard input's template), or for `--fix` and `--diff`;
    /// else empty (a template's text is read again in pass two).
    source: SourceFile,
    /// The lines the findings may point at, when the text is not kept.
    lines: HashMap<usize, String>,
    pending: PendingAnalysis,
}

/// What the output needs of `text` (the file of `input`), given its
/// analysis pending: the whole text for `--fix` and `--diff` (`keep_text`)
/// when it may have findings, or when the analysis needs it and it cannot
/// be read again (standard input's template); else only the lines its
/// findings and accounts may point at. A template's text is not kept
/// through pass one (every template of the corpus held at once was 9.7
/// MB): pass two reads it again.
fn keep(
    input: &Input,
    text: &str,
    pending: &PendingAnalysis,
    keep_text: bool,
) -> (SourceFile, HashMap<usize, String>) {
    let mut lines = HashMap::new();
    let keep_whole = (pending.needs_text() && matches!(input, Input::Stdin))
        || (keep_text && pending.may_report());
    if !keep_whole {
        if let (true, Some(index)) = (pending.may_report(), pending.line_index()) {
            for offset in pending.offsets() {
                let line = index.line_of(offset);
                lines
                    .entry(line)
                    .or_insert_with(|| index.line_text(text, line).to_string());
            }
        }
    }
    let source = SourceFile {
        display: input.display().to_string(),
        path: match input {
            Input::Stdin => None,
            Input::File { path, .. } => Some(path.clone()),
        },
        text: if keep_whole {
            text.to_string()
        } else {
            String::new()
        },
    };
    (source, lines)
}

thread_local! {
    /// The bytes of the file a thread is reading in pass one.
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What pass one made of an input.
enum FirstPass {
    Facts(tokenguard_analysis::host::FileFacts),
    /// A reported file read for a check, with what is kept of it.
    Read(
        Box<tokenguard_analysis::host::FileReading>,
        SourceFile,
        HashMap<usize, String>,
    ),
}

/// Feeds every input to a new host (pass one): each file is read in
/// parallel (its facts, and with [`Pass::Check`] a reported file's analysis
/// from the same parse) and fed in order, the project's configuration is
/// put in force, and the charts that reading in place cannot decide are
/// rendered (unless `render` is false). `context_inputs` (from
/// `--workspace`) join the context (their ServiceAccounts, charts and
/// kustomizations count) but are not reported; a context file that cannot
/// be read is a warning, as nothing of it was to be reported.
pub fn feed_inputs(
    reported_inputs: Vec<Input>,
    context_inputs: Vec<Input>,
    max_size: u64,
    render: bool,
    pass: Pass,
    project: &Project,
    log: &mut ErrorLog,
) -> FedInputs {
    let reported = reported_inputs.len();
    let mut inputs = reported_inputs;
    inputs.extend(context_inputs);
    let mut host = AnalysisHost::new(DiskSource::new(max_size));
    host.set_configuration(None, project.configuration.clone());
    // The files are read against a second host that is never fed (what
    // pass one computes depends on no other file), so that the first host
    // can be fed, in order, while later files are still being read.
    let mut reader = AnalysisHost::new(DiskSource::new(max_size));
    reader.set_configuration(None, project.configuration.clone());
    // Standard input can be read only once: it is kept whole.
    let stdin = inputs
        .iter()
        .any(|i| matches!(i, Input::Stdin))
        .then(|| load::load_stdin(max_size));

    // What pass one makes of a loaded input (with a reported file's chart
    // to render when reading it in place cannot decide).
    let reader = &reader;
    let first_pass = |i: usize, input: &Input, text: &str| {
        let name = file_path(input);
        let first = match pass {
            Pass::Check { keep_text } if i < reported => {
                let reading = reader.read_file(&name, text);
                let (source, lines) = keep(input, text, &reading.pending, keep_text);
                FirstPass::Read(Box::new(reading), source, lines)
            }
            _ => FirstPass::Facts(reader.facts(&name, text)),
        };
        // Only a chart template can need rendering: the file is not
        // classified again (a manifest's text searched for actions) to
        // learn that.
        let kind = match &first {
            FirstPass::Facts(facts) => &facts.kind,
            FirstPass::Read(reading, ..) => &reading.facts.kind,
        };
        let chart = (i < reported && matches!(kind, FileKind::ChartTemplate(_)))
            .then(|| reader.needs_rendering_of(&name, kind, text))
            .flatten();
        (first, chart)
    };
    let read_one = |i: usize| -> Option<Result<_, Outcome>> {
        let Input::File {
            path,
            display,
            explicit,
        } = &inputs[i]
        else {
            return None;
        };
        // Each thread reads into one buffer, file after file.
        Some(READ_BUFFER.with_borrow_mut(|buffer| {
            load::load_into(path, display, *explicit, max_size, buffer)
                .map(|text| first_pass(i, &inputs[i], text))
        }))
    };

    // Standard input's pass one (it appears at most once among the inputs).
    let mut stdin_first = match (
        &stdin,
        inputs.iter().position(|i| matches!(i, Input::Stdin)),
    ) {
        (Some(Outcome::Loaded(source)), Some(i)) => {
            Some(Ok(first_pass(i, &inputs[i], &source.text)))
        }
        (Some(other), Some(_)) => Some(Err(other.clone())),
        _ => None,
    };
    let mut readable = vec![false; inputs.len()];
    let mut to_render = BTreeSet::new();
    let mut stdin_source = None;
    let mut read = Vec::new();
    let mut feed_one = |i: usize, result: Option<Result<_, Outcome>>| {
        let input = &inputs[i];
        let result = match (input, result) {
            (Input::Stdin, _) => match stdin_first.take() {
                Some(result) => {
                    if let Some(Outcome::Loaded(source)) = &stdin {
                        stdin_source = Some(source.clone());
                    }
                    result
                }
                None => return,
            },
            (_, Some(result)) => result,
            (_, None) => return,
        };
        match result {
            Ok((first, chart)) => {
                readable[i] = true;
                match first {
                    FirstPass::Facts(facts) => {
                        host.add_facts(file_path(input), facts);
                    }
                    FirstPass::Read(reading, source, lines) => {
                        let pending = host.add_reading(file_path(input), *reading);
                        read.push(ReadFile {
                            source,
                            lines,
                            pending,
                        });
                    }
                }
                to_render.extend(chart);
            }
            Err(Outcome::Skipped(message)) => log.warning(message),
            Err(Outcome::Failed(message)) if i >= reported => {
                log.warning(format_args!("{message}; not read as context"));
            }
            Err(Outcome::Failed(message)) => log.error(message),
            Err(Outcome::Loaded(_)) => {}
        }
    };
    in_order(inputs.len(), read_one, &mut feed_one);
    // The buffers are as large as the largest file: not kept for pass two.
    rayon::broadcast(|_| READ_BUFFER.take());
    for warning in reader.source().take_warnings() {
        log.warning(warning);
    }
    for warning in host.source().take_warnings() {
        log.warning(warning);
    }
    crate::helm_render::render_charts(&mut host, &to_render, render, project, log);
    let context = CheckContext {
        values: values_files(&host),
        host,
    };
    // (A check has what it needs of them in `read`.)
    let reported = match pass {
        Pass::Facts => {
            inputs.truncate(reported);
            inputs
                .into_iter()
                .zip(readable)
                .filter_map(|(input, ok)| ok.then_some(input))
                .collect()
        }
        Pass::Check { .. } => Vec::new(),
    };
    FedInputs {
        context,
        reported,
        stdin_source,
        max_size,
        read,
    }
}

/// Computes `work(i)` for every `i` below `count` on the pool's threads,
/// taking the indexes in order, and hands the results to `take` on the
/// calling thread in the order of the indexes, each as soon as it and
/// every one before it are done: the sequential `take` runs while later
/// items are still being worked on.
pub(crate) fn in_order<T: Send>(
    count: usize,
    work: impl Fn(usize) -> T + Sync,
    take: &mut dyn FnMut(usize, T),
) {
    if count == 0 {
        return;
    }
    // Indexes are taken a few at a time, and their results sent together:
    // one message (and one wake-up of the calling thread) per item would
    // cost more than a small file's reading.
    const BATCH: usize = 16;
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel::<Vec<(usize, T)>>();
    let threads = rayon::current_num_threads().clamp(1, count.div_ceil(BATCH));
    std::thread::scope(|scope| {
        let (work, next) = (&work, &next);
        scope.spawn(move || {
            // Each worker takes the next indexes when it is free, so results
            // come in nearly in order and few wait to be taken.
            (0..threads)
                .into_par_iter()
                .for_each_with(sender, |sender, _| loop {
                    let first = next.fetch_add(BATCH, Ordering::Relaxed);
                    if first >= count {
                        break;
                    }
                    let done = (first..count.min(first + BATCH))
                        .map(|i| (i, work(i)))
                        .collect();
                    if sender.send(done).is_err() {
                        break;
                    }
                });
        });
        let mut waiting: Vec<Option<T>> = Vec::new();
        waiting.resize_with(count, || None);
        let mut taken = 0;
        for done in receiver {
            for (i, result) in done {
                waiting[i] = Some(result);
            }
            while let Some(result) = waiting.get_mut(taken).and_then(Option::take) {
                take(taken, result);
                taken += 1;
            }
        }
    });
}

impl FedInputs {
    /// Reads each reported file again (pass two) and hands it to `analyse`
    /// with the host, in parallel; the results come in the order of the
    /// inputs. A file that can no longer be read is an error in `log`.
    pub fn analyse_reported<T: Send>(
        &self,
        log: &mut ErrorLog,
        analyse: impl Fn(SourceFile, &CheckContext) -> T + Sync,
    ) -> Vec<T> {
        let results: Vec<Result<T, String>> = self
            .reported
            .par_iter()
            .map(|input| {
                let source = match input {
                    Input::Stdin => self.stdin_source.clone().ok_or_else(String::new)?,
                    Input::File {
                        path,
                        display,
                        explicit,
                    } => match load::load_file(path, display, *explicit, self.max_size) {
                        Outcome::Loaded(source) => source,
                        Outcome::Skipped(m) | Outcome::Failed(m) => return Err(m),
                    },
                };
                Ok(analyse(source, &self.context))
            })
            .collect();
        let mut out = Vec::with_capacity(results.len());
        for result in results {
            match result {
                Ok(value) => out.push(value),
                Err(message) if !message.is_empty() => log.error(message),
                Err(_) => {}
            }
        }
        out
    }
}

/// How the host names a file read from `source` (standard input is in no
/// folder).
pub fn source_path(source: &SourceFile) -> FilePath {
    match source.path {
        Some(_) => FilePath::new(source.display.as_str()),
        None => FilePath::detached(source.display.as_str()),
    }
}

/// Checks every input; returns the files sorted by display path, and the
/// workspace context they were judged against (see [`feed_inputs`]). Each
/// file is read and parsed once.
pub fn check_inputs(
    reported_inputs: Vec<Input>,
    context_inputs: Vec<Input>,
    max_size: u64,
    keep_text: bool,
    render: bool,
    project: &Project,
    log: &mut ErrorLog,
) -> (Vec<CheckedFile>, CheckContext) {
    let mut fed = feed_inputs(
        reported_inputs,
        context_inputs,
        max_size,
        render,
        Pass::Check { keep_text },
        project,
        log,
    );
    let read = std::mem::take(&mut fed.read);
    let context = &fed.context;
    let max_size = fed.max_size;
    // Pass two: what depends on the complete indexes, without reading or
    // parsing a manifest again (a template is read again, and analysed
    // from its text).
    let results: Vec<Result<CheckedFile, String>> = read
        .into_par_iter()
        .filter_map(|file| {
            let ReadFile {
                mut source,
                lines,
                pending,
            } = file;
            if pending.needs_text() && source.text.is_empty() {
                if let Some(path) = &source.path {
                    match load::load_file(path, &source.display, true, max_size) {
                        Outcome::Loaded(again) => source.text = again.text,
                        Outcome::Skipped(message) | Outcome::Failed(message) => {
                            return Some(Err(message));
                        }
                    }
                }
            }
            let path = source_path(&source);
            let text = pending.needs_text().then_some(source.text.as_str());
            let analysis = context.host.complete(&path, pending, text)?;
            Some(Ok(checked_file(
                source,
                analysis,
                Kept::Lines(lines),
                context,
                keep_text,
                max_size,
            )))
        })
        .collect();
    let mut files = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok(file) => files.push(file),
            Err(message) => log.error(message),
        }
    }
    files.sort_by(|a, b| a.source.display.cmp(&b.source.display));
    for file in &files {
        if let Some(note) = &file.not_evaluated {
            log.note(format_args!("{}: {note}", file.source.display));
        }
    }
    (files, fed.context)
}

/// Judges one file in its workspace context, keeping what the output will
/// need (see [`CheckedFile`]).
pub fn check_source(source: SourceFile, context: &CheckContext, keep_text: bool) -> CheckedFile {
    let path = source_path(&source);
    let analysis = context.host.analyze(&path, &source.text);
    checked_file(source, analysis, Kept::Text, context, keep_text, 0)
}

/// What was kept of a file's text before its analysis was complete.
enum Kept {
    /// `source.text` is the whole text.
    Text,
    /// When `source.text` is empty: the lines the analysis said its
    /// findings and accounts may point at.
    Lines(HashMap<usize, String>),
}

/// The checked file of `analysis`, with what the output will need of the
/// text (see [`CheckedFile`]).
fn checked_file(
    mut source: SourceFile,
    analysis: FileAnalysis,
    kept: Kept,
    context: &CheckContext,
    keep_text: bool,
    max_size: u64,
) -> CheckedFile {
    let path = source_path(&source);
    let kept = match kept {
        Kept::Lines(lines) if source.text.is_empty() => Some(lines),
        _ => None,
    };
    // (Only a template's reading needs rendering, and its text is kept.)
    let not_evaluated = (kept.is_none()
        && analysis
            .findings
            .iter()
            .all(|f| f.code != tokenguard_analysis::Code::TG001))
    .then(|| context.host.not_evaluated(&path, &source.text))
    .flatten();
    let mut other_files = HashMap::new();
    if let Some(values) = analysis
        .chart
        .as_ref()
        .and_then(|root| context.values.get(root))
    {
        other_files.insert(values.display.clone(), Arc::clone(values));
    }
    let findings = analysis.findings;
    let mut lines = HashMap::new();
    let line_index = if findings.is_empty() && analysis.accounts.is_empty() {
        source.text = String::new();
        LineIndex::default()
    } else {
        if !keep_text || kept.is_some() {
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
                .chain(analysis.accounts.iter().map(|a| a.name_range))
                .flat_map(|r| [r.start, r.end]);
            let index = &analysis.line_index;
            let needed: BTreeSet<usize> = offsets.map(|offset| index.line_of(offset)).collect();
            match kept {
                Some(mut kept) => {
                    if needed.iter().any(|line| !kept.contains_key(line)) {
                        // Not expected (the reading names every place its
                        // findings can point at): the text is read again.
                        kept = reread_lines(&source, index, &needed, max_size);
                    }
                    for line in needed {
                        if let Some(text) = kept.remove(&line) {
                            lines.insert(line, text);
                        }
                    }
                }
                None => {
                    for line in needed {
                        lines.insert(line, index.line_text(&source.text, line).to_string());
                    }
                    source.text = String::new();
                }
            }
        }
        analysis.line_index
    };
    CheckedFile {
        source,
        line_index,
        lines,
        findings,
        other_files,
        not_evaluated,
    }
}

/// The lines `needed` of a file read again (empty when it cannot be).
fn reread_lines(
    source: &SourceFile,
    index: &LineIndex,
    needed: &BTreeSet<usize>,
    max_size: u64,
) -> HashMap<usize, String> {
    let Some(path) = &source.path else {
        return HashMap::new();
    };
    let Outcome::Loaded(again) = load::load_file(path, &source.display, false, max_size) else {
        return HashMap::new();
    };
    needed
        .iter()
        .map(|&line| (line, index.line_text(&again.text, line).to_string()))
        .collect()
}

pub fn finding_count(files: &[CheckedFile]) -> usize {
    files.iter().map(|f| f.findings.len()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenguard_analysis::files::FileKind;

    #[test]
    fn templates_are_found_under_the_charts_templates_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let chart = dir.path().join("demo");
        fs::create_dir_all(chart.join("templates/sub")).expect("dirs");
        fs::write(chart.join("Chart.yaml"), "name: demo\n").expect("chart");
        let host = AnalysisHost::new(DiskSource::new(1 << 20));
        let kind = |path: &Path, text: &str| host.facts(&FilePath::from_path(path), text).kind;
        let root = PathBuf::from(FilePath::from_path(&chart).as_str());
        assert_eq!(
            kind(&chart.join("templates/deployment.yaml"), ""),
            FileKind::ChartTemplate(root.clone())
        );
        assert_eq!(
            kind(&chart.join("templates/sub/job.yaml"), ""),
            FileKind::ChartTemplate(root)
        );
        assert_eq!(kind(&chart.join("values.yaml"), ""), FileKind::Manifest);
        assert_eq!(kind(&dir.path().join("other.yaml"), ""), FileKind::Manifest);
        let stdin = |text: &str| host.facts(&FilePath::detached("<stdin>"), text).kind;
        assert_eq!(stdin("a: {{ .Values.a }}\n"), FileKind::LooseTemplate);
        assert_eq!(stdin("a: 1\n"), FileKind::Manifest);
        // The chart's templates, listed as the host names them.
        fs::write(chart.join("templates/sub/job.yaml"), "kind: Job\n").expect("job");
        fs::write(chart.join("templates/notes.txt"), "x").expect("notes");
        let listed = host
            .source()
            .list_yaml(&FilePath::from_path(&chart.join("templates")));
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert!(listed[0].as_str().ends_with("templates/sub/job.yaml"));
    }
}
