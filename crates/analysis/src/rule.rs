//! TG001: the decision for one workload, as RULE.md states it.

use crate::accounts::AccountLookup;
use crate::finding::{AccountCheck, Code, Finding, Problem, Severity, WorkloadRef};
use crate::fix::{insert_field, replace_value, FIELD};
use crate::objects::{AccountAutomount, Workload};
use crate::tree::Document;
use crate::value::{count_keys, get, get_string, read_bool_field, BoolField};

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
    let subject = WorkloadRef {
        kind: workload.kind.clone(),
        name: workload.name.clone(),
        namespace: workload.namespace.clone(),
    };
    let label = subject.label();
    let (problem, range, fix, account, message) = match (reading, field) {
        (Some(BoolField::False), _) => return None,
        (Some(BoolField::True), Some((key, value))) => (
            Problem::ExplicitTrue,
            doc.node(value).range,
            Some(replace_value(text, doc, key, value)),
            None,
            format!(
                "{label} explicitly mounts its service-account token ({FIELD}: true). \
                 Set it to false, or keep it and record why with a `# tokenguard-ignore: reason` comment."
            ),
        ),
        (Some(BoolField::NotBoolean(kind)), Some((key, value))) => (
            Problem::NotBoolean(kind),
            doc.node(value).range,
            Some(replace_value(text, doc, key, value)),
            None,
            format!(
                "{label} sets {FIELD} to {}, not a boolean: the API server rejects it. \
                 Set it to the plain value false.",
                kind.describe()
            ),
        ),
        (_, field) => {
            let account = resolve_account(doc, workload, accounts);
            if account
                .found
                .as_ref()
                .is_some_and(|f| f.account.automount == AccountAutomount::Disabled)
            {
                return None;
            }
            let why = account_clause(&account);
            match field {
                Some((key, value)) => (
                    Problem::Null,
                    doc.node(key).range,
                    Some(replace_value(text, doc, key, value)),
                    Some(account),
                    format!(
                        "{label} leaves {FIELD} empty, so its service-account token is mounted: {why}. \
                         Set {FIELD}: false."
                    ),
                ),
                None => (
                    Problem::Missing,
                    doc.node(workload.spec_key).range,
                    insert_field(text, doc, workload.pod_spec),
                    Some(account),
                    format!(
                        "{label} mounts its service-account token: the pod spec does not set {FIELD} and {why}. \
                         Add {FIELD}: false to the pod spec."
                    ),
                ),
            }
        }
    };
    // A duplicated key is legal YAML to this decoder, and the last value is
    // the one applied; say so, since the reader may be looking at another.
    let occurrences = count_keys(doc, workload.pod_spec, FIELD);
    let message = if occurrences > 1 {
        format!("{message} {FIELD} appears {occurrences} times in this pod spec; Kubernetes uses the last one.")
    } else {
        message
    };
    Some(Finding {
        code: Code::TG001,
        severity: Severity::Warning,
        range,
        message,
        problem,
        workload: Some(subject),
        account,
        fix,
        related: Vec::new(),
    })
}

fn resolve_account(
    doc: &Document,
    workload: &Workload,
    accounts: &dyn AccountLookup,
) -> AccountCheck {
    let non_empty = |key| get_string(doc, workload.pod_spec, key).filter(|s| !s.is_empty());
    let name = non_empty("serviceAccountName")
        .or_else(|| non_empty("serviceAccount"))
        .unwrap_or("default")
        .to_string();
    let namespace = workload.namespace.clone();
    let found = accounts.find(namespace.as_deref(), &name);
    AccountCheck {
        name,
        namespace,
        found,
    }
}

pub(crate) fn account_clause(account: &AccountCheck) -> String {
    let who = match &account.namespace {
        Some(ns) => format!("ServiceAccount \"{}\" (namespace \"{ns}\")", account.name),
        None => format!("ServiceAccount \"{}\"", account.name),
    };
    match account.found.as_ref().map(|f| f.account.automount) {
        None => format!("{who} is not among the checked files, so nothing disables automounting"),
        Some(AccountAutomount::Enabled) => format!("{who} explicitly enables automounting"),
        Some(AccountAutomount::Invalid) => {
            format!("{who} sets {FIELD} to a value that is not a boolean")
        }
        Some(AccountAutomount::Default | AccountAutomount::Disabled) => {
            format!("{who} does not disable automounting")
        }
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
