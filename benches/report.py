#!/usr/bin/env python3
"""Tabulates criterion's results for BENCHMARKS.md.

Reads target/criterion/<group>/<impl>/<input>/new/{estimates,benchmark}.json
and prints, per benchmark input, the wattledger and baseline medians with
their 95 % confidence intervals, the time per element, and the ratio
wattledger / baseline (below 1: the library is faster).

Usage: python3 benches/report.py [target/criterion]
"""
import json
import re
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")


def load(path):
    est = json.loads((path / "new" / "estimates.json").read_text())
    bench = json.loads((path / "new" / "benchmark.json").read_text())
    med = est["median"]
    ci = med["confidence_interval"]
    elems = (bench.get("throughput") or {}).get("Elements") or 1
    return med["point_estimate"], ci["lower_bound"], ci["upper_bound"], elems


def natural(path):
    """Sorts `w8-off-n64` before `w64-off-n10000`: numbers by value."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def fmt(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


for group in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "report"):
    # wattledger against a baseline, or the C ABI against the direct Rust call.
    lib, base_name = group / "wattledger", "baseline"
    if not lib.is_dir():
        lib, base_name = group / "c_abi", "rust"
    if not lib.is_dir():
        continue
    print(f"\n### {group.name}\n")
    print(f"| input | {lib.name} median [95 % CI] | per element | {base_name} median [95 % CI] | per element | ratio |")
    print("|---|---|---|---|---|---|")
    for case in sorted((p for p in lib.iterdir() if p.is_dir() and p.name != "report"), key=natural):
        m, lo, hi, n = load(case)
        row = f"| {case.name} | {fmt(m)} [{fmt(lo)}, {fmt(hi)}] | {fmt(m / n)} |"
        base = group / base_name / case.name
        if base.is_dir():
            bm, blo, bhi, bn = load(base)
            row += f" {fmt(bm)} [{fmt(blo)}, {fmt(bhi)}] | {fmt(bm / bn)} | {m / bm:.2f} |"
        else:
            row += " — | — | — |"
        print(row)
