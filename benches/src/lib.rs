//! Inputs and baselines for wattledger's benchmarks.
//!
//! Every benchmark in `benches/` times a wattledger path and, on the same
//! input and in the same run, a *baseline*: the straightforward way to do the
//! same job with the heap (collect into `Vec`s, then compute). The figures in
//! `BENCHMARKS.md` are ratios of the two, so they say what the allocation-free
//! streaming design costs or saves rather than how fast one machine is.
//!
//! The baselines are not strawmen: the tests in `tests/baselines.rs` check
//! that each one computes the same numbers as the library on the benchmark
//! inputs, so the timed work is the same work.

use wattledger_core::compose::Subgraph;
use wattledger_core::hardware::{HardwareModel, Precision};
use wattledger_core::meter::{MeterConfig, Sample};
use wattledger_core::presets::Preset;

pub mod baseline;
pub mod timeline_baseline;

/// The hardware every composition benchmark runs on: H100 SXM5 (132 SMs in
/// 66 TPC gating domains, gating at 2 µJ and 10 µs), so all three gating
/// policies are allowed and do different things.
pub fn h100() -> HardwareModel {
    Preset::H100Sxm5.model()
}

/// A small deterministic generator (64-bit LCG, Knuth's constants), so the
/// benchmark inputs are the same on every run without a `rand` dependency.
#[derive(Debug, Clone)]
pub struct Lcg(u64);

impl Lcg {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Lcg(seed)
    }

    /// The next 32 pseudo-random bits.
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 32) as u32
    }

    /// A value in `lo..=hi`.
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.next_u32() % (hi - lo + 1)
    }
}

/// Allocations (SMs) cycled through by width-1 streams: the ResNet-18
/// allocations plus a whole-chip and a half-chip layer, so consecutive
/// stages grow and shrink and the gating policies wake and gate domains.
const WIDTH1_SMS: [u32; 8] = [98, 25, 14, 8, 132, 64, 25, 7];

/// A stream of `len` subgraphs in stages of `width` concurrent subgraphs
/// (the last stage may be shorter), valid for [`h100`] and any composer of
/// `WIDTH >= width`.
///
/// Subgraph `i` is in stage `i / width`. Allocations of one stage add up to
/// at most 128 of the 132 SMs. Latencies are 2–10 µs, except that every
/// 16th stage runs for 5 ms: long enough for the break-even rule to gate
/// (`p_domain·T ≈ 0.61 W · 5 ms ≈ 3 mJ > 2·2 µJ + 70 W·10 µs ≈ 0.7 mJ`), so
/// `BreakEven` takes both of its branches.
pub fn compose_stream(len: usize, width: usize) -> Vec<Subgraph> {
    assert!(width >= 1, "a stage holds at least one subgraph");
    let mut rng = Lcg::new(0x5eed_0001 ^ (width as u64) << 32);
    (0..len)
        .map(|i| {
            let stage = i / width;
            let sms = if width == 1 {
                WIDTH1_SMS[stage % WIDTH1_SMS.len()]
            } else {
                let fair = (128 / width).max(1) as u32;
                rng.range(fair.div_ceil(2), fair)
            };
            let latency_s = if stage % 16 == 15 {
                5e-3
            } else {
                f64::from(rng.range(2_000, 10_000)) * 1e-9
            };
            let flops = f64::from(rng.range(1, 240)) * 1e6;
            Subgraph {
                id: i as u32,
                stage: stage as u32,
                flops,
                precision: Precision::Fp16,
                input_bytes: f64::from(rng.range(50, 1600)) * 1024.0,
                output_bytes: f64::from(rng.range(2, 1600)) * 1024.0,
                weight_bytes: f64::from(rng.range(0, 4608)) * 1024.0,
                latency_s,
                units_allocated: Some(sms),
                threads: None,
            }
        })
        .collect()
}

/// What the meter benchmarks feed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleKind {
    /// Volta and later through NVML: energy counter and power in every
    /// sample, with one counter reset (driver reload) half-way.
    CounterAndPower,
    /// Pre-Volta GPUs and Jetson rails: power only, so the meter integrates
    /// trapezoids; one gap longer than the maximum half-way.
    PowerOnly,
}

/// The meter configuration of the benchmarks: the defaults (1 s maximum
/// gap, 100 ms update period) with a 60 W idle baseline so windows also
/// compute the idle/dynamic split.
pub fn meter_config() -> MeterConfig {
    MeterConfig {
        idle_baseline_mw: Some(60_000),
        ..MeterConfig::default()
    }
}

/// A sample as the C ABI takes it (`wl_sample`, full size).
pub fn c_sample(s: &Sample) -> wattledger::wl_sample {
    wattledger::wl_sample {
        struct_size: size_of::<wattledger::wl_sample>() as u32,
        has_energy: u32::from(s.energy_mj.is_some()),
        t_ns: s.t_ns,
        energy_mj: s.energy_mj.unwrap_or(0),
        has_power: u32::from(s.power_mw.is_some()),
        power_mw: s.power_mw.unwrap_or(0),
        has_gated_units: u32::from(s.gated_units.is_some()),
        gated_units: s.gated_units.unwrap_or(0),
    }
}

/// `n` samples 20 ms apart, power 150–250 W.
pub fn samples(n: usize, kind: SampleKind) -> Vec<Sample> {
    let mut rng = Lcg::new(0x5eed_0002);
    let period_ns: u64 = 20_000_000;
    let mut t_ns: u64 = 1_000_000_000;
    let mut counter_mj: u64 = 123_456_789;
    (0..n)
        .map(|i| {
            let power_mw = rng.range(150_000, 250_000);
            if i == n / 2 {
                match kind {
                    // A driver reload: the counter starts again from zero.
                    SampleKind::CounterAndPower => counter_mj = 0,
                    // Two seconds without a reading: longer than max_gap_ns.
                    SampleKind::PowerOnly => t_ns += 2_000_000_000,
                }
            }
            // mW × ns = pJ; / 1e9 gives mJ.
            counter_mj += u64::from(power_mw) * period_ns / 1_000_000_000;
            t_ns += period_ns;
            Sample {
                t_ns,
                energy_mj: (kind == SampleKind::CounterAndPower).then_some(counter_mj),
                power_mw: Some(power_mw),
                gated_units: None,
            }
        })
        .collect()
}

/// MIG profile names as NVML and `nvidia-smi mig -lgip` print them, with
/// and without compute-instance prefixes and attributes; every one parses.
pub const PROFILE_NAMES: [&str; 16] = [
    "1g.5gb",
    "1g.10gb",
    "1g.10gb+me",
    "1g.20gb",
    "2g.10gb",
    "2g.20gb",
    "3g.20gb",
    "3g.40gb",
    "4g.20gb",
    "4g.40gb",
    "7g.40gb",
    "7g.80gb",
    "1c.3g.40gb",
    "2c.4g.40gb",
    "1g.24gb+me.all",
    "1g.35gb-me",
];

/// Owned data behind the rules-engine benchmark's records.
#[derive(Debug, Clone)]
pub struct RulesInput {
    ids: Vec<String>,
    instances: Vec<String>,
    parents: Vec<String>,
    layout: Vec<Slot>,
}

/// One record's shape: `(instance, parent)` indices (`None` for a whole
/// GPU), profile, start and end in seconds.
type Slot = (Option<(usize, usize)>, &'static str, f64, f64);

/// Profiles of one H100 carved as 3 + 2 + 1 + 1 compute slices.
const H100_LAYOUT: [&str; 4] = ["3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"];

/// The H100's name as NVML reports it (found in the MIG catalog).
pub const H100_NAME: &str = "NVIDIA H100 80GB HBM3";

impl RulesInput {
    /// `n` results: nine in ten run on MIG instances of 16 H100s (four
    /// instances each, windows 12 s long every 10 s, so neighbours overlap
    /// and each parent is counted up to twice), one in ten on whole GPUs.
    pub fn new(n: usize) -> Self {
        let parents: Vec<String> = (0..16)
            .map(|p| format!("GPU-00000000-0000-0000-0000-{p:012x}"))
            .collect();
        let instances: Vec<String> = (0..64)
            .map(|i| format!("MIG-11111111-0000-0000-0000-{i:012x}"))
            .collect();
        let layout = (0..n)
            .map(|i| {
                let start = (i / 64) as f64 * 10.0;
                let end = start + 12.0;
                if i % 10 == 9 {
                    (None, "", start, end)
                } else {
                    let inst = i % 64;
                    (Some((inst, inst / 4)), H100_LAYOUT[inst % 4], start, end)
                }
            })
            .collect();
        RulesInput {
            ids: (0..n).map(|i| format!("job-{i}")).collect(),
            instances,
            parents,
            layout,
        }
    }

    /// The records, borrowing from `self`.
    pub fn records(&self) -> Vec<wattledger_core::mig::ResultRecord<'_>> {
        use wattledger_core::mig::{Architecture, ResultRecord};
        self.layout
            .iter()
            .zip(&self.ids)
            .enumerate()
            .map(|(i, (&(mig, profile, start, end), id))| {
                let energy = 100.0 + (i % 7) as f64;
                match mig {
                    Some((inst, parent)) => ResultRecord::mig(
                        id,
                        &self.instances[inst],
                        &self.parents[parent],
                        profile,
                        Architecture::Hopper,
                        H100_NAME,
                        energy,
                        start,
                        end,
                    ),
                    None => ResultRecord::whole_gpu(
                        id,
                        &self.parents[i % 16],
                        Architecture::Hopper,
                        H100_NAME,
                        energy,
                        start,
                        end,
                    ),
                }
            })
            .collect()
    }
}

/// Owned data behind a fleet-sized rules input: `results` results on
/// `parents` GPUs of the MIG catalog's models, using `profiles` distinct
/// profiles valid on their GPUs.
#[derive(Debug, Clone)]
pub struct FleetInput {
    ids: Vec<String>,
    instances: Vec<String>,
    parents: Vec<String>,
    /// Per record: instance index (`None`: a whole-GPU result), parent
    /// index, profile, GPU model, start and end.
    layout: Vec<FleetSlot>,
}

type FleetSlot = (
    Option<usize>,
    usize,
    &'static str,
    &'static wattledger_core::mig::GpuModel,
    f64,
    f64,
);

impl FleetInput {
    /// Every GPU of the catalog with its valid profile names (the rows, and
    /// compute-instance profiles `<c>c.<row>` of rows without attributes),
    /// keeping the first `profiles` distinct names across the fleet.
    fn profile_table(
        profiles: usize,
    ) -> Vec<(&'static wattledger_core::mig::GpuModel, Vec<&'static str>)> {
        use wattledger_core::mig::{Profile, catalog};
        let mut seen: Vec<Profile> = Vec::new();
        let mut table = Vec::new();
        for gpu in catalog::gpus() {
            let mut names: Vec<&'static str> = Vec::new();
            for spec in gpu.profiles() {
                let mut candidates = vec![spec.name().to_string()];
                if let Ok(p) = Profile::parse(spec.name()) {
                    if p.attributes().is_empty() {
                        candidates
                            .extend((1..p.gpu_slices()).map(|c| format!("{c}c.{}", spec.name())));
                    }
                }
                for name in candidates {
                    let Ok(p) = Profile::parse(&name) else {
                        continue;
                    };
                    if seen.len() < profiles && gpu.is_valid_profile(&p) && !seen.contains(&p) {
                        seen.push(p);
                        names.push(name.leak());
                    }
                }
            }
            if !names.is_empty() {
                table.push((gpu, names));
            }
        }
        table
    }

    /// `results` results on `parents` GPUs with `profiles` distinct
    /// profiles. Parent `p` is the `p mod M`-th GPU model that got profiles;
    /// its `k`-th result has its model's `k mod L`-th profile, on the
    /// instance of that profile (one instance per profile and parent, so
    /// never more instances than the GPU holds), window `[10k, 10k + 12)`
    /// s: each result overlaps the next on its parent. Every tenth result
    /// of a parent (`k mod 10 = 9`) is a whole-GPU result of that parent.
    pub fn new(results: usize, parents: usize, profiles: usize) -> Self {
        let table = Self::profile_table(profiles);
        let parent_ids: Vec<String> = (0..parents)
            .map(|p| format!("GPU-00000000-0000-0000-0000-{p:012x}"))
            .collect();
        let mut instances = Vec::new();
        let mut first_instance = Vec::new();
        for p in 0..parents {
            first_instance.push(instances.len());
            let (_, names) = &table[p % table.len()];
            for j in 0..names.len() {
                instances.push(format!("MIG-{p:08x}-0000-0000-0000-{j:012x}"));
            }
        }
        let layout = (0..results)
            .map(|i| {
                let p = i % parents;
                let k = i / parents;
                let (gpu, names) = &table[p % table.len()];
                let j = k % names.len();
                let start = k as f64 * 10.0;
                let inst = (k % 10 != 9).then_some(first_instance[p] + j);
                (inst, p, names[j], *gpu, start, start + 12.0)
            })
            .collect();
        FleetInput {
            ids: (0..results).map(|i| format!("job-{i}")).collect(),
            instances,
            parents: parent_ids,
            layout,
        }
    }

    /// The records, borrowing from `self`.
    pub fn records(&self) -> Vec<wattledger_core::mig::ResultRecord<'_>> {
        use wattledger_core::mig::ResultRecord;
        self.layout
            .iter()
            .zip(&self.ids)
            .map(|(&(inst, p, profile, gpu, start, end), id)| match inst {
                Some(inst) => ResultRecord::mig(
                    id,
                    &self.instances[inst],
                    &self.parents[p],
                    profile,
                    gpu.architecture(),
                    gpu.name(),
                    100.0,
                    start,
                    end,
                ),
                None => ResultRecord::whole_gpu(
                    id,
                    &self.parents[p],
                    gpu.architecture(),
                    gpu.name(),
                    100.0,
                    start,
                    end,
                ),
            })
            .collect()
    }
}

/// A kernel timeline like a profiler's: `len` kernels on `streams` streams,
/// each stream's kernels back to back with short gaps (0–4 µs), durations
/// 2–60 µs, 1–132 SMs, one in eight a copy; merged in start order. Every
/// fourth kernel carries FP16 FLOPs, the rest are charged by active power.
pub fn timeline_stream(len: usize, streams: usize) -> Vec<wattledger_core::timeline::Interval> {
    use wattledger_core::timeline::{Engine, Interval, Work};
    let mut rng = Lcg::new(0x7431_11e5);
    let streams = streams.max(1);
    let mut clocks = vec![0u64; streams];
    let mut out: Vec<Interval> = (0..len)
        .map(|i| {
            let s = i % streams;
            let start = clocks[s] + u64::from(rng.range(0, 4_000));
            let end = start + u64::from(rng.range(2_000, 60_000));
            clocks[s] = end;
            let copy = rng.range(0, 7) == 0;
            Interval {
                id: i as u64,
                stream: s as u32,
                start_ns: start,
                end_ns: end,
                engine: if copy {
                    Engine::Copy
                } else {
                    Engine::Compute {
                        units: rng.range(1, 132),
                    }
                },
                work: (!copy && i % 4 == 0).then(|| Work {
                    flops: f64::from(rng.range(1, 1 << 20)) * 1e3,
                    precision: Precision::Fp16,
                }),
                bytes: f64::from(rng.range(0, 1 << 20)),
            }
        })
        .collect();
    out.sort_by_key(|iv| (iv.start_ns, iv.id));
    out
}
