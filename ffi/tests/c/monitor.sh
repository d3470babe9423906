#!/usr/bin/env bash
# The monitor from C and C++: a replayed trace (test_monitor.c), and a C++
# program shaped like a CUDA application measuring two phases against the
# fake NVML library (cuda_like.cpp), with and without a visible MIG instance.
# Usage: monitor.sh <build dir> <directory of libwattledger>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=$1
lib=$2
CC="${CC:-cc}"
CXX="${CXX:-c++}"
WARN=(-Wall -Wextra -Werror -pedantic)
fake_dir="$root/std-adapters/tests/fake_nvml"

echo "== monitor: replayed trace, every error status (C99)"
"$CC" -std=c99 "${WARN[@]}" -I "$root/include" "$here/test_monitor.c" "$lib/libwattledger.a" \
  -lpthread -ldl -lm -o "$out/test_monitor"
"$out/test_monitor" "$root/std-adapters/tests/fixtures/trace-orin-nano.jsonl"

echo "== monitor: C++ CUDA-shaped program against the fake NVML"
"$CC" -shared -fPIC -O1 -Wall -Wextra -Werror -o "$out/libnvidia-ml-fake.so" "$fake_dir/fake_nvml.c" -ldl
"$CXX" -std=c++17 "${WARN[@]}" -I "$root/include" "$here/cuda_like.cpp" "$lib/libwattledger.a" \
  -lpthread -ldl -lm -o "$out/cuda_like"
# h100: one H100, constant 350 W, MIG off.
env -u CUDA_VISIBLE_DEVICES WATTLEDGER_NVML_LIB="$out/libnvidia-ml-fake.so" \
  FAKE_NVML_SCENARIO="$fake_dir/scenarios/h100.scenario" "$out/cuda_like" 350
# a100_mig: one A100 at 180 W in MIG mode; this process sees its 1g.5gb instance.
env WATTLEDGER_NVML_LIB="$out/libnvidia-ml-fake.so" \
  FAKE_NVML_SCENARIO="$fake_dir/scenarios/a100_mig.scenario" \
  CUDA_VISIBLE_DEVICES=MIG-0a1b2c3d-1111-5e6f-8a9b-0c1d2e3f4a5b "$out/cuda_like" 180 expect-mig
# The same GPU with no instance named: a MIG result without a profile.
env -u CUDA_VISIBLE_DEVICES WATTLEDGER_NVML_LIB="$out/libnvidia-ml-fake.so" \
  FAKE_NVML_SCENARIO="$fake_dir/scenarios/a100_mig.scenario" "$out/cuda_like" 180 mig-unnamed

# h200_mig: two instances of one H200 visible. The C ABI and the command
# measure the GPU once and give the same warnings, word for word.
pair=MIG-b1c2d3e4-0000-4f5a-8b6c-7d8e9f0a1b2c,MIG-b1c2d3e4-0003-4f5a-8b6c-7d8e9f0a1b2c
env WATTLEDGER_NVML_LIB="$out/libnvidia-ml-fake.so" \
  FAKE_NVML_SCENARIO="$fake_dir/scenarios/h200_mig.scenario" \
  CUDA_VISIBLE_DEVICES="$pair" "$out/cuda_like" 400 mig-pair > "$out/pair_c.txt"
cat "$out/pair_c.txt"
cargo build --quiet -p wattledger-cli
env WATTLEDGER_NVML_LIB="$out/libnvidia-ml-fake.so" \
  FAKE_NVML_SCENARIO="$fake_dir/scenarios/h200_mig.scenario" \
  CUDA_VISIBLE_DEVICES="$pair" "${CARGO_TARGET_DIR:-$root/target}/debug/wattledger" measure -- true \
  > "$out/pair_cli.txt" 2>&1
grep '^WL-MIG' "$out/pair_c.txt" > "$out/pair_c_warnings.txt"
grep '^WL-MIG' "$out/pair_cli.txt" > "$out/pair_cli_warnings.txt"
test -s "$out/pair_c_warnings.txt"
if ! diff -u "$out/pair_cli_warnings.txt" "$out/pair_c_warnings.txt"; then
  echo "the C ABI and the command disagree on MIG warnings" >&2
  exit 1
fi
echo "C ABI and command: the same MIG warnings for two instances of one H200"

echo "== monitor programs under AddressSanitizer and UBSan"
SAN=(-g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
"$CC" -std=c99 "${WARN[@]}" "${SAN[@]}" -I "$root/include" "$here/test_monitor.c" "$lib/libwattledger.a" \
  -lpthread -ldl -lm -o "$out/test_monitor_san"
"$out/test_monitor_san" "$root/std-adapters/tests/fixtures/trace-orin-nano.jsonl"
"$CXX" -std=c++17 "${WARN[@]}" "${SAN[@]}" -I "$root/include" "$here/cuda_like.cpp" "$lib/libwattledger.a" \
  -lpthread -ldl -lm -o "$out/cuda_like_san"
env WATTLEDGER_NVML_LIB="$out/libnvidia-ml-fake.so" \
  FAKE_NVML_SCENARIO="$fake_dir/scenarios/a100_mig.scenario" \
  CUDA_VISIBLE_DEVICES=MIG-0a1b2c3d-1111-5e6f-8a9b-0c1d2e3f4a5b "$out/cuda_like_san" 180 expect-mig
