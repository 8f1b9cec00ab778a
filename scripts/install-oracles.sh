#!/usr/bin/env bash
# Installs the reference implementations the differential tests compare
# tokenguard with, by package name, and only what is missing:
#
# - go-yaml v2, the decoder of the API server and kubectl: Debian's golang-go
#   and golang-gopkg-yaml.v2-dev (the tests build a small decoder from them,
#   offline, into target/oracles/);
# - Helm v4's rendering as a library: PyPI's helm-python-sdk, installed into
#   target/oracles/python (about 250 MB; kept there so a warm CI run does not
#   fetch it again).
#
# Prints the PYTHONPATH entry to use; .ci/run exports it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo_root=$(pwd)
python_dir="$repo_root/target/oracles/python"

say() { printf 'install-oracles: %s\n' "$*" >&2; }

apt_packages=(golang-go golang-gopkg-yaml.v2-dev)
missing=()
for pkg in "${apt_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2> /dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    say "installing Debian packages: ${missing[*]}"
    sudo=()
    if ((EUID != 0)); then
        command -v sudo > /dev/null || { say "need root (or sudo) to install: ${missing[*]}"; exit 1; }
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null ||
        { "${sudo[@]}" apt-get update -qq &&
            "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null; }
fi
[[ -d /usr/share/gocode/src/gopkg.in/yaml.v2 ]] ||
    { say "golang-gopkg-yaml.v2-dev installed but /usr/share/gocode/src/gopkg.in/yaml.v2 is missing"; exit 1; }
say "$(go version)"

if PYTHONPATH="$python_dir${PYTHONPATH:+:$PYTHONPATH}" python3 -c 'import helm_python' 2> /dev/null; then
    :
else
    say "installing helm-python-sdk into $python_dir"
    rm -rf "$python_dir"
    python3 -m pip install --quiet --disable-pip-version-check --no-input --root-user-action=ignore \
        --target "$python_dir" helm-python-sdk >&2
fi
version=$(PYTHONPATH="$python_dir${PYTHONPATH:+:$PYTHONPATH}" python3 -c \
    'import helm_python; print(helm_python.helm_sdk_version())')
say "helm-python-sdk ready (Helm SDK $version)"
printf '%s\n' "$python_dir"
