//! Properties of the projected token action, over generated pod specs in many
//! shapes (indentation, sequence style, line endings, existing volumes and
//! mounts, init containers, the field's value, comments, block scalars): it is
//! offered, applying it makes the finding go away, nothing is left to fix or
//! to project after it, only the file's line ending is used, and the YAML data
//! equals the old data plus exactly the field, the volume and one mount per
//! container.

use proptest::prelude::*;
use tokenguard_analysis::{
    analyze, apply_edits, fix_all_edits, projected_token, Code, NoAccounts, Options,
    TokenProjection, FIELD, PROJECTED_TOKEN_TITLE, TOKEN_MOUNT_PATH,
};
use yaml_rust2::{Yaml, YamlLoader};

#[derive(Clone, Debug)]
struct Manifest {
    kind: &'static str,
    eol: &'static str,
    indent: usize,
    /// Sequence items indented under their key (`key:⏎  - a`) or not.
    indented_items: bool,
    containers: usize,
    init_containers: usize,
    volumes: bool,
    mounts: bool,
    value: Option<&'static str>,
    comment_after_spec: bool,
    /// What ends each container: a scalar, a nested mapping, a literal block.
    tail: usize,
    extra_document: bool,
}

fn render(m: &Manifest) -> String {
    let eol = m.eol;
    let pad = |col: usize| " ".repeat(col);
    let step = m.indent;
    let seq = if m.indented_items { step } else { 0 };
    let path: &[&str] = match m.kind {
        "Pod" => &[],
        "CronJob" => &["spec", "jobTemplate", "spec", "template"],
        _ => &["spec", "template"],
    };
    let mut out = format!(
        "apiVersion: v1{eol}kind: {}{eol}metadata:{eol}{}name: web{eol}",
        m.kind,
        pad(step)
    );
    let mut col = 0;
    for key in path {
        out.push_str(&format!("{}{key}:{eol}", pad(col)));
        col += step;
    }
    let comment = if m.comment_after_spec { " # pod" } else { "" };
    out.push_str(&format!("{}spec:{comment}{eol}", pad(col)));
    let k = col + step;
    let container = |out: &mut String, name: String| {
        let dash = k + seq;
        let c = dash + 2;
        out.push_str(&format!("{}- name: {name}{eol}", pad(dash)));
        out.push_str(&format!("{}image: nginx # pinned{eol}", pad(c)));
        if m.mounts {
            out.push_str(&format!("{}volumeMounts:{eol}", pad(c)));
            out.push_str(&format!(
                "{}- name: data{eol}{}mountPath: /data{eol}",
                pad(c + seq),
                pad(c + seq + 2)
            ));
        }
        match m.tail {
            0 => out.push_str(&format!("{}imagePullPolicy: Always{eol}", pad(c))),
            1 => out.push_str(&format!(
                "{}resources:{eol}{}limits: {{cpu: 100m}}{eol}",
                pad(c),
                pad(c + step)
            )),
            _ => out.push_str(&format!(
                "{}args:{eol}{}- |{eol}{}echo hi{eol}",
                pad(c),
                pad(c + seq),
                pad(c + seq + 2)
            )),
        }
    };
    out.push_str(&format!("{}containers:{eol}", pad(k)));
    for n in 0..m.containers {
        container(&mut out, format!("app{n}"));
    }
    if m.init_containers > 0 {
        out.push_str(&format!("{}initContainers:{eol}", pad(k)));
        for n in 0..m.init_containers {
            container(&mut out, format!("init{n}"));
        }
    }
    if let Some(v) = m.value {
        let v = if v.is_empty() {
            String::new()
        } else {
            format!(" {v}")
        };
        out.push_str(&format!("{}{FIELD}:{v}{eol}", pad(k)));
    }
    if m.volumes {
        out.push_str(&format!(
            "{}volumes:{eol}{}- name: data{eol}{}emptyDir: {{}}{eol}",
            pad(k),
            pad(k + seq),
            pad(k + seq + 2)
        ));
    }
    out.push_str(&format!("{}restartPolicy: Always{eol}", pad(k)));
    if m.extra_document {
        out.push_str(&format!("---{eol}kind: ConfigMap{eol}data: {{k: v}}{eol}"));
    }
    out
}

fn manifest() -> impl Strategy<Value = Manifest> {
    (
        prop::sample::select(vec!["Pod", "Deployment", "Job", "CronJob"]),
        prop::sample::select(vec!["\n", "\r\n", "\r"]),
        1usize..=4,
        any::<bool>(),
        (1usize..=3, 0usize..=2),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        prop::option::of(prop::sample::select(vec![
            "true",
            "",
            "~",
            "yes",
            "\"false\"",
        ])),
        0usize..3,
    )
        .prop_map(
            |(kind, eol, indent, indented_items, (containers, init), flags, value, tail)| {
                Manifest {
                    kind,
                    eol,
                    indent,
                    indented_items,
                    containers,
                    init_containers: init,
                    volumes: flags.0,
                    mounts: flags.1,
                    value,
                    comment_after_spec: flags.2,
                    tail,
                    extra_document: flags.3,
                }
            },
        )
}

/// The data with every mapping's keys in one order (a mapping's key order
/// is not data).
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

/// The pod spec of the generated workload, to change in place.
fn pod_spec<'y>(doc: &'y mut Yaml, kind: &str) -> &'y mut Yaml {
    let path: &[&str] = match kind {
        "Pod" => &["spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => &["spec", "template", "spec"],
    };
    let mut at = doc;
    for k in path {
        let Yaml::Hash(map) = at else {
            panic!("not a mapping")
        };
        at = map.get_mut(&key(k)).expect("path");
    }
    at
}

fn push(map: &mut yaml_rust2::yaml::Hash, k: &str, item: Yaml) {
    match map.entry(key(k)).or_insert_with(|| Yaml::Array(Vec::new())) {
        Yaml::Array(items) => items.push(item),
        other => panic!("{k} is {other:?}"),
    }
}

/// The old data with the field, the volume and the mounts added.
fn expected(old: &Yaml, kind: &str) -> Yaml {
    let snippet = format!(
        "volume:\n  name: kube-api-access\n  projected:\n    sources:\n    - serviceAccountToken: {{path: token, expirationSeconds: 3600}}\n    - configMap:\n        name: kube-root-ca.crt\n        items: [{{key: ca.crt, path: ca.crt}}]\n    - downwardAPI:\n        items: [{{path: namespace, fieldRef: {{apiVersion: v1, fieldPath: metadata.namespace}}}}]\nmount: {{name: kube-api-access, mountPath: {TOKEN_MOUNT_PATH}, readOnly: true}}\n"
    );
    let parts = &YamlLoader::load_from_str(&snippet).unwrap()[0];
    let mut new = old.clone();
    let Yaml::Hash(spec) = pod_spec(&mut new, kind) else {
        panic!("pod spec")
    };
    spec.insert(key(FIELD), Yaml::Boolean(false));
    push(spec, "volumes", parts["volume"].clone());
    for list in ["containers", "initContainers"] {
        if let Some(Yaml::Array(items)) = spec.get_mut(&key(list)) {
            for item in items {
                let Yaml::Hash(container) = item else {
                    panic!("container")
                };
                push(container, "volumeMounts", parts["mount"].clone());
            }
        }
    }
    new
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_projected_token_action_is_exact(m in manifest()) {
        let text = render(&m);
        let findings = analyze(&text, &NoAccounts, Options::builtin());
        prop_assert_eq!(findings.len(), 1, "{}\n{:?}", text, findings);
        prop_assert_eq!(findings[0].code, Code::TG001);
        let action = projected_token(&text, &findings[0], &TokenProjection::default());
        let action = action.expect("offered on every generated shape");
        prop_assert_eq!(action.title.as_str(), PROJECTED_TOKEN_TITLE);

        let fixed = apply_edits(&text, &action.edits);
        let after = analyze(&fixed, &NoAccounts, Options::builtin());
        prop_assert!(after.is_empty(), "still {:?} in\n{}", after, fixed);
        prop_assert_eq!(apply_edits(&fixed, &fix_all_edits(&after)), fixed.clone());

        let other_breaks = fixed.replace(m.eol, "").contains(['\n', '\r']);
        prop_assert!(!other_breaks, "foreign line ending in\n{:?}", fixed);

        let old = YamlLoader::load_from_str(&text).expect("generated YAML loads");
        let new = YamlLoader::load_from_str(&fixed).expect("edited YAML loads");
        prop_assert_eq!(old.len(), new.len());
        prop_assert_eq!(canon(&new[0]), canon(&expected(&old[0], m.kind)), "\n{}\n=>\n{}", text, fixed);
        for (o, n) in old.iter().zip(&new).skip(1) {
            prop_assert_eq!(o, n);
        }
    }
}

/// The edit is written at the file's indentation step and sequence style.
#[test]
fn four_space_indented_sequences_stay_four_space_indented() {
    let m = Manifest {
        kind: "Deployment",
        eol: "\r\n",
        indent: 4,
        indented_items: true,
        containers: 1,
        init_containers: 0,
        volumes: false,
        mounts: false,
        value: None,
        comment_after_spec: false,
        tail: 0,
        extra_document: false,
    };
    let text = render(&m);
    let findings = analyze(&text, &NoAccounts, Options::builtin());
    let fix = projected_token(&text, &findings[0], &TokenProjection::default()).unwrap();
    let fixed = apply_edits(&text, &fix.edits);
    let pad = |n: usize| " ".repeat(n);
    let expected_mount = format!(
        "{0}imagePullPolicy: Always\r\n{0}volumeMounts:\r\n{1}- name: kube-api-access\r\n",
        pad(18),
        pad(22)
    );
    assert!(fixed.contains(&expected_mount), "{fixed}");
    let expected_volume = format!(
        "{0}restartPolicy: Always\r\n{0}volumes:\r\n{1}- name: kube-api-access\r\n{2}projected:\r\n{3}sources:\r\n{4}- serviceAccountToken:\r\n",
        pad(12),
        pad(16),
        pad(18),
        pad(22),
        pad(26)
    );
    assert!(fixed.contains(&expected_volume), "{fixed}");
}

/// An audience, when one is asked for, is written quoted.
#[test]
fn an_audience_is_written_when_asked_for() {
    let text = "kind: Pod\nspec:\n  containers:\n  - name: a\n";
    let findings = analyze(text, &NoAccounts, Options::builtin());
    let projection = TokenProjection {
        expiration_seconds: 7200,
        audience: Some("vault \"prod\"".to_string()),
    };
    let fix = projected_token(text, &findings[0], &projection).unwrap();
    let fixed = apply_edits(text, &fix.edits);
    assert!(
        fixed.contains(
            "          path: token\n          expirationSeconds: 7200\n          audience: \"vault \\\"prod\\\"\"\n"
        ),
        "{fixed}"
    );
    let too_short = TokenProjection {
        expiration_seconds: 599,
        audience: None,
    };
    assert!(projected_token(text, &findings[0], &too_short).is_none());
}
