//! What a file is from its name alone, and where a project's configuration
//! file is: one answer for the command line and the server alike. Whether a
//! file exists is the embedder's question (no I/O here): it is asked through
//! the `is_file` callback.

use std::path::{Path, PathBuf};

use crate::config::CONFIG_FILE_NAMES;
use crate::helm;

/// How a file is read: one classification for the command line and the
/// server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// Plain YAML manifests.
    Manifest,
    /// A Helm helper or notes file (`_helpers.tpl`, `NOTES.txt`): Go
    /// templates, not YAML; never analysed.
    ChartHelper,
    /// A template of the chart whose folder (holding `Chart.yaml`) this is.
    ChartTemplate(PathBuf),
    /// Holds Go template actions but belongs to no chart found.
    LooseTemplate,
}

/// How to read the file at `path` (none for standard input or an unsaved
/// buffer). `is_chart` says whether a folder holds a `Chart.yaml` (the
/// embedder looks); `has_actions` whether the text holds template actions,
/// asked only when the path does not decide.
pub fn classify(
    path: Option<&Path>,
    is_chart: &dyn Fn(&Path) -> bool,
    has_actions: impl FnOnce() -> bool,
) -> FileKind {
    if let Some(path) = path {
        let name = path.file_name().and_then(|n| n.to_str());
        if name.is_some_and(helm::is_helper_file) {
            return FileKind::ChartHelper;
        }
        if let Some(root) = helm::chart_root(path, is_chart) {
            return FileKind::ChartTemplate(root);
        }
    }
    if has_actions() {
        FileKind::LooseTemplate
    } else {
        FileKind::Manifest
    }
}

/// Folders a search for manifests never enters, in the command line's walk
/// and the editor's index alike: version control, and package managers'
/// trees (whose YAML is other projects' test data). A file named explicitly
/// is still checked.
pub const SKIPPED_FOLDERS: &[&str] = &[".git", "node_modules"];

/// Whether a folder of this name is never searched (see [`SKIPPED_FOLDERS`]).
pub fn is_skipped_folder(name: &std::ffi::OsStr) -> bool {
    SKIPPED_FOLDERS.iter().any(|skipped| name == *skipped)
}

/// Whether a path names a YAML file (`*.yaml` or `*.yml`, any case): the
/// files a folder is searched for.
pub fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// Whether a path names a project configuration file (`tokenguard.toml`,
/// `.tokenguard.toml`).
pub fn is_config_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| CONFIG_FILE_NAMES.contains(&n))
}

/// The configuration file that governs `from`: in `from` or the nearest
/// folder above it that has one, under the first name of
/// [`CONFIG_FILE_NAMES`] present there.
pub fn find_config(from: &Path, is_file: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    from.ancestors().find_map(|dir| {
        CONFIG_FILE_NAMES
            .iter()
            .map(|name| dir.join(name))
            .find(|candidate| is_file(candidate))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_extensions_in_any_case() {
        assert!(is_yaml(Path::new("a.yaml")));
        assert!(is_yaml(Path::new("a.YML")));
        assert!(!is_yaml(Path::new("a.json")));
        assert!(!is_yaml(Path::new("yaml")));
    }

    #[test]
    fn version_control_and_package_trees_are_skipped() {
        use std::ffi::OsStr;
        assert!(is_skipped_folder(OsStr::new(".git")));
        assert!(is_skipped_folder(OsStr::new("node_modules")));
        assert!(!is_skipped_folder(OsStr::new(".github")));
        assert!(!is_skipped_folder(OsStr::new("k8s")));
    }

    #[test]
    fn files_are_told_apart_by_path_then_by_their_text() {
        let chart = |dir: &Path| dir == Path::new("/c");
        let template = Path::new("/c/templates/deploy.yaml");
        assert_eq!(
            classify(Some(template), &chart, || false),
            FileKind::ChartTemplate(PathBuf::from("/c"))
        );
        assert_eq!(
            classify(Some(Path::new("/c/templates/_helpers.tpl")), &chart, || {
                true
            }),
            FileKind::ChartHelper
        );
        let loose = Path::new("/x/a.yaml");
        assert_eq!(
            classify(Some(loose), &chart, || true),
            FileKind::LooseTemplate
        );
        assert_eq!(classify(Some(loose), &chart, || false), FileKind::Manifest);
        assert_eq!(classify(None, &chart, || false), FileKind::Manifest);
        // A chart's values file is not a template.
        assert_eq!(
            classify(Some(Path::new("/c/values.yaml")), &chart, || false),
            FileKind::Manifest
        );
    }

    #[test]
    fn configuration_file_names() {
        assert!(is_config_file(Path::new("/r/tokenguard.toml")));
        assert!(is_config_file(Path::new(".tokenguard.toml")));
        assert!(!is_config_file(Path::new("/r/tokenguard.yaml")));
    }

    #[test]
    fn the_nearest_folder_wins_and_the_plain_name_before_the_dotted_one() {
        let present = |files: &'static [&'static str]| {
            move |p: &Path| files.iter().any(|f| Path::new(f) == p)
        };
        let deep = Path::new("/r/a/b");
        assert_eq!(find_config(deep, present(&[])), None);
        assert_eq!(
            find_config(deep, present(&["/r/.tokenguard.toml"])),
            Some(PathBuf::from("/r/.tokenguard.toml"))
        );
        assert_eq!(
            find_config(
                deep,
                present(&["/r/.tokenguard.toml", "/r/tokenguard.toml"])
            ),
            Some(PathBuf::from("/r/tokenguard.toml"))
        );
        assert_eq!(
            find_config(
                deep,
                present(&["/r/tokenguard.toml", "/r/a/.tokenguard.toml"])
            ),
            Some(PathBuf::from("/r/a/.tokenguard.toml"))
        );
    }
}
