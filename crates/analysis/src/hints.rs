//! What an editor shows beside the text without being asked: the inlay
//! hint on a pod spec that leaves `automountServiceAccountToken` to its
//! ServiceAccount ([`TokenHint`]: the effective value and the account it
//! comes from), and the code lens on a ServiceAccount ([`AccountLens`]: the
//! workloads that run as it, how many of them mount its token, and what it
//! is bound to).
//!
//! Facts only, byte offsets only: the server turns them into LSP types.
//! The labels are short editor texts, worded here once (`label`, `title`,
//! `tooltip`) for every client.

use crate::accounts::{AccountLookup, SameFileFirst};
use crate::finding::AccountCheck;
use crate::fix::FIELD;
use crate::navigation::Workspace;
use crate::objects::{AccountAutomount, ServiceAccount};
use crate::rbac::Permissions;
use crate::text::TextRange;
use crate::value::get;
use crate::ParsedFile;

/// A pod spec that does not write `automountServiceAccountToken`: whether
/// the token is mounted, decided by the account it runs as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenHint {
    /// Where the hint goes: the end of the pod spec's `spec:` key line
    /// (trailing blanks left out), never inside the pod spec's own text.
    pub offset: usize,
    /// The pod spec's `spec` key.
    pub spec_key: TextRange,
    /// Whether Kubernetes mounts the token.
    pub mounted: bool,
    /// The account the pod runs as, and where it was found (`found: None`:
    /// not in the checked files).
    pub account: AccountCheck,
}

impl TokenHint {
    /// `token mounted: ServiceAccount default`, `token off: ServiceAccount
    /// builder`, `token mounted: ServiceAccount ci (not in the checked
    /// files)`. The `default` account Kubernetes creates in every namespace
    /// mounts the token unless it is declared otherwise, so an undeclared
    /// `default` is not said to be missing.
    pub fn label(&self) -> String {
        let state = if self.mounted {
            "token mounted"
        } else {
            "token off"
        };
        let missing = self.account.found.is_none() && self.account.name != "default";
        let tail = if missing {
            " (not in the checked files)"
        } else {
            ""
        };
        format!("{state}: ServiceAccount {}{tail}", self.account.name)
    }

    /// The longer explanation (plain text): why the value is what it is.
    pub fn tooltip(&self) -> String {
        let account = match &self.account.namespace {
            Some(ns) => format!("ServiceAccount \"{}\" of namespace {ns}", self.account.name),
            None => format!("ServiceAccount \"{}\"", self.account.name),
        };
        let Some(found) = &self.account.found else {
            let why = if self.account.name == "default" {
                "is not declared in the checked files; the one Kubernetes creates mounts the token"
            } else {
                "is not declared in the checked files, so nothing turns the token off"
            };
            return format!(
                "The pod spec does not set {FIELD}; it runs as {account}, which {why}."
            );
        };
        let place = match &found.origin {
            Some(file) => format!(" (declared in {file})"),
            None => " (declared in this file)".to_string(),
        };
        let what = match found.account.automount {
            AccountAutomount::Disabled => format!("sets {FIELD}: false: the token is not mounted"),
            AccountAutomount::Enabled => format!("sets {FIELD}: true: the token is mounted"),
            AccountAutomount::Default => {
                format!("does not set {FIELD}: the token is mounted")
            }
            AccountAutomount::Invalid => {
                format!("sets {FIELD} to a non-boolean: nothing turns the token off")
            }
        };
        format!("The pod spec does not set {FIELD}; it runs as {account}{place}, which {what}.")
    }
}

/// The hints of a parsed plain manifest: one per judged pod spec that does
/// not write the field (a null value is written: the finding speaks for
/// it). `workspace` is the rest of the workspace's accounts; the file's own
/// are looked in first, as the rule does.
pub fn token_hints(
    text: &str,
    parsed: &ParsedFile,
    workspace: &dyn AccountLookup,
) -> Vec<TokenHint> {
    let accounts = SameFileFirst {
        file: &parsed.accounts,
        workspace,
    };
    let mut hints = Vec::new();
    for (doc, workload) in &parsed.workloads {
        let Some(doc) = parsed.documents.get(*doc) else {
            continue;
        };
        if get(doc, workload.pod_spec, FIELD).is_some() {
            continue;
        }
        let account = crate::verdict::pod_account(doc, workload, &accounts);
        let mounted = account
            .found
            .as_ref()
            .is_none_or(|f| f.account.automount != AccountAutomount::Disabled);
        let spec_key = doc.node(workload.spec_key).range;
        let line = parsed.line_index.line_of(spec_key.start);
        let start = parsed.line_index.line_start(line);
        let line_text = parsed.line_index.line_text(text, line);
        hints.push(TokenHint {
            offset: start + line_text.trim_end().len(),
            spec_key,
            mounted,
            account,
        });
    }
    hints.sort_by_key(|h| h.offset);
    hints
}

/// The code lens on a ServiceAccount.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountLens {
    /// The account's object: the lens goes above its first line.
    pub range: TextRange,
    /// The account's name value.
    pub name_range: TextRange,
    pub name: String,
    pub namespace: Option<String>,
    /// How many workloads run as it, and how many of those mount its token.
    pub workloads: usize,
    pub mounting: usize,
    /// What it is bound to (`ClusterRole edit`, `Role reader`), in the
    /// order of the permissions' grants, each once; `None` when the
    /// bindings were not asked.
    pub bound_to: Option<Vec<String>>,
}

impl AccountLens {
    /// `used by 3 workloads · 2 mount the token · bound to ClusterRole edit`.
    pub fn title(&self) -> String {
        let mut parts = Vec::new();
        parts.push(match self.workloads {
            0 => "used by no workload in the checked files".to_string(),
            1 => "used by 1 workload".to_string(),
            n => format!("used by {n} workloads"),
        });
        if self.workloads > 0 {
            parts.push(match (self.mounting, self.workloads) {
                (0, _) => "none mounts the token".to_string(),
                (1, 1) => "it mounts the token".to_string(),
                (m, n) if m == n && n > 1 => "all mount the token".to_string(),
                (1, _) => "1 mounts the token".to_string(),
                (m, _) => format!("{m} mount the token"),
            });
        }
        if let Some(bound) = &self.bound_to {
            parts.push(if bound.is_empty() {
                "no binding in the checked files".to_string()
            } else {
                format!("bound to {}", bound.join(", "))
            });
        }
        parts.join(" · ")
    }
}

/// The roles the bindings of the checked files give an account, as a lens
/// names them (`ClusterRole edit`), each once, most dangerous first (the
/// grants' order); a role defined outside the checked files is said so.
pub fn roles_bound(permissions: &Permissions) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for grant in &permissions.grants {
        let mut role = format!("{} {}", grant.role.kind().as_str(), grant.role.name());
        if grant.role.is_missing() {
            role.push_str(" (not in the checked files)");
        }
        if !out.contains(&role) {
            out.push(role);
        }
    }
    out
}

/// What an account (namespace, name) is bound to, for its lens (`None`:
/// not asked).
pub type BoundTo<'a> = dyn Fn(Option<&str>, &str) -> Option<Vec<String>> + 'a;

/// The lens of each ServiceAccount in `accounts` (a file's declarations),
/// counted over `workspace` (navigation's model of where workloads name
/// their accounts): the workloads that run as it (`serviceAccountName`,
/// else `serviceAccount`, else `default`, in the same namespace), and how
/// many of them mount its token (their own field, else the account's, read
/// as the rule reads several declarations: any that leaves automounting on
/// wins). `bound_to` says what an account is bound to (`None`: not asked).
pub fn account_lenses(
    accounts: &[ServiceAccount],
    workspace: &Workspace<'_>,
    bound_to: &BoundTo<'_>,
) -> Vec<AccountLens> {
    let uses = workspace.all_uses();
    let declarations = workspace.all_accounts();
    accounts
        .iter()
        .map(|account| {
            let same = |namespace: &Option<String>, name: &str| {
                *namespace == account.namespace && name == account.name
            };
            let account_mounts = declarations
                .iter()
                .filter(|(_, a)| same(&a.namespace, &a.name))
                .any(|(_, a)| a.automount != AccountAutomount::Disabled);
            let running: Vec<_> = uses
                .iter()
                .filter(|(_, u)| u.effective && same(&u.namespace, &u.account))
                .collect();
            let mounting = running
                .iter()
                .filter(|(_, u)| match u.pod_automount {
                    AccountAutomount::Disabled => false,
                    AccountAutomount::Enabled | AccountAutomount::Invalid => true,
                    AccountAutomount::Default => account_mounts,
                })
                .count();
            AccountLens {
                range: account.object,
                name_range: account.name_range,
                name: account.name.clone(),
                namespace: account.namespace.clone(),
                workloads: running.len(),
                mounting,
                bound_to: bound_to(account.namespace.as_deref(), &account.name),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse, AccountIndex, NoAccounts, Options};

    fn hints(text: &str, workspace: &dyn AccountLookup) -> Vec<(String, usize)> {
        let parsed = parse(text, Options::builtin());
        token_hints(text, &parsed, workspace)
            .into_iter()
            .map(|h| (h.label(), h.offset))
            .collect()
    }

    #[test]
    fn a_pod_spec_without_the_field_gets_the_accounts_value_at_the_end_of_its_spec_line() {
        let text = "kind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:   \n      containers: []\n";
        let end = text.find("spec:   ").unwrap() + "spec:".len();
        assert_eq!(
            hints(text, &NoAccounts),
            vec![("token mounted: ServiceAccount default".to_string(), end)]
        );
    }

    #[test]
    fn the_account_decides_and_says_where_it_is() {
        let text = "kind: Pod\nmetadata: {name: a}\nspec:\n  serviceAccountName: builder\n  containers: []\n---\nkind: ServiceAccount\nmetadata: {name: builder}\nautomountServiceAccountToken: false\n";
        assert_eq!(
            hints(text, &NoAccounts)[0].0,
            "token off: ServiceAccount builder"
        );
        let pod = "kind: Pod\nmetadata: {name: a}\nspec:\n  serviceAccountName: builder\n  containers: []\n";
        assert_eq!(
            hints(pod, &NoAccounts)[0].0,
            "token mounted: ServiceAccount builder (not in the checked files)"
        );
        let mut index = AccountIndex::new();
        index.set(
            "accounts.yaml",
            parse(
                "kind: ServiceAccount\nmetadata: {name: builder}\nautomountServiceAccountToken: false\n",
                Options::builtin(),
            )
            .accounts,
        );
        assert_eq!(hints(pod, &index)[0].0, "token off: ServiceAccount builder");
        let parsed = parse(pod, Options::builtin());
        let hint = &token_hints(pod, &parsed, &index)[0];
        assert!(
            hint.tooltip().contains("(declared in accounts.yaml)"),
            "{}",
            hint.tooltip()
        );
    }

    #[test]
    fn a_written_field_gets_no_hint_not_even_null() {
        for value in ["false", "true", "", "~", "\"no\""] {
            let text = format!(
                "kind: Pod\nmetadata: {{name: a}}\nspec:\n  automountServiceAccountToken: {value}\n  containers: []\n"
            );
            assert!(hints(&text, &NoAccounts).is_empty(), "{value}");
        }
    }

    #[test]
    fn lens_titles_count_workloads_mounts_and_bindings() {
        let lens = |workloads, mounting, bound_to: Option<Vec<&str>>| {
            AccountLens {
                range: TextRange { start: 0, end: 0 },
                name_range: TextRange { start: 0, end: 0 },
                name: "a".into(),
                namespace: None,
                workloads,
                mounting,
                bound_to: bound_to.map(|b| b.into_iter().map(String::from).collect()),
            }
            .title()
        };
        assert_eq!(
            lens(3, 2, Some(vec!["ClusterRole edit"])),
            "used by 3 workloads · 2 mount the token · bound to ClusterRole edit"
        );
        assert_eq!(
            lens(0, 0, Some(vec![])),
            "used by no workload in the checked files · no binding in the checked files"
        );
        assert_eq!(lens(1, 1, None), "used by 1 workload · it mounts the token");
        assert_eq!(
            lens(2, 0, None),
            "used by 2 workloads · none mounts the token"
        );
        assert_eq!(
            lens(2, 2, None),
            "used by 2 workloads · all mount the token"
        );
    }
}
