//! Hiding Go template actions (`{{ … }}`) so that a Helm template reads as
//! YAML, without moving any byte: the masked text has the same length and
//! the same line breaks, so every range found in it is a range of the real
//! text.
//!
//! * A line holding nothing but actions (`{{- if … }}`, `{{- end }}`,
//!   `{{- include … | nindent 8 }}`) becomes blank: what such an action
//!   renders is whole entries or nothing.
//! * Inside other text, an action that renders nothing (control flow,
//!   comments, variable assignments) becomes blanks, and one that renders a
//!   value becomes a plain run of `x`, a scalar of the same length.
//!
//! Both branches of a conditional stay, so a key can appear twice; YAML
//! parsing here tolerates that.

use crate::text::TextRange;

/// What a template action does to the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionKind {
    /// Opens a block: `if`, `with`, `range`, `define`, `block`.
    Open,
    /// `else` and `else if …`: inside a block, between branches.
    Else,
    /// `end`.
    End,
    /// `{{/* … */}}`.
    Comment,
    /// `$name := …` or `$name = …`: renders nothing.
    Assignment,
    /// Anything else renders text.
    Output,
}

/// One `{{ … }}` of the template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    /// From `{{` to `}}` inclusive.
    pub range: TextRange,
    /// The text between the delimiters, without trim markers and blanks.
    pub body: String,
    pub kind: ActionKind,
}

impl Action {
    pub fn renders_nothing(&self) -> bool {
        !matches!(self.kind, ActionKind::Output)
    }
}

/// A template with its actions hidden.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Masked {
    /// The text to parse as YAML: as long as the template, same line breaks.
    pub text: String,
    /// Every action, in text order.
    pub actions: Vec<Action>,
}

impl Masked {
    /// The actions that overlap `range` (or contain its position when empty).
    pub fn actions_in(&self, range: TextRange) -> impl Iterator<Item = &Action> {
        self.actions.iter().filter(move |a| {
            a.range.start < range.end.max(range.start + 1) && range.start < a.range.end
        })
    }

    /// How many blocks (`if`, `with`, `range`, …) are open at `offset`.
    pub fn depth_at(&self, offset: usize) -> usize {
        let mut depth = 0usize;
        for action in self.actions.iter().take_while(|a| a.range.end <= offset) {
            match action.kind {
                ActionKind::Open => depth += 1,
                ActionKind::End => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        depth
    }
}

/// Whether `text` holds a template action at all.
pub fn has_actions(text: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), b"{{").is_some() && !find_actions(text).is_empty()
}

/// Masks every action of `text`. An action without its closing `}}` is left
/// as it is, as is everything after it (Helm would refuse such a template).
pub fn mask(text: &str) -> Masked {
    let actions = find_actions(text);
    let bytes = text.as_bytes();
    let mut in_action = vec![false; bytes.len()];
    for action in &actions {
        in_action[action.range.start..action.range.end].fill(true);
    }
    let mut out = bytes.to_vec();
    for action in &actions {
        let alone = alone_on_its_lines(bytes, &in_action, action.range);
        let placeholder =
            !alone && !action.renders_nothing() && !renders_block(bytes, &in_action, action);
        let mut first_line = true;
        for i in action.range.start..action.range.end {
            match bytes[i] {
                b'\n' | b'\r' => {
                    first_line = false;
                    out[i] = bytes[i];
                }
                // Later lines of a multi-line value stay blank: a run of `x`
                // at their start would break the indentation.
                _ if placeholder && first_line => out[i] = b'x',
                _ => out[i] = b' ',
            }
        }
    }
    mark_block_scalar_starts(bytes, &mut out);
    // Only ASCII bytes replaced whole characters' bytes (every byte of a
    // multi-byte character inside an action was replaced): still UTF-8.
    let text = String::from_utf8(out).unwrap_or_else(|e| {
        // Unreachable by construction; degrade to the lossy form rather than
        // panic (same length is not guaranteed then, but nothing breaks).
        String::from_utf8_lossy(e.as_bytes()).into_owned()
    });
    Masked { text, actions }
}

/// A line blanked right after a block scalar's header (`- |`, `key: >-`)
/// would be a leading empty line of the scalar, and one with more blanks
/// than the first content line is a YAML error: it keeps one `x` where its
/// action started, which makes it the scalar's first (ignored) content line.
fn mark_block_scalar_starts(original: &[u8], out: &mut [u8]) {
    // The indentation of the header line just before, if any.
    let mut header_indent: Option<usize> = None;
    let mut start = 0;
    while start < out.len() {
        let mut end = start;
        while end < out.len() && !matches!(out[end], b'\n' | b'\r') {
            end += 1;
        }
        let line = &out[start..end];
        let blank = line.iter().all(|&b| b == b' ' || b == b'\t');
        let was_blank = original[start..end]
            .iter()
            .all(|&b| b == b' ' || b == b'\t');
        if blank && !was_blank {
            let first = original[start..end]
                .iter()
                .position(|&b| b != b' ' && b != b'\t');
            // Only inside the scalar: a mark left of it would end it.
            if let (Some(header_indent), Some(first)) = (header_indent, first) {
                if first > header_indent {
                    out[start + first] = b'x';
                }
            }
            header_indent = None;
        } else if !blank {
            header_indent = is_block_scalar_header(line)
                .then(|| line.iter().take_while(|&&b| b == b' ').count());
        }
        start = end + 1;
    }
}

fn is_block_scalar_header(line: &[u8]) -> bool {
    let text = String::from_utf8_lossy(line);
    let last = text.split_whitespace().last().unwrap_or("");
    let words = text.split_whitespace().count();
    let mut chars = last.chars();
    matches!(chars.next(), Some('|' | '>'))
        && chars.all(|c| matches!(c, '-' | '+' | '0'..='9'))
        && (words > 1 || text.trim_start().starts_with(['|', '>']))
}

/// Whether an action that ends its line renders a block of lines rather
/// than a value: `labels: {{- include "x" . | nindent 4 }}` (`nindent`
/// starts with a line break; a `{{-` after `key:` would glue a value to the
/// colon, so it is only written before a block). The lines below then
/// continue the block and must read as its content.
fn renders_block(bytes: &[u8], in_action: &[bool], action: &Action) -> bool {
    let mut j = action.range.end;
    while j < bytes.len() && !matches!(bytes[j], b'\n' | b'\r') {
        if !(in_action[j] || matches!(bytes[j], b' ' | b'\t')) {
            return false;
        }
        j += 1;
    }
    let trims_before = bytes.get(action.range.start + 2) == Some(&b'-');
    action.body.contains("nindent") || trims_before
}

/// Whether nothing but blanks and other actions share the lines of `range`.
fn alone_on_its_lines(bytes: &[u8], in_action: &[bool], range: TextRange) -> bool {
    let blank_or_action = |i: usize| in_action[i] || matches!(bytes[i], b' ' | b'\t');
    let mut i = range.start;
    while i > 0 && !matches!(bytes[i - 1], b'\n' | b'\r') {
        i -= 1;
        if !blank_or_action(i) {
            return false;
        }
    }
    let mut j = range.end;
    while j < bytes.len() && !matches!(bytes[j], b'\n' | b'\r') {
        if !blank_or_action(j) {
            return false;
        }
        j += 1;
    }
    true
}

/// Every closed action, in order.
pub fn find_actions(text: &str) -> Vec<Action> {
    let bytes = text.as_bytes();
    let mut actions = Vec::new();
    let mut from = 0;
    while let Some(found) = memchr::memmem::find(&bytes[from..], b"{{") {
        let start = from + found;
        let Some(end) = action_end(bytes, start) else {
            break;
        };
        let inner = &text[start + 2..end - 2];
        if !is_go_action(inner) {
            // YAML braces (`{{a: 1}: b}`), not a template action.
            from = start + 1;
            continue;
        }
        let body = inner
            .strip_prefix('-')
            .filter(|rest| rest.starts_with([' ', '\t', '\n', '\r']))
            .unwrap_or(inner);
        let body = body
            .strip_suffix('-')
            .filter(|rest| rest.ends_with([' ', '\t', '\n', '\r']))
            .unwrap_or(body)
            .trim();
        actions.push(Action {
            range: TextRange::new(start, end),
            kind: classify(body),
            body: body.to_string(),
        });
        from = end;
    }
    actions
}

/// The end (after `}}`) of the action starting at `start`: past strings,
/// whose text may hold `}}`, and for comments past `*/`.
fn action_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 2;
    // `{{/*` or `{{- /*`: a comment ends at `*/` then `}}`.
    let mut after_trim = i;
    if bytes.get(i) == Some(&b'-') {
        after_trim = i + 1;
        while matches!(bytes.get(after_trim), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            after_trim += 1;
        }
    }
    if bytes[after_trim..].starts_with(b"/*") {
        let close = memchr::memmem::find(&bytes[after_trim + 2..], b"*/")? + after_trim + 2;
        let braces = memchr::memmem::find(&bytes[close + 2..], b"}}")? + close + 2;
        return Some(braces + 2);
    }
    while i < bytes.len() {
        match bytes[i] {
            b'}' if bytes.get(i + 1) == Some(&b'}') => return Some(i + 2),
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    if matches!(bytes[i], b'\n' | b'\r') {
                        // Go strings do not span lines: not a string after all.
                        break;
                    }
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// Whether the text between `{{` and `}}` reads as a Go template action:
/// a comment, or a pipeline starting with a field, variable, parenthesis,
/// literal or a function or keyword name followed by a blank.
fn is_go_action(inner: &str) -> bool {
    let body = inner.strip_prefix('-').unwrap_or(inner).trim_start();
    let body = body.strip_suffix('-').unwrap_or(body).trim_end();
    if body.is_empty() {
        return false;
    }
    if body.starts_with("/*") {
        return true;
    }
    let first = body.chars().next().unwrap_or(' ');
    if matches!(first, '.' | '$' | '(' | '"' | '`' | '\'') || first.is_ascii_digit() {
        return true;
    }
    let name_end = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    name_end > 0
        && (first.is_ascii_alphabetic() || first == '_')
        && body[name_end..]
            .chars()
            .next()
            .is_none_or(|c| c.is_whitespace() || matches!(c, '|' | '(' | ')' | '.'))
}

fn classify(body: &str) -> ActionKind {
    if body.starts_with("/*") {
        return ActionKind::Comment;
    }
    let mut words = body.split_whitespace();
    let first = words.next().unwrap_or("");
    match first {
        "if" | "with" | "range" | "define" | "block" => ActionKind::Open,
        "else" => ActionKind::Else,
        "end" => ActionKind::End,
        _ if first.starts_with('$') && matches!(words.next(), Some(":=" | "=")) => {
            ActionKind::Assignment
        }
        _ if first.starts_with('$') && (first.ends_with(":=") || first.contains(":=")) => {
            ActionKind::Assignment
        }
        _ => ActionKind::Output,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(text: &str) -> String {
        mask(text).text
    }

    #[test]
    fn a_line_of_actions_becomes_blank() {
        let text = "spec:\n  {{- if .Values.a }}\n  replicas: 1\n  {{- end }}\n";
        assert_eq!(
            masked(text),
            "spec:\n                     \n  replicas: 1\n            \n"
        );
    }

    #[test]
    fn a_value_becomes_a_placeholder_of_the_same_length() {
        let text = "name: {{ include \"c.name\" . }}\nimage: \"{{ .Values.a }}:{{ .Values.b }}\"\n";
        assert_eq!(
            masked(text),
            "name: xxxxxxxxxxxxxxxxxxxxxxxx\nimage: \"xxxxxxxxxxxxxxx:xxxxxxxxxxxxxxx\"\n"
        );
    }

    #[test]
    fn control_actions_inside_a_line_render_nothing() {
        let text = "a: {{ if .x }}1{{ else }}2{{ end }}\n";
        let blanks = |n: usize| " ".repeat(n);
        assert_eq!(
            masked(text),
            format!("a: {}1{}2{}\n", blanks(11), blanks(10), blanks(9))
        );
    }

    #[test]
    fn keys_comments_and_assignments() {
        let text = "{{ .Values.k }}: v\n{{/* a }} comment\nover lines */}}\n{{- $n := include \"x\" . -}}\nb: 1\n";
        let m = mask(text);
        assert_eq!(
            m.text,
            "xxxxxxxxxxxxxxx: v\n                 \n               \n                           \nb: 1\n"
        );
        let kinds: Vec<_> = m.actions.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [
                ActionKind::Output,
                ActionKind::Comment,
                ActionKind::Assignment
            ]
        );
        assert_eq!(m.actions[2].body, "$n := include \"x\" .");
    }

    #[test]
    fn braces_inside_strings_do_not_end_an_action() {
        let m = mask("a: {{ printf \"}}\" }}\n");
        assert_eq!(m.text, "a: xxxxxxxxxxxxxxxxx\n");
    }

    #[test]
    fn an_unclosed_action_and_what_follows_stay() {
        let text = "a: {{ .x }}\nb: {{ .y\nc: 1\n";
        assert_eq!(masked(text), "a: xxxxxxxx\nb: {{ .y\nc: 1\n");
    }

    #[test]
    fn an_action_that_renders_a_block_after_a_key_becomes_blank() {
        let text = "labels: {{- include \"l\" . | nindent 4 }}\n    a: b\nc: {{ toYaml .x | nindent 2 }}\n";
        let m = mask(text);
        let lines: Vec<&str> = m.text.lines().map(str::trim_end).collect();
        assert_eq!(lines, ["labels:", "    a: b", "c:"]);
        let parsed = crate::parse(&m.text, crate::Options::builtin());
        assert!(parsed.syntax_errors.is_empty());
    }

    #[test]
    fn a_blanked_line_opening_a_block_scalar_keeps_a_mark() {
        let text = "run: |\n  {{- if .x }}\n  echo\n  {{- end }}\n";
        let m = mask(text);
        let lines: Vec<&str> = m.text.lines().map(str::trim_end).collect();
        assert_eq!(lines, ["run: |", "  x", "  echo", ""]);
        // Without the mark, the first blank line has more blanks than
        // `echo` is indented: a YAML error.
        assert!(crate::parse(&m.text, crate::Options::builtin())
            .syntax_errors
            .is_empty());
        let unmarked = m.text.replacen('x', " ", 1);
        assert!(!crate::parse(&unmarked, crate::Options::builtin())
            .syntax_errors
            .is_empty());
    }

    #[test]
    fn yaml_braces_are_not_actions() {
        for yaml in [
            "a: {{b: 1}: c}\n",
            "{{note: \"x\"}\nb: {c: 1}}\n",
            "a: {{}}\n",
        ] {
            assert!(!has_actions(yaml), "{yaml}");
            assert_eq!(mask(yaml).text, yaml);
        }
        for template in [
            "{{ end }}",
            "{{- toYaml . }}",
            "{{ 1 }}",
            "{{ $x }}",
            "{{ include \"a\" . }}",
            "{{ upper(.a) }}",
            "{{end}}",
            "{{- range.spec.ports }}",
        ] {
            assert!(has_actions(template), "{template}");
        }
    }

    #[test]
    fn block_depth() {
        let text = "a:\n{{- with .x }}\nb: 1\n{{- end }}\nc: 2\n";
        let m = mask(text);
        assert_eq!(m.depth_at(text.find("b:").unwrap()), 1);
        assert_eq!(m.depth_at(text.find("c:").unwrap()), 0);
    }

    proptest::proptest! {
        /// The mask keeps every position: same length, line breaks where
        /// they were, and every byte outside actions unchanged.
        #[test]
        fn masking_moves_nothing(
            pieces in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just("{{".to_string()),
                proptest::strategy::Just("}}".to_string()),
                proptest::strategy::Just("{{- if .Values.a }}".to_string()),
                proptest::strategy::Just("{{ end -}}".to_string()),
                proptest::strategy::Just("{{/* c\n */}}".to_string()),
                proptest::strategy::Just("\"}}\"".to_string()),
                proptest::strategy::Just("\r\n".to_string()),
                "[ a-z:\\-#\"'\n\r|.$é]{0,12}",
            ], 0..24)
        ) {
            let text: String = pieces.concat();
            let m = mask(&text);
            proptest::prop_assert_eq!(m.text.len(), text.len());
            let mut inside = vec![false; text.len()];
            for action in &m.actions {
                inside[action.range.start..action.range.end].fill(true);
                proptest::prop_assert!(text[action.range.start..].starts_with("{{"));
                proptest::prop_assert!(text[..action.range.end].ends_with("}}"));
            }
            for (i, (a, b)) in text.bytes().zip(m.text.bytes()).enumerate() {
                if matches!(a, b'\n' | b'\r') || !inside[i] {
                    proptest::prop_assert_eq!(a, b, "byte {} of {:?}", i, text);
                } else {
                    proptest::prop_assert!(matches!(b, b' ' | b'x'), "byte {} of {:?}", i, text);
                }
            }
        }
    }
}
