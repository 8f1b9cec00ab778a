//! Whether a reference implementation the tests compare with is here. A
//! missing one skips the test, saying so, or fails it when
//! `TOKENGUARD_REQUIRE_ORACLES=1` (as `.ci/run` sets), so a broken CI setup
//! cannot pass as a skip.

use std::process::{Command, Stdio};

/// Whether `python3` can import helm-python-sdk (the stand-in `helm` of
/// `tests/support/helm` runs on it); else skips `test` or fails it.
pub fn helm_python_available(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import helm_python"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return true;
    }
    if std::env::var_os("TOKENGUARD_REQUIRE_ORACLES").is_some_and(|v| v == "1") {
        panic!("{test}: python3 with helm-python-sdk is missing and TOKENGUARD_REQUIRE_ORACLES=1");
    }
    eprintln!(
        "SKIPPED {test}: python3 with the helm-python-sdk package (the stand-in helm) is missing"
    );
    false
}
