/work/main/ci/nostd-check/target/release/deps/byteorder-2c09e62d773c53d4.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/byteorder-1.5.0/src/lib.rs

/work/main/ci/nostd-check/target/release/deps/libbyteorder-2c09e62d773c53d4.rlib: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/byteorder-1.5.0/src/lib.rs

/work/main/ci/nostd-check/target/release/deps/libbyteorder-2c09e62d773c53d4.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/byteorder-1.5.0/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/byteorder-1.5.0/src/lib.rs:
