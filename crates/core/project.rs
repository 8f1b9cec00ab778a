//! The project configuration file for a `check` run: which file, read how,
//! and `--print-config`. What the configuration means (its options, its
//! exclusion rule, how it adjusts findings) is the analysis host's
//! `Configuration`; finding and reading the file is done here.
//!
//! One configuration applies to the whole run: the one named by `--config`,
//! or else the nearest `tokenguard.toml` (or `.tokenguard.toml`) in the
//! folder of the first checked path or any folder above it (the current
//! folder when checking standard input only).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use tokenguard_analysis::files;
use tokenguard_analysis::host::{Configuration, FilePath};
use tokenguard_analysis::{parse_config, LineIndex, Severity};

use crate::args::CheckArgs;
use crate::errors::ErrorLog;
use crate::walk::display_path;

/// How the configuration file was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `--config FILE`.
    Flag,
    /// Found by searching upwards from this folder.
    Found { from: PathBuf },
    /// Searched for from this folder, and none found.
    NotFound { from: PathBuf },
    /// `--no-config`.
    Disabled,
}

/// The configuration in force for a run.
#[derive(Debug)]
pub struct Project {
    pub origin: Origin,
    /// The file, when there is one (even if it could not be used).
    pub path: Option<PathBuf>,
    /// Whether the file was read and accepted; when not, the defaults apply.
    pub loaded: bool,
    /// What it says; its exclude patterns are relative to the file's
    /// folder, canonical (so is every path [`Project::excludes`] is asked).
    pub configuration: Configuration,
}

impl Project {
    fn defaults(origin: Origin, path: Option<PathBuf>) -> Self {
        Self {
            origin,
            path,
            loaded: false,
            configuration: Configuration::defaults(),
        }
    }

    /// The configuration for `args`; problems with the file are logged as
    /// errors (exit status 2) and leave the defaults in force.
    pub fn for_check(args: &CheckArgs, log: &mut ErrorLog) -> Self {
        Self::for_paths(&args.paths, args.config.as_deref(), args.no_config, log)
    }

    /// The configuration for a run over `paths`, as `--config FILE` and
    /// `--no-config` choose it (the same for every command).
    pub fn for_paths(
        paths: &[PathBuf],
        config: Option<&Path>,
        no_config: bool,
        log: &mut ErrorLog,
    ) -> Self {
        if no_config {
            return Self::defaults(Origin::Disabled, None);
        }
        let (origin, path) = match config {
            Some(path) => (Origin::Flag, Some(path.to_path_buf())),
            None => {
                let from = search_start(paths);
                match files::find_config(&from, Path::is_file) {
                    Some(path) => (Origin::Found { from }, Some(path)),
                    None => (Origin::NotFound { from }, None),
                }
            }
        };
        let Some(path) = path else {
            return Self::defaults(origin, None);
        };
        let shown = display_path(&path);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                log.error(format_args!(
                    "{shown}: cannot read the configuration: {}; defaults used",
                    crate::atomic::describe(&e)
                ));
                return Self::defaults(origin, Some(path));
            }
        };
        match parse_config(&text) {
            Ok(config) => {
                // The file named by its canonical folder, as the paths
                // asked about are.
                let canonical = match (path.parent(), path.file_name()) {
                    (Some(parent), Some(name)) => {
                        let parent = if parent.as_os_str().is_empty() {
                            Path::new(".")
                        } else {
                            parent
                        };
                        fs::canonicalize(parent)
                            .unwrap_or_else(|_| parent.to_path_buf())
                            .join(name)
                    }
                    _ => path.clone(),
                };
                Self {
                    origin,
                    loaded: true,
                    configuration: Configuration::from_config(
                        FilePath::from_path(&canonical),
                        config,
                    ),
                    path: Some(path),
                }
            }
            Err(error) => {
                let (line, col) = LineIndex::new(&text).line_col_chars(&text, error.range.start);
                log.error(format_args!(
                    "{shown}:{}:{}: {}; the configuration is not used (defaults in force)",
                    line + 1,
                    col + 1,
                    error.message
                ));
                Self::defaults(origin, Some(path))
            }
        }
    }

    /// Whether a file is excluded by the configuration's patterns (the
    /// analysis host's rule, `Configuration::excludes`, on the canonical
    /// path).
    pub fn excludes(&self, path: &Path) -> bool {
        if self.configuration.config.exclude.is_empty() {
            return false;
        }
        let absolute = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.configuration.excludes(&FilePath::from_path(&absolute))
    }

    pub fn severity(&self) -> Severity {
        self.configuration.severity()
    }

    pub fn syntax_errors(&self) -> bool {
        self.configuration.syntax_errors()
    }

    /// The effective configuration, as TOML with comments saying where each
    /// value comes from (`--print-config`).
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let file = self.path.as_deref().map(display_path);
        let file_line = match (&self.origin, &file) {
            (Origin::Disabled, _) => "none (--no-config)".to_string(),
            (Origin::NotFound { from }, _) => {
                format!(
                    "none found in {} or the folders above it",
                    display_path(from)
                )
            }
            (Origin::Flag, Some(f)) => format!("{f} (from --config)"),
            (Origin::Found { from }, Some(f)) => {
                format!("{f} (found from {})", display_path(from))
            }
            (_, None) => "none".to_string(),
        };
        let _ = writeln!(out, "# Configuration file: {file_line}");
        if file.is_some() && !self.loaded {
            let _ = writeln!(
                out,
                "# It could not be used (see the error above): defaults in force."
            );
        }
        let from = |set: bool| -> String {
            match (&file, set && self.loaded) {
                (Some(f), true) => f.clone(),
                _ => "default".to_string(),
            }
        };
        let _ = writeln!(
            out,
            "severity = {} # {}",
            quote(self.severity().as_str()),
            from(self.configuration.config.severity.is_some())
        );
        let _ = writeln!(
            out,
            "syntax_errors = {} # {}",
            self.syntax_errors(),
            from(self.configuration.config.syntax_errors.is_some())
        );
        let exclude: Vec<String> = self
            .configuration
            .config
            .exclude
            .iter()
            .map(|p| quote(p))
            .collect();
        let _ = writeln!(
            out,
            "exclude = [{}] # {}",
            exclude.join(", "),
            from(!self.configuration.config.exclude.is_empty())
        );
        // TG001's severity by the risk of the pod's account: each risk's
        // severity in force, and which of the three steps of the rule
        // (`SeverityByRisk::severity`) gives it.
        let by_risk = &self.configuration.config.severity_by_risk;
        let _ = writeln!(
            out,
            "\n# TG001's severity by what the pod's token can do: the entry set here, else the \
             default entry, else `severity`."
        );
        let _ = writeln!(out, "[severity_by_risk]");
        for risk in tokenguard_analysis::RISK_NAMES {
            let severity = self.configuration.severity_for(Some(risk));
            let why = match (
                by_risk.get(risk),
                tokenguard_analysis::builtin_severity(risk),
            ) {
                (Some(_), _) => from(true),
                (None, Some(_)) => "default".to_string(),
                (None, None) => "default: follows severity".to_string(),
            };
            let _ = writeln!(out, "{risk} = {} # {why}", quote(severity.as_str()));
        }
        let _ = writeln!(
            out,
            "\n# Core workload kinds (default), matched by kind whatever their apiVersion:"
        );
        for kind in self
            .configuration
            .options
            .kinds
            .iter()
            .filter(|k| k.group.is_none())
        {
            let _ = writeln!(out, "#   {} at {}", kind.kind, kind.pod_spec_dotted());
        }
        for kind in self.configuration.options.kinds.iter() {
            let Some(group) = &kind.group else { continue };
            let configured = self.configuration.config.workloads.contains(kind);
            let _ = writeln!(out, "\n[[workloads]] # {}", from(configured));
            let _ = writeln!(out, "group = {}", quote(group));
            let _ = writeln!(out, "kind = {}", quote(&kind.kind));
            let _ = writeln!(out, "pod_spec = {}", quote(&kind.pod_spec_dotted()));
        }
        for ignored in &self.configuration.options.ignored {
            let _ = writeln!(out, "\n[[ignore]] # {}", from(true));
            let _ = writeln!(out, "object = {}", quote(&ignored.pattern));
            let _ = writeln!(out, "reason = {}", quote(&ignored.reason));
        }
        let helm = &self.configuration.config.helm;
        let _ = writeln!(out, "\n[helm]");
        match &helm.path {
            Some(path) => {
                let _ = writeln!(out, "path = {} # {}", quote(path), from(true));
            }
            None => {
                let _ = writeln!(out, "# path: not set (default: helm on PATH)");
            }
        }
        let values: Vec<String> = helm.values.iter().map(|v| quote(v)).collect();
        let _ = writeln!(
            out,
            "values = [{}] # {}",
            values.join(", "),
            match helm.values.is_empty() {
                true => "default: each chart's values.yaml".to_string(),
                false => from(true),
            }
        );
        let _ = writeln!(
            out,
            "timeout_seconds = {} # {}",
            helm.timeout_seconds
                .unwrap_or(tokenguard_lsp::helm_run::DEFAULT_TIMEOUT.as_secs()),
            from(helm.timeout_seconds.is_some())
        );
        for (chart, values) in &helm.charts {
            let values: Vec<String> = values.iter().map(|v| quote(v)).collect();
            let _ = writeln!(out, "\n[helm.charts.{}] # {}", quote(chart), from(true));
            let _ = writeln!(out, "values = [{}]", values.join(", "));
        }
        out
    }
}

/// Where the search for a configuration file starts: the folder of the
/// first checked path (the path itself when it is a folder), or the current
/// folder for standard input.
fn search_start(paths: &[PathBuf]) -> PathBuf {
    let first = paths.iter().find(|p| p.as_os_str() != "-");
    let start = match first {
        Some(path) if path.is_dir() => path.clone(),
        Some(path) => match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        },
        None => PathBuf::from("."),
    };
    fs::canonicalize(&start).unwrap_or(start)
}

/// A TOML string for `value`, as the toml crate writes it (a basic string,
/// or a literal one where that reads better), so that `--print-config` is
/// always TOML the configuration reader accepts.
fn quote(value: &str) -> String {
    toml::Value::String(value.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings_read_back_as_the_same_string() {
        for value in [
            "plain",
            "a\"b\\c\n",
            "tab\there",
            "it's",
            "\u{7}bell",
            "é/**",
        ] {
            let line = format!("v = {}", quote(value));
            let table: toml::Table = line.parse().unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(table["v"].as_str(), Some(value), "{line}");
        }
    }
}
