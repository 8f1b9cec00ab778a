//! A chart as its templates are judged with it: its values and the
//! ServiceAccounts its templates declare. Built from files the embedder
//! reads (the command line from disk, the server from open buffers first).

use std::collections::HashMap;

use super::accounts::{chart_accounts, ChartAccount};
use super::helpers::Helpers;
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
}

impl ChartView {
    /// Whether the accounts were read from this `text` of the template
    /// `file` (a text without `ServiceAccount` declares none either way).
    pub fn read_accounts_of(&self, file: &str, text: &str) -> bool {
        !text.contains("ServiceAccount")
            || self
                .read
                .get(file)
                .is_some_and(|digest| *digest == super::render::digest(text))
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
        for (name, text) in templates {
            accounts.extend(chart_accounts(&name, &text, values.as_ref()));
            if text.contains("ServiceAccount") {
                read.insert(name, super::render::digest(&text));
            }
        }
        Self {
            values,
            accounts,
            helpers: Helpers::default(),
            read,
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
}
