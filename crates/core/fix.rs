//! `--fix`: what each file becomes, and writing it back safely.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tokenguard_analysis::{apply_edits, fix_all_edits, TextEdit};

use crate::check::CheckedFile;

/// A file whose text the fixes change: a checked file, or a file its
/// findings' fixes edit (a Helm chart's `values.yaml`).
pub struct PlannedFix {
    pub display: String,
    /// `None` for standard input.
    pub path: Option<PathBuf>,
    /// The text as analysed.
    pub original: String,
    pub fixed: String,
    /// How many findings contributed a fix.
    pub fixes: usize,
}

/// The files that fixing would change, in output order (each file's other
/// files right after it). Files without edits are left out, so they are
/// never rewritten.
pub fn plan(files: &[CheckedFile]) -> Vec<PlannedFix> {
    let mut order: Vec<String> = Vec::new();
    let mut targets: HashMap<String, (Option<PathBuf>, String, Vec<TextEdit>, usize)> =
        HashMap::new();
    let mut add =
        |display: &str, path: Option<&Path>, original: &str, edits: Vec<TextEdit>, fixes| {
            let target = targets.entry(display.to_string()).or_insert_with(|| {
                order.push(display.to_string());
                (
                    path.map(Path::to_path_buf),
                    original.to_string(),
                    Vec::new(),
                    0,
                )
            });
            // Two readings of one file that differ: fixing either could undo
            // the other's edits, so only the first one's are applied.
            if target.1 == original {
                target.2.extend(edits);
                target.3 += fixes;
            }
        };
    for file in files {
        let edits = fix_all_edits(&file.findings);
        if !edits.is_empty() {
            let fixes = file
                .findings
                .iter()
                .filter(|f| f.fix.as_ref().is_some_and(|fix| fix.file.is_none()))
                .count();
            add(
                file.display(),
                file.source.path.as_deref(),
                file.text(),
                edits,
                fixes,
            );
        }
        for fix in file.findings.iter().filter_map(|f| f.fix.as_ref()) {
            let Some(other) = fix.file.as_ref().and_then(|id| file.other_files.get(id)) else {
                continue;
            };
            add(
                &other.display,
                Some(&other.path),
                &other.text,
                fix.edits.clone(),
                1,
            );
        }
    }
    order
        .into_iter()
        .filter_map(|display| {
            let (path, original, edits, fixes) = targets.remove(&display)?;
            let fixed = apply_edits(&original, &edits);
            (fixed != original).then_some(PlannedFix {
                display,
                path,
                original,
                fixed,
                fixes,
            })
        })
        .collect()
}

/// Replaces `path`'s content, which was `analysed`, with `fixed`: readers see
/// the old file or the new one, never half of it, and a file changed since it
/// was analysed is not overwritten.
pub fn write_in_place(path: &Path, analysed: &str, fixed: &str) -> Result<(), String> {
    let meta = fs::symlink_metadata(path).map_err(|e| e.to_string())?;
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
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temp =
        TempFile::create(dir, path).map_err(|e| format!("cannot create a temporary file: {e}"))?;
    temp.fill(fixed.as_bytes(), &meta).map_err(|e| {
        format!(
            "cannot write the temporary file {}: {e}",
            temp.path.display()
        )
    })?;
    // Last look before replacing: an editor or another tool may have saved
    // the file while it was analysed.
    let current = fs::read(path).map_err(|e| e.to_string())?;
    if current != analysed.as_bytes() {
        return Err("changed on disk since it was read; not overwriting it".into());
    }
    temp.persist(path)
        .map_err(|e| format!("cannot replace it: {e}"))?;
    sync_directory(dir);
    Ok(())
}

/// A temporary file beside the target, removed unless persisted.
struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

impl TempFile {
    fn create(dir: &Path, target: &Path) -> io::Result<Self> {
        let name = target.file_name().unwrap_or_default();
        let mut last_error = None;
        for attempt in 0..100u32 {
            // Hidden, and ending in `.tmp`, which ignore files usually cover.
            let mut temp_name = OsString::from(".");
            temp_name.push(name);
            temp_name.push(format!(".{}.{attempt}.tokenguard.tmp", std::process::id()));
            let path = dir.join(temp_name);
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            match options.open(&path) {
                Ok(file) => {
                    return Ok(Self {
                        path,
                        file: Some(file),
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("no free temporary name")))
    }

    /// Writes the content with the original's permissions (and owner, where
    /// allowed), and makes it durable before it replaces anything.
    fn fill(&mut self, content: &[u8], original: &fs::Metadata) -> io::Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("temporary file already closed"))?;
        file.write_all(content)?;
        file.set_permissions(original.permissions())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            // Only root may give a file away; anyone else keeps their own.
            let _ = std::os::unix::fs::fchown(&*file, Some(original.uid()), Some(original.gid()));
        }
        file.sync_all()
    }

    fn persist(mut self, target: &Path) -> io::Result<()> {
        self.file = None;
        fs::rename(&self.path, target)?;
        // Renamed: nothing left to clean up.
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        self.file = None;
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
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

    #[test]
    fn replaces_the_content_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.yaml");
        fs::write(&path, "old\n").expect("write");
        write_in_place(&path, "old\n", "new\n").expect("written");
        assert_eq!(fs::read_to_string(&path).expect("read"), "new\n");
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["a.yaml"]);
    }

    #[test]
    fn a_file_changed_since_it_was_analysed_is_not_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.yaml");
        fs::write(&path, "saved by an editor meanwhile\n").expect("write");
        let error = write_in_place(&path, "old\n", "new\n").expect_err("refused");
        assert!(error.contains("changed on disk"), "{error}");
        assert_eq!(
            fs::read_to_string(&path).expect("read"),
            "saved by an editor meanwhile\n"
        );
        assert_eq!(fs::read_dir(dir.path()).expect("list").count(), 1);
    }

    #[test]
    fn a_missing_file_is_an_error_not_a_new_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("gone.yaml");
        assert!(write_in_place(&path, "old\n", "new\n").is_err());
        assert!(!path.exists());
    }
}
