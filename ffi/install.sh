#!/usr/bin/env bash
# Builds the release C libraries and installs them under PREFIX:
#   PREFIX/lib/libwattledger.so.MAJOR.MINOR.PATCH   the shared library, whose
#       SONAME is libwattledger.so.MAJOR, with the links
#   PREFIX/lib/libwattledger.so.MAJOR -> it   (what programs load)
#   PREFIX/lib/libwattledger.so       -> it   (what the linker finds for -lwattledger)
#   PREFIX/lib/libwattledger.a
#   PREFIX/include/wattledger.h
#   PREFIX/lib/pkgconfig/wattledger.pc
#   PREFIX/lib/cmake/wattledger/wattledger-config.cmake (+ -version.cmake)
# Usage: ffi/install.sh PREFIX
# With DESTDIR set, files go to DESTDIR/PREFIX (PREFIX must then be absolute)
# while the .pc and CMake files still name PREFIX, as packagers expect.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: [DESTDIR=staging] $0 PREFIX" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
prefix=$1
destdir=${DESTDIR:-}
case "$prefix" in
  /*) ;;
  *)
    if [ -n "$destdir" ]; then
      echo "$0: with DESTDIR, PREFIX must be an absolute path" >&2
      exit 2
    fi
    mkdir -p "$prefix"
    prefix=$(cd "$prefix" && pwd)
    ;;
esac
dest="$destdir$prefix"
target="${CARGO_TARGET_DIR:-$root/target}"
cd "$root"

version=$(sed -n 's/^#define WL_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' include/wattledger.h | paste -sd. -)
major=${version%%.*}
minor=$(echo "$version" | cut -d. -f2)

cargo build --quiet --release -p wattledger-ffi
install -d "$dest/lib/pkgconfig" "$dest/lib/cmake/wattledger" "$dest/include"
install -m 644 "$target/release/libwattledger.a" "$dest/lib/libwattledger.a"
install -m 755 "$target/release/libwattledger.so" "$dest/lib/libwattledger.so.$version"
ln -sf "libwattledger.so.$version" "$dest/lib/libwattledger.so.$major"
ln -sf "libwattledger.so.$major" "$dest/lib/libwattledger.so"
install -m 644 include/wattledger.h "$dest/include/wattledger.h"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" \
  ffi/pkgconfig/wattledger.pc.in > "$dest/lib/pkgconfig/wattledger.pc"
sed -e "s|@VERSION@|$version|g" -e "s|@MAJOR@|$major|g" \
  ffi/cmake/wattledger-config.cmake.in > "$dest/lib/cmake/wattledger/wattledger-config.cmake"
sed -e "s|@VERSION@|$version|g" -e "s|@MAJOR@|$major|g" -e "s|@MINOR@|$minor|g" \
  ffi/cmake/wattledger-config-version.cmake.in \
  > "$dest/lib/cmake/wattledger/wattledger-config-version.cmake"
echo "installed wattledger $version under $dest"
