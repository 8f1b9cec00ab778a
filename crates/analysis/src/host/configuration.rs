//! The project configuration in force for a file: the parsed
//! `tokenguard.toml`, the analysis options it makes, and THE exclusion rule
//! (one for the command line and the editor): a file is excluded when one
//! of the configuration's `exclude` patterns, in the [`crate::exclude_glob`]
//! dialect (`*` within one folder, `**` across folders), matches its path
//! relative to the configuration file's folder, `/`-separated. A file
//! outside that folder is never excluded by it.

use std::sync::Arc;

use globset::GlobSet;

use super::path::FilePath;
use crate::config::{parse_config, ConfigError, ProjectConfig};
use crate::finding::{Code, Finding, Severity};
use crate::options::Options;

/// A configuration, as read from its file (or the defaults).
#[derive(Clone, Debug, Default)]
pub struct Configuration {
    /// The file it was read from (`None`: the defaults).
    pub file: Option<FilePath>,
    pub config: ProjectConfig,
    pub options: Arc<Options>,
    exclude: Option<GlobSet>,
}

impl Configuration {
    /// No file: nothing excluded, TG001 a warning, TG000 reported.
    pub fn defaults() -> Self {
        Self::default()
    }

    /// The configuration in the file `file` with this text; its exclude
    /// patterns are relative to `file`'s folder, spelled as `file` is.
    pub fn from_text(file: FilePath, text: &str) -> Result<Self, ConfigError> {
        let config = parse_config(text)?;
        Ok(Self::from_config(file, config))
    }

    /// A configuration already parsed.
    pub fn from_config(file: FilePath, config: ProjectConfig) -> Self {
        Self {
            options: Arc::new(config.options()),
            exclude: (!config.exclude.is_empty()).then(|| config.exclude_set()),
            config,
            file: Some(file),
        }
    }

    /// The folder the exclude patterns are relative to.
    pub fn base(&self) -> Option<FilePath> {
        self.file.as_ref()?.parent()
    }

    /// Whether the exclude patterns cover the file at `path`, spelled like
    /// the configuration's own path (both absolute, or both relative to the
    /// same folder).
    pub fn excludes(&self, path: &FilePath) -> bool {
        let Some(base) = self.base() else {
            return false;
        };
        if self.exclude.is_none() || !path.is_within(&base) {
            return false;
        }
        let relative = if base.as_str() == "." {
            path.as_str().trim_start_matches("./")
        } else {
            let base_len = base.as_str().trim_end_matches('/').len();
            path.as_str()
                .get(base_len..)
                .unwrap_or_default()
                .trim_start_matches('/')
        };
        self.excludes_relative(relative)
    }

    /// Whether the exclude patterns cover a path already made relative to
    /// the configuration's folder (`/`-separated).
    pub fn excludes_relative(&self, relative: &str) -> bool {
        self.exclude
            .as_ref()
            .is_some_and(|set| set.is_match(relative))
    }

    /// TG001's plain severity (warning unless set): that of the findings
    /// `severity_by_risk` does not decide.
    pub fn severity(&self) -> Severity {
        self.config.severity.unwrap_or(Severity::Warning)
    }

    /// TG001's severity for a pod whose account has the risk named `risk`
    /// (`None`: not known); THE rule is [`crate::SeverityByRisk::severity`].
    pub fn severity_for(&self, risk: Option<&str>) -> Severity {
        self.config.severity_by_risk.severity(risk, self.severity())
    }

    /// Whether TG000 is reported (yes unless set).
    pub fn syntax_errors(&self) -> bool {
        self.config.syntax_errors.unwrap_or(true)
    }

    /// The findings as the configuration wants them reported: TG001 at its
    /// severity (by the risk of the pod's account), TG000 dropped when
    /// syntax errors are not reported.
    pub fn adjust(&self, findings: Vec<Finding>) -> Vec<Finding> {
        let syntax_errors = self.syntax_errors();
        findings
            .into_iter()
            .filter(|f| syntax_errors || f.code != Code::TG000)
            .map(|mut f| {
                if f.code == Code::TG001 {
                    f.severity = self.severity_for(f.risk());
                }
                f
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_excludes(file: &str, patterns: &str) -> Configuration {
        Configuration::from_text(FilePath::new(file), &format!("exclude = [{patterns}]\n"))
            .expect("valid")
    }

    #[test]
    fn patterns_match_paths_relative_to_the_configuration_folder() {
        let config = with_excludes("/repo/tokenguard.toml", "\"vendor/**\", \"*.gen.yaml\"");
        assert!(config.excludes(&FilePath::new("/repo/vendor/a/b.yaml")));
        assert!(config.excludes(&FilePath::new("/repo/x.gen.yaml")));
        // `*` stays within one folder.
        assert!(!config.excludes(&FilePath::new("/repo/k8s/x.gen.yaml")));
        // Outside the configuration's folder: never.
        assert!(!config.excludes(&FilePath::new("/other/vendor/a.yaml")));
        assert!(!config.excludes(&FilePath::detached("vendor/a.yaml")));
        let here = with_excludes("tokenguard.toml", "\"vendor/**\"");
        assert!(here.excludes(&FilePath::new("vendor/a.yaml")));
        assert!(here.excludes(&FilePath::new("./vendor/a.yaml")));
        assert!(!Configuration::defaults().excludes(&FilePath::new("vendor/a.yaml")));
    }

    #[test]
    fn severity_and_syntax_errors_adjust_findings() {
        let config = Configuration::from_text(
            FilePath::new("tokenguard.toml"),
            "severity = \"error\"\nsyntax_errors = false\n",
        )
        .expect("valid");
        let findings = crate::analyze(
            "kind: Pod\nspec: {}\n---\nkind: Pod\nspec: [\n",
            &crate::NoAccounts,
            crate::Options::builtin(),
        );
        assert_eq!(findings.len(), 2);
        let adjusted = config.adjust(findings);
        assert_eq!(adjusted.len(), 1);
        assert_eq!(adjusted[0].severity, Severity::Error);
    }
}
