//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// 64 MiB: far above any real manifest, low enough that a stray dump or
/// binary blob named `.yaml` cannot exhaust memory.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

const EXAMPLES: &str = "\
EXAMPLES:
  tokenguard check k8s/
  tokenguard check --format sarif . > tokenguard.sarif
  kustomize build overlays/prod | tokenguard check -
  tokenguard check --fix manifests/
  tokenguard check --diff
  tokenguard check --print-config k8s/

EXIT STATUS:
  0  no findings
  1  findings (or, with --diff, changes to make)
  2  usage error, a path that could not be read or written, or a
     configuration file that could not be read or is malformed (the
     defaults are used, and the check still runs)

CONFIGURATION:
  tokenguard.toml (or .tokenguard.toml) in the folder of the first path, or
  any folder above it: severity, syntax_errors, exclude, [[workloads]],
  [[ignore]]. See --print-config.";

#[derive(Debug, Parser)]
#[command(
    name = "tokenguard",
    version,
    about = "Finds Kubernetes pod specs that leave the service-account token mounted",
    after_help = EXAMPLES,
    arg_required_else_help = true,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Subcommands, so that `tokenguard server` (the language server) can join
// `check` later without breaking anyone's scripts.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check Kubernetes manifests for mounted service-account tokens (TG001)
    #[command(after_help = EXAMPLES)]
    Check(CheckArgs),
    /// List ServiceAccounts with their bindings, risk and the workloads that run as them
    #[command(
        after_help = ACCOUNTS_HELP,
        long_about = "List each ServiceAccount with its bindings, its dangerous capabilities, its \
                      risk and the workloads that run as it, with or without the token: an audit \
                      view for security reviews."
    )]
    Accounts(AccountsArgs),
    /// Run the language server on standard input and output (for editors)
    Server(ServerArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    #[command(after_help = COMPLETIONS_HELP)]
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write every page into a folder
    #[command(after_help = MAN_HELP)]
    Man(ManArgs),
}

const ACCOUNTS_HELP: &str = "\
EXAMPLES:
  tokenguard accounts k8s/
  tokenguard accounts --format json . > accounts.json

EXIT STATUS:
  0  the report was written (it is a report, not a gate)
  1  with --fail-on RISK: a workload mounts the token of an account whose
     risk is RISK or higher
  2  usage error, a path that could not be read, or a configuration file
     that could not be read or is malformed

Files are found, excluded and read as `tokenguard check` finds, excludes
and reads them (tokenguard.toml, Helm charts, kustomizations).";

#[derive(Debug, Args)]
pub struct AccountsArgs {
    /// Files and directories to read; `-` reads standard input. Directories
    /// are searched for *.yaml and *.yml files, honouring .gitignore and
    /// .ignore. All paths form one workspace.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = AccountsFormat::Human)]
    pub format: AccountsFormat,

    /// When to colour human output
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Skip files larger than this many bytes (an error for files named explicitly)
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,

    /// Use this configuration file instead of searching for tokenguard.toml
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Use no configuration file: the built-in defaults only
    #[arg(long)]
    pub no_config: bool,

    /// Do not render charts with helm: templates whose pod spec comes from an
    /// include are read in place only
    #[arg(long)]
    pub no_render: bool,

    /// Exit with status 1 when a workload mounts the token of an account
    /// whose risk is this or higher
    #[arg(long, value_enum, value_name = "RISK")]
    pub fail_on: Option<RiskLevel>,
}

/// An account's risk, lowest first (the names of the JSON `risk` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RiskLevel {
    /// Bound only to roles not found in the checked files
    Unknown,
    /// Bound by a binding of the checked files
    Bound,
    /// A dangerous capability in some namespaces
    DangerousInNamespace,
    /// A dangerous capability cluster-wide
    DangerousClusterWide,
    /// Every verb on every resource cluster-wide
    ClusterAdmin,
}

impl RiskLevel {
    pub fn risk(self) -> tokenguard_analysis::rbac::Risk {
        use tokenguard_analysis::rbac::Risk;
        match self {
            RiskLevel::Unknown => Risk::Unknown,
            RiskLevel::Bound => Risk::Bound,
            RiskLevel::DangerousInNamespace => Risk::DangerousInNamespace,
            RiskLevel::DangerousClusterWide => Risk::DangerousClusterWide,
            RiskLevel::ClusterAdmin => Risk::ClusterAdmin,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AccountsFormat {
    /// Tables, for people
    Human,
    /// One JSON object (see docs/accounts.md), for scripts
    Json,
}

const MAN_HELP: &str = "\
EXAMPLES:
  tokenguard man | man -l -
  tokenguard man --dir /usr/local/share/man/man1";

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write tokenguard.1 and a page for each subcommand (tokenguard-check.1,
    /// ...) into this existing folder instead of printing tokenguard.1
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

const COMPLETIONS_HELP: &str = "\
EXAMPLES:
  tokenguard completions bash > ~/.local/share/bash-completion/completions/tokenguard
  tokenguard completions zsh > ~/.zfunc/_tokenguard
  tokenguard completions fish > ~/.config/fish/completions/tokenguard.fish
  tokenguard completions powershell >> $PROFILE";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Accepted and ignored: stdio is the only transport (VS Code's client
    /// appends this flag).
    #[arg(long)]
    pub stdio: bool,

    /// Log level of the server's log on standard error (error, warn, info,
    /// debug, trace, or a tracing filter); `RUST_LOG` is used when absent.
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files and directories to check; `-` reads standard input.
    /// Directories are searched for *.yaml and *.yml files, honouring
    /// .gitignore and .ignore. All paths form one workspace: a ServiceAccount
    /// in one file applies to workloads in the others.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Read this directory as context without reporting it: its
    /// ServiceAccounts, Helm charts and kustomizations apply to the checked
    /// paths, whose findings alone are reported and fixed. For hooks that get
    /// only the changed files (pre-commit): `--workspace . changed.yaml`.
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Apply every fix in place, then report what remains
    #[arg(long, conflicts_with = "diff")]
    pub fix: bool,

    /// Print the changes --fix would make as a unified diff; write nothing
    #[arg(long)]
    pub diff: bool,

    /// When to colour human output
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Skip files larger than this many bytes (an error for files named explicitly)
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,

    /// Use this configuration file instead of searching for tokenguard.toml
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Use no configuration file: the built-in defaults only
    #[arg(long)]
    pub no_config: bool,

    /// Do not render charts with helm: templates whose pod spec comes from an
    /// include are read in place only
    #[arg(long)]
    pub no_render: bool,

    /// Print the configuration in effect, and where each value comes from,
    /// then exit without checking
    #[arg(long, conflicts_with_all = ["fix", "diff"])]
    pub print_config: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Findings with source snippets, for people
    Human,
    /// A JSON array of findings, for scripts
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers
    Sarif,
    /// GitHub Actions workflow commands (annotations)
    Github,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is not set
    Auto,
    /// Always colour, even when piped
    Always,
    /// Never colour
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream, given whether it is a terminal.
    pub fn enabled(self, is_terminal: bool) -> bool {
        let wanted = match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_terminal
                    && colour_allowed(
                        std::env::var_os("NO_COLOR").as_deref(),
                        std::env::var_os("TERM").as_deref(),
                        cfg!(windows),
                    )
            }
        };
        // Windows consoles show escape codes as text unless virtual-terminal
        // processing is on: turn it on, and colour only if that worked
        // (elsewhere this is `None`: nothing to turn on).
        wanted && anstyle_query::windows::enable_ansi_colors().unwrap_or(true)
    }
}

/// Whether the environment allows colour on a terminal: <https://no-color.org>
/// (`NO_COLOR` set and non-empty disables it), and no `TERM=dumb`; outside
/// Windows an unset `TERM` means a terminal of unknown abilities.
fn colour_allowed(
    no_color: Option<&std::ffi::OsStr>,
    term: Option<&std::ffi::OsStr>,
    windows: bool,
) -> bool {
    if no_color.is_some_and(|v| !v.is_empty()) {
        return false;
    }
    match term {
        Some(term) => term != "dumb",
        None => windows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn colour_follows_no_color_and_term() {
        let term = Some(OsStr::new("xterm-256color"));
        assert!(colour_allowed(None, term, false));
        assert!(colour_allowed(Some(OsStr::new("")), term, false));
        assert!(!colour_allowed(Some(OsStr::new("1")), term, false));
        assert!(!colour_allowed(None, Some(OsStr::new("dumb")), false));
        assert!(!colour_allowed(None, None, false));
        // Windows consoles set no TERM.
        assert!(colour_allowed(None, None, true));
    }

    #[test]
    fn never_and_always_ignore_the_terminal() {
        assert!(!ColorChoice::Never.enabled(true));
        assert!(ColorChoice::Always.enabled(false));
    }
}
