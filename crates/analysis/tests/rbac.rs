//! What a token can do, through the analysis host: every folder under
//! `tests/fixtures/rbac/` is one workspace (all its YAML files fed to one
//! host), and so is the chart `tests/fixtures/helm/rbac_binding/`. Comments
//! in the files state the expected permissions:
//!
//! * `# rbac NS/ACCOUNT: RISK` (`-` for an account without a namespace),
//! * then `# rbac NS/ACCOUNT = GRANT`, one per grant in the order
//!   `Permissions::grants` gives them, written as
//!   `BindingKind/name via VIA -> RoleKind/name SOURCE SCOPE [CAPABILITIES]`
//!   (SOURCE: `declared in FILE`, `builtin`, `missing`; SCOPE: `cluster`,
//!   `ns:NAME`, `ns:-`; CAPABILITIES: their `as_str` names, or `all`),
//! * optionally `# rbac NS/ACCOUNT defaults: BINDING...` (the default
//!   bindings that apply, by name).
//!
//! All mismatches are reported at once.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use tokenguard_analysis::host::{AnalysisHost, FilePath, FileSource, Need};
use tokenguard_analysis::rbac::{Capability, Grant, Permissions, RoleSource, Scope, Via};

/// The disk under a folder, as the host asks for it.
struct Disk;

impl FileSource for Disk {
    fn read(&self, path: &FilePath, _: Need) -> Option<String> {
        fs::read_to_string(path.as_path()?).ok()
    }

    fn is_file(&self, path: &FilePath) -> bool {
        path.as_path().is_some_and(Path::is_file)
    }

    fn list_yaml(&self, dir: &FilePath) -> Vec<FilePath> {
        dir.as_path()
            .map(yaml_files)
            .unwrap_or_default()
            .iter()
            .map(|p| FilePath::from_path(p))
            .collect()
    }
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn via(via: Via) -> &'static str {
    match via {
        Via::ServiceAccount => "service-account",
        Via::AllServiceAccounts => "all-service-accounts",
        Via::NamespaceServiceAccounts => "namespace-service-accounts",
        Via::User => "user",
        Via::Authenticated => "authenticated",
    }
}

fn grant_line(grant: &Grant, root: &Path) -> String {
    let source = match &grant.role {
        RoleSource::Declared { file, .. } => {
            let file = Path::new(file);
            let relative = file.strip_prefix(root).unwrap_or(file);
            format!(
                "declared in {}",
                relative.to_string_lossy().replace('\\', "/")
            )
        }
        RoleSource::Builtin { .. } => "builtin".to_string(),
        RoleSource::Missing { .. } => "missing".to_string(),
    };
    let scope = match &grant.scope {
        Scope::Cluster => "cluster".to_string(),
        Scope::Namespace(ns) => format!("ns:{}", ns.as_deref().unwrap_or("-")),
    };
    let capabilities = if grant.capabilities.len() == Capability::ALL.len() {
        "all".to_string()
    } else {
        grant
            .capabilities
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "{}/{} via {} -> {}/{} {source} {scope} [{capabilities}]",
        grant.binding_kind.as_str(),
        grant.binding,
        via(grant.via),
        grant.role.kind().as_str(),
        grant.role.name(),
    )
}

/// What the markers of a workspace expect, by account, in file order.
fn expectations(files: &[PathBuf]) -> BTreeMap<String, Vec<String>> {
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in files {
        let text = fs::read_to_string(file).expect("a fixture");
        for line in text.lines() {
            let Some(marker) = line.trim_start().strip_prefix("# rbac ") else {
                continue;
            };
            let account_end = marker.find([':', ' ']).unwrap_or(marker.len());
            let account = marker[..account_end].to_string();
            expected
                .entry(account)
                .or_default()
                .push(marker.to_string());
        }
    }
    expected
}

fn actual(
    account: &str,
    permissions: &Permissions,
    root: &Path,
    with_defaults: bool,
) -> Vec<String> {
    let mut lines = vec![format!("{account}: {}", permissions.risk.as_str())];
    for grant in &permissions.grants {
        lines.push(format!("{account} = {}", grant_line(grant, root)));
    }
    if with_defaults {
        let mut names: Vec<&str> = permissions
            .defaults
            .iter()
            .map(|g| g.binding.as_str())
            .collect();
        names.sort();
        lines.push(format!("{account} defaults: {}", names.join(" ")));
    }
    lines
}

fn check_workspace(root: &Path, problems: &mut Vec<String>) -> usize {
    let files = yaml_files(root);
    let mut host = AnalysisHost::new(Disk);
    for file in &files {
        let text = fs::read_to_string(file).expect("a fixture");
        host.index_file(FilePath::from_path(file), &text);
    }
    let expected = expectations(&files);
    if expected.is_empty() {
        problems.push(format!("{}: no `# rbac` expectation", root.display()));
    }
    for (account, lines) in &expected {
        let (namespace, name) = account.split_once('/').expect("NS/ACCOUNT");
        let namespace = (namespace != "-").then_some(namespace);
        let permissions = host.permissions(namespace, name);
        let with_defaults = lines.iter().any(|l| l.contains(" defaults: "));
        let got = actual(account, &permissions, root, with_defaults);
        if &got != lines {
            problems.push(format!(
                "{}: permissions of {account} differ\n  expected:\n    {}\n  got:\n    {}",
                root.display(),
                lines.join("\n    "),
                got.join("\n    ")
            ));
        }
    }
    expected.len()
}

#[test]
fn every_rbac_fixture_workspace_gets_the_permissions_its_markers_expect() {
    let fixtures = repository().join("tests/fixtures/rbac");
    let mut roots: Vec<PathBuf> = fs::read_dir(&fixtures)
        .expect("tests/fixtures/rbac")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    roots.sort();
    roots.push(repository().join("tests/fixtures/helm/rbac_binding"));
    let mut problems = Vec::new();
    let mut accounts = 0;
    for root in &roots {
        accounts += check_workspace(root, &mut problems);
    }
    assert!(
        roots.len() >= 7 && accounts >= 12,
        "{} workspaces, {accounts} accounts",
        roots.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn the_binding_place_and_the_role_place_are_the_values_that_name_them() {
    let root = repository().join("tests/fixtures/rbac/other_files");
    let mut host = AnalysisHost::new(Disk);
    for file in yaml_files(&root) {
        let text = fs::read_to_string(&file).expect("a fixture");
        host.index_file(FilePath::from_path(&file), &text);
    }
    let permissions = host.permissions(Some("team"), "builder");
    let grant = &permissions.grants[0];
    let (file, range) = grant.binding_place.clone().expect("declared");
    let text = fs::read_to_string(&file).expect("the binding's file");
    assert_eq!(&text[range.start..range.end], "builder");
    assert!(file.ends_with("binding.yaml"));
    let RoleSource::Declared { file, range, .. } = &grant.role else {
        panic!("declared: {:?}", grant.role);
    };
    let text = fs::read_to_string(file).expect("the role's file");
    assert!(file.ends_with("team/role.yaml"));
    assert_eq!(&text[range.start..range.end], "builder");
    assert_eq!(
        permissions.summary(),
        "bound to ClusterRole \"builder\" by ClusterRoleBinding \"builder\""
    );
}
