//! `tokenguard accounts --format json`: one object, `{"accounts": [...]}`.
//! The field names are a stable contract documented in `docs/accounts.md`:
//! add fields, never rename or remove one.

use std::io::{self, Write};

use serde::Serialize;

use tokenguard_analysis::rbac::{Grant, RoleSource, Scope, Via};

use crate::accounts::{AccountRow, Place, Report};

#[derive(Serialize)]
struct JsonReport<'a> {
    accounts: Vec<JsonAccount<'a>>,
}

#[derive(Serialize)]
struct JsonAccount<'a> {
    namespace: Option<&'a str>,
    name: &'a str,
    /// The name is a chart template's expression, not evaluated.
    name_computed: bool,
    /// `declared`, `not-declared`, `implicit-default`.
    declared: &'static str,
    declarations: Vec<JsonDeclaration<'a>>,
    /// The declarations' `automountServiceAccountToken` (any that leaves
    /// it on wins); `unset` for an implicit `default` account, `null` for
    /// an account no file declares.
    automount: Option<&'static str>,
    /// `discovery-only`, `unknown`, `bound`, `dangerous-in-namespace`,
    /// `dangerous-cluster-wide`, `cluster-admin`; `null` for a name a chart
    /// computes.
    risk: Option<&'static str>,
    /// The bindings of the checked files that apply to the account.
    bindings: Vec<JsonBinding<'a>>,
    /// The dangerous capabilities they give, most dangerous first.
    capabilities: Vec<JsonCapability>,
    workloads: Vec<JsonWorkload<'a>>,
    /// How many of the workloads mount the token.
    mounting: usize,
}

#[derive(Serialize)]
struct JsonDeclaration<'a> {
    file: &'a str,
    line: Option<usize>,
    automount: &'static str,
}

#[derive(Serialize)]
struct JsonBinding<'a> {
    /// `RoleBinding` or `ClusterRoleBinding`.
    kind: &'static str,
    name: &'a str,
    namespace: Option<&'a str>,
    file: Option<&'a str>,
    line: Option<usize>,
    /// How its subject names the account: `service-account`,
    /// `all-service-accounts`, `namespace-service-accounts`, `user`,
    /// `authenticated`.
    via: &'static str,
    role: JsonRole<'a>,
    /// `cluster` or `namespace`.
    scope: &'static str,
    /// The namespace of a `namespace` scope (`null`: the binding's own,
    /// not written).
    scope_namespace: Option<&'a str>,
    capabilities: Vec<&'static str>,
}

#[derive(Serialize)]
struct JsonRole<'a> {
    /// `Role` or `ClusterRole`.
    kind: &'static str,
    name: &'a str,
    /// `declared`, `builtin` or `missing` (defined outside the checked
    /// files).
    source: &'static str,
    file: Option<&'a str>,
    line: Option<usize>,
    /// For a built-in role: the Kubernetes version of its definition.
    kubernetes: Option<&'static str>,
}

#[derive(Serialize)]
struct JsonCapability {
    /// A stable name (`read-secrets`).
    name: &'static str,
    /// In words (`read Secrets`).
    label: &'static str,
    scope: &'static str,
    scope_namespace: Option<String>,
}

fn scope(scope: &Scope) -> (&'static str, Option<&str>) {
    match scope {
        Scope::Cluster => ("cluster", None),
        Scope::Namespace(ns) => ("namespace", ns.as_deref()),
    }
}

fn via(via: Via) -> &'static str {
    match via {
        Via::ServiceAccount => "service-account",
        Via::AllServiceAccounts => "all-service-accounts",
        Via::NamespaceServiceAccounts => "namespace-service-accounts",
        Via::User => "user",
        Via::Authenticated => "authenticated",
    }
}

fn json_binding<'a>(
    grant: &'a Grant,
    (binding_at, role_at): &'a (Option<Place>, Option<Place>),
) -> JsonBinding<'a> {
    let (scope_kind, scope_namespace) = scope(&grant.scope);
    let (source, kubernetes) = match &grant.role {
        RoleSource::Declared { .. } => ("declared", None),
        RoleSource::Builtin { kubernetes, .. } => ("builtin", Some(*kubernetes)),
        RoleSource::Missing { .. } => ("missing", None),
    };
    JsonBinding {
        kind: grant.binding_kind.as_str(),
        name: &grant.binding,
        namespace: grant.binding_namespace.as_deref(),
        file: binding_at.as_ref().map(|p| p.file.as_str()),
        line: binding_at.as_ref().and_then(|p| p.line),
        via: via(grant.via),
        role: JsonRole {
            kind: grant.role.kind().as_str(),
            name: grant.role.name(),
            source,
            file: role_at.as_ref().map(|p| p.file.as_str()),
            line: role_at.as_ref().and_then(|p| p.line),
            kubernetes,
        },
        scope: scope_kind,
        scope_namespace,
        capabilities: grant.capabilities.iter().map(|c| c.as_str()).collect(),
    }
}

#[derive(Serialize)]
struct JsonWorkload<'a> {
    kind: &'a str,
    name: Option<&'a str>,
    namespace: Option<&'a str>,
    file: &'a str,
    line: Option<usize>,
    /// `mounted`, `not-mounted`, `unknown`.
    token: &'static str,
    /// `pod`, `account`, `overlays`; `null` when unknown.
    decided_by: Option<&'static str>,
    /// The pod spec's own field: `absent`, `true`, `false`, `null`,
    /// `not-boolean`, `templated`.
    pod_field: &'static str,
    /// A `tokenguard-ignore` comment or an `[[ignore]]` accepts the token.
    accepted: bool,
}

fn json_account(row: &AccountRow) -> JsonAccount<'_> {
    JsonAccount {
        namespace: row.namespace(),
        name: &row.usage.name,
        name_computed: row.usage.computed,
        declared: row.declared().as_str(),
        declarations: row
            .usage
            .declarations
            .iter()
            .zip(&row.declared_at)
            .map(|(d, at)| JsonDeclaration {
                file: &d.file,
                line: at.line,
                automount: d.automount.as_str(),
            })
            .collect(),
        automount: row.automount().map(|a| a.as_str()),
        risk: row.risk().map(|r| r.as_str()),
        bindings: row.grants().map(|(g, at)| json_binding(g, at)).collect(),
        capabilities: row
            .usage
            .permissions
            .iter()
            .flat_map(|p| p.capabilities())
            .map(|(capability, s)| {
                let (scope_kind, scope_namespace) = scope(&s);
                JsonCapability {
                    name: capability.as_str(),
                    label: capability.label(),
                    scope: scope_kind,
                    scope_namespace: scope_namespace.map(str::to_string),
                }
            })
            .collect(),
        workloads: row
            .usage
            .workloads
            .iter()
            .zip(&row.workloads_at)
            .map(|((file, used), at)| JsonWorkload {
                kind: &used.workload.kind,
                name: used.workload.name.as_deref(),
                namespace: used.workload.namespace.as_deref(),
                file,
                line: at.line,
                token: used.token.state(),
                decided_by: used.token.decider().map(|d| d.as_str()),
                pod_field: used.pod_field.as_str(),
                accepted: used.accepted,
            })
            .collect(),
        mounting: row.usage.mounting(),
    }
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let json = JsonReport {
        accounts: report.accounts.iter().map(json_account).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &json)?;
    writeln!(out)
}
