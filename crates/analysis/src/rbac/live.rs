//! The roles and bindings of an edited file, kept between revisions (the
//! language server's live analysis holds them beside its
//! `IncrementalFile`): an edit re-reads only the RBAC document it lands
//! in, or none, so that a keystroke in a large file neither copies nor
//! scans it whole. What they hold always equals [`super::rbac_of_text`]
//! of the current text.
//!
//! The documents that count are those some line of which gives `kind` an
//! RBAC kind (`rbac_documents`; a line-local rule), cut at document marker
//! lines. So an edit whose lines (before and after) hold no marker line leaves every document's bounds where they
//! were, moved; it changes the objects of the RBAC document it lands in
//! (read again), or, outside them, makes a new one only when its lines
//! name an RBAC kind. Anything else (a marker line edited, lines too long
//! to look at) reads the whole text again.

use super::objects::is_marker_line;
use super::{may_hold_rbac, rbac_documents, rbac_of_document, RbacObjects};
use crate::incremental::TextOf;
use crate::text::TextRange;

/// Edited lines longer than this are not looked at: the text is read again
/// (an embedder need not copy them out: [`EditedLines`]).
pub const MAX_EDITED_LINES: usize = 64 * 1024;

/// The whole lines an edit touched, before and after it: from the start of
/// the line holding the edit's start to the end (break included) of the
/// line holding its end (a line break changed at the edit's end changes
/// where the next line starts: that line is the end's). `None` for either
/// when they are longer than [`MAX_EDITED_LINES`] or out of the text.
pub struct EditedLines {
    /// Where they start in the text (the same before and after the edit).
    pub start: usize,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Default)]
pub struct RbacFacts {
    /// The documents that name an RBAC kind, in order, with their objects
    /// (in the text's positions).
    documents: Vec<(TextRange, RbacObjects)>,
    /// Documents read by the last [`RbacFacts::edit`] (`usize::MAX`: the
    /// whole text), for tests.
    pub reread: usize,
}

impl RbacFacts {
    pub fn of_text(text: &str) -> Self {
        Self {
            documents: rbac_documents(text),
            reread: usize::MAX,
        }
    }

    /// The file's objects, as `rbac_of_text` gives them.
    pub fn objects(&self) -> RbacObjects {
        let mut all = RbacObjects::default();
        for (_, objects) in &self.documents {
            all.roles.extend(objects.roles.iter().cloned());
            all.bindings.extend(objects.bindings.iter().cloned());
        }
        all
    }

    /// Takes in an edit that replaced `old` with `new_len` bytes; `lines`
    /// are the lines it touched, `text_of` reads the new text and `whole`
    /// gives all of it (asked only when the edit cannot be taken in).
    pub fn edit(
        &mut self,
        old: TextRange,
        new_len: usize,
        lines: EditedLines,
        text_of: &TextOf<'_>,
        whole: impl FnOnce() -> String,
    ) {
        self.reread = 0;
        if !self.try_edit(old, new_len, lines, text_of) {
            *self = Self::of_text(&whole());
        }
    }

    /// False when the whole text must be read again.
    fn try_edit(
        &mut self,
        old: TextRange,
        new_len: usize,
        lines: EditedLines,
        text_of: &TextOf<'_>,
    ) -> bool {
        let (Some(lines_before), Some(lines_after)) = (lines.before, lines.after) else {
            return false;
        };
        if (has_marker_line(&lines_before) || has_marker_line(&lines_after))
            && !same_cuts(
                &lines_before,
                &lines_after,
                old.start.saturating_sub(lines.start),
            )
        {
            return false;
        }
        let delta = new_len as isize - old.len() as isize;
        let touches = |r: &TextRange| r.start <= old.end && old.start <= r.end;
        let touched: Vec<usize> = (0..self.documents.len())
            .filter(|&i| touches(&self.documents[i].0))
            .collect();
        if touched.is_empty() && may_hold_rbac(&lines_after) {
            return false; // perhaps a new RBAC document
        }
        for &i in &touched {
            let range = self.documents[i].0;
            // Bounds unchanged (no marker line edited): the edit is inside.
            if old.start < range.start || old.end > range.end {
                return false;
            }
        }
        // Back to front, so that the indices stay valid.
        for &i in touched.iter().rev() {
            let range = self.documents[i].0;
            let range = TextRange::new(range.start, (range.end as isize + delta) as usize);
            let text = text_of(range);
            self.reread += 1;
            if may_hold_rbac(&text) {
                let objects = rbac_of_document(&text, range.start == 0);
                self.documents[i] = (range, objects.shifted(range.start as isize));
            } else {
                self.documents.remove(i);
            }
        }
        for (range, objects) in &mut self.documents {
            if range.start >= old.end && !touches(range) {
                *range = range.shifted(delta);
                shift_in_place(objects, delta);
            }
        }
        true
    }
}

/// [`RbacObjects::shifted`] without a copy: every position of `objects`
/// moved by `by` bytes (a keystroke moves every document after it).
fn shift_in_place(objects: &mut RbacObjects, by: isize) {
    for role in &mut objects.roles {
        role.name_range = role.name_range.shifted(by);
    }
    for binding in &mut objects.bindings {
        binding.name_range = binding.name_range.shifted(by);
        if let Some(role_ref) = binding.role_ref.as_mut() {
            role_ref.range = role_ref.range.shifted(by);
        }
        for subject in &mut binding.subjects {
            subject.range = subject.range.shifted(by);
        }
    }
}

/// Whether the edited lines, `before` and `after` an edit that starts
/// `edit_at` bytes into them, cut documents at the same places: the same
/// marker lines (`rbac_documents`' rule), all of them starting before the
/// edit (so that every cut after it only moves with the text). Then the
/// documents are where they were, moved (a blank typed at the end of a
/// `---` line).
fn same_cuts(before: &str, after: &str, edit_at: usize) -> bool {
    let markers = |lines: &str| -> Vec<usize> {
        let bytes = lines.as_bytes();
        std::iter::once(0)
            .chain(memchr::memchr2_iter(b'\n', b'\r', bytes).map(|i| i + 1))
            .filter(|&line| line < bytes.len() && is_marker_line(bytes, line))
            .collect()
    };
    let cuts = markers(before);
    cuts.iter().all(|&cut| cut < edit_at) && cuts == markers(after)
}

/// Whether a line of `text` may be a document marker (`---` or `...` at
/// its start: more than the splitter's rule, never less).
fn has_marker_line(text: &str) -> bool {
    text.split(['\n', '\r'])
        .any(|line| line.starts_with("---") || line.starts_with("..."))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get]\n";
    const BINDING: &str = "kind: RoleBinding\nmetadata: {name: b}\nroleRef: {kind: Role, name: reader}\nsubjects:\n- {kind: ServiceAccount, name: web}\n";
    const CONFIG: &str = "kind: ConfigMap\ndata:\n  a: Role\n  b: c\n";

    #[test]
    fn objects_shifted_in_place_equal_shifted_copies() {
        let objects = crate::rbac::rbac_of_text(&text());
        assert!(!objects.roles.is_empty() && !objects.bindings.is_empty());
        for by in [-3, 0, 7] {
            let mut moved = objects.clone();
            shift_in_place(&mut moved, by);
            assert_eq!(moved, objects.shifted(by));
        }
    }

    /// [`EditedLines`] of a string (a line ends at `\n` or `\r`).
    fn lines_of(text: &str, start: usize, end: usize) -> Option<String> {
        let from = text[..start].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        let to = text[end..]
            .find(['\n', '\r'])
            .map_or(text.len(), |i| end + i + 1);
        (to - from <= MAX_EDITED_LINES).then(|| text[from..to].to_string())
    }

    fn text() -> String {
        format!("{CONFIG}---\n{ROLE}---\n{CONFIG}---\n{BINDING}---\n{CONFIG}")
    }

    /// Replaces `start..end` with `insert`, checks the facts against a
    /// fresh read, and returns how many documents were read.
    fn edit(
        text: &mut String,
        facts: &mut RbacFacts,
        start: usize,
        end: usize,
        insert: &str,
    ) -> usize {
        let before = lines_of(text, start, end);
        text.replace_range(start..end, insert);
        let lines = EditedLines {
            start: text[..start].rfind(['\n', '\r']).map_or(0, |i| i + 1),
            before,
            after: lines_of(text, start, start + insert.len()),
        };
        let now = text.clone();
        let text_of = |r: TextRange| now[r.start..r.end].to_string();
        facts.edit(
            TextRange::new(start, end),
            insert.len(),
            lines,
            &text_of,
            || now.clone(),
        );
        assert_eq!(
            facts.objects(),
            crate::rbac::rbac_of_text(text),
            "after {start}..{end} -> {insert:?}:\n{text}"
        );
        facts.reread
    }

    #[test]
    fn an_edit_reads_the_rbac_document_it_lands_in_or_none() {
        let mut text = text();
        let mut facts = RbacFacts::of_text(&text);
        assert_eq!(facts.objects(), crate::rbac::rbac_of_text(&text));
        // In a ConfigMap: nothing read, the roles and bindings after it moved.
        let at = text.find("a: Role").unwrap();
        assert_eq!(edit(&mut text, &mut facts, at, at, "xx "), 0);
        // In the role: it alone.
        let at = text.find("verbs: [get]").unwrap() + 8;
        assert_eq!(edit(&mut text, &mut facts, at, at, ", list"), 1);
        let at = text.find("name: reader").unwrap();
        assert_eq!(edit(&mut text, &mut facts, at + 6, at + 12, "writer"), 1);
        // The binding's kind changed (its roleRef still names a Role: still
        // one of the documents).
        let at = text.find("kind: RoleBinding").unwrap();
        assert_eq!(edit(&mut text, &mut facts, at + 6, at + 10, "Config"), 1);
        // The role's kind changed: no longer an RBAC document.
        let at = text.find("kind: Role\n").unwrap();
        assert_eq!(edit(&mut text, &mut facts, at + 6, at + 10, "Secret"), 1);
        // And back, from outside every RBAC document: the text is read.
        assert_eq!(
            edit(&mut text, &mut facts, at + 6, at + 12, "Role"),
            usize::MAX
        );
        // A marker line edited: the text is read.
        let at = text.find("---\nkind: ConfigBinding").unwrap();
        assert_eq!(edit(&mut text, &mut facts, at, at + 1, ""), usize::MAX);
        edit(&mut text, &mut facts, at, at, "-");
        // A blank typed at the end of marker lines: they stay markers, the
        // documents stay where they were (the one it lands in is read).
        let at = text.find("---\nkind: ConfigMap").unwrap() + 3;
        assert_eq!(edit(&mut text, &mut facts, at, at, " "), 0);
        let at = text.find("---\nkind: ConfigBinding").unwrap() + 3;
        assert_eq!(edit(&mut text, &mut facts, at, at, " "), 1);
        // Not when it makes or unmakes one, or a marker follows the edit.
        let at = text.find("--- \nkind: ConfigBinding").unwrap() + 3;
        assert_eq!(edit(&mut text, &mut facts, at, at + 1, "x"), usize::MAX);
        assert_eq!(edit(&mut text, &mut facts, at, at + 1, " "), usize::MAX);
        let at = text.find("\n---").unwrap();
        assert_eq!(edit(&mut text, &mut facts, at, at + 1, "\n\n"), usize::MAX);
    }

    #[test]
    fn random_edits_keep_the_facts_exact() {
        let mut seed = 11u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n.max(1)
        };
        let pieces = [
            "",
            " ",
            "\n",
            "Role",
            "kind: Role\n",
            "---\n",
            "x",
            "  - a\n",
            ":",
            "\r\n",
            "\u{feff}",
            "...",
            "-",
            "\t",
        ];
        for _ in 0..300 {
            let mut text = text();
            let mut facts = RbacFacts::of_text(&text);
            for _ in 0..6 {
                let mut start = next(text.len() + 1);
                while !text.is_char_boundary(start) {
                    start -= 1;
                }
                let mut end = (start + next(12)).min(text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                let insert = pieces[next(pieces.len())];
                edit(&mut text, &mut facts, start, end, insert);
            }
        }
    }
}
