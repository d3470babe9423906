#!/usr/bin/env bash
# Regenerates BENCHMARKS.md in one run, so the record always matches the code:
#   1. notes the machine and its load (nproc, CPU model, `uptime`);
#   2. runs every criterion benchmark of wattledger-benches (never
#      --workspace) with modest warm-up/measurement times;
#   3. counts instructions per element under callgrind (load-independent;
#      skipped, saying so, without valgrind);
#   4. measures the .text of the freestanding composer program and the
#      firmware C ABI (the same checks ci/test.sh runs, with their bounds);
#   5. writes BENCHMARKS.md with benches/report.py, keeping its hand-written
#      "Other measurements" section.
# The whole run takes about 10 minutes on a loaded 2-core machine.
# Usage: benches/run.sh [--quick]  (--quick: shorter criterion times, for trying the script)
set -euo pipefail
cd "$(dirname "$0")/.."
warm=1 measure=2
if [ "${1:-}" = "--quick" ]; then warm=0.2 measure=0.5; fi
out=target/bench-record
rm -rf "$out" target/criterion
mkdir -p "$out"
{
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
  echo "commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo '+uncommitted')"
  echo "rustc=$(rustc --version)"
  echo "nproc=$(nproc)"
  echo "model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "mhz=$(grep -m1 'cpu MHz' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "criterion_args=--warm-up-time $warm --measurement-time $measure"
} > "$out/machine.env"

cargo bench -p wattledger-benches -- --warm-up-time "$warm" --measurement-time "$measure" \
  2>&1 | tee "$out/criterion.log" | grep -E '^[a-z_]+/|time:' || true
echo "load_after_criterion=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.env"

if command -v valgrind >/dev/null; then
  cargo build --quiet -p wattledger-benches --profile bench --example icount
  benches/icount.sh 10000 | tee "$out/icount.txt"
else
  echo "valgrind not installed: no instruction counts" | tee "$out/icount.txt"
fi

{ ci/nostd-check/run.sh; bash ffi/tests/c/freestanding.sh; } 2>&1 | grep '\.text' | tee "$out/sizes.txt" || true
echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.env"

python3 benches/report.py target/criterion "$out" BENCHMARKS.md
echo "BENCHMARKS.md written from $out and target/criterion"
