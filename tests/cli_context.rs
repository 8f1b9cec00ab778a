//! What the command line offers beyond checking: `--workspace` (context read
//! but not reported, for hooks that get only the changed files), `--fix` on a
//! read-only file, shell completions and manual pages.

mod common;

use std::fs;
use std::process::Output;

use common::{stderr, tokenguard, write};

const ACCOUNT_DISABLING: &str = "\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
  namespace: shop
automountServiceAccountToken: false
";

const DEPLOYMENT_AS_WEB: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      serviceAccountName: web
      containers:
        - name: web
          image: nginx
";

/// A Pod with no `automountServiceAccountToken`: one finding.
const POD_MISSING: &str = "kind: Pod\nmetadata:\n  name: p\nspec:\n  containers: []\n";

fn code(output: &Output) -> i32 {
    output.status.code().expect("tokenguard exits normally")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

/// The `file` of every JSON finding, in output order.
fn reported_files(output: &Output) -> Vec<String> {
    let findings: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    findings
        .as_array()
        .expect("an array")
        .iter()
        .map(|f| f["file"].as_str().expect("file").to_string())
        .collect()
}

// --- --workspace ---------------------------------------------------------------

#[test]
fn an_account_in_an_unchecked_file_of_the_workspace_decides_the_checked_workload() {
    let repo = tempfile::tempdir().expect("temp dir");
    write(repo.path(), "k8s/account.yaml", ACCOUNT_DISABLING);
    write(repo.path(), "k8s/web.yaml", DEPLOYMENT_AS_WEB);

    let alone = tokenguard(repo.path(), &["check", "k8s/web.yaml"]);
    assert_eq!(code(&alone), 1, "without context the account is unknown");

    let with_context = tokenguard(repo.path(), &["check", "--workspace", ".", "k8s/web.yaml"]);
    assert_eq!(code(&with_context), 0, "{}", stderr(&with_context));
    assert!(stderr(&with_context).contains("No findings in 1 file."));
}

#[test]
fn workspace_files_are_context_only_their_findings_are_not_reported_or_fixed() {
    let repo = tempfile::tempdir().expect("temp dir");
    write(repo.path(), "changed.yaml", POD_MISSING);
    write(repo.path(), "untouched/old.yaml", POD_MISSING);
    write(repo.path(), "untouched/broken.yaml", "a: [\n");

    let output = tokenguard(
        repo.path(),
        &[
            "check",
            "--format",
            "json",
            "--workspace",
            ".",
            "changed.yaml",
        ],
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert_eq!(reported_files(&output), ["changed.yaml"]);

    let fixed = tokenguard(
        repo.path(),
        &["check", "--fix", "--workspace", ".", "changed.yaml"],
    );
    assert_eq!(code(&fixed), 0, "{}", stderr(&fixed));
    let untouched = fs::read_to_string(repo.path().join("untouched/old.yaml")).expect("read");
    assert_eq!(untouched, POD_MISSING, "a context file was rewritten");
}

#[test]
fn a_named_file_inside_the_workspace_is_reported_and_its_account_applies() {
    // The account file is both named and under the workspace: it is checked
    // (and counted) as a named file, and its account decides the workload.
    let repo = tempfile::tempdir().expect("temp dir");
    write(repo.path(), "account.yaml", ACCOUNT_DISABLING);
    write(repo.path(), "web.yaml", DEPLOYMENT_AS_WEB);
    let output = tokenguard(
        repo.path(),
        &["check", "--workspace", ".", "account.yaml", "web.yaml"],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(stderr(&output).contains("No findings in 2 files."));
}

#[test]
fn a_missing_workspace_is_an_error_and_the_named_files_are_still_checked() {
    let repo = tempfile::tempdir().expect("temp dir");
    write(repo.path(), "pod.yaml", POD_MISSING);
    let output = tokenguard(repo.path(), &["check", "--workspace", "nope", "pod.yaml"]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("--workspace nope: no such file or directory"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).contains("pod.yaml:4:1"));
}

// --- the walk ---------------------------------------------------------------------

#[test]
fn the_walk_skips_package_manager_trees_as_the_editor_index_does() {
    let repo = tempfile::tempdir().expect("temp dir");
    write(repo.path(), "k8s/pod.yaml", POD_MISSING);
    write(
        repo.path(),
        "node_modules/some-lib/test/pod.yaml",
        POD_MISSING,
    );
    let output = tokenguard(repo.path(), &["check", "--format", "json"]);
    assert_eq!(reported_files(&output), ["k8s/pod.yaml"]);
    // Named explicitly, such a file is checked.
    let named = tokenguard(
        repo.path(),
        &[
            "check",
            "--format",
            "json",
            "node_modules/some-lib/test/pod.yaml",
        ],
    );
    assert_eq!(
        reported_files(&named),
        ["node_modules/some-lib/test/pod.yaml"]
    );
}

// --- --fix on a read-only file ------------------------------------------------

#[test]
fn fix_leaves_a_read_only_file_unchanged_and_says_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "pod.yaml", POD_MISSING);
    let path = dir.path().join("pod.yaml");
    let mut permissions = fs::metadata(&path).expect("meta").permissions();
    permissions.set_readonly(true);
    fs::set_permissions(&path, permissions).expect("make read-only");

    let output = tokenguard(dir.path(), &["check", "--fix", "pod.yaml"]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("pod.yaml: is read-only; not changed"),
        "{}",
        stderr(&output)
    );
    assert_eq!(fs::read_to_string(&path).expect("read"), POD_MISSING);
    let names: Vec<_> = fs::read_dir(dir.path()).expect("list").collect();
    assert_eq!(names.len(), 1, "a temporary file was left behind");
}

// --- completions and manual pages ------------------------------------------------

#[test]
fn completions_cover_the_subcommands_and_options_for_every_shell() {
    let dir = tempfile::tempdir().expect("temp dir");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = tokenguard(dir.path(), &["completions", shell]);
        assert_eq!(code(&output), 0, "{shell}: {}", stderr(&output));
        let script = stdout(&output);
        for word in ["check", "server", "workspace", "format"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
        // Where the shell completes values too, the formats are offered.
        if ["bash", "zsh", "fish"].contains(&shell) {
            assert!(script.contains("sarif"), "{shell} completions lack sarif");
        }
    }
    let unknown = tokenguard(dir.path(), &["completions", "tcsh"]);
    assert_eq!(code(&unknown), 2);
}

#[test]
fn the_bash_completion_script_is_valid_bash() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = tokenguard(dir.path(), &["completions", "bash"]);
    let script = dir.path().join("tokenguard.bash");
    fs::write(&script, &output.stdout).expect("write script");
    match std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
    {
        Ok(check) => assert!(
            check.status.success(),
            "bash -n: {}",
            String::from_utf8_lossy(&check.stderr)
        ),
        Err(e) => eprintln!("SKIPPED bash -n: bash not found ({e})"),
    }
}

#[test]
fn man_prints_the_main_page_and_writes_every_page_into_a_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let page = tokenguard(dir.path(), &["man"]);
    assert_eq!(code(&page), 0, "{}", stderr(&page));
    let page = stdout(&page);
    assert!(page.contains(".TH tokenguard 1"), "{page}");
    assert!(
        page.contains("tokenguard\\-check(1)"),
        "no link to the check page"
    );

    fs::create_dir(dir.path().join("man1")).expect("create man1");
    let written = tokenguard(dir.path(), &["man", "--dir", "man1"]);
    assert_eq!(code(&written), 0, "{}", stderr(&written));
    let mut names: Vec<String> = fs::read_dir(dir.path().join("man1"))
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "tokenguard-accounts.1",
            "tokenguard-check.1",
            "tokenguard-completions.1",
            "tokenguard-man.1",
            "tokenguard-server.1",
            "tokenguard.1"
        ]
    );

    let missing = tokenguard(dir.path(), &["man", "--dir", "nope"]);
    assert_eq!(code(&missing), 2);
    assert!(stderr(&missing).contains("nope: not an existing folder"));
}
