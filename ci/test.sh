#!/usr/bin/env bash
# Every test of the project: the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-targets --quiet
# Doc tests (all-targets leaves them out).
cargo test --workspace --doc --quiet
# The core with no default features, and with serde.
cargo test -p wattledger-core --no-default-features --quiet
cargo test -p wattledger-core --features serde --quiet
# The core needs neither std nor alloc, and links into a program with no libc.
ci/nostd-check/run.sh
# The C ABI: the header as C99 and C++17, every function and status from C
# and C++ (also under ASan and UBSan), the monitor against the fake NVML, the
# freestanding no-std link, and installing with pkg-config/CMake files (each
# skipped, saying so, where that tool is not installed).
bash ffi/tests/c/run.sh
bash ffi/tests/c/install-test.sh
# The ABI only grows: a program built against the frozen 1.0 header runs
# against today's library.
bash ffi/tests/c/compat.sh
