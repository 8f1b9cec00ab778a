//! Where each workload names the account it runs as.

use crate::objects::{AccountAutomount, Workload};
use crate::text::TextRange;
use crate::tree::{Document, NodeKind};
use crate::value::{get, read_bool_field, read_string, BoolField};
use crate::{Options, ParsedFile};

/// The pod spec field that names an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccountField {
    /// `serviceAccountName`.
    ServiceAccountName,
    /// `serviceAccount`, the deprecated alias (read only when
    /// `serviceAccountName` is absent or empty).
    ServiceAccount,
}

impl AccountField {
    pub const ALL: [AccountField; 2] = [
        AccountField::ServiceAccountName,
        AccountField::ServiceAccount,
    ];

    pub fn key(self) -> &'static str {
        match self {
            AccountField::ServiceAccountName => "serviceAccountName",
            AccountField::ServiceAccount => "serviceAccount",
        }
    }
}

/// How a workload refers to its account.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Mention {
    /// The account's name written in a field: the value's range.
    Field {
        field: AccountField,
        range: TextRange,
    },
    /// No name written (absent or empty): the pod runs as `default`; the
    /// range is the pod spec's `spec` key, where the workload's finding is.
    Implicit { spec_key: TextRange },
}

impl Mention {
    /// Where the mention is shown.
    pub fn range(&self) -> TextRange {
        match self {
            Mention::Field { range, .. } => *range,
            Mention::Implicit { spec_key } => *spec_key,
        }
    }
}

/// A workload naming (or implying) a ServiceAccount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountUse {
    /// The workload's namespace (`None`: not written).
    pub namespace: Option<String>,
    /// The account named.
    pub account: String,
    pub workload_kind: String,
    pub workload_name: Option<String>,
    pub mention: Mention,
    /// Whether the pod runs as this account: `serviceAccount` is ignored
    /// when `serviceAccountName` names one.
    pub effective: bool,
    /// What the pod spec itself says of `automountServiceAccountToken`
    /// (`Default`: absent or null).
    pub pod_automount: AccountAutomount,
}

/// The name a field's value gives, when it is one: a non-empty string, not
/// a template action.
fn name_value(doc: &Document, value: crate::tree::NodeId) -> Option<&str> {
    let name = read_string(doc, value)?;
    (!name.is_empty() && !name.contains("{{")).then_some(name)
}

/// The account uses of one workload, in field order (`serviceAccountName`
/// first); the implicit `default` when no field names one.
pub fn workload_uses(doc: &Document, workload: &Workload) -> Vec<AccountUse> {
    let pod_automount = match get(doc, workload.pod_spec, "automountServiceAccountToken") {
        None => AccountAutomount::Default,
        Some((_, v)) => match read_bool_field(doc, v) {
            BoolField::False => AccountAutomount::Disabled,
            BoolField::True => AccountAutomount::Enabled,
            BoolField::Null => AccountAutomount::Default,
            BoolField::NotBoolean(_) => AccountAutomount::Invalid,
        },
    };
    let use_of = |account: &str, mention: Mention, effective: bool| AccountUse {
        namespace: workload.namespace.clone(),
        account: account.to_string(),
        workload_kind: workload.kind.clone(),
        workload_name: workload.name.clone(),
        mention,
        effective,
        pod_automount,
    };
    let mut uses = Vec::new();
    let mut named = false;
    for field in AccountField::ALL {
        let Some((_, value)) = get(doc, workload.pod_spec, field.key()) else {
            continue;
        };
        let Some(name) = name_value(doc, value) else {
            continue;
        };
        let range = doc.node(value).range;
        uses.push(use_of(name, Mention::Field { field, range }, !named));
        named = true;
    }
    if !named && empty_or_absent(doc, workload) {
        let spec_key = doc.node(workload.spec_key).range;
        uses.push(use_of("default", Mention::Implicit { spec_key }, true));
    }
    uses
}

/// Whether no field names an account: each is absent, null or empty (a
/// collection or a template action is not a name, and its account is not
/// known).
fn empty_or_absent(doc: &Document, workload: &Workload) -> bool {
    AccountField::ALL
        .iter()
        .all(|field| match get(doc, workload.pod_spec, field.key()) {
            None => true,
            Some((_, v)) => match read_string(doc, v) {
                None => matches!(doc.node(doc.resolve(v)).kind, NodeKind::Scalar { .. }),
                Some(name) => name.is_empty(),
            },
        })
}

/// The account uses of every workload of a parsed file, in text order.
pub fn uses_of_parsed(parsed: &ParsedFile) -> Vec<AccountUse> {
    parsed
        .workloads
        .iter()
        .flat_map(|(i, w)| workload_uses(&parsed.documents[*i], w))
        .collect()
}

/// The account uses of a plain manifest's text, its workload kinds those of
/// `options`.
pub fn account_uses(text: &str, options: &Options) -> Vec<AccountUse> {
    uses_of_parsed(&crate::parse(text, options))
}
