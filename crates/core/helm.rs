//! Helm charts on disk: which files are templates, where their chart's
//! `values.yaml` is, and the chart's ServiceAccounts. The judging itself is
//! `tokenguard_analysis::helm`'s.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokenguard_analysis::helm::{self, ChartAccount, ValuesFile};
use tokenguard_analysis::LineIndex;

use crate::errors::ErrorLog;
use crate::walk::display_path;

/// A file other than the checked one that findings point into or fix: a
/// chart's `values.yaml`, as it was read.
#[derive(Debug)]
pub struct OtherFile {
    pub display: String,
    pub path: PathBuf,
    pub text: String,
    pub line_index: LineIndex,
}

impl OtherFile {
    /// 0-based line and character column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        self.line_index.line_col_chars(&self.text, offset)
    }
}

/// How a file is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Template {
    /// Plain YAML.
    No,
    /// A template of the chart rooted at this folder.
    InChart(PathBuf),
    /// Holds template actions but belongs to no chart found.
    Loose,
}

/// The chart folder of a file under its `templates/` folder: the nearest
/// folder above the file that holds a `Chart.yaml`.
pub fn chart_root(path: &Path) -> Option<PathBuf> {
    helm::chart_root(path, &|dir| dir.join("Chart.yaml").is_file())
}

/// Whether `text` (of the file at `path`, if any) is read as a template.
pub fn classify(path: Option<&Path>, text: &str) -> Template {
    if let Some(root) = path.and_then(chart_root) {
        return Template::InChart(root);
    }
    if helm::has_actions(text) {
        Template::Loose
    } else {
        Template::No
    }
}

/// A chart: its values and its ServiceAccount templates.
#[derive(Debug, Default)]
pub struct Chart {
    pub values: Option<ValuesFile>,
    pub values_file: Option<Arc<OtherFile>>,
    pub accounts: Vec<ChartAccount>,
}

/// The charts of a run, by root folder.
#[derive(Debug, Default)]
pub struct Charts {
    by_root: HashMap<PathBuf, Chart>,
    /// What the accounts were read from, to read them again.
    templates: Vec<(String, PathBuf, String)>,
}

impl Charts {
    /// Reads each chart's `values.yaml`, then its ServiceAccounts from
    /// `templates` (display name, chart root, text of templates that mention
    /// `ServiceAccount`).
    pub fn build(
        roots: Vec<PathBuf>,
        templates: Vec<(String, PathBuf, String)>,
        log: &mut ErrorLog,
    ) -> Self {
        let mut by_root: HashMap<PathBuf, Chart> = HashMap::new();
        for root in roots {
            if by_root.contains_key(&root) {
                continue;
            }
            let path = root.join("values.yaml");
            let mut chart = Chart::default();
            match fs::read_to_string(&path) {
                Ok(text) => {
                    let display = display_path(&path);
                    chart.values = Some(ValuesFile::new(display.clone(), text.clone()));
                    chart.values_file = Some(Arc::new(OtherFile {
                        display,
                        path,
                        line_index: LineIndex::new(&text),
                        text,
                    }));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => log.warning(format_args!(
                    "{}: {e}; the chart's templates are checked without their values",
                    path.display()
                )),
            }
            by_root.insert(root, chart);
        }
        for (display, root, text) in &templates {
            if let Some(chart) = by_root.get_mut(root) {
                let accounts = helm::chart_accounts(display, text, chart.values.as_ref());
                chart.accounts.extend(accounts);
            }
        }
        Self { by_root, templates }
    }

    /// The same charts with their `values.yaml` read again (after `--fix`
    /// changed them).
    pub fn reloaded(&self, log: &mut ErrorLog) -> Self {
        Self::build(
            self.by_root.keys().cloned().collect(),
            self.templates.clone(),
            log,
        )
    }

    pub fn get(&self, root: &Path) -> Option<&Chart> {
        self.by_root.get(root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_found_under_the_charts_templates_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let chart = dir.path().join("demo");
        fs::create_dir_all(chart.join("templates/sub")).expect("dirs");
        fs::write(chart.join("Chart.yaml"), "name: demo\n").expect("chart");
        assert_eq!(
            chart_root(&chart.join("templates/deployment.yaml")),
            Some(chart.clone())
        );
        assert_eq!(
            chart_root(&chart.join("templates/sub/job.yaml")),
            Some(chart.clone())
        );
        assert_eq!(chart_root(&chart.join("values.yaml")), None);
        assert_eq!(chart_root(&dir.path().join("other.yaml")), None);
        assert_eq!(classify(None, "a: {{ .Values.a }}\n"), Template::Loose);
        assert_eq!(classify(None, "a: 1\n"), Template::No);
    }
}
