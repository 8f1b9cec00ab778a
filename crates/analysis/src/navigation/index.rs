//! The account uses of many files, kept per origin file like the
//! [`crate::AccountIndex`].

use std::collections::HashMap;

use super::uses::AccountUse;

/// Account uses by the file (as the caller names files) that holds them.
#[derive(Clone, Debug, Default)]
pub struct UseIndex {
    by_origin: HashMap<String, Vec<AccountUse>>,
}

impl UseIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces what the index knows of `origin` with `uses`.
    pub fn set(&mut self, origin: &str, uses: Vec<AccountUse>) {
        if uses.is_empty() {
            self.by_origin.remove(origin);
        } else {
            self.by_origin.insert(origin.to_string(), uses);
        }
    }

    pub fn remove(&mut self, origin: &str) {
        self.by_origin.remove(origin);
    }

    /// What the index knows of `origin`.
    pub fn uses_of(&self, origin: &str) -> &[AccountUse] {
        self.by_origin.get(origin).map_or(&[], Vec::as_slice)
    }

    /// Every use, with its file, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &AccountUse)> {
        self.by_origin
            .iter()
            .flat_map(|(origin, uses)| uses.iter().map(move |u| (origin.as_str(), u)))
    }

    pub fn is_empty(&self) -> bool {
        self.by_origin.is_empty()
    }
}
