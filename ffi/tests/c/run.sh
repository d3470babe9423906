#!/usr/bin/env bash
# Builds the C ABI (libwattledger) and runs the C and C++ tests against it:
#   1. the header alone compiles as C99 and C++17 with -Wall -Wextra -Werror -pedantic;
#   2. test_api.c with test_mig.c and test_timeline.c (every function, every
#      error status, hand-computed numbers) as C99 and as C++17, each linked
#      statically and against the shared library; the README's timeline
#      example compiled and run;
#   3. the same programs under AddressSanitizer and UndefinedBehaviorSanitizer;
#   4. a C++ program shaped like a CUDA application measures two phases
#      through the monitor against the fake NVML library;
#   5. a freestanding program (no libc) links the no-std static library;
#   6. the freestanding INA3221 monitor example runs against a stub I2C bus.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
out="$target/c-tests"
mkdir -p "$out"
CC="${CC:-cc}"
CXX="${CXX:-c++}"
WARN=(-Wall -Wextra -Werror -pedantic)
INC=(-I "$root/include")
LIBS=(-lpthread -ldl -lm)

echo "== building libwattledger (std)"
cargo build --quiet -p wattledger-ffi
lib="$target/debug"

echo "== header: C99 and C++17, warnings as errors"
printf '#include "wattledger.h"\nint main(void) { return wl_abi_version() == WL_ABI_VERSION ? 0 : 1; }\n' > "$out/header_only.c"
"$CC" -std=c99 "${WARN[@]}" "${INC[@]}" -c "$out/header_only.c" -o "$out/header_only_c.o"
"$CXX" -std=c++17 "${WARN[@]}" "${INC[@]}" -x c++ -c "$out/header_only.c" -o "$out/header_only_cxx.o"

run_api_tests() {
  local tag=$1; shift
  local extra=("$@")
  "$CC" -std=c99 "${WARN[@]}" "${extra[@]}" "${INC[@]}" -DWL_TEST_MIG -DWL_TEST_TIMELINE \
    "$here/test_api.c" "$here/test_mig.c" "$here/test_timeline.c" "$lib/libwattledger.a" "${LIBS[@]}" -o "$out/test_api_c_$tag"
  "$out/test_api_c_$tag"
  "$CXX" -std=c++17 "${WARN[@]}" "${extra[@]}" "${INC[@]}" -DWL_TEST_MIG -DWL_TEST_TIMELINE \
    -x c++ "$here/test_api.c" -x c++ "$here/test_mig.c" -x c++ "$here/test_timeline.c" -x none "$lib/libwattledger.a" "${LIBS[@]}" \
    -o "$out/test_api_cxx_$tag"
  "$out/test_api_cxx_$tag"
}

echo "== C and C++ API tests (static library)"
run_api_tests plain -O1
echo "== the README's timeline example (C99)"
awk '/<!-- timeline-example -->/ { on = 1; next } on && /^```c/ { code = 1; next }
     code && /^```/ { exit } code' README.md > "$out/readme_timeline.c"
grep -q wl_timeline_push "$out/readme_timeline.c"
"$CC" -std=c99 "${WARN[@]}" "${INC[@]}" "$out/readme_timeline.c" "$lib/libwattledger.a" "${LIBS[@]}" \
  -o "$out/readme_timeline"
"$out/readme_timeline"
echo "== C API tests against the shared library"
# The library's SONAME is libwattledger.so.1: that is the name a program
# records and the loader looks for, so give the build output that name.
mkdir -p "$out/lib"
ln -sf "$lib/libwattledger.so" "$out/lib/libwattledger.so.1"
"$CC" -std=c99 "${WARN[@]}" "${INC[@]}" -DWL_TEST_MIG -DWL_TEST_TIMELINE "$here/test_api.c" \
  "$here/test_mig.c" "$here/test_timeline.c" \
  -L "$lib" -lwattledger -Wl,-rpath,"$out/lib" -lm -o "$out/test_api_shared"
readelf -d "$out/test_api_shared" | grep -q 'NEEDED.*\[libwattledger\.so\.1\]'
"$out/test_api_shared"
echo "== C and C++ API tests under AddressSanitizer and UBSan"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  run_api_tests sanitized -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

if [ -f "$here/monitor.sh" ]; then
  bash "$here/monitor.sh" "$out" "$lib"
fi
if [ -f "$here/freestanding.sh" ]; then
  bash "$here/freestanding.sh" "$out"
fi
if [ -f "$here/ina3221_monitor.sh" ]; then
  bash "$here/ina3221_monitor.sh" "$out"
fi
echo "C ABI tests passed"
