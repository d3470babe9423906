#!/usr/bin/env bash
# Installs the C libraries into a temporary prefix and builds a small
# program against them the way a user would: with pkg-config (shared and
# static) when pkg-config is installed, and with CMake's find_package
# (shared and static) when cmake is installed. A program linked against the
# shared library must record libwattledger.so.1 (its SONAME), not a path.
# Also installs with DESTDIR into a staging directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -1)
bash "$root/ffi/install.sh" "$prefix"
for f in lib/libwattledger.a "lib/libwattledger.so.$version" include/wattledger.h lib/pkgconfig/wattledger.pc \
         lib/cmake/wattledger/wattledger-config.cmake lib/cmake/wattledger/wattledger-config-version.cmake; do
  test -f "$prefix/$f" || { echo "missing $prefix/$f" >&2; exit 1; }
done
test "$(readlink "$prefix/lib/libwattledger.so.1")" = "libwattledger.so.$version"
test "$(readlink "$prefix/lib/libwattledger.so")" = "libwattledger.so.1"
readelf -d "$prefix/lib/libwattledger.so.$version" | grep -q 'SONAME.*\[libwattledger\.so\.1\]'

# A program must name the library by its SONAME.
needs_soname() {
  if ! readelf -d "$1" | grep -q 'NEEDED.*\[libwattledger\.so\.1\]'; then
    echo "$1 does not record NEEDED libwattledger.so.1:" >&2
    readelf -d "$1" | grep NEEDED >&2
    exit 1
  fi
}

echo "== DESTDIR staging"
DESTDIR="$tmp/stage" bash "$root/ffi/install.sh" /opt/wattledger >/dev/null
test -f "$tmp/stage/opt/wattledger/lib/libwattledger.so.$version"
test -L "$tmp/stage/opt/wattledger/lib/libwattledger.so.1"
grep -q '^prefix=/opt/wattledger$' "$tmp/stage/opt/wattledger/lib/pkgconfig/wattledger.pc"
if grep -q 'URL' "$tmp/stage/opt/wattledger/lib/pkgconfig/wattledger.pc"; then
  echo "the .pc file names a URL" >&2
  exit 1
fi

cat > "$tmp/hello.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <wattledger.h>
int main(void) {
    wl_hardware hw;
    wl_composer *c;
    wl_subgraph sg;
    wl_report r;
    if (wl_abi_version() >> 16 != WL_ABI_VERSION_MAJOR) return 1;
    if (wl_hardware_from_preset("seed-h100", &hw) != WL_OK) return 2;
    if (wl_composer_new(&hw, WL_POLICY_OFF, &c) != WL_OK) return 3;
    wl_subgraph_init(&sg, 0, 0);
    sg.has_units_allocated = 1;
    sg.units_allocated = 24;
    sg.latency_s = 0.5;
    r.struct_size = sizeof r;
    if (wl_composer_push(c, &sg) != WL_OK || wl_composer_finish(c, &r) != WL_OK) return 4;
    wl_composer_free(c);
    /* Gating off: 300 W idle × 0.5 s = 150 J. */
    printf("wattledger %s: %.1f J\n", wl_version(), r.energy.total_j);
    return r.energy.total_j > 149.999 && r.energy.total_j < 150.001 ? 0 : 5;
}
C
if command -v pkg-config >/dev/null 2>&1; then
  export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
  test "$(pkg-config --modversion wattledger)" = "$version"
  echo "== pkg-config, shared library"
  # shellcheck disable=SC2046
  "${CC:-cc}" -std=c99 -Wall -Wextra -Werror -pedantic "$tmp/hello.c" -o "$tmp/hello_shared" \
    $(pkg-config --cflags --libs wattledger) -Wl,-rpath,"$prefix/lib"
  needs_soname "$tmp/hello_shared"
  "$tmp/hello_shared"
  echo "== pkg-config --static, static library"
  # shellcheck disable=SC2046
  "${CC:-cc}" -std=c99 -Wall -Wextra -Werror -pedantic "$tmp/hello.c" -o "$tmp/hello_static" \
    $(pkg-config --cflags wattledger) "$prefix/lib/libwattledger.a" $(pkg-config --static --libs-only-l wattledger | sed 's/-lwattledger//')
  "$tmp/hello_static"
else
  echo "pkg-config is not installed: the pkg-config builds are skipped"
fi

if command -v cmake >/dev/null 2>&1; then
  echo "== cmake find_package(wattledger)"
  mkdir -p "$tmp/cmake-src"
  cp "$tmp/hello.c" "$tmp/cmake-src/hello.c"
  cat > "$tmp/cmake-src/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.10)
project(hello C)
find_package(wattledger 1.0 REQUIRED)
add_executable(hello hello.c)
target_link_libraries(hello PRIVATE wattledger::wattledger_static)
add_executable(hello_shared hello.c)
target_link_libraries(hello_shared PRIVATE wattledger::wattledger)
CM
  cmake -S "$tmp/cmake-src" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
  cmake --build "$tmp/cmake-build" >/dev/null
  "$tmp/cmake-build/hello"
  needs_soname "$tmp/cmake-build/hello_shared"
  "$tmp/cmake-build/hello_shared"
  # No major version but 1 is accepted.
  sed -i 's/find_package(wattledger 1.0 REQUIRED)/find_package(wattledger 2.0 QUIET)\nif(wattledger_FOUND)\n  message(FATAL_ERROR "2.0 accepted")\nendif()\nfind_package(wattledger 1.0 REQUIRED)/' "$tmp/cmake-src/CMakeLists.txt"
  cmake -S "$tmp/cmake-src" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
else
  echo "cmake is not installed: find_package(wattledger) test skipped"
fi
echo "install test passed"
