#!/usr/bin/env bash
# Builds the no_std check library and links it into a program that has no C
# library at all (-ffreestanding -nostdlib), then runs it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cargo build --quiet --release --manifest-path "$here/Cargo.toml" --target-dir "$here/target"
lib="$here/target/release/libwattledger_nostd_check.a"
out="$here/target/freestanding"
cc -ffreestanding -nostdlib -static -O1 -fno-builtin -Wall -Wextra -Werror \
  -o "$out" "$here/freestanding.c" "$lib" -Wl,--gc-sections
"$out"
# The freestanding composer program: C main, composer, compiler_builtins.
"$here/../text-size.sh" "freestanding composer program" 20480 "$out"
echo "no_std check: wattledger-core builds without std or alloc and links with no libc"
