#!/usr/bin/env bash
# Bounded fuzzing for CI: every cargo-fuzz target in fuzz/ for FUZZ_SECONDS
# (default 20) on stable Rust, without a sanitizer (`-s none`). Each target
# asserts the DESIGN.md invariants itself, so a run that ends without a
# crash is a run in which no invariant was broken.
#
# New corpus entries go to a temporary directory; the committed seeds in
# fuzz/corpus/<target>/ are only read. A failing input is left in
# fuzz/artifacts/<target>/ (reproduce: cargo fuzz run -s none <target> <file>).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

# A pinned cargo-fuzz, installed only when another version (or none) is there.
version=0.13.1
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$version" ]; then
  cargo install cargo-fuzz --version "$version" --locked
fi

secs=${FUZZ_SECONDS:-20}
targets=${*:-$(cargo fuzz list)}

# A stable build that failed once (e.g. after a nightly-only flag) can leave
# a stale rustc cache behind; clear it and retry once.
if ! cargo fuzz build -s none; then
  rm -f fuzz/target/.rustc_info.json
  cargo fuzz build -s none
fi

for t in $targets; do
  echo "== fuzz $t (${secs} s)"
  work=$(mktemp -d)
  status=0
  cargo fuzz run -s none "$t" "$work" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 || status=$?
  rm -rf "$work"
  if [ "$status" -ne 0 ]; then
    echo "fuzz target $t failed; the input is in fuzz/artifacts/$t/" >&2
    exit "$status"
  fi
done
echo "fuzzing passed:" $targets
