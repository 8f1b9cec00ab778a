//! The one LSP test client of tokenguard's suites.
//!
//! Every test that speaks LSP to the server goes through [`TestClient`]: the
//! server's own suites (`crates/lsp/tests`, in process over an in-memory
//! pipe), the root package's (`tests/lsp_stdio.rs`, `tests/lsp_abuse.rs`,
//! `tests/cli_server_agreement.rs`, against `tokenguard server` over a child
//! process's standard input and output) and the latency example. The two
//! transports have the same API; only starting ([`TestClient::in_process`],
//! [`TestClient::spawn`]) and the child's own extras (its log on standard
//! error, [`TestClient::wait_log`]) differ.
//!
//! * [`framing`]: `Content-Length` framing, the one copy on the client side
//!   (raw bytes too, for the abuse tests).
//! * [`positions`]: LSP positions computed from the client's text, written
//!   apart from the server's `positions.rs` on purpose: tests check the
//!   server's maths, so they must not share it.
//! * [`fixtures`]: files and temporary workspaces (`write`, [`Dir`],
//!   [`file_uri`]).
//! * [`expect`]: what the server should publish (a fresh analysis), and
//!   reading `WorkspaceEdit`s.
//! * [`hints`]: typed inlay hint and code lens requests.

pub mod client;
pub mod expect;
pub mod fixtures;
pub mod framing;
pub mod hints;
pub mod oracles;
pub mod positions;

pub use client::{Exit, Notifier, Published, TestClient, TIMEOUT};
pub use expect::{expected_diagnostics, summarize, workspace_edit_for, workspace_edit_uris};
pub use fixtures::{at, file_uri, lsp_uri, write, Dir};
pub use framing::frame;
pub use ls_types;
pub use positions::{
    apply_change, apply_text_edits, find_range, line_starts, offset_of, pos, position_of, range,
    range_of, Enc,
};
