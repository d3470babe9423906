#!/usr/bin/env bash
# Builds the release C libraries and installs them under PREFIX:
#   PREFIX/lib/libwattledger.a, PREFIX/lib/libwattledger.so
#   PREFIX/include/wattledger.h
#   PREFIX/lib/pkgconfig/wattledger.pc
#   PREFIX/lib/cmake/wattledger/wattledger-config.cmake (+ -version.cmake)
# Usage: ffi/install.sh PREFIX
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 PREFIX" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
mkdir -p "$1"
prefix=$(cd "$1" && pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
cd "$root"

version=$(sed -n 's/^#define WL_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' include/wattledger.h | paste -sd. -)
major=${version%%.*}
minor=$(echo "$version" | cut -d. -f2)

cargo build --quiet --release -p wattledger-ffi
install -d "$prefix/lib/pkgconfig" "$prefix/lib/cmake/wattledger" "$prefix/include"
install -m 644 "$target/release/libwattledger.a" "$prefix/lib/libwattledger.a"
install -m 755 "$target/release/libwattledger.so" "$prefix/lib/libwattledger.so"
install -m 644 include/wattledger.h "$prefix/include/wattledger.h"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" \
  ffi/pkgconfig/wattledger.pc.in > "$prefix/lib/pkgconfig/wattledger.pc"
install -m 644 ffi/cmake/wattledger-config.cmake.in "$prefix/lib/cmake/wattledger/wattledger-config.cmake"
sed -e "s|@VERSION@|$version|g" -e "s|@MAJOR@|$major|g" -e "s|@MINOR@|$minor|g" \
  ffi/cmake/wattledger-config-version.cmake.in \
  > "$prefix/lib/cmake/wattledger/wattledger-config-version.cmake"
echo "installed wattledger $version under $prefix"
