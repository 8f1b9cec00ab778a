//! How the server reads a file other than the document it analyses: **one
//! reader** (`State::read_file`), used for charts, kustomizations and patch
//! files, ServiceAccounts on disk and related locations alike. The open
//! buffer speaks for its file; otherwise the disk is read only inside the
//! workspace folders (`workspace::read_within`: no link on the way, no
//! skipped folder, size and encoding limits).

use std::path::Path;

use ropey::Rope;
use tower_lsp_server::ls_types::Uri;

use super::state::State;
use crate::identity::DocumentKey;
use crate::workspace;

impl State {
    /// The text of the file at `path`: its open buffer, else the disk when
    /// the file is inside the workspace folders.
    pub fn read_file(&self, path: &Path) -> Option<String> {
        if let Some(open) = DocumentKey::from_path(path).and_then(|key| self.open.doc(&key)) {
            return Some(open.rope.to_string());
        }
        workspace::read_within(&self.roots.read(), path)
    }

    /// Another file, by the name the analysis gave it (a URI string): the
    /// URI to tell the client and the text, from the open buffer, else the
    /// workspace store's copy, else [`State::read_file`] (a Helm chart's
    /// values.yaml).
    pub fn file_of(&self, name: &str) -> Option<(Uri, Rope)> {
        let key = DocumentKey::parse(name)?;
        if let Some(open) = self.open.doc(&key) {
            return Some((open.uri.clone(), open.rope.clone()));
        }
        if let Some(copy) = self.store.indexed_copy(&key) {
            return Some(copy);
        }
        let text = self.read_file(&key.to_path()?)?;
        Some((key.uri().clone(), Rope::from_str(&text)))
    }
}
