//! The API server's built-in ClusterRoles and default ClusterRoleBindings
//! (its RBAC bootstrap policy), as data: `bootstrap.toml`, embedded and read
//! once. A binding may name these roles without the checked files defining
//! them; the default bindings give every ServiceAccount discovery and a few
//! other harmless permissions.

use std::sync::OnceLock;

use serde::Deserialize;

use super::model::BindingKind;
use super::model::{LabelSelector, PolicyRule, RoleDef, RoleKind, SubjectKind};
use super::permissions::Via;
use super::subjects::{subject_of_binding_matches, Account};
use crate::text::TextRange;

const DATA: &str = include_str!("bootstrap.toml");

/// The label every built-in role carries.
const BOOTSTRAPPING_LABEL: (&str, &str) = ("kubernetes.io/bootstrapping", "rbac-defaults");

/// The Kubernetes version the built-in roles and bindings come from.
pub const KUBERNETES_VERSION: &str = "v1.33";

/// A built-in default ClusterRoleBinding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultBinding {
    pub name: String,
    /// The ClusterRole it names.
    pub role: String,
    pub subjects: Vec<SubjectKind>,
}

impl DefaultBinding {
    /// Whether the binding applies to the account, and how.
    pub fn applies_to(&self, who: &Account) -> Option<Via> {
        self.subjects
            .iter()
            .find_map(|s| subject_of_binding_matches(s, BindingKind::ClusterRoleBinding, None, who))
    }
}

struct Policy {
    #[cfg_attr(not(test), allow(dead_code))]
    version: String,
    roles: Vec<RoleDef>,
    bindings: Vec<DefaultBinding>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    kubernetes: String,
    #[allow(dead_code)]
    source: String,
    #[serde(default)]
    role: Vec<RawRole>,
    #[serde(default)]
    binding: Vec<RawBinding>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    name: String,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    aggregate: Option<Vec<String>>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    resources: Vec<String>,
    verbs: Vec<String>,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    urls: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBinding {
    name: String,
    role: String,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    service_accounts: Vec<String>,
}

fn label(entry: &str) -> (String, String) {
    match entry.split_once('=') {
        Some((k, v)) => (k.to_string(), v.to_string()),
        None => (entry.to_string(), String::new()),
    }
}

fn read(text: &str) -> Result<Policy, String> {
    let raw: RawPolicy = toml::from_str(text).map_err(|e| e.to_string())?;
    let roles = raw
        .role
        .into_iter()
        .map(|r| {
            let mut labels: Vec<(String, String)> = r.labels.iter().map(|l| label(l)).collect();
            labels.push((
                BOOTSTRAPPING_LABEL.0.to_string(),
                BOOTSTRAPPING_LABEL.1.to_string(),
            ));
            RoleDef {
                kind: RoleKind::ClusterRole,
                name: r.name,
                namespace: None,
                labels,
                rules: r
                    .rules
                    .into_iter()
                    .map(|rule| PolicyRule {
                        api_groups: rule.groups,
                        resources: rule.resources,
                        verbs: rule.verbs,
                        resource_names: rule.names,
                        non_resource_urls: rule.urls,
                    })
                    .collect(),
                aggregation: r.aggregate.map(|selectors| {
                    selectors
                        .iter()
                        .map(|s| LabelSelector {
                            match_labels: vec![label(s)],
                            match_expressions: Vec::new(),
                        })
                        .collect()
                }),
                name_range: TextRange::default(),
            }
        })
        .collect();
    let mut bindings = Vec::new();
    for b in raw.binding {
        let mut subjects: Vec<SubjectKind> = b.groups.into_iter().map(SubjectKind::Group).collect();
        subjects.extend(b.users.into_iter().map(SubjectKind::User));
        for account in b.service_accounts {
            let (namespace, name) = account
                .split_once('/')
                .ok_or_else(|| format!("binding {}: {account:?} is not namespace/name", b.name))?;
            subjects.push(SubjectKind::ServiceAccount {
                name: name.to_string(),
                namespace: Some(namespace.to_string()),
            });
        }
        bindings.push(DefaultBinding {
            name: b.name,
            role: b.role,
            subjects,
        });
    }
    Ok(Policy {
        version: raw.kubernetes,
        roles,
        bindings,
    })
}

fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    // The data is part of the build and tested; should it ever not read, the
    // analysis goes on without built-in roles (they are then reported as
    // missing) rather than panic.
    POLICY.get_or_init(|| {
        read(DATA).unwrap_or(Policy {
            version: KUBERNETES_VERSION.to_string(),
            roles: Vec::new(),
            bindings: Vec::new(),
        })
    })
}

/// Every built-in ClusterRole.
pub fn roles() -> &'static [RoleDef] {
    &policy().roles
}

/// The built-in ClusterRole `name`.
pub fn role(name: &str) -> Option<&'static RoleDef> {
    roles().iter().find(|r| r.name == name)
}

/// Every default ClusterRoleBinding.
pub fn default_bindings() -> &'static [DefaultBinding] {
    &policy().bindings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_reads_and_names_its_version() {
        let policy = read(DATA).expect("bootstrap.toml reads");
        assert_eq!(policy.version, KUBERNETES_VERSION);
        assert_eq!(roles().len(), policy.roles.len());
        for name in [
            "cluster-admin",
            "admin",
            "edit",
            "view",
            "system:discovery",
            "system:basic-user",
            "system:public-info-viewer",
            "system:service-account-issuer-discovery",
            "system:auth-delegator",
            "system:heapster",
            "system:node",
            "system:node-proxier",
            "system:kube-scheduler",
            "system:kube-controller-manager",
            "system:kube-dns",
            "system:persistent-volume-provisioner",
            "system:monitoring",
            "system:aggregate-to-admin",
            "system:aggregate-to-edit",
            "system:aggregate-to-view",
        ] {
            assert!(role(name).is_some(), "{name}");
        }
        for binding in default_bindings() {
            assert!(
                role(&binding.role).is_some(),
                "{} names a built-in role",
                binding.name
            );
        }
        let mut names: Vec<&str> = roles().iter().map(|r| r.name.as_str()).collect();
        names.sort();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "each role once");
    }

    #[test]
    fn aggregated_roles_have_selectors_and_no_rules() {
        for name in ["admin", "edit", "view"] {
            let role = role(name).unwrap();
            assert!(role.rules.is_empty());
            assert_eq!(role.aggregation.as_ref().map(Vec::len), Some(1));
        }
        assert!(role("cluster-admin").unwrap().rules[0].is_wildcard_all());
    }

    #[test]
    fn every_service_account_gets_discovery_and_issuer_discovery() {
        let who = Account {
            namespace: Some("prod"),
            name: "ci",
        };
        let mut applying: Vec<&str> = default_bindings()
            .iter()
            .filter(|b| b.applies_to(&who).is_some())
            .map(|b| b.name.as_str())
            .collect();
        applying.sort();
        assert_eq!(
            applying,
            [
                "system:basic-user",
                "system:discovery",
                "system:public-info-viewer",
                "system:service-account-issuer-discovery"
            ]
        );
        let dns = Account {
            namespace: Some("kube-system"),
            name: "kube-dns",
        };
        assert!(default_bindings()
            .iter()
            .any(|b| b.name == "system:kube-dns" && b.applies_to(&dns).is_some()));
    }

    #[test]
    fn bad_data_is_an_error_not_a_panic() {
        assert!(read("kubernetes = 1").is_err());
        assert!(read("kubernetes = \"v1\"\nsource = \"x\"\n[[binding]]\nname = \"b\"\nrole = \"r\"\nservice_accounts = [\"nons\"]\n").is_err());
    }
}
