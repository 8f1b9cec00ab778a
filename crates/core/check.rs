//! Analysing the loaded files as one workspace.

use rayon::prelude::*;
use tokenguard_analysis::{AccountIndex, Finding, LineIndex, ParsedFile};

use crate::load::SourceFile;

/// A file with its findings, in text order.
#[derive(Debug)]
pub struct CheckedFile {
    pub source: SourceFile,
    pub line_index: LineIndex,
    pub findings: Vec<Finding>,
}

impl CheckedFile {
    pub fn display(&self) -> &str {
        &self.source.display
    }

    pub fn text(&self) -> &str {
        &self.source.text
    }
}

/// Parses every file, resolves ServiceAccounts across all of them, and
/// returns the files sorted by display path.
pub fn check_workspace(sources: Vec<SourceFile>) -> Vec<CheckedFile> {
    let parsed: Vec<ParsedFile> = sources
        .par_iter()
        .map(|source| tokenguard_analysis::parse(&source.text))
        .collect();
    // Every file's accounts are known before any workload is judged, so the
    // result does not depend on the order of the paths.
    let mut index = AccountIndex::new();
    for (source, parsed) in sources.iter().zip(&parsed) {
        if !parsed.accounts.is_empty() {
            index.set(&source.display, parsed.accounts.clone());
        }
    }
    let mut files: Vec<CheckedFile> = sources
        .into_par_iter()
        .zip(parsed)
        .map(|(source, parsed)| {
            let findings = tokenguard_analysis::check(&source.text, &parsed, &index);
            CheckedFile {
                source,
                line_index: parsed.line_index,
                findings,
            }
        })
        .collect();
    files.sort_by(|a, b| a.source.display.cmp(&b.source.display));
    files
}

pub fn finding_count(files: &[CheckedFile]) -> usize {
    files.iter().map(|f| f.findings.len()).sum()
}
