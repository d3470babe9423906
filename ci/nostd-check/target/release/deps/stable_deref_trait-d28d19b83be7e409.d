/work/main/ci/nostd-check/target/release/deps/stable_deref_trait-d28d19b83be7e409.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/stable_deref_trait-1.2.1/src/lib.rs

/work/main/ci/nostd-check/target/release/deps/libstable_deref_trait-d28d19b83be7e409.rlib: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/stable_deref_trait-1.2.1/src/lib.rs

/work/main/ci/nostd-check/target/release/deps/libstable_deref_trait-d28d19b83be7e409.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/stable_deref_trait-1.2.1/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/stable_deref_trait-1.2.1/src/lib.rs:
