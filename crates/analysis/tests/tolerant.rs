//! The tolerant re-reading (`tolerant.rs`) never moves a position: text
//! that yaml-rust2 reads, rewritten into what only Kubernetes' decoder reads
//! (a tab after a colon; a flow collection's or quoted scalar's lines moved
//! left, down to and past their key's indentation; a comment's `#` right
//! after a closing quote or bracket) without moving any byte of content,
//! gives the same tree: the same nodes, values and ranges.

use proptest::prelude::*;
use tokenguard_analysis::{parse, Document, Options};

/// One entry of the generated pod spec.
#[derive(Clone, Debug)]
enum Entry {
    /// `key: value` with the value a word.
    Word(String),
    /// A flow sequence or mapping over several lines, each a list of words.
    Flow {
        mapping: bool,
        lines: Vec<Vec<String>>,
    },
    /// A quoted scalar over several lines of words.
    Quoted {
        double: bool,
        lines: Vec<Vec<String>>,
    },
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_-]{0,5}",
        "[0-9]{1,3}",
        "-[0-9]{1,2}",
        "_[a-z]{1,3}",
    ]
}

fn lines() -> impl Strategy<Value = Vec<Vec<String>>> {
    prop::collection::vec(prop::collection::vec(word(), 1..3), 1..4)
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        word().prop_map(Entry::Word),
        (any::<bool>(), lines()).prop_map(|(mapping, lines)| Entry::Flow { mapping, lines }),
        (any::<bool>(), lines()).prop_map(|(double, lines)| Entry::Quoted { double, lines }),
    ]
}

/// The pod spec, every continuation line indented deeper than its key
/// (what yaml-rust2 reads), and the offsets of the `: ` that separate a key
/// from a word value, of each continuation line's first byte and of the
/// blank before each comment that follows a closing quote or bracket.
fn render(entries: &[Entry], in_sequence: bool) -> (String, Vec<usize>, Vec<usize>, Vec<usize>) {
    let mut text = String::from("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n");
    let indent = if in_sequence {
        text.push_str("  containers:\n  - name: c\n");
        "    "
    } else {
        "  "
    };
    let mut colons = Vec::new();
    let mut continuations = Vec::new();
    let mut comments = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        text.push_str(indent);
        text.push_str(&format!("k{i}"));
        match entry {
            Entry::Word(word) => {
                colons.push(text.len());
                text.push_str(&format!(": {word}\n"));
            }
            Entry::Flow { mapping, lines } => {
                let (open, close) = if *mapping { ('{', '}') } else { ('[', ']') };
                text.push_str(&format!(": {open}"));
                let mut n = 0;
                for line in lines {
                    text.push('\n');
                    continuations.push(text.len());
                    text.push_str(indent);
                    text.push_str("      ");
                    let items: Vec<String> = line
                        .iter()
                        .map(|w| {
                            n += 1;
                            if *mapping {
                                format!("m{n}: {w}")
                            } else {
                                w.clone()
                            }
                        })
                        .collect();
                    text.push_str(&items.join(", "));
                    text.push(',');
                }
                text.push('\n');
                continuations.push(text.len());
                text.push_str(indent);
                text.push_str(&format!("    {close}"));
                comments.push(text.len());
                text.push_str(" #c\n");
            }
            Entry::Quoted { double, lines } => {
                let quote = if *double { '"' } else { '\'' };
                text.push_str(&format!(": {quote}start"));
                for line in lines {
                    text.push('\n');
                    continuations.push(text.len());
                    text.push_str(indent);
                    text.push_str("      ");
                    text.push_str(&line.join(" "));
                }
                text.push(quote);
                comments.push(text.len());
                text.push_str(" #c\n");
            }
        }
    }
    (text, colons, continuations, comments)
}

/// Moves `shift` spaces of the indentation of the line starting at `line`
/// to the end of the line before: no byte of content moves.
fn dedent(text: &mut String, line: usize, shift: usize) {
    let spaces = text[line..].bytes().take_while(|&b| b == b' ').count();
    let shift = shift.min(spaces);
    let mut bytes = std::mem::take(text).into_bytes();
    // The line break before `line` moves right by `shift`.
    bytes.copy_within(line - 1..line, line - 1 + shift);
    for b in &mut bytes[line - 1..line - 1 + shift] {
        *b = b' ';
    }
    *text = String::from_utf8(bytes).expect("ASCII");
}

fn documents(text: &str) -> Vec<Document> {
    let parsed = parse(text, Options::builtin());
    assert!(
        parsed.syntax_errors.is_empty(),
        "{text}\n{:?}",
        parsed.syntax_errors
    );
    parsed.documents
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_tolerated_text_reads_as_the_strict_one(
        entries in prop::collection::vec(entry(), 1..6),
        in_sequence in any::<bool>(),
        tabs in prop::collection::vec(any::<bool>(), 6),
        shifts in prop::collection::vec(0usize..12, 32),
        glued in prop::collection::vec(any::<bool>(), 6),
    ) {
        let (strict, colons, continuations, comments) = render(&entries, in_sequence);
        let expected = documents(&strict);
        let mut tolerated = strict.clone();
        for (colon, tab) in colons.iter().zip(&tabs) {
            if *tab {
                tolerated.replace_range(colon + 1..colon + 2, "\t");
            }
        }
        for (blank, glue) in comments.iter().zip(&glued) {
            if *glue {
                tolerated.replace_range(*blank..*blank + 3, "#c ");
            }
        }
        for (line, shift) in continuations.iter().zip(&shifts) {
            dedent(&mut tolerated, *line, *shift);
        }
        prop_assert_eq!(tolerated.len(), strict.len());
        let actual = documents(&tolerated);
        prop_assert_eq!(actual, expected, "{}", tolerated);
    }
}
