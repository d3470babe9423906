//! Hardware presets, each with where its numbers come from.
//!
//! A preset is a plain [`HardwareModel`] value: copy its [`HardwareSpec`],
//! change what you know better, and build again. Every figure below is
//! marked either as **published** (a vendor data sheet or documentation),
//! **measured** (read off real hardware) or **assumed** (our estimate, to be
//! replaced by a measurement). Assumed numbers are the majority, because
//! vendors do not publish leakage power or energy per operation.
//!
//! # How the per-operation energies are derived
//!
//! Unless a preset says otherwise, dynamic energy per operation is
//! `(TDP − idle) / peak dense rate` for that precision: the energy an
//! operation adds if the chip ran at its rated power and its peak rate for
//! that precision. It is an **assumption** and an upper bound (a real kernel
//! at TDP also spends power on data movement, which we charge separately per
//! byte). Energy per byte of memory traffic is an **assumed** figure per
//! memory technology, in the range the literature gives (HBM2/2e about
//! 3.9 pJ/bit, HBM3 about 3.5 pJ/bit, HBM3e about 3 pJ/bit, LPDDR5 about
//! 4 pJ/bit).
//!
//! # Active power
//!
//! `active_power_w`, the dynamic power of all units running kernels whose
//! FLOPs are unknown, is **assumed** to be `TDP − idle` on the data-centre
//! parts: an upper bound, since a kernel drawing the rated power also moves
//! data. Orin uses the assumed GPU dynamic power of its per-op derivation.
//!
//! # Rates and clocks
//!
//! Peak rates (dense, at the nominal clock) and memory bandwidth are
//! **published** figures; they draw each subgraph's roofline, which decides
//! how much of its latency stretches when the clock is lowered.
//!
//! Vendors publish no voltage–frequency curves for these parts. The
//! data-centre presets **assume** the shape measured DVFS studies report for
//! recent NVIDIA GPUs: a floor of about 0.70 V below roughly half the boost
//! clock, rising about linearly to the 0.90 V nominal at boost. The Orin
//! curve goes through the (assumed) voltages of its four power modes.
//!
//! The clock fraction `c` (the share of idle power that is clock-tree
//! switching, which follows `V²·f` rather than leakage's `V`) is **assumed**
//! 0.3 everywhere but the seed example (0, as its source): at P0 the clocks run while idle, and clock distribution
//! is commonly put at 30–40 % of a chip's dynamic power, most of what
//! switches when nothing else does. We take the low end.
//!
//! # Gating costs
//!
//! Vendors publish neither the energy of powering a TPC down and up nor the
//! wake latency. The data-centre presets assume 2 µJ per domain transition
//! and 10 µs to wake, figures of the order reported for per-core power gating
//! in the circuits literature; the seed example assumes free, instant gating
//! as its source does.

use crate::hardware::{
    Dvfs, Gating, HardwareModel, HardwareSpec, Name, PeakRates, Precision, PrecisionTable, VfCurve,
    VfPoint,
};

/// A named preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[repr(u32)]
pub enum Preset {
    /// The worked example of the functional-energy-composition design: H100, 132 SMs, 300 W idle.
    SeedH100 = 0,
    /// H100 SXM5 80 GB with the measured idle of about 70 W at P0.
    H100Sxm5 = 1,
    /// A100 SXM4 40 GB.
    A100_40gb = 2,
    /// H200 SXM 141 GB.
    H200 = 3,
    /// B200 (HGX, one GPU).
    B200 = 4,
    /// Jetson AGX Orin 64 GB in nvpmodel mode 15 W.
    AgxOrin15w = 5,
    /// Jetson AGX Orin 64 GB in nvpmodel mode 30 W.
    AgxOrin30w = 6,
    /// Jetson AGX Orin 64 GB in nvpmodel mode 50 W.
    AgxOrin50w = 7,
    /// Jetson AGX Orin 64 GB in nvpmodel mode MAXN.
    AgxOrinMaxn = 8,
    /// Jetson Orin Nano 8 GB (15 W mode).
    OrinNano = 9,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 10] = [
        Preset::SeedH100,
        Preset::H100Sxm5,
        Preset::A100_40gb,
        Preset::H200,
        Preset::B200,
        Preset::AgxOrin15w,
        Preset::AgxOrin30w,
        Preset::AgxOrin50w,
        Preset::AgxOrinMaxn,
        Preset::OrinNano,
    ];

    /// The name used on the command line and in model files.
    pub const fn name(self) -> &'static str {
        match self {
            Preset::SeedH100 => "seed-h100",
            Preset::H100Sxm5 => "h100-sxm5",
            Preset::A100_40gb => "a100-40gb",
            Preset::H200 => "h200",
            Preset::B200 => "b200",
            Preset::AgxOrin15w => "agx-orin-15w",
            Preset::AgxOrin30w => "agx-orin-30w",
            Preset::AgxOrin50w => "agx-orin-50w",
            Preset::AgxOrinMaxn => "agx-orin-maxn",
            Preset::OrinNano => "orin-nano",
        }
    }

    /// Looks a preset up by [`Preset::name`].
    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Where the numbers come from and what is assumed, in one paragraph.
    pub const fn source(self) -> &'static str {
        match self {
            Preset::SeedH100 => {
                "Worked example of the functional-energy-composition design: 132 SMs, 300 W \
                 idle for the whole chip, 2048 threads per SM (all from that document). Gating \
                 per SM, free and instant, as the document models it. No uncore. Per-operation \
                 and per-byte energies and the 630 W active power are those of the h100-sxm5 \
                 preset (assumed). Clock fraction 0, as the document treats static power as \
                 leakage alone. Published: 3.35 TB/s (H100 SXM5) memory bandwidth. Assumed: V-f \
                 curve 0.70 V up to half the 1980 MHz clock, then linear to 0.9 V."
            }
            Preset::H100Sxm5 => {
                "H100 SXM5 80 GB. Published: 132 SMs, 2 SMs per TPC, 700 W TDP, 1980 MHz boost, \
                 dense peaks FP64 67, FP32 67, TF32 495, FP16/BF16 989, FP8/INT8 1979 T/s, \
                 HBM3. Measured: about 70 W idle at P0 (a tenth of TDP). Assumed: 40 W of that \
                 is SM leakage and 30 W uncore (HBM refresh, NVLink, board); energy per op \
                 (TDP-idle)/peak; active power TDP-idle = 630 W (an upper bound); 3.5 pJ/bit \
                 HBM3; 0.9 V nominal; TPC gating at 2 uJ and 10 us. Published: 3.35 TB/s memory bandwidth. Assumed: V-f curve 0.70 V up to half the 1980 MHz clock, then linear to 0.9 V; clock fraction 0.3."
            }
            Preset::A100_40gb => {
                "A100 SXM4 40 GB. Published: 108 SMs, 2 SMs per TPC, 400 W TDP, 1410 MHz boost, \
                 dense peaks FP64 19.5, FP32 19.5, TF32 156, FP16/BF16 312, INT8 624, INT4 \
                 1248 T/s, HBM2. Assumed: 50 W idle at P0 (a tenth of TDP, as measured on \
                 H100), split 30 W SM leakage and 20 W uncore; energy per op (TDP-idle)/peak; \
                 active power TDP-idle = 350 W (an upper bound); 3.9 pJ/bit HBM2; 0.9 V nominal; TPC gating at 2 uJ and 10 us. Published: 1555 GB/s memory bandwidth. Assumed: V-f curve 0.70 V up to half the 1410 MHz clock, then linear to 0.9 V; clock fraction 0.3."
            }
            Preset::H200 => {
                "H200 SXM 141 GB. Published: 132 SMs, 700 W TDP, 1980 MHz boost, the same dense \
                 peaks as H100 SXM5, HBM3e. Assumed: 75 W idle at P0 (H100's 70 W plus more \
                 HBM), split 40 W SM leakage and 35 W uncore; energy per op (TDP-idle)/peak; \
                 active power TDP-idle = 625 W (an upper bound); 3 pJ/bit HBM3e; 0.9 V nominal; TPC gating at 2 uJ and 10 us. Published: 4.8 TB/s memory bandwidth. Assumed: V-f curve 0.70 V up to half the 1980 MHz clock, then linear to 0.9 V; clock fraction 0.3."
            }
            Preset::B200 => {
                "B200 (one GPU of an HGX B200). Published: 1000 W TDP, dense peaks FP64 40, \
                 FP32 80, TF32 1100, FP16/BF16 2250, FP8/INT8 4500, FP4 9000 T/s, HBM3e. \
                 Commonly reported: 148 SMs. Assumed: 100 W idle at P0 (a tenth of TDP), split \
                 55 W SM leakage and 45 W uncore; energy per op (TDP-idle)/peak; active power \
                 TDP-idle = 900 W (an upper bound); 3 pJ/bit HBM3e; 1965 MHz and 0.9 V nominal; TPC gating at 2 uJ and 10 us. Published: 8 TB/s memory bandwidth. Assumed: V-f curve 0.70 V up to half the 1965 MHz clock, then linear to 0.9 V; clock fraction 0.3."
            }
            Preset::AgxOrin15w | Preset::AgxOrin30w | Preset::AgxOrin50w | Preset::AgxOrinMaxn => {
                "Jetson AGX Orin 64 GB GPU (GA10B). Published: 16 SMs in 8 TPCs, A100-class \
                 tensor cores (2048 FP16 / 4096 INT8 ops per SM per clock, dense), 128 FP32 \
                 cores per SM, LPDDR5. Mode table (nvpmodel, check /etc/nvpmodel.conf on your \
                 board): MAXN 8 TPCs at 1301 MHz, 50 W 8 TPCs at 828.75 MHz, 30 W 4 TPCs at \
                 624.75 MHz, 15 W 3 TPCs at 420.75 MHz; TPCs a mode turns off are left out of \
                 the model. Assumed: 2 W GPU leakage for 16 SMs and 1 W GPU uncore at MAXN; \
                 30 W GPU dynamic power at the MAXN peak rate (gives energy per op, and \
                 active power 30 W x SMs/16 at MAXN, scaled by v^2 f in the other modes); 4 pJ/bit \
                 LPDDR5; 0.85 V at MAXN and 0.70, 0.65, 0.60 V in the 50, 30, 15 W modes (the \
                 V-f curve goes through these four points); clock fraction 0.3; TPC gating at \
                 0.5 uJ and 10 us. Published: 204.8 GB/s LPDDR5 bandwidth."
            }
            Preset::OrinNano => {
                "Jetson Orin Nano 8 GB GPU. Published: 8 SMs in 4 TPCs (1024 CUDA cores), GPU \
                 625 MHz in the 15 W mode, the same SM as AGX Orin, LPDDR5. Assumed: the AGX \
                 Orin per-SM figures (energy per op characterised at 1301 MHz and 0.85 V, \
                 here run at 625 MHz and 0.65 V), 1 W leakage and 0.5 W uncore, active power 15 W at MAXN for 8 SMs (scaled \
                 by v^2 f to 625 MHz), 4 pJ/bit LPDDR5, \
                 TPC gating at 0.5 uJ and 10 us, the AGX Orin V-f curve and clock fraction 0.3. \
                 Published: 68 GB/s LPDDR5 bandwidth."
            }
        }
    }

    /// The preset's hardware model.
    pub fn model(self) -> HardwareModel {
        match self {
            Preset::SeedH100 => seed_h100(),
            Preset::H100Sxm5 => h100_sxm5(),
            Preset::A100_40gb => a100_40gb(),
            Preset::H200 => h200(),
            Preset::B200 => b200(),
            Preset::AgxOrin15w => agx_orin(OrinMode::W15),
            Preset::AgxOrin30w => agx_orin(OrinMode::W30),
            Preset::AgxOrin50w => agx_orin(OrinMode::W50),
            Preset::AgxOrinMaxn => agx_orin(OrinMode::Maxn),
            Preset::OrinNano => orin_nano(),
        }
    }

    /// The most power the hardware is rated to draw (TDP, or a Jetson power
    /// mode's budget), with where the figure comes from.
    ///
    /// A composed model whose average power is above it describes work the
    /// hardware cannot do at that speed: a latency too short or an energy
    /// per operation too high. The command warns about such models.
    pub const fn max_power(self) -> MaxPower {
        let (watts, source) = match self {
            Preset::SeedH100 | Preset::H100Sxm5 => {
                (700.0, "NVIDIA H100 datasheet: H100 SXM5 TDP up to 700 W")
            }
            Preset::A100_40gb => (400.0, "NVIDIA A100 datasheet: A100 SXM4 40 GB TDP 400 W"),
            Preset::H200 => (700.0, "NVIDIA H200 datasheet: H200 SXM TDP up to 700 W"),
            Preset::B200 => (1000.0, "NVIDIA HGX B200: 1000 W TDP per GPU"),
            Preset::AgxOrin15w => (15.0, "Jetson AGX Orin 15 W power mode (nvpmodel budget)"),
            Preset::AgxOrin30w => (30.0, "Jetson AGX Orin 30 W power mode (nvpmodel budget)"),
            Preset::AgxOrin50w => (50.0, "Jetson AGX Orin 50 W power mode (nvpmodel budget)"),
            Preset::AgxOrinMaxn => (
                60.0,
                "Jetson AGX Orin 64 GB datasheet: 15 W to 60 W module power (MAXN)",
            ),
            Preset::OrinNano => (
                15.0,
                "Jetson Orin Nano 8 GB 15 W power mode (nvpmodel budget)",
            ),
        };
        MaxPower { watts, source }
    }
}

/// The most power a preset's hardware is rated to draw ([`Preset::max_power`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaxPower {
    /// Watts: the TDP of a data-centre GPU, a Jetson power mode's budget
    /// (the whole module's, so the GPU alone draws less).
    pub watts: f64,
    /// Where the figure comes from.
    pub source: &'static str,
}

/// A name from a string no longer than [`crate::hardware::NAME_CAPACITY`];
/// longer strings are cut at a character boundary (only preset literals,
/// all short, come through here).
fn name(s: &str) -> Name {
    let mut out = Name::new();
    for c in s.chars() {
        if out.push(c).is_err() {
            break;
        }
    }
    out
}

/// `(TDP − idle) / peak` for each precision whose dense peak is given, in T ops/s.
fn per_op(dynamic_w: f64, peaks_tera: &[(Precision, f64)]) -> PrecisionTable {
    peaks_tera
        .iter()
        .fold(PrecisionTable::EMPTY, |t, &(p, tera)| {
            t.with(p, dynamic_w / (tera * 1e12))
        })
}

/// Picojoules per bit to joules per byte.
fn pj_per_bit(pj: f64) -> f64 {
    pj * 8.0 * 1e-12
}

/// Data-centre TPC gating, assumed: 2 µJ per transition, 10 µs to wake.
const DC_GATING: Gating = Gating {
    can_gate: true,
    transition_energy_j: 2e-6,
    wake_latency_s: 10e-6,
};

/// Orin TPC gating, assumed: 0.5 µJ per transition, 10 µs to wake.
const ORIN_GATING: Gating = Gating {
    can_gate: true,
    transition_energy_j: 0.5e-6,
    wake_latency_s: 10e-6,
};

/// Published dense peaks of H100 SXM5 (and H200), in T ops/s.
const HOPPER_PEAKS: [(Precision, f64); 7] = [
    (Precision::Fp64, 67.0),
    (Precision::Fp32, 67.0),
    (Precision::Tf32, 494.7),
    (Precision::Fp16, 989.4),
    (Precision::Bf16, 989.4),
    (Precision::Fp8, 1978.9),
    (Precision::Int8, 1978.9),
];

/// Assumed clock-tree share of idle power (see the module docs).
const CLOCK_FRACTION: f64 = 0.3;

/// Peak rates from T ops/s.
fn peaks(peaks_tera: &[(Precision, f64)]) -> PeakRates {
    peaks_tera
        .iter()
        .fold(PeakRates::NONE, |t, &(p, tera)| t.with(p, tera * 1e12))
}

/// Data-centre operating point: nominal voltage and clock, the assumed
/// V–f curve (0.70 V floor up to half the clock, then linear to nominal)
/// and the assumed clock fraction.
fn dc_dvfs(voltage_v: f64, frequency_mhz: f64) -> Dvfs {
    let mut d = Dvfs::nominal(voltage_v, frequency_mhz);
    d.clock_fraction = CLOCK_FRACTION;
    d.vf_curve = VfCurve::new(&[
        VfPoint {
            frequency_mhz: 0.5 * frequency_mhz,
            voltage_v: 0.70,
        },
        VfPoint {
            frequency_mhz,
            voltage_v,
        },
    ]);
    d
}

/// Published dense peaks of A100 SXM4, in T ops/s.
const A100_PEAKS: [(Precision, f64); 7] = [
    (Precision::Fp64, 19.5),
    (Precision::Fp32, 19.5),
    (Precision::Tf32, 156.0),
    (Precision::Fp16, 312.0),
    (Precision::Bf16, 312.0),
    (Precision::Int8, 624.0),
    (Precision::Int4, 1248.0),
];

/// Published dense peaks of B200, in T ops/s.
const B200_PEAKS: [(Precision, f64); 8] = [
    (Precision::Fp64, 40.0),
    (Precision::Fp32, 80.0),
    (Precision::Tf32, 1100.0),
    (Precision::Fp16, 2250.0),
    (Precision::Bf16, 2250.0),
    (Precision::Fp8, 4500.0),
    (Precision::Int8, 4500.0),
    (Precision::Fp4, 9000.0),
];

/// Published HBM3 bandwidth of H100 SXM5, in bytes per second (3.35 TB/s).
const H100_BANDWIDTH: f64 = 3.35e12;

/// Builds a preset's model. Presets are checked by a test, so the fallible
/// constructor's error cannot happen; [`HardwareModel::from_checked`] keeps
/// the library free of `unwrap`.
#[allow(clippy::too_many_arguments)]
fn build(
    full_name: &str,
    unit_name: &str,
    units: u32,
    gating_domain: u32,
    idle_power_w: f64,
    uncore_power_w: f64,
    active_power_w: f64,
    energy_per_op_j: PrecisionTable,
    energy_per_byte_j: f64,
    (peak_ops_per_s, memory_bandwidth_bytes_per_s): (PeakRates, f64),
    gating: Gating,
    dvfs: Dvfs,
) -> HardwareModel {
    HardwareModel::from_checked(HardwareSpec {
        name: name(full_name),
        unit_name: name(unit_name),
        units,
        gating_domain,
        idle_power_w,
        uncore_power_w,
        active_power_w,
        energy_per_op_j,
        energy_per_byte_j,
        peak_ops_per_s,
        memory_bandwidth_bytes_per_s,
        threads_per_unit: 2048,
        gating,
        dvfs,
    })
}

fn seed_h100() -> HardwareModel {
    build(
        "H100 (seed worked example)",
        "SM",
        132,
        1,
        300.0,
        0.0,
        630.0,
        per_op(630.0, &HOPPER_PEAKS),
        pj_per_bit(3.5),
        (peaks(&HOPPER_PEAKS), H100_BANDWIDTH),
        Gating {
            can_gate: true,
            transition_energy_j: 0.0,
            wake_latency_s: 0.0,
        },
        // The design document treats static power as leakage alone: c = 0.
        Dvfs {
            clock_fraction: 0.0,
            ..dc_dvfs(0.9, 1980.0)
        },
    )
}

fn h100_sxm5() -> HardwareModel {
    build(
        "H100 SXM5 80GB",
        "SM",
        132,
        2,
        40.0,
        30.0,
        630.0,
        per_op(630.0, &HOPPER_PEAKS),
        pj_per_bit(3.5),
        (peaks(&HOPPER_PEAKS), H100_BANDWIDTH),
        DC_GATING,
        dc_dvfs(0.9, 1980.0),
    )
}

fn a100_40gb() -> HardwareModel {
    build(
        "A100 SXM4 40GB",
        "SM",
        108,
        2,
        30.0,
        20.0,
        350.0,
        per_op(350.0, &A100_PEAKS),
        pj_per_bit(3.9),
        (peaks(&A100_PEAKS), 1.555e12),
        DC_GATING,
        dc_dvfs(0.9, 1410.0),
    )
}

fn h200() -> HardwareModel {
    build(
        "H200 SXM 141GB",
        "SM",
        132,
        2,
        40.0,
        35.0,
        625.0,
        per_op(625.0, &HOPPER_PEAKS),
        pj_per_bit(3.0),
        (peaks(&HOPPER_PEAKS), 4.8e12),
        DC_GATING,
        dc_dvfs(0.9, 1980.0),
    )
}

fn b200() -> HardwareModel {
    build(
        "B200",
        "SM",
        148,
        2,
        55.0,
        45.0,
        900.0,
        per_op(900.0, &B200_PEAKS),
        pj_per_bit(3.0),
        (peaks(&B200_PEAKS), 8.0e12),
        DC_GATING,
        dc_dvfs(0.9, 1965.0),
    )
}

/// Orin GA10B dense operations per SM per clock (published).
const ORIN_PER_CLOCK: [(Precision, f64); 7] = [
    (Precision::Fp64, 4.0),
    (Precision::Fp32, 256.0),
    (Precision::Tf32, 1024.0),
    (Precision::Fp16, 2048.0),
    (Precision::Bf16, 2048.0),
    (Precision::Int8, 4096.0),
    (Precision::Int4, 8192.0),
];

/// The Orin nominal (MAXN) clock, in Hz.
const ORIN_NOMINAL_HZ: f64 = 1301e6;

/// Orin GA10B per-SM figures at the MAXN point (1301 MHz, 0.85 V assumed):
/// peak ops per SM per clock (published) and an assumed 30 W of GPU dynamic
/// power at the 16-SM MAXN peak rate.
fn orin_per_op() -> PrecisionTable {
    let sms = 16.0;
    let dynamic_w = 30.0;
    ORIN_PER_CLOCK
        .iter()
        .fold(PrecisionTable::EMPTY, |t, &(p, ops)| {
            t.with(p, dynamic_w / (ops * sms * ORIN_NOMINAL_HZ))
        })
}

/// Peak rates of `sms` Orin SMs at the nominal clock.
fn orin_peaks(sms: u32) -> PeakRates {
    ORIN_PER_CLOCK.iter().fold(PeakRates::NONE, |t, &(p, ops)| {
        t.with(p, ops * f64::from(sms) * ORIN_NOMINAL_HZ)
    })
}

/// Orin's operating point: nominal at MAXN (0.85 V, 1301 MHz), run at
/// `volts` and `mhz`, with the V–f curve through the four modes' assumed
/// voltages and the assumed clock fraction.
fn orin_dvfs(volts: f64, mhz: f64) -> Dvfs {
    let mut dvfs = Dvfs::nominal(0.85, 1301.0);
    dvfs.voltage_v = volts;
    dvfs.frequency_mhz = mhz;
    dvfs.clock_fraction = CLOCK_FRACTION;
    dvfs.vf_curve = VfCurve::new(&[
        VfPoint {
            frequency_mhz: 420.75,
            voltage_v: 0.60,
        },
        VfPoint {
            frequency_mhz: 624.75,
            voltage_v: 0.65,
        },
        VfPoint {
            frequency_mhz: 828.75,
            voltage_v: 0.70,
        },
        VfPoint {
            frequency_mhz: 1301.0,
            voltage_v: 0.85,
        },
    ]);
    dvfs
}

/// Published LPDDR5 bandwidth of Jetson AGX Orin 64 GB (204.8 GB/s).
const AGX_ORIN_BANDWIDTH: f64 = 204.8e9;

/// Assumed GPU dynamic power per Orin SM at the MAXN point: the 30 W of
/// [`orin_per_op`] over 16 SMs. The mode's operating point scales it by `v²·f`.
const ORIN_ACTIVE_W_PER_SM: f64 = 30.0 / 16.0;

#[derive(Clone, Copy)]
enum OrinMode {
    W15,
    W30,
    W50,
    Maxn,
}

fn agx_orin(mode: OrinMode) -> HardwareModel {
    let (label, tpcs, mhz, volts) = match mode {
        OrinMode::W15 => ("Jetson AGX Orin 64GB 15W", 3, 420.75, 0.60),
        OrinMode::W30 => ("Jetson AGX Orin 64GB 30W", 4, 624.75, 0.65),
        OrinMode::W50 => ("Jetson AGX Orin 64GB 50W", 8, 828.75, 0.70),
        OrinMode::Maxn => ("Jetson AGX Orin 64GB MAXN", 8, 1301.0, 0.85),
    };
    let units = 2 * tpcs;
    let dvfs = orin_dvfs(volts, mhz);
    build(
        label,
        "SM",
        units,
        2,
        2.0 * f64::from(units) / 16.0,
        1.0,
        ORIN_ACTIVE_W_PER_SM * f64::from(units),
        orin_per_op(),
        pj_per_bit(4.0),
        (orin_peaks(units), AGX_ORIN_BANDWIDTH),
        ORIN_GATING,
        dvfs,
    )
}

fn orin_nano() -> HardwareModel {
    let dvfs = orin_dvfs(0.65, 625.0);
    build(
        "Jetson Orin Nano 8GB",
        "SM",
        8,
        2,
        1.0,
        0.5,
        ORIN_ACTIVE_W_PER_SM * 8.0,
        orin_per_op(),
        pj_per_bit(4.0),
        (orin_peaks(8), 68e9),
        ORIN_GATING,
        dvfs,
    )
}
