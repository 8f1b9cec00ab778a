//! The settings in force for a document: the editor's (from
//! `initializationOptions`, `workspace/configuration` or
//! `didChangeConfiguration`), overridden by the project file of its
//! workspace folder where that sets a value; and whether it is excluded.

use std::sync::Arc;

use serde_json::Value;
use tower_lsp_server::ls_types::ConfigurationItem;
use tower_lsp_server::Client;
use tracing::warn;

use super::state::State;
use crate::config::Settings;
use crate::identity::{self, DocumentKey};

impl State {
    /// The editor's settings.
    pub fn settings(&self) -> Arc<Settings> {
        Arc::clone(&self.settings.read())
    }

    /// The editor settings with the project configuration of `key` taking
    /// precedence where it sets a value.
    pub fn settings_for(&self, key: &DocumentKey) -> Arc<Settings> {
        let settings = self.settings();
        let configuration = self.store.configuration_for(key);
        if configuration.file.is_some() {
            Arc::new(settings.overridden_by(&configuration.config))
        } else {
            settings
        }
    }

    /// Whether the document at `key` is off (the setting `enable`) or
    /// excluded, by the project file or by the editor's `exclude` patterns.
    pub fn silenced(&self, key: &DocumentKey, settings: &Settings) -> bool {
        !settings.enable || self.excluded(key, settings)
    }

    fn excluded(&self, key: &DocumentKey, settings: &Settings) -> bool {
        if self.store.is_excluded(key) {
            return true;
        }
        let Some(path) = key.to_path() else {
            return false;
        };
        if settings.exclude.is_empty() {
            return false;
        }
        let roots = self.roots.read();
        let absolute = path.to_string_lossy().replace('\\', "/");
        let relative: Vec<String> = roots
            .iter()
            .filter_map(|r| identity::strip_root(r, &path))
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .collect();
        let mut candidates: Vec<&str> = relative.iter().map(String::as_str).collect();
        candidates.push(&absolute);
        settings.excludes(&candidates)
    }

    /// Takes the editor's settings from their JSON (problems are logged).
    pub fn apply_settings(&self, value: &Value) {
        let (settings, notes) = Settings::from_json(value);
        for note in notes {
            warn!("{note}");
        }
        *self.settings.write() = Arc::new(settings);
    }
}

/// Asks the client for the `tokenguard` section of its settings.
pub async fn pull_settings(client: &Client, state: &State) {
    let item = ConfigurationItem {
        scope_uri: None,
        section: Some("tokenguard".to_string()),
    };
    match client.configuration(vec![item]).await {
        Ok(values) => {
            if let Some(value) = values.first() {
                state.apply_settings(value);
            }
        }
        Err(error) => warn!("workspace/configuration failed: {error}"),
    }
}
