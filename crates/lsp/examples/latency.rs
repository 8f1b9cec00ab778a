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
//!
//! It speaks through the suites' test client (`crates/lsp-test-client`),
//! sending `didOpen` and `didChange` as bytes framed before each timer
//! starts, so that no time goes into the client's own building, encoding
//! or copy of the text between a timer's start and the send. Publishes are
//! skimmed (`TestClient::skim_publishes`): each is read whole and checked
//! as JSON, its URI and version read (a timer stops at the publish of its
//! edit's version only), its diagnostics counted, but no tree of them is
//! built or copied: on two cores that work would compete with the server
//! inside the timed interval (it was a third of the run's CPU time with a
//! publish of 73 KB per edit).

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokenguard_lsp_test_client::TestClient;

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

/// A message as the base protocol carries it: header, blank line, body.
fn framed(message: &Value) -> Vec<u8> {
    let body = serde_json::to_vec(message).expect("JSON");
    let mut bytes = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (server, file) = (&args[1], &args[2]);
    let edits: usize = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(200);
    let text = std::fs::read_to_string(file).expect("readable file");
    let mut command = Command::new(server);
    command.args([
        "server",
        "--log-level",
        &std::env::var("TOKENGUARD_LOG").unwrap_or_else(|_| "warn".into()),
    ]);
    let mut client = TestClient::spawn(command);
    client.timeout = Duration::from_secs(600);
    let pid = client.process_id().expect("a child process");
    let workspace = std::env::var("TOKENGUARD_WORKSPACE").ok();
    let folders = workspace.as_ref().map(|dir| {
        let dir = std::fs::canonicalize(dir).expect("workspace folder exists");
        json!([{"uri": format!("file://{}", dir.display()), "name": "workspace"}])
    });
    client
        .request_json(
            "initialize",
            json!({"capabilities": {"window": {"workDoneProgress": true}},
                   "workspaceFolders": folders}),
        )
        .await;
    client.skim_publishes();
    let initialized = Instant::now();
    client.notify_json("initialized", json!({})).await;
    let uri = "file:///bench/manifest.yaml";
    if workspace.is_some() {
        // A request while the index is being built must be answered at once.
        client
            .send(
                &json!({"jsonrpc": "2.0", "id": 99, "method": "textDocument/hover", "params": {
                "textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}}),
            )
            .await;
        let mut hover_time = None;
        loop {
            let message = client.next_message().await.expect("the server runs");
            if message.get("method").is_none() && message["id"] == 99 {
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
    // The notification is built and framed before the timer starts: what
    // is timed is the server's work (and the pipe), not the client's JSON.
    let did_open = framed(
        &json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}}),
    );
    let opened = Instant::now();
    client.send_raw(&did_open).await;
    drop(did_open);
    let findings = client.wait_diagnostics(uri, 1).await.len();
    let open_time = opened.elapsed();
    let rss_after_open = memory_kb(pid, "VmRSS:");

    // One-character edits at the end of lines spread evenly through the file
    // (a trailing blank: the findings stay the same, the work does not).
    let lines: Vec<usize> = text
        .split('\n')
        .map(|l| l.trim_end_matches('\r').encode_utf16().count())
        .collect();
    // Which lines are inside a CustomResourceDefinition (a large document
    // that holds no tree: its edits take the region path).
    let mut in_crd = vec![false; lines.len()];
    let mut crd = false;
    for (i, line) in text.split('\n').enumerate() {
        if line.starts_with("---") {
            crd = false;
        } else if line.trim_end() == "kind: CustomResourceDefinition" {
            crd = true;
        }
        in_crd[i] = crd;
    }
    let mut crd_edits = 0;
    let mut extra = vec![0usize; lines.len()];
    let mut times = Vec::with_capacity(edits);
    for i in 0..edits {
        let line = (i * 7919) % lines.len().max(1);
        crd_edits += usize::from(in_crd[line]);
        let character = lines[line] + extra[line];
        extra[line] += 1;
        let version = 2 + i as i64;
        let change = framed(
            &json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": character},
                                          "end": {"line": line, "character": character}}, "text": " "}]}}),
        );
        let sent = Instant::now();
        client.send_raw(&change).await;
        let after = client.wait_diagnostics(uri, version).await.len();
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
    println!(
        "edits: {edits} one-character inserts at line ends, every 7919th line (wrapping) of {} lines; \
         {crd_edits} inside CustomResourceDefinition documents",
        lines.len()
    );
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
    let _ = client.request_json("shutdown", Value::Null).await;
    client.notify_json("exit", Value::Null).await;
    let _ = client.wait_for_exit().await;
}
