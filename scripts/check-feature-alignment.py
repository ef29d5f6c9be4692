#!/usr/bin/env python3
"""Fails when `cargo build` and `cargo test` would compile a shared crate with different features.

    python3 scripts/check-feature-alignment.py

Cargo's feature resolver (version 2 and later) turns on the features that dev-dependencies
ask for only in builds that compile them (tests, benches). A crate that the binary and a
dev-dependency share is then built twice with different feature sets, and so is every crate
above it: after the README's quick start (`cargo run --release`), `scripts/test` would
compile some 56 crates again (arrow and parquet among them) before the first test runs.
Cargo.toml declares those features on the binary's side ("Feature alignment"); this check,
run by scripts/test, names any crate that drifts apart again, for instance after a
dependency update. It reads `cargo tree` only; nothing is compiled.
"""

import subprocess
import sys
from collections import defaultdict


def features(edges):
    out = subprocess.run(
        ["cargo", "tree", "--locked", "-e", edges, "--prefix", "none", "-f", "{p}|{f}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    seen = defaultdict(set)
    for line in out.splitlines():
        if "|" not in line:
            continue
        package, feats = line.rsplit("|", 1)
        package = package.strip()
        if package.endswith("(*)"):
            continue
        feats = feats.replace("(*)", "").strip()
        # The workspace crate's own features are not a dependency's.
        if package.startswith("trailsift "):
            continue
        seen[package].add(feats)
    return seen


def main():
    run = features("normal,build")
    test = features("normal,build,dev")
    drift = []
    for package, feats in sorted(run.items()):
        if package in test and test[package] != feats:
            drift.append((package, sorted(feats), sorted(test[package])))
    if drift:
        print("These crates resolve other features in `cargo test` than in `cargo build`,")
        print("so the test build compiles them (and what depends on them) again.")
        print("Declare the test build's features in Cargo.toml under \"Feature alignment\":")
        for package, r, t in drift:
            print(f"  {package}\n    build: {' / '.join(r)}\n    test:  {' / '.join(t)}")
        sys.exit(1)
    print(f"feature alignment: {len(run)} crates of the binary resolve the same features in "
          "`cargo build` and `cargo test`")


if __name__ == "__main__":
    main()
