//! `--fix`: what each file becomes, and writing it back safely.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tokenguard_analysis::{apply_edits, fix_all_edits, TextEdit};

use crate::atomic;
use crate::check::CheckedFile;

/// A file whose text the fixes change: a checked file, or a file its
/// findings' fixes edit (a Helm chart's `values.yaml`).
pub struct PlannedFix {
    pub display: String,
    /// `None` for standard input.
    pub path: Option<PathBuf>,
    /// The text as analysed.
    pub original: String,
    pub fixed: String,
    /// How many findings contributed a fix.
    pub fixes: usize,
}

/// The files that fixing would change, in output order (each file's other
/// files right after it). Files without edits are left out, so they are
/// never rewritten.
pub fn plan(files: &[CheckedFile]) -> Vec<PlannedFix> {
    let mut order: Vec<String> = Vec::new();
    let mut targets: HashMap<String, (Option<PathBuf>, String, Vec<TextEdit>, usize)> =
        HashMap::new();
    let mut add =
        |display: &str, path: Option<&Path>, original: &str, edits: Vec<TextEdit>, fixes| {
            let target = targets.entry(display.to_string()).or_insert_with(|| {
                order.push(display.to_string());
                (
                    path.map(Path::to_path_buf),
                    original.to_string(),
                    Vec::new(),
                    0,
                )
            });
            // Two readings of one file that differ: fixing either could undo
            // the other's edits, so only the first one's are applied.
            if target.1 == original {
                target.2.extend(edits);
                target.3 += fixes;
            }
        };
    for file in files {
        let edits = fix_all_edits(&file.findings);
        if !edits.is_empty() {
            let fixes = file
                .findings
                .iter()
                .filter(|f| f.fix.as_ref().is_some_and(|fix| fix.file.is_none()))
                .count();
            add(
                file.display(),
                file.source.path.as_deref(),
                file.text(),
                edits,
                fixes,
            );
        }
        for fix in file.findings.iter().filter_map(|f| f.fix.as_ref()) {
            let Some(other) = fix.file.as_ref().and_then(|id| file.other_files.get(id)) else {
                continue;
            };
            add(
                &other.display,
                Some(&other.path),
                &other.text,
                fix.edits.clone(),
                1,
            );
        }
    }
    order
        .into_iter()
        .filter_map(|display| {
            let (path, original, edits, fixes) = targets.remove(&display)?;
            let fixed = apply_edits(&original, &edits);
            (fixed != original).then_some(PlannedFix {
                display,
                path,
                original,
                fixed,
                fixes,
            })
        })
        .collect()
}

/// Replaces `path`'s content, which was `analysed`, with `fixed` (see
/// [`atomic::replace`]).
pub fn write_in_place(path: &Path, analysed: &str, fixed: &str) -> Result<(), String> {
    atomic::replace(path, analysed.as_bytes(), fixed.as_bytes())
}
