//! Writing user files safely: through a temporary file beside the target and
//! a rename, so that readers see the old file or the new one, never half of
//! it, and a failure leaves the old file and no stray temporary behind.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Replaces `path`'s content, which was `analysed`, with `new`. A file
/// changed since it was analysed is not overwritten; nor is a link, a
/// special file or a read-only file (on Windows a read-only file cannot be
/// replaced at all; everywhere, read-only says "do not change me").
pub fn replace(path: &Path, analysed: &[u8], new: &[u8]) -> Result<(), String> {
    let meta = fs::symlink_metadata(path).map_err(|e| describe(&e))?;
    if meta.file_type().is_symlink() {
        // Renaming over a link would replace the link, and writing through it
        // could change a file outside the tree being checked.
        return Err(
            "is a symbolic link; --fix does not write through links (fix its target instead)"
                .into(),
        );
    }
    if !meta.is_file() {
        return Err("is not a regular file; --fix cannot rewrite it".into());
    }
    if meta.permissions().readonly() {
        return Err("is read-only; not changed (make it writable to fix it)".into());
    }
    let dir = parent_of(path);
    let mut temp = TempFile::create(dir, path)
        .map_err(|e| format!("cannot create a temporary file: {}", describe(&e)))?;
    temp.fill(new, Some(&meta)).map_err(|e| {
        format!(
            "cannot write the temporary file {}: {}",
            temp.path().display(),
            describe(&e)
        )
    })?;
    // Last look before replacing: an editor or another tool may have saved
    // the file while it was analysed.
    let current = fs::read(path).map_err(|e| describe(&e))?;
    if current != analysed {
        return Err("changed on disk since it was read; not overwriting it".into());
    }
    temp.persist(path)
        .map_err(|e| format!("cannot replace it: {}", describe(&e)))?;
    sync_directory(dir);
    Ok(())
}

/// Writes `content` to `path`, creating it or replacing what is there
/// (generated files such as manual pages).
pub fn write(path: &Path, content: &[u8]) -> Result<(), String> {
    let existing = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => return Err("is a folder".into()),
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(describe(&e)),
    };
    let dir = parent_of(path);
    let mut temp = TempFile::create(dir, path)
        .map_err(|e| format!("cannot create a temporary file: {}", describe(&e)))?;
    let keep = existing.filter(|meta| meta.is_file() && !meta.permissions().readonly());
    temp.fill(content, keep.as_ref())
        .map_err(|e| format!("cannot write: {}", describe(&e)))?;
    temp.persist(path)
        .map_err(|e| format!("cannot replace it: {}", describe(&e)))?;
    sync_directory(dir);
    Ok(())
}

/// An I/O error in words, without the operating system's error number:
/// "no such file or directory", "permission denied".
pub fn describe(error: &io::Error) -> String {
    #[cfg(windows)]
    {
        // What a rename over a file another program holds open gives.
        const ERROR_SHARING_VIOLATION: i32 = 32;
        if error.raw_os_error() == Some(ERROR_SHARING_VIOLATION) {
            return "it is open in another program (close it there, then run again)".into();
        }
    }
    match error.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::IsADirectory => "is a folder".into(),
        io::ErrorKind::NotADirectory => "a part of the path is not a folder".into(),
        _ => without_os_error(&error.to_string()),
    }
}

/// `Disk quota exceeded (os error 122)` becomes `disk quota exceeded`.
fn without_os_error(message: &str) -> String {
    let text = match message.rfind(" (os error ") {
        Some(at) if message.ends_with(')') => &message[..at],
        _ => message,
    };
    let mut chars = text.chars();
    match chars.next() {
        // Lower-case the first letter of a sentence, not of an acronym.
        Some(first) if !chars.clone().next().is_some_and(char::is_uppercase) => {
            first.to_lowercase().chain(chars).collect()
        }
        _ => text.to_string(),
    }
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// A temporary file beside the target (so that the rename stays within one
/// file system), hidden and ending in `.tmp`, which ignore files usually
/// cover; `tempfile` creates it owner-only and removes it unless persisted.
struct TempFile {
    file: tempfile::NamedTempFile,
}

impl TempFile {
    fn create(dir: &Path, target: &Path) -> io::Result<Self> {
        let mut prefix = OsString::from(".");
        prefix.push(target.file_name().unwrap_or_default());
        prefix.push(".");
        let file = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".tokenguard.tmp")
            .tempfile_in(dir)?;
        Ok(Self { file })
    }

    fn path(&self) -> &Path {
        self.file.path()
    }

    /// Writes the content with the original's permissions (and owner, where
    /// allowed), and makes it durable before it replaces anything.
    fn fill(&mut self, content: &[u8], original: Option<&fs::Metadata>) -> io::Result<()> {
        let file = self.file.as_file_mut();
        file.write_all(content)?;
        match original {
            // Never read-only: the callers refuse read-only targets, and a
            // read-only temporary could be neither renamed over the target
            // nor removed on Windows.
            Some(original) => {
                file.set_permissions(original.permissions())?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::MetadataExt;
                    // Only root may give a file away; anyone else keeps their own.
                    let _ = std::os::unix::fs::fchown(
                        &*file,
                        Some(original.uid()),
                        Some(original.gid()),
                    );
                }
            }
            None => {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    // A generated file (a manual page) is for everyone to read.
                    file.set_permissions(fs::Permissions::from_mode(0o644))?;
                }
            }
        }
        file.sync_all()
    }

    fn persist(self, target: &Path) -> io::Result<()> {
        self.file.persist(target).map(drop).map_err(|e| e.error)
    }
}

/// Makes the rename itself durable; best effort, as not every platform or
/// file system lets a directory be synced.
fn sync_directory(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(dir: &Path) -> Vec<OsString> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_the_content_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.yaml");
        fs::write(&path, "old\n").expect("write");
        replace(&path, b"old\n", b"new\n").expect("written");
        assert_eq!(fs::read_to_string(&path).expect("read"), "new\n");
        assert_eq!(names_in(dir.path()), ["a.yaml"]);
    }

    #[test]
    fn a_file_changed_since_it_was_analysed_is_not_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.yaml");
        fs::write(&path, "saved by an editor meanwhile\n").expect("write");
        let error = replace(&path, b"old\n", b"new\n").expect_err("refused");
        assert!(error.contains("changed on disk"), "{error}");
        assert_eq!(
            fs::read_to_string(&path).expect("read"),
            "saved by an editor meanwhile\n"
        );
        assert_eq!(names_in(dir.path()), ["a.yaml"]);
    }

    #[test]
    fn a_missing_file_is_an_error_in_words_not_a_new_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("gone.yaml");
        let error = replace(&path, b"old\n", b"new\n").expect_err("refused");
        assert_eq!(error, "no such file or directory");
        assert!(!path.exists());
    }

    #[test]
    fn a_read_only_file_is_left_alone_with_a_reason() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.yaml");
        fs::write(&path, "old\n").expect("write");
        let mut permissions = fs::metadata(&path).expect("meta").permissions();
        permissions.set_readonly(true);
        fs::set_permissions(&path, permissions).expect("read-only");
        let error = replace(&path, b"old\n", b"new\n").expect_err("refused");
        assert!(error.contains("read-only"), "{error}");
        assert_eq!(fs::read_to_string(&path).expect("read"), "old\n");
        assert_eq!(names_in(dir.path()), ["a.yaml"]);
    }

    #[test]
    fn write_creates_a_file_and_replaces_it_whole() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("tokenguard.1");
        write(&path, b"first").expect("created");
        write(&path, b"second").expect("replaced");
        assert_eq!(fs::read(&path).expect("read"), b"second");
        assert_eq!(names_in(dir.path()), ["tokenguard.1"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
    }

    #[test]
    fn io_errors_are_words_without_error_numbers() {
        let missing = io::Error::from(io::ErrorKind::NotFound);
        assert_eq!(describe(&missing), "no such file or directory");
        assert_eq!(
            without_os_error("Disk quota exceeded (os error 122)"),
            "disk quota exceeded"
        );
        assert_eq!(without_os_error("EOF while parsing"), "EOF while parsing");
    }
}
