//! The exporter's scrape: 8 GPUs × 7 MIG instances rendered from one
//! snapshot by the prometheus-client collector (`wattledger_std::exporters::daemon`),
//! beside two baselines: registering every family and series again in a
//! fresh registry at each scrape, and formatting the text by hand.
//!
//! Run: `cargo bench -p wattledger-benches --bench exporter -- --warm-up-time 1 --measurement-time 2`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::atomic::AtomicU64;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use wattledger_std::exporters::daemon::{FleetCollector, Format, registry, render};
use wattledger_std::fleet::{BASIS_GPM, GpuSnapshot, MigSnapshot, Snapshot};

/// 8 H100s with seven 1g.10gb instances each, values as a poll leaves them.
fn fleet() -> Snapshot {
    let gpus = (0..8)
        .map(|g| GpuSnapshot {
            uuid: format!("GPU-8f000000-0000-4000-8000-00000000000{g}"),
            name: "NVIDIA H100 80GB HBM3".into(),
            architecture: "hopper".into(),
            energy_j: 123_456.789 + f64::from(g),
            power_w: Some(400.0),
            coverage: 0.999,
            counter_resets: 0,
            lost: false,
            constant_power_w: Some(70.0),
            constant_power_basis: "preset:h100-sxm5".into(),
            migs: (0..7)
                .map(|i| MigSnapshot {
                    uuid: format!("MIG-8f00000{g}-000{i}-4000-8000-000000000000"),
                    profile: "1g.10gb".into(),
                    gpu_instance_id: 7 + i,
                    compute_instance_id: 0,
                    compute_slices: 1,
                    basis: BASIS_GPM,
                    energy_j: 17_636.7 + f64::from(i),
                    activity: Some(0.1 * f64::from(i + 1)),
                })
                .collect(),
        })
        .collect();
    Snapshot {
        source: "nvml".into(),
        polls: 12_345,
        poll_errors: 0,
        last_poll_seconds: 0.0004,
        last_poll_unix_s: 1.8e9,
        gpus,
        rails: Vec::new(),
    }
}

type Labels = Vec<(String, String)>;

/// Baseline 1: a fresh registry with families and series at every scrape.
fn reregister(s: &Snapshot) -> String {
    let mut r = Registry::default();
    let energy = Family::<Labels, Counter<f64, AtomicU64>>::default();
    let power = Family::<Labels, Gauge<f64, AtomicU64>>::default();
    let coverage = Family::<Labels, Gauge<f64, AtomicU64>>::default();
    let lost = Family::<Labels, Gauge<f64, AtomicU64>>::default();
    let info = Family::<Labels, Gauge<f64, AtomicU64>>::default();
    let mig = Family::<Labels, Counter<f64, AtomicU64>>::default();
    let activity = Family::<Labels, Gauge<f64, AtomicU64>>::default();
    r.register("wattledger_energy_joules", "energy", energy.clone());
    r.register("wattledger_power_watts", "power", power.clone());
    r.register("wattledger_coverage_ratio", "coverage", coverage.clone());
    r.register("wattledger_device_lost", "lost", lost.clone());
    r.register("wattledger_mig_instance_info", "info", info.clone());
    r.register(
        "wattledger_mig_estimated_energy_joules",
        "estimate",
        mig.clone(),
    );
    r.register(
        "wattledger_mig_sm_activity_ratio",
        "activity",
        activity.clone(),
    );
    for g in &s.gpus {
        let l: Labels = vec![
            ("gpu_uuid".into(), g.uuid.clone()),
            ("gpu_name".into(), g.name.clone()),
            ("architecture".into(), g.architecture.clone()),
        ];
        energy.get_or_create(&l).inc_by(g.energy_j);
        power.get_or_create(&l).set(g.power_w.unwrap_or(0.0));
        coverage.get_or_create(&l).set(g.coverage);
        lost.get_or_create(&l).set(0.0);
        for m in &g.migs {
            let ml: Labels = vec![
                ("gpu_uuid".into(), g.uuid.clone()),
                ("mig_uuid".into(), m.uuid.clone()),
                ("parent_uuid".into(), g.uuid.clone()),
                ("mig_profile".into(), m.profile.clone()),
            ];
            let mut il = ml.clone();
            il.push(("gpu_instance_id".into(), m.gpu_instance_id.to_string()));
            il.push((
                "compute_instance_id".into(),
                m.compute_instance_id.to_string(),
            ));
            info.get_or_create(&il).set(1.0);
            activity.get_or_create(&ml).set(m.activity.unwrap_or(0.0));
            let mut el = ml;
            el.push(("basis".into(), m.basis.into()));
            mig.get_or_create(&el).inc_by(m.energy_j);
        }
    }
    let mut out = String::new();
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &r);
    out
}

/// Baseline 2: the same series formatted by hand (no escaping, no checks).
fn by_hand(s: &Snapshot) -> String {
    let mut o = String::with_capacity(16 * 1024);
    let gl = |g: &GpuSnapshot| {
        format!(
            "gpu_uuid=\"{}\",gpu_name=\"{}\",architecture=\"{}\"",
            g.uuid, g.name, g.architecture
        )
    };
    let _ = writeln!(o, "# TYPE wattledger_energy_joules_total counter");
    for g in &s.gpus {
        let _ = writeln!(
            o,
            "wattledger_energy_joules_total{{{}}} {}",
            gl(g),
            g.energy_j
        );
    }
    let _ = writeln!(o, "# TYPE wattledger_power_watts gauge");
    for g in &s.gpus {
        let _ = writeln!(
            o,
            "wattledger_power_watts{{{}}} {}",
            gl(g),
            g.power_w.unwrap_or(0.0)
        );
    }
    let _ = writeln!(o, "# TYPE wattledger_coverage_ratio gauge");
    for g in &s.gpus {
        let _ = writeln!(o, "wattledger_coverage_ratio{{{}}} {}", gl(g), g.coverage);
    }
    let _ = writeln!(o, "# TYPE wattledger_device_lost gauge");
    for g in &s.gpus {
        let _ = writeln!(o, "wattledger_device_lost{{{}}} 0", gl(g));
    }
    for (name, kind) in [
        ("wattledger_mig_instance_info", "gauge"),
        ("wattledger_mig_estimated_energy_joules_total", "counter"),
        ("wattledger_mig_sm_activity_ratio", "gauge"),
    ] {
        let _ = writeln!(o, "# TYPE {name} {kind}");
        for g in &s.gpus {
            for m in &g.migs {
                let _ = write!(
                    o,
                    "{name}{{gpu_uuid=\"{}\",mig_uuid=\"{}\",parent_uuid=\"{}\",mig_profile=\"{}\"",
                    g.uuid, m.uuid, g.uuid, m.profile
                );
                let _ = match kind {
                    "counter" => writeln!(o, ",basis=\"{}\"}} {}", m.basis, m.energy_j),
                    _ if name.ends_with("info") => writeln!(
                        o,
                        ",gpu_instance_id=\"{}\",compute_instance_id=\"{}\"}} 1",
                        m.gpu_instance_id, m.compute_instance_id
                    ),
                    _ => writeln!(o, "}} {}", m.activity.unwrap_or(0.0)),
                };
            }
        }
    }
    o
}

fn scrape(c: &mut Criterion) {
    let snapshot = fleet();
    let reg = registry(FleetCollector::fixed(snapshot.clone()));
    let mut group = c.benchmark_group("exporter_scrape");
    group.sample_size(50);
    group.bench_function(BenchmarkId::new("collector", "8x7"), |b| {
        b.iter(|| render(black_box(&reg), Format::Prometheus).len());
    });
    group.bench_function(BenchmarkId::new("baseline-reregister", "8x7"), |b| {
        b.iter(|| reregister(black_box(&snapshot)).len());
    });
    group.bench_function(BenchmarkId::new("baseline-by-hand", "8x7"), |b| {
        b.iter(|| by_hand(black_box(&snapshot)).len());
    });
    group.finish();
}

criterion_group!(benches, scrape);
criterion_main!(benches);
