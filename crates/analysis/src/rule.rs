//! TG001 for one workload of a plain manifest, as RULE.md states it: the
//! value is read, the decision taken (`verdict.rs`), the finding placed and
//! its fix chosen (`placement.rs`); the message is rendered from the facts
//! (`render.rs`).

use crate::accounts::AccountLookup;
use crate::finding::{Finding, Problem, WorkloadRef};
use crate::fix::FIELD;
use crate::objects::Workload;
use crate::placement::place;
use crate::tree::Document;
use crate::value::{count_keys, get, read_bool_field};
use crate::verdict::{decide, pod_account, pod_account_name, Decision, Reported};

/// Judges one workload; `accounts` finds ServiceAccounts (the same file's
/// first, then the rest of the workspace).
pub fn judge(
    text: &str,
    doc: &Document,
    workload: &Workload,
    accounts: &dyn AccountLookup,
) -> Option<Finding> {
    let field = get(doc, workload.pod_spec, FIELD);
    let reading = field.map(|(_, v)| read_bool_field(doc, v));
    let Decision::Reported(reported) =
        decide(reading, || Some(pod_account(doc, workload, accounts)))
    else {
        return None;
    };
    let Reported { problem, account } = *reported;
    let (range, fix) = place(text, doc, workload, field, problem == Problem::Null);
    let mut finding = Finding::tg001(
        problem,
        workload_ref(workload),
        range,
        doc.node(workload.pod_spec).range,
    );
    finding.occurrences = count_keys(doc, workload.pod_spec, FIELD);
    finding.runs_as = Some(match &account {
        Some(account) => account.name.clone(),
        None => pod_account_name(doc, workload),
    });
    finding.account = account;
    finding.fix = fix;
    Some(finding.rendered())
}

/// What a finding says the workload is.
pub(crate) fn workload_ref(workload: &Workload) -> WorkloadRef {
    WorkloadRef {
        kind: workload.kind.clone(),
        name: workload.name.clone(),
        namespace: workload.namespace.clone(),
    }
}

#[cfg(test)]
mod tests {
    use crate::{analyze, NoAccounts};

    fn pod(fields: &str) -> String {
        format!("kind: Pod\nmetadata:\n  name: web\nspec:\n{fields}  containers: []\n")
    }

    #[test]
    fn of_duplicated_fields_the_last_decides_and_the_message_says_so() {
        let text =
            pod("  automountServiceAccountToken: false\n  automountServiceAccountToken: true\n");
        let findings = analyze(&text, &NoAccounts, crate::Options::builtin());
        assert_eq!(findings.len(), 1);
        let last = text.rfind("true").unwrap();
        assert_eq!(
            findings[0].range.start, last,
            "reported on the value that counts"
        );
        assert!(
            findings[0].message.ends_with(
                "automountServiceAccountToken appears 2 times in this pod spec; Kubernetes uses the last one."
            ),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn a_last_false_is_compliant_whatever_came_before() {
        let text = pod("  automountServiceAccountToken: true\n  automountServiceAccountToken: \"false\"\n  automountServiceAccountToken: false\n");
        assert!(analyze(&text, &NoAccounts, crate::Options::builtin()).is_empty());
    }

    #[test]
    fn a_single_field_gets_no_duplicate_sentence() {
        let text = pod("  automountServiceAccountToken: true\n");
        let findings = analyze(&text, &NoAccounts, crate::Options::builtin());
        assert!(
            !findings[0].message.contains("appears"),
            "{}",
            findings[0].message
        );
    }
}
