//! Navigation between pods, accounts and roles, for an editor's go to
//! definition, find references and completion: where each workload names
//! the account it runs as ([`uses`]), those uses kept per file
//! ([`index`]), and the questions over the workspace ([`query`]). Pure: the
//! host ([`crate::host`]) feeds the indexes and answers by file and byte
//! offset; no LSP type here.
//!
//! What counts:
//!
//! * a workload names its account with `serviceAccountName`, else the
//!   deprecated `serviceAccount`; both are mentions of the account they
//!   name (the second is marked not effective when the first is written);
//! * a pod spec that names none (absent, null or empty) runs as `default`:
//!   it is a reference of its namespace's `default` account, located at its
//!   `spec` key (where its finding is), since nothing is written;
//! * namespaces match as the account index matches them: an absent
//!   namespace matches only an absent one;
//! * chart templates are not read for navigation (their names and
//!   namespaces are mostly computed: `{{ }}` is never a name), and a value
//!   holding `{{` in a plain manifest is no name either.

pub mod index;
pub mod query;
pub mod uses;

pub use index::UseIndex;
pub use query::{
    completion_site, symbol_at, AccountCandidate, CompletionSite, FileSymbols, Location, Naming,
    Symbol, Workspace,
};
pub use uses::{account_uses, workload_uses, AccountField, AccountUse, Mention};
