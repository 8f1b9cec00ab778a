//! Rendering charts for a `check` run: the charts whose templates reading in
//! place cannot decide (`AnalysisHost::needs_rendering`) are rendered with
//! `helm template` (`tokenguard_lsp::helm_run`, shared with the server) and
//! the renderings handed to the host before the findings are asked for.
//! On by default when a `helm` executable is found (`helm.path` in
//! `tokenguard.toml`, else `PATH`); `--no-render` turns it off. A chart
//! that is not rendered is read in place, and its findings say what was not
//! evaluated and why; a rendering that fails is a warning with Helm's
//! message.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rayon::prelude::*;
use tokenguard_analysis::helm::render::{Outcome, Rendering};
use tokenguard_analysis::host::{AnalysisHost, FilePath, FileSource};
use tokenguard_lsp::helm_run::{self, Request};

use crate::errors::ErrorLog;
use crate::project::Project;

/// Renders `charts` (folders, as the host names them) and hands each
/// rendering to `host`. `enabled`: not `--no-render`.
pub fn render_charts<S: FileSource>(
    host: &mut AnalysisHost<S>,
    charts: &BTreeSet<FilePath>,
    enabled: bool,
    project: &Project,
    log: &mut ErrorLog,
) {
    if charts.is_empty() {
        return;
    }
    let helm_config = &project.configuration.config.helm;
    let base = project.configuration.base();
    let base = base
        .as_ref()
        .and_then(|b| b.as_path())
        .map(Path::to_path_buf);
    let helm = if enabled {
        helm_run::find_helm(helm_config.path.as_deref(), base.as_deref())
    } else {
        Err("rendering is turned off with --no-render".to_string())
    };
    let helm = match helm {
        Ok(helm) => helm,
        Err(why) => {
            for chart in charts {
                host.set_rendering(chart.clone(), Rendering::not_rendered(why.clone()));
            }
            return;
        }
    };
    let timeout = helm_config
        .timeout_seconds
        .map_or(helm_run::DEFAULT_TIMEOUT, Duration::from_secs);
    let renderings: Vec<(FilePath, Rendering)> = charts
        .par_iter()
        .map(|chart| {
            let folder = PathBuf::from(chart.as_str());
            let relative = relative_chart(&folder, base.as_deref());
            let request = Request {
                helm: helm.clone(),
                values: helm_config.values_for(&relative).to_vec(),
                chart: folder,
                timeout,
            };
            (chart.clone(), helm_run::render(&request))
        })
        .collect();
    for (chart, rendering) in renderings {
        match &rendering.outcome {
            Outcome::Failed(message) => log.warning(format_args!(
                "{}: helm template failed, the chart's templates are read in place: {message}",
                chart.as_str()
            )),
            Outcome::NotRendered(why) => log.warning(format_args!(
                "{}: not rendered, the chart's templates are read in place: {why}",
                chart.as_str()
            )),
            Outcome::Rendered { .. } => {}
        }
        host.set_rendering(chart, rendering);
    }
}

/// The chart's folder relative to the configuration's (`/`-separated), as
/// `[helm.charts."…"]` names it; `.` for the configuration's own folder.
fn relative_chart(chart: &Path, base: Option<&Path>) -> String {
    let Some(base) = base else {
        return chart.to_string_lossy().replace('\\', "/");
    };
    let absolute = fs::canonicalize(chart).unwrap_or_else(|_| chart.to_path_buf());
    match absolute.strip_prefix(base) {
        Ok(rest) if rest.as_os_str().is_empty() => ".".to_string(),
        Ok(rest) => rest.to_string_lossy().replace('\\', "/"),
        Err(_) => chart.to_string_lossy().replace('\\', "/"),
    }
}
