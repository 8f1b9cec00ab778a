//! Helm chart templates in the editor: which documents are templates, and
//! the chart (values and ServiceAccounts) they are judged with, read from
//! open buffers first and the disk otherwise. A template is analysed whole
//! at each revision (it is small); the judging is the analysis crate's.

use std::path::{Path, PathBuf};

use ropey::Rope;

use tokenguard_analysis::files::{self, FileKind};
use tokenguard_analysis::helm::{self, ChartView, Template, TemplateContext, ValuesFile};
use tokenguard_analysis::{AccountLookup, Finding, Options};

use crate::documents::{ByteChange, Document};
use crate::identity::DocumentKey;
use crate::workspace;

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

/// The chart a `values.yaml` belongs to, or a template's chart: the charts
/// whose open templates must be judged again when `key` changes.
pub fn affected_chart(key: &DocumentKey) -> Option<PathBuf> {
    let path = key.to_path()?;
    helm::values_chart(&path, &is_chart).or_else(|| helm::chart_root(&path, &is_chart))
}

/// Reads the chart at `root`: `read` gives a file's text (the open buffer
/// if there is one). Files are named by their canonical URIs (see
/// [`DocumentKey::as_str`]).
pub fn chart_view(root: &Path, read: &dyn Fn(&Path) -> Option<String>) -> ChartView {
    let values_path = root.join("values.yaml");
    let values = read(&values_path)
        .zip(DocumentKey::from_path(&values_path))
        .map(|(text, key)| ValuesFile::new(key.as_str(), text));
    let templates = workspace::yaml_files(&root.join("templates"))
        .into_iter()
        .filter_map(|path| {
            let text = read(&path).filter(|t| t.contains("ServiceAccount"))?;
            Some((DocumentKey::from_path(&path)?.as_str().to_string(), text))
        });
    ChartView::new(values, templates)
}

/// The findings of a template.
pub fn check(
    text: &str,
    key: &DocumentKey,
    chart: Option<&ChartView>,
    workspace: &dyn AccountLookup,
    options: &Options,
) -> Vec<Finding> {
    // The chart names its files by their paths on disk: the template goes
    // by the same name, even when the client's spelling differs in case.
    let file = chart
        .and_then(|c| {
            c.accounts
                .iter()
                .map(|a| a.file.as_str())
                .find(|f| key.is_named(f))
        })
        .unwrap_or(key.as_str());
    let context = TemplateContext {
        file,
        values: chart.and_then(|c| c.values.as_ref()),
        accounts: chart.map_or(&[], |c| c.accounts.as_slice()),
    };
    let template = Template::parse_with_options(text, context.values, options);
    // The one rule of which files get findings (the CLI's too).
    if !tokenguard_analysis::holds_kubernetes_object(text, &template.parsed) {
        return Vec::new();
    }
    helm::check_template(text, &template, &context, workspace)
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
        // An account named by a helper: the chart's list decides it.
        let text = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  \
            name: {{ include \"web.sa\" . }}\n---\napiVersion: apps/v1\nkind: Deployment\n\
            metadata:\n  name: web\nspec:\n  template:\n    spec:\n      \
            serviceAccountName: {{ include \"web.sa\" . }}\n      containers: []\n";
        let on_disk = "file:///C%3A/Charts/web/templates/all.yaml";
        let chart = ChartView {
            values: None,
            accounts: helm::chart_accounts(on_disk, text, None),
        };
        assert_eq!(chart.accounts.len(), 1);
        // Where the account of each finding was found: `Some(None)` for
        // the template itself.
        let origins = |spelling: &str| -> Vec<Option<Option<String>>> {
            let key = DocumentKey::on(Platform::Windows, &spelling.parse().unwrap());
            let workspace = tokenguard_analysis::NoAccounts;
            check(text, &key, Some(&chart), &workspace, &Options::default())
                .iter()
                .map(|f| {
                    let found = f.account.as_ref()?.found.as_ref()?;
                    Some(found.origin.clone())
                })
                .collect()
        };
        assert_eq!(origins(on_disk), vec![Some(None)]);
        assert_eq!(
            origins("file:///c:/charts/WEB/templates/all.yaml"),
            vec![Some(None)],
            "the client's spelling differs in case only"
        );
    }
}
