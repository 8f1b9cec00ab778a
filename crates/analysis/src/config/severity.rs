//! TG001's severity by the risk of the pod's account (`[severity_by_risk]`
//! in `tokenguard.toml`, `tokenguard.severityByRisk` in the editors).
//!
//! ```toml
//! severity = "warning"              # every TG001 the table below does not decide
//!
//! [severity_by_risk]                # keys: the risk names of `rbac::Risk::as_str`
//! cluster-admin = "error"
//! dangerous-cluster-wide = "error"
//! discovery-only = "information"
//! ```
//!
//! THE rule (one for the command line and the editor), for a TG001 finding
//! whose account has the risk R: the table's entry for R when the
//! configuration sets one; else the built-in entry for R (`error` for
//! `cluster-admin` and `dangerous-cluster-wide`, none for the others); else
//! the plain `severity` (default `warning`). A finding whose permissions are
//! not known (made without the host) gets the plain `severity`.
//!
//! So a project that only sets `severity = "hint"` still gets an error on a
//! pod whose token controls the cluster; to lower that too, it says so with
//! `cluster-admin = "hint"`.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::{error_at, parse_severity, ConfigError};
use crate::finding::Severity;

/// The risk names, most dangerous first (`rbac::Risk::as_str`).
pub const RISK_NAMES: [&str; 6] = [
    "cluster-admin",
    "dangerous-cluster-wide",
    "dangerous-in-namespace",
    "bound",
    "unknown",
    "discovery-only",
];

/// The built-in entry of a risk: an error where the token holds a dangerous
/// capability cluster-wide (cluster-admin included), nothing otherwise (the
/// plain `severity` decides).
pub fn builtin_severity(risk: &str) -> Option<Severity> {
    match risk {
        "cluster-admin" | "dangerous-cluster-wide" => Some(Severity::Error),
        _ => None,
    }
}

/// The entries a configuration (or an editor) sets, by risk name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeverityByRisk {
    entries: BTreeMap<&'static str, Severity>,
}

impl SeverityByRisk {
    /// The entry set for `risk`, if any.
    pub fn get(&self, risk: &str) -> Option<Severity> {
        self.entries.get(risk).copied()
    }

    /// Sets the entry of `risk`; `Err` when the name is not a risk.
    pub fn set(&mut self, risk: &str, severity: Severity) -> Result<(), String> {
        let name = known_risk(risk).ok_or_else(|| unknown_risk(risk))?;
        self.entries.insert(name, severity);
        Ok(())
    }

    /// Whether no entry is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries set, most dangerous risk first.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Severity)> + '_ {
        RISK_NAMES
            .iter()
            .filter_map(|name| Some((*name, self.get(name)?)))
    }

    /// These entries, with those of `over` taking their place where it sets
    /// one (a project file over the editor's settings).
    pub fn overridden_by(&self, over: &SeverityByRisk) -> SeverityByRisk {
        let mut merged = self.clone();
        merged.entries.extend(over.entries.iter());
        merged
    }

    /// THE rule: TG001's severity for an account of `risk` (`None`: its
    /// permissions are not known), `plain` being the plain `severity`.
    pub fn severity(&self, risk: Option<&str>, plain: Severity) -> Severity {
        let Some(risk) = risk else {
            return plain;
        };
        self.get(risk)
            .or_else(|| builtin_severity(risk))
            .unwrap_or(plain)
    }
}

fn known_risk(name: &str) -> Option<&'static str> {
    RISK_NAMES.iter().copied().find(|known| *known == name)
}

fn unknown_risk(name: &str) -> String {
    format!(
        "{name:?} is not a risk: use {}",
        RISK_NAMES
            .iter()
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// `[severity_by_risk]` as written.
#[derive(Deserialize, Default)]
#[serde(transparent)]
pub(super) struct RawSeverityByRisk(BTreeMap<Spanned<String>, Spanned<String>>);

/// Reads `[severity_by_risk]`: an unknown risk is an error on its key, an
/// unknown severity on its value.
pub(super) fn read(raw: RawSeverityByRisk) -> Result<SeverityByRisk, ConfigError> {
    let mut table = SeverityByRisk::default();
    for (key, value) in &raw.0 {
        let severity = parse_severity(value.get_ref()).ok_or_else(|| {
            error_at(
                value,
                format!(
                    "severity {:?} is not one of error, warning, information, hint",
                    value.get_ref()
                ),
            )
        })?;
        table
            .set(key.get_ref(), severity)
            .map_err(|message| error_at(key, format!("in [severity_by_risk]: {message}")))?;
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_wins_then_the_builtin_entry_then_the_plain_severity() {
        let mut table = SeverityByRisk::default();
        // Nothing set: errors cluster-wide, the plain severity elsewhere.
        for (risk, expected) in [
            ("cluster-admin", Severity::Error),
            ("dangerous-cluster-wide", Severity::Error),
            ("dangerous-in-namespace", Severity::Hint),
            ("bound", Severity::Hint),
            ("unknown", Severity::Hint),
            ("discovery-only", Severity::Hint),
        ] {
            assert_eq!(
                table.severity(Some(risk), Severity::Hint),
                expected,
                "{risk}"
            );
        }
        assert_eq!(table.severity(None, Severity::Hint), Severity::Hint);
        table.set("cluster-admin", Severity::Warning).unwrap();
        table.set("bound", Severity::Information).unwrap();
        assert_eq!(
            table.severity(Some("cluster-admin"), Severity::Hint),
            Severity::Warning
        );
        assert_eq!(
            table.severity(Some("bound"), Severity::Error),
            Severity::Information
        );
        assert_eq!(
            table.severity(Some("dangerous-cluster-wide"), Severity::Hint),
            Severity::Error
        );
        assert!(table.set("admin", Severity::Error).is_err());
    }

    #[test]
    fn a_later_table_wins_entry_by_entry() {
        let mut editor = SeverityByRisk::default();
        editor.set("bound", Severity::Error).unwrap();
        editor.set("unknown", Severity::Error).unwrap();
        let mut project = SeverityByRisk::default();
        project.set("bound", Severity::Hint).unwrap();
        let merged = editor.overridden_by(&project);
        assert_eq!(merged.get("bound"), Some(Severity::Hint));
        assert_eq!(merged.get("unknown"), Some(Severity::Error));
        assert_eq!(
            merged.iter().collect::<Vec<_>>(),
            [("bound", Severity::Hint), ("unknown", Severity::Error)]
        );
    }
}
