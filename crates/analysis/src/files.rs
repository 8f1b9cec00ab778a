//! What a file is from its name alone, and where a project's configuration
//! file is: one answer for the command line and the server alike. Whether a
//! file exists is the embedder's question (no I/O here): it is asked through
//! the `is_file` callback.

use std::path::{Path, PathBuf};

use crate::config::CONFIG_FILE_NAMES;

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
