//! Whether a body is a message tower-lsp-server will decode, decided
//! without decoding it: no `serde_json::Value` tree is built, `params` and
//! `result` are skipped (only `jsonrpc`, `method`, `id` and `error` are
//! looked into), so a 20 MB `didOpen` costs two scans here and is decoded
//! once, by tower-lsp-server.
//!
//! tower-lsp-server 0.23 decodes a body with serde_json into its `Message`
//! (`#[serde(untagged)] enum { Response, Request }`), and ends the session
//! when that fails. The rules below are those types', field by field:
//!
//! * the body is UTF-8 (its codec checks this first) and JSON;
//! * a **request or notification** (`Request`) is an object with
//!   `"jsonrpc": "2.0"`; `method` is optional (it defaults to `""`) but a
//!   string when present; `params` is any value; `id` is optional, and an
//!   integer that fits an `i64`, a string or `null` when present; other
//!   members are ignored, and `jsonrpc`, `method`, `params` and `id` may
//!   each appear once. (Like any serde struct it may also be an array of
//!   those fields in that order: `["2.0", "exit"]`.)
//! * a **response** (`Response`) is an object with `"jsonrpc": "2.0"`, an
//!   `id` as above (required), and a `result` (any value, once) or an
//!   `error` object holding exactly `code` (an `i64`), `message` (a string)
//!   and optionally `data`;
//! * serde_json's own limits hold everywhere in the body (`Message` being
//!   untagged, every member is read, even those `Request` ignores): nesting
//!   no deeper than 127 arrays and objects, `\u` escapes of UTF-16
//!   surrogates in pairs, and numbers within `f64`'s range. The syntax pass below skips
//!   values without checking these (they depend on what a value is decoded
//!   into), so [`within_decoding_limits`] checks them.
//!
//! A JSON-RPC batch (an array of messages) is not a `Request`: it is
//! answered as an invalid request, as tower-lsp-server would not take it
//! (and the LSP specification does not allow batches).

use std::fmt;

use memchr::memmem;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use tower_lsp_server::jsonrpc::Id;

/// What a body is.
#[derive(Debug, PartialEq)]
pub enum Checked {
    /// A message tower-lsp-server decodes; `exit` when it is the `exit`
    /// notification.
    Message { exit: bool },
    /// Not JSON, or JSON serde_json will not decode: a parse error (-32700).
    NotJson,
    /// JSON, but no message: an invalid request (-32600), answered with
    /// this id (`null` when the body has no usable one).
    NotJsonRpc(Value),
}

/// Checks a body (see the module's documentation for the rules).
pub fn check(body: &[u8]) -> Checked {
    let Ok(text) = std::str::from_utf8(body) else {
        return Checked::NotJson;
    };
    // Syntax, and the members that matter, borrowed from `text`.
    let Ok(envelope) = serde_json::from_str::<Envelope<'_>>(text) else {
        return Checked::NotJson;
    };
    if !within_decoding_limits(text.as_bytes()) {
        return Checked::NotJson;
    }
    match envelope {
        Envelope::Object(members) => {
            let response = members.is_response();
            if response || members.is_request() {
                let exit = !response && members.method_text.as_deref() == Some("exit");
                Checked::Message { exit }
            } else {
                Checked::NotJsonRpc(members.answer_id())
            }
        }
        Envelope::Fields { ok: true, exit } => Checked::Message { exit },
        Envelope::Fields { ok: false, .. } | Envelope::Other => Checked::NotJsonRpc(Value::Null),
    }
}

/// The top-level value of a body.
enum Envelope<'a> {
    /// An object, and what its members are.
    Object(Members<'a>),
    /// An array: whether it is a `Request` as a sequence of its fields,
    /// and whether its method is `exit`.
    Fields { ok: bool, exit: bool },
    /// Anything else.
    Other,
}

/// How often a member appears, and its last value (borrowed).
#[derive(Default)]
struct Member<'a> {
    count: u32,
    value: Option<&'a RawValue>,
}

impl<'a> Member<'a> {
    fn saw(&mut self, value: Option<&'a RawValue>) {
        self.count += 1;
        self.value = value;
    }

    fn once(&self) -> Option<&'a str> {
        (self.count == 1).then(|| self.value.map_or("", RawValue::get))
    }
}

#[derive(Default)]
struct Members<'a> {
    jsonrpc: Member<'a>,
    method: Member<'a>,
    params: Member<'a>,
    id: Member<'a>,
    result: Member<'a>,
    error: Member<'a>,
    /// The method, when it is a string (decoded: it is short).
    method_text: Option<String>,
}

impl Members<'_> {
    fn version_ok(&self) -> bool {
        self.jsonrpc.once().is_some_and(is_version)
    }

    fn is_request(&self) -> bool {
        self.version_ok()
            && self.method.count <= 1
            && (self.method.count == 0 || self.method_text.is_some())
            && self.params.count <= 1
            && self.id.count <= 1
            && self.id.once().is_none_or(is_id)
    }

    fn is_response(&self) -> bool {
        self.version_ok()
            && self.id.once().is_some_and(is_id)
            && (self.result.count == 1 || self.error.once().is_some_and(is_error_object))
    }

    /// The id to answer an invalid request with: the body's when it is a
    /// usable one (an integer or a string), else `null`.
    fn answer_id(&self) -> Value {
        match self
            .id
            .value
            .map(|raw| serde_json::from_str::<Id>(raw.get()))
        {
            Some(Ok(Id::Number(n))) => Value::from(n),
            Some(Ok(Id::String(s))) => Value::from(s),
            _ => Value::Null,
        }
    }
}

fn is_version(raw: &str) -> bool {
    serde_json::from_str::<String>(raw).is_ok_and(|v| v == "2.0")
}

fn is_id(raw: &str) -> bool {
    serde_json::from_str::<Id>(raw).is_ok()
}

fn is_error_object(raw: &str) -> bool {
    serde_json::from_str::<tower_lsp_server::jsonrpc::Error>(raw).is_ok()
}

/// The members a message is told by.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Key {
    Jsonrpc,
    Method,
    Params,
    Id,
    Result,
    Error,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for Envelope<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EnvelopeVisitor)
    }
}

struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Members::default();
        while let Some(key) = map.next_key::<Key>()? {
            // Large values (`params`, `result`, unknown members) are only
            // skipped; the others are kept as borrowed raw JSON.
            match key {
                Key::Jsonrpc => members.jsonrpc.saw(Some(map.next_value()?)),
                Key::Method => {
                    let raw: &RawValue = map.next_value()?;
                    members.method.saw(Some(raw));
                    members.method_text = serde_json::from_str(raw.get()).ok();
                }
                Key::Id => members.id.saw(Some(map.next_value()?)),
                Key::Error => members.error.saw(Some(map.next_value()?)),
                Key::Params => {
                    map.next_value::<IgnoredAny>()?;
                    members.params.saw(None);
                }
                Key::Result => {
                    map.next_value::<IgnoredAny>()?;
                    members.result.saw(None);
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Envelope::Object(members))
    }

    /// `Request` as a sequence: `[jsonrpc, method?, params?, id?]`.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (mut ok, mut exit) = (true, false);
        match seq.next_element::<&RawValue>()? {
            Some(version) => ok &= is_version(version.get()),
            None => return Ok(Envelope::Fields { ok: false, exit }),
        }
        if let Some(method) = seq.next_element::<&RawValue>()? {
            let method = serde_json::from_str::<String>(method.get());
            exit = method.as_deref().is_ok_and(|m| m == "exit");
            ok &= method.is_ok();
            if seq.next_element::<IgnoredAny>()?.is_some() {
                if let Some(id) = seq.next_element::<&RawValue>()? {
                    ok &= is_id(id.get());
                    while seq.next_element::<IgnoredAny>()?.is_some() {
                        ok = false;
                    }
                }
            }
        }
        Ok(Envelope::Fields { ok, exit })
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Envelope::Other)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Envelope::Other)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Envelope::Other)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Envelope::Other)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Envelope::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Envelope::Other)
    }
}

/// serde_json's nesting limit: it refuses the 128th level.
const MAX_DEPTH: usize = 127;

/// Whether serde_json decodes every value of `json` (syntactically valid
/// JSON): nesting at most [`MAX_DEPTH`] deep, numbers within range, `\u`
/// escapes of surrogates in pairs. Strings are skipped with memchr, and
/// escapes looked at only where a `\u` is (rare: clients send text as
/// UTF-8).
pub fn within_decoding_limits(json: &[u8]) -> bool {
    structure_within_limits(json) && surrogates_paired(json)
}

/// Nesting and numbers, outside strings.
fn structure_within_limits(json: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'"' => i = string_end(json, i + 1) + 1,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return false;
                }
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let len = json[i..]
                    .iter()
                    .take_while(|b| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                    .count();
                if !number_in_range(&json[i..i + len]) {
                    return false;
                }
                i += len;
            }
            _ => i += 1,
        }
    }
    true
}

/// The index of the quote that ends the string whose text starts at
/// `start` (the end of `json` if none does).
fn string_end(json: &[u8], start: usize) -> usize {
    let mut from = start;
    while let Some(at) = memchr::memchr(b'"', &json[from..]).map(|at| from + at) {
        if !escaped(json, start, at) {
            return at;
        }
        from = at + 1;
    }
    json.len()
}

/// Whether the byte at `at` is escaped: preceded (after `start`) by an odd
/// number of backslashes.
fn escaped(json: &[u8], start: usize, at: usize) -> bool {
    json[start..at]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count()
        % 2
        == 1
}

/// Whether every `\u` escape of a UTF-16 surrogate is a high one followed
/// by a low one, as serde_json requires of a string. (In valid JSON a
/// backslash only occurs in strings.)
fn surrogates_paired(json: &[u8]) -> bool {
    // The end of the last pair seen: its low half is fine.
    let mut pair_end = 0;
    for at in memmem::find_iter(json, b"\\u") {
        if at < pair_end || escaped(json, 0, at) {
            continue;
        }
        let Some(unit) = json.get(at + 2..at + 6).and_then(hex4) else {
            return false;
        };
        match unit {
            0xDC00..=0xDFFF => return false,
            0xD800..=0xDBFF => {
                let low = json.get(at + 6..at + 8) == Some(b"\\u")
                    && json
                        .get(at + 8..at + 12)
                        .and_then(hex4)
                        .is_some_and(|low| (0xDC00..=0xDFFF).contains(&low));
                if !low {
                    return false;
                }
                pair_end = at + 12;
            }
            _ => {}
        }
    }
    true
}

fn hex4(digits: &[u8]) -> Option<u16> {
    u16::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

/// Whether serde_json decodes a number: only one with an exponent or over
/// 300 characters can be out of `f64`'s range, and those are asked.
fn number_in_range(number: &[u8]) -> bool {
    if number.len() <= 300 && !number.iter().any(|b| matches!(b, b'e' | b'E')) {
        return true;
    }
    std::str::from_utf8(number).is_ok_and(|n| serde_json::from_str::<Value>(n).is_ok())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tower_lsp_server::jsonrpc::{Request, Response};

    use super::*;

    /// tower-lsp-server's `Message` (private to it), defined as it is.
    /// Being untagged, it reads the whole body before trying each variant,
    /// so even the members `Request` ignores must decode.
    #[derive(Deserialize)]
    #[serde(untagged)]
    #[allow(dead_code)]
    enum Message {
        Response(Response),
        Request(Request),
    }

    /// Whether tower-lsp-server decodes a body.
    fn decoded_by_tower_lsp(body: &str) -> bool {
        serde_json::from_str::<Message>(body).is_ok()
    }

    fn agrees(body: &str) {
        let checked = check(body.as_bytes());
        assert_eq!(
            matches!(checked, Checked::Message { .. }),
            decoded_by_tower_lsp(body),
            "{body}: {checked:?}"
        );
        // -32700 exactly when serde_json cannot decode it at all.
        assert_eq!(
            matches!(checked, Checked::NotJson),
            serde_json::from_str::<Value>(body).is_err(),
            "{body}"
        );
    }

    #[test]
    fn edge_cases_are_judged_as_tower_lsp_server_judges_them() {
        for body in [
            r#"{"jsonrpc":"2.0"}"#,
            r#"{"jsonrpc":"2.0","jsonrpc":"2.0","method":"x"}"#,
            r#"{"jsonrpc":2,"method":"x"}"#,
            r#"{"jsonrpc":"2.0","method":null}"#,
            r#"{"jsonrpc":"2.0","id":-9223372036854775808,"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":9223372036854775807,"result":1}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":1,"result":2}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":1,"result":2,"error":{"code":1,"message":""}}"#,
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":1}}"#,
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":1.5,"message":""}}"#,
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"","data":{"a":[]}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":null,"method":5}"#,
            r#"{"jsonrpc":"2.0","id":[1],"result":null}"#,
            r#"{"jsonrpc":"2.0","params":[],"params":{}}"#,
            r#"[]"#,
            r#"["2.0"]"#,
            r#"["2.0","m"]"#,
            r#"["2.0","m",null]"#,
            r#"["2.0","m",null,"id"]"#,
            r#"["2.0","m",null,1.5]"#,
            r#"["2.0","m",null,1,5]"#,
            r#"["2.0",7]"#,
            r#"[{"jsonrpc":"2.0","method":"m"}]"#,
            "null",
            "1",
            r#""x""#,
            "{}",
            "",
            " ",
            "{",
            r#"{"jsonrpc":"2.0","method":"x"} x"#,
            "{\"jsonrpc\":\"2.0\",\"method\":\"a\tb\"}",
            r#"{"jsonrpc":"2.0","method":"\x"}"#,
            r#"{"jsonrpc":"2.0","method":"x","params":[1,]}"#,
            r#"{"jsonrpc":"2.0","method":"x","params":01}"#,
            r#"{"jsonrpc":"2.0","method":"x","params":"\uDBFF\uDFFF"}"#,
            r#"{"jsonrpc":"2.0","method":"x","params":"\\ud800"}"#,
            r#"{"jsonrpc":"2.0","method":"x","params":{"\ud800":1}}"#,
            r#"{"jsonrpc":"2.0","method":"x","params":1.7976931348623157e308}"#,
            r#"{"jsonrpc":"2.0","method":"x","params":1.7976931348623159e308}"#,
            r#"{"jsonrpc":"2.0","method":"x","params":0e99999}"#,
            r#"{"jsonrpc":"2.0","method":"x","params":1e-99999}"#,
            // Members `Request` ignores are decoded all the same.
            r#"{"jsonrpc":"2.0","method":"x","other":"\ud83d"}"#,
            r#"{"jsonrpc":"2.0","method":"x","other":1e400}"#,
            r#"{"result":"\ud83d","jsonrpc":"2.0","params":"a\"b\\"}"#,
            // What looks like structure, numbers or escapes inside strings.
            r#"{"jsonrpc":"2.0","method":"x","params":"\\\ud800"}"#,
            r#"{"jsonrpc":"2.0","method":"x","params":"\\\\ud800"}"#,
            r#"{"jsonrpc":"2.0","method":"x","params":"\"1e400\"]]]"}"#,
            r#"{"jsonrpc":"2.0","method":"x","params":"\ud800\ud800\udc00"}"#,
            r#"{"jsonrpc":"2.0","method":"x","params":["\ud83d","\ude00"]}"#,
            r#"{"jsonrpc":"2.0","method":"x","params":["\ud83d\ude00\ude00"]}"#,
        ] {
            agrees(body);
        }
        let brackets = "[".repeat(200);
        agrees(&format!(
            r#"{{"jsonrpc":"2.0","method":"x","params":"{brackets}"}}"#
        ));
    }

    #[test]
    fn serde_json_s_nesting_limit_is_the_one_checked() {
        for depth in 120..135 {
            let body = format!(
                r#"{{"jsonrpc":"2.0","method":"x","params":{}{}}}"#,
                "{\"a\":[".repeat(depth / 2),
                "]}".repeat(depth / 2)
            );
            agrees(&body);
            let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            agrees(&body);
        }
    }

    #[test]
    fn the_exit_notification_is_told_apart() {
        let exit = |body: &str| check(body.as_bytes()) == Checked::Message { exit: true };
        assert!(exit(r#"{"jsonrpc":"2.0","method":"exit"}"#));
        assert!(exit(
            r#"{"method":"\u0065xit","jsonrpc":"2.0","params":null}"#
        ));
        assert!(exit(r#"["2.0","exit"]"#));
        assert!(!exit(r#"{"jsonrpc":"2.0","method":"x","params":"exit"}"#));
        assert!(!exit(r#"["2.0","x","exit"]"#));
        // A response first, for tower-lsp-server.
        assert!(!exit(
            r#"{"jsonrpc":"2.0","method":"exit","id":1,"result":0}"#
        ));
    }

    /// Pieces of messages, valid and not, to combine.
    const VALUES: &[&str] = &[
        r#""2.0""#,
        r#""1.0""#,
        r#""exit""#,
        "1",
        "-1",
        "1.5",
        "1e400",
        "9223372036854775808",
        "null",
        "true",
        "{}",
        "[]",
        r#"[[[{}]]]"#,
        r#"{"code":1,"message":"m"}"#,
        r#"{"code":1,"message":"m","data":null}"#,
        r#"{"code":1,"message":"m","x":1}"#,
        r#""\ud83d\ude00""#,
        r#""\ud83d""#,
        r#""a\"b\\""#,
        r#""\\\ud800""#,
        r#""[[\"1e400\\""#,
    ];
    const KEYS: &[&str] = &[
        "jsonrpc", "jsonrpc", "method", "params", "id", "id", "result", "error", "other",
    ];

    fn body() -> impl Strategy<Value = String> {
        let member = (0..KEYS.len(), 0..VALUES.len())
            .prop_map(|(k, v)| format!("\"{}\":{}", KEYS[k], VALUES[v]));
        let object =
            prop::collection::vec(member, 0..7).prop_map(|m| format!("{{{}}}", m.join(",")));
        let array = prop::collection::vec(0..VALUES.len(), 0..6).prop_map(|v| {
            let items: Vec<&str> = v.into_iter().map(|i| VALUES[i]).collect();
            format!("[{}]", items.join(","))
        });
        prop_oneof![4 => object, 1 => array]
    }

    /// The cost of checking a large `didOpen`, against what the guard did
    /// before (decode it as tower-lsp-server's `Request`, a `Value` tree)
    /// and what tower-lsp-server does after (decode it as its `Message`).
    /// The text is `TOKENGUARD_CHECK_COST_FILE`'s, or 20 MB of manifests.
    #[test]
    #[ignore = "a timing: cargo test --release -p tokenguard-lsp --lib -- --ignored --nocapture cost"]
    fn cost_of_checking_a_large_did_open() {
        let text = match std::env::var_os("TOKENGUARD_CHECK_COST_FILE") {
            Some(path) => std::fs::read_to_string(path).unwrap(),
            None => "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"x\"\nspec:\n  containers:\n  - name: c\n    image: i\n---\n"
                .repeat(20_000_000 / 84),
        };
        let body = serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": "file:///big.yaml", "languageId": "yaml", "version": 1, "text": text}
        }})
        .to_string();
        let best = |what: &dyn Fn() -> bool| {
            (0..10)
                .map(|_| {
                    let start = std::time::Instant::now();
                    assert!(what());
                    start.elapsed()
                })
                .min()
                .unwrap()
        };
        let before = best(&|| serde_json::from_slice::<Request>(body.as_bytes()).is_ok());
        let after = best(&|| check(body.as_bytes()) == Checked::Message { exit: false });
        let server = best(&|| serde_json::from_str::<Message>(&body).is_ok());
        println!(
            "didOpen of {:.1} MB: the guard's check took {before:.2?} before (a Value tree), \
             {after:.2?} now; tower-lsp-server's own decode takes {server:.2?}",
            body.len() as f64 / 1e6
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn any_combination_is_judged_as_tower_lsp_server_judges_it(body in body()) {
            agrees(&body);
        }
    }
}
