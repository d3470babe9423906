//! Prometheus metrics of a long-running exporter, rendered from the last
//! [`Snapshot`] of the fleet poller ([`crate::fleet`]).
//!
//! The metrics are a [`prometheus_client`] [`Collector`]: nothing is
//! registered per device and nothing is updated by the poller; at each scrape
//! the collector takes the current snapshot (an `Arc` clone) and writes every
//! family from it with the library's encoder, so the exposition format is the
//! library's and a scrape costs one pass over the snapshot.
//!
//! Label names follow the textfile exporter ([`super::prometheus`]):
//! `gpu_uuid`, `gpu_name`, `architecture` on every GPU series; `mig_uuid`,
//! `parent_uuid`, `mig_profile` (and `gpu_uuid`, the parent, to join on) on
//! every MIG series; `rail`, `role` on Jetson rails.
//!
//! | metric | type | what |
//! |---|---|---|
//! | `wattledger_energy_joules_total` | counter | lifetime energy per GPU: never goes down (resets bridged) |
//! | `wattledger_power_watts` | gauge | last power reading |
//! | `wattledger_coverage_ratio` | gauge | share of the watched time the readings account for |
//! | `wattledger_energy_resets_total` | counter | NVML energy counter resets seen |
//! | `wattledger_device_lost` | gauge | 1 while the GPU is lost or absent |
//! | `wattledger_mig_instance_info` | gauge (1) | a MIG instance: profile, parent, GPU and compute instance ids |
//! | `wattledger_mig_estimated_energy_joules_total` | counter | an instance's **estimated** share of its parent's energy, `basis` = `gpm-activity` or `compute-slices` |
//! | `wattledger_mig_sm_activity_ratio` | gauge | an instance's SM activity over the last poll (GPM) |
//! | `wattledger_mig_constant_power_watts` | gauge | the constant power split by slices, `basis` = `preset:<name>` or `measured-minimum` |
//! | `wattledger_rail_power_watts`, `wattledger_rail_energy_joules_total` | gauge, counter | Jetson rails with `role` = `total`, `part`, `unplaced` |
//! | `wattledger_exporter_polls_total`, `…_poll_errors_total`, `…_poll_duration_seconds`, `…_last_poll_timestamp_seconds` | | the poller itself |

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
pub use prometheus_client::registry::Registry;

use crate::fleet::{GpuSnapshot, Latest, MigSnapshot, Snapshot};

/// Which text format a scrape gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The Prometheus text format 0.0.4 (what Prometheus asks for by default
    /// and what `promtool check metrics` reads).
    Prometheus,
    /// OpenMetrics 1.0 text (for a scraper that asks for it).
    OpenMetrics,
}

impl Format {
    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// The format an `Accept` header asks for: OpenMetrics only when named.
    pub fn from_accept(accept: Option<&str>) -> Format {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Prometheus,
        }
    }
}

/// Where the collector finds the snapshot to show.
#[derive(Debug)]
enum Source {
    Latest(Latest),
    Fixed(std::sync::Arc<Snapshot>),
}

/// The exporter's metrics as a [`Collector`] over the last snapshot.
#[derive(Debug)]
pub struct FleetCollector(Source);

impl FleetCollector {
    /// Shows whatever `latest` holds at each scrape.
    pub fn new(latest: Latest) -> Self {
        FleetCollector(Source::Latest(latest))
    }

    /// Shows `snapshot` (tests, benchmarks).
    pub fn fixed(snapshot: Snapshot) -> Self {
        FleetCollector(Source::Fixed(std::sync::Arc::new(snapshot)))
    }
}

/// A registry holding one [`FleetCollector`]; render it with [`render`].
pub fn registry(collector: FleetCollector) -> Registry {
    let mut r = Registry::default();
    r.register_collector(Box::new(collector));
    r
}

/// The text of one scrape of `registry` in `format`.
pub fn render(registry: &Registry, format: Format) -> String {
    let mut s = String::with_capacity(16 * 1024);
    // Writing into a String cannot fail, nor can the collector (it only
    // writes into the encoder).
    let _ = match format {
        Format::Prometheus => {
            prometheus_client::encoding::prometheus_text::encode(&mut s, registry)
        }
        Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut s, registry),
    };
    s
}

type Pair<'a> = (&'static str, &'a str);

fn gpu_labels(g: &GpuSnapshot) -> [Pair<'_>; 3] {
    [
        ("gpu_uuid", g.uuid.as_str()),
        ("gpu_name", g.name.as_str()),
        ("architecture", g.architecture.as_str()),
    ]
}

fn mig_labels<'a>(g: &'a GpuSnapshot, m: &'a MigSnapshot) -> [Pair<'a>; 4] {
    [
        ("gpu_uuid", g.uuid.as_str()),
        ("mig_uuid", m.uuid.as_str()),
        ("parent_uuid", g.uuid.as_str()),
        ("mig_profile", m.profile.as_str()),
    ]
}

fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// One metric family: its descriptor, then one sample per item that has a
/// value. A family with no sample is left out altogether.
fn family<'i, T: 'i, L: EncodeLabelSet, V: Into<Value>, I>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    kind: MetricType,
    items: I,
    mut sample: impl FnMut(&'i T) -> Option<(L, V)>,
) -> fmt::Result
where
    I: Iterator<Item = &'i T> + Clone,
{
    if items.clone().all(|i| sample(i).is_none()) {
        return Ok(());
    }
    let mut m = encoder.encode_descriptor(name, help, None, kind)?;
    for item in items {
        if let Some((labels, value)) = sample(item) {
            let mut e = m.encode_family(&labels)?;
            write_value(&mut e, kind, value.into())?;
        }
    }
    Ok(())
}

/// A sample's value: counts are written as integers, the rest as floats.
#[derive(Debug, Clone, Copy)]
enum Value {
    Float(f64),
    Count(u64),
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Count(v)
    }
}

fn write_value(e: &mut MetricEncoder<'_>, kind: MetricType, value: Value) -> fmt::Result {
    match (kind, value) {
        (MetricType::Counter, Value::Float(v)) => {
            e.encode_counter::<NoLabelSet, f64, f64>(&v, None)
        }
        (MetricType::Counter, Value::Count(v)) => {
            e.encode_counter::<NoLabelSet, u64, f64>(&v, None)
        }
        (_, Value::Float(v)) => e.encode_gauge(&v),
        (_, Value::Count(v)) => e.encode_gauge(&(v as f64)),
    }
}

fn single(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    kind: MetricType,
    value: impl Into<Value>,
) -> fmt::Result {
    let mut m = encoder.encode_descriptor(name, help, None, kind)?;
    write_value(&mut m, kind, value.into())
}

impl Collector for FleetCollector {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        let snapshot = match &self.0 {
            Source::Latest(l) => l.get(),
            Source::Fixed(s) => s.clone(),
        };
        let s = snapshot.as_ref();
        let gpus = s.gpus.iter();
        family(
            &mut e,
            "wattledger_energy_joules",
            "Energy the GPU used since the exporter first saw it, joules: monotonic across NVML counter resets (bridged by power) and gaps (not counted; see wattledger_coverage_ratio)",
            MetricType::Counter,
            gpus.clone(),
            |g| Some((gpu_labels(g), g.energy_j)),
        )?;
        family(
            &mut e,
            "wattledger_power_watts",
            "Power of the GPU at the last poll, watts",
            MetricType::Gauge,
            gpus.clone(),
            |g| g.power_w.map(|p| (gpu_labels(g), p)),
        )?;
        family(
            &mut e,
            "wattledger_coverage_ratio",
            "Fraction of the time the GPU was watched that its energy counter (or polled power) accounts for",
            MetricType::Gauge,
            gpus.clone(),
            |g| Some((gpu_labels(g), g.coverage)),
        )?;
        family(
            &mut e,
            "wattledger_energy_resets",
            "Times the GPU's NVML energy counter went back (driver reload, GPU reset)",
            MetricType::Counter,
            gpus.clone(),
            |g| Some((gpu_labels(g), g.counter_resets)),
        )?;
        family(
            &mut e,
            "wattledger_device_lost",
            "1 while the GPU is lost or absent from the bus, else 0",
            MetricType::Gauge,
            gpus.clone(),
            |g| Some((gpu_labels(g), flag(g.lost))),
        )?;
        let pairs: Vec<(&GpuSnapshot, &MigSnapshot)> = s
            .gpus
            .iter()
            .flat_map(|g| g.migs.iter().map(move |m| (g, m)))
            .collect();
        family(
            &mut e,
            "wattledger_mig_instance_info",
            "A MIG instance of a GPU (always 1): its profile, parent, GPU and compute instance ids",
            MetricType::Gauge,
            pairs.iter(),
            |&(g, m)| {
                let [a, b, c, d] = mig_labels(g, m);
                Some((
                    (
                        [a, b, c, d],
                        [
                            ("gpu_instance_id", m.gpu_instance_id),
                            ("compute_instance_id", m.compute_instance_id),
                        ],
                    ),
                    1.0,
                ))
            },
        )?;
        family(
            &mut e,
            "wattledger_mig_estimated_energy_joules",
            "ESTIMATE, not a measurement: the MIG instance's share of its parent GPU's measured energy since first seen, joules. The parent's constant power is split by compute slices, the rest by GPM SM activity x slices (basis=gpm-activity) or by slices (basis=compute-slices); a GPU's instances add up to its energy while they exist",
            MetricType::Counter,
            pairs.iter(),
            |&(g, m)| {
                let [a, b, c, d] = mig_labels(g, m);
                Some(([a, b, c, d, ("basis", m.basis)], m.energy_j))
            },
        )?;
        family(
            &mut e,
            "wattledger_mig_sm_activity_ratio",
            "SM activity of the MIG instance's GPU instance over the last poll interval, 0 to 1 (GPM)",
            MetricType::Gauge,
            pairs.iter(),
            |&(g, m)| m.activity.map(|a| (mig_labels(g, m), a)),
        )?;
        family(
            &mut e,
            "wattledger_mig_constant_power_watts",
            "Constant power of a GPU with MIG instances, split among them by compute slices (basis: preset:NAME, idle plus uncore of the hardware preset, or measured-minimum, the lowest average power seen)",
            MetricType::Gauge,
            gpus.clone(),
            |g| match (g.migs.is_empty(), g.constant_power_w) {
                (false, Some(w)) => {
                    let [a, b, c] = gpu_labels(g);
                    Some(([a, b, c, ("basis", g.constant_power_basis.as_str())], w))
                }
                _ => None,
            },
        )?;
        let rails = s.rails.iter();
        family(
            &mut e,
            "wattledger_rail_power_watts",
            "Power of a Jetson supply rail at the last poll, watts; role total is the board's input, parts are inside it (or add up to the total where no input is measured)",
            MetricType::Gauge,
            rails.clone(),
            |r| {
                r.power_w
                    .map(|p| ([("rail", r.name.as_str()), ("role", r.role)], p))
            },
        )?;
        family(
            &mut e,
            "wattledger_rail_energy_joules",
            "Energy of a Jetson supply rail since the exporter first saw it, joules (polled power, integrated)",
            MetricType::Counter,
            rails,
            |r| Some(([("rail", r.name.as_str()), ("role", r.role)], r.energy_j)),
        )?;
        single(
            &mut e,
            "wattledger_exporter_polls",
            "Polls of the devices since the exporter started",
            MetricType::Counter,
            s.polls,
        )?;
        single(
            &mut e,
            "wattledger_exporter_poll_errors",
            "Failed device reads and enumerations since the exporter started",
            MetricType::Counter,
            s.poll_errors,
        )?;
        single(
            &mut e,
            "wattledger_exporter_poll_duration_seconds",
            "How long the last poll of every device took, seconds",
            MetricType::Gauge,
            s.last_poll_seconds,
        )?;
        single(
            &mut e,
            "wattledger_exporter_last_poll_timestamp_seconds",
            "When the last poll ended, seconds since the Unix epoch",
            MetricType::Gauge,
            s.last_poll_unix_s,
        )
    }
}
