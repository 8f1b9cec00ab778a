//! A file analysed document by document, so that an edit re-parses only the
//! documents it touches and reuses the others, moved.
//!
//! Each document keeps its tree and findings in positions relative to its own
//! start, so moving it costs nothing. Findings are judged again only for
//! documents that changed, or for all of them when the ServiceAccounts they
//! can see changed (the file's own, or the workspace's generation).
//! [`IncrementalFile::findings`] equals [`crate::analyze`] of the whole text.

use std::sync::Arc;

use rayon::prelude::*;

use crate::accounts::{AccountLookup, SameFileFirst};
use crate::finding::Finding;
use crate::objects::ServiceAccount;
use crate::options::Options;
use crate::region::{self, Outline};
use crate::relevance::{has_objects, ObjectKeys};
use crate::split::{split_documents, Chunk};
use crate::text::TextRange;
use crate::{judge_parsed, parse_single_document, ParsedFile, BOM};

/// The text of a byte range of the current text (the caller may keep the
/// text in a rope: only the documents being analysed are copied out).
pub type TextOf<'a> = dyn Fn(TextRange) -> String + 'a;

struct Piece {
    start: usize,
    len: usize,
    /// `None` for a piece holding only comments, directives or markers.
    parsed: Option<ParsedFile>,
    /// Judged findings, relative to `start`; `None` when they must be judged.
    findings: Option<Vec<Finding>>,
    /// Its `apiVersion` and `kind` keys.
    keys: ObjectKeys,
    /// Whether a `...` line ends it.
    closed: bool,
    /// Whether it follows a piece a `...` line ends: go-yaml never reads
    /// its lines before a `---` (see `cluster_strictness.rs`).
    after_end: bool,
    /// The cut's other flags: whether it holds content, a `---` line, a
    /// directive (an edit that keeps them keeps its neighbours' cuts).
    cut: (bool, bool, bool),
    /// For a document that holds no tree and reads without error: what an
    /// edit inside it needs to re-read only its region (`region.rs`).
    outline: Option<Box<Outline>>,
}

impl Piece {
    fn end(&self) -> usize {
        self.start + self.len
    }
}

#[derive(Default)]
pub struct IncrementalFile {
    /// What every piece is parsed with; other options need a new file.
    options: Arc<Options>,
    /// Where the documents start: after a byte-order mark.
    body_start: usize,
    len: usize,
    pieces: Vec<Piece>,
    /// The workspace generation the cached findings were judged against.
    judged_with: Option<u64>,
    /// Documents parsed whole by the last [`Self::new`] or [`Self::edit`].
    pub reparsed: usize,
    /// Bytes of the text the last [`Self::edit`] read again: a region's,
    /// or the documents' around the edit.
    pub reparsed_bytes: usize,
}

/// Above this many bytes, documents are parsed on all cores.
const PARALLEL_BYTES: usize = 512 * 1024;

/// The pieces of `chunks`; `after_end`: a `...` line ends the piece before
/// the first chunk; `body_start`: where the file's first document starts
/// (after its byte-order mark).
fn make_pieces(
    window_start: usize,
    window_text: &str,
    chunks: &[Chunk],
    after_end: bool,
    body_start: usize,
    options: &Options,
) -> Vec<Piece> {
    let follows_end = |i: usize| {
        if i == 0 {
            after_end
        } else {
            chunks[i - 1].closed
        }
    };
    if window_text.len() >= PARALLEL_BYTES && chunks.len() > 1 {
        return chunks
            .par_iter()
            .enumerate()
            .flat_map_iter(|(i, chunk)| {
                make_pieces(
                    window_start,
                    window_text,
                    std::slice::from_ref(chunk),
                    follows_end(i),
                    body_start,
                    options,
                )
            })
            .collect();
    }
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let text = &window_text[chunk.range.start..chunk.range.end];
            let after_end = follows_end(i);
            let at_file_start = window_start + chunk.range.start == 0;
            // A piece of blanks and comments is read too when it holds a tab
            // (Kubernetes' decoder may refuse it).
            let read = chunk.needs_reading() || crate::cluster_strictness::may_refuse(text);
            let outline = read
                .then(|| {
                    region::read_document(text, chunk, &options.kinds, at_file_start, after_end)
                })
                .flatten()
                .map(Box::new);
            let parsed = match &outline {
                // It reads without error and holds no tree: nothing else
                // is kept of it.
                Some(_) => Some(ParsedFile::default()),
                None => read
                    .then(|| parse_single_document(text, options, chunk, at_file_start, after_end)),
            };
            Piece {
                start: window_start + chunk.range.start,
                len: chunk.range.len(),
                parsed,
                findings: None,
                keys: if !chunk.has_content {
                    ObjectKeys::default()
                } else if body_start > 0 && window_start + chunk.range.start == body_start {
                    // The file's first document, after its byte-order mark
                    // (and any more of them, as the whole text's keys read).
                    ObjectKeys::of(text)
                } else {
                    region::keys_inside(text)
                },
                closed: chunk.closed,
                after_end,
                cut: (chunk.has_content, chunk.has_marker, chunk.has_directive),
                outline,
            }
        })
        .collect()
}

/// What a ServiceAccount decides, without where it is: a change of position
/// alone does not require judging again.
fn meaning(a: &ServiceAccount) -> (&str, Option<&str>, crate::AccountAutomount) {
    (a.name.as_str(), a.namespace.as_deref(), a.automount)
}

/// The ServiceAccounts of `pieces`, in order (in positions relative to
/// each piece).
fn piece_accounts<'a>(
    pieces: impl Iterator<Item = &'a Piece>,
) -> impl Iterator<Item = &'a ServiceAccount> {
    pieces.flat_map(|p| p.parsed.iter().flat_map(|parsed| parsed.accounts.iter()))
}

/// Whether pieces replaced by others hold ServiceAccounts of another
/// meaning: the pieces around them are the same, so the file's accounts
/// mean the same exactly when theirs do.
fn same_meaning<'a>(
    before: impl Iterator<Item = &'a Piece>,
    after: impl Iterator<Item = &'a Piece>,
) -> bool {
    piece_accounts(before)
        .map(meaning)
        .eq(piece_accounts(after).map(meaning))
}

impl IncrementalFile {
    /// The file analysed with the built-in options.
    pub fn new(text: &str) -> Self {
        Self::with_options(text, Arc::clone(&crate::kinds::DEFAULT_OPTIONS))
    }

    /// The file analysed with a project's options (workload kinds, ignored
    /// objects); when they change, make a new one.
    pub fn with_options(text: &str, options: Arc<Options>) -> Self {
        let body_start = if text.starts_with(BOM) { BOM.len() } else { 0 };
        let chunks = split_documents(text, body_start);
        let pieces = make_pieces(0, text, &chunks, false, body_start, &options);
        Self {
            options,
            body_start,
            len: text.len(),
            reparsed: pieces.iter().filter(|p| p.parsed.is_some()).count(),
            reparsed_bytes: text.len(),
            pieces,
            judged_with: None,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The options the file is analysed with.
    pub fn options(&self) -> &Arc<Options> {
        &self.options
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Takes an edit that replaced `old` (in the previous text) with
    /// `new_len` bytes; `text_of` reads the new text.
    pub fn edit(&mut self, old: TextRange, new_len: usize, new_total: usize, text_of: &TextOf<'_>) {
        if !self.apply_edit(old, new_len, new_total, text_of) {
            self.judged_with = None;
        }
    }

    /// False when the file's ServiceAccounts may mean something else now
    /// (the only ones compared are those of the pieces read again).
    fn apply_edit(
        &mut self,
        old: TextRange,
        new_len: usize,
        new_total: usize,
        text_of: &TextOf<'_>,
    ) -> bool {
        let delta = new_len as isize - old.len() as isize;
        let expected_total = self.len as isize + delta;
        // A byte-order mark touched, or edits that do not add up: start over.
        if self.pieces.is_empty()
            || old.start < self.body_start
            || old.end > self.len
            || expected_total != new_total as isize
        {
            *self = Self::with_options(
                &text_of(TextRange::new(0, new_total)),
                Arc::clone(&self.options),
            );
            return false;
        }
        let same = if self.edit_region(old, new_len, text_of) {
            // (A document with an outline holds no account.)
            Some(true)
        } else {
            self.edit_piece(old, new_len, text_of)
        };
        if let Some(same) = same {
            let i = self.pieces.partition_point(|p| p.start <= old.start);
            for piece in &mut self.pieces[i..] {
                piece.start = (piece.start as isize + delta) as usize;
            }
            self.len = new_total;
            return same;
        }
        let n = self.pieces.len();
        let containing = |offset: usize| {
            self.pieces
                .partition_point(|p| p.end() <= offset)
                .min(n - 1)
        };
        // One document more on each side: an edit can make or unmake the
        // `---` line that separates them.
        let first = containing(old.start).saturating_sub(1);
        let mut last = (containing(old.end) + 1).min(n - 1);
        let window_start = self.pieces[first].start;
        loop {
            let window_end = (self.pieces[last].end() as isize + delta) as usize;
            let window = TextRange::new(window_start, window_end);
            let window_text = text_of(window);
            let body = if window_start == 0 && window_text.starts_with(BOM) {
                BOM.len()
            } else {
                0
            };
            if window_start == 0 {
                // The edit may have made a byte-order mark (found by fuzzing).
                self.body_start = body;
            }
            self.reparsed_bytes = window_text.len();
            let chunks = split_documents(&window_text, body);
            let closes = chunks
                .last()
                .is_some_and(|c| c.has_content || c.has_marker || c.closed || c.has_directive);
            // The next document starts with `---` (or follows a `...`): the
            // cut at the window's end holds when the window's last piece is a
            // document of its own; otherwise take the next one in.
            if last + 1 < n && !closes {
                last += 1;
                continue;
            }
            // Neighbours the edit did not reach come out of the cut exactly
            // as they were: they keep their trees and findings.
            let window_after_end = first > 0 && self.pieces[first - 1].closed;
            let before: Vec<_> = piece_accounts(self.pieces[first..=last].iter())
                .map(|a| (a.name.clone(), a.namespace.clone(), a.automount))
                .collect();
            let mut old_pieces: Vec<Option<Piece>> =
                self.pieces.drain(first..=last).map(Some).collect();
            let mut fresh = Vec::with_capacity(chunks.len());
            self.reparsed = 0;
            for (i, chunk) in chunks.iter().enumerate() {
                let after_end = if i == 0 {
                    window_after_end
                } else {
                    chunks[i - 1].closed
                };
                let start = window_start + chunk.range.start;
                let len = chunk.range.len();
                let unchanged = old_pieces.iter_mut().find(|p| {
                    p.as_ref().is_some_and(|p| {
                        // (A piece that comes to the file's start is read
                        // again: its first line is judged as kubectl's.)
                        p.len == len
                            && (p.start == 0) == (start == 0)
                            && p.after_end == after_end
                            && ((p.end() <= old.start && p.start == start)
                                || (p.start >= old.end
                                    && p.start as isize + delta == start as isize))
                    })
                });
                match unchanged.and_then(Option::take) {
                    Some(mut piece) => {
                        piece.start = start;
                        fresh.push(piece);
                    }
                    None => {
                        let piece = make_pieces(
                            window_start,
                            &window_text,
                            std::slice::from_ref(chunk),
                            after_end,
                            self.body_start,
                            &self.options,
                        );
                        self.reparsed += piece.iter().filter(|p| p.parsed.is_some()).count();
                        fresh.extend(piece);
                    }
                }
            }
            let same = before
                .iter()
                .map(|(n, ns, a)| (n.as_str(), ns.as_deref(), *a))
                .eq(piece_accounts(fresh.iter()).map(meaning));
            for piece in &mut self.pieces[first..] {
                piece.start = (piece.start as isize + delta) as usize;
            }
            self.pieces.splice(first..first, fresh);
            self.len = new_total;
            return same;
        }
    }

    /// The piece an edit lies strictly inside of (not touching its first
    /// byte nor its end).
    fn inside(&self, old: TextRange) -> Option<usize> {
        let i = self.pieces.partition_point(|p| p.end() <= old.start);
        let piece = self.pieces.get(i)?;
        (piece.start < old.start && old.end < piece.end()).then_some(i)
    }

    /// An edit inside a document that holds no tree: only the region
    /// around it is read again, when one can be (see `region.rs`).
    fn edit_region(&mut self, old: TextRange, new_len: usize, text_of: &TextOf<'_>) -> bool {
        let Some(i) = self.inside(old) else {
            return false;
        };
        let piece = &mut self.pieces[i];
        let Some(outline) = piece.outline.as_mut() else {
            return false;
        };
        let start = piece.start;
        let relative = TextRange::new(old.start - start, old.end - start);
        // A closed document's last line is its `...`: an edit that reaches
        // it or the break before it may unmake it, and with it the cut
        // (found by the property tests). A region never holds it.
        if piece.closed && relative.end >= outline.last_line_start(piece.len) {
            return false;
        }
        let read = outline.reread(piece.len, relative, new_len, &|r: TextRange| {
            text_of(TextRange::new(r.start + start, r.end + start))
        });
        let Some(read) = read else {
            return false;
        };
        piece.len = (piece.len as isize + new_len as isize - old.len() as isize) as usize;
        piece.keys = outline.keys();
        self.reparsed = 0;
        self.reparsed_bytes = read;
        true
    }

    /// An edit inside one document that leaves its first line, its end and
    /// the flags of its cut as they were: only it is read again (its
    /// neighbours are cut where they were and are not copied out). `None`
    /// when it cannot be; else whether its ServiceAccounts mean the same.
    fn edit_piece(&mut self, old: TextRange, new_len: usize, text_of: &TextOf<'_>) -> Option<bool> {
        let i = self.inside(old)?;
        let piece = &self.pieces[i];
        let new_end = (piece.end() as isize + new_len as isize - old.len() as isize) as usize;
        let text = text_of(TextRange::new(piece.start, new_end));
        // The first line is left as it was (with a byte-order mark in it).
        match memchr::memchr2(b'\n', b'\r', text.as_bytes()) {
            Some(end) if piece.start + end + 2 < old.start => {}
            _ => return None,
        }
        let body = if piece.start == 0 && text.starts_with(BOM) {
            BOM.len()
        } else {
            0
        };
        let chunks = split_documents(&text, body);
        let [chunk] = chunks.as_slice() else {
            return None;
        };
        let same_cut = chunk.range == TextRange::new(body, text.len())
            && chunk.closed == piece.closed
            && (chunk.has_content, chunk.has_marker, chunk.has_directive) == piece.cut;
        if !same_cut || body != 0 && body != self.body_start {
            return None;
        }
        let after_end = piece.after_end;
        let mut fresh = make_pieces(
            piece.start,
            &text,
            &chunks,
            after_end,
            self.body_start,
            &self.options,
        );
        let (Some(fresh), true) = (fresh.pop(), fresh.is_empty()) else {
            return None;
        };
        self.reparsed = usize::from(fresh.parsed.is_some());
        self.reparsed_bytes = text.len();
        let same = same_meaning(std::iter::once(&self.pieces[i]), std::iter::once(&fresh));
        self.pieces[i] = fresh;
        Some(same)
    }

    /// [`crate::looks_like_kubernetes`] of the whole text.
    pub fn looks_like_kubernetes(&self) -> bool {
        let keys = self.keys();
        keys.api_version && keys.kind
    }

    /// [`crate::holds_kubernetes_object`] of the whole text: whether the
    /// file gets findings at all.
    pub fn holds_kubernetes_object(&self) -> bool {
        self.keys().say_kubernetes()
            || self
                .pieces
                .iter()
                .any(|p| p.parsed.as_ref().is_some_and(has_objects))
    }

    fn keys(&self) -> ObjectKeys {
        self.pieces
            .iter()
            .fold(ObjectKeys::default(), |all, p| all.union(p.keys))
    }

    /// The file's ServiceAccounts, in file positions.
    pub fn accounts(&self) -> Vec<ServiceAccount> {
        self.pieces
            .iter()
            .filter_map(|p| p.parsed.as_ref().map(|parsed| (p.start, parsed)))
            .flat_map(|(start, parsed)| parsed.accounts.iter().map(move |a| a.shifted(start)))
            .collect()
    }

    /// Every finding of the file, judged against the file's accounts first
    /// and `workspace` second. `generation` names the state of `workspace`:
    /// when it changes, every document is judged again.
    pub fn findings(
        &mut self,
        text_of: &TextOf<'_>,
        workspace: &dyn AccountLookup,
        generation: u64,
    ) -> Vec<Finding> {
        self.findings_and_accounts(text_of, workspace, generation).0
    }

    /// [`Self::findings`] and [`Self::accounts`] at once (the accounts are
    /// gathered once).
    pub fn findings_and_accounts(
        &mut self,
        text_of: &TextOf<'_>,
        workspace: &dyn AccountLookup,
        generation: u64,
    ) -> (Vec<Finding>, Vec<ServiceAccount>) {
        if self.judged_with != Some(generation) {
            for piece in &mut self.pieces {
                piece.findings = None;
            }
            self.judged_with = Some(generation);
        }
        let accounts = self.accounts();
        let lookup = SameFileFirst {
            file: &accounts,
            workspace,
        };
        let mut all = Vec::new();
        for piece in &mut self.pieces {
            let Some(parsed) = &piece.parsed else {
                continue;
            };
            if piece.findings.is_none() {
                let judged = if parsed.workloads.is_empty() && parsed.syntax_errors.is_empty() {
                    Vec::new()
                } else {
                    let text = text_of(TextRange::new(piece.start, piece.end()));
                    judge_parsed(&text, parsed, &lookup)
                };
                piece.findings = Some(judged);
            }
            for finding in piece.findings.iter().flatten() {
                let mut finding = finding.shifted(piece.start);
                // The account may have moved since the finding was judged.
                if let Some(found) = finding.account.as_mut().and_then(|a| a.found.as_mut()) {
                    if found.origin.is_none() {
                        if let Some(now) = accounts.iter().rev().find(|a| {
                            a.name == found.account.name && a.namespace == found.account.namespace
                        }) {
                            found.account = now.clone();
                        }
                    }
                }
                all.push(finding);
            }
        }
        (all, accounts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{analyze, AccountIndex, NoAccounts};

    fn edit_and_compare(before: &str, start: usize, end: usize, insert: &str) -> usize {
        let mut file = IncrementalFile::new(before);
        let mut after = before.to_string();
        after.replace_range(start..end, insert);
        let text_of = |r: TextRange| after[r.start..r.end].to_string();
        file.findings(&|r| before[r.start..r.end].to_string(), &NoAccounts, 0);
        file.edit(
            TextRange::new(start, end),
            insert.len(),
            after.len(),
            &text_of,
        );
        assert_eq!(
            file.findings(&text_of, &NoAccounts, 0),
            analyze(&after, &NoAccounts, crate::Options::builtin()),
            "after replacing {start}..{end} with {insert:?}:\n{after}"
        );
        file.reparsed
    }

    /// The bytes re-read by one edit inside a CRD-like document, after
    /// checking the result against a fresh analysis.
    fn reread(before: &str, at: usize, insert: &str) -> (usize, usize) {
        let reparsed = edit_and_compare(before, at, at, insert);
        let mut file = IncrementalFile::new(before);
        let mut after = before.to_string();
        after.insert_str(at, insert);
        file.edit(TextRange::new(at, at), insert.len(), after.len(), &|r| {
            after[r.start..r.end].to_string()
        });
        assert_eq!(file.reparsed, reparsed);
        (reparsed, file.reparsed_bytes)
    }

    #[test]
    fn an_edit_inside_a_document_without_a_tree_rereads_its_region_only() {
        let text = "# generated\napiVersion: v1\nkind: ConfigMap\ndata:\n  a:\n    b: 1\n    c: |\n      x\n  d: 2\n---\nkind: Pod\n";
        let end_of = |line: &str| text.find(line).unwrap() + line.len();
        // A leaf entry: its line.
        assert_eq!(
            reread(text, end_of("    b: 1"), " "),
            (0, "    b: 1 \n".len())
        );
        // A bare key: its line alone, not its value's lines.
        assert_eq!(reread(text, end_of("  a"), "x"), (0, "  ax:\n".len()));
        // Inside a block scalar: the entry that holds it.
        assert_eq!(
            reread(text, end_of("      x"), "y"),
            (0, "    c: |\n      xy\n".len())
        );
        // A comment before the content: its line.
        assert_eq!(
            reread(text, end_of("# gen"), "!"),
            (0, "# gen!erated\n".len())
        );
        // A root entry, an edit that breaks the structure: the document.
        assert_eq!(reread(text, end_of("kind: ConfigMap"), " ").0, 1);
        assert_eq!(reread(text, end_of("    b: 1"), "\n x").0, 1);
    }

    const FILE: &str = "kind: Pod\nmetadata: {name: a}\nspec: {containers: []}\n---\nkind: ServiceAccount\nmetadata: {name: default}\n---\nkind: Pod\nmetadata: {name: b}\nspec:\n  containers: []\n---\nkind: ConfigMap\ndata: {a: b}\n";

    #[test]
    fn an_edit_inside_one_document_reparses_it_and_its_neighbours_only() {
        let at = FILE.find("name: b").unwrap();
        let reparsed = edit_and_compare(FILE, at + 6, at + 7, "c");
        assert_eq!(reparsed, 1);
    }

    #[test]
    fn edits_that_make_or_unmake_document_markers_are_exact() {
        let marker = FILE.find("---\nkind: Pod").unwrap();
        edit_and_compare(FILE, marker, marker + 1, "");
        edit_and_compare(FILE, marker, marker, "-");
        let pod = FILE.find("kind: ConfigMap").unwrap();
        edit_and_compare(FILE, pod, pod, "---\n");
        edit_and_compare(FILE, 0, FILE.len(), "");
        edit_and_compare(FILE, FILE.len(), FILE.len(), "---\nkind: Pod\nspec: {}\n");
        edit_and_compare(FILE, 0, 0, "\u{feff}");
        let end = FILE.find("data:").unwrap();
        edit_and_compare(FILE, end, end, "...\n# c\n");
    }

    #[test]
    fn what_the_cluster_refuses_is_found_after_edits_too() {
        // A piece that comes to the file's start: kubectl reads its lone-CR
        // lines as one line starting with `---`.
        let text = "kind: ConfigMap\n---\rkind: Pod\rspec: {}\r";
        edit_and_compare(text, 0, "kind: ConfigMap\n".len(), "");
        edit_and_compare("---\rkind: Pod\r", 0, 0, "a: 1\n");
        // A piece of blank lines alone, with a tab on one.
        edit_and_compare(FILE, FILE.len(), FILE.len(), "---\n\t\n");
        let blank = FILE.len() + "---\n".len();
        edit_and_compare(&format!("{FILE}---\n\t\n"), blank, blank + 1, "");
        // A `...` made or unmade before a piece: go-yaml never reads the
        // lines between it and the next `---`.
        let text = "a: 1\n\t\n---\nkind: Pod\n---\nb: 1\n";
        let end = text.find("\t").unwrap();
        edit_and_compare(text, end, end, "...\n");
        let text = "kind: Pod\n...\n\t\n---\nb: 1\n";
        let end = text.find("...").unwrap();
        edit_and_compare(text, end, end + 3, "");
        edit_and_compare(text, end, end + 1, "");
    }

    #[test]
    fn a_service_account_edited_in_the_file_rejudges_the_others() {
        let at =
            FILE.find("metadata: {name: default}").unwrap() + "metadata: {name: default}".len();
        // Disabling automounting on `default` makes both pods compliant.
        edit_and_compare(FILE, at, at, "\nautomountServiceAccountToken: false");
    }

    #[test]
    fn accounts_changed_by_an_edit_across_documents_rejudge_the_others() {
        // The edits reach over a `---` line: the documents around it are
        // cut again, and the accounts among them compared.
        let text = "kind: Pod\nspec: {containers: []}\n---\nkind: ServiceAccount\nmetadata: {name: default}\nautomountServiceAccountToken: false\n---\nkind: ConfigMap\n---\nkind: Pod\nspec:\n  containers: []\n";
        let setting = text.find("automountServiceAccountToken").unwrap();
        let next = text.find("kind: ConfigMap").unwrap();
        // The setting gone with the marker after it; a marker made inside it.
        edit_and_compare(text, setting, next, "");
        edit_and_compare(text, setting, setting, "---\n");
        // The account's name changed with the marker before it.
        let before = text.find("---\nkind: ServiceAccount").unwrap();
        let name = text.find("name: default").unwrap() + "name: ".len();
        edit_and_compare(
            text,
            before,
            name + 1,
            "---\nkind: ServiceAccount\nmetadata: {name: x",
        );
    }

    #[test]
    fn a_new_workspace_generation_rejudges_every_document() {
        let mut file = IncrementalFile::new(FILE);
        let text_of = |r: TextRange| FILE[r.start..r.end].to_string();
        assert_eq!(file.findings(&text_of, &NoAccounts, 0).len(), 2);
        let mut index = AccountIndex::new();
        index.set("other.yaml", crate::parse("kind: ServiceAccount\nmetadata: {name: default}\nautomountServiceAccountToken: false\n", crate::Options::builtin()).accounts);
        // Same generation: the cache stands.
        assert_eq!(file.findings(&text_of, &index, 0).len(), 2);
        assert_eq!(
            file.findings(&text_of, &index, 1),
            analyze(FILE, &index, crate::Options::builtin())
        );
    }

    #[test]
    fn options_given_at_creation_hold_across_edits() {
        let text = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  pod: {containers: []}\n";
        let mut options = Options::default();
        options.kinds.add(crate::WorkloadKind::new(
            Some("example.com"),
            "Widget",
            &["spec", "pod"],
        ));
        let options = Arc::new(options);
        let mut file = IncrementalFile::with_options(text, Arc::clone(&options));
        let text_of = |r: TextRange| text[r.start..r.end].to_string();
        let expected = crate::analyze(text, &NoAccounts, &options);
        assert_eq!(expected.len(), 1);
        assert_eq!(file.findings(&text_of, &NoAccounts, 0), expected);
        assert!(IncrementalFile::new(text)
            .findings(&text_of, &NoAccounts, 0)
            .is_empty());
        let after = text.replace("name: w", "name: v");
        let at = text.find("name: w").unwrap() + 6;
        file.edit(
            TextRange::new(at, at + 1),
            1,
            after.len(),
            &|r: TextRange| after[r.start..r.end].to_string(),
        );
        let found = file.findings(
            &|r: TextRange| after[r.start..r.end].to_string(),
            &NoAccounts,
            0,
        );
        assert_eq!(found, crate::analyze(&after, &NoAccounts, &options));
        assert_eq!(found.len(), 1);
    }
}
