//! The calibration fit against known ground truth.
//!
//! A generator plays a GPU with known power figures through a random
//! kernel timeline, adds power noise, and reads it through a realistic
//! energy counter (updated every 100 ms, 1 mJ resolution). The fit must
//! find the figures again, within tolerances derived from the noise; tiny
//! systems check the arithmetic against results worked out by hand.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wattledger_core::hardware::{HardwareModel, Precision};
use wattledger_core::presets::Preset;
use wattledger_std::calibrate::{
    Calibration, CalibrationError, ConstantSplit, Field, FitOptions, Interval, Parameter, calibrate,
};

/// H100-like: 132 SMs gated in pairs (TPCs).
const UNITS: u32 = 132;
const DOMAIN: u32 = 2;
/// The counter's update period, which is also the measured interval.
const WINDOW_S: f64 = 0.1;

/// The figures the generator's GPU really has.
#[derive(Debug, Clone, Copy)]
struct Truth {
    idle_w: f64,
    uncore_w: f64,
    active_w: f64,
    bf16_j: f64,
    byte_j: f64,
}

const TRUTH: Truth = Truth {
    idle_w: 60.0,
    uncore_w: 45.0,
    active_w: 240.0,
    bf16_j: 0.4e-12,
    byte_j: 25e-12,
};

#[derive(Debug, Clone, Copy)]
struct Scenario {
    windows: usize,
    /// Standard deviation of the power noise of each timeline segment, W.
    noise_w: f64,
    /// Whether idle domains are ever power-gated.
    gating: bool,
    seed: u64,
}

/// Standard normal variate (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]: ln is finite
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// A random timeline of segments (2–40 ms each) with constant state, read
/// through the counter into 100 ms intervals.
///
/// Segment kinds: idle (no kernel), copy (units busy, bytes, no FLOPs),
/// GEMM (units busy, bf16 FLOPs near peak, some bytes) and mixed. With
/// gating, half the segments power down a random number of the free
/// domains. The true power of a segment is
/// `idle·powered/N + uncore + active·busy/N + e_op·ops/s + e_byte·bytes/s`
/// plus a normal deviate of `noise_w`, clamped at 0.
fn generate(truth: Truth, scenario: Scenario) -> Vec<Interval> {
    let mut rng = ChaCha8Rng::seed_from_u64(scenario.seed);
    let n = f64::from(UNITS);
    let total = scenario.windows as f64 * WINDOW_S;
    let mut rows: Vec<Interval> = (0..scenario.windows)
        .map(|_| Interval::new(WINDOW_S, 0.0, 0.0, 0.0))
        .collect();
    // True energy accumulated up to the end of each window.
    let mut energy_at_end = vec![0.0f64; scenario.windows];
    let mut energy = 0.0f64;
    let mut t = 0.0f64;
    let mut window = 0usize;
    while t < total {
        let dt = rng.random_range(0.002..0.040);
        let kind = rng.random_range(0..100);
        let domains = UNITS / DOMAIN;
        let busy = if kind < 30 {
            0.0
        } else {
            f64::from(DOMAIN * rng.random_range(1..=domains))
        };
        let (ops_rate, byte_rate) = match kind {
            0..30 => (0.0, 0.0),
            30..55 => (0.0, rng.random_range(0.3..1.0) * 3.3e12),
            55..85 => (
                busy / n * rng.random_range(0.3..1.0) * 9.9e14,
                rng.random_range(0.05..0.3) * 3.3e12,
            ),
            _ => (
                busy / n * rng.random_range(0.1..0.5) * 9.9e14,
                rng.random_range(0.2..0.6) * 3.3e12,
            ),
        };
        let free_domains = domains - (busy as u32) / DOMAIN;
        let gated = if scenario.gating && rng.random_bool(0.5) {
            f64::from(DOMAIN * rng.random_range(0..=free_domains))
        } else {
            0.0
        };
        let powered = n - gated;
        let power = (truth.idle_w * powered / n
            + truth.uncore_w
            + truth.active_w * busy / n
            + truth.bf16_j * ops_rate
            + truth.byte_j * byte_rate
            + scenario.noise_w * normal(&mut rng))
        .max(0.0);

        // Spread the segment over the windows it overlaps. `window` only
        // moves forward, and is moved by comparing with the boundary rather
        // than by dividing, so a boundary that rounds either way is still
        // crossed exactly once.
        let end = (t + dt).min(total);
        let mut at = t;
        while at < end {
            while window + 1 < scenario.windows && at >= (window + 1) as f64 * WINDOW_S {
                window += 1;
            }
            let boundary = if window + 1 == scenario.windows {
                total
            } else {
                (window + 1) as f64 * WINDOW_S
            };
            let piece = end.min(boundary) - at;
            let row = &mut rows[window];
            row.powered_unit_s += powered * piece;
            row.active_unit_s += busy * piece;
            row.ops[Precision::Bf16.index()] += ops_rate * piece;
            row.bytes += byte_rate * piece;
            energy += power * piece;
            energy_at_end[window] = energy;
            at += piece;
        }
        t = end;
    }
    // The counter: whole millijoules, read at each 100 ms update.
    let mut previous_mj = 0i64;
    for (row, e) in rows.iter_mut().zip(&energy_at_end) {
        let reading_mj = (e * 1000.0).floor() as i64;
        row.measured_j = (reading_mj - previous_mj) as f64 / 1000.0;
        previous_mj = reading_mj;
        // Summing pieces may land a few ulps past N·T.
        row.powered_unit_s = row.powered_unit_s.min(n * WINDOW_S);
    }
    rows
}

fn scenario(windows: usize, noise_w: f64, gating: bool, seed: u64) -> Scenario {
    Scenario {
        windows,
        noise_w,
        gating,
        seed,
    }
}

fn fit(rows: &[Interval], folds: usize) -> Calibration {
    // The preset ratio used when idle and uncore cannot be told apart.
    calibrate(rows, &FitOptions::new(UNITS, 0.6, folds)).unwrap()
}

fn estimate(fit: &Calibration, p: Parameter) -> (f64, f64) {
    let e = fit.estimate(p).unwrap_or_else(|| panic!("{p} missing"));
    (
        e.value,
        e.stderr.unwrap_or_else(|| panic!("{p} has no stderr")),
    )
}

/// Asserts `p` is within `relative` of `truth`, and within 5 of its own
/// reported standard errors (so the standard error is honest too).
fn assert_recovered(fit: &Calibration, p: Parameter, truth: f64, relative: f64) {
    let (value, stderr) = estimate(fit, p);
    let error = (value - truth).abs();
    assert!(
        error <= relative * truth,
        "{p}: {value} vs {truth} (tolerance {relative})"
    );
    assert!(
        error <= 5.0 * stderr,
        "{p}: off by {error}, stderr {stderr}"
    );
}

// Noise budget of the recovery tests. Segments last 21 ms on average, so a
// 100 ms window holds about 5 of them and the noise of its energy is
// σ_E ≈ σ_P·sqrt(5·(0.021 s)²·(1 + cv²)) ≈ σ_P·0.05 s, where cv² ≈ 0.28 is
// the squared coefficient of variation of a uniform 2–40 ms length. At
// σ_P = 10 W that is 0.5 J per window (the counter's ±1 mJ adds nothing
// visible). A power-like parameter then has a standard error near
// σ_E/(T·√n) = 0.5/(0.1·√4000) ≈ 0.08 W, times the variance inflation from
// its correlation with the other columns: about 3 for the constant, 10 for
// active power, 8 each for idle and uncore (which share most of their
// column). Relative to the values that is ≈ 0.3 % for constant, active and
// bf16 energy, ≈ 1 % for idle, uncore and energy per byte (whose column
// moves least). The tolerances are about 5 of those: 2 % and 5 %.

#[test]
fn recovers_every_figure_when_gating_separates_idle_from_uncore() {
    let rows = generate(TRUTH, scenario(4000, 10.0, true, 1));
    let fit = fit(&rows, 5);
    assert_eq!(fit.split, ConstantSplit::Fitted);
    for p in [
        Parameter::ConstantPower,
        Parameter::IdlePower,
        Parameter::UncorePower,
        Parameter::ActivePower,
        Parameter::EnergyPerByte,
        Parameter::EnergyPerOp(Precision::Bf16),
    ] {
        assert!(fit.identifiable.contains(&p), "{p}: {:?}", fit.identifiable);
    }
    assert!(
        fit.not_identifiable.is_empty(),
        "{:?}",
        fit.not_identifiable
    );
    assert!(
        fit.absent
            .contains(&Parameter::EnergyPerOp(Precision::Fp64))
    );
    assert_recovered(&fit, Parameter::IdlePower, TRUTH.idle_w, 0.05);
    assert_recovered(&fit, Parameter::UncorePower, TRUTH.uncore_w, 0.05);
    assert_recovered(
        &fit,
        Parameter::ConstantPower,
        TRUTH.idle_w + TRUTH.uncore_w,
        0.02,
    );
    assert_recovered(&fit, Parameter::ActivePower, TRUTH.active_w, 0.02);
    assert_recovered(&fit, Parameter::EnergyPerByte, TRUTH.byte_j, 0.05);
    assert_recovered(
        &fit,
        Parameter::EnergyPerOp(Precision::Bf16),
        TRUTH.bf16_j,
        0.02,
    );
    // The residual power is the noise seen through 100 ms windows:
    // σ_E/T ≈ 0.5 J / 0.1 s ≈ 5 W (see the budget above).
    assert!(
        (3.0..8.0).contains(&fit.residual_w),
        "residual {} W",
        fit.residual_w
    );
    // No parameter is negative in truth, so none should sit at the bound.
    assert!(fit.estimates.iter().all(|e| !e.at_bound));
}

#[test]
fn without_gating_only_the_constant_is_fitted_and_the_split_is_the_presets() {
    let rows = generate(TRUTH, scenario(4000, 10.0, false, 2));
    let fit = fit(&rows, 5);
    assert_eq!(fit.split, ConstantSplit::PresetRatio { idle_fraction: 0.6 });
    assert!(fit.identifiable.contains(&Parameter::ConstantPower));
    assert!(!fit.identifiable.contains(&Parameter::IdlePower));
    assert!(fit.not_identifiable.contains(&Parameter::IdlePower));
    assert!(fit.not_identifiable.contains(&Parameter::UncorePower));
    // idle + uncore = 105 W; with one constant column instead of two
    // correlated ones its standard error is near the 0.08 W floor.
    assert_recovered(&fit, Parameter::ConstantPower, 105.0, 0.01);
    let (constant, se) = estimate(&fit, Parameter::ConstantPower);
    let (idle, idle_se) = estimate(&fit, Parameter::IdlePower);
    let (uncore, _) = estimate(&fit, Parameter::UncorePower);
    assert!((idle - 0.6 * constant).abs() <= 1e-12 * constant);
    assert!((uncore - 0.4 * constant).abs() <= 1e-12 * constant);
    assert!((idle_se - 0.6 * se).abs() <= 1e-12 * se);
    assert_recovered(&fit, Parameter::ActivePower, TRUTH.active_w, 0.02);
}

#[test]
fn standard_errors_shrink_as_one_over_root_n() {
    // Four times the data should halve every standard error; the designs
    // are random, so allow 0.35–0.65 for the ratio.
    let params = [
        Parameter::IdlePower,
        Parameter::UncorePower,
        Parameter::ActivePower,
        Parameter::EnergyPerByte,
        Parameter::EnergyPerOp(Precision::Bf16),
    ];
    let fits: Vec<Calibration> = [500, 2000, 8000]
        .iter()
        .map(|&n| fit(&generate(TRUTH, scenario(n, 10.0, true, 3)), 4))
        .collect();
    for p in params {
        let se: Vec<f64> = fits.iter().map(|f| estimate(f, p).1).collect();
        for pair in se.windows(2) {
            let ratio = pair[1] / pair[0];
            assert!((0.35..0.65).contains(&ratio), "{p}: {se:?}");
        }
    }
}

#[test]
fn reported_standard_errors_match_the_spread_over_repeated_runs() {
    // 40 independent recordings of 400 windows: the spread of the fitted
    // values is the real standard error. The sample standard deviation of
    // 40 draws is itself uncertain by about 1/√(2·39) ≈ 11 %, so allow the
    // ratio of real to reported between 0.7 and 1.4 (about 3 of those).
    let runs = 40;
    let mut values = vec![Vec::new(); 3];
    let mut reported = [0.0f64; 3];
    let params = [
        Parameter::ActivePower,
        Parameter::ConstantPower,
        Parameter::EnergyPerOp(Precision::Bf16),
    ];
    for seed in 0..runs {
        let fit = fit(&generate(TRUTH, scenario(400, 10.0, false, 100 + seed)), 2);
        for (i, p) in params.iter().enumerate() {
            let (v, se) = estimate(&fit, *p);
            values[i].push(v);
            reported[i] += se / runs as f64;
        }
    }
    for (i, p) in params.iter().enumerate() {
        let mean = values[i].iter().sum::<f64>() / runs as f64;
        let var = values[i].iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (runs - 1) as f64;
        let ratio = var.sqrt() / reported[i];
        assert!((0.7..1.4).contains(&ratio), "{p}: real/reported {ratio}");
    }
}

#[test]
fn held_out_error_is_small_for_clean_data_and_grows_with_noise() {
    // Clean: only the counter's millijoule steps, < 1 mJ in windows of
    // 7–55 J, so the held-out error is of order 1e-5; set the bar at 1e-3.
    let clean = fit(&generate(TRUTH, scenario(2000, 0.0, true, 4)), 5);
    let clean_mape = clean.holdout_mape.unwrap();
    assert!(clean_mape < 1e-3, "clean MAPE {clean_mape}");
    // Clean data pins every figure to well under a part in a thousand.
    assert_recovered(&clean, Parameter::ActivePower, TRUTH.active_w, 1e-3);
    assert_recovered(&clean, Parameter::IdlePower, TRUTH.idle_w, 1e-3);
    // Noisy: σ_P = 15 W gives σ_E ≈ 0.75 J on windows of 7–40 J, so the
    // mean absolute error (0.8·σ) is a few per cent: between 1 % and 15 %.
    let noisy = fit(&generate(TRUTH, scenario(2000, 15.0, true, 4)), 5);
    let noisy_mape = noisy.holdout_mape.unwrap();
    assert!(
        (0.01..0.15).contains(&noisy_mape),
        "noisy MAPE {noisy_mape}"
    );
    assert!(noisy_mape > 20.0 * clean_mape);
    assert_eq!(noisy.folds, 5);
}

#[test]
fn a_column_that_follows_another_is_reported_not_identifiable() {
    // Bytes exactly proportional to active unit-seconds: the fit cannot say
    // which of the two costs the energy, keeps the earlier column (active)
    // and lists energy_per_byte_j as not identifiable.
    let rows: Vec<Interval> = generate(TRUTH, scenario(300, 5.0, true, 5))
        .into_iter()
        .map(|mut r| {
            r.bytes = r.active_unit_s * 1e10;
            r.ops = [0.0; 9];
            r
        })
        .collect();
    let fit = fit(&rows, 3);
    assert!(fit.not_identifiable.contains(&Parameter::EnergyPerByte));
    assert!(fit.estimate(Parameter::EnergyPerByte).is_none());
    assert!(fit.identifiable.contains(&Parameter::ActivePower));
    assert!(
        fit.absent
            .contains(&Parameter::EnergyPerOp(Precision::Bf16))
    );
}

// ---- tiny systems, solved by hand ----

/// Three intervals of one unit with nothing gated, so the design has two
/// columns: duration T (constant power) and active unit-seconds A.
fn three_intervals() -> Vec<Interval> {
    vec![
        Interval::new(1.0, 1.0, 0.0, 101.0),
        Interval::new(1.0, 1.0, 1.0, 299.0),
        Interval::new(2.0, 2.0, 1.0, 401.0),
    ]
}

#[test]
fn three_intervals_two_parameters_by_hand() {
    // X = [[1,0],[1,1],[2,1]], y = [101, 299, 401].
    // XᵀX = [[6,3],[3,2]], det 3, (XᵀX)⁻¹ = [[2,−3],[−3,6]]/3.
    // Xᵀy = [101+299+802, 299+401] = [1202, 700].
    // θ = [(2·1202 − 3·700)/3, (−3·1202 + 6·700)/3] = [304/3, 198].
    // Residuals y − Xθ = [−1/3, −1/3, 1/3]; RSS = 1/3 on 3 − 2 = 1 dof.
    // se(constant) = √(1/3 · 2/3) = √2/3; se(active) = √(1/3 · 2) = √(2/3).
    let fit = calibrate(&three_intervals(), &FitOptions::new(1, 0.25, 3)).unwrap();
    let (c, c_se) = estimate(&fit, Parameter::ConstantPower);
    let (a, a_se) = estimate(&fit, Parameter::ActivePower);
    assert!((c - 304.0 / 3.0).abs() < 1e-9, "{c}");
    assert!((a - 198.0).abs() < 1e-9, "{a}");
    assert!((c_se - 2f64.sqrt() / 3.0).abs() < 1e-9, "{c_se}");
    assert!((a_se - (2.0f64 / 3.0).sqrt()).abs() < 1e-9, "{a_se}");
    assert_eq!(fit.degrees_of_freedom, 1);
    // Residual power: sqrt(Σ r²/T / Σ T) = sqrt((1/9 + 1/9 + 1/18)/4)
    // = sqrt(5/72).
    assert!((fit.residual_w - (5.0f64 / 72.0).sqrt()).abs() < 1e-9);
    // Idle and uncore are the preset's quarter and three quarters.
    assert!((fit.value(Parameter::IdlePower).unwrap() - 304.0 / 12.0).abs() < 1e-9);
    assert!((fit.value(Parameter::UncorePower).unwrap() - 76.0).abs() < 1e-9);
    // Three folds of one interval each; each training pair is solved exactly:
    //  hold 1st: c + a = 299, 2c + a = 401 → c = 102, a = 197; predict 102 vs 101.
    //  hold 2nd: c = 101, 2c + a = 401 → a = 199; predict 300 vs 299.
    //  hold 3rd: c = 101, c + a = 299 → a = 198; predict 400 vs 401.
    // MAPE = (1/101 + 1/299 + 1/401)/3.
    let mape = (1.0 / 101.0 + 1.0 / 299.0 + 1.0 / 401.0) / 3.0;
    assert!((fit.holdout_mape.unwrap() - mape).abs() < 1e-12);
}

#[test]
fn a_parameter_the_data_wants_negative_is_held_at_zero() {
    // Energy falls as activity rises. Two units, T = 1 s each, active
    // unit-seconds A = [0, 1, 2] (column A/N = [0, ½, 1]), y = [10, 9, 8].
    // Least squares says active_power_w = −2; held at 0, the constant is
    // the mean, 9, with residuals [1, 0, −1], RSS 2 on 3 − 1 = 2 dof, so
    // σ² = 1 and se = √(σ²/ΣT²) = √(1/3).
    let rows: Vec<Interval> = [10.0, 9.0, 8.0]
        .iter()
        .enumerate()
        .map(|(i, &e)| Interval::new(1.0, 2.0, i as f64, e))
        .collect();
    let fit = calibrate(&rows, &FitOptions::new(2, 0.5, 3)).unwrap();
    let active = fit.estimate(Parameter::ActivePower).unwrap();
    assert!(active.at_bound);
    assert_eq!(active.value, 0.0);
    assert_eq!(active.stderr, None);
    let (c, se) = estimate(&fit, Parameter::ConstantPower);
    assert!((c - 9.0).abs() < 1e-12);
    assert!((se - (1.0f64 / 3.0).sqrt()).abs() < 1e-12);
    assert_eq!(fit.degrees_of_freedom, 2);
}

#[test]
fn gating_splits_idle_from_uncore_by_hand() {
    // Two units, three seconds: both powered, one gated, both gated.
    // Powered column P/N = [1, ½, 0], duration column [1, 1, 1].
    // E = [10, 7, 4] = 6·P/N + 4·T exactly: idle 6 W, uncore 4 W.
    let rows = vec![
        Interval::new(1.0, 2.0, 0.0, 10.0),
        Interval::new(1.0, 1.0, 0.0, 7.0),
        Interval::new(1.0, 0.0, 0.0, 4.0),
    ];
    let fit = calibrate(&rows, &FitOptions::new(2, 0.9, 3)).unwrap();
    assert_eq!(fit.split, ConstantSplit::Fitted);
    assert!((fit.value(Parameter::IdlePower).unwrap() - 6.0).abs() < 1e-12);
    assert!((fit.value(Parameter::UncorePower).unwrap() - 4.0).abs() < 1e-12);
    assert!((fit.value(Parameter::ConstantPower).unwrap() - 10.0).abs() < 1e-12);
    assert!(fit.residual_w < 1e-12);
    // An exact fit has zero residual variance, hence zero standard errors.
    assert!(estimate(&fit, Parameter::IdlePower).1 < 1e-12);
    // Active was all zero: absent, not fitted, not "not identifiable".
    assert!(fit.absent.contains(&Parameter::ActivePower));
    assert!(fit.estimate(Parameter::ActivePower).is_none());
}

#[test]
fn a_weight_of_two_is_the_same_as_the_row_twice() {
    // Weighted least squares with w = 2 on a row minimises the same sum as
    // ordinary least squares with that row repeated, so the values agree.
    let mut doubled = three_intervals();
    doubled[1].weight = 2.0;
    let mut repeated = three_intervals();
    repeated.push(repeated[1]);
    let a = calibrate(&doubled, &FitOptions::new(1, 0.5, 2)).unwrap();
    let b = calibrate(&repeated, &FitOptions::new(1, 0.5, 2)).unwrap();
    for p in [Parameter::ConstantPower, Parameter::ActivePower] {
        let (x, y) = (a.value(p).unwrap(), b.value(p).unwrap());
        assert!((x - y).abs() < 1e-9 * y.abs(), "{p}: {x} vs {y}");
    }
    // And a row of weight 0 changes nothing at all.
    let mut ignored = three_intervals();
    ignored.push(Interval::new(1.0, 1.0, 0.5, 1e6).with_weight(0.0));
    let c = calibrate(&ignored, &FitOptions::new(1, 0.25, 3)).unwrap();
    let d = calibrate(&three_intervals(), &FitOptions::new(1, 0.25, 3)).unwrap();
    assert_eq!(c, d);
}

#[test]
fn applying_the_fit_restates_it_at_the_nominal_point() {
    let rows = generate(TRUTH, scenario(1000, 0.0, true, 6));
    // A model measured at 0.8 of its nominal voltage: static power scales
    // by v = 0.8 (leakage exponent 1, no clock share), dynamic by v² = 0.64.
    let base = Preset::H100Sxm5.model();
    let nominal = base.spec().dvfs.nominal_voltage_v;
    let frequency = base.spec().dvfs.frequency_mhz;
    let mut spec = base
        .with_operating_point(0.8 * nominal, frequency)
        .unwrap()
        .spec()
        .clone();
    // The preset's assumed clock share (0.3) set aside, so that static
    // power follows v alone.
    spec.dvfs.clock_fraction = 0.0;
    let fit = calibrate(&rows, &FitOptions::for_spec(&spec, 4)).unwrap();
    let applied = fit.apply(&spec);
    let model = HardwareModel::new(applied.clone()).unwrap();
    // At the operating point the applied model gives back the fitted figures.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs();
    assert!(close(
        model.static_power_w(),
        fit.value(Parameter::IdlePower).unwrap()
    ));
    assert!(close(
        model.energy_per_op_j(Precision::Bf16).unwrap(),
        fit.value(Parameter::EnergyPerOp(Precision::Bf16)).unwrap()
    ));
    assert!(close(
        model.uncore_power_w(),
        fit.value(Parameter::UncorePower).unwrap()
    ));
    assert!(close(
        model.energy_per_byte_j(),
        fit.value(Parameter::EnergyPerByte).unwrap()
    ));
    // Active power too (dynamic power, scaled by v²·f = 0.64 here).
    if let Some(active) = fit.value(Parameter::ActivePower) {
        assert!(close(model.active_power_w(), active));
    }
    // Stated at nominal: idle 60 W measured is 60/0.8 = 75 W nominal, and
    // 0.4 pJ measured is 0.4/0.64 = 0.625 pJ nominal (clean data: ≤ 0.1 %).
    assert!(
        (applied.idle_power_w - 75.0).abs() < 0.075,
        "{}",
        applied.idle_power_w
    );
    let op = applied.energy_per_op_j.get(Precision::Bf16).unwrap();
    assert!((op - 0.625e-12).abs() < 0.000_625e-12, "{op}");
    // Figures the data had nothing on stay as they were.
    assert_eq!(
        applied.energy_per_op_j.get(Precision::Fp64),
        spec.energy_per_op_j.get(Precision::Fp64)
    );
    assert_eq!(applied.units, spec.units);
}

#[test]
fn the_json_names_every_parameter_as_the_model_file_does() {
    let fit = calibrate(&three_intervals(), &FitOptions::new(1, 0.25, 3)).unwrap();
    let json = fit.to_json();
    let p = &json["parameters"];
    assert!((p["constant_power_w"]["value"].as_f64().unwrap() - 304.0 / 3.0).abs() < 1e-9);
    assert!(p["active_power_w"]["stderr"].as_f64().is_some());
    assert!(p["idle_power_w"].is_object() && p["uncore_power_w"].is_object());
    assert_eq!(
        json["identifiable"],
        serde_json::json!(["constant_power_w", "active_power_w"])
    );
    assert_eq!(
        json["not_identifiable"],
        serde_json::json!(["idle_power_w", "uncore_power_w"])
    );
    assert_eq!(json["constant_split"]["preset_idle_fraction"], 0.25);
    assert!(json["residual_w"].as_f64().is_some());
    assert!(json["holdout_mape"].as_f64().is_some());
    assert_eq!(json["holdout_folds"], 3);
    // Energy per op is keyed like the model file's `energy_per_op_j` object.
    let rows = generate(TRUTH, scenario(200, 0.0, true, 7));
    let json = calibrate(&rows, &FitOptions::new(UNITS, 0.5, 2))
        .unwrap()
        .to_json();
    assert!(
        json["parameters"]["energy_per_op_j.bf16"]["value"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(
        json["parameters"]["energy_per_byte_j"]["value"]
            .as_f64()
            .unwrap()
            > 0.0
    );
}

// ---- errors ----

#[test]
fn each_bad_input_gets_its_own_error() {
    let ok = three_intervals();
    let options = FitOptions::new(1, 0.5, 2);
    let with = |i: usize, change: &dyn Fn(&mut Interval)| {
        let mut rows = ok.clone();
        change(&mut rows[i]);
        calibrate(&rows, &options).unwrap_err()
    };
    assert_eq!(
        with(1, &|r| r.measured_j = f64::NAN),
        CalibrationError::NotFinite {
            interval: 1,
            field: Field::Measured
        }
    );
    assert_eq!(
        with(2, &|r| r.ops[Precision::Fp8.index()] = f64::INFINITY),
        CalibrationError::NotFinite {
            interval: 2,
            field: Field::Ops(Precision::Fp8)
        }
    );
    assert_eq!(
        with(0, &|r| r.bytes = -1.0),
        CalibrationError::Negative {
            interval: 0,
            field: Field::Bytes
        }
    );
    assert_eq!(
        with(0, &|r| r.duration_s = 0.0),
        CalibrationError::ZeroDuration { interval: 0 }
    );
    assert_eq!(
        with(2, &|r| r.active_unit_s = 3.0),
        CalibrationError::ExceedsUnits {
            interval: 2,
            field: Field::ActiveUnitSeconds,
            value: 3.0,
            capacity: 2.0
        }
    );
    let zero_weight: Vec<Interval> = ok.iter().map(|r| r.with_weight(0.0)).collect();
    assert_eq!(
        calibrate(&zero_weight, &options).unwrap_err(),
        CalibrationError::AllZeroDesign
    );
    assert_eq!(
        calibrate(&[], &options).unwrap_err(),
        CalibrationError::TooFewIntervals {
            intervals: 0,
            parameters: 1
        }
    );
    for folds in [0, 1, 4] {
        assert_eq!(
            calibrate(&ok, &FitOptions::new(1, 0.5, folds)).unwrap_err(),
            CalibrationError::FoldsOutOfRange {
                folds,
                intervals: 3
            }
        );
    }
    // Two intervals, three columns with data (duration, powered with
    // gating, active): fewer intervals than parameters.
    let two = vec![
        Interval::new(1.0, 2.0, 0.0, 10.0),
        Interval::new(1.0, 1.0, 1.0, 9.0),
    ];
    assert_eq!(
        calibrate(&two, &FitOptions::new(2, 0.5, 2)).unwrap_err(),
        CalibrationError::TooFewIntervals {
            intervals: 2,
            parameters: 3
        }
    );
    assert_eq!(
        calibrate(&ok, &FitOptions::new(0, 0.5, 2)).unwrap_err(),
        CalibrationError::ZeroUnits
    );
    assert!(matches!(
        calibrate(&ok, &FitOptions::new(1, 1.5, 2)).unwrap_err(),
        CalibrationError::IdleFractionOutOfRange(x) if x == 1.5
    ));
    let mut loose = options;
    loose.collinearity_tolerance = 0.0;
    assert!(matches!(
        calibrate(&ok, &loose).unwrap_err(),
        CalibrationError::ToleranceOutOfRange(_)
    ));
    // Every error reads as a sentence that names what is wrong.
    let message = with(1, &|r| r.measured_j = f64::NAN).to_string();
    assert_eq!(message, "interval 1: measured_j is not a finite number");
}

#[test]
fn a_hundred_thousand_intervals() {
    // Rows drawn directly (no timeline), energies exact up to 1 mJ steps:
    // the fit must still be exact to the counter's resolution, and fast.
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let n = f64::from(UNITS);
    let rows: Vec<Interval> = (0..100_000)
        .map(|_| {
            let powered = n * WINDOW_S * rng.random_range(0.5..1.0);
            let active = powered * rng.random_range(0.0..1.0);
            let ops = rng.random_range(0.0..1e14);
            let bytes = rng.random_range(0.0..3e11);
            let e = TRUTH.idle_w * powered / n
                + TRUTH.uncore_w * WINDOW_S
                + TRUTH.active_w * active / n
                + TRUTH.bf16_j * ops
                + TRUTH.byte_j * bytes;
            Interval::new(WINDOW_S, powered, active, (e * 1000.0).round() / 1000.0)
                .with_ops(Precision::Bf16, ops)
                .with_bytes(bytes)
        })
        .collect();
    let start = std::time::Instant::now();
    let fit = fit(&rows, 5);
    let elapsed = start.elapsed();
    eprintln!("100 000 intervals, 5 folds: {elapsed:?}");
    // Rounding to 1 mJ is noise of 0.29 mJ; the idle parameter's stderr is
    // then ~0.29e-3/(0.1·√1e5)·(inflation ≲ 10) ≈ 1e-4 W: 1e-4 relative is ample.
    assert_recovered(&fit, Parameter::IdlePower, TRUTH.idle_w, 1e-4);
    assert_recovered(&fit, Parameter::ActivePower, TRUTH.active_w, 1e-4);
    assert_recovered(
        &fit,
        Parameter::EnergyPerOp(Precision::Bf16),
        TRUTH.bf16_j,
        1e-4,
    );
    assert!(fit.holdout_mape.unwrap() < 1e-4);
}
