#!/usr/bin/env python3
"""Checks that the workspace's rust-version is the real minimum toolchain.

Only one toolchain can be installed on the CI machines, so the minimum is
established by reading rather than by building: every package in Cargo.lock
declares the oldest Rust it builds with (`rust-version`), and the workspace
can need no less than the newest of those. Our own code is held to the
declared version by clippy's `incompatible_msrv` lint (std APIs newer than
rust-version are warnings, and .ci/run denies warnings).

Fails when the declared version is lower than a dependency needs (the README
would promise a toolchain that cannot build it) or higher than anything needs
(users would be turned away for nothing). Prints the packages that set the
minimum.
"""
import json
import subprocess
import sys


def version_key(text):
    return tuple(int(part) for part in text.split("."))


def main():
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    members = set(metadata["workspace_members"])
    declared = {
        p["name"]: p.get("rust_version")
        for p in metadata["packages"]
        if p["id"] in members
    }
    required = {}
    for package in metadata["packages"]:
        version = package.get("rust_version")
        if package["id"] in members or not version:
            continue
        required.setdefault(version, []).append(f'{package["name"]} {package["version"]}')
    if not required:
        print("no dependency declares a rust-version", file=sys.stderr)
        return 1
    newest = max(required, key=version_key)
    print(f"newest rust-version among dependencies: {newest} ({', '.join(sorted(required[newest]))})")
    status = 0
    for name, version in sorted(declared.items()):
        if version is None:
            print(f"FAILED: {name} declares no rust-version", file=sys.stderr)
            status = 1
        elif version_key(version) != version_key(newest):
            print(
                f"FAILED: {name} declares rust-version {version}, but the lockfile needs {newest}",
                file=sys.stderr,
            )
            status = 1
        else:
            print(f"ok: {name} rust-version {version}")
    return status


if __name__ == "__main__":
    sys.exit(main())
