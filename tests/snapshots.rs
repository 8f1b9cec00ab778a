//! Snapshot tests: for representative cases, the exact message, the reported
//! range and the fixed text (as a diff) are pinned in `tests/snapshots/*.snap`.
//!
//! A change of wording or of an edit shows up as a readable diff; review it and
//! accept it with `cargo insta review` (or `INSTA_UPDATE=always`). CI runs with
//! `CI=true`, where insta fails on a mismatch instead of writing.

use std::fmt::Write as _;

use tokenguard_analysis::{
    analyze, apply_edits, fix_all_edits, projected_token, Code, Finding, LineIndex, NoAccounts,
    TokenProjection,
};

/// Lines of `text`, each with its line break.
fn lines_with_breaks(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let end = match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => i + 2,
            b'\n' | b'\r' => i + 1,
            _ => {
                i += 1;
                continue;
            }
        };
        out.push(&text[start..end]);
        start = end;
        i = end;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// A line with its break made visible when it is not a plain LF.
fn visible(line: &str) -> String {
    if let Some(body) = line.strip_suffix("\r\n") {
        format!("{body}␍␊")
    } else if let Some(body) = line.strip_suffix('\r') {
        format!("{body}␍")
    } else {
        line.strip_suffix('\n').unwrap_or(line).to_string()
    }
}

/// A unified-style diff of one changed region, with line numbers of the input.
fn diff(before: &str, after: &str) -> String {
    const CONTEXT: usize = 2;
    let old = lines_with_breaks(before);
    let new = lines_with_breaks(after);
    if old == new {
        return "    (no change)\n".to_string();
    }
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = String::new();
    for (n, line) in old
        .iter()
        .enumerate()
        .take(prefix)
        .skip(prefix.saturating_sub(CONTEXT))
    {
        let _ = writeln!(out, "  {:>3}   {}", n + 1, visible(line));
    }
    for (n, line) in old.iter().enumerate().take(old.len() - suffix).skip(prefix) {
        let _ = writeln!(out, "  {:>3} - {}", n + 1, visible(line));
    }
    for line in &new[prefix..new.len() - suffix] {
        let _ = writeln!(out, "      + {}", visible(line));
    }
    let first_after = old.len() - suffix;
    for (n, line) in old.iter().enumerate().skip(first_after).take(CONTEXT) {
        let _ = writeln!(out, "  {:>3}   {}", n + 1, visible(line));
    }
    out
}

/// 1-based line and column (in characters).
fn line_col(text: &str, index: &LineIndex, offset: usize) -> String {
    let (line, col) = index.line_col_chars(text, offset);
    format!("{}:{}", line + 1, col + 1)
}

fn render_finding(text: &str, index: &LineIndex, finding: &Finding) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} ({:?})",
        finding.code.as_str(),
        finding.severity.as_str(),
        finding.problem
    );
    let _ = writeln!(
        out,
        "range: {} to {}",
        line_col(text, index, finding.range.start),
        line_col(text, index, finding.range.end)
    );
    let (line, col) = index.line_col_chars(text, finding.range.start);
    let line_text = index.line_text(text, line);
    let (end_line, end_col) = index.line_col_chars(text, finding.range.end);
    let width = if end_line == line {
        end_col - col
    } else {
        line_text.chars().count() - col
    };
    let _ = writeln!(out, "  {:>3} | {line_text}", line + 1);
    let _ = writeln!(
        out,
        "      | {}{}",
        " ".repeat(col),
        "^".repeat(width.max(1))
    );
    let _ = writeln!(out, "message: {}", finding.message);
    if let Some(account) = &finding.account {
        let namespace = account.namespace.as_deref().unwrap_or("(none)");
        let found = match &account.found {
            None => "not found".to_string(),
            Some(found) => format!(
                "found in {} (automount: {:?})",
                found.origin.as_deref().unwrap_or("this file"),
                found.account.automount
            ),
        };
        let _ = writeln!(
            out,
            "account: {} in namespace {namespace}, {found}",
            account.name
        );
    }
    match &finding.fix {
        None => out.push_str("fix: none\n"),
        Some(fix) => {
            let _ = writeln!(out, "fix: {}", fix.title);
            for edit in &fix.edits {
                let _ = writeln!(
                    out,
                    "  edit {} to {}: {:?} -> {:?}",
                    line_col(text, index, edit.range.start),
                    line_col(text, index, edit.range.end),
                    &text[edit.range.start..edit.range.end],
                    edit.new_text
                );
            }
            out.push_str(&diff(text, &apply_edits(text, &fix.edits)));
        }
    }
    out
}

/// The input, every finding of it (analysed alone), then the result of fixing
/// them all.
fn render(text: &str) -> String {
    let index = LineIndex::new(text);
    let findings = analyze(text, &NoAccounts, tokenguard_analysis::Options::builtin());
    let mut out = String::from("input:\n");
    for (n, line) in lines_with_breaks(text).iter().enumerate() {
        let _ = writeln!(out, "  {:>3} | {}", n + 1, visible(line));
    }
    out.push('\n');
    for finding in &findings {
        out.push_str(&render_finding(text, &index, finding));
        out.push('\n');
    }
    let fixed = apply_edits(text, &fix_all_edits(&findings));
    let left = analyze(&fixed, &NoAccounts, tokenguard_analysis::Options::builtin());
    let count = |code: Code| left.iter().filter(|f| f.code == code).count();
    let _ = writeln!(
        out,
        "after fixing all: {} TG001, {} TG000",
        count(Code::TG001),
        count(Code::TG000)
    );
    out
}

#[test]
fn missing_field_in_a_deployment_is_inserted_into_the_innermost_spec() {
    let rendered = render(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
      - name: api
        image: nginx
",
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn cron_job_is_reported_on_its_fourth_spec() {
    let rendered = render(
        "apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: \"0 3 * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: report
            image: busybox
",
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn flow_mapping_pod_specs_get_the_field_after_the_brace() {
    let rendered = render(
        "kind: Pod
metadata: {name: flow}
spec: {containers: [{name: app, image: nginx}]}
---
kind: Pod
metadata: {name: flow-empty}
spec: {}
",
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn null_value_is_reported_on_the_key_and_filled_in() {
    let rendered = render(
        "kind: Pod
metadata:
  name: web
spec:
  automountServiceAccountToken: # left empty
  containers: []
",
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn explicit_true_is_reported_on_the_value_and_replaced() {
    let rendered = render(
        "kind: Pod
metadata:
  name: operator
spec:
  automountServiceAccountToken: yes # the operator reads pods
  containers: []
",
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn quoted_false_is_a_string_and_is_replaced_by_plain_false() {
    let rendered = render(
        "kind: Pod
metadata:
  name: quoted
spec:
  automountServiceAccountToken: \"false\"
  containers: []
",
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn service_account_that_enables_automounting_is_named_in_the_message() {
    let rendered = render(
        "apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
automountServiceAccountToken: true
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: builder
spec:
  template:
    spec:
      serviceAccountName: builder
      containers: []
",
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn service_account_is_looked_up_in_the_workload_namespace() {
    let rendered = render(
        "apiVersion: v1
kind: ServiceAccount
metadata:
  name: default
automountServiceAccountToken: false
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers: []
",
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn crlf_file_gets_a_crlf_line() {
    let rendered =
        render("kind: Pod\r\nmetadata:\r\n  name: windows\r\nspec:\r\n  containers: []\r\n");
    insta::assert_snapshot!(rendered);
}

#[test]
fn insertion_goes_after_comment_lines_that_follow_spec() {
    let rendered = render(
        "kind: Pod
metadata:
  name: commented
spec:
  # containers are injected by a webhook
  nodeSelector:
    pool: batch
",
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn tagged_string_value_is_replaced_with_its_tag() {
    let rendered = render(
        "kind: Pod
metadata:
  name: tagged
spec:
  automountServiceAccountToken: !!str false # typed as a string
",
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn syntax_error_is_reported_without_a_fix_and_other_documents_still_count() {
    let rendered = render(
        "kind: Pod
metadata:
  name: broken
  labels: app: web
---
kind: Pod
metadata:
  name: fine
spec:
  containers: []
",
    );
    insta::assert_snapshot!(rendered);
}

/// The input, then for each finding the projected token action (its edits and
/// the text it makes) or "no action".
fn render_projected(text: &str) -> String {
    let index = LineIndex::new(text);
    let findings = analyze(text, &NoAccounts, tokenguard_analysis::Options::builtin());
    let mut out = String::from("input:\n");
    for (n, line) in lines_with_breaks(text).iter().enumerate() {
        let _ = writeln!(out, "  {:>3} | {}", n + 1, visible(line));
    }
    for finding in &findings {
        let workload = finding
            .workload
            .as_ref()
            .map(|w| w.label())
            .unwrap_or_default();
        let _ = writeln!(out, "\n{} on {workload}", finding.code.as_str());
        match projected_token(text, finding, &TokenProjection::default()) {
            None => out.push_str("action: none\n"),
            Some(fix) => {
                let _ = writeln!(out, "action: {}", fix.title);
                for edit in &fix.edits {
                    let _ = writeln!(
                        out,
                        "  edit {} to {}: {:?} -> {:?}",
                        line_col(text, &index, edit.range.start),
                        line_col(text, &index, edit.range.end),
                        &text[edit.range.start..edit.range.end],
                        edit.new_text
                    );
                }
                let fixed = apply_edits(text, &fix.edits);
                out.push_str("result:\n");
                for (n, line) in lines_with_breaks(&fixed).iter().enumerate() {
                    let _ = writeln!(out, "  {:>3} | {}", n + 1, visible(line));
                }
            }
        }
    }
    out
}

#[test]
fn projected_token_appends_to_existing_volumes_and_mounts() {
    let rendered = render_projected(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: operator
spec:
  template:
    spec:
      serviceAccountName: operator
      containers:
      - name: operator
        image: example/operator:1.0
        volumeMounts:
        - name: cache
          mountPath: /cache
      - name: sidecar
        image: example/sidecar:1.0 # no mounts yet
      volumes:
      - name: cache
        emptyDir: {}
",
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn projected_token_follows_crlf_four_spaces_and_indented_sequences() {
    let rendered = render_projected(
        "kind: Pod\r\nmetadata:\r\n    name: job\r\nspec:\r\n    automountServiceAccountToken: true\r\n    initContainers:\r\n        - name: wait\r\n          image: busybox\r\n    containers:\r\n        - name: main\r\n          image: busybox\r\n          args:\r\n              - run\r\n",
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn projected_token_is_not_offered_where_the_edit_is_unsafe() {
    let rendered = render_projected(
        "kind: Pod
metadata: {name: flow}
spec: {containers: [{name: app, image: nginx}]}
---
kind: Pod
metadata:
  name: taken-path
spec:
  containers:
  - name: app
    volumeMounts:
    - name: my-token
      mountPath: /var/run/secrets/kubernetes.io/serviceaccount
---
kind: Pod
metadata:
  name: shared
spec:
  containers:
  - &app
    name: app
  initContainers:
  - *app
",
    );
    insta::assert_snapshot!(rendered);
}
