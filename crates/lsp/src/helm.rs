//! Helm chart templates in the editor, the glue around the analysis host's
//! one Helm path: which documents are templates (the one classification,
//! `files::classify`, with the braces looked for in the rope without
//! reading the whole text at each keystroke), and what the template's chart
//! calls it. A template is analysed whole at each revision (it is small);
//! its chart is the host's, the judging the analysis crate's.

use std::path::Path;

use ropey::Rope;

use tokenguard_analysis::files::{self, FileKind};
use tokenguard_analysis::helm;
use tokenguard_analysis::host::{AnalysisHost, FilePath, FileSource};

use crate::documents::{ByteChange, Document};
use crate::identity::DocumentKey;

fn is_chart(dir: &Path) -> bool {
    dir.join("Chart.yaml").is_file()
}

/// How to read `doc` (the classification the command line uses too).
pub fn kind(key: &DocumentKey, doc: &Document) -> FileKind {
    let path = key.to_path();
    files::classify(path.as_deref(), &is_chart, || {
        doc.may_hold_actions && has_actions(&doc.rope)
    })
}

/// A template action in the rope; the whole text is read only when some
/// `{{` is there.
fn has_actions(rope: &Rope) -> bool {
    may_hold_actions(rope) && helm::has_actions(&rope.to_string())
}

/// Whether the rope holds `{{` (also across its chunk boundaries).
pub fn may_hold_actions(rope: &Rope) -> bool {
    let mut previous_brace = false;
    for chunk in rope.chunks() {
        if (previous_brace && chunk.starts_with('{')) || chunk.contains("{{") {
            return true;
        }
        previous_brace = chunk.ends_with('{');
    }
    false
}

/// [`may_hold_actions`] of a text after `changes`, given its answer before
/// them. A text without `{{` gains one only where a change wrote, or where
/// a deletion brought two braces together: for one change (a keystroke)
/// only that window is read; otherwise, or when the text had `{{` before
/// (which any change may have removed), the whole text is.
pub fn may_hold_actions_after(before: bool, rope: &Rope, changes: &[ByteChange]) -> bool {
    match changes {
        [ByteChange::Replace { old, new_len }] if !before => {
            // In characters, widened to whole ones: the window's byte ends
            // may fall inside multi-byte characters.
            let len = rope.len_bytes();
            let start = rope.byte_to_char(old.start.saturating_sub(1).min(len));
            let end = (old.start + new_len + 1).min(len);
            let end = if end == 0 {
                0
            } else {
                rope.byte_to_char(end - 1) + 1
            };
            let window: String = rope.slice(start..end.max(start)).chunks().collect();
            window.contains("{{")
        }
        _ => may_hold_actions(rope),
    }
}

/// What the chart of a template calls it (the name the host's chart gives
/// the file on disk), even when the client's spelling of the document
/// differs from it in letter case only; its path otherwise.
pub fn template_name<S: FileSource>(
    key: &DocumentKey,
    kind: &FileKind,
    host: &AnalysisHost<S>,
) -> String {
    let own = key.to_path().map_or_else(
        || key.as_str().to_string(),
        |p| FilePath::from_path(&p).as_str().to_string(),
    );
    let FileKind::ChartTemplate(root) = kind else {
        return own;
    };
    host.chart(&FilePath::from_path(root))
        .and_then(|chart| {
            chart
                .accounts
                .iter()
                .map(|a| a.file.as_str())
                .find(|f| key.names_path(f))
        })
        .map_or(own, str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_found_across_chunks() {
        let long = format!("{}{{{{ .Values.a }}}}", "a: b\n".repeat(2000));
        assert!(has_actions(&Rope::from_str(&long)));
        assert!(!has_actions(&Rope::from_str(&"a: {b}\n".repeat(2000))));
    }

    /// The text after replacing `old` of `before` by `new`, and what
    /// `may_hold_actions_after` says of it given `before`'s answer.
    fn after_one_change(before: &str, old: std::ops::Range<usize>, new: &str) -> (bool, bool) {
        let mut text = before.to_string();
        text.replace_range(old.clone(), new);
        let rope = Rope::from_str(&text);
        let change = ByteChange::Replace {
            old: tokenguard_analysis::TextRange::new(old.start, old.end),
            new_len: new.len(),
        };
        let incremental =
            may_hold_actions_after(may_hold_actions(&Rope::from_str(before)), &rope, &[change]);
        (incremental, may_hold_actions(&rope))
    }

    #[test]
    fn braces_are_tracked_through_single_changes() {
        let plain = "a: {b}\nc: d\n";
        // A keystroke away from any brace, typing the second brace, a
        // deletion that joins two braces, a paste of a whole action.
        for (old, new) in [
            (8..9, "e"),
            (4..4, "{"),
            (5..6, ""),
            (12..12, "{{ .Values.x }}"),
        ] {
            let (incremental, whole) = after_one_change(plain, old.clone(), new);
            assert_eq!(incremental, whole, "replacing {old:?} by {new:?}");
        }
        assert_eq!(after_one_change(plain, 4..4, "{"), (true, true));
        assert_eq!(after_one_change(plain, 8..9, "e"), (false, false));
        // Windows that end inside multi-byte characters.
        let wide = "é: {ü}\n€: 😀\n";
        for at in (0..=wide.len()).filter(|&i| wide.is_char_boundary(i)) {
            for new in ["{", "x", "é"] {
                let (incremental, whole) = after_one_change(wide, at..at, new);
                assert_eq!(incremental, whole, "inserting {new:?} at {at}");
            }
        }
        // Deleting what stood between two braces joins them.
        assert_eq!(after_one_change("a: {x{\n", 4..5, ""), (true, true));
        // A text that had an action: removing it is seen.
        assert_eq!(after_one_change("a: {{ x }}\n", 3..10, "1"), (false, false));
    }

    #[test]
    fn a_template_goes_by_the_name_its_chart_gives_it() {
        use crate::identity::Platform;
        use tokenguard_analysis::host::Need;
        // An account named by a helper: the chart's list decides it.
        let text = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  \
            name: {{ include \"web.sa\" . }}\n---\napiVersion: apps/v1\nkind: Deployment\n\
            metadata:\n  name: web\nspec:\n  template:\n    spec:\n      \
            serviceAccountName: {{ include \"web.sa\" . }}\n      containers: []\n";
        const ON_DISK: &str = "C:/Charts/web/templates/all.yaml";
        /// The chart on disk, as a Windows editor's host sees it.
        struct Chart(&'static str);
        impl FileSource for Chart {
            fn read(&self, path: &FilePath, _: Need) -> Option<String> {
                (path.as_str() == ON_DISK).then(|| self.0.to_string())
            }
            fn is_file(&self, path: &FilePath) -> bool {
                path.as_str() == "C:/Charts/web/Chart.yaml"
            }
            fn list_yaml(&self, dir: &FilePath) -> Vec<FilePath> {
                (dir.as_str() == "C:/Charts/web/templates")
                    .then(|| FilePath::new(ON_DISK))
                    .into_iter()
                    .collect()
            }
        }
        let mut host = AnalysisHost::new(Chart(text));
        host.set_file(FilePath::new(ON_DISK), text.to_string());
        let kind = FileKind::ChartTemplate("C:/Charts/web".into());
        assert_eq!(host.kind(&FilePath::new(ON_DISK)), Some(&kind));
        let chart = host.chart(&FilePath::new("C:/Charts/web")).expect("read");
        assert_eq!(chart.accounts.len(), 1);
        // Where the account of each finding was found: `Some(None)` for
        // the template itself.
        let origins = |spelling: &str| -> Vec<Option<Option<String>>> {
            let key = DocumentKey::on(Platform::Windows, &spelling.parse().unwrap());
            let name = template_name(&key, &kind, &host);
            let workspace = tokenguard_analysis::NoAccounts;
            let options = tokenguard_analysis::Options::default();
            let (_, findings, _) = host.judge_template(&name, &kind, text, &workspace, &options);
            findings
                .iter()
                .map(|f| {
                    let found = f.account.as_ref()?.found.as_ref()?;
                    Some(found.origin.clone())
                })
                .collect()
        };
        assert_eq!(
            origins("file:///C%3A/Charts/web/templates/all.yaml"),
            vec![Some(None)]
        );
        assert_eq!(
            origins("file:///c:/charts/WEB/templates/all.yaml"),
            vec![Some(None)],
            "the client's spelling differs in case only"
        );
    }
}
