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
        let parsed = crate::parse(&masked.text, options);
        Self { masked, parsed }
    }
}
