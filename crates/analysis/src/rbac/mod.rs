//! RBAC: the roles and bindings of the checked files (`model`, `objects`),
//! kept per file (`index`), the API server's built-in roles and default
//! bindings (`bootstrap`), and what an account's token can do
//! (`permissions`): its grants, their scope, the dangerous capabilities
//! among their rules, and the risk they add up to. Pure: no I/O, no panics.

mod bootstrap;
mod index;
mod live;
mod model;
mod objects;
mod permissions;
mod subjects;

pub use bootstrap::{default_bindings, DefaultBinding, KUBERNETES_VERSION};
pub use index::RbacIndex;
pub use live::{EditedLines, RbacFacts, MAX_EDITED_LINES};
pub use model::{
    BindingDef, BindingKind, LabelRequirement, LabelSelector, PolicyRule, RbacObjects, RoleDef,
    RoleKind, RoleRef, Subject, SubjectKind,
};
pub use objects::{
    may_hold_rbac, of_document, rbac_documents, rbac_objects, rbac_of_document, rbac_of_template,
    rbac_of_text, RbacObject, RBAC_GROUP,
};
pub use permissions::{Capability, Grant, Permissions, Risk, RoleSource, Scope, Via};
pub use subjects::Account;

/// The built-in ClusterRoles (bootstrap policy of [`KUBERNETES_VERSION`]).
pub fn builtin_roles() -> &'static [RoleDef] {
    bootstrap::roles()
}
