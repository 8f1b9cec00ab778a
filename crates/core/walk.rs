//! Which files a run checks: the paths named on the command line, and the
//! YAML files found under the directories among them.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};
use tokenguard_analysis::files::is_skipped_folder;
pub use tokenguard_analysis::files::is_yaml;

use crate::atomic::describe;
use crate::errors::ErrorLog;

/// How standard input is named in output and in the ServiceAccount index.
pub const STDIN_DISPLAY: &str = "<stdin>";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File {
        path: PathBuf,
        display: String,
        /// Named on the command line rather than found by the walk: such a
        /// file is checked whatever its extension, and being too big is an
        /// error rather than a reason to skip it.
        explicit: bool,
    },
}

impl Input {
    /// How the input is named in output and in the ServiceAccount index.
    pub fn display(&self) -> &str {
        match self {
            Input::Stdin => STDIN_DISPLAY,
            Input::File { display, .. } => display,
        }
    }
}

/// The inputs for `paths`, each file once, in command-line then walk order.
pub fn collect_inputs(paths: &[PathBuf], errors: &mut ErrorLog) -> Vec<Input> {
    let mut inputs = Vec::new();
    let mut seen = HashSet::new();
    // One path cannot reach a file twice (the walk follows no links, and
    // lists each file once): only several are compared, by canonical path.
    let single = paths.len() == 1;
    let mut add = |input: Input, inputs: &mut Vec<Input>| {
        if single {
            inputs.push(input);
            return;
        }
        // The same file reached twice (`check a.yaml .`) is checked once.
        let identity = match &input {
            Input::Stdin => PathBuf::from("-"),
            Input::File { path, .. } => fs::canonicalize(path).unwrap_or_else(|_| path.clone()),
        };
        if seen.insert(identity) {
            inputs.push(input);
        }
    };
    for path in paths {
        if path.as_os_str() == "-" {
            add(Input::Stdin, &mut inputs);
            continue;
        }
        match fs::metadata(path) {
            Err(e) => errors.error(format_args!("{}: {}", display_path(path), describe(&e))),
            Ok(meta) if meta.is_dir() => {
                for file in walk_directory(path, errors) {
                    add(file, &mut inputs);
                }
            }
            // Helm's helpers and notes are Go templates, not YAML (the walk
            // never picks them: they are not *.yaml).
            Ok(_) if is_helm_helper(path) => errors.warning(format_args!(
                "{}: a Helm helper or notes file, not YAML; skipped",
                path.display()
            )),
            Ok(_) => add(
                Input::File {
                    display: display_path(path),
                    path: path.clone(),
                    explicit: true,
                },
                &mut inputs,
            ),
        }
    }
    inputs
}

/// The YAML files under `dir`, in the order of a walk sorted by file name
/// (each folder's entries by name, a folder's files right after it).
///
/// The folders are read on all cores, then the paths sorted: `Path`'s order
/// compares component by component, which is that walk's order. A walk
/// that meets anything to say (an unreadable folder, a bad `.gitignore`
/// line) is done again in order, so the messages come in walk order too.
fn walk_directory(dir: &Path, errors: &mut ErrorLog) -> Vec<Input> {
    match walk_parallel(dir) {
        Some(mut paths) => {
            paths.sort_unstable();
            paths
                .into_iter()
                .map(|path| Input::File {
                    display: display_path(&path),
                    path,
                    explicit: false,
                })
                .collect()
        }
        None => walk_sorted(dir, errors),
    }
}

fn walker(dir: &Path) -> WalkBuilder {
    let mut builder = WalkBuilder::new(dir);
    builder
        // Rendered manifests often live in dot-folders (`.rendered/`).
        .hidden(false)
        // A checkout without `.git` (a CI artifact, a tarball) still means
        // its .gitignore.
        .require_git(false)
        // A symlink can lead out of the tree, or be fixed through.
        .follow_links(false)
        .filter_entry(|entry| !is_skipped_folder(entry.file_name()));
    builder
}

/// The YAML files under `dir` in no order, `None` when the walk met an
/// error or a warning.
fn walk_parallel(dir: &Path) -> Option<Vec<PathBuf>> {
    let found = Mutex::new(Vec::new());
    let clean = AtomicBool::new(true);
    walker(dir).build_parallel().run(|| {
        let (found, clean) = (&found, &clean);
        Box::new(move |result| match result {
            Ok(entry) => {
                let is_file = entry.file_type().is_some_and(|t| t.is_file());
                if is_file && is_yaml(entry.path()) {
                    let mut found = found.lock().unwrap_or_else(|p| p.into_inner());
                    found.push(entry.into_path());
                }
                WalkState::Continue
            }
            Err(_) => {
                clean.store(false, Ordering::Relaxed);
                WalkState::Quit
            }
        })
    });
    if !clean.load(Ordering::Relaxed) {
        return None;
    }
    Some(found.into_inner().unwrap_or_else(|p| p.into_inner()))
}

fn walk_sorted(dir: &Path, errors: &mut ErrorLog) -> Vec<Input> {
    let mut builder = walker(dir);
    builder.sort_by_file_name(|a, b| a.cmp(b));
    let mut files = Vec::new();
    for result in builder.build() {
        match result {
            Ok(entry) => {
                let is_file = entry.file_type().is_some_and(|t| t.is_file());
                if is_file && is_yaml(entry.path()) {
                    files.push(Input::File {
                        display: display_path(entry.path()),
                        path: entry.into_path(),
                        explicit: false,
                    });
                }
            }
            // Unreadable directories are real errors; a bad line in a
            // .gitignore is the user's business, as for git itself.
            Err(e) if e.io_error().is_some() => errors.error(e),
            Err(e) => errors.warning(e),
        }
    }
    files
}

fn is_helm_helper(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(tokenguard_analysis::helm::is_helper_file)
}

/// The path as the user would write it: `./k8s/a.yaml` becomes `k8s/a.yaml`.
/// Output uses `/` on every platform, so reports, SARIF and snapshots read
/// the same on Windows as elsewhere (Windows accepts `/` in paths too).
pub fn display_path(path: &Path) -> String {
    let shown = match path.strip_prefix(".") {
        Ok(rest) if !rest.as_os_str().is_empty() => rest.display().to_string(),
        _ => path.display().to_string(),
    };
    forward_slashes(shown, cfg!(windows))
}

/// `k8s\a.yaml` as `k8s/a.yaml` where `\` separates folders (`windows`);
/// elsewhere `\` is an ordinary character of a file name and stays.
fn forward_slashes(path: String, windows: bool) -> String {
    if windows {
        path.replace('\\', "/")
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_path_drops_leading_current_dir() {
        assert_eq!(display_path(Path::new("./k8s/a.yaml")), "k8s/a.yaml");
        assert_eq!(display_path(Path::new("k8s/a.yaml")), "k8s/a.yaml");
        assert_eq!(display_path(Path::new("/abs/a.yaml")), "/abs/a.yaml");
        assert_eq!(display_path(Path::new(".")), ".");
    }

    #[test]
    fn the_parallel_walk_keeps_the_sorted_walks_order() {
        let root = std::env::temp_dir().join(format!("tg-walk-order-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        // Names where a whole-path string order and the walk's order
        // differ (`a-c/` sorts before `a/` byte by byte, after it by name).
        for file in [
            "a/b.yaml",
            "a/z/y.yml",
            "a-c/x.yaml",
            "a.yaml",
            "B/c.yaml",
            "b.yaml",
            "a/.hidden/h.yaml",
            "a/notes.txt",
            "a/node_modules/n.yaml",
        ] {
            let path = root.join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, "a: 1\n").unwrap();
        }
        let mut errors = ErrorLog::default();
        let parallel = walk_directory(&root, &mut errors);
        let sorted = walk_sorted(&root, &mut errors);
        let _ = fs::remove_dir_all(&root);
        assert_eq!(parallel.len(), 7);
        assert_eq!(parallel, sorted);
    }

    #[test]
    fn windows_paths_are_shown_with_forward_slashes() {
        let shown = |p: &str| forward_slashes(p.to_string(), true);
        assert_eq!(shown(r"k8s\apps\a.yaml"), "k8s/apps/a.yaml");
        assert_eq!(shown(r"C:\repo\k8s\a.yaml"), "C:/repo/k8s/a.yaml");
        assert_eq!(shown(r"\\server\share\a.yaml"), "//server/share/a.yaml");
        // A backslash in a Linux file name is part of the name.
        assert_eq!(
            forward_slashes(r"odd\name.yaml".into(), false),
            r"odd\name.yaml"
        );
    }
}
