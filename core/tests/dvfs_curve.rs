//! Voltage–frequency curves, clocks set by frequency alone, and the presets'
//! roofline figures.

use wattledger_core::hardware::{
    HardwareError, HardwareField, HardwareModel, Precision, VfCurve, VfPoint,
};
use wattledger_core::presets::Preset;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

fn pt(frequency_mhz: f64, voltage_v: f64) -> VfPoint {
    VfPoint {
        frequency_mhz,
        voltage_v,
    }
}

#[test]
fn a_curve_interpolates_floors_and_extrapolates() {
    // H100's assumed curve: (990 MHz, 0.70 V), (1980 MHz, 0.90 V).
    let curve = Preset::H100Sxm5.model().spec().dvfs.vf_curve;
    assert_eq!(curve.points(), &[pt(990.0, 0.70), pt(1980.0, 0.90)]);
    // Half-way: 0.80 V.
    assert!(close(curve.voltage_at(1485.0).unwrap(), 0.80));
    // Below the first point the voltage floor holds.
    assert_eq!(curve.voltage_at(300.0), Some(0.70));
    // Beyond the last, its slope: 0.9 + 0.2/990 · 198 = 0.94.
    assert!(close(curve.voltage_at(2178.0).unwrap(), 0.94));
    assert_eq!(VfCurve::EMPTY.voltage_at(1000.0), None);
    // Orin: through its four modes' voltages, piecewise.
    let orin = Preset::AgxOrin15w.model();
    let c = orin.spec().dvfs.vf_curve;
    assert_eq!(c.points().len(), 4);
    assert!(close(c.voltage_at(624.75).unwrap(), 0.65));
    // Between 624.75 (0.65) and 828.75 (0.70): a quarter of the way is 0.6625.
    assert!(close(c.voltage_at(675.75).unwrap(), 0.6625));
}

#[test]
fn frequency_alone_sets_the_voltage_and_keeps_the_latency_clock() {
    let h = Preset::H100Sxm5.model();
    let m = h.at_frequency(1485.0).unwrap();
    assert!(close(m.spec().dvfs.voltage_v, 0.80));
    assert_eq!(m.spec().dvfs.frequency_mhz, 1485.0);
    assert_eq!(m.spec().dvfs.latency_frequency_mhz, Some(1980.0));
    // The Orin 15 W mode moved to the 30 W mode's clock gets its voltage.
    let o = Preset::AgxOrin15w.model().at_frequency(624.75).unwrap();
    assert!(close(o.spec().dvfs.voltage_v, 0.65));
    assert_eq!(o.spec().dvfs.latency_frequency_mhz, Some(420.75));
    // A model without a curve keeps its voltage.
    let mut spec = h.spec().clone();
    spec.dvfs.vf_curve = VfCurve::EMPTY;
    let bare = HardwareModel::new(spec)
        .unwrap()
        .at_frequency(1000.0)
        .unwrap();
    assert_eq!(bare.spec().dvfs.voltage_v, 0.9);
    // Bad clocks are refused and name the field.
    assert_eq!(
        h.at_frequency(f64::NAN).unwrap_err(),
        HardwareError::NotANumber(HardwareField::Frequency)
    );
    assert_eq!(
        h.at_frequency(0.0).unwrap_err(),
        HardwareError::Zero(HardwareField::Frequency)
    );
}

#[test]
fn bad_curves_are_refused() {
    let base = Preset::H100Sxm5.model().spec().clone();
    let with = |points: &[VfPoint]| {
        let mut s = base.clone();
        s.dvfs.vf_curve = VfCurve::new(points);
        HardwareModel::new(s)
    };
    assert_eq!(
        with(&[pt(1000.0, 0.8), pt(900.0, 0.9)]).unwrap_err(),
        HardwareError::VfCurveNotIncreasing
    );
    assert_eq!(
        with(&[pt(900.0, 0.9), pt(1000.0, 0.8)]).unwrap_err(),
        HardwareError::VfCurveNotIncreasing
    );
    assert_eq!(
        with(&[pt(900.0, f64::NAN)]).unwrap_err(),
        HardwareError::NotANumber(HardwareField::VfCurve)
    );
    assert_eq!(
        with(&[pt(0.0, 0.7)]).unwrap_err(),
        HardwareError::Zero(HardwareField::VfCurve)
    );
    let mut s = base.clone();
    s.peak_ops_per_s = s.peak_ops_per_s.with(Precision::Fp8, -1.0);
    assert_eq!(
        HardwareModel::new(s).unwrap_err(),
        HardwareError::Negative(HardwareField::PeakRate(Precision::Fp8))
    );
    let mut s = base;
    s.memory_bandwidth_bytes_per_s = f64::INFINITY;
    assert_eq!(
        HardwareModel::new(s).unwrap_err(),
        HardwareError::Infinite(HardwareField::MemoryBandwidth)
    );
}

#[test]
fn every_preset_draws_a_roofline_and_sets_its_clock_fraction() {
    for p in Preset::ALL {
        let s = p.model().spec().clone();
        assert!(s.memory_bandwidth_bytes_per_s > 0.0, "{}", p.name());
        // A peak rate for every precision it has an energy for.
        for q in Precision::ALL {
            assert_eq!(
                s.energy_per_op_j.get(q).is_some(),
                s.peak_ops_per_s.get(q).is_some(),
                "{} {q}",
                p.name()
            );
        }
        assert!(s.dvfs.vf_curve.points().len() >= 2, "{}", p.name());
        let c = s.dvfs.clock_fraction;
        assert_eq!(
            c,
            if p == Preset::SeedH100 { 0.0 } else { 0.3 },
            "{}",
            p.name()
        );
        // The preset's own point lies on its curve (within 1 mV: Orin Nano's
        // 625 MHz is a quarter MHz above the 624.75 MHz point, 0.65006 V).
        let v = s.dvfs.vf_curve.voltage_at(s.dvfs.frequency_mhz).unwrap();
        assert!((v - s.dvfs.voltage_v).abs() < 1e-3, "{}: {v}", p.name());
    }
    // Orin 15 W: 6 SMs · 2048 FP16 ops per clock · 1301 MHz = 15.987e12/s
    // (rates are kept as f32: within 1e-7).
    let o = Preset::AgxOrin15w.model();
    let rate = o.spec().peak_ops_per_s.get(Precision::Fp16).unwrap();
    assert!((rate / (6.0 * 2048.0 * 1301e6) - 1.0).abs() < 1e-7);
    // A GEMM-like kernel on H100 (1e12 bf16 ops, 1e9 bytes) is compute-bound:
    // 1e12/989.4e12 = 1.0107 ms against 1e9/3.35e12 = 0.2985 ms, 77.2 %.
    let h = Preset::H100Sxm5.model();
    let share = h.compute_bound_share(1e12, Precision::Bf16, 1e9);
    let (tc, tm) = (1e12 / 989.4e12, 1e9 / 3.35e12);
    assert!((share - tc / (tc + tm)).abs() < 1e-7);
    assert!((share - 0.772).abs() < 1e-3);
}
