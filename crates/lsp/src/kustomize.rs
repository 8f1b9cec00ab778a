//! The server's view of the workspace's kustomizations and patch files: kept
//! from disk and open buffers, and applied to every analysis after the rule
//! has judged (see `KustomizeIndex::adjust`).
//!
//! A file's text comes from a [`TextSource`]: the server's open buffer of
//! the file when there is one, else the disk (inside the workspace folders).

use parking_lot::RwLock;
use std::path::{Path, PathBuf};

use tokenguard_analysis::kustomize::{file_key, is_kustomization_file};
use tokenguard_analysis::{Finding, KustomizeIndex};
use tracing::info;

use crate::identity::DocumentKey;

/// The current text of a file, or `None` when it is neither open nor
/// readable.
pub type TextSource<'a> = dyn Fn(&Path) -> Option<String> + 'a;

fn path_of(key: &DocumentKey) -> Option<PathBuf> {
    key.to_path()
}

#[derive(Default)]
pub struct Kustomizations {
    index: RwLock<KustomizeIndex>,
}

impl Kustomizations {
    /// `findings` of the document at `key`, as the kustomizations deploy it.
    pub fn adjust(&self, key: &DocumentKey, findings: Vec<Finding>) -> Vec<Finding> {
        let Some(path) = path_of(key) else {
            return findings;
        };
        let index = self.index.read();
        index.adjust(&file_key(&path), findings)
    }

    /// Whether the file at `key` is a kustomization or a patch file: only
    /// those feed the index.
    pub fn concerns(&self, key: &DocumentKey) -> bool {
        let Some(path) = path_of(key) else {
            return false;
        };
        let key = file_key(&path);
        is_kustomization_file(&key) || self.index.read().is_patch_file(&key)
    }

    /// Replaces the index with one read from `files` (every file of the
    /// workspace; the kustomizations among them are read, then their patches).
    pub fn rebuild(&self, files: &[PathBuf], text_of: &TextSource<'_>) {
        let mut fresh = KustomizeIndex::new();
        for file in files
            .iter()
            .filter(|f| is_kustomization_file(&f.to_string_lossy()))
        {
            if let Some(text) = text_of(file) {
                fresh.set_kustomization(&file_key(file), &text);
            }
        }
        reload_patches(&mut fresh, text_of);
        info!(
            "indexed {} kustomizations naming {} patch files",
            fresh.kustomization_count(),
            fresh.patch_files().len()
        );
        *self.index.write() = fresh;
    }

    /// Takes in the text of the file at `document` (an open buffer's, or the
    /// disk's after a change or a close: `None` when it is gone); true when
    /// the findings of other documents may have changed.
    pub fn update(
        &self,
        document: &DocumentKey,
        text: Option<&str>,
        text_of: &TextSource<'_>,
    ) -> bool {
        let Some(path) = path_of(document) else {
            return false;
        };
        let key = file_key(&path);
        let mut index = self.index.write();
        if is_kustomization_file(&key) {
            let changed = match text {
                Some(text) => index.set_kustomization(&key, text),
                None => index.remove_kustomization(&key),
            };
            if changed {
                // It may name other patch files now.
                reload_patches(&mut index, text_of);
            }
            changed
        } else if index.is_patch_file(&key) {
            match text {
                Some(text) => index.set_patch(&key, text),
                None => index.remove_patch(&key),
            }
        } else {
            false
        }
    }
}

/// Reads every patch file the kustomizations name (and forgets those that
/// are gone).
fn reload_patches(index: &mut KustomizeIndex, text_of: &TextSource<'_>) {
    let named: Vec<String> = index.patch_files().iter().cloned().collect();
    for patch in named {
        match text_of(Path::new(&patch)) {
            Some(text) => index.set_patch(&patch, &text),
            None => index.remove_patch(&patch),
        };
    }
}
