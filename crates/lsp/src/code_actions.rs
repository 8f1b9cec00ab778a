//! Code actions: the fix of each finding, the fix on its ServiceAccount, an
//! ignore comment, the projected short-lived token instead of the automounted
//! one, and fix-all for the document.

use std::collections::HashMap;

use ropey::Rope;
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Diagnostic, TextEdit, Uri, WorkspaceEdit,
};

use tokenguard_analysis::{
    disable_on_account, fix_all_edits, fix_is_preferred, ignore_comment, projected_token,
    AccountAutomount, Code, Finding, Fix, LineIndex, TextRange, TokenProjection,
    PROJECTED_TOKEN_TITLE,
};

use crate::config::Settings;
use crate::diagnostics::Analyzed;
use crate::positions::{to_range, Encoding};

pub const FIX_ALL: &str = "source.fixAll.tokenguard";

/// The text of another file a finding names (`None` = this file): the one
/// that declares a ServiceAccount, or a Helm chart's values.yaml.
pub type AccountFile<'a> = dyn Fn(Option<&str>) -> Option<(Uri, Rope)> + 'a;

pub struct Request<'a> {
    pub uri: &'a Uri,
    pub analyzed: &'a Analyzed,
    pub settings: &'a Settings,
    pub encoding: Encoding,
    pub range: TextRange,
    pub only: Option<&'a [CodeActionKind]>,
    /// Leave the edits that take a whole-document computation (fix-all, the
    /// projected token) to `codeAction/resolve`.
    pub lazy_edits: bool,
    pub account_file: &'a AccountFile<'a>,
    pub to_diagnostic: &'a dyn Fn(&Finding) -> Diagnostic,
}

/// Whether `kind` is asked for: `only` filters by kind prefix
/// (`source.fixAll` selects `source.fixAll.tokenguard`).
pub fn wanted(kind: &CodeActionKind, only: Option<&[CodeActionKind]>) -> bool {
    let Some(only) = only else {
        return true;
    };
    only.iter().any(|w| {
        let (k, w) = (kind.as_str(), w.as_str());
        k == w || (k.starts_with(w) && k.as_bytes().get(w.len()) == Some(&b'.'))
    })
}

fn edit_for(uri: &Uri, rope: &Rope, fix: &Fix, encoding: Encoding) -> WorkspaceEdit {
    let edits = fix
        .edits
        .iter()
        .map(|e| TextEdit::new(to_range(rope, e.range, encoding), e.new_text.clone()))
        .collect();
    WorkspaceEdit {
        changes: Some(HashMap::from([(uri.clone(), edits)])),
        ..WorkspaceEdit::default()
    }
}

pub fn code_actions(req: &Request<'_>) -> Vec<CodeActionOrCommand> {
    let mut actions = Vec::new();
    let quickfix = CodeActionKind::QUICKFIX;
    let visible: Vec<&Finding> = req
        .analyzed
        .visible(req.settings)
        .filter(|f| f.code == Code::TG001)
        .collect();
    if wanted(&quickfix, req.only) {
        // The ignore comment's place depends on the YAML around the line: read
        // once, when some finding is in the range.
        let mut whole_text: Option<(String, LineIndex)> = None;
        for finding in visible.iter().filter(|f| intersects(f.range, req.range)) {
            let diagnostic = (req.to_diagnostic)(finding);
            let mut push = |title: String, edit: WorkspaceEdit, preferred: bool| {
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title,
                    kind: Some(quickfix.clone()),
                    diagnostics: Some(vec![diagnostic.clone()]),
                    edit: Some(edit),
                    is_preferred: Some(preferred),
                    ..CodeAction::default()
                }));
            };
            // Not preferred when the pod's account is bound to roles: the
            // pod may use the API (the title says so).
            let preferred = fix_is_preferred(finding);
            match finding.fix.as_ref().map(|fix| (fix, fix.file.as_deref())) {
                Some((fix, None)) => push(
                    fix.title.clone(),
                    edit_for(req.uri, &req.analyzed.rope, fix, req.encoding),
                    preferred,
                ),
                // A fix of another file (a Helm chart's values.yaml), in
                // that file's positions.
                Some((fix, Some(file))) => {
                    if let Some((uri, rope)) = (req.account_file)(Some(file)) {
                        push(
                            fix.title.clone(),
                            edit_for(&uri, &rope, fix, req.encoding),
                            preferred,
                        );
                    }
                }
                None => {}
            }
            if let Some((uri, rope, fix)) = account_fix(req, finding) {
                push(
                    fix.title.clone(),
                    edit_for(&uri, &rope, &fix, req.encoding),
                    false,
                );
            }
            let (text, index) = whole_text.get_or_insert_with(|| {
                let text = req.analyzed.rope.to_string();
                let index = LineIndex::new(&text);
                (text, index)
            });
            if let Some(ignore) = ignore_comment(text, index, finding) {
                push(
                    ignore.title.clone(),
                    edit_for(req.uri, &req.analyzed.rope, &ignore, req.encoding),
                    false,
                );
            }
            if let Some(action) = projected_action(req, text, finding, &diagnostic) {
                actions.push(action);
            }
        }
    }
    let fix_all = CodeActionKind::new(FIX_ALL);
    // Fix-all runs without a look at each fix (editors run it on save): it
    // leaves out the fixes that are not preferred, those of pods whose
    // account is bound to roles, which stay one quick fix away.
    if wanted(&fix_all, req.only)
        && visible
            .iter()
            .any(|f| f.fix.is_some() && fix_is_preferred(f))
    {
        let edit = (!req.lazy_edits)
            .then(|| fix_all_edit(req.uri, req.analyzed, req.settings, req.encoding));
        actions.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: "Fix all tokenguard findings".to_string(),
            kind: Some(fix_all),
            edit,
            data: req.lazy_edits.then(|| {
                serde_json::json!({ "uri": req.uri.as_str(), "revision": req.analyzed.revision })
            }),
            ..CodeAction::default()
        }));
    }
    actions
}

/// "Mount a short-lived projected token instead of the automounted one": not
/// preferred (it changes what the pod mounts); offered only where the analysis
/// computes an exact edit, which a lazy client gets from `codeAction/resolve`
/// (`data` names the finding by where it starts, in this revision).
fn projected_action(
    req: &Request<'_>,
    text: &str,
    finding: &Finding,
    diagnostic: &Diagnostic,
) -> Option<CodeActionOrCommand> {
    let fix = projected_token(text, finding, &TokenProjection::default())?;
    let (edit, data) = if req.lazy_edits {
        let data = serde_json::json!({
            "uri": req.uri.as_str(),
            "revision": req.analyzed.revision,
            "projectedToken": finding.range.start,
        });
        (None, Some(data))
    } else {
        let edit = edit_for(req.uri, &req.analyzed.rope, &fix, req.encoding);
        (Some(edit), None)
    };
    Some(CodeActionOrCommand::CodeAction(CodeAction {
        title: PROJECTED_TOKEN_TITLE.to_string(),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic.clone()]),
        edit,
        data,
        is_preferred: Some(false),
        ..CodeAction::default()
    }))
}

/// The projected token action's edit for the TG001 finding that starts at
/// `at`; `None` when the analysis is of another revision than `revision` or
/// the finding is gone.
pub fn projected_token_edit(
    uri: &Uri,
    analyzed: &Analyzed,
    settings: &Settings,
    encoding: Encoding,
    revision: u64,
    at: usize,
) -> Option<WorkspaceEdit> {
    if analyzed.revision != revision {
        return None;
    }
    let finding = analyzed
        .visible(settings)
        .find(|f| f.code == Code::TG001 && f.range.start == at)?;
    let text = analyzed.rope.to_string();
    let fix = projected_token(&text, finding, &TokenProjection::default())?;
    Some(edit_for(uri, &analyzed.rope, &fix, encoding))
}

/// Every preferred fix of the document in one edit.
pub fn fix_all_edit(
    uri: &Uri,
    analyzed: &Analyzed,
    settings: &Settings,
    encoding: Encoding,
) -> WorkspaceEdit {
    let findings: Vec<Finding> = analyzed
        .visible(settings)
        .filter(|f| f.code == Code::TG001 && fix_is_preferred(f))
        .cloned()
        .collect();
    let fix = Fix {
        title: String::new(),
        edits: fix_all_edits(&findings),
        file: None,
    };
    edit_for(uri, &analyzed.rope, &fix, encoding)
}

/// "Disable automounting on ServiceAccount NAME", when the account lives in
/// the workspace and leaves automounting on.
fn account_fix(req: &Request<'_>, finding: &Finding) -> Option<(Uri, Rope, Fix)> {
    let found = finding.account.as_ref()?.found.as_ref()?;
    if found.account.automount == AccountAutomount::Disabled {
        return None;
    }
    let (uri, rope) = (req.account_file)(found.origin.as_deref())?;
    let text = rope.to_string();
    let fix = disable_on_account(&text, &found.account)?;
    Some((uri, rope, fix))
}

fn intersects(a: TextRange, b: TextRange) -> bool {
    a.start <= b.end && b.start <= a.end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_filters_by_kind_prefix() {
        let fix_all = CodeActionKind::new(FIX_ALL);
        assert!(wanted(&fix_all, None));
        assert!(wanted(&fix_all, Some(&[CodeActionKind::SOURCE_FIX_ALL])));
        assert!(wanted(&fix_all, Some(&[CodeActionKind::SOURCE])));
        assert!(!wanted(&fix_all, Some(&[CodeActionKind::QUICKFIX])));
        assert!(!wanted(
            &CodeActionKind::QUICKFIX,
            Some(&[CodeActionKind::new("quick")])
        ));
        assert!(!wanted(
            &CodeActionKind::QUICKFIX,
            Some(&[CodeActionKind::SOURCE])
        ));
    }
}
