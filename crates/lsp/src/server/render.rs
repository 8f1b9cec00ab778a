//! Rendering charts in the editor: when a chart template that reading in
//! place cannot decide is opened or saved (never on a keystroke), its chart
//! is rendered with `helm template` (`crate::helm_run`, on tokio's blocking
//! pool) and the rendering handed to the analysis host, which judges the
//! chart's templates on it while their text is the text rendered; in-place
//! reading stays the instant answer in between. Rendering runs only where
//! the user allows it: the setting `tokenguard.helm.render` (on by default;
//! the VS Code client sends false in an untrusted workspace). What decides
//! that rendering cannot happen (setting off, no helm) is handed to the
//! host at once, so the first diagnostics already say what was not
//! evaluated. One rendering per chart at a time: a save during one renders
//! again once it is done. A failure is a warning notification with Helm's
//! message.
//!
//! Locking: the store's host lock is taken only inside its synchronous
//! methods; `in_flight` is taken alone, briefly, never across an `.await`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokenguard_analysis::helm::render::{Outcome, Rendering};
use tokenguard_analysis::host::FilePath;
use tower_lsp_server::ls_types::MessageType;
use tracing::{info, warn};

use super::schedule::Scheduler;
use crate::helm_run::{self, Request};
use crate::identity::DocumentKey;

/// The charts being rendered: whether another rendering was asked for
/// meanwhile.
#[derive(Default)]
pub struct InFlight {
    charts: Mutex<HashMap<FilePath, bool>>,
}

impl InFlight {
    /// Claims `chart`; false (and a rendering again afterwards) when one is
    /// running.
    fn claim(&self, chart: &FilePath) -> bool {
        let mut charts = self.charts.lock();
        match charts.get_mut(chart) {
            Some(again) => {
                *again = true;
                false
            }
            None => {
                charts.insert(chart.clone(), false);
                true
            }
        }
    }

    /// Releases `chart`; whether it must be rendered again.
    fn release(&self, chart: &FilePath) -> bool {
        self.charts.lock().remove(chart).unwrap_or(false)
    }
}

/// The document at `key` was opened or saved: renders its chart if reading
/// it in place cannot decide, or tells the host why that cannot happen.
pub fn opened_or_saved(scheduler: &Scheduler, key: &DocumentKey) {
    let state = scheduler.state();
    let Some(doc) = state.open.doc(key) else {
        return;
    };
    // Only a text that may hold actions can need rendering.
    if !doc.may_hold_actions {
        return;
    }
    let text = doc.rope.to_string();
    let Some(chart) = state.store.needs_rendering(key, &text) else {
        return;
    };
    let Some(request) = request_for(scheduler, key, &chart) else {
        return;
    };
    if !state.rendering.claim(&chart) {
        return;
    }
    let scheduler = scheduler.clone();
    tokio::spawn(async move { render(scheduler, chart, request).await });
}

/// What to run for `chart`, or `None` after handing the host the reason
/// nothing will run.
fn request_for(scheduler: &Scheduler, key: &DocumentKey, chart: &FilePath) -> Option<Request> {
    let state = scheduler.state();
    let settings = state.settings_for(key);
    let configuration = state.store.configuration_for(key);
    let helm_config = &configuration.config.helm;
    let base: Option<PathBuf> = configuration
        .base()
        .and_then(|b| b.as_path().map(Path::to_path_buf));
    // Opening a file must not run a program the repository names: the
    // project file's `helm.path` is the command line's; the editor uses its
    // own setting (restricted in VS Code) or `helm` on PATH.
    let helm = if settings.helm.render {
        helm_run::find_helm(settings.helm.path.as_deref(), None)
    } else {
        Err(
            "rendering is off in this editor: the setting tokenguard.helm.render, \
             which an untrusted workspace turns off"
                .to_string(),
        )
    };
    let helm = match helm {
        Ok(helm) => helm,
        Err(why) => {
            let unchanged = state
                .store
                .rendering(chart)
                .is_some_and(|r| r.outcome == Outcome::NotRendered(why.clone()));
            if !unchanged {
                state
                    .store
                    .set_rendering(chart.clone(), Rendering::not_rendered(why));
                scheduler.reanalyze_affected(Some(key));
            }
            return None;
        }
    };
    let folder = PathBuf::from(chart.as_str());
    let relative = match &base {
        Some(base) => folder
            .strip_prefix(base)
            .map(|r| r.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|_| folder.to_string_lossy().into_owned()),
        None => folder.to_string_lossy().into_owned(),
    };
    let relative = if relative.is_empty() {
        ".".to_string()
    } else {
        relative
    };
    Some(Request {
        helm,
        values: helm_config.values_for(&relative).to_vec(),
        chart: folder,
        timeout: helm_config
            .timeout_seconds
            .map_or(helm_run::DEFAULT_TIMEOUT, Duration::from_secs),
    })
}

async fn render(scheduler: Scheduler, chart: FilePath, request: Request) {
    loop {
        let started = Instant::now();
        let job = request.clone();
        let rendering = tokio::task::spawn_blocking(move || helm_run::render(&job))
            .await
            .unwrap_or_else(|_| Rendering::failed(Vec::new(), "the rendering task panicked"));
        info!(
            chart = chart.as_str(),
            ms = started.elapsed().as_millis() as u64,
            "chart rendered"
        );
        let message = match &rendering.outcome {
            Outcome::Failed(message) => Some(format!(
                "tokenguard: helm template failed for the chart {}; its templates are read in place: {message}",
                chart.as_str()
            )),
            _ => None,
        };
        let state = scheduler.state();
        state.store.set_rendering(chart.clone(), rendering);
        scheduler.reanalyze_affected(None);
        if let Some(message) = message {
            warn!("{message}");
            scheduler
                .client()
                .show_message(MessageType::WARNING, message)
                .await;
        }
        if !state.rendering.release(&chart) || !state.rendering.claim(&chart) {
            return;
        }
    }
}
