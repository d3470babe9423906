#!/usr/bin/env bash
# Builds the freestanding INA3221 monitor example (ffi/examples/ina3221_monitor.c)
# with -ffreestanding -nostdlib against libwattledger built without std
# (firmware profile), links it with the host stub (ina3221_host.c: a stub
# I2C bus replaying registers derived from the Orin Nano recording), checks
# that nothing outside is needed (nm -u empty), runs it, and prints the
# linked .text size. Linux x86-64 only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out="${1:-${CARGO_TARGET_DIR:-$root/target}/c-tests}"
target="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$out"
if [ "$(uname -m)" != "x86_64" ] || [ "$(uname -s)" != "Linux" ]; then
  echo "ina3221 monitor: skipped (needs Linux x86-64)"
  exit 0
fi
echo "== ina3221 monitor: freestanding example against the stub I2C bus"
cargo rustc --quiet -p wattledger-ffi --profile firmware --no-default-features \
  --features panic-handler --crate-type staticlib
lib="$target/firmware/libwattledger.a"
prog="$out/ina3221_monitor"
"${CC:-cc}" -std=c11 -ffreestanding -nostdlib -static -Os -fno-builtin -ffunction-sections \
  -fdata-sections -Wall -Wextra -Werror -I "$root/include" -I "$root/ffi/examples" -I "$here" \
  -o "$prog" "$root/ffi/examples/ina3221_monitor.c" "$here/ina3221_host.c" "$lib" -Wl,--gc-sections
undefined=$(nm -u "$prog" || true)
if [ -n "$undefined" ]; then
  echo "the monitor has undefined symbols:" >&2
  echo "$undefined" >&2
  exit 1
fi
"$prog"
text=$(size -A "$prog" | awk '$1 == ".text" {print $2}')
echo "ina3221 monitor: linked .text is $text bytes ($(( (text + 1023) / 1024 )) KiB; goal <= 24 KiB)"
