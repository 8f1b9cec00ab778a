//! The ServiceAccounts a chart's templates declare, with their names and
//! `automountServiceAccountToken` resolved against `values.yaml`.

use super::mask::{mask_with, ActionKind, Masked};
use super::values::{reference, Resolved, ValueAt, ValuesFile};
use super::{original_scalar, sole_action};
use crate::objects::{AccountAutomount, ServiceAccount};
use crate::text::TextRange;

/// An account's name as the chart renders it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChartAccountName {
    /// Written out, or a `.Values` reference that resolves.
    Known(String),
    /// Computed by the template (`{{ include "chart.serviceAccountName" . }}`):
    /// the template text, which tokenguard does not evaluate.
    Computed(String),
}

impl ChartAccountName {
    pub fn shown(&self) -> &str {
        match self {
            ChartAccountName::Known(name) | ChartAccountName::Computed(name) => name,
        }
    }
}

/// How the chart's account sets automounting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartAutomount {
    Disabled,
    Enabled,
    /// Not set (or null, or not a boolean): Kubernetes mounts the token.
    Default,
    /// A template value that does not resolve.
    Unknown,
}

/// A ServiceAccount of a chart template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartAccount {
    /// The template's identity, as the caller names files.
    pub file: String,
    pub name: ChartAccountName,
    pub automount: ChartAutomount,
    /// The value in `values.yaml` that decides `automount`, when one does.
    pub automount_from: Option<ValueAt>,
    /// The account as parsed from the masked template (ranges are the
    /// template's).
    pub account: ServiceAccount,
}

/// The ServiceAccounts `text` (the template named `file`) declares; those
/// inside an `{{ if .Values.x }}` block that `values` turns off are left
/// out, since the chart does not render them.
pub fn chart_accounts(file: &str, text: &str, values: Option<&ValuesFile>) -> Vec<ChartAccount> {
    // Every template of a chart is read for accounts: most declare none,
    // and those are told from their text alone (a `kind` computed by an
    // action is not resolved here, so it never names a ServiceAccount).
    if !text.contains("ServiceAccount") {
        return Vec::new();
    }
    let masked = mask_with(text, values);
    let accounts = crate::service_accounts(&masked.text);
    accounts_of_masked(file, text, &masked, values, accounts)
}

/// [`chart_accounts`] of a template already masked with `values`
/// (`masked` is `mask_with(text, values)`) and read (`accounts`:
/// [`crate::service_accounts`] of the masked text): a template being
/// judged is not masked and read a second time for its own accounts.
pub(crate) fn accounts_of_masked(
    file: &str,
    text: &str,
    masked: &Masked,
    values: Option<&ValuesFile>,
    accounts: Vec<ServiceAccount>,
) -> Vec<ChartAccount> {
    if !text.contains("ServiceAccount") {
        return Vec::new();
    }
    accounts
        .into_iter()
        .filter(|account| !switched_off(masked, account.object, values))
        .map(|account| {
            let name = account_name(masked, text, account.name_range, values);
            let (automount, automount_from) = automount(masked, text, &account, values);
            ChartAccount {
                file: file.to_string(),
                name,
                automount,
                automount_from,
                account,
            }
        })
        .collect()
}

/// The name written at `range`, resolved when it is a `.Values` reference.
pub(crate) fn account_name(
    masked: &Masked,
    text: &str,
    range: TextRange,
    values: Option<&ValuesFile>,
) -> ChartAccountName {
    if masked.actions_in(range).next().is_none() {
        return ChartAccountName::Known(original_scalar(text, range));
    }
    let resolved = sole_action(masked, text, range)
        .and_then(|action| reference(&action.body))
        .zip(values)
        .map(|(reference, values)| values.resolve_text(&reference));
    match resolved {
        Some(Resolved::Text { value, .. }) => ChartAccountName::Known(value),
        _ => ChartAccountName::Computed(original_scalar(text, range)),
    }
}

fn automount(
    masked: &Masked,
    text: &str,
    account: &ServiceAccount,
    values: Option<&ValuesFile>,
) -> (ChartAutomount, Option<ValueAt>) {
    if let Some(range) = account.automount_value {
        if masked.actions_in(range).next().is_some() && !range.is_empty() {
            let resolved = sole_action(masked, text, range)
                .and_then(|action| reference(&action.body))
                .zip(values)
                .map(|(reference, values)| values.resolve_bool(&reference));
            return match resolved {
                Some(Resolved::Bool { value: false, at }) => (ChartAutomount::Disabled, at),
                Some(Resolved::Bool { value: true, at }) => (ChartAutomount::Enabled, at),
                // Rendered empty: a null field, which leaves automounting on.
                Some(Resolved::Empty { at }) => (ChartAutomount::Default, at),
                _ => (ChartAutomount::Unknown, None),
            };
        }
    }
    let state = match account.automount {
        AccountAutomount::Disabled => ChartAutomount::Disabled,
        AccountAutomount::Enabled => ChartAutomount::Enabled,
        AccountAutomount::Default | AccountAutomount::Invalid => ChartAutomount::Default,
    };
    (state, None)
}

/// Whether `object` lies in an `{{ if .Values.x }}` block whose condition
/// `values` makes false.
fn switched_off(masked: &Masked, object: TextRange, values: Option<&ValuesFile>) -> bool {
    let Some(values) = values else {
        return false;
    };
    // Pair each opening action with its `end`.
    let mut open: Vec<usize> = Vec::new();
    for (i, action) in masked.actions.iter().enumerate() {
        match action.kind {
            ActionKind::Open => open.push(i),
            ActionKind::End => {
                let Some(start) = open.pop() else { continue };
                let opener = &masked.actions[start];
                let encloses = opener.range.end <= object.start && action.range.start >= object.end;
                let condition = opener.body.strip_prefix("if ").and_then(reference);
                if let (true, Some(condition)) = (encloses, condition) {
                    if matches!(
                        values.resolve_bool(&condition),
                        Resolved::Bool { value: false, .. } | Resolved::Empty { .. }
                    ) {
                        return true;
                    }
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "{{- if .Values.serviceAccount.create -}}\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ include \"c.serviceAccountName\" . }}\nautomountServiceAccountToken: {{ .Values.serviceAccount.automount }}\n{{- end }}\n";

    #[test]
    fn a_computed_name_and_an_automount_from_values() {
        let values = ValuesFile::new(
            "values.yaml",
            "serviceAccount:\n  create: true\n  automount: true\n",
        );
        let accounts = chart_accounts("sa.yaml", ACCOUNT, Some(&values));
        assert_eq!(accounts.len(), 1);
        let account = &accounts[0];
        assert_eq!(
            account.name,
            ChartAccountName::Computed("{{ include \"c.serviceAccountName\" . }}".into())
        );
        assert_eq!(account.automount, ChartAutomount::Enabled);
        let at = account.automount_from.as_ref().unwrap();
        assert_eq!(&values.text[at.range.start..at.range.end], "true");
    }

    #[test]
    fn an_account_the_values_do_not_create_is_not_there() {
        let values = ValuesFile::new("v", "serviceAccount:\n  create: false\n");
        assert!(chart_accounts("sa.yaml", ACCOUNT, Some(&values)).is_empty());
        let unresolved = chart_accounts("sa.yaml", ACCOUNT, None);
        assert_eq!(unresolved.len(), 1);
        assert_eq!(unresolved[0].automount, ChartAutomount::Unknown);
    }

    #[test]
    fn names_from_values_and_written_out() {
        let values = ValuesFile::new("v", "sa: {name: ci, off: false}\n");
        let text = "kind: ServiceAccount\nmetadata:\n  name: \"{{ .Values.sa.name }}\"\nautomountServiceAccountToken: {{ .Values.sa.off }}\n---\nkind: ServiceAccount\nmetadata:\n  name: plain\n";
        let accounts = chart_accounts("sa.yaml", text, Some(&values));
        let names: Vec<_> = accounts.iter().map(|a| a.name.shown()).collect();
        assert_eq!(names, ["ci", "plain"]);
        assert_eq!(accounts[0].automount, ChartAutomount::Disabled);
        assert_eq!(accounts[1].automount, ChartAutomount::Default);
    }
}
