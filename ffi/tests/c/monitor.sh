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
