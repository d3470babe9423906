//! Watching a node for as long as it runs: lifetime energy counters per GPU,
//! per-MIG-instance estimates and per-rail totals, polled on a thread of
//! their own and published as immutable [`Snapshot`]s.
//!
//! This is the model behind `wattledger exporter` (the Prometheus text comes
//! from [`crate::exporters::daemon`], the HTTP server from the command). It
//! is kept apart from both so that its arithmetic can be tested on plain
//! readings ([`Accounts::observe`]) and on the fake NVML ([`nvml`]).
//!
//! **A true counter.** NVML's energy counter counts from the last driver
//! load; it goes back to 0 when the driver reloads and is not there at all
//! while a GPU is lost. [`Accounts`] keeps its own total per GPU, which only
//! goes up:
//!
//! - between two readings where the counter went up, the difference (exact);
//! - where it went down (a reset somewhere in between), the interval is
//!   *bridged*: the mean of the two power readings × the time, when both
//!   powers are known and the interval is at most
//!   [`FleetConfig::bridge_limit`], and never less than the counter's new
//!   value (energy since the reset, known for certain); the reset is counted;
//! - while the GPU is lost or absent, nothing is added, and the time is
//!   *uncovered*: `coverage` is the fraction of the time a GPU was watched
//!   that its counter (or, without a counter, polled power) accounts for.
//!   Bridged time is an estimate and is not covered either.
//!
//! **MIG instances.** NVML measures the physical GPU only. Each interval's
//! energy `E` over `dt` of a GPU with MIG instances is split in two: the
//! constant part `Ec = min(Pc·dt, E)` by compute slices, the rest by SM
//! activity × compute slices where every instance has a GPM activity
//! reading for the interval (Hopper and later), else by compute slices too.
//! The instances' shares add up to `E` exactly: nothing is lost or counted
//! twice. `Pc` is the GPU's constant power: the idle + uncore power of the
//! hardware preset matching its name (H100, H200, B200, A100), else the
//! lowest interval-average power seen so far on that GPU (an upper bound of
//! its constant power, which only gets better with time). These shares are
//! estimates and are labelled so; the parent's total is the measurement.

pub mod jetson;
#[cfg(feature = "nvml")]
pub mod nvml;

use std::collections::BTreeMap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wattledger_core::mig::{Architecture, Profile};
use wattledger_core::presets::Preset;

/// How a poller runs.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetConfig {
    /// Time between two polls.
    pub interval: Duration,
    /// The longest interval bridged by power when a counter resets.
    pub bridge_limit: Duration,
    /// How often the devices are enumerated again when nothing failed
    /// (a failed read enumerates them again at the next poll).
    pub rescan: Duration,
}

impl Default for FleetConfig {
    /// A poll every second, bridges up to 10 s, a rescan every 5 s.
    fn default() -> Self {
        FleetConfig::with_interval(Duration::from_secs(1))
    }
}

impl FleetConfig {
    /// Polls every `interval`; bridges up to 10 intervals (at least 5 s);
    /// rescans every 5 s (or every poll, if polls are slower).
    pub fn with_interval(interval: Duration) -> Self {
        FleetConfig {
            interval,
            bridge_limit: (interval * 10).max(Duration::from_secs(5)),
            rescan: Duration::from_secs(5),
        }
    }
}

/// What one poll read from one GPU.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GpuReading {
    /// `GPU-…` UUID (or a rail id for Jetson devices): the series' identity.
    pub uuid: String,
    /// Marketing name.
    pub name: String,
    /// NVML architecture number, if known.
    pub architecture: Option<u32>,
    /// The reading, or why there is none.
    pub state: ReadState,
    /// The MIG instances that exist now (empty without MIG).
    pub mig: Vec<MigReading>,
    /// Whether the instances' activity comes from GPM (fixed per GPU: it
    /// becomes the `basis` of their estimates).
    pub gpm: bool,
}

/// One GPU's reading at one poll.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ReadState {
    /// Read: the energy counter (mJ) and power (mW), where the GPU has them.
    Read {
        /// Energy counter, millijoules since the driver loaded.
        energy_mj: Option<u64>,
        /// Power, milliwatts.
        power_mw: Option<u32>,
    },
    /// The GPU stopped answering or left the bus.
    Lost,
    /// Any other failure: the reading is missing, the GPU is not lost.
    #[default]
    Failed,
}

/// One MIG instance as one poll found it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MigReading {
    /// `MIG-…` UUID.
    pub uuid: String,
    /// Profile name (`3g.40gb`), when known.
    pub profile: Option<String>,
    /// GPU instance id.
    pub gpu_instance_id: u32,
    /// Compute instance id.
    pub compute_instance_id: u32,
    /// Its SM activity over the interval since the previous poll, 0–1, from
    /// GPM; `None` when there is no reading for this interval.
    pub activity: Option<f64>,
}

impl MigReading {
    /// Compute slices of its profile; 1 when the profile is unknown.
    pub fn compute_slices(&self) -> u32 {
        self.profile
            .as_deref()
            .and_then(|p| Profile::parse(p).ok())
            .map_or(1, |p| p.compute_slices().max(1))
    }
}

/// One rail's reading (Jetson).
#[derive(Debug, Clone, PartialEq)]
pub struct RailReading {
    /// The rail's label.
    pub name: String,
    /// Its place in the board's tree: `total`, `part` or `unplaced`.
    pub role: &'static str,
    /// Power in milliwatts, `None` when the read failed.
    pub power_mw: Option<u32>,
}

/// Everything one poll read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Poll {
    /// When, on the poller's monotonic clock (ns).
    pub t_ns: u64,
    /// Every GPU the source found (a GPU missing here is absent: lost).
    pub gpus: Vec<GpuReading>,
    /// Every rail (Jetson).
    pub rails: Vec<RailReading>,
    /// Failures that belong to no GPU (enumeration), in the source's words.
    pub errors: Vec<String>,
}

/// A source of [`Poll`]s: NVML ([`nvml::NvmlFleet`]) or Jetson rails
/// ([`jetson::JetsonFleet`]).
pub trait FleetSource: Send {
    /// Short name of the source (`nvml`, `jetson`).
    fn source(&self) -> &str;
    /// Read every device now. Never fails as a whole: a device that cannot
    /// be read says so in its [`ReadState`].
    fn poll(&mut self) -> Poll;
}

/// The exporter's view of one GPU at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuSnapshot {
    /// `GPU-…` UUID.
    pub uuid: String,
    /// Marketing name.
    pub name: String,
    /// Architecture name (`Hopper`), or empty.
    pub architecture: String,
    /// Lifetime energy, joules: never goes down.
    pub energy_j: f64,
    /// Last power reading, watts.
    pub power_w: Option<f64>,
    /// Fraction of the watched time the readings account for.
    pub coverage: f64,
    /// Energy counter resets seen.
    pub counter_resets: u64,
    /// Whether the GPU is lost or absent now.
    pub lost: bool,
    /// The constant power used to split its energy among MIG instances.
    pub constant_power_w: Option<f64>,
    /// Where that constant power comes from: `preset:<name>` or `measured-minimum`.
    pub constant_power_basis: String,
    /// Its MIG instances now.
    pub migs: Vec<MigSnapshot>,
}

/// The exporter's view of one MIG instance.
#[derive(Debug, Clone, PartialEq)]
pub struct MigSnapshot {
    /// `MIG-…` UUID.
    pub uuid: String,
    /// Profile name, or empty.
    pub profile: String,
    /// GPU instance id.
    pub gpu_instance_id: u32,
    /// Compute instance id.
    pub compute_instance_id: u32,
    /// Compute slices (the split's weight).
    pub compute_slices: u32,
    /// `gpm-activity` or `compute-slices`.
    pub basis: &'static str,
    /// Estimated energy since it was first seen, joules.
    pub energy_j: f64,
    /// SM activity over the last interval, 0–1, where GPM gave it.
    pub activity: Option<f64>,
}

/// The exporter's view of one rail.
#[derive(Debug, Clone, PartialEq)]
pub struct RailSnapshot {
    /// The rail's label.
    pub name: String,
    /// `total`, `part` or `unplaced`.
    pub role: &'static str,
    /// Last power reading, watts.
    pub power_w: Option<f64>,
    /// Energy integrated from its power since first seen, joules.
    pub energy_j: f64,
}

/// Everything a scrape shows: what the last poll left.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    /// Source name.
    pub source: String,
    /// Polls done.
    pub polls: u64,
    /// Failures seen (device reads and enumerations).
    pub poll_errors: u64,
    /// How long the last poll took, seconds.
    pub last_poll_seconds: f64,
    /// When the last poll ended, seconds since the Unix epoch.
    pub last_poll_unix_s: f64,
    /// GPUs (or Jetson devices), in UUID order.
    pub gpus: Vec<GpuSnapshot>,
    /// Rails, in the source's order.
    pub rails: Vec<RailSnapshot>,
}

/// `basis` label of estimates split by GPM activity.
pub const BASIS_GPM: &str = "gpm-activity";
/// `basis` label of estimates split by compute slices alone.
pub const BASIS_SLICES: &str = "compute-slices";

#[derive(Debug, Clone)]
struct MigState {
    reading: MigReading,
    slices: u32,
    basis: &'static str,
    energy_j: f64,
}

#[derive(Debug, Clone)]
struct GpuState {
    name: String,
    architecture: String,
    energy_j: f64,
    watched_s: f64,
    covered_s: f64,
    resets: u64,
    lost: bool,
    last_seen_ns: u64,
    /// Last successful reading: time, counter, power.
    last_ok: Option<(u64, Option<u64>, Option<f64>)>,
    power_w: Option<f64>,
    preset: Option<(f64, &'static str)>,
    min_power_w: Option<f64>,
    migs: BTreeMap<String, MigState>,
}

#[derive(Debug, Clone)]
struct RailState {
    role: &'static str,
    power_w: Option<f64>,
    energy_j: f64,
    last: Option<(u64, f64)>,
}

/// The constant power (idle + uncore) of the preset matching an NVML GPU
/// name, with the preset's name.
pub fn constant_power_for(name: &str) -> Option<(f64, &'static str)> {
    let upper = name.to_ascii_uppercase();
    let preset = if upper.contains("H100") {
        Preset::H100Sxm5
    } else if upper.contains("H200") {
        Preset::H200
    } else if upper.contains("B200") {
        Preset::B200
    } else if upper.contains("A100") {
        Preset::A100_40gb
    } else {
        return None;
    };
    let m = preset.model();
    Some((m.static_power_w() + m.uncore_power_w(), preset.name()))
}

/// Split `energy_j` of one interval of `dt_s` among instances of `slices`
/// compute slices and `activity` (0–1, `None` where unknown), with constant
/// power `constant_w`: the constant part by slices, the rest by activity ×
/// slices when every activity is known and some is above 0, else by slices.
///
/// The shares add up to `energy_j` (up to rounding); an empty list gets
/// nothing.
pub fn split_energy(
    energy_j: f64,
    dt_s: f64,
    constant_w: f64,
    instances: &[(u32, Option<f64>)],
) -> Vec<f64> {
    let slices: f64 = instances.iter().map(|&(s, _)| f64::from(s)).sum();
    if slices <= 0.0 {
        return vec![0.0; instances.len()];
    }
    let constant = (constant_w.max(0.0) * dt_s.max(0.0)).min(energy_j.max(0.0));
    let dynamic = energy_j.max(0.0) - constant;
    let busy: Option<f64> = instances
        .iter()
        .map(|&(s, a)| a.map(|a| a.clamp(0.0, 1.0) * f64::from(s)))
        .sum();
    instances
        .iter()
        .map(|&(s, a)| {
            let s = f64::from(s);
            let dynamic_share = match (busy, a) {
                (Some(b), Some(a)) if b > 0.0 => a.clamp(0.0, 1.0) * s / b,
                _ => s / slices,
            };
            constant * s / slices + dynamic * dynamic_share
        })
        .collect()
}

/// The accounting: from [`Poll`]s to a [`Snapshot`].
#[derive(Debug, Clone)]
pub struct Accounts {
    config: FleetConfig,
    source: String,
    gpus: BTreeMap<String, GpuState>,
    rails: Vec<(String, RailState)>,
    polls: u64,
    errors: u64,
}

fn ns_to_s(ns: u64) -> f64 {
    ns as f64 / 1e9
}

impl Accounts {
    /// Empty accounts for `source`.
    pub fn new(source: impl Into<String>, config: FleetConfig) -> Self {
        Accounts {
            config,
            source: source.into(),
            gpus: BTreeMap::new(),
            rails: Vec::new(),
            polls: 0,
            errors: 0,
        }
    }

    /// Take one poll into account.
    pub fn observe(&mut self, poll: &Poll) {
        self.polls += 1;
        self.errors += poll.errors.len() as u64;
        let t = poll.t_ns;
        for r in &poll.gpus {
            if !matches!(r.state, ReadState::Read { .. }) {
                self.errors += 1;
            }
            let bridge_limit =
                ns_to_s(u64::try_from(self.config.bridge_limit.as_nanos()).unwrap_or(u64::MAX));
            let g = self.gpus.entry(r.uuid.clone()).or_insert_with(|| GpuState {
                name: r.name.clone(),
                architecture: r
                    .architecture
                    .map(|a| Architecture::from_nvml(a).to_string())
                    .unwrap_or_default(),
                energy_j: 0.0,
                watched_s: 0.0,
                covered_s: 0.0,
                resets: 0,
                lost: false,
                last_seen_ns: t,
                last_ok: None,
                power_w: None,
                preset: constant_power_for(&r.name),
                min_power_w: None,
                migs: BTreeMap::new(),
            });
            g.watched_s += ns_to_s(t.saturating_sub(g.last_seen_ns));
            g.last_seen_ns = t;
            g.observe(r, t, bridge_limit);
        }
        // A GPU the source no longer lists has left the bus.
        for (uuid, g) in &mut self.gpus {
            if !poll.gpus.iter().any(|r| &r.uuid == uuid) {
                g.watched_s += ns_to_s(t.saturating_sub(g.last_seen_ns));
                g.last_seen_ns = t;
                g.lost = true;
                g.power_w = None;
            }
        }
        for rail in &poll.rails {
            let i = match self.rails.iter().position(|(n, _)| n == &rail.name) {
                Some(i) => i,
                None => {
                    self.rails.push((
                        rail.name.clone(),
                        RailState {
                            role: rail.role,
                            power_w: None,
                            energy_j: 0.0,
                            last: None,
                        },
                    ));
                    self.rails.len() - 1
                }
            };
            let limit = self.config.bridge_limit;
            if let Some((_, s)) = self.rails.get_mut(i) {
                s.role = rail.role;
                let p = rail.power_mw.map(|mw| f64::from(mw) / 1000.0);
                if let (Some(p), Some((t0, p0))) = (p, s.last) {
                    let dt = ns_to_s(t.saturating_sub(t0));
                    if dt <= limit.as_secs_f64() {
                        s.energy_j += 0.5 * (p + p0) * dt;
                    }
                }
                if rail.power_mw.is_none() {
                    self.errors += 1;
                }
                s.power_w = p;
                s.last = p.map(|p| (t, p));
            }
        }
    }

    /// What a scrape shows now.
    pub fn snapshot(&self, last_poll_seconds: f64) -> Snapshot {
        Snapshot {
            source: self.source.clone(),
            polls: self.polls,
            poll_errors: self.errors,
            last_poll_seconds,
            last_poll_unix_s: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
            gpus: self
                .gpus
                .iter()
                .map(|(uuid, g)| GpuSnapshot {
                    uuid: uuid.clone(),
                    name: g.name.clone(),
                    architecture: g.architecture.clone(),
                    energy_j: g.energy_j,
                    power_w: g.power_w,
                    coverage: if g.watched_s > 0.0 {
                        (g.covered_s / g.watched_s).clamp(0.0, 1.0)
                    } else {
                        0.0
                    },
                    counter_resets: g.resets,
                    lost: g.lost,
                    constant_power_w: g.constant_power(),
                    constant_power_basis: match g.preset {
                        Some((_, name)) => format!("preset:{name}"),
                        None => "measured-minimum".to_string(),
                    },
                    migs: g
                        .migs
                        .iter()
                        .map(|(uuid, m)| MigSnapshot {
                            uuid: uuid.clone(),
                            profile: m.reading.profile.clone().unwrap_or_default(),
                            gpu_instance_id: m.reading.gpu_instance_id,
                            compute_instance_id: m.reading.compute_instance_id,
                            compute_slices: m.slices,
                            basis: m.basis,
                            energy_j: m.energy_j,
                            activity: m.reading.activity,
                        })
                        .collect(),
                })
                .collect(),
            rails: self
                .rails
                .iter()
                .map(|(name, s)| RailSnapshot {
                    name: name.clone(),
                    role: s.role,
                    power_w: s.power_w,
                    energy_j: s.energy_j,
                })
                .collect(),
        }
    }
}

impl GpuState {
    fn constant_power(&self) -> Option<f64> {
        self.preset.map(|(w, _)| w).or(self.min_power_w)
    }

    fn observe(&mut self, r: &GpuReading, t: u64, bridge_limit_s: f64) {
        let (energy_mj, power_mw) = match r.state {
            ReadState::Read {
                energy_mj,
                power_mw,
            } => (energy_mj, power_mw),
            ReadState::Lost => {
                self.lost = true;
                self.power_w = None;
                return;
            }
            ReadState::Failed => return,
        };
        let power = power_mw.map(|mw| f64::from(mw) / 1000.0);
        let mut added = 0.0;
        let mut dt_s = 0.0;
        if let Some((t0, c0, p0)) = self.last_ok {
            dt_s = ns_to_s(t.saturating_sub(t0));
            let bridged = match (p0, power) {
                (Some(a), Some(b)) if dt_s <= bridge_limit_s => Some(0.5 * (a + b) * dt_s),
                _ => None,
            };
            match (c0, energy_mj) {
                (Some(c0), Some(c)) if c >= c0 => {
                    added = (c - c0) as f64 / 1000.0;
                    self.covered_s += dt_s;
                }
                (Some(_), Some(c)) => {
                    self.resets += 1;
                    added = bridged.unwrap_or(0.0).max(c as f64 / 1000.0);
                }
                (None, None) => {
                    // A GPU without a counter: polled power, integrated.
                    if let Some(e) = bridged {
                        added = e;
                        self.covered_s += dt_s;
                    }
                }
                // The counter appeared or vanished: the power bridge at most.
                _ => added = bridged.unwrap_or(0.0),
            }
        }
        self.energy_j += added;
        if dt_s > 0.0 {
            let avg = added / dt_s;
            self.min_power_w = Some(self.min_power_w.map_or(avg, |m| m.min(avg)));
        }
        self.split(r, added, dt_s);
        self.last_ok = Some((t, energy_mj, power));
        self.power_w = power;
        self.lost = false;
    }

    /// Share `added` joules of the last `dt_s` among the instances that
    /// existed both before and now; take the instance list of `r`.
    fn split(&mut self, r: &GpuReading, added: f64, dt_s: f64) {
        let basis = if r.gpm { BASIS_GPM } else { BASIS_SLICES };
        self.migs
            .retain(|uuid, _| r.mig.iter().any(|m| &m.uuid == uuid));
        let mut sharing: Vec<&str> = Vec::with_capacity(r.mig.len());
        let mut weights: Vec<(u32, Option<f64>)> = Vec::with_capacity(r.mig.len());
        for m in &r.mig {
            let slices = m.compute_slices();
            match self.migs.get_mut(&m.uuid) {
                Some(s) => {
                    s.reading = m.clone();
                    sharing.push(&m.uuid);
                    weights.push((slices, m.activity));
                }
                None => {
                    self.migs.insert(
                        m.uuid.clone(),
                        MigState {
                            reading: m.clone(),
                            slices,
                            basis,
                            energy_j: 0.0,
                        },
                    );
                }
            }
        }
        if added <= 0.0 || sharing.is_empty() {
            return;
        }
        let constant = self.constant_power().unwrap_or(0.0);
        let shares = split_energy(added, dt_s, constant, &weights);
        for (uuid, share) in sharing.iter().zip(shares) {
            if let Some(s) = self.migs.get_mut(*uuid) {
                s.energy_j += share;
            }
        }
    }
}

/// The last snapshot, shared between the poller and any number of readers.
///
/// Readers clone the `Arc` under the lock (a pointer copy) and render
/// without it, so a scrape never waits for a poll and a poll never waits
/// for a scrape.
#[derive(Debug, Clone, Default)]
pub struct Latest(Arc<Mutex<Arc<Snapshot>>>);

impl Latest {
    /// The last snapshot published.
    pub fn get(&self) -> Arc<Snapshot> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Publish `s`.
    pub fn set(&self, s: Snapshot) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(s);
    }
}

/// A poller thread: polls `source` every `interval` until stopped.
#[derive(Debug)]
pub struct Poller {
    latest: Latest,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Poller {
    /// Take a first poll now (so the first scrape has devices), then keep
    /// polling on a thread of its own.
    ///
    /// # Errors
    /// The error of spawning the thread.
    pub fn spawn(mut source: Box<dyn FleetSource>, config: FleetConfig) -> std::io::Result<Self> {
        let latest = Latest::default();
        let mut accounts = Accounts::new(source.source(), config.clone());
        let started = Instant::now();
        accounts.observe(&source.poll());
        latest.set(accounts.snapshot(started.elapsed().as_secs_f64()));
        let (stop, stopped) = mpsc::channel::<()>();
        let shared = latest.clone();
        let thread = std::thread::Builder::new()
            .name("wattledger-poll".into())
            .spawn(move || {
                let mut next = started + config.interval;
                loop {
                    let wait = next.saturating_duration_since(Instant::now());
                    match stopped.recv_timeout(wait) {
                        Err(RecvTimeoutError::Timeout) => {}
                        // A stop message, or the handle is gone.
                        _ => return,
                    }
                    let began = Instant::now();
                    accounts.observe(&source.poll());
                    shared.set(accounts.snapshot(began.elapsed().as_secs_f64()));
                    next += config.interval;
                    // After a stall (a slow driver), start again from now
                    // rather than polling in a burst to catch up.
                    let now = Instant::now();
                    if next < now {
                        next = now + config.interval;
                    }
                }
            })?;
        Ok(Poller {
            latest,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Where the snapshots are published.
    pub fn latest(&self) -> Latest {
        self.latest.clone()
    }

    /// Stop polling and wait for the thread (at most one poll's time).
    pub fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(uuid: &str, mj: Option<u64>, mw: Option<u32>) -> GpuReading {
        GpuReading {
            uuid: uuid.into(),
            name: "NVIDIA H100 80GB HBM3".into(),
            architecture: Some(9),
            state: ReadState::Read {
                energy_mj: mj,
                power_mw: mw,
            },
            ..GpuReading::default()
        }
    }

    fn poll(t_ms: u64, gpus: Vec<GpuReading>) -> Poll {
        Poll {
            t_ns: t_ms * 1_000_000,
            gpus,
            ..Poll::default()
        }
    }

    #[test]
    fn a_reset_is_bridged_by_power_and_counted() {
        let mut a = Accounts::new(
            "test",
            FleetConfig::with_interval(Duration::from_millis(100)),
        );
        // 300 W: 30,000 mJ per 100 ms.
        a.observe(&poll(
            0,
            vec![read("GPU-a", Some(1_000_000), Some(300_000))],
        ));
        a.observe(&poll(
            100,
            vec![read("GPU-a", Some(1_030_000), Some(300_000))],
        ));
        // The counter restarted 40 ms ago: 12,000 mJ since the reset. The
        // bridge is (300 + 300)/2 W × 0.1 s = 30 J.
        a.observe(&poll(200, vec![read("GPU-a", Some(12_000), Some(300_000))]));
        a.observe(&poll(300, vec![read("GPU-a", Some(42_000), Some(300_000))]));
        let s = a.snapshot(0.0);
        let g = &s.gpus[0];
        // 30 (counter) + 30 (bridge) + 30 (counter) = 90 J.
        assert!((g.energy_j - 90.0).abs() < 1e-9, "{}", g.energy_j);
        assert_eq!(g.counter_resets, 1);
        // Watched 0.3 s, covered 0.2 s (the bridged 0.1 s is an estimate).
        assert!((g.coverage - 2.0 / 3.0).abs() < 1e-9, "{}", g.coverage);
        assert!(!g.lost);
    }

    #[test]
    fn a_reset_without_power_keeps_the_energy_since_the_reset() {
        let mut a = Accounts::new("test", FleetConfig::default());
        a.observe(&poll(0, vec![read("GPU-a", Some(5_000), None)]));
        a.observe(&poll(1000, vec![read("GPU-a", Some(2_500), None)]));
        // No power to bridge: the 2.5 J counted since the reset, a lower bound.
        assert!((a.snapshot(0.0).gpus[0].energy_j - 2.5).abs() < 1e-12);
    }

    #[test]
    fn a_lost_gpu_adds_nothing_and_is_flagged_until_it_answers() {
        let mut a = Accounts::new(
            "test",
            FleetConfig::with_interval(Duration::from_millis(100)),
        );
        a.observe(&poll(
            0,
            vec![read("GPU-a", Some(5_000_000), Some(100_000))],
        ));
        let mut lost = read("GPU-a", None, None);
        lost.state = ReadState::Lost;
        a.observe(&poll(100, vec![lost]));
        assert!(a.snapshot(0.0).gpus[0].lost);
        // Gone from the enumeration altogether: still lost.
        a.observe(&poll(200, vec![]));
        assert!(a.snapshot(0.0).gpus[0].lost);
        // Back 20 s later with a fresh counter (driver reload): too long to
        // bridge, so only the 1 J since the reload counts.
        a.observe(&poll(
            20_000,
            vec![read("GPU-a", Some(1_000), Some(100_000))],
        ));
        let g = &a.snapshot(0.0).gpus[0];
        assert!(!g.lost);
        assert!((g.energy_j - 1.0).abs() < 1e-12, "{}", g.energy_j);
        assert_eq!(g.counter_resets, 1);
        assert_eq!(g.coverage, 0.0);
    }

    #[test]
    fn the_split_adds_up_and_follows_activity() {
        // 100 J over 1 s, 40 W constant: 40 J by slices (3:2:1 of 6),
        // 60 J by activity × slices: busy = 0.5·3 + 1.0·2 + 0·1 = 3.5.
        let shares = split_energy(
            100.0,
            1.0,
            40.0,
            &[(3, Some(0.5)), (2, Some(1.0)), (1, Some(0.0))],
        );
        let expected = [
            40.0 * 3.0 / 6.0 + 60.0 * 1.5 / 3.5,
            40.0 * 2.0 / 6.0 + 60.0 * 2.0 / 3.5,
            40.0 * 1.0 / 6.0,
        ];
        for (s, e) in shares.iter().zip(expected) {
            assert!((s - e).abs() < 1e-9, "{shares:?}");
        }
        assert!((shares.iter().sum::<f64>() - 100.0).abs() < 1e-9);
        // Unknown activity anywhere: everything by slices.
        let by_slices = split_energy(60.0, 1.0, 10.0, &[(3, Some(1.0)), (1, None)]);
        assert!((by_slices[0] - 45.0).abs() < 1e-9 && (by_slices[1] - 15.0).abs() < 1e-9);
        // Constant power above the measured energy: all of it is constant.
        let idle = split_energy(5.0, 1.0, 70.0, &[(1, Some(0.0)), (1, Some(0.0))]);
        assert_eq!(idle, vec![2.5, 2.5]);
    }

    #[test]
    fn instances_share_the_parents_energy_and_follow_layout_changes() {
        let mig = |uuid: &str, profile: &str, gi: u32, act: f64| MigReading {
            uuid: uuid.into(),
            profile: Some(profile.into()),
            gpu_instance_id: gi,
            compute_instance_id: 0,
            activity: Some(act),
        };
        let mut a = Accounts::new(
            "test",
            FleetConfig::with_interval(Duration::from_millis(100)),
        );
        let at = |mj: u64, migs: Vec<MigReading>| {
            let mut r = read("GPU-a", Some(mj), Some(350_000));
            r.mig = migs;
            r.gpm = true;
            r
        };
        a.observe(&poll(0, vec![at(0, vec![mig("MIG-1", "3g.40gb", 1, 0.0)])]));
        a.observe(&poll(
            1000,
            vec![at(
                350_000,
                vec![
                    mig("MIG-1", "3g.40gb", 1, 0.5),
                    mig("MIG-2", "4g.40gb", 2, 0.0),
                ],
            )],
        ));
        // MIG-2 is new: the whole 350 J goes to MIG-1, the only one there before.
        let s = a.snapshot(0.0);
        assert_eq!(s.gpus[0].migs.len(), 2);
        assert!((s.gpus[0].migs[0].energy_j - 350.0).abs() < 1e-9);
        assert_eq!(s.gpus[0].migs[0].basis, BASIS_GPM);
        a.observe(&poll(
            2000,
            vec![at(
                700_000,
                vec![
                    mig("MIG-1", "3g.40gb", 1, 0.5),
                    mig("MIG-2", "4g.40gb", 2, 0.0),
                ],
            )],
        ));
        let s = a.snapshot(0.0);
        let g = &s.gpus[0];
        // Second second: 350 J, 70 W constant (H100 preset: 40 W SM + 30 W
        // uncore) by slices 3:4, the other 280 J all to MIG-1 (MIG-2 idle).
        let m1 = 350.0 + 70.0 * 3.0 / 7.0 + 280.0;
        let m2 = 70.0 * 4.0 / 7.0;
        assert!((g.migs[0].energy_j - m1).abs() < 1e-9, "{:?}", g.migs);
        assert!((g.migs[1].energy_j - m2).abs() < 1e-9, "{:?}", g.migs);
        assert_eq!(g.constant_power_basis, "preset:h100-sxm5");
        // MIG-1 is destroyed: its series goes.
        a.observe(&poll(
            3000,
            vec![at(1_050_000, vec![mig("MIG-2", "4g.40gb", 2, 0.0)])],
        ));
        let s = a.snapshot(0.0);
        assert_eq!(s.gpus[0].migs.len(), 1);
        assert!((s.gpus[0].migs[0].energy_j - (m2 + 350.0)).abs() < 1e-9);
    }
}
