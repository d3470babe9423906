//! A kernel timeline and a power recording made from known parameters: the
//! ground truth `attribute` and `calibrate` are checked against.
//!
//! One H100 (132 SMs) runs, on one stream, bursts of three kernels of
//! different widths and host-to-device copies, with idle gaps, for about
//! 8 s. The GPU's true power at any instant is
//!
//! ```text
//! P(t) = CONSTANT_W + ACTIVE_W · units(t)/132 + ENERGY_PER_BYTE_J · copy rate(t)
//! ```
//!
//! Its energy counter updates every 100 ms, in whole millijoules, each
//! update's energy off by Gaussian noise of NOISE_W watts times the update
//! period; the recorder reads it 0–2 ms after each update. The Kineto trace
//! stamps times in Unix microseconds with nanosecond decimals; the
//! recording's `clock_unix_ns` puts its clock on the same scale.
//!
//! Everything comes from a fixed-seed generator, so the files are the same
//! on every run; `cli/tests/fixtures/synthetic-h100.*` are its output (the
//! README's examples run on them), and a test checks they still match.

#![allow(dead_code)]

use std::io::Write;

/// Constant power (idle plus uncore), W.
pub const CONSTANT_W: f64 = 80.0;
/// Dynamic power of all 132 SMs running kernels, W.
pub const ACTIVE_W: f64 = 420.0;
/// Energy per byte copied, J.
pub const ENERGY_PER_BYTE_J: f64 = 2e-10;
/// Noise on each counter update's energy, as a power, W.
pub const NOISE_W: f64 = 1.0;
/// SMs.
pub const SMS: u32 = 132;
/// Unix time of the profile's first record, ns.
pub const PROFILE_START_UNIX_NS: i64 = 1_718_000_000_123_456_789;
/// Unix time at the recording's t_ns = 0: 1.5123 s before the profile.
pub const CLOCK_UNIX_NS: i64 = PROFILE_START_UNIX_NS - 1_512_300_000;
/// The counter's update period, ns.
pub const UPDATE_NS: i64 = 100_000_000;

/// The three kernels: name, grid blocks (= SMs used, as grid ≤ … or capped at 132).
pub const KERNELS: [(&str, u32, u32); 3] = [
    // name, grid x, SMs it holds (min(132, grid))
    ("gemm_bf16_tn_256x128", 264, 132),
    ("layernorm_fwd", 44, 44),
    ("softmax_fwd", 88, 88),
];
/// The copy's name.
pub const COPY: &str = "Memcpy HtoD (Pinned -> Device)";

/// One record of the truth, times in Unix ns.
#[derive(Debug, Clone, PartialEq)]
pub struct Rec {
    pub name: &'static str,
    pub start_ns: i64,
    pub end_ns: i64,
    /// SMs held (0 for a copy).
    pub sms: u32,
    /// Bytes (copies only).
    pub bytes: u64,
    /// Kineto grid x (kernels only).
    pub grid: u32,
}

impl Rec {
    /// Its true power while it runs, beyond the constant, W.
    pub fn extra_w(&self) -> f64 {
        let dur = (self.end_ns - self.start_ns) as f64 * 1e-9;
        ACTIVE_W * f64::from(self.sms) / f64::from(SMS)
            + if dur > 0.0 {
                ENERGY_PER_BYTE_J * self.bytes as f64 / dur
            } else {
                0.0
            }
    }

    /// Its true energy: the constant power while it runs (it alone runs)
    /// plus its own.
    pub fn energy_j(&self) -> f64 {
        (CONSTANT_W + self.extra_w()) * (self.end_ns - self.start_ns) as f64 * 1e-9
    }
}

/// A fixed-seed generator (64-bit LCG, Knuth's constants).
pub struct Lcg(u64);

impl Lcg {
    pub fn next_f64(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.next_f64().max(1e-300);
        let v = self.next_f64();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// The run: records in start order, one stream, never overlapping.
pub fn timeline() -> Vec<Rec> {
    let mut rng = Lcg(0x5eed_2024);
    let mut t = PROFILE_START_UNIX_NS;
    let end = PROFILE_START_UNIX_NS + 8_000_000_000;
    let mut recs = Vec::new();
    while t < end {
        // A phase of 50–400 ms: mostly one kind of work at a random duty.
        let phase_end = t + (rng.range(0.05, 0.4) * 1e9) as i64;
        let kind = (rng.next_f64() * 5.0) as usize; // 0..=2 kernels, 3 copies, 4 idle
        let duty = rng.range(0.2, 0.95);
        while t < phase_end {
            let (name, sms, grid, bytes, dur_s) = match kind {
                0..=2 => {
                    let (name, grid, sms) = KERNELS[kind];
                    let d = [
                        rng.range(4e-3, 12e-3),
                        rng.range(1e-3, 3e-3),
                        rng.range(2e-3, 5e-3),
                    ][kind];
                    (name, sms, grid, 0, d)
                }
                3 => {
                    let bytes = (rng.range(0.5, 4.0) * 1e9) as u64;
                    // Pinned host-to-device at about 50 GB/s.
                    (COPY, 0, 0, bytes, bytes as f64 / 50e9)
                }
                _ => {
                    t = phase_end;
                    break;
                }
            };
            let dur_ns = (dur_s * 1e9) as i64;
            recs.push(Rec {
                name,
                start_ns: t,
                end_ns: t + dur_ns,
                sms,
                bytes,
                grid,
            });
            // The gap that makes the duty: busy / (busy + gap) = duty.
            let gap = (dur_ns as f64 * (1.0 / duty - 1.0)) as i64;
            t += dur_ns + gap.max(1_000);
        }
    }
    recs
}

/// True energy between two Unix times, J (no noise).
pub fn true_energy_j(recs: &[Rec], a: i64, b: i64) -> f64 {
    let mut e = CONSTANT_W * (b - a) as f64 * 1e-9;
    for r in recs {
        let lo = r.start_ns.max(a);
        let hi = r.end_ns.min(b);
        if hi > lo {
            e += r.extra_w() * (hi - lo) as f64 * 1e-9;
        }
    }
    e
}

fn ts_us(ns: i64) -> String {
    format!("{}.{:03}", ns / 1000, ns % 1000)
}

/// The Kineto JSON of the run.
pub fn kineto_json(recs: &[Rec]) -> String {
    let mut s = String::new();
    s.push_str("{\"schemaVersion\": 1, \"deviceProperties\": [{\"id\": 0, \"name\": \"NVIDIA H100 80GB HBM3\", \"totalGlobalMem\": 85029158912, \"computeMajor\": 9, \"computeMinor\": 0, \"maxThreadsPerBlock\": 1024, \"maxThreadsPerMultiprocessor\": 2048, \"regsPerBlock\": 65536, \"regsPerMultiprocessor\": 65536, \"warpSize\": 32, \"sharedMemPerBlock\": 49152, \"sharedMemPerMultiprocessor\": 233472, \"numSms\": 132, \"sharedMemPerBlockOptin\": 232448}],\n\"traceEvents\": [\n");
    for (i, r) in recs.iter().enumerate() {
        if i > 0 {
            s.push_str(",\n");
        }
        let dur_ns = r.end_ns - r.start_ns;
        if r.sms > 0 {
            s.push_str(&format!(
                "{{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"{}\", \"pid\": 0, \"tid\": 7, \"ts\": {}, \"dur\": {}, \"args\": {{\"device\": 0, \"stream\": 7, \"grid\": [{}, 1, 1], \"block\": [256, 1, 1], \"registers per thread\": 64, \"shared memory\": 0}}}}",
                r.name,
                ts_us(r.start_ns),
                ts_us(dur_ns),
                r.grid
            ));
        } else {
            s.push_str(&format!(
                "{{\"ph\": \"X\", \"cat\": \"gpu_memcpy\", \"name\": \"{}\", \"pid\": 0, \"tid\": 7, \"ts\": {}, \"dur\": {}, \"args\": {{\"device\": 0, \"stream\": 7, \"bytes\": {}}}}}",
                r.name,
                ts_us(r.start_ns),
                ts_us(dur_ns),
                r.bytes
            ));
        }
    }
    s.push_str("\n]}\n");
    s
}

/// The power recording of the run (`wattledger-trace/1`): a counter that
/// updates every 100 ms in whole mJ with noise, read 0–2 ms after each
/// update, from 1.5 s before the profile to 1.2 s after it.
pub fn recording(recs: &[Rec]) -> String {
    let mut rng = Lcg(0x0bad_cafe);
    let last = recs.last().map_or(PROFILE_START_UNIX_NS, |r| r.end_ns);
    let stop = last + 1_200_000_000 - CLOCK_UNIX_NS;
    let mut s = format!(
        "{{\"type\":\"meta\",\"format\":\"wattledger-trace/1\",\"source\":\"nvml\",\"recorded_by\":\"synthetic ground truth (cli/tests/support/synthetic.rs)\",\"clock_unix_ns\":{CLOCK_UNIX_NS}}}\n\
         {{\"type\":\"device\",\"index\":0,\"name\":\"NVIDIA H100 80GB HBM3\",\"uuid\":\"GPU-00000000-0000-0000-0000-000000000000\",\"architecture\":9,\"pci_device_id\":8960,\"has_energy_counter\":true,\"mig\":null}}\n"
    );
    let mut energy_j = 1000.0; // the counter's value when the recording starts
    let mut update = 37_000_000i64; // first update on the sensor's clock
    let mut previous = 0i64;
    s.push_str(&format!(
        "{{\"type\":\"sample\",\"device\":0,\"t_ns\":0,\"energy_mj\":{}}}\n",
        (energy_j * 1000.0) as u64
    ));
    while update < stop {
        energy_j += true_energy_j(recs, CLOCK_UNIX_NS + previous, CLOCK_UNIX_NS + update)
            + NOISE_W * rng.normal() * (update - previous) as f64 * 1e-9;
        let read = update + (rng.range(0.0, 2e-3) * 1e9) as i64;
        s.push_str(&format!(
            "{{\"type\":\"sample\",\"device\":0,\"t_ns\":{read},\"energy_mj\":{}}}\n",
            (energy_j * 1000.0) as u64
        ));
        previous = update;
        update += UPDATE_NS;
    }
    s
}

/// The Kineto JSON gzipped, as committed (mtime 0, so the bytes are stable).
pub fn gzip(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}
