//! The `# tokenguard-ignore` comment: finding it (a finding on its line or
//! the line below is suppressed), and writing it (the ignore action, placed
//! where a comment is legal YAML and changes no value).

use crate::finding::Finding;
use crate::fix::{Fix, TextEdit};
use crate::placement::one_line;
use crate::text::{LineEnding, LineIndex, TextRange};
use crate::tree::{self, ChunkResult, NodeKind};

pub const IGNORE_MARKER: &str = "tokenguard-ignore";

/// Whether a finding reported on `line` is suppressed by a comment on that
/// line or on the line directly above it.
pub fn is_suppressed(text: &str, index: &LineIndex, line: usize) -> bool {
    has_ignore_comment(index.line_text(text, line))
        || (line > 0 && has_ignore_comment(index.line_text(text, line - 1)))
}

/// A `#` at the start of the line or after a blank opens a YAML comment; the
/// marker counts only inside one.
fn has_ignore_comment(line: &str) -> bool {
    let line = line.trim_start_matches('\u{feff}');
    let Some(marker) = line.find(IGNORE_MARKER) else {
        return false;
    };
    let bytes = line.as_bytes();
    bytes[..marker]
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'#' && (i == 0 || matches!(bytes[i - 1], b' ' | b'\t')))
}

const TITLE: &str = "Ignore this finding with a tokenguard-ignore comment";
const REASON: &str = "needs the Kubernetes API";

/// The comment's reason: that the pod needs the API and, when its account is
/// bound to roles in the checked files, the permissions the comment accepts
/// (`needs the Kubernetes API (accepts: bound to ClusterRole "edit" by
/// RoleBinding "ci"; read Secrets, create pods)`), so that a reviewer sees
/// what was accepted, and a later change of the bindings shows against it.
fn reason(finding: &Finding) -> String {
    let Some(permissions) = finding.permissions.as_ref().filter(|p| p.is_bound()) else {
        return REASON.to_string();
    };
    let mut accepts = one_line(&permissions.summary());
    let capabilities: Vec<&str> = permissions
        .capabilities()
        .iter()
        .map(|(c, _)| c.label())
        .fold(Vec::new(), |mut labels, label| {
            if !labels.contains(&label) {
                labels.push(label);
            }
            labels
        });
    if !capabilities.is_empty() {
        accepts.push_str("; ");
        accepts.push_str(&capabilities.join(", "));
    }
    format!("{REASON} (accepts: {accepts})")
}

/// A `# tokenguard-ignore: reason` comment for `finding`, which counts on its
/// line or on the line directly above (see [`is_suppressed`]). Usually a new line
/// above the reported one, at its indentation. When the reported line starts
/// inside a multi-line scalar (`{name: a⏎ b}, spec: ...`), a comment line
/// above it would split the scalar (a syntax error, or a changed string), so
/// the comment goes at the end of the reported line instead; `None` when that
/// end is inside a multi-line scalar too, as no comment can count there.
pub fn ignore_comment(text: &str, index: &LineIndex, finding: &Finding) -> Option<Fix> {
    let line = index.line_of(finding.range.start);
    let line_start = index.line_start(line);
    let line_end = index.line_end(text, line);
    let scalars = scalars_around(text, index, line_start);
    let inside = |offset: usize| scalars.iter().any(|r| r.start < offset && offset < r.end);
    if !inside(line_start) {
        let eol =
            LineEnding::before(text, line_start).unwrap_or_else(|| LineEnding::first_in(text));
        return Some(ignore_comment_line(
            index.line_text(text, line),
            line_start,
            eol,
            &reason(finding),
        ));
    }
    if inside(line_end) {
        return None;
    }
    Some(Fix {
        title: TITLE.to_string(),
        edits: vec![TextEdit {
            range: TextRange::empty(line_end),
            new_text: format!(" # {IGNORE_MARKER}: {}", reason(finding)),
        }],
        file: None,
    })
}

/// [`ignore_comment`] above the reported line, from that line alone: its text
/// (without the break), where it starts, and the file's line ending. Only
/// right when the line does not start inside a multi-line scalar.
pub(crate) fn ignore_comment_line(
    line: &str,
    line_start: usize,
    eol: LineEnding,
    reason: &str,
) -> Fix {
    // A byte-order mark must stay the first character of the file.
    let (at, line) = match line.strip_prefix('\u{feff}') {
        Some(rest) if line_start == 0 => ('\u{feff}'.len_utf8(), rest),
        _ => (line_start, line),
    };
    let indent: String = line
        .chars()
        .take_while(|c| matches!(c, ' ' | '\t'))
        .collect();
    Fix {
        title: TITLE.to_string(),
        edits: vec![TextEdit {
            range: TextRange::empty(at),
            new_text: format!("{indent}# {IGNORE_MARKER}: {reason}{}", eol.as_str()),
        }],
        file: None,
    }
}

/// The ranges of the scalars of the document that holds byte `offset` (only
/// that document is parsed: the others cannot reach its lines).
fn scalars_around(text: &str, index: &LineIndex, offset: usize) -> Vec<TextRange> {
    let body_start = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let Some(chunk) = crate::split::split_documents(text, body_start)
        .into_iter()
        .find(|c| c.range.start <= offset && offset <= c.range.end)
    else {
        return Vec::new();
    };
    match tree::build_chunk(text, index, chunk) {
        ChunkResult::Documents(docs) => docs
            .iter()
            .flat_map(|d| &d.nodes)
            .filter(|n| matches!(n.kind, NodeKind::Scalar { .. }))
            .map(|n| n.range)
            .collect(),
        ChunkResult::Error(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{analyze, apply_edits, parse, NoAccounts};

    fn commented(text: &str) -> Option<String> {
        let findings = analyze(text, &NoAccounts, crate::Options::builtin());
        assert_eq!(findings.len(), 1, "{text:?}");
        let fix = ignore_comment(text, &LineIndex::new(text), &findings[0])?;
        Some(apply_edits(text, &fix.edits))
    }

    #[test]
    fn a_comment_line_above_the_reported_line() {
        let text = "kind: Pod\nspec:\n  containers: []\n";
        let fixed = commented(text).unwrap();
        assert_eq!(
            fixed,
            "kind: Pod\n# tokenguard-ignore: needs the Kubernetes API\nspec:\n  containers: []\n"
        );
        assert!(analyze(&fixed, &NoAccounts, crate::Options::builtin()).is_empty());
    }

    #[test]
    fn a_line_starting_inside_a_multi_line_scalar_gets_the_comment_at_its_end() {
        for (text, expected) in [
            (
                "{kind: Pod, metadata: {name: a\n b}, spec: {containers: []}}\n",
                "{kind: Pod, metadata: {name: a\n b}, spec: {containers: []}} # tokenguard-ignore: needs the Kubernetes API\n",
            ),
            (
                "{kind: Pod, metadata: {name: \"a\n b\"}, spec: {containers: []}}",
                "{kind: Pod, metadata: {name: \"a\n b\"}, spec: {containers: []}} # tokenguard-ignore: needs the Kubernetes API",
            ),
        ] {
            let fixed = commented(text).unwrap();
            assert_eq!(fixed, expected);
            assert!(analyze(&fixed, &NoAccounts, crate::Options::builtin()).is_empty());
            assert_eq!(parse(&fixed, crate::Options::builtin()).workloads[0].1.name.as_deref(), Some("a b"));
        }
    }

    #[test]
    fn no_comment_when_the_reported_line_starts_and_ends_inside_scalars() {
        let text = "{kind: Pod, metadata: {name: a\n b}, spec: {containers: []}, x: 'c\n d'}\n";
        assert_eq!(commented(text), None);
    }

    #[test]
    fn the_comment_records_the_permissions_it_accepts_and_still_suppresses() {
        use crate::rbac::{
            BindingKind, Capability, Grant, Permissions, Risk, RoleSource, Scope, Via,
        };
        let text = "kind: Pod\nspec:\n  serviceAccountName: ci\n  containers: []\n";
        let mut finding = analyze(text, &NoAccounts, crate::Options::builtin()).remove(0);
        finding.permissions = Some(std::sync::Arc::new(Permissions {
            namespace: None,
            account: "ci".to_string(),
            grants: vec![Grant {
                binding_kind: BindingKind::RoleBinding,
                binding: "ci".to_string(),
                binding_namespace: None,
                binding_place: None,
                via: Via::ServiceAccount,
                role: RoleSource::Builtin {
                    name: "edit".to_string(),
                    kubernetes: "v1.33",
                },
                scope: Scope::Namespace(None),
                rules: Default::default(),
                capabilities: vec![Capability::ReadSecrets, Capability::CreatePods],
            }],
            defaults: Vec::new(),
            risk: Risk::DangerousInNamespace,
        }));
        let fix = ignore_comment(text, &LineIndex::new(text), &finding).unwrap();
        let fixed = apply_edits(text, &fix.edits);
        assert_eq!(
            fixed,
            "kind: Pod\n# tokenguard-ignore: needs the Kubernetes API (accepts: bound to ClusterRole \"edit\" by RoleBinding \"ci\" in the binding's namespace; read Secrets, create pods)\nspec:\n  serviceAccountName: ci\n  containers: []\n"
        );
        assert!(analyze(&fixed, &NoAccounts, crate::Options::builtin()).is_empty());
    }

    #[test]
    fn marker_must_be_in_a_comment() {
        assert!(has_ignore_comment("spec: # tokenguard-ignore"));
        assert!(has_ignore_comment(
            "# tokenguard-ignore: operator needs the API"
        ));
        assert!(has_ignore_comment("\t#tokenguard-ignore"));
        assert!(!has_ignore_comment("name: tokenguard-ignore"));
        assert!(!has_ignore_comment("url: http://x#tokenguard-ignore"));
        assert!(!has_ignore_comment("spec: # nothing"));
    }

    #[test]
    fn same_line_or_the_line_above() {
        let text = "# tokenguard-ignore\nspec:\n  a: 1\n";
        let index = LineIndex::new(text);
        assert!(is_suppressed(text, &index, 1));
        assert!(!is_suppressed(text, &index, 2));
    }
}
