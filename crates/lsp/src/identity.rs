//! Document identity: which URIs (and paths) name the same file.
//!
//! Clients spell one file's URI in several ways: VS Code sends
//! `file:///c%3A/Users/x/a.yaml`, Neovim `file:///C:/Users/x/a.yaml`, and
//! `Uri::from_file_path` builds `file:///C%3A/Users/x/a.yaml`. Every map the
//! server keeps is keyed by a [`DocumentKey`], which sees through those
//! differences:
//!
//! * a `file:` URI is decoded to its path (all percent-encoding, so `%3A`
//!   and `:`, `%7E` and `~`, `%c3%a9` and `%C3%A9` are one), which is then
//!   re-encoded one way only: unreserved characters and `/` as they are,
//!   every other byte as `%XX` (upper-case hex), which is what
//!   `Uri::from_file_path` builds. `file://localhost/p` is `file:///p`.
//! * On Windows, `\` is a separator like `/`, the drive letter is upper
//!   case (`c:` is `C:`), a UNC path is `file://server/share/...` whether
//!   it came as that or as `file:////server/share/...`, and a verbatim path
//!   (`\\?\C:\...`, `\\?\UNC\server\...`) is its plain form.
//! * Case: two spellings that differ only in letter case name one file
//!   where the file system ignores case. On Windows (NTFS) it always does.
//!   On macOS the default file system (APFS, case-insensitive variant) does
//!   too, and that is what is assumed: a case-sensitive APFS volume is
//!   rare, and on it two files whose names differ only in case would be
//!   taken for one. Elsewhere (Linux) case matters. Letters are compared by
//!   their simple (one-character) upper-case mapping, as NTFS does. Unicode
//!   normalisation (NFC against NFD, which APFS also ignores) is not
//!   applied.
//! * Host names (UNC servers) ignore case everywhere.
//! * Dot segments (`/./`, `/../`) are left as they are: clients do not send
//!   them, and files named through them are not read from disk (see
//!   `workspace::within`).
//!
//! Any other URI (`untitled:`, a `file:` URI with a query or a fragment or
//! a port) keeps its string as its identity.
//!
//! The platform is a parameter ([`Platform`]), so that Windows and macOS
//! behaviour is tested on any machine; the server uses
//! [`Platform::CURRENT`].
//!
//! A key also has a canonical URI (the re-encoded spelling above, letter
//! case kept as given): the name under which the server hands the file to
//! the analysis crate. What the client is sent for an open document is the
//! URI it opened the document with, kept by the server with the document.
//!
//! That canonical URI is also the one way tokenguard writes a path as a
//! `file:` URI ([`file_uri`]): the command line's SARIF output uses it for
//! files outside the checkout.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tower_lsp_server::ls_types::Uri;

/// How the file system of a platform names files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    /// Linux and other Unix: paths are bytes, case matters.
    Posix,
    /// macOS: like Posix, but case is ignored (the default APFS).
    MacOs,
    /// Windows: drive letters, UNC paths, `\`, case ignored.
    Windows,
}

impl Platform {
    /// The platform the server runs on.
    pub const CURRENT: Platform = if cfg!(windows) {
        Platform::Windows
    } else if cfg!(target_os = "macos") {
        Platform::MacOs
    } else {
        Platform::Posix
    };

    /// Whether two names differing only in letter case name one file.
    pub fn ignores_case(self) -> bool {
        !matches!(self, Platform::Posix)
    }
}

/// The identity of a document: equal for every spelling of one file's URI.
/// Cheap to clone.
#[derive(Clone, Debug)]
pub struct DocumentKey(Arc<Identity>);

#[derive(Debug)]
struct Identity {
    platform: Platform,
    /// The canonical URI (or the URI itself when it is not a file's).
    uri: Uri,
    /// What is compared and hashed: the canonical URI, case-folded where
    /// the platform ignores case.
    id: String,
    file: Option<FileName>,
}

/// A `file:` URI, decoded.
#[derive(Clone, Debug)]
struct FileName {
    /// Empty for a local file; the server of a UNC path (lower case).
    host: String,
    /// The decoded path: starts with `/`; on Windows `/` separated, with an
    /// upper-case drive letter (`/C:/Users/...`).
    path: Vec<u8>,
}

impl PartialEq for DocumentKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for DocumentKey {}

impl Hash for DocumentKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.id.hash(state);
    }
}

impl DocumentKey {
    /// The key of a URI a client sent, on this platform.
    pub fn new(uri: &Uri) -> Self {
        Self::on(Platform::CURRENT, uri)
    }

    /// The key of a URI on `platform`.
    pub fn on(platform: Platform, uri: &Uri) -> Self {
        parse_file_uri(uri.as_str())
            .and_then(|(host, path)| file_key(platform, host, path))
            .unwrap_or_else(|| {
                DocumentKey(Arc::new(Identity {
                    platform,
                    uri: uri.clone(),
                    id: uri.as_str().to_string(),
                    file: None,
                }))
            })
    }

    /// The key of a URI string (a file name the server gave the analysis
    /// crate); `None` when it is not a URI.
    pub fn parse(uri: &str) -> Option<Self> {
        uri.parse::<Uri>().ok().map(|uri| Self::new(&uri))
    }

    /// The key of an absolute path on this platform; `None` for a relative
    /// path.
    pub fn from_path(path: &Path) -> Option<Self> {
        Self::from_path_on(Platform::CURRENT, &path_bytes(path))
    }

    /// The key of an absolute path (as bytes, `\` or `/` separated on
    /// Windows) on `platform`.
    pub fn from_path_on(platform: Platform, path: &[u8]) -> Option<Self> {
        let (host, path) = match platform {
            Platform::Windows => {
                let path: Vec<u8> = path
                    .iter()
                    .map(|&b| if b == b'\\' { b'/' } else { b })
                    .collect();
                let path = if let Some(rest) = path.strip_prefix(b"//?/UNC/") {
                    [b"//".as_slice(), rest].concat()
                } else if let Some(rest) = path.strip_prefix(b"//?/") {
                    rest.to_vec()
                } else {
                    path
                };
                if path.starts_with(b"//") {
                    // UNC: `file_key` takes the server out of the path.
                    (String::new(), path)
                } else if is_drive(&path) {
                    (String::new(), [b"/".as_slice(), &path].concat())
                } else {
                    return None;
                }
            }
            Platform::Posix | Platform::MacOs => {
                if !path.starts_with(b"/") {
                    return None;
                }
                (String::new(), path.to_vec())
            }
        };
        file_key(platform, host, path)
    }

    /// Whether the URI string `name` is a spelling of this file's URI.
    pub fn is_named(&self, name: &str) -> bool {
        name.parse::<Uri>()
            .is_ok_and(|uri| DocumentKey::on(self.0.platform, &uri) == *self)
    }

    /// Whether the absolute path `path` (as the analysis host names files)
    /// is this file, compared as this key's platform compares names.
    pub fn names_path(&self, path: &str) -> bool {
        DocumentKey::from_path_on(self.0.platform, path.as_bytes()).is_some_and(|k| k == *self)
    }

    /// The canonical URI: how the server names the file to the analysis
    /// crate, and to the client when the file is not open.
    pub fn uri(&self) -> &Uri {
        &self.0.uri
    }

    /// The canonical URI's text.
    pub fn as_str(&self) -> &str {
        self.0.uri.as_str()
    }

    /// The file's path on this platform; `None` for a URI that is not a
    /// local file's (`untitled:`, a UNC host off Windows).
    pub fn to_path(&self) -> Option<PathBuf> {
        let file = self.0.file.as_ref()?;
        match self.0.platform {
            Platform::Windows => self.path_string().map(PathBuf::from),
            Platform::Posix | Platform::MacOs => {
                if !file.host.is_empty() {
                    return None;
                }
                Some(path_from_bytes(&file.path))
            }
        }
    }

    /// The file's path as its platform writes it (`C:\Users\a.yaml`,
    /// `\\server\share\a.yaml`, `/home/a.yaml`); not-UTF-8 bytes are
    /// replaced.
    pub fn path_string(&self) -> Option<String> {
        let file = self.0.file.as_ref()?;
        let path = String::from_utf8_lossy(&file.path);
        match self.0.platform {
            Platform::Windows => {
                let native = if !file.host.is_empty() {
                    format!("//{}{path}", file.host)
                } else if is_drive(&file.path[1..]) {
                    let drive = &path[1..];
                    // `C:` alone is the drive's current folder; the URI
                    // means its root.
                    if drive.len() == 2 {
                        format!("{drive}/")
                    } else {
                        drive.to_string()
                    }
                } else {
                    path.into_owned()
                };
                Some(native.replace('/', "\\"))
            }
            Platform::Posix | Platform::MacOs => file.host.is_empty().then(|| path.into_owned()),
        }
    }

    /// Where this file is below the folder `root`, as `/`-separated
    /// segments (empty for the folder itself); `None` when it is not below
    /// it. Segments are compared as file names are on the platform.
    pub fn relative_to(&self, root: &DocumentKey) -> Option<String> {
        let (file, folder) = (self.0.file.as_ref()?, root.0.file.as_ref()?);
        if self.0.platform != root.0.platform || file.host != folder.host {
            return None;
        }
        let segments = |p: &[u8]| -> Vec<Vec<u8>> {
            p.split(|&b| b == b'/')
                .filter(|s| !s.is_empty())
                .map(<[u8]>::to_vec)
                .collect()
        };
        let (below, above) = (segments(&file.path), segments(&folder.path));
        if below.len() < above.len() {
            return None;
        }
        let ignores_case = self.0.platform.ignores_case();
        let same = |a: &[u8], b: &[u8]| {
            if ignores_case {
                fold(a) == fold(b)
            } else {
                a == b
            }
        };
        if !above.iter().zip(&below).all(|(a, b)| same(a, b)) {
            return None;
        }
        let rest: Vec<Cow<'_, str>> = below[above.len()..]
            .iter()
            .map(|s| String::from_utf8_lossy(s))
            .collect();
        Some(rest.join("/"))
    }
}

/// `path` relative to the folder `root`, on this platform: like
/// `Path::strip_prefix`, but ignoring letter case (and drive-letter and
/// separator spelling) where the file system does.
pub fn strip_root(root: &Path, path: &Path) -> Option<PathBuf> {
    if !Platform::CURRENT.ignores_case() {
        return path.strip_prefix(root).ok().map(Path::to_path_buf);
    }
    let relative = DocumentKey::from_path(path)?.relative_to(&DocumentKey::from_path(root)?)?;
    Some(PathBuf::from(relative))
}

/// Whether `path` is `root` or below it (see [`strip_root`]).
pub fn is_within(root: &Path, path: &Path) -> bool {
    strip_root(root, path).is_some()
}

/// The host and decoded path of a `file:` URI; `None` for any other URI,
/// and for a `file:` URI with user, port, query or fragment (kept whole).
fn parse_file_uri(uri: &str) -> Option<(String, Vec<u8>)> {
    let (scheme, rest) = uri.split_once(':')?;
    if !scheme.eq_ignore_ascii_case("file") || rest.contains(['?', '#']) {
        return None;
    }
    let (authority, path) = match rest.strip_prefix("//") {
        Some(rest) => rest.split_at(rest.find('/').unwrap_or(rest.len())),
        None => ("", rest),
    };
    if authority.contains('@') {
        return None;
    }
    let host = String::from_utf8(decode(authority)).ok()?;
    Some((host, decode(path)))
}

/// The key of a file, canonicalised for `platform`; `None` when the result
/// is not a URI (it always is, for a path).
fn file_key(platform: Platform, host: String, path: Vec<u8>) -> Option<DocumentKey> {
    let mut host = host.to_ascii_lowercase();
    let mut path = path;
    if platform == Platform::Windows {
        for b in &mut path {
            if *b == b'\\' {
                *b = b'/';
            }
        }
        if is_drive(host.as_bytes()) {
            // `file://C:/x`: a drive where the host should be.
            path = [b"/", host.as_bytes(), path.as_slice()].concat();
            host.clear();
        } else if host.is_empty() && path.starts_with(b"//") {
            // `file:////server/share/x`.
            let server_end = path[2..]
                .iter()
                .position(|&b| b == b'/')
                .map_or(path.len(), |i| i + 2);
            host = String::from_utf8_lossy(&path[2..server_end]).to_ascii_lowercase();
            path = path[server_end..].to_vec();
        }
        if path.len() >= 3 && path[0] == b'/' && is_drive(&path[1..]) {
            path[1] = path[1].to_ascii_uppercase();
        }
    }
    if host == "localhost" {
        host.clear();
    }
    if host.contains(':') || !path.starts_with(b"/") {
        // A port, or a path that is no file's.
        return None;
    }
    let mut canonical = String::from("file://");
    encode(host.as_bytes(), false, &mut canonical);
    let authority_end = canonical.len();
    encode(&path, true, &mut canonical);
    let id = if platform.ignores_case() {
        let mut id = canonical[..authority_end].to_string();
        encode(&fold(&path), true, &mut id);
        id
    } else {
        canonical.clone()
    };
    let uri = canonical.parse::<Uri>().ok()?;
    Some(DocumentKey(Arc::new(Identity {
        platform,
        uri,
        id,
        file: Some(FileName { host, path }),
    })))
}

/// The `file:` URI of an absolute path on `platform` (its bytes, `\` or
/// `/` separated on Windows): the one way tokenguard writes a path as a file
/// URI, for the server's documents and for SARIF alike. It is the URI of the
/// path's [`DocumentKey`]: decoded names re-encoded one way (unreserved
/// characters and `/` as they are, every other byte as `%XX`), a Windows
/// drive letter in upper case, a UNC share as `file://server/share/...`.
/// `None` for a relative path.
pub fn file_uri_on(platform: Platform, path: &[u8]) -> Option<String> {
    DocumentKey::from_path_on(platform, path).map(|key| key.uri().as_str().to_string())
}

/// [`file_uri_on`] for a path of the platform tokenguard runs on.
pub fn file_uri(path: &Path) -> Option<String> {
    file_uri_on(Platform::CURRENT, &path_bytes(path))
}

/// `C:` or `c:` followed by nothing or a separator.
fn is_drive(path: &[u8]) -> bool {
    path.len() >= 2
        && path[0].is_ascii_alphabetic()
        && path[1] == b':'
        && (path.len() == 2 || path[2] == b'/' || path[2] == b'\\')
}

/// Letter case folded away: each character replaced by its upper case when
/// that is one character (NTFS's rule). Bytes that are not UTF-8 fold only
/// their ASCII letters.
fn fold(name: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(name) {
        Ok(text) => text
            .chars()
            .map(|c| {
                let mut upper = c.to_uppercase();
                match (upper.next(), upper.next()) {
                    (Some(u), None) => u,
                    _ => c,
                }
            })
            .collect::<String>()
            .into_bytes(),
        Err(_) => name.to_ascii_uppercase(),
    }
}

/// Percent-decoding; a `%` not followed by two hex digits stays as it is.
fn decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Percent-encoding of every byte but the unreserved ones (and `/` in a
/// path), with upper-case hex.
fn encode(bytes: &[u8], path: bool, out: &mut String) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (path && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[cfg(unix)]
fn path_bytes(path: &Path) -> Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    Cow::Borrowed(path.as_os_str().as_bytes())
}

#[cfg(not(unix))]
fn path_bytes(path: &Path) -> Cow<'_, [u8]> {
    match path.to_string_lossy() {
        Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
        Cow::Owned(s) => Cow::Owned(s.into_bytes()),
    }
}

#[cfg(unix)]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Platform::{MacOs, Posix, Windows};

    fn key(platform: Platform, uri: &str) -> DocumentKey {
        DocumentKey::on(platform, &uri.parse().expect("a URI"))
    }

    fn path_key(platform: Platform, path: &str) -> DocumentKey {
        DocumentKey::from_path_on(platform, path.as_bytes()).expect("an absolute path")
    }

    /// Every spelling names one file, with one canonical URI.
    fn all_one(platform: Platform, spellings: &[&str], canonical: &str) -> DocumentKey {
        let first = key(platform, spellings[0]);
        for spelling in spellings {
            let other = key(platform, spelling);
            assert_eq!(other, first, "{spelling} on {platform:?}");
            assert_eq!(other.as_str(), canonical, "{spelling} on {platform:?}");
        }
        first
    }

    #[test]
    fn windows_drive_letters_and_encoded_colons_are_one_file() {
        let vscode = "file:///c%3A/Users/A/x.yaml";
        let neovim = "file:///C:/Users/A/x.yaml";
        let others = ["file:///c:/Users/A/x.yaml", "file:///C%3a/Users/A/x.yaml"];
        // `Uri::from_file_path` of `C:\Users\A\x.yaml` on Windows builds
        // `file:///C%3A/Users/A/x.yaml` (upper-case drive, `:` encoded).
        let canonical = "file:///C%3A/Users/A/x.yaml";
        let spellings = [&[vscode, neovim, canonical][..], &others[..]].concat();
        let key = all_one(Windows, &spellings, canonical);
        assert_eq!(key, path_key(Windows, r"C:\Users\A\x.yaml"));
        assert_eq!(key, path_key(Windows, r"c:/Users/A/x.yaml"));
        assert_eq!(key, path_key(Windows, r"\\?\C:\Users\A\x.yaml"));
        assert_eq!(path_key(Windows, r"c:\Users\A\x.yaml").as_str(), canonical);
        assert_eq!(key.path_string().unwrap(), r"C:\Users\A\x.yaml");
        // A drive where the host should be.
        assert_eq!(key, self::key(Windows, "file://c:/Users/A/x.yaml"));
        // The root of a drive is its root, not its current folder.
        assert_eq!(
            self::key(Windows, "file:///c%3A").path_string().unwrap(),
            r"C:\"
        );
        // Off Windows, `%3A` is still `:`, but a `c:` folder is not `C:`.
        assert_eq!(
            key_of(Posix, vscode),
            key_of(Posix, "file:///c:/Users/A/x.yaml")
        );
        assert_ne!(key_of(Posix, vscode), key_of(Posix, neovim));
    }

    fn key_of(platform: Platform, uri: &str) -> DocumentKey {
        key(platform, uri)
    }

    #[test]
    fn letter_case_counts_only_where_the_file_system_minds_it() {
        let (upper, lower) = ("file:///C:/Users/A/Sa.YAML", "file:///c:/users/a/sa.yaml");
        assert_eq!(key(Windows, upper), key(Windows, lower));
        assert_eq!(
            key(Windows, upper).as_str(),
            "file:///C%3A/Users/A/Sa.YAML",
            "the canonical spelling keeps the case it was given"
        );
        let (upper, lower) = ("file:///Users/A/Sa.YAML", "file:///users/a/sa.yaml");
        assert_eq!(key(MacOs, upper), key(MacOs, lower));
        assert_ne!(key(Posix, upper), key(Posix, lower));
        // Letters beyond ASCII, encoded in either hex case.
        let accented = "file:///home/%C3%A9quipe/x.yaml"; // équipe
        let capital = "file:///home/%c3%89quipe/x.yaml"; // Équipe
        assert_eq!(key(Windows, accented), key(Windows, capital));
        assert_eq!(key(MacOs, accented), key(MacOs, capital));
        assert_ne!(key(Posix, accented), key(Posix, capital));
        // Letters without a one-letter upper case stay themselves.
        assert_ne!(
            key(Windows, "file:///C:/stra%C3%9Fe.yaml"), // straße
            key(Windows, "file:///C:/strasse.yaml")
        );
    }

    #[test]
    fn unc_paths_name_the_server_whatever_the_spelling() {
        let key = all_one(
            Windows,
            &[
                "file://server/share/x.yaml",
                "file://SERVER/share/x.yaml",
                "file:////server/share/x.yaml",
                "file:////Server/share/x%2Eyaml",
            ],
            "file://server/share/x.yaml",
        );
        assert_eq!(key, path_key(Windows, r"\\server\share\x.yaml"));
        assert_eq!(key, path_key(Windows, r"\\?\UNC\server\share\x.yaml"));
        assert_eq!(key, self::key(Windows, "file://server/Share/X.yaml"));
        assert_eq!(key.path_string().unwrap(), r"\\server\share\x.yaml");
        assert_ne!(key, self::key(Windows, "file:///share/x.yaml"));
        assert_ne!(key, self::key(Windows, "file://other/share/x.yaml"));
        // Off Windows a host is no local file.
        let remote = self::key(Posix, "file://server/share/x.yaml");
        assert_eq!(remote.to_path(), None);
        assert_ne!(remote, self::key(Posix, "file:///share/x.yaml"));
    }

    #[test]
    fn percent_encoding_is_decoded_then_written_one_way() {
        for platform in [Posix, MacOs, Windows] {
            let root = if platform == Windows { "/C:" } else { "" };
            let spellings: Vec<String> = [
                "/tmp/a%20b/%C3%A9t%C3%A9.yaml",
                "/tmp/a%20b/%c3%a9t%c3%a9.yaml",
                "/tmp/a%20b/%C3%A9t%c3%A9%2Eyaml",
                "/tmp/%61%20b/%C3%A9t%C3%A9.yaml",
            ]
            .iter()
            .map(|p| format!("file://{root}{p}"))
            .collect();
            let spellings: Vec<&str> = spellings.iter().map(String::as_str).collect();
            let canonical = if platform == Windows {
                "file:///C%3A/tmp/a%20b/%C3%A9t%C3%A9.yaml"
            } else {
                "file:///tmp/a%20b/%C3%A9t%C3%A9.yaml"
            };
            all_one(platform, &spellings, canonical);
        }
        let key = key(Posix, "file:///tmp/a%20b/%C3%A9t%C3%A9.yaml");
        assert_eq!(key, path_key(Posix, "/tmp/a b/été.yaml"));
        assert_eq!(key.path_string().unwrap(), "/tmp/a b/été.yaml");
        // Reserved characters a client may or may not encode, unreserved
        // ones it should not (but may).
        all_one(
            Posix,
            &[
                "file:///tmp/team+ops/~me/a-b.yaml",
                "file:///tmp/team%2Bops/%7Eme/a%2Db.yaml",
                "file://localhost/tmp/team%2bops/%7eme/a-b.yaml",
            ],
            "file:///tmp/team%2Bops/~me/a-b.yaml",
        );
    }

    #[test]
    fn the_canonical_uri_is_what_the_uri_library_builds_for_the_path() {
        // On this machine's platform, for paths the library can convert.
        let paths: &[&str] = if cfg!(windows) {
            &[r"C:\Users\A\x.yaml", r"C:\a b\été [1].yaml"]
        } else {
            &["/tmp/x.yaml", "/tmp/a b/été [1]+x:y.yaml"]
        };
        for path in paths {
            let built = Uri::from_file_path(path).unwrap();
            let key = DocumentKey::from_path(Path::new(path)).unwrap();
            assert_eq!(key.as_str(), built.as_str());
            assert_eq!(key, DocumentKey::new(&built));
            assert_eq!(key.to_path().unwrap(), Path::new(path));
        }
    }

    #[cfg(unix)]
    #[test]
    fn paths_that_are_not_utf8_keep_their_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let key = key(Platform::CURRENT, "file:///tmp/caf%E9.yaml");
        let path = key.to_path().unwrap();
        assert_eq!(path.as_os_str().as_bytes(), b"/tmp/caf\xe9.yaml");
        assert_eq!(DocumentKey::from_path(&path).unwrap(), key);
        assert_eq!(key.as_str(), "file:///tmp/caf%E9.yaml");
        assert_ne!(
            key,
            self::key(Platform::CURRENT, "file:///tmp/caf%C3%A9.yaml")
        );
    }

    #[test]
    fn other_uris_keep_their_string() {
        for uri in [
            "untitled:Untitled-1",
            "file:///tmp/x.yaml?query",
            "file:///tmp/x.yaml#L3",
            "file://user@host/x.yaml",
            "file://host:8080/x.yaml",
        ] {
            let key = key(Windows, uri);
            assert_eq!(key.as_str(), uri);
            assert_eq!(key.to_path(), None);
            assert_eq!(key.relative_to(&self::key(Windows, "file:///")), None);
        }
        assert_ne!(
            key(Posix, "untitled:Untitled-1"),
            key(Posix, "untitled:untitled-1")
        );
        assert_ne!(
            key(Posix, "untitled:/tmp/x.yaml"),
            key(Posix, "file:///tmp/x.yaml")
        );
        assert!(DocumentKey::parse("not a uri").is_none());
        let key = key(Windows, "file:///c:/Users/A/x.yaml");
        assert!(key.is_named("file:///C%3A/users/a/X.yaml"));
        assert!(!key.is_named("file:///C%3A/users/a/y.yaml"));
        assert!(!key.is_named("not a uri"));
        assert!(DocumentKey::from_path_on(Posix, b"relative/x.yaml").is_none());
        assert!(DocumentKey::from_path_on(Windows, br"relative\x.yaml").is_none());
    }

    #[test]
    fn folders_contain_what_is_below_them_as_the_platform_compares_names() {
        let file = key(Windows, "file:///c%3A/Users/A/ws/k8s/x.yaml");
        for root in [
            "file:///C:/Users/A/ws",
            "file:///C:/users/a/WS/",
            "file:///c%3a/Users/A/ws",
        ] {
            assert_eq!(
                file.relative_to(&key(Windows, root)).as_deref(),
                Some("k8s/x.yaml"),
                "{root}"
            );
        }
        assert_eq!(
            file.relative_to(&path_key(Windows, r"c:\users\a\ws\k8s\x.yaml"))
                .as_deref(),
            Some("")
        );
        let sibling = key(Windows, "file:///C:/Users/A/ws2/x.yaml");
        assert_eq!(
            sibling.relative_to(&key(Windows, "file:///C:/Users/A/ws")),
            None
        );
        assert_eq!(
            file.relative_to(&key(Windows, "file:///D:/Users/A/ws")),
            None
        );
        assert_eq!(
            key(Windows, "file://server/share/ws/x.yaml")
                .relative_to(&path_key(Windows, r"\\SERVER\Share"))
                .as_deref(),
            Some("ws/x.yaml")
        );
        assert_eq!(
            key(Windows, "file://server/share/x.yaml").relative_to(&key(Windows, "file:///share")),
            None
        );

        let mac = key(MacOs, "file:///Users/A/WS/k8s/x.yaml");
        assert_eq!(
            mac.relative_to(&key(MacOs, "file:///Users/a/ws"))
                .as_deref(),
            Some("k8s/x.yaml")
        );
        let linux = key(Posix, "file:///home/a/WS/k8s/x.yaml");
        assert_eq!(linux.relative_to(&key(Posix, "file:///home/a/ws")), None);
        assert_eq!(
            linux
                .relative_to(&key(Posix, "file:///home/a/WS/"))
                .as_deref(),
            Some("k8s/x.yaml")
        );
    }

    #[test]
    fn strip_root_is_strip_prefix_on_this_platform() {
        let root = if cfg!(windows) {
            Path::new(r"C:\ws")
        } else {
            Path::new("/ws")
        };
        let inside = root.join("k8s").join("x.yaml");
        assert_eq!(
            strip_root(root, &inside).unwrap(),
            Path::new("k8s").join("x.yaml")
        );
        assert!(is_within(root, root));
        assert!(!is_within(
            &root.join("k8s"),
            &root.join("k8s2").join("x.yaml")
        ));
        let upper = PathBuf::from(inside.to_string_lossy().to_uppercase());
        assert_eq!(is_within(root, &upper), Platform::CURRENT.ignores_case());
    }
}
