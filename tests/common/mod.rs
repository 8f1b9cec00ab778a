//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

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
