//! Where ServiceAccounts are looked up: the file itself first, then the rest
//! of the workspace through an [`AccountLookup`].

use std::collections::HashMap;

use crate::objects::{AccountAutomount, ServiceAccount};

/// A ServiceAccount found for a workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundAccount {
    /// The file that declares it, as the caller names files; `None` for the
    /// file being analysed.
    pub origin: Option<String>,
    pub account: ServiceAccount,
}

/// The ServiceAccounts of the rest of the workspace.
pub trait AccountLookup {
    fn find(&self, namespace: Option<&str>, name: &str) -> Option<FoundAccount>;
}

/// A workspace without other files.
pub struct NoAccounts;

impl AccountLookup for NoAccounts {
    fn find(&self, _: Option<&str>, _: &str) -> Option<FoundAccount> {
        None
    }
}

/// The same file's accounts first (the last declaration is the one applied
/// last), then the rest of the workspace.
pub struct SameFileFirst<'a> {
    pub file: &'a [ServiceAccount],
    pub workspace: &'a dyn AccountLookup,
}

impl AccountLookup for SameFileFirst<'_> {
    fn find(&self, namespace: Option<&str>, name: &str) -> Option<FoundAccount> {
        self.file
            .iter()
            .rev()
            .find(|a| a.name == name && a.namespace.as_deref() == namespace)
            .map(|a| FoundAccount {
                origin: None,
                account: a.clone(),
            })
            .or_else(|| self.workspace.find(namespace, name))
    }
}

type AccountKey = (Option<String>, String);

/// ServiceAccounts of many files, by namespace and name.
#[derive(Clone, Debug, Default)]
pub struct AccountIndex {
    by_key: HashMap<AccountKey, Vec<(String, ServiceAccount)>>,
    keys_by_origin: HashMap<String, Vec<AccountKey>>,
    by_origin: HashMap<String, Vec<ServiceAccount>>,
}

impl AccountIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces what the index knows of `origin` with `accounts`.
    pub fn set(&mut self, origin: &str, accounts: Vec<ServiceAccount>) {
        self.remove(origin);
        if accounts.is_empty() {
            return;
        }
        self.by_origin.insert(origin.to_string(), accounts.clone());
        let mut keys = Vec::with_capacity(accounts.len());
        for account in accounts {
            let key = (account.namespace.clone(), account.name.clone());
            let entries = self.by_key.entry(key.clone()).or_default();
            entries.push((origin.to_string(), account));
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            keys.push(key);
        }
        keys.sort();
        keys.dedup();
        self.keys_by_origin.insert(origin.to_string(), keys);
    }

    pub fn remove(&mut self, origin: &str) {
        self.by_origin.remove(origin);
        let Some(keys) = self.keys_by_origin.remove(origin) else {
            return;
        };
        for key in keys {
            if let Some(entries) = self.by_key.get_mut(&key) {
                entries.retain(|(o, _)| o != origin);
                if entries.is_empty() {
                    self.by_key.remove(&key);
                }
            }
        }
    }

    /// What the index knows of `origin`, as it was given.
    pub fn accounts_of(&self, origin: &str) -> &[ServiceAccount] {
        self.by_origin.get(origin).map_or(&[], Vec::as_slice)
    }

    /// Every declaration, with its file, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ServiceAccount)> {
        self.by_origin
            .iter()
            .flat_map(|(origin, accounts)| accounts.iter().map(move |a| (origin.as_str(), a)))
    }

    pub fn len(&self) -> usize {
        self.by_key.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

impl AccountLookup for AccountIndex {
    /// When several files declare the same account, which one the cluster
    /// ends up with depends on the order they are applied in; a guard must
    /// not bet on it, so any declaration that leaves automounting on wins.
    fn find(&self, namespace: Option<&str>, name: &str) -> Option<FoundAccount> {
        let entries = self
            .by_key
            .get(&(namespace.map(str::to_string), name.to_string()))?;
        let (origin, account) = entries
            .iter()
            .find(|(_, a)| a.automount != AccountAutomount::Disabled)
            .or_else(|| entries.first())?;
        Some(FoundAccount {
            origin: Some(origin.clone()),
            account: account.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn accounts(text: &str) -> Vec<ServiceAccount> {
        parse(text, crate::Options::builtin()).accounts
    }

    #[test]
    fn any_declaration_that_leaves_automounting_on_wins() {
        let off = accounts(
            "kind: ServiceAccount\nmetadata: {name: ci}\nautomountServiceAccountToken: false\n",
        );
        let on = accounts("kind: ServiceAccount\nmetadata: {name: ci}\n");
        let mut index = AccountIndex::new();
        index.set("a.yaml", off.clone());
        assert_eq!(
            index.find(None, "ci").unwrap().account.automount,
            AccountAutomount::Disabled
        );
        index.set("b.yaml", on);
        let found = index.find(None, "ci").unwrap();
        assert_eq!(
            (found.origin.as_deref(), found.account.automount),
            (Some("b.yaml"), AccountAutomount::Default)
        );
        assert!(
            index.find(Some("prod"), "ci").is_none(),
            "an absent namespace matches only an absent one"
        );
        index.remove("b.yaml");
        assert_eq!(
            index.find(None, "ci").unwrap().origin.as_deref(),
            Some("a.yaml")
        );
        assert_eq!(index.accounts_of("a.yaml"), off.as_slice());
        index.set("a.yaml", Vec::new());
        assert!(index.is_empty());
    }

    #[test]
    fn duplicate_declarations_in_one_file_are_kept_once_per_origin() {
        let twice = accounts("kind: ServiceAccount\nmetadata: {name: ci}\n---\nkind: ServiceAccount\nmetadata: {name: ci}\n");
        let mut index = AccountIndex::new();
        index.set("a.yaml", twice.clone());
        assert_eq!(index.accounts_of("a.yaml"), twice.as_slice());
        assert_eq!(index.len(), 2);
        index.remove("a.yaml");
        assert!(index.is_empty());
    }
}
