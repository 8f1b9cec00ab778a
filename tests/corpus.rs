//! The real-world corpus in `../shared/corpus`: nothing panics, every range
//! is inside its file, and every fix has the three properties of RULE.md
//! ("The fix, exactly"): the document re-analyses clean, a second fix changes
//! nothing, and the YAML data equals the old data plus that one key.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use tokenguard_analysis::{analyze, apply_edits, fix_all_edits, Code, NoAccounts, FIELD};
use yaml_rust2::{Yaml, YamlLoader};

/// `new` equals `old` except that some mappings gained (or had replaced) the
/// key `automountServiceAccountToken` with the value `false`; returns how
/// many such places there are, or `None` when anything else differs.
fn changed_fields(old: &Yaml, new: &Yaml) -> Option<usize> {
    match (old, new) {
        (Yaml::Hash(o), Yaml::Hash(n)) => {
            let field = Yaml::String(FIELD.to_string());
            let mut changes = 0;
            for (key, new_value) in n {
                match o.get(key) {
                    Some(old_value) if old_value == new_value => {}
                    _ if *key == field && *new_value == Yaml::Boolean(false) => changes += 1,
                    Some(old_value) => changes += changed_fields(old_value, new_value)?,
                    None => return None,
                }
            }
            o.keys().all(|k| n.contains_key(k)).then_some(changes)
        }
        (Yaml::Array(o), Yaml::Array(n)) if o.len() == n.len() => {
            o.iter().zip(n).map(|(a, b)| changed_fields(a, b)).sum()
        }
        _ => (old == new).then_some(0),
    }
}

#[test]
fn every_corpus_file_is_analysed_and_every_fix_is_exact() {
    let Some(shared) = common::shared_dir("corpus") else {
        return;
    };
    let files = common::files_under(&shared.join("corpus"), common::is_yaml);
    assert!(files.len() > 3000, "the corpus has {} files", files.len());

    let mut failures = Vec::new();
    let (mut findings_total, mut syntax_errors, mut fixes_checked) = (0, 0, 0);
    let mut data_unloadable = 0;
    for path in &files {
        let shown = path
            .strip_prefix(&shared)
            .unwrap_or(path)
            .display()
            .to_string();
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let findings = match catch_unwind(AssertUnwindSafe(|| {
            analyze(&text, &NoAccounts, tokenguard_analysis::Options::builtin())
        })) {
            Ok(findings) => findings,
            Err(_) => {
                failures.push(format!("{shown}: the analysis panicked"));
                continue;
            }
        };
        findings_total += findings.len();
        for f in &findings {
            let in_text = f.range.start <= f.range.end
                && f.range.end <= text.len()
                && text.is_char_boundary(f.range.start)
                && text.is_char_boundary(f.range.end);
            if !in_text {
                failures.push(format!("{shown}: range {:?} is outside the text", f.range));
            }
        }
        if findings.iter().any(|f| f.code == Code::TG000) {
            syntax_errors += 1;
            continue;
        }
        let fixable = findings.iter().filter(|f| f.fix.is_some()).count();
        if fixable != findings.len() {
            failures.push(format!(
                "{shown}: {} findings without a fix",
                findings.len() - fixable
            ));
        }
        if fixable == 0 {
            continue;
        }
        let fixed = apply_edits(&text, &fix_all_edits(&findings));
        let after = analyze(&fixed, &NoAccounts, tokenguard_analysis::Options::builtin());
        if !after.is_empty() {
            failures.push(format!(
                "{shown}: after the fix, still {} findings: {}",
                after.len(),
                after[0].message
            ));
            continue;
        }
        if apply_edits(&fixed, &fix_all_edits(&after)) != fixed {
            failures.push(format!("{shown}: a second fix changed the text"));
        }
        // yaml-rust2's loader refuses duplicate keys, which Kubernetes
        // accepts (last wins): such files cannot have their data compared.
        let Ok(old) = YamlLoader::load_from_str(&text) else {
            data_unloadable += 1;
            continue;
        };
        let Ok(new) = YamlLoader::load_from_str(&fixed) else {
            failures.push(format!("{shown}: the fixed text no longer loads as YAML"));
            continue;
        };
        let changes = (old.len() == new.len())
            .then(|| {
                old.iter()
                    .zip(&new)
                    .map(|(o, n)| changed_fields(o, n))
                    .sum::<Option<usize>>()
            })
            .flatten();
        if changes != Some(fixable) {
            failures.push(format!(
                "{shown}: {fixable} fixes, but the data changed in {changes:?} places"
            ));
        }
        fixes_checked += fixable;
    }
    eprintln!(
        "corpus: {} files, {findings_total} findings, {syntax_errors} files with TG000, {fixes_checked} fixes verified, {data_unloadable} files whose data the loader refuses",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        fixes_checked > 1000,
        "only {fixes_checked} fixes were checked"
    );
}
