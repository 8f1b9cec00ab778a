//! One analysis of one document snapshot, and its translation into LSP
//! diagnostics.

use ropey::Rope;
use serde_json::json;
use tower_lsp_server::ls_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Uri,
};

use tokenguard_analysis::{
    looks_like_kubernetes, parse, AccountAutomount, AccountLookup, Code, Finding, LineIndex,
    ServiceAccount, TextRange,
};

use crate::config::Settings;
use crate::positions::{to_range, Encoding};

pub const SOURCE: &str = "tokenguard";
pub const DOCS_URL: &str = "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting";

/// The analysis of one revision of a document.
#[derive(Debug)]
pub struct Analyzed {
    pub revision: u64,
    pub version: i32,
    pub rope: Rope,
    pub text: String,
    pub line_index: LineIndex,
    /// Empty for YAML that is not Kubernetes.
    pub findings: Vec<Finding>,
    pub accounts: Vec<ServiceAccount>,
}

impl Analyzed {
    pub fn run(revision: u64, version: i32, rope: Rope, workspace: &dyn AccountLookup) -> Self {
        let text = rope.to_string();
        let parsed = parse(&text);
        let findings = if looks_like_kubernetes(&text) {
            tokenguard_analysis::check(&text, &parsed, workspace)
        } else {
            Vec::new()
        };
        Self {
            revision,
            version,
            rope,
            accounts: parsed.accounts,
            line_index: parsed.line_index,
            text,
            findings,
        }
    }

    /// The findings the settings let through.
    pub fn visible<'a>(&'a self, settings: &'a Settings) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings
            .iter()
            .filter(move |f| settings.enable && (f.code != Code::TG000 || settings.syntax_errors))
    }
}

/// Where a ServiceAccount's name is, as an LSP location; `None` when the
/// file's text is not known.
pub type AccountLocator<'a> = dyn Fn(Option<&str>, TextRange) -> Option<Location> + 'a;

pub fn to_diagnostic(
    finding: &Finding,
    analyzed: &Analyzed,
    uri: &Uri,
    settings: &Settings,
    encoding: Encoding,
    locate: &AccountLocator<'_>,
) -> Diagnostic {
    let severity = match finding.code {
        Code::TG000 => DiagnosticSeverity::ERROR,
        Code::TG001 => settings.severity.lsp(),
    };
    let related = finding.account.as_ref().and_then(|check| {
        let found = check.found.as_ref()?;
        let location = locate(found.origin.as_deref(), found.account.name_range).or_else(|| {
            found.origin.is_none().then(|| {
                Location::new(
                    uri.clone(),
                    to_range(&analyzed.rope, found.account.name_range, encoding),
                )
            })
        })?;
        let what = match found.account.automount {
            AccountAutomount::Enabled => "enables automounting",
            AccountAutomount::Invalid => "sets automountServiceAccountToken to a non-boolean",
            _ => "does not disable automounting",
        };
        Some(vec![DiagnosticRelatedInformation {
            location,
            message: format!("ServiceAccount \"{}\" {what}", check.name),
        }])
    });
    let fix = finding.fix.as_ref().map(|fix| {
        json!({
            "title": fix.title,
            "edits": fix.edits.iter().map(|e| json!({
                "range": to_range(&analyzed.rope, e.range, encoding),
                "newText": e.new_text,
            })).collect::<Vec<_>>(),
        })
    });
    Diagnostic {
        range: to_range(&analyzed.rope, finding.range, encoding),
        severity: Some(severity),
        code: Some(NumberOrString::String(finding.code.as_str().to_string())),
        code_description: DOCS_URL.parse().ok().map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_string()),
        message: finding.message.clone(),
        related_information: related,
        tags: None,
        data: Some(json!({ "version": analyzed.version, "fix": fix })),
    }
}
