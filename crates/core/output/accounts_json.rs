//! `tokenguard accounts --format json`: one object, `{"accounts": [...]}`.
//! The field names are a stable contract documented in `docs/accounts.md`:
//! add fields, never rename or remove one.

use std::io::{self, Write};

use serde::Serialize;

use crate::accounts::{AccountRow, Report};

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
