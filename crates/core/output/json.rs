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
    /// Other places that explain the finding (a chart's values.yaml line);
    /// left out when there are none, so plain manifests read as before.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<JsonRelated<'a>>,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    title: &'a str,
    edits: Vec<JsonEdit<'a>>,
    /// The file the edits apply to, when not the finding's own (left out
    /// otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
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
        .map(|(file, finding)| json_finding(workspace, file, finding))
        .collect();
    serde_json::to_writer_pretty(&mut *out, &findings)?;
    writeln!(out)
}

fn json_finding<'a>(
    workspace: &Workspace<'a>,
    file: &'a CheckedFile,
    finding: &'a Finding,
) -> JsonFinding<'a> {
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
        fix: finding.fix.as_ref().and_then(|fix| {
            let target = fix.file.as_deref();
            let edits = fix
                .edits
                .iter()
                .map(|edit| json_edit(workspace, file, target, edit))
                .collect::<Option<Vec<_>>>()?;
            Some(JsonFix {
                title: &fix.title,
                edits,
                file: target
                    .and_then(|t| workspace.span_in(file, Some(t), Default::default()))
                    .map(|(display, _)| display),
            })
        }),
        related: finding
            .related
            .iter()
            .filter_map(|related| {
                let (display, span) =
                    workspace.span_in(file, related.file.as_deref(), related.range)?;
                Some(JsonRelated {
                    file: display,
                    line: span.start.line,
                    column: span.start.column,
                    end_line: span.end.line,
                    end_column: span.end.column,
                    message: &related.message,
                })
            })
            .collect(),
    }
}

fn json_edit<'a>(
    workspace: &Workspace<'a>,
    file: &'a CheckedFile,
    target: Option<&str>,
    edit: &'a TextEdit,
) -> Option<JsonEdit<'a>> {
    let (_, span) = workspace.span_in(file, target, edit.range)?;
    Some(JsonEdit {
        line: span.start.line,
        column: span.start.column,
        end_line: span.end.line,
        end_column: span.end.column,
        new_text: &edit.new_text,
    })
}
