//! `tokenguard server`: the language server on stdio.

use std::process::ExitCode;

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

use crate::args::ServerArgs;

pub fn run(args: &ServerArgs) -> ExitCode {
    // The log goes to stderr: stdout carries the protocol.
    let filter = match &args.log_level {
        Some(level) => EnvFilter::try_new(level),
        None => EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new("info")),
    };
    let filter = filter.unwrap_or_else(|error| {
        eprintln!("tokenguard: invalid log level ({error}); using info");
        EnvFilter::new("info")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        // Each handler is a span (`tracing::instrument`); at debug level its
        // end is logged with how long it took, instead of hand-written lines.
        .with_span_events(FmtSpan::CLOSE)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tokenguard: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let clean_shutdown = runtime.block_on(tokenguard_lsp::serve(
        tokio::io::stdin(),
        tokio::io::stdout(),
    ));
    // Per the protocol: exit code 0 after `shutdown`, 1 without it.
    ExitCode::from(if clean_shutdown { 0 } else { 1 })
}
