//! README.md and docs/*.md, checked against the real binary: every example
//! they show must be what a user gets.
//!
//! * A fenced block (```console, or ```diff / ```text) whose first line is
//!   `$ tokenguard ...` is a command and its output. The command runs from the
//!   repository root, and what it prints must equal the block's text. Standard
//!   output and standard error go to one file, as on a terminal, so the text
//!   is what a terminal shows, in the order the binary wrote it (findings,
//!   then the summary). The binary is not on a terminal here, so `--color
//!   auto` gives no colour: examples show plain text. Examples should not
//!   print a version (it would change with every release).
//! * A ```sh block (also `bash`, `shell`) lists commands without output. Each
//!   one that runs tokenguard (`tokenguard ...`, or `cargo run [FLAGS] --
//!   ...` from the repository root) is run: it must not fail with status 2
//!   or die, and where the paragraph after the block says "The first command
//!   exits with status N" (or "It exits ..."), it must exit with N. Commands
//!   that read another program's output (`helm template ... | tokenguard
//!   check -`) are skipped, and the run says so. Other commands (cargo test,
//!   npm, code) are not run; the "Two commands" block must match `.ci/run`.
//! * A ```toml block is written as `tokenguard.toml` into an empty folder, and
//!   `tokenguard check --print-config` there must exit 0 and name that file.
//! * A ```yaml block goes through `tokenguard check --format json -`: it must
//!   parse (no TG000, no status 2).
//! * A ```json block that is an array of findings must be an excerpt of
//!   `tokenguard check --format json examples/`: each of its findings is one
//!   of the real ones, field for field.
//! * A ```text block `tokenguard SUBCOMMAND ...` is the usage line of
//!   `tokenguard SUBCOMMAND --help`.
//! * The Options table lists exactly the options of `tokenguard check`, and
//!   every subcommand of `tokenguard` is named somewhere in README.md.
//!
//! A command with `--fix` runs in a temporary copy of the paths it names, so
//! that the repository is never modified. Every mismatch is collected and
//! printed, with a diff, before the test fails.

use std::fmt::Write as _;
use std::io::{Read, Seek, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use serde_json::Value;

/// The documents checked, relative to the repository root.
fn documents() -> Vec<PathBuf> {
    let root = root();
    let mut docs = vec![PathBuf::from("README.md")];
    let mut extra: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ is readable")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| p.strip_prefix(&root).expect("under the root").to_path_buf())
        .collect();
    extra.sort();
    docs.extend(extra);
    docs
}

/// The JSON output that a ```json block of findings is an excerpt of.
const JSON_EXCERPT_OF: &[&str] = &["check", "--format", "json", "examples/"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One fenced code block.
struct Block {
    /// `README.md:LINE`, the line of the opening fence.
    place: String,
    /// The heading (`## ...` or `### ...`) the block is under.
    heading: String,
    /// The info string: `console`, `sh`, ... (empty when there is none).
    lang: String,
    /// The lines inside the fences, with the fence's indentation removed.
    lines: Vec<String>,
    /// The paragraph right after the block, joined into one line.
    after: String,
}

/// The fenced blocks of a Markdown text, in order.
fn blocks(name: &str, text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut heading = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with('#') {
            heading = line.trim_start_matches('#').trim().to_string();
        }
        let trimmed = line.trim_start();
        let Some(info) = trimmed.strip_prefix("```") else {
            i += 1;
            continue;
        };
        let indent = line.len() - trimmed.len();
        let start = i;
        let mut body = Vec::new();
        i += 1;
        while i < lines.len() && lines[i].trim() != "```" {
            let l = lines[i];
            let strip = l.len() - l.trim_start().len();
            body.push(l[strip.min(indent)..].to_string());
            i += 1;
        }
        assert!(i < lines.len(), "{name}:{}: unclosed code block", start + 1);
        i += 1;
        // The next paragraph: skip blank lines, then take lines up to a blank.
        let mut j = i;
        while j < lines.len() && lines[j].trim().is_empty() {
            j += 1;
        }
        let mut after = Vec::new();
        while j < lines.len() && !lines[j].trim().is_empty() && !lines[j].starts_with("```") {
            after.push(lines[j].trim());
            j += 1;
        }
        out.push(Block {
            place: format!("{name}:{}", start + 1),
            heading: heading.clone(),
            lang: info.trim().to_string(),
            lines: body,
            after: after.join(" "),
        });
    }
    out
}

/// Words of a shell command line, with quotes removed; `None` when the line
/// uses something other than plain words (a pipe, a redirection, `&&`, `;`,
/// `$(...)`), which this test does not interpret.
fn shell_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => word.extend(chars.next()),
                        '$' | '`' => return None,
                        _ => word.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            '|' | '>' | '<' | '&' | ';' | '$' | '`' | '(' | ')' => return None,
            '#' if !in_word => break,
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

/// What a shell command line means for this test.
enum Invocation {
    /// Not a tokenguard command.
    Other(Vec<String>),
    /// Run the binary with these arguments.
    Run(Vec<String>),
    /// A tokenguard command this test cannot run, and why.
    Skip(String),
}

fn invocation(line: &str) -> Invocation {
    let line = line.trim().trim_start_matches("$ ");
    let Some(words) = shell_words(line) else {
        let pipes_into_tokenguard = line
            .split('|')
            .skip(1)
            .any(|part| part.trim_start().starts_with("tokenguard "));
        return if pipes_into_tokenguard {
            Invocation::Skip("reads another program's output on standard input".into())
        } else if line.contains("tokenguard ") {
            // A tokenguard command with shell syntax around it: run the
            // command itself, whatever it is redirected to.
            let first = line
                .split(['|', '>', '<', ';', '&'])
                .next()
                .unwrap_or_default();
            match shell_words(first) {
                Some(words) if words.first().is_some_and(|w| w == "tokenguard") => {
                    Invocation::Run(words[1..].to_vec())
                }
                _ => Invocation::Skip(format!(
                    "runs through `{}`, not as the binary under test",
                    first.split_whitespace().next().unwrap_or_default()
                )),
            }
        } else {
            Invocation::Other(vec![line.to_string()])
        };
    };
    match words.first().map(String::as_str) {
        Some("tokenguard") => Invocation::Run(words[1..].to_vec()),
        Some("cargo") if words.get(1).is_some_and(|w| w == "run") => {
            let dashes = words.iter().position(|w| w == "--");
            let flags = &words[2..dashes.unwrap_or(words.len())];
            // `cargo run -p other` or `--example x` runs something else.
            let runs_other = flags.windows(2).any(|pair| {
                matches!(pair[0].as_str(), "-p" | "--package" | "--bin" | "--example")
                    && pair[1] != "tokenguard"
            });
            if runs_other {
                Invocation::Other(words)
            } else {
                Invocation::Run(dashes.map_or(Vec::new(), |d| words[d + 1..].to_vec()))
            }
        }
        _ => Invocation::Other(words),
    }
}

/// What one run of the binary did.
struct Run {
    status: ExitStatus,
    /// Standard output and standard error, as they interleaved.
    merged: String,
}

/// Runs the binary in `dir` with no standard input, standard output and
/// standard error both writing to one file (one open file description, so
/// one shared offset), as on a terminal: the text keeps the order in which
/// the binary wrote it.
fn run_merged(dir: &Path, args: &[String]) -> Run {
    let mut file = tempfile::tempfile().expect("a temporary file");
    let status = Command::new(env!("CARGO_BIN_EXE_tokenguard"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("share the file"))
        .stderr(file.try_clone().expect("share the file"))
        .status()
        .expect("the tokenguard binary runs");
    let mut merged = String::new();
    file.seek(SeekFrom::Start(0)).expect("rewind the output");
    file.read_to_string(&mut merged)
        .expect("the output is UTF-8");
    Run {
        status,
        merged: as_shown(&merged),
    }
}

/// Output as the documentation shows it: a terminal shows CRLF (a Windows
/// checkout's line endings, copied by `--diff`) like LF, and the program is
/// `tokenguard`, whatever the platform's suffix for executables.
fn as_shown(output: &str) -> String {
    let exe = format!("tokenguard{}", std::env::consts::EXE_SUFFIX);
    output.replace("\r\n", "\n").replace(&exe, "tokenguard")
}

/// Runs a command the documentation shows. A command that writes files
/// (`--fix`) runs in a temporary copy of the paths it names, so the
/// repository stays as it is.
fn run_shown(args: &[String]) -> Run {
    if !args.iter().any(|a| a == "--fix") {
        return run_merged(&root(), args);
    }
    let scratch = tempfile::tempdir().expect("a temporary directory");
    for arg in args {
        let from = root().join(arg);
        if !arg.starts_with('-') && from.exists() {
            copy_tree(&from, &scratch.path().join(arg));
        }
    }
    run_merged(scratch.path(), args)
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).expect("create a folder");
        for entry in std::fs::read_dir(from).expect("read a folder") {
            let entry = entry.expect("directory entry");
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).expect("create a folder");
        }
        std::fs::copy(from, to).expect("copy a file");
    }
}

/// Runs the binary from the repository root with `input` on standard input;
/// returns the status, standard output and standard error.
fn run_with_stdin(args: &[&str], input: &str) -> (ExitStatus, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokenguard"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tokenguard binary starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    let output = child.wait_with_output().expect("tokenguard finishes");
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn status_text(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("status {code}"),
        None => format!("no status ({status})"),
    }
}

/// A unified diff from what the documentation shows to what the binary
/// printed.
fn diff(expected: &str, actual: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .header("shown in the documentation", "printed by tokenguard")
        .to_string()
}

/// The exit status the paragraph after a ```sh block states for its `n`th
/// tokenguard command (0-based), if it states one.
fn stated_status(after: &str, n: usize, commands: usize) -> Option<i32> {
    const ORDINALS: [&str; 4] = ["first", "second", "third", "fourth"];
    let mut subjects = Vec::new();
    if let Some(ordinal) = ORDINALS.get(n) {
        subjects.push(format!("The {ordinal} command exits with status "));
    }
    if commands == 1 {
        subjects.push("It exits with status ".to_string());
        subjects.push("The command exits with status ".to_string());
    }
    subjects.iter().find_map(|s| {
        let rest = &after[after.find(s.as_str())? + s.len()..];
        rest.split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    })
}

/// Checks one block; appends what is wrong to `failures`.
fn check_block(block: &Block, failures: &mut Vec<String>, ci_run: &str) {
    let place = &block.place;
    let first = block.lines.first().map(String::as_str).unwrap_or_default();
    match block.lang.as_str() {
        // A command and its output.
        _ if first.starts_with("$ tokenguard ") => {
            check_transcript(block, failures);
        }
        "console" => failures.push(format!(
            "{place}: a console block must start with `$ tokenguard ...`, found {first:?}"
        )),
        "sh" | "bash" | "shell" => check_commands(block, failures, ci_run),
        "toml" => check_toml(block, failures),
        "yaml" | "yml" => check_yaml(block, failures),
        "json" => check_json(block, failures),
        "text" if first.starts_with("tokenguard ") => check_usage(block, failures),
        _ => {}
    }
}

/// `$ tokenguard ...` lines, each followed by its output.
fn check_transcript(block: &Block, failures: &mut Vec<String>) {
    let mut i = 0;
    while i < block.lines.len() {
        let command = &block.lines[i];
        let Some(line) = command.strip_prefix("$ ") else {
            failures.push(format!(
                "{}: expected a `$ ` command line, found {command:?}",
                block.place
            ));
            return;
        };
        let mut expected = String::new();
        i += 1;
        while i < block.lines.len() && !block.lines[i].starts_with("$ ") {
            expected.push_str(&block.lines[i]);
            expected.push('\n');
            i += 1;
        }
        let args = match invocation(line) {
            Invocation::Run(args) => args,
            Invocation::Skip(why) => {
                failures.push(format!(
                    "{}: `{line}` is shown with its output but cannot be run here: {why}",
                    block.place
                ));
                continue;
            }
            Invocation::Other(_) => {
                failures.push(format!(
                    "{}: `{line}` is not a tokenguard command",
                    block.place
                ));
                continue;
            }
        };
        let run = run_shown(&args);
        let shows_error = expected.lines().any(|l| l.starts_with("error"));
        let status_ok = match run.status.code() {
            Some(0 | 1) => true,
            Some(2) => shows_error,
            _ => false,
        };
        if run.merged != expected || !status_ok {
            failures.push(format!(
                "{}: `{line}` ({}) does not print what the documentation shows:\n{}",
                block.place,
                status_text(run.status),
                diff(&expected, &run.merged)
            ));
        }
    }
}

/// Commands shown without output.
fn check_commands(block: &Block, failures: &mut Vec<String>, ci_run: &str) {
    let invocations: Vec<(&str, Invocation)> = block
        .lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| (l, invocation(l)))
        .collect();
    let runnable = invocations
        .iter()
        .filter(|(_, inv)| matches!(inv, Invocation::Run(_)))
        .count();
    let mut n = 0;
    for (line, inv) in &invocations {
        match inv {
            Invocation::Run(args) => {
                let run = run_shown(args);
                let wanted = stated_status(&block.after, n, runnable);
                n += 1;
                let ok = match (wanted, run.status.code()) {
                    (Some(want), Some(got)) => want == got,
                    (None, Some(got)) => got != 2,
                    (_, None) => false,
                };
                if !ok {
                    let want = wanted.map_or("not status 2".to_string(), |w| format!("status {w}"));
                    failures.push(format!(
                        "{}: `{line}` exits with {}, the documentation implies {want}; it printed:\n{}",
                        block.place,
                        status_text(run.status),
                        run.merged
                    ));
                }
            }
            Invocation::Skip(why) => {
                eprintln!("SKIPPED {}: `{line}`: {why}", block.place);
            }
            Invocation::Other(words) => {
                // The "Two commands" are the ones CI runs: .ci/run must run
                // the same ones (cargo run [FLAGS] is `cargo build [FLAGS]`
                // there, then the binary).
                if block.heading == "Two commands" {
                    let command = words.join(" ");
                    if !ci_run.lines().any(|l| l.trim() == command) {
                        failures.push(format!(
                            "{}: `{command}` is not a command of .ci/run (keep them identical)",
                            block.place
                        ));
                    }
                }
            }
        }
        if block.heading == "Two commands" {
            if let Some(words) = shell_words(line) {
                if words.len() > 2 && words[0] == "cargo" && words[1] == "run" {
                    let dashes = words.iter().position(|w| w == "--").unwrap_or(words.len());
                    let build = format!("cargo build {}", words[2..dashes].join(" "));
                    if !ci_run.lines().any(|l| l.trim() == build.trim()) {
                        failures.push(format!(
                            "{}: `{line}` builds with other flags than .ci/run: it has no `{}` line",
                            block.place,
                            build.trim()
                        ));
                    }
                }
            }
        }
    }
}

/// A configuration example: the binary must accept it.
fn check_toml(block: &Block, failures: &mut Vec<String>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("tokenguard.toml");
    std::fs::write(&file, block.lines.join("\n") + "\n").expect("write tokenguard.toml");
    let run = run_merged(dir.path(), &["check".into(), "--print-config".into()]);
    // The file is named as the binary resolved it (symbolic links, \\?\ on
    // Windows): look for its name on the line that says which file is used.
    let named = run
        .merged
        .lines()
        .find_map(|l| l.strip_prefix("# Configuration file: "))
        .is_some_and(|used| used.contains("tokenguard.toml") && !used.starts_with("none"));
    if run.status.code() != Some(0) || !named {
        failures.push(format!(
            "{}: `tokenguard check --print-config` with this tokenguard.toml exits with {}{}:\n{}",
            block.place,
            status_text(run.status),
            if named {
                ""
            } else {
                " and does not name the file"
            },
            run.merged
        ));
    }
}

/// A YAML example must be valid YAML.
fn check_yaml(block: &Block, failures: &mut Vec<String>) {
    let text = block.lines.join("\n") + "\n";
    let (status, stdout, stderr) = run_with_stdin(&["check", "--format", "json", "-"], &text);
    let findings: Value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    let syntax_errors: Vec<&Value> = findings
        .as_array()
        .map(|a| a.iter().filter(|f| f["code"] == "TG000").collect())
        .unwrap_or_default();
    if status.code() == Some(2) || status.code().is_none() || !syntax_errors.is_empty() {
        failures.push(format!(
            "{}: this YAML does not parse ({}): {syntax_errors:?}\n{stderr}",
            block.place,
            status_text(status)
        ));
    }
}

/// A JSON array of findings must be an excerpt of the real JSON output.
fn check_json(block: &Block, failures: &mut Vec<String>) {
    let shown: Value = match serde_json::from_str(&block.lines.join("\n")) {
        Ok(v) => v,
        Err(e) => {
            failures.push(format!("{}: not valid JSON: {e}", block.place));
            return;
        }
    };
    let Some(shown) = shown.as_array() else {
        return;
    };
    if !shown
        .iter()
        .all(|f| f.get("code").is_some() && f.get("file").is_some())
    {
        return;
    }
    let args: Vec<String> = JSON_EXCERPT_OF.iter().map(|s| s.to_string()).collect();
    let output = Command::new(env!("CARGO_BIN_EXE_tokenguard"))
        .args(&args)
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .expect("the tokenguard binary runs");
    let real: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    let real = real.as_array().expect("an array of findings");
    for finding in shown {
        if !real.contains(finding) {
            let pretty = |v: &Value| serde_json::to_string_pretty(v).expect("JSON") + "\n";
            // The real finding at the same place, if any, for the diff.
            let nearest = real
                .iter()
                .find(|r| r["file"] == finding["file"] && r["line"] == finding["line"])
                .map(pretty)
                .unwrap_or_default();
            failures.push(format!(
                "{}: this finding is not in the output of `tokenguard {}`:\n{}",
                block.place,
                JSON_EXCERPT_OF.join(" "),
                diff(&pretty(finding), &nearest)
            ));
        }
    }
}

/// `tokenguard SUBCOMMAND ...` in a ```text block: the usage line.
fn check_usage(block: &Block, failures: &mut Vec<String>) {
    let shown = block.lines.join("\n");
    let sub = shown.split_whitespace().nth(1).unwrap_or_default();
    let run = run_merged(&root(), &[sub.to_string(), "--help".to_string()]);
    let usage = run
        .merged
        .lines()
        .find_map(|l| l.strip_prefix("Usage: "))
        .unwrap_or_default();
    if usage != shown {
        failures.push(format!(
            "{}: the usage of `tokenguard {sub}` is not what the documentation shows:\n{}",
            block.place,
            diff(&format!("{shown}\n"), &format!("{usage}\n"))
        ));
    }
}

/// The long options a `--help` text lists, without `--help` and `--version`.
fn help_options(help: &str) -> Vec<String> {
    let mut options: Vec<String> = help
        .lines()
        .map(str::trim_start)
        .filter_map(|l| {
            let long = if l.starts_with("--") {
                l
            } else {
                l.strip_prefix('-')?.split_once(", ")?.1
            };
            let name = long.split([' ', '=', '<']).next()?;
            name.starts_with("--").then(|| name.to_string())
        })
        .filter(|o| o != "--help" && o != "--version")
        .collect();
    options.sort();
    options.dedup();
    options
}

/// The options the README's Options table lists.
fn table_options(readme: &str) -> Vec<String> {
    let section = readme
        .split_once("### Options\n")
        .expect("README.md has an Options section")
        .1;
    let mut options: Vec<String> = section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            let cell = l.trim_start_matches('|').split('|').next()?.trim();
            let name = cell.trim_matches('`').split([' ', '`']).next()?;
            let flag = name.strip_prefix("--")?;
            flag.starts_with(|c: char| c.is_ascii_alphabetic())
                .then(|| name.to_string())
        })
        .collect();
    options.sort();
    options
}

#[test]
fn documentation_examples_match_the_binary() {
    let ci_run = std::fs::read_to_string(root().join(".ci/run")).expect(".ci/run is readable");
    let mut failures = Vec::new();
    let mut checked = 0;
    for doc in documents() {
        let name = doc.display().to_string();
        let text = std::fs::read_to_string(root().join(&doc)).expect("the document is readable");
        for block in blocks(&name, &text) {
            checked += 1;
            check_block(&block, &mut failures, &ci_run);
        }
    }
    assert!(
        checked > 10,
        "only {checked} code blocks found: is the parser broken?"
    );
    if !failures.is_empty() {
        let mut report = String::new();
        for f in &failures {
            let _ = writeln!(report, "{f}\n");
        }
        panic!(
            "{} example(s) in the documentation do not match the binary:\n\n{report}",
            failures.len()
        );
    }
}

#[test]
fn options_table_lists_every_option_of_check() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let help = run_merged(&root(), &["check".into(), "--help".into()]);
    assert_eq!(help.status.code(), Some(0), "{}", help.merged);
    let from_help = help_options(&help.merged);
    let from_table = table_options(&readme);
    assert!(
        from_help.len() > 3,
        "no options parsed from:\n{}",
        help.merged
    );
    assert_eq!(
        from_table,
        from_help,
        "README.md's Options table (left) and `tokenguard check --help` (right) differ:\n{}",
        diff(
            &(from_table.join("\n") + "\n"),
            &(from_help.join("\n") + "\n")
        )
    );
}

#[test]
fn every_subcommand_is_named_in_the_readme() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let help = run_merged(&root(), &["--help".into()]);
    assert_eq!(help.status.code(), Some(0), "{}", help.merged);
    let subcommands: Vec<&str> = help
        .merged
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|s| *s != "help")
        .collect();
    assert!(subcommands.contains(&"check"), "{}", help.merged);
    let missing: Vec<&&str> = subcommands
        .iter()
        .filter(|s| !readme.contains(&format!("tokenguard {s}")))
        .collect();
    assert!(
        missing.is_empty(),
        "README.md never names `tokenguard SUBCOMMAND` for: {missing:?}"
    );
}

/// The parser itself, on the shapes the documents use.
#[test]
fn shell_lines_are_read_as_a_user_means_them() {
    let run = |line: &str| match invocation(line) {
        Invocation::Run(args) => Some(args),
        _ => None,
    };
    assert_eq!(
        run("cargo run --release -- check examples/   # the main job"),
        Some(vec!["check".to_string(), "examples/".to_string()])
    );
    assert_eq!(
        run("tokenguard check --format sarif . > tokenguard.sarif"),
        Some(vec![
            "check".to_string(),
            "--format".to_string(),
            "sarif".to_string(),
            ".".to_string()
        ])
    );
    assert!(matches!(
        invocation("helm template ./chart | tokenguard check -"),
        Invocation::Skip(_)
    ));
    assert!(matches!(
        invocation("cargo test --workspace"),
        Invocation::Other(_)
    ));
    assert!(matches!(
        invocation("cargo run --release -p tokenguard-lsp --example latency -- x 200"),
        Invocation::Other(_)
    ));
    assert!(matches!(
        invocation("cargo run -p tokenguard-lsp --example latency"),
        Invocation::Other(_)
    ));
    assert_eq!(run("cargo run --release"), Some(Vec::new()));
    assert_eq!(
        stated_status(
            "The first command exits with status 1: the examples contain findings on purpose.",
            0,
            1
        ),
        Some(1)
    );
    assert_eq!(
        stated_status("The first command exits with status 1.", 1, 2),
        None
    );
    let parsed = blocks(
        "t.md",
        "## A\n\n* item:\n\n  ```json\n  [1]\n  ```\n\nafter\nit\n\nnot this\n",
    );
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].lang, "json");
    assert_eq!(parsed[0].lines, vec!["[1]".to_string()]);
    assert_eq!(parsed[0].after, "after it");
    assert_eq!(parsed[0].heading, "A");
}
