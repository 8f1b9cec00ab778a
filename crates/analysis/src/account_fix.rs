//! The account fix: disabling automounting on the ServiceAccount a pod runs
//! as, instead of in the pod spec.

use crate::fix::{
    fill_empty_value, replace_block_collection, tag_start_before, Fix, TextEdit, FIELD,
};
use crate::objects::ServiceAccount;
use crate::text::{LineEnding, TextRange};

/// Sets `automountServiceAccountToken: false` on a ServiceAccount; `text` is
/// the text of the file that declares it. `None` when the recorded ranges no
/// longer fit that text.
pub fn disable_on_account(text: &str, account: &ServiceAccount) -> Option<Fix> {
    let fits = |r: TextRange| {
        r.end <= text.len() && text.is_char_boundary(r.start) && text.is_char_boundary(r.end)
    };
    let edits = match (account.automount_key, account.automount_value) {
        (Some(key), Some(value))
            if fits(key) && fits(value) && account.automount_value_is_block =>
        {
            // The collection starts on a later line (found by fuzzing: only
            // its range went, which left `false` and its lines' rest apart).
            let colon = text[key.end..value.start.max(key.end)].find(':')? + key.end;
            replace_block_collection(text, colon, value.end)
        }
        (Some(key), Some(value)) if fits(key) && fits(value) => vec![{
            if value.is_empty() {
                fill_empty_value(
                    text,
                    key.end,
                    value.start,
                    account.automount_value_properties,
                )
            } else {
                TextEdit {
                    range: TextRange::new(tag_start_before(text, value.start, key.end), value.end),
                    new_text: "false".to_string(),
                }
            }
        }],
        (Some(_), _) => return None,
        (None, _) if account.flow && fits(account.object) => vec![TextEdit {
            range: TextRange::empty(account.object.end - 1),
            new_text: format!(", {FIELD}: false"),
        }],
        (None, _) => vec![append_to_block_mapping(
            text,
            account.object,
            account.first_key?,
        )?],
    };
    Some(Fix {
        title: format!(
            "Disable automounting on ServiceAccount \"{}\"",
            account.name
        ),
        edits,
        file: None,
    })
}

/// A new last entry of a block mapping, at the column of its first key.
fn append_to_block_mapping(
    text: &str,
    mapping: TextRange,
    first_key: TextRange,
) -> Option<TextEdit> {
    if mapping.end > text.len() || first_key.start > text.len() {
        return None;
    }
    let bytes = text.as_bytes();
    let first_line_start = text[..first_key.start]
        .rfind(['\n', '\r'])
        .map_or(0, |i| i + 1);
    // The mapping's column: after the blanks and the `- ` of sequence items
    // before its first key, at a `?` or a property (found by fuzzing: with
    // `? key` first, the field went under the key, not beside the `?`).
    let prefix = &text[first_line_start..first_key.start];
    let mut column = 0;
    let chars: Vec<char> = prefix.chars().collect();
    while column < chars.len() {
        match chars[column] {
            ' ' | '\t' => column += 1,
            '-' if matches!(chars.get(column + 1), Some(' ' | '\t')) => column += 1,
            _ => break,
        }
    }
    let indent = " ".repeat(column);
    let eol =
        LineEnding::before(text, first_line_start).unwrap_or_else(|| LineEnding::first_in(text));
    let mut at = mapping.end;
    while at < bytes.len() && !matches!(bytes[at], b'\n' | b'\r') {
        at += 1;
    }
    let new_text = if at == bytes.len() {
        format!("{}{indent}{FIELD}: false", eol.as_str())
    } else {
        at += LineEnding::before(text, at + 1).map_or(1, |e| e.as_str().len());
        if bytes.get(at - 1) == Some(&b'\r') && bytes.get(at) == Some(&b'\n') {
            at += 1;
        }
        format!("{indent}{FIELD}: false{}", eol.as_str())
    };
    Some(TextEdit {
        range: TextRange::empty(at.min(bytes.len())),
        new_text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{apply_edits, parse};

    fn account(text: &str) -> ServiceAccount {
        parse(text, crate::Options::builtin())
            .accounts
            .into_iter()
            .next()
            .expect("one ServiceAccount")
    }

    #[test]
    fn account_without_the_field_gets_it_as_last_entry() {
        let text = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ci\n---\nkind: X\n";
        let fix = disable_on_account(text, &account(text)).unwrap();
        let fixed = apply_edits(text, &fix.edits);
        assert_eq!(fixed, "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ci\nautomountServiceAccountToken: false\n---\nkind: X\n");
        assert_eq!(
            parse(&fixed, crate::Options::builtin()).accounts[0].automount,
            crate::AccountAutomount::Disabled
        );
    }

    #[test]
    fn account_at_end_of_file_without_newline() {
        let text = "kind: ServiceAccount\r\nmetadata:\r\n  name: ci";
        let fixed = apply_edits(
            text,
            &disable_on_account(text, &account(text)).unwrap().edits,
        );
        assert_eq!(fixed, "kind: ServiceAccount\r\nmetadata:\r\n  name: ci\r\nautomountServiceAccountToken: false");
    }

    #[test]
    fn account_with_true_or_empty_value_is_set_to_false() {
        for (value, expected) in [
            (" true # on", " false # on"),
            ("", " false"),
            (" !!str no", " false"),
        ] {
            let text = format!("kind: ServiceAccount\nmetadata: {{name: ci}}\nautomountServiceAccountToken:{value}\n");
            let fixed = apply_edits(
                &text,
                &disable_on_account(&text, &account(&text)).unwrap().edits,
            );
            assert_eq!(fixed, format!("kind: ServiceAccount\nmetadata: {{name: ci}}\nautomountServiceAccountToken:{expected}\n"));
        }
    }

    #[test]
    fn account_with_a_block_collection_value_loses_its_lines() {
        // Found by fuzzing: only the tag and `-` were replaced.
        let text =
            "metadata:\n name: br\nautomountServiceAccountToken: !s\n-\nkind: ServiceAccount\n";
        let fixed = apply_edits(
            text,
            &disable_on_account(text, &account(text)).unwrap().edits,
        );
        assert_eq!(
            fixed,
            "metadata:\n name: br\nautomountServiceAccountToken: false\nkind: ServiceAccount\n"
        );
        assert_eq!(
            parse(&fixed, crate::Options::builtin()).accounts[0].automount,
            crate::AccountAutomount::Disabled
        );
    }

    #[test]
    fn flow_account_gets_the_field_before_the_brace() {
        let text = "{kind: ServiceAccount, metadata: {name: ci}}\n";
        let fixed = apply_edits(
            text,
            &disable_on_account(text, &account(text)).unwrap().edits,
        );
        assert_eq!(
            fixed,
            "{kind: ServiceAccount, metadata: {name: ci}, automountServiceAccountToken: false}\n"
        );
    }
}
