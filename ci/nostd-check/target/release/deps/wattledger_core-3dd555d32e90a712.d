/work/main/ci/nostd-check/target/release/deps/wattledger_core-3dd555d32e90a712.d: /work/main/core/src/lib.rs /work/main/core/src/compose.rs /work/main/core/src/hardware.rs /work/main/core/src/meter/mod.rs /work/main/core/src/meter/context.rs /work/main/core/src/meter/report.rs /work/main/core/src/mig/mod.rs /work/main/core/src/mig/arch.rs /work/main/core/src/mig/catalog.rs /work/main/core/src/mig/cuda.rs /work/main/core/src/mig/profile.rs /work/main/core/src/mig/rules.rs /work/main/core/src/presets.rs /work/main/core/src/scenario.rs /work/main/core/src/state.rs /work/main/ci/nostd-check/target/release/build/wattledger-core-4b4ab9ae02d616e2/out/mig_catalog.rs

/work/main/ci/nostd-check/target/release/deps/libwattledger_core-3dd555d32e90a712.rlib: /work/main/core/src/lib.rs /work/main/core/src/compose.rs /work/main/core/src/hardware.rs /work/main/core/src/meter/mod.rs /work/main/core/src/meter/context.rs /work/main/core/src/meter/report.rs /work/main/core/src/mig/mod.rs /work/main/core/src/mig/arch.rs /work/main/core/src/mig/catalog.rs /work/main/core/src/mig/cuda.rs /work/main/core/src/mig/profile.rs /work/main/core/src/mig/rules.rs /work/main/core/src/presets.rs /work/main/core/src/scenario.rs /work/main/core/src/state.rs /work/main/ci/nostd-check/target/release/build/wattledger-core-4b4ab9ae02d616e2/out/mig_catalog.rs

/work/main/ci/nostd-check/target/release/deps/libwattledger_core-3dd555d32e90a712.rmeta: /work/main/core/src/lib.rs /work/main/core/src/compose.rs /work/main/core/src/hardware.rs /work/main/core/src/meter/mod.rs /work/main/core/src/meter/context.rs /work/main/core/src/meter/report.rs /work/main/core/src/mig/mod.rs /work/main/core/src/mig/arch.rs /work/main/core/src/mig/catalog.rs /work/main/core/src/mig/cuda.rs /work/main/core/src/mig/profile.rs /work/main/core/src/mig/rules.rs /work/main/core/src/presets.rs /work/main/core/src/scenario.rs /work/main/core/src/state.rs /work/main/ci/nostd-check/target/release/build/wattledger-core-4b4ab9ae02d616e2/out/mig_catalog.rs

/work/main/core/src/lib.rs:
/work/main/core/src/compose.rs:
/work/main/core/src/hardware.rs:
/work/main/core/src/meter/mod.rs:
/work/main/core/src/meter/context.rs:
/work/main/core/src/meter/report.rs:
/work/main/core/src/mig/mod.rs:
/work/main/core/src/mig/arch.rs:
/work/main/core/src/mig/catalog.rs:
/work/main/core/src/mig/cuda.rs:
/work/main/core/src/mig/profile.rs:
/work/main/core/src/mig/rules.rs:
/work/main/core/src/presets.rs:
/work/main/core/src/scenario.rs:
/work/main/core/src/state.rs:
/work/main/ci/nostd-check/target/release/build/wattledger-core-4b4ab9ae02d616e2/out/mig_catalog.rs:

# env-dep:OUT_DIR=/work/main/ci/nostd-check/target/release/build/wattledger-core-4b4ab9ae02d616e2/out
