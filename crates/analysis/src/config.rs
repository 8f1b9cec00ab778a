//! The project configuration file (`tokenguard.toml`), read from its text.
//!
//! Reading is strict: an unknown key, a value of the wrong type or a pattern
//! that cannot work is an error with the byte range it is about, so that a
//! typo never silently does nothing. Finding and reading the file is the
//! caller's business (I/O).

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use toml::Spanned;

use crate::finding::Severity;
use crate::kinds::WorkloadKind;
use crate::options::Options;
use crate::text::TextRange;

mod helm;
mod ignored_objects;
mod severity;

pub use helm::{HelmConfig, MAX_TIMEOUT_SECONDS};
pub use ignored_objects::IgnoredObject;
pub use severity::{builtin_severity, SeverityByRisk, RISK_NAMES};

/// The names the file may have, in the order they are looked for in a folder.
pub const CONFIG_FILE_NAMES: &[&str] = &["tokenguard.toml", ".tokenguard.toml"];

/// A project configuration; `None` and empty lists mean "not set here".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectConfig {
    /// Severity of TG001 findings (those `severity_by_risk` does not decide).
    pub severity: Option<Severity>,
    /// Severity of TG001 findings by the risk of the pod's account
    /// (`[severity_by_risk]`; see [`SeverityByRisk::severity`] for the rule).
    pub severity_by_risk: SeverityByRisk,
    /// Whether TG000 (YAML syntax errors) is reported.
    pub syntax_errors: Option<bool>,
    /// Globs of paths not checked, relative to the configuration's folder.
    pub exclude: Vec<String>,
    /// Workload kinds added to the built-in ones.
    pub workloads: Vec<WorkloadKind>,
    /// Objects that get no TG001 finding.
    pub ignore: Vec<IgnoredObject>,
    /// How charts are rendered (`[helm]`).
    pub helm: HelmConfig,
}

/// Why a configuration text was rejected, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub message: String,
    pub range: TextRange,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    severity: Option<Spanned<String>>,
    #[serde(default)]
    severity_by_risk: severity::RawSeverityByRisk,
    syntax_errors: Option<bool>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    workloads: Vec<Spanned<RawWorkload>>,
    #[serde(default)]
    ignore: Vec<Spanned<RawIgnore>>,
    #[serde(default)]
    helm: helm::RawHelm,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkload {
    group: Spanned<String>,
    kind: Spanned<String>,
    pod_spec: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    object: Spanned<String>,
    reason: Spanned<String>,
}

fn error_at<T>(spanned: &Spanned<T>, message: String) -> ConfigError {
    let span = spanned.span();
    ConfigError {
        message,
        range: TextRange::new(span.start, span.end),
    }
}

/// Reads a configuration text.
pub fn parse_config(text: &str) -> Result<ProjectConfig, ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|error| {
        let span = error.span().unwrap_or(0..0);
        ConfigError {
            message: error.message().trim_end().to_string(),
            range: TextRange::new(span.start.min(text.len()), span.end.min(text.len())),
        }
    })?;
    let severity = match &raw.severity {
        None => None,
        Some(value) => Some(parse_severity(value.get_ref()).ok_or_else(|| {
            error_at(
                value,
                format!(
                    "severity {:?} is not one of error, warning, information, hint",
                    value.get_ref()
                ),
            )
        })?),
    };
    for pattern in &raw.exclude {
        exclude_glob(pattern.get_ref()).map_err(|e| {
            error_at(
                pattern,
                format!("exclude pattern {:?}: {e}", pattern.get_ref()),
            )
        })?;
    }
    let workloads = raw
        .workloads
        .iter()
        .map(|entry| workload_kind(entry.get_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    let ignore = raw
        .ignore
        .iter()
        .map(|entry| {
            let entry = entry.get_ref();
            if entry.reason.get_ref().trim().is_empty() {
                return Err(error_at(
                    &entry.reason,
                    "the reason cannot be empty: say why the object is ignored".to_string(),
                ));
            }
            IgnoredObject::new(entry.object.get_ref(), entry.reason.get_ref())
                .map_err(|message| error_at(&entry.object, message))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let helm = helm::read(raw.helm)?;
    let severity_by_risk = severity::read(raw.severity_by_risk)?;
    Ok(ProjectConfig {
        helm,
        severity,
        severity_by_risk,
        syntax_errors: raw.syntax_errors,
        exclude: raw.exclude.into_iter().map(Spanned::into_inner).collect(),
        workloads,
        ignore,
    })
}

fn parse_severity(value: &str) -> Option<Severity> {
    Some(match value {
        "error" => Severity::Error,
        "warning" => Severity::Warning,
        "information" | "info" => Severity::Information,
        "hint" => Severity::Hint,
        _ => return None,
    })
}

fn workload_kind(raw: &RawWorkload) -> Result<WorkloadKind, ConfigError> {
    let kind = raw.kind.get_ref();
    if kind.is_empty() || kind.contains(char::is_whitespace) || kind.contains('/') {
        return Err(error_at(
            &raw.kind,
            format!("kind {kind:?} is not a Kubernetes kind name"),
        ));
    }
    let group = raw.group.get_ref();
    if group.contains(char::is_whitespace) || group.contains('/') {
        return Err(error_at(
            &raw.group,
            format!(
                "group {group:?} is not an API group (write `argoproj.io`, without the version)"
            ),
        ));
    }
    let path = raw.pod_spec.get_ref();
    let segments: Vec<&str> = path.split('.').collect();
    if segments
        .iter()
        .any(|s| s.is_empty() || s.contains(char::is_whitespace))
    {
        return Err(error_at(
            &raw.pod_spec,
            format!("pod_spec {path:?} is not a path of keys such as \"spec.template.spec\""),
        ));
    }
    Ok(WorkloadKind::new(Some(group), kind, &segments))
}

/// An exclude pattern as the project file means it: relative to the file's
/// folder, `*` within one path segment, `**` across segments.
pub fn exclude_glob(pattern: &str) -> Result<globset::Glob, globset::Error> {
    GlobBuilder::new(pattern).literal_separator(true).build()
}

impl ProjectConfig {
    /// The analysis options: the built-in kinds plus the project's, and its
    /// ignored objects.
    pub fn options(&self) -> Options {
        let mut options = Options::default();
        for kind in &self.workloads {
            options.kinds.add(kind.clone());
        }
        options.ignored = self.ignore.clone();
        options
    }

    /// The exclude patterns as one matcher of paths relative to the
    /// configuration's folder (with `/` separators).
    pub fn exclude_set(&self) -> GlobSet {
        let mut builder = GlobSetBuilder::new();
        for pattern in &self.exclude {
            // Checked by `parse_config`.
            if let Ok(glob) = exclude_glob(pattern) {
                builder.add(glob);
            }
        }
        builder.build().unwrap_or_else(|_| GlobSet::empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_text<'a>(text: &'a str, error: &ConfigError) -> &'a str {
        &text[error.range.start..error.range.end]
    }

    #[test]
    fn every_key_is_read() {
        let text = r#"
severity = "error"
syntax_errors = false
exclude = ["charts/**", "*.tmpl.yaml"]

[severity_by_risk]
cluster-admin = "error"
discovery-only = "hint"

[[workloads]]
group = "example.com"
kind = "Widget"
pod_spec = "spec.runtime.pod"

[[ignore]]
object = "Deployment/kube-system/*"
reason = "managed by the platform team"
"#;
        let config = parse_config(text).unwrap();
        assert_eq!(config.severity, Some(Severity::Error));
        assert_eq!(
            config.severity_by_risk.iter().collect::<Vec<_>>(),
            [
                ("cluster-admin", Severity::Error),
                ("discovery-only", Severity::Hint)
            ]
        );
        assert_eq!(config.syntax_errors, Some(false));
        assert_eq!(config.exclude, ["charts/**", "*.tmpl.yaml"]);
        assert_eq!(
            config.workloads,
            [WorkloadKind::new(
                Some("example.com"),
                "Widget",
                &["spec", "runtime", "pod"]
            )]
        );
        assert_eq!(config.ignore.len(), 1);
        assert_eq!(config.ignore[0].reason, "managed by the platform team");
        assert!(config.ignore[0].matches("Deployment", Some("kube-system"), Some("dns")));
        let set = config.exclude_set();
        assert!(set.is_match("charts/a/templates/x.yaml"));
        assert!(set.is_match("x.tmpl.yaml"));
        assert!(
            !set.is_match("k8s/x.tmpl.yaml"),
            "* stays within one folder"
        );
    }

    #[test]
    fn an_empty_file_sets_nothing() {
        assert_eq!(parse_config("").unwrap(), ProjectConfig::default());
        assert_eq!(
            parse_config("# only a comment\n").unwrap().options(),
            Options::default()
        );
    }

    #[test]
    fn severities_are_the_four_of_lsp() {
        for (word, severity) in [
            ("error", Severity::Error),
            ("warning", Severity::Warning),
            ("information", Severity::Information),
            ("hint", Severity::Hint),
        ] {
            let config = parse_config(&format!("severity = \"{word}\"\n")).unwrap();
            assert_eq!(config.severity, Some(severity));
        }
        let text = "severity = \"loud\"\n";
        let error = parse_config(text).unwrap_err();
        assert_eq!(error_text(text, &error), "\"loud\"");
        assert!(
            error.message.contains("not one of error, warning"),
            "{}",
            error.message
        );
    }

    #[test]
    fn severity_by_risk_is_checked_key_by_key() {
        let text = "[severity_by_risk]\nbound = \"information\"\nadmin = \"error\"\n";
        let error = parse_config(text).unwrap_err();
        assert_eq!(error_text(text, &error), "admin");
        assert!(
            error
                .message
                .contains("\"admin\" is not a risk: use \"cluster-admin\""),
            "{}",
            error.message
        );
        let text = "[severity_by_risk]\nbound = \"loud\"\n";
        let error = parse_config(text).unwrap_err();
        assert_eq!(error_text(text, &error), "\"loud\"");
        let text = "severity_by_risk = \"error\"\n";
        let error = parse_config(text).unwrap_err();
        assert_eq!(
            error_text(text, &error),
            "\"error\"",
            "a table, not a value"
        );
        let config = parse_config("[severity_by_risk]\nunknown = \"info\"\n").unwrap();
        assert_eq!(
            config.severity_by_risk.get("unknown"),
            Some(Severity::Information)
        );
    }

    #[test]
    fn an_unknown_key_is_an_error_on_that_key() {
        let text = "severity = \"error\"\nsyntax_error = false\n";
        let error = parse_config(text).unwrap_err();
        assert_eq!(error_text(text, &error), "syntax_error");
        assert!(error.message.contains("unknown field"), "{}", error.message);
        let text = "[[workloads]]\ngroup = \"a.io\"\nkind = \"A\"\npodspec = \"spec\"\n";
        let error = parse_config(text).unwrap_err();
        assert_eq!(error_text(text, &error), "podspec");
    }

    #[test]
    fn a_wrong_type_is_an_error_on_the_value() {
        let text = "syntax_errors = \"no\"\n";
        let error = parse_config(text).unwrap_err();
        assert_eq!(error_text(text, &error), "\"no\"");
    }

    #[test]
    fn an_ignored_object_needs_a_reason() {
        let text = "[[ignore]]\nobject = \"Pod/*/web\"\n";
        let error = parse_config(text).unwrap_err();
        assert!(
            error.message.contains("missing field `reason`"),
            "{}",
            error.message
        );
        assert_eq!(error_text(text, &error), "[[ignore]]", "the entry's header");
        let text = "[[ignore]]\nobject = \"Pod/*/web\"\nreason = \"\"\n";
        let error = parse_config(text).unwrap_err();
        assert_eq!(error_text(text, &error), "\"\"");
        let text = "[[ignore]]\nobject = \"Pod/web\"\nreason = \"r\"\n";
        let error = parse_config(text).unwrap_err();
        assert_eq!(error_text(text, &error), "\"Pod/web\"");
    }

    #[test]
    fn a_pod_spec_path_must_be_keys_separated_by_dots() {
        for path in ["", "spec..spec", ".spec", "spec.", "spec. template"] {
            let text =
                format!("[[workloads]]\ngroup = \"a.io\"\nkind = \"A\"\npod_spec = \"{path}\"\n");
            let error = parse_config(&text).unwrap_err();
            assert_eq!(error_text(&text, &error), format!("\"{path}\""));
        }
        let text = "[[workloads]]\ngroup = \"a.io/v1\"\nkind = \"A\"\npod_spec = \"spec\"\n";
        assert_eq!(
            error_text(text, &parse_config(text).unwrap_err()),
            "\"a.io/v1\""
        );
    }

    #[test]
    fn a_bad_exclude_glob_is_an_error_on_it() {
        let text = "exclude = [\"ok/**\", \"a/{\"]\n";
        let error = parse_config(text).unwrap_err();
        assert_eq!(error_text(text, &error), "\"a/{\"");
    }

    #[test]
    fn toml_syntax_errors_have_a_position() {
        let text = "severity = \"error\"\nexclude = [\n";
        let error = parse_config(text).unwrap_err();
        assert!(
            error.range.start >= text.find("exclude").unwrap(),
            "{error:?}"
        );
    }
}
