//! The one Helm path: what a chart's templates are judged with, read
//! through the [`FileSource`]. A chart is its folder (holding
//! `Chart.yaml`), its `values.yaml` and the ServiceAccounts its templates
//! declare (every YAML file under `templates/`, checked or not: a template
//! checked alone is judged with its whole chart).

use std::path::Path;

use super::path::FilePath;
use super::source::{FileSource, Need};
use crate::files::{self, FileKind};
use crate::helm::{self, ChartView, ValuesFile};

/// Whether `dir` holds a chart.
pub(crate) fn is_chart(source: &dyn FileSource, dir: &Path) -> bool {
    source.is_file(&FilePath::from_path(&dir.join("Chart.yaml")))
}

/// How the file at `path` with this text is read (`files::classify`, with
/// `Chart.yaml` looked up through the source).
pub(crate) fn classify(source: &dyn FileSource, path: &FilePath, text: &str) -> FileKind {
    files::classify(path.as_path(), &|dir| is_chart(source, dir), || {
        helm::has_actions(text)
    })
}

/// The chart whose `values.yaml` `path` is.
pub(crate) fn values_chart(source: &dyn FileSource, path: &FilePath) -> Option<FilePath> {
    let root = helm::values_chart(path.as_path()?, &|dir| is_chart(source, dir))?;
    Some(FilePath::from_path(&root))
}

/// Reads the chart at `root`; `text_of` gives a file's current text (what
/// the host was fed, else the source's).
pub(crate) fn read_chart(
    root: &FilePath,
    source: &dyn FileSource,
    text_of: &dyn Fn(&FilePath, Need) -> Option<String>,
) -> ChartView {
    let values_path = root.join("values.yaml");
    let values = text_of(&values_path, Need::ChartValues)
        .map(|text| ValuesFile::new(values_path.as_str(), text));
    let mut defining = Vec::new();
    let mut templates = Vec::new();
    for template in source.list_yaml(&root.join("templates")) {
        let Some(text) = text_of(&template, Need::ChartTemplate) else {
            continue;
        };
        if text.contains("define") {
            defining.push((template.as_str().to_string(), text.clone()));
        }
        if text.contains("ServiceAccount") {
            templates.push((template.as_str().to_string(), text));
        }
    }
    // Helpers are in `templates/_helpers.tpl` by convention (the source
    // lists YAML files only; other `*.tpl` files are not read yet).
    let helpers_path = root.join("templates/_helpers.tpl");
    if let Some(text) = text_of(&helpers_path, Need::ChartTemplate) {
        defining.insert(0, (helpers_path.as_str().to_string(), text));
    }
    ChartView::new(values, templates).with_helpers(defining)
}
