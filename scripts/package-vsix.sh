#!/usr/bin/env bash
# Packs the VS Code extension (editors/vscode) for one platform, with the
# tokenguard server inside, so that it works with nothing installed on PATH.
#
# Usage: scripts/package-vsix.sh [--target <vsce-target>] [--binary <path>] [--out <file>]
#
#   --target <vsce-target>  the platform of the package: linux-x64, linux-arm64,
#                           linux-armhf, alpine-x64, alpine-arm64, darwin-x64,
#                           darwin-arm64, win32-x64 or win32-arm64. Default: this
#                           machine's (uname), e.g. linux-x64.
#   --binary <path>         the tokenguard binary built for that platform. Default:
#                           target/release/tokenguard (tokenguard.exe on Windows),
#                           built with `cargo build --release --locked` when missing;
#                           the default is only for this machine's own target.
#   --out <file>            the .vsix to write. Default:
#                           editors/vscode/tokenguard-<vsce-target>.vsix
#
# What it does:
#   1. checks that the binary is an executable of the target's kind (with `file`
#      when present: ELF/Mach-O/PE and the CPU; a static or musl binary for
#      alpine-*), and refuses a mismatch;
#   2. copies it to editors/vscode/bin/tokenguard (bin/tokenguard.exe for
#      win32-*), executable, and strips that copy when the binary runs on this
#      machine (its own target, or alpine-* on a Linux of the same CPU) and
#      `strip` is present; such a copy is then run with --version. Otherwise
#      it is copied as it is (the release profile already strips symbols;
#      a `--profile profiling` build keeps them), and the script says so;
#   3. runs `vsce package --target <vsce-target>` (npm run vsce in
#      editors/vscode, after `npm ci` when node_modules is missing or stale);
#      vscode:prepublish copies the root licence files into the package and
#      checks the README's links;
#   4. removes editors/vscode/bin again (also when packing fails), so that the
#      universal `npm run package` never ships a server;
#   5. checks the .vsix holds the server, executable, and the licence files
#      (with `unzip` when present), and prints its path and size.
#
# The release workflow runs it once per target, with --target and --binary.
# Needs bash, Node.js and npm; cargo only to build the default binary.
set -euo pipefail

say() { printf '[package-vsix] %s\n' "$*"; }
die() {
    printf '[package-vsix] ERROR: %s\n' "$*" >&2
    exit 1
}
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
extension=$repo/editors/vscode
targets=(linux-x64 linux-arm64 linux-armhf alpine-x64 alpine-arm64 darwin-x64 darwin-arm64 win32-x64 win32-arm64)

target=
binary=
out=
while (($#)); do
    case $1 in
        --target | --binary | --out)
            (($# >= 2)) && [[ -n $2 ]] || die "$1 needs a value (see --help)"
            case $1 in
                --target) target=$2 ;;
                --binary) binary=$2 ;;
                --out) out=$2 ;;
            esac
            shift 2
            ;;
        --target=* | --binary=* | --out=*)
            value=${1#*=}
            [[ -n $value ]] || die "${1%%=*} needs a value (see --help)"
            case $1 in
                --target=*) target=$value ;;
                --binary=*) binary=$value ;;
                --out=*) out=$value ;;
            esac
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *) die "unknown argument '$1' (usage: scripts/package-vsix.sh [--target <vsce-target>] [--binary <path>] [--out <file>])" ;;
    esac
done

# This machine's vsce target, from uname.
host_target() {
    local os arch
    case $(uname -s) in
        Linux)
            os=linux
            # A musl system (Alpine and the like) needs the alpine-* package.
            if [[ -e /etc/alpine-release ]] || { command -v ldd > /dev/null && ldd --version 2>&1 | grep -qi musl; }; then
                os=alpine
            fi
            ;;
        Darwin) os=darwin ;;
        MINGW* | MSYS* | CYGWIN* | Windows_NT) os=win32 ;;
        *) return 1 ;;
    esac
    case $(uname -m) in
        x86_64 | amd64) arch=x64 ;;
        aarch64 | arm64) arch=arm64 ;;
        armv7* | armv8l | armhf) arch=armhf ;;
        *) return 1 ;;
    esac
    # Windows on Arm runs an x64 shell under emulation: trust the system's word.
    if [[ $os == win32 && ${PROCESSOR_ARCHITECTURE:-}${PROCESSOR_ARCHITEW6432:-} == *ARM64* ]]; then
        arch=arm64
    fi
    echo "$os-$arch"
}

host=$(host_target) || host=

# Whether a binary for $1 runs on this machine: its own target, and on a
# glibc Linux also the static (musl) binary of the alpine-* target.
runs_here() {
    [[ -n $host && ($1 == "$host" || ($host == linux-* && $1 == "alpine-${host#linux-}")) ]]
}

# A path as the native (Windows) programs want it under Git Bash/MSYS2.
native() {
    if command -v cygpath > /dev/null; then
        cygpath -m "$1"
    else
        printf '%s\n' "$1"
    fi
}
if [[ -z $target ]]; then
    [[ -n $host ]] || die "cannot tell the vsce target of this machine ($(uname -s) $(uname -m)); pass --target"
    target=$host
fi
valid=0
for t in "${targets[@]}"; do
    [[ $t == "$target" ]] && valid=1
done
((valid)) || die "unknown target '$target'; one of: ${targets[*]}"

case $target in
    win32-*) server_name=tokenguard.exe ;;
    *) server_name=tokenguard ;;
esac

# --- the binary ----------------------------------------------------------------
if [[ -z $binary ]]; then
    [[ $target == "$host" ]] ||
        die "no --binary given, and the default (target/release) is built for this machine ($host), not $target"
    binary=$repo/target/release/$server_name
    if [[ ! -f $binary ]]; then
        say "no $binary yet: cargo build --release --locked"
        (cd "$repo" && cargo build --release --locked) || die "cargo build --release --locked failed"
    fi
fi
[[ -f $binary ]] || die "no file $binary (--binary)"
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")

# Checks the executable format and CPU of the binary against the target.
check_binary() {
    local description want
    if command -v file > /dev/null; then
        description=$(file -b "$binary")
        case $target in
            linux-x64 | alpine-x64) want='ELF 64-bit LSB*x86-64' ;;
            linux-arm64 | alpine-arm64) want='ELF 64-bit LSB*aarch64' ;;
            linux-armhf) want='ELF 32-bit LSB*ARM' ;;
            darwin-x64) want='Mach-O*x86_64' ;;
            darwin-arm64) want='Mach-O*arm64' ;;
            win32-x64) want='PE32+ executable*x86-64' ;;
            win32-arm64) want='PE32+ executable*Aarch64' ;; # older `file`: ARM64, below
        esac
        shopt -s nocasematch
        if [[ $description != *$want* && ! ($target == win32-arm64 && $description == *PE32+\ executable*ARM64*) ]]; then
            shopt -u nocasematch
            die "$binary is not a $target executable: file says \"$description\" (expected ${want//\*/ ... })"
        fi
        if [[ $target == alpine-* && $description != *statically\ linked* &&
            $description != *static-pie\ linked* && $description != *ld-musl* ]]; then
            shopt -u nocasematch
            die "$binary is neither static nor linked against musl, and Alpine has no glibc (file says \"$description\"); build a static musl binary (e.g. cargo build --target x86_64-unknown-linux-musl)"
        fi
        shopt -u nocasematch
        say "binary: $binary ($description)"
        return
    fi
    # No `file`: at least the executable format, from the first bytes.
    local magic
    magic=$(od -An -tx1 -N4 "$binary" | tr -d ' \n')
    case $target:$magic in
        linux-* | alpine-*) [[ $magic == 7f454c46 ]] || die "$binary is not an ELF executable (starts with $magic), so not for $target" ;;
        darwin-*) [[ $magic == cffaedfe || $magic == cafebabe ]] || die "$binary is not a Mach-O executable (starts with $magic), so not for $target" ;;
        win32-*) [[ $magic == 4d5a* ]] || die "$binary is not a Windows executable (starts with $magic), so not for $target" ;;
    esac
    say "binary: $binary (no 'file' command here: checked the executable format, not the CPU)"
}
check_binary

size_of() { wc -c < "$1" | tr -d ' '; }
human() { awk -v b="$1" 'BEGIN { if (b >= 1048576) printf "%.1f MiB", b / 1048576; else printf "%.0f KiB", b / 1024 }'; }

# --- the output ------------------------------------------------------------------
if [[ -z $out ]]; then
    out=$extension/tokenguard-$target.vsix
elif [[ $out != /* ]]; then
    out=$PWD/$out
fi
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
[[ $out == *.vsix ]] || die "--out must name a .vsix file: $out"

# --- the extension's packages ------------------------------------------------------
command -v npm > /dev/null || die "npm is needed (Node.js and npm)"
(
    cd "$extension"
    # npm ci starts from scratch: skip it when node_modules was installed
    # (npm writes node_modules/.package-lock.json) after the last change of
    # package-lock.json.
    if [[ ! node_modules/.package-lock.json -nt package-lock.json ]]; then
        say "npm ci in editors/vscode"
        npm ci --no-audit --no-fund --loglevel=error > /dev/null
    fi
) || die "npm ci in editors/vscode failed"

# --- bin/ for the time of packing ----------------------------------------------------
bin=$extension/bin
[[ ! -e $bin ]] ||
    die "$bin already exists; remove it (this script puts the server there itself, and removes it afterwards)"
cleanup() { rm -rf "$bin"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir "$bin"
server=$bin/$server_name

strip_note=
if runs_here "$target" && [[ $target != win32-* ]] && command -v strip > /dev/null; then
    strip -o "$server" "$binary" || die "strip -o $server $binary failed"
    # Apple Silicon runs only signed code, and stripping changes the file:
    # sign the copy again (ad hoc, as the linker did).
    if [[ $target == darwin-* ]] && command -v codesign > /dev/null; then
        codesign --force --sign - "$server" > /dev/null || die "codesign of the stripped copy failed"
    fi
    strip_note="stripped"
else
    cp "$binary" "$server"
    if [[ $target == win32-* ]]; then
        strip_note="copied as is (Windows binaries keep their debug information in a separate .pdb)"
    elif ! runs_here "$target"; then
        strip_note="copied as is, not stripped (built for $target, and this machine is ${host:-unknown}: strip it when building)"
    else
        strip_note="copied as is, not stripped (no strip command here)"
    fi
fi
chmod 755 "$server"
if runs_here "$target"; then
    version=$("$server" --version 2>&1 | head -n 1) || die "the copy in the package does not run: $server --version: $version"
    [[ $version == tokenguard* ]] || die "$server --version printed \"$version\", not tokenguard's version"
    say "server: $version; $(human "$(size_of "$binary")") -> $(human "$(size_of "$server")") ($(size_of "$server") bytes), $strip_note"
else
    say "server: $(human "$(size_of "$server")") ($(size_of "$server") bytes), $strip_note; not run (not this machine's target)"
fi

# --- vsce ---------------------------------------------------------------------------
rm -f "$out"
(
    cd "$extension"
    TOKENGUARD_VSIX_TARGET=$target npm run --silent vsce -- --target "$target" --out "$(native "$out")"
) || die "vsce package --target $target failed"
cleanup
[[ -f $out ]] || die "vsce wrote no $out"

# --- what is inside ---------------------------------------------------------------------
if command -v unzip > /dev/null; then
    listing=$(unzip -Z "$out") || die "unzip cannot read $out"
    for entry in "extension/bin/$server_name" extension/LICENSE.txt extension/LICENSE-MIT extension/LICENSE-APACHE \
        extension/package.json extension/dist/extension.js extension/readme.md; do
        grep -q " $entry\$" <<< "$listing" || die "$out has no $entry"
    done
    if [[ $target != win32-* ]]; then
        grep -E "^-rwx.* extension/bin/$server_name\$" <<< "$listing" > /dev/null ||
            die "extension/bin/$server_name in $out is not executable"
    fi
    # The README's relative links are now plain github.com URLs of files of this repository.
    # shellcheck disable=SC2016 # JavaScript, not shell
    unzip -p "$out" extension/readme.md | node -e '
        const fs = require("fs"), path = require("path");
        const [repo, base] = process.argv.slice(1);
        const text = fs.readFileSync(0, "utf8");
        const bad = [];
        for (const m of text.matchAll(/\]\(([^)\s]+)/g)) {
            const link = m[1];
            if (link.startsWith("#")) continue;
            if (!/^https?:\/\//.test(link)) { bad.push(`${link} is still relative`); continue; }
            if (/\/\.\.?\//.test(link)) { bad.push(`${link} has ./ or ../ in it`); continue; }
            const url = new URL(link);
            const prefix = new URL(base);
            const m2 = /^\/(?:raw|blob)\/HEAD\/(.*)$/.exec(url.pathname.slice(prefix.pathname.length));
            if (url.origin !== prefix.origin || !url.pathname.startsWith(prefix.pathname) || !m2) continue;
            const file = decodeURIComponent(m2[1]);
            if (!fs.existsSync(path.join(repo, file))) bad.push(`${link} -> ${file}, not a file of the repository`);
        }
        if (bad.length) { console.error(bad.join("\n")); process.exit(1); }
    ' "$(native "$repo")" "$(node -p 'require(process.argv[1]).repository.url.replace(/\.git$/, "")' "$(native "$extension/package.json")")" ||
        die "the README in $out has links that do not resolve"
    say "checked: bin/$server_name (executable), LICENSE.txt, LICENSE-MIT, LICENSE-APACHE, README links"
else
    say "no unzip here: the contents of the .vsix were not checked"
fi

say "wrote $out ($(human "$(size_of "$out")"), $(size_of "$out") bytes)"
