//! Kustomize: which files are patches, and which base workloads the overlays
//! patch to `automountServiceAccountToken: false`.
//!
//! A patch file is a partial document, merged into a workload of a base by
//! `kustomize build`: it is not judged on its own. A base workload that every
//! overlay deploying it patches to `false` is compliant as deployed; one that
//! only some overlays patch keeps its finding, which then names them. See
//! `docs/kustomize.md` for the exact matching rules.
//!
//! Pure like the rest of the crate: the caller reads the files and hands
//! their text to a [`KustomizeIndex`] under '/'-separated paths.

mod graph;
mod index;
mod manifest;
mod patch;
mod paths;

pub use graph::{Deployment, Verdict};
pub use index::KustomizeIndex;
pub use manifest::{
    is_kustomization_file, is_remote, parse_kustomization, Kustomization, PatchEntry, PatchForm,
    PatchSource, Selector, KUSTOMIZATION_FILE_NAMES,
};
pub use patch::{read_patch, PatchReading, PatchedObject, Setting, Subject};
pub use paths::{file_key, join, normalize, parent, relative_to_common};

use crate::split::split_documents;
use crate::text::LineIndex;
use crate::tree::{build_chunk, ChunkResult, Document};

/// Every document of `text` with a tree, whatever its kind (the analysis
/// proper builds trees only for documents that can hold a workload).
fn documents(text: &str) -> Vec<Document> {
    let body_start = if text.starts_with(crate::BOM) {
        crate::BOM.len()
    } else {
        0
    };
    let line_index = LineIndex::new(text);
    let mut docs = Vec::new();
    for chunk in split_documents(text, body_start) {
        if !chunk.has_content {
            continue;
        }
        if let ChunkResult::Documents(found) = build_chunk(text, &line_index, chunk) {
            docs.extend(found);
        }
    }
    docs
}
