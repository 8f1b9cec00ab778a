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

use std::path::PathBuf;
use std::sync::OnceLock;

use divan::counter::BytesCount;
use divan::{black_box, Bencher};
use tokenguard_analysis::{apply_edits, check, fix_all_edits, parse, NoAccounts};
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
    divan::main();
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
