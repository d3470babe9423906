#!/usr/bin/env python3
"""Writes BENCHMARKS.md from one run of benches/run.sh.

Reads criterion's results (target/criterion/<group>/<impl>/<input>/new/),
the machine notes, instruction counts and code sizes that run.sh left in
its record folder, and the hand-written "Other measurements" section of the
existing BENCHMARKS.md (kept as it is: figures that are not criterion
output, such as trace-read RSS or exporter timings).

Every figure is criterion's median with its bootstrap 95 % confidence
interval and its median absolute deviation, and, where the benchmark has
one, the ratio to the straightforward baseline measured in the same run.

Usage: python3 benches/report.py CRITERION_DIR RECORD_DIR OUTPUT.md
"""
import json
import pathlib
import re
import sys

crit = pathlib.Path(sys.argv[1])
record = pathlib.Path(sys.argv[2])
output = pathlib.Path(sys.argv[3])

KEEP_BEGIN = "<!-- other-measurements:begin -->"
KEEP_END = "<!-- other-measurements:end -->"

# Goals of issue 15 and earlier ones, in ns per element.
COMPOSE_GOAL, COMPOSE_STRETCH = 8.0, 5.0
METER_GOAL = 5.0
FFI_GOAL = 2.0
TIMELINE_GOAL = 20.0
COMPOSER_TEXT_MAX, FIRMWARE_TEXT_MAX = 20 * 1024, 128 * 1024


def machine():
    env = {}
    path = record / "machine.env"
    if path.exists():
        for line in path.read_text().splitlines():
            k, _, v = line.partition("=")
            env[k] = v
    return env


class Bench:
    def __init__(self, path):
        est = json.loads((path / "new" / "estimates.json").read_text())
        bench = json.loads((path / "new" / "benchmark.json").read_text())
        med = est["median"]
        self.median = med["point_estimate"]
        self.lo = med["confidence_interval"]["lower_bound"]
        self.hi = med["confidence_interval"]["upper_bound"]
        self.mad = est["median_abs_dev"]["point_estimate"]
        self.elems = (bench.get("throughput") or {}).get("Elements") or 1

    @property
    def per(self):
        return self.median / self.elems

    def cell(self):
        return f"{fmt(self.median)} [{fmt(self.lo)}, {fmt(self.hi)}] ±{100 * self.mad / self.median:.0f} %"


def fmt(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def natural(name):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def load_all():
    """{group: {impl: {input: Bench}}}"""
    out = {}
    if not crit.is_dir():
        return out
    for group in sorted(p for p in crit.iterdir() if p.is_dir() and p.name != "report"):
        for impl in sorted(p for p in group.iterdir() if p.is_dir() and p.name != "report"):
            for case in impl.iterdir():
                if (case / "new" / "estimates.json").exists():
                    out.setdefault(group.name, {}).setdefault(impl.name, {})[case.name] = Bench(case)
    return out


def pairs(impls):
    """(library impl, baseline impl) pairs of one group."""
    bases = [i for i in impls if i.startswith("baseline") or i == "rust"]
    # The library side: everything that is not a baseline (wattledger-*,
    # c_abi, the exporter's collector).
    libs = [i for i in impls if i not in bases]
    for lib in libs:
        base = None
        if lib == "c_abi":
            base = "rust" if "rust" in impls else None
        elif "baseline" in impls:
            base = "baseline"
        elif bases:
            base = bases[0]
        yield lib, base
    # A group with several baselines (the exporter's) shows the others too.
    for extra in bases[1:]:
        if extra != "rust" and "baseline" not in impls:
            yield extra, None


def group_table(name, impls):
    lines = [f"### `{name}`", ""]
    lines.append("| implementation, input | median [95 % CI] ±MAD | per element | baseline median [95 % CI] ±MAD | per element | ratio |")
    lines.append("|---|---|---|---|---|---|")
    for lib, base in pairs(impls):
        for case in sorted(impls[lib], key=natural):
            b = impls[lib][case]
            row = f"| {lib}, {case} | {b.cell()} | {fmt(b.per)} |"
            bb = impls.get(base, {}).get(case) if base else None
            if bb:
                row += f" {bb.cell()} ({base}) | {fmt(bb.per)} | {b.median / bb.median:.2f} |"
            else:
                row += " — | — | — |"
            lines.append(row)
    return lines


def icounts():
    path = record / "icount.txt"
    rows = {}
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[1].isdigit():
                rows[parts[0]] = float(parts[3])
    return rows


def sizes():
    out = {}
    path = record / "sizes.txt"
    if path.exists():
        for line in path.read_text().splitlines():
            m = re.match(r"(.*): \.text (\d+) bytes", line)
            if m:
                out[m.group(1)] = int(m.group(2))
    return out


def verdict(value, goal):
    if value is None:
        return "not measured"
    if value <= goal:
        return f"**met** ({100 * (goal - value) / goal:.0f} % under)"
    return f"**missed** by {value - goal:.3g} ({value / goal:.2f}× the goal)"


def kept_section():
    if not output.exists():
        return []
    text = output.read_text()
    if KEEP_BEGIN in text and KEEP_END in text:
        inner = text.split(KEEP_BEGIN, 1)[1].split(KEEP_END, 1)[0]
        return [KEEP_BEGIN] + inner.strip("\n").splitlines() + [KEEP_END]
    return [KEEP_BEGIN, "", "(none yet)", "", KEEP_END]


def main():
    env = machine()
    data = load_all()
    ic = icounts()
    sz = sizes()

    def per(group, impl, case):
        b = data.get(group, {}).get(impl, {}).get(case)
        return b.per if b else None

    out = [
        "# wattledger benchmarks",
        "",
        "Generated by `benches/run.sh` in one run (do not edit the tables by hand:",
        "rerun the script; only the section between the `other-measurements`",
        "markers is kept from the previous file).",
        "",
        "## Machine and method",
        "",
        f"* Run: {env.get('date', '?')}, commit `{env.get('commit', '?')}`, {env.get('rustc', '?')}.",
        f"* Machine: `nproc` = {env.get('nproc', '?')}, `{env.get('model', '?')}` at {env.get('mhz', '?')} MHz;"
        " a virtual machine **shared with other engineers**, who may build and test while the benchmarks run (the load average below says how busy it was).",
        f"* Load average (1, 5, 15 min): {env.get('load_before', '?')} before, {env.get('load_after_criterion', '?')}"
        f" after criterion, {env.get('load_after', '?')} at the end. With a load above the core count, wall"
        " times are inflated and noisy: read the ratios (both sides measured one right after the other) and"
        " the instruction counts, not the absolute times.",
        f"* Criterion 0.8, `cargo bench -p wattledger-benches -- {env.get('criterion_args', '?')}`, `bench`"
        " profile (release, fat LTO, one codegen unit, debug info). Each figure: median [bootstrap 95 %"
        " confidence interval] ±median absolute deviation in % of the median; per element = median / elements.",
        "* Ratio = wattledger / baseline (below 1: the library is faster). Baselines (`benches/src/`) are the"
        " straightforward heap-based way to do the same job; `benches/tests/baselines.rs` checks they compute"
        " the same numbers. For the C ABI the baseline is the same call on the Rust type.",
        "* Instruction counts: `benches/icount.sh` runs each workload of `benches/examples/icount.rs` under"
        " callgrind, counting only inside the measured region, and divides by the elements (10 000). They do"
        " not depend on the load and are the check used for the ns goals when wall time is too noisy.",
        "",
        "## Goals",
        "",
        "| goal | measured (wall-time median per element) | instructions per element | verdict |",
        "|---|---|---|---|",
    ]
    w1 = [per("compose_width", "wattledger", f"w1-{p}-n10000") for p in ("off", "always", "break-even", "oracle")]
    w1 = [x for x in w1 if x is not None]
    w1max = max(w1) if w1 else None
    out.append(f"| composition, width 1, every policy ≤ {COMPOSE_GOAL:g} ns (stretch {COMPOSE_STRETCH:g}) | "
               + (", ".join(f"{x:.1f} ns" for x in w1) if w1 else "—")
               + f" | {', '.join(f'{ic[k]:.0f}' for k in ('compose-w1-off', 'compose-w1-always', 'compose-w1-break-even', 'compose-w1-oracle') if k in ic)}"
               + f" | {verdict(w1max, COMPOSE_GOAL)} |")
    lens = [(n, per("compose_length", "wattledger", f"w1-off-n{n}")) for n in (1, 64, 10000, 1000000)]
    lens = [(n, x) for n, x in lens if x is not None]
    if lens:
        big = [x for n, x in lens if n >= 64]
        spread = max(big) / min(big) if big else 1.0
        out.append("| composition linear in stream length (64 … 10⁶ within 25 %) | "
                   + ", ".join(f"n={n}: {x:.1f} ns" for n, x in lens)
                   + f" | — | {'**met**' if spread <= 1.25 else '**missed**'} (max/min {spread:.2f}) |")
    for w in (8, 64):
        ws = [per("compose_width", "wattledger", f"w{w}-{p}-n10000") for p in ("off", "always", "break-even", "oracle")]
        ws = [x for x in ws if x is not None]
        if ws and w1max:
            ok = max(ws) <= w1max * 1.1
            out.append(f"| width {w} no slower than width 1 | {', '.join(f'{x:.1f} ns' for x in ws)} | "
                       f"{ic.get(f'compose-w{w}-off', float('nan')):.0f} (off) | {'**met**' if ok else '**missed**'} |")
    m = [per("meter_ingest", "wattledger", c) for c in ("counter-windows1-n10000", "power-windows1-n10000")]
    m = [x for x in m if x is not None]
    out.append(f"| meter ingest ≤ {METER_GOAL:g} ns per sample | {', '.join(f'{x:.1f} ns' for x in m) or '—'} | "
               f"{', '.join(f'{ic[k]:.0f}' for k in ('meter-counter', 'meter-power') if k in ic)} | "
               f"{verdict(max(m) if m else None, METER_GOAL)} |")
    q = data.get("ffi_query", {})
    qc, qr = q.get("c_abi", {}).get("pending-n10000"), q.get("rust", {}).get("pending-n10000")
    over = (qc.per - qr.per) if qc and qr else None
    ico = (ic["ffi-query"] - ic["rust-query"]) if "ffi-query" in ic and "rust-query" in ic else None
    out.append(f"| C ABI call overhead ≤ {FFI_GOAL:g} ns (`wl_composer_pending` − `Composer::pending`) | "
               f"{'%.2f ns' % over if over is not None else '—'} | {'%.0f' % ico if ico is not None else '—'} | {verdict(over, FFI_GOAL)} |")
    # One stream is the shape of the public PyTorch traces at hand (at most
    # 0.02 kernels in flight when one starts); 4 and 16 concurrent streams
    # are the stress cases. Each gets its own verdict, off and oracle apart.
    for streams, label in (("1", "one stream (the public traces' shape)"), ("4", "4 streams"), ("16", "16 streams")):
        for policy in ("off", "oracle"):
            x = per("timeline", f"wattledger-{policy}", streams)
            key = f"timeline-s{streams}-{policy}"
            out.append(f"| timeline composer ≤ {TIMELINE_GOAL:g} ns per kernel, {label}, gating {policy} | "
                       f"{'%.1f ns' % x if x is not None else '—'} | "
                       f"{'%.0f' % ic[key] if key in ic else '—'} | {verdict(x, TIMELINE_GOAL)} |")
    comp = next((v for k, v in sz.items() if k.startswith("freestanding composer")), None)
    firm = next((v for k, v in sz.items() if k.startswith("firmware C ABI")), None)
    out.append(f"| freestanding composer program `.text` ≤ 20 KiB | {comp if comp is not None else '—'} bytes | — | "
               f"{verdict(comp, COMPOSER_TEXT_MAX)} |")
    out.append(f"| firmware C ABI `.text` ≤ 128 KiB | {firm if firm is not None else '—'} bytes | — | "
               f"{verdict(firm, FIRMWARE_TEXT_MAX)} |")
    out += ["", "Instruction budget for reference: at the CPU's clock, one ns is about "
            f"{float(env.get('mhz', '2600') or 2600) / 1000:.1f} cycles; a goal of N ns is met in wall time"
            " when instructions per element / IPC stays under N × that.", ""]

    out += ["## Criterion results", ""]
    for group in sorted(data, key=natural):
        out += group_table(group, data[group]) + [""]

    if ic:
        out += ["## Instructions per element (callgrind)", "", "| workload | instructions per element |", "|---|---|"]
        out += [f"| `{k}` | {v:.1f} |" for k, v in ic.items()] + [""]
    if sz:
        out += ["## Code size (`size`, bounds checked by ci/test.sh)", "", "| artefact | `.text` bytes |", "|---|---|"]
        out += [f"| {k} | {v} |" for k, v in sz.items()] + [""]

    out += ["## Other measurements (hand-written, kept by the script)", ""] + kept_section() + [""]
    out += ["## Reproducing", "", "```sh", "benches/run.sh            # about 10 minutes; rewrites this file", "```", ""]
    output.write_text("\n".join(out))


main()
