//! Hovers on a reported `spec` key or on an `automountServiceAccountToken` key.

use tokenguard_analysis::{Code, Finding, Problem, FIELD, IGNORE_MARKER};

use crate::config::Settings;
use crate::diagnostics::{Analyzed, DOCS_URL};

const WHY: &str = "Unless a pod says otherwise, Kubernetes mounts a token of its ServiceAccount \
at `/var/run/secrets/kubernetes.io/serviceaccount` in every container. Whoever gains control of \
one of those containers can read the token and act on the API server with every permission the \
account holds. Most workloads never talk to the Kubernetes API, so for them the token is only \
something an attacker can use.";

/// Markdown for the position at byte `offset`, if it is on a finding or on
/// the field's key.
pub fn hover_markdown(analyzed: &Analyzed, settings: &Settings, offset: usize) -> Option<String> {
    let finding = analyzed
        .visible(settings)
        .find(|f| f.code == Code::TG001 && f.range.start <= offset && offset <= f.range.end);
    if let Some(finding) = finding {
        return Some(explain_finding(finding));
    }
    // Only the line under the cursor is needed.
    let rope = &analyzed.rope;
    let line = rope.byte_to_line(offset.min(rope.len_bytes()));
    let line_start = rope.line_to_byte(line);
    let text = rope.line(line).to_string();
    on_field_key(&text, offset.saturating_sub(line_start)).then(explain_field)
}

/// The editor shows the diagnostic's message beside the hover: the hover
/// says what it means instead of repeating it.
fn explain_finding(finding: &Finding) -> String {
    let (what, fix) = match finding.problem {
        Problem::Missing => (
            format!("The pod spec does not set `{FIELD}`, and nothing else turns the token off."),
            format!(
                "Add `{FIELD}: false` to the pod spec (the quick fix does it), or set it on the \
                 ServiceAccount the pod runs as, which covers every pod using that account."
            ),
        ),
        Problem::Null => (
            format!("`{FIELD}` is present but empty, which Kubernetes reads as not set."),
            "Give it the value `false` (the quick fix does it).".to_string(),
        ),
        Problem::ExplicitTrue => (
            format!("The pod spec asks for the token with `{FIELD}: true`."),
            "Set it to `false` unless the pod calls the Kubernetes API.".to_string(),
        ),
        _ => (
            format!("`{FIELD}` must be the plain boolean `false`; this value is not a boolean."),
            format!("Set `{FIELD}` to the plain value `false` (the quick fix does it)."),
        ),
    };
    format!(
        "### tokenguard TG001: service-account token mounted\n\n{what}\n\n**Why it matters.** {WHY}\n\n\
         **How to fix it.** {fix}\n\n**When the pod really needs the API** (an operator, a \
         controller, a CI runner): set `{FIELD}: true` and put `# {IGNORE_MARKER}: <reason>` on \
         that line or the line above, so the exception is explicit and reviewed.\n\n\
         [Kubernetes: opt out of API credential automounting]({DOCS_URL})"
    )
}

fn explain_field() -> String {
    format!(
        "### `{FIELD}`\n\nWhether Kubernetes mounts the ServiceAccount token into the pod's \
         containers. Only the plain boolean `false` turns it off (YAML 1.1: `false`, `no`, `off`, \
         `n` in any of their usual spellings); a quoted `\"false\"` is a string and the API \
         server rejects it. A value in the pod spec wins over the ServiceAccount's.\n\n{WHY}\n\n\
         [Kubernetes: opt out of API credential automounting]({DOCS_URL})"
    )
}

/// Whether `offset` is on an `automountServiceAccountToken` key (followed by
/// `:` after an optional closing quote).
fn on_field_key(text: &str, offset: usize) -> bool {
    let bytes = text.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric();
    let offset = offset.min(bytes.len());
    let mut start = offset;
    while start > 0 && is_word(bytes[start - 1]) {
        start -= 1;
    }
    let mut end = offset;
    while end < bytes.len() && is_word(bytes[end]) {
        end += 1;
    }
    if &text[start..end] != FIELD {
        return false;
    }
    let rest = text[end..]
        .trim_start_matches(['"', '\''])
        .trim_start_matches([' ', '\t']);
    rest.starts_with(':')
}

#[cfg(test)]
mod tests {
    use super::on_field_key;

    #[test]
    fn the_key_is_recognised_not_the_word_elsewhere() {
        let text = "automountServiceAccountToken: false\nnote: automountServiceAccountToken\n\"automountServiceAccountToken\" : x";
        assert!(on_field_key(text, 3));
        assert!(on_field_key(text, 0));
        assert!(!on_field_key(text, 45));
        assert!(on_field_key(text, text.rfind("Token").unwrap()));
    }
}
