//! `--diff`: what `--fix` would change, as a unified diff.

use similar::TextDiff;

/// A `--- a/path` / `+++ b/path` unified diff with 3 lines of context.
pub fn unified(display: &str, old: &str, new: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{display}"), &format!("b/{display}"))
        .to_string()
}

/// Colours a unified diff line by line, as `git diff` does.
pub fn paint(diff: &str, color: bool) -> String {
    if !color {
        return diff.to_string();
    }
    diff.split_inclusive('\n')
        .map(|line| {
            let sgr = if line.starts_with("---") || line.starts_with("+++") {
                "1"
            } else if line.starts_with("@@") {
                "36"
            } else if line.starts_with('+') {
                "32"
            } else if line.starts_with('-') {
                "31"
            } else {
                return line.to_string();
            };
            let (body, eol) = split_line_ending(line);
            format!("\x1b[{sgr}m{body}\x1b[0m{eol}")
        })
        .collect()
}

fn split_line_ending(line: &str) -> (&str, &str) {
    let body = line.trim_end_matches(['\r', '\n']);
    (body, &line[body.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_headers_and_the_hunk() {
        let diff = unified("k8s/a.yaml", "a\nb\n", "a\nx\nb\n");
        assert_eq!(
            diff,
            "--- a/k8s/a.yaml\n+++ b/k8s/a.yaml\n@@ -1,2 +1,3 @@\n a\n+x\n b\n"
        );
    }
}
