//! SARIF 2.1.0, as GitHub code scanning ingests it.
//! <https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>
//!
//! Paths. The run declares `%SRCROOT%` in `originalUriBaseIds`: the nearest
//! folder at or above the current directory that holds a `.git` (the root of
//! the checkout, which is what code scanning resolves relative paths
//! against), else the current directory. Every file under it is named by a
//! URI relative to it (`/` separators, percent-encoded) with
//! `uriBaseId: "%SRCROOT%"`, so the log does not depend on the directory the
//! command ran in nor on the OS. Paths are resolved (symbolic links too, as
//! code scanning cannot show a result in a symlinked file) before they are
//! compared with the root. A file outside the root gets an absolute
//! `file://` URI (written as the language server writes it,
//! `tokenguard_lsp::identity::file_uri`) and no `uriBaseId`; standard
//! input is `%3Cstdin%3E` (the `<stdin>` the other formats print), with no
//! `uriBaseId` either.
//!
//! Columns are counted in UTF-16 code units (`columnKind` says so): SARIF's
//! default, what CodeQL writes, and what the web viewers count in.

use std::collections::HashMap;
use std::env;
use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use serde_json::{json, Value};
use tokenguard_analysis::rbac::Risk;
use tokenguard_analysis::{Code, DeclaredAt, Finding, LineIndex, Severity, TextRange};
use tokenguard_lsp::identity;

use super::Workspace;
use crate::check::CheckedFile;
use crate::check::OtherFile;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const AUTOMOUNT_DOCS: &str = "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting";
/// The base that relative artifact URIs are resolved against.
const SRCROOT: &str = "%SRCROOT%";
/// Key of the fingerprint in `partialFingerprints`; bump the version if the
/// hashed fields change, so that code scanning does not mix up alerts.
/// (GitHub's `upload-sarif` adds its own `primaryLocationLineHash`, a hash
/// of the flagged line's text, beside it.)
const FINGERPRINT_KEY: &str = "tokenguard/v2";
/// GitHub's `security-severity` of TG001, in (0, 10]: 4.0 to 6.9 is shown as
/// "medium". A mounted token is a risk once a container is taken over; what
/// it grants depends on the account's RBAC. The rule's default is medium;
/// each result whose permissions are known carries its own
/// ([`result_security_severity`]).
const TG001_SECURITY_SEVERITY: &str = "5.0";

/// A TG001 result's `security-severity` by the risk of the pod's account
/// (GitHub's bands: 9.0 and above critical, 7.0 high, 4.0 medium, below
/// low): a cluster-admin token highest, a token with only the discovery
/// permissions lowest.
fn result_security_severity(risk: Risk) -> &'static str {
    match risk {
        Risk::ClusterAdmin => "9.8",
        Risk::DangerousClusterWide => "9.0",
        Risk::DangerousInNamespace => "7.5",
        Risk::Bound | Risk::Unknown => "5.0",
        Risk::DiscoveryOnly => "3.0",
    }
}

/// The rules in `ruleIndex` order.
const RULES: [Code; 2] = [Code::TG000, Code::TG001];

pub fn write(workspace: &Workspace, out: &mut dyn Write) -> io::Result<()> {
    let mut writer = Writer {
        workspace,
        root: SourceRoot::discover(),
        artifacts: HashMap::new(),
        fingerprints: Fingerprints::default(),
    };
    // The results are written one at a time where this marker is (a whole
    // log of them as `Value`s is hundreds of megabytes on a large check).
    const RESULTS: &str = "\u{0}tokenguard-results\u{0}";
    let mut run = json!({
        "tool": {
            "driver": {
                "name": "tokenguard",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": RULES.iter().map(|&code| rule(code)).collect::<Vec<_>>(),
            }
        },
        "columnKind": "utf16CodeUnits",
        "results": RESULTS,
    });
    if let Some(root) = &writer.root.root {
        run["originalUriBaseIds"] = json!({
            SRCROOT: {
                "uri": directory_uri(root),
                "description": {
                    "text": "The root of the checkout: the nearest folder at or above the working directory that holds .git, else the working directory."
                },
            }
        });
    }
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    });
    let skeleton = serde_json::to_string_pretty(&log)?;
    let marker = serde_json::to_string(RESULTS)?;
    let at = skeleton
        .find(&marker)
        .expect("the log holds the results marker");
    let (before, after) = (&skeleton[..at], &skeleton[at + marker.len()..]);
    // The indentation of the line of `"results":`, as the pretty printer
    // would indent the array's elements and its closing bracket.
    let indent = &before[before.rfind('\n').map_or(0, |n| n + 1)..];
    let indent = &indent[..indent.len() - indent.trim_start().len()];
    out.write_all(before.as_bytes())?;
    let mut results = workspace.findings().peekable();
    if results.peek().is_none() {
        out.write_all(b"[]")?;
    } else {
        out.write_all(b"[")?;
        let mut first = true;
        for (file, finding) in results {
            let result = serde_json::to_string_pretty(&writer.result(file, finding))?;
            out.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            // (A JSON string holds no raw line break: each line of the
            // result is a line of the log.)
            for (i, line) in result.split('\n').enumerate() {
                if i > 0 {
                    out.write_all(b"\n")?;
                }
                write!(out, "{indent}  {line}")?;
            }
        }
        write!(out, "\n{indent}]")?;
    }
    out.write_all(after.as_bytes())?;
    writeln!(out)
}

fn rule(code: Code) -> Value {
    match code {
        // A syntax error is no security problem: no `security` tag and no
        // `security-severity`, so it stays out of the Security tab's ranking.
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
            "properties": {
                "tags": ["correctness"],
                "precision": "very-high",
                "problem.severity": "error"
            }
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
                "security-severity": TG001_SECURITY_SEVERITY
            }
        }),
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information | Severity::Hint => "note",
    }
}

/// A text a region is measured in: a checked file, or a file its findings
/// point into (a chart's `values.yaml`).
#[derive(Clone, Copy)]
enum Text<'a> {
    Checked(&'a CheckedFile),
    Other(&'a OtherFile),
}

impl<'a> Text<'a> {
    fn display(self) -> &'a str {
        match self {
            Text::Checked(file) => file.display(),
            Text::Other(other) => &other.display,
        }
    }

    /// The file on disk; `None` for standard input.
    fn path(self) -> Option<&'a Path> {
        match self {
            Text::Checked(file) => file.source.path.as_deref(),
            Text::Other(other) => Some(&other.path),
        }
    }

    fn line_index(self) -> &'a LineIndex {
        match self {
            Text::Checked(file) => &file.line_index,
            Text::Other(other) => &other.line_index,
        }
    }

    /// A 0-based line's text without its break (empty when not kept).
    fn line_text(self, line: usize) -> &'a str {
        match self {
            Text::Checked(file) => file.line_text(line),
            Text::Other(other) => other.line_index.line_text(&other.text, line),
        }
    }

    /// The 1-based line and 1-based UTF-16 column of a byte offset.
    fn position(self, offset: usize) -> (usize, usize) {
        let index = self.line_index();
        let line = index.line_of(offset);
        let text = self.line_text(line);
        let mut within = offset
            .saturating_sub(index.line_start(line))
            .min(text.len());
        while !text.is_char_boundary(within) {
            within -= 1;
        }
        (line + 1, text[..within].encode_utf16().count() + 1)
    }

    fn region(self, range: TextRange) -> Value {
        let (start_line, start_column) = self.position(range.start);
        let (end_line, end_column) = self.position(range.end);
        json!({
            "startLine": start_line,
            "startColumn": start_column,
            "endLine": end_line,
            "endColumn": end_column,
        })
    }
}

/// How SARIF names one file: its `artifactLocation`, and the name that
/// goes into fingerprints (the same on every machine for files under the
/// root).
#[derive(Clone)]
struct Artifact {
    location: Value,
    key: String,
}

struct Writer<'w, 'a> {
    workspace: &'w Workspace<'a>,
    root: SourceRoot,
    /// By display name: each file is resolved on disk once.
    artifacts: HashMap<String, Artifact>,
    fingerprints: Fingerprints,
}

impl<'a> Writer<'_, 'a> {
    fn artifact(&mut self, text: Text) -> Artifact {
        if let Some(known) = self.artifacts.get(text.display()) {
            return known.clone();
        }
        let artifact = self.root.artifact(text.path(), text.display());
        self.artifacts
            .insert(text.display().to_string(), artifact.clone());
        artifact
    }

    fn location(&mut self, text: Text, range: TextRange) -> Value {
        json!({
            "physicalLocation": {
                "artifactLocation": self.artifact(text).location,
                "region": text.region(range),
            }
        })
    }

    /// A place the permissions of a finding name, from the line the
    /// finding records (the name is on one line).
    fn declared_location(&mut self, declared: &DeclaredAt) -> Value {
        let artifact = self
            .root
            .artifact(Some(Path::new(&declared.file)), &declared.file);
        let (_, column) = declared.columns();
        let within = declared
            .range
            .start
            .saturating_sub(declared.line_start)
            .min(declared.line_text.len());
        let end = (within + declared.range.end.saturating_sub(declared.range.start))
            .min(declared.line_text.len());
        let length = declared
            .line_text
            .get(within..end)
            .map_or(0, |name| name.encode_utf16().count());
        json!({
            "physicalLocation": {
                "artifactLocation": artifact.location,
                "region": {
                    "startLine": declared.line + 1,
                    "startColumn": column + 1,
                    "endLine": declared.line + 1,
                    "endColumn": column + 1 + length,
                },
            }
        })
    }

    /// The text a finding of `file` names: `None` is `file` itself, else a
    /// file of its chart.
    fn text_of(file: &'a CheckedFile, target: Option<&str>) -> Option<Text<'a>> {
        match target {
            None => Some(Text::Checked(file)),
            Some(id) => file.other_files.get(id).map(|other| Text::Other(other)),
        }
    }

    fn result(&mut self, file: &'a CheckedFile, finding: &Finding) -> Value {
        let rule_index = RULES.iter().position(|&c| c == finding.code).unwrap_or(0);
        let own = Text::Checked(file);
        let artifact = self.artifact(own);
        let line = file.line_index.line_of(finding.range.start);
        let fingerprint = self
            .fingerprints
            .next(finding, &artifact.key, own.line_text(line));
        let mut result = json!({
            "ruleId": finding.code.as_str(),
            "ruleIndex": rule_index,
            "level": level(finding.severity),
            "message": { "text": finding.message },
            "locations": [self.location(own, finding.range)],
            "partialFingerprints": { FINGERPRINT_KEY: fingerprint },
        });
        let mut related_locations = Vec::new();
        if let Some((declaring, name_range)) = self.workspace.account_location(file, finding) {
            let name = finding.account.as_ref().map_or("", |a| a.name.as_str());
            let mut related = self.location(Text::Checked(declaring), name_range);
            related["id"] = json!(1);
            related["message"] = json!({ "text": format!("ServiceAccount \"{name}\"") });
            related_locations.push(related);
        }
        for related in &finding.related {
            let location = match Self::text_of(file, related.file.as_deref()) {
                Some(text) => Some(self.location(text, related.range)),
                // A binding or a role in another file: its line is known.
                None => related
                    .file
                    .as_deref()
                    .and_then(|f| finding.declared_at(f, related.range))
                    .map(|declared| self.declared_location(declared)),
            };
            if let Some(mut location) = location {
                location["id"] = json!(related_locations.len() + 1);
                location["message"] = json!({ "text": related.message });
                related_locations.push(location);
            }
        }
        if let Some(permissions) = &finding.permissions {
            result["properties"] = json!({
                "security-severity": result_security_severity(permissions.risk),
                "tokenguard/risk": permissions.risk.as_str(),
            });
        }
        if !related_locations.is_empty() {
            result["relatedLocations"] = json!(related_locations);
        }
        if let Some(fix) = &finding.fix {
            if let Some(target) = Self::text_of(file, fix.file.as_deref()) {
                let replacements: Vec<Value> = fix
                    .edits
                    .iter()
                    .map(|edit| {
                        json!({
                            "deletedRegion": target.region(edit.range),
                            "insertedContent": { "text": edit.new_text },
                        })
                    })
                    .collect();
                result["fixes"] = json!([{
                    "description": { "text": fix.title },
                    "artifactChanges": [{
                        "artifactLocation": self.artifact(target).location,
                        "replacements": replacements,
                    }],
                }]);
            }
        }
        result
    }
}

/// The folders paths are made relative to.
struct SourceRoot {
    /// The working directory, to resolve relative paths against.
    cwd: Option<PathBuf>,
    /// `%SRCROOT%`, resolved; `None` only when the working directory is
    /// unknown (it was deleted).
    root: Option<PathBuf>,
}

impl SourceRoot {
    fn discover() -> Self {
        let cwd = env::current_dir().ok();
        let root = cwd.as_deref().map(|cwd| {
            let real = fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
            real.ancestors()
                .find(|dir| dir.join(".git").symlink_metadata().is_ok())
                .map_or_else(|| real.clone(), Path::to_path_buf)
        });
        Self { cwd, root }
    }

    fn artifact(&self, path: Option<&Path>, display: &str) -> Artifact {
        let absolute = match (path, &self.cwd) {
            (Some(path), _) if path.is_absolute() => Some(path.to_path_buf()),
            (Some(path), Some(cwd)) => Some(cwd.join(path)),
            _ => None,
        };
        let Some(absolute) = absolute else {
            // Standard input, or a relative path with no working directory.
            let uri = display_uri(display);
            return Artifact {
                location: json!({ "uri": uri }),
                key: display.replace('\\', "/"),
            };
        };
        let real = fs::canonicalize(&absolute).unwrap_or_else(|_| normalize(&absolute));
        if let Some(relative) = self
            .root
            .as_deref()
            .and_then(|root| real.strip_prefix(root).ok())
            .filter(|relative| !relative.as_os_str().is_empty())
        {
            let uri = relative_uri(relative);
            return Artifact {
                location: json!({ "uri": uri, "uriBaseId": SRCROOT }),
                key: uri,
            };
        }
        let uri = file_uri(&real);
        Artifact {
            location: json!({ "uri": uri }),
            key: uri,
        }
    }
}

/// `.` and `..` removed without asking the file system (for a file that is
/// gone by the time the log is written).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A relative path as a relative URI reference: its segments percent-encoded
/// and joined with `/`.
fn relative_uri(relative: &Path) -> String {
    let segments: Vec<String> = relative
        .components()
        .map(|component| encode(component.as_os_str().as_encoded_bytes()))
        .collect();
    segments.join("/")
}

/// The `file://` URI of an absolute path, written by the one encoder the
/// language server names its files with (`identity::file_uri`).
fn file_uri(path: &Path) -> String {
    identity::file_uri(path).unwrap_or_else(|| relative_uri(path))
}

/// The `file://` URI of a folder, ending in `/` as `originalUriBaseIds`
/// requires.
fn directory_uri(path: &Path) -> String {
    let uri = file_uri(path);
    if uri.ends_with('/') {
        uri
    } else {
        format!("{uri}/")
    }
}

/// A display name used as a URI reference (standard input).
fn display_uri(display: &str) -> String {
    encode(display.replace('\\', "/").as_bytes()).replace("%2F", "/")
}

/// Percent-encodes one segment of a relative URI reference per RFC 3986:
/// unreserved characters, sub-delimiters and `@` stay as they are. A colon
/// in a relative reference's first segment would read as a scheme, so a
/// segment encodes it. (Absolute URIs are `identity::file_uri`'s.)
fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &byte in bytes {
        let keep = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@".contains(&byte);
        if keep {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Fingerprints that survive edits elsewhere and runs elsewhere: they hash
/// what the finding is about (the rule, the file as named under the root,
/// the workload, the flagged line's text without its indentation), not
/// where it is nor where the command ran. A repeated one gets its
/// occurrence number so that every result keeps its own.
#[derive(Default)]
struct Fingerprints {
    seen: HashMap<u64, usize>,
}

impl Fingerprints {
    fn next(&mut self, finding: &Finding, file_key: &str, line_text: &str) -> String {
        let workload = finding.workload.as_ref();
        let parts = [
            finding.code.as_str(),
            file_key,
            workload.map_or("", |w| w.kind.as_str()),
            workload.and_then(|w| w.namespace.as_deref()).unwrap_or(""),
            workload.and_then(|w| w.name.as_deref()).unwrap_or(""),
            line_text.trim(),
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
    fn relative_uris_use_slashes_and_encode_each_segment() {
        assert_eq!(relative_uri(Path::new("k8s/a b.yaml")), "k8s/a%20b.yaml");
        assert_eq!(relative_uri(Path::new("a:b.yaml")), "a%3Ab.yaml");
        assert_eq!(
            relative_uri(Path::new("é/x#1?.yaml")),
            "%C3%A9/x%231%3F.yaml"
        );
        assert_eq!(relative_uri(Path::new("50%.yaml")), "50%25.yaml");
        #[cfg(unix)]
        assert_eq!(relative_uri(Path::new("a\\b.yaml")), "a%5Cb.yaml");
    }

    /// Absolute URIs are the language server's (`identity::file_uri_on`):
    /// what SARIF names a file outside the checkout by is what the editor
    /// knows it by.
    #[test]
    fn absolute_paths_become_file_uris_on_each_platform() {
        use identity::Platform::{Posix, Windows};
        let cases: &[(identity::Platform, &[u8], &str)] = &[
            (
                Posix,
                b"/srv/\xc3\xa9 x.yaml",
                "file:///srv/%C3%A9%20x.yaml",
            ),
            // On Unix a backslash is part of a name.
            (Posix, b"/a\\b", "file:///a%5Cb"),
            (
                Windows,
                b"c:\\Users\\me\\a.yaml",
                "file:///C%3A/Users/me/a.yaml",
            ),
            (
                Windows,
                b"\\\\?\\C:\\repo\\a b.yaml",
                "file:///C%3A/repo/a%20b.yaml",
            ),
            (
                Windows,
                b"\\\\?\\UNC\\server\\share\\a.yaml",
                "file://server/share/a.yaml",
            ),
            (
                Windows,
                b"\\\\server\\share\\a.yaml",
                "file://server/share/a.yaml",
            ),
        ];
        for (platform, path, uri) in cases {
            assert_eq!(
                identity::file_uri_on(*platform, path).as_deref(),
                Some(*uri),
                "{}",
                String::from_utf8_lossy(path)
            );
        }
        assert_eq!(directory_uri(Path::new("/")), "file:///");
        assert_eq!(directory_uri(Path::new("/repo")), "file:///repo/");
    }

    #[test]
    fn standard_input_keeps_its_display_name() {
        assert_eq!(display_uri("<stdin>"), "%3Cstdin%3E");
    }

    #[test]
    fn normalize_drops_dots() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), Path::new("/a/c"));
    }

    #[test]
    fn fnv1a_matches_the_reference_values() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c; ours appends a NUL.
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        hash ^= u64::from(b'a');
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        assert_eq!(hash, 0xaf63_dc4c_8601_ec8c);
        // FNV-1a 64 of "a\0", computed independently.
        assert_eq!(fnv1a(&["a"]), 0x089b_e207_b544_f1e4);
        assert_ne!(fnv1a(&["ab", "c"]), fnv1a(&["a", "bc"]));
    }
}
