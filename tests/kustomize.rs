//! Kustomize layouts checked by the real binary (`tests/kustomize/<layout>/`:
//! a base and overlays each), and the corpus's kustomizations.

mod common;

use std::process::{Command, Output};

use serde_json::Value;
use tokenguard_analysis::kustomize::is_kustomization_file;
use tokenguard_analysis::{analyze, Code, KustomizeIndex, NoAccounts};

const LAYOUTS: &str = "tests/kustomize";

fn check(paths: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tokenguard"))
        .arg("check")
        .args(["--format", "json"])
        .args(paths)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the tokenguard binary runs")
}

/// The findings as (file below the layout, code, message).
fn findings(layout: &str, paths: &[&str]) -> (i32, Vec<(String, String, String)>) {
    let root = format!("{LAYOUTS}/{layout}");
    let paths: Vec<String> = paths.iter().map(|p| format!("{root}/{p}")).collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let output = check(&refs);
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let found = json
        .as_array()
        .expect("an array of findings")
        .iter()
        .map(|f| {
            let file = f["file"].as_str().unwrap();
            (
                file.strip_prefix(&format!("{root}/"))
                    .unwrap_or(file)
                    .to_string(),
                f["code"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (output.status.code().expect("exits normally"), found)
}

fn files_with(found: &[(String, String, String)]) -> Vec<(&str, &str)> {
    found
        .iter()
        .map(|(f, c, _)| (f.as_str(), c.as_str()))
        .collect()
}

#[test]
fn every_overlay_patching_the_base_leaves_nothing_to_report() {
    assert_eq!(findings("all_overlays_patch", &[""]), (0, vec![]));
    // Without the overlays among the checked paths, the base is judged as
    // it is, and so is a partial patch checked on its own.
    let (code, base_alone) = findings("all_overlays_patch", &["base"]);
    assert_eq!(code, 1);
    assert_eq!(files_with(&base_alone), [("base/deployment.yaml", "TG001")]);
    let (_, patch_alone) = findings(
        "all_overlays_patch",
        &["overlays/dev/patches/resources.yaml"],
    );
    assert_eq!(
        files_with(&patch_alone),
        [("overlays/dev/patches/resources.yaml", "TG001")],
        "the patch is a partial Deployment: only its kustomization makes it one"
    );
}

#[test]
fn a_base_only_some_overlays_patch_keeps_its_finding_which_names_them() {
    let (code, found) = findings("some_overlays_patch", &[""]);
    assert_eq!(code, 1);
    assert_eq!(files_with(&found), [("base/deployment.yaml", "TG001")]);
    // (Then what the token can do, the message's last sentence.)
    assert!(
        found[0].2.contains(
            "Add automountServiceAccountToken: false to the pod spec. overlays/prod sets \
             automountServiceAccountToken: false through a patch, overlays/dev does not. No \
             RoleBinding"
        ),
        "{}",
        found[0].2
    );
    let output = check(&[&format!("{LAYOUTS}/some_overlays_patch")]);
    insta::assert_snapshot!(String::from_utf8(output.stdout).unwrap());
}

#[test]
fn patches_for_another_name_or_namespace_change_nothing_and_broken_ones_are_syntax_errors() {
    let (code, found) = findings("wrong_target", &[""]);
    assert_eq!(code, 1);
    assert_eq!(
        files_with(&found),
        [
            ("base/deployment.yaml", "TG001"),
            ("overlays/broken/token.yaml", "TG000")
        ]
    );
    assert!(!found[0].2.contains("through a patch"), "{}", found[0].2);
    let output = check(&[&format!("{LAYOUTS}/wrong_target")]);
    insta::assert_snapshot!(String::from_utf8(output.stdout).unwrap());
}

#[test]
fn json6902_operations_and_expression_targets_patch_the_base() {
    assert_eq!(findings("json6902", &[""]), (0, vec![]));
    let (_, base_alone) = findings("json6902", &["base"]);
    assert_eq!(
        files_with(&base_alone),
        [
            ("base/cronjob.yaml", "TG001"),
            ("base/deployment.yaml", "TG001")
        ],
        "the base's kustomization is named Kustomization, without extension"
    );
}

#[test]
fn a_component_carries_the_patch() {
    assert_eq!(findings("component", &[""]), (0, vec![]));
    let (_, base_alone) = findings("component", &["base"]);
    assert_eq!(files_with(&base_alone), [("base/deployment.yaml", "TG001")]);
}

/// Reads the corpus as one workspace: how many kustomizations and patch
/// files it has, and how many findings the kustomize step removes or
/// rewords. It never adds one, nor touches a syntax error.
#[test]
fn corpus_kustomizations_only_remove_or_reword_findings() {
    let Some(shared) = common::shared_dir("kustomize corpus") else {
        return;
    };
    let root = shared.join("corpus");
    let texts: Vec<(String, String)> = common::files_under(&root, |path| {
        common::is_yaml(path) || path.file_name().is_some_and(|n| n == "Kustomization")
    })
    .into_iter()
    .filter_map(|p| {
        let key = p.strip_prefix(&root).ok()?.to_string_lossy().into_owned();
        Some((key, std::fs::read_to_string(&p).ok()?))
    })
    .collect();
    let mut index = KustomizeIndex::new();
    for (path, text) in texts.iter().filter(|(p, _)| is_kustomization_file(p)) {
        index.set_kustomization(path, text);
    }
    let patch_files = index.patch_files().clone();
    let mut patches_read = 0;
    for (path, text) in texts.iter().filter(|(p, _)| patch_files.contains(p)) {
        index.set_patch(path, text);
        patches_read += 1;
    }
    let (mut removed, mut reworded, mut in_patch_files) = (0, 0, 0);
    for (path, text) in &texts {
        let before = analyze(text, &NoAccounts, tokenguard_analysis::Options::builtin());
        let after = index.adjust(path, before.clone());
        assert!(after.len() <= before.len(), "{path}: a finding was added");
        let syntax = |f: &[tokenguard_analysis::Finding]| {
            f.iter()
                .filter(|f| f.code == Code::TG000)
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(syntax(&before), syntax(&after), "{path}: TG000 changed");
        if index.is_patch_file(path) {
            in_patch_files += before.len() - after.len();
        }
        removed += before.len() - after.len();
        reworded += after.iter().filter(|f| !before.contains(f)).count();
    }
    eprintln!(
        "kustomize corpus: {} kustomization files, {} patch files named ({patches_read} present), \
         {removed} findings removed ({in_patch_files} in patch files), {reworded} reworded",
        index.kustomization_count(),
        patch_files.len(),
    );
    assert!(
        index.kustomization_count() > 0,
        "the corpus has kustomizations"
    );
}

#[test]
fn a_patch_named_by_url_is_remote_and_never_read_as_a_local_file() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    common::write(
        dir.path(),
        "app/kustomization.yaml",
        "resources:\n- deploy.yaml\npatches:\n\
         - path: https://example.com/patches/automount.yaml\n\
         - path: missing.yaml\n",
    );
    common::write(
        dir.path(),
        "app/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers: []\n",
    );
    let output = common::tokenguard(dir.path(), &["check", "app", "--format", "json"]);
    let stderr = common::stderr(&output);
    assert!(
        !stderr.contains("example.com"),
        "a URL was read as a local file:\n{stderr}"
    );
    // A local patch file that is missing is still said to be unreadable.
    assert!(
        stderr.contains("missing.yaml: named by a kustomization but cannot be read"),
        "{stderr}"
    );
    // What the remote patch does is unknown: the workload is judged as it is.
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let codes: Vec<&str> = json
        .as_array()
        .expect("an array of findings")
        .iter()
        .map(|f| f["code"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(codes, ["TG001"], "{stderr}");
}
