//! Incremental analysis equals a fresh analysis of the whole text, after any
//! sequence of edits, including edits that make, move or remove `---` lines
//! and directives (which Kubernetes cuts from their document).

use proptest::prelude::*;
use tokenguard_analysis::{analyze, AccountIndex, IncrementalFile, NoAccounts, TextRange};

const BASE: &str = "\
# leading comment
kind: Pod
metadata: {name: a, namespace: x}
spec: {containers: []}
---
kind: ServiceAccount
metadata:
  name: default
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: é-deploy
spec:
  template:
    spec:
      containers: []
...
# between
---
kind: CronJob
metadata: {name: c}
spec:
  jobTemplate:
    spec:
      template:
        spec: {automountServiceAccountToken: \"false\"}
---
kind: ConfigMap
data: {a: b}
";

const SNIPPETS: &[&str] = &[
    "---\n",
    "...\n",
    "-",
    "kind: Pod\n",
    "spec:\n  containers: []\n",
    "automountServiceAccountToken: false\n",
    "\nautomountServiceAccountToken: false",
    "  x: [\n",
    "]",
    "# tokenguard-ignore\n",
    "é",
    "\r\n",
    "\n",
    " ",
    "{",
    "%YAML 1.2\n",
    // What only the tolerant re-reading reads (tolerant.rs).
    ":\t",
    "\t",
    "  ]\n",
    "'x\n y'",
    "\"q\"#c",
    // What Kubernetes' decoder refuses although yaml-rust2 reads it
    // (cluster_strictness.rs): tabs on blank lines, in indentation and in
    // block scalars, a file of lone-CR lines that starts with `---`.
    "\n\t\n",
    "  \t\n",
    "- \t",
    "x: |\n  a\n \t\n",
    "\r",
    "---\rkind: Pod\r",
    // Content on a `---` line, which kubectl refuses.
    "--- {}\n",
    "\n--- |\n  x\n",
];

#[derive(Clone, Debug)]
enum Edit {
    Insert(usize, usize),
    Delete(usize, usize),
}

fn floor(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_edit_sequence_matches_a_fresh_analysis(
        edits in prop::collection::vec(
            prop_oneof![
                (any::<usize>(), 0..SNIPPETS.len()).prop_map(|(a, s)| Edit::Insert(a, s)),
                (any::<usize>(), 0usize..40).prop_map(|(a, l)| Edit::Delete(a, l)),
            ],
            1..12,
        )
    ) {
        let mut text = BASE.to_string();
        let mut file = IncrementalFile::new(&text);
        let mut index = AccountIndex::new();
        index.set("other.yaml", tokenguard_analysis::parse("kind: ServiceAccount\nmetadata: {name: default, namespace: x}\nautomountServiceAccountToken: false\n", tokenguard_analysis::Options::builtin()).accounts);
        for (step, edit) in edits.iter().enumerate() {
            let (start, end, insert) = match *edit {
                Edit::Insert(at, s) => {
                    let at = floor(&text, at % (text.len() + 1));
                    (at, at, SNIPPETS[s])
                }
                Edit::Delete(at, len) => {
                    let start = floor(&text, at % (text.len() + 1));
                    (start, floor(&text, start + len), "")
                }
            };
            text.replace_range(start..end, insert);
            let current = text.clone();
            file.edit(TextRange::new(start, end), insert.len(), current.len(), &|r| current[r.start..r.end].to_string());
            let generation = (step % 2) as u64;
            let lookup: &dyn tokenguard_analysis::AccountLookup = if generation == 0 { &NoAccounts } else { &index };
            let incremental = file.findings(&|r| current[r.start..r.end].to_string(), lookup, generation);
            prop_assert_eq!(incremental, analyze(&current, lookup, tokenguard_analysis::Options::builtin()), "after {:?}:\n{}", edits, current);
        }
    }
}
