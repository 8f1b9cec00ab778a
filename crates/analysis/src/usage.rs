//! Which workloads run as which ServiceAccount, and whether each mounts the
//! account's token: the facts of `tokenguard accounts` (the audit view).
//!
//! A file's uses ([`TokenUse`]) come from the host
//! (`AnalysisHost::token_uses`), decided by the rule itself (the plain
//! rule, or the Helm rule for a chart template, then the kustomizations):
//! a pod is said to mount the token exactly when TG001 would report it
//! (before `tokenguard-ignore` comments and the configuration, which accept
//! a token but do not unmount it). [`group`] puts the uses of many files
//! together with the accounts the workspace declares, by namespace and
//! name: declared accounts no workload uses, accounts workloads name that
//! no file declares, and each namespace's implicit `default` account when
//! workloads run as it.

use std::collections::BTreeMap;

use crate::finding::WorkloadRef;
use crate::rbac::Permissions;
use crate::text::TextRange;

/// How a pod spec writes `automountServiceAccountToken` itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodField {
    /// Not written: the account decides.
    Absent,
    False,
    True,
    /// `null` (or empty): the account decides.
    Null,
    /// Not a boolean: the API server refuses the object.
    NotBoolean,
    /// A template action (resolved by the Helm rule when it can be).
    Templated,
}

impl PodField {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            PodField::Absent => "absent",
            PodField::False => "false",
            PodField::True => "true",
            PodField::Null => "null",
            PodField::NotBoolean => "not-boolean",
            PodField::Templated => "templated",
        }
    }
}

/// What decides whether a pod mounts the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decider {
    /// The pod spec's own `automountServiceAccountToken`.
    Pod,
    /// The ServiceAccount's (its absence means Kubernetes' default: mounted).
    Account,
    /// Every kustomization that deploys the file patches the field to false.
    Overlays,
}

impl Decider {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Decider::Pod => "pod",
            Decider::Account => "account",
            Decider::Overlays => "overlays",
        }
    }
}

/// Whether a pod mounts its account's token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    Mounted(Decider),
    NotMounted(Decider),
    /// Depends on a template value tokenguard cannot resolve.
    Unknown,
}

impl Token {
    pub fn is_mounted(self) -> bool {
        matches!(self, Token::Mounted(_))
    }

    /// The JSON name of the state: `mounted`, `not-mounted`, `unknown`.
    pub fn state(self) -> &'static str {
        match self {
            Token::Mounted(_) => "mounted",
            Token::NotMounted(_) => "not-mounted",
            Token::Unknown => "unknown",
        }
    }

    pub fn decider(self) -> Option<Decider> {
        match self {
            Token::Mounted(d) | Token::NotMounted(d) => Some(d),
            Token::Unknown => None,
        }
    }
}

/// One workload running as an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenUse {
    pub workload: WorkloadRef,
    /// The workload object's range in its file.
    pub range: TextRange,
    /// The account's name: `serviceAccountName`, else `serviceAccount`,
    /// else `default`; in a chart template, as the chart renders it (when
    /// `computed`, the template expression that computes it).
    pub account: String,
    pub computed: bool,
    pub pod_field: PodField,
    pub token: Token,
    /// A `tokenguard-ignore` comment or an `[[ignore]]` of the
    /// configuration accepts the mounted token.
    pub accepted: bool,
}

/// How a declared account sets `automountServiceAccountToken`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeclaredAutomount {
    Disabled,
    Enabled,
    /// Not set (or null): Kubernetes mounts the token.
    Default,
    /// Not a boolean.
    Invalid,
    /// A chart value that does not resolve.
    Templated,
}

impl DeclaredAutomount {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeclaredAutomount::Disabled => "false",
            DeclaredAutomount::Enabled => "true",
            DeclaredAutomount::Default => "unset",
            DeclaredAutomount::Invalid => "not-boolean",
            DeclaredAutomount::Templated => "templated",
        }
    }
}

/// Where an account is declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declaration {
    /// The file, as the host names files.
    pub file: String,
    /// The account's name value in that file.
    pub range: TextRange,
    pub automount: DeclaredAutomount,
}

/// An account as declared (or named without a declaration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredAccount {
    pub namespace: Option<String>,
    pub name: String,
    /// The name is a template expression.
    pub computed: bool,
    pub declaration: Declaration,
}

/// Whether the checked files declare an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Declared {
    Yes,
    /// Workloads name it, no file declares it.
    No,
    /// A namespace's `default` account, which Kubernetes creates.
    ImplicitDefault,
}

impl Declared {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Declared::Yes => "declared",
            Declared::No => "not-declared",
            Declared::ImplicitDefault => "implicit-default",
        }
    }
}

/// One account of the audit, with the workloads that run as it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountUsage {
    pub namespace: Option<String>,
    pub name: String,
    pub computed: bool,
    /// Every declaration (several files may declare the same account).
    pub declarations: Vec<Declaration>,
    /// By file (as the host names files), in file then text order.
    pub workloads: Vec<(String, TokenUse)>,
    /// What its token can do; `None` for a name a chart computes (its
    /// bindings cannot be matched to it).
    pub permissions: Option<Permissions>,
}

impl AccountUsage {
    pub fn declared(&self) -> Declared {
        if !self.declarations.is_empty() {
            Declared::Yes
        } else if self.name == "default" && !self.computed {
            Declared::ImplicitDefault
        } else {
            Declared::No
        }
    }

    /// How many of its workloads mount the token.
    pub fn mounting(&self) -> usize {
        self.workloads
            .iter()
            .filter(|(_, u)| u.token.is_mounted())
            .count()
    }

    /// Whether a workload mounts the token of an account whose risk is at
    /// least `risk` (`tokenguard accounts --fail-on`).
    pub fn mounted_at_risk(&self, risk: crate::rbac::Risk) -> bool {
        self.mounting() > 0 && self.permissions.as_ref().is_some_and(|p| p.risk >= risk)
    }
}

/// The key two mentions of an account share: its namespace and its name
/// (a computed name compared as the same call, blanks and trim markers
/// aside, as the Helm rule compares them).
fn key(namespace: &Option<String>, name: &str, computed: bool) -> (Option<String>, String) {
    let name = if computed {
        name.replace("{{-", "{{")
            .replace("-}}", "}}")
            .replace(['(', ')'], " ")
            .split_whitespace()
            .map(|w| if w == "template" { "include" } else { w })
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        name.to_string()
    };
    (namespace.clone(), name)
}

/// The accounts `declared` and the accounts `uses` name, each with the
/// workloads that run as it; sorted by namespace (none first), then name.
pub fn group(
    declared: impl IntoIterator<Item = DeclaredAccount>,
    uses: impl IntoIterator<Item = (String, TokenUse)>,
) -> Vec<AccountUsage> {
    let mut by_key: BTreeMap<(Option<String>, String), AccountUsage> = BTreeMap::new();
    for account in declared {
        let entry = by_key
            .entry(key(&account.namespace, &account.name, account.computed))
            .or_insert_with(|| AccountUsage {
                namespace: account.namespace.clone(),
                name: account.name.clone(),
                computed: account.computed,
                declarations: Vec::new(),
                workloads: Vec::new(),
                permissions: None,
            });
        entry.declarations.push(account.declaration);
    }
    for (file, used) in uses {
        let entry = by_key
            .entry(key(&used.workload.namespace, &used.account, used.computed))
            .or_insert_with(|| AccountUsage {
                namespace: used.workload.namespace.clone(),
                name: used.account.clone(),
                computed: used.computed,
                declarations: Vec::new(),
                workloads: Vec::new(),
                permissions: None,
            });
        entry.workloads.push((file, used));
    }
    let mut accounts: Vec<AccountUsage> = by_key.into_values().collect();
    for account in &mut accounts {
        account
            .declarations
            .sort_by(|a, b| (&a.file, a.range.start).cmp(&(&b.file, b.range.start)));
        account
            .workloads
            .sort_by(|a, b| (&a.0, a.1.range.start).cmp(&(&b.0, b.1.range.start)));
    }
    accounts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(namespace: Option<&str>, account: &str, computed: bool) -> TokenUse {
        TokenUse {
            workload: WorkloadRef {
                kind: "Deployment".to_string(),
                name: Some("api".to_string()),
                namespace: namespace.map(str::to_string),
            },
            range: TextRange::new(0, 1),
            account: account.to_string(),
            computed,
            pod_field: PodField::Absent,
            token: Token::Mounted(Decider::Account),
            accepted: false,
        }
    }

    fn declared(namespace: Option<&str>, name: &str, computed: bool) -> DeclaredAccount {
        DeclaredAccount {
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
            computed,
            declaration: Declaration {
                file: "sa.yaml".to_string(),
                range: TextRange::new(0, 1),
                automount: DeclaredAutomount::Default,
            },
        }
    }

    #[test]
    fn uses_join_their_account_by_namespace_and_name() {
        let accounts = group(
            [
                declared(Some("prod"), "api", false),
                declared(None, "unused", false),
                declared(None, "{{ include \"c.sa\" . }}", true),
            ],
            [
                ("a.yaml".to_string(), used(Some("prod"), "api", false)),
                ("b.yaml".to_string(), used(Some("dev"), "api", false)),
                ("c.yaml".to_string(), used(Some("dev"), "default", false)),
                (
                    "t.yaml".to_string(),
                    used(None, "{{- template \"c.sa\" . -}}", true),
                ),
            ],
        );
        let names: Vec<(Option<&str>, &str, Declared, usize)> = accounts
            .iter()
            .map(|a| {
                (
                    a.namespace.as_deref(),
                    a.name.as_str(),
                    a.declared(),
                    a.workloads.len(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                (None, "unused", Declared::Yes, 0),
                (None, "{{ include \"c.sa\" . }}", Declared::Yes, 1),
                (Some("dev"), "api", Declared::No, 1),
                (Some("dev"), "default", Declared::ImplicitDefault, 1),
                (Some("prod"), "api", Declared::Yes, 1),
            ]
        );
        assert_eq!(accounts[4].mounting(), 1);
    }
}
