//! The RBAC objects of a file, as they are written: roles with their rules
//! and aggregation selectors, bindings with their role reference and
//! subjects. Each keeps the byte range of the value that names it.

use crate::text::TextRange;

/// One rule of a Role or ClusterRole (`rules[]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PolicyRule {
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

impl PolicyRule {
    /// Whether the rule grants `verb` on `resource` of `group`, honouring
    /// `*` in each list (and `*/subresource`). `resourceNames` are ignored:
    /// a rule limited to some names still grants the verb on those.
    pub fn allows(&self, group: &str, resource: &str, verb: &str) -> bool {
        matches_any(&self.api_groups, group)
            && matches_any(&self.verbs, verb)
            && self.resources.iter().any(|r| resource_matches(r, resource))
    }

    /// Whether every verb on every resource of every group is granted.
    pub fn is_wildcard_all(&self) -> bool {
        self.api_groups.iter().any(|g| g == "*")
            && self.resources.iter().any(|r| r == "*")
            && self.verbs.iter().any(|v| v == "*")
            && self.resource_names.is_empty()
    }

    /// Whether any of its lists holds `*` (resource or non-resource).
    pub fn has_wildcard(&self) -> bool {
        let star = |list: &[String]| list.iter().any(|v| v == "*");
        if star(&self.verbs) {
            return !self.resources.is_empty() || !self.non_resource_urls.is_empty();
        }
        !self.verbs.is_empty()
            && ((star(&self.resources) && !self.api_groups.is_empty())
                || (star(&self.api_groups) && !self.resources.is_empty()))
    }
}

fn matches_any(list: &[String], value: &str) -> bool {
    list.iter().any(|v| v == "*" || v == value)
}

/// RBAC's resource match: exact, `*` (all resources and subresources), or
/// `*/sub` (that subresource of every resource).
fn resource_matches(rule: &str, wanted: &str) -> bool {
    if rule == "*" || rule == wanted {
        return true;
    }
    match (rule.strip_prefix("*/"), wanted.split_once('/')) {
        (Some(sub), Some((_, wanted_sub))) => sub == wanted_sub,
        _ => false,
    }
}

/// Which kind of role an object or a `roleRef` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleKind {
    Role,
    ClusterRole,
}

impl RoleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Role => "Role",
            RoleKind::ClusterRole => "ClusterRole",
        }
    }

    pub fn from_kind(kind: &str) -> Option<RoleKind> {
        match kind {
            "Role" => Some(RoleKind::Role),
            "ClusterRole" => Some(RoleKind::ClusterRole),
            _ => None,
        }
    }
}

/// One requirement of a label selector's `matchExpressions`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LabelRequirement {
    In {
        key: String,
        values: Vec<String>,
    },
    NotIn {
        key: String,
        values: Vec<String>,
    },
    Exists {
        key: String,
    },
    DoesNotExist {
        key: String,
    },
    /// An operator Kubernetes does not know: the API server refuses the
    /// object, so the selector selects nothing.
    Invalid {
        key: String,
        operator: String,
    },
}

impl LabelRequirement {
    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        let value = |key: &str| labels.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        match self {
            LabelRequirement::In { key, values } => value(key).is_some_and(|v| values.contains(v)),
            LabelRequirement::NotIn { key, values } => {
                value(key).is_none_or(|v| !values.contains(v))
            }
            LabelRequirement::Exists { key } => value(key).is_some(),
            LabelRequirement::DoesNotExist { key } => value(key).is_none(),
            LabelRequirement::Invalid { .. } => false,
        }
    }
}

/// A label selector (`matchLabels` and `matchExpressions`, all must hold).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LabelSelector {
    pub match_labels: Vec<(String, String)>,
    pub match_expressions: Vec<LabelRequirement>,
}

impl LabelSelector {
    /// Whether `labels` satisfy the selector. An empty selector matches
    /// every object, as Kubernetes' aggregation controller reads it.
    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v))
            && self.match_expressions.iter().all(|e| e.matches(labels))
    }
}

/// A Role or a ClusterRole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleDef {
    pub kind: RoleKind,
    pub name: String,
    pub namespace: Option<String>,
    pub labels: Vec<(String, String)>,
    pub rules: Vec<PolicyRule>,
    /// A ClusterRole's `aggregationRule.clusterRoleSelectors`.
    pub aggregation: Option<Vec<LabelSelector>>,
    /// The `metadata.name` value (the `kind` value when unnamed).
    pub name_range: TextRange,
}

/// Which kind of binding an object is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BindingKind {
    RoleBinding,
    ClusterRoleBinding,
}

impl BindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BindingKind::RoleBinding => "RoleBinding",
            BindingKind::ClusterRoleBinding => "ClusterRoleBinding",
        }
    }
}

/// A binding's `roleRef`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoleRef {
    pub kind: RoleKind,
    pub name: String,
    /// The `roleRef.name` value.
    pub range: TextRange,
}

/// Who a subject names, as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubjectKind {
    /// A ServiceAccount; `namespace` as written (a RoleBinding's subject
    /// without one means the binding's namespace).
    ServiceAccount {
        name: String,
        namespace: Option<String>,
    },
    Group(String),
    User(String),
}

/// One of a binding's `subjects`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Subject {
    pub kind: SubjectKind,
    /// The subject's `name` value.
    pub range: TextRange,
}

/// A RoleBinding or a ClusterRoleBinding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindingDef {
    pub kind: BindingKind,
    pub name: String,
    pub namespace: Option<String>,
    pub role_ref: Option<RoleRef>,
    pub subjects: Vec<Subject>,
    /// The `metadata.name` value (the `kind` value when unnamed).
    pub name_range: TextRange,
}

/// The RBAC objects of one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RbacObjects {
    pub roles: Vec<RoleDef>,
    pub bindings: Vec<BindingDef>,
}

impl RbacObjects {
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.bindings.is_empty()
    }

    /// Moves, in place, every position at or after byte `at` by `by` bytes
    /// (an edit before them; positions before `at` stay). Returns whether a
    /// position moved.
    pub fn shift_from(&mut self, at: usize, by: isize) -> bool {
        let mut moved = false;
        let mut shift = |range: &mut TextRange| {
            if range.start >= at && by != 0 {
                *range = range.shifted(by);
                moved = true;
            }
        };
        for role in &mut self.roles {
            shift(&mut role.name_range);
        }
        for binding in &mut self.bindings {
            shift(&mut binding.name_range);
            if let Some(role_ref) = binding.role_ref.as_mut() {
                shift(&mut role_ref.range);
            }
            for subject in &mut binding.subjects {
                shift(&mut subject.range);
            }
        }
        moved
    }

    /// Whether [`RbacObjects::shift_from`] would move a position.
    pub fn has_position_from(&self, at: usize) -> bool {
        let from = |range: &TextRange| range.start >= at;
        self.roles.iter().any(|r| from(&r.name_range))
            || self.bindings.iter().any(|b| {
                from(&b.name_range)
                    || b.role_ref.as_ref().is_some_and(|r| from(&r.range))
                    || b.subjects.iter().any(|s| from(&s.range))
            })
    }

    /// The same objects in a text where their document starts `by` bytes
    /// later.
    pub fn shifted(&self, by: isize) -> RbacObjects {
        RbacObjects {
            roles: self
                .roles
                .iter()
                .map(|r| RoleDef {
                    name_range: r.name_range.shifted(by),
                    ..r.clone()
                })
                .collect(),
            bindings: self
                .bindings
                .iter()
                .map(|b| BindingDef {
                    name_range: b.name_range.shifted(by),
                    role_ref: b.role_ref.as_ref().map(|r| RoleRef {
                        range: r.range.shifted(by),
                        ..r.clone()
                    }),
                    subjects: b
                        .subjects
                        .iter()
                        .map(|s| Subject {
                            range: s.range.shifted(by),
                            ..s.clone()
                        })
                        .collect(),
                    ..b.clone()
                })
                .collect(),
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A rule of these groups, resources and verbs (the other tests of the
    /// module use it too).
    pub(in crate::rbac) fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
        PolicyRule {
            api_groups: s(groups),
            resources: s(resources),
            verbs: s(verbs),
            ..PolicyRule::default()
        }
    }

    #[test]
    fn rules_match_with_wildcards_and_subresources() {
        let r = rule(&[""], &["pods/exec"], &["create"]);
        assert!(r.allows("", "pods/exec", "create"));
        assert!(!r.allows("", "pods", "create"));
        assert!(!r.allows("apps", "pods/exec", "create"));
        let all = rule(&["*"], &["*"], &["*"]);
        assert!(all.allows("apps", "deployments", "delete"));
        assert!(all.allows("", "pods/exec", "create"));
        assert!(all.is_wildcard_all());
        let sub = rule(&[""], &["*/exec"], &["create"]);
        assert!(sub.allows("", "pods/exec", "create"));
        assert!(!sub.allows("", "pods", "create"));
        assert!(!rule(&[""], &["pods"], &["get"]).has_wildcard());
        assert!(rule(&[""], &["pods"], &["*"]).has_wildcard());
    }

    #[test]
    fn selectors_match_labels_and_expressions() {
        let labels = vec![("a".to_string(), "1".to_string())];
        let sel = LabelSelector {
            match_labels: labels.clone(),
            match_expressions: vec![LabelRequirement::DoesNotExist { key: "b".into() }],
        };
        assert!(sel.matches(&labels));
        assert!(!sel.matches(&[]));
        assert!(LabelSelector::default().matches(&[]));
        let bad = LabelRequirement::Invalid {
            key: "a".into(),
            operator: "Gt".into(),
        };
        assert!(!bad.matches(&labels));
        assert!(LabelRequirement::NotIn {
            key: "a".into(),
            values: vec!["2".into()]
        }
        .matches(&labels));
        assert!(LabelRequirement::In {
            key: "a".into(),
            values: vec!["1".into()]
        }
        .matches(&labels));
    }
}
