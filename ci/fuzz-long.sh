#!/usr/bin/env bash
# Longer fuzzing, on demand: ci/fuzz-long.sh [seconds per target] [target...]
#
# Each target runs twice: without a sanitizer on stable (`-s none`), then
# under AddressSanitizer, which needs nightly flags: RUSTC_BOOTSTRAP=1 lets
# the stable compiler accept them. New corpus entries are kept in
# fuzz/corpus-long/<target>/ (not committed) so later runs start from them;
# `cargo fuzz cmin` can fold useful ones back into fuzz/corpus/.
# Set FUZZ_JOBS to run several libFuzzer jobs per target.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

version=0.13.1
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$version" ]; then
  cargo install cargo-fuzz --version "$version" --locked
fi

secs=${1:-600}
shift || true
targets=${*:-$(cargo fuzz list)}
extra=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then
  extra=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
fi

for t in $targets; do
  corpus="fuzz/corpus-long/$t"
  mkdir -p "$corpus"
  echo "== fuzz $t, no sanitizer, ${secs} s"
  if ! cargo fuzz build -s none "$t"; then
    rm -f fuzz/target/.rustc_info.json
    cargo fuzz build -s none "$t"
  fi
  cargo fuzz run -s none "$t" "$corpus" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=4096 -print_final_stats=1 "${extra[@]}"
  echo "== fuzz $t, AddressSanitizer, ${secs} s"
  RUSTC_BOOTSTRAP=1 cargo fuzz run -s address "$t" "$corpus" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=4096 -print_final_stats=1 "${extra[@]}"
done
echo "long fuzzing passed:" $targets
