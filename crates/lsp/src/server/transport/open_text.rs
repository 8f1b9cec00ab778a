//! A large `didOpen` decoded once. The guard would check its body (two
//! scans) and tower-lsp-server decode it again (a UTF-8 scan, then serde's
//! untagged `Message`, which buffers every value before it is typed): a
//! 20 MB text was scanned and copied several times, and tower-lsp-server's
//! read buffer kept 20 MB for the session. Instead, a `didOpen` notification
//! over [`LARGE`] bytes is decoded here, once, into its typed parameters;
//! its text waits in the [`OpenTexts`] it shares with the server, and
//! tower-lsp-server gets the same notification with a short placeholder as
//! its text, which names the waiting text (`did_open` takes it back). A body
//! that does not decode as exactly such a notification goes the usual way.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::Deserialize;
use tower_lsp_server::ls_types::DidOpenTextDocumentParams;

/// Bodies from this size up are decoded here.
pub const LARGE: usize = 1 << 20;

/// Texts of opened documents on their way to `did_open`. Cheap to clone.
#[derive(Clone, Default)]
pub struct OpenTexts {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Names the placeholders of this session (a client cannot guess it).
    nonce: u64,
    next: AtomicU64,
    waiting: Mutex<HashMap<u64, String>>,
}

/// What a placeholder text starts with.
const PLACEHOLDER: &str = "\u{0}tokenguard: text decoded by the transport ";

/// The notification, exactly: nothing else is taken here.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenNotification {
    jsonrpc: String,
    method: String,
    params: DidOpenTextDocumentParams,
}

impl OpenTexts {
    pub fn new() -> Self {
        // Any value that differs from session to session will do.
        let address = &() as *const () as u64;
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Self {
            inner: Arc::new(Inner {
                nonce: time ^ address.rotate_left(32) ^ u64::from(std::process::id()),
                next: AtomicU64::new(0),
                waiting: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The body to pass on instead of `body`, when it is a large `didOpen`
    /// notification (its text kept here); `None` otherwise.
    pub fn divert(&self, body: &[u8]) -> Option<Vec<u8>> {
        if body.len() < LARGE || memchr::memmem::find(body, b"textDocument/didOpen").is_none() {
            return None;
        }
        let OpenNotification {
            jsonrpc,
            method,
            mut params,
        } = serde_json::from_slice(body).ok()?;
        if jsonrpc != "2.0" || method != "textDocument/didOpen" {
            return None;
        }
        let id = self.inner.next.fetch_add(1, Ordering::SeqCst);
        let text = std::mem::replace(
            &mut params.text_document.text,
            format!("{PLACEHOLDER}{} {id}", self.inner.nonce),
        );
        self.inner.waiting.lock().insert(id, text);
        let body = serde_json::to_vec(&serde_json::json!({
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": params,
        }))
        .ok();
        if body.is_none() {
            self.inner.waiting.lock().remove(&id);
        }
        body
    }

    /// The text a `didOpen` brought: the one waiting here when `text` is
    /// a placeholder of this session, else `text` itself.
    pub fn take(&self, text: String) -> String {
        let id = text
            .strip_prefix(PLACEHOLDER)
            .and_then(|rest| rest.split_once(' '))
            .filter(|(nonce, _)| nonce.parse() == Ok(self.inner.nonce))
            .and_then(|(_, id)| id.parse::<u64>().ok());
        match id.and_then(|id| self.inner.waiting.lock().remove(&id)) {
            Some(waiting) => waiting,
            None => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(text: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "jsonrpc": "2.0", "method": "textDocument/didOpen",
            "params": {"textDocument": {"uri": "file:///a.yaml", "languageId": "yaml",
                                        "version": 3, "text": text}}}))
        .unwrap()
    }

    #[test]
    fn a_large_open_is_passed_on_with_a_placeholder_that_gives_its_text_back() {
        let texts = OpenTexts::new();
        let text = format!("kind: Pod\n# \"é\\\n{}", "a: b\n".repeat(LARGE / 4));
        let diverted = texts.divert(&open(&text)).unwrap();
        assert!(diverted.len() < 300);
        let passed: serde_json::Value = serde_json::from_slice(&diverted).unwrap();
        let params: DidOpenTextDocumentParams =
            serde_json::from_value(passed["params"].clone()).unwrap();
        assert_eq!(params.text_document.version, 3);
        assert_eq!(params.text_document.uri.as_str(), "file:///a.yaml");
        assert_eq!(texts.take(params.text_document.text.clone()), text);
        // Taken once: the placeholder alone is left.
        assert_ne!(texts.take(params.text_document.text.clone()), text);
        // Another session's placeholder, or a client's text that looks like one.
        let other = OpenTexts::new();
        let diverted = texts.divert(&open(&text)).unwrap();
        let passed: serde_json::Value = serde_json::from_slice(&diverted).unwrap();
        let placeholder = passed["params"]["textDocument"]["text"].as_str().unwrap();
        assert_eq!(other.take(placeholder.to_string()), placeholder);
    }

    #[test]
    fn anything_else_goes_the_usual_way() {
        let texts = OpenTexts::new();
        let text = "a: b\n".repeat(LARGE / 4);
        assert!(texts.divert(&open("a: b\n")).is_none(), "small");
        let mut request: serde_json::Value = serde_json::from_slice(&open(&text)).unwrap();
        request["id"] = 1.into();
        assert!(texts
            .divert(&serde_json::to_vec(&request).unwrap())
            .is_none());
        let mut broken = open(&text);
        broken.truncate(broken.len() - 1);
        assert!(texts.divert(&broken).is_none());
        let change = String::from_utf8(open(&text))
            .unwrap()
            .replace("didOpen\"", "didChange\"");
        assert!(texts.divert(change.as_bytes()).is_none());
    }
}
