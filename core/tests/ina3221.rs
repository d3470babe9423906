//! INA3221 register decoding, worked by hand from the TI datasheet
//! (SBOS576: shunt LSB 40 µV, bus LSB 8 mV, both 13-bit two's complement
//! in bits 15–3), the configuration register's timing, the meter fed from
//! registers, and the Jetson rail trees.

use proptest::prelude::*;
use wattledger_core::ina3221::board::{self, BoardId, Role};
use wattledger_core::ina3221::{
    Channel, Config, Ina3221Error, IngestError, Measurement, Mode, Reading, Register,
    decode_bus_mv, decode_shunt_uv,
};
use wattledger_core::meter::{Meter, MeterConfig, MeterError, MigContext, WindowRef};

#[test]
fn shunt_register_positive_negative_and_full_scale() {
    // 0x0008: bit 3 alone = +1 LSB = 40 µV.
    assert_eq!(decode_shunt_uv(0x0008), Ok(40));
    // 0x2710 = 10 000; >> 3 = 1 250 LSB × 40 µV = 50 000 µV.
    assert_eq!(decode_shunt_uv(0x2710), Ok(50_000));
    // 0xFFF8 is −8 as i16; >> 3 = −1 LSB = −40 µV.
    assert_eq!(decode_shunt_uv(0xFFF8), Ok(-40));
    // 0xD8F0 = 65 536 − 10 000, i.e. −10 000; >> 3 = −1 250 LSB = −50 000 µV.
    assert_eq!(decode_shunt_uv(0xD8F0), Ok(-50_000));
    // One step inside full scale: 0x7FF0 = 4 094 LSB = 163 760 µV;
    // 0x8008 = −32 760 → −4 095 LSB = −163 800 µV.
    assert_eq!(decode_shunt_uv(0x7FF0), Ok(163_760));
    assert_eq!(decode_shunt_uv(0x8008), Ok(-163_800));
    // The two full-scale codes (+4 095 and −4 096 LSB) are the ADC's limits.
    for raw in [0x7FF8, 0x8000] {
        assert_eq!(
            decode_shunt_uv(raw),
            Err(Ina3221Error::FullScale {
                register: Register::Shunt,
                raw
            })
        );
    }
    assert_eq!(decode_shunt_uv(0), Ok(0));
}

#[test]
fn reserved_low_bits_are_refused_not_read_as_a_value() {
    // A read nobody answered: 0xFFFF would otherwise be −1 LSB.
    for raw in [0xFFFF, 0x0001, 0x0002, 0x0004, 0x2717] {
        assert_eq!(
            decode_shunt_uv(raw),
            Err(Ina3221Error::ReservedBits {
                register: Register::Shunt,
                raw
            })
        );
        assert_eq!(
            decode_bus_mv(raw),
            Err(Ina3221Error::ReservedBits {
                register: Register::Bus,
                raw
            })
        );
    }
}

#[test]
fn bus_register_bits() {
    // 0x13A8 = 5 032; >> 3 = 629 LSB × 8 mV = 5 032 mV (with LSB 8 mV and
    // a 3-bit shift, a positive bus register read as a number is mV).
    assert_eq!(decode_bus_mv(0x13A8), Ok(5_032));
    // Bit 3 alone: 8 mV. Bit 14 alone (0x4000): 2 048 LSB = 16 384 mV.
    assert_eq!(decode_bus_mv(0x0008), Ok(8));
    assert_eq!(decode_bus_mv(0x4000), Ok(16_384));
    // Highest measurable value: 0x7FF0 = 4 094 LSB = 32 752 mV.
    assert_eq!(decode_bus_mv(0x7FF0), Ok(32_752));
    assert_eq!(
        decode_bus_mv(0x7FF8),
        Err(Ina3221Error::FullScale {
            register: Register::Bus,
            raw: 0x7FF8
        })
    );
    // −1 LSB: a supply rail never reads below 0 V.
    assert_eq!(
        decode_bus_mv(0xFFF8),
        Err(Ina3221Error::NegativeBus { raw: 0xFFF8 })
    );
}

#[test]
fn configuration_register_averaging_and_conversion_times() {
    // Power-on value 0x7127: channels 1–3 on (bits 14–12), AVG 000 = 1,
    // VBUSCT 100 = 1.1 ms, VSHCT 100 = 1.1 ms, MODE 111 continuous.
    // One result: 1 × 3 channels × (1 100 + 1 100) µs = 6.6 ms.
    let c = Config::default();
    assert_eq!(c.0, 0x7127);
    assert_eq!(c.averages(), 1);
    assert_eq!(c.bus_conversion_us(), 1_100);
    assert_eq!(c.shunt_conversion_us(), 1_100);
    assert_eq!(
        c.mode(),
        Mode::Continuous {
            shunt: true,
            bus: true
        }
    );
    assert_eq!(c.sample_period_ns(), Some(6_600_000));

    // Channel 1 only (0x4000), AVG 011 = 64 (0x0600), VBUSCT 101 = 2.116 ms
    // (0x0140), VSHCT 010 = 332 µs (0x0010), MODE 111: 0x4757.
    // 64 × 1 × (332 + 2 116) µs = 156 672 µs.
    let c = Config(0x4757);
    assert!(c.channel_enabled(Channel::new(0).unwrap()));
    assert!(!c.channel_enabled(Channel::new(1).unwrap()));
    assert!(!c.channel_enabled(Channel::new(2).unwrap()));
    assert_eq!(c.averages(), 64);
    assert_eq!(c.bus_conversion_us(), 2_116);
    assert_eq!(c.shunt_conversion_us(), 332);
    assert_eq!(c.sample_period_ns(), Some(156_672_000));

    // AVG 111 = 1 024 (0x0E00 added): 1 024 × 3 × 2 200 µs = 6 758 400 µs.
    assert_eq!(Config(0x7F27).averages(), 1_024);
    assert_eq!(Config(0x7F27).sample_period_ns(), Some(6_758_400_000));
    // AVG 100 = 128, 101 = 256, 110 = 512; 001 = 4, 010 = 16.
    let avgs: Vec<u32> = (0..8u16)
        .map(|a| Config(0x7127 | (a << 9)).averages())
        .collect();
    assert_eq!(avgs, [1, 4, 16, 64, 128, 256, 512, 1024]);
    // Every conversion-time code: 140, 204, 332, 588 µs, 1.1, 2.116, 4.156, 8.244 ms.
    let times: Vec<u32> = (0..8u16)
        .map(|t| Config(t << 6).bus_conversion_us())
        .collect();
    assert_eq!(times, [140, 204, 332, 588, 1100, 2116, 4156, 8244]);

    // Shunt-only continuous (MODE 101): 3 × 1 100 µs.
    assert_eq!(Config(0x7125).sample_period_ns(), Some(3_300_000));
    // Channel 3 off (0x6127): 2 × 2 200 µs.
    assert_eq!(Config(0x6127).sample_period_ns(), Some(4_400_000));
    // Single-shot bus only (MODE 010): 3 × 1 100 µs.
    assert_eq!(
        Config(0x7122).mode(),
        Mode::SingleShot {
            shunt: false,
            bus: true
        }
    );
    assert_eq!(Config(0x7122).sample_period_ns(), Some(3_300_000));
    // Power-down (000 and 100) and no channel enabled: nothing converts.
    assert_eq!(Config(0x7120).sample_period_ns(), None);
    assert_eq!(Config(0x7124).mode(), Mode::PowerDown);
    assert_eq!(Config(0x0127).sample_period_ns(), None);
}

#[test]
fn current_and_power_for_a_shunt() {
    // Orin Nano VDD_IN (5 mΩ = 5 000 µΩ): bus 0x13A8 = 5 032 mV; shunt
    // 0x0568 = 1 384 → 173 LSB = 6 920 µV.
    // current = 6 920 µV / 5 000 µΩ = 1.384 A = 1 384 000 µA;
    // power = 5 032 mV × 6 920 µV / 5 000 µΩ = 6 964.288 mW → 6 964 mW.
    let r = Reading {
        mask_enable: 0x0001,
        shunt: 0x0568,
        bus: 0x13A8,
    };
    assert_eq!(
        r.decode(5_000),
        Ok(Measurement {
            shunt_uv: 6_920,
            bus_mv: 5_032,
            current_ua: 1_384_000,
            power_mw: 6_964,
        })
    );
    // AGX Orin's 2 mΩ: 6 920 / 2 000 = 3.46 A; 5 032 × 6 920 / 2 000 =
    // 17 410.72 mW → 17 411 mW (rounded to nearest).
    let m = r.decode(2_000).unwrap();
    assert_eq!((m.current_ua, m.power_mw), (3_460_000, 17_411));
    assert_eq!(r.to_sample(7, 2_000).unwrap().power_mw, Some(17_411));

    // Negative shunt: −40 µV / 5 mΩ = −8 mA; × 5 032 mV = −40.256 mW → −40.
    // The meter's sample counts it as 0 mW.
    let neg = Reading { shunt: 0xFFF8, ..r };
    let m = neg.decode(5_000).unwrap();
    assert_eq!((m.current_ua, m.power_mw), (-8_000, -40));
    assert_eq!(neg.to_sample(0, 5_000).unwrap().power_mw, Some(0));

    // Full scale on a 1 µΩ shunt: 32 752 mV × 163 760 µV / 1 µΩ ≈ 5.36e9 mW
    // does not fit u32 milliwatts.
    let huge = Reading {
        mask_enable: 1,
        shunt: 0x7FF0,
        bus: 0x7FF0,
    };
    assert!(matches!(
        huge.to_sample(0, 1),
        Err(Ina3221Error::PowerTooLarge { .. })
    ));
    assert_eq!(r.decode(0), Err(Ina3221Error::ZeroShunt));
}

#[test]
fn a_reading_without_cvrf_is_not_ready() {
    let r = Reading {
        mask_enable: 0x7C00, // summation and latch bits, CVRF (bit 0) clear
        shunt: 0x0568,
        bus: 0x13A8,
    };
    assert_eq!(
        r.decode(5_000),
        Err(Ina3221Error::NotReady {
            mask_enable: 0x7C00
        })
    );
    assert!(
        Reading {
            mask_enable: 0x7C01,
            ..r
        }
        .decode(5_000)
        .is_ok()
    );
}

#[test]
fn the_meter_integrates_registers_and_refuses_without_changing() {
    let mut m: Meter<4> = Meter::new(MeterConfig::default(), MigContext::default());
    let r = Reading {
        mask_enable: 1,
        shunt: 0x0568,
        bus: 0x13A8,
    };
    m.ingest_ina3221(0, r, 5_000).unwrap();
    m.begin("w").unwrap();
    let before = m.clone();
    // Not ready, reserved bits, zero shunt, time going back: all refused,
    // the meter exactly as it was.
    let not_ready = Reading {
        mask_enable: 0,
        ..r
    };
    assert!(matches!(
        m.ingest_ina3221(5, not_ready, 5_000),
        Err(IngestError::Register(Ina3221Error::NotReady { .. }))
    ));
    let floating = Reading {
        mask_enable: 1,
        shunt: 0xFFFF,
        bus: 0xFFFF,
    };
    assert!(matches!(
        m.ingest_ina3221(5, floating, 5_000),
        Err(IngestError::Register(Ina3221Error::ReservedBits { .. }))
    ));
    assert_eq!(
        m.ingest_ina3221(5, r, 0),
        Err(IngestError::Register(Ina3221Error::ZeroShunt))
    );
    assert_eq!(m, before);
    // 10 ms at 6 964 mW (both ends): 69.64 mJ.
    let got = m.ingest_ina3221(10_000_000, r, 5_000).unwrap();
    assert_eq!(got.power_mw, 6_964);
    let before = m.clone();
    assert_eq!(
        m.ingest_ina3221(9_999_999, r, 5_000),
        Err(IngestError::Meter(MeterError::TimeWentBack {
            last_ns: 10_000_000,
            got_ns: 9_999_999
        }))
    );
    assert_eq!(m, before);
    let w = m.end(WindowRef::Name("w")).unwrap();
    assert!((w.energy_j - 0.069_64).abs() < 1e-12, "{}", w.energy_j);
    assert_eq!(w.coverage, 1.0);
}

#[test]
fn every_16_bit_value_decodes_or_is_refused_without_panic() {
    for raw in 0..=u16::MAX {
        if let Ok(uv) = decode_shunt_uv(raw) {
            assert!((-163_800..=163_760).contains(&uv), "{raw:#06x} → {uv}");
            assert_eq!(uv % 40, 0);
        }
        if let Ok(mv) = decode_bus_mv(raw) {
            assert!(mv <= 32_752 && mv % 8 == 0, "{raw:#06x} → {mv}");
            assert_eq!(mv, u32::from(raw), "positive bus registers read as mV");
        }
        let c = Config(raw);
        assert!(c.averages() >= 1 && c.averages() <= 1024);
        if let Some(p) = c.sample_period_ns() {
            // Shortest: 1 × 1 × 140 µs; longest: 1 024 × 3 × 2 × 8 244 µs.
            assert!(
                (140_000..=1024 * 3 * 2 * 8_244_000).contains(&p),
                "{raw:#06x}"
            );
        }
    }
}

proptest! {
    #[test]
    fn decoding_any_registers_never_panics_and_agrees_with_floats(
        mask_enable in any::<u16>(), shunt in any::<u16>(), bus in any::<u16>(),
        r_uohm in any::<u32>(), t in any::<u64>(),
    ) {
        let r = Reading { mask_enable, shunt, bus };
        match r.decode(r_uohm) {
            Ok(m) => {
                prop_assert!(mask_enable & 1 == 1 && r_uohm > 0);
                let amps = f64::from(m.shunt_uv) * 1e-6 / (f64::from(r_uohm) * 1e-6);
                let watts = amps * f64::from(m.bus_mv) * 1e-3;
                prop_assert!((m.current_ua as f64 - amps * 1e6).abs() <= 0.5 + 1e-6);
                prop_assert!((m.power_mw as f64 - watts * 1e3).abs() <= 0.5 + 1e-6);
                match r.to_sample(t, r_uohm) {
                    Ok(s) => {
                        prop_assert_eq!(s.t_ns, t);
                        prop_assert_eq!(s.power_mw, Some(m.power_mw.max(0) as u32));
                    }
                    Err(e) => {
                        let too_large = matches!(e, Ina3221Error::PowerTooLarge { .. });
                        prop_assert!(too_large && m.power_mw > i64::from(u32::MAX), "{e:?}");
                    }
                }
            }
            Err(_) => prop_assert!(
                mask_enable & 1 == 0 || r_uohm == 0 || decode_shunt_uv(shunt).is_err()
                    || decode_bus_mv(bus).is_err()
            ),
        }
    }
}

#[test]
fn board_rail_trees() {
    let nano = board::identify(["VDD_IN", "VDD_CPU_GPU_CV", "VDD_SOC"].into_iter()).unwrap();
    assert_eq!(nano.id, BoardId::OrinNanoNx);
    let totals: Vec<&str> = nano.total_rails().map(|(_, r)| r.name).collect();
    assert_eq!(totals, ["VDD_IN"]);
    assert_eq!(nano.parent(1).map(|(_, r)| r.name), Some("VDD_IN"));
    assert_eq!(nano.rail("vdd_soc").map(|(i, _)| i), Some(2));

    let agx = board::identify(["VDD_GPU_SOC", "VDD_CPU_CV", "VIN_SYS_5V0"].into_iter()).unwrap();
    assert_eq!(agx.id, BoardId::AgxOrin);
    let totals: Vec<&str> = agx.total_rails().map(|(_, r)| r.name).collect();
    assert_eq!(totals, ["VDD_GPU_SOC", "VDD_CPU_CV", "VIN_SYS_5V0"]);
    assert_eq!(agx.rail("VDDQ_VDD2_1V8AO").unwrap().1.role, Role::Unplaced);
    assert!(agx.input().is_none());

    let xavier = board::board(BoardId::AgxXavier);
    assert_eq!(xavier.total_rails().count(), 6);
    assert!(
        xavier
            .rails
            .iter()
            .all(|r| r.shunt_micro_ohms == Some(5_000))
    );

    let nano_r32 = board::identify(["POM_5V_IN", "POM_5V_GPU", "POM_5V_CPU"].into_iter()).unwrap();
    assert_eq!(nano_r32.id, BoardId::NanoR32);
    assert!(nano_r32.rails.iter().all(|r| r.shunt_micro_ohms.is_none()));

    // A part without its total is not a board we can add up; unknown
    // labels are no board; nothing is no board.
    assert!(board::identify(["VDD_CPU_GPU_CV", "VDD_SOC"].into_iter()).is_none());
    assert!(board::identify(["VDD_IN", "VDD_MYSTERY"].into_iter()).is_none());
    assert!(board::identify([].into_iter()).is_none());
    for id in [
        BoardId::AgxOrin,
        BoardId::OrinNanoNx,
        BoardId::XavierNx,
        BoardId::AgxXavier,
        BoardId::NanoR32,
    ] {
        assert_eq!(board::board(id).id, id);
    }
}
