//! `tokenguard check`: find the files, analyse them, then report, fix or diff.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::args::{CheckArgs, Format};
use crate::check::{self, finding_count, CheckContext, CheckedFile};
use crate::errors::ErrorLog;
use crate::load::SourceFile;
use crate::output::{self, plural};
use crate::project::Project;
use crate::{diff, fix, walk};

/// Exit statuses; part of the CLI contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Clean = 0,
    Findings = 1,
    Error = 2,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> Self {
        ExitCode::from(status as u8)
    }
}

pub fn check(args: &CheckArgs) -> Status {
    let mut log = ErrorLog::default();
    let project = Project::for_check(args, &mut log);
    if args.print_config {
        let _ = write_to(&mut io::stdout().lock(), |out| {
            out.write_all(project.describe().as_bytes())
        });
        return if log.has_errors() {
            Status::Error
        } else {
            Status::Clean
        };
    }
    let inputs = inputs(&args.paths, &project, &mut log);
    let context_inputs = match &args.workspace {
        Some(dir) => workspace_inputs(dir, &inputs, &project, &mut log),
        None => Vec::new(),
    };
    // Only fixing and diffing need whole texts after the check.
    let keep_text = args.fix || args.diff;
    let (files, context) = check::check_inputs(
        inputs,
        context_inputs,
        args.max_file_size,
        keep_text,
        !args.no_render,
        &project,
        &mut log,
    );
    let status = if args.diff {
        show_diff(args, &files, &mut log)
    } else if args.fix {
        fix_and_report(args, files, context, &mut log)
    } else {
        let status = report(args, &files, Target::Stdout, &mut log);
        // The process ends right after: freeing every finding and index one
        // by one would only keep it from ending (a tenth of the report's
        // time on a large checkout).
        std::mem::forget(files);
        std::mem::forget(context);
        status
    };
    if log.has_errors() {
        Status::Error
    } else {
        status
    }
}

/// The files under `paths` the project does not exclude (every command
/// reads the same files); none is a warning.
pub fn inputs(paths: &[PathBuf], project: &Project, log: &mut ErrorLog) -> Vec<walk::Input> {
    let mut inputs = walk::collect_inputs(paths, log);
    inputs.retain(|input| match input {
        walk::Input::File { path, .. } => !project.excludes(path),
        walk::Input::Stdin => true,
    });
    if inputs.is_empty() && !log.has_errors() {
        log.warning("no YAML files (*.yaml, *.yml) found under the given paths");
    }
    inputs
}

/// The YAML files under `--workspace DIR` that are not among the checked
/// inputs: read for context only. The project's exclusions apply to them as
/// to the checked files.
fn workspace_inputs(
    dir: &Path,
    checked: &[walk::Input],
    project: &Project,
    log: &mut ErrorLog,
) -> Vec<walk::Input> {
    if !dir.is_dir() {
        let problem = match fs::metadata(dir) {
            Ok(_) => "not a folder".to_string(),
            Err(e) => crate::atomic::describe(&e),
        };
        log.error(format_args!(
            "--workspace {}: {problem}",
            walk::display_path(dir)
        ));
        return Vec::new();
    }
    let identity = |input: &walk::Input| match input {
        walk::Input::File { path, .. } => fs::canonicalize(path).ok(),
        walk::Input::Stdin => None,
    };
    let checked: HashSet<PathBuf> = checked.iter().filter_map(identity).collect();
    let mut inputs = walk::collect_inputs(&[dir.to_path_buf()], log);
    inputs.retain(|input| match input {
        walk::Input::File { path, .. } => {
            !project.excludes(path) && identity(input).is_none_or(|p| !checked.contains(&p))
        }
        walk::Input::Stdin => false,
    });
    inputs
}

/// Where the findings go: stdout, unless stdout carries fixed text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Stdout,
    Stderr,
}

fn report(args: &CheckArgs, files: &[CheckedFile], target: Target, log: &mut ErrorLog) -> Status {
    let (mut stream, is_terminal): (Box<dyn Write>, bool) = match target {
        Target::Stdout => (Box::new(io::stdout().lock()), io::stdout().is_terminal()),
        Target::Stderr => (Box::new(io::stderr().lock()), io::stderr().is_terminal()),
    };
    let color = args.color.enabled(is_terminal);
    if let Err(e) = write_to(&mut stream, |out| {
        output::write_report(args.format, files, out, color)
    }) {
        log.error(format_args!(
            "cannot write the report: {}",
            crate::atomic::describe(&e)
        ));
    }
    drop(stream);
    if args.format == Format::Human {
        let color = args.color.enabled(io::stderr().is_terminal());
        // On a terminal the summary follows the findings as one more block.
        let gap = if finding_count(files) > 0 { "\n" } else { "" };
        note(&format!(
            "{gap}{}",
            output::summary(files, log.count(), color)
        ));
    }
    if finding_count(files) > 0 {
        Status::Findings
    } else {
        Status::Clean
    }
}

fn show_diff(args: &CheckArgs, files: &[CheckedFile], log: &mut ErrorLog) -> Status {
    let plans = fix::plan(files);
    let color = args.color.enabled(io::stdout().is_terminal());
    let result = write_to(&mut io::stdout().lock(), |out| {
        for plan in &plans {
            let text = diff::unified(&plan.display, &plan.original, &plan.fixed);
            out.write_all(diff::paint(&text, color).as_bytes())?;
        }
        Ok(())
    });
    if let Err(e) = result {
        log.error(format_args!(
            "cannot write the diff: {}",
            crate::atomic::describe(&e)
        ));
    }
    let planned: HashSet<&str> = plans.iter().map(|p| p.display.as_str()).collect();
    for message in fix::bound_account_notes(files, false, &|f| planned.contains(f)) {
        log.note(message);
    }
    if plans.is_empty() {
        note(&format!(
            "Nothing to fix in {}.",
            plural(files.len(), "file", "files")
        ));
        Status::Clean
    } else {
        let fixes = plans.iter().map(|p| p.fixes).sum();
        note(&format!(
            "Would fix {} in {}.",
            plural(fixes, "finding", "findings"),
            plural(plans.len(), "file", "files")
        ));
        Status::Findings
    }
}

fn fix_and_report(
    args: &CheckArgs,
    files: Vec<CheckedFile>,
    mut context: CheckContext,
    log: &mut ErrorLog,
) -> Status {
    let mut fixed_texts: HashMap<String, String> = HashMap::new();
    let mut fixes = 0;
    for plan in fix::plan(&files) {
        let display = plan.display;
        if let Some(path) = &plan.path {
            if let Err(message) = fix::write_in_place(path, &plan.original, &plan.fixed) {
                log.error(format_args!("{display}: {message}"));
                continue;
            }
        }
        fixes += plan.fixes;
        fixed_texts.insert(display, plan.fixed);
    }
    // A fixed `values.yaml` changes what its chart's templates render:
    // those are judged again with the values as they are now.
    let changed: HashSet<String> = fixed_texts.keys().cloned().collect();
    let fixed_values: HashSet<String> = files
        .iter()
        .flat_map(|file| file.other_files.keys())
        .filter(|other| changed.contains(*other))
        .cloned()
        .collect();
    for values in fixed_values {
        if let Some(text) = fixed_texts.get(&values) {
            context.update(&values, text.clone());
        }
    }
    for message in fix::bound_account_notes(&files, true, &|f| fixed_texts.contains_key(f)) {
        log.note(message);
    }
    if !fixed_texts.is_empty() {
        note(&format!(
            "Fixed {} in {}.",
            plural(fixes, "finding", "findings"),
            plural(fixed_texts.len(), "file", "files")
        ));
    }
    // Standard input cannot be fixed in place: its fixed text (or the text
    // itself, when there was nothing to fix) goes to stdout, so that `--fix -`
    // works as a filter, and the findings go to stderr.
    let mut target = Target::Stdout;
    let mut remaining: Vec<CheckedFile> = Vec::with_capacity(files.len());
    for file in files {
        let fixed = fixed_texts.remove(file.display());
        if file.source.path.is_none() {
            target = Target::Stderr;
            let text = fixed.as_deref().unwrap_or(file.text()).as_bytes();
            if let Err(e) = write_to(&mut io::stdout().lock(), |out| out.write_all(text)) {
                log.error(format_args!(
                    "cannot write the fixed text: {}",
                    crate::atomic::describe(&e)
                ));
            }
        }
        // What is left: findings without a fix, and anything a fix uncovered.
        // Fixes touch pod specs only, so the ServiceAccount index still holds.
        let values_changed = file.other_files.keys().any(|o| changed.contains(o));
        remaining.push(match fixed {
            Some(text) => check::check_source(
                SourceFile {
                    text,
                    ..file.source
                },
                &context,
                true,
            ),
            None if values_changed && !file.findings.is_empty() => {
                check::check_source(file.source, &context, true)
            }
            None => file,
        });
    }
    report(args, &remaining, target, log)
}

/// Writes through a buffer; a closed pipe (`| head`) is not an error.
pub fn write_to<W: Write>(
    stream: &mut W,
    body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = BufWriter::new(stream);
    let result = body(&mut out).and_then(|()| out.flush());
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// A line for the person at the terminal, on stderr.
fn note(message: &str) {
    let _ = writeln!(io::stderr(), "{message}");
}
