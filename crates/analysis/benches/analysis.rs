//! Benchmarks of the analysis engine on inputs of five sizes, each stage
//! beside yaml-rust2's bare event parse of the same bytes (the floor: our
//! tree is built from those events).
//!
//! cargo bench -p tokenguard-analysis
//!
//! Inputs come from the shared corpus (`../shared/corpus` next to the
//! repository, or `TOKENGUARD_CORPUS`):
//!
//! | size  | file                                                                     |
//! | ----- | ------------------------------------------------------------------------ |
//! | Kb2   | kubernetes-engine-samples `ai-ml/adk-vllm/deploy-agent/deploy-agent.yaml` |
//! | Kb50  | k8s-monitoring-helm `docs/examples/log-metrics/output.yaml`               |
//! | Mb1   | knative serving `third_party/cert-manager-latest/cert-manager.yaml`       |
//! | Mb2   | argo-cd `manifests/ha/install-with-hydrator.yaml`                         |
//! | Mb20  | that argo-cd file ten times, joined by `---` (built in memory)           |
//!
//! Without the corpus, generated manifests of the same sizes are used (and
//! a line says so). Stages:
//!
//! - `0_floor_yaml_rust2`: `Parser::next_token` until `StreamEnd` or an error;
//! - `1_parse`: [`parse`], the position-preserving tree of every document;
//! - `2_parse_check`: [`parse`] and [`check`], what a diagnostics pass costs;
//! - `3_fix_all`: that, then every fix applied ([`fix_all_edits`],
//!   [`apply_edits`]), what `tokenguard check --fix` does to one file.
//!
//! Throughput is printed in MB/s of input (divan's `BytesCount`).
//!
//! Edits (`edit` group), on the largest document of the Mb2 input (the
//! argo-cd `applicationsets` CRD, 1.4 MB, a document that holds no tree):
//!
//! - `crd_whole_document_parse`: [`parse`] of that document alone, what an
//!   edit inside it cost before edits re-read regions;
//! - `largest_tree_document_parse`: [`parse`] of the largest document of
//!   Mb2 that holds a tree (edits inside such documents still parse the
//!   whole document: this is what one costs at most there);
//! - `crd_blank_typed_and_deleted`: [`IncrementalFile::edit`] of a blank
//!   typed at the end of a line and deleted again (two edits per
//!   iteration), at 64 lines spread through the document in turn; each
//!   re-reads only the block region around the line.
//!
//! - `open_incremental_mb2` / `open_parse_mb2`: [`IncrementalFile::new`]
//!   of the Mb2 input (what the server does on didOpen, outlines of the
//!   documents without a tree included) beside [`parse`] of it.
//!
//! Before the benchmarks, the bytes re-read per edit are printed for the
//! latency harness's edits on the Mb20 input (`crates/lsp/examples/latency.rs`:
//! a blank at the end of line `i * 7919 % lines`, 200 edits).

use std::path::PathBuf;
use std::sync::OnceLock;

use divan::counter::BytesCount;
use divan::{black_box, Bencher};
use tokenguard_analysis::{
    apply_edits, check, fix_all_edits, parse, IncrementalFile, NoAccounts, TextRange,
};
use yaml_rust2::parser::{Event, Parser};

fn main() {
    let inputs = inputs();
    eprintln!("tokenguard-analysis benchmarks: {}", inputs.source);
    for ((name, label), text) in NAMES.iter().zip(&inputs.labels).zip(&inputs.texts) {
        let findings = check(
            text,
            &parse(text, tokenguard_analysis::Options::builtin()),
            &NoAccounts,
        );
        // A benchmark of fixes that do not hold would be meaningless.
        let fixed = apply_edits(text, &fix_all_edits(&findings));
        let left = check(
            &fixed,
            &parse(&fixed, tokenguard_analysis::Options::builtin()),
            &NoAccounts,
        );
        assert!(
            left.iter().all(|f| f.fix.is_none()),
            "{name}: fixes left fixable findings"
        );
        eprintln!(
            "  {name:<5} {:>10} bytes {:>4} findings  {label}",
            text.len(),
            findings.len()
        );
    }
    reread_bytes_of_the_latency_edits(&inputs.texts[4]);
    divan::main();
}

/// The bytes [`IncrementalFile::edit`] re-reads for each edit the latency
/// harness makes on `text` (a blank at the end of line `i * 7919 % lines`),
/// printed as percentiles.
fn reread_bytes_of_the_latency_edits(text: &str) {
    let mut text = text.to_string();
    let mut file = IncrementalFile::new(&text);
    let line_count = text.split('\n').count();
    let mut read = Vec::new();
    for i in 0..200 {
        let line = (i * 7919) % line_count;
        let at = text
            .split_inclusive('\n')
            .take(line)
            .map(str::len)
            .sum::<usize>();
        let end = at + text[at..].find('\n').unwrap_or(text.len() - at);
        let end = if text[..end].ends_with('\r') {
            end - 1
        } else {
            end
        };
        text.insert(end, ' ');
        let current = &text;
        file.edit(
            TextRange::new(end, end),
            1,
            current.len(),
            &|r: TextRange| current[r.start..r.end].to_string(),
        );
        read.push(file.reparsed_bytes);
    }
    read.sort_unstable();
    let at = |p: f64| read[((read.len() - 1) as f64 * p) as usize];
    eprintln!(
        "  bytes re-read per edit, the latency harness's 200 edits on Mb20: \
         p50 {} p95 {} max {} (mean {})",
        at(0.5),
        at(0.95),
        at(1.0),
        read.iter().sum::<usize>() / read.len()
    );
}

/// The largest document of the Mb2 input, and where it starts.
fn largest_document() -> (usize, &'static str) {
    let text = Mb2::text();
    let mut best = (0, "");
    let mut start = 0;
    for piece in text.split_inclusive("\n---\n") {
        if piece.len() > best.1.len() {
            best = (start, piece);
        }
        start += piece.len();
    }
    best
}

/// The largest document of the Mb2 input whose parse builds a tree.
fn largest_tree_document() -> &'static str {
    Mb2::text()
        .split_inclusive("\n---\n")
        .filter(|d| {
            !parse(d, tokenguard_analysis::Options::builtin())
                .documents
                .is_empty()
        })
        .max_by_key(|d| d.len())
        .unwrap_or("")
}

#[divan::bench_group(sample_count = 50, max_time = 3)]
mod edit {
    use super::*;

    #[divan::bench]
    fn open_incremental_mb2(bencher: Bencher) {
        let text = Mb2::text();
        bencher
            .counter(BytesCount::new(text.len()))
            .bench(|| IncrementalFile::new(black_box(text)));
    }

    #[divan::bench]
    fn open_parse_mb2(bencher: Bencher) {
        let text = Mb2::text();
        bencher
            .counter(BytesCount::new(text.len()))
            .bench(|| parse(black_box(text), tokenguard_analysis::Options::builtin()));
    }

    #[divan::bench]
    fn largest_tree_document_parse(bencher: Bencher) {
        let document = largest_tree_document();
        bencher
            .counter(BytesCount::new(document.len()))
            .bench(|| parse(black_box(document), tokenguard_analysis::Options::builtin()));
    }

    #[divan::bench]
    fn crd_whole_document_parse(bencher: Bencher) {
        let (_, document) = largest_document();
        bencher
            .counter(BytesCount::new(document.len()))
            .bench(|| parse(black_box(document), tokenguard_analysis::Options::builtin()));
    }

    #[divan::bench]
    fn crd_blank_typed_and_deleted(bencher: Bencher) {
        let text = Mb2::text();
        let (start, document) = largest_document();
        // Line ends spread through the document.
        let ends: Vec<usize> = document
            .match_indices('\n')
            .map(|(i, _)| start + i)
            .collect();
        let places: Vec<usize> = (0..64).map(|k| ends[k * ends.len() / 64 + 1]).collect();
        let with_blank: Vec<String> = places
            .iter()
            .map(|&at| format!("{} {}", &text[..at], &text[at..]))
            .collect();
        let mut file = IncrementalFile::new(text);
        let mut turn = 0;
        bencher.bench_local(|| {
            let k = turn % places.len();
            turn += 1;
            let at = places[k];
            let typed = &with_blank[k];
            file.edit(TextRange::new(at, at), 1, typed.len(), &|r: TextRange| {
                typed[r.start..r.end].to_string()
            });
            file.edit(
                TextRange::new(at, at + 1),
                0,
                text.len(),
                &|r: TextRange| text[r.start..r.end].to_string(),
            );
            black_box(file.reparsed_bytes)
        });
    }
}

const NAMES: [&str; 5] = ["Kb2", "Kb50", "Mb1", "Mb2", "Mb20"];

/// Corpus files for the four real sizes (the fifth is the last one x10).
const CORPUS_FILES: [&str; 4] = [
    "GoogleCloudPlatform__kubernetes-engine-samples/ai-ml/adk-vllm/deploy-agent/deploy-agent.yaml",
    "grafana__k8s-monitoring-helm/charts/k8s-monitoring/docs/examples/log-metrics/output.yaml",
    "knative__serving/third_party/cert-manager-latest/cert-manager.yaml",
    "argoproj__argo-cd/manifests/ha/install-with-hydrator.yaml",
];

/// Sizes of the generated stand-ins, in bytes.
const GENERATED_SIZES: [usize; 4] = [1_900, 46_000, 990_000, 2_000_000];

struct Inputs {
    source: String,
    labels: Vec<String>,
    texts: Vec<String>,
}

fn corpus_dir() -> PathBuf {
    match std::env::var_os("TOKENGUARD_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    }
}

fn inputs() -> &'static Inputs {
    static INPUTS: OnceLock<Inputs> = OnceLock::new();
    INPUTS.get_or_init(|| {
        let dir = corpus_dir();
        let dir = dir.canonicalize().unwrap_or(dir);
        let read: Option<Vec<String>> = CORPUS_FILES
            .iter()
            .map(|file| std::fs::read_to_string(dir.join(file)).ok())
            .collect();
        let (source, mut labels, mut texts): (String, Vec<String>, Vec<String>) = match read {
            Some(texts) => (
                format!("corpus at {}", dir.display()),
                CORPUS_FILES.iter().map(|f| f.to_string()).collect(),
                texts,
            ),
            None => (
                format!(
                    "SKIPPING the corpus (not found at {}; set TOKENGUARD_CORPUS to use another): \
                     benchmarking generated manifests of the same sizes instead",
                    dir.display()
                ),
                GENERATED_SIZES
                    .iter()
                    .map(|_| "generated manifests".to_string())
                    .collect(),
                GENERATED_SIZES
                    .iter()
                    .map(|&size| generated(size))
                    .collect(),
            ),
        };
        let last = texts.last().expect("four inputs");
        let mut big = String::with_capacity(last.len() * 10 + 40);
        for i in 0..10 {
            if i > 0 {
                big.push_str("---\n");
            }
            big.push_str(last);
            if !big.ends_with('\n') {
                big.push('\n');
            }
        }
        labels.push(format!("{} x10, joined by ---", labels[3]));
        texts.push(big);
        Inputs {
            source,
            labels,
            texts,
        }
    })
}

/// Manifests like the ones people write: Deployments (some with the token
/// mount left on, some fixed), their ServiceAccounts, ConfigMaps with block
/// scalars, Services; repeated until `size` bytes.
fn generated(size: usize) -> String {
    let mut text = String::with_capacity(size + 2_000);
    let mut i = 0;
    while text.len() < size {
        if i > 0 {
            text.push_str("---\n");
        }
        let automount = if i % 3 == 0 {
            "      automountServiceAccountToken: false\n"
        } else {
            ""
        };
        text.push_str(&format!(
            "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-{i}
  namespace: shop
  labels:
    app.kubernetes.io/name: web-{i}
    app.kubernetes.io/part-of: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web-{i}
  template:
    metadata:
      labels:
        app: web-{i}
      annotations:
        prometheus.io/scrape: \"true\"
    spec:
      serviceAccountName: web-{i}
{automount}      containers:
        - name: web
          image: \"registry.example/shop/web:1.{i}.0\"
          args: [\"--port=8080\", \"--log-level=info\"]
          ports:
            - containerPort: 8080
              name: http
          env:
            - name: CONFIG
              value: /etc/web/config.yaml
          resources:
            limits: {{cpu: 500m, memory: 256Mi}}
          volumeMounts:
            - name: config
              mountPath: /etc/web
      volumes:
        - name: config
          configMap:
            name: web-{i}-config
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web-{i}
  namespace: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-{i}-config
  namespace: shop
data:
  config.yaml: |
    server:
      port: 8080
      timeout: 30s
    database:
      host: db-{i}.shop.svc
      pool: 10
---
apiVersion: v1
kind: Service
metadata:
  name: web-{i}
  namespace: shop
spec:
  selector:
    app: web-{i}
  ports:
    - port: 80
      targetPort: http
"
        ));
        i += 1;
    }
    text
}

/// The input of each size, chosen by type so that divan groups the stages
/// of one size together.
trait Input {
    const INDEX: usize;
    fn text() -> &'static str {
        &inputs().texts[Self::INDEX]
    }
}

macro_rules! sizes {
    ($($name:ident = $index:expr),* $(,)?) => {$(
        struct $name;
        impl Input for $name {
            const INDEX: usize = $index;
        }
    )*};
}

sizes!(Kb2 = 0, Kb50 = 1, Mb1 = 2, Mb2 = 3, Mb20 = 4);

/// yaml-rust2's event parse of `text`, the floor: the number of events.
fn raw_events(text: &str) -> usize {
    let mut parser = Parser::new_from_str(text);
    let mut events = 0;
    while let Ok((event, _)) = parser.next_token() {
        events += 1;
        if event == Event::StreamEnd {
            break;
        }
    }
    events
}

const STAGES: [&str; 4] = [
    "0_floor_yaml_rust2",
    "1_parse",
    "2_parse_check",
    "3_fix_all",
];

// `max_time` caps each size/stage pair (the 20 MB input gets a handful of
// samples); the whole run takes about a minute and a half on two cores.
#[divan::bench(types = [Kb2, Kb50, Mb1, Mb2, Mb20], args = STAGES, sample_count = 50, max_time = 3)]
fn stage<I: Input>(bencher: Bencher, stage: &str) {
    let text = I::text();
    let bencher = bencher.counter(BytesCount::new(text.len()));
    match stage {
        "0_floor_yaml_rust2" => bencher.bench(|| raw_events(black_box(text))),
        "1_parse" => {
            bencher.bench(|| parse(black_box(text), tokenguard_analysis::Options::builtin()))
        }
        "2_parse_check" => bencher.bench(|| {
            let text = black_box(text);
            check(
                text,
                &parse(text, tokenguard_analysis::Options::builtin()),
                &NoAccounts,
            )
        }),
        "3_fix_all" => bencher.bench(|| {
            let text = black_box(text);
            let findings = check(
                text,
                &parse(text, tokenguard_analysis::Options::builtin()),
                &NoAccounts,
            );
            apply_edits(text, &fix_all_edits(&findings))
        }),
        other => unreachable!("unknown stage {other}"),
    }
}
