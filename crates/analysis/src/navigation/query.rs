//! Navigation questions over the workspace: what a position names
//! ([`symbol_at`]: a ServiceAccount or a role), where that is declared
//! ([`Workspace::definitions`]), what names it ([`Workspace::references`]),
//! and which accounts a pod spec's `serviceAccountName` can name
//! ([`completion_site`], [`Workspace::account_candidates`]).
//!
//! Roles and bindings are the RBAC model's ([`crate::rbac`]: their ranges
//! come from `RbacObjects`, read once per file). A RoleBinding's `roleRef`
//! to a Role names the Role of the binding's namespace, to a ClusterRole the
//! ClusterRole; a ServiceAccount subject without a namespace names the
//! account of the binding's namespace. Built-in roles (`cluster-admin`,
//! `edit`, ...) are declared in no file: no definition.

use std::collections::HashSet;

use super::index::UseIndex;
use super::uses::{AccountField, AccountUse, Mention};
use crate::accounts::AccountIndex;
use crate::objects::{AccountAutomount, ServiceAccount};
use crate::rbac::{
    BindingDef, BindingKind, RbacIndex, RbacObjects, RoleDef, RoleKind, SubjectKind,
};
use crate::text::TextRange;
use crate::{Options, ParsedFile};

/// What one file says for navigation, read from its text now (an open
/// buffer, the file a request is about).
#[derive(Clone, Debug, Default)]
pub struct FileSymbols {
    pub uses: Vec<AccountUse>,
    pub accounts: Vec<ServiceAccount>,
    pub rbac: RbacObjects,
}

impl FileSymbols {
    /// The symbols of a plain manifest's text.
    pub fn of_parsed(parsed: &ParsedFile) -> Self {
        FileSymbols {
            uses: super::uses::uses_of_parsed(parsed),
            accounts: parsed.accounts.clone(),
            rbac: RbacObjects::default(),
        }
    }

    pub fn of_text(text: &str, options: &Options) -> Self {
        FileSymbols {
            rbac: crate::rbac::rbac_of_text(text),
            ..Self::of_parsed(&crate::parse(text, options))
        }
    }
}

/// What a position is on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Symbol {
    /// A ServiceAccount, by namespace (`None`: not written) and name.
    Account {
        namespace: Option<String>,
        name: String,
    },
    /// A Role (by namespace and name) or a ClusterRole (by name; its
    /// namespace is `None`).
    Role {
        kind: RoleKind,
        namespace: Option<String>,
        name: String,
    },
}

impl Symbol {
    fn role(kind: RoleKind, namespace: Option<&String>, name: &str) -> Symbol {
        Symbol::Role {
            kind,
            namespace: match kind {
                RoleKind::Role => namespace.cloned(),
                RoleKind::ClusterRole => None,
            },
            name: name.to_string(),
        }
    }

    /// The account a binding's ServiceAccount subject names.
    fn subject(binding: &BindingDef, kind: &SubjectKind) -> Option<Symbol> {
        match kind {
            SubjectKind::ServiceAccount { name, namespace } => Some(Symbol::Account {
                namespace: namespace.clone().or_else(|| binding.namespace.clone()),
                name: name.clone(),
            }),
            _ => None,
        }
    }

    fn is_role(&self, role: &RoleDef) -> bool {
        match self {
            Symbol::Role {
                kind,
                namespace,
                name,
            } => {
                role.kind == *kind
                    && role.name == *name
                    && (*kind == RoleKind::ClusterRole || role.namespace == *namespace)
            }
            Symbol::Account { .. } => false,
        }
    }

    /// The role a binding's `roleRef` names (a ClusterRoleBinding can
    /// only name a ClusterRole; a Role it names is read as the Role of no
    /// namespace).
    fn role_ref(binding: &BindingDef) -> Option<Symbol> {
        let role_ref = binding.role_ref.as_ref()?;
        let namespace = match binding.kind {
            BindingKind::RoleBinding => binding.namespace.as_ref(),
            BindingKind::ClusterRoleBinding => None,
        };
        Some(Symbol::role(role_ref.kind, namespace, &role_ref.name))
    }
}

/// Whether a name is one (a chart template's action is not).
fn is_name(name: &str) -> bool {
    !name.is_empty() && !name.contains("{{")
}

/// How the position names the symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Naming {
    /// It declares it (a ServiceAccount's `metadata.name`).
    Declaration,
    /// It names it (a pod spec's field).
    Mention,
}

/// A range in a file, the file as the host names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    pub file: String,
    pub range: TextRange,
}

/// Whether `offset` is in `range`, its end included (a cursor right after a
/// word is on it).
fn on(range: TextRange, offset: usize) -> bool {
    range.start <= offset && offset <= range.end
}

/// The symbol at byte `offset` of a file, how it is named there, and the
/// range that names it. Implicit uses (a pod spec naming no account) are
/// not a position's symbol: nothing is written there.
pub fn symbol_at(symbols: &FileSymbols, offset: usize) -> Option<(Symbol, Naming, TextRange)> {
    for u in &symbols.uses {
        if let Mention::Field { range, .. } = u.mention {
            if on(range, offset) {
                let symbol = Symbol::Account {
                    namespace: u.namespace.clone(),
                    name: u.account.clone(),
                };
                return Some((symbol, Naming::Mention, range));
            }
        }
    }
    for a in &symbols.accounts {
        if on(a.name_range, offset) {
            let symbol = Symbol::Account {
                namespace: a.namespace.clone(),
                name: a.name.clone(),
            };
            return Some((symbol, Naming::Declaration, a.name_range));
        }
    }
    for role in &symbols.rbac.roles {
        if on(role.name_range, offset) && is_name(&role.name) {
            let symbol = Symbol::role(role.kind, role.namespace.as_ref(), &role.name);
            return Some((symbol, Naming::Declaration, role.name_range));
        }
    }
    for binding in &symbols.rbac.bindings {
        if let Some(role_ref) = &binding.role_ref {
            if on(role_ref.range, offset) && is_name(&role_ref.name) {
                let symbol = Symbol::role_ref(binding)?;
                return Some((symbol, Naming::Mention, role_ref.range));
            }
        }
        for subject in &binding.subjects {
            if !on(subject.range, offset) {
                continue;
            }
            let symbol = Symbol::subject(binding, &subject.kind);
            if let Some(symbol) = symbol.filter(|s| match s {
                Symbol::Account { name, namespace } => {
                    is_name(name) && namespace.as_deref().is_none_or(is_name)
                }
                Symbol::Role { .. } => false,
            }) {
                return Some((symbol, Naming::Mention, subject.range));
            }
        }
    }
    None
}

/// The workspace as navigation sees it: the indexes of every file, except
/// the files read again now (`fresh`), whose symbols speak for them.
pub struct Workspace<'a> {
    pub accounts: &'a AccountIndex,
    pub uses: &'a UseIndex,
    pub rbac: &'a RbacIndex,
    pub fresh: Vec<(&'a str, &'a FileSymbols)>,
}

/// A ServiceAccount a `serviceAccountName` can name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountCandidate {
    pub name: String,
    /// Where it is declared (`None`: not declared in the workspace, the
    /// namespace's `default` account, which Kubernetes creates).
    pub declared: Option<Location>,
    /// Its `automountServiceAccountToken` (of the declaration that leaves
    /// it on, when several disagree, as the rule reads them).
    pub automount: AccountAutomount,
}

impl<'a> Workspace<'a> {
    fn is_fresh(&self, origin: &str) -> bool {
        self.fresh.iter().any(|(name, _)| *name == origin)
    }

    /// Every ServiceAccount declaration, with its file.
    pub fn all_accounts(&self) -> Vec<(&str, &ServiceAccount)> {
        let mut out: Vec<(&str, &ServiceAccount)> = self
            .accounts
            .iter()
            .filter(|(origin, _)| !self.is_fresh(origin))
            .collect();
        for (origin, symbols) in &self.fresh {
            out.extend(symbols.accounts.iter().map(|a| (*origin, a)));
        }
        out
    }

    /// Every account use, with its file.
    pub fn all_uses(&self) -> Vec<(&str, &AccountUse)> {
        let mut out: Vec<(&str, &AccountUse)> = self
            .uses
            .iter()
            .filter(|(origin, _)| !self.is_fresh(origin))
            .collect();
        for (origin, symbols) in &self.fresh {
            out.extend(symbols.uses.iter().map(|u| (*origin, u)));
        }
        out
    }

    /// Every role declaration, with its file.
    pub fn all_roles(&self) -> Vec<(&str, &RoleDef)> {
        let mut out: Vec<(&str, &RoleDef)> = self
            .rbac
            .roles()
            .filter(|(origin, _)| !self.is_fresh(origin))
            .collect();
        for (origin, symbols) in &self.fresh {
            out.extend(symbols.rbac.roles.iter().map(|r| (*origin, r)));
        }
        out
    }

    /// Every binding, with its file.
    pub fn all_bindings(&self) -> Vec<(&str, &BindingDef)> {
        let mut out: Vec<(&str, &BindingDef)> = self
            .rbac
            .bindings()
            .filter(|(origin, _)| !self.is_fresh(origin))
            .collect();
        for (origin, symbols) in &self.fresh {
            out.extend(symbols.rbac.bindings.iter().map(|b| (*origin, b)));
        }
        out
    }

    /// Where `symbol` is declared, sorted by file and place. A ServiceAccount
    /// declared in several files has several; a built-in role none.
    pub fn definitions(&self, symbol: &Symbol) -> Vec<Location> {
        let mut out = match symbol {
            Symbol::Account { namespace, name } => self
                .all_accounts()
                .into_iter()
                .filter(|(_, a)| a.name == *name && a.namespace == *namespace)
                .map(|(file, a)| Location {
                    file: file.to_string(),
                    range: a.name_range,
                })
                .collect::<Vec<_>>(),
            Symbol::Role { .. } => self
                .all_roles()
                .into_iter()
                .filter(|(_, r)| symbol.is_role(r))
                .map(|(file, r)| Location {
                    file: file.to_string(),
                    range: r.name_range,
                })
                .collect(),
        };
        sorted(&mut out);
        out
    }

    /// What names `symbol`, sorted by file and place: for a ServiceAccount,
    /// the pod spec fields that name it and, for `default`, the pod specs
    /// that name none (at their `spec` key), and the bindings' subjects
    /// that name it; for a role, the bindings' `roleRef`s; with
    /// `include_declaration`, its declarations too.
    pub fn references(&self, symbol: &Symbol, include_declaration: bool) -> Vec<Location> {
        let mut out = Vec::new();
        match symbol {
            Symbol::Account { namespace, name } => {
                for (file, u) in self.all_uses() {
                    if u.account == *name && u.namespace == *namespace {
                        out.push(Location {
                            file: file.to_string(),
                            range: u.mention.range(),
                        });
                    }
                }
                for (file, binding) in self.all_bindings() {
                    for subject in &binding.subjects {
                        if Symbol::subject(binding, &subject.kind).as_ref() == Some(symbol) {
                            out.push(Location {
                                file: file.to_string(),
                                range: subject.range,
                            });
                        }
                    }
                }
            }
            Symbol::Role { .. } => {
                for (file, binding) in self.all_bindings() {
                    if let (Some(role_ref), Some(named)) =
                        (&binding.role_ref, Symbol::role_ref(binding))
                    {
                        if named == *symbol {
                            out.push(Location {
                                file: file.to_string(),
                                range: role_ref.range,
                            });
                        }
                    }
                }
            }
        }
        if include_declaration {
            out.extend(self.definitions(symbol));
        }
        sorted(&mut out);
        out
    }

    /// The ServiceAccounts a pod in `namespace` can run as, by name: those
    /// declared in that namespace (an absent namespace matches only an
    /// absent one), and `default`.
    pub fn account_candidates(&self, namespace: Option<&str>) -> Vec<AccountCandidate> {
        let mut out: Vec<AccountCandidate> = Vec::new();
        let mut accounts = self.all_accounts();
        accounts.sort_by(|a, b| (a.0, a.1.name_range).cmp(&(b.0, b.1.name_range)));
        for (file, a) in accounts {
            if a.namespace.as_deref() != namespace {
                continue;
            }
            match out.iter_mut().find(|c| c.name == a.name) {
                // As the rule reads several declarations: any that leaves
                // automounting on wins.
                Some(c) => {
                    if c.automount == AccountAutomount::Disabled
                        && a.automount != AccountAutomount::Disabled
                    {
                        c.automount = a.automount;
                        c.declared = Some(Location {
                            file: file.to_string(),
                            range: a.name_range,
                        });
                    }
                }
                None => out.push(AccountCandidate {
                    name: a.name.clone(),
                    declared: Some(Location {
                        file: file.to_string(),
                        range: a.name_range,
                    }),
                    automount: a.automount,
                }),
            }
        }
        if !out.iter().any(|c| c.name == "default") {
            out.push(AccountCandidate {
                name: "default".to_string(),
                declared: None,
                automount: AccountAutomount::Default,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

fn sorted(locations: &mut Vec<Location>) {
    locations.sort();
    let mut seen = HashSet::new();
    locations.retain(|l| seen.insert(l.clone()));
}

/// Where a completion of an account name applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletionSite {
    /// The name written so far, to be replaced (empty at the value's start).
    pub range: TextRange,
    pub field: AccountField,
    /// The namespace of the workload whose pod spec holds the field.
    pub namespace: Option<String>,
    /// Whether the name must be preceded by a space (the cursor is right
    /// after the key's colon).
    pub needs_space: bool,
}

/// What the line says before byte `offset`: a `serviceAccountName:` (or
/// `serviceAccount:`) key of a block mapping, then the name typed so far.
struct Typed {
    field: AccountField,
    /// Where the key starts.
    key_start: usize,
    /// The name's range, through the end of the word at `offset`.
    range: TextRange,
    needs_space: bool,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.'
}

/// The line text before `offset` (no parse: cheap, for every request).
fn typed(text: &str, offset: usize) -> Option<Typed> {
    if offset > text.len() || !text.is_char_boundary(offset) {
        return None;
    }
    let line_start = text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let before = &text[line_start..offset];
    // `  serviceAccountName: bu|` (or after a sequence dash).
    let (key_part, typed) = before.split_once(':')?;
    let key = key_part.trim_start().trim_start_matches("- ").trim();
    let field = AccountField::ALL.into_iter().find(|f| f.key() == key)?;
    let name = typed.trim_start();
    if !typed.is_empty() && !typed.starts_with([' ', '\t']) || !name.chars().all(is_name_char) {
        return None;
    }
    let rest = &text[offset..];
    let end = offset + rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
    Some(Typed {
        field,
        key_start: line_start + (key_part.len() - key_part.trim_start().len()),
        range: TextRange::new(offset - name.len(), end),
        needs_space: typed.is_empty(),
    })
}

/// Whether byte `offset` of `text` may be where an account name is typed
/// (the line only: [`completion_site`] decides, on a parse).
pub fn may_complete(text: &str, offset: usize) -> bool {
    typed(text, offset).is_some()
}

/// Whether byte `offset` of `text` is in the value of a pod spec's
/// `serviceAccountName` (or `serviceAccount`) of a block mapping, on the
/// key's line: where the name is typed. `parsed` is the text's parse.
pub fn completion_site(text: &str, parsed: &ParsedFile, offset: usize) -> Option<CompletionSite> {
    let typed = typed(text, offset)?;
    // The key must be a pod spec's: a workload's pod spec holds it on this line.
    for (i, workload) in &parsed.workloads {
        let doc = &parsed.documents[*i];
        let Some((key_node, _)) = crate::value::get(doc, workload.pod_spec, typed.field.key())
        else {
            continue;
        };
        let key_range = doc.node(key_node).range;
        if key_range.start >= typed.key_start && key_range.start < offset {
            return Some(CompletionSite {
                range: typed.range,
                field: typed.field,
                namespace: workload.namespace.clone(),
                needs_space: typed.needs_space,
            });
        }
    }
    None
}
