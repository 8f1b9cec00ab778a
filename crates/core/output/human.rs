//! For people: `path:line:col: warning[TG001] message`, the source line with
//! a caret underline, and the fix as help, in the manner of rustc and ruff.

use std::io::{self, Write};

use tokenguard_analysis::{Finding, Severity, TextRange};

use super::{printable, Workspace};
use crate::check::{finding_count, CheckedFile};

const TAB_WIDTH: usize = 4;

/// ANSI styling, or none.
#[derive(Clone, Copy)]
struct Style {
    color: bool,
}

impl Style {
    fn paint(self, sgr: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn severity_sgr(severity: Severity) -> &'static str {
        match severity {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Information | Severity::Hint => "1;36",
        }
    }
}

const BOLD: &str = "1";
const GUTTER: &str = "1;34";
const HELP: &str = "1;36";

/// Every finding, an empty line between two.
pub fn write(workspace: &Workspace, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let style = Style { color };
    super::write_per_file(
        workspace,
        out,
        |file| {
            let mut text = Vec::new();
            for (i, finding) in file.findings.iter().enumerate() {
                if i > 0 {
                    writeln!(text)?;
                }
                write_finding(workspace, file, finding, &mut text, style)?;
            }
            Ok(text)
        },
        [b"", b"\n", b"", b""],
    )
}

fn write_finding(
    workspace: &Workspace,
    file: &CheckedFile,
    finding: &Finding,
    out: &mut dyn Write,
    style: Style,
) -> io::Result<()> {
    let start = file.position(finding.range.start);
    let severity_sgr = Style::severity_sgr(finding.severity);
    writeln!(
        out,
        "{}: {} {}",
        style.paint(
            BOLD,
            &format!(
                "{}:{}:{}",
                printable(file.display()),
                start.line,
                start.column
            )
        ),
        style.paint(
            severity_sgr,
            &format!("{}[{}]", finding.severity.as_str(), finding.code.as_str())
        ),
        printable(&finding.message)
    )?;
    write_snippet(file, finding.range, severity_sgr, out, style)?;
    if let Some(fix) = &finding.fix {
        // A fix of another file (a chart's values.yaml) says which.
        let elsewhere = fix
            .file
            .as_deref()
            .and_then(|target| workspace.span_in(file, Some(target), TextRange::default()))
            .map(|(display, _)| format!(" ({})", printable(display)))
            .unwrap_or_default();
        writeln!(
            out,
            "  {} {}{elsewhere}",
            style.paint(HELP, "= help:"),
            printable(&fix.title)
        )?;
    }
    if let Some(permissions) = &finding.permissions {
        writeln!(
            out,
            "  {} token risk {}: {}",
            style.paint(BOLD, "= note:"),
            permissions.risk.as_str(),
            printable(&permissions.summary())
        )?;
    }
    for related in &finding.related {
        if let Some((display, span)) = workspace.related_span(file, finding, related) {
            writeln!(
                out,
                "  {} {} at {}:{}:{}",
                style.paint(BOLD, "= note:"),
                printable(&related.message),
                printable(display),
                span.start.line,
                span.start.column
            )?;
        }
    }
    if let Some((declaring, name_range)) = workspace.account_location(file, finding) {
        let at = declaring.position(name_range.start);
        let account = finding.account.as_ref().map_or("", |a| a.name.as_str());
        writeln!(
            out,
            "  {} ServiceAccount \"{}\" is declared at {}:{}:{}",
            style.paint(BOLD, "= note:"),
            printable(account),
            printable(declaring.display()),
            at.line,
            at.column
        )?;
    }
    Ok(())
}

/// The reported line with its number, and carets under the range (to the end
/// of the line when the range goes on; one caret when it is empty).
fn write_snippet(
    file: &CheckedFile,
    range: TextRange,
    caret_sgr: &str,
    out: &mut dyn Write,
    style: Style,
) -> io::Result<()> {
    let (line, start_col) = file.line_col(range.start);
    let (end_line, end_col) = file.line_col(range.end);
    let line_text = file.line_text(line);
    let end_col = if end_line == line {
        end_col
    } else {
        line_text.chars().count()
    };
    let width_of = |c: char| if c == '\t' { TAB_WIDTH } else { 1 };
    let indent: usize = line_text.chars().take(start_col).map(width_of).sum();
    let carets: usize = line_text
        .chars()
        .skip(start_col)
        .take(end_col.saturating_sub(start_col))
        .map(width_of)
        .sum::<usize>()
        .max(1);
    let shown: String = printable(line_text).replace('\t', &" ".repeat(TAB_WIDTH));
    let number = (line + 1).to_string();
    let pad = " ".repeat(number.len());
    let bar = style.paint(GUTTER, "|");
    writeln!(out, "{pad} {bar}")?;
    // No trailing blank after the bar when the line is empty.
    let separator = if shown.is_empty() { "" } else { " " };
    writeln!(
        out,
        "{} {bar}{separator}{shown}",
        style.paint(GUTTER, &number)
    )?;
    writeln!(
        out,
        "{pad} {bar} {}{}",
        " ".repeat(indent),
        style.paint(caret_sgr, &"^".repeat(carets))
    )?;
    Ok(())
}

/// `Found 2 findings in 3 files (2 fixable with --fix).` or
/// `No findings in 3 files.`; M counts the files checked. Errors reported
/// above (a path that could not be read) are counted at the end, so that the
/// summary never reads as a clean bill when something was not checked.
pub fn summary(files: &[CheckedFile], errors: usize, color: bool) -> String {
    let style = Style { color };
    let findings = finding_count(files);
    let checked = plural(files.len(), "file", "files");
    let errors_note = match errors {
        0 => String::new(),
        n => format!("; {} above", plural(n, "error", "errors")),
    };
    if files.is_empty() && errors > 0 {
        return style.paint(BOLD, &format!("No files checked{errors_note}."));
    }
    if findings == 0 {
        return style.paint(BOLD, &format!("No findings in {checked}{errors_note}."));
    }
    let fixable = files
        .iter()
        .flat_map(|f| &f.findings)
        .filter(|f| f.fix.is_some())
        .count();
    style.paint(
        BOLD,
        &format!(
            "Found {} in {checked} ({fixable} fixable with --fix){errors_note}.",
            plural(findings, "finding", "findings")
        ),
    )
}

pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
