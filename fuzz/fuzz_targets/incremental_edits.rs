//! A text and a few edits: after each edit, `IncrementalFile` agrees with a
//! fresh `analyze` of the whole new text.
//!
//! Input: the text, then optionally a 0xFF byte (never part of UTF-8) and an
//! edit script. Without the separator the text's own bytes are the script, so
//! plain YAML seeds get edits too.
#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use tokenguard_analysis::{analyze, AccountLookup, IncrementalFile, NoAccounts, TextRange};
use tokenguard_fuzz::{check_findings, text_of, workspace};

/// Snippets that make or unmake the structure the engine cares about.
const TOKENS: &[&str] = &[
    "---\n",
    "---",
    "-",
    "...\n",
    "\n",
    "\r\n",
    "\r",
    " ",
    "  ",
    "#",
    "# tokenguard-ignore\n",
    ":",
    ": ",
    "kind: Pod\n",
    "kind: ServiceAccount\n",
    "kind: Deployment\n",
    "kind: List\nitems:\n- ",
    "apiVersion: v1\n",
    "metadata:\n  name: default\n",
    "metadata: {name: default}\n",
    "namespace: prod\n",
    "spec:\n  containers: []\n",
    "spec: {}\n",
    "template:\n  spec:\n",
    "automountServiceAccountToken: false\n",
    "automountServiceAccountToken: true",
    "serviceAccountName: api\n",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\"",
    "'",
    "|\n",
    "&a ",
    "*a",
    "!!str ",
    "%YAML 1.2\n",
    "\t",
    "\u{feff}",
    "é",
    "😀",
];

fn floor(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// One edit of `text`: the range it replaces and what it inserts.
fn next_edit(u: &mut Unstructured<'_>, text: &str) -> Result<(TextRange, String)> {
    let kind: u8 = u.arbitrary()?;
    let start = floor(text, u.arbitrary::<u16>()? as usize % (text.len() + 1));
    let removed = if kind & 0x80 != 0 {
        u.arbitrary::<u16>()? as usize
    } else {
        u.arbitrary::<u8>()? as usize % 8
    };
    let end = floor(text, start.saturating_add(removed)).max(start);
    let insert = match kind % 4 {
        0 => String::new(),
        1 => TOKENS[u.choose_index(TOKENS.len())?].to_string(),
        2 => {
            let n = u.arbitrary::<u8>()? as usize % 16;
            String::from_utf8_lossy(u.bytes(n.min(u.len()))?).into_owned()
        }
        _ => {
            // Copy and paste a piece of the text itself.
            let from = floor(text, u.arbitrary::<u16>()? as usize % (text.len() + 1));
            let to = floor(text, from + u.arbitrary::<u8>()? as usize).max(from);
            text[from..to].to_string()
        }
    };
    Ok((TextRange::new(start, end), insert))
}

/// `FUZZ_TRACE=1` prints every edit (to turn a crash into a test).
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("FUZZ_TRACE").is_some())
}

fn compare(file: &mut IncrementalFile, text: &str, lookup: &dyn AccountLookup, generation: u64) {
    let expected = analyze(text, lookup, tokenguard_analysis::Options::builtin());
    let got = file.findings(&text_of(text), lookup, generation);
    check_findings(text, &got);
    assert_eq!(got, expected, "IncrementalFile != analyze for:\n{text:?}");
}

fuzz_target!(|data: &[u8]| {
    let (text, script) = match data.iter().position(|&b| b == 0xFF) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, data),
    };
    let mut text = String::from_utf8_lossy(text).into_owned();
    let mut u = Unstructured::new(script);
    let index = workspace();
    let lookup: &dyn AccountLookup = if u.arbitrary::<bool>().unwrap_or(false) {
        &index
    } else {
        &NoAccounts
    };
    let mut generation = 0;
    let mut file = IncrementalFile::new(&text);
    if u.arbitrary::<bool>().unwrap_or(true) {
        compare(&mut file, &text, lookup, generation);
    }
    let mut pending = false;
    for _ in 0..8 {
        let Ok((range, insert)) = next_edit(&mut u, &text) else {
            break;
        };
        if trace() {
            eprintln!(
                "edit {}..{} -> {insert:?} in {text:?}",
                range.start, range.end
            );
        }
        text.replace_range(range.start..range.end, &insert);
        file.edit(range, insert.len(), text.len(), &text_of(&text));
        pending = true;
        // Several edits may come before the next look (one didChange).
        if u.arbitrary::<bool>().unwrap_or(true) {
            if u.arbitrary::<u8>().unwrap_or(0) == 7 {
                generation += 1;
            }
            compare(&mut file, &text, lookup, generation);
            pending = false;
        }
    }
    if pending {
        compare(&mut file, &text, lookup, generation);
    }
});
