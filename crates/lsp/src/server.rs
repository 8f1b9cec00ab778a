//! The protocol: `Backend`, tower-lsp-server's `LanguageServer`, whose
//! methods hand each request to its handler (`handlers`), and `serve`.
//!
//! The rest of the server is split by job:
//!
//! * `state`: what one session shares (`State`);
//! * `open_documents`: the open documents, one map;
//! * `workspace_store`: the ServiceAccounts, kustomizations and projects of
//!   the workspace, with its own locking rules;
//! * `reader`: the one reader of other files (open buffer, else the disk
//!   inside the workspace folders);
//! * `analyze`: one analysis of one snapshot;
//! * `schedule`: when analyses run, and re-analysis after a change
//!   elsewhere;
//! * `publish`: diagnostics sent in order, configuration problems;
//! * `settings`: the settings in force for a document;
//! * `capabilities`: the client's (`Session`) and the server's;
//! * `workspace_index`: the task that indexes the workspace folders;
//! * `navigate`: the navigation questions asked of the host, and their
//!   answers as LSP locations;
//! * `transport`: the guard between the client's bytes and
//!   tower-lsp-server;
//! * `memory`: the allocator told to give large buffers back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

mod analyze;
mod capabilities;
mod handlers;
pub(crate) mod memory;
mod navigate;
mod open_documents;
mod publish;
mod reader;
mod render;
mod schedule;
mod settings;
mod state;
mod transport;
mod workspace_index;
mod workspace_store;

use handlers::*;
use schedule::Scheduler;
use state::State;

pub struct Backend {
    client: Client,
    state: Arc<State>,
    scheduler: Scheduler,
}

impl Backend {
    fn new(
        client: Client,
        shutdown: Arc<AtomicBool>,
        opened: transport::OpenTexts,
        outbox: transport::Outbox,
    ) -> Self {
        let state = Arc::new(State::new(shutdown, opened, outbox));
        let scheduler = Scheduler::start(client.clone(), Arc::clone(&state));
        Self {
            client,
            state,
            scheduler,
        }
    }

    fn client(&self) -> &Client {
        &self.client
    }

    fn state(&self) -> &Arc<State> {
        &self.state
    }

    fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        initialize::initialize(self, params).await
    }

    async fn initialized(&self, _: InitializedParams) {
        initialize::initialized(self).await
    }

    async fn shutdown(&self) -> Result<()> {
        self.state.shutdown.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        did_open::did_open(self, params).await
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        did_change::did_change(self, params).await
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        did_close::did_close(self, params).await
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        did_save::did_save(self, params).await
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        watched_files::did_change_watched_files(self, params).await
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        configuration::did_change_configuration(self, params).await
    }

    async fn diagnostic(
        &self,
        params: DocumentDiagnosticParams,
    ) -> Result<DocumentDiagnosticReportResult> {
        diagnostic::diagnostic(self, params).await
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        hover::hover(self, params).await
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        inlay_hint::inlay_hint(self, params).await
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        code_lens::code_lens(self, params).await
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        definition::definition(self, params).await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        references::references(self, params).await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        completion::completion(self, params).await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        code_action::code_action(self, params).await
    }

    async fn code_action_resolve(&self, action: CodeAction) -> Result<CodeAction> {
        code_action_resolve::code_action_resolve(self, action).await
    }
}

/// Serves LSP on the given streams until `exit`; returns whether `shutdown`
/// came first (the process then exits with 0, else 1).
pub async fn serve<I, O>(input: I, output: O) -> bool
where
    I: AsyncRead + Unpin,
    O: AsyncWrite,
{
    memory::tune();
    let shutdown = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&shutdown);
    let texts = transport::OpenTexts::new();
    let opened = texts.clone();
    let (outbox, outgoing) = transport::outbox();
    let (service, socket) =
        LspService::new(move |client| Backend::new(client, flag, opened, outbox));
    // Malformed input is answered by the transport guard, never seen by
    // tower-lsp-server (which would stop reading at the first one).
    transport::guarded(input, Box::pin(output), texts, outgoing, |input, output| {
        Server::new(input, output, socket).serve(service)
    })
    .await;
    shutdown.load(Ordering::SeqCst)
}
