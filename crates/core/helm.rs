//! Helm charts on disk: which files are templates, where their chart's
//! `values.yaml` is, and the chart's ServiceAccounts. The judging itself is
//! `tokenguard_analysis::helm`'s.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokenguard_analysis::files::{self, FileKind};
use tokenguard_analysis::helm::{self, ChartView, ValuesFile};
use tokenguard_analysis::LineIndex;

use crate::errors::ErrorLog;
use crate::walk::{display_path, is_yaml};

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

/// Whether a folder holds a chart (`Chart.yaml`).
fn is_chart(dir: &Path) -> bool {
    dir.join("Chart.yaml").is_file()
}

/// How the file at `path` (if any) with this text is read.
pub fn classify(path: Option<&Path>, text: &str) -> FileKind {
    files::classify(path, &is_chart, || helm::has_actions(text))
}

/// A chart: what its templates are judged with, and its `values.yaml` as a
/// file fixes may edit.
#[derive(Debug, Default)]
pub struct Chart {
    pub view: ChartView,
    pub values_file: Option<Arc<OtherFile>>,
}

/// The charts of a run, by root folder.
#[derive(Debug, Default)]
pub struct Charts {
    by_root: HashMap<PathBuf, Chart>,
}

impl Charts {
    /// Reads each chart's `values.yaml`, and its ServiceAccounts from every
    /// template under its `templates/` folder (checked or not: a template
    /// checked alone is judged with its whole chart).
    pub fn build(roots: Vec<PathBuf>, log: &mut ErrorLog) -> Self {
        let mut by_root: HashMap<PathBuf, Chart> = HashMap::new();
        for root in roots {
            if by_root.contains_key(&root) {
                continue;
            }
            let chart = read_chart(&root, log);
            by_root.insert(root, chart);
        }
        Self { by_root }
    }

    /// The same charts read again (after `--fix` changed a `values.yaml`).
    pub fn reloaded(&self, log: &mut ErrorLog) -> Self {
        Self::build(self.by_root.keys().cloned().collect(), log)
    }

    pub fn get(&self, root: &Path) -> Option<&Chart> {
        self.by_root.get(root)
    }
}

fn read_chart(root: &Path, log: &mut ErrorLog) -> Chart {
    let path = root.join("values.yaml");
    let mut values = None;
    let mut values_file = None;
    match fs::read_to_string(&path) {
        Ok(text) => {
            let display = display_path(&path);
            values = Some(ValuesFile::new(display.clone(), text.clone()));
            values_file = Some(Arc::new(OtherFile {
                display,
                path,
                line_index: LineIndex::new(&text),
                text,
            }));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => log.warning(format_args!(
            "{}: {}; the chart's templates are checked without their values",
            display_path(&path),
            crate::atomic::describe(&e)
        )),
    }
    // Unreadable templates are reported when they are checked.
    let templates = yaml_files(&root.join("templates"))
        .into_iter()
        .filter_map(|template| {
            let text = fs::read_to_string(&template).ok()?;
            text.contains("ServiceAccount")
                .then(|| (display_path(&template), text))
        });
    Chart {
        view: ChartView::new(values, templates),
        values_file,
    }
}

/// The YAML files under `dir`, without following links, in name order.
/// Every file counts, ignored or hidden: Helm renders them all.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .follow_links(false)
        .build()
        .flatten()
        .filter(|entry| entry.file_type().is_some_and(|t| t.is_file()))
        .map(ignore::DirEntry::into_path)
        .filter(|path| is_yaml(path))
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart_root(path: &Path) -> Option<PathBuf> {
        match classify(Some(path), "") {
            FileKind::ChartTemplate(root) => Some(root),
            _ => None,
        }
    }

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
        assert_eq!(
            classify(None, "a: {{ .Values.a }}\n"),
            FileKind::LooseTemplate
        );
        assert_eq!(classify(None, "a: 1\n"), FileKind::Manifest);
    }
}
