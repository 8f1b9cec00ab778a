//! Inputs the fuzz targets of `fuzz/` once crashed on, replayed on every
//! `cargo test`. Each file of `tests/fuzz_regressions/` is one JSON case:
//!
//! * `{"text": "..."}`: `analyze` must not panic, its ranges must be valid,
//!   `IncrementalFile::new(text)` must agree with it, fix-all must leave
//!   nothing to fix, each finding's ignore comment must suppress it and change
//!   no data, and each ServiceAccount's fix must disable it without a syntax
//!   error (targets `analyze_bytes`, `fix_pipeline`);
//! * `{"text": "...", "edits": [[start, end, "insert"], ...]}`: the edits are
//!   applied one after another to the text and to an `IncrementalFile`, which
//!   must agree with a fresh `analyze` after each (target `incremental_edits`).
//!
//! Offsets are bytes. JSON keeps every byte of the text (CR, BOM, NUL) as it is.

use std::fs;
use std::path::Path;

use tokenguard_analysis::{
    analyze, apply_edits, disable_on_account, fix_all_edits, ignore_comment, looks_like_kubernetes,
    parse, AccountAutomount, Code, Finding, IncrementalFile, LineIndex, NoAccounts, TextRange,
};

#[path = "fuzz_support/data.rs"]
mod data;
use data::{data_besides_the_field, data_of};

const CASES: &str = "tests/fuzz_regressions";

fn check_ranges(case: &str, text: &str, findings: &[Finding]) {
    let ok = |r: TextRange| {
        r.start <= r.end
            && r.end <= text.len()
            && text.is_char_boundary(r.start)
            && text.is_char_boundary(r.end)
    };
    for f in findings {
        assert!(ok(f.range), "{case}: finding range {:?}", f.range);
        for edit in f.fix.iter().flat_map(|fix| &fix.edits) {
            assert!(ok(edit.range), "{case}: fix range {:?}", edit.range);
        }
    }
}

fn check_text(case: &str, text: &str) {
    let findings = analyze(text, &NoAccounts, tokenguard_analysis::Options::builtin());
    check_ranges(case, text, &findings);
    let read = |r: TextRange| text[r.start..r.end].to_string();
    assert_eq!(
        IncrementalFile::new(text).findings(&read, &NoAccounts, 0),
        findings,
        "{case}: IncrementalFile::new(text) != analyze(text)"
    );
    assert_eq!(
        IncrementalFile::new(text).looks_like_kubernetes(),
        looks_like_kubernetes(text),
        "{case}: looks_like_kubernetes differs"
    );
    if findings.iter().any(|f| f.code == Code::TG000) {
        return;
    }
    let fixed = apply_edits(text, &fix_all_edits(&findings));
    let after = analyze(&fixed, &NoAccounts, tokenguard_analysis::Options::builtin());
    assert!(
        after
            .iter()
            .all(|f| f.code == Code::TG001 && f.fix.is_none()),
        "{case}: fix-all left {after:#?}"
    );
    assert!(
        data_besides_the_field(&fixed) == data_besides_the_field(text),
        "{case}: fix-all changed other data: {fixed:?}"
    );
    check_ignore_comments(case, text, &findings);
    check_account_fixes(case, text);
}

/// Each finding's ignore comment suppresses it and changes no data
/// (`fix_pipeline`).
fn check_ignore_comments(case: &str, text: &str, findings: &[Finding]) {
    let index = LineIndex::new(text);
    for finding in findings.iter().filter(|f| f.code == Code::TG001) {
        let Some(fix) = ignore_comment(text, &index, finding) else {
            continue;
        };
        let commented = apply_edits(text, &fix.edits);
        let after = analyze(
            &commented,
            &NoAccounts,
            tokenguard_analysis::Options::builtin(),
        );
        assert!(
            after.iter().all(|f| f.code == Code::TG001) && after.len() < findings.len(),
            "{case}: the ignore comment did not suppress {:?}: {commented:?}",
            finding.message
        );
        assert!(
            data_of(&commented) == data_of(text),
            "{case}: the ignore comment changed the data: {commented:?}"
        );
    }
}

/// Disabling automounting on each ServiceAccount of the text makes no syntax
/// error and disables it (`fix_pipeline`).
fn check_account_fixes(case: &str, text: &str) {
    for (i, account) in parse(text, tokenguard_analysis::Options::builtin())
        .accounts
        .iter()
        .enumerate()
    {
        let Some(fix) = disable_on_account(text, account) else {
            continue;
        };
        let changed = apply_edits(text, &fix.edits);
        let parsed = parse(&changed, tokenguard_analysis::Options::builtin());
        assert!(
            parsed.syntax_errors.is_empty(),
            "{case}: the account fix made a syntax error: {changed:?}"
        );
        assert!(
            parsed.accounts.get(i).is_some_and(
                |a| a.name == account.name && a.automount == AccountAutomount::Disabled
            ),
            "{case}: the account fix did not disable {:?}: {changed:?}",
            account.name
        );
    }
}

fn check_edits(case: &str, text: &str, edits: &[serde_json::Value]) {
    let mut text = text.to_string();
    let mut file = IncrementalFile::new(&text);
    for (i, edit) in edits.iter().enumerate() {
        let start = edit[0].as_u64().expect("start") as usize;
        let end = edit[1].as_u64().expect("end") as usize;
        let insert = edit[2].as_str().expect("insert");
        text.replace_range(start..end, insert);
        let read = |r: TextRange| text[r.start..r.end].to_string();
        file.edit(TextRange::new(start, end), insert.len(), text.len(), &read);
        assert_eq!(
            file.findings(&read, &NoAccounts, 0),
            analyze(&text, &NoAccounts, tokenguard_analysis::Options::builtin()),
            "{case}: IncrementalFile != analyze after edit {i} ({start}..{end} -> {insert:?}): {text:?}"
        );
    }
}

#[test]
fn fuzz_regressions_stay_fixed() {
    let mut cases: Vec<_> = fs::read_dir(Path::new(CASES))
        .expect("tests/fuzz_regressions")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no case in {CASES}");
    for path in &cases {
        let case = path.display().to_string();
        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(path).expect("read")).expect("JSON");
        let text = json["text"].as_str().expect("a \"text\" string");
        match json.get("edits").and_then(|e| e.as_array()) {
            Some(edits) => check_edits(&case, text, edits),
            None => check_text(&case, text),
        }
    }
}

/// Found by the `fix_pipeline` target: the ignore comment went on a new line
/// above the reported one even when that line starts inside a multi-line
/// scalar of a flow collection, which split the scalar (a syntax error for a
/// plain scalar; a quoted one silently got the comment in its value). It now
/// goes at the end of the reported line.
#[test]
fn an_ignore_comment_never_splits_a_multi_line_scalar() {
    for text in [
        "{kind: Pod, metadata: {name: a\n b}, spec: {containers: []}}\n",
        "{kind: Pod, metadata: {name: \"a\n b\"}, spec: {containers: []}}\n",
    ] {
        let findings = analyze(text, &NoAccounts, tokenguard_analysis::Options::builtin());
        assert_eq!(findings.len(), 1, "{text:?}");
        let fix = ignore_comment(text, &LineIndex::new(text), &findings[0])
            .expect("a place for the comment");
        let commented = apply_edits(text, &fix.edits);
        assert_eq!(
            analyze(
                &commented,
                &NoAccounts,
                tokenguard_analysis::Options::builtin()
            ),
            [],
            "{commented}"
        );
        // And the workload's name is still `a b`.
        let name = |t: &str| {
            tokenguard_analysis::parse(t, tokenguard_analysis::Options::builtin()).workloads[0]
                .1
                .name
                .clone()
        };
        assert_eq!(name(&commented), name(text), "{commented}");
    }
}
