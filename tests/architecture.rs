//! ARCHITECTURE.md matches the tree.
//!
//! * Every repository path the document names in backticks exists. A
//!   backticked name counts as a path when it has a `/` and starts with a
//!   top-level folder or file of the repository (`crates/lsp/src/server.rs`,
//!   `.ci/e2e/`); `*` stands for any run of characters within one path
//!   segment and must match something.
//! * Every file and folder that a contributor adds as a unit of the design is
//!   named in backticks, by its full path from the repository root (folders
//!   with or without the trailing `/`): see [`RULES`]. Adding a module, a test
//!   suite or a top-level folder without documenting it fails here.
//!
//! The tree is what git tracks or would track (`git ls-files --cached --others
//! --exclude-standard`: a new file counts before it is added); outside a git
//! checkout, the files on disk without `target/`, `.git/` and `node_modules/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const DOCUMENT: &str = "ARCHITECTURE.md";

/// What must be named: a description for the failure message, and whether a
/// path (a file, or a folder ending in `/`) falls under the rule.
type Rule = (&'static str, fn(&str) -> bool);

const RULES: &[Rule] = &[
    ("a top-level folder", |p| {
        p.ends_with('/') && p.matches('/').count() == 1
    }),
    (
        "a Rust source file of a crate (crates/*, outside tests/, benches/, examples/)",
        |p| {
            p.starts_with("crates/")
                && p.ends_with(".rs")
                && !["/tests/", "/benches/", "/examples/"]
                    .iter()
                    .any(|d| p.contains(d))
        },
    ),
    (
        "a test suite, benchmark or example of a crate (crates/*/{tests,benches,examples}/*.rs)",
        |p| {
            let parts: Vec<&str> = p.split('/').collect();
            parts.len() == 4
                && parts[0] == "crates"
                && ["tests", "benches", "examples"].contains(&parts[2])
                && parts[3].ends_with(".rs")
        },
    ),
    ("an integration test (tests/*.rs)", |p| {
        in_folder(p, "tests") && p.ends_with(".rs")
    }),
    ("an end-to-end harness (tests/e2e/*/)", |p| {
        is_subfolder(p, "tests/e2e")
    }),
    ("an end-to-end suite of .ci/run (.ci/e2e/*)", |p| {
        in_folder(p, ".ci/e2e")
    }),
    ("a GitHub workflow (.github/workflows/*)", |p| {
        in_folder(p, ".github/workflows")
    }),
    ("a script (scripts/*)", |p| in_folder(p, "scripts")),
    ("a benchmark tool (bench/*)", |p| in_folder(p, "bench")),
    ("a fuzz target (fuzz/fuzz_targets/*.rs)", |p| {
        in_folder(p, "fuzz/fuzz_targets")
    }),
    ("an editor client (editors/*/)", |p| {
        is_subfolder(p, "editors")
    }),
    ("a distribution channel (packaging/*/)", |p| {
        is_subfolder(p, "packaging")
    }),
];

/// A file directly in `folder`.
fn in_folder(path: &str, folder: &str) -> bool {
    path.strip_prefix(folder)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|name| !name.is_empty() && !name.contains('/'))
}

/// A folder (ending in `/`) directly in `folder`.
fn is_subfolder(path: &str, folder: &str) -> bool {
    path.strip_prefix(folder)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|rest| rest.strip_suffix('/'))
        .is_some_and(|name| !name.is_empty() && !name.contains('/'))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The repository's files, '/'-separated and relative to the root.
fn tracked_files(root: &Path) -> Vec<String> {
    let output = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root)
        .output();
    if let Ok(output) = output {
        if output.status.success() && !output.stdout.is_empty() {
            return String::from_utf8_lossy(&output.stdout)
                .split('\0')
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect();
        }
    }
    eprintln!("git ls-files failed: reading the files on disk instead");
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if ["target", ".git", "node_modules"]
                .iter()
                .any(|s| name == *s)
            {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(root) {
                files.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files
}

/// The files and every folder holding one (folders end in `/`).
fn entries(files: &[String]) -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    for file in files {
        let mut end = 0;
        while let Some(slash) = file[end..].find('/') {
            end += slash + 1;
            all.insert(file[..end].to_string());
        }
        all.insert(file.clone());
    }
    all
}

/// The inline code spans of a Markdown text, with their line numbers;
/// fenced blocks are left out.
fn code_spans(markdown: &str) -> Vec<(usize, String)> {
    let mut prose = String::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            prose.push('\n');
            continue;
        }
        if !fenced {
            prose.push_str(line);
        }
        prose.push('\n');
    }
    let mut spans = Vec::new();
    let mut line = 1;
    for (i, piece) in prose.split('`').enumerate() {
        if i % 2 == 1 {
            // A span that wraps reads as rendered: with a space, so not as a path.
            spans.push((line, piece.split_whitespace().collect::<Vec<_>>().join(" ")));
        }
        line += piece.matches('\n').count();
    }
    spans
}

/// Whether `pattern` (with `*` for any run of characters but `/`) matches
/// `text`.
fn matches(pattern: &str, text: &str) -> bool {
    fn bytes(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'*', rest)) => (0..=t.len())
                .take_while(|&i| i == 0 || t[i - 1] != b'/')
                .any(|i| bytes(rest, &t[i..])),
            Some((c, rest)) => t.first() == Some(c) && bytes(rest, &t[1..]),
        }
    }
    bytes(pattern.as_bytes(), text.as_bytes())
}

/// Everything wrong between the document and the files: an empty list when
/// they agree.
fn problems(document: &str, files: &[String]) -> Vec<String> {
    let entries = entries(files);
    let top_level: BTreeSet<&str> = entries.iter().filter_map(|e| e.split('/').next()).collect();
    let spans = code_spans(document);
    let mut problems = Vec::new();
    let mut named = BTreeSet::new();
    for (line, span) in &spans {
        let looks_like_path = span.contains('/')
            && span
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-/*".contains(c))
            && span
                .split('/')
                .next()
                .is_some_and(|first| top_level.contains(first));
        if !looks_like_path {
            continue;
        }
        let exists = if span.contains('*') {
            entries.iter().any(|e| matches(span, e))
        } else {
            entries.contains(span.as_str()) || entries.contains(&format!("{span}/"))
        };
        if exists {
            named.insert(span.trim_end_matches('/').to_string());
        } else {
            problems.push(format!(
                "{DOCUMENT}:{line} names `{span}`, which is not in the repository: \
                 correct the path or drop the mention"
            ));
        }
    }
    for entry in &entries {
        let Some((rule, _)) = RULES.iter().find(|(_, applies)| applies(entry)) else {
            continue;
        };
        if !named.contains(entry.trim_end_matches('/')) {
            problems.push(format!(
                "`{entry}` ({rule}) is not named in {DOCUMENT}: add it to the code map \
                 with its full path in backticks and a line on what it is for"
            ));
        }
    }
    problems
}

#[test]
fn architecture_document_matches_the_tree() {
    let root = root();
    let document = std::fs::read_to_string(root.join(DOCUMENT))
        .unwrap_or_else(|e| panic!("cannot read {DOCUMENT}: {e}"));
    let files = tracked_files(&root);
    assert!(
        files.iter().any(|f| f == DOCUMENT),
        "{DOCUMENT} is not among the repository's files"
    );
    let problems = problems(&document, &files);
    assert!(
        problems.is_empty(),
        "{DOCUMENT} does not match the tree ({} problem{}):\n  {}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        problems.join("\n  ")
    );
}

#[test]
fn a_missing_path_and_an_unnamed_module_are_reported() {
    let files: Vec<String> = [
        "Cargo.toml",
        "crates/lsp/src/lib.rs",
        "crates/lsp/src/new_module.rs",
        "crates/lsp/tests/protocol.rs",
        "crates/lsp/tests/support/mod.rs",
        ".ci/e2e/10-neovim",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let document = "`crates/` and `.ci/`: `crates/lsp/src/lib.rs`, `crates/lsp/src/gone.rs`,\n\
                    `crates/lsp/tests/*.rs`, `.ci/e2e/10-neovim`, `crates/lsp/tests/protocol.rs`,\n\
                    `kind/namespace/name`, `../shared`, `target/release/x`, `crates/*/nothing`.\n\
                    ```\n`crates/lsp/src/new_module.rs` in a fenced block does not count\n```\n";
    let found = problems(document, &files);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].starts_with("ARCHITECTURE.md:1 names `crates/lsp/src/gone.rs`"));
    assert!(found[1].starts_with("ARCHITECTURE.md:3 names `crates/*/nothing`"));
    assert!(found[2].starts_with("`crates/lsp/src/new_module.rs` (a Rust source file"));
}

#[test]
fn a_star_stays_within_one_segment() {
    assert!(matches("tests/e2e/*/run.sh", "tests/e2e/neovim/run.sh"));
    assert!(!matches("tests/*.rs", "tests/common/mod.rs"));
    assert!(matches("tests/*.rs", "tests/cli.rs"));
    assert!(!matches("tests/*.rs", "tests/cli.rs.bak"));
}
