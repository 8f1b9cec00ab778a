//! One module per LSP method (or pair of methods), each a thin function
//! over the [`Backend`](super::Backend): it translates the request, asks
//! the state, the workspace store or the scheduler, and answers. They are
//! traced with `tracing::instrument` (the method and the document).

pub mod code_action;
pub mod code_action_resolve;
pub mod configuration;
pub mod diagnostic;
pub mod did_change;
pub mod did_close;
pub mod did_open;
pub mod hover;
pub mod initialize;
pub mod watched_files;
