//! SARIF 2.1.0, as GitHub code scanning ingests it.
//! <https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use serde_json::{json, Value};
use tokenguard_analysis::{Code, Finding, Severity, TextRange};

use super::Workspace;
use crate::check::CheckedFile;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const AUTOMOUNT_DOCS: &str = "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting";
/// Key of the fingerprint in `partialFingerprints`; bump the version if the
/// hashed fields change, so code scanning does not mix up alerts.
const FINGERPRINT_KEY: &str = "tokenguard/v1";

/// The rules in `ruleIndex` order.
const RULES: [Code; 2] = [Code::TG000, Code::TG001];

pub fn write(workspace: &Workspace, out: &mut dyn Write) -> io::Result<()> {
    let mut fingerprints = Fingerprints::default();
    let results: Vec<Value> = workspace
        .findings()
        .map(|(file, finding)| result(workspace, file, finding, &mut fingerprints))
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "tokenguard",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": RULES.iter().map(|&code| rule(code)).collect::<Vec<_>>(),
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

fn rule(code: Code) -> Value {
    match code {
        Code::TG000 => json!({
            "id": "TG000",
            "name": "YamlSyntaxError",
            "shortDescription": { "text": "The manifest is not valid YAML" },
            "fullDescription": {
                "text": "A document of the file could not be parsed as YAML, so its workloads could not be checked. The Kubernetes API server would reject it too."
            },
            "help": {
                "text": "Fix the YAML syntax at the reported position.",
                "markdown": "Fix the YAML syntax at the reported position; until then, tokenguard cannot check the workloads of this document."
            },
            "helpUri": env!("CARGO_PKG_REPOSITORY"),
            "defaultConfiguration": { "level": "error" },
            "properties": { "tags": ["security"] }
        }),
        Code::TG001 => json!({
            "id": "TG001",
            "name": "ServiceAccountTokenAutomounted",
            "shortDescription": { "text": "Pod spec leaves the service-account token mounted" },
            "fullDescription": {
                "text": "Unless automountServiceAccountToken is false in the pod spec, or on its ServiceAccount, Kubernetes mounts a token for the pod's service account into every container. Whoever takes over a container can read it and call the API server with that account's rights."
            },
            "help": {
                "text": "Set automountServiceAccountToken: false in the pod spec (or on the ServiceAccount). If the workload really needs the API, set it to true explicitly and record why with a `# tokenguard-ignore: reason` comment.",
                "markdown": "Set `automountServiceAccountToken: false` in the pod spec (or on the ServiceAccount):\n\n```yaml\nspec:\n  automountServiceAccountToken: false\n  containers:\n    - name: app\n```\n\nIf the workload really needs the API, set it to `true` explicitly and record why with a `# tokenguard-ignore: reason` comment. See [Opt out of API credential automounting](https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting)."
            },
            "helpUri": AUTOMOUNT_DOCS,
            "defaultConfiguration": { "level": "warning" },
            "properties": {
                "tags": ["security"],
                "precision": "very-high",
                "security-severity": "5.0"
            }
        }),
    }
}

fn result(
    workspace: &Workspace,
    file: &CheckedFile,
    finding: &Finding,
    fingerprints: &mut Fingerprints,
) -> Value {
    let rule_index = RULES.iter().position(|&c| c == finding.code).unwrap_or(0);
    let mut result = json!({
        "ruleId": finding.code.as_str(),
        "ruleIndex": rule_index,
        "level": level(finding.severity),
        "message": { "text": finding.message },
        "locations": [physical_location(file, finding.range)],
        "partialFingerprints": { FINGERPRINT_KEY: fingerprints.next(file, finding) },
    });
    let mut related_locations = Vec::new();
    if let Some((declaring, name_range)) = workspace.account_location(file, finding) {
        let name = finding.account.as_ref().map_or("", |a| a.name.as_str());
        let mut related = physical_location(declaring, name_range);
        related["id"] = json!(1);
        related["message"] = json!({ "text": format!("ServiceAccount \"{name}\"") });
        related_locations.push(related);
    }
    for related in &finding.related {
        if let Some((display, span)) =
            workspace.span_in(file, related.file.as_deref(), related.range)
        {
            related_locations.push(json!({
                "id": related_locations.len() + 1,
                "physicalLocation": {
                    "artifactLocation": { "uri": artifact_uri(display) },
                    "region": span_region(span),
                },
                "message": { "text": related.message },
            }));
        }
    }
    if !related_locations.is_empty() {
        result["relatedLocations"] = json!(related_locations);
    }
    if let Some(fix) = &finding.fix {
        let target = fix.file.as_deref();
        let replacements: Option<Vec<Value>> = fix
            .edits
            .iter()
            .map(|edit| {
                let (_, span) = workspace.span_in(file, target, edit.range)?;
                Some(json!({
                    "deletedRegion": span_region(span),
                    "insertedContent": { "text": edit.new_text },
                }))
            })
            .collect();
        let changed = workspace.span_in(file, target, TextRange::default());
        if let (Some(replacements), Some((display, _))) = (replacements, changed) {
            result["fixes"] = json!([{
                "description": { "text": fix.title },
                "artifactChanges": [{
                    "artifactLocation": { "uri": artifact_uri(display) },
                    "replacements": replacements,
                }],
            }]);
        }
    }
    result
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information | Severity::Hint => "note",
    }
}

fn physical_location(file: &CheckedFile, range: TextRange) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": artifact_uri(file.display()) },
            "region": region(file, range),
        }
    })
}

fn region(file: &CheckedFile, range: TextRange) -> Value {
    span_region(file.span(range))
}

fn span_region(span: super::Span) -> Value {
    json!({
        "startLine": span.start.line,
        "startColumn": span.start.column,
        "endLine": span.end.line,
        "endColumn": span.end.column,
    })
}

/// A relative path becomes a relative URI reference (resolved against the
/// repository root by code scanning); an absolute one a `file://` URI.
pub fn artifact_uri(display: &str) -> String {
    let slashed = display.replace('\\', "/");
    if Path::new(display).is_absolute() || slashed.starts_with('/') {
        let rooted = if slashed.starts_with('/') {
            slashed
        } else {
            // `C:/x` on Windows.
            format!("/{slashed}")
        };
        format!("file://{}", percent_encode(&rooted, true))
    } else {
        // A colon in the first segment would read as a URI scheme.
        percent_encode(&slashed, false)
    }
}

fn percent_encode(path: &str, keep_colon: bool) -> String {
    let mut out = String::with_capacity(path.len());
    for &byte in path.as_bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || b"-._~/!$&'()*+,;=@".contains(&byte)
            || (keep_colon && byte == b':');
        if keep {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Fingerprints that survive edits elsewhere in the file: they hash what the
/// finding is about (file, rule, workload), not where it is; a repeated one
/// gets its occurrence number so that every result keeps its own.
#[derive(Default)]
struct Fingerprints {
    seen: HashMap<u64, usize>,
}

impl Fingerprints {
    fn next(&mut self, file: &CheckedFile, finding: &Finding) -> String {
        let workload = finding.workload.as_ref();
        let parts = [
            file.display(),
            finding.code.as_str(),
            workload.map_or("", |w| w.kind.as_str()),
            workload.and_then(|w| w.name.as_deref()).unwrap_or(""),
        ];
        let hash = fnv1a(&parts);
        let occurrence = self.seen.entry(hash).or_insert(0);
        *occurrence += 1;
        format!("{hash:016x}:{occurrence}")
    }
}

/// 64-bit FNV-1a over the parts, each followed by a NUL so that ("ab", "c")
/// and ("a", "bc") differ.
fn fnv1a(parts: &[&str]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for part in parts {
        for &byte in part.as_bytes().iter().chain(&[0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_with_forward_slashes_and_encoded() {
        assert_eq!(artifact_uri("k8s/a b.yaml"), "k8s/a%20b.yaml");
        assert_eq!(artifact_uri("k8s\\a.yaml"), "k8s/a.yaml");
        assert_eq!(artifact_uri("a:b.yaml"), "a%3Ab.yaml");
        assert_eq!(artifact_uri("<stdin>"), "%3Cstdin%3E");
        assert_eq!(artifact_uri("/srv/é.yaml"), "file:///srv/%C3%A9.yaml");
    }

    #[test]
    fn fnv1a_matches_the_reference_values() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c; ours appends a NUL.
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        hash ^= u64::from(b'a');
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        assert_eq!(hash, 0xaf63_dc4c_8601_ec8c);
        assert_ne!(fnv1a(&["ab", "c"]), fnv1a(&["a", "bc"]));
    }
}
