/work/main/ci/nostd-check/target/release/deps/wattledger_core-78c1feef3556989d.d: /work/main/core/src/lib.rs /work/main/core/src/compose.rs /work/main/core/src/hardware.rs /work/main/core/src/meter.rs /work/main/core/src/mig/mod.rs /work/main/core/src/presets.rs /work/main/core/src/scenario.rs /work/main/core/src/state.rs

/work/main/ci/nostd-check/target/release/deps/libwattledger_core-78c1feef3556989d.rlib: /work/main/core/src/lib.rs /work/main/core/src/compose.rs /work/main/core/src/hardware.rs /work/main/core/src/meter.rs /work/main/core/src/mig/mod.rs /work/main/core/src/presets.rs /work/main/core/src/scenario.rs /work/main/core/src/state.rs

/work/main/ci/nostd-check/target/release/deps/libwattledger_core-78c1feef3556989d.rmeta: /work/main/core/src/lib.rs /work/main/core/src/compose.rs /work/main/core/src/hardware.rs /work/main/core/src/meter.rs /work/main/core/src/mig/mod.rs /work/main/core/src/presets.rs /work/main/core/src/scenario.rs /work/main/core/src/state.rs

/work/main/core/src/lib.rs:
/work/main/core/src/compose.rs:
/work/main/core/src/hardware.rs:
/work/main/core/src/meter.rs:
/work/main/core/src/mig/mod.rs:
/work/main/core/src/presets.rs:
/work/main/core/src/scenario.rs:
/work/main/core/src/state.rs:
