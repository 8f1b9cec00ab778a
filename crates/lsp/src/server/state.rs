//! The state one session shares between its handlers and tasks: the open
//! documents, the workspace store, and what `initialize` and the settings
//! fixed. Each part keeps its own locking rules (see their modules); this
//! one's locks (`settings`, `roots`, `config_problems`) are parking_lot's,
//! held only to clone or replace what they guard, never across an `.await`.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use parking_lot::{Mutex, RwLock};

use super::capabilities::Session;
use super::open_documents::OpenDocuments;
use super::reader::ServerSource;
use super::render::InFlight;
use super::transport::{OpenTexts, Outbox};
use super::workspace_store::WorkspaceStore;
use crate::config::Settings;
use crate::identity::DocumentKey;

pub struct State {
    pub open: Arc<OpenDocuments>,
    pub store: WorkspaceStore,
    /// What the client can do, fixed at `initialize`.
    pub session: OnceLock<Session>,
    /// The editor's settings (the project file's win where they set a
    /// value: see `State::settings_for`).
    pub settings: RwLock<Arc<Settings>>,
    /// The workspace folders: the only places files are read from.
    pub roots: Arc<RwLock<Vec<PathBuf>>>,
    /// Configuration files that have a diagnostic published on them.
    pub config_problems: Mutex<Vec<DocumentKey>>,
    /// Set by `shutdown`: `serve` reports it.
    pub shutdown: Arc<AtomicBool>,
    /// The charts being rendered (`server/render.rs`).
    pub rendering: InFlight,
    /// The texts of large `didOpen`s the transport decoded (`did_open`
    /// takes each back).
    pub opened: OpenTexts,
    /// Where publishes are written (`publish.rs`).
    pub outbox: Outbox,
}

impl State {
    pub fn new(shutdown: Arc<AtomicBool>, opened: OpenTexts, outbox: Outbox) -> Self {
        let open = Arc::new(OpenDocuments::default());
        let roots = Arc::new(RwLock::new(Vec::new()));
        let source = ServerSource {
            roots: Arc::clone(&roots),
            open: Arc::clone(&open),
            fed: Arc::default(),
        };
        Self {
            open,
            store: WorkspaceStore::new(source),
            session: OnceLock::new(),
            settings: RwLock::new(Arc::new(Settings::default())),
            roots,
            config_problems: Mutex::new(Vec::new()),
            shutdown,
            rendering: InFlight::default(),
            opened,
            outbox,
        }
    }

    pub fn session(&self) -> Session {
        self.session.get().copied().unwrap_or_default()
    }

    /// Reads the project configuration of every workspace folder again.
    pub fn load_projects(&self) {
        let roots = self.roots.read().clone();
        self.store.load_projects(&roots, self.session().encoding);
    }
}
