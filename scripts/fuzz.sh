#!/usr/bin/env bash
# Fuzzes tokenguard with cargo-fuzz (libFuzzer): every target of fuzz/ for a
# while, one after another, on corpora seeded from the committed seeds, the
# test fixtures and (when it is there) a sample of ../shared/corpus.
#
#   scripts/fuzz.sh                     # every target, 60 s each
#   scripts/fuzz.sh 600 positions       # one target, 10 minutes
#   FUZZ_SECONDS=1200 scripts/fuzz.sh   # every target, 20 minutes each
#
# Environment: FUZZ_SECONDS (default 60), FUZZ_SANITIZER (address | none,
# default address), FUZZ_SAMPLE (files taken from the shared corpus, default
# 300), TOKENGUARD_CORPUS (default ../shared/corpus beside the repository).
# The machine's stable Rust is enough: RUSTC_BOOTSTRAP=1 unlocks the nightly
# flags cargo fuzz needs. Exits 1 when a target found a crash; its input is
# in fuzz/artifacts/<target>/, to replay with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> -a fuzz/artifacts/<target>/<file>
# (from fuzz/'s parent directory), and to keep as a regression test in
# tests/fuzz_regressions/.
set -euo pipefail

ALL_TARGETS=(analyze_bytes fix_pipeline incremental_edits positions)

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

seconds=${FUZZ_SECONDS:-60}
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
    [[ -f fuzz/fuzz_targets/$t.rs ]] || { echo "no fuzz target '$t' (have: ${ALL_TARGETS[*]})" >&2; exit 2; }
done
sanitizer=${FUZZ_SANITIZER:-address}
sample=${FUZZ_SAMPLE:-300}
shared=${TOKENGUARD_CORPUS:-$root/../shared/corpus}

export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz
fi

# Seeds: the committed ones, the test fixtures, small files of the shared
# corpus. Copied at run time (the corpus directories are not committed).
seed() {
    local target=$1 dir=fuzz/corpus/$1
    mkdir -p "$dir"
    if [[ -d fuzz/seeds/$target ]]; then
        cp fuzz/seeds/"$target"/* "$dir"/
    fi
    if [[ -d fuzz/seeds/common ]]; then
        cp fuzz/seeds/common/* "$dir"/
    fi
    local f
    while IFS= read -r f; do
        cp "$f" "$dir/fixture__$(echo "${f#tests/fixtures/}" | tr '/' '_')"
    done < <(find tests/fixtures -type f \( -name '*.yaml' -o -name '*.yml' \) | sort)
    if [[ -d $shared && $sample -gt 0 ]]; then
        # Small files, spread over the whole corpus (every k-th by path).
        local small count step
        small=$(find "$shared" -type f \( -name '*.yaml' -o -name '*.yml' \) -size -6k | sort)
        count=$(printf '%s\n' "$small" | grep -c . || true)
        if [[ $count -gt 0 ]]; then
            step=$(( count / sample > 0 ? count / sample : 1 ))
            while IFS= read -r f; do
                cp "$f" "$dir/shared__$(printf '%s' "${f#"$shared"/}" | tr '/' '_')"
            done < <(printf '%s\n' "$small" | awk -v k="$step" -v n="$sample" 'NR % k == 0 && c < n { print; c++ }')
        fi
    fi
}

flags=(--debug-assertions --sanitizer "$sanitizer")
echo "== building the fuzz targets (sanitizer: $sanitizer, debug assertions on)"
cargo fuzz build "${flags[@]}"

mkdir -p fuzz/logs
failed=()
summary=()
for t in "${targets[@]}"; do
    seed "$t"
    before=$(find "fuzz/corpus/$t" -type f | wc -l)
    log=fuzz/logs/$t.log
    echo "== $t: ${seconds}s, corpus of $before inputs (log: $log)"
    start=$(date +%s)
    status=0
    cargo fuzz run "${flags[@]}" "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -timeout=20 -max_len=16384 -rss_limit_mb=4096 \
        -print_final_stats=1 >"$log" 2>&1 || status=$?
    elapsed=$(( $(date +%s) - start ))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
    after=$(find "fuzz/corpus/$t" -type f | wc -l)
    crashes=$(find "fuzz/artifacts/$t" -type f 2>/dev/null | wc -l)
    line="$t: ${execs:-?} executions in ${elapsed}s (${rate:-?}/s), corpus $before -> $after, artifacts $crashes"
    if [[ $status -ne 0 ]]; then
        line="$line, FAILED (exit $status)"
        failed+=("$t")
        grep -E 'panicked at|^SUMMARY|Test unit written to|ERROR: libFuzzer' "$log" | head -8 || true
    fi
    echo "$line"
    summary+=("$line")
done

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
