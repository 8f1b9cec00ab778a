//! A chart as its templates are judged with it: its values and the
//! ServiceAccounts its templates declare. Built from files the embedder
//! reads (the command line from disk, the server from open buffers first).

use std::collections::HashMap;
use std::sync::Arc;

use super::accounts::{accounts_of_masked, ChartAccount};
use super::helpers::Helpers;
use super::mask::{mask_with, Masked};
use super::values::ValuesFile;

/// What a chart's templates are judged with.
#[derive(Debug, Default)]
pub struct ChartView {
    /// `values.yaml`, when the chart has one.
    pub values: Option<ValuesFile>,
    /// The ServiceAccounts of every template, rendered as the values say.
    pub accounts: Vec<ChartAccount>,
    /// The `define`s of its helper files and templates.
    pub helpers: Helpers,
    /// The digest ([`super::render::digest`]) of each template read for
    /// its accounts, by name: a template judged with the same text need not
    /// be read for them again.
    pub read: HashMap<String, u64>,
    /// The mask ([`mask_with`] with `values`) of each template read for
    /// its accounts, by name: the text `read` has the digest of. A
    /// template judged with that text is not masked again
    /// ([`ChartView::mask_of`]).
    masks: HashMap<String, Arc<Masked>>,
}

impl ChartView {
    /// Whether the accounts were read from this `text` of the template
    /// `file` (a text without `ServiceAccount` declares none either way).
    pub fn read_accounts_of(&self, file: &str, text: &str) -> bool {
        !text.contains("ServiceAccount") || self.read_this(file, text)
    }

    /// Whether the template `file` was read for its accounts with this very
    /// `text`.
    fn read_this(&self, file: &str, text: &str) -> bool {
        self.read
            .get(file)
            .is_some_and(|digest| *digest == super::render::digest(text))
    }

    /// The chart's mask of the template `file`, when it masked this very
    /// `text` (with [`ChartView::values`]) to read its accounts: what
    /// [`mask_with`] makes of `text` with the chart's values.
    pub fn mask_of(&self, file: &str, text: &str) -> Option<Arc<Masked>> {
        let masked = self.masks.get(file)?;
        self.read_this(file, text).then(|| Arc::clone(masked))
    }
}

impl ChartView {
    /// The chart of `values` (`values.yaml` as a [`ValuesFile`], if any)
    /// and `templates` (each template's name and text; those that declare
    /// no ServiceAccount cost a substring search).
    pub fn new(
        values: Option<ValuesFile>,
        templates: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        // (Read on the caller's thread: an embedder may build a chart while
        // holding a lock that work on a shared thread pool could wait for.)
        let mut accounts = Vec::new();
        let mut read = HashMap::new();
        let mut masks = HashMap::new();
        for (name, text) in templates {
            // (As `chart_accounts` reads them, the mask kept.)
            if !text.contains("ServiceAccount") {
                continue;
            }
            let masked = mask_with(&text, values.as_ref());
            let found = crate::service_accounts(&masked.text);
            accounts.extend(accounts_of_masked(
                &name,
                &text,
                &masked,
                values.as_ref(),
                found,
            ));
            read.insert(name.clone(), super::render::digest(&text));
            masks.insert(name, Arc::new(masked));
        }
        Self {
            values,
            accounts,
            helpers: Helpers::default(),
            read,
            masks,
        }
    }

    /// The chart with the helpers `define`d in `files` (name and text:
    /// `_helpers.tpl`, and templates that define some).
    pub fn with_helpers(mut self, files: impl IntoIterator<Item = (String, String)>) -> Self {
        self.helpers = Helpers::new(files);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_follow_the_values() {
        let values = ValuesFile::new("values.yaml", "sa:\n  create: false\n");
        let templates = [
            (
                "templates/sa.yaml".to_string(),
                "{{- if .Values.sa.create }}\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n{{- end }}\n".to_string(),
            ),
            (
                "templates/sa2.yaml".to_string(),
                "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: b\n".to_string(),
            ),
            ("templates/cm.yaml".to_string(), "kind: ConfigMap\n".to_string()),
        ];
        let chart = ChartView::new(Some(values), templates);
        assert_eq!(chart.accounts.len(), 1, "{:?}", chart.accounts);
        assert_eq!(chart.accounts[0].file, "templates/sa2.yaml");
        assert!(chart.values.is_some());
    }

    /// A template that declares an account and runs a pod with it, its
    /// labels in clashing branches (which the values choose between).
    const TEMPLATE: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  labels:\n    {{- if .Values.l }}\n    a: b\n    {{- else }}\n    {}\n    {{- end }}\nautomountServiceAccountToken: {{ .Values.automount }}\n---\napiVersion: apps/v1\nkind: {{ .Values.kind }}\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      serviceAccountName: a\n      containers: []\n";

    fn judged(template: &super::super::Template, chart: &ChartView) -> Vec<crate::Finding> {
        let context = super::super::TemplateContext {
            file: "templates/t.yaml",
            values: chart.values.as_ref(),
            accounts: &chart.accounts,
            helpers: Some(&chart.helpers),
            accounts_read: true,
        };
        super::super::check_template(TEMPLATE, template, &context, &crate::AccountIndex::new())
    }

    #[test]
    fn a_template_judged_with_the_charts_mask_is_judged_as_one_masked_afresh() {
        use super::super::Template;
        let options = crate::Options::builtin();
        for values in [
            "l: true\nautomount: true\nkind: Deployment\n",
            "l: {}\nautomount: false\nkind: Deployment\n",
            "l: true\nautomount: true\n",
        ] {
            let chart = ChartView::new(
                Some(ValuesFile::new("values.yaml", values)),
                [("templates/t.yaml".to_string(), TEMPLATE.to_string())],
            );
            let shared = chart.mask_of("templates/t.yaml", TEMPLATE).expect("kept");
            assert_eq!(
                *shared,
                mask_with(TEMPLATE, chart.values.as_ref()),
                "{values}"
            );
            let fresh = Template::parse(TEMPLATE, chart.values.as_ref(), options);
            let reused =
                Template::parse_with_mask(TEMPLATE, shared, chart.values.as_ref(), options);
            assert_eq!(fresh.masked, reused.masked, "{values}");
            assert_eq!(fresh.parsed.workloads, reused.parsed.workloads, "{values}");
            assert_eq!(fresh.kinds_resolved, reused.kinds_resolved, "{values}");
            assert_eq!(judged(&fresh, &chart), judged(&reused, &chart), "{values}");
            // A kind written into the template's mask is not written into
            // the chart's.
            assert_eq!(
                *chart.mask_of("templates/t.yaml", TEMPLATE).expect("kept"),
                mask_with(TEMPLATE, chart.values.as_ref()),
                "{values}"
            );
        }
    }

    #[test]
    fn a_mask_is_shared_only_for_the_text_and_the_values_it_was_made_with() {
        let chart = |values: &str| {
            ChartView::new(
                Some(ValuesFile::new("values.yaml", values)),
                [
                    ("templates/t.yaml".to_string(), TEMPLATE.to_string()),
                    (
                        "templates/cm.yaml".to_string(),
                        "kind: ConfigMap\n".to_string(),
                    ),
                ],
            )
        };
        let on = chart("l: true\n");
        let off = chart("l: {}\n");
        let (on_mask, off_mask) = (
            on.mask_of("templates/t.yaml", TEMPLATE).expect("kept"),
            off.mask_of("templates/t.yaml", TEMPLATE).expect("kept"),
        );
        // The values chose other branches: each chart has its own mask.
        assert_ne!(on_mask, off_mask);
        assert_eq!(*off_mask, mask_with(TEMPLATE, off.values.as_ref()));
        // Another text of the template, another template, a template that
        // declares no account: none.
        let edited = TEMPLATE.replace("name: web", "name: api");
        assert!(on.mask_of("templates/t.yaml", &edited).is_none());
        assert!(on.mask_of("templates/other.yaml", TEMPLATE).is_none());
        assert!(on
            .mask_of("templates/cm.yaml", "kind: ConfigMap\n")
            .is_none());
    }
}
