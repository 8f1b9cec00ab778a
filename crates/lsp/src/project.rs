//! The project configuration file (`tokenguard.toml`) of each workspace
//! folder: found at the folder or any folder above it, read from disk, and
//! turned into the analysis host's `Configuration` for the folder (the
//! workspace store puts it in force with `set_configuration`; the options
//! and the exclusion of a file are then asked of the host) and, when it is
//! malformed, a diagnostic on the file itself.
//!
//! Precedence: what the project file sets wins over the editor settings
//! (`tokenguard.severity`, `tokenguard.syntaxErrors`), since it is the team's
//! shared decision; what it leaves unset falls back to them. Exclude patterns
//! add up: a file excluded by either is not checked.

use std::path::{Path, PathBuf};

use ropey::Rope;
use tokenguard_analysis::host::{Configuration, FilePath};
use tokenguard_analysis::{files, parse_config};
use tower_lsp_server::ls_types::{Diagnostic, DiagnosticSeverity};
use tracing::{info, warn};

use crate::diagnostics::SOURCE;
use crate::identity::DocumentKey;
use crate::positions::{to_range, Encoding};

/// The configuration in force for one workspace folder.
#[derive(Debug)]
pub struct Project {
    /// The workspace folder.
    pub root: PathBuf,
    /// The file found, whether or not it could be used.
    pub file: Option<PathBuf>,
    /// The configuration for the host (its exclusion rule is the command
    /// line's, relative to the file's folder, which may be above the
    /// workspace folder); the defaults when there is no usable file.
    pub configuration: Configuration,
    /// Why the file could not be used, as a diagnostic on it.
    pub problem: Option<(DocumentKey, Diagnostic)>,
}

pub use tokenguard_analysis::files::is_config_file;

impl Project {
    /// The configuration of the workspace folder `root`, read from disk now.
    pub fn load(root: &Path, encoding: Encoding) -> Self {
        let mut project = Project {
            root: root.to_path_buf(),
            file: None,
            configuration: Configuration::defaults(),
            problem: None,
        };
        let Some(path) = files::find_config(root, Path::is_file) else {
            return project;
        };
        project.file = Some(path.clone());
        let uri = DocumentKey::from_path(&path);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) => {
                warn!(
                    "{}: cannot be read ({error}); defaults used",
                    path.display()
                );
                project.problem = uri.map(|uri| {
                    let message = format!("tokenguard cannot read this configuration ({error}); the defaults are used");
                    (uri, problem_diagnostic(Default::default(), message))
                });
                return project;
            }
        };
        match parse_config(&text) {
            Ok(config) => {
                info!("{}: project configuration in force", path.display());
                project.configuration =
                    Configuration::from_config(FilePath::from_path(&path), config);
            }
            Err(error) => {
                warn!("{}: {}; defaults used", path.display(), error.message);
                project.problem = uri.map(|uri| {
                    let range = to_range(&Rope::from_str(&text), error.range, encoding);
                    let message = format!(
                        "{}. The configuration is not used: the defaults are in force.",
                        error.message
                    );
                    (uri, problem_diagnostic(range, message))
                });
            }
        }
        project
    }
}

fn problem_diagnostic(range: tower_lsp_server::ls_types::Range, message: String) -> Diagnostic {
    Diagnostic {
        range,
        severity: Some(DiagnosticSeverity::ERROR),
        source: Some(SOURCE.to_string()),
        message,
        ..Diagnostic::default()
    }
}
