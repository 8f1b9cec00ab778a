//! Adversarial inputs, each with its expected outcome: pathological nesting,
//! alias bombs, huge files and lines, bytes YAML forbids, encodings other
//! than UTF-8, and the odd corners of YAML syntax that real manifests use
//! (tabs, CR line endings, document markers, tags, merge keys, duplicate
//! keys).
//!
//! Every case finishes in bounded time and memory by construction: nesting is
//! cut off at a fixed depth, aliases are never expanded, and files over the
//! size limit are refused before they are read. The tests assert on the
//! results; how long each input takes is measured by a benchmark, not here:
//! `cargo bench -p tokenguard-analysis --bench adversarial`.

use std::fs;
use std::process::Output;

use serde_json::Value;
use tokenguard_analysis::{analyze, apply_edits, Code, Finding, NoAccounts};

mod common;
use common::{stderr, tokenguard};

/// A Pod without the field: one TG001 on its `spec` key.
const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n";

fn findings(text: &str) -> Vec<Finding> {
    analyze(text, &NoAccounts, tokenguard_analysis::Options::builtin())
}

fn codes(findings: &[Finding]) -> Vec<Code> {
    findings.iter().map(|f| f.code).collect()
}

/// The 0-based line and byte column of an offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches(['\n', '\r']).count() - before.matches("\r\n").count();
    let start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
    (line, offset - start)
}

/// A document that cannot be analysed, followed by a Pod that must still be.
fn then_a_pod(document: &str) -> String {
    format!("{document}\n---\n{POD}")
}

/// Checks the outcome shared by every "too deep" input: one TG000 on the
/// broken document, near its start, and the Pod after it still judged.
fn assert_one_syntax_error_then_the_pod(text: &str, message: &str) {
    let found = findings(text);
    assert_eq!(codes(&found), [Code::TG000, Code::TG001], "{found:#?}");
    assert!(
        found[0].message.contains(message),
        "{:?} should mention {message:?}",
        found[0].message
    );
    assert!(
        found[0].range.start < 10_000,
        "reported where the depth is exceeded"
    );
    let pod_spec = text.rfind("spec:").unwrap();
    assert_eq!(found[1].range.start, pod_spec);
}

// ---------------------------------------------------------------------------
// Nesting and aliases
// ---------------------------------------------------------------------------

#[test]
fn a_hundred_thousand_nested_flow_sequences_are_one_syntax_error() {
    let n = 100_000;
    let text = then_a_pod(&format!(
        "kind: Pod\nspec: {}{}",
        "[".repeat(n),
        "]".repeat(n)
    ));
    assert_one_syntax_error_then_the_pod(&text, "recursion limit exceeded");
}

#[test]
fn a_hundred_thousand_nested_flow_mappings_are_one_syntax_error() {
    let n = 100_000;
    let text = then_a_pod(&format!(
        "kind: Pod\nspec: {}x{}",
        "{a: ".repeat(n),
        "}".repeat(n)
    ));
    assert_one_syntax_error_then_the_pod(&text, "recursion limit exceeded");
}

/// Block collections nest on one line too: `? ? ? x` is a mapping whose key
/// is a mapping whose key is ..., and `- - - x` the same with sequences.
#[test]
fn a_hundred_thousand_nested_block_mappings_and_sequences_are_one_syntax_error() {
    let n = 100_000;
    for opener in ["? ", "- "] {
        let text = then_a_pod(&format!(
            "kind: Pod\nspec:\n  x:\n    {}x",
            opener.repeat(n)
        ));
        assert_one_syntax_error_then_the_pod(&text, "nesting deeper than 512 levels");
    }
}

#[test]
fn block_mappings_indented_two_thousand_levels_deep_are_one_syntax_error() {
    let mut deep = String::from("kind: Pod\nspec:\n");
    for level in 1..=2_000 {
        deep.push_str(&" ".repeat(level));
        deep.push_str("a:\n");
    }
    let text = then_a_pod(deep.trim_end());
    let found = findings(&text);
    assert_eq!(codes(&found), [Code::TG000, Code::TG001], "{found:#?}");
    assert!(found[0]
        .message
        .contains("nesting deeper than 512 levels; the document is not analysed"));
}

/// Nine levels of nine references each: 9^9 (387 million) nodes if anything
/// expanded it. Used as the pod spec's containers, as merge sources of the
/// pod spec, and as the items of a List.
fn alias_bomb() -> String {
    let mut text = String::from("x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..9 {
        let refs = vec![format!("*x{}", level - 1); 9].join(", ");
        text.push_str(&format!("x{level}: &x{level} [{refs}]\n"));
    }
    text
}

#[test]
fn an_alias_bomb_is_never_expanded() {
    let bomb = alias_bomb();
    // As data beside the pod spec: judged like any Pod.
    let text = format!(
        "{bomb}apiVersion: v1\nkind: Pod\nspec:\n  containers: *x8\n  volumes: [*x8, *x8, *x8]\n"
    );
    let found = findings(&text);
    assert_eq!(codes(&found), [Code::TG001]);

    // As merge sources of the pod spec: the chain is followed a bounded
    // number of steps, and a false merged in from a mapping still counts.
    let text = format!(
        "{bomb}off: &off {{automountServiceAccountToken: false}}\n\
         apiVersion: v1\nkind: Pod\nspec:\n  <<: [*off, *x8, *x8, *x8]\n  containers: []\n"
    );
    assert_eq!(codes(&findings(&text)), []);

    // As the items of a List: aliases are not opened up as objects (the
    // items here are sequences anyway), so nothing multiplies.
    let text = format!("{bomb}apiVersion: v1\nkind: List\nitems: [*x8, *x8, *x8, *x8]\n");
    assert_eq!(codes(&findings(&text)), []);
}

#[test]
fn a_merge_key_that_refers_to_itself_ends() {
    // The alias refers to the mapping being defined: YAML leaves it
    // undefined; the result must simply come, whatever it is.
    let text = "apiVersion: v1\nkind: Pod\nspec: &spec\n  <<: *spec\n  containers: []\n";
    let found = findings(text);
    assert!(found.len() <= 1, "{found:#?}");
}

// ---------------------------------------------------------------------------
// Size
// ---------------------------------------------------------------------------

#[test]
fn a_single_5_mb_line_is_analysed_and_positions_stay_exact() {
    let long = "é".repeat(2_500_000); // 5 MB, 2.5 million characters
    let text = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: web, annotations: {{note: \"{long}\"}}}}\n\
         spec: {{hostname: \"{long}\", containers: []}}\n"
    );
    assert!(text.len() > 10_000_000);
    let found = findings(&text);
    assert_eq!(codes(&found), [Code::TG001]);
    let spec = text.find("spec:").unwrap();
    assert_eq!(found[0].range.start, spec);
    assert_eq!(line_col(&text, found[0].range.start), (3, 0));
    let fixed = apply_edits(&text, &found[0].fix.as_ref().unwrap().edits);
    assert!(fixed.contains("spec: {automountServiceAccountToken: false, hostname: \""));
    assert!(findings(&fixed).is_empty());
}

// ---------------------------------------------------------------------------
// Bytes and characters
// ---------------------------------------------------------------------------

/// YAML forbids NUL, and the parser would stop reading at one: the document
/// that holds it is a syntax error at the NUL, not a document cut short.
#[test]
fn a_nul_byte_makes_its_document_a_syntax_error_at_the_nul() {
    for (before, after) in [
        (
            "apiVersion: v1\nkind: Pod\n# ",
            "\nspec:\n  containers: []\n",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: \"a",
            "b\"}\nspec: {containers: []}\n",
        ),
        ("apiVersion: v1\nkind: Pod\nspec:\n  containers: []\n", "\n"),
    ] {
        let text = then_a_pod(&format!("{before}\0{after}"));
        let found = findings(&text);
        assert_eq!(codes(&found), [Code::TG000, Code::TG001], "{text:?}");
        assert_eq!(found[0].range.start, before.len(), "{text:?}");
        assert_eq!(
            found[0].message,
            "YAML syntax error: the NUL character (U+0000) is not allowed in YAML; the document is not analysed"
        );
    }
}

/// Other control characters are read as text; a document holding one is
/// analysed like any other (the API server would refuse it in any case).
#[test]
fn other_control_characters_do_not_hide_the_pod_spec() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\u{1}b\u{7f}\u{85}\nspec:\n  containers: []\n";
    assert_eq!(codes(&findings(text)), [Code::TG001]);
}

/// YAML forbids tabs in indentation: the document is a syntax error, on the
/// tab's line (where the parser gives up: just after the tab). (A tab after
/// some spaces, `  \tkey:`, is taken for a blank by the parser; Kubernetes'
/// decoder rejects it. Either way nothing is applied unchecked.)
#[test]
fn tabs_used_as_indentation_are_a_syntax_error_on_their_line() {
    for indentation in ["\t", "\t  ", "\t\t"] {
        let text = then_a_pod(&format!(
            "apiVersion: v1\nkind: Pod\nspec:\n{indentation}automountServiceAccountToken: false"
        ));
        let found = findings(&text);
        assert_eq!(codes(&found), [Code::TG000, Code::TG001], "{text:?}");
        let (line, column) = line_col(&text, found[0].range.start);
        assert_eq!(line, 3);
        assert!(column <= indentation.len());
        assert!(found[0].message.contains("tab"), "{}", found[0].message);
    }
    // Tabs after the indentation, before a comment, are only blanks.
    let text = "apiVersion: v1\nkind: Pod\nspec:\n  automountServiceAccountToken: false\t\t# off\n";
    assert!(findings(text).is_empty());
}

#[test]
fn cr_only_line_endings_are_lines_and_the_fix_uses_them() {
    let text = POD.replace('\n', "\r");
    let found = findings(&text);
    assert_eq!(codes(&found), [Code::TG001]);
    assert_eq!(line_col(&text, found[0].range.start), (4, 0));
    let fixed = apply_edits(&text, &found[0].fix.as_ref().unwrap().edits);
    assert_eq!(
        fixed,
        "apiVersion: v1\rkind: Pod\rmetadata:\r  name: web\rspec:\r  automountServiceAccountToken: false\r  containers: []\r"
    );
    assert!(findings(&fixed).is_empty());
}

// ---------------------------------------------------------------------------
// Document markers
// ---------------------------------------------------------------------------

#[test]
fn documents_of_only_markers_are_empty_not_errors() {
    for text in [
        "---",
        "---\n",
        "---\n---\n---",
        "--- # comment\n",
        "...\n",
        "---\n...\n",
        "",
    ] {
        assert_eq!(codes(&findings(text)), [], "{text:?}");
    }
}

#[test]
fn document_end_markers_separate_documents() {
    let compliant = POD.replace("spec:\n", "spec:\n  automountServiceAccountToken: false\n");
    let text = format!("{POD}...\n---\n{compliant}...\n{POD}...\n");
    let found = findings(&text);
    assert_eq!(codes(&found), [Code::TG001, Code::TG001]);
    assert_eq!(line_col(&text, found[0].range.start), (4, 0));
    assert_eq!(line_col(&text, found[1].range.start), (20, 0));
}

// ---------------------------------------------------------------------------
// Tags, merge keys, duplicate keys
// ---------------------------------------------------------------------------

fn pod_with(spec_line: &str, fields: &str) -> String {
    format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n{spec_line}\n{fields}  containers: []\n")
}

#[test]
fn a_tagged_pod_spec_is_still_a_mapping_and_is_judged() {
    for spec in [
        "spec: !!map",
        "spec: !custom",
        "spec: !<tag:example.com,2024:pod>",
    ] {
        let found = findings(&pod_with(spec, ""));
        assert_eq!(codes(&found), [Code::TG001], "{spec}");
        let compliant = pod_with(spec, "  automountServiceAccountToken: false\n");
        assert!(findings(&compliant).is_empty(), "{spec}");
    }
}

/// Kubernetes' decoder (go-yaml) resolves only the core tags; a scalar with
/// any other tag stays a string, which the API server refuses for a boolean.
#[test]
fn tags_decide_how_the_value_is_read() {
    let value = |v: &str| {
        let text = pod_with("spec:", &format!("  automountServiceAccountToken: {v}\n"));
        findings(&text)
            .first()
            .map(|f| f.message.clone())
            .unwrap_or_default()
    };
    assert_eq!(value("!!bool false"), "");
    assert_eq!(value("!!bool off"), "");
    for string in ["!!str false", "!custom false", "! false"] {
        assert!(
            value(string).contains("sets automountServiceAccountToken to a string, not a boolean"),
            "{string}: {}",
            value(string)
        );
    }
    assert!(value("!!bool true").contains("explicitly mounts"));
}

#[test]
fn a_merged_false_counts_in_a_pod_spec() {
    let text = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
x-defaults: &pod-defaults
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true}
spec:
  template:
    spec:
      <<: *pod-defaults
      containers:
        - name: web
          image: nginx
";
    assert!(findings(text).is_empty());
    // The pod spec's own key wins over the merged one.
    let own_true = text.replace(
        "      <<: *pod-defaults\n",
        "      <<: *pod-defaults\n      automountServiceAccountToken: true\n",
    );
    assert_eq!(codes(&findings(&own_true)), [Code::TG001]);
}

/// Kubernetes' decoder keeps the last of duplicate keys (strict field
/// validation warns about them): the last value decides, and the message
/// says the field appears more than once.
#[test]
fn of_duplicate_keys_the_last_decides_and_the_message_says_so() {
    let last_false = pod_with(
        "spec:",
        "  automountServiceAccountToken: true\n  automountServiceAccountToken: false\n",
    );
    assert!(findings(&last_false).is_empty(), "Kubernetes decodes false");

    let last_true = pod_with(
        "spec:",
        "  automountServiceAccountToken: false\n  automountServiceAccountToken: \"no\"\n  automountServiceAccountToken: true\n",
    );
    let found = findings(&last_true);
    assert_eq!(codes(&found), [Code::TG001]);
    assert_eq!(found[0].range.start, last_true.rfind("true").unwrap());
    assert!(
        found[0].message.ends_with(
            " automountServiceAccountToken appears 3 times in this pod spec; Kubernetes uses the last one."
        ),
        "{}",
        found[0].message
    );
    let fixed = apply_edits(&last_true, &found[0].fix.as_ref().unwrap().edits);
    assert!(findings(&fixed).is_empty());
}

// ---------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------

fn reported(output: &Output) -> Vec<(String, String)> {
    let findings: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_100_mb_file_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("pod.yaml"), POD).unwrap();
    // Sparse: 100 MB on paper, nothing on disk; never read, only measured.
    let huge = fs::File::create(dir.path().join("huge.yaml")).unwrap();
    huge.set_len(100_000_000).unwrap();
    drop(huge);

    // Named on the command line: an error (exit 2); the other file is
    // still checked.
    let output = tokenguard(
        dir.path(),
        &["check", "--format", "json", "huge.yaml", "pod.yaml"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "huge.yaml: 100000000 bytes is over the --max-file-size limit of 67108864 bytes"
        ),
        "{}",
        stderr(&output)
    );
    assert_eq!(reported(&output), [("pod.yaml".into(), "TG001".into())]);

    // Found by the directory walk: skipped with a warning (exit 1 for the
    // finding in pod.yaml, not 2).
    let output = tokenguard(dir.path(), &["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("warning: huge.yaml: 100000000 bytes is over"));

    // The limit is configurable.
    let output = tokenguard(
        dir.path(),
        &[
            "check",
            "--max-file-size",
            "50",
            "--format",
            "json",
            "pod.yaml",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let expected = format!(
        "pod.yaml: {} bytes is over the --max-file-size limit of 50 bytes",
        POD.len()
    );
    assert!(stderr(&output).contains(&expected), "{}", stderr(&output));
}

#[test]
fn a_utf16_file_with_a_byte_order_mark_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("pod.yaml"), POD).unwrap();
    let mut le = vec![0xFF, 0xFE];
    let mut be = vec![0xFE, 0xFF];
    for unit in POD.encode_utf16() {
        le.extend(unit.to_le_bytes());
        be.extend(unit.to_be_bytes());
    }
    fs::write(dir.path().join("windows.yaml"), le).unwrap();
    fs::write(dir.path().join("utf16be.yaml"), be).unwrap();
    let output = tokenguard(dir.path(), &["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    for expected in [
        "windows.yaml: UTF-16LE text (it starts with a byte-order mark) is not supported; convert the file to UTF-8",
        "utf16be.yaml: UTF-16BE text (it starts with a byte-order mark) is not supported; convert the file to UTF-8",
    ] {
        assert!(message.contains(expected), "{message}");
    }
    assert_eq!(reported(&output), [("pod.yaml".into(), "TG001".into())]);
}

#[test]
fn invalid_utf8_names_the_file_and_its_first_bad_byte() {
    // (tests/cli.rs has the walked case.)
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("latin1.yaml"), b"kind: Pod\n# caf\xe9\n").unwrap();
    let output = tokenguard(dir.path(), &["check", "latin1.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("latin1.yaml: not valid UTF-8 (at byte 15)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_nul_byte_is_a_tg000_finding_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("nul.yaml"),
        then_a_pod("kind: Pod\nspec: {}\0"),
    )
    .unwrap();
    let output = tokenguard(dir.path(), &["check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        reported(&output),
        [
            ("nul.yaml".into(), "TG000".into()),
            ("nul.yaml".into(), "TG001".into())
        ]
    );
}
