//! The server's settings, from `initializationOptions` and
//! `workspace/configuration` (section `tokenguard`). A project
//! configuration file overrides them where it sets a value (see
//! `project.rs`).

use globset::{GlobSet, GlobSetBuilder};
use serde::Deserialize;
use serde_json::Value;
use tokenguard_analysis::{ProjectConfig, Severity};
use tower_lsp_server::ls_types::DiagnosticSeverity;

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SeveritySetting {
    Error,
    #[default]
    Warning,
    #[serde(alias = "info")]
    Information,
    Hint,
}

impl SeveritySetting {
    fn from_analysis(severity: Severity) -> Self {
        match severity {
            Severity::Error => SeveritySetting::Error,
            Severity::Warning => SeveritySetting::Warning,
            Severity::Information => SeveritySetting::Information,
            Severity::Hint => SeveritySetting::Hint,
        }
    }

    pub fn lsp(self) -> DiagnosticSeverity {
        match self {
            SeveritySetting::Error => DiagnosticSeverity::ERROR,
            SeveritySetting::Warning => DiagnosticSeverity::WARNING,
            SeveritySetting::Information => DiagnosticSeverity::INFORMATION,
            SeveritySetting::Hint => DiagnosticSeverity::HINT,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
struct RawSettings {
    enable: bool,
    severity: SeveritySetting,
    syntax_errors: bool,
    exclude: Vec<String>,
    max_file_size: u64,
    helm: HelmSettings,
    inlay_hints: Toggle,
    code_lens: Toggle,
}

/// `tokenguard.inlayHints.*` and `tokenguard.codeLens.*`: what the editor
/// shows beside the text unasked (the token hint on a pod spec, the lens on
/// a ServiceAccount). On by default.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Toggle {
    pub enable: bool,
}

impl Default for Toggle {
    fn default() -> Self {
        Self { enable: true }
    }
}

/// `tokenguard.helm.*`: rendering charts whose templates reading in place
/// cannot decide.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct HelmSettings {
    /// Whether the server may run `helm template` (on open and save). The
    /// VS Code client sends false in an untrusted workspace.
    pub render: bool,
    /// The helm executable, when `tokenguard.toml` sets none (default: `helm`
    /// on PATH).
    pub path: Option<String>,
}

impl Default for HelmSettings {
    fn default() -> Self {
        Self {
            render: true,
            path: None,
        }
    }
}

/// 32 MiB: far above any real manifest, which an editor still opens; above
/// it a document is not analysed (one diagnostic says so).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 32 * 1024 * 1024;

impl Default for RawSettings {
    fn default() -> Self {
        Self {
            enable: true,
            severity: SeveritySetting::Warning,
            syntax_errors: true,
            exclude: Vec::new(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            helm: HelmSettings::default(),
            inlay_hints: Toggle::default(),
            code_lens: Toggle::default(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub enable: bool,
    /// Severity of TG001 findings (TG000 is always an error).
    pub severity: SeveritySetting,
    /// Whether TG000 (YAML syntax errors) is reported.
    pub syntax_errors: bool,
    pub exclude: Vec<String>,
    /// Documents longer than this many bytes are not analysed.
    pub max_file_size: u64,
    /// Rendering charts with helm.
    pub helm: HelmSettings,
    /// The token hint on each pod spec that leaves the field to its account.
    pub inlay_hints: Toggle,
    /// The lens on each ServiceAccount.
    pub code_lens: Toggle,
    exclude_set: GlobSet,
}

impl Default for Settings {
    fn default() -> Self {
        Self::from_raw(RawSettings::default()).0
    }
}

impl Settings {
    /// Reads settings from a JSON value, either the `tokenguard` section
    /// itself or an object holding it. Unknown or malformed fields keep their
    /// defaults; the returned notes say what was ignored.
    pub fn from_json(value: &Value) -> (Self, Vec<String>) {
        let section = value.get("tokenguard").unwrap_or(value);
        let Some(fields) = section.as_object() else {
            let notes = if section.is_null() {
                Vec::new()
            } else {
                vec![format!(
                    "tokenguard settings must be an object, not {section}; defaults used"
                )]
            };
            return (Self::default(), notes);
        };
        // Each field on its own: one bad value must not throw away the others.
        let mut raw = RawSettings::default();
        let mut notes = Vec::new();
        fn read<T: serde::de::DeserializeOwned>(
            fields: &serde_json::Map<String, Value>,
            key: &str,
            into: &mut T,
            notes: &mut Vec<String>,
        ) {
            match fields.get(key) {
                None | Some(Value::Null) => {}
                Some(value) => match serde_json::from_value(value.clone()) {
                    Ok(v) => *into = v,
                    Err(error) => {
                        notes.push(format!("tokenguard.{key} = {value} ignored: {error}"))
                    }
                },
            }
        }
        read(fields, "enable", &mut raw.enable, &mut notes);
        read(fields, "severity", &mut raw.severity, &mut notes);
        read(fields, "syntaxErrors", &mut raw.syntax_errors, &mut notes);
        read(fields, "exclude", &mut raw.exclude, &mut notes);
        read(fields, "maxFileSize", &mut raw.max_file_size, &mut notes);
        read(fields, "helm", &mut raw.helm, &mut notes);
        read(fields, "inlayHints", &mut raw.inlay_hints, &mut notes);
        read(fields, "codeLens", &mut raw.code_lens, &mut notes);
        let (settings, more) = Self::from_raw(raw);
        notes.extend(more);
        (settings, notes)
    }

    fn from_raw(raw: RawSettings) -> (Self, Vec<String>) {
        let mut notes = Vec::new();
        let mut builder = GlobSetBuilder::new();
        for pattern in &raw.exclude {
            // The project file's dialect: one glob language for both.
            match tokenguard_analysis::exclude_glob(pattern) {
                Ok(glob) => {
                    builder.add(glob);
                }
                Err(error) => notes.push(format!("exclude pattern {pattern:?} ignored: {error}")),
            }
        }
        let exclude_set = builder.build().unwrap_or_else(|_| GlobSet::empty());
        (
            Self {
                enable: raw.enable,
                severity: raw.severity,
                syntax_errors: raw.syntax_errors,
                exclude: raw.exclude,
                max_file_size: raw.max_file_size,
                helm: raw.helm,
                inlay_hints: raw.inlay_hints,
                code_lens: raw.code_lens,
                exclude_set,
            },
            notes,
        )
    }

    /// These settings with what a project configuration sets taking their
    /// place (the project's exclude patterns are applied apart, relative to
    /// the file's folder).
    pub fn overridden_by(&self, project: &ProjectConfig) -> Settings {
        let mut settings = self.clone();
        if let Some(severity) = project.severity {
            settings.severity = SeveritySetting::from_analysis(severity);
        }
        if let Some(syntax_errors) = project.syntax_errors {
            settings.syntax_errors = syntax_errors;
        }
        settings
    }

    /// Whether a path (absolute, or relative to a workspace folder) is excluded.
    pub fn excludes(&self, paths: &[&str]) -> bool {
        paths.iter().any(|p| self.exclude_set.is_match(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_are_read_from_the_section_or_its_parent() {
        let (s, notes) = Settings::from_json(
            &json!({"tokenguard": {"severity": "error", "syntaxErrors": false, "exclude": ["**/charts/**"]}}),
        );
        assert!(notes.is_empty());
        assert_eq!(s.severity, SeveritySetting::Error);
        assert!(!s.syntax_errors && s.enable);
        assert!(s.excludes(&["/w/charts/a/templates/x.yaml"]));
        assert!(!s.excludes(&["/w/k8s/x.yaml"]));
        // The same dialect as tokenguard.toml's exclude: `*` stays within
        // one folder, `**` spans folders.
        let (s, _) = Settings::from_json(&json!({"exclude": ["vendor/*.yaml"]}));
        assert!(s.excludes(&["vendor/a.yaml"]));
        assert!(!s.excludes(&["vendor/sub/a.yaml"]));
        let (s, _) = Settings::from_json(&json!({"enable": false}));
        assert!(!s.enable);
    }

    #[test]
    fn one_malformed_field_keeps_the_others() {
        let (s, notes) = Settings::from_json(
            &json!({"severity": "error", "exclude": null, "syntaxErrors": "no"}),
        );
        assert_eq!(s.severity, SeveritySetting::Error);
        assert!(s.syntax_errors, "the malformed field keeps its default");
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    #[test]
    fn malformed_settings_keep_the_defaults_and_say_so() {
        let (s, notes) = Settings::from_json(&json!({"severity": "loud"}));
        assert_eq!(s.severity, SeveritySetting::Warning);
        assert_eq!(notes.len(), 1);
        let (_, notes) = Settings::from_json(&json!({"exclude": ["a/{"]}));
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn a_project_configuration_wins_where_it_sets_a_value() {
        let (editor, _) = Settings::from_json(&json!({"severity": "hint", "syntaxErrors": false}));
        let project = tokenguard_analysis::parse_config("severity = \"error\"\n").unwrap();
        let merged = editor.overridden_by(&project);
        assert_eq!(merged.severity, SeveritySetting::Error);
        assert!(!merged.syntax_errors, "unset in the project: the editor's");
        let project = tokenguard_analysis::parse_config("syntax_errors = true\n").unwrap();
        assert!(editor.overridden_by(&project).syntax_errors);
    }

    #[test]
    fn inlay_hints_and_code_lenses_are_on_unless_switched_off() {
        let defaults = Settings::default();
        assert!(defaults.inlay_hints.enable && defaults.code_lens.enable);
        let (s, notes) = Settings::from_json(
            &json!({"inlayHints": {"enable": false}, "codeLens": {"enable": false}}),
        );
        assert!(notes.is_empty(), "{notes:?}");
        assert!(!s.inlay_hints.enable && !s.code_lens.enable);
        let (s, notes) = Settings::from_json(&json!({"inlayHints": {"enable": "no"}}));
        assert!(s.inlay_hints.enable, "a malformed value keeps the default");
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn the_size_limit_defaults_to_32_mib_and_takes_a_byte_count() {
        assert_eq!(Settings::default().max_file_size, 32 * 1024 * 1024);
        let (s, notes) = Settings::from_json(&json!({"maxFileSize": 1000}));
        assert!(notes.is_empty());
        assert_eq!(s.max_file_size, 1000);
        let (s, notes) = Settings::from_json(&json!({"maxFileSize": "big"}));
        assert_eq!(s.max_file_size, DEFAULT_MAX_FILE_SIZE);
        assert_eq!(notes.len(), 1);
        let (s, notes) = Settings::from_json(&json!({"maxFileSize": -1}));
        assert_eq!(s.max_file_size, DEFAULT_MAX_FILE_SIZE);
        assert_eq!(notes.len(), 1);
    }
}
