//! `tokenguard check --fix` writes files safely: a file is replaced whole or
//! not at all, nothing outside the checked tree is ever written, and files
//! with nothing to fix are not touched. (tests/cli.rs covers permissions,
//! CRLF, a named symlink and unchanged files' modification times.)
//! A pod whose account is bound to roles is fixed with a note that says so.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::Path;

mod common;
use common::{stderr, tokenguard};

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n";
const FIXED: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  automountServiceAccountToken: false\n  containers: []\n";

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The fixed text goes to a new file that is renamed over the old one: a
/// reader (here, a second hard link to the old file) sees the old content or
/// the new, never a mix, and no temporary file is left behind.
#[test]
fn a_fixed_file_is_replaced_whole_by_a_rename() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pod.yaml");
    fs::write(&path, POD).unwrap();
    fs::hard_link(&path, dir.path().join("reader.yaml.bak")).unwrap();
    let before = fs::metadata(&path).unwrap().ino();

    let output = tokenguard(dir.path(), &["check", "--fix", "pod.yaml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(fs::read_to_string(&path).unwrap(), FIXED);
    assert_ne!(fs::metadata(&path).unwrap().ino(), before, "a new file");
    assert_eq!(
        fs::read_to_string(dir.path().join("reader.yaml.bak")).unwrap(),
        POD,
        "the old file was never written in place"
    );
    assert_eq!(names(dir.path()), ["pod.yaml", "reader.yaml.bak"]);
}

/// The walk enters neither linked directories nor linked files, so
/// `--fix .` cannot reach a file outside the tree through a link. (A path
/// the user names through a linked directory, `linked-dir/pod.yaml`, is a
/// file they asked for by name, and is fixed like any other.)
#[test]
fn fixing_a_tree_never_writes_through_a_link_out_of_it() {
    let tree = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("pod.yaml"), POD).unwrap();
    symlink(outside.path(), tree.path().join("linked-dir")).unwrap();
    symlink(
        outside.path().join("pod.yaml"),
        tree.path().join("linked-pod.yaml"),
    )
    .unwrap();
    fs::write(tree.path().join("own.yaml"), POD).unwrap();

    let output = tokenguard(tree.path(), &["check", "--fix", "."]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        fs::read_to_string(tree.path().join("own.yaml")).unwrap(),
        FIXED
    );
    assert_eq!(
        fs::read_to_string(outside.path().join("pod.yaml")).unwrap(),
        POD,
        "the file outside the tree is untouched"
    );
    assert!(fs::symlink_metadata(tree.path().join("linked-pod.yaml"))
        .unwrap()
        .file_type()
        .is_symlink());
}

/// A symbolic link named on the command line is checked, but never written
/// through: the target stays as it was, and the link stays a link.
#[test]
fn a_named_link_to_a_file_outside_is_reported_not_written() {
    let tree = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("pod.yaml"), POD).unwrap();
    symlink(
        outside.path().join("pod.yaml"),
        tree.path().join("link.yaml"),
    )
    .unwrap();
    let output = tokenguard(tree.path(), &["check", "--fix", "link.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output)
        .contains("link.yaml: is a symbolic link; --fix does not write through links"));
    assert_eq!(
        fs::read_to_string(outside.path().join("pod.yaml")).unwrap(),
        POD
    );
}

/// Nothing to fix: the file is not rewritten (same inode, same mtime).
#[test]
fn a_file_with_nothing_to_fix_is_left_exactly_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok.yaml");
    fs::write(&path, FIXED).unwrap();
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let before = fs::metadata(&path).unwrap();
    let output = tokenguard(dir.path(), &["check", "--fix"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let after = fs::metadata(&path).unwrap();
    assert_eq!(after.ino(), before.ino());
    assert_eq!(after.modified().unwrap(), old);
    assert_eq!(names(dir.path()), ["ok.yaml"]);
}

const BINDING: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: web-edit\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: edit\nsubjects:\n- kind: ServiceAccount\n  name: default\n";

/// A pod whose account is bound to a role may use the API: `--fix` still
/// applies its fix (the user asked for all), but not silently: one note per
/// bound account names the binding, the workloads and what to do instead.
/// `--diff` says the same in the conditional; an unbound account gets no note.
#[test]
fn fixing_a_pod_whose_account_is_bound_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pod.yaml");
    fs::write(&path, POD).unwrap();
    fs::write(dir.path().join("rbac.yaml"), BINDING).unwrap();

    let diff = tokenguard(dir.path(), &["check", "--diff", "."]);
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    assert!(
        stderr(&diff).contains("tokenguard: note: ServiceAccount \"default\" is bound to ClusterRole \"edit\" by RoleBinding \"web-edit\""),
        "{}",
        stderr(&diff)
    );
    assert!(stderr(&diff).contains("--fix would turn the token off in Pod \"web\" (pod.yaml:5)"));
    assert_eq!(fs::read_to_string(&path).unwrap(), POD);

    let fixed = tokenguard(dir.path(), &["check", "--fix", "."]);
    assert_eq!(fixed.status.code(), Some(0), "{}", stderr(&fixed));
    assert_eq!(fs::read_to_string(&path).unwrap(), FIXED);
    let log = stderr(&fixed);
    let notes: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("tokenguard: note: ServiceAccount"))
        .collect();
    assert_eq!(notes.len(), 1, "{log}");
    assert!(notes[0].contains("--fix turned the token off in Pod \"web\" (pod.yaml:5). If a pod uses the API, mount a projected token instead"));

    // Without the binding, nothing to say.
    fs::write(&path, POD).unwrap();
    fs::remove_file(dir.path().join("rbac.yaml")).unwrap();
    let unbound = tokenguard(dir.path(), &["check", "--fix", "."]);
    assert_eq!(unbound.status.code(), Some(0), "{}", stderr(&unbound));
    assert!(
        !stderr(&unbound).contains("ServiceAccount"),
        "{}",
        stderr(&unbound)
    );
}
