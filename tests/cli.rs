//! The `tokenguard` binary, run as a user runs it: exit codes, output
//! formats, `--fix`, `--diff`, the directory walk and standard input.

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use common::write;

/// A Pod with no `automountServiceAccountToken`: one TG001 on line 4.
const POD_MISSING: &str = "kind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n";
const POD_MISSING_FIXED: &str =
    "kind: Pod\nmetadata:\n  name: web\nspec:\n  automountServiceAccountToken: false\n  containers: []\n";
const POD_COMPLIANT: &str =
    "kind: Pod\nmetadata:\n  name: ok\nspec:\n  automountServiceAccountToken: false\n  containers: []\n";

fn tokenguard(dir: &Path, args: &[&str]) -> Output {
    tokenguard_with_stdin(dir, args, "")
}

fn tokenguard_with_stdin(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokenguard"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tokenguard binary starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    input
        .write_all(stdin.as_bytes())
        .expect("stdin accepts the input");
    drop(input);
    child.wait_with_output().expect("tokenguard finishes")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("tokenguard exits normally")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

fn json_stdout(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create temporary directory")
}

/// The `file` of every JSON finding, in output order.
fn reported_files(output: &Output) -> Vec<String> {
    json_stdout(output)
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|f| f["file"].as_str().expect("file is a string").to_string())
        .collect()
}

/// Sets a file's modification time far in the past, so that a rewrite,
/// however quick, shows.
fn age(path: &Path) -> SystemTime {
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    let file = fs::File::options()
        .write(true)
        .open(path)
        .expect("open for setting mtime");
    file.set_modified(old).expect("set mtime");
    old
}

fn modified(path: &Path) -> SystemTime {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .expect("read mtime")
}

// --- exit codes --------------------------------------------------------------

#[test]
fn exit_code_is_0_when_no_file_has_findings() {
    let dir = temp_dir();
    write(dir.path(), "ok.yaml", POD_COMPLIANT);
    let output = tokenguard(dir.path(), &["check"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    assert!(stderr(&output).contains("No findings in 1 file."));
}

#[test]
fn exit_code_is_1_when_there_are_findings() {
    let dir = temp_dir();
    write(dir.path(), "pod.yaml", POD_MISSING);
    let output = tokenguard(dir.path(), &["check", "pod.yaml"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
}

#[test]
fn exit_code_is_2_for_a_missing_path_and_the_other_files_are_still_reported() {
    let dir = temp_dir();
    write(dir.path(), "pod.yaml", POD_MISSING);
    let output = tokenguard(
        dir.path(),
        &["check", "--format", "json", "nope.yaml", "pod.yaml"],
    );
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("nope.yaml"), "{}", stderr(&output));
    assert_eq!(reported_files(&output), ["pod.yaml"]);
}

#[test]
fn a_missing_path_is_reported_once_in_words_and_the_summary_does_not_call_it_clean() {
    let dir = temp_dir();
    let output = tokenguard(dir.path(), &["check", "nope"]);
    assert_eq!(code(&output), 2);
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        "tokenguard: error: nope: no such file or directory\nNo files checked; 1 error above.\n"
    );

    write(dir.path(), "ok.yaml", POD_COMPLIANT);
    let output = tokenguard(dir.path(), &["check", "nope", "ok.yaml"]);
    assert_eq!(code(&output), 2);
    assert_eq!(
        stderr(&output),
        "tokenguard: error: nope: no such file or directory\nNo findings in 1 file; 1 error above.\n"
    );
}

#[test]
fn exit_code_is_2_for_a_usage_error() {
    let dir = temp_dir();
    let output = tokenguard(dir.path(), &["check", "--format", "xml"]);
    assert_eq!(code(&output), 2);
    let output = tokenguard(dir.path(), &["check", "--fix", "--diff"]);
    assert_eq!(code(&output), 2);
}

#[test]
fn invalid_utf8_exits_2_naming_the_file_and_other_files_are_still_reported() {
    let dir = temp_dir();
    write(dir.path(), "a.yaml", POD_MISSING);
    fs::write(dir.path().join("bad.yaml"), b"kind: Pod\nname: \xff\n").expect("write bad file");
    let output = tokenguard(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("bad.yaml: not valid UTF-8 (at byte 16)"),
        "{}",
        stderr(&output)
    );
    assert_eq!(reported_files(&output), ["a.yaml"]);
}

#[test]
fn broken_yaml_is_a_tg000_error_finding_with_exit_1() {
    let dir = temp_dir();
    write(dir.path(), "broken.yaml", "kind: Pod\nspec: [\n");
    let output = tokenguard(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let findings = json_stdout(&output);
    assert_eq!(findings[0]["code"], "TG000");
    assert_eq!(findings[0]["severity"], "error");
    assert_eq!(findings[0]["kind"], Value::Null);
    assert_eq!(findings[0]["name"], Value::Null);
    assert_eq!(findings[0]["fix"], Value::Null);
}

#[test]
fn yaml_that_holds_no_kubernetes_object_gets_no_findings_even_when_broken() {
    let dir = temp_dir();
    write(
        dir.path(),
        ".github/workflows/ci.yaml",
        "name: CI\non: [push]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n      broken: [\n",
    );
    write(
        dir.path(),
        "fixtures/invalid.yaml",
        "key: \"unterminated\nother: value\n",
    );
    let output = tokenguard(dir.path(), &["check", ".", "--format", "json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(json_stdout(&output), Value::Array(Vec::new()));
}

#[test]
fn a_deployment_with_a_misspelled_api_version_is_still_judged() {
    let dir = temp_dir();
    write(
        dir.path(),
        "deploy.yaml",
        "apiVersoin: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers: []\n",
    );
    let output = tokenguard(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let findings = json_stdout(&output);
    assert_eq!(findings.as_array().map(Vec::len), Some(1), "{findings}");
    assert_eq!(findings[0]["code"], "TG001");
    assert_eq!(findings[0]["name"], "web");
}

#[test]
fn a_leading_byte_order_mark_is_accepted() {
    let dir = temp_dir();
    write(dir.path(), "bom.yaml", &format!("\u{feff}{POD_COMPLIANT}"));
    let output = tokenguard(dir.path(), &["check"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

// --- json ----------------------------------------------------------------------

#[test]
fn json_is_an_array_of_findings_with_character_columns_and_fix_edits() {
    let dir = temp_dir();
    // `é` is two bytes: character columns and byte columns differ after it.
    let text = "\
kind: Pod
metadata:
  name: café
spec: {note: \"ééé\", automountServiceAccountToken: true}
---
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers: []
";
    write(dir.path(), "k8s.yaml", text);
    let output = tokenguard(dir.path(), &["check", "--format", "json", "k8s.yaml"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(stdout(&output).ends_with("]\n"));
    let expected = json!([
        {
            "file": "k8s.yaml",
            "line": 4,
            "column": 51,
            "end_line": 4,
            "end_column": 55,
            "severity": "warning",
            "code": "TG001",
            "message": "Pod \"café\" explicitly mounts its service-account token (automountServiceAccountToken: true). Set it to false, or keep it and record why with a `# tokenguard-ignore: reason` comment. No RoleBinding or ClusterRoleBinding in the checked files names ServiceAccount \"default\": its token carries only the API's discovery permissions, unless bindings live elsewhere.",
            "kind": "Pod",
            "name": "café",
            "fix": {
                "title": "Set automountServiceAccountToken to false",
                "edits": [
                    {"line": 4, "column": 51, "end_line": 4, "end_column": 55, "new_text": "false"}
                ]
            },
            "permissions": {
                "account": "default",
                "namespace": null,
                "risk": "discovery-only",
                "capabilities": [],
                "grants": [],
                "grant_count": 0
            }
        },
        {
            "file": "k8s.yaml",
            "line": 10,
            "column": 5,
            "end_line": 10,
            "end_column": 9,
            "severity": "warning",
            "code": "TG001",
            "message": "Deployment \"api\" mounts its service-account token: the pod spec does not set automountServiceAccountToken and ServiceAccount \"default\" is not among the checked files, so nothing disables automounting. Add automountServiceAccountToken: false to the pod spec. No RoleBinding or ClusterRoleBinding in the checked files names ServiceAccount \"default\": its token carries only the API's discovery permissions, unless bindings live elsewhere.",
            "kind": "Deployment",
            "name": "api",
            "fix": {
                "title": "Add automountServiceAccountToken: false to the pod spec",
                "edits": [
                    {
                        "line": 11,
                        "column": 1,
                        "end_line": 11,
                        "end_column": 1,
                        "new_text": "      automountServiceAccountToken: false\n"
                    }
                ]
            },
            "permissions": {
                "account": "default",
                "namespace": null,
                "risk": "discovery-only",
                "capabilities": [],
                "grants": [],
                "grant_count": 0
            }
        }
    ]);
    assert_eq!(json_stdout(&output), expected);
}

#[test]
fn json_of_a_clean_run_is_an_empty_array() {
    let dir = temp_dir();
    write(dir.path(), "ok.yaml", POD_COMPLIANT);
    let output = tokenguard(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code(&output), 0);
    assert_eq!(stdout(&output), "[]\n");
}

#[test]
fn output_is_ordered_by_path_then_position() {
    let dir = temp_dir();
    write(dir.path(), "b.yaml", POD_MISSING);
    write(
        dir.path(),
        "a/z.yaml",
        &format!("{POD_MISSING}---\n{POD_MISSING}"),
    );
    write(dir.path(), "c.yml", POD_MISSING);
    let output = tokenguard(dir.path(), &["check", "--format", "json", "c.yml", "."]);
    assert_eq!(
        reported_files(&output),
        ["a/z.yaml", "a/z.yaml", "b.yaml", "c.yml"]
    );
    let lines: Vec<u64> = json_stdout(&output)
        .as_array()
        .expect("array")
        .iter()
        .map(|f| f["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, [4, 10, 4, 4]);
}

// --- sarif ---------------------------------------------------------------------

#[test]
fn sarif_is_a_2_1_0_log_with_rules_regions_and_fixes() {
    let dir = temp_dir();
    write(dir.path(), "k8s/pod.yaml", POD_MISSING);
    let output = tokenguard(dir.path(), &["check", "--format", "sarif", "."]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let log = json_stdout(&output);
    assert_eq!(
        log["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["columnKind"], "utf16CodeUnits");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "tokenguard");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(driver["informationUri"]
        .as_str()
        .is_some_and(|u| u.starts_with("https://")));
    let rules = driver["rules"].as_array().expect("rules");
    let ids: Vec<&str> = rules
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["TG000", "TG001"]);
    for rule in rules {
        for field in [
            "name",
            "shortDescription",
            "fullDescription",
            "help",
            "helpUri",
        ] {
            assert!(!rule[field].is_null(), "rule {} lacks {field}", rule["id"]);
        }
        assert!(rule["help"]["text"].is_string() && rule["help"]["markdown"].is_string());
    }
    // A syntax error is no security result (tests/sarif.rs checks more).
    assert_eq!(rules[0]["properties"]["tags"], json!(["correctness"]));
    assert_eq!(rules[1]["properties"]["tags"], json!(["security"]));
    assert_eq!(
        rules[1]["helpUri"],
        "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting"
    );
    assert_eq!(rules[1]["defaultConfiguration"]["level"], "warning");
    assert!(rules[1]["properties"]["security-severity"].is_string());

    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 1);
    let result = &results[0];
    assert_eq!(result["ruleId"], "TG001");
    assert_eq!(result["ruleIndex"], 1);
    assert_eq!(result["level"], "warning");
    assert!(result["message"]["text"]
        .as_str()
        .is_some_and(|t| t.contains("Pod \"web\"")));
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "k8s/pod.yaml");
    assert_eq!(
        location["region"],
        json!({"startLine": 4, "startColumn": 1, "endLine": 4, "endColumn": 5})
    );
    let fix = &result["fixes"][0];
    assert!(fix["description"]["text"].is_string());
    let change = &fix["artifactChanges"][0];
    assert_eq!(change["artifactLocation"]["uri"], "k8s/pod.yaml");
    assert_eq!(
        change["replacements"][0],
        json!({
            "deletedRegion": {"startLine": 5, "startColumn": 1, "endLine": 5, "endColumn": 1},
            "insertedContent": {"text": "  automountServiceAccountToken: false\n"}
        })
    );
    let fingerprints = result["partialFingerprints"]
        .as_object()
        .expect("fingerprints");
    assert!(!fingerprints.is_empty());

    // The fingerprint does not move when the finding does.
    write(
        dir.path(),
        "k8s/pod.yaml",
        &format!("# moved\n{POD_MISSING}"),
    );
    let moved = json_stdout(&tokenguard(
        dir.path(),
        &["check", "--format", "sarif", "."],
    ));
    let moved_result = &moved["runs"][0]["results"][0];
    assert_eq!(
        moved_result["locations"][0]["physicalLocation"]["region"]["startLine"],
        5
    );
    assert_eq!(
        moved_result["partialFingerprints"],
        result["partialFingerprints"]
    );
}

#[test]
fn sarif_points_to_the_service_account_declared_in_another_file() {
    let dir = temp_dir();
    write(
        dir.path(),
        "pod.yaml",
        "kind: Pod\nmetadata:\n  name: p\nspec:\n  serviceAccountName: ci\n  containers: []\n",
    );
    write(
        dir.path(),
        "sa.yaml",
        "kind: ServiceAccount\nmetadata:\n  name: ci\nautomountServiceAccountToken: true\n",
    );
    let output = tokenguard(dir.path(), &["check", "--format", "sarif"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let log = json_stdout(&output);
    let related = &log["runs"][0]["results"][0]["relatedLocations"][0];
    assert_eq!(
        related["physicalLocation"]["artifactLocation"]["uri"],
        "sa.yaml"
    );
    assert_eq!(
        related["physicalLocation"]["region"],
        json!({"startLine": 3, "startColumn": 9, "endLine": 3, "endColumn": 11})
    );
    assert!(related["message"]["text"].is_string());
}

// --- github --------------------------------------------------------------------

#[test]
fn github_format_writes_escaped_workflow_commands() {
    let dir = temp_dir();
    // A newline and a percent sign in the name reach the message; a comma
    // and a colon in the file name would split the properties.
    write(
        dir.path(),
        "a,b:c.yaml",
        "kind: Pod\nmetadata:\n  name: \"50%\\nx\"\nspec:\n  containers: []\n",
    );
    write(dir.path(), "broken.yaml", "kind: Pod\nspec: [\n");
    let output = tokenguard(dir.path(), &["check", "--format", "github"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with(
            "::warning file=a%2Cb%3Ac.yaml,line=4,col=1,endLine=4,endColumn=5,title=TG001::Pod \"50%25%0Ax\" mounts"
        ),
        "{text}"
    );
    assert!(
        lines[1].starts_with("::error file=broken.yaml,line=2,col=8,"),
        "{text}"
    );
    assert!(
        lines[1].contains(",title=TG000::YAML syntax error"),
        "{text}"
    );
}

// --- human ---------------------------------------------------------------------

#[test]
fn human_format_shows_the_location_the_source_line_and_a_caret_underline() {
    let dir = temp_dir();
    write(dir.path(), "pod.yaml", POD_MISSING);
    write(
        dir.path(),
        "true.yaml",
        "kind: Pod\nmetadata:\n  name: t\nspec:\n  automountServiceAccountToken: true\n",
    );
    let output = tokenguard(dir.path(), &["check"]);
    assert_eq!(code(&output), 1);
    let expected = "\
pod.yaml:4:1: warning[TG001] Pod \"web\" mounts its service-account token: the pod spec does not set automountServiceAccountToken and ServiceAccount \"default\" is not among the checked files, so nothing disables automounting. Add automountServiceAccountToken: false to the pod spec. No RoleBinding or ClusterRoleBinding in the checked files names ServiceAccount \"default\": its token carries only the API's discovery permissions, unless bindings live elsewhere.
  |
4 | spec:
  | ^^^^
  = help: Add automountServiceAccountToken: false to the pod spec
  = note: token risk discovery-only: not bound by any RoleBinding or ClusterRoleBinding in the checked files (discovery permissions only)

true.yaml:5:33: warning[TG001] Pod \"t\" explicitly mounts its service-account token (automountServiceAccountToken: true). Set it to false, or keep it and record why with a `# tokenguard-ignore: reason` comment. No RoleBinding or ClusterRoleBinding in the checked files names ServiceAccount \"default\": its token carries only the API's discovery permissions, unless bindings live elsewhere.
  |
5 |   automountServiceAccountToken: true
  |                                 ^^^^
  = help: Set automountServiceAccountToken to false
  = note: token risk discovery-only: not bound by any RoleBinding or ClusterRoleBinding in the checked files (discovery permissions only)
";
    assert_eq!(stdout(&output), expected);
    // The summary goes to stderr, so stdout stays parseable.
    assert!(
        stderr(&output).contains("Found 2 findings in 2 files (2 fixable with --fix)."),
        "{}",
        stderr(&output)
    );
}

#[test]
fn human_format_is_coloured_only_on_request_when_piped() {
    let dir = temp_dir();
    write(dir.path(), "pod.yaml", POD_MISSING);
    let plain = tokenguard(dir.path(), &["check"]);
    assert!(!stdout(&plain).contains('\x1b'));
    let coloured = tokenguard(dir.path(), &["check", "--color", "always"]);
    assert!(stdout(&coloured).contains("\x1b["));
}

// --- --fix ---------------------------------------------------------------------

#[test]
fn fix_rewrites_the_file_and_a_second_run_changes_nothing() {
    let dir = temp_dir();
    let path = dir.path().join("pod.yaml");
    write(dir.path(), "pod.yaml", POD_MISSING);
    let output = tokenguard(dir.path(), &["check", "--fix"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(fs::read_to_string(&path).expect("read"), POD_MISSING_FIXED);
    assert!(
        stderr(&output).contains("Fixed 1 finding in 1 file."),
        "{}",
        stderr(&output)
    );

    let before = age(&path);
    let again = tokenguard(dir.path(), &["check", "--fix"]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert_eq!(fs::read_to_string(&path).expect("read"), POD_MISSING_FIXED);
    assert_eq!(
        modified(&path),
        before,
        "an already fixed file is not rewritten"
    );
}

#[test]
fn fix_leaves_files_without_fixes_untouched() {
    let dir = temp_dir();
    write(dir.path(), "ok.yaml", POD_COMPLIANT);
    write(dir.path(), "broken.yaml", "kind: Pod\nspec: [\n");
    write(dir.path(), "pod.yaml", POD_MISSING);
    let ok = age(&dir.path().join("ok.yaml"));
    let broken = age(&dir.path().join("broken.yaml"));
    let output = tokenguard(dir.path(), &["check", "--fix", "--format", "json"]);
    // TG000 has no fix and remains: the exit code reflects it.
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(reported_files(&output), ["broken.yaml"]);
    assert_eq!(modified(&dir.path().join("ok.yaml")), ok);
    assert_eq!(modified(&dir.path().join("broken.yaml")), broken);
    assert_eq!(
        fs::read_to_string(dir.path().join("pod.yaml")).expect("read"),
        POD_MISSING_FIXED
    );
}

#[cfg(unix)]
#[test]
fn fix_keeps_the_file_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let path = dir.path().join("pod.yaml");
    write(dir.path(), "pod.yaml", POD_MISSING);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
    let output = tokenguard(dir.path(), &["check", "--fix"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(fs::read_to_string(&path).expect("read"), POD_MISSING_FIXED);
    let mode = fs::metadata(&path).expect("stat").permissions().mode();
    assert_eq!(mode & 0o7777, 0o640);
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(leftovers, ["pod.yaml"], "no temporary file is left behind");
}

#[test]
fn fix_keeps_crlf_line_endings() {
    let dir = temp_dir();
    let path = dir.path().join("pod.yaml");
    write(dir.path(), "pod.yaml", &POD_MISSING.replace('\n', "\r\n"));
    let output = tokenguard(dir.path(), &["check", "--fix"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        fs::read_to_string(&path).expect("read"),
        POD_MISSING_FIXED.replace('\n', "\r\n")
    );
}

#[cfg(unix)]
#[test]
fn fix_refuses_to_write_through_a_symlink() {
    let dir = temp_dir();
    write(dir.path(), "real/pod.yaml", POD_MISSING);
    std::os::unix::fs::symlink("real/pod.yaml", dir.path().join("link.yaml")).expect("symlink");
    let output = tokenguard(dir.path(), &["check", "--fix", "link.yaml"]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("link.yaml: is a symbolic link"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("real/pod.yaml")).expect("read"),
        POD_MISSING
    );
    assert!(fs::symlink_metadata(dir.path().join("link.yaml"))
        .expect("stat")
        .file_type()
        .is_symlink());
}

#[test]
fn fix_of_stdin_prints_the_fixed_text_and_reports_on_stderr() {
    let dir = temp_dir();
    let output = tokenguard_with_stdin(dir.path(), &["check", "--fix", "-"], POD_MISSING);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), POD_MISSING_FIXED);
}

// --- --diff --------------------------------------------------------------------

#[test]
fn diff_shows_the_hunk_writes_nothing_and_exits_1() {
    let dir = temp_dir();
    let path = dir.path().join("pod.yaml");
    write(dir.path(), "pod.yaml", POD_MISSING);
    let before = age(&path);
    let output = tokenguard(dir.path(), &["check", "--diff"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "\
--- a/pod.yaml
+++ b/pod.yaml
@@ -2,4 +2,5 @@
 metadata:
   name: web
 spec:
+  automountServiceAccountToken: false
   containers: []
"
    );
    assert_eq!(fs::read_to_string(&path).expect("read"), POD_MISSING);
    assert_eq!(modified(&path), before);
}

#[test]
fn diff_exits_0_when_there_is_nothing_to_fix() {
    let dir = temp_dir();
    write(dir.path(), "ok.yaml", POD_COMPLIANT);
    let output = tokenguard(dir.path(), &["check", "--diff"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
}

// --- the walk and the inputs ------------------------------------------------------

#[test]
fn directory_walk_honours_gitignore_and_ignore_files_outside_a_git_repository() {
    let dir = temp_dir();
    write(dir.path(), ".gitignore", "generated/\n");
    write(dir.path(), "sub/.ignore", "skip.yaml\n");
    write(dir.path(), "generated/pod.yaml", POD_MISSING);
    write(dir.path(), "sub/skip.yaml", POD_MISSING);
    write(dir.path(), "sub/keep.yaml", POD_MISSING);
    let output = tokenguard(dir.path(), &["check", "--format", "json"]);
    assert_eq!(reported_files(&output), ["sub/keep.yaml"]);
}

#[test]
fn directory_walk_includes_hidden_folders_but_not_dot_git() {
    let dir = temp_dir();
    write(dir.path(), ".rendered/pod.yaml", POD_MISSING);
    write(dir.path(), ".git/pod.yaml", POD_MISSING);
    let output = tokenguard(dir.path(), &["check", "--format", "json", "."]);
    assert_eq!(reported_files(&output), [".rendered/pod.yaml"]);
}

#[test]
fn directory_walk_takes_yaml_and_yml_but_named_files_count_whatever_their_extension() {
    let dir = temp_dir();
    write(dir.path(), "a.yaml", POD_MISSING);
    write(dir.path(), "b.yml", POD_MISSING);
    write(dir.path(), "c.txt", POD_MISSING);
    let walked = tokenguard(dir.path(), &["check", "--format", "json"]);
    assert_eq!(reported_files(&walked), ["a.yaml", "b.yml"]);
    let named = tokenguard(dir.path(), &["check", "--format", "json", "c.txt"]);
    assert_eq!(reported_files(&named), ["c.txt"]);
}

#[cfg(unix)]
#[test]
fn directory_walk_does_not_follow_symlinks() {
    let dir = temp_dir();
    let outside = temp_dir();
    write(outside.path(), "pod.yaml", POD_MISSING);
    std::os::unix::fs::symlink(outside.path(), dir.path().join("linked-dir")).expect("symlink");
    std::os::unix::fs::symlink(
        outside.path().join("pod.yaml"),
        dir.path().join("link.yaml"),
    )
    .expect("symlink");
    write(dir.path(), "ok.yaml", POD_COMPLIANT);
    let output = tokenguard(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
}

#[test]
fn a_file_reached_twice_is_checked_once() {
    let dir = temp_dir();
    write(dir.path(), "pod.yaml", POD_MISSING);
    let output = tokenguard(dir.path(), &["check", "--format", "json", "pod.yaml", "."]);
    assert_eq!(reported_files(&output), ["pod.yaml"]);
}

#[test]
fn dash_reads_standard_input_as_stdin() {
    let dir = temp_dir();
    let output =
        tokenguard_with_stdin(dir.path(), &["check", "--format", "json", "-"], POD_MISSING);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(reported_files(&output), ["<stdin>"]);
}

/// A template from a file is read again for its analysis (its text is not
/// kept through the first pass); one from standard input is kept. Both are
/// judged alike, with their lines in the output.
#[test]
fn a_template_from_a_file_and_from_standard_input_are_judged_alike() {
    let template = "{{- if .Values.enabled }}\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\nspec:\n  containers: []\n{{- end }}\n";
    let dir = temp_dir();
    write(dir.path(), "pod.yaml", template);
    let from_file = tokenguard(dir.path(), &["check", "--format", "json", "pod.yaml"]);
    let from_stdin =
        tokenguard_with_stdin(dir.path(), &["check", "--format", "json", "-"], template);
    assert_eq!(code(&from_file), 1, "{}", stderr(&from_file));
    assert_eq!(code(&from_stdin), 1, "{}", stderr(&from_stdin));
    let without_file = |output: &Output| {
        let mut findings: Value = serde_json::from_str(&stdout(output)).expect("JSON output");
        for finding in findings.as_array_mut().expect("an array") {
            finding.as_object_mut().expect("an object").remove("file");
        }
        findings
    };
    let findings = without_file(&from_file);
    assert_eq!(findings.as_array().map(Vec::len), Some(1), "{findings}");
    assert_eq!(findings[0]["line"], 5, "{findings}");
    assert_eq!(findings, without_file(&from_stdin));
}

#[test]
fn a_service_account_in_a_second_file_makes_the_workload_compliant() {
    let dir = temp_dir();
    write(dir.path(), "pod.yaml", POD_MISSING);
    write(
        dir.path(),
        "sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\nautomountServiceAccountToken: false\n",
    );
    let alone = tokenguard(dir.path(), &["check", "pod.yaml"]);
    assert_eq!(code(&alone), 1);
    let together = tokenguard(dir.path(), &["check", "pod.yaml", "sa.yaml"]);
    assert_eq!(code(&together), 0, "{}", stdout(&together));
    // Standard input and files form one workspace too.
    let piped = tokenguard_with_stdin(dir.path(), &["check", "-", "sa.yaml"], POD_MISSING);
    assert_eq!(code(&piped), 0, "{}", stdout(&piped));
}

#[test]
fn a_walked_file_over_the_size_limit_is_skipped_with_a_message() {
    let dir = temp_dir();
    let big = format!("# {}\n{POD_MISSING}", "x".repeat(200));
    write(dir.path(), "big.yaml", &big);
    write(dir.path(), "ok.yaml", POD_COMPLIANT);
    let output = tokenguard(dir.path(), &["check", "--max-file-size", "150"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let message = stderr(&output);
    let expected = format!(
        "big.yaml: {} bytes is over the --max-file-size limit of 150 bytes",
        big.len()
    );
    assert!(message.contains(&expected), "{message}");
}

#[test]
fn a_named_file_over_the_size_limit_is_an_error() {
    let dir = temp_dir();
    write(dir.path(), "pod.yaml", POD_MISSING);
    let output = tokenguard(dir.path(), &["check", "--max-file-size", "10", "pod.yaml"]);
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("pod.yaml"), "{}", stderr(&output));
}

// --- help and version ----------------------------------------------------------------

#[test]
fn version_and_help_with_examples() {
    let dir = temp_dir();
    let version = tokenguard(dir.path(), &["--version"]);
    assert_eq!(code(&version), 0);
    assert_eq!(
        stdout(&version),
        format!("tokenguard {}\n", env!("CARGO_PKG_VERSION"))
    );
    for args in [&["--help"][..], &["check", "--help"][..]] {
        let help = tokenguard(dir.path(), args);
        assert_eq!(code(&help), 0);
        let text = stdout(&help);
        assert!(text.contains("EXAMPLES:"), "{text}");
        assert!(
            text.contains("kustomize build overlays/prod | tokenguard check -"),
            "{text}"
        );
    }
}

// --- what the token can do (issue 14) ------------------------------------------

/// A Role that reads Secrets in `build`, bound to ServiceAccount `ci`; the
/// binding's name is line 10, column 9; the role's line 3, column 9.
const RBAC_READER: &str = "\
kind: Role
metadata:
  name: secret-reader
  namespace: build
rules:
  - {apiGroups: [\"\"], resources: [secrets], verbs: [list]}
---
kind: RoleBinding
metadata:
  name: ci-reads
  namespace: build
roleRef: {kind: Role, name: secret-reader}
subjects: [{kind: ServiceAccount, name: ci}]
";

const POD_AS_CI: &str =
    "kind: Pod\nmetadata:\n  name: runner\n  namespace: build\nspec:\n  serviceAccountName: ci\n  containers: []\n";

#[test]
fn a_finding_names_the_binding_of_its_account_in_every_format() {
    let dir = temp_dir();
    write(dir.path(), "k8s/rbac.yaml", RBAC_READER);
    write(dir.path(), "k8s/apps/pod.yaml", POD_AS_CI);
    let tail = "ServiceAccount \"ci\" (namespace \"build\") is bound to Role \"secret-reader\" \
                (../rbac.yaml:3) by RoleBinding \"ci-reads\" (../rbac.yaml:10): whoever takes over \
                this pod can read Secrets in namespace \"build\".";

    let human = tokenguard(dir.path(), &["check", "k8s"]);
    assert_eq!(code(&human), 1);
    let text = stdout(&human);
    assert!(text.contains(tail), "{text}");
    let notes: Vec<&str> = text.lines().filter(|l| l.contains("= note:")).collect();
    assert_eq!(
        notes,
        [
            "  = note: token risk dangerous-in-namespace: bound to Role \"secret-reader\" by RoleBinding \"ci-reads\" in namespace \"build\"",
            "  = note: RoleBinding \"ci-reads\" binds ServiceAccount \"ci\" (namespace \"build\") to Role \"secret-reader\" at k8s/rbac.yaml:10:9",
            "  = note: Role \"secret-reader\" lets its holders read Secrets at k8s/rbac.yaml:3:9",
        ]
    );

    let json = tokenguard(dir.path(), &["check", "--format", "json", "k8s"]);
    let finding = &json_stdout(&json)[0];
    assert!(finding["message"].as_str().unwrap().ends_with(tail));
    assert_eq!(
        finding["permissions"],
        json!({
            "account": "ci",
            "namespace": "build",
            "risk": "dangerous-in-namespace",
            "capabilities": [
                {"name": "read-secrets", "label": "read Secrets", "scope": "namespace", "namespace": "build"}
            ],
            "grants": [{
                "binding": {"kind": "RoleBinding", "name": "ci-reads", "namespace": "build", "file": "k8s/rbac.yaml", "line": 10, "column": 9},
                "via": "service-account",
                "role": {"kind": "Role", "name": "secret-reader", "source": "declared", "file": "k8s/rbac.yaml", "line": 3, "column": 9},
                "scope": "namespace",
                "namespace": "build",
                "risk": "dangerous-in-namespace",
                "capabilities": ["read-secrets"]
            }],
            "grant_count": 1
        })
    );
    assert_eq!(
        finding["related"][0],
        json!({
            "file": "k8s/rbac.yaml", "line": 10, "column": 9, "end_line": 10, "end_column": 17,
            "message": "RoleBinding \"ci-reads\" binds ServiceAccount \"ci\" (namespace \"build\") to Role \"secret-reader\""
        })
    );

    // Checking the pod alone, the binding is not among the checked files;
    // with --workspace it is context again.
    let alone = tokenguard(
        dir.path(),
        &["check", "--format", "json", "k8s/apps/pod.yaml"],
    );
    assert_eq!(
        json_stdout(&alone)[0]["permissions"]["risk"],
        "discovery-only"
    );
    let context = tokenguard(
        dir.path(),
        &[
            "check",
            "--format",
            "json",
            "--workspace",
            "k8s",
            "k8s/apps/pod.yaml",
        ],
    );
    assert_eq!(
        json_stdout(&context)[0]["permissions"]["risk"],
        "dangerous-in-namespace"
    );
}
