#!/usr/bin/env bash
# The compatibility test: a C program compiled against the frozen 1.0 header
# (ffi/tests/c/compat/wattledger-1.0.h) and linked, by SONAME, against the
# shared library built from today's source. It must keep passing for every
# 1.x release: the ABI only grows.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
out="$target/c-tests/compat"
mkdir -p "$out/lib"
cargo build --quiet -p wattledger-ffi
ln -sf "$target/debug/libwattledger.so" "$out/lib/libwattledger.so.1"
"${CC:-cc}" -std=c99 -Wall -Wextra -Werror -pedantic -I "$here/compat" "$here/compat/compat.c" \
  -L "$target/debug" -lwattledger -lm -Wl,-rpath,"$out/lib" -o "$out/compat"
readelf -d "$out/compat" | grep -q 'NEEDED.*\[libwattledger\.so\.1\]'
"$out/compat"
