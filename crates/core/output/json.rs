//! For scripts: a JSON array of findings. The field set is a stable
//! contract; add fields only at the end and never rename one.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};
use tokenguard_analysis::rbac::{Grant, Permissions, RoleSource, Scope, Via};
use tokenguard_analysis::render::GRANTS_SHOWN;
use tokenguard_analysis::{Finding, TextEdit};

use super::Workspace;
use crate::check::CheckedFile;

#[derive(Serialize)]
struct JsonFinding<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    severity: &'static str,
    code: &'static str,
    message: &'a str,
    kind: Option<&'a str>,
    name: Option<&'a str>,
    fix: Option<JsonFix<'a>>,
    /// Other places that explain the finding (a chart's values.yaml line);
    /// left out when there are none, so plain manifests read as before.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<JsonRelated<'a>>,
    /// What the token of the pod's account can do (TG001 with the
    /// workspace's RBAC objects; left out otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions: Option<JsonPermissions<'a>>,
}

#[derive(Serialize)]
struct JsonPermissions<'a> {
    account: &'a str,
    namespace: Option<&'a str>,
    risk: &'static str,
    /// Deduplicated, most dangerous first.
    capabilities: Vec<JsonCapability>,
    /// From the bindings of the checked files, most dangerous first: the
    /// first `render::GRANTS_SHOWN` (10).
    grants: Vec<JsonGrant<'a>>,
    /// How many grants there are in all (more than `grants` lists when a
    /// group every account is in is bound many times).
    grant_count: usize,
}

#[derive(Serialize)]
struct JsonCapability {
    name: &'static str,
    label: &'static str,
    scope: &'static str,
    namespace: Option<String>,
}

#[derive(Serialize)]
struct JsonGrant<'a> {
    binding: JsonObject<'a>,
    via: String,
    role: JsonRole<'a>,
    scope: &'static str,
    namespace: Option<String>,
    risk: &'static str,
    capabilities: Vec<&'static str>,
}

#[derive(Serialize)]
struct JsonObject<'a> {
    kind: &'static str,
    name: &'a str,
    namespace: Option<&'a str>,
    #[serde(flatten)]
    at: Option<JsonAt<'a>>,
}

#[derive(Serialize)]
struct JsonRole<'a> {
    kind: &'static str,
    name: &'a str,
    /// `declared` (in the checked files: `file`, `line`, `column`),
    /// `builtin` (`kubernetes`: the bootstrap policy's version) or
    /// `missing` (not defined in the checked files).
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kubernetes: Option<&'static str>,
    #[serde(flatten)]
    at: Option<JsonAt<'a>>,
}

/// Where an object is declared: its name's position.
#[derive(Serialize)]
struct JsonAt<'a> {
    file: &'a str,
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    title: &'a str,
    edits: Vec<JsonEdit<'a>>,
    /// The file the edits apply to, when not the finding's own (left out
    /// otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    new_text: &'a str,
}

/// Writes the array as `serde_json::to_writer_pretty` writes it, and a
/// line break.
pub fn write(workspace: &Workspace, out: &mut dyn Write) -> io::Result<()> {
    super::write_per_file(
        workspace,
        out,
        |file| file_elements(workspace, file),
        [b"[\n", b",\n", b"\n]\n", b"[]\n"],
    )
}

/// The findings of `file` as elements of the pretty array: each indented
/// one level, separated by `,\n`, without the last line break.
fn file_elements(workspace: &Workspace, file: &CheckedFile) -> io::Result<Vec<u8>> {
    let mut elements = Vec::new();
    for (n, finding) in file.findings.iter().enumerate() {
        let element = json_finding(workspace, file, finding);
        if n > 0 {
            elements.extend_from_slice(b",\n");
        }
        elements.extend_from_slice(b"  ");
        // A level deeper, written so: the formatter starts inside the
        // array (its `[` goes nowhere), so every line break of the element
        // is followed by one more level of indentation.
        let mut formatter = PrettyFormatter::new();
        formatter.begin_array(&mut io::sink())?;
        let mut serializer = serde_json::Serializer::with_formatter(&mut elements, formatter);
        element.serialize(&mut serializer)?;
    }
    Ok(elements)
}

fn json_finding<'a>(
    workspace: &Workspace<'a>,
    file: &'a CheckedFile,
    finding: &'a Finding,
) -> JsonFinding<'a> {
    let span = file.span(finding.range);
    let workload = finding.workload.as_ref();
    JsonFinding {
        file: file.display(),
        line: span.start.line,
        column: span.start.column,
        end_line: span.end.line,
        end_column: span.end.column,
        severity: finding.severity.as_str(),
        code: finding.code.as_str(),
        message: &finding.message,
        kind: workload.map(|w| w.kind.as_str()),
        name: workload.and_then(|w| w.name.as_deref()),
        fix: finding.fix.as_ref().and_then(|fix| {
            let target = fix.file.as_deref();
            let edits = fix
                .edits
                .iter()
                .map(|edit| json_edit(workspace, file, target, edit))
                .collect::<Option<Vec<_>>>()?;
            Some(JsonFix {
                title: &fix.title,
                edits,
                file: target
                    .and_then(|t| workspace.span_in(file, Some(t), Default::default()))
                    .map(|(display, _)| display),
            })
        }),
        permissions: finding
            .permissions
            .as_ref()
            .map(|p| json_permissions(finding, p)),
        related: finding
            .related
            .iter()
            .filter_map(|related| {
                let (display, span) = workspace.related_span(file, finding, related)?;
                Some(JsonRelated {
                    file: display,
                    line: span.start.line,
                    column: span.start.column,
                    end_line: span.end.line,
                    end_column: span.end.column,
                    message: &related.message,
                })
            })
            .collect(),
    }
}

fn json_edit<'a>(
    workspace: &Workspace<'a>,
    file: &'a CheckedFile,
    target: Option<&str>,
    edit: &'a TextEdit,
) -> Option<JsonEdit<'a>> {
    let (_, span) = workspace.span_in(file, target, edit.range)?;
    Some(JsonEdit {
        line: span.start.line,
        column: span.start.column,
        end_line: span.end.line,
        end_column: span.end.column,
        new_text: &edit.new_text,
    })
}

fn json_permissions<'a>(finding: &'a Finding, permissions: &'a Permissions) -> JsonPermissions<'a> {
    JsonPermissions {
        account: &permissions.account,
        namespace: permissions.namespace.as_deref(),
        risk: permissions.risk.as_str(),
        capabilities: permissions
            .capabilities()
            .into_iter()
            .map(|(capability, scope)| {
                let (scope, namespace) = json_scope(&scope);
                JsonCapability {
                    name: capability.as_str(),
                    label: capability.label(),
                    scope,
                    namespace,
                }
            })
            .collect(),
        grants: permissions
            .grants
            .iter()
            .take(GRANTS_SHOWN)
            .map(|grant| json_grant(finding, permissions, grant))
            .collect(),
        grant_count: permissions.grants.len(),
    }
}

fn json_grant<'a>(
    finding: &'a Finding,
    permissions: &Permissions,
    grant: &'a Grant,
) -> JsonGrant<'a> {
    let at = |file: &str, range| {
        let declared = finding.declared_at(file, range)?;
        let (column, _) = declared.columns();
        Some(JsonAt {
            file: &declared.file,
            line: declared.line + 1,
            column: column + 1,
        })
    };
    let (scope, namespace) = json_scope(&grant.scope);
    let role = match &grant.role {
        RoleSource::Declared {
            kind,
            name,
            file,
            range,
        } => JsonRole {
            kind: kind.as_str(),
            name,
            source: "declared",
            kubernetes: None,
            at: at(file, *range),
        },
        RoleSource::Builtin { name, kubernetes } => JsonRole {
            kind: "ClusterRole",
            name,
            source: "builtin",
            kubernetes: Some(kubernetes),
            at: None,
        },
        RoleSource::Missing { kind, name } => JsonRole {
            kind: kind.as_str(),
            name,
            source: "missing",
            kubernetes: None,
            at: None,
        },
    };
    JsonGrant {
        binding: JsonObject {
            kind: grant.binding_kind.as_str(),
            name: &grant.binding,
            namespace: grant.binding_namespace.as_deref(),
            at: grant
                .binding_place
                .as_ref()
                .and_then(|(file, range)| at(file, *range)),
        },
        via: match grant.via {
            Via::ServiceAccount => "service-account".to_string(),
            Via::AllServiceAccounts => "group:system:serviceaccounts".to_string(),
            Via::NamespaceServiceAccounts => format!(
                "group:system:serviceaccounts:{}",
                permissions.namespace.as_deref().unwrap_or_default()
            ),
            Via::User => format!(
                "user:system:serviceaccount:{}:{}",
                permissions.namespace.as_deref().unwrap_or_default(),
                permissions.account
            ),
            Via::Authenticated => "group:system:authenticated".to_string(),
        },
        role,
        scope,
        namespace,
        risk: grant.risk().as_str(),
        capabilities: grant.capabilities.iter().map(|c| c.as_str()).collect(),
    }
}

/// `cluster`, or `namespace` and which.
fn json_scope(scope: &Scope) -> (&'static str, Option<String>) {
    match scope {
        Scope::Cluster => ("cluster", None),
        Scope::Namespace(ns) => ("namespace", ns.clone()),
    }
}
