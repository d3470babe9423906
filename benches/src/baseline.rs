//! Straightforward heap-based implementations to time the library against.
//!
//! Each does the job the obvious way: keep everything in `Vec`s and
//! `String`s, then compute. They follow the same formulas as the library
//! (DESIGN.md §3 and §5), so on the same input they give the same numbers;
//! `tests/baselines.rs` checks that.

use wattledger_core::compose::{GatingPolicy, Subgraph};
use wattledger_core::hardware::HardwareModel;
use wattledger_core::meter::{MeterConfig, Sample};

/// What the composition baseline computes: the model totals and the sum of
/// the per-subgraph charges (the closed attribution).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ComposeTotals {
    /// Stages composed.
    pub stages: u32,
    /// Subgraphs composed.
    pub subgraphs: u64,
    /// Σ stage durations, seconds.
    pub latency_s: f64,
    /// Model energy, joules.
    pub total_energy_j: f64,
    /// Σ of every subgraph's charge, joules.
    pub charged_j: f64,
    /// Σ unit-seconds over every state.
    pub unit_seconds: f64,
    /// Domain transitions.
    pub transitions: u64,
}

/// Why the baseline refused a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaselineError {
    /// A NaN, infinite or negative number.
    BadNumber,
    /// No allocation or a zero allocation (the baseline has no legacy path).
    BadAllocation,
    /// No energy figure for the precision.
    UnsupportedPrecision,
    /// Stages not in non-decreasing order.
    StageOutOfOrder,
}

/// Composes a stream the obvious way: collect it into one `Vec` per stage,
/// then walk the stages, allocating a `Vec` of per-subgraph figures and one
/// of per-subgraph charges for each. Same formulas as
/// `wattledger_core::compose::Composer`.
///
/// # Errors
/// A [`BaselineError`] for input the composer would also refuse.
pub fn compose(
    hw: &HardwareModel,
    policy: GatingPolicy,
    stream: &[Subgraph],
) -> Result<ComposeTotals, BaselineError> {
    // Collect: one Vec per stage.
    let mut stages: Vec<Vec<Subgraph>> = Vec::new();
    for sg in stream {
        for v in [
            sg.flops,
            sg.input_bytes,
            sg.output_bytes,
            sg.weight_bytes,
            sg.latency_s,
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(BaselineError::BadNumber);
            }
        }
        match stages.last_mut() {
            Some(last) if last[0].stage == sg.stage => last.push(*sg),
            Some(last) if last[0].stage > sg.stage => return Err(BaselineError::StageOutOfOrder),
            _ => stages.push(vec![*sg]),
        }
    }

    let n_units = hw.units();
    let n = f64::from(n_units);
    let g = hw.gating_domain();
    let total_domains = hw.domains();
    let p_static = hw.static_power_w();
    let p_unit = hw.unit_static_power_w();
    let p_uncore = hw.uncore_power_w();
    let gating = *hw.gating();
    let e_byte = hw.energy_per_byte_j();

    let mut out = ComposeTotals::default();
    let (mut compute_total, mut memory_total, mut static_total) = (0.0, 0.0, 0.0);
    let (mut uncore_total, mut transition_total) = (0.0, 0.0);
    let mut powered = total_domains;
    let mut oracle = OracleDomains::new(hw, policy == GatingPolicy::Oracle);
    for stage in &stages {
        // Per-subgraph figures: (compute J, memory J, domains, latency).
        let mut figures: Vec<(f64, f64, u32, f64)> = Vec::with_capacity(stage.len());
        for sg in stage {
            let e_op = hw
                .energy_per_op_j(sg.precision)
                .ok_or(BaselineError::UnsupportedPrecision)?;
            let a = match sg.units_allocated {
                Some(a) if a > 0 => a,
                _ => return Err(BaselineError::BadAllocation),
            };
            figures.push((
                sg.flops * e_op,
                sg.bytes() * e_byte,
                a.div_ceil(g),
                sg.latency_s,
            ));
        }
        let requested: u64 = figures.iter().map(|f| u64::from(f.2)).sum();
        let max_latency = figures.iter().map(|f| f.3).fold(0.0, f64::max);
        let compute_j: f64 = figures.iter().map(|f| f.0).sum();
        let memory_j: f64 = figures.iter().map(|f| f.1).sum();
        let oversubscribed = requested > u64::from(total_domains);
        let needed = if oversubscribed {
            total_domains
        } else {
            requested as u32
        };
        let scale = if oversubscribed {
            n / (requested * u64::from(g)) as f64
        } else {
            1.0
        };
        let allocated = f64::from(needed * g);
        let last = std::ptr::eq(stage, &stages[stages.len() - 1]);
        let (woken, wake_s, powered_during, powered_down, settled_us, prewake_us) =
            if policy == GatingPolicy::Oracle {
                oracle.stage(needed, max_latency, out.latency_s, last)
            } else {
                let woken = needed.saturating_sub(powered);
                let wake_s = if woken > 0 {
                    gating.wake_latency_s
                } else {
                    0.0
                };
                let duration = wake_s + max_latency;
                let powered_now = powered.max(needed);
                let free = powered_now - needed;
                let powered_down = match policy {
                    GatingPolicy::Off | GatingPolicy::Oracle => 0,
                    GatingPolicy::Always => free,
                    GatingPolicy::BreakEven => {
                        let cost = 2.0 * gating.transition_energy_j
                            + (p_static + p_uncore) * gating.wake_latency_s;
                        if p_unit * f64::from(g) * duration > cost {
                            free
                        } else {
                            0
                        }
                    }
                };
                let after = powered_now - powered_down;
                (woken, wake_s, after, powered_down, 0.0, 0.0)
            };
        let duration = wake_s + max_latency;
        let powered_after = powered_during;
        let transitions = u64::from(woken) + u64::from(powered_down);

        let woken_units = f64::from(woken * g);
        let gated_units = f64::from((total_domains - powered_after) * g);
        let idle_unalloc_units = f64::from((powered_after - needed) * g);
        let mut active_us = 0.0;
        let mut idle_alloc_us = (allocated - woken_units) * wake_s;
        for f in &figures {
            let a = f64::from(f.2) * f64::from(g) * scale;
            active_us += a * f.3;
            idle_alloc_us += a * (max_latency - f.3);
        }
        let window_us = woken_units * wake_s;
        let transitioning_us = window_us + prewake_us;
        let idle_unalloc_us = idle_unalloc_units * duration - settled_us;
        let gated_us = gated_units * duration + settled_us - prewake_us;
        let static_j = p_static * duration * ((n - gated_units) / n)
            - p_unit * window_us
            - p_unit * settled_us;
        let transition_j = transitions as f64 * gating.transition_energy_j;
        let uncore_j = p_uncore * duration;
        let shared = p_unit * (allocated - woken_units) * wake_s
            + p_unit * idle_unalloc_us
            + uncore_j
            + transition_j;
        let share_per_unit = shared / allocated;

        // Per-subgraph charges, kept in a Vec as a report would.
        let charges: Vec<f64> = figures
            .iter()
            .map(|f| {
                let a = f64::from(f.2) * f64::from(g) * scale;
                let own_static = p_unit * (a * f.3 + a * (max_latency - f.3));
                f.0 + f.1 + own_static + share_per_unit * a
            })
            .collect();

        out.stages += 1;
        out.subgraphs += stage.len() as u64;
        out.latency_s += duration;
        out.charged_j += charges.iter().sum::<f64>();
        out.unit_seconds +=
            active_us + idle_alloc_us + idle_unalloc_us + gated_us + transitioning_us;
        out.transitions += transitions;
        compute_total += compute_j;
        memory_total += memory_j;
        static_total += static_j;
        uncore_total += uncore_j;
        transition_total += transition_j;
        powered = oracle.powered().unwrap_or(powered_after);
    }
    out.total_energy_j =
        compute_total + memory_total + static_total + uncore_total + transition_total;
    Ok(out)
}

/// One domain under the `oracle` policy.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Domain {
    Allocated,
    /// Idle since `since` (model clock, s); `gated` once settled.
    Idle {
        since: f64,
        gated: bool,
    },
}

/// The `oracle` policy the obvious way: every domain's state in a `Vec`,
/// every idle one looked at in every stage (the library keeps a staircase
/// of young periods instead).
struct OracleDomains {
    domains: Vec<Domain>,
    p_domain: f64,
    p_uncore: f64,
    e_tr: f64,
    t_wake: f64,
    g: f64,
}

impl OracleDomains {
    fn new(hw: &HardwareModel, on: bool) -> Self {
        let n = if on { hw.domains() as usize } else { 0 };
        OracleDomains {
            domains: vec![
                Domain::Idle {
                    since: 0.0,
                    gated: false
                };
                n
            ],
            p_domain: hw.unit_static_power_w() * f64::from(hw.gating_domain()),
            p_uncore: hw.uncore_power_w(),
            e_tr: hw.gating().transition_energy_j,
            t_wake: hw.gating().wake_latency_s,
            g: f64::from(hw.gating_domain()),
        }
    }

    /// Domains not gated, when the policy is on.
    fn powered(&self) -> Option<u32> {
        (!self.domains.is_empty()).then(|| {
            self.domains
                .iter()
                .filter(|d| !matches!(d, Domain::Idle { gated: true, .. }))
                .count() as u32
        })
    }

    /// `(woken, wake_s, powered_during, powered_down, settled_us, prewake_us)`
    /// for a stage allocating the first `needed` domains, starting at `clock`.
    fn stage(
        &mut self,
        needed: u32,
        max_latency: f64,
        clock: f64,
        last: bool,
    ) -> (u32, f64, u32, u32, f64, f64) {
        let needed = needed as usize;
        let (pd, w, e_tr) = (self.p_domain, self.t_wake, self.e_tr);
        let held = self
            .domains
            .iter()
            .filter(|d| **d == Domain::Allocated)
            .count();
        let mut cost = w * (self.p_uncore + pd * held as f64);
        let (mut gated_needed, mut late) = (0u32, false);
        let mut candidates = Vec::new();
        for d in &self.domains[..needed] {
            match *d {
                Domain::Idle { since, gated: true } => {
                    gated_needed += 1;
                    late |= clock - since < w;
                }
                Domain::Idle {
                    since,
                    gated: false,
                } => {
                    let l = clock - since;
                    cost += (pd * w).min(2.0 * e_tr - pd * l);
                    if pd * (l + w) > 2.0 * e_tr {
                        candidates.push(l);
                    }
                }
                Domain::Allocated => {}
            }
        }
        let window = w > 0.0 && ((!candidates.is_empty() && cost < 0.0) || late);
        let selected: &[f64] = if window && cost < 0.0 {
            &candidates
        } else {
            &[]
        };
        let (woken, wake_s, prewake_us) = if window {
            (gated_needed + selected.len() as u32, w, 0.0)
        } else {
            (gated_needed, 0.0, f64::from(gated_needed) * self.g * w)
        };
        let mut settled_us: f64 = selected.iter().map(|l| self.g * l).sum();
        let mut down = selected.len() as u32;
        let powered_during = self.powered().unwrap_or(0) + gated_needed;
        let clock_end = clock + wake_s + max_latency;
        for (j, d) in self.domains.iter_mut().enumerate() {
            if j < needed {
                *d = Domain::Allocated;
            } else if *d == Domain::Allocated {
                *d = Domain::Idle {
                    since: clock,
                    gated: false,
                };
            }
        }
        // Oldest (highest) domains first, as periods end and are settled.
        for d in self.domains.iter_mut().rev() {
            if let Domain::Idle {
                since,
                gated: gated @ false,
            } = d
            {
                let l = clock_end - *since;
                let certain = pd * l > 2.0 * e_tr && l >= w;
                if !selected.is_empty() || certain || (last && pd * l > e_tr) {
                    *gated = true;
                    down += 1;
                    settled_us += self.g * l;
                }
            }
        }
        (woken, wake_s, powered_during, down, settled_us, prewake_us)
    }
}

/// What the meter baseline reports for a window.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LogWindow {
    /// Joules.
    pub energy_j: f64,
    /// Window length, ns.
    pub duration_ns: u64,
    /// Time covered by counter deltas or trapezoids, ns.
    pub covered_ns: u64,
    /// `covered_ns / duration_ns`.
    pub coverage: f64,
    /// Counter resets.
    pub resets: u32,
    /// Uncovered intervals.
    pub gaps: u32,
}

/// A meter the obvious way: keep every sample in a `Vec`; a window remembers
/// the index it began at, and ending it integrates its slice of the log.
#[derive(Debug, Clone, Default)]
pub struct SampleLog {
    config: Option<MeterConfig>,
    samples: Vec<Sample>,
    windows: Vec<(String, usize)>,
}

impl SampleLog {
    /// An empty log.
    pub fn new(config: MeterConfig) -> Self {
        SampleLog {
            config: Some(config),
            samples: Vec::new(),
            windows: Vec::new(),
        }
    }

    /// Appends a sample; a timestamp that goes back is refused.
    ///
    /// # Errors
    /// `Err(())` when the timestamp is earlier than the last one.
    #[allow(clippy::result_unit_err)]
    pub fn ingest(&mut self, s: Sample) -> Result<(), ()> {
        if self.samples.last().is_some_and(|l| s.t_ns < l.t_ns) {
            return Err(());
        }
        self.samples.push(s);
        Ok(())
    }

    /// Opens a window at the latest sample.
    pub fn begin(&mut self, name: &str) {
        let at = self.samples.len().saturating_sub(1);
        self.windows.push((name.to_string(), at));
    }

    /// Closes a window and integrates its samples, with the meter's rules.
    pub fn end(&mut self, name: &str) -> Option<LogWindow> {
        let index = self.windows.iter().position(|w| w.0 == name)?;
        let (_, start) = self.windows.remove(index);
        let config = self.config.unwrap_or_default();
        let slice = self.samples.get(start..)?;
        let mut counter_mj: u64 = 0;
        let mut power_x2: u128 = 0;
        let mut covered_ns: u64 = 0;
        let (mut resets, mut gaps) = (0u32, 0u32);
        for pair in slice.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let dt = b.t_ns - a.t_ns;
            let trap = match (a.power_mw, b.power_mw) {
                (Some(pa), Some(pb)) if dt <= config.max_gap_ns => {
                    Some((u128::from(pa) + u128::from(pb)) * u128::from(dt))
                }
                _ => None,
            };
            match (a.energy_mj, b.energy_mj) {
                (Some(ea), Some(eb)) if eb >= ea => {
                    counter_mj += eb - ea;
                    covered_ns += dt;
                    continue;
                }
                (Some(_), Some(_)) => resets += 1,
                _ => {}
            }
            if let Some(x2) = trap {
                power_x2 += x2;
                covered_ns += dt;
            } else if dt > 0 {
                gaps += 1;
            }
        }
        let duration_ns = match (slice.first(), slice.last()) {
            (Some(a), Some(b)) => b.t_ns - a.t_ns,
            _ => 0,
        };
        let covered_ns = covered_ns.min(duration_ns);
        Some(LogWindow {
            energy_j: counter_mj as f64 * 1e-3 + power_x2 as f64 * 0.5e-12,
            duration_ns,
            covered_ns,
            coverage: if duration_ns == 0 {
                0.0
            } else {
                covered_ns as f64 / duration_ns as f64
            },
            resets,
            gaps,
        })
    }
}

/// A MIG profile name parsed the obvious way: split into `String`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NaiveProfile {
    /// Compute slices (`c`, or `g` when not written).
    pub compute: u32,
    /// GPU slices `g`.
    pub gpu: u32,
    /// Memory, GB.
    pub memory_gb: u32,
    /// `'+'`, `'-'` or none.
    pub sign: Option<char>,
    /// Attributes, sorted.
    pub attributes: Vec<String>,
}

/// Parses `[<c>c.]<g>g.<mem>gb[(+|-)attr[,attr]]` with `split` and `String`s.
/// Covers the well-formed names the benchmark uses; it is not a validator.
pub fn parse_profile_naive(text: &str) -> Option<NaiveProfile> {
    let (base, sign, rest) = match text.find(['+', '-']) {
        Some(at) => (
            text[..at].to_string(),
            text[at..].chars().next(),
            Some(text[at + 1..].to_string()),
        ),
        None => (text.to_string(), None, None),
    };
    let parts: Vec<String> = base.split('.').map(str::to_string).collect();
    let number = |s: &str, suffix: &str| -> Option<u32> { s.strip_suffix(suffix)?.parse().ok() };
    let (compute, gpu, mem) = match parts.as_slice() {
        [g, m] => {
            let g = number(g, "g")?;
            (g, g, number(m, "gb")?)
        }
        [c, g, m] => (number(c, "c")?, number(g, "g")?, number(m, "gb")?),
        _ => return None,
    };
    let mut attributes: Vec<String> = match rest {
        Some(r) => r.split(',').map(str::to_string).collect(),
        None => Vec::new(),
    };
    if attributes.iter().any(String::is_empty) {
        return None;
    }
    attributes.sort();
    Some(NaiveProfile {
        compute,
        gpu,
        memory_gb: mem,
        sign,
        attributes,
    })
}

/// What the rules baseline found: `(code, message)` pairs.
pub type NaiveWarnings = Vec<(&'static str, String)>;

/// The parent-power, shared-parent, mixed-scope and mixed-profile rules
/// (`WL-MIG-001` to `004`) the obvious way: hash maps and sets of owned
/// `String`s, a sorted sweep for the overlap (MIG results of a parent and
/// whole-GPU results of the same GPU), and `format!` for every message. It does not look profiles up in the catalog (`005`/`006`), so it
/// does less work than the library's engine.
pub fn mig_rules_naive(records: &[wattledger_core::mig::ResultRecord<'_>]) -> NaiveWarnings {
    use std::collections::{BTreeSet, HashMap, HashSet};
    let mut out = Vec::new();
    let migs: Vec<_> = records.iter().filter(|r| r.is_mig).collect();
    let whole = records.len() - migs.len();
    let profiles: BTreeSet<String> = migs
        .iter()
        .filter_map(|r| r.profile.map(str::to_string))
        .collect();
    let profile_text = profiles.iter().cloned().collect::<Vec<_>>().join(", ");
    if !migs.is_empty() {
        let instances: HashSet<String> = migs.iter().map(|r| r.gpu_uuid.to_string()).collect();
        out.push((
            "WL-MIG-001",
            format!(
                "{} result(s) ran on {} MIG instance(s) ({profile_text}); their energy is the \
                 parent GPU's total, not the instance's",
                migs.len(),
                instances.len()
            ),
        ));
    }
    let mut order: Vec<String> = Vec::new();
    let mut by_parent: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in migs.iter().enumerate() {
        if let Some(p) = r.parent_gpu_uuid {
            by_parent
                .entry(p.to_string())
                .or_insert_with(|| {
                    order.push(p.to_string());
                    Vec::new()
                })
                .push(i);
        }
    }
    // Whole-GPU results by GPU: they carry the parent's energy too.
    let mut whole_by_gpu: HashMap<&str, Vec<(f64, f64)>> = HashMap::new();
    for r in records.iter().filter(|r| !r.is_mig) {
        whole_by_gpu
            .entry(r.gpu_uuid)
            .or_default()
            .push((r.start_s, r.end_s));
    }
    for parent in &order {
        let group = &by_parent[parent];
        let whole_here = whole_by_gpu
            .get(parent.as_str())
            .map_or(&[][..], Vec::as_slice);
        // Sweep: +1 at a start, −1 at an end; ends sort before starts at
        // the same instant (windows are half-open).
        let mut events: Vec<(f64, i32)> = group
            .iter()
            .map(|&i| (migs[i].start_s, migs[i].end_s))
            .chain(whole_here.iter().copied())
            .filter(|(s, e)| e > s)
            .flat_map(|(s, e)| [(s, 1), (e, -1)])
            .collect();
        events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let (mut now, mut factor) = (0i32, 0i32);
        for (_, d) in events {
            now += d;
            factor = factor.max(now);
        }
        if factor < 2 {
            continue;
        }
        let instances: HashSet<String> = group
            .iter()
            .map(|&i| migs[i].gpu_uuid.to_string())
            .collect();
        let names: BTreeSet<String> = group
            .iter()
            .filter_map(|&i| migs[i].profile.map(str::to_string))
            .collect();
        let whole_text = if whole_here.is_empty() {
            String::new()
        } else {
            format!(" and {} whole-GPU result(s)", whole_here.len())
        };
        out.push((
            "WL-MIG-002",
            format!(
                "{} result(s) on {} MIG instance(s) ({}){whole_text} of parent GPU {parent} \
                 overlap in time, up to {factor} at once; adding their energies counts the \
                 parent's energy up to {factor} times over the overlap",
                group.len(),
                instances.len(),
                names.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    if !migs.is_empty() && whole > 0 {
        out.push((
            "WL-MIG-003",
            format!(
                "{} MIG result(s) and {whole} whole-GPU result(s) are aggregated together",
                migs.len()
            ),
        ));
    }
    if profiles.len() >= 2 {
        out.push((
            "WL-MIG-004",
            format!("MIG instances of different profiles are compared ({profile_text})"),
        ));
    }
    out
}
