//! Writing findings in the formats `--format` offers. Every format speaks in
//! 1-based lines and 1-based columns counted in Unicode characters, with
//! exclusive ends; except SARIF, whose columns count UTF-16 code units, as
//! its `columnKind` says (the unit code scanning and SARIF viewers use).

pub mod accounts;
pub mod accounts_json;
mod github;
mod human;
mod json;
mod sarif;

use std::collections::HashMap;
use std::io::{self, Write};

use tokenguard_analysis::{Finding, Related, TextRange};

use crate::args::Format;
use crate::check::CheckedFile;

pub use human::{plural, summary};

/// A 1-based line and character column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// A range as the formats print it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: Position,
    pub end: Position,
}

impl CheckedFile {
    pub fn position(&self, offset: usize) -> Position {
        let (line, column) = self.line_col(offset);
        Position {
            line: line + 1,
            column: column + 1,
        }
    }

    pub fn span(&self, range: TextRange) -> Span {
        Span {
            start: self.position(range.start),
            end: self.position(range.end),
        }
    }
}

/// The checked files, with a way to find one by display path (the
/// ServiceAccount index names files that way).
pub struct Workspace<'a> {
    pub files: &'a [CheckedFile],
    by_display: HashMap<&'a str, &'a CheckedFile>,
}

impl<'a> Workspace<'a> {
    pub fn new(files: &'a [CheckedFile]) -> Self {
        let by_display = files.iter().map(|f| (f.display(), f)).collect();
        Self { files, by_display }
    }

    /// Every finding with its file, in output order.
    pub fn findings(&self) -> impl Iterator<Item = (&'a CheckedFile, &'a Finding)> {
        self.files
            .iter()
            .flat_map(|file| file.findings.iter().map(move |finding| (file, finding)))
    }

    /// Where the ServiceAccount consulted for a finding is declared: the file
    /// and the range of its name.
    pub fn account_location(
        &self,
        file: &'a CheckedFile,
        finding: &Finding,
    ) -> Option<(&'a CheckedFile, TextRange)> {
        let found = finding.account.as_ref()?.found.as_ref()?;
        let declaring = match &found.origin {
            None => file,
            Some(origin) => self.by_display.get(origin.as_str()).copied()?,
        };
        Some((declaring, found.account.name_range))
    }
}

impl<'a> Workspace<'a> {
    /// A range in `target`, a file a finding of `file` names (`None` for
    /// `file` itself; a Helm chart's `values.yaml` otherwise): that file's
    /// display name and the range as printed.
    pub fn span_in(
        &self,
        file: &'a CheckedFile,
        target: Option<&str>,
        range: TextRange,
    ) -> Option<(&'a str, Span)> {
        let Some(target) = target else {
            return Some((file.display(), file.span(range)));
        };
        let other = file.other_files.get(target)?;
        let position = |offset| {
            let (line, column) = other.line_col(offset);
            Position {
                line: line + 1,
                column: column + 1,
            }
        };
        Some((
            other.display.as_str(),
            Span {
                start: position(range.start),
                end: position(range.end),
            },
        ))
    }
}

impl<'a> Workspace<'a> {
    /// Where a related place of a finding of `file` is: in `file`, in a
    /// file of its chart ([`Workspace::span_in`]), or a place the
    /// finding's permissions name, whose line the finding records (a
    /// binding in another file): the file's display name and the range as
    /// printed (on one line).
    pub fn related_span(
        &self,
        file: &'a CheckedFile,
        finding: &'a Finding,
        related: &Related,
    ) -> Option<(&'a str, Span)> {
        if let Some(found) = self.span_in(file, related.file.as_deref(), related.range) {
            return Some(found);
        }
        let declared = finding.declared_at(related.file.as_deref()?, related.range)?;
        let (column, _) = declared.columns();
        let length = related.range.end.saturating_sub(related.range.start);
        let within = declared
            .range
            .start
            .saturating_sub(declared.line_start)
            .min(declared.line_text.len());
        let end_column = declared
            .line_text
            .get(within..(within + length).min(declared.line_text.len()))
            .map_or(0, |name| name.chars().count());
        let line = declared.line + 1;
        Some((
            declared.file.as_str(),
            Span {
                start: Position {
                    line,
                    column: column + 1,
                },
                end: Position {
                    line,
                    column: column + 1 + end_column,
                },
            },
        ))
    }
}

/// Writes the findings of every file, each file's worded by `file_text`
/// on the pool's threads while the files before it are written (in
/// order): the non-empty texts separated by `separator`, between `open` and
/// `close`; `empty` when no file has any.
fn write_per_file(
    workspace: &Workspace,
    out: &mut dyn Write,
    file_text: impl Fn(&CheckedFile) -> io::Result<Vec<u8>> + Sync,
    [open, separator, close, empty]: [&[u8]; 4],
) -> io::Result<()> {
    let files = workspace.files;
    let mut result = Ok(());
    let mut first = true;
    crate::check::in_order(
        files.len(),
        |i| file_text(&files[i]),
        &mut |_, text: io::Result<Vec<u8>>| {
            if result.is_err() {
                return;
            }
            result = text.and_then(|text| {
                if text.is_empty() {
                    return Ok(());
                }
                out.write_all(if first { open } else { separator })?;
                first = false;
                out.write_all(&text)
            });
        },
    );
    result?;
    out.write_all(if first { empty } else { close })
}

/// Writes every finding of `files` to `out` in `format`.
pub fn write_report(
    format: Format,
    files: &[CheckedFile],
    out: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    let workspace = Workspace::new(files);
    match format {
        Format::Human => human::write(&workspace, out, color),
        Format::Json => json::write(&workspace, out),
        Format::Sarif => sarif::write(&workspace, out),
        Format::Github => github::write(&workspace, out),
    }
}

/// Text from a manifest made safe for a terminal or a log: a control
/// character in a YAML string must not move the cursor or fake a line.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}
