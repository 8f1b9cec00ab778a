//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The environment variable that turns a missing `../shared` into a failure
/// (`.ci/run` sets it).
pub const REQUIRE_SHARED: &str = "TOKENGUARD_REQUIRE_SHARED";

/// `../shared` beside the repository: the conformance fixtures and the corpus.
/// It exists in CI and on the developers' machines, not in a user's clone;
/// tests that need it skip, saying so, unless `TOKENGUARD_REQUIRE_SHARED=1`.
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os(REQUIRE_SHARED).is_some_and(|v| v == "1") {
        panic!(
            "{test}: {} is missing and {REQUIRE_SHARED}=1",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED {test}: {} not found (it exists only in CI and on developer machines)",
        dir.display()
    );
    None
}

/// Writes `content` to `dir/name`, creating its folders (the fixture
/// helper of the test client, `tokenguard_lsp_test_client::write`).
pub fn write(dir: &Path, name: &str, content: &str) {
    tokenguard_lsp_test_client::write(&dir.join(name), content);
}

/// Runs the real `tokenguard` binary in `dir` with no standard input and no
/// colours.
pub fn tokenguard(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tokenguard"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("the tokenguard binary runs")
}

/// What a run printed on standard error.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every file under `root` (recursively, without recursion) that `keep`
/// accepts, sorted.
pub fn files_under(root: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries =
            std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if keep(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Whether a path names a `*.yaml` or `*.yml` file.
pub fn is_yaml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yaml" || e == "yml")
}
