//! One analysis of one document snapshot, off the async executor: the file
//! kind decides the path (plain YAML incrementally, a Helm template whole
//! with its chart, through the analysis host), the workspace store gives
//! the context, the host's last step (Kustomize, the configuration)
//! adjusts the findings, and a panic is contained.

use std::sync::atomic::Ordering;

use tracing::{debug, info, warn};

use tokenguard_analysis::files::FileKind;

use super::state::State;
use crate::diagnostics::{Analyzed, LiveAnalysis, StoreRevisions};
use crate::documents::Document;
use crate::helm;
use crate::identity::DocumentKey;

/// An analysis that panicked (caught; the next analysis starts afresh).
pub struct Panicked;

impl State {
    /// Analyses a snapshot, continuing from the document's previous
    /// analysis. Blocking: run it on the blocking pool. `None` when the
    /// document is closed or a newer revision was analysed already.
    pub fn analyze(&self, key: &DocumentKey, doc: &Document) -> Option<Result<Analyzed, Panicked>> {
        let live = self.open.get(key)?.live;
        let mut analysis = live.analysis.lock();
        let max_size = self.settings().max_file_size;
        let started = std::time::Instant::now();
        // Helm: a template is judged with its chart, which the host reads
        // (once) when it is given the template.
        let kind = helm::kind(key, doc);
        self.store.prepare(key, &kind, &doc.rope);
        let own_change = self.store.own_change(key);
        // Read before judging: a feed between this and the judging only
        // makes the scheduler judge the document again (`StoreRevisions`).
        let judged_at = self.store.revision();
        let result = self.store.judge_with(key, |context| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                match &kind {
                    FileKind::Manifest => analysis.run(
                        doc,
                        context.accounts,
                        context.generation,
                        own_change,
                        max_size,
                        &context.options,
                    ),
                    kind => analysis.run_whole(doc, max_size, |text| {
                        let name = helm::template_name(key, kind, context.host);
                        let (parsed, findings, _) = context.host.judge_template(
                            &name,
                            kind,
                            text,
                            context.accounts,
                            &context.options,
                        );
                        // The one rule of which files get findings (the CLI's too).
                        if tokenguard_analysis::holds_kubernetes_object(text, &parsed) {
                            findings
                        } else {
                            Vec::new()
                        }
                    }),
                }
            }))
        });
        debug!(
            "analysed {} revision {} in {:.1} ms",
            key.as_str(),
            doc.revision,
            started.elapsed().as_secs_f64() * 1000.0
        );
        match result {
            Ok(Some(mut analyzed)) => {
                // The file's own ServiceAccounts, roles and bindings reach
                // the workspace store before its findings are finished, so
                // the permissions they name are this revision's (not the
                // previous one's). An analysis a newer revision overtook
                // feeds nothing: the newer one feeds after it.
                let rbac = analyzed.rbac.take();
                if self.open.revision_of(key) == Some(doc.revision) {
                    let fed = self.store.buffer_analysed(
                        key,
                        &kind,
                        &analyzed.accounts,
                        rbac,
                        &|| analysis.rbac_objects(),
                        analyzed.revision,
                        &analyzed.rope,
                    );
                    analyzed.store = Some(StoreRevisions {
                        judged_at,
                        fed_from: fed.from,
                        fed_to: fed.to,
                    });
                }
                // Kustomize: patch files and patched base workloads.
                analyzed.findings = self
                    .store
                    .finish(key, std::mem::take(&mut analyzed.findings));
                analyzed.kind = kind;
                live.analysed.store(analyzed.revision, Ordering::SeqCst);
                let too_large = analyzed.too_large.is_some();
                if live.too_large.swap(too_large, Ordering::SeqCst) != too_large {
                    match analyzed.too_large {
                        Some(t) => warn!(
                            "{} is {} bytes, over maxFileSize ({} bytes): not analysed",
                            key.as_str(),
                            t.size,
                            t.limit
                        ),
                        None => info!("{} is under maxFileSize again", key.as_str()),
                    }
                }
                Some(Ok(analyzed))
            }
            Ok(None) => None,
            Err(_) => {
                *analysis = LiveAnalysis::default();
                Some(Err(Panicked))
            }
        }
    }
}
