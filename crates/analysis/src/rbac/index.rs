//! The RBAC objects of many files, kept per origin file like the
//! `AccountIndex`, and the effective permissions of an account.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use super::bootstrap;
use super::model::{
    BindingDef, BindingKind, PolicyRule, RbacObjects, RoleDef, RoleKind, SubjectKind,
};
use super::permissions::{Capability, Grant, Permissions, RoleSource, Scope, Via};
use super::subjects::{subject_matches, Account};
use crate::text::TextRange;

/// Roles and bindings of many files.
#[derive(Clone, Debug, Default)]
pub struct RbacIndex {
    by_origin: BTreeMap<String, RbacObjects>,
    /// The effective rules of every aggregated ClusterRole, computed once per
    /// state of the index.
    aggregated: OnceLock<BTreeMap<String, Vec<PolicyRule>>>,
    /// Where roles and bindings are, computed once per state of the index.
    lookup: OnceLock<Lookup>,
    /// The answers of [`RbacIndex::shared_permissions`] for this state of
    /// the index: one per account, however many pods run as it (a clone
    /// of the index shares them until either changes).
    answers: Arc<Mutex<Answers>>,
    /// The effective rules of each role bindings name, and the dangerous
    /// capabilities among them, for this state of the roles (every account
    /// bound to a role asks: computed once).
    role_rules: Arc<Mutex<HashMap<RoleKey, RoleRules>>>,
}

/// A role as [`RbacIndex::rules_of`] looks it up: built-in or not, its kind,
/// its name, and the namespace of the binding for a Role.
type RoleKey = (bool, RoleKind, String, Option<String>);

/// A role's effective rules and the dangerous capabilities among them.
type RoleRules = (Arc<Vec<PolicyRule>>, Vec<Capability>);

/// A role or binding: its origin and its position in that file's list.
type Place = (String, usize);

/// Permissions by (namespace, account).
type Answers = HashMap<(Option<String>, String), Arc<Permissions>>;

/// What `permissions` looks up, so a query does not scan every file.
#[derive(Clone, Debug, Default)]
struct Lookup {
    /// Declared roles by kind, namespace (`None` for ClusterRoles) and name,
    /// the one `find_role` picks.
    roles: HashMap<(RoleKind, Option<String>, String), Place>,
    /// Bindings with a ServiceAccount subject, by the account's name.
    by_account: HashMap<String, Vec<Place>>,
    /// Bindings with a Group or User subject.
    by_group_or_user: Vec<Place>,
}

impl PartialEq for RbacIndex {
    fn eq(&self, other: &Self) -> bool {
        self.by_origin == other.by_origin
    }
}

/// Where the roles and bindings of one file moved to, when nothing else of
/// them changed: the old name range of each to its new one.
struct Moved {
    roles: HashMap<TextRange, TextRange>,
    bindings: HashMap<TextRange, TextRange>,
}

impl Moved {
    /// `None` unless `new` says what `old` says, but for positions (and no
    /// two objects of a kind share a name range, so each answer's places can
    /// be followed).
    fn between(old: &RbacObjects, new: &RbacObjects) -> Option<Moved> {
        if old.roles.len() != new.roles.len() || old.bindings.len() != new.bindings.len() {
            return None;
        }
        let mut roles = HashMap::with_capacity(old.roles.len());
        for (a, b) in old.roles.iter().zip(&new.roles) {
            let same = a.kind == b.kind
                && a.name == b.name
                && a.namespace == b.namespace
                && a.labels == b.labels
                && a.rules == b.rules
                && a.aggregation == b.aggregation;
            if !same || roles.insert(a.name_range, b.name_range).is_some() {
                return None;
            }
        }
        let mut bindings = HashMap::with_capacity(old.bindings.len());
        for (a, b) in old.bindings.iter().zip(&new.bindings) {
            let same_ref = match (&a.role_ref, &b.role_ref) {
                (Some(x), Some(y)) => x.kind == y.kind && x.name == y.name,
                (None, None) => true,
                _ => false,
            };
            let same = a.kind == b.kind
                && a.name == b.name
                && a.namespace == b.namespace
                && same_ref
                && a.subjects.len() == b.subjects.len()
                && a.subjects
                    .iter()
                    .zip(&b.subjects)
                    .all(|(x, y)| x.kind == y.kind);
            if !same || bindings.insert(a.name_range, b.name_range).is_some() {
                return None;
            }
        }
        Some(Moved { roles, bindings })
    }

    /// The answers with the places in `origin` moved; `None` when one of
    /// them names a place there that is not known (then nothing is kept).
    fn answers(&self, origin: &str, answers: &Answers) -> Option<Answers> {
        let mut moved = HashMap::with_capacity(answers.len());
        for (key, permissions) in answers {
            let names_origin = |grant: &Grant| {
                grant
                    .binding_place
                    .as_ref()
                    .is_some_and(|(file, _)| file == origin)
                    || matches!(&grant.role, RoleSource::Declared { file, .. } if file == origin)
            };
            let answer = if permissions
                .grants
                .iter()
                .chain(&permissions.defaults)
                .any(names_origin)
            {
                let mut copy = Permissions::clone(permissions);
                for grant in copy.grants.iter_mut().chain(copy.defaults.iter_mut()) {
                    self.follow(origin, grant)?;
                }
                Arc::new(copy)
            } else {
                Arc::clone(permissions)
            };
            moved.insert(key.clone(), answer);
        }
        Some(moved)
    }

    fn follow(&self, origin: &str, grant: &mut Grant) -> Option<()> {
        if let Some((file, range)) = &mut grant.binding_place {
            if file == origin {
                *range = *self.bindings.get(range)?;
            }
        }
        if let RoleSource::Declared { file, range, .. } = &mut grant.role {
            if file == origin {
                *range = *self.roles.get(range)?;
            }
        }
        Some(())
    }
}

impl RbacIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces what the index knows of `origin` with `objects`.
    pub fn set(&mut self, origin: &str, objects: RbacObjects) {
        if objects.is_empty() {
            self.remove(origin);
            return;
        }
        let moved = match self.by_origin.get(origin) {
            Some(known) if *known == objects => return,
            // Only positions moved (an edit elsewhere in the file): what
            // each account may do is the same, only where its bindings and
            // roles are written moved; the answers follow them.
            Some(known) => Moved::between(known, &objects).and_then(|moved| {
                let answers = self.answers.lock();
                moved.answers(origin, &answers)
            }),
            None => None,
        };
        if let Some(answers) = moved {
            // Places are by position in the file's lists and rules have
            // no positions: `lookup` and `aggregated` hold.
            self.by_origin.insert(origin.to_string(), objects);
            self.answers = Arc::new(Mutex::new(answers));
            return;
        }
        self.by_origin.insert(origin.to_string(), objects);
        self.invalidate();
    }

    /// What the index knows of `origin` after an edit of that file that
    /// moved its objects only: every position at or after byte `at` moved
    /// by `by` bytes (the edit ended before them), the others stayed. The
    /// same as [`RbacIndex::set`] with the moved objects, without comparing
    /// or copying them. Returns whether a position moved.
    pub fn shift(&mut self, origin: &str, at: usize, by: isize) -> bool {
        let Some(objects) = self.by_origin.get_mut(origin) else {
            return false;
        };
        if !objects.shift_from(at, by) {
            return false;
        }
        // Places are by position in the file's lists and rules have no
        // positions: `lookup` and `aggregated` hold; the answers follow.
        let moves = |file: &str, range: &TextRange| file == origin && range.start >= at;
        let answers = self.answers.lock();
        let moved: Answers = answers
            .iter()
            .map(|(key, permissions)| {
                let names_moved = |grant: &Grant| {
                    grant
                        .binding_place
                        .as_ref()
                        .is_some_and(|(file, range)| moves(file, range))
                        || matches!(&grant.role, RoleSource::Declared { file, range, .. } if moves(file, range))
                };
                let all = || permissions.grants.iter().chain(&permissions.defaults);
                if !all().any(names_moved) {
                    return (key.clone(), Arc::clone(permissions));
                }
                let mut copy = Permissions::clone(permissions);
                for grant in copy.grants.iter_mut().chain(copy.defaults.iter_mut()) {
                    if let Some((file, range)) = &mut grant.binding_place {
                        if moves(file, range) {
                            *range = range.shifted(by);
                        }
                    }
                    if let RoleSource::Declared { file, range, .. } = &mut grant.role {
                        if moves(file, range) {
                            *range = range.shifted(by);
                        }
                    }
                }
                (key.clone(), Arc::new(copy))
            })
            .collect();
        drop(answers);
        self.answers = Arc::new(Mutex::new(moved));
        true
    }

    pub fn remove(&mut self, origin: &str) {
        if self.by_origin.remove(origin).is_some() {
            self.invalidate();
        }
    }

    fn invalidate(&mut self) {
        self.aggregated = OnceLock::new();
        self.lookup = OnceLock::new();
        self.answers = Arc::default();
        self.role_rules = Arc::default();
    }

    /// [`RbacIndex::permissions`], computed once per account and state of
    /// the index and shared by every finding that asks.
    pub fn shared_permissions(&self, namespace: Option<&str>, account: &str) -> Arc<Permissions> {
        let key = (namespace.map(str::to_string), account.to_string());
        let known = self.answers.lock().get(&key).cloned();
        if let Some(known) = known {
            return known;
        }
        // Computed without the lock held: two threads may both compute it.
        let answer = Arc::new(self.permissions(namespace, account));
        self.answers.lock().entry(key).or_insert(answer).clone()
    }

    fn lookup(&self) -> &Lookup {
        self.lookup.get_or_init(|| {
            let mut lookup = Lookup::default();
            for (origin, objects) in &self.by_origin {
                // The last declaration of a file wins in it; the first file
                // wins over later ones.
                for (i, role) in objects.roles.iter().enumerate().rev() {
                    let namespace = match role.kind {
                        RoleKind::Role => role.namespace.clone(),
                        RoleKind::ClusterRole => None,
                    };
                    lookup
                        .roles
                        .entry((role.kind, namespace, role.name.clone()))
                        .or_insert_with(|| (origin.clone(), i));
                }
                for (i, binding) in objects.bindings.iter().enumerate() {
                    let mut names: Vec<&str> = Vec::new();
                    let mut other = false;
                    for subject in &binding.subjects {
                        match &subject.kind {
                            SubjectKind::ServiceAccount { name, .. } => names.push(name),
                            SubjectKind::Group(_) | SubjectKind::User(_) => other = true,
                        }
                    }
                    names.sort_unstable();
                    names.dedup();
                    for name in names {
                        lookup
                            .by_account
                            .entry(name.to_string())
                            .or_default()
                            .push((origin.clone(), i));
                    }
                    if other {
                        lookup.by_group_or_user.push((origin.clone(), i));
                    }
                }
            }
            lookup
        })
    }

    fn role_at(&self, (origin, i): &Place) -> Option<(&str, &RoleDef)> {
        let (origin, objects) = self.by_origin.get_key_value(origin)?;
        Some((origin.as_str(), objects.roles.get(*i)?))
    }

    fn binding_at(&self, (origin, i): &Place) -> Option<(&str, &BindingDef)> {
        let (origin, objects) = self.by_origin.get_key_value(origin)?;
        Some((origin.as_str(), objects.bindings.get(*i)?))
    }

    /// What the index knows of `origin`.
    pub fn objects_of(&self, origin: &str) -> Option<&RbacObjects> {
        self.by_origin.get(origin)
    }

    pub fn is_empty(&self) -> bool {
        self.by_origin.is_empty()
    }

    /// Every declared role with the file that declares it, by file.
    pub fn roles(&self) -> impl Iterator<Item = (&str, &RoleDef)> {
        self.by_origin
            .iter()
            .flat_map(|(o, objects)| objects.roles.iter().map(move |r| (o.as_str(), r)))
    }

    /// Every declared binding with the file that declares it, by file.
    pub fn bindings(&self) -> impl Iterator<Item = (&str, &BindingDef)> {
        self.by_origin
            .iter()
            .flat_map(|(o, objects)| objects.bindings.iter().map(move |b| (o.as_str(), b)))
    }

    /// A declared role: a Role by namespace and name, a ClusterRole by name
    /// (it has no namespace). When several files declare it, the first file
    /// by name; in one file, the last declaration (the one applied last).
    pub fn find_role(
        &self,
        kind: RoleKind,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<(&str, &RoleDef)> {
        let namespace = match kind {
            RoleKind::Role => namespace.map(str::to_string),
            RoleKind::ClusterRole => None,
        };
        let place = self
            .lookup()
            .roles
            .get(&(kind, namespace, name.to_string()))?;
        self.role_at(place)
    }

    /// What the token of ServiceAccount `account` in `namespace` (`None`:
    /// the namespace it is applied into) can do.
    pub fn permissions(&self, namespace: Option<&str>, account: &str) -> Permissions {
        let who = Account {
            namespace,
            name: account,
        };
        let mut grants = Vec::new();
        let lookup = self.lookup();
        let mut candidates: Vec<&Place> = lookup
            .by_account
            .get(account)
            .into_iter()
            .flatten()
            .chain(&lookup.by_group_or_user)
            .collect();
        // In file order, each binding once.
        candidates.sort();
        candidates.dedup();
        for (origin, binding) in candidates.into_iter().filter_map(|p| self.binding_at(p)) {
            let Some(role_ref) = &binding.role_ref else {
                continue;
            };
            for subject in &binding.subjects {
                let Some(via) = subject_matches(&subject.kind, binding, &who) else {
                    continue;
                };
                let role = self.resolve(
                    binding.kind,
                    binding.namespace.as_deref(),
                    role_ref.kind,
                    &role_ref.name,
                );
                grants.push(self.grant(
                    binding.kind,
                    &binding.name,
                    binding.namespace.clone(),
                    Some((origin.to_string(), binding.name_range)),
                    via,
                    role,
                ));
                // One grant per binding, through its first matching subject.
                break;
            }
        }
        let mut defaults = Vec::new();
        for binding in bootstrap::default_bindings() {
            if let Some(via) = binding.applies_to(&who) {
                let role = self.resolve(
                    BindingKind::ClusterRoleBinding,
                    None,
                    RoleKind::ClusterRole,
                    &binding.role,
                );
                defaults.push(self.grant(
                    BindingKind::ClusterRoleBinding,
                    &binding.name,
                    None,
                    None,
                    via,
                    role,
                ));
            }
        }
        Permissions::new(
            namespace.map(str::to_string),
            account.to_string(),
            grants,
            defaults,
        )
    }

    fn grant(
        &self,
        binding_kind: BindingKind,
        binding: &str,
        binding_namespace: Option<String>,
        binding_place: Option<(String, crate::text::TextRange)>,
        via: Via,
        role: RoleSource,
    ) -> Grant {
        let (rules, capabilities) = self.shared_rules_of(&role, binding_namespace.as_deref());
        let scope = match binding_kind {
            BindingKind::ClusterRoleBinding => Scope::Cluster,
            BindingKind::RoleBinding => Scope::Namespace(binding_namespace.clone()),
        };
        Grant {
            binding_kind,
            binding: binding.to_string(),
            binding_namespace,
            binding_place,
            via,
            role,
            scope,
            capabilities,
            rules,
        }
    }

    /// [`RbacIndex::rules_of`] and the capabilities among them, computed
    /// once per role and state of the index.
    fn shared_rules_of(&self, role: &RoleSource, binding_namespace: Option<&str>) -> RoleRules {
        let key: RoleKey = match role {
            RoleSource::Missing { .. } => return (Arc::default(), Vec::new()),
            RoleSource::Declared { kind, name, .. } => (
                false,
                *kind,
                name.clone(),
                binding_namespace
                    .filter(|_| *kind == RoleKind::Role)
                    .map(str::to_string),
            ),
            RoleSource::Builtin { name, .. } => (true, RoleKind::ClusterRole, name.clone(), None),
        };
        if let Some((rules, capabilities)) = self.role_rules.lock().get(&key) {
            return (Arc::clone(rules), capabilities.clone());
        }
        // Computed without the lock held: two threads may both compute it.
        let rules = self.rules_of(role, binding_namespace);
        let capabilities = Capability::of_rules(&rules);
        let (rules, capabilities) = self
            .role_rules
            .lock()
            .entry(key)
            .or_insert((Arc::new(rules), capabilities))
            .clone();
        (rules, capabilities)
    }

    /// Where a `roleRef` leads: a Role in the binding's namespace (only a
    /// RoleBinding may name one), a ClusterRole declared in the checked files,
    /// else a built-in one, else missing.
    fn resolve(
        &self,
        binding_kind: BindingKind,
        binding_namespace: Option<&str>,
        kind: RoleKind,
        name: &str,
    ) -> RoleSource {
        let missing = || RoleSource::Missing {
            kind,
            name: name.to_string(),
        };
        if kind == RoleKind::Role && binding_kind == BindingKind::ClusterRoleBinding {
            // The API server refuses it; it grants nothing it could name.
            return missing();
        }
        if let Some((file, role)) = self.find_role(kind, binding_namespace, name) {
            return RoleSource::Declared {
                kind,
                name: name.to_string(),
                file: file.to_string(),
                range: role.name_range,
            };
        }
        if kind == RoleKind::ClusterRole && bootstrap::role(name).is_some() {
            return RoleSource::Builtin {
                name: name.to_string(),
                kubernetes: bootstrap::KUBERNETES_VERSION,
            };
        }
        missing()
    }

    fn rules_of(&self, role: &RoleSource, binding_namespace: Option<&str>) -> Vec<PolicyRule> {
        match role {
            RoleSource::Missing { .. } => Vec::new(),
            RoleSource::Declared { kind, name, .. } => {
                if *kind == RoleKind::ClusterRole {
                    if let Some(rules) = self.aggregated().get(name) {
                        return rules.clone();
                    }
                }
                self.find_role(*kind, binding_namespace, name)
                    .map(|(_, r)| r.rules.clone())
                    .unwrap_or_default()
            }
            RoleSource::Builtin { name, .. } => {
                if let Some(rules) = self.aggregated().get(name) {
                    return rules.clone();
                }
                bootstrap::role(name)
                    .map(|r| r.rules.clone())
                    .unwrap_or_default()
            }
        }
    }

    /// The ClusterRoles the cluster has: the declared ones (by name, as
    /// `find_role` picks them), then the built-in ones nobody redeclares.
    fn cluster_roles(&self) -> BTreeMap<&str, &RoleDef> {
        let mut roles: BTreeMap<&str, &RoleDef> = BTreeMap::new();
        for role in bootstrap::roles() {
            roles.insert(role.name.as_str(), role);
        }
        let mut declared: BTreeMap<&str, &RoleDef> = BTreeMap::new();
        for objects in self.by_origin.values() {
            for role in objects.roles.iter().rev() {
                if role.kind == RoleKind::ClusterRole {
                    declared.entry(role.name.as_str()).or_insert(role);
                }
            }
        }
        roles.extend(declared);
        roles
    }

    /// The rules Kubernetes' aggregation controller gives each ClusterRole
    /// with an `aggregationRule`: the union of the rules of every other
    /// ClusterRole whose labels match one of its selectors (its own rules
    /// are overwritten). Aggregated roles may select aggregated roles, so it
    /// runs to a fixed point; rules only grow, so cycles end.
    fn aggregated(&self) -> &BTreeMap<String, Vec<PolicyRule>> {
        self.aggregated.get_or_init(|| {
            let roles = self.cluster_roles();
            let mut effective: BTreeMap<&str, Vec<PolicyRule>> = roles
                .iter()
                .map(|(name, role)| {
                    let own = if role.aggregation.is_some() {
                        Vec::new()
                    } else {
                        role.rules.clone()
                    };
                    (*name, own)
                })
                .collect();
            let aggregating: Vec<(&str, &Vec<_>, Vec<&str>)> = roles
                .iter()
                .filter_map(|(name, role)| {
                    let selectors = role.aggregation.as_ref()?;
                    let selected = roles
                        .iter()
                        .filter(|(other, r)| {
                            other != &name && selectors.iter().any(|s| s.matches(&r.labels))
                        })
                        .map(|(other, _)| *other)
                        .collect();
                    Some((*name, selectors, selected))
                })
                .collect();
            // Each pass adds at least one rule or stops; bound it anyway.
            for _ in 0..=aggregating.len() {
                let mut changed = false;
                for (name, _, selected) in &aggregating {
                    let mut rules = effective.get(name).cloned().unwrap_or_default();
                    for other in selected {
                        for rule in effective.get(other).into_iter().flatten() {
                            if !rules.contains(rule) {
                                rules.push(rule.clone());
                                changed = true;
                            }
                        }
                    }
                    effective.insert(name, rules);
                }
                if !changed {
                    break;
                }
            }
            aggregating
                .iter()
                .map(|(name, _, _)| {
                    (
                        name.to_string(),
                        effective.get(name).cloned().unwrap_or_default(),
                    )
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::objects::rbac_of_text;
    use crate::rbac::permissions::Risk;

    fn index(files: &[(&str, &str)]) -> RbacIndex {
        let mut index = RbacIndex::new();
        for (name, text) in files {
            index.set(name, rbac_of_text(text));
        }
        index
    }

    const BINDINGS: &str = "\
kind: RoleBinding
apiVersion: rbac.authorization.k8s.io/v1
metadata: {name: deployers, namespace: prod}
roleRef: {kind: Role, name: deployer}
subjects: [{kind: ServiceAccount, name: ci}]
---
kind: RoleBinding
apiVersion: rbac.authorization.k8s.io/v1
metadata: {name: elsewhere, namespace: dev}
roleRef: {kind: ClusterRole, name: edit}
subjects: [{kind: ServiceAccount, name: ci}]
---
kind: ClusterRoleBinding
apiVersion: rbac.authorization.k8s.io/v1
metadata: {name: ops}
roleRef: {kind: ClusterRole, name: ops-role}
subjects: [{kind: Group, name: \"system:serviceaccounts:prod\"}]
";

    const ROLES: &str = "\
kind: Role
apiVersion: rbac.authorization.k8s.io/v1
metadata: {name: deployer, namespace: prod}
rules: [{apiGroups: [apps], resources: [deployments], verbs: [create, get]}]
";

    #[test]
    fn bindings_resolve_roles_across_files_and_namespaces() {
        let index = index(&[("bindings.yaml", BINDINGS), ("roles.yaml", ROLES)]);
        let p = index.permissions(Some("prod"), "ci");
        let names: Vec<&str> = p.grants.iter().map(|g| g.binding.as_str()).collect();
        assert_eq!(
            names,
            ["deployers", "ops"],
            "the dev RoleBinding names ci of dev"
        );
        let deployers = &p.grants[0];
        assert_eq!(deployers.scope, Scope::Namespace(Some("prod".into())));
        assert_eq!(deployers.capabilities, vec![Capability::CreateWorkloads]);
        assert!(
            matches!(&deployers.role, RoleSource::Declared { file, .. } if file == "roles.yaml")
        );
        assert_eq!(
            deployers.binding_place.as_ref().map(|(f, _)| f.as_str()),
            Some("bindings.yaml")
        );
        let ops = &p.grants[1];
        assert_eq!(ops.via, Via::NamespaceServiceAccounts);
        assert_eq!(
            ops.role,
            RoleSource::Missing {
                kind: RoleKind::ClusterRole,
                name: "ops-role".into()
            }
        );
        assert!(ops.rules.is_empty());
        assert_eq!(p.risk, Risk::DangerousInNamespace);

        let dev = index.permissions(Some("dev"), "ci");
        assert_eq!(dev.grants.len(), 1);
        assert!(matches!(dev.grants[0].role, RoleSource::Builtin { .. }));
        assert!(dev.grants[0]
            .capabilities
            .contains(&Capability::ReadSecrets));
        assert!(dev.grants[0]
            .capabilities
            .contains(&Capability::ExecIntoPods));

        let other = index.permissions(Some("staging"), "ci");
        assert!(other.grants.is_empty());
        assert_eq!(other.risk, Risk::DiscoveryOnly);
        let defaults: Vec<&str> = other.defaults.iter().map(|g| g.binding.as_str()).collect();
        assert!(defaults.contains(&"system:discovery"));
        assert!(other.defaults.iter().all(|g| g.binding_place.is_none()));
    }

    #[test]
    fn a_role_in_another_namespace_is_missing() {
        let index = index(&[
            ("bindings.yaml", BINDINGS),
            (
                "roles.yaml",
                &ROLES.replace("namespace: prod", "namespace: dev"),
            ),
        ]);
        let p = index.permissions(Some("prod"), "ci");
        assert!(p.grants[0].role.is_missing() || p.grants[1].role.is_missing());
        assert_eq!(p.risk, Risk::Unknown);
    }

    #[test]
    fn user_roles_aggregate_into_builtin_ones_and_a_declared_name_wins() {
        let extra = "\
kind: ClusterRole
apiVersion: rbac.authorization.k8s.io/v1
metadata:
  name: nodes-proxy
  labels: {rbac.authorization.k8s.io/aggregate-to-view: \"true\"}
rules: [{apiGroups: [\"\"], resources: [nodes/proxy], verbs: [get]}]
---
kind: ClusterRoleBinding
apiVersion: rbac.authorization.k8s.io/v1
metadata: {name: admins}
roleRef: {kind: ClusterRole, name: admin}
subjects: [{kind: ServiceAccount, name: ci, namespace: prod}]
";
        let index = index(&[("extra.yaml", extra)]);
        let p = index.permissions(Some("prod"), "ci");
        let admin = &p.grants[0];
        // view → edit → admin: the user's rule reaches admin through two
        // aggregation steps.
        assert!(admin.capabilities.contains(&Capability::NodesProxy));
        assert!(admin.capabilities.contains(&Capability::ChangeRbac));
        assert_eq!(p.risk, Risk::DangerousClusterWide);

        let redefined = "\
kind: ClusterRole
apiVersion: rbac.authorization.k8s.io/v1
metadata: {name: admin}
rules: [{apiGroups: [\"\"], resources: [configmaps], verbs: [get]}]
";
        let index = self::index(&[("extra.yaml", extra), ("admin.yaml", redefined)]);
        let p = index.permissions(Some("prod"), "ci");
        assert!(matches!(p.grants[0].role, RoleSource::Declared { .. }));
        assert!(p.grants[0].capabilities.is_empty());
        assert_eq!(p.risk, Risk::Bound);
    }

    #[test]
    fn aggregation_cycles_end_and_cluster_admin_is_recognised() {
        let text = "\
kind: ClusterRole
apiVersion: rbac.authorization.k8s.io/v1
metadata: {name: a, labels: {ring: \"1\"}}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {ring: \"2\"}}]}
---
kind: ClusterRole
apiVersion: rbac.authorization.k8s.io/v1
metadata: {name: b, labels: {ring: \"2\"}}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {ring: \"1\"}}, {matchLabels: {leaf: \"yes\"}}]}
---
kind: ClusterRole
apiVersion: rbac.authorization.k8s.io/v1
metadata: {name: leaf, labels: {leaf: \"yes\"}}
rules: [{apiGroups: [\"*\"], resources: [\"*\"], verbs: [\"*\"]}]
---
kind: ClusterRoleBinding
apiVersion: rbac.authorization.k8s.io/v1
metadata: {name: ring}
roleRef: {kind: ClusterRole, name: a}
subjects: [{kind: User, name: \"system:serviceaccount:ci:bot\"}]
---
kind: ClusterRoleBinding
apiVersion: rbac.authorization.k8s.io/v1
metadata: {name: admins}
roleRef: {kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: system:serviceaccounts}]
";
        let index = index(&[("ring.yaml", text)]);
        let p = index.permissions(Some("ci"), "bot");
        assert_eq!(p.risk, Risk::ClusterAdmin);
        let ring = p.grants.iter().find(|g| g.binding == "ring").unwrap();
        assert_eq!(ring.via, Via::User);
        assert_eq!(ring.rules.len(), 1);
        let admins = p.grants.iter().find(|g| g.binding == "admins").unwrap();
        assert_eq!(admins.via, Via::AllServiceAccounts);
        assert_eq!(
            admins.role,
            RoleSource::Builtin {
                name: "cluster-admin".into(),
                kubernetes: bootstrap::KUBERNETES_VERSION
            }
        );
    }

    #[test]
    fn set_and_remove_keep_the_index_per_origin() {
        let mut index = index(&[("bindings.yaml", BINDINGS), ("roles.yaml", ROLES)]);
        assert_eq!(index.bindings().count(), 3);
        assert_eq!(index.roles().count(), 1);
        assert!(index
            .find_role(RoleKind::Role, Some("prod"), "deployer")
            .is_some());
        assert!(index
            .find_role(RoleKind::Role, Some("dev"), "deployer")
            .is_none());
        index.remove("roles.yaml");
        assert_eq!(index.roles().count(), 0);
        index.set("bindings.yaml", RbacObjects::default());
        assert!(index.is_empty());
        assert!(!index.permissions(Some("prod"), "ci").is_bound());
    }

    #[test]
    fn a_role_binding_cannot_reach_a_role_through_a_cluster_role_binding() {
        let text = "\
kind: ClusterRoleBinding
apiVersion: rbac.authorization.k8s.io/v1
metadata: {name: wrong}
roleRef: {kind: Role, name: deployer}
subjects: [{kind: ServiceAccount, name: ci, namespace: prod}]
";
        let index = index(&[("a.yaml", text), ("roles.yaml", ROLES)]);
        let p = index.permissions(Some("prod"), "ci");
        assert!(p.grants[0].role.is_missing());
    }

    #[test]
    fn answers_follow_objects_that_only_moved_and_are_dropped_otherwise() {
        let both = format!("{ROLES}---\n{BINDINGS}");
        let mut index = index(&[("all.yaml", &both), ("other.yaml", ROLES)]);
        let before = index.shared_permissions(Some("prod"), "ci");
        let stranger = index.shared_permissions(Some("dev"), "nobody");
        // The same objects ten bytes later (a comment added above them).
        let moved_text = format!("# comment\n{both}");
        index.set("all.yaml", rbac_of_text(&moved_text));
        let after = index.shared_permissions(Some("prod"), "ci");
        let fresh = self::index(&[("all.yaml", &moved_text), ("other.yaml", ROLES)]);
        assert_eq!(*after, fresh.permissions(Some("prod"), "ci"));
        assert_ne!(after, before, "the places moved");
        let place = after.grants[0].binding_place.as_ref().unwrap();
        assert_eq!(
            &moved_text[place.1.start..place.1.end],
            after.grants[0].binding,
            "the binding's place is its name in the new text"
        );
        assert!(
            Arc::ptr_eq(&stranger, &index.shared_permissions(Some("dev"), "nobody")),
            "an answer naming no place of the file is kept as it is"
        );
        assert_eq!(
            *index.shared_permissions(Some("dev"), "nobody"),
            fresh.permissions(Some("dev"), "nobody")
        );
        // A changed fact (the role's verbs): answered again.
        let changed = moved_text.replace("create, get", "get");
        index.set("all.yaml", rbac_of_text(&changed));
        let fresh = self::index(&[("all.yaml", &changed), ("other.yaml", ROLES)]);
        assert_eq!(
            *index.shared_permissions(Some("prod"), "ci"),
            fresh.permissions(Some("prod"), "ci")
        );
        assert_ne!(*index.shared_permissions(Some("prod"), "ci"), *after);
    }
}
