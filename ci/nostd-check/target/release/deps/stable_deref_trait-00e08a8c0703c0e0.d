/work/main/ci/nostd-check/target/release/deps/stable_deref_trait-00e08a8c0703c0e0.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/stable_deref_trait-1.2.1/src/lib.rs

/work/main/ci/nostd-check/target/release/deps/libstable_deref_trait-00e08a8c0703c0e0.rlib: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/stable_deref_trait-1.2.1/src/lib.rs

/work/main/ci/nostd-check/target/release/deps/libstable_deref_trait-00e08a8c0703c0e0.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/stable_deref_trait-1.2.1/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/stable_deref_trait-1.2.1/src/lib.rs:
