//! Throughput of the analysis beside yaml-rust2's bare event parse of the same
//! bytes (the floor for this parser): `cargo run --release -p
//! tokenguard-analysis --example throughput -- FILE...`.
use std::time::Instant;

use yaml_rust2::parser::{Event, Parser};

fn main() {
    let texts: Vec<String> = std::env::args()
        .skip(1)
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let mb = bytes as f64 / 1e6;
    for round in 0..3 {
        let start = Instant::now();
        let mut events = 0usize;
        for text in &texts {
            let mut parser = Parser::new_from_str(text);
            while let Ok((event, _)) = parser.next_token() {
                events += 1;
                if event == Event::StreamEnd {
                    break;
                }
            }
        }
        let raw = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let mut findings = 0usize;
        for text in &texts {
            findings += tokenguard_analysis::analyze(text, &tokenguard_analysis::NoAccounts).len();
        }
        let ours = start.elapsed().as_secs_f64();
        println!(
            "round {round}: {mb:.1} MB; yaml-rust2 events {raw:.3} s ({:.1} MB/s, {events} events); analysis {ours:.3} s ({:.1} MB/s, {findings} findings); ratio {:.2}",
            mb / raw,
            mb / ours,
            ours / raw
        );
    }
}
