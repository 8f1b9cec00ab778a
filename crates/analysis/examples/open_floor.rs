//! The floor of the language server's didOpen → diagnostics, for
//! `bench/compare.sh`: what opening a file cannot cost less than.
//!
//! cargo run --release -p tokenguard-analysis --example open_floor -- BODY [RUNS]
//!
//! BODY is the JSON body of a `textDocument/didOpen` notification (what comes
//! after the `Content-Length` header). Each run reads it, decodes it once as
//! tower-lsp-server does (UTF-8 check, `serde_json::from_str` into a message
//! whose `params` is a `serde_json::Value`, then `serde_json::from_value` into
//! the typed parameters, which moves the text out rather than copying it),
//! splits the text into YAML documents at their `---` lines, and runs
//! yaml-rust2's bare event parse of every document, in parallel on all cores.
//! Nothing else: no tree, no rule, no line index, no answer to write.
//!
//! Prints one line per run: bytes, documents, events, parse errors, threads,
//! and the milliseconds of each step and in total (from before the read to
//! the last event).
use std::time::Instant;

use rayon::prelude::*;
use serde::Deserialize;
use yaml_rust2::parser::{Event, Parser};

/// The parts of a JSON-RPC message the router looks at.
#[derive(Deserialize)]
struct Message {
    method: String,
    params: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DidOpenParams {
    text_document: TextDocumentItem,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // decoded as the server decodes them, not read here
struct TextDocumentItem {
    uri: String,
    language_id: String,
    version: i32,
    text: String,
}

/// The documents of a YAML stream: split before each line that starts with
/// `---` followed by a blank or the end of the line.
fn documents(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    let mut line = 0;
    while line < bytes.len() {
        let rest = &bytes[line..];
        if line > 0
            && rest.starts_with(b"---")
            && rest
                .get(3)
                .is_none_or(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
        {
            starts.push(line);
        }
        line = match memchr::memchr(b'\n', rest) {
            Some(end) => line + end + 1,
            None => bytes.len(),
        };
    }
    starts.push(bytes.len());
    starts.windows(2).map(|w| &text[w[0]..w[1]]).collect()
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

fn run(path: &str) -> Result<(), String> {
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    let start = Instant::now();
    let body = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let read_ms = ms(start);

    let decoding = Instant::now();
    let body = std::str::from_utf8(&body).map_err(|e| format!("{path} is not UTF-8: {e}"))?;
    let message: Message =
        serde_json::from_str(body).map_err(|e| format!("{path} is not a JSON-RPC message: {e}"))?;
    if message.method != "textDocument/didOpen" {
        return Err(format!(
            "{path} is a {} message, not textDocument/didOpen",
            message.method
        ));
    }
    let params: DidOpenParams = serde_json::from_value(message.params.unwrap_or_default())
        .map_err(|e| format!("{path}: the didOpen parameters do not decode: {e}"))?;
    let text = params.text_document.text;
    let decode_ms = ms(decoding);

    let parsing = Instant::now();
    let docs = documents(&text);
    let (events, errors) = docs
        .par_iter()
        .map(|doc| {
            let (n, failed) = events(doc);
            (n, usize::from(failed))
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let parse_ms = ms(parsing);

    println!(
        "bytes {} documents {} events {events} parse_errors {errors} threads {} \
         read_ms {read_ms:.1} decode_ms {decode_ms:.1} parse_ms {parse_ms:.1} total_ms {:.1}",
        text.len(),
        docs.len(),
        rayon::current_num_threads(),
        ms(start)
    );
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: open_floor BODY.json [RUNS]");
        std::process::exit(2);
    };
    let runs = match args.get(2).map(|n| n.parse::<usize>()) {
        None => 1,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("open_floor: RUNS must be a positive number");
            std::process::exit(2);
        }
    };
    for _ in 0..runs {
        if let Err(message) = run(path) {
            eprintln!("open_floor: {message}");
            std::process::exit(1);
        }
    }
}
