//! `tokenguard accounts`: the audit view. The files are found, excluded and
//! fed to the analysis host exactly as `tokenguard check` feeds them
//! (`check::feed_inputs`); the host says which workloads run as which
//! account and whether each mounts the token (`token_uses`,
//! `account_usage`) and what each account's token can do. This module only
//! turns the host's answers into lines of files, and hands them to the
//! table or the JSON writer (`output::accounts`, `output::accounts_json`).

use std::collections::HashMap;
use std::fs;
use std::io::{self, IsTerminal};

use tokenguard_analysis::host::FilePath;
use tokenguard_analysis::rbac::{Grant, Risk, RoleSource};
use tokenguard_analysis::usage::{AccountUsage, Declared, DeclaredAutomount, TokenUse};
use tokenguard_analysis::{LineIndex, TextRange};

use crate::args::{AccountsArgs, AccountsFormat};
use crate::check::{self, CheckContext};
use crate::errors::ErrorLog;
use crate::project::Project;
use crate::run::{self, Status};

/// A place in a file, as the report prints it (`file:line`, 1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub file: String,
    /// `None` when the file could not be read again for its lines.
    pub line: Option<usize>,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

/// An account of the report.
#[derive(Debug)]
pub struct AccountRow {
    pub usage: AccountUsage,
    /// Where each declaration is, in the order of `usage.declarations`.
    pub declared_at: Vec<Place>,
    /// Where each workload is, in the order of `usage.workloads`.
    pub workloads_at: Vec<Place>,
    /// Where each grant's binding and its role are declared (`None`: a
    /// built-in, or a role not found), in the order of the grants.
    pub grants_at: Vec<(Option<Place>, Option<Place>)>,
}

impl AccountRow {
    pub fn namespace(&self) -> Option<&str> {
        self.usage.namespace.as_deref()
    }

    pub fn declared(&self) -> Declared {
        self.usage.declared()
    }

    /// The automounting the declarations give the account: as the rule
    /// reads several declarations, any that leaves it on wins. A
    /// namespace's implicit `default` account is created without the field;
    /// of an account no file declares nothing is known (`None`).
    pub fn automount(&self) -> Option<DeclaredAutomount> {
        if self.declared() == Declared::ImplicitDefault {
            return Some(DeclaredAutomount::Default);
        }
        let all: Vec<DeclaredAutomount> = self
            .usage
            .declarations
            .iter()
            .map(|d| d.automount)
            .collect();
        all.iter()
            .copied()
            .find(|a| *a != DeclaredAutomount::Disabled)
            .or_else(|| all.first().copied())
    }

    pub fn risk(&self) -> Option<Risk> {
        self.usage.permissions.as_ref().map(|p| p.risk)
    }

    /// The grants from bindings in the checked files, with where their
    /// binding and role are.
    pub fn grants(&self) -> impl Iterator<Item = (&Grant, &(Option<Place>, Option<Place>))> {
        self.usage
            .permissions
            .iter()
            .flat_map(|p| &p.grants)
            .zip(&self.grants_at)
    }

    pub fn workloads(&self) -> impl Iterator<Item = (&TokenUse, &Place)> {
        self.usage
            .workloads
            .iter()
            .map(|(_, u)| u)
            .zip(&self.workloads_at)
    }
}

/// The report: every account, by namespace then name.
#[derive(Debug)]
pub struct Report {
    pub accounts: Vec<AccountRow>,
}

pub fn run(args: &AccountsArgs) -> Status {
    let mut log = ErrorLog::default();
    let project = Project::for_paths(
        &args.paths,
        args.config.as_deref(),
        args.no_config,
        &mut log,
    );
    let inputs = run::inputs(&args.paths, &project, &mut log);
    let fed = check::feed_inputs(
        inputs,
        Vec::new(),
        args.max_file_size,
        !args.no_render,
        check::Pass::Facts,
        &project,
        &mut log,
    );
    // Pass two: each reported file's workloads, and its line table when
    // the report points into it.
    let per_file = fed.analyse_reported(&mut log, |source, context| {
        let path = check::source_path(&source);
        let uses = context.host.token_uses(&path, &source.text);
        let lines = (!uses.is_empty() || declares_accounts(context, &path))
            .then(|| LineIndex::new(&source.text));
        (path, uses, lines)
    });
    let mut line_tables: HashMap<String, LineIndex> = HashMap::new();
    let mut uses = Vec::with_capacity(per_file.len());
    for (path, file_uses, lines) in per_file {
        if let Some(lines) = lines {
            line_tables.insert(path.as_str().to_string(), lines);
        }
        uses.push((path, file_uses));
    }
    let usage = fed.context.host.account_usage(uses);
    let report = Report {
        accounts: usage
            .into_iter()
            .map(|usage| place_rows(usage, &mut line_tables))
            .collect(),
    };
    let is_terminal = io::stdout().is_terminal();
    let color = args.color.enabled(is_terminal);
    let written = run::write_to(&mut io::stdout().lock(), |out| match args.format {
        AccountsFormat::Human => crate::output::accounts::write(&report, out, color),
        AccountsFormat::Json => crate::output::accounts_json::write(&report, out),
    });
    if let Err(e) = written {
        log.error(format_args!(
            "cannot write the report: {}",
            crate::atomic::describe(&e)
        ));
    }
    let failed = args.fail_on.is_some_and(|risk| {
        report
            .accounts
            .iter()
            .any(|a| a.usage.mounted_at_risk(risk.risk()))
    });
    if log.has_errors() {
        Status::Error
    } else if failed {
        Status::Findings
    } else {
        Status::Clean
    }
}

/// Whether the host knows ServiceAccounts declared in `path` (a plain
/// manifest's, or a chart template's).
fn declares_accounts(context: &CheckContext, path: &FilePath) -> bool {
    let host = &context.host;
    !host.accounts().accounts_of(path.as_str()).is_empty()
        || host
            .charts()
            .any(|(_, chart)| chart.accounts.iter().any(|a| a.file == path.as_str()))
}

/// The lines of an account's places; a declaring file that was not among
/// the reported ones (a chart template beside them) is read for its lines.
fn place_rows(usage: AccountUsage, tables: &mut HashMap<String, LineIndex>) -> AccountRow {
    let mut at = |file: &str, range: TextRange| -> Place {
        if !tables.contains_key(file) {
            if let Ok(text) = fs::read_to_string(file) {
                tables.insert(file.to_string(), LineIndex::new(&text));
            }
        }
        Place {
            file: file.to_string(),
            line: tables.get(file).map(|t| t.line_of(range.start) + 1),
        }
    };
    let declared_at = usage
        .declarations
        .iter()
        .map(|d| at(&d.file, d.range))
        .collect();
    let workloads_at = usage
        .workloads
        .iter()
        .map(|(file, u)| at(file, u.range))
        .collect();
    let grants_at = usage
        .permissions
        .iter()
        .flat_map(|p| &p.grants)
        .map(|grant| {
            let binding = grant
                .binding_place
                .as_ref()
                .map(|(file, range)| at(file, *range));
            let role = match &grant.role {
                RoleSource::Declared { file, range, .. } => Some(at(file, *range)),
                _ => None,
            };
            (binding, role)
        })
        .collect();
    AccountRow {
        usage,
        declared_at,
        workloads_at,
        grants_at,
    }
}
