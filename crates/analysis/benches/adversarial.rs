//! How long the adversarial inputs of `tests/adversarial.rs` take to analyse
//! (the tests check the results; time is measured here).
//!
//! cargo bench -p tokenguard-analysis --bench adversarial
//!
//! Every input is built in memory; `analyze` runs on each, so the numbers
//! include parsing, judging and (where there are findings) the fixes.

use divan::counter::BytesCount;
use divan::{black_box, Bencher};
use tokenguard_analysis::{analyze, NoAccounts};

fn main() {
    for (name, build) in INPUTS {
        let text = build();
        let findings = analyze(&text, &NoAccounts, tokenguard_analysis::Options::builtin());
        eprintln!(
            "  {name:<28} {:>10} bytes {:>3} findings",
            text.len(),
            findings.len()
        );
    }
    divan::main();
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n";
const N: usize = 100_000;

type Build = fn() -> String;

const INPUTS: [(&str, Build); 8] = [
    ("flow_sequences_100k_deep", || {
        format!("kind: Pod\nspec: {}{}\n", "[".repeat(N), "]".repeat(N))
    }),
    ("flow_mappings_100k_deep", || {
        format!("kind: Pod\nspec: {}x{}\n", "{a: ".repeat(N), "}".repeat(N))
    }),
    ("block_mappings_100k_deep", || {
        format!("kind: Pod\nspec:\n  x:\n    {}x\n", "? ".repeat(N))
    }),
    ("block_sequences_100k_deep", || {
        format!("kind: Pod\nspec:\n  x:\n    {}x\n", "- ".repeat(N))
    }),
    ("alias_bomb_9_pow_9", || {
        let mut text = String::from("x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for level in 1..9 {
            let refs = vec![format!("*x{}", level - 1); 9].join(", ");
            text.push_str(&format!("x{level}: &x{level} [{refs}]\n"));
        }
        text.push_str("kind: Pod\nspec:\n  <<: [*x8, *x8]\n  containers: *x8\n");
        text
    }),
    ("line_of_5_mb", || {
        let long = "é".repeat(2_500_000);
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{annotations: {{a: \"{long}\"}}}}\nspec: {{containers: []}}\n")
    }),
    ("nul_bytes", || format!("{POD}\0\n---\n{POD}").repeat(1_000)),
    ("cr_line_endings_1_mb", || {
        POD.replace('\n', "\r")
            .repeat(1_000_000 / POD.len())
            .replace("apiVersion", "---\rapiVersion")
    }),
];

const NAMES: [&str; 8] = [
    "flow_sequences_100k_deep",
    "flow_mappings_100k_deep",
    "block_mappings_100k_deep",
    "block_sequences_100k_deep",
    "alias_bomb_9_pow_9",
    "line_of_5_mb",
    "nul_bytes",
    "cr_line_endings_1_mb",
];

#[divan::bench(args = NAMES)]
fn analyze_input(bencher: Bencher, name: &str) {
    let (_, build) = INPUTS
        .iter()
        .find(|(n, _)| *n == name)
        .expect("an input of that name");
    let text = build();
    bencher.counter(BytesCount::new(text.len())).bench(|| {
        analyze(
            black_box(&text),
            &NoAccounts,
            tokenguard_analysis::Options::builtin(),
        )
    });
}
