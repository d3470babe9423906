/work/main/ci/nostd-check/target/release/deps/wattledger_core-631dcacf2eec11bd.d: /work/main/core/src/lib.rs /work/main/core/src/compose.rs /work/main/core/src/hardware.rs /work/main/core/src/meter.rs /work/main/core/src/mig/mod.rs /work/main/core/src/presets.rs /work/main/core/src/scenario.rs /work/main/core/src/state.rs

/work/main/ci/nostd-check/target/release/deps/libwattledger_core-631dcacf2eec11bd.rlib: /work/main/core/src/lib.rs /work/main/core/src/compose.rs /work/main/core/src/hardware.rs /work/main/core/src/meter.rs /work/main/core/src/mig/mod.rs /work/main/core/src/presets.rs /work/main/core/src/scenario.rs /work/main/core/src/state.rs

/work/main/ci/nostd-check/target/release/deps/libwattledger_core-631dcacf2eec11bd.rmeta: /work/main/core/src/lib.rs /work/main/core/src/compose.rs /work/main/core/src/hardware.rs /work/main/core/src/meter.rs /work/main/core/src/mig/mod.rs /work/main/core/src/presets.rs /work/main/core/src/scenario.rs /work/main/core/src/state.rs

/work/main/core/src/lib.rs:
/work/main/core/src/compose.rs:
/work/main/core/src/hardware.rs:
/work/main/core/src/meter.rs:
/work/main/core/src/mig/mod.rs:
/work/main/core/src/presets.rs:
/work/main/core/src/scenario.rs:
/work/main/core/src/state.rs:
