#!/usr/bin/env bash
# tokenguard beside its peers, on the same inputs, in one go.
#
#   bench/compare.sh [--install] [--quick] [--runs N] [--corpus DIR]
#
# --install   install the peers first, by package name, into bench/peers/
#             (gitignored): Checkov, PyYAML and kubernetes-validate (for its
#             Kubernetes JSON schemas) from PyPI into a venv, and
#             yaml-language-server from npm. A peer that cannot be installed
#             is skipped, and the table says so.
# --quick     Checkov, the parser floors and `tokenguard check` on a small
#             subset (the 2 MB argo-cd file and a 1-resource manifest)
#             instead of the whole corpus (Checkov takes minutes on it).
# --runs N    runs behind each median where a run is cheap (default 5).
# --corpus D  the corpus (default: ../shared/corpus beside the repository,
#             or $TOKENGUARD_CORPUS).
#
# Prints the machine, then a markdown table: | measurement | tokenguard |
# peer | ratio |, the ratio being peer / tokenguard (above 1: tokenguard is
# faster or smaller). Wall time and peak RSS come from /usr/bin/time
# -f '%e %M'; language-server memory is the server's VmHWM from /proc.
# Never fails because a peer is missing: its rows say "not installed".

set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${TOKENGUARD_PEERS:-$ROOT/bench/peers}
CORPUS=${TOKENGUARD_CORPUS:-$ROOT/../shared/corpus}
INSTALL=0
QUICK=0
RUNS=5

while [ $# -gt 0 ]; do
    case $1 in
        --install) INSTALL=1 ;;
        --quick) QUICK=1 ;;
        --runs) RUNS=$2; shift ;;
        --corpus) CORPUS=$2; shift ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

say() { echo "compare.sh: $*" >&2; }

if [ ! -d "$CORPUS" ]; then
    say "corpus not found at $CORPUS; pass --corpus DIR (or set TOKENGUARD_CORPUS)"
    exit 2
fi
CORPUS=$(cd "$CORPUS" && pwd)
ARGO=$CORPUS/argoproj__argo-cd/manifests/ha/install-with-hydrator.yaml
MB1=$CORPUS/knative__serving/third_party/cert-manager-latest/cert-manager.yaml
SMALL=$CORPUS/GoogleCloudPlatform__kubernetes-engine-samples/ai-ml/adk-vllm/deploy-agent/deploy-agent.yaml
for f in "$ARGO" "$MB1" "$SMALL"; do
    [ -f "$f" ] || { say "corpus file missing: $f"; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tokenguard-compare.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------- install --
CHECKOV_VENV=$PEERS/checkov
YLS_DIR=$PEERS/yls
SCHEMA_DIR=$PEERS/k8s-schema

if [ $INSTALL = 1 ]; then
    mkdir -p "$PEERS"
    if [ ! -x "$CHECKOV_VENV/bin/pip" ]; then
        say "creating a venv for Checkov in $CHECKOV_VENV"
        python3 -m venv "$CHECKOV_VENV" || say "skipped: python3 -m venv failed"
    fi
    if [ -x "$CHECKOV_VENV/bin/pip" ]; then
        say "pip install checkov pyyaml kubernetes-validate (a few minutes the first time)"
        "$CHECKOV_VENV/bin/pip" install -q --disable-pip-version-check checkov pyyaml kubernetes-validate \
            || say "skipped: pip install failed (Checkov / PyYAML rows will say not installed)"
    fi
    if command -v npm >/dev/null; then
        say "npm install yaml-language-server into $YLS_DIR"
        npm install --silent --no-fund --no-audit --prefix "$YLS_DIR" yaml-language-server \
            || say "skipped: npm install yaml-language-server failed"
    else
        say "skipped: yaml-language-server (npm not found)"
    fi
    # The Kubernetes JSON schema that kubernetes-validate ships, with its
    # references made relative, so that yaml-language-server can validate
    # offline (its built-in "kubernetes" schema is downloaded on first use).
    shipped=$(ls -d "$CHECKOV_VENV"/lib/python3*/site-packages/kubernetes_validate/kubernetes-json-schema/v*-local 2>/dev/null \
        | sort -V | tail -1)
    if [ -n "$shipped" ] && [ -f "$shipped/all.json" ]; then
        mkdir -p "$SCHEMA_DIR"
        cp "$shipped/_definitions.json" "$SCHEMA_DIR/"
        sed 's#"/api/_definitions.json\##"_definitions.json\##' "$shipped/all.json" >"$SCHEMA_DIR/all.json"
        basename "$shipped" >"$SCHEMA_DIR/VERSION"
        say "Kubernetes schema $(cat "$SCHEMA_DIR/VERSION") in $SCHEMA_DIR"
    else
        say "skipped: local Kubernetes schema (kubernetes-validate not installed)"
    fi
fi

CHECKOV=$CHECKOV_VENV/bin/checkov
[ -x "$CHECKOV" ] || CHECKOV=$(command -v checkov || true)
PYTHON_YAML=""
for py in "$CHECKOV_VENV/bin/python" python3; do
    if "$py" -c 'import yaml; assert yaml.__with_libyaml__' 2>/dev/null; then PYTHON_YAML=$py; break; fi
done
YLS=$YLS_DIR/node_modules/yaml-language-server/bin/yaml-language-server
command -v node >/dev/null && [ -f "$YLS" ] || YLS=""
SCHEMA=$SCHEMA_DIR/all.json
[ -f "$SCHEMA" ] || SCHEMA=""
SCHEMA_VERSION=$(cat "$SCHEMA_DIR/VERSION" 2>/dev/null || true)

# ------------------------------------------------------------------ build --
say "building tokenguard and the harnesses (release)"
(cd "$ROOT" && cargo build --release --quiet --bin tokenguard \
    && cargo build --release --quiet -p tokenguard-lsp --example latency \
    && cargo build --release --quiet -p tokenguard-analysis --example parse_floor) || {
    say "cargo build failed"
    exit 1
}
TG=$ROOT/target/release/tokenguard
LATENCY=$ROOT/target/release/examples/latency
FLOOR=$ROOT/target/release/examples/parse_floor

# ----------------------------------------------------------------- inputs --
# Copies named *.yaml, so that yaml-language-server's "*.yaml" schema glob
# applies; the 20 MB input is the argo-cd file ten times, joined by ---.
cp "$ARGO" "$WORK/argo-2mb.yaml"
cp "$MB1" "$WORK/cert-manager-1mb.yaml"
python3 - "$ARGO" "$WORK/argo-20mb.yaml" <<'EOF'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
if not text.endswith("\n"):
    text += "\n"
open(sys.argv[2], "w", encoding="utf-8").write("---\n".join([text] * 10))
EOF
if [ $QUICK = 1 ]; then
    SET=$WORK/subset
    mkdir -p "$SET"
    cp "$ARGO" "$SET/install-with-hydrator.yaml"
    cp "$SMALL" "$SET/deploy-agent.yaml"
    SET_NAME="subset (2 MB argo-cd file + 1-resource file)"
else
    SET=$CORPUS
    SET_NAME="corpus"
fi
SET_MB=$(find "$SET" -type f \( -iname '*.yaml' -o -iname '*.yml' \) -printf '%s\n' | awk '{s+=$1} END {printf "%.1f", s/1e6}')
SET_FILES=$(find "$SET" -type f \( -iname '*.yaml' -o -iname '*.yml' \) | wc -l)

# ---------------------------------------------------------------- helpers --
# timed LOG CMD...: runs CMD once (output to LOG), prints "seconds rss_kb".
timed() {
    local log=$1
    shift
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" >"$log" 2>&1
        tail -1 "$WORK/time"
    else
        local start end
        start=$(date +%s.%N)
        "$@" >"$log" 2>&1
        end=$(date +%s.%N)
        echo "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b-a}') 0"
    fi
}
# median N LOG CMD...: median seconds of N runs, and the highest peak RSS.
median() {
    local n=$1 log=$2
    shift 2
    local i
    for ((i = 0; i < n; i++)); do timed "$log" "$@"; done \
        | sort -n | awk '{t[NR]=$1; if ($2>m) m=$2} END {print t[int((NR+1)/2)], m}'
}
mb() { awk -v k="$1" 'BEGIN {printf "%.0f MB", k/1024}'; }
secs() { awk -v s="$1" 'BEGIN {if (s < 10) printf "%.2f s", s; else printf "%.0f s", s}'; }
ms() { awk -v s="$1" 'BEGIN {if (s < 10) printf "%.2f ms", s; else printf "%.0f ms", s}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a > 0 && b > 0) printf (b/a < 10 ? "%.1fx" : "%.0fx"), b/a; else print "-"}'; }

ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 |"); }
NOTES=()

# ------------------------------------------------ a. batch check of a set --
say "a. tokenguard check on the $SET_NAME ($SET_FILES files, $SET_MB MB), median of $RUNS"
read -r tg_s tg_kb < <(median "$RUNS" "$WORK/tg.out" "$TG" check --format json --color never "$SET")
tg_findings=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(f.get("code")=="TG001" for f in d))' "$WORK/tg.out" 2>/dev/null || echo "?")
TG_CELL="$(secs "$tg_s"), $(mb "$tg_kb")"
SET_ROW="check the $SET_NAME ($SET_FILES files, $SET_MB MB)"

if [ -n "$CHECKOV" ]; then
    say "a. Checkov on the $SET_NAME, 1 run (minutes on the whole corpus)"
    read -r ck_s ck_kb < <(timed "$WORK/checkov.out" "$CHECKOV" -d "$SET" --framework kubernetes \
        --check CKV_K8S_38 --quiet --compact)
    ck_failed=$(grep -c 'Check: CKV_K8S_38' "$WORK/checkov.out" || true)
    row "$SET_ROW" "$TG_CELL" \
        "Checkov $("$CHECKOV" --version 2>/dev/null | tail -1) \`--check CKV_K8S_38\`: $(secs "$ck_s"), $(mb "$ck_kb")" \
        "$(ratio "$tg_s" "$ck_s")"
    NOTES+=("findings: tokenguard $tg_findings TG001; Checkov $ck_failed failed CKV_K8S_38 checks (Checkov counts per resource and skips what it cannot parse)")
else
    row "$SET_ROW" "$TG_CELL" "Checkov: not installed" "-"
fi

say "a. parser floor: yaml-rust2 events, same files, same threads, median of $RUNS"
read -r fl_s fl_kb < <(median "$RUNS" "$WORK/floor.out" "$FLOOR" "$SET")
row "$SET_ROW" "$TG_CELL" \
    "parser floor, yaml-rust2 events only ($(nproc) threads): $(secs "$fl_s"), $(mb "$fl_kb")" \
    "$(ratio "$tg_s" "$fl_s")"

if [ -n "$PYTHON_YAML" ]; then
    cat >"$WORK/pyyaml_load.py" <<'EOF'
import os, sys, time, yaml
start = time.monotonic()
files = docs = errors = 0
for root, _, names in os.walk(sys.argv[1]):
    for name in names:
        if not name.lower().endswith((".yaml", ".yml")):
            continue
        with open(os.path.join(root, name), "rb") as f:
            data = f.read()
        files += 1
        try:
            docs += sum(1 for _ in yaml.load_all(data, Loader=yaml.CSafeLoader))
        except Exception:
            errors += 1
print(f"files {files} documents {docs} errors {errors} seconds {time.monotonic() - start:.3f}")
EOF
    py_runs=$RUNS
    [ $QUICK = 1 ] || py_runs=3
    say "a. PyYAML CSafeLoader (libyaml) load_all, median of $py_runs"
    read -r py_s py_kb < <(median "$py_runs" "$WORK/pyyaml.out" "$PYTHON_YAML" "$WORK/pyyaml_load.py" "$SET")
    row "$SET_ROW" "$TG_CELL" \
        "PyYAML $("$PYTHON_YAML" -c 'import yaml; print(yaml.__version__)') CSafeLoader load_all (libyaml, 1 thread): $(secs "$py_s"), $(mb "$py_kb")" \
        "$(ratio "$tg_s" "$py_s")"
else
    row "$SET_ROW" "$TG_CELL" "PyYAML with libyaml: not installed" "-"
fi

# ------------------------------------------ b. language server, open file --
# tokenguard: the latency harness with no edits; median of the runs.
tg_open() {
    local file=$1 i
    for ((i = 0; i < RUNS; i++)); do
        "$LATENCY" "$TG" "$file" 0 >"$WORK/latency.out" 2>&1 || continue
        awk '/didOpen -> publishDiagnostics/ {o=$(NF-1)} /server memory/ {p=$(NF-2)} END {print o, p*1024}' "$WORK/latency.out"
    done | sort -n | awk '{t[NR]=$1; if ($2>m) m=$2} END {print t[int((NR+1)/2)], m}'
}
yls_open() { # FILE SCHEMA -> "seconds rss_kb diagnostics first-message" or "error text"
    python3 "$ROOT/bench/lsp_open_time.py" --schema "$2" --timeout 600 "$1" -- node "$YLS" --stdio \
        >"$WORK/yls.json" 2>/dev/null
    python3 - "$WORK/yls.json" <<'EOF'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print("error", "driver failed"); sys.exit()
if "seconds" not in r:
    print("error", r.get("error", "no diagnostics")); sys.exit()
first = (r["first_messages"] or ["(none)"])[0][:70]
print(r["seconds"], r["peak_rss_kb"], r["diagnostics"], first)
EOF
}
YLS_VERSION=""
[ -n "$YLS" ] && YLS_VERSION=$(node -p "require('$YLS_DIR/node_modules/yaml-language-server/package.json').version" 2>/dev/null)
for input in argo-2mb argo-20mb; do
    file=$WORK/$input.yaml
    size=${input#argo-}
    size=${size%mb}" MB"
    say "b. didOpen -> publishDiagnostics on the $size file: tokenguard (median of $RUNS)"
    read -r to_ms to_kb < <(tg_open "$file")
    to_s=$(awk -v m="$to_ms" 'BEGIN {print m/1000}')
    TO_CELL="$(ms "$to_ms"), $(mb "$to_kb")"
    if [ -z "$YLS" ]; then
        row "open the $size file: didOpen→diagnostics" "$TO_CELL" "yaml-language-server: not installed" "-"
        continue
    fi
    for schema in "$SCHEMA" kubernetes; do
        [ -n "$schema" ] || continue
        if [ "$schema" = kubernetes ]; then
            what="built-in \`kubernetes\` schema (offline: its download fails)"
        else
            what="local Kubernetes schema${SCHEMA_VERSION:+ $SCHEMA_VERSION}"
        fi
        say "b. yaml-language-server $YLS_VERSION on the $size file, $what, 1 run"
        read -r y_s y_kb y_n y_first < <(yls_open "$file" "$schema")
        if [ "$y_s" = error ]; then
            row "open the $size file: didOpen→diagnostics" "$TO_CELL" \
                "yaml-language-server $YLS_VERSION, $what: failed: $y_kb $y_n $y_first" "-"
        else
            row "open the $size file: didOpen→diagnostics" "$TO_CELL" \
                "yaml-language-server $YLS_VERSION, $what: $(secs "$y_s"), $(mb "$y_kb")" \
                "$(ratio "$to_s" "$y_s")"
            NOTES+=("yaml-language-server, $size, $what: $y_n diagnostics, e.g. \"$y_first\"")
        fi
    done
done

# ---------------------------------------------- c. language server, edits --
for input in cert-manager-1mb argo-20mb; do
    file=$WORK/$input.yaml
    say "c. didChange -> publishDiagnostics, 200 one-character edits, on $input"
    if "$LATENCY" "$TG" "$file" 200 >"$WORK/latency.out" 2>&1; then
        p50=$(awk '/didChange/ {for (i=1;i<=NF;i++) if ($i=="p50") print $(i+1)}' "$WORK/latency.out")
        p95=$(awk '/didChange/ {for (i=1;i<=NF;i++) if ($i=="p95") print $(i+1)}' "$WORK/latency.out")
        peak=$(awk '/server memory/ {print $(NF-2)}' "$WORK/latency.out")
        case $input in
            cert-manager-1mb) label="1 MB file (knative's cert-manager.yaml)" ;;
            *) label="20 MB file" ;;
        esac
        row "edit the $label: didChange→diagnostics, 200 edits" \
            "p50 $p50 ms, p95 $p95 ms; ${peak%.*} MB" "(no peer measured)" "-"
    else
        row "edit $input, didChange→diagnostics" "failed: $(tail -1 "$WORK/latency.out")" "-" "-"
    fi
done

# ------------------------------------------------------------------ print --
mem_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo)
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
echo
echo "Machine: $(nproc) CPUs ($cpu), $(awk -v k="$mem_kb" 'BEGIN {printf "%.0f GiB", k/1048576}') RAM, $(uname -sr)"
echo "tokenguard $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)$(cd "$ROOT" && git diff --quiet HEAD -- crates 2>/dev/null || echo '+changes'); inputs: $SET_NAME $SET_FILES files, $SET_MB MB; 2 MB = argo-cd manifests/ha/install-with-hydrator.yaml, 20 MB = it x10"
echo
echo "| measurement | tokenguard | peer | ratio |"
echo "| --- | --- | --- | --- |"
printf '%s\n' "${ROWS[@]}"
echo
echo "Cells: wall time, then peak RSS. Ratio: peer time / tokenguard time (below 1: the peer is faster)."
echo "Medians of $RUNS runs (PyYAML: ${py_runs:-$RUNS}), except Checkov and yaml-language-server: 1 run each; didChange: 200 edits in one server."
for note in "${NOTES[@]}"; do echo "- $note"; done
