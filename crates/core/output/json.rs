//! For scripts: a JSON array of findings. The field set is a stable
//! contract; add fields only at the end and never rename one.

use std::io::{self, Write};

use serde::Serialize;
use tokenguard_analysis::{Finding, TextEdit};

use super::Workspace;
use crate::check::CheckedFile;

#[derive(Serialize)]
struct JsonFinding<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    severity: &'static str,
    code: &'static str,
    message: &'a str,
    kind: Option<&'a str>,
    name: Option<&'a str>,
    fix: Option<JsonFix<'a>>,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    title: &'a str,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    new_text: &'a str,
}

pub fn write(workspace: &Workspace, out: &mut dyn Write) -> io::Result<()> {
    let findings: Vec<JsonFinding> = workspace
        .findings()
        .map(|(file, finding)| json_finding(file, finding))
        .collect();
    serde_json::to_writer_pretty(&mut *out, &findings)?;
    writeln!(out)
}

fn json_finding<'a>(file: &'a CheckedFile, finding: &'a Finding) -> JsonFinding<'a> {
    let span = file.span(finding.range);
    let workload = finding.workload.as_ref();
    JsonFinding {
        file: file.display(),
        line: span.start.line,
        column: span.start.column,
        end_line: span.end.line,
        end_column: span.end.column,
        severity: finding.severity.as_str(),
        code: finding.code.as_str(),
        message: &finding.message,
        kind: workload.map(|w| w.kind.as_str()),
        name: workload.and_then(|w| w.name.as_deref()),
        fix: finding.fix.as_ref().map(|fix| JsonFix {
            title: &fix.title,
            edits: fix.edits.iter().map(|edit| json_edit(file, edit)).collect(),
        }),
    }
}

fn json_edit<'a>(file: &CheckedFile, edit: &'a TextEdit) -> JsonEdit<'a> {
    let span = file.span(edit.range);
    JsonEdit {
        line: span.start.line,
        column: span.start.column,
        end_line: span.end.line,
        end_column: span.end.column,
        new_text: &edit.new_text,
    }
}
