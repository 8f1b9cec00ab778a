//! The last facts of a TG001 finding: what the token of the account the pod
//! runs as can do (the RBAC index's answer, [`crate::rbac::Permissions`]),
//! and the lines of the places that answer names (bindings, declared
//! roles), read once per file, so that the words can say `rbac.yaml:12`.
//! Attached by [`super::AnalysisHost::finish`], before the configuration
//! sets the severity by the risk.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::lines::LineAt;
use super::path::FilePath;
use crate::finding::{Code, DeclaredAt, Finding, PermissionMemo};
use crate::rbac::{Permissions, RoleSource};
use crate::render::{AccountWords, GRANTS_SHOWN};
use crate::text::TextRange;

/// `findings` of the file at `path`, each TG001 finding whose account is
/// known by name with its permissions (`permissions_of(namespace,
/// account)`) and the lines of the places they name (`lines_of(file,
/// offsets)`: in a file as the host names it, `None` when it cannot be
/// had).
pub(super) fn attach(
    path: &FilePath,
    findings: Vec<Finding>,
    permissions_of: impl Fn(Option<&str>, &str) -> Arc<Permissions>,
    lines: &DeclarationLines,
    lines_of: impl Fn(&str, &[usize]) -> Option<Vec<Option<LineAt>>>,
    places_in: impl Fn(&str) -> Vec<usize>,
) -> Vec<Finding> {
    let namer = Namer::new(path);
    let mut key = String::new();
    findings
        .into_iter()
        .map(|mut finding| {
            if finding.code != Code::TG001 {
                return finding;
            }
            let Some(account) = finding.runs_as.as_deref() else {
                return finding;
            };
            let namespace = finding
                .workload
                .as_ref()
                .and_then(|w| w.namespace.as_deref());
            let permissions = permissions_of(namespace, account);
            let memo = lines.memo(permissions, &namer, &mut key, &lines_of, &places_in);
            finding.set_permissions(&memo);
            finding
        })
        .collect()
}

/// What the findings whose pods run as one account share, by the
/// permissions' address (the RBAC index answers once per account and state
/// of the index): the places those name whose lines are known, and what
/// each way of naming those places' files worked out
/// ([`PermissionMemo`]: the places with their lines, the words, the fix's
/// reason). The words of a finding depend on nothing else, so every
/// finding of the account in every file that names the places alike (the
/// same folder, or one as deep elsewhere) gets them from here.
#[derive(Debug)]
struct Worded {
    /// (Held, so that no other permissions take its address while this is
    /// kept.)
    permissions: Arc<Permissions>,
    places: Arc<KnownPlaces>,
    /// By [`Namer::key`] of `places.files`.
    memos: HashMap<String, Arc<PermissionMemo>>,
    /// The same, by the folder of the findings' files, for those that are
    /// not among `places.files` ([`Namer::folder_naming`]).
    by_folder: HashMap<String, Arc<PermissionMemo>>,
}

/// The places permissions name whose lines are known, in the order the
/// words and outputs list them.
#[derive(Debug)]
struct KnownPlaces {
    /// Their files, each once.
    files: Vec<String>,
    /// (index in `files`, range, line).
    places: Vec<(usize, TextRange, LineAt)>,
    /// Why the fix is not the one to prefer, and the words, that are the
    /// same for every finding of the account.
    fix_reason: Option<String>,
    words: AccountWords,
}

/// How the words name files from a finding of one file (`from`), its
/// folder worked out once: [`Namer::name`].
struct Namer<'a> {
    from: &'a FilePath,
    /// `from`'s folder, when files can be named relative to it (cut when
    /// first needed: most files have no finding to name places for).
    folder: std::cell::OnceCell<Option<Folder>>,
}

/// A folder files are named relative to, cut into its segments once.
struct Folder {
    text: String,
    /// Its [`Segments`], as byte ranges of `text`.
    segments: Vec<(usize, usize)>,
    /// How many segments there are up to its last `..` (0: none).
    up_to_last_climb: usize,
}

impl Folder {
    fn new(text: &str) -> Self {
        let mut segments = Vec::new();
        let mut start = 0;
        for part in text.split('/') {
            if !part.is_empty() && part != "." {
                segments.push((start, start + part.len()));
            }
            start += part.len() + 1;
        }
        let up_to_last_climb = segments
            .iter()
            .rposition(|&(start, end)| &text[start..end] == "..")
            .map_or(0, |i| i + 1);
        Folder {
            text: text.to_string(),
            segments,
            up_to_last_climb,
        }
    }

    fn segment(&self, i: usize) -> Option<&str> {
        let (start, end) = *self.segments.get(i)?;
        self.text.get(start..end)
    }
}

/// The segments of a path: what the `/`s part, but for empty ones and
/// `.`.
#[derive(Clone)]
struct Segments<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Segments<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        while !self.rest.is_empty() {
            let (segment, rest) = match memchr::memchr(b'/', self.rest.as_bytes()) {
                Some(at) => (&self.rest[..at], &self.rest[at + 1..]),
                None => (self.rest, ""),
            };
            self.rest = rest;
            if !segment.is_empty() && segment != "." {
                return Some(segment);
            }
        }
        None
    }
}

impl<'a> Namer<'a> {
    fn new(from: &'a FilePath) -> Self {
        Namer {
            from,
            folder: std::cell::OnceCell::new(),
        }
    }

    fn folder(&self) -> Option<&Folder> {
        self.folder
            .get_or_init(|| {
                let folder = self.from.parent().filter(|_| !self.from.is_detached())?;
                Some(Folder::new(folder.as_str()))
            })
            .as_ref()
    }

    /// What alone decides how `files` are named, when it is the folder of
    /// `from` (`from` is not among them, and has a folder): its text.
    fn folder_naming(&self, files: &[String]) -> Option<&str> {
        if files.iter().any(|file| file == self.from.as_str()) {
            return None;
        }
        self.folder().map(|folder| folder.text.as_str())
    }

    /// How the words name `file` from a finding of `from`: empty for
    /// `from` itself, else its path relative to `from`'s folder
    /// (`rbac.yaml`, `../base/rbac.yaml`); the path as given when no such
    /// path can be made (`from` in no folder, one path absolute and the
    /// other not, or `from`'s folder climbing out of what the two share).
    /// Spelled the same by every front end that names files consistently,
    /// whatever its current folder.
    fn name(&self, file: &str) -> String {
        let mut name = String::new();
        self.name_into(&mut name, file);
        name
    }

    /// Appends [`Namer::name`] of `file` to `out`.
    fn name_into(&self, out: &mut String, file: &str) {
        if self.from.as_str() == file {
            return;
        }
        let Some(folder) = self.folder() else {
            out.push_str(file);
            return;
        };
        if folder.text.starts_with('/') != file.starts_with('/') {
            out.push_str(file);
            return;
        }
        // The segments the two share, then the first of `file`'s own.
        let mut down = Segments { rest: file };
        let mut common = 0;
        let mut first_own = None;
        for segment in down.by_ref() {
            if folder.segment(common) == Some(segment) {
                common += 1;
            } else {
                first_own = Some(segment);
                break;
            }
        }
        // `..` cannot be climbed back.
        if folder.up_to_last_climb > common {
            out.push_str(file);
            return;
        }
        let start = out.len();
        let up = std::iter::repeat_n("..", folder.segments.len() - common);
        for part in up.chain(first_own).chain(down) {
            if out.len() > start {
                out.push('/');
            }
            out.push_str(part);
        }
    }

    /// How this finding's file names each of `files`, as one key: each
    /// name followed by `:`, its length and `;` (read from the end, the
    /// names are told apart whatever they hold).
    fn key(&self, out: &mut String, files: &[String]) {
        use std::fmt::Write;
        out.clear();
        for file in files {
            let start = out.len();
            self.name_into(out, file);
            let len = out.len() - start;
            // (Writing to a String does not fail.)
            let _ = write!(out, ":{len};");
        }
    }
}

/// The places the permissions name: each binding of the checked files, and
/// each role declared there, of the first [`GRANTS_SHOWN`] grants.
fn places(permissions: &Permissions) -> impl Iterator<Item = (&str, TextRange)> {
    // (Only those the words and outputs detail.)
    permissions
        .grants
        .iter()
        .take(GRANTS_SHOWN)
        .flat_map(|grant| {
            let binding = grant
                .binding_place
                .as_ref()
                .map(|(file, range)| (file.as_str(), *range));
            let role = match &grant.role {
                RoleSource::Declared { file, range, .. } => Some((file.as_str(), *range)),
                _ => None,
            };
            binding.into_iter().chain(role)
        })
}

/// The lines of the places findings name (bindings and roles), kept from
/// one analysis to the next: each file is read once, not once per finding
/// or per analysis of every file whose pods it binds (or not at all, when
/// the embedder hands them over with the file's facts: [`Self::prime`]).
/// The host forgets a file's lines whenever it is fed or removed (its
/// places move with its text).
#[derive(Debug, Default)]
pub(super) struct DeclarationLines {
    by_file: Mutex<HashMap<String, HashMap<usize, Option<LineAt>>>>,
    /// What findings' permissions were worked out into with these lines,
    /// by the permissions' address; forgotten with any change of the
    /// lines (the host changes them whenever a file of roles or bindings
    /// is fed, edited or removed, so whenever the RBAC index changes).
    worded: Mutex<HashMap<usize, Worded>>,
}

impl DeclarationLines {
    /// Forgets the lines of `file`.
    pub(super) fn forget(&mut self, file: &str) {
        self.worded.get_mut().clear();
        self.by_file.get_mut().remove(file);
    }

    /// Moves the lines of `file` with an edit of it that replaced `old`
    /// with `by + old.len()` bytes and changed its number of lines by
    /// `lines_by`: a line wholly before the edit (its break too) stays, a
    /// line starting after it moves, any other is forgotten (read again
    /// when asked). What is kept is what reading the edited text gives.
    pub(super) fn shift(&mut self, file: &str, old: TextRange, by: isize, lines_by: isize) {
        self.worded.get_mut().clear();
        let Some(known) = self.by_file.get_mut().get_mut(file) else {
            return;
        };
        let moved = |n: usize, by: isize| n.checked_add_signed(by);
        *known = std::mem::take(known)
            .into_iter()
            .filter_map(|(start, line)| {
                let line = line?;
                if start < old.start && line.line_start + line.line_text.len() < old.start {
                    return Some((start, Some(line)));
                }
                if line.line_start > old.end {
                    let moved_line = LineAt {
                        line: moved(line.line, lines_by)?,
                        line_start: moved(line.line_start, by)?,
                        line_text: line.line_text,
                    };
                    return Some((moved(start, by)?, Some(moved_line)));
                }
                None
            })
            .collect();
    }

    /// Keeps the lines of the places of `file` (by the byte each starts at),
    /// read from its text as it was fed.
    pub(super) fn prime(&mut self, file: &str, lines: Vec<(usize, Option<LineAt>)>) {
        self.worded.get_mut().clear();
        let known = self.by_file.get_mut().entry(file.to_string()).or_default();
        for (start, line) in lines {
            known.entry(start).or_insert(line);
        }
    }

    /// What a finding of the file `namer` names files from, whose pod runs
    /// as the account with `permissions`, gets: worked out once per
    /// account and way of naming the files of its places (`key`: a buffer
    /// for [`Namer::key`]).
    fn memo(
        &self,
        permissions: Arc<Permissions>,
        namer: &Namer,
        key: &mut String,
        lines_of: &impl Fn(&str, &[usize]) -> Option<Vec<Option<LineAt>>>,
        places_in: &impl Fn(&str) -> Vec<usize>,
    ) -> Arc<PermissionMemo> {
        let address = Arc::as_ptr(&permissions) as usize;
        let known = {
            let worded = self.worded.lock();
            match worded
                .get(&address)
                .filter(|worded| Arc::ptr_eq(&worded.permissions, &permissions))
            {
                Some(worded) => {
                    let places = Arc::clone(&worded.places);
                    if let Some(memo) = namer
                        .folder_naming(&places.files)
                        .and_then(|folder| worded.by_folder.get(folder))
                    {
                        return Arc::clone(memo);
                    }
                    Some(places)
                }
                None => None,
            }
        };
        let places = match known {
            Some(places) => places,
            None => {
                // (Without the lock held: the lines of a file may have to
                // be read.)
                let places = Arc::new(self.known_places(&permissions, lines_of, places_in));
                let mut worded = self.worded.lock();
                let worded = worded.entry(address).or_insert_with(|| Worded {
                    permissions: Arc::clone(&permissions),
                    places,
                    memos: HashMap::new(),
                    by_folder: HashMap::new(),
                });
                Arc::clone(&worded.places)
            }
        };
        let folder = namer.folder_naming(&places.files);
        namer.key(key, &places.files);
        let known = self.worded.lock().get_mut(&address).and_then(|worded| {
            let memo = Arc::clone(worded.memos.get(key.as_str())?);
            if let Some(folder) = folder {
                worded
                    .by_folder
                    .insert(folder.to_string(), Arc::clone(&memo));
            }
            Some(memo)
        });
        if let Some(memo) = known {
            return memo;
        }
        let shown: Vec<String> = places.files.iter().map(|file| namer.name(file)).collect();
        let declared_at = places
            .places
            .iter()
            .map(|(file, range, line)| DeclaredAt {
                file: places.files[*file].clone(),
                range: *range,
                shown: shown[*file].clone(),
                line: line.line,
                line_start: line.line_start,
                line_text: line.line_text.clone(),
            })
            .collect();
        let memo = Arc::new(PermissionMemo::new(
            Arc::clone(&permissions),
            &places.words,
            Arc::new(declared_at),
            places.fix_reason.clone(),
        ));
        let mut worded = self.worded.lock();
        let Some(worded) = worded.get_mut(&address) else {
            return memo;
        };
        let memo = Arc::clone(worded.memos.entry(key.clone()).or_insert(memo));
        if let Some(folder) = folder {
            worded
                .by_folder
                .insert(folder.to_string(), Arc::clone(&memo));
        }
        memo
    }

    /// The places `permissions` name whose lines are known.
    fn known_places(
        &self,
        permissions: &Permissions,
        lines_of: &impl Fn(&str, &[usize]) -> Option<Vec<Option<LineAt>>>,
        places_in: &impl Fn(&str) -> Vec<usize>,
    ) -> KnownPlaces {
        let mut files: Vec<String> = Vec::new();
        let mut known = Vec::new();
        for (file, range) in places(permissions) {
            let Some(line) = self.line_of(file, range, lines_of, places_in) else {
                continue;
            };
            let index = match files.iter().position(|f| f == file) {
                Some(index) => index,
                None => {
                    files.push(file.to_string());
                    files.len() - 1
                }
            };
            known.push((index, range, line));
        }
        KnownPlaces {
            files,
            places: known,
            fix_reason: crate::placement::fix_reason(permissions),
            words: AccountWords::of(permissions),
        }
    }

    /// The line `range` of `file` starts on. On a miss the file is read
    /// once (without the lock held) for the lines of all its `places` (the
    /// starts of its bindings' and roles' names), which the next findings
    /// will ask for.
    fn line_of(
        &self,
        file: &str,
        range: TextRange,
        lines_of: &impl Fn(&str, &[usize]) -> Option<Vec<Option<LineAt>>>,
        places: &impl Fn(&str) -> Vec<usize>,
    ) -> Option<LineAt> {
        if let Some(known) = self
            .by_file
            .lock()
            .get(file)
            .and_then(|lines| lines.get(&range.start))
        {
            return known.clone();
        }
        // (Only the places not known yet: after an edit of `file`, those
        // it moved are known.)
        let mut starts = places(file);
        if let Some(known) = self.by_file.lock().get(file) {
            starts.retain(|start| !known.contains_key(start));
        }
        starts.push(range.start);
        let found = lines_of(file, &starts);
        let line_at = |i: usize| {
            found
                .as_ref()
                .and_then(|lines| lines.get(i).cloned().flatten())
        };
        let mut by_file = self.by_file.lock();
        let known = by_file.entry(file.to_string()).or_default();
        for (i, &start) in starts.iter().enumerate() {
            known.entry(start).or_insert_with(|| line_at(i));
        }
        known.get(&range.start).cloned().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::{
        BindingDef, BindingKind, RbacIndex, RbacObjects, RoleDef, RoleKind, RoleRef, Subject,
        SubjectKind,
    };
    use crate::text::LineIndex;

    fn shown(from: &FilePath, file: &str) -> String {
        Namer::new(from).name(file)
    }

    #[test]
    fn files_are_named_relative_to_the_findings_folder() {
        let from = FilePath::new("k8s/app/deploy.yaml");
        assert_eq!(shown(&from, "k8s/app/deploy.yaml"), "");
        assert_eq!(shown(&from, "k8s/app/rbac.yaml"), "rbac.yaml");
        assert_eq!(shown(&from, "k8s/rbac.yaml"), "../rbac.yaml");
        assert_eq!(shown(&from, "base/rbac.yaml"), "../../base/rbac.yaml");
        assert_eq!(shown(&from, "/abs/rbac.yaml"), "/abs/rbac.yaml");
        let absolute = FilePath::new("/w/corpus/a/b.yaml");
        assert_eq!(shown(&absolute, "/w/corpus/c.yaml"), "../c.yaml");
        let relative = FilePath::new("../shared/corpus/a/b.yaml");
        assert_eq!(
            shown(&relative, "../shared/corpus/c.yaml"),
            "../c.yaml",
            "the same words as from the absolute path"
        );
        assert_eq!(
            shown(&FilePath::new("../x/a.yaml"), "b.yaml"),
            "b.yaml",
            "`..` cannot be climbed back"
        );
        assert_eq!(shown(&FilePath::new("a.yaml"), "./b.yaml"), "b.yaml");
        assert_eq!(shown(&FilePath::detached("<stdin>"), "b.yaml"), "b.yaml");
    }

    /// How files were named before [`Namer`] cut the folder once: the
    /// segments of both paths, collected and compared.
    fn shown_by_segments(from: &FilePath, file: &str) -> String {
        if from.as_str() == file {
            return String::new();
        }
        let Some(folder) = from.parent().filter(|_| !from.is_detached()) else {
            return file.to_string();
        };
        let folder = folder.as_str();
        if folder.starts_with('/') != file.starts_with('/') {
            return file.to_string();
        }
        fn segments(path: &str) -> Vec<&str> {
            path.split('/')
                .filter(|s| !s.is_empty() && *s != ".")
                .collect()
        }
        let folder = segments(folder);
        let target = segments(file);
        let common = folder
            .iter()
            .zip(&target)
            .take_while(|(a, b)| a == b)
            .count();
        if folder[common..].contains(&"..") {
            return file.to_string();
        }
        let mut parts: Vec<&str> = vec![".."; folder.len() - common];
        parts.extend_from_slice(&target[common..]);
        parts.join("/")
    }

    #[test]
    fn the_namer_names_files_as_segments_compared_do() {
        // Every path of up to three segments of these, absolute or not,
        // from every such path.
        let parts = ["a", "b", "", ".", "..", "a.yaml"];
        let mut paths = vec![String::new()];
        for _ in 0..3 {
            let longer: Vec<String> = paths
                .iter()
                .flat_map(|p| parts.iter().map(move |s| format!("{p}/{s}")))
                .collect();
            paths.extend(longer);
        }
        let paths: Vec<String> = paths
            .iter()
            .flat_map(|p| [p.clone(), p.trim_start_matches('/').to_string()])
            .filter(|p| !p.is_empty())
            .collect();
        let mut named = 0;
        for from in &paths {
            let from = FilePath::new(from);
            let namer = Namer::new(&from);
            for file in &paths {
                assert_eq!(
                    namer.name(file),
                    shown_by_segments(&from, file),
                    "{file} from {}",
                    from.as_str()
                );
                named += 1;
            }
        }
        let detached = FilePath::detached("<stdin>");
        assert_eq!(Namer::new(&detached).name("a/b.yaml"), "a/b.yaml");
        assert!(named > 10_000, "{named}");
    }

    const RBAC: &str = "kind: ClusterRoleBinding\nmetadata:\n  name: ci-admin\nroleRef:\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n- kind: ServiceAccount\n  name: ci\n  namespace: prod\n";

    fn index() -> RbacIndex {
        let at = |s: &str| {
            let start = RBAC.find(s).unwrap();
            TextRange::new(start, start + s.len())
        };
        let mut index = RbacIndex::new();
        index.set(
            "k8s/rbac.yaml",
            RbacObjects {
                roles: Vec::<RoleDef>::new(),
                bindings: vec![BindingDef {
                    kind: BindingKind::ClusterRoleBinding,
                    name: "ci-admin".to_string(),
                    namespace: None,
                    role_ref: Some(RoleRef {
                        kind: RoleKind::ClusterRole,
                        name: "cluster-admin".to_string(),
                        range: at("cluster-admin"),
                    }),
                    subjects: vec![Subject {
                        kind: SubjectKind::ServiceAccount {
                            name: "ci".to_string(),
                            namespace: Some("prod".to_string()),
                        },
                        range: at("ci\n"),
                    }],
                    name_range: at("ci-admin"),
                }],
            },
        );
        index
    }

    #[test]
    fn a_finding_gets_its_accounts_permissions_and_the_line_of_the_binding() {
        let text = "kind: Pod\nmetadata:\n  name: web\n  namespace: prod\nspec:\n  serviceAccountName: ci\n  containers: []\n";
        let findings = crate::analyze(text, &crate::NoAccounts, crate::Options::builtin());
        let index = index();
        let path = FilePath::new("k8s/app/pod.yaml");
        let reads = std::cell::Cell::new(0);
        let text_of = |file: &str, offsets: &[usize]| {
            reads.set(reads.get() + 1);
            (file == "k8s/rbac.yaml").then(|| super::super::lines::lines_in(RBAC, offsets))
        };
        let twice = [findings.clone(), findings].concat();
        let lines = DeclarationLines::default();
        let places = |file: &str| {
            assert_eq!(file, "k8s/rbac.yaml");
            vec![RBAC.find("ci-admin").unwrap()]
        };
        let shared = |ns: Option<&str>, a: &str| index.shared_permissions(ns, a);
        let attached = attach(&path, twice, shared, &lines, text_of, places);
        assert_eq!(reads.get(), 1, "each file is read once");
        let again = attach(&path, attached.clone(), shared, &lines, text_of, places);
        assert_eq!(reads.get(), 1, "and not again for the next analysis");
        assert_eq!(again, attached);
        assert!(
            Arc::ptr_eq(
                attached[0].permissions.as_ref().unwrap(),
                attached[1].permissions.as_ref().unwrap()
            ),
            "pods of one account share its answer"
        );
        let finding = &attached[0];
        let permissions = finding.permissions.as_ref().unwrap();
        assert_eq!(permissions.account, "ci");
        assert_eq!(finding.risk(), Some("cluster-admin"));
        assert_eq!(finding.declared_at.len(), 1);
        let at = &finding.declared_at[0];
        assert_eq!(
            (at.label(), at.columns()),
            ("../rbac.yaml:3".to_string(), (8, 8))
        );
        assert!(
            finding.message.ends_with(
                "ServiceAccount \"ci\" (namespace \"prod\") is bound to the built-in ClusterRole \
                 \"cluster-admin\" by ClusterRoleBinding \"ci-admin\" (../rbac.yaml:3): whoever \
                 takes over this pod controls the cluster."
            ),
            "{}",
            finding.message
        );
        assert_eq!(finding.related.len(), 1);
        assert_eq!(finding.related[0].file.as_deref(), Some("k8s/rbac.yaml"));
    }

    #[test]
    fn lines_moved_with_an_edit_are_the_lines_read_again() {
        // Every edit at every place of a text of mixed line breaks: each
        // line kept is the line read from the edited text.
        let text = "a: b\nkind: Role\r\n  name: x\rname: y\n\n  name: z\r\nend";
        let starts: Vec<usize> = (0..=text.len()).collect();
        let all = super::super::lines::lines_in(text, &starts);
        let mut kept_some = 0;
        for insert in ["", " ", "\n", "\r", "\r\n", "x\ny"] {
            for start in 0..=text.len() {
                for len in 0..3 {
                    let end = (start + len).min(text.len());
                    if len > 0 && end == start {
                        continue;
                    }
                    let mut edited = text.to_string();
                    edited.replace_range(start..end, insert);
                    let mut lines = DeclarationLines::default();
                    lines.prime("f", starts.iter().copied().zip(all.clone()).collect());
                    let old = TextRange::new(start, end);
                    let by = insert.len() as isize - old.len() as isize;
                    let lines_by = LineIndex::new(&edited).line_count() as isize
                        - LineIndex::new(text).line_count() as isize;
                    lines.shift("f", old, by, lines_by);
                    let kept = lines.by_file.get_mut().remove("f").unwrap_or_default();
                    for (at, line) in kept {
                        let again = super::super::lines::lines_in(&edited, &[at]);
                        assert_eq!(
                            line, again[0],
                            "{start}..{end} -> {insert:?}: the line of {at}"
                        );
                        kept_some += 1;
                    }
                }
            }
        }
        assert!(kept_some > 1000, "{kept_some}");
    }

    #[test]
    fn an_account_the_template_computes_gets_nothing() {
        let text = "kind: Pod\nspec:\n  containers: []\n";
        let mut findings = crate::analyze(text, &crate::NoAccounts, crate::Options::builtin());
        findings[0].runs_as = None;
        let index = index();
        let attached = attach(
            &FilePath::new("pod.yaml"),
            findings,
            |ns, a| index.shared_permissions(ns, a),
            &DeclarationLines::default(),
            |_, _| None,
            |_| Vec::new(),
        );
        assert_eq!(attached[0].permissions, None);
        assert!(!attached[0].message.contains("discovery"));
    }
}
