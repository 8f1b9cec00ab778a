//! Where a TG001 finding on a plain pod spec is reported, and which edit
//! fixes it (RULE.md, "The decision" and "The fix, exactly"); the edits
//! themselves are written by `fix.rs`. Also whether that fix is the one to
//! prefer, once the finding knows what the pod's token can do.

use crate::finding::Finding;
use crate::fix::{insert_field, replace_value, Fix};
use crate::objects::Workload;
use crate::rbac::{Grant, Permissions, Via};
use crate::text::TextRange;
use crate::tree::{Document, NodeId};

/// The range to report and the fix, for a pod spec whose field is `field`
/// (its key and value; `None`: absent). `null` is reported on the key, any
/// other value on the value, an absent field on the pod spec's `spec` key.
pub(crate) fn place(
    text: &str,
    doc: &Document,
    workload: &Workload,
    field: Option<(NodeId, NodeId)>,
    null: bool,
) -> (TextRange, Option<Fix>) {
    match field {
        Some((key, value)) => {
            let at = if null { key } else { value };
            (
                doc.node(at).range,
                Some(replace_value(text, doc, key, value)),
            )
        }
        None => (
            doc.node(workload.spec_key).range,
            insert_field(text, doc, workload.pod_spec),
        ),
    }
}

/// Whether a finding's fix is the one to prefer: not when a binding in the
/// checked files names the pod's account (as a ServiceAccount subject, or as
/// the user `system:serviceaccount:NS:NAME`), since someone then gave this
/// account permissions, the pod may use the API, and turning its token off
/// may break it (issue 14). Bindings to the groups every account belongs to
/// (`system:serviceaccounts`, `system:serviceaccounts:NS`,
/// `system:authenticated`) apply to every pod alike and say nothing about
/// this one.
pub fn fix_is_preferred(finding: &Finding) -> bool {
    finding
        .permissions
        .as_ref()
        .is_none_or(|p| named_grants(p).next().is_none())
}

/// The grants of bindings that name the account itself.
fn named_grants(permissions: &Permissions) -> impl Iterator<Item = &Grant> {
    permissions
        .grants
        .iter()
        .filter(|g| matches!(g.via, Via::ServiceAccount | Via::User))
}

/// The bindings that name the account, in one line: `bound to ClusterRole
/// "edit" by RoleBinding "ci"` (and how many more); `None` when none does.
pub fn named_bindings_summary(permissions: &Permissions) -> Option<String> {
    let named: Vec<&Grant> = named_grants(permissions).collect();
    let first = named.first()?;
    let more = match named.len() - 1 {
        0 => String::new(),
        1 => " and 1 more binding".to_string(),
        n => format!(" and {n} more bindings"),
    };
    Some(format!("bound to {}{more}", one_line(&first.describe())))
}

/// What a bound account's fix title adds: why the fix may break the pod.
const MAY_USE_THE_API: &str = "the pod may use the API";

/// Says in the fix's title why it is not preferred, once the finding knows
/// its account's permissions (the title is computed again from its first
/// words each time, so attaching them twice changes nothing).
/// (`Finding::set_permissions` does this with the reason it keeps.)
#[cfg(test)]
pub(crate) fn weigh_fix(finding: &mut Finding) {
    let why = finding.permissions.as_deref().and_then(fix_reason);
    weigh_fix_with(finding, why.as_deref());
}

/// Why the fix of a finding whose account has `permissions` is not
/// preferred (`None`: it is).
pub(crate) fn fix_reason(permissions: &Permissions) -> Option<String> {
    named_grants(permissions)
        .next()
        .is_some()
        .then(|| bound_reason(permissions))
}

/// [`weigh_fix`] with the reason given ([`fix_reason`] of a finding with
/// the same permissions).
pub(crate) fn weigh_fix_with(finding: &mut Finding, why: Option<&str>) {
    let Some(fix) = finding.fix.as_mut() else {
        return;
    };
    if let Some(at) = fix.title.find(" (ServiceAccount ") {
        fix.title.truncate(at);
    }
    if let Some(why) = why {
        fix.title.push_str(&format!(" ({why})"));
    }
}

/// `ServiceAccount "ci" is bound to ClusterRole "edit": the pod may use the
/// API` (and how many more roles, when there are).
fn bound_reason(permissions: &Permissions) -> String {
    // The distinct roles, as the title names them (an account may be bound
    // many times: a set, not a search of the list per grant).
    let mut roles: std::collections::HashSet<(&str, std::borrow::Cow<str>)> =
        std::collections::HashSet::new();
    let mut first = None;
    for grant in named_grants(permissions) {
        let role = (grant.role.kind().as_str(), one_line_cow(grant.role.name()));
        if first.is_none() {
            first = Some(format!("{} \"{}\"", role.0, role.1));
        }
        roles.insert(role);
    }
    let first = first.unwrap_or_default();
    let more = match roles.len().saturating_sub(1) {
        0 => String::new(),
        1 => " and 1 more role".to_string(),
        n => format!(" and {n} more roles"),
    };
    format!(
        "ServiceAccount \"{}\" is bound to {first}{more}: {MAY_USE_THE_API}",
        one_line(&permissions.account)
    )
}

/// A name as it may be written in a one-line title or comment: control
/// characters (a quoted name can hold a line break) become spaces.
pub(crate) fn one_line(name: &str) -> String {
    one_line_cow(name).into_owned()
}

/// [`one_line`], borrowing the name when it holds no control character
/// (nearly always).
fn one_line_cow(name: &str) -> std::borrow::Cow<'_, str> {
    if !name.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(name);
    }
    name.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::{
        BindingKind, Capability, Grant, Permissions, Risk, RoleKind, RoleSource, Scope, Via,
    };
    use crate::{analyze, NoAccounts, Options};

    fn grant(role: RoleSource, binding: &str) -> Grant {
        Grant {
            binding_kind: BindingKind::RoleBinding,
            binding: binding.to_string(),
            binding_namespace: Some("ci".to_string()),
            binding_place: None,
            via: Via::ServiceAccount,
            role,
            scope: Scope::Namespace(Some("ci".to_string())),
            rules: Default::default(),
            capabilities: vec![Capability::ReadSecrets],
        }
    }

    fn builtin(name: &str) -> RoleSource {
        RoleSource::Builtin {
            name: name.to_string(),
            kubernetes: "v1.33",
        }
    }

    fn permissions(grants: Vec<Grant>) -> Permissions {
        Permissions {
            namespace: Some("ci".to_string()),
            account: "ci".to_string(),
            grants,
            defaults: Vec::new(),
            risk: Risk::DangerousInNamespace,
        }
    }

    fn finding() -> Finding {
        let text = "kind: Pod\nspec:\n  serviceAccountName: ci\n  containers: []\n";
        analyze(text, &NoAccounts, Options::builtin()).remove(0)
    }

    #[test]
    fn a_bound_account_makes_the_fix_not_preferred_and_says_why() {
        let mut f = finding();
        assert!(fix_is_preferred(&f));
        f.permissions = Some(std::sync::Arc::new(permissions(vec![grant(
            builtin("edit"),
            "ci",
        )])));
        weigh_fix(&mut f);
        assert!(!fix_is_preferred(&f));
        let title = "Add automountServiceAccountToken: false to the pod spec (ServiceAccount \"ci\" is bound to ClusterRole \"edit\": the pod may use the API)";
        assert_eq!(f.fix.as_ref().unwrap().title, title);
        weigh_fix(&mut f);
        assert_eq!(f.fix.as_ref().unwrap().title, title, "weighed twice");
    }

    #[test]
    fn more_roles_are_counted_and_an_unbound_account_keeps_the_plain_title() {
        let mut f = finding();
        f.permissions = Some(std::sync::Arc::new(permissions(vec![
            grant(builtin("edit"), "a"),
            grant(builtin("edit"), "b"),
            grant(
                RoleSource::Missing {
                    kind: RoleKind::Role,
                    name: "ops".to_string(),
                },
                "c",
            ),
        ])));
        weigh_fix(&mut f);
        assert!(f.fix.as_ref().unwrap().title.ends_with(
            "is bound to ClusterRole \"edit\" and 1 more role: the pod may use the API)"
        ));
        f.permissions = Some(std::sync::Arc::new(permissions(Vec::new())));
        weigh_fix(&mut f);
        assert!(fix_is_preferred(&f));
        assert_eq!(
            f.fix.as_ref().unwrap().title,
            "Add automountServiceAccountToken: false to the pod spec"
        );
        // A binding of every account (a group) says nothing about this pod.
        let mut everyone = grant(builtin("psp-use"), "all");
        everyone.via = Via::AllServiceAccounts;
        f.permissions = Some(std::sync::Arc::new(permissions(vec![everyone])));
        weigh_fix(&mut f);
        assert!(fix_is_preferred(&f));
        assert_eq!(
            f.fix.as_ref().unwrap().title,
            "Add automountServiceAccountToken: false to the pod spec"
        );
    }
}
