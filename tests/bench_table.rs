//! README.md's performance table and `bench/compare.sh` agree, in shape only
//! (never in timings, which belong to the machine that measured them):
//!
//! * the table between the Performance section's markers names its machine,
//!   its commit and its inputs, and has exactly the columns and the rows, in
//!   order, that `bench/compare.sh --help` says the script prints; every row
//!   has a cell per column and a result that is `pass`, `miss (...)` or `-`;
//! * every option of `bench/compare.sh --help` is named in the Performance
//!   section, and every `bench/compare.sh --option` the README shows exists;
//! * `bench/readme_table.py` writes a saved output of the script into a
//!   README between the markers and leaves the rest alone.

use std::path::{Path, PathBuf};
use std::process::Command;

const BEGIN: &str = "<!-- bench/compare.sh --update-readme writes from here -->";
const END: &str = "<!-- bench/compare.sh --update-readme writes up to here -->";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn help() -> String {
    let out = Command::new("bash")
        .arg(root().join("bench/compare.sh"))
        .arg("--help")
        .output()
        .expect("bash runs bench/compare.sh");
    assert!(out.status.success(), "bench/compare.sh --help failed");
    String::from_utf8(out.stdout).expect("UTF-8 help")
}

/// The options `--help` lists (`  --name ...` lines), without `--help`.
fn help_options(help: &str) -> Vec<String> {
    help.lines()
        .filter_map(|l| l.strip_prefix("  --"))
        .map(|l| format!("--{}", l.split_whitespace().next().unwrap_or("")))
        .collect()
}

/// The table's header line and its rows' first cells, as `--help` states them.
fn help_table(help: &str) -> (String, Vec<String>) {
    let header = help
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("| measurement |"))
        .expect("--help shows the table's columns")
        .to_string();
    let rows = help
        .lines()
        .filter_map(|l| l.trim().strip_prefix("row: "))
        .map(str::to_string)
        .collect();
    (header, rows)
}

fn cells(line: &str) -> Vec<String> {
    let inner = line
        .trim()
        .strip_prefix('|')
        .and_then(|l| l.strip_suffix('|'))
        .unwrap_or_else(|| panic!("not a table line: {line}"));
    inner.split('|').map(|c| c.trim().to_string()).collect()
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("README.md")
}

fn performance_section(readme: &str) -> &str {
    let start = readme
        .find("\n## Performance\n")
        .expect("README.md has a Performance section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
    &rest[..end]
}

/// Checks the generated block; returns the mismatches.
fn check_block(block: &str, header: &str, rows: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    let lines: Vec<&str> = block.lines().filter(|l| !l.trim().is_empty()).collect();
    for (i, head) in ["- Machine: ", "- Commit: tokenguard ", "- Inputs: "]
        .iter()
        .enumerate()
    {
        if !lines.get(i).is_some_and(|l| l.starts_with(head)) {
            problems.push(format!(
                "line {} of the block should start with {head:?}",
                i + 1
            ));
        }
    }
    if let Some(commit) = lines
        .get(1)
        .and_then(|l| l.strip_prefix("- Commit: tokenguard "))
    {
        let hash = commit.split_whitespace().next().unwrap_or("");
        if hash.len() < 7 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            problems.push(format!("the Commit line names no commit: {commit:?}"));
        }
    }
    let table: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with('|'))
        .collect();
    if table.first() != Some(&header) {
        problems.push(format!(
            "the table's header is {:?}, --help says {header:?}",
            table.first()
        ));
    }
    let columns = cells(header).len();
    let names: Vec<String> = table.iter().skip(2).map(|l| cells(l)[0].clone()).collect();
    if names != rows {
        problems.push(format!(
            "the table's rows are {names:?}, --help says {rows:?}"
        ));
    }
    for line in table.iter().skip(1) {
        let c = cells(line);
        if c.len() != columns {
            problems.push(format!("{} cells, not {columns}: {line}", c.len()));
        }
    }
    for line in table.iter().skip(2) {
        let result = cells(line).last().cloned().unwrap_or_default();
        if !(result == "-" || result.starts_with("pass") || result.starts_with("miss (")) {
            problems.push(format!("result is not pass, miss (...) or -: {line}"));
        }
    }
    problems
}

#[test]
fn readme_table_has_the_shape_compare_sh_prints() {
    let help = help();
    let (header, rows) = help_table(&help);
    assert!(rows.len() >= 5, "--help lists the rows: {rows:?}");
    let readme = readme();
    let section = performance_section(&readme);
    let start = section
        .find(BEGIN)
        .expect("the Performance section has the begin marker");
    let end = section
        .find(END)
        .expect("the Performance section has the end marker");
    let problems = check_block(&section[start + BEGIN.len()..end], &header, &rows);
    assert!(
        problems.is_empty(),
        "README.md's performance table:\n{}",
        problems.join("\n")
    );
}

#[test]
fn readme_names_the_options_of_compare_sh() {
    let help = help();
    let options = help_options(&help);
    assert!(options.contains(&"--quick".to_string()), "{options:?}");
    let readme = readme();
    let section = performance_section(&readme);
    // Named: a word of a code span (`--quick`, `bench/compare.sh --quick`).
    let words: Vec<&str> = section
        .split('`')
        .skip(1)
        .step_by(2)
        .flat_map(str::split_whitespace)
        .collect();
    let missing: Vec<&String> = options
        .iter()
        .filter(|o| *o != "--help" && !words.contains(&o.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "options of bench/compare.sh --help that README.md's Performance section does not name (in backticks): {missing:?}"
    );
    // Every `bench/compare.sh ...` the README shows uses real options.
    for span in readme.split('`').skip(1).step_by(2) {
        let Some(args) = span.strip_prefix("bench/compare.sh") else {
            continue;
        };
        for word in args.split_whitespace().filter(|w| w.starts_with("--")) {
            assert!(
                options.iter().any(|o| o == word),
                "README.md shows `{span}`, but {word} is not an option of bench/compare.sh"
            );
        }
    }
}

#[test]
fn readme_table_py_writes_between_the_markers() {
    let help = help();
    let (header, rows) = help_table(&help);
    let columns = cells(&header).len();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut output = String::from(
        "Machine: 2 CPUs (test), 1 GiB RAM, Linux\n\
         Commit: tokenguard 0123456789ab (2026-01-01); bench/compare.sh --runs 1\n\
         Inputs: check on the corpus\n\n",
    );
    output.push_str(&header);
    output.push('\n');
    output.push_str(&format!("|{}\n", " --- |".repeat(columns)));
    for row in &rows {
        output.push_str(&format!("| {row} |{} pass |\n", " 1 |".repeat(columns - 2)));
    }
    output.push_str("\n- a note that stays out of the README\n");
    let saved = dir.path().join("output.md");
    std::fs::write(&saved, &output).unwrap();
    let readme = dir.path().join("README.md");
    let before = format!("# t\n\n## Performance\n\nintro\n\n{BEGIN}\nold table\n{END}\n\nafter\n");
    std::fs::write(&readme, &before).unwrap();
    let run = |out: &Path| {
        Command::new("python3")
            .arg(root().join("bench/readme_table.py"))
            .arg(out)
            .arg(&readme)
            .status()
            .expect("python3 runs bench/readme_table.py")
    };
    assert!(run(&saved).success());
    let after = std::fs::read_to_string(&readme).unwrap();
    assert!(
        after.starts_with("# t\n\n## Performance\n\nintro\n\n"),
        "{after}"
    );
    assert!(after.ends_with(&format!("{END}\n\nafter\n")), "{after}");
    assert!(
        !after.contains("old table") && !after.contains("a note"),
        "{after}"
    );
    let section = performance_section(&after);
    let start = section.find(BEGIN).unwrap() + BEGIN.len();
    let problems = check_block(&section[start..section.find(END).unwrap()], &header, &rows);
    assert!(problems.is_empty(), "{}\n{after}", problems.join("\n"));

    // A run with a failed measurement is refused, and the README kept.
    std::fs::write(&saved, format!("{output}- FAILED: latency\n")).unwrap();
    assert!(!run(&saved).success());
    assert_eq!(std::fs::read_to_string(&readme).unwrap(), after);
}
