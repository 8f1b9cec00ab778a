//! The workspace folders on disk: their YAML files (`yaml_files`) and the
//! one disk reader of the server (`read_within`).
//!
//! Only files inside the folders are read: symbolic links are never followed
//! (a link loop or a link out of the tree is simply not entered), `.git` and
//! `node_modules` are not searched, and a file that cannot be read (gone,
//! unreadable, not UTF-8, too big) is logged and skipped.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Component, Path, PathBuf};

use tokenguard_analysis::kustomize::is_kustomization_file;
use tracing::{debug, info, warn};

/// Files bigger than this are not indexed.
pub const MAX_INDEXED_FILE: u64 = 8 * 1024 * 1024;

pub use tokenguard_analysis::files::{is_skipped_folder, is_yaml};

/// Every YAML file under `root`, honouring .gitignore and .ignore, hidden
/// folders included, `.git` and `node_modules` excluded, symlinks never
/// followed. Folders that cannot be listed are logged and skipped.
pub fn yaml_files(root: &Path) -> Vec<PathBuf> {
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|e| !is_skipped_folder(e.file_name()))
        .build();
    let mut files = Vec::new();
    for entry in walker {
        match entry {
            // Kustomize: `Kustomization` has no extension.
            Ok(e)
                if e.file_type().is_some_and(|t| t.is_file())
                    && (is_yaml(e.path())
                        || is_kustomization_file(&e.path().to_string_lossy())) =>
            {
                files.push(e.into_path())
            }
            Ok(_) => {}
            Err(error) => warn!("workspace index: {error}; skipped"),
        }
    }
    files.sort();
    files
}

/// Whether `path` lies inside one of `roots` without passing through a
/// symbolic link on the way down from the root (the root itself may be
/// reached through links), nor through a folder the index skips. Only such
/// files are ever read from disk. Names compare as the platform's file
/// system does (see `identity::strip_root`).
pub fn within(roots: &[PathBuf], path: &Path) -> bool {
    if path
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return false;
    }
    roots.iter().any(|root| {
        let Some(below) = crate::identity::strip_root(root, path) else {
            return false;
        };
        let mut at = root.clone();
        below.components().all(|c| {
            if is_skipped_folder(c.as_os_str()) {
                return false;
            }
            at.push(c);
            std::fs::symlink_metadata(&at).is_ok_and(|m| !m.file_type().is_symlink())
        })
    })
}

/// **The one way the server reads a file from disk**: the text of `path`
/// when it is [`within`] the workspace folders `roots` (no link on the way,
/// no skipped folder) and a regular UTF-8 file of at most
/// [`MAX_INDEXED_FILE`] bytes; `None` otherwise (logged).
pub fn read_within(roots: &[PathBuf], path: &Path) -> Option<String> {
    if !within(roots, path) {
        debug!(
            "{}: not inside a workspace folder; not read",
            path.display()
        );
        return None;
    }
    read_text(path)
}

/// The text of a regular file (not a link) of at most [`MAX_INDEXED_FILE`]
/// bytes.
fn read_text(path: &Path) -> Option<String> {
    let shown = path.display();
    let skip = |error: std::io::Error| {
        // A file deleted between the listing and the read is no news.
        if error.kind() == ErrorKind::NotFound {
            debug!("{shown}: gone before it could be read");
        } else {
            warn!("{shown}: cannot be read ({error}); skipped");
        }
    };
    let before = std::fs::symlink_metadata(path).map_err(skip).ok()?;
    if !before.is_file() {
        debug!("{shown}: not a regular file; skipped");
        return None;
    }
    if before.len() > MAX_INDEXED_FILE {
        info!(
            "{shown}: {} bytes, over the index limit of {MAX_INDEXED_FILE}; skipped",
            before.len()
        );
        return None;
    }
    let file = File::open(path).map_err(skip).ok()?;
    // The path may have been replaced by a link between the two looks.
    if !same_file(&before, &file.metadata().map_err(skip).ok()?) {
        warn!("{shown}: replaced while being read; skipped");
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_INDEXED_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(skip)
        .ok()?;
    if bytes.len() as u64 > MAX_INDEXED_FILE {
        info!("{shown}: grew over the index limit of {MAX_INDEXED_FILE} bytes; skipped");
        return None;
    }
    match String::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(_) => {
            warn!("{shown}: not valid UTF-8; skipped");
            None
        }
    }
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    b.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const ACCOUNT: &str =
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: builder\nautomountServiceAccountToken: false\n";

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// What the index reads of a file it listed.
    fn read_accounts(path: &Path) -> Option<Vec<tokenguard_analysis::ServiceAccount>> {
        let accounts = tokenguard_analysis::service_accounts(&read_text(path)?);
        (!accounts.is_empty()).then_some(accounts)
    }

    fn relative(root: &Path, files: Vec<PathBuf>) -> Vec<String> {
        files
            .iter()
            .map(|f| f.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn git_and_node_modules_are_not_searched() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join("k8s/sa.yaml"), ACCOUNT);
        write(&root.join(".git/sa.yaml"), ACCOUNT);
        write(&root.join("node_modules/pkg/sa.yaml"), ACCOUNT);
        write(&root.join("web/node_modules/pkg/sa.yml"), ACCOUNT);
        write(&root.join(".hidden/sa.yaml"), ACCOUNT);
        assert_eq!(
            relative(root, yaml_files(root)),
            [".hidden/sa.yaml", "k8s/sa.yaml"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_not_followed_out_of_the_tree_nor_round_a_loop() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        write(&root.join("k8s/sa.yaml"), ACCOUNT);
        write(&outside.path().join("secret/sa.yaml"), ACCOUNT);
        symlink(outside.path().join("secret"), root.join("linked-dir")).unwrap();
        symlink(
            outside.path().join("secret/sa.yaml"),
            root.join("linked.yaml"),
        )
        .unwrap();
        symlink(&root, root.join("k8s/loop")).unwrap();
        symlink(root.join("k8s"), root.join("k8s/self")).unwrap();
        assert_eq!(relative(&root, yaml_files(&root)), ["k8s/sa.yaml"]);

        // Paths named by the editor (watched-file events, closed documents)
        // are read only when they are inside without a link on the way.
        let roots = [root.clone()];
        assert!(within(&roots, &root.join("k8s/sa.yaml")));
        assert!(
            !within(&roots, &root.join("k8s/missing.yaml")),
            "nothing to read"
        );
        assert!(!within(&roots, &root.join("linked-dir/sa.yaml")));
        assert!(!within(&roots, &root.join("linked.yaml")));
        assert!(!within(&roots, &root.join("k8s/loop/k8s/sa.yaml")));
        assert!(!within(&roots, &root.join("k8s/../k8s/sa.yaml")));
        assert!(!within(&roots, &outside.path().join("secret/sa.yaml")));
        write(&root.join("node_modules/x/sa.yaml"), ACCOUNT);
        assert!(!within(&roots, &root.join("node_modules/x/sa.yaml")));
        assert!(read_accounts(&root.join("linked.yaml")).is_none());
        // The one reader asks `within` first.
        assert!(read_within(&roots, &root.join("k8s/sa.yaml")).is_some());
        for refused in [
            root.join("linked.yaml"),
            root.join("linked-dir/sa.yaml"),
            root.join("node_modules/x/sa.yaml"),
            outside.path().join("secret/sa.yaml"),
        ] {
            assert!(
                read_within(&roots, &refused).is_none(),
                "{}",
                refused.display()
            );
        }
    }

    #[test]
    fn a_file_that_cannot_be_read_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // Deleted between the listing and the read.
        assert!(read_accounts(&root.join("gone.yaml")).is_none());
        // Not UTF-8.
        fs::write(
            root.join("latin1.yaml"),
            b"kind: ServiceAccount\n# caf\xe9\n",
        )
        .unwrap();
        assert!(read_accounts(&root.join("latin1.yaml")).is_none());
        // A folder with a YAML name.
        fs::create_dir(root.join("folder.yaml")).unwrap();
        assert!(read_accounts(&root.join("folder.yaml")).is_none());
        // Too big.
        let big = format!("{ACCOUNT}#{}\n", "x".repeat(MAX_INDEXED_FILE as usize));
        fs::write(root.join("big.yaml"), big).unwrap();
        assert!(read_accounts(&root.join("big.yaml")).is_none());
        // And the readable one is read.
        write(&root.join("sa.yaml"), ACCOUNT);
        let file = read_accounts(&root.join("sa.yaml")).expect("read");
        assert_eq!(file[0].name, "builder");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_without_read_permission_is_skipped() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sa.yaml");
        write(&path, ACCOUNT);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
        let readable_anyway = fs::read(&path).is_ok(); // root reads anything
        assert_eq!(read_accounts(&path).is_some(), readable_anyway);
    }
}
