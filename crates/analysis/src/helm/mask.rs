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
//! * An action is read as Go reads it: its strings may hold `}}`; and when
//!   its text cannot be Go (a backslash outside a string), it is the text
//!   of a YAML double-quoted scalar (a plain file whose strings carry
//!   templates for another tool, as alert rules do), read with the YAML
//!   escapes decoded (`{{ printf \"%s\" .x }}`). An action never runs on
//!   past a document start (`---`).
//! * Trim markers (`{{-`, `-}}`) eat blanks and line breaks around an
//!   action; where that changes what the YAML is (a value glued to its key,
//!   a `:` between two actions), `blocks.rs` and [`renders_block`] say so.
//!
//! Text between actions is kept, except where `blocks.rs` decides that it
//! is not output where it stands (a `define` body), or that keeping every
//! branch of a conditional would make YAML no branch renders (branches on
//! one line, branches of different shapes): that text is listed in
//! [`Masked::hidden`] and blanked (or, for a conditional that is one value,
//! written over with a placeholder). Branches of the same shape all stay,
//! so a key can appear twice; YAML parsing here tolerates that, and
//! `branches.rs` drops the branches the values turn off.

use super::blocks;
use super::values::ValuesFile;
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

    /// `… -}}`: trims the blanks and line breaks after it.
    pub fn trims_after(&self, text: &str) -> bool {
        self.range.len() >= 5 && text.as_bytes().get(self.range.end - 3) == Some(&b'-')
    }
}

/// A template with its actions hidden.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Masked {
    /// The text to parse as YAML: as long as the template, same line breaks.
    pub text: String,
    /// Every action, in text order.
    pub actions: Vec<Action>,
    /// Text the mask hides although it lies outside actions (a `define`
    /// body, a branch that would clash with another, a conditional read as
    /// one value), in text order; they may hold actions. Every byte of them
    /// but line breaks is a blank or an `x` in [`Masked::text`].
    pub hidden: Vec<TextRange>,
}

impl Masked {
    /// The actions that overlap `range` (or contain its position when empty).
    pub fn actions_in(&self, range: TextRange) -> impl Iterator<Item = &Action> {
        // The actions are in text order and never overlap, so their ends
        // are in order too: those ending after `range.start` are a suffix
        // (found by bisection, not by a walk over every action), and of
        // it those starting before the range's end are a prefix.
        let first = self.actions.partition_point(|a| a.range.end <= range.start);
        let bound = range.end.max(range.start + 1);
        self.actions[first..]
            .iter()
            .take_while(move |a| a.range.start < bound)
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
    memchr::memmem::find(text.as_bytes(), b"{{").is_some()
        && next_action(text, 0, &memchr::memmem::Finder::new(b"{{")).is_some()
}

/// Masks every action of `text`, choosing between clashing branches
/// without values (the first branch is kept). An action without its
/// closing `}}` is left as it is, as is everything after it in its
/// document (Helm would refuse such a template).
pub fn mask(text: &str) -> Masked {
    mask_with(text, None)
}

/// Masks every action of `text`; where branches clash, the one `values`
/// selects is kept (see `blocks.rs`).
pub fn mask_with(text: &str, values: Option<&ValuesFile>) -> Masked {
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
        // Later lines of a multi-line value stay blank: a run of `x` at
        // their start would break the indentation. (Line breaks stay.)
        let range = action.range.start..action.range.end;
        let mut from = range.start;
        let mut fill = if placeholder { b'x' } else { b' ' };
        for at in memchr::memchr2_iter(b'\n', b'\r', &bytes[range.clone()]) {
            let at = range.start + at;
            out[from..at].fill(fill);
            fill = b' ';
            from = at + 1;
        }
        out[from..range.end].fill(fill);
    }
    let hidden = blocks::hide(text, &actions, &mut out, values);
    let mut changed = in_action;
    for range in &hidden {
        changed[range.start..range.end].fill(true);
    }
    mark_block_scalar_starts(bytes, &changed, &mut out);
    // Only ASCII bytes replaced whole characters' bytes (every byte of a
    // multi-byte character inside an action or a hidden range was
    // replaced): still UTF-8.
    let text = String::from_utf8(out).unwrap_or_else(|e| {
        // Unreachable by construction; degrade to the lossy form rather than
        // panic (same length is not guaranteed then, but nothing breaks).
        String::from_utf8_lossy(e.as_bytes()).into_owned()
    });
    Masked {
        text,
        actions,
        hidden,
    }
}

/// A line blanked right after a block scalar's header (`- |`, `key: >-`)
/// would be a leading empty line of the scalar, and one with more blanks
/// than the first content line is indented is a YAML error: the first such
/// line keeps one `x` where the content lines start (or where its action
/// started, when nothing masked stands there), which makes it the scalar's
/// first (ignored) content line. Only bytes the mask changed (`changed`)
/// take the mark.
fn mark_block_scalar_starts(original: &[u8], changed: &[bool], out: &mut [u8]) {
    // A header holds `|` or `>`: only the lines holding one are looked at,
    // in text order. (A mark is an `x` over a byte the mask changed, never
    // a `|` or `>`: the lines to look at stay those.)
    let mut headers = Vec::new();
    for at in memchr::memchr2_iter(b'|', b'>', out) {
        if headers.last().is_some_and(|&(_, end)| at < end) {
            continue;
        }
        headers.push(line_around(out, at));
    }
    for (start, end) in headers {
        mark_after_header(original, changed, out, start, end);
    }
}

/// The (start, end) of the line holding byte `at` (as [`line_spans`] cuts).
fn line_around(bytes: &[u8], at: usize) -> (usize, usize) {
    let start = memchr::memrchr2(b'\n', b'\r', &bytes[..at]).map_or(0, |i| i + 1);
    let end = memchr::memchr2(b'\n', b'\r', &bytes[at..]).map_or(bytes.len(), |i| at + i);
    (start, end)
}

/// The line after the one ending at `end` (as [`line_spans`] cuts), if any.
fn line_after(bytes: &[u8], end: usize) -> Option<(usize, usize)> {
    let start = match bytes.get(end)? {
        b'\r' if bytes.get(end + 1) == Some(&b'\n') => end + 2,
        _ => end + 1,
    };
    let next_end =
        memchr::memchr2(b'\n', b'\r', &bytes[start..]).map_or(bytes.len(), |i| start + i);
    Some((start, next_end))
}

/// [`mark_block_scalar_starts`] for the line `start..end`, when it is a
/// header followed by a blank line.
fn mark_after_header(original: &[u8], changed: &[bool], out: &mut [u8], start: usize, end: usize) {
    let is_blank = |range: (usize, usize), bytes: &[u8]| {
        bytes[range.0..range.1]
            .iter()
            .all(|&b| b == b' ' || b == b'\t')
    };
    // Only a header followed by a blank line can take a mark (the content's
    // first line comes right after it otherwise).
    let Some(first) = line_after(out, end) else {
        return;
    };
    if !is_blank(first, out) {
        return;
    }
    let line = &out[start..end];
    if is_blank((start, end), out) || !is_block_scalar_header(line) {
        return;
    }
    let header_indent = line.iter().take_while(|&&b| b == b' ').count();
    // The scalar's content starts on the first line that is not blank after
    // masking; it must be indented past the header.
    let mut blank_lines = Vec::new();
    let mut next = Some(first);
    let content = loop {
        let Some(current) = next else {
            return;
        };
        if !is_blank(current, out) {
            break current;
        }
        blank_lines.push(current);
        next = line_after(out, current.1);
    };
    let content_indent = out[content.0..content.1]
        .iter()
        .take_while(|&&b| b == b' ')
        .count();
    if content_indent <= header_indent {
        return;
    }
    mark_first_masked_blank(original, changed, out, blank_lines, content_indent);
}

/// Marks the first of a block scalar's leading `blank_lines` (blank after
/// masking) that the mask made longer than the content's indentation
/// `content_indent` (see [`mark_block_scalar_starts`]).
fn mark_first_masked_blank(
    original: &[u8],
    changed: &[bool],
    out: &mut [u8],
    blank_lines: impl IntoIterator<Item = (usize, usize)>,
    content_indent: usize,
) {
    for (s, e) in blank_lines {
        let was_blank = original[s..e].iter().all(|&b| b == b' ' || b == b'\t');
        if was_blank || e - s <= content_indent {
            // Not masked, or not longer than the content's indentation: a
            // leading empty line YAML accepts.
            continue;
        }
        let at = if changed[s + content_indent] {
            Some(s + content_indent)
        } else {
            // Where the masked text starts: the scalar then reads the mark
            // as more indented than its content (an error either way, as in
            // the template).
            (s..e).find(|&i| changed[i] && original[i] != b' ' && original[i] != b'\t')
        };
        if let Some(at) = at {
            out[at] = b'x';
        }
        break;
    }
}

/// The (start, end) of every line of `bytes`, line breaks excluded
/// (`\r\n`, `\n` and a lone `\r` end a line).
pub(super) fn line_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut lines = Vec::new();
    let mut start = 0;
    for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
        // The CR of a CRLF ends nothing: its LF ends the line.
        if i < start {
            continue;
        }
        lines.push((start, i));
        start = if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i + 2
        } else {
            i + 1
        };
    }
    lines.push((start, bytes.len()));
    lines
}

pub(super) fn is_block_scalar_header(line: &[u8]) -> bool {
    // The last word starts with the indicator: most lines hold neither.
    if memchr::memchr2(b'|', b'>', line).is_none() {
        return false;
    }
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
/// starts with a line break; a `{{-` after `key: ` would glue a value to
/// the colon, so it is only written before a block). The lines below then
/// continue the block and must read as its content. A `{{-` right after
/// other text (`{{ .a -}}:{{- .b }}`, `repo:{{- .tag }}`) only joins that
/// text to the value.
fn renders_block(bytes: &[u8], in_action: &[bool], action: &Action) -> bool {
    let mut j = action.range.end;
    while j < bytes.len() && !matches!(bytes[j], b'\n' | b'\r') {
        if !(in_action[j] || matches!(bytes[j], b' ' | b'\t')) {
            return false;
        }
        j += 1;
    }
    let start = action.range.start;
    let trims_before = bytes.get(start + 2) == Some(&b'-')
        && (start == 0 || matches!(bytes[start - 1], b' ' | b'\t' | b'\n' | b'\r'));
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
    action_refs(text)
        .into_iter()
        .map(|action| Action {
            range: action.range,
            kind: action.kind,
            body: action.body.to_string(),
        })
        .collect()
}

/// An [`Action`] whose body is borrowed from the text: for a reading that
/// keeps nothing of the actions (`render::needs_rendering`), which then
/// allocates none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ActionRef<'t> {
    pub range: TextRange,
    pub body: &'t str,
    pub kind: ActionKind,
}

impl ActionRef<'_> {
    pub fn renders_nothing(&self) -> bool {
        !matches!(self.kind, ActionKind::Output)
    }
}

/// [`find_actions`], the bodies borrowed.
pub(crate) fn action_refs(text: &str) -> Vec<ActionRef<'_>> {
    let mut actions = Vec::new();
    let mut from = 0;
    let opening = memchr::memmem::Finder::new(b"{{");
    while let Some((range, body)) = next_action(text, from, &opening) {
        actions.push(ActionRef {
            range,
            kind: classify(body),
            body,
        });
        from = range.end;
    }
    actions
}

/// The first closed action at or after `from`: its range and its body
/// (see [`Action::body`]).
/// (`opening` finds `{{`: built once for all the actions of a text.)
fn next_action<'t>(
    text: &'t str,
    mut from: usize,
    opening: &memchr::memmem::Finder,
) -> Option<(TextRange, &'t str)> {
    let bytes = text.as_bytes();
    while let Some(found) = opening.find(&bytes[from..]) {
        let start = from + found;
        let end = match action_end(bytes, start) {
            Scan::Closed(end) => end,
            // Not closed in its document: left as it is, and the next
            // document is read on its own.
            Scan::DocumentStart(next) => {
                from = next;
                continue;
            }
            Scan::Unclosed | Scan::Backslash => return None,
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
        return Some((TextRange::new(start, end), body));
    }
    None
}

/// Where the scan of an action stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scan {
    /// Closed: the offset after its `}}`.
    Closed(usize),
    /// A line starting a new document (`---`) came first: its offset.
    DocumentStart(usize),
    /// The text ended first.
    Unclosed,
    /// A backslash outside a string: not Go text as it stands.
    Backslash,
}

/// The end (after `}}`) of the action starting at `start`: past strings,
/// whose text may hold `}}`, and for comments past `*/`. The text is read
/// as Go's; if it cannot be (a backslash outside a string), it is read
/// again as a YAML double-quoted scalar's, escapes decoded.
fn action_end(bytes: &[u8], start: usize) -> Scan {
    // `{{/*` or `{{- /*`: a comment ends at `*/` then `}}`.
    let mut after_trim = start + 2;
    if bytes.get(after_trim) == Some(&b'-') {
        after_trim += 1;
        while matches!(bytes.get(after_trim), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            after_trim += 1;
        }
    }
    if bytes[after_trim.min(bytes.len())..].starts_with(b"/*") {
        let closed = memchr::memmem::find(&bytes[after_trim + 2..], b"*/")
            .map(|at| at + after_trim + 2)
            .and_then(|close| {
                memchr::memmem::find(&bytes[close + 2..], b"}}").map(|at| at + close + 4)
            });
        return closed.map_or(Scan::Unclosed, Scan::Closed);
    }
    match scan_action(bytes, start + 2, false) {
        Scan::Backslash => match scan_action(bytes, start + 2, true) {
            // Not YAML escapes either: the backslash is just a byte.
            Scan::Backslash => Scan::Unclosed,
            other => other,
        },
        other => other,
    }
}

/// The bytes at which [`scan_action`] has something to decide (a closing
/// brace, a quote, a backslash, a line break); any other byte is passed
/// over as it is.
const SCAN_STOPS: [bool; 256] = {
    let mut stops = [false; 256];
    let mut i = 0;
    let special = b"}\\\n\r\"'`";
    while i < special.len() {
        stops[special[i] as usize] = true;
        i += 1;
    }
    stops
};

/// Scans Go template text from `from` to its closing `}}`. With `escaped`
/// the bytes are a YAML double-quoted scalar's: `\"` is a quote and `\\` a
/// backslash as Go sees them, and any other escape is one ordinary
/// character.
fn scan_action(bytes: &[u8], from: usize, escaped: bool) -> Scan {
    /// One character as Go sees it: what it is and how many bytes it took.
    fn next(bytes: &[u8], i: usize, escaped: bool) -> (u8, usize) {
        match bytes[i] {
            b'\\' if escaped => match bytes.get(i + 1) {
                Some(&c @ (b'"' | b'\\')) => (c, 2),
                Some(b'\n' | b'\r') | None => (b'\\', 1),
                // Another escape decodes to some other character.
                Some(_) => (b'a', 2),
            },
            b => (b, 1),
        }
    }
    let document_start = |i: usize| {
        bytes[i..].starts_with(b"---")
            && matches!(bytes.get(i + 3), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
    };
    let mut i = from;
    while i < bytes.len() {
        // Most of an action is names and blanks, which only move on: skipped
        // a run at a time.
        if !SCAN_STOPS[bytes[i] as usize] {
            i += 1;
            while i < bytes.len() && !SCAN_STOPS[bytes[i] as usize] {
                i += 1;
            }
            continue;
        }
        let (c, len) = next(bytes, i, escaped);
        match c {
            b'}' if len == 1 && bytes.get(i + 1) == Some(&b'}') => return Scan::Closed(i + 2),
            b'\\' if !escaped => return Scan::Backslash,
            b'\n' | b'\r' => {
                i += 1;
                if !matches!(bytes.get(i), Some(b'\n')) && document_start(i) {
                    return Scan::DocumentStart(i);
                }
                continue;
            }
            quote @ (b'"' | b'\'') => {
                i += len;
                while i < bytes.len() {
                    // (Bytes that are not the quote, a line break or a
                    // backslash are the string's own.)
                    let b = bytes[i];
                    if b != quote && !matches!(b, b'\n' | b'\r' | b'\\') {
                        i += 1;
                        continue;
                    }
                    let (d, len) = next(bytes, i, escaped);
                    if d == quote || matches!(d, b'\n' | b'\r') {
                        // Go strings do not span lines: at a line break it
                        // was not a string after all.
                        break;
                    }
                    i += len;
                    if d == b'\\' && i < bytes.len() {
                        // An escape in the string: the next character is
                        // part of it.
                        i += next(bytes, i, escaped).1;
                    }
                }
                if i < bytes.len() && !matches!(bytes[i], b'\n' | b'\r') {
                    i += next(bytes, i, escaped).1;
                }
                continue;
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
                i += 1;
                continue;
            }
            _ => {}
        }
        i += len;
    }
    Scan::Unclosed
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

    /// [`mark_block_scalar_starts`] as it was written first (every line cut
    /// out beforehand): what the faster one must equal.
    /// A line blanked right after a block scalar's header (`- |`, `key: >-`)
    /// would be a leading empty line of the scalar, and one with more blanks
    /// than the first content line is indented is a YAML error: the first such
    /// line keeps one `x` where the content lines start (or where its action
    /// started, when nothing masked stands there), which makes it the scalar's
    /// first (ignored) content line. Only bytes the mask changed (`changed`)
    /// take the mark.
    fn mark_block_scalar_starts_by_lines(original: &[u8], changed: &[bool], out: &mut [u8]) {
        let lines = line_spans(out);
        let is_blank = |range: &(usize, usize), bytes: &[u8]| {
            bytes[range.0..range.1]
                .iter()
                .all(|&b| b == b' ' || b == b'\t')
        };
        let mut n = 0;
        while n < lines.len() {
            let (start, end) = lines[n];
            n += 1;
            // Only a header followed by a blank line can take a mark (the
            // content's first line comes right after it otherwise); most lines
            // are not looked at further.
            if lines.get(n).is_none_or(|next| !is_blank(next, out)) {
                continue;
            }
            let line = &out[start..end];
            if is_blank(&(start, end), out) || !is_block_scalar_header(line) {
                continue;
            }
            let header_indent = line.iter().take_while(|&&b| b == b' ').count();
            // The scalar's content starts on the first line that is not blank
            // after masking; it must be indented past the header.
            let Some(content) = lines[n..].iter().position(|l| !is_blank(l, out)) else {
                continue;
            };
            let content_indent = {
                let (s, e) = lines[n + content];
                out[s..e].iter().take_while(|&&b| b == b' ').count()
            };
            if content_indent <= header_indent {
                continue;
            }
            let blank_lines = lines[n..n + content].iter().copied();
            mark_first_masked_blank(original, changed, out, blank_lines, content_indent);
        }
    }

    use crate::helm::values::ValuesFile;

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
        let text = "a: b{{ if .x }}1{{ end }}{{ $v := 2 }}\n";
        let blanks = |n: usize| " ".repeat(n);
        assert_eq!(
            masked(text),
            format!("a: b{}1{}\n", blanks(11), blanks(9 + 13))
        );
    }

    /// `"{{ if }}a{{ else }}b{{ end }}"` renders one branch: the values'
    /// when they decide, else the whole conditional is one computed value,
    /// or (alone on its line) the first branch.
    #[test]
    fn branches_on_one_line_are_one_value() {
        let text = "a: {{ if .Values.on }}\"True\"{{ else }}\"False\"{{ end }}\n";
        let blanks = |n: usize| " ".repeat(n);
        let m = mask(text);
        assert_eq!(m.text, format!("a: {}\n", "x".repeat(text.len() - 4)));
        assert_eq!(m.hidden, [TextRange::new(3, text.len() - 1)]);
        let on = ValuesFile::new("v", "on: true\n");
        assert_eq!(
            mask_with(text, Some(&on)).text,
            format!("a: {}\"True\"{}\n", blanks(19), blanks(10 + 7 + 9))
        );
        let off = ValuesFile::new("v", "on: false\n");
        let m = mask_with(text, Some(&off));
        assert_eq!(
            m.text,
            format!("a: {}\"False\"{}\n", blanks(19 + 6 + 10), blanks(9))
        );
        assert_eq!(m.hidden, [TextRange::new(22, 28)]);
        let entries = "  {{ if .x }}- a{{ else }}- b{{ end }}\n";
        assert_eq!(
            masked(entries),
            format!("  {}- a{}\n", blanks(11), blanks(10 + 3 + 9))
        );
        for text in [text, entries] {
            assert!(crate::parse(&masked(text), crate::Options::builtin())
                .syntax_errors
                .is_empty());
        }
    }

    /// A plain file whose double-quoted strings carry templates for another
    /// tool: `\"` is a quote to that tool, not the end of the YAML string.
    #[test]
    fn yaml_escapes_inside_an_action_are_decoded() {
        let text = "summary: \"{{ printf \\\"%.2f\\\" $value }} high\"\n---\nimage: \"{{ .x }}\"\n";
        let m = mask(text);
        let first = "{{ printf \\\"%.2f\\\" $value }}";
        assert_eq!(
            m.text,
            format!(
                "summary: \"{} high\"\n---\nimage: \"xxxxxxxx\"\n",
                "x".repeat(first.len())
            )
        );
        assert_eq!(m.actions.len(), 2);
        assert_eq!(m.actions[0].body, "printf \\\"%.2f\\\" $value");
        // An escaped backslash before the quote: the Go string ends at
        // `\"` decoded, `}}` inside it does not close the action.
        let text = "a: \"{{ printf \\\"\\\\\\\" }}\\\" }}\"\n";
        assert_eq!(
            mask(text).text,
            format!("a: \"{}\"\n", "x".repeat(text.len() - 6))
        );
        // Go's own escapes in a chart template are read as Go's.
        let text = "a: \"{{ printf \"\\\"}}\" }}\"\n";
        assert_eq!(
            mask(text).text,
            format!("a: \"{}\"\n", "x".repeat(text.len() - 6))
        );
    }

    #[test]
    fn an_action_does_not_run_into_the_next_document() {
        let text = "a: {{ .x\n---\nb: {{ .y }}\n";
        assert_eq!(masked(text), "a: {{ .x\n---\nb: xxxxxxxx\n");
    }

    #[test]
    fn trim_markers_around_a_colon_keep_one_value() {
        let text = "image: {{ .a -}}:{{- .b }}\ntag: repo:{{- .b }}\n";
        assert_eq!(
            masked(text),
            "image: xxxxxxxxx:xxxxxxxxx\ntag: repo:xxxxxxxxx\n"
        );
    }

    #[test]
    fn a_control_action_at_column_0_in_a_block_scalar_keeps_a_mark() {
        let text = "  run: |\n{{- if .x }}\n    echo\n{{- end }}\n";
        let m = mask(text);
        let lines: Vec<&str> = m.text.lines().map(str::trim_end).collect();
        assert_eq!(lines, ["  run: |", "    x", "    echo", ""]);
        assert!(crate::parse(&m.text, crate::Options::builtin())
            .syntax_errors
            .is_empty());
        // Short enough: a leading empty line YAML accepts, no mark.
        let text = "  run: |\n{{end}}\n        echo\n";
        assert_eq!(masked(text), "  run: |\n       \n        echo\n");
    }

    #[test]
    fn a_trim_marker_that_glues_a_value_to_its_key_makes_one_value() {
        let text = "apiVersion: {{ if .x -}}\nv1\n{{- else -}}\nv2\n{{- end }}\nkind: Pod\n";
        let m = mask(text);
        assert_eq!(
            m.text,
            "apiVersion: xxxxxxxxxxxx\n  \n            \n  \n          \nkind: Pod\n"
        );
        assert_eq!(m.hidden, [TextRange::new(12, text.find("\nkind").unwrap())]);
        // Entries after the key are a block, not a glued value.
        let text = "labels: {{ if .x -}}\n  a: b\n{{- end }}\n";
        assert_eq!(masked(text), "labels:             \n  a: b\n          \n");
    }

    #[test]
    fn a_define_body_is_hidden() {
        let text = "{{- define \"x\" }}\n- name: {{ .a }}\n{{- end }}\napiVersion: v1\n";
        let m = mask(text);
        assert_eq!(
            m.text,
            "                 \n                \n          \napiVersion: v1\n"
        );
        assert_eq!(m.hidden, [TextRange::new(0, text.find("\napi").unwrap())]);
        assert_eq!(m.actions.len(), 3);
    }

    #[test]
    fn clashing_branches_keep_one() {
        let text = "m:\n  {{- if .Values.l }}\n  a: b\n  {{- else }}\n  {}\n  {{- end }}\n";
        let m = mask(text);
        assert_eq!(
            m.text,
            "m:\n                     \n  a: b\n             \n    \n            \n"
        );
        let else_branch = TextRange::new(
            text.find("{{- else }}").unwrap() + 11,
            text.find("{{- end").unwrap(),
        );
        assert_eq!(m.hidden, [else_branch]);
        let empty = ValuesFile::new("v", "l: {}\n");
        let m = mask_with(text, Some(&empty));
        assert_eq!(
            m.text,
            "m:\n                     \n      \n             \n  {}\n            \n"
        );
        // Branches of one shape both stay, as does a later branch to the
        // left (it continues an enclosing collection).
        let text = "m:\n  {{- if .x }}\n  a: b\n  {{- else }}\n  c: d\n  {{- end }}\n";
        assert!(mask(text).hidden.is_empty());
        let text = "s:\n  v:\n    {{- if .x }}\n    - a\n  {{- else }}\n  w: []\n  {{- end }}\n";
        assert!(mask(text).hidden.is_empty());
        // A later branch deeper than the one before would be its content.
        let text = "s:\n  {{- if .x }}\n  a: b\n  {{- else }}\n    c: d\n  {{- end }}\n";
        let m = mask(text);
        assert_eq!(m.hidden.len(), 1);
        assert_eq!(
            m.text,
            "s:\n              \n  a: b\n             \n        \n            \n"
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
        /// Looking only at the lines holding `|` or `>` marks exactly what
        /// cutting every line beforehand marked.
        #[test]
        fn block_scalar_marks_equal_the_line_by_line_reading(
            pieces in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just("key: |\n".to_string()),
                proptest::strategy::Just("- >-\n".to_string()),
                proptest::strategy::Just("  a: |2\r\n".to_string()),
                proptest::strategy::Just("\n".to_string()),
                proptest::strategy::Just("\r".to_string()),
                proptest::strategy::Just("\r\n".to_string()),
                "[ a-z:|>#\t-]{0,10}",
            ], 0..20),
            masked in proptest::collection::vec(0u8..3, 0..200),
        ) {
            let text: String = pieces.concat();
            let original = text.as_bytes();
            let mut out = original.to_vec();
            let mut changed = vec![false; original.len()];
            for (i, how) in masked.iter().enumerate().take(original.len()) {
                if *how > 0 && !matches!(original[i], b'\n' | b'\r') {
                    changed[i] = true;
                    out[i] = if *how == 1 { b' ' } else { b'x' };
                }
            }
            let mut expected = out.clone();
            mark_block_scalar_starts_by_lines(original, &changed, &mut expected);
            mark_block_scalar_starts(original, &changed, &mut out);
            proptest::prop_assert_eq!(out, expected, "{:?}", text);
        }
    }

    proptest::proptest! {
        /// The mask keeps every position: same length, line breaks where
        /// they were, and every byte outside actions and hidden ranges
        /// unchanged, whatever the values choose.
        #[test]
        fn masking_moves_nothing(
            pieces in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just("{{".to_string()),
                proptest::strategy::Just("}}".to_string()),
                proptest::strategy::Just("{{- if .Values.a }}".to_string()),
                proptest::strategy::Just("{{ if .Values.b -}}".to_string()),
                proptest::strategy::Just("{{- else }}".to_string()),
                proptest::strategy::Just("{{ else if .Values.a -}}".to_string()),
                proptest::strategy::Just("{{ end -}}".to_string()),
                proptest::strategy::Just("{{- define \"d\" }}".to_string()),
                proptest::strategy::Just("{{ .a -}}".to_string()),
                proptest::strategy::Just("{{- .b }}".to_string()),
                proptest::strategy::Just("{{ printf \\\"%s\\\" .x }}".to_string()),
                proptest::strategy::Just("\\\"".to_string()),
                proptest::strategy::Just("{{/* c\n */}}".to_string()),
                proptest::strategy::Just("\"}}\"".to_string()),
                proptest::strategy::Just("\r\n".to_string()),
                proptest::strategy::Just("\n---\n".to_string()),
                proptest::strategy::Just("key: |\n".to_string()),
                "[ a-z:\\-#\"'\n\r|.$é{}\\\\]{0,12}",
            ], 0..24),
            with_values in proptest::bool::ANY,
        ) {
            let text: String = pieces.concat();
            let values = ValuesFile::new("v", "a: true\nb: {}\n");
            let m = mask_with(&text, with_values.then_some(&values));
            proptest::prop_assert_eq!(m.text.len(), text.len());
            let mut inside = vec![false; text.len()];
            for action in &m.actions {
                inside[action.range.start..action.range.end].fill(true);
                proptest::prop_assert!(text[action.range.start..].starts_with("{{"));
                proptest::prop_assert!(text[..action.range.end].ends_with("}}"));
            }
            let mut previous_end = 0;
            for range in &m.hidden {
                proptest::prop_assert!(previous_end <= range.start && range.end <= text.len());
                previous_end = range.end;
                inside[range.start..range.end].fill(true);
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
