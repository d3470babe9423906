/work/main/ci/nostd-check/target/release/deps/wattledger_nostd_check-b38cbeb2f1ccaf29.d: src/lib.rs

/work/main/ci/nostd-check/target/release/deps/libwattledger_nostd_check-b38cbeb2f1ccaf29.a: src/lib.rs

src/lib.rs:
