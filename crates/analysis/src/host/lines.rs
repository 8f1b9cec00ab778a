//! The lines of places in a file, for the words of a finding
//! (`rbac.yaml:12`): asked of the host's kept text, else of its source
//! ([`FileSource::lines_at`]), which an editor answers from the line index
//! of its open buffer instead of copying the whole text out.

use super::path::FilePath;
use super::source::{FileSource, Need};
use super::AnalysisHost;
use crate::text::LineIndex;

/// The line a byte of a file is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineAt {
    /// 0-based.
    pub line: usize,
    /// The byte where the line starts.
    pub line_start: usize,
    /// The line without its break.
    pub line_text: String,
}

impl LineAt {
    /// The line of `text` (with its line table `index`) that byte `offset`
    /// is on; `None` past the text's end.
    pub fn of(text: &str, index: &LineIndex, offset: usize) -> Option<LineAt> {
        if offset > text.len() {
            return None;
        }
        let line = index.line_of(offset);
        Some(LineAt {
            line,
            line_start: index.line_start(line),
            line_text: index.line_text(text, line).to_string(),
        })
    }
}

/// The line of each of `offsets` in `text` (`None` past its end), read
/// with one line index.
pub fn lines_in(text: &str, offsets: &[usize]) -> Vec<Option<LineAt>> {
    let index = LineIndex::new(text);
    offsets
        .iter()
        .map(|&offset| LineAt::of(text, &index, offset))
        .collect()
}

impl<S: FileSource> AnalysisHost<S> {
    /// The lines of `offsets` in a file named as the host names it: from
    /// the kept text, else the source's; `None` when the file cannot be
    /// had.
    pub(super) fn lines_of_fed(
        &self,
        file: &str,
        offsets: &[usize],
    ) -> Option<Vec<Option<LineAt>>> {
        let path = FilePath::new(file);
        match self.kept_text(&path) {
            Some(text) => Some(lines_in(text, offsets)),
            None => self.source().lines_at(&path, offsets, Need::FedFile),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_where_the_line_index_ends_them() {
        let text = "a: b\r\nkind: Role\rname: x\n";
        let lines = lines_in(text, &[0, 7, 18, text.len(), text.len() + 1]);
        let at = |l: &Option<LineAt>| {
            l.as_ref()
                .map(|l| (l.line, l.line_start, l.line_text.clone()))
        };
        assert_eq!(at(&lines[0]), Some((0, 0, "a: b".to_string())));
        assert_eq!(at(&lines[1]), Some((1, 6, "kind: Role".to_string())));
        assert_eq!(at(&lines[2]), Some((2, 17, "name: x".to_string())));
        assert_eq!(at(&lines[3]), Some((3, text.len(), String::new())));
        assert_eq!(lines[4], None);
    }
}
