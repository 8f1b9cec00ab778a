//! What the analysis reports.

use crate::accounts::FoundAccount;
use crate::fix::Fix;
use crate::text::TextRange;
use crate::value::ValueType;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// The document is not valid YAML (or is nested too deeply).
    TG000,
    /// A pod spec leaves the service-account token mounted.
    TG001,
}

impl Code {
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::TG000 => "TG000",
            Code::TG001 => "TG001",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    /// Only a project configuration lowers TG001 to these two.
    Information,
    Hint,
}

impl Severity {
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
            Severity::Hint => "hint",
        }
    }
}

/// Which row of the decision table a finding comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// No `automountServiceAccountToken` and no ServiceAccount disabling it.
    Missing,
    /// The key is present with a null value.
    Null,
    /// `automountServiceAccountToken: true`.
    ExplicitTrue,
    /// A value Kubernetes does not decode as a boolean.
    NotBoolean(ValueType),
    /// TG000.
    Syntax,
}

/// The object a finding is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadRef {
    pub kind: String,
    pub name: Option<String>,
    pub namespace: Option<String>,
}

impl WorkloadRef {
    /// `Deployment "api"`.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{} \"{name}\"", self.kind),
            None => format!("{} (unnamed)", self.kind),
        }
    }
}

/// The ServiceAccount consulted for a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountCheck {
    pub name: String,
    pub namespace: Option<String>,
    pub found: Option<FoundAccount>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    /// Where to report: the pod spec's `spec` key, the wrong value, or the
    /// key with a null value; the parser's location for TG000.
    pub range: TextRange,
    pub message: String,
    pub problem: Problem,
    pub workload: Option<WorkloadRef>,
    pub account: Option<AccountCheck>,
    pub fix: Option<Fix>,
    /// Other places that explain the finding, such as the line of a Helm
    /// chart's `values.yaml` that a template value comes from.
    pub related: Vec<Related>,
}

/// A place that explains a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    /// The file, as the caller names files (the identity given with its
    /// text); `None` for the finding's own file.
    pub file: Option<String>,
    pub range: TextRange,
    pub message: String,
}

impl Finding {
    /// The same finding in a text where its document starts `by` bytes later.
    pub fn shifted(&self, by: usize) -> Finding {
        let mut moved = self.clone();
        moved.range = moved.range.shifted(by as isize);
        for related in moved.related.iter_mut().filter(|r| r.file.is_none()) {
            related.range = related.range.shifted(by as isize);
        }
        if let Some(fix) = moved.fix.as_mut().filter(|fix| fix.file.is_none()) {
            for edit in &mut fix.edits {
                edit.range = edit.range.shifted(by as isize);
            }
        }
        moved
    }
}
