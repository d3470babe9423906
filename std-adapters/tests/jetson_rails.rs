//! The Jetson adapter over real directory trees shaped like three boards.

#[path = "fixtures/jetson_trees.rs"]
mod trees;

use std::fs;

use proptest::prelude::*;
use tempfile::TempDir;
use trees::put;
use wattledger_core::ina3221::board::{BoardId, Role};
use wattledger_std::sensors::jetson::{
    JetsonConfig, JetsonSensor, RailLayout, TotalRule, gated_units_from_mask, parse_tpc_mask,
};
use wattledger_std::sensors::{DeviceRole, Sensor, SensorError};

fn tree(build: fn(&std::path::Path)) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    dir
}

fn sensor(dir: &TempDir) -> JetsonSensor {
    JetsonSensor::with_config(JetsonConfig::with_root(dir.path())).unwrap()
}

fn rail_powers(s: &JetsonSensor) -> Vec<(String, u32)> {
    s.read_rails()
        .unwrap()
        .into_iter()
        .map(|r| (r.name, r.power_mw))
        .collect()
}

#[test]
fn agx_orin_rails_powers_and_picks() {
    let dir = tree(trees::agx_orin_r36);
    let mut s = sensor(&dir);

    // Three rails, not six: sys/class/hwmon/hwmon1 links to the same directory.
    // The second chip has NC and disabled channels only; in7 is not a rail.
    assert_eq!(s.rails().len(), 3);
    assert!(s.rails().iter().all(|r| r.layout == RailLayout::Hwmon));
    assert_eq!(
        s.rails().iter().map(|r| r.channel).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(
        rail_powers(&s),
        vec![
            // 5008 mV × 1473 mA = 7_376_784 µW → 7376.784 mW → 7377
            ("VDD_GPU_SOC".to_owned(), 7377),
            // 5008 mV × 615 mA = 3_079_920 µW → 3079.92 mW → 3080
            ("VDD_CPU_CV".to_owned(), 3080),
            // 4976 mV × 842 mA = 4_189_792 µW → 4189.792 mW → 4190
            ("VIN_SYS_5V0".to_owned(), 4190),
        ]
    );
    let r = s.read_rail(0).unwrap();
    assert_eq!((r.voltage_mv, r.current_ma), (Some(5008), Some(1473)));

    // The AGX Orin measures no input: its tree makes the total the sum of
    // its three top-level supplies (VIN_SYS_5V0 is one of them, not the
    // module's input, which the old name rule took it for).
    assert_eq!(s.board().map(|b| b.id), Some(BoardId::AgxOrin));
    assert!(s.tree_known());
    assert_eq!(s.total_rail(), None);
    assert_eq!(
        s.total_rails(),
        ["VDD_GPU_SOC", "VDD_CPU_CV", "VIN_SYS_5V0"]
    );
    assert_eq!(
        s.rail_roles(),
        [
            Some(Role::SumPart),
            Some(Role::SumPart),
            Some(Role::SumPart)
        ]
    );
    assert_eq!(s.gpu_rail(), Some("VDD_GPU_SOC"));
    assert_eq!(s.source(), "jetson");
    let devs = s.devices();
    assert_eq!(devs.len(), 2);
    assert_eq!(devs[0].index, 0);
    assert_eq!(
        devs[0].name,
        "Jetson board total (sum of VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0)"
    );
    assert_eq!(
        devs[0].uuid,
        "jetson-sum:VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0"
    );
    assert_eq!(devs[0].role, Some(DeviceRole::Total));
    assert!(!devs[0].has_energy_counter);
    assert_eq!(devs[1].index, 1);
    assert_eq!(devs[1].name, "Jetson GPU rail (VDD_GPU_SOC)");
    // The GPU rail is one of the summed supplies: a part of the total.
    assert_eq!(devs[1].role, Some(DeviceRole::Part));

    // update_interval 8 ms = 8_000_000 ns
    assert_eq!(s.update_period_ns(0), Some(8_000_000));
    assert_eq!(s.update_period_ns(2), None);

    assert_eq!(
        s.tpc_mask_path(),
        Some(dir.path().join(trees::AGX_MASK).as_path())
    );
    let total = s.sample(0).unwrap();
    // 7377 + 3080 + 4190 = 14647 mW
    assert_eq!(total.power_mw, Some(14_647));
    assert_eq!(total.energy_mj, None);
    // mask 240 = 0b1111_0000: 4 gated TPCs × 2 SMs = 8
    assert_eq!(total.gated_units, Some(8));
    let gpu = s.sample(1).unwrap();
    assert_eq!(gpu.power_mw, Some(7377));
    assert_eq!(gpu.gated_units, Some(8));
    assert!(gpu.t_ns >= total.t_ns);
    assert_eq!(s.sample(2), Err(SensorError::NoSuchDevice { device: 2 }));
}

#[test]
fn agx_orin_total_as_sum_or_named_rail() {
    let dir = tree(trees::agx_orin_r36);
    let mut cfg = JetsonConfig::with_root(dir.path());
    cfg.total = TotalRule::Sum;
    let mut s = JetsonSensor::with_config(cfg.clone()).unwrap();
    assert_eq!(s.total_rail(), None);
    assert_eq!(
        s.devices()[0].name,
        "Jetson board total (sum of VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0)"
    );
    // 7377 + 3080 + 4190 = 14647 mW
    assert_eq!(s.sample(0).unwrap().power_mw, Some(14_647));

    cfg.total = TotalRule::Rail("vdd_cpu_cv".into());
    let mut s = JetsonSensor::with_config(cfg.clone()).unwrap();
    assert_eq!(s.total_rail(), Some("VDD_CPU_CV"));
    assert_eq!(s.sample(0).unwrap().power_mw, Some(3080));

    cfg.total = TotalRule::Rail("VDD_IN".into());
    match JetsonSensor::with_config(cfg) {
        Err(SensorError::Unavailable { what, hint }) => {
            assert!(what.contains("VDD_IN"), "{what}");
            assert!(
                hint.contains("VDD_GPU_SOC, VDD_CPU_CV, VIN_SYS_5V0"),
                "{hint}"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[test]
fn orin_nano_through_class_hwmon() {
    let dir = tree(trees::orin_nano);
    let mut s = sensor(&dir);
    // The soctherm hwmon is not an INA3221 and is ignored.
    assert_eq!(
        rail_powers(&s),
        vec![
            // 5032 mV × 1380 mA = 6_944_160 µW → 6944.16 mW → 6944
            ("VDD_IN".to_owned(), 6944),
            // 5024 mV × 372 mA = 1_868_928 µW → 1868.928 mW → 1869
            ("VDD_CPU_GPU_CV".to_owned(), 1869),
            // 5024 mV × 297 mA = 1_492_128 µW → 1492.128 mW → 1492
            ("VDD_SOC".to_owned(), 1492),
        ]
    );
    // VDD_IN is the module's input and holds the other two.
    assert_eq!(s.board().map(|b| b.id), Some(BoardId::OrinNanoNx));
    assert_eq!(s.total_rail(), Some("VDD_IN"));
    assert_eq!(
        s.rail_roles(),
        [
            Some(Role::Input),
            Some(Role::Part { of: 0 }),
            Some(Role::Part { of: 0 })
        ]
    );
    assert_eq!(s.gpu_rail(), Some("VDD_CPU_GPU_CV"));
    assert_eq!(s.devices()[1].name, "Jetson GPU rail (VDD_CPU_GPU_CV)");
    assert_eq!(s.devices()[0].role, Some(DeviceRole::Total));
    assert_eq!(s.devices()[1].role, Some(DeviceRole::Part));
    // No update_interval file in this tree.
    assert_eq!(s.update_period_ns(0), None);

    let total = s.sample(0).unwrap();
    assert_eq!(total.power_mw, Some(6944));
    // mask 2 = 0b10: 1 gated TPC × 2 SMs = 2
    assert_eq!(total.gated_units, Some(2));
    assert_eq!(s.sample(1).unwrap().power_mw, Some(1869));

    // Counting TPCs instead of SMs: 1 gated TPC × 1 = 1
    let mut cfg = JetsonConfig::with_root(dir.path());
    cfg.units_per_tpc = 1;
    let mut s = JetsonSensor::with_config(cfg).unwrap();
    assert_eq!(s.sample(0).unwrap().gated_units, Some(1));
}

#[test]
fn nano_r32_iio_layout() {
    let dir = tree(trees::nano_r32);
    let mut s = sensor(&dir);
    assert!(s.rails().iter().all(|r| r.layout == RailLayout::Iio));
    assert_eq!(
        s.rails().iter().map(|r| r.channel).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    // iio reports mW itself: the in_power*_input values as they are.
    assert_eq!(
        rail_powers(&s),
        vec![
            ("POM_5V_IN".to_owned(), 3987),
            ("POM_5V_GPU".to_owned(), 781),
            ("POM_5V_CPU".to_owned(), 1124),
        ]
    );
    assert_eq!(s.board().map(|b| b.id), Some(BoardId::NanoR32));
    assert_eq!(s.total_rail(), Some("POM_5V_IN"));
    assert_eq!(s.gpu_rail(), Some("POM_5V_GPU"));
    assert_eq!(s.tpc_mask_path(), None);
    let total = s.sample(0).unwrap();
    assert_eq!(total.power_mw, Some(3987));
    // No mask file: "cannot tell", not zero.
    assert_eq!(total.gated_units, None);
    assert_eq!(s.sample(1).unwrap().power_mw, Some(781));

    // Without in_power1_input the power comes from voltage × current:
    // 4968 mV × 157 mA = 779_976 µW → 779.976 mW → 780
    fs::remove_file(dir.path().join(trees::NANO_IIO).join("in_power1_input")).unwrap();
    assert_eq!(s.sample(1).unwrap().power_mw, Some(780));
    let r = s.read_rail(1).unwrap();
    assert_eq!((r.voltage_mv, r.current_ma), (Some(4968), Some(157)));
}

#[test]
fn new_values_between_samples() {
    let dir = tree(trees::agx_orin_r36);
    let mut s = sensor(&dir);
    let first = s.sample(1).unwrap();
    assert_eq!(first.power_mw, Some(7377));
    assert_eq!(first.gated_units, Some(8));

    let h = trees::AGX_HWMON;
    put(dir.path(), &format!("{h}/curr1_input"), "3002\n");
    put(dir.path(), &format!("{h}/in1_input"), "4992\n");
    put(dir.path(), trees::AGX_MASK, "0\n");
    let second = s.sample(1).unwrap();
    // 4992 mV × 3002 mA = 14_985_984 µW → 14985.984 mW → 14986
    assert_eq!(second.power_mw, Some(14_986));
    // mask 0: nothing gated
    assert_eq!(second.gated_units, Some(0));
    assert!(second.t_ns >= first.t_ns);

    // The total is the sum of the three supplies and follows the GPU
    // rail's new value: 14986 + 3080 + 4190 = 22256 mW.
    assert_eq!(s.sample(0).unwrap().power_mw, Some(22_256));
}

#[test]
fn negative_current_counts_as_zero() {
    let dir = tree(trees::orin_nano);
    put(
        dir.path(),
        &format!("{}/curr3_input", trees::NANO_ORIN_HWMON),
        "-4\n",
    );
    let s = sensor(&dir);
    assert_eq!(s.read_rail(2).unwrap().power_mw, 0);
    assert_eq!(s.read_rail(2).unwrap().current_ma, Some(-4));
}

#[test]
fn sum_when_no_total_rail() {
    let dir = tempfile::tempdir().unwrap();
    let h = "sys/bus/i2c/drivers/ina3221/7-0040/hwmon/hwmon0";
    put(dir.path(), &format!("{h}/in1_label"), "VDD_CPU\n");
    put(dir.path(), &format!("{h}/in1_input"), "1000\n");
    put(dir.path(), &format!("{h}/curr1_input"), "1500\n");
    put(dir.path(), &format!("{h}/in2_label"), "VDD_DDR\n");
    put(dir.path(), &format!("{h}/in2_input"), "1100\n");
    put(dir.path(), &format!("{h}/curr2_input"), "499\n");
    let mut s = sensor(&dir);
    // Labels of no known board and no input rail: the sum of every rail,
    // said to be a guess (the rails might nest).
    assert_eq!(s.board(), None);
    assert!(!s.tree_known());
    assert_eq!(s.rail_roles(), [None, None]);
    assert_eq!(s.total_rail(), None);
    // No rail has GPU in its name: only the total device.
    assert_eq!(s.gpu_rail(), None);
    assert_eq!(s.devices().len(), 1);
    assert_eq!(s.devices()[0].uuid, "jetson-sum:VDD_CPU+VDD_DDR");
    assert_eq!(
        s.devices()[0].name,
        "Jetson board total (sum of VDD_CPU+VDD_DDR, board not recognised: the rails may nest)"
    );
    // 1000 × 1500 = 1_500_000 µW → 1500 mW; 1100 × 499 = 548_900 µW → 548.9 → 549;
    // 1500 + 549 = 2049
    assert_eq!(s.sample(0).unwrap().power_mw, Some(2049));
    assert_eq!(s.sample(1), Err(SensorError::NoSuchDevice { device: 1 }));
}

#[test]
fn missing_root_and_no_rails_are_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    match JetsonSensor::with_config(JetsonConfig::with_root(&missing)) {
        Err(SensorError::Unavailable { what, .. }) => assert!(what.contains("nope"), "{what}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    // An empty tree, and one with only a non-INA hwmon.
    put(dir.path(), "sys/class/hwmon/hwmon0/name", "cpu_thermal\n");
    match JetsonSensor::with_config(JetsonConfig::with_root(dir.path())) {
        Err(SensorError::Unavailable { what, hint }) => {
            assert!(what.contains("INA3221"), "{what}");
            assert!(hint.contains("ina3221x"), "{hint}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[test]
fn zero_units_per_tpc_is_refused() {
    let dir = tree(trees::orin_nano);
    let mut cfg = JetsonConfig::with_root(dir.path());
    cfg.units_per_tpc = 0;
    assert!(matches!(
        JetsonSensor::with_config(cfg),
        Err(SensorError::Other(m)) if m.contains("units_per_tpc")
    ));
}

#[test]
fn garbled_and_vanished_files() {
    let dir = tree(trees::orin_nano);
    let mut s = sensor(&dir);
    let h = trees::NANO_ORIN_HWMON;

    put(dir.path(), &format!("{h}/in1_input"), "5.0V\n");
    match s.sample(0) {
        Err(SensorError::Other(m)) => {
            assert!(m.contains("in1_input"), "{m}");
            assert!(m.contains("millivolts"), "{m}");
            assert!(m.contains("5.0V"), "{m}");
        }
        other => panic!("expected Other, got {other:?}"),
    }
    put(dir.path(), &format!("{h}/in1_input"), "5032\n");
    assert_eq!(s.sample(0).unwrap().power_mw, Some(6944));

    put(dir.path(), trees::NANO_ORIN_MASK, "all\n");
    match s.sample(0) {
        Err(SensorError::Other(m)) => assert!(m.contains("tpc_pg_mask"), "{m}"),
        other => panic!("expected Other, got {other:?}"),
    }
    put(dir.path(), trees::NANO_ORIN_MASK, "0x3\n");
    // 0x3 = 0b11: 2 TPCs × 2 = 4
    assert_eq!(s.sample(0).unwrap().gated_units, Some(4));

    fs::remove_file(dir.path().join(h).join("curr2_input")).unwrap();
    match s.sample(1) {
        Err(SensorError::Unavailable { what, .. }) => assert!(what.contains("curr2_input")),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    // The total does not read that file and still works.
    assert_eq!(s.sample(0).unwrap().power_mw, Some(6944));
}

#[test]
fn explicit_mask_path() {
    let dir = tree(trees::nano_r32);
    put(dir.path(), "custom/mask", "7\n");
    let mut cfg = JetsonConfig::with_root(dir.path());
    cfg.tpc_mask_path = Some("custom/mask".into());
    cfg.units_per_tpc = 3;
    let mut s = JetsonSensor::with_config(cfg).unwrap();
    // 7 = 0b111: 3 TPCs × 3 = 9
    assert_eq!(s.sample(0).unwrap().gated_units, Some(9));
}

#[test]
fn mask_parsing() {
    assert_eq!(parse_tpc_mask("240\n"), Some(240));
    assert_eq!(parse_tpc_mask(" 0x3c "), Some(0x3c));
    assert_eq!(parse_tpc_mask("0XFF"), Some(255));
    assert_eq!(parse_tpc_mask("4294967295"), Some(u32::MAX));
    assert_eq!(parse_tpc_mask("4294967296"), None);
    assert_eq!(parse_tpc_mask("-1"), None);
    assert_eq!(parse_tpc_mask(""), None);
    assert_eq!(parse_tpc_mask("0x"), None);
    // 0x3c = 0b0011_1100: 4 bits × 2 = 8
    assert_eq!(gated_units_from_mask(0x3c, 2), Some(8));
    // 32 bits × 2^27 = 2^32: one past u32::MAX
    assert_eq!(gated_units_from_mask(u32::MAX, 1 << 27), None);
}

proptest! {
    #[test]
    fn gated_units_is_bits_times_units(mask in any::<u32>(), k in 1u32..=64) {
        let bits = (0..32).filter(|b| mask & (1 << b) != 0).count() as u32;
        prop_assert_eq!(gated_units_from_mask(mask, k), Some(bits * k));
        prop_assert_eq!(parse_tpc_mask(&format!("{mask}\n")), Some(mask));
        prop_assert_eq!(parse_tpc_mask(&format!("{mask:#x}")), Some(mask));
    }
}

#[test]
fn mask_found_through_devfreq_and_first_path_wins() {
    let dir = tree(trees::nano_r32);
    put(
        dir.path(),
        "sys/class/devfreq/17000000.gpu/device/tpc_pg_mask",
        "1\n",
    );
    let mut s = sensor(&dir);
    // 1 = 0b1: 1 TPC × 2 = 2
    assert_eq!(s.sample(0).unwrap().gated_units, Some(2));
    // gpu.0 comes first in TPC_MASK_PATHS: 0b1111 = 4 TPCs × 2 = 8
    put(dir.path(), "sys/devices/gpu.0/tpc_pg_mask", "15\n");
    let mut s = sensor(&dir);
    assert!(
        s.tpc_mask_path()
            .unwrap()
            .ends_with("sys/devices/gpu.0/tpc_pg_mask")
    );
    assert_eq!(s.sample(0).unwrap().gated_units, Some(8));
}

#[test]
fn unknown_board_with_an_input_rail_takes_it_as_the_total() {
    // A TX2-like board: VDD_IN, VDD_SYS_GPU, VDD_SYS_CPU match no board of
    // the table, but VDD_IN is the name Jetson gives its measured input:
    // it is the total, and the GPU rail a part of it.
    let dir = tempfile::tempdir().unwrap();
    let h = "sys/bus/i2c/drivers/ina3221/0-0040/hwmon/hwmon0";
    for (ch, label, mv, ma) in [
        (1, "VDD_IN", 5000, 1000),
        (2, "VDD_SYS_GPU", 5000, 200),
        (3, "VDD_SYS_CPU", 5000, 300),
    ] {
        put(
            dir.path(),
            &format!("{h}/in{ch}_label"),
            &format!("{label}\n"),
        );
        put(dir.path(), &format!("{h}/in{ch}_input"), &format!("{mv}\n"));
        put(
            dir.path(),
            &format!("{h}/curr{ch}_input"),
            &format!("{ma}\n"),
        );
    }
    let mut s = sensor(&dir);
    assert_eq!(s.board(), None);
    assert!(s.tree_known());
    assert_eq!(s.total_rail(), Some("VDD_IN"));
    assert_eq!(s.gpu_rail(), Some("VDD_SYS_GPU"));
    assert_eq!(s.devices()[0].role, Some(DeviceRole::Total));
    assert_eq!(s.devices()[1].role, Some(DeviceRole::Part));
    // 5000 mV × 1000 mA = 5000 mW: VDD_IN alone, not 5000 + 1000 + 1500.
    assert_eq!(s.sample(0).unwrap().power_mw, Some(5000));
}
