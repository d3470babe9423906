#!/usr/bin/env bash
# Builds libwattledger without std (firmware profile: panic=abort, size
# optimised) as a static library with its own panic handler, links it into
# a program with no C library, checks that the program needs no symbol from
# outside, and runs it; then links every exported function into one program
# and reports the .text size of the whole C ABI. Linux x86-64 only.
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
# The whole C ABI as firmware would link it: every exported wl_ function
# kept as a root (-u), everything they do not reach collected.
roots=$(nm -g --defined-only "$lib" 2>/dev/null | awk '$2 == "T" && $3 ~ /^wl_/ { print "-Wl,-u," $3 }' | sort -u)
"${CC:-cc}" -std=c11 -ffreestanding -nostdlib -static -O1 -fno-builtin -Wall -Wextra -Werror \
  -I "$root/include" -o "$out/freestanding_all" "$here/freestanding.c" "$lib" -Wl,--gc-sections $roots
text=$(size -A "$out/freestanding_all" | awk '$1 == ".text" {print $2}')
echo "freestanding: the whole C ABI ($(echo "$roots" | wc -l) functions) links to $text bytes of .text ($(( (text + 1023) / 1024 )) KiB; goal <= 128 KiB)"
