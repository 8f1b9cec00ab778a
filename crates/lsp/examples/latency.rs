//! Latency of `tokenguard server` as an editor sees it: spawns the server,
//! opens a file, then makes one-character edits spread through it, and times
//! each from the notification sent to the matching version's diagnostics.
//!
//! cargo run --release -p tokenguard-lsp --example latency -- \
//!     target/release/tokenguard FILE [EDITS]
//!
//! Prints didOpen→publishDiagnostics, p50/p95/max over the edits, and the
//! server's resident memory (now and peak) from /proc.
//!
//! With `TOKENGUARD_WORKSPACE=DIR`, DIR is the workspace folder: the time
//! from `initialized` to the end of the ServiceAccount index's progress is
//! printed, and a hover sent while it runs is timed.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn send(stdin: &mut ChildStdin, message: &Value) {
    let body = message.to_string();
    write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("server stdin");
    stdin.flush().expect("server stdin");
}

fn receive(reader: &mut BufReader<ChildStdout>) -> Value {
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("server stdout");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse().expect("length");
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("body");
    serde_json::from_slice(&body).expect("json")
}

/// Reads until the diagnostics of `version` arrive; answers server requests.
fn wait_diagnostics(
    reader: &mut BufReader<ChildStdout>,
    stdin: &mut ChildStdin,
    version: i64,
) -> usize {
    loop {
        let message = receive(reader);
        if message.get("id").is_some() && message.get("method").is_some() {
            send(
                stdin,
                &json!({"jsonrpc": "2.0", "id": message["id"], "result": null}),
            );
            continue;
        }
        if message["method"] == "textDocument/publishDiagnostics"
            && message["params"]["version"] == version
        {
            return message["params"]["diagnostics"]
                .as_array()
                .map_or(0, Vec::len);
        }
    }
}

fn memory_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (server, file) = (&args[1], &args[2]);
    let edits: usize = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(200);
    let text = std::fs::read_to_string(file).expect("readable file");
    let mut child = Command::new(server)
        .args([
            "server",
            "--log-level",
            &std::env::var("TOKENGUARD_LOG").unwrap_or_else(|_| "warn".into()),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("server starts");
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let workspace = std::env::var("TOKENGUARD_WORKSPACE").ok();
    let folders = workspace.as_ref().map(|dir| {
        let dir = std::fs::canonicalize(dir).expect("workspace folder exists");
        json!([{"uri": format!("file://{}", dir.display()), "name": "workspace"}])
    });
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "capabilities": {"window": {"workDoneProgress": true}},
            "workspaceFolders": folders}}),
    );
    receive(&mut reader);
    let initialized = Instant::now();
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
    );
    let uri = "file:///bench/manifest.yaml";
    if workspace.is_some() {
        // A request while the index is being built must be answered at once.
        send(
            &mut stdin,
            &json!({"jsonrpc": "2.0", "id": 99, "method": "textDocument/hover", "params": {
                "textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}}),
        );
        let mut hover_time = None;
        loop {
            let message = receive(&mut reader);
            if message.get("id").is_some() && message.get("method").is_some() {
                send(
                    &mut stdin,
                    &json!({"jsonrpc": "2.0", "id": message["id"], "result": null}),
                );
            } else if message["id"] == 99 {
                hover_time = Some(initialized.elapsed());
            } else if message["method"] == "$/progress"
                && message["params"]["value"]["kind"] == "end"
            {
                println!(
                    "workspace index: {:.0} ms ({}); a hover sent meanwhile was answered after {:.1} ms",
                    initialized.elapsed().as_secs_f64() * 1000.0,
                    message["params"]["value"]["message"],
                    hover_time.map_or(f64::NAN, |t| t.as_secs_f64() * 1000.0)
                );
                break;
            }
        }
    }
    let opened = Instant::now();
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}}),
    );
    let findings = wait_diagnostics(&mut reader, &mut stdin, 1);
    let open_time = opened.elapsed();
    let rss_after_open = memory_kb(pid, "VmRSS:");

    // One-character edits at the end of lines spread evenly through the file
    // (a trailing blank: the findings stay the same, the work does not).
    let lines: Vec<usize> = text
        .split('\n')
        .map(|l| l.trim_end_matches('\r').encode_utf16().count())
        .collect();
    let mut extra = vec![0usize; lines.len()];
    let mut times = Vec::with_capacity(edits);
    for i in 0..edits {
        let line = (i * 7919) % lines.len().max(1);
        let character = lines[line] + extra[line];
        extra[line] += 1;
        let version = 2 + i as i64;
        let sent = Instant::now();
        send(
            &mut stdin,
            &json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": character},
                                           "end": {"line": line, "character": character}}, "text": " "}]}}),
        );
        let after = wait_diagnostics(&mut reader, &mut stdin, version);
        times.push(sent.elapsed());
        assert_eq!(
            after, findings,
            "a blank at a line end changed the findings"
        );
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "file: {file} ({:.1} MB, {findings} findings)",
        text.len() as f64 / 1e6
    );
    println!("didOpen -> publishDiagnostics: {:.1} ms", ms(open_time));
    if !times.is_empty() {
        println!(
            "didChange -> publishDiagnostics over {edits} edits: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.95)),
            ms(*times.last().unwrap())
        );
    }
    println!(
        "server memory: {:.1} MB after open, {:.1} MB now, {:.1} MB peak",
        rss_after_open as f64 / 1024.0,
        memory_kb(pid, "VmRSS:") as f64 / 1024.0,
        memory_kb(pid, "VmHWM:") as f64 / 1024.0
    );
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null}),
    );
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "method": "exit", "params": null}),
    );
    let _ = child.wait();
}
