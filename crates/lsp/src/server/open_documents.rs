//! The open documents: one map, one entry per open file, holding everything
//! the server keeps about it (its text snapshot, its analysis kept between
//! revisions, and its latest result).
//!
//! Locking: the map is a `DashMap`; no method returns a guard into it, so no
//! caller can hold one across an `.await` (or while taking another lock).
//! Entries are cheap to clone (three `Arc`s) and are handed out by value.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use dashmap::DashMap;
use parking_lot::Mutex;
use tower_lsp_server::ls_types::{TextDocumentContentChangeEvent, Uri};

use crate::diagnostics::{Analyzed, LiveAnalysis};
use crate::documents::{apply_changes, rope_of, Document, EditLog, OpenedText};
use crate::helm;
use crate::identity::DocumentKey;
use crate::positions::Encoding;

/// A document's analysis between revisions, and the revision it is at (read
/// without the lock when an edit trims the document's edit log).
#[derive(Default)]
pub struct Live {
    pub analysis: Mutex<LiveAnalysis>,
    pub analysed: AtomicU64,
    /// Whether the last analysis found the text over the size limit (the log
    /// says so once, when it becomes too large).
    pub too_large: AtomicBool,
    /// The diagnostics last built, to keep those an edit did not move
    /// (`server/publish.rs`).
    pub published: Mutex<Option<crate::server::publish::Built>>,
}

/// Everything kept about one open document.
#[derive(Clone)]
pub struct OpenDocument {
    /// The current snapshot (text, client version, our revision).
    pub doc: Arc<Document>,
    pub live: Arc<Live>,
    /// The latest finished analysis; current only when its revision is the
    /// snapshot's.
    pub analyzed: Option<Arc<Analyzed>>,
}

/// What an edit did, for the log.
pub struct Edited {
    /// The client's version before the edit.
    pub previous_version: i32,
    /// Changes that had to be clamped to the text.
    pub notes: Vec<String>,
}

/// The open documents, keyed by [`DocumentKey`] (every spelling of one
/// file's URI is one key); what the client is sent uses the URI it opened
/// the document with ([`Document::uri`]).
pub struct OpenDocuments {
    map: DashMap<DocumentKey, OpenDocument>,
    /// Ours: every new snapshot of any document gets the next one.
    next_revision: AtomicU64,
}

impl Default for OpenDocuments {
    fn default() -> Self {
        Self {
            map: DashMap::new(),
            next_revision: AtomicU64::new(1),
        }
    }
}

impl OpenDocuments {
    fn next_revision(&self) -> u64 {
        self.next_revision.fetch_add(1, Ordering::SeqCst)
    }

    /// Opens (or opens again) the document at `key`; returns the snapshot it
    /// replaces, if the file was open already (perhaps under another URI).
    pub fn open(
        &self,
        key: &DocumentKey,
        uri: Uri,
        version: i32,
        text: String,
    ) -> Option<Arc<Document>> {
        let revision = self.next_revision();
        // (`helm::may_hold_actions` of the rope, read from the text while
        // the rope is built.)
        let (rope, may_hold_actions) = rayon::join(
            || rope_of(&text),
            || memchr::memmem::find(text.as_bytes(), b"{{").is_some(),
        );
        let doc = Document {
            uri,
            version,
            revision,
            may_hold_actions,
            rope,
            // The first analysis reads it (and drops it).
            opened: Some(Arc::new(OpenedText::new(text))),
            edits: Arc::new(EditLog {
                base: revision,
                entries: Vec::new(),
            }),
        };
        let entry = OpenDocument {
            doc: Arc::new(doc),
            live: Arc::new(Live::default()),
            analyzed: None,
        };
        self.map.insert(key.clone(), entry).map(|old| old.doc)
    }

    /// Applies one `didChange` to the document at `key` as a new snapshot;
    /// `None` when it is not open.
    pub fn edit(
        &self,
        key: &DocumentKey,
        version: i32,
        changes: &[TextDocumentContentChangeEvent],
        encoding: Encoding,
    ) -> Option<Edited> {
        // The text is edited outside the map's lock (a full replacement may
        // be large): only `didChange` changes a document's text, one at a
        // time, so it is still the text under the lock below (`renew` may
        // have given it a new revision meanwhile, not a new text).
        let before = self.doc(key)?;
        let mut rope = before.rope.clone();
        let (changes, notes) = apply_changes(&mut rope, changes, encoding);
        let may_hold_actions =
            helm::may_hold_actions_after(before.may_hold_actions, &rope, &changes);
        let mut entry = self.map.get_mut(key)?;
        // Under the lock, so that revisions are installed in the order they
        // are drawn: a document's revision only grows.
        let revision = self.next_revision();
        let analysed = entry.live.analysed.load(Ordering::SeqCst);
        let edits = Arc::new(entry.doc.edits.advanced(analysed, revision, &changes));
        entry.doc = Arc::new(Document {
            uri: entry.doc.uri.clone(),
            version,
            revision,
            rope,
            edits,
            may_hold_actions,
            opened: None,
        });
        Some(Edited {
            previous_version: before.version,
            notes,
        })
    }

    /// Gives the document a new revision (same text and version), so that an
    /// analysis still running with older accounts, settings or chart does not
    /// publish after the next one; false when it is not open.
    pub fn renew(&self, key: &DocumentKey) -> bool {
        let Some(mut entry) = self.map.get_mut(key) else {
            return false;
        };
        // Drawn under the lock, like an edit's.
        let revision = self.next_revision();
        entry.doc = Arc::new(Document {
            revision,
            ..Document::clone(&entry.doc)
        });
        true
    }

    /// Keeps `analyzed` as the document's result if it is of the current
    /// revision; false otherwise (closed, or edited since).
    pub fn finish(&self, key: &DocumentKey, analyzed: &Arc<Analyzed>) -> bool {
        match self.map.get_mut(key) {
            Some(mut entry) if entry.doc.revision == analyzed.revision => {
                entry.analyzed = Some(Arc::clone(analyzed));
                true
            }
            _ => false,
        }
    }

    pub fn close(&self, key: &DocumentKey) -> Option<OpenDocument> {
        self.map.remove(key).map(|(_, entry)| entry)
    }

    pub fn get(&self, key: &DocumentKey) -> Option<OpenDocument> {
        self.map.get(key).map(|entry| entry.clone())
    }

    pub fn doc(&self, key: &DocumentKey) -> Option<Arc<Document>> {
        self.map.get(key).map(|entry| Arc::clone(&entry.doc))
    }

    pub fn revision_of(&self, key: &DocumentKey) -> Option<u64> {
        self.map.get(key).map(|entry| entry.doc.revision)
    }

    pub fn is_open(&self, key: &DocumentKey) -> bool {
        self.map.contains_key(key)
    }

    /// The URI to name a file by to the client: the one it opened the
    /// document with, else the file's canonical URI.
    pub fn client_uri(&self, key: &DocumentKey) -> Uri {
        self.map
            .get(key)
            .map_or_else(|| key.uri().clone(), |entry| entry.doc.uri.clone())
    }

    /// The keys of the open documents that `which` selects.
    pub fn keys(&self, which: impl Fn(&DocumentKey) -> bool) -> Vec<DocumentKey> {
        // Collected before `which` runs: it may look at the map itself.
        let keys: Vec<DocumentKey> = self.map.iter().map(|entry| entry.key().clone()).collect();
        keys.into_iter().filter(|key| which(key)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ropey::Rope;

    fn key(uri: &str) -> DocumentKey {
        DocumentKey::parse(uri).unwrap()
    }

    fn analyzed_at(revision: u64) -> Arc<Analyzed> {
        Arc::new(Analyzed {
            revision,
            version: 1,
            rope: Rope::new(),
            findings: Vec::new(),
            accounts: Vec::new(),
            rbac: None,
            too_large: None,
            kind: tokenguard_analysis::files::FileKind::Manifest,
            changed: None,
            store: None,
        })
    }

    fn insert(text: &str) -> Vec<TextDocumentContentChangeEvent> {
        vec![TextDocumentContentChangeEvent {
            range: Some(Default::default()),
            range_length: None,
            text: text.to_string(),
        }]
    }

    #[test]
    fn a_result_is_kept_only_for_the_current_revision() {
        let open = OpenDocuments::default();
        let k = key("file:///ws/a.yaml");
        assert!(open.open(&k, k.uri().clone(), 1, "a: b\n".into()).is_none());
        let first = open.revision_of(&k).unwrap();
        open.edit(&k, 2, &insert("# x\n"), Encoding::Utf16).unwrap();
        assert_eq!(open.doc(&k).unwrap().rope.to_string(), "# x\na: b\n");
        assert!(!open.finish(&k, &analyzed_at(first)), "edited since");
        let second = open.revision_of(&k).unwrap();
        assert!(open.finish(&k, &analyzed_at(second)));
        assert_eq!(open.get(&k).unwrap().analyzed.unwrap().revision, second);
        // A new revision for the same text: the result is no longer current.
        assert!(open.renew(&k));
        let entry = open.get(&k).unwrap();
        assert!(entry.doc.revision > second);
        assert_eq!(entry.doc.version, 2);
        assert!(open.close(&k).is_some());
        assert!(!open.finish(&k, &analyzed_at(entry.doc.revision)), "closed");
        assert!(open.edit(&k, 3, &insert("x"), Encoding::Utf16).is_none());
    }

    #[test]
    fn one_entry_per_file_whatever_the_spelling() {
        let open = OpenDocuments::default();
        let first = "file:///ws/%7Eme.yaml".parse::<Uri>().unwrap();
        let second = "file:///ws/~me.yaml".parse::<Uri>().unwrap();
        let k = DocumentKey::new(&first);
        open.open(&k, first.clone(), 1, String::new());
        let replaced = open.open(&DocumentKey::new(&second), second.clone(), 1, String::new());
        assert_eq!(replaced.unwrap().uri, first);
        assert_eq!(open.client_uri(&k), second, "named as last opened");
        assert_eq!(open.keys(|_| true).len(), 1);
    }

    #[test]
    fn the_selection_may_look_at_the_map() {
        let open = OpenDocuments::default();
        for name in ["a", "b", "c"] {
            let k = key(&format!("file:///ws/{name}.yaml"));
            open.open(&k, k.uri().clone(), 1, String::new());
        }
        let chosen = open.keys(|k| open.is_open(k) && open.renew(k));
        assert_eq!(chosen.len(), 3);
    }
}
