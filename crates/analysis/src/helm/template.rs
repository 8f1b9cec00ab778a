//! A Helm template, masked so that it parses as YAML with every position
//! unchanged, and parsed.

use super::mask::{mask_with, Masked};
use super::resolve::resolve_kinds;
use super::values::ValuesFile;
use crate::ParsedFile;

/// A template, masked and parsed.
#[derive(Clone, Debug, Default)]
pub struct Template {
    pub masked: Masked,
    /// The masked text parsed: its ranges are the template's.
    pub parsed: ParsedFile,
    /// Workloads whose whole pod spec a helper renders (`spec:` empty but
    /// for an `include`), as (index into `parsed.documents`, workload):
    /// not among `parsed.workloads`, judged from the helper.
    pub helper_pod_specs: Vec<(usize, crate::Workload)>,
}

impl Template {
    /// Masks and parses a template: `kind: {{ .Values.x }}` is read as the
    /// kind `values` gives (when its name fits in the action's place), and
    /// the workload kinds and ignored objects are `options`'
    /// ([`crate::Options::builtin`] without a project).
    pub fn parse(text: &str, values: Option<&ValuesFile>, options: &crate::Options) -> Self {
        let mut masked = mask_with(text, values);
        if let Some(values) = values {
            resolve_kinds(text, &mut masked, values);
        }
        let parsed = crate::parse_masked(&masked.text, options);
        let helper_pod_specs = super::helpers::helper_pod_specs(text, &masked, &parsed, options);
        Self {
            masked,
            parsed,
            helper_pod_specs,
        }
    }
}
