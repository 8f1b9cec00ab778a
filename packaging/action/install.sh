#!/usr/bin/env bash
# Installs a tokenguard release binary for the runner this runs on; used by
# the composite action (action.yml at the repository root), testable without
# GitHub (.ci/e2e/40-action).
#
# Environment:
#   TOKENGUARD_VERSION        release tag (v0.2.0), or "latest" / empty
#   TOKENGUARD_ACTION_REF     the action's own ref (github.action_ref): used
#                             when TOKENGUARD_VERSION is empty and the ref is
#                             a release tag (uses: tokenguard/tokenguard@v0.2.0)
#   TOKENGUARD_RELEASES_URL   where releases live (default: the GitHub
#                             releases of tokenguard/tokenguard); anything curl
#                             reads, file:// included
#   RUNNER_OS, RUNNER_ARCH    set by GitHub (Linux|macOS|Windows, X64|ARM64)
#   RUNNER_TEMP               scratch folder (default: a new temp folder)
#   GITHUB_PATH, GITHUB_OUTPUT  set by GitHub; written when present
#
# Asset names are the ones the release workflow uploads:
#   tokenguard-<target>.tar.gz (.zip on Windows) and <archive>.sha256,
# holding tokenguard-<target>/tokenguard[.exe].
set -euo pipefail

die() {
    printf '::error title=tokenguard install::%s\n' "$*"
    printf 'tokenguard install: %s\n' "$*" >&2
    exit 1
}

releases_url=${TOKENGUARD_RELEASES_URL:-https://github.com/tokenguard/tokenguard/releases}
releases_url=${releases_url%/}

version=${TOKENGUARD_VERSION:-}
if [[ -z "$version" ]]; then
    ref=${TOKENGUARD_ACTION_REF:-}
    if [[ "$ref" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+].*)?$ ]]; then
        version=$ref
    else
        version=latest
    fi
fi
if [[ "$version" != latest && ! "$version" =~ ^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$ ]]; then
    die "version '$version' is not a release tag like v0.2.0 (or 'latest')"
fi
if [[ "$version" != latest && "$version" != v* ]]; then
    version=v$version
fi

os=${RUNNER_OS:-}
arch=${RUNNER_ARCH:-}
if [[ -z "$os" ]]; then
    case "$(uname -s)" in
        Linux) os=Linux ;;
        Darwin) os=macOS ;;
        MINGW* | MSYS* | CYGWIN*) os=Windows ;;
        *) os=$(uname -s) ;;
    esac
fi
if [[ -z "$arch" ]]; then
    case "$(uname -m)" in
        x86_64 | amd64) arch=X64 ;;
        aarch64 | arm64) arch=ARM64 ;;
        *) arch=$(uname -m) ;;
    esac
fi

exe=tokenguard
ext=tar.gz
case "$os/$arch" in
    Linux/X64) target=x86_64-unknown-linux-musl ;;
    Linux/ARM64) target=aarch64-unknown-linux-musl ;;
    macOS/X64) target=x86_64-apple-darwin ;;
    macOS/ARM64) target=aarch64-apple-darwin ;;
    Windows/X64) target=x86_64-pc-windows-msvc exe=tokenguard.exe ext=zip ;;
    Windows/ARM64) target=aarch64-pc-windows-msvc exe=tokenguard.exe ext=zip ;;
    *) die "no tokenguard release binary for $os on $arch (there are: Linux, macOS and Windows on X64 and ARM64)" ;;
esac

archive=tokenguard-$target.$ext
if [[ "$version" == latest ]]; then
    base=$releases_url/latest/download
else
    base=$releases_url/download/$version
fi

work=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/tokenguard.XXXXXX")
echo "tokenguard $version for $target: $base/$archive"

fetch() {
    curl --fail --silent --show-error --location --retry 3 --retry-delay 2 \
        --output "$2" "$1" || die "could not download $1"
}
fetch "$base/$archive" "$work/$archive"
fetch "$base/$archive.sha256" "$work/$archive.sha256"

# The .sha256 file is `<hex>  <name>` (sha256sum's format); only the hex is
# compared, so a renamed download still verifies.
expected=$(awk 'NR == 1 { print tolower($1) }' "$work/$archive.sha256")
[[ "$expected" =~ ^[0-9a-f]{64}$ ]] || die "$archive.sha256 does not hold a SHA-256 checksum"
if command -v sha256sum > /dev/null 2>&1; then
    actual=$(sha256sum "$work/$archive" | awk '{ print $1 }')
elif command -v shasum > /dev/null 2>&1; then
    actual=$(shasum -a 256 "$work/$archive" | awk '{ print $1 }')
else
    die "neither sha256sum nor shasum is available to verify the download"
fi
[[ "$actual" == "$expected" ]] ||
    die "checksum mismatch for $archive: expected $expected, got $actual; not installing it"
echo "sha256 verified: $actual"

case "$ext" in
    tar.gz) tar -xzf "$work/$archive" -C "$work" ;;
    zip)
        if command -v unzip > /dev/null 2>&1; then
            unzip -q "$work/$archive" -d "$work"
        elif command -v 7z > /dev/null 2>&1; then
            7z x -y -o"$work" "$work/$archive" > /dev/null
        else
            powershell -NoProfile -Command "Expand-Archive -LiteralPath '$work/$archive' -DestinationPath '$work'"
        fi
        ;;
esac

bin_dir=$work/tokenguard-$target
[[ -f "$bin_dir/$exe" ]] || die "$archive does not contain tokenguard-$target/$exe"
chmod +x "$bin_dir/$exe" 2> /dev/null || true
installed_version=$("$bin_dir/$exe" --version) || die "the downloaded $exe does not run on this runner"
echo "installed: $installed_version at $bin_dir/$exe"

if [[ -n "${GITHUB_PATH:-}" ]]; then
    echo "$bin_dir" >> "$GITHUB_PATH"
fi
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    {
        echo "path=$bin_dir/$exe"
        echo "version=$installed_version"
    } >> "$GITHUB_OUTPUT"
fi
