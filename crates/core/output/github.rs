//! For GitHub Actions: workflow commands that become annotations on the
//! pull request.
//! <https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions>

use std::io::{self, Write};

use tokenguard_analysis::Severity;

use super::Workspace;

pub fn write(workspace: &Workspace, out: &mut dyn Write) -> io::Result<()> {
    for (file, finding) in workspace.findings() {
        let span = file.span(finding.range);
        let command = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information | Severity::Hint => "notice",
        };
        writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape_property(file.display()),
            span.start.line,
            span.start.column,
            span.end.line,
            span.end.column,
            escape_property(finding.code.as_str()),
            escape_data(&finding.message),
        )?;
    }
    Ok(())
}

/// The message part: `%`, CR and LF would end or corrupt the command.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A `key=value` part: also `:` and `,`, which separate properties.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_runner() {
        assert_eq!(escape_data("50%\r\nok: a,b"), "50%25%0D%0Aok: a,b");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
