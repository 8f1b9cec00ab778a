//! Reading inputs into text: size limit, UTF-8, standard input.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::atomic::describe;
use crate::walk::STDIN_DISPLAY;

/// A file's text as read, before any fix.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// How the file is named in output, and its key in the ServiceAccount index.
    pub display: String,
    /// `None` for standard input.
    pub path: Option<PathBuf>,
    pub text: String,
}

#[derive(Clone, Debug)]
pub enum Outcome {
    Loaded(SourceFile),
    /// Not checked, and not an error (a walked file over the size limit).
    Skipped(String),
    Failed(String),
}

pub fn load_file(path: &Path, display: &str, explicit: bool, max_size: u64) -> Outcome {
    let mut bytes = Vec::new();
    if let Err(outcome) = read_file(path, display, explicit, max_size, &mut bytes) {
        return outcome;
    }
    match decode(display, bytes) {
        Ok(text) => Outcome::Loaded(SourceFile {
            display: display.to_string(),
            path: Some(path.to_path_buf()),
            text,
        }),
        Err(message) => Outcome::Failed(message),
    }
}

/// [`load_file`] into `buffer` (what it held is replaced; its room is
/// reused, so reading many files does not map and fault in fresh memory for
/// each): the text borrowed from the buffer, or what [`load_file`] would
/// have said.
pub fn load_into<'b>(
    path: &Path,
    display: &str,
    explicit: bool,
    max_size: u64,
    buffer: &'b mut Vec<u8>,
) -> Result<&'b str, Outcome> {
    read_file(path, display, explicit, max_size, buffer)?;
    decode_borrowed(display, buffer).map_err(Outcome::Failed)
}

/// The bytes of the file at `path` into `bytes`, within the size limit.
fn read_file(
    path: &Path,
    display: &str,
    explicit: bool,
    max_size: u64,
    bytes: &mut Vec<u8>,
) -> Result<(), Outcome> {
    let too_big = |size: String| {
        let message = format!(
            "{display}: {size} bytes is over the --max-file-size limit of {max_size} bytes"
        );
        if explicit {
            Outcome::Failed(message)
        } else {
            Outcome::Skipped(format!("{message}; skipped"))
        }
    };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) => return Err(Outcome::Failed(format!("{display}: {}", describe(&e)))),
    };
    // The size on disk is known up front for regular files; pipes and files
    // growing under us are caught by reading at most one byte past the limit.
    let mut size = 0;
    if let Ok(meta) = file.metadata() {
        if meta.is_file() && meta.len() > max_size {
            return Err(too_big(meta.len().to_string()));
        }
        size = meta.len();
    }
    match read_limited(file, max_size, size, bytes) {
        Ok(true) => Ok(()),
        Ok(false) => Err(too_big(format!("more than {max_size}"))),
        Err(e) => Err(Outcome::Failed(format!("{display}: {}", describe(&e)))),
    }
}

pub fn load_stdin(max_size: u64) -> Outcome {
    let mut bytes = Vec::new();
    match read_limited(io::stdin().lock(), max_size, 0, &mut bytes) {
        Ok(true) => match decode(STDIN_DISPLAY, bytes) {
            Ok(text) => Outcome::Loaded(SourceFile {
                display: STDIN_DISPLAY.to_string(),
                path: None,
                text,
            }),
            Err(message) => Outcome::Failed(message),
        },
        Ok(false) => Outcome::Failed(format!(
            "{STDIN_DISPLAY}: more than {max_size} bytes, over the --max-file-size limit"
        )),
        Err(e) => Outcome::Failed(format!("{STDIN_DISPLAY}: {}", describe(&e))),
    }
}

/// The whole content into `bytes` (replacing what it held); `false` when
/// it is longer than `max_size`. `expected`: the size on disk, if known
/// (the buffer is made that large at once, so a large file is not copied as
/// it grows, nor kept with room to spare).
fn read_limited(
    reader: impl Read,
    max_size: u64,
    expected: u64,
    bytes: &mut Vec<u8>,
) -> io::Result<bool> {
    bytes.clear();
    // (One byte more: the read that finds the end needs room.)
    let capacity = usize::try_from(expected.min(max_size)).unwrap_or(0);
    bytes.reserve_exact(capacity.saturating_add(1));
    reader.take(max_size.saturating_add(1)).read_to_end(bytes)?;
    Ok(bytes.len() as u64 <= max_size)
}

fn decode(display: &str, bytes: Vec<u8>) -> Result<String, String> {
    if let Some(encoding) = wide_encoding(&bytes) {
        return Err(wide_text(display, encoding));
    }
    String::from_utf8(bytes).map_err(|e| not_utf8(display, e.utf8_error()))
}

fn decode_borrowed<'b>(display: &str, bytes: &'b [u8]) -> Result<&'b str, String> {
    if let Some(encoding) = wide_encoding(bytes) {
        return Err(wide_text(display, encoding));
    }
    std::str::from_utf8(bytes).map_err(|e| not_utf8(display, e))
}

/// Kubernetes reads UTF-8 (and UTF-16/32 with a byte-order mark, which no
/// manifest in the wild uses); say what the file is rather than where its
/// first invalid UTF-8 byte is.
fn wide_text(display: &str, encoding: &str) -> String {
    format!(
        "{display}: {encoding} text (it starts with a byte-order mark) is not supported; \
         convert the file to UTF-8"
    )
}

fn not_utf8(display: &str, error: std::str::Utf8Error) -> String {
    format!(
        "{display}: not valid UTF-8 (at byte {})",
        error.valid_up_to()
    )
}

/// The encoding a UTF-16 or UTF-32 byte-order mark announces.
fn wide_encoding(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xFE, 0, 0, ..] => Some("UTF-32LE"),
        [0, 0, 0xFE, 0xFF, ..] => Some("UTF-32BE"),
        [0xFF, 0xFE, ..] => Some("UTF-16LE"),
        [0xFE, 0xFF, ..] => Some("UTF-16BE"),
        _ => None,
    }
}
