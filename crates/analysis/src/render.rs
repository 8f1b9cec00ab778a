//! The one place where a finding's facts become text: its message, its
//! related places, and the hover that explains it (Markdown). Nothing else
//! writes or edits a finding's prose.

use crate::finding::{
    AccountCheck, DeclaredAt, Finding, FromHelper, HelperReading, Overlays, Problem, Related,
    RenderFact, Renders, SyntaxFacts, TemplatedField,
};
use crate::fix::FIELD;
use crate::ignore_comment::IGNORE_MARKER;
use crate::objects::AccountAutomount;
use crate::rbac::{Capability, Grant, Permissions, Risk, RoleSource, Scope, Via};

/// Kubernetes' documentation of the setting, linked from hovers.
pub const DOCS_URL: &str = "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting";

/// The finding's message: sentences, each from one fact.
pub fn message(finding: &Finding) -> String {
    let permissions = finding
        .permissions
        .as_ref()
        .map(|p| permissions_sentence(&finding.declared_at, p));
    message_with(finding, permissions)
}

/// What the token of the finding's account can do, in the words of its
/// message and its related places: the same for every finding of one
/// file whose pod runs as the same account (they share its permissions and
/// the places those name), so worded once per account (see
/// `host/permissions.rs`).
#[derive(Clone, Debug)]
pub(crate) struct PermissionWords {
    sentence: Option<String>,
    related: Vec<Related>,
}

/// The words of an account's permissions that do not depend on how a
/// finding names the files of their places: worked out once per account
/// (see `host/permissions.rs`), then [`PermissionWords::of`] for each way
/// of naming them.
#[derive(Debug)]
pub(crate) struct AccountWords {
    /// The places [`permissions_related`] lists, with their messages.
    related: Vec<RelatedWords>,
    /// What whoever takes over the pod can do, as the message says it
    /// (when the permissions are dangerous).
    capabilities: Option<String>,
}

/// A place [`permissions_related`] lists, its file as the host names it.
#[derive(Debug)]
struct RelatedWords {
    file: String,
    range: crate::text::TextRange,
    message: String,
    /// A declared role: listed once, whatever the number of bindings that
    /// name it.
    once: bool,
}

impl AccountWords {
    pub(crate) fn of(permissions: &Permissions) -> Self {
        let capabilities = matches!(
            permissions.risk,
            Risk::DangerousClusterWide | Risk::DangerousInNamespace
        )
        .then(|| capabilities_phrase(permissions, Some(CAPABILITIES_IN_A_MESSAGE)));
        AccountWords {
            related: related_words(permissions),
            capabilities,
        }
    }
}

impl PermissionWords {
    /// The words of `permissions` (whose [`AccountWords`] are `account`),
    /// whose places are `declared` (those of a finding with these
    /// permissions: [`Finding::declared_at`]).
    pub(crate) fn of(
        permissions: &Permissions,
        account: &AccountWords,
        declared: &[DeclaredAt],
    ) -> Self {
        PermissionWords {
            sentence: Some(permissions_sentence_with(
                declared,
                permissions,
                account.capabilities.as_deref(),
            )),
            related: related_from(&account.related, declared),
        }
    }

    /// [`message`] and [`related`] of `finding`, whose permissions (and
    /// the places they name) are those these words were made from.
    pub(crate) fn render(&self, finding: &Finding) -> (String, Vec<Related>) {
        let message = message_with(finding, self.sentence.clone());
        let mut related = helm_related(finding);
        related.extend(self.related.iter().cloned());
        (message, related)
    }
}

/// [`message`], with the permissions' sentence given.
fn message_with(finding: &Finding, permissions: Option<String>) -> String {
    if finding.problem == Problem::Syntax {
        return syntax_message(&finding.syntax.clone().unwrap_or_default());
    }
    let label = finding
        .workload
        .as_ref()
        .map_or_else(String::new, |w| w.label());
    let account = finding.account.as_ref();
    let helm = finding.helm.as_ref();
    let helper = helm.and_then(|h| h.helper.as_ref());
    let verdict = match (helm.and_then(|h| h.field.as_ref()), helper) {
        (Some(field), _) => templated_verdict(&label, field, account),
        (
            None,
            Some(
                from @ FromHelper {
                    reading: HelperReading::Renders { .. },
                    ..
                },
            ),
        ) => helper_verdict(&label, finding.problem, from, account),
        (None, _) => verdict(&label, finding.problem, account),
    };
    // What in-place reading left out, said after the verdict.
    let not_evaluated = helper.and_then(|from| match &from.reading {
        HelperReading::NotEvaluated { why } => Some(format!(
            "Not evaluated: the pod spec also gets keys from helper \"{}\" ({why}), which may set {FIELD}.",
            from.helper
        )),
        HelperReading::Renders { .. } => None,
    });
    let duplicated = finding.occurrences > 1;
    let note = match helm {
        // A duplicated key is legal YAML to this decoder, and the last
        // value is the one applied; say so, since the reader may be looking
        // at another.
        None if duplicated => Some(format!(
            "{FIELD} appears {} times in this pod spec; Kubernetes uses the last one.",
            finding.occurrences
        )),
        // In a template both branches of a conditional are read, so a
        // repeated field is expected: nothing is said of it. (Nor, then,
        // of a computed account name: that sentence used to be cut off with
        // the one about duplicates, and the output is kept as it was. Nor
        // for a templated field, which never had it.)
        Some(helm) if helm.computed_account && helm.field.is_none() && !duplicated => Some(
            "The ServiceAccount's name is computed by the template, which tokenguard does not \
             evaluate: the pod was judged by the chart's ServiceAccount templates."
                .to_string(),
        ),
        _ => None,
    };
    let overlays = finding.overlays.as_ref().map(overlays_sentence);
    let rendering = finding.rendering.as_ref().map(|fact| match fact {
        // The helper's sentence already says what was not evaluated; only
        // why rendering did not settle it is left to say.
        RenderFact::NotEvaluated { why, .. } if not_evaluated.is_some() => {
            format!("Rendering the chart would decide it, but it was not rendered ({why}).")
        }
        _ => rendering_sentence(fact),
    });
    // What the token is worth comes last: the message's tail.
    [
        Some(verdict),
        note,
        not_evaluated,
        overlays,
        rendering,
        permissions,
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
}

/// A TG000 message: what to change, in a manifest author's words, then the
/// YAML reader's own message (what to search for); a reader's message with
/// no wording here (tokenguard's own checks are worded where they are made)
/// is given as it is.
pub fn syntax_message(facts: &SyntaxFacts) -> String {
    let reader = facts.reader.as_str();
    match syntax_advice(reader, facts.found) {
        Some(advice) => format!("YAML syntax error: {advice} (YAML reader: {reader})"),
        None => format!("YAML syntax error: {reader}"),
    }
}

/// The advice for one of yaml-rust2's messages, given the character the
/// error points at.
fn syntax_advice(reader: &str, found: Option<char>) -> Option<String> {
    // Kubernetes' decoder (go-yaml v2) reads these where yaml-rust2 does not;
    // what tokenguard's re-reading cannot explain is said so.
    const CLUSTER_READS: &str = "Kubernetes' decoder may read this; tokenguard's YAML reader \
        (strict YAML 1.2) does not, so the document is not analysed.";
    if let Some(close @ (']' | '}')) = found {
        let open = if close == ']' { '[' } else { '{' };
        let closing_nothing = matches!(
            reader,
            "while parsing a node, did not find expected node content"
                | "while parsing a block mapping, did not find expected key"
                | "while parsing a block collection, did not find expected '-' indicator"
                | "invalid indentation"
                | "did not find expected <document start>"
        );
        if closing_nothing {
            return Some(format!(
                "this `{close}` closes nothing: remove it, or add the `{open}` it should close."
            ));
        }
    }
    let advice = match reader {
        "tabs disallowed within this context (block indentation)"
        | "tab cannot be used as indentation"
        | "a block scalar content cannot start with a tab"
        | "tabs disallowed in this context" => {
            "a tab cannot indent YAML: indent this line with spaces.".to_string()
        }
        "mapping values are not allowed in this context" => {
            "a mapping value is not allowed here: a `: ` inside a value starts a new key. \
             Quote the value if it holds `: `, or check this line's indentation against the line \
             above."
                .to_string()
        }
        "while parsing a block mapping, did not find expected key" => {
            "this line does not fit the mapping above it: the keys of one mapping start in the \
             same column. Check its indentation, or quote a value above that holds `#`, `[` or \
             a quote."
                .to_string()
        }
        "while parsing a block collection, did not find expected '-' indicator" => {
            "this line does not fit the list above it: every item starts with `- ` in the list's \
             column. Check its indentation."
                .to_string()
        }
        "block sequence entries are not allowed in this context" => {
            "a `- ` list cannot start here: put the list on the lines below its key, indented."
                .to_string()
        }
        "\"-\" is only valid inside a block" => {
            "a `- ` item cannot stand inside brackets: separate items with commas.".to_string()
        }
        "while scanning a quoted scalar, found unexpected end of stream" => {
            "this quoted value is never closed: add the closing quote.".to_string()
        }
        "while scanning a quoted scalar, found unexpected document indicator" => {
            "this quoted value runs into a `---` or `...` line: close the quote before it."
                .to_string()
        }
        "invalid trailing content after double-quoted scalar" => {
            "text follows the closing quote: put the whole value inside the quotes.".to_string()
        }
        "while parsing a quoted scalar, found unknown escape character" => {
            "unknown escape in a double-quoted value: write `\\\\` for a backslash, or use \
             single quotes."
                .to_string()
        }
        "while parsing a quoted scalar, did not find expected hexadecimal number"
        | "while parsing a quoted scalar, found invalid Unicode character escape code" => {
            "a `\\x`, `\\u` or `\\U` escape needs hexadecimal digits: fix the escape, or use \
             single quotes."
                .to_string()
        }
        "while parsing a flow sequence, expected ',' or ']'" => {
            "a `[` list is not closed, or two of its items have no comma between them: add the \
             `,` or the closing `]`."
                .to_string()
        }
        "while parsing a flow mapping, did not find expected ',' or '}'" => {
            "a `{` mapping is not closed, or two of its entries have no comma between them: add \
             the `,` or the closing `}`."
                .to_string()
        }
        "illegal placement of ':' indicator" => {
            "this `:` belongs to no key: a `[` or `{` opened above is probably not closed."
                .to_string()
        }
        "while parsing a node, did not find expected node content" => {
            "a value is expected here.".to_string()
        }
        "while parsing node, found unknown anchor" => {
            "this alias (`*name`) names no anchor (`&name`) set before it in the document."
                .to_string()
        }
        "unexpected character: `@'" | "unexpected character: ``'" => {
            "`@` and `` ` `` cannot start a plain value: quote the value.".to_string()
        }
        crate::tolerant::UNSEPARATED_COMMENT => format!(
            "put a space before `#` (a comment), or quote the value that holds it. {CLUSTER_READS}"
        ),
        "while scanning an anchor or alias, did not find expected alphabetic or numeric character" => {
            "`&` and `*` start an anchor or an alias: quote a value that starts with them."
                .to_string()
        }
        "wrongly indented line in block scalar" => {
            "a line of this `|` or `>` block is indented less than its first line.".to_string()
        }
        "did not find expected <document start>" => {
            "more follows the end of the document: start a new document with a `---` line, or \
             check this line's indentation."
                .to_string()
        }
        "invalid content after document end marker" => {
            "nothing may follow `...` on its line.".to_string()
        }
        "simple key expect ':'" | "simple key expected" => {
            "a key must be followed by `:` on its own line (a key cannot span lines).".to_string()
        }
        "invalid indentation" | "invalid indentation in flow construct" => {
            "this line is indented less than the block it continues: align it with the lines it \
             belongs with."
                .to_string()
        }
        "invalid indentation in quoted scalar" => format!(
            "a line of this quoted value is indented less than its key: indent it more. \
             {CLUSTER_READS}"
        ),
        // (What remains after the tolerant re-reading is mostly the `:` of
        // an explicit `? key`, where go-yaml takes no tab either.)
        crate::tolerant::TAB_AFTER_COLON => {
            "put a space after this `:` instead of the tab.".to_string()
        }
        "unexpected eof" => "the document ends too early.".to_string(),
        _ if reader.contains("tag") => {
            "`!` starts a tag: quote a value that starts with `!`.".to_string()
        }
        _ if reader.contains("directive") => {
            "a line starting with `%` is a directive (only `%YAML` and `%TAG` exist): quote a \
             value that starts with `%`."
                .to_string()
        }
        _ => return None,
    };
    Some(advice)
}

/// The verdict on a plain field (or none), and what to do.
fn verdict(label: &str, problem: Problem, account: Option<&AccountCheck>) -> String {
    let why = || account.map_or_else(String::new, account_clause);
    match problem {
        Problem::ExplicitTrue => format!(
            "{label} explicitly mounts its service-account token ({FIELD}: true). \
             Set it to false, or keep it and record why with a `# tokenguard-ignore: reason` comment."
        ),
        Problem::NotBoolean(kind) => format!(
            "{label} sets {FIELD} to {}, not a boolean: the API server rejects it. \
             Set it to the plain value false.",
            kind.describe()
        ),
        Problem::Null => format!(
            "{label} leaves {FIELD} empty, so its service-account token is mounted: {}. \
             Set {FIELD}: false.",
            why()
        ),
        Problem::Missing | Problem::Syntax => format!(
            "{label} mounts its service-account token: the pod spec does not set {FIELD} and {}. \
             Add {FIELD}: false to the pod spec.",
            why()
        ),
    }
}

/// The field rendered by a helper the pod spec includes.
fn helper_verdict(
    label: &str,
    problem: Problem,
    from: &FromHelper,
    account: Option<&AccountCheck>,
) -> String {
    let helper = &from.helper;
    let origin = match &from.reading {
        HelperReading::Renders { origin } => origin.as_ref(),
        HelperReading::NotEvaluated { .. } => None,
    };
    let in_values = origin
        .and_then(|o| o.file.as_deref())
        .is_some_and(|f| f.ends_with("values.yaml"));
    let there = if in_values {
        "in values.yaml"
    } else {
        "in the helper"
    };
    match problem {
        Problem::Null => {
            let why = account.map_or_else(String::new, account_clause);
            format!(
                "{label} leaves {FIELD} empty through helper \"{helper}\" (included here), so its \
                 service-account token is mounted: {why}. Set it to false {there}."
            )
        }
        _ => format!(
            "{label} explicitly mounts its service-account token: helper \"{helper}\" (included here) \
             renders {FIELD}: true. Set it to false {there}, or keep it and record why with a \
             `# tokenguard-ignore: reason` comment."
        ),
    }
}

/// `automountServiceAccountToken: {{ … }}` that Helm renders true, or
/// empty (then the account decides).
fn templated_verdict(
    label: &str,
    field: &TemplatedField,
    account: Option<&AccountCheck>,
) -> String {
    let expression = &field.expression;
    let path = &field.path;
    match (field.renders, &field.origin) {
        (Renders::True, Some(_)) => format!(
            "{label} mounts its service-account token: {FIELD} is {expression}, \
             which is true in values.yaml. Set it to false there."
        ),
        (Renders::True, None) => format!(
            "{label} mounts its service-account token: {FIELD} is {expression}, \
             which defaults to true when values.yaml leaves it unset or false. \
             Set the field to false in the template."
        ),
        (Renders::Empty, origin) => {
            let why = account.map_or_else(String::new, account_clause);
            let advice = match origin {
                Some(_) => format!("Set {path} to false in values.yaml."),
                None => format!(
                    "Add {path}: false to values.yaml, or set {FIELD} to false in the template."
                ),
            };
            format!(
                "{label} mounts its service-account token: {FIELD} is {expression}, which renders empty \
                 ({path} is not set in values.yaml), and {why}. {advice}"
            )
        }
    }
}

/// How the chart's rendering bears on the finding.
fn rendering_sentence(fact: &RenderFact) -> String {
    match fact {
        RenderFact::Rendered { values } => {
            let files = if values.is_empty() {
                "the chart's default values".to_string()
            } else {
                values.join(", ")
            };
            format!(
                "Judged on the chart as helm template renders it with {files}: \
                 this line produces the pod spec."
            )
        }
        RenderFact::NotEvaluated { what, why } => {
            format!("{what} was not evaluated ({why}).")
        }
    }
}

/// Why the account does not turn the token off.
fn account_clause(account: &AccountCheck) -> String {
    let who = match &account.namespace {
        Some(ns) => format!("ServiceAccount \"{}\" (namespace \"{ns}\")", account.name),
        None => format!("ServiceAccount \"{}\"", account.name),
    };
    match account.found.as_ref().map(|f| f.account.automount) {
        None => format!("{who} is not among the checked files, so nothing disables automounting"),
        Some(AccountAutomount::Enabled) => format!("{who} explicitly enables automounting"),
        Some(AccountAutomount::Invalid) => {
            format!("{who} sets {FIELD} to a value that is not a boolean")
        }
        Some(AccountAutomount::Default | AccountAutomount::Disabled) => {
            format!("{who} does not disable automounting")
        }
    }
}

/// The most bindings (the most dangerous first) that the related places,
/// the hover and the outputs detail; the message names the first and counts
/// the others. (A workspace that binds a group every account is in can give
/// each account hundreds of grants.)
pub const GRANTS_SHOWN: usize = 10;

/// The most capabilities a message lists; the hover lists them all.
const CAPABILITIES_IN_A_MESSAGE: usize = 6;

/// What the pod's token is worth, in one sentence: the account's most
/// dangerous binding (its role, where each is declared) and what whoever
/// takes over the pod gets.
fn permissions_sentence(declared: &[DeclaredAt], permissions: &Permissions) -> String {
    permissions_sentence_with(declared, permissions, None)
}

/// [`permissions_sentence`], with its capabilities' words when already
/// worked out.
fn permissions_sentence_with(
    declared: &[DeclaredAt],
    permissions: &Permissions,
    capabilities: Option<&str>,
) -> String {
    let account = account_label(permissions);
    let Some(first) = permissions.grants.first() else {
        return format!(
            "No RoleBinding or ClusterRoleBinding in the checked files names {account}: its \
             token carries only the API's discovery permissions, unless bindings live elsewhere."
        );
    };
    let more = match permissions.grants.len() - 1 {
        0 => String::new(),
        1 => " and 1 more binding".to_string(),
        n => format!(" and {n} more bindings"),
    };
    let bound = format!(
        "{account} is bound to {}{more}",
        grant_phrase(declared, permissions, first)
    );
    match permissions.risk {
        Risk::ClusterAdmin => {
            format!("{bound}: whoever takes over this pod controls the cluster.")
        }
        Risk::DangerousClusterWide | Risk::DangerousInNamespace => format!(
            "{bound}: whoever takes over this pod can {}.",
            capabilities.map_or_else(
                || capabilities_phrase(permissions, Some(CAPABILITIES_IN_A_MESSAGE)),
                str::to_string
            )
        ),
        Risk::Bound => format!(
            "{bound}: whoever takes over this pod gets those permissions, none of them among \
             the dangerous ones tokenguard looks for."
        ),
        Risk::Unknown if permissions.grants.len() == 1 => {
            format!("{bound}, which is not defined in the checked files.")
        }
        Risk::Unknown => {
            format!("{bound}, to roles not defined in the checked files.")
        }
        // (No grant is discovery-only: handled above.)
        Risk::DiscoveryOnly => format!("{bound}."),
    }
}

/// `ServiceAccount "ci"`, with its namespace when the workload names one.
fn account_label(permissions: &Permissions) -> String {
    match &permissions.namespace {
        Some(ns) => format!(
            "ServiceAccount \"{}\" (namespace \"{ns}\")",
            permissions.account
        ),
        None => format!("ServiceAccount \"{}\"", permissions.account),
    }
}

/// `ClusterRole "ops" (rbac.yaml:3) by ClusterRoleBinding "ops" (rbac.yaml:20)`;
/// a built-in role is said so, a missing one has no place; the group or
/// user the binding names the account through is said after it.
fn grant_phrase(declared: &[DeclaredAt], permissions: &Permissions, grant: &Grant) -> String {
    format!(
        "{} by {}",
        role_phrase(declared, grant),
        binding_phrase(declared, permissions, grant)
    )
}

/// `ClusterRole "ops" (rbac.yaml:3)`, `the built-in ClusterRole "edit"`,
/// `ClusterRole "ops"` (missing).
fn role_phrase(declared: &[DeclaredAt], grant: &Grant) -> String {
    match &grant.role {
        RoleSource::Declared {
            kind,
            name,
            file,
            range,
        } => format!(
            "{} \"{name}\"{}",
            kind.as_str(),
            at_label(declared, file, *range)
        ),
        RoleSource::Builtin { name, .. } => format!("the built-in ClusterRole \"{name}\""),
        RoleSource::Missing { kind, name } => format!("{} \"{name}\"", kind.as_str()),
    }
}

/// `ClusterRoleBinding "ops" (rbac.yaml:20)`, and how it reaches the
/// account when not by naming it.
fn binding_phrase(declared: &[DeclaredAt], permissions: &Permissions, grant: &Grant) -> String {
    let at = grant
        .binding_place
        .as_ref()
        .and_then(|(file, range)| declared_at(declared, file, *range))
        .map(|d| d.label());
    let notes: Vec<String> = at
        .into_iter()
        .chain(via_phrase(permissions, grant))
        .collect();
    let notes = match notes.is_empty() {
        true => String::new(),
        false => format!(" ({})", notes.join(", ")),
    };
    format!(
        "{} \"{}\"{notes}",
        grant.binding_kind.as_str(),
        grant.binding
    )
}

/// Where the place `range` of `file` is, among the places `declared`,
/// when its line is known ([`Finding::declared_at`]).
fn declared_at<'a>(
    declared: &'a [DeclaredAt],
    file: &str,
    range: crate::text::TextRange,
) -> Option<&'a DeclaredAt> {
    declared.iter().find(|d| d.file == file && d.range == range)
}

/// ` (rbac.yaml:12)`, when the line of the place is known.
fn at_label(declared: &[DeclaredAt], file: &str, range: crate::text::TextRange) -> String {
    declared_at(declared, file, range)
        .map(|d| format!(" ({})", d.label()))
        .unwrap_or_default()
}

/// How the binding reaches the account, when not by naming it: the group
/// or the user its subject names.
fn via_phrase(permissions: &Permissions, grant: &Grant) -> Option<String> {
    let namespace = permissions.namespace.as_deref().unwrap_or("<namespace>");
    Some(match grant.via {
        Via::ServiceAccount => return None,
        Via::AllServiceAccounts => "through the group system:serviceaccounts".to_string(),
        Via::NamespaceServiceAccounts => {
            format!("through the group system:serviceaccounts:{namespace}")
        }
        Via::User => format!(
            "as the user system:serviceaccount:{namespace}:{}",
            permissions.account
        ),
        Via::Authenticated => "through the group system:authenticated".to_string(),
    })
}

/// `read Secrets and create pods cluster-wide, and exec into pods in
/// namespace "ci"`: the capabilities grouped by scope, at most `limit` of
/// them (then how many more).
fn capabilities_phrase(permissions: &Permissions, limit: Option<usize>) -> String {
    let all = permissions.capabilities();
    let shown = limit.map_or(all.len(), |l| l.min(all.len()));
    let mut groups: Vec<(Scope, Vec<String>)> = Vec::new();
    for (capability, scope) in all.iter().take(shown) {
        let words = capability_words(*capability).to_string();
        match groups.iter_mut().find(|(s, _)| s == scope) {
            Some((_, labels)) => labels.push(words),
            None => groups.push((scope.clone(), vec![words])),
        }
    }
    let phrases: Vec<String> = groups
        .iter()
        .map(|(scope, labels)| format!("{} {}", list(labels), scope.describe()))
        .collect();
    let mut phrase = match phrases.as_slice() {
        [one] => one.clone(),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
        [] => String::new(),
    };
    if all.len() > shown {
        phrase.push_str(&format!(" (and {} more)", all.len() - shown));
    }
    phrase
}

/// `overlays/prod sets automountServiceAccountToken: false through a patch,
/// overlays/dev does not.`
fn overlays_sentence(overlays: &Overlays) -> String {
    let set = if overlays.patching.len() == 1 {
        "sets"
    } else {
        "set"
    };
    let not = if overlays.not_patching.len() == 1 {
        "does not"
    } else {
        "do not"
    };
    format!(
        "{} {set} {FIELD}: false through a patch, {} {not}.",
        list(&overlays.patching),
        list(&overlays.not_patching),
    )
}

/// `a`, `a and b`, `a, b and c`.
fn list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The places that explain the finding: the value of a chart's
/// `values.yaml` a templated field renders, then the one the account's
/// automounting comes from. (Where the account is declared is a fact of
/// [`Finding::account`], which each front end shows its own way, with
/// [`account_note`] as the words.)
pub fn related(finding: &Finding) -> Vec<Related> {
    let mut related = helm_related(finding);
    if let Some(permissions) = &finding.permissions {
        related.extend(permissions_related(&finding.declared_at, permissions));
    }
    related
}

/// The places of the account's bindings and of the roles they name that
/// are declared in the checked files, most dangerous first.
fn permissions_related(declared: &[DeclaredAt], permissions: &Permissions) -> Vec<Related> {
    related_from(&related_words(permissions), declared)
}

/// [`permissions_related`] of a finding whose places are `declared`: a
/// place of its own file is named by none (`file: None`).
fn related_from(words: &[RelatedWords], declared: &[DeclaredAt]) -> Vec<Related> {
    let mut related: Vec<Related> = Vec::with_capacity(words.len());
    for place in words {
        let file = match declared_at(declared, &place.file, place.range) {
            Some(at) if at.shown.is_empty() => None,
            _ => Some(place.file.clone()),
        };
        if place.once
            && related
                .iter()
                .any(|r| r.file == file && r.range == place.range)
        {
            continue;
        }
        related.push(Related {
            file,
            range: place.range,
            message: place.message.clone(),
        });
    }
    related
}

/// The places [`permissions_related`] lists and their messages, however
/// the finding names their files.
fn related_words(permissions: &Permissions) -> Vec<RelatedWords> {
    let account = account_label(permissions);
    let mut related: Vec<RelatedWords> = Vec::new();
    for grant in permissions.grants.iter().take(GRANTS_SHOWN) {
        let role = format!("{} \"{}\"", grant.role.kind().as_str(), grant.role.name());
        if let Some((file, range)) = &grant.binding_place {
            let missing = if grant.role.is_missing() {
                " (not defined in the checked files)"
            } else {
                ""
            };
            related.push(RelatedWords {
                file: file.clone(),
                range: *range,
                message: format!(
                    "{} \"{}\" binds {account} to {role}{missing}{}",
                    grant.binding_kind.as_str(),
                    grant.binding,
                    via_phrase(permissions, grant)
                        .map(|via| format!(", {via}"))
                        .unwrap_or_default()
                ),
                once: false,
            });
        }
        if let RoleSource::Declared {
            file, range, name, ..
        } = &grant.role
        {
            let what = match grant.capabilities.as_slice() {
                [] => "grants no dangerous capability".to_string(),
                capabilities => format!(
                    "lets its holders {}",
                    list(
                        &capabilities
                            .iter()
                            .map(|c| capability_words(*c).to_string())
                            .collect::<Vec<_>>()
                    )
                ),
            };
            related.push(RelatedWords {
                file: file.clone(),
                range: *range,
                message: format!("{} \"{name}\" {what}", grant.role.kind().as_str()),
                once: true,
            });
        }
    }
    related
}

/// What a capability lets its holder do, as a verb phrase.
fn capability_words(capability: Capability) -> &'static str {
    match capability {
        Capability::Wildcard => "use wildcard (`*`) rules",
        other => other.label(),
    }
}

/// The places of a chart's `values.yaml` that explain a template's finding.
fn helm_related(finding: &Finding) -> Vec<Related> {
    let mut related = Vec::new();
    let Some(helm) = &finding.helm else {
        return related;
    };
    if let Some(field) = &helm.field {
        if let Some(origin) = &field.origin {
            let state = match field.renders {
                Renders::True => "true",
                Renders::Empty => "empty",
            };
            related.push(Related {
                file: origin.file.clone(),
                range: origin.range,
                message: format!("{} is {state} here", field.path),
            });
        }
    }
    if let Some(FromHelper {
        helper,
        reading: HelperReading::Renders {
            origin: Some(origin),
        },
        ..
    }) = &helm.helper
    {
        related.push(Related {
            file: origin.file.clone(),
            range: origin.range,
            message: format!("helper \"{helper}\" renders {FIELD} from this value"),
        });
    }
    let found = finding.account.as_ref().and_then(|a| a.found.as_ref());
    if let (Some(origin), Some(found)) = (&helm.account_origin, found) {
        related.push(Related {
            file: origin.file.clone(),
            range: origin.range,
            message: format!(
                "ServiceAccount \"{}\" gets {FIELD} from this value",
                found.account.name
            ),
        });
    }
    related
}

/// What the consulted account does, said where it is declared: `None` when
/// it was not found.
pub fn account_note(account: &AccountCheck) -> Option<String> {
    let found = account.found.as_ref()?;
    let what = match found.account.automount {
        AccountAutomount::Enabled => "enables automounting",
        AccountAutomount::Invalid => "sets automountServiceAccountToken to a non-boolean",
        _ => "does not disable automounting",
    };
    Some(format!("ServiceAccount \"{}\" {what}", account.name))
}

const WHY: &str = "Unless a pod says otherwise, Kubernetes mounts a token of its ServiceAccount \
at `/var/run/secrets/kubernetes.io/serviceaccount` in every container. Whoever gains control of \
one of those containers can read the token and act on the API server with every permission the \
account holds. Most workloads never talk to the Kubernetes API, so for them the token is only \
something an attacker can use.";

/// The hover on a TG001 finding (Markdown). The editor shows the message
/// beside it: the hover says what the verdict means instead of repeating it.
pub fn finding_hover(finding: &Finding) -> String {
    let (what, fix) = match finding.problem {
        Problem::Missing => (
            format!("The pod spec does not set `{FIELD}`, and nothing else turns the token off."),
            format!(
                "Add `{FIELD}: false` to the pod spec (the quick fix does it), or set it on the \
                 ServiceAccount the pod runs as, which covers every pod using that account."
            ),
        ),
        Problem::Null => (
            format!("`{FIELD}` is present but empty, which Kubernetes reads as not set."),
            "Give it the value `false` (the quick fix does it).".to_string(),
        ),
        Problem::ExplicitTrue => (
            format!("The pod spec asks for the token with `{FIELD}: true`."),
            "Set it to `false` unless the pod calls the Kubernetes API.".to_string(),
        ),
        Problem::NotBoolean(_) | Problem::Syntax => (
            format!("`{FIELD}` must be the plain boolean `false`; this value is not a boolean."),
            format!("Set `{FIELD}` to the plain value `false` (the quick fix does it)."),
        ),
    };
    let worth = finding
        .permissions
        .as_ref()
        .map(|p| permissions_hover(finding, p))
        .unwrap_or_default();
    format!(
        "### tokenguard TG001: service-account token mounted\n\n{what}\n\n{worth}**Why it matters.** {WHY}\n\n\
         **How to fix it.** {fix}\n\n**When the pod really needs the API** (an operator, a \
         controller, a CI runner): set `{FIELD}: true` and put `# {IGNORE_MARKER}: <reason>` on \
         that line or the line above, so the exception is explicit and reviewed.\n\n\
         [Kubernetes: opt out of API credential automounting]({DOCS_URL})"
    )
}

/// The hover's account section (Markdown, ending with a blank line): the
/// risk, then each binding of the checked files with its role, where both
/// are declared, its scope and what it lets the token do.
fn permissions_hover(finding: &Finding, permissions: &Permissions) -> String {
    let account = account_label(permissions);
    let mut out = format!(
        "**What the token can do** (risk `{}`). ",
        permissions.risk.as_str()
    );
    if permissions.grants.is_empty() {
        let defaults: Vec<String> = permissions
            .defaults
            .iter()
            .map(|g| format!("`{}`", g.role.name()))
            .collect();
        out.push_str(&format!(
            "No RoleBinding or ClusterRoleBinding in the checked files names {account}: its \
             token carries only the API's discovery permissions"
        ));
        if !defaults.is_empty() {
            out.push_str(&format!(
                " (the default roles every account is bound to: {})",
                list(&defaults)
            ));
        }
        out.push_str(
            ", unless bindings live elsewhere (another repository, or objects the cluster \
             already has).\n\n",
        );
        return out;
    }
    let summary = match permissions.risk {
        Risk::ClusterAdmin => "whoever takes over this pod controls the cluster.".to_string(),
        Risk::DangerousClusterWide | Risk::DangerousInNamespace => format!(
            "whoever takes over this pod can {}.",
            capabilities_phrase(permissions, None)
        ),
        Risk::Bound => {
            "none of its permissions is among the dangerous ones tokenguard looks for.".to_string()
        }
        Risk::Unknown | Risk::DiscoveryOnly => {
            "what it grants is not known: its roles are not defined in the checked files."
                .to_string()
        }
    };
    out.push_str(&format!("{account}: {summary}\n\n"));
    for grant in permissions.grants.iter().take(GRANTS_SHOWN) {
        let what = if grant.role.is_missing() {
            ", which is not defined in the checked files".to_string()
        } else if grant.risk() == Risk::ClusterAdmin {
            ": everything (`*` verbs on `*` resources)".to_string()
        } else if grant.capabilities.is_empty() {
            ": nothing dangerous".to_string()
        } else {
            format!(
                ": {}",
                list(
                    &grant
                        .capabilities
                        .iter()
                        .map(|c| capability_words(*c).to_string())
                        .collect::<Vec<_>>()
                )
            )
        };
        let version = match &grant.role {
            RoleSource::Builtin { kubernetes, .. } => format!(" (Kubernetes {kubernetes})"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "- {} grants {}{version} {}{what}\n",
            binding_phrase(&finding.declared_at, permissions, grant),
            role_phrase(&finding.declared_at, grant),
            grant.scope.describe()
        ));
    }
    if let Some(more) = permissions.grants.len().checked_sub(GRANTS_SHOWN) {
        if more > 0 {
            out.push_str(&format!(
                "- and {more} more binding{}\n",
                if more == 1 { "" } else { "s" }
            ));
        }
    }
    out.push('\n');
    out
}

/// The hover on an `automountServiceAccountToken` key (Markdown).
pub fn field_hover() -> String {
    format!(
        "### `{FIELD}`\n\nWhether Kubernetes mounts the ServiceAccount token into the pod's \
         containers. Only the plain boolean `false` turns it off (YAML 1.1: `false`, `no`, `off`, \
         `n` in any of their usual spellings); a quoted `\"false\"` is a string and the API \
         server rejects it. A value in the pod spec wins over the ServiceAccount's.\n\n{WHY}\n\n\
         [Kubernetes: opt out of API credential automounting]({DOCS_URL})"
    )
}

/// The hover at byte `offset` of a file whose reported `findings` are given
/// and whose line under the cursor is `line` (starting at byte
/// `line_start`): a TG001 finding's range, or an
/// `automountServiceAccountToken` key.
pub fn hover<'a>(
    findings: impl Iterator<Item = &'a Finding>,
    offset: usize,
    line: &str,
    line_start: usize,
) -> Option<String> {
    // What is under the cursor is the host's to say; only the words are ours.
    Some(
        match crate::host::hover_fact(findings, line, line_start, offset)? {
            crate::host::HoverFact::Finding(finding) => finding_hover(&finding),
            crate::host::HoverFact::FieldKey => field_hover(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::FoundAccount;
    use crate::finding::{HelmFacts, Place, WorkloadRef};
    use crate::text::TextRange;

    fn pod(problem: Problem) -> Finding {
        let workload = WorkloadRef {
            kind: "Pod".to_string(),
            name: Some("web".to_string()),
            namespace: None,
        };
        Finding::tg001(
            problem,
            workload,
            TextRange::new(0, 4),
            TextRange::new(6, 20),
        )
    }

    fn account(automount: Option<AccountAutomount>) -> AccountCheck {
        let parsed = crate::parse(
            "kind: ServiceAccount\nmetadata: {name: web}\n",
            crate::Options::builtin(),
        );
        AccountCheck {
            name: "web".to_string(),
            namespace: Some("prod".to_string()),
            found: automount.map(|automount| FoundAccount {
                origin: Some("sa.yaml".to_string()),
                account: crate::objects::ServiceAccount {
                    automount,
                    ..parsed.accounts[0].clone()
                },
            }),
        }
    }

    #[test]
    fn each_fact_is_one_sentence_in_a_fixed_order() {
        let mut finding = pod(Problem::Missing);
        finding.account = Some(account(None));
        finding.overlays = Some(Overlays {
            patching: vec!["prod".to_string()],
            not_patching: vec!["dev".to_string(), "qa".to_string()],
        });
        assert_eq!(
            message(&finding),
            "Pod \"web\" mounts its service-account token: the pod spec does not set \
             automountServiceAccountToken and ServiceAccount \"web\" (namespace \"prod\") is not \
             among the checked files, so nothing disables automounting. Add \
             automountServiceAccountToken: false to the pod spec. prod sets \
             automountServiceAccountToken: false through a patch, dev and qa do not."
        );
        let mut twice = pod(Problem::ExplicitTrue);
        twice.occurrences = 2;
        assert!(message(&twice).ends_with(
            "comment. automountServiceAccountToken appears 2 times in this pod spec; Kubernetes uses the last one."
        ));
        twice.helm = Some(HelmFacts::default());
        assert!(!message(&twice).contains("appears"), "not in a template");
        let facts = |reader: &str, found| SyntaxFacts {
            reader: reader.to_string(),
            found,
        };
        let syntax = Finding::syntax(
            TextRange::new(0, 1),
            facts("did not find expected key", None),
        );
        assert_eq!(
            syntax.message,
            "YAML syntax error: did not find expected key"
        );
        assert!(syntax.related.is_empty());
        let reader = "while parsing a block mapping, did not find expected key";
        let stray = Finding::syntax(TextRange::new(0, 1), facts(reader, Some(']')));
        assert_eq!(
            stray.message,
            "YAML syntax error: this `]` closes nothing: remove it, or add the `[` it should \
             close. (YAML reader: while parsing a block mapping, did not find expected key)"
        );
        let tab = facts(
            "tabs disallowed within this context (block indentation)",
            Some('\t'),
        );
        assert!(syntax_message(&tab)
            .contains("a tab cannot indent YAML: indent this line with spaces."));
        let comment = facts(
            "comments must be separated from other tokens by whitespace",
            Some('#'),
        );
        assert!(syntax_message(&comment).contains("Kubernetes' decoder may read this"));
    }

    #[test]
    fn a_templated_field_names_its_values_and_the_accounts_value() {
        let mut finding = pod(Problem::Null);
        finding.account = Some(account(Some(AccountAutomount::Enabled)));
        let values = |start| Place {
            file: Some("values.yaml".to_string()),
            range: TextRange::new(start, start + 4),
        };
        finding.helm = Some(HelmFacts {
            field: Some(TemplatedField {
                expression: "{{ .Values.pod.automount }}".to_string(),
                path: "pod.automount".to_string(),
                renders: Renders::Empty,
                origin: Some(values(10)),
            }),
            computed_account: true,
            account_origin: Some(values(30)),
            helper: None,
        });
        let finding = finding.rendered();
        assert_eq!(
            finding.message,
            "Pod \"web\" mounts its service-account token: automountServiceAccountToken is \
             {{ .Values.pod.automount }}, which renders empty (pod.automount is not set in \
             values.yaml), and ServiceAccount \"web\" (namespace \"prod\") explicitly enables \
             automounting. Set pod.automount to false in values.yaml."
        );
        let related: Vec<(usize, &str)> = finding
            .related
            .iter()
            .map(|r| (r.range.start, r.message.as_str()))
            .collect();
        assert_eq!(
            related,
            [
                (10, "pod.automount is empty here"),
                (
                    30,
                    "ServiceAccount \"web\" gets automountServiceAccountToken from this value"
                )
            ]
        );
        assert_eq!(
            account_note(finding.account.as_ref().unwrap()).as_deref(),
            Some("ServiceAccount \"web\" enables automounting")
        );
        assert_eq!(account_note(&account(None)), None);
    }

    #[test]
    fn hovers_on_a_finding_or_on_the_key() {
        let finding = pod(Problem::Null);
        let line = "  automountServiceAccountToken: ~";
        let on_finding = hover(std::iter::once(&finding), 2, "spec:", 0).unwrap();
        assert!(on_finding.starts_with("### tokenguard TG001"));
        assert!(on_finding.contains("present but empty"));
        assert_eq!(
            hover(std::iter::empty(), 45, line, 40).as_deref(),
            Some(field_hover().as_str())
        );
        assert_eq!(hover(std::iter::empty(), 72, line, 40), None);
    }

    #[test]
    fn lists_read_as_prose() {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(list(&names(&["a"])), "a");
        assert_eq!(list(&names(&["a", "b"])), "a and b");
        assert_eq!(list(&names(&["a", "b", "c"])), "a, b and c");
        let overlays = Overlays {
            patching: names(&["prod", "stage"]),
            not_patching: names(&["dev"]),
        };
        assert_eq!(
            overlays_sentence(&overlays),
            "prod and stage set automountServiceAccountToken: false through a patch, dev does not."
        );
    }
}
