//! Prometheus text for node_exporter's textfile collector: one run.
//!
//! A run's energy is a value of that run, not a running total: the next run
//! replaces it and may well be smaller. So every per-run value is a
//! **gauge** (`wattledger_run_energy_joules`, not `…_joules_total`): `rate()` and
//! `increase()` over a counter that drops read every run as a counter reset,
//! which is what the earlier `wattledger_energy_joules_total` did. Counters
//! are for what only goes up (a daemon's lifetime totals); a one-run file
//! holds none.
//!
//! The metrics are built as a [`prometheus_client`] [`Registry`]
//! ([`run_registry`]) and written with its text encoder, so the exposition
//! format (escaping, `# HELP`/`# TYPE`, number formats) is the library's; a
//! long-running exporter can build the same families into its own registry
//! with [`register_run`].
//!
//! Every device series carries `source`, `device` (the sensor's index),
//! `gpu_uuid`, `parent_uuid` and `mig_profile`; a Jetson rail also `role`
//! (`total`, or `part` for a rail inside the total: add the `total` series
//! only). A device presented as one
//! MIG instance is labelled as the instance (`gpu_uuid` the `MIG-…`, its
//! parent and profile). A GPU that covers several visible instances is
//! labelled as the GPU (its energy is counted once), and each instance gets
//! a `wattledger_run_mig_instance_info` series with its own `mig_uuid`,
//! `parent_uuid` and `mig_profile`, joined to the GPU's series by
//! `gpu_uuid`.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::{DeviceResult, MeasureReport};

type Labels = Vec<(String, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;
type GaugeFamily = Family<Labels, FloatGauge>;

/// The labels of one device's series.
fn device_labels(d: &DeviceResult) -> Labels {
    let (uuid, parent, profile) = if d.is_mig {
        (
            d.device.uuid.as_str(),
            d.parent_uuid.as_str(),
            d.mig_profile.as_str(),
        )
    } else if !d.mig_instances.is_empty() {
        // The physical GPU standing for several instances: its own parent.
        (d.device.uuid.as_str(), d.device.uuid.as_str(), "")
    } else {
        (d.device.uuid.as_str(), "", "")
    };
    let mut labels = vec![
        ("source".to_owned(), d.source.clone()),
        ("device".to_owned(), d.device.index.to_string()),
        ("gpu_uuid".to_owned(), uuid.to_owned()),
        ("parent_uuid".to_owned(), parent.to_owned()),
        ("mig_profile".to_owned(), profile.to_owned()),
    ];
    // A rail of a board's tree says whether it is the total or a part of
    // it, so that a query adds the totals only.
    if let Some(role) = d.device.role {
        labels.push(("role".to_owned(), role.as_str().to_owned()));
    }
    labels
}

fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// A gauge family registered in `registry` under `name`.
fn family(registry: &mut Registry, name: &str, help: &str) -> GaugeFamily {
    let f = GaugeFamily::default();
    registry.register(name, help, f.clone());
    f
}

/// A single unlabelled gauge registered in `registry`, set to `value`.
fn single(registry: &mut Registry, name: &str, help: &str, value: f64) {
    let g = FloatGauge::default();
    g.set(value);
    registry.register(name, help, g);
}

/// Register the metrics of the run `m` into `registry`: every metric name
/// starts `wattledger_run_`.
///
/// Run-level gauges: `total_energy_joules` (the report's total, lost
/// devices left out), `duration_seconds`, `start_timestamp_seconds` (when
/// known), `interrupted`, `incomplete` (1 or 0). Per device (labelled):
/// `energy_joules`, `average_power_watts`, `coverage_ratio`, `device_lost`
/// (1 or 0); per visible MIG instance of a GPU that covers several:
/// `mig_instance_info` (always 1).
pub fn register_run(registry: &mut Registry, m: &MeasureReport) {
    single(
        registry,
        "wattledger_run_total_energy_joules",
        "Energy of the last measured run, its devices added up (a lost device is left out; see wattledger_run_incomplete)",
        m.total_energy_j,
    );
    let duration = m
        .wall_s
        .unwrap_or_else(|| m.devices.iter().map(|d| d.duration_s).fold(0.0, f64::max));
    single(
        registry,
        "wattledger_run_duration_seconds",
        "Length of the last measured run",
        duration,
    );
    if let Some(t) = m.start_unix_s {
        single(
            registry,
            "wattledger_run_start_timestamp_seconds",
            "When the last measured run began, seconds since the Unix epoch",
            t,
        );
    }
    single(
        registry,
        "wattledger_run_interrupted",
        "1 when a signal cut the last run short (its values cover the time until then)",
        flag(m.interrupted),
    );
    single(
        registry,
        "wattledger_run_incomplete",
        "1 when a device was lost during the last run, so wattledger_run_energy_joules leaves it out",
        flag(m.incomplete),
    );

    let energy = family(
        registry,
        "wattledger_run_energy_joules",
        "Energy of one device over the last run; on a MIG instance it is the parent GPU's energy",
    );
    let power = family(
        registry,
        "wattledger_run_average_power_watts",
        "Average power of one device over the last run",
    );
    let coverage = family(
        registry,
        "wattledger_run_coverage_ratio",
        "Fraction of the last run covered by one device's readings",
    );
    let lost = family(
        registry,
        "wattledger_run_device_lost",
        "1 when the device stopped answering during the last run",
    );
    let instances = family(
        registry,
        "wattledger_run_mig_instance_info",
        "A visible MIG instance whose energy is its GPU's (gpu_uuid) series, counted once",
    );
    for d in &m.devices {
        let labels = device_labels(d);
        energy.get_or_create(&labels).set(d.energy_j);
        if let Some(p) = d.average_power_w {
            power.get_or_create(&labels).set(p);
        }
        coverage.get_or_create(&labels).set(d.coverage);
        lost.get_or_create(&labels).set(flag(!d.in_total));
        if !d.is_mig {
            for uuid in &d.mig_instances {
                let profile = d
                    .device
                    .mig
                    .iter()
                    .flat_map(|m| m.instances.iter())
                    .find(|i| &i.uuid == uuid)
                    .and_then(|i| i.profile.clone())
                    .unwrap_or_default();
                let l: Labels = vec![
                    ("gpu_uuid".to_owned(), d.device.uuid.clone()),
                    ("mig_uuid".to_owned(), uuid.clone()),
                    ("parent_uuid".to_owned(), d.device.uuid.clone()),
                    ("mig_profile".to_owned(), profile),
                ];
                instances.get_or_create(&l).set(1.0);
            }
        }
    }
}

/// A registry holding the metrics of the run `m` ([`register_run`]).
pub fn run_registry(m: &MeasureReport) -> Registry {
    let mut registry = Registry::default();
    register_run(&mut registry, m);
    registry
}

/// The `measure` results in node_exporter textfile format
/// ([`register_run`]'s metrics, as `prometheus_client` writes them).
pub fn measure(m: &MeasureReport) -> String {
    let mut s = String::new();
    // Encoding into a String cannot fail: fmt::Write on a String never errs.
    let _ = encode(&mut s, &run_registry(m));
    s
}
