#!/usr/bin/env bash
# Tests of scripts/package-vsix.sh beyond the one platform package that
# run.sh installs: what it refuses, that it leaves no editors/vscode/bin
# behind (also when packing fails half-way), and packages for other targets
# (made from tiny executable headers that `file` recognises: an arm64 ELF and
# x64 and arm64 Windows PE files; they are packed or refused, never run).
#
# Usage: tests/e2e/vscode/package-vsix.test.sh HOST_BINARY
#   HOST_BINARY  a tokenguard binary for this machine (linux-x64)
# Prints one line per check and "N passed, M failed"; exits non-zero on a failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
script=$repo/scripts/package-vsix.sh
bin=$repo/editors/vscode/bin
host_binary=${1:?usage: package-vsix.test.sh HOST_BINARY}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tokenguard-package-vsix.XXXXXX")
[[ -d $tmp ]] || exit 1
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
pass() {
    passed=$((passed + 1))
    echo "PASS $1"
}
fail() {
    failed=$((failed + 1))
    echo "FAIL $1"
}

# refuses NAME PATTERN ARGS...: the script exits non-zero, prints PATTERN, leaves no bin/.
refuses() {
    local name=$1 pattern=$2 output status=0
    shift 2
    output=$("$script" "$@" 2>&1) || status=$?
    if ((status == 0)); then
        fail "$name: exited 0"
    elif ! grep -q -- "$pattern" <<< "$output"; then
        fail "$name: no \"$pattern\" in: $output"
    elif [[ -e $bin ]]; then
        fail "$name: left $bin behind"
    else
        pass "$name: $(grep -m1 ERROR <<< "$output" | sed 's/^\[package-vsix\] ERROR: //' | cut -c1-110)"
    fi
}

# Executable headers for other platforms.
python3 - "$tmp" << 'EOF'
import struct, sys
d = sys.argv[1]
elf = b'\x7fELF' + bytes([2, 1, 1, 0]) + bytes(8)
elf += struct.pack('<HHIQQQIHHHHHH', 2, 0xB7, 1, 0x400000, 0, 0, 0, 64, 56, 0, 64, 0, 0)
open(f'{d}/tokenguard-linux-arm64', 'wb').write(elf + bytes(64))
for machine, name in ((0x8664, 'x64'), (0xAA64, 'arm64')):
    mz = b'MZ' + bytes(58) + struct.pack('<I', 64)
    pe = b'PE\0\0' + struct.pack('<HHIIIHH', machine, 0, 0, 0, 0, 240, 0x22)
    opt = bytearray(struct.pack('<HBB', 0x20B, 14, 0) + bytes(236))
    struct.pack_into('<H', opt, 68, 3)  # console subsystem
    open(f'{d}/tokenguard-win32-{name}.exe', 'wb').write(mz + pe + bytes(opt) + bytes(64))
EOF

refuses 'an unknown target' "unknown target 'windows'" --target windows --binary "$host_binary"
refuses 'an unknown argument' "unknown argument '--strip'" --strip
refuses 'a missing value' '--out needs a value' --binary "$host_binary" --out
refuses 'a missing binary' 'no file' --binary "$tmp/nothing"
refuses 'a Linux binary for win32-x64' 'is not a win32-x64 executable' --target win32-x64 --binary "$host_binary"
refuses 'an x64 binary for linux-arm64' 'is not a linux-arm64 executable' --target linux-arm64 --binary "$host_binary"
refuses 'a Windows arm64 binary for win32-x64' 'is not a win32-x64 executable' \
    --target win32-x64 --binary "$tmp/tokenguard-win32-arm64.exe"
refuses 'a glibc binary for alpine-x64' 'neither static nor linked against musl' \
    --target alpine-x64 --binary "$host_binary"
refuses 'no --binary for another target' 'no --binary given' --target darwin-arm64
refuses 'a program that is not tokenguard (after bin/ was made)' 'not tokenguard' --binary /bin/true
# A bin/ folder that someone else made is refused, and left alone.
mkdir "$bin"
touch "$bin/theirs"
status=0
output=$("$script" --binary "$host_binary" 2>&1) || status=$?
if ((status != 0)) && grep -q 'already exists' <<< "$output" && [[ -e $bin/theirs ]]; then
    pass "an existing editors/vscode/bin is refused and kept"
else
    fail "an existing editors/vscode/bin: exit $status, bin/theirs $([[ -e $bin/theirs ]] && echo kept || echo removed): $output"
fi
rm -rf "$bin"

# packs TARGET BINARY ENTRY: a package for TARGET whose manifest names it and
# which holds ENTRY; no bin/ left.
packs() {
    local target=$1 binary=$2 entry=$3 out=$tmp/tokenguard-$1.vsix output status=0
    local listing names manifest
    output=$("$script" --target "$target" --binary "$binary" --out "$out" 2>&1) || status=$?
    if ((status != 0)); then
        fail "$target: exited $status: $(tail -n 5 <<< "$output")"
        return
    fi
    # Each listing is read whole before it is searched: `grep -q` stops at
    # the first match, and under pipefail the writer's SIGPIPE would fail a
    # pipeline whose answer was yes.
    listing=$(unzip -Z "$out") || listing=
    names=$(unzip -Z1 "$out") || names=
    manifest=$(unzip -p "$out" extension.vsixmanifest) || manifest=
    if [[ -e $bin ]]; then
        fail "$target: left $bin behind"
    elif ! grep -Eq "^-rwx.* extension/bin/$entry\$" <<< "$listing"; then
        # The whole listing line says which mode the package gave the entry.
        fail "$target: no executable extension/bin/$entry: $(grep -E " extension/bin/" <<< "$listing" || paste -sd' ' - <<< "$names")"
    elif [[ $(grep -c '^extension/bin/' <<< "$names") != 1 ]]; then
        fail "$target: more than the server in extension/bin/: $(grep '^extension/bin/' <<< "$names")"
    elif ! grep -q "TargetPlatform=\"$target\"" <<< "$manifest"; then
        fail "$target: the manifest does not name the target"
    else
        pass "$target: $(basename "$out") with bin/$entry; $(grep -o 'copied as is[^;]*' <<< "$output" | head -n 1)"
    fi
}
packs linux-arm64 "$tmp/tokenguard-linux-arm64" tokenguard
packs win32-x64 "$tmp/tokenguard-win32-x64.exe" tokenguard.exe

echo "$passed passed, $failed failed"
((failed == 0))
