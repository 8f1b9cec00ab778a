//! The one Kustomize path: which kustomizations and patch files the host
//! reads, through the [`FileSource`]. For every folder holding a file it
//! was fed, the folder's kustomization (under the first name Kustomize
//! looks for), then those it includes (resources and components,
//! transitively), then every patch file they name.

use std::collections::BTreeSet;

use super::path::FilePath;
use super::source::{FileSource, Need};
use crate::kustomize::{
    is_remote, join, normalize, parse_kustomization, PatchSource, KUSTOMIZATION_FILE_NAMES,
};
use crate::KustomizeIndex;

/// The folders already looked at, and the index they made.
#[derive(Debug, Default)]
pub(crate) struct Kustomizations {
    pub index: KustomizeIndex,
    /// Folders (normalized) whose kustomization was looked for.
    seen: BTreeSet<String>,
    /// Patch files read since they were named.
    patches_read: BTreeSet<String>,
    /// Kustomization files read (normalized).
    files_read: BTreeSet<String>,
}

impl Kustomizations {
    /// Looks for the kustomization of `folder` (once) and those it reaches;
    /// reads the patch files named since. True when the index changed.
    pub fn visit(
        &mut self,
        folder: &FilePath,
        source: &dyn FileSource,
        text_of: &dyn Fn(&FilePath, Need) -> Option<String>,
    ) -> bool {
        let start = normalize(folder.as_str());
        if !self.seen.insert(start.clone()) {
            return false;
        }
        let mut changed = false;
        let mut unread = BTreeSet::new();
        let mut pending = vec![start];
        while let Some(dir) = pending.pop() {
            let Some(file) = KUSTOMIZATION_FILE_NAMES
                .iter()
                .map(|name| FilePath::new(join(&dir, name)))
                .find(|path| source.is_file(path))
            else {
                continue;
            };
            let Some(text) = text_of(&file, Need::Kustomization) else {
                continue;
            };
            changed |= self.index.set_kustomization(file.as_str(), &text);
            self.files_read.insert(file.as_str().to_string());
            let kustomization = parse_kustomization(&text);
            for entry in kustomization
                .resources
                .iter()
                .chain(&kustomization.components)
                .filter(|e| !is_remote(e))
            {
                let included = join(&dir, entry);
                if self.seen.insert(included.clone()) {
                    pending.push(included);
                }
            }
            // Its patch files, to be read once; a remote one is never read
            // (`PatchSource::Remote`). (Taken from the
            // kustomization itself: asking the index for every patch file
            // it knows would rebuild its graph after each kustomization of
            // a walk.)
            for patch in &kustomization.patches {
                if let PatchSource::File(name) = &patch.source {
                    let patch = join(&dir, name);
                    if !self.patches_read.contains(&patch) {
                        unread.insert(patch);
                    }
                }
            }
        }
        // In name order, as a walk's messages about them read best.
        for patch in unread {
            if let Some(text) = text_of(&FilePath::new(patch.clone()), Need::Patch) {
                changed |= self.index.set_patch(&patch, &text);
            }
            self.patches_read.insert(patch);
        }
        changed
    }

    /// Whether the kustomization file `key` (normalized) was read.
    pub fn has_read(&self, key: &str) -> bool {
        self.files_read.contains(key)
    }

    /// Takes in a new text of a kustomization or patch file (`None`: gone);
    /// true when the index changed.
    pub fn update(
        &mut self,
        key: &str,
        text: Option<&str>,
        text_of: &dyn Fn(&FilePath, Need) -> Option<String>,
    ) -> bool {
        if crate::kustomize::is_kustomization_file(key) {
            let changed = match text {
                Some(text) => {
                    self.files_read.insert(key.to_string());
                    self.index.set_kustomization(key, text)
                }
                None => {
                    self.files_read.remove(key);
                    self.index.remove_kustomization(key)
                }
            };
            if changed {
                self.read_patches(text_of);
            }
            changed
        } else if self.index.is_patch_file(key) {
            match text {
                Some(text) => self.index.set_patch(key, text),
                None => self.index.remove_patch(key),
            }
        } else {
            false
        }
    }

    /// Reads every patch file the kustomizations name (forgetting those that
    /// are gone).
    fn read_patches(&mut self, text_of: &dyn Fn(&FilePath, Need) -> Option<String>) {
        let named: Vec<String> = self.index.patch_files().iter().cloned().collect();
        for patch in named {
            match text_of(&FilePath::new(patch.clone()), Need::Patch) {
                Some(text) => self.index.set_patch(&patch, &text),
                None => self.index.remove_patch(&patch),
            };
            self.patches_read.insert(patch);
        }
    }
}
