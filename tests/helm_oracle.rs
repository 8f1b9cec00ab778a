//! Helm as the reference renderer (issue 13, Deliver 2 (d)): every chart of
//! `../shared/corpus` (every folder holding a `Chart.yaml`), and this
//! test's own charts in `tests/helm_oracle/charts/` (pod specs built from
//! helpers: the corpus keeps no `*.tpl` file, so its charts' helpers are
//! missing and most of their templates cannot render), is rendered
//! with its default values by `tests/oracles/helm/render.py` (Helm v4
//! through the PyPI package helm-python-sdk), and for each workload of the
//! rendering the verdict tokenguard gives on the rendered YAML must be the
//! verdict it gives on the template in place; a template whose rendering is
//! valid YAML must have no TG000 in place.
//!
//! Matching: a rendered workload is the in-place workload of the same
//! template file, of the same kind, at the same rank among that template's
//! workloads of that kind (the second Deployment rendered from
//! `templates/x.yaml` is the second Deployment read in `templates/x.yaml`).
//! Verdicts are compared by row of the decision table: `missing`, `null`,
//! `true`, `not-boolean` (reported) or `compliant`. In place a workload can
//! also be `undecided` (the rule leaves it unreported: a value or a helper
//! it does not evaluate); it is counted as not judged in place, as is a
//! rendered workload with no in-place counterpart. The in-place findings
//! are cross-checked against `tokenguard check <chart> --format json`, so
//! what is compared is what the command line reports.
//!
//! Every difference must be listed, with its reason, in
//! `tests/helm_oracle/known_differences.toml`; a listed difference that no
//! longer occurs fails too, as does a reason left `UNREASONED`. To rewrite
//! the list from the current differences (keeping the reasons of those
//! still listed, `UNREASONED` for new ones, which then still fail):
//!
//! ```text
//! TOKENGUARD_UPDATE_HELM_ORACLE=1 cargo test --test helm_oracle
//! ```
//!
//! Python with `helm_python` is looked for as `python3` (or
//! `$TOKENGUARD_PYTHON`), with `target/oracles/python` (where `.ci/run`
//! installs the package) on `PYTHONPATH`. Without it, or without
//! `../shared`, the test skips saying so, unless
//! `TOKENGUARD_REQUIRE_ORACLES=1` (or `TOKENGUARD_REQUIRE_SHARED=1` for
//! `../shared`).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tokenguard_analysis::helm::{
    check_template, judge_workloads, ChartView, Template, TemplateContext, ValuesFile, Verdict,
};
use tokenguard_analysis::{
    holds_kubernetes_object, AccountIndex, Code, Finding, NoAccounts, Options, Problem,
};

const LIST: &str = "tests/helm_oracle/known_differences.toml";
const UPDATE: &str = "TOKENGUARD_UPDATE_HELM_ORACLE";
const REQUIRE_ORACLES: &str = "TOKENGUARD_REQUIRE_ORACLES";
const UNREASONED: &str = "UNREASONED";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Skips (returning `None`) or fails, as `TOKENGUARD_REQUIRE_ORACLES` says.
fn missing_oracle(why: &str) -> Option<Value> {
    if std::env::var_os(REQUIRE_ORACLES).is_some_and(|v| v == "1") {
        panic!("helm_oracle: {why} and {REQUIRE_ORACLES}=1");
    }
    eprintln!("SKIPPED helm_oracle: {why}");
    None
}

/// The Python that runs the oracle, with the cached install on its path.
fn python() -> Command {
    let program = std::env::var("TOKENGUARD_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let mut command = Command::new(program);
    let cached = root().join("target/oracles/python");
    let mut paths = vec![cached];
    if let Some(existing) = std::env::var_os("PYTHONPATH") {
        paths.extend(std::env::split_paths(&existing));
    }
    if let Ok(joined) = std::env::join_paths(paths) {
        command.env("PYTHONPATH", joined);
    }
    command
}

/// The oracle's answer for `charts`, or `None` when it cannot run (skipped).
fn render(charts: &[PathBuf]) -> Option<Value> {
    match python().args(["-c", "import helm_python"]).output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            return missing_oracle(&format!(
                "python cannot import helm_python (pip install --target target/oracles/python helm-python-sdk): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
        Err(e) => {
            return missing_oracle(&format!(
                "{} cannot be run: {e}",
                python().get_program().to_string_lossy()
            ))
        }
    }
    let out = python()
        .arg(root().join("tests/oracles/helm/render.py"))
        .args(charts)
        .output()
        .expect("the oracle runs");
    assert!(
        out.status.success(),
        "render.py failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("render.py prints JSON"))
}

/// A verdict as compared: a row of the decision table.
fn problem_label(problem: Problem) -> &'static str {
    match problem {
        Problem::Missing => "missing",
        Problem::Null => "null",
        Problem::ExplicitTrue => "true",
        Problem::NotBoolean(_) => "not-boolean",
        Problem::Syntax => "syntax",
    }
}

fn in_place_label(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Reported(finding) => problem_label(finding.problem),
        Verdict::Compliant => "compliant",
        Verdict::Unresolvable(_) => "undecided",
    }
}

/// One difference between the template in place and its rendering.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Difference {
    /// The template, relative to the corpus.
    template: String,
    /// `Deployment#1`; `-` for a TG000.
    workload: String,
    in_place: String,
    rendered: String,
}

impl Difference {
    fn key(&self) -> (String, String, String, String) {
        (
            self.template.clone(),
            self.workload.clone(),
            self.in_place.clone(),
            self.rendered.clone(),
        )
    }
}

/// The checked-in list: each difference with its reason.
fn read_list(path: &Path) -> BTreeMap<(String, String, String, String), String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return BTreeMap::new();
    };
    let table: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{}: not TOML: {e}", path.display()));
    let mut list = BTreeMap::new();
    let entries = table
        .get("difference")
        .and_then(|d| d.as_array())
        .cloned()
        .unwrap_or_default();
    for entry in entries {
        let field = |name: &str| {
            entry
                .get(name)
                .and_then(|v| v.as_str())
                .unwrap_or_else(|| panic!("{}: an entry lacks `{name}`", path.display()))
                .to_string()
        };
        list.insert(
            (
                field("template"),
                field("workload"),
                field("in_place"),
                field("rendered"),
            ),
            field("reason"),
        );
    }
    list
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn write_list(path: &Path, entries: &[(Difference, String)]) {
    let mut text = String::from(
        "# Differences between tokenguard's verdict on a Helm template in place and\n\
         # its verdict on the template rendered by Helm (tests/helm_oracle.rs), each\n\
         # with its reason. Rewritten by TOKENGUARD_UPDATE_HELM_ORACLE=1 (reasons kept).\n",
    );
    for (d, reason) in entries {
        let _ = write!(
            text,
            "\n[[difference]]\ntemplate = {}\nworkload = {}\nin_place = {}\nrendered = {}\nreason = {}\n",
            toml_string(&d.template),
            toml_string(&d.workload),
            toml_string(&d.in_place),
            toml_string(&d.rendered),
            toml_string(reason)
        );
    }
    let tmp = path.with_extension("toml.tmp");
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("the list's folder");
    std::fs::write(&tmp, text).expect("writing the list");
    std::fs::rename(&tmp, path).expect("replacing the list");
}

/// Counts for the closing note.
#[derive(Default)]
struct Counts {
    charts_rendered: usize,
    charts_per_template: BTreeMap<String, usize>,
    charts_failed: BTreeMap<String, usize>,
    /// Each chart not rendered whole, with Helm's first message.
    not_whole: Vec<(String, String)>,
    templates_rendered: usize,
    templates_not_rendered: BTreeMap<String, usize>,
    /// Rendered workloads judged in place and agreeing.
    agreeing: usize,
    differing: usize,
    /// Rendered workloads left undecided in place.
    undecided_in_place: usize,
    /// Rendered workloads with no in-place counterpart.
    unread_in_place: usize,
    /// In-place workloads the default values do not render.
    not_rendered: usize,
    /// In-place workloads of templates that did not render.
    in_unrendered_templates: usize,
    in_place_by_verdict: BTreeMap<&'static str, usize>,
    /// Every workload of every chart template, as judged in place.
    all_in_place: BTreeMap<&'static str, usize>,
    rendered_by_verdict: BTreeMap<&'static str, usize>,
}

/// The first line of Helm's message that says what failed, for grouping.
fn reason_class(message: &str) -> String {
    let line = message
        .lines()
        .map(str::trim)
        .rev()
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if let Some(name) = line
        .split("no template \"")
        .nth(1)
        .and_then(|r| r.split('"').next())
    {
        return format!("helper {name:?} not in the corpus (no _helpers.tpl)");
    }
    if let Some(name) = message
        .split("template \"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .filter(|_| message.contains("not defined"))
    {
        return format!("helper {name:?} not in the corpus (no _helpers.tpl)");
    }
    // Another failure: Helm's last line, which names the template, the
    // action and the error.
    line.to_string()
}

fn helper_group(reason: &str) -> String {
    if reason.starts_with("helper ") && reason.ends_with("(no _helpers.tpl)") {
        "a helper not in the corpus (no _helpers.tpl)".to_string()
    } else {
        reason.to_string()
    }
}

#[test]
fn chart_verdicts_match_helm_rendering() {
    // The corpus's charts (when `../shared` is there), then this test's
    // own (`tests/helm_oracle/charts/`: pod specs built from helpers, which
    // the corpus's charts lack: it keeps no `*.tpl` file), each with the
    // folder its name is relative to.
    let shared = root().join("../shared");
    let shared = if shared.is_dir() {
        Some(shared)
    } else {
        let required = [REQUIRE_ORACLES, common::REQUIRE_SHARED]
            .into_iter()
            .find(|v| std::env::var_os(v).is_some_and(|v| v == "1"));
        if let Some(required) = required {
            panic!(
                "helm_oracle: {} is missing and {required}=1",
                shared.display()
            );
        }
        eprintln!(
            "PARTLY SKIPPED helm_oracle: {} not found: the corpus's charts are not compared, only this test's own",
            shared.display()
        );
        None
    };
    let mut charts: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut loose_template_folders = 0;
    if let Some(shared) = &shared {
        let corpus = shared.join("corpus");
        let found: Vec<PathBuf> = common::files_under(&corpus, |p| {
            p.file_name().is_some_and(|n| n == "Chart.yaml")
        })
        .into_iter()
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
        assert!(!found.is_empty(), "no chart under {}", corpus.display());
        // Folders of templates kept without their chart (no Chart.yaml):
        // neither Helm nor tokenguard reads them as a chart.
        let mut folders = BTreeSet::new();
        for file in common::files_under(&corpus, common::is_yaml) {
            let Some(parent) = file.parent() else {
                continue;
            };
            if parent.file_name().is_some_and(|n| n == "templates")
                && !parent
                    .parent()
                    .is_some_and(|c| c.join("Chart.yaml").is_file())
            {
                folders.insert(parent.to_path_buf());
            }
        }
        loose_template_folders = folders.len();
        charts.extend(found.into_iter().map(|c| (corpus.clone(), c)));
    }
    let fixtures = root().join("tests/helm_oracle/charts");
    let own: Vec<PathBuf> = common::files_under(&fixtures, |p| {
        p.file_name().is_some_and(|n| n == "Chart.yaml")
    })
    .into_iter()
    .filter_map(|p| p.parent().map(Path::to_path_buf))
    .collect();
    assert!(!own.is_empty(), "no chart under {}", fixtures.display());
    charts.extend(own.into_iter().map(|c| (root(), c)));
    let dirs: Vec<PathBuf> = charts.iter().map(|(_, c)| c.clone()).collect();
    let Some(oracle) = render(&dirs) else {
        return;
    };
    let rendered_charts = oracle["charts"].as_array().expect("a list of charts");
    assert_eq!(rendered_charts.len(), charts.len());

    let options = Options::builtin();
    // Counted apart: the corpus's charts, and this test's own.
    let mut counts_by: BTreeMap<&'static str, Counts> = BTreeMap::new();
    let mut differences: Vec<Difference> = Vec::new();
    let mut harness_problems: Vec<String> = Vec::new();

    for ((base, chart), rendering) in charts.iter().zip(rendered_charts) {
        let source = if *base == root() {
            "this test's charts"
        } else {
            "corpus"
        };
        let counts = counts_by.entry(source).or_default();
        let chart_name = chart
            .strip_prefix(base)
            .expect("under its base")
            .to_string_lossy()
            .replace('\\', "/");
        let status = rendering["status"].as_str().unwrap_or("failed");
        let missing: Vec<&str> = rendering["missing_dependencies"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let chart_reason = || {
            let mut why = String::new();
            if !missing.is_empty() {
                let _ = write!(why, "dependencies not vendored ({}); ", missing.join(", "));
            }
            why + &helper_group(&reason_class(rendering["error"].as_str().unwrap_or("")))
        };
        if status != "rendered" {
            let first = rendering["error"].as_str().unwrap_or("").replace('\n', " ");
            let first = first.split_whitespace().collect::<Vec<_>>().join(" ");
            let deps = if missing.is_empty() {
                String::new()
            } else {
                format!(" [dependencies not vendored: {}]", missing.join(", "))
            };
            counts
                .not_whole
                .push((chart_name.clone(), format!("{first}{deps}")));
        }
        match status {
            "rendered" => counts.charts_rendered += 1,
            "per-template" => {
                *counts
                    .charts_per_template
                    .entry(chart_reason())
                    .or_default() += 1
            }
            _ => {
                *counts.charts_failed.entry(chart_reason()).or_default() += 1;
                continue;
            }
        }
        let templates = &rendering["templates"];

        // The chart as tokenguard reads it (the host's `read_chart`).
        let values = std::fs::read_to_string(chart.join("values.yaml"))
            .ok()
            .map(|text| ValuesFile::new(format!("{chart_name}/values.yaml"), text));
        let template_files = common::files_under(&chart.join("templates"), common::is_yaml);
        let texts: Vec<(String, String)> = template_files
            .iter()
            .filter_map(|p| {
                let relative = p
                    .strip_prefix(chart)
                    .ok()?
                    .to_string_lossy()
                    .replace('\\', "/");
                Some((relative, std::fs::read_to_string(p).ok()?))
            })
            .collect();
        let view = ChartView::new(
            values,
            texts
                .iter()
                .filter(|(_, t)| t.contains("ServiceAccount"))
                .map(|(p, t)| (format!("{chart_name}/{p}"), t.clone())),
        )
        .with_helpers(
            std::fs::read_to_string(chart.join("templates/_helpers.tpl"))
                .ok()
                .map(|t| (format!("{chart_name}/templates/_helpers.tpl"), t))
                .into_iter()
                .chain(
                    texts
                        .iter()
                        .filter(|(_, t)| t.contains("define"))
                        .map(|(p, t)| (format!("{chart_name}/{p}"), t.clone())),
                ),
        );

        // The rendered chart's ServiceAccounts, for the rendered verdicts.
        let mut rendered_accounts = AccountIndex::new();
        for (path, entry) in templates.as_object().into_iter().flatten() {
            if let Some(text) = entry["rendered"].as_str() {
                rendered_accounts.set(path, tokenguard_analysis::service_accounts(text));
            }
        }

        let mut harness_findings: BTreeSet<(String, &'static str, usize)> = BTreeSet::new();
        for (relative, text) in &texts {
            let file = format!("{chart_name}/{relative}");
            let context = TemplateContext {
                file: &file,
                values: view.values.as_ref(),
                accounts: &view.accounts,
                helpers: Some(&view.helpers),
                accounts_read: view.read_accounts_of(&file, text),
            };
            let template = Template::parse(text, context.values, options);
            let findings: Vec<Finding> = if holds_kubernetes_object(text, &template.parsed) {
                check_template(text, &template, &context, &NoAccounts)
            } else {
                Vec::new()
            };
            for f in &findings {
                let line = template.parsed.line_index.line_of(f.range.start) + 1;
                harness_findings.insert((file.clone(), f.code.as_str(), line));
            }
            let has_tg000 = findings.iter().any(|f| f.code == Code::TG000);
            let in_place = judge_workloads(text, &template, &context, &NoAccounts);
            for (_, verdict) in &in_place {
                *counts
                    .all_in_place
                    .entry(in_place_label(verdict))
                    .or_default() += 1;
            }

            let entry = &templates[relative.as_str()];
            let Some(rendered) = entry["rendered"].as_str() else {
                let mut why = helper_group(&reason_class(
                    entry["error"].as_str().unwrap_or("not rendered"),
                ));
                if !why.starts_with("a helper") && text.contains(".Files.") {
                    why = format!("reads a chart file (.Files) the corpus lacks: {why}");
                }
                *counts.templates_not_rendered.entry(why).or_default() += 1;
                counts.in_unrendered_templates += in_place.len();
                continue;
            };
            counts.templates_rendered += 1;
            let parsed = tokenguard_analysis::parse(rendered, options);
            if has_tg000 && parsed.syntax_errors.is_empty() {
                differences.push(Difference {
                    template: file.clone(),
                    workload: "-".to_string(),
                    in_place: "TG000".to_string(),
                    rendered: if rendered.trim().is_empty() {
                        "valid YAML (empty)".to_string()
                    } else {
                        "valid YAML".to_string()
                    },
                });
            }
            let rendered_findings =
                tokenguard_analysis::check(rendered, &parsed, &rendered_accounts);
            let mut rank: BTreeMap<String, usize> = BTreeMap::new();
            let mut in_place_of_kind: BTreeMap<String, Vec<&Verdict>> = BTreeMap::new();
            for (kind, verdict) in &in_place {
                in_place_of_kind
                    .entry(kind.clone())
                    .or_default()
                    .push(verdict);
            }
            for (doc, workload) in &parsed.workloads {
                let spec = parsed.documents[*doc].node(workload.pod_spec).range;
                let rendered_label = rendered_findings
                    .iter()
                    .find(|f| f.code == Code::TG001 && f.pod_spec == Some(spec))
                    .map_or("compliant", |f| problem_label(f.problem));
                *counts
                    .rendered_by_verdict
                    .entry(rendered_label)
                    .or_default() += 1;
                let n = rank.entry(workload.kind.clone()).or_default();
                *n += 1;
                let id = format!("{}#{n}", workload.kind);
                let counterpart = in_place_of_kind
                    .get(&workload.kind)
                    .and_then(|v| v.get(*n - 1));
                let Some(verdict) = counterpart else {
                    counts.unread_in_place += 1;
                    continue;
                };
                let label = in_place_label(verdict);
                *counts.in_place_by_verdict.entry(label).or_default() += 1;
                if label == "undecided" {
                    counts.undecided_in_place += 1;
                } else if label == rendered_label {
                    counts.agreeing += 1;
                } else {
                    counts.differing += 1;
                    differences.push(Difference {
                        template: file.clone(),
                        workload: id,
                        in_place: label.to_string(),
                        rendered: rendered_label.to_string(),
                    });
                }
            }
            for (kind, verdicts) in &in_place_of_kind {
                let seen = rank.get(kind).copied().unwrap_or(0);
                counts.not_rendered += verdicts.len().saturating_sub(seen);
            }
        }

        // What the command line reports for the chart is what was compared.
        let output = common::tokenguard(base, &["check", &chart_name, "--format", "json"]);
        let cli: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "tokenguard check {chart_name}: not JSON ({e}): {}",
                common::stderr(&output)
            )
        });
        let cli_findings: BTreeSet<(String, &'static str, usize)> = cli
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| {
                let code = match f["code"].as_str()? {
                    "TG000" => "TG000",
                    "TG001" => "TG001",
                    _ => return None,
                };
                Some((
                    f["file"].as_str()?.to_string(),
                    code,
                    f["line"].as_u64()? as usize,
                ))
            })
            .collect();
        if cli_findings != harness_findings {
            harness_problems.push(format!(
                "{chart_name}: the harness's findings differ from `tokenguard check`: only the harness {:?}, only the CLI {:?}",
                harness_findings.difference(&cli_findings).collect::<Vec<_>>(),
                cli_findings.difference(&harness_findings).collect::<Vec<_>>()
            ));
        }
    }

    // The report (for the closing note).
    let mut report = String::new();
    for (source, counts) in &counts_by {
        let _ = writeln!(
            report,
            "helm oracle (helm-python-sdk {}), {source}: {} charts: {} rendered whole, {} rendered template by template, {} not rendered",
            oracle["helm_python"].as_str().unwrap_or("?"),
            counts.charts_rendered
                + counts.charts_per_template.values().sum::<usize>()
                + counts.charts_failed.values().sum::<usize>(),
            counts.charts_rendered,
            counts.charts_per_template.values().sum::<usize>(),
            counts.charts_failed.values().sum::<usize>()
        );
        if *source == "corpus" {
            let _ = writeln!(
                report,
                "  (and {loose_template_folders} folders of templates in the corpus without their Chart.yaml: not charts, not rendered)"
            );
        }
        for (why, n) in &counts.charts_per_template {
            let _ = writeln!(report, "  chart not rendered whole ({n}): {why}");
        }
        for (why, n) in &counts.charts_failed {
            let _ = writeln!(report, "  chart not rendered ({n}): {why}");
        }
        for (chart, why) in &counts.not_whole {
            let _ = writeln!(report, "    {chart}: {why}");
        }
        let _ = writeln!(
            report,
            "templates: {} rendered, {} not rendered",
            counts.templates_rendered,
            counts.templates_not_rendered.values().sum::<usize>()
        );
        let mut by_group: BTreeMap<String, usize> = BTreeMap::new();
        for (why, n) in &counts.templates_not_rendered {
            *by_group.entry(helper_group(why)).or_default() += n;
        }
        for (why, n) in &by_group {
            let _ = writeln!(report, "  template not rendered ({n}): {why}");
        }
        let rendered_workloads: usize = counts.rendered_by_verdict.values().sum();
        let _ = writeln!(
            report,
            "rendered workloads: {rendered_workloads} ({:?}); judged in place and agreeing: {}, differing: {}, \
             not judged in place: {} (undecided {}, not read {})",
            counts.rendered_by_verdict,
            counts.agreeing,
            counts.differing,
            counts.undecided_in_place + counts.unread_in_place,
            counts.undecided_in_place,
            counts.unread_in_place
        );
        let _ = writeln!(
            report,
            "in-place verdicts of rendered workloads: {:?}; in-place workloads not rendered by the default values: {}, in templates that did not render: {}",
            counts.in_place_by_verdict, counts.not_rendered, counts.in_unrendered_templates
        );

        let all: usize = counts.all_in_place.values().sum();
        let undecided = counts.all_in_place.get("undecided").copied().unwrap_or(0);
        let _ = writeln!(
            report,
            "all chart workloads read in place: {all}: judged in place {}, by rendering 0, not judged {undecided} ({:?})",
            all - undecided,
            counts.all_in_place
        );
    }

    // The list.
    let path = root().join(LIST);
    let listed = read_list(&path);
    differences.sort();
    differences.dedup();
    let current: BTreeMap<_, _> = differences.iter().map(|d| (d.key(), d.clone())).collect();
    let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
    for key in current.keys() {
        let reason = listed.get(key).map_or("(not listed)", String::as_str);
        *by_reason.entry(reason.to_string()).or_default() += 1;
    }
    for (reason, n) in &by_reason {
        let _ = writeln!(report, "  difference ({n}): {reason}");
    }
    eprintln!("{report}");

    if std::env::var_os(UPDATE).is_some_and(|v| v == "1") {
        let entries: Vec<(Difference, String)> = differences
            .iter()
            .map(|d| {
                let reason = listed
                    .get(&d.key())
                    .cloned()
                    .unwrap_or_else(|| UNREASONED.to_string());
                (d.clone(), reason)
            })
            .collect();
        write_list(&path, &entries);
        eprintln!("helm_oracle: rewrote {LIST} ({} entries)", entries.len());
    }
    let listed = read_list(&path);

    let mut failures = harness_problems;
    for (key, d) in &current {
        match listed.get(key).map(String::as_str) {
            None => failures.push(format!("not listed: {d:?}")),
            Some(UNREASONED) => failures.push(format!("listed without a reason: {d:?}")),
            Some(_) => {}
        }
    }
    for key in listed.keys() {
        // Without `../shared` only this test's own charts were compared.
        let compared = shared.is_some() || key.0.starts_with("tests/");
        if compared && !current.contains_key(key) {
            failures.push(format!("listed but no longer occurs: {key:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) ({UPDATE}=1 rewrites {LIST}, keeping reasons):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
