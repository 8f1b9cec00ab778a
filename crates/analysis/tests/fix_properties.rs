//! Properties of every fix, over generated pod specs in many shapes: applying
//! it makes the finding go away, applying fixes again changes nothing, and the
//! YAML data equals the old data plus that one key (or with that key false).

use proptest::prelude::*;
use tokenguard_analysis::{analyze, apply_edits, fix_all_edits, Code, NoAccounts, FIELD};
use yaml_rust2::{Yaml, YamlLoader};

#[derive(Clone, Debug)]
struct Manifest {
    kind: &'static str,
    name: &'static str,
    eol: &'static str,
    indent: usize,
    flow: bool,
    comment_after_spec: bool,
    comment_line: bool,
    value: Option<&'static str>,
    extra_document: bool,
}

fn render(m: &Manifest) -> String {
    let eol = m.eol;
    let pad = |level: usize| " ".repeat(m.indent * level);
    let path: &[&str] = match m.kind {
        "Pod" => &[],
        "CronJob" => &["spec", "jobTemplate", "spec", "template"],
        _ => &["spec", "template"],
    };
    let mut out = format!(
        "apiVersion: v1{eol}kind: {}{eol}metadata:{eol}{}name: {}{eol}",
        m.kind,
        pad(1),
        m.name
    );
    for (level, key) in path.iter().enumerate() {
        out.push_str(&format!("{}{key}:{eol}", pad(level)));
        if *key == "template" {
            out.push_str(&format!(
                "{}metadata: {{labels: {{app: x}}}}{eol}",
                pad(level + 1)
            ));
        }
    }
    let level = path.len();
    let comment = if m.comment_after_spec {
        " # the pod"
    } else {
        ""
    };
    if m.flow {
        let field = m
            .value
            .map(|v| format!("{FIELD}: {v}, "))
            .unwrap_or_default();
        out.push_str(&format!(
            "{}spec: {{{field}containers: [{{name: app, image: nginx}}]}}{comment}{eol}",
            pad(level)
        ));
    } else {
        out.push_str(&format!("{}spec:{comment}{eol}", pad(level)));
        if m.comment_line {
            out.push_str(&format!("{}# containers first{eol}", pad(level + 1)));
        }
        out.push_str(&format!(
            "{}containers:{eol}{}- name: app{eol}{}  image: nginx{eol}",
            pad(level + 1),
            pad(level + 1),
            pad(level + 1)
        ));
        if let Some(v) = m.value {
            out.push_str(&format!(
                "{}{FIELD}:{}{eol}",
                pad(level + 1),
                if v.is_empty() {
                    String::new()
                } else {
                    format!(" {v}")
                }
            ));
        }
        out.push_str(&format!(
            "{}restartPolicy: Always # keep{eol}",
            pad(level + 1)
        ));
    }
    if m.extra_document {
        out.push_str(&format!("---{eol}kind: ConfigMap{eol}data: {{k: v}}{eol}"));
    }
    out
}

fn manifest() -> impl Strategy<Value = Manifest> {
    (
        prop::sample::select(vec![
            "Pod",
            "Deployment",
            "StatefulSet",
            "Job",
            "CronJob",
            "DaemonSet",
        ]),
        prop::sample::select(vec!["api", "zürich-ñ", "日本"]),
        prop::sample::select(vec!["\n", "\r\n", "\r"]),
        1usize..=4,
        any::<bool>(),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        prop::option::of(prop::sample::select(vec![
            "true",
            "yes",
            "On",
            "\"false\"",
            "'false'",
            "~",
            "null",
            "",
            "1",
            "[a]",
            "{a: b}",
            "!!str false",
            "\"yes\"  # quoted",
        ])),
    )
        .prop_map(
            |(kind, name, eol, indent, flow, (c1, c2, extra), value)| Manifest {
                kind,
                name,
                eol,
                indent,
                flow,
                comment_after_spec: c1,
                comment_line: c2,
                // An empty value in a flow mapping needs its comma: keep it simple.
                value: value.filter(|v| !(flow && (v.is_empty() || v.contains('#')))),
                extra_document: extra,
            },
        )
}

/// How many mappings of `new` gained or changed the field to `false`, if
/// nothing else differs from `old`.
fn changed_fields(old: &Yaml, new: &Yaml) -> Option<usize> {
    match (old, new) {
        (Yaml::Hash(o), Yaml::Hash(n)) => {
            let field = Yaml::String(FIELD.to_string());
            let mut changes = 0;
            for (key, value) in n {
                match o.get(key) {
                    Some(old_value) if old_value == value => {}
                    _ if *key == field && *value == Yaml::Boolean(false) => changes += 1,
                    Some(old_value) => changes += changed_fields(old_value, value)?,
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_fix_is_exact(m in manifest()) {
        let text = render(&m);
        let findings = analyze(&text, &NoAccounts, tokenguard_analysis::Options::builtin());
        prop_assert_eq!(findings.len(), 1, "{}\n{:?}", text, findings);
        prop_assert_eq!(findings[0].code, Code::TG001);
        let fix = findings[0].fix.as_ref().expect("every TG001 has a fix");

        let fixed = apply_edits(&text, &fix.edits);
        let after = analyze(&fixed, &NoAccounts, tokenguard_analysis::Options::builtin());
        prop_assert!(after.is_empty(), "still {:?} in\n{}", after, fixed);
        prop_assert_eq!(apply_edits(&fixed, &fix_all_edits(&after)), fixed.clone());

        // Only the line ending of the file is used.
        let other_breaks = fixed.replace(m.eol, "").contains(['\n', '\r']);
        prop_assert!(!other_breaks, "foreign line ending in\n{:?}", fixed);

        let old = YamlLoader::load_from_str(&text).expect("generated YAML loads");
        let new = YamlLoader::load_from_str(&fixed).expect("fixed YAML loads");
        let changes: Option<usize> = old.iter().zip(&new).map(|(o, n)| changed_fields(o, n)).sum();
        prop_assert_eq!(changes, Some(1), "\n{}\n=>\n{}", text, fixed);
    }
}

#[test]
fn block_insertion_goes_before_the_first_key_after_comment_lines() {
    let m = Manifest {
        kind: "Deployment",
        name: "api",
        eol: "\r\n",
        indent: 2,
        flow: false,
        comment_after_spec: true,
        comment_line: true,
        value: None,
        extra_document: false,
    };
    let text = render(&m);
    let findings = analyze(&text, &NoAccounts, tokenguard_analysis::Options::builtin());
    let fixed = apply_edits(&text, &findings[0].fix.as_ref().unwrap().edits);
    assert!(fixed.contains(
        "    spec: # the pod\r\n      # containers first\r\n      automountServiceAccountToken: false\r\n      containers:\r\n"
    ), "{fixed}");
}

#[test]
fn flow_insertion_goes_right_after_the_brace() {
    let text = "kind: Pod\nmetadata: {name: a}\nspec: {containers: []}\n";
    let findings = analyze(text, &NoAccounts, tokenguard_analysis::Options::builtin());
    let fixed = apply_edits(text, &findings[0].fix.as_ref().unwrap().edits);
    assert_eq!(fixed, "kind: Pod\nmetadata: {name: a}\nspec: {automountServiceAccountToken: false, containers: []}\n");
    let empty = "kind: Pod\nspec: {}\n";
    let findings = analyze(empty, &NoAccounts, tokenguard_analysis::Options::builtin());
    let fixed = apply_edits(empty, &findings[0].fix.as_ref().unwrap().edits);
    assert_eq!(
        fixed,
        "kind: Pod\nspec: {automountServiceAccountToken: false}\n"
    );
}

#[test]
fn replacement_keeps_comments_anchors_and_everything_around() {
    let cases = [
        (
            "  automountServiceAccountToken: true # why\n",
            "  automountServiceAccountToken: false # why\n",
        ),
        (
            "  automountServiceAccountToken: \"false\"\n",
            "  automountServiceAccountToken: false\n",
        ),
        (
            "  automountServiceAccountToken: !!str false\n",
            "  automountServiceAccountToken: false\n",
        ),
        (
            "  automountServiceAccountToken: &a yes\n",
            "  automountServiceAccountToken: &a false\n",
        ),
        (
            "  automountServiceAccountToken: # nothing\n",
            "  automountServiceAccountToken: false # nothing\n",
        ),
        (
            "  automountServiceAccountToken: &a\n",
            "  automountServiceAccountToken: &a false\n",
        ),
        (
            "  automountServiceAccountToken: !!null\n",
            "  automountServiceAccountToken: false\n",
        ),
        (
            "  automountServiceAccountToken: ~\n",
            "  automountServiceAccountToken: false\n",
        ),
    ];
    for (line, expected) in cases {
        let text = format!("kind: Pod\nspec:\n  containers: []\n{line}");
        let findings = analyze(&text, &NoAccounts, tokenguard_analysis::Options::builtin());
        assert_eq!(findings.len(), 1, "{text}");
        let fixed = apply_edits(&text, &findings[0].fix.as_ref().unwrap().edits);
        assert_eq!(
            fixed,
            format!("kind: Pod\nspec:\n  containers: []\n{expected}")
        );
    }
}

/// Found by fuzzing: a tag before the pod spec's first key starts the line's
/// content, so the new key goes at the tag's column, not the key's.
#[test]
fn insertion_takes_the_column_of_a_tag_before_the_first_key() {
    let text = "kind: Pod\nspec:\n  ! containers: []\n  volumes: []\n";
    let findings = analyze(text, &NoAccounts, tokenguard_analysis::Options::builtin());
    assert_eq!(findings.len(), 1);
    let fixed = apply_edits(text, &findings[0].fix.as_ref().unwrap().edits);
    assert_eq!(
        fixed,
        "kind: Pod\nspec:\n  automountServiceAccountToken: false\n  ! containers: []\n  volumes: []\n"
    );
    assert!(analyze(&fixed, &NoAccounts, tokenguard_analysis::Options::builtin()).is_empty());
}
