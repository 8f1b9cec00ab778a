//! Fixture tests: every YAML file under `tests/fixtures` says, in comments,
//! which findings tokenguard must report on it (`tests/fixtures/README.md`
//! describes the markers; they follow the Sonar verifier's convention).
//!
//! Each file is analysed alone, except the folders under
//! `tests/fixtures/workspace/`: each of those is one workspace, whose files see
//! each other's ServiceAccounts. All mismatches of all files are reported at
//! once, as `path:line: what went wrong`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use tokenguard_analysis::{
    apply_edits, check, disable_on_account, fix_all_edits, ignore_comment, parse, AccountIndex,
    Code, Finding, LineIndex, ParsedFile, TextEdit,
};

/// The fixture folder, relative to the package root.
const FIXTURES: &str = "tests/fixtures";
/// Folders directly below this one are analysed as one workspace each.
const WORKSPACES: &str = "workspace";
/// Helm charts, one per folder, checked by `tests/helm.rs`.
const HELM_CHARTS: &str = "helm";
/// Keywords that open a marker, and the finding code each one expects.
const MARKERS: &[(&str, Code)] = &[("Noncompliant", Code::TG001), ("Error TG000", Code::TG000)];
const BOM: char = '\u{feff}';

// ---------------------------------------------------------------------------
// The tests

#[test]
fn every_fixture_gets_exactly_the_findings_its_markers_expect() {
    let report = run_all(check_expectations);
    report.assert_clean("findings differ from the fixtures' markers");
}

#[test]
fn every_tg001_finding_in_the_fixtures_has_a_fix() {
    let report = run_all(check_every_finding_has_a_fix);
    report.assert_clean("findings without a usable fix");
}

#[test]
fn fixing_every_fixture_clears_tg001_and_fixing_again_changes_nothing() {
    let report = run_all(check_fix_round_trip);
    report.assert_clean("the fix round trip failed");
}

#[test]
fn an_ignore_comment_above_each_finding_suppresses_exactly_that_line() {
    let report = run_all(check_ignore_comments);
    report.assert_clean("the ignore-comment action failed");
}

#[test]
fn disabling_automounting_on_the_found_service_account_clears_the_finding() {
    let report = run_all(check_account_fixes);
    report.assert_clean("the ServiceAccount fix failed");
}

#[test]
fn the_fixture_set_covers_many_files_and_both_codes() {
    let units = load_units();
    let files: usize = units.iter().map(|u| u.files.len()).sum();
    let mut codes = BTreeSet::new();
    for unit in &units {
        for file in &unit.files {
            if let Ok(expectations) = parse_markers(&file.text) {
                codes.extend(expectations.iter().map(|e| e.code.as_str()));
            }
        }
    }
    assert!(
        files >= 50,
        "only {files} fixture files found under {FIXTURES}: is the walk broken?"
    );
    assert!(
        units.iter().any(|u| u.files.len() > 1),
        "no multi-file workspace fixture found"
    );
    assert_eq!(
        codes,
        BTreeSet::from(["TG000", "TG001"]),
        "markers for both codes are expected"
    );
}

// ---------------------------------------------------------------------------
// Loading fixtures

struct FixtureFile {
    /// Path relative to the package root, for messages.
    path: String,
    /// Name inside its workspace, used as the ServiceAccount origin.
    origin: String,
    text: String,
}

/// Files analysed together.
struct Unit {
    files: Vec<FixtureFile>,
}

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURES)
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

fn yaml_files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries =
            fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            // Helm charts are templates, not plain YAML: tests/helm.rs
            // checks them with their charts.
            if path == fixtures_root().join(HELM_CHARTS) {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if is_yaml(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn read_fixture(path: &Path, workspace: &Path) -> FixtureFile {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let text =
        String::from_utf8(bytes).unwrap_or_else(|e| panic!("{} is not UTF-8: {e}", path.display()));
    let relative = |base: &Path| {
        path.strip_prefix(base)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    };
    FixtureFile {
        path: format!("{FIXTURES}/{}", relative(&fixtures_root())),
        origin: relative(workspace),
        text,
    }
}

/// Every fixture file alone, and every folder under `workspace/` as one unit.
fn load_units() -> Vec<Unit> {
    let root = fixtures_root();
    let workspaces = root.join(WORKSPACES);
    let mut grouped: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for path in yaml_files_under(&root) {
        let group = match path.strip_prefix(&workspaces) {
            Ok(rest) => {
                let case = rest.components().next().expect("a path below workspace/");
                let case = workspaces.join(case);
                assert!(
                    case.is_dir(),
                    "{}: files directly in {FIXTURES}/{WORKSPACES}/ belong in a case folder",
                    path.display()
                );
                case
            }
            Err(_) => path.clone(),
        };
        grouped.entry(group).or_default().push(path);
    }
    grouped
        .into_iter()
        .map(|(group, paths)| {
            let base = if group.is_dir() { group } else { root.clone() };
            Unit {
                files: paths.iter().map(|p| read_fixture(p, &base)).collect(),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Running the analysis

/// What the analysis said about each file of a unit.
struct Outcome {
    findings: Vec<Vec<Finding>>,
}

/// Analyses the texts as one workspace: each file sees the ServiceAccounts of all.
fn analyse_workspace(texts: &[(&str, &str)]) -> Vec<Vec<Finding>> {
    let parsed: Vec<ParsedFile> = texts
        .iter()
        .map(|(_, text)| parse(text, tokenguard_analysis::Options::builtin()))
        .collect();
    let mut index = AccountIndex::new();
    for ((origin, _), parsed) in texts.iter().zip(&parsed) {
        index.set(origin, parsed.accounts.clone());
    }
    texts
        .iter()
        .zip(&parsed)
        .map(|((_, text), parsed)| check(text, parsed, &index))
        .collect()
}

fn analyse_unit(unit: &Unit) -> Outcome {
    let texts: Vec<(&str, &str)> = unit
        .files
        .iter()
        .map(|f| (f.origin.as_str(), f.text.as_str()))
        .collect();
    Outcome {
        findings: analyse_workspace(&texts),
    }
}

/// Problems found, as `path:line: text`, gathered over all fixtures.
#[derive(Default)]
struct Report {
    problems: Vec<String>,
    files: usize,
}

impl Report {
    fn assert_clean(&self, what: &str) {
        if self.problems.is_empty() {
            return;
        }
        let mut out = format!(
            "{what}: {} problem(s) in {} fixture file(s)\n\n",
            self.problems.len(),
            self.files
        );
        for problem in &self.problems {
            out.push_str(problem);
            out.push_str("\n\n");
        }
        panic!("{out}");
    }
}

fn run_all(mut check: impl FnMut(&Unit, &Outcome, &mut Vec<String>)) -> Report {
    let mut report = Report::default();
    for unit in load_units() {
        report.files += unit.files.len();
        let outcome = analyse_unit(&unit);
        check(&unit, &outcome, &mut report.problems);
    }
    report
}

// ---------------------------------------------------------------------------
// Markers

/// One expected finding.
#[derive(Clone, Debug)]
struct Expectation {
    code: Code,
    /// 0-based line where the finding must start.
    line: usize,
    /// 0-based line of the comment that states it.
    marker_line: usize,
    message: Option<String>,
    /// Character columns `[start, end)` on `line`, from a caret line.
    columns: Option<(usize, usize)>,
}

impl Expectation {
    fn describe(&self) -> String {
        let mut out = self.code.as_str().to_string();
        if let Some((start, end)) = self.columns {
            let _ = write!(out, " at columns {}..{}", start + 1, end + 1);
        }
        if let Some(message) = &self.message {
            let _ = write!(out, " {{{{{message}}}}}");
        }
        if self.marker_line != self.line {
            let _ = write!(out, " (marker on line {})", self.marker_line + 1);
        }
        out
    }

    fn matches(&self, actual: &Located) -> bool {
        actual.finding.code == self.code
            && actual.start.0 == self.line
            && self
                .message
                .as_ref()
                .is_none_or(|m| *m == actual.finding.message)
            && self
                .columns
                .is_none_or(|(s, e)| actual.start == (self.line, s) && actual.end == (self.line, e))
    }
}

/// The text of a line's comment: from the first `#` that starts the line or
/// follows a blank (or the byte-order mark) to the end of the line.
fn comment_of(line: &str) -> Option<&str> {
    let body = line.strip_prefix(BOM).unwrap_or(line);
    let bytes = body.as_bytes();
    (0..bytes.len())
        .find(|&i| bytes[i] == b'#' && (i == 0 || matches!(bytes[i - 1], b' ' | b'\t')))
        .map(|i| &body[i + 1..])
}

/// `#   ^^^^`: the character columns of the carets.
fn caret_columns(line: &str) -> Option<(usize, usize)> {
    let trimmed = line.trim_start_matches([' ', '\t']);
    if !trimmed.starts_with('#') || !trimmed.contains('^') {
        return None;
    }
    if !line.chars().all(|c| matches!(c, '#' | ' ' | '^')) {
        return None;
    }
    let first = line.chars().position(|c| c == '^')?;
    let last = line.chars().count() - 1 - line.chars().rev().position(|c| c == '^')?;
    Some((first, last + 1))
}

/// Reads every marker of a fixture; malformed markers are errors.
fn parse_markers(text: &str) -> Result<Vec<Expectation>, Vec<(usize, String)>> {
    let index = LineIndex::new(text);
    let mut expectations = Vec::new();
    let mut errors = Vec::new();
    // (line the carets refer to, how many caret lines came before for it, columns, caret line)
    let mut carets: Vec<(usize, usize, (usize, usize), usize)> = Vec::new();
    let mut last_code_line: Option<usize> = None;
    let mut carets_for_line = 0;
    for line_no in 0..index.line_count() {
        let line = index.line_text(text, line_no);
        if let Some(columns) = caret_columns(line) {
            match last_code_line {
                Some(target) => {
                    if columns.0 == 0 {
                        errors.push((
                            line_no,
                            "carets cannot start in column 1: the `#` comes first".into(),
                        ));
                    }
                    carets.push((target, carets_for_line, columns, line_no));
                    carets_for_line += 1;
                }
                None => errors.push((line_no, "caret line with no line above it".into())),
            }
            continue;
        }
        last_code_line = Some(line_no);
        carets_for_line = 0;
        let Some(comment) = comment_of(line) else {
            continue;
        };
        match parse_comment(comment) {
            Ok(found) => {
                for (code, offset, message) in found {
                    let target = line_no as isize + offset;
                    if target < 0 || target as usize >= index.line_count() {
                        errors.push((
                            line_no,
                            format!("marker offset {offset:+} points outside the file"),
                        ));
                        continue;
                    }
                    expectations.push(Expectation {
                        code,
                        line: target as usize,
                        marker_line: line_no,
                        message,
                        columns: None,
                    });
                }
            }
            Err(error) => errors.push((line_no, error)),
        }
    }
    for (target, nth, columns, caret_line) in carets {
        match expectations.iter_mut().filter(|e| e.line == target).nth(nth) {
            Some(expectation) => expectation.columns = Some(columns),
            None => errors.push((
                caret_line,
                format!(
                    "caret line #{} below line {} has no marker for it (markers expecting a finding on that line: {})",
                    nth + 1,
                    target + 1,
                    expectations.iter().filter(|e| e.line == target).count()
                ),
            )),
        }
    }
    if errors.is_empty() {
        Ok(expectations)
    } else {
        Err(errors)
    }
}

/// The markers of one comment, as (code, line offset, message).
fn parse_comment(comment: &str) -> Result<Vec<(Code, isize, Option<String>)>, String> {
    let mut found = Vec::new();
    let mut rest = comment;
    let mut leftover = String::new();
    loop {
        let next = MARKERS
            .iter()
            .filter_map(|&(keyword, code)| rest.find(keyword).map(|at| (at, keyword, code)))
            .min_by_key(|&(at, ..)| at);
        let Some((at, keyword, code)) = next else {
            leftover.push_str(rest);
            break;
        };
        leftover.push_str(&rest[..at]);
        rest = &rest[at + keyword.len()..];
        let mut offset = 0;
        if let Some(after) = rest.strip_prefix('@') {
            let digits_from = usize::from(after.starts_with(['+', '-']));
            let digits = after[digits_from..]
                .chars()
                .take_while(char::is_ascii_digit)
                .count();
            if digits_from == 0 || digits == 0 {
                return Err(format!("`{keyword}@` must be followed by +N or -N"));
            }
            let end = digits_from + digits;
            offset = after[..end].parse::<isize>().expect("a signed number");
            rest = &after[end..];
        }
        let mut message = None;
        let trimmed = rest.trim_start_matches(' ');
        if let Some(body) = trimmed.strip_prefix("{{") {
            let close = body.find("}}").ok_or("`{{` without a closing `}}`")?;
            message = Some(body[..close].to_string());
            rest = &body[close + 2..];
        }
        found.push((code, offset, message));
    }
    let lower = leftover.to_lowercase();
    if lower.contains("noncompliant") || lower.contains("error tg") {
        return Err(format!(
            "comment looks like a marker but is not one (markers: `Noncompliant`, `Error TG000`, case-sensitive): #{comment}"
        ));
    }
    Ok(found)
}

// ---------------------------------------------------------------------------
// Comparing

/// A finding with its start and end as (line, character column), 0-based.
#[derive(Clone, Copy)]
struct Located<'f> {
    finding: &'f Finding,
    start: (usize, usize),
    end: (usize, usize),
}

/// Line and character column; the byte-order mark is not a column.
fn position(text: &str, index: &LineIndex, offset: usize) -> (usize, usize) {
    let (line, col) = index.line_col_chars(text, offset);
    let bom = line == 0 && text.starts_with(BOM) && col > 0;
    (line, col - usize::from(bom))
}

fn locate<'f>(text: &str, index: &LineIndex, finding: &'f Finding) -> Located<'f> {
    Located {
        finding,
        start: position(text, index, finding.range.start),
        end: position(text, index, finding.range.end),
    }
}

/// The issue line, carets under the range, and the marker that would expect it.
fn show_actual(text: &str, index: &LineIndex, actual: &Located) -> String {
    let (line, start) = actual.start;
    let line_text = index.line_text(text, line);
    let line_text = line_text.strip_prefix(BOM).unwrap_or(line_text);
    let end = if actual.end.0 == line {
        actual.end.1
    } else {
        line_text.chars().count()
    };
    let carets = "^".repeat(end.saturating_sub(start).max(1));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "    {:>4} | {}",
        line + 1,
        line_text.replace('\t', " ")
    );
    let _ = write!(out, "         | {}{carets}", " ".repeat(start));
    if actual.end.0 != line {
        let _ = write!(
            out,
            "... (range ends on line {}, column {})",
            actual.end.0 + 1,
            actual.end.1 + 1
        );
    }
    let keyword = match actual.finding.code {
        Code::TG000 => "Error TG000",
        Code::TG001 => "Noncompliant",
    };
    let _ = write!(
        out,
        "\n    found: {} at {}:{}-{}:{} {{{{{}}}}}\n    marker: # {keyword} {{{{{}}}}}",
        actual.finding.code.as_str(),
        actual.start.0 + 1,
        actual.start.1 + 1,
        actual.end.0 + 1,
        actual.end.1 + 1,
        actual.finding.message,
        actual.finding.message,
    );
    out
}

/// Pairs expectations with findings so that as many as possible match.
fn best_matching(expected: &[&Expectation], actual: &[Located]) -> Vec<Option<usize>> {
    fn solve(
        i: usize,
        expected: &[&Expectation],
        actual: &[Located],
        used: &mut Vec<bool>,
        current: &mut Vec<Option<usize>>,
        best: &mut (usize, Vec<Option<usize>>),
    ) {
        if i == expected.len() {
            let score = current.iter().flatten().count();
            if score > best.0 || best.1.is_empty() {
                *best = (score, current.clone());
            }
            return;
        }
        for j in 0..actual.len() {
            if !used[j] && expected[i].matches(&actual[j]) {
                used[j] = true;
                current.push(Some(j));
                solve(i + 1, expected, actual, used, current, best);
                current.pop();
                used[j] = false;
            }
        }
        current.push(None);
        solve(i + 1, expected, actual, used, current, best);
        current.pop();
    }
    let mut best = (0, Vec::new());
    solve(
        0,
        expected,
        actual,
        &mut vec![false; actual.len()],
        &mut Vec::new(),
        &mut best,
    );
    if best.1.is_empty() {
        best.1 = vec![None; expected.len()];
    }
    best.1
}

fn check_expectations(unit: &Unit, outcome: &Outcome, problems: &mut Vec<String>) {
    for (file, findings) in unit.files.iter().zip(&outcome.findings) {
        let index = LineIndex::new(&file.text);
        let expectations = match parse_markers(&file.text) {
            Ok(expectations) => expectations,
            Err(errors) => {
                for (line, error) in errors {
                    problems.push(format!("{}:{}: bad marker: {error}", file.path, line + 1));
                }
                continue;
            }
        };
        let located: Vec<Located> = findings
            .iter()
            .map(|f| locate(&file.text, &index, f))
            .collect();
        let lines: BTreeSet<usize> = expectations
            .iter()
            .map(|e| e.line)
            .chain(located.iter().map(|l| l.start.0))
            .collect();
        for line in lines {
            let expected: Vec<&Expectation> =
                expectations.iter().filter(|e| e.line == line).collect();
            let actual: Vec<Located> = located
                .iter()
                .filter(|l| l.start.0 == line)
                .copied()
                .collect();
            let matching = best_matching(&expected, &actual);
            let matched: BTreeSet<usize> = matching.iter().flatten().copied().collect();
            let unmatched_actual: Vec<&Located> = actual
                .iter()
                .enumerate()
                .filter(|(j, _)| !matched.contains(j))
                .map(|(_, l)| l)
                .collect();
            let unmatched_expected: Vec<&&Expectation> = expected
                .iter()
                .zip(&matching)
                .filter(|(_, m)| m.is_none())
                .map(|(e, _)| e)
                .collect();
            let at = format!("{}:{}", file.path, line + 1);
            for (k, expectation) in unmatched_expected.iter().enumerate() {
                match unmatched_actual.get(k) {
                    Some(actual) => problems.push(format!(
                        "{at}: expected {}, but the finding differs\n{}",
                        expectation.describe(),
                        show_actual(&file.text, &index, actual)
                    )),
                    None => problems.push(format!(
                        "{at}: expected {}, found no {} finding starting on this line",
                        expectation.describe(),
                        expectation.code.as_str()
                    )),
                }
            }
            for actual in unmatched_actual.iter().skip(unmatched_expected.len()) {
                problems.push(format!(
                    "{at}: unexpected finding (no marker expects it)\n{}",
                    show_actual(&file.text, &index, actual)
                ));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Fixes

/// The line breaks a text uses, when it uses only one kind.
fn sole_line_ending(text: &str) -> Option<&'static str> {
    let crlf = text.matches("\r\n").count();
    let lf = text.matches('\n').count() - crlf;
    let cr = text.matches('\r').count() - crlf;
    match (lf > 0, crlf > 0, cr > 0) {
        (true, false, false) => Some("\n"),
        (false, true, false) => Some("\r\n"),
        (false, false, true) => Some("\r"),
        _ => None,
    }
}

fn check_every_finding_has_a_fix(unit: &Unit, outcome: &Outcome, problems: &mut Vec<String>) {
    for (file, findings) in unit.files.iter().zip(&outcome.findings) {
        let index = LineIndex::new(&file.text);
        let eol = sole_line_ending(&file.text);
        for finding in findings.iter().filter(|f| f.code == Code::TG001) {
            let at = format!("{}:{}", file.path, index.line_of(finding.range.start) + 1);
            let Some(fix) = &finding.fix else {
                problems.push(format!(
                    "{at}: TG001 finding has no fix: {}",
                    finding.message
                ));
                continue;
            };
            if fix.edits.is_empty() {
                problems.push(format!("{at}: the fix \"{}\" has no edit", fix.title));
            }
            // A fix may also delete text (a block collection replaced by
            // `false` after its key), but some edit must write the value.
            if !fix.edits.iter().any(|e| e.new_text.contains("false")) {
                problems.push(format!(
                    "{at}: the fix \"{}\" sets nothing to false",
                    fix.title
                ));
            }
            for edit in &fix.edits {
                let in_text = edit.range.start <= edit.range.end
                    && edit.range.end <= file.text.len()
                    && file.text.is_char_boundary(edit.range.start)
                    && file.text.is_char_boundary(edit.range.end);
                if !in_text {
                    problems.push(format!(
                        "{at}: the fix edits bytes {:?}, outside the text or inside a character",
                        edit.range
                    ));
                    continue;
                }
                if let Some(eol) = eol {
                    if edit.new_text.replace(eol, "").contains(['\n', '\r']) {
                        problems.push(format!(
                            "{at}: the fix writes {:?}, whose line break is not the file's {eol:?}",
                            edit.new_text
                        ));
                    }
                }
            }
        }
    }
}

/// Edits of different findings that overlap (`apply_edits` would drop one).
fn overlapping_edits(edits: &[TextEdit]) -> Vec<(TextEdit, TextEdit)> {
    let mut sorted: Vec<&TextEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    sorted.dedup();
    sorted
        .windows(2)
        .filter(|w| {
            w[1].range.start < w[0].range.end || (w[0].range == w[1].range && w[0].range.is_empty())
        })
        .map(|w| (w[0].clone(), w[1].clone()))
        .collect()
}

fn check_fix_round_trip(unit: &Unit, outcome: &Outcome, problems: &mut Vec<String>) {
    let mut fixed = Vec::new();
    for (file, findings) in unit.files.iter().zip(&outcome.findings) {
        let edits = fix_all_edits(findings);
        for (a, b) in overlapping_edits(&edits) {
            problems.push(format!(
                "{}: two fixes overlap, one would be lost: {a:?} and {b:?}",
                file.path
            ));
        }
        fixed.push(apply_edits(&file.text, &edits));
    }
    let texts: Vec<(&str, &str)> = unit
        .files
        .iter()
        .zip(&fixed)
        .map(|(f, t)| (f.origin.as_str(), t.as_str()))
        .collect();
    let after = analyse_workspace(&texts);
    for (((file, findings), fixed), after) in unit
        .files
        .iter()
        .zip(&outcome.findings)
        .zip(&fixed)
        .zip(&after)
    {
        let index = LineIndex::new(fixed);
        for finding in after.iter().filter(|f| f.code == Code::TG001) {
            problems.push(format!(
                "{}: after applying all fixes, line {} is still reported: {}\n--- fixed text ---\n{}",
                file.path,
                index.line_of(finding.range.start) + 1,
                finding.message,
                fixed
            ));
        }
        let syntax = |fs: &[Finding]| fs.iter().filter(|f| f.code == Code::TG000).count();
        if syntax(findings) != syntax(after) {
            problems.push(format!(
                "{}: the fixes changed the number of syntax errors from {} to {}\n--- fixed text ---\n{}",
                file.path,
                syntax(findings),
                syntax(after),
                fixed
            ));
        }
        let again = apply_edits(fixed, &fix_all_edits(after));
        if again != *fixed {
            problems.push(format!(
                "{}: fixing the fixed text changed it again\n--- after one round ---\n{fixed}\n--- after two ---\n{again}",
                file.path
            ));
        }
    }
}

// ---------------------------------------------------------------------------
// The other ways out of a finding: the ServiceAccount fix and the ignore comment

/// The unit's texts with one file replaced.
fn texts_with<'u>(unit: &'u Unit, replaced: usize, text: &'u str) -> Vec<(&'u str, &'u str)> {
    unit.files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            (
                f.origin.as_str(),
                if i == replaced { text } else { f.text.as_str() },
            )
        })
        .collect()
}

fn count(findings: &[Finding], code: Code) -> usize {
    findings.iter().filter(|f| f.code == code).count()
}

fn check_ignore_comments(unit: &Unit, outcome: &Outcome, problems: &mut Vec<String>) {
    for (i, (file, findings)) in unit.files.iter().zip(&outcome.findings).enumerate() {
        let index = LineIndex::new(&file.text);
        for finding in findings.iter().filter(|f| f.code == Code::TG001) {
            let line = index.line_of(finding.range.start);
            let on_line = findings
                .iter()
                .filter(|f| f.code == Code::TG001 && index.line_of(f.range.start) == line)
                .count();
            let Some(fix) = ignore_comment(&file.text, &index, finding) else {
                problems.push(format!(
                    "{}:{}: no ignore comment offered",
                    file.path,
                    line + 1
                ));
                continue;
            };
            let commented = apply_edits(&file.text, &fix.edits);
            let after = &analyse_workspace(&texts_with(unit, i, &commented))[i];
            let expected = count(findings, Code::TG001) - on_line;
            if count(after, Code::TG001) != expected
                || count(after, Code::TG000) != count(findings, Code::TG000)
            {
                problems.push(format!(
                    "{}:{}: after the ignore comment, expected {expected} TG001 and {} TG000, found {} and {}\n--- commented text ---\n{commented}",
                    file.path,
                    line + 1,
                    count(findings, Code::TG000),
                    count(after, Code::TG001),
                    count(after, Code::TG000),
                ));
            }
        }
    }
}

fn check_account_fixes(unit: &Unit, outcome: &Outcome, problems: &mut Vec<String>) {
    for (i, (file, findings)) in unit.files.iter().zip(&outcome.findings).enumerate() {
        let index = LineIndex::new(&file.text);
        for finding in findings.iter().filter(|f| f.code == Code::TG001) {
            let Some(found) = finding.account.as_ref().and_then(|a| a.found.as_ref()) else {
                continue;
            };
            let at = format!("{}:{}", file.path, index.line_of(finding.range.start) + 1);
            let holder = match &found.origin {
                None => Some(i),
                Some(origin) => unit.files.iter().position(|f| f.origin == *origin),
            };
            let Some(holder) = holder else {
                problems.push(format!(
                    "{at}: the account was found in {:?}, which is not in the workspace",
                    found.origin
                ));
                continue;
            };
            let holder_file = &unit.files[holder];
            let Some(fix) = disable_on_account(&holder_file.text, &found.account) else {
                problems.push(format!(
                    "{at}: no fix disables automounting on ServiceAccount \"{}\" in {}",
                    found.account.name, holder_file.path
                ));
                continue;
            };
            let fixed = apply_edits(&holder_file.text, &fix.edits);
            let after = analyse_workspace(&texts_with(unit, holder, &fixed));
            let still_there = after[i]
                .iter()
                .any(|f| f.code == Code::TG001 && f.workload == finding.workload);
            let syntax_before = count(&outcome.findings[holder], Code::TG000);
            if still_there || count(&after[holder], Code::TG000) != syntax_before {
                problems.push(format!(
                    "{at}: disabling automounting on ServiceAccount \"{}\" ({}) did not clear the finding cleanly\n--- {} after the fix ---\n{fixed}",
                    found.account.name, holder_file.path, holder_file.path
                ));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The harness's own behaviour

#[test]
fn markers_are_read_with_offsets_messages_and_carets() {
    let text = "a: 1 # Noncompliant {{first}}\n#^^\n# Noncompliant@+1\nb: 2\n  # ^\nc: 3 # Error TG000@-2 Noncompliant\n";
    let expectations = parse_markers(text).expect("valid markers");
    type Summary<'e> = (Code, usize, Option<&'e str>, Option<(usize, usize)>);
    let summary: Vec<Summary> = expectations
        .iter()
        .map(|e| (e.code, e.line, e.message.as_deref(), e.columns))
        .collect();
    assert_eq!(
        summary,
        vec![
            (Code::TG001, 0, Some("first"), Some((1, 3))),
            (Code::TG001, 3, None, Some((4, 5))),
            (Code::TG000, 3, None, None),
            (Code::TG001, 5, None, None),
        ]
    );
}

#[test]
fn misspelt_markers_and_orphan_carets_are_errors() {
    assert!(parse_markers("a: 1 # noncompliant\n").is_err());
    assert!(parse_markers("a: 1 # Noncompliant@1\n").is_err());
    assert!(parse_markers("a: 1 # Noncompliant {{open\n").is_err());
    assert!(
        parse_markers("a: 1\n# ^\n").is_err(),
        "carets without a marker for the line"
    );
    assert!(
        parse_markers("# Noncompliant@-1\n").is_err(),
        "offset before the first line"
    );
    assert!(parse_markers("a: 1 # Compliant: nothing to see\n")
        .unwrap()
        .is_empty());
}

#[test]
fn columns_count_characters_and_skip_the_byte_order_mark() {
    let text = "\u{feff}{k: é, spec: {}}\n";
    let index = LineIndex::new(text);
    let spec = text.find("spec").unwrap();
    assert_eq!(position(text, &index, spec), (0, 7));
}
