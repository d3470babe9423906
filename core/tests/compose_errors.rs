//! Every error path of the hardware model and the composer; each rejected
//! call must leave the composer exactly as it was.

use wattledger_core::compose::{
    CloseError, ComposeError, Composer, GatingPolicy, MAX_UNITS, Recorder, SetupError, Subgraph,
    SubgraphField,
};
use wattledger_core::hardware::{
    Dvfs, Gating, HardwareError, HardwareField, HardwareModel, HardwareSpec, Precision,
    PrecisionTable,
};
use wattledger_core::presets::Preset;

fn spec() -> HardwareSpec {
    HardwareSpec {
        name: "t".try_into().unwrap(),
        unit_name: "SM".try_into().unwrap(),
        units: 8,
        gating_domain: 2,
        idle_power_w: 8.0,
        uncore_power_w: 1.0,
        active_power_w: 0.0,
        energy_per_op_j: PrecisionTable::EMPTY.with(Precision::Fp32, 1e-12),
        energy_per_byte_j: 1e-11,
        peak_ops_per_s: wattledger_core::hardware::PeakRates::NONE,
        memory_bandwidth_bytes_per_s: 0.0,
        threads_per_unit: 64,
        gating: Gating {
            can_gate: true,
            transition_energy_j: 1e-6,
            wake_latency_s: 1e-5,
        },
        dvfs: Dvfs::nominal(1.0, 1000.0),
    }
}

fn with(f: impl FnOnce(&mut HardwareSpec)) -> Result<HardwareModel, HardwareError> {
    let mut s = spec();
    f(&mut s);
    HardwareModel::new(s)
}

#[test]
fn hardware_errors_each_have_their_own_variant() {
    use HardwareError as E;
    use HardwareField as F;
    assert_eq!(with(|s| s.units = 0), Err(E::ZeroUnits));
    assert_eq!(with(|s| s.gating_domain = 0), Err(E::ZeroGatingDomain));
    assert_eq!(
        with(|s| s.gating_domain = 3),
        Err(E::DomainDoesNotDivideUnits {
            units: 8,
            gating_domain: 3
        })
    );
    assert_eq!(with(|s| s.threads_per_unit = 0), Err(E::ZeroThreadsPerUnit));
    assert_eq!(
        with(|s| s.idle_power_w = f64::NAN),
        Err(E::NotANumber(F::IdlePower))
    );
    assert_eq!(
        with(|s| s.idle_power_w = f64::INFINITY),
        Err(E::Infinite(F::IdlePower))
    );
    assert_eq!(
        with(|s| s.idle_power_w = f64::NEG_INFINITY),
        Err(E::Infinite(F::IdlePower))
    );
    assert_eq!(
        with(|s| s.idle_power_w = -1.0),
        Err(E::Negative(F::IdlePower))
    );
    assert_eq!(
        with(|s| s.uncore_power_w = -0.5),
        Err(E::Negative(F::UncorePower))
    );
    assert_eq!(
        with(|s| s.active_power_w = -3.0),
        Err(E::Negative(F::ActivePower))
    );
    assert_eq!(
        with(|s| s.active_power_w = f64::NAN),
        Err(E::NotANumber(F::ActivePower))
    );
    assert_eq!(
        with(|s| s.energy_per_op_j = PrecisionTable::EMPTY.with(Precision::Int8, f64::NAN)),
        Err(E::NotANumber(F::EnergyPerOp(Precision::Int8)))
    );
    assert_eq!(
        with(|s| s.energy_per_byte_j = -1e-12),
        Err(E::Negative(F::EnergyPerByte))
    );
    assert_eq!(
        with(|s| s.gating.transition_energy_j = f64::INFINITY),
        Err(E::Infinite(F::TransitionEnergy))
    );
    assert_eq!(
        with(|s| s.gating.wake_latency_s = -1.0),
        Err(E::Negative(F::WakeLatency))
    );
    assert_eq!(
        with(|s| s.dvfs.nominal_voltage_v = 0.0),
        Err(E::Zero(F::NominalVoltage))
    );
    assert_eq!(
        with(|s| s.dvfs.nominal_frequency_mhz = 0.0),
        Err(E::Zero(F::NominalFrequency))
    );
    assert_eq!(
        with(|s| s.dvfs.voltage_v = f64::NAN),
        Err(E::NotANumber(F::Voltage))
    );
    assert_eq!(
        with(|s| s.dvfs.frequency_mhz = -5.0),
        Err(E::Negative(F::Frequency))
    );
    assert_eq!(
        with(|s| s.dvfs.clock_fraction = 1.5),
        Err(E::ClockFractionAboveOne)
    );
    assert_eq!(
        with(|s| s.dvfs.clock_fraction = -0.1),
        Err(E::Negative(F::ClockFraction))
    );
    assert_eq!(
        with(|s| s.dvfs.leakage_exponent = 0.0),
        Err(E::Zero(F::LeakageExponent))
    );
    // An operating point change is checked too, and leaves the model alone.
    let m = HardwareModel::new(spec()).unwrap();
    assert_eq!(m.with_operating_point(0.0, 100.0), Err(E::Zero(F::Voltage)));
    assert_eq!(
        m.with_operating_point(1.0, f64::NAN),
        Err(E::NotANumber(F::Frequency))
    );
    assert_eq!(m, HardwareModel::new(spec()).unwrap());
}

#[test]
fn composer_construction_errors() {
    let no_gate = with(|s| s.gating = Gating::NONE).unwrap();
    assert_eq!(
        Composer::<64>::new(no_gate.clone(), GatingPolicy::Always).unwrap_err(),
        SetupError::GatingUnsupported(GatingPolicy::Always)
    );
    assert_eq!(
        Composer::<64>::new(no_gate.clone(), GatingPolicy::BreakEven).unwrap_err(),
        SetupError::GatingUnsupported(GatingPolicy::BreakEven)
    );
    assert!(Composer::<64>::new(no_gate, GatingPolicy::Off).is_ok());
    let huge = with(|s| {
        s.units = MAX_UNITS + 2;
        s.gating_domain = 2;
    })
    .unwrap();
    assert_eq!(
        Composer::<64>::new(huge, GatingPolicy::Off).unwrap_err(),
        SetupError::Hardware(HardwareError::TooManyUnits {
            units: MAX_UNITS + 2,
            capacity: MAX_UNITS as usize
        })
    );
}

fn good(id: u32, stage: u32) -> Subgraph {
    Subgraph {
        flops: 1e6,
        input_bytes: 100.0,
        latency_s: 1e-3,
        units_allocated: Some(2),
        ..Subgraph::empty(id, stage)
    }
}

/// A composer with one closed stage and one open stage, so that a rejected
/// call has something to disturb.
fn busy() -> Composer<4> {
    let mut c = Composer::<4>::new(Preset::H100Sxm5.model(), GatingPolicy::BreakEven).unwrap();
    c.push(&good(0, 1), &mut ()).unwrap();
    c.push(&good(1, 2), &mut ()).unwrap();
    c.push(&good(2, 2), &mut ()).unwrap();
    c
}

/// Pushes `s`, expects `err`, and checks that nothing changed.
fn rejects(s: Subgraph, err: ComposeError) {
    let mut c = busy();
    let before = c.clone();
    let report_before = c.report();
    let mut rec: Recorder<8, 8> = Recorder::new();
    assert_eq!(c.push(&s, &mut rec), Err(err));
    assert_eq!(c.report(), report_before);
    assert_eq!(c, before);
    assert!(rec.stages.is_empty() && rec.subgraphs.is_empty());
}

#[test]
fn bad_numbers_are_rejected_and_change_nothing() {
    type Setter = fn(&mut Subgraph, f64);
    let fields: [(SubgraphField, Setter); 5] = [
        (SubgraphField::Flops, |s, v| s.flops = v),
        (SubgraphField::InputBytes, |s, v| s.input_bytes = v),
        (SubgraphField::OutputBytes, |s, v| s.output_bytes = v),
        (SubgraphField::WeightBytes, |s, v| s.weight_bytes = v),
        (SubgraphField::Latency, |s, v| s.latency_s = v),
    ];
    for (field, set) in fields {
        // Stage 3 would close stage 2, so a bad value must be caught first.
        for (value, err) in [
            (f64::NAN, ComposeError::NotANumber { id: 9, field }),
            (f64::INFINITY, ComposeError::Infinite { id: 9, field }),
            (f64::NEG_INFINITY, ComposeError::Infinite { id: 9, field }),
            (-1.0, ComposeError::Negative { id: 9, field }),
        ] {
            let mut s = good(9, 3);
            set(&mut s, value);
            rejects(s, err);
        }
    }
}

#[test]
fn structural_errors_are_rejected_and_change_nothing() {
    rejects(
        Subgraph {
            units_allocated: Some(0),
            ..good(9, 3)
        },
        ComposeError::ZeroAllocation { id: 9 },
    );
    rejects(
        Subgraph {
            precision: Precision::Int4,
            ..good(9, 3)
        },
        ComposeError::UnsupportedPrecision {
            id: 9,
            precision: Precision::Int4,
        },
    );
    rejects(
        good(9, 1),
        ComposeError::StageOutOfOrder {
            id: 9,
            stage: 1,
            current: 2,
        },
    );
    rejects(
        Subgraph {
            units_allocated: None,
            ..good(9, 2)
        },
        ComposeError::LegacySharesStage { id: 9, stage: 2 },
    );
}

#[test]
fn overflow_is_rejected_and_changes_nothing() {
    // 10 J per FP64 op: f64::MAX operations are finite, their energy is not.
    let hw = with(|s| s.energy_per_op_j = s.energy_per_op_j.with(Precision::Fp64, 10.0)).unwrap();
    let mut c = Composer::<4>::new(hw, GatingPolicy::Off).unwrap();
    let before = c.clone();
    let s = Subgraph {
        flops: f64::MAX,
        precision: Precision::Fp64,
        ..good(0, 0)
    };
    assert_eq!(
        c.push(&s, &mut ()),
        Err(ComposeError::Overflow { stage: 0 })
    );
    assert_eq!(c, before);
    // A stage of 0.75·f64::MAX seconds is a finite latency, but 8 W over it
    // is not: the push that would close the stage fails, and so does finish.
    let long = Subgraph {
        latency_s: 0.75 * f64::MAX,
        ..good(1, 1)
    };
    c.push(&long, &mut ()).unwrap();
    let before = c.clone();
    assert_eq!(
        c.push(&good(3, 3), &mut ()),
        Err(ComposeError::Overflow { stage: 1 })
    );
    assert_eq!(c, before);
    assert_eq!(c.finish(&mut ()), Err(CloseError::Overflow { stage: 1 }));
    assert_eq!(c, before);
}

#[test]
fn a_total_that_overflows_is_refused_even_when_its_parts_do_not() {
    // 10 W static and 10 W uncore over 1e307 s: each part is 1e308 J, finite;
    // their sum, 2e308 J, is not. (Found by the composer fuzz target.)
    let hw = with(|s| {
        s.idle_power_w = 10.0;
        s.uncore_power_w = 10.0;
    })
    .unwrap();
    let mut c = Composer::<4>::new(hw, GatingPolicy::Off).unwrap();
    c.push(
        &Subgraph {
            latency_s: 1e307,
            ..good(0, 0)
        },
        &mut (),
    )
    .unwrap();
    let before = c.clone();
    assert_eq!(c.finish(&mut ()), Err(CloseError::Overflow { stage: 0 }));
    assert_eq!(c, before);
    assert!(c.report().energy.total_j.is_finite());
}

#[test]
fn capacity_exceeded_is_an_error_not_a_truncation() {
    let mut c = busy();
    c.push(&good(3, 2), &mut ()).unwrap();
    c.push(&good(4, 2), &mut ()).unwrap();
    assert_eq!(c.pending(), 4);
    let before = c.clone();
    assert_eq!(
        c.push(&good(5, 2), &mut ()),
        Err(ComposeError::StageFull { id: 5, capacity: 4 })
    );
    assert_eq!(c, before);
    // A sink without room refuses the whole stage; the composer stays put.
    let mut tiny: Recorder<1, 2> = Recorder::new();
    assert_eq!(
        c.push(&good(6, 3), &mut tiny),
        Err(ComposeError::SinkFull { stage: 2 })
    );
    assert_eq!(c, before);
    assert!(tiny.stages.is_empty() && tiny.subgraphs.is_empty());
}

#[test]
fn a_legacy_stage_takes_no_company() {
    let mut c = Composer::<4>::new(Preset::SeedH100.model(), GatingPolicy::Off).unwrap();
    c.push(
        &Subgraph {
            units_allocated: None,
            ..good(0, 0)
        },
        &mut (),
    )
    .unwrap();
    let before = c.clone();
    assert_eq!(
        c.push(&good(1, 0), &mut ()),
        Err(ComposeError::LegacySharesStage { id: 1, stage: 0 })
    );
    assert_eq!(c, before);
}

#[test]
fn a_finished_stage_cannot_reopen() {
    let mut c = busy();
    let first = c.finish(&mut ()).unwrap();
    let before = c.clone();
    assert_eq!(
        c.push(&good(7, 2), &mut ()),
        Err(ComposeError::StageOutOfOrder {
            id: 7,
            stage: 2,
            current: 2
        })
    );
    assert_eq!(c, before);
    // Finishing again changes nothing; a later stage is fine.
    assert_eq!(c.finish(&mut ()).unwrap(), first);
    c.push(&good(8, 5), &mut ()).unwrap();
    assert_eq!(c.finish(&mut ()).unwrap().stages, 3);
}

#[test]
fn errors_display_the_subgraph_and_field() {
    let e = ComposeError::Negative {
        id: 4,
        field: SubgraphField::Latency,
    };
    assert_eq!(e.to_string(), "subgraph 4: latency_s is negative");
    let h = HardwareError::DomainDoesNotDivideUnits {
        units: 8,
        gating_domain: 3,
    };
    assert_eq!(h.to_string(), "gating_domain 3 does not divide units 8");
}

#[test]
fn a_refused_stage_can_be_discarded_and_the_composer_goes_on() {
    // The toy: 8 units, 8 W static, 1 W uncore. Stage 0 of 1 ms closes:
    // 8 W × 1 ms = 8 mJ static, 1 W × 1 ms = 1 mJ uncore, 1e6 ops × 1 pJ =
    // 1 µJ compute, 100 B × 10 pJ = 1 nJ memory: 9.001001 mJ.
    let mut c = Composer::<4>::new(with(|_| {}).unwrap(), GatingPolicy::Off).unwrap();
    c.push(&good(0, 0), &mut ()).unwrap();
    // Stage 1 lasts 0.75·f64::MAX s: its static energy overflows when it closes.
    let endless = Subgraph {
        latency_s: 0.75 * f64::MAX,
        ..good(1, 1)
    };
    c.push(&endless, &mut ()).unwrap();
    assert_eq!(c.finish(&mut ()), Err(CloseError::Overflow { stage: 1 }));
    assert_eq!(
        c.push(&good(2, 2), &mut ()),
        Err(ComposeError::Overflow { stage: 1 })
    );
    // Dropping it keeps stage 0 and lets stage 1 be used again.
    let closed = c.report();
    assert_eq!(c.discard_pending(), 1);
    assert_eq!(c.pending(), 0);
    assert_eq!(c.report(), closed);
    assert_eq!(c.discard_pending(), 0, "nothing left to drop");
    c.push(&good(3, 1), &mut ()).unwrap();
    let r = c.finish(&mut ()).unwrap();
    assert_eq!(r.stages, 2);
    // Two such stages: 2 × 9.001001 mJ.
    assert!(
        (r.energy.total_j - 0.018002002).abs() < 1e-15,
        "{}",
        r.energy.total_j
    );
    // A closed stage still cannot be reopened after a discard.
    c.push(&good(4, 2), &mut ()).unwrap();
    assert_eq!(c.discard_pending(), 1);
    assert_eq!(
        c.push(&good(5, 1), &mut ()),
        Err(ComposeError::StageOutOfOrder {
            id: 5,
            stage: 1,
            current: 1
        })
    );
}
