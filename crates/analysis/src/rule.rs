//! TG001 for one workload of a plain manifest, as RULE.md states it: the
//! value is read, the decision taken (`verdict.rs`), the finding placed and
//! its fix chosen (`placement.rs`); the message is rendered from the facts
//! (`render.rs`).

use crate::accounts::{AccountLookup, NoAccounts, SameFileFirst};
use crate::finding::{Finding, Problem, WorkloadRef};
use crate::fix::FIELD;
use crate::objects::Workload;
use crate::placement::place;
use crate::tree::{Document, NodeId};
use crate::value::{count_keys, get, read_bool_field, BoolField};
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
    Some(unrendered(text, doc, workload, field, *reported).rendered())
}

/// The finding of a reported workload, every fact set but the words.
fn unrendered(
    text: &str,
    doc: &Document,
    workload: &Workload,
    field: Option<(NodeId, NodeId)>,
    reported: Reported,
) -> Finding {
    let Reported { problem, account } = reported;
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
    finding
}

/// A workload judged as far as its own file can decide (see
/// [`judge_in_file`]).
#[derive(Debug)]
pub(crate) enum Judged {
    /// Reported whatever the other files say (a rendered finding).
    Done(Finding),
    /// Reported unless the ServiceAccount, which its own file does not
    /// declare, disables automounting: decided by [`Pending::resolve`] once
    /// every file's accounts are known.
    Pending(Pending),
}

impl Judged {
    /// Where the finding is reported.
    pub(crate) fn range(&self) -> crate::TextRange {
        match self {
            Judged::Done(finding) => finding.range,
            Judged::Pending(pending) => pending.finding.range,
        }
    }
}

/// A TG001 finding whose account is still to be looked up in the rest of
/// the workspace: every other fact is set, nothing is rendered yet.
#[derive(Debug)]
pub(crate) struct Pending {
    finding: Finding,
}

impl Pending {
    /// The finding as [`judge`] gives it when `workspace` holds the
    /// accounts of the other files; `None` when the account found there
    /// disables automounting.
    pub(crate) fn resolve(mut self, workspace: &dyn AccountLookup) -> Option<Finding> {
        let mut account = self.finding.account.take()?;
        account.found = workspace.find(account.namespace.as_deref(), &account.name);
        // (Only an absent or null field leaves the question to the account.)
        let field = match self.finding.problem {
            Problem::Null => Some(BoolField::Null),
            _ => None,
        };
        let Decision::Reported(reported) = decide(field, || Some(account)) else {
            return None;
        };
        self.finding.account = reported.account;
        Some(self.finding.rendered())
    }

    /// The finding's own ranges (before any account is known).
    pub(crate) fn finding(&self) -> &Finding {
        &self.finding
    }
}

/// [`judge`] with only the file's own accounts at hand (`file_accounts`,
/// looked up as [`crate::SameFileFirst`] does): a pod spec whose
/// account the file does not declare is left [`Judged::Pending`].
pub(crate) fn judge_in_file(
    text: &str,
    doc: &Document,
    workload: &Workload,
    file_accounts: &[crate::ServiceAccount],
) -> Option<Judged> {
    let field = get(doc, workload.pod_spec, FIELD);
    let reading = field.map(|(_, v)| read_bool_field(doc, v));
    let mut pending = false;
    let decision = decide(reading, || {
        let file = SameFileFirst {
            file: file_accounts,
            workspace: &NoAccounts,
        };
        let check = pod_account(doc, workload, &file);
        pending = check.found.is_none();
        Some(check)
    });
    let Decision::Reported(reported) = decision else {
        return None;
    };
    let finding = unrendered(text, doc, workload, field, *reported);
    Some(if pending {
        Judged::Pending(Pending { finding })
    } else {
        Judged::Done(finding.rendered())
    })
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
