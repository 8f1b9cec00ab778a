//! What the client can do (`Session`, fixed at `initialize`) and what the
//! server announces in return (`initialize_result`, the file watchers it
//! registers).

use tower_lsp_server::ls_types::*;

use crate::code_actions::FIX_ALL;
use crate::positions::Encoding;

/// What the client said it can do, fixed at `initialize`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Session {
    pub encoding: Encoding,
    pub pull_diagnostics: bool,
    pub diagnostic_refresh: bool,
    pub lazy_code_actions: bool,
    pub work_done_progress: bool,
    pub watch_files: bool,
    pub configuration_pull: bool,
    /// `workspace/inlayHint/refresh` and `workspace/codeLens/refresh`: the
    /// client asks again when accounts or settings change.
    pub inlay_hint_refresh: bool,
    pub code_lens_refresh: bool,
}

impl Session {
    pub fn of(caps: &ClientCapabilities) -> Session {
        let text = caps.text_document.as_ref();
        let workspace = caps.workspace.as_ref();
        let refresh = workspace
            .and_then(|w| w.diagnostics.as_ref())
            .and_then(|d| d.refresh_support)
            .unwrap_or(false);
        Session {
            encoding: Encoding::negotiate(caps),
            // Pull only when the server can also ask the client to pull again:
            // a ServiceAccount change in one file must reach the others.
            pull_diagnostics: text.and_then(|t| t.diagnostic.as_ref()).is_some() && refresh,
            diagnostic_refresh: refresh,
            lazy_code_actions: text
                .and_then(|t| t.code_action.as_ref())
                .and_then(|c| c.resolve_support.as_ref())
                .is_some_and(|r| r.properties.iter().any(|p| p == "edit")),
            work_done_progress: caps
                .window
                .as_ref()
                .and_then(|w| w.work_done_progress)
                .unwrap_or(false),
            watch_files: workspace
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|d| d.dynamic_registration)
                .unwrap_or(false),
            configuration_pull: workspace.and_then(|w| w.configuration).unwrap_or(false),
            inlay_hint_refresh: workspace
                .and_then(|w| w.inlay_hint.as_ref())
                .and_then(|i| i.refresh_support)
                .unwrap_or(false),
            code_lens_refresh: workspace
                .and_then(|w| w.code_lens.as_ref())
                .and_then(|c| c.refresh_support)
                .unwrap_or(false),
        }
    }
}

/// The answer to `initialize` for a client that can do `session`.
pub fn initialize_result(session: Session) -> InitializeResult {
    InitializeResult {
        capabilities: ServerCapabilities {
            position_encoding: Some(session.encoding.kind()),
            text_document_sync: Some(TextDocumentSyncCapability::Options(
                TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::INCREMENTAL),
                    // Charts are rendered on save (`server/render.rs`).
                    save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                    ..TextDocumentSyncOptions::default()
                },
            )),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            inlay_hint_provider: Some(OneOf::Left(true)),
            code_lens_provider: Some(CodeLensOptions {
                resolve_provider: Some(false),
            }),
            // Navigation (`server/navigate.rs`).
            definition_provider: Some(OneOf::Left(true)),
            references_provider: Some(OneOf::Left(true)),
            // A space after `serviceAccountName:` asks for the accounts.
            completion_provider: Some(CompletionOptions {
                trigger_characters: Some(vec![" ".to_string()]),
                ..CompletionOptions::default()
            }),
            code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                code_action_kinds: Some(vec![
                    CodeActionKind::QUICKFIX,
                    CodeActionKind::new(FIX_ALL),
                ]),
                resolve_provider: Some(session.lazy_code_actions),
                ..CodeActionOptions::default()
            })),
            diagnostic_provider: session.pull_diagnostics.then(|| {
                DiagnosticServerCapabilities::Options(DiagnosticOptions {
                    identifier: Some("tokenguard".to_string()),
                    inter_file_dependencies: true,
                    workspace_diagnostics: false,
                    ..DiagnosticOptions::default()
                })
            }),
            ..ServerCapabilities::default()
        },
        server_info: Some(ServerInfo {
            name: "tokenguard".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
        offset_encoding: None,
    }
}

/// The file watchers registered at `initialized` (for clients that can
/// register them): YAML files, Kustomize's extensionless kustomization, and
/// the project configuration files.
pub fn file_watchers() -> Registration {
    let watch = |pattern: &str| FileSystemWatcher {
        glob_pattern: GlobPattern::String(pattern.to_string()),
        kind: None,
    };
    let options = DidChangeWatchedFilesRegistrationOptions {
        watchers: vec![
            watch("**/*.{yaml,yml}"),
            // Kustomize: the kustomization name without extension.
            watch("**/Kustomization"),
            watch("**/tokenguard.toml"),
            watch("**/.tokenguard.toml"),
        ],
    };
    Registration {
        id: "tokenguard-watch-yaml".to_string(),
        method: "workspace/didChangeWatchedFiles".to_string(),
        register_options: serde_json::to_value(options).ok(),
    }
}
