//! `--format sarif` as GitHub code scanning reads it, run as a user runs the
//! binary: every log validates against the SARIF 2.1.0 schema
//! (`tests/fixtures/sarif/sarif-schema-2.1.0.json`); paths are relative to
//! the `%SRCROOT%` the run declares (the checkout's root) whatever the
//! working directory; fingerprints do not depend on where the command ran;
//! a syntax error is not a security result; columns are UTF-16 code units.
//!
//! One complete log is pinned in `tests/snapshots/sarif__*.snap` (accept a
//! reviewed change with `cargo insta review`).

mod common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use common::{stderr, tokenguard, write};
use serde_json::Value;

/// A Pod with no `automountServiceAccountToken`: one TG001 on line 4.
const POD_MISSING: &str = "kind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n";
const POD_COMPLIANT: &str =
    "kind: Pod\nmetadata:\n  name: ok\nspec:\n  automountServiceAccountToken: false\n  containers: []\n";
/// A Pod whose ServiceAccount, declared in another file, enables automounting.
const POD_USING_ACCOUNT: &str =
    "kind: Pod\nmetadata:\n  name: uses-ci\nspec:\n  serviceAccountName: ci\n  containers: []\n";
const ACCOUNT_ENABLING: &str =
    "kind: ServiceAccount\nmetadata:\n  name: ci\nautomountServiceAccountToken: true\n";
/// An unterminated flow sequence: one TG000.
const BROKEN: &str = "kind: Pod\nmetadata:\n  name: [broken\n";

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/sarif/sarif-schema-2.1.0.json");
        let text = fs::read_to_string(&path).expect("the SARIF schema fixture");
        let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
        jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the SARIF 2.1.0 schema compiles")
    })
}

/// The schema's complaints about `log`, one line each.
fn schema_errors(log: &Value) -> Vec<String> {
    validator()
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// URI references the schema cannot check: its draft (4) has no
/// "uri-reference" format, so every `uri` is checked here with draft 7's;
/// a `%SRCROOT%` must be an absolute URI ending in `/`.
fn uri_errors(log: &Value) -> Vec<String> {
    static REFERENCE: OnceLock<jsonschema::Validator> = OnceLock::new();
    static ABSOLUTE: OnceLock<jsonschema::Validator> = OnceLock::new();
    let compile = |format: &str| {
        jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(&serde_json::json!({"type": "string", "format": format}))
            .expect("a format schema")
    };
    let reference = REFERENCE.get_or_init(|| compile("uri-reference"));
    let absolute = ABSOLUTE.get_or_init(|| compile("uri"));
    let mut errors = Vec::new();
    let mut stack = vec![("".to_string(), log)];
    while let Some((at, value)) = stack.pop() {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let here = format!("{at}/{key}");
                    if key == "uri" && !reference.is_valid(child) {
                        errors.push(format!("{child} is no URI reference at {here}"));
                    }
                    stack.push((here, child));
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    stack.push((format!("{at}/{i}"), child));
                }
            }
            _ => {}
        }
    }
    for run in log["runs"].as_array().into_iter().flatten() {
        for (name, base) in run["originalUriBaseIds"].as_object().into_iter().flatten() {
            let uri = &base["uri"];
            if !absolute.is_valid(uri) || !uri.as_str().is_some_and(|u| u.ends_with('/')) {
                errors.push(format!("{name} is {uri}, not an absolute URI ending in /"));
            }
        }
    }
    errors
}

fn assert_valid(what: &str, log: &Value) {
    let mut errors = schema_errors(log);
    errors.extend(uri_errors(log));
    assert!(
        errors.is_empty(),
        "{what}: the log breaks the SARIF 2.1.0 schema:\n{}\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(log).unwrap_or_default()
    );
}

/// A scratch folder holding a `repo` checkout (a `.git` folder is all it
/// takes) and a folder `outside` beside it.
struct Scratch {
    _dir: tempfile::TempDir,
    /// Resolved, as the binary resolves it (the temporary folder may sit
    /// behind a symbolic link).
    base: PathBuf,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let base = fs::canonicalize(dir.path()).expect("the folder resolves");
        fs::create_dir_all(base.join("repo/.git")).expect("a .git folder");
        Self { _dir: dir, base }
    }

    fn repo(&self) -> PathBuf {
        self.base.join("repo")
    }

    /// `file:///…/repo/`, as `%SRCROOT%` should read.
    fn repo_uri(&self) -> String {
        format!("{}/", file_uri(&self.repo()))
    }
}

/// The `file://` URI of a resolved path whose only character to encode is a
/// space (`/tmp/...`, `/private/var/...`, `\\?\C:\Users\...`).
fn file_uri(path: &Path) -> String {
    let slashed = path.to_str().expect("a UTF-8 path").replace('\\', "/");
    let path = slashed.strip_prefix("//?/").unwrap_or(&slashed);
    let encoded = path.replace(' ', "%20");
    if encoded.starts_with('/') {
        format!("file://{encoded}")
    } else {
        format!("file:///{encoded}")
    }
}

/// Runs `check --format sarif ARGS` in `dir`; the log, after checking the
/// exit code.
fn sarif(dir: &Path, args: &[&str], expected_code: i32) -> Value {
    let mut full = vec!["check", "--format", "sarif"];
    full.extend_from_slice(args);
    let output = tokenguard(dir, &full);
    log_of(&output, expected_code)
}

fn log_of(output: &Output, expected_code: i32) -> Value {
    assert_eq!(
        output.status.code(),
        Some(expected_code),
        "stderr: {}",
        stderr(output)
    );
    serde_json::from_slice(&output.stdout).expect("the SARIF output is JSON")
}

fn sarif_with_stdin(dir: &Path, stdin: &str) -> Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokenguard"))
        .args(["check", "--format", "sarif", "-"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tokenguard binary starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    input.write_all(stdin.as_bytes()).expect("stdin takes it");
    drop(input);
    let output = child.wait_with_output().expect("tokenguard finishes");
    log_of(&output, 1)
}

fn run(log: &Value) -> &Value {
    &log["runs"][0]
}

fn results(log: &Value) -> &Vec<Value> {
    run(log)["results"].as_array().expect("results")
}

/// The result whose primary location is `uri`.
fn result_at<'a>(log: &'a Value, uri: &str) -> &'a Value {
    results(log)
        .iter()
        .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri)
        .unwrap_or_else(|| panic!("no result at {uri} in {log:#}"))
}

fn artifact(location: &Value) -> &Value {
    &location["physicalLocation"]["artifactLocation"]
}

fn fingerprints(log: &Value) -> Vec<Value> {
    results(log)
        .iter()
        .map(|r| r["partialFingerprints"].clone())
        .collect()
}

/// A workspace with every kind of result: a missing field (with a fix), an
/// account in another file (a related location), a syntax error, a Helm
/// chart whose `values.yaml` holds the value (related location and fix in
/// another file), a non-ASCII file name and line.
fn populate(repo: &Path) {
    write(repo, "k8s/pod.yaml", POD_MISSING);
    write(repo, "k8s/ok.yaml", POD_COMPLIANT);
    write(repo, "k8s/uses-ci.yaml", POD_USING_ACCOUNT);
    write(repo, "k8s/accounts/ci.yaml", ACCOUNT_ENABLING);
    write(repo, "k8s/broken.yaml", BROKEN);
    write(
        repo,
        "k8s/ünï 😀.yaml",
        "kind: Pod\nmetadata:\n  name: émoji\nspec: {nodeSelector: {zone: \"é😀\"}, automountServiceAccountToken: true, containers: []}\n",
    );
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/helm/values_automount");
    copy_dir(&chart, &repo.join("charts/app"));
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("a folder");
    for entry in fs::read_dir(from).expect("a folder to copy").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).expect("a copy");
        }
    }
}

#[test]
fn every_kind_of_log_validates_against_the_sarif_2_1_0_schema() {
    let scratch = Scratch::new();
    let repo = scratch.repo();
    populate(&repo);
    write(&scratch.base, "outside/pod.yaml", POD_MISSING);

    let mut logs = vec![
        ("the whole checkout", sarif(&repo, &["."], 1)),
        ("no findings", sarif(&repo, &["k8s/ok.yaml"], 0)),
        (
            "a file outside the root",
            sarif(&repo, &["../outside/pod.yaml"], 1),
        ),
        (
            "a chart from its own folder",
            sarif(&repo.join("charts/app"), &["."], 1),
        ),
        ("standard input", sarif_with_stdin(&repo, POD_MISSING)),
        (
            "standard input with a syntax error",
            sarif_with_stdin(&repo, BROKEN),
        ),
    ];
    // Each kind of location is there to be validated.
    let whole = &logs[0].1;
    assert!(result_at(whole, "k8s/uses-ci.yaml")["relatedLocations"].is_array());
    assert_eq!(result_at(whole, "k8s/broken.yaml")["ruleId"], "TG000");
    let helm = result_at(whole, "charts/app/templates/api.yaml");
    assert_eq!(
        artifact(&helm["relatedLocations"][0])["uri"],
        "charts/app/values.yaml"
    );
    assert!(result_at(whole, "k8s/%C3%BCn%C3%AF%20%F0%9F%98%80.yaml")["fixes"].is_array());
    assert!(results(&logs[1].1).is_empty());

    for (what, log) in &logs {
        assert_valid(what, log);
    }

    // The validator does reject what breaks the schema.
    let mut broken = logs.remove(0).1;
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    broken["runs"][0]["columnKind"] = Value::from("bytes");
    // A URI reference cannot hold a space (format "uri-reference").
    broken["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] = Value::from("file:///a b/");
    assert_eq!(
        schema_errors(&broken).len(),
        2,
        "{:#?}",
        schema_errors(&broken)
    );
    assert_eq!(uri_errors(&broken).len(), 2, "{:#?}", uri_errors(&broken));
}

#[test]
fn paths_are_relative_to_the_checkout_root_from_any_working_directory() {
    let scratch = Scratch::new();
    let repo = scratch.repo();
    populate(&repo);
    let absolute = repo.join("k8s/pod.yaml");
    let absolute = absolute.to_str().expect("a UTF-8 path");

    let runs = [
        ("the root", sarif(&repo, &["k8s/pod.yaml"], 1)),
        (
            "the file's folder",
            sarif(&repo.join("k8s"), &["pod.yaml"], 1),
        ),
        (
            "a sibling folder",
            sarif(&repo.join("charts"), &["../k8s/./pod.yaml"], 1),
        ),
        (
            "an absolute path",
            sarif(&repo.join("charts"), &[absolute], 1),
        ),
    ];
    for (what, log) in &runs {
        let run = run(log);
        assert_eq!(
            run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            scratch.repo_uri(),
            "{what}"
        );
        let location = &results(log)[0]["locations"][0];
        assert_eq!(
            artifact(location),
            &serde_json::json!({"uri": "k8s/pod.yaml", "uriBaseId": "%SRCROOT%"}),
            "{what}"
        );
        let fix = &results(log)[0]["fixes"][0]["artifactChanges"][0]["artifactLocation"];
        assert_eq!(fix["uriBaseId"], "%SRCROOT%", "{what}");
        assert_eq!(
            fingerprints(log),
            fingerprints(&runs[0].1),
            "{what}: the fingerprint moved"
        );
    }
}

#[test]
fn related_locations_in_other_files_are_relative_to_the_root_too() {
    let scratch = Scratch::new();
    let repo = scratch.repo();
    populate(&repo);
    let log = sarif(&repo.join("k8s/accounts"), &["../.."], 1);
    let result = result_at(&log, "k8s/uses-ci.yaml");
    let related = &result["relatedLocations"][0];
    assert_eq!(
        artifact(related),
        &serde_json::json!({"uri": "k8s/accounts/ci.yaml", "uriBaseId": "%SRCROOT%"})
    );
    assert_eq!(
        related["physicalLocation"]["region"],
        serde_json::json!({"startLine": 3, "startColumn": 9, "endLine": 3, "endColumn": 11})
    );

    let helm = result_at(&log, "charts/app/templates/api.yaml");
    for location in [
        artifact(&helm["relatedLocations"][0]),
        &helm["fixes"][0]["artifactChanges"][0]["artifactLocation"],
    ] {
        assert_eq!(
            location,
            &serde_json::json!({"uri": "charts/app/values.yaml", "uriBaseId": "%SRCROOT%"})
        );
    }
}

#[test]
fn files_outside_the_root_get_absolute_file_uris_and_stdin_keeps_its_name() {
    let scratch = Scratch::new();
    let repo = scratch.repo();
    write(&scratch.base, "outside/a b.yaml", POD_MISSING);
    let log = sarif(&repo, &["../outside/a b.yaml"], 1);
    let expected = file_uri(&scratch.base.join("outside").join("a b.yaml"));
    assert_eq!(
        artifact(&results(&log)[0]["locations"][0]),
        &serde_json::json!({ "uri": expected })
    );

    let stdin = sarif_with_stdin(&repo, POD_MISSING);
    assert_eq!(
        artifact(&results(&stdin)[0]["locations"][0]),
        &serde_json::json!({"uri": "%3Cstdin%3E"})
    );
}

#[test]
fn without_a_git_folder_the_root_is_the_working_directory() {
    let scratch = Scratch::new();
    let plain = scratch.base.join("plain");
    write(&plain, "sub/pod.yaml", POD_MISSING);
    if plain.ancestors().any(|d| d.join(".git").exists()) {
        eprintln!("SKIPPED: the temporary folder is inside a git checkout");
        return;
    }
    let log = sarif(&plain, &["sub/pod.yaml"], 1);
    assert_eq!(
        run(&log)["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        format!("{}/", file_uri(&plain))
    );
    assert_eq!(
        artifact(&results(&log)[0]["locations"][0])["uri"],
        "sub/pod.yaml"
    );
    // From the subfolder, the subfolder is the root.
    let log = sarif(&plain.join("sub"), &["pod.yaml"], 1);
    assert_eq!(
        artifact(&results(&log)[0]["locations"][0])["uri"],
        "pod.yaml"
    );
}

#[test]
fn fingerprints_survive_edits_above_and_tell_workloads_apart() {
    let scratch = Scratch::new();
    let repo = scratch.repo();
    let two = format!("{POD_MISSING}---\n{}", POD_MISSING.replace("web", "api"));
    write(&repo, "pods.yaml", &two);
    let before = sarif(&repo, &["pods.yaml"], 1);
    let prints = fingerprints(&before);
    assert_eq!(prints.len(), 2);
    assert_ne!(prints[0], prints[1]);
    let key = prints[0]
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .expect("a fingerprint");
    assert_eq!(key, "tokenguard/v2");

    write(&repo, "pods.yaml", &format!("# a comment\n\n{two}"));
    let after = sarif(&repo, &["pods.yaml"], 1);
    assert_eq!(
        results(&after)[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        6
    );
    assert_eq!(fingerprints(&after), prints);

    // The same file elsewhere in the checkout is another alert.
    fs::rename(repo.join("pods.yaml"), repo.join("moved.yaml")).expect("rename");
    let moved = sarif(&repo, &["moved.yaml"], 1);
    assert_ne!(fingerprints(&moved)[0], prints[0]);
}

#[test]
fn a_syntax_error_is_not_a_security_result_and_tg001_is() {
    let scratch = Scratch::new();
    let repo = scratch.repo();
    write(&repo, "broken.yaml", BROKEN);
    let log = sarif(&repo, &["broken.yaml"], 1);
    let rules = run(&log)["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let tg000 = &rules[0];
    assert_eq!(tg000["id"], "TG000");
    let tags = tg000["properties"]["tags"].as_array().expect("tags");
    assert!(!tags.iter().any(|t| t == "security"), "{tags:?}");
    assert!(tg000["properties"]["security-severity"].is_null());
    assert_eq!(tg000["properties"]["problem.severity"], "error");
    assert_eq!(tg000["defaultConfiguration"]["level"], "error");

    let tg001 = &rules[1];
    assert_eq!(tg001["id"], "TG001");
    assert!(tg001["properties"]["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .any(|t| t == "security"));
    let severity: f64 = tg001["properties"]["security-severity"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a numeric security-severity string");
    assert!(
        severity > 0.0 && severity <= 10.0,
        "GitHub reads (0, 10]: {severity}"
    );

    let result = &results(&log)[0];
    assert_eq!(result["ruleId"], "TG000");
    assert_eq!(result["ruleIndex"], 0);
    assert_eq!(result["level"], "error");
    let driver = &run(&log)["tool"]["driver"];
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn columns_are_utf16_code_units() {
    let scratch = Scratch::new();
    let repo = scratch.repo();
    let line =
        "spec: {nodeSelector: {zone: \"é😀\"}, automountServiceAccountToken: true, containers: []}";
    write(
        &repo,
        "pod.yaml",
        &format!("kind: Pod\nmetadata:\n  name: émoji\n{line}\n"),
    );
    let log = sarif(&repo, &["pod.yaml"], 1);
    assert_eq!(run(&log)["columnKind"], "utf16CodeUnits");
    let byte = line.find("true").expect("the value");
    let utf16 = line[..byte].encode_utf16().count() as u64;
    // 😀 is one character but two UTF-16 code units.
    assert_eq!(utf16, line[..byte].chars().count() as u64 + 1);
    let region = &results(&log)[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 4);
    assert_eq!(region["startColumn"].as_u64(), Some(utf16 + 1));
    assert_eq!(region["endColumn"].as_u64(), Some(utf16 + 1 + 4));
    let deleted =
        &results(&log)[0]["fixes"][0]["artifactChanges"][0]["replacements"][0]["deletedRegion"];
    assert_eq!(deleted["startColumn"].as_u64(), Some(utf16 + 1));
}

/// The log with what depends on the machine and the release replaced.
fn redacted(mut log: Value, scratch: &Scratch) -> Value {
    let run = &mut log["runs"][0];
    let root = &mut run["originalUriBaseIds"]["%SRCROOT%"]["uri"];
    assert_eq!(root.as_str(), Some(scratch.repo_uri().as_str()));
    *root = Value::from("file:///[checkout]/");
    let driver = &mut run["tool"]["driver"];
    for field in ["version", "semanticVersion"] {
        assert_eq!(driver[field], env!("CARGO_PKG_VERSION"));
        driver[field] = Value::from("[version]");
    }
    log
}

#[test]
fn a_complete_log() {
    let scratch = Scratch::new();
    let repo = scratch.repo();
    write(&repo, "k8s/uses-ci.yaml", POD_USING_ACCOUNT);
    write(&repo, "k8s/accounts/ci.yaml", ACCOUNT_ENABLING);
    write(&repo, "k8s/pod.yaml", POD_MISSING);
    write(&repo, "k8s/broken.yaml", BROKEN);
    let log = sarif(&repo.join("k8s"), &["."], 1);
    assert_valid("the snapshot's log", &log);
    let log = redacted(log, &scratch);
    insta::assert_snapshot!(serde_json::to_string_pretty(&log).expect("JSON"));
}

#[test]
fn rules_have_what_code_scanning_requires_within_its_limits() {
    let scratch = Scratch::new();
    let log = sarif(&scratch.repo(), &["."], 0);
    assert_valid("an empty checkout", &log);
    let rules = run(&log)["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    for rule in rules {
        let id = &rule["id"];
        // Required by GitHub, with its length limits.
        for (field, limit) in [
            ("/name", 255),
            ("/shortDescription/text", 1024),
            ("/fullDescription/text", 1024),
            ("/help/text", usize::MAX),
            ("/help/markdown", usize::MAX),
            ("/helpUri", usize::MAX),
        ] {
            let text = rule
                .pointer(field)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{id} lacks {field}"));
            assert!(
                !text.is_empty() && text.chars().count() <= limit,
                "{id}{field}"
            );
        }
        let level = rule["defaultConfiguration"]["level"].as_str();
        assert!(matches!(level, Some("note" | "warning" | "error")), "{id}");
        let precision = rule["properties"]["precision"].as_str();
        assert!(
            matches!(precision, Some("very-high" | "high" | "medium" | "low")),
            "{id}"
        );
    }
}

/// RBAC objects giving accounts of namespace `build` each a risk (issue 14):
/// `admin` cluster-admin, `reader` a dangerous capability cluster-wide,
/// `exec` one in its namespace, `viewer` nothing dangerous, `ops` a role
/// not in the checked files; any other account is bound to nothing.
const RBAC_RISKS: &str = "\
kind: ClusterRoleBinding
metadata: {name: admin}
roleRef: {kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: admin, namespace: build}]
---
kind: ClusterRole
metadata: {name: secret-reader}
rules: [{apiGroups: [\"\"], resources: [secrets], verbs: [get]}]
---
kind: ClusterRoleBinding
metadata: {name: reader}
roleRef: {kind: ClusterRole, name: secret-reader}
subjects: [{kind: ServiceAccount, name: reader, namespace: build}]
---
kind: Role
metadata: {name: exec, namespace: build}
rules: [{apiGroups: [\"\"], resources: [pods/exec], verbs: [create]}]
---
kind: RoleBinding
metadata: {name: exec, namespace: build}
roleRef: {kind: Role, name: exec}
subjects: [{kind: ServiceAccount, name: exec}]
---
kind: RoleBinding
metadata: {name: viewer, namespace: build}
roleRef: {kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: viewer}]
---
kind: RoleBinding
metadata: {name: ops, namespace: build}
roleRef: {kind: ClusterRole, name: ops-tools}
subjects: [{kind: ServiceAccount, name: ops}]
";

#[test]
fn each_tg001_result_carries_a_security_severity_that_follows_the_tokens_risk() {
    let scratch = Scratch::new();
    let repo = scratch.repo();
    write(&repo, "k8s/rbac.yaml", RBAC_RISKS);
    let pods: Vec<String> = ["admin", "reader", "exec", "viewer", "ops", "lone"]
        .iter()
        .map(|account| {
            format!(
                "kind: Pod\nmetadata: {{name: {account}, namespace: build}}\nspec:\n  serviceAccountName: {account}\n  containers: []\n"
            )
        })
        .collect();
    write(&repo, "k8s/apps/pods.yaml", &pods.join("---\n"));
    let log = sarif(&repo, &["k8s"], 1);
    assert_valid("a log with risks", &log);
    // The rule keeps its default.
    assert_eq!(
        run(&log)["tool"]["driver"]["rules"][1]["properties"]["security-severity"],
        "5.0"
    );
    let ranked: Vec<(String, String, String, String)> = results(&log)
        .iter()
        .map(|r| {
            let text = r["message"]["text"].as_str().unwrap();
            let pod = text.split('"').nth(1).unwrap().to_string();
            let property = |key: &str| r["properties"][key].as_str().unwrap_or("").to_string();
            (
                pod,
                property("tokenguard/risk"),
                property("security-severity"),
                r["level"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let row = |pod: &str, risk: &str, severity: &str, level: &str| {
        (
            pod.to_string(),
            risk.to_string(),
            severity.to_string(),
            level.to_string(),
        )
    };
    assert_eq!(
        ranked,
        [
            row("admin", "cluster-admin", "9.8", "error"),
            row("reader", "dangerous-cluster-wide", "9.0", "error"),
            row("exec", "dangerous-in-namespace", "7.5", "warning"),
            row("viewer", "bound", "5.0", "warning"),
            row("ops", "unknown", "5.0", "warning"),
            row("lone", "discovery-only", "3.0", "warning"),
        ]
    );
    // The binding, and the declared role, are related locations in their
    // file, at their names.
    let reader = &results(&log)[1];
    let related: Vec<(Value, Value, Value)> = reader["relatedLocations"]
        .as_array()
        .expect("related locations")
        .iter()
        .map(|l| {
            (
                artifact(l)["uri"].clone(),
                l["physicalLocation"]["region"].clone(),
                l["message"]["text"].clone(),
            )
        })
        .collect();
    assert_eq!(
        related,
        [
            (
                Value::from("k8s/rbac.yaml"),
                serde_json::json!({"startLine": 11, "startColumn": 18, "endLine": 11, "endColumn": 24}),
                Value::from("ClusterRoleBinding \"reader\" binds ServiceAccount \"reader\" (namespace \"build\") to ClusterRole \"secret-reader\""),
            ),
            (
                Value::from("k8s/rbac.yaml"),
                serde_json::json!({"startLine": 7, "startColumn": 18, "endLine": 7, "endColumn": 31}),
                Value::from("ClusterRole \"secret-reader\" lets its holders read Secrets"),
            ),
        ]
    );
}
