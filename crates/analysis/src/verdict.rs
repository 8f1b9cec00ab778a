//! The decision of RULE.md for one pod spec, apart from where it is reported
//! and how it is fixed: the pod spec's own value decides, and when it leaves
//! the question open (absent or null) the ServiceAccount does. The plain
//! rule and the Helm rule both decide here; they differ only in how they
//! read the value and find the account.

use crate::accounts::AccountLookup;
use crate::finding::{AccountCheck, Problem};
use crate::objects::{AccountAutomount, Workload};
use crate::tree::Document;
use crate::value::{get_string, BoolField};

/// What became of a pod spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    Compliant,
    /// The account had to decide, and could not be known (a Helm value
    /// that does not resolve): not reported.
    Undecided,
    /// Noncompliant (boxed: the account is large, the other answers are
    /// the common ones).
    Reported(Box<Reported>),
}

/// A noncompliant pod spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reported {
    /// The verdict.
    pub problem: Problem,
    /// The account consulted, only when the pod spec left the question to
    /// it.
    pub account: Option<AccountCheck>,
}

/// Decides for a pod spec whose field reads `field` (`None`: absent).
/// `account` is asked only when the field leaves the question to the
/// ServiceAccount; `None` from it means the account cannot be known.
pub(crate) fn decide(
    field: Option<BoolField>,
    account: impl FnOnce() -> Option<AccountCheck>,
) -> Decision {
    let problem = match field {
        Some(BoolField::False) => return Decision::Compliant,
        Some(BoolField::True) => Problem::ExplicitTrue,
        Some(BoolField::NotBoolean(kind)) => Problem::NotBoolean(kind),
        Some(BoolField::Null) => Problem::Null,
        None => Problem::Missing,
    };
    if !matches!(problem, Problem::Null | Problem::Missing) {
        return Decision::Reported(Box::new(Reported {
            problem,
            account: None,
        }));
    }
    let Some(account) = account() else {
        return Decision::Undecided;
    };
    let disables = account
        .found
        .as_ref()
        .is_some_and(|f| f.account.automount == AccountAutomount::Disabled);
    if disables {
        Decision::Compliant
    } else {
        Decision::Reported(Box::new(Reported {
            problem,
            account: Some(account),
        }))
    }
}

/// The account a plain manifest's pod runs as: `serviceAccountName`, else
/// the deprecated `serviceAccount`, else `default`, in the workload's
/// namespace; looked up in `accounts` (the same file's first).
pub(crate) fn pod_account(
    doc: &Document,
    workload: &Workload,
    accounts: &dyn AccountLookup,
) -> AccountCheck {
    let name = pod_account_name(doc, workload);
    let namespace = workload.namespace.clone();
    let found = accounts.find(namespace.as_deref(), &name);
    AccountCheck {
        name,
        namespace,
        found,
    }
}

/// The name of the account a plain manifest's pod runs as:
/// `serviceAccountName`, else the deprecated `serviceAccount`, else
/// `default`.
pub(crate) fn pod_account_name(doc: &Document, workload: &Workload) -> String {
    let non_empty = |key| get_string(doc, workload.pod_spec, key).filter(|s| !s.is_empty());
    non_empty("serviceAccountName")
        .or_else(|| non_empty("serviceAccount"))
        .unwrap_or("default")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::FoundAccount;
    use crate::value::ValueType;

    fn account(automount: Option<AccountAutomount>) -> AccountCheck {
        let parsed = crate::parse(
            "kind: ServiceAccount\nmetadata: {name: default}\n",
            crate::Options::builtin(),
        );
        AccountCheck {
            name: "default".to_string(),
            namespace: None,
            found: automount.map(|automount| FoundAccount {
                origin: None,
                account: crate::objects::ServiceAccount {
                    automount,
                    ..parsed.accounts[0].clone()
                },
            }),
        }
    }

    #[test]
    fn the_pod_spec_value_wins_and_the_account_decides_only_when_it_is_absent_or_null() {
        let never = || -> Option<AccountCheck> { panic!("the account is not asked") };
        assert_eq!(decide(Some(BoolField::False), never), Decision::Compliant);
        let reported =
            |problem, account| Decision::Reported(Box::new(Reported { problem, account }));
        assert_eq!(
            decide(Some(BoolField::True), never),
            reported(Problem::ExplicitTrue, None)
        );
        assert_eq!(
            decide(Some(BoolField::NotBoolean(ValueType::QuotedString)), never),
            reported(Problem::NotBoolean(ValueType::QuotedString), None)
        );
        let off = || Some(account(Some(AccountAutomount::Disabled)));
        assert_eq!(decide(None, off), Decision::Compliant);
        assert_eq!(decide(Some(BoolField::Null), off), Decision::Compliant);
        for automount in [
            None,
            Some(AccountAutomount::Default),
            Some(AccountAutomount::Enabled),
            Some(AccountAutomount::Invalid),
        ] {
            let on = || Some(account(automount));
            assert_eq!(
                decide(None, on),
                reported(Problem::Missing, Some(account(automount)))
            );
            assert_eq!(
                decide(Some(BoolField::Null), on),
                reported(Problem::Null, Some(account(automount)))
            );
        }
        assert_eq!(decide(None, || None), Decision::Undecided);
    }
}
