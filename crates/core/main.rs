//! The `tokenguard` command line.

mod accounts;
mod allocator;
mod args;
mod atomic;
mod check;
mod diff;
mod errors;
mod fix;
mod generate;
mod helm_render;
mod load;
mod output;
mod project;
mod run;
mod server;
mod walk;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    allocator::return_freed_pages_at_once();
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => run::check(&args).into(),
        Command::Accounts(args) => accounts::run(&args).into(),
        Command::Server(args) => server::run(&args),
        Command::Completions(args) => generate::completions(&args),
        Command::Man(args) => generate::man(&args),
    }
}
