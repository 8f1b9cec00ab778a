//! Differential tests: tokenguard's syntax errors (TG000) against the
//! cluster's own YAML decoder.
//!
//! kubectl and the API server cut a stream at its `---` lines
//! (k8s.io/apimachinery's YAMLReader) and decode each piece with go-yaml v2
//! through sigs.k8s.io/yaml. `tests/oracles/goyaml/main.go` does the same,
//! built offline by `scripts/build-oracles.sh` into `target/oracles/`. Three
//! comparisons, each a specification:
//!
//! * `corpus_documents_are_rejected_exactly_where_go_yaml_rejects_them`:
//!   every YAML file of `../shared/corpus` except chart templates, read as
//!   the command line reads it, has a syntax error in exactly the documents
//!   go-yaml rejects.
//! * `mutated_corpus_documents_are_rejected_exactly_where_go_yaml_rejects_them`:
//!   the same rule for clean corpus files after one mutation each (a tab
//!   after a colon, other line ends, a byte-order mark, trailing blanks,
//!   flow collections and quoted scalars indented differently).
//! * `yaml_test_suite_inputs_are_judged_as_go_yaml_judges_them`: no valid
//!   input of `../shared/yaml-test-suite` is rejected unless go-yaml rejects
//!   it too, and every invalid input go-yaml rejects is reported.
//!
//! Documents are aligned by bytes: the oracle gives each document's byte
//! range (from its `---` line to the next), and a syntax error belongs to the
//! document its start offset falls in. Both sides cut at `---` lines; where
//! they cut differently (a `...` line, a file whose lines end in a lone CR)
//! the oracle's document holds several of tokenguard's.
//!
//! Every difference must be listed with its reason in `tests/yaml_oracle/`
//! (one TOML file per test); a listed difference that no longer occurs fails
//! the test too, so the lists stay true. `TOKENGUARD_UPDATE_ORACLE=1`
//! rewrites them from what is found, keeping the reasons of the entries that
//! remain; a new entry gets the reason `UNREASONED`, which fails until a
//! person writes the reason. The tests skip, saying so, without Go or
//! `../shared`; `TOKENGUARD_REQUIRE_ORACLES=1` (set by `.ci/run`) turns a
//! missing oracle into a failure.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;
use tokenguard_analysis::files::{classify, FileKind};
use tokenguard_analysis::helm::{has_actions, Template};
use tokenguard_analysis::{parse, LineIndex, Options};

/// Makes a missing oracle a failure instead of a skip.
const REQUIRE_ORACLES: &str = "TOKENGUARD_REQUIRE_ORACLES";
/// Rewrites the lists of known differences.
const UPDATE: &str = "TOKENGUARD_UPDATE_ORACLE";
/// The reason a new entry gets until a person writes one.
const UNREASONED: &str = "UNREASONED";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------
// The oracle
// ---------------------------------------------------------------------------

/// One document as go-yaml (through kubectl's reader) judges it.
#[derive(Clone, Debug)]
struct OracleDocument {
    /// Bytes from the start of its `---` line (0 for the first) to the
    /// start of the next one.
    start: usize,
    end: usize,
    /// 1-based line of `start`.
    line: usize,
    /// go-yaml's message when it rejects the document.
    error: Option<String>,
}

/// The oracle's binary, built once per test process; `None` (after saying
/// so) when Go or go-yaml's source is missing and oracles are not required.
fn oracle(test: &str) -> Option<&'static Path> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let output = match Command::new("bash")
            .arg(root().join("scripts/build-oracles.sh"))
            .output()
        {
            Ok(output) => output,
            Err(e) => return Err(format!("bash cannot run scripts/build-oracles.sh: {e}")),
        };
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        match output.status.code() {
            Some(0) => Ok(root().join("target/oracles/goyaml-oracle")),
            Some(3) => Err(stderr),
            _ => panic!(
                "scripts/build-oracles.sh failed ({}):\n{stderr}",
                output.status
            ),
        }
    });
    match built {
        Ok(binary) => Some(binary.as_path()),
        Err(missing) => {
            if std::env::var_os(REQUIRE_ORACLES).is_some_and(|v| v == "1") {
                panic!(
                    "{test}: the go-yaml oracle cannot be built and {REQUIRE_ORACLES}=1: {missing}"
                );
            }
            eprintln!(
                "SKIPPED {test}: the go-yaml oracle cannot be built ({missing}); \
                 install golang-go and golang-gopkg-yaml.v2-dev"
            );
            None
        }
    }
}

/// The oracle's verdicts on `paths`, in one process.
fn run_oracle(binary: &Path, paths: &[PathBuf]) -> HashMap<PathBuf, Vec<OracleDocument>> {
    let mut child = Command::new(binary)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("running {}: {e}", binary.display()));
    let mut stdin = child.stdin.take().expect("the oracle's stdin");
    let list: String = paths.iter().map(|p| format!("{}\n", p.display())).collect();
    let writer = std::thread::spawn(move || stdin.write_all(list.as_bytes()));
    let stdout = child.stdout.take().expect("the oracle's stdout");
    let mut verdicts = HashMap::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("the oracle's output");
        let report: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the oracle wrote {line:?}, not JSON: {e}"));
        let path = PathBuf::from(report["path"].as_str().expect("a path"));
        if let Some(error) = report["read_error"].as_str() {
            panic!("the oracle cannot read {}: {error}", path.display());
        }
        let number = |d: &Value, key: &str| {
            d[key]
                .as_u64()
                .unwrap_or_else(|| panic!("the oracle's {key} in {line}")) as usize
        };
        let documents = report["documents"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|d| OracleDocument {
                start: number(d, "start"),
                end: number(d, "end"),
                line: number(d, "line"),
                error: d["error"].as_str().map(str::to_string),
            })
            .collect();
        verdicts.insert(path, documents);
    }
    writer
        .join()
        .expect("the writer thread")
        .expect("writing the list to the oracle");
    let status = child.wait().expect("the oracle exits");
    assert!(status.success(), "the oracle failed: {status}");
    assert_eq!(
        verdicts.len(),
        paths.len(),
        "the oracle answered for {} of {} files",
        verdicts.len(),
        paths.len()
    );
    verdicts
}

// ---------------------------------------------------------------------------
// tokenguard's reading
// ---------------------------------------------------------------------------

/// A syntax error tokenguard reports: where it starts, and its message.
#[derive(Clone, Debug)]
struct TgError {
    offset: usize,
    line: usize,
    message: String,
}

/// How the command line reads a file: `None` for a chart template or
/// helper (not plain YAML), else its syntax errors, and for a file with Go
/// template actions outside a chart (which the command line masks before
/// parsing, every byte kept in place) the masked text it parses.
fn tokenguard_reading(path: &Path, text: &str) -> Option<(Vec<TgError>, Option<String>)> {
    let is_chart = |dir: &Path| dir.join("Chart.yaml").is_file();
    match classify(Some(path), &is_chart, || has_actions(text)) {
        FileKind::ChartTemplate(_) | FileKind::ChartHelper => None,
        FileKind::LooseTemplate => {
            let template = Template::parse(text, None, Options::builtin());
            let errors = errors_of(text, &template.parsed.syntax_errors);
            Some((errors, Some(template.masked.text.clone())))
        }
        FileKind::Manifest => Some((plain_errors(text), None)),
    }
}

/// The syntax errors of `text` read as plain YAML.
fn plain_errors(text: &str) -> Vec<TgError> {
    errors_of(text, &parse(text, Options::builtin()).syntax_errors)
}

fn errors_of(text: &str, errors: &[tokenguard_analysis::SyntaxError]) -> Vec<TgError> {
    let lines = LineIndex::new(text);
    errors
        .iter()
        .map(|e| TgError {
            offset: e.range.start,
            line: lines.line_of(e.range.start) + 1,
            message: e.message.clone(),
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Comparing
// ---------------------------------------------------------------------------

/// Which side rejects what the other accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Direction {
    /// tokenguard reports a syntax error where go-yaml accepts (a false
    /// alarm, which also hides the document's workloads).
    TokenguardOnly,
    /// go-yaml rejects what tokenguard reads without complaint.
    GoYamlOnly,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::TokenguardOnly => "tokenguard-only",
            Direction::GoYamlOnly => "go-yaml-only",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Direction::TokenguardOnly, Direction::GoYamlOnly]
            .into_iter()
            .find(|d| d.name() == name)
    }
}

/// What identifies a difference: the file (or case) and the document (1-based;
/// 0 for a whole input).
type Key = (String, usize, Direction);

/// A difference found, with what each side said.
#[derive(Clone, Debug)]
struct Found {
    line: usize,
    detail: String,
}

/// Tallies of one comparison.
#[derive(Default)]
struct Tally {
    /// Files or cases compared.
    inputs: usize,
    /// Documents (or cases) compared.
    compared: usize,
    both_accept: usize,
    both_reject: usize,
    /// Disagreements the rule allows (the test suite's: tokenguard may
    /// accept a valid input go-yaml rejects, or reject an invalid one go-yaml
    /// accepts).
    allowed: usize,
    skipped: usize,
}

/// Compares one file document by document; returns its differences.
fn compare_documents(
    name: &str,
    documents: &[OracleDocument],
    errors: &[TgError],
    tally: &mut Tally,
    found: &mut BTreeMap<Key, Found>,
) {
    tally.inputs += 1;
    for (i, doc) in documents.iter().enumerate() {
        let last = i + 1 == documents.len();
        let mine: Vec<&TgError> = errors
            .iter()
            .filter(|e| doc.start <= e.offset && (e.offset < doc.end || last))
            .collect();
        if doc.start == doc.end && mine.is_empty() {
            continue; // the empty piece before a leading `---`
        }
        tally.compared += 1;
        let direction = match (&doc.error, mine.first()) {
            (None, None) => {
                tally.both_accept += 1;
                continue;
            }
            (Some(_), Some(_)) => {
                tally.both_reject += 1;
                continue;
            }
            (None, Some(_)) => Direction::TokenguardOnly,
            (Some(_), None) => Direction::GoYamlOnly,
        };
        let detail = match (&doc.error, mine.first()) {
            (_, Some(e)) => format!("tokenguard at line {}: {}", e.line, e.message),
            (Some(go), None) => format!("go-yaml: {go}"),
            (None, None) => unreachable!(),
        };
        found.insert(
            (name.to_string(), i + 1, direction),
            Found {
                line: doc.line,
                detail: shortened(&detail),
            },
        );
    }
}

/// The masked reading's documents, each accepted when the raw reading
/// accepts the same bytes too.
fn either_accepts(raw: &[OracleDocument], masked: &[OracleDocument]) -> Vec<OracleDocument> {
    masked
        .iter()
        .map(|doc| {
            let raw_accepts = raw
                .iter()
                .any(|r| r.start == doc.start && r.end == doc.end && r.error.is_none());
            let mut doc = doc.clone();
            if raw_accepts {
                doc.error = None;
            } else if let Some(error) = &mut doc.error {
                *error = format!("{error} (on the masked template; the raw text is rejected too)");
            }
            doc
        })
        .collect()
}

/// A message cut to a length a list can show (kubectl's separator error
/// quotes the rest of the line, which can be a whole file).
fn shortened(detail: &str) -> String {
    const MAX: usize = 200;
    match detail.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &detail[..cut]),
        None => detail.to_string(),
    }
}

// ---------------------------------------------------------------------------
// The lists of known differences
// ---------------------------------------------------------------------------

struct Entry {
    line: usize,
    detail: String,
    reason: String,
}

fn list_path(name: &str) -> PathBuf {
    root()
        .join("tests/yaml_oracle")
        .join(format!("{name}.toml"))
}

fn load_list(path: &Path) -> BTreeMap<Key, Entry> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return BTreeMap::new();
    };
    let table: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
    let mut entries = BTreeMap::new();
    let list = table
        .get("difference")
        .and_then(toml::Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for item in list {
        let field = |key: &str| {
            item.get(key)
                .unwrap_or_else(|| panic!("{}: an entry without `{key}`: {item}", path.display()))
        };
        let text_field = |key: &str| {
            field(key)
                .as_str()
                .unwrap_or_else(|| panic!("{}: `{key}` is not text in {item}", path.display()))
                .to_string()
        };
        let number = |key: &str| {
            item.get(key).map_or(0, |v| {
                v.as_integer()
                    .unwrap_or_else(|| panic!("{}: `{key}` is not a number", path.display()))
                    as usize
            })
        };
        let direction = Direction::from_name(&text_field("direction")).unwrap_or_else(|| {
            panic!(
                "{}: `direction` must be tokenguard-only or go-yaml-only in {item}",
                path.display()
            )
        });
        let key = (text_field("case"), number("document"), direction);
        let entry = Entry {
            line: number("line"),
            detail: item
                .get("detail")
                .and_then(toml::Value::as_str)
                .unwrap_or_default()
                .to_string(),
            reason: text_field("reason"),
        };
        if entries.insert(key.clone(), entry).is_some() {
            panic!("{}: {key:?} is listed twice", path.display());
        }
    }
    entries
}

fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// Writes the list (temporary file, then rename).
fn write_list(path: &Path, header: &str, entries: &BTreeMap<Key, Entry>) {
    let mut out = String::new();
    for line in header.lines() {
        out.push_str(&format!("# {line}\n").replace("# \n", "#\n"));
    }
    for ((case, document, direction), entry) in entries {
        out.push_str("\n[[difference]]\n");
        out.push_str(&format!("case = {}\n", quoted(case)));
        if *document > 0 {
            out.push_str(&format!("document = {document}\n"));
        }
        if entry.line > 0 {
            out.push_str(&format!("line = {}\n", entry.line));
        }
        out.push_str(&format!("direction = {}\n", quoted(direction.name())));
        out.push_str(&format!("detail = {}\n", quoted(&entry.detail)));
        out.push_str(&format!("reason = {}\n", quoted(&entry.reason)));
    }
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("creating tests/yaml_oracle");
    let temp = path.with_extension("toml.tmp");
    std::fs::write(&temp, out).unwrap_or_else(|e| panic!("writing {}: {e}", temp.display()));
    std::fs::rename(&temp, path).unwrap_or_else(|e| panic!("renaming to {}: {e}", path.display()));
}

/// A difference's key for a person: the file or case, the document and its
/// line when it is one of several, and the direction.
fn shown((case, document, direction): &Key, line: usize) -> String {
    match document {
        0 => format!("{case} ({})", direction.name()),
        n => format!("{case} document {n} (line {line}, {})", direction.name()),
    }
}

/// Checks the differences found against the list `name`, prints the
/// counts, and fails on anything unlisted, listed but gone, or unreasoned.
fn settle(name: &str, what: &str, header: &str, tally: &Tally, found: BTreeMap<Key, Found>) {
    let path = list_path(name);
    let known = load_list(&path);
    let updating = std::env::var_os(UPDATE).is_some_and(|v| v == "1");

    let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for (key, diff) in &found {
        match known.get(key) {
            Some(entry) => *by_reason.entry(entry.reason.as_str()).or_default() += 1,
            None => problems.push(format!(
                "  not listed: {}: {}",
                shown(key, diff.line),
                diff.detail
            )),
        }
    }
    for (key, entry) in &known {
        if !found.contains_key(key) {
            problems.push(format!(
                "  listed but no longer found: {}: {}",
                shown(key, entry.line),
                entry.reason
            ));
        } else if entry.reason == UNREASONED || entry.reason.trim().is_empty() {
            problems.push(format!("  no reason written: {}", shown(key, entry.line)));
        }
    }

    let listed: usize = by_reason.values().sum();
    println!(
        "{what}: {} inputs compared ({} skipped), {} documents compared, {} agree \
         ({} both accept, {} both reject), {} allowed disagreements, {} listed differences",
        tally.inputs,
        tally.skipped,
        tally.compared,
        tally.both_accept + tally.both_reject,
        tally.both_accept,
        tally.both_reject,
        tally.allowed,
        listed
    );
    for (reason, count) in &by_reason {
        println!("  {count:5}  {reason}");
    }

    if updating {
        let entries: BTreeMap<Key, Entry> = found
            .into_iter()
            .map(|(key, diff)| {
                let reason = known
                    .get(&key)
                    .map_or_else(|| UNREASONED.to_string(), |e| e.reason.clone());
                let entry = Entry {
                    line: diff.line,
                    detail: diff.detail,
                    reason,
                };
                (key, entry)
            })
            .collect();
        let unreasoned = entries.values().filter(|e| e.reason == UNREASONED).count();
        write_list(&path, header, &entries);
        println!(
            "{UPDATE}=1: rewrote {} ({} entries)",
            path.display(),
            entries.len()
        );
        assert_eq!(
            unreasoned,
            0,
            "{}: {unreasoned} entries have no reason yet: write one for each `reason = \"{UNREASONED}\"`",
            path.display()
        );
        return;
    }
    assert!(
        problems.is_empty(),
        "{what}: {} differences from {} are not as listed:\n{}\n\
         Fix tokenguard, or list the difference with its reason: \
         {UPDATE}=1 cargo test --test yaml_oracle rewrites the list \
         (keeping the reasons; new entries get \"{UNREASONED}\", to replace)",
        problems.len(),
        path.display(),
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------

/// The corpus's YAML files, relative names beside absolute paths.
fn corpus_files(shared: &Path) -> Vec<(String, PathBuf)> {
    let corpus = shared.join("corpus");
    common::files_under(&corpus, common::is_yaml)
        .into_iter()
        .map(|path| {
            let name = path
                .strip_prefix(&corpus)
                .expect("under the corpus")
                .to_string_lossy()
                .replace('\\', "/");
            (name, path)
        })
        .collect()
}

const CORPUS_HEADER: &str = "\
Documents of ../shared/corpus (chart templates left out) where tokenguard's
syntax errors (TG000) and go-yaml v2, as kubectl and the API server decode,
disagree (a template outside a chart is accepted when go-yaml accepts its raw
or its masked text). Written by tests/yaml_oracle.rs (corpus test); regenerate with
TOKENGUARD_UPDATE_ORACLE=1 cargo test --test yaml_oracle (reasons are kept).
case: the file; document: 1-based, as kubectl cuts at `---` lines; line: its
first line; direction: tokenguard-only (TG000, go-yaml accepts) or
go-yaml-only (go-yaml rejects, no TG000).";

#[test]
fn corpus_documents_are_rejected_exactly_where_go_yaml_rejects_them() {
    let test = "corpus_documents_are_rejected_exactly_where_go_yaml_rejects_them";
    let Some(shared) = common::shared_dir(test) else {
        return;
    };
    let Some(binary) = oracle(test) else {
        return;
    };
    let files = corpus_files(&shared);
    assert!(files.len() > 3000, "the corpus has {} files", files.len());

    // A template outside a chart is judged against go-yaml twice: as it is
    // (the cluster reads a file whose actions sit inside strings, such as
    // alert rules, as it is) and masked as tokenguard reads it (a template's
    // actions replaced by placeholders of the same length). A document is
    // accepted when either reading is.
    let masked_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("yaml_oracle_masked");
    let _ = std::fs::remove_dir_all(&masked_dir);
    let mut tally = Tally::default();
    let mut read = Vec::new();
    let (mut templates, mut not_utf8) = (0, 0);
    for (name, path) in &files {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let Ok(text) = String::from_utf8(bytes) else {
            not_utf8 += 1; // the command line refuses it
            continue;
        };
        match tokenguard_reading(path, &text) {
            Some((errors, masked)) => {
                let masked = masked.map(|masked| {
                    let copy = masked_dir.join(name);
                    std::fs::create_dir_all(copy.parent().expect("a folder")).expect("mkdir");
                    std::fs::write(&copy, masked).expect("writing a masked copy");
                    copy
                });
                read.push((name, path.clone(), masked, errors));
            }
            None => templates += 1,
        }
    }
    tally.skipped = templates + not_utf8;
    let paths: Vec<PathBuf> = read
        .iter()
        .flat_map(|(_, path, masked, _)| std::iter::once(path).chain(masked))
        .cloned()
        .collect();
    let verdicts = run_oracle(binary, &paths);
    let mut found = BTreeMap::new();
    for (name, path, masked, errors) in &read {
        let documents = match masked {
            None => verdicts[path].clone(),
            Some(copy) => either_accepts(&verdicts[path], &verdicts[copy]),
        };
        compare_documents(name, &documents, errors, &mut tally, &mut found);
    }
    let loose = read
        .iter()
        .filter(|(_, _, masked, _)| masked.is_some())
        .count();
    println!(
        "corpus: {} files: {templates} chart templates and {not_utf8} files not UTF-8 \
         skipped; {loose} of those compared are templates outside a chart",
        files.len()
    );
    settle("corpus", "corpus", CORPUS_HEADER, &tally, found);
}

// ---------------------------------------------------------------------------
// Mutations of the corpus's clean files
// ---------------------------------------------------------------------------

/// How many clean files each mutation is applied to.
const MUTATED_PER_KIND: usize = 40;
/// Files looked at to find clean ones, in the sampling order.
const CANDIDATES: usize = 700;
/// The sample's seed: change it only on purpose (the list follows it).
const SEED: u64 = 13;

/// FNV-1a, for a sampling order that is the same on every machine.
fn fnv1a(seed: u64, text: &str) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// A mutation: its name, and what it makes of a text (`None` when it does
/// not apply).
type Mutation = (&'static str, fn(&str) -> Option<String>);

const MUTATIONS: &[Mutation] = &[
    ("tab-after-colon", tab_after_colon),
    ("crlf", |t| {
        (!t.contains('\r')).then(|| t.replace('\n', "\r\n"))
    }),
    ("cr-only", |t| {
        (!t.contains('\r')).then(|| t.replace('\n', "\r"))
    }),
    ("bom", |t| {
        (!t.starts_with('\u{feff}')).then(|| format!("\u{feff}{t}"))
    }),
    ("trailing-spaces", |t| Some(append_to_lines(t, "  ", true))),
    ("trailing-tab", |t| Some(append_to_lines(t, "\t", false))),
    ("tab-on-blank-lines", tab_on_blank_lines),
    ("flow-closed-at-key-indent", |t| {
        flow_sequence(t, 2, 0, "", "")
    }),
    ("flow-closed-at-key-indent-after-comma", |t| {
        flow_sequence(t, 2, 0, ",", "")
    }),
    ("flow-quoted-closed-at-key-indent", |t| {
        flow_sequence(t, 2, 0, "", "\"")
    }),
    ("flow-items-at-key-indent", |t| {
        flow_sequence(t, 0, 0, "", "")
    }),
    ("flow-closed-deeper", |t| flow_sequence(t, 2, 2, ",", "")),
    ("flow-quoted-closed-deeper", |t| {
        flow_sequence(t, 2, 2, "", "'")
    }),
    ("quoted-continued-at-key-indent", |t| quoted_continued(t, 0)),
    ("quoted-continued-deeper", |t| quoted_continued(t, 2)),
];

/// The lines of `text` with their line ends.
fn lines_of(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Which lines are inside a block scalar (`|` or `>` content), by a plain
/// indentation rule: after a line ending in a block header, every line more
/// indented than it (or blank).
fn in_block_scalar(lines: &[&str]) -> Vec<bool> {
    let mut inside = vec![false; lines.len()];
    let mut header_indent: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        let content = line.trim_end();
        if let Some(indent) = header_indent {
            if content.trim().is_empty() || indent_of(line) > indent {
                inside[i] = true;
                continue;
            }
            header_indent = None;
        }
        let last = content.split(" #").next().unwrap_or("").trim_end();
        let header = last
            .rsplit(' ')
            .next()
            .is_some_and(|w| !w.is_empty() && w.starts_with(['|', '>']) && w.len() <= 3);
        if header {
            header_indent = Some(indent_of(line));
        }
    }
    inside
}

/// `key: value` of a block mapping line: (indent, key end) when the line
/// is one, outside block scalars, with a plain value that starts with a
/// letter, digit, `_` or `-`.
fn plain_key_value(line: &str) -> Option<usize> {
    let body = line.trim_start_matches(' ');
    let body = body.strip_prefix("- ").unwrap_or(body);
    let key_len = body
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || b"_.-/".contains(b))
        .count();
    let rest = &body[key_len..];
    let value = rest.strip_prefix(": ")?;
    let first = value.bytes().next()?;
    (key_len > 0 && (first.is_ascii_alphanumeric() || first == b'_' || first == b'-'))
        .then(|| line.len() - rest.len())
}

/// One `key: value` line (chosen by hash) gets a tab after its colon.
fn tab_after_colon(text: &str) -> Option<String> {
    let lines = lines_of(text);
    let scalar = in_block_scalar(&lines);
    let eligible: Vec<(usize, usize)> = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| !scalar[*i])
        .filter_map(|(i, line)| plain_key_value(line).map(|colon| (i, colon)))
        .collect();
    if eligible.is_empty() {
        return None;
    }
    let (line, colon) = eligible[(fnv1a(SEED, text) % eligible.len() as u64) as usize];
    let mut out = String::with_capacity(text.len());
    for (i, l) in lines.iter().enumerate() {
        if i == line {
            out.push_str(&l[..colon + 1]);
            out.push('\t');
            out.push_str(&l[colon + 2..]);
        } else {
            out.push_str(l);
        }
    }
    Some(out)
}

/// Every line (or every line that is not blank) gets `blanks` before its
/// line end.
fn append_to_lines(text: &str, blanks: &str, blank_lines_too: bool) -> String {
    lines_of(text)
        .iter()
        .map(|line| {
            let body = line.trim_end_matches(['\n', '\r']);
            if body.trim().is_empty() && !blank_lines_too {
                return line.to_string();
            }
            format!("{body}{blanks}{}", &line[body.len()..])
        })
        .collect()
}

/// Every empty line holds a tab (files with an empty line).
fn tab_on_blank_lines(text: &str) -> Option<String> {
    let lines = lines_of(text);
    let blank = |line: &&str| line.trim_end_matches(['\n', '\r']).is_empty();
    lines.iter().any(blank).then(|| {
        lines
            .iter()
            .map(|line| match blank(line) {
                true => format!("\t{line}"),
                false => line.to_string(),
            })
            .collect()
    })
}

/// Whether a sequence item is a plain scalar simple enough to move into a
/// flow sequence unchanged.
fn flow_safe(item: &str) -> bool {
    !item.is_empty()
        && !item.contains([
            ':', '#', ',', '[', ']', '{', '}', '"', '\'', '&', '*', '!', '|', '>',
        ])
        && !item.starts_with(['-', '?', '%', '@', '`'])
}

/// The column where the key of a mapping line starts (after a `- ` when the
/// key opens a sequence item).
fn key_column(line: &str) -> usize {
    let content = line.trim_end();
    let indent = indent_of(line);
    match content[indent..].strip_prefix("- ") {
        Some(rest) => content.len() - rest.trim_start().len(),
        None => indent,
    }
}

/// Whether the key on line `i` belongs to a mapping that is a sequence item
/// (`- name: a` then `args:` under `name`), where Kubernetes keeps `args`,
/// `command` and the like.
fn in_sequence_item(lines: &[&str], i: usize, column: usize) -> bool {
    for line in lines[..i].iter().rev() {
        let content = line.trim();
        if content.is_empty() || content.starts_with('#') || indent_of(line) > column {
            continue;
        }
        if key_column(line) != column {
            return false;
        }
        if content.starts_with("- ") {
            return true;
        }
    }
    false
}

/// One block sequence of simple scalars under a key (chosen by hash among
/// those of the file, keys of sequence items first) becomes a flow sequence
/// over several lines: items
/// `items` columns deeper than the key, the last one followed by `last` (a
/// trailing comma or nothing), each in `quote`s (or none), the closing
/// bracket `close` columns deeper.
fn flow_sequence(
    text: &str,
    items: usize,
    close: usize,
    last: &str,
    quote: &str,
) -> Option<String> {
    let lines = lines_of(text);
    let scalar = in_block_scalar(&lines);
    let mut eligible = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let content = line.trim_end();
        if scalar[i] || !content.ends_with(':') || content.trim_start().starts_with('#') {
            continue;
        }
        let key_column = key_column(line);
        let mut values = Vec::new();
        let mut j = i + 1;
        while let Some(next) = lines.get(j) {
            let Some(value) = next.trim_end().trim_start().strip_prefix("- ") else {
                break;
            };
            if indent_of(next) < key_column || !flow_safe(value.trim()) {
                break;
            }
            values.push(value.trim());
            j += 1;
        }
        // The sequence ends here: no further item (a compact sequence's
        // items stand at the key's column).
        let ends_here = lines.get(j).is_none_or(|next| {
            next.trim().is_empty()
                || indent_of(next) < key_column
                || (indent_of(next) == key_column && !next.trim_start().starts_with("- "))
        });
        if !values.is_empty() && ends_here {
            eligible.push((i, j, key_column, values));
        }
    }
    let in_items: Vec<_> = eligible
        .iter()
        .filter(|(i, _, column, _)| in_sequence_item(&lines, *i, *column))
        .cloned()
        .collect();
    if !in_items.is_empty() {
        eligible = in_items;
    }
    if eligible.is_empty() {
        return None;
    }
    let (i, j, key_column, values) =
        &eligible[(fnv1a(SEED, text) % eligible.len() as u64) as usize];
    let line = lines[*i];
    let eol = if line.ends_with("\r\n") { "\r\n" } else { "\n" };
    let mut out: String = lines[..*i].concat();
    out.push_str(&format!("{} [{eol}", line.trim_end()));
    for (k, value) in values.iter().enumerate() {
        let comma = if k + 1 < values.len() { "," } else { last };
        let item = format!("{quote}{value}{quote}");
        out.push_str(&format!(
            "{}{item}{comma}{eol}",
            " ".repeat(key_column + items)
        ));
    }
    out.push_str(&format!("{}]{eol}", " ".repeat(key_column + close)));
    out.push_str(&lines[*j..].concat());
    Some(out)
}

/// One `key: "two words"` line (double or single quotes, closed on the
/// line, no escapes; chosen by hash) is broken after its first word, the
/// rest on a line `deeper` columns deeper than the key.
fn quoted_continued(text: &str, deeper: usize) -> Option<String> {
    let lines = lines_of(text);
    let scalar = in_block_scalar(&lines);
    let mut eligible = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let content = line.trim_end();
        if scalar[i] || content.trim_start().starts_with('#') {
            continue;
        }
        let Some(colon) = content.find(": ") else {
            continue;
        };
        let value = &content[colon + 2..];
        let Some(quote) = value.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        let inner = &value[1..];
        if inner.len() < 3
            || !inner.ends_with(quote)
            || inner[..inner.len() - 1].contains([quote, '\\'])
        {
            continue;
        }
        let inner = &inner[..inner.len() - 1];
        if let Some(space) = inner.find(' ').filter(|s| *s > 0 && *s + 1 < inner.len()) {
            eligible.push((i, colon, quote, inner, space, key_column(line)));
        }
    }
    if eligible.is_empty() {
        return None;
    }
    let (i, colon, quote, inner, space, key_column) =
        eligible[(fnv1a(SEED, text) % eligible.len() as u64) as usize];
    let line = lines[i];
    let eol = if line.ends_with("\r\n") { "\r\n" } else { "\n" };
    let mut out: String = lines[..i].concat();
    out.push_str(&format!(
        "{}{quote}{}{eol}{}{}{quote}{eol}",
        &line[..colon + 2],
        &inner[..space],
        " ".repeat(key_column + deeper),
        &inner[space + 1..]
    ));
    out.push_str(&lines[i + 1..].concat());
    Some(out)
}

const MUTATIONS_HEADER: &str = "\
Documents of mutated clean corpus files where tokenguard's syntax errors
(TG000) and go-yaml v2, as kubectl and the API server decode, disagree.
Written by tests/yaml_oracle.rs (mutations test); regenerate with
TOKENGUARD_UPDATE_ORACLE=1 cargo test --test yaml_oracle (reasons are kept).
case: `<mutation> <corpus file>`; document: 1-based, as kubectl cuts at `---`
lines; direction: tokenguard-only (TG000, go-yaml accepts) or go-yaml-only.";

#[test]
fn mutated_corpus_documents_are_rejected_exactly_where_go_yaml_rejects_them() {
    let test = "mutated_corpus_documents_are_rejected_exactly_where_go_yaml_rejects_them";
    let Some(shared) = common::shared_dir(test) else {
        return;
    };
    let Some(binary) = oracle(test) else {
        return;
    };
    // Plain manifests of moderate size, in a fixed pseudo-random order.
    let mut candidates: Vec<(String, PathBuf, String)> = corpus_files(&shared)
        .into_iter()
        .filter_map(|(name, path)| {
            let text = std::fs::read_to_string(&path).ok()?;
            let is_chart = |dir: &Path| dir.join("Chart.yaml").is_file();
            let plain =
                classify(Some(&path), &is_chart, || has_actions(&text)) == FileKind::Manifest;
            (plain && text.len() < 64 * 1024).then_some((name, path, text))
        })
        .collect();
    candidates.sort_by_key(|(name, _, _)| fnv1a(SEED, name));
    candidates.truncate(CANDIDATES);

    // Clean: both sides accept every document of the original.
    let paths: Vec<PathBuf> = candidates.iter().map(|(_, p, _)| p.clone()).collect();
    let originals = run_oracle(binary, &paths);
    let clean: Vec<&(String, PathBuf, String)> = candidates
        .iter()
        .filter(|(_, path, text)| {
            plain_errors(text).is_empty() && originals[path].iter().all(|d| d.error.is_none())
        })
        .collect();

    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("yaml_oracle_mutations");
    let _ = std::fs::remove_dir_all(&out);
    let mut mutated = Vec::new();
    let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for (kind, mutate) in MUTATIONS {
        let mut taken = 0;
        for (name, _, text) in &clean {
            if taken == MUTATED_PER_KIND {
                break;
            }
            let Some(new_text) = mutate(text) else {
                continue;
            };
            let path = out.join(kind).join(name);
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
            std::fs::write(&path, &new_text).expect("writing a mutated file");
            mutated.push((format!("{kind} {name}"), path, new_text));
            taken += 1;
        }
        per_kind.insert(kind, taken);
    }
    let paths: Vec<PathBuf> = mutated.iter().map(|(_, p, _)| p.clone()).collect();
    let verdicts = run_oracle(binary, &paths);
    let mut tally = Tally::default();
    let mut found = BTreeMap::new();
    for (name, path, text) in &mutated {
        compare_documents(
            name,
            &verdicts[path],
            &plain_errors(text),
            &mut tally,
            &mut found,
        );
    }
    println!(
        "mutations: {} clean files among {} candidates; mutated files per kind: {per_kind:?}",
        clean.len(),
        candidates.len()
    );
    settle("mutations", "mutations", MUTATIONS_HEADER, &tally, found);
}

// ---------------------------------------------------------------------------
// The YAML test suite
// ---------------------------------------------------------------------------

const SUITE_HEADER: &str = "\
Inputs of ../shared/yaml-test-suite where tokenguard and go-yaml v2 (as
kubectl and the API server decode) disagree in a way the test forbids:
tokenguard-only: a valid input tokenguard rejects and go-yaml accepts;
go-yaml-only: an invalid input go-yaml rejects and tokenguard accepts.
Written by tests/yaml_oracle.rs (test suite test); regenerate with
TOKENGUARD_UPDATE_ORACLE=1 cargo test --test yaml_oracle (reasons are kept).";

#[test]
fn yaml_test_suite_inputs_are_judged_as_go_yaml_judges_them() {
    let test = "yaml_test_suite_inputs_are_judged_as_go_yaml_judges_them";
    let Some(shared) = common::shared_dir(test) else {
        return;
    };
    let Some(binary) = oracle(test) else {
        return;
    };
    let cases_dir = shared.join("yaml-test-suite/cases");
    let inputs = common::files_under(&cases_dir, |p| p.ends_with("in.yaml"));
    assert_eq!(inputs.len(), 402, "the suite has 402 inputs");
    let verdicts = run_oracle(binary, &inputs);

    let mut tally = Tally::default();
    let mut found = BTreeMap::new();
    let (mut valid, mut invalid) = (0, 0);
    // The disagreements the rule allows, by kind.
    let (mut valid_only_go_rejects, mut invalid_only_tokenguard_rejects) = (0, 0);
    for path in &inputs {
        let folder = path.parent().expect("a case folder");
        let case = folder
            .strip_prefix(&cases_dir)
            .expect("under cases/")
            .to_string_lossy()
            .replace('\\', "/");
        let is_valid = !folder.join("error").exists();
        if is_valid {
            valid += 1;
        } else {
            invalid += 1;
        }
        let bytes = std::fs::read(path).expect("reading a case");
        let errors = match String::from_utf8(bytes) {
            Ok(text) => plain_errors(&text),
            Err(_) => {
                tally.skipped += 1;
                continue;
            }
        };
        let go_error = verdicts[path].iter().find_map(|d| d.error.clone());
        tally.inputs += 1;
        tally.compared += 1;
        let direction = match (is_valid, errors.first(), &go_error) {
            (_, None, None) => {
                tally.both_accept += 1;
                continue;
            }
            (_, Some(_), Some(_)) => {
                tally.both_reject += 1;
                continue;
            }
            (true, Some(_), None) => Direction::TokenguardOnly,
            (false, None, Some(_)) => Direction::GoYamlOnly,
            // Allowed either way: tokenguard may accept a valid input that
            // go-yaml rejects, and reject an invalid one go-yaml accepts.
            (true, None, Some(_)) => {
                valid_only_go_rejects += 1;
                tally.allowed += 1;
                continue;
            }
            (false, Some(_), None) => {
                invalid_only_tokenguard_rejects += 1;
                tally.allowed += 1;
                continue;
            }
        };
        let detail = match (errors.first(), &go_error) {
            (Some(e), _) => format!("tokenguard at line {}: {}", e.line, e.message),
            (None, Some(go)) => format!("go-yaml: {go}"),
            (None, None) => unreachable!(),
        };
        let detail = shortened(&detail);
        found.insert((case, 0, direction), Found { line: 0, detail });
    }
    println!(
        "yaml-test-suite: {valid} valid inputs, {invalid} invalid; allowed: \
         {valid_only_go_rejects} valid inputs only go-yaml rejects, \
         {invalid_only_tokenguard_rejects} invalid inputs only tokenguard rejects"
    );
    settle(
        "yaml_test_suite",
        "yaml-test-suite",
        SUITE_HEADER,
        &tally,
        found,
    );
}
