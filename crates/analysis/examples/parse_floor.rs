//! The parser floor of `tokenguard check`: reads every *.yaml / *.yml file
//! under the given paths and runs yaml-rust2's bare event parse over each,
//! on as many threads as the CLI uses, and nothing else (no tree, no rule).
//!
//! cargo run --release -p tokenguard-analysis --example parse_floor -- PATH...
//!
//! Prints one line: files, bytes, events, parse errors, seconds.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use yaml_rust2::parser::{Event, Parser};

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

fn collect(path: &Path, files: &mut Vec<PathBuf>) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if meta.is_file() {
        if is_yaml(path) {
            files.push(path.to_path_buf());
        }
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    for child in children {
        collect(&child, files);
    }
}

/// (events, whether the parse stopped on an error)
fn events(text: &str) -> (usize, bool) {
    let mut parser = Parser::new_from_str(text);
    let mut count = 0;
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => return (count + 1, false),
            Ok(_) => count += 1,
            Err(_) => return (count, true),
        }
    }
}

fn main() {
    let start = Instant::now();
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        collect(Path::new(&arg), &mut files);
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    let (bytes, events_total, errors) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                // Read as the CLI does: bytes, then UTF-8 (lossy here).
                let Ok(raw) = std::fs::read(path) else {
                    continue;
                };
                let text = String::from_utf8_lossy(&raw);
                let (n, failed) = events(&text);
                bytes.fetch_add(raw.len(), Ordering::Relaxed);
                events_total.fetch_add(n, Ordering::Relaxed);
                errors.fetch_add(usize::from(failed), Ordering::Relaxed);
            });
        }
    });
    println!(
        "files {} bytes {} events {} parse_errors {} threads {threads} seconds {:.3}",
        files.len(),
        bytes.into_inner(),
        events_total.into_inner(),
        errors.into_inner(),
        start.elapsed().as_secs_f64()
    );
}
