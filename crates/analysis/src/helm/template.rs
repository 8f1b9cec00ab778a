//! A Helm template, masked so that it parses as YAML with every position
//! unchanged, and parsed.

use std::sync::Arc;

use super::mask::{mask_with, Masked};
use super::resolve::resolve_kinds;
use super::values::ValuesFile;
use crate::ParsedFile;

/// A template, masked and parsed.
#[derive(Clone, Debug, Default)]
pub struct Template {
    /// Shared with the chart when the chart masked this very text with the
    /// same values to read its ServiceAccounts ([`super::ChartView`]).
    pub masked: Arc<Masked>,
    /// The masked text parsed: its ranges are the template's.
    pub parsed: ParsedFile,
    /// Workloads whose whole pod spec a helper renders (`spec:` empty but
    /// for an `include`), as (index into `parsed.documents`, workload):
    /// not among `parsed.workloads`, judged from the helper.
    pub helper_pod_specs: Vec<(usize, crate::Workload)>,
    /// Whether `kind: {{ … }}` placeholders were written over with the
    /// kinds `values` gives (else `masked` is exactly what
    /// [`mask_with`] makes of the text with those values, and the
    /// template's own ServiceAccounts can be read from it).
    pub(crate) kinds_resolved: bool,
    /// Which values it was masked with (see [`ValuesIdentity`]).
    pub(crate) masked_with: Option<ValuesIdentity>,
    /// Whether `parsed.accounts` are exactly the ServiceAccounts
    /// [`crate::service_accounts`] reads from `masked.text`: every document
    /// that may declare one was read (no syntax error) and no workload kind
    /// of the options is named `ServiceAccount`.
    pub(crate) accounts_complete: bool,
}

/// Which [`ValuesFile`] a template was masked with: its address and its
/// text's. A template judged with the very values it was parsed with reads
/// its own ServiceAccounts from its mask instead of masking again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ValuesIdentity(usize, usize, usize);

impl ValuesIdentity {
    pub(crate) fn of(values: Option<&ValuesFile>) -> Option<Self> {
        values.map(|v| {
            ValuesIdentity(
                v as *const ValuesFile as usize,
                v.text.as_ptr() as usize,
                v.text.len(),
            )
        })
    }
}

impl Template {
    /// The mask of the text with `values`, as [`mask_with`] makes it, when
    /// this template holds it.
    pub(crate) fn mask_for(&self, values: Option<&ValuesFile>) -> Option<&Masked> {
        (!self.kinds_resolved && self.masked_with == ValuesIdentity::of(values))
            .then_some(&*self.masked)
    }
}

impl Template {
    /// Masks and parses a template: `kind: {{ .Values.x }}` is read as the
    /// kind `values` gives (when its name fits in the action's place), and
    /// the workload kinds and ignored objects are `options`'
    /// ([`crate::Options::builtin`] without a project).
    pub fn parse(text: &str, values: Option<&ValuesFile>, options: &crate::Options) -> Self {
        Self::parse_with_mask(text, Arc::new(mask_with(text, values)), values, options)
    }

    /// [`Template::parse`] of a text already masked: `masked` must be what
    /// [`mask_with`] makes of `text` with `values` (the chart's mask of a
    /// template it read for its ServiceAccounts: [`super::ChartView::mask_of`]).
    pub(crate) fn parse_with_mask(
        text: &str,
        masked: Arc<Masked>,
        values: Option<&ValuesFile>,
        options: &crate::Options,
    ) -> Self {
        let mut masked = masked;
        let kinds_resolved = values.is_some_and(|values| resolve_kinds(text, &mut masked, values));
        let parsed = crate::parse_masked(&masked.text, options);
        let accounts_complete =
            parsed.syntax_errors.is_empty() && !options.kinds.has_kind_named("ServiceAccount");
        let helper_pod_specs = super::helpers::helper_pod_specs(text, &masked, &parsed, options);
        Self {
            masked,
            parsed,
            helper_pod_specs,
            kinds_resolved,
            masked_with: ValuesIdentity::of(values),
            accounts_complete,
        }
    }
}
