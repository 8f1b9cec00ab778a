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
mod judge;
pub mod mask;
pub mod values;

pub use accounts::{chart_accounts, ChartAccount, ChartAccountName, ChartAutomount};
pub use judge::{check_template, judge_workloads, Template, TemplateContext, Verdict};
pub use mask::{has_actions, mask, Action, ActionKind, Masked};
pub use values::{reference, Reference, Resolved, ValueAt, ValuesFile};

use crate::text::TextRange;

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
