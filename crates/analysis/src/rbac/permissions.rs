//! What a token can do: the grants of an account, each with its role, scope,
//! effective rules and the dangerous capabilities among them, and the risk
//! they add up to.

use std::sync::Arc;

use crate::text::TextRange;

use super::model::{BindingKind, PolicyRule, RoleKind};

/// Where a grant applies.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// A ClusterRoleBinding: every namespace and the cluster-scoped objects.
    Cluster,
    /// A RoleBinding: its namespace (`None` when the binding names none: the
    /// namespace it is applied into).
    Namespace(Option<String>),
}

impl Scope {
    /// "cluster-wide", "in namespace \"prod\"", "in its namespace".
    pub fn describe(&self) -> String {
        match self {
            Scope::Cluster => "cluster-wide".to_string(),
            Scope::Namespace(Some(ns)) => format!("in namespace \"{ns}\""),
            Scope::Namespace(None) => "in the binding's namespace".to_string(),
        }
    }
}

/// Where the role a binding names was found.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RoleSource {
    /// In the checked files.
    Declared {
        kind: RoleKind,
        name: String,
        file: String,
        range: TextRange,
    },
    /// One of the API server's built-in ClusterRoles (bootstrap policy).
    Builtin {
        name: String,
        kubernetes: &'static str,
    },
    /// Neither: defined outside the checked files, never guessed.
    Missing { kind: RoleKind, name: String },
}

impl RoleSource {
    pub fn kind(&self) -> RoleKind {
        match self {
            RoleSource::Declared { kind, .. } | RoleSource::Missing { kind, .. } => *kind,
            RoleSource::Builtin { .. } => RoleKind::ClusterRole,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            RoleSource::Declared { name, .. }
            | RoleSource::Builtin { name, .. }
            | RoleSource::Missing { name, .. } => name,
        }
    }

    pub fn is_missing(&self) -> bool {
        matches!(self, RoleSource::Missing { .. })
    }
}

/// How a binding's subject reaches the account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Via {
    /// A `ServiceAccount` subject naming it.
    ServiceAccount,
    /// The group `system:serviceaccounts`.
    AllServiceAccounts,
    /// The group `system:serviceaccounts:<namespace>`.
    NamespaceServiceAccounts,
    /// The user `system:serviceaccount:<namespace>:<name>`.
    User,
    /// The group `system:authenticated`.
    Authenticated,
}

/// One binding that applies to the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub binding_kind: BindingKind,
    pub binding: String,
    pub binding_namespace: Option<String>,
    /// Where the binding is declared; `None` for a built-in default binding.
    pub binding_place: Option<(String, TextRange)>,
    pub via: Via,
    pub role: RoleSource,
    pub scope: Scope,
    /// The role's effective (aggregated) rules; empty when it is missing.
    /// (Shared: a copy of the grant, its places moved, keeps them.)
    pub rules: Arc<Vec<PolicyRule>>,
    /// The dangerous capabilities among `rules`, most dangerous first.
    pub capabilities: Vec<Capability>,
}

impl Grant {
    /// This grant alone, as a risk.
    pub fn risk(&self) -> Risk {
        if self.role.is_missing() {
            return Risk::Unknown;
        }
        if self.scope == Scope::Cluster && self.rules.iter().any(PolicyRule::is_wildcard_all) {
            return Risk::ClusterAdmin;
        }
        match (&self.scope, self.capabilities.is_empty()) {
            (_, true) => Risk::Bound,
            (Scope::Cluster, false) => Risk::DangerousClusterWide,
            (Scope::Namespace(_), false) => Risk::DangerousInNamespace,
        }
    }

    /// The `resourceNames` every rule that gives `capability` is limited to;
    /// empty when some rule gives it for every name.
    pub fn limited_to_names(&self, capability: Capability) -> Vec<String> {
        let mut names = Vec::new();
        for rule in self.rules.iter() {
            if capability.given_by(rule) {
                if rule.resource_names.is_empty() {
                    return Vec::new();
                }
                names.extend(rule.resource_names.iter().cloned());
            }
        }
        names.sort();
        names.dedup();
        names
    }

    /// `ClusterRole "edit" by RoleBinding "ci" in namespace "prod"`.
    pub fn describe(&self) -> String {
        let missing = if self.role.is_missing() {
            " (not defined in the checked files)"
        } else {
            ""
        };
        format!(
            "{} \"{}\"{missing} by {} \"{}\"",
            self.role.kind().as_str(),
            self.role.name(),
            self.binding_kind.as_str(),
            self.binding
        )
    }
}

/// A dangerous capability, named as the Kubernetes RBAC good-practices and
/// privilege-escalation documentation names it. Ordered most dangerous
/// first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capability {
    Wildcard,
    ReadSecrets,
    CreatePods,
    CreateWorkloads,
    ExecIntoPods,
    AttachToPods,
    PortForward,
    BindRoles,
    EscalateRoles,
    Impersonate,
    CreateTokens,
    NodesProxy,
    ChangeRbac,
    ChangeAdmissionWebhooks,
}

const CORE: &str = "";
const APPS: &str = "apps";
const BATCH: &str = "batch";
const RBAC: &str = "rbac.authorization.k8s.io";
const ADMISSION: &str = "admissionregistration.k8s.io";
const AUTHENTICATION: &str = "authentication.k8s.io";
const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
const READ: &[&str] = &["get", "list", "watch"];
/// Exec, attach and port-forward are `create` on their subresource, and
/// `get` for clients that still speak websockets to older API servers.
const STREAM: &[&str] = &["create", "get"];

impl Capability {
    pub const ALL: [Capability; 14] = [
        Capability::Wildcard,
        Capability::ReadSecrets,
        Capability::CreatePods,
        Capability::CreateWorkloads,
        Capability::ExecIntoPods,
        Capability::AttachToPods,
        Capability::PortForward,
        Capability::BindRoles,
        Capability::EscalateRoles,
        Capability::Impersonate,
        Capability::CreateTokens,
        Capability::NodesProxy,
        Capability::ChangeRbac,
        Capability::ChangeAdmissionWebhooks,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Capability::Wildcard => "wildcard access",
            Capability::ReadSecrets => "read Secrets",
            Capability::CreatePods => "create pods",
            Capability::CreateWorkloads => "create workloads",
            Capability::ExecIntoPods => "exec into pods",
            Capability::AttachToPods => "attach to pods",
            Capability::PortForward => "port-forward to pods",
            Capability::BindRoles => "bind roles",
            Capability::EscalateRoles => "escalate roles",
            Capability::Impersonate => "impersonate users, groups or ServiceAccounts",
            Capability::CreateTokens => "create ServiceAccount tokens",
            Capability::NodesProxy => "proxy to nodes (nodes/proxy)",
            Capability::ChangeRbac => "change RBAC",
            Capability::ChangeAdmissionWebhooks => "change admission webhooks",
        }
    }

    /// A stable machine name ("read-secrets").
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Wildcard => "wildcard",
            Capability::ReadSecrets => "read-secrets",
            Capability::CreatePods => "create-pods",
            Capability::CreateWorkloads => "create-workloads",
            Capability::ExecIntoPods => "exec-into-pods",
            Capability::AttachToPods => "attach-to-pods",
            Capability::PortForward => "port-forward",
            Capability::BindRoles => "bind-roles",
            Capability::EscalateRoles => "escalate-roles",
            Capability::Impersonate => "impersonate",
            Capability::CreateTokens => "create-tokens",
            Capability::NodesProxy => "nodes-proxy",
            Capability::ChangeRbac => "change-rbac",
            Capability::ChangeAdmissionWebhooks => "change-admission-webhooks",
        }
    }

    /// Whether `rule` gives this capability.
    pub fn given_by(self, rule: &PolicyRule) -> bool {
        let any = |targets: &[(&str, &str)], verbs: &[&str]| {
            targets
                .iter()
                .any(|(g, r)| verbs.iter().any(|v| rule.allows(g, r, v)))
        };
        match self {
            Capability::Wildcard => rule.has_wildcard(),
            Capability::ReadSecrets => any(&[(CORE, "secrets")], READ),
            Capability::CreatePods => any(&[(CORE, "pods")], &["create"]),
            Capability::CreateWorkloads => any(
                &[
                    (APPS, "deployments"),
                    (APPS, "daemonsets"),
                    (APPS, "statefulsets"),
                    (APPS, "replicasets"),
                    (BATCH, "jobs"),
                    (BATCH, "cronjobs"),
                    (CORE, "replicationcontrollers"),
                ],
                &["create"],
            ),
            Capability::ExecIntoPods => any(&[(CORE, "pods/exec")], STREAM),
            Capability::AttachToPods => any(&[(CORE, "pods/attach")], STREAM),
            Capability::PortForward => any(&[(CORE, "pods/portforward")], STREAM),
            Capability::BindRoles => any(&[(RBAC, "roles"), (RBAC, "clusterroles")], &["bind"]),
            Capability::EscalateRoles => {
                any(&[(RBAC, "roles"), (RBAC, "clusterroles")], &["escalate"])
            }
            Capability::Impersonate => any(
                &[
                    (CORE, "users"),
                    (CORE, "groups"),
                    (CORE, "serviceaccounts"),
                    (AUTHENTICATION, "uids"),
                    (AUTHENTICATION, "userextras/scopes"),
                ],
                &["impersonate"],
            ),
            Capability::CreateTokens => any(&[(CORE, "serviceaccounts/token")], &["create"]),
            Capability::NodesProxy => any(&[(CORE, "nodes/proxy")], &["get", "create"]),
            Capability::ChangeRbac => any(
                &[
                    (RBAC, "roles"),
                    (RBAC, "clusterroles"),
                    (RBAC, "rolebindings"),
                    (RBAC, "clusterrolebindings"),
                ],
                WRITE,
            ),
            Capability::ChangeAdmissionWebhooks => any(
                &[
                    (ADMISSION, "mutatingwebhookconfigurations"),
                    (ADMISSION, "validatingwebhookconfigurations"),
                ],
                WRITE,
            ),
        }
    }

    /// The dangerous capabilities among `rules`, most dangerous first.
    pub fn of_rules(rules: &[PolicyRule]) -> Vec<Capability> {
        Capability::ALL
            .into_iter()
            .filter(|c| rules.iter().any(|r| c.given_by(r)))
            .collect()
    }
}

/// How much a token is worth to whoever takes over the pod. Ordered, lowest
/// first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Risk {
    /// No binding in the checked files: only the defaults every account has.
    DiscoveryOnly,
    /// Bound, but only to roles not found in the checked files.
    Unknown,
    /// Bound, no dangerous capability.
    Bound,
    /// A dangerous capability scoped to namespaces.
    DangerousInNamespace,
    /// A dangerous capability cluster-wide.
    DangerousClusterWide,
    /// `*` verbs on `*` resources in `*` groups cluster-wide.
    ClusterAdmin,
}

impl Risk {
    pub const ALL: [Risk; 6] = [
        Risk::DiscoveryOnly,
        Risk::Unknown,
        Risk::Bound,
        Risk::DangerousInNamespace,
        Risk::DangerousClusterWide,
        Risk::ClusterAdmin,
    ];

    /// The name used in the configuration and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::DiscoveryOnly => "discovery-only",
            Risk::Unknown => "unknown",
            Risk::Bound => "bound",
            Risk::DangerousInNamespace => "dangerous-in-namespace",
            Risk::DangerousClusterWide => "dangerous-cluster-wide",
            Risk::ClusterAdmin => "cluster-admin",
        }
    }

    pub fn parse(name: &str) -> Option<Risk> {
        Risk::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// What an account's token can do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permissions {
    pub namespace: Option<String>,
    pub account: String,
    /// From bindings in the checked files, most dangerous first, then by
    /// binding.
    pub grants: Vec<Grant>,
    /// From the built-in default bindings (discovery, …).
    pub defaults: Vec<Grant>,
    pub risk: Risk,
}

impl Permissions {
    /// Builds the permissions from their grants: sorts them and computes
    /// the risk.
    pub fn new(
        namespace: Option<String>,
        account: String,
        mut grants: Vec<Grant>,
        defaults: Vec<Grant>,
    ) -> Permissions {
        grants.sort_by(|a, b| {
            b.risk()
                .cmp(&a.risk())
                .then_with(|| a.binding_kind.cmp(&b.binding_kind).reverse())
                .then_with(|| a.binding.cmp(&b.binding))
                .then_with(|| a.binding_namespace.cmp(&b.binding_namespace))
                .then_with(|| a.role.name().cmp(b.role.name()))
        });
        let risk = grants
            .iter()
            .map(Grant::risk)
            .max()
            .unwrap_or(Risk::DiscoveryOnly);
        Permissions {
            namespace,
            account,
            grants,
            defaults,
            risk,
        }
    }

    /// The dangerous capabilities of the grants from the checked files with
    /// their scope, deduplicated, most dangerous first (cluster-wide before
    /// namespaced).
    pub fn capabilities(&self) -> Vec<(Capability, Scope)> {
        // (Sorted and sifted by reference; only what is left is copied.)
        let mut out: Vec<(Capability, &Scope)> = self
            .grants
            .iter()
            .flat_map(|g| g.capabilities.iter().map(|c| (*c, &g.scope)))
            .collect();
        out.sort();
        out.dedup();
        // A capability held cluster-wide need not be repeated per namespace.
        let cluster: Vec<Capability> = out
            .iter()
            .filter(|(_, s)| **s == Scope::Cluster)
            .map(|(c, _)| *c)
            .collect();
        out.retain(|(c, s)| **s == Scope::Cluster || !cluster.contains(c));
        out.sort_by(|a, b| {
            let cluster_first = |s: &Scope| !matches!(s, Scope::Cluster);
            a.0.cmp(&b.0)
                .then_with(|| cluster_first(a.1).cmp(&cluster_first(b.1)))
                .then_with(|| a.1.cmp(b.1))
        });
        out.into_iter().map(|(c, s)| (c, s.clone())).collect()
    }

    /// Whether any binding of the checked files applies.
    pub fn is_bound(&self) -> bool {
        !self.grants.is_empty()
    }

    /// One line: `bound to ClusterRole "cluster-admin" by ClusterRoleBinding
    /// "ci-admin"`, with how many more grants there are.
    pub fn summary(&self) -> String {
        let Some(first) = self.grants.first() else {
            return "not bound by any RoleBinding or ClusterRoleBinding in the checked files \
                    (discovery permissions only)"
                .to_string();
        };
        let mut line = format!("bound to {}", first.describe());
        if first.scope != Scope::Cluster {
            line.push(' ');
            line.push_str(&first.scope.describe());
        }
        match self.grants.len() - 1 {
            0 => {}
            1 => line.push_str(" and 1 more binding"),
            n => line.push_str(&format!(" and {n} more bindings")),
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::rbac::model::tests::rule;

    fn grant(scope: Scope, rules: Vec<PolicyRule>) -> Grant {
        Grant {
            binding_kind: BindingKind::ClusterRoleBinding,
            binding: "b".into(),
            binding_namespace: None,
            binding_place: None,
            via: Via::ServiceAccount,
            role: RoleSource::Declared {
                kind: RoleKind::ClusterRole,
                name: "r".into(),
                file: "rbac.yaml".into(),
                range: TextRange::default(),
            },
            scope,
            capabilities: Capability::of_rules(&rules),
            rules: Arc::new(rules),
        }
    }

    #[test]
    fn each_capability_is_found_by_its_rule() {
        let cases = [
            (rule(&[""], &["configmaps"], &["*"]), Capability::Wildcard),
            (
                rule(&[""], &["secrets"], &["list"]),
                Capability::ReadSecrets,
            ),
            (rule(&[""], &["pods"], &["create"]), Capability::CreatePods),
            (
                rule(&["batch"], &["cronjobs"], &["create"]),
                Capability::CreateWorkloads,
            ),
            (
                rule(&[""], &["pods/exec"], &["create"]),
                Capability::ExecIntoPods,
            ),
            (
                rule(&[""], &["pods/attach"], &["create"]),
                Capability::AttachToPods,
            ),
            (
                rule(&[""], &["pods/portforward"], &["create"]),
                Capability::PortForward,
            ),
            (
                rule(&[RBAC], &["clusterroles"], &["bind"]),
                Capability::BindRoles,
            ),
            (
                rule(&[RBAC], &["roles"], &["escalate"]),
                Capability::EscalateRoles,
            ),
            (
                rule(&[""], &["users"], &["impersonate"]),
                Capability::Impersonate,
            ),
            (
                rule(&[""], &["serviceaccounts/token"], &["create"]),
                Capability::CreateTokens,
            ),
            (
                rule(&[""], &["nodes/proxy"], &["get"]),
                Capability::NodesProxy,
            ),
            (
                rule(&[RBAC], &["rolebindings"], &["patch"]),
                Capability::ChangeRbac,
            ),
            (
                rule(
                    &[ADMISSION],
                    &["mutatingwebhookconfigurations"],
                    &["update"],
                ),
                Capability::ChangeAdmissionWebhooks,
            ),
        ];
        for (rule, expected) in cases {
            assert_eq!(
                Capability::of_rules(std::slice::from_ref(&rule)),
                vec![expected],
                "{rule:?}"
            );
        }
        assert!(
            Capability::of_rules(&[rule(&[""], &["pods", "configmaps"], &["get", "list"])])
                .is_empty()
        );
        assert!(
            Capability::of_rules(&[rule(&["apps"], &["secrets"], &["get"])]).is_empty(),
            "secrets live in the core group"
        );
        assert_eq!(
            Capability::of_rules(&[rule(&["*"], &["*"], &["*"])]).len(),
            Capability::ALL.len()
        );
    }

    #[test]
    fn risk_follows_scope_and_capabilities() {
        let all = rule(&["*"], &["*"], &["*"]);
        assert_eq!(
            grant(Scope::Cluster, vec![all.clone()]).risk(),
            Risk::ClusterAdmin
        );
        assert_eq!(
            grant(Scope::Namespace(Some("a".into())), vec![all]).risk(),
            Risk::DangerousInNamespace
        );
        let secrets = rule(&[""], &["secrets"], &["get"]);
        assert_eq!(
            grant(Scope::Cluster, vec![secrets.clone()]).risk(),
            Risk::DangerousClusterWide
        );
        assert_eq!(
            grant(Scope::Cluster, vec![rule(&[""], &["pods"], &["get"])]).risk(),
            Risk::Bound
        );
        let mut missing = grant(Scope::Cluster, Vec::new());
        missing.role = RoleSource::Missing {
            kind: RoleKind::ClusterRole,
            name: "ops".into(),
        };
        assert_eq!(missing.risk(), Risk::Unknown);
        let p = Permissions::new(
            None,
            "x".into(),
            vec![
                missing,
                grant(Scope::Namespace(None), vec![secrets.clone()]),
            ],
            Vec::new(),
        );
        assert_eq!(p.risk, Risk::DangerousInNamespace);
        assert_eq!(*p.grants[0].rules, vec![secrets]);
        assert!(p
            .summary()
            .starts_with("bound to ClusterRole \"r\" by ClusterRoleBinding \"b\""));
        assert!(
            p.summary().ends_with("and 1 more binding"),
            "{}",
            p.summary()
        );
        let unbound = Permissions::new(None, "x".into(), Vec::new(), Vec::new());
        assert_eq!(unbound.risk, Risk::DiscoveryOnly);
        assert!(!unbound.is_bound());
        for r in Risk::ALL {
            assert_eq!(Risk::parse(r.as_str()), Some(r));
        }
        assert!(Risk::ClusterAdmin > Risk::DangerousClusterWide);
    }

    #[test]
    fn capabilities_are_deduplicated_cluster_first() {
        let secrets = rule(&[""], &["secrets"], &["get"]);
        let exec = rule(&[""], &["pods/exec"], &["create"]);
        let p = Permissions::new(
            None,
            "x".into(),
            vec![
                grant(
                    Scope::Namespace(Some("a".into())),
                    vec![secrets.clone(), exec],
                ),
                grant(Scope::Cluster, vec![secrets]),
            ],
            Vec::new(),
        );
        assert_eq!(
            p.capabilities(),
            vec![
                (Capability::ReadSecrets, Scope::Cluster),
                (Capability::ExecIntoPods, Scope::Namespace(Some("a".into()))),
            ]
        );
    }

    #[test]
    fn names_that_limit_a_capability_are_listed() {
        let mut named = rule(&[""], &["secrets"], &["get"]);
        named.resource_names = vec!["tls".into()];
        let g = grant(Scope::Cluster, vec![named.clone()]);
        assert_eq!(
            g.limited_to_names(Capability::ReadSecrets),
            vec!["tls".to_string()]
        );
        let g = grant(
            Scope::Cluster,
            vec![named, rule(&[""], &["secrets"], &["list"])],
        );
        assert!(g.limited_to_names(Capability::ReadSecrets).is_empty());
    }
}
