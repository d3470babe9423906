/work/main/ci/nostd-check/target/release/deps/wattledger_nostd_check-ff62c31167a36510.d: src/lib.rs

/work/main/ci/nostd-check/target/release/deps/libwattledger_nostd_check-ff62c31167a36510.a: src/lib.rs

src/lib.rs:
