//! TG001 for a Helm template: the rule of `rule.rs` on the masked text, with
//! template values resolved against `values.yaml`, the chart's accounts as
//! the accounts, and fixes that land outside `{{ if/with/range }}` blocks.

use super::accounts::{account_name, ChartAccount, ChartAccountName, ChartAutomount};
use super::branches;
use super::mask::{mask, Action, ActionKind, Masked};
use super::sole_action;
use super::values::{reference, Reference, Resolved, ValueAt, ValuesFile};
use crate::accounts::{AccountLookup, FoundAccount};
use crate::finding::{AccountCheck, Code, Finding, Problem, Related, Severity, WorkloadRef};
use crate::fix::{Fix, TextEdit, FIELD};
use crate::objects::{AccountAutomount, Workload};
use crate::text::{LineEnding, TextRange};
use crate::tree::{Document, NodeKind};
use crate::value::{get, read_bool_field, BoolField};
use crate::{ignore_comment, rule, ParsedFile};

/// A template, masked and parsed.
#[derive(Clone, Debug, Default)]
pub struct Template {
    pub masked: Masked,
    /// The masked text parsed: its ranges are the template's.
    pub parsed: ParsedFile,
}

impl Template {
    pub fn parse(text: &str) -> Self {
        Self::parse_with(text, None)
    }

    /// [`Template::parse`], with `kind: {{ .Values.x }}` read as the kind
    /// `values` gives (when its name fits in the action's place).
    pub fn parse_with(text: &str, values: Option<&ValuesFile>) -> Self {
        Self::parse_with_options(text, values, &crate::Options::default())
    }

    /// [`Template::parse_with`] with a project's workload kinds and ignored
    /// objects.
    pub fn parse_with_options(
        text: &str,
        values: Option<&ValuesFile>,
        options: &crate::Options,
    ) -> Self {
        let mut masked = mask(text);
        if let Some(values) = values {
            resolve_kinds(text, &mut masked, values);
        }
        let parsed = crate::parse(&masked.text, options);
        Self { masked, parsed }
    }
}

/// Writes the resolved kind over the placeholder of `kind: {{ … }}` (a
/// plain value reference alone after the key), padded with blanks: every
/// position stays where it was.
fn resolve_kinds(text: &str, masked: &mut Masked, values: &ValuesFile) {
    let mut bytes = std::mem::take(&mut masked.text).into_bytes();
    for action in &masked.actions {
        let line_start = text[..action.range.start]
            .rfind(['\n', '\r'])
            .map_or(0, |i| i + 1);
        let line_end = text[action.range.end..]
            .find(['\n', '\r'])
            .map_or(text.len(), |i| action.range.end + i);
        let alone_after_kind = text[line_start..action.range.start].trim() == "kind:"
            && text[action.range.end..line_end].trim().is_empty();
        if !alone_after_kind {
            continue;
        }
        let Some(Resolved::Text { value, .. }) =
            reference(&action.body).map(|r| values.resolve_text(&r))
        else {
            continue;
        };
        let fits = value.len() <= action.range.len()
            && !value.is_empty()
            && value.bytes().all(|b| b.is_ascii_alphanumeric());
        if fits {
            let place = &mut bytes[action.range.start..action.range.end];
            place.fill(b' ');
            place[..value.len()].copy_from_slice(value.as_bytes());
        }
    }
    // Only ASCII was written over ASCII: still UTF-8.
    masked.text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
}

/// What a template is judged with.
#[derive(Clone, Copy, Debug, Default)]
pub struct TemplateContext<'a> {
    /// The template's identity, as the caller names files.
    pub file: &'a str,
    /// The chart's `values.yaml`, when there is one.
    pub values: Option<&'a ValuesFile>,
    /// The ServiceAccounts of the chart's templates; this template's own
    /// are taken from it when the list has none from `file`.
    pub accounts: &'a [ChartAccount],
}

/// The findings of a template, in text order. `workspace` supplies the
/// accounts of files outside the chart.
pub fn check_template(
    text: &str,
    template: &Template,
    context: &TemplateContext,
    workspace: &dyn AccountLookup,
) -> Vec<Finding> {
    let parsed = &template.parsed;
    let mut findings = crate::syntax_findings(parsed);
    for (_, verdict) in judge_workloads(text, template, context, workspace) {
        if let Verdict::Reported(finding) = verdict {
            let line = parsed.line_index.line_of(finding.range.start);
            if !ignore_comment::is_suppressed(text, &parsed.line_index, line) {
                findings.push(*finding);
            }
        }
    }
    findings.sort_by_key(|f| (f.range.start, f.range.end, f.code));
    findings
}

/// What became of one workload of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A finding (before `tokenguard-ignore` comments are applied).
    Reported(Box<Finding>),
    Compliant,
    /// Depends on a value that does not resolve: not reported.
    Unresolvable,
}

/// The verdict on every workload of a template, in text order (what
/// [`check_template`] reports, and what it leaves unreported and why).
pub fn judge_workloads(
    text: &str,
    template: &Template,
    context: &TemplateContext,
    workspace: &dyn AccountLookup,
) -> Vec<(String, Verdict)> {
    let accounts = with_own_accounts(text, context);
    let judge = Judge {
        text,
        masked: &template.masked,
        inactive: context
            .values
            .map(|values| branches::inactive_ranges(&template.masked, values))
            .unwrap_or_default(),
        context,
        accounts: &accounts,
        workspace,
    };
    template
        .parsed
        .workloads
        .iter()
        .map(|(doc, workload)| {
            let doc = &template.parsed.documents[*doc];
            (workload.kind.clone(), judge.workload(doc, workload))
        })
        .collect()
}

/// Whether two template expressions are the same call: blanks, trim
/// markers and `template` versus `include` aside.
fn same_expression(a: &str, b: &str) -> bool {
    let normal = |s: &str| -> Vec<String> {
        s.replace("{{-", "{{")
            .replace("-}}", "}}")
            .replace(['(', ')'], " ")
            .split_whitespace()
            .map(|w| {
                if w == "template" {
                    "include".to_string()
                } else {
                    w.to_string()
                }
            })
            .collect()
    };
    normal(a) == normal(b)
}

/// The chart's accounts, with the template's own when the list lacks them.
fn with_own_accounts(text: &str, context: &TemplateContext) -> Vec<ChartAccount> {
    if context.accounts.iter().any(|a| a.file == context.file) {
        context.accounts.to_vec()
    } else {
        let own = super::chart_accounts(context.file, text, context.values);
        [context.accounts, own.as_slice()].concat()
    }
}

struct Judge<'a> {
    text: &'a str,
    masked: &'a Masked,
    /// Branches of `{{ if }}` blocks that values.yaml leaves unrendered.
    inactive: Vec<TextRange>,
    context: &'a TemplateContext<'a>,
    accounts: &'a [ChartAccount],
    workspace: &'a dyn AccountLookup,
}

/// The account decided for a pod, whatever name the rule asks for (it reads
/// the mask's placeholder where the template computes the name).
struct Decided(Option<FoundAccount>);

impl AccountLookup for Decided {
    fn find(&self, _: Option<&str>, _: &str) -> Option<FoundAccount> {
        self.0.clone()
    }
}

/// The account a pod is judged against (or none found), and the value of
/// `values.yaml` that decides its automounting; `None` when that depends on
/// something not resolvable (not reported).
type AccountDecision = Option<(Option<FoundAccount>, Option<Related>)>;

impl Judge<'_> {
    fn workload(&self, doc: &Document, workload: &Workload) -> Verdict {
        // A workload the values switch off as a whole is still judged, as
        // if switched on (enabling it is the chart's ordinary use); inside
        // it, the branches the values choose between are decided.
        let spec_key = doc.node(workload.spec_key).range.start;
        let inside: Vec<TextRange> = self
            .inactive
            .iter()
            .copied()
            .filter(|r| !(r.start <= spec_key && spec_key < r.end))
            .collect();
        if inside.is_empty() {
            return self.rendered_workload(doc, workload);
        }
        self.rendered_workload(&branches::pruned(doc, &inside), workload)
    }

    /// Judges a workload whose unrendered branches are gone from `doc`.
    fn rendered_workload(&self, doc: &Document, workload: &Workload) -> Verdict {
        // A namespace the template computes is the release's, as good as
        // unset here (the mask's placeholder must not show).
        let computed_namespace = get(doc, workload.object, "metadata")
            .and_then(|(_, m)| get(doc, m, "namespace"))
            .is_some_and(|(_, ns)| self.masked.actions_in(doc.node(ns).range).next().is_some());
        let unmasked;
        let workload = if computed_namespace {
            unmasked = Workload {
                namespace: None,
                ..workload.clone()
            };
            &unmasked
        } else {
            workload
        };
        let field = get(doc, workload.pod_spec, FIELD);
        if let Some((_, value)) = field {
            let range = doc.node(value).range;
            if !range.is_empty() && self.masked.actions_in(range).next().is_some() {
                return self.templated_field(doc, workload, range);
            }
        }
        let needs_account = field.is_none_or(|(_, v)| read_bool_field(doc, v) == BoolField::Null);
        let name = self.pod_account_name(doc, workload);
        let (found, from) = match (needs_account, self.decide_account(workload, &name)) {
            (false, _) => (None, None),
            (true, Some(decided)) => decided,
            (true, None) => return Verdict::Unresolvable,
        };
        let Some(mut finding) = rule::judge(&self.masked.text, doc, workload, &Decided(found))
        else {
            return Verdict::Compliant;
        };
        self.show_real_names(doc, workload, &mut finding, &name);
        if let ChartAccountName::Computed(_) = name {
            if needs_account && !self.accounts.is_empty() {
                finding.message.push_str(
                    " The ServiceAccount's name is computed by the template, which tokenguard does not evaluate: \
                     the pod was judged by the chart's ServiceAccount templates.",
                );
            }
        }
        // Both branches of a conditional are read, so a repeated field is
        // expected here: the rule's note about duplicates would mislead.
        if let Some(at) = finding.message.find(&format!(" {FIELD} appears ")) {
            finding.message.truncate(at);
        }
        finding.related.extend(from);
        if finding.problem == Problem::Missing {
            if let Some(fix) = self.insertion_outside_blocks(doc, workload) {
                finding.fix = Some(fix);
            }
        }
        Verdict::Reported(Box::new(finding))
    }

    /// `automountServiceAccountToken: {{ … }}`: reported only when
    /// `values.yaml` (or the default) makes it true.
    fn templated_field(&self, doc: &Document, workload: &Workload, range: TextRange) -> Verdict {
        let resolved = sole_action(self.masked, self.text, range).and_then(|action| {
            let reference = reference(&action.body)?;
            Some((
                action,
                self.context.values?.resolve_bool(&reference),
                reference,
            ))
        });
        let (action, at, reference) = match resolved {
            Some((action, Resolved::Bool { value: true, at }, reference)) => {
                (action, at, reference)
            }
            Some((_, Resolved::Bool { value: false, .. }, _)) => return Verdict::Compliant,
            Some((action, Resolved::Empty { at }, reference)) => {
                return self.empty_field(doc, workload, range, action, at, &reference)
            }
            _ => return Verdict::Unresolvable,
        };
        let values_id = self.context.values.map_or("", |v| v.id.as_str());
        let subject = self.subject(doc, workload);
        let label = subject.label();
        let expression = &self.text[action.range.start..action.range.end];
        let (why, related, fix) = match at {
            Some(at) => (
                "which is true in values.yaml. Set it to false there".to_string(),
                vec![Related {
                    file: Some(values_id.to_string()),
                    range: at.range,
                    message: format!(
                        "{} is true here",
                        reference
                            .path
                            .iter()
                            .map(String::as_str)
                            .collect::<Vec<_>>()
                            .join(".")
                    ),
                }],
                Some(at.fix),
            ),
            None => (
                "which defaults to true when values.yaml leaves it unset or false. \
                 Set the field to false in the template"
                    .to_string(),
                Vec::new(),
                self.template_fix(doc, workload, action),
            ),
        };
        Verdict::Reported(Box::new(Finding {
            code: Code::TG001,
            severity: Severity::Warning,
            range,
            message: format!(
                "{label} mounts its service-account token: {FIELD} is {expression}, {why}."
            ),
            problem: Problem::ExplicitTrue,
            workload: Some(subject),
            account: None,
            fix,
            related,
        }))
    }

    /// `automountServiceAccountToken: {{ .Values.x }}` where values.yaml
    /// leaves `x` unset or null: Helm renders an empty value, a null field,
    /// so the ServiceAccount decides.
    fn empty_field(
        &self,
        doc: &Document,
        workload: &Workload,
        range: TextRange,
        action: &Action,
        at: Option<ValueAt>,
        reference: &Reference,
    ) -> Verdict {
        let name = self.pod_account_name(doc, workload);
        let Some((found, from)) = self.decide_account(workload, &name) else {
            return Verdict::Unresolvable;
        };
        if found
            .as_ref()
            .is_some_and(|f| f.account.automount == AccountAutomount::Disabled)
        {
            return Verdict::Compliant;
        }
        let account = AccountCheck {
            name: name.shown().to_string(),
            namespace: workload.namespace.clone(),
            found,
        };
        let why = rule::account_clause(&account);
        let subject = self.subject(doc, workload);
        let label = subject.label();
        let expression = &self.text[action.range.start..action.range.end];
        let path = reference.path.join(".");
        let values_id = self.context.values.map_or("", |v| v.id.as_str());
        let mut related: Vec<Related> = at
            .as_ref()
            .map(|at| Related {
                file: Some(values_id.to_string()),
                range: at.range,
                message: format!("{path} is empty here"),
            })
            .into_iter()
            .collect();
        related.extend(from);
        let advice = match at {
            Some(_) => format!("Set {path} to false in values.yaml."),
            None => format!(
                "Add {path}: false to values.yaml, or set {FIELD} to false in the template."
            ),
        };
        let fix = match at {
            Some(at) => Some(at.fix),
            None => self.template_fix(doc, workload, action),
        };
        Verdict::Reported(Box::new(Finding {
            code: Code::TG001,
            severity: Severity::Warning,
            range,
            message: format!(
                "{label} mounts its service-account token: {FIELD} is {expression}, which renders empty \
                 ({path} is not set in values.yaml), and {why}. {advice}"
            ),
            problem: Problem::Null,
            workload: Some(subject),
            account: Some(account),
            fix,
            related,
        }))
    }

    /// `false` in place of the action, when the field is rendered whenever
    /// the pod spec is: inside `{{ if hasKey … }}` the new value could stay
    /// unrendered, and the finding would only look fixed.
    fn template_fix(&self, doc: &Document, workload: &Workload, action: &Action) -> Option<Fix> {
        let spec_key = doc.node(workload.spec_key).range.start;
        (self.masked.depth_at(action.range.start) == self.masked.depth_at(spec_key)).then(|| Fix {
            title: format!("Set {FIELD} to false in the template"),
            edits: vec![TextEdit {
                range: action.range,
                new_text: "false".to_string(),
            }],
            file: None,
        })
    }

    fn subject(&self, doc: &Document, workload: &Workload) -> WorkloadRef {
        WorkloadRef {
            kind: workload.kind.clone(),
            name: self
                .real_name(doc, workload)
                .or_else(|| workload.name.clone()),
            namespace: workload.namespace.clone(),
        }
    }

    /// The workload's `metadata.name` as written in the template.
    fn real_name(&self, doc: &Document, workload: &Workload) -> Option<String> {
        let (_, metadata) = get(doc, workload.object, "metadata")?;
        let (_, name) = get(doc, metadata, "name")?;
        let range = doc.node(name).range;
        self.masked.actions_in(range).next()?;
        match account_name(self.masked, self.text, range, self.context.values) {
            ChartAccountName::Known(name) | ChartAccountName::Computed(name) => Some(name),
        }
    }

    /// The pod's `serviceAccountName` (or `serviceAccount`), resolved.
    fn pod_account_name(&self, doc: &Document, workload: &Workload) -> ChartAccountName {
        for key in ["serviceAccountName", "serviceAccount"] {
            if let Some((_, value)) = get(doc, workload.pod_spec, key) {
                let node = doc.node(value);
                let written =
                    matches!(&node.kind, NodeKind::Scalar { value, .. } if !value.is_empty());
                if written {
                    return account_name(self.masked, self.text, node.range, self.context.values);
                }
            }
        }
        ChartAccountName::Known("default".to_string())
    }

    fn decide_account(&self, workload: &Workload, name: &ChartAccountName) -> AccountDecision {
        let candidates: Vec<&ChartAccount> = match name {
            ChartAccountName::Known(name) => self
                .accounts
                .iter()
                .rev()
                .filter(|a| a.name == ChartAccountName::Known(name.clone()))
                .take(1)
                .collect(),
            // The same helper call names the same account (the scaffold's
            // `include "chart.serviceAccountName" .` in both templates);
            // failing that, the name may be any of the chart's accounts.
            ChartAccountName::Computed(expression) => {
                let same: Vec<&ChartAccount> = self
                    .accounts
                    .iter()
                    .filter(|a| match &a.name {
                        ChartAccountName::Computed(other) => same_expression(other, expression),
                        ChartAccountName::Known(_) => false,
                    })
                    .collect();
                if same.is_empty() {
                    self.accounts.iter().collect()
                } else {
                    same
                }
            }
        };
        if candidates.is_empty() {
            let found = match name {
                ChartAccountName::Known(name) => {
                    self.workspace.find(workload.namespace.as_deref(), name)
                }
                ChartAccountName::Computed(_) => None,
            };
            return Some((found, None));
        }
        if candidates
            .iter()
            .any(|a| a.automount == ChartAutomount::Unknown)
        {
            return None;
        }
        // A computed name may be any of them: one that leaves automounting
        // on is enough to mount the token.
        let chosen = candidates
            .iter()
            .find(|a| a.automount != ChartAutomount::Disabled)
            .unwrap_or(&candidates[0]);
        let automount = match chosen.automount {
            ChartAutomount::Disabled => AccountAutomount::Disabled,
            ChartAutomount::Enabled => AccountAutomount::Enabled,
            ChartAutomount::Default | ChartAutomount::Unknown => AccountAutomount::Default,
        };
        let from = chosen.automount_from.as_ref().map(|at| Related {
            file: at.fix.file.clone(),
            range: at.range,
            message: format!(
                "ServiceAccount \"{}\" gets automountServiceAccountToken from this value",
                chosen.name.shown()
            ),
        });
        let origin = (chosen.file != self.context.file).then(|| chosen.file.clone());
        let found = FoundAccount {
            origin,
            account: crate::objects::ServiceAccount {
                name: chosen.name.shown().to_string(),
                automount,
                ..chosen.account.clone()
            },
        };
        Some((Some(found), from))
    }

    /// The rule read names from the mask: show the template's text instead.
    fn show_real_names(
        &self,
        doc: &Document,
        workload: &Workload,
        finding: &mut Finding,
        account: &ChartAccountName,
    ) {
        if let (Some(real), Some(masked)) = (self.real_name(doc, workload), &workload.name) {
            finding.message =
                finding
                    .message
                    .replacen(&format!("\"{masked}\""), &format!("\"{real}\""), 1);
            if let Some(subject) = &mut finding.workload {
                subject.name = Some(real);
            }
        }
        if let Some(check) = &mut finding.account {
            let shown = account.shown();
            if check.name != shown {
                let from = format!("ServiceAccount \"{}\"", check.name);
                let to = format!("ServiceAccount \"{shown}\"");
                finding.message = finding.message.replacen(&from, &to, 1);
                check.name = shown.to_string();
            }
        }
    }

    /// The field inserted right after the pod spec's `spec:` line, at the
    /// pod spec's indentation, when a template block (`{{- with … }}`)
    /// opens before its first key: inserting before that key would put the
    /// field inside the block. `None` when no block is in the way or the
    /// line after `spec:` is itself inside one.
    fn insertion_outside_blocks(&self, doc: &Document, workload: &Workload) -> Option<Fix> {
        let NodeKind::Mapping {
            flow: false,
            entries,
        } = &doc.node(workload.pod_spec).kind
        else {
            return None;
        };
        let spec_key = doc.node(workload.spec_key).range;
        let first_key = doc.node(entries.first()?.0).range;
        let block_in_between = self.masked.actions.iter().any(|a| {
            a.range.start >= spec_key.end
                && a.range.end <= first_key.start
                && matches!(
                    a.kind,
                    ActionKind::Open | ActionKind::Else | ActionKind::End
                )
        });
        if !block_in_between {
            return None;
        }
        let bytes = self.text.as_bytes();
        let mut line_end = spec_key.end;
        while line_end < bytes.len() && !matches!(bytes[line_end], b'\n' | b'\r') {
            line_end += 1;
        }
        let eol = LineEnding::before(self.text, (line_end + 1).min(bytes.len()))
            .unwrap_or_else(|| LineEnding::first_in(self.text));
        let insert_at = (line_end + eol.as_str().len()).min(bytes.len());
        let same_block = self.masked.depth_at(insert_at) == self.masked.depth_at(spec_key.start)
            && !self
                .masked
                .actions
                .iter()
                .any(|a| a.range.start >= spec_key.end && a.range.start < insert_at);
        if !same_block || insert_at > first_key.start {
            return None;
        }
        let line_start = self.text[..first_key.start]
            .rfind(['\n', '\r'])
            .map_or(0, |i| i + 1);
        let indent: String = self.text[line_start..first_key.start]
            .chars()
            .take_while(|c| matches!(c, ' ' | '\t'))
            .collect();
        // At the end of a file without a final break, the break comes first.
        let new_text = if insert_at == bytes.len() && line_end == bytes.len() {
            format!("{}{indent}{FIELD}: false", eol.as_str())
        } else {
            format!("{indent}{FIELD}: false{}", eol.as_str())
        };
        Some(Fix {
            title: format!("Add {FIELD}: false to the pod spec"),
            edits: vec![TextEdit {
                range: TextRange::empty(insert_at),
                new_text,
            }],
            file: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::chart_accounts;
    use super::*;
    use crate::{apply_edits, NoAccounts};

    const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "demo.fullname" . }}
spec:
  template:
    spec:
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      serviceAccountName: {{ include "demo.serviceAccountName" . }}
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
"#;

    const ACCOUNT: &str = "{{- if .Values.serviceAccount.create -}}\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ include \"demo.serviceAccountName\" . }}\nautomountServiceAccountToken: {{ .Values.serviceAccount.automount }}\n{{- end }}\n";

    fn check(text: &str, values: &ValuesFile, accounts: &[ChartAccount]) -> Vec<Finding> {
        let context = TemplateContext {
            file: "templates/deployment.yaml",
            values: Some(values),
            accounts,
        };
        check_template(
            text,
            &Template::parse_with(text, Some(values)),
            &context,
            &NoAccounts,
        )
    }

    #[test]
    fn the_scaffold_with_an_automounting_account_is_reported_and_fixed_outside_the_block() {
        let values = ValuesFile::new(
            "values.yaml",
            "serviceAccount:\n  create: true\n  automount: true\n",
        );
        let accounts = chart_accounts("templates/serviceaccount.yaml", ACCOUNT, Some(&values));
        let findings = check(DEPLOYMENT, &values, &accounts);
        assert_eq!(findings.len(), 1, "{findings:?}");
        let finding = &findings[0];
        assert_eq!(finding.problem, Problem::Missing);
        assert!(
            finding.message.starts_with(
                "Deployment \"{{ include \"demo.fullname\" . }}\" mounts its service-account token"
            ),
            "{}",
            finding.message
        );
        assert!(finding.message.contains("ServiceAccount \"{{ include \"demo.serviceAccountName\" . }}\" explicitly enables automounting"), "{}", finding.message);
        assert!(finding.message.contains("computed by the template"));
        assert_eq!(finding.related.len(), 1);
        assert_eq!(finding.related[0].file.as_deref(), Some("values.yaml"));
        let fixed = apply_edits(DEPLOYMENT, &finding.fix.as_ref().unwrap().edits);
        assert!(
            fixed.contains("    spec:\n      automountServiceAccountToken: false\n      {{- with .Values.imagePullSecrets }}\n"),
            "{fixed}"
        );
        assert!(check(&fixed, &values, &accounts).is_empty());
    }

    #[test]
    fn an_account_that_disables_automounting_covers_the_pod() {
        let values = ValuesFile::new(
            "values.yaml",
            "serviceAccount:\n  create: true\n  automount: false\n",
        );
        let accounts = chart_accounts("templates/serviceaccount.yaml", ACCOUNT, Some(&values));
        assert!(check(DEPLOYMENT, &values, &accounts).is_empty());
        // Without the account, the pod runs as an account outside the chart.
        let values = ValuesFile::new("values.yaml", "serviceAccount:\n  create: false\n");
        let accounts = chart_accounts("templates/serviceaccount.yaml", ACCOUNT, Some(&values));
        assert_eq!(check(DEPLOYMENT, &values, &accounts).len(), 1);
    }

    #[test]
    fn a_templated_field_is_resolved_against_values() {
        let text = "kind: Pod\nmetadata:\n  name: web\nspec:\n  automountServiceAccountToken: {{ .Values.pod.automount }}\n  containers: []\n";
        let on = ValuesFile::new("values.yaml", "pod:\n  automount: true # on\n");
        let findings = check(text, &on, &[]);
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(
            &text[f.range.start..f.range.end],
            "{{ .Values.pod.automount }}"
        );
        assert_eq!(f.related[0].file.as_deref(), Some("values.yaml"));
        assert_eq!(
            &on.text[f.related[0].range.start..f.related[0].range.end],
            "true"
        );
        let fix = f.fix.as_ref().unwrap();
        assert_eq!(fix.file.as_deref(), Some("values.yaml"));
        let fixed = ValuesFile::new("values.yaml", apply_edits(&on.text, &fix.edits));
        assert_eq!(fixed.text, "pod:\n  automount: false # on\n");
        assert!(check(text, &fixed, &[]).is_empty());
        for unresolvable in ["pod:\n  automount: maybe\n", "pod: [\n"] {
            let values = ValuesFile::new("values.yaml", unresolvable);
            assert!(check(text, &values, &[]).is_empty(), "{unresolvable}");
        }
        // Unset: Helm renders it empty, so the account decides.
        let unset = ValuesFile::new("values.yaml", "pod: {}\n");
        let findings = check(text, &unset, &[]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].problem, Problem::Null);
        assert!(findings[0].message.contains("which renders empty (pod.automount is not set in values.yaml), and ServiceAccount \"default\" is not among the checked files"), "{}", findings[0].message);
        let fix = findings[0].fix.as_ref().unwrap();
        assert_eq!(fix.file, None);
        assert!(check(&apply_edits(text, &fix.edits), &unset, &[]).is_empty());
        // Inside a conditional block, replacing the value might not render.
        let guarded = text
            .replace(
                "  automountServiceAccountToken:",
                "  {{- if hasKey .Values \"pod\" }}\n  automountServiceAccountToken:",
            )
            .replace("  containers", "  {{- end }}\n  containers");
        let findings = check(&guarded, &unset, &[]);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].fix.is_none());
        let account = "kind: ServiceAccount\nmetadata:\n  name: default\nautomountServiceAccountToken: false\n";
        let accounts = chart_accounts("templates/sa.yaml", account, Some(&unset));
        assert!(check(text, &unset, &accounts).is_empty());
    }

    #[test]
    fn a_computed_name_is_judged_by_the_account_with_the_same_helper_call() {
        let values = ValuesFile::new(
            "values.yaml",
            "serviceAccount:\n  create: true\n  automount: false\n",
        );
        let other =
            "kind: ServiceAccount\nmetadata:\n  name: {{ template \"demo.otherName\" . }}\n";
        let mut accounts = chart_accounts("templates/serviceaccount.yaml", ACCOUNT, Some(&values));
        accounts.extend(chart_accounts("templates/other.yaml", other, Some(&values)));
        assert!(
            check(DEPLOYMENT, &values, &accounts).is_empty(),
            "the other account does not count"
        );
        let unrelated = chart_accounts("templates/other.yaml", other, Some(&values));
        assert_eq!(
            check(DEPLOYMENT, &values, &unrelated).len(),
            1,
            "no same call: any account may be it"
        );
        assert!(same_expression(
            "{{- template \"a.b\" . -}}",
            "{{ include \"a.b\" . }}"
        ));
        assert!(!same_expression(
            "{{ include \"a.b\" . }}",
            "{{ include \"a.c\" . }}"
        ));
    }

    #[test]
    fn the_branch_values_yaml_selects_decides() {
        let text = "kind: Pod\nmetadata:\n  name: web\nspec:\n  {{- if .Values.sa.create }}\n  serviceAccountName: web\n  {{- else }}\n  serviceAccountName: default\n  {{- end }}\n  containers: []\n";
        let account =
            "kind: ServiceAccount\nmetadata:\n  name: web\nautomountServiceAccountToken: false\n";
        let on = ValuesFile::new("values.yaml", "sa:\n  create: true\n");
        let accounts = chart_accounts("templates/sa.yaml", account, Some(&on));
        assert!(
            check(text, &on, &accounts).is_empty(),
            "the `if` branch names the disabled account"
        );
        let off = ValuesFile::new("values.yaml", "sa:\n  create: false\n");
        let findings = check(text, &off, &accounts);
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0].message.contains("ServiceAccount \"default\""),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn a_workload_the_values_switch_off_is_judged_as_if_on() {
        let text = "{{- if .Values.backup.enabled }}\nkind: CronJob\nmetadata:\n  name: backup\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: []\n{{- end }}\n";
        let off = ValuesFile::new("values.yaml", "backup:\n  enabled: false\n");
        assert_eq!(check(text, &off, &[]).len(), 1);
    }

    #[test]
    fn a_kind_from_values_makes_a_workload() {
        let text = "kind: {{ .Values.app.kind }}\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers: []\n";
        let values = ValuesFile::new("values.yaml", "app:\n  kind: StatefulSet\n");
        let template = Template::parse_with(text, Some(&values));
        assert_eq!(template.masked.text.len(), text.len());
        assert!(template
            .masked
            .text
            .starts_with(&format!("kind: StatefulSet{}\n", " ".repeat(11))));
        let context = TemplateContext {
            file: "templates/app.yaml",
            values: Some(&values),
            accounts: &[],
        };
        let findings = check_template(text, &template, &context, &NoAccounts);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.starts_with("StatefulSet \"app\""));
        // Without values, the kind is unknown and nothing is judged.
        assert!(check_template(text, &Template::parse(text), &context, &NoAccounts).is_empty());
    }

    #[test]
    fn a_plain_field_and_duplicates_from_branches() {
        let text = "kind: Pod\nmetadata:\n  name: web\nspec:\n  {{- if .Values.a }}\n  automountServiceAccountToken: false\n  {{- else }}\n  automountServiceAccountToken: true\n  {{- end }}\n  containers: []\n";
        let values = ValuesFile::new("values.yaml", "");
        let findings = check(text, &values, &[]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].code, Code::TG001);
        assert!(!findings[0].message.contains("appears"));
    }
}
