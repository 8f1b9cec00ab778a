//! `tokenguard accounts` for people: a summary table of the accounts, then
//! each account with its declaration, bindings, capabilities and the
//! workloads that run as it. Columns are aligned and sized for a
//! 100-column terminal (long cells of the summary are shortened with `…`);
//! colour only when asked for (see `ColorChoice`).

use std::io::{self, Write};

use tokenguard_analysis::rbac::{Grant, Risk, RoleSource, Scope, Via};
use tokenguard_analysis::usage::{Decider, Declared, PodField, Token, TokenUse};

use crate::accounts::{AccountRow, Report};
use crate::output::plural;

/// The width the report is written for.
const WIDTH: usize = 100;

const BOLD: &str = "1";
const MOUNTED: &str = "33";
const OFF: &str = "32";
const DIM: &str = "2";

#[derive(Clone, Copy)]
struct Style {
    color: bool,
}

impl Style {
    fn paint(self, sgr: &str, text: &str) -> String {
        if self.color && !sgr.is_empty() {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// A cell: its text and its colour.
struct Cell {
    text: String,
    sgr: &'static str,
}

impl Cell {
    fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            sgr: "",
        }
    }

    fn painted(text: impl Into<String>, sgr: &'static str) -> Self {
        Self {
            text: text.into(),
            sgr,
        }
    }
}

/// `text` cut to `max` characters, ending with `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// `text` cut to its last `max` characters, starting with `…` when cut
/// (a path's end says most).
fn shorten_left(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_string();
    }
    let kept: String = text.chars().skip(count - max.saturating_sub(1)).collect();
    format!("…{kept}")
}

/// Writes rows aligned in columns two blanks apart, each line after
/// `indent`; `limits` caps each column's width (0: no cap). The last
/// column is not padded.
fn table(
    out: &mut dyn Write,
    style: Style,
    indent: &str,
    header: &[&str],
    rows: Vec<Vec<Cell>>,
    limits: &[usize],
) -> io::Result<()> {
    let columns = header.len();
    let rows: Vec<Vec<Cell>> = rows
        .into_iter()
        .map(|row| {
            row.into_iter()
                .enumerate()
                .map(|(i, cell)| match limits.get(i) {
                    Some(&max) if max > 0 => Cell {
                        text: shorten(&cell.text, max),
                        ..cell
                    },
                    _ => cell,
                })
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.text.chars().count());
        }
    }
    let line = |cells: Vec<(String, &str)>| -> String {
        let mut line = String::from(indent);
        let last = cells.len().saturating_sub(1);
        for (i, (text, sgr)) in cells.into_iter().enumerate() {
            let pad = widths[i].saturating_sub(text.chars().count());
            line.push_str(&style.paint(sgr, &text));
            if i < last {
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        line
    };
    let head = header.iter().map(|h| (h.to_string(), BOLD)).collect();
    writeln!(out, "{}", line(head))?;
    for row in rows {
        let cells = row.into_iter().map(|c| (c.text, c.sgr)).collect();
        writeln!(out, "{}", line(cells))?;
    }
    Ok(())
}

/// How the report names an account: `prod/builder`, or the name alone
/// when no namespace is written.
fn account_label(row: &AccountRow) -> String {
    match row.namespace() {
        Some(ns) => format!("{ns}/{}", row.usage.name),
        None => format!("{} (no namespace written)", row.usage.name),
    }
}

fn declared_cell(row: &AccountRow) -> Cell {
    match row.declared() {
        Declared::Yes => Cell::plain("yes"),
        Declared::No => Cell::painted("no", MOUNTED),
        Declared::ImplicitDefault => Cell::painted("implicit", DIM),
    }
}

fn automount_text(row: &AccountRow) -> &'static str {
    row.automount().map_or("-", |a| a.as_str())
}

fn risk_sgr(risk: Risk) -> &'static str {
    match risk {
        Risk::ClusterAdmin | Risk::DangerousClusterWide => "1;31",
        Risk::DangerousInNamespace => "31",
        Risk::Bound | Risk::Unknown => MOUNTED,
        Risk::DiscoveryOnly => "",
    }
}

fn risk_cell(row: &AccountRow) -> Cell {
    match row.risk() {
        Some(risk) => Cell::painted(risk.as_str(), risk_sgr(risk)),
        None => Cell::plain("-"),
    }
}

/// `cluster-wide`, `namespace prod`, `the binding's namespace`.
fn scope_text(scope: &Scope) -> String {
    match scope {
        Scope::Cluster => "cluster-wide".to_string(),
        Scope::Namespace(Some(ns)) => format!("namespace {ns}"),
        Scope::Namespace(None) => "the binding's namespace".to_string(),
    }
}

/// How a binding's subject reaches the account, when not by naming it.
fn via_text(via: Via) -> &'static str {
    match via {
        Via::ServiceAccount => "",
        Via::AllServiceAccounts => " (group system:serviceaccounts)",
        Via::NamespaceServiceAccounts => " (group system:serviceaccounts:<namespace>)",
        Via::User => " (user system:serviceaccount:<namespace>:<name>)",
        Via::Authenticated => " (group system:authenticated)",
    }
}

/// `ClusterRole cluster-admin (built-in)`, `Role ops (not found)`.
fn role_text(grant: &Grant) -> String {
    let role = format!("{} {}", grant.role.kind().as_str(), grant.role.name());
    match &grant.role {
        RoleSource::Declared { .. } => role,
        RoleSource::Builtin { .. } => format!("{role} (built-in)"),
        RoleSource::Missing { .. } => format!("{role} (not found)"),
    }
}

/// The token of one workload: `mounted`, `not mounted`, `unknown`.
fn token_cell(used: &TokenUse) -> Cell {
    let accepted = if used.accepted { " (accepted)" } else { "" };
    match used.token {
        Token::Mounted(_) => Cell::painted(format!("mounted{accepted}"), MOUNTED),
        Token::NotMounted(_) => Cell::painted("not mounted", OFF),
        Token::Unknown => Cell::plain("unknown"),
    }
}

/// What decides the token: the pod's own field (with its value), the
/// account's, or the kustomize overlays.
fn decided_by(used: &TokenUse) -> String {
    match used.token.decider() {
        Some(Decider::Pod) => match used.pod_field {
            PodField::Templated => "pod spec (templated)".to_string(),
            PodField::NotBoolean => "pod spec (not a boolean)".to_string(),
            field => format!("pod spec ({})", field.as_str()),
        },
        Some(Decider::Account) => "account".to_string(),
        Some(Decider::Overlays) => "kustomize overlays".to_string(),
        None => "a value tokenguard cannot resolve".to_string(),
    }
}

fn workload_label(used: &TokenUse) -> String {
    match &used.workload.name {
        Some(name) => format!("{}/{name}", used.workload.kind),
        None => format!("{} (unnamed)", used.workload.kind),
    }
}

pub fn write(report: &Report, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let style = Style { color };
    if report.accounts.is_empty() {
        writeln!(
            out,
            "No ServiceAccounts are declared, and no workloads run as one, in the checked files."
        )?;
        return Ok(());
    }
    let workloads: usize = report
        .accounts
        .iter()
        .map(|a| a.usage.workloads.len())
        .sum();
    let mounting: usize = report.accounts.iter().map(|a| a.usage.mounting()).sum();
    writeln!(
        out,
        "{}: {}, {} ({} the token)",
        style.paint(BOLD, "ServiceAccounts"),
        report.accounts.len(),
        plural(workloads, "workload", "workloads"),
        plural(mounting, "mounts", "mount"),
    )?;
    writeln!(out)?;
    let rows = report
        .accounts
        .iter()
        .map(|row| {
            vec![
                Cell::plain(row.namespace().unwrap_or("-")),
                Cell::plain(row.usage.name.clone()),
                declared_cell(row),
                Cell::plain(automount_text(row)),
                risk_cell(row),
                Cell::plain(format!(
                    "{}/{}",
                    row.usage.mounting(),
                    row.usage.workloads.len()
                )),
            ]
        })
        .collect();
    table(
        out,
        style,
        "",
        &[
            "NAMESPACE",
            "ACCOUNT",
            "DECLARED",
            "AUTOMOUNT",
            "RISK",
            "MOUNTED",
        ],
        rows,
        &[16, 26, 0, 0, 0, 0],
    )?;
    for row in &report.accounts {
        writeln!(out)?;
        write_account(row, out, style)?;
    }
    Ok(())
}

fn write_account(row: &AccountRow, out: &mut dyn Write, style: Style) -> io::Result<()> {
    let kind = if row.usage.computed {
        "ServiceAccount (name computed by the chart)"
    } else {
        "ServiceAccount"
    };
    writeln!(
        out,
        "{} {}",
        style.paint(BOLD, kind),
        style.paint(BOLD, &account_label(row))
    )?;
    match row.declared() {
        Declared::Yes => {
            for (declaration, place) in row.usage.declarations.iter().zip(&row.declared_at) {
                writeln!(
                    out,
                    "  declared in {place} (automountServiceAccountToken: {})",
                    declaration.automount.as_str()
                )?;
            }
        }
        Declared::No => writeln!(
            out,
            "  {}",
            style.paint(MOUNTED, "not declared in the checked files")
        )?,
        Declared::ImplicitDefault => writeln!(
            out,
            "  the namespace's implicit default account (not declared in the checked files)"
        )?,
    }
    write_permissions(row, out, style)?;
    if row.usage.workloads.is_empty() {
        writeln!(out, "  used by no workload in the checked files")?;
        return Ok(());
    }
    let rows = row
        .workloads()
        .map(|(used, place)| {
            vec![
                Cell::plain(workload_label(used)),
                Cell::plain(shorten_left(&place.to_string(), 40)),
                token_cell(used),
                Cell::plain(decided_by(used)),
            ]
        })
        .collect();
    table(
        out,
        style,
        "  ",
        &["WORKLOAD", "WHERE", "TOKEN", "DECIDED BY"],
        rows,
        &[32, 0, 0, 0],
    )
}

/// The account's risk, its bindings (as a table) and the dangerous
/// capabilities they give.
fn write_permissions(row: &AccountRow, out: &mut dyn Write, style: Style) -> io::Result<()> {
    let Some(permissions) = &row.usage.permissions else {
        writeln!(
            out,
            "  bindings: not matched (the chart computes the account's name)"
        )?;
        return Ok(());
    };
    writeln!(
        out,
        "  risk: {}",
        style.paint(risk_sgr(permissions.risk), permissions.risk.as_str())
    )?;
    if !permissions.is_bound() {
        writeln!(
            out,
            "  bindings: none in the checked files (discovery permissions only, unless bindings live elsewhere)"
        )?;
    } else {
        writeln!(out, "  bindings:")?;
        for (grant, (binding_at, role_at)) in row.grants() {
            let place = binding_at
                .as_ref()
                .map_or(String::new(), |p| format!(" ({p})"));
            let role_place = role_at
                .as_ref()
                .map_or(String::new(), |p| format!(" ({p})"));
            let line = format!(
                "{} {}{}{place} → {}{role_place}, {}",
                grant.binding_kind.as_str(),
                grant.binding,
                via_text(grant.via),
                role_text(grant),
                scope_text(&grant.scope)
            );
            let sgr = if grant.role.is_missing() { MOUNTED } else { "" };
            for line in wrap("    ", &line, WIDTH) {
                writeln!(out, "{}", style.paint(sgr, &line))?;
            }
        }
    }
    if row.grants().any(|(g, _)| g.role.is_missing()) {
        writeln!(
            out,
            "  (not found: the role is defined outside the checked files; what it grants is unknown)"
        )?;
    }
    // The dangerous capabilities, by scope, wrapped to the width.
    let mut by_scope: Vec<(Scope, Vec<&'static str>)> = Vec::new();
    for (capability, scope) in permissions.capabilities() {
        match by_scope.iter_mut().find(|(s, _)| *s == scope) {
            Some((_, labels)) => labels.push(capability.label()),
            None => by_scope.push((scope, vec![capability.label()])),
        }
    }
    for (scope, labels) in by_scope {
        let head = format!("  dangerous capabilities ({}): ", scope_text(&scope));
        for line in wrap(&head, &labels.join(", "), WIDTH) {
            writeln!(out, "{}", style.paint(risk_sgr(permissions.risk), &line))?;
        }
    }
    Ok(())
}

/// `text` after `head`, cut at blanks into lines of at most `width`
/// characters; later lines are indented by four blanks more than `head`.
fn wrap(head: &str, text: &str, width: usize) -> Vec<String> {
    let indent = " ".repeat(head.len() - head.trim_start().len() + 4);
    let mut lines = Vec::new();
    let mut line = head.to_string();
    let mut fresh = true;
    for word in text.split(' ') {
        let fits = line.chars().count() + 1 + word.chars().count() <= width;
        if !fresh && !fits {
            lines.push(std::mem::replace(&mut line, indent.clone()));
            fresh = true;
        }
        if !fresh {
            line.push(' ');
        }
        line.push_str(word);
        fresh = false;
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_wrap_at_blanks_within_the_width() {
        let lines = wrap("  caps: ", "aaa, bbb, ccc, ddd", 16);
        assert_eq!(lines, ["  caps: aaa,", "      bbb, ccc,", "      ddd"]);
        assert!(lines.iter().all(|l| l.chars().count() <= 16));
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
        assert_eq!(shorten_left("a/b/c.yaml:3", 8), "….yaml:3");
    }
}
