#!/usr/bin/env bash
# CPU cost of the exporter's polling (BENCHMARKS.md, "Exporter"): run
# `wattledger exporter` on the fake NVML with 8 H100s × 7 MIG instances
# (GPM activity read for every instance) at --interval 100 for SECONDS
# (default 20), with no scrape, and print the CPU time it used (utime +
# stime from /proc/PID/stat) as a share of one core. Pass SCRAPE=1 to
# scrape /metrics once a second meanwhile, as Prometheus would.
#
# Run after `cargo build --release -p wattledger-cli` and one test run
# that builds the fake library (`cargo test -p wattledger-std --test fleet_nvml`).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
bin=${WATTLEDGER_BIN:-target/release/wattledger}
lib=$(ls -t target/tmp/fake-nvml/*/libnvidia-ml-fake.so | head -1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
WATTLEDGER_NVML_LIB=$PWD/$lib FAKE_NVML_SCENARIO=$PWD/std-adapters/tests/fake_nvml/scenarios/fleet8.scenario \
  "$bin" exporter --listen "127.0.0.1:$port" --interval 100 2>/dev/null &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
sleep 1 # start-up (NVML load, first enumeration) is not the steady state
ticks=$(getconf CLK_TCK)
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$pid/stat")
t0=$(date +%s.%N)
end=$(( $(date +%s) + seconds ))
while [ "$(date +%s)" -lt "$end" ]; do
  if [ "${SCRAPE:-0}" = 1 ]; then curl -s "http://127.0.0.1:$port/metrics" >/dev/null; fi
  sleep 1
done
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
t1=$(date +%s.%N)
polls=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^wattledger_exporter_polls_total/ {print $2}')
awk -v u=$((u1-u0)) -v s=$((s1-s0)) -v hz="$ticks" -v t0="$t0" -v t1="$t1" -v polls="$polls" 'BEGIN {
  cpu = (u + s) / hz; wall = t1 - t0;
  printf "wall %.1f s, cpu %.3f s (user %.3f, sys %.3f): %.2f %% of one core; %d polls in all\n",
    wall, cpu, u / hz, s / hz, 100 * cpu / wall, polls }'
