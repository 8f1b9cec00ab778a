//! The `[helm]` table of the configuration: how charts are rendered when
//! reading a template in place cannot decide (see
//! [`crate::helm::render`]). Running Helm is the embedder's business; this
//! is only what the file says.
//!
//! ```toml
//! [helm]
//! path = "/usr/local/bin/helm"      # default: `helm` on PATH
//! values = ["values.yaml"]          # every chart's values files, in order
//! timeout_seconds = 20              # per chart
//!
//! [helm.charts."deploy/api"]        # a chart folder, relative to this file
//! values = ["values.yaml", "values-prod.yaml"]
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::{error_at, ConfigError};

/// The longest a rendering may be allowed to take, in seconds.
pub const MAX_TIMEOUT_SECONDS: u64 = 600;

/// What the configuration says about rendering charts; `None` and empty
/// lists mean "not set here".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HelmConfig {
    /// The helm executable (relative paths are relative to the
    /// configuration's folder).
    pub path: Option<String>,
    /// The values files of every chart, relative to the chart's folder.
    pub values: Vec<String>,
    /// How long one rendering may take.
    pub timeout_seconds: Option<u64>,
    /// Values files by chart folder (relative to the configuration's
    /// folder, `/`-separated, without `./` or a trailing `/`).
    pub charts: BTreeMap<String, Vec<String>>,
}

impl HelmConfig {
    /// The values files for the chart at `relative` (its folder relative to
    /// the configuration's folder): its own list, else the common one.
    pub fn values_for(&self, relative: &str) -> &[String] {
        let key = normalize(relative);
        match self.charts.get(&key) {
            Some(values) => values,
            None => &self.values,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHelm {
    path: Option<Spanned<String>>,
    #[serde(default)]
    values: Vec<Spanned<String>>,
    timeout_seconds: Option<Spanned<i64>>,
    #[serde(default)]
    charts: BTreeMap<String, RawChart>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChart {
    values: Vec<Spanned<String>>,
}

fn normalize(path: &str) -> String {
    let path = path.trim_start_matches("./").trim_end_matches('/');
    if path.is_empty() {
        ".".to_string()
    } else {
        path.to_string()
    }
}

fn values_list(list: &[Spanned<String>]) -> Result<Vec<String>, ConfigError> {
    list.iter()
        .map(|file| {
            let name = file.get_ref();
            if name.trim().is_empty() {
                return Err(error_at(file, "a values file cannot be empty".to_string()));
            }
            if name.contains("://") {
                return Err(error_at(
                    file,
                    format!("values file {name:?}: only local files are read (rendering never reaches the network)"),
                ));
            }
            Ok(name.clone())
        })
        .collect()
}

pub(super) fn read(raw: RawHelm) -> Result<HelmConfig, ConfigError> {
    let timeout_seconds = match &raw.timeout_seconds {
        None => None,
        Some(value) => {
            let seconds = *value.get_ref();
            if !(1..=MAX_TIMEOUT_SECONDS as i64).contains(&seconds) {
                return Err(error_at(
                    value,
                    format!("timeout_seconds must be between 1 and {MAX_TIMEOUT_SECONDS}"),
                ));
            }
            Some(seconds as u64)
        }
    };
    if let Some(path) = &raw.path {
        if path.get_ref().trim().is_empty() {
            return Err(error_at(path, "the helm path cannot be empty".to_string()));
        }
    }
    let mut charts = BTreeMap::new();
    for (folder, chart) in &raw.charts {
        charts.insert(normalize(folder), values_list(&chart.values)?);
    }
    Ok(HelmConfig {
        path: raw.path.map(Spanned::into_inner),
        values: values_list(&raw.values)?,
        timeout_seconds,
        charts,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::parse_config;

    #[test]
    fn the_helm_table_is_read() {
        let text = r#"
[helm]
path = "tools/helm"
values = ["values.yaml", "ci.yaml"]
timeout_seconds = 5

[helm.charts."./deploy/api/"]
values = ["values.yaml", "prod.yaml"]
"#;
        let helm = parse_config(text).expect("valid").helm;
        assert_eq!(helm.path.as_deref(), Some("tools/helm"));
        assert_eq!(helm.timeout_seconds, Some(5));
        assert_eq!(helm.values_for("deploy/api"), ["values.yaml", "prod.yaml"]);
        assert_eq!(helm.values_for("other"), ["values.yaml", "ci.yaml"]);
    }

    #[test]
    fn bad_helm_settings_are_errors_on_them() {
        for (text, needle) in [
            ("[helm]\ntimeout_seconds = 0\n", "0"),
            (
                "[helm]\nvalues = [\"https://x/v.yaml\"]\n",
                "\"https://x/v.yaml\"",
            ),
            ("[helm]\npath = \"\"\n", "\"\""),
            ("[helm]\nvalue = []\n", "value"),
        ] {
            let error = parse_config(text).expect_err(text);
            let at = &text[error.range.start..error.range.end];
            assert!(at.contains(needle), "{text}: {at:?} {}", error.message);
        }
    }
}
