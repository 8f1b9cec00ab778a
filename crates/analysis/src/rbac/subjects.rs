//! Who a subject names, and whether that is a given ServiceAccount: by the
//! `ServiceAccount` subject, by the groups every ServiceAccount is in
//! (`system:serviceaccounts`, `system:serviceaccounts:<namespace>`,
//! `system:authenticated`), or by its user name
//! (`system:serviceaccount:<namespace>:<name>`).

use super::model::{BindingDef, BindingKind, SubjectKind};
use super::permissions::Via;

pub const ALL_SERVICE_ACCOUNTS: &str = "system:serviceaccounts";
pub const NAMESPACE_SERVICE_ACCOUNTS_PREFIX: &str = "system:serviceaccounts:";
pub const AUTHENTICATED: &str = "system:authenticated";
pub const SERVICE_ACCOUNT_USER_PREFIX: &str = "system:serviceaccount:";

/// A ServiceAccount; `namespace: None` is the namespace it is applied into,
/// which matches only a subject or binding without one too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Account<'a> {
    pub namespace: Option<&'a str>,
    pub name: &'a str,
}

/// Whether the group `group` holds the account, and how.
pub fn group_holds(group: &str, who: &Account) -> Option<Via> {
    if group == ALL_SERVICE_ACCOUNTS {
        return Some(Via::AllServiceAccounts);
    }
    if group == AUTHENTICATED {
        return Some(Via::Authenticated);
    }
    let ns = group.strip_prefix(NAMESPACE_SERVICE_ACCOUNTS_PREFIX)?;
    (Some(ns) == who.namespace).then_some(Via::NamespaceServiceAccounts)
}

/// Whether the user name `user` is the account's.
pub fn user_is(user: &str, who: &Account) -> bool {
    user.strip_prefix(SERVICE_ACCOUNT_USER_PREFIX)
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(ns, name)| Some(ns) == who.namespace && name == who.name)
}

/// Whether a subject of `binding` names the account, and how. A
/// ServiceAccount subject without a namespace in a RoleBinding means the
/// binding's namespace.
pub fn subject_matches(subject: &SubjectKind, binding: &BindingDef, who: &Account) -> Option<Via> {
    subject_of_binding_matches(subject, binding.kind, binding.namespace.as_deref(), who)
}

/// [`subject_matches`] for a binding of `kind` in `binding_namespace`.
pub fn subject_of_binding_matches(
    subject: &SubjectKind,
    kind: BindingKind,
    binding_namespace: Option<&str>,
    who: &Account,
) -> Option<Via> {
    match subject {
        SubjectKind::ServiceAccount { name, namespace } => {
            let namespace = namespace.as_deref().or(match kind {
                BindingKind::RoleBinding => binding_namespace,
                BindingKind::ClusterRoleBinding => None,
            });
            (name == who.name && namespace == who.namespace).then_some(Via::ServiceAccount)
        }
        SubjectKind::Group(group) => group_holds(group, who),
        SubjectKind::User(user) => user_is(user, who).then_some(Via::User),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::TextRange;

    fn binding(kind: BindingKind, namespace: Option<&str>) -> BindingDef {
        BindingDef {
            kind,
            name: "b".into(),
            namespace: namespace.map(str::to_string),
            role_ref: None,
            subjects: Vec::new(),
            name_range: TextRange::default(),
        }
    }

    #[test]
    fn every_subject_form_matches_its_account_only() {
        let prod_ci = Account {
            namespace: Some("prod"),
            name: "ci",
        };
        let sa = |ns: Option<&str>| SubjectKind::ServiceAccount {
            name: "ci".into(),
            namespace: ns.map(str::to_string),
        };
        let rb = binding(BindingKind::RoleBinding, Some("prod"));
        let crb = binding(BindingKind::ClusterRoleBinding, None);
        assert_eq!(
            subject_matches(&sa(None), &rb, &prod_ci),
            Some(Via::ServiceAccount)
        );
        assert_eq!(
            subject_matches(&sa(Some("prod")), &crb, &prod_ci),
            Some(Via::ServiceAccount)
        );
        assert_eq!(subject_matches(&sa(None), &crb, &prod_ci), None);
        assert_eq!(subject_matches(&sa(Some("dev")), &rb, &prod_ci), None);
        let other_rb = binding(BindingKind::RoleBinding, Some("dev"));
        assert_eq!(subject_matches(&sa(None), &other_rb, &prod_ci), None);
        let group = |g: &str| SubjectKind::Group(g.into());
        assert_eq!(
            subject_matches(&group("system:serviceaccounts"), &crb, &prod_ci),
            Some(Via::AllServiceAccounts)
        );
        assert_eq!(
            subject_matches(&group("system:serviceaccounts:prod"), &crb, &prod_ci),
            Some(Via::NamespaceServiceAccounts)
        );
        assert_eq!(
            subject_matches(&group("system:serviceaccounts:dev"), &crb, &prod_ci),
            None
        );
        assert_eq!(
            subject_matches(&group("system:authenticated"), &crb, &prod_ci),
            Some(Via::Authenticated)
        );
        assert_eq!(
            subject_matches(&group("system:masters"), &crb, &prod_ci),
            None
        );
        let user = |u: &str| SubjectKind::User(u.into());
        assert_eq!(
            subject_matches(&user("system:serviceaccount:prod:ci"), &crb, &prod_ci),
            Some(Via::User)
        );
        assert_eq!(
            subject_matches(&user("system:serviceaccount:prod:cd"), &crb, &prod_ci),
            None
        );
        assert_eq!(subject_matches(&user("ci"), &crb, &prod_ci), None);
        let unnamespaced = Account {
            namespace: None,
            name: "ci",
        };
        assert_eq!(
            subject_matches(
                &sa(None),
                &binding(BindingKind::RoleBinding, None),
                &unnamespaced
            ),
            Some(Via::ServiceAccount)
        );
        assert_eq!(
            subject_matches(&group("system:serviceaccounts:prod"), &crb, &unnamespaced),
            None
        );
    }
}
