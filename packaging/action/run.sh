#!/usr/bin/env bash
# Runs `tokenguard check` with the composite action's inputs (action.yml);
# testable without GitHub (.ci/e2e/40-action).
#
# Environment:
#   TOKENGUARD                 the executable (default: tokenguard on PATH)
#   TOKENGUARD_PATHS           whitespace-separated paths to check (default: .)
#   TOKENGUARD_FORMAT          github (annotations, the default) | sarif | human | json
#   TOKENGUARD_SARIF_FILE      where format sarif writes (default: tokenguard.sarif)
#   TOKENGUARD_FAIL_ON_FINDINGS  true (default) | false: whether findings
#                              (exit 1) fail the step; errors (exit 2) always do
#   TOKENGUARD_ARGS            extra arguments for `tokenguard check`,
#                              whitespace-separated
#   GITHUB_OUTPUT              set by GitHub: sarif-file and exit-code are written
set -euo pipefail

die() {
    printf '::error title=tokenguard::%s\n' "$*"
    printf 'tokenguard: %s\n' "$*" >&2
    exit 2
}

tokenguard=${TOKENGUARD:-tokenguard}
format=${TOKENGUARD_FORMAT:-github}
sarif_file=${TOKENGUARD_SARIF_FILE:-tokenguard.sarif}
fail_on_findings=${TOKENGUARD_FAIL_ON_FINDINGS:-true}

case "$format" in
    github | sarif | human | json) ;;
    *) die "format '$format' is not one of: github, sarif, human, json" ;;
esac
case "$fail_on_findings" in
    true | false) ;;
    *) die "fail-on-findings '$fail_on_findings' is not true or false" ;;
esac

read -r -a paths <<< "${TOKENGUARD_PATHS:-.}"
((${#paths[@]})) || paths=(.)
read -r -a extra <<< "${TOKENGUARD_ARGS:-}"

# ${a[@]+"${a[@]}"}: an empty array under set -u, also in bash 3.2 (macOS).
command=("$tokenguard" check --format "$format" ${extra[@]+"${extra[@]}"} -- "${paths[@]}")
echo "+ ${command[*]}" >&2
status=0
if [[ "$format" == sarif ]]; then
    mkdir -p "$(dirname "$sarif_file")"
    "${command[@]}" > "$sarif_file" || status=$?
    [[ -s "$sarif_file" ]] || die "tokenguard wrote no SARIF to $sarif_file (exit $status)"
    echo "SARIF written to $sarif_file" >&2
else
    "${command[@]}" || status=$?
fi

if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    {
        [[ "$format" == sarif ]] && echo "sarif-file=$sarif_file"
        echo "exit-code=$status"
    } >> "$GITHUB_OUTPUT"
fi

case $status in
    0) exit 0 ;;
    1)
        if [[ "$fail_on_findings" == true ]]; then
            echo "tokenguard found problems (exit 1); set fail-on-findings: false to report them without failing" >&2
            exit 1
        fi
        echo "tokenguard found problems; fail-on-findings is false, so the step passes" >&2
        exit 0
        ;;
    *) die "tokenguard failed (exit $status)" ;;
esac
