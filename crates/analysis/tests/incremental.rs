//! Incremental analysis equals a fresh analysis of the whole text, after any
//! sequence of edits, including edits that make, move or remove `---` lines
//! and directives (which Kubernetes cuts from their document).

use proptest::prelude::*;
use tokenguard_analysis::{analyze, AccountIndex, IncrementalFile, NoAccounts, TextRange};

const BASE: &str = "\
# leading comment
kind: Pod
metadata: {name: a, namespace: x}
spec: {containers: []}
---
kind: ServiceAccount
metadata:
  name: default
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: é-deploy
spec:
  template:
    spec:
      containers: []
...
# between
---
kind: CronJob
metadata: {name: c}
spec:
  jobTemplate:
    spec:
      template:
        spec: {automountServiceAccountToken: \"false\"}
---
kind: ConfigMap
data: {a: b}
";

const SNIPPETS: &[&str] = &[
    "---\n",
    "...\n",
    "-",
    "kind: Pod\n",
    "spec:\n  containers: []\n",
    "automountServiceAccountToken: false\n",
    "\nautomountServiceAccountToken: false",
    "  x: [\n",
    "]",
    "# tokenguard-ignore\n",
    "é",
    "\r\n",
    "\n",
    " ",
    "{",
    "%YAML 1.2\n",
    // What only the tolerant re-reading reads (tolerant.rs).
    ":\t",
    "\t",
    "  ]\n",
    "'x\n y'",
    "\"q\"#c",
    // What Kubernetes' decoder refuses although yaml-rust2 reads it
    // (cluster_strictness.rs): tabs on blank lines, in indentation and in
    // block scalars, a file of lone-CR lines that starts with `---`.
    "\n\t\n",
    "  \t\n",
    "- \t",
    "x: |\n  a\n \t\n",
    "\r",
    "---\rkind: Pod\r",
    // Content on a `---` line, which kubectl refuses.
    "--- {}\n",
    "\n--- |\n  x\n",
];

#[derive(Clone, Debug)]
enum Edit {
    Insert(usize, usize),
    Delete(usize, usize),
}

fn floor(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_edit_sequence_matches_a_fresh_analysis(
        edits in prop::collection::vec(
            prop_oneof![
                (any::<usize>(), 0..SNIPPETS.len()).prop_map(|(a, s)| Edit::Insert(a, s)),
                (any::<usize>(), 0usize..40).prop_map(|(a, l)| Edit::Delete(a, l)),
            ],
            1..12,
        )
    ) {
        let mut text = BASE.to_string();
        let mut file = IncrementalFile::new(&text);
        let mut index = AccountIndex::new();
        index.set("other.yaml", tokenguard_analysis::parse("kind: ServiceAccount\nmetadata: {name: default, namespace: x}\nautomountServiceAccountToken: false\n", tokenguard_analysis::Options::builtin()).accounts);
        for (step, edit) in edits.iter().enumerate() {
            let (start, end, insert) = match *edit {
                Edit::Insert(at, s) => {
                    let at = floor(&text, at % (text.len() + 1));
                    (at, at, SNIPPETS[s])
                }
                Edit::Delete(at, len) => {
                    let start = floor(&text, at % (text.len() + 1));
                    (start, floor(&text, start + len), "")
                }
            };
            text.replace_range(start..end, insert);
            let current = text.clone();
            file.edit(TextRange::new(start, end), insert.len(), current.len(), &|r| current[r.start..r.end].to_string());
            let generation = (step % 2) as u64;
            let lookup: &dyn tokenguard_analysis::AccountLookup = if generation == 0 { &NoAccounts } else { &index };
            let incremental = file.findings(&|r| current[r.start..r.end].to_string(), lookup, generation);
            prop_assert_eq!(incremental, analyze(&current, lookup, tokenguard_analysis::Options::builtin()), "after {:?}:\n{}", edits, current);
        }
    }
}

/// A CRD-like document (no tree: only its syntax matters) between
/// documents that hold workloads: edits inside it take the region path
/// (`region.rs`) when they can.
const REGIONS: &str = "\
kind: Pod
metadata: {name: before}
spec: {containers: []}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
  labels:
    app: w
    tier: \"x\"
spec:
  group: example.com
  names:
    kind: Widget
    listKind: WidgetList
  versions:
  - name: v1
    served: true
    schema:
      openAPIV3Schema:
        description: |
          A widget.
            Indented more.

          After a blank line.
        properties:
          spec:
            type: object
            description: >-
              Folded
              text
            properties:
              size:
                type: integer
                enum: [1, 2,
                  3]
              note:
                type: string
                description: \"a multi-line
                  quoted scalar\"
              other:
                description: 'single
                  quoted'
# a comment at column 0
              list:
                - a
                - b: 1
                  c: 2
                -
                  d: 3
                - - e
                  - f
              plain: a plain scalar
                that continues
              keep: |+
                kept

              empty:
              - x
              tabbed: a\tvalue
              \"quoted key\": 1
              ? complex
              : value
          status: {type: object}
  - name: v2
    served: false
---
kind: ServiceAccount
metadata:
  name: default
---
kind: Pod
metadata: {name: after}
spec:
  containers: []
";

/// What an edit inserts, aimed at what the region path must refuse or
/// take: indentation, entries, block scalars, flow collections, quotes,
/// anchors and aliases, tabs, markers, line ends, keys of objects.
const REGION_SNIPPETS: &[&str] = &[
    " ",
    "  ",
    "x",
    "\n",
    "\n  k: v",
    "\n- i",
    "\n  - i",
    ":",
    ": ",
    "- ",
    "#",
    " # c",
    "|",
    ">",
    "|-\n",
    "\"",
    "'",
    "[",
    "]",
    "{",
    "}",
    "&a ",
    "*a",
    "&a x\n",
    "\t",
    "\n\t\n",
    "---",
    "\n---\n",
    "...",
    "\n...\n",
    "\r\n",
    "\r",
    "\\",
    "kind: Pod",
    "\nkind: Pod\n",
    "apiVersion: v1",
    "\nkind:",
    "é",
    "? ",
    "!t ",
    "%",
    "\n%YAML 1.2\n",
    "\u{0}",
    "a: b: c",
    "\n    more: 1",
    ",",
    "\u{feff}",
];

#[derive(Clone, Debug)]
enum LineEdit {
    /// Insert a snippet on a line: at its start, after its indentation,
    /// at its end, or at a byte inside it.
    Insert(usize, u8, usize, usize),
    /// Delete bytes from a place on a line.
    Delete(usize, u8, usize, usize),
    /// Remove one space of a line's indentation.
    Dedent(usize),
    /// Delete a whole line.
    DeleteLine(usize),
}

/// The byte range of line `n` (modulo the line count) and the place on it.
fn place(text: &str, line: usize, how: u8, at: usize) -> (usize, usize) {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let start = starts[line % starts.len()];
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let end = if text[..end].ends_with('\r') && end > start {
        end - 1
    } else {
        end
    };
    let at = match how % 4 {
        0 => start,
        1 => start + text[start..end].len() - text[start..end].trim_start_matches(' ').len(),
        2 => end,
        _ => start + at % (end - start + 1),
    };
    (floor(text, at), floor(text, end.max(at)))
}

fn line_edit_strategy() -> impl Strategy<Value = LineEdit> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>(), any::<usize>(), 0..REGION_SNIPPETS.len())
            .prop_map(|(l, h, a, s)| LineEdit::Insert(l, h, a, s)),
        2 => (any::<usize>(), any::<u8>(), any::<usize>(), 1usize..12)
            .prop_map(|(l, h, a, n)| LineEdit::Delete(l, h, a, n)),
        1 => any::<usize>().prop_map(LineEdit::Dedent),
        1 => any::<usize>().prop_map(LineEdit::DeleteLine),
    ]
}

/// Applies `edits` to `base` one by one, each to the incremental file and
/// compared with a fresh analysis; returns how many took the region path.
fn run_line_edits(base: &str, edits: &[LineEdit]) -> Result<usize, TestCaseError> {
    let options = tokenguard_analysis::Options::builtin();
    let mut text = base.to_string();
    let mut file = IncrementalFile::new(&text);
    let mut regions = 0;
    for edit in edits {
        let (start, end, insert) = match *edit {
            LineEdit::Insert(line, how, at, s) => {
                let (at, _) = place(&text, line, how, at);
                (at, at, REGION_SNIPPETS[s])
            }
            LineEdit::Delete(line, how, at, n) => {
                let (at, _) = place(&text, line, how, at);
                (at, floor(&text, at + n), "")
            }
            LineEdit::Dedent(line) => {
                let (start, _) = place(&text, line, 0, 0);
                if !text[start..].starts_with(' ') {
                    continue;
                }
                (start, start + 1, "")
            }
            LineEdit::DeleteLine(line) => {
                let (start, end) = place(&text, line, 0, 0);
                let end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
                (start, end, "")
            }
        };
        text.replace_range(start..end, insert);
        let current = text.clone();
        let text_of = |r: TextRange| current[r.start..r.end].to_string();
        file.edit(
            TextRange::new(start, end),
            insert.len(),
            current.len(),
            &text_of,
        );
        if file.reparsed == 0 && file.reparsed_bytes < current.len() / 4 {
            regions += 1;
        }
        let parsed = tokenguard_analysis::parse(&current, options);
        prop_assert_eq!(
            file.findings(&text_of, &NoAccounts, 0),
            analyze(&current, &NoAccounts, options),
            "after {:?}:\n{}",
            edits,
            current
        );
        prop_assert_eq!(
            file.holds_kubernetes_object(),
            tokenguard_analysis::holds_kubernetes_object(&current, &parsed),
            "after {:?}:\n{}",
            edits,
            current
        );
        prop_assert_eq!(
            file.looks_like_kubernetes(),
            tokenguard_analysis::looks_like_kubernetes(&current)
        );
    }
    Ok(regions)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn edits_aimed_at_regions_match_a_fresh_analysis(
        edits in prop::collection::vec(line_edit_strategy(), 1..16)
    ) {
        run_line_edits(REGIONS, &edits)?;
    }

    #[test]
    fn edits_aimed_at_regions_of_crlf_text_match_a_fresh_analysis(
        edits in prop::collection::vec(line_edit_strategy(), 1..10)
    ) {
        run_line_edits(&REGIONS.replace('\n', "\r\n"), &edits)?;
    }

    #[test]
    fn edits_aimed_at_regions_after_a_bom_match_a_fresh_analysis(
        edits in prop::collection::vec(line_edit_strategy(), 1..6)
    ) {
        run_line_edits(&format!("\u{feff}{}", &REGIONS[REGIONS.find("apiVersion").unwrap_or(0)..]), &edits)?;
    }
}

/// The region path is taken, not only allowed: trailing blanks typed at
/// the end of every line of the CRD (as the latency harness types them)
/// re-read a region each, never the document.
#[test]
fn blanks_typed_inside_the_crd_reread_regions_only() {
    let crd_start = REGIONS.find("apiVersion").unwrap();
    let crd_end = REGIONS.find("---\nkind: ServiceAccount").unwrap();
    let crd_lines = REGIONS[crd_start..crd_end].lines().count();
    let edits: Vec<LineEdit> = (1..crd_lines)
        .map(|l| LineEdit::Insert(3 + l, 2, 0, 0))
        .collect();
    let regions = run_line_edits(REGIONS, &edits).unwrap();
    assert!(
        regions * 10 >= edits.len() * 8,
        "{regions} of {} edits took the region path",
        edits.len()
    );
}

/// Every snippet at the end of every line and after its indentation, one
/// edit at a time: each equals a fresh analysis, and most inside the CRD
/// take the region path.
#[test]
fn each_snippet_on_each_line_matches_a_fresh_analysis() {
    let lines = REGIONS.lines().count();
    let mut regions = 0;
    let mut edits = 0;
    for line in 0..lines {
        for how in [1u8, 2] {
            for s in 0..REGION_SNIPPETS.len() {
                edits += 1;
                regions += run_line_edits(REGIONS, &[LineEdit::Insert(line, how, 0, s)]).unwrap();
            }
        }
    }
    assert!(
        regions * 5 >= edits,
        "{regions} of {edits} edits took the region path"
    );
}

/// A comment before a document's content is edited without reading the
/// document; inside a quoted scalar, a `#` line is no comment.
#[test]
fn comments_before_the_content_and_lines_that_only_look_like_them() {
    let text = "# generated\n# kind: x\n---\nkind: ConfigMap\ndata:\n  a: \"x\n    # y\"\n  b: 1\n";
    for line in 0..7 {
        for s in 0..REGION_SNIPPETS.len() {
            run_line_edits(text, &[LineEdit::Insert(line, 2, 0, s)]).unwrap();
            run_line_edits(text, &[LineEdit::Insert(line, 3, 3, s)]).unwrap();
        }
    }
    let regions = run_line_edits(text, &[LineEdit::Insert(0, 2, 0, 2)]).unwrap();
    assert_eq!(regions, 1, "a comment edited before the content");
}

/// yaml-rust2 reads `[1, :` otherwise after a flow mapping anywhere before
/// it (found by the property tests): a region after one may not hold a flow
/// collection, before one it may not make one.
#[test]
fn flow_sequences_after_a_flow_mapping_are_read_in_place() {
    let colon = REGION_SNIPPETS.iter().position(|s| *s == ":").unwrap();
    let brace = REGION_SNIPPETS.iter().position(|s| *s == "{").unwrap();
    for text in [
        "kind: ConfigMap\na: {b: x}\nc:\n  d: [1, 2,\n   3]\n  e: 1\n",
        "kind: ConfigMap\nc:\n  d: [1, 2,\n   3]\n  e: 1\na: {b: x}\n",
        "kind: ConfigMap\nc:\n  e: 1\n  d: [1, 2,\n   3]\n",
    ] {
        for line in 0..6 {
            for how in 0..4 {
                for s in [colon, brace] {
                    run_line_edits(text, &[LineEdit::Insert(line, how, 11, s)]).unwrap();
                }
            }
        }
    }
}

/// Deleting the line break before a `...` line makes it content of the line
/// above: the document is no longer closed, and the one after it joins it
/// (found by the property tests in CI).
#[test]
fn a_document_end_marker_joined_to_the_line_above_is_read_again() {
    let marker = REGION_SNIPPETS
        .iter()
        .position(|s| *s == "\n...\n")
        .unwrap();
    let dash_e = REGIONS.lines().position(|l| l.trim() == "- - e").unwrap();
    for text in [REGIONS.to_string(), REGIONS.replace('\n', "\r\n")] {
        for n in 1..4 {
            let edits = [
                LineEdit::Insert(dash_e, 0, 0, marker),
                LineEdit::Delete(dash_e - 1, 2, 0, n),
            ];
            run_line_edits(&text, &edits).unwrap();
        }
    }
}
