//! The corpus pin: `tokenguard check ../shared/corpus --format json`, run by
//! the real binary from the repository root, prints exactly what
//! `tests/corpus_pin/corpus.pin` records. Issue 12 (one analysis host)
//! rewrites both pipelines and must not change this output.
//!
//! The pin holds the exit status, the length and an FNV-1a/64 digest of the
//! whole standard output (the authority: any byte that changes fails the
//! test), the number of findings per code, the number of files with
//! findings, and one line per finding (file relative to the corpus, code,
//! range as `line:column-end_line:end_column`, and an FNV-1a/64 digest of the
//! finding's JSON with its keys sorted). The per-finding lines exist to say
//! *which* findings changed when the digest no longer matches; the actual
//! output is then kept in `CARGO_TARGET_TMPDIR/corpus_pin_actual.json`.
//! Standard error (warnings about unreadable patches and the like) is not
//! pinned.
//!
//! When a change of the output is intended, rewrite the pin and commit it
//! with the change, saying why:
//!
//! ```text
//! TOKENGUARD_UPDATE_PIN=1 cargo test --test corpus_pin
//! ```
//!
//! Without `../shared` the test skips, saying so, unless
//! `TOKENGUARD_REQUIRE_SHARED=1` (as in `.ci/run`).

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

/// The pin, relative to the repository root.
const PIN: &str = "tests/corpus_pin/corpus.pin";
/// Set to `1` to rewrite the pin from the current output.
const UPDATE: &str = "TOKENGUARD_UPDATE_PIN";
/// The corpus as the command line names it (and as the output prints it).
const CORPUS_ARG: &str = "../shared/corpus";

/// FNV-1a, 64 bits: stable across platforms, Rust versions and runs
/// (unlike `std`'s `DefaultHasher`), and no dependency for it.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// A JSON value written with its object keys sorted, whatever order the
/// parser kept them in.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// What the pin records of one run.
#[derive(Debug, PartialEq, Eq)]
struct Pin {
    exit: String,
    bytes: usize,
    digest: String,
    findings: usize,
    files_with_findings: usize,
    per_code: BTreeMap<String, usize>,
    /// One per finding, in output order.
    lines: Vec<String>,
}

impl Pin {
    /// The pin of a run's exit status and standard output.
    fn of_run(exit: Option<i32>, stdout: &[u8]) -> Result<Self, String> {
        let findings: Vec<Value> = serde_json::from_slice(stdout)
            .map_err(|e| format!("the output is not a JSON array: {e}"))?;
        let mut per_code = BTreeMap::new();
        let mut files = std::collections::BTreeSet::new();
        let mut lines = Vec::with_capacity(findings.len());
        let prefix = format!("{CORPUS_ARG}/");
        for finding in &findings {
            let field = |key: &str| -> Result<String, String> {
                match &finding[key] {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    other => Err(format!("a finding's `{key}` is {other}: {finding}")),
                }
            };
            let file = field("file")?;
            let code = field("code")?;
            let shown = file.strip_prefix(&prefix).ok_or_else(|| {
                format!("{file} is not under {prefix}: paths must not depend on the machine")
            })?;
            let mut json = String::new();
            canonical(finding, &mut json);
            lines.push(format!(
                "{shown}\t{code}\t{}:{}-{}:{}\t{:016x}",
                field("line")?,
                field("column")?,
                field("end_line")?,
                field("end_column")?,
                fnv1a64(json.as_bytes())
            ));
            *per_code.entry(code).or_insert(0) += 1;
            files.insert(file);
        }
        Ok(Self {
            exit: exit.map_or_else(|| "signal".to_string(), |c| c.to_string()),
            bytes: stdout.len(),
            digest: format!("{:016x}", fnv1a64(stdout)),
            findings: findings.len(),
            files_with_findings: files.len(),
            per_code,
            lines,
        })
    }

    fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# `tokenguard check ../shared/corpus --format json` from the repository root,\n\
             # pinned by tests/corpus_pin.rs. Rewrite (for an intended change only):\n\
             #   TOKENGUARD_UPDATE_PIN=1 cargo test --test corpus_pin\n",
        );
        let _ = writeln!(out, "exit\t{}", self.exit);
        let _ = writeln!(out, "bytes\t{}", self.bytes);
        let _ = writeln!(out, "fnv1a64\t{}", self.digest);
        let _ = writeln!(out, "findings\t{}", self.findings);
        let _ = writeln!(out, "files-with-findings\t{}", self.files_with_findings);
        for (code, count) in &self.per_code {
            let _ = writeln!(out, "code\t{code}\t{count}");
        }
        out.push_str(
            "# One line per finding, in output order: file (under ../shared/corpus/), code,\n\
             # line:column-end_line:end_column, FNV-1a/64 of the finding's JSON (keys sorted).\n",
        );
        for line in &self.lines {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    fn parse(text: &str) -> Result<Self, String> {
        let mut pin = Self {
            exit: String::new(),
            bytes: 0,
            digest: String::new(),
            findings: 0,
            files_with_findings: 0,
            per_code: BTreeMap::new(),
            lines: Vec::new(),
        };
        let number = |s: &str, n: usize| {
            s.parse::<usize>()
                .map_err(|e| format!("line {n}: `{s}` is not a count: {e}"))
        };
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            match fields.as_slice() {
                ["exit", v] => pin.exit = v.to_string(),
                ["bytes", v] => pin.bytes = number(v, n)?,
                ["fnv1a64", v] => pin.digest = v.to_string(),
                ["findings", v] => pin.findings = number(v, n)?,
                ["files-with-findings", v] => pin.files_with_findings = number(v, n)?,
                ["code", code, v] => {
                    pin.per_code.insert(code.to_string(), number(v, n)?);
                }
                [_, _, _, _] => pin.lines.push(line.to_string()),
                _ => return Err(format!("line {n} is not understood: {line:?}")),
            }
        }
        if pin.digest.is_empty() || pin.exit.is_empty() {
            return Err("no `exit` or `fnv1a64` line".to_string());
        }
        Ok(pin)
    }
}

/// What differs between the pinned and the actual run, for a human.
fn explain(pinned: &Pin, actual: &Pin) -> String {
    let mut out = String::new();
    let mut row = |what: &str, old: &dyn std::fmt::Display, new: &dyn std::fmt::Display| {
        let mark = if old.to_string() == new.to_string() {
            ' '
        } else {
            '!'
        };
        let _ = writeln!(out, "  {mark} {what:<20} pinned {old:<18} now {new}");
    };
    row("exit status", &pinned.exit, &actual.exit);
    row("output bytes", &pinned.bytes, &actual.bytes);
    row("fnv1a64", &pinned.digest, &actual.digest);
    row("findings", &pinned.findings, &actual.findings);
    row(
        "files with findings",
        &pinned.files_with_findings,
        &actual.files_with_findings,
    );
    let codes: std::collections::BTreeSet<&String> = pinned
        .per_code
        .keys()
        .chain(actual.per_code.keys())
        .collect();
    for code in codes {
        row(
            &format!("findings {code}"),
            &pinned.per_code.get(code).copied().unwrap_or(0),
            &actual.per_code.get(code).copied().unwrap_or(0),
        );
    }
    // Per-finding lines as multisets: what is gone, what is new.
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for line in &pinned.lines {
        *counts.entry(line).or_insert(0) -= 1;
    }
    for line in &actual.lines {
        *counts.entry(line).or_insert(0) += 1;
    }
    let gone: Vec<&str> = counts
        .iter()
        .filter(|(_, c)| **c < 0)
        .map(|(l, _)| *l)
        .collect();
    let new: Vec<&str> = counts
        .iter()
        .filter(|(_, c)| **c > 0)
        .map(|(l, _)| *l)
        .collect();
    if gone.is_empty() && new.is_empty() {
        if pinned.lines != actual.lines {
            out.push_str("  the same findings, in another order\n");
        } else {
            out.push_str(
                "  the same findings in the same order: the difference is in how they are \
                 printed (whitespace, key order, escaping)\n",
            );
        }
    } else {
        let files: std::collections::BTreeSet<&str> = gone
            .iter()
            .chain(&new)
            .filter_map(|l| l.split('\t').next())
            .collect();
        let _ = writeln!(
            out,
            "  {} findings gone, {} new, in {} files:",
            gone.len(),
            new.len(),
            files.len()
        );
        const SHOWN: usize = 40;
        for line in gone.iter().take(SHOWN) {
            let _ = writeln!(out, "  - {line}");
        }
        if gone.len() > SHOWN {
            let _ = writeln!(out, "  - ... and {} more", gone.len() - SHOWN);
        }
        for line in new.iter().take(SHOWN) {
            let _ = writeln!(out, "  + {line}");
        }
        if new.len() > SHOWN {
            let _ = writeln!(out, "  + ... and {} more", new.len() - SHOWN);
        }
    }
    out
}

/// Writes `text` to `path` through a temporary file and a rename.
fn write_atomically(path: &Path, text: &str) {
    let dir = path.parent().expect("the pin has a folder");
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let temp = dir.join(".corpus.pin.tmp");
    std::fs::write(&temp, text).unwrap_or_else(|e| panic!("writing {}: {e}", temp.display()));
    std::fs::rename(&temp, path).unwrap_or_else(|e| panic!("renaming to {}: {e}", path.display()));
}

#[test]
fn fnv1a64_is_the_published_function() {
    // Test vectors of the FNV reference (draft-eastlake-fnv).
    assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
}

#[test]
fn the_pin_round_trips() {
    let output = r#"[{"file":"../shared/corpus/a/b.yaml","line":3,"column":1,"end_line":3,"end_column":5,"code":"TG001","message":"m"}]"#;
    let pin = Pin::of_run(Some(1), output.as_bytes()).unwrap();
    assert_eq!(Pin::parse(&pin.render()).unwrap(), pin);
    assert_eq!(pin.lines.len(), 1);
    assert!(pin.lines[0].starts_with("a/b.yaml\tTG001\t3:1-3:5\t"));
    // A changed message changes the finding's line and the digest.
    let changed = Pin::of_run(Some(1), output.replace("\"m\"", "\"n\"").as_bytes()).unwrap();
    assert_ne!(changed.lines, pin.lines);
    assert_ne!(changed.digest, pin.digest);
    assert!(explain(&pin, &changed).contains("1 findings gone, 1 new, in 1 files"));
}

#[test]
fn the_corpus_output_is_pinned() {
    let Some(_shared) = common::shared_dir("corpus_pin") else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let started = std::time::Instant::now();
    let output = common::tokenguard(root, &["check", CORPUS_ARG, "--format", "json"]);
    let took = started.elapsed();
    let actual = Pin::of_run(output.status.code(), &output.stdout).unwrap_or_else(|e| {
        panic!(
            "tokenguard check {CORPUS_ARG} --format json: {e}\nstderr:\n{}",
            common::stderr(&output)
        )
    });
    eprintln!(
        "corpus pin: exit {}, {} findings ({:?}) in {} files, {} bytes, fnv1a64 {} ({took:.1?})",
        actual.exit,
        actual.findings,
        actual.per_code,
        actual.files_with_findings,
        actual.bytes,
        actual.digest
    );
    let pin_path = root.join(PIN);
    if std::env::var_os(UPDATE).is_some_and(|v| v == "1") {
        write_atomically(&pin_path, &actual.render());
        eprintln!("corpus pin: {UPDATE}=1, {} rewritten", pin_path.display());
        return;
    }
    let text = std::fs::read_to_string(&pin_path).unwrap_or_else(|e| {
        panic!(
            "reading {}: {e} (create it with {UPDATE}=1)",
            pin_path.display()
        )
    });
    let pinned =
        Pin::parse(&text).unwrap_or_else(|e| panic!("{} is malformed: {e}", pin_path.display()));
    if pinned != actual {
        let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corpus_pin_actual.json");
        let kept_note = match std::fs::write(&kept, &output.stdout) {
            Ok(()) => format!("the actual output is in {}", kept.display()),
            Err(e) => format!("(could not keep the actual output: {e})"),
        };
        panic!(
            "`tokenguard check {CORPUS_ARG} --format json` no longer prints what {PIN} pins:\n\
             {}{kept_note}\n\
             If the change is intended, rewrite the pin with {UPDATE}=1 and say why in the commit.",
            explain(&pinned, &actual)
        );
    }
}
