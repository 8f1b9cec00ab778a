//! Which texts and documents can matter to the rule, decided from their
//! text alone: whether a file looks like Kubernetes manifests at all, and
//! which of its documents can hold a workload or a ServiceAccount.
//!
//! Only workloads (any kind named in the [`WorkloadKinds`]), `*List` objects and
//! ServiceAccounts matter. Most of a repository is CRDs, ConfigMaps and
//! Services: those documents are still parsed, so their syntax errors are
//! still reported, but no tree is built for them. The test is exact: when a
//! document's root `kind` cannot be read safely from its column-0 lines, the
//! document is treated as one that matters.

use crate::kinds::WorkloadKinds;

/// False only when the document certainly has a root `kind` that is neither a
/// workload kind of `kinds` (of any group: the group is not read), nor a
/// `*List`, nor `ServiceAccount`.
pub fn may_matter(document: &str, kinds: &WorkloadKinds) -> bool {
    may_hold(document, |kind| relevant_kind(kind, kinds))
}

/// False only when the document certainly declares no ServiceAccount.
pub fn may_declare_account(document: &str) -> bool {
    may_hold(document, |kind| {
        unreadable(kind) || kind == "ServiceAccount" || kind.ends_with("List")
    })
}

/// False only when the document certainly has a root `kind` for which
/// `relevant` says no.
fn may_hold(document: &str, relevant: impl Fn(&str) -> bool) -> bool {
    // Escapes in double-quoted scalars can spell any kind.
    let bytes = document.as_bytes();
    if memchr::memchr(b'\\', bytes).is_some() {
        return true;
    }
    let mut saw_kind = false;
    // Only column-0 lines matter: jump from line start to line start.
    let mut start = 0;
    while start < bytes.len() {
        let end = memchr::memchr2(b'\n', b'\r', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        let line = &document[start..end];
        start = end + 1;
        match line.as_bytes().first() {
            // Most lines are indented or blank: nothing to read there.
            None | Some(b' ' | b'\t' | b'#') => continue,
            // A flow, complex-key or decorated root; or a root key merged in.
            Some(b'{' | b'[' | b'?' | b'&' | b'!' | b'*' | b'<') => return true,
            Some(b'-') if line.starts_with("---") => {
                let rest = line[3..].trim_start();
                if !rest.is_empty()
                    && !rest.starts_with('#')
                    && !rest.starts_with('!')
                    && !rest.starts_with('&')
                {
                    return true;
                }
            }
            _ => {}
        }
        let Some(value) = root_kind_value(line) else {
            continue;
        };
        saw_kind = true;
        if relevant(value) {
            return true;
        }
    }
    !saw_kind
}

/// The value of a column-0 `kind:` line, unquoted, or `""` when it cannot be
/// read from the line alone.
fn root_kind_value(line: &str) -> Option<&str> {
    let rest = ["kind", "\"kind\"", "'kind'"]
        .iter()
        .find_map(|key| line.strip_prefix(key))?;
    let rest = rest.trim_start_matches([' ', '\t']).strip_prefix(':')?;
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None; // `kind:x` is a plain scalar key, not `kind`
    }
    let value = match rest.find(" #").or_else(|| rest.find("\t#")) {
        Some(comment) => &rest[..comment],
        None => rest,
    };
    let value = value.trim();
    let unquoted = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    Some(unquoted)
}

/// Empty (the value continues on later lines), or properties, an alias or a
/// block scalar: not readable from the line.
fn unreadable(value: &str) -> bool {
    value.is_empty() || value.starts_with(['&', '*', '!', '|', '>', '"', '\''])
}

fn relevant_kind(value: &str, kinds: &WorkloadKinds) -> bool {
    unreadable(value)
        || value == "ServiceAccount"
        || value.ends_with("List")
        || kinds.has_kind_named(value)
}

/// Whether the text looks like Kubernetes manifests at all: some line holds
/// an `apiVersion` key and some line a `kind` key. CI workflows, OpenAPI
/// documents and Helm values files do not, and get no diagnostics in editors.
pub fn looks_like_kubernetes(text: &str) -> bool {
    let (api_version, kind) = kubernetes_keys(text);
    api_version && kind
}

/// Whether the text has an `apiVersion` key, and whether it has a `kind` key
/// (for texts seen in pieces).
pub fn kubernetes_keys(text: &str) -> (bool, bool) {
    let has_key = |key: &str| {
        text.match_indices(key).any(|(i, _)| {
            let before = &text[..i];
            let line_start = before.rfind(['\n', '\r']).map_or(0, |p| p + 1);
            let line_prefix = &before[line_start..];
            // The file's byte-order mark is not part of its first line (found
            // by fuzzing: `IncrementalFile` reads the documents after it).
            let line_prefix = if line_start == 0 {
                line_prefix.trim_start_matches('\u{feff}')
            } else {
                line_prefix
            };
            let prefix = line_prefix.trim_end_matches(['"', '\'', ' ', '\t']);
            let prefix_ok = prefix.is_empty() || prefix.ends_with(['-', '{', ',']);
            let after = text[i + key.len()..].trim_start_matches(['"', '\'']);
            prefix_ok && after.starts_with(':')
        })
    };
    (has_key("apiVersion"), has_key("kind"))
}

#[cfg(test)]
mod tests {
    use super::{looks_like_kubernetes, may_declare_account, WorkloadKinds};
    use crate::kinds::WorkloadKind;

    fn may_matter(document: &str) -> bool {
        super::may_matter(document, &WorkloadKinds::default())
    }

    #[test]
    fn only_accounts_and_lists_may_declare_accounts() {
        assert!(!may_declare_account("kind: Deployment\nspec: {}\n"));
        assert!(!may_declare_account(
            "kind: RoleBinding\nsubjects:\n- kind: ServiceAccount\n"
        ));
        assert!(may_declare_account("kind: ServiceAccount\n"));
        assert!(may_declare_account("kind: List\n"));
        assert!(may_declare_account("{kind: ServiceAccount}\n"));
    }

    #[test]
    fn documents_of_other_kinds_do_not_matter() {
        assert!(!may_matter(
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  kind: Pod\n"
        ));
        assert!(!may_matter(
            "---\nkind: \"Service\" # a Pod in front\nspec: {}\n"
        ));
        assert!(!may_matter(
            "kind: CustomResourceDefinition\r\nspec:\r\n  names: {kind: Pod}\r\n"
        ));
    }

    #[test]
    fn workloads_lists_accounts_and_anything_unreadable_matter() {
        for doc in [
            "kind: Pod\n",
            "kind: 'Deployment'\n",
            "kind: ServiceAccount\n",
            "kind: ConfigMapList\nitems: []\n",
            "kind: ConfigMap\nkind: Pod\n",
            "kind: *k\n",
            "kind: !!str Pod\n",
            "kind:\n  Pod\n",
            "{kind: Pod}\n",
            "--- {kind: Pod}\n",
            "<<: *base\nkind: Service\n",
            "kind: \"P\\x6fd\"\n",
            "metadata: {}\n",
            "  kind: Service\n",
        ] {
            assert!(may_matter(doc), "{doc:?}");
        }
    }

    #[test]
    fn kinds_of_other_groups_and_configured_kinds_matter() {
        assert!(may_matter(
            "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\n"
        ));
        assert!(may_matter(
            "apiVersion: apps.openshift.io/v1\nkind: DeploymentConfig\n"
        ));
        let widget = "apiVersion: example.com/v1\nkind: Widget\nspec: {}\n";
        assert!(!may_matter(widget));
        let mut kinds = WorkloadKinds::default();
        kinds.add(WorkloadKind::new(Some("example.com"), "Widget", &["spec"]));
        assert!(
            super::may_matter(widget, &kinds),
            "a configured kind is not skipped"
        );
    }

    #[test]
    fn kubernetes_is_told_from_other_yaml() {
        assert!(looks_like_kubernetes("apiVersion: v1\nkind: Pod\n"));
        assert!(looks_like_kubernetes(
            "items:\n- apiVersion: v1\n  kind: Pod\n"
        ));
        assert!(looks_like_kubernetes(
            "{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}"
        ));
        assert!(!looks_like_kubernetes(
            "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n"
        ));
        assert!(!looks_like_kubernetes(
            "openapi: 3.0.0\ninfo: {title: kind of api}\n"
        ));
        assert!(!looks_like_kubernetes(
            "replicaCount: 1\nimage: {repository: nginx}\n"
        ));
    }
}
