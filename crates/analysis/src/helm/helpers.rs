//! Helpers: the chart's `{{ define "x" }}` bodies (in `_helpers.tpl` or in
//! any template), and what a pod spec gets from one it includes at its own
//! level (`{{- include "x" . | nindent 6 }}` under `spec:`): whether the
//! helper's text renders `automountServiceAccountToken`, with which value
//! (a literal, or a `.Values` reference resolved as `values.rs` resolves a
//! templated field), or why in-place reading cannot tell.

use std::collections::HashMap;

use super::mask::{find_actions, mask, Action, ActionKind, Masked};
use super::values::{reference, split_words, Resolved, ValueAt, ValuesFile};
use crate::finding::Place;
use crate::fix::{Fix, TextEdit, FIELD};
use crate::objects::Workload;
use crate::text::TextRange;
use crate::tree::{Document, NodeKind};
use crate::value::{get, get_mapping, get_string, yaml11_bool, yaml11_null};

/// How deep helpers that include helpers are followed.
const MAX_DEPTH: usize = 8;

/// One `define` body.
#[derive(Clone, Debug)]
struct Define {
    /// The file it is in, as the caller names files.
    file: String,
    /// Its body, from after the `define` action to before its `end`.
    body: TextRange,
}

/// The chart's helpers, by name, with the texts of the files they are in.
#[derive(Clone, Debug, Default)]
pub struct Helpers {
    defines: HashMap<String, Define>,
    texts: HashMap<String, String>,
}

impl Helpers {
    /// The `define`s of `files` (name and text). A name defined twice keeps
    /// the last one read, as Helm does for the files it loads later.
    pub fn new(files: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut helpers = Helpers::default();
        for (file, text) in files {
            if !text.contains("define") {
                continue;
            }
            // Only the actions are read here: they are found, not masked.
            let actions = find_actions(&text);
            let mut open: Vec<Option<(String, usize)>> = Vec::new();
            for action in &actions {
                match action.kind {
                    ActionKind::Open => {
                        open.push(define_name(&action.body).map(|n| (n, action.range.end)))
                    }
                    ActionKind::End => {
                        if let Some(Some((name, start))) = open.pop() {
                            helpers.defines.insert(
                                name,
                                Define {
                                    file: file.clone(),
                                    body: TextRange::new(start, action.range.start),
                                },
                            );
                        }
                    }
                    _ => {}
                }
            }
            helpers.texts.insert(file, text);
        }
        helpers
    }

    pub fn is_empty(&self) -> bool {
        self.defines.is_empty()
    }

    /// Whether the chart defines `name`.
    pub fn defines(&self, name: &str) -> bool {
        self.defines.contains_key(name)
    }

    /// Whether reading in place decides what the helper call `call` (an
    /// action's body, `include "x" . | nindent 6`) renders for the field:
    /// the helper sets it (a literal or a values reference) or clearly does
    /// not, and is called with the template's own context.
    pub fn decides(&self, call: &str, values: Option<&ValuesFile>) -> bool {
        helper_call(call).is_some_and(|call| {
            call.plain_context
                && !matches!(self.field(&call.name, values), HelperField::NotEvaluated(_))
        })
    }

    /// What helper `name` renders for the field at its top level.
    pub(super) fn field(&self, name: &str, values: Option<&ValuesFile>) -> HelperField {
        self.field_at(name, values, 0)
    }

    fn field_at(&self, name: &str, values: Option<&ValuesFile>, depth: usize) -> HelperField {
        let Some(define) = self.defines.get(name) else {
            return HelperField::NotEvaluated(format!("helper \"{name}\" is not in the chart"));
        };
        if depth > MAX_DEPTH {
            return HelperField::NotEvaluated(format!(
                "helper \"{name}\" includes helpers more than {MAX_DEPTH} deep"
            ));
        }
        let Some(text) = self.texts.get(&define.file) else {
            return HelperField::NotEvaluated(format!("helper \"{name}\" could not be read"));
        };
        let Some(body) = text.get(define.body.start..define.body.end) else {
            return HelperField::NotEvaluated(format!("helper \"{name}\" could not be read"));
        };
        let masked = mask(body);
        let inactive = values
            .map(|v| super::branches::inactive_ranges(&masked, v))
            .unwrap_or_default();
        let lines = lines(body);
        // The top level: the least indentation of a line with YAML on it.
        let top = lines
            .iter()
            .filter_map(|&(start, end)| indentation(&masked.text[start..end]))
            .min();
        let mut not_evaluated: Option<String> = None;
        let mut nested: Option<HelperField> = None;
        for &(start, end) in &lines {
            if inactive.iter().any(|r| r.start <= start && start < r.end) {
                continue;
            }
            let masked_line = &masked.text[start..end];
            let condition = enclosing_condition(&masked, start, values);
            if let Some(indent) = indentation(masked_line) {
                if Some(indent) != top {
                    continue;
                }
                let content = &body[start + indent..end];
                let Some(value) = content.strip_prefix(FIELD).and_then(|r| {
                    let r = r.trim_start_matches([' ', '\t']);
                    r.strip_prefix(':')
                }) else {
                    continue;
                };
                if let Err(why) = condition {
                    return HelperField::NotEvaluated(format!(
                        "helper \"{name}\" sets {FIELD} {why}"
                    ));
                }
                let value_start = start + indent + (content.len() - value.len());
                return self.field_value(name, define, body, &masked, value_start, end, values);
            }
            // A line of actions only: an include renders keys here.
            let Some(action) = alone_action(&masked, body, start, end) else {
                continue;
            };
            if action.kind != ActionKind::Output {
                continue;
            }
            let why = match helper_call(&action.body) {
                Some(call) if call.plain_context => {
                    match (self.field_at(&call.name, values, depth + 1), condition) {
                        (HelperField::Absent, _) => continue,
                        (_, Err(why)) => format!("helper \"{}\" is included {why}", call.name),
                        (found @ HelperField::Renders { .. }, Ok(())) => {
                            nested.get_or_insert(found);
                            continue;
                        }
                        (HelperField::NotEvaluated(why), Ok(())) => why,
                    }
                }
                Some(call) => format!(
                    "helper \"{}\" is included with another context than the chart's",
                    call.name
                ),
                None => format!(
                    "helper \"{name}\" renders {{{{ {} }}}} as YAML",
                    action.body
                ),
            };
            not_evaluated.get_or_insert(why);
        }
        match (nested, not_evaluated) {
            (Some(found), _) => found,
            (None, Some(why)) => HelperField::NotEvaluated(why),
            (None, None) => HelperField::Absent,
        }
    }

    /// The field's value, written at `value_start..end` of the helper's
    /// body: a literal, or one `.Values` reference.
    #[allow(clippy::too_many_arguments)]
    fn field_value(
        &self,
        name: &str,
        define: &Define,
        body: &str,
        masked: &Masked,
        value_start: usize,
        end: usize,
        values: Option<&ValuesFile>,
    ) -> HelperField {
        let raw = &body[value_start..end];
        let without_comment = match raw.find(" #") {
            Some(i) => &raw[..i],
            None => raw,
        };
        let word = without_comment.trim();
        let lead = without_comment.len() - without_comment.trim_start().len();
        let range = TextRange::new(
            define.body.start + value_start + lead,
            define.body.start + value_start + lead + word.len(),
        );
        let actions: Vec<&Action> = masked
            .actions_in(TextRange::new(value_start, end))
            .collect();
        if actions.is_empty() {
            let place = Place {
                file: Some(define.file.clone()),
                range,
            };
            if yaml11_null(word) {
                return HelperField::Renders {
                    value: Rendered::Empty,
                    origin: Some(place),
                    fix: None,
                };
            }
            return match yaml11_bool(word) {
                Some(value) => HelperField::Renders {
                    value: Rendered::Bool(value),
                    origin: Some(place),
                    fix: value.then(|| Fix {
                        title: format!("Set {FIELD} to false"),
                        edits: vec![TextEdit {
                            range,
                            new_text: "false".to_string(),
                        }],
                        file: Some(define.file.clone()),
                    }),
                },
                None => HelperField::NotEvaluated(format!(
                    "helper \"{name}\" sets {FIELD} to {word}, not a boolean"
                )),
            };
        }
        let sole = match actions.as_slice() {
            [action]
                if word.trim_matches(['"', '\''])
                    == body[action.range.start..action.range.end].trim() =>
            {
                Some(*action)
            }
            _ => None,
        };
        let Some(reference) = sole.and_then(|a| reference(&a.body)) else {
            return HelperField::NotEvaluated(format!(
                "helper \"{name}\" computes {FIELD} ({word})"
            ));
        };
        let Some(values) = values else {
            return HelperField::NotEvaluated(format!(
                "helper \"{name}\" reads {FIELD} from values.yaml, which the chart lacks"
            ));
        };
        let from_values = |at: Option<ValueAt>| {
            at.map(|at| {
                (
                    Some(Place {
                        file: Some(values.id.clone()),
                        range: at.range,
                    }),
                    Some(at.fix),
                )
            })
            .unwrap_or((None, None))
        };
        match values.resolve_bool(&reference) {
            Resolved::Bool { value, at } => {
                let (origin, fix) = from_values(at);
                HelperField::Renders {
                    value: Rendered::Bool(value),
                    origin,
                    fix,
                }
            }
            Resolved::Empty { at } => {
                let (origin, fix) = from_values(at);
                HelperField::Renders {
                    value: Rendered::Empty,
                    origin,
                    fix,
                }
            }
            _ => HelperField::NotEvaluated(format!(
                "helper \"{name}\" sets {FIELD} to .Values.{}, which values.yaml does not decide",
                reference.path.join(".")
            )),
        }
    }
}

/// What a helper renders for the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum HelperField {
    /// Not at its top level, nor in a helper it includes there.
    Absent,
    /// Rendered, with this value; `origin` is where the value is written
    /// (the helper's literal, or `values.yaml`), `fix` sets it to false
    /// there.
    Renders {
        value: Rendered,
        origin: Option<Place>,
        fix: Option<Fix>,
    },
    /// In-place reading cannot tell, and why.
    NotEvaluated(String),
}

/// A rendered value of the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Rendered {
    Bool(bool),
    /// Empty: a null field.
    Empty,
}

/// `include "x" ARG | …` or `template "x" ARG`.
pub(super) struct HelperCall {
    pub name: String,
    /// The argument is `.` or `$`: the helper sees the chart's `.Values`.
    pub plain_context: bool,
    /// `nindent N` or `indent N`.
    pub indent: Option<usize>,
}

/// Reads an action's body as a helper call.
pub(super) fn helper_call(body: &str) -> Option<HelperCall> {
    let words = split_words(body)?;
    let (first, rest) = words.split_first()?;
    if first != "include" && first != "template" {
        return None;
    }
    let (name, rest) = rest.split_first()?;
    let name = name.strip_prefix('"')?.strip_suffix('"')?.to_string();
    let plain_context = matches!(rest.first().map(String::as_str), Some("." | "$"));
    let mut indent = None;
    for pair in rest.windows(3) {
        if pair[0] == "|" && (pair[1] == "nindent" || pair[1] == "indent") {
            indent = pair[2].parse().ok();
        }
    }
    Some(HelperCall {
        name,
        plain_context,
        indent,
    })
}

/// `define "x"`'s name.
fn define_name(body: &str) -> Option<String> {
    let rest = body.strip_prefix("define")?.trim();
    Some(rest.strip_prefix('"')?.strip_suffix('"')?.to_string())
}

/// Each line's start and end (before its break).
fn lines(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    while start <= bytes.len() {
        let end = memchr::memchr2(b'\n', b'\r', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        out.push((start, end));
        if end >= bytes.len() {
            break;
        }
        start = end + 1;
        if bytes[end] == b'\r' && bytes.get(start) == Some(&b'\n') {
            start += 1;
        }
    }
    out
}

/// The lines of [`lines`] that start after `offset`, read as they are
/// asked for (a pod spec's lines are a few of a long template's).
fn lines_after(text: &str, offset: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    // The first line starting after `offset` follows the first line break
    // at or after it (the second byte of a CRLF ends nothing).
    let mut start = memchr::memchr2(b'\n', b'\r', bytes.get(offset..).unwrap_or(&[]))
        .map(|i| offset + i)
        .map(|end| {
            if bytes[end] == b'\r' && bytes.get(end + 1) == Some(&b'\n') {
                end + 2
            } else {
                end + 1
            }
        });
    std::iter::from_fn(move || {
        let from = start?;
        let end = memchr::memchr2(b'\n', b'\r', &bytes[from..]).map_or(bytes.len(), |i| from + i);
        start = (end < bytes.len()).then(|| {
            if bytes[end] == b'\r' && bytes.get(end + 1) == Some(&b'\n') {
                end + 2
            } else {
                end + 1
            }
        });
        Some((from, end))
    })
}

/// The indentation of a masked line with YAML on it (`None`: blank, or a
/// comment).
fn indentation(line: &str) -> Option<usize> {
    let content = line.trim_start_matches([' ', '\t']);
    (!content.is_empty() && !content.starts_with('#')).then(|| line.len() - content.len())
}

/// The one action that makes up the line `start..end`, blanks aside.
fn alone_action<'m>(
    masked: &'m Masked,
    text: &str,
    start: usize,
    end: usize,
) -> Option<&'m Action> {
    let mut actions = masked.actions_in(TextRange::new(start, end.max(start + 1)));
    let action = actions.next()?;
    if actions.next().is_some() {
        return None;
    }
    let before = text.get(start..action.range.start.max(start))?;
    let after = text.get(action.range.end.min(end)..end)?;
    (before.trim().is_empty() && after.trim().is_empty() && action.range.start >= start)
        .then_some(action)
}

/// Whether the blocks around `offset` are rendered: `Ok` when every one is
/// an `if` that the values make true (or there is none), else why not.
fn enclosing_condition(
    masked: &Masked,
    offset: usize,
    values: Option<&ValuesFile>,
) -> Result<(), String> {
    let mut open: Vec<&Action> = Vec::new();
    for action in masked.actions.iter().take_while(|a| a.range.end <= offset) {
        match action.kind {
            ActionKind::Open => open.push(action),
            ActionKind::End => {
                open.pop();
            }
            _ => {}
        }
    }
    for block in open {
        let decided = values.and_then(|v| condition(&block.body, v));
        if decided != Some(true) {
            return Err(format!("under {{{{ {} }}}}", block.body));
        }
    }
    Ok(())
}

/// `if .Values.a` or `if not .Values.a`, as the values decide it.
fn condition(body: &str, values: &ValuesFile) -> Option<bool> {
    let rest = body.strip_prefix("if ")?.trim();
    let (negated, rest) = match rest.strip_prefix("not ") {
        Some(r) => (true, r.trim()),
        None => (false, rest),
    };
    match values.resolve_bool_unplaced(&reference(rest)?) {
        Resolved::Bool { value, .. } => Some(value != negated),
        Resolved::Empty { .. } => Some(negated),
        _ => None,
    }
}

/// The helper calls a template makes at the level of a workload's pod
/// spec: alone on their lines, after its `spec:` key and inside its block,
/// rendering their keys at the pod spec's indentation (or, when the pod
/// spec is empty in the template, anywhere deeper than `spec:`).
pub(super) fn pod_spec_includes<'m>(
    masked: &'m Masked,
    text: &str,
    doc: &Document,
    workload: &Workload,
) -> Vec<(&'m Action, HelperCall)> {
    let spec_key = doc.node(workload.spec_key).range;
    let column = |offset: usize| {
        let line_start = text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        offset - line_start
    };
    let key_column = column(spec_key.start);
    let pod_column = match &doc.node(workload.pod_spec).kind {
        NodeKind::Mapping { entries, .. } => entries
            .first()
            .map(|(k, _)| column(doc.node(*k).range.start)),
        _ => None,
    };
    let mut found = Vec::new();
    for (start, end) in lines_after(text, spec_key.end) {
        if let Some(indent) = indentation(&masked.text[start..end]) {
            if indent <= key_column {
                break;
            }
            continue;
        }
        let Some(action) = alone_action(masked, text, start, end) else {
            continue;
        };
        if action.kind != ActionKind::Output {
            continue;
        }
        let Some(call) = helper_call(&action.body) else {
            continue;
        };
        let at = call.indent.unwrap_or(column(action.range.start));
        let level = match pod_column {
            Some(pod) => at == pod,
            None => at > key_column,
        };
        if level {
            found.push((action, call));
        }
    }
    found
}

/// Workloads whose pod spec is all a helper's: `spec:` empty in the
/// template, with a helper included under it (`{{- include "x.podSpec" . |
/// nindent 6 }}`). The plain reading finds no pod spec there; these are
/// judged from the helper's text.
pub(super) fn helper_pod_specs(
    text: &str,
    masked: &Masked,
    parsed: &crate::ParsedFile,
    options: &crate::Options,
) -> Vec<(usize, Workload)> {
    let mut found = Vec::new();
    for (index, doc) in parsed.documents.iter().enumerate() {
        for object in crate::objects::objects(doc) {
            let Some(kind) = get_string(doc, object, "kind") else {
                continue;
            };
            let api_version = get_string(doc, object, "apiVersion");
            let Some(path) = options.kinds.pod_spec_path(api_version, kind) else {
                continue;
            };
            let Some((last, parents)) = path.split_last() else {
                continue;
            };
            let mut current = object;
            let mut reached = true;
            for segment in parents {
                match get_mapping(doc, current, segment) {
                    Some((_, value)) => current = value,
                    None => {
                        reached = false;
                        break;
                    }
                }
            }
            let Some((spec_key, pod_spec)) = get(doc, current, last).filter(|_| reached) else {
                continue;
            };
            let empty = matches!(&doc.node(pod_spec).kind, NodeKind::Scalar { value, .. } if value.is_empty());
            if !empty {
                continue;
            }
            let metadata = get_mapping(doc, object, "metadata").map(|(_, m)| m);
            let workload = Workload {
                kind: kind.to_string(),
                name: metadata.and_then(|m| {
                    get_string(doc, m, "name")
                        .map(str::to_string)
                        .or_else(|| get_string(doc, m, "generateName").map(|g| format!("{g}*")))
                }),
                namespace: metadata
                    .and_then(|m| get_string(doc, m, "namespace"))
                    .filter(|ns| !ns.is_empty())
                    .map(str::to_string),
                object,
                spec_key,
                pod_spec,
            };
            if options.ignores(&workload).is_some()
                || pod_spec_includes(masked, text, doc, &workload).is_empty()
            {
                continue;
            }
            found.push((index, workload));
        }
    }
    found
}

/// The field inserted on a line of its own before the helper's `include`,
/// at the column the helper's keys are rendered at.
pub(super) fn insert_before_include(text: &str, include: &Action, call: &HelperCall) -> Fix {
    let line_start = text[..include.range.start]
        .rfind(['\n', '\r'])
        .map_or(0, |i| i + 1);
    let column = call.indent.unwrap_or(include.range.start - line_start);
    let eol = crate::text::LineEnding::first_in(text);
    Fix {
        title: format!("Add {FIELD}: false to the pod spec"),
        edits: vec![TextEdit {
            range: TextRange::empty(line_start),
            new_text: format!("{}{FIELD}: false{}", " ".repeat(column), eol.as_str()),
        }],
        file: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELPERS: &str = r#"{{/* Common pod spec keys. */}}
{{- define "demo.podCommon" -}}
automountServiceAccountToken: {{ .Values.pod.automount }}
serviceAccountName: {{ include "demo.serviceAccountName" . }}
{{- end }}

{{- define "demo.literal" }}
securityContext:
  automountServiceAccountToken: true
automountServiceAccountToken: true # on purpose
{{- end }}

{{- define "demo.nested" -}}
{{ include "demo.literal" . }}
{{- end }}

{{- define "demo.none" -}}
hostNetwork: false
{{- end }}

{{- define "demo.yaml" -}}
{{ toYaml .Values.pod }}
{{- end }}

{{- define "demo.cond" -}}
{{- if .Values.pod.on }}
automountServiceAccountToken: false
{{- end }}
{{- end }}
"#;

    fn helpers() -> Helpers {
        Helpers::new([("templates/_helpers.tpl".to_string(), HELPERS.to_string())])
    }

    #[test]
    fn a_helper_reading_values_renders_their_value() {
        let values = ValuesFile::new("values.yaml", "pod:\n  automount: false\n");
        let HelperField::Renders {
            value,
            origin: Some(origin),
            fix: Some(_),
        } = helpers().field("demo.podCommon", Some(&values))
        else {
            panic!("not rendered")
        };
        assert_eq!(value, Rendered::Bool(false));
        assert_eq!(origin.file.as_deref(), Some("values.yaml"));
        assert_eq!(&values.text[origin.range.start..origin.range.end], "false");
    }

    #[test]
    fn a_literal_is_read_at_the_top_level_only_and_through_includes() {
        for name in ["demo.literal", "demo.nested"] {
            let HelperField::Renders {
                value,
                origin: Some(origin),
                fix: Some(fix),
            } = helpers().field(name, None)
            else {
                panic!("{name}: not rendered")
            };
            assert_eq!(value, Rendered::Bool(true));
            assert_eq!(&HELPERS[origin.range.start..origin.range.end], "true");
            let line_start = HELPERS[..origin.range.start].rfind('\n').unwrap() + 1;
            assert!(HELPERS[line_start..].starts_with("automountServiceAccountToken: true # on"));
            assert_eq!(fix.file.as_deref(), Some("templates/_helpers.tpl"));
        }
    }

    #[test]
    fn what_cannot_be_read_says_why() {
        assert_eq!(helpers().field("demo.none", None), HelperField::Absent);
        let why = |name: &str, values: Option<&ValuesFile>| match helpers().field(name, values) {
            HelperField::NotEvaluated(why) => why,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(
            why("demo.missing", None),
            "helper \"demo.missing\" is not in the chart"
        );
        assert!(why("demo.yaml", None).contains("renders {{ toYaml .Values.pod }} as YAML"));
        assert!(why("demo.cond", None).contains("under {{ if .Values.pod.on }}"));
        let off = ValuesFile::new("values.yaml", "pod:\n  on: false\n");
        assert_eq!(
            helpers().field("demo.cond", Some(&off)),
            HelperField::Absent
        );
        let on = ValuesFile::new("values.yaml", "pod:\n  on: true\n");
        assert!(matches!(
            helpers().field("demo.cond", Some(&on)),
            HelperField::Renders {
                value: Rendered::Bool(false),
                ..
            }
        ));
    }

    #[test]
    fn lines_after_an_offset_are_the_lines_starting_after_it() {
        for text in [
            "a\nb\r\nc\rd\n",
            "a\r\n\r\nb",
            "",
            "\n",
            "abc",
            "a\r",
            "x\n\ny\r\n",
        ] {
            for offset in 0..=text.len() {
                let expected: Vec<_> = lines(text)
                    .into_iter()
                    .filter(|(s, _)| *s > offset)
                    .collect();
                let got: Vec<_> = lines_after(text, offset).collect();
                assert_eq!(got, expected, "{text:?} after {offset}");
            }
        }
    }

    #[test]
    fn helper_calls_are_read() {
        let call = helper_call("include \"a.b\" . | nindent 8").unwrap();
        assert_eq!(
            (call.name.as_str(), call.plain_context, call.indent),
            ("a.b", true, Some(8))
        );
        let call = helper_call("template \"a\" (dict \"x\" .)").unwrap();
        assert!(!call.plain_context);
        assert!(helper_call("toYaml .Values.a").is_none());
    }
}
