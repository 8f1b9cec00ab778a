//! Rendering where reading in place cannot decide: the pure half. A
//! template whose pod spec is built by an `include` (or whose
//! `automountServiceAccountToken` is computed) cannot be judged from its
//! text; the embedder may then run `helm template` on a temporary copy of
//! the chart and hand the output back. This module says which templates need
//! it ([`needs_rendering`]), writes the copy's template texts
//! ([`annotate`]: every line ends with a comment carrying its line number,
//! so each rendered line says where it came from; lines an `include`
//! produced carry none and take the next marked one), reads the output back
//! ([`read_output`]) and judges the rendered objects at the template
//! positions that produce them ([`judge_rendered`]). Running Helm (finding
//! it, the temporary copy, the time limit) is the embedder's.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use super::mask::{action_refs, ActionKind, ActionRef as Action};
use crate::accounts::{AccountLookup, SameFileFirst};
use crate::finding::{Code, Finding, RenderFact};
use crate::fix::FIELD;
use crate::ignore_comment;
use crate::objects::ServiceAccount;
use crate::options::Options;
use crate::text::{LineIndex, TextRange};

/// What [`annotate`] appends to a line, before the 1-based line number: a
/// YAML comment, so the rendered text means what it meant.
pub const MARKER: &str = " #tokenguard-line:";

/// What in-place reading of a template cannot see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unseen {
    /// A block `include` (or `template`, `tpl`) where a workload's pod spec
    /// goes (`whole`: the whole object, at the top of a document); `call` is
    /// the action's body.
    Included {
        range: TextRange,
        call: String,
        whole: bool,
    },
    /// `automountServiceAccountToken: {{ … }}` computed by more than a
    /// values reference.
    Computed {
        range: TextRange,
        expression: String,
    },
}

impl Unseen {
    /// The action's range in the template.
    pub fn range(&self) -> TextRange {
        match self {
            Unseen::Included { range, .. } | Unseen::Computed { range, .. } => *range,
        }
    }

    /// What was not evaluated, as a sentence's singular subject (every
    /// caller follows it with "was not evaluated").
    pub fn describe(&self, text: &str) -> String {
        let line = LineIndex::new(text).line_of(self.range().start) + 1;
        match self {
            Unseen::Included {
                call, whole: false, ..
            } => {
                format!("The pod spec built by {{{{ {call} }}}} (line {line})")
            }
            Unseen::Included {
                call, whole: true, ..
            } => {
                format!("The output of {{{{ {call} }}}} (line {line}), which builds whole objects,")
            }
            Unseen::Computed { expression, .. } => {
                format!("The computed value {{{{ {expression} }}}} of {FIELD} (line {line})")
            }
        }
    }
}

/// The lines of `text`: (start, end of content without the line break).
fn lines(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in memchr::memchr_iter(b'\n', text.as_bytes()) {
        let end = if i > start && text.as_bytes()[i - 1] == b'\r' {
            i - 1
        } else {
            i
        };
        out.push((start, end));
        start = i + 1;
    }
    if start < text.len() {
        out.push((start, text.len()));
    }
    out
}

fn inside_action(actions: &[Action], offset: usize) -> bool {
    // Actions are in text order and never overlap: only the last one
    // starting before `offset` can hold it.
    let before = actions.partition_point(|a| a.range.start < offset);
    before > 0 && offset < actions[before - 1].range.end
}

/// The line of `doc` (lines in order, each ending before the next starts)
/// that holds `offset`, its end included: the last one starting at or
/// before it, when it ends at or after it.
fn line_holding(doc: &[(usize, usize)], offset: usize) -> Option<(usize, usize)> {
    let after = doc.partition_point(|(s, _)| *s <= offset);
    let &(s, e) = doc.get(after.checked_sub(1)?)?;
    (offset <= e).then_some((s, e))
}

/// The actions that lie within `start..end`, in order. (In text order and
/// never overlapping, those starting at or after `start` end in order too:
/// the ones within are a run from the first of them.)
fn actions_within<'a, 't>(
    actions: &'a [Action<'t>],
    start: usize,
    end: usize,
) -> impl Iterator<Item = &'a Action<'t>> {
    let first = actions.partition_point(|a| a.range.start < start);
    actions[first..]
        .iter()
        .take_while(move |a| a.range.end <= end)
}

/// The function an output action calls first: `include "x" .` → include.
fn calls_helper(action: &Action) -> bool {
    if action.kind != ActionKind::Output {
        return false;
    }
    let first = action.body.split_whitespace().next().unwrap_or_default();
    let first = first.trim_start_matches('(');
    matches!(first, "include" | "template" | "tpl")
}

/// `nindent 8` / `indent 8` in an action: the indentation its output gets.
fn indent_argument(body: &str) -> Option<usize> {
    let words: Vec<&str> = body.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[0] == "nindent" || w[0] == "indent")
        .and_then(|w| w[1].trim_end_matches(')').parse().ok())
}

/// A values reference the in-place reading resolves: `.Values.a.b`.
fn is_values_reference(body: &str) -> bool {
    let body = body.trim();
    let Some(path) = body.strip_prefix(".Values.") else {
        return false;
    };
    !path.is_empty()
        && path
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

fn leading_blanks(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// What in-place reading of the workloads of `text` (a chart template)
/// cannot see, if anything: the first block `include` that builds a
/// workload's pod spec (directly under a `spec:` or `template:` key, or the
/// whole object at the top of a document) when the document does not set
/// the field itself, or a computed field value. The workload kinds are
/// `options`'. An `include` whose helper reading in place decides
/// (`decided`, given the action's body: `helpers.rs` reads the chart's
/// `define`s) needs no rendering.
pub fn needs_rendering(
    text: &str,
    options: &Options,
    decided: &dyn Fn(&str) -> bool,
) -> Option<Unseen> {
    if !text.contains("{{") {
        return None;
    }
    let actions = action_refs(text);
    let all = lines(text);
    let mut documents: Vec<&[(usize, usize)]> = Vec::new();
    let mut from = 0;
    for (i, (s, e)) in all.iter().enumerate() {
        let line = &text[*s..*e];
        if line.starts_with("---") && line[3..].trim().is_empty() {
            documents.push(&all[from..i]);
            from = i + 1;
        }
    }
    documents.push(&all[from..]);
    documents
        .into_iter()
        .find_map(|doc| unseen_in(text, &actions, doc, options, decided))
}

fn unseen_in(
    text: &str,
    actions: &[Action],
    doc: &[(usize, usize)],
    options: &Options,
    decided: &dyn Fn(&str) -> bool,
) -> Option<Unseen> {
    let (first, last) = (doc.first()?.0, doc.last()?.1);
    let kind = doc.iter().find_map(|(s, e)| {
        let rest = text[*s..*e].strip_prefix("kind:")?;
        Some(rest.trim().trim_matches(['"', '\'']).to_string())
    });
    match &kind {
        // A kind computed by an action: in-place reading resolves it.
        Some(kind) if kind.contains("{{") => return None,
        Some(kind) if !options.kinds.has_kind_named(kind) => return None,
        _ => {}
    }
    // The field, as the template writes it: the first on each line that
    // holds it (looked for in the document at once, not line by line).
    let key = format!("{FIELD}:");
    let mut examined = None;
    for hit in memchr::memmem::find_iter(&text.as_bytes()[first..last], key.as_bytes()) {
        let start = first + hit;
        // (The key holds no line break: it lies within a line.)
        let line_number = doc.partition_point(|(s, _)| *s <= start).saturating_sub(1);
        if examined.is_some_and(|n| n >= line_number) {
            continue;
        }
        examined = Some(line_number);
        let Some(&(s, e)) = doc.get(line_number) else {
            continue;
        };
        let line = &text[s..e];
        let at = start - s;
        if inside_action(actions, start) || line[..at].trim_start().starts_with('#') {
            continue;
        }
        let value_start = start + FIELD.len() + 1;
        let computed = actions_within(actions, value_start, e)
            .next()
            .filter(|a| a.kind == ActionKind::Output && !is_values_reference(a.body));
        return computed.map(|a| Unseen::Computed {
            range: a.range,
            expression: a.body.to_string(),
        });
    }
    let in_doc = actions_within(actions, first, last).filter(|a| calls_helper(a));
    for action in in_doc {
        let Some((s, e)) = line_holding(doc, action.range.start) else {
            continue;
        };
        // Alone on its line: it renders whole entries.
        let line_end = line_holding(doc, action.range.end).map_or(e, |(_, e)| e);
        let before = &text[s..action.range.start];
        let after = &text[action.range.end..line_end];
        if !before.trim().is_empty() || !after.trim().is_empty() {
            continue;
        }
        let indent = indent_argument(action.body).unwrap_or(action.range.start - s);
        let parent = parent_key(text, actions, doc, s, indent);
        match &parent {
            // The whole object, when the document names no kind (then the
            // helper may build any object, a workload among them) or names
            // a workload kind.
            None if indent == 0 => {}
            None => continue,
            Some(key) if key == "spec" || key == "template" => {}
            Some(_) => continue,
        }
        if kind.is_none() && indent != 0 {
            continue;
        }
        if decided(action.body) {
            continue;
        }
        return Some(Unseen::Included {
            range: action.range,
            call: action.body.to_string(),
            whole: parent.is_none(),
        });
    }
    None
}

/// The key of the nearest line above `line_start` indented less than
/// `indent` (blank lines, comments and lines of actions alone skipped).
fn parent_key(
    text: &str,
    actions: &[Action],
    doc: &[(usize, usize)],
    line_start: usize,
    indent: usize,
) -> Option<String> {
    for (s, e) in doc.iter().rev().filter(|(s, _)| *s < line_start) {
        let line = &text[*s..*e];
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || inside_action(actions, *s) {
            continue;
        }
        let only_actions = actions_within(actions, *s, *e).fold(line.to_string(), |acc, a| {
            acc.replace(&text[a.range.start..a.range.end], "")
        });
        if only_actions.trim().is_empty() {
            continue;
        }
        if leading_blanks(line) >= indent {
            continue;
        }
        let key = trimmed.trim_start_matches("- ");
        return key.split_once(':').map(|(k, _)| k.trim().to_string());
    }
    None
}

/// The template text of a temporary copy: every line that can carry a
/// comment ends with [`MARKER`] and its 1-based number. Skipped: blank
/// lines (a comment there could end a block scalar), lines ending inside an
/// action, and lines whose last action trims the following line break
/// (`-}}`), whose output runs on into the next line.
pub fn annotate(text: &str) -> String {
    let actions = action_refs(text);
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut copied = 0;
    for (number, (start, end)) in lines(text).into_iter().enumerate() {
        let line = &text[start..end];
        if line.trim().is_empty() || inside_action(&actions, end) {
            continue;
        }
        // A line of control actions alone (`{{- if }}`, `{{- end }}`)
        // renders nothing of its own: its marker would only land on
        // another line's end, or make a blank document a comment.
        let mut covered = vec![false; end - start];
        let mut control_only = true;
        for a in actions
            .iter()
            .filter(|a| a.range.end > start && a.range.start < end)
        {
            control_only &= a.renders_nothing();
            let (from, to) = (a.range.start.max(start), a.range.end.min(end));
            covered[from - start..to - start].fill(true);
        }
        let bare = line
            .bytes()
            .zip(&covered)
            .all(|(b, covered)| *covered || b == b' ' || b == b'\t');
        if control_only && bare {
            continue;
        }
        let trims = actions
            .iter()
            .rfind(|a| a.range.end > start && a.range.end <= end)
            .is_some_and(|a| {
                text[a.range.end..end].trim().is_empty() && text[..a.range.end].ends_with("-}}")
            });
        if trims {
            continue;
        }
        out.push_str(&text[copied..end]);
        out.push_str(MARKER);
        out.push_str(&(number + 1).to_string());
        copied = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// One template's part of `helm template`'s output, its markers taken out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedTemplate {
    /// The template, relative to the chart's folder: `templates/a.yaml`.
    pub source: String,
    /// What it rendered, documents separated by `---` lines.
    pub text: String,
    /// For each line of `text`, the 0-based template line that produced it
    /// (a line without its own marker takes the next marked one's).
    pub lines: Vec<Option<usize>>,
}

/// Reads `helm template`'s output: documents under `# Source: <chart>/…`
/// comments, grouped by template (in the order first seen), markers taken
/// out. Sources of subcharts keep their `charts/…` path.
pub fn read_output(output: &str) -> Vec<RenderedTemplate> {
    // Documents as (source, lines without markers, marks); a document
    // blank once its markers are out (an `{{ end }}` line's marker alone)
    // is none.
    let mut documents: Vec<Doc> = Vec::new();
    let mut current: Option<Doc> = None;
    let mut expect_source = false;
    for raw in output.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.starts_with("---") && line[3..].trim().is_empty() {
            expect_source = true;
            let source = current.as_ref().map(|(s, _)| s.clone());
            close(&mut documents, current.take());
            current = source.map(|s| (s, Vec::new()));
            continue;
        }
        if std::mem::take(&mut expect_source) {
            if let Some(source) = line.strip_prefix("# Source: ") {
                let source = source.trim();
                let relative = source.split_once('/').map_or(source, |(_, r)| r);
                current = Some((relative.to_string(), Vec::new()));
                continue;
            }
        }
        if let Some((_, lines)) = current.as_mut() {
            lines.push(strip_marker(line));
        }
    }
    close(&mut documents, current.take());
    let mut order: Vec<String> = Vec::new();
    let mut parts: HashMap<String, (String, Vec<Option<usize>>)> = HashMap::new();
    for (source, lines) in documents {
        let part = parts.entry(source.clone()).or_insert_with(|| {
            order.push(source);
            (String::new(), Vec::new())
        });
        if !part.0.is_empty() {
            part.0.push_str("---\n");
            part.1.push(None);
        }
        // Blank lines around a document are the separator's.
        let first = lines
            .iter()
            .position(|(l, _)| !l.trim().is_empty())
            .unwrap_or(0);
        let keep = lines
            .iter()
            .rposition(|(l, _)| !l.trim().is_empty())
            .map_or(0, |i| i + 1);
        for (content, mark) in &lines[first..keep.max(first)] {
            part.0.push_str(content);
            part.0.push('\n');
            part.1.push(*mark);
        }
    }
    order
        .into_iter()
        .filter_map(|source| {
            let (text, marks) = parts.remove(&source)?;
            let mut lines = marks;
            let mut next = None;
            for mark in lines.iter_mut().rev() {
                match mark {
                    Some(n) => next = Some(*n),
                    None => *mark = next,
                }
            }
            Some(RenderedTemplate {
                source,
                text,
                lines,
            })
        })
        .collect()
}

/// A rendered document: its template, its lines without markers, and the
/// template line each names.
type Doc<'a> = (String, Vec<(&'a str, Option<usize>)>);

fn close<'a>(documents: &mut Vec<Doc<'a>>, doc: Option<Doc<'a>>) {
    if let Some((source, lines)) = doc {
        if lines.iter().any(|(l, _)| !l.trim().is_empty()) {
            documents.push((source, lines));
        }
    }
}

/// A rendered line without its marker, and the 0-based line it names.
/// Several markers at the end of a line (lines that rendered nothing
/// joined to it by a trim marker) are all taken out; the first names the
/// line the content came from.
fn strip_marker(line: &str) -> (&str, Option<usize>) {
    let mut end = line.trim_end().len();
    let mut first = None;
    while let Some(at) = line[..end].rfind(MARKER) {
        let number = &line[at + MARKER.len()..end];
        match number.parse::<usize>() {
            Ok(n) if n > 0 && number.bytes().all(|b| b.is_ascii_digit()) => {
                first = Some(n - 1);
                end = at;
            }
            _ => break,
        }
    }
    match first {
        Some(n) => (&line[..end], Some(n)),
        None => (line, None),
    }
}

/// A digest of a template's text, to tell whether a rendering is still
/// about the text being judged.
pub fn digest(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// What became of a chart's rendering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Helm rendered it: each template's output, the digests of the
    /// template texts it rendered (by path relative to the chart), and the
    /// ServiceAccounts of every rendered template.
    Rendered {
        templates: Vec<RenderedTemplate>,
        sources: HashMap<String, u64>,
        accounts: Vec<ServiceAccount>,
    },
    /// Helm refused: its own message.
    Failed(String),
    /// Not rendered, and why (no helm executable, rendering turned off,
    /// dependencies not vendored, …).
    NotRendered(String),
}

/// A chart's rendering, as the embedder hands it to the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendering {
    /// The values files it was rendered with, relative to the chart's
    /// folder (`values.yaml` first when the chart has one).
    pub values: Vec<String>,
    pub outcome: Outcome,
}

impl Rendering {
    /// A rendering from `helm template`'s output, of templates whose texts
    /// (by path relative to the chart) were `sources`.
    pub fn rendered<'a>(
        values: Vec<String>,
        output: &str,
        sources: impl IntoIterator<Item = (String, &'a str)>,
    ) -> Self {
        let templates = read_output(output);
        let accounts = templates
            .iter()
            .filter(|t| t.text.contains("ServiceAccount"))
            .flat_map(|t| crate::service_accounts(&t.text))
            .collect();
        Rendering {
            values,
            outcome: Outcome::Rendered {
                templates,
                sources: sources
                    .into_iter()
                    .map(|(path, text)| (path, digest(text)))
                    .collect(),
                accounts,
            },
        }
    }

    /// A rendering that failed with Helm's `message`.
    pub fn failed(values: Vec<String>, message: &str) -> Self {
        Rendering {
            values,
            outcome: Outcome::Failed(message.trim().to_string()),
        }
    }

    /// No rendering, for this reason.
    pub fn not_rendered(why: impl Into<String>) -> Self {
        Rendering {
            values: Vec::new(),
            outcome: Outcome::NotRendered(why.into()),
        }
    }

    /// The findings of the template at `relative` (its path relative to the
    /// chart) with this `text`, whose in-place findings are `in_place`:
    /// when the template needs rendering, the rendered verdicts (if the
    /// rendering is of this text), else the in-place findings with a note
    /// of what was not evaluated and why.
    pub fn apply(
        &self,
        relative: &str,
        text: &str,
        in_place: Vec<Finding>,
        workspace: &dyn AccountLookup,
        options: &Options,
        decided: &dyn Fn(&str) -> bool,
    ) -> Vec<Finding> {
        let Some(unseen) = needs_rendering(text, options, decided) else {
            return in_place;
        };
        let why = match &self.outcome {
            Outcome::Rendered {
                templates,
                sources,
                accounts,
            } if sources.get(relative) == Some(&digest(text)) => {
                let mut findings: Vec<Finding> = in_place
                    .into_iter()
                    .filter(|f| f.code != Code::TG001)
                    .collect();
                if let Some(rendered) = templates.iter().find(|t| t.source == relative) {
                    let lookup = SameFileFirst {
                        file: accounts,
                        workspace,
                    };
                    findings.extend(judge_rendered(
                        text,
                        rendered,
                        &lookup,
                        options,
                        &self.values,
                        unseen.range(),
                    ));
                }
                findings.sort_by_key(|f| (f.range.start, f.range.end, f.code));
                return findings;
            }
            Outcome::Rendered { .. } => {
                "the template changed since the chart was rendered; saving it renders again"
                    .to_string()
            }
            Outcome::Failed(message) => format!("helm template failed: {message}"),
            Outcome::NotRendered(why) => why.clone(),
        };
        not_evaluated(text, &unseen, &why, in_place)
    }
}

/// The in-place findings with the note that `unseen` was not evaluated.
pub fn not_evaluated(
    text: &str,
    unseen: &Unseen,
    why: &str,
    mut findings: Vec<Finding>,
) -> Vec<Finding> {
    let what = unseen.describe(text);
    for finding in findings.iter_mut().filter(|f| f.code == Code::TG001) {
        finding.set_rendering(RenderFact::NotEvaluated {
            what: what.clone(),
            why: why.to_string(),
        });
    }
    findings
}

/// TG001 on a template's rendered objects, each reported at the template
/// line that produced it: at the same key there when the line has it (the
/// pod spec's `spec`, the field), else at the line's text (the `include`).
/// `fallback`: where to report what no marker places.
pub fn judge_rendered(
    template: &str,
    rendered: &RenderedTemplate,
    accounts: &dyn AccountLookup,
    options: &Options,
    values: &[String],
    fallback: TextRange,
) -> Vec<Finding> {
    let template_lines = LineIndex::new(template);
    let rendered_lines = LineIndex::new(&rendered.text);
    let actions = action_refs(template);
    let mut out = Vec::new();
    for finding in crate::analyze(&rendered.text, accounts, options) {
        if finding.code != Code::TG001 {
            continue;
        }
        let line = rendered_lines.line_of(finding.range.start);
        let at = rendered.text.get(finding.range.start..finding.range.end);
        let range = rendered
            .lines
            .get(line)
            .copied()
            .flatten()
            .filter(|l| *l < template_lines.line_count())
            .map_or(fallback, |l| {
                let start = template_lines.line_start(l);
                let line_text = template_lines.line_text(template, l);
                let same = at.filter(|w| !w.is_empty()).and_then(|word| {
                    line_text
                        .match_indices(word)
                        .map(|(i, _)| start + i)
                        .find(|i| !inside_action(&actions, *i) && !inside_action(&actions, i + 1))
                        .map(|i| TextRange::new(i, i + word.len()))
                });
                same.unwrap_or_else(|| {
                    let content = line_text.trim();
                    let from = start + line_text.find(content).unwrap_or(0);
                    TextRange::new(from, from + content.len())
                })
            });
        let template_line = template_lines.line_of(range.start);
        if ignore_comment::is_suppressed(template, &template_lines, template_line) {
            continue;
        }
        let mut finding = finding;
        finding.range = range;
        finding.pod_spec = Some(range);
        finding.fix = None;
        finding.helm = None;
        if let Some(check) = finding.account.as_mut() {
            // An account of the rendered text has no place in the template.
            if check.found.as_ref().is_some_and(|f| f.origin.is_none()) {
                check.found = check.found.take().map(|mut f| {
                    f.origin = Some("(rendered chart)".to_string());
                    f
                });
            }
        }
        finding.set_rendering(RenderFact::Rendered {
            values: values.to_vec(),
        });
        finding
            .related
            .retain(|r| r.file.is_some() && r.file.as_deref() != Some("(rendered chart)"));
        out.push(finding);
    }
    out.sort_by_key(|f| (f.range.start, f.range.end));
    out.dedup_by(|a, b| a.range == b.range && a.workload == b.workload);
    out
}

/// The dependencies a chart declares (`Chart.yaml`'s `dependencies`, or a
/// version 1 chart's `requirements.yaml`) that are not vendored: `vendored`
/// lists the entries of its `charts/` folder (folders by name, archives as
/// `name-version.tgz`). A chart missing some cannot render offline.
pub fn missing_dependencies(
    chart_yaml: &str,
    requirements: Option<&str>,
    vendored: &[String],
) -> Vec<String> {
    let mut names = Vec::new();
    for text in std::iter::once(chart_yaml).chain(requirements) {
        let Ok(docs) = yaml_rust2::YamlLoader::load_from_str(text) else {
            continue;
        };
        for doc in docs {
            let Some(list) = doc["dependencies"].as_vec() else {
                continue;
            };
            for dep in list {
                if let Some(name) = dep["name"].as_str() {
                    names.push(name.to_string());
                }
            }
        }
    }
    names
        .into_iter()
        .filter(|name| {
            !vendored.iter().any(|entry| {
                entry == name
                    || (entry.ends_with(".tgz")
                        && entry
                            .strip_prefix(name.as_str())
                            .is_some_and(|rest| rest.starts_with('-')))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line holding an offset, found by bisection, is the one a walk
    /// over the lines finds.
    #[test]
    fn the_line_holding_an_offset() {
        for text in ["a\nbc\r\n\nd", "", "\n\n", "abc\n"] {
            let all = lines(text);
            for offset in 0..=text.len() + 1 {
                let walked = all
                    .iter()
                    .find(|(s, e)| *s <= offset && offset <= *e)
                    .copied();
                assert_eq!(line_holding(&all, offset), walked, "{text:?} {offset}");
            }
        }
    }

    /// The actions looked up by bisection are those a walk over every
    /// action finds.
    #[test]
    fn actions_within_a_range_and_around_an_offset() {
        let text =
            "a: {{ .x }}{{ .y }}\n{{- if .z }}\nb: {{ include \"c\" . }} {{ .w }}\n{{- end }}\n";
        let actions = action_refs(text);
        assert_eq!(actions.len(), 6);
        for start in 0..=text.len() {
            let inside = actions
                .iter()
                .any(|a| a.range.start < start && start < a.range.end);
            assert_eq!(inside_action(&actions, start), inside, "{start}");
            for end in start..=text.len() {
                let expected: Vec<&Action> = actions
                    .iter()
                    .filter(|a| a.range.start >= start && a.range.end <= end)
                    .collect();
                let got: Vec<&Action> = actions_within(&actions, start, end).collect();
                assert_eq!(got, expected, "{start}..{end}");
            }
        }
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n    {{- include \"demo.labels\" . | nindent 4 }}\nspec:\n  template:\n    spec:\n      {{- include \"demo.pod\" . | nindent 6 }}\n";

    fn options() -> &'static Options {
        Options::builtin()
    }

    #[test]
    fn an_included_pod_spec_needs_rendering_labels_do_not() {
        let unseen = needs_rendering(DEPLOY, options(), &|_| false).expect("needs rendering");
        assert_eq!(
            &DEPLOY[unseen.range().start..unseen.range().end],
            "{{- include \"demo.pod\" . | nindent 6 }}"
        );
        assert!(
            unseen.describe(DEPLOY).contains("line 10"),
            "{}",
            unseen.describe(DEPLOY)
        );
        let labels_only = DEPLOY.replace(
            "      {{- include \"demo.pod\" . | nindent 6 }}\n",
            "      containers: []\n",
        );
        assert_eq!(needs_rendering(&labels_only, options(), &|_| false), None);
        // The field in the template: in-place reading decides.
        let with_field = DEPLOY.replace(
            "    spec:\n",
            "    spec:\n      automountServiceAccountToken: false\n",
        );
        assert_eq!(needs_rendering(&with_field, options(), &|_| false), None);
        // Not a workload.
        let config_map = DEPLOY.replace("kind: Deployment", "kind: ConfigMap");
        assert_eq!(needs_rendering(&config_map, options(), &|_| false), None);
        // The whole object from a helper.
        let whole = "{{ include \"common.deployment\" . }}\n";
        let unseen = needs_rendering(whole, options(), &|_| false).expect("the whole object");
        assert!(unseen
            .describe(whole)
            .starts_with("The output of {{ include"));
    }

    #[test]
    fn a_computed_field_needs_rendering_a_values_reference_does_not() {
        let text = "kind: Pod\nspec:\n  automountServiceAccountToken: {{ not .Values.x }}\n";
        match needs_rendering(text, options(), &|_| false) {
            Some(Unseen::Computed { expression, .. }) => assert_eq!(expression, "not .Values.x"),
            other => panic!("{other:?}"),
        }
        let plain = "kind: Pod\nspec:\n  automountServiceAccountToken: {{ .Values.a.b }}\n";
        assert_eq!(needs_rendering(plain, options(), &|_| false), None);
    }

    #[test]
    fn annotation_marks_lines_that_can_carry_a_comment() {
        let text = "a: 1\n\n{{- if .x -}}\nb: {{ .y }}\nc: |\n  text\n{{ include \"m\"\n  . }}\n";
        let annotated = annotate(text);
        assert_eq!(
            annotated,
            "a: 1 #tokenguard-line:1\n\n{{- if .x -}}\nb: {{ .y }} #tokenguard-line:4\nc: | #tokenguard-line:5\n  text #tokenguard-line:6\n{{ include \"m\"\n  . }} #tokenguard-line:8\n"
        );
    }

    #[test]
    fn output_lines_map_to_the_next_marked_template_line() {
        let output = "---\n# Source: demo/templates/deploy.yaml\nkind: Deployment #tokenguard-line:2\nspec:\n  x: 1 #tokenguard-line:7\n---\n# Source: demo/templates/deploy.yaml\nkind: Pod #tokenguard-line:9\n---\n# Source: demo/charts/sub/templates/a.yaml\nkind: Service\n";
        let rendered = read_output(output);
        assert_eq!(rendered.len(), 2);
        assert_eq!(rendered[0].source, "templates/deploy.yaml");
        assert_eq!(
            rendered[0].text,
            "kind: Deployment\nspec:\n  x: 1\n---\nkind: Pod\n"
        );
        assert_eq!(
            rendered[0].lines,
            [Some(1), Some(6), Some(6), Some(8), Some(8)]
        );
        assert_eq!(rendered[1].source, "charts/sub/templates/a.yaml");
    }

    fn rendering_of(template: &str, output: &str) -> Rendering {
        Rendering::rendered(
            vec!["values.yaml".to_string()],
            output,
            [("templates/deploy.yaml".to_string(), template)],
        )
    }

    #[test]
    fn a_rendered_true_is_reported_at_the_include_line() {
        let output = format!(
            "---\n# Source: demo/templates/deploy.yaml\napiVersion: apps/v1{m}1\nkind: Deployment{m}2\nmetadata:{m}3\n  name: rel{m}4\n  labels:{m}5\n    app: demo\nspec:{m}7\n  template:{m}8\n    spec:{m}9\n      automountServiceAccountToken: true\n      containers: []{m}10\n",
            m = MARKER
        );
        let rendering = rendering_of(DEPLOY, &output);
        let findings = rendering.apply(
            "templates/deploy.yaml",
            DEPLOY,
            Vec::new(),
            &crate::NoAccounts,
            options(),
            &|_| false,
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(
            &DEPLOY[f.range.start..f.range.end],
            "{{- include \"demo.pod\" . | nindent 6 }}"
        );
        assert!(
            f.message
                .contains("helm template renders it with values.yaml"),
            "{}",
            f.message
        );
        assert!(f.fix.is_none());
        // A rendered false: clean.
        let clean = rendering_of(DEPLOY, &output.replace(": true", ": false"));
        assert!(clean
            .apply(
                "templates/deploy.yaml",
                DEPLOY,
                Vec::new(),
                &crate::NoAccounts,
                options(),
                &|_| false,
            )
            .is_empty());
        // A changed template: the in-place findings, with a note.
        let changed = format!("{DEPLOY}# edited\n");
        let pod = "kind: Pod\nspec:\n  containers: []\n";
        let in_place = crate::analyze(pod, &crate::NoAccounts, options());
        let noted = rendering.apply(
            "templates/deploy.yaml",
            &changed,
            in_place,
            &crate::NoAccounts,
            options(),
            &|_| false,
        );
        assert!(
            noted[0]
                .message
                .contains("was not evaluated (the template changed"),
            "{}",
            noted[0].message
        );
    }

    #[test]
    fn the_key_is_reported_where_the_template_writes_it() {
        let template =
            "kind: Pod\nmetadata:\n  name: a\nspec:\n  {{- include \"pod\" . | nindent 2 }}\n";
        let output = format!(
            "---\n# Source: demo/templates/deploy.yaml\nkind: Pod{m}1\nmetadata:{m}2\n  name: a{m}3\nspec:{m}4\n  containers: []{m}5\n",
            m = MARKER
        );
        let rendered = &read_output(&output)[0];
        let findings = judge_rendered(
            template,
            rendered,
            &crate::NoAccounts,
            options(),
            &[],
            TextRange::new(0, 0),
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(
            &template[findings[0].range.start..findings[0].range.end],
            "spec"
        );
        assert!(findings[0].message.contains("the chart's default values"));
    }

    #[test]
    fn dependencies_must_be_vendored() {
        let chart = "apiVersion: v2\nname: a\ndependencies:\n  - name: redis\n    repository: https://x\n  - name: common\n  - name: db\n";
        let vendored = ["common".to_string(), "db-1.2.3.tgz".to_string()];
        assert_eq!(missing_dependencies(chart, None, &vendored), ["redis"]);
        assert!(missing_dependencies("name: a\n", Some("dependencies: []\n"), &[]).is_empty());
        assert!(missing_dependencies("{{ not yaml", None, &[]).is_empty());
    }
}
