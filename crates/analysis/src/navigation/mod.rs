//! Navigation between pods, accounts and roles, for an editor's go to
//! definition, find references and completion: where each workload names
//! the account it runs as ([`uses`]), those uses kept per file
//! ([`index`]), and the questions over the workspace ([`query`]), with the
//! roles and bindings of the RBAC model ([`crate::rbac`], whose
//! `RbacObjects` carry the ranges of names, `roleRef`s and subjects). Pure: the
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
//! * a binding's `roleRef` names a Role of the binding's namespace or a
//!   ClusterRole (a built-in one has no declaration); a ServiceAccount
//!   subject names the account of its namespace, else the binding's;
//! * chart templates' workloads are not read for navigation (their account
//!   names and namespaces are mostly computed), their roles and bindings
//!   are, by their literal names: `{{ }}` is never a name, in a template or
//!   in a plain manifest.

pub mod index;
pub mod query;
pub mod uses;

pub use index::UseIndex;
pub use query::{
    completion_site, may_complete, symbol_at, AccountCandidate, CompletionSite, FileSymbols,
    Location, Naming, Symbol, Workspace,
};
pub use uses::{account_uses, workload_uses, AccountField, AccountUse, Mention};
