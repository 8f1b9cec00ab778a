//! `FilePath`: how the host names a file. A `/`-separated path as the
//! embedder spells it (the command line: the path as shown in its output;
//! an editor: the file's path on disk), or a detached name for text that is
//! in no folder (standard input, an unsaved buffer). No file system here:
//! the path is only text.

use std::fmt;
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FilePath {
    text: String,
    /// In no folder: never a chart template, a kustomization or a patch,
    /// and no configuration is looked for above it.
    detached: bool,
}

impl FilePath {
    /// A file in a folder, `/`-separated.
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            text: path.into(),
            detached: false,
        }
    }

    /// The same from a path of the platform (lossy for non-UTF-8 names).
    pub fn from_path(path: &Path) -> Self {
        Self::new(path.to_string_lossy().into_owned())
    }

    /// Text in no folder, under the name findings give it (`<stdin>`).
    pub fn detached(name: impl Into<String>) -> Self {
        Self {
            text: name.into(),
            detached: true,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The path for the helpers that take a [`Path`] (`None` when detached).
    pub fn as_path(&self) -> Option<&Path> {
        (!self.detached).then(|| Path::new(&self.text))
    }

    pub fn is_detached(&self) -> bool {
        self.detached
    }

    /// The file `name` in this folder.
    pub fn join(&self, name: &str) -> Self {
        Self::from_path(&Path::new(&self.text).join(name))
    }

    /// The folder holding this file (`.` for a bare name; `None` when
    /// detached or at the root).
    pub fn parent(&self) -> Option<Self> {
        let parent = self.as_path()?.parent()?;
        Some(if parent.as_os_str().is_empty() {
            Self::new(".")
        } else {
            Self::from_path(parent)
        })
    }

    /// The last segment.
    pub fn file_name(&self) -> &str {
        self.text.rsplit('/').next().unwrap_or(&self.text)
    }

    /// Whether this path is `folder` or inside it (by segments, lexically).
    pub fn is_within(&self, folder: &FilePath) -> bool {
        if self.detached || folder.detached {
            return false;
        }
        let folder = folder.text.trim_end_matches('/');
        folder == "." && !self.text.starts_with('/')
            || self.text == folder
            || self
                .text
                .strip_prefix(folder)
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

impl fmt::Display for FilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_and_names() {
        let file = FilePath::new("k8s/app/deploy.yaml");
        assert_eq!(file.parent(), Some(FilePath::new("k8s/app")));
        assert_eq!(file.file_name(), "deploy.yaml");
        assert_eq!(FilePath::new("a.yaml").parent(), Some(FilePath::new(".")));
        assert_eq!(FilePath::detached("<stdin>").parent(), None);
        assert!(file.is_within(&FilePath::new("k8s")));
        assert!(file.is_within(&FilePath::new("k8s/")));
        assert!(!file.is_within(&FilePath::new("k8")));
        assert!(file.is_within(&FilePath::new(".")));
        assert!(!FilePath::detached("k8s/x").is_within(&FilePath::new("k8s")));
        assert_eq!(
            FilePath::new("chart").join("values.yaml"),
            FilePath::new("chart/values.yaml")
        );
    }
}
