//! Messages about the run itself (unreadable files, skipped files), as
//! opposed to findings. They go to stderr so stdout stays parseable.

use std::io::Write;

/// Counts the errors that must turn the exit code into 2.
#[derive(Debug, Default)]
pub struct ErrorLog {
    errors: usize,
}

impl ErrorLog {
    /// An error: the run goes on, but it cannot vouch for what it missed.
    pub fn error(&mut self, message: impl std::fmt::Display) {
        self.errors += 1;
        // A closed stderr must not turn into a panic.
        let _ = writeln!(std::io::stderr(), "tokenguard: error: {message}");
    }

    /// A notice that does not change the exit code.
    pub fn warning(&mut self, message: impl std::fmt::Display) {
        let _ = writeln!(std::io::stderr(), "tokenguard: warning: {message}");
    }

    /// Something the run did not evaluate, said so; not a problem of the
    /// run (the exit code is unchanged).
    pub fn note(&mut self, message: impl std::fmt::Display) {
        let _ = writeln!(std::io::stderr(), "tokenguard: note: {message}");
    }

    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }

    /// How many errors were reported.
    pub fn count(&self) -> usize {
        self.errors
    }
}
