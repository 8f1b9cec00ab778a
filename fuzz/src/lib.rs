//! Checks shared by the fuzz targets. Each one panics (which libFuzzer
//! reports as a crash) when a property of tokenguard does not hold.

use tokenguard_analysis::{
    analyze, apply_edits, disable_on_account, fix_all_edits, ignore_comment, looks_like_kubernetes,
    parse, AccountAutomount, AccountIndex, AccountLookup, Code, Finding, IncrementalFile,
    LineIndex, NoAccounts, NodeKind, TextRange,
};

#[path = "../../tests/fuzz_support/data.rs"]
mod data;
use data::{data_besides_the_field, data_of};

/// Reads byte ranges of `text`, as the language server reads its rope.
pub fn text_of(text: &str) -> impl Fn(TextRange) -> String + '_ {
    move |r: TextRange| text[r.start..r.end].to_string()
}

/// Whether `offset` falls between the CR and the LF of a CRLF: a char
/// boundary, but no place LSP can name nor an edit may go.
pub fn inside_crlf(text: &str, offset: usize) -> bool {
    let bytes = text.as_bytes();
    offset > 0 && offset < bytes.len() && bytes[offset - 1] == b'\r' && bytes[offset] == b'\n'
}

/// `range` is ordered, inside `text`, and its ends are char boundaries
/// (and not inside a CRLF when `strict`).
pub fn check_range(text: &str, range: TextRange, strict: bool, what: &dyn std::fmt::Display) {
    assert!(
        range.start <= range.end && range.end <= text.len(),
        "{what}: range {range:?} outside a text of {} bytes",
        text.len()
    );
    assert!(
        text.is_char_boundary(range.start) && text.is_char_boundary(range.end),
        "{what}: range {range:?} not on char boundaries"
    );
    if strict {
        assert!(
            !inside_crlf(text, range.start) && !inside_crlf(text, range.end),
            "{what}: range {range:?} splits a CRLF"
        );
    }
}

/// Every range a finding carries is a valid range of `text`; findings come
/// in text order.
pub fn check_findings(text: &str, findings: &[Finding]) {
    for f in findings {
        let what = format!("{} {:?}", f.code.as_str(), f.message);
        // The parser's own locations (TG000) need only be slicable.
        check_range(text, f.range, f.code == Code::TG001, &what);
        if let Some(fix) = &f.fix {
            for edit in &fix.edits {
                check_range(text, edit.range, true, &format!("fix of {what}"));
            }
        }
        if let Some(found) = f.account.as_ref().and_then(|a| a.found.as_ref()) {
            if found.origin.is_none() {
                let a = &found.account;
                let ranges = [Some(a.name_range), Some(a.object), a.first_key]
                    .into_iter()
                    .chain([a.automount_key, a.automount_value])
                    .flatten();
                for r in ranges {
                    check_range(text, r, false, &format!("account of {what}"));
                }
            }
        }
    }
    assert!(
        findings
            .windows(2)
            .all(|w| (w[0].range.start, w[0].range.end, w[0].code)
                <= (w[1].range.start, w[1].range.end, w[1].code)),
        "findings out of order"
    );
}

/// A workspace whose `default` account in no namespace disables automounting
/// and whose `api` account in `prod` enables it.
pub fn workspace() -> AccountIndex {
    let mut index = AccountIndex::new();
    index.set(
        "workspace.yaml",
        parse(
            "kind: ServiceAccount\nmetadata: {name: default}\nautomountServiceAccountToken: false\n\
             ---\nkind: ServiceAccount\nmetadata: {name: api, namespace: prod}\n",
            tokenguard_analysis::Options::builtin(),
        )
        .accounts,
    );
    index
}

/// `analyze` must not panic, its ranges must be valid, and the incremental
/// engine built from scratch must agree with it.
pub fn check_text(text: &str) {
    let findings = analyze(text, &NoAccounts, tokenguard_analysis::Options::builtin());
    check_findings(text, &findings);
    let read = text_of(text);
    let mut file = IncrementalFile::new(text);
    assert_eq!(
        file.findings(&read, &NoAccounts, 0),
        findings,
        "IncrementalFile::new(text).findings != analyze(text)"
    );
    assert_eq!(
        file.looks_like_kubernetes(),
        looks_like_kubernetes(text),
        "looks_like_kubernetes differs"
    );
    // The same file against a workspace with accounts.
    let index = workspace();
    let with_workspace = analyze(text, &index, tokenguard_analysis::Options::builtin());
    check_findings(text, &with_workspace);
    assert_eq!(
        file.findings(&read, &index, 1),
        with_workspace,
        "IncrementalFile findings != analyze(text) with a workspace"
    );
}

fn count(findings: &[Finding], code: Code) -> usize {
    findings.iter().filter(|f| f.code == code).count()
}

/// Whether byte `offset` falls inside a scalar (`{name: a⏎ b}`): no comment
/// can go there.
fn inside_a_scalar(text: &str, offset: usize) -> bool {
    parse(text, tokenguard_analysis::Options::builtin())
        .documents
        .iter()
        .any(|d| {
            d.nodes.iter().any(|n| {
                matches!(n.kind, NodeKind::Scalar { .. })
                    && n.range.start < offset
                    && offset < n.range.end
            })
        })
}

/// Fix-all, once, leaves nothing to fix, breaks nothing, and a second round
/// changes nothing. The ignore comment and the account fix do what they say.
pub fn check_fixes(text: &str, workspace: &dyn AccountLookup) {
    let findings = analyze(text, workspace, tokenguard_analysis::Options::builtin());
    if findings.iter().any(|f| f.code == Code::TG000) {
        return;
    }
    check_findings(text, &findings);
    let edits = fix_all_edits(&findings);
    let fixed = apply_edits(text, &edits);
    let after = analyze(&fixed, workspace, tokenguard_analysis::Options::builtin());
    check_findings(&fixed, &after);
    assert_eq!(
        count(&after, Code::TG000),
        0,
        "fix-all made a syntax error: {after:#?}\n--- fixed text:\n{fixed}"
    );
    let left: Vec<&Finding> = after
        .iter()
        .filter(|f| f.code == Code::TG001 && f.fix.is_some())
        .collect();
    assert!(
        left.is_empty(),
        "fix-all left fixable findings: {left:#?}\n--- fixed text:\n{fixed}"
    );
    assert!(
        data_besides_the_field(&fixed) == data_besides_the_field(text),
        "fix-all changed other data\n--- fixed text:\n{fixed}"
    );
    let again = apply_edits(&fixed, &fix_all_edits(&after));
    assert_eq!(again, fixed, "a second fix-all round changed the text");
    // Unfixable findings stay, in the same number.
    assert_eq!(
        count(&after, Code::TG001),
        findings
            .iter()
            .filter(|f| f.code == Code::TG001 && f.fix.is_none())
            .count(),
        "fix-all changed the unfixable findings\n--- fixed text:\n{fixed}"
    );

    // An ignore comment for a finding suppresses it, and changes nothing else.
    let index = LineIndex::new(text);
    let tg001 = count(&findings, Code::TG001);
    for f in findings.iter().filter(|f| f.code == Code::TG001).take(4) {
        let line = index.line_of(f.range.start);
        let Some(fix) = ignore_comment(text, &index, f) else {
            // Only where no comment can count: the reported line starts and
            // ends inside scalars.
            assert!(
                inside_a_scalar(text, index.line_start(line))
                    && inside_a_scalar(text, index.line_end(text, line)),
                "no ignore comment offered for {:?}\n--- text:\n{text}",
                f.message
            );
            continue;
        };
        for edit in &fix.edits {
            check_range(text, edit.range, true, &"ignore comment");
        }
        let commented = apply_edits(text, &fix.edits);
        let after = analyze(
            &commented,
            workspace,
            tokenguard_analysis::Options::builtin(),
        );
        assert_eq!(
            count(&after, Code::TG000),
            0,
            "the ignore comment made a syntax error\n--- text:\n{commented}"
        );
        assert!(
            count(&after, Code::TG001) < tg001,
            "the ignore comment did not suppress {:?}\n--- text:\n{commented}",
            f.message
        );
        assert!(
            data_of(&commented) == data_of(text),
            "the ignore comment changed the data\n--- text:\n{commented}"
        );
    }

    // Disabling automounting on an account of the file.
    let accounts = parse(text, tokenguard_analysis::Options::builtin()).accounts;
    for (i, account) in accounts.iter().enumerate().take(4) {
        let Some(fix) = disable_on_account(text, account) else {
            continue;
        };
        for edit in &fix.edits {
            check_range(text, edit.range, true, &"account fix");
        }
        let changed = apply_edits(text, &fix.edits);
        let parsed = parse(&changed, tokenguard_analysis::Options::builtin());
        assert!(
            parsed.syntax_errors.is_empty(),
            "the account fix made a syntax error: {:?}\n--- text:\n{changed}",
            parsed.syntax_errors
        );
        let now = parsed.accounts.get(i);
        assert!(
            now.is_some_and(|a| a.name == account.name
                && a.namespace == account.namespace
                && a.automount == AccountAutomount::Disabled),
            "the account fix did not disable {:?}: now {now:?}\n--- text:\n{changed}",
            account.name
        );
    }
}

/// Reads `data` as text: as it is when it is UTF-8, else lossily.
pub fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}
