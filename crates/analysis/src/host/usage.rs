//! The host's answers for the audit view (`tokenguard accounts`): which
//! workloads of a file run as which ServiceAccount and whether each mounts
//! the token ([`AnalysisHost::token_uses`]), the accounts the workspace
//! declares ([`AnalysisHost::declared_accounts`]), and both put together
//! ([`AnalysisHost::account_usage`]). The token is decided as the rule
//! decides it (the plain rule, the Helm rule with the chart as the host
//! knows it, then the kustomizations), so the audit and `check` never
//! disagree about a pod.

use super::charts;
use super::path::FilePath;
use super::source::FileSource;
use super::{relative_to, AnalysisHost};
use crate::files::FileKind;
use crate::finding::{Code, Finding, WorkloadRef};
use crate::helm::{self, ChartAccountName, ChartAutomount, Template, TemplateContext, Verdict};
use crate::objects::{AccountAutomount, Workload};
use crate::tree::Document;
use crate::usage::{
    self, AccountUsage, Decider, Declaration, DeclaredAccount, DeclaredAutomount, PodField, Token,
    TokenUse,
};
use crate::value::{get, read_bool_field, BoolField};
use crate::{ignore_comment, rule, verdict, LineIndex, SameFileFirst, FIELD};

fn pod_field(field: Option<Option<BoolField>>) -> PodField {
    match field {
        None => PodField::Absent,
        Some(None) => PodField::Templated,
        Some(Some(BoolField::False)) => PodField::False,
        Some(Some(BoolField::True)) => PodField::True,
        Some(Some(BoolField::Null)) => PodField::Null,
        Some(Some(BoolField::NotBoolean(_))) => PodField::NotBoolean,
    }
}

/// Who decided a reported pod: the account when the rule consulted it.
fn mounted_by(finding: &Finding) -> Token {
    Token::Mounted(if finding.account.is_some() {
        Decider::Account
    } else {
        Decider::Pod
    })
}

/// Who decided a compliant pod: its own `false` (written, or a template
/// value resolving to it), else its account.
fn not_mounted_by(field: PodField) -> Token {
    Token::NotMounted(match field {
        PodField::False | PodField::Templated => Decider::Pod,
        _ => Decider::Account,
    })
}

fn workload_ref(workload: &Workload) -> WorkloadRef {
    WorkloadRef {
        kind: workload.kind.clone(),
        name: workload.name.clone(),
        namespace: workload.namespace.clone(),
    }
}

/// A chart account's namespace, unless the template computes it (the
/// mask leaves a run of `x` in the action's place): a computed namespace
/// is the release's, as a template workload's is.
fn chart_namespace(namespace: &Option<String>) -> Option<String> {
    namespace
        .clone()
        .filter(|ns| !(ns.len() >= 4 && ns.bytes().all(|b| b == b'x')))
}

impl<S: FileSource> AnalysisHost<S> {
    /// The workloads of `text` at `path` (fed or not), each with the
    /// account it runs as and whether it mounts the token, in text order.
    /// Objects an `[[ignore]]` of the configuration covers are listed too
    /// (they still run), marked accepted.
    pub fn token_uses(&self, path: &FilePath, text: &str) -> Vec<TokenUse> {
        let configuration = self.configuration(path);
        let options = &configuration.options;
        let kind = match self.files.get(path) {
            Some(entry) => entry.kind.clone(),
            None => charts::classify(&self.source, path, text),
        };
        // A kustomize patch's objects are partial: not workloads.
        if !path.is_detached() && self.kustomize.index.is_only_a_patch(path.as_str()) {
            return Vec::new();
        }
        let mut uses = match &kind {
            FileKind::Manifest => self.manifest_uses(text, options),
            FileKind::ChartTemplate(_) | FileKind::LooseTemplate => {
                self.template_uses(path, &kind, text, options)
            }
            _ => Vec::new(),
        };
        // The kustomizations: a mounted token every deployment patches off
        // is not mounted where the pod runs.
        if !path.is_detached() && !self.kustomize.index.is_empty() {
            let file = crate::kustomize::normalize(path.as_str());
            for (used, finding) in &mut uses {
                if let Some(finding) = finding.take() {
                    if self.kustomize.index.adjust(&file, vec![finding]).is_empty() {
                        used.token = Token::NotMounted(Decider::Overlays);
                    }
                }
            }
        }
        uses.into_iter().map(|(used, _)| used).collect()
    }

    /// A plain manifest's workloads, with the finding of each mounted one.
    fn manifest_uses(
        &self,
        text: &str,
        options: &crate::Options,
    ) -> Vec<(TokenUse, Option<Finding>)> {
        let parsed = crate::parse(text, options);
        let accounts = SameFileFirst {
            file: &parsed.accounts,
            workspace: &self.accounts,
        };
        // Every workload, those an `[[ignore]]` covers too (as `parse`
        // finds them).
        let covered: Vec<(&Document, Workload, bool)> = parsed
            .documents
            .iter()
            .flat_map(|doc| {
                crate::objects::objects(doc)
                    .into_iter()
                    .filter_map(move |object| crate::objects::workload(doc, object, &options.kinds))
                    .map(move |w| {
                        let ignored = options.ignores(&w).is_some();
                        (doc, w, ignored)
                    })
            })
            .collect();
        let mut uses: Vec<(TokenUse, Option<Finding>)> = covered
            .into_iter()
            .map(|(doc, workload, ignored)| {
                let workload = &workload;
                let field = pod_field(
                    get(doc, workload.pod_spec, FIELD).map(|(_, v)| Some(read_bool_field(doc, v))),
                );
                let account = verdict::pod_account(doc, workload, &accounts);
                let finding = rule::judge(text, doc, workload, &accounts);
                let (token, accepted) = match &finding {
                    Some(finding) => (
                        mounted_by(finding),
                        ignored || suppressed(text, &parsed.line_index, finding),
                    ),
                    None => (not_mounted_by(field), false),
                };
                let used = TokenUse {
                    workload: workload_ref(workload),
                    range: doc.node(workload.object).range,
                    account: account.name,
                    computed: false,
                    pod_field: field,
                    token,
                    accepted,
                };
                (used, finding)
            })
            .collect();
        uses.sort_by_key(|(u, _)| u.range.start);
        uses
    }

    /// A chart template's (or a loose template's) workloads, decided by the
    /// Helm rule with the chart as the host knows it, and its rendering
    /// when the host has one.
    fn template_uses(
        &self,
        path: &FilePath,
        kind: &FileKind,
        text: &str,
        options: &crate::Options,
    ) -> Vec<(TokenUse, Option<Finding>)> {
        let (chart, root) = match kind {
            FileKind::ChartTemplate(root) => {
                let root = FilePath::from_path(root);
                (self.charts.get(&root), Some(root))
            }
            _ => (None, None),
        };
        // The chart's mask of this very text, when it read it for its
        // accounts: the template is not masked again.
        let shared = chart.and_then(|c| c.mask_of(path.as_str(), text));
        let context = TemplateContext {
            file: path.as_str(),
            values: chart.and_then(|c| c.values.as_ref()),
            accounts: chart.map_or(&[], |c| c.accounts.as_slice()),
            helpers: chart.map(|c| &c.helpers),
            accounts_read: chart
                .is_some_and(|c| shared.is_some() || c.read_accounts_of(path.as_str(), text)),
        };
        let template = match shared {
            Some(masked) => Template::parse_with_mask(text, masked, context.values, options),
            None => Template::parse(text, context.values, options),
        };
        let verdicts = helm::judge_workloads(text, &template, &context, &self.accounts);
        let named = helm::workload_accounts(text, &template, &context);
        // A chart rendered with helm decides what reading in place cannot.
        let rendering = root
            .as_ref()
            .and_then(|root| Some((root, self.renderings.get(root)?)));
        let rendered: Option<Vec<Finding>> = rendering.map(|(root, rendering)| {
            let in_place = verdicts
                .iter()
                .filter_map(|(_, v)| match v {
                    Verdict::Reported(f) => Some((**f).clone()),
                    _ => None,
                })
                .collect();
            let decided =
                |call: &str| chart.is_some_and(|c| c.helpers.decides(call, c.values.as_ref()));
            rendering.apply(
                &relative_to(path, root),
                text,
                in_place,
                &self.accounts,
                options,
                &decided,
            )
        });
        let judged_by_rendering = rendered.is_some() && self.not_evaluated(path, text).is_none();
        named
            .into_iter()
            .zip(verdicts)
            .map(|((workload, range, name, field), (_, verdict))| {
                let field = pod_field(field);
                let same = |f: &&Finding| {
                    f.code == Code::TG001
                        && f.workload
                            .as_ref()
                            .is_some_and(|w| w.kind == workload.kind && w.name == workload.name)
                };
                let compliant = verdict == Verdict::Compliant;
                let finding = match (&rendered, verdict) {
                    (Some(rendered), _) => rendered.iter().find(same).cloned(),
                    (None, Verdict::Reported(finding)) => Some(*finding),
                    (None, _) => None,
                };
                let token = match &finding {
                    Some(finding) => mounted_by(finding),
                    None if compliant || judged_by_rendering => not_mounted_by(field),
                    None => Token::Unknown,
                };
                let (account, computed) = match name {
                    ChartAccountName::Known(name) => (name, false),
                    ChartAccountName::Computed(expression) => (expression, true),
                };
                let accepted = finding
                    .as_ref()
                    .is_some_and(|f| suppressed(text, &template.parsed.line_index, f));
                let used = TokenUse {
                    workload: workload_ref(&workload),
                    range,
                    account,
                    computed,
                    pod_field: field,
                    token,
                    accepted,
                };
                (used, finding)
            })
            .collect()
    }

    /// Every ServiceAccount the workspace declares: the plain manifests'
    /// (the account index) and the charts' templates'.
    pub fn declared_accounts(&self) -> Vec<DeclaredAccount> {
        let mut declared: Vec<DeclaredAccount> = self
            .accounts
            .iter()
            .map(|(file, account)| DeclaredAccount {
                namespace: account.namespace.clone(),
                name: account.name.clone(),
                computed: false,
                declaration: Declaration {
                    file: file.to_string(),
                    range: account.name_range,
                    automount: match account.automount {
                        AccountAutomount::Disabled => DeclaredAutomount::Disabled,
                        AccountAutomount::Enabled => DeclaredAutomount::Enabled,
                        AccountAutomount::Default => DeclaredAutomount::Default,
                        AccountAutomount::Invalid => DeclaredAutomount::Invalid,
                    },
                },
            })
            .collect();
        for (_, chart) in self.charts() {
            for account in &chart.accounts {
                let (name, computed) = match &account.name {
                    ChartAccountName::Known(name) => (name.clone(), false),
                    ChartAccountName::Computed(expression) => (expression.clone(), true),
                };
                declared.push(DeclaredAccount {
                    namespace: chart_namespace(&account.account.namespace),
                    name,
                    computed,
                    declaration: Declaration {
                        file: account.file.clone(),
                        range: account.account.name_range,
                        automount: match account.automount {
                            ChartAutomount::Disabled => DeclaredAutomount::Disabled,
                            ChartAutomount::Enabled => DeclaredAutomount::Enabled,
                            ChartAutomount::Default => DeclaredAutomount::Default,
                            ChartAutomount::Unknown => DeclaredAutomount::Templated,
                        },
                    },
                });
            }
        }
        declared
    }

    /// The workspace's accounts with the workloads that run as them: the
    /// declared ones, and those `uses` (each file's
    /// [`AnalysisHost::token_uses`]) name; each with what its token can do
    /// ([`AnalysisHost::permissions`]).
    pub fn account_usage(
        &self,
        uses: impl IntoIterator<Item = (FilePath, Vec<TokenUse>)>,
    ) -> Vec<AccountUsage> {
        let uses = uses.into_iter().flat_map(|(file, uses)| {
            let file = file.as_str().to_string();
            uses.into_iter().map(move |u| (file.clone(), u))
        });
        let mut accounts = usage::group(self.declared_accounts(), uses);
        for account in &mut accounts {
            if !account.computed {
                account.permissions =
                    Some(self.permissions(account.namespace.as_deref(), &account.name));
            }
        }
        accounts
    }
}

/// Whether a `tokenguard-ignore` comment accepts `finding`.
fn suppressed(text: &str, line_index: &LineIndex, finding: &Finding) -> bool {
    let line = line_index.line_of(finding.range.start);
    ignore_comment::is_suppressed(text, line_index, line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::NoFiles;
    use crate::usage::Declared;

    const ACCOUNTS: &str = "kind: ServiceAccount\nmetadata: {name: quiet, namespace: ci}\nautomountServiceAccountToken: false\n---\nkind: ServiceAccount\nmetadata: {name: loud, namespace: ci}\n";
    const PODS: &str = "kind: Pod\nmetadata: {name: a, namespace: ci}\nspec: {serviceAccountName: quiet, containers: []}\n---\nkind: Pod\nmetadata: {name: b, namespace: ci}\nspec: {serviceAccountName: loud, containers: []}\n---\nkind: Pod\nmetadata: {name: c, namespace: ci}\nspec:\n  serviceAccountName: loud\n  automountServiceAccountToken: false\n  containers: []\n---\nkind: Pod\nmetadata: {name: d, namespace: ci}\nspec:\n  # tokenguard-ignore: it calls the API\n  automountServiceAccountToken: true\n  containers: []\n";

    fn host() -> AnalysisHost<NoFiles> {
        let mut host = AnalysisHost::new(NoFiles);
        host.index_file(FilePath::new("sa.yaml"), ACCOUNTS);
        host.index_file(FilePath::new("pods.yaml"), PODS);
        host
    }

    #[test]
    fn each_pod_runs_as_its_account_and_the_rule_decides_its_token() {
        let host = host();
        let uses = host.token_uses(&FilePath::new("pods.yaml"), PODS);
        let seen: Vec<(&str, &str, Token, PodField, bool)> = uses
            .iter()
            .map(|u| {
                (
                    u.workload.name.as_deref().unwrap_or(""),
                    u.account.as_str(),
                    u.token,
                    u.pod_field,
                    u.accepted,
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (
                    "a",
                    "quiet",
                    Token::NotMounted(Decider::Account),
                    PodField::Absent,
                    false
                ),
                (
                    "b",
                    "loud",
                    Token::Mounted(Decider::Account),
                    PodField::Absent,
                    false
                ),
                (
                    "c",
                    "loud",
                    Token::NotMounted(Decider::Pod),
                    PodField::False,
                    false
                ),
                (
                    "d",
                    "default",
                    Token::Mounted(Decider::Pod),
                    PodField::True,
                    true
                ),
            ]
        );
        // What `check` reports: the mounted pods no comment accepts.
        let reported = host.analyze(&FilePath::new("pods.yaml"), PODS).findings;
        let mounted = uses
            .iter()
            .filter(|u| u.token.is_mounted() && !u.accepted)
            .count();
        assert_eq!(reported.len(), mounted);
    }

    #[test]
    fn accounts_are_grouped_with_their_workloads_and_permissions() {
        let host = host();
        let path = FilePath::new("pods.yaml");
        let uses = host.token_uses(&path, PODS);
        let usage = host.account_usage([(path, uses)]);
        let summary: Vec<(&str, Declared, usize, usize)> = usage
            .iter()
            .map(|a| {
                (
                    a.name.as_str(),
                    a.declared(),
                    a.workloads.len(),
                    a.mounting(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("default", Declared::ImplicitDefault, 1, 1),
                ("loud", Declared::Yes, 2, 1),
                ("quiet", Declared::Yes, 1, 0),
            ]
        );
        assert_eq!(usage[1].declarations[0].file, "sa.yaml");
        // No binding anywhere: discovery only.
        let risk = usage[1].permissions.as_ref().map(|p| p.risk);
        assert_eq!(risk, Some(crate::rbac::Risk::DiscoveryOnly));
    }
}
