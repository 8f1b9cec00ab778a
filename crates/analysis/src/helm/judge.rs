//! TG001 for a Helm template: each workload of the masked template judged
//! as the plain rule judges it, with template values resolved against
//! `values.yaml` (`resolve.rs`), the chart's accounts deciding
//! (`verdict.rs`) and fixes placed outside `{{ if/with/range }}` blocks
//! (`placement.rs`). This module builds the findings from those facts.

use super::accounts::{ChartAccount, ChartAccountName};
use super::branches;
use super::helpers::{insert_before_include, pod_spec_includes, HelperField, Helpers, Rendered};
use super::mask::Masked;
use super::placement::{insertion_outside_blocks, template_fix};
use super::resolve::{computed_namespace, pod_account_name, real_name, templated_bool};
use super::template::Template;
use super::values::{Resolved, ValuesFile};
use super::verdict::{with_own_accounts, ChartAccounts};
use crate::accounts::AccountLookup;
use crate::finding::{
    Finding, FromHelper, HelmFacts, HelperReading, Place, Problem, Renders, TemplatedField,
    WorkloadRef,
};
use crate::fix::FIELD;
use crate::ignore_comment;
use crate::objects::Workload;
use crate::placement::place;
use crate::text::TextRange;
use crate::tree::{Document, NodeKind};
use crate::value::{count_keys, get, read_bool_field, BoolField};
use crate::verdict::Decision;

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
    /// The chart's helpers (`define`s), for pod-spec keys a template
    /// includes from one.
    pub helpers: Option<&'a Helpers>,
    /// The chart read this very text of the template: its own accounts are
    /// those `accounts` lists (none, when it lists none from `file`), and
    /// need not be read again.
    pub accounts_read: bool,
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
    let mut findings = crate::syntax_findings(text, parsed);
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
    /// Depends on a value that does not resolve: not reported. When a
    /// helper's keys are what in-place reading could not evaluate, which
    /// one and why.
    Unresolvable(Option<FromHelper>),
}

/// The verdict on every workload of a template, in text order (what
/// [`check_template`] reports, and what it leaves unreported and why).
pub fn judge_workloads(
    text: &str,
    template: &Template,
    context: &TemplateContext,
    workspace: &dyn AccountLookup,
) -> Vec<(String, Verdict)> {
    let accounts = with_own_accounts(text, template, context);
    let judge = Judge {
        text,
        masked: &template.masked,
        inactive: context
            .values
            .map(|values| branches::inactive_ranges(&template.masked, values))
            .unwrap_or_default(),
        values: context.values,
        helpers: context.helpers,
        accounts: ChartAccounts {
            file: context.file,
            accounts: &accounts,
            workspace,
        },
    };
    let mut workloads: Vec<&(usize, Workload)> = template
        .parsed
        .workloads
        .iter()
        .chain(&template.helper_pod_specs)
        .collect();
    workloads.sort_by_key(|(doc, w)| template.parsed.documents[*doc].node(w.spec_key).range.start);
    workloads
        .into_iter()
        .map(|(doc, workload)| {
            let doc = &template.parsed.documents[*doc];
            (workload.kind.clone(), judge.workload(doc, workload))
        })
        .collect()
}

/// The account each workload of a template runs as, in the order of
/// [`judge_workloads`]: the workload (its namespace dropped when the
/// template computes it, as the rule does), the name as the chart renders
/// it, the workload object's range, and the pod spec's own `automountServiceAccountToken` value
/// (`Some(None)`: written as a template action).
pub fn workload_accounts(
    text: &str,
    template: &Template,
    context: &TemplateContext,
) -> Vec<(
    Workload,
    TextRange,
    ChartAccountName,
    Option<Option<BoolField>>,
)> {
    let mut workloads: Vec<&(usize, Workload)> = template
        .parsed
        .workloads
        .iter()
        .chain(&template.helper_pod_specs)
        .collect();
    workloads.sort_by_key(|(doc, w)| template.parsed.documents[*doc].node(w.spec_key).range.start);
    workloads
        .into_iter()
        .map(|(doc, workload)| {
            let doc = &template.parsed.documents[*doc];
            let mut workload = workload.clone();
            if computed_namespace(&template.masked, doc, &workload) {
                workload.namespace = None;
            }
            // The name as the template writes it, where the mask's
            // placeholder made a name (as findings show it).
            if workload.name.is_some() {
                if let Some(shown) =
                    real_name(&template.masked, text, context.values, doc, &workload)
                {
                    workload.name = Some(shown);
                }
            }
            let name = pod_account_name(&template.masked, text, context.values, doc, &workload);
            let field = get(doc, workload.pod_spec, FIELD).map(|(_, value)| {
                let range = doc.node(value).range;
                if !range.is_empty() && template.masked.actions_in(range).next().is_some() {
                    None
                } else {
                    Some(read_bool_field(doc, value))
                }
            });
            let range = doc.node(workload.object).range;
            (workload, range, name, field)
        })
        .collect()
}

struct Judge<'a> {
    text: &'a str,
    masked: &'a Masked,
    /// Branches of `{{ if }}` blocks that values.yaml leaves unrendered.
    inactive: Vec<TextRange>,
    values: Option<&'a ValuesFile>,
    helpers: Option<&'a Helpers>,
    accounts: ChartAccounts<'a>,
}

/// What a pod spec without the field gets from the helpers it includes.
enum FromHelpers {
    /// A helper renders the field.
    Renders {
        helper: String,
        include: TextRange,
        value: Rendered,
        origin: Option<Place>,
        fix: Option<crate::fix::Fix>,
    },
    /// A helper that in-place reading cannot evaluate.
    NotEvaluated(FromHelper),
}

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
        let unmasked;
        let workload = if computed_namespace(self.masked, doc, workload) {
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
        let from_helpers = match field {
            None => self.helper_keys(doc, workload),
            Some(_) => None,
        };
        let from_helper_only =
            !matches!(doc.node(workload.pod_spec).kind, NodeKind::Mapping { .. });
        if from_helper_only {
            return self.helper_pod_spec(doc, workload, from_helpers);
        }
        let not_evaluated = match from_helpers {
            Some(FromHelpers::Renders {
                helper,
                include,
                value,
                origin,
                fix,
            }) => {
                return self.helper_field(doc, workload, helper, include, value, origin, fix);
            }
            Some(FromHelpers::NotEvaluated(facts)) => Some(facts),
            None => None,
        };
        let reading = field.map(|(_, v)| read_bool_field(doc, v));
        let name = pod_account_name(self.masked, self.text, self.values, doc, workload);
        let (decision, account_origin) = self.accounts.decide(reading, workload, &name);
        let (problem, account) = match decision {
            Decision::Compliant => return Verdict::Compliant,
            Decision::Undecided => return Verdict::Unresolvable(not_evaluated),
            Decision::Reported(reported) => (reported.problem, reported.account),
        };
        // The fix is written from the masked text (same positions); an
        // insertion that would land inside a block goes before it.
        let (range, fix) = place(
            &self.masked.text,
            doc,
            workload,
            field,
            problem == Problem::Null,
        );
        let fix = match problem {
            Problem::Missing => {
                insertion_outside_blocks(self.masked, self.text, doc, workload).or(fix)
            }
            _ => fix,
        };
        // The name as the template writes it, where the mask's placeholder
        // made a name.
        let name_shown = real_name(self.masked, self.text, self.values, doc, workload)
            .filter(|_| workload.name.is_some())
            .or_else(|| workload.name.clone());
        let computed_account = account.is_some() && self.accounts.computed_by_chart(&name);
        let mut finding = self.finding(doc, workload, problem, range, name_shown, &name);
        finding.account = account;
        finding.helm = Some(HelmFacts {
            field: None,
            computed_account,
            account_origin,
            helper: not_evaluated,
        });
        finding.fix = fix;
        Verdict::Reported(Box::new(finding.rendered()))
    }

    /// A pod spec all of whose keys a helper renders: judged when the
    /// helpers' text decides it (the field rendered, or absent from every
    /// helper included there, when the fix adds it before the first
    /// `include`); else left undecided, saying which helper and why.
    fn helper_pod_spec(
        &self,
        doc: &Document,
        workload: &Workload,
        from_helpers: Option<FromHelpers>,
    ) -> Verdict {
        match from_helpers {
            Some(FromHelpers::Renders {
                helper,
                include,
                value,
                origin,
                fix,
            }) => self.helper_field(doc, workload, helper, include, value, origin, fix),
            Some(FromHelpers::NotEvaluated(facts)) => Verdict::Unresolvable(Some(facts)),
            None => {
                let includes = pod_spec_includes(self.masked, self.text, doc, workload);
                let Some((action, call)) = includes.first() else {
                    return Verdict::Unresolvable(None);
                };
                let name = pod_account_name(self.masked, self.text, self.values, doc, workload);
                let (decision, account_origin) = self.accounts.decide(None, workload, &name);
                let (problem, account) = match decision {
                    Decision::Compliant => return Verdict::Compliant,
                    Decision::Undecided => return Verdict::Unresolvable(None),
                    Decision::Reported(reported) => (reported.problem, reported.account),
                };
                let name_shown = real_name(self.masked, self.text, self.values, doc, workload)
                    .or_else(|| workload.name.clone());
                let computed_account = account.is_some() && self.accounts.computed_by_chart(&name);
                let mut finding =
                    self.finding(doc, workload, problem, action.range, name_shown, &name);
                finding.account = account;
                finding.helm = Some(HelmFacts {
                    field: None,
                    computed_account,
                    account_origin,
                    helper: None,
                });
                finding.fix = Some(insert_before_include(self.text, action, call));
                Verdict::Reported(Box::new(finding.rendered()))
            }
        }
    }

    /// The helpers the pod spec includes at its own level, rendered where
    /// the values render them: the first that renders the field decides;
    /// failing that, the first in-place reading cannot evaluate is said.
    fn helper_keys(&self, doc: &Document, workload: &Workload) -> Option<FromHelpers> {
        let spec_key = doc.node(workload.spec_key).range.start;
        let no_helpers = Helpers::default();
        let helpers = self.helpers.unwrap_or(&no_helpers);
        let mut not_evaluated = None;
        for (action, call) in pod_spec_includes(self.masked, self.text, doc, workload) {
            let unrendered = self.inactive.iter().any(|r| {
                r.start <= action.range.start
                    && action.range.start < r.end
                    && !(r.start <= spec_key && spec_key < r.end)
            });
            if unrendered {
                continue;
            }
            let field = if call.plain_context {
                helpers.field(&call.name, self.values)
            } else {
                HelperField::NotEvaluated(format!(
                    "helper \"{}\" is included with another context than the chart's",
                    call.name
                ))
            };
            match field {
                HelperField::Absent => {}
                HelperField::Renders { value, origin, fix } => {
                    return Some(FromHelpers::Renders {
                        helper: call.name,
                        include: action.range,
                        value,
                        origin,
                        fix,
                    })
                }
                HelperField::NotEvaluated(why) => {
                    not_evaluated.get_or_insert(FromHelper {
                        helper: call.name,
                        include: action.range,
                        reading: HelperReading::NotEvaluated { why },
                    });
                }
            }
        }
        not_evaluated.map(FromHelpers::NotEvaluated)
    }

    /// The field rendered by a helper the pod spec includes: reported at
    /// the `include`, fixed where its value is written.
    #[allow(clippy::too_many_arguments)]
    fn helper_field(
        &self,
        doc: &Document,
        workload: &Workload,
        helper: String,
        include: TextRange,
        value: Rendered,
        origin: Option<Place>,
        fix: Option<crate::fix::Fix>,
    ) -> Verdict {
        let reading = match value {
            Rendered::Bool(true) => BoolField::True,
            Rendered::Bool(false) => BoolField::False,
            Rendered::Empty => BoolField::Null,
        };
        let name = pod_account_name(self.masked, self.text, self.values, doc, workload);
        let (decision, account_origin) = self.accounts.decide(Some(reading), workload, &name);
        let (problem, account) = match decision {
            Decision::Compliant => return Verdict::Compliant,
            Decision::Undecided => return Verdict::Unresolvable(None),
            Decision::Reported(reported) => (reported.problem, reported.account),
        };
        let name_shown = real_name(self.masked, self.text, self.values, doc, workload)
            .or_else(|| workload.name.clone());
        let computed_account = account.is_some() && self.accounts.computed_by_chart(&name);
        let mut finding = self.finding(doc, workload, problem, include, name_shown, &name);
        finding.account = account;
        // A place in this very template is the finding's own file.
        let origin = origin.map(|place| Place {
            file: place.file.filter(|f| f != self.accounts.file),
            ..place
        });
        finding.helm = Some(HelmFacts {
            field: None,
            computed_account,
            account_origin,
            helper: Some(FromHelper {
                helper,
                include,
                reading: HelperReading::Renders { origin },
            }),
        });
        // A fix in this template, or in values.yaml; a helper file's edit is
        // not offered (the front ends write only a template and its chart's
        // values.yaml).
        let values_id = self.values.map(|v| v.id.as_str());
        finding.fix = fix
            .map(|mut fix| {
                fix.file = fix.file.filter(|f| f != self.accounts.file);
                fix
            })
            .filter(|fix| fix.file.is_none() || fix.file.as_deref() == values_id);
        Verdict::Reported(Box::new(finding.rendered()))
    }

    /// `automountServiceAccountToken: {{ … }}`: reported when `values.yaml`
    /// (or the default) makes it true, or leaves it empty (a null field,
    /// so the ServiceAccount decides).
    fn templated_field(&self, doc: &Document, workload: &Workload, range: TextRange) -> Verdict {
        let Some(value) = templated_bool(self.masked, self.text, self.values, range) else {
            return Verdict::Unresolvable(None);
        };
        // What Helm renders is read as the plain rule reads a value: empty
        // is null, and the account decides.
        let (reading, at) = match value.resolved {
            Resolved::Bool { value: true, at } => (BoolField::True, at),
            Resolved::Bool { value: false, at } => (BoolField::False, at),
            Resolved::Empty { at } => (BoolField::Null, at),
            _ => return Verdict::Unresolvable(None),
        };
        let name = pod_account_name(self.masked, self.text, self.values, doc, workload);
        let (decision, account_origin) = self.accounts.decide(Some(reading), workload, &name);
        let (problem, account) = match decision {
            Decision::Compliant => return Verdict::Compliant,
            Decision::Undecided => return Verdict::Unresolvable(None),
            Decision::Reported(reported) => (reported.problem, reported.account),
        };
        let renders = match problem {
            Problem::Null => Renders::Empty,
            _ => Renders::True,
        };
        let values_id = self.values.map_or("", |v| v.id.as_str());
        let action = value.action;
        let fix = match &at {
            Some(at) => Some(at.fix.clone()),
            None => template_fix(self.masked, doc, workload, action),
        };
        let name_shown = real_name(self.masked, self.text, self.values, doc, workload)
            .or_else(|| workload.name.clone());
        let computed_account = account.is_some() && self.accounts.computed_by_chart(&name);
        let mut finding = self.finding(doc, workload, problem, range, name_shown, &name);
        finding.account = account;
        finding.helm = Some(HelmFacts {
            field: Some(TemplatedField {
                expression: self.text[action.range.start..action.range.end].to_string(),
                path: value.reference.path.join("."),
                renders,
                origin: at.map(|at| Place {
                    file: Some(values_id.to_string()),
                    range: at.range,
                }),
            }),
            computed_account,
            account_origin,
            helper: None,
        });
        finding.fix = fix;
        Verdict::Reported(Box::new(finding.rendered()))
    }

    /// A finding on `workload` (named `name` in the template), its Helm
    /// facts still to be given.
    fn finding(
        &self,
        doc: &Document,
        workload: &Workload,
        problem: Problem,
        range: TextRange,
        name: Option<String>,
        account: &ChartAccountName,
    ) -> Finding {
        let subject = WorkloadRef {
            kind: workload.kind.clone(),
            name,
            namespace: workload.namespace.clone(),
        };
        let mut finding =
            Finding::tg001(problem, subject, range, doc.node(workload.pod_spec).range);
        finding.occurrences = count_keys(doc, workload.pod_spec, FIELD);
        // Only a name the chart writes out names an account whose bindings
        // can be looked up.
        finding.runs_as = match account {
            ChartAccountName::Known(name) => Some(name.clone()),
            ChartAccountName::Computed(_) => None,
        };
        finding
    }
}

#[cfg(test)]
mod tests {
    use super::super::chart_accounts;
    use super::*;
    use crate::{apply_edits, Code, NoAccounts};

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
            helpers: None,
            accounts_read: false,
        };
        check_template(
            text,
            &Template::parse(text, Some(values), crate::Options::builtin()),
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
        let template = Template::parse(text, Some(&values), crate::Options::builtin());
        assert_eq!(template.masked.text.len(), text.len());
        assert!(template
            .masked
            .text
            .starts_with(&format!("kind: StatefulSet{}\n", " ".repeat(11))));
        let context = TemplateContext {
            file: "templates/app.yaml",
            values: Some(&values),
            accounts: &[],
            helpers: None,
            accounts_read: false,
        };
        let findings = check_template(text, &template, &context, &NoAccounts);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.starts_with("StatefulSet \"app\""));
        // Without values, the kind is unknown and nothing is judged.
        assert!(check_template(
            text,
            &Template::parse(text, None, crate::Options::builtin()),
            &context,
            &NoAccounts
        )
        .is_empty());
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

    const POD_FROM_HELPER: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      {{- include \"demo.pod\" . | nindent 6 }}\n      containers:\n        - name: app\n          image: nginx\n";

    fn check_with_helpers(text: &str, values: &ValuesFile, helpers: &str) -> Vec<Finding> {
        let helpers = Helpers::new([("templates/_helpers.tpl".to_string(), helpers.to_string())]);
        let context = TemplateContext {
            file: "templates/deployment.yaml",
            values: Some(values),
            accounts: &[],
            helpers: Some(&helpers),
            accounts_read: false,
        };
        check_template(
            text,
            &Template::parse(text, Some(values), crate::Options::builtin()),
            &context,
            &NoAccounts,
        )
    }

    const READS_VALUES: &str = "{{- define \"demo.pod\" -}}\nautomountServiceAccountToken: {{ .Values.pod.automount }}\nserviceAccountName: web\n{{- end }}\n";

    #[test]
    fn a_helper_that_renders_false_from_values_makes_the_pod_compliant() {
        let off = ValuesFile::new("values.yaml", "pod:\n  automount: false\n");
        assert!(check_with_helpers(POD_FROM_HELPER, &off, READS_VALUES).is_empty());
    }

    #[test]
    fn a_helper_that_renders_true_is_reported_at_the_include_and_fixed_in_values() {
        let on = ValuesFile::new("values.yaml", "pod:\n  automount: true\n");
        let findings = check_with_helpers(POD_FROM_HELPER, &on, READS_VALUES);
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.problem, Problem::ExplicitTrue);
        assert_eq!(
            &POD_FROM_HELPER[f.range.start..f.range.end],
            "{{- include \"demo.pod\" . | nindent 6 }}"
        );
        assert!(
            f.message.contains("helper \"demo.pod\" (included here) renders automountServiceAccountToken: true. Set it to false in values.yaml"),
            "{}",
            f.message
        );
        assert_eq!(f.related.len(), 1);
        assert_eq!(f.related[0].file.as_deref(), Some("values.yaml"));
        let fix = f.fix.as_ref().unwrap();
        assert_eq!(fix.file.as_deref(), Some("values.yaml"));
        let fixed = ValuesFile::new("values.yaml", apply_edits(&on.text, &fix.edits));
        assert!(check_with_helpers(POD_FROM_HELPER, &fixed, READS_VALUES).is_empty());
    }

    #[test]
    fn a_literal_in_a_helper_is_reported_and_fixed_only_in_the_template_itself() {
        let helpers =
            "{{- define \"demo.pod\" }}\nautomountServiceAccountToken: true\n{{- end }}\n";
        let values = ValuesFile::new("values.yaml", "");
        let findings = check_with_helpers(POD_FROM_HELPER, &values, helpers);
        assert_eq!(findings.len(), 1, "{findings:?}");
        // The front ends write a template and values.yaml only: no edit of
        // the helper file is offered.
        assert_eq!(findings[0].fix, None);
        assert_eq!(
            findings[0].related[0].file.as_deref(),
            Some("templates/_helpers.tpl")
        );
        // A define in the template itself is fixed there.
        let text = format!("{helpers}---\n{POD_FROM_HELPER}");
        let own = Helpers::new([("templates/deployment.yaml".to_string(), text.clone())]);
        let context = TemplateContext {
            file: "templates/deployment.yaml",
            values: Some(&values),
            accounts: &[],
            helpers: Some(&own),
            accounts_read: false,
        };
        let template = Template::parse(&text, Some(&values), crate::Options::builtin());
        let findings = check_template(&text, &template, &context, &NoAccounts);
        assert_eq!(findings.len(), 1, "{findings:?}");
        let fix = findings[0].fix.as_ref().unwrap();
        assert_eq!(fix.file, None);
        let fixed = apply_edits(&text, &fix.edits);
        assert!(
            fixed.contains("automountServiceAccountToken: false"),
            "{fixed}"
        );
        let template = Template::parse(&fixed, Some(&values), crate::Options::builtin());
        let own = Helpers::new([("templates/deployment.yaml".to_string(), fixed.clone())]);
        let context = TemplateContext {
            helpers: Some(&own),
            accounts_read: false,
            ..context
        };
        assert!(check_template(&fixed, &template, &context, &NoAccounts).is_empty());
    }

    #[test]
    fn a_helper_without_the_field_leaves_it_missing_and_one_not_seen_is_said() {
        let values = ValuesFile::new("values.yaml", "");
        let without = "{{- define \"demo.pod\" -}}\nhostNetwork: false\n{{- end }}\n";
        let findings = check_with_helpers(POD_FROM_HELPER, &values, without);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].problem, Problem::Missing);
        assert!(!findings[0].message.contains("Not evaluated"));
        let findings = check_with_helpers(POD_FROM_HELPER, &values, "");
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0].message.ends_with("Not evaluated: the pod spec also gets keys from helper \"demo.pod\" (helper \"demo.pod\" is not in the chart), which may set automountServiceAccountToken."),
            "{}",
            findings[0].message
        );
        let helper = findings[0].helm.as_ref().unwrap().helper.as_ref().unwrap();
        assert_eq!(helper.helper, "demo.pod");
        assert!(matches!(helper.reading, HelperReading::NotEvaluated { .. }));
    }

    #[test]
    fn a_define_in_the_template_itself_counts() {
        let text = format!("{READS_VALUES}---\n{POD_FROM_HELPER}");
        let helpers = Helpers::new([("templates/deployment.yaml".to_string(), text.clone())]);
        let off = ValuesFile::new("values.yaml", "pod:\n  automount: false\n");
        let context = TemplateContext {
            file: "templates/deployment.yaml",
            values: Some(&off),
            accounts: &[],
            helpers: Some(&helpers),
            accounts_read: false,
        };
        let template = Template::parse(&text, Some(&off), crate::Options::builtin());
        let verdicts = judge_workloads(&text, &template, &context, &NoAccounts);
        assert_eq!(verdicts.len(), 1);
        assert_eq!(verdicts[0].1, Verdict::Compliant);
    }

    const WHOLE_POD_SPEC: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      {{- include \"demo.podSpec\" . | nindent 6 }}\n";

    fn verdicts_with_helpers(text: &str, values: &ValuesFile, helpers: &str) -> Vec<Verdict> {
        let helpers = Helpers::new([("templates/_helpers.tpl".to_string(), helpers.to_string())]);
        let context = TemplateContext {
            file: "templates/deployment.yaml",
            values: Some(values),
            accounts: &[],
            helpers: Some(&helpers),
            accounts_read: false,
        };
        let template = Template::parse(text, Some(values), crate::Options::builtin());
        judge_workloads(text, &template, &context, &NoAccounts)
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    }

    #[test]
    fn a_pod_spec_all_from_a_helper_is_judged_from_the_helper() {
        let values = ValuesFile::new("values.yaml", "pod:\n  automount: false\n");
        let reads = "{{- define \"demo.podSpec\" -}}\nautomountServiceAccountToken: {{ .Values.pod.automount }}\ncontainers:\n  - name: app\n    image: nginx\n{{- end }}\n";
        assert_eq!(
            verdicts_with_helpers(WHOLE_POD_SPEC, &values, reads),
            vec![Verdict::Compliant]
        );
        let literal = "{{- define \"demo.podSpec\" -}}\nautomountServiceAccountToken: true\ncontainers: []\n{{- end }}\n";
        let findings = check_with_helpers(WHOLE_POD_SPEC, &values, literal);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].problem, Problem::ExplicitTrue);
        assert!(WHOLE_POD_SPEC[findings[0].range.start..].starts_with("{{- include"));
        // Absent from a helper that renders the whole pod spec: missing,
        // and the fix adds the field before the include.
        let absent = "{{- define \"demo.podSpec\" -}}\ncontainers:\n  - name: app\n{{- end }}\n";
        let findings = check_with_helpers(WHOLE_POD_SPEC, &values, absent);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].problem, Problem::Missing);
        let fixed = apply_edits(WHOLE_POD_SPEC, &findings[0].fix.as_ref().unwrap().edits);
        assert!(
            fixed.ends_with("    spec:\n      automountServiceAccountToken: false\n      {{- include \"demo.podSpec\" . | nindent 6 }}\n"),
            "{fixed}"
        );
        assert!(check_with_helpers(&fixed, &values, absent).is_empty());
        // A helper not in the chart: undecided, saying which.
        let verdicts = verdicts_with_helpers(WHOLE_POD_SPEC, &values, "");
        let [Verdict::Unresolvable(Some(facts))] = verdicts.as_slice() else {
            panic!("{verdicts:?}")
        };
        assert_eq!(facts.helper, "demo.podSpec");
        assert!(check_with_helpers(WHOLE_POD_SPEC, &values, "").is_empty());
    }
}
