//! Helm chart templates: the fixture charts under `tests/fixtures/helm/`
//! (one chart per folder, expectations as `# Noncompliant` markers; the
//! `mask_*` charts are the masking cases of issue 13), the files with
//! actions that belong to no chart under `loose/`, the real binary on
//! them, and every template of the shared corpus's `helm-templates/` read
//! without a crash or a range off the real text.

mod common;
use common::tokenguard;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use tokenguard_analysis::helm::{
    chart_accounts, check_template, judge_workloads, mask_with, ChartAccount, Template,
    TemplateContext, ValuesFile, Verdict,
};
use tokenguard_analysis::{apply_edits, Code, Finding, LineIndex, NoAccounts, Options, TextEdit};

const CHARTS: &str = "tests/fixtures/helm";

fn charts_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(CHARTS)
}

/// A chart as the tests read it: files named relative to the chart root.
struct Chart {
    root: PathBuf,
    values: Option<ValuesFile>,
    /// (name, text) of every YAML file under `templates/`.
    templates: Vec<(String, String)>,
}

fn load_chart(root: &Path) -> Chart {
    let values = fs::read_to_string(root.join("values.yaml"))
        .ok()
        .map(|text| ValuesFile::new("values.yaml", text));
    let templates = common::files_under(&root.join("templates"), common::is_yaml)
        .into_iter()
        .filter_map(|path| {
            let text = fs::read_to_string(&path).ok()?;
            let name = path.strip_prefix(root).ok()?.display().to_string();
            Some((name, text))
        })
        .collect();
    Chart {
        root: root.to_path_buf(),
        values,
        templates,
    }
}

impl Chart {
    fn accounts(&self) -> Vec<ChartAccount> {
        self.templates
            .iter()
            .flat_map(|(name, text)| chart_accounts(name, text, self.values.as_ref()))
            .collect()
    }

    /// The findings of every template.
    fn check(&self) -> Vec<Vec<Finding>> {
        let accounts = self.accounts();
        self.templates
            .iter()
            .map(|(name, text)| {
                let context = TemplateContext {
                    file: name,
                    values: self.values.as_ref(),
                    accounts: &accounts,
                    helpers: None,
                    accounts_read: false,
                };
                let template = Template::parse(text, self.values.as_ref(), Options::builtin());
                check_template(text, &template, &context, &NoAccounts)
            })
            .collect()
    }
}

/// The expected findings of a template: (0-based line, caret columns).
fn markers(text: &str) -> Vec<(usize, Option<(usize, usize)>)> {
    let lines: Vec<&str> = text.lines().collect();
    let is_caret_line = |line: &str| {
        let body = line.trim_start();
        body.starts_with('#')
            && body.contains('^')
            && body[1..].chars().all(|c| c == ' ' || c == '^')
    };
    let mut expected = Vec::new();
    for (number, line) in lines.iter().enumerate() {
        let Some(at) = line.find("# Noncompliant") else {
            continue;
        };
        let rest = &line[at + "# Noncompliant".len()..];
        let target = match rest.strip_prefix('@') {
            Some(offset) => {
                let digits: String = offset
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '+' || *c == '-')
                    .collect();
                let delta: isize = digits.parse().expect("a marker offset");
                number
                    .checked_add_signed(delta)
                    .expect("an offset in the file")
            }
            None => number,
        };
        let carets = lines.get(target + 1).filter(|l| is_caret_line(l)).map(|l| {
            let start = l.chars().position(|c| c == '^').unwrap_or(0);
            let count = l.chars().filter(|&c| c == '^').count();
            (start, start + count)
        });
        expected.push((target, carets));
    }
    expected
}

fn char_col(text: &str, index: &LineIndex, offset: usize) -> (usize, usize) {
    index.line_col_chars(text, offset)
}

/// Compares the findings of one template with its markers.
fn compare_with_markers(shown: &str, text: &str, findings: &[Finding], problems: &mut Vec<String>) {
    let index = LineIndex::new(text);
    for finding in findings.iter().filter(|f| f.code == Code::TG000) {
        problems.push(format!(
            "{shown}: unexpected TG000 {} at line {}",
            finding.message,
            index.line_of(finding.range.start) + 1
        ));
    }
    let mut actual: Vec<(usize, (usize, usize), String)> = findings
        .iter()
        .filter(|f| f.code == Code::TG001)
        .map(|f| {
            let (line, start) = char_col(text, &index, f.range.start);
            let (_, end) = char_col(text, &index, f.range.end);
            (line, (start, end), f.message.clone())
        })
        .collect();
    for (line, carets) in markers(text) {
        match actual.iter().position(|(l, _, _)| *l == line) {
            Some(i) => {
                let (_, columns, message) = actual.remove(i);
                if let Some(carets) = carets {
                    if carets != columns {
                        problems.push(format!(
                            "{shown}:{}: range {columns:?}, the carets say {carets:?} ({message})",
                            line + 1
                        ));
                    }
                }
            }
            None => problems.push(format!(
                "{shown}:{}: expected a finding, got none",
                line + 1
            )),
        }
    }
    for (line, _, message) in actual {
        problems.push(format!(
            "{shown}:{}: unexpected finding: {message}",
            line + 1
        ));
    }
}

#[test]
fn every_fixture_chart_gets_exactly_the_findings_its_markers_expect() {
    let mut problems = Vec::new();
    let mut charts = 0;
    for root in fs::read_dir(charts_root()).expect("the fixture charts") {
        let root = root.expect("an entry").path();
        if !root.join("Chart.yaml").is_file() {
            continue;
        }
        charts += 1;
        let chart = load_chart(&root);
        for ((name, text), findings) in chart.templates.iter().zip(chart.check()) {
            let shown = format!("{}/{name}", root.display());
            compare_with_markers(&shown, text, &findings, &mut problems);
        }
    }
    assert!(charts >= 3, "only {charts} fixture charts found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Files with template actions that belong to no chart
/// (`tests/fixtures/helm/loose/`): read as templates without values, as
/// the host reads them, markers compared the same way.
#[test]
fn every_loose_template_gets_exactly_the_findings_its_markers_expect() {
    let loose = charts_root().join("loose");
    let files = common::files_under(&loose, common::is_yaml);
    assert!(
        !files.is_empty(),
        "no loose templates in {}",
        loose.display()
    );
    let mut problems = Vec::new();
    for path in &files {
        let text = fs::read_to_string(path).expect("a fixture");
        let shown = path.display().to_string();
        let template = Template::parse(&text, None, Options::builtin());
        let context = TemplateContext {
            file: &shown,
            values: None,
            accounts: &[],
            helpers: None,
            accounts_read: false,
        };
        let findings = check_template(&text, &template, &context, &NoAccounts);
        compare_with_markers(&shown, &text, &findings, &mut problems);
        // The binary classifies it as a loose template and says the same.
        let relative = path.strip_prefix(&loose).expect("under loose/");
        let relative = relative.to_str().expect("a UTF-8 name");
        let output = tokenguard(&loose, &["check", "--format", "json", relative]);
        let json: Value = serde_json::from_str(&stdout(&output)).expect("JSON output");
        let codes: Vec<&str> = json
            .as_array()
            .expect("an array")
            .iter()
            .filter_map(|f| f["code"].as_str())
            .collect();
        assert_eq!(codes.len(), markers(&text).len(), "{shown}: {json}");
        assert!(codes.iter().all(|c| *c == "TG001"), "{shown}: {json}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Applying every fix (to the templates and to `values.yaml`) leaves no
/// finding, and every edit lies inside the text it edits.
#[test]
fn fixing_every_fixture_chart_clears_it() {
    for root in fs::read_dir(charts_root()).expect("the fixture charts") {
        let root = root.expect("an entry").path();
        if !root.join("Chart.yaml").is_file() {
            continue;
        }
        let mut chart = load_chart(&root);
        let findings = chart.check();
        let mut values_edits: Vec<TextEdit> = Vec::new();
        for ((name, text), findings) in chart.templates.iter_mut().zip(&findings) {
            let mut own = Vec::new();
            for finding in findings {
                let fix = finding
                    .fix
                    .as_ref()
                    .unwrap_or_else(|| panic!("{name}: no fix for {}", finding.message));
                match fix.file.as_deref() {
                    None => own.extend(fix.edits.iter().cloned()),
                    Some("values.yaml") => values_edits.extend(fix.edits.iter().cloned()),
                    Some(other) => panic!("{name}: a fix of unknown file {other}"),
                }
            }
            for edit in &own {
                assert!(edit.range.end <= text.len(), "{name}: edit past the end");
            }
            *text = apply_edits(text, &own);
        }
        if let Some(values) = &chart.values {
            for edit in &values_edits {
                assert!(edit.range.end <= values.text.len());
            }
            chart.values = Some(ValuesFile::new(
                "values.yaml",
                apply_edits(&values.text, &values_edits),
            ));
        }
        let after: Vec<Finding> = chart.check().into_iter().flatten().collect();
        assert!(
            after.is_empty(),
            "{}: findings left after fixing: {after:#?}",
            chart.root.display()
        );
    }
}

// ---------------------------------------------------------------- the binary

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("a folder");
    for entry in fs::read_dir(from).expect("a folder to copy").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).expect("a copy");
        }
    }
}

/// A copy of the fixture charts to work on.
fn charts_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    copy_dir(&charts_root(), dir.path());
    dir
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_cli_shows_the_values_line_in_human_json_and_sarif_output() {
    let dir = charts_copy();
    let chart = dir.path().join("values_automount");

    let human = tokenguard(&chart, &["check", "."]);
    assert_eq!(human.status.code(), Some(1));
    let text = stdout(&human);
    assert!(
        text.contains("= note: api.automountServiceAccountToken is true here at values.yaml:3:33"),
        "{text}"
    );
    assert!(
        text.contains("= help: Set it to `false` in values.yaml (values.yaml)"),
        "{text}"
    );

    let json: Value = serde_json::from_str(&stdout(&tokenguard(
        &chart,
        &["check", "--format", "json", "."],
    )))
    .expect("JSON output");
    let api = json
        .as_array()
        .expect("an array")
        .iter()
        .find(|f| f["file"] == "templates/api.yaml")
        .expect("the finding of templates/api.yaml");
    assert_eq!(
        (api["line"].as_u64(), api["column"].as_u64()),
        (Some(8), Some(37))
    );
    let related = &api["related"][0];
    assert_eq!(related["file"], "values.yaml");
    assert_eq!(
        (related["line"].as_u64(), related["column"].as_u64()),
        (Some(3), Some(33))
    );
    assert_eq!(related["end_column"].as_u64(), Some(37));
    assert_eq!(api["fix"]["file"], "values.yaml");
    assert_eq!(api["fix"]["edits"][0]["line"].as_u64(), Some(3));
    assert_eq!(api["fix"]["edits"][0]["new_text"], "false");

    let sarif: Value = serde_json::from_str(&stdout(&tokenguard(
        &chart,
        &["check", "--format", "sarif", "."],
    )))
    .expect("SARIF output");
    let result = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "templates/api.yaml"
        })
        .expect("the result of templates/api.yaml");
    let location = &result["relatedLocations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "values.yaml");
    assert_eq!(location["region"]["startLine"].as_u64(), Some(3));
    let change = &result["fixes"][0]["artifactChanges"][0];
    assert_eq!(change["artifactLocation"]["uri"], "values.yaml");
    assert_eq!(
        change["replacements"][0]["deletedRegion"]["startColumn"].as_u64(),
        Some(33)
    );
}

#[test]
fn the_cli_fix_edits_values_yaml_in_place_and_the_charts_are_clean_after() {
    let dir = charts_copy();
    let before =
        fs::read_to_string(dir.path().join("values_automount/values.yaml")).expect("values");
    let fixed = tokenguard(dir.path(), &["check", "--fix", "."]);
    assert_eq!(
        fixed.status.code(),
        Some(0),
        "{}{}",
        stdout(&fixed),
        String::from_utf8_lossy(&fixed.stderr)
    );
    let after =
        fs::read_to_string(dir.path().join("values_automount/values.yaml")).expect("values");
    assert_eq!(
        after,
        before.replace(
            "  automountServiceAccountToken: true\n",
            "  automountServiceAccountToken: false\n"
        )
    );
    let deployment = fs::read_to_string(dir.path().join("scaffold/templates/deployment.yaml"))
        .expect("template");
    assert!(
        deployment.contains("    spec: # Noncompliant\n      automountServiceAccountToken: false\n#   ^^^^\n      {{- with .Values.imagePullSecrets }}"),
        "the field goes right after `spec:`, outside the `with` block:\n{deployment}"
    );
    // Written through a temporary file renamed over the original: none left.
    let leftovers: Vec<PathBuf> = common::files_under(dir.path(), |_| true)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let again = tokenguard(dir.path(), &["check", "."]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
}

#[test]
fn the_cli_does_not_read_helpers_or_notes_as_yaml() {
    let dir = charts_copy();
    let chart = dir.path().join("scaffold");
    // NOTES.txt holds an unclosed action: read as YAML it would be a TG000.
    let output = tokenguard(&chart, &["check", "--format", "json", "."]);
    let json: Value = serde_json::from_str(&stdout(&output)).expect("JSON output");
    let files: Vec<&str> = json
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|f| f["file"].as_str())
        .collect();
    assert_eq!(files, ["templates/deployment.yaml"]);
    let human = tokenguard(&chart, &["check", "."]);
    assert!(
        String::from_utf8_lossy(&human.stderr).contains("in 5 files"),
        "Chart.yaml, values.yaml and three templates: {}",
        String::from_utf8_lossy(&human.stderr)
    );
    let named = tokenguard(
        &chart,
        &["check", "templates/_helpers.tpl", "templates/NOTES.txt"],
    );
    assert_eq!(named.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&named.stderr)
        .contains("a Helm helper or notes file, not YAML; skipped"));
}

// ---------------------------------------------------------------- the corpus

/// The chart of a corpus file under a `templates/` folder.
fn chart_root_of(path: &Path) -> Option<PathBuf> {
    let mut dir = path.parent();
    while let Some(current) = dir {
        if current.join("Chart.yaml").is_file() {
            let relative = path.strip_prefix(current).ok()?;
            return relative
                .starts_with("templates")
                .then(|| current.to_path_buf());
        }
        dir = current.parent();
    }
    None
}

/// The mask keeps every position, and changes only bytes of actions and of
/// the ranges it says it hides.
fn check_mask(shown: &str, text: &str, values: Option<&ValuesFile>, problems: &mut Vec<String>) {
    let masked = mask_with(text, values);
    if masked.text.len() != text.len() {
        problems.push(format!("{shown}: the mask changed the length"));
        return;
    }
    let mut inside = vec![false; text.len()];
    for action in &masked.actions {
        inside[action.range.start..action.range.end].fill(true);
    }
    for range in &masked.hidden {
        inside[range.start..range.end].fill(true);
    }
    for (i, (a, b)) in text.bytes().zip(masked.text.bytes()).enumerate() {
        let line_break = matches!(a, b'\n' | b'\r');
        if (line_break || !inside[i]) && a != b {
            problems.push(format!("{shown}: the mask changed byte {i}"));
            return;
        }
        if inside[i] && !line_break && !matches!(b, b' ' | b'x') {
            problems.push(format!("{shown}: the mask left byte {i} of an action"));
            return;
        }
    }
}

/// A range lies in the text, on char boundaries, on lines that exist.
fn range_fits(text: &str, start: usize, end: usize) -> bool {
    start <= end && end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end)
}

#[test]
fn every_corpus_helm_template_is_read_tolerantly_and_every_range_is_real() {
    let Some(shared) = common::shared_dir("helm corpus") else {
        return;
    };
    let corpus = shared.join("corpus/helm-templates");
    if !corpus.is_dir() {
        eprintln!("SKIPPED helm corpus: {} not found", corpus.display());
        return;
    }
    let files = common::files_under(&corpus, common::is_yaml);
    let mut problems = Vec::new();
    let (mut reported, mut compliant, mut unresolvable) = (0, 0, 0);
    let (mut tg000_plain, mut tg000_masked, mut templates) = (0, 0, 0);
    let mut charts: std::collections::HashMap<PathBuf, (Option<ValuesFile>, Vec<ChartAccount>)> =
        std::collections::HashMap::new();
    for path in &files {
        let Some(root) = chart_root_of(path) else {
            continue;
        };
        let Ok(text) = fs::read_to_string(path) else {
            continue;
        };
        templates += 1;
        let shown = path
            .strip_prefix(&corpus)
            .unwrap_or(path)
            .display()
            .to_string();
        let (values, accounts) = charts.entry(root.clone()).or_insert_with(|| {
            let chart = load_chart(&root);
            let accounts = chart.accounts();
            (chart.values, accounts)
        });
        check_mask(&shown, &text, None, &mut problems);
        check_mask(&shown, &text, values.as_ref(), &mut problems);
        let name = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let context = TemplateContext {
            file: &name,
            values: values.as_ref(),
            accounts,
            helpers: None,
            accounts_read: false,
        };
        let template = Template::parse(&text, values.as_ref(), Options::builtin());
        let findings = check_template(&text, &template, &context, &NoAccounts);
        tg000_plain += tokenguard_analysis::analyze(
            &text,
            &NoAccounts,
            tokenguard_analysis::Options::builtin(),
        )
        .iter()
        .filter(|f| f.code == Code::TG000)
        .count();
        tg000_masked += findings.iter().filter(|f| f.code == Code::TG000).count();
        let index = LineIndex::new(&text);
        for finding in &findings {
            if !range_fits(&text, finding.range.start, finding.range.end)
                || index.line_of(finding.range.start) >= index.line_count()
            {
                problems.push(format!(
                    "{shown}: finding range {:?} off the text",
                    finding.range
                ));
            }
            for related in &finding.related {
                let target = match related.file.as_deref() {
                    None => text.as_str(),
                    Some(_) => values.as_ref().map_or("", |v| v.text.as_str()),
                };
                if !range_fits(target, related.range.start, related.range.end) {
                    problems.push(format!(
                        "{shown}: related range {:?} off its file",
                        related.range
                    ));
                }
            }
            if let Some(fix) = &finding.fix {
                let target = match fix.file.as_deref() {
                    None => text.as_str(),
                    Some(_) => values.as_ref().map_or("", |v| v.text.as_str()),
                };
                for edit in &fix.edits {
                    if !range_fits(target, edit.range.start, edit.range.end) {
                        problems.push(format!("{shown}: edit {:?} off its file", edit.range));
                    }
                }
                // Applying never panics and yields text again.
                let _ = apply_edits(target, &fix.edits);
            }
        }
        for (kind, verdict) in judge_workloads(&text, &template, &context, &NoAccounts) {
            // Shown with `--nocapture`, for spot checks by eye.
            let what = match verdict {
                Verdict::Reported(finding) => {
                    reported += 1;
                    format!(
                        "reported at line {}",
                        index.line_of(finding.range.start) + 1
                    )
                }
                Verdict::Compliant => {
                    compliant += 1;
                    "compliant".to_string()
                }
                Verdict::Unresolvable(_) => {
                    unresolvable += 1;
                    "unresolvable".to_string()
                }
            };
            println!("  {shown}: {kind} {what}");
        }
    }
    println!(
        "helm corpus: {templates} templates; workloads: {reported} reported, {compliant} compliant, \
         {unresolvable} unresolvable; TG000: {tg000_plain} read as plain YAML, {tg000_masked} masked"
    );
    assert!(templates > 100, "only {templates} templates found");
    assert!(
        tg000_masked < tg000_plain,
        "masking must remove syntax errors"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_template_checked_alone_is_judged_with_its_whole_chart() {
    let dir = charts_copy();
    let chart = dir.path().join("scaffold");
    let output = tokenguard(&chart, &["check", "templates/deployment.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    // The account comes from templates/serviceaccount.yaml, not checked.
    assert!(text.contains("explicitly enables automounting"), "{text}");
    assert!(
        text.contains("gets automountServiceAccountToken from this value at values.yaml:14:14"),
        "{text}"
    );
}
