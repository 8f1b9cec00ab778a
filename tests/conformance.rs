//! Conformance with the peer tools that check the same thing as TG001.
//!
//! `../shared/conformance/` holds the test fixtures of Sonar (S6865), KICS,
//! Checkov (CKV_K8S_38), Polaris, Kubescape (C-0034) and Trivy (KSV036), each
//! with its expectations written the way that peer writes them. Every test
//! below reads one peer's expectations as far as its convention can be read,
//! runs tokenguard over the same files (analysed together where the peer
//! analyses them together), and compares, case by case:
//!
//! * line-based peers (Sonar g1 and g2, KICS): which line of which object is
//!   reported, and where Sonar gives a `^^^` range, exactly which text;
//! * object-based peers (Sonar g3, Checkov, Polaris, Kubescape, Trivy): which
//!   objects are flagged.
//!
//! Where tokenguard deliberately behaves otherwise (RULE.md, "Where peers
//! differ", and its choice of locations), the case is listed in
//! `tests/conformance/deliberate_differences.json`, by file and line or by
//! file and object, with the RULE.md text it follows. A test fails on any
//! difference that is not listed and on any listed difference that no longer
//! occurs, so the list stays exact. Peer messages are never compared: each
//! tool words its own.
//!
//! Without `../shared` the tests say SKIPPED and pass, unless
//! `TOKENGUARD_REQUIRE_SHARED=1`. `CONFORMANCE_VERBOSE=1` prints every case.

mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use tokenguard_analysis::{
    apply_edits, check, parse, AccountIndex, Code, Finding, LineIndex, ParsedFile, Problem, FIELD,
    POD_SPEC_PATHS,
};

// ---------------------------------------------------------------------------
// The tests: one per peer.
// ---------------------------------------------------------------------------

/// Sonar's first version (2024-01): `# Noncompliant` comments mark the line,
/// `^^^` lines the exact text; each file is analysed alone.
#[test]
fn sonar_g1_reports_the_lines_its_noncompliant_comments_mark() {
    run_peer("sonar-g1");
}

/// Sonar with ServiceAccount lookup (2024-07): each case folder (a pod file
/// with its ServiceAccount file, or a Helm chart) is analysed together, and
/// `sonar/cases.json`'s pairs must be exactly those folders; issues stated in
/// Java code (the Helm chart, secondary locations) come from `cases.json`.
#[test]
fn sonar_g2_reports_the_lines_its_comments_and_code_state_including_linked_accounts() {
    run_peer("sonar-g2");
}

/// Sonar's current version reports on `containers` or `serviceAccountName`
/// (RULE.md keeps the `spec` key), so only which objects are flagged is
/// compared, plus the ServiceAccount setting it points to.
#[test]
fn sonar_g3_flags_the_same_objects() {
    run_peer("sonar-g3");
}

/// KICS: `positive_expected_result.json` lists every expected line of the
/// positive files; negative files must be clean. Each file is analysed alone.
#[test]
fn kics_reports_the_expected_lines_and_leaves_negatives_clean() {
    run_peer("kics");
}

/// Checkov: `checkov/expected.json` gives each resource's outcome.
#[test]
fn checkov_failed_resources_are_flagged_and_passed_ones_are_not() {
    run_peer("checkov");
}

/// Polaris: a `failure` file has at least one flagged object, a `success` file
/// none; all documents of a file are loaded together.
#[test]
fn polaris_failure_files_are_flagged_and_success_files_are_clean() {
    run_peer("polaris");
}

/// Kubescape: the inputs of each test case are evaluated together; the deny
/// list names the flagged objects, with the failed path (empty when the field
/// is missing) and the fix path.
#[test]
fn kubescape_deny_results_name_the_objects_tokenguard_flags() {
    run_peer("kubescape");
}

/// Trivy: the transcribed inputs of its Rego tests and the check's `good`
/// example, with the number of findings each must produce.
#[test]
fn trivy_denied_inputs_are_flagged_and_allowed_ones_are_not() {
    run_peer("trivy");
}

/// Nothing in `../shared/conformance` is silently ignored: every file is read
/// by one of the tests above or listed under `not_compared` with a reason.
#[test]
fn every_fixture_is_compared_or_listed_as_not_compared() {
    let Some(root) = conformance_root("every_fixture_is_compared_or_listed_as_not_compared") else {
        return;
    };
    let data = differences();
    let mut read = BTreeSet::new();
    for (_, run) in PEERS {
        read.extend(run(&root).files);
    }
    let mut problems = Vec::new();
    for file in all_files(&root, &root) {
        if file == "README.md" {
            continue;
        }
        let listed = data.not_compared.iter().any(|n| {
            n.paths
                .iter()
                .any(|p| file == *p || file.starts_with(p.as_str()) && p.ends_with('/'))
        });
        match (read.contains(&file), listed) {
            (false, false) => problems.push(format!(
                "{file}: neither compared nor listed under not_compared in {DIFFERENCES_PATH}"
            )),
            (true, true) => problems.push(format!(
                "{file}: compared, but also listed under not_compared in {DIFFERENCES_PATH}"
            )),
            _ => {}
        }
    }
    for entry in &data.not_compared {
        for path in &entry.paths {
            if !root.join(path).exists() {
                problems.push(format!("not_compared names {path}, which does not exist"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "fixture coverage:\n  {}",
        problems.join("\n  ")
    );
}

/// The differences file is well-formed: known peers, no duplicates, reasons
/// given, and each `rule_md` quoted verbatim from RULE.md.
#[test]
fn every_listed_difference_cites_rule_md_verbatim() {
    let data = differences();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for d in &data.differences {
        if !PEERS.iter().any(|(p, _)| *p == d.peer) {
            problems.push(format!("{}: unknown peer {:?}", d.location(), d.peer));
        }
        if !seen.insert(d.key()) {
            problems.push(format!("{}: listed twice", d.location()));
        }
        if d.reason.trim().is_empty() || d.rule_md.trim().is_empty() {
            problems.push(format!(
                "{}: rule_md and reason must be given",
                d.location()
            ));
        }
    }
    for n in &data.not_compared {
        if n.reason.trim().is_empty() || n.what.trim().is_empty() {
            problems.push(format!(
                "not_compared entry for {:?} lacks what or reason",
                n.peer
            ));
        }
    }
    if let Some(shared) = common::shared_dir("every_listed_difference_cites_rule_md_verbatim") {
        let rule_md =
            fs::read_to_string(shared.join("docs/RULE.md")).expect("../shared/docs/RULE.md");
        for d in &data.differences {
            if !squash(&rule_md).contains(&squash(&d.rule_md)) {
                problems.push(format!(
                    "{}: rule_md is not a verbatim quote of RULE.md: {:?}",
                    d.location(),
                    d.rule_md
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{DIFFERENCES_PATH}:\n  {}",
        problems.join("\n  ")
    );
}

/// Text with every run of whitespace made one space: a quote may be rewrapped.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The counts for the release note, all peers in one block.
#[test]
fn conformance_summary_for_the_release_note() {
    let Some(root) = conformance_root("conformance_summary_for_the_release_note") else {
        return;
    };
    let data = differences();
    let mut block = String::from("conformance summary (tokenguard vs peer fixtures):\n");
    for (peer, run) in PEERS {
        let verdict = judge(peer, &run(&root), &data.differences);
        let _ = writeln!(block, "  {}", verdict.summary(peer));
    }
    let _ = writeln!(block, "  not compared:");
    for n in &data.not_compared {
        let _ = writeln!(block, "    {}: {}", n.peer, n.what);
    }
    eprint!("{block}");
}

type PeerFn = fn(&Path) -> PeerRun;

const PEERS: &[(&str, PeerFn)] = &[
    ("sonar-g1", |root| sonar(root, "g1-2024-01", Compare::Lines)),
    ("sonar-g2", |root| sonar(root, "g2-2024-07", Compare::Lines)),
    ("sonar-g3", |root| {
        sonar(root, "g3-current", Compare::Objects)
    }),
    ("kics", kics),
    ("checkov", checkov),
    ("polaris", polaris),
    ("kubescape", kubescape),
    ("trivy", trivy),
];

// ---------------------------------------------------------------------------
// Cases, the differences file, and the verdict.
// ---------------------------------------------------------------------------

const DIFFERENCES_PATH: &str = "tests/conformance/deliberate_differences.json";
const DIFFERENCES_JSON: &str = include_str!("conformance/deliberate_differences.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DifferencesFile {
    #[serde(rename = "_about")]
    _about: Vec<String>,
    differences: Vec<Difference>,
    not_compared: Vec<NotCompared>,
}

/// A case where tokenguard deliberately disagrees with a peer.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Difference {
    peer: String,
    /// Relative to `../shared/conformance`.
    file: String,
    /// 1-based; absent for peers that report objects, not lines.
    #[serde(default)]
    line: Option<usize>,
    object: String,
    peer_expects: String,
    tokenguard: String,
    /// The RULE.md text tokenguard follows here, quoted verbatim.
    rule_md: String,
    reason: String,
}

type Key = (String, String, Option<usize>, String, String, String);

impl Difference {
    fn key(&self) -> Key {
        (
            self.peer.clone(),
            self.file.clone(),
            self.line,
            self.object.clone(),
            self.peer_expects.clone(),
            self.tokenguard.clone(),
        )
    }

    fn location(&self) -> String {
        location(&self.file, self.line, &self.object)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotCompared {
    peer: String,
    /// Files, or folders ending in `/`, relative to `../shared/conformance`,
    /// that no test reads; empty when an aspect of files that are read is not
    /// compared (messages, some locations).
    #[serde(default)]
    paths: Vec<String>,
    what: String,
    reason: String,
}

fn differences() -> DifferencesFile {
    serde_json::from_str(DIFFERENCES_JSON).unwrap_or_else(|e| panic!("{DIFFERENCES_PATH}: {e}"))
}

/// One peer expectation next to what tokenguard does there.
#[derive(Clone, Debug)]
struct Case {
    file: String,
    line: Option<usize>,
    object: String,
    peer_expects: String,
    tokenguard: String,
    agrees: bool,
}

impl Case {
    fn key(&self, peer: &str) -> Key {
        (
            peer.to_string(),
            self.file.clone(),
            self.line,
            self.object.clone(),
            self.peer_expects.clone(),
            self.tokenguard.clone(),
        )
    }
}

/// What one peer's comparison produced.
struct PeerRun {
    cases: Vec<Case>,
    /// Every file read, relative to `../shared/conformance`.
    files: BTreeSet<String>,
}

struct Verdict {
    matched: usize,
    deliberate: usize,
    unlisted: Vec<Case>,
    stale: Vec<Difference>,
}

impl Verdict {
    fn summary(&self, peer: &str) -> String {
        let mut line = format!(
            "conformance: {peer:<9} {:>3} matched, {:>2} deliberate difference{}",
            self.matched,
            self.deliberate,
            if self.deliberate == 1 { "" } else { "s" }
        );
        if !self.unlisted.is_empty() {
            let _ = write!(line, ", {} UNLISTED", self.unlisted.len());
        }
        if !self.stale.is_empty() {
            let _ = write!(line, ", {} STALE", self.stale.len());
        }
        line
    }
}

fn judge(peer: &str, run: &PeerRun, listed: &[Difference]) -> Verdict {
    let mut unused: Vec<&Difference> = listed.iter().filter(|d| d.peer == peer).collect();
    let mut verdict = Verdict {
        matched: 0,
        deliberate: 0,
        unlisted: Vec::new(),
        stale: Vec::new(),
    };
    for case in &run.cases {
        if case.agrees {
            verdict.matched += 1;
            continue;
        }
        let key = case.key(peer);
        match unused.iter().position(|d| d.key() == key) {
            Some(i) => {
                unused.remove(i);
                verdict.deliberate += 1;
            }
            None => verdict.unlisted.push(case.clone()),
        }
    }
    verdict.stale = unused.into_iter().cloned().collect();
    verdict
}

fn conformance_root(test: &str) -> Option<PathBuf> {
    common::shared_dir(test).map(|shared| shared.join("conformance"))
}

fn run_peer(peer: &str) {
    let Some(root) = conformance_root(peer) else {
        return;
    };
    let (_, run) = PEERS
        .iter()
        .find(|(p, _)| *p == peer)
        .expect("a peer of PEERS");
    let run = run(&root);
    assert!(
        !run.cases.is_empty(),
        "{peer}: no case was read from {}",
        root.display()
    );
    let verdict = judge(peer, &run, &differences().differences);
    if std::env::var_os("CONFORMANCE_VERBOSE").is_some() {
        for case in &run.cases {
            eprintln!(
                "{} {}\n    {peer}: {}\n    tokenguard: {}",
                if case.agrees { "same" } else { "DIFF" },
                location(&case.file, case.line, &case.object),
                case.peer_expects,
                case.tokenguard
            );
        }
    }
    eprintln!("{}", verdict.summary(peer));
    if verdict.unlisted.is_empty() && verdict.stale.is_empty() {
        return;
    }
    let mut report = format!("{peer}: tokenguard and the peer's fixtures disagree\n");
    let expects = format!("{peer} expects:");
    let width = expects.len().max("tokenguard:".len());
    for case in &verdict.unlisted {
        let _ = writeln!(
            report,
            "\nUNLISTED {}\n    {expects:<width$} {}\n    {:<width$} {}",
            location(&case.file, case.line, &case.object),
            case.peer_expects,
            "tokenguard:",
            case.tokenguard
        );
    }
    for d in &verdict.stale {
        let now = run
            .cases
            .iter()
            .find(|c| c.file == d.file && c.line == d.line && c.object == d.object)
            .map_or("(no such case any more)".to_string(), |c| {
                format!(
                    "peer expects: {} / tokenguard: {}",
                    c.peer_expects, c.tokenguard
                )
            });
        let _ = writeln!(
            report,
            "\nSTALE {} (listed in {DIFFERENCES_PATH}, no longer occurs)\n    listed: peer expects: {} / tokenguard: {}\n    now:    {now}",
            d.location(),
            d.peer_expects,
            d.tokenguard
        );
    }
    if !verdict.unlisted.is_empty() {
        let _ = writeln!(
            report,
            "\nA deliberate difference (RULE.md says so) goes into {DIFFERENCES_PATH}:"
        );
        for case in &verdict.unlisted {
            let _ = writeln!(report, "{},", suggested_entry(peer, case));
        }
        let _ = writeln!(report, "Anything else is a tokenguard bug.");
    }
    panic!("{report}");
}

/// A differences-file entry for a case, fields in the file's order.
fn suggested_entry(peer: &str, case: &Case) -> String {
    let json = |s: &str| serde_json::to_string(s).unwrap();
    let mut entry = format!(
        "    {{\n      \"peer\": {},\n      \"file\": {},\n",
        json(peer),
        json(&case.file)
    );
    if let Some(line) = case.line {
        let _ = writeln!(entry, "      \"line\": {line},");
    }
    let _ = write!(
        entry,
        "      \"object\": {},\n      \"peer_expects\": {},\n      \"tokenguard\": {},\n      \"rule_md\": \"<verbatim RULE.md text>\",\n      \"reason\": \"<why>\"\n    }}",
        json(&case.object),
        json(&case.peer_expects),
        json(&case.tokenguard)
    );
    entry
}

fn location(file: &str, line: Option<usize>, object: &str) -> String {
    match line {
        Some(line) => format!("{file}:{line} ({object})"),
        None => format!("{file} ({object})"),
    }
}

// ---------------------------------------------------------------------------
// Running tokenguard the way the CLI does: files analysed together share their
// ServiceAccounts.
// ---------------------------------------------------------------------------

struct Analysed {
    /// Relative to `../shared/conformance`.
    rel: String,
    text: String,
    lines: LineIndex,
    parsed: ParsedFile,
    findings: Vec<Finding>,
    /// Where `text` sits in the file (for a block extracted from a file).
    line_offset: usize,
    col_offset: usize,
}

fn analyse_together(root: &Path, rels: &[String]) -> Vec<Analysed> {
    let sources: Vec<(String, String)> = rels
        .iter()
        .map(|rel| (rel.clone(), read(root, rel)))
        .collect();
    analyse_texts(sources, 0, 0)
}

fn analyse_texts(
    sources: Vec<(String, String)>,
    line_offset: usize,
    col_offset: usize,
) -> Vec<Analysed> {
    let parsed: Vec<ParsedFile> = sources
        .iter()
        .map(|(_, text)| parse(text, tokenguard_analysis::Options::builtin()))
        .collect();
    let mut index = AccountIndex::new();
    for ((rel, _), p) in sources.iter().zip(&parsed) {
        index.set(rel, p.accounts.clone());
    }
    sources
        .into_iter()
        .zip(parsed)
        .map(|((rel, text), parsed)| {
            let findings = check(&text, &parsed, &index);
            Analysed {
                lines: LineIndex::new(&text),
                rel,
                text,
                parsed,
                findings,
                line_offset,
                col_offset,
            }
        })
        .collect()
}

fn read(root: &Path, rel: &str) -> String {
    fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn read_json(root: &Path, rel: &str) -> Value {
    serde_json::from_str(&read(root, rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn all_files(root: &Path, dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(all_files(root, &path));
        } else {
            out.push(rel_path(root, &path));
        }
    }
    out
}

fn rel_path(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap()
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// A place in a file: 1-based line, 0-based character columns (end exclusive)
/// when known.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Loc {
    file: String,
    line: usize,
    cols: Option<(usize, usize)>,
}

impl Analysed {
    fn loc(&self, range: tokenguard_analysis::TextRange) -> Loc {
        let (line, start) = self.lines.line_col_chars(&self.text, range.start);
        let (end_line, end) = self.lines.line_col_chars(&self.text, range.end);
        let end = if end_line == line {
            end
        } else {
            self.lines.line_text(&self.text, line).chars().count()
        };
        Loc {
            file: self.rel.clone(),
            line: line + 1 + self.line_offset,
            cols: Some((start + self.col_offset, end + self.col_offset)),
        }
    }

    /// The covered text of a location in this file.
    fn snippet(&self, loc: &Loc) -> String {
        let Some((start, end)) = loc.cols else {
            return String::new();
        };
        let line = loc.line - 1 - self.line_offset;
        let text: String = self
            .lines
            .line_text(&self.text, line)
            .chars()
            .skip(start - self.col_offset)
            .take(end - start)
            .collect();
        format!(" `{text}`")
    }

    /// The ServiceAccount setting a finding points to (related information):
    /// the account's `automountServiceAccountToken` value, else its name.
    fn related(&self, group: &[Analysed], finding: &Finding) -> Option<Loc> {
        let found = finding.account.as_ref()?.found.as_ref()?;
        let file = match &found.origin {
            Some(origin) => group.iter().find(|a| &a.rel == origin)?,
            None => self,
        };
        let account = &found.account;
        Some(file.loc(account.automount_value.unwrap_or(account.name_range)))
    }

    fn workload_label(&self, finding: &Finding) -> String {
        match &finding.workload {
            Some(w) => format!("{} {}", w.kind, w.name.as_deref().unwrap_or("(unnamed)")),
            None => "(whole file)".to_string(),
        }
    }
}

fn render_loc(group: &[Analysed], loc: &Loc) -> String {
    let snippet = group
        .iter()
        .find(|a| a.rel == loc.file)
        .map_or(String::new(), |a| a.snippet(loc));
    format!("line {}{snippet}", loc.line)
}

/// A location in another file (a ServiceAccount's setting), named relative
/// to the folder of the file the case is about.
fn render_related(group: &[Analysed], from: &str, loc: &Loc) -> String {
    let from_dir: Vec<&str> = from.split('/').collect();
    let from_dir = &from_dir[..from_dir.len() - 1];
    let target: Vec<&str> = loc.file.split('/').collect();
    let common = from_dir
        .iter()
        .zip(&target)
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<&str> = vec![".."; from_dir.len() - common];
    parts.extend(&target[common..]);
    format!("related {} {}", parts.join("/"), render_loc(group, loc))
}

fn render_finding(group: &[Analysed], file: &Analysed, finding: &Finding) -> String {
    format!(
        "{} {}{}",
        finding.code.as_str(),
        render_loc(group, &file.loc(finding.range)),
        match finding.problem {
            Problem::Missing => " (field missing)",
            Problem::Null => " (null)",
            Problem::ExplicitTrue => " (explicit true)",
            Problem::NotBoolean(_) => " (not a boolean)",
            Problem::Syntax => " (syntax error)",
        }
    )
}

fn pod_spec_path(kind: &str) -> String {
    let path = POD_SPEC_PATHS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, p)| p.join("."))
        .unwrap_or_default();
    path
}

fn is_workload_kind(kind: &str) -> bool {
    POD_SPEC_PATHS.iter().any(|(k, _)| *k == kind)
}

// ---------------------------------------------------------------------------
// Documents of a YAML file, for labelling cases (independent of tokenguard's
// parser, so that a file it cannot parse still has its objects named).
// ---------------------------------------------------------------------------

struct Doc {
    /// 1-based, inclusive.
    first: usize,
    last: usize,
    kind: Option<String>,
    name: Option<String>,
}

impl Doc {
    fn label(&self) -> String {
        match (&self.kind, &self.name) {
            (Some(kind), Some(name)) => format!("{kind} {name}"),
            (Some(kind), None) => format!("{kind} (unnamed)"),
            (None, _) => "(no kind)".to_string(),
        }
    }

    fn contains(&self, line: usize) -> bool {
        (self.first..=self.last).contains(&line)
    }
}

fn documents(text: &str) -> Vec<Doc> {
    let lines: Vec<&str> = text.lines().collect();
    let mut docs = Vec::new();
    let mut start = 0;
    for i in 0..=lines.len() {
        let separator = lines
            .get(i)
            .is_some_and(|l| *l == "---" || l.starts_with("--- ") || l.starts_with("---\t"));
        if i < lines.len() && !separator {
            continue;
        }
        if start < i {
            let body = &lines[start..i];
            docs.push(Doc {
                first: start + 1,
                last: i,
                kind: top_level_value(body, "kind"),
                name: metadata_name(body),
            });
        }
        start = i + 1;
    }
    docs
}

fn scalar_text(raw: &str) -> String {
    let raw = match raw.find(" #") {
        Some(i) => &raw[..i],
        None => raw,
    };
    raw.trim().trim_matches('"').to_string()
}

fn top_level_value(body: &[&str], key: &str) -> Option<String> {
    body.iter()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(scalar_text)
}

/// `metadata.name`: the `name:` key at the indentation of the first key
/// under `metadata:`.
fn metadata_name(body: &[&str]) -> Option<String> {
    let start = body.iter().position(|l| l.starts_with("metadata:"))?;
    let block: Vec<&str> = body[start + 1..]
        .iter()
        .copied()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .take_while(|l| l.starts_with(' '))
        .collect();
    let indent = block.first().map(|l| l.len() - l.trim_start().len())?;
    block
        .iter()
        .filter(|l| l.len() - l.trim_start().len() == indent)
        .find_map(|l| l.trim_start().strip_prefix("name:"))
        .map(scalar_text)
}

/// Compares, object by object, the locations a line-based peer expects with
/// tokenguard's findings in the same files.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Compare {
    /// Same line, and the same text where the peer gives a range.
    Lines,
    /// Flagged or not (the peer reports elsewhere in the object).
    Objects,
}

/// A location a peer expects, with the ServiceAccount setting it points to
/// as a secondary location, when it states one.
#[derive(Clone, Debug)]
struct Expected {
    at: Loc,
    setting: Option<Loc>,
}

fn compare_documents(group: &[Analysed], expected: &[Expected], compare: Compare) -> Vec<Case> {
    let mut cases = Vec::new();
    for file in group {
        for doc in documents(&file.text) {
            let peer: Vec<&Expected> = expected
                .iter()
                .filter(|e| e.at.file == file.rel && doc.contains(e.at.line))
                .collect();
            let ours: Vec<&Finding> = file
                .findings
                .iter()
                .filter(|f| doc.contains(file.loc(f.range).line))
                .collect();
            let workload = doc.kind.as_deref().is_some_and(is_workload_kind);
            if peer.is_empty() && ours.is_empty() && !workload {
                continue;
            }
            let with_setting = peer.iter().any(|e| e.setting.is_some());
            let related_of = |f: &Finding| file.related(group, f);
            let agrees = match compare {
                Compare::Lines => {
                    let mut left: Vec<&Finding> = ours.clone();
                    peer.iter().all(|e| {
                        let hit = left.iter().position(|f| {
                            let at = file.loc(f.range);
                            at.line == e.at.line
                                && (e.at.cols.is_none() || e.at.cols == at.cols)
                                && (e.setting.is_none() || e.setting == related_of(f))
                        });
                        hit.map(|i| left.remove(i)).is_some()
                    }) && left.is_empty()
                }
                Compare::Objects => {
                    peer.is_empty() == ours.is_empty()
                        && peer
                            .iter()
                            .filter_map(|e| e.setting.as_ref())
                            .all(|s| ours.iter().any(|f| related_of(f).as_ref() == Some(s)))
                }
            };
            let render_expected = |e: &Expected| {
                let mut s = render_loc(group, &e.at);
                if let Some(setting) = &e.setting {
                    let _ = write!(s, ", {}", render_related(group, &file.rel, setting));
                }
                s
            };
            let render_ours = |f: &Finding| {
                let mut s = render_finding(group, file, f);
                if with_setting {
                    match related_of(f) {
                        Some(r) => {
                            let _ = write!(s, ", {}", render_related(group, &file.rel, &r));
                        }
                        None => s.push_str(", related none"),
                    }
                }
                s
            };
            let line = peer
                .first()
                .map(|e| e.at.line)
                .or_else(|| ours.first().map(|f| file.loc(f.range).line))
                .unwrap_or(doc.first);
            cases.push(Case {
                file: file.rel.clone(),
                line: Some(line),
                object: doc.label(),
                peer_expects: join_or(peer.iter().map(|e| render_expected(e)), "no issue"),
                tokenguard: join_or(ours.iter().map(|f| render_ours(f)), "no finding"),
                agrees,
            });
        }
    }
    cases
}

fn join_or(items: impl Iterator<Item = String>, none: &str) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        none.to_string()
    } else {
        items.join("; ")
    }
}

// ---------------------------------------------------------------------------
// Sonar
// ---------------------------------------------------------------------------

/// `# Noncompliant` markers of a file: (1-based line, columns from a `^^^`
/// line under it).
fn sonar_markers(rel: &str, text: &str) -> Vec<Loc> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(comment) = comment_of(line) else {
            continue;
        };
        let Some(at) = comment.find("Noncompliant") else {
            continue;
        };
        let rest = comment[at + "Noncompliant".len()..].trim_start();
        assert!(
            rest.is_empty() || rest.starts_with("{{"),
            "{rel}:{}: marker form not understood by this harness: {comment:?}",
            i + 1
        );
        let cols = lines.get(i + 1).and_then(|next| caret_columns(next));
        out.push(Loc {
            file: rel.to_string(),
            line: i + 1,
            cols,
        });
    }
    out
}

/// The comment of a YAML line: from a `#` at the start or after a blank.
fn comment_of(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    let at = (0..bytes.len())
        .find(|&i| bytes[i] == b'#' && (i == 0 || matches!(bytes[i - 1], b' ' | b'\t')))?;
    Some(&line[at..])
}

/// `#   ^^^^` under an issue line: the columns of the carets.
fn caret_columns(line: &str) -> Option<(usize, usize)> {
    let trimmed = line.trim_start();
    let after_hash = trimmed.strip_prefix('#')?;
    if !after_hash.contains('^') || !after_hash.chars().all(|c| c == '^' || c == ' ') {
        return None;
    }
    let chars: Vec<char> = line.chars().collect();
    let start = chars.iter().position(|&c| c == '^')?;
    let end = chars.iter().rposition(|&c| c == '^')? + 1;
    Some((start, end))
}

fn sonar(root: &Path, generation: &str, compare: Compare) -> PeerRun {
    let index = read_json(root, "sonar/cases.json");
    let spec = &index[generation];
    assert!(spec.is_object(), "sonar/cases.json has no {generation:?}");
    let base = format!("sonar/{generation}");
    let mut files = BTreeSet::from(["sonar/cases.json".to_string()]);
    // (files analysed together, issues stated in code, whether the folder says
    // Compliant)
    let mut groups: Vec<(Vec<String>, Vec<Expected>, bool)> = Vec::new();
    for single in spec["single_file"].as_array().into_iter().flatten() {
        assert_eq!(
            single["mode"], "comments",
            "{generation}: unknown single_file mode"
        );
        groups.push((
            vec![format!("{base}/{}", str_of(&single["file"]))],
            Vec::new(),
            false,
        ));
    }
    // Folder rule: each case folder under LinkedAccount/Compliant and
    // LinkedAccount/NonCompliant is analysed as a whole (a pod file with its
    // ServiceAccount or RoleBinding file, maybe in a sub-folder, or a whole
    // Helm chart).
    for (verdict, compliant) in [("Compliant", true), ("NonCompliant", false)] {
        let dir = root.join(format!("{base}/LinkedAccount/{verdict}"));
        if !dir.is_dir() {
            continue;
        }
        let mut folders: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        folders.sort();
        for folder in folders {
            let mut group = all_files(root, &folder);
            group.sort();
            groups.push((group, Vec::new(), compliant));
        }
    }
    // cases.json's pairs are exactly such folders.
    for (list, compliant) in [("paired_no_issues", true), ("paired_comments", false)] {
        for pair in spec[list].as_array().into_iter().flatten() {
            let mut pair: Vec<String> = pair
                .as_array()
                .unwrap()
                .iter()
                .map(|f| format!("{base}/{}", str_of(f)))
                .collect();
            pair.sort();
            let group = groups.iter().find(|(g, _, _)| *g == pair);
            assert!(
                group.is_some_and(|(_, _, c)| *c == compliant),
                "sonar/cases.json {generation} {list}: {pair:?} is not a whole {} case folder",
                if compliant {
                    "Compliant"
                } else {
                    "NonCompliant"
                }
            );
        }
    }
    for explicit in spec["explicit"].as_array().into_iter().flatten() {
        let mut analysed = Vec::new();
        for entry in explicit["analysed"].as_array().unwrap() {
            let entry = str_of(entry);
            match entry.split_once(" (") {
                // "Chart/ (whole Helm chart...)": every file of the folder.
                Some((dir, _)) => {
                    analysed.extend(all_files(root, &root.join(format!("{base}/{dir}"))))
                }
                None => analysed.push(format!("{base}/{entry}")),
            }
        }
        analysed.sort();
        let setting = explicit["secondary"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["message"] == "Change this setting")
            .map(|s| sonar_loc(&base, s));
        let expected = Expected {
            at: sonar_loc(&base, &explicit["issue"]),
            setting,
        };
        match groups.iter_mut().find(|(g, _, _)| *g == analysed) {
            Some((_, stated, _)) => stated.push(expected),
            None => {
                panic!("sonar/cases.json {generation} explicit: {analysed:?} is not a case folder")
            }
        }
    }
    let mut cases = Vec::new();
    for (group_files, stated, compliant) in groups {
        let group = analyse_together(root, &group_files);
        let mut expected: Vec<Expected> = Vec::new();
        for file in &group {
            let markers = sonar_markers(&file.rel, &file.text);
            assert!(
                !compliant || markers.is_empty(),
                "{}: in a Compliant case folder but has Noncompliant markers",
                file.rel
            );
            expected.extend(markers.into_iter().map(|at| Expected { at, setting: None }));
        }
        for e in stated {
            // An issue stated in code that a comment also marks adds its range
            // and secondary location to the comment's.
            match expected
                .iter_mut()
                .find(|m| m.at.file == e.at.file && m.at.line == e.at.line)
            {
                Some(m) => {
                    if m.at.cols.is_none() {
                        m.at.cols = e.at.cols;
                    }
                    assert!(
                        m.at.cols == e.at.cols,
                        "{}:{}: comment and cases.json disagree on the range",
                        e.at.file,
                        e.at.line
                    );
                    m.setting = e.setting;
                }
                None => expected.push(e),
            }
        }
        cases.extend(compare_documents(&group, &expected, compare));
        files.extend(group_files);
    }
    PeerRun { cases, files }
}

/// A location in `sonar/cases.json`: 1-based line, 0-based columns.
fn sonar_loc(base: &str, v: &Value) -> Loc {
    let line = v["line"].as_u64().unwrap() as usize;
    assert_eq!(
        v["endLine"].as_u64(),
        Some(line as u64),
        "multi-line Sonar range"
    );
    Loc {
        file: format!("{base}/{}", str_of(&v["file"])),
        line,
        cols: Some((
            v["column"].as_u64().unwrap() as usize,
            v["endColumn"].as_u64().unwrap() as usize,
        )),
    }
}

fn str_of(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, found {v}"))
}

// ---------------------------------------------------------------------------
// KICS
// ---------------------------------------------------------------------------

fn kics(root: &Path) -> PeerRun {
    let results = read_json(root, "kics/positive_expected_result.json");
    let metadata = read_json(root, "kics/metadata.json");
    let mut files = BTreeSet::from([
        "kics/positive_expected_result.json".to_string(),
        "kics/metadata.json".to_string(),
    ]);
    let mut expected = Vec::new();
    for r in results.as_array().unwrap() {
        assert_eq!(
            r["queryName"], metadata["queryName"],
            "KICS result of another query"
        );
        expected.push(Expected {
            at: Loc {
                file: format!("kics/{}", str_of(&r["fileName"])),
                line: r["line"].as_u64().unwrap() as usize,
                cols: None,
            },
            setting: None,
        });
    }
    let mut cases = Vec::new();
    for rel in all_files(root, &root.join("kics")) {
        if !rel.ends_with(".yaml") {
            continue;
        }
        let name = rel.trim_start_matches("kics/");
        assert!(
            name.starts_with("positive") || name.starts_with("negative"),
            "{rel}: neither positive nor negative"
        );
        let group = analyse_together(root, std::slice::from_ref(&rel));
        // Negative files have no expected line, so any finding there differs.
        cases.extend(compare_documents(&group, &expected, Compare::Lines));
        files.insert(rel);
    }
    for e in &expected {
        assert!(
            files.contains(&e.at.file),
            "{}: expected result for a missing file",
            e.at.file
        );
    }
    PeerRun { cases, files }
}

// ---------------------------------------------------------------------------
// Checkov
// ---------------------------------------------------------------------------

fn checkov(root: &Path) -> PeerRun {
    let expected = read_json(root, "checkov/expected.json");
    let mut files = BTreeSet::from(["checkov/expected.json".to_string()]);
    let results = expected["CKV_K8S_38"]["results"].as_array().unwrap();
    let mut by_file: Vec<(String, Vec<&Value>)> = Vec::new();
    for r in results {
        let file = format!("checkov/{}", str_of(&r["file"]));
        match by_file.iter_mut().find(|(f, _)| *f == file) {
            Some((_, list)) => list.push(r),
            None => by_file.push((file, vec![r])),
        }
    }
    let mut cases = Vec::new();
    for (rel, results) in by_file {
        let group = analyse_together(root, std::slice::from_ref(&rel));
        let file = &group[0];
        // Checkov names a resource Kind.namespace.name, namespace "default"
        // when absent.
        let resource = |f: &Finding| match &f.workload {
            Some(w) => format!(
                "{}.{}.{}",
                w.kind,
                w.namespace.as_deref().unwrap_or("default"),
                w.name.as_deref().unwrap_or("")
            ),
            None => "(whole file)".to_string(),
        };
        let mut unclaimed: Vec<&Finding> = file.findings.iter().collect();
        for r in results {
            let id = str_of(&r["resource"]).to_string();
            let ours: Vec<&Finding> = file.findings.iter().filter(|f| resource(f) == id).collect();
            unclaimed.retain(|f| resource(f) != id);
            let outcome = str_of(&r["result"]);
            let should_flag = match outcome {
                "FAILED" => true,
                "PASSED" | "UNKNOWN" => false,
                other => panic!("{rel}: unknown Checkov result {other:?}"),
            };
            cases.push(Case {
                file: rel.clone(),
                line: None,
                object: id,
                peer_expects: match outcome {
                    "UNKNOWN" => "UNKNOWN (not judged)".to_string(),
                    other => other.to_string(),
                },
                tokenguard: join_or(
                    ours.iter().map(|f| render_finding(&group, file, f)),
                    "no finding",
                ),
                agrees: should_flag != ours.is_empty(),
            });
        }
        for f in unclaimed {
            cases.push(Case {
                file: rel.clone(),
                line: None,
                object: resource(f),
                peer_expects: "no result".to_string(),
                tokenguard: render_finding(&group, file, f),
                agrees: false,
            });
        }
        files.insert(rel);
    }
    PeerRun { cases, files }
}

// ---------------------------------------------------------------------------
// Polaris
// ---------------------------------------------------------------------------

fn polaris(root: &Path) -> PeerRun {
    let expected = read_json(root, "polaris/expected.json");
    let mut files = BTreeSet::from(["polaris/expected.json".to_string()]);
    let mut cases = Vec::new();
    for c in expected["cases"].as_array().unwrap() {
        let rel = format!("polaris/{}", str_of(&c["file"]));
        let expect = str_of(&c["expect"]);
        let group = analyse_together(root, std::slice::from_ref(&rel));
        let file = &group[0];
        let objects: Vec<String> = file
            .parsed
            .workloads
            .iter()
            .map(|(_, w)| format!("{} {}", w.kind, w.name.as_deref().unwrap_or("(unnamed)")))
            .collect();
        let flagged = file.findings.iter().any(|f| f.code == Code::TG001);
        let (peer_expects, agrees) = match expect {
            "fail" => ("danger (at least one object flagged)", flagged),
            "pass" => ("success (nothing flagged)", file.findings.is_empty()),
            other => panic!("{rel}: unknown Polaris expectation {other:?}"),
        };
        cases.push(Case {
            file: rel.clone(),
            line: None,
            object: objects.join(", "),
            peer_expects: peer_expects.to_string(),
            tokenguard: join_or(
                file.findings
                    .iter()
                    .map(|f| render_finding(&group, file, f)),
                "no finding",
            ),
            agrees,
        });
        files.insert(rel);
    }
    PeerRun { cases, files }
}

// ---------------------------------------------------------------------------
// Kubescape
// ---------------------------------------------------------------------------

fn kubescape(root: &Path) -> PeerRun {
    let tests = "kubescape/automount-service-account/test";
    let mut files = BTreeSet::new();
    let mut cases = Vec::new();
    let mut dirs: Vec<PathBuf> = fs::read_dir(root.join(tests))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let case_dir = rel_path(root, &dir);
        let inputs = all_files(root, &dir.join("input"));
        let group = analyse_together(root, &inputs);
        let expected_rel = format!("{case_dir}/expected.json");
        let expected = read_json(root, &expected_rel);
        // Per object (Kind name): what the peer says and what we say.
        let mut objects: Vec<(String, Option<String>, Vec<String>)> = Vec::new();
        let entry =
            |objects: &mut Vec<(String, Option<String>, Vec<String>)>, key: String| -> usize {
                match objects.iter().position(|(k, _, _)| *k == key) {
                    Some(i) => i,
                    None => {
                        objects.push((key, None, Vec::new()));
                        objects.len() - 1
                    }
                }
            };
        for file in &group {
            for (_, w) in &file.parsed.workloads {
                entry(
                    &mut objects,
                    format!("{} {}", w.kind, w.name.as_deref().unwrap_or("(unnamed)")),
                );
            }
            for f in &file.findings {
                let i = entry(&mut objects, file.workload_label(f));
                let rendered = kubescape_view(&group, file, f);
                objects[i].2.push(rendered);
            }
        }
        for deny in expected.as_array().unwrap() {
            let api = &deny["alertObject"]["k8sApiObjects"];
            assert_eq!(
                api.as_array().map(Vec::len),
                Some(1),
                "{expected_rel}: one object per deny"
            );
            let key = format!(
                "{} {}",
                str_of(&api[0]["kind"]),
                str_of(&api[0]["metadata"]["name"])
            );
            let failed: Vec<&str> = deny["failedPaths"]
                .as_array()
                .unwrap()
                .iter()
                .map(str_of)
                .collect();
            let fixes: Vec<String> = deny["fixPaths"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| format!("{}={}", str_of(&f["path"]), str_of(&f["value"])))
                .collect();
            let i = entry(&mut objects, key);
            assert!(
                objects[i].1.is_none(),
                "{expected_rel}: object denied twice"
            );
            objects[i].1 = Some(format!(
                "flagged; failedPaths {failed:?}; fixPaths {fixes:?}"
            ));
        }
        for (object, peer, ours) in objects {
            let peer = peer.unwrap_or_else(|| "not flagged".to_string());
            let ours = join_or(ours.into_iter(), "not flagged");
            cases.push(Case {
                file: case_dir.clone(),
                line: None,
                object,
                agrees: peer == ours,
                peer_expects: peer,
                tokenguard: ours,
            });
        }
        files.extend(inputs);
        files.insert(expected_rel);
    }
    PeerRun { cases, files }
}

/// A finding as Kubescape would state it: the failed path (empty when the
/// field is missing) and the fix path, if applying our fix clears the finding.
fn kubescape_view(group: &[Analysed], file: &Analysed, finding: &Finding) -> String {
    let Some(workload) = &finding.workload else {
        return render_finding(group, file, finding);
    };
    let field = format!("{}.{FIELD}", pod_spec_path(&workload.kind));
    let failed: Vec<&str> = match finding.problem {
        Problem::Missing => vec![],
        _ => vec![field.as_str()],
    };
    let fixes: Vec<String> = match &finding.fix {
        Some(fix) if fix_clears(group, file, finding, &fix.edits) => vec![format!("{field}=false")],
        Some(_) => vec!["(our fix does not clear the finding)".to_string()],
        None => vec![],
    };
    format!("flagged; failedPaths {failed:?}; fixPaths {fixes:?}")
}

/// RULE.md: "Applying the fix makes the diagnostic go away".
fn fix_clears(
    group: &[Analysed],
    file: &Analysed,
    finding: &Finding,
    edits: &[tokenguard_analysis::TextEdit],
) -> bool {
    let fixed = apply_edits(&file.text, edits);
    let mut index = AccountIndex::new();
    for other in group {
        index.set(&other.rel, other.parsed.accounts.clone());
    }
    let parsed = parse(&fixed, tokenguard_analysis::Options::builtin());
    index.set(&file.rel, parsed.accounts.clone());
    !check(&fixed, &parsed, &index)
        .iter()
        .any(|f| f.code == finding.code && f.workload == finding.workload)
}

// ---------------------------------------------------------------------------
// Trivy
// ---------------------------------------------------------------------------

fn trivy(root: &Path) -> PeerRun {
    let expected_rel = "trivy/transcribed/expected.json";
    let expected = read_json(root, expected_rel);
    let mut files = BTreeSet::from([expected_rel.to_string()]);
    let mut cases = Vec::new();
    for c in expected["cases"].as_array().unwrap() {
        let rel = normalize(&format!("trivy/transcribed/{}", str_of(&c["file"])));
        let (group, object) = match c.get("section") {
            Some(section) => {
                let section = str_of(section);
                let text = read(root, &rel);
                let (block, line_offset, col_offset) = yaml_list_block(&text, section)
                    .unwrap_or_else(|| panic!("{rel}: no block {section}"));
                let group = analyse_texts(vec![(rel.clone(), block)], line_offset, col_offset);
                let label = documents(&group[0].text)
                    .first()
                    .map_or(String::new(), Doc::label);
                (group, format!("{section}: {label}"))
            }
            None => {
                let group = analyse_together(root, std::slice::from_ref(&rel));
                let label = documents(&group[0].text)
                    .first()
                    .map_or(String::new(), Doc::label);
                (group, label)
            }
        };
        let file = &group[0];
        let flagged = file
            .findings
            .iter()
            .filter(|f| f.code == Code::TG001)
            .count();
        let (peer_expects, agrees) = match &c["findings"] {
            Value::String(s) if s == ">=1" => ("at least one finding", flagged >= 1),
            Value::Number(n) if n.as_u64() == Some(0) => ("no finding", file.findings.is_empty()),
            other => panic!("{rel}: unknown Trivy expectation {other}"),
        };
        cases.push(Case {
            file: rel.clone(),
            line: None,
            object,
            peer_expects: peer_expects.to_string(),
            tokenguard: join_or(
                file.findings
                    .iter()
                    .map(|f| render_finding(&group, file, f)),
                "no finding",
            ),
            agrees,
        });
        files.insert(rel);
    }
    PeerRun { cases, files }
}

fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            ".." => {
                parts.pop();
            }
            "." => {}
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// The text of `key.list[n]` when that item is a block scalar (`- |-`), with
/// its first line (0-based) and indentation in the file.
fn yaml_list_block(text: &str, section: &str) -> Option<(String, usize, usize)> {
    let (path, index) = section.strip_suffix(']')?.split_once('[')?;
    let index: usize = index.parse().ok()?;
    let lines: Vec<&str> = text.lines().collect();
    // Walk the keys of `path` down the indentation.
    let mut at = 0;
    let mut indent = 0;
    for key in path.split('.') {
        let found = (at..lines.len()).find(|&i| {
            let l = lines[i];
            l.len() - l.trim_start().len() >= indent
                && l.trim_start().starts_with(&format!("{key}:"))
        })?;
        indent = lines[found].len() - lines[found].trim_start().len() + 1;
        at = found + 1;
    }
    let item_indent = lines[at].len() - lines[at].trim_start().len();
    let items: Vec<usize> = (at..lines.len())
        .filter(|&i| {
            let l = lines[i];
            l.len() - l.trim_start().len() == item_indent && l.trim_start().starts_with("- ")
        })
        .collect();
    let start = *items.get(index)?;
    assert!(
        lines[start].trim_start().starts_with("- |"),
        "only block scalar items are read"
    );
    let body_start = start + 1;
    let block_indent = lines[body_start].len() - lines[body_start].trim_start().len();
    let body: Vec<&str> = lines[body_start..]
        .iter()
        .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() >= block_indent)
        .map(|l| l.get(block_indent..).unwrap_or(""))
        .collect();
    Some((body.join("\n") + "\n", body_start, block_indent))
}
