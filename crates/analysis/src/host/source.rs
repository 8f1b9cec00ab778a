//! `FileSource`: the one way the host asks its embedder for a file it was
//! not given (a chart's `values.yaml` and templates, a kustomization and
//! its patches, a configuration file). The embedder decides what "the
//! file" is: the disk (the command line), or an open buffer first and the
//! disk inside the workspace otherwise (an editor).

use super::lines::{lines_in, LineAt};
use super::path::FilePath;

/// Why the host asks for a file's text: the embedder may say a failure in
/// its own words (a chart without `values.yaml` is normal; a patch file a
/// kustomization names but that is missing deserves a warning).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// A chart's `values.yaml` (often absent).
    ChartValues,
    /// A template of a chart, for the ServiceAccounts it declares.
    ChartTemplate,
    /// A kustomization of a folder the host was fed a file of, or one it
    /// includes.
    Kustomization,
    /// A patch file a kustomization names.
    Patch,
    /// A file the host was fed without keeping its text, to judge it.
    FedFile,
}

pub trait FileSource: Sync {
    /// The text of a file, or `None` when it cannot be had (missing,
    /// unreadable, too large: the embedder says why to its user, if `need`
    /// calls for it).
    fn read(&self, path: &FilePath, need: Need) -> Option<String>;

    /// Whether a regular file is there.
    fn is_file(&self, path: &FilePath) -> bool;

    /// Every YAML file (`*.yaml`, `*.yml`) under the folder, at any depth,
    /// without following links, in name order (a chart's templates: Helm
    /// renders them all, hidden or ignored ones too).
    fn list_yaml(&self, dir: &FilePath) -> Vec<FilePath>;

    /// The line holding each of `offsets` of a file (`None` past its end),
    /// or `None` when the file cannot be had. By default the text is read
    /// whole; an embedder that keeps the file with a line index (an
    /// editor's open buffer) answers without copying it.
    fn lines_at(
        &self,
        path: &FilePath,
        offsets: &[usize],
        need: Need,
    ) -> Option<Vec<Option<LineAt>>> {
        Some(lines_in(&self.read(path, need)?, offsets))
    }
}

/// A source with no files: everything the host needs must be fed to it.
pub struct NoFiles;

impl FileSource for NoFiles {
    fn read(&self, _: &FilePath, _: Need) -> Option<String> {
        None
    }

    fn is_file(&self, _: &FilePath) -> bool {
        false
    }

    fn list_yaml(&self, _: &FilePath) -> Vec<FilePath> {
        Vec::new()
    }
}
