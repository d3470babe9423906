#!/usr/bin/env bash
# Builds libwattledger without std (firmware profile: panic=abort, size
# optimised) as a static library with its own panic handler, links it into
# a program with no C library, checks that the program needs no symbol from
# outside, and runs it. Linux x86-64 only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out="${1:-${CARGO_TARGET_DIR:-$root/target}/c-tests}"
target="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$out"
if [ "$(uname -m)" != "x86_64" ] || [ "$(uname -s)" != "Linux" ]; then
  echo "freestanding link: skipped (needs Linux x86-64)"
  exit 0
fi
echo "== freestanding: libwattledger.a without std, linked with no libc"
cargo rustc --quiet -p wattledger-ffi --profile firmware --no-default-features \
  --features panic-handler --crate-type staticlib
lib="$target/firmware/libwattledger.a"
prog="$out/freestanding"
"${CC:-cc}" -std=c11 -ffreestanding -nostdlib -static -O1 -fno-builtin -Wall -Wextra -Werror \
  -I "$root/include" -o "$prog" "$here/freestanding.c" "$lib" -Wl,--gc-sections \
  -Wl,-Map,"$out/freestanding.map"
undefined=$(nm -u "$prog" || true)
if [ -n "$undefined" ]; then
  echo "the freestanding program has undefined symbols:" >&2
  echo "$undefined" >&2
  exit 1
fi
"$prog"
# The whole firmware C ABI (every wl_* function with the core, after LTO).
"$root/ci/text-size.sh" "firmware C ABI (libwattledger.a, object wattledger)" 131072 "$lib" '^wattledger'
echo "freestanding: links with only memcpy/memmove/memset/memcmp/bcmp supplied; nm -u is empty; ran OK"
