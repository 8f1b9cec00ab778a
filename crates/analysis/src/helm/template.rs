//! A Helm template, masked so that it parses as YAML with every position
//! unchanged, and parsed.

use super::mask::{mask, Masked};
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
    pub fn parse(text: &str) -> Self {
        Self::parse_with(text, None)
    }

    /// [`Template::parse`], with `kind: {{ .Values.x }}` read as the kind
    /// `values` gives (when its name fits in the action's place).
    pub fn parse_with(text: &str, values: Option<&ValuesFile>) -> Self {
        Self::parse_with_options(text, values, &crate::Options::default())
    }

    /// [`Template::parse_with`] with a project's workload kinds and ignored
    /// objects.
    pub fn parse_with_options(
        text: &str,
        values: Option<&ValuesFile>,
        options: &crate::Options,
    ) -> Self {
        let mut masked = mask(text);
        if let Some(values) = values {
            resolve_kinds(text, &mut masked, values);
        }
        let parsed = crate::parse(&masked.text, options);
        Self { masked, parsed }
    }
}
