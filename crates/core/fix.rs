//! `--fix`: what each file becomes, and writing it back safely.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tokenguard_analysis::{
    apply_edits, fix_all_edits, fix_is_preferred, named_bindings_summary, TextEdit,
};

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

/// One note per ServiceAccount that a binding names (see
/// `fix_is_preferred`) whose pods the fixes turn the token off for: the pod may use the API, so `--fix` does not change such a
/// pod silently. The fix is still applied (the user asked for every fix, and
/// a run must not depend on which bindings happen to be among the checked
/// files to decide what it writes); the note names the account, what it is
/// bound to, each workload, and what to do instead when the pod does need
/// the API. `done` says whether the fixes were written (`--fix`) or only
/// shown (`--diff`); `applied` whether a file's fixes were.
pub fn bound_account_notes(
    files: &[CheckedFile],
    done: bool,
    applied: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let mut order: Vec<(Option<String>, String)> = Vec::new();
    let mut notes: HashMap<(Option<String>, String), (String, Vec<String>)> = HashMap::new();
    for file in files.iter().filter(|f| applied(f.display())) {
        for finding in &file.findings {
            let Some(permissions) = finding.permissions.as_ref() else {
                continue;
            };
            if finding.fix.is_none() || fix_is_preferred(finding) {
                continue;
            }
            let Some(summary) = named_bindings_summary(permissions) else {
                continue;
            };
            let key = (permissions.namespace.clone(), permissions.account.clone());
            let line = file.line_index.line_of(finding.range.start) + 1;
            let workload = finding
                .workload
                .as_ref()
                .map_or_else(|| "a pod".to_string(), |w| w.label());
            let entry = notes.entry(key.clone()).or_insert_with(|| {
                order.push(key);
                (summary, Vec::new())
            });
            entry
                .1
                .push(format!("{workload} ({}:{line})", file.display()));
        }
    }
    order
        .into_iter()
        .filter_map(|key| {
            let (summary, workloads) = notes.remove(&key)?;
            let (namespace, account) = key;
            let namespace = namespace.map_or_else(String::new, |ns| format!(" in namespace \"{ns}\""));
            let verb = if done { "turned" } else { "would turn" };
            Some(format!(
                "ServiceAccount \"{account}\"{namespace} is {summary}: --fix {verb} the token off in {}. \
                 If a pod uses the API, mount a projected token instead, or keep the token with a \
                 tokenguard-ignore comment (see docs/rule.md)",
                workloads.join(", ")
            ))
        })
        .collect()
}
