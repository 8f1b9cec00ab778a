//! Reading again what yaml-rust2 refuses and Kubernetes' decoder reads.
//!
//! yaml-rust2 is strict YAML 1.2 where go-yaml v2 (the API server's decoder,
//! through sigs.k8s.io/yaml) follows libyaml. Three constructs that real
//! manifests use are read by the cluster and refused by yaml-rust2:
//!
//! * a tab between `:` and a value that starts with a letter, a digit, `_`
//!   or `-` (`replicas:\t3`);
//! * a flow collection whose items or closing bracket sit at (or left of)
//!   its key's indentation (`args: [` … `]` with `]` under `args`): libyaml
//!   does not look at indentation inside flow collections;
//! * a quoted scalar continued on lines at (or left of) its key's
//!   indentation: libyaml does not look at it either, and folds the lines
//!   the same way;
//! * a comment with no blank before its `#` right after a token
//!   (`"x"#c`, `[a]#c`, `|#c`): libyaml reads a comment there.
//!
//! Only when yaml-rust2 has refused a chunk, and only when the refusal is one
//! of these, the chunk is read again. The user's text is never changed and no
//! byte moves: the parser reads a same-length substitution of the chunk
//! (ASCII for ASCII, every line break where it was), so each event still
//! points at its byte, and the tree measures its ranges on the real text.
//!
//! * A comment that yaml-rust2 refused becomes spaces, to the end of its
//!   line.
//! * A tab right after `:` becomes a space. The substitution is kept only
//!   where the `:` turned out to separate a key from its value: a tab inside
//!   a scalar (a quoted string, a block scalar) would change the value, so it
//!   is put back.
//! * A flow collection or quoted scalar that the refusal lies in is read on
//!   its own (`[` … `]` alone is a document whose lines have no indentation
//!   to keep), and the chunk is read again with a placeholder of the same
//!   length in its place (`[]`, `{}`, `''` or `""` followed by spaces, line
//!   breaks kept). The tree builder puts the region's own events (or its
//!   value) where the placeholder's node is (`tree::build_source`); a
//!   placeholder that is not read as one node there voids the re-reading.
//!
//! Anything else the re-reading refuses is still an error, reported at its
//! exact place: the substitutions change nothing go-yaml looks at, so what
//! yaml-rust2 still refuses, go-yaml refuses too (a tab that indents a block
//! line stays an error for both). When nothing above explains the refusal the
//! first error stands unchanged.

use yaml_rust2::parser::{Event, Parser};

use crate::split::Chunk;
use crate::text::{LineIndex, TextRange};
use crate::tree::{
    build_source, ChunkResult, Document, Failure, MarkerMapper, NodeKind, Refusal, Splice, Spliced,
    TScalarStyle,
};

/// yaml-rust2's refusal of a tab between `:` and a value.
pub(crate) const TAB_AFTER_COLON: &str = "':' must be followed by a valid YAML whitespace";

/// yaml-rust2's refusal of a comment whose `#` follows a token directly.
pub(crate) const UNSEPARATED_COMMENT: &str =
    "comments must be separated from other tokens by whitespace";

/// yaml-rust2's refusals of a line's indentation: explained when they fall in
/// a flow collection or a quoted scalar.
const INDENTATION: [&str; 5] = [
    "invalid indentation",
    "invalid indentation in flow construct",
    "tabs disallowed within this context (block indentation)",
    "invalid indentation in quoted scalar",
    "tab cannot be used as indentation",
];

/// Regions read on their own, at most, per chunk (each costs a reading of
/// the chunk): past it the refusal stands.
const MAX_REGIONS: usize = 64;

/// Anchors of a region read on its own are numbered by its own parser; they
/// are moved out of the chunk parser's range, region by region.
const ANCHOR_SPAN: usize = 1 << 20;

/// Reads `chunk` again after yaml-rust2's `first` refusal (see the module's
/// documentation): its documents when every refusal was explained, else the
/// error that stands.
pub(crate) fn reread(text: &str, index: &LineIndex, chunk: Chunk, first: Refusal) -> ChunkResult {
    let base = chunk.range.start;
    let original = &text[chunk.range.start..chunk.range.end];
    let first_error = first.error.clone();
    let mut tabs: Option<Vec<usize>> = None;
    // Regions read on their own, as (first byte, one past the last), in
    // text order.
    let mut regions: Vec<(usize, usize)> = Vec::new();
    // The `#` of comments to blank, in text order.
    let mut comments: Vec<usize> = Vec::new();
    // Quoted scalars shaped like the first one explained, read on their own
    // too (one reading for all of a CRD's descriptions instead of one
    // each); dropped at the first doubt.
    let mut guessed: Vec<(usize, usize)> = Vec::new();
    let mut may_guess = true;
    let mut refusal = first;
    let mut readings = 0;
    loop {
        // Explain the refusal, or let it stand.
        let message = refusal.error.message.as_str();
        if message == TAB_AFTER_COLON && tabs.is_none() && tabs_after_colon(text, base, refusal.at)
        {
            tabs = Some(tab_candidates(text, chunk));
        } else if message == UNSEPARATED_COMMENT
            && text.as_bytes().get(refusal.at) == Some(&b'#')
            && !comments.contains(&refusal.at)
            && regions.len() + comments.len() < MAX_REGIONS
        {
            let at = comments.partition_point(|&c| c < refusal.at);
            comments.insert(at, refusal.at);
        } else if INDENTATION.contains(&message) && regions.len() + comments.len() < MAX_REGIONS {
            match region(text, chunk, &refusal) {
                Some((open, end)) if !regions.iter().any(|&(o, e)| o < end && open < e) => {
                    let at = regions.partition_point(|&(o, _)| o < open);
                    regions.insert(at, (open, end));
                    guessed.retain(|&(o, e)| !(o < end && open < e));
                    if may_guess && matches!(text.as_bytes()[open], b'"' | b'\'') {
                        may_guess = false;
                        guessed = quoted_like(text.as_bytes(), chunk, end);
                    }
                }
                _ => return ChunkResult::Error(refusal.error),
            }
        } else {
            return ChunkResult::Error(refusal.error);
        }
        // Read again, until a refusal needs explaining.
        loop {
            readings += 1;
            if readings > MAX_REGIONS + 8 {
                return ChunkResult::Error(first_error);
            }
            let tabbed = substitute(original, base, tabs.as_deref(), &comments, &[]);
            let mut all = regions.clone();
            all.extend_from_slice(&guessed);
            all.sort_unstable();
            let splices = match read_regions(&tabbed, index, chunk, &all) {
                Ok(splices) => splices,
                Err(_) if !guessed.is_empty() => {
                    guessed.clear();
                    continue;
                }
                // A region's own text may hold a tab after a `:` or a
                // comment right after a token too.
                Err(Some((_, message))) if message == TAB_AFTER_COLON && tabs.is_none() => {
                    tabs = Some(tab_candidates(text, chunk));
                    continue;
                }
                Err(Some((at, message)))
                    if message == UNSEPARATED_COMMENT
                        && text.as_bytes().get(at) == Some(&b'#')
                        && !comments.contains(&at)
                        && regions.len() + comments.len() < MAX_REGIONS =>
                {
                    let i = comments.partition_point(|&c| c < at);
                    comments.insert(i, at);
                    continue;
                }
                Err(_) => return ChunkResult::Error(refusal.error),
            };
            let source = substitute(&tabbed, base, None, &[], &splices);
            match build_source(text, index, chunk, &source, &splices) {
                Ok(docs) => {
                    if spans_lines_to_colon(text, &docs, &all) {
                        return ChunkResult::Error(refusal.error);
                    }
                    let Some(candidates) = tabs.as_mut() else {
                        return ChunkResult::Documents(docs);
                    };
                    let misplaced = in_scalars(&docs, candidates);
                    if misplaced.is_empty() {
                        return ChunkResult::Documents(docs);
                    }
                    candidates.retain(|p| !misplaced.contains(p));
                }
                Err(Failure::Scan(_) | Failure::Unverified) if !guessed.is_empty() => {
                    guessed.clear();
                }
                Err(Failure::Scan(next)) => {
                    refusal = next;
                    break;
                }
                Err(Failure::Final(error)) => return ChunkResult::Error(error),
                // A guess that did not hold: nothing is explained.
                Err(Failure::Unverified) => return ChunkResult::Error(first_error),
            }
        }
    }
}

/// After `from`, the quoted scalars that, like a refused one, are the value
/// of a plain key (`key: "…` or `- key: '…`) and continue on lines indented
/// no deeper than the key.
fn quoted_like(bytes: &[u8], chunk: Chunk, from: usize) -> Vec<(usize, usize)> {
    let limit = chunk.range.end;
    let mut found = Vec::new();
    let mut line = from;
    while line < limit {
        let line_end = line
            + bytes[line..limit]
                .iter()
                .position(|&b| matches!(b, b'\n' | b'\r'))
                .unwrap_or(limit - line);
        let mut key = line;
        while key < line_end && bytes[key] == b' ' {
            key += 1;
        }
        while bytes.get(key..key + 2) == Some(b"- ") {
            key += 2;
        }
        let colon = bytes[key..line_end]
            .windows(3)
            .position(|w| w[0] == b':' && w[1] == b' ' && matches!(w[2], b'"' | b'\''));
        let plain_key = |k: &[u8]| {
            !k.is_empty()
                && k.iter().all(|b| {
                    !matches!(
                        b,
                        b'"' | b'\'' | b'#' | b':' | b'{' | b'[' | b'&' | b'*' | b'!'
                    )
                })
        };
        if let Some(colon) = colon
            .map(|c| key + c)
            .filter(|&c| plain_key(&bytes[key..c]))
        {
            let open = colon + 2;
            if let Some(end) = quoted_end(bytes, open, limit, bytes[open]).filter(|&e| e > line_end)
            {
                let column = key - line;
                let mut next = line_end;
                let mut shallow = false;
                while next < end {
                    while next < end && matches!(bytes[next], b'\n' | b'\r') {
                        next += 1;
                    }
                    let indent = bytes[next..end].iter().take_while(|&&b| b == b' ').count();
                    let content = bytes
                        .get(next + indent)
                        .is_some_and(|b| !matches!(b, b'\n' | b'\r'));
                    shallow |= content && indent <= column;
                    next += bytes[next..end]
                        .iter()
                        .position(|&b| matches!(b, b'\n' | b'\r'))
                        .unwrap_or(end - next);
                }
                if shallow {
                    found.push((open, end));
                }
                line = end;
                continue;
            }
        }
        line = line_end;
        while line < limit && matches!(bytes[line], b'\n' | b'\r') {
            line += 1;
        }
    }
    found
}

/// Whether a flow mapping of a region has a key whose `:` is on a later
/// line: yaml-rust2 reads it in a document of its own, go-yaml never ("did
/// not find expected ',' or '}'").
fn spans_lines_to_colon(text: &str, docs: &[Document], regions: &[(usize, usize)]) -> bool {
    let bytes = text.as_bytes();
    let in_region = |at: usize| regions.iter().any(|&(open, end)| open <= at && at < end);
    docs.iter().any(|doc| {
        doc.nodes.iter().any(|node| match &node.kind {
            NodeKind::Mapping {
                flow: true,
                entries,
            } if in_region(node.range.start) => entries.iter().any(|&(key, _)| {
                let key = doc.node(key).range;
                let colon = bytes[key.end..node.range.end]
                    .iter()
                    .position(|&b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                    .map_or(node.range.end, |n| key.end + n);
                bytes[key.start..colon]
                    .iter()
                    .any(|&b| matches!(b, b'\n' | b'\r'))
            }),
            _ => false,
        })
    })
}

/// Each region read on its own from the chunk's (substituted) text; else
/// where and why one was refused, when it was.
fn read_regions(
    tabbed: &str,
    index: &LineIndex,
    chunk: Chunk,
    regions: &[(usize, usize)],
) -> Result<Vec<Splice>, Option<(usize, String)>> {
    regions
        .iter()
        .enumerate()
        .map(|(number, &(open, end))| read_alone(tabbed, index, chunk, open, end, number))
        .collect()
}

/// Whether the byte before `at` ends a run of tabs right after a `:`.
fn tabs_after_colon(text: &str, base: usize, at: usize) -> bool {
    let bytes = text.as_bytes();
    let mut i = at;
    while i > base && bytes[i - 1] == b'\t' {
        i -= 1;
    }
    i < at && i > base && bytes[i - 1] == b':' && ends_a_key(bytes, base, i - 1)
}

/// Whether the `:` at `colon` has a key before it on its line. After the
/// `:` of an explicit key (`? k` then `:` first on the next line) go-yaml
/// takes no tab either ("found character that cannot start any token").
fn ends_a_key(bytes: &[u8], base: usize, colon: usize) -> bool {
    let line = &bytes[base..colon];
    let line = match line.iter().rposition(|&b| matches!(b, b'\n' | b'\r')) {
        Some(at) => &line[at + 1..],
        None => line,
    };
    let Some(last) = line.iter().rposition(|&b| !matches!(b, b' ' | b'\t')) else {
        return false;
    };
    // An indicator standing alone (`: :`, `? :`, `- :`) is no key either.
    let alone = matches!(line[last], b':' | b'?' | b'-')
        && (last == 0 || matches!(line[last - 1], b' ' | b'\t'))
        && last + 1 < line.len();
    !alone
}

/// Every tab right after a `:` that ends a key and followed (after more
/// tabs) by what yaml-rust2 refuses there: a letter, a digit, `_` or `-`.
fn tab_candidates(text: &str, chunk: Chunk) -> Vec<usize> {
    let bytes = &text.as_bytes()[..chunk.range.end];
    let mut found = Vec::new();
    let mut i = chunk.range.start + 1;
    while i < bytes.len() {
        if bytes[i] == b'\t' && bytes[i - 1] == b':' && ends_a_key(bytes, chunk.range.start, i - 1)
        {
            let after = bytes[i..].iter().position(|&b| b != b'\t').map(|n| i + n);
            if after.is_some_and(
                |a| matches!(bytes[a], b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'-'),
            ) {
                found.push(i);
            }
        }
        i += 1;
    }
    found
}

/// The tabs of `candidates` that lie inside a scalar's text: there the
/// substitution would change the value.
fn in_scalars(docs: &[Document], candidates: &[usize]) -> Vec<usize> {
    let mut misplaced = Vec::new();
    for node in docs.iter().flat_map(|doc| doc.nodes.iter()) {
        if let NodeKind::Scalar { .. } = node.kind {
            let TextRange { start, end } = node.range;
            let first = candidates.partition_point(|&p| p <= start);
            misplaced.extend(candidates[first..].iter().take_while(|&&p| p < end));
        }
    }
    misplaced
}

/// The chunk's text with a space for each tab of `tabs`, spaces for each
/// comment of `comments` (to the end of its line) and a placeholder
/// for each region of `splices`: spaces, line breaks kept, after its
/// opening and closing characters side by side, or after an `x` when its
/// first line holds nothing more.
fn substitute(
    original: &str,
    base: usize,
    tabs: Option<&[usize]>,
    comments: &[usize],
    splices: &[Splice],
) -> String {
    let mut bytes = original.as_bytes().to_vec();
    for &p in tabs.unwrap_or_default() {
        bytes[p - base] = b' ';
    }
    for &p in comments {
        for b in bytes[p - base..]
            .iter_mut()
            .take_while(|b| !matches!(b, b'\n' | b'\r'))
        {
            *b = b' ';
        }
    }
    for splice in splices {
        let (open, end) = (splice.open - base, splice.end - base);
        let (first, second) = match bytes[open] {
            b'[' => (b'[', b']'),
            b'{' => (b'{', b'}'),
            quote => (quote, quote),
        };
        for b in &mut bytes[open..end] {
            if !matches!(*b, b'\n' | b'\r') {
                *b = b' ';
            }
        }
        if splice.single {
            bytes[open] = b'x';
        } else {
            bytes[open] = first;
            bytes[open + 1] = second;
        }
    }
    // Only ASCII was written, over ASCII or over whole characters (every
    // byte of a region's inside but its line breaks): still UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|_| original.to_string())
}

/// The flow collection or quoted scalar the refusal lies in, as (its first
/// byte, one past its last).
fn region(text: &str, chunk: Chunk, refusal: &Refusal) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let limit = chunk.range.end;
    let open = match refusal.open_flow {
        Some(open) => open,
        // A quoted scalar's refusal points at its opening quote.
        None if refusal.error.message == "invalid indentation in quoted scalar"
            && matches!(bytes.get(refusal.at), Some(b'"' | b'\'')) =>
        {
            refusal.at
        }
        None => enclosing(bytes, refusal.last_event, refusal.at)?,
    };
    let end = match bytes[open] {
        b'[' | b'{' => flow_end(bytes, open, limit)?,
        quote => quoted_end(bytes, open, limit, quote)?,
    };
    (open <= refusal.at && refusal.at < end).then_some((open, end))
}

/// The outermost flow collection still open at `at`, or else the quoted
/// scalar `at` is in, lexing from `from` (where a token starts, outside any
/// flow collection).
fn enclosing(bytes: &[u8], from: usize, at: usize) -> Option<usize> {
    let mut open: Vec<usize> = Vec::new();
    let mut quote: Option<usize> = None;
    let mut i = from;
    while i < at {
        let b = bytes[i];
        if let Some(q) = quote {
            match (bytes[q], b) {
                (b'"', b'\\') => i += 1,
                (b'"', b'"') => quote = None,
                (b'\'', b'\'') if bytes.get(i + 1) == Some(&b'\'') => i += 1,
                (b'\'', b'\'') => quote = None,
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'#' if i == from || matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'\r') => {
                while i < at && !matches!(bytes[i], b'\n' | b'\r') {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' if i == from || starts_token(bytes, from, i, !open.is_empty()) => {
                quote = Some(i);
            }
            b'[' | b'{' if i == from || starts_token(bytes, from, i, !open.is_empty()) => {
                open.push(i);
            }
            b']' | b'}' if !open.is_empty() => {
                open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    open.first().copied().or(quote)
}

/// Whether a token can start at `i`: first on its line, or after an
/// indicator (`: `, `- `, `? `, or in a flow collection `[`, `{`, `,`), or
/// after an anchor or a tag.
fn starts_token(bytes: &[u8], from: usize, i: usize, in_flow: bool) -> bool {
    let mut j = i;
    while j > from && matches!(bytes[j - 1], b' ' | b'\t') {
        j -= 1;
    }
    if j == from || matches!(bytes[j - 1], b'\n' | b'\r') {
        return true;
    }
    let blank = j < i;
    match bytes[j - 1] {
        b'[' | b'{' | b',' if in_flow => true,
        b':' | b'-' | b'?' => blank || in_flow,
        _ if blank => {
            // An anchor or a tag before it.
            let mut k = j;
            while k > from && !matches!(bytes[k - 1], b' ' | b'\t' | b'\n' | b'\r') {
                k -= 1;
            }
            matches!(bytes[k], b'&' | b'!')
        }
        _ => false,
    }
}

/// One past the bracket that closes the flow collection opened at `open`.
fn flow_end(bytes: &[u8], open: usize, limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < limit {
        match bytes[i] {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'#' if matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'\r') => {
                while i < limit && !matches!(bytes[i], b'\n' | b'\r') {
                    i += 1;
                }
                continue;
            }
            quote @ (b'"' | b'\'') if starts_token(bytes, open, i, true) => {
                i = quoted_end(bytes, i, limit, quote)?;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// One past the quote that closes the quoted scalar opened at `open`.
fn quoted_end(bytes: &[u8], open: usize, limit: usize, quote: u8) -> Option<usize> {
    let mut i = open + 1;
    while i < limit {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 1,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 1,
            b if b == quote => return Some(i + 1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Reads `open..end` of the (substituted) chunk as a document of its own:
/// it must be exactly one node, a flow collection or a quoted scalar. A
/// refusal is given with its place and message.
fn read_alone(
    tabbed: &str,
    index: &LineIndex,
    chunk: Chunk,
    open: usize,
    end: usize,
    number: usize,
) -> Result<Splice, Option<(usize, String)>> {
    let base = chunk.range.start;
    let source = tabbed.get(open - base..end - base).ok_or(None)?;
    let region = Chunk {
        range: TextRange::new(open, end),
        first_line: index.line_of(open),
        ..chunk
    };
    let mut mapper = MarkerMapper::over(source, index, region);
    let mut parser = Parser::new_from_str(source);
    let shift = ANCHOR_SPAN.checked_mul(number + 1).ok_or(None)?;
    let mut events = Vec::new();
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(token) => token,
            Err(error) => {
                let at = mapper.offset(*error.marker());
                return Err(Some((at, error.info().to_string())));
            }
        };
        let at = mapper.offset(mark);
        let event = match event {
            Event::StreamStart | Event::DocumentStart | Event::DocumentEnd | Event::Nothing => {
                continue
            }
            Event::StreamEnd => break,
            Event::Scalar(value, style, anchor, tag) => {
                Event::Scalar(value, style, moved(anchor, shift), tag)
            }
            Event::SequenceStart(anchor, tag) => Event::SequenceStart(moved(anchor, shift), tag),
            Event::MappingStart(anchor, tag) => Event::MappingStart(moved(anchor, shift), tag),
            Event::Alias(anchor) => Event::Alias(moved(anchor, shift)),
            event => event,
        };
        events.push((event, at));
    }
    let content = match events.as_slice() {
        [(Event::Scalar(value, style, ..), at)]
            if *at == open
                && matches!(
                    style,
                    TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted
                ) =>
        {
            Spliced::Scalar(value.clone(), *style)
        }
        // (After a trailing comma yaml-rust2 marks the end at the comma:
        // the builder is given the bracket.)
        [(Event::SequenceStart(..), first), .., (Event::SequenceEnd, _)]
        | [(Event::MappingStart(..), first), .., (Event::MappingEnd, _)]
            if *first == open =>
        {
            events.pop();
            events.remove(0);
            Spliced::Flow(events)
        }
        _ => return Err(None),
    };
    // The placeholder's two characters fit when the region's first line
    // holds more than its first character.
    let single = matches!(
        tabbed.as_bytes().get(open + 1 - base),
        None | Some(b'\n' | b'\r')
    );
    Ok(Splice {
        single,
        open,
        end,
        content,
    })
}

fn moved(anchor: usize, shift: usize) -> usize {
    if anchor == 0 {
        0
    } else {
        anchor + shift
    }
}

#[cfg(test)]
mod tests {
    //! Each expected value is what go-yaml v2 decodes from the same text
    //! (checked with a throwaway decoder program over gopkg.in/yaml.v2).

    use crate::tree::{Document, NodeId, NodeKind};
    use crate::{parse, Code, Options};

    fn documents(text: &str) -> (Vec<Document>, Vec<String>) {
        let parsed = parse(text, Options::builtin());
        let errors = parsed
            .syntax_errors
            .iter()
            .map(|e| format!("{}..{} {}", e.range.start, e.range.end, e.message))
            .collect();
        (parsed.documents, errors)
    }

    /// The document as a compact value: scalars in Rust's debug quotes,
    /// collections in source order.
    fn show(doc: &Document, id: NodeId) -> String {
        match &doc.node(id).kind {
            NodeKind::Scalar { value, .. } => format!("{value:?}"),
            NodeKind::Mapping { entries, .. } => {
                let entries: Vec<String> = entries
                    .iter()
                    .map(|&(k, v)| format!("{}: {}", show(doc, k), show(doc, v)))
                    .collect();
                format!("{{{}}}", entries.join(", "))
            }
            NodeKind::Sequence { items, .. } => {
                let items: Vec<String> = items.iter().map(|&i| show(doc, i)).collect();
                format!("[{}]", items.join(", "))
            }
            NodeKind::Alias { target } => match target {
                Some(t) => format!("*{}", show(doc, *t)),
                None => "*?".to_string(),
            },
        }
    }

    /// Every node's text, in node order (as the tree gives their ranges).
    fn texts<'t>(text: &'t str, doc: &Document) -> Vec<&'t str> {
        doc.nodes
            .iter()
            .map(|n| &text[n.range.start..n.range.end])
            .collect()
    }

    fn read(text: &str) -> (Document, String) {
        let (docs, errors) = documents(text);
        assert_eq!(errors, Vec::<String>::new(), "{text:?}");
        assert_eq!(docs.len(), 1);
        let doc = docs.into_iter().next().unwrap();
        let shown = show(&doc, doc.root.unwrap());
        (doc, shown)
    }

    fn refused(text: &str) -> Vec<String> {
        let (_, errors) = documents(text);
        assert_eq!(errors.len(), 1, "{text:?}");
        errors
    }

    #[test]
    fn a_tab_after_a_colon_separates_like_a_space() {
        let text = "kind: Pod\nspec:\n  replicas:\t3\n  automountServiceAccountToken:\t\tfalse\n  m: {a:\t1, b: [c:\tx]}\n  s:\n  - a:\t-1\n";
        let (doc, shown) = read(text);
        assert_eq!(
            shown,
            r#"{"kind": "Pod", "spec": {"replicas": "3", "automountServiceAccountToken": "false", "m": {"a": "1", "b": [{"c": "x"}]}, "s": [{"a": "-1"}]}}"#
        );
        let texts = texts(text, &doc);
        for word in ["3", "false", "1", "x", "-1"] {
            let at = text.find(&format!("\t{word}")).unwrap() + 1;
            let node = doc
                .nodes
                .iter()
                .find(|n| n.range.start == at)
                .unwrap_or_else(|| panic!("no node at {at} for {word}"));
            assert_eq!(&text[node.range.start..node.range.end], word);
        }
        assert!(texts.contains(&"{a:\t1, b: [c:\tx]}"));
    }

    #[test]
    fn a_tab_after_a_colon_inside_a_scalar_stays_a_tab() {
        let text = "kind: Pod\nd: \"a:\tb\"\ne:\tx\nl: |\n  c:\td\n# f:\tg\n";
        let (_, shown) = read(text);
        assert_eq!(
            shown,
            r#"{"kind": "Pod", "d": "a:\tb", "e": "x", "l": "c:\td\n"}"#
        );
    }

    #[test]
    fn a_workload_with_a_tab_after_the_colon_is_judged() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  automountServiceAccountToken:\tfalse\n  containers:\n  - name:\ta\n";
        let findings = crate::analyze(text, &crate::NoAccounts, Options::builtin());
        assert_eq!(findings, []);
        let text = text.replace("false", "true");
        let findings = crate::analyze(&text, &crate::NoAccounts, Options::builtin());
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].code, Code::TG001);
        let at = text.find("true").unwrap();
        assert_eq!(
            (findings[0].range.start, findings[0].range.end),
            (at, at + 4)
        );
    }

    #[test]
    fn a_tab_that_indents_or_a_block_sequence_after_a_tab_stays_an_error() {
        // go-yaml: "found character that cannot start any token".
        assert_eq!(
            refused("kind: Pod\nspec:\n\tb: 1\n"),
            ["17..18 tabs disallowed within this context (block indentation)"]
        );
        // go-yaml: "block sequence entries are not allowed in this context".
        let errors = refused("kind: Pod\nspec:\n  a:\t- 1\n");
        assert!(errors[0].contains("block sequence entries"), "{errors:?}");
    }

    #[test]
    fn a_flow_collection_may_close_at_its_key_indentation() {
        let text = "kind: Pod\nspec:\n  args: [\n    \"-a\", \"b\",\n  c,\n  ]\n  cmd: [\"sh\",\n  \"-c\"]\n  m: {\n  k: v }\n  n: 1\n";
        let (doc, shown) = read(text);
        assert_eq!(
            shown,
            r#"{"kind": "Pod", "spec": {"args": ["-a", "b", "c"], "cmd": ["sh", "-c"], "m": {"k": "v"}, "n": "1"}}"#
        );
        let texts = texts(text, &doc);
        assert!(
            texts.contains(&"[\n    \"-a\", \"b\",\n  c,\n  ]"),
            "{texts:?}"
        );
        assert!(texts.contains(&"[\"sh\",\n  \"-c\"]"), "{texts:?}");
        assert!(texts.contains(&"{\n  k: v }"), "{texts:?}");
        for word in ["\"-a\"", "\"b\"", "c", "\"-c\"", "k", "v"] {
            assert!(texts.contains(&word), "{word} in {texts:?}");
        }
    }

    #[test]
    fn a_hundred_quoted_scalars_at_their_key_indentation_are_read_at_once() {
        let mut text = String::from("kind: Pod\nspec:\n");
        for i in 0..100 {
            text.push_str(&format!("  d{i}: 'line {i}\n  and more'\n"));
        }
        // Shaped like one, but text of a block scalar: not a region.
        text.push_str("  l: |\n    k: 'not\n    closed here\n  e: \"x\n  y\"\n");
        let (doc, shown) = read(&text);
        assert!(shown.contains(r#""d0": "line 0 and more""#), "{shown}");
        assert!(shown.contains(r#""d99": "line 99 and more""#), "{shown}");
        assert!(
            shown.ends_with(r#""l": "k: 'not\nclosed here\n", "e": "x y"}}"#),
            "{shown}"
        );
        let texts = texts(&text, &doc);
        assert!(texts.contains(&"'line 99\n  and more'"), "{texts:?}");
    }

    #[test]
    fn anchors_and_aliases_inside_a_region_read_alone_resolve() {
        let text = "kind: Pod\nspec:\n  a: &s [&x 1,\n  *x]\n  b: *s\n";
        let (_, shown) = read(text);
        assert_eq!(
            shown,
            r#"{"kind": "Pod", "spec": {"a": ["1", *"1"], "b": *["1", *"1"]}}"#
        );
    }

    #[test]
    fn a_quoted_scalar_may_continue_at_its_key_indentation() {
        let text =
            "kind: Pod\nspec:\n  d: \"x\n  \n  y\\\n  z\"\n  s: 'it''s\n  here'\n  t: \"a\n\tb\"\n";
        let (doc, shown) = read(text);
        assert_eq!(
            shown,
            r#"{"kind": "Pod", "spec": {"d": "x\nyz", "s": "it's here", "t": "a b"}}"#
        );
        let texts = texts(text, &doc);
        assert!(texts.contains(&"\"x\n  \n  y\\\n  z\""), "{texts:?}");
        assert!(texts.contains(&"'it''s\n  here'"), "{texts:?}");
        assert!(texts.contains(&"\"a\n\tb\""), "{texts:?}");
    }

    #[test]
    fn a_comment_right_after_a_token_is_a_comment() {
        let text = "kind: Pod\nspec:\n  a: [b]#c\n  d: \"x\"#é\n  e: |#c\n    y\n  f: [g,#c\n  h]\n  i: {j: 'k'#x\n    }\n";
        let (doc, shown) = read(text);
        assert_eq!(
            shown,
            r#"{"kind": "Pod", "spec": {"a": ["b"], "d": "x", "e": "y\n", "f": ["g", "h"], "i": {"j": "k"}}}"#
        );
        let texts = texts(text, &doc);
        for expected in ["[b]", "\"x\"", "|#c\n    y", "[g,#c\n  h]", "'k'", "h"] {
            assert!(texts.contains(&expected), "{expected:?} in {texts:?}");
        }
    }

    #[test]
    fn what_go_yaml_refuses_in_a_flow_collection_is_still_refused() {
        // go-yaml: "did not find expected node content" (both).
        let errors = refused("kind: Pod\nspec:\n  a: [\n- 1]\n");
        assert!(errors[0].contains("invalid indentation"), "{errors:?}");
        let errors = refused("kind: Pod\nspec:\n  a: [\n  1,\n");
        assert!(errors[0].contains("invalid indentation"), "{errors:?}");
        // A flow mapping's key with its `:` on a later line (the YAML test
        // suite's VJP3): "did not find expected ',' or '}'".
        let errors = refused("kind: Pod\nspec:\n  k: {\n  k\n  :\n  v\n  }\n");
        assert!(errors[0].contains("invalid indentation"), "{errors:?}");
        // A tab after an explicit key's `:` (Y79Y/007): "found character
        // that cannot start any token".
        let errors = refused("kind: Pod\n? -\n:\t-\n");
        assert!(errors[0].contains("':' must be followed"), "{errors:?}");
        // Nor after a colon that follows an indicator ("found character
        // that cannot start any token").
        let errors = refused("kind: Pod\nspec:\n  : :\t-\n");
        assert!(errors[0].contains("':' must be followed"), "{errors:?}");
    }
}
