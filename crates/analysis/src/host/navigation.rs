//! The host's navigation questions (see [`crate::navigation`]): go to
//! definition, find references and completion at a byte offset of a file.
//! The file asked about and the embedder's other open buffers are read
//! from the text handed over (their symbols speak for them); every other
//! file from the indexes the host keeps per origin file.

use super::{charts, AnalysisHost, FilePath, FileSource};
use crate::files::FileKind;
use crate::navigation::{self, AccountCandidate, CompletionSite, FileSymbols, Location, Workspace};

/// A text that speaks for its file: the file asked about, an open buffer.
pub type OpenText<'a> = (&'a FilePath, &'a str);

/// What a completion request gets: where the name goes and the accounts it
/// can be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountCompletion {
    pub site: CompletionSite,
    pub candidates: Vec<AccountCandidate>,
}

impl<S: FileSource> AnalysisHost<S> {
    /// The navigation symbols of `text` at `path`: a plain manifest's, read
    /// with the configuration in force for it; none for chart templates and
    /// helpers (see [`crate::navigation`]).
    pub fn symbols(&self, path: &FilePath, text: &str) -> FileSymbols {
        match self.kind_of(path, text) {
            FileKind::Manifest => FileSymbols::of_text(text, &self.configuration(path).options),
            // A template's roles and bindings (their literal names only).
            FileKind::ChartTemplate(_) => FileSymbols {
                rbac: crate::rbac::rbac_of_template(text),
                ..FileSymbols::default()
            },
            _ => FileSymbols::default(),
        }
    }

    fn kind_of(&self, path: &FilePath, text: &str) -> FileKind {
        match self.kind(path) {
            Some(kind) => kind.clone(),
            None => charts::classify(&self.source, path, text),
        }
    }

    /// Runs `ask` over the workspace with `open` read now.
    pub(super) fn with_workspace<R>(
        &self,
        open: &[OpenText<'_>],
        ask: impl FnOnce(&Workspace<'_>, &[FileSymbols]) -> R,
    ) -> R {
        let symbols: Vec<FileSymbols> = open
            .iter()
            .map(|(path, text)| self.symbols(path, text))
            .collect();
        let workspace = Workspace {
            accounts: &self.accounts,
            uses: &self.uses,
            rbac: &self.rbac,
            fresh: open
                .iter()
                .zip(&symbols)
                .map(|((path, _), s)| (path.as_str(), s))
                .collect(),
        };
        ask(&workspace, &symbols)
    }

    /// Where what is at byte `offset` of `open[0]` is declared: from a pod
    /// spec's `serviceAccountName` / `serviceAccount` value or a binding's
    /// ServiceAccount subject, the ServiceAccount(s) of that name in that
    /// namespace; from a binding's `roleRef`, the Role or ClusterRole (a
    /// built-in one: none); on a declaration, the declaration itself.
    /// `open[1..]`: the embedder's other open buffers.
    pub fn definition(&self, open: &[OpenText<'_>], offset: usize) -> Vec<Location> {
        self.with_workspace(open, |workspace, symbols| {
            let Some(first) = symbols.first() else {
                return Vec::new();
            };
            match navigation::symbol_at(first, offset) {
                Some((symbol, _, _)) => workspace.definitions(&symbol),
                None => Vec::new(),
            }
        })
    }

    /// What names what is at byte `offset` of `open[0]` (see
    /// [`Workspace::references`]), with its declarations when
    /// `include_declaration`.
    pub fn references(
        &self,
        open: &[OpenText<'_>],
        offset: usize,
        include_declaration: bool,
    ) -> Vec<Location> {
        self.with_workspace(open, |workspace, symbols| {
            let Some(first) = symbols.first() else {
                return Vec::new();
            };
            match navigation::symbol_at(first, offset) {
                Some((symbol, _, _)) => workspace.references(&symbol, include_declaration),
                None => Vec::new(),
            }
        })
    }

    /// At a pod spec's `serviceAccountName` (or `serviceAccount`) value in
    /// `open[0]`: the accounts of the workload's namespace.
    pub fn completion(&self, open: &[OpenText<'_>], offset: usize) -> Option<AccountCompletion> {
        let (path, text) = *open.first()?;
        if !navigation::may_complete(text, offset) || self.kind_of(path, text) != FileKind::Manifest
        {
            return None;
        }
        let parsed = crate::parse(text, &self.configuration(path).options);
        let site = navigation::completion_site(text, &parsed, offset)?;
        let candidates = self.with_workspace(open, |workspace, _| {
            workspace.account_candidates(site.namespace.as_deref())
        });
        Some(AccountCompletion { site, candidates })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::NoFiles;
    use crate::navigation::{AccountField, Mention};
    use crate::text::TextRange;
    use crate::AccountAutomount;

    const ACCOUNTS: &str = "\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
  namespace: ci
automountServiceAccountToken: false
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: runner
  namespace: ci
";

    const WORKLOADS: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ci
spec:
  template:
    spec:
      serviceAccountName: builder
      containers: []
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: ci
spec:
  template:
    spec:
      serviceAccount: builder
      containers: []
---
apiVersion: v1
kind: Pod
metadata:
  name: plain
spec:
  containers: []
";

    fn host(files: &[(&str, &str)]) -> AnalysisHost<NoFiles> {
        let mut host = AnalysisHost::new(NoFiles);
        for (name, text) in files {
            let path = FilePath::new(*name);
            let facts = AnalysisHost::facts_for_navigation(&NoFiles, &path, text);
            host.add_facts(path, facts);
        }
        host
    }

    fn at(text: &str, needle: &str) -> usize {
        text.find(needle).expect("needle") + 1
    }

    fn spans<'t>(found: &[Location], texts: &[(&'t str, &'t str)]) -> Vec<(String, &'t str)> {
        found
            .iter()
            .map(|l| {
                let text = texts.iter().find(|(n, _)| *n == l.file).expect("file").1;
                (l.file.clone(), &text[l.range.start..l.range.end])
            })
            .collect()
    }

    #[test]
    fn uses_name_the_field_the_namespace_and_the_implicit_default() {
        let uses = crate::navigation::account_uses(WORKLOADS, crate::Options::builtin());
        let seen: Vec<_> = uses
            .iter()
            .map(|u| {
                let field = match &u.mention {
                    Mention::Field { field, .. } => Some(*field),
                    Mention::Implicit { .. } => None,
                };
                (
                    u.namespace.as_deref(),
                    u.account.as_str(),
                    field,
                    u.effective,
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (
                    Some("ci"),
                    "builder",
                    Some(AccountField::ServiceAccountName),
                    true
                ),
                (
                    Some("ci"),
                    "builder",
                    Some(AccountField::ServiceAccount),
                    true
                ),
                (None, "default", None, true),
            ]
        );
        let implicit = uses[2].mention.range();
        assert_eq!(&WORKLOADS[implicit.start..implicit.end], "spec");
    }

    #[test]
    fn a_templated_or_empty_name_is_no_name() {
        let text = "kind: Pod\nmetadata: {name: a}\nspec:\n  serviceAccountName: \"{{ .Values.sa }}\"\n  containers: []\n---\nkind: Pod\nmetadata: {name: b}\nspec:\n  serviceAccountName: \"\"\n  serviceAccount: ops\n  containers: []\n";
        let uses = crate::navigation::account_uses(text, crate::Options::builtin());
        let names: Vec<_> = uses.iter().map(|u| u.account.as_str()).collect();
        assert_eq!(
            names,
            vec!["ops"],
            "a template is not a name; \"\" falls back to serviceAccount"
        );
    }

    #[test]
    fn definition_goes_to_the_account_of_the_workload_namespace_in_another_file() {
        let host = host(&[("sa.yaml", ACCOUNTS)]);
        let path = FilePath::new("app.yaml");
        let texts = [("sa.yaml", ACCOUNTS), ("app.yaml", WORKLOADS)];
        let name = at(WORKLOADS, "serviceAccountName: builder") + "serviceAccountName: ".len();
        let found = host.definition(&[(&path, WORKLOADS)], name);
        assert_eq!(
            spans(&found, &texts),
            vec![("sa.yaml".to_string(), "builder")]
        );
        assert_eq!(
            found[0].range.start,
            ACCOUNTS.find("builder").unwrap(),
            "the one in namespace ci, not the one without a namespace"
        );
        // The deprecated field too.
        let old = at(WORKLOADS, "serviceAccount: builder") + "serviceAccount: ".len();
        assert_eq!(host.definition(&[(&path, WORKLOADS)], old), found);
        // Not on a name: nothing.
        assert!(host
            .definition(&[(&path, WORKLOADS)], at(WORKLOADS, "containers"))
            .is_empty());
        // A namespace without the account: nothing (never another namespace's).
        let elsewhere = WORKLOADS.replacen("namespace: ci", "namespace: prod", 1);
        assert!(host.definition(&[(&path, &elsewhere)], name).is_empty());
    }

    #[test]
    fn the_open_text_speaks_for_its_file() {
        let host = host(&[("sa.yaml", ACCOUNTS), ("app.yaml", WORKLOADS)]);
        let sa = FilePath::new("sa.yaml");
        let renamed = ACCOUNTS.replace("runner", "deployer");
        let decl = at(&renamed, "deployer");
        let found = host.references(&[(&sa, &renamed)], decl, true);
        assert_eq!(found.len(), 1, "only its own declaration: {found:?}");
        // The index's old text of sa.yaml does not count while it is open.
        let app = FilePath::new("app.yaml");
        let name = at(WORKLOADS, "serviceAccountName: builder") + "serviceAccountName: ".len();
        let no_builder = ACCOUNTS.replace(
            "name: builder\n  namespace: ci",
            "name: other\n  namespace: ci",
        );
        assert!(host
            .definition(&[(&app, WORKLOADS), (&sa, &no_builder)], name)
            .is_empty());
    }

    #[test]
    fn references_list_the_workloads_and_with_the_declaration_on_request() {
        let host = host(&[("sa.yaml", ACCOUNTS), ("app.yaml", WORKLOADS)]);
        let sa = FilePath::new("sa.yaml");
        let texts = [("sa.yaml", ACCOUNTS), ("app.yaml", WORKLOADS)];
        let decl = at(ACCOUNTS, "builder");
        let found = host.references(&[(&sa, ACCOUNTS)], decl, false);
        assert_eq!(
            spans(&found, &texts),
            vec![
                ("app.yaml".to_string(), "builder"),
                ("app.yaml".to_string(), "builder")
            ]
        );
        let with = host.references(&[(&sa, ACCOUNTS)], decl, true);
        assert_eq!(with.len(), 3);
        assert!(with.contains(&Location {
            file: "sa.yaml".into(),
            range: TextRange::new(decl - 1, decl - 1 + "builder".len())
        }));
        // From a use, the same list.
        let app = FilePath::new("app.yaml");
        let name = at(WORKLOADS, "serviceAccountName: builder") + "serviceAccountName: ".len();
        assert_eq!(host.references(&[(&app, WORKLOADS)], name, true), with);
    }

    #[test]
    fn references_of_default_include_pods_that_name_no_account() {
        let default = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n";
        let host = host(&[("app.yaml", WORKLOADS)]);
        let path = FilePath::new("default.yaml");
        let found = host.references(&[(&path, default)], at(default, "default"), false);
        let texts = [("app.yaml", WORKLOADS)];
        assert_eq!(
            spans(&found, &texts),
            vec![("app.yaml".to_string(), "spec")]
        );
        assert_eq!(found[0].range.start, WORKLOADS.rfind("spec:").unwrap());
    }

    #[test]
    fn completion_offers_the_accounts_of_the_pod_namespace() {
        let host = host(&[("sa.yaml", ACCOUNTS)]);
        let path = FilePath::new("app.yaml");
        let text = WORKLOADS.replace("serviceAccountName: builder", "serviceAccountName: bu");
        let offset = text.find("serviceAccountName: bu").unwrap() + "serviceAccountName: bu".len();
        let completion = host
            .completion(&[(&path, &text)], offset)
            .expect("a completion");
        assert_eq!(
            &text[completion.site.range.start..completion.site.range.end],
            "bu"
        );
        assert_eq!(completion.site.namespace.as_deref(), Some("ci"));
        let names: Vec<_> = completion
            .candidates
            .iter()
            .map(|c| (c.name.as_str(), c.automount, c.declared.is_some()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("builder", AccountAutomount::Disabled, true),
                ("default", AccountAutomount::Default, false),
                ("runner", AccountAutomount::Default, true),
            ]
        );
        // An empty value, then the pod without a namespace.
        let text = WORKLOADS.replace(
            "  containers: []\n",
            "  serviceAccountName: \n  containers: []\n",
        );
        let offset = text.rfind("serviceAccountName: ").unwrap() + "serviceAccountName: ".len();
        let completion = host
            .completion(&[(&path, &text)], offset)
            .expect("a completion");
        assert!(completion.site.range.is_empty());
        assert!(!completion.site.needs_space);
        assert_eq!(completion.site.namespace, None);
        let names: Vec<_> = completion
            .candidates
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, vec!["builder", "default"]);
        // Right after the colon: the name needs its space.
        let glued = WORKLOADS.replace("serviceAccountName: builder", "serviceAccountName:");
        let offset = glued.find("serviceAccountName:").unwrap() + "serviceAccountName:".len();
        let completion = host
            .completion(&[(&path, &glued)], offset)
            .expect("a completion");
        assert!(completion.site.needs_space && completion.site.range.is_empty());
        // On the key, or outside a pod spec: nothing.
        assert!(host
            .completion(
                &[(&path, &text)],
                text.find("serviceAccountName").unwrap() + 3
            )
            .is_none());
        let config = "kind: ConfigMap\ndata:\n  serviceAccountName: x\n";
        assert!(host
            .completion(&[(&path, config)], config.len() - 1)
            .is_none());
    }

    const RBAC: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: deployer
  namespace: ci
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: builder-deploys
  namespace: ci
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: deployer
subjects:
  - kind: ServiceAccount
    name: builder
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: builder-reads
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: reader
subjects:
  - kind: ServiceAccount
    name: builder
    namespace: ci
  - kind: ServiceAccount
    name: builder
    namespace: prod
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ci-admin
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
  - kind: Group
    name: system:serviceaccounts:ci
";

    /// The byte offset of the `n`-th `needle`, one byte in.
    fn nth(text: &str, needle: &str, n: usize) -> usize {
        text.match_indices(needle).nth(n).expect("needle").0 + 1
    }

    #[test]
    fn definition_from_a_role_ref_goes_to_the_role_and_from_a_subject_to_the_account() {
        let host = host(&[("sa.yaml", ACCOUNTS), ("roles.yaml", RBAC)]);
        let path = FilePath::new("bindings.yaml");
        let texts = [
            ("sa.yaml", ACCOUNTS),
            ("roles.yaml", RBAC),
            ("bindings.yaml", RBAC),
        ];
        // roleRef `deployer` (a Role in the binding's namespace): both files
        // declare it (the open one and roles.yaml).
        let found = host.definition(&[(&path, RBAC)], nth(RBAC, "name: deployer", 1) + 5);
        assert_eq!(
            spans(&found, &texts),
            vec![
                ("bindings.yaml".to_string(), "deployer"),
                ("roles.yaml".to_string(), "deployer")
            ]
        );
        // roleRef `reader`, a ClusterRole.
        let found = host.definition(&[(&path, RBAC)], nth(RBAC, "name: reader", 1) + 5);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].range.start, RBAC.find("reader").unwrap());
        // A built-in role is declared nowhere.
        assert!(host
            .definition(&[(&path, RBAC)], nth(RBAC, "cluster-admin", 0))
            .is_empty());
        // The RoleBinding's subject without a namespace: the binding's.
        let subject = nth(RBAC, "    name: builder\n", 0) + 9;
        let found = host.definition(&[(&path, RBAC)], subject);
        assert_eq!(
            spans(&found, &texts),
            vec![("sa.yaml".to_string(), "builder")]
        );
        assert_eq!(found[0].range.start, ACCOUNTS.find("builder").unwrap());
        // The subject in `prod`: no such account.
        assert!(host
            .definition(&[(&path, RBAC)], nth(RBAC, "    name: builder\n", 2) + 9)
            .is_empty());
    }

    #[test]
    fn references_of_an_account_include_the_subjects_and_of_a_role_the_role_refs() {
        let host = host(&[("app.yaml", WORKLOADS), ("rbac.yaml", RBAC)]);
        let sa = FilePath::new("sa.yaml");
        let texts = [
            ("app.yaml", WORKLOADS),
            ("rbac.yaml", RBAC),
            ("sa.yaml", ACCOUNTS),
        ];
        let found = host.references(&[(&sa, ACCOUNTS)], at(ACCOUNTS, "builder"), false);
        let seen = spans(&found, &texts);
        assert_eq!(seen.len(), 4, "{seen:?}");
        assert_eq!(
            found
                .iter()
                .filter(|l| l.file == "rbac.yaml")
                .map(|l| l.range.start)
                .collect::<Vec<_>>(),
            vec![
                RBAC.match_indices("builder").nth(1).unwrap().0,
                RBAC.match_indices("builder").nth(3).unwrap().0,
            ],
            "the RoleBinding's subject and the ClusterRoleBinding's in ci, not prod"
        );
        // A Role's references: the roleRef naming it.
        let rbac = FilePath::new("rbac.yaml");
        let found = host.references(&[(&rbac, RBAC)], at(RBAC, "deployer"), true);
        assert_eq!(
            found.iter().map(|l| l.range.start).collect::<Vec<_>>(),
            vec![
                RBAC.find("deployer").unwrap(),
                RBAC.match_indices("deployer").nth(1).unwrap().0,
            ]
        );
    }
}
