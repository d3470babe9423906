#!/usr/bin/env bash
# Instructions per element of each icount workload, under callgrind
# (collecting only inside wl_icount_measure). Prints "workload n Ir per_element".
# Usage: benches/icount.sh [n] [workload...]; needs target/release/examples/icount
# built with `cargo build -p wattledger-benches --profile bench --example icount`.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/examples/icount
n=${1:-10000}
shift || true
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || mapfile -t workloads < <("$bin" list)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for w in "${workloads[@]}"; do
  valgrind --tool=callgrind --collect-atstart=no --toggle-collect=wl_icount_measure \
    --callgrind-out-file="$tmp/out" "$bin" "$w" "$n" >/dev/null 2>&1
  ir=$(awk '/^totals:/ {print $2}' "$tmp/out")
  echo "$w $n $ir $(python3 -c "print(f'{$ir/$n:.1f}')")"
done
