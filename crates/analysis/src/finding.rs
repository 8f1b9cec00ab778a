//! What the analysis reports.

use crate::accounts::FoundAccount;
use crate::fix::Fix;
use std::sync::Arc;

use crate::rbac::Permissions;
use crate::render;
use crate::text::TextRange;
use crate::value::ValueType;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// The document is not valid YAML (or is nested too deeply).
    TG000,
    /// A pod spec leaves the service-account token mounted.
    TG001,
}

impl Code {
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::TG000 => "TG000",
            Code::TG001 => "TG001",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    /// Only a project configuration lowers TG001 to these two.
    Information,
    Hint,
}

impl Severity {
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
            Severity::Hint => "hint",
        }
    }
}

/// Which row of the decision table a finding comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// No `automountServiceAccountToken` and no ServiceAccount disabling it.
    Missing,
    /// The key is present with a null value.
    Null,
    /// `automountServiceAccountToken: true`.
    ExplicitTrue,
    /// A value Kubernetes does not decode as a boolean.
    NotBoolean(ValueType),
    /// TG000.
    Syntax,
}

/// The object a finding is about: its identity (two analyses of the same
/// object compare equal whatever moved in the text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadRef {
    pub kind: String,
    pub name: Option<String>,
    pub namespace: Option<String>,
}

impl WorkloadRef {
    /// `Deployment "api"`.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{} \"{name}\"", self.kind),
            None => format!("{} (unnamed)", self.kind),
        }
    }
}

/// The ServiceAccount consulted for a finding, and where it is declared:
/// `found.origin` is the declaring file (`None`: the finding's own file),
/// `found.account.name_range` the range of its name there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountCheck {
    pub name: String,
    pub namespace: Option<String>,
    pub found: Option<FoundAccount>,
}

/// A place in a file a finding names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// The file, as the caller names files; `None` for the finding's own file.
    pub file: Option<String>,
    pub range: TextRange,
}

/// What Helm renders for a templated field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Renders {
    /// `true`: from `values.yaml`, or the template's default.
    True,
    /// Nothing (the value is unset or null): a null field, so the
    /// ServiceAccount decides.
    Empty,
}

/// `automountServiceAccountToken: {{ … }}` in a Helm template, as resolved
/// against the chart's `values.yaml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplatedField {
    /// The action as written: `{{ .Values.pod.automount }}`.
    pub expression: String,
    /// The values path it reads: `pod.automount`.
    pub path: String,
    pub renders: Renders,
    /// The value in `values.yaml` it renders; `None` when `values.yaml`
    /// does not set it (the template's default, or nothing, is rendered).
    pub origin: Option<Place>,
}

/// Pod-spec keys that a helper renders (`{{ include "x" . | nindent 6 }}`
/// at the pod spec's level), as in-place reading made them out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FromHelper {
    /// The helper's name, `x`.
    pub helper: String,
    /// The `include` (or `template`) action, in the finding's file.
    pub include: TextRange,
    pub reading: HelperReading,
}

/// What in-place reading made of a helper's pod-spec keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HelperReading {
    /// The helper renders the field; `origin` is where its value is
    /// written (the helper's literal, or the `values.yaml` value it reads).
    Renders { origin: Option<Place> },
    /// Not evaluated in place, and why (the helper is not in the chart, it
    /// renders a value as YAML, the field is under a condition, …): only
    /// rendering can tell whether it sets the field.
    NotEvaluated { why: String },
}

/// What a Helm chart adds to a finding on one of its templates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HelmFacts {
    /// The field's value is a template action.
    pub field: Option<TemplatedField>,
    /// The pod's ServiceAccount name is computed by the template (which
    /// tokenguard does not evaluate), and the account was decided by the
    /// chart's ServiceAccount templates.
    pub computed_account: bool,
    /// The value in `values.yaml` the consulted account's automounting
    /// comes from.
    pub account_origin: Option<Place>,
    /// The pod spec's keys come partly or wholly from a helper.
    pub helper: Option<FromHelper>,
}

/// How a finding on a chart template relates to the rendered chart (see
/// [`crate::helm::render`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenderFact {
    /// Judged on what `helm template` rendered with these values files
    /// (names relative to the chart's folder, in the order given).
    Rendered { values: Vec<String> },
    /// Judged in place; `what` the reading could not see (a pod spec built
    /// by an `include`, a computed value) was not evaluated, for this
    /// reason.
    NotEvaluated { what: String, why: String },
}

/// The Kustomize overlays that deploy a workload, when some set the field to
/// false through a patch and others do not (named relative to the finding's
/// folder, sorted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overlays {
    pub patching: Vec<String>,
    pub not_patching: Vec<String>,
}

/// A finding: where it is, the facts it is made of, and their rendering.
/// `message` and `related` are rendered from the facts by
/// [`crate::render`] and never edited: a step that learns a new fact (the
/// overlays) records it and renders again ([`Finding::set_overlays`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    /// Where to report: the pod spec's `spec` key, the wrong value, or the
    /// key with a null value; the parser's location for TG000.
    pub range: TextRange,
    /// Rendered from the facts.
    pub message: String,
    /// The verdict: which row of the decision table.
    pub problem: Problem,
    /// What the workload is (TG001).
    pub workload: Option<WorkloadRef>,
    /// Where the workload's pod spec is: the mapping (TG001).
    pub pod_spec: Option<TextRange>,
    /// How many times the pod spec sets the field (Kubernetes uses the
    /// last one).
    pub occurrences: usize,
    /// The ServiceAccount consulted, when the pod spec leaves it to the
    /// account (missing or null).
    pub account: Option<AccountCheck>,
    /// The name of the ServiceAccount the pod runs as (TG001: its
    /// `serviceAccountName`, else `serviceAccount`, else `default`),
    /// whatever the verdict; `None` when a template computes it.
    pub runs_as: Option<String>,
    /// What the token of that account can do, as the RBAC objects of the
    /// workspace say (TG001, attached by the analysis host; `None` without
    /// the host, or when the account's name is not known).
    /// (Shared: every pod that runs as the account holds the same answer.)
    pub permissions: Option<Arc<Permissions>>,
    /// The lines of the places [`Finding::permissions`] names (its
    /// bindings, its declared roles), so that words and outputs can say
    /// `rbac.yaml:12` without the file's text. (Shared, like the
    /// permissions, by the findings of pods that run as the account.)
    pub declared_at: Arc<Vec<DeclaredAt>>,
    /// What the chart adds, for a finding on a Helm template.
    pub helm: Option<HelmFacts>,
    /// Whether the chart was rendered to judge it, or what was not evaluated.
    pub rendering: Option<RenderFact>,
    /// The overlays that patch the workload and those that do not.
    pub overlays: Option<Overlays>,
    /// TG000: what the YAML reader refused.
    pub syntax: Option<SyntaxFacts>,
    pub fix: Option<Fix>,
    /// Other places that explain the finding, such as the line of a Helm
    /// chart's `values.yaml` that a template value comes from; rendered
    /// from the facts.
    pub related: Vec<Related>,
}

/// What [`Finding::set_permissions`] records and words for the findings
/// whose pods run as one account (the same shared permissions) and whose
/// files name the places of those permissions alike (see
/// `host/permissions.rs`): worked out once, whatever the number of such
/// findings.
#[derive(Debug)]
pub(crate) struct PermissionMemo {
    pub permissions: Arc<Permissions>,
    pub declared_at: Arc<Vec<DeclaredAt>>,
    words: render::PermissionWords,
    fix_reason: Option<String>,
}

impl PermissionMemo {
    /// The words of `permissions` (whose words of their own are
    /// `account`), whose places are `declared_at`, and `fix_reason`
    /// ([`crate::placement::fix_reason`] of the permissions).
    pub(crate) fn new(
        permissions: Arc<Permissions>,
        account: &render::AccountWords,
        declared_at: Arc<Vec<DeclaredAt>>,
        fix_reason: Option<String>,
    ) -> Self {
        let words = render::PermissionWords::of(&permissions, account, &declared_at);
        PermissionMemo {
            permissions,
            declared_at,
            words,
            fix_reason,
        }
    }
}

/// TG000: what the YAML reader refused, and what stood there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyntaxFacts {
    /// The reader's own message: yaml-rust2's, or one of tokenguard's own
    /// checks' (already in plain words).
    pub reader: String,
    /// The character the error points at; `None` at the end of a line or
    /// of the text.
    pub found: Option<char>,
}

/// A place in another file (or the finding's own) that the permissions
/// name, with the line it is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredAt {
    /// The file, as the host names it.
    pub file: String,
    /// The range there (the name of a binding or a role).
    pub range: TextRange,
    /// How the words name the file: its path relative to the finding's
    /// folder (`rbac.yaml`, `../base/rbac.yaml`); empty for the finding's
    /// own file.
    pub shown: String,
    /// The 0-based line of `range.start`, the byte it starts at, and its
    /// text (without the line break).
    pub line: usize,
    pub line_start: usize,
    pub line_text: String,
}

impl DeclaredAt {
    /// `rbac.yaml:12`, or `line 12` in the finding's own file.
    pub fn label(&self) -> String {
        if self.shown.is_empty() {
            format!("line {}", self.line + 1)
        } else {
            format!("{}:{}", self.shown, self.line + 1)
        }
    }

    /// The 0-based column of the range's start in characters, and in
    /// UTF-16 code units.
    pub fn columns(&self) -> (usize, usize) {
        let mut within = self
            .range
            .start
            .saturating_sub(self.line_start)
            .min(self.line_text.len());
        while !self.line_text.is_char_boundary(within) {
            within -= 1;
        }
        let before = &self.line_text[..within];
        (before.chars().count(), before.encode_utf16().count())
    }
}

/// A place that explains a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    /// The file, as the caller names files (the identity given with its
    /// text); `None` for the finding's own file.
    pub file: Option<String>,
    pub range: TextRange,
    pub message: String,
}

impl Finding {
    /// A TG001 finding of `problem` on `workload`, its other facts unset
    /// and nothing rendered yet (see [`Finding::rendered`]).
    pub(crate) fn tg001(
        problem: Problem,
        workload: WorkloadRef,
        range: TextRange,
        pod_spec: TextRange,
    ) -> Finding {
        Finding {
            code: Code::TG001,
            severity: Severity::Warning,
            range,
            message: String::new(),
            problem,
            workload: Some(workload),
            pod_spec: Some(pod_spec),
            occurrences: 0,
            account: None,
            runs_as: None,
            permissions: None,
            declared_at: Arc::default(),
            helm: None,
            rendering: None,
            overlays: None,
            syntax: None,
            fix: None,
            related: Vec::new(),
        }
    }

    /// A TG000 finding for a syntax error, rendered.
    pub(crate) fn syntax(range: TextRange, facts: SyntaxFacts) -> Finding {
        Finding {
            code: Code::TG000,
            severity: Severity::Error,
            range,
            message: String::new(),
            problem: Problem::Syntax,
            workload: None,
            pod_spec: None,
            occurrences: 0,
            account: None,
            runs_as: None,
            permissions: None,
            declared_at: Arc::default(),
            helm: None,
            rendering: None,
            overlays: None,
            syntax: Some(facts),
            fix: None,
            related: Vec::new(),
        }
        .rendered()
    }

    /// The finding with its message and related places rendered from its
    /// facts.
    pub(crate) fn rendered(mut self) -> Finding {
        self.message = render::message(&self);
        self.related = render::related(&self);
        self
    }

    /// Records how the finding relates to the rendered chart, and renders
    /// again.
    pub(crate) fn set_rendering(&mut self, fact: RenderFact) {
        self.rendering = Some(fact);
        self.message = render::message(self);
        self.related = render::related(self);
    }

    /// Records the overlays that deploy the workload, and renders again.
    pub(crate) fn set_overlays(&mut self, overlays: Overlays) {
        self.overlays = Some(overlays);
        self.message = render::message(self);
        self.related = render::related(self);
    }

    /// The risk of the account the pod runs as (its `rbac::Risk::as_str`),
    /// when its permissions are known.
    pub fn risk(&self) -> Option<&'static str> {
        self.permissions.as_ref().map(|p| p.risk.as_str())
    }

    /// Records what the pod's token can do and where the places it names
    /// are, as worked out in `memo` (for any finding whose pod runs as the
    /// account and whose file names those places alike), and renders
    /// again.
    pub(crate) fn set_permissions(&mut self, memo: &PermissionMemo) {
        self.permissions = Some(Arc::clone(&memo.permissions));
        self.declared_at = Arc::clone(&memo.declared_at);
        crate::placement::weigh_fix_with(self, memo.fix_reason.as_deref());
        (self.message, self.related) = memo.words.render(self);
    }

    /// Where a place the permissions name is, when its line is known.
    pub fn declared_at(&self, file: &str, range: TextRange) -> Option<&DeclaredAt> {
        self.declared_at
            .iter()
            .find(|d| d.file == file && d.range == range)
    }

    /// The same finding in a text where its document starts `by` bytes later.
    pub fn shifted(&self, by: usize) -> Finding {
        let mut moved = self.clone();
        moved.range = moved.range.shifted(by as isize);
        moved.pod_spec = moved.pod_spec.map(|r| r.shifted(by as isize));
        let own = |place: &mut Place| {
            if place.file.is_none() {
                place.range = place.range.shifted(by as isize);
            }
        };
        if let Some(helm) = moved.helm.as_mut() {
            if let Some(origin) = helm.field.as_mut().and_then(|f| f.origin.as_mut()) {
                own(origin);
            }
            if let Some(origin) = helm.account_origin.as_mut() {
                own(origin);
            }
            if let Some(helper) = helm.helper.as_mut() {
                helper.include = helper.include.shifted(by as isize);
                if let HelperReading::Renders {
                    origin: Some(origin),
                } = &mut helper.reading
                {
                    own(origin);
                }
            }
        }
        for related in moved.related.iter_mut().filter(|r| r.file.is_none()) {
            related.range = related.range.shifted(by as isize);
        }
        if let Some(fix) = moved.fix.as_mut().filter(|fix| fix.file.is_none()) {
            for edit in &mut fix.edits {
                edit.range = edit.range.shifted(by as isize);
            }
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifting_moves_the_places_in_the_same_file_only() {
        let workload = WorkloadRef {
            kind: "Pod".to_string(),
            name: None,
            namespace: None,
        };
        let mut finding = Finding::tg001(
            Problem::Null,
            workload,
            TextRange::new(1, 2),
            TextRange::new(3, 9),
        );
        let place = |file: Option<&str>| Place {
            file: file.map(str::to_string),
            range: TextRange::new(4, 5),
        };
        finding.helm = Some(HelmFacts {
            field: Some(TemplatedField {
                expression: "{{ .Values.a }}".to_string(),
                path: "a".to_string(),
                renders: Renders::Empty,
                origin: Some(place(Some("values.yaml"))),
            }),
            computed_account: false,
            account_origin: Some(place(None)),
            helper: None,
        });
        let moved = finding.rendered().shifted(100);
        assert_eq!(moved.range, TextRange::new(101, 102));
        assert_eq!(moved.pod_spec, Some(TextRange::new(103, 109)));
        let helm = moved.helm.as_ref().unwrap();
        assert_eq!(
            helm.field.as_ref().unwrap().origin,
            Some(place(Some("values.yaml")))
        );
        assert_eq!(
            helm.account_origin.as_ref().unwrap().range,
            TextRange::new(104, 105)
        );
        assert_eq!(moved.related.len(), 1, "no account found: no account note");
        assert_eq!(moved.related[0].range, TextRange::new(4, 5));
    }
}
