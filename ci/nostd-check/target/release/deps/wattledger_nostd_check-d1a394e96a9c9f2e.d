/work/main/ci/nostd-check/target/release/deps/wattledger_nostd_check-d1a394e96a9c9f2e.d: src/lib.rs

/work/main/ci/nostd-check/target/release/deps/libwattledger_nostd_check-d1a394e96a9c9f2e.a: src/lib.rs

src/lib.rs:
