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
use crate::text::{LineIndex, TextRange};

/// False only when the document certainly has a root `kind` that is neither a
/// workload kind of `kinds` (of any group: the group is not read), nor a
/// `*List`, nor `ServiceAccount`.
pub fn may_matter(document: &str, kinds: &WorkloadKinds) -> bool {
    may_hold(document, |kind| relevant_kind(kind, kinds))
}

/// False only when the document certainly declares no ServiceAccount.
#[cfg(test)]
pub fn may_declare_account(document: &str) -> bool {
    may_hold(document, may_be_account_kind)
}

/// [`may_declare_account`] of `text[range]`, its lines found in `index`
/// (the table of `text`).
pub(crate) fn may_declare_account_in(text: &str, index: &LineIndex, range: TextRange) -> bool {
    may_hold_lines(index.lines_in(text, range), may_be_account_kind)
}

/// Whether a document whose root `kind` reads `kind` may declare a
/// ServiceAccount (itself, or as an item of a `*List`).
fn may_be_account_kind(kind: &str) -> bool {
    unreadable(kind) || kind == "ServiceAccount" || kind.ends_with("List")
}

/// What the column-0 lines of one document of a file say, read from the
/// file's line table (a parse reads every document of the file): whether
/// it may matter ([`may_matter`]), and whether its RBAC objects may be
/// read ([`DocumentKinds::may_name_rbac_kind`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DocumentKinds {
    /// [`may_matter`] of the document.
    pub matters: bool,
    /// When it does not matter: whether one of its root `kind` lines names
    /// an RBAC kind (`Role`, `ClusterRole`, `RoleBinding`,
    /// `ClusterRoleBinding`). When it does, this is not known (true).
    rbac_root: bool,
}

impl DocumentKinds {
    /// False only when the document certainly has no RBAC object: its root
    /// `kind` is certainly known, is no `*List` (whose items could be one)
    /// and no RBAC kind, so reading its objects finds none, whatever other
    /// lines mention. Else [`crate::rbac::may_hold_rbac`] of its text says.
    pub fn may_name_rbac_kind(&self, document: &str) -> bool {
        self.rbac_root && crate::rbac::may_hold_rbac(document)
    }
}

/// [`DocumentKinds`] of `text[range]`, its lines found in `index` (the
/// table of `text`).
pub(crate) fn document_kinds(
    text: &str,
    index: &LineIndex,
    range: TextRange,
    kinds: &WorkloadKinds,
) -> DocumentKinds {
    let mut rbac_root = false;
    let matters = may_hold_lines(index.lines_in(text, range), |kind| {
        rbac_root |= matches!(
            kind,
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
        );
        relevant_kind(kind, kinds)
    });
    DocumentKinds {
        matters,
        rbac_root: matters || rbac_root,
    }
}

/// False only when the document certainly has a root `kind` for which
/// `relevant` says no.
fn may_hold(document: &str, relevant: impl FnMut(&str) -> bool) -> bool {
    let bytes = document.as_bytes();
    let mut start = 0;
    let lines = std::iter::from_fn(|| {
        if start >= bytes.len() {
            return None;
        }
        let end = memchr::memchr2(b'\n', b'\r', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        let line = &document[start..end];
        start = end + 1;
        Some(line)
    });
    may_hold_lines(lines, relevant)
}

/// [`may_hold`] of the document cut into `lines` (each without its break;
/// empty pieces may be left out).
fn may_hold_lines<'t>(
    lines: impl Iterator<Item = &'t str>,
    mut relevant: impl FnMut(&str) -> bool,
) -> bool {
    let mut saw_kind = false;
    // Only column-0 lines matter.
    for line in lines {
        match line.as_bytes().first() {
            // Most lines are indented or blank: nothing to read there.
            None | Some(b' ' | b'\t' | b'#') => continue,
            // Escapes in a double-quoted scalar can spell any key or kind.
            // The root `kind` (key and value) of a block mapping is written
            // on a column-0 line (a value on later lines is unreadable, a
            // flow or indented root is not read at all), so only escapes
            // there can hide it; those in the many indented descriptions
            // of a CRD cannot.
            _ if memchr::memchr(b'\\', line.as_bytes()).is_some() => return true,
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
/// documents and Helm values files do not. (The rule that decides whether a
/// file gets findings is [`holds_kubernetes_object`], which also accepts a
/// `kind` with a broken `apiVersion`.)
pub fn looks_like_kubernetes(text: &str) -> bool {
    let (api_version, kind) = kubernetes_keys(text);
    api_version && kind
}

/// Whether the text has an `apiVersion` key, and whether it has a `kind` key
/// (for texts seen in pieces).
pub fn kubernetes_keys(text: &str) -> (bool, bool) {
    (
        key_places(text, "apiVersion", false).0,
        key_places(text, "kind", false).0,
    )
}

/// What a text's lines say about Kubernetes objects, read without parsing
/// (so a document that does not parse still says it). Line-based: the keys
/// of a text are the union of the keys of its pieces cut at line breaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjectKeys {
    /// Some line holds an `apiVersion` key.
    pub api_version: bool,
    /// Some line holds a `kind` key (at any depth).
    pub kind: bool,
    /// Some line holds a `kind` key that is not indented: the root `kind` of
    /// a document (`kind: Pod`, `{kind: Pod}`, `- kind: Pod`).
    pub root_kind: bool,
}

impl ObjectKeys {
    pub fn of(text: &str) -> Self {
        let (api_version, _) = key_places(text, "apiVersion", false);
        let (kind, root_kind) = key_places(text, "kind", true);
        Self {
            api_version,
            kind,
            root_kind,
        }
    }

    /// The keys of two pieces of one text.
    pub fn union(self, other: Self) -> Self {
        Self {
            api_version: self.api_version || other.api_version,
            kind: self.kind || other.kind,
            root_kind: self.root_kind || other.root_kind,
        }
    }

    /// Whether these keys alone say the text holds a Kubernetes object: a
    /// `kind` at the root of a document (whatever its `apiVersion`, which
    /// may be missing or mistyped), or an `apiVersion` and a `kind` anywhere
    /// (the items of a list).
    pub fn say_kubernetes(self) -> bool {
        self.root_kind || (self.api_version && self.kind)
    }
}

/// THE rule for which files get findings, in the command line and the
/// editor alike: only a file that holds a Kubernetes object is judged (its
/// TG000 syntax errors and TG001 workloads reported); any other YAML (a CI
/// workflow, a values file, another tool's broken fixture) gets nothing, not
/// even a syntax error. A file holds a Kubernetes object when its text says
/// so ([`ObjectKeys::say_kubernetes`], read from the lines, so it holds for a
/// document that does not parse), or when its parse found a workload or a
/// ServiceAccount (`parsed`: the file's or the masked template's).
pub fn holds_kubernetes_object(text: &str, parsed: &crate::ParsedFile) -> bool {
    has_objects(parsed) || {
        // The root `kind` alone decides most files: `apiVersion` is looked
        // for only when there is none.
        let (kind, root_kind) = key_places(text, "kind", true);
        root_kind || (kind && key_places(text, "apiVersion", false).0)
    }
}

/// Whether a parse found a Kubernetes object that matters to the rule.
pub(crate) fn has_objects(parsed: &crate::ParsedFile) -> bool {
    !parsed.workloads.is_empty() || !parsed.ignored.is_empty() || !parsed.accounts.is_empty()
}

/// Whether some line holds `key` as a key, and (when `at_root` is asked)
/// whether some such line holds it unindented.
fn key_places(text: &str, key: &str, at_root: bool) -> (bool, bool) {
    let mut anywhere = false;
    for (i, _) in text.match_indices(key) {
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
        if !(prefix_ok && after.starts_with(':')) {
            continue;
        }
        anywhere = true;
        if !at_root {
            return (true, false);
        }
        if !line_prefix.starts_with([' ', '\t']) {
            return (true, true);
        }
    }
    (anywhere, false)
}

#[cfg(test)]
mod tests {
    use super::{looks_like_kubernetes, may_declare_account, ObjectKeys, WorkloadKinds};
    use crate::kinds::WorkloadKind;

    fn may_matter(document: &str) -> bool {
        super::may_matter(document, &WorkloadKinds::default())
    }

    /// Texts whose documents name kinds at the root and below, quoted or
    /// not, with every kind of line break.
    fn documents() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let line = prop::sample::select(vec![
            "---",
            "kind: Role",
            "kind: 'ClusterRole'",
            "kind: \"RoleBinding\" # c",
            "kind: ClusterRoleBinding",
            "kind: ConfigMap",
            "kind: RoleList",
            "kind: List",
            "kind: Pod",
            "kind: ServiceAccount",
            "kind:",
            "  kind: Role",
            "kind: Ro\\x6ce",
            "apiVersion: rbac.authorization.k8s.io/v1",
            "apiVersion: v1",
            "metadata:",
            "  name: a",
            "items:",
            "- kind: Role",
            "  metadata: {name: b}",
            "data:",
            "  x: |",
            "    kind: Role",
            "# kind: Role",
            "{kind: Role}",
            "",
            "  ",
        ]);
        let brk = prop::sample::select(vec!["\n", "\r\n", "\r"]);
        prop::collection::vec((line, brk), 0..10).prop_map(|lines| {
            lines
                .into_iter()
                .flat_map(|(l, b)| [l, b])
                .collect::<String>()
        })
    }

    proptest::proptest! {
        /// Read from the line table, each document's relevance is the one
        /// read from its text; and a document whose RBAC objects are not
        /// read has none.
        #[test]
        fn document_kinds_agree_with_the_text(text in documents()) {
            let index = crate::text::LineIndex::new(&text);
            let kinds = WorkloadKinds::default();
            for chunk in crate::split::split_indexed(&text, 0, &index) {
                let body = &text[chunk.range.start..chunk.range.end];
                let read = super::document_kinds(&text, &index, chunk.range, &kinds);
                proptest::prop_assert_eq!(read.matters, super::may_matter(body, &kinds));
                proptest::prop_assert_eq!(
                    super::may_declare_account_in(&text, &index, chunk.range),
                    may_declare_account(body)
                );
                if !read.may_name_rbac_kind(body) {
                    let mut objects = crate::rbac::RbacObjects::default();
                    if let crate::tree::ChunkResult::Documents(docs) =
                        crate::tree::build_chunk(&text, &index, chunk)
                    {
                        for doc in &docs {
                            crate::rbac::of_document(doc, &mut objects);
                        }
                    }
                    proptest::prop_assert!(objects.roles.is_empty() && objects.bindings.is_empty());
                }
            }
        }
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
        // Escapes in indented lines (a CRD's patterns) cannot spell the root
        // kind.
        assert!(!may_matter(
            "kind: CustomResourceDefinition\nspec:\n  pattern: \"^\\\\d+\\\\.\"\n"
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
            "\"\\x6bind\": Pod\nkind: Service\n",
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

    fn holds(text: &str) -> bool {
        super::holds_kubernetes_object(text, &crate::parse(text, crate::Options::builtin()))
    }

    #[test]
    fn only_files_holding_a_kubernetes_object_are_judged() {
        // A broken workflow and another tool's broken fixture: nothing.
        assert!(!holds(
            "name: CI\non: [push]\njobs:\n  build:\n    steps:\n      - run: x\n      broken: [\n"
        ));
        assert!(!holds("key: \"unterminated\nother: value\n"));
        assert!(!holds("replicaCount: 1\nimage:\n  kind: x\n"));
        // A root `kind` with a mistyped or missing `apiVersion` is judged.
        assert!(holds("apiVersoin: apps/v1\nkind: Deployment\nspec: {}\n"));
        assert!(holds("kind: Deployment\nspec: [\n"));
        assert!(holds("{kind: Pod}\n"));
        assert!(holds("- kind: Pod\n"));
        // Both keys anywhere (a list's items), even when it does not parse.
        assert!(holds(
            "items:\n  - apiVersion: v1\n    kind: Pod\n  broken: [\n"
        ));
        // A workload the line test misses is still found by the parse.
        assert!(holds("apiVersion: v1\nkind : Pod\nspec: {}\n"));
        assert!(!ObjectKeys::of("a:\n  kind : Pod\n").say_kubernetes());
    }

    #[test]
    fn object_keys_of_a_text_are_the_union_of_its_pieces() {
        let text = "apiVersion: v1\n---\n  kind: Pod\n---\nx: 1\n";
        let pieces = ["apiVersion: v1\n", "---\n  kind: Pod\n", "---\nx: 1\n"];
        let union = pieces
            .iter()
            .fold(ObjectKeys::default(), |all, p| all.union(ObjectKeys::of(p)));
        assert_eq!(union, ObjectKeys::of(text));
        assert!(union.say_kubernetes() && !union.root_kind);
        assert!(ObjectKeys::of("\u{feff}kind: Pod\n").root_kind);
    }
}
