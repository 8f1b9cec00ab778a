//! The tokenguard language server: live TG001 diagnostics, quick fixes,
//! fix-all and hovers for Kubernetes YAML, over LSP.
//!
//! Every LSP type stays inside this crate; the analysis crate knows none.
//! The server only translates and schedules: analysis runs off the async
//! executor, and a result is published only while its revision is current.

mod code_actions;
mod config;
mod diagnostics;
mod documents;
/// Helm chart templates: the rope glue around the host's Helm path.
mod helm;
/// Running `helm template` on a temporary copy of a chart (blocking), for
/// the server and the command line.
pub mod helm_run;
mod hover;
// Which URIs and paths name the same file (document keys), and the one
// encoder of a path into a `file:` URI (`identity::file_uri`), public for the
// command line's SARIF output (its own documentation is inside).
pub mod identity;
/// LSP positions <-> byte offsets (through ropey), public for the fuzz
/// targets in `fuzz/`.
pub mod positions;
mod project;
mod server;
mod workspace;

pub use config::Settings;
pub use positions::Encoding;
pub use server::{serve, Backend};
