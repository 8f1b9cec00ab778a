//! The host: feeding files, changing them, what changed since a revision,
//! and what it asks of its source.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use super::*;
use crate::Code;

/// Files in memory; every request is written down.
#[derive(Default)]
struct Disk {
    files: BTreeMap<String, String>,
    requests: Mutex<Vec<String>>,
}

impl Disk {
    fn with(files: &[(&str, &str)]) -> Self {
        Self {
            files: files
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string()))
                .collect(),
            requests: Mutex::default(),
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    fn note(&self, what: String) {
        if let Ok(mut requests) = self.requests.lock() {
            requests.push(what);
        }
    }
}

impl FileSource for Disk {
    fn read(&self, path: &FilePath, _: Need) -> Option<String> {
        self.note(format!("read {path}"));
        self.files.get(path.as_str()).cloned()
    }

    fn is_file(&self, path: &FilePath) -> bool {
        self.files.contains_key(path.as_str())
    }

    fn list_yaml(&self, dir: &FilePath) -> Vec<FilePath> {
        self.note(format!("list {dir}"));
        self.files
            .keys()
            .filter(|p| FilePath::new(p.as_str()).is_within(dir))
            .filter(|p| p.ends_with(".yaml") || p.ends_with(".yml"))
            .map(|p| FilePath::new(p.as_str()))
            .collect()
    }
}

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      serviceAccountName: app\n      containers: []\n";
const ACCOUNT_OFF: &str =
    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\nautomountServiceAccountToken: false\n";
const ACCOUNT_ON: &str =
    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\nautomountServiceAccountToken: true\n";

fn path(p: &str) -> FilePath {
    FilePath::new(p)
}

fn codes(host: &AnalysisHost<impl FileSource>, p: &str) -> Vec<Code> {
    host.analysis(&path(p))
        .map(|a| a.findings.iter().map(|f| f.code).collect())
        .unwrap_or_default()
}

fn files(list: &[&str]) -> Affected {
    Affected::Files(list.iter().map(|p| path(p)).collect::<BTreeSet<_>>())
}

#[test]
fn an_account_in_another_file_decides_and_its_change_affects_everything() {
    let mut host = AnalysisHost::new(NoFiles);
    host.set_file(path("k8s/deploy.yaml"), DEPLOY.to_string());
    assert_eq!(codes(&host, "k8s/deploy.yaml"), [Code::TG001]);
    let before = host.revision();
    host.set_file(path("k8s/sa.yaml"), ACCOUNT_OFF.to_string());
    assert_eq!(host.changed_since(before), Affected::Everything);
    assert_eq!(codes(&host, "k8s/deploy.yaml"), Vec::<Code>::new());
    // The same accounts again: only the file itself.
    let before = host.revision();
    host.set_file(path("k8s/sa.yaml"), ACCOUNT_OFF.to_string());
    assert_eq!(host.changed_since(before), files(&["k8s/sa.yaml"]));
    host.set_file(path("k8s/sa.yaml"), ACCOUNT_ON.to_string());
    assert_eq!(codes(&host, "k8s/deploy.yaml"), [Code::TG001]);
    let before = host.revision();
    host.remove_file(&path("k8s/sa.yaml"));
    assert_eq!(host.changed_since(before), Affected::Everything);
    assert!(host.accounts().is_empty());
}

#[test]
fn a_plain_edit_affects_only_its_file_and_changes_add_up() {
    let mut host = AnalysisHost::new(NoFiles);
    host.set_file(path("a.yaml"), DEPLOY.to_string());
    host.set_file(path("b.yaml"), DEPLOY.to_string());
    let start = host.revision();
    host.set_file(path("a.yaml"), format!("{DEPLOY}# edited\n"));
    assert_eq!(host.changed_since(start), files(&["a.yaml"]));
    let middle = host.revision();
    host.set_file(path("b.yaml"), format!("{DEPLOY}# edited\n"));
    assert_eq!(host.changed_since(start), files(&["a.yaml", "b.yaml"]));
    assert_eq!(host.changed_since(middle), files(&["b.yaml"]));
    assert_eq!(host.changed_since(host.revision()), files(&[]));
    assert_eq!(host.file_revision(&path("b.yaml")), Some(host.revision()));
}

#[test]
fn indexed_files_keep_no_text_and_are_read_again_when_asked() {
    let disk = Disk::with(&[("d.yaml", DEPLOY), ("sa.yaml", ACCOUNT_OFF)]);
    let mut host = AnalysisHost::new(disk);
    host.index_file(path("sa.yaml"), ACCOUNT_OFF);
    host.index_file(path("d.yaml"), DEPLOY);
    assert!(host
        .source()
        .requests()
        .iter()
        .all(|r| !r.starts_with("read")));
    assert_eq!(codes(&host, "d.yaml"), Vec::<Code>::new());
    assert_eq!(host.source().requests(), ["read d.yaml"]);
    // Facts computed apart (in parallel, say), then fed in order.
    let facts = host.facts(&path("sa2.yaml"), ACCOUNT_ON);
    assert_eq!(facts.kind, FileKind::Manifest);
    assert_eq!(facts.accounts.len(), 1);
    host.add_facts(path("sa2.yaml"), facts);
    assert_eq!(host.accounts().len(), 2);
    // A text judged without being fed.
    let analysis = host.analyze(&path("other.yaml"), DEPLOY);
    assert_eq!(analysis.findings.len(), 1, "sa2 enables automounting");
}

#[test]
fn a_chart_is_read_through_the_source_and_values_affect_its_templates() {
    let template = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      automountServiceAccountToken: {{ .Values.automount }}\n      containers: []\n";
    let disk = Disk::with(&[
        ("c/Chart.yaml", "name: c\n"),
        ("c/values.yaml", "automount: true\n"),
        ("c/templates/deploy.yaml", template),
    ]);
    let mut host = AnalysisHost::new(disk);
    host.index_file(path("c/templates/deploy.yaml"), template);
    assert_eq!(
        host.kind(&path("c/templates/deploy.yaml")),
        Some(&FileKind::ChartTemplate("c".into()))
    );
    let requests = host.source().requests();
    assert!(
        requests.contains(&"read c/values.yaml".to_string()),
        "{requests:?}"
    );
    assert!(
        requests.contains(&"list c/templates".to_string()),
        "{requests:?}"
    );
    let analysis = host
        .analysis(&path("c/templates/deploy.yaml"))
        .expect("fed");
    assert_eq!(analysis.chart, Some(path("c")));
    assert_eq!(analysis.findings.len(), 1);
    assert_eq!(
        analysis.findings[0]
            .fix
            .as_ref()
            .and_then(|f| f.file.clone()),
        Some("c/values.yaml".to_string()),
        "fixed in values.yaml"
    );
    // The values change (an editor's buffer): the chart's templates.
    let before = host.revision();
    host.set_file(path("c/values.yaml"), "automount: false\n".to_string());
    assert_eq!(
        host.changed_since(before),
        files(&["c/templates/deploy.yaml", "c/values.yaml"])
    );
    assert_eq!(codes(&host, "c/templates/deploy.yaml"), Vec::<Code>::new());
    // A helper is never judged.
    host.set_file(
        path("c/templates/_helpers.tpl"),
        "{{ define }}: [".to_string(),
    );
    assert_eq!(codes(&host, "c/templates/_helpers.tpl"), Vec::<Code>::new());
}

#[test]
fn a_charts_helpers_are_read_and_a_changed_helper_file_affects_its_templates() {
    let template = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      {{- include \"c.pod\" . | nindent 6 }}\n      containers: []\n";
    let helpers = "{{- define \"c.pod\" -}}\nautomountServiceAccountToken: {{ .Values.automount }}\n{{- end }}\n";
    let disk = Disk::with(&[
        ("c/Chart.yaml", "name: c\n"),
        ("c/values.yaml", "automount: false\n"),
        ("c/templates/_helpers.tpl", helpers),
        ("c/templates/deploy.yaml", template),
    ]);
    let mut host = AnalysisHost::new(disk);
    host.index_file(path("c/templates/deploy.yaml"), template);
    let requests = host.source().requests();
    assert!(
        requests.contains(&"read c/templates/_helpers.tpl".to_string()),
        "{requests:?}"
    );
    assert_eq!(codes(&host, "c/templates/deploy.yaml"), Vec::<Code>::new());
    // The helper file changes (an editor's buffer): the chart's templates.
    let before = host.revision();
    host.set_file(
        path("c/templates/_helpers.tpl"),
        helpers.replace("{{ .Values.automount }}", "true"),
    );
    assert!(
        matches!(host.changed_since(before), Affected::Files(f) if f.contains(&path("c/templates/deploy.yaml"))),
        "the template is affected"
    );
    assert_eq!(codes(&host, "c/templates/deploy.yaml"), vec![Code::TG001]);
}

#[test]
fn kustomizations_are_read_for_the_folders_fed_and_a_change_affects_everything() {
    let base = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers: []\n";
    let patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      automountServiceAccountToken: false\n";
    let disk = Disk::with(&[
        ("base/kustomization.yaml", "resources:\n- deploy.yaml\n"),
        ("base/deploy.yaml", base),
        (
            "prod/kustomization.yaml",
            "resources:\n- ../base\npatches:\n- path: patch.yaml\n",
        ),
        ("prod/patch.yaml", patch),
    ]);
    let mut host = AnalysisHost::new(disk);
    host.index_file(path("base/deploy.yaml"), base);
    // The base alone: nothing patches it.
    assert_eq!(codes(&host, "base/deploy.yaml"), [Code::TG001]);
    let before = host.revision();
    host.index_file(path("prod/patch.yaml"), patch);
    assert_eq!(host.changed_since(before), Affected::Everything);
    assert!(host.kustomizations().is_patch_file("prod/patch.yaml"));
    // Every overlay patches it now; the patch itself is not judged.
    assert_eq!(codes(&host, "base/deploy.yaml"), Vec::<Code>::new());
    assert_eq!(codes(&host, "prod/patch.yaml"), Vec::<Code>::new());
    let requests = host.source().requests();
    assert!(
        requests.contains(&"read prod/patch.yaml".to_string()),
        "{requests:?}"
    );
    // The patch stops patching (an editor's buffer).
    host.set_file(path("prod/patch.yaml"), patch.replace("false", "true"));
    assert_eq!(codes(&host, "base/deploy.yaml"), [Code::TG001]);
}

#[test]
fn a_patch_named_by_url_is_never_read_as_a_file() {
    let base = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers: []\n";
    let disk = Disk::with(&[
        (
            "app/kustomization.yaml",
            "resources:\n- deploy.yaml\npatches:\n- path: https://example.com/p/automount.yaml\n",
        ),
        ("app/deploy.yaml", base),
    ]);
    let mut host = AnalysisHost::new(disk);
    host.index_file(path("app/deploy.yaml"), base);
    // The remote patch is not fetched: the workload is judged as it stands.
    assert_eq!(codes(&host, "app/deploy.yaml"), [Code::TG001]);
    let requests = host.source().requests();
    assert!(
        requests.contains(&"read app/kustomization.yaml".to_string()),
        "{requests:?}"
    );
    assert!(
        !requests.iter().any(|r| r.contains("example.com")),
        "a URL was asked of the file source: {requests:?}"
    );
    assert!(!host
        .kustomizations()
        .is_patch_file("app/https:/example.com/p/automount.yaml"));
}

#[test]
fn configurations_by_scope_severity_and_the_exclusion_rule() {
    let disk = Disk::with(&[("/r/tokenguard.toml", "")]);
    let mut host = AnalysisHost::new(disk);
    assert_eq!(
        host.find_configuration(&path("/r/k8s/app")),
        Some(path("/r/tokenguard.toml"))
    );
    assert_eq!(host.find_configuration(&path("/elsewhere")), None);
    host.set_file(path("/r/k8s/a.yaml"), DEPLOY.to_string());
    host.set_file(path("/s/b.yaml"), "kind: Pod\nspec: [\n".to_string());
    let before = host.revision();
    let config = Configuration::from_text(
        path("/r/tokenguard.toml"),
        "severity = \"error\"\nexclude = [\"vendor/**\"]\n",
    )
    .expect("valid");
    host.set_configuration(Some(path("/r")), config);
    assert_eq!(host.changed_since(before), files(&["/r/k8s/a.yaml"]));
    let a = host.analysis(&path("/r/k8s/a.yaml")).expect("fed");
    assert_eq!(a.findings[0].severity, crate::Severity::Error);
    assert!(host.is_excluded(&path("/r/vendor/x/y.yaml")));
    assert!(!host.is_excluded(&path("/r/k8s/a.yaml")));
    // Outside the scope: the defaults; then a configuration for every file.
    assert_eq!(codes(&host, "/s/b.yaml"), [Code::TG000]);
    let quiet = Configuration::from_text(path("/s/tokenguard.toml"), "syntax_errors = false\n")
        .expect("valid");
    let before = host.revision();
    host.set_configuration(None, quiet);
    assert_eq!(host.changed_since(before), Affected::Everything);
    assert_eq!(codes(&host, "/s/b.yaml"), Vec::<Code>::new());
    let a = host.analysis(&path("/r/k8s/a.yaml")).expect("fed");
    assert_eq!(
        a.findings[0].severity,
        crate::Severity::Error,
        "deepest scope wins"
    );
}

#[test]
fn files_without_a_kubernetes_object_get_nothing() {
    let mut host = AnalysisHost::new(NoFiles);
    host.set_file(
        path(".github/workflows/ci.yaml"),
        "on: push\njobs:\n  build: {runs-on: [ubuntu\n".to_string(),
    );
    assert_eq!(
        codes(&host, ".github/workflows/ci.yaml"),
        Vec::<Code>::new()
    );
    host.set_file(
        path("typo.yaml"),
        DEPLOY.replace("apiVersion", "apiVersoin"),
    );
    assert_eq!(codes(&host, "typo.yaml"), [Code::TG001]);
    host.set_file(
        FilePath::detached("<stdin>"),
        "kind: Pod\nspec: [\n".to_string(),
    );
    assert_eq!(
        codes(&host, "<stdin>"),
        Vec::<Code>::new(),
        "not fed under that path"
    );
    let stdin = host.analysis(&FilePath::detached("<stdin>")).expect("fed");
    assert_eq!(stdin.findings.len(), 1);
}

#[test]
fn hover_facts() {
    let mut host = AnalysisHost::new(NoFiles);
    let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers: []\n";
    host.set_file(path("p.yaml"), text.to_string());
    let spec = text.find("spec").expect("spec");
    assert!(matches!(
        host.hover(&path("p.yaml"), spec + 1),
        Some(HoverFact::Finding(f)) if f.code == Code::TG001
    ));
    let fixed = "apiVersion: v1\nkind: Pod\nspec:\n  automountServiceAccountToken: false\n";
    host.set_file(path("q.yaml"), fixed.to_string());
    let key = fixed.find("automount").expect("key");
    assert_eq!(
        host.hover(&path("q.yaml"), key + 3),
        Some(HoverFact::FieldKey)
    );
    assert_eq!(host.hover(&path("q.yaml"), 1), None);
    assert_eq!(host.hover(&path("nope.yaml"), 1), None);
}

#[test]
fn an_old_revision_beyond_the_log_means_everything() {
    let mut host = AnalysisHost::new(NoFiles);
    for i in 0..(CHANGE_LOG + 10) {
        host.set_file(path(&format!("{i}.yaml")), String::new());
        host.remove_file(&path(&format!("{i}.yaml")));
    }
    assert_eq!(host.changed_since(0), Affected::Everything);
    let last = format!("{}.yaml", CHANGE_LOG + 9);
    assert_eq!(host.changed_since(host.revision() - 1), files(&[&last]));
}

#[test]
fn a_kustomization_written_after_its_folder_was_visited_is_taken_in() {
    let base = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers: []\n";
    let mut host = AnalysisHost::new(NoFiles);
    host.set_file(path("o/deploy.yaml"), base.to_string());
    assert_eq!(host.kustomizations().kustomization_count(), 0);
    let before = host.revision();
    host.set_file(
        path("o/kustomization.yaml"),
        "resources:\n- deploy.yaml\npatches:\n- path: p.yaml\n".to_string(),
    );
    assert_eq!(host.changed_since(before), Affected::Everything);
    assert_eq!(host.kustomizations().kustomization_count(), 1);
    assert!(host.kustomizations().is_patch_file("o/p.yaml"));
}

#[test]
fn a_rendering_judges_the_templates_it_rendered_while_their_text_is_the_same() {
    use crate::helm::render::{Rendering, MARKER};
    // The pod spec's field comes from a helper: in place, a missing field.
    let template = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers: []\n      {{- include \"c.pod\" . | nindent 6 }}\n";
    let disk = Disk::with(&[
        ("c/Chart.yaml", "name: c\n"),
        ("c/templates/deploy.yaml", template),
    ]);
    let mut host = AnalysisHost::new(disk);
    let name = path("c/templates/deploy.yaml");
    host.index_file(name.clone(), template);
    assert_eq!(host.needs_rendering(&name, template), Some(path("c")));
    assert_eq!(codes(&host, "c/templates/deploy.yaml"), [Code::TG001]);
    assert!(host.not_evaluated(&name, "kind: ConfigMap\n").is_none());
    // Rendered: false, so compliant; the change affects the chart's
    // templates.
    let output = format!(
        "---\n# Source: c/templates/deploy.yaml\napiVersion: apps/v1{m}1\nkind: Deployment{m}2\nmetadata:{m}3\n  name: web{m}4\nspec:{m}5\n  template:{m}6\n    spec:{m}7\n      containers: []{m}8\n      automountServiceAccountToken: false{m}9\n",
        m = MARKER
    );
    let before = host.revision();
    host.set_rendering(
        path("c"),
        Rendering::rendered(
            vec!["values.yaml".to_string()],
            &output,
            [("templates/deploy.yaml".to_string(), template)],
        ),
    );
    assert_eq!(
        host.changed_since(before),
        files(&["c/templates/deploy.yaml"])
    );
    assert_eq!(codes(&host, "c/templates/deploy.yaml"), Vec::<Code>::new());
    assert_eq!(host.not_evaluated(&name, template), None);
    // An edited buffer is read in place until it is rendered again.
    let edited = template.replace("name: web", "name: web2");
    host.set_file(name.clone(), edited.clone());
    let analysis = host.analysis(&name).expect("fed");
    assert_eq!(analysis.findings.len(), 1);
    assert!(analysis.findings[0]
        .message
        .contains("the template changed since the chart was rendered"));
    // Not rendered: in place, with the reason.
    host.set_rendering(path("c"), Rendering::not_rendered("no helm here"));
    let analysis = host.analysis(&name).expect("fed");
    assert!(analysis.findings[0]
        .message
        .contains("but it was not rendered (no helm here). "));
    host.remove_rendering(&path("c"));
    let analysis = host.analysis(&name).expect("fed");
    assert!(!analysis.findings[0].message.contains("not rendered"));
}

#[test]
fn a_template_whose_helper_is_read_in_place_needs_no_rendering() {
    let template = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers: []\n      {{- include \"c.pod\" . | nindent 6 }}\n";
    let decided = "{{- define \"c.pod\" -}}\nautomountServiceAccountToken: {{ .Values.automount }}\n{{- end }}\n";
    let undecided = "{{- define \"c.pod\" -}}\n{{ toYaml .Values.pod }}\n{{- end }}\n";
    for (helpers, needs) in [(decided, false), (undecided, true)] {
        let disk = Disk::with(&[
            ("c/Chart.yaml", "name: c\n"),
            ("c/values.yaml", "automount: false\npod: {}\n"),
            ("c/templates/_helpers.tpl", helpers),
            ("c/templates/deploy.yaml", template),
        ]);
        let mut host = AnalysisHost::new(disk);
        let name = path("c/templates/deploy.yaml");
        host.index_file(name.clone(), template);
        assert_eq!(
            host.needs_rendering(&name, template).is_some(),
            needs,
            "{helpers}"
        );
        assert_eq!(host.not_evaluated(&name, template).is_some(), needs);
    }
}

const BINDING: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: ci-admin\nroleRef:\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n- kind: ServiceAccount\n  name: app\n  namespace: prod\n";

#[test]
fn rbac_facts_feed_the_index_and_change_everything() {
    let disk = Disk::with(&[]);
    let mut host = AnalysisHost::new(disk);
    host.set_file(path("deploy.yaml"), DEPLOY.to_string());
    assert_eq!(
        host.permissions(Some("prod"), "app").risk,
        crate::rbac::Risk::DiscoveryOnly
    );
    let before = host.revision();
    host.index_file(path("rbac.yaml"), BINDING);
    assert_eq!(host.changed_since(before), Affected::Everything);
    let permissions = host.permissions(Some("prod"), "app");
    assert_eq!(permissions.risk, crate::rbac::Risk::ClusterAdmin);
    let place = permissions.grants[0].binding_place.clone().unwrap();
    assert_eq!(place.0, "rbac.yaml");
    assert_eq!(&BINDING[place.1.start..place.1.end], "ci-admin");
    assert_eq!(host.rbac().bindings().count(), 1);

    // The same facts again change nothing beyond the file itself.
    let before = host.revision();
    host.index_file(path("rbac.yaml"), BINDING);
    assert_eq!(host.changed_since(before), files(&["rbac.yaml"]));

    let before = host.revision();
    host.remove_file(&path("rbac.yaml"));
    assert_eq!(host.changed_since(before), Affected::Everything);
    assert!(!host.permissions(Some("prod"), "app").is_bound());
    assert!(host.rbac().is_empty());
}

#[test]
fn a_chart_templates_bindings_are_indexed_under_the_template() {
    let template = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: {{ .Release.Name }}-edit\n  namespace: {{ .Release.Namespace }}\nroleRef:\n  kind: ClusterRole\n  name: edit\nsubjects:\n- kind: ServiceAccount\n  name: builder\n";
    let disk = Disk::with(&[
        ("chart/Chart.yaml", "name: chart\n"),
        ("chart/templates/rbac.yaml", template),
    ]);
    let mut host = AnalysisHost::new(disk);
    let facts = host.facts(&path("chart/templates/rbac.yaml"), template);
    assert_eq!(facts.rbac.bindings.len(), 1);
    host.add_facts(path("chart/templates/rbac.yaml"), facts);
    let (origin, binding) = host.rbac().bindings().next().unwrap();
    assert_eq!(origin, "chart/templates/rbac.yaml");
    assert_eq!(binding.name, "{{ .Release.Name }}-edit");
    let permissions = host.permissions(None, "builder");
    assert_eq!(permissions.risk, crate::rbac::Risk::DangerousInNamespace);
    assert_eq!(
        permissions.grants[0].scope,
        crate::rbac::Scope::Namespace(None)
    );
}

#[test]
fn one_read_gives_what_facts_and_analyze_give_without_reading_again() {
    // A pod whose account another file declares (pending until it is fed),
    // one whose own file decides, a binding in the pod's own file, a
    // suppressed pod, a syntax error, a file that holds no object, and a
    // chart template (analysed from its text).
    let ns = |text: &str| text.replace("metadata:\n", "metadata:\n  namespace: prod\n");
    let with_binding = format!("{}---\n{BINDING}", ns(DEPLOY));
    let own = format!("{ACCOUNT_OFF}---\n{DEPLOY}");
    let suppressed = DEPLOY.replace(
        "    spec:\n      serviceAccountName",
        "    spec: # tokenguard-ignore\n      serviceAccountName",
    );
    let template = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\nspec:\n  containers: []\n";
    let inputs: Vec<(&str, String)> = vec![
        ("a/deploy.yaml", DEPLOY.to_string()),
        ("a/bound.yaml", with_binding),
        ("a/own.yaml", own),
        ("a/suppressed.yaml", suppressed),
        ("a/broken.yaml", "kind: Pod\nspec: [\n".to_string()),
        ("a/values.yaml", "replicaCount: 1\nbroken: [\n".to_string()),
        ("b/account.yaml", ACCOUNT_ON.to_string()),
        ("b/prod-account.yaml", ns(ACCOUNT_ON)),
        ("chart/templates/pod.yaml", template.to_string()),
    ];
    let mut on_disk: Vec<(&str, &str)> = inputs.iter().map(|(p, t)| (*p, t.as_str())).collect();
    on_disk.push(("chart/Chart.yaml", "name: chart\n"));
    on_disk.push(("chart/values.yaml", "name: web\n"));
    let mut once = AnalysisHost::new(Disk::with(&on_disk));
    let mut twice = AnalysisHost::new(Disk::with(&on_disk));
    let readings: Vec<FileReading> = inputs
        .iter()
        .map(|(p, text)| once.read_file(&path(p), text))
        .collect();
    let mut pending = Vec::new();
    for ((p, text), reading) in inputs.iter().zip(readings) {
        let facts = twice.facts(&path(p), text);
        assert_eq!(reading.facts.kind, facts.kind, "{p}");
        assert_eq!(reading.facts.accounts, facts.accounts, "{p}");
        assert_eq!(reading.facts.rbac, facts.rbac, "{p}");
        twice.add_facts(path(p), facts);
        pending.push(once.add_reading(path(p), reading));
    }
    // Completed once every file is fed.
    let mut reported = Vec::new();
    for ((p, text), pending) in inputs.iter().zip(pending) {
        let needs = pending.needs_text();
        assert_eq!(needs, p.starts_with("chart/"), "{p}");
        let done = once
            .complete(&path(p), pending, needs.then_some(text.as_str()))
            .unwrap();
        let expected = twice.analyze(&path(p), text);
        assert_eq!(done.findings, expected.findings, "{p}");
        assert_eq!(done.accounts, expected.accounts, "{p}");
        reported.extend(done.findings.iter().map(|f| (*p, f.code)));
    }
    // deploy (account on, in another file), bound (permissions from its own
    // file), broken (TG000), the template; own and suppressed: none.
    assert_eq!(
        reported,
        [
            ("a/deploy.yaml", Code::TG001),
            ("a/bound.yaml", Code::TG001),
            ("a/broken.yaml", Code::TG000),
            ("chart/templates/pod.yaml", Code::TG001),
        ]
    );
    // Nothing fed was read again (the charts' files are the host's to read).
    let reads: Vec<String> = once
        .source()
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("read ") && !r.contains("chart/"))
        .collect();
    assert_eq!(reads, Vec::<String>::new());
}

/// A file whose text changes: what the source reads is the text now.
#[derive(Clone, Default)]
struct Live {
    text: std::sync::Arc<Mutex<String>>,
}

impl FileSource for Live {
    fn read(&self, path: &FilePath, _: Need) -> Option<String> {
        (path.as_str() == "k8s/app.yaml").then(|| self.text.lock().map(|t| t.clone()).ok())?
    }

    fn is_file(&self, path: &FilePath) -> bool {
        path.as_str() == "k8s/app.yaml"
    }

    fn list_yaml(&self, _: &FilePath) -> Vec<FilePath> {
        Vec::new()
    }
}

/// The whole lines of `text` holding `start..end` (the live analysis's
/// `EditedLines`).
fn whole_lines(text: &str, start: usize, end: usize) -> Option<String> {
    let index = LineIndex::new(text);
    let first = index.line_start(index.line_of(start));
    let last = index.line_of(end) + 1;
    let to = if last < index.line_count() {
        index.line_start(last)
    } else {
        text.len()
    };
    Some(text[first..to].to_string())
}

#[test]
fn a_file_shifted_by_its_edits_equals_the_file_fed_again() {
    // Bindings in the file itself (before, between and after the pods),
    // and in another file: the words name lines of both.
    const ROLE: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader\n  namespace: prod\nrules:\n- apiGroups: [\"\"]\n  resources: [secrets]\n  verbs: [get, list]\n";
    const OWN_BINDING: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: read-secrets\n  namespace: prod\nroleRef: {kind: Role, name: reader}\nsubjects:\n- {kind: ServiceAccount, name: app}\n";
    const CLUSTER_BINDING: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: app-admin\nroleRef:\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n- kind: ServiceAccount\n  name: app\n  namespace: prod\n";
    const ACCOUNT: &str =
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: prod\n";
    const CONFIG: &str =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n  c: |\n    text\n";
    let deploy = DEPLOY.replace("  name: web\n", "  name: web\n  namespace: prod\n");
    let initial = [
        CONFIG,
        ROLE,
        deploy.as_str(),
        OWN_BINDING,
        CONFIG,
        ACCOUNT,
        deploy.as_str(),
        CLUSTER_BINDING,
        CONFIG,
    ]
    .join("---\n");
    let other = CLUSTER_BINDING.replace("app-admin", "elsewhere");
    let file = path("k8s/app.yaml");
    let live = Live::default();
    *live.text.lock().unwrap() = initial.clone();
    let mut shifted = AnalysisHost::new(live.clone());
    let mut fed = AnalysisHost::new(live.clone());
    let facts = |text: &str| AnalysisHost::facts_with(&live, &file, text);
    for host in [&mut shifted, &mut fed] {
        host.index_file(path("k8s/base/other.yaml"), &other);
        host.add_facts(file.clone(), facts(&initial));
    }
    let findings = |host: &AnalysisHost<Live>, text: &str| {
        let accounts = crate::service_accounts(text);
        let lookup = crate::SameFileFirst {
            file: &accounts,
            workspace: host.accounts(),
        };
        let parsed = crate::parse(text, crate::Options::builtin());
        host.finish(&file, crate::check(text, &parsed, &lookup))
    };
    let mut text = initial.clone();
    let mut rbac = crate::rbac::RbacFacts::of_text(&text);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) as usize) % n.max(1)
    };
    let inserts = [" ", "x", "\n", "\r\n", "#", "  a: b\n", "", "\n\n", "é"];
    let (mut moves, mut shifts) = (0, 0);
    for round in 0..400 {
        // The lines are read (and kept) from time to time, as analyses do.
        if round % 3 == 0 {
            assert_eq!(findings(&shifted, &text), findings(&fed, &text));
        }
        // Mostly what typing does at the end of a line (the text stays
        // valid); sometimes anything anywhere; now and then the text as it
        // was (so that its objects come back).
        let (start, end, insert) = match next(10) {
            0..=6 => {
                let ends: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
                let at = ends[next(ends.len())];
                (at, at, [" ", "\n", "  # c", "\r\n", "\n\n"][next(5)])
            }
            7 | 8 => {
                let mut start = next(text.len() + 1);
                while !text.is_char_boundary(start) {
                    start -= 1;
                }
                let mut end = (start + next(4)).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                (start, end, inserts[next(inserts.len())])
            }
            _ => (0, text.len(), initial.as_str()),
        };
        let before_lines = whole_lines(&text, start, end);
        let lines_before = LineIndex::new(&text).line_count();
        text.replace_range(start..end, insert);
        *live.text.lock().unwrap() = text.clone();
        let line_start = text[..start].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        let edited = crate::rbac::EditedLines {
            start: line_start,
            before: before_lines,
            after: whole_lines(&text, start, start + insert.len()),
        };
        let now = text.clone();
        let old = crate::TextRange::new(start, end);
        rbac.edit(
            old,
            insert.len(),
            edited,
            &|r: crate::TextRange| now[r.start..r.end].to_string(),
            || now.clone(),
        );
        let new = facts(&text);
        assert_eq!(rbac.objects(), new.rbac);
        let (from_shifted, from_fed) = (shifted.revision(), fed.revision());
        if rbac.reread == 0 {
            let edit = ShiftEdit {
                old,
                new_len: insert.len(),
                lines_by: LineIndex::new(&text).line_count() as isize - lines_before as isize,
            };
            moves += usize::from(shifted.shift_moves(&file, edit));
            assert!(shifted
                .shift_file(&file, edit, new.accounts.clone())
                .is_some());
            shifts += 1;
        } else {
            shifted.add_facts(file.clone(), new.clone());
        }
        fed.add_facts(file.clone(), new.clone());
        assert_eq!(
            shifted.rbac().objects_of(file.as_str()),
            fed.rbac().objects_of(file.as_str()),
            "round {round}"
        );
        assert_eq!(
            shifted.accounts().accounts_of(file.as_str()),
            fed.accounts().accounts_of(file.as_str())
        );
        assert_eq!(
            shifted.changed_since(from_shifted),
            fed.changed_since(from_fed),
            "round {round}"
        );
        for account in ["app", "default"] {
            assert_eq!(
                *shifted.rbac().shared_permissions(Some("prod"), account),
                *fed.rbac().shared_permissions(Some("prod"), account),
                "round {round}"
            );
        }
    }
    assert_eq!(findings(&shifted, &text), findings(&fed, &text));
    // The test says something: most edits only moved the roles and
    // bindings, and many of them moved some.
    assert!(shifts > 200 && moves > 50, "{shifts} shifts, {moves} moves");
}

#[test]
fn a_file_the_host_does_not_hold_as_a_manifest_is_not_shifted() {
    let edit = ShiftEdit {
        old: crate::TextRange::empty(0),
        new_len: 1,
        lines_by: 0,
    };
    let mut host = AnalysisHost::new(Disk::with(&[]));
    assert_eq!(host.shift_file(&path("a.yaml"), edit, Vec::new()), None);
    host.set_file(path("a.yaml"), DEPLOY.to_string());
    assert_eq!(
        host.shift_file(&path("a.yaml"), edit, Vec::new()),
        None,
        "its text is kept: it is fed again"
    );
}

/// A template the chart masked for its accounts is judged with that mask
/// (not masked again): its findings are those of a host that never read
/// the chart before, and a change of the values (which may choose other
/// branches) or of the template's text is judged as afresh.
#[test]
fn a_template_judged_with_its_charts_mask_is_judged_as_afresh_when_values_or_text_change() {
    let template = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  labels:\n    {{- if .Values.l }}\n    a: b\n    {{- else }}\n    {}\n    {{- end }}\nautomountServiceAccountToken: {{ .Values.automount }}\n---\napiVersion: apps/v1\nkind: {{ .Values.kind }}\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      serviceAccountName: app\n      containers: []\n";
    let on = "l: true\nautomount: true\nkind: Deployment\n";
    let off = "l: {}\nautomount: false\nkind: Deployment\n";
    let fresh = |values: &str, text: &str| {
        let disk = Disk::with(&[
            ("c/Chart.yaml", "name: c\n"),
            ("c/values.yaml", values),
            ("c/templates/t.yaml", text),
        ]);
        let mut host = AnalysisHost::new(disk);
        host.index_file(path("c/templates/t.yaml"), text);
        host.analyze(&path("c/templates/t.yaml"), text).findings
    };
    let disk = Disk::with(&[
        ("c/Chart.yaml", "name: c\n"),
        ("c/values.yaml", on),
        ("c/templates/t.yaml", template),
    ]);
    let mut host = AnalysisHost::new(disk);
    host.index_file(path("c/templates/t.yaml"), template);
    let chart = host.chart(&path("c")).expect("read");
    assert!(chart
        .mask_of("c/templates/t.yaml", template)
        .is_some_and(|m| *m == crate::helm::mask_with(template, chart.values.as_ref())));
    let judged = host.analyze(&path("c/templates/t.yaml"), template).findings;
    assert_eq!(judged.len(), 1, "{judged:?}");
    assert_eq!(judged, fresh(on, template));
    // The values change: the chart is read again with them.
    host.set_file(path("c/values.yaml"), off.to_string());
    let chart = host.chart(&path("c")).expect("read");
    assert!(chart
        .mask_of("c/templates/t.yaml", template)
        .is_some_and(|m| *m == crate::helm::mask_with(template, chart.values.as_ref())));
    let judged = host.analyze(&path("c/templates/t.yaml"), template).findings;
    assert_eq!(judged, fresh(off, template));
    // Another text of the template (an editor's buffer not fed yet).
    let edited = template.replace("serviceAccountName: app", "serviceAccountName: other");
    assert!(host
        .chart(&path("c"))
        .and_then(|c| c.mask_of("c/templates/t.yaml", &edited))
        .is_none());
    assert_eq!(
        host.analyze(&path("c/templates/t.yaml"), &edited).findings,
        fresh(off, &edited)
    );
}

/// A file a host has just read (not fed) is asked whether its chart needs
/// rendering with the kind the reading gave: the same answer as asking
/// with its path alone, without probing its folders for a chart again.
#[test]
fn rendering_is_asked_with_the_kind_a_reading_gave() {
    let include = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      {{- include \"c.pod\" . | nindent 6 }}\n";
    let plain = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Values.name }}\nspec:\n  template:\n    spec:\n      containers: []\n";
    let disk = Disk::with(&[
        ("c/Chart.yaml", "name: c\n"),
        ("c/templates/include.yaml", include),
        ("c/templates/plain.yaml", plain),
        ("loose.yaml", include),
    ]);
    /// The disk, its `is_file` questions counted.
    struct Probed(Disk, std::sync::atomic::AtomicUsize);
    impl FileSource for Probed {
        fn read(&self, path: &FilePath, need: Need) -> Option<String> {
            self.0.read(path, need)
        }
        fn is_file(&self, path: &FilePath) -> bool {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.0.is_file(path)
        }
        fn list_yaml(&self, dir: &FilePath) -> Vec<FilePath> {
            self.0.list_yaml(dir)
        }
    }
    let host = AnalysisHost::new(Probed(disk, Default::default()));
    for (p, text) in [
        ("c/templates/include.yaml", include),
        ("c/templates/plain.yaml", plain),
        ("loose.yaml", include),
    ] {
        let reading = host.read_file(&path(p), text);
        assert_eq!(reading.facts.kind, host.facts(&path(p), text).kind, "{p}");
        let probes = |host: &AnalysisHost<Probed>| {
            let source = host.source();
            (
                source.0.requests().len(),
                source.1.load(std::sync::atomic::Ordering::Relaxed),
            )
        };
        let before = probes(&host);
        let with_kind = host.needs_rendering_of(&path(p), &reading.facts.kind, text);
        assert_eq!(probes(&host), before, "{p}: nothing asked of the source");
        assert_eq!(with_kind, host.needs_rendering(&path(p), text), "{p}");
        // (Asking with the path alone probes the folders.)
        if p.starts_with("c/") {
            assert!(probes(&host).1 > before.1, "{p}");
        }
        let expected = (p == "c/templates/include.yaml").then(|| path("c"));
        assert_eq!(with_kind, expected, "{p}");
    }
}

/// Files in memory that change.
#[derive(Clone, Default)]
struct Changing {
    files: std::sync::Arc<Mutex<BTreeMap<String, String>>>,
}

impl Changing {
    fn put(&self, p: &str, text: &str) {
        if let Ok(mut files) = self.files.lock() {
            files.insert(p.to_string(), text.to_string());
        }
    }

    fn drop_file(&self, p: &str) {
        if let Ok(mut files) = self.files.lock() {
            files.remove(p);
        }
    }
}

impl FileSource for Changing {
    fn read(&self, path: &FilePath, _: Need) -> Option<String> {
        self.files.lock().ok()?.get(path.as_str()).cloned()
    }

    fn is_file(&self, path: &FilePath) -> bool {
        self.files
            .lock()
            .is_ok_and(|files| files.contains_key(path.as_str()))
    }

    fn list_yaml(&self, _: &FilePath) -> Vec<FilePath> {
        Vec::new()
    }
}

#[test]
fn the_words_kept_of_permissions_follow_every_change_of_the_rbac_files() {
    // The host keeps what it worked out of an account's permissions (their
    // places' lines, words, the fix's reason) from one analysis to the
    // next: after each change of the roles and bindings (fed again, edited
    // in place, removed), what it says must be what a host fed the files
    // afresh says.
    let deploy = DEPLOY.replace("  name: web\n", "  name: web\n  namespace: prod\n");
    let two = [deploy.as_str(), deploy.replace("web", "api").as_str()].join("---\n");
    let pods = [
        ("k8s/app/deploy.yaml", deploy.clone()),
        ("k8s/app/other.yaml", deploy.replace("web", "other")),
        ("k8s/web/deploy.yaml", two.clone()),
        ("other/deploy.yaml", deploy.clone()),
        ("k8s/deploy.yaml", deploy.clone()),
    ];
    let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\nrules:\n- apiGroups: [\"\"]\n  resources: [secrets]\n  verbs: [get]\n";
    let findings = |host: &AnalysisHost<Changing>| -> Vec<Vec<crate::Finding>> {
        pods.iter()
            .map(|(p, _)| host.analysis(&path(p)).unwrap().findings)
            .collect()
    };
    // (A host afresh for each file: nothing one file worked out is kept
    // for another.)
    let afresh = |files: &BTreeMap<String, String>| {
        pods.iter()
            .map(|(pod, _)| {
                let source = Changing::default();
                let mut host = AnalysisHost::new(source.clone());
                for (p, text) in files {
                    source.put(p, text);
                    host.index_file(path(p), text);
                }
                host.analysis(&path(pod)).unwrap().findings
            })
            .collect::<Vec<_>>()
    };
    let source = Changing::default();
    let mut kept = AnalysisHost::new(source.clone());
    for (p, text) in &pods {
        source.put(p, text);
        kept.index_file(path(p), text);
    }
    enum Change {
        Feed(&'static str, String),
        Remove(&'static str),
        /// Inserts the text after the first occurrence of the other, as
        /// an edit the host shifts the file by.
        Type(&'static str, &'static str, &'static str),
    }
    use Change::*;
    let binding = |role: &str| BINDING.replace("name: cluster-admin", &format!("name: {role}"));
    let changes = vec![
        Feed("k8s/rbac.yaml", BINDING.to_string()),
        // The binding's line says more; nothing moves.
        Type("k8s/rbac.yaml", "name: ci-admin", " # who"),
        // A line before the binding: it moves down.
        Type("k8s/rbac.yaml", "kind: ClusterRoleBinding\n", "# a\n"),
        Feed(
            "k8s/rbac.yaml",
            BINDING.replace("name: ci-admin\n", "name: ci-admin # who\n"),
        ),
        Feed("k8s/rbac.yaml", format!("# top\n{BINDING}")),
        // Another role, declared in another file.
        Feed("k8s/rbac.yaml", binding("reader")),
        Feed("k8s/app/role.yaml", role.to_string()),
        Type("k8s/app/role.yaml", "name: reader", " # r"),
        // The role declared in the pod's own file.
        Remove("k8s/app/role.yaml"),
        Feed("k8s/app/deploy.yaml", format!("{deploy}---\n{role}")),
        Remove("k8s/rbac.yaml"),
        Feed("other/rbac.yaml", binding("edit")),
    ];
    let mut now: BTreeMap<String, String> = pods
        .iter()
        .map(|(p, t)| (p.to_string(), t.clone()))
        .collect();
    assert_eq!(findings(&kept), afresh(&now));
    let mut typed = 0;
    for (round, change) in changes.into_iter().enumerate() {
        match change {
            Feed(p, text) => {
                source.put(p, &text);
                kept.index_file(path(p), &text);
                now.insert(p.to_string(), text);
            }
            Remove(p) => {
                source.drop_file(p);
                kept.remove_file(&path(p));
                now.remove(p);
            }
            Type(p, after, insert) => {
                let mut text = now[p].clone();
                let at = text.find(after).unwrap() + after.len();
                text.insert_str(at, insert);
                source.put(p, &text);
                let edit = ShiftEdit {
                    old: crate::TextRange::empty(at),
                    new_len: insert.len(),
                    lines_by: insert.matches('\n').count() as isize,
                };
                if kept.shift_file(&path(p), edit, Vec::new()).is_some() {
                    typed += 1;
                } else {
                    kept.index_file(path(p), &text);
                }
                now.insert(p.to_string(), text);
            }
        }
        let expected = afresh(&now);
        assert_eq!(findings(&kept), expected, "round {round}");
        // (And again, from what is kept.)
        assert_eq!(findings(&kept), expected, "round {round}, again");
    }
    assert_eq!(typed, 3, "the edits were shifted");
    // (The last binding is named by every finding.)
    assert!(findings(&kept)
        .iter()
        .flatten()
        .all(|f| f.declared_at.iter().any(|d| d.file == "other/rbac.yaml")));
}
