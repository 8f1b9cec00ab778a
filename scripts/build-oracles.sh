#!/usr/bin/env bash
# Builds the reference decoders of the differential tests (tests/yaml_oracle.rs)
# offline, into target/oracles/:
#
#   target/oracles/goyaml-oracle   tests/oracles/goyaml/main.go: go-yaml v2 as
#                                  kubectl and the API server decode YAML
#
# Needs Debian's Go and go-yaml v2 source, installed by package name:
#   apt-get install -y golang-go golang-gopkg-yaml.v2-dev
# No network: GOPATH mode (GO111MODULE=off) finds gopkg.in/yaml.v2 under
# /usr/share/gocode, and the build cache stays under target/oracles/.
#
# TOKENGUARD_GOPATH replaces /usr/share/gocode (where Debian puts Go sources).
#
# Exit status: 0 built (or already up to date), 3 a tool is missing (the
# message says which), anything else a failed build.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/target/oracles"
gocode=${TOKENGUARD_GOPATH:-/usr/share/gocode}

if ! command -v go > /dev/null 2>&1; then
    echo "build-oracles: no 'go' on PATH (Debian package golang-go)" >&2
    exit 3
fi
if [[ ! -f "$gocode/src/gopkg.in/yaml.v2/yaml.go" ]]; then
    echo "build-oracles: no go-yaml v2 source under $gocode/src/gopkg.in/yaml.v2 (Debian package golang-gopkg-yaml.v2-dev)" >&2
    exit 3
fi

mkdir -p "$out/go-cache"
cd "$root"
# The binary is written to a temporary name, then renamed: a test that runs
# the oracle never sees half a file.
GO111MODULE=off GOPATH="$gocode" GOCACHE="$out/go-cache" GOPROXY=off GOFLAGS= \
    go build -trimpath -o "$out/goyaml-oracle.tmp.$$" ./tests/oracles/goyaml
mv -f "$out/goyaml-oracle.tmp.$$" "$out/goyaml-oracle"
