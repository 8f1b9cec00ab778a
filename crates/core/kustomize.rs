//! The kustomize pre-pass of `tokenguard check`: reads the kustomization of
//! every folder that holds an input, the kustomizations those include
//! (bases, components, transitively), and every patch file they name. The
//! result adjusts each file's findings after the rule has judged it (see
//! `KustomizeIndex::adjust`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use tokenguard_analysis::kustomize::{
    file_key, join, parse_kustomization, KUSTOMIZATION_FILE_NAMES,
};
use tokenguard_analysis::KustomizeIndex;

use crate::errors::ErrorLog;
use crate::walk::Input;

pub fn index_kustomizations(inputs: &[Input], max_size: u64, log: &mut ErrorLog) -> KustomizeIndex {
    let mut index = KustomizeIndex::new();
    let mut pending: Vec<String> = inputs
        .iter()
        .filter_map(|input| match input {
            Input::File { path, .. } => Some(file_key(path.parent().unwrap_or(Path::new(".")))),
            Input::Stdin => None,
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut seen: BTreeSet<String> = pending.iter().cloned().collect();
    while let Some(dir) = pending.pop() {
        let Some(file) = kustomization_in(&dir) else {
            continue;
        };
        let Some(text) = read(&file, max_size, log) else {
            continue;
        };
        index.set_kustomization(&file_key(&file), &text);
        // Folders it includes may hold kustomizations the inputs did not reach.
        let kustomization = parse_kustomization(&text);
        for entry in kustomization
            .resources
            .iter()
            .chain(&kustomization.components)
            .filter(|e| !e.contains("://"))
        {
            let included = join(&dir, entry);
            if seen.insert(included.clone()) {
                pending.push(included);
            }
        }
    }
    let patch_files: Vec<String> = index.patch_files().iter().cloned().collect();
    for patch in patch_files {
        if let Some(text) = read(Path::new(&patch), max_size, log) {
            index.set_patch(&patch, &text);
        }
    }
    index
}

/// The kustomization file of a folder, under the first name Kustomize looks
/// for.
fn kustomization_in(dir: &str) -> Option<PathBuf> {
    KUSTOMIZATION_FILE_NAMES
        .iter()
        .map(|name| Path::new(dir).join(name))
        .find(|path| path.is_file())
}

/// A kustomization or patch file's text; one that cannot be read is said once
/// on stderr (the check goes on without it: its patches count as absent).
fn read(path: &Path, max_size: u64, log: &mut ErrorLog) -> Option<String> {
    let shown = crate::walk::display_path(path);
    match fs::metadata(path) {
        Ok(meta) if meta.len() > max_size => {
            log.warning(format_args!(
                "{shown}: {} bytes is over the --max-file-size limit; its kustomize patches are not read",
                meta.len()
            ));
            return None;
        }
        Ok(meta) if !meta.is_file() => return None,
        Ok(_) => {}
        Err(error) => {
            log.warning(format_args!(
                "{shown}: named by a kustomization but cannot be read ({})",
                crate::atomic::describe(&error)
            ));
            return None;
        }
    }
    match fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(error) => {
            log.warning(format_args!(
                "{shown}: cannot be read as UTF-8 text ({}); its kustomize patches are not read",
                crate::atomic::describe(&error)
            ));
            None
        }
    }
}
