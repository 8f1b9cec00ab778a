//! The editor and the command line agree on the corpus: a language server
//! (the real binary, `tokenguard server --stdio`) whose workspace folder is
//! `../shared/corpus` publishes, for every YAML file of the corpus opened in
//! it, the findings (code, range, message) that
//! `tokenguard check ../shared/corpus --format json` reports for that file.
//!
//! A second test does the same on `tests/cli_server_agreement/cases`, small
//! files that show disagreements the corpus does not hold.
//!
//! Today the two pipelines disagree on some files. Those differences are
//! listed, file by file (as the CLI names it) and finding by finding, in
//! `tests/cli_server_agreement/known_differences.json`, each with a category
//! that says why. The test fails on a difference the list does not hold, on
//! a listed difference that changed, and on a listed one that no longer
//! occurs (so the list stays exact and shrinks as issue 12 unifies the
//! pipelines). It prints a summary: files compared, agreeing, and known
//! differences by category.
//!
//! Positions: the server is asked for UTF-8 positions (`general.
//! positionEncodings`), 0-based lines and byte columns; the JSON output has
//! 1-based lines and columns counted in characters, ends exclusive. Server
//! ranges are converted to the JSON form here (lines end at LF, CRLF or a
//! lone CR, as in LSP), so both sides are shown as `line:column`.
//!
//! Not compared: severity, related information (the ServiceAccount's
//! location), fixes and code actions, hovers.
//!
//! Settings: the server runs with its defaults (no `initializationOptions`,
//! no `workspace/configuration`). They differ from the command line's in
//! one way that could matter: the size limit (the server skips documents
//! over 32 MiB, the CLI files over 64 MiB, and the server indexes the
//! ServiceAccounts of files up to 8 MiB; the largest corpus file has 2 MB).
//!
//! To rewrite the list after an intended change (existing entries keep their
//! category and reason; new ones get the category `unclassified`, which the
//! test refuses until someone classifies them):
//!
//! ```text
//! TOKENGUARD_UPDATE_AGREEMENT=1 cargo test --test cli_server_agreement
//! ```
//!
//! Each file is opened alone (a batch of one) and closed once its
//! diagnostics have arrived, after the workspace index has finished: what
//! is compared is the editor's usual view, one open file and the rest of the
//! workspace on disk. With many files open at once the server's answer
//! depends on which others are open (see the category `account-index-scope`)
//! and the run is ten times slower (9 minutes for batches of 64 against 45
//! seconds, debug build, on a loaded 2-core machine).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokenguard_lsp_test_client::{file_uri, line_starts, TestClient};

/// The list of known differences, relative to the repository root.
const KNOWN: &str = "tests/cli_server_agreement/known_differences.json";
/// Set to `1` to rewrite the list from what the pipelines do now.
const UPDATE: &str = "TOKENGUARD_UPDATE_AGREEMENT";
/// The corpus as the command line names it (and as its output prints it).
const CORPUS_ARG: &str = "../shared/corpus";
/// Small cases of known disagreements, beside the list.
const CASES_ARG: &str = "tests/cli_server_agreement/cases";
/// Files opened at once.
const BATCH: usize = 1;
/// The longest any one wait (the index, a batch's diagnostics) may take.
const TIMEOUT: Duration = Duration::from_secs(300);
/// The category of a new entry written by the update mode.
const UNCLASSIFIED: &str = "unclassified";

// ---------------------------------------------------------------------------
// Positions
// ---------------------------------------------------------------------------

/// An LSP position in UTF-8 (0-based line, byte in the line) as the JSON
/// output writes it (`line:column`, 1-based, the column in characters).
/// A position the text does not have is shown as such (`?`), so that it
/// cannot match.
fn json_position(text: &str, starts: &[usize], line: u64, byte: u64) -> String {
    let Some(&start) = usize::try_from(line).ok().and_then(|l| starts.get(l)) else {
        return format!("{}:?byte{byte}", line + 1);
    };
    let offset = start + byte as usize;
    match text.get(start..offset) {
        Some(before) => format!("{}:{}", line + 1, before.chars().count() + 1),
        None => format!("{}:?byte{byte}", line + 1),
    }
}

// ---------------------------------------------------------------------------
// Findings, as both pipelines report them
// ---------------------------------------------------------------------------

/// One finding, rendered the same way from either side:
/// `CODE line:column-end_line:end_column message`.
fn rendered(code: &str, start: &str, end: &str, message: &str) -> String {
    format!("{code} {start}-{end} {message}")
}

/// The CLI's findings per file (as it names them) for
/// `tokenguard check <cli_arg> --format json`, run from `root`.
fn cli_findings(root: &Path, cli_arg: &str) -> (BTreeMap<String, Vec<String>>, Duration) {
    let started = Instant::now();
    let output = common::tokenguard(root, &["check", cli_arg, "--format", "json"]);
    let took = started.elapsed();
    let findings: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "the CLI's JSON output does not parse: {e}\nstderr:\n{}",
            common::stderr(&output)
        )
    });
    let prefix = format!("{cli_arg}/");
    let mut by_file: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &findings {
        let file = f["file"].as_str().expect("a file");
        assert!(file.starts_with(&prefix), "{file} is not under {prefix}");
        let n = |key: &str| f[key].as_u64().unwrap_or_else(|| panic!("{key} in {f}"));
        by_file.entry(file.to_string()).or_default().push(rendered(
            f["code"].as_str().expect("a code"),
            &format!("{}:{}", n("line"), n("column")),
            &format!("{}:{}", n("end_line"), n("end_column")),
            f["message"].as_str().expect("a message"),
        ));
    }
    (by_file, took)
}

/// A published diagnostic, rendered as the CLI renders a finding.
fn server_finding(text: &str, starts: &[usize], d: &Value) -> String {
    let position = |p: &Value| {
        json_position(
            text,
            starts,
            p["line"].as_u64().expect("a line"),
            p["character"].as_u64().expect("a character"),
        )
    };
    let code = match &d["code"] {
        Value::String(s) => s.clone(),
        Value::Null => "(no code)".to_string(),
        other => other.to_string(),
    };
    rendered(
        &code,
        &position(&d["range"]["start"]),
        &position(&d["range"]["end"]),
        d["message"].as_str().expect("a message"),
    )
}

// ---------------------------------------------------------------------------
// The server, through the test client over the child's standard input and
// output
// ---------------------------------------------------------------------------

/// The server's findings per file for `files` (each the path the CLI
/// shows, the file's path, its text) in a session whose workspace folder is
/// `workspace`, with the time the index and the files took.
fn server_findings(
    root: &Path,
    workspace: &Path,
    files: &[(String, PathBuf, String)],
) -> (BTreeMap<String, Vec<String>>, Duration, Duration) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(server_session(root, workspace, files))
}

async fn server_session(
    root: &Path,
    workspace: &Path,
    files: &[(String, PathBuf, String)],
) -> (BTreeMap<String, Vec<String>>, Duration, Duration) {
    let started = Instant::now();
    let mut command = Command::new(env!("CARGO_BIN_EXE_tokenguard"));
    command.args(["server", "--stdio"]).current_dir(root);
    let mut server = TestClient::spawn(command);
    server.timeout = TIMEOUT;
    let capabilities = json!({
        "general": {"positionEncodings": ["utf-8"]},
        "window": {"workDoneProgress": true},
    });
    let result = server
        .initialize_in(workspace, capabilities, Value::Null)
        .await;
    assert_eq!(
        result["capabilities"]["positionEncoding"], "utf-8",
        "the server did not take UTF-8 positions: {result}"
    );
    server
        .wait_message("$/progress", |m| m["params"]["value"]["kind"] == "end")
        .await;
    let indexed = started.elapsed();

    let started = Instant::now();
    let mut published = BTreeMap::new();
    for batch in files.chunks(BATCH) {
        let uris: Vec<String> = batch.iter().map(|(_, path, _)| file_uri(path)).collect();
        for ((_, _, text), uri) in batch.iter().zip(&uris) {
            server.open(uri, text).await;
        }
        for ((rel, _, text), uri) in batch.iter().zip(&uris) {
            let diagnostics = server.wait_diagnostics(uri, 1).await;
            let starts = line_starts(text);
            let findings = diagnostics
                .iter()
                .map(|d| server_finding(text, &starts, d))
                .collect::<Vec<_>>();
            published.insert(rel.clone(), findings);
        }
        for uri in &uris {
            server.close(uri).await;
        }
    }
    let opened = started.elapsed();
    // Ends the session as an editor does and waits for the process.
    let exit = server.shutdown_and_exit().await;
    assert!(exit.clean(), "the server exited with {exit:?}");
    (published, indexed, opened)
}

// ---------------------------------------------------------------------------
// The list of known differences
// ---------------------------------------------------------------------------

/// How one file's findings differ: what only the CLI reports, what only
/// the server publishes (both sorted).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Difference {
    cli_only: Vec<String>,
    server_only: Vec<String>,
}

fn difference(cli: &[String], server: &[String]) -> Option<Difference> {
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for f in cli {
        *counts.entry(f).or_insert(0) += 1;
    }
    for f in server {
        *counts.entry(f).or_insert(0) -= 1;
    }
    let mut diff = Difference {
        cli_only: Vec::new(),
        server_only: Vec::new(),
    };
    for (finding, count) in counts {
        for _ in 0..count.abs() {
            if count > 0 {
                diff.cli_only.push(finding.to_string());
            } else {
                diff.server_only.push(finding.to_string());
            }
        }
    }
    (!diff.cli_only.is_empty() || !diff.server_only.is_empty()).then_some(diff)
}

struct Known {
    /// The whole document, rewritten in place by the update mode.
    document: Value,
    categories: BTreeMap<String, String>,
    /// By file: category and difference.
    entries: BTreeMap<String, (String, Difference)>,
}

fn strings(value: &Value, what: &str) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("{KNOWN}: {what} is not a list"))
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap_or_else(|| panic!("{KNOWN}: {what} holds {s}"))
                .to_string()
        })
        .collect()
}

fn load_known(path: &Path) -> Known {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let document: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{KNOWN} does not parse: {e}"));
    let categories = document["categories"]
        .as_object()
        .unwrap_or_else(|| panic!("{KNOWN}: no `categories` object"))
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let mut entries = BTreeMap::new();
    for entry in document["differences"]
        .as_array()
        .unwrap_or_else(|| panic!("{KNOWN}: no `differences` list"))
    {
        let file = entry["file"]
            .as_str()
            .unwrap_or_else(|| panic!("{KNOWN}: an entry without `file`: {entry}"));
        let category = entry["category"]
            .as_str()
            .unwrap_or_else(|| panic!("{KNOWN}: {file} has no `category`"));
        let mut cli_only = strings(&entry["cli_only"], &format!("{file}'s cli_only"));
        let mut server_only = strings(&entry["server_only"], &format!("{file}'s server_only"));
        cli_only.sort();
        server_only.sort();
        let old = entries.insert(
            file.to_string(),
            (
                category.to_string(),
                Difference {
                    cli_only,
                    server_only,
                },
            ),
        );
        assert!(old.is_none(), "{KNOWN}: {file} is listed twice");
    }
    Known {
        document,
        categories,
        entries,
    }
}

/// Writes the list with the differences found now, keeping each listed
/// file's category.
fn rewrite_known(path: &Path, known: &Known, prefix: &str, found: &BTreeMap<String, Difference>) {
    let others = known
        .entries
        .iter()
        .filter(|(file, _)| !file.starts_with(prefix))
        .map(|(file, (category, diff))| (file, (category.as_str(), diff)));
    let now = found.iter().map(|(file, diff)| {
        let category = known
            .entries
            .get(file)
            .map_or(UNCLASSIFIED, |(c, _)| c.as_str());
        (file, (category, diff))
    });
    let merged: BTreeMap<&String, (&str, &Difference)> = others.chain(now).collect();
    let differences: Vec<Value> = merged
        .into_iter()
        .map(|(file, (category, diff))| {
            json!({
                "file": file,
                "category": category,
                "cli_only": diff.cli_only,
                "server_only": diff.server_only,
            })
        })
        .collect();
    let mut document = known.document.clone();
    document["differences"] = Value::Array(differences);
    let text = serde_json::to_string_pretty(&document).expect("JSON") + "\n";
    let temp = path.with_extension("json.tmp");
    std::fs::write(&temp, text).unwrap_or_else(|e| panic!("writing {}: {e}", temp.display()));
    std::fs::rename(&temp, path).unwrap_or_else(|e| panic!("renaming to {}: {e}", path.display()));
}

/// A difference, for a human.
fn describe(diff: &Difference) -> String {
    let mut out = String::new();
    for f in &diff.cli_only {
        out.push_str(&format!("      only the CLI:    {f}\n"));
    }
    for f in &diff.server_only {
        out.push_str(&format!("      only the server: {f}\n"));
    }
    out
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

#[test]
fn positions_convert_from_utf8_bytes_to_characters() {
    let text = "a: é\r\nb: \"😀x\"\rc: d\n";
    let starts = line_starts(text);
    assert_eq!(starts, [0, 7, 18, 23]);
    // `x` after the emoji: byte 8 of line 2 is its 6th character.
    assert_eq!(json_position(text, &starts, 1, 8), "2:6");
    assert_eq!(json_position(text, &starts, 0, 0), "1:1");
    // The end of `é`, exclusive.
    assert_eq!(json_position(text, &starts, 0, 5), "1:5");
    // Inside the emoji, and past the last line: shown, never matched.
    assert_eq!(json_position(text, &starts, 1, 5), "2:?byte5");
    assert_eq!(json_position(text, &starts, 9, 0), "10:?byte0");
}

#[test]
fn differences_are_exact_multisets() {
    let a = |s: &str| s.to_string();
    assert_eq!(difference(&[a("x"), a("y")], &[a("y"), a("x")]), None);
    assert_eq!(
        difference(&[a("x"), a("x")], &[a("x"), a("z")]),
        Some(Difference {
            cli_only: vec![a("x")],
            server_only: vec![a("z")],
        })
    );
}

/// Compares the two pipelines on every YAML file under `cli_arg` (a folder,
/// relative to the repository root, as the command line names it) against
/// the entries of the list for files under it, and prints a summary.
fn compare(cli_arg: &str, at_least: usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace: PathBuf =
        std::fs::canonicalize(root.join(cli_arg)).unwrap_or_else(|e| panic!("{cli_arg}: {e}"));
    let mut unreadable = Vec::new();
    let files: Vec<(String, PathBuf, String)> = common::files_under(&workspace, common::is_yaml)
        .into_iter()
        .filter_map(|path| {
            let rel = path
                .strip_prefix(&workspace)
                .expect("under the workspace")
                .to_str()
                .expect("a UTF-8 path");
            let shown = format!("{cli_arg}/{rel}");
            match std::fs::read_to_string(&path) {
                Ok(text) => Some((shown, path, text)),
                Err(e) => {
                    unreadable.push(format!("{shown}: {e}"));
                    None
                }
            }
        })
        .collect();
    assert!(
        files.len() >= at_least,
        "{cli_arg} has {} files",
        files.len()
    );

    let (cli, cli_took) = cli_findings(root, cli_arg);
    let (server, indexed, opened) = server_findings(root, &workspace, &files);

    let mut found = BTreeMap::new();
    for (shown, _, _) in &files {
        let on_cli = cli.get(shown).map_or(&[][..], Vec::as_slice);
        let on_server = server.get(shown).map_or(&[][..], Vec::as_slice);
        if let Some(diff) = difference(on_cli, on_server) {
            found.insert(shown.clone(), diff);
        }
    }
    // The CLI reporting on a file that was not opened is a difference too.
    let opened_files: BTreeSet<&String> = files.iter().map(|(shown, _, _)| shown).collect();
    for (shown, findings) in &cli {
        if !opened_files.contains(shown) {
            found.insert(
                shown.clone(),
                Difference {
                    cli_only: findings.clone(),
                    server_only: vec!["(the file was not opened: not UTF-8?)".to_string()],
                },
            );
        }
    }

    // The tests share the list: one reads (and may rewrite) it at a time.
    static LIST: Mutex<()> = Mutex::new(());
    let _list = LIST.lock().unwrap_or_else(|e| e.into_inner());
    let known_path = root.join(KNOWN);
    let known = load_known(&known_path);
    let prefix = format!("{cli_arg}/");
    let mut problems = Vec::new();
    let mut by_category: BTreeMap<&str, usize> = BTreeMap::new();
    for (file, diff) in &found {
        match known.entries.get(file) {
            None => problems.push(format!(
                "  {file}: a difference not in the list\n{}",
                describe(diff)
            )),
            Some((_, listed)) if listed != diff => problems.push(format!(
                "  {file}: the difference changed; listed:\n{}    now:\n{}",
                describe(listed),
                describe(diff)
            )),
            Some((category, _)) => {
                *by_category.entry(category).or_insert(0) += 1;
                if !known.categories.contains_key(category) {
                    problems.push(format!(
                        "  {file}: category `{category}` is not among the list's categories \
                         (classify new entries)"
                    ));
                }
            }
        }
    }
    for file in known.entries.keys() {
        if file.starts_with(&prefix) && !found.contains_key(file) {
            problems.push(format!(
                "  {file}: listed, but the CLI and the server now agree (stale: remove the entry)"
            ));
        }
    }

    let with_findings = files
        .iter()
        .filter(|(shown, _, _)| {
            cli.contains_key(shown) || server.get(shown).is_some_and(|f| !f.is_empty())
        })
        .count();
    let mut summary = format!(
        "cli/server agreement on {cli_arg}: {} files compared ({with_findings} with findings on \
         either side), {} agree, {} differ; CLI {cli_took:.1?}, server index {indexed:.1?}, \
         server files {opened:.1?} (batches of {BATCH})\n",
        files.len(),
        files.len().saturating_sub(found.len()),
        found.len(),
    );
    for (category, count) in &by_category {
        summary.push_str(&format!("  known difference {category}: {count} files\n"));
    }
    for file in &unreadable {
        summary.push_str(&format!("  not compared (unreadable as UTF-8): {file}\n"));
    }
    eprint!("{summary}");
    if std::env::var_os(UPDATE).is_some_and(|v| v == "1") {
        rewrite_known(&known_path, &known, &prefix, &found);
        eprintln!(
            "cli/server agreement: {UPDATE}=1, {} rewritten with {} differences under {cli_arg}",
            known_path.display(),
            found.len()
        );
        return;
    }
    assert!(
        problems.is_empty(),
        "{} problems with {KNOWN} (rewrite it with {UPDATE}=1 only for an intended change, \
         then classify new entries):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_server_publishes_what_the_cli_reports_on_the_corpus() {
    if common::shared_dir("cli_server_agreement").is_none() {
        return;
    }
    compare(CORPUS_ARG, 3000);
}

/// Small files that show the known disagreements the corpus does not hold
/// (YAML that is no Kubernetes object; a mistyped `apiVersion` key), and a
/// control both report alike (with characters of 2 and 4 bytes before a
/// range).
#[test]
fn the_server_publishes_what_the_cli_reports_on_the_cases() {
    compare(CASES_ARG, 4);
}
