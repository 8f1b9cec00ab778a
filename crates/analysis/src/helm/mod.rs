//! Helm chart templates: YAML with Go template actions in it.
//!
//! A template is masked ([`mask`]) so that it parses as YAML with every
//! position unchanged, then judged as any manifest, except where a value is
//! an action: `automountServiceAccountToken: {{ .Values.a.b }}` and
//! `serviceAccountName: {{ .Values.x }}` are resolved against the chart's
//! `values.yaml` ([`values`]); what cannot be resolved is not reported.
//! The chart's own ServiceAccount templates ([`ChartAccount`]) are the
//! accounts its workloads are judged against.

mod accounts;
mod blocks;
mod branches;
mod chart;
mod helpers;
mod judge;
pub mod mask;
mod placement;
pub mod render;
mod resolve;
mod template;
pub mod values;
mod verdict;

pub use accounts::{chart_accounts, ChartAccount, ChartAccountName, ChartAutomount};
pub use chart::ChartView;
pub use helpers::Helpers;
pub use judge::{check_template, judge_workloads, workload_accounts, TemplateContext, Verdict};
pub use mask::{has_actions, mask, mask_with, Action, ActionKind, Masked};
pub use template::Template;
pub use values::{reference, Reference, Resolved, ValueAt, ValuesFile};

use std::path::{Path, PathBuf};

use crate::text::TextRange;

/// The chart of a file under its `templates/` folder: the nearest folder
/// above the file that `is_chart` says holds a `Chart.yaml`. `None` when
/// the file is not under that chart's `templates/` (a chart's
/// `values.yaml`, a file of no chart). The caller looks at the disk.
pub fn chart_root(path: &Path, is_chart: &dyn Fn(&Path) -> bool) -> Option<PathBuf> {
    // Only a file below some `templates` folder can be a template: deciding
    // that from the path alone spares every other file the folder probes
    // (one `Chart.yaml` lookup per parent), which a walk of a large
    // repository would otherwise pay for each file.
    let parent_is_templates = |c: &std::path::Component| c.as_os_str() == "templates";
    let components: Vec<_> = path.components().collect();
    if components.len() < 2
        || !components[..components.len() - 1]
            .iter()
            .any(parent_is_templates)
    {
        return None;
    }
    let mut dir = path.parent();
    while let Some(current) = dir {
        let folder = if current.as_os_str().is_empty() {
            Path::new(".")
        } else {
            current
        };
        if is_chart(folder) {
            let relative = path.strip_prefix(current).ok()?;
            let mut components = relative.components();
            let under_templates = components
                .next()
                .is_some_and(|c| c.as_os_str() == "templates")
                && components.next().is_some();
            return under_templates.then(|| current.to_path_buf());
        }
        dir = current.parent();
    }
    None
}

/// The chart whose `values.yaml` `path` is.
pub fn values_chart(path: &Path, is_chart: &dyn Fn(&Path) -> bool) -> Option<PathBuf> {
    if path.file_name()? != "values.yaml" {
        return None;
    }
    let parent = path.parent()?;
    let folder = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    is_chart(folder).then(|| parent.to_path_buf())
}

/// Helm's own files that are not YAML: `_helpers.tpl` and other `*.tpl`
/// files, and `NOTES.txt`. They are never analysed.
pub fn is_helper_file(file_name: &str) -> bool {
    let lower = file_name.to_ascii_lowercase();
    lower.ends_with(".tpl") || lower == "notes.txt"
}

/// The one action that makes up the scalar at `range`, quotes around it
/// aside (`{{ .Values.a }}`, `"{{ .Values.a }}"`): only such a value is
/// what the action renders.
fn sole_action<'m>(masked: &'m Masked, text: &str, range: TextRange) -> Option<&'m Action> {
    let mut actions = masked.actions_in(range);
    let action = actions.next()?;
    if actions.next().is_some() || range.end > text.len() {
        return None;
    }
    let around = |s: &str| s.chars().all(|c| matches!(c, '"' | '\'' | ' ' | '\t'));
    let before = text.get(range.start..action.range.start.max(range.start))?;
    let after = text.get(action.range.end.min(range.end)..range.end)?;
    (action.range.start >= range.start
        && action.range.end <= range.end
        && around(before)
        && around(after))
    .then_some(action)
}

/// The real text of a scalar of the template, without its quotes: what a
/// message shows instead of the mask's placeholder.
fn original_scalar(text: &str, range: TextRange) -> String {
    text.get(range.start..range.end)
        .unwrap_or("")
        .trim()
        .trim_matches(['"', '\''])
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_and_notes_are_not_yaml() {
        for name in ["_helpers.tpl", "x.TPL", "NOTES.txt"] {
            assert!(is_helper_file(name), "{name}");
        }
        for name in ["deployment.yaml", "notes.yaml", "tpl.yaml"] {
            assert!(!is_helper_file(name), "{name}");
        }
    }

    #[test]
    fn charts_are_found_from_their_templates_and_values() {
        let is_chart = |dir: &Path| dir == Path::new("/repo/chart");
        let root = Some(PathBuf::from("/repo/chart"));
        assert_eq!(
            chart_root(Path::new("/repo/chart/templates/a.yaml"), &is_chart),
            root
        );
        assert_eq!(
            chart_root(Path::new("/repo/chart/templates/sub/b.yaml"), &is_chart),
            root
        );
        assert_eq!(
            chart_root(Path::new("/repo/chart/values.yaml"), &is_chart),
            None
        );
        assert_eq!(
            chart_root(Path::new("/repo/chart/templates"), &is_chart),
            None
        );
        assert_eq!(
            chart_root(Path::new("/repo/other/templates/a.yaml"), &is_chart),
            None
        );
        // Outside any `templates` folder no folder is even probed.
        let probes = std::cell::Cell::new(0);
        let counting = |dir: &Path| {
            probes.set(probes.get() + 1);
            is_chart(dir)
        };
        assert_eq!(
            chart_root(Path::new("/repo/chart/deploy/a.yaml"), &counting),
            None
        );
        assert_eq!(probes.get(), 0);
        assert_eq!(
            values_chart(Path::new("/repo/chart/values.yaml"), &is_chart),
            root
        );
        assert_eq!(
            values_chart(Path::new("/repo/chart/templates/values.yaml"), &is_chart),
            None
        );
    }

    #[test]
    fn a_sole_action_may_be_quoted() {
        let text = "a: \"{{ .Values.a }}\"\nb: x-{{ .Values.b }}\n";
        let m = mask(text);
        let a = TextRange::new(3, text.find('\n').unwrap());
        assert_eq!(sole_action(&m, text, a).unwrap().body, ".Values.a");
        let b_start = text.find("x-").unwrap();
        let b = TextRange::new(b_start, text.len() - 1);
        assert!(sole_action(&m, text, b).is_none());
    }
}
