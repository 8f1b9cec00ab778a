//! Hover facts: what is under a position of a file, for an editor to
//! explain (the wording is the editor's).

use crate::finding::{Code, Finding};
use crate::fix::FIELD;

/// What a hover at a position is about.
#[derive(Clone, Debug, PartialEq)]
pub enum HoverFact {
    /// A reported TG001 finding covers the position.
    Finding(Box<Finding>),
    /// The position is on an `automountServiceAccountToken` key.
    FieldKey,
}

/// The fact at byte `offset`, among `findings` (those the user sees) and in
/// `line` (the text of the line holding `offset`, which starts at byte
/// `line_start`).
pub fn hover_fact<'a>(
    findings: impl IntoIterator<Item = &'a Finding>,
    line: &str,
    line_start: usize,
    offset: usize,
) -> Option<HoverFact> {
    let finding = findings
        .into_iter()
        .find(|f| f.code == Code::TG001 && f.range.start <= offset && offset <= f.range.end);
    if let Some(finding) = finding {
        return Some(HoverFact::Finding(Box::new(finding.clone())));
    }
    on_field_key(line, offset.saturating_sub(line_start)).then_some(HoverFact::FieldKey)
}

/// Whether `offset` is on an `automountServiceAccountToken` key (followed by
/// `:` after an optional closing quote).
pub fn on_field_key(text: &str, offset: usize) -> bool {
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
    if text.get(start..end) != Some(FIELD) {
        return false;
    }
    let rest = text[end..]
        .trim_start_matches(['"', '\''])
        .trim_start_matches([' ', '\t']);
    rest.starts_with(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_recognised_not_the_word_elsewhere() {
        let text = "automountServiceAccountToken: false\nnote: automountServiceAccountToken\n\"automountServiceAccountToken\" : x";
        assert!(on_field_key(text, 3));
        assert!(on_field_key(text, 0));
        assert!(!on_field_key(text, 45));
        assert!(on_field_key(text, text.rfind("Token").unwrap()));
    }

    #[test]
    fn a_finding_wins_over_the_key() {
        let text = "kind: Pod\nspec:\n  containers: []\n";
        let findings = crate::analyze(text, &crate::NoAccounts, crate::Options::builtin());
        let spec = text.find("spec").unwrap();
        assert!(matches!(
            hover_fact(&findings, "spec:", spec, spec + 1),
            Some(HoverFact::Finding(_))
        ));
        assert_eq!(hover_fact(&findings, "kind: Pod", 0, 1), None);
    }
}
