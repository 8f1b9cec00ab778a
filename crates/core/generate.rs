//! Shell completions and manual pages, generated from the command-line
//! definition in `args.rs`, so they can never disagree with `--help`.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs, ManArgs};
use crate::atomic;

/// `tokenguard completions SHELL`: the script on stdout.
pub fn completions(args: &CompletionsArgs) -> ExitCode {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "tokenguard", &mut script);
    write_stdout(&script, "the completion script")
}

/// `tokenguard man`: `tokenguard.1` on stdout, or with `--dir`, every page
/// (`tokenguard.1`, `tokenguard-check.1`, ...) written into that folder.
pub fn man(args: &ManArgs) -> ExitCode {
    let pages = match pages() {
        Ok(pages) => pages,
        Err(e) => return fail(format_args!("cannot render the manual pages: {e}")),
    };
    let Some(dir) = &args.dir else {
        // The first page is the command's own.
        return write_stdout(&pages[0].1, "the manual page");
    };
    if !dir.is_dir() {
        return fail(format_args!(
            "{}: not an existing folder (create it first)",
            crate::walk::display_path(dir)
        ));
    }
    for (name, page) in &pages {
        let path = dir.join(name);
        if let Err(message) = atomic::write(&path, page) {
            return fail(format_args!(
                "{}: {message}",
                crate::walk::display_path(&path)
            ));
        }
    }
    ExitCode::SUCCESS
}

/// Every page as (file name, roff text): the command's, then one per visible
/// subcommand.
fn pages() -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let mut commands = vec![command.clone()];
    commands.extend(
        command
            .get_subcommands()
            .filter(|sub| !sub.is_hide_set())
            .cloned(),
    );
    commands
        .into_iter()
        .map(|command| {
            let man = clap_mangen::Man::new(command);
            let mut page = Vec::new();
            man.render(&mut page)?;
            Ok((man.get_filename(), page))
        })
        .collect()
}

fn fail(message: std::fmt::Arguments<'_>) -> ExitCode {
    let _ = writeln!(io::stderr(), "tokenguard: error: {message}");
    ExitCode::from(2)
}

fn write_stdout(bytes: &[u8], what: &str) -> ExitCode {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(format_args!(
            "cannot write {what}: {}",
            atomic::describe(&e)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_is_a_page_for_the_command_and_each_subcommand() {
        let names: Vec<String> = pages()
            .expect("rendered")
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(
            names,
            [
                "tokenguard.1",
                "tokenguard-check.1",
                "tokenguard-accounts.1",
                "tokenguard-server.1",
                "tokenguard-completions.1",
                "tokenguard-man.1"
            ]
        );
    }

    #[test]
    fn the_check_page_documents_every_option() {
        let pages = pages().expect("rendered");
        let check = String::from_utf8(pages[1].1.clone()).expect("utf-8");
        for option in [
            "format",
            "fix",
            "diff",
            "workspace",
            "print\\-config",
            "color",
        ] {
            assert!(
                check.contains(&format!("\\-\\-{option}")),
                "--{option} missing"
            );
        }
    }
}
