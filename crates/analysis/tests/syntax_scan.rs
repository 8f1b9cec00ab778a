//! The fast path of `syntax_scan.rs` is sound: whatever it calls "certainly
//! valid", yaml-rust2 reads without an error and nests no deeper than
//! `MAX_DEPTH`. Checked over every document of `../shared/corpus` and every
//! input of `../shared/yaml-test-suite` (skipped with a message when
//! `../shared` is missing; `TOKENGUARD_REQUIRE_SHARED=1` makes that a
//! failure), over a few built-in documents, and over seeded mutations of
//! all of them: characters that matter to YAML inserted, deleted or
//! replaced, lines indented, dedented, duplicated or dropped.

use std::path::{Path, PathBuf};

use tokenguard_analysis::syntax_scan::{certainly_valid, coverage, outline_agrees};
use tokenguard_analysis::tree::MAX_DEPTH;
use yaml_rust2::parser::{Event, Parser};

/// What `validate_chunk` asks of yaml-rust2: every event read, nesting
/// within `MAX_DEPTH`.
fn yaml_rust2_accepts(text: &str) -> bool {
    let mut parser = Parser::new_from_str(text);
    let mut depth = 0usize;
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => return true,
            Ok((Event::MappingStart(..) | Event::SequenceStart(..), _)) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return false;
                }
            }
            Ok((Event::MappingEnd | Event::SequenceEnd, _)) => depth = depth.saturating_sub(1),
            Ok(_) => {}
            Err(_) => return false,
        }
    }
}

/// Asserts soundness on `text`; returns whether the fast path was sure.
fn check(text: &str, origin: &str) -> bool {
    if !certainly_valid(text) {
        return false;
    }
    assert!(
        yaml_rust2_accepts(text),
        "certainly_valid said yes, yaml-rust2 refuses ({origin}):\n{text}"
    );
    // The region path's outline, recorded on the way, is yaml-rust2's
    // (or not recorded: left to yaml-rust2).
    assert_ne!(
        outline_agrees(text),
        Some(false),
        "the outline differs from yaml-rust2's ({origin}):\n{text}"
    );
    true
}

fn shared_dir(test: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("TOKENGUARD_REQUIRE_SHARED").is_some_and(|v| v == "1") {
        panic!("{test}: {} is missing", dir.display());
    }
    eprintln!(
        "SKIPPED {test}: {} not found (it exists only in CI and on developer machines)",
        dir.display()
    );
    None
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_under(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "upstream")
        {
            out.push(path);
        }
    }
}

fn texts_under(dir: &Path) -> Vec<(String, String)> {
    let mut paths = Vec::new();
    files_under(dir, &mut paths);
    paths
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            Some((p.display().to_string(), text))
        })
        .collect()
}

/// The documents of `text`, cut at `---` and `...` lines as `split.rs`
/// cuts them (the marker line starts the next piece).
fn documents(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    let bytes = text.as_bytes();
    while pos < bytes.len() {
        let end = memchr_line_end(bytes, pos);
        let line = &bytes[pos..end];
        let marker = (line.starts_with(b"---") || line.starts_with(b"..."))
            && line
                .get(3)
                .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\r'));
        if marker && pos > start {
            pieces.push(&text[start..pos]);
            start = pos;
        }
        pos = (end + 1).min(bytes.len());
    }
    pieces.push(&text[start..]);
    pieces
}

fn memchr_line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| from + i)
}

/// Documents written here, so the mutation test has seeds without
/// `../shared` too: the shapes the fast path is for.
const SEEDS: &[&str] = &[
    "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  annotations:\n    controller-gen.kubebuilder.io/version: v0.14.0\n  name: things.example.com\nspec:\n  group: example.com\n  names:\n    kind: Thing\n    listKind: ThingList\n    plural: things\n    singular: thing\n  scope: Namespaced\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema:\n        description: Thing is a thing that spans\n          two lines.\n        properties:\n          apiVersion:\n            description: |-\n              APIVersion defines the versioned schema.\n\n              More: https://git.k8s.io/x#resources\n            type: string\n          spec:\n            properties:\n              items:\n                items:\n                  type: string\n                type: array\n                x-kubernetes-list-type: atomic\n              mode:\n                enum:\n                - a\n                - \"b\"\n                - 'c'\n                default: {}\n                pattern: '^[a-z]([-a-z0-9]*)?$'\n            required: [mode, items]\n            type: object\n        type: object\n    served: true\n    storage: true\n    subresources:\n      status: {}\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg # the name\n  labels: {}\ndata:\n  config.yaml: |\n    a: 1\n    b:\n      - c\n  script.sh: >-\n    echo \"hi\"\n    exit 0\n  quoted: \"line one\n    line two \\u00e9 \\\"x\\\"\"\n  single: 'it''s\n    fine'\n  keep: |+\n    text\n\n  indented: |2\n      two more\n    base\n  tabbed: |\n    col\tcol\n      x\ty\t\n  record: :node_memory:sum\n  query: ?x\n",
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\nspec:\n  ports:\n    - name: http\n      port: 80\n      targetPort: 8080\n    -   name: https\n        port: 443\n  selector:\n    app: web\n  type: ClusterIP\n",
    "# comment\nlist:\n- - a\n  - b\n-\n  - c\n- key: value\n  other:\n  - x\n  - y\n  last: ~\nnested:\n  deeper:\n    deepest:\n      - \"q\"\nempty:\n",
];

#[test]
fn seeds_are_answered_certainly_valid() {
    // The shapes the fast path exists for: a sure answer on each.
    for seed in SEEDS {
        assert!(yaml_rust2_accepts(seed), "seed must be valid:\n{seed}");
        assert!(certainly_valid(seed), "fast path unsure of a seed:\n{seed}");
    }
}

#[test]
fn known_refusals_are_never_certainly_valid() {
    let refused = [
        "a: b\n  c: d\n",
        "a: b: c\n",
        "a:\n  - b\n  c: d\n",
        "a: 'x\nb: 1\n",
        "a: \"\\q\"\n",
        "a: |\n   x\n  y\n",
        "a: |\n    \n  x\n",
        "a: |0\n  x\n",
        "- a\nb: c\n",
        "a: b #c\n  d\n",
        "a: [b, c\n",
        "a:\n b: 1\n  c: 2\n",
        "a: 1\nb\n",
        "key: \"x\"y\n",
        "key: |x\n",
        "a:\tb\n",
        "a: \"x\" b\n",
        "a: [x]#c\n",
        "a: |\n\tx\n",
        "a: b\tc\n  d: e\n",
    ];
    for text in refused {
        assert!(!yaml_rust2_accepts(text), "expected a refusal:\n{text}");
        assert!(!certainly_valid(text), "fast path said valid:\n{text}");
    }
    // Valid, but a second document is not the fast path's business.
    assert!(!certainly_valid("a: b\n---\nc: d\n"));
    let long_key = format!("{}: v\n", "k".repeat(1100));
    assert!(!yaml_rust2_accepts(&long_key));
    assert!(!certainly_valid(&long_key));
    let deep: String = (0..600).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
    assert!(!yaml_rust2_accepts(&deep));
    assert!(!certainly_valid(&deep));
}

#[test]
fn every_corpus_document_certainly_valid_is_valid() {
    let Some(shared) = shared_dir("every_corpus_document_certainly_valid_is_valid") else {
        return;
    };
    let files = texts_under(&shared.join("corpus"));
    assert!(files.len() > 1000, "corpus too small: {}", files.len());
    let (mut docs, mut sure, mut outlined) = (0, 0, 0);
    let (mut all, mut certain) = (0, 0);
    for (path, text) in &files {
        for doc in documents(text) {
            docs += 1;
            sure += usize::from(check(doc, path));
            outlined += usize::from(outline_agrees(doc) == Some(true));
        }
        // The whole file as one text too (several documents: a `---` in
        // the middle is unsure, but every line before it is read).
        check(text, path);
        let (a, c) = coverage(text);
        all += a;
        certain += c;
    }
    eprintln!(
        "corpus: {docs} documents, {sure} certainly valid ({outlined} with the region's \
         outline); documents that hold no tree: {certain} of {all} bytes ({:.1}%) certainly valid",
        100.0 * certain as f64 / all.max(1) as f64
    );
    assert!(sure > 0);
    assert!(
        outlined > sure * 9 / 10,
        "too few outlines: {outlined} of {sure}"
    );
}

#[test]
fn every_yaml_test_suite_input_certainly_valid_is_valid() {
    let Some(shared) = shared_dir("every_yaml_test_suite_input_certainly_valid_is_valid") else {
        return;
    };
    let mut cases: Vec<_> = std::fs::read_dir(shared.join("yaml-test-suite/cases"))
        .expect("yaml-test-suite cases")
        .flatten()
        .map(|e| e.path().join("in.yaml"))
        .filter(|p| p.is_file())
        .collect();
    cases.sort();
    assert!(cases.len() > 300, "too few cases: {}", cases.len());
    let mut sure = 0;
    for path in &cases {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let origin = path.display().to_string();
        sure += usize::from(check(&text, &origin));
        for doc in documents(&text) {
            check(doc, &origin);
        }
    }
    eprintln!(
        "yaml-test-suite: {} inputs, {sure} certainly valid",
        cases.len()
    );
}

/// xorshift64*: the mutations are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&str] = &[
    ":",
    "-",
    "'",
    "\"",
    "#",
    "[",
    "]",
    "{",
    "}",
    "|",
    ">",
    "\n",
    " ",
    "\t",
    ": ",
    "- ",
    " #",
    "  ",
    "\\",
    "|-",
    "|2",
    ">+",
    "'x'",
    "\"x\"",
    "a",
    "&a ",
    "*a",
    "!t ",
    "?",
    ",",
    "\r",
    "...",
    "---",
    "%",
    "@",
    "\u{e9}",
    "k: v",
    "\n- ",
    "\n  ",
    "\n    x: ",
    "\\u00",
    "''",
];

/// A char boundary at or after `at`.
fn boundary(text: &str, mut at: usize) -> usize {
    while at < text.len() && !text.is_char_boundary(at) {
        at += 1;
    }
    at.min(text.len())
}

fn mutate(rng: &mut Rng, text: &mut String) {
    let at = boundary(text, rng.below(text.len() + 1));
    match rng.below(8) {
        // Insert a piece.
        0 | 1 => text.insert_str(at, PIECES[rng.below(PIECES.len())]),
        // Replace a few bytes with a piece.
        2 | 3 => {
            let end = boundary(text, at + 1 + rng.below(3));
            text.replace_range(at..end, PIECES[rng.below(PIECES.len())]);
        }
        // Delete a few bytes.
        4 => {
            let end = boundary(text, at + 1 + rng.below(4));
            text.replace_range(at..end, "");
        }
        // Indent or dedent the line around `at`.
        5 => {
            let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            if rng.below(2) == 0 {
                text.insert_str(start, &" ".repeat(1 + rng.below(3)));
            } else {
                let spaces = text[start..].bytes().take_while(|&b| b == b' ').count();
                let n = spaces.min(1 + rng.below(3));
                text.replace_range(start..start + n, "");
            }
        }
        // Duplicate or drop the line around `at`.
        _ => {
            let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
            if rng.below(2) == 0 {
                let line = text[start..end].to_string();
                text.insert_str(end, &line);
            } else {
                text.replace_range(start..end, "");
            }
        }
    }
}

/// A line-aligned window of `doc` of at most about `max` bytes.
fn window(rng: &mut Rng, doc: &str, max: usize) -> String {
    if doc.len() <= max {
        return doc.to_string();
    }
    let start = boundary(doc, rng.below(doc.len() - max));
    let start = doc[..start].rfind('\n').map_or(0, |i| i + 1);
    let end = boundary(doc, start + max);
    let end = doc[end..].find('\n').map_or(doc.len(), |i| end + i + 1);
    doc[start..end].to_string()
}

#[test]
fn mutated_documents_certainly_valid_are_valid() {
    let mut seeds: Vec<String> = SEEDS.iter().map(|s| s.to_string()).collect();
    match shared_dir("mutated_documents_certainly_valid_are_valid (corpus seeds)") {
        Some(shared) => {
            for (_, text) in texts_under(&shared.join("corpus")) {
                seeds.extend(
                    documents(&text)
                        .into_iter()
                        .filter(|d| certainly_valid(d))
                        .map(str::to_string),
                );
            }
        }
        None => eprintln!("mutating the built-in seeds only"),
    }
    // A longer campaign: TOKENGUARD_SYNTAX_FUZZ=<cases>[:<seed>].
    let campaign = std::env::var("TOKENGUARD_SYNTAX_FUZZ").unwrap_or_default();
    let mut campaign = campaign.split(':').map(|n| n.parse::<u64>().ok());
    let cases = campaign.next().flatten().unwrap_or(20_000) as usize;
    let seed = campaign.next().flatten().unwrap_or(0x7e57_5eed_0bad_cafe);
    let mut rng = Rng(seed | 1);
    let (mut sure, mut refused_unsure) = (0, 0);
    for case in 0..cases {
        // Every fourth case mutates a built-in seed, the others any seed.
        let seed = if case % 4 == 0 {
            &seeds[rng.below(SEEDS.len())]
        } else {
            &seeds[rng.below(seeds.len())]
        };
        let mut text = window(&mut rng, seed, 1500);
        for _ in 0..1 + rng.below(3) {
            mutate(&mut rng, &mut text);
        }
        if check(&text, &format!("mutation case {case}")) {
            sure += 1;
        } else if !yaml_rust2_accepts(&text) {
            refused_unsure += 1;
        }
    }
    eprintln!(
        "mutations: {cases} cases, {sure} certainly valid, {refused_unsure} refused by yaml-rust2"
    );
    // The test has teeth only if both sides are well represented.
    assert!(sure > cases / 10, "too few sure answers: {sure}");
    assert!(
        refused_unsure > cases / 20,
        "too few refusals: {refused_unsure}"
    );
}

/// One random line of a generated document, at an indentation near the
/// previous line's.
fn generated_line(rng: &mut Rng, indent: &mut usize, out: &mut String) {
    const KEYS: &[&str] = &["a", "key", "b c", "\"q\"", "'s'", "-x", ":y", "k#", "a:b"];
    const VALUES: &[&str] = &[
        "",
        " v",
        " two words",
        " \"dq\"",
        " 'sq'",
        " \"open",
        " 'open",
        " |",
        " |-",
        " >+",
        " |2",
        " >1-",
        " |-3",
        " []",
        " {}",
        " [a, \"b\"]",
        " # c",
        " v # c",
        " x: y",
        " - z",
        " \"a\" b",
        " |x",
        " \\\"e\\\"",
        " \"\\x41\\u00e9\"",
        " \"\\q\"",
        " &a v",
        " ? q",
        " :v",
        "\tv",
    ];
    match rng.below(10) {
        0 => *indent = indent.saturating_sub(1 + rng.below(4)),
        1 | 2 => *indent += 1 + rng.below(3),
        3 => *indent = indent.saturating_sub(2),
        _ => {}
    }
    out.push_str(&" ".repeat(*indent));
    match rng.below(12) {
        0 => {}
        1 => out.push_str("# comment"),
        2 | 3 => {
            out.push('-');
            if rng.below(3) > 0 {
                out.push(' ');
                if rng.below(2) == 0 {
                    out.push_str(KEYS[rng.below(KEYS.len())]);
                    out.push(':');
                }
                out.push_str(VALUES[rng.below(VALUES.len())].trim_start());
            }
        }
        4 => {
            // Text: a scalar's continuation or a block scalar's line.
            const TEXT: &[&str] = &[
                "text",
                "more text",
                "a: b",
                "x #y",
                "- item",
                "end\"",
                "it's'",
                "q\tr",
                "\\",
            ];
            out.push_str(TEXT[rng.below(TEXT.len())]);
        }
        5 if rng.below(4) == 0 => {
            out.push_str(["---", "...", "--- # c", "%YAML 1.2"][rng.below(4)])
        }
        _ => {
            out.push_str(KEYS[rng.below(KEYS.len())]);
            out.push(':');
            out.push_str(VALUES[rng.below(VALUES.len())]);
        }
    }
    if rng.below(20) == 0 {
        out.push(' ');
    }
    out.push('\n');
}

#[test]
fn generated_documents_certainly_valid_are_valid() {
    // Documents made of random lines at random indentation: the odd
    // combinations the corpus lacks (indicators and blank lines around
    // block scalars, items at their key's column, quoted scalars over
    // lines at the edge of their indentation).
    // A longer campaign: TOKENGUARD_SYNTAX_GEN=<cases>[:<seed>].
    let campaign = std::env::var("TOKENGUARD_SYNTAX_GEN").unwrap_or_default();
    let mut campaign = campaign.split(':').map(|n| n.parse::<u64>().ok());
    let cases = campaign.next().flatten().unwrap_or(30_000) as usize;
    let mut rng = Rng(campaign.next().flatten().unwrap_or(0x9e37_79b9_7f4a_7c15) | 1);
    let (mut sure, mut refused) = (0, 0);
    for case in 0..cases {
        let mut text = String::new();
        let mut indent = 0;
        for _ in 0..1 + rng.below(12) {
            generated_line(&mut rng, &mut indent, &mut text);
        }
        if check(&text, &format!("generated case {case}")) {
            sure += 1;
        } else if !yaml_rust2_accepts(&text) {
            refused += 1;
        }
    }
    eprintln!(
        "generated: {cases} documents, {sure} certainly valid, {refused} refused by yaml-rust2"
    );
    assert!(sure > cases / 20, "too few sure answers: {sure}");
    assert!(refused > cases / 5, "too few refusals: {refused}");
}
