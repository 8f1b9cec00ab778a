//! The projected token action over the fixtures and the real-world corpus in
//! `../shared/corpus` (its plain manifests up to 100 KB): wherever it is offered, applying it removes exactly its
//! finding, a second application has nothing to do, and the YAML data equals
//! the old data plus exactly the field, the projected volume and one mount per
//! container, in one pod spec. Where it is not offered, it says nothing wrong
//! (counted, so a change in how often it is offered shows).

mod common;

use std::path::{Path, PathBuf};

use tokenguard_analysis::{
    analyze, apply_edits, projected_token, Code, NoAccounts, Options, TokenProjection, FIELD,
    PROJECTED_VOLUME, TOKEN_MOUNT_PATH,
};
use yaml_rust2::{Yaml, YamlLoader};

/// The data with every mapping's keys in one order.
fn canon(y: &Yaml) -> String {
    match y {
        Yaml::Hash(map) => {
            let mut entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", canon(k), canon(v)))
                .collect();
            entries.sort();
            format!("{{{}}}", entries.join(", "))
        }
        Yaml::Array(items) => format!(
            "[{}]",
            items.iter().map(canon).collect::<Vec<_>>().join(", ")
        ),
        other => format!("{other:?}"),
    }
}

fn key(s: &str) -> Yaml {
    Yaml::String(s.to_string())
}

#[derive(Clone, Debug)]
enum Step {
    Key(Yaml),
    Index(usize),
}

/// The paths of the mappings of `y` for which `pick` holds.
fn paths(y: &Yaml, pick: &dyn Fn(&Yaml) -> bool, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    if pick(y) {
        out.push(at.clone());
    }
    match y {
        Yaml::Hash(map) => {
            for (k, v) in map {
                at.push(Step::Key(k.clone()));
                paths(v, pick, at, out);
                at.pop();
            }
        }
        Yaml::Array(items) => {
            for (n, v) in items.iter().enumerate() {
                at.push(Step::Index(n));
                paths(v, pick, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn at_path<'y>(y: &'y mut Yaml, path: &[Step]) -> Option<&'y mut Yaml> {
    let mut at = y;
    for step in path {
        at = match (at, step) {
            (Yaml::Hash(map), Step::Key(k)) => map.get_mut(k)?,
            (Yaml::Array(items), Step::Index(n)) => items.get_mut(*n)?,
            _ => return None,
        };
    }
    Some(at)
}

/// A pod spec that mounts the projected volume.
fn projected_spec(y: &Yaml) -> bool {
    let Yaml::Hash(map) = y else { return false };
    let Some(Yaml::Array(volumes)) = map.get(&key("volumes")) else {
        return false;
    };
    volumes
        .iter()
        .any(|v| v["name"].as_str() == Some(PROJECTED_VOLUME) && !v["projected"].is_badvalue())
}

fn push(map: &mut yaml_rust2::yaml::Hash, k: &str, item: Yaml) -> Option<()> {
    match map.entry(key(k)).or_insert_with(|| Yaml::Array(Vec::new())) {
        Yaml::Array(items) => {
            items.push(item);
            Some(())
        }
        _ => None,
    }
}

/// `old` with the action's additions in the pod spec at `path`.
fn expected(old: &Yaml, path: &[Step]) -> Option<Yaml> {
    let snippet = format!(
        "volume:\n  name: {PROJECTED_VOLUME}\n  projected:\n    sources:\n    - serviceAccountToken: {{path: token, expirationSeconds: 3600}}\n    - configMap:\n        name: kube-root-ca.crt\n        items: [{{key: ca.crt, path: ca.crt}}]\n    - downwardAPI:\n        items: [{{path: namespace, fieldRef: {{apiVersion: v1, fieldPath: metadata.namespace}}}}]\nmount: {{name: {PROJECTED_VOLUME}, mountPath: {TOKEN_MOUNT_PATH}, readOnly: true}}\n"
    );
    let parts = YamlLoader::load_from_str(&snippet).ok()?.remove(0);
    let mut new = old.clone();
    let Yaml::Hash(spec) = at_path(&mut new, path)? else {
        return None;
    };
    spec.insert(key(FIELD), Yaml::Boolean(false));
    push(spec, "volumes", parts["volume"].clone())?;
    for list in ["containers", "initContainers"] {
        if let Some(Yaml::Array(items)) = spec.get_mut(&key(list)) {
            for item in items {
                let Yaml::Hash(container) = item else {
                    return None;
                };
                push(container, "volumeMounts", parts["mount"].clone())?;
            }
        }
    }
    Some(new)
}

#[derive(Default)]
struct Tally {
    findings: usize,
    offered: usize,
    verified: usize,
    unloadable: usize,
    failures: Vec<String>,
}

/// Every TG001 finding of `text`: the action, when offered, is exact.
fn check_file(shown: &str, text: &str, tally: &mut Tally) {
    let findings = analyze(text, &NoAccounts, Options::builtin());
    if findings.iter().any(|f| f.code == Code::TG000) {
        return;
    }
    for finding in &findings {
        tally.findings += 1;
        let Some(action) = projected_token(text, finding, &TokenProjection::default()) else {
            continue;
        };
        tally.offered += 1;
        let fixed = apply_edits(text, &action.edits);
        let after = analyze(&fixed, &NoAccounts, Options::builtin());
        let workload = |f: &tokenguard_analysis::Finding| f.workload.clone();
        if after.len() + 1 != findings.len()
            || after.iter().any(|f| workload(f) == finding.workload)
        {
            tally.failures.push(format!(
                "{shown}: {} findings after the action on {:?}, {} before",
                after.len(),
                finding.workload,
                findings.len()
            ));
            continue;
        }
        let Ok(old) = YamlLoader::load_from_str(text) else {
            tally.unloadable += 1;
            continue;
        };
        let Ok(new) = YamlLoader::load_from_str(&fixed) else {
            tally
                .failures
                .push(format!("{shown}: the edited text no longer loads as YAML"));
            continue;
        };
        if old.len() != new.len() {
            tally
                .failures
                .push(format!("{shown}: the number of documents changed"));
            continue;
        }
        let mut changed = 0;
        for (o, n) in old.iter().zip(&new) {
            if canon(o) == canon(n) {
                continue;
            }
            changed += 1;
            let mut in_new = Vec::new();
            paths(n, &projected_spec, &mut Vec::new(), &mut in_new);
            let added: Vec<&Vec<Step>> = in_new
                .iter()
                .filter(|p| {
                    let mut o = o.clone();
                    !at_path(&mut o, p).is_some_and(|y| projected_spec(y))
                })
                .collect();
            let exact =
                added.len() == 1 && expected(o, added[0]).is_some_and(|e| canon(&e) == canon(n));
            if !exact {
                tally.failures.push(format!(
                    "{shown}: the data changed beyond the action's additions for {:?}",
                    finding.workload
                ));
            }
        }
        if changed != 1 {
            tally
                .failures
                .push(format!("{shown}: {changed} documents changed"));
            continue;
        }
        tally.verified += 1;
    }
}

fn yaml_files(root: &Path) -> Vec<PathBuf> {
    common::files_under(root, common::is_yaml)
}

#[test]
fn the_action_is_exact_on_every_fixture() {
    let mut tally = Tally::default();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for path in yaml_files(&root) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        check_file(&path.display().to_string(), &text, &mut tally);
    }
    eprintln!(
        "fixtures: {} findings, action offered on {}, {} verified by data",
        tally.findings, tally.offered, tally.verified
    );
    assert!(tally.failures.is_empty(), "{}", tally.failures.join("\n"));
    assert!(tally.offered > 10, "offered only {} times", tally.offered);
}

#[test]
fn the_action_is_exact_on_the_corpus() {
    let Some(shared) = common::shared_dir("corpus") else {
        return;
    };
    let mut tally = Tally::default();
    for path in yaml_files(&shared.join("corpus")) {
        let shown = path
            .strip_prefix(&shared)
            .unwrap_or(&path)
            .display()
            .to_string();
        // A sample: plain manifests up to 100 KB (each action reads its
        // file again, twice as data: the largest files would take minutes).
        let small = std::fs::metadata(&path).is_ok_and(|m| m.len() <= 100_000);
        if shown.contains("helm-templates") || !small {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        check_file(&shown, &text, &mut tally);
    }
    eprintln!(
        "corpus: {} TG001 findings, action offered on {}, {} verified by data, {} files the loader refuses",
        tally.findings, tally.offered, tally.verified, tally.unloadable
    );
    assert!(
        tally.failures.is_empty(),
        "{} problems:\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
    assert!(tally.offered > 200, "offered only {} times", tally.offered);
}
