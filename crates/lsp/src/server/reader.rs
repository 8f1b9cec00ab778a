//! How the server reads a file other than the document it analyses: **one
//! reader** (`ServerSource`), the analysis host's `FileSource` (charts,
//! kustomizations and patch files, ServiceAccounts on disk) and the
//! server's own reads (related locations) alike. The open buffer speaks for
//! its file; otherwise the disk is read only inside the workspace folders
//! (`workspace::read_within`: no link on the way, no skipped folder, size
//! and encoding limits).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dashmap::DashMap;
use parking_lot::RwLock;
use ropey::Rope;
use tower_lsp_server::ls_types::Uri;

use tokenguard_analysis::host::{lines_in, FilePath, FileSource, LineAt, Need};

use super::open_documents::OpenDocuments;
use super::state::State;
use crate::identity::DocumentKey;
use crate::workspace;

/// The one reader: open buffers first, else the disk inside the workspace
/// folders. Cheap to clone (two `Arc`s), so files can be read and their
/// facts computed on other threads without the host's lock.
#[derive(Clone)]
pub struct ServerSource {
    pub roots: Arc<RwLock<Vec<PathBuf>>>,
    pub open: Arc<OpenDocuments>,
    /// The open manifests whose facts the host holds from their own
    /// analysis, with the revision analysed (`WorkspaceStore::buffer_analysed`).
    pub fed: Arc<DashMap<DocumentKey, OwnFed>>,
}

/// The facts the host holds of an open manifest came from its analysis of
/// `revision` (whose text is `rope`), fed when the host's revision of the
/// file was `host_revision`.
#[derive(Clone, Debug)]
pub struct OwnFed {
    pub revision: u64,
    pub host_revision: u64,
    pub rope: Rope,
}

impl ServerSource {
    /// The text of the file at `path`: its open buffer, else the disk when
    /// the file is inside the workspace folders.
    pub fn read_path(&self, path: &Path) -> Option<String> {
        if let Some(open) = DocumentKey::from_path(path).and_then(|key| self.open.doc(&key)) {
            return Some(open.rope.to_string());
        }
        let roots = self.roots.read().clone();
        workspace::read_within(&roots, path)
    }
}

impl FileSource for ServerSource {
    fn read(&self, path: &FilePath, _: Need) -> Option<String> {
        self.read_path(path.as_path()?)
    }

    /// An open buffer's lines come from its rope's line index: no copy of
    /// the text (a large file is asked for the lines of its roles and
    /// bindings after every edit that moves them).
    fn lines_at(&self, path: &FilePath, offsets: &[usize], _: Need) -> Option<Vec<Option<LineAt>>> {
        let path = path.as_path()?;
        if let Some(key) = DocumentKey::from_path(path) {
            if let Some(open) = self.open.doc(&key) {
                // The text the host's facts were read from (the buffer may
                // be ahead of them).
                let rope = self
                    .fed
                    .get(&key)
                    .map_or_else(|| open.rope.clone(), |fed| fed.rope.clone());
                return Some(offsets.iter().map(|&o| line_at(&rope, o)).collect());
            }
        }
        let roots = self.roots.read().clone();
        Some(lines_in(&workspace::read_within(&roots, path)?, offsets))
    }

    /// Whether a regular file is there (classification only: `Chart.yaml`,
    /// a folder's kustomization; nothing is read).
    fn is_file(&self, path: &FilePath) -> bool {
        path.as_path().is_some_and(Path::is_file)
    }

    /// The workspace walk's rules (`workspace::yaml_files`).
    fn list_yaml(&self, dir: &FilePath) -> Vec<FilePath> {
        let Some(dir) = dir.as_path() else {
            return Vec::new();
        };
        workspace::yaml_files(dir)
            .iter()
            .filter(|p| workspace::is_yaml(p))
            .map(|p| FilePath::from_path(p))
            .collect()
    }
}

impl State {
    /// The text of the file at `path` (see [`ServerSource::read_path`]).
    pub fn read_file(&self, path: &Path) -> Option<String> {
        self.store.source().read_path(path)
    }

    /// Another file, by the name the analysis gave it (its path, as the
    /// analysis host names files; or a URI): the URI to tell the client and
    /// the text, from the open buffer, else [`State::read_file`].
    pub fn file_of(&self, name: &str) -> Option<(Uri, Rope)> {
        let key = if Path::new(name).is_absolute() {
            DocumentKey::from_path(Path::new(name))?
        } else {
            DocumentKey::parse(name)?
        };
        if let Some(open) = self.open.doc(&key) {
            return Some((open.uri.clone(), open.rope.clone()));
        }
        let text = self.read_file(&key.to_path()?)?;
        Some((key.uri().clone(), Rope::from_str(&text)))
    }
}

/// The line of byte `offset` of `rope` (`None` past its end), as
/// `tokenguard_analysis::host::lines_in` reads it from the text (ropey
/// ends lines where the analysis's `LineIndex` does: LF, CRLF, lone CR).
fn line_at(rope: &Rope, offset: usize) -> Option<LineAt> {
    if offset > rope.len_bytes() {
        return None;
    }
    let line = rope.byte_to_line(offset);
    let text = rope.line(line).to_string();
    let text = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .or_else(|| text.strip_suffix('\r'))
        .unwrap_or(&text);
    Some(LineAt {
        line,
        line_start: rope.line_to_byte(line),
        line_text: text.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ropes_lines_are_the_texts() {
        let text = "a: b\r\nkind: Role\rname: x\n\n é\r\n";
        let rope = Rope::from_str(text);
        let offsets: Vec<usize> = (0..=text.len() + 1).collect();
        let from_rope: Vec<Option<LineAt>> = offsets.iter().map(|&o| line_at(&rope, o)).collect();
        assert_eq!(from_rope, lines_in(text, &offsets));
    }
}
