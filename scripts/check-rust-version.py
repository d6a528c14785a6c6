#!/usr/bin/env python3
"""Checks that every publishable crate's `rust-version` is at least what its
dependencies declare they need (the highest `rust-version` among everything it
builds with, all features on), so the value on crates.io stays true.

Prints each crate's declared and needed versions; exits 1 if any crate
declares less than it needs. Run from the workspace root."""
import json
import subprocess
import sys


def version(text):
    parts = [int(part) for part in (text or "0").split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--all-features", "--locked"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    packages = {p["id"]: p for p in metadata["packages"]}
    nodes = {n["id"]: n for n in metadata["resolve"]["nodes"]}

    def built_with(root):
        """Every package `root` compiles with: normal and build dependencies."""
        seen, todo = set(), [root]
        while todo:
            for dep in nodes[todo.pop()]["deps"]:
                kinds = {k["kind"] for k in dep["dep_kinds"]}
                if kinds & {None, "build"} and dep["pkg"] not in seen:
                    seen.add(dep["pkg"])
                    todo.append(dep["pkg"])
        return seen

    wrong = 0
    for member in metadata["workspace_members"]:
        package = packages[member]
        if package.get("publish") == []:
            continue
        declared = package.get("rust_version")
        needed = max(
            (packages[d] for d in built_with(member)),
            key=lambda p: version(p.get("rust_version")),
        )
        ok = version(declared) >= version(needed.get("rust_version"))
        wrong += not ok
        print(
            f"{'ok ' if ok else 'LOW'} {package['name']}: declares {declared}, "
            f"needs {needed.get('rust_version')} (for {needed['name']} {needed['version']})"
        )
    sys.exit(1 if wrong else 0)


main()
