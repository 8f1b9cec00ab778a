//! Files for the server to find: `write`, a temporary workspace [`Dir`],
//! and `file://` URIs spelled as editors spell them.

use std::path::{Path, PathBuf};

/// Writes `text` to `path`, creating its folders; a failure fails the test.
pub fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// A `file://` URI for a path, percent-encoding like editors do.
pub fn file_uri(path: &Path) -> String {
    let path = path.to_str().expect("UTF-8 path");
    // Windows: `C:\dir\x.yaml` is `file:///C%3A/dir/x.yaml`, as VS Code
    // spells it (the server takes any spelling of the same file).
    let path = if cfg!(windows) {
        format!("/{}", path.replace('\\', "/"))
    } else {
        path.to_string()
    };
    let mut uri = String::from("file://");
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// A URI string as `ls_types` types it, for typed requests.
pub fn lsp_uri(uri: &str) -> ls_types::Uri {
    uri.parse()
        .unwrap_or_else(|e| panic!("{uri:?} is not a URI: {e:?}"))
}

/// A document and a position in it, for typed requests.
pub fn at(uri: &str, line: u32, character: u32) -> ls_types::TextDocumentPositionParams {
    ls_types::TextDocumentPositionParams {
        text_document: ls_types::TextDocumentIdentifier { uri: lsp_uri(uri) },
        position: ls_types::Position { line, character },
    }
}

/// A temporary workspace folder, removed when dropped. Paths given to its
/// methods are relative to it, `/`-separated.
pub struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    /// A new, empty folder.
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    /// The folder itself.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the folder.
    pub fn join(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Writes a file inside the folder (creating its folders); returns its path.
    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.join(relative);
        write(&path, text);
        path
    }

    /// The `file://` URI of a path inside the folder.
    pub fn uri(&self, relative: &str) -> String {
        file_uri(&self.join(relative))
    }
}

impl Default for Dir {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_percent_encode_like_editors() {
        assert_eq!(
            file_uri(Path::new("/a b/équipe+ops/x.yaml")),
            "file:///a%20b/%C3%A9quipe%2Bops/x.yaml"
        );
    }

    #[test]
    fn a_dir_writes_into_new_folders() {
        let dir = Dir::new();
        let path = dir.write("a/b/c.yaml", "x: 1\n");
        assert_eq!(std::fs::read_to_string(path).unwrap(), "x: 1\n");
        assert!(dir.uri("a/b/c.yaml").ends_with("/a/b/c.yaml"));
    }
}
