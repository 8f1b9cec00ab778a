//! ServiceAccounts declared on disk under the workspace folders.

use std::path::{Path, PathBuf};

use ropey::Rope;
use tokenguard_analysis::{service_accounts, ServiceAccount};

/// Files bigger than this are not indexed.
pub const MAX_INDEXED_FILE: u64 = 8 * 1024 * 1024;

/// A file on disk that declares ServiceAccounts.
pub struct AccountFile {
    pub path: PathBuf,
    pub rope: Rope,
    pub accounts: Vec<ServiceAccount>,
}

pub fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// Every YAML file under `root`, honouring .gitignore and .ignore, hidden
/// folders included, `.git` excluded, symlinks never followed.
pub fn yaml_files(root: &Path) -> Vec<PathBuf> {
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    let mut files: Vec<PathBuf> = walker
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()) && is_yaml(e.path()))
        .map(ignore::DirEntry::into_path)
        .collect();
    files.sort();
    files
}

/// Reads one file's ServiceAccounts; `None` when it declares none or cannot
/// be read (too big, not UTF-8, gone).
pub fn read_accounts(path: &Path) -> Option<AccountFile> {
    let metadata = std::fs::symlink_metadata(path).ok()?;
    if !metadata.is_file() || metadata.len() > MAX_INDEXED_FILE {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    // Most files have no ServiceAccount: do not parse those.
    if !text.contains("ServiceAccount") {
        return None;
    }
    let accounts = service_accounts(&text);
    (!accounts.is_empty()).then(|| AccountFile {
        path: path.to_path_buf(),
        rope: Rope::from_str(&text),
        accounts,
    })
}
