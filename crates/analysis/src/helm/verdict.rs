//! The verdict on a template's pod spec: which account the pod runs as, and
//! whether the chart decides it. A name written out (or read from
//! `values.yaml`) names one of the chart's ServiceAccount templates, else an
//! account of the workspace; a computed name is matched by the same helper
//! call. The decision itself is the plain rule's ([`crate::verdict::decide`]).

use super::accounts::{ChartAccount, ChartAccountName, ChartAutomount};
use super::judge::TemplateContext;
use super::template::Template;
use crate::accounts::{AccountLookup, FoundAccount};
use crate::finding::{AccountCheck, Place};
use crate::objects::{AccountAutomount, Workload};
use crate::value::BoolField;
use crate::verdict::{decide, Decision};

/// The account a template's pod runs as, as the chart decides it.
struct ChartDecision {
    /// The account found (none: not among the chart's or the workspace's).
    found: Option<FoundAccount>,
    /// The value of `values.yaml` that decides its automounting.
    from: Option<Place>,
}

/// What a template's chart knows of the accounts its pods may run as.
pub(super) struct ChartAccounts<'a> {
    /// The template's identity, as the caller names files.
    pub file: &'a str,
    /// The chart's ServiceAccount templates, this template's own included.
    pub accounts: &'a [ChartAccount],
    /// The accounts of files outside the chart.
    pub workspace: &'a dyn AccountLookup,
}

impl ChartAccounts<'_> {
    /// Decides a pod spec whose field reads `field` (`None`: absent; a
    /// templated value as Helm renders it), asking the account the pod runs
    /// as (`name`) only when the field leaves the question to it. Also
    /// returns the value of `values.yaml` the account's automounting comes
    /// from, when the account was asked and one does.
    pub fn decide(
        &self,
        field: Option<BoolField>,
        workload: &Workload,
        name: &ChartAccountName,
    ) -> (Decision, Option<Place>) {
        let mut from = None;
        let decision = decide(field, || {
            let decided = decide_account(self.accounts, self.workspace, self.file, workload, name)?;
            from = decided.from;
            Some(AccountCheck {
                name: name.shown().to_string(),
                namespace: workload.namespace.clone(),
                found: decided.found,
            })
        });
        (decision, from)
    }

    /// Whether a computed account name was decided by the chart's
    /// ServiceAccount templates (not a guess at the workspace).
    pub fn computed_by_chart(&self, name: &ChartAccountName) -> bool {
        matches!(name, ChartAccountName::Computed(_)) && !self.accounts.is_empty()
    }
}

/// Whether two template expressions are the same call: blanks, trim
/// markers and `template` versus `include` aside.
fn same_expression(a: &str, b: &str) -> bool {
    let normal = |s: &str| -> Vec<String> {
        s.replace("{{-", "{{")
            .replace("-}}", "}}")
            .replace(['(', ')'], " ")
            .split_whitespace()
            .map(|w| {
                if w == "template" {
                    "include".to_string()
                } else {
                    w.to_string()
                }
            })
            .collect()
    };
    normal(a) == normal(b)
}

/// The chart's accounts, with the template's own when the list lacks them.
pub(super) fn with_own_accounts(
    text: &str,
    template: &Template,
    context: &TemplateContext,
) -> Vec<ChartAccount> {
    if context.accounts_read || context.accounts.iter().any(|a| a.file == context.file) {
        context.accounts.to_vec()
    } else {
        // The template's own mask, when it is the one `chart_accounts`
        // makes (no kind resolved into it: a computed kind never names an
        // account here).
        let own = match template.mask_for(context.values) {
            // (Told from the text alone, as `chart_accounts` tells it.)
            _ if !text.contains("ServiceAccount") => Vec::new(),
            Some(masked) => {
                // Its accounts as its own parse read them, when that read
                // every document that may declare one.
                let accounts = if template.accounts_complete {
                    template.parsed.accounts.clone()
                } else {
                    crate::service_accounts(&masked.text)
                };
                super::accounts::accounts_of_masked(
                    context.file,
                    text,
                    masked,
                    context.values,
                    accounts,
                )
            }
            None => super::chart_accounts(context.file, text, context.values),
        };
        [context.accounts, own.as_slice()].concat()
    }
}

/// The account decided for a pod; `None` when that depends on something
/// not resolvable (not reported).
fn decide_account(
    accounts: &[ChartAccount],
    workspace: &dyn AccountLookup,
    file: &str,
    workload: &Workload,
    name: &ChartAccountName,
) -> Option<ChartDecision> {
    let candidates: Vec<&ChartAccount> = match name {
        ChartAccountName::Known(name) => accounts
            .iter()
            .rev()
            .filter(|a| a.name == ChartAccountName::Known(name.clone()))
            .take(1)
            .collect(),
        // The same helper call names the same account (the scaffold's
        // `include "chart.serviceAccountName" .` in both templates);
        // failing that, the name may be any of the chart's accounts.
        ChartAccountName::Computed(expression) => {
            let same: Vec<&ChartAccount> = accounts
                .iter()
                .filter(|a| match &a.name {
                    ChartAccountName::Computed(other) => same_expression(other, expression),
                    ChartAccountName::Known(_) => false,
                })
                .collect();
            if same.is_empty() {
                accounts.iter().collect()
            } else {
                same
            }
        }
    };
    if candidates.is_empty() {
        let found = match name {
            ChartAccountName::Known(name) => workspace.find(workload.namespace.as_deref(), name),
            ChartAccountName::Computed(_) => None,
        };
        return Some(ChartDecision { found, from: None });
    }
    if candidates
        .iter()
        .any(|a| a.automount == ChartAutomount::Unknown)
    {
        return None;
    }
    // A computed name may be any of them: one that leaves automounting
    // on is enough to mount the token.
    let chosen = candidates
        .iter()
        .find(|a| a.automount != ChartAutomount::Disabled)
        .unwrap_or(&candidates[0]);
    let automount = match chosen.automount {
        ChartAutomount::Disabled => AccountAutomount::Disabled,
        ChartAutomount::Enabled => AccountAutomount::Enabled,
        ChartAutomount::Default | ChartAutomount::Unknown => AccountAutomount::Default,
    };
    let from = chosen.automount_from.as_ref().map(|at| Place {
        file: at.fix.file.clone(),
        range: at.range,
    });
    let origin = (chosen.file != file).then(|| chosen.file.clone());
    let found = FoundAccount {
        origin,
        account: crate::objects::ServiceAccount {
            name: chosen.name.shown().to_string(),
            automount,
            ..chosen.account.clone()
        },
    };
    Some(ChartDecision {
        found: Some(found),
        from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_helper_call_is_the_same_expression() {
        assert!(same_expression(
            "{{- template \"a.b\" . -}}",
            "{{ include \"a.b\" . }}"
        ));
        assert!(!same_expression(
            "{{ include \"a.b\" . }}",
            "{{ include \"a.c\" . }}"
        ));
    }

    #[test]
    fn a_templates_own_accounts_are_read_from_its_own_parse_as_the_chart_reads_them() {
        use crate::helm::{chart_accounts, ValuesFile};
        let values = ValuesFile::new(
            "values.yaml",
            "sa:\n  name: ci\n  off: false\n  create: true\n",
        );
        let account = "{{- if .Values.sa.create }}\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Values.sa.name }}\nautomountServiceAccountToken: {{ .Values.sa.off }}\n{{- end }}\n";
        let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  serviceAccountName: {{ .Values.sa.name }}\n  containers: []\n";
        let cases = [
            format!("{account}---\n{pod}"),
            format!("{pod}---\n{account}---\nkind: ServiceAccountList\nitems:\n- kind: ServiceAccount\n  metadata: {{name: listed}}\n"),
            // A syntax error: the parse did not read every document.
            format!("{account}---\n{pod}---\nkind: ServiceAccount\nmetadata: [\n"),
            // A kind computed from the values: read apart.
            format!("kind: {{{{ .Values.k }}}}\n---\n{account}"),
        ];
        for text in &cases {
            for values in [Some(&values), None] {
                let context = TemplateContext {
                    file: "templates/sa.yaml",
                    values,
                    ..TemplateContext::default()
                };
                let template = Template::parse(text, values, crate::Options::builtin());
                assert_eq!(
                    with_own_accounts(text, &template, &context),
                    chart_accounts("templates/sa.yaml", text, values),
                    "{text}"
                );
                // Parsed with other values than it is judged with.
                let other = Template::parse(text, None, crate::Options::builtin());
                assert_eq!(
                    with_own_accounts(text, &other, &context),
                    chart_accounts("templates/sa.yaml", text, values),
                    "{text}"
                );
            }
        }
    }
}
