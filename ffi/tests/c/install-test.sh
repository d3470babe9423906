#!/usr/bin/env bash
# Installs the C libraries into a temporary prefix and builds a small
# program against them the way a user would: with pkg-config (shared and
# static), and with CMake's find_package when cmake is installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
bash "$root/ffi/install.sh" "$prefix"
for f in lib/libwattledger.a lib/libwattledger.so include/wattledger.h lib/pkgconfig/wattledger.pc \
         lib/cmake/wattledger/wattledger-config.cmake lib/cmake/wattledger/wattledger-config-version.cmake; do
  test -f "$prefix/$f" || { echo "missing $prefix/$f" >&2; exit 1; }
done

cat > "$tmp/hello.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <wattledger.h>
int main(void) {
    wl_hardware hw;
    wl_composer *c;
    wl_subgraph sg;
    wl_report r;
    if (strcmp(wl_version(), "0.0.0") == 0) return 1;
    if (wl_hardware_from_preset("seed-h100", &hw) != WL_OK) return 2;
    if (wl_composer_new(&hw, WL_POLICY_OFF, &c) != WL_OK) return 3;
    wl_subgraph_init(&sg, 0, 0);
    sg.has_units_allocated = 1;
    sg.units_allocated = 24;
    sg.latency_s = 0.5;
    if (wl_composer_push(c, &sg) != WL_OK || wl_composer_finish(c, &r) != WL_OK) return 4;
    wl_composer_free(c);
    /* Gating off: 300 W idle × 0.5 s = 150 J. */
    printf("wattledger %s: %.1f J\n", wl_version(), r.total_energy_j);
    return r.total_energy_j > 149.999 && r.total_energy_j < 150.001 ? 0 : 5;
}
C
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
test "$(pkg-config --modversion wattledger)" = "$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -1)"
echo "== pkg-config, shared library"
# shellcheck disable=SC2046
"${CC:-cc}" -std=c99 -Wall -Wextra -Werror -pedantic "$tmp/hello.c" -o "$tmp/hello_shared" \
  $(pkg-config --cflags --libs wattledger) -Wl,-rpath,"$prefix/lib"
"$tmp/hello_shared"
echo "== pkg-config --static, static library"
# shellcheck disable=SC2046
"${CC:-cc}" -std=c99 -Wall -Wextra -Werror -pedantic "$tmp/hello.c" -o "$tmp/hello_static" \
  $(pkg-config --cflags wattledger) "$prefix/lib/libwattledger.a" $(pkg-config --static --libs-only-l wattledger | sed 's/-lwattledger//')
"$tmp/hello_static"

if command -v cmake >/dev/null 2>&1; then
  echo "== cmake find_package(wattledger)"
  mkdir -p "$tmp/cmake-src"
  cp "$tmp/hello.c" "$tmp/cmake-src/hello.c"
  cat > "$tmp/cmake-src/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.10)
project(hello C)
find_package(wattledger 0.1 REQUIRED)
add_executable(hello hello.c)
target_link_libraries(hello PRIVATE wattledger::wattledger_static)
CM
  cmake -S "$tmp/cmake-src" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
  cmake --build "$tmp/cmake-build" >/dev/null
  "$tmp/cmake-build/hello"
else
  echo "cmake is not installed: find_package(wattledger) test skipped"
fi
echo "install test passed"
