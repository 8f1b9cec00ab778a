#!/usr/bin/env bash
# package.sh TARGET BINARY ASSETS_DIR OUT_DIR
# Makes the release archive for one target and its checksum, named as the
# GitHub Action (packaging/action/install.sh) and the Mason package expect:
#   OUT_DIR/tokenguard-TARGET.tar.gz   (.zip for *-windows-*)
#   OUT_DIR/tokenguard-TARGET.tar.gz.sha256   "<sha256>  <archive name>"
# The archive holds one folder, tokenguard-TARGET/, with the binary,
# LICENSE-MIT, LICENSE-APACHE, README.md, completions/ and man/ (from
# generate-assets.sh, in ASSETS_DIR). Run from the repository root.
set -euo pipefail
[[ $# -eq 4 ]] || { echo "usage: $0 TARGET BINARY ASSETS_DIR OUT_DIR" >&2; exit 2; }
target=$1 binary=$2 assets=$3 out=$4

case "$target" in
    *-windows-*) ext=zip exe=tokenguard.exe ;;
    *) ext=tar.gz exe=tokenguard ;;
esac
for f in "$binary" LICENSE-MIT LICENSE-APACHE README.md "$assets/man/tokenguard.1"; do
    [[ -f "$f" ]] || { echo "package.sh: $f is missing" >&2; exit 1; }
done
[[ -d "$assets/completions" ]] || { echo "package.sh: $assets/completions is missing" >&2; exit 1; }

name=tokenguard-$target
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name" "$out"
cp "$binary" "$stage/$name/$exe"
chmod 755 "$stage/$name/$exe"
cp LICENSE-MIT LICENSE-APACHE README.md "$stage/$name/"
cp -R "$assets/completions" "$assets/man" "$stage/$name/"

out=$(cd "$out" && pwd)
archive=$name.$ext
rm -f "$out/$archive" "$out/$archive.sha256"
case "$ext" in
    tar.gz) tar -C "$stage" -czf "$out/$archive" "$name" ;;
    zip)
        if command -v 7z > /dev/null 2>&1; then
            (cd "$stage" && 7z a -tzip -bd "$out/$archive" "$name" > /dev/null)
        else
            (cd "$stage" && python3 -m zipfile -c "$out/$archive" "$name")
        fi
        ;;
esac

if command -v sha256sum > /dev/null 2>&1; then
    (cd "$out" && sha256sum "$archive" > "$archive.sha256")
else
    (cd "$out" && shasum -a 256 "$archive" > "$archive.sha256")
fi
echo "$out/$archive"
cat "$out/$archive.sha256"
