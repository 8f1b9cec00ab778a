#!/usr/bin/env bash
# tokenguard beside its floors and its peers, measured in one run: see
# usage() below, or `bench/compare.sh --help`.

set -u -o pipefail

usage() {
    cat <<'EOF'
bench/compare.sh: tokenguard beside its floors and its peers, measured in one run.

Usage: bench/compare.sh [OPTIONS]

Options:
  --install         install the peers first, by package name, into bench/peers/
                    (gitignored): Checkov, PyYAML and kubernetes-validate (for
                    its Kubernetes JSON schemas) from PyPI into a venv, and
                    yaml-language-server from npm
  --no-peers        measure no peer, even the installed ones
  --quick           check a subset (the 2 MB argo-cd file and a 1-resource
                    manifest) instead of the whole corpus
  --runs N          runs behind each median (default 5); tokenguard and its
                    floor run alternately
  --edits N         one-character edits in the keystroke rows (default 200)
  --corpus DIR      the corpus (default: ../shared/corpus beside the
                    repository, or $TOKENGUARD_CORPUS)
  --tokenguard BIN  measure this binary instead of building
                    target/release/tokenguard
  --harnesses DIR   take the latency, parse_floor and open_floor examples from
                    DIR instead of building them (release profile)
  --update-readme   write the machine, commit and table into README.md's
                    Performance section (bench/readme_table.py)
  -h, --help        print this text

Prints the machine, the commit and the inputs, then one markdown table whose
columns are:
  | measurement | tokenguard | floor | tokenguard / floor | peer | peer / tokenguard | target | result |
and whose rows are, in this order:
  row: check: wall time
  row: check: peak memory
  row: didOpen → diagnostics, 2 MB file
  row: didOpen → diagnostics, 20 MB file
  row: didChange → diagnostics, 20 MB file, p50
  row: didChange → diagnostics, 20 MB file, p95
  row: server peak memory, 20 MB file open through the edits

The floors: `check` against parse_floor (yaml-rust2's bare event parse of the
same files on all cores); didOpen against open_floor (read the didOpen body,
decode it once with serde_json as tower-lsp-server does, split the text into
documents, event-parse them on all cores); memory against the text's size.
A note under the table gives the latency harness's own part of didOpen (the
same notification to bench/null_server.py, a server that does nothing).
The peers: Checkov and PyYAML (CSafeLoader) for check, yaml-language-server
for didOpen and memory. A peer that is not installed is "not measured"; a
target that needs it is judged on the rest. Wall time from the shell's clock,
peak memory from /usr/bin/time (the server's from /proc, VmHWM).

Exit status: 0 when every row was measured (a miss is not a failure), 1 when
a tokenguard or floor measurement failed, 2 on bad usage.
EOF
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OPTIONS_USED=" $*"
PEERS=${TOKENGUARD_PEERS:-$ROOT/bench/peers}
CORPUS=${TOKENGUARD_CORPUS:-$ROOT/../shared/corpus}
INSTALL=0
QUICK=0
NO_PEERS=0
UPDATE_README=0
RUNS=5
EDITS=200
TG=""
HARNESSES=""

say() { echo "compare.sh: $*" >&2; }
positive() { [[ $2 =~ ^[1-9][0-9]*$ ]] || { say "$1 needs a positive number, not '$2'"; exit 2; }; }
needs_value() { [ $# -ge 2 ] || { say "$1 needs a value (see --help)"; exit 2; }; }

while [ $# -gt 0 ]; do
    case $1 in
        --install) INSTALL=1 ;;
        --no-peers) NO_PEERS=1 ;;
        --quick) QUICK=1 ;;
        --update-readme) UPDATE_README=1 ;;
        --runs) needs_value "$@"; positive --runs "$2"; RUNS=$2; shift ;;
        --edits) needs_value "$@"; positive --edits "$2"; EDITS=$2; shift ;;
        --corpus) needs_value "$@"; CORPUS=$2; shift ;;
        --tokenguard) needs_value "$@"; TG=$2; shift ;;
        --harnesses) needs_value "$@"; HARNESSES=$2; shift ;;
        -h | --help) usage; exit 0 ;;
        *) say "unknown option: $1 (see --help)"; exit 2 ;;
    esac
    shift
done

if [ ! -d "$CORPUS" ]; then
    say "corpus not found at $CORPUS; pass --corpus DIR (or set TOKENGUARD_CORPUS)"
    exit 2
fi
CORPUS=$(cd "$CORPUS" && pwd)
ARGO=$CORPUS/argoproj__argo-cd/manifests/ha/install-with-hydrator.yaml
SMALL=$CORPUS/GoogleCloudPlatform__kubernetes-engine-samples/ai-ml/adk-vllm/deploy-agent/deploy-agent.yaml
for f in "$ARGO" "$SMALL"; do
    [ -f "$f" ] || { say "corpus file missing: $f"; exit 2; }
done
for tool in python3 awk; do
    command -v $tool >/dev/null || { say "$tool is needed"; exit 2; }
done
[ -x /usr/bin/time ] || { say "/usr/bin/time is needed for peak memory (Debian package: time)"; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tokenguard-compare.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)

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
            || say "skipped: pip install failed (Checkov / PyYAML will be not measured)"
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
        sed 's#"/api/_definitions.json\##"_definitions.json\##' "$shipped/all.json" >"$SCHEMA_DIR/all.json.tmp" \
            && mv "$SCHEMA_DIR/all.json.tmp" "$SCHEMA_DIR/all.json"
        basename "$shipped" >"$SCHEMA_DIR/VERSION"
        say "Kubernetes schema $(cat "$SCHEMA_DIR/VERSION") in $SCHEMA_DIR"
    else
        say "skipped: local Kubernetes schema (kubernetes-validate not installed)"
    fi
fi

CHECKOV=""
PYTHON_YAML=""
YLS=""
SCHEMA=""
if [ $NO_PEERS = 0 ]; then
    CHECKOV=$CHECKOV_VENV/bin/checkov
    [ -x "$CHECKOV" ] || CHECKOV=$(command -v checkov || true)
    for py in "$CHECKOV_VENV/bin/python" python3; do
        if "$py" -c 'import yaml; assert yaml.__with_libyaml__' 2>/dev/null; then PYTHON_YAML=$py; break; fi
    done
    YLS=$YLS_DIR/node_modules/yaml-language-server/bin/yaml-language-server
    command -v node >/dev/null && [ -f "$YLS" ] || YLS=""
    [ -f "$SCHEMA_DIR/all.json" ] && SCHEMA=$SCHEMA_DIR/all.json
fi
SCHEMA_VERSION=$(cat "$SCHEMA_DIR/VERSION" 2>/dev/null || true)

# ------------------------------------------------------------------ build --
if [ -z "$TG" ]; then
    say "building tokenguard (release)"
    (cd "$ROOT" && cargo build --release --locked --quiet --bin tokenguard) || { say "cargo build failed"; exit 1; }
    TG=$ROOT/target/release/tokenguard
fi
[ -x "$TG" ] || { say "not an executable: $TG"; exit 2; }
if [ -z "$HARNESSES" ]; then
    say "building the harnesses (release): latency, parse_floor, open_floor"
    (cd "$ROOT" && cargo build --release --locked --quiet -p tokenguard-lsp --example latency \
        && cargo build --release --locked --quiet -p tokenguard-analysis --example parse_floor --example open_floor) || {
        say "cargo build failed"
        exit 1
    }
    HARNESSES=$ROOT/target/release/examples
fi
LATENCY=$HARNESSES/latency
NULL_SERVER=$ROOT/bench/null_server.py
FLOOR=$HARNESSES/parse_floor
OPEN_FLOOR=$HARNESSES/open_floor
for h in "$LATENCY" "$FLOOR" "$OPEN_FLOOR"; do
    [ -x "$h" ] || { say "harness missing: $h"; exit 2; }
done

# ----------------------------------------------------------------- inputs --
# Copies named *.yaml, so that yaml-language-server's "*.yaml" schema glob
# applies; the 20 MB input is the argo-cd file ten times, joined by ---. Each
# has the JSON body of its didOpen notification beside it, for open_floor.
cp "$ARGO" "$WORK/argo-2mb.yaml"
python3 - "$ARGO" "$WORK" <<'EOF'
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
if not text.endswith("\n"):
    text += "\n"
big = "---\n".join([text] * 10)
open(sys.argv[2] + "/argo-20mb.yaml", "w", encoding="utf-8").write(big)
for name, t in (("argo-2mb", text), ("argo-20mb", big)):
    body = {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": "file:///bench/manifest.yaml", "languageId": "yaml", "version": 1, "text": t}}}
    open(f"{sys.argv[2]}/{name}.didopen.json", "w", encoding="utf-8").write(json.dumps(body))
EOF
if [ $QUICK = 1 ]; then
    SET=$WORK/subset
    mkdir -p "$SET"
    cp "$ARGO" "$SET/install-with-hydrator.yaml"
    cp "$SMALL" "$SET/deploy-agent.yaml"
    SET_NAME="a subset (the 2 MB argo-cd file and a 1-resource file)"
else
    SET=$CORPUS
    SET_NAME="the corpus"
fi
SET_MB=$(find "$SET" -type f \( -iname '*.yaml' -o -iname '*.yml' \) -printf '%s\n' | awk '{s+=$1} END {printf "%.1f", s/1e6}')
SET_FILES=$(find "$SET" -type f \( -iname '*.yaml' -o -iname '*.yml' \) | wc -l)
BIG_MB=$(awk -v b="$(stat -c %s "$WORK/argo-20mb.yaml")" 'BEGIN {printf "%.1f", b/1e6}')

# ---------------------------------------------------------------- helpers --
# timed LOG CMD...: runs CMD once (its output to LOG, its errors to LOG.err);
# prints "seconds rss_kb status": seconds from the shell's clock, peak RSS from
# /usr/bin/time.
timed() {
    local log=$1 start end status
    shift
    start=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$WORK/time" "$@" >"$log" 2>"$log.err"
    status=$?
    end=$(date +%s%N)
    echo "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.4f", (b - a) / 1e9}') $(tail -1 "$WORK/time" | awk '{print $1+0}') $status"
}
# median FILE [COLUMN]: the median of a column (default 1) of FILE's lines.
median() { sort -g -k"${2:-1},${2:-1}" "$1" | awk -v c="${2:-1}" '{v[NR]=$c} END {if (NR) print v[int((NR+1)/2)]; else print ""}'; }
# highest FILE COLUMN: the highest value of a column.
highest() { awk -v c="$2" '$c+0 > m {m=$c+0} END {print m+0}' "$1"; }
mb() { awk -v k="$1" 'BEGIN {if (k >= 1048576) printf "%.1f GB", k/1048576; else printf "%.0f MB", k/1024}'; }
secs() { awk -v s="$1" 'BEGIN {if (s < 10) printf "%.2f s", s; else printf "%.0f s", s}'; }
ms() { awk -v s="$1" 'BEGIN {if (s < 10) printf "%.1f ms", s; else printf "%.0f ms", s}'; }
# ratio A B: A / B, as "3.4x" ("-" when either is missing or zero).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a > 0 && b > 0) printf (a/b < 10 ? "%.2fx" : "%.0fx"), a/b; else print "-"}'; }
# le A B: whether A <= B (numbers).
le() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a != "" && a <= b)}'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a != "" && a < b)}'; }
# latency output: field VALUE of the line matching PATTERN.
lat_open() { sed -n 's/.*didOpen -> publishDiagnostics: \([0-9.]*\) ms.*/\1/p' "$1" | head -1; }
lat_pct() { sed -n "s/.*didChange -> publishDiagnostics.* $2 \\([0-9.]*\\) ms.*/\\1/p" "$1" | head -1; }
lat_mem() { sed -n "s/.*server memory:.* \\([0-9.]*\\) MB $2.*/\\1/p" "$1" | head -1; }

ROWS=()
NOTES=()
FAILED=()
# row MEASUREMENT TOKENGUARD FLOOR TG/FLOOR PEER PEER/TG TARGET RESULT
row() {
    local out="|" cell
    for cell in "$@"; do out+=" $cell |"; done
    ROWS+=("$out")
}
# verdict "name:1|0|?" ...: "pass" or "miss (names)", then the parts that
# could not be judged (their peer was not measured).
verdict() {
    local misses=() unjudged=() part out
    for part in "$@"; do
        case $part in
            *:0) misses+=("${part%:0}") ;;
            *:1) ;;
            *) unjudged+=("${part%:*}") ;;
        esac
    done
    if [ ${#misses[@]} = 0 ]; then out=pass; else out="miss ($(join "${misses[@]}"))"; fi
    [ ${#unjudged[@]} = 0 ] || out+="; not judged: $(join "${unjudged[@]}")"
    echo "$out"
}
join() { local IFS=';'; echo "$*" | sed 's/;/; /g'; }
judge() { if "$@"; then echo 1; else echo 0; fi; }

# ------------------------------------------------- a. check: CLI vs floor --
say "a. tokenguard check and parse_floor on $SET_NAME ($SET_FILES files, $SET_MB MB), alternately, $RUNS runs each"
: >"$WORK/a.tg"
: >"$WORK/a.floor"
for ((i = 0; i < RUNS; i++)); do
    read -r s kb st < <(timed "$WORK/tg.out" "$TG" check --format json --color never "$SET")
    if [ "$st" -le 1 ]; then echo "$s $kb" >>"$WORK/a.tg"; else FAILED+=("tokenguard check exited $st: $(tail -1 "$WORK/tg.out.err")"); fi
    read -r s kb st < <(timed "$WORK/floor.out" "$FLOOR" "$SET")
    if [ "$st" = 0 ]; then echo "$s $kb" >>"$WORK/a.floor"; else FAILED+=("parse_floor exited $st: $(tail -1 "$WORK/floor.out.err")"); fi
done
tg_s=$(median "$WORK/a.tg" 1)
tg_kb=$(highest "$WORK/a.tg" 2)
fl_s=$(median "$WORK/a.floor" 1)
fl_kb=$(highest "$WORK/a.floor" 2)
tg_findings=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(f.get("code")=="TG001" for f in d))' "$WORK/tg.out" 2>/dev/null || echo "?")
NOTES+=("parse_floor: $(tail -1 "$WORK/floor.out")")

peer_s=()
peer_kb=()
peer_s_ratio=()
peer_kb_ratio=()
if [ -n "$CHECKOV" ]; then
    say "a. Checkov on $SET_NAME, 1 run (minutes on the whole corpus)"
    read -r ck_s ck_kb st < <(timed "$WORK/checkov.out" "$CHECKOV" -d "$SET" --framework kubernetes \
        --check CKV_K8S_38 --quiet --compact)
    ck_version=$("$CHECKOV" --version 2>/dev/null | tail -1)
    ck_failed=$(grep -c 'Check: CKV_K8S_38' "$WORK/checkov.out" || true)
    peer_s+=("Checkov $ck_version: $(secs "$ck_s")")
    peer_kb+=("Checkov: $(mb "$ck_kb")")
    peer_s_ratio+=("$(ratio "$ck_s" "$tg_s")")
    peer_kb_ratio+=("$(ratio "$ck_kb" "$tg_kb")")
    NOTES+=("findings: tokenguard $tg_findings TG001; Checkov (\`--check CKV_K8S_38\`, 1 run) $ck_failed failed checks (Checkov counts per resource and skips what it cannot parse)")
else
    peer_s+=("Checkov: not measured")
    peer_kb+=("Checkov: not measured")
fi
if [ -n "$PYTHON_YAML" ]; then
    cat >"$WORK/pyyaml_load.py" <<'EOF'
import os, sys, yaml
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
print(f"files {files} documents {docs} errors {errors}")
EOF
    py_runs=$(( RUNS < 3 ? RUNS : 3 ))
    say "a. PyYAML CSafeLoader (libyaml) load_all, $py_runs runs"
    : >"$WORK/a.py"
    for ((i = 0; i < py_runs; i++)); do
        read -r s kb st < <(timed "$WORK/pyyaml.out" "$PYTHON_YAML" "$WORK/pyyaml_load.py" "$SET")
        echo "$s $kb" >>"$WORK/a.py"
    done
    py_s=$(median "$WORK/a.py" 1)
    py_kb=$(highest "$WORK/a.py" 2)
    py_version=$("$PYTHON_YAML" -c 'import yaml; print(yaml.__version__)')
    peer_s+=("PyYAML $py_version CSafeLoader load_all, 1 thread: $(secs "$py_s")")
    peer_kb+=("PyYAML: $(mb "$py_kb")")
    peer_s_ratio+=("$(ratio "$py_s" "$tg_s")")
    peer_kb_ratio+=("$(ratio "$py_kb" "$tg_kb")")
else
    peer_s+=("PyYAML: not measured")
    peer_kb+=("PyYAML: not measured")
fi
[ ${#peer_s_ratio[@]} -gt 0 ] || peer_s_ratio=("-")
[ ${#peer_kb_ratio[@]} -gt 0 ] || peer_kb_ratio=("-")

if [ -n "$tg_s" ] && [ -n "$fl_s" ]; then
    x=$(awk -v a="$tg_s" -v b="$fl_s" 'BEGIN {print a/b}')
    row "check: wall time" "$(secs "$tg_s")" "$(secs "$fl_s")" "$(ratio "$tg_s" "$fl_s")" \
        "$(join "${peer_s[@]}")" "$(join "${peer_s_ratio[@]}")" "≤ 1.2x floor" \
        "$(verdict "≤ 1.2x floor:$(judge le "$x" 1.2)")"
    row "check: peak memory" "$(mb "$tg_kb")" "$(mb "$fl_kb")" "$(ratio "$tg_kb" "$fl_kb")" \
        "$(join "${peer_kb[@]}")" "$(join "${peer_kb_ratio[@]}")" "< 64 MB" \
        "$(verdict "< 64 MB:$(judge lt "$tg_kb" 65536)")"
else
    row "check: wall time" "failed" "-" "-" "-" "-" "≤ 1.2x floor" "-"
    row "check: peak memory" "failed" "-" "-" "-" "-" "< 64 MB" "-"
fi

# ----------------------------------------------- b. didOpen vs open floor --
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
YLS_MEM_20=()
YLS_KB_20=()
for input in argo-2mb argo-20mb; do
    file=$WORK/$input.yaml
    size=${input#argo-}
    size=${size%mb}" MB"
    label="didOpen → diagnostics, $size file"
    say "b. didOpen -> publishDiagnostics on the $size file: tokenguard and open_floor, alternately, $RUNS runs each"
    : >"$WORK/b.tg"
    : >"$WORK/b.floor"
    : >"$WORK/b.null"
    for ((i = 0; i < RUNS; i++)); do
        if "$LATENCY" "$TG" "$file" 0 >"$WORK/latency.out" 2>&1 && [ -n "$(lat_open "$WORK/latency.out")" ]; then
            echo "$(lat_open "$WORK/latency.out") $(lat_mem "$WORK/latency.out" 'after open')" >>"$WORK/b.tg"
        else
            FAILED+=("latency, didOpen of the $size file: $(tail -1 "$WORK/latency.out")")
        fi
        read -r s kb st < <(timed "$WORK/open_floor.out" "$OPEN_FLOOR" "$WORK/$input.didopen.json")
        if [ "$st" = 0 ]; then
            echo "$(sed -n 's/.*total_ms \([0-9.]*\).*/\1/p' "$WORK/open_floor.out") $kb" >>"$WORK/b.floor"
        else
            FAILED+=("open_floor on the $size file exited $st: $(tail -1 "$WORK/open_floor.out.err")")
        fi
        # The harness's own part: the same didOpen to a server that does nothing.
        if "$LATENCY" "$NULL_SERVER" "$file" 0 >"$WORK/null.out" 2>&1 && [ -n "$(lat_open "$WORK/null.out")" ]; then
            lat_open "$WORK/null.out" >>"$WORK/b.null"
        else
            FAILED+=("latency against bench/null_server.py, $size file: $(tail -1 "$WORK/null.out")")
        fi
    done
    to_ms=$(median "$WORK/b.tg" 1)
    fo_ms=$(median "$WORK/b.floor" 1)
    tr_ms=$(median "$WORK/b.null" 1)
    if [ -n "$to_ms" ] && [ -n "$fo_ms" ] && [ -n "$tr_ms" ]; then
        NOTES+=("didOpen, $size: the harness's own transport (latency.rs against bench/null_server.py, a server that does nothing) takes $(ms "$tr_ms") of tokenguard's $(ms "$to_ms"); without it, tokenguard / floor = $(ratio "$(awk -v a="$to_ms" -v b="$tr_ms" 'BEGIN {print a-b}')" "$fo_ms")")
    fi
    NOTES+=("open_floor, $size: $(tail -1 "$WORK/open_floor.out")")
    yls_cells=()
    yls_ratios=()
    yls_best=""
    if [ -z "$YLS" ]; then
        yls_cells+=("yaml-language-server: not measured")
    else
        for schema in "$SCHEMA" kubernetes; do
            [ -n "$schema" ] || continue
            if [ "$schema" = kubernetes ]; then
                what="built-in \`kubernetes\` schema (offline: its download fails)"
                short="built-in schema, offline"
            else
                what="local Kubernetes schema${SCHEMA_VERSION:+ $SCHEMA_VERSION}"
                short="local schema"
            fi
            say "b. yaml-language-server $YLS_VERSION on the $size file, $what, 1 run"
            read -r y_s y_kb y_n y_first < <(yls_open "$file" "$schema")
            if [ "$y_s" = error ]; then
                yls_cells+=("yaml-language-server $YLS_VERSION, $short: failed ($y_kb $y_n $y_first)")
            else
                yls_cells+=("yaml-language-server $YLS_VERSION, $short: $(secs "$y_s")")
                yls_ratios+=("$(ratio "$(awk -v s="$y_s" 'BEGIN {print s*1000}')" "$to_ms")")
                x=$(awk -v s="$y_s" -v t="$to_ms" 'BEGIN {if (t > 0) print s*1000/t}')
                if [ -z "$yls_best" ] || lt "$x" "$yls_best"; then yls_best=$x; fi
                NOTES+=("yaml-language-server, $size, $what: $y_n diagnostics, e.g. \"$y_first\"")
                if [ "$input" = argo-20mb ]; then
                    YLS_MEM_20+=("yaml-language-server, $short: $(mb "$y_kb")")
                    YLS_KB_20+=("$y_kb")
                fi
            fi
        done
    fi
    [ ${#yls_ratios[@]} -gt 0 ] || yls_ratios=("-")
    if [ -n "$to_ms" ] && [ -n "$fo_ms" ]; then
        x=$(awk -v a="$to_ms" -v b="$fo_ms" 'BEGIN {print a/b}')
        peer_part="≥ 25x yaml-language-server:?"
        [ -n "$yls_best" ] && peer_part="≥ 25x yaml-language-server:$(judge le 25 "$yls_best")"
        row "$label" "$(ms "$to_ms")" "$(ms "$fo_ms")" "$(ratio "$to_ms" "$fo_ms")" \
            "$(join "${yls_cells[@]}")" "$(join "${yls_ratios[@]}")" "≤ 1.5x floor, ≥ 25x yaml-language-server" \
            "$(verdict "≤ 1.5x floor:$(judge le "$x" 1.5)" "$peer_part")"
    else
        row "$label" "${to_ms:-failed}" "${fo_ms:-failed}" "-" "$(join "${yls_cells[@]}")" "-" \
            "≤ 1.5x floor, ≥ 25x yaml-language-server" "-"
    fi
done

# --------------------------------------------- c, d. keystrokes and memory --
say "c. didChange -> publishDiagnostics, $EDITS one-character edits in one server, on the $BIG_MB MB file"
p50=""
p95=""
peak=""
if "$LATENCY" "$TG" "$WORK/argo-20mb.yaml" "$EDITS" >"$WORK/edits.out" 2>&1; then
    p50=$(lat_pct "$WORK/edits.out" p50)
    p95=$(lat_pct "$WORK/edits.out" p95)
    peak=$(lat_mem "$WORK/edits.out" peak)
    after_open=$(lat_mem "$WORK/edits.out" 'after open')
    NOTES+=("latency harness, $EDITS edits: $(grep -E 'didChange|server memory' "$WORK/edits.out" | tr '\n' ' ' | sed 's/ *$//')")
else
    FAILED+=("latency with $EDITS edits: $(tail -1 "$WORK/edits.out")")
fi
# Where the harness's edits land: its own "edits:" line when it prints one;
# else counted here (latency.rs edits the end of line i * 7919 mod lines).
if grep -q '^edits:' "$WORK/edits.out" 2>/dev/null; then
    NOTES+=("latency harness, $(grep -m1 '^edits:' "$WORK/edits.out")")
else
    NOTES+=("$(python3 - "$WORK/argo-20mb.yaml" "$EDITS" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
edits = int(sys.argv[2])
lines = text.split("\n")
starts, big = [0], 1_000_000
offset = 0
line_doc = []
doc = 0
sizes = {}
for line in lines:
    if offset and re.match(r"---([ \t\r]|$)", line):
        doc += 1
    line_doc.append(doc)
    sizes[doc] = sizes.get(doc, 0) + len(line) + 1
    offset += len(line) + 1
inside = sum(1 for i in range(edits) if sizes[line_doc[(i * 7919) % len(lines)]] > big)
print(f"edit positions (latency.rs: the end of line i*7919 mod {len(lines)}): {inside} of {edits} "
      f"inside a document over 1 MB (the argo-cd CRDs, {sum(1 for s in sizes.values() if s > big)} of {len(sizes)} documents)")
EOF
    )")
fi
row "didChange → diagnostics, 20 MB file, p50" "${p50:+$(ms "$p50")}" "-" "-" "(no peer measured)" "-" "< 2 ms" \
    "$( [ -n "$p50" ] && verdict "< 2 ms:$(judge lt "$p50" 2)" || echo -)"
row "didChange → diagnostics, 20 MB file, p95" "${p95:+$(ms "$p95")}" "-" "-" "(no peer measured)" "-" "< 5 ms" \
    "$( [ -n "$p95" ] && verdict "< 5 ms:$(judge lt "$p95" 5)" || echo -)"
text_mb=$(awk -v b="$(stat -c %s "$WORK/argo-20mb.yaml")" 'BEGIN {print b/1048576}')
if [ -n "$peak" ]; then
    peak_kb=$(awk -v m="$peak" 'BEGIN {print m*1024}')
    x=$(awk -v a="$peak" -v b="$text_mb" 'BEGIN {print a/b}')
    ratios=()
    for y_kb in "${YLS_KB_20[@]}"; do ratios+=("$(ratio "$y_kb" "$peak_kb")"); done
    [ ${#ratios[@]} -gt 0 ] || ratios=("-")
    if [ ${#YLS_MEM_20[@]} -gt 0 ]; then
        YLS_MEM_20[-1]+=" (peak over didOpen)"
    else
        YLS_MEM_20=("yaml-language-server: not measured")
    fi
    row "server peak memory, 20 MB file open through the edits" "$(mb "$peak_kb") (after didOpen: $(mb "$(awk -v m="$after_open" 'BEGIN {print m*1024}')"))" \
        "the text: $(mb "$(awk -v m="$text_mb" 'BEGIN {print m*1024}')")" "$(ratio "$peak" "$text_mb")" \
        "$(join "${YLS_MEM_20[@]}")" "$(join "${ratios[@]}")" "≤ 80 MB, ≤ 4x the text" \
        "$(verdict "≤ 80 MB:$(judge le "$peak" 80)" "≤ 4x the text:$(judge le "$x" 4)")"
else
    row "server peak memory, 20 MB file open through the edits" "failed" "-" "-" "-" "-" "≤ 80 MB, ≤ 4x the text" "-"
fi

# ------------------------------------------------------------------ print --
mem_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo)
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
commit=$(cd "$ROOT" && git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
dirty=""
(cd "$ROOT" && git diff --quiet HEAD -- crates Cargo.toml Cargo.lock 2>/dev/null) || dirty=" with uncommitted changes"
{
echo "Machine: $(nproc) CPUs ($cpu), $(awk -v k="$mem_kb" 'BEGIN {printf "%.0f GiB", k/1048576}') RAM, $(uname -sr); load average $LOAD_BEFORE at the start, $(cut -d' ' -f1 /proc/loadavg) at the end"
echo "Commit: tokenguard $commit$dirty ($(date -u +%Y-%m-%d)); bench/compare.sh$OPTIONS_USED"
echo "Inputs: check on $SET_NAME, $SET_FILES files, $SET_MB MB; 2 MB = argo-cd manifests/ha/install-with-hydrator.yaml; 20 MB = it 10 times ($BIG_MB MB)"
echo
echo "| measurement | tokenguard | floor | tokenguard / floor | peer | peer / tokenguard | target | result |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${ROWS[@]}"
echo
echo "Medians of $RUNS run(s), tokenguard and its floor alternately${py_runs:+ (PyYAML: $py_runs; Checkov and yaml-language-server: 1 run each)}; didChange: $EDITS edits in one server. Ratios above 1 in \"peer / tokenguard\": tokenguard is faster or smaller."
for note in "${NOTES[@]}"; do echo "- $note"; done
for failure in "${FAILED[@]}"; do echo "- FAILED: $failure"; done
} >"$WORK/result.md"
cat "$WORK/result.md"

if [ $UPDATE_README = 1 ]; then
    say "writing the table into README.md"
    python3 "$ROOT/bench/readme_table.py" "$WORK/result.md" "$ROOT/README.md" || exit 1
fi
[ ${#FAILED[@]} = 0 ]
