//! Concurrency: 200 open documents edited at once from several client tasks,
//! while the workspace index runs and the ServiceAccount files it reads
//! change on disk.
//!
//! Expected: no deadlock (every wait is bounded, and the whole test fails
//! after a generous bound instead of hanging), and in the end every
//! document's diagnostics equal a fresh analysis of its final text against
//! the final ServiceAccounts on disk.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use tokenguard_analysis::host::{AnalysisHost, FilePath, NoFiles};

use support::{apply_change, file_uri, find_range, range_of, summarize, Dir, Enc, Notifier};

const DOCUMENTS: usize = 200;
const EDITORS: usize = 4;
const EDIT_ROUNDS: usize = 12;
const ACCOUNTS: usize = 4;
const ACCOUNT_REWRITES: usize = 12;
/// Files the index reads before the accounts: three batches of 256, so that
/// the accounts open the fourth batch...
const FILLER_BEFORE: usize = 3 * 256;
/// ... which goes on with files slow to index (lists it must parse): the
/// rewrites land while the index holds what it read of the accounts.
const SLOW_AFTER: usize = 250;
const SLOW_ITEMS: usize = 200;
/// The whole test, as a backstop against a deadlock the bounded waits miss.
const WHOLE_TEST: Duration = Duration::from_secs(240);

fn account(k: usize, automount: bool) -> String {
    format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app-{k}\nautomountServiceAccountToken: {automount}\n"
    )
}

fn deployment(i: usize) -> String {
    format!(
        "# document {i}\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\nspec:\n  template:\n    spec:\n      serviceAccountName: app-{}\n      containers:\n        - name: web\n          image: nginx\n",
        i % ACCOUNTS
    )
}

/// A small deterministic generator, so that a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize % n
    }
}

/// A document as one editor task sees it.
struct Doc {
    uri: String,
    text: String,
    version: i64,
}

impl Doc {
    /// One incremental edit: a comment typed at the top, the account
    /// switched, or the field added or removed. Returns the didChange params.
    fn edit(&mut self, rng: &mut Lcg) -> Value {
        const FIELD_LINE: &str = "      automountServiceAccountToken: false\n";
        let (range, new_text) = match rng.below(4) {
            0 => (
                json!({"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}),
                "# é😀\n".to_string(),
            ),
            1 => {
                let at = self.text.find("app-").expect("an account name") + 4;
                let r = range_of(&self.text, at, at + 1, Enc::Utf16);
                (r, rng.below(ACCOUNTS + 1).to_string())
            }
            _ => match self.text.find(FIELD_LINE) {
                Some(at) => (
                    range_of(&self.text, at, at + FIELD_LINE.len(), Enc::Utf16),
                    String::new(),
                ),
                None => {
                    let r = find_range(&self.text, "      containers:", 0, Enc::Utf16);
                    (
                        json!({"start": r["start"], "end": r["start"]}),
                        FIELD_LINE.to_string(),
                    )
                }
            },
        };
        apply_change(&mut self.text, &range, &new_text, Enc::Utf16);
        self.version += 1;
        json!({
            "textDocument": {"uri": self.uri, "version": self.version},
            "contentChanges": [{"range": range, "text": new_text}],
        })
    }
}

/// Rewrites the account files on disk, telling the server each time;
/// returns the final setting of each account.
async fn rewrite_accounts(root: PathBuf, notifier: Notifier, seed: u64) -> Vec<bool> {
    let mut rng = Lcg(seed);
    let mut automount = vec![true; ACCOUNTS];
    for _ in 0..ACCOUNT_REWRITES {
        let k = rng.below(ACCOUNTS);
        automount[k] = !automount[k];
        let path = account_path(&root, k);
        std::fs::write(&path, account(k, automount[k])).expect("write the account");
        notifier
            .notify_json(
                "workspace/didChangeWatchedFiles",
                json!({"changes": [{"uri": file_uri(&path), "type": 2}]}),
            )
            .await;
        // Pacing, so that the rewrites spread over the index's run (this
        // synchronises nothing: any interleaving must end right).
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    automount
}

/// The accounts sort after the first filler files and before the others.
fn account_path(root: &Path, k: usize) -> PathBuf {
    root.join(format!("m-accounts/sa-{k}.yaml"))
}

fn write_filler(root: &Path, folder: &str, count: usize, items: usize) {
    for f in 0..count {
        let dir = root.join(format!("{folder}/c{}", f % 20));
        std::fs::create_dir_all(&dir).unwrap();
        // A list might hold a ServiceAccount: the index parses it.
        let mut text =
            String::from("# ServiceAccounts: none\napiVersion: v1\nkind: List\nitems:\n");
        for i in 0..items {
            text.push_str(&format!(
                "  - {{apiVersion: v1, kind: ConfigMap, metadata: {{name: cm-{f}-{i}}}, data: {{a: b}}}}\n"
            ));
        }
        std::fs::write(dir.join(format!("cm-{f:04}.yaml")), text).unwrap();
    }
}

async fn edit_documents(mut docs: Vec<Doc>, notifier: Notifier, seed: u64) -> Vec<Doc> {
    let mut rng = Lcg(seed);
    for _ in 0..EDIT_ROUNDS {
        for doc in &mut docs {
            let params = doc.edit(&mut rng);
            notifier.notify_json("textDocument/didChange", params).await;
        }
        tokio::task::yield_now().await;
    }
    docs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn documents_edited_from_several_tasks_during_indexing_and_disk_changes_end_up_right() {
    tokio::time::timeout(WHOLE_TEST, scenario())
        .await
        .expect("the scenario finishes: no deadlock");
}

async fn scenario() {
    let dir = Dir::new();
    let root = dir.path().to_path_buf();
    std::fs::create_dir_all(root.join("m-accounts")).unwrap();
    for k in 0..ACCOUNTS {
        std::fs::write(account_path(&root, k), account(k, true)).unwrap();
    }
    write_filler(&root, "a-charts", FILLER_BEFORE, 0);
    write_filler(&root, "z-charts", SLOW_AFTER, SLOW_ITEMS);

    let mut client = support::start();
    let capabilities = json!({
        "window": {"workDoneProgress": true},
        "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}},
    });
    client.initialize_in(&root, capabilities, Value::Null).await;
    // The index starts now; the documents open while it runs.
    let mut docs: Vec<Doc> = Vec::new();
    for i in 0..DOCUMENTS {
        let doc = Doc {
            uri: file_uri(&root.join(format!("apps/deploy-{i}.yaml"))),
            text: deployment(i),
            version: 1,
        };
        client.open(&doc.uri, &doc.text).await;
        docs.push(doc);
    }

    // Editors and the disk, all at once.
    let disk = tokio::spawn(rewrite_accounts(root.clone(), client.notifier(), 7));
    let mut editors = Vec::new();
    let per_editor = DOCUMENTS / EDITORS;
    for e in 0..EDITORS {
        let mine: Vec<Doc> = docs.drain(..per_editor.min(docs.len())).collect();
        editors.push(tokio::spawn(edit_documents(
            mine,
            client.notifier(),
            100 + e as u64,
        )));
    }
    for editor in editors {
        docs.extend(editor.await.expect("an editor task"));
    }
    assert_eq!(docs.len(), DOCUMENTS);
    let automount = disk.await.expect("the disk task");
    // The index has finished (its progress ended)...
    client
        .wait_message("$/progress", |m| m["params"]["value"]["kind"] == "end")
        .await;
    // ... and one more edit of every document is analysed after everything
    // above: its diagnostics are the final ones.
    let notifier = client.notifier();
    for doc in &mut docs {
        let end = doc.text.len();
        let range = range_of(&doc.text, end, end, Enc::Utf16);
        apply_change(&mut doc.text, &range, "# done\n", Enc::Utf16);
        doc.version += 1;
        notifier
            .notify_json(
                "textDocument/didChange",
                json!({"textDocument": {"uri": doc.uri, "version": doc.version},
                       "contentChanges": [{"range": range, "text": "# done\n"}]}),
            )
            .await;
    }

    // The expectation: an analysis host fed the accounts as they are on
    // disk (findings say what the tokens can do, as the server's do).
    let mut host = AnalysisHost::new(NoFiles);
    for (k, automount) in automount.iter().enumerate() {
        let path = account_path(&root, k);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, account(k, *automount));
        host.set_file(FilePath::from_path(&path), text);
    }
    for doc in &docs {
        let published = client.wait_diagnostics(&doc.uri, doc.version).await;
        let expected: Vec<_> = host
            .analyze(&FilePath::new("/expected/document.yaml"), &doc.text)
            .findings
            .into_iter()
            .map(|f| {
                (
                    range_of(&doc.text, f.range.start, f.range.end, Enc::Utf16),
                    f.code.as_str().to_string(),
                    f.message,
                )
            })
            .collect();
        assert_eq!(
            summarize(&published),
            expected,
            "{} at version {}:\n{}",
            doc.uri,
            doc.version,
            doc.text
        );
    }
    assert!(client.shutdown_and_exit().await.clean());
}
