//! Helm chart templates in the editor: which documents are templates, and
//! the chart (values and ServiceAccounts) they are judged with, read from
//! open buffers first and the disk otherwise. A template is analysed whole
//! at each revision (it is small); the judging is the analysis crate's.

use std::path::{Path, PathBuf};

use ropey::Rope;
use tower_lsp_server::ls_types::Uri;

use tokenguard_analysis::helm::{self, ChartAccount, Template, TemplateContext, ValuesFile};
use tokenguard_analysis::{AccountLookup, Finding, Options};

use crate::workspace;

/// How the server reads a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Plain YAML: the incremental analysis.
    Yaml,
    /// `_helpers.tpl`, `NOTES.txt`: not YAML, never analysed.
    Helper,
    /// A template of the chart at this folder.
    InChart(PathBuf),
    /// Template actions outside any chart found.
    Loose,
}

fn is_chart(dir: &Path) -> bool {
    dir.join("Chart.yaml").is_file()
}

pub fn kind(uri: &Uri, rope: &Rope) -> Kind {
    let path = uri.to_file_path();
    if let Some(path) = &path {
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(helm::is_helper_file)
        {
            return Kind::Helper;
        }
        if let Some(root) = helm::chart_root(path, &is_chart) {
            return Kind::InChart(root);
        }
    }
    if has_actions(rope) {
        Kind::Loose
    } else {
        Kind::Yaml
    }
}

/// A template action in the rope; the whole text is read only when some
/// `{{` is there (also across the rope's chunk boundaries).
fn has_actions(rope: &Rope) -> bool {
    let mut previous_brace = false;
    for chunk in rope.chunks() {
        if (previous_brace && chunk.starts_with('{')) || chunk.contains("{{") {
            return helm::has_actions(&rope.to_string());
        }
        previous_brace = chunk.ends_with('{');
    }
    false
}

/// The chart a `values.yaml` belongs to, or a template's chart: the charts
/// whose open templates must be judged again when `uri` changes.
pub fn affected_chart(uri: &Uri) -> Option<PathBuf> {
    let path = uri.to_file_path()?;
    helm::values_chart(&path, &is_chart).or_else(|| helm::chart_root(&path, &is_chart))
}

/// A chart as the editor sees it now.
#[derive(Debug, Default)]
pub struct ChartView {
    pub values: Option<ValuesFile>,
    pub accounts: Vec<ChartAccount>,
}

/// Reads the chart at `root`: `read` gives a file's text (the open buffer
/// if there is one). Files are named by their URI strings.
pub fn chart_view(root: &Path, read: &dyn Fn(&Path) -> Option<String>) -> ChartView {
    let values_path = root.join("values.yaml");
    let values = read(&values_path)
        .zip(Uri::from_file_path(&values_path))
        .map(|(text, uri)| ValuesFile::new(uri.as_str(), text));
    let mut accounts = Vec::new();
    for path in workspace::yaml_files(&root.join("templates")) {
        let Some(text) = read(&path).filter(|t| t.contains("ServiceAccount")) else {
            continue;
        };
        let Some(uri) = Uri::from_file_path(&path) else {
            continue;
        };
        accounts.extend(helm::chart_accounts(uri.as_str(), &text, values.as_ref()));
    }
    ChartView { values, accounts }
}

/// The findings of a template.
pub fn check(
    text: &str,
    uri: &Uri,
    chart: Option<&ChartView>,
    workspace: &dyn AccountLookup,
    options: &Options,
) -> Vec<Finding> {
    let context = TemplateContext {
        file: uri.as_str(),
        values: chart.and_then(|c| c.values.as_ref()),
        accounts: chart.map_or(&[], |c| c.accounts.as_slice()),
    };
    let template = Template::parse_with_options(text, context.values, options);
    helm::check_template(text, &template, &context, workspace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_found_across_chunks() {
        let long = format!("{}{{{{ .Values.a }}}}", "a: b\n".repeat(2000));
        assert!(has_actions(&Rope::from_str(&long)));
        assert!(!has_actions(&Rope::from_str(&"a: {b}\n".repeat(2000))));
    }
}
